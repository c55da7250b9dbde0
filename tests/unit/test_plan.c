/*
 * test_plan — Flyway's MigrationInfoService states (spec §5) and validate
 * (spec §6) over synthetic files and history rows: no database, no files
 * on disk. Each scenario builds a resolved set and applied rows with the
 * small constructors below, then checks the info rows in display order
 * (as "id=State" strings), the plan's counters and validate's messages
 * word for word. Flyway's source (MigrationInfoServiceImpl,
 * MigrationInfoImpl, BaseAppliedMigration, ResolvedMigration,
 * ValidatePattern) is the reference where the spec is silent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/internal.h"

#define VALIDATE_URL "https://help.red-gate.com/help/flyway-cli11/help_1.aspx?topic=flyway-blog/older-posts/customize-validation-rules-with-ignoremigrationpatterns"
#define PATTERN_URL "https://help.red-gate.com/help/flyway-cli11/help_1.aspx?topic=reference/configuration/flyway-namespace/flyway-ignore-migration-patterns-setting"

/* ---- fixtures ------------------------------------------------------------ */

struct fx {
	struct eng_resolved_set files;
	struct vec applied;
	struct eng_plan plan;
	int rank;
	bool built;
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof *f);
}

static void fx_release(struct fx *f)
{
	if (f->built)
		eng_plan_release(&f->plan);
	eng_resolved_set_release(&f->files);
	vec_release(&f->applied, eng_applied_free);
}

static void parse_version(const char *s, struct eng_version *v)
{
	struct err e = ERR_INIT;
	if (eng_version_parse(s, v, &e))
		fail_msg("bad test version %s: %s", s, e.msg);
}

/* "create table persons" → "V1__create_table_persons.sql" */
static char *script_name(const char *prefix, const char *version, const char *desc)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s%s__%s.sql", prefix, version ? version : "", desc);
	for (char *c = b.ptr + strlen(prefix); *c; c++)
		if (*c == ' ')
			*c = '_';
	return buf_detach(&b, NULL);
}

static struct eng_resolved *file_add(struct fx *f, enum eng_kind kind, const char *version,
				     const char *desc, int32_t checksum)
{
	struct eng_resolved *r = calloc(1, sizeof *r);
	assert_non_null(r);
	r->kind = kind;
	if (version)
		parse_version(version, &r->version);
	r->description = strdup(desc);
	r->script = script_name(kind == ENG_KIND_VERSIONED ? "V" : kind == ENG_KIND_BASELINE ? "B" : "R",
				version, desc);
	r->type = kind == ENG_KIND_BASELINE ? "SQL_BASELINE" : "SQL";
	r->checksum = checksum;
	r->tx_override = -1;
	vec_push(&f->files.items, r);
	return r;
}

static struct eng_resolved *file_v(struct fx *f, const char *version, const char *desc, int32_t sum)
{
	return file_add(f, ENG_KIND_VERSIONED, version, desc, sum);
}

static struct eng_resolved *file_r(struct fx *f, const char *desc, int32_t sum)
{
	return file_add(f, ENG_KIND_REPEATABLE, NULL, desc, sum);
}

/* A repeatable whose replaced checksum is `sum` and raw checksum `raw`. */
static struct eng_resolved *file_r_eq(struct fx *f, const char *desc, int32_t sum, int32_t raw)
{
	struct eng_resolved *r = file_add(f, ENG_KIND_REPEATABLE, NULL, desc, sum);
	r->has_equivalent = true;
	r->equivalent_checksum = raw;
	return r;
}

static struct eng_applied *row_add(struct fx *f, const char *version, const char *desc,
				   const char *type, bool has_sum, int32_t sum, bool success)
{
	struct eng_applied *a = calloc(1, sizeof *a);
	assert_non_null(a);
	a->installed_rank = ++f->rank;
	if (version) {
		a->version_text = strdup(version);
		parse_version(version, &a->version);
	}
	a->description = strdup(desc);
	a->type = strdup(type);
	if (!strcmp(type, "BASELINE") || !strcmp(type, "SCHEMA"))
		a->script = strdup(desc);
	else
		a->script = script_name(version ? (strcmp(type, "SQL_BASELINE") ? "V" : "B") : "R",
					version, desc);
	a->has_checksum = has_sum;
	a->checksum = sum;
	a->installed_on = strdup("2024-01-02 03:04:05");
	a->installed_by = strdup("flyway");
	a->success = success;
	vec_push(&f->applied, a);
	return a;
}

static struct eng_applied *row_v(struct fx *f, const char *version, const char *desc, int32_t sum)
{
	return row_add(f, version, desc, "SQL", true, sum, true);
}

static struct eng_applied *row_r(struct fx *f, const char *desc, int32_t sum)
{
	return row_add(f, NULL, desc, "SQL", true, sum, true);
}

static void build_opts(struct fx *f, const char *target, bool out_of_order)
{
	struct eng_plan_options o = { target, out_of_order };
	struct err e = ERR_INIT;
	if (eng_plan_build(&f->files, &f->applied, &o, &f->plan, &e))
		fail_msg("eng_plan_build: %s", e.msg);
	f->built = true;
}

