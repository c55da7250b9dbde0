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
#include <time.h>

#include "tui/console.h"

void con_pen(const struct con *c, enum tui_role r, bool on)
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

/* Bytes of the UTF-8 character at p: its lead byte's length when the
 * continuation bytes are really there, else 1 (a stray or cut byte). */
static size_t char_len(const unsigned char *p)
{
	size_t n = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 1;
	return n;
}

/* Writes s clipped to w columns (counting characters, not bytes). Control
 * bytes (output from a host, a file's tabs and carriage returns) would move
 * the cursor: they show as '?' and tabs as a space. Invalid UTF-8 shows as
 * '?' too, one per byte. */
void con_put(int y, int x, int w, const char *s)
{
	int col = 0;
	const unsigned char *p = (const unsigned char *)s;
	move(y, x);
	while (*p && col < w) {
		size_t n = char_len(p);
		if (*p == '\t')
			addch(' ');
		else if (*p < 32 || *p == 127 || (n == 1 && *p >= 0x80))
			addch('?');
		else
			addnstr((const char *)p, (int)n);
		p += n;
		col++;
	}
	for (; col < w; col++)
		addch(' ');
}

void con_putf(int y, int x, int w, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	con_put(y, x, w, line);
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

/* "acct 1234…7890": enough to tell accounts apart, not the whole number. */
static void short_account(const struct con *c, const char *acct, char *out, size_t n)
{
	size_t len = strlen(acct);
	if (len > 8)
		snprintf(out, n, "%.4s%s%s", acct, c->utf8 ? "…" : "..", acct + len - 4);
	else
		snprintf(out, n, "%s", acct);
}

/* The header's AWS part: account, profile@region, host and its ping, expiry. */
static void header_aws(const struct con *c, char *out, size_t n, bool *warn)
{
	const struct con_facts *f = c->facts;
	const char *bar = c->utf8 ? " │ " : " | ";
	*warn = false;
	if (!f) {
		snprintf(out, n, "%saws: checking", bar);
		return;
	}
	if (f->error) {
		snprintf(out, n, "%saws: %.80s", bar, f->error);
		*warn = strcmp(f->error, "not used");
		return;
	}
	char acct[32], exp[48] = "";
	short_account(c, f->account, acct, sizeof acct);
	if (f->expires) {
		long left = (long)(f->expires - time(NULL));
		*warn = left < 15L * 60;
		if (left <= 0)
			snprintf(exp, sizeof exp, "%screds EXPIRED", bar);
		else
			snprintf(exp, sizeof exp, "%screds %ldm", bar, left / 60);
	}
	char host[160] = "";
	if (f->host[0]) {
		snprintf(host, sizeof host, "%shost %.19s %s", bar, f->host, f->host_status);
		*warn |= !f->host_ok;
	}
	snprintf(out, n, "%sacct %s%s%s@%s%s%s", bar, acct, bar, f->profile, f->region, host, exp);
}

static void draw_header(const struct con *c, int w)
{
	const struct con_db *d = c->dbs.len ? c->dbs.items[c->db_cur] : NULL;
	const char *env = d && d->conf->eng.environment ? d->conf->eng.environment : "";
	if (!strcmp(env, "default"))
		env = ""; /* Flyway's default environment: no band */
	bool prod = !strcmp(env, "prod"), warn;
	char aws[400], clock[16], upper[32];
	header_aws(c, aws, sizeof aws, &warn);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(clock, sizeof clock, "%H:%MZ", &tm);
	con_pen(c, warn ? TUI_ROLE_HEADER_WARN : TUI_ROLE_HEADER_BAR, true);
	con_putf(0, 0, w, " tarmac%s", aws);
	con_pen(c, warn ? TUI_ROLE_HEADER_WARN : TUI_ROLE_HEADER_BAR, false);
	/* right-aligned: environment band, RO/RW badge, clock */
	size_t i = 0;
	for (; env[i] && i + 1 < sizeof upper; i++)
		upper[i] = (char)(env[i] >= 'a' && env[i] <= 'z' ? env[i] - 32 : env[i]);
	upper[i] = 0;
	int x = w - 6 - 5 - (i ? (int)i + 3 : 0);
	if (x < 0)
		return;
	if (i) {
		con_pen(c, prod ? TUI_ROLE_HEADER_PROD : TUI_ROLE_HEADER_ENV, true);
		con_putf(0, x, (int)i + 2, " %s ", upper);
		con_pen(c, prod ? TUI_ROLE_HEADER_PROD : TUI_ROLE_HEADER_ENV, false);
		x += (int)i + 3;
	}
	bool ro = con_read_only(c, false);
	con_pen(c, ro ? TUI_ROLE_HEADER_READONLY : TUI_ROLE_HEADER_READWRITE, true);
	con_put(0, x, 4, ro ? " RO " : " RW ");
	con_pen(c, ro ? TUI_ROLE_HEADER_READONLY : TUI_ROLE_HEADER_READWRITE, false);
	con_pen(c, TUI_ROLE_HEADER_BAR, true);
	con_putf(0, x + 4, w - x - 4, " %s", clock);
	con_pen(c, TUI_ROLE_HEADER_BAR, false);
}

static void draw_crumbs(struct con *c, int w)
{
	const struct con_db *d = con_selected(c);
	const char *sep = c->utf8 ? " › " : " > ";
	struct buf b = BUF_INIT;
	buf_adds(&b, " Databases");
	if (d) {
		buf_addf(&b, "%s%s", sep, d->conf->name);
		for (size_t i = 0; i < d->conf->eng.locations.len && i < 2; i++)
			buf_addf(&b, "%s%s", i ? ", " : " (", (const char *)d->conf->eng.locations.items[i]);
		if (d->conf->eng.locations.len)
			buf_adds(&b, ")");
	}
	for (size_t i = 0; i < c->views.len; i++)
		buf_addf(&b, "%s%s", sep, ((struct con_view *)c->views.items[i])->title);
	if (c->filter_set)
		buf_addf(&b, "   filter /%s%s", c->filter_invert ? "!" : "", c->filter);
	con_pen(c, TUI_ROLE_CRUMBS_TEXT, true);
	con_put(1, 0, w, b.ptr);
	con_pen(c, TUI_ROLE_CRUMBS_TEXT, false);
	buf_release(&b);
}

void con_box(const struct con *c, struct con_rect b, const char *title, bool focus)
{
	int y = b.y, x = b.x, h = b.h, w = b.w;
	enum tui_role r = focus ? TUI_ROLE_PANE_FOCUS : TUI_ROLE_PANE_BORDER;
	/* Line-drawing characters only where the locale is UTF-8: elsewhere
	 * (and on terminals that mangle ACS) plain ASCII always reads right. */
	chtype hl = c->utf8 ? ACS_HLINE : '-', vl = c->utf8 ? ACS_VLINE : '|';
	chtype ul = c->utf8 ? ACS_ULCORNER : '+', ur = c->utf8 ? ACS_URCORNER : '+';
	chtype ll = c->utf8 ? ACS_LLCORNER : '+', lr = c->utf8 ? ACS_LRCORNER : '+';
	con_pen(c, r, true);
	mvhline(y, x + 1, hl, w - 2);
	mvhline(y + h - 1, x + 1, hl, w - 2);
	mvvline(y + 1, x, vl, h - 2);
	mvvline(y + 1, x + w - 1, vl, h - 2);
	mvaddch(y, x, ul);
	mvaddch(y, x + w - 1, ur);
	mvaddch(y + h - 1, x, ll);
	mvaddch(y + h - 1, x + w - 1, lr);
	con_pen(c, r, false);
	con_pen(c, TUI_ROLE_PANE_TITLE, true);
	int n = 0;
	for (const char *t = title; *t; t++)
		n += ((unsigned char)*t & 0xC0) != 0x80; /* characters, not bytes */
	con_putf(y, x + 2, n + 2 < w - 4 ? n + 2 : w - 4, " %s ", title);
	con_pen(c, TUI_ROLE_PANE_TITLE, false);
}

static void db_summary(const struct con_db *d, char *out, size_t n)
{
	if (!d->load)
		snprintf(out, n, "%s", d->loading ? "loading" : "");
	else if (d->load->error)
		snprintf(out, n, "error");
	else {
		const struct con_load *l = d->load;
		struct buf b = BUF_INIT;
		buf_addf(&b, "v%s", *l->current ? l->current : "-");
		if (l->failed)
			buf_addf(&b, " %zu failed", l->failed);
		if (l->mismatched)
			buf_addf(&b, " %zu drift", l->mismatched);
		if (l->pending)
			buf_addf(&b, " %zu pend", l->pending);
		if (!l->failed && !l->mismatched && !l->pending)
			buf_adds(&b, " ok");
		snprintf(out, n, "%s", b.ptr);
		buf_release(&b);
	}
}

static void draw_dbs(struct con *c, int y, int x, int h, int w)
{
	con_box(c, (struct con_rect){ y, x, h, w }, "Databases", c->focus == CON_PANE_DBS);
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
		enum tui_role r = cur ? TUI_ROLE_TABLE_CURSOR : d->marked ? TUI_ROLE_TABLE_MARKED : TUI_ROLE_COUNT;
		if (r != TUI_ROLE_COUNT)
			con_pen(c, r, true);
		con_putf(y + 1 + i, x + 1, w - 2, "%s%s%-12s %s", cur ? ">" : " ", d->marked ? "*" : " ",
			 d->conf->name, sum);
		if (r != TUI_ROLE_COUNT)
			con_pen(c, r, false);
	}
	/* buckets holding migrations that no database maps, below the databases */
	int used = (int)(c->dbs.len - c->db_top);
	for (size_t i = 0; i < c->orphans.len && used + (int)i < rows; i++) {
		con_pen(c, TUI_ROLE_STATE_MISSING, true);
		con_putf(y + 1 + used + (int)i, x + 1, w - 2, "  (orphan) %s", (const char *)c->orphans.items[i]);
		con_pen(c, TUI_ROLE_STATE_MISSING, false);
	}
	if (!c->dbs.len)
		con_put(y + 1, x + 1, w - 2, " no databases: add [database \"NAME\"] to tarmac.conf");
}

