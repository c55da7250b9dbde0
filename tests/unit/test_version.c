/*
 * test_version — Flyway's MigrationVersion (spec §2.1): parsing with its
 * exact error message, numeric comparison with trailing zero parts
 * ignored, BigInteger parts (any length, optional sign), the display text
 * kept as written after '_' → '.', and deep copies. Table-driven: every
 * row is checked and every mismatch printed before the test fails.
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

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* ---- comparison --------------------------------------------------------- */

struct cmp_case {
	const char *a, *b;
	int want; /* -1, 0, 1 */
};

static const struct cmp_case cmp_cases[] = {
	/* spec §2.1 [ran] */
	{ "1", "1.0", 0 },
	{ "1", "01", 0 },
	{ "1", "1_0", 0 },
	{ "1", "1.0.0", 0 },
	{ "1.0", "1_0", 0 },
	{ "01", "1.0.0", 0 },
	{ "1.01", "1.1", 0 },
	{ "1.10", "1.9", 1 },
	{ "1.2", "1.10", -1 },
	{ "2", "1.99", 1 },
	{ "1.0.1", "1.0.0.1", 1 },
	{ "10", "9", 1 },
	{ "0", "0.0", 0 },
	{ "0", "000", 0 },
	{ "0.0.0", "0", 0 },
	{ "0.1", "0", 1 },
	/* BigInteger: arbitrary length, compared numerically not textually */
	{ "123456789012345678901234567890", "123456789012345678901234567889", 1 },
	{ "99999999999999999999", "100000000000000000000", -1 },
	{ "1.18446744073709551616", "1.18446744073709551615", 1 },
	{ "0000000000000000000001", "1", 0 },
	{ "2.0", "10", -1 },
	{ "1.2.3", "1.2.3.0.0", 0 },
	{ "1.2.3", "1.2.3.0.1", -1 },
	{ "3", "2.999.999", 1 },
	/* BigInteger accepts a sign */
	{ "+1", "1", 0 },
	{ "-1", "0", -1 },
	{ "-1", "-2", 1 },
	{ "-10", "-9", -1 },
	{ "-0", "0", 0 },
	{ "+0", "0.0", 0 },
	{ "-1.5", "-1", 1 },  /* parts [-1, 5] vs [-1]: 5 > 0 */
	{ "-1.5", "0", -1 },
};

static bool parses(const char *s)
{
	struct eng_version v;
	struct err e = ERR_INIT;
	bool ok = eng_version_parse(s, &v, &e) == ERR_OK;
	if (ok)
		eng_version_release(&v);
	return ok;
}

static void test_cmp_table(void **state)
{
	(void)state;
	int fails = 0;
	for (size_t i = 0; i < sizeof cmp_cases / sizeof *cmp_cases; i++) {
		const struct cmp_case *c = &cmp_cases[i];
		if (!parses(c->a) || !parses(c->b)) {
			print_error("cmp case %zu: %s or %s did not parse\n", i, c->a, c->b);
			fails++;
			continue;
		}
		struct eng_version a, b;
		struct err e = ERR_INIT;
		assert_int_equal(eng_version_parse(c->a, &a, &e), ERR_OK);
		assert_int_equal(eng_version_parse(c->b, &b, &e), ERR_OK);
		int ab = sign(eng_version_cmp(&a, &b)), ba = sign(eng_version_cmp(&b, &a));
		if (ab != c->want || ba != -c->want) {
			print_error("cmp case %zu: cmp(%s, %s) = %d, reverse %d; want %d\n", i, c->a,
				    c->b, ab, ba, c->want);
			fails++;
		}
		if (eng_version_cmp(&a, &a) != 0) {
			print_error("cmp case %zu: %s is not equal to itself\n", i, c->a);
			fails++;
		}
		eng_version_release(&a);
		eng_version_release(&b);
	}
	assert_int_equal(fails, 0);
}

/* Sorting a shuffled list by eng_version_cmp gives Flyway's order. */
static void test_cmp_total_order(void **state)
{
	(void)state;
	static const char *const sorted[] = {
		"-2", "-1", "-1.5", "0", "0.0.1", "0.1", "1", "1.0.0.1", "1.0.1", "1.1", "1.2",
		"1.9", "1.10", "1.99", "2", "9", "10", "100", "123456789012345678901234567889",
		"123456789012345678901234567890",
	};
	size_t n = sizeof sorted / sizeof *sorted;
	struct eng_version v[sizeof sorted / sizeof *sorted];
	struct err e = ERR_INIT;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(eng_version_parse(sorted[i], &v[i], &e), ERR_OK);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int want = i < j ? -1 : i > j ? 1 : 0;
			if (sign(eng_version_cmp(&v[i], &v[j])) != want)
				fail_msg("cmp(%s, %s) != %d", sorted[i], sorted[j], want);
		}
	for (size_t i = 0; i < n; i++)
		eng_version_release(&v[i]);
}

/* ---- display text -------------------------------------------------------- */

struct text_case {
	const char *in, *text;
};

static const struct text_case text_cases[] = {
	{ "1", "1" },
	{ "1_0", "1.0" },
	{ "001.002", "001.002" },
	{ "1.0.0", "1.0.0" },
	{ "2_1_3", "2.1.3" },
	{ "01", "01" },
	{ "+1", "+1" },
	{ "-1", "-1" },
	{ "1_01", "1.01" },
	{ "123456789012345678901234567890", "123456789012345678901234567890" },
};

