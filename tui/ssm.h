/*
 * ssm — the Flyway host's command through SSM Run Command, for the line
 * mode (tui/cmd_ssm.c) and the console alike: tarmac.conf's [ssm] command
 * rendered for a database, sent with one run per database, followed through
 * CloudWatch Logs while GetCommandInvocation reports its status, listed,
 * cancelled; the host's SSM agent status; a fleet run over several
 * databases, one after the other.
 *
 * Printing: never. Output lines and tarmac's own notes go to a sink; errors
 * come back in struct err, worded for a person (what failed, on what, what
 * to do).
 * Threads: a handle belongs to one thread at a time (a console job opens its
 * own); there are no globals, so handles on different threads are
 * independent. Sink callbacks run on the calling thread. The cancel flags
 * may be set from any thread or a signal handler.
 * Safety: every value put into the command template is checked against what
 * such a value can be (an S3 bucket name, a key prefix, a database name, one
 * of Flyway's verbs) and then single-quoted for the shell; anything else is
 * refused with ERR_USAGE before any AWS call. Read-only (tui_ssm_open's
 * flag, [console] read_only, or the database's read_only) refuses
 * SendCommand and CancelCommand with ERR_READ_ONLY before anything is sent.
 * Resume: tui_ssm_follow keeps the position it has delivered up to in a
 * state file per command under $XDG_STATE_HOME/tarmac/ssm/
 * (~/.local/state/tarmac/ssm/), so a follower that was stopped or killed can
 * be replaced by one that goes on where it stopped.
 */
#ifndef TARMAC_TUI_SSM_H
#define TARMAC_TUI_SSM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/vec.h"
#include "tui/ringlog.h"

struct tui_ssm;

/*
 * Loads tarmac.conf (config_path, or the usual places when NULL) and opens
 * an AWS context from its [aws] section (no call is made yet). read_only
 * adds to the file's own read_only settings. ERR_USAGE (or the loader's
 * ERR_IO, ERR_PARSE, ERR_TOO_LARGE) when the configuration cannot be read
 * or [ssm] target is missing or malformed. *out is NULL on error.
 */
enum err_code tui_ssm_open(const char *config_path, bool read_only, struct tui_ssm **out,
			   struct err *e);
/* NULL is a no-op. */
void tui_ssm_free(struct tui_ssm *s);

/* [ssm] target as written: "i-0123..." or "tag:Role=flyway-host". Borrowed. */
const char *tui_ssm_target(const struct tui_ssm *s);
/* Who runs are sent as: $USER, else the account's name, else "unknown";
 * every character outside A-Z a-z 0-9 . _ @ - turned into '_', at most 32
 * of them. Borrowed. */
const char *tui_ssm_operator(const struct tui_ssm *s);
/* True when sending or cancelling for db (NULL: any database) is refused. */
bool tui_ssm_read_only(const struct tui_ssm *s, const char *db);

/*
 * Appends the [ssm] command for database db and action (NULL: "migrate")
 * to out: {bucket} and {prefix} from the database's first s3: location,
 * {database}, {action}, each checked and single-quoted; other braces are
 * left alone (they may be the shell's ${x}). ERR_USAGE names the database
 * or value refused, a database not in tarmac.conf, a missing [ssm] command,
 * or a {bucket}/{prefix} for a database without an s3: location; out is
 * then as it was.
 */
enum err_code tui_ssm_render(struct tui_ssm *s, const char *db, const char *action,
			     struct buf *out, struct err *e);

/* *id = the id of a run tagged with db that is not final (the caller
 * frees), or NULL when there is none. ERR_USAGE for a db not in tarmac.conf. */
enum err_code tui_ssm_in_flight(struct tui_ssm *s, const char *db, char **id, struct err *e);

/*
 * Sends text (from tui_ssm_render) as the command for db: ERR_READ_ONLY
 * when db is read-only; ERR_LOCKED when a run for db is in flight (the
 * message names it and says how to attach); else SendCommand with output
 * to CloudWatch Logs and Comment "tarmac db=NAME run=XXXXXXXX by=OPERATOR"
 * (at most 100 characters: ERR_USAGE for a database name too long for it).
 * *id = the command id (the caller frees). Also records an empty follow
 * position for the command (see tui_ssm_follow).
 */
enum err_code tui_ssm_send(struct tui_ssm *s, const char *db, const char *text, char **id,
			   struct err *e);
/* The Comment of the last successful tui_ssm_send ("" before one). Borrowed,
 * valid until the next send or free. */
const char *tui_ssm_comment(const struct tui_ssm *s);

/*
 * Where tui_ssm_follow delivers (a NULL sink or line drops everything).
 * line() gets one line, without its newline
 * (text[len] is '\0'): TUI_STREAM_STDOUT or TUI_STREAM_STDERR for the
 * command's output, TUI_STREAM_INFO for tarmac's own notes (resuming, the
 * instance followed, the 24,000-character fallback). A line counts as
 * delivered once line() returns: a sink that buffers must flush before it
 * returns, or a follower killed right after may leave it out of both runs.
 */
