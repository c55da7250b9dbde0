/*
 * test_checksum — Flyway's checksum (spec §1): CRC-32 of the UTF-8 text
 * with every line terminator removed, a BOM dropped only at the very
 * start, strict UTF-8 (Java's decoder reports, never replaces), Latin-1
 * re-encoded as UTF-8, and Java's String.hashCode for the lock keys
 * (spec §4). Files are written to a private temporary directory; the two
 * example migrations are read from the repository (tests run from its
 * root). Expected CRCs that are not Flyway vectors are computed here with
 * zlib over the text as Flyway would see it.
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

static char tmpdir[] = "/tmp/tarmac-test-checksum-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	DIR *d = opendir(tmpdir);
	if (!d)
		return -1;
	struct dirent *de;
	char path[4096];
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", tmpdir, de->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(tmpdir);
}

/* Writes data to tmpdir/name; returns the path in a static buffer. */
static const char *put(const char *name, const void *data, size_t len)
{
	static char path[4096];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static int32_t file_sum(const char *name, const void *data, size_t len, const char *encoding)
{
	struct eng_config cfg;
	eng_config_init(&cfg);
	if (encoding) {
		free(cfg.encoding);
		cfg.encoding = strdup(encoding);
	}
	struct err e = ERR_INIT;
	int32_t sum = 12345;
	enum err_code c = eng_checksum_file(put(name, data, len), &cfg, &sum, &e);
	eng_config_release(&cfg);
	if (c != ERR_OK)
		fail_msg("checksum of %s failed: %s", name, e.msg);
	return sum;
}

#define SUM(name, lit) file_sum(name, lit, sizeof lit - 1, NULL)

/* zlib CRC of bytes with every '\r' and '\n' left out, as int32. */
static int32_t crc_of(const char *p, size_t n)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\r' && p[i] != '\n')
			crc = crc32(crc, (const Bytef *)p + i, 1);
	return (int32_t)(uint32_t)crc;
}

#define CRC(lit) crc_of(lit, sizeof lit - 1)

/* ---- Flyway's own vectors ------------------------------------------------ */

static void test_example_files(void **state)
{
	(void)state;
	static const struct {
		const char *path;
		int32_t want;
	} files[] = {
		{ "migrations/users/V1__create_table_persons.sql", 1408735753 },
		{ "migrations/users/V2__alter_table_persons.sql", -1799197182 },
	};
	struct eng_config cfg;
	eng_config_init(&cfg);
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		struct err e = ERR_INIT;
		int32_t sum = 0;
		assert_int_equal(eng_checksum_file(files[i].path, &cfg, &sum, &e), ERR_OK);
		assert_int_equal(sum, files[i].want);
	}
	eng_config_release(&cfg);
}

/*
 * Latin-1: the decoded text is re-encoded as UTF-8 before hashing, so
 * caf\xE9 read as ISO-8859-1 hashes caf\xC3\xA9, exactly like the UTF-8
 * file. (spec §1.1 quotes -912781868 for this case, but CRC-32 of
 * caf\xC3\xA9 is -1733475659 by zlib and by Java's CRC32: that vector was
 * taken from some other text, so it is not used here.)
 */
static void test_latin1(void **state)
{
	(void)state;
	int32_t utf8 = SUM("V1__utf8.sql", "caf\xc3\xa9");
	assert_int_equal(utf8, -1733475659);
	assert_int_equal(file_sum("V1__latin1.sql", "caf\xe9", 4, "ISO-8859-1"), utf8);
	assert_int_equal(file_sum("V1__latin1b.sql", "caf\xe9\r\n", 6, "iso-8859-1"), utf8);
	assert_int_not_equal(utf8, crc_of("caf\xe9", 4));
	/* every Latin-1 byte is a character: C1 controls and \xff included */
	assert_int_equal(file_sum("V2__latin1.sql", "\x80\x9f\xa0\xff\r\nx", 7, "ISO-8859-1"),
			 CRC("\xc2\x80\xc2\x9f\xc2\xa0\xc3\xbfx"));
	/* EF BB BF in Latin-1 is "\xc3\xaf\xc2\xbb\xc2\xbf", not a BOM: kept */
	assert_int_equal(file_sum("V3__latin1.sql", "\xef\xbb\xbf" "a", 4, "ISO-8859-1"),
			 CRC("\xc3\xaf\xc2\xbb\xc2\xbf" "a"));
	/* the same bytes as UTF-8 are refused */
	struct eng_config cfg;
	eng_config_init(&cfg);
	struct err e = ERR_INIT;
	int32_t sum = 0;
	assert_int_equal(eng_checksum_file(put("V4__notutf8.sql", "caf\xe9", 4), &cfg, &sum, &e),
			 ERR_CHECKSUM);
	eng_config_release(&cfg);
}