static void build(struct fx *f)
{
	build_opts(f, NULL, false);
}

/* ---- what a plan looks like ---------------------------------------------- */

/* "id=State; ..." in display order; id is the version (or the description
 * of a repeatable), with [TYPE] when the type is not SQL. */
static char *rows_str(const struct eng_plan *p)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < p->rows.len; i++) {
		const struct eng_info *in = p->rows.items[i];
		const char *v = eng_info_version(in), *t = eng_info_type(in);
		buf_addf(&b, "%s%s", i ? "; " : "", *v ? v : eng_info_description(in));
		if (strcmp(t, "SQL"))
			buf_addf(&b, "[%s]", t);
		buf_addf(&b, "=%s", eng_state_name(in->state));
	}
	return buf_detach(&b, NULL);
}

#define ROWS(f, want) do {                                              \
	char *got_ = rows_str(&(f)->plan);                              \
	if (strcmp(got_, want))                                         \
		fail_msg("rows\n  got  %s\n  want %s", got_, want);     \
	free(got_);                                                     \
} while (0)

/* Validates with the given patterns (NULL-terminated) and checks the
 * messages, in order (NULL-terminated; none: validate passes). */
static void check_validate(const struct eng_plan *p, const char *const *patterns,
			   bool add_pending, const char *const *want)
{
	struct vec pats = VEC_INIT, msgs = VEC_INIT;
	for (size_t i = 0; patterns && patterns[i]; i++)
		vec_push_str(&pats, patterns[i]);
	struct err e = ERR_INIT;
	enum err_code c = eng_validate_plan(p, &pats, add_pending, &msgs, &e);
	size_t nwant = 0;
	while (want && want[nwant])
		nwant++;
	int fails = 0;
	if (msgs.len != nwant) {
		print_error("validate: %zu messages, want %zu\n", msgs.len, nwant);
		fails++;
	}
	for (size_t i = 0; i < msgs.len || i < nwant; i++) {
		const char *g = i < msgs.len ? msgs.items[i] : "(none)";
		const char *w = i < nwant ? want[i] : "(none)";
		if (strcmp(g, w)) {
			print_error("message %zu\n  got  '%s'\n  want '%s'\n", i, g, w);
			fails++;
		}
	}
	if (c != (nwant ? ERR_VALIDATE : ERR_OK)) {
		print_error("validate returned %d\n", c);
		fails++;
	}
	if (!fails && nwant) {
		/* Flyway's overall message */
		struct buf all = BUF_INIT;
		buf_adds(&all, "Validate failed: Migrations have failed validation");
		for (size_t i = 0; i < nwant; i++)
			buf_addf(&all, "\n%s", want[i]);
		buf_adds(&all, "\nNeed more flexibility with validation rules? Learn more: " VALIDATE_URL);
		size_t n = strlen(all.ptr) < sizeof e.msg - 1 ? strlen(all.ptr) : sizeof e.msg - 1;
		if (strncmp(e.msg, all.ptr, n)) {
			print_error("overall message\n  got  '%s'\n  want '%s'\n", e.msg, all.ptr);
			fails++;
		}
		buf_release(&all);
	}
	vec_free_strs(&pats);
	vec_free_strs(&msgs);
	assert_int_equal(fails, 0);
}

static const char *const FUTURE[] = { "*:future", NULL }; /* Flyway's default */
static const char *const NONE[] = { NULL };
static const char *const OK[] = { NULL };

#define MSGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

#define FAILED_V(v, d) "Detected failed migration to version " v " (" d ").\nPlease remove any half-completed changes then run repair to fix the schema history."
#define FAILED_R(d) "Detected failed repeatable migration: " d ".\nPlease remove any half-completed changes then run repair to fix the schema history."
#define NOT_RESOLVED(id) "Detected applied migration not resolved locally: " id ".\nIf you removed this migration intentionally, run repair to mark the migration as deleted."
#define IGNORED_V(v) "Detected resolved migration not applied to database: " v ".\nTo ignore this migration, set -ignoreMigrationPatterns='*:ignored'. To allow executing this migration, set -outOfOrder=true."
#define PENDING_V(v) "Detected resolved migration not applied to database: " v ".\nTo fix this error, either run migrate, or set -ignoreMigrationPatterns='*:pending'."
#define PENDING_R(d) "Detected resolved repeatable migration not applied to database: " d ".\nTo fix this error, either run migrate, or set -ignoreMigrationPatterns='*:pending'."
#define OUTDATED(d) "Detected outdated resolved repeatable migration that should be re-applied to database: " d ".\nRun migrate to execute this migration."
#define MISMATCH(what, id, a, r) "Migration " what " mismatch for migration " id "\n-> Applied to database : " a "\n-> Resolved locally    : " r "\nEither revert the changes to the migration, or run repair to update the schema history."

/* ---- scenarios ----------------------------------------------------------- */

