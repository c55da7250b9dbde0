/*
 * jobs — worker threads, one message queue and a wake pipe; see jobs.h.
 *
 * Invariants:
 * - The queue (head, tail, pending, pending_bytes), `running` and each
 *   job's `dropped` and `finished` are guarded by jobs->lock. A job's hook
 *   is guarded by its hook_lock, which is held while the hook runs.
 * - The job list and next_id are touched by the UI thread only; a job
 *   struct lives until the UI thread has joined its thread, so the UI can
 *   use it without a lock.
 * - wake_pending is true from the post that wrote the wake byte until the
 *   drain that consumes it. A drain reads the pipe, then clears the flag,
 *   then takes the queue: a post that finds the flag already set enqueued
 *   before the clear (so that drain takes its message) or after a byte that
 *   no drain has read yet (so poll() will report it). No wake is lost; at
 *   worst a drain finds nothing.
 */
#include "tui/jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"

struct tui_job {
	int id;
	char *name;
	atomic_bool cancel;
	struct tui_jobs *jobs;
	pthread_t thread;
	tui_job_fn *fn;
	void *arg;
	void (*free_arg)(void *arg);
	pthread_mutex_t hook_lock;
	tui_job_hook_fn *hook;
	void *hook_ctx;
	size_t dropped;               /* OUTPUT messages dropped since the last kept one */
	bool finished;                /* DONE is queued: the thread is ending */
	struct tui_job *next;
};

struct tui_jobs {
	pthread_mutex_t lock;
	struct tui_msg *head, *tail;
	size_t pending, pending_bytes;
	size_t max_msgs, max_bytes;
	size_t running;
	struct tui_job *list;         /* started and not joined yet */
	int next_id;
	int wake_rd, wake_wr;
	atomic_bool wake_pending;
};

/* ---- messages ----------------------------------------------------------- */

struct tui_msg *tui_msg_new(enum tui_msg_kind kind)
{
	struct tui_msg *m = xcalloc(1, sizeof *m);

	m->kind = kind;
	return m;
}

void tui_msg_free(struct tui_msg *m)
{
	if (!m)
		return;
	if (m->data && m->free_data)
		m->free_data(m->data);
	free(m->text);
	free(m);
}

static void msg_list_free(struct tui_msg *m)
{
	while (m) {
		struct tui_msg *next = m->next;

		tui_msg_free(m);
		m = next;
	}
}

/* ---- the runner ---------------------------------------------------------- */

enum err_code tui_jobs_new(size_t max_msgs, size_t max_bytes, struct tui_jobs **out,
			   struct err *e)
{
	struct tui_jobs *j;
	int fds[2];

	*out = NULL;
	/* Non-blocking both ways: a post never waits for the UI, and drain
	 * reads until EAGAIN. Close-on-exec: an editor or pager started from
	 * the console must not inherit it. */
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
		return err_set(e, ERR_IO,
			       "cannot create the console's wake pipe: %s (too many open files?"
			       " raise ulimit -n)", strerror(errno));
	j = xcalloc(1, sizeof *j);
	pthread_mutex_init(&j->lock, NULL);
	j->max_msgs = max_msgs ? max_msgs : TUI_JOBS_MAX_MSGS;
	j->max_bytes = max_bytes ? max_bytes : TUI_JOBS_MAX_BYTES;
	j->wake_rd = fds[0];
	j->wake_wr = fds[1];
	atomic_init(&j->wake_pending, false);
	*out = j;
	return ERR_OK;
}

static void job_free(struct tui_job *job)
{
	pthread_mutex_destroy(&job->hook_lock);
	free(job->name);
	free(job);
}

