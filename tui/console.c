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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void setup_colours(struct con *c)
{
	const struct tui_theme *t = &c->theme;
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

static void load_theme(struct con *c)
{
	struct tui_theme *t = &c->theme;
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

static void trace_event(struct con *c, const char *what);

static void take_load(struct con *c, struct con_load *l)
{
	struct con_db *d = c->dbs.items[l->index];
	if (l->from_load_job)
		con_load_next(c);
	con_load_free(d->load);
	d->load = l;
	d->loading = d->queued;
	if (l->index == c->db_cur)
		con_filter_apply(c);
	if (l->error)
		con_log(c, TUI_STREAM_STDERR, "%s: %s", d->conf->name, l->error);
}

static void take_orphans(struct con *c, struct con_orphans *o)
{
	vec_free_strs(&c->orphans);
	c->orphans = o->names;
	o->names = (struct vec)VEC_INIT;
	con_orphans_free(o);
}

/* A worker's result: what it is says its first field. */
static void take_result(struct con *c, void *data)
{
	switch (*(enum con_result_kind *)data) {
	case CON_RES_LOAD: take_load(c, data); trace_event(c, "load"); break;
	case CON_RES_VIEW: con_view_push_take(c, data); break;
	case CON_RES_DIALOG: con_dialog_from_preview(c, data); break;
	case CON_RES_FACTS: con_facts_free(c->facts); c->facts = data; break;
	case CON_RES_ORPHANS: take_orphans(c, data); break;
	case CON_RES_SSM: con_ssm_result_free(data); break; /* taken in on_msg */
	}
}

/* A job follows an SSM command: K cancels that command. */
static void take_ssm(struct con *c, int job, struct con_ssm_result *r)
{
	if (c->run_job && c->run_job != job) {
		/* the start-up re-attach found a run after the operator started
		 * another: that one keeps K and the output pane */
		tui_jobs_cancel(c->jobs, job);
		con_ssm_result_free(r);
		return;
	}
	c->run_job = job;
	c->run_is_ssm = true;
	free(c->ssm_id);
	c->ssm_id = r->id;
	r->id = NULL;
	con_ssm_result_free(r);
}

static void run_done(struct con *c)
{
	bool ssm = c->run_is_ssm;
	c->run_job = 0;
	c->run_is_ssm = false;
	free(c->ssm_id);
	c->ssm_id = NULL;
	c->quit_armed = false;
	/* the host's command changed the databases: show their new state */
	for (size_t i = 0; ssm && i < c->dbs.len; i++)
		con_load_start(c, i);
	/* a cancelled run posts no diff (its job's messages came before DONE) */
	struct con_db *d = !ssm && c->run_db < c->dbs.len ? c->dbs.items[c->run_db] : NULL;
	if (d && d->loading && !d->queued) {
		d->loading = false;
		con_load_start(c, c->run_db);
	}
}

static void on_msg(struct tui_msg *m, void *p)
{
	struct con *c = p;
	if (m->kind == TUI_MSG_RESULT && m->data) {
		void *data = m->data;
		m->data = NULL;
		if (*(enum con_result_kind *)data == CON_RES_SSM)
			take_ssm(c, m->job_id, data);
		else
			take_result(c, data);
	} else if (m->kind == TUI_MSG_DONE && m->job_id == c->run_job) {
		run_done(c);
	} else if (m->kind == TUI_MSG_OUTPUT && m->text) {
		tui_ringlog_append(c->log, m->stream, wall_ms(), m->text, m->len);
	}
	c->out.queue_dropped += m->dropped; /* lines a flood lost before the pane */
	tui_msg_free(m);
	c->dirty = true;
}

void con_log(struct con *c, enum tui_stream s, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	tui_ringlog_append(c->log, s, wall_ms(), b.ptr, b.len);
	buf_release(&b);
	c->dirty = true;
}

void con_flash(struct con *c, bool error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->flash, sizeof c->flash, fmt, ap);
	va_end(ap);
	c->flash_error = error;
}

struct con_db *con_selected(struct con *c)
{
	return c->dbs.len ? c->dbs.items[c->db_cur] : NULL;
}

bool con_read_only(const struct con *c, bool marked_too)
{
	if (c->read_only)
		return true;
	for (size_t i = 0; i < c->dbs.len; i++) {
		const struct con_db *d = c->dbs.items[i];
		if ((i == c->db_cur || (marked_too && d->marked)) && d->conf->eng.read_only)
			return true;
	}
	return false;
}

const struct con_row *con_selected_row(struct con *c)
{
	struct con_db *d = con_selected(c);
	if (!d || !d->load || d->load->error || c->mig_cur >= c->vis.len)
		return NULL;
	return d->load->rows.items[*(size_t *)c->vis.items[c->mig_cur]];
}

void con_theme_apply(struct con *c, const char *name)
{
	struct vec dirs = VEC_INIT, warnings = VEC_INIT;
	struct err e = ERR_INIT;
	tui_theme_dirs(&dirs, c->opts->argv0);
	struct tui_theme t;
	if (tui_theme_load(&t, name, &dirs, &warnings, &e)) {
		con_flash(c, true, " %s", e.msg);
		con_log(c, TUI_STREAM_STDERR, "%s", e.msg);
	} else {
		c->theme = t;
		if (!isendwin())
			setup_colours(c);
		con_flash(c, false, " theme %s", name);
	}
	for (size_t i = 0; i < warnings.len; i++)
		con_log(c, TUI_STREAM_STDERR, "%s", (const char *)warnings.items[i]);
	vec_free_strs(&warnings);
	vec_free_strs(&dirs);
}

static void move_cursor(struct con *c, long delta)
{
	size_t *cur = c->focus == CON_PANE_DBS ? &c->db_cur : &c->mig_cur;
	size_t n = c->focus == CON_PANE_DBS ? c->dbs.len : c->vis.len;
	if (!n)
		return;
	long v = (long)*cur + delta;
	*cur = v < 0 ? 0 : (size_t)v >= n ? n - 1 : (size_t)v;
	if (c->focus == CON_PANE_DBS) {
		c->mig_cur = c->mig_top = 0;
		con_filter_apply(c);
	}
}

static bool nav_key(struct con *c, int k)
{
	switch (k) {
	case 'j': case KEY_DOWN: move_cursor(c, 1); return true;
	case 'k': case KEY_UP: move_cursor(c, -1); return true;
	case KEY_NPAGE: move_cursor(c, 10); return true;
	case KEY_PPAGE: move_cursor(c, -10); return true;
	case 'g': case KEY_HOME: move_cursor(c, -1000000); return true;
	case 'G': case KEY_END: move_cursor(c, 1000000); return true;
	case '\t': case KEY_BTAB:
		c->focus = (enum con_pane)((c->focus + (k == '\t' ? 1 : 2)) % 3);
		if (c->focus == CON_PANE_OUT && c->out.hidden) /* a hidden pane takes no focus */
			c->focus = k == '\t' ? CON_PANE_DBS : CON_PANE_MIGS;
		return true;
	case '\n': case KEY_ENTER: case 'l':
		if (c->focus == CON_PANE_MIGS)
			con_dispatch(c, 's'); /* database -> migrations -> the file's SQL */
		c->focus = CON_PANE_MIGS;
		return true;
	case 27: case 'h': c->focus = CON_PANE_DBS; return true;
	default: return false;
	}
}

static void handle_key(struct con *c, int k)
{
	c->flash[0] = 0;
	c->dirty = true;
	if (k == KEY_RESIZE)
		return;
	if (c->prompt) {
		con_prompt_key(c, k);
		return;
	}
	if (c->dialog.open) {
		con_dialog_key(c, k);
		return;
	}
	struct con_view *v = con_view_top(c);
	if (v && k != '/' && k != ':' && k != '?' && con_view_key(c, k))
		return;
	if (!v && c->focus == CON_PANE_OUT && con_out_key(c, k))
		return;
	if (!v && nav_key(c, k))
		return;
	con_dispatch(c, k);
}

/* bench/console.sh reads these: wall-clock microseconds of each key read
 * and each frame painted, with how many databases were still loading. */
static void trace_event(struct con *c, const char *what)
{
	if (!c->trace)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	size_t loading = 0;
	for (size_t i = 0; i < c->dbs.len; i++)
		loading += ((struct con_db *)c->dbs.items[i])->loading;
	fprintf(c->trace, "%s %lld keys=%lu loading=%zu lines=%zu\n", what,
		(long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, c->keys, loading,
		tui_ringlog_count(c->log));
	fflush(c->trace);
}

static void loop(struct con *c)
{
	struct pollfd fds[2] = { { STDIN_FILENO, POLLIN, 0 }, { tui_jobs_wake_fd(c->jobs), POLLIN, 0 } };
	while (!c->quit && !stop_signal) {
		if (c->dirty) {
			con_draw(c);
			if (c->dialog.open)
				con_draw_dialog(c);
			c->dirty = false;
			trace_event(c, "frame");
		}
		/* a wake-up every 30 s keeps the header's clock and expiry current */
		if (poll(fds, 2, 30000) < 0 && errno != EINTR)
			break;
		/* The terminal went away without a SIGHUP reaching us (its session
		 * leader was not a shell that passes it on): leave as on SIGHUP,
		 * instead of spinning on a descriptor that is always ready. */
		if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			stop_signal = SIGHUP;
			break;
		}
		if (fds[1].revents & POLLIN)
			tui_jobs_drain(c->jobs, on_msg, c);
		int k;
		while ((k = getch()) != ERR) {
			c->keys++;
			trace_event(c, "key");
			handle_key(c, k);
		}
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
	const char *tp = getenv("TARMAC_CONSOLE_TRACE");
	c->trace = tp && *tp ? fopen(tp, "we") : NULL;
	trace_event(c, "start");
	return EXIT_OK;
}

static void teardown(struct con *c)
{
	/* Cancels and joins the workers: a running migration rolls back (or
	 * finishes its commit) and its job writes the outcome to the audit log,
	 * also when we got here because the SSH session hung up. */
	wake_jobs = NULL; /* before the runner goes: a late signal must not reach it */
	tui_jobs_free(c->jobs);
	con_dialog_close(c);
	for (size_t i = 0; i < c->dbs.len; i++)
		con_load_free(((struct con_db *)c->dbs.items[i])->load);
	vec_release(&c->dbs, free);
	vec_release(&c->views, con_view_free);
	vec_release(&c->vis, free);
	vec_free_strs(&c->orphans);
	con_facts_free(c->facts);
	free(c->ssm_id);
	con_preview_free(c->ssm_pending);
	if (c->filter_set)
		regfree(&c->filter_re);
	tui_ringlog_free(c->log);
	tui_conf_release(&c->conf);
	if (c->trace)
		fclose(c->trace);
}

int tui_console_run(struct cli_opts *o)
{
	struct con c;
	memset(&c, 0, sizeof c);
	int rc = setup(&c, o);
	if (rc)
		return rc;
	load_theme(&c);
	wake_jobs = c.jobs;
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a vanished terminal is an error to read, not a death */
	buf_oom_hook = restore_terminal;
	set_escdelay(25);
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	setup_colours(&c);
	con_draw(&c); /* the frame first: loads take the CPU for a while */
	trace_event(&c, "frame");
	for (size_t i = 0; i < c.dbs.len; i++)
		con_load_start(&c, i);
	con_fetch_facts(&c);
	con_fetch_buckets(&c, true);
	con_ssm_reattach(&c);
	c.dirty = true;
	loop(&c);
	restore_terminal();
	/* a second Ctrl-C while the workers wind down ends tarmac at once */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	teardown(&c);
	return stop_signal ? 128 + stop_signal : EXIT_OK;
}