static void test_all_applied(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "create table persons", 1408735753);
	file_v(&f, "2", "alter table persons", -1799197182);
	row_v(&f, "1", "create table persons", 1408735753);
	row_v(&f, "2", "alter table persons", -1799197182);
	build(&f);
	ROWS(&f, "1=Success; 2=Success");
	assert_int_equal(f.plan.pending, 0);
	assert_int_equal(f.plan.failed, 0);
	assert_int_equal(f.plan.mismatched, 0);
	assert_int_equal(f.plan.missing, 0);
	assert_string_equal(f.plan.current.text, "2");
	check_validate(&f.plan, FUTURE, false, OK);
	check_validate(&f.plan, FUTURE, true, OK);
	fx_release(&f);
}

static void test_pending(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	file_v(&f, "1.1", "b", 2);
	file_v(&f, "2", "c", 3);
	file_r(&f, "views", 4);
	row_v(&f, "1", "a", 1);
	build(&f);
	ROWS(&f, "1=Success; 1.1=Pending; 2=Pending; views=Pending");
	assert_int_equal(f.plan.pending, 3);
	assert_string_equal(f.plan.current.text, "1");
	check_validate(&f.plan, FUTURE, false,
		       MSGS(PENDING_V("1.1"), PENDING_V("2"), PENDING_R("views")));
	check_validate(&f.plan, FUTURE, true, OK);
	check_validate(&f.plan, MSGS("*:pending"), false, OK);
	check_validate(&f.plan, MSGS("versioned:pending"), false, MSGS(PENDING_R("views")));
	check_validate(&f.plan, MSGS("Repeatable:Pending"), false,
		       MSGS(PENDING_V("1.1"), PENDING_V("2")));
	check_validate(&f.plan, MSGS("*:*"), false, OK);
	fx_release(&f);
}

static void test_empty_history(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	build(&f);
	ROWS(&f, "1=Pending");
	assert_null(f.plan.current.text);
	fx_release(&f);

	fx_init(&f);
	build(&f);
	ROWS(&f, "");
	check_validate(&f.plan, FUTURE, false, OK);
	fx_release(&f);
}

static void test_failed(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "create table persons", 1408735753);
	file_v(&f, "2", "alter table persons", -1799197182);
	file_v(&f, "3", "later", 3);
	row_v(&f, "1", "create table persons", 1408735753);
	row_add(&f, "2", "alter table persons", "SQL", true, -1799197182, false);
	build(&f);
	ROWS(&f, "1=Success; 2=Failed; 3=Pending");
	assert_int_equal(f.plan.failed, 1);
	assert_int_equal(f.plan.pending, 1);
	check_validate(&f.plan, FUTURE, true, MSGS(FAILED_V("2", "alter table persons")));
	/* the version and description shown are the history row's */
	fx_release(&f);

	fx_init(&f);
	file_v(&f, "2", "alter table persons", 5);
	row_add(&f, "2.0", "alter table people", "SQL", true, 5, false);
	build(&f);
	ROWS(&f, "2.0=Failed");
	check_validate(&f.plan, FUTURE, true, MSGS(FAILED_V("2.0", "alter table people")));
	fx_release(&f);

	/* a failed repeatable */
	fx_init(&f);
	file_r(&f, "views", 7);
	row_add(&f, NULL, "views", "SQL", true, 7, false);
	build(&f);
	ROWS(&f, "views=Failed");
	check_validate(&f.plan, FUTURE, true, MSGS(FAILED_R("views")));
	fx_release(&f);
}

static void test_missing(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "2", "b", 2);
	row_v(&f, "1", "a", 1);
	row_v(&f, "2", "b", 2);
	build(&f);
	ROWS(&f, "1=Missing; 2=Success");
	assert_int_equal(f.plan.missing, 1);
	check_validate(&f.plan, FUTURE, true, MSGS(NOT_RESOLVED("1")));
	check_validate(&f.plan, MSGS("*:missing"), true, OK);
	check_validate(&f.plan, MSGS("versioned:missing"), true, OK);
	check_validate(&f.plan, MSGS("repeatable:missing"), true, MSGS(NOT_RESOLVED("1")));
	fx_release(&f);

	/* failed and missing */
	fx_init(&f);
	file_v(&f, "2", "b", 2);
	row_add(&f, "1", "a", "SQL", true, 1, false);
	row_v(&f, "2", "b", 2);
	build(&f);
	ROWS(&f, "1=Failed (Missing); 2=Success");
	assert_int_equal(f.plan.failed, 1);
	check_validate(&f.plan, MSGS("*:missing"), true, MSGS(FAILED_V("1", "a")));
	fx_release(&f);

	/* a repeatable without its file: identified by description */
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	row_v(&f, "1", "a", 1);
	row_r(&f, "old view", 9);
	build(&f);
	ROWS(&f, "1=Success; old view=Missing");
	check_validate(&f.plan, FUTURE, true, MSGS(NOT_RESOLVED("old view")));
	fx_release(&f);
}

static void test_future(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	row_v(&f, "1", "a", 1);
	row_v(&f, "2", "b", 2);
	build(&f);
	ROWS(&f, "1=Success; 2=Future");
	assert_string_equal(f.plan.current.text, "2");
	check_validate(&f.plan, FUTURE, true, OK);   /* ignored by default */
	check_validate(&f.plan, NONE, true, MSGS(NOT_RESOLVED("2")));
	fx_release(&f);

	/* no files at all: every row is above the (empty) last resolved version */
	fx_init(&f);
	row_v(&f, "1", "a", 1);
	build(&f);
	ROWS(&f, "1=Future");
	fx_release(&f);
}