/* ---- line terminators ---------------------------------------------------- */

static void test_line_breaks_ignored(void **state)
{
	(void)state;
	static const char *const variants[] = {
		"CREATE TABLE t (\n  id int\n);\n\nINSERT INTO t VALUES (1);\n",
		"CREATE TABLE t (\r\n  id int\r\n);\r\n\r\nINSERT INTO t VALUES (1);\r\n",
		"CREATE TABLE t (\r  id int\r);\r\rINSERT INTO t VALUES (1);\r",
		"CREATE TABLE t (\n  id int\n);\n\nINSERT INTO t VALUES (1);",
		"CREATE TABLE t (  id int);INSERT INTO t VALUES (1);",
		"CREATE TABLE t (\r\n  id int\r);\n\n\n\n\nINSERT INTO t VALUES (1);\n\n\n\r\n\r",
		"\n\n\r\nCREATE TABLE t (\n  id int\n);INSERT INTO t VALUES (1);",
		"CREATE TABLE t (\n\r  id int\n\r);\n\rINSERT INTO t VALUES (1);\n\r",
	};
	int32_t want = CRC("CREATE TABLE t (  id int);INSERT INTO t VALUES (1);");
	for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
		char name[64];
		snprintf(name, sizeof name, "V%zu__breaks.sql", i);
		int32_t got = file_sum(name, variants[i], strlen(variants[i]), NULL);
		if (got != want)
			fail_msg("variant %zu: %d, want %d", i, got, want);
	}
}

static void test_zero_checksums(void **state)
{
	(void)state;
	assert_int_equal(SUM("V1__empty.sql", ""), 0);
	assert_int_equal(SUM("V1__bom.sql", "\xef\xbb\xbf"), 0);
	assert_int_equal(SUM("V1__nl.sql", "\n"), 0);
	assert_int_equal(SUM("V1__nls.sql", "\n\r\n\r\r\n\n"), 0);
	assert_int_equal(SUM("V1__bomnl.sql", "\xef\xbb\xbf\r\n\n"), 0);
}

static void test_bom(void **state)
{
	(void)state;
	int32_t abc = CRC("abc");
	/* dropped at the start of the file */
	assert_int_equal(SUM("V1__b1.sql", "\xef\xbb\xbf" "abc"), abc);
	assert_int_equal(SUM("V1__b2.sql", "\xef\xbb\xbf\nabc"), abc);
	/* kept after a leading newline: not at the start of the first line */
	int32_t late = SUM("V1__b3.sql", "\n\xef\xbb\xbf" "abc");
	assert_int_not_equal(late, abc);
	assert_int_equal(late, CRC("\xef\xbb\xbf" "abc"));
	/* a second BOM is kept */
	assert_int_equal(SUM("V1__b4.sql", "\xef\xbb\xbf\xef\xbb\xbf" "abc"), CRC("\xef\xbb\xbf" "abc"));
	/* in the middle of a line */
	assert_int_equal(SUM("V1__b5.sql", "a\xef\xbb\xbf" "bc"), CRC("a\xef\xbb\xbf" "bc"));
}

static void test_content_significant(void **state)
{
	(void)state;
	int32_t plain = SUM("V1__s0.sql", "select 1;\n");
	assert_int_equal(plain, CRC("select 1;"));
	assert_int_not_equal(SUM("V1__s1.sql", "select 1; \n"), plain);
	assert_int_not_equal(SUM("V1__s2.sql", "select 1;\t\n"), plain);
	assert_int_not_equal(SUM("V1__s3.sql", " select 1;\n"), plain);
	assert_int_equal(SUM("V1__s1b.sql", "select 1; \n"), CRC("select 1; "));
	/* \f and \v are not line terminators for BufferedReader */
	assert_int_equal(SUM("V1__s4.sql", "a\fb\vc"), CRC("a\fb\vc"));
	/* a NUL byte is a character like any other */
	int32_t nul = SUM("V1__nul.sql", "a\0b");
	assert_int_equal(nul, crc_of("a\0b", 3));
	assert_int_not_equal(nul, CRC("ab"));
	/* U+2028 and U+0085 are not line terminators either */
	assert_int_equal(SUM("V1__ls.sql", "a\xe2\x80\xa8" "b\xc2\x85" "c"),
			 CRC("a\xe2\x80\xa8" "b\xc2\x85" "c"));
}

