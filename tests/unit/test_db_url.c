/*
 * test_db_url — every URL form db_target_parse accepts, the ones it
 * refuses, display masking, quoting and parameter markers. Table-driven:
 * a new URL form is one more row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/db_driver.h"

struct ok_case {
	const char *url;
	enum db_dialect dialect;
	const char *host, *port, *dbname, *user, *password;
	const char *params; /* "k=v&k=v" in order, "" for none */
	const char *display;
};

static const struct ok_case ok_cases[] = {
	{ "postgresql://flyway@db.example.com:5432/users?sslmode=verify-full", DB_PG,
	  "db.example.com", "5432", "users", "flyway", NULL, "sslmode=verify-full",
	  "postgresql://flyway@db.example.com:5432/users?sslmode=verify-full" },
	{ "postgres://u:secret@h/db", DB_PG, "h", NULL, "db", "u", "secret", "",
	  "postgresql://u:***@h/db" },
	{ "POSTGRESQL://h", DB_PG, "h", NULL, NULL, NULL, NULL, "", "postgresql://h" },
	{ "postgresql://", DB_PG, NULL, NULL, NULL, NULL, NULL, "", "postgresql://" },
	{ "postgresql:///db?host=/tmp/sock", DB_PG, "/tmp/sock", NULL, "db", NULL, NULL, "",
	  "postgresql:///db?host=/tmp/sock" },
	{ "postgresql://%2Fvar%2Frun%2Fpg/db", DB_PG, "/var/run/pg", NULL, "db", NULL, NULL, "",
	  "postgresql:///db?host=/var/run/pg" },
	{ "postgresql://[::1]:5433/db", DB_PG, "::1", "5433", "db", NULL, NULL, "",
	  "postgresql://[::1]:5433/db" },
	{ "postgresql://u@[fe80::1%25eth0]/db", DB_PG, "fe80::1%eth0", NULL, "db", "u", NULL, "",
	  "postgresql://u@[fe80::1%eth0]/db" },
	{ "postgresql://us%40er:p%3Aw%2Fd%40@h:1/d%20b", DB_PG, "h", "1", "d b", "us@er", "p:w/d@",
	  "", "postgresql://us%40er:***@h:1/d%20b" },
	{ "postgresql://u:@h/db", DB_PG, "h", NULL, "db", "u", NULL, "", "postgresql://u@h/db" },
	{ "postgresql://h/db?application_name=x&connect_timeout=3", DB_PG, "h", NULL, "db",
	  NULL, NULL, "application_name=x&connect_timeout=3",
	  "postgresql://h/db?application_name=x&connect_timeout=3" },
	{ "postgresql://h/db?user=a&password=b&port=7", DB_PG, "h", "7", "db", "a", "b", "",
	  "postgresql://a:***@h:7/db" },
	{ "postgresql://h/db?sslpassword=topsecret", DB_PG, "h", NULL, "db", NULL, NULL,
	  "sslpassword=topsecret", "postgresql://h/db?sslpassword=***" },
	{ "mysql://tarmac:tarmac@127.0.0.1:3306/", DB_MY, "127.0.0.1", "3306", NULL, "tarmac",
	  "tarmac", "", "mysql://tarmac:***@127.0.0.1:3306" },
	{ "mariadb://root@localhost/app?socket=/run/mysqld/mysqld.sock", DB_MY, "localhost",
	  NULL, "app", "root", NULL, "socket=/run/mysqld/mysqld.sock",
	  "mysql://root@localhost/app?socket=/run/mysqld/mysqld.sock" },
	{ "jdbc:postgresql://db:5432/users?user=flyway&password=pw&ssl=true", DB_PG, "db",
	  "5432", "users", "flyway", "pw", "ssl=true", "postgresql://flyway:***@db:5432/users?ssl=true" },
	{ "jdbc:mysql://db:3306/shop?useSSL=true&trustServerCertificate=true", DB_MY, "db",
	  "3306", "shop", NULL, NULL, "useSSL=true&trustServerCertificate=true",
	  "mysql://db:3306/shop?useSSL=true&trustServerCertificate=true" },
	{ "jdbc:mariadb://[2001:db8::7]/shop?user=u", DB_MY, "2001:db8::7", NULL, "shop", "u",
	  NULL, "", "mysql://u@[2001:db8::7]/shop" },
	{ "jdbc:postgresql:users", DB_PG, NULL, NULL, "users", NULL, NULL, "", "postgresql:///users" },
	{ "host=/tmp dbname=x user=me", DB_PG, "/tmp", NULL, "x", "me", NULL, "",
	  "postgresql://me@/x?host=/tmp" },
	{ "host = db.example.com port=5433 dbname='my db' sslmode=require", DB_PG,
	  "db.example.com", "5433", "my db", NULL, NULL, "sslmode=require",
	  "postgresql://db.example.com:5433/my%20db?sslmode=require" },
	{ "host=h password='a\\'b c' application_name=tarmac\\ test", DB_PG, "h", NULL, NULL,
	  NULL, "a'b c", "application_name=tarmac test",
	  "postgresql://:***@h?application_name=tarmac%20test" },
	{ "postgresql://h/db?options=-c%20search_path%3Dapp", DB_PG, "h", NULL, "db", NULL, NULL,
	  "options=-c search_path=app", "postgresql://h/db?options=-c%20search_path%3Dapp" },
};