static void draw_row(struct con *c, const struct con_row *r, int y, int x, int w, bool cur)
{
	enum tui_role role;
	const char *g = con_glyph(c, r, &role);
	con_pen(c, cur ? TUI_ROLE_TABLE_CURSOR : role, true);
	con_put(y, x, 2, g);
	if (!cur)
		con_pen(c, role, false);
	const char *state = r->mismatch ? "Checksum mismatch" : eng_state_name(r->state);
	char when[20] = "";
	if (*r->installed_on)
		snprintf(when, sizeof when, "%.16s", r->installed_on);
	int n = snprintf(NULL, 0, "%-6.6s %-24.24s %-4.4s %-17.17s %-16s %6dms", r->version,
			 r->description, r->type, state, when, r->execution_ms);
	if (w - 2 >= n + 36) /* wide: who installed it and both checksums */
		con_putf(y, x + 2, w - 2, "%-6.6s %-24.24s %-4.4s %-17.17s %-16s %6dms %-10.10s %11s %11s",
			 r->version, r->description, r->type, state, when, r->execution_ms, r->installed_by,
			 r->local_sum, r->applied_sum);
	else
		con_putf(y, x + 2, w - 2, "%-6.6s %-24.24s %-4.4s %-17.17s %-16s %6dms", r->version,
			 r->description, r->type, state, when, r->execution_ms);
	if (cur)
		con_pen(c, TUI_ROLE_TABLE_CURSOR, false);
}

