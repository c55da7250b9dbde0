/*
 * test_ringlog — the output pane's ring: capacity and the dropped count,
 * indexing after the ring has wrapped, cutting long lines at a UTF-8
 * boundary with the exact "…[+N bytes]" suffix, and chunked input: every
 * way of cutting a sample into two or three chunks gives the lines (and
 * line times) that the whole sample gives, CRLF endings included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "tui/ringlog.h"

#define ELLIPSIS "\xe2\x80\xa6"

struct want {
	const char *text;
	enum tui_stream stream;
};

static void assert_line(const struct tui_ringlog *r, size_t i, const char *text)
{
	const struct tui_ringlog_line *l = tui_ringlog_get(r, i);

	assert_non_null(l);
	assert_string_equal(l->text, text);
	assert_int_equal(l->len, strlen(text));
}

/* ---- capacity, dropping, indexing ------------------------------------------ */

static void test_capacity_drops_oldest(void **state)
{
	struct tui_ringlog *r = tui_ringlog_new(3, 0);
	char line[32];

	(void)state;
	assert_int_equal(tui_ringlog_capacity(r), 3);
	for (int i = 0; i < 5; i++) {
		snprintf(line, sizeof line, "l%d", i);
		tui_ringlog_append(r, i % 2 ? TUI_STREAM_STDERR : TUI_STREAM_STDOUT, 1000 + i, line,
				   strlen(line));
		assert_int_equal(tui_ringlog_count(r), i < 3 ? i + 1 : 3);
		assert_int_equal(tui_ringlog_dropped(r), i < 3 ? 0 : i - 2);
	}
	assert_line(r, 0, "l2");
	assert_line(r, 1, "l3");
	assert_line(r, 2, "l4");
	assert_null(tui_ringlog_get(r, 3));
	assert_int_equal(tui_ringlog_get(r, 0)->stream, TUI_STREAM_STDOUT);
	assert_int_equal(tui_ringlog_get(r, 1)->stream, TUI_STREAM_STDERR);
	assert_int_equal(tui_ringlog_get(r, 2)->when_ms, 1004);
	tui_ringlog_free(r);
	tui_ringlog_free(NULL);
}

static void test_defaults(void **state)
{
	struct tui_ringlog *r = tui_ringlog_new(0, 0);
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(tui_ringlog_capacity(r), TUI_RINGLOG_DEFAULT_LINES);
	assert_int_equal(TUI_RINGLOG_DEFAULT_LINES, 10000);
	for (int i = 0; i < 4096; i++)
		buf_addc(&b, 'a');
	tui_ringlog_append(r, TUI_STREAM_STDOUT, 0, b.ptr, b.len);
	buf_addc(&b, 'b');
	tui_ringlog_append(r, TUI_STREAM_STDOUT, 0, b.ptr, b.len);
	assert_int_equal(tui_ringlog_get(r, 0)->len, 4096);
	buf_setlen(&b, 4096);
	buf_adds(&b, ELLIPSIS "[+1 bytes]");
	assert_line(r, 1, b.ptr);
	buf_release(&b);
	tui_ringlog_free(r);
}

/*
 * After any number of wraps, line i is the (dropped + i)-th line ever
 * appended: checked for every i, on rings from 1 line to the default.
 */
static void test_index_after_wrap(void **state)
{
	static const size_t caps[] = { 1, 2, 7, 64, 10000 };
	char want[32];

	(void)state;
	for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
		size_t cap = caps[c], total = 2 * cap + cap / 2 + 3;
		struct tui_ringlog *r = tui_ringlog_new(cap, 0);

		for (size_t n = 0; n < total; n++) {
			snprintf(want, sizeof want, "n%zu", n);
			tui_ringlog_append(r, TUI_STREAM_INFO, (int64_t)n, want, strlen(want));
		}
		assert_int_equal(tui_ringlog_count(r), cap);
		assert_int_equal(tui_ringlog_dropped(r), total - cap);
		for (size_t i = 0; i < cap; i++) {
			size_t seq = (size_t)tui_ringlog_dropped(r) + i;

			snprintf(want, sizeof want, "n%zu", seq);
			assert_line(r, i, want);
			assert_int_equal(tui_ringlog_get(r, i)->when_ms, seq);
		}
		assert_null(tui_ringlog_get(r, cap));
		tui_ringlog_free(r);
	}
}

