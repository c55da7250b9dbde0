/*
 * migrate — internal pieces of the migrate command: the statement
 * iterator, one migration's execution, and the dry-run script writer.
 */
#ifndef TARMAC_ENGINE_MIGRATE_H
#define TARMAC_ENGINE_MIGRATE_H

#include "engine/history.h"
#include "engine/sql_split.h"

struct stmt_iter {
	struct eng_resolved *m;
	struct ph_values ph_file;
	char *filename;          /* ${flyway:filename} */
	struct eng_stream *st;
	struct mig_reader rd;
	struct sql_splitter sp;
	struct buf win;
	size_t drop;
	bool eof;
	size_t index;            /* statements returned so far */
};

enum err_code iter_open(struct stmt_iter *it, struct eng_ctx *ctx, struct eng_resolved *m,
			const struct ph_values *ph, struct err *e);
enum err_code iter_next(struct stmt_iter *it, struct sql_stmt *st, bool *have, struct err *e);
/* After a full pass: records the checksum when m had none, else checks the
 * text is still what was resolved. */
enum err_code iter_finish(struct stmt_iter *it, const struct eng_config *cfg, struct err *e);
void iter_close(struct stmt_iter *it);

/* What a pre-pass learned about a migration before anything runs. */
struct mig_shape {
	size_t statements;
	bool transactional;      /* runs in one transaction */
};

/* One migrate run's state, shared by the pieces. */
struct mig_run {
	struct eng_ctx *ctx;
	const struct eng_migrate_options *o;
	struct eng_migrate_result *res;
	struct ph_values ph;
	struct ph_storage ph_store;
	struct vec applied;      /* struct eng_applied* */
	bool pg;
	size_t index, total;     /* migration n of m */
};

/* Reads a migration once: counts statements, checks it parses, decides
 * transactional or not (spec §4.3, including the mixed-statement error). */
enum err_code mig_shape_of(struct mig_run *run, struct eng_resolved *m,
			   struct mig_shape *shape, struct err *e);
/* Applies one migration and writes its history row (success, or Flyway's
 * failure row where Flyway writes one). */
enum err_code mig_apply(struct mig_run *run, struct eng_resolved *m,
			const struct mig_shape *shape, struct err *e);
/* Runs one migration's statements inside the rehearsal transaction. */
enum err_code mig_rehearse(struct mig_run *run, struct eng_resolved *m, struct err *e);
/* Appends one migration to the dry-run script. */
enum err_code mig_script(struct mig_run *run, struct eng_resolved *m, struct buf *out,
			 struct err *e);
/* The history row a successful run of m writes. Strings: caller frees desc/script. */
void mig_row(struct mig_run *run, const struct eng_resolved *m, int exec_ms, bool ok,
	     struct hist_row *row);
void mig_row_release(struct hist_row *row);
/* Emits an observer event. */
void mig_emit(struct eng_ctx *ctx, const struct eng_event *ev);

#endif
