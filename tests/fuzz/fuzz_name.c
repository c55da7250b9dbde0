/*
 * fuzz_name — libFuzzer target for migration file names and versions.
 *
 * The input is split at NUL bytes into up to three strings a, b, c. Each
 * is parsed as a file name (default and custom naming) and as a version.
 * Checked: parsing never crashes or leaks; a parsed name has a description
 * without '_' and, unless repeatable, a version; a parsed version's text
 * is the input with '_' → '.'; comparison is reflexive, antisymmetric and
 * transitive and agrees with copies; the abbreviations stay within
 * Flyway's lengths for valid UTF-8.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static const char *const sql_suffixes[] = { ".sql" };
static const struct eng_naming default_naming = { "V", "R", "B", "__", sql_suffixes, 1 };
static const char *const custom_suffixes[] = { ".sql", ".ddl" };
static const struct eng_naming custom_naming = { "M", "Rep", "Base", "-", custom_suffixes, 2 };

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void check_name(const char *s, const struct eng_naming *n)
{
	struct eng_name out;
	struct err e = ERR_INIT;
	enum eng_name_result r = eng_name_parse(s, n, &out, &e);
	CHECK(r == ENG_NAME_OK || r == ENG_NAME_NOT_SQL || r == ENG_NAME_INVALID);
	if (r == ENG_NAME_INVALID)
		CHECK(e.code == ERR_PARSE && e.msg[0]);
	if (r != ENG_NAME_OK)
		return;
	CHECK(out.description && !strchr(out.description, '_'));
	if (out.kind == ENG_KIND_REPEATABLE) {
		CHECK(!out.version.text);
	} else {
		CHECK(out.version.text && *out.version.text);
		CHECK(!strchr(out.version.text, '_'));
		struct eng_version again;
		CHECK(eng_version_parse(out.version.text, &again, NULL) == ERR_OK);
		CHECK(eng_version_cmp(&again, &out.version) == 0);
		eng_version_release(&again);
	}
	eng_name_release(&out);
}

static bool parse(const char *s, struct eng_version *v)
{
	struct err e = ERR_INIT;
	enum err_code c = eng_version_parse(s, v, &e);
	CHECK(c == ERR_OK || c == ERR_PARSE);
	if (c) {
		CHECK(!strncmp(e.msg, "Version may only contain 0..9 and . (dot). Invalid version: ",
			       strlen("Version may only contain 0..9 and . (dot). Invalid version: ")));
		CHECK(!v->text && !v->parts && !v->nparts);
		return false;
	}
	CHECK(v->text && strlen(v->text) == strlen(s));
	for (size_t i = 0; s[i]; i++)
		CHECK(v->text[i] == (s[i] == '_' ? '.' : s[i]));
	/* parts are canonical: no leading zeros, no "-0", no trailing "0" part */
	for (size_t i = 0; i < v->nparts; i++) {
		const char *p = v->parts[i];
		const char *d = p + (*p == '-');
		CHECK(*d && strspn(d, "0123456789") == strlen(d));
		CHECK(d[0] != '0' || (d[1] == 0 && *p != '-'));
	}
	if (v->nparts)
		CHECK(strcmp(v->parts[v->nparts - 1], "0") != 0);
	return true;
}

static void check_versions(char *const *s, size_t n)
{
	struct eng_version v[3];
	bool ok[3] = { false, false, false };
	for (size_t i = 0; i < n; i++)
		ok[i] = parse(s[i], &v[i]);
	for (size_t i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		CHECK(eng_version_cmp(&v[i], &v[i]) == 0);
		struct eng_version copy;
		eng_version_copy(&copy, &v[i]);
		CHECK(eng_version_cmp(&copy, &v[i]) == 0 && !strcmp(copy.text, v[i].text));
		for (size_t j = 0; j < n; j++) {
			if (!ok[j])
				continue;
			int ij = sign(eng_version_cmp(&v[i], &v[j]));
			CHECK(ij == -sign(eng_version_cmp(&v[j], &v[i])));
			CHECK(ij == sign(eng_version_cmp(&copy, &v[j])));
			for (size_t k = 0; k < n; k++) {
				if (!ok[k])
					continue;
				int jk = sign(eng_version_cmp(&v[j], &v[k]));
				int ik = sign(eng_version_cmp(&v[i], &v[k]));
				if (ij <= 0 && jk <= 0)
					CHECK(ik <= 0);
				if (ij == 0 && jk == 0)
					CHECK(ik == 0);
			}
		}
		eng_version_release(&copy);
	}
	for (size_t i = 0; i < n; i++)
		if (ok[i])
			eng_version_release(&v[i]);
}

/* UTF-16 length of valid UTF-8. */
static size_t units(const char *s)
{
	size_t u = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xC0) != 0x80)
			u += *p >= 0xF0 ? 2 : 1;
	return u;
}

static void check_abbreviations(const char *s)
{
	char *d = eng_abbreviate_description(s);
	char *sc = eng_abbreviate_script(s);
	CHECK(d && sc);
	bool incomplete;
	size_t len = strlen(s);
	if (utf8_valid_prefix((const unsigned char *)s, len, &incomplete) == len) {
		size_t u = units(s);
		CHECK(u <= 200 ? !strcmp(d, s) : units(d) <= 200);
		CHECK(u <= 1000 ? !strcmp(sc, s) : units(sc) <= 1000);
		if (u > 200)
			CHECK(strlen(d) >= 3 && !strcmp(d + strlen(d) - 3, "..."));
		if (u > 1000)
			CHECK(!strncmp(sc, "...", 3));
	}
	free(d);
	free(sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	char *s[3];
	size_t n = 0;
	for (char *p = text; n < 3;) {
		s[n++] = p;
		size_t l = strlen(p);
		if (p + l >= text + size)
			break;
		p += l + 1;
	}
	for (size_t i = 0; i < n; i++) {
		check_name(s[i], &default_naming);
		check_name(s[i], &custom_naming);
		check_abbreviations(s[i]);
	}
	check_versions(s, n);
	free(text);
	return 0;
}
