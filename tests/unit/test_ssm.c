/*
 * test_ssm — tui/ssm's parts that need no AWS: the [ssm] command rendered
 * for a database (every value checked, then single-quoted; each refusal
 * names what it refused), the target forms, read-only refusing a send
 * before any request, the Comment and its operator, and the follow
 * position's state file (round trip, replacement, missing file and
 * directory, every kind of corrupt or stale file, pruning).
 *
 * Table-driven: every render row and corrupt-file row is its own cmocka
 * test, named after the row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "tui/ssm_internal.h"

static char tmpdir[] = "/tmp/tarmac-test-ssm.XXXXXX";
static char conf_path[sizeof tmpdir + 32];

#define ID "3f2c0d7e-1b2a-4c5d-9e8f-0123456789ab"

static const char conf_text[] =
	"[ssm]\n"
	"target = i-0123456789abcdef0\n"
	"command = sync s3://{bucket}/{prefix} /opt/{database} && flyway {action} ${HOME} {other}\n"
	"[database \"users\"]\n"
	"url = postgresql://u@h/users\n"
	"locations = filesystem:/x,s3:acme-users/sql/v1,s3:second/x\n"
	"[database \"bare\"]\n"
	"url = postgresql://u@h/bare\n"
	"locations = s3:acme.bare-2\n"
	"[database \"nos3\"]\n"
	"url = postgresql://u@h/nos3\n"
	"locations = filesystem:/x\n"
	"[database \"evil\"]\n"
	"url = postgresql://u@h/evil\n"
	"locations = s3:x;rm -rf /\n"
	"[database \"evil2\"]\n"
	"url = postgresql://u@h/evil2\n"
	"locations = s3:a$(id)/sql\n"
	"[database \"upper\"]\n"
	"url = postgresql://u@h/upper\n"
	"locations = s3:Acme-Users\n"
	"[database \"short\"]\n"
	"url = postgresql://u@h/short\n"
	"locations = s3:ab\n"
	"[database \"quote\"]\n"
	"url = postgresql://u@h/quote\n"
	"locations = s3:acme-q/it's\n"
	"[database \"ro\"]\n"
	"url = postgresql://u@h/ro\n"
	"locations = s3:acme-ro\n"
	"read_only = true\n";

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int make_tmpdir(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(conf_path, sizeof conf_path, "%s/tarmac.conf", tmpdir);
	FILE *f = fopen(conf_path, "w");
	if (!f || fputs(conf_text, f) < 0 || fclose(f))
		return -1;
	/* tui_ssm_open reads the AWS config files: not the user's */
	setenv("AWS_CONFIG_FILE", "/nonexistent/tarmac-test/config", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/tarmac-test/credentials", 1);
	setenv("XDG_STATE_HOME", tmpdir, 1);
	return 0;
}

