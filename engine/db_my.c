/*
 * db_my — the MariaDB/MySQL driver behind db.h, on mariadb-connector-c;
 * the only file that includes mysql.h.
 *
 * Invariants: after every call the connection has no pending results
 * (multi-statement results are drained, prepared statements closed), so
 * the next call never meets "commands out of sync". The driver keeps a
 * copy of the target, password included, because db_cancel must open a
 * second connection to send KILL QUERY; the copy is wiped at close.
 * Statements with values go through the prepared-statement API, every
 * value bound as a string; statements without go through the text
 * protocol, where multi-statement strings work.
 */
#include "engine/db_driver.h"

#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct my {
	MYSQL *conn;
	struct db_target target;  /* for db_cancel's second connection */
	unsigned long thread_id;  /* whom KILL QUERY names */
};

static struct my *my_of(struct db *db)
{
	return db->impl;
}

/* mysql_init initialises the library lazily, which is not thread-safe;
 * db_cancel runs mysql_init on another thread. */
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init(void)
{
	mysql_library_init(0, NULL, NULL);
}

/* ---- TLS settings ------------------------------------------------------ */

struct my_tls {
	bool use;      /* try TLS when the server offers it */
	bool enforce;  /* refuse to connect without TLS */
	bool verify;   /* check the server's certificate and name */
	const char *ca;
};

static bool truthy(const char *v)
{
	return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
		     strcasecmp(v, "yes") == 0);
}

/* ssl-mode (MySQL client), sslMode (MariaDB JDBC), useSSL (MySQL JDBC):
 * asking for TLS means verifying the server unless the URL says
 * trustServerCertificate=true (or sslMode=trust). */
static enum err_code tls_read(const struct db_target *t, struct my_tls *tls, struct err *e)
{
	const char *mode = db_target_param(t, "ssl-mode");
	if (!mode)
		mode = db_target_param(t, "sslMode");
	const char *use = db_target_param(t, "useSSL");
	bool trust = truthy(db_target_param(t, "trustServerCertificate"));
	*tls = (struct my_tls){ .ca = db_target_param(t, "ssl-ca") };
	if (!tls->ca)
		tls->ca = db_target_param(t, "sslca");
	if (!mode && use)
		mode = truthy(use) ? "required" : "disabled";
	if (!mode)
		mode = tls->ca ? "verify_identity" : "disabled";
	if (strcasecmp(mode, "disabled") == 0 || strcasecmp(mode, "disable") == 0)
		return ERR_OK;
	if (strcasecmp(mode, "preferred") == 0) {
		tls->use = true;
		return ERR_OK;
	}
	static const char *const strict[] = { "required", "verify_ca", "verify_identity",
					       "verify-ca", "verify-full", "trust" };
	for (size_t i = 0; i < sizeof strict / sizeof strict[0]; i++) {
		if (strcasecmp(mode, strict[i]) == 0) {
			tls->use = tls->enforce = true;
			tls->verify = !trust && strcasecmp(mode, "trust") != 0;
			return ERR_OK;
		}
	}
	return err_set(e, ERR_USAGE, "unknown TLS mode '%s': use disabled, preferred, "
		       "required, verify_ca or verify_identity", mode);
}

/* In connector-c, MYSQL_OPT_SSL_ENFORCE only means "try TLS"; a server
 * without TLS is refused only when verifying. tls_check enforces the rest. */
static void tls_apply(MYSQL *m, const struct my_tls *tls)
{
	my_bool use = tls->use, verify = tls->verify;
	mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &use);
	if (!tls->use)
		return;
	mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
	if (tls->ca)
		mysql_options(m, MYSQL_OPT_SSL_CA, tls->ca);
}

static enum err_code tls_check(MYSQL *m, const struct my_tls *tls,
			       const struct db_target *t, struct err *e)
{
	if (!tls->enforce || mysql_get_ssl_cipher(m))
		return ERR_OK;
	char *shown = db_target_display(t);
	err_set(e, ERR_NET, "cannot connect to %s: the server does not offer TLS, "
		"which the URL requires", shown);
	free(shown);
	mysql_close(m);
	return ERR_NET;
}

