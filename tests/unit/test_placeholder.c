/*
 * test_placeholder — Flyway's PlaceholderReplacingReader (spec §1.4):
 * plain text substitution, names case-insensitive, the look-ahead quirk
 * (`$${x}` stays), empty values removed, `flyway:` defaults, Flyway's
 * messages for unknown and unpopulated names, unterminated placeholders,
 * custom prefix/suffix; streaming (input fed in pieces of every size gives
 * the one-shot result); and the repeatable checksum rule through
 * eng_resolve (checksum after replacement, raw one kept as equivalent).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "engine/internal.h"

/* ---- values -------------------------------------------------------------- */

static char k_x[] = "x", v_x[] = "1", k_empty[] = "empty", v_empty[] = "";
static char k_nested[] = "nested", v_nested[] = "${x}";
static char k_multi[] = "multi", v_multi[] = "a\nb\r\nc";
static char k_schema[] = "schema_name", v_schema[] = "app";
static char k_dollar[] = "dollar", v_dollar[] = "$";
static struct eng_kv kv_x = { k_x, v_x };
static struct eng_kv kv_empty = { k_empty, v_empty };
static struct eng_kv kv_nested = { k_nested, v_nested };
static struct eng_kv kv_multi = { k_multi, v_multi };
static struct eng_kv kv_schema_name = { k_schema, v_schema };
static struct eng_kv kv_dollar = { k_dollar, v_dollar };
static void *user_items[] = { &kv_x, &kv_empty, &kv_nested, &kv_multi, &kv_schema_name,
			      &kv_dollar };
static const struct vec user_vec = { user_items, 6, 6 };

static struct ph_values values(const char *prefix, const char *suffix)
{
	struct ph_values v = {
		.user = &user_vec,
		.prefix = prefix, .suffix = suffix, .separator = ":",
		.default_schema = "public", .user_name = "flyway_user", .database = "users",
		.timestamp = "2024-01-02 03:04:05", .filename = "R__views.sql",
		.working_dir = "/work", .table = "flyway_schema_history",
		.environment = "default",
	};
	return v;
}

/* ---- one-shot table ------------------------------------------------------ */

struct ph_case {
	const char *prefix, *suffix; /* NULL: ${ } */
	const char *in;
	const char *out;  /* NULL: an error */
	const char *msg;  /* the error's exact message */
};

#define NO_VALUE(name) "No value provided for placeholder: " name ".  Check your configuration!"

