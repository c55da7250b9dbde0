/*
 * config — tarmac.conf: INI in git-config style, parsed with libinih.
 *
 * Sections: [aws], [console], [ssm], and one [database "NAME"] per
 * database. A database section either carries the Flyway settings itself
 * (url, user, password, locations, table, schemas, placeholders,
 * baseline_version, baseline_description, environment, read_only, ...) or
 * names a Flyway config with `flyway_conf = FILE`, whose settings are
 * loaded first and then overridden by the section's own keys.
 * Every key is described once, in the key table in config.c, which also
 * drives `tarmac --help-config`.
 *
 * Errors name the file and line ("tarmac.conf:12: unknown key 'tabel' in
 * [database \"users\"]"). Passwords are wiped on release.
 */
#ifndef TARMAC_TUI_CONFIG_H
#define TARMAC_TUI_CONFIG_H

#include <stdbool.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/vec.h"
#include "engine/engine.h"

struct tui_db_conf {
	char *name;
	struct eng_config eng;   /* Flyway settings for this database */
	char *secret;            /* Secrets Manager ARN, or NULL */
	bool iam_auth;           /* RDS IAM auth token instead of a password */
	char *flyway_conf;       /* imported Flyway config path, or NULL */
};

struct tui_conf {
	char *path;              /* the file read, or NULL when none was found */
	char *aws_profile, *aws_region;
	char *theme;             /* "default" */
	bool read_only;          /* [console] read_only */
	char *ssm_target, *ssm_document, *ssm_log_group, *ssm_command;
	struct vec databases;    /* struct tui_db_conf*, in file order */
};

void tui_conf_init(struct tui_conf *c);
void tui_conf_release(struct tui_conf *c);
/*
 * Finds and loads the configuration: `explicit_path` (-c) when given, else
 * $TARMAC_CONFIG (both must exist: ERR_IO "cannot read config FILE: ..."),
 * else ./tarmac.conf, $XDG_CONFIG_HOME/tarmac/tarmac.conf (~/.config when
 * unset). No file at all is not an error (c->path stays NULL). Files over
 * 1 MiB are ERR_TOO_LARGE. On error c may hold part of the file: release it.
 */
enum err_code tui_conf_load(struct tui_conf *c, const char *explicit_path, struct err *e);
/* Parses text as a tarmac.conf named `name` (for tests and fuzzing);
 * flyway_conf paths are resolved relative to `name`'s directory. */
enum err_code tui_conf_parse(struct tui_conf *c, const char *name, const char *text,
			     struct err *e);
/* The database section called name, or NULL. */
struct tui_db_conf *tui_conf_find_db(const struct tui_conf *c, const char *name);
/* Appends the description of every section and key (`tarmac --help-config`). */
void tui_conf_help(struct buf *out);

#endif
