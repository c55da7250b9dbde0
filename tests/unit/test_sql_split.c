/*
 * test_sql_split — the statement splitter against a table of SQL scripts
 * (both dialects: texts, positions, flags, COPY data, errors), and the
 * streaming contract: any windowing of the input gives exactly what one
 * final window gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "engine/sql_split.h"

/* ---- the driver ------------------------------------------------------ */

struct got_stmt {
	char *text;
	int line, col;
	bool non_tx, is_copy;
	char *copy;
	size_t copy_len;
};

struct run {
	struct got_stmt st[64];
	size_t n;
	enum sql_split_result last; /* SQL_SPLIT_END or SQL_SPLIT_ERROR */
	char err[512];
	char delim[32];
};

static void run_release(struct run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->st[i].text);
		free(r->st[i].copy);
	}
	r->n = 0;
}

static void record(struct run *r, const struct sql_stmt *st, const char *win, size_t len)
{
	struct got_stmt *g;

	assert_true(r->n < sizeof r->st / sizeof r->st[0]);
	/* The text and the data are borrowed from the window. */
	assert_true(st->text >= win && st->text + st->len <= win + len);
	if (st->is_copy)
		assert_true(st->copy_data >= win && st->copy_data + st->copy_len <= win + len);
	else
		assert_int_equal(st->copy_len, 0);
	g = &r->st[r->n++];
	g->text = xstrndup(st->text, st->len);
	g->line = st->line;
	g->col = st->col;
	g->non_tx = st->non_transactional;
	g->is_copy = st->is_copy;
	g->copy = st->is_copy ? xstrndup(st->copy_data, st->copy_len) : NULL;
	g->copy_len = st->copy_len;
}

/*
 * Splits in[0..len) the way the executor does: a window that starts at the
 * first unconsumed byte and grows by `step` bytes on NEED_MORE (step 0:
 * everything at once). Each call gets an exact-size copy of the window so
 * that AddressSanitizer sees any read past it.
 */
static void run_split(enum db_dialect d, int version, const char *in, size_t len, size_t step,
		      struct run *r)
{
	struct sql_splitter s;
	struct buf w = BUF_INIT;
	size_t fed = step ? 0 : len, calls = 0;

	memset(r, 0, sizeof *r);
	sql_splitter_init(&s, d, version);
	buf_add(&w, in, fed);
	for (;;) {
		struct sql_stmt st;
		struct err e = ERR_INIT;
		size_t used = SIZE_MAX;
		bool final = fed == len;
		char *win = xmalloc(w.len);
		enum sql_split_result res;

		memcpy(win, w.ptr, w.len);
		res = sql_split_next(&s, (struct sql_input){ win, w.len, final }, &st, &used, &e);
		assert_true(used <= w.len);
		assert_true(++calls < 4 * len + 16);
		if (res == SQL_SPLIT_STMT) {
			assert_true(used > 0);
			record(r, &st, win, w.len);
		}
		free(win);
		if (res == SQL_SPLIT_END)
			assert_int_equal(used, w.len);
		buf_consume(&w, used);
		if (res == SQL_SPLIT_NEED_MORE) {
			size_t add = len - fed < step ? len - fed : step;
			assert_false(final);
			buf_add(&w, in + fed, add);
			fed += add;
		} else if (res != SQL_SPLIT_STMT) {
			r->last = res;
			assert_true(res == SQL_SPLIT_END || res == SQL_SPLIT_ERROR);
			if (res == SQL_SPLIT_ERROR) {
				assert_int_equal(e.code, ERR_PARSE);
				memcpy(r->err, e.msg, sizeof r->err);
			}
			break;
		}
	}
	memcpy(r->delim, s.delim, sizeof r->delim);
	buf_release(&w);
}

static void assert_runs_equal(const struct run *a, const struct run *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->st[i].text, b->st[i].text);
		assert_int_equal(a->st[i].line, b->st[i].line);
		assert_int_equal(a->st[i].col, b->st[i].col);
		assert_int_equal(a->st[i].non_tx, b->st[i].non_tx);
		assert_int_equal(a->st[i].is_copy, b->st[i].is_copy);
		assert_int_equal(a->st[i].copy_len, b->st[i].copy_len);
		if (a->st[i].is_copy)
			assert_memory_equal(a->st[i].copy, b->st[i].copy, a->st[i].copy_len);
	}
	assert_int_equal(a->last, b->last);
	assert_string_equal(a->err, b->err);
	assert_string_equal(a->delim, b->delim);
}

/* Every window size from 1 to the input length gives the one-shot result. */
static void assert_streaming_equivalent(enum db_dialect d, int version, const char *in,
					size_t len, size_t max_step)
{
	struct run whole, part;

	run_split(d, version, in, len, 0, &whole);
	for (size_t step = 1; step <= max_step && step <= len; step++) {
		run_split(d, version, in, len, step, &part);
		assert_runs_equal(&whole, &part);
		run_release(&part);
	}
	run_release(&whole);
}

