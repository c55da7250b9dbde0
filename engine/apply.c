/*
 * apply — runs one migration the way Flyway does (spec §4.3): in one
 * transaction with its history row when it can, statement by statement in
 * autocommit when it cannot (non-transactional statements), and records
 * failure rows exactly where Flyway records them (always on MariaDB; on
 * PostgreSQL only for non-transactional scripts). Statements go to the
 * server in batches (one round trip each) from a bounded window of the
 * file, so a 200,000-row migration runs in a few megabytes.
 */
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "engine/migrate.h"

#define BATCH_MAX_STMTS 512
#define BATCH_MAX_BYTES ((size_t)1024 * 1024)

void mig_emit(struct eng_ctx *ctx, const struct eng_event *ev)
{
	if (ctx->obs && ctx->obs->on_event)
		ctx->obs->on_event(ev, ctx->obs->ctx);
}

void mig_row(struct mig_run *run, const struct eng_resolved *m, int exec_ms, bool ok,
	     struct hist_row *row)
{
	memset(row, 0, sizeof *row);
	row->version = m->kind == ENG_KIND_REPEATABLE ? NULL : m->version.text;
	row->description = eng_abbreviate_description(m->description);
	row->type = m->type;
	row->script = eng_abbreviate_script(m->script);
	row->has_checksum = true;
	row->checksum = m->checksum;
	row->installed_by = run->ctx->user;
	row->execution_time = exec_ms;
	row->success = ok;
	row->rank = hist_next_rank(&run->applied, false);
}

void mig_row_release(struct hist_row *row)
{
	free((void *)(uintptr_t)row->description);
	free((void *)(uintptr_t)row->script);
}

enum err_code mig_shape_of(struct mig_run *run, struct eng_resolved *m,
			   struct mig_shape *shape, struct err *e)
{
	struct stmt_iter it;
	enum err_code c = iter_open(&it, run->ctx, m, &run->ph, e);
	bool any_tx = false, any_non = false, have = true;
	long first_non_line = 0;
	char first_non[120] = "";
	memset(shape, 0, sizeof *shape);
	while (!c && have) {
		struct sql_stmt st;
		c = iter_next(&it, &st, &have, e);
		if (c || !have)
			break;
		shape->statements++;
		if (!st.non_transactional) {
			any_tx = true;
			continue;
		}
		if (!any_non) {
			first_non_line = st.line;
			snprintf(first_non, sizeof first_non, "%.*s", (int)(st.len > 100 ? 100 : st.len), st.text);
		}
		any_non = true;
	}
	if (!c)
		c = iter_finish(&it, run->ctx->cfg, e);
	iter_close(&it);
	if (c)
		return c;
	if (any_tx && any_non && !run->ctx->cfg->mixed)
		return err_set(e, ERR_VALIDATE,
			       "Detected both transactional and non-transactional statements within the same migration (even though mixed is false). Offending statement found at line %ld: %s [non-transactional] (in %s)",
			       first_non_line, first_non, m->script);
	shape->transactional = !any_non && run->ctx->cfg->execute_in_transaction &&
			       m->tx_override != 0;
	return ERR_OK;
}

/* Statements collected for one round trip; texts copied into `text`. */
struct batch {
	struct buf text;
	size_t offs[BATCH_MAX_STMTS];
	long lines[BATCH_MAX_STMTS];
	size_t n;
	size_t control;          /* leading statements of our own (BEGIN) */
};

/*
 * Two batches: while the server runs the one in flight, the next is read
 * from the file and split, so the client's work overlaps the server's.
 */
struct batches {
	struct batch b[2];
	int fill;                /* the batch being filled; the other may be in flight */
	bool in_flight;
	bool one_by_one;         /* non-transactional: each statement alone */
	size_t done, total;      /* statements of the migration run so far / in all */
};

static void batch_push(struct batch *b, const char *text, size_t len, long line)
{
	b->offs[b->n] = b->text.len;
	b->lines[b->n] = line;
	buf_add(&b->text, text, len);
	buf_addc(&b->text, 0);
	b->n++;
}