/* ---- UTF-8 strictness ---------------------------------------------------- */

struct utf8_case {
	const char *name;
	const char *data;
	size_t len;
};

#define U(name, lit) { name, lit, sizeof lit - 1 }

static const struct utf8_case invalid_utf8[] = {
	U("V1__ff.sql", "select '\xff';\n"),
	U("V1__fe.sql", "\xfe"),
	U("V1__overlong.sql", "a\xc0\xaf" "b"),
	U("V1__overlong2.sql", "\xc1\xbf"),
	U("V1__overlong3.sql", "\xe0\x80\xaf"),
	U("V1__overlong4.sql", "\xf0\x80\x80\xaf"),
	U("V1__surrogate.sql", "x\xed\xa0\x80y"),
	U("V1__lowsurrogate.sql", "\xed\xbf\xbf"),
	U("V1__truncated.sql", "abc\xe2\x82"),
	U("V1__truncated2.sql", "abc\xc3"),
	U("V1__truncated3.sql", "\xf0\x9f\x98"),
	U("V1__truncmid.sql", "\xe2\x82" "abc"),
	U("V1__big.sql", "\xf4\x90\x80\x80"),
	U("V1__f5.sql", "\xf5\x80\x80\x80"),
	U("V1__five.sql", "\xf8\x88\x80\x80\x80"),
	U("V1__cont.sql", "\x80"),
	U("V1__cont2.sql", "ok\n\xbf"),
};

static void test_invalid_utf8(void **state)
{
	(void)state;
	struct eng_config cfg;
	eng_config_init(&cfg);
	int fails = 0;
	for (size_t i = 0; i < sizeof invalid_utf8 / sizeof *invalid_utf8; i++) {
		const struct utf8_case *c = &invalid_utf8[i];
		struct err e = ERR_INIT;
		int32_t sum = 0;
		enum err_code code = eng_checksum_file(put(c->name, c->data, c->len), &cfg, &sum, &e);
		char want[256];
		snprintf(want, sizeof want, "Unable to calculate checksum of %s", c->name);
		if (code != ERR_CHECKSUM || strncmp(e.msg, want, strlen(want))) {
			print_error("%s: code %d, message '%s'\n", c->name, code, e.msg);
			fails++;
		}
		/* what follows the name is a separator, not more of a name */
		char next = e.msg[strlen(want)];
		if (code == ERR_CHECKSUM && next != ':' && next != '\n' && next != ' ') {
			print_error("%s: message '%s' does not end the name\n", c->name, e.msg);
			fails++;
		}
	}
	eng_config_release(&cfg);
	assert_int_equal(fails, 0);
}

static const struct utf8_case valid_utf8[] = {
	U("V1__emoji.sql", "select '\xf0\x9f\x98\x80';\n"),
	U("V1__max.sql", "\xf4\x8f\xbf\xbf"),
	U("V1__ffff.sql", "\xef\xbf\xbf"),
	U("V1__d7ff.sql", "\xed\x9f\xbf"),
	U("V1__e000.sql", "\xee\x80\x80"),
	U("V1__c280.sql", "\xc2\x80"),
	U("V1__e0a0.sql", "\xe0\xa0\x80"),
	U("V1__f090.sql", "\xf0\x90\x80\x80"),
	U("V1__euro.sql", "\xe2\x82\xac\r\n"),
};

static void test_valid_utf8(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof valid_utf8 / sizeof *valid_utf8; i++) {
		const struct utf8_case *c = &valid_utf8[i];
		int32_t got = file_sum(c->name, c->data, c->len, NULL);
		assert_int_equal(got, crc_of(c->data, c->len));
	}
}

static void test_missing_file(void **state)
{
	(void)state;
	struct eng_config cfg;
	eng_config_init(&cfg);
	struct err e = ERR_INIT;
	int32_t sum = 0;
	char path[4096];
	snprintf(path, sizeof path, "%s/V9__nope.sql", tmpdir);
	assert_int_equal(eng_checksum_file(path, &cfg, &sum, &e), ERR_IO);
	assert_non_null(strstr(e.msg, "V9__nope.sql"));
	eng_config_release(&cfg);
}

/* ---- files larger than one reader chunk ---------------------------------- */

/* The reader reads 64 KiB at a time (it was 256 KiB): a character at
 * every 64 KiB border straddles the chunks of either size. */
