/*
 * con_view — text views shown over the panes: the SQL pager (with line
 * numbers), plan, validate, details, help, buckets, locks and SSM runs.
 * Views stack: Enter on a selectable line may open another, Esc/h/q goes
 * back one. A view never changes anything; its keys only move and search.
 */
#include <curses.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tui/console.h"

struct con_view *con_view_new(const char *title)
{
	struct con_view *v = xcalloc(1, sizeof *v);
	v->kind = CON_RES_VIEW;
	snprintf(v->title, sizeof v->title, "%s", title);
	return v;
}

static void line_free(void *p)
{
	struct con_line *l = p;
	free(l->text);
	free(l->key);
	free(l);
}

void con_view_free(void *p)
{
	struct con_view *v = p;
	if (!v)
		return;
	vec_release(&v->lines, line_free);
	free(v);
}

void con_view_add(struct con_view *v, enum tui_role role, const char *text, size_t len)
{
	struct con_line *l = xcalloc(1, sizeof *l);
	/* tabs as spaces, other control bytes as '?': a file cannot drive the terminal */
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch == '\t')
			buf_adds(&b, "    ");
		else if (ch == '\r' && i + 1 == len)
			break;
		else
			buf_addc(&b, ch < 32 || ch == 127 ? '?' : (char)ch);
	}
	l->text = buf_detach(&b, NULL);
	l->role = role;
	vec_push(&v->lines, l);
}

void con_view_addf(struct con_view *v, enum tui_role role, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	con_view_add(v, role, b.ptr, b.len);
	buf_release(&b);
}

void con_view_add_text(struct con_view *v, enum tui_role role, const char *text)
{
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		con_view_add(v, role, p, n);
		p += n + (p[n] == '\n');
	}
}

void con_view_push_take(struct con *c, struct con_view *v)
{
	vec_push(&c->views, v);
	c->dirty = true;
}

struct con_view *con_view_top(struct con *c)
{
	return c->views.len ? c->views.items[c->views.len - 1] : NULL;
}

void con_view_pop(struct con *c)
{
	if (c->views.len)
		con_view_free(c->views.items[--c->views.len]);
}

static size_t view_rows(void)
{
	int h = getmaxy(stdscr);
	return h > 12 ? (size_t)(h - 12) : 1; /* about what con_draw gives a view */
}

static void view_move(struct con_view *v, long delta)
{
	size_t n = v->lines.len;
	if (!n)
		return;
	size_t *pos = v->cursor ? &v->cur : &v->top;
	long p = (long)*pos + delta;
	*pos = p < 0 ? 0 : (size_t)p >= n ? n - 1 : (size_t)p;
}

void con_view_search(struct con *c, bool backwards, bool from_top)
{
	struct con_view *v = con_view_top(c);
	if (!v || !c->filter_set || !v->lines.len)
		return;
	size_t n = v->lines.len, at = v->cursor ? v->cur : v->top;
	for (size_t step = 1; step <= n; step++) {
		size_t i = from_top ? step - 1 : backwards ? (at + n - step) % n : (at + step) % n;
		if (con_filter_match(c, ((struct con_line *)v->lines.items[i])->text)) {
			*(v->cursor ? &v->cur : &v->top) = i;
			return;
		}
	}
	con_flash(c, true, " no line matches /%s", c->filter);
}

bool con_view_key(struct con *c, int k)
{
	struct con_view *v = con_view_top(c);
	long page = (long)view_rows();
	switch (k) {
	case 'j': case KEY_DOWN: view_move(v, 1); return true;
	case 'k': case KEY_UP: view_move(v, -1); return true;
	case KEY_NPAGE: case ' ': view_move(v, page); return true;
	case KEY_PPAGE: view_move(v, -page); return true;
	case 'g': case KEY_HOME: view_move(v, -(long)v->lines.len); return true;
	case 'G': case KEY_END: view_move(v, (long)v->lines.len); return true;
	case 'n': con_view_search(c, false, false); return true;
	case 'N': con_view_search(c, true, false); return true;
	case 27: case 'h': case 'q': case KEY_LEFT: con_view_pop(c); return true;
	case '\n': case KEY_ENTER: case 'l':
		if (v->cursor && v->open && v->cur < v->lines.len)
			v->open(c, v->lines.items[v->cur]);
		return true;
	default:
		return false;
	}
}

void con_view_draw(struct con *c, struct con_view *v, int y, int h, int w)
{
	char title[260];
	snprintf(title, sizeof title, "%s %s %zu line%s  (esc back, / search)", v->title,
		 c->utf8 ? "·" : "-", v->lines.len, v->lines.len == 1 ? "" : "s");
	con_box(c, (struct con_rect){ y, 0, h, w }, title, true);
	int rows = h - 2, digits = 1;
	for (size_t n = v->lines.len; n >= 10; n /= 10)
		digits++;
	if (v->cursor) {
		if (v->cur < v->top)
			v->top = v->cur;
		if (rows > 0 && v->cur >= v->top + (size_t)rows)
			v->top = v->cur - (size_t)rows + 1;
	} else if (rows > 0 && v->lines.len > (size_t)rows && v->top > v->lines.len - (size_t)rows) {
		v->top = v->lines.len - (size_t)rows;
	}
	for (int i = 0; i < rows && v->top + (size_t)i < v->lines.len; i++) {
		size_t k = v->top + (size_t)i;
		const struct con_line *l = v->lines.items[k];
		bool cur = v->cursor && k == v->cur;
		enum tui_role r = cur ? TUI_ROLE_TABLE_CURSOR
			: c->filter_set && con_filter_match(c, l->text) ? TUI_ROLE_TABLE_MATCH : l->role;
		if (r != TUI_ROLE_COUNT)
			con_pen(c, r, true);
		if (v->numbers)
			con_putf(y + 1 + i, 1, w - 2, "%*zu  %s", digits, k + 1, l->text);
		else
			con_put(y + 1 + i, 1, w - 2, l->text);
		if (r != TUI_ROLE_COUNT)
			con_pen(c, r, false);
	}
}
