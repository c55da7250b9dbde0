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
	} else if (m->kind == TUI_MSG_DONE && m->job_id == c->run_job) {
		c->run_job = 0;
		c->quit_armed = false;
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

static void log_line(struct con *c, enum tui_stream s, const char *text)
{
	tui_ringlog_append(c->log, s, 0, text, strlen(text));
}

static struct con_db *selected(struct con *c)
{
	return c->dbs.len ? c->dbs.items[c->db_cur] : NULL;
}

/* ---- dialogs ------------------------------------------------------------- */

static void dialog_close(struct con *c)
{
	vec_free_strs(&c->dialog.lines);
	memset(&c->dialog, 0, sizeof c->dialog);
}

static void dialog_open(struct con *c, const char *title, void (*confirm)(struct con *c))
{
	dialog_close(c);
	struct con_db *d = selected(c);
	c->dialog.open = true;
	c->dialog.confirm = confirm;
	snprintf(c->dialog.title, sizeof c->dialog.title, "%s", title);
	if (d->conf->eng.environment && !strcmp(d->conf->eng.environment, "prod"))
		snprintf(c->dialog.must_type, sizeof c->dialog.must_type, "%s", d->conf->name);
}

static bool dialog_can_confirm(const struct con *c)
{
	return !c->dialog.must_type[0] || !strcmp(c->dialog.typed, c->dialog.must_type);
}

static void dialog_key(struct con *c, int k)
{
	struct con_dialog *dg = &c->dialog;
	size_t n = strlen(dg->typed);
	if (k == 27) {
		log_line(c, TUI_STREAM_INFO, "cancelled: nothing was changed");
		dialog_close(c);
	} else if (k == '\t' || k == KEY_LEFT || k == KEY_RIGHT) {
		dg->confirm_focused = !dg->confirm_focused && dialog_can_confirm(c);
	} else if (k == '\n' || k == KEY_ENTER) {
		void (*fn)(struct con *c) = dg->confirm_focused && dialog_can_confirm(c) ? dg->confirm : NULL;
		if (!fn)
			log_line(c, TUI_STREAM_INFO, "cancelled: nothing was changed");
		dialog_close(c);
		if (fn)
			fn(c);
	} else if ((k == KEY_BACKSPACE || k == 127 || k == 8) && n) {
		dg->typed[n - 1] = 0;
	} else if (dg->must_type[0] && k >= 32 && k < 127 && n + 1 < sizeof dg->typed) {
		dg->typed[n] = (char)k;
		dg->typed[n + 1] = 0;
	}
	if (!dialog_can_confirm(c))
		dg->confirm_focused = false;
}

/* ---- actions (one table: keys, help, read-only) -------------------------- */

static void run_migrate(struct con *c)
{
	log_line(c, TUI_STREAM_INFO, "migrate started");
	con_run_start(c, c->db_cur, CON_RUN_MIGRATE);
}

static void run_rehearse(struct con *c)
{
	log_line(c, TUI_STREAM_INFO, "rehearse started (everything is rolled back)");
	con_run_start(c, c->db_cur, CON_RUN_REHEARSE);
}

/* The dialog text: every pending migration, in the order it would run. */
static void plan_lines(struct con *c, struct con_db *d)
{
	size_t n = 0;
	for (size_t i = 0; d->load && i < d->load->rows.len; i++) {
		const struct con_row *r = d->load->rows.items[i];
		if (r->state != ENG_STATE_PENDING)
			continue;
		struct buf b = BUF_INIT;
		buf_addf(&b, "  %zu. %s %s", ++n, *r->version ? r->version : "R", r->description);
		vec_push(&c->dialog.lines, buf_detach(&b, NULL));
	}
	struct buf b = BUF_INIT;
	buf_addf(&b, "%zu pending migration%s on %s (%s), target latest", n, n == 1 ? "" : "s",
		 d->conf->name, d->load && d->load->engine ? d->load->engine : "?");
	vec_push(&c->dialog.lines, buf_detach(&b, NULL));
}

static void act_migrate(struct con *c, bool rehearse)
{
	struct con_db *d = selected(c);
	if (!d || !d->load || d->load->error) {
		snprintf(c->flash, sizeof c->flash, " nothing to %s: the database is not loaded",
			 rehearse ? "rehearse" : "migrate");
		return;
	}
	if (c->run_job && tui_jobs_running(c->jobs)) {
		snprintf(c->flash, sizeof c->flash, " a run is in progress: K cancels it");
		return;
	}
	dialog_open(c, rehearse ? "Rehearse (rolled back)" : "Migrate", rehearse ? run_rehearse : run_migrate);
	plan_lines(c, d);
}

static void act_m(struct con *c) { act_migrate(c, false); }
static void act_r(struct con *c) { act_migrate(c, true); }

static void act_cancel(struct con *c)
{
	if (c->run_job && tui_jobs_cancel(c->jobs, c->run_job))
		log_line(c, TUI_STREAM_INFO, "cancel requested: the running statement is cancelled, the migration rolled back");
	else
		snprintf(c->flash, sizeof c->flash, " nothing is running");
}

static void act_later(struct con *c)
{
	snprintf(c->flash, sizeof c->flash, " not in the console yet: use tarmac -d NAME repair|baseline|ssm run");
}

static void act_reload(struct con *c)
{
	if (c->dbs.len)
		con_load_start(c, c->db_cur);
}

static void act_plan(struct con *c)
{
	if (c->dbs.len)
		con_run_start(c, c->db_cur, CON_RUN_PLAN);
}

static void act_validate(struct con *c)
{
	if (c->dbs.len)
		con_run_start(c, c->db_cur, CON_RUN_VALIDATE);
}

/* d: the selected migration's details (script, both checksums, history row). */
static void act_details(struct con *c)
{
	struct con_db *d = selected(c);
	if (!d || !d->load || d->load->error || c->mig_cur >= d->load->rows.len) {
		snprintf(c->flash, sizeof c->flash, " open a database and select a migration first");
		return;
	}
	const struct con_row *r = d->load->rows.items[c->mig_cur];
	char line[512];
	snprintf(line, sizeof line, "%s %s: %s", *r->version ? r->version : "R", r->description,
		 r->mismatch ? "Checksum mismatch" : eng_state_name(r->state));
	log_line(c, TUI_STREAM_INFO, line);
	snprintf(line, sizeof line, "  script   %s (%s)", r->script, r->type);
	log_line(c, TUI_STREAM_INFO, line);
	snprintf(line, sizeof line, "  checksum local %s, applied %s%s", *r->local_sum ? r->local_sum : "-",
		 *r->applied_sum ? r->applied_sum : "-", r->mismatch ? "  (differ: repair realigns, or revert the file)" : "");
	log_line(c, r->mismatch ? TUI_STREAM_STDERR : TUI_STREAM_INFO, line);
	if (*r->installed_on) {
		snprintf(line, sizeof line, "  installed on %s by %s in %d ms", r->installed_on,
			 r->installed_by, r->execution_ms);
		log_line(c, TUI_STREAM_INFO, line);
	}
}

static void show_help(struct con *c);
static void act_help(struct con *c) { show_help(c); }
static void act_quit(struct con *c)
{
	if (c->run_job && !c->quit_armed) {
		c->quit_armed = true;
		snprintf(c->flash, sizeof c->flash,
			 " a migration is running: K cancels it; q again quits (the run is cancelled and rolled back)");
		return;
	}
	c->quit = true;
}

struct con_action {
	const char *name;
	void (*fn)(struct con *c);
	const char *help;
	int key;
	bool mutating;
};

static const struct con_action actions[] = {
	{ "refresh", act_reload, "reload the selected database", 'r', false },
	{ "refresh", act_reload, NULL, KEY_F(5), false },
	{ "help", act_help, "this help", '?', false },
	{ "details", act_details, "the selected migration: script, both checksums, history row", 'd', false },
	{ "plan", act_plan, "the dry-run script of everything migrate would do (output pane)", 'p', false },
	{ "validate", act_validate, "Flyway's validate (output pane)", 'v', false },
	{ "help", act_help, NULL, KEY_F(1), false },
	{ "migrate", act_m, "migrate the selected database (dialog shows the plan)", 'M', true },
	{ "rehearse", act_r, "run pending migrations in a transaction, report, roll back", 'R', true },
	{ "repair", act_later, "repair the schema history", 'P', true },
	{ "baseline", act_later, "baseline wizard", 'B', true },
	{ "ssm", act_later, "send the Flyway host's SSM command", 'S', true },
	{ "cancel", act_cancel, "cancel the running job", 'K', false },
	{ "quit", act_quit, "quit", 'q', false },
	{ "quit", act_quit, NULL, KEY_F(10), false },
};

static void show_help(struct con *c)
{
	log_line(c, TUI_STREAM_INFO, "keys: j/k or arrows move, g/G first/last, PgUp/PgDn, tab pane, enter/l open, esc/h back");
	for (size_t i = 0; i < sizeof actions / sizeof *actions; i++) {
		const struct con_action *a = &actions[i];
		if (!a->help)
			continue;
		char line[200];
		snprintf(line, sizeof line, "  %c  %-9s %s%s", a->key, a->name, a->help,
			 a->mutating && c->read_only ? "  [blocked: read-only]" : "");
		log_line(c, TUI_STREAM_INFO, line);
	}
}

/* The one place read-only is enforced in the console (the engine, the
 * database session and the AWS layer refuse again below). */
static bool dispatch(struct con *c, int k)
{
	for (size_t i = 0; i < sizeof actions / sizeof *actions; i++) {
		const struct con_action *a = &actions[i];
		if (a->key != k)
			continue;
		if (a->mutating && c->read_only) {
			snprintf(c->flash, sizeof c->flash, " read-only: %s is refused", a->name);
			char line[128];
			snprintf(line, sizeof line, "read-only: %s refused, nothing was changed", a->name);
			log_line(c, TUI_STREAM_STDERR, line);
			return true;
		}
		a->fn(c);
		return true;
	}
	return false;
}

static void handle_key(struct con *c, int k)
{
	c->flash[0] = 0;
	c->dirty = true;
	if (c->dialog.open) {
		dialog_key(c, k);
		return;
	}
	switch (k) {
	case 'j': case KEY_DOWN: move_cursor(c, 1); return;
	case 'k': case KEY_UP: move_cursor(c, -1); return;
	case KEY_NPAGE: move_cursor(c, 10); return;
	case KEY_PPAGE: move_cursor(c, -10); return;
	case 'g': move_cursor(c, -1000000); return;
	case 'G': move_cursor(c, 1000000); return;
	case '\t': c->focus = (enum con_pane)((c->focus + 1) % 3); return;
	case '\n': case KEY_ENTER: case 'l': c->focus = CON_PANE_MIGS; return;
	case 27: case 'h': c->focus = CON_PANE_DBS; return;
	default:
		dispatch(c, k);
	}
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
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
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
	tui_jobs_free(c->jobs); /* cancels and joins the workers: a run rolls back or finishes */
	dialog_close(c);
	wake_jobs = NULL;
	for (size_t i = 0; i < c->dbs.len; i++)
		con_load_free(((struct con_db *)c->dbs.items[i])->load);
	vec_release(&c->dbs, free);
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
