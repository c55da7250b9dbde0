/*
 * history — the schema history table exactly as Flyway writes it (spec §3):
 * the DDL text per dialect, the read query, every INSERT/UPDATE/DELETE with
 * bound parameters, and the literal forms only for dry-run scripts.
 * Ranks are computed by the caller from the rows it has read under the
 * lock, as Flyway computes them (last rank + 1; 0 for a first SCHEMA row).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/history.h"

static const char *const known_types[] = {
	"SCHEMA", "BASELINE", "DELETE", "SQL", "JDBC", "SCRIPT", "UNDO_SCRIPT", "CUSTOM",
	"SQL_BASELINE", "JDBC_BASELINE", "UNDO_SQL", "UNDO_JDBC",
};

/* Column names in Flyway's INSERT order. */
static const char *const insert_cols[] = {
	"installed_rank", "version", "description", "type", "script", "checksum",
	"installed_by", "execution_time", "success",
};

static void q(struct eng_ctx *ctx, struct buf *b, const char *ident)
{
	db_quote_ident(db_dialect(ctx->db), b, ident);
}

static bool is_mariadb(struct eng_ctx *ctx)
{
	return strstr(db_server_version(ctx->db), "MariaDB") != NULL;
}

void hist_create_sql(struct eng_ctx *ctx, struct vec *stmts)
{
	bool pg = db_dialect(ctx->db) == DB_PG;
	const char *tbl = ctx->cfg->table;
	struct buf b = BUF_INIT, name = BUF_INIT;
	static const char *const pg_cols[] = {
		"\"installed_rank\" INT NOT NULL", "\"version\" VARCHAR(50)",
		"\"description\" VARCHAR(200) NOT NULL", "\"type\" VARCHAR(20) NOT NULL",
		"\"script\" VARCHAR(1000) NOT NULL", "\"checksum\" INTEGER",
		"\"installed_by\" VARCHAR(100) NOT NULL",
		"\"installed_on\" TIMESTAMP NOT NULL DEFAULT now()",
		"\"execution_time\" INTEGER NOT NULL", "\"success\" BOOLEAN NOT NULL",
	};
	static const char *const my_cols[] = {
		"`installed_rank` INT NOT NULL", "`version` VARCHAR(50)",
		"`description` VARCHAR(200) NOT NULL", "`type` VARCHAR(20) NOT NULL",
		"`script` VARCHAR(1000) NOT NULL", "`checksum` INT",
		"`installed_by` VARCHAR(100) NOT NULL",
		"`installed_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP",
		"`execution_time` INT NOT NULL", "`success` BOOL NOT NULL",
	};
	buf_addf(&b, "CREATE TABLE %s (\n", ctx->table_q);
	for (size_t i = 0; i < 10; i++)
		buf_addf(&b, "    %s%s\n", pg ? pg_cols[i] : my_cols[i], i < 9 || !pg ? "," : "");
	if (pg) {
		buf_adds(&b, ")");
		vec_push(stmts, buf_detach(&b, NULL));
		buf_addf(&name, "%s_pk", tbl);
		buf_addf(&b, "ALTER TABLE %s ADD CONSTRAINT ", ctx->table_q);
		q(ctx, &b, name.ptr);
		buf_adds(&b, " PRIMARY KEY (\"installed_rank\")");
	} else {
		buf_adds(&b, "    CONSTRAINT ");
		if (!is_mariadb(ctx)) {
			buf_addf(&name, "%s_pk", tbl);
			q(ctx, &b, name.ptr);
		}
		buf_adds(&b, " PRIMARY KEY (`installed_rank`)\n)");
	}
	vec_push(stmts, buf_detach(&b, NULL));
	buf_reset(&name);
	buf_addf(&name, "%s_s_idx", tbl);
	buf_adds(&b, "CREATE INDEX ");
	q(ctx, &b, name.ptr);
	buf_addf(&b, " ON %s (", ctx->table_q);
	q(ctx, &b, "success");
	buf_adds(&b, ")");
	vec_push(stmts, buf_detach(&b, NULL));
	buf_release(&name);
}

enum err_code hist_exists(struct eng_ctx *ctx, bool *exists, struct err *e)
{
	bool pg = db_dialect(ctx->db) == DB_PG;
	const char *sql = pg
		? "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
		  "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 "
		  "AND c.relkind = 'r'"
		: "SELECT 1 FROM information_schema.tables WHERE table_schema = ? "
		  "AND table_name = ?";
	const char *params[2] = { ctx->schema, ctx->cfg->table };
	struct db_result *r = NULL;
	enum err_code c = db_query(ctx->db, sql, 2, params, &r, e);
	if (!c)
		*exists = db_result_rows(r) > 0;
	db_result_free(r);
	return c;
}