/* ---- connecting -------------------------------------------------------- */

static enum err_code connect_fail(MYSQL *m, const struct db_target *t, struct err *e)
{
	unsigned no = mysql_errno(m);
	char *shown = db_target_display(t);
	enum err_code code = no == 1044 || no == 1045 || no == 1698 ? ERR_AUTH
			     : no >= 2000 ? ERR_NET : ERR_DB;
	err_set(e, code, "cannot connect to %s: ERROR %u (%s): %s%s", shown, no,
		mysql_sqlstate(m), mysql_error(m),
		code == ERR_AUTH ? " (check the user and password: URL, secret or ~/.my.cnf)" : "");
	free(shown);
	mysql_close(m);
	return code;
}

static void options_set(MYSQL *m, const struct db_target *t, int timeout_s)
{
	const char *param = db_target_param(t, "connect_timeout");
	unsigned timeout = (unsigned)(param && atoi(param) > 0 ? atoi(param)
					: timeout_s > 0 ? timeout_s : 10);
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* Without a password in the URL, honour ~/.my.cnf as the mysql
	 * client does (db.h: driver conventions). */
	if (!t->password)
		mysql_options(m, MYSQL_READ_DEFAULT_GROUP, "client");
}

/* Opens a connection to t; shared by db_open and db_cancel's killer. */
static enum err_code my_connect(const struct db_target *t, int timeout_s, MYSQL **out,
				struct err *e)
{
	struct my_tls tls;
	*out = NULL;
	pthread_once(&lib_once, lib_init);
	if (tls_read(t, &tls, e)) {
		char *shown = db_target_display(t);
		err_prefix(e, "cannot connect to %s", shown);
		free(shown);
		return ERR_USAGE;
	}
	MYSQL *m = mysql_init(NULL);
	if (!m)
		return err_set(e, ERR_NET, "cannot connect: out of memory in mysql_init");
	options_set(m, t, timeout_s);
	tls_apply(m, &tls);
	const char *host = t->host, *sock = db_target_param(t, "socket");
	if (host && (strcmp(host, "localhost") == 0 || host[0] == '/')) {
		/* localhost means the unix socket, as with the mysql client;
		 * a path as host names the socket itself. */
		if (!sock && host[0] == '/')
			sock = host;
		host = NULL;
	}
	unsigned port = t->port ? (unsigned)atoi(t->port) : 0;
	if (!mysql_real_connect(m, host, t->user, t->password, t->dbname, port, sock,
				CLIENT_MULTI_STATEMENTS))
		return connect_fail(m, t, e);
	if (tls_check(m, &tls, t, e))
		return ERR_NET;
	*out = m;
	return ERR_OK;
}

/* "10.11.6-MariaDB-1:10.11.6+maria~deb12" → "MariaDB 10.11.6". */
static void version_read(struct db *db, MYSQL *m)
{
	const char *v = mysql_get_server_info(m);
	bool maria = strstr(v, "MariaDB") != NULL;
	if (maria && strncmp(v, "5.5.5-", 6) == 0)
		v += 6; /* the replication-compatibility prefix of old servers */
	snprintf(db->version, sizeof db->version, "%s %.*s", maria ? "MariaDB" : "MySQL",
		 (int)strcspn(v, "-"), v);
	db->version_num = (int)mysql_get_server_version(m);
}

static enum err_code my_fail(struct db *db, MYSQL *m, struct err *e);

static enum err_code my_open(struct db *db, const struct db_target *t,
			     const struct db_options *o, struct err *e)
{
	MYSQL *m;
	enum err_code rc = my_connect(t, o->connect_timeout_s, &m, e);
	if (rc)
		return rc;
	struct my *my = xcalloc(1, sizeof *my);
	my->conn = m;
	my->thread_id = mysql_thread_id(m);
	db_target_copy(&my->target, t);
	db->impl = my;
	version_read(db, m);
	static const char ro[] = "SET SESSION TRANSACTION READ ONLY";
	if (o->read_only && mysql_real_query(m, ro, sizeof ro - 1)) {
		rc = my_fail(db, m, e);
		err_prefix(e, "cannot make the session read-only");
		mysql_close(m);
		db_target_release(&my->target);
		free(my);
		db->impl = NULL;
		return rc;
	}
	return ERR_OK;
}

