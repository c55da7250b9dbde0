/*
 * con_data — the console's loading jobs: each runs on a worker thread with
 * its own configuration, engine context and AWS context (jobs own their
 * connections; nothing is shared with the UI thread), builds the diff and
 * posts it as one result the UI thread takes over.
 */
#include <stdlib.h>
#include <string.h>

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
	tui_job_post_result_take(job, load_diff(p, e), con_load_free);
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
		tui_job_post_outputf(r->job, TUI_STREAM_INFO, "  %s: statement %zu of %zu", what,
				     ev->stmt_index, ev->stmt_total);
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

/* p: the dry-run script into the output pane; nothing is changed. */
static enum err_code plan_job(struct tui_job *job, struct cli_env *env, struct err *e)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return err_set(e, ERR_IO, "cannot buffer the plan");
	struct eng_migrate_result res = { 0 };
	struct eng_migrate_options mo = { .target = env->cfg->target, .dry_run = f };
	enum err_code c = eng_migrate(&env->ctx, &mo, &res, e);
	fclose(f);
	if (!c)
		post_lines(job, TUI_STREAM_STDOUT, text);
	for (size_t i = 0; i < res.validate_messages.len; i++)
		post_lines(job, TUI_STREAM_STDERR, res.validate_messages.items[i]);
	free(text);
	eng_migrate_result_release(&res);
	return c;
}

/* v: Flyway's validate, its messages into the output pane. */
static enum err_code validate_job(struct tui_job *job, struct cli_env *env, const char *name,
				  struct err *e)
{
	struct eng_resolved_set files = { 0 };
	struct vec applied = VEC_INIT, msgs = VEC_INIT;
	struct eng_plan plan = { 0 };
	struct eng_plan_options po = { env->cfg->target, env->cfg->out_of_order };
	enum err_code c = eng_info(&env->ctx, &po, &files, &applied, &plan, e);
	if (!c && eng_validate_plan(&plan, &env->cfg->ignore_patterns, false, &msgs, NULL))
		tui_job_post_outputf(job, TUI_STREAM_STDERR, "validate %s: failed", name);
	else if (!c)
		tui_job_post_outputf(job, TUI_STREAM_INFO, "validate %s: ok (%zu migrations)", name,
				     files.items.len);
	for (size_t i = 0; i < msgs.len; i++)
		post_lines(job, TUI_STREAM_STDERR, msgs.items[i]);
	vec_free_strs(&msgs);
	eng_plan_release(&plan);
	vec_release(&applied, eng_applied_free);
	eng_resolved_set_release(&files);
	return c;
}

static enum err_code run_job(struct tui_job *job, void *p, struct err *e)
{
	struct load_arg *a = p;
	bool reads = a->kind == CON_RUN_PLAN || a->kind == CON_RUN_VALIDATE;
	struct cli_opts o = { .config_path = a->config_path, .db_name = a->db_name,
			      .lock_retry_count = -2, .read_only = a->read_only || reads };
	struct cli_env env;
	struct eng_migrate_result res = { 0 };
	struct run_ctx r = { job, &env.ctx };
	struct eng_observer obs = { on_engine_event, &r };
	enum err_code c = cli_env_open(&env, &o, true, e);
	if (!c && reads) {
		c = a->kind == CON_RUN_PLAN ? plan_job(job, &env, e) : validate_job(job, &env, a->db_name, e);
		if (c)
			post_lines(job, TUI_STREAM_STDERR, e->msg);
		cli_env_close(&env);
		return c;
	}
	if (!c) {
		env.ctx.obs = &obs;
		tui_job_set_cancel_hook(job, cancel_run, &r);
		struct eng_migrate_options mo = { .target = env.cfg->target, .rehearse = a->rehearse };
		c = eng_migrate(&env.ctx, &mo, &res, e);
		tui_job_set_cancel_hook(job, NULL, NULL);
	}
	for (size_t i = 0; i < res.validate_messages.len; i++)
		post_lines(job, TUI_STREAM_STDERR, res.validate_messages.items[i]);
	if (c)
		post_lines(job, TUI_STREAM_STDERR, e->msg);
	else
		tui_job_post_outputf(job, TUI_STREAM_INFO, "%s %s: %zu migration%s %s", a->rehearse ? "rehearse" : "migrate",
				     a->db_name, res.applied, res.applied == 1 ? "" : "s",
				     a->rehearse ? "rehearsed and rolled back" : "applied");
	eng_migrate_result_release(&res);
	cli_env_close(&env);
	struct err e2 = ERR_INIT;
	tui_job_post_result_take(job, load_diff(a, &e2), con_load_free);
	return c;
}

void con_run_start(struct con *c, size_t i, enum con_run kind)
{
	bool rehearse = kind == CON_RUN_REHEARSE;
	struct con_db *d = c->dbs.items[i];
	struct load_arg *a = xcalloc(1, sizeof *a);
	a->index = i;
	a->config_path = xstrdup_or_null(c->conf.path);
	a->db_name = xstrdup(d->conf->name);
	a->rehearse = rehearse;
	a->kind = kind;
	a->read_only = c->read_only;
	struct tui_job_spec spec = { d->conf->name, run_job, a, load_arg_free };
	struct err e = ERR_INIT;
	int id = 0;
	if (tui_jobs_start(c->jobs, &spec, &id, &e)) {
		snprintf(c->flash, sizeof c->flash, "cannot start: %.200s", e.msg);
	} else if (kind == CON_RUN_MIGRATE || kind == CON_RUN_REHEARSE) {
		c->run_job = id;
		d->loading = true;
	}
}

void con_load_start(struct con *c, size_t i)
{
	struct con_db *d = c->dbs.items[i];
	struct load_arg *a = xcalloc(1, sizeof *a);
	a->index = i;
	a->config_path = xstrdup_or_null(c->conf.path);
	a->db_name = xstrdup(d->conf->name);
	struct tui_job_spec spec = { d->conf->name, load_job, a, load_arg_free };
	struct err e = ERR_INIT;
	int id;
	if (tui_jobs_start(c->jobs, &spec, &id, &e)) {
		snprintf(c->flash, sizeof c->flash, "cannot load %.60s: %.180s", d->conf->name, e.msg);
		return;
	}
	d->loading = true;
}