/* ---- the table ------------------------------------------------------- */

enum { NT = 1, CP = 2 }; /* non_transactional, is_copy */

struct want {
	const char *text;
	int line, col;
	unsigned flags;
	const char *copy;
};

struct split_case {
	const char *name;
	enum db_dialect dialect;
	int version;
	const char *in;
	struct want want[12];  /* up to the first .text == NULL */
	const char *error;     /* NULL: the script ends normally */
};

#define PLPGSQL_FN \
	"CREATE OR REPLACE FUNCTION bump(n integer) RETURNS integer AS $fn$\n" \
	"DECLARE\n" \
	"  r integer := 0; -- running; total\n" \
	"BEGIN\n" \
	"  IF n > 0 THEN\n" \
	"    r := n + 1;\n" \
	"  END IF;\n" \
	"  RAISE NOTICE 'done; %', r;\n" \
	"  RETURN r; /* $$ */\n" \
	"END;\n" \
	"$fn$ LANGUAGE plpgsql"

#define ATOMIC_FN \
	"CREATE FUNCTION sign_of(a int) RETURNS int LANGUAGE sql\n" \
	"BEGIN ATOMIC\n" \
	"  SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;\n" \
	"  SELECT 2;\n" \
	"END"

#define MY_PROC \
	"CREATE PROCEDURE p()\n" \
	"BEGIN\n" \
	"  SELECT 1;\n" \
	"  SELECT 'x$$y';\n" \
	"END"

#define MY_TRIGGER \
	"CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW\n" \
	"BEGIN\n" \
	"  IF NEW.a < 0 THEN\n" \
	"    SET NEW.a = 0;\n" \
	"  END IF;\n" \
	"  SET NEW.b = IF(NEW.a > 1, 1, 2);\n" \
	"  SET NEW.end = 1;\n" \
	"END"

#define MY_LOOPS \
	"CREATE DEFINER=`root`@`%` PROCEDURE fill(IN n INT)\n" \
	"BEGIN\n" \
	"  DECLARE i INT DEFAULT 0;\n" \
	"  lbl: LOOP\n" \
	"    SET i = i + 1;\n" \
	"    IF i > n THEN LEAVE lbl; END IF;\n" \
	"  END LOOP lbl;\n" \
	"  WHILE i > 0 DO SET i = i - 1; END WHILE;\n" \
	"  REPEAT SET i = i + 1; UNTIL i >= 3 END REPEAT;\n" \
	"  CASE i WHEN 3 THEN SELECT REPEAT('x', 2); ELSE BEGIN END; END CASE;\n" \
	"END"

#define MY_DUMP_TRIGGER \
	"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER trg " \
	"BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END */"