static void my_close(struct db *db)
{
	struct my *my = my_of(db);
	mysql_close(my->conn);
	db_target_release(&my->target);
	free(my);
}

/* KILL QUERY over a short-lived second connection: the classic protocol
 * cannot interrupt a statement on the connection that runs it. */
static void my_cancel(struct db *db)
{
	struct my *my = my_of(db);
	MYSQL *k;
	struct err e = ERR_INIT;
	if (my_connect(&my->target, 5, &k, &e))
		return;
	char q[48];
	int n = snprintf(q, sizeof q, "KILL QUERY %lu", my->thread_id);
	mysql_real_query(k, q, (unsigned long)n);
	mysql_close(k);
}

/* ---- errors ------------------------------------------------------------ */

static enum err_code code_for(struct db *db, unsigned no, const char *state)
{
	static const unsigned net[] = { 2002, 2003, 2005, 2006, 2013, 2055 };
	if (no == 1317 && atomic_load(&db->cancel_requested))
		return ERR_CANCELLED; /* ER_QUERY_INTERRUPTED after our KILL QUERY */
	if (no == 1792 || strcmp(state, "25006") == 0)
		return ERR_READ_ONLY;
	for (size_t i = 0; i < sizeof net / sizeof net[0]; i++)
		if (no == net[i])
			return ERR_NET;
	return ERR_DB;
}

static enum err_code fail_with(struct db *db, unsigned no, const char *state,
			       const char *msg, struct err *e)
{
	db_diag_set(db, state, 0);
	return err_set(e, code_for(db, no, state), "ERROR %u (%s): %s", no, state, msg);
}

static enum err_code my_fail(struct db *db, MYSQL *m, struct err *e)
{
	return fail_with(db, mysql_errno(m), mysql_sqlstate(m), mysql_error(m), e);
}

static enum err_code stmt_fail(struct db *db, MYSQL_STMT *st, struct err *e)
{
	return fail_with(db, mysql_stmt_errno(st), mysql_stmt_sqlstate(st),
			 mysql_stmt_error(st), e);
}

/* ---- text protocol ----------------------------------------------------- */

static struct db_result *text_result(MYSQL_RES *res)
{
	size_t rows = (size_t)mysql_num_rows(res), cols = mysql_num_fields(res);
	struct db_result *r = db_result_new(rows, cols);
	for (size_t i = 0; i < rows; i++) {
		MYSQL_ROW row = mysql_fetch_row(res);
		unsigned long *len = mysql_fetch_lengths(res);
		for (size_t j = 0; row && j < cols; j++)
			if (row[j])
				r->cells[i * cols + j] = xstrndup(row[j], len[j]);
	}
	return r;
}

/* Runs sql (one or several statements) and reads every result, so the
 * connection is idle afterwards; keep (may be NULL) gets the last row set. */
static enum err_code text_run(struct db *db, const char *sql, struct db_result **keep,
			      int64_t *affected, struct err *e)
{
	MYSQL *m = my_of(db)->conn;
	if (mysql_real_query(m, sql, (unsigned long)strlen(sql)))
		return my_fail(db, m, e);
	for (;;) {
		MYSQL_RES *res = mysql_store_result(m);
		if (res) {
			*affected = (int64_t)mysql_num_rows(res);
			if (keep) {
				db_result_free(*keep);
				*keep = text_result(res);
			}
			mysql_free_result(res);
		} else if (mysql_field_count(m) != 0) {
			return my_fail(db, m, e);
		} else {
			*affected = (int64_t)mysql_affected_rows(m);
		}
		int more = mysql_next_result(m);
		if (more > 0)
			return my_fail(db, m, e); /* a later statement failed */
		if (more < 0)
			return ERR_OK;
	}
}

