/*
 * con_fetch — the console's read-only jobs whose answer is a view or the
 * header's facts: a migration's SQL (from disk or S3), who holds each
 * database's Flyway lock, the S3 buckets and which database each belongs
 * to (and the orphans: buckets of migrations no database maps), and the
 * AWS account, credentials and region. Each runs on a worker with its own
 * configuration and connections; nothing here can change anything.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tui/console.h"

#define SQL_VIEW_CAP ((size_t)16 * 1024 * 1024)

struct fetch_arg {
	char *config_path, *db_name, *script;
	bool orphans_only;
};

static void fetch_arg_free(void *p)
{
	struct fetch_arg *a = p;
	free(a->config_path);
	free(a->db_name);
	free(a->script);
	free(a);
}

static void start(struct con *c, const char *name, tui_job_fn *fn, struct fetch_arg *a)
{
	a->config_path = xstrdup_or_null(c->conf.path);
	struct tui_job_spec spec = { name, fn, a, fetch_arg_free };
	struct err e = ERR_INIT;
	int id;
	if (tui_jobs_start(c->jobs, &spec, &id, &e))
		con_flash(c, true, " cannot start %s: %.180s", name, e.msg);
}

/* ---- s: the SQL of one migration ---------------------------------------- */

static enum err_code read_script(struct cli_env *env, const char *script, struct buf *out,
				 struct err *e)
{
	struct eng_resolved_set files = { 0 };
	enum err_code c = eng_resolve(&env->ctx, &files, e);
	const struct eng_resolved *hit = NULL;
	for (size_t i = 0; !c && !hit && i < files.items.len; i++) {
		const struct eng_resolved *r = files.items.items[i];
		if (!strcmp(r->script, script))
			hit = r;
	}
	struct eng_stream *st = NULL;
	if (!c && !hit)
		c = err_set(e, ERR_IO, "%s is no longer in %s's locations", script, env->name);
	else if (!c)
		c = hit->source->ops->open(hit->source, hit->file, &st, e);
	if (!c)
		c = eng_stream_slurp(st, out, SQL_VIEW_CAP, e);
	if (st)
		st->close(st);
	eng_resolved_set_release(&files);
	return c;
}

static enum err_code script_job(struct tui_job *job, void *p, struct err *e)
{
	struct fetch_arg *a = p;
	struct cli_opts o = { .config_path = a->config_path, .db_name = a->db_name,
			      .lock_retry_count = -2, .read_only = true };
	struct cli_env env;
	struct buf text = BUF_INIT;
	enum err_code c = cli_env_open(&env, &o, false, e);
	if (!c)
		c = read_script(&env, a->script, &text, e);
	struct con_view *v = con_view_new(a->script);
	v->numbers = !c;
	con_view_add_text(v, c ? TUI_ROLE_LOG_ERROR : TUI_ROLE_COUNT, c ? e->msg : text.ptr);
	tui_job_post_result_take(job, v, con_view_free);
	buf_release(&text);
	cli_env_close(&env);
	return ERR_OK;
}

void con_fetch_script(struct con *c, size_t i, const char *script)
{
	struct fetch_arg *a = xcalloc(1, sizeof *a);
	a->db_name = xstrdup(((struct con_db *)c->dbs.items[i])->conf->name);
	a->script = xstrdup(script);
	start(c, "sql", script_job, a);
}

/* ---- :locks ------------------------------------------------------------- */

