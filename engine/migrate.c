/*
 * migrate — the migrate command: lock, make sure the schema and history
 * table exist, re-read history under the lock, validate (Flyway adds
 * *:pending), then apply every pending migration in order. The same walk
 * produces the dry-run script (touching nothing) and the rehearsal
 * (everything in one transaction that is rolled back).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "engine/migrate.h"

void eng_migrate_result_release(struct eng_migrate_result *r)
{
	free(r->failed_script);
	free(r->failed_statement);
	vec_free_strs(&r->validate_messages);
	memset(r, 0, sizeof *r);
}

static void message(struct eng_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void message(struct eng_ctx *ctx, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	struct eng_event ev = { .kind = ENG_EV_MESSAGE, .text = b.ptr };
	mig_emit(ctx, &ev);
	buf_release(&b);
}

/* Appends the row just written so the next rank follows it. */
static void remember(struct mig_run *run, const struct hist_row *row)
{
	struct eng_applied *a = xcalloc(1, sizeof *a);
	a->installed_rank = row->rank;
	a->version_text = xstrdup_or_null(row->version);
	if (a->version_text)
		eng_version_parse(a->version_text, &a->version, NULL);
	a->description = xstrdup(row->description);
	a->type = xstrdup(row->type);
	a->script = xstrdup(row->script);
	a->has_checksum = row->has_checksum;
	a->checksum = row->checksum;
	a->installed_on = xstrdup("");
	a->installed_by = xstrdup(row->installed_by);
	a->execution_time = row->execution_time;
	a->success = row->success;
	vec_push(&run->applied, a);
}

static void remember_migration(struct mig_run *run, const struct eng_resolved *m)
{
	struct hist_row row;
	mig_row(run, m, 0, true, &row);
	remember(run, &row);
	mig_row_release(&row);
}

static enum err_code exec_all(struct eng_ctx *ctx, const struct vec *stmts, struct err *e)
{
	for (size_t i = 0; i < stmts->len; i++) {
		enum err_code c = db_exec(ctx->db, stmts->items[i], 0, NULL, NULL, e);
		if (c)
			return c;
	}
	return ERR_OK;
}

/* The statements that create the schema (when missing) and the history
 * table, with the SCHEMA marker or baseline row; run or scripted. */
static enum err_code prepare_history(struct mig_run *run, struct buf *script, bool *existed,
				     struct err *e)
{
	struct eng_ctx *ctx = run->ctx;
	const struct eng_config *cfg = ctx->cfg;
	bool exists = false, schema_exists = false, empty = true;
	enum err_code c = hist_exists(ctx, &exists, e);
	*existed = exists;
	if (!c && !exists)
		c = hist_schema_state(ctx, &schema_exists, &empty, e);
	if (c || exists)
		return c;
	if (schema_exists && !empty && !cfg->baseline_on_migrate)
		return err_set(e, ERR_VALIDATE,
			       "Found non-empty schema(s) \"%s\" but no schema history table. Use baseline() or set baselineOnMigrate to true to initialize the schema history table.",
			       ctx->schema);
	struct vec stmts = VEC_INIT;
	struct buf b = BUF_INIT;
	if (!schema_exists) {
		if (!cfg->create_schemas)
			return err_set(e, ERR_VALIDATE, "Schema \"%s\" doesn't exist yet and createSchemas is false", ctx->schema);
		buf_adds(&b, run->pg ? "CREATE SCHEMA " : "CREATE DATABASE ");
		db_quote_ident(db_dialect(ctx->db), &b, ctx->schema);
		vec_push(&stmts, buf_detach(&b, NULL));
	}
	hist_create_sql(ctx, &stmts);
	struct hist_row row = {
		.rank = 1, .installed_by = ctx->user, .success = true,
	};
	char *desc = eng_abbreviate_description(cfg->baseline_description);
	bool marker = !schema_exists, baseline = !marker && cfg->baseline_on_migrate;
	if (marker) {
		db_quote_ident(db_dialect(ctx->db), &b, ctx->schema);
		row = (struct hist_row){ .rank = 0, .description = "<< Flyway Schema Creation >>",
			.type = "SCHEMA", .script = b.ptr, .installed_by = ctx->user, .success = true };
	} else if (baseline) {
		row = (struct hist_row){ .rank = 1, .version = cfg->baseline_version,
			.description = desc, .type = "BASELINE", .script = desc,
			.installed_by = ctx->user, .success = true };
	}
	if (script) {
		for (size_t i = 0; i < stmts.len; i++)
			buf_addf(script, "%s;\n", (char *)stmts.items[i]);
		if (marker || baseline) {
			hist_insert_literal(ctx, &row, script);
			buf_adds(script, ";\n");
		}
		buf_adds(script, "\n");
	} else {
		c = run->pg ? db_exec(ctx->db, "BEGIN", 0, NULL, NULL, e) : ERR_OK;
		if (!c)
			c = exec_all(ctx, &stmts, e);
		if (!c && (marker || baseline))
			c = hist_insert(ctx, &row, e);
		if (!c && run->pg)
			c = db_exec(ctx->db, "COMMIT", 0, NULL, NULL, e);
		if (c && run->pg)
			db_exec(ctx->db, "ROLLBACK", 0, NULL, NULL, NULL);
		if (!c)
			message(ctx, "Creating Schema History table %s ...", ctx->table_q);
	}
	if (!c && (marker || baseline))
		remember(run, &row);
	free(desc);
	buf_release(&b);
	vec_free_strs(&stmts);
	return c;
}

