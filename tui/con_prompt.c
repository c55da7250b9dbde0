/*
 * con_prompt — the footer's input line: `/` (a regex filter; `!` first
 * inverts it; an empty one clears it) and `:` (command mode: :db NAME, :buckets, :orphans, :runs,
 * :locks, :theme NAME, :help, :q). The filter hides non-matching
 * migrations, searches text views (n/N), and n/N in the databases pane
 * jump between matching databases. Commands only read or navigate.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui/console.h"

void con_prompt_open(struct con *c, enum con_prompt p)
{
	c->prompt = p;
	c->input[0] = 0;
}

bool con_filter_match(const struct con *c, const char *text)
{
	if (!c->filter_set)
		return true;
	bool hit = regexec(&c->filter_re, text, 0, NULL, 0) == 0;
	return hit != c->filter_invert;
}

static bool row_matches(const struct con *c, const struct con_row *r)
{
	char text[1024];
	snprintf(text, sizeof text, "%s %s %s %s %s", r->version, r->description, r->type,
		 r->mismatch ? "Checksum mismatch" : eng_state_name(r->state), r->script);
	return con_filter_match(c, text);
}

void con_filter_apply(struct con *c)
{
	struct con_db *d = con_selected(c);
	vec_release(&c->vis, free);
	for (size_t i = 0; d && d->load && i < d->load->rows.len; i++) {
		if (!row_matches(c, d->load->rows.items[i]))
			continue;
		size_t *k = xcalloc(1, sizeof *k);
		*k = i;
		vec_push(&c->vis, k);
	}
	if (c->mig_cur >= c->vis.len)
		c->mig_cur = c->vis.len ? c->vis.len - 1 : 0;
}

void con_filter_next(struct con *c, bool backwards)
{
	if (!c->filter_set)
		return;
	if (c->focus != CON_PANE_DBS) {
		/* every visible row matches: n/N step through them */
		size_t n = c->vis.len;
		if (n)
			c->mig_cur = backwards ? (c->mig_cur + n - 1) % n : (c->mig_cur + 1) % n;
		return;
	}
	size_t n = c->dbs.len;
	for (size_t step = 1; step <= n; step++) {
		size_t i = backwards ? (c->db_cur + n - step) % n : (c->db_cur + step) % n;
		if (con_filter_match(c, ((struct con_db *)c->dbs.items[i])->conf->name)) {
			c->db_cur = i;
			c->mig_cur = c->mig_top = 0;
			con_filter_apply(c);
			return;
		}
	}
	con_flash(c, true, " no database matches /%s", c->filter);
}

static void filter_set(struct con *c, const char *text)
{
	if (c->filter_set)
		regfree(&c->filter_re);
	c->filter_set = false;
	c->filter[0] = 0;
	bool invert = text[0] == '!';
	const char *re = text + invert;
	if (*re) {
		int rc = regcomp(&c->filter_re, re, REG_EXTENDED | REG_ICASE | REG_NOSUB);
		if (rc) {
			char why[128];
			regerror(rc, &c->filter_re, why, sizeof why);
			con_flash(c, true, " bad filter /%s: %s", re, why);
		} else {
			c->filter_set = true;
			c->filter_invert = invert;
			snprintf(c->filter, sizeof c->filter, "%s", re);
		}
	}
	c->mig_cur = c->mig_top = 0;
	con_filter_apply(c);
	if (con_view_top(c))
		con_view_search(c, false, true);
}

static void cmd_db(struct con *c, const char *name)
{
	for (size_t i = 0; i < c->dbs.len; i++) {
		if (strcmp(((struct con_db *)c->dbs.items[i])->conf->name, name))
			continue;
		while (c->views.len)
			con_view_pop(c);
		c->db_cur = i;
		c->mig_cur = c->mig_top = 0;
		c->focus = CON_PANE_MIGS;
		con_filter_apply(c);
		return;
	}
	con_flash(c, true, " no database '%s' in tarmac.conf", name);
}

static void run_command(struct con *c, char *line)
{
	char *cmd = line + strspn(line, " "), *arg = cmd + strcspn(cmd, " ");
	if (*arg)
		*arg++ = 0;
	arg += strspn(arg, " ");
	arg[strcspn(arg, " ")] = 0;
	if (!strcmp(cmd, "q") || !strcmp(cmd, "quit"))
		con_dispatch(c, 'q');
	else if (!strcmp(cmd, "db") && *arg)
		cmd_db(c, arg);
	else if (!strcmp(cmd, "buckets"))
		con_fetch_buckets(c, false);
	else if (!strcmp(cmd, "orphans"))
		con_fetch_buckets(c, true);
	else if (!strcmp(cmd, "runs"))
		con_ssm_runs(c);
	else if (!strcmp(cmd, "locks"))
		con_fetch_locks(c);
	else if (!strcmp(cmd, "theme") && *arg)
		con_theme_apply(c, arg);
	else if (!strcmp(cmd, "help"))
		con_dispatch(c, '?');
	else if (*cmd)
		con_flash(c, true, " unknown command :%s (try :db NAME, :buckets, :runs, :locks, :theme NAME, :q)", cmd);
}

void con_prompt_key(struct con *c, int k)
{
	size_t n = strlen(c->input);
	if (k == 27) {
		c->prompt = CON_PROMPT_NONE;
	} else if (k == '\n' || k == KEY_ENTER) {
		enum con_prompt p = c->prompt;
		char line[sizeof c->input];
		memcpy(line, c->input, sizeof line);
		c->prompt = CON_PROMPT_NONE;
		if (p == CON_PROMPT_FILTER)
			filter_set(c, line);
		else
			run_command(c, line);
	} else if (k == KEY_BACKSPACE || k == 127 || k == 8) {
		if (n)
			c->input[n - 1] = 0;
		else
			c->prompt = CON_PROMPT_NONE;
	} else if (k == 21) { /* ctrl-u */
		c->input[0] = 0;
	} else if (k >= 32 && k < 256 && k != 127 && n + 1 < sizeof c->input) {
		c->input[n] = (char)k;
		c->input[n + 1] = 0;
	}
}
