/*
 * db_pg — the PostgreSQL driver behind db.h, on libpq; the only file that
 * includes libpq-fe.h.
 *
 * Invariants: the connection is idle between calls (every result of a
 * batch is read before it returns); every PGresult is cleared before a call returns; the
 * PGcancel made at open lives as long as the connection, because PQcancel
 * on it is the one thing another thread may do. Server notices are
 * dropped: libpq would print them to stderr, and engine/ never prints.
 */
#include "engine/db_driver.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pg {
	PGconn *conn;
	PGcancel *cancel;
	/* the batch in flight: where each statement ends in the query string,
	 * in characters (the unit of PostgreSQL's error positions) */
	size_t *batch_ends, batch_n, batch_cap;
};

static struct pg *pg_of(struct db *db)
{
	return db->impl;
}

/* libpq messages end in newlines and may span lines ("...failed: x\n\tIs
 * the server running..."): one line reads better inside our own message. */
static void msg_flatten(struct buf *out, const char *msg)
{
	size_t start = out->len;
	for (const char *s = msg ? msg : ""; *s; s++) {
		if (*s != '\n') {
			buf_addc(out, *s);
			continue;
		}
		while (s[1] == ' ' || s[1] == '\t' || s[1] == '\n')
			s++;
		if (s[1])
			buf_adds(out, "; ");
	}
	while (out->len > start && (out->ptr[out->len - 1] == ' ' ||
				    out->ptr[out->len - 1] == '\t'))
		buf_setlen(out, out->len - 1);
}

static void notice_drop(void *arg, const PGresult *r)
{
	(void)arg;
	(void)r;
}

/* ---- connecting -------------------------------------------------------- */

/* Keyword/value arrays for PQconnectdbParams; a later value for a keyword
 * replaces an earlier one, so the order below is the precedence. */
struct pg_kw {
	const char **keys, **vals;
	size_t n;
};

static void kw_set(struct pg_kw *kw, const char *key, const char *val)
{
	if (!val)
		return;
	for (size_t i = 0; i < kw->n; i++) {
		if (strcmp(kw->keys[i], key) == 0) {
			kw->vals[i] = val;
			return;
		}
	}
	kw->keys[kw->n] = key;
	kw->vals[kw->n++] = val;
}

/* Flyway's pgJDBC URLs carry parameters libpq does not know; translate the
 * ones that mean something here and drop the driver-tuning ones. Anything
 * else goes to libpq untouched, so a misspelt sslmode fails loudly. */
static const char *jdbc_key(const char *key, const char **val)
{
	static const char *const dropped[] = {
		"currentSchema", "sslfactory", "sslfactoryarg", "socketTimeout",
		"tcpKeepAlive", "prepareThreshold", "preferQueryMode", "loggerLevel",
		"reWriteBatchedInserts", "stringtype", "sslhostnameverifier",
	};
	if (strcmp(key, "ApplicationName") == 0)
		return "application_name";
	if (strcmp(key, "loginTimeout") == 0 || strcmp(key, "connectTimeout") == 0)
		return "connect_timeout";
	if (strcmp(key, "ssl") == 0) {
		*val = strcmp(*val, "true") == 0 ? "require" : "disable";
		return "sslmode";
	}
	for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++)
		if (strcmp(key, dropped[i]) == 0)
			return NULL;
	return key;
}

static void kw_build(struct pg_kw *kw, const struct db_target *t,
		     const struct db_options *o, struct buf *options, char *timeout)
{
	snprintf(timeout, 16, "%d", o->connect_timeout_s > 0 ? o->connect_timeout_s : 10);
	kw_set(kw, "connect_timeout", timeout);
	kw_set(kw, "application_name", o->app_name ? o->app_name : "tarmac");
	kw_set(kw, "host", t->host);
	kw_set(kw, "port", t->port);
	kw_set(kw, "dbname", t->dbname);
	kw_set(kw, "user", t->user);
	kw_set(kw, "password", t->password);
	bool has_sslmode = db_target_param(t, "sslmode") != NULL;
	for (size_t i = 0; i < t->nparams; i++) {
		const char *val = t->params[i].value;
		const char *key = jdbc_key(t->params[i].key, &val);
		if (key && strcmp(key, "options") == 0)
			buf_adds(options, val);
		else if (key && !(has_sslmode && strcmp(t->params[i].key, "ssl") == 0))
			kw_set(kw, key, val);
	}
	if (o->read_only)
		buf_adds(options, " -c default_transaction_read_only=on");
	if (options->len)
		kw_set(kw, "options", options->ptr);
	/* Last, so nothing overrides it: every text in tarmac is UTF-8. */
	kw_set(kw, "client_encoding", "UTF8");
	kw->keys[kw->n] = NULL;
	kw->vals[kw->n] = NULL;
}