void tui_jobs_free(struct tui_jobs *j)
{
	if (!j)
		return;
	tui_jobs_cancel_all(j);
	while (j->list) {
		struct tui_job *job = j->list;

		j->list = job->next;
		pthread_join(job->thread, NULL);
		job_free(job);
	}
	/* Every thread is gone: nobody else can touch the queue now. */
	msg_list_free(j->head);
	close(j->wake_rd);
	close(j->wake_wr);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

int tui_jobs_wake_fd(const struct tui_jobs *j)
{
	return j->wake_rd;
}

size_t tui_jobs_running(struct tui_jobs *j)
{
	size_t n;

	pthread_mutex_lock(&j->lock);
	n = j->running;
	pthread_mutex_unlock(&j->lock);
	return n;
}

/* One byte into the pipe; a full pipe (EAGAIN) is readable already. */
static void pipe_poke(int fd)
{
	ssize_t r;

	do
		r = write(fd, "", 1);
	while (r < 0 && errno == EINTR);
}

void tui_jobs_signal_wake(struct tui_jobs *j)
{
	int saved = errno;

	/* The flag is left alone: the drain this causes clears it anyway. */
	pipe_poke(j->wake_wr);
	errno = saved;
}

/* ---- posting -------------------------------------------------------------- */

/* Under j->lock. Only output and progress give way: a newer progress
 * supersedes a lost one, and lost output is counted. */
static bool queue_admits(const struct tui_jobs *j, const struct tui_msg *m)
{
	if (m->kind != TUI_MSG_OUTPUT && m->kind != TUI_MSG_PROGRESS)
		return true;
	return j->pending < j->max_msgs && m->len <= j->max_bytes &&
	       j->pending_bytes <= j->max_bytes - m->len;
}

/* Moves m into the queue, or frees it when the queue is full; `last`
 * marks the runner's DONE, which ends the job's share of `running`. */
static void job_post(struct tui_job *job, struct tui_msg *m, bool last)
{
	struct tui_jobs *j = job->jobs;
	bool keep;

	m->job_id = job->id;
	m->next = NULL;
	pthread_mutex_lock(&j->lock);
	keep = last || queue_admits(j, m);
	if (keep) {
		m->dropped = job->dropped;
		job->dropped = 0;
		if (j->tail)
			j->tail->next = m;
		else
			j->head = m;
		j->tail = m;
		j->pending++;
		j->pending_bytes += m->len;
	} else if (m->kind == TUI_MSG_OUTPUT) {
		job->dropped++;
	}
	if (last) {
		job->finished = true;
		j->running--;
	}
	pthread_mutex_unlock(&j->lock);
	if (!keep) {
		tui_msg_free(m);
		return;
	}
	/* One byte per burst: later posts see the flag and skip the write. */
	if (!atomic_exchange(&j->wake_pending, true))
		pipe_poke(j->wake_wr);
}

void tui_job_post_take(struct tui_job *job, struct tui_msg *m)
{
	job_post(job, m, false);
}

void tui_job_post_output(struct tui_job *job, enum tui_stream stream, const char *text,
			 size_t len)
{
	struct tui_msg *m = tui_msg_new(TUI_MSG_OUTPUT);

	m->stream = stream;
	m->text = xstrndup(text, len);
	m->len = len;
	job_post(job, m, false);
}

void tui_job_post_outputf(struct tui_job *job, enum tui_stream stream, const char *fmt, ...)
{
	struct tui_msg *m = tui_msg_new(TUI_MSG_OUTPUT);
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	m->stream = stream;
	m->text = buf_detach(&b, &m->len);
	job_post(job, m, false);
}

void tui_job_post_progress(struct tui_job *job, uint64_t done, uint64_t total,
			   const char *label)
{
	struct tui_msg *m = tui_msg_new(TUI_MSG_PROGRESS);

	m->done = done;
	m->total = total;
	if (label) {
		m->text = xstrdup(label);
		m->len = strlen(label);
	}
	job_post(job, m, false);
}

void tui_job_post_error(struct tui_job *job, const struct err *e)
{
	struct tui_msg *m = tui_msg_new(TUI_MSG_ERROR);

	m->code = e->code;
	m->text = xstrdup(e->msg);
	m->len = strlen(m->text);
	job_post(job, m, false);
}

void tui_job_post_result_take(struct tui_job *job, void *data, void (*free_data)(void *data))
{
	struct tui_msg *m = tui_msg_new(TUI_MSG_RESULT);

	m->data = data;
	m->free_data = free_data;
	job_post(job, m, false);
}

/* ---- the job's side ----------------------------------------------------- */

int tui_job_id(const struct tui_job *job)
{
	return job->id;
}

bool tui_job_cancelled(struct tui_job *job)
{
	return atomic_load(&job->cancel);
}

atomic_bool *tui_job_cancel_flag(struct tui_job *job)
{
	return &job->cancel;
}

void tui_job_set_cancel_hook(struct tui_job *job, tui_job_hook_fn *fn, void *ctx)
{
	/* Taking the lock waits out a hook the UI thread is running now. */
	pthread_mutex_lock(&job->hook_lock);
	job->hook = fn;
	job->hook_ctx = fn ? ctx : NULL;
	pthread_mutex_unlock(&job->hook_lock);
}

static void *job_main(void *p)
{
	struct tui_job *job = p;
	struct tui_msg *done = tui_msg_new(TUI_MSG_DONE);
	struct err e = ERR_INIT;

	done->code = job->fn(job, job->arg, &e);
	/* The hook's context is often inside arg: unhook before freeing it. */
	tui_job_set_cancel_hook(job, NULL, NULL);
	if (job->free_arg)
		job->free_arg(job->arg);
	job->arg = NULL;
	if (done->code != ERR_OK) {
		if (!e.msg[0])
			err_set(&e, done->code, "job '%s' failed (%s)", job->name,
				err_code_name(done->code));
		done->text = xstrdup(e.msg);
		done->len = strlen(done->text);
	}
	job_post(job, done, true);
	return NULL;
}

/* Workers leave asynchronous signals (SIGWINCH, SIGINT, SIGALRM...) to the
 * UI thread, so no handler interrupts a blocking call inside libpq or
 * curl. Faults stay deliverable to the thread that causes them. */
static void block_async_signals(sigset_t *old)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS };
	sigset_t set;

	sigfillset(&set);
	for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
		sigdelset(&set, faults[i]);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