static void test_display_text(void **state)
{
	(void)state;
	int fails = 0;
	for (size_t i = 0; i < sizeof text_cases / sizeof *text_cases; i++) {
		const struct text_case *c = &text_cases[i];
		struct eng_version v;
		struct err e = ERR_INIT;
		if (eng_version_parse(c->in, &v, &e) != ERR_OK) {
			print_error("text case %zu: %s refused: %s\n", i, c->in, e.msg);
			fails++;
			continue;
		}
		if (!v.text || strcmp(v.text, c->text)) {
			print_error("text case %zu: %s has text '%s', want '%s'\n", i, c->in,
				    v.text ? v.text : "(null)", c->text);
			fails++;
		}
		eng_version_release(&v);
	}
	assert_int_equal(fails, 0);
}

/* ---- invalid versions ---------------------------------------------------- */

struct bad_case {
	const char *in;
	const char *shown; /* the normalized text in the message */
};

static const struct bad_case bad_cases[] = {
	{ "1.", "1." },
	{ ".1", ".1" },
	{ "1..2", "1..2" },
	{ "1.a", "1.a" },
	{ "a", "a" },
	{ "1-2", "1-2" },
	{ "1 2", "1 2" },
	{ "", "" },
	{ "1_a", "1.a" },     /* the message shows the text after '_' → '.' */
	{ "1__2", "1..2" },
	{ "+", "+" },
	{ "-", "-" },
	{ "1.-1", "1.-1" },   /* '.' before '-' does not split: "1.-1" is no integer */
	{ "1.+2", "1.+2" },
	{ "+-1", "+-1" },
	{ "1.2.", "1.2." },
	{ "v1", "v1" },
	{ "1e3", "1e3" },
	{ "0x10", "0x10" },
	{ " 1", " 1" },
	{ "1 ", "1 " },
	{ "1,2", "1,2" },
};

static void test_invalid(void **state)
{
	(void)state;
	int fails = 0;
	for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
		const struct bad_case *c = &bad_cases[i];
		struct eng_version v;
		struct err e = ERR_INIT;
		char want[256];
		snprintf(want, sizeof want,
			 "Version may only contain 0..9 and . (dot). Invalid version: %s", c->shown);
		enum err_code code = eng_version_parse(c->in, &v, &e);
		if (code != ERR_PARSE) {
			print_error("bad case %zu: '%s' gave code %d, want ERR_PARSE\n", i, c->in, code);
			fails++;
			if (code == ERR_OK)
				eng_version_release(&v);
			continue;
		}
		if (strcmp(e.msg, want)) {
			print_error("bad case %zu: '%s'\n  got  '%s'\n  want '%s'\n", i, c->in, e.msg,
				    want);
			fails++;
		}
		/* a failed parse leaves nothing to free */
		assert_null(v.text);
		assert_null(v.parts);
		assert_int_equal(v.nparts, 0);
	}
	assert_int_equal(fails, 0);
}

/* A NULL err is allowed (the name parser passes one). */
static void test_invalid_without_err(void **state)
{
	(void)state;
	struct eng_version v;
	assert_int_equal(eng_version_parse("x", &v, NULL), ERR_PARSE);
	assert_int_equal(eng_version_parse("1.2", &v, NULL), ERR_OK);
	assert_string_equal(v.text, "1.2");
	eng_version_release(&v);
}

/* ---- copy / release ------------------------------------------------------ */

static void test_copy_is_deep(void **state)
{
	(void)state;
	static const char *const ins[] = { "1_0", "001.002", "-3.0.7", "0", "0.0",
					   "123456789012345678901234567890.5" };
	for (size_t i = 0; i < sizeof ins / sizeof *ins; i++) {
		struct eng_version src, dst, ref;
		struct err e = ERR_INIT;
		assert_int_equal(eng_version_parse(ins[i], &src, &e), ERR_OK);
		assert_int_equal(eng_version_parse(ins[i], &ref, &e), ERR_OK);
		eng_version_copy(&dst, &src);
		assert_int_equal(dst.nparts, src.nparts);
		assert_string_equal(dst.text, src.text);
		assert_true(dst.text != src.text);
		for (size_t k = 0; k < src.nparts; k++) {
			assert_string_equal(dst.parts[k], src.parts[k]);
			assert_true(dst.parts[k] != src.parts[k]);
		}
		eng_version_release(&src);
		/* after the source is gone, the copy still compares equal */
		assert_int_equal(eng_version_cmp(&dst, &ref), 0);
		assert_string_equal(dst.text, ref.text);
		eng_version_release(&dst);
		eng_version_release(&ref);
		assert_null(dst.text);
		assert_null(dst.parts);
	}
}

/* Releasing a zeroed version (a repeatable's) is a no-op; copying one too. */
static void test_zeroed(void **state)
{
	(void)state;
	struct eng_version z = { 0 }, c;
	eng_version_copy(&c, &z);
	assert_null(c.text);
	assert_int_equal(c.nparts, 0);
	eng_version_release(&c);
	eng_version_release(&z);
	struct eng_version one;
	assert_int_equal(eng_version_parse("0", &one, NULL), ERR_OK);
	/* a zeroed version compares like 0 (no parts) */
	assert_int_equal(eng_version_cmp(&one, &z), 0);
	eng_version_release(&one);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmp_table),
		cmocka_unit_test(test_cmp_total_order),
		cmocka_unit_test(test_display_text),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_invalid_without_err),
		cmocka_unit_test(test_copy_is_deep),
		cmocka_unit_test(test_zeroed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