/* ---- cutting long lines ---------------------------------------------------- */

static const struct {
	const char *in;
	const char *out;
} cuts[] = {
	/* line_max is 10 */
	{ "0123456789", "0123456789" },
	{ "0123456789A", "0123456789" ELLIPSIS "[+1 bytes]" },
	{ "0123456789ABCDEF", "0123456789" ELLIPSIS "[+6 bytes]" },
	/* é (2 bytes) fits exactly, then straddles the limit */
	{ "01234567\xc3\xa9", "01234567\xc3\xa9" },
	{ "012345678\xc3\xa9", "012345678" ELLIPSIS "[+2 bytes]" },
	/* € (3 bytes) cut after its first and second byte */
	{ "01234567\xe2\x82\xac", "01234567" ELLIPSIS "[+3 bytes]" },
	{ "012345678\xe2\x82\xac", "012345678" ELLIPSIS "[+3 bytes]" },
	{ "0123456\xe2\x82\xac", "0123456\xe2\x82\xac" },
	/* 😀 (4 bytes) at every offset across the limit */
	{ "0123456\xf0\x9f\x98\x80", "0123456" ELLIPSIS "[+4 bytes]" },
	{ "01234567\xf0\x9f\x98\x80", "01234567" ELLIPSIS "[+4 bytes]" },
	{ "012345678\xf0\x9f\x98\x80", "012345678" ELLIPSIS "[+4 bytes]" },
	{ "012345\xf0\x9f\x98\x80x", "012345\xf0\x9f\x98\x80" ELLIPSIS "[+1 bytes]" },
	/* not UTF-8: more continuation bytes than any character has */
	{ "012345\x80\x80\x80\x80\x80\x80", "012345\x80\x80\x80\x80" ELLIPSIS "[+2 bytes]" },
};

static void test_long_line_cut_at_utf8_boundary(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
		struct tui_ringlog *r = tui_ringlog_new(8, 10);
		size_t len = strlen(cuts[c].in);
		struct buf crlf = BUF_INIT;

		/* Whole, then streamed a byte at a time, then with CRLF. */
		tui_ringlog_append(r, TUI_STREAM_STDOUT, 0, cuts[c].in, len);
		for (size_t i = 0; i < len; i++)
			tui_ringlog_append_bytes(r, TUI_STREAM_STDOUT, 0, cuts[c].in + i, 1);
		tui_ringlog_append_bytes(r, TUI_STREAM_STDOUT, 0, "\n", 1);
		buf_adds(&crlf, cuts[c].in);
		buf_adds(&crlf, "\r\n");
		tui_ringlog_append_bytes(r, TUI_STREAM_STDOUT, 0, crlf.ptr, crlf.len);
		assert_int_equal(tui_ringlog_count(r), 3);
		for (size_t i = 0; i < 3; i++)
			assert_line(r, i, cuts[c].out);
		buf_release(&crlf);
		tui_ringlog_free(r);
	}
}

static void test_line_max_floor(void **state)
{
	struct tui_ringlog *r = tui_ringlog_new(2, 1);

	(void)state;
	tui_ringlog_append(r, TUI_STREAM_STDOUT, 0, "abcdef", 6);
	assert_line(r, 0, "abcd" ELLIPSIS "[+2 bytes]");
	tui_ringlog_free(r);
}