static bool msg_is_auth(const char *m)
{
	return strstr(m, "authentication failed") || strstr(m, "no password supplied") ||
	       strstr(m, "pg_hba.conf") ||
	       (strstr(m, "role \"") && strstr(m, "does not exist"));
}

static enum err_code connect_fail(PGconn *c, const struct db_target *t, struct err *e)
{
	struct buf m = BUF_INIT;
	char *shown = db_target_display(t);
	msg_flatten(&m, c ? PQerrorMessage(c) : "out of memory");
	/* A FATAL came from the server (no such database, too many clients):
	 * the network is fine, the database said no. */
	enum err_code code = msg_is_auth(m.ptr) ? ERR_AUTH
			     : strstr(m.ptr, "FATAL:") ? ERR_DB : ERR_NET;
	err_set(e, code, "cannot connect to %s: %s%s", shown, m.ptr,
		code == ERR_AUTH ? " (check the user and password: URL, secret, "
				   "PGPASSWORD or ~/.pgpass)" : "");
	free(shown);
	buf_release(&m);
	PQfinish(c);
	return code;
}

static void version_read(struct db *db, PGconn *c)
{
	const char *v = PQparameterStatus(c, "server_version");
	/* "15.4 (Debian 15.4-1)": the distributor's suffix is noise here. */
	snprintf(db->version, sizeof db->version, "PostgreSQL %.*s",
		 v ? (int)strcspn(v, " ") : 0, v ? v : "");
	db->version_num = PQserverVersion(c);
}

static enum err_code pg_open(struct db *db, const struct db_target *t,
			     const struct db_options *o, struct err *e)
{
	size_t cap = t->nparams + 12;
	struct pg_kw kw = { xcalloc(cap, sizeof *kw.keys), xcalloc(cap, sizeof *kw.vals), 0 };
	struct buf options = BUF_INIT;
	char timeout[16];
	kw_build(&kw, t, o, &options, timeout);
	/* expand_dbname 0: a database name is a name, never a conninfo. */
	PGconn *c = PQconnectdbParams(kw.keys, kw.vals, 0);
	free(kw.keys);
	free(kw.vals);
	buf_release(&options);
	if (!c || PQstatus(c) != CONNECTION_OK)
		return connect_fail(c, t, e);
	PQsetNoticeReceiver(c, notice_drop, NULL);
	struct pg *pg = xcalloc(1, sizeof *pg);
	pg->conn = c;
	pg->cancel = PQgetCancel(c);
	db->impl = pg;
	version_read(db, c);
	return ERR_OK;
}

static void pg_close(struct db *db)
{
	struct pg *pg = pg_of(db);
	PQfreeCancel(pg->cancel);
	PQfinish(pg->conn);
	free(pg->batch_ends);
	free(pg);
}

static void pg_cancel(struct db *db)
{
	struct pg *pg = pg_of(db);
	char errbuf[256];
	if (pg->cancel)
		PQcancel(pg->cancel, errbuf, sizeof errbuf);
}

/* ---- errors ------------------------------------------------------------ */

static enum err_code code_for(struct db *db, const char *state)
{
	if (!state)
		return ERR_DB;
	if (strcmp(state, "57014") == 0 && atomic_load(&db->cancel_requested))
		return ERR_CANCELLED;
	if (strcmp(state, "25006") == 0)
		return ERR_READ_ONLY;
	if (strncmp(state, "08", 2) == 0)
		return ERR_NET;
	return ERR_DB;
}

/* Fills e from a failed result (or the connection when r is NULL) and
 * records SQLSTATE and position for db_last_*. */