#define CHUNK (64 * 1024)

/* Text of n bytes: CRLF lines, a BOM first, and the multi-byte character
 * `mb` placed so that it starts `before` bytes ahead of each chunk border. */
static char *big_text(size_t n, const char *mb, size_t before)
{
	char *t = malloc(n);
	assert_non_null(t);
	static const char line[] = "INSERT INTO t VALUES (1, 'abcdefgh');\r\n";
	for (size_t i = 0; i < n; i++)
		t[i] = line[i % (sizeof line - 1)];
	memcpy(t, "\xef\xbb\xbf", 3);
	size_t l = strlen(mb);
	for (size_t border = CHUNK; border + l < n; border += CHUNK)
		memcpy(t + border - before, mb, l);
	return t;
}

static void test_large_file_straddling(void **state)
{
	(void)state;
	static const struct {
		const char *mb;
		size_t before;
	} cases[] = {
		{ "\xe2\x82\xac", 1 }, { "\xe2\x82\xac", 2 }, { "\xc3\xa9", 1 },
		{ "\xf0\x9f\x98\x80", 1 }, { "\xf0\x9f\x98\x80", 2 }, { "\xf0\x9f\x98\x80", 3 },
		{ "\r\n", 1 },
	};
	size_t n = 3 * 256 * 1024 + 1000;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *t = big_text(n, cases[i].mb, cases[i].before);
		int32_t want = crc_of(t + 3, n - 3); /* the BOM is not hashed */
		char name[64];
		snprintf(name, sizeof name, "V%zu__big.sql", i);
		assert_int_equal(file_sum(name, t, n, NULL), want);
		free(t);
	}
	/* an invalid byte after the first chunk is still found */
	char *t = big_text(n, "\xe2\x82\xac", 1);
	t[CHUNK + 100] = (char)0xff;
	struct eng_config cfg;
	eng_config_init(&cfg);
	struct err e = ERR_INIT;
	int32_t sum = 0;
	assert_int_equal(eng_checksum_file(put("V9__bigbad.sql", t, n), &cfg, &sum, &e),
			 ERR_CHECKSUM);
	assert_non_null(strstr(e.msg, "Unable to calculate checksum of V9__bigbad.sql"));
	/* and a sequence cut by the end of the file after many chunks */
	memcpy(t + n - 2, "\xe2\x82", 2);
	t[CHUNK + 100] = 'x';
	assert_int_equal(eng_checksum_file(put("V9__bigtrunc.sql", t, n), &cfg, &sum, &e),
			 ERR_CHECKSUM);
	eng_config_release(&cfg);
	free(t);
}

/* ---- the reader fed in small pieces -------------------------------------- */

/* Reads data through a mig_reader asking `chunk` bytes at a time. */
static enum err_code read_all(const char *data, size_t len, size_t chunk, bool latin1,
			      struct buf *text, uint32_t *crc, struct err *e)
{
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, data, len);
	struct eng_stream *st = eng_stream_mem_take(copy, len);
	struct mig_reader r;
	mig_reader_init(&r, st, "V1__stream.sql", NULL, latin1);
	bool eof = false;
	enum err_code c = ERR_OK;
	for (int guard = 0; !c && !eof && guard < 1000000; guard++)
		c = mig_reader_fill(&r, text, chunk, &eof, e);
	*crc = r.crc_raw;
	mig_reader_release(&r);
	st->close(st);
	return c;
}

static void test_reader_chunking(void **state)
{
	(void)state;
	static const struct utf8_case inputs[] = {
		U("plain", "select 1;\nselect 2;\r\n"),
		U("bom", "\xef\xbb\xbf" "select 1;\n"),
		U("bom-only", "\xef\xbb\xbf"),
		U("late-bom", "a\xef\xbb\xbf" "b"),
		U("late-bom2", "ab\xef\xbb\xbf" "c"),
		U("late-bom3", "\n\xef\xbb\xbf" "x"),
		U("double-bom", "\xef\xbb\xbf\xef\xbb\xbf" "x"),
		U("multibyte", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z\r\n\xf4\x8f\xbf\xbf"),
		U("short", "ab"),
		U("empty", ""),
	};
	int fails = 0;
	for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
		const struct utf8_case *in = &inputs[i];
		struct buf whole = BUF_INIT;
		uint32_t want = 0;
		struct err e = ERR_INIT;
		assert_int_equal(read_all(in->data, in->len, 0, false, &whole, &want, &e), ERR_OK);
		for (size_t chunk = 1; chunk <= 8; chunk++) {
			struct buf text = BUF_INIT;
			uint32_t got = 0;
			enum err_code c = read_all(in->data, in->len, chunk, false, &text, &got, &e);
			if (c || got != want || strcmp(text.ptr, whole.ptr)) {
				print_error("%s, %zu-byte reads: code %d crc %d text '%s'; one read: crc %d text '%s'\n",
					    in->name, chunk, c, (int32_t)got, text.ptr, (int32_t)want,
					    whole.ptr);
				fails++;
			}
			buf_release(&text);
		}
		buf_release(&whole);
	}
	assert_int_equal(fails, 0);
}

