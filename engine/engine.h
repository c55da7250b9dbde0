/*
 * engine — tarmac's Flyway-exact migration engine: names, versions,
 * checksums, placeholders, sources, statement splitting, the schema history
 * table, locks, the plan (states), validate, migrate (with dry-run and
 * rehearse), baseline and repair. Everything Flyway writes or reads is
 * written and read the same way (spec/flyway.md), so tarmac and Flyway can
 * take turns on one database.
 *
 * The engine never prints and never exits; it reports through struct err
 * and the observer. It includes no curses, curl, OpenSSL or cJSON.
 * Threads: one engine context per thread; eng_ctx.cancel may be set from
 * any thread to stop a running command at the next statement boundary (the
 * statement itself is cancelled through db_cancel()).
 */
#ifndef TARMAC_ENGINE_ENGINE_H
#define TARMAC_ENGINE_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/vec.h"
#include "engine/db.h"

/* ---- configuration (the Flyway settings tarmac honours) ---------------- */

struct eng_kv {
	char *key;
	char *value;
};

struct eng_config {
	char *url, *user, *password;      /* password: wiped on release */
	struct vec locations;             /* char*: "filesystem:DIR", "s3:bucket/prefix", plain DIR */
	struct vec schemas;               /* char* */
	char *default_schema;             /* NULL: schemas[0], else the session's */
	char *table;                      /* "flyway_schema_history" */
	char *installed_by;               /* NULL or "": the database user */
	char *environment;                /* "default"; "prod" gets typed confirmation */
	char *encoding;                   /* "UTF-8" (also "ISO-8859-1") */
	/* placeholders: keys lower-cased as Flyway does */
	struct vec placeholders;          /* struct eng_kv* */
	bool placeholder_replacement;
	char *placeholder_prefix, *placeholder_suffix, *placeholder_separator;
	/* naming */
	char *sql_prefix, *repeatable_prefix, *baseline_prefix, *separator;
	struct vec suffixes;              /* char*, ".sql" */
	bool validate_migration_naming;
	/* behaviour */
	char *baseline_version;           /* "1" */
	char *baseline_description;       /* "<< Flyway Baseline >>" */
	bool baseline_on_migrate;
	bool out_of_order;
	char *target;                     /* NULL: latest */
	bool validate_on_migrate;         /* true */
	struct vec ignore_patterns;       /* char*, default "*:future" */
	bool clean_disabled;              /* true */
	bool create_schemas;              /* true */
	bool mixed;                       /* false */
	bool execute_in_transaction;      /* true */
	bool transactional_lock;          /* postgresql.transactional.lock, true */
	int lock_retry_count;             /* 50; -1 forever */
	bool read_only;                   /* refuse every write */
};

/* Fills c with Flyway's defaults. */
void eng_config_init(struct eng_config *c);
void eng_config_release(struct eng_config *c);
/* "true"/"false" (any case) as Flyway reads booleans; ERR_PARSE naming key. */
enum err_code eng_config_parse_bool(const char *key, const char *value, bool *out, struct err *e);
/* Sets placeholder `key` (lower-cased) to value, replacing an earlier one. */
void eng_config_set_placeholder(struct eng_config *c, const char *key, const char *value);
/*
 * Applies one Flyway property (`flyway.url`, `flyway.placeholders.x`, ...,
 * with or without the `flyway.` prefix) to c. Unknown keys are ERR_PARSE
 * naming the key unless ignore_unknown. Lists are comma-separated.
 */
enum err_code eng_config_set(struct eng_config *c, const char *key, const char *value,
			     bool ignore_unknown, struct err *e);
/*
 * Loads a legacy flyway.conf (Java properties after Flyway's pre-processing:
 * trimmed lines, `#`/`!` comments, `\` continuation, ${ENV} expansion) into c.
 * Errors name the file and line.
 */
enum err_code eng_config_load_flyway_conf(struct eng_config *c, const char *path,
					  struct err *e);
/* Same, from memory (for tests and fuzzing); `name` is used in messages. */
enum err_code eng_config_parse_flyway_conf(struct eng_config *c, const char *name,
					   const char *text, size_t len, struct err *e);


/* ---- versions and names (spec §2) --------------------------------------- */

/* A migration version: Flyway's MigrationVersion. */
struct eng_version {
	char *text;          /* display text: as written, '_' → '.' ("1.0", "01") */
	size_t nparts;       /* significant parts (trailing zero parts dropped) */
	char **parts;        /* each "[-]digits" without leading zeros */
};

/* Parses s ("1.2", "1_2", "010"). ERR_PARSE with Flyway's message
 * "Version may only contain 0..9 and . (dot). Invalid version: <s>". */
