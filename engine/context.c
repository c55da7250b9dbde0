/*
 * context — one engine context: the configuration, the sources and the
 * database session, plus the session facts Flyway derives once per run
 * (history schema, current user for installed_by, the catalog).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "engine/history.h"

void eng_ctx_init(struct eng_ctx *ctx, const struct eng_config *cfg)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->cfg = cfg;
	atomic_init(&ctx->cancel, false);
}

void eng_ctx_release(struct eng_ctx *ctx)
{
	for (size_t i = 0; i < ctx->sources.len; i++)
		eng_source_free(ctx->sources.items[i]);
	vec_release(&ctx->sources, NULL);
	db_close(ctx->db);
	free(ctx->schema);
	free(ctx->database);
	free(ctx->user);
	free(ctx->table_q);
	free(ctx->search_path);
	memset(ctx, 0, sizeof *ctx);
}

void eng_ctx_add_source_take(struct eng_ctx *ctx, struct eng_source *s)
{
	vec_push(&ctx->sources, s);
}

enum err_code eng_ctx_add_locations(struct eng_ctx *ctx, bool skip_s3, struct err *e)
{
	const struct vec *locs = &ctx->cfg->locations;
	for (size_t i = 0; i < locs->len; i++) {
		const char *loc = locs->items[i], *dir = loc;
		if (!strncasecmp(loc, "s3:", 3)) {
			if (skip_s3)
				continue;
			return err_set(e, ERR_USAGE, "location %s needs AWS access, which this command does not have", loc);
		}
		if (!strncasecmp(loc, "filesystem:", 11))
			dir = loc + 11;
		else if (!strncasecmp(loc, "classpath:", 10) || strstr(loc, "://"))
			return err_set(e, ERR_USAGE,
				       "unsupported location %s: use filesystem:DIR or s3:bucket/prefix", loc);
		struct stat st;
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
			return err_set(e, ERR_USAGE, "migrations location %s: %s", loc,
				       stat(dir, &st) != 0 ? strerror(errno) : "not a directory");
		eng_ctx_add_source_take(ctx, eng_source_dir_new(loc, dir));
	}
	return ERR_OK;
}

static enum err_code learn_facts(struct eng_ctx *ctx, struct err *e)
{
	bool pg = db_dialect(ctx->db) == DB_PG;
	struct db_result *r = NULL;
	enum err_code c = db_query(ctx->db, pg
		? "SELECT current_user, current_database(), current_schema(), current_setting('search_path')"
		: "SELECT SUBSTRING_INDEX(USER(),'@',1), DATABASE(), DATABASE(), ''", 0, NULL, &r, e);
	if (c)
		return c;
	const struct eng_config *cfg = ctx->cfg;
	const char *schema = cfg->default_schema && *cfg->default_schema ? cfg->default_schema
		: cfg->schemas.len ? cfg->schemas.items[0] : db_result_get(r, 0, 2);
	ctx->user = xstrdup(cfg->installed_by && *cfg->installed_by ? cfg->installed_by
			    : db_result_get(r, 0, 0) ? db_result_get(r, 0, 0) : "");
	ctx->database = xstrdup_or_null(db_result_get(r, 0, 1));
	ctx->search_path = xstrdup_or_null(db_result_get(r, 0, 3));
	ctx->schema = xstrdup_or_null(schema);
	db_result_free(r);
	if (!ctx->schema)
		return err_set(e, ERR_USAGE,
			       "Unable to determine schema for the schema history table. Set a default schema for the connection or specify one using the 'defaultSchema' property");
	struct buf b = BUF_INIT;
	db_quote_ident(db_dialect(ctx->db), &b, ctx->schema);
	buf_addc(&b, '.');
	db_quote_ident(db_dialect(ctx->db), &b, cfg->table);
	ctx->table_q = buf_detach(&b, NULL);
	return ERR_OK;
}

static enum err_code open_session(struct eng_ctx *ctx, bool read_only, struct err *e)
{
	const struct eng_config *cfg = ctx->cfg;
	if (!cfg->url || !*cfg->url)
		return err_set(e, ERR_USAGE, "no database URL: give --url or a url in the database's section");
	struct db_target t;
	enum err_code c = db_target_parse(cfg->url, &t, e);
	if (c)
		return c;
	if (cfg->user && *cfg->user) {
		free(t.user);
		t.user = xstrdup(cfg->user);
	}
	if (cfg->password && *cfg->password) {
		free(t.password);
		t.password = xstrdup(cfg->password);
	}
	struct db_options o = { .read_only = read_only || cfg->read_only, .app_name = "tarmac" };
	c = db_open(&t, &o, &ctx->db, e);
	db_target_release(&t);
	return c;
}

enum err_code eng_ctx_connect(struct eng_ctx *ctx, bool read_only, struct err *e)
{
	enum err_code c = open_session(ctx, read_only, e);
	if (!c)
		c = learn_facts(ctx, e);
	return c;
}

enum err_code eng_history_read(struct eng_ctx *ctx, struct vec *applied, bool *exists,
			       struct err *e)
{
	enum err_code c = hist_exists(ctx, exists, e);
	if (!c && *exists)
		c = hist_read(ctx, -1, applied, e);
	return c;
}

enum err_code eng_info(struct eng_ctx *ctx, const struct eng_plan_options *o,
		       struct eng_resolved_set *files, struct vec *applied,
		       struct eng_plan *plan, struct err *e)
{
	bool exists = false;
	enum err_code c = eng_resolve(ctx, files, e);
	if (c)
		return c;
	c = eng_history_read(ctx, applied, &exists, e);
	if (!c)
		c = eng_plan_build(files, applied, o, plan, e);
	if (!c)
		plan->history_exists = exists;
	return c;
}

enum err_code eng_ctx_reconnect(struct eng_ctx *ctx, struct err *e)
{
	/* The session facts stay: same URL, same schema and user. */
	db_close(ctx->db);
	ctx->db = NULL;
	return open_session(ctx, false, e);
}