static void select_sql(struct eng_ctx *ctx, struct buf *b)
{
	bool pg = db_dialect(ctx->db) == DB_PG;
	static const char *const cols[] = {
		"installed_rank", "version", "description", "type", "script", "checksum",
		"installed_on", "installed_by", "execution_time", "success",
	};
	if (pg)
		buf_adds(b, "/*NO LOAD BALANCE*/\n");
	buf_adds(b, "SELECT ");
	for (size_t i = 0; i < 10; i++) {
		if (i)
			buf_addc(b, ',');
		q(ctx, b, cols[i]);
	}
	buf_addf(b, " FROM %s WHERE ", ctx->table_q);
	q(ctx, b, "installed_rank");
	buf_addf(b, " > %s ORDER BY ", db_param(ctx->db, 1));
	q(ctx, b, "installed_rank");
}

static const char *legacy_type(const char *t)
{
	if (!strcmp(t, "SPRING_JDBC"))
		return "JDBC";
	if (!strcmp(t, "SQL_STATE_SCRIPT"))
		return "SQL_BASELINE";
	if (!strcmp(t, "JDBC_STATE_SCRIPT"))
		return "JDBC_BASELINE";
	return t;
}

static enum err_code row_to_applied(const struct db_result *r, size_t i,
				    struct eng_applied **out, struct err *e)
{
	const char *type = legacy_type(db_result_get(r, i, 3) ? db_result_get(r, i, 3) : "");
	bool known = false;
	for (size_t k = 0; k < sizeof known_types / sizeof *known_types; k++)
		known |= !strcmp(type, known_types[k]);
	if (!known)
		return err_set(e, ERR_VALIDATE,
			       "Unknown migration type '%s' found in schema history.\n"
			       "You might be missing a required extension JAR on the classpath.", type);
	struct eng_applied *a = xcalloc(1, sizeof *a);
	a->installed_rank = atoi(db_result_get(r, i, 0));
	a->version_text = xstrdup_or_null(db_result_get(r, i, 1));
	a->description = xstrdup(db_result_get(r, i, 2) ? db_result_get(r, i, 2) : "");
	a->type = xstrdup(type);
	a->script = xstrdup(db_result_get(r, i, 4) ? db_result_get(r, i, 4) : "");
	a->has_checksum = db_result_get(r, i, 5) != NULL;
	a->checksum = a->has_checksum ? (int32_t)strtol(db_result_get(r, i, 5), NULL, 10) : 0;
	const char *on = db_result_get(r, i, 6);
	a->installed_on = on ? xstrndup(on, strlen(on) > 19 ? 19 : strlen(on)) : xstrdup("");
	a->installed_by = xstrdup(db_result_get(r, i, 7) ? db_result_get(r, i, 7) : "");
	a->execution_time = atoi(db_result_get(r, i, 8) ? db_result_get(r, i, 8) : "0");
	const char *s = db_result_get(r, i, 9);
	a->success = s && (s[0] == 't' || s[0] == '1');
	*out = a;
	if (a->version_text && eng_version_parse(a->version_text, &a->version, e)) {
		eng_applied_free(a);
		*out = NULL;
		err_prefix(e, "schema history row %d", atoi(db_result_get(r, i, 0)));
		return ERR_VALIDATE;
	}
	return ERR_OK;
}

void eng_applied_free(void *p)
{
	struct eng_applied *a = p;
	if (!a)
		return;
	free(a->version_text);
	eng_version_release(&a->version);
	free(a->description);
	free(a->type);
	free(a->script);
	free(a->installed_on);
	free(a->installed_by);
	free(a);
}

enum err_code hist_read(struct eng_ctx *ctx, int after_rank, struct vec *rows, struct err *e)
{
	struct buf sql = BUF_INIT;
	select_sql(ctx, &sql);
	char rank[16];
	snprintf(rank, sizeof rank, "%d", after_rank);
	const char *params[1] = { rank };
	struct db_result *r = NULL;
	enum err_code c = db_query(ctx->db, sql.ptr, 1, params, &r, e);
	for (size_t i = 0; !c && i < db_result_rows(r); i++) {
		struct eng_applied *a = NULL;
		c = row_to_applied(r, i, &a, e);
		if (!c)
			vec_push(rows, a);
	}
	db_result_free(r);
	buf_release(&sql);
	return c;
}

static void insert_head(struct eng_ctx *ctx, struct buf *b)
{
	buf_addf(b, "INSERT INTO %s (", ctx->table_q);
	for (size_t i = 0; i < 9; i++) {
		if (i)
			buf_adds(b, ", ");
		q(ctx, b, insert_cols[i]);
	}
	buf_adds(b, ") VALUES (");
}

