/*
 * con_actions — the console's one action table: each key's handler, its
 * footer hint, its help line and whether it changes anything. The
 * dispatcher is the one place read-only is enforced in the console (the
 * engine, the database session and the AWS layer refuse again below); the
 * footer hides mutating hints in read-only mode and the help shows them
 * greyed with the reason. Mutating actions always open a dialog first.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui/console.h"

/* ---- dialogs ------------------------------------------------------------- */

void con_dialog_close(struct con *c)
{
	vec_free_strs(&c->dialog.lines);
	memset(&c->dialog, 0, sizeof c->dialog);
}

static bool is_prod(const struct con_db *d)
{
	return d->conf->eng.environment && !strcmp(d->conf->eng.environment, "prod");
}

void con_dialog_open(struct con *c, size_t db, const char *title, void (*confirm)(struct con *c))
{
	con_dialog_close(c);
	struct con_db *d = db < c->dbs.len ? c->dbs.items[db] : NULL;
	c->dialog.open = true;
	c->dialog.confirm = confirm;
	c->dialog.index = db;
	snprintf(c->dialog.title, sizeof c->dialog.title, "%s", title);
	if (d && is_prod(d))
		snprintf(c->dialog.must_type, sizeof c->dialog.must_type, "%s", d->conf->name);
}

static bool dialog_can_confirm(const struct con *c)
{
	const struct con_dialog *dg = &c->dialog;
	bool seen = dg->seen_end || con_dialog_shows_end(c);
	return seen && (!dg->must_type[0] || !strcmp(dg->typed, dg->must_type));
}

/* Up/Down/PgUp/PgDn: letters are for typing the name. */
static bool dialog_scroll(struct con *c, int k)
{
	struct con_dialog *dg = &c->dialog;
	size_t n = dg->lines.len, step = k == KEY_NPAGE || k == KEY_PPAGE ? 10 : 1;
	if (k == KEY_DOWN || k == KEY_NPAGE) {
		while (step-- && !con_dialog_shows_end(c) && dg->top + 1 < n)
			dg->top++;
	} else if (k == KEY_UP || k == KEY_PPAGE) {
		dg->top = dg->top > step ? dg->top - step : 0;
	} else {
		return false;
	}
	dg->seen_end |= con_dialog_shows_end(c);
	return true;
}