static void migs_title(const struct con *c, const struct con_db *d, char *title, size_t n)
{
	const char *dot = c->utf8 ? " · " : " - ";
	if (d && d->load && !d->load->error)
		snprintf(title, n, "%s%s%s%sschema v%s%s%zu pending%s", d->conf->name, dot, d->load->engine,
			 dot, *d->load->current ? d->load->current : "-", dot, d->load->pending,
			 c->filter_set ? " (filtered)" : "");
	else
		snprintf(title, n, "%s", d ? d->conf->name : "Migrations");
}

static void draw_migs(struct con *c, int y, int x, int h, int w)
{
	const struct con_db *d = con_selected(c);
	char title[256];
	migs_title(c, d, title, sizeof title);
	con_box(c, (struct con_rect){ y, x, h, w }, title, c->focus == CON_PANE_MIGS);
	int rows = h - 2;
	if (!d || !d->load) {
		con_put(y + 1, x + 1, w - 2, d && d->loading ? " loading" : "");
		return;
	}
	if (d->load->error) {
		con_pen(c, TUI_ROLE_LOG_ERROR, true);
		con_put(y + 1, x + 1, w - 2, d->load->error);
		con_pen(c, TUI_ROLE_LOG_ERROR, false);
		return;
	}
	const struct vec *v = &c->vis;
	if (c->mig_cur >= v->len)
		c->mig_cur = v->len ? v->len - 1 : 0;
	if (c->mig_cur < c->mig_top)
		c->mig_top = c->mig_cur;
	if (rows > 0 && c->mig_cur >= c->mig_top + (size_t)rows)
		c->mig_top = c->mig_cur - (size_t)rows + 1;
	for (int i = 0; i < rows && c->mig_top + (size_t)i < v->len; i++) {
		size_t k = c->mig_top + (size_t)i;
		draw_row(c, d->load->rows.items[*(size_t *)v->items[k]], y + 1 + i, x + 1, w - 2,
			 c->focus == CON_PANE_MIGS && k == c->mig_cur);
	}
	if (!v->len)
		con_put(y + 1, x + 1, w - 2, d->load->rows.len ? " No migration matches the filter"
							: " No migrations found");
}

