/*
 * ringlog — the output pane's bounded ring of lines.
 *
 * Holds at most `capacity` lines (default 10,000); appending to a full ring
 * drops the oldest line and counts it, so a job that prints forever costs a
 * fixed amount of memory. Line i (0 = the oldest line still kept) is found
 * in O(1). A line longer than `line_max` bytes (default 4,096) is cut at a
 * UTF-8 character boundary and ends with "…[+N bytes]", N being the bytes
 * left out.
 *
 * Output arrives in chunks that need not end at a newline:
 * tui_ringlog_append_bytes splits on '\n' and keeps the unfinished tail of
 * each stream until the next chunk of that stream or tui_ringlog_flush. A
 * "\r\n" ending counts as "\n"; a lone '\r' inside a line is kept (the
 * renderer shows it). Tails are capped like lines, so a newline-free flood
 * is bounded too.
 *
 * Threads: none of its own. A ringlog belongs to one thread (the UI).
 * Following the end of the log is UI state, not kept here.
 */
#ifndef TARMAC_TUI_RINGLOG_H
#define TARMAC_TUI_RINGLOG_H

#include <stddef.h>
#include <stdint.h>

#define TUI_RINGLOG_DEFAULT_LINES 10000
#define TUI_RINGLOG_DEFAULT_LINE_MAX 4096

/* Where a line came from; also carried by the job runner's output messages. */
enum tui_stream {
	TUI_STREAM_STDOUT,
	TUI_STREAM_STDERR,
	TUI_STREAM_INFO,      /* tarmac's own notes ("migrating users...") */
	TUI_STREAM_COUNT_
};

struct tui_ringlog_line {
	char *text;           /* NUL-terminated, without the newline */
	size_t len;           /* bytes of text, the cut suffix included */
	enum tui_stream stream;
	int64_t when_ms;      /* wall clock (ms since the epoch) of its first byte */
};

struct tui_ringlog;

/*
 * A ring of `capacity` lines whose texts are cut past `line_max` bytes;
 * 0 selects the defaults. line_max below 4 is raised to 4 so that any
 * UTF-8 character fits. Never fails (out of memory aborts).
 */
struct tui_ringlog *tui_ringlog_new(size_t capacity, size_t line_max);
/* Frees the lines and any unfinished tails; NULL is a no-op. */
void tui_ringlog_free(struct tui_ringlog *r);

/*
 * Appends text[0..len) as one whole line (copied). A trailing "\n" or
 * "\r\n" is dropped; other bytes, newlines inside included, are kept as
 * they are. Does not touch the stream's unfinished tail.
 */
void tui_ringlog_append(struct tui_ringlog *r, enum tui_stream stream, int64_t when_ms,
			const char *text, size_t len);
/*
 * Appends a chunk of a stream's output (copied): every '\n' completes a
 * line, the bytes after the last one wait for the next chunk. A line
 * assembled from several chunks takes the time of the chunk it began in.
 */
void tui_ringlog_append_bytes(struct tui_ringlog *r, enum tui_stream stream, int64_t when_ms,
			      const void *data, size_t len);
/*
 * Turns every stream's unfinished tail into a line (stdout, stderr, info),
 * dropping a final '\r' as if its '\n' had come: call it when the
 * producer has finished.
 */
void tui_ringlog_flush(struct tui_ringlog *r);

/* Lines kept, at most the capacity. */
size_t tui_ringlog_count(const struct tui_ringlog *r);
/*
 * Line i, 0 being the oldest kept, or NULL past the end. Borrowed: valid
 * until the next append, append_bytes, flush or free.
 */
const struct tui_ringlog_line *tui_ringlog_get(const struct tui_ringlog *r, size_t i);
/*
 * Lines dropped from the front since the ring was made. It is also the
 * sequence number of line 0, so the UI can keep a scroll position as
 * "line number since start" and convert with get(seq - dropped).
 */
uint64_t tui_ringlog_dropped(const struct tui_ringlog *r);
size_t tui_ringlog_capacity(const struct tui_ringlog *r);

#endif