/* ---- prepared statements ----------------------------------------------- */

/* Prepares sql, binds params as strings (NULL as SQL NULL) and executes. */
static enum err_code stmt_run(struct db *db, const char *sql, int n,
			      const char *const *p, MYSQL_STMT **out, struct err *e)
{
	MYSQL_STMT *st = mysql_stmt_init(my_of(db)->conn);
	if (!st)
		return my_fail(db, my_of(db)->conn, e);
	*out = st;
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)))
		return stmt_fail(db, st, e);
	if (mysql_stmt_param_count(st) != (unsigned long)n)
		return err_set(e, ERR_USAGE, "statement has %lu parameter markers but %d values "
			       "were given", mysql_stmt_param_count(st), n);
	MYSQL_BIND *b = xcalloc((size_t)n, sizeof *b);
	unsigned long *lens = xcalloc((size_t)n, sizeof *lens);
	my_bool null_flag = 1;
	for (int i = 0; i < n; i++) {
		b[i].buffer_type = MYSQL_TYPE_STRING;
		if (!p[i]) {
			b[i].is_null = &null_flag;
			continue;
		}
		/* The library only reads input buffers; its struct is not const. */
		b[i].buffer = (void *)(uintptr_t)p[i];
		lens[i] = (unsigned long)strlen(p[i]);
		b[i].buffer_length = lens[i];
		b[i].length = &lens[i];
	}
	enum err_code rc = ERR_OK;
	if (mysql_stmt_bind_param(st, b) || mysql_stmt_execute(st))
		rc = stmt_fail(db, st, e);
	free(b);
	free(lens);
	return rc;
}

/* Per-column output buffers for mysql_stmt_fetch. */
struct my_cols {
	MYSQL_BIND *bind;
	unsigned long *len;
	my_bool *null, *trunc;
};

static void cols_bind(struct my_cols *c, MYSQL_RES *meta, size_t cols)
{
	MYSQL_FIELD *f = mysql_fetch_fields(meta);
	c->bind = xcalloc(cols, sizeof *c->bind);
	c->len = xcalloc(cols, sizeof *c->len);
	c->null = xcalloc(cols, sizeof *c->null);
	c->trunc = xcalloc(cols, sizeof *c->trunc);
	for (size_t j = 0; j < cols; j++) {
		/* max_length is exact for strings; numbers and dates print wider
		 * than their binary size, hence the floor (and the re-fetch in
		 * cell_take for anything longer). */
		size_t size = f[j].max_length + 1 < 64 ? 64 : f[j].max_length + 1;
		c->bind[j].buffer_type = MYSQL_TYPE_STRING;
		c->bind[j].buffer = xmalloc(size);
		c->bind[j].buffer_length = (unsigned long)size;
		c->bind[j].length = &c->len[j];
		c->bind[j].is_null = &c->null[j];
		c->bind[j].error = &c->trunc[j];
	}
}

static void cols_release(struct my_cols *c, size_t cols)
{
	for (size_t j = 0; c->bind && j < cols; j++)
		free(c->bind[j].buffer);
	free(c->bind);
	free(c->len);
	free(c->null);
	free(c->trunc);
}

static char *cell_take(MYSQL_STMT *st, struct my_cols *c, size_t j)
{
	if (c->null[j])
		return NULL;
	if (c->len[j] < c->bind[j].buffer_length)
		return xstrndup(c->bind[j].buffer, c->len[j]);
	MYSQL_BIND big = { 0 };
	unsigned long len = 0;
	char *s = xmalloc(c->len[j] + 1);
	big.buffer_type = MYSQL_TYPE_STRING;
	big.buffer = s;
	big.buffer_length = c->len[j] + 1;
	big.length = &len;
	mysql_stmt_fetch_column(st, &big, (unsigned)j, 0);
	s[len < c->len[j] ? len : c->len[j]] = 0;
	return s;
}

