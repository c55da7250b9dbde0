/*
 * db_driver — what db.c's dispatch and the two drivers (db_pg.c, db_my.c)
 * share; internal to engine/ and its tests, never seen through engine.h.
 *
 * Invariants: a struct db always has a driver and driver state once
 * db_open returned ERR_OK; version is "" until the driver sets it;
 * sqlstate/position describe the last failed call and are cleared by db.c
 * before every call. cancel_requested is the only field another thread
 * touches (db_cancel), so it is atomic.
 */
#ifndef TARMAC_ENGINE_DB_DRIVER_H
#define TARMAC_ENGINE_DB_DRIVER_H

#include <stdatomic.h>

#include "engine/db.h"

struct db_driver {
	/* Connects and sets db->impl, version and version_num; on failure
	 * leaves nothing allocated. o is never NULL here. */
	enum err_code (*open)(struct db *db, const struct db_target *t,
			      const struct db_options *o, struct err *e);
	void (*close)(struct db *db);
	enum err_code (*exec)(struct db *db, const char *sql, int nparams,
			      const char *const *params, int64_t *affected,
			      struct err *e);
	enum err_code (*query)(struct db *db, const char *sql, int nparams,
			       const char *const *params, struct db_result **out,
			       struct err *e);
	enum err_code (*exec_batch)(struct db *db, const char *const *sqls,
				    size_t n, long *failed_index, struct err *e);
	/* Optional split of exec_batch: send, and collect the results later
	 * (NULL: db.c runs exec_batch at start and keeps its outcome). */
	enum err_code (*batch_send)(struct db *db, const char *const *sqls, size_t n,
				    struct err *e);
	enum err_code (*batch_finish)(struct db *db, long *failed_index, struct err *e);
	/* NULL where the dialect has no COPY. */
	enum err_code (*copy_in)(struct db *db, const char *sql, const char *data,
				 size_t len, struct err *e);
	/* Called from any thread while another may be inside a call. */
	void (*cancel)(struct db *db);
};

struct db {
	const struct db_driver *drv;
	enum db_dialect dialect;
	void *impl;               /* the driver's connection state */
	char version[64];         /* "PostgreSQL 15.4" */
	int version_num;
	char sqlstate[6];
	int position;
	/* Set by db_cancel, cleared before each call: lets a driver report a
	 * server's "query cancelled" as ERR_CANCELLED rather than ERR_DB. */
	atomic_bool cancel_requested;
	/* db_batch_start/finish: a batch in flight, or a finished one's outcome */
	bool batch_pending, batch_async;
	enum err_code batch_rc;
	long batch_failed;
	struct err batch_err;
};

/* rows x cols cells, row-major; NULL cell = SQL NULL, else owned. */
struct db_result {
	size_t rows, cols;
	char **cells;
};

extern const struct db_driver db_pg_driver;
extern const struct db_driver db_my_driver;

/* A result with every cell NULL, for a driver to fill. */
struct db_result *db_result_new(size_t rows, size_t cols);
/* Records the server's SQLSTATE (may be NULL) and 1-based position. */
void db_diag_set(struct db *db, const char *sqlstate, int position);
/* A deep copy of t (the MariaDB driver keeps one for db_cancel's second
 * connection); release with db_target_release, which wipes the password. */
void db_target_copy(struct db_target *dst, const struct db_target *src);
/* Value of query parameter key (case-insensitive), or NULL. Borrowed. */
const char *db_target_param(const struct db_target *t, const char *key);

#endif