enum err_code tui_jobs_start(struct tui_jobs *j, const struct tui_job_spec *spec, int *id,
			     struct err *e)
{
	const char *name = spec->name ? spec->name : "job";
	struct tui_job *job = xcalloc(1, sizeof *job);
	sigset_t old;
	int rc;

	*id = 0;
	job->name = xstrdup(name);
	job->fn = spec->fn;
	job->arg = spec->arg;
	job->free_arg = spec->free_arg;
	job->jobs = j;
	atomic_init(&job->cancel, false);
	pthread_mutex_init(&job->hook_lock, NULL);
	j->next_id = j->next_id == INT_MAX ? 1 : j->next_id + 1;
	job->id = j->next_id;
	/* Counted before the thread exists, so its DONE always has a share to end. */
	pthread_mutex_lock(&j->lock);
	j->running++;
	pthread_mutex_unlock(&j->lock);
	block_async_signals(&old);
	rc = pthread_create(&job->thread, NULL, job_main, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_mutex_lock(&j->lock);
		j->running--;
		pthread_mutex_unlock(&j->lock);
		if (job->free_arg)
			job->free_arg(job->arg);
		job_free(job);
		return err_set(e, ERR_IO, "cannot start job '%s': %s (too many threads? wait for"
			       " a running job to finish and retry)", name, strerror(rc));
	}
	job->next = j->list;
	j->list = job;
	*id = job->id;
	return ERR_OK;
}

/* ---- the UI's side -------------------------------------------------------- */

static void job_cancel(struct tui_job *job)
{
	/* The flag first: a statement the hook kills comes back to a job that
	 * already knows why. */
	atomic_store(&job->cancel, true);
	pthread_mutex_lock(&job->hook_lock);
	if (job->hook)
		job->hook(job->hook_ctx);
	pthread_mutex_unlock(&job->hook_lock);
}

bool tui_jobs_cancel(struct tui_jobs *j, int id)
{
	for (struct tui_job *job = j->list; job; job = job->next) {
		if (job->id == id) {
			job_cancel(job);
			return true;
		}
	}
	return false;
}

void tui_jobs_cancel_all(struct tui_jobs *j)
{
	for (struct tui_job *job = j->list; job; job = job->next)
		job_cancel(job);
}

/* Joins the jobs whose DONE is queued or delivered: their threads are past
 * their last lock, so the join waits for a few instructions at most. */
static void jobs_reap(struct tui_jobs *j)
{
	struct tui_job **pp = &j->list, *ended = NULL;

	pthread_mutex_lock(&j->lock);
	while (*pp) {
		struct tui_job *job = *pp;

		if (job->finished) {
			*pp = job->next;
			job->next = ended;
			ended = job;
		} else {
			pp = &job->next;
		}
	}
	pthread_mutex_unlock(&j->lock);
	while (ended) {
		struct tui_job *job = ended;

		ended = job->next;
		pthread_join(job->thread, NULL);
		job_free(job);
	}
}

size_t tui_jobs_drain(struct tui_jobs *j, tui_msg_fn *fn, void *ctx)
{
	struct tui_msg *m, *next;
	char sink[256];
	ssize_t r;
	size_t n = 0;

	/* Pipe, then flag, then queue: the order the top-of-file comment proves. */
	do
		r = read(j->wake_rd, sink, sizeof sink);
	while (r > 0 || (r < 0 && errno == EINTR));
	atomic_store(&j->wake_pending, false);
	pthread_mutex_lock(&j->lock);
	m = j->head;
	j->head = j->tail = NULL;
	j->pending = j->pending_bytes = 0;
	pthread_mutex_unlock(&j->lock);
	/* Outside the lock: the callback may be slow, and posts must not wait. */
	for (; m; m = next, n++) {
		next = m->next;
		m->next = NULL;
		if (fn)
			fn(m, ctx);
		else
			tui_msg_free(m);
	}
	jobs_reap(j);
	return n;
}
