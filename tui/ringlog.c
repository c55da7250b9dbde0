/*
 * ringlog — a fixed array of lines used as a circular buffer; see ringlog.h.
 *
 * Invariants: lines[(head + i) % capacity] is line i for i < count;
 * count <= capacity; every kept line owns its text. A stream's tail keeps
 * at most line_max + 1 bytes and counts the rest in `extra`: the one byte
 * past line_max is all that cutting at a UTF-8 boundary needs to see, so
 * a line without newlines never grows the tail further.
 */
#include "tui/ringlog.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

/* "…" (U+2026) then the count of bytes left out. */
#define CUT_MARK "\xe2\x80\xa6"

struct tail {
	struct buf b;         /* the line's first bytes, at most line_max + 1 */
	size_t extra;         /* bytes of the line past those, not kept */
	char last;            /* the line's last byte so far, kept or not */
	int64_t when_ms;      /* time of the chunk the line began in */
};

struct tui_ringlog {
	struct tui_ringlog_line *lines;
	size_t capacity, head, count;
	size_t line_max;
	uint64_t dropped;
	struct tail tails[TUI_STREAM_COUNT_];
};

struct tui_ringlog *tui_ringlog_new(size_t capacity, size_t line_max)
{
	struct tui_ringlog *r = xcalloc(1, sizeof *r);

	r->capacity = capacity ? capacity : TUI_RINGLOG_DEFAULT_LINES;
	r->line_max = line_max ? line_max : TUI_RINGLOG_DEFAULT_LINE_MAX;
	/* Below 4 bytes a 4-byte character could never be kept whole. */
	if (r->line_max < 4)
		r->line_max = 4;
	r->lines = xcalloc(r->capacity, sizeof *r->lines);
	for (size_t i = 0; i < TUI_STREAM_COUNT_; i++)
		buf_init(&r->tails[i].b);
	return r;
}

void tui_ringlog_free(struct tui_ringlog *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++)
		free(r->lines[(r->head + i) % r->capacity].text);
	for (size_t i = 0; i < TUI_STREAM_COUNT_; i++)
		buf_release(&r->tails[i].b);
	free(r->lines);
	free(r);
}

static enum tui_stream stream_check(enum tui_stream st)
{
	/* An out-of-range stream would index past tails[]: file it as ours. */
	return (unsigned)st < TUI_STREAM_COUNT_ ? st : TUI_STREAM_INFO;
}

/*
 * Where to cut s so that at most max bytes stay and no character is split:
 * s[max] exists. Steps back over at most three continuation bytes (the
 * longest UTF-8 tail); anything else is not UTF-8 and is cut by bytes.
 */
static size_t utf8_cut(const char *s, size_t max)
{
	size_t cut = max;

	for (int k = 0; k < 3 && ((unsigned char)s[cut] & 0xC0) == 0x80; k++)
		cut--;
	if (((unsigned char)s[cut] & 0xC0) == 0x80)
		cut = max;
	return cut;
}

/*
 * Stores a line of `total` bytes that starts with s. When the line is too
 * long, s need only hold line_max + 1 bytes: the rest is counted, not read.
 */
static void ring_push(struct tui_ringlog *r, enum tui_stream st, int64_t when_ms,
		      const char *s, size_t total)
{
	struct tui_ringlog_line line = { NULL, 0, st, when_ms };
	struct tui_ringlog_line *slot;

	if (total <= r->line_max) {
		line.text = xstrndup(s, total);
		line.len = total;
	} else {
		struct buf b = BUF_INIT;
		size_t cut = utf8_cut(s, r->line_max);

		buf_add(&b, s, cut);
		buf_addf(&b, CUT_MARK "[+%zu bytes]", total - cut);
		line.text = buf_detach(&b, &line.len);
	}
	if (r->count == r->capacity) {
		slot = &r->lines[r->head];
		free(slot->text);
		r->head = (r->head + 1) % r->capacity;
		r->dropped++;
	} else {
		slot = &r->lines[(r->head + r->count) % r->capacity];
		r->count++;
	}
	*slot = line;
}

/* A line that was ended by '\n' (not included): "\r\n" ends it too. */
static void line_ended(struct tui_ringlog *r, enum tui_stream st, int64_t when_ms,
		       const char *text, size_t len)
{
	if (len && text[len - 1] == '\r')
		len--;
	ring_push(r, st, when_ms, text, len);
}

void tui_ringlog_append(struct tui_ringlog *r, enum tui_stream stream, int64_t when_ms,
			const char *text, size_t len)
{
	if (len && text[len - 1] == '\n')
		line_ended(r, stream_check(stream), when_ms, text, len - 1);
	else
		ring_push(r, stream_check(stream), when_ms, text, len);
}

static bool tail_empty(const struct tail *t)
{
	return t->b.len == 0 && t->extra == 0;
}

static void tail_add(struct tail *t, const char *p, size_t n, int64_t when_ms, size_t line_max)
{
	size_t room = line_max + 1 - t->b.len;
	size_t keep = n < room ? n : room;

	if (n == 0)
		return;
	if (tail_empty(t))
		t->when_ms = when_ms;
	buf_add(&t->b, p, keep);
	t->extra += n - keep;
	t->last = p[n - 1];
}

/* The tail is a whole line now (its '\n' came, or a flush): store it,
 * dropping a final '\r' as line_ended does. */
static void tail_finish(struct tui_ringlog *r, enum tui_stream st)
{
	struct tail *t = &r->tails[st];
	size_t total = t->b.len + t->extra;

	if (total && t->last == '\r') {
		total--;
		if (t->extra == 0)
			buf_setlen(&t->b, t->b.len - 1);
	}
	ring_push(r, st, t->when_ms, t->b.ptr, total);
	/* Reset, not release: the next line will need the room again. */
	buf_reset(&t->b);
	t->extra = 0;
	t->last = 0;
}

void tui_ringlog_append_bytes(struct tui_ringlog *r, enum tui_stream stream, int64_t when_ms,
			      const void *data, size_t len)
{
	enum tui_stream st = stream_check(stream);
	struct tail *t = &r->tails[st];
	const char *p = data, *end = p + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl) {
			tail_add(t, p, (size_t)(end - p), when_ms, r->line_max);
			break;
		}
		if (tail_empty(t)) {
			/* The common case: the whole line is in this chunk. */
			line_ended(r, st, when_ms, p, (size_t)(nl - p));
		} else {
			tail_add(t, p, (size_t)(nl - p), when_ms, r->line_max);
			tail_finish(r, st);
		}
		p = nl + 1;
	}
}

void tui_ringlog_flush(struct tui_ringlog *r)
{
	for (size_t i = 0; i < TUI_STREAM_COUNT_; i++) {
		if (!tail_empty(&r->tails[i]))
			tail_finish(r, (enum tui_stream)i);
	}
}

size_t tui_ringlog_count(const struct tui_ringlog *r)
{
	return r->count;
}

const struct tui_ringlog_line *tui_ringlog_get(const struct tui_ringlog *r, size_t i)
{
	if (i >= r->count)
		return NULL;
	return &r->lines[(r->head + i) % r->capacity];
}

uint64_t tui_ringlog_dropped(const struct tui_ringlog *r)
{
	return r->dropped;
}

size_t tui_ringlog_capacity(const struct tui_ringlog *r)
{
	return r->capacity;
}
