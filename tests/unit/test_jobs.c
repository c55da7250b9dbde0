/*
 * test_jobs — the job runner with real threads: messages arrive complete
 * and in order (two jobs at once), the wake fd turns readable and drain
 * empties it (one byte per burst), cancel stops a looping job within
 * 100 ms and calls the job's hook, free cancels and joins running jobs,
 * a flood drops output past the limit and reports how much, and a signal
 * handler can wake poll(). Built under TSan by `make tsan`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/time.h"
#include "tui/jobs.h"

#define MAX_JOBS 4
#define PUMP_LIMIT_NS (20ull * 1000 * 1000 * 1000)

/* ---- the UI side: what drain delivered, per job ------------------------------ */

struct seen_job {
	int id;
	size_t outputs, progress, errors, results, dropped;
	char label[64];              /* the last progress label */
	char error[512];             /* the last ERROR's text */
	enum err_code error_code;
	bool done;
	enum err_code code;          /* DONE's */
	char done_text[512];
	bool done_text_null;
};

struct seen {
	struct seen_job job[MAX_JOBS];
	size_t n;
};

static struct seen_job *seen_find(struct seen *s, int id)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->job[i].id == id)
			return &s->job[i];
	}
	assert_true(s->n < MAX_JOBS);
	s->job[s->n].id = id;
	return &s->job[s->n++];
}

static void seen_done(struct seen_job *sj, const struct tui_msg *m)
{
	sj->done = true;
	sj->code = m->code;
	sj->done_text_null = m->text == NULL;
	snprintf(sj->done_text, sizeof sj->done_text, "%s", m->text ? m->text : "");
}

/*
 * The drain callback. Output texts are "line N", N counting every output
 * the job posted: with `dropped` added first, N must be exactly the number
 * of outputs delivered or dropped before this one, so any loss, duplicate
 * or reordering fails.
 */
static void collect(struct tui_msg *m, void *ctx)
{
	struct seen_job *sj = seen_find(ctx, m->job_id);
	char want[32];

	assert_false(sj->done); /* DONE is a job's last message */
	assert_null(m->next);
	sj->dropped += m->dropped;
	switch (m->kind) {
	case TUI_MSG_OUTPUT:
		snprintf(want, sizeof want, "line %zu", sj->outputs + sj->dropped);
		assert_string_equal(m->text, want);
		assert_int_equal(m->len, strlen(want));
		assert_int_equal(m->stream, TUI_STREAM_STDOUT);
		sj->outputs++;
		break;
	case TUI_MSG_PROGRESS:
		sj->progress++;
		snprintf(sj->label, sizeof sj->label, "%s", m->text ? m->text : "");
		break;
	case TUI_MSG_ERROR:
		sj->errors++;
		sj->error_code = m->code;
		snprintf(sj->error, sizeof sj->error, "%s", m->text);
		break;
	case TUI_MSG_RESULT:
		sj->results++;
		assert_string_equal(m->data, "the plan");
		break;
	case TUI_MSG_DONE:
		seen_done(sj, m);
		break;
	}
	tui_msg_free(m);
}

typedef bool cond_fn(const struct seen_job *sj, const void *arg);

static bool is_done(const struct seen_job *sj, const void *arg)
{
	(void)arg;
	return sj->done;
}

static bool has_label(const struct seen_job *sj, const void *arg)
{
	return strcmp(sj->label, arg) == 0;
}

/* The console's main loop in small: poll the wake fd, drain, until cond. */
static void pump(struct tui_jobs *j, struct seen *s, int id, cond_fn *cond, const void *arg)
{
	uint64_t end = time_mono_ns() + PUMP_LIMIT_NS;

	while (!cond(seen_find(s, id), arg)) {
		struct pollfd p = { tui_jobs_wake_fd(j), POLLIN, 0 };
		int rc = poll(&p, 1, 1000);

		assert_true(rc >= 0 || errno == EINTR);
		assert_true(time_mono_ns() < end);
		tui_jobs_drain(j, collect, s);
	}
}