static void join_params(const struct db_target *t, struct buf *b)
{
	for (size_t i = 0; i < t->nparams; i++)
		buf_addf(b, "%s%s=%s", i ? "&" : "", t->params[i].key, t->params[i].value);
}

static void test_parse_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
		const struct ok_case *c = &ok_cases[i];
		struct db_target t;
		struct err e = ERR_INIT;
		print_message("case %zu: %s\n", i, c->url);
		assert_int_equal(db_target_parse(c->url, &t, &e), ERR_OK);
		assert_int_equal(t.dialect, c->dialect);
		assert_true(t.host == c->host || (t.host && c->host && !strcmp(t.host, c->host)));
		assert_true(t.port == c->port || (t.port && c->port && !strcmp(t.port, c->port)));
		assert_true(t.dbname == c->dbname ||
			    (t.dbname && c->dbname && !strcmp(t.dbname, c->dbname)));
		assert_true(t.user == c->user || (t.user && c->user && !strcmp(t.user, c->user)));
		assert_true(t.password == c->password ||
			    (t.password && c->password && !strcmp(t.password, c->password)));
		struct buf p = BUF_INIT;
		join_params(&t, &p);
		assert_string_equal(p.ptr, c->params);
		buf_release(&p);
		char *d = db_target_display(&t);
		assert_string_equal(d, c->display);
		free(d);
		db_target_release(&t);
	}
}

/* 'it''s' is not libpq syntax for a quote: libpq reads 'it' then 's'
 * as a keyword without '=', which must be an error, not a guess. */
static void test_parse_conninfo_quotes(void **state)
{
	(void)state;
	struct db_target t;
	struct err e = ERR_INIT;
	assert_int_equal(db_target_parse("host=h dbname='my db' sslmode=require", &t, &e), ERR_OK);
	assert_string_equal(t.dbname, "my db");
	assert_int_equal(t.nparams, 1);
	assert_string_equal(t.params[0].key, "sslmode");
	db_target_release(&t);
	assert_int_equal(db_target_parse("host=h password='it''s'", &t, &e), ERR_USAGE);
	assert_null(strstr(e.msg, "it"));
}

struct bad_case {
	const char *url;
	const char *want;     /* substring of the message */
	const char *secret;   /* must not appear, NULL for none */
};

