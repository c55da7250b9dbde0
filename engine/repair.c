/*
 * repair — Flyway's repair (spec §7.2), in one transaction on PostgreSQL:
 * delete failed rows, mark applied migrations without a file as deleted
 * (a DELETE row; ignore patterns respected, so future rows stay by
 * default), and realign checksum/description/type with the files.
 * The script column is never touched. Dry-run prints the statements with
 * their values instead.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/history.h"

struct repair {
	struct eng_ctx *ctx;
	FILE *dry;
	size_t changes;
	struct vec applied;      /* rows as read, plus DELETE rows added */
};

static bool is_synthetic(const char *t)
{
	return !strcmp(t, "SCHEMA") || !strcmp(t, "BASELINE") || !strcmp(t, "DELETE");
}

/* Runs (or prints) one statement whose values are given as text. */
static enum err_code run_stmt(struct repair *rp, const char *sql_params, const char *sql_literal,
			      int n, const char *const *vals, struct err *e)
{
	rp->changes++;
	if (rp->dry) {
		fprintf(rp->dry, "%s;\n", sql_literal);
		return ERR_OK;
	}
	return db_exec(rp->ctx->db, sql_params, n, vals, NULL, e);
}

static enum err_code delete_failed(struct repair *rp, const struct eng_applied *a, struct err *e)
{
	struct eng_ctx *ctx = rp->ctx;
	bool pg = db_dialect(ctx->db) == DB_PG;
	const char *col = a->version_text ? "version" : "description";
	const char *val = a->version_text ? a->version_text : a->description;
	struct buf head = BUF_INIT, p = BUF_INIT, l = BUF_INIT;
	buf_addf(&head, "DELETE FROM %s WHERE ", ctx->table_q);
	db_quote_ident(db_dialect(ctx->db), &head, "success");
	buf_addf(&head, " = %s AND ", pg ? "FALSE" : "0");
	db_quote_ident(db_dialect(ctx->db), &head, col);
	buf_addf(&p, "%s = %s", head.ptr, db_param(ctx->db, 1));
	buf_addf(&l, "%s = ", head.ptr);
	db_quote_literal(db_dialect(ctx->db), &l, val);
	const char *vals[1] = { val };
	enum err_code c = run_stmt(rp, p.ptr, l.ptr, 1, vals, e);
	buf_release(&head);
	buf_release(&p);
	buf_release(&l);
	return c;
}

static enum err_code mark_deleted(struct repair *rp, const struct eng_applied *a, struct err *e)
{
	struct hist_row row;
	hist_row_from_applied(&row, a);
	row.type = "DELETE";
	row.execution_time = 0;
	row.installed_by = rp->ctx->user;
	row.rank = hist_next_rank(&rp->applied, false);
	struct buf lit = BUF_INIT;
	hist_insert_literal(rp->ctx, &row, &lit);
	rp->changes++;
	enum err_code c = ERR_OK;
	if (rp->dry)
		fprintf(rp->dry, "%s;\n", lit.ptr);
	else
		c = hist_insert(rp->ctx, &row, e);
	buf_release(&lit);
	if (!c) {
		struct eng_applied *d = xcalloc(1, sizeof *d);
		d->installed_rank = row.rank;
		d->type = xstrdup("DELETE");
		vec_push(&rp->applied, d);
	}
	return c;
}