static int remove_tmpdir(void **state)
{
	char cmd[sizeof tmpdir + 16];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct tui_ssm *open_conf(const char *path, bool read_only)
{
	struct tui_ssm *s = NULL;
	struct err e = ERR_INIT;
	enum err_code c = tui_ssm_open(path, read_only, &s, &e);
	if (c)
		fail_msg("tui_ssm_open: %s", e.msg);
	return s;
}

/* ---- render ------------------------------------------------------------------- */

struct render_case {
	const char *name, *db, *action;
	enum err_code code;
	const char *want;    /* the command, or a part of the error message */
};

static const struct render_case render_cases[] = {
	{ "render_default_action", "users", NULL, ERR_OK,
	  "sync s3://'acme-users'/'sql/v1' /opt/'users' && flyway 'migrate' ${HOME} {other}" },
	{ "render_action", "users", "validate", ERR_OK, "flyway 'validate' ${HOME}" },
	{ "render_bucket_only", "bare", "info", ERR_OK, "sync s3://'acme.bare-2'/'' /opt/'bare'" },
	{ "render_refuses_action_with_semicolon", "users", "migrate;id", ERR_USAGE,
	  "ssm run users: refusing action \"migrate;id\": use migrate, info, validate, repair "
	  "or baseline" },
	{ "render_refuses_unknown_verb", "users", "clean", ERR_USAGE, "refusing action \"clean\"" },
	{ "render_refuses_bucket_metachars", "evil", NULL, ERR_USAGE,
	  "ssm run evil: refusing bucket \"x;rm -rf \"" },
	{ "render_refuses_bucket_substitution", "evil2", NULL, ERR_USAGE,
	  "refusing bucket \"a$(id)\": not an S3 bucket name" },
	{ "render_refuses_bucket_uppercase", "upper", NULL, ERR_USAGE, "refusing bucket \"Acme-Users\"" },
	{ "render_refuses_bucket_short", "short", NULL, ERR_USAGE, "refusing bucket \"ab\"" },
	{ "render_refuses_prefix_quote", "quote", NULL, ERR_USAGE, "refusing prefix \"it's\"" },
	/* tarmac.conf takes no such section, so it is not one of its databases */
	{ "render_refuses_database_name", "we;ird", NULL, ERR_USAGE, "no database 'we;ird' in " },
	{ "render_needs_s3_location", "nos3", NULL, ERR_USAGE,
	  "ssm run nos3: the [ssm] command uses {bucket} but the database has no s3: location" },
	{ "render_unknown_database", "nosuch", NULL, ERR_USAGE, "no database 'nosuch' in " },
};

static void run_render_case(void **state)
{
	const struct render_case *rc = *state;
	struct tui_ssm *s = open_conf(conf_path, false);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	enum err_code c = tui_ssm_render(s, rc->db, rc->action, &out, &e);
	assert_int_equal(c, rc->code);
	if (c == ERR_OK) {
		if (!strstr(out.ptr, rc->want))
			fail_msg("rendered \"%s\", wanted it to hold \"%s\"", out.ptr, rc->want);
	} else {
		if (!strstr(e.msg, rc->want))
			fail_msg("error \"%s\", wanted it to hold \"%s\"", e.msg, rc->want);
		assert_int_equal(out.len, 0);
	}
	buf_release(&out);
	tui_ssm_free(s);
}

static void test_render_appends(void **state)
{
	struct tui_ssm *s = open_conf(conf_path, false);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	(void)state;
	buf_adds(&out, "set -e; ");
	assert_int_equal(tui_ssm_render(s, "bare", NULL, &out, &e), ERR_OK);
	assert_int_equal(strncmp(out.ptr, "set -e; sync s3://'acme.bare-2'", 31), 0);
	buf_release(&out);
	tui_ssm_free(s);
}

static void test_no_command(void **state)
{
	char path[sizeof tmpdir + 32];
	static const char text[] = "[ssm]\ntarget = i-0123456789abcdef0\n"
				   "[database \"users\"]\nurl = postgresql://u@h/users\n"
				   "locations = s3:acme-users\n";
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	(void)state;
	snprintf(path, sizeof path, "%s/nocmd.conf", tmpdir);
	write_file(path, text, sizeof text - 1);
	struct tui_ssm *s = open_conf(path, false);
	assert_int_equal(tui_ssm_render(s, "users", NULL, &out, &e), ERR_USAGE);
	assert_non_null(strstr(e.msg, "[ssm] command is not set in "));
	buf_release(&out);
	tui_ssm_free(s);
}

static void test_shell_quote(void **state)
{
	static const char *const cases[][2] = {
		{ "", "''" }, { "a b", "'a b'" }, { "it's", "'it'\\''s'" },
		{ "$(id);`x`", "'$(id);`x`'" }, { "''", "''\\'''\\'''" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct buf b = BUF_INIT;
		tui_ssm_shell_quote(&b, cases[i][0]);
		assert_string_equal(b.ptr, cases[i][1]);
		buf_release(&b);
	}
}

/* ---- target, read-only ---------------------------------------------------- */

static void test_targets(void **state)
{
	static const struct { const char *target; enum err_code code; const char *msg; } cases[] = {
		{ "i-0123456789abcdef0", ERR_OK, NULL },
		{ "mi-0123456789abcdef0", ERR_OK, NULL },
		{ "tag:Role=flyway-host", ERR_OK, NULL },
		{ "tag:=x", ERR_USAGE, "write tag:Key=Value" },
		{ "tag:Role=", ERR_USAGE, "write tag:Key=Value" },
		{ "flyway-host", ERR_USAGE, "neither an instance id" },
		{ "", ERR_USAGE, "[ssm] target is not set in " },
	};
	char path[sizeof tmpdir + 32], text[128];
	(void)state;
	snprintf(path, sizeof path, "%s/target.conf", tmpdir);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct tui_ssm *s = NULL;
		struct err e = ERR_INIT;
		int n = snprintf(text, sizeof text, "[ssm]\ntarget = %s\n", cases[i].target);
		write_file(path, text, (size_t)n);
		assert_int_equal(tui_ssm_open(path, false, &s, &e), cases[i].code);
		if (cases[i].code) {
			assert_null(s);
			assert_non_null(strstr(e.msg, cases[i].msg));
			continue;
		}
		assert_string_equal(tui_ssm_target(s), cases[i].target);
		tui_ssm_free(s);
	}
}

static void test_read_only(void **state)
{
	struct tui_ssm *s = open_conf(conf_path, false);
	struct err e = ERR_INIT;
	char untouched[] = "untouched", *id = untouched;
	(void)state;
	assert_false(tui_ssm_read_only(s, "users"));
	assert_false(tui_ssm_read_only(s, NULL));
	assert_true(tui_ssm_read_only(s, "ro"));
	/* refused before any request: no AWS endpoint or credentials are set */
	assert_int_equal(tui_ssm_send(s, "ro", "true", &id, &e), ERR_READ_ONLY);
	assert_null(id);
	assert_non_null(strstr(e.msg, "ssm run ro: refused in read-only mode"));
	tui_ssm_free(s);
	s = open_conf(conf_path, true);
	assert_true(tui_ssm_read_only(s, "users"));
	assert_int_equal(tui_ssm_send(s, "users", "true", &id, &e), ERR_READ_ONLY);
	assert_int_equal(tui_ssm_cancel(s, ID, &e), ERR_READ_ONLY);
	assert_string_equal(tui_ssm_comment(s), "");
	tui_ssm_free(s);
}

/* ---- the Comment ------------------------------------------------------------ */

static void test_operator(void **state)
{
	char out[TUI_SSM_OPERATOR_MAX + 1];
	(void)state;
	tui_ssm_operator_clean(NULL, out);
	assert_string_equal(out, "unknown");
	tui_ssm_operator_clean("", out);
	assert_string_equal(out, "unknown");
	tui_ssm_operator_clean("a.b@c-d_e9", out);
	assert_string_equal(out, "a.b@c-d_e9");
	tui_ssm_operator_clean("dba alice;$(id)", out);
	assert_string_equal(out, "dba_alice___id_");
	tui_ssm_operator_clean("0123456789012345678901234567890123456789", out);
	assert_string_equal(out, "01234567890123456789012345678901");
	/* no $USER (a tmux or SSM session may not set it): the account's name */
	unsetenv("USER");
	struct passwd *pw = getpwuid(getuid());
	char account[TUI_SSM_OPERATOR_MAX + 1];
	tui_ssm_operator_clean(pw ? pw->pw_name : NULL, account);
	struct tui_ssm *s = open_conf(conf_path, false);
	assert_string_equal(tui_ssm_operator(s), account);
	tui_ssm_free(s);
	setenv("USER", "ops bob", 1);
	s = open_conf(conf_path, false);
	assert_string_equal(tui_ssm_operator(s), "ops_bob");
	tui_ssm_free(s);
}

static void test_comment(void **state)
{
	char out[TUI_SSM_COMMENT_MAX + 1], db[80];
	struct err e = ERR_INIT;
	(void)state;
	assert_int_equal(tui_ssm_comment_make("users", 0xdeadbeefu, "alice", out, &e), ERR_OK);
	assert_string_equal(out, "tarmac db=users run=deadbeef by=alice");
	memset(db, 'd', 72);
	db[72] = '\0';
	assert_int_equal(tui_ssm_comment_make(db, 1, "alice", out, &e), ERR_OK);
	assert_int_equal(strlen(out), TUI_SSM_COMMENT_MAX);
	assert_string_equal(out + strlen(out) - 5, " by=a");
	db[72] = 'd';
	db[73] = '\0';
	assert_int_equal(tui_ssm_comment_make(db, 1, "alice", out, &e), ERR_USAGE);
	assert_non_null(strstr(e.msg, "too long for SSM's 100-character Comment"));

	static const char *const gets[][3] = {
		{ "tarmac db=users run=0badcafe by=alice", "db", "users" },
		{ "tarmac db=users run=0badcafe by=alice", "by", "alice" },
		{ "tarmac db=users run=0badcafe by=alice", "run", "0badcafe" },
		{ "tarmac dbx=no  db=yes", "db", "yes" },
		{ "tarmac db=users run=0badcafe", "by", NULL },
		{ "deploy db=users", "db", NULL },
		{ "", "db", NULL },
	};
	for (size_t i = 0; i < sizeof gets / sizeof *gets; i++) {
		char *v = tui_ssm_comment_get(gets[i][0], gets[i][1]);
		if (gets[i][2])
			assert_string_equal(v, gets[i][2]);
		else
			assert_null(v);
		free(v);
	}
	assert_null(tui_ssm_comment_get(NULL, "db"));
}

static void test_id_ok(void **state)
{
	char long_id[66];
	(void)state;
	memset(long_id, 'a', 65);
	long_id[65] = '\0';
	assert_true(tui_ssm_id_ok(ID));
	assert_false(tui_ssm_id_ok(""));
	assert_false(tui_ssm_id_ok(NULL));
	assert_false(tui_ssm_id_ok("../x"));
	assert_false(tui_ssm_id_ok("a.b"));
	assert_false(tui_ssm_id_ok(long_id));
	long_id[64] = '\0';
	assert_true(tui_ssm_id_ok(long_id));
}

/* ---- the state file ------------------------------------------------------------ */

static void state_dir_path(char *out, size_t n, const char *sub)
{
	snprintf(out, n, "%s/%s/tarmac/ssm", tmpdir, sub);
}

static int mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (int)(st.st_mode & 07777);
}

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	assert_non_null(d);
	for (struct dirent *ent; (ent = readdir(d));)
		n += ent->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_state_round_trip(void **state)
{
	char dir[sizeof tmpdir + 64], path[sizeof dir + 80];
	struct tui_ssm_pos p = { { xstrdup("f/00000000000000000000000000000000000000000000000000000042/s"),
				   NULL }, 42 };
	struct tui_ssm_pos got;
	struct err e = ERR_INIT;
	bool found = true;
	(void)state;
	state_dir_path(dir, sizeof dir, "rt/deeper"); /* none of it exists yet */
	snprintf(path, sizeof path, "%s/%s", dir, ID);
	assert_int_equal(tui_ssm_state_load(dir, ID, &got, &found, &e), ERR_OK);
	assert_false(found);
	assert_int_equal(tui_ssm_state_save(dir, ID, &p, &e), ERR_OK);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(tui_ssm_state_load(dir, ID, &got, &found, &e), ERR_OK);
	assert_true(found);
	assert_string_equal(got.token[0], p.token[0]);
	assert_null(got.token[1]);
	assert_int_equal(got.lines, 42);
	tui_ssm_pos_release(&got);
	/* replaced whole, and no temp file is left beside it */
	p.token[1] = xstrdup("f/x+y=z/s");
	p.lines = 18446744073709551615ULL;
	assert_int_equal(tui_ssm_state_save(dir, ID, &p, &e), ERR_OK);
	assert_int_equal(tui_ssm_state_load(dir, ID, &got, &found, &e), ERR_OK);
	assert_string_equal(got.token[1], "f/x+y=z/s");
	assert_true(got.lines == 18446744073709551615ULL);
	assert_int_equal(dir_entries(dir), 1);
	tui_ssm_pos_release(&got);
	tui_ssm_state_remove(dir, ID);
	tui_ssm_state_remove(dir, ID); /* a missing file is fine */
	assert_int_equal(tui_ssm_state_load(dir, ID, &got, &found, &e), ERR_OK);
	assert_false(found);
	tui_ssm_pos_release(&p);
}

