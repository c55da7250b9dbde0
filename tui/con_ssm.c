/*
 * con_ssm — the Flyway host's command from the console: S sends it for the
 * selected database (or, one after another, for every marked one) after a
 * dialog showing the target and the exact rendered command; its output
 * streams into the output pane, stderr marked; K cancels it; :runs lists
 * the host's recent runs and Enter on one reads its output; a run still in
 * flight when the console starts (after a crash or a dropped SSH session)
 * is re-attached where the last follower stopped, without repeating lines.
 * The header shows the host's SSM ping status.
 *
 * Everything that talks to AWS runs on a worker with a tui_ssm handle of
 * its own (tui/ssm.h); the UI thread only renders dialogs and views.
 */
#include <stdlib.h>
#include <string.h>

#include "tui/audit.h"
#include "tui/console.h"
#include "tui/ssm.h"

#define RUNS_MAX 30

struct ssm_arg {
	char *config_path;
	bool read_only;
	struct vec dbs;              /* char*: the databases, in order */
	char *attach;                /* follow this command instead of sending */
	bool find_in_flight;         /* at start: attach to a run still going */
	bool cancel;                 /* K: CancelCommand for `attach` */
	char status[32];             /* how the followed command ended, "" unknown */
};

static void ssm_arg_free(void *p)
{
	struct ssm_arg *a = p;
	free(a->config_path);
	vec_free_strs(&a->dbs);
	free(a->attach);
	free(a);
}

static struct ssm_arg *arg_new(struct con *c)
{
	struct ssm_arg *a = xcalloc(1, sizeof *a);
	a->config_path = xstrdup_or_null(c->conf.path);
	a->read_only = c->read_only;
	return a;
}

static int start(struct con *c, const char *name, tui_job_fn *fn, struct ssm_arg *a)
{
	struct tui_job_spec spec = { name, fn, a, ssm_arg_free };
	struct err e = ERR_INIT;
	int id = 0;
	if (tui_jobs_start(c->jobs, &spec, &id, &e))
		con_flash(c, true, " cannot start %s: %.180s", name, e.msg);
	return id;
}

void con_ssm_result_free(void *p)
{
	struct con_ssm_result *r = p;
	if (r) {
		free(r->id);
		free(r->db);
	}
	free(r);
}

/* Tells the UI thread which command this job follows (K cancels it). */
static void post_following(struct tui_job *job, const char *id, const char *db)
{
	struct con_ssm_result *r = xcalloc(1, sizeof *r);
	r->kind = CON_RES_SSM;
	r->id = xstrdup(id);
	r->db = xstrdup(db ? db : "");
	tui_job_post_result_take(job, r, con_ssm_result_free);
}

static void sink_line(void *ctx, enum tui_stream stream, const char *text, size_t len)
{
	tui_job_post_output(ctx, stream, text, len);
}

/* A fleet sends inside tui_ssm_fleet: its "sent ID (COMMENT)" note tells
 * the UI which command K has to cancel now. */
static void fleet_line(void *ctx, enum tui_stream stream, const char *text, size_t len)
{
	const char *p = stream == TUI_STREAM_INFO ? strstr(text, "sent ") : NULL;
	if (p && (p == text || p[-1] == ' ')) {
		char id[64];
		size_t n = strcspn(p + 5, " (");
		if (n && n < sizeof id) {
			memcpy(id, p + 5, n);
			id[n] = 0;
			post_following(ctx, id, NULL);
		}
	}
	sink_line(ctx, stream, text, len);
}

/* ---- the header ---------------------------------------------------------- */

void con_ssm_host_facts(const char *config_path, struct con_facts *f)
{
	struct tui_ssm *s = NULL;
	struct tui_ssm_host h;
	struct err e = ERR_INIT;
	memset(&h, 0, sizeof h);
	if (tui_ssm_open(config_path, true, &s, &e) || tui_ssm_host_status(s, &h, &e)) {
		snprintf(f->host, sizeof f->host, "%s", s ? tui_ssm_target(s) : "?");
		snprintf(f->host_status, sizeof f->host_status, "unknown");
	} else {
		snprintf(f->host, sizeof f->host, "%s", h.instance_id[0] ? h.instance_id : tui_ssm_target(s));
		if (h.managed)
			snprintf(f->host_status, sizeof f->host_status, "%s (agent %s)", h.ping, h.agent);
		else
			snprintf(f->host_status, sizeof f->host_status, "not managed by SSM");
		f->host_ok = h.managed && !strcmp(h.ping, "Online");
	}
	tui_ssm_free(s);
}

/* ---- S: the dialog ------------------------------------------------------- */