/* Records where and why a statement failed, for the caller and the UI. */
static enum err_code stmt_failed(struct mig_run *run, struct eng_resolved *m, long line,
				 const char *sql, struct err *e)
{
	struct eng_migrate_result *res = run->res;
	free(res->failed_script);
	free(res->failed_statement);
	res->failed_script = xstrdup(m->script);
	res->failed_line = line;
	res->failed_statement = xstrndup(sql, strlen(sql) > 200 ? 200 : strlen(sql));
	const char *state = db_last_sqlstate(run->ctx->db);
	char msg[sizeof e->msg];
	snprintf(msg, sizeof msg, "%s", e ? e->msg : "");
	return err_set(e, ERR_DB,
		       "Migration %s failed at line %ld\nSQL State  : %s\nMessage    : %s\nStatement  : %.200s",
		       m->script, line, *state ? state : "-", msg, sql);
}

/* Collects the outcome of the batch in flight. */
static enum err_code batch_wait(struct mig_run *run, struct eng_resolved *m, struct batches *bs,
				struct err *e)
{
	if (!bs->in_flight)
		return ERR_OK;
	struct batch *b = &bs->b[!bs->fill];
	long failed = -1;
	bs->in_flight = false;
	enum err_code c = db_batch_finish(run->ctx->db, &failed, e);
	if (c) {
		size_t at = failed >= 0 && (size_t)failed < b->n ? (size_t)failed : 0;
		c = stmt_failed(run, m, b->lines[at], b->text.ptr + b->offs[at], e);
	} else {
		bs->done += b->n - b->control;
		struct eng_event ev = {
			.kind = ENG_EV_STATEMENT, .res = m, .mig_index = run->index,
			.mig_total = run->total, .stmt_index = bs->done, .stmt_total = bs->total,
		};
		mig_emit(run->ctx, &ev);
	}
	b->n = b->control = 0;
	buf_reset(&b->text);
	return c;
}

/* Waits for the batch in flight, then sends the one being filled. */
static enum err_code batch_flush(struct mig_run *run, struct eng_resolved *m, struct batches *bs,
				 struct err *e)
{
	enum err_code c = batch_wait(run, m, bs, e);
	struct batch *b = &bs->b[bs->fill];
	if (c || !b->n)
		return c;
	const char *sqls[BATCH_MAX_STMTS];
	for (size_t i = 0; i < b->n; i++)
		sqls[i] = b->text.ptr + b->offs[i];
	c = db_batch_start(run->ctx->db, sqls, b->n, e);
	if (c)
		return stmt_failed(run, m, b->lines[0], sqls[0], e);
	bs->in_flight = true;
	bs->fill = !bs->fill;
	return ERR_OK;
}

static enum err_code batch_add(struct mig_run *run, struct eng_resolved *m, struct batches *bs,
			       const struct sql_stmt *st, struct err *e)
{
	if (st->is_copy) {
		enum err_code c = batch_flush(run, m, bs, e);
		if (!c)
			c = batch_wait(run, m, bs, e);
		if (c)
			return c;
		char *sql = xstrndup(st->text, st->len);
		c = db_copy_in(run->ctx->db, sql, st->copy_data, st->copy_len, e);
		if (c)
			c = stmt_failed(run, m, st->line, sql, e);
		else
			bs->done++;
		free(sql);
		return c;
	}
	struct batch *b = &bs->b[bs->fill];
	batch_push(b, st->text, st->len, st->line);
	if (bs->one_by_one || b->n == BATCH_MAX_STMTS || b->text.len >= BATCH_MAX_BYTES)
		return batch_flush(run, m, bs, e);
	return ERR_OK;
}

/* Runs the statements; a transactional migration's BEGIN travels in the
 * first batch, so a small migration costs one round trip before its row. */
static enum err_code run_statements(struct mig_run *run, struct eng_resolved *m,
				    const struct mig_shape *shape, struct err *e)
{
	struct stmt_iter it;
	struct batches *bs = xcalloc(1, sizeof *bs);
	buf_init(&bs->b[0].text);
	buf_init(&bs->b[1].text);
	bs->total = shape->statements;
	bs->one_by_one = !shape->transactional;
	if (shape->transactional) {
		batch_push(&bs->b[0], "BEGIN", 5, 0);
		bs->b[0].control = 1;
	}
	enum err_code c = iter_open(&it, run->ctx, m, &run->ph, e);
	bool have = true;
	while (!c && have) {
		struct sql_stmt st;
		c = iter_next(&it, &st, &have, e);
		if (!c && have)
			c = batch_add(run, m, bs, &st, e);
		if (!c && atomic_load(&run->ctx->cancel))
			c = err_set(e, ERR_CANCELLED, "migration %s cancelled", m->script);
	}
	if (!c)
		c = batch_flush(run, m, bs, e);
	struct err e2 = ERR_INIT;
	enum err_code w = batch_wait(run, m, bs, c ? &e2 : e); /* never leave one in flight */
	if (!c)
		c = w;
	if (!c)
		c = iter_finish(&it, run->ctx->cfg, e);
	iter_close(&it);
	buf_release(&bs->b[0].text);
	buf_release(&bs->b[1].text);
	free(bs);
	return c;
}