static void test_state_unwritable(void **state)
{
	char blocker[sizeof tmpdir + 16], dir[sizeof blocker + 8];
	struct tui_ssm_pos p = { { NULL, NULL }, 1 };
	struct err e = ERR_INIT;
	(void)state;
	snprintf(blocker, sizeof blocker, "%s/blocker", tmpdir);
	write_file(blocker, "x", 1);
	snprintf(dir, sizeof dir, "%s/ssm", blocker); /* a file where a directory must go */
	assert_int_equal(tui_ssm_state_save(dir, ID, &p, &e), ERR_IO);
	assert_non_null(strstr(e.msg, "cannot create "));
}

struct corrupt_case {
	const char *name;
	const char *text;
	size_t len;          /* 0: strlen(text) */
	const char *msg;
};

#define GOOD_HEAD "tarmac ssm follow 1\nid " ID "\n"
static const struct corrupt_case corrupt_cases[] = {
	{ "state_empty", "", 0, "is not a saved position for " ID },
	{ "state_garbage", "hello\n", 0, "is not a saved position" },
	{ "state_other_version", "tarmac ssm follow 2\nid " ID "\nlines 1\nstdout -\nstderr -\n", 0,
	  "is not a saved position" },
	{ "state_other_id", "tarmac ssm follow 1\nid 00000000-0000\nlines 1\nstdout -\nstderr -\n",
	  0, "is not a saved position" },
	{ "state_lines_not_a_number", GOOD_HEAD "lines x\nstdout -\nstderr -\n", 0, "is not" },
	{ "state_lines_negative", GOOD_HEAD "lines -1\nstdout -\nstderr -\n", 0, "is not" },
	{ "state_lines_overflow", GOOD_HEAD "lines 99999999999999999999\nstdout -\nstderr -\n", 0,
	  "is not" },
	{ "state_token_with_space", GOOD_HEAD "lines 1\nstdout f/1 2/s\nstderr -\n", 0, "is not" },
	{ "state_token_empty", GOOD_HEAD "lines 1\nstdout \nstderr -\n", 0, "is not" },
	{ "state_streams_swapped", GOOD_HEAD "lines 1\nstderr -\nstdout -\n", 0, "is not" },
	{ "state_truncated", GOOD_HEAD "lines 1\nstdout -\n", 0, "is not" },
	{ "state_no_final_newline", GOOD_HEAD "lines 1\nstdout -\nstderr -", 0, "is not" },
	{ "state_trailing_line", GOOD_HEAD "lines 1\nstdout -\nstderr -\nmore\n", 0, "is not" },
	{ "state_nul_byte", GOOD_HEAD "lines 1\nstdout -\0\nstderr -\n",
	  sizeof(GOOD_HEAD "lines 1\nstdout -\0\nstderr -\n") - 1, "holds NUL bytes" },
};

