/*
 * console — the interactive console (spec/console.md), private to the
 * con_*.c files: header, crumbs, the databases pane, the selected
 * database's migrations (the diff), text views (SQL, plan, validate,
 * details, help, buckets, locks, runs) over them, the output pane, footer,
 * dialogs and the `/` and `:` prompt.
 *
 * Threads: curses and every field of struct con belong to the UI thread
 * (console.c, con_draw.c, con_view.c, con_out.c, con_prompt.c,
 * con_actions.c, and the UI halves of the files below).
 * Database and AWS work runs on worker threads (con_data.c, con_fetch.c,
 * con_ssm.c) that own their own connections and hand results over as
 * messages (tui/jobs.h). A result's data begins with enum con_result_kind.
 */
#ifndef TARMAC_TUI_CONSOLE_H
#define TARMAC_TUI_CONSOLE_H

#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "tui/cli.h"
#include "tui/jobs.h"
#include "tui/ringlog.h"
#include "tui/theme.h"

struct con;

enum con_result_kind {
	CON_RES_LOAD,                /* struct con_load: a database's diff */
	CON_RES_VIEW,                /* struct con_view: a text view to open */
	CON_RES_DIALOG,              /* struct con_preview: a confirmation to ask */
	CON_RES_FACTS,               /* struct con_facts: the header's AWS facts */
	CON_RES_ORPHANS,             /* struct con_orphans: unmapped migration buckets */
	CON_RES_SSM,                 /* struct con_ssm_result: the command a job follows */
};

/* One migration row as the console shows it (strings owned). */
struct con_row {
	enum eng_state state;
	bool mismatch;               /* file and history checksums differ */
	char *version, *description, *type, *installed_on, *installed_by;
	int execution_ms;
	char *local_sum, *applied_sum, *script;
	char *etag, *location;       /* "" when unknown */
	int rank;                    /* installed_rank, 0 when not applied */
	bool success;
};

/* What a load job hands the UI thread (moved, freed by the receiver). */
struct con_load {
	enum con_result_kind kind;   /* CON_RES_LOAD */
	size_t index;                /* which database */
	char *engine;                /* "PostgreSQL 15.4" */
	char *current;               /* highest applied version, "" if none */
	size_t pending, failed, mismatched;
	struct vec rows;             /* struct con_row* */
	char *error;                 /* NULL when loaded */
	bool from_load_job;          /* a con_load_start job (not a run's reload) */
};

struct con_db {
	const struct tui_db_conf *conf;
	struct con_load *load;       /* NULL until the first load arrives */
	bool loading, marked;        /* marked: space, for fleet sends */
	bool queued;                 /* waiting for a free loader */
};

/* One line of a text view. */
struct con_line {
	char *text;
	enum tui_role role;          /* TUI_ROLE_COUNT: plain */
	char *key;                   /* what `open` acts on (a command id), or NULL */
};

/* A full-height text view over the panes: a pager with an optional cursor. */
struct con_view {
	enum con_result_kind kind;   /* CON_RES_VIEW when it travels as a result */
	char title[200];
	struct vec lines;            /* struct con_line* */
	bool numbers;                /* show line numbers (the SQL pager) */
	bool cursor;                 /* lines are selectable: Enter calls open */
	size_t top, cur;
	void (*open)(struct con *c, const struct con_line *l);
};

/* A mutating action's exact effect, computed on a worker (repair's rows,
 * baseline's statements) and asked about on the UI thread. */
enum con_run {
	CON_RUN_MIGRATE, CON_RUN_REHEARSE, CON_RUN_PLAN, CON_RUN_VALIDATE,
	CON_RUN_REPAIR, CON_RUN_BASELINE, CON_RUN_SSM,
};
struct con_preview {
	enum con_result_kind kind;   /* CON_RES_DIALOG */
	size_t index;                /* the database */
	enum con_run run;            /* what Confirm starts */
	char title[128];
	struct vec lines;            /* char* */
	bool nothing;                /* nothing to do: shown as a view, not a dialog */
	struct vec dbs;              /* SSM: char*, the databases to send for */
	char *attach;                /* SSM: a run in flight to follow instead, or NULL */
};

