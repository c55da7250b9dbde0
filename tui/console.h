/*
 * console — the interactive console (spec/console.md). This first cut
 * browses: header, crumbs, the databases pane, the selected database's
 * migrations (the diff), the output pane, footer; loading runs on worker
 * threads (tui/jobs.h) so keys answer while databases and buckets load.
 * Curses is touched by the UI thread only (console.c, con_draw.c).
 */
#ifndef TARMAC_TUI_CONSOLE_H
#define TARMAC_TUI_CONSOLE_H

#include <stdbool.h>
#include <stdio.h>

#include "tui/cli.h"
#include "tui/jobs.h"
#include "tui/ringlog.h"
#include "tui/theme.h"

/* One migration row as the console shows it (strings owned). */
struct con_row {
	enum eng_state state;
	bool mismatch;               /* file and history checksums differ */
	char *version, *description, *type, *installed_on, *installed_by;
	int execution_ms;
	char *local_sum, *applied_sum, *script;
};

/* What a load job hands the UI thread (moved, freed by the receiver). */
struct con_load {
	size_t index;                /* which database */
	char *engine;                /* "PostgreSQL 15.4" */
	char *current;               /* highest applied version, "" if none */
	size_t pending, failed, mismatched;
	struct vec rows;             /* struct con_row* */
	char *error;                 /* NULL when loaded */
};

struct con_db {
	const struct tui_db_conf *conf;
	struct con_load *load;       /* NULL until the first load arrives */
	bool loading;
};

enum con_pane { CON_PANE_DBS, CON_PANE_MIGS, CON_PANE_OUT };

struct con;

/* A confirmation dialog: its text, and what confirming does. The safe
 * button (Cancel) has the focus; on a prod database Confirm stays disabled
 * until the database's name is typed. */
struct con_dialog {
	bool open;
	char title[128];
	struct vec lines;            /* char* */
	char must_type[128];         /* "" or the name to type */
	char typed[128];
	bool confirm_focused;
	void (*confirm)(struct con *c);
};

struct con {
	struct cli_opts *opts;
	struct tui_conf conf;
	struct vec dbs;              /* struct con_db* */
	struct tui_jobs *jobs;
	struct tui_ringlog *log;
	struct tui_pens pens;
	bool utf8, read_only;
	enum con_pane focus;
	size_t db_cur, mig_cur, mig_top, db_top;
	char flash[256];
	bool dirty, quit;
	struct con_dialog dialog;
	int run_job;                 /* the running migrate/rehearse job, or 0 */
	bool quit_armed;             /* q pressed once while a run was going */
	FILE *trace;                 /* $TARMAC_CONSOLE_TRACE (bench/console.sh), or NULL */
	unsigned long keys;          /* keys read so far, for the trace */
};

int tui_console_run(struct cli_opts *o);

/* con_data.c: starts a load job for database i. */
void con_load_start(struct con *c, size_t i);
void con_load_free(void *p);
enum con_run { CON_RUN_MIGRATE, CON_RUN_REHEARSE, CON_RUN_PLAN, CON_RUN_VALIDATE };
/* Starts work on database i on a worker: migrate or rehearse (progress to
 * the output pane, the diff reloaded at the end), or the read-only plan
 * (dry-run script) or validate, whose text goes to the output pane. */
void con_run_start(struct con *c, size_t i, enum con_run kind);

/* con_draw.c */
void con_draw(struct con *c);
void con_draw_dialog(const struct con *c);
/* The glyph for a row ("✓" or "+" ...), and its theme role. */
const char *con_glyph(const struct con *c, const struct con_row *r, enum tui_role *role);

#endif
