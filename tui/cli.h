/*
 * cli — tarmac's line mode: option parsing, one handler per command, and
 * the mapping of errors to exit codes (DESIGN.md): 0 ok; 1 validation or
 * migration failed; 2 usage or configuration; 3 connection or
 * authentication; 4 lock not acquired. Human text goes to stdout/stderr;
 * with --json, stdout holds exactly one JSON document.
 */
#ifndef TARMAC_TUI_CLI_H
#define TARMAC_TUI_CLI_H

#include <stdbool.h>

#include "aws/aws.h"
#include "base/err.h"
#include "tui/config.h"

enum cli_exit { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3, EXIT_LOCKED = 4 };

struct cli_opts {
	const char *config_path;     /* -c */
	const char *db_name;         /* -d */
	const char *url, *locations, *user, *table, *schemas;
	struct vec sets;             /* char*: --set key=value (Flyway settings) */
	bool json, yes, read_only, rehearse, out_of_order, suggest, force;
	const char *from;            /* push: the local directory */
	const char *theme;           /* console: --theme NAME */
	bool no_color;               /* console: --no-color */
	const char *argv0;           /* the program's path, for its share dir */
	const char *dry_run;         /* NULL: no; "-": stdout; else a file */
	const char *target, *version, *description;
	bool follow;                 /* ssm run: stream the output */
	const char *attach, *action; /* ssm run: a command id to follow; Flyway's verb */
	int lock_retry_count;        /* -2: unset */
	int argc;                    /* positional arguments after the command */
	char **argv;
};

/* What a command works on: the configuration and an engine context. */
struct cli_env {
	struct tui_conf conf;
	struct eng_config own;       /* used when no -d section is named */
	struct eng_config *cfg;      /* &own or the section's */
	const char *name;            /* the database's name, for messages */
	struct tui_db_conf *db;      /* the section, or NULL for the command line */
	struct eng_ctx ctx;
	struct aws_ctx *aws;         /* opened when something needs AWS */
};

/* The AWS context for this environment, opened on first use from [aws]
 * profile/region (read-only when the console or the database is). */
enum err_code cli_env_aws(struct cli_env *env, struct aws_ctx **out, struct err *e);
/* Adds an S3 source for every s3: location of the configuration. */
enum err_code cli_env_add_s3_sources(struct cli_env *env, struct err *e);
/* Fills user/password (and the URL, when the section has none) from the
 * section's `secret`, or an RDS IAM token for `iam_auth`. */
enum err_code cli_env_db_credentials(struct cli_env *env, struct err *e);

/* Builds the configuration from tarmac.conf, -d, FLYWAY_* variables,
 * --url/--locations/--set, opens the sources and (when connect) the
 * database. Always pair with cli_env_close. */
enum err_code cli_env_open(struct cli_env *env, const struct cli_opts *o, bool connect,
			   struct err *e);
void cli_env_close(struct cli_env *env);
/* The exit code for an error code. */
int cli_exit_code(enum err_code c);
/* Prints "tarmac: <message>" to stderr and returns the exit code. */
int cli_fail(const struct err *e);

int cmd_info(struct cli_opts *o);
int cmd_validate(struct cli_opts *o);
int cmd_migrate(struct cli_opts *o);
int cmd_baseline(struct cli_opts *o);
int cmd_repair(struct cli_opts *o);
int cmd_checksum(struct cli_opts *o);
int cmd_databases(struct cli_opts *o);
int cmd_buckets(struct cli_opts *o);
int cmd_push(struct cli_opts *o);
/* The database whose s3: locations name this bucket, or NULL. */
const char *cli_bucket_database(const struct tui_conf *conf, const char *bucket);
/* Whether an S3 key's file name is a Flyway migration name (V, R, B ... .sql). */
bool cli_key_is_migration(const char *key);

/* `tarmac ssm run|list|cancel` (tui/cmd_ssm.c); the sub-command is argv[0]. */
int cmd_ssm(struct cli_opts *o);

/* Flyway's ASCII table (AsciiTable): rows of cells, padded by characters. */
struct cli_table {
	size_t ncols;
	struct vec cells;            /* char*, row-major, header first */
};
void cli_table_init(struct cli_table *t, size_t ncols, const char *const *headers);
void cli_table_add(struct cli_table *t, const char *const *cells);
void cli_table_print(const struct cli_table *t, FILE *out);
void cli_table_release(struct cli_table *t);

/* "00:00.031s" as Flyway's TimeFormat prints durations. */
void cli_format_ms(long long ms, char *out, size_t n);

#endif