static enum err_code locks_job(struct tui_job *job, void *p, struct err *e)
{
	struct fetch_arg *a = p;
	struct tui_conf conf;
	tui_conf_init(&conf);
	struct con_view *v = con_view_new("Locks");
	if (tui_conf_load(&conf, a->config_path, e))
		con_view_add_text(v, TUI_ROLE_LOG_ERROR, e->msg);
	for (size_t i = 0; i < conf.databases.len && !tui_job_cancelled(job); i++) {
		const char *name = ((struct tui_db_conf *)conf.databases.items[i])->name;
		struct cli_opts o = { .config_path = a->config_path, .db_name = name,
				      .lock_retry_count = -2, .read_only = true };
		struct cli_env env;
		char who[512] = "";
		enum err_code c = cli_env_open(&env, &o, true, e);
		if (!c)
			eng_lock_holder(&env.ctx, who, sizeof who);
		if (c)
			con_view_addf(v, TUI_ROLE_LOG_ERROR, "%-16s %s", name, e->msg);
		else
			con_view_addf(v, *who ? TUI_ROLE_STATE_PENDING : TUI_ROLE_COUNT, "%-16s %s %s", name,
				      env.ctx.table_q, *who ? who + 1 : "free (nobody holds Flyway's lock)");
		cli_env_close(&env);
	}
	tui_conf_release(&conf);
	tui_job_post_result_take(job, v, con_view_free);
	return ERR_OK;
}

void con_fetch_locks(struct con *c)
{
	start(c, "locks", locks_job, xcalloc(1, sizeof(struct fetch_arg)));
	con_flash(c, false, " asking every database who holds Flyway's lock...");
}

/* ---- :buckets and the orphans ------------------------------------------- */

static bool aws_in_use(const struct tui_conf *conf)
{
	if (conf->aws_profile || conf->aws_region || conf->ssm_target)
		return true;
	for (size_t i = 0; i < conf->databases.len; i++) {
		const struct tui_db_conf *d = conf->databases.items[i];
		if (d->secret || d->iam_auth)
			return true;
		for (size_t k = 0; k < d->eng.locations.len; k++)
			if (!strncasecmp(d->eng.locations.items[k], "s3:", 3))
				return true;
	}
	return false;
}

/* Counts the bucket's migrations; *err set when it cannot be listed. */
static size_t count_migrations(struct aws_ctx *aws, const char *bucket, size_t *objects,
			       struct err *e)
{
	struct vec objs = VEC_INIT;
	size_t n = 0;
	*objects = 0;
	if (!aws_s3_list_objects(aws, bucket, "", &objs, e)) {
		*objects = objs.len;
		for (size_t i = 0; i < objs.len; i++)
			n += cli_key_is_migration(((struct aws_s3_object *)objs.items[i])->key);
	}
	vec_release(&objs, aws_s3_object_free);
	return n;
}

static void bucket_rows(struct tui_job *job, struct cli_env *env, struct aws_ctx *aws,
			const struct vec *buckets, struct con_view *v, struct con_orphans *o)
{
	for (size_t i = 0; i < buckets->len && !tui_job_cancelled(job); i++) {
		const char *name = ((struct aws_s3_bucket *)buckets->items[i])->name;
		const char *db = cli_bucket_database(&env->conf, name);
		struct err e = ERR_INIT;
		size_t objects, migs = count_migrations(aws, name, &objects, &e);
		if (!db && migs)
			vec_push(&o->names, xstrdup(name));
		if (e.code)
			con_view_addf(v, TUI_ROLE_LOG_ERROR, "%-40s %-16s %s", name, db ? db : "-", e.msg);
		else
			con_view_addf(v, !db && migs ? TUI_ROLE_STATE_MISSING : TUI_ROLE_COUNT,
				      "%-40s %-16s %8zu %10zu%s", name, db ? db : "-", objects, migs,
				      !db && migs ? "  (orphan: no database maps it)" : "");
	}
}

