/*
 * stmt_iter — the statements of one migration, read in bounded memory:
 * source stream → reader (UTF-8 check, checksums, placeholders) →
 * splitter window. A statement's text stays valid until the next call.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/migrate.h"

#define ITER_MIN_READ ((size_t)256 * 1024)

enum err_code iter_open(struct stmt_iter *it, struct eng_ctx *ctx, struct eng_resolved *m,
			const struct ph_values *ph, struct err *e)
{
	memset(it, 0, sizeof *it);
	buf_init(&it->win);
	it->m = m;
	it->ph_file = *ph;
	it->filename = eng_ph_filename(ctx->cfg, m);
	it->ph_file.filename = it->filename;
	enum err_code c = m->source->ops->open(m->source, m->file, &it->st, e);
	if (c)
		return c;
	mig_reader_init(&it->rd, it->st, m->file->name,
			ctx->cfg->placeholder_replacement ? &it->ph_file : NULL,
			eng_config_latin1(ctx->cfg));
	sql_splitter_init(&it->sp, db_dialect(ctx->db), db_server_version_num(ctx->db));
	return ERR_OK;
}

void iter_close(struct stmt_iter *it)
{
	if (it->st)
		it->st->close(it->st);
	mig_reader_release(&it->rd);
	buf_release(&it->win);
	free(it->filename);
	memset(it, 0, sizeof *it);
}

enum err_code iter_next(struct stmt_iter *it, struct sql_stmt *st, bool *have, struct err *e)
{
	*have = false;
	buf_consume(&it->win, it->drop);
	it->drop = 0;
	for (;;) {
		size_t consumed = 0;
		struct sql_input in = { it->win.ptr, it->win.len, it->eof };
		enum sql_split_result r = sql_split_next(&it->sp, in, st, &consumed, e);
		if (r == SQL_SPLIT_STMT) {
			it->drop = consumed;
			it->index++;
			*have = true;
			return ERR_OK;
		}
		if (r == SQL_SPLIT_END)
			return ERR_OK;
		if (r == SQL_SPLIT_ERROR) {
			err_prefix(e, "Unable to parse statement in %s", it->m->script);
			return ERR_PARSE;
		}
		buf_consume(&it->win, consumed);
		if (it->eof)
			return ERR_OK;
		/* Grow the window geometrically: the splitter rescans an unfinished
		 * statement from its start, so fixed steps would be quadratic on a
		 * huge statement or COPY block. */
		size_t want = it->win.len > ITER_MIN_READ ? it->win.len : ITER_MIN_READ;
		enum err_code c = mig_reader_fill(&it->rd, &it->win, want, &it->eof, e);
		if (c)
			return c;
	}
}

enum err_code iter_finish(struct stmt_iter *it, const struct eng_config *cfg, struct err *e)
{
	struct eng_resolved *m = it->m;
	if (!m->has_checksum) {
		eng_resolved_set_checksum(m, cfg, it->rd.crc_raw, it->rd.crc_repl);
		return ERR_OK;
	}
	int32_t want = m->kind == ENG_KIND_REPEATABLE && m->has_equivalent
		? m->equivalent_checksum : m->checksum;
	if (ck_signed(it->rd.crc_raw) == want || m->file->has_cached_checksum)
		return ERR_OK;
	return err_set(e, ERR_CHECKSUM,
		       "%s changed while tarmac was reading it (checksum %d, now %d): run again",
		       m->script, want, ck_signed(it->rd.crc_raw));
}