struct con_ssm_result {
	enum con_result_kind kind;   /* CON_RES_SSM */
	char *id, *db;               /* the command id, its database ("" unknown) */
};

/* The header's AWS facts. */
struct con_facts {
	enum con_result_kind kind;   /* CON_RES_FACTS */
	char account[32], arn[256], creds[64], region[32], profile[64];
	time_t expires;              /* 0: does not expire */
	char host[64], host_status[96];
	bool host_ok;
	char *error;                 /* why the facts are missing, or NULL */
};

struct con_orphans {
	enum con_result_kind kind;   /* CON_RES_ORPHANS */
	struct vec names;            /* char*: buckets holding migrations no database maps */
};

enum con_pane { CON_PANE_DBS, CON_PANE_MIGS, CON_PANE_OUT };

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
	size_t top;                  /* first line shown (Up/Down/PgUp/PgDn scroll) */
	bool seen_end;               /* its last line has been on the screen */
	size_t index;                /* the database it is about */
	void (*confirm)(struct con *c);
};

/* The output pane's reading state; the lines live in the ringlog. */
struct con_out {
	bool paused;                 /* not following: `seq` is the first line shown */
	uint64_t seq;                /* line number since start (ringlog_dropped-based) */
	bool wrap, stamps;
	bool hidden;                 /* o: the pane is not shown */
	int grow;                    /* + and -: rows more (or fewer) than a quarter */
	uint64_t queue_dropped;      /* output lines the job queue dropped under a flood */
};

enum con_prompt { CON_PROMPT_NONE, CON_PROMPT_FILTER, CON_PROMPT_COMMAND };

struct con {
	struct cli_opts *opts;
	struct tui_conf conf;
	struct vec dbs;              /* struct con_db* */
	struct tui_jobs *jobs;
	struct tui_ringlog *log;
	struct tui_pens pens;
	struct tui_theme theme;
	bool utf8, read_only;
	enum con_pane focus;
	size_t db_cur, mig_cur, mig_top, db_top;
	char flash[256];
	bool flash_error;
	bool dirty, quit;
	struct con_dialog dialog;
	struct vec views;            /* struct con_view*: the top one is shown */
	enum con_prompt prompt;
	char input[256];             /* the prompt's text */
	char filter[256];            /* the migrations/databases filter ("" none) */
	regex_t filter_re;
	bool filter_set, filter_invert;
	struct vec vis;              /* size_t*: visible migration rows under the filter */
	struct con_out out;
	struct con_facts *facts;     /* NULL until the facts job answers */
	struct vec orphans;          /* char* */
	size_t loads_running;        /* load jobs started and not yet answered */
	int run_job;                 /* the running migrate/rehearse/repair/baseline/ssm job, or 0 */
	bool run_is_ssm;
	size_t run_db;               /* the database a migrate/rehearse/repair/baseline run is on */
	char *ssm_id;                /* the SSM command being followed, or NULL */
	struct con_preview *ssm_pending; /* what the open S dialog would send */
	bool quit_armed;             /* q pressed once while a run was going */
	FILE *trace;                 /* $TARMAC_CONSOLE_TRACE (bench/console.sh), or NULL */
	unsigned long keys;          /* keys read so far, for the trace */
};

int tui_console_run(struct cli_opts *o);

