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
	bool read_only;
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

static enum err_code load_job(struct tui_job *job, void *p, struct err *e)
{
	struct load_arg *a = p;
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
	tui_job_post_result_take(job, l, con_load_free);
	return ERR_OK; /* a failed load is data for the pane, not a job error */
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
