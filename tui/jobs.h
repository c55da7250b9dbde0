/*
 * jobs — runs blocking work (AWS calls, database queries, migrations, SSM
 * streaming) on worker threads and brings its results to the UI thread.
 *
 * Each job runs a tui_job_fn on a thread of its own and talks back only by
 * posting messages: the job allocates a message, posting moves it into one
 * mutex-protected FIFO, and the UI thread, woken through a pipe it poll()s
 * next to stdin, takes the whole queue at once and hands every message to
 * a callback that frees it. Between threads, messages are moved, never
 * shared. Messages of one job arrive in the order it posted them.
 *
 * The wake pipe (both ends O_CLOEXEC | O_NONBLOCK) carries at most one
 * pending byte per burst of posts, so a chatty job costs one write() per
 * UI wake-up, not one per line. tui_jobs_signal_wake only write()s, so a
 * SIGWINCH handler may call it. Worker threads start with asynchronous
 * signals blocked: handlers run on the UI thread and never interrupt a
 * worker's network or database call.
 *
 * The queue is bounded: past max_msgs pending messages or max_bytes of
 * pending text, output and progress messages are dropped (output ones are
 * counted and the count rides on the job's next message that gets
 * through); errors, results and the final DONE are always kept, so a flood
 * can neither exhaust memory nor hide how a job ended.
 *
 * Cancelling sets the job's atomic flag, then calls the cancel hook the job
 * installed (db_cancel for a running statement, say). A job must watch the
 * flag (or hand it to aws_ctx_options.cancel) and return soon after it is
 * set: tui_jobs_free cancels every job and joins its thread.
 *
 * Threads: tui_jobs_* functions belong to the UI thread (the one that made
 * the runner), except tui_jobs_running and tui_jobs_signal_wake, which any
 * thread or signal handler may call. tui_job_* functions belong to the job's
 * own thread.
 */
#ifndef TARMAC_TUI_JOBS_H
#define TARMAC_TUI_JOBS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "tui/ringlog.h"

#define TUI_JOBS_MAX_MSGS 100000
#define TUI_JOBS_MAX_BYTES ((size_t)64 * 1024 * 1024)

enum tui_msg_kind {
	TUI_MSG_OUTPUT,       /* text[len] on `stream`: whole lines, or a chunk
				 that may end mid-line (tui_ringlog_append_bytes) */
	TUI_MSG_PROGRESS,     /* `done` of `total` (0: unknown); text: what, or NULL */
	TUI_MSG_ERROR,        /* code + text: a failure the job carries on after */
	TUI_MSG_RESULT,       /* data: what the job produced, freed by free_data */
	TUI_MSG_DONE,         /* the job's last message: fn's code, and its error
				 text (NULL when code is ERR_OK) */
};

struct tui_msg {
	enum tui_msg_kind kind;
	int job_id;                  /* set by the post */
	enum tui_stream stream;      /* OUTPUT */
	char *text;                  /* owned, NUL-terminated, or NULL */
	size_t len;                  /* bytes of text */
	uint64_t done, total;        /* PROGRESS */
	enum err_code code;          /* ERROR, DONE */
	void *data;                  /* RESULT: owned */
	void (*free_data)(void *data);
	size_t dropped;              /* this job's OUTPUT messages dropped just before this one */
	struct tui_msg *next;        /* the queue's link: the runner's until drained */
};

/* A zeroed message of that kind. Never fails. */
struct tui_msg *tui_msg_new(enum tui_msg_kind kind);
/* Frees text and data (through free_data) too; NULL is a no-op. */
void tui_msg_free(struct tui_msg *m);

struct tui_jobs;
struct tui_job;

/*
 * The work of a job, on its own thread. Returns ERR_OK, or fills e
 * (ERR_CANCELLED once it noticed tui_job_cancelled). `arg` is the spec's.
 */
typedef enum err_code tui_job_fn(struct tui_job *job, void *arg, struct err *e);
/* Asks the work in progress to stop; called on the UI thread. */
typedef void tui_job_hook_fn(void *ctx);
/* Receives each drained message and owns it from then on. */
typedef void tui_msg_fn(struct tui_msg *m, void *ctx);

