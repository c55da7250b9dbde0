/*
 * fuzz_sql_split — libFuzzer target for the statement splitter.
 *
 * The first byte picks the dialect (bit 0), the window step (bits 1-3) and
 * the server version (bits 4-5); the rest is the script. The script is
 * split once in one final window and once in growing windows, each call
 * seeing an exact-size copy so that AddressSanitizer catches any read past
 * the window. Checked: consumed <= len, NEED_MORE never on final input,
 * statements make progress and lie in the window, trimmed and non-empty,
 * their line/col match a naive count, END consumes everything, and both
 * runs give the same statements and the same ending.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/sql_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rec {
	size_t off, len;          /* the text, as an offset into the script */
	int line, col;
	bool non_tx, is_copy;
	size_t copy_off, copy_len;
};

struct outcome {
	struct rec *recs;
	size_t n;
	enum sql_split_result last;
	char msg[512];
};

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static bool is_blank(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The 1-based position of in[off], counted the slow way. */
static void naive_pos(const char *in, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (in[i] == '\r' || (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))) {
			(*line)++;
			*col = 1;
		} else if (in[i] != '\n') {
			(*col)++;
		}
	}
}

static void check_stmt(const char *in, const struct sql_stmt *st, const char *win, size_t wlen,
		       size_t base, struct outcome *o)
{
	struct rec *r = &o->recs[o->n++];
	int line, col;

	CHECK(st->text >= win && st->len > 0 && st->text + st->len <= win + wlen);
	CHECK(!is_blank(st->text[0]) && !is_blank(st->text[st->len - 1]));
	r->off = base + (size_t)(st->text - win);
	r->len = st->len;
	r->line = st->line;
	r->col = st->col;
	r->non_tx = st->non_transactional;
	r->is_copy = st->is_copy;
	if (st->is_copy) {
		CHECK(st->copy_data >= win && st->copy_data + st->copy_len <= win + wlen);
		r->copy_off = base + (size_t)(st->copy_data - win);
		r->copy_len = st->copy_len;
	}
	naive_pos(in, r->off, &line, &col);
	CHECK(line == st->line && col == st->col);
	if (o->n > 1)
		CHECK(r->off >= o->recs[o->n - 2].off + o->recs[o->n - 2].len);
}

/* Splits in[0..size) with windows growing by `step` bytes (0: all at once). */
static void split(const char *in, size_t size, enum db_dialect d, int version, size_t step,
		  struct outcome *o)
{
	struct sql_splitter s;
	size_t base = 0, have = step ? 0 : size, calls = 0;

	sql_splitter_init(&s, d, version);
	o->n = 0;
	o->recs = malloc((size + 1) * sizeof *o->recs);
	CHECK(o->recs);
	for (;;) {
		size_t wlen = have - base, used = SIZE_MAX;
		bool final = have == size;
		char *win = malloc(wlen ? wlen : 1);
		struct sql_stmt st;
		struct err e = ERR_INIT;
		enum sql_split_result r;

		CHECK(win);
		memcpy(win, in + base, wlen);
		r = sql_split_next(&s, (struct sql_input){ win, wlen, final }, &st, &used, &e);
		CHECK(used <= wlen);
		CHECK(++calls <= 2 * size + 8);
		if (r == SQL_SPLIT_STMT) {
			CHECK(used > 0 && o->n < size + 1);
			check_stmt(in, &st, win, wlen, base, o);
		}
		free(win);
		base += used;
		if (r == SQL_SPLIT_NEED_MORE) {
			CHECK(!final);
			have += size - have < step ? size - have : step;
		} else if (r != SQL_SPLIT_STMT) {
			CHECK(r == SQL_SPLIT_END || r == SQL_SPLIT_ERROR);
			CHECK(r == SQL_SPLIT_ERROR || base == size);
			CHECK(r == SQL_SPLIT_END || (e.code == ERR_PARSE && memcmp(e.msg, "line ", 5) == 0));
			o->last = r;
			memcpy(o->msg, r == SQL_SPLIT_ERROR ? e.msg : "", r == SQL_SPLIT_ERROR ? sizeof o->msg : 1);
			return;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t steps[8] = { 1, 2, 3, 5, 8, 13, 64, 1000 };
	static const int versions[4] = { 0, 110000, 120000, 160000 };
	struct outcome whole, part;
	enum db_dialect d;
	int version;
	size_t step, i;

	if (size < 1)
		return 0;
	d = data[0] & 1 ? DB_MY : DB_PG;
	step = steps[(data[0] >> 1) & 7];
	version = versions[(data[0] >> 4) & 3];
	split((const char *)data + 1, size - 1, d, version, 0, &whole);
	split((const char *)data + 1, size - 1, d, version, step, &part);
	CHECK(whole.n == part.n && whole.last == part.last);
	CHECK(strcmp(whole.msg, part.msg) == 0);
	for (i = 0; i < whole.n; i++) {
		const struct rec *a = &whole.recs[i], *b = &part.recs[i];
		CHECK(a->off == b->off && a->len == b->len && a->line == b->line && a->col == b->col);
		CHECK(a->non_tx == b->non_tx && a->is_copy == b->is_copy);
		CHECK(!a->is_copy || (a->copy_off == b->copy_off && a->copy_len == b->copy_len));
	}
	free(whole.recs);
	free(part.recs);
	return 0;
}