void con_dialog_key(struct con *c, int k)
{
	struct con_dialog *dg = &c->dialog;
	size_t n = strlen(dg->typed);
	if (dialog_scroll(c, k))
		return;
	if (k == 27) {
		con_log(c, TUI_STREAM_INFO, "%s: cancelled, nothing was changed", dg->title);
		con_dialog_close(c);
	} else if (k == '\t' || k == KEY_LEFT || k == KEY_RIGHT || k == KEY_BTAB) {
		dg->confirm_focused = !dg->confirm_focused && dialog_can_confirm(c);
	} else if (k == '\n' || k == KEY_ENTER) {
		void (*fn)(struct con *c) = dg->confirm_focused && dialog_can_confirm(c) ? dg->confirm : NULL;
		if (!fn)
			con_log(c, TUI_STREAM_INFO, "%s: cancelled, nothing was changed", dg->title);
		size_t db = dg->index;
		con_dialog_close(c);
		if (fn && db != c->db_cur) { /* an async dialog: the cursor may have moved */
			c->db_cur = db;
			c->mig_cur = c->mig_top = 0;
			con_filter_apply(c);
		}
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

/* ---- the actions ---------------------------------------------------------- */

static bool loaded(struct con *c, const char *what)
{
	struct con_db *d = con_selected(c);
	if (d && d->load && !d->load->error)
		return true;
	con_flash(c, true, " nothing to %s: the database is not loaded", what);
	return false;
}

static bool idle(struct con *c)
{
	if (!c->run_job)
		return true;
	con_flash(c, true, " a run is in progress: K cancels it");
	return false;
}

/* Confirmed: idle() again, as a run may have started while the dialog was open. */
static void run_migrate(struct con *c) { if (idle(c)) con_run_start(c, c->db_cur, CON_RUN_MIGRATE); }
static void run_rehearse(struct con *c) { if (idle(c)) con_run_start(c, c->db_cur, CON_RUN_REHEARSE); }
static void run_repair(struct con *c) { if (idle(c)) con_run_start(c, c->db_cur, CON_RUN_REPAIR); }
static void run_baseline(struct con *c) { if (idle(c)) con_run_start(c, c->db_cur, CON_RUN_BASELINE); }

/* The dialog text: every pending migration, in the order it would run. */
static void plan_lines(struct con *c, struct con_db *d)
{
	size_t n = 0;
	for (size_t i = 0; i < d->load->rows.len; i++) {
		const struct con_row *r = d->load->rows.items[i];
		if (r->state != ENG_STATE_PENDING)
			continue;
		struct buf b = BUF_INIT;
		buf_addf(&b, "  %zu. %s %s", ++n, *r->version ? r->version : "R", r->description);
		vec_push(&c->dialog.lines, buf_detach(&b, NULL));
	}
	struct buf b = BUF_INIT;
	buf_addf(&b, "%zu pending migration%s on %s (%s), target %s", n, n == 1 ? "" : "s",
		 d->conf->name, d->load->engine, d->conf->eng.target ? d->conf->eng.target : "latest");
	vec_push(&c->dialog.lines, buf_detach(&b, NULL));
}

static void act_migrate(struct con *c, bool rehearse)
{
	if (!loaded(c, rehearse ? "rehearse" : "migrate") || !idle(c))
		return;
	con_dialog_open(c, c->db_cur, rehearse ? "Rehearse (rolled back)" : "Migrate",
			rehearse ? run_rehearse : run_migrate);
	plan_lines(c, con_selected(c));
}

static void act_m(struct con *c) { act_migrate(c, false); }
static void act_r(struct con *c) { act_migrate(c, true); }

static void act_repair(struct con *c)
{
	if (loaded(c, "repair") && idle(c))
		con_preview_start(c, c->db_cur, CON_RUN_REPAIR);
}

static void act_baseline(struct con *c)
{
	if (loaded(c, "baseline") && idle(c))
		con_preview_start(c, c->db_cur, CON_RUN_BASELINE);
}

void con_dialog_from_preview(struct con *c, struct con_preview *p)
{
	if (p->run == CON_RUN_SSM && !p->nothing && !c->dialog.open && !c->run_job) {
		con_ssm_dialog(c, p);
		return;
	}
	if (p->nothing || c->dialog.open || c->run_job) {
		struct con_view *v = con_view_new(p->title);
		for (size_t i = 0; i < p->lines.len; i++)
			con_view_add_text(v, TUI_ROLE_COUNT, p->lines.items[i]);
		con_view_push_take(c, v);
	} else {
		con_dialog_open(c, p->index, p->title, p->run == CON_RUN_REPAIR ? run_repair : run_baseline);
		for (size_t i = 0; i < p->lines.len; i++)
			vec_push(&c->dialog.lines, xstrdup(p->lines.items[i]));
	}
	con_preview_free(p);
}

static void act_ssm(struct con *c)
{
	if (idle(c))
		con_ssm_send(c);
}

static void confirm_ssm_cancel(struct con *c)
{
	if (!con_ssm_cancel(c))
		con_flash(c, false, " the command has ended already");
}

/* K: a migration is cancelled (rolled back) at once; an SSM command is a
 * change on the host (CancelCommand), so it asks first, and read-only only
 * stops following it. */
static void act_cancel(struct con *c)
{
	if (c->run_is_ssm && c->ssm_id && !con_read_only(c, false)) {
		con_dialog_open(c, c->db_cur, "Cancel the SSM command", confirm_ssm_cancel);
		c->dialog.must_type[0] = 0; /* stopping is the safe direction */
		struct buf b = BUF_INIT;
		buf_addf(&b, "CancelCommand %s: the host stops it and the run ends Cancelled", c->ssm_id);
		vec_push(&c->dialog.lines, buf_detach(&b, NULL));
		vec_push(&c->dialog.lines, xstrdup("(Esc keeps it running; q leaves it running and a console started later re-attaches)"));
		return;
	}
	if (c->run_job && tui_jobs_cancel(c->jobs, c->run_job))
		con_log(c, TUI_STREAM_INFO, c->run_is_ssm ? "stopped following: the command goes on on the host"
				: "cancel requested: the running statement is cancelled, the migration rolled back");
	else
		con_flash(c, false, " nothing is running");
}

static void act_reload(struct con *c)
{
	if (c->dbs.len)
		con_load_start(c, c->db_cur);
	con_fetch_facts(c);
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

/* d: the selected migration's details (script, S3 key and ETag, both checksums, history row). */
static void act_details(struct con *c)
{
	const struct con_row *r = con_selected_row(c);
	if (!r) {
		con_flash(c, true, " open a database and select a migration first");
		return;
	}
	struct con_view *v = con_view_new("Details");
	con_view_addf(v, TUI_ROLE_TABLE_HEADING, "%s %s: %s", *r->version ? r->version : "R",
		      r->description, r->mismatch ? "Checksum mismatch" : eng_state_name(r->state));
	con_view_addf(v, TUI_ROLE_COUNT, "script          %s (%s)", r->script, r->type);
	if (*r->location)
		con_view_addf(v, TUI_ROLE_COUNT, "location        %s", r->location);
	if (*r->etag)
		con_view_addf(v, TUI_ROLE_COUNT, "S3 ETag         %s", r->etag);
	con_view_addf(v, TUI_ROLE_COUNT, "checksum file   %s", *r->local_sum ? r->local_sum : "-");
	con_view_addf(v, r->mismatch ? TUI_ROLE_STATE_MISMATCH : TUI_ROLE_COUNT, "checksum history %s%s",
		      *r->applied_sum ? r->applied_sum : "-",
		      r->mismatch ? "  (differ: repair realigns the history, or revert the file)" : "");
	if (r->rank)
		con_view_addf(v, TUI_ROLE_COUNT, "history row     rank %d, %s, installed on %s by %s in %d ms",
			      r->rank, r->success ? "success" : "FAILED", r->installed_on, r->installed_by,
			      r->execution_ms);
	else
		con_view_addf(v, TUI_ROLE_COUNT, "history row     none (not applied)");
	con_view_push_take(c, v);
}

static void act_sql(struct con *c)
{
	const struct con_row *r = con_selected_row(c);
	if (!r || !*r->local_sum)
		con_flash(c, true, " select a migration that has a file first");
	else
		con_fetch_script(c, c->db_cur, r->script);
}

static void act_mark(struct con *c)
{
	struct con_db *d = con_selected(c);
	if (!d)
		return;
	d->marked = !d->marked;
	if (c->focus == CON_PANE_DBS && c->db_cur + 1 < c->dbs.len) {
		c->db_cur++;
		c->mig_cur = c->mig_top = 0;
		con_filter_apply(c);
	}
}

static void act_out_hide(struct con *c)
{
	c->out.hidden = !c->out.hidden;
	if (c->out.hidden && c->focus == CON_PANE_OUT)
		c->focus = CON_PANE_MIGS;
}

static void act_out_grow(struct con *c) { c->out.hidden = false; c->out.grow += 2; }
static void act_out_shrink(struct con *c) { c->out.grow -= 2; }

static void act_filter(struct con *c) { con_prompt_open(c, CON_PROMPT_FILTER); }
static void act_command(struct con *c) { con_prompt_open(c, CON_PROMPT_COMMAND); }
static void act_next(struct con *c) { con_filter_next(c, false); }
static void act_prev(struct con *c) { con_filter_next(c, true); }

static void show_help(struct con *c);
static void act_help(struct con *c) { show_help(c); }

static void act_quit(struct con *c)
{
	if (c->run_job && !c->quit_armed) {
		c->quit_armed = true;
		con_flash(c, true, " a run is going on: K cancels it; q again quits (a migration is cancelled and rolled back)");
		return;
	}
	c->quit = true;
}

struct con_action {
	int key;
	bool mutating;
	const char *name;
	const char *hint;            /* the footer's word, or NULL: not in the footer */
	const char *help;            /* NULL: an alias, not in the help */
	void (*fn)(struct con *c);
};

static const struct con_action actions[] = {
	{ '?', false, "help", "help", "this help (also F1)", act_help },
	{ '/', false, "filter", "filter", "filter migrations / search a view by regex (!re inverts)", act_filter },
	{ ':', false, "command", "cmd", ":db NAME  :buckets  :orphans  :runs  :locks  :theme NAME  :q", act_command },
	{ 'n', false, "next", NULL, "next match", act_next },
	{ 'N', false, "previous", NULL, "previous match", act_prev },
	{ 'd', false, "details", "details", "the selected migration: S3 key, ETag, both checksums, history row", act_details },
	{ 's', false, "sql", "sql", "the selected migration's SQL with line numbers", act_sql },
	{ 'p', false, "plan", "plan", "the dry-run script of everything migrate would do", act_plan },
	{ 'v', false, "validate", NULL, "Flyway's validate", act_validate },
	{ ' ', false, "mark", NULL, "mark a database for a fleet send (S)", act_mark },
	{ 'r', false, "refresh", NULL, "reload the selected database and the header (also F5)", act_reload },
	{ 'R', true, "rehearse", "rehearse", "run pending migrations in a transaction, report, roll back", act_r },
	{ 'M', true, "migrate", "migrate", "migrate the selected database (the dialog shows the plan)", act_m },
	{ 'B', true, "baseline", "baseline", "baseline the selected database (the dialog shows the row)", act_baseline },
	{ 'P', true, "repair", "repair", "repair the schema history (the dialog shows every row it touches)", act_repair },
	{ 'S', true, "ssm", "ssm", "send the Flyway host's SSM command (marked databases: one after another)", act_ssm },
	{ 'K', false, "cancel", NULL, "cancel the running migration (rolled back) or SSM command (asks first)", act_cancel },
	{ 'o', false, "output", NULL, "hide or show the output pane", act_out_hide },
	{ '+', false, "taller", NULL, "make the output pane taller", act_out_grow },
	{ '-', false, "shorter", NULL, "make the output pane shorter", act_out_shrink },
	{ 'q', false, "quit", "quit", "quit (asks while a run goes on; also F10)", act_quit },
	{ KEY_F(1), false, "help", NULL, NULL, act_help },
	{ KEY_F(5), false, "refresh", NULL, NULL, act_reload },
	{ KEY_F(10), false, "quit", NULL, NULL, act_quit },
};

#define NACTIONS (sizeof actions / sizeof *actions)

static const char *action_key_name(int k, char *buf, size_t n)
{
	if (k == ' ')
		return "space";
	snprintf(buf, n, "%c", k);
	return buf;
}

static void show_help(struct con *c)
{
	struct con_view *v = con_view_new("Help");
	con_view_add_text(v, TUI_ROLE_TABLE_HEADING, "move  j k arrows g G PgUp PgDn   tab next pane   enter/l open   esc/h back\n"
			  "output pane (tab to it)  j k scroll  s follow  w wrap  t times  ctrl-s save\n");
	for (size_t i = 0; i < NACTIONS; i++) {
		const struct con_action *a = &actions[i];
		char k[8];
		if (!a->help)
			continue;
		bool blocked = a->mutating && con_read_only(c, a->key == 'S');
		con_view_addf(v, blocked ? TUI_ROLE_HELP_BLOCKED : TUI_ROLE_COUNT, "%-6s %-9s %s%s",
			      action_key_name(a->key, k, sizeof k), a->name, a->help,
			      blocked ? "  [blocked: read-only session]" : a->mutating ? "  [asks first]" : "");
	}
	con_view_push_take(c, v);
}

void con_footer_hints(const struct con *c, char *out, size_t n)
{
	size_t len = 0;
	out[0] = 0;
	for (size_t i = 0; i < NACTIONS && len + 1 < n; i++) {
		const struct con_action *a = &actions[i];
		char k[8];
		if (!a->hint || (a->mutating && con_read_only(c, false)))
			continue;
		int w = snprintf(out + len, n - len, " %s %s ", action_key_name(a->key, k, sizeof k), a->hint);
		len += w > 0 ? (size_t)w : 0;
	}
}

bool con_dispatch(struct con *c, int k)
{
	for (size_t i = 0; i < NACTIONS; i++) {
		const struct con_action *a = &actions[i];
		if (a->key != k)
			continue;
		if (a->mutating && con_read_only(c, a->key == 'S')) {
			con_flash(c, true, " read-only: %s is refused", a->name);
			con_log(c, TUI_STREAM_STDERR, "read-only: %s refused, nothing was changed", a->name);
			return true;
		}
		a->fn(c);
		return true;
	}
	return false;
}