/* console.c */
void con_log(struct con *c, enum tui_stream s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void con_flash(struct con *c, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct con_db *con_selected(struct con *c);
/* Read-only for the selected database: the console's setting or the
 * database's own read_only (with marked_too, any marked database's). */
bool con_read_only(const struct con *c, bool marked_too);
/* The selected migration row (through the filter), or NULL. */
const struct con_row *con_selected_row(struct con *c);
/* Re-reads the theme called name (the output pane tells what went wrong). */
void con_theme_apply(struct con *c, const char *name);

/* con_data.c: a load job for database i; at most CON_LOADS_MAX run at
 * once (fifty databases must not starve the UI thread of its first frame
 * on a small host), the rest wait in turn (con_load_next). */
#define CON_LOADS_MAX 6
void con_load_start(struct con *c, size_t i);
/* A load answered: starts the next waiting one. */
void con_load_next(struct con *c);
void con_load_free(void *p);
/* Starts work on database i on a worker: migrate, rehearse, repair or
 * baseline (progress to the output pane, the diff reloaded at the end,
 * the outcome in the audit log), or the read-only plan or validate, whose
 * text comes back as a view. */
void con_run_start(struct con *c, size_t i, enum con_run kind);
/* Computes what repair or baseline would do and comes back as a dialog. */
void con_preview_start(struct con *c, size_t i, enum con_run kind);
void con_preview_free(void *p);

/* con_fetch.c: read-only jobs whose answer is a view or header facts. */
void con_fetch_script(struct con *c, size_t i, const char *script);
void con_fetch_locks(struct con *c);
void con_fetch_buckets(struct con *c, bool orphans_only);
void con_fetch_facts(struct con *c);
void con_facts_free(void *p);
void con_orphans_free(void *p);

/* con_ssm.c: the Flyway host's command from the console. */
void con_ssm_send(struct con *c);
void con_ssm_runs(struct con *c);
bool con_ssm_cancel(struct con *c);
/* Opens the S dialog for a preview from a worker (takes it). */
void con_ssm_dialog(struct con *c, struct con_preview *pv);
/* At start: follows a run still in flight for a configured database. */
void con_ssm_reattach(struct con *c);
void con_ssm_result_free(void *p);
/* On a worker: the host's ping status and agent version into the facts. */
void con_ssm_host_facts(const char *config_path, struct con_facts *f);

/* con_view.c */
struct con_view *con_view_new(const char *title);
void con_view_free(void *p);
void con_view_add(struct con_view *v, enum tui_role role, const char *text, size_t len);
void con_view_addf(struct con_view *v, enum tui_role role, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Adds text split at newlines. */
void con_view_add_text(struct con_view *v, enum tui_role role, const char *text);
/* Shows v over the panes (takes it). */
void con_view_push_take(struct con *c, struct con_view *v);
void con_view_pop(struct con *c);
struct con_view *con_view_top(struct con *c);
/* Keys for the top view; false when the key is not a view key. */
bool con_view_key(struct con *c, int k);
/* n / N over the view with the current search. */
void con_view_search(struct con *c, bool backwards, bool from_top);
void con_view_draw(struct con *c, struct con_view *v, int y, int h, int w);

/* con_prompt.c: the `/` and `:` line. */
void con_prompt_open(struct con *c, enum con_prompt p);
void con_prompt_key(struct con *c, int k);
/* Rebuilds c->vis from the selected database and the filter. */
void con_filter_apply(struct con *c);
/* Moves the migrations cursor to the next/previous filter match. */
void con_filter_next(struct con *c, bool backwards);
bool con_filter_match(const struct con *c, const char *text);

/* con_actions.c: the action table, its dispatcher and the help. */
bool con_dispatch(struct con *c, int k);
void con_footer_hints(const struct con *c, char *out, size_t n);
void con_dialog_open(struct con *c, size_t db, const char *title, void (*confirm)(struct con *c));
void con_dialog_close(struct con *c);
void con_dialog_key(struct con *c, int k);
/* Opens the dialog for a preview that came back from a worker (takes it). */
void con_dialog_from_preview(struct con *c, struct con_preview *p);

/* con_out.c: the output pane's keys and save. */
bool con_out_key(struct con *c, int k);
void con_out_draw(struct con *c, int y, int h, int w);

/* con_draw.c */
void con_draw(struct con *c);
void con_draw_dialog(struct con *c);
/* Whether the open dialog's text fits from its current first line. */
bool con_dialog_shows_end(const struct con *c);
/* The glyph for a row ("✓" or "+" ...), and its theme role. */
const char *con_glyph(const struct con *c, const struct con_row *r, enum tui_role *role);
/* Text drawing helpers for the other con_*.c files. */
void con_pen(const struct con *c, enum tui_role r, bool on);
void con_put(int y, int x, int w, const char *s);
void con_putf(int y, int x, int w, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
struct con_rect {
	int y, x, h, w;
};
void con_box(const struct con *c, struct con_rect b, const char *title, bool focus);

#endif