static const struct bad_case bad_cases[] = {
	{ "oracle://u:hunter2@h/db",
	  "unsupported database URL scheme 'oracle' in oracle://u:***@h/db: use postgresql://",
	  "hunter2" },
	{ "jdbc:sqlserver://h;user=u", "unsupported database URL scheme 'jdbc:sqlserver'", NULL },
	{ "localhost:5432", "cannot read database URL 'localhost:5432'", NULL },
	{ "host=h password=se://cret x", "missing '=' after 'x'", "se" },
	{ "postgresql://u:hunter2@h:99999/db", "invalid port in database URL "
	  "postgresql://u:***@h:99999/db", "hunter2" },
	{ "postgresql://h:x1/db", "invalid port", NULL },
	{ "postgresql://u:hunter2@h/d%zzb", "invalid percent-escape", "hunter2" },
	{ "postgresql://u:hun%zzter2@h/db", "invalid percent-escape", "zz" },
	{ "postgresql://h/d%4", "invalid percent-escape", NULL },
	{ "postgresql://h/d%00", "invalid percent-escape", NULL },
	{ "postgresql://[::1/db", "malformed IPv6 host", NULL },
	{ "postgresql://[::1]x/db", "malformed IPv6 host", NULL },
	{ "postgresql://::1/db", "needs brackets", NULL },
	{ "postgresql://h1:5432,h2:5432/db", "several hosts", NULL },
	{ "mysql://h/db?useSSL", "needs the form key=value", NULL },
	{ "mysql://h/db?user=u&password=hunter2&x", "password=***", "hunter2" },
	{ "jdbc:mysql://h/db?password=hunter2&=v", "parameter without a name", "hunter2" },
	{ "mysql://h/db?=password=hunter2", "parameter without a name", "hunter2" },
	{ "postgresql://u:hun/ter2@h:bad/db", "invalid port", "hun" },
	{ "host=h password=hunter2 dbname", "missing '=' after 'dbname'", "hunter2" },
	{ "host=h password='hunter2", "unterminated quote", "hunter2" },
};

static void test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad_case *c = &bad_cases[i];
		struct db_target t;
		struct err e = ERR_INIT;
		print_message("case %zu: %s\n", i, c->url);
		assert_int_equal(db_target_parse(c->url, &t, &e), ERR_USAGE);
		assert_int_equal(e.code, ERR_USAGE);
		if (!strstr(e.msg, c->want))
			fail_msg("message '%s' lacks '%s'", e.msg, c->want);
		if (c->secret && strstr(e.msg, c->secret))
			fail_msg("message '%s' leaks the password", e.msg);
		assert_null(t.host);
		assert_null(t.params);
	}
	struct db_target t;
	assert_int_equal(db_target_parse("nope", &t, NULL), ERR_USAGE); /* e may be NULL */
}

static void test_copy(void **state)
{
	(void)state;
	struct db_target t, c;
	assert_int_equal(db_target_parse("mysql://u:p@h:1/d?socket=/s", &t, NULL), ERR_OK);
	db_target_copy(&c, &t);
	db_target_release(&t);
	assert_string_equal(c.password, "p");
	assert_string_equal(db_target_param(&c, "SOCKET"), "/s");
	assert_null(db_target_param(&c, "ssl-mode"));
	char *d = db_target_display(&c);
	assert_string_equal(d, "mysql://u:***@h:1/d?socket=/s");
	free(d);
	db_target_release(&c);
	db_target_release(&c); /* released twice is harmless */
}

static void test_quote(void **state)
{
	(void)state;
	static const struct {
		enum db_dialect d;
		const char *in, *ident, *literal;
	} cases[] = {
		{ DB_PG, "plain", "\"plain\"", "'plain'" },
		{ DB_PG, "we\"ird", "\"we\"\"ird\"", "'we\"ird'" },
		{ DB_PG, "it's \\n", "\"it's \\n\"", "'it''s \\n'" },
		{ DB_MY, "plain", "`plain`", "'plain'" },
		{ DB_MY, "we`ird", "`we``ird`", "'we`ird'" },
		{ DB_MY, "it's \\n", "`it's \\n`", "'it''s \\\\n'" },
		{ DB_PG, "", "\"\"", "''" },
		{ DB_MY, "ünï", "`ünï`", "'ünï'" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;
		db_quote_ident(cases[i].d, &b, cases[i].in);
		assert_string_equal(b.ptr, cases[i].ident);
		buf_reset(&b);
		db_quote_literal(cases[i].d, &b, cases[i].in);
		assert_string_equal(b.ptr, cases[i].literal);
		buf_release(&b);
	}
}

static void test_param(void **state)
{
	(void)state;
	struct db pg = { .dialect = DB_PG }, my = { .dialect = DB_MY };
	const char *one = db_param(&pg, 1), *two = db_param(&pg, 2);
	assert_string_equal(one, "$1");
	assert_string_equal(two, "$2"); /* both stay valid at once */
	assert_string_equal(db_param(&pg, 9999), "$9999");
	assert_string_equal(db_param(&pg, 65535), "$65535");
	assert_string_equal(db_param(&my, 1), "?");
	assert_string_equal(db_param(&my, 7), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_conninfo_quotes),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_param),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
