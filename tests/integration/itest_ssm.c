/*
 * itest_ssm — tui/ssm as the console uses it, against the AWS emulator: a
 * follow on a worker thread, stopped from another thread while an AWS call
 * hangs (the emulator delays GetLogEvents by 10 s: the flag must end that
 * call, not wait it out), then a second follow that resumes at the next
 * line, so that across both every line arrives exactly once. Needs the
 * emulator's environment (tests/run.sh sources DIR/aws-env); fails without.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui/ssm_internal.h"

#define LINES 6

static char tmpdir[] = "/tmp/tarmac-itest-ssm.XXXXXX";
static char conf_path[sizeof tmpdir + 32];

struct seen {
	atomic_int n;                  /* stdout lines so far */
	char lines[32][64];
	struct buf info;               /* the INFO notes, one per line */
};

static void collect(void *ctx, enum tui_stream stream, const char *text, size_t len)
{
	struct seen *s = ctx;
	if (stream == TUI_STREAM_INFO) {
		buf_add(&s->info, text, len);
		buf_addc(&s->info, '\n');
		return;
	}
	int n = atomic_load(&s->n);
	if (stream == TUI_STREAM_STDOUT && n < 32) {
		snprintf(s->lines[n], sizeof s->lines[n], "%.*s", (int)len, text);
		atomic_store(&s->n, n + 1);
	}
}

struct job {
	struct tui_ssm *s;
	const char *id;
	struct seen *seen;
	atomic_bool cancel;
	struct tui_ssm_outcome out;
	struct err e;
	enum err_code c;
};

static void *follow_job(void *p)
{
	struct job *j = p;
	struct tui_ssm_sink sink = { collect, j->seen };
	j->c = tui_ssm_follow(j->s, j->id, &sink, &j->cancel, &j->out, &j->e);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void admin(const char *path, const char *json)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "curl -sf -X POST '%s/%s' -d '%s' >/dev/null",
		 getenv("TARMAC_EMULATOR_ADMIN"), path, json);
	assert_int_equal(system(cmd), 0);
}

/* true once the emulator has handed out every pending fault */
static bool faults_taken(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "curl -sf '%s/faults' | grep -q '\"faults\": \\[\\]'",
		 getenv("TARMAC_EMULATOR_ADMIN"));
	return system(cmd) == 0;
}

static void wait_until(bool (*cond)(void *), void *arg, double seconds)
{
	double t0 = now_s();
	while (!cond(arg)) {
		if (now_s() - t0 > seconds)
			fail_msg("waited %.0f s in vain", seconds);
		usleep(50000);
	}
}

static bool two_lines(void *p)
{
	return atomic_load(&((struct seen *)p)->n) >= 2;
}

static bool fault_gone(void *p)
{
	(void)p;
	return faults_taken();
}

static int setup(void **state)
{
	(void)state;
	const char *inst = getenv("TARMAC_EMULATOR_INSTANCE_ID");
	if (!inst || !getenv("TARMAC_EMULATOR_ADMIN") || !mkdtemp(tmpdir))
		return -1;
	snprintf(conf_path, sizeof conf_path, "%s/tarmac.conf", tmpdir);
	FILE *f = fopen(conf_path, "w");
	if (!f)
		return -1;
	fprintf(f, "[ssm]\ntarget = %s\ncommand = for i in $(seq 1 %d); do echo {database} line "
		   "$i; sleep 1; done\n[database \"users\"]\nurl = postgresql://u@h/users\n"
		   "locations = s3:tm-users/sql\n", inst, LINES);
	setenv("XDG_STATE_HOME", tmpdir, 1);
	return fclose(f) ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[sizeof tmpdir + 16];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *send_one(struct tui_ssm *s)
{
	struct buf text = BUF_INIT;
	struct err e = ERR_INIT;
	char *id = NULL;
	if (tui_ssm_render(s, "users", "info", &text, &e) || tui_ssm_send(s, "users", text.ptr, &id, &e))
		fail_msg("send: %s", e.msg);
	buf_release(&text);
	return id;
}

/* Cancels a follow on another thread while GetLogEvents hangs for 10 s. */
static unsigned long long stop_mid_call(struct tui_ssm *s, const char *id, struct seen *a)
{
	struct job j = { .s = s, .id = id, .seen = a, .e = ERR_INIT };
	pthread_t t;
	atomic_init(&j.cancel, false);
	assert_int_equal(pthread_create(&t, NULL, follow_job, &j), 0);
	wait_until(two_lines, a, 8);
	admin("fault", "{\"service\": \"logs\", \"operation\": \"GetLogEvents\", "
		       "\"kind\": \"delay\", \"seconds\": 10}");
	wait_until(fault_gone, NULL, 5);     /* the follower is inside the slow call */
	usleep(200000);
	double t0 = now_s();
	atomic_store(&j.cancel, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	double took = now_s() - t0;
	if (took > 3)
		fail_msg("the cancelled follow took %.1f s to return: the slow call was waited out", took);
	assert_int_equal(j.c, ERR_CANCELLED);
	assert_non_null(strstr(j.e.msg, "stopped following "));
	return (unsigned long long)atomic_load(&a->n);
}

static void test_cancel_then_resume(void **state)
{
	struct tui_ssm *s = NULL;
	struct err e = ERR_INIT;
	struct seen a = { .info = BUF_INIT }, b = { .info = BUF_INIT };
	struct tui_ssm_pos pos;
	struct tui_ssm_outcome out;
	bool found = false;
	(void)state;
	atomic_init(&a.n, 0);
	atomic_init(&b.n, 0);
	admin("reset", "{}");
	assert_int_equal(tui_ssm_open(conf_path, false, &s, &e), ERR_OK);
	char *id = send_one(s);
	unsigned long long shown = stop_mid_call(s, id, &a);
	assert_int_equal(tui_ssm_state_load(s->state_dir, id, &pos, &found, &e), ERR_OK);
	assert_true(found);
	assert_int_equal(pos.lines, shown);
	tui_ssm_pos_release(&pos);

	struct tui_ssm_sink sink = { collect, &b };
	assert_int_equal(tui_ssm_follow(s, id, &sink, NULL, &out, &e), ERR_OK);
	assert_string_equal(out.status, "Success");
	assert_int_equal(out.exit_code, 0);
	assert_non_null(strstr(b.info.ptr, "after "));
	assert_int_equal(atomic_load(&a.n) + atomic_load(&b.n), LINES);
	for (int i = 0; i < LINES; i++) { /* each line once, in order, across both */
		char want[64];
		snprintf(want, sizeof want, "users line %d", i + 1);
		assert_string_equal(i < atomic_load(&a.n) ? a.lines[i] : b.lines[i - atomic_load(&a.n)],
				    want);
	}
	assert_int_equal(tui_ssm_state_load(s->state_dir, id, &pos, &found, &e), ERR_OK);
	assert_false(found);
	buf_release(&a.info);
	buf_release(&b.info);
	free(id);
	tui_ssm_free(s);
	admin("reset", "{}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cancel_then_resume),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