/*
 * Flyway runs migrations with the history schema first on the search path
 * (PostgreSQL: "<schema>",<original path>, unless the path already starts
 * with it) and as the current database on MariaDB (setCatalog).
 */
static enum err_code session_for_schema(struct eng_ctx *ctx, struct err *e)
{
	if (db_dialect(ctx->db) == DB_MY) {
		if (ctx->database && !strcmp(ctx->database, ctx->schema))
			return ERR_OK;
		struct buf b = BUF_INIT;
		buf_adds(&b, "USE ");
		db_quote_ident(DB_MY, &b, ctx->schema);
		enum err_code c = db_exec(ctx->db, b.ptr, 0, NULL, NULL, e);
		buf_release(&b);
		return c;
	}
	const char *orig = ctx->search_path ? ctx->search_path : "";
	size_t n = strlen(ctx->schema);
	const char *first = *orig == '"' ? orig + 1 : orig;
	if (!strncmp(first, ctx->schema, n) && strchr(",\"", first[n]) && first[n])
		return ERR_OK;
	if (!strcmp(orig, ctx->schema))
		return ERR_OK;
	struct buf path = BUF_INIT;
	db_quote_ident(DB_PG, &path, ctx->schema);
	if (*orig)
		buf_addf(&path, ",%s", orig);
	const char *p[1] = { path.ptr };
	enum err_code c = db_exec(ctx->db, "SELECT set_config('search_path', $1, false)", 1, p, NULL, e);
	buf_release(&path);
	return c;
}

/* The pending migrations, in the order Flyway applies them. */
static void collect_pending(const struct eng_plan *plan, struct vec *out)
{
	for (size_t i = 0; i < plan->rows.len; i++) {
		const struct eng_info *r = plan->rows.items[i];
		if (r->state == ENG_STATE_PENDING && !r->app)
			vec_push(out, (void *)(uintptr_t)r->res);
	}
}

static enum err_code check_plan(struct mig_run *run, const struct eng_plan *plan, struct err *e)
{
	const struct eng_config *cfg = run->ctx->cfg;
	if (cfg->validate_on_migrate) {
		enum err_code c = eng_validate_plan(plan, &cfg->ignore_patterns, true,
						    &run->res->validate_messages, e);
		if (c)
			return c;
	}
	for (size_t i = 0; i < plan->rows.len; i++) {
		const struct eng_info *r = plan->rows.items[i];
		if (r->state == ENG_STATE_FAILED)
			return err_set(e, ERR_VALIDATE,
				       "Schema \"%s\" contains a failed migration to version %s! Run repair first.",
				       run->ctx->schema, eng_info_version(r));
	}
	return ERR_OK;
}