static int poll_now(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static struct tui_jobs *jobs_new(size_t max_msgs, size_t max_bytes)
{
	struct tui_jobs *j = NULL;
	struct err e = ERR_INIT;

	assert_int_equal(tui_jobs_new(max_msgs, max_bytes, &j, &e), ERR_OK);
	assert_non_null(j);
	return j;
}

static int start(struct tui_jobs *j, const char *name, tui_job_fn *fn, void *arg,
		 void (*free_arg)(void *))
{
	struct tui_job_spec spec = { name, fn, arg, free_arg };
	struct err e = ERR_INIT;
	int id = -1;

	assert_int_equal(tui_jobs_start(j, &spec, &id, &e), ERR_OK);
	assert_true(id > 0);
	return id;
}

/* ---- jobs ------------------------------------------------------------------- */

static enum err_code job_count(struct tui_job *job, void *arg, struct err *e)
{
	size_t n = *(const size_t *)arg;

	(void)e;
	for (size_t i = 0; i < n; i++)
		tui_job_post_outputf(job, TUI_STREAM_STDOUT, "line %zu", i);
	return ERR_OK;
}

static enum err_code job_loop(struct tui_job *job, void *arg, struct err *e)
{
	(void)arg;
	tui_job_post_progress(job, 0, 0, "looping");
	while (!tui_job_cancelled(job))
		sleep_ms(1);
	return err_set(e, ERR_CANCELLED, "cancelled");
}

/* ---- messages arrive complete and in order -------------------------------- */

static void test_messages_complete_and_in_order(void **state)
{
	static size_t n = 10000; /* read by both jobs, written by none */
	struct tui_jobs *j = jobs_new(0, 0);
	struct seen s = { 0 };
	int a, b;

	(void)state;
	a = start(j, "count a", job_count, &n, NULL);
	b = start(j, "count b", job_count, &n, NULL);
	assert_int_not_equal(a, b);
	pump(j, &s, a, is_done, NULL);
	pump(j, &s, b, is_done, NULL);
	for (int id = a; id <= b; id++) {
		const struct seen_job *sj = seen_find(&s, id);

		assert_int_equal(sj->outputs, n);
		assert_int_equal(sj->dropped, 0);
		assert_int_equal(sj->code, ERR_OK);
		assert_true(sj->done_text_null);
	}
	assert_int_equal(tui_jobs_running(j), 0);
	tui_jobs_free(j);
}

/* ---- the wake fd ---------------------------------------------------------- */

struct gate {
	atomic_int open;             /* raised by the test */
	atomic_bool posted;          /* the burst is in the queue */
};

static void gate_wait(struct gate *g, int level)
{
	while (atomic_load(&g->open) < level)
		sleep_ms(1);
}

static enum err_code job_gated(struct tui_job *job, void *arg, struct err *e)
{
	struct gate *g = arg;

	(void)e;
	tui_job_post_outputf(job, TUI_STREAM_STDOUT, "line 0");
	gate_wait(g, 1);
	for (size_t i = 1; i <= 1000; i++)
		tui_job_post_outputf(job, TUI_STREAM_STDOUT, "line %zu", i);
	atomic_store(&g->posted, true);
	gate_wait(g, 2);
	return ERR_OK;
}

static void test_wake_fd_readable_then_drained(void **state)
{
	struct tui_jobs *j = jobs_new(0, 0);
	int fd = tui_jobs_wake_fd(j), pending = -1, id;
	struct pollfd p = { fd, POLLIN, 0 };
	struct gate g = { 0, false };
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(poll_now(fd), 0);
	id = start(j, "gated", job_gated, &g, NULL);
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_true(p.revents & POLLIN);
	assert_int_equal(tui_jobs_drain(j, collect, &s), 1);
	assert_int_equal(poll_now(fd), 0);
	assert_int_equal(tui_jobs_drain(j, collect, &s), 0);

	/* 1,000 posts while the UI sleeps: one byte in the pipe, not 1,000. */
	atomic_store(&g.open, 1);
	while (!atomic_load(&g.posted))
		sleep_ms(1);
	assert_int_equal(ioctl(fd, FIONREAD, &pending), 0);
	assert_int_equal(pending, 1);
	assert_int_equal(poll_now(fd), 1);
	assert_int_equal(tui_jobs_drain(j, collect, &s), 1000);
	assert_int_equal(poll_now(fd), 0);
	assert_int_equal(seen_find(&s, id)->outputs, 1001);
	assert_int_equal(tui_jobs_running(j), 1);

	atomic_store(&g.open, 2);
	pump(j, &s, id, is_done, NULL);
	assert_int_equal(tui_jobs_running(j), 0);
	tui_jobs_free(j);
}

/* ---- cancel ---------------------------------------------------------------- */

static void test_cancel_stops_a_looping_job(void **state)
{
	struct tui_jobs *j = jobs_new(0, 0);
	struct seen s = { 0 };
	const struct seen_job *sj;
	uint64_t t0;
	int id;

	(void)state;
	id = start(j, "loop", job_loop, NULL, NULL);
	pump(j, &s, id, has_label, "looping");
	assert_int_equal(tui_jobs_running(j), 1);
	t0 = time_mono_ns();
	assert_true(tui_jobs_cancel(j, id));
	pump(j, &s, id, is_done, NULL);
	assert_true(time_ms_between(t0, time_mono_ns()) < 100);
	sj = seen_find(&s, id);
	assert_int_equal(sj->code, ERR_CANCELLED);
	assert_string_equal(sj->done_text, "cancelled");
	/* Joined with its DONE: the id is gone. */
	assert_false(tui_jobs_cancel(j, id));
	assert_false(tui_jobs_cancel(j, 9999));
	tui_jobs_free(j);
}

/*
 * A job blocked in a call that only its hook can interrupt (as a query
 * only PQcancel can): a read() that the hook makes return.
 */
struct blocked {
	int fds[2];
	atomic_int hook_calls;
	atomic_bool saw_flag;        /* the flag was set before the hook ran */
	struct tui_job *job;
};

static void unblock_hook(void *ctx)
{
	struct blocked *b = ctx;
	ssize_t r;

	atomic_store(&b->saw_flag, tui_job_cancelled(b->job));
	atomic_fetch_add(&b->hook_calls, 1);
	r = write(b->fds[1], "x", 1);
	assert_int_equal(r, 1);
}

static enum err_code job_blocked(struct tui_job *job, void *arg, struct err *e)
{
	struct blocked *b = arg;
	char c;
	ssize_t r;

	b->job = job;
	tui_job_set_cancel_hook(job, unblock_hook, b);
	tui_job_post_progress(job, 0, 0, "hooked");
	do
		r = read(b->fds[0], &c, 1);
	while (r < 0 && errno == EINTR);
	if (tui_job_cancelled(job))
		return err_set(e, ERR_CANCELLED, "query cancelled");
	return ERR_OK;
}

static void test_cancel_calls_the_hook(void **state)
{
	struct tui_jobs *j = jobs_new(0, 0);
	struct blocked b = { { -1, -1 }, 0, false, NULL };
	struct seen s = { 0 };
	int id;

	(void)state;
	assert_int_equal(pipe(b.fds), 0);
	id = start(j, "blocked", job_blocked, &b, NULL);
	pump(j, &s, id, has_label, "hooked");
	assert_int_equal(atomic_load(&b.hook_calls), 0);
	assert_true(tui_jobs_cancel(j, id));
	assert_int_equal(atomic_load(&b.hook_calls), 1);
	assert_true(atomic_load(&b.saw_flag));
	pump(j, &s, id, is_done, NULL);
	assert_int_equal(seen_find(&s, id)->code, ERR_CANCELLED);
	assert_string_equal(seen_find(&s, id)->done_text, "query cancelled");
	assert_int_equal(atomic_load(&b.hook_calls), 1);
	close(b.fds[0]);
	close(b.fds[1]);
	tui_jobs_free(j);
}

/* ---- free ------------------------------------------------------------------ */

struct tally {
	atomic_int exited, freed_args, freed_results;
};

struct loop_arg {
	struct tally *t;
};

static void free_loop_arg(void *p)
{
	struct loop_arg *a = p;

	atomic_fetch_add(&a->t->freed_args, 1);
	free(a);
}

static struct tally *result_tally;

static void free_counted_result(void *p)
{
	atomic_fetch_add(&result_tally->freed_results, 1);
	free(p);
}

static enum err_code job_loop_counted(struct tui_job *job, void *arg, struct err *e)
{
	struct loop_arg *a = arg;
	enum err_code rc;

	tui_job_post_result_take(job, xstrdup("the plan"), free_counted_result);
	rc = job_loop(job, NULL, e);
	atomic_fetch_add(&a->t->exited, 1);
	return rc;
}

static void test_free_cancels_and_joins(void **state)
{
	struct tui_jobs *j = jobs_new(0, 0);
	struct tally t = { 0, 0, 0 };

	(void)state;
	result_tally = &t;
	for (int i = 0; i < 3; i++) {
		struct loop_arg *a = xmalloc(sizeof *a);

		a->t = &t;
		start(j, "loop", job_loop_counted, a, free_loop_arg);
	}
	/* Not drained: the jobs' results and DONEs are freed by free. */
	tui_jobs_free(j);
	assert_int_equal(atomic_load(&t.exited), 3);
	assert_int_equal(atomic_load(&t.freed_args), 3);
	assert_int_equal(atomic_load(&t.freed_results), 3);
	tui_jobs_free(NULL);
}

/* ---- the flood limit ---------------------------------------------------------- */

static enum err_code job_flood(struct tui_job *job, void *arg, struct err *e)
{
	struct err warn = ERR_INIT;

	(void)arg;
	(void)e;
	for (size_t i = 0; i < 5000; i++)
		tui_job_post_outputf(job, TUI_STREAM_STDOUT, "line %zu", i);
	for (uint64_t i = 0; i < 10; i++)
		tui_job_post_progress(job, i, 10, "step");
	err_set(&warn, ERR_IO, "cannot write the report");
	tui_job_post_error(job, &warn);
	tui_job_post_result_take(job, xstrdup("the plan"), free);
	return ERR_OK;
}

static void wait_idle(struct tui_jobs *j)
{
	uint64_t end = time_mono_ns() + PUMP_LIMIT_NS;

	while (tui_jobs_running(j) > 0) {
		assert_true(time_mono_ns() < end);
		sleep_ms(1);
	}
}

static void test_flood_drops_output_and_counts(void **state)
{
	struct tui_jobs *j = jobs_new(1000, 0);
	struct seen s = { 0 };
	const struct seen_job *sj;
	int id;

	(void)state;
	id = start(j, "flood", job_flood, NULL, NULL);
	wait_idle(j);
	/* 1,000 outputs, then what is never dropped: error, result, DONE. */
	assert_int_equal(tui_jobs_drain(j, collect, &s), 1003);
	sj = seen_find(&s, id);
	assert_int_equal(sj->outputs, 1000);
	assert_int_equal(sj->dropped, 4000);
	assert_int_equal(sj->progress, 0);
	assert_int_equal(sj->errors, 1);
	assert_int_equal(sj->error_code, ERR_IO);
	assert_string_equal(sj->error, "cannot write the report");
	assert_int_equal(sj->results, 1);
	assert_true(sj->done);
	assert_int_equal(sj->code, ERR_OK);
	tui_jobs_free(j);
}

static enum err_code job_big_lines(struct tui_job *job, void *arg, struct err *e)
{
	char line[100];

	(void)arg;
	(void)e;
	for (size_t i = 0; i < 100; i++) {
		int n = snprintf(line, sizeof line, "line %zu", i);

		/* Pads to 100 bytes after the NUL, so the check still reads "line N". */
		memset(line + n + 1, 'x', sizeof line - (size_t)n - 1);
		tui_job_post_output(job, TUI_STREAM_STDOUT, line, sizeof line);
	}
	return err_set(e, ERR_NET, "%s", "");
}

static void collect_big(struct tui_msg *m, void *ctx)
{
	if (m->kind == TUI_MSG_OUTPUT) {
		assert_int_equal(m->len, 100);
		m->len = strlen(m->text);
	}
	collect(m, ctx);
}

/* The byte limit: 1,000 bytes hold ten 100-byte outputs. */
static void test_flood_byte_limit(void **state)
{
	struct tui_jobs *j = jobs_new(0, 1000);
	struct seen s = { 0 };
	const struct seen_job *sj;
	int id;

	(void)state;
	id = start(j, "big", job_big_lines, NULL, NULL);
	wait_idle(j);
	assert_int_equal(tui_jobs_drain(j, collect_big, &s), 11);
	sj = seen_find(&s, id);
	assert_int_equal(sj->outputs, 10);
	assert_int_equal(sj->dropped, 90);
	/* An error without text still says which job and what kind. */
	assert_int_equal(sj->code, ERR_NET);
	assert_string_equal(sj->done_text, "job 'big' failed (network)");
	tui_jobs_free(j);
}

/* ---- waking from a signal handler ------------------------------------------- */

static struct tui_jobs *alarm_jobs;

static void on_alarm(int sig)
{
	(void)sig;
	tui_jobs_signal_wake(alarm_jobs);
}

static void test_signal_wake_from_handler(void **state)
{
	struct itimerval once = { { 0, 0 }, { 0, 20000 } };
	struct sigaction sa, old;
	struct tui_jobs *j = jobs_new(0, 0);
	struct pollfd p = { tui_jobs_wake_fd(j), POLLIN, 0 };
	int rc;

	(void)state;
	alarm_jobs = j;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	assert_int_equal(poll_now(p.fd), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &once, NULL), 0);
	do
		rc = poll(&p, 1, 10000);
	while (rc < 0 && errno == EINTR);
	assert_int_equal(rc, 1);
	assert_true(p.revents & POLLIN);
	assert_int_equal(tui_jobs_drain(j, collect, NULL), 0);
	assert_int_equal(poll_now(p.fd), 0);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	tui_jobs_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages_complete_and_in_order),
		cmocka_unit_test(test_wake_fd_readable_then_drained),
		cmocka_unit_test(test_cancel_stops_a_looping_job),
		cmocka_unit_test(test_cancel_calls_the_hook),
		cmocka_unit_test(test_free_cancels_and_joins),
		cmocka_unit_test(test_flood_drops_output_and_counts),
		cmocka_unit_test(test_flood_byte_limit),
		cmocka_unit_test(test_signal_wake_from_handler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