static const struct ph_case cases[] = {
	/* spec §1.4 */
	{ NULL, NULL, "A ${x} B $${x} C ${X}", "A 1 B $${x} C 1", NULL },
	{ NULL, NULL, "${x}${x}", "11", NULL },
	{ NULL, NULL, "a${empty}b", "ab", NULL },
	{ NULL, NULL, "${EMPTY}", "", NULL },
	{ NULL, NULL, "${nested}", "${x}", NULL },           /* values are not rescanned */
	{ NULL, NULL, "${multi};", "a\nb\r\nc;", NULL },
	{ NULL, NULL, "${dollar}{x}", "${x}", NULL },
	{ NULL, NULL, "${Schema_Name}.t", "app.t", NULL },
	{ NULL, NULL, "-- ${x} in a comment\n'${x}' \"${x}\"", "-- 1 in a comment\n'1' \"1\"", NULL },
	{ NULL, NULL, "no placeholders at all", "no placeholders at all", NULL },
	{ NULL, NULL, "", "", NULL },
	{ NULL, NULL, "$", "$", NULL },
	{ NULL, NULL, "$$", "$$", NULL },
	{ NULL, NULL, "a$", "a$", NULL },
	{ NULL, NULL, "$x${x}", "$x1", NULL },
	{ NULL, NULL, "$$${x}", "$$1", NULL },
	{ NULL, NULL, "$$$${x}", "$$$${x}", NULL },
	{ NULL, NULL, "{x}", "{x}", NULL },
	{ NULL, NULL, "${x}}", "1}", NULL },
	{ NULL, NULL, "}${x}{", "}1{", NULL },
	{ NULL, NULL, "$ {x}", "$ {x}", NULL },
	{ NULL, NULL, "\xc3\xa9${x}\xe2\x82\xac", "\xc3\xa9" "1\xe2\x82\xac", NULL },
	/* the text up to the first suffix is the name, whatever it holds */
	{ NULL, NULL, "${ x }", NULL, NO_VALUE("${ x }") },
	{ NULL, NULL, "${x\n}", NULL, NO_VALUE("${x\n}") },
	{ NULL, NULL, "${${x}}", NULL, NO_VALUE("${${x}") },
	{ NULL, NULL, "${}", NULL, NO_VALUE("${}") },
	{ NULL, NULL, "ok ${nope} ok", NULL, NO_VALUE("${nope}") },
	{ NULL, NULL, "${NoPe}", NULL, NO_VALUE("${NoPe}") },
	/* flyway: defaults (spec §1.4) */
	{ NULL, NULL, "${flyway:defaultSchema}", "public", NULL },
	{ NULL, NULL, "${flyway:user}", "flyway_user", NULL },
	{ NULL, NULL, "${flyway:database}", "users", NULL },
	{ NULL, NULL, "${flyway:timestamp}", "2024-01-02 03:04:05", NULL },
	{ NULL, NULL, "${flyway:filename}", "R__views.sql", NULL },
	{ NULL, NULL, "${flyway:workingDirectory}", "/work", NULL },
	{ NULL, NULL, "${flyway:table}", "flyway_schema_history", NULL },
	{ NULL, NULL, "${flyway:environment}", "default", NULL },
	{ NULL, NULL, "${FLYWAY:TABLE}", "flyway_schema_history", NULL },
	{ NULL, NULL, "${flyway:defaultschema}", "public", NULL },
	{ NULL, NULL, "${flyway:nope}", NULL,
	  "Failed to populate value for default placeholder: ${flyway:nope}" },
	{ NULL, NULL, "${flyway:}", NULL,
	  "Failed to populate value for default placeholder: ${flyway:}" },
	/* Flyway tests startsWith("flyway:") case-sensitively for the message */
	{ NULL, NULL, "${FLYWAY:nope}", NULL, NO_VALUE("${FLYWAY:nope}") },
	{ NULL, NULL, "${flyway}", NULL, NO_VALUE("${flyway}") },
	/* unterminated: read to the end, drop suffix-length characters */
	{ NULL, NULL, "${unterminated\n", NULL, NO_VALUE("${unterminated}") },
	{ NULL, NULL, "select 1; ${x", NULL, NO_VALUE("${}") },
	{ NULL, NULL, "${x}${xy", "11", NULL },            /* "xy" - 1 char = "x": known */
	{ NULL, NULL, "a ${x\n", "a 1", NULL },
	/* custom prefix and suffix */
	{ "#[", "]", "#[x] ${x} ##[x] #[X]", "1 ${x} ##[x] 1", NULL },
	{ "#[", "]", "#[flyway:table]", "flyway_schema_history", NULL },
	{ "#[", "]", "#[nope]", NULL, "No value provided for placeholder: #[nope].  Check your configuration!" },
	{ "#[", "]", "#[flyway:nope]", NULL, "Failed to populate value for default placeholder: #[flyway:nope]" },
	{ "@", "@", "@x@@x@", "11", NULL },
	{ "@", "@", "a@@b", NULL, "No value provided for placeholder: @@.  Check your configuration!" },
	/* a longer prefix: the look-ahead stops at the first character that
	 * does not match, so only that much is emitted unchecked */
	{ "${{", "}}", "${{x}}", "1", NULL },
	{ "${{", "}}", "$x${{x}}", "$x1", NULL },
	{ "${{", "}}", "${x${{x}}", "${x1", NULL },
	{ "${{", "}}", "$${{x}}", "$${{x}}", NULL },
	{ "${{", "}}", "${{x}}}", "1}", NULL },
	{ "<<<", ">>>", "<<x<<<x>>>", "<<x1", NULL },
	{ "<<<", ">>>", "<x<<<x>>>", "<x1", NULL },
	/* unterminated with a two-character suffix drops two characters */
	{ "${{", "}}", "${{abcd", NULL, NO_VALUE("${{ab}}") },
	{ "#[", "]]", "#[abcd", NULL, "No value provided for placeholder: #[ab]].  Check your configuration!" },
};

