/*
 * con_data — the console's loading jobs: each runs on a worker thread with
 * its own configuration, engine context and AWS context (jobs own their
 * connections; nothing is shared with the UI thread), builds the diff and
 * posts it as one result the UI thread takes over.
 */
#include <stdlib.h>
#include <string.h>

#include "tui/audit.h"
#include "tui/console.h"

struct load_arg {
	size_t index;
	char *config_path, *db_name;
	bool read_only, rehearse;
	enum con_run kind;
};

static void load_arg_free(void *p)
{
	struct load_arg *a = p;
	free(a->config_path);
	free(a->db_name);
	free(a);
}

static void row_free(void *p)
{
	struct con_row *r = p;
	free(r->version);
	free(r->description);
	free(r->type);
	free(r->installed_on);
	free(r->installed_by);
	free(r->local_sum);
	free(r->applied_sum);
	free(r->script);
	free(r->etag);
	free(r->location);
	free(r);
}

void con_load_free(void *p)
{
	struct con_load *l = p;
	if (!l)
		return;
	vec_release(&l->rows, row_free);
	free(l->engine);
	free(l->current);
	free(l->error);
	free(l);
}

static char *sum_text(bool has, int32_t v)
{
	struct buf b = BUF_INIT;
	if (has)
		buf_addf(&b, "%d", v);
	return buf_detach(&b, NULL);
}

static struct con_row *row_from(const struct eng_info *i)
{
	struct con_row *r = xcalloc(1, sizeof *r);
	r->state = i->state;
	r->version = xstrdup(eng_info_version(i));
	r->description = xstrdup(eng_info_description(i));
	r->type = xstrdup(eng_info_type(i));
	r->installed_on = xstrdup(i->app ? i->app->installed_on : "");
	r->installed_by = xstrdup(i->app ? i->app->installed_by : "");
	r->execution_ms = i->app ? i->app->execution_time : 0;
	r->local_sum = sum_text(i->res != NULL, i->res ? i->res->checksum : 0);
	r->applied_sum = sum_text(i->app && i->app->has_checksum, i->app ? i->app->checksum : 0);
	r->script = xstrdup(i->app ? i->app->script : i->res ? i->res->script : "");
	r->etag = xstrdup(i->res && i->res->file->etag ? i->res->file->etag : "");
	r->location = xstrdup(i->res ? i->res->source->location : "");
	r->rank = i->app ? i->app->installed_rank : 0;
	r->success = i->app && i->app->success;
	r->mismatch = i->res && i->app && i->app->has_checksum && i->res->kind != ENG_KIND_REPEATABLE &&
		      i->app->checksum != i->res->checksum && strcmp(i->app->type, "DELETE");
	return r;
}

/* The diff of one database as the console shows it (never NULL). */
static struct con_load *load_diff(const struct load_arg *a, struct err *e)
{
	struct cli_opts o = { .config_path = a->config_path, .db_name = a->db_name,
			      .read_only = true, .lock_retry_count = -2 };
	struct cli_env env;
	struct eng_resolved_set files = { 0 };
	struct vec applied = VEC_INIT;
	struct eng_plan plan = { 0 };
	struct con_load *l = xcalloc(1, sizeof *l);
	l->kind = CON_RES_LOAD;
	l->index = a->index;
	/* the console only reads here: the session is read-only whatever the config says */
	enum err_code c = cli_env_open(&env, &o, true, e);
	if (!c) {
		struct eng_plan_options po = { env.cfg->target, env.cfg->out_of_order };
		c = eng_info(&env.ctx, &po, &files, &applied, &plan, e);
	}
	if (!c) {
		l->engine = xstrdup(db_server_version(env.ctx.db));
		l->current = xstrdup(plan.current.text ? plan.current.text : "");
		l->pending = plan.pending;
		l->failed = plan.failed;
		l->mismatched = plan.mismatched;
		for (size_t i = 0; i < plan.rows.len; i++)
			vec_push(&l->rows, row_from(plan.rows.items[i]));
	} else {
		l->error = xstrdup(e->msg);
	}
	eng_plan_release(&plan);
	vec_release(&applied, eng_applied_free);
	eng_resolved_set_release(&files);
	cli_env_close(&env);
	return l;
}