/* On a worker: the rendered command of every database, or why not. */
static enum err_code preview_job(struct tui_job *job, void *p, struct err *e)
{
	struct ssm_arg *a = p;
	struct tui_ssm *s = NULL;
	struct con_preview *pv = xcalloc(1, sizeof *pv);
	pv->kind = CON_RES_DIALOG;
	pv->run = CON_RUN_SSM;
	enum err_code c = tui_ssm_open(a->config_path, a->read_only, &s, e);
	snprintf(pv->title, sizeof pv->title, a->dbs.len > 1 ? "SSM: %zu databases, one after another" : "SSM: send to the Flyway host", a->dbs.len);
	if (!c) {
		struct buf line = BUF_INIT;
		buf_addf(&line, "target  %s (as %s)", tui_ssm_target(s), tui_ssm_operator(s));
		vec_push(&pv->lines, buf_detach(&line, NULL));
	}
	for (size_t i = 0; !c && i < a->dbs.len; i++) {
		const char *db = a->dbs.items[i];
		struct buf cmd = BUF_INIT, line = BUF_INIT;
		char *busy = NULL;
		c = tui_ssm_render(s, db, NULL, &cmd, e);
		if (!c)
			c = tui_ssm_in_flight(s, db, &busy, e);
		if (!c && busy && a->dbs.len == 1) {
			snprintf(pv->title, sizeof pv->title, "SSM: attach to %s's run in progress", db);
			pv->attach = xstrdup(busy);
			buf_addf(&line, "a run for %s is in progress: %s; Confirm follows its output", db, busy);
		} else if (!c && busy) {
			c = err_set(e, ERR_LOCKED, "a run for %s is in progress: %s (:runs to follow it)", db, busy);
		} else if (!c) {
			buf_addf(&line, "%zu. %s: %s", i + 1, db, cmd.ptr);
		}
		if (line.len)
			vec_push(&pv->lines, buf_detach(&line, NULL));
		buf_release(&line);
		buf_release(&cmd);
		free(busy);
	}
	if (c) {
		pv->nothing = true;
		vec_push(&pv->lines, xstrdup(e->msg));
	} else {
		vec_push(&pv->lines, xstrdup(a->dbs.len > 1 ? "each run must end in Success before the next is sent"
							    : "its output streams into the output pane; K cancels it"));
	}
	for (size_t i = 0; i < a->dbs.len; i++)
		vec_push(&pv->dbs, xstrdup(a->dbs.items[i]));
	tui_ssm_free(s);
	tui_job_post_result_take(job, pv, con_preview_free);
	return ERR_OK;
}

void con_ssm_send(struct con *c)
{
	struct ssm_arg *a = arg_new(c);
	for (size_t i = 0; i < c->dbs.len; i++) {
		struct con_db *d = c->dbs.items[i];
		if (d->marked)
			vec_push(&a->dbs, xstrdup(d->conf->name));
	}
	if (!a->dbs.len && con_selected(c))
		vec_push(&a->dbs, xstrdup(con_selected(c)->conf->name));
	if (!a->dbs.len) {
		ssm_arg_free(a);
		con_flash(c, true, " no database to send for");
		return;
	}
	start(c, "ssm", preview_job, a);
	con_flash(c, false, " rendering the host's command...");
}

/* ---- running: send and follow, a fleet, or attach ------------------------ */

static void report(struct tui_job *job, const struct tui_ssm_outcome *o)
{
	char text[160];
	tui_ssm_outcome_format(o, text, sizeof text);
	tui_job_post_outputf(job, strcmp(o->status, "Success") ? TUI_STREAM_STDERR : TUI_STREAM_INFO,
			     "ssm: %s", text);
}

static enum err_code follow(struct tui_job *job, struct tui_ssm *s, const char *id, const char *db,
			    char status[32], struct err *e)
{
	struct tui_ssm_sink sink = { sink_line, job };
	struct tui_ssm_outcome o;
	post_following(job, id, db);
	enum err_code c = tui_ssm_follow(s, id, &sink, tui_job_cancel_flag(job), &o, e);
	if (!c) {
		report(job, &o);
		snprintf(status, 32, "%s", o.status);
	}
	return c;
}

static enum err_code send_one(struct tui_job *job, struct tui_ssm *s, const char *db,
			      char status[32], struct err *e)
{
	struct buf cmd = BUF_INIT;
	char *id = NULL;
	enum err_code c = tui_ssm_render(s, db, NULL, &cmd, e);
	if (!c)
		c = tui_ssm_send(s, db, cmd.ptr, &id, e);
	if (!c) {
		tui_job_post_outputf(job, TUI_STREAM_INFO, "ssm %s: sent %s (%s)", db, id, tui_ssm_comment(s));
		c = follow(job, s, id, db, status, e);
	}
	free(id);
	buf_release(&cmd);
	return c;
}