/*
 * Failed (Future): skipped only when future migrations are ignored for
 * both types (ValidatePatternUtils.isFutureIgnored: "*:future", or
 * versioned:future and repeatable:future).
 */
static void test_future_failed(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	row_v(&f, "1", "a", 1);
	row_add(&f, "2", "b", "SQL", true, 2, false);
	build(&f);
	ROWS(&f, "1=Success; 2=Failed (Future)");
	assert_int_equal(f.plan.failed, 1);
	check_validate(&f.plan, FUTURE, true, OK);
	check_validate(&f.plan, MSGS("versioned:future", "repeatable:future"), true, OK);
	check_validate(&f.plan, NONE, true, MSGS(FAILED_V("2", "b")));
	check_validate(&f.plan, MSGS("versioned:future"), true, MSGS(FAILED_V("2", "b")));
	fx_release(&f);
}

static void test_ignored_and_out_of_order(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	file_v(&f, "2", "b", 2);
	file_v(&f, "3", "c", 3);
	row_v(&f, "1", "a", 1);
	row_v(&f, "3", "c", 3);
	build(&f);
	ROWS(&f, "1=Success; 3=Success; 2=Ignored");
	assert_int_equal(f.plan.pending, 0);
	check_validate(&f.plan, FUTURE, true, MSGS(IGNORED_V("2")));
	check_validate(&f.plan, MSGS("*:ignored"), true, OK);
	check_validate(&f.plan, MSGS("versioned:ignored"), true, OK);
	eng_plan_release(&f.plan);

	build_opts(&f, NULL, true);
	ROWS(&f, "1=Success; 3=Success; 2=Pending");
	assert_int_equal(f.plan.pending, 1);
	check_validate(&f.plan, FUTURE, true, OK);
	fx_release(&f);

	/* applied out of order: shown as such, and it is not the current one */
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	file_v(&f, "2", "b", 2);
	file_v(&f, "3", "c", 3);
	row_v(&f, "1", "a", 1);
	row_v(&f, "3", "c", 3);
	row_v(&f, "2", "b", 2);
	build(&f);
	ROWS(&f, "1=Success; 3=Success; 2=Out of Order");
	assert_string_equal(f.plan.current.text, "3");
	check_validate(&f.plan, FUTURE, true, OK);
	fx_release(&f);
}

static void test_checksum_mismatch(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "create table persons", -1799197182);
	row_v(&f, "1", "create table persons", 1408735753);
	build(&f);
	ROWS(&f, "1=Success");
	assert_int_equal(f.plan.mismatched, 1);
	/* spec §6, word for word */
	check_validate(&f.plan, FUTURE, true,
		       MSGS("Migration checksum mismatch for migration version 1\n"
			    "-> Applied to database : 1408735753\n"
			    "-> Resolved locally    : -1799197182\n"
			    "Either revert the changes to the migration, or run repair to update the schema history."));
	fx_release(&f);

	/* the version in the message is the history row's text */
	fx_init(&f);
	file_v(&f, "1", "x", 5);
	row_v(&f, "1.0", "x", 6);
	build(&f);
	ROWS(&f, "1.0=Success");
	check_validate(&f.plan, FUTURE, false, MSGS(MISMATCH("checksum", "version 1.0", "6", "5")));
	fx_release(&f);

	/* a NULL checksum in the history matches anything */
	fx_init(&f);
	file_v(&f, "1", "x", 5);
	row_add(&f, "1", "x", "SQL", false, 0, true);
	build(&f);
	assert_int_equal(f.plan.mismatched, 0);
	check_validate(&f.plan, FUTURE, true, OK);
	fx_release(&f);

	/* checksums are checked for pending-ignored and not alike */
	fx_init(&f);
	file_v(&f, "1", "x", INT32_MIN);
	row_v(&f, "1", "x", INT32_MAX);
	build(&f);
	check_validate(&f.plan, FUTURE, false,
		       MSGS(MISMATCH("checksum", "version 1", "2147483647", "-2147483648")));
	fx_release(&f);
}

static void test_description_mismatch(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "create table persons", 1);
	row_v(&f, "1", "create table people", 1);
	build(&f);
	ROWS(&f, "1=Success");
	check_validate(&f.plan, FUTURE, true,
		       MSGS(MISMATCH("description", "version 1", "create table people",
				     "create table persons")));
	fx_release(&f);

	/* checksum is reported before description */
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	row_v(&f, "1", "b", 2);
	build(&f);
	check_validate(&f.plan, FUTURE, true, MSGS(MISMATCH("checksum", "version 1", "2", "1")));
	fx_release(&f);

	/* "<< no description >>" in the history equals an empty description */
	fx_init(&f);
	file_v(&f, "1", "", 1);
	row_v(&f, "1", "<< no description >>", 1);
	build(&f);
	check_validate(&f.plan, FUTURE, true, OK);
	fx_release(&f);

	/* a long description is compared in its stored (abbreviated) form */
	char long_desc[202];
	memset(long_desc, 'd', 201);
	long_desc[201] = 0;
	char stored[201];
	memset(stored, 'd', 197);
	memcpy(stored + 197, "...", 4);
	fx_init(&f);
	file_v(&f, "1", long_desc, 1);
	row_v(&f, "1", stored, 1);
	build(&f);
	check_validate(&f.plan, FUTURE, true, OK);
	fx_release(&f);

	/* ... but the message shows the resolved description as it is
	 * (MigrationInfoImpl passes resolvedMigration.getDescription()) */
	fx_init(&f);
	file_v(&f, "1", long_desc, 1);
	row_v(&f, "1", "short", 1);
	build(&f);
	char want[1024];
	snprintf(want, sizeof want,
		 MISMATCH("description", "version 1", "short", "%s"), long_desc);
	check_validate(&f.plan, FUTURE, true, MSGS(want));
	fx_release(&f);
}

