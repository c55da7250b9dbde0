/*
 * console — the console's main loop: one UI thread that owns curses and
 * poll()s the keyboard and the jobs' wake pipe; workers load databases and
 * post results. Signals only set flags and wake the loop; the terminal is
 * restored on every way out (q, SIGINT, SIGTERM, SIGHUP, out of memory).
 */
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/time.h"
#include "tui/console.h"

/* Signal handlers can only reach these. */
static volatile sig_atomic_t stop_signal;
static struct tui_jobs *wake_jobs;

static void on_stop(int sig)
{
	stop_signal = sig;
	if (wake_jobs)
		tui_jobs_signal_wake(wake_jobs);
}

static void restore_terminal(void)
{
	if (!isendwin())
		endwin();
}

static void setup_colours(struct con *c, const struct tui_theme *t)
{
	bool no_color = c->opts->no_color || tui_theme_env_no_color() || !has_colors();
	int n = 0;
	if (!no_color) {
		start_color();
		use_default_colors();
		n = COLORS >= 256 ? 256 : COLORS >= 16 ? 16 : 8;
	}
	tui_theme_resolve(t, n, no_color, &c->pens);
	for (int r = 0; c->pens.ncolours && r < TUI_ROLE_COUNT; r++)
		init_pair((short)(r + 1), (short)c->pens.role[r].fg, (short)c->pens.role[r].bg);
}

static void load_theme(struct con *c, struct tui_theme *t)
{
	struct vec dirs = VEC_INIT, warnings = VEC_INIT;
	struct err e = ERR_INIT;
	const char *name = c->opts->theme ? c->opts->theme : c->conf.theme ? c->conf.theme : "default";
	tui_theme_dirs(&dirs, c->opts->argv0);
	if (tui_theme_load(t, name, &dirs, &warnings, &e)) {
		tui_theme_init_default(t);
		tui_ringlog_append(c->log, TUI_STREAM_STDERR, 0, e.msg, strlen(e.msg));
	}
	for (size_t i = 0; i < warnings.len; i++)
		tui_ringlog_append(c->log, TUI_STREAM_STDERR, 0, warnings.items[i],
				   strlen(warnings.items[i]));
	vec_free_strs(&warnings);
	vec_free_strs(&dirs);
}

static void on_msg(struct tui_msg *m, void *p)
{
	struct con *c = p;
	if (m->kind == TUI_MSG_RESULT && m->data) {
		struct con_load *l = m->data;
		m->data = NULL;
		struct con_db *d = c->dbs.items[l->index];
		con_load_free(d->load);
		d->load = l;
		d->loading = false;
		char line[300];
		snprintf(line, sizeof line, "%s: %s", d->conf->name,
			 l->error ? l->error : "loaded");
		tui_ringlog_append(c->log, l->error ? TUI_STREAM_STDERR : TUI_STREAM_INFO, 0, line,
				   strlen(line));
	} else if (m->kind == TUI_MSG_OUTPUT && m->text) {
		tui_ringlog_append(c->log, m->stream, 0, m->text, m->len);
	}
	tui_msg_free(m);
	c->dirty = true;
}

static size_t rows_of(const struct con *c)
{
	const struct con_db *d = c->dbs.len ? c->dbs.items[c->db_cur] : NULL;
	return d && d->load ? d->load->rows.len : 0;
}

static void move_cursor(struct con *c, long delta)
{
	size_t *cur = c->focus == CON_PANE_DBS ? &c->db_cur : &c->mig_cur;
	size_t n = c->focus == CON_PANE_DBS ? c->dbs.len : rows_of(c);
	if (!n)
		return;
	long v = (long)*cur + delta;
	*cur = v < 0 ? 0 : (size_t)v >= n ? n - 1 : (size_t)v;
	if (c->focus == CON_PANE_DBS)
		c->mig_cur = c->mig_top = 0;
}