static void test_reader_chunking_invalid(void **state)
{
	(void)state;
	static const struct utf8_case inputs[] = {
		U("trunc-then-ascii", "ab\xe2\x82" "cd"),
		U("trunc-at-eof", "abcd\xf0\x9f\x98"),
		U("surrogate", "abc\xed\xa0\x80"),
		U("lone-cont", "abc\x80" "def"),
	};
	for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
		for (size_t chunk = 1; chunk <= 8; chunk++) {
			struct buf text = BUF_INIT;
			uint32_t crc = 0;
			struct err e = ERR_INIT;
			enum err_code c = read_all(inputs[i].data, inputs[i].len, chunk, false, &text,
						   &crc, &e);
			if (c != ERR_CHECKSUM)
				fail_msg("%s, %zu-byte reads: code %d", inputs[i].name, chunk, c);
			assert_non_null(strstr(e.msg, "Unable to calculate checksum of V1__stream.sql"));
			buf_release(&text);
		}
	}
}

/* ---- ck_update ------------------------------------------------------------ */

static void test_ck_update(void **state)
{
	(void)state;
	uint32_t ab = (uint32_t)crc32(0L, (const Bytef *)"ab", 2);
	assert_int_equal(ck_update(0, "ab", 2), ab);
	assert_int_equal(ck_update(0, "a\r\nb", 4), ab);
	assert_int_equal(ck_update(0, "\n\na\rb\r", 6), ab);
	assert_int_equal(ck_update(ck_update(0, "a\r", 2), "\nb", 2), ab);
	assert_int_equal(ck_update(ck_update(0, "a", 1), "b", 1), ab);
	assert_int_equal(ck_update(0, "\r\n\r\n", 4), 0);
	assert_int_equal(ck_update(0, "", 0), 0);
	/* bytes past n are not read */
	assert_int_equal(ck_update(0, "abXYZ", 2), ab);
	assert_int_equal(ck_signed(0xFFFFFFFFu), -1);
	assert_int_equal(ck_signed(0x80000000u), INT32_MIN);
	assert_int_equal(ck_signed(1408735753u), 1408735753);
}

/* ---- Java String.hashCode -------------------------------------------------- */

static void test_java_string_hash(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int32_t want;
	} cases[] = {
		/* spec §4.1 / §4.2 */
		{ "\"public\".\"flyway_schema_history\"", 2125624436 },
		{ "\"myschema\".\"flyway_schema_history\"", -260354672 },
		{ "`mydb`.`flyway_schema_history`", 278632207 },
		{ "`test`.`flyway_schema_history`", -562162009 },
		/* Java's definition, by hand */
		{ "", 0 },
		{ "a", 97 },
		{ "ab", 97 * 31 + 98 },
		{ "\xc3\xa9", 0xE9 },                        /* é: one unit */
		{ "\xe2\x82\xac", 0x20AC },                  /* €: one unit */
		{ "\xf0\x9f\x98\x80", 31 * 0xD83D + 0xDE00 }, /* U+1F600: a surrogate pair */
		{ "x\xf0\x9f\x98\x80", (31 * 31 * 'x') + 31 * 0xD83D + 0xDE00 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		if (java_string_hash(cases[i].s) != cases[i].want)
			fail_msg("hash of '%s' = %d, want %d", cases[i].s, java_string_hash(cases[i].s),
				 cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_files),
		cmocka_unit_test(test_latin1),
		cmocka_unit_test(test_line_breaks_ignored),
		cmocka_unit_test(test_zero_checksums),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_content_significant),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_valid_utf8),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_large_file_straddling),
		cmocka_unit_test(test_reader_chunking),
		cmocka_unit_test(test_reader_chunking_invalid),
		cmocka_unit_test(test_ck_update),
		cmocka_unit_test(test_java_string_hash),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