static void test_repeatable_outdated(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	file_r(&f, "views", 200);
	row_v(&f, "1", "a", 1);
	row_r(&f, "views", 100);
	build(&f);
	ROWS(&f, "1=Success; views=Outdated; views=Pending");
	assert_int_equal(f.plan.pending, 1);
	assert_int_equal(f.plan.mismatched, 0);
	check_validate(&f.plan, FUTURE, false, MSGS(OUTDATED("views"), PENDING_R("views")));
	check_validate(&f.plan, FUTURE, true, OK);
	check_validate(&f.plan, MSGS("*:pending"), false, OK);
	/* pending counts as ignored only when it is for both types */
	check_validate(&f.plan, MSGS("repeatable:pending"), false, MSGS(OUTDATED("views")));
	fx_release(&f);
}

static void test_repeatable_equivalent_checksum(void **state)
{
	(void)state;
	struct fx f;
	/* the history holds the raw (pre-placeholder) checksum: not outdated */
	fx_init(&f);
	file_r_eq(&f, "views", 2764738, -1867276109);
	row_r(&f, "views", -1867276109);
	build(&f);
	ROWS(&f, "views=Success");
	assert_int_equal(f.plan.pending, 0);
	check_validate(&f.plan, FUTURE, false, OK);
	fx_release(&f);

	/* the replaced one: fine either way */
	fx_init(&f);
	file_r_eq(&f, "views", 2764738, -1867276109);
	row_r(&f, "views", 2764738);
	build(&f);
	ROWS(&f, "views=Success");
	check_validate(&f.plan, FUTURE, true, OK);
	check_validate(&f.plan, FUTURE, false, OK);
	fx_release(&f);

	/* neither: outdated */
	fx_init(&f);
	file_r_eq(&f, "views", 2764738, -1867276109);
	row_r(&f, "views", 42);
	build(&f);
	ROWS(&f, "views=Outdated; views=Pending");
	fx_release(&f);
}

/*
 * With pending ignored (as migrate validates), Flyway compares repeatable
 * checksums with MigrationInfo.isChecksumMatching(), which knows nothing
 * of the equivalent checksum, so a row holding the raw checksum fails
 * validation; repair realigns it (checksumMatchesWithoutBeingIdentical).
 */
static void test_repeatable_equivalent_on_migrate(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_r_eq(&f, "views", 2764738, -1867276109);
	row_r(&f, "views", -1867276109);
	build(&f);
	check_validate(&f.plan, FUTURE, true,
		       MSGS(MISMATCH("checksum", "R__views.sql", "-1867276109", "2764738")));
	fx_release(&f);
}

static void test_superseded(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_r(&f, "views", 200);
	row_r(&f, "views", 100);
	row_r(&f, "views", 200);
	build(&f);
	ROWS(&f, "views=Superseded; views=Success");
	assert_int_equal(f.plan.pending, 0);
	check_validate(&f.plan, FUTURE, false, OK);
	check_validate(&f.plan, FUTURE, true, OK);
	fx_release(&f);

	/* without the file: only the latest run is missing */
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	row_r(&f, "old", 1);
	row_v(&f, "1", "a", 1);
	row_r(&f, "old", 2);
	build(&f);
	ROWS(&f, "old=Superseded; 1=Success; old=Missing");
	check_validate(&f.plan, FUTURE, true, MSGS(NOT_RESOLVED("old")));
	fx_release(&f);

	/* an older run outdated, the latest current */
	fx_init(&f);
	file_r(&f, "b", 2);
	file_r(&f, "a", 1);
	row_r(&f, "a", 9);
	row_r(&f, "b", 2);
	row_r(&f, "a", 1);
	build(&f);
	ROWS(&f, "a=Superseded; b=Success; a=Success");
	fx_release(&f);
}