static enum err_code apply_one(struct mig_run *run, struct eng_resolved *m,
			       struct buf *script, struct err *e)
{
	struct eng_ctx *ctx = run->ctx;
	struct eng_event ev = { .kind = ENG_EV_MIGRATION_START, .res = m,
		.mig_index = run->index, .mig_total = run->total };
	mig_emit(ctx, &ev);
	if (script)
		return mig_script(run, m, script, e);
	if (run->o->rehearse)
		return mig_rehearse(run, m, e);
	struct mig_shape shape;
	uint64_t t0 = time_mono_ns();
	enum err_code c = mig_shape_of(run, m, &shape, e);
	if (!c)
		c = mig_apply(run, m, &shape, e);
	ev.kind = c ? ENG_EV_MIGRATION_FAILED : ENG_EV_MIGRATION_DONE;
	ev.elapsed_ms = time_ms_between(t0, time_mono_ns());
	ev.text = c && e ? e->msg : NULL;
	ev.stmt_total = shape.statements;
	mig_emit(ctx, &ev);
	if (c && !run->res->failed_script)
		run->res->failed_script = xstrdup(m->script);
	return c;
}

static enum err_code apply_all(struct mig_run *run, const struct vec *pending, struct buf *script,
			       struct err *e)
{
	enum err_code c = ERR_OK;
	run->total = pending->len;
	for (size_t i = 0; !c && i < pending->len; i++) {
		struct eng_resolved *m = pending->items[i];
		run->index = i + 1;
		if (atomic_load(&run->ctx->cancel))
			return err_set(e, ERR_CANCELLED, "migrate cancelled before %s", m->script);
		c = apply_one(run, m, script, e);
		if (!c) {
			remember_migration(run, m);
			run->res->applied++;
		}
	}
	return c;
}

static void script_header(struct mig_run *run, struct buf *s)
{
	struct eng_ctx *ctx = run->ctx;
	buf_addf(s, "---====================================\n-- Flyway Dry Run (%s)\n"
		 "---====================================\n\n", run->ph_store.timestamp);
	buf_addf(s, "-- tarmac dry run for %s, schema history %s\n", db_server_version(ctx->db),
		 ctx->table_q);
	if (run->pg) {
		buf_adds(s, "SET search_path = ");
		db_quote_ident(DB_PG, s, ctx->schema);
		buf_adds(s, ";\n\n");
	} else {
		buf_adds(s, "USE ");
		db_quote_ident(DB_MY, s, ctx->schema);
		buf_adds(s, ";\n\n");
	}
}

/*
 * The plan, with checksums read only where validation needs them: files
 * that have a history row. Pending files get theirs while migrate reads
 * them anyway, so a large pending file is read twice, not three times.
 */
static enum err_code plan_with_checksums(struct mig_run *run, struct eng_resolved_set *files,
					 const struct eng_plan_options *po, struct eng_plan *plan,
					 struct err *e)
{
	enum err_code c = eng_plan_build(files, &run->applied, po, plan, e);
	bool missing = false;
	for (size_t i = 0; !c && i < plan->rows.len; i++) {
		const struct eng_info *r = plan->rows.items[i];
		if (r->app && r->res && !r->res->has_checksum) {
			c = eng_resolved_checksum(run->ctx, (struct eng_resolved *)(uintptr_t)r->res,
						  &run->ph, e);
			missing = true;
		}
	}
	if (c || !missing)
		return c;
	eng_plan_release(plan);  /* states such as Outdated depend on the checksums */
	return eng_plan_build(files, &run->applied, po, plan, e);
}