/* At start: the first run still going for any configured database. */
static enum err_code find_and_follow(struct tui_job *job, struct tui_ssm *s, const struct vec *dbs,
				     char status[32], struct err *e)
{
	for (size_t i = 0; i < dbs->len; i++) {
		char *id = NULL;
		if (tui_ssm_in_flight(s, dbs->items[i], &id, e))
			return ERR_OK; /* the header says what is wrong with AWS */
		if (id) {
			tui_job_post_outputf(job, TUI_STREAM_INFO, "ssm: re-attaching to %s's run %s",
					     (const char *)dbs->items[i], id);
			enum err_code c = follow(job, s, id, dbs->items[i], status, e);
			free(id);
			return c;
		}
	}
	return ERR_OK;
}

/* Sends and cancels are confirmed changes: the audit log has them. */
static void audit(struct tui_job *job, const struct ssm_arg *a, const char *event, const char *detail)
{
	if (!a->cancel && (a->attach || a->find_in_flight))
		return; /* following changes nothing */
	struct buf dbs = BUF_INIT;
	for (size_t i = 0; i < a->dbs.len; i++)
		buf_addf(&dbs, "%s%s", i ? "," : "", (const char *)a->dbs.items[i]);
	struct err e = ERR_INIT;
	if (tui_audit_write(a->cancel ? "ssm-cancel" : "ssm", dbs.ptr, event,
			    a->cancel && !detail ? a->attach : detail, &e))
		tui_job_post_outputf(job, TUI_STREAM_STDERR, "%s", e.msg);
	buf_release(&dbs);
}

static enum err_code run_job(struct tui_job *job, void *p, struct err *e)
{
	struct ssm_arg *a = p;
	struct tui_ssm *s = NULL;
	struct tui_ssm_sink sink = { fleet_line, job };
	size_t done = 0;
	audit(job, a, "confirmed", NULL);
	enum err_code c = tui_ssm_open(a->config_path, a->read_only, &s, e);
	if (!c && a->cancel)
		c = tui_ssm_cancel(s, a->attach, e);
	else if (!c && a->find_in_flight)
		c = find_and_follow(job, s, &a->dbs, a->status, e);
	else if (!c && a->attach)
		c = follow(job, s, a->attach, a->dbs.len ? a->dbs.items[0] : NULL, a->status, e);
	else if (!c && a->dbs.len == 1)
		c = send_one(job, s, a->dbs.items[0], a->status, e);
	else if (!c)
		c = tui_ssm_fleet(s, (const char *const *)a->dbs.items, a->dbs.len, NULL, &sink,
				  tui_job_cancel_flag(job), &done, e);
	if (!c && a->cancel)
		tui_job_post_outputf(job, TUI_STREAM_INFO, "ssm: cancel requested for %s", a->attach);
	if (c)
		tui_job_post_outputf(job, TUI_STREAM_STDERR, "ssm: %s", e->msg);
	audit(job, a, c == ERR_CANCELLED ? "stopped following" : c ? "failed" : a->cancel ? "requested"
	      : a->status[0] ? a->status : "Success", c ? e->msg : NULL);
	tui_ssm_free(s);
	return c;
}

static void run_with(struct con *c, struct ssm_arg *a)
{
	int id = start(c, "ssm", run_job, a);
	if (id && !a->cancel) {
		c->run_job = id;
		c->run_is_ssm = true;
	}
}

/* Confirm in the S dialog: the preview's databases (or its run to attach). */
static void confirm_send(struct con *c)
{
	struct con_preview *pv = c->ssm_pending;
	c->ssm_pending = NULL;
	if (pv && c->run_job) /* one started while the dialog was open */
		con_flash(c, true, " a run is in progress: K cancels it");
	if (!pv || c->run_job) {
		con_preview_free(pv);
		return;
	}
	struct ssm_arg *a = arg_new(c);
	for (size_t i = 0; i < pv->dbs.len; i++)
		vec_push(&a->dbs, xstrdup(pv->dbs.items[i]));
	a->attach = xstrdup_or_null(pv->attach);
	con_log(c, TUI_STREAM_INFO, "ssm: %s %zu database%s", a->attach ? "attaching for" : "sending for",
		a->dbs.len, a->dbs.len == 1 ? "" : "s");
	con_preview_free(pv);
	for (size_t i = 0; i < c->dbs.len; i++)
		((struct con_db *)c->dbs.items[i])->marked = false;
	run_with(c, a);
}