enum err_code eng_version_parse(const char *s, struct eng_version *v, struct err *e);
void eng_version_release(struct eng_version *v);
void eng_version_copy(struct eng_version *dst, const struct eng_version *src);
/* <0, 0, >0 as Flyway's compareTo: numeric, "1" == "1.0" == "01". */
int eng_version_cmp(const struct eng_version *a, const struct eng_version *b);

enum eng_kind { ENG_KIND_VERSIONED, ENG_KIND_REPEATABLE, ENG_KIND_BASELINE };

struct eng_naming {
	const char *sql_prefix, *repeatable_prefix, *baseline_prefix, *separator;
	const char *const *suffixes;
	size_t nsuffixes;
};

struct eng_name {
	enum eng_kind kind;
	struct eng_version version;  /* not for repeatables */
	char *description;           /* '_' → ' ', nothing else */
};

enum eng_name_result {
	ENG_NAME_OK,          /* a migration: out filled */
	ENG_NAME_NOT_SQL,     /* not a migration candidate at all (other prefix/suffix, callback) */
	ENG_NAME_INVALID,     /* looks like one but is malformed: e has Flyway's message */
};

enum eng_name_result eng_name_parse(const char *filename, const struct eng_naming *n,
				    struct eng_name *out, struct err *e);
void eng_name_release(struct eng_name *n);
/* Flyway's description abbreviation (200 UTF-16 units: 197 + "..."). */
char *eng_abbreviate_description(const char *d);
/* Flyway's script abbreviation (1000 units: "..." + last 997). */
char *eng_abbreviate_script(const char *s);

/* ---- migration sources -------------------------------------------------- */

/* A byte stream a source opens for one file. */
struct eng_stream {
	/* Reads up to cap bytes; *got == 0 means end of file. */
	enum err_code (*read)(struct eng_stream *s, char *dst, size_t cap, size_t *got,
			      struct err *e);
	void (*close)(struct eng_stream *s);
};

/* One file a source lists. */
struct eng_source_file {
	char *name;      /* the file name (after the last '/') */
	char *script;    /* the `script` column: path relative to the location,
			  * or "bucket/key" for S3 (spec §9) */
	char *etag;      /* S3 ETag or NULL */
	int64_t size;    /* -1 when the source does not know it */
	/* Set by a source that knows the checksums already (S3 cache); else 0. */
	bool has_cached_checksum;
	int32_t cached_checksum;
};

struct eng_source;
struct eng_source_ops {
	/* Appends struct eng_source_file* (owned by the caller; free with
	 * eng_source_file_free) for every file below the location. */
	enum err_code (*list)(struct eng_source *s, struct vec *files, struct err *e);
	enum err_code (*open)(struct eng_source *s, const struct eng_source_file *f,
			      struct eng_stream **out, struct err *e);
	/* Optional: remembers a computed checksum (S3 keeps a cache). */
	void (*remember)(struct eng_source *s, const struct eng_source_file *f, int32_t checksum);
	void (*free)(struct eng_source *s);
};
struct eng_source {
	const struct eng_source_ops *ops;
	char *location;  /* as configured, for messages */
};

void eng_source_file_free(void *f);
/* A source for "filesystem:DIR" (or a plain DIR): recursive, hidden
 * directories skipped, `/` separators in script paths. */
struct eng_source *eng_source_dir_new(const char *location, const char *dir);
void eng_source_free(struct eng_source *s);
/* A stream over a memory buffer (taken over, freed on close). */
struct eng_stream *eng_stream_mem_take(char *data, size_t len);
/* Reads a whole stream into out, refusing more than cap bytes (ERR_TOO_LARGE). */
enum err_code eng_stream_slurp(struct eng_stream *s, struct buf *out, size_t cap,
			       struct err *e);

/* ---- resolved migrations (files) ---------------------------------------- */

struct eng_resolved {
	enum eng_kind kind;
	struct eng_version version;     /* not for repeatables */
	char *description;              /* from the file name */
	char *script;                   /* the `script` column value (before abbreviation) */
	const char *type;               /* "SQL" or "SQL_BASELINE" */
	struct eng_source *source;      /* borrowed from the context */
	struct eng_source_file *file;   /* owned */
	bool has_checksum;              /* false until computed (migrate computes lazily) */
	int32_t checksum;               /* raw (V, B) or after placeholders (R) */
	bool has_equivalent;            /* repeatables: the raw checksum too */
	int32_t equivalent_checksum;
	int tx_override;                /* <script>.conf executeInTransaction: -1 unset, 0, 1 */
};

struct eng_resolved_set {
	struct vec items;               /* struct eng_resolved*, Flyway's order */
	size_t invalid_names;           /* *.sql files skipped for their names */
	struct vec invalid_messages;    /* char*: why each was skipped */
};

