/*
 * cli_setup — from options to a connected engine context: tarmac.conf
 * (-c, $TARMAC_CONFIG, ...), the -d section or a standalone configuration
 * from FLYWAY_* variables and --url/--locations, then --set overrides,
 * which win over everything (as Flyway's command line does).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"

extern char **environ;

int cli_exit_code(enum err_code c)
{
	switch (c) {
	case ERR_OK: return EXIT_OK;
	case ERR_USAGE: case ERR_IO: case ERR_READ_ONLY: return EXIT_USAGE;
	case ERR_NET: case ERR_AUTH: return EXIT_CONNECT;
	case ERR_LOCKED: return EXIT_LOCKED;
	default: return EXIT_FAILED;
	}
}

int cli_fail(const struct err *e)
{
	fprintf(stderr, "tarmac: %s\n", e->msg);
	return cli_exit_code(e->code);
}

/* FLYWAY_BASELINE_VERSION → baselineVersion; FLYWAY_PLACEHOLDERS_X → placeholders.x */
static void flyway_env_key(const char *var, struct buf *key)
{
	const char *p = var + strlen("FLYWAY_");
	if (!strncmp(p, "PLACEHOLDERS_", 13)) {
		buf_adds(key, "placeholders.");
		for (p += 13; *p; p++)
			buf_addc(key, (char)tolower((unsigned char)*p));
		return;
	}
	bool up = false;
	for (; *p; p++) {
		if (*p == '_') {
			up = true;
			continue;
		}
		buf_addc(key, (char)(up ? toupper((unsigned char)*p) : tolower((unsigned char)*p)));
		up = false;
	}
}

static enum err_code apply_flyway_env(struct eng_config *cfg, struct err *e)
{
	for (char **v = environ; *v; v++) {
		if (strncmp(*v, "FLYWAY_", 7) || !strchr(*v, '='))
			continue;
		struct buf name = BUF_INIT, key = BUF_INIT;
		const char *eq = strchr(*v, '=');
		buf_add(&name, *v, (size_t)(eq - *v));
		flyway_env_key(name.ptr, &key);
		enum err_code c = eng_config_set(cfg, key.ptr, eq + 1, true, e);
		if (c)
			err_prefix(e, "environment variable %s", name.ptr);
		buf_release(&name);
		buf_release(&key);
		if (c)
			return c;
	}
	return ERR_OK;
}

static enum err_code apply_options(struct eng_config *cfg, const struct cli_opts *o, struct err *e)
{
	const char *keys[] = { "url", "locations", "user", "table", "schemas" };
	const char *vals[] = { o->url, o->locations, o->user, o->table, o->schemas };
	for (size_t i = 0; i < 5; i++)
		if (vals[i] && eng_config_set(cfg, keys[i], vals[i], false, e))
			return ERR_USAGE;
	for (size_t i = 0; i < o->sets.len; i++) {
		const char *kv = o->sets.items[i], *eq = strchr(kv, '=');
		if (!eq)
			return err_set(e, ERR_USAGE, "--set %s: expected KEY=VALUE", kv);
		char *key = xstrndup(kv, (size_t)(eq - kv));
		enum err_code c = eng_config_set(cfg, key, eq + 1, false, e);
		free(key);
		if (c)
			return ERR_USAGE;
	}
	if (o->read_only)
		cfg->read_only = true;
	if (o->lock_retry_count != -2)
		cfg->lock_retry_count = o->lock_retry_count;
	return ERR_OK;
}

static enum err_code pick_config(struct cli_env *env, const struct cli_opts *o, struct err *e)
{
	const struct vec *dbs = &env->conf.databases;
	const char *name = o->db_name;
	if (!name && !o->url && dbs->len == 1)
		name = ((struct tui_db_conf *)dbs->items[0])->name;
	if (name) {
		struct tui_db_conf *d = tui_conf_find_db(&env->conf, name);
		if (!d) {
			struct buf known = BUF_INIT;
			for (size_t i = 0; i < dbs->len; i++)
				buf_addf(&known, "%s%s", i ? ", " : "", ((struct tui_db_conf *)dbs->items[i])->name);
			err_set(e, ERR_USAGE, "no database '%s' in %s (configured: %s)", name,
				env->conf.path ? env->conf.path : "any tarmac.conf", known.len ? known.ptr : "none");
			buf_release(&known);
			return ERR_USAGE;
		}
		env->cfg = &d->eng;
		env->name = d->name;
		env->db = d;
		return ERR_OK;
	}
	env->cfg = &env->own;
	env->name = "(command line)";
	return apply_flyway_env(&env->own, e);
}

enum err_code cli_env_open(struct cli_env *env, const struct cli_opts *o, bool connect,
			   struct err *e)
{
	memset(env, 0, sizeof *env);
	tui_conf_init(&env->conf);
	eng_config_init(&env->own);
	env->cfg = &env->own;
	eng_ctx_init(&env->ctx, env->cfg);
	/* Every problem up to here is one of configuration (exit 2). */
	enum err_code c = tui_conf_load(&env->conf, o->config_path, e);
	if (!c)
		c = pick_config(env, o, e);
	if (!c)
		c = apply_options(env->cfg, o, e);
	if (c && e)
		e->code = ERR_USAGE;
	if (c)
		return ERR_USAGE;
	eng_ctx_init(&env->ctx, env->cfg);
	if (!env->cfg->locations.len)
		return err_set(e, ERR_USAGE, "no migrations location for %s: give --locations or locations = in tarmac.conf", env->name);
	c = eng_ctx_add_locations(&env->ctx, true, e);
	if (!c)
		c = cli_env_add_s3_sources(env, e);
	if (!c && connect)
		c = cli_env_db_credentials(env, e);
	if (!c && connect)
		c = eng_ctx_connect(&env->ctx, o->read_only, e);
	return c;
}

void cli_env_close(struct cli_env *env)
{
	eng_ctx_release(&env->ctx);
	aws_ctx_free(env->aws);
	eng_config_release(&env->own);
	tui_conf_release(&env->conf);
}