static void test_baseline_row(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	file_v(&f, "2", "b", 2);
	file_v(&f, "3", "c", 3);
	row_add(&f, "2", "<< Flyway Baseline >>", "BASELINE", false, 0, true);
	build(&f);
	ROWS(&f, "1=Below Baseline; 2=Ignored (Baseline); 2[BASELINE]=Baseline; 3=Pending");
	assert_int_equal(f.plan.pending, 1);
	assert_string_equal(f.plan.current.text, "2");
	check_validate(&f.plan, FUTURE, true, OK);
	check_validate(&f.plan, FUTURE, false, MSGS(PENDING_V("3")));
	/* Flyway's info columns for the marker row */
	const struct eng_info *b = f.plan.rows.items[2];
	assert_string_equal(eng_info_category(b), "");
	assert_string_equal(eng_info_type(b), "BASELINE");
	assert_string_equal(eng_info_description(b), "<< Flyway Baseline >>");
	const struct eng_info *v1 = f.plan.rows.items[0];
	assert_string_equal(eng_info_category(v1), "Versioned");
	fx_release(&f);

	/* rows below the baseline in the history are not validated */
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	file_v(&f, "3", "c", 3);
	row_v(&f, "1", "a", 99);
	row_add(&f, "2", "<< Flyway Baseline >>", "BASELINE", false, 0, true);
	row_v(&f, "3", "c", 3);
	build(&f);
	ROWS(&f, "1=Success; 2[BASELINE]=Baseline; 3=Success");
	check_validate(&f.plan, FUTURE, true, OK);
	fx_release(&f);
}

static void test_baseline_migration(void **state)
{
	(void)state;
	struct fx f;
	/* a B file on an empty history is the starting point */
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	file_v(&f, "2", "b", 2);
	file_add(&f, ENG_KIND_BASELINE, "2", "base", 20);
	file_v(&f, "3", "c", 3);
	build(&f);
	ROWS(&f, "1=Below Baseline; 2=Ignored (Baseline); 2[SQL_BASELINE]=Pending; 3=Pending");
	assert_int_equal(f.plan.pending, 2);
	const struct eng_info *b = f.plan.rows.items[2];
	assert_string_equal(eng_info_category(b), "Baseline");
	fx_release(&f);

	/* once applied */
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	file_v(&f, "2", "b", 2);
	file_add(&f, ENG_KIND_BASELINE, "2", "base", 20);
	file_v(&f, "3", "c", 3);
	row_add(&f, "2", "base", "SQL_BASELINE", true, 20, true);
	build(&f);
	ROWS(&f, "1=Below Baseline; 2=Ignored (Baseline); 2[SQL_BASELINE]=Baseline; 3=Pending");
	check_validate(&f.plan, FUTURE, true, OK);
	fx_release(&f);
}

/*
 * DELETE rows (written by repair): a successful one marks the latest
 * earlier row of its version as Deleted. A versioned DELETE row is not
 * listed itself (MigrationInfoServiceImpl.getAppliedVersionedMigrations
 * `continue`s past it); a repeatable one is, as Success.
 */
static void test_delete_rows(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "2", "b", 2);
	row_v(&f, "1", "a", 1);
	row_v(&f, "2", "b", 2);
	row_add(&f, "1", "a", "DELETE", true, 1, true);
	build(&f);
	ROWS(&f, "1=Deleted; 2=Success");
	assert_int_equal(f.plan.missing, 0);
	check_validate(&f.plan, NONE, true, OK);
	fx_release(&f);
}

static void test_delete_row_repeatable(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	row_v(&f, "1", "a", 1);
	row_r(&f, "old", 5);
	row_add(&f, NULL, "old", "DELETE", true, 5, true);
	build(&f);
	ROWS(&f, "1=Success; old=Deleted; old[DELETE]=Success");
	check_validate(&f.plan, NONE, true, OK);
	const struct eng_info *d = f.plan.rows.items[2];
	assert_string_equal(eng_info_category(d), "");
	fx_release(&f);

	/* a deleted repeatable with its file back is pending */
	fx_init(&f);
	file_r(&f, "views", 5);
	row_r(&f, "views", 5);
	row_add(&f, NULL, "views", "DELETE", true, 5, true);
	build(&f);
	ROWS(&f, "views=Deleted; views[DELETE]=Success; views=Pending");
	assert_int_equal(f.plan.pending, 1);
	fx_release(&f);
}

/* Deleted, then applied again: the new row stands. */
static void test_delete_then_reapplied(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_v(&f, "1", "a", 1);
	row_v(&f, "1", "a", 1);
	row_add(&f, "1", "a", "DELETE", true, 1, true);
	row_v(&f, "1", "a", 1);
	build(&f);
	ROWS(&f, "1=Deleted; 1=Success");
	assert_int_equal(f.plan.pending, 0);
	check_validate(&f.plan, FUTURE, false, OK);
	fx_release(&f);
}

static void test_delete_twice(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	row_v(&f, "1", "a", 1);
	row_add(&f, "1", "a", "DELETE", true, 1, true);
	row_add(&f, "1", "a", "DELETE", true, 1, true);
	struct err e = ERR_INIT;
	assert_int_equal(eng_plan_build(&f.files, &f.applied, NULL, &f.plan, &e), ERR_VALIDATE);
	assert_string_equal(e.msg, "Corrupted schema history: multiple delete entries for version 1");
	fx_release(&f);

	/* the version text in the message is Flyway's MigrationVersion: "1.0" */
	fx_init(&f);
	row_v(&f, "1.0", "a", 1);
	row_add(&f, "1.0", "a", "DELETE", true, 1, true);
	row_add(&f, "1.0", "a", "DELETE", true, 1, true);
	assert_int_equal(eng_plan_build(&f.files, &f.applied, NULL, &f.plan, &e), ERR_VALIDATE);
	assert_string_equal(e.msg, "Corrupted schema history: multiple delete entries for version 1.0");
	fx_release(&f);
}