static enum err_code pg_fail(struct db *db, const PGresult *r, struct err *e)
{
	PGconn *c = pg_of(db)->conn;
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *pos = r ? PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION) : NULL;
	const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	db_diag_set(db, state, pos ? atoi(pos) : 0);
	struct buf m = BUF_INIT;
	enum err_code code;
	if (!primary || PQstatus(c) == CONNECTION_BAD) {
		msg_flatten(&m, r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r)
							       : PQerrorMessage(c));
		code = PQstatus(c) == CONNECTION_BAD ? ERR_NET : ERR_DB;
		err_set(e, code, "%s%s", code == ERR_NET ? "lost the connection to the server: " : "",
			m.ptr);
		buf_release(&m);
		return code;
	}
	const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY);
	const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
	buf_addf(&m, "%s: %s (SQLSTATE %s)", sev ? sev : "ERROR", primary, state ? state : "?");
	if (detail)
		buf_addf(&m, "\nDETAIL: %s", detail);
	if (hint)
		buf_addf(&m, "\nHINT: %s", hint);
	code = code_for(db, state);
	err_set(e, code, "%s", m.ptr);
	buf_release(&m);
	return code;
}

/* ---- statements -------------------------------------------------------- */

static void results_drain(PGconn *c)
{
	PGresult *r;
	while ((r = PQgetResult(c)))
		PQclear(r);
}

/* A COPY reached through db_exec/db_query: end it so the connection stays
 * usable, and tell the caller where COPY belongs. */
static enum err_code copy_refuse(struct db *db, ExecStatusType st, struct err *e)
{
	PGconn *c = pg_of(db)->conn;
	if (st == PGRES_COPY_IN || st == PGRES_COPY_BOTH) {
		PQputCopyEnd(c, "COPY FROM STDIN is not allowed here");
	} else {
		char *row;
		while (PQgetCopyData(c, &row, 0) > 0)
			PQfreemem(row);
	}
	results_drain(c);
	return err_set(e, ERR_USAGE, "COPY with STDIN/STDOUT cannot run as a plain "
		       "statement: use db_copy_in for COPY ... FROM STDIN");
}

static enum err_code result_check(struct db *db, PGresult *r, struct err *e)
{
	switch (r ? PQresultStatus(r) : PGRES_FATAL_ERROR) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
		return ERR_OK;
	case PGRES_COPY_IN:
	case PGRES_COPY_OUT:
	case PGRES_COPY_BOTH:
		return copy_refuse(db, PQresultStatus(r), e);
	default:
		return pg_fail(db, r, e);
	}
}

/* PQexec for parameterless text, so a multi-statement string works too;
 * the extended protocol otherwise, with text parameters. */
static PGresult *run(struct db *db, const char *sql, int n, const char *const *p)
{
	PGconn *c = pg_of(db)->conn;
	if (n == 0)
		return PQexec(c, sql);
	return PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
}

static enum err_code pg_exec(struct db *db, const char *sql, int nparams,
			     const char *const *params, int64_t *affected, struct err *e)
{
	PGresult *r = run(db, sql, nparams, params);
	enum err_code rc = result_check(db, r, e);
	*affected = rc ? 0 : strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return rc;
}

static enum err_code pg_query(struct db *db, const char *sql, int nparams,
			      const char *const *params, struct db_result **out,
			      struct err *e)
{
	PGresult *r = run(db, sql, nparams, params);
	enum err_code rc = result_check(db, r, e);
	if (!rc) {
		size_t rows = (size_t)PQntuples(r), cols = (size_t)PQnfields(r);
		struct db_result *res = db_result_new(rows, cols);
		for (size_t i = 0; i < rows; i++)
			for (size_t j = 0; j < cols; j++)
				if (!PQgetisnull(r, (int)i, (int)j))
					res->cells[i * cols + j] = xstrndup(
						PQgetvalue(r, (int)i, (int)j),
						(size_t)PQgetlength(r, (int)i, (int)j));
		*out = res;
	}
	PQclear(r);
	return rc;
}

/* ---- batches ----------------------------------------------------------- */

/*
 * A batch travels as one simple-protocol query ("s1\n;\ns2\n;..."): one
 * round trip, no per-statement Parse/Bind, and the server still answers
 * statement by statement, so the first error result tells which statement
 * failed (the server runs nothing after it). "\n;" rather than ";" keeps a
 * trailing line comment from swallowing the delimiter.
 */