struct tui_ssm_sink {
	void (*line)(void *ctx, enum tui_stream stream, const char *text, size_t len);
	void *ctx;
};

struct tui_ssm_outcome {
	char status[32];     /* Success, Failed, Cancelled, TimedOut */
	int exit_code;       /* the command's; -1 when it never ran */
	double seconds;      /* whole seconds from the agent's start and end times;
				else the time this call followed it (fractional) */
};

/* "status Success, exit code 0, 12 s" (tenths for a time tarmac measured). */
void tui_ssm_outcome_format(const struct tui_ssm_outcome *o, char *out, size_t n);

/*
 * Follows command id until it is final, delivering each line of its stdout
 * and stderr once, then fills *out (ERR_OK whatever the status: a Failed
 * command is an outcome, not an error).
 * Position: after every page of output the forward tokens of both streams
 * and the count of lines delivered are written to the command's state file
 * (temp file, fsync, rename; mode 0600 in a 0700 directory). When the file
 * exists the follow starts there ("resuming ID after N lines already
 * shown"); when it is missing or unreadable it starts from the beginning
 * and says so. The file is removed once the command is final and both
 * streams are drained. A state file that cannot be written is noted once
 * and following goes on (a later attach would repeat lines).
 * No output in CloudWatch Logs at the end: the invocation's own copy is
 * delivered instead (AWS cuts it at 24,000 characters of stdout and 8,000
 * of stderr), after a note saying so.
 * cancel (may be NULL) is checked after every page and between polls, and
 * also stops an AWS call in progress: then ERR_CANCELLED, the position of
 * everything delivered saved. ERR_USAGE for an id that is not an SSM command
 * id; ERR_HTTP/ERR_NET/ERR_AUTH from the calls.
 */
enum err_code tui_ssm_follow(struct tui_ssm *s, const char *id, const struct tui_ssm_sink *sink,
			     atomic_bool *cancel, struct tui_ssm_outcome *out, struct err *e);

/* CancelCommand for id; ERR_READ_ONLY when the handle is read-only (the
 * caller who knows the database also checks tui_ssm_read_only). Returns
 * once SSM has taken the request; the command ends shortly after (see
 * tui_ssm_wait_final). */
enum err_code tui_ssm_cancel(struct tui_ssm *s, const char *id, struct err *e);

struct tui_ssm_invocation {
	char *instance_id, *status;
};
void tui_ssm_invocation_free(void *p);
/* Waits (polling 4 times a second, at most timeout_s) until every
 * invocation of id is final and appends one struct tui_ssm_invocation * per
 * instance to invs. ERR_HTTP past the timeout; ERR_CANCELLED when cancel
 * (may be NULL) is set. */
enum err_code tui_ssm_wait_final(struct tui_ssm *s, const char *id, int timeout_s,
				 atomic_bool *cancel, struct vec *invs, struct err *e);

struct tui_ssm_run {
	char *id, *db;          /* db: "" for a command tarmac did not send */
	char *operator_name;    /* "" when the Comment names none */
	char *status, *requested;
	long long seconds;      /* from the agent's times once final; -1 unknown */
};
/* The newest runs on the target (db NULL: every command; else that
 * database's, ERR_USAGE when it is not in tarmac.conf), at most max, newest
 * first; appends struct tui_ssm_run *. Costs two more calls per finished
 * run (its duration). */
enum err_code tui_ssm_list(struct tui_ssm *s, const char *db, int max, struct vec *runs,
			   struct err *e);
void tui_ssm_run_free(void *p);

struct tui_ssm_host {
	char instance_id[32];   /* the instance (a tag target's first; "" if none) */
	char ping[32];          /* Online, ConnectionLost, Inactive */
	char agent[32], platform[64];
	bool managed;           /* false: SSM does not know it (ping etc. empty) */
};
/* DescribeInstanceInformation for the target; managed=false (not an error)
 * when SSM does not know the instance. For a tag target: the first instance
 * with that tag, if any. */
enum err_code tui_ssm_host_status(struct tui_ssm *s, struct tui_ssm_host *out, struct err *e);

/*
 * A fleet run: renders every database's command first (ERR_USAGE or
 * ERR_READ_ONLY for any of them: nothing is sent), then for each database
 * in order sends, follows and waits for the end, stopping at the first run
 * whose status is not Success (MaxConcurrency 1, MaxErrors 0). Notes go to
 * the sink as TUI_STREAM_INFO: "fleet 2/3: products", "sent ID (COMMENT)",
 * "fleet 2/3: products: status Success, exit code 0, 4 s". *done = the
 * runs that succeeded, which are dbs[0..*done). ERR_OK only when all n did;
 * a run that ended otherwise is ERR_VALIDATE; an error of send or follow
 * (ERR_LOCKED, ERR_CANCELLED, ERR_HTTP, ...) keeps its code. Either way the
 * message says where the fleet stopped, why, how to re-attach when it was
 * cancelled, and which databases were not sent.
 */
enum err_code tui_ssm_fleet(struct tui_ssm *s, const char *const *dbs, size_t n,
			    const char *action, const struct tui_ssm_sink *sink,
			    atomic_bool *cancel, size_t *done, struct err *e);

#endif
