/*
 * lock — Flyway's own lock keys (spec §4), so tarmac and a Flyway run on the
 * Flyway host exclude each other. tarmac holds the lock for the whole
 * command at session level (PostgreSQL's session and transaction advisory
 * locks on one key conflict, so Flyway's per-migration xact lock still
 * waits for us and we for it). Retries once a second like Flyway's
 * RetryStrategy; when it gives up it says who holds the lock.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/history.h"

#define PG_LOCK_MAGIC 77431708279161LL

int64_t lock_pg_key(const char *table_q)
{
	return PG_LOCK_MAGIC + java_string_hash(table_q);
}

void lock_my_name(const char *table_q, char *out, size_t n)
{
	snprintf(out, n, "Flyway-%d", java_string_hash(table_q));
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The lock's key as the parameter text: the bigint, or the lock name. */
static void lock_key_text(struct eng_ctx *ctx, char *key, size_t n)
{
	if (db_dialect(ctx->db) == DB_PG)
		snprintf(key, n, "%lld", (long long)lock_pg_key(ctx->table_q));
	else
		lock_my_name(ctx->table_q, key, n);
}

static enum err_code try_once(struct eng_ctx *ctx, bool *got, struct err *e)
{
	bool pg = db_dialect(ctx->db) == DB_PG;
	char key[64];
	lock_key_text(ctx, key, sizeof key);
	const char *params[1] = { key };
	struct db_result *r = NULL;
	/* MariaDB waits up to a second server-side; PostgreSQL answers at once. */
	enum err_code c = db_query(ctx->db, pg ? "SELECT pg_try_advisory_lock($1::bigint)"
					       : "SELECT GET_LOCK(?, 1)", 1, params, &r, e);
	if (!c) {
		const char *v = db_result_rows(r) ? db_result_get(r, 0, 0) : NULL;
		*got = v && (v[0] == 't' || v[0] == '1');
	}
	db_result_free(r);
	return c;
}

/* "held by pid 123 (user flyway, application 'Flyway by Redgate', since ...)" */
void eng_lock_holder(struct eng_ctx *ctx, char *out, size_t n)
{
	bool pg = db_dialect(ctx->db) == DB_PG;
	char key[64];
	struct db_result *r = NULL;
	*out = 0;
	if (pg) {
		int64_t k = lock_pg_key(ctx->table_q);
		char hi[24], lo[24];
		snprintf(hi, sizeof hi, "%lld", (long long)((uint64_t)k >> 32));
		snprintf(lo, sizeof lo, "%lld", (long long)((uint64_t)k & 0xffffffffu));
		const char *p[2] = { hi, lo };
		if (db_query(ctx->db,
			     "SELECT a.pid, a.usename, a.application_name, "
			     "coalesce(host(a.client_addr), 'local'), a.backend_start::text "
			     "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
			     "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid "
			     "AND l.objid = $2::oid AND l.pid <> pg_backend_pid() LIMIT 1",
			     2, p, &r, NULL) == ERR_OK && db_result_rows(r))
			snprintf(out, n, " It is held by pid %s (user %s, application '%s', from %s, connected since %.19s).",
				 db_result_get(r, 0, 0), db_result_get(r, 0, 1),
				 db_result_get(r, 0, 2), db_result_get(r, 0, 3),
				 db_result_get(r, 0, 4));
	} else {
		lock_my_name(ctx->table_q, key, sizeof key);
		const char *p[1] = { key };
		if (db_query(ctx->db,
			     "SELECT p.ID, p.USER, p.HOST, p.TIME FROM information_schema.PROCESSLIST p "
			     "WHERE p.ID = IS_USED_LOCK(?)", 1, p, &r, NULL) == ERR_OK &&
		    db_result_rows(r))
			snprintf(out, n, " It is held by connection %s (user %s from %s, for %s s).",
				 db_result_get(r, 0, 0), db_result_get(r, 0, 1),
				 db_result_get(r, 0, 2), db_result_get(r, 0, 3));
	}
	db_result_free(r);
}

enum err_code lock_acquire(struct eng_ctx *ctx, struct err *e)
{
	int tries = ctx->cfg->lock_retry_count;
	bool pg = db_dialect(ctx->db) == DB_PG;
	for (int i = 0;; i++) {
		bool got = false;
		enum err_code c = try_once(ctx, &got, e);
		if (c || got)
			return c;
		if (atomic_load(&ctx->cancel))
			return err_set(e, ERR_CANCELLED, "cancelled while waiting for the lock");
		if (tries >= 0 && i >= tries)
			break;
		if (pg)
			sleep_ms(1000);
	}
	char who[512];
	eng_lock_holder(ctx, who, sizeof who);
	return err_set(e, ERR_LOCKED,
		       "Number of retries exceeded while attempting to acquire the %s lock on %s "
		       "(%d retries, one a second).%s Wait for the other migration to finish, "
		       "or raise lockRetryCount.",
		       pg ? "PostgreSQL advisory" : "MariaDB named", ctx->table_q, tries, who);
}

void lock_release(struct eng_ctx *ctx)
{
	bool pg = db_dialect(ctx->db) == DB_PG;
	char key[64];
	lock_key_text(ctx, key, sizeof key);
	const char *params[1] = { key };
	db_exec(ctx->db, pg ? "SELECT pg_advisory_unlock($1::bigint)" : "SELECT RELEASE_LOCK(?)",
		1, params, NULL, NULL);
}
