/*
 * db — the database session interface the engine runs on, with two drivers:
 * db_pg.c (libpq) and db_my.c (mariadb-connector-c). Nothing outside those
 * two files sees a client library type.
 *
 * Threads: a struct db belongs to one thread at a time, except
 * db_cancel(), which any thread may call while another is inside a call.
 * Values: every statement that carries values uses parameters (`$1`.. on
 * PostgreSQL and `?` on MariaDB — use db_param() to write the marker);
 * parameters and results travel as text, NULL as a NULL pointer.
 * Secrets: the password is never copied into an error message.
 */
#ifndef TARMAC_ENGINE_DB_H
#define TARMAC_ENGINE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

enum db_dialect { DB_PG, DB_MY };

/* Where to connect; parsed from any URL form tarmac accepts. */
struct db_target {
	enum db_dialect dialect;
	char *host;     /* NULL: driver default (unix socket) */
	char *port;     /* NULL: driver default */
	char *dbname;   /* NULL: driver default */
	char *user;     /* NULL: driver default */
	char *password; /* NULL: driver conventions (PGPASSWORD, ~/.pgpass, ~/.my.cnf) */
	/* Remaining query parameters as "key=value" strings (sslmode, sslrootcert,
	 * socket, ssl-mode, connect_timeout, ...) passed to the driver. */
	struct db_kv { char *key; char *value; } *params;
	size_t nparams;
};

/*
 * Parses postgresql://, postgres://, mysql://, mariadb:// and the JDBC forms
 * (jdbc:postgresql://, jdbc:mysql://, jdbc:mariadb://; JDBC `user`/`password`
 * query parameters are honoured) into t. Percent-escapes are decoded.
 * A bare libpq keyword string ("host=... dbname=...") is PostgreSQL.
 * ERR_USAGE names the URL (with any password replaced by ***) on failure.
 */
enum err_code db_target_parse(const char *url, struct db_target *t, struct err *e);
void db_target_release(struct db_target *t);
/* The URL with the password masked, for messages and the header. */
char *db_target_display(const struct db_target *t);

struct db_options {
	bool read_only;          /* session refuses writes (see spec/console.md) */
	int connect_timeout_s;   /* 0: 10 seconds */
	const char *app_name;    /* "tarmac" when NULL */
};

struct db;
struct db_result;

/* Opens a session. ERR_AUTH for authentication failures, ERR_NET/ERR_DB otherwise. */
enum err_code db_open(const struct db_target *t, const struct db_options *o,
		      struct db **out, struct err *e);
/* db_close(NULL) is a no-op. */
void db_close(struct db *db);
enum db_dialect db_dialect(const struct db *db);
/* "PostgreSQL 15.4" / "MariaDB 10.11.6"; borrowed. */
const char *db_server_version(const struct db *db);
int db_server_version_num(const struct db *db); /* e.g. 150004, 101106 */
/* The marker for parameter n (1-based): "$n" or "?". Borrowed, static. */
const char *db_param(const struct db *db, int n);

/* Runs one statement and discards any rows; affected (may be NULL) gets the
 * row count. */
enum err_code db_exec(struct db *db, const char *sql, int nparams,
		      const char *const *params, int64_t *affected, struct err *e);
/* Runs a query and returns its rows as text. */
enum err_code db_query(struct db *db, const char *sql, int nparams,
		       const char *const *params, struct db_result **out, struct err *e);
size_t db_result_rows(const struct db_result *r);
size_t db_result_cols(const struct db_result *r);
/* NULL for SQL NULL; borrowed until db_result_free. */
const char *db_result_get(const struct db_result *r, size_t row, size_t col);
void db_result_free(struct db_result *r);

/*
 * Runs a batch of statements, stopping at the first error; *failed_index
 * gets the index of the failing statement (or -1). PostgreSQL sends the
 * batch as one simple-protocol query (one round trip; outside a transaction
 * block the server runs it as one implicit transaction); MariaDB runs the
 * statements one by one. Statement texts are borrowed. Not for COPY.
 */
enum err_code db_exec_batch(struct db *db, const char *const *sqls, size_t n,
			    long *failed_index, struct err *e);

/*
 * The same as db_exec_batch in two halves, so the caller can prepare the
 * next batch while the server runs this one: start sends it (PostgreSQL;
 * MariaDB runs it there and then), finish collects the outcome. Between
 * the two no other call may use the session. Texts may be freed after
 * start returns.
 */
enum err_code db_batch_start(struct db *db, const char *const *sqls, size_t n, struct err *e);
enum err_code db_batch_finish(struct db *db, long *failed_index, struct err *e);

/* PostgreSQL only: COPY ... FROM STDIN with the given data. */
enum err_code db_copy_in(struct db *db, const char *sql, const char *data,
			 size_t len, struct err *e);

/* Asks the server to cancel what this session is running (thread-safe;
 * PQcancel / KILL QUERY over a second connection). */
void db_cancel(struct db *db);

/* Details of the last server error: SQLSTATE and, when known, the 1-based
 * character position in the statement. Borrowed; "" / 0 when none. */
const char *db_last_sqlstate(const struct db *db);
int db_last_position(const struct db *db);

/* Appends s quoted as an identifier ("x" / `x`), embedded quotes doubled. */
void db_quote_ident(enum db_dialect d, struct buf *out, const char *s);
/* Appends s as a string literal for scripts that are only written out
 * (dry-run files), never executed: '' doubled, and on MariaDB \ doubled. */
void db_quote_literal(enum db_dialect d, struct buf *out, const char *s);

#endif