static enum err_code migrate_locked(struct mig_run *run, struct buf *script,
				    struct eng_resolved_set *files, struct err *e)
{
	struct eng_plan plan;
	struct vec pending = VEC_INIT;
	bool existed = false;
	enum err_code c = prepare_history(run, script, &existed, e);
	if (!c && (existed || !script))
		c = hist_read(run->ctx, hist_next_rank(&run->applied, true) - 1, &run->applied, e);
	struct eng_plan_options po = { run->o->target, run->o->out_of_order || run->ctx->cfg->out_of_order };
	if (!c)
		c = plan_with_checksums(run, files, &po, &plan, e);
	if (c)
		return c;
	c = check_plan(run, &plan, e);
	collect_pending(&plan, &pending);
	run->res->pending = pending.len;
	if (!c && !pending.len)
		message(run->ctx, "Schema %s is up to date. No migration necessary.", run->ctx->schema);
	if (!c && pending.len && !script)
		c = session_for_schema(run->ctx, e);
	if (!c && run->o->rehearse)
		c = db_exec(run->ctx->db, "BEGIN", 0, NULL, NULL, e);
	if (!c && run->o->rehearse) {
		char sql[96];
		snprintf(sql, sizeof sql, "SET LOCAL lock_timeout = %d",
			 run->o->rehearse_lock_timeout_ms ? run->o->rehearse_lock_timeout_ms : 5000);
		c = db_exec(run->ctx->db, sql, 0, NULL, NULL, e);
	}
	if (!c)
		c = apply_all(run, &pending, script, e);
	if (run->o->rehearse)
		db_exec(run->ctx->db, "ROLLBACK", 0, NULL, NULL, NULL);
	vec_release(&pending, NULL);
	eng_plan_release(&plan);
	return c;
}

/*
 * PostgreSQL: every migration's commit waits for its WAL flush, which on
 * 1,000 small files costs more than the migrations themselves. Commits are
 * asynchronous during the run and the run ends with one synchronous commit,
 * which flushes all WAL before it: each migration stays atomic with its
 * history row, and everything reported applied is durable before tarmac
 * reports it (a crash mid-run loses whole migrations, never half of one).
 */
static void commit_mode_fast(struct mig_run *run)
{
	if (run->pg)
		db_exec(run->ctx->db, "SET synchronous_commit = off", 0, NULL, NULL, NULL);
}

static enum err_code durability_barrier(struct mig_run *run, struct err *e)
{
	if (!run->pg)
		return ERR_OK;
	static const char *const sqls[] = {
		"SET synchronous_commit TO DEFAULT", "BEGIN", "SELECT txid_current()", "COMMIT",
	};
	long failed = -1;
	return db_exec_batch(run->ctx->db, sqls, 4, &failed, e);
}

enum err_code eng_migrate(struct eng_ctx *ctx, const struct eng_migrate_options *o,
			  struct eng_migrate_result *res, struct err *e)
{
	memset(res, 0, sizeof *res);
	bool writes = !o->dry_run && !o->rehearse;
	if (writes && ctx->cfg->read_only)
		return err_set(e, ERR_READ_ONLY, "migrate refused: the database %s is read-only here", ctx->schema);
	if (o->rehearse && db_dialect(ctx->db) != DB_PG)
		return err_set(e, ERR_USAGE, "--rehearse needs PostgreSQL: MariaDB cannot roll back DDL");
	struct mig_run run = { .ctx = ctx, .o = o, .res = res, .pg = db_dialect(ctx->db) == DB_PG };
	eng_ph_values_fill(ctx, &run.ph, &run.ph_store);
	struct eng_resolved_set files;
	enum err_code c = eng_resolve_files(ctx, false, &files, e);
	if (c)
		return c;
	struct buf script = BUF_INIT;
	if (o->dry_run)
		script_header(&run, &script);
	c = writes ? lock_acquire(ctx, e) : ERR_OK;
	if (!c) {
		if (writes)
			commit_mode_fast(&run);
		c = migrate_locked(&run, o->dry_run ? &script : NULL, &files, e);
		struct err e2 = ERR_INIT;
		if (writes && durability_barrier(&run, &e2) && !c)
			c = err_set(e, ERR_DB, "cannot confirm the migrations are on disk: %s", e2.msg);
		if (writes)
			lock_release(ctx);
	}
	if (!c && o->dry_run && fwrite(script.ptr, 1, script.len, o->dry_run) != script.len)
		c = err_set(e, ERR_IO, "cannot write the dry-run script");
	buf_release(&script);
	vec_release(&run.applied, eng_applied_free);
	eng_resolved_set_release(&files);
	return c;
}