/* A newline-free flood in small chunks: counted, not kept, cut the same. */
static void test_long_line_streamed(void **state)
{
	struct tui_ringlog *r = tui_ringlog_new(4, 0);
	struct buf want = BUF_INIT;
	char chunk[7];

	(void)state;
	memset(chunk, 'a', sizeof chunk);
	for (size_t sent = 0; sent < 10000; sent += sizeof chunk) {
		size_t n = 10000 - sent < sizeof chunk ? 10000 - sent : sizeof chunk;

		tui_ringlog_append_bytes(r, TUI_STREAM_STDERR, 5, chunk, n);
	}
	assert_int_equal(tui_ringlog_count(r), 0);
	tui_ringlog_append_bytes(r, TUI_STREAM_STDERR, 6, "\r\nnext\n", 7);
	for (int i = 0; i < 4096; i++)
		buf_addc(&want, 'a');
	buf_adds(&want, ELLIPSIS "[+5904 bytes]");
	assert_int_equal(tui_ringlog_count(r), 2);
	assert_line(r, 0, want.ptr);
	assert_int_equal(tui_ringlog_get(r, 0)->when_ms, 5);
	assert_int_equal(tui_ringlog_get(r, 0)->stream, TUI_STREAM_STDERR);
	assert_line(r, 1, "next");
	assert_int_equal(tui_ringlog_get(r, 1)->when_ms, 6);
	buf_release(&want);
	tui_ringlog_free(r);
}

/* ---- chunked input ------------------------------------------------------------ */

/*
 * Feeds in[0..len) as chunks [0,i) [i,j) [j,len) at times 100, 200, 300,
 * flushes, and checks the lines against `want`; a line's time is the time
 * of the chunk holding its first byte (its '\n' when it is empty).
 */
static void check_split(const char *in, const struct want *want, size_t nwant, size_t i,
			size_t j)
{
	struct tui_ringlog *r = tui_ringlog_new(64, 0);
	size_t len = strlen(in), start = 0;

	tui_ringlog_append_bytes(r, TUI_STREAM_STDOUT, 100, in, i);
	tui_ringlog_append_bytes(r, TUI_STREAM_STDOUT, 200, in + i, j - i);
	tui_ringlog_append_bytes(r, TUI_STREAM_STDOUT, 300, in + j, len - j);
	tui_ringlog_flush(r);
	assert_int_equal(tui_ringlog_count(r), nwant);
	for (size_t k = 0; k < nwant; k++) {
		const struct tui_ringlog_line *l = tui_ringlog_get(r, k);
		const char *nl = strchr(in + start, '\n');

		assert_line(r, k, want[k].text);
		assert_int_equal(l->stream, want[k].stream);
		assert_int_equal(l->when_ms, start < i ? 100 : start < j ? 200 : 300);
		start = nl ? (size_t)(nl - in) + 1 : len;
	}
	tui_ringlog_free(r);
}

static void check_all_splits(const char *in, const struct want *want, size_t nwant)
{
	size_t len = strlen(in);

	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i; j <= len; j++)
			check_split(in, want, nwant, i, j);
	}
}

static void test_chunks_split_at_every_point(void **state)
{
	static const char in[] = "alpha\nbeta\r\n\n  gamma \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
				 "\r\nx\r\n\r\nlast\r";
	static const struct want want[] = {
		{ "alpha", TUI_STREAM_STDOUT },
		{ "beta", TUI_STREAM_STDOUT },
		{ "", TUI_STREAM_STDOUT },
		{ "  gamma \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", TUI_STREAM_STDOUT },
		{ "x", TUI_STREAM_STDOUT },
		{ "", TUI_STREAM_STDOUT },
		{ "last", TUI_STREAM_STDOUT },
	};

	(void)state;
	check_all_splits(in, want, sizeof want / sizeof want[0]);
}

