/*
 * test_name — Flyway's migration file names (spec §2, ResourceNameParser):
 * prefix case-sensitive, suffix case-insensitive, the first separator
 * splits version from description, '_' → ' ' in the description and
 * nothing else, callbacks are not migrations, and Flyway's messages for
 * malformed names word for word. Also the description / script
 * abbreviations (AbbreviationUtils, lengths in UTF-16 units).
 * Table-driven: every row is checked and every mismatch printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"

static const char *const default_suffixes[] = { ".sql" };
static const struct eng_naming default_naming = {
	"V", "R", "B", "__", default_suffixes, 1,
};

enum { OK = ENG_NAME_OK, NOT = ENG_NAME_NOT_SQL, BAD = ENG_NAME_INVALID };
enum { V = ENG_KIND_VERSIONED, R = ENG_KIND_REPEATABLE, B = ENG_KIND_BASELINE };

struct name_case {
	const char *file;
	int result;
	int kind;             /* OK only */
	const char *version;  /* OK, V/B only: display text */
	const char *desc;     /* OK only */
	const char *msg;      /* BAD only: Flyway's exact message */
};

static const struct name_case default_cases[] = {
	/* spec §2 */
	{ "V1__x.sql", OK, V, "1", "x", NULL },
	{ "V1.1__My_desc.sql", OK, V, "1.1", "My desc", NULL },
	{ "V1__my__desc.sql", OK, V, "1", "my  desc", NULL },
	{ "V1___x.sql", OK, V, "1", " x", NULL },
	{ "V1.sql", OK, V, "1", "", NULL },
	{ "V1__.sql", OK, V, "1", "", NULL },
	{ "V1_2.sql", OK, V, "1.2", "", NULL },
	{ "V1__x.SQL", OK, V, "1", "x", NULL },
	{ "V1__x.Sql", OK, V, "1", "x", NULL },
	{ "V01__x.sql", OK, V, "01", "x", NULL },
	{ "V1.0__x.sql", OK, V, "1.0", "x", NULL },
	{ "V1_0_1__x.sql", OK, V, "1.0.1", "x", NULL },
	{ "V2_1__a_b.c-d.sql", OK, V, "2.1", "a b.c-d", NULL },
	{ "V1__x.sql.sql", OK, V, "1", "x.sql", NULL },
	{ "V1__Add_Index ON t.sql", OK, V, "1", "Add Index ON t", NULL },
	{ "V1__caf\xc3\xa9_\xc3\xbc.sql", OK, V, "1", "caf\xc3\xa9 \xc3\xbc", NULL },
	{ "V-1__neg.sql", OK, V, "-1", "neg", NULL },
	{ "V+1__pos.sql", OK, V, "+1", "pos", NULL },
	{ "V123456789012345678901234567890__big.sql", OK, V,
	  "123456789012345678901234567890", "big", NULL },
	{ "R__views.sql", OK, R, NULL, "views", NULL },
	{ "R__my_view.sql", OK, R, NULL, "my view", NULL },
	{ "R__.sql", OK, R, NULL, "", NULL },
	{ "R___x.sql", OK, R, NULL, " x", NULL },
	{ "R__x.SQL", OK, R, NULL, "x", NULL },
	{ "B5__base.sql", OK, B, "5", "base", NULL },
	{ "B1_1.sql", OK, B, "1.1", "", NULL },

	/* not migrations, and not counted by Flyway's naming validator:
	 * callbacks, other suffixes, and names the scanner never offers */
	{ "beforeMigrate.sql", NOT, 0, NULL, NULL, NULL },
	{ "afterMigrate__x.sql", NOT, 0, NULL, NULL, NULL },
	{ "beforeEachMigrateStatement.sql", NOT, 0, NULL, NULL, NULL },
	{ "afterEachMigrateError__log.sql", NOT, 0, NULL, NULL, NULL },
	{ "beforeRepeatables.sql", NOT, 0, NULL, NULL, NULL },
	{ "createSchema.sql", NOT, 0, NULL, NULL, NULL },
	{ "afterConnect__a.sql", NOT, 0, NULL, NULL, NULL },
	{ "beforeValidate.SQL", NOT, 0, NULL, NULL, NULL },
	{ "V1__x.txt", NOT, 0, NULL, NULL, NULL },
	{ "V1__x.sql.conf", NOT, 0, NULL, NULL, NULL },
	{ "V1__x.sqlx", NOT, 0, NULL, NULL, NULL },
	{ "V1__x", NOT, 0, NULL, NULL, NULL },
	{ "R.sql", NOT, 0, NULL, NULL, NULL },  /* a valid (empty) repeatable name */
	{ ".sql", NOT, 0, NULL, NULL, NULL },   /* not longer than "" + ".sql" */
	{ "", NOT, 0, NULL, NULL, NULL },
	{ "sql", NOT, 0, NULL, NULL, NULL },

	/* malformed: ResourceNameValidator's messages (every *.sql is parsed),
	 * with the file's own description, separator and suffix in the example */
	{ "v1__x.sql", BAD, 0, NULL, NULL, "Unrecognised migration name format: v1__x.sql" },
	{ "r__x.sql", BAD, 0, NULL, NULL, "Unrecognised migration name format: r__x.sql" },
	{ "seed.sql", BAD, 0, NULL, NULL, "Unrecognised migration name format: seed.sql" },
	{ "V.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: V.sql (It must contain a version and should look like this: V1.2__description.sql)" },
	{ "B.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: B.sql (It must contain a version and should look like this: B1.2__description.sql)" },
	{ "beforeMigrate1.sql", BAD, 0, NULL, NULL,
	  "Invalid repeatable migration / callback name format: beforeMigrate1.sql (It cannot contain a version and should look like this: beforeMigrate__description.sql)" },
	{ "afterMigrate1__x.sql", BAD, 0, NULL, NULL,
	  "Invalid repeatable migration / callback name format: afterMigrate1__x.sql (It cannot contain a version and should look like this: afterMigrate__x.sql)" },
	{ "R1__x.sql", BAD, 0, NULL, NULL,
	  "Invalid repeatable migration / callback name format: R1__x.sql (It cannot contain a version and should look like this: R__x.sql)" },
	{ "R1.sql", BAD, 0, NULL, NULL,
	  "Invalid repeatable migration / callback name format: R1.sql (It cannot contain a version and should look like this: R__description.sql)" },
	{ "R1__x.SQL", BAD, 0, NULL, NULL,
	  "Invalid repeatable migration / callback name format: R1__x.SQL (It cannot contain a version and should look like this: R__x.SQL)" },
	{ "Rv2__my_view.sql", BAD, 0, NULL, NULL,
	  "Invalid repeatable migration / callback name format: Rv2__my_view.sql (It cannot contain a version and should look like this: R__my_view.sql)" },
	{ "Vx__y.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: Vx__y.sql (could not recognise version number x)" },
	{ "V1.a__b.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: V1.a__b.sql (could not recognise version number 1.a)" },
	{ "V1_a__b.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: V1_a__b.sql (could not recognise version number 1_a)" },
	{ "V1..2__x.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: V1..2__x.sql (could not recognise version number 1..2)" },
	{ "V1.__x.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: V1.__x.sql (could not recognise version number 1.)" },
	{ "V 1__x.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: V 1__x.sql (could not recognise version number  1)" },
	{ "Version__x.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: Version__x.sql (could not recognise version number ersion)" },
	{ "Vabc.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: Vabc.sql (could not recognise version number abc)" },
	{ "V__x.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: V__x.sql (It must contain a version and should look like this: V1.2__x.sql)" },
	{ "V__.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: V__.sql (It must contain a version and should look like this: V1.2__description.sql)" },
	{ "V__my_desc.SQL", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: V__my_desc.SQL (It must contain a version and should look like this: V1.2__my_desc.SQL)" },
	{ "B__x.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: B__x.sql (It must contain a version and should look like this: B1.2__x.sql)" },
	{ "Bx__y.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: Bx__y.sql (could not recognise version number x)" },
};

static const char *const custom_suffixes[] = { ".sql", ".ddl" };
static const struct eng_naming custom_naming = {
	"M", "Rep", "Base", "-", custom_suffixes, 2,
};

static const struct name_case custom_cases[] = {
	{ "M1-x.sql", OK, V, "1", "x", NULL },
	{ "M1_1-a_b.ddl", OK, V, "1.1", "a b", NULL },
	{ "M2-a-b.sql", OK, V, "2", "a-b", NULL },
	{ "M3.sql", OK, V, "3", "", NULL },
	{ "M4-x.DDL", OK, V, "4", "x", NULL },
	{ "Rep-v.sql", OK, R, NULL, "v", NULL },
	{ "Rep-my_view.ddl", OK, R, NULL, "my view", NULL },
	{ "Base2-b.ddl", OK, B, "2", "b", NULL },
	{ "M1-x.txt", NOT, 0, NULL, NULL, NULL },
	{ "V1__x.sql", BAD, 0, NULL, NULL, "Unrecognised migration name format: V1__x.sql" },
	{ "R__x.sql", BAD, 0, NULL, NULL, "Unrecognised migration name format: R__x.sql" },
	{ "m1-x.sql", BAD, 0, NULL, NULL, "Unrecognised migration name format: m1-x.sql" },
	{ "M.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: M.sql (It must contain a version and should look like this: M1.2-description.sql)" },
	{ "Rep.ddl", NOT, 0, NULL, NULL, NULL },
	{ "afterMigrate.ddl", NOT, 0, NULL, NULL, NULL },
	{ "M1__x.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: M1__x.sql (could not recognise version number 1__x)" },
	{ "M-x.sql", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: M-x.sql (It must contain a version and should look like this: M1.2-x.sql)" },
	{ "M-.ddl", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: M-.ddl (It must contain a version and should look like this: M1.2-description.ddl)" },
	{ "Rep1-v.sql", BAD, 0, NULL, NULL,
	  "Invalid repeatable migration / callback name format: Rep1-v.sql (It cannot contain a version and should look like this: Rep-v.sql)" },
	{ "Base-b.ddl", BAD, 0, NULL, NULL,
	  "Invalid versioned migration name format: Base-b.ddl (It must contain a version and should look like this: Base1.2-b.ddl)" },
};

/* Prefixes sharing a start: Flyway tries the longest first. */
static const struct eng_naming nested_naming = {
	"V", "VR", "B", "__", default_suffixes, 1,
};

static const struct name_case nested_cases[] = {
	{ "VR__x.sql", OK, R, NULL, "x", NULL },
	{ "V1__x.sql", OK, V, "1", "x", NULL },
	{ "VR1__x.sql", BAD, 0, NULL, NULL,
	  "Invalid repeatable migration / callback name format: VR1__x.sql (It cannot contain a version and should look like this: VR__x.sql)" },
};

/* The first configured suffix that matches wins (".sql" before ".pg.sql"). */
static const char *const overlapping_suffixes[] = { ".sql", ".pg.sql" };
static const struct eng_naming overlapping_naming = {
	"V", "R", "B", "__", overlapping_suffixes, 2,
};

static const struct name_case overlapping_cases[] = {
	{ "V1__x.pg.sql", OK, V, "1", "x.pg", NULL },
};

static int check_cases(const char *label, const struct eng_naming *n,
		       const struct name_case *cases, size_t count)
{
	int fails = 0;
	for (size_t i = 0; i < count; i++) {
		const struct name_case *c = &cases[i];
		struct eng_name out;
		struct err e = ERR_INIT;
		enum eng_name_result r = eng_name_parse(c->file, n, &out, &e);
		if ((int)r != c->result) {
			print_error("%s case %zu '%s': result %d, want %d (%s)\n", label, i, c->file,
				    r, c->result, e.msg);
			fails++;
			if (r == ENG_NAME_OK)
				eng_name_release(&out);
			continue;
		}
		if (r == ENG_NAME_INVALID && strcmp(e.msg, c->msg)) {
			print_error("%s case %zu '%s':\n  got  '%s'\n  want '%s'\n", label, i, c->file,
				    e.msg, c->msg);
			fails++;
		}
		if (r != ENG_NAME_OK)
			continue;
		if ((int)out.kind != c->kind) {
			print_error("%s case %zu '%s': kind %d, want %d\n", label, i, c->file, out.kind,
				    c->kind);
			fails++;
		}
		if (c->version ? !out.version.text || strcmp(out.version.text, c->version)
			       : out.version.text != NULL) {
			print_error("%s case %zu '%s': version '%s', want '%s'\n", label, i, c->file,
				    out.version.text ? out.version.text : "(null)",
				    c->version ? c->version : "(null)");
			fails++;
		}
		if (!out.description || strcmp(out.description, c->desc)) {
			print_error("%s case %zu '%s': description '%s', want '%s'\n", label, i, c->file,
				    out.description ? out.description : "(null)", c->desc);
			fails++;
		}
		eng_name_release(&out);
	}
	return fails;
}

#define CHECK(label, naming, cases) check_cases(label, naming, cases, sizeof cases / sizeof *cases)

static void test_default_naming(void **state)
{
	(void)state;
	assert_int_equal(CHECK("default", &default_naming, default_cases), 0);
}

static void test_custom_naming(void **state)
{
	(void)state;
	assert_int_equal(CHECK("custom", &custom_naming, custom_cases), 0);
}

static void test_nested_prefixes(void **state)
{
	(void)state;
	assert_int_equal(CHECK("nested", &nested_naming, nested_cases), 0);
}

static void test_overlapping_suffixes(void **state)
{
	(void)state;
	assert_int_equal(CHECK("overlapping", &overlapping_naming, overlapping_cases), 0);
}

/* The parsed version compares like Flyway's: V1 and V1.0 and V01 are one. */
static void test_versions_compare_equal(void **state)
{
	(void)state;
	static const char *const same[] = { "V1__a.sql", "V1.0__b.sql", "V01__c.sql", "V1_0_0.sql" };
	struct eng_name first;
	assert_int_equal(eng_name_parse(same[0], &default_naming, &first, NULL), ENG_NAME_OK);
	for (size_t i = 1; i < sizeof same / sizeof *same; i++) {
		struct eng_name n;
		assert_int_equal(eng_name_parse(same[i], &default_naming, &n, NULL), ENG_NAME_OK);
		assert_int_equal(eng_version_cmp(&first.version, &n.version), 0);
		eng_name_release(&n);
	}
	eng_name_release(&first);
}

/* ---- abbreviations ------------------------------------------------------- */

static char *repeat(const char *unit, size_t n)
{
	size_t l = strlen(unit);
	char *s = malloc(l * n + 1);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * l, unit, l);
	s[l * n] = 0;
	return s;
}

/* n distinct-looking ASCII characters, so a cut in the wrong place shows. */
static char *ascii_run(size_t n)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char *s = malloc(n + 1);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = alphabet[i % (sizeof alphabet - 1)];
	s[n] = 0;
	return s;
}

static char *concat(const char *a, const char *b)
{
	char *s = malloc(strlen(a) + strlen(b) + 1);
	assert_non_null(s);
	strcpy(s, a);
	strcat(s, b);
	return s;
}

static void test_abbreviate_description(void **state)
{
	(void)state;
	char *s, *got, *want, *head;

	/* 200 characters stay */
	s = ascii_run(200);
	got = eng_abbreviate_description(s);
	assert_string_equal(got, s);
	free(got);
	free(s);

	/* 201 → the first 197 + "..." */
	s = ascii_run(201);
	head = strndup(s, 197);
	want = concat(head, "...");
	got = eng_abbreviate_description(s);
	assert_string_equal(got, want);
	assert_int_equal(strlen(got), 200);
	free(got);
	free(want);
	free(head);
	free(s);

	/* two-byte characters count once */
	s = repeat("\xc3\xa9", 200);
	got = eng_abbreviate_description(s);
	assert_string_equal(got, s);
	free(got);
	free(s);
	s = repeat("\xc3\xa9", 201);
	head = repeat("\xc3\xa9", 197);
	want = concat(head, "...");
	got = eng_abbreviate_description(s);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(head);
	free(s);

	/* three-byte characters count once */
	s = repeat("\xe2\x82\xac", 250);
	head = repeat("\xe2\x82\xac", 197);
	want = concat(head, "...");
	got = eng_abbreviate_description(s);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(head);
	free(s);

	/* a character outside the BMP is two UTF-16 units: 100 of them fit */
	s = repeat("\xf0\x9f\x98\x80", 100);
	got = eng_abbreviate_description(s);
	assert_string_equal(got, s);
	free(got);
	free(s);
	/* "a" + 100 of them is 201 units: 197 units = "a" + 98 */
	char *emoji = repeat("\xf0\x9f\x98\x80", 100);
	s = concat("a", emoji);
	char *emoji98 = repeat("\xf0\x9f\x98\x80", 98);
	head = concat("a", emoji98);
	want = concat(head, "...");
	got = eng_abbreviate_description(s);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(head);
	free(emoji98);
	free(s);
	free(emoji);

	got = eng_abbreviate_description("");
	assert_string_equal(got, "");
	free(got);
}

static void test_abbreviate_script(void **state)
{
	(void)state;
	char *s, *got, *want;

	s = ascii_run(1000);
	got = eng_abbreviate_script(s);
	assert_string_equal(got, s);
	free(got);
	free(s);

	/* 1001 → "..." + s.substring(3, 1000): 1000 characters in all */
	s = ascii_run(1001);
	char *mid = strndup(s + 3, 997);
	want = concat("...", mid);
	got = eng_abbreviate_script(s);
	assert_string_equal(got, want);
	assert_int_equal(strlen(got), 1000);
	free(got);
	free(want);
	free(mid);
	free(s);

	/* a long path: the end is kept up to unit 1000, the start dropped */
	s = ascii_run(1500);
	mid = strndup(s + 3, 997);
	want = concat("...", mid);
	got = eng_abbreviate_script(s);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(mid);
	free(s);

	/* multi-byte characters count once */
	s = repeat("\xc3\xa9", 1000);
	got = eng_abbreviate_script(s);
	assert_string_equal(got, s);
	free(got);
	free(s);
	s = repeat("\xc3\xa9", 1001);
	mid = repeat("\xc3\xa9", 997);
	want = concat("...", mid);
	got = eng_abbreviate_script(s);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(mid);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_naming),
		cmocka_unit_test(test_custom_naming),
		cmocka_unit_test(test_nested_prefixes),
		cmocka_unit_test(test_overlapping_suffixes),
		cmocka_unit_test(test_versions_compare_equal),
		cmocka_unit_test(test_abbreviate_description),
		cmocka_unit_test(test_abbreviate_script),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