static enum err_code buckets_job(struct tui_job *job, void *p, struct err *e)
{
	struct fetch_arg *a = p;
	struct cli_env env;
	memset(&env, 0, sizeof env);
	tui_conf_init(&env.conf);
	struct aws_ctx *aws = NULL;
	struct vec buckets = VEC_INIT;
	struct con_view *v = con_view_new("Buckets");
	struct con_orphans *o = xcalloc(1, sizeof *o);
	o->kind = CON_RES_ORPHANS;
	enum err_code c = tui_conf_load(&env.conf, a->config_path, e);
	bool skip = !c && a->orphans_only && !aws_in_use(&env.conf);
	if (!c && !skip)
		c = cli_env_aws(&env, &aws, e);
	if (!c && !skip)
		c = aws_s3_list_buckets(aws, &buckets, e);
	con_view_addf(v, TUI_ROLE_TABLE_HEADING, "%-40s %-16s %8s %10s", "BUCKET", "DATABASE", "OBJECTS", "MIGRATIONS");
	if (c)
		con_view_add_text(v, TUI_ROLE_LOG_ERROR, e->msg);
	else if (!skip)
		bucket_rows(job, &env, aws, &buckets, v, o);
	vec_release(&buckets, aws_s3_bucket_free);
	if (!c && !skip)
		tui_job_post_result_take(job, o, con_orphans_free);
	else
		con_orphans_free(o);
	if (!a->orphans_only)
		tui_job_post_result_take(job, v, con_view_free);
	else
		con_view_free(v);
	aws_ctx_free(env.aws);
	tui_conf_release(&env.conf);
	return ERR_OK;
}

void con_orphans_free(void *p)
{
	struct con_orphans *o = p;
	if (o)
		vec_free_strs(&o->names);
	free(o);
}

void con_fetch_buckets(struct con *c, bool orphans_only)
{
	struct fetch_arg *a = xcalloc(1, sizeof *a);
	a->orphans_only = orphans_only;
	start(c, "buckets", buckets_job, a);
	if (!orphans_only)
		con_flash(c, false, " listing every bucket...");
}

/* ---- the header's AWS facts --------------------------------------------- */

void con_facts_free(void *p)
{
	struct con_facts *f = p;
	if (f)
		free(f->error);
	free(f);
}

static void facts_gather(struct cli_env *env, const char *config_path, struct aws_ctx *aws,
			 struct con_facts *f, struct err *e)
{
	struct aws_identity id = { 0 };
	char source[64] = "";
	snprintf(f->region, sizeof f->region, "%s", aws_ctx_region(aws));
	snprintf(f->profile, sizeof f->profile, "%s", aws_ctx_profile(aws));
	enum err_code c = aws_creds_describe(aws, source, sizeof source, &f->expires, e);
	if (!c)
		c = aws_sts_get_caller_identity(aws, &id, e);
	if (!c) {
		snprintf(f->account, sizeof f->account, "%s", id.account ? id.account : "?");
		snprintf(f->arn, sizeof f->arn, "%s", id.arn ? id.arn : "");
		snprintf(f->creds, sizeof f->creds, "%s", source);
	} else {
		f->error = xstrdup(e->msg);
	}
	aws_identity_release(&id);
	if (!c && env->conf.ssm_target)
		con_ssm_host_facts(config_path, f);
}

static enum err_code facts_job(struct tui_job *job, void *p, struct err *e)
{
	struct fetch_arg *a = p;
	struct cli_env env;
	memset(&env, 0, sizeof env);
	tui_conf_init(&env.conf);
	struct con_facts *f = xcalloc(1, sizeof *f);
	f->kind = CON_RES_FACTS;
	struct aws_ctx *aws = NULL;
	bool loaded = !tui_conf_load(&env.conf, a->config_path, e);
	if (loaded && !aws_in_use(&env.conf))
		f->error = xstrdup("not used");
	else if (!loaded || cli_env_aws(&env, &aws, e))
		f->error = xstrdup(e->msg);
	else
		facts_gather(&env, a->config_path, aws, f, e);
	tui_job_post_result_take(job, f, con_facts_free);
	aws_ctx_free(env.aws);
	tui_conf_release(&env.conf);
	return ERR_OK;
}

void con_fetch_facts(struct con *c)
{
	start(c, "facts", facts_job, xcalloc(1, sizeof(struct fetch_arg)));
}