static enum err_code pg_batch_send(struct db *db, const char *const *sqls, size_t n,
				   struct err *e)
{
	struct buf q = BUF_INIT;
	struct pg *pg = pg_of(db);
	if (n > pg->batch_cap) {
		pg->batch_ends = xrealloc(pg->batch_ends, n * sizeof *pg->batch_ends);
		pg->batch_cap = n;
	}
	size_t chars = 0;
	for (size_t i = 0; i < n; i++) {
		buf_adds(&q, sqls[i]);
		buf_adds(&q, "\n;\n");
		for (const char *s = sqls[i]; *s; s++)
			chars += ((unsigned char)*s & 0xC0) != 0x80;
		pg->batch_ends[i] = chars += 3;
	}
	pg->batch_n = n;
	enum err_code rc = ERR_OK;
	/* libpq copies the query into its own buffer: q can go at once */
	if (!PQsendQuery(pg_of(db)->conn, q.ptr))
		rc = pg_fail(db, NULL, e);
	buf_release(&q);
	return rc;
}

/* A syntax error fails the whole query string before anything runs, and
 * every error's position counts from the string's start: the position,
 * when the server gives one, says which statement failed (and is made
 * relative to it); else the results that came before the error do. */
static void batch_locate(struct db *db, long *failed_index)
{
	struct pg *pg = pg_of(db);
	size_t pos = (size_t)db_last_position(db), start = 0;
	for (size_t i = 0; pos && i < pg->batch_n; start = pg->batch_ends[i++]) {
		if (pos <= pg->batch_ends[i]) {
			*failed_index = (long)i;
			db_diag_set(db, db_last_sqlstate(db), (int)(pos - start));
			return;
		}
	}
}

static enum err_code pg_batch_finish(struct db *db, long *failed_index, struct err *e)
{
	PGconn *c = pg_of(db)->conn;
	enum err_code rc = ERR_OK;
	size_t done = 0;
	PGresult *r;
	while (!rc && (r = PQgetResult(c))) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
			PQclear(r);
			*failed_index = (long)done;
			return copy_refuse(db, st, e);
		}
		if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR) {
			*failed_index = (long)done;
			rc = pg_fail(db, r, e);
			batch_locate(db, failed_index);
		}
		done++;
		PQclear(r);
	}
	results_drain(c);
	return rc;
}

static enum err_code pg_exec_batch(struct db *db, const char *const *sqls, size_t n,
				   long *failed_index, struct err *e)
{
	enum err_code rc = pg_batch_send(db, sqls, n, e);
	if (rc) {
		*failed_index = 0;
		return rc;
	}
	return pg_batch_finish(db, failed_index, e);
}

/* ---- COPY -------------------------------------------------------------- */

static enum err_code copy_send(struct db *db, const char *data, size_t len, struct err *e)
{
	PGconn *c = pg_of(db)->conn;
	const size_t chunk = (size_t)256 * 1024;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		if (PQputCopyData(c, data + off, (int)n) != 1)
			return pg_fail(db, NULL, e);
	}
	if (PQputCopyEnd(c, NULL) != 1)
		return pg_fail(db, NULL, e);
	PGresult *r = PQgetResult(c);
	enum err_code rc = result_check(db, r, e);
	PQclear(r);
	results_drain(c);
	return rc;
}

static enum err_code pg_copy_in(struct db *db, const char *sql, const char *data,
				size_t len, struct err *e)
{
	PGresult *r = PQexec(pg_of(db)->conn, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	enum err_code rc;
	if (st == PGRES_COPY_IN)
		rc = copy_send(db, data, len, e);
	else if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY)
		rc = err_set(e, ERR_USAGE, "db_copy_in needs a COPY ... FROM STDIN statement, "
			     "not '%.60s'", sql);
	else
		rc = result_check(db, r, e);
	PQclear(r);
	return rc;
}

const struct db_driver db_pg_driver = {
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.query = pg_query,
	.exec_batch = pg_exec_batch,
	.batch_send = pg_batch_send,
	.batch_finish = pg_batch_finish,
	.copy_in = pg_copy_in,
	.cancel = pg_cancel,
};