struct tui_job_spec {
	const char *name;            /* for error messages; copied */
	tui_job_fn *fn;
	void *arg;                   /* moved to the job */
	void (*free_arg)(void *arg); /* called on the job's thread after fn; may be NULL */
};

/*
 * A runner holding at most max_msgs pending messages and max_bytes of
 * pending text (0: TUI_JOBS_MAX_MSGS, TUI_JOBS_MAX_BYTES). ERR_IO when the
 * wake pipe cannot be made.
 */
enum err_code tui_jobs_new(size_t max_msgs, size_t max_bytes, struct tui_jobs **out,
			   struct err *e);
/*
 * Cancels every job, joins every thread, frees undrained messages and
 * closes the pipe. Blocks until each job has returned; NULL is a no-op.
 */
void tui_jobs_free(struct tui_jobs *j);
/* The read end of the wake pipe, for poll(POLLIN); then call drain. */
int tui_jobs_wake_fd(const struct tui_jobs *j);
/*
 * Starts spec->fn(job, spec->arg, e) on a new thread and sets *id (> 0).
 * spec->arg is the job's from here on, even on failure (then freed at
 * once). ERR_IO when no thread can be started.
 */
enum err_code tui_jobs_start(struct tui_jobs *j, const struct tui_job_spec *spec, int *id,
			     struct err *e);
/*
 * Asks job `id` to stop: sets its flag, then calls its cancel hook, if any,
 * on this thread (so a hook must be quick: PQcancel, not a retry loop).
 * Does not wait for the job: its DONE message says when it has stopped.
 * False when the runner no longer knows the id (finished and joined, or
 * never started).
 */
bool tui_jobs_cancel(struct tui_jobs *j, int id);
/* tui_jobs_cancel for every job. */
void tui_jobs_cancel_all(struct tui_jobs *j);
/*
 * Empties the wake pipe, takes every pending message at once and passes
 * them to fn in order; fn owns each one (NULL fn: they are freed). Then
 * joins the jobs that have posted their DONE, which only waits for a
 * thread's last instructions. fn may start and cancel jobs, not free the
 * runner. Returns how many messages were passed.
 */
size_t tui_jobs_drain(struct tui_jobs *j, tui_msg_fn *fn, void *ctx);
/* Jobs whose fn has not returned yet. Any thread. */
size_t tui_jobs_running(struct tui_jobs *j);
/* Makes the wake fd readable. Async-signal-safe: only calls write(). */
void tui_jobs_signal_wake(struct tui_jobs *j);

/* ---- from inside a job (its own thread) --------------------------------- */

int tui_job_id(const struct tui_job *job);
bool tui_job_cancelled(struct tui_job *job);
/* The flag itself, for aws_ctx_options.cancel; valid while the job runs. */
atomic_bool *tui_job_cancel_flag(struct tui_job *job);
/*
 * Installs (fn != NULL) or removes the hook tui_jobs_cancel calls. Once
 * this returns, the old hook is not running and will not run again, so a
 * job removes it before closing what ctx points to (the runner removes it
 * after fn returns in any case). A hook must not call tui_job_* functions.
 */
void tui_job_set_cancel_hook(struct tui_job *job, tui_job_hook_fn *fn, void *ctx);
/* Moves m into the queue (sets m->job_id) and wakes the UI thread. */
void tui_job_post_take(struct tui_job *job, struct tui_msg *m);
/* Posts a copy of text[0..len) as output on `stream`. */
void tui_job_post_output(struct tui_job *job, enum tui_stream stream, const char *text,
			 size_t len);
void tui_job_post_outputf(struct tui_job *job, enum tui_stream stream, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* label may be NULL. */
void tui_job_post_progress(struct tui_job *job, uint64_t done, uint64_t total,
			   const char *label);
/* Posts e's code and message as an ERROR; the job goes on. */
void tui_job_post_error(struct tui_job *job, const struct err *e);
/* Moves data (freed by free_data, which may be NULL) into a RESULT. */
void tui_job_post_result_take(struct tui_job *job, void *data, void (*free_data)(void *data));

#endif
