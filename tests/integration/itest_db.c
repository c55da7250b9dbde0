/*
 * itest_db — db.h against real servers: every test runs once on
 * PostgreSQL and once on MariaDB, each in a database of its own created
 * through the admin URLs that tests/lib/servers.sh writes to its env file
 * (TARMAC_TEST_PG_URL, TARMAC_TEST_MY_URL). A missing URL is a failure,
 * never a skip. The wrong-password test relies on servers.sh's `tarmac`
 * role, the one PostgreSQL role there that must authenticate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/db.h"

struct fixture {
	enum db_dialect dialect;
	struct db_target admin;   /* the server-wide URL from the environment */
	struct db_target target;  /* the same, on this test's own database */
	struct db *db;
	char name[64];
};

static const char *env_url(enum db_dialect d)
{
	const char *var = d == DB_PG ? "TARMAC_TEST_PG_URL" : "TARMAC_TEST_MY_URL";
	const char *url = getenv(var);
	if (!url || !*url)
		fail_msg("%s is not set: start servers with tests/lib/servers.sh start DIR "
			 "and source DIR/env", var);
	return url;
}

#define OK(call)                                                        \
	do {                                                            \
		struct err e_ = ERR_INIT;                               \
		enum err_code rc_ = (call);                             \
		if (rc_ != ERR_OK)                                      \
			fail_msg("%s: %s", #call, e_.msg);              \
	} while (0)
/* OK() needs `e_` in the call; these spell it once. */
#define E (&e_)

static void admin_exec(struct fixture *f, const char *sql)
{
	struct db *db = NULL;
	OK(db_open(&f->admin, NULL, &db, E));
	OK(db_exec(db, sql, 0, NULL, NULL, E));
	db_close(db);
}

static int setup(void **state, enum db_dialect d)
{
	static int seq;
	struct fixture *f = calloc(1, sizeof *f);
	struct buf sql = BUF_INIT;
	f->dialect = d;
	OK(db_target_parse(env_url(d), &f->admin, E));
	assert_int_equal(f->admin.dialect, d);
	snprintf(f->name, sizeof f->name, "itest_db_%ld_%d", (long)getpid(), ++seq);
	buf_addf(&sql, "DROP DATABASE IF EXISTS %s", f->name);
	admin_exec(f, sql.ptr);
	buf_reset(&sql);
	buf_addf(&sql, "CREATE DATABASE %s", f->name);
	admin_exec(f, sql.ptr);
	buf_release(&sql);
	OK(db_target_parse(env_url(d), &f->target, E));
	free(f->target.dbname);
	f->target.dbname = strdup(f->name);
	OK(db_open(&f->target, NULL, &f->db, E));
	*state = f;
	return 0;
}

static int setup_pg(void **state)
{
	return setup(state, DB_PG);
}

static int setup_my(void **state)
{
	return setup(state, DB_MY);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct buf sql = BUF_INIT;
	db_close(f->db);
	buf_addf(&sql, "DROP DATABASE IF EXISTS %s%s", f->name,
		 f->dialect == DB_PG ? " WITH (FORCE)" : "");
	admin_exec(f, sql.ptr);
	buf_release(&sql);
	db_target_release(&f->admin);
	db_target_release(&f->target);
	free(f);
	return 0;
}

/* Runs a one-value query and returns its text (NULL for SQL NULL). */
static char *query_one(struct db *db, const char *sql)
{
	struct db_result *r = NULL;
	OK(db_query(db, sql, 0, NULL, &r, E));
	assert_int_equal(db_result_rows(r), 1);
	const char *v = db_result_get(r, 0, 0);
	char *copy = v ? strdup(v) : NULL;
	db_result_free(r);
	return copy;
}

static void assert_one(struct db *db, const char *sql, const char *want)
{
	char *got = query_one(db, sql);
	if (!got || strcmp(got, want) != 0)
		fail_msg("%s gave '%s', want '%s'", sql, got ? got : "(null)", want);
	free(got);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- tests ------------------------------------------------------------- */

static void test_connect(void **state)
{
	struct fixture *f = *state;
	const char *v = db_server_version(f->db);
	assert_int_equal(db_dialect(f->db), f->dialect);
	if (f->dialect == DB_PG) {
		assert_true(strncmp(v, "PostgreSQL 1", 12) == 0);
		assert_true(db_server_version_num(f->db) >= 120000);
		assert_one(f->db, "SHOW client_encoding", "UTF8");
		assert_one(f->db, "SELECT current_setting('application_name')", "tarmac");
	} else {
		assert_true(strncmp(v, "MariaDB 1", 9) == 0);
		assert_null(strchr(v, '-'));
		assert_true(db_server_version_num(f->db) >= 100000);
		assert_one(f->db, "SELECT @@character_set_client", "utf8mb4");
	}
	assert_one(f->db, "SELECT 1; SELECT 2", "2"); /* multi-statement text */
	assert_string_equal(db_last_sqlstate(f->db), "");
}

static void test_exec(void **state)
{
	struct fixture *f = *state;
	int64_t n = -1;
	OK(db_exec(f->db, "CREATE TABLE t (id int PRIMARY KEY, name varchar(100), note text)",
		   0, NULL, &n, E));
	OK(db_exec(f->db, "INSERT INTO t VALUES (1, 'a', NULL); "
			  "INSERT INTO t VALUES (2, 'b', 'x'), (3, 'c', 'y')", 0, NULL, &n, E));
	assert_int_equal(n, 2); /* the last statement's count */
	OK(db_exec(f->db, "UPDATE t SET note = 'z' WHERE id >= 2", 0, NULL, &n, E));
	assert_int_equal(n, 2);
	OK(db_exec(f->db, "DELETE FROM t WHERE id = 3", 0, NULL, NULL, E));
	assert_one(f->db, "SELECT count(*) FROM t", "2");
}

static void test_query_params(void **state)
{
	struct fixture *f = *state;
	struct db *db = f->db;
	struct buf sql = BUF_INIT, big = BUF_INIT;
	const char *uni = "Zürich ☃ 日本語 🚀";
	for (int i = 0; i < 20000; i++)
		buf_addc(&big, (char)('a' + i % 26));
	OK(db_exec(db, "CREATE TABLE p (id int, name varchar(100), note text)", 0, NULL, NULL, E));
	buf_addf(&sql, "INSERT INTO p VALUES (%s, %s, %s)", db_param(db, 1), db_param(db, 2),
		 db_param(db, 3));
	const char *rows[][3] = { { "1", uni, NULL }, { "2", "", big.ptr }, { "3", "it's", "\\" } };
	for (size_t i = 0; i < 3; i++) {
		int64_t n = 0;
		OK(db_exec(db, sql.ptr, 3, rows[i], &n, E));
		assert_int_equal(n, 1);
	}
	buf_reset(&sql);
	buf_addf(&sql, "SELECT id, name, note, %s AS echo, 12345678901234 AS big, 3.25 AS num "
		 "FROM p WHERE id >= %s ORDER BY id", db_param(db, 1), db_param(db, 2));
	const char *qp[] = { NULL, "1" };
	struct db_result *r = NULL;
	OK(db_query(db, sql.ptr, 2, qp, &r, E));
	assert_int_equal(db_result_rows(r), 3);
	assert_int_equal(db_result_cols(r), 6);
	assert_string_equal(db_result_get(r, 0, 1), uni);
	assert_null(db_result_get(r, 0, 2));
	assert_null(db_result_get(r, 0, 3));
	assert_string_equal(db_result_get(r, 1, 1), "");
	assert_string_equal(db_result_get(r, 1, 2), big.ptr);
	assert_string_equal(db_result_get(r, 2, 1), "it's");
	assert_string_equal(db_result_get(r, 2, 2), "\\");
	assert_string_equal(db_result_get(r, 2, 4), "12345678901234");
	assert_string_equal(db_result_get(r, 2, 5), "3.25");
	assert_null(db_result_get(r, 3, 0)); /* out of range */
	db_result_free(r);
	buf_release(&sql);
	buf_release(&big);
}

static void test_error(void **state)
{
	struct fixture *f = *state;
	struct err e = ERR_INIT;
	bool pg = f->dialect == DB_PG;
	assert_int_equal(db_exec(f->db, "SELECT * FROM nope", 0, NULL, NULL, &e), ERR_DB);
	assert_string_equal(db_last_sqlstate(f->db), pg ? "42P01" : "42S02");
	assert_int_equal(db_last_position(f->db), pg ? 15 : 0);
	assert_non_null(strstr(e.msg, "nope"));
	assert_non_null(strstr(e.msg, pg ? "SQLSTATE 42P01" : "ERROR 1146 (42S02)"));
	/* Through the parameter path too. */
	char sql[64];
	snprintf(sql, sizeof sql, "SELECT x FROM nope WHERE y = %s", db_param(f->db, 1));
	const char *p[] = { "1" };
	struct db_result *r = NULL;
	assert_int_equal(db_query(f->db, sql, 1, p, &r, &e), ERR_DB);
	assert_null(r);
	assert_string_equal(db_last_sqlstate(f->db), pg ? "42P01" : "42S02");
	/* Detail lines (PostgreSQL) and the connection survives. */
	OK(db_exec(f->db, "CREATE TABLE u (id int PRIMARY KEY)", 0, NULL, NULL, E));
	OK(db_exec(f->db, "INSERT INTO u VALUES (1)", 0, NULL, NULL, E));
	assert_int_equal(db_exec(f->db, "INSERT INTO u VALUES (1)", 0, NULL, NULL, &e), ERR_DB);
	assert_string_equal(db_last_sqlstate(f->db), pg ? "23505" : "23000");
	if (pg)
		assert_non_null(strstr(e.msg, "\nDETAIL: Key (id)=(1) already exists."));
	assert_one(f->db, "SELECT 7", "7");
	assert_string_equal(db_last_sqlstate(f->db), "");
	assert_int_equal(db_last_position(f->db), 0);
}

static void test_batch(void **state)
{
	struct fixture *f = *state;
	struct err e = ERR_INIT;
	long failed = 99;
	const char *ok[] = { "CREATE TABLE b (x int)", "INSERT INTO b VALUES (1)",
			     "INSERT INTO b VALUES (2)" };
	OK(db_exec_batch(f->db, ok, 3, &failed, E));
	assert_int_equal(failed, -1);
	assert_one(f->db, "SELECT count(*) FROM b", "2");
	const char *bad[] = { "INSERT INTO b VALUES (3)", "INSERT INTO nope VALUES (1)",
			      "INSERT INTO b VALUES (4)" };
	assert_int_equal(db_exec_batch(f->db, bad, 3, &failed, &e), ERR_DB);
	assert_int_equal(failed, 1);
	assert_non_null(strstr(e.msg, "nope"));
	assert_string_equal(db_last_sqlstate(f->db), f->dialect == DB_PG ? "42P01" : "42S02");
	/* PostgreSQL runs a pipeline without BEGIN as one transaction. */
	assert_one(f->db, "SELECT count(*) FROM b", f->dialect == DB_PG ? "2" : "3");
	assert_one(f->db, "SELECT count(*) FROM b WHERE x = 4", "0");
	OK(db_exec_batch(f->db, ok, 0, &failed, E));
	assert_int_equal(failed, -1);
}

/* On PostgreSQL, enough statements that their results outgrow the socket
 * buffers while the pipeline is still being sent; MariaDB pays one round
 * trip per statement, so fewer there. */
static void test_batch_large(void **state)
{
	struct fixture *f = *state;
	const int N = f->dialect == DB_PG ? 20000 : 2000;
	char want[16];
	char **sqls = calloc((size_t)N, sizeof *sqls);
	long failed = 0;
	OK(db_exec(f->db, "CREATE TABLE big (x int, pad text)", 0, NULL, NULL, E));
	OK(db_exec(f->db, "BEGIN", 0, NULL, NULL, E));
	for (int i = 0; i < N; i++) {
		char s[200];
		snprintf(s, sizeof s, "INSERT INTO big VALUES (%d, '%0120d')", i, i);
		sqls[i] = strdup(s);
	}
	OK(db_exec_batch(f->db, (const char *const *)sqls, (size_t)N, &failed, E));
	OK(db_exec(f->db, "COMMIT", 0, NULL, NULL, E));
	snprintf(want, sizeof want, "%d", N);
	assert_one(f->db, "SELECT count(*) FROM big", want);
	for (int i = 0; i < N; i++)
		free(sqls[i]);
	free(sqls);
}

static void test_read_only(void **state)
{
	struct fixture *f = *state;
	struct db_options o = { .read_only = true };
	struct db *ro = NULL;
	struct err e = ERR_INIT;
	OK(db_exec(f->db, "CREATE TABLE r (x int)", 0, NULL, NULL, E));
	OK(db_open(&f->target, &o, &ro, E));
	assert_int_equal(db_exec(ro, "INSERT INTO r VALUES (1)", 0, NULL, NULL, &e), ERR_READ_ONLY);
	assert_string_equal(db_last_sqlstate(ro), "25006");
	const char *p[] = { "2" };
	char sql[64];
	snprintf(sql, sizeof sql, "INSERT INTO r VALUES (%s)", db_param(ro, 1));
	assert_int_equal(db_exec(ro, sql, 1, p, NULL, &e), ERR_READ_ONLY);
	assert_one(ro, "SELECT count(*) FROM r", "0");
	db_close(ro);
	db_close(NULL);
}

struct cancel_job {
	struct db *db;
	unsigned delay_ms;
};

static void *cancel_later(void *arg)
{
	struct cancel_job *j = arg;
	usleep(j->delay_ms * 1000);
	db_cancel(j->db);
	return NULL;
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct cancel_job job = { f->db, 300 };
	struct err e = ERR_INIT;
	pthread_t th;
	struct db_result *r = NULL;
	const char *sql = f->dialect == DB_PG ? "SELECT pg_sleep(10)" : "SELECT SLEEP(10)";
	double t0 = now_s();
	assert_int_equal(pthread_create(&th, NULL, cancel_later, &job), 0);
	enum err_code rc = db_query(f->db, sql, 0, NULL, &r, &e);
	double took = now_s() - t0;
	pthread_join(th, NULL);
	if (took >= 2.0)
		fail_msg("cancel took %.2fs", took);
	if (f->dialect == DB_PG) {
		assert_int_equal(rc, ERR_CANCELLED);
		assert_string_equal(db_last_sqlstate(f->db), "57014");
	} else if (rc == ERR_OK) {
		/* MariaDB ends an interrupted SLEEP() with 1, not an error. */
		assert_string_equal(db_result_get(r, 0, 0), "1");
	} else {
		print_message("MariaDB cancel: %s\n", e.msg);
		assert_int_equal(rc, ERR_CANCELLED);
	}
	db_result_free(r);
	assert_one(f->db, "SELECT 5", "5");
	/* A cancel with nothing running leaves the next statement alone. */
	db_cancel(f->db);
	assert_one(f->db, "SELECT 6", "6");
}

static void test_auth(void **state)
{
	struct fixture *f = *state;
	struct db_target t;
	struct db *db = NULL;
	struct err e = ERR_INIT;
	OK(db_target_parse(env_url(f->dialect), &t, E));
	free(t.user);
	free(t.password);
	t.user = strdup("tarmac");
	t.password = strdup("wrong-Pa55");
	assert_int_equal(db_open(&t, NULL, &db, &e), ERR_AUTH);
	assert_null(db);
	assert_non_null(strstr(e.msg, "cannot connect to "));
	assert_non_null(strstr(e.msg, "tarmac:***@"));
	assert_null(strstr(e.msg, "wrong-Pa55"));
	db_target_release(&t);
}

static void test_unreachable(void **state)
{
	struct fixture *f = *state;
	struct db_target t;
	struct db *db = NULL;
	struct err e = ERR_INIT;
	struct db_options o = { .connect_timeout_s = 2 };
	OK(db_target_parse(env_url(f->dialect), &t, E));
	free(t.port);
	t.port = strdup("1"); /* nothing listens on port 1 */
	assert_int_equal(db_open(&t, &o, &db, &e), ERR_NET);
	assert_null(db);
	assert_non_null(strstr(e.msg, ":1"));
	db_target_release(&t);
}

static void test_copy_in(void **state)
{
	struct fixture *f = *state;
	struct err e = ERR_INIT;
	static const char data[] = "1\tone\n2\t\\N\n3\tdrei ü\n";
	if (f->dialect == DB_MY) {
		assert_int_equal(db_copy_in(f->db, "COPY c FROM STDIN", data, sizeof data - 1, &e),
				 ERR_USAGE);
		return;
	}
	OK(db_exec(f->db, "CREATE TABLE c (a int, b text)", 0, NULL, NULL, E));
	OK(db_copy_in(f->db, "COPY c FROM STDIN", data, sizeof data - 1, E));
	assert_one(f->db, "SELECT count(*) FROM c", "3");
	assert_one(f->db, "SELECT count(*) FROM c WHERE b IS NULL", "1");
	assert_one(f->db, "SELECT b FROM c WHERE a = 3", "drei ü");
	static const char bad[] = "x\ty\n";
	assert_int_equal(db_copy_in(f->db, "COPY c FROM STDIN", bad, sizeof bad - 1, &e), ERR_DB);
	assert_string_equal(db_last_sqlstate(f->db), "22P02");
	assert_int_equal(db_copy_in(f->db, "SELECT 1", bad, sizeof bad - 1, &e), ERR_USAGE);
	/* COPY through db_exec is refused and leaves the session usable. */
	assert_int_equal(db_exec(f->db, "COPY c FROM STDIN", 0, NULL, NULL, &e), ERR_USAGE);
	assert_int_equal(db_exec(f->db, "COPY c TO STDOUT", 0, NULL, NULL, &e), ERR_USAGE);
	assert_one(f->db, "SELECT count(*) FROM c", "3");
}

#define BOTH(fn)                                                      \
	cmocka_unit_test_setup_teardown(fn, setup_pg, teardown),      \
	cmocka_unit_test_setup_teardown(fn, setup_my, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_connect),     BOTH(test_exec),        BOTH(test_query_params),
		BOTH(test_error),       BOTH(test_batch),       BOTH(test_batch_large),
		BOTH(test_read_only),   BOTH(test_cancel),      BOTH(test_auth),
		BOTH(test_unreachable), BOTH(test_copy_in),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