static void draw_footer(const struct con *c, int y, int w)
{
	if (c->prompt) {
		con_pen(c, TUI_ROLE_FOOTER_PROMPT, true);
		con_putf(y, 0, w, "%s%s_", c->prompt == CON_PROMPT_FILTER ? "/" : ":", c->input);
		con_pen(c, TUI_ROLE_FOOTER_PROMPT, false);
		return;
	}
	enum tui_role r = !c->flash[0] ? TUI_ROLE_FOOTER_HINT : c->flash_error ? TUI_ROLE_FLASH_ERROR
										: TUI_ROLE_FLASH_OK;
	char hints[512];
	con_footer_hints(c, hints, sizeof hints);
	con_pen(c, r, true);
	con_put(y, 0, w, c->flash[0] ? c->flash : hints);
	con_pen(c, r, false);
}

/* The output pane's rows: a quarter of the body by default, then what
 * + and - made it (at least 3, leaving the panes above 6); 0 when hidden. */
static int out_height(struct con *c, int body)
{
	if (c->out.hidden)
		return 0;
	int h = body / 4 + c->out.grow, most = body - 6;
	return h < 3 ? 3 : h > most ? most : h;
}

void con_draw(struct con *c)
{
	int h, w;
	getmaxyx(stdscr, h, w);
	erase();
	if (w < 60 || h < 15) {
		con_putf(h / 2 > 0 ? h / 2 - 1 : 0, 0, w, " terminal too small: %dx%d", w, h);
		con_put(h / 2, 0, w, " tarmac needs 60x15");
		refresh();
		return;
	}
	draw_header(c, w);
	draw_crumbs(c, w);
	int body = h - 3, out_h = out_height(c, body), top = body - out_h;
	struct con_view *v = con_view_top(c);
	if (v) {
		con_view_draw(c, v, 2, top, w);
	} else if (w >= 100) {
		int left = w >= 120 ? 38 : 32;
		draw_dbs(c, 2, 0, top, left);
		draw_migs(c, 2, left, top, w - left);
	} else {
		int dbs_h = top / 3 < 4 ? 4 : top / 3;
		draw_dbs(c, 2, 0, dbs_h, w);
		draw_migs(c, 2 + dbs_h, 0, top - dbs_h, w);
	}
	if (out_h)
		con_out_draw(c, 2 + top, out_h, w);
	draw_footer(c, h - 1, w);
	refresh();
}

/* The dialog over everything: title, the exact effect, the typed name on a
 * prod database, and Cancel (focused first) / Confirm. */
/* Where the row starting at s ends when wrapping at w characters: after
 * the last space that fits, or at w characters when no space does. */
static const char *wrap_end(const char *s, int w)
{
	const char *p = s, *space = NULL;
	for (int col = 0; *p && col < w; col++) {
		if (*p == ' ')
			space = p + 1;
		do
			p++;
		while (((unsigned char)*p & 0xC0) == 0x80);
	}
	return *p && space && space > s ? space : p;
}

static int wrapped_rows(const char *s, int w)
{
	int n = 0;
	do {
		s = wrap_end(s, w);
		n++;
	} while (*s);
	return n;
}

/* Writes s wrapped at w characters from row y, at most until row end. */
static int put_wrapped(int y, int x, int w, int end, const char *s)
{
	int rows = 0;
	do {
		const char *e = wrap_end(s, w);
		char line[1024];
		size_t n = (size_t)(e - s) < sizeof line - 1 ? (size_t)(e - s) : sizeof line - 1;
		memcpy(line, s, n);
		line[n] = 0;
		con_put(y + rows, x, w, line);
		s = e;
		rows++;
	} while (*s && y + rows < end);
	return rows;
}