void eng_resolved_set_release(struct eng_resolved_set *s);

/* ---- applied migrations (schema history rows) --------------------------- */

struct eng_applied {
	int installed_rank;
	char *version_text;             /* NULL for repeatables and markers */
	struct eng_version version;     /* parsed when version_text */
	char *description, *type, *script;
	bool has_checksum;
	int32_t checksum;
	char *installed_on;             /* "yyyy-MM-dd HH:mm:ss" */
	char *installed_by;
	int execution_time;             /* ms */
	bool success;
};

void eng_applied_free(void *a);

/* ---- states and the plan (spec §5) -------------------------------------- */

enum eng_state {
	ENG_STATE_PENDING, ENG_STATE_ABOVE_TARGET, ENG_STATE_BELOW_BASELINE,
	ENG_STATE_BASELINE_IGNORED, ENG_STATE_BASELINE, ENG_STATE_IGNORED,
	ENG_STATE_MISSING_SUCCESS, ENG_STATE_MISSING_FAILED, ENG_STATE_SUCCESS,
	ENG_STATE_UNDONE, ENG_STATE_AVAILABLE, ENG_STATE_FAILED,
	ENG_STATE_OUT_OF_ORDER, ENG_STATE_FUTURE_SUCCESS, ENG_STATE_FUTURE_FAILED,
	ENG_STATE_OUTDATED, ENG_STATE_SUPERSEDED, ENG_STATE_DELETED,
	ENG_STATE_COUNT
};

/* Flyway's display name ("Pending", "Out of Order", "Failed (Missing)"). */
const char *eng_state_name(enum eng_state s);
bool eng_state_is_failed(enum eng_state s);
bool eng_state_is_applied(enum eng_state s);

struct eng_info {
	enum eng_state state;
	const struct eng_resolved *res;  /* the file, or NULL */
	const struct eng_applied *app;   /* the history row, or NULL */
};

struct eng_plan {
	struct vec rows;                 /* struct eng_info*, display order */
	struct eng_version current;      /* highest applied version (text NULL: none) */
	size_t pending, failed, mismatched, missing;
	bool history_exists;
};

struct eng_plan_options {
	const char *target;              /* NULL/"latest", "current", "next", "V", "V?" */
	bool out_of_order;
};

/* Builds Flyway's info view from files and history rows (both borrowed;
 * keep them alive as long as the plan). */
enum err_code eng_plan_build(const struct eng_resolved_set *files, const struct vec *applied,
			     const struct eng_plan_options *o, struct eng_plan *plan,
			     struct err *e);
void eng_plan_release(struct eng_plan *plan);

/* Flyway's "Category" column: "", "Versioned", "Repeatable", "Baseline". */
const char *eng_info_category(const struct eng_info *i);
const char *eng_info_type(const struct eng_info *i);
const char *eng_info_version(const struct eng_info *i);
const char *eng_info_description(const struct eng_info *i);

/*
 * Flyway's validate (spec §6) with the given ignore patterns (char*).
 * Appends one message per problem to `messages` (char*); returns ERR_OK
 * when there are none, else ERR_VALIDATE with Flyway's overall message in e.
 */
enum err_code eng_validate_plan(const struct eng_plan *plan, const struct vec *ignore_patterns,
				bool add_pending, struct vec *messages, struct err *e);
/* Checks the syntax of one pattern ("*:future") with Flyway's messages. */
enum err_code eng_ignore_pattern_check(const char *pattern, struct err *e);

/* ---- the engine context: one database, its sources, an observer -------- */

enum eng_event_kind {
	ENG_EV_MIGRATION_START,   /* mig_index of mig_total, res */
	ENG_EV_STATEMENT,         /* stmt_index of stmt_total done, elapsed_ms */
	ENG_EV_MIGRATION_DONE,    /* res, elapsed_ms */
	ENG_EV_MIGRATION_FAILED,  /* res, text = error */
	ENG_EV_MESSAGE,           /* text: a line for the operator (Flyway's log lines) */
	ENG_EV_REHEARSE_STATEMENT,/* res, stmt line, elapsed_ms, text = first line or error */
};

struct eng_event {
	enum eng_event_kind kind;
	const struct eng_resolved *res;
	size_t mig_index, mig_total;      /* 1-based */
	size_t stmt_index, stmt_total;    /* 1-based */
	long line;                        /* statement's line in the file */
	int64_t elapsed_ms;
	bool failed;
	const char *text;
};

struct eng_observer {
	void (*on_event)(const struct eng_event *ev, void *ctx);
	void *ctx;
};

