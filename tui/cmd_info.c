/*
 * cmd_info — `tarmac info` and `tarmac validate`: Flyway's table (plus the
 * local checksum) or one JSON document, and Flyway's validate messages.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"

static void note_invalid_names(const struct eng_resolved_set *files)
{
	if (files->invalid_names)
		fprintf(stderr,
			"%zu SQL migrations were detected but not run because they did not follow the filename convention.\n"
			"Set 'validateMigrationNaming' to true to fail fast and see a list of the invalid file names.\n",
			files->invalid_names);
}

static void checksum_text(const struct eng_info *i, char *local, char *applied)
{
	local[0] = applied[0] = 0;
	if (i->res)
		snprintf(local, 16, "%d", i->res->checksum);
	if (i->app && i->app->has_checksum)
		snprintf(applied, 16, "%d", i->app->checksum);
}

static void print_table(const struct eng_ctx *ctx, const struct eng_plan *plan)
{
	printf("Schema version: %s\n", plan->current.text ? plan->current.text : "<< Empty Schema >>");
	if (!plan->rows.len) {
		printf("No migrations found\n");
		return;
	}
	static const char *const head[] = { "Category", "Version", "Description", "Type",
					    "Installed On", "State", "Checksum" };
	struct cli_table t;
	cli_table_init(&t, 7, head);
	for (size_t k = 0; k < plan->rows.len; k++) {
		const struct eng_info *i = plan->rows.items[k];
		char local[16], applied[16], sum[48];
		checksum_text(i, local, applied);
		if (*local && *applied && strcmp(local, applied))
			snprintf(sum, sizeof sum, "%s (applied %s)", local, applied);
		else
			snprintf(sum, sizeof sum, "%s", *local ? local : applied);
		const char *cells[] = { eng_info_category(i), eng_info_version(i),
			eng_info_description(i), eng_info_type(i),
			i->app ? i->app->installed_on : "", eng_state_name(i->state), sum };
		cli_table_add(&t, cells);
	}
	cli_table_print(&t, stdout);
	cli_table_release(&t);
	(void)ctx;
}

static cJSON *info_json(const struct eng_info *i)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "category", eng_info_category(i));
	cJSON_AddStringToObject(m, "version", eng_info_version(i));
	cJSON_AddStringToObject(m, "description", eng_info_description(i));
	cJSON_AddStringToObject(m, "type", eng_info_type(i));
	cJSON_AddStringToObject(m, "script", i->app ? i->app->script : i->res->script);
	if (i->res)
		cJSON_AddNumberToObject(m, "checksum", i->res->checksum);
	else
		cJSON_AddNullToObject(m, "checksum");
	if (i->app && i->app->has_checksum)
		cJSON_AddNumberToObject(m, "appliedChecksum", i->app->checksum);
	else
		cJSON_AddNullToObject(m, "appliedChecksum");
	cJSON_AddStringToObject(m, "installedOn", i->app ? i->app->installed_on : "");
	cJSON_AddStringToObject(m, "installedBy", i->app ? i->app->installed_by : "");
	if (i->app)
		cJSON_AddNumberToObject(m, "installedRank", i->app->installed_rank);
	cJSON_AddNumberToObject(m, "executionTime", i->app ? i->app->execution_time : 0);
	cJSON_AddStringToObject(m, "state", eng_state_name(i->state));
	return m;
}

static void print_json(struct cli_env *env, const struct eng_plan *plan,
		       const struct eng_resolved_set *files)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "database", env->name);
	cJSON_AddStringToObject(root, "schemaName", env->ctx.schema);
	cJSON_AddStringToObject(root, "schemaVersion", plan->current.text ? plan->current.text : "");
	cJSON_AddStringToObject(root, "flywayVersion", "tarmac");
	cJSON_AddNumberToObject(root, "invalidNames", (double)files->invalid_names);
	cJSON *arr = cJSON_AddArrayToObject(root, "migrations");
	for (size_t k = 0; k < plan->rows.len; k++)
		cJSON_AddItemToArray(arr, info_json(plan->rows.items[k]));
	cJSON_AddStringToObject(root, "operation", "info");
	char *s = cJSON_Print(root);
	puts(s);
	free(s);
	cJSON_Delete(root);
}

int cmd_info(struct cli_opts *o)
{
	struct cli_env env;
	struct err e = ERR_INIT;
	struct eng_resolved_set files = { 0 };
	struct vec applied = VEC_INIT;
	struct eng_plan plan = { 0 };
	enum err_code c = cli_env_open(&env, o, true, &e);
	struct eng_plan_options po = { o->target ? o->target : env.cfg->target,
				       o->out_of_order || env.cfg->out_of_order };
	if (!c)
		c = eng_info(&env.ctx, &po, &files, &applied, &plan, &e);
	if (!c) {
		note_invalid_names(&files);
		if (o->json)
			print_json(&env, &plan, &files);
		else
			print_table(&env.ctx, &plan);
	}
	eng_plan_release(&plan);
	vec_release(&applied, eng_applied_free);
	eng_resolved_set_release(&files);
	cli_env_close(&env);
	return c ? cli_fail(&e) : EXIT_OK;
}

static void validate_json(const struct vec *msgs, size_t count, bool ok)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddBoolToObject(root, "validationSuccessful", ok);
	cJSON_AddNumberToObject(root, "validateCount", (double)count);
	cJSON *arr = cJSON_AddArrayToObject(root, "invalidMigrations");
	for (size_t i = 0; i < msgs->len; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(msgs->items[i]));
	cJSON_AddStringToObject(root, "operation", "validate");
	char *s = cJSON_Print(root);
	puts(s);
	free(s);
	cJSON_Delete(root);
}

int cmd_validate(struct cli_opts *o)
{
	struct cli_env env;
	struct err e = ERR_INIT;
	struct eng_resolved_set files = { 0 };
	struct vec applied = VEC_INIT, msgs = VEC_INIT;
	struct eng_plan plan = { 0 };
	enum err_code c = cli_env_open(&env, o, true, &e);
	struct eng_plan_options po = { env.cfg->target, env.cfg->out_of_order };
	if (!c)
		c = eng_info(&env.ctx, &po, &files, &applied, &plan, &e);
	enum err_code v = c ? c : eng_validate_plan(&plan, &env.cfg->ignore_patterns, false, &msgs, &e);
	size_t count = 0;
	for (size_t k = 0; k < plan.rows.len; k++)
		count += ((struct eng_info *)plan.rows.items[k])->res != NULL;
	int rc = EXIT_OK;
	if (c) {
		rc = cli_fail(&e);
	} else if (o->json) {
		validate_json(&msgs, count, !v);
		rc = v ? EXIT_FAILED : EXIT_OK;
	} else if (v) {
		fputs("ERROR: Validate failed: Migrations have failed validation\n", stderr);
		for (size_t i = 0; i < msgs.len; i++)
			fprintf(stderr, "%s\n", (char *)msgs.items[i]);
		rc = EXIT_FAILED;
	} else {
		printf("Successfully validated %zu migration%s\n", count, count == 1 ? "" : "s");
		if (!count)
			printf("WARNING: No migrations found. Are your locations set up correctly?\n");
	}
	vec_free_strs(&msgs);
	eng_plan_release(&plan);
	vec_release(&applied, eng_applied_free);
	eng_resolved_set_release(&files);
	cli_env_close(&env);
	return rc;
}