/* The row's nine values as text (NULL for SQL NULL), in column order. */
static void row_values(struct eng_ctx *ctx, const struct hist_row *row, char nums[3][16],
		       const char *v[9])
{
	bool pg = db_dialect(ctx->db) == DB_PG;
	snprintf(nums[0], 16, "%d", row->rank);
	snprintf(nums[1], 16, "%d", row->checksum);
	snprintf(nums[2], 16, "%d", row->execution_time);
	v[0] = nums[0];
	v[1] = row->version;
	v[2] = row->description;
	v[3] = row->type;
	v[4] = row->script;
	v[5] = row->has_checksum ? nums[1] : NULL;
	v[6] = row->installed_by;
	v[7] = nums[2];
	v[8] = row->success ? (pg ? "true" : "1") : (pg ? "false" : "0");
}

enum err_code hist_insert(struct eng_ctx *ctx, const struct hist_row *row, struct err *e)
{
	struct buf sql = BUF_INIT;
	insert_head(ctx, &sql);
	for (int i = 1; i <= 9; i++)
		buf_addf(&sql, "%s%s", i > 1 ? ", " : "", db_param(ctx->db, i));
	buf_adds(&sql, ")");
	char nums[3][16];
	const char *v[9];
	row_values(ctx, row, nums, v);
	enum err_code c = db_exec(ctx->db, sql.ptr, 9, v, NULL, e);
	buf_release(&sql);
	return c;
}

void hist_insert_literal(struct eng_ctx *ctx, const struct hist_row *row, struct buf *out)
{
	bool pg = db_dialect(ctx->db) == DB_PG;
	char nums[3][16];
	const char *v[9];
	row_values(ctx, row, nums, v);
	insert_head(ctx, out);
	for (int i = 0; i < 9; i++) {
		if (i)
			buf_adds(out, ", ");
		if (!v[i])
			buf_adds(out, "NULL");
		else if (i == 0 || i == 5 || i == 7)
			buf_adds(out, v[i]);
		else if (i == 8)
			buf_adds(out, row->success ? (pg ? "TRUE" : "1") : (pg ? "FALSE" : "0"));
		else
			db_quote_literal(db_dialect(ctx->db), out, v[i]);
	}
	buf_adds(out, ")");
}

void hist_row_from_applied(struct hist_row *row, const struct eng_applied *a)
{
	memset(row, 0, sizeof *row);
	row->version = a->version_text;
	row->description = a->description;
	row->type = a->type;
	row->script = a->script;
	row->has_checksum = a->has_checksum;
	row->checksum = a->checksum;
	row->installed_by = a->installed_by;
	row->execution_time = a->execution_time;
	row->success = a->success;
}

int hist_next_rank(const struct vec *rows, bool schema_marker)
{
	if (!rows->len)
		return schema_marker ? 0 : 1;
	const struct eng_applied *last = rows->items[rows->len - 1];
	return last->installed_rank + 1;
}

/* Does the configured schema exist; is it non-empty (spec §7.1)? */
enum err_code hist_schema_state(struct eng_ctx *ctx, bool *exists, bool *empty,
				  struct err *e)
{
	bool pg = db_dialect(ctx->db) == DB_PG;
	const char *p[3] = { ctx->schema, ctx->schema, ctx->schema };
	struct db_result *r = NULL;
	enum err_code c = db_query(ctx->db, pg
		? "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = $1), "
		  "(SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
		  "  WHERE n.nspname = $1 AND c.relkind IN ('r','v','S','t','m','p','f') AND NOT EXISTS "
		  "  (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')) + "
		  "(SELECT count(*) FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace "
		  "  WHERE n.nspname = $1 AND NOT EXISTS "
		  "  (SELECT 1 FROM pg_depend d WHERE d.objid = f.oid AND d.deptype = 'e')) + "
		  "(SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
		  "  WHERE n.nspname = $1 AND t.typcategory NOT IN ('A','C') AND NOT EXISTS "
		  "  (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e'))"
		: "SELECT (SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?), "
		  "(SELECT count(*) FROM information_schema.tables WHERE table_schema = ?) + "
		  "(SELECT count(*) FROM information_schema.routines WHERE routine_schema = ?)",
		pg ? 1 : 3, p, &r, e);
	if (!c) {
		*exists = atoi(db_result_get(r, 0, 0)) > 0;
		*empty = atoi(db_result_get(r, 0, 1)) == 0;
	}
	db_result_free(r);
	return c;
}