static struct split_case cases[] = {
	/* ---- PostgreSQL ---- */
	{ "pg_two_statements_with_positions", DB_PG, 0,
	  "SELECT 1;\nSELECT 2;\n",
	  { { "SELECT 1", 1, 1, 0, NULL }, { "SELECT 2", 2, 1, 0, NULL } }, NULL },
	{ "pg_semicolon_in_string", DB_PG, 0,
	  "INSERT INTO t VALUES ('a;b');  SELECT 2",
	  { { "INSERT INTO t VALUES ('a;b')", 1, 1, 0, NULL },
	    { "SELECT 2", 1, 32, 0, NULL } }, NULL },
	{ "pg_doubled_quote_escape", DB_PG, 0,
	  "SELECT 'it''s; fine';SELECT 2;",
	  { { "SELECT 'it''s; fine'", 1, 1, 0, NULL }, { "SELECT 2", 1, 22, 0, NULL } }, NULL },
	{ "pg_e_string_backslash_escapes", DB_PG, 0,
	  "SELECT E'it\\'s; fine';SELECT e'\\\\';SELECT E'a''\\';b';",
	  { { "SELECT E'it\\'s; fine'", 1, 1, 0, NULL }, { "SELECT e'\\\\'", 1, 23, 0, NULL },
	    { "SELECT E'a''\\';b'", 1, 36, 0, NULL } }, NULL },
	{ "pg_bit_and_hex_strings_take_backslashes", DB_PG, 0,
	  "SELECT X'1f', b'0\\';1';SELECT 2;",
	  { { "SELECT X'1f', b'0\\';1'", 1, 1, 0, NULL }, { "SELECT 2", 1, 24, 0, NULL } }, NULL },
	{ "pg_plain_and_unicode_strings_have_no_backslash_escape", DB_PG, 0,
	  "SELECT 'C:\\';SELECT U&'d\\0061t\\';SELECT 3;",
	  { { "SELECT 'C:\\'", 1, 1, 0, NULL }, { "SELECT U&'d\\0061t\\'", 1, 14, 0, NULL },
	    { "SELECT 3", 1, 34, 0, NULL } }, NULL },
	{ "pg_quoted_identifier_with_semicolon", DB_PG, 0,
	  "SELECT \"a;\"\"b\" FROM t;SELECT 2;",
	  { { "SELECT \"a;\"\"b\" FROM t", 1, 1, 0, NULL }, { "SELECT 2", 1, 23, 0, NULL } },
	  NULL },
	{ "pg_line_comment_hides_semicolon", DB_PG, 0,
	  "SELECT 1 -- not; here\n;SELECT 2;",
	  { { "SELECT 1 -- not; here", 1, 1, 0, NULL }, { "SELECT 2", 2, 2, 0, NULL } }, NULL },
	{ "pg_nested_block_comment", DB_PG, 0,
	  "SELECT /* a /* b; */ c; */ 1;\nSELECT 2;",
	  { { "SELECT /* a /* b; */ c; */ 1", 1, 1, 0, NULL }, { "SELECT 2", 2, 1, 0, NULL } },
	  NULL },
	{ "pg_leading_comments_are_skipped", DB_PG, 0,
	  "-- head\n/* c; */\n  SELECT 1;\n-- tail\n",
	  { { "SELECT 1", 3, 3, 0, NULL } }, NULL },
	{ "pg_dollar_quoted_body", DB_PG, 0,
	  "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nSELECT 2;",
	  { { "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", 1, 1, 0, NULL },
	    { "SELECT 2", 2, 1, 0, NULL } }, NULL },
	{ "pg_tagged_dollar_quote_with_inner_dollar_quote", DB_PG, 0,
	  "DO $body$\nBEGIN\n  EXECUTE $$SELECT ';'$$;\nEND\n$body$;\nSELECT 2;",
	  { { "DO $body$\nBEGIN\n  EXECUTE $$SELECT ';'$$;\nEND\n$body$", 1, 1, 0, NULL },
	    { "SELECT 2", 6, 1, 0, NULL } }, NULL },
	{ "pg_parameter_refs_and_dollar_identifiers_are_not_quotes", DB_PG, 0,
	  "PREPARE p(int) AS SELECT $1 + a$b$;\nEXECUTE p(1);",
	  { { "PREPARE p(int) AS SELECT $1 + a$b$", 1, 1, 0, NULL },
	    { "EXECUTE p(1)", 2, 1, 0, NULL } }, NULL },
	{ "pg_dollar_tag_may_hold_utf8_letters", DB_PG, 0,
	  "SELECT $\xC3\xA9$ ; $$ $\xC3\xA9$;SELECT 2;",
	  { { "SELECT $\xC3\xA9$ ; $$ $\xC3\xA9$", 1, 1, 0, NULL }, { "SELECT 2", 1, 23, 0, NULL } },
	  NULL },
	{ "pg_plpgsql_function_body", DB_PG, 0,
	  PLPGSQL_FN ";\nSELECT bump(1);",
	  { { PLPGSQL_FN, 1, 1, 0, NULL }, { "SELECT bump(1)", 12, 1, 0, NULL } }, NULL },
	{ "pg_begin_atomic_body_with_case", DB_PG, 0,
	  ATOMIC_FN ";\nSELECT 3;",
	  { { ATOMIC_FN, 1, 1, 0, NULL }, { "SELECT 3", 6, 1, 0, NULL } }, NULL },
	{ "pg_transaction_begin_and_end_are_plain_statements", DB_PG, 0,
	  "BEGIN;\nSELECT CASE WHEN true THEN 1 END;\nEND;",
	  { { "BEGIN", 1, 1, 0, NULL }, { "SELECT CASE WHEN true THEN 1 END", 2, 1, 0, NULL },
	    { "END", 3, 1, 0, NULL } }, NULL },
	{ "pg_semicolons_inside_parentheses", DB_PG, 0,
	  "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); "
	  "INSERT INTO b VALUES (2));SELECT 1;",
	  { { "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); "
	      "INSERT INTO b VALUES (2))", 1, 1, 0, NULL },
	    { "SELECT 1", 1, 94, 0, NULL } }, NULL },
	{ "pg_copy_from_stdin_with_data", DB_PG, 0,
	  "COPY t (a, b) FROM stdin;\n1\tx\n2\ty;z\n\\.\nSELECT 1;",
	  { { "COPY t (a, b) FROM stdin", 1, 1, CP, "1\tx\n2\ty;z\n" },
	    { "SELECT 1", 5, 1, 0, NULL } }, NULL },
	{ "pg_copy_skips_rest_of_line_and_takes_empty_data", DB_PG, 0,
	  "copy t from STDIN; -- data follows\n  \\.  \nSELECT 1;",
	  { { "copy t from STDIN", 1, 1, CP, "" }, { "SELECT 1", 3, 1, 0, NULL } }, NULL },
	{ "pg_copy_with_crlf_lines", DB_PG, 0,
	  "COPY t FROM STDIN;\r\n1\r\n\\.\r\nSELECT 1;",
	  { { "COPY t FROM STDIN", 1, 1, CP, "1\r\n" }, { "SELECT 1", 4, 1, 0, NULL } }, NULL },
	{ "pg_copy_terminator_as_last_line_without_newline", DB_PG, 0,
	  "COPY t FROM STDIN;\n1\n\\.",
	  { { "COPY t FROM STDIN", 1, 1, CP, "1\n" } }, NULL },
	{ "pg_copy_to_stdout_is_a_plain_statement", DB_PG, 0,
	  "COPY t TO STDOUT;\nCOPY (SELECT 'from stdin') TO STDOUT;",
	  { { "COPY t TO STDOUT", 1, 1, 0, NULL },
	    { "COPY (SELECT 'from stdin') TO STDOUT", 2, 1, 0, NULL } }, NULL },
	{ "pg_create_index_concurrently_is_non_transactional", DB_PG, 0,
	  "create unique index\n  concurrently i on t(a);\nCREATE INDEX i2 ON t(b);\n"
	  "DROP INDEX CONCURRENTLY i;",
	  { { "create unique index\n  concurrently i on t(a)", 1, 1, NT, NULL },
	    { "CREATE INDEX i2 ON t(b)", 3, 1, 0, NULL },
	    { "DROP INDEX CONCURRENTLY i", 4, 1, NT, NULL } }, NULL },
	{ "pg_other_non_transactional_statements", DB_PG, 0,
	  "VACUUM t;\nALTER SYSTEM SET x = 1;\nCREATE DATABASE d;\nDROP TABLESPACE s;\n"
	  "REINDEX VERBOSE DATABASE d;\nDISCARD ALL;\nCREATE /* x */ SUBSCRIPTION s;\n"
	  "REINDEX TABLE t;\n/* c */ vacuum;",
	  { { "VACUUM t", 1, 1, NT, NULL }, { "ALTER SYSTEM SET x = 1", 2, 1, NT, NULL },
	    { "CREATE DATABASE d", 3, 1, NT, NULL }, { "DROP TABLESPACE s", 4, 1, NT, NULL },
	    { "REINDEX VERBOSE DATABASE d", 5, 1, NT, NULL }, { "DISCARD ALL", 6, 1, NT, NULL },
	    { "CREATE /* x */ SUBSCRIPTION s", 7, 1, NT, NULL },
	    { "REINDEX TABLE t", 8, 1, 0, NULL }, { "vacuum", 9, 9, NT, NULL } }, NULL },
	{ "pg_alter_type_add_value_before_12_is_non_transactional", DB_PG, 110005,
	  "ALTER TYPE mood ADD VALUE 'ok';\nALTER TYPE mood RENAME VALUE 'a' TO 'b';",
	  { { "ALTER TYPE mood ADD VALUE 'ok'", 1, 1, NT, NULL },
	    { "ALTER TYPE mood RENAME VALUE 'a' TO 'b'", 2, 1, 0, NULL } }, NULL },
	{ "pg_alter_type_add_value_from_12_is_transactional", DB_PG, 150004,
	  "ALTER TYPE mood ADD VALUE 'ok';",
	  { { "ALTER TYPE mood ADD VALUE 'ok'", 1, 1, 0, NULL } }, NULL },
	{ "pg_alter_type_add_value_unknown_version_is_transactional", DB_PG, 0,
	  "ALTER TYPE mood ADD VALUE 'ok';",
	  { { "ALTER TYPE mood ADD VALUE 'ok'", 1, 1, 0, NULL } }, NULL },
	{ "pg_last_statement_needs_no_delimiter", DB_PG, 0,
	  "SELECT 1;\nSELECT 2 -- end",
	  { { "SELECT 1", 1, 1, 0, NULL }, { "SELECT 2 -- end", 2, 1, 0, NULL } }, NULL },
	{ "pg_comment_only_remainder_is_no_statement", DB_PG, 0,
	  "SELECT 1;\n-- done\n/* end */\n",
	  { { "SELECT 1", 1, 1, 0, NULL } }, NULL },
	{ "pg_empty_statements_are_skipped", DB_PG, 0,
	  ";;SELECT 1;;\n;",
	  { { "SELECT 1", 1, 3, 0, NULL } }, NULL },
	{ "pg_lf_crlf_and_cr_line_breaks", DB_PG, 0,
	  "SELECT 1;\r\nSELECT 2;\rSELECT 3;\n\tSELECT 4;",
	  { { "SELECT 1", 1, 1, 0, NULL }, { "SELECT 2", 2, 1, 0, NULL },
	    { "SELECT 3", 3, 1, 0, NULL }, { "SELECT 4", 4, 2, 0, NULL } }, NULL },
	{ "pg_empty_input_has_no_statement", DB_PG, 0, " \n\t", { { NULL, 0, 0, 0, NULL } }, NULL },
	{ "pg_error_unterminated_dollar_quote", DB_PG, 0,
	  "SELECT 1;\nCREATE FUNCTION f() AS $fn$ SELECT 1;\n",
	  { { "SELECT 1", 1, 1, 0, NULL } },
	  "line 2 col 24: unterminated dollar-quoted string $fn$ starting here" },
	{ "pg_error_unterminated_string", DB_PG, 0,
	  "SELECT 1;\n  SELECT 'abc;\n",
	  { { "SELECT 1", 1, 1, 0, NULL } },
	  "line 2 col 10: unterminated string literal starting here" },
	{ "pg_error_unterminated_escape_string", DB_PG, 0,
	  "SELECT E'abc\\';",
	  { { NULL, 0, 0, 0, NULL } },
	  "line 1 col 8: unterminated string literal starting here" },
	{ "pg_error_unterminated_quoted_identifier", DB_PG, 0,
	  "SELECT \"abc;",
	  { { NULL, 0, 0, 0, NULL } },
	  "line 1 col 8: unterminated quoted identifier starting here" },
	{ "pg_error_unterminated_nested_comment", DB_PG, 0,
	  "SELECT 1;\n/* open /* nested */",
	  { { "SELECT 1", 1, 1, 0, NULL } },
	  "line 2 col 1: unterminated comment starting here" },
	{ "pg_error_open_parenthesis", DB_PG, 0,
	  "SELECT 1;\n  SELECT (1,\n2;",
	  { { "SELECT 1", 1, 1, 0, NULL } },
	  "line 2 col 3: Incomplete statement at line 2 col 3: SELECT (1, 2;" },
	{ "pg_error_open_begin_atomic_block", DB_PG, 0,
	  "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;",
	  { { NULL, 0, 0, 0, NULL } },
	  "line 1 col 1: Incomplete statement at line 1 col 1: "
	  "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SE" },
	{ "pg_error_copy_without_terminator", DB_PG, 0,
	  "SELECT 1;\nCOPY t FROM STDIN;\n1\n2\n",
	  { { "SELECT 1", 1, 1, 0, NULL } },
	  "line 2 col 1: COPY data not terminated by a \\. line" },