static void test_crlf(void **state)
{
	static const struct {
		const char *in;
		struct want want[3];
		size_t n;
	} cases[] = {
		{ "a\r\nb\r\n", { { "a", 0 }, { "b", 0 } }, 2 },
		{ "a\rb\n", { { "a\rb", 0 } }, 1 },       /* a lone CR is kept */
		{ "\r\n", { { "", 0 } }, 1 },
		{ "a\r\r\n", { { "a\r", 0 } }, 1 },       /* one CR belongs to the ending */
		{ "\r\r\n\n", { { "\r", 0 }, { "", 0 } }, 2 },
		{ "a\r", { { "a", 0 } }, 1 },             /* flushed tail */
		{ "a\n\r", { { "a", 0 }, { "", 0 } }, 2 },
		{ "", { { NULL, 0 } }, 0 },
	};

	(void)state;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
		check_all_splits(cases[c].in, cases[c].want, cases[c].n);
}

static void test_append_strips_one_ending(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "x", "x" }, { "x\n", "x" }, { "x\r\n", "x" }, { "", "" },
		{ "\n", "" }, { "x\n\n", "x\n" }, { "a\nb", "a\nb" },
		{ "x\r", "x\r" }, /* no newline: the CR is not an ending */
	};
	struct tui_ringlog *r = tui_ringlog_new(16, 0);

	(void)state;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		tui_ringlog_append(r, TUI_STREAM_INFO, 0, cases[c].in, strlen(cases[c].in));
		assert_line(r, c, cases[c].out);
	}
	tui_ringlog_free(r);
}

static void test_streams_keep_their_own_tails(void **state)
{
	struct tui_ringlog *r = tui_ringlog_new(16, 0);

	(void)state;
	tui_ringlog_append_bytes(r, TUI_STREAM_STDOUT, 1, "abc", 3);
	tui_ringlog_append_bytes(r, TUI_STREAM_STDERR, 2, "xyz\nq", 5);
	tui_ringlog_append(r, TUI_STREAM_INFO, 3, "note", 4);
	tui_ringlog_append_bytes(r, TUI_STREAM_STDOUT, 4, "def\np", 5);
	assert_int_equal(tui_ringlog_count(r), 3);
	assert_line(r, 0, "xyz");
	assert_line(r, 1, "note");
	assert_line(r, 2, "abcdef");
	assert_int_equal(tui_ringlog_get(r, 2)->when_ms, 1);
	assert_int_equal(tui_ringlog_get(r, 2)->stream, TUI_STREAM_STDOUT);
	tui_ringlog_flush(r);
	tui_ringlog_flush(r); /* nothing left: adds nothing */
	assert_int_equal(tui_ringlog_count(r), 5);
	assert_line(r, 3, "p");
	assert_int_equal(tui_ringlog_get(r, 3)->stream, TUI_STREAM_STDOUT);
	assert_int_equal(tui_ringlog_get(r, 3)->when_ms, 4);
	assert_line(r, 4, "q");
	assert_int_equal(tui_ringlog_get(r, 4)->stream, TUI_STREAM_STDERR);
	tui_ringlog_free(r);
}

/* Chunks that complete lines on a full ring drop the oldest, as appends do. */
static void test_chunks_on_full_ring(void **state)
{
	struct tui_ringlog *r = tui_ringlog_new(2, 0);

	(void)state;
	tui_ringlog_append_bytes(r, TUI_STREAM_STDOUT, 0, "1\n2\n3", 5);
	tui_ringlog_append_bytes(r, TUI_STREAM_STDOUT, 0, "\n4\n", 3);
	assert_int_equal(tui_ringlog_count(r), 2);
	assert_int_equal(tui_ringlog_dropped(r), 2);
	assert_line(r, 0, "3");
	assert_line(r, 1, "4");
	tui_ringlog_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity_drops_oldest),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_index_after_wrap),
		cmocka_unit_test(test_long_line_cut_at_utf8_boundary),
		cmocka_unit_test(test_line_max_floor),
		cmocka_unit_test(test_long_line_streamed),
		cmocka_unit_test(test_chunks_split_at_every_point),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_append_strips_one_ending),
		cmocka_unit_test(test_streams_keep_their_own_tails),
		cmocka_unit_test(test_chunks_on_full_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