static enum err_code load_job(struct tui_job *job, void *p, struct err *e)
{
	struct con_load *l = load_diff(p, e);
	l->from_load_job = true;
	tui_job_post_result_take(job, l, con_load_free);
	return ERR_OK; /* a failed load is data for the pane, not a job error */
}

/* ---- migrate and rehearse ------------------------------------------------ */

struct run_ctx {
	struct tui_job *job;
	struct eng_ctx *ctx;
};

static void on_engine_event(const struct eng_event *ev, void *p)
{
	struct run_ctx *r = p;
	const char *what = ev->res ? ev->res->script : "";
	switch (ev->kind) {
	case ENG_EV_MIGRATION_START:
		tui_job_post_outputf(r->job, TUI_STREAM_INFO, "migration %zu of %zu: %s", ev->mig_index,
				     ev->mig_total, what);
		break;
	case ENG_EV_STATEMENT:
		tui_job_post_outputf(r->job, TUI_STREAM_INFO, "  %s: statement %zu of %zu, %lld ms", what,
				     ev->stmt_index, ev->stmt_total, (long long)ev->elapsed_ms);
		break;
	case ENG_EV_REHEARSE_STATEMENT:
		tui_job_post_outputf(r->job, ev->failed ? TUI_STREAM_STDERR : TUI_STREAM_INFO,
				     "  %s line %ld: %lld ms %.100s", what, ev->line,
				     (long long)ev->elapsed_ms, ev->text ? ev->text : "");
		break;
	case ENG_EV_MIGRATION_DONE:
		tui_job_post_outputf(r->job, TUI_STREAM_INFO, "  %s applied (%lld ms)", what,
				     (long long)ev->elapsed_ms);
		break;
	case ENG_EV_MESSAGE:
		tui_job_post_outputf(r->job, TUI_STREAM_INFO, "%s", ev->text);
		break;
	default:
		break;
	}
}

/* K: the running statement is cancelled on the server, the run stops at
 * the next boundary and rolls back what it can (called on the UI thread). */
static void cancel_run(void *p)
{
	struct run_ctx *r = p;
	atomic_store(&r->ctx->cancel, true);
	if (r->ctx->db)
		db_cancel(r->ctx->db);
}

static void post_lines(struct tui_job *job, enum tui_stream s, const char *text)
{
	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n");
		tui_job_post_output(job, s, l, n);
		l += n + (l[n] == '\n');
	}
}

/* Runs fn with a FILE that collects what it writes; *text is the caller's. */
static enum err_code capture(enum err_code (*fn)(struct cli_env *env, FILE *f, void *arg, struct err *e),
			     struct cli_env *env, void *arg, char **text, struct err *e)
{
	size_t len = 0;
	*text = NULL;
	FILE *f = open_memstream(text, &len);
	if (!f)
		return err_set(e, ERR_IO, "cannot buffer the output");
	enum err_code c = fn(env, f, arg, e);
	fclose(f);
	return c;
}

static enum err_code plan_script(struct cli_env *env, FILE *f, void *arg, struct err *e)
{
	struct eng_migrate_result *res = arg;
	struct eng_migrate_options mo = { .target = env->cfg->target, .dry_run = f };
	return eng_migrate(&env->ctx, &mo, res, e);
}

/* p: the dry-run script as a view; nothing is changed. */
static enum err_code plan_job(struct tui_job *job, struct cli_env *env, const char *name,
			      struct err *e)
{
	char *text = NULL;
	struct eng_migrate_result res = { 0 };
	enum err_code c = capture(plan_script, env, &res, &text, e);
	struct buf title = BUF_INIT;
	buf_addf(&title, "Plan %s: %zu pending (dry run, nothing changed)", name, res.pending);
	struct con_view *v = con_view_new(title.ptr);
	v->numbers = true;
	if (!c)
		con_view_add_text(v, TUI_ROLE_COUNT, text);
	for (size_t i = 0; i < res.validate_messages.len; i++)
		con_view_add_text(v, TUI_ROLE_LOG_ERROR, res.validate_messages.items[i]);
	if (c)
		con_view_add_text(v, TUI_ROLE_LOG_ERROR, e->msg);
	tui_job_post_result_take(job, v, con_view_free);
	buf_release(&title);
	free(text);
	eng_migrate_result_release(&res);
	return ERR_OK;
}