	/* ---- MariaDB / MySQL ---- */
	{ "my_delimiter_procedure_then_reset", DB_MY, 0,
	  "DELIMITER $$\n" MY_PROC "$$\nDELIMITER ;\nCALL p();\n",
	  { { MY_PROC, 2, 1, 0, NULL }, { "CALL p()", 8, 1, 0, NULL } }, NULL },
	{ "my_delimiter_is_case_insensitive_and_persists", DB_MY, 0,
	  "delimiter //\nSELECT 1//\nSELECT 2 // DELIMITER ;\nSELECT 3;",
	  { { "SELECT 1", 2, 1, 0, NULL }, { "SELECT 2", 3, 1, 0, NULL },
	    { "SELECT 3", 4, 1, 0, NULL } }, NULL },
	{ "my_comments_work_with_slash_delimiter", DB_MY, 0,
	  "DELIMITER //\n/* a // b */ SELECT 1 /* c // */ //",
	  { { "SELECT 1 /* c // */", 2, 14, 0, NULL } }, NULL },
	{ "my_hash_comments", DB_MY, 0,
	  "# header; x\nSELECT 1; # trailing; comment\nSELECT 2;",
	  { { "SELECT 1", 2, 1, 0, NULL }, { "SELECT 2", 3, 1, 0, NULL } }, NULL },
	{ "my_double_dash_needs_a_space", DB_MY, 0,
	  "SELECT 1--2;\nSELECT 3;-- c;\n--\tx;\nSELECT 4;",
	  { { "SELECT 1--2", 1, 1, 0, NULL }, { "SELECT 3", 2, 1, 0, NULL },
	    { "SELECT 4", 4, 1, 0, NULL } }, NULL },
	{ "my_backtick_identifiers", DB_MY, 0,
	  "SELECT `a;b` FROM `t``;`;SELECT 2;",
	  { { "SELECT `a;b` FROM `t``;`", 1, 1, 0, NULL }, { "SELECT 2", 1, 26, 0, NULL } },
	  NULL },
	{ "my_strings_with_backslash_and_doubled_quotes", DB_MY, 0,
	  "INSERT INTO t VALUES ('it\\'s;', \"q\\\";\", 'a''b;');SELECT 2;",
	  { { "INSERT INTO t VALUES ('it\\'s;', \"q\\\";\", 'a''b;')", 1, 1, 0, NULL },
	    { "SELECT 2", 1, 50, 0, NULL } }, NULL },
	{ "my_executable_comments_are_kept", DB_MY, 0,
	  "/*!40101 SET NAMES utf8 */;\n/* plain; */ SELECT 1 /*M!100100 , 2 */;",
	  { { "/*!40101 SET NAMES utf8 */", 1, 1, 0, NULL },
	    { "SELECT 1 /*M!100100 , 2 */", 2, 14, 0, NULL } }, NULL },
	{ "my_block_comments_do_not_nest", DB_MY, 0,
	  "SELECT /* a /* b; */ 1;SELECT 2;",
	  { { "SELECT /* a /* b; */ 1", 1, 1, 0, NULL }, { "SELECT 2", 1, 24, 0, NULL } },
	  NULL },
	{ "my_trigger_body_with_default_delimiter", DB_MY, 0,
	  MY_TRIGGER ";\nSELECT 1;",
	  { { MY_TRIGGER, 1, 1, 0, NULL }, { "SELECT 1", 9, 1, 0, NULL } }, NULL },
	{ "my_definer_procedure_with_loops_and_case", DB_MY, 0,
	  MY_LOOPS ";\nSELECT 2;",
	  { { MY_LOOPS, 1, 1, 0, NULL }, { "SELECT 2", 12, 1, 0, NULL } }, NULL },
	{ "my_function_without_begin_uses_if_function", DB_MY, 0,
	  "CREATE OR REPLACE FUNCTION f(a INT) RETURNS INT DETERMINISTIC "
	  "RETURN IF(a > 0, 1, 0);\nSELECT f(1);",
	  { { "CREATE OR REPLACE FUNCTION f(a INT) RETURNS INT DETERMINISTIC "
	      "RETURN IF(a > 0, 1, 0)", 1, 1, 0, NULL },
	    { "SELECT f(1)", 2, 1, 0, NULL } }, NULL },
	{ "my_plain_statements_ignore_begin_and_end", DB_MY, 0,
	  "CREATE TABLE event (id INT, `end` INT);\nBEGIN;\n"
	  "SELECT CASE WHEN 1 THEN 2 END;\nCOMMIT;",
	  { { "CREATE TABLE event (id INT, `end` INT)", 1, 1, 0, NULL },
	    { "BEGIN", 2, 1, 0, NULL }, { "SELECT CASE WHEN 1 THEN 2 END", 3, 1, 0, NULL },
	    { "COMMIT", 4, 1, 0, NULL } }, NULL },
	{ "my_dump_trigger_with_double_semicolon_delimiter", DB_MY, 0,
	  "DELIMITER ;;\n" MY_DUMP_TRIGGER ";;\nDELIMITER ;\n",
	  { { MY_DUMP_TRIGGER, 2, 1, 0, NULL } }, NULL },
	{ "my_custom_delimiter_inside_words", DB_MY, 0,
	  "DELIMITER $$\nSELECT 1$$SELECT 'a$$b'$$",
	  { { "SELECT 1", 2, 1, 0, NULL }, { "SELECT 'a$$b'", 2, 11, 0, NULL } }, NULL },
	{ "my_star_delimiter_does_not_cut_executable_comment", DB_MY, 0,
	  "DELIMITER *\nSELECT 1 /*!2 */ *SELECT 3",
	  { { "SELECT 1 /*!2 */", 2, 1, 0, NULL }, { "SELECT 3", 2, 19, 0, NULL } }, NULL },
	{ "my_hash_delimiter_disables_hash_comments", DB_MY, 0,
	  "DELIMITER #\nSELECT 1#\nSELECT 2 #",
	  { { "SELECT 1", 2, 1, 0, NULL }, { "SELECT 2", 3, 1, 0, NULL } }, NULL },
	{ "my_never_non_transactional", DB_MY, 0,
	  "VACUUM;CREATE INDEX CONCURRENTLY i ON t(a);",
	  { { "VACUUM", 1, 1, 0, NULL }, { "CREATE INDEX CONCURRENTLY i ON t(a)", 1, 8, 0, NULL } },
	  NULL },
	{ "my_last_statement_with_comment_tail", DB_MY, 0,
	  "SELECT 1;\nSELECT 2 # no delimiter",
	  { { "SELECT 1", 1, 1, 0, NULL }, { "SELECT 2 # no delimiter", 2, 1, 0, NULL } }, NULL },
	{ "my_error_unterminated_string", DB_MY, 0,
	  "SELECT 1;\nSELECT 'abc\\';",
	  { { "SELECT 1", 1, 1, 0, NULL } },
	  "line 2 col 8: unterminated string literal starting here" },
	{ "my_error_empty_delimiter", DB_MY, 0,
	  "SELECT 1;\nDELIMITER   \nSELECT 2;",
	  { { "SELECT 1", 1, 1, 0, NULL } },
	  "line 2 col 1: DELIMITER needs a delimiter on the same line, e.g. DELIMITER $$" },
	{ "my_error_delimiter_too_long", DB_MY, 0,
	  "  DELIMITER 0123456789abcdef0123456789abcdef\n",
	  { { NULL, 0, 0, 0, NULL } },
	  "line 1 col 3: DELIMITER is too long: a delimiter has at most 31 bytes" },
	{ "my_error_open_procedure_block", DB_MY, 0,
	  "CREATE PROCEDURE p() BEGIN SELECT 1;",
	  { { NULL, 0, 0, 0, NULL } },
	  "line 1 col 1: Incomplete statement at line 1 col 1: CREATE PROCEDURE p() BEGIN SELECT 1;" },
	{ "my_error_unterminated_comment", DB_MY, 0,
	  "SELECT 1 /* x",
	  { { NULL, 0, 0, 0, NULL } },
	  "line 1 col 10: unterminated comment starting here" },
};