void con_ssm_dialog(struct con *c, struct con_preview *pv)
{
	size_t db = c->db_cur;
	for (size_t i = 0; pv->dbs.len == 1 && i < c->dbs.len; i++)
		if (!strcmp(((struct con_db *)c->dbs.items[i])->conf->name, pv->dbs.items[0]))
			db = i;
	con_dialog_open(c, db, pv->title, confirm_send);
	/* a fleet with prod databases in it: every prod name is typed */
	struct buf names = BUF_INIT;
	for (size_t i = 0; i < pv->dbs.len; i++) {
		const struct tui_db_conf *d = tui_conf_find_db(&c->conf, pv->dbs.items[i]);
		if (d && d->eng.environment && !strcmp(d->eng.environment, "prod"))
			buf_addf(&names, "%s%s", names.len ? "," : "", d->name);
	}
	if (names.len)
		snprintf(c->dialog.must_type, sizeof c->dialog.must_type, "%s", names.ptr);
	buf_release(&names);
	for (size_t i = 0; i < pv->lines.len; i++)
		vec_push(&c->dialog.lines, xstrdup(pv->lines.items[i]));
	con_preview_free(c->ssm_pending);
	c->ssm_pending = pv;
}

bool con_ssm_cancel(struct con *c)
{
	if (!c->ssm_id || !c->run_is_ssm)
		return false;
	struct ssm_arg *a = arg_new(c);
	a->attach = xstrdup(c->ssm_id);
	a->cancel = true;
	run_with(c, a);
	con_log(c, TUI_STREAM_INFO, "ssm: cancelling %s", c->ssm_id);
	return true;
}

void con_ssm_reattach(struct con *c)
{
	if (!c->conf.ssm_target || !c->dbs.len)
		return;
	struct ssm_arg *a = arg_new(c);
	a->find_in_flight = true;
	for (size_t i = 0; i < c->dbs.len; i++)
		vec_push(&a->dbs, xstrdup(((struct con_db *)c->dbs.items[i])->conf->name));
	start(c, "ssm", run_job, a); /* run_job is set once it finds a run (CON_RES_SSM) */
}

/* ---- :runs --------------------------------------------------------------- */

static void open_run(struct con *c, const struct con_line *l)
{
	if (!l->key)
		return;
	if (c->run_job) {
		con_flash(c, true, " a run is in progress: K cancels it");
		return;
	}
	struct ssm_arg *a = arg_new(c);
	a->attach = xstrdup(l->key);
	while (c->views.len) /* frees l too */
		con_view_pop(c);
	con_log(c, TUI_STREAM_INFO, "ssm: the output of %s", a->attach);
	run_with(c, a);
}

static enum err_code runs_job(struct tui_job *job, void *p, struct err *e)
{
	struct ssm_arg *a = p;
	struct tui_ssm *s = NULL;
	struct vec runs = VEC_INIT;
	struct con_view *v = con_view_new("SSM runs (enter: its output)");
	v->cursor = true;
	v->open = open_run;
	enum err_code c = tui_ssm_open(a->config_path, true, &s, e);
	if (!c)
		c = tui_ssm_list(s, NULL, RUNS_MAX, &runs, e);
	if (c)
		con_view_add_text(v, TUI_ROLE_LOG_ERROR, e->msg);
	else if (!runs.len)
		con_view_addf(v, TUI_ROLE_COUNT, "no commands on %s yet", tui_ssm_target(s));
	for (size_t i = 0; i < runs.len; i++) {
		const struct tui_ssm_run *r = runs.items[i];
		char dur[24] = "-";
		if (r->seconds >= 0)
			snprintf(dur, sizeof dur, "%lld s", r->seconds);
		bool bad = strcmp(r->status, "Success") && strcmp(r->status, "InProgress") &&
			   strcmp(r->status, "Pending");
		con_view_addf(v, bad ? TUI_ROLE_STATE_FAILED : TUI_ROLE_COUNT, "%-36s %-14s %-12s %-11s %-20.20s %s",
			      r->id, *r->db ? r->db : "-", *r->operator_name ? r->operator_name : "-", r->status,
			      r->requested, dur);
		((struct con_line *)v->lines.items[v->lines.len - 1])->key = xstrdup(r->id);
	}
	vec_release(&runs, tui_ssm_run_free);
	tui_ssm_free(s);
	tui_job_post_result_take(job, v, con_view_free);
	return ERR_OK;
}

void con_ssm_runs(struct con *c)
{
	start(c, "runs", runs_job, arg_new(c));
	con_flash(c, false, " listing the host's runs...");
}