static bool one_shot(const struct ph_values *v, const char *in, struct buf *out, struct err *e)
{
	size_t used = 12345;
	enum err_code c = ph_replace(v, (struct ph_input){ in, strlen(in), true }, out, &used, e);
	if (c)
		return false;
	if (used != strlen(in)) {
		err_set(e, ERR_IO, "final call used %zu of %zu bytes", used, strlen(in));
		return false;
	}
	return true;
}

static void test_table(void **state)
{
	(void)state;
	int fails = 0;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const struct ph_case *c = &cases[i];
		struct ph_values v = values(c->prefix ? c->prefix : "${", c->suffix ? c->suffix : "}");
		struct buf out = BUF_INIT;
		struct err e = ERR_INIT;
		bool ok = one_shot(&v, c->in, &out, &e);
		if (c->out && (!ok || strcmp(out.ptr, c->out))) {
			print_error("case %zu '%s': got %s'%s', want '%s'\n", i, c->in,
				    ok ? "" : "error ", ok ? out.ptr : e.msg, c->out);
			fails++;
		}
		if (!c->out && (ok || e.code != ERR_PARSE || strcmp(e.msg, c->msg))) {
			print_error("case %zu '%s': got %s'%s', want error '%s'\n", i, c->in,
				    ok ? "" : "error ", ok ? out.ptr : e.msg, c->msg);
			fails++;
		}
		buf_release(&out);
	}
	assert_int_equal(fails, 0);
}

/* A default that cannot be populated here (NULL) is Flyway's other error. */
static void test_unpopulated_defaults(void **state)
{
	(void)state;
	static const char *const names[] = {
		"defaultSchema", "user", "database", "timestamp", "filename", "workingDirectory",
		"table", "environment",
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		struct ph_values v = values("${", "}");
		const char **field[] = {
			&v.default_schema, &v.user_name, &v.database, &v.timestamp, &v.filename,
			&v.working_dir, &v.table, &v.environment,
		};
		*field[i] = NULL;
		char in[64], want[128];
		snprintf(in, sizeof in, "${flyway:%s}", names[i]);
		snprintf(want, sizeof want, "Failed to populate value for default placeholder: %s", in);
		struct buf out = BUF_INIT;
		struct err e = ERR_INIT;
		size_t used;
		assert_int_equal(ph_replace(&v, (struct ph_input){ in, strlen(in), true }, &out, &used, &e), ERR_PARSE);
		assert_string_equal(e.msg, want);
		buf_release(&out);
	}
}

/* A user placeholder is found before the namespace check. */
static void test_user_values_without_defaults(void **state)
{
	(void)state;
	struct ph_values v = values("${", "}");
	v.user = NULL;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	size_t used;
	assert_int_equal(ph_replace(&v, (struct ph_input){ "${x}", 4, true }, &out, &used, &e), ERR_PARSE);
	assert_string_equal(e.msg, NO_VALUE("${x}"));
	buf_release(&out);
}

/* ---- streaming ----------------------------------------------------------- */

/* Feeds `in` in pieces of `piece` bytes, keeping what was not used. */
static enum err_code streamed(const struct ph_values *v, const char *in, size_t piece,
			      struct buf *out, struct err *e)
{
	size_t len = strlen(in), pos = 0;
	struct buf pending = BUF_INIT;
	enum err_code c = ERR_OK;
	do {
		size_t n = len - pos < piece ? len - pos : piece;
		buf_add(&pending, in + pos, n);
		pos += n;
		bool final = pos == len;
		size_t used = 0;
		c = ph_replace(v, (struct ph_input){ pending.ptr, pending.len, final }, out, &used, e);
		if (c)
			break;
		if (used > pending.len) {
			c = err_set(e, ERR_IO, "used %zu of %zu bytes", used, pending.len);
			break;
		}
		buf_consume(&pending, used);
		if (final && pending.len) {
			c = err_set(e, ERR_IO, "%zu bytes left after the final call", pending.len);
			break;
		}
	} while (pos < len);
	buf_release(&pending);
	return c;
}