static enum err_code record_failure(struct mig_run *run, struct eng_resolved *m,
				    int ms, struct err *e)
{
	struct hist_row row;
	struct err e2 = ERR_INIT;
	mig_row(run, m, ms, false, &row);
	enum err_code c = hist_insert(run->ctx, &row, &e2);
	if (c && eng_ctx_reconnect(run->ctx, &e2) == ERR_OK)
		c = hist_insert(run->ctx, &row, &e2);
	mig_row_release(&row);
	if (c && e)
		snprintf(e->msg + strlen(e->msg), sizeof e->msg - strlen(e->msg),
			 "\nThe failure could not be recorded in the schema history: %s", e2.msg);
	return c;
}

static enum err_code insert_success(struct mig_run *run, struct eng_resolved *m, int ms,
				    struct err *e)
{
	struct hist_row row;
	mig_row(run, m, ms, true, &row);
	enum err_code c = hist_insert(run->ctx, &row, e);
	mig_row_release(&row);
	return c;
}

enum err_code mig_apply(struct mig_run *run, struct eng_resolved *m,
			const struct mig_shape *shape, struct err *e)
{
	struct db *db = run->ctx->db;
	uint64_t t0 = time_mono_ns();
	enum err_code c = run_statements(run, m, shape, e);
	int ms = (int)time_ms_between(t0, time_mono_ns());
	if (!c)
		c = insert_success(run, m, ms, e);
	if (!c && shape->transactional)
		c = db_exec(db, "COMMIT", 0, NULL, NULL, e);
	if (!c)
		return ERR_OK;
	if (shape->transactional)
		db_exec(db, "ROLLBACK", 0, NULL, NULL, NULL);
	/* Flyway: a rolled-back transaction leaves no trace on PostgreSQL; on
	 * MariaDB (no transactional DDL) and for non-transactional scripts the
	 * failure is recorded so that validate blocks until repair. */
	if (!run->pg || !shape->transactional)
		record_failure(run, m, ms, e);
	return c;
}

enum err_code mig_rehearse(struct mig_run *run, struct eng_resolved *m, struct err *e)
{
	struct stmt_iter it;
	enum err_code c = iter_open(&it, run->ctx, m, &run->ph, e);
	bool have = true;
	while (!c && have) {
		struct sql_stmt st;
		c = iter_next(&it, &st, &have, e);
		if (c || !have)
			break;
		char *sql = xstrndup(st.text, st.len);
		struct eng_event ev = {
			.kind = ENG_EV_REHEARSE_STATEMENT, .res = m, .mig_index = run->index,
			.mig_total = run->total, .stmt_index = it.index, .line = st.line,
			.text = sql,
		};
		if (st.non_transactional) {
			ev.text = "skipped: cannot run inside a transaction";
			mig_emit(run->ctx, &ev);
			free(sql);
			continue;
		}
		uint64_t t0 = time_mono_ns();
		c = st.is_copy ? db_copy_in(run->ctx->db, sql, st.copy_data, st.copy_len, e)
			       : db_exec(run->ctx->db, sql, 0, NULL, NULL, e);
		ev.elapsed_ms = time_ms_between(t0, time_mono_ns());
		if (c) {
			c = stmt_failed(run, m, st.line, sql, e);
			ev.failed = true;
			ev.text = e ? e->msg : "failed";
		}
		mig_emit(run->ctx, &ev);
		free(sql);
	}
	if (!c)
		c = iter_finish(&it, run->ctx->cfg, e);
	iter_close(&it);
	if (!c)
		c = insert_success(run, m, 0, e);
	return c;
}
