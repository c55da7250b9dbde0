/*
 * con_draw — paints the console from its state; called on the UI thread
 * only, after every change and every resize. Layout (spec/console.md):
 * header, crumbs, databases | migrations side by side from 100 columns
 * (stacked below), output pane, footer; under 60x15 a "too small" screen.
 * States always carry a glyph and a word, never colour alone.
 */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tui/console.h"

static void pen(const struct con *c, enum tui_role r, bool on)
{
	const struct tui_pen *p = &c->pens.role[r];
	attr_t a = 0;
	if (p->attrs & TUI_ATTR_BOLD)
		a |= A_BOLD;
	if (p->attrs & TUI_ATTR_DIM)
		a |= A_DIM;
	if (p->attrs & TUI_ATTR_UNDERLINE)
		a |= A_UNDERLINE;
	if (p->attrs & TUI_ATTR_REVERSE)
		a |= A_REVERSE;
	if (c->pens.ncolours)
		a |= COLOR_PAIR((short)(r + 1));
	if (on)
		attron(a);
	else
		attroff(a);
}

/* Writes s clipped to w columns (counting characters, not bytes). */
static void put(int y, int x, int w, const char *s)
{
	int col = 0;
	const unsigned char *p = (const unsigned char *)s;
	move(y, x);
	while (*p && col < w) {
		size_t n = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
		addnstr((const char *)p, (int)n);
		p += n;
		col++;
	}
	for (; col < w; col++)
		addch(' ');
}