/* Repeatables: markRepeatableAsDeleted just returns when already deleted. */
static void test_delete_twice_repeatable(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	row_r(&f, "old", 5);
	row_add(&f, NULL, "old", "DELETE", true, 5, true);
	row_add(&f, NULL, "old", "DELETE", true, 5, true);
	build(&f);
	ROWS(&f, "old=Deleted; old[DELETE]=Success; old[DELETE]=Success");
	fx_release(&f);
}

static void three_files(struct fx *f)
{
	file_v(f, "1", "a", 1);
	file_v(f, "2", "b", 2);
	file_v(f, "3", "c", 3);
	file_r(f, "views", 4);
}

static void test_target(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	three_files(&f);
	build_opts(&f, "2", false);
	ROWS(&f, "1=Pending; 2=Pending; 3=Above Target; views=Pending");
	assert_int_equal(f.plan.pending, 3);
	check_validate(&f.plan, FUTURE, false, MSGS(PENDING_V("1"), PENDING_V("2"), PENDING_R("views")));
	fx_release(&f);

	fx_init(&f);
	three_files(&f);
	row_v(&f, "1", "a", 1);
	build_opts(&f, "next", false);
	ROWS(&f, "1=Success; 2=Pending; 3=Above Target; views=Pending");
	fx_release(&f);

	fx_init(&f);
	three_files(&f);
	row_v(&f, "1", "a", 1);
	build_opts(&f, "current", false);
	ROWS(&f, "1=Success; 2=Above Target; 3=Above Target; views=Pending");
	fx_release(&f);

	fx_init(&f);
	three_files(&f);
	build_opts(&f, "latest", false);
	ROWS(&f, "1=Pending; 2=Pending; 3=Pending; views=Pending");
	fx_release(&f);

	/* a target found by version equality */
	fx_init(&f);
	three_files(&f);
	build_opts(&f, "2.0", false);
	ROWS(&f, "1=Pending; 2=Pending; 3=Above Target; views=Pending");
	fx_release(&f);

	/* a target that only the history has */
	fx_init(&f);
	file_v(&f, "3", "c", 3);
	row_v(&f, "1", "a", 1);
	build_opts(&f, "1", false);
	ROWS(&f, "1=Missing; 3=Above Target");
	fx_release(&f);

	/* missing target: Flyway's error; with '?' it is fine */
	fx_init(&f);
	three_files(&f);
	struct eng_plan_options o = { "9", false };
	struct err e = ERR_INIT;
	assert_int_equal(eng_plan_build(&f.files, &f.applied, &o, &f.plan, &e), ERR_VALIDATE);
	assert_string_equal(e.msg, "No migration with a target version 9 could be found. Ensure target is specified correctly and the migration exists.");
	build_opts(&f, "9?", false);
	ROWS(&f, "1=Pending; 2=Pending; 3=Pending; views=Pending");
	fx_release(&f);

	/* a malformed target is Flyway's version message */
	fx_init(&f);
	three_files(&f);
	struct eng_plan_options bad = { "x.y", false };
	assert_int_not_equal(eng_plan_build(&f.files, &f.applied, &bad, &f.plan, &e), ERR_OK);
	assert_string_equal(e.msg, "Version may only contain 0..9 and . (dot). Invalid version: x.y");
	fx_release(&f);
}

/* Display order: below-baseline first, history rows by rank, unapplied
 * versioned files by version, repeatables last by description. */
static void test_display_order(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	file_r(&f, "zeta", 1);
	file_v(&f, "10", "j", 10);
	file_r(&f, "alpha", 2);
	file_v(&f, "1", "a", 1);
	file_v(&f, "9", "i", 9);
	file_v(&f, "2", "b", 2);
	file_v(&f, "1.5", "a5", 15);
	file_r(&f, "Beta", 3);
	row_add(&f, "2", "<< Flyway Baseline >>", "BASELINE", false, 0, true);
	row_r(&f, "zeta", 1);
	row_v(&f, "9", "i", 9);
	build(&f);
	ROWS(&f, "1=Below Baseline; 1.5=Below Baseline; 2=Ignored (Baseline); "
		 "2[BASELINE]=Baseline; zeta=Success; 9=Success; 10=Pending; "
		 "Beta=Pending; alpha=Pending");
	fx_release(&f);
}