/* v: Flyway's validate as a view. */
static enum err_code validate_job(struct tui_job *job, struct cli_env *env, const char *name,
				  struct err *e)
{
	struct eng_resolved_set files = { 0 };
	struct vec applied = VEC_INIT, msgs = VEC_INIT;
	struct eng_plan plan = { 0 };
	struct eng_plan_options po = { env->cfg->target, env->cfg->out_of_order };
	struct con_view *v = con_view_new("Validate");
	enum err_code c = eng_info(&env->ctx, &po, &files, &applied, &plan, e);
	if (c)
		con_view_addf(v, TUI_ROLE_LOG_ERROR, "validate %s: %s", name, e->msg);
	else if (eng_validate_plan(&plan, &env->cfg->ignore_patterns, false, &msgs, NULL))
		con_view_addf(v, TUI_ROLE_LOG_ERROR, "validate %s: failed", name);
	else
		con_view_addf(v, TUI_ROLE_STATE_SUCCESS, "validate %s: ok (%zu migrations validated)", name,
			      files.items.len);
	for (size_t i = 0; i < msgs.len; i++)
		con_view_add_text(v, TUI_ROLE_LOG_ERROR, msgs.items[i]);
	tui_job_post_result_take(job, v, con_view_free);
	vec_free_strs(&msgs);
	eng_plan_release(&plan);
	vec_release(&applied, eng_applied_free);
	eng_resolved_set_release(&files);
	return ERR_OK;
}

static const char *const run_names[] = { "migrate", "rehearse", "plan", "validate", "repair", "baseline" };

static void audit(struct tui_job *job, const struct load_arg *a, const char *event, const char *detail)
{
	struct err e = ERR_INIT;
	if (tui_audit_write(run_names[a->kind], a->db_name, event, detail, &e))
		tui_job_post_outputf(job, TUI_STREAM_STDERR, "%s", e.msg);
}

static enum err_code change_job(struct tui_job *job, struct cli_env *env, const struct load_arg *a,
				struct err *e)
{
	size_t changes = 0;
	if (a->kind == CON_RUN_REPAIR) {
		enum err_code c = eng_repair(&env->ctx, NULL, &changes, e);
		if (!c)
			tui_job_post_outputf(job, TUI_STREAM_INFO, "repair %s: %zu row%s changed", a->db_name,
					     changes, changes == 1 ? "" : "s");
		return c;
	}
	struct eng_baseline_options bo = { 0 };
	enum err_code c = eng_baseline(&env->ctx, &bo, e);
	if (!c)
		tui_job_post_outputf(job, TUI_STREAM_INFO, "baseline %s: baselined schema \"%s\" with version %s",
				     a->db_name, env->ctx.schema, env->cfg->baseline_version);
	return c;
}

static enum err_code migrate_job(struct tui_job *job, struct cli_env *env, const struct load_arg *a,
				 struct err *e)
{
	struct eng_migrate_result res = { 0 };
	struct run_ctx r = { job, &env->ctx };
	struct eng_observer obs = { on_engine_event, &r };
	env->ctx.obs = &obs;
	tui_job_set_cancel_hook(job, cancel_run, &r);
	struct eng_migrate_options mo = { .target = env->cfg->target, .rehearse = a->rehearse };
	enum err_code c = eng_migrate(&env->ctx, &mo, &res, e);
	tui_job_set_cancel_hook(job, NULL, NULL);
	env->ctx.obs = NULL;
	for (size_t i = 0; i < res.validate_messages.len; i++)
		post_lines(job, TUI_STREAM_STDERR, res.validate_messages.items[i]);
	if (c)
		post_lines(job, TUI_STREAM_STDERR, e->msg);
	/* the summary last, where the eye lands: file, line, statement */
	if (c && res.failed_script)
		tui_job_post_outputf(job, TUI_STREAM_STDERR, "failed: %s line %ld: %s", res.failed_script,
				     res.failed_line, res.failed_statement ? res.failed_statement : "");
	if (!c)
		tui_job_post_outputf(job, TUI_STREAM_INFO, "%s %s: %zu migration%s %s", run_names[a->kind],
				     a->db_name, res.applied, res.applied == 1 ? "" : "s",
				     a->rehearse ? "rehearsed and rolled back" : "applied");
	eng_migrate_result_release(&res);
	return c;
}