static void putf(int y, int x, int w, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void putf(int y, int x, int w, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	put(y, x, w, line);
}

struct glyph {
	const char *utf8, *ascii;
	enum tui_role role;
};

static struct glyph glyph_of(const struct con_row *r)
{
	if (r->mismatch)
		return (struct glyph){ "≠", "!", TUI_ROLE_STATE_MISMATCH };
	switch (r->state) {
	case ENG_STATE_PENDING:
		return (struct glyph){ "…", ".", TUI_ROLE_STATE_PENDING };
	case ENG_STATE_FAILED: case ENG_STATE_MISSING_FAILED: case ENG_STATE_FUTURE_FAILED:
		return (struct glyph){ "✗", "x", TUI_ROLE_STATE_FAILED };
	case ENG_STATE_MISSING_SUCCESS:
		return (struct glyph){ "?", "?", TUI_ROLE_STATE_MISSING };
	case ENG_STATE_FUTURE_SUCCESS:
		return (struct glyph){ "↑", "^", TUI_ROLE_STATE_FUTURE };
	case ENG_STATE_OUTDATED:
		return (struct glyph){ "~", "~", TUI_ROLE_STATE_OUTDATED };
	case ENG_STATE_BASELINE:
		return (struct glyph){ "⌂", "B", TUI_ROLE_STATE_BASELINE };
	case ENG_STATE_SUCCESS: case ENG_STATE_OUT_OF_ORDER:
		return (struct glyph){ "✓", "+", TUI_ROLE_STATE_SUCCESS };
	default:
		return (struct glyph){ "⊘", "-", TUI_ROLE_STATE_IGNORED };
	}
}

const char *con_glyph(const struct con *c, const struct con_row *r, enum tui_role *role)
{
	struct glyph g = glyph_of(r);
	*role = g.role;
	return c->utf8 ? g.utf8 : g.ascii;
}

static void draw_header(const struct con *c, int w)
{
	pen(c, TUI_ROLE_HEADER_BAR, true);
	const char *bar = c->utf8 ? "│" : "|";
	putf(0, 0, w, " tarmac %s %zu database%s %s %s", bar, c->dbs.len, c->dbs.len == 1 ? "" : "s",
	     bar, c->conf.path ? c->conf.path : "no tarmac.conf");
	pen(c, TUI_ROLE_HEADER_BAR, false);
	const char *badge = c->read_only ? " RO " : " RW ";
	pen(c, c->read_only ? TUI_ROLE_HEADER_READONLY : TUI_ROLE_HEADER_READWRITE, true);
	mvaddstr(0, w - 5 > 0 ? w - 5 : 0, badge);
	pen(c, c->read_only ? TUI_ROLE_HEADER_READONLY : TUI_ROLE_HEADER_READWRITE, false);
	const struct con_db *d = c->dbs.len ? c->dbs.items[c->db_cur] : NULL;
	pen(c, TUI_ROLE_CRUMBS_TEXT, true);
	putf(1, 0, w, " Databases%s%s", d ? (c->utf8 ? " › " : " > ") : "", d ? d->conf->name : "");
	pen(c, TUI_ROLE_CRUMBS_TEXT, false);
}

/* A pane's place on the screen. */
struct rect {
	int y, x, h, w;
};

static void draw_box(const struct con *c, struct rect b, const char *title, bool focus)
{
	int y = b.y, x = b.x, h = b.h, w = b.w;
	enum tui_role r = focus ? TUI_ROLE_PANE_FOCUS : TUI_ROLE_PANE_BORDER;
	/* Line-drawing characters only where the locale is UTF-8: elsewhere
	 * (and on terminals that mangle ACS) plain ASCII always reads right. */
	chtype hl = c->utf8 ? ACS_HLINE : '-', vl = c->utf8 ? ACS_VLINE : '|';
	chtype ul = c->utf8 ? ACS_ULCORNER : '+', ur = c->utf8 ? ACS_URCORNER : '+';
	chtype ll = c->utf8 ? ACS_LLCORNER : '+', lr = c->utf8 ? ACS_LRCORNER : '+';
	pen(c, r, true);
	mvhline(y, x + 1, hl, w - 2);
	mvhline(y + h - 1, x + 1, hl, w - 2);
	mvvline(y + 1, x, vl, h - 2);
	mvvline(y + 1, x + w - 1, vl, h - 2);
	mvaddch(y, x, ul);
	mvaddch(y, x + w - 1, ur);
	mvaddch(y + h - 1, x, ll);
	mvaddch(y + h - 1, x + w - 1, lr);
	pen(c, r, false);
	pen(c, TUI_ROLE_PANE_TITLE, true);
	int n = 0;
	for (const char *t = title; *t; t++)
		n += ((unsigned char)*t & 0xC0) != 0x80; /* characters, not bytes */
	putf(y, x + 2, n + 2 < w - 4 ? n + 2 : w - 4, " %s ", title);
	pen(c, TUI_ROLE_PANE_TITLE, false);
}

static void db_summary(const struct con_db *d, char *out, size_t n)
{
	if (!d->load)
		snprintf(out, n, "%s", d->loading ? "loading" : "");
	else if (d->load->error)
		snprintf(out, n, "error");
	else if (d->load->failed)
		snprintf(out, n, "v%s %zu failed", *d->load->current ? d->load->current : "-", d->load->failed);
	else if (d->load->pending)
		snprintf(out, n, "v%s %zu pend", *d->load->current ? d->load->current : "-", d->load->pending);
	else
		snprintf(out, n, "v%s ok", *d->load->current ? d->load->current : "-");
}

static void draw_dbs(struct con *c, int y, int x, int h, int w)
{
	draw_box(c, (struct rect){ y, x, h, w }, "Databases", c->focus == CON_PANE_DBS);
	int rows = h - 2;
	if (c->db_cur < c->db_top)
		c->db_top = c->db_cur;
	if (rows > 0 && c->db_cur >= c->db_top + (size_t)rows)
		c->db_top = c->db_cur - (size_t)rows + 1;
	for (int i = 0; i < rows && c->db_top + (size_t)i < c->dbs.len; i++) {
		size_t k = c->db_top + (size_t)i;
		const struct con_db *d = c->dbs.items[k];
		char sum[64];
		db_summary(d, sum, sizeof sum);
		bool cur = k == c->db_cur;
		if (cur)
			pen(c, TUI_ROLE_TABLE_CURSOR, true);
		putf(y + 1 + i, x + 1, w - 2, "%s%-12s %s", cur ? ">" : " ", d->conf->name, sum);
		if (cur)
			pen(c, TUI_ROLE_TABLE_CURSOR, false);
	}
	if (!c->dbs.len)
		put(y + 1, x + 1, w - 2, " no databases: add [database \"NAME\"] to tarmac.conf");
}

static void draw_row(struct con *c, const struct con_row *r, int y, int x, int w, bool cur)
{
	enum tui_role role;
	const char *g = con_glyph(c, r, &role);
	if (cur)
		pen(c, TUI_ROLE_TABLE_CURSOR, true);
	else
		pen(c, role, true);
	put(y, x, 2, g);
	if (!cur)
		pen(c, role, false);
	const char *state = r->mismatch ? "Checksum mismatch" : eng_state_name(r->state);
	putf(y, x + 2, w - 2, "%-6s %-24.24s %-4s %-16.16s %-18s %5dms", r->version, r->description,
	     r->type, *r->installed_on ? r->installed_on : "", state, r->execution_ms);
	if (cur)
		pen(c, TUI_ROLE_TABLE_CURSOR, false);
}

static void draw_migs(struct con *c, int y, int x, int h, int w)
{
	const struct con_db *d = c->dbs.len ? c->dbs.items[c->db_cur] : NULL;
	char title[256];
	if (d && d->load && !d->load->error)
		snprintf(title, sizeof title, "%s %s %s %s schema v%s %s %zu pending", d->conf->name,
			 c->utf8 ? "·" : "-", d->load->engine, c->utf8 ? "·" : "-",
			 *d->load->current ? d->load->current : "-", c->utf8 ? "·" : "-", d->load->pending);
	else
		snprintf(title, sizeof title, "%s", d ? d->conf->name : "Migrations");
	draw_box(c, (struct rect){ y, x, h, w }, title, c->focus == CON_PANE_MIGS);
	int rows = h - 2;
	if (!d || !d->load) {
		put(y + 1, x + 1, w - 2, d && d->loading ? " loading" : "");
		return;
	}
	if (d->load->error) {
		pen(c, TUI_ROLE_LOG_ERROR, true);
		put(y + 1, x + 1, w - 2, d->load->error);
		pen(c, TUI_ROLE_LOG_ERROR, false);
		return;
	}
	const struct vec *v = &d->load->rows;
	if (c->mig_cur >= v->len)
		c->mig_cur = v->len ? v->len - 1 : 0;
	if (c->mig_cur < c->mig_top)
		c->mig_top = c->mig_cur;
	if (rows > 0 && c->mig_cur >= c->mig_top + (size_t)rows)
		c->mig_top = c->mig_cur - (size_t)rows + 1;
	for (int i = 0; i < rows && c->mig_top + (size_t)i < v->len; i++) {
		size_t k = c->mig_top + (size_t)i;
		draw_row(c, v->items[k], y + 1 + i, x + 1, w - 2, c->focus == CON_PANE_MIGS && k == c->mig_cur);
	}
	if (!v->len)
		put(y + 1, x + 1, w - 2, " No migrations found");
}

static void draw_output(struct con *c, int y, int h, int w)
{
	draw_box(c, (struct rect){ y, 0, h, w }, "Output", c->focus == CON_PANE_OUT);
	size_t n = tui_ringlog_count(c->log);
	int rows = h - 2;
	size_t first = n > (size_t)rows ? n - (size_t)rows : 0;
	for (int i = 0; i < rows && first + (size_t)i < n; i++) {
		const struct tui_ringlog_line *l = tui_ringlog_get(c->log, first + (size_t)i);
		bool err = l->stream == TUI_STREAM_STDERR;
		if (err)
			pen(c, TUI_ROLE_LOG_ERROR, true);
		put(y + 1 + i, 1, w - 2, l->text);
		if (err)
			pen(c, TUI_ROLE_LOG_ERROR, false);
	}
}

static void draw_footer(const struct con *c, int y, int w)
{
	pen(c, c->flash[0] ? TUI_ROLE_FLASH_OK : TUI_ROLE_FOOTER_HINT, true);
	if (c->flash[0])
		put(y, 0, w, c->flash);
	else
		put(y, 0, w, c->read_only ? " ?help  j/k move  tab pane  enter open  r refresh  q quit"
					   : " ?help  j/k move  enter open  r refresh  M migrate  R rehearse  K cancel  q quit");
	pen(c, c->flash[0] ? TUI_ROLE_FLASH_OK : TUI_ROLE_FOOTER_HINT, false);
}

void con_draw(struct con *c)
{
	int h, w;
	getmaxyx(stdscr, h, w);
	erase();
	if (w < 60 || h < 15) {
		putf(h / 2 > 0 ? h / 2 - 1 : 0, 0, w, " terminal too small: %dx%d", w, h);
		put(h / 2, 0, w, " tarmac needs 60x15");
		refresh();
		return;
	}
	draw_header(c, w);
	int body = h - 3, out_h = body / 4 < 4 ? 4 : body / 4, top = body - out_h;
	if (w >= 100) {
		int left = 28;
		draw_dbs(c, 2, 0, top, left);
		draw_migs(c, 2, left, top, w - left);
	} else {
		int dbs_h = top / 3 < 4 ? 4 : top / 3;
		draw_dbs(c, 2, 0, dbs_h, w);
		draw_migs(c, 2 + dbs_h, 0, top - dbs_h, w);
	}
	draw_output(c, 2 + top, out_h, w);
	draw_footer(c, h - 1, w);
	refresh();
}

/* The dialog over everything: title, the exact effect, the typed name on a
 * prod database, and Cancel (focused first) / Confirm. */
void con_draw_dialog(const struct con *c)
{
	int h, w;
	getmaxyx(stdscr, h, w);
	if (w < 60 || h < 15)
		return;
	const struct con_dialog *dg = &c->dialog;
	int n = (int)dg->lines.len, bw = w - 8 < 76 ? w - 8 : 76;
	int bh = n + 6 + (dg->must_type[0] ? 1 : 0);
	if (bh > h - 2)
		bh = h - 2;
	struct rect r = { (h - bh) / 2, (w - bw) / 2, bh, bw };
	pen(c, TUI_ROLE_DIALOG_BODY, true);
	for (int i = 0; i < bh; i++)
		put(r.y + i, r.x, bw, "");
	pen(c, TUI_ROLE_DIALOG_BODY, false);
	draw_box(c, r, dg->title, true);
	int y = r.y + 1;
	for (int i = 0; i < n && y < r.y + bh - 3; i++, y++)
		put(y, r.x + 2, bw - 4, dg->lines.items[i]);
	if (dg->must_type[0]) {
		pen(c, TUI_ROLE_DIALOG_DANGER, true);
		putf(y++, r.x + 2, bw - 4, "PROD: type %s to enable Confirm: %s_", dg->must_type, dg->typed);
		pen(c, TUI_ROLE_DIALOG_DANGER, false);
	}
	bool can = !dg->must_type[0] || !strcmp(dg->typed, dg->must_type);
	int by = r.y + bh - 2;
	pen(c, dg->confirm_focused ? TUI_ROLE_DIALOG_BUTTON : TUI_ROLE_DIALOG_FOCUS, true);
	put(by, r.x + 2, 12, dg->confirm_focused ? "  Cancel  " : "[ Cancel ]");
	pen(c, dg->confirm_focused ? TUI_ROLE_DIALOG_BUTTON : TUI_ROLE_DIALOG_FOCUS, false);
	enum tui_role cr = !can ? TUI_ROLE_DIALOG_DISABLED : dg->confirm_focused ? TUI_ROLE_DIALOG_FOCUS
									     : TUI_ROLE_DIALOG_BUTTON;
	pen(c, cr, true);
	put(by, r.x + 16, 40, !can ? "  Confirm (type the name first)" : dg->confirm_focused ? "[ Confirm ]" : "  Confirm  ");
	pen(c, cr, false);
	refresh();
}