struct eng_ctx {
	const struct eng_config *cfg;     /* borrowed */
	struct db *db;                    /* owned: opened by eng_ctx_connect */
	struct vec sources;               /* struct eng_source*, owned */
	const struct eng_observer *obs;   /* may be NULL */
	atomic_bool cancel;               /* set from any thread */
	/* facts of the session, filled by eng_ctx_connect */
	char *schema;                     /* the history table's schema */
	char *database;                   /* the catalog (MariaDB: the schema) */
	char *user;                       /* installed_by */
	char *table_q;                    /* quoted, qualified history table */
	char *search_path;                /* PostgreSQL: the original search_path */
};

void eng_ctx_init(struct eng_ctx *ctx, const struct eng_config *cfg);
void eng_ctx_release(struct eng_ctx *ctx);
/* Adds a source (taken over). */
void eng_ctx_add_source_take(struct eng_ctx *ctx, struct eng_source *s);
/*
 * Opens the sources for every filesystem location in cfg (s3: locations
 * are skipped when skip_s3: the caller adds those through the AWS layer).
 * A missing directory is ERR_USAGE naming it.
 */
enum err_code eng_ctx_add_locations(struct eng_ctx *ctx, bool skip_s3, struct err *e);
/* Connects (read-only when cfg->read_only or read_only) and learns the
 * session facts. ERR_AUTH / ERR_NET / ERR_DB. */
enum err_code eng_ctx_connect(struct eng_ctx *ctx, bool read_only, struct err *e);

/* Drops the session and opens a new one to the same database (after a
 * lost connection); the session facts (schema, user) are kept. */
enum err_code eng_ctx_reconnect(struct eng_ctx *ctx, struct err *e);

/* Lists every source and computes every checksum. Invalid names are
 * counted (or, with validateMigrationNaming, an error listing them);
 * duplicate versions are ERR_VALIDATE naming both files. */
enum err_code eng_resolve(struct eng_ctx *ctx, struct eng_resolved_set *out, struct err *e);

/* Reads the history (empty and *exists false when there is no table). */
enum err_code eng_history_read(struct eng_ctx *ctx, struct vec *applied, bool *exists,
			       struct err *e);

/* Resolve + history + plan in one call; the plan borrows files/applied. */
enum err_code eng_info(struct eng_ctx *ctx, const struct eng_plan_options *o,
		       struct eng_resolved_set *files, struct vec *applied,
		       struct eng_plan *plan, struct err *e);

/* Computes the Flyway checksum of one local file (versioned rules: raw). */
enum err_code eng_checksum_file(const char *path, const struct eng_config *cfg,
				int32_t *out, struct err *e);

struct eng_migrate_options {
	const char *target;
	bool out_of_order;
	FILE *dry_run;          /* non-NULL: write the script here, change nothing */
	bool rehearse;          /* PostgreSQL: run all pending in one transaction, roll back */
	int rehearse_lock_timeout_ms;  /* 0: 5000 */
};

struct eng_migrate_result {
	size_t applied;         /* migrations applied (or rehearsed / scripted) */
	size_t pending;         /* migrations that were pending */
	char *failed_script;    /* the migration that failed, or NULL */
	long failed_line;       /* its failing statement's line */
	char *failed_statement; /* the statement text (first 200 bytes) */
	struct vec validate_messages; /* char*, when validation failed */
};
void eng_migrate_result_release(struct eng_migrate_result *r);

/*
 * Applies pending migrations as Flyway does: lock, validate (with
 * *:pending), one transaction per migration on PostgreSQL, Flyway's
 * failure rows on MariaDB. ERR_LOCKED when the lock cannot be had,
 * ERR_VALIDATE on validation failure, ERR_DB when a migration fails
 * (result says which, where), ERR_CANCELLED when ctx->cancel was set.
 */
enum err_code eng_migrate(struct eng_ctx *ctx, const struct eng_migrate_options *o,
			  struct eng_migrate_result *res, struct err *e);

struct eng_baseline_options {
	const char *version;      /* NULL: cfg->baseline_version */
	const char *description;  /* NULL: cfg->baseline_description */
	FILE *dry_run;            /* write the statements instead */
};
enum err_code eng_baseline(struct eng_ctx *ctx, const struct eng_baseline_options *o,
			   struct err *e);

/* Who holds Flyway's lock on this history table, without taking it:
 * " It is held by pid 123 (user ..., application '...', ...)." or "" when
 * nobody else does (or the server will not say). Needs a connected ctx. */
void eng_lock_holder(struct eng_ctx *ctx, char *out, size_t n);

/* Repair (spec §7.2); with dry_run the statements are written there only.
 * *changes (may be NULL) counts rows deleted, inserted or updated. */
enum err_code eng_repair(struct eng_ctx *ctx, FILE *dry_run, size_t *changes, struct err *e);

#endif