static enum err_code stmt_rows(struct db *db, MYSQL_STMT *st, MYSQL_RES *meta,
			       struct db_result **out, struct err *e)
{
	size_t cols = mysql_num_fields(meta);
	struct my_cols c = { 0 };
	cols_bind(&c, meta, cols);
	enum err_code rc = ERR_OK;
	if (mysql_stmt_bind_result(st, c.bind)) {
		cols_release(&c, cols);
		return stmt_fail(db, st, e);
	}
	size_t rows = (size_t)mysql_stmt_num_rows(st);
	struct db_result *r = db_result_new(rows, cols);
	for (size_t i = 0; i < rows; i++) {
		int f = mysql_stmt_fetch(st);
		if (f == MYSQL_NO_DATA)
			break;
		if (f == 1) {
			rc = stmt_fail(db, st, e);
			break;
		}
		for (size_t j = 0; j < cols; j++)
			r->cells[i * cols + j] = cell_take(st, &c, j);
	}
	cols_release(&c, cols);
	if (rc)
		db_result_free(r);
	else
		*out = r;
	return rc;
}

/* Reads what an executed statement returns: rows into out (when not NULL)
 * and the affected count. */
static enum err_code stmt_collect(struct db *db, MYSQL_STMT *st, struct db_result **out,
				  int64_t *affected, struct err *e)
{
	MYSQL_RES *meta = mysql_stmt_result_metadata(st);
	if (!meta) {
		*affected = (int64_t)mysql_stmt_affected_rows(st);
		if (out)
			*out = db_result_new(0, 0);
		return ERR_OK;
	}
	my_bool on = 1;
	enum err_code rc = ERR_OK;
	mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
	if (mysql_stmt_store_result(st))
		rc = stmt_fail(db, st, e);
	else if (out)
		rc = stmt_rows(db, st, meta, out, e);
	*affected = rc ? 0 : (int64_t)mysql_stmt_num_rows(st);
	mysql_free_result(meta);
	return rc;
}

/* ---- entry points ------------------------------------------------------ */

static enum err_code my_exec(struct db *db, const char *sql, int nparams,
			     const char *const *params, int64_t *affected, struct err *e)
{
	*affected = 0;
	if (nparams == 0)
		return text_run(db, sql, NULL, affected, e);
	MYSQL_STMT *st = NULL;
	enum err_code rc = stmt_run(db, sql, nparams, params, &st, e);
	if (!rc)
		rc = stmt_collect(db, st, NULL, affected, e);
	if (st)
		mysql_stmt_close(st);
	return rc;
}

static enum err_code my_query(struct db *db, const char *sql, int nparams,
			      const char *const *params, struct db_result **out,
			      struct err *e)
{
	int64_t affected = 0;
	enum err_code rc;
	if (nparams == 0) {
		struct db_result *r = NULL;
		rc = text_run(db, sql, &r, &affected, e);
		if (rc)
			db_result_free(r);
		else
			*out = r ? r : db_result_new(0, 0);
		return rc;
	}
	MYSQL_STMT *st = NULL;
	rc = stmt_run(db, sql, nparams, params, &st, e);
	if (!rc)
		rc = stmt_collect(db, st, out, &affected, e);
	if (st)
		mysql_stmt_close(st);
	return rc;
}

/* One statement per round trip: MariaDB offers no pipelining in the
 * classic protocol, and joining statements with ';' would break bodies
 * of routines and lose which statement failed. */
static enum err_code my_exec_batch(struct db *db, const char *const *sqls, size_t n,
				   long *failed_index, struct err *e)
{
	int64_t affected;
	for (size_t i = 0; i < n; i++) {
		enum err_code rc = text_run(db, sqls[i], NULL, &affected, e);
		if (rc) {
			*failed_index = (long)i;
			return rc;
		}
	}
	return ERR_OK;
}

const struct db_driver db_my_driver = {
	.open = my_open,
	.close = my_close,
	.exec = my_exec,
	.query = my_query,
	.exec_batch = my_exec_batch,
	.copy_in = NULL,
	.cancel = my_cancel,
};
