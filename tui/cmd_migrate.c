/*
 * cmd_migrate — `tarmac migrate`, `baseline`, `repair`, `checksum` and
 * `databases` in line mode. Progress arrives through the engine observer
 * and is printed as Flyway prints it; when a dry-run script goes to
 * stdout, everything else goes to stderr so the script stays clean.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/time.h"
#include "tui/cli.h"

struct progress {
	FILE *out;
	const char *schema;
};

static void on_event(const struct eng_event *ev, void *p)
{
	struct progress *pr = p;
	const struct eng_resolved *m = ev->res;
	switch (ev->kind) {
	case ENG_EV_MESSAGE:
		fprintf(pr->out, "%s\n", ev->text);
		break;
	case ENG_EV_MIGRATION_START:
		if (m->kind == ENG_KIND_REPEATABLE)
			fprintf(pr->out, "Migrating schema \"%s\" with repeatable migration \"%s\" (%zu of %zu)\n",
				pr->schema, m->description, ev->mig_index, ev->mig_total);
		else
			fprintf(pr->out, "Migrating schema \"%s\" to version \"%s%s%s\" (%zu of %zu)\n",
				pr->schema, m->version.text, *m->description ? " - " : "",
				m->description, ev->mig_index, ev->mig_total);
		break;
	case ENG_EV_REHEARSE_STATEMENT:
		fprintf(pr->out, "  %s line %-5ld %6lld ms  %s%.100s\n", m->script, ev->line,
			(long long)ev->elapsed_ms, ev->failed ? "FAILED: " : "",
			ev->text ? ev->text : "");
		break;
	case ENG_EV_MIGRATION_FAILED:
		fprintf(pr->out, "Migration of schema \"%s\" to %s failed!\n", pr->schema, m->script);
		break;
	default:
		break;
	}
}

static bool confirm_prod(const struct cli_env *env, const struct cli_opts *o)
{
	if (!env->cfg->environment || strcmp(env->cfg->environment, "prod") || o->yes)
		return true;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "tarmac: %s is a prod database: pass --yes to migrate it without a terminal\n", env->name);
		return false;
	}
	fprintf(stderr, "%s is a prod database. Type its name to migrate it: ", env->name);
	char line[256];
	if (!fgets(line, sizeof line, stdin))
		return false;
	line[strcspn(line, "\r\n")] = 0;
	return !strcmp(line, env->name);
}

static FILE *open_dry(const char *path, struct err *e)
{
	if (!path)
		return NULL;
	if (!strcmp(path, "-"))
		return stdout;
	FILE *f = fopen(path, "w");
	if (!f)
		err_set(e, ERR_IO, "cannot write %s: %s", path, strerror(errno));
	return f;
}

static void close_dry(FILE *f)
{
	if (f && f != stdout)
		fclose(f);
}

static void print_migrate_failure(const struct eng_migrate_result *r, const struct err *e)
{
	if (r->validate_messages.len) {
		fputs("ERROR: Validate failed: Migrations have failed validation\n", stderr);
		for (size_t i = 0; i < r->validate_messages.len; i++)
			fprintf(stderr, "%s\n", (char *)r->validate_messages.items[i]);
		return;
	}
	fprintf(stderr, "ERROR: %s\n", e->msg);
}

static void print_summary(const struct cli_env *env, const struct cli_opts *o,
			  const struct eng_migrate_result *r, long long ms, FILE *out)
{
	char t[32];
	cli_format_ms(ms, t, sizeof t);
	if (o->dry_run)
		fprintf(out, "Dry run: %zu migration%s would be applied to schema \"%s\" (script %s)\n",
			r->applied, r->applied == 1 ? "" : "s", env->ctx.schema,
			strcmp(o->dry_run, "-") ? o->dry_run : "on stdout");
	else if (o->rehearse)
		fprintf(out, "Rehearsed %zu migration%s on schema \"%s\" and rolled back (execution time %s)\n",
			r->applied, r->applied == 1 ? "" : "s", env->ctx.schema, t);
	else if (r->applied)
		fprintf(out, "Successfully applied %zu migration%s to schema \"%s\" (execution time %s)\n",
			r->applied, r->applied == 1 ? "" : "s", env->ctx.schema, t);
}

int cmd_migrate(struct cli_opts *o)
{
	struct cli_env env;
	struct err e = ERR_INIT;
	struct eng_migrate_result r = { 0 };
	enum err_code c = cli_env_open(&env, o, true, &e);
	FILE *dry = c ? NULL : open_dry(o->dry_run, &e);
	if (!c && o->dry_run && !dry)
		c = ERR_IO;
	if (!c && !o->dry_run && !o->rehearse && !confirm_prod(&env, o))
		c = err_set(&e, ERR_USAGE, "migrate of prod database %s not confirmed", env.name);
	struct progress pr = { dry == stdout ? stderr : stdout, env.ctx.schema };
	struct eng_observer obs = { on_event, &pr };
	env.ctx.obs = &obs;
	struct eng_migrate_options mo = {
		.target = o->target ? o->target : env.cfg->target,
		.out_of_order = o->out_of_order, .dry_run = dry, .rehearse = o->rehearse,
	};
	uint64_t t0 = time_mono_ns();
	int rc = EXIT_OK;
	if (!c) {
		c = eng_migrate(&env.ctx, &mo, &r, &e);
		if (!c)
			print_summary(&env, o, &r, time_ms_between(t0, time_mono_ns()), pr.out);
		else
			print_migrate_failure(&r, &e);
		rc = cli_exit_code(c);
	} else {
		rc = cli_fail(&e);
	}
	close_dry(dry);
	eng_migrate_result_release(&r);
	cli_env_close(&env);
	return rc;
}

int cmd_baseline(struct cli_opts *o)
{
	struct cli_env env;
	struct err e = ERR_INIT;
	enum err_code c = cli_env_open(&env, o, true, &e);
	if (!c && o->suggest)
		c = err_set(&e, ERR_USAGE, "baseline --suggest is not available yet: give --version");
	FILE *dry = c ? NULL : open_dry(o->dry_run, &e);
	if (!c && o->dry_run && !dry)
		c = ERR_IO;
	struct eng_baseline_options bo = { o->version, o->description, dry };
	if (!c)
		c = eng_baseline(&env.ctx, &bo, &e);
	if (!c && !dry)
		printf("Successfully baselined schema \"%s\" with version: %s\n", env.ctx.schema,
		       o->version ? o->version : env.cfg->baseline_version);
	close_dry(dry);
	cli_env_close(&env);
	return c ? cli_fail(&e) : EXIT_OK;
}

int cmd_repair(struct cli_opts *o)
{
	struct cli_env env;
	struct err e = ERR_INIT;
	size_t changes = 0;
	enum err_code c = cli_env_open(&env, o, true, &e);
	FILE *dry = c ? NULL : open_dry(o->dry_run, &e);
	if (!c && o->dry_run && !dry)
		c = ERR_IO;
	if (!c)
		c = eng_repair(&env.ctx, dry, &changes, &e);
	if (!c)
		fprintf(dry == stdout ? stderr : stdout, "%s schema history table %s (%zu change%s)\n",
			dry ? "Dry run: would repair" : "Successfully repaired", env.ctx.table_q,
			changes, changes == 1 ? "" : "s");
	close_dry(dry);
	cli_env_close(&env);
	return c ? cli_fail(&e) : EXIT_OK;
}

int cmd_checksum(struct cli_opts *o)
{
	if (!o->argc) {
		fputs("usage: tarmac checksum FILE...\n", stderr);
		return EXIT_USAGE;
	}
	struct eng_config cfg;
	eng_config_init(&cfg);
	int rc = EXIT_OK;
	for (int i = 0; i < o->argc; i++) {
		struct err e = ERR_INIT;
		int32_t sum;
		if (eng_checksum_file(o->argv[i], &cfg, &sum, &e)) {
			rc = cli_fail(&e);
			continue;
		}
		printf("%d  %s\n", sum, o->argv[i]);
	}
	eng_config_release(&cfg);
	return rc;
}

int cmd_databases(struct cli_opts *o)
{
	struct tui_conf conf;
	struct err e = ERR_INIT;
	tui_conf_init(&conf);
	enum err_code c = tui_conf_load(&conf, o->config_path, &e);
	for (size_t i = 0; !c && i < conf.databases.len; i++) {
		const struct tui_db_conf *d = conf.databases.items[i];
		struct db_target t;
		char *shown = NULL;
		if (db_target_parse(d->eng.url, &t, NULL) == ERR_OK) {
			shown = db_target_display(&t);
			db_target_release(&t);
		}
		printf("%-16s %-8s %s\n", d->name, d->eng.environment ? d->eng.environment : "",
		       shown ? shown : "(invalid url)");
		free(shown);
	}
	tui_conf_release(&conf);
	return c ? cli_fail(&e) : EXIT_OK;
}