static enum err_code run_job(struct tui_job *job, void *p, struct err *e)
{
	struct load_arg *a = p;
	bool reads = a->kind == CON_RUN_PLAN || a->kind == CON_RUN_VALIDATE;
	struct cli_opts o = { .config_path = a->config_path, .db_name = a->db_name,
			      .lock_retry_count = -2, .read_only = a->read_only || reads };
	struct cli_env env;
	if (!reads)
		audit(job, a, "confirmed", NULL);
	bool migrates = a->kind == CON_RUN_MIGRATE || a->kind == CON_RUN_REHEARSE;
	enum err_code c = cli_env_open(&env, &o, true, e);
	if (!c && reads)
		c = a->kind == CON_RUN_PLAN ? plan_job(job, &env, a->db_name, e) : validate_job(job, &env, a->db_name, e);
	else if (!c && migrates)
		c = migrate_job(job, &env, a, e); /* posts its own failure */
	else if (!c)
		c = change_job(job, &env, a, e);
	if (c && !(migrates && env.ctx.db))
		post_lines(job, TUI_STREAM_STDERR, e->msg);
	cli_env_close(&env);
	if (!reads) {
		/* a cancelled statement comes back as a database error: the flag says why */
		bool cancelled = c && (c == ERR_CANCELLED || tui_job_cancelled(job));
		audit(job, a, cancelled ? "cancelled" : c ? "failed" : "succeeded", c ? e->msg : NULL);
		struct err e2 = ERR_INIT;
		if (!tui_job_cancelled(job)) /* cancelled: maybe quitting, the diff can wait for r */
			tui_job_post_result_take(job, load_diff(a, &e2), con_load_free);
	}
	return c;
}

static struct load_arg *arg_for(struct con *c, size_t i, enum con_run kind)
{
	struct con_db *d = c->dbs.items[i];
	struct load_arg *a = xcalloc(1, sizeof *a);
	a->index = i;
	a->config_path = xstrdup_or_null(c->conf.path);
	a->db_name = xstrdup(d->conf->name);
	a->rehearse = kind == CON_RUN_REHEARSE;
	a->kind = kind;
	a->read_only = c->read_only;
	return a;
}

/* Starts fn on a worker for database i; the job's id, or 0 (flashed). */
static int start_job(struct con *c, size_t i, tui_job_fn *fn, enum con_run kind)
{
	struct con_db *d = c->dbs.items[i];
	struct tui_job_spec spec = { d->conf->name, fn, arg_for(c, i, kind), load_arg_free };
	struct err e = ERR_INIT;
	int id = 0;
	if (tui_jobs_start(c->jobs, &spec, &id, &e)) {
		con_flash(c, true, " cannot start work on %.60s: %.180s", d->conf->name, e.msg);
		return 0;
	}
	return id;
}

void con_run_start(struct con *c, size_t i, enum con_run kind)
{
	struct con_db *d = c->dbs.items[i];
	bool changes = kind != CON_RUN_PLAN && kind != CON_RUN_VALIDATE;
	int id = start_job(c, i, run_job, kind);
	if (id && changes)
		con_log(c, TUI_STREAM_INFO, "%s %s started%s", run_names[kind], d->conf->name,
			kind == CON_RUN_REHEARSE ? " (everything is rolled back)" : "");
	if (id && changes) {
		c->run_job = id;
		c->run_is_ssm = false;
		c->run_db = i;
		d->loading = true;
	}
}

/* ---- previews: what repair or baseline would do -------------------------- */