static void show_help(struct con *c)
{
	static const char *const lines[] = {
		"keys: j/k or arrows move, g/G first/last, PgUp/PgDn page, tab next pane,",
		"      enter/l open, esc/h back, r/F5 reload the database, ?/F1 this help, q/F10 quit",
		"migrate, rehearse, repair, baseline and SSM from the console come next;",
		"until then use the line commands: tarmac -d NAME migrate | repair | baseline | ssm run",
	};
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
		tui_ringlog_append(c->log, TUI_STREAM_INFO, 0, lines[i], strlen(lines[i]));
}

static void handle_key(struct con *c, int k)
{
	c->flash[0] = 0;
	switch (k) {
	case 'q': case KEY_F(10): c->quit = true; break;
	case 'j': case KEY_DOWN: move_cursor(c, 1); break;
	case 'k': case KEY_UP: move_cursor(c, -1); break;
	case KEY_NPAGE: move_cursor(c, 10); break;
	case KEY_PPAGE: move_cursor(c, -10); break;
	case 'g': move_cursor(c, -1000000); break;
	case 'G': move_cursor(c, 1000000); break;
	case '\t': c->focus = (enum con_pane)((c->focus + 1) % 3); break;
	case '\n': case KEY_ENTER: case 'l': c->focus = CON_PANE_MIGS; break;
	case 27: case 'h': c->focus = CON_PANE_DBS; break;
	case 'r': case KEY_F(5):
		if (c->dbs.len)
			con_load_start(c, c->db_cur);
		break;
	case '?': case KEY_F(1): show_help(c); break;
	case 'M': case 'P': case 'R': case 'B': case 'S':
		snprintf(c->flash, sizeof c->flash, " %s",
			 c->read_only ? "read-only: this console cannot change anything"
				      : "not in the console yet: use tarmac -d NAME migrate|repair|baseline|ssm run");
		break;
	case KEY_RESIZE: break;
	default: return;
	}
	c->dirty = true;
}

static void loop(struct con *c)
{
	struct pollfd fds[2] = { { STDIN_FILENO, POLLIN, 0 }, { tui_jobs_wake_fd(c->jobs), POLLIN, 0 } };
	while (!c->quit && !stop_signal) {
		if (c->dirty) {
			con_draw(c);
			c->dirty = false;
		}
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents & POLLIN)
			tui_jobs_drain(c->jobs, on_msg, c);
		int k;
		while ((k = getch()) != ERR)
			handle_key(c, k);
		c->dirty = true; /* also after a resize, which only interrupts poll */
	}
}

static int setup(struct con *c, struct cli_opts *o)
{
	struct err e = ERR_INIT;
	c->opts = o;
	tui_conf_init(&c->conf);
	if (tui_conf_load(&c->conf, o->config_path, &e) ||
	    tui_jobs_new(0, 0, &c->jobs, &e))
		return cli_fail(&e);
	c->log = tui_ringlog_new(0, 0);
	c->read_only = o->read_only || c->conf.read_only;
	for (size_t i = 0; i < c->conf.databases.len; i++) {
		struct con_db *d = xcalloc(1, sizeof *d);
		d->conf = c->conf.databases.items[i];
		vec_push(&c->dbs, d);
	}
	const char *cs = nl_langinfo(CODESET);
	c->utf8 = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
	return EXIT_OK;
}

static void teardown(struct con *c)
{
	tui_jobs_free(c->jobs); /* cancels and joins the loaders */
	wake_jobs = NULL;
	for (size_t i = 0; i < c->dbs.len; i++)
		con_load_free(((struct con_db *)c->dbs.items[i])->load);
	vec_release(&c->dbs, free);
	tui_ringlog_free(c->log);
	tui_conf_release(&c->conf);
}

int tui_console_run(struct cli_opts *o)
{
	struct con c;
	memset(&c, 0, sizeof c);
	int rc = setup(&c, o);
	if (rc)
		return rc;
	struct tui_theme theme;
	load_theme(&c, &theme);
	wake_jobs = c.jobs;
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	buf_oom_hook = restore_terminal;
	set_escdelay(25);
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	setup_colours(&c, &theme);
	for (size_t i = 0; i < c.dbs.len; i++)
		con_load_start(&c, i);
	c.dirty = true;
	loop(&c);
	restore_terminal();
	teardown(&c);
	return stop_signal ? 128 + stop_signal : EXIT_OK;
}