static void run_corrupt_case(void **state)
{
	const struct corrupt_case *cc = *state;
	char dir[sizeof tmpdir + 64], path[sizeof dir + 80];
	struct tui_ssm_pos got;
	struct err e = ERR_INIT;
	bool found = false;
	state_dir_path(dir, sizeof dir, cc->name);
	snprintf(path, sizeof path, "%s/%s", dir, ID);
	struct tui_ssm_pos none = { { NULL, NULL }, 0 };
	assert_int_equal(tui_ssm_state_save(dir, ID, &none, &e), ERR_OK); /* makes the dirs */
	write_file(path, cc->text, cc->len ? cc->len : strlen(cc->text));
	assert_int_equal(tui_ssm_state_load(dir, ID, &got, &found, &e), ERR_PARSE);
	assert_true(found);
	if (!strstr(e.msg, cc->msg))
		fail_msg("error \"%s\", wanted it to hold \"%s\"", e.msg, cc->msg);
	assert_null(got.token[0]);
	assert_null(got.token[1]);
	assert_int_equal(got.lines, 0);
}

static void test_state_too_large(void **state)
{
	char dir[sizeof tmpdir + 64], path[sizeof dir + 80], *big = xmalloc(9000);
	struct tui_ssm_pos got, none = { { NULL, NULL }, 0 };
	struct err e = ERR_INIT;
	bool found;
	(void)state;
	state_dir_path(dir, sizeof dir, "big");
	snprintf(path, sizeof path, "%s/%s", dir, ID);
	assert_int_equal(tui_ssm_state_save(dir, ID, &none, &e), ERR_OK);
	memset(big, 'x', 9000);
	write_file(path, big, 9000);
	assert_int_equal(tui_ssm_state_load(dir, ID, &got, &found, &e), ERR_PARSE);
	assert_non_null(strstr(e.msg, "larger than a saved position can be"));
	free(big);
}

