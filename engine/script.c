/*
 * script — the dry-run script: every statement migrate would send, with
 * placeholders replaced, followed by the exact history INSERT, in a file a
 * DBA can read or feed to psql / mariadb. Nothing is executed.
 */
#include <string.h>

#include "engine/migrate.h"

static void put_statement(struct mig_run *run, const struct sql_stmt *st, struct buf *out)
{
	bool needs_delim = !run->pg && memchr(st->text, ';', st->len);
	if (needs_delim)
		buf_adds(out, "DELIMITER //\n");
	buf_add(out, st->text, st->len);
	buf_adds(out, needs_delim ? "\n//\nDELIMITER ;\n" : ";\n");
	if (st->is_copy) {
		buf_add(out, st->copy_data, st->copy_len);
		buf_adds(out, "\\.\n");
	}
}

enum err_code mig_script(struct mig_run *run, struct eng_resolved *m, struct buf *out,
			 struct err *e)
{
	struct stmt_iter it;
	enum err_code c = iter_open(&it, run->ctx, m, &run->ph, e);
	const char *v = m->kind == ENG_KIND_REPEATABLE ? m->description : m->version.text;
	buf_addf(out, "-- Executing: migrate -> %s%s\n", m->kind == ENG_KIND_REPEATABLE ? "" : "v", v);
	buf_addf(out, "-- Source: %s\n", m->script);
	buf_adds(out, "---------------------------\n");
	bool have = true;
	while (!c && have) {
		struct sql_stmt st;
		c = iter_next(&it, &st, &have, e);
		if (!c && have)
			put_statement(run, &st, out);
	}
	if (!c)
		c = iter_finish(&it, run->ctx->cfg, e);
	iter_close(&it);
	if (c)
		return c;
	struct hist_row row;
	mig_row(run, m, 0, true, &row);
	hist_insert_literal(run->ctx, &row, out);
	buf_adds(out, ";\n\n");
	mig_row_release(&row);
	return ERR_OK;
}