static enum err_code realign(struct repair *rp, const struct eng_info *i, struct err *e)
{
	const struct eng_applied *a = i->app;
	const struct eng_resolved *r = i->res;
	struct eng_ctx *ctx = rp->ctx;
	enum db_dialect d = db_dialect(ctx->db);
	char *desc = eng_abbreviate_description(r->description);
	const char *type = is_synthetic(a->type) ? a->type : r->type;
	bool sum_ok = !a->has_checksum || a->checksum == r->checksum;
	bool rep = !a->version_text;
	/* repeatables: only when the row holds the raw (pre-placeholder) checksum */
	bool fix = rep ? (r->has_equivalent && a->has_checksum && a->checksum == r->equivalent_checksum &&
			  a->checksum != r->checksum)
		       : (!sum_ok && !(r->has_equivalent && a->checksum == r->equivalent_checksum)) ||
			 strcmp(desc, a->description) || strcmp(type, a->type);
	enum err_code c = ERR_OK;
	if (fix) {
		char sum[16], rank[16];
		snprintf(sum, sizeof sum, "%d", r->checksum);
		snprintf(rank, sizeof rank, "%d", a->installed_rank);
		struct buf p = BUF_INIT, l = BUF_INIT, set = BUF_INIT;
		buf_addf(&set, "UPDATE %s SET ", ctx->table_q);
		db_quote_ident(d, &set, "description");
		buf_addf(&p, "%s=%s , ", set.ptr, db_param(ctx->db, 1));
		db_quote_ident(d, &p, "type");
		buf_addf(&p, "=%s , ", db_param(ctx->db, 2));
		db_quote_ident(d, &p, "checksum");
		buf_addf(&p, "=%s WHERE ", db_param(ctx->db, 3));
		db_quote_ident(d, &p, "installed_rank");
		buf_addf(&p, "=%s", db_param(ctx->db, 4));
		buf_addf(&l, "%s=", set.ptr);
		db_quote_literal(d, &l, desc);
		buf_adds(&l, " , type=");
		db_quote_literal(d, &l, type);
		buf_addf(&l, " , checksum=%s WHERE installed_rank=%s", sum, rank);
		const char *vals[4] = { desc, type, sum, rank };
		c = run_stmt(rp, p.ptr, l.ptr, 4, vals, e);
		buf_release(&p);
		buf_release(&l);
		buf_release(&set);
	}
	free(desc);
	return c;
}

static bool ignored(const struct eng_info *i, const struct vec *patterns)
{
	struct vec one = VEC_INIT;
	struct err e = ERR_INIT;
	/* Reuse validate's matcher: a row is ignored when validate would skip it. */
	struct eng_plan p = { 0 };
	vec_push(&p.rows, (void *)(uintptr_t)i);
	bool ok = eng_validate_plan(&p, patterns, false, &one, &e) == ERR_OK;
	vec_release(&p.rows, NULL);
	vec_free_strs(&one);
	return ok;
}

static enum err_code repair_plan(struct repair *rp, const struct eng_plan *plan, struct err *e)
{
	enum err_code c = ERR_OK;
	for (size_t k = 0; !c && k < plan->rows.len; k++) {
		const struct eng_info *i = plan->rows.items[k];
		if (i->app && !i->app->success && !is_synthetic(i->app->type))
			c = delete_failed(rp, i->app, e);
	}
	for (size_t k = 0; !c && k < plan->rows.len; k++) {
		const struct eng_info *i = plan->rows.items[k];
		enum eng_state s = i->state;
		if (!i->app || is_synthetic(i->app->type) || !i->app->success)
			continue;
		if ((s == ENG_STATE_MISSING_SUCCESS || s == ENG_STATE_FUTURE_SUCCESS) &&
		    !ignored(i, &rp->ctx->cfg->ignore_patterns))
			c = mark_deleted(rp, i->app, e);
		else if (i->res && s != ENG_STATE_DELETED && s != ENG_STATE_SUPERSEDED)
			c = realign(rp, i, e);
	}
	return c;
}

enum err_code eng_repair(struct eng_ctx *ctx, FILE *dry_run, size_t *changes, struct err *e)
{
	if (!dry_run && ctx->cfg->read_only)
		return err_set(e, ERR_READ_ONLY, "repair refused: the database is read-only here");
	struct repair rp = { .ctx = ctx, .dry = dry_run };
	struct eng_resolved_set files;
	struct eng_plan plan = { 0 };
	bool exists = false, pg = db_dialect(ctx->db) == DB_PG;
	enum err_code c = eng_resolve(ctx, &files, e);
	if (c)
		return c;
	bool locked = !dry_run && !(c = lock_acquire(ctx, e));
	if (!c)
		c = eng_history_read(ctx, &rp.applied, &exists, e);
	if (!c && !exists)
		c = err_set(e, ERR_VALIDATE, "Nothing to repair: %s does not exist", ctx->table_q);
	if (!c)
		c = eng_plan_build(&files, &rp.applied, NULL, &plan, e);
	if (!c && pg && !dry_run)
		c = db_exec(ctx->db, "BEGIN", 0, NULL, NULL, e);
	if (!c)
		c = repair_plan(&rp, &plan, e);
	if (pg && !dry_run && exists)
		db_exec(ctx->db, c ? "ROLLBACK" : "COMMIT", 0, NULL, NULL, c ? NULL : e);
	if (locked)
		lock_release(ctx);
	if (changes)
		*changes = rp.changes;
	eng_plan_release(&plan);
	vec_release(&rp.applied, eng_applied_free);
	eng_resolved_set_release(&files);
	return c;
}
