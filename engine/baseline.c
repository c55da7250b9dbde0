/*
 * baseline — Flyway's baseline (spec §7.1): a history table created with
 * its rank-1 BASELINE row, or that row added to an existing table that has
 * only markers; Flyway's refusals word for word otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/history.h"

#define RESET_URL "https://rd.gt/3Cg7ao1"

static enum err_code check_existing(struct eng_ctx *ctx, const struct vec *rows,
				    const char *version, const char *desc, bool *skip,
				    struct err *e)
{
	*skip = false;
	struct eng_version want;
	if (eng_version_parse(version, &want, e))
		return ERR_USAGE;
	enum err_code c = ERR_OK;
	bool schema_marker = false, real = false;
	for (size_t i = 0; !c && i < rows->len; i++) {
		const struct eng_applied *a = rows->items[i];
		schema_marker |= !strcmp(a->type, "SCHEMA");
		real |= strcmp(a->type, "SCHEMA") && strcmp(a->type, "BASELINE") && strcmp(a->type, "DELETE");
		if (strcmp(a->type, "BASELINE") || a->installed_rank > 2)
			continue;
		if (a->version_text && !eng_version_cmp(&a->version, &want) && !strcmp(a->description, desc))
			*skip = true;
		else
			c = err_set(e, ERR_VALIDATE,
				    "Unable to baseline schema history table %s with (%s,%s) as it has already been baselined with (%s,%s)\nNeed to reset your baseline? Learn more: " RESET_URL,
				    ctx->table_q, version, desc, a->version_text ? a->version_text : "null", a->description);
	}
	if (!c && !*skip) {
		struct eng_version zero;
		eng_version_parse("0", &zero, NULL);
		if (schema_marker && !eng_version_cmp(&want, &zero))
			c = err_set(e, ERR_VALIDATE, "Unable to baseline schema history table %s with version 0 as this version was used for schema creation", ctx->table_q);
		else if (real)
			c = err_set(e, ERR_VALIDATE, "Unable to baseline schema history table %s as it already contains migrations\nNeed to reset your baseline? Learn more: " RESET_URL, ctx->table_q);
		else if (!rows->len)
			c = err_set(e, ERR_VALIDATE, "Unable to baseline schema history table %s as it already exists, and is empty.\nDelete the schema history table, and run baseline again.", ctx->table_q);
		eng_version_release(&zero);
	}
	eng_version_release(&want);
	return c;
}

static enum err_code write_all(struct eng_ctx *ctx, struct vec *stmts, const struct hist_row *row,
			       FILE *dry, struct err *e)
{
	bool pg = db_dialect(ctx->db) == DB_PG;
	if (dry) {
		for (size_t i = 0; i < stmts->len; i++)
			fprintf(dry, "%s;\n", (char *)stmts->items[i]);
		struct buf b = BUF_INIT;
		hist_insert_literal(ctx, row, &b);
		fprintf(dry, "%s;\n", b.ptr);
		buf_release(&b);
		return ERR_OK;
	}
	enum err_code c = pg ? db_exec(ctx->db, "BEGIN", 0, NULL, NULL, e) : ERR_OK;
	for (size_t i = 0; !c && i < stmts->len; i++)
		c = db_exec(ctx->db, stmts->items[i], 0, NULL, NULL, e);
	if (!c)
		c = hist_insert(ctx, row, e);
	if (pg)
		db_exec(ctx->db, c ? "ROLLBACK" : "COMMIT", 0, NULL, NULL, c ? NULL : e);
	return c;
}

static enum err_code write_schema_marker(struct eng_ctx *ctx, FILE *dry, struct err *e)
{
	struct buf script = BUF_INIT;
	db_quote_ident(db_dialect(ctx->db), &script, ctx->schema);
	struct hist_row row = {
		.rank = 2, .description = "<< Flyway Schema Creation >>", .type = "SCHEMA",
		.script = script.ptr, .installed_by = ctx->user, .success = true,
	};
	enum err_code c = ERR_OK;
	if (dry) {
		struct buf b = BUF_INIT;
		hist_insert_literal(ctx, &row, &b);
		fprintf(dry, "%s;\n", b.ptr);
		buf_release(&b);
	} else {
		c = hist_insert(ctx, &row, e);
	}
	buf_release(&script);
	return c;
}

enum err_code eng_baseline(struct eng_ctx *ctx, const struct eng_baseline_options *o,
			   struct err *e)
{
	const struct eng_config *cfg = ctx->cfg;
	const char *version = o->version ? o->version : cfg->baseline_version;
	char *desc = eng_abbreviate_description(o->description ? o->description : cfg->baseline_description);
	if (!o->dry_run && cfg->read_only) {
		free(desc);
		return err_set(e, ERR_READ_ONLY, "baseline refused: the database is read-only here");
	}
	enum err_code c = o->dry_run ? ERR_OK : lock_acquire(ctx, e);
	bool locked = !c && !o->dry_run, exists = false, skip = false;
	struct vec rows = VEC_INIT, stmts = VEC_INIT;
	if (!c)
		c = eng_history_read(ctx, &rows, &exists, e);
	if (!c && exists)
		c = check_existing(ctx, &rows, version, desc, &skip, e);
	bool schema_exists = true, empty = true;
	if (!c && !exists)
		c = hist_schema_state(ctx, &schema_exists, &empty, e);
	if (!c && !exists && !schema_exists) {
		if (!cfg->create_schemas)
			c = err_set(e, ERR_VALIDATE, "Schema \"%s\" doesn't exist yet and createSchemas is false", ctx->schema);
		struct buf b = BUF_INIT;
		buf_adds(&b, db_dialect(ctx->db) == DB_PG ? "CREATE SCHEMA " : "CREATE DATABASE ");
		db_quote_ident(db_dialect(ctx->db), &b, ctx->schema);
		vec_push(&stmts, buf_detach(&b, NULL));
	}
	if (!c && !exists)
		hist_create_sql(ctx, &stmts);
	struct hist_row row = {
		.rank = exists ? hist_next_rank(&rows, false) : 1, .version = version,
		.description = desc, .type = "BASELINE", .script = desc,
		.installed_by = ctx->user, .success = true,
	};
	if (!c && !skip)
		c = write_all(ctx, &stmts, &row, o->dry_run, e);
	/* Flyway: a schema created by baseline gets its marker after the row. */
	if (!c && !skip && !schema_exists)
		c = write_schema_marker(ctx, o->dry_run, e);
	if (locked)
		lock_release(ctx);
	vec_free_strs(&stmts);
	vec_release(&rows, eng_applied_free);
	free(desc);
	return c;
}