static void test_streaming_equals_one_shot(void **state)
{
	(void)state;
	static const char *const extra[] = {
		"CREATE VIEW ${schema_name}.v AS SELECT '${x}', '$${x}', '${empty}' -- ${flyway:table}\n"
		"$$ body with $ and ${ and } and ${x} $$;\n${flyway:filename}${x}${x}$",
		"$$$$$$$$${x}$$$${x}$",
		"${x}",
		"$",
		"${",
		"}}}}${x}{{{{",
		"${nope}",
		"prefix ${unterminated and a long tail that goes on and on",
	};
	int fails = 0;
	size_t ncases = sizeof cases / sizeof *cases, nextra = sizeof extra / sizeof *extra;
	for (size_t i = 0; i < ncases + nextra; i++) {
		const char *in = i < ncases ? cases[i].in : extra[i - ncases];
		const char *pre = i < ncases && cases[i].prefix ? cases[i].prefix : "${";
		const char *suf = i < ncases && cases[i].suffix ? cases[i].suffix : "}";
		struct ph_values v = values(pre, suf);
		struct buf want = BUF_INIT;
		struct err we = ERR_INIT;
		size_t used;
		enum err_code wc = ph_replace(&v, (struct ph_input){ in, strlen(in), true }, &want, &used, &we);
		size_t len = strlen(in);
		for (size_t piece = 1; piece <= (len ? len : 1); piece++) {
			struct buf got = BUF_INIT;
			struct err ge = ERR_INIT;
			enum err_code gc = streamed(&v, in, piece, &got, &ge);
			if (gc != wc || (wc ? strcmp(ge.msg, we.msg) : strcmp(got.ptr, want.ptr))) {
				print_error("'%s' [%s %s] in %zu-byte pieces: got %d '%s', one-shot %d '%s'\n",
					    in, pre, suf, piece, gc, gc ? ge.msg : got.ptr, wc,
					    wc ? we.msg : want.ptr);
				fails++;
			}
			buf_release(&got);
		}
		buf_release(&want);
	}
	assert_int_equal(fails, 0);
}

/* Without `final`, nothing past a possibly incomplete placeholder is used. */
static void test_stops_before_incomplete(void **state)
{
	(void)state;
	struct ph_values v = values("${", "}");
	static const struct {
		const char *in;
		size_t used;
		const char *out;
	} cases2[] = {
		{ "abc", 3, "abc" },
		{ "abc$", 3, "abc" },
		{ "abc${x", 3, "abc" },
		{ "abc${x}d", 8, "abc1d" },
		{ "a${x}b${", 6, "a1b" },
		{ "$${x}", 5, "$${x}" },
	};
	for (size_t i = 0; i < sizeof cases2 / sizeof *cases2; i++) {
		struct buf out = BUF_INIT;
		struct err e = ERR_INIT;
		size_t used = 99;
		assert_int_equal(ph_replace(&v, (struct ph_input){ cases2[i].in, strlen(cases2[i].in), false }, &out, &used, &e), ERR_OK);
		assert_int_equal(used, cases2[i].used);
		assert_string_equal(out.ptr, cases2[i].out);
		buf_release(&out);
	}
}

/* ---- the migration reader with replacement -------------------------------- */

/*
 * Runs text through a mig_reader with placeholder replacement, at most
 * 1000 fills (a reader that never reaches the end fails instead of
 * hanging the suite).
 */
static enum err_code reader_replace(const char *text, size_t chunk, struct buf *out,
				    uint32_t *crc_raw, uint32_t *crc_repl, bool *finished,
				    struct err *e)
{
	struct ph_values v = values("${", "}");
	size_t len = strlen(text);
	char *copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, text, len + 1);
	struct eng_stream *st = eng_stream_mem_take(copy, len);
	struct mig_reader r;
	mig_reader_init(&r, st, "R__x.sql", &v, false);
	bool eof = false;
	enum err_code c = ERR_OK;
	for (int i = 0; !c && !eof && i < 1000; i++)
		c = mig_reader_fill(&r, out, chunk, &eof, e);
	*finished = eof;
	*crc_raw = r.crc_raw;
	*crc_repl = r.crc_repl;
	mig_reader_release(&r);
	st->close(st);
	return c;
}

static int32_t crc_text(const char *t);