static void set_age(const char *path, long seconds)
{
	struct timeval tv[2];
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= seconds;
	tv[1] = tv[0];
	assert_int_equal(utimes(path, tv), 0);
}

static void test_state_stale_and_prune(void **state)
{
	char dir[sizeof tmpdir + 64], path[sizeof dir + 80], tmp[sizeof path + 8], sub[sizeof path];
	struct tui_ssm_pos got, p = { { NULL, NULL }, 7 };
	struct err e = ERR_INIT;
	bool found;
	(void)state;
	state_dir_path(dir, sizeof dir, "stale");
	snprintf(path, sizeof path, "%s/%s", dir, ID);
	snprintf(tmp, sizeof tmp, "%s.Ab12Cd", path);   /* a killed writer's temp file */
	snprintf(sub, sizeof sub, "%s/subdir", dir);
	assert_int_equal(tui_ssm_state_save(dir, ID, &p, &e), ERR_OK);
	assert_int_equal(tui_ssm_state_save(dir, "fresh-one", &p, &e), ERR_OK);
	write_file(tmp, "x", 1);
	assert_int_equal(mkdir(sub, 0700), 0);
	set_age(path, 25 * 3600);
	set_age(tmp, 25 * 3600);
	set_age(sub, 25 * 3600);
	assert_int_equal(tui_ssm_state_load(dir, ID, &got, &found, &e), ERR_PARSE);
	assert_non_null(strstr(e.msg, "was saved 25 hours ago"));
	tui_ssm_state_prune(dir, TUI_SSM_STATE_MAX_AGE_S);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(sub, F_OK), 0);
	assert_int_equal(tui_ssm_state_load(dir, "fresh-one", &got, &found, &e), ERR_OK);
	assert_true(found);
	assert_int_equal(got.lines, 7);
	tui_ssm_pos_release(&got);
	tui_ssm_state_prune("/nonexistent/tarmac-test", 0); /* no directory: nothing to do */
}