#define N_CASES (sizeof cases / sizeof cases[0])

/* One table row: the one-shot split is what the row says, and any windowing agrees. */
static void test_split_case(void **state)
{
	const struct split_case *c = *state;
	size_t len = strlen(c->in), n = 0;
	struct run r;

	run_split(c->dialect, c->version, c->in, len, 0, &r);
	for (; n < sizeof c->want / sizeof c->want[0] && c->want[n].text; n++) {
		const struct want *w = &c->want[n];
		assert_true(n < r.n);
		assert_string_equal(r.st[n].text, w->text);
		assert_int_equal(r.st[n].line, w->line);
		assert_int_equal(r.st[n].col, w->col);
		assert_int_equal(r.st[n].non_tx, (w->flags & NT) != 0);
		assert_int_equal(r.st[n].is_copy, (w->flags & CP) != 0);
		if (w->flags & CP)
			assert_string_equal(r.st[n].copy, w->copy);
	}
	assert_int_equal(r.n, n);
	if (c->error) {
		assert_int_equal(r.last, SQL_SPLIT_ERROR);
		assert_string_equal(r.err, c->error);
	} else {
		assert_int_equal(r.last, SQL_SPLIT_END);
	}
	run_release(&r);
	assert_streaming_equivalent(c->dialect, c->version, c->in, len, len);
}