static void test_reader_replacement(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} rcases[] = {
		{ "select '${x}';\n", "select '1';\n" },
		{ "\xef\xbb\xbf${x}", "1" },
		{ "${x}$${x}${empty}", "1$${x}" },
		/* unterminated at the end of the file, known after dropping the
		 * last character: Flyway replaces it */
		{ "select 1; -- ${x\n", "select 1; -- 1" },
		{ "${x}${xy", "11" },
	};
	int fails = 0;
	for (size_t i = 0; i < sizeof rcases / sizeof *rcases; i++) {
		for (size_t chunk = 0; chunk <= 5; chunk++) {
			struct buf out = BUF_INIT;
			struct err e = ERR_INIT;
			uint32_t raw = 0, repl = 0;
			bool finished = false;
			enum err_code c = reader_replace(rcases[i].in, chunk, &out, &raw, &repl,
							 &finished, &e);
			const char *body = rcases[i].in;
			if (!strncmp(body, "\xef\xbb\xbf", 3))
				body += 3;
			if (c || !finished || strcmp(out.ptr, rcases[i].out) ||
			    (int32_t)repl != crc_text(rcases[i].out) ||
			    (int32_t)raw != crc_text(body)) {
				print_error("reader case %zu, chunk %zu: code %d (%s), finished %d, text '%.60s'%s, crc %d/%d want %d/%d\n",
					    i, chunk, c, e.msg, finished, out.ptr,
					    out.len > 60 ? "..." : "", (int32_t)raw, (int32_t)repl,
					    crc_text(body), crc_text(rcases[i].out));
				fails++;
			}
			buf_release(&out);
		}
	}
	assert_int_equal(fails, 0);
}

/* ---- the repeatable checksum rule through eng_resolve --------------------- */