static void test_state_dir(void **state)
{
	char *d;
	(void)state;
	setenv("XDG_STATE_HOME", "/xdg", 1);
	setenv("HOME", "/home/alice", 1);
	d = tui_ssm_state_dir();
	assert_string_equal(d, "/xdg/tarmac/ssm");
	free(d);
	setenv("XDG_STATE_HOME", "relative", 1);
	d = tui_ssm_state_dir();
	assert_string_equal(d, "/home/alice/.local/state/tarmac/ssm");
	free(d);
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	assert_null(tui_ssm_state_dir());
	setenv("XDG_STATE_HOME", tmpdir, 1);
}

/* ---- main: one cmocka test per table row ---------------------------------------- */

#define ADD_ROWS(tests, n, table, fn)                                          \
	for (size_t i_ = 0; i_ < sizeof(table) / sizeof((table)[0]); i_++)     \
		tests[n++] = (struct CMUnitTest){ (table)[i_].name, fn, NULL, NULL, \
						  (void *)(uintptr_t)&(table)[i_] }

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_render_appends),
		cmocka_unit_test(test_no_command),
		cmocka_unit_test(test_shell_quote),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_operator),
		cmocka_unit_test(test_comment),
		cmocka_unit_test(test_id_ok),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_state_unwritable),
		cmocka_unit_test(test_state_too_large),
		cmocka_unit_test(test_state_stale_and_prune),
		cmocka_unit_test(test_state_dir),
	};
	size_t max = sizeof fixed / sizeof fixed[0] + sizeof render_cases / sizeof render_cases[0] +
		     sizeof corrupt_cases / sizeof corrupt_cases[0];
	struct CMUnitTest *tests = calloc(max, sizeof *tests);
	size_t n = 0;
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		tests[n++] = fixed[i];
	ADD_ROWS(tests, n, render_cases, run_render_case);
	ADD_ROWS(tests, n, corrupt_cases, run_corrupt_case);
	int failed = _cmocka_run_group_tests("ssm", tests, n, make_tmpdir, remove_tmpdir);
	free(tests);
	return failed;
}