void con_preview_free(void *p)
{
	struct con_preview *pv = p;
	if (!pv)
		return;
	vec_free_strs(&pv->lines);
	vec_free_strs(&pv->dbs);
	free(pv->attach);
	free(pv);
}

static enum err_code repair_script(struct cli_env *env, FILE *f, void *arg, struct err *e)
{
	return eng_repair(&env->ctx, f, arg, e);
}

static enum err_code baseline_script(struct cli_env *env, FILE *f, void *arg, struct err *e)
{
	(void)arg;
	struct eng_baseline_options bo = { .dry_run = f };
	return eng_baseline(&env->ctx, &bo, e);
}

static void preview_text(struct con_preview *pv, const struct load_arg *a, struct cli_env *env,
			 const char *text, size_t changes)
{
	bool repair = a->kind == CON_RUN_REPAIR;
	struct buf b = BUF_INIT;
	if (repair)
		buf_addf(&b, "repair %s: %zu history row%s would change (%s):", a->db_name, changes,
			 changes == 1 ? "" : "s", env->ctx.table_q);
	else
		buf_addf(&b, "baseline %s: one row, version %s \"%s\", into %s:", a->db_name,
			 env->cfg->baseline_version, env->cfg->baseline_description, env->ctx.table_q);
	vec_push(&pv->lines, buf_detach(&b, NULL));
	for (const char *l = text; l && *l;) {
		size_t n = strcspn(l, "\n");
		if (n && strncmp(l, "--", 2))
			vec_push(&pv->lines, xstrndup(l, n));
		l += n + (l[n] == '\n');
	}
	pv->nothing = repair && !changes;
}

static enum err_code preview_job(struct tui_job *job, void *p, struct err *e)
{
	struct load_arg *a = p;
	struct cli_opts o = { .config_path = a->config_path, .db_name = a->db_name,
			      .lock_retry_count = -2, .read_only = true };
	struct cli_env env;
	struct con_preview *pv = xcalloc(1, sizeof *pv);
	pv->kind = CON_RES_DIALOG;
	pv->index = a->index;
	pv->run = a->kind;
	snprintf(pv->title, sizeof pv->title, "%s %s", a->kind == CON_RUN_REPAIR ? "Repair" : "Baseline",
		 a->db_name);
	char *text = NULL;
	size_t changes = 0;
	enum err_code c = cli_env_open(&env, &o, true, e);
	if (!c)
		c = capture(a->kind == CON_RUN_REPAIR ? repair_script : baseline_script, &env, &changes, &text, e);
	if (!c) {
		preview_text(pv, a, &env, text, changes);
	} else {
		pv->nothing = true;
		vec_push(&pv->lines, xstrdup(e->msg));
	}
	free(text);
	cli_env_close(&env);
	tui_job_post_result_take(job, pv, con_preview_free);
	return ERR_OK;
}

void con_preview_start(struct con *c, size_t i, enum con_run kind)
{
	if (start_job(c, i, preview_job, kind))
		con_flash(c, false, " working out what %s would change...", kind == CON_RUN_REPAIR ? "repair" : "baseline");
}

void con_load_start(struct con *c, size_t i)
{
	struct con_db *d = c->dbs.items[i];
	if (d->queued || d->loading)
		return; /* one load at a time per database: answers never cross */
	if (c->loads_running >= CON_LOADS_MAX) {
		d->queued = d->loading = true;
		return;
	}
	if (!start_job(c, i, load_job, CON_RUN_VALIDATE)) {
		d->loading = false;
		return;
	}
	d->loading = true;
	c->loads_running++;
}

void con_load_next(struct con *c)
{
	if (c->loads_running)
		c->loads_running--;
	/* the selected database first: it is the one on the screen */
	struct con_db *sel = con_selected(c);
	size_t pick = sel && sel->queued ? c->db_cur : c->dbs.len;
	for (size_t i = 0; pick == c->dbs.len && i < c->dbs.len; i++)
		if (((struct con_db *)c->dbs.items[i])->queued)
			pick = i;
	if (pick < c->dbs.len) {
		struct con_db *d = c->dbs.items[pick];
		d->queued = d->loading = false;
		con_load_start(c, pick);
	}
}
