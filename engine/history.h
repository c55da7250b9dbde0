/*
 * history — internal interface to the schema history table (spec §3) and
 * the lock that guards it (spec §4). Internal to engine/.
 */
#ifndef TARMAC_ENGINE_HISTORY_H
#define TARMAC_ENGINE_HISTORY_H

#include "engine/internal.h"

/* One row to write; strings borrowed. */
struct hist_row {
	int rank;
	const char *version;      /* NULL for repeatables/markers */
	const char *description;  /* already abbreviated */
	const char *type;
	const char *script;       /* already abbreviated */
	bool has_checksum;
	int32_t checksum;
	const char *installed_by;
	int execution_time;
	bool success;
};

/* The CREATE TABLE / constraint / index statements (char*, no ';'). */
void hist_create_sql(struct eng_ctx *ctx, struct vec *stmts);
enum err_code hist_exists(struct eng_ctx *ctx, bool *exists, struct err *e);
/* Appends struct eng_applied* for every row with rank > after_rank. */
enum err_code hist_read(struct eng_ctx *ctx, int after_rank, struct vec *rows, struct err *e);
enum err_code hist_insert(struct eng_ctx *ctx, const struct hist_row *row, struct err *e);
/* The same INSERT with literal values, for dry-run scripts. */
void hist_insert_literal(struct eng_ctx *ctx, const struct hist_row *row, struct buf *out);
void hist_row_from_applied(struct hist_row *row, const struct eng_applied *a);
/* Does the history schema exist; is it empty of Flyway-relevant objects
 * (spec §7.1: relations, types, functions not owned by extensions)? */
enum err_code hist_schema_state(struct eng_ctx *ctx, bool *exists, bool *empty, struct err *e);
/* Flyway's calculateInstalledRank over the rows read so far. */
int hist_next_rank(const struct vec *rows, bool schema_marker);

/* ---- lock (spec §4) ---- */

/* Takes Flyway's lock for the history table (PostgreSQL advisory lock on
 * 77431708279161 + hash, MariaDB GET_LOCK('Flyway-<hash>')) for the
 * session, retrying once a second lock_retry_count times. ERR_LOCKED says
 * who holds it when the database can tell. */
enum err_code lock_acquire(struct eng_ctx *ctx, struct err *e);
void lock_release(struct eng_ctx *ctx);
/* The PostgreSQL advisory key / MariaDB lock name for a qualified table. */
int64_t lock_pg_key(const char *table_q);
void lock_my_name(const char *table_q, char *out, size_t n);

#endif