/* The dialog's frame and how much of its text fits. */
struct dialog_geo {
	struct con_rect r;
	int text_rows, total_rows;   /* rows for the text; rows the text needs */
};

static bool dialog_geo(const struct con *c, struct dialog_geo *g)
{
	int h, w;
	getmaxyx(stdscr, h, w);
	if (w < 60 || h < 15)
		return false;
	const struct con_dialog *dg = &c->dialog;
	int bw = w - 8 < 96 ? w - 8 : 96, extra = dg->must_type[0] ? 1 : 0;
	g->total_rows = 0;
	for (size_t i = dg->top; i < dg->lines.len; i++)
		g->total_rows += wrapped_rows(dg->lines.items[i], bw - 4);
	int bh = g->total_rows + 5 + extra;
	if (bh > h - 2)
		bh = h - 2;
	g->r = (struct con_rect){ (h - bh) / 2, (w - bw) / 2, bh, bw };
	g->text_rows = bh - 4 - extra;
	return true;
}

bool con_dialog_shows_end(const struct con *c)
{
	struct dialog_geo g;
	return !dialog_geo(c, &g) || g.total_rows <= g.text_rows;
}

/* The dialog over everything: title, the exact effect (wrapped, never cut:
 * it is what the operator confirms; longer than the screen, it scrolls and
 * Confirm waits until its end has been shown), the typed name on a prod
 * database, and Cancel (focused first) / Confirm. */
void con_draw_dialog(struct con *c)
{
	struct dialog_geo g;
	if (!dialog_geo(c, &g))
		return;
	struct con_dialog *dg = &c->dialog;
	struct con_rect r = g.r;
	int bw = r.w, bh = r.h;
	con_pen(c, TUI_ROLE_DIALOG_BODY, true);
	for (int i = 0; i < bh; i++)
		con_put(r.y + i, r.x, bw, "");
	con_pen(c, TUI_ROLE_DIALOG_BODY, false);
	con_box(c, r, dg->title, true);
	bool more = g.total_rows > g.text_rows;
	int y = r.y + 1, end = r.y + 1 + g.text_rows - (more ? 1 : 0);
	for (size_t i = dg->top; i < dg->lines.len && y < end; i++)
		y += put_wrapped(y, r.x + 2, bw - 4, end, dg->lines.items[i]);
	if (more) {
		con_pen(c, TUI_ROLE_DIALOG_DANGER, true);
		con_putf(end, r.x + 2, bw - 4, "... more below: Down / PgDn to read it all before Confirm");
		con_pen(c, TUI_ROLE_DIALOG_DANGER, false);
	} else {
		dg->seen_end = true;
	}
	if (dg->must_type[0]) {
		con_pen(c, TUI_ROLE_DIALOG_DANGER, true);
		con_putf(r.y + bh - 3, r.x + 2, bw - 4, "PROD: type %s to enable Confirm: %s_", dg->must_type, dg->typed);
		con_pen(c, TUI_ROLE_DIALOG_DANGER, false);
	}
	bool typed = !dg->must_type[0] || !strcmp(dg->typed, dg->must_type), can = typed && dg->seen_end;
	int by = r.y + bh - 2, cw = bw - 18 < 40 ? bw - 18 : 40;
	con_pen(c, dg->confirm_focused ? TUI_ROLE_DIALOG_BUTTON : TUI_ROLE_DIALOG_FOCUS, true);
	con_put(by, r.x + 2, 12, dg->confirm_focused ? "  Cancel  " : "[ Cancel ]");
	con_pen(c, dg->confirm_focused ? TUI_ROLE_DIALOG_BUTTON : TUI_ROLE_DIALOG_FOCUS, false);
	enum tui_role cr = !can ? TUI_ROLE_DIALOG_DISABLED : dg->confirm_focused ? TUI_ROLE_DIALOG_FOCUS
									     : TUI_ROLE_DIALOG_BUTTON;
	con_pen(c, cr, true);
	con_put(by, r.x + 16, cw, !typed ? "  Confirm (type the name first)" : !can ? "  Confirm (read it all first)"
			 : dg->confirm_focused ? "[ Confirm ]" : "  Confirm  ");
	con_pen(c, cr, false);
	refresh();
}