static char tmpdir[] = "/tmp/tarmac-test-placeholder-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static void clear_dir(void)
{
	DIR *d = opendir(tmpdir);
	assert_non_null(d);
	struct dirent *de;
	char path[4096];
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", tmpdir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

static int teardown(void **state)
{
	(void)state;
	clear_dir();
	return rmdir(tmpdir);
}

static void put(const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int32_t crc_text(const char *t)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	for (const char *p = t; *p; p++)
		if (*p != '\r' && *p != '\n')
			crc = crc32(crc, (const Bytef *)p, 1);
	return (int32_t)(uint32_t)crc;
}

static enum err_code resolve_dir(struct eng_config *cfg, struct eng_resolved_set *set,
				 struct err *e)
{
	char loc[4200];
	snprintf(loc, sizeof loc, "filesystem:%s", tmpdir);
	vec_push_str(&cfg->locations, loc);
	struct eng_ctx ctx;
	eng_ctx_init(&ctx, cfg);
	enum err_code c = eng_ctx_add_locations(&ctx, false, e);
	if (!c)
		c = eng_resolve(&ctx, set, e);
	eng_ctx_release(&ctx);
	return c;
}

static const struct eng_resolved *find(const struct eng_resolved_set *s, const char *script)
{
	for (size_t i = 0; i < s->items.len; i++) {
		const struct eng_resolved *r = s->items.items[i];
		if (!strcmp(r->script, script))
			return r;
	}
	fail_msg("%s was not resolved", script);
	return NULL;
}

static const char view_text[] =
	"CREATE OR REPLACE VIEW ${placeholder}_view AS\r\n"
	"SELECT * FROM ${Placeholder}; -- $${placeholder}\n"
	"-- ${flyway:filename} ${flyway:table} ${flyway:environment}\n";
static const char view_replaced[] =
	"CREATE OR REPLACE VIEW people_view AS\r\n"
	"SELECT * FROM people; -- $${placeholder}\n"
	"-- R__placeholder_view.sql flyway_schema_history default\n";

static void test_repeatable_checksum(void **state)
{
	(void)state;
	clear_dir();
	put("R__placeholder_view.sql", view_text);
	put("V1__with_placeholder.sql", "SELECT '${placeholder}';\n");
	put("V2__unknown_placeholder.sql", "SELECT '${nope}';\n");
	put("B3__base.sql", "SELECT '${placeholder}';\n");
	struct eng_config cfg;
	eng_config_init(&cfg);
	eng_config_set_placeholder(&cfg, "placeholder", "people");
	struct eng_resolved_set set;
	struct err e = ERR_INIT;
	if (resolve_dir(&cfg, &set, &e))
		fail_msg("resolve: %s", e.msg);
	assert_int_equal(set.items.len, 4);

	const struct eng_resolved *r = find(&set, "R__placeholder_view.sql");
	int32_t raw = crc_text(view_text), replaced = crc_text(view_replaced);
	assert_int_not_equal(raw, replaced);
	assert_int_equal(r->kind, ENG_KIND_REPEATABLE);
	assert_int_equal(r->checksum, replaced);
	assert_true(r->has_equivalent);
	assert_int_equal(r->equivalent_checksum, raw);

	/* versioned and baseline: the raw text, placeholders or not */
	const struct eng_resolved *v1 = find(&set, "V1__with_placeholder.sql");
	assert_int_equal(v1->checksum, crc_text("SELECT '${placeholder}';\n"));
	assert_false(v1->has_equivalent);
	const struct eng_resolved *v2 = find(&set, "V2__unknown_placeholder.sql");
	assert_int_equal(v2->checksum, crc_text("SELECT '${nope}';\n"));
	const struct eng_resolved *b3 = find(&set, "B3__base.sql");
	assert_int_equal(b3->checksum, crc_text("SELECT '${placeholder}';\n"));
	assert_string_equal(b3->type, "SQL_BASELINE");

	eng_resolved_set_release(&set);

	/* another value: another checksum, same equivalent */
	vec_free_strs(&cfg.locations);
	eng_config_set_placeholder(&cfg, "placeholder", "persons");
	assert_int_equal(resolve_dir(&cfg, &set, &e), ERR_OK);
	r = find(&set, "R__placeholder_view.sql");
	assert_int_not_equal(r->checksum, replaced);
	assert_int_not_equal(r->checksum, raw);
	assert_int_equal(r->equivalent_checksum, raw);
	eng_resolved_set_release(&set);

	/* replacement off: the repeatable's checksum is the raw one */
	vec_free_strs(&cfg.locations);
	cfg.placeholder_replacement = false;
	assert_int_equal(resolve_dir(&cfg, &set, &e), ERR_OK);
	r = find(&set, "R__placeholder_view.sql");
	assert_int_equal(r->checksum, raw);
	eng_resolved_set_release(&set);
	eng_config_release(&cfg);
}

/* An unknown placeholder in a repeatable stops resolution with Flyway's message. */
static void test_repeatable_unknown_placeholder(void **state)
{
	(void)state;
	clear_dir();
	put("R__bad.sql", "SELECT '${nope}';\n");
	struct eng_config cfg;
	eng_config_init(&cfg);
	struct eng_resolved_set set;
	struct err e = ERR_INIT;
	assert_int_equal(resolve_dir(&cfg, &set, &e), ERR_PARSE);
	assert_non_null(strstr(e.msg, NO_VALUE("${nope}")));
	assert_non_null(strstr(e.msg, "R__bad.sql"));
	eng_config_release(&cfg);
}

/*
 * ${flyway:filename} is ResourceName.getFilename(): prefix + version +
 * separator + raw description + suffix, or prefix + version + suffix when
 * the description is empty — so R__.sql sees "R.sql".
 */
static void test_filename_placeholder(void **state)
{
	(void)state;
	clear_dir();
	put("R__.sql", "-- ${flyway:filename}\n");
	put("R__a_b.SQL", "-- ${flyway:filename}\n");
	struct eng_config cfg;
	eng_config_init(&cfg);
	struct eng_resolved_set set;
	struct err e = ERR_INIT;
	if (resolve_dir(&cfg, &set, &e))
		fail_msg("resolve: %s", e.msg);
	assert_int_equal(find(&set, "R__a_b.SQL")->checksum, crc_text("-- R__a_b.SQL"));
	assert_int_equal(find(&set, "R__.sql")->checksum, crc_text("-- R.sql"));
	eng_resolved_set_release(&set);
	eng_config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_unpopulated_defaults),
		cmocka_unit_test(test_user_values_without_defaults),
		cmocka_unit_test(test_streaming_equals_one_shot),
		cmocka_unit_test(test_stops_before_incomplete),
		cmocka_unit_test(test_reader_replacement),
		cmocka_unit_test(test_repeatable_checksum),
		cmocka_unit_test(test_repeatable_unknown_placeholder),
		cmocka_unit_test(test_filename_placeholder),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
