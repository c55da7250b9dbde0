/*
 * cli_aws — where line mode meets aws/: the AWS context of a command,
 * s3: locations turned into engine sources, and database passwords taken
 * from Secrets Manager or an RDS IAM token right before connecting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tui/cli.h"

enum err_code cli_env_aws(struct cli_env *env, struct aws_ctx **out, struct err *e)
{
	if (!env->aws) {
		struct aws_ctx_options o = {
			.profile = env->conf.aws_profile, .region = env->conf.aws_region,
			.read_only = env->conf.read_only || (env->cfg && env->cfg->read_only),
			.cancel = &env->ctx.cancel,
		};
		enum err_code c = aws_ctx_new(&o, &env->aws, e);
		if (c)
			return c;
	}
	*out = env->aws;
	return ERR_OK;
}

enum err_code cli_env_add_s3_sources(struct cli_env *env, struct err *e)
{
	const struct vec *locs = &env->cfg->locations;
	for (size_t i = 0; i < locs->len; i++) {
		const char *loc = locs->items[i];
		if (strncasecmp(loc, "s3:", 3))
			continue;
		struct aws_ctx *aws;
		struct eng_source *src = NULL;
		enum err_code c = cli_env_aws(env, &aws, e);
		if (!c)
			c = aws_s3_source_new(aws, loc, &src, e);
		if (c)
			return c;
		eng_ctx_add_source_take(&env->ctx, src);
	}
	return ERR_OK;
}

/* Replaces a config string, wiping the old value when it was a secret. */
static void set_str(char **field, const char *value, bool wipe)
{
	if (*field && wipe) {
		volatile char *v = *field; /* volatile: the zeroing must not be optimised away */
		for (size_t i = 0; v[i]; i++)
			v[i] = 0;
	}
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

/* A URL for the secret's host/port/dbname when the section gives none. */
static void url_from_secret(struct eng_config *cfg, const struct aws_db_secret *s)
{
	if (cfg->url && *cfg->url)
		return;
	bool my = s->engine && (strstr(s->engine, "mysql") || strstr(s->engine, "maria"));
	struct buf u = BUF_INIT;
	buf_addf(&u, "%s://%s:%s/%s", my ? "mysql" : "postgresql", s->host ? s->host : "localhost",
		 s->port ? s->port : (my ? "3306" : "5432"), s->dbname ? s->dbname : "");
	set_str(&cfg->url, u.ptr, false);
	buf_release(&u);
}

static enum err_code password_from_secret(struct cli_env *env, struct err *e)
{
	struct aws_ctx *aws;
	struct aws_db_secret s = { 0 };
	enum err_code c = cli_env_aws(env, &aws, e);
	if (!c)
		c = aws_secrets_get_db(aws, env->db->secret, &s, e);
	if (!c) {
		if (s.username)
			set_str(&env->cfg->user, s.username, false);
		set_str(&env->cfg->password, s.password, true);
		url_from_secret(env->cfg, &s);
	}
	aws_db_secret_release(&s);
	return c;
}

/* RDS IAM: a token for user@host:port as the password, TLS required. */
static enum err_code password_from_iam(struct cli_env *env, struct err *e)
{
	struct db_target t;
	struct aws_ctx *aws;
	enum err_code c = db_target_parse(env->cfg->url, &t, e);
	if (c)
		return c;
	const char *user = env->cfg->user && *env->cfg->user ? env->cfg->user : t.user;
	int port = t.port ? atoi(t.port) : (t.dialect == DB_PG ? 5432 : 3306);
	char *token = NULL;
	if (!user || !t.host)
		c = err_set(e, ERR_USAGE, "iam_auth for %s needs a host and a user in its url", env->name);
	if (!c)
		c = cli_env_aws(env, &aws, e);
	if (!c)
		c = aws_rds_auth_token(aws, t.host, port, user, &token, e);
	if (!c) {
		set_str(&env->cfg->password, token, true);
		bool has_tls = strstr(env->cfg->url, "sslmode=") || strstr(env->cfg->url, "ssl-mode=") ||
			       strstr(env->cfg->url, "sslMode=");
		if (!has_tls) {
			struct buf u = BUF_INIT;
			buf_addf(&u, "%s%c%s", env->cfg->url, strchr(env->cfg->url, '?') ? '&' : '?',
				 t.dialect == DB_PG ? "sslmode=verify-full" : "ssl-mode=VERIFY_IDENTITY");
			set_str(&env->cfg->url, u.ptr, false);
			buf_release(&u);
		}
	}
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	db_target_release(&t);
	return c;
}

enum err_code cli_env_db_credentials(struct cli_env *env, struct err *e)
{
	if (!env->db)
		return ERR_OK;
	if (env->db->secret && *env->db->secret)
		return password_from_secret(env, e);
	if (env->db->iam_auth)
		return password_from_iam(env, e);
	return ERR_OK;
}
