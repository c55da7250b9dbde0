/*
 * con_out — the output pane: SSM output, migration progress, errors, from
 * the bounded ring in tui/ringlog.h. It follows the end by default; moving
 * in it pauses following (s resumes), w wraps long lines, t shows times,
 * lines matching the `/` filter are highlighted, ctrl-s saves every kept
 * line to a new file (0600, never overwriting). The title counts the lines
 * the ring dropped, so a flood is visible rather than silent.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui/console.h"

#define STDERR_MARK "stderr| "

static uint64_t first_seq(const struct con *c)
{
	return tui_ringlog_dropped(c->log);
}

static uint64_t end_seq(const struct con *c)
{
	return first_seq(c) + tui_ringlog_count(c->log);
}

static void out_scroll(struct con *c, long delta)
{
	uint64_t lo = first_seq(c), hi = end_seq(c);
	if (!c->out.paused) {
		long rows = getmaxy(stdscr) / 4;
		c->out.seq = hi > (uint64_t)rows ? hi - (uint64_t)rows : lo;
		c->out.paused = true;
	}
	long long s = (long long)c->out.seq + delta;
	c->out.seq = s < (long long)lo ? lo : (uint64_t)s >= hi ? (hi ? hi - 1 : 0) : (uint64_t)s;
}

/* ctrl-s: every kept line, with its time and stream, into a new file. */
static void save(struct con *c)
{
	char name[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(name, sizeof name, "tarmac-output-%Y%m%dT%H%M%SZ.log", &tm);
	int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		con_flash(c, true, " cannot save the output to %s: %s", name, strerror(errno));
		return;
	}
	size_t n = tui_ringlog_count(c->log);
	for (size_t i = 0; i < n; i++) {
		const struct tui_ringlog_line *l = tui_ringlog_get(c->log, i);
		time_t t = (time_t)(l->when_ms / 1000);
		char stamp[32];
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
		fprintf(f, "%s %s%s\n", stamp, l->stream == TUI_STREAM_STDERR ? STDERR_MARK : "", l->text);
	}
	bool ok = !ferror(f);
	ok &= fclose(f) == 0;
	if (ok)
		con_flash(c, false, " saved %zu lines to %s", n, name);
	else
		con_flash(c, true, " writing %s failed", name);
}

bool con_out_key(struct con *c, int k)
{
	long page = getmaxy(stdscr) / 4;
	switch (k) {
	case 'j': case KEY_DOWN: out_scroll(c, 1); return true;
	case 'k': case KEY_UP: out_scroll(c, -1); return true;
	case KEY_NPAGE: out_scroll(c, page); return true;
	case KEY_PPAGE: out_scroll(c, -page); return true;
	case 'g': out_scroll(c, -(long)end_seq(c)); return true;
	case 'G': case 's': c->out.paused = k == 's' ? !c->out.paused : false;
		if (c->out.paused)
			out_scroll(c, 0);
		return true;
	case 'w': c->out.wrap = !c->out.wrap; return true;
	case 't': c->out.stamps = !c->out.stamps; return true;
	case 19: save(c); return true; /* ctrl-s */
	default: return false;
	}
}

/* Characters (not bytes) of a UTF-8 string. */
static size_t chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void line_text(const struct con *c, const struct tui_ringlog_line *l, char *out, size_t n)
{
	char stamp[16] = "";
	if (c->out.stamps) {
		time_t t = (time_t)(l->when_ms / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof stamp, "%H:%M:%S ", &tm);
	}
	snprintf(out, n, "%s%s%s", stamp, l->stream == TUI_STREAM_STDERR ? STDERR_MARK : "", l->text);
}

static int rows_of(const struct con *c, const struct tui_ringlog_line *l, int w)
{
	if (!c->out.wrap || w <= 0)
		return 1;
	char text[4200];
	line_text(c, l, text, sizeof text);
	size_t n = chars(text);
	return n ? (int)((n + (size_t)w - 1) / (size_t)w) : 1;
}

/* The first line to show so that the last one fits (following). */
static size_t follow_start(const struct con *c, int rows, int w)
{
	size_t n = tui_ringlog_count(c->log), i = n;
	for (int used = 0; i > 0; i--) {
		used += rows_of(c, tui_ringlog_get(c->log, i - 1), w);
		if (used > rows)
			break;
	}
	return i;
}

/* p advanced past n characters (or to its end). */
static const char *skip_chars(const char *p, int n)
{
	for (int col = 0; *p && col < n; col++)
		do
			p++;
		while (((unsigned char)*p & 0xC0) == 0x80);
	return p;
}

static int draw_line(struct con *c, const struct tui_ringlog_line *l, int y, int end, int w)
{
	char text[4200];
	line_text(c, l, text, sizeof text);
	enum tui_role r = l->stream == TUI_STREAM_STDERR ? TUI_ROLE_LOG_ERROR : TUI_ROLE_COUNT;
	if (c->filter_set && con_filter_match(c, l->text))
		r = TUI_ROLE_TABLE_MATCH;
	if (r != TUI_ROLE_COUNT)
		con_pen(c, r, true);
	const char *p = text;
	int used = 0;
	do {
		con_put(y + used, 1, w, p);
		p = skip_chars(p, w);
		used++;
	} while (c->out.wrap && *p && y + used < end);
	if (r != TUI_ROLE_COUNT)
		con_pen(c, r, false);
	return used;
}

void con_out_draw(struct con *c, int y, int h, int w)
{
	char title[200];
	uint64_t dropped = tui_ringlog_dropped(c->log), lost = dropped + c->out.queue_dropped;
	const char *dot = c->utf8 ? " · " : " - ";
	int len = snprintf(title, sizeof title, "Output%s%s", dot, c->out.paused ? "paused (s follows)" : "following");
	if (lost)
		len += snprintf(title + len, sizeof title - (size_t)len, "%s%llu dropped", dot, (unsigned long long)lost);
	if (c->ssm_id)
		snprintf(title + len, sizeof title - (size_t)len, "%sssm %.8s%s", dot, c->ssm_id,
			 c->run_job ? " running" : "");
	con_box(c, (struct con_rect){ y, 0, h, w }, title, c->focus == CON_PANE_OUT);
	int rows = h - 2, inner = w - 2;
	size_t n = tui_ringlog_count(c->log);
	size_t i = c->out.paused ? (size_t)(c->out.seq > dropped ? c->out.seq - dropped : 0)
				 : follow_start(c, rows, inner);
	for (int row = 0; row < rows && i < n; i++)
		row += draw_line(c, tui_ringlog_get(c->log, i), y + 1 + row, y + 1 + rows, inner);
}
