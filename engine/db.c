/*
 * db — the dialect-neutral half of db.h: picks the driver at open, clears
 * the last error's details before every call, and owns struct db_result,
 * which both drivers fill.
 *
 * Invariants: every call through the vtable starts with sqlstate "" and
 * position 0 and with cancel_requested false, so a driver only ever sees
 * the diagnostics and the cancel of the call in progress.
 */
#include "engine/db_driver.h"

#include <stdlib.h>
#include <string.h>

static void call_begin(struct db *db)
{
	db->sqlstate[0] = 0;
	db->position = 0;
	atomic_store(&db->cancel_requested, false);
}

enum err_code db_open(const struct db_target *t, const struct db_options *o,
		      struct db **out, struct err *e)
{
	static const struct db_options defaults = { 0 };
	*out = NULL;
	struct db *db = xcalloc(1, sizeof *db);
	db->dialect = t->dialect;
	db->drv = t->dialect == DB_PG ? &db_pg_driver : &db_my_driver;
	atomic_init(&db->cancel_requested, false);
	enum err_code rc = db->drv->open(db, t, o ? o : &defaults, e);
	if (rc) {
		free(db);
		return rc;
	}
	*out = db;
	return ERR_OK;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	db->drv->close(db);
	free(db);
}

enum db_dialect db_dialect(const struct db *db)
{
	return db->dialect;
}

const char *db_server_version(const struct db *db)
{
	return db->version;
}

int db_server_version_num(const struct db *db)
{
	return db->version_num;
}

enum err_code db_exec(struct db *db, const char *sql, int nparams,
		      const char *const *params, int64_t *affected, struct err *e)
{
	int64_t ignored;
	call_begin(db);
	return db->drv->exec(db, sql, nparams, params, affected ? affected : &ignored, e);
}

enum err_code db_query(struct db *db, const char *sql, int nparams,
		       const char *const *params, struct db_result **out, struct err *e)
{
	*out = NULL;
	call_begin(db);
	return db->drv->query(db, sql, nparams, params, out, e);
}

enum err_code db_exec_batch(struct db *db, const char *const *sqls, size_t n,
			    long *failed_index, struct err *e)
{
	long ignored;
	if (!failed_index)
		failed_index = &ignored;
	*failed_index = -1;
	call_begin(db);
	if (n == 0)
		return ERR_OK;
	return db->drv->exec_batch(db, sqls, n, failed_index, e);
}

enum err_code db_batch_start(struct db *db, const char *const *sqls, size_t n, struct err *e)
{
	call_begin(db);
	db->batch_pending = true;
	db->batch_async = db->drv->batch_send != NULL && n > 0;
	if (db->batch_async) {
		enum err_code c = db->drv->batch_send(db, sqls, n, e);
		if (c)
			db->batch_pending = false;
		return c;
	}
	err_clear(&db->batch_err);
	db->batch_failed = -1;
	db->batch_rc = n ? db->drv->exec_batch(db, sqls, n, &db->batch_failed, &db->batch_err)
			 : ERR_OK;
	return ERR_OK;
}

enum err_code db_batch_finish(struct db *db, long *failed_index, struct err *e)
{
	long ignored;
	if (!failed_index)
		failed_index = &ignored;
	*failed_index = -1;
	if (!db->batch_pending)
		return ERR_OK;
	db->batch_pending = false;
	if (db->batch_async)
		return db->drv->batch_finish(db, failed_index, e);
	*failed_index = db->batch_failed;
	if (db->batch_rc && e)
		*e = db->batch_err;
	return db->batch_rc;
}

enum err_code db_copy_in(struct db *db, const char *sql, const char *data,
			 size_t len, struct err *e)
{
	call_begin(db);
	if (!db->drv->copy_in)
		return err_set(e, ERR_USAGE, "COPY FROM STDIN is PostgreSQL only: "
			       "use INSERT statements on MariaDB/MySQL");
	return db->drv->copy_in(db, sql, data, len, e);
}

void db_cancel(struct db *db)
{
	if (!db)
		return;
	atomic_store(&db->cancel_requested, true);
	db->drv->cancel(db);
}

const char *db_last_sqlstate(const struct db *db)
{
	return db->sqlstate;
}

int db_last_position(const struct db *db)
{
	return db->position;
}

void db_diag_set(struct db *db, const char *sqlstate, int position)
{
	size_t n = sqlstate ? strnlen(sqlstate, sizeof db->sqlstate - 1) : 0;
	memcpy(db->sqlstate, sqlstate ? sqlstate : "", n);
	db->sqlstate[n] = 0;
	db->position = position > 0 ? position : 0;
}

/* ---- results ---------------------------------------------------------- */

struct db_result *db_result_new(size_t rows, size_t cols)
{
	struct db_result *r = xcalloc(1, sizeof *r);
	r->rows = rows;
	r->cols = cols;
	if (rows && cols && rows > (size_t)-1 / sizeof *r->cells / cols)
		abort(); /* cannot happen for a result that fit in memory */
	r->cells = xcalloc(rows * cols, sizeof *r->cells);
	return r;
}

size_t db_result_rows(const struct db_result *r)
{
	return r ? r->rows : 0;
}

size_t db_result_cols(const struct db_result *r)
{
	return r ? r->cols : 0;
}

const char *db_result_get(const struct db_result *r, size_t row, size_t col)
{
	if (!r || row >= r->rows || col >= r->cols)
		return NULL;
	return r->cells[row * r->cols + col];
}

void db_result_free(struct db_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->rows * r->cols; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r);
}