static void test_state_names(void **state)
{
	(void)state;
	static const char *const names[ENG_STATE_COUNT] = {
		[ENG_STATE_PENDING] = "Pending", [ENG_STATE_ABOVE_TARGET] = "Above Target",
		[ENG_STATE_BELOW_BASELINE] = "Below Baseline",
		[ENG_STATE_BASELINE_IGNORED] = "Ignored (Baseline)",
		[ENG_STATE_BASELINE] = "Baseline", [ENG_STATE_IGNORED] = "Ignored",
		[ENG_STATE_MISSING_SUCCESS] = "Missing", [ENG_STATE_MISSING_FAILED] = "Failed (Missing)",
		[ENG_STATE_SUCCESS] = "Success", [ENG_STATE_UNDONE] = "Undone",
		[ENG_STATE_AVAILABLE] = "Available", [ENG_STATE_FAILED] = "Failed",
		[ENG_STATE_OUT_OF_ORDER] = "Out of Order", [ENG_STATE_FUTURE_SUCCESS] = "Future",
		[ENG_STATE_FUTURE_FAILED] = "Failed (Future)", [ENG_STATE_OUTDATED] = "Outdated",
		[ENG_STATE_SUPERSEDED] = "Superseded", [ENG_STATE_DELETED] = "Deleted",
	};
	/* spec §5: failed / applied columns */
	static const bool failed[ENG_STATE_COUNT] = {
		[ENG_STATE_MISSING_FAILED] = true, [ENG_STATE_FAILED] = true,
		[ENG_STATE_FUTURE_FAILED] = true,
	};
	static const bool applied[ENG_STATE_COUNT] = {
		[ENG_STATE_BASELINE] = true, [ENG_STATE_MISSING_SUCCESS] = true,
		[ENG_STATE_MISSING_FAILED] = true, [ENG_STATE_SUCCESS] = true,
		[ENG_STATE_UNDONE] = true, [ENG_STATE_FAILED] = true,
		[ENG_STATE_OUT_OF_ORDER] = true, [ENG_STATE_FUTURE_SUCCESS] = true,
		[ENG_STATE_FUTURE_FAILED] = true, [ENG_STATE_OUTDATED] = true,
		[ENG_STATE_SUPERSEDED] = true, [ENG_STATE_DELETED] = true,
	};
	for (int s = 0; s < ENG_STATE_COUNT; s++) {
		assert_string_equal(eng_state_name((enum eng_state)s), names[s]);
		assert_int_equal(eng_state_is_failed((enum eng_state)s), failed[s]);
		assert_int_equal(eng_state_is_applied((enum eng_state)s), applied[s]);
	}
}

/* ---- ignore patterns (ValidatePattern.fromPattern) ----------------------- */

static void test_ignore_pattern_check(void **state)
{
	(void)state;
	static const struct {
		const char *pattern;
		const char *msg; /* NULL: valid */
	} cases[] = {
		{ "*:future", NULL },
		{ "*:missing", NULL },
		{ "versioned:pending", NULL },
		{ "repeatable:ignored", NULL },
		{ "*:*", NULL },
		{ "Versioned:PENDING", NULL },
		{ " versioned : pending ", NULL },            /* parts are trimmed */
		{ "versioned:pending:", NULL },               /* split drops trailing empties */
		{ "foo:bar", "Invalid migration type 'foo'. Valid types are: [*, repeatable, versioned]" },
		{ "*:bar", "Invalid migration state 'bar'. Valid states are: [*, missing, pending, ignored, future]" },
		{ "*:outdated", "Invalid migration state 'outdated'. Valid states are: [*, missing, pending, ignored, future]" },
		{ ":pending", "Invalid migration type ''. Valid types are: [*, repeatable, versioned]" },
		{ "future", "Invalid pattern 'future'. Pattern must be of the form <migration_type>:<migration_state> See " PATTERN_URL " for full details" },
		{ "versioned:", "Invalid pattern 'versioned:'. Pattern must be of the form <migration_type>:<migration_state> See " PATTERN_URL " for full details" },
		{ "*:future:x", "Invalid pattern '*:future:x'. Pattern must be of the form <migration_type>:<migration_state> See " PATTERN_URL " for full details" },
		{ "", "Invalid pattern ''. Pattern must be of the form <migration_type>:<migration_state> See " PATTERN_URL " for full details" },
	};
	int fails = 0;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct err e = ERR_INIT;
		enum err_code c = eng_ignore_pattern_check(cases[i].pattern, &e);
		bool ok = cases[i].msg ? c != ERR_OK && !strcmp(e.msg, cases[i].msg) : c == ERR_OK;
		if (!ok) {
			print_error("pattern '%s': code %d '%s'\n  want %s\n", cases[i].pattern, c,
				    e.msg, cases[i].msg ? cases[i].msg : "valid");
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_applied),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_empty_history),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_future),
		cmocka_unit_test(test_future_failed),
		cmocka_unit_test(test_ignored_and_out_of_order),
		cmocka_unit_test(test_checksum_mismatch),
		cmocka_unit_test(test_description_mismatch),
		cmocka_unit_test(test_repeatable_outdated),
		cmocka_unit_test(test_repeatable_equivalent_checksum),
		cmocka_unit_test(test_repeatable_equivalent_on_migrate),
		cmocka_unit_test(test_superseded),
		cmocka_unit_test(test_baseline_row),
		cmocka_unit_test(test_baseline_migration),
		cmocka_unit_test(test_delete_rows),
		cmocka_unit_test(test_delete_row_repeatable),
		cmocka_unit_test(test_delete_then_reapplied),
		cmocka_unit_test(test_delete_twice),
		cmocka_unit_test(test_delete_twice_repeatable),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_display_order),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_ignore_pattern_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