/* ---- the streaming contract, call by call ------------------------------ */

static void test_need_more_until_the_delimiter(void **state)
{
	struct sql_splitter s;
	struct sql_stmt st;
	size_t used = 99;

	(void)state;
	sql_splitter_init(&s, DB_PG, 0);
	assert_int_equal(sql_split_next(&s, (struct sql_input){ "", 0, false }, &st, &used, NULL), SQL_SPLIT_NEED_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(sql_split_next(&s, (struct sql_input){ NULL, 0, true }, &st, &used, NULL), SQL_SPLIT_END);
	assert_int_equal(sql_split_next(&s, (struct sql_input){ "SELECT 1", 8, false }, &st, &used, NULL),
			 SQL_SPLIT_NEED_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(sql_split_next(&s, (struct sql_input){ "SELECT 1;", 9, false }, &st, &used, NULL),
			 SQL_SPLIT_STMT);
	assert_int_equal(used, 9);
	assert_int_equal(st.len, 8);
	assert_int_equal(s.col, 10);
	/* A COPY needs its terminator line before it is a statement. */
	assert_int_equal(sql_split_next(&s, (struct sql_input){ "COPY t FROM STDIN;\n1\n", 21, false }, &st, &used, NULL),
			 SQL_SPLIT_NEED_MORE);
	assert_int_equal(used, 0);
}

static void test_need_more_consumes_only_what_is_passed(void **state)
{
	static const char in[] = "  -- c\n /* d */ \r";
	struct sql_splitter s;
	struct sql_stmt st;
	size_t used;

	(void)state;
	sql_splitter_init(&s, DB_PG, 0);
	/* An open line comment may continue: only the blanks before it go. */
	assert_int_equal(sql_split_next(&s, (struct sql_input){ in, 5, false }, &st, &used, NULL), SQL_SPLIT_NEED_MORE);
	assert_int_equal(used, 2);
	assert_int_equal(s.line, 1);
	assert_int_equal(s.col, 3);
	/* Comments are passed, but not the \r, whose \n may follow. */
	assert_int_equal(sql_split_next(&s, (struct sql_input){ in + 2, sizeof in - 3, false }, &st, &used, NULL),
			 SQL_SPLIT_NEED_MORE);
	assert_int_equal(used, sizeof in - 4);
	assert_int_equal(s.line, 2);
	assert_int_equal(s.col, 10);
	assert_int_equal(sql_split_next(&s, (struct sql_input){ "\r\nSELECT 1", 10, true }, &st, &used, NULL),
			 SQL_SPLIT_STMT);
	assert_int_equal(st.line, 3);
	assert_int_equal(st.col, 1);
}

static void test_delimiter_directive_is_consumed_and_persists(void **state)
{
	static const char in[] = "DELIMITER $$\nSELECT 1;";
	struct sql_splitter s;
	struct sql_stmt st;
	size_t used;

	(void)state;
	sql_splitter_init(&s, DB_MY, 0);
	assert_string_equal(s.delim, ";");
	assert_int_equal(sql_split_next(&s, (struct sql_input){ in, 12, false }, &st, &used, NULL), SQL_SPLIT_NEED_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(sql_split_next(&s, (struct sql_input){ in, sizeof in - 1, false }, &st, &used, NULL),
			 SQL_SPLIT_NEED_MORE);
	assert_int_equal(used, 13);
	assert_string_equal(s.delim, "$$");
	assert_int_equal(s.line, 2);
	assert_int_equal(sql_split_next(&s, (struct sql_input){ in + 13, sizeof in - 14, true }, &st, &used, NULL),
			 SQL_SPLIT_STMT);
	assert_int_equal(st.len, 9); /* "SELECT 1;" — `;` is no delimiter now */
}

static void test_error_message_names_the_construct_start(void **state)
{
	struct sql_splitter s;
	struct sql_stmt st;
	struct err e = ERR_INIT;
	size_t used;

	(void)state;
	sql_splitter_init(&s, DB_PG, 0);
	s.line = 40;
	s.col = 7;
	assert_int_equal(sql_split_next(&s, (struct sql_input){ "x $a$ ;\n\n", 9, true }, &st, &used, &e),
			 SQL_SPLIT_ERROR);
	assert_int_equal(e.code, ERR_PARSE);
	assert_string_equal(e.msg, "line 40 col 9: unterminated dollar-quoted string $a$ starting here");
}

/* Larger scripts, every window size up to 97 bytes and a few bigger. */
static void test_streaming_equals_one_shot_on_larger_scripts(void **state)
{
	struct buf pg = BUF_INIT, my = BUF_INIT;
	int i;

	(void)state;
	buf_adds(&pg, "-- seed\r\nINSERT INTO t VALUES ");
	for (i = 0; i < 40; i++)
		buf_addf(&pg, "%s(%d, 'v;%d''x', E'\\'%d', $$d;$$, \"c\")", i ? "," : "", i, i, i);
	buf_adds(&pg, ";\nCOPY t FROM STDIN;\n");
	for (i = 0; i < 30; i++)
		buf_addf(&pg, "%d\tline %d;\\.x\n", i, i);
	buf_adds(&pg, " \\. \r\n" PLPGSQL_FN ";\n" ATOMIC_FN ";\nVACUUM;\n/* tail */");

	buf_adds(&my, "/*!40101 SET NAMES utf8 */;\nINSERT INTO t VALUES ");
	for (i = 0; i < 40; i++)
		buf_addf(&my, "%s(%d,'it\\'s;%d',\"q\\\\\",`c``;`) # r%d\n", i ? "," : "", i, i, i);
	buf_adds(&my, ";\n" MY_TRIGGER ";\n" MY_LOOPS ";\nDELIMITER ;;\n" MY_DUMP_TRIGGER
		 ";;\nDELIMITER $$\n" MY_PROC "$$\nDELIMITER ;\nSELECT 1 -- end");

	assert_streaming_equivalent(DB_PG, 110000, pg.ptr, pg.len, 97);
	assert_streaming_equivalent(DB_MY, 0, my.ptr, my.len, 97);
	for (size_t step = 128; step < 4096; step *= 3) {
		struct run a, b;
		run_split(DB_PG, 0, pg.ptr, pg.len, 0, &a);
		run_split(DB_PG, 0, pg.ptr, pg.len, step, &b);
		assert_runs_equal(&a, &b);
		assert_int_equal(a.n, 5);
		run_release(&a);
		run_release(&b);
	}
	buf_release(&pg);
	buf_release(&my);
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_need_more_until_the_delimiter),
	cmocka_unit_test(test_need_more_consumes_only_what_is_passed),
	cmocka_unit_test(test_delimiter_directive_is_consumed_and_persists),
	cmocka_unit_test(test_error_message_names_the_construct_start),
	cmocka_unit_test(test_streaming_equals_one_shot_on_larger_scripts),
};

#define N_FIXED (sizeof fixed_tests / sizeof fixed_tests[0])

int main(void)
{
	/* One named test per table row, then the call-by-call tests. */
	static struct CMUnitTest tests[N_CASES + N_FIXED];

	for (size_t i = 0; i < N_CASES; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = test_split_case;
		tests[i].initial_state = &cases[i];
	}
	memcpy(tests + N_CASES, fixed_tests, sizeof fixed_tests);
	return _cmocka_run_group_tests("sql_split", tests, N_CASES + N_FIXED, NULL, NULL);
}
