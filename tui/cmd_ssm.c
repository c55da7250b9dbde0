/*
 * cmd_ssm — `tarmac ssm run|list|cancel`: the Flyway host's command from
 * tarmac.conf's [ssm] section, sent through SSM Run Command and followed
 * through CloudWatch Logs while GetCommandInvocation reports its status.
 *
 * Invariants: every value put into the [ssm] command template is checked
 * against what such a value can plausibly be (an S3 bucket name, a key
 * prefix, a database name, one of Flyway's verbs) and then single-quoted
 * for the shell; anything else is refused (exit 2) before any AWS call.
 * One run per database: a run is tagged "tarmac db=NAME run=XXXXXXXX" in
 * the command's Comment, and a second run is refused while one is not final.
 * --attach prints a command's output from the start of its streams: a new
 * process has no record of what an earlier one printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tui/cli.h"

#define PLUGIN "aws:runShellScript"       /* AWS-RunShellScript's one step */
#define LIST_MAX 20
#define POLL_MS 1000
#define DRAIN_PAGES 100                    /* per stream and poll */
#define CANCEL_WAIT_S 60
#define DELIVERY_WAIT_S 60

struct ssm {
	struct cli_env env;
	struct aws_ctx *aws;
	const char *db;                  /* -d NAME, or NULL */
	const char *instance_id;         /* [ssm] target = i-..., or NULL */
	char *tag_key, *tag_value;       /* [ssm] target = tag:Key=Value */
	const char *document;
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---- the command's text ------------------------------------------------- */

static bool chars_ok(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* S3's bucket naming rules: 3-63 of a-z 0-9 . -, starting and ending alnum. */
static bool bucket_ok(const char *b)
{
	size_t n = strlen(b);
	if (n < 3 || n > 63 || !lower_alnum(b[0]) || !lower_alnum(b[n - 1]))
		return false;
	for (const char *p = b; *p; p++)
		if (!lower_alnum(*p) && *p != '.' && *p != '-')
			return false;
	return true;
}

static bool action_ok(const char *a)
{
	static const char *const verbs[] = { "migrate", "info", "validate", "repair", "baseline" };
	for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
		if (!strcmp(a, verbs[i]))
			return true;
	return false;
}

struct tpl_vals {
	char *bucket, *prefix;           /* NULL: the database has no s3: location */
	const char *database, *action;
};

static void tpl_vals_release(struct tpl_vals *v)
{
	free(v->bucket);
	free(v->prefix);
}

static enum err_code tpl_vals_check(const struct tpl_vals *v, struct err *e)
{
	if (!v->database || !*v->database || !chars_ok(v->database, "_.-"))
		return err_set(e, ERR_USAGE, "ssm run: refusing database name \"%s\": only A-Z a-z "
			       "0-9 _ . - are allowed", v->database ? v->database : "");
	if (v->bucket && !bucket_ok(v->bucket))
		return err_set(e, ERR_USAGE, "ssm run %s: refusing bucket \"%s\": not an S3 bucket "
			       "name (3-63 of a-z 0-9 . -, starting and ending with a letter or digit)",
			       v->database, v->bucket);
	if (v->prefix && !chars_ok(v->prefix, "._/-"))
		return err_set(e, ERR_USAGE, "ssm run %s: refusing prefix \"%s\": only A-Z a-z 0-9 "
			       ". _ / - are allowed", v->database, v->prefix);
	if (!action_ok(v->action))
		return err_set(e, ERR_USAGE, "ssm run %s: refusing action \"%s\": use migrate, info, "
			       "validate, repair or baseline", v->database, v->action);
	return ERR_OK;
}

/* bucket and prefix from the first s3:bucket[/prefix] location */
static void tpl_vals_from_locations(struct tpl_vals *v, const struct eng_config *cfg)
{
	for (size_t i = 0; i < cfg->locations.len; i++) {
		const char *l = cfg->locations.items[i];
		if (strncasecmp(l, "s3:", 3))
			continue;
		l += 3;
		const char *slash = strchr(l, '/');
		v->bucket = xstrndup(l, slash ? (size_t)(slash - l) : strlen(l));
		v->prefix = xstrdup(slash ? slash + 1 : "");
		return;
	}
}

static void shell_quote(struct buf *b, const char *s)
{
	buf_addc(b, '\'');
	for (; *s; s++)
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *s);
	buf_addc(b, '\'');
}

/* The value of placeholder {name} (n characters), or NULL when the name is
 * not one of ours (then the text is left alone: it may be shell's ${x}). */
static enum err_code tpl_value(const struct tpl_vals *v, const char *name, size_t n,
			       const char **out, struct err *e)
{
	static const char *const names[] = { "bucket", "prefix", "database", "action" };
	const char *vals[] = { v->bucket, v->prefix, v->database, v->action };
	*out = NULL;
	for (size_t i = 0; i < 4; i++) {
		if (strlen(names[i]) != n || strncmp(name, names[i], n))
			continue;
		if (!vals[i])
			return err_set(e, ERR_USAGE, "ssm run %s: the [ssm] command uses {%s} but "
				       "the database has no s3: location", v->database, names[i]);
		*out = vals[i];
	}
	return ERR_OK;
}

static enum err_code tpl_render(const char *tpl, const struct tpl_vals *v, struct buf *out,
				struct err *e)
{
	for (const char *p = tpl; *p; p++) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		const char *val = NULL;
		if (close) {
			enum err_code c = tpl_value(v, p + 1, (size_t)(close - p - 1), &val, e);
			if (c)
				return c;
		}
		if (val) {
			shell_quote(out, val);
			p = close;
		} else {
			buf_addc(out, *p);
		}
	}
	return ERR_OK;
}

/* ---- setup -------------------------------------------------------------- */

static enum err_code target_parse(struct ssm *s, const char *t, struct err *e)
{
	if (!t || !*t)
		return err_set(e, ERR_USAGE, "[ssm] target is not set in %s: write target = "
			       "i-0123456789abcdef0 or target = tag:Role=flyway-host",
			       s->env.conf.path ? s->env.conf.path : "tarmac.conf");
	if (!strncmp(t, "tag:", 4)) {
		const char *eq = strchr(t, '=');
		if (!eq || eq == t + 4 || !eq[1])
			return err_set(e, ERR_USAGE, "[ssm] target \"%s\": write tag:Key=Value", t);
		s->tag_key = xstrndup(t, (size_t)(eq - t));
		s->tag_value = xstrdup(eq + 1);
		return ERR_OK;
	}
	if (strncmp(t, "i-", 2) && strncmp(t, "mi-", 3))
		return err_set(e, ERR_USAGE, "[ssm] target \"%s\" is neither an instance id (i-...) "
			       "nor tag:Key=Value", t);
	s->instance_id = t;
	return ERR_OK;
}

static enum err_code ssm_open(struct ssm *s, const struct cli_opts *o, bool need_db,
			      struct err *e)
{
	memset(s, 0, sizeof *s);
	tui_conf_init(&s->env.conf);
	enum err_code c = tui_conf_load(&s->env.conf, o->config_path, e);
	if (c)
		return ERR_USAGE;
	s->env.conf.read_only |= o->read_only;
	s->db = o->db_name;
	if (need_db && !s->db)
		return err_set(e, ERR_USAGE, "ssm %s needs -d NAME", o->argv[0]);
	if (s->db) {
		struct tui_db_conf *d = tui_conf_find_db(&s->env.conf, s->db);
		if (!d)
			return err_set(e, ERR_USAGE, "no database '%s' in %s", s->db,
				       s->env.conf.path ? s->env.conf.path : "any tarmac.conf");
		s->env.cfg = &d->eng;
		s->env.db = d;
		s->env.name = d->name;
	}
	s->document = s->env.conf.ssm_document && *s->env.conf.ssm_document
		      ? s->env.conf.ssm_document : "AWS-RunShellScript";
	return target_parse(s, s->env.conf.ssm_target, e);
}

static enum err_code ssm_aws(struct ssm *s, struct err *e)
{
	return s->aws ? ERR_OK : cli_env_aws(&s->env, &s->aws, e);
}

static void ssm_close(struct ssm *s)
{
	free(s->tag_key);
	free(s->tag_value);
	aws_ctx_free(s->env.aws);
	tui_conf_release(&s->env.conf);
}

static bool read_only(const struct ssm *s)
{
	return s->env.conf.read_only || (s->env.cfg && s->env.cfg->read_only);
}

/* The database a Comment names ("tarmac db=NAME run=..."), or NULL. */
static char *comment_db(const char *comment)
{
	const char *p = comment && !strncmp(comment, "tarmac db=", 10) ? comment + 10 : NULL;
	return p ? xstrndup(p, strcspn(p, " ")) : NULL;
}

/* The id of a run for db that is not final, or NULL (caller frees). */
static enum err_code in_flight(struct ssm *s, const char *db, char **id, struct err *e)
{
	struct vec cmds = VEC_INIT;
	*id = NULL;
	enum err_code c = aws_ssm_list_commands(s->aws, s->instance_id, 50, &cmds, e);
	for (size_t i = 0; !c && !*id && i < cmds.len; i++) {
		const struct aws_ssm_command *cmd = cmds.items[i];
		char *name = comment_db(cmd->comment);
		if (name && !strcmp(name, db) && !aws_ssm_status_final(cmd->status))
			*id = xstrdup(cmd->command_id);
		free(name);
	}
	vec_release(&cmds, aws_ssm_command_free);
	return c;
}

/* ---- following a command ------------------------------------------------ */

struct stream {
	char *name, *token;
	const char *prefix;
	bool seen;                       /* ever had an event */
};

/* Prints every event the stream has past its token. */
static enum err_code stream_drain(struct ssm *s, const char *group, struct stream *st,
				  struct err *e)
{
	for (int page = 0; page < DRAIN_PAGES; page++) {
		struct vec evs = VEC_INIT;
		bool missing = false;
		enum err_code c = aws_logs_get_events(s->aws, group, st->name, &st->token, &evs,
						      &missing, e);
		for (size_t i = 0; !c && i < evs.len; i++) {
			const char *m = ((struct aws_log_event *)evs.items[i])->message;
			size_t n = strlen(m);
			printf("%s%s%s", st->prefix, m, n && m[n - 1] == '\n' ? "" : "\n");
		}
		size_t got = evs.len;
		st->seen |= got > 0;
		vec_release(&evs, aws_log_event_free);
		fflush(stdout);
		if (c || !got)
			return c;
	}
	return ERR_OK;
}

/* The instance the command went to (tag targets: once it was delivered). */
static enum err_code follow_instance(struct ssm *s, const char *id, char **out, struct err *e)
{
	if (s->instance_id) {
		*out = xstrdup(s->instance_id);
		return ERR_OK;
	}
	*out = NULL;
	for (int i = 0; i < DELIVERY_WAIT_S; i++) {
		struct vec inv = VEC_INIT;
		enum err_code c = aws_ssm_list_invocations(s->aws, id, &inv, e);
		if (!c && inv.len)
			*out = xstrdup(((struct aws_ssm_command *)inv.items[0])->instance_id);
		if (!c && inv.len > 1)
			printf("(%zu instances ran %s; following %s)\n", inv.len, id, *out);
		vec_release(&inv, aws_ssm_command_free);
		if (c || *out)
			return c;
		sleep_ms(POLL_MS);
	}
	return err_set(e, ERR_HTTP, "SSM command %s reached no instance with %s=%s in %d s; "
		       "see `tarmac ssm list`", id, s->tag_key, s->tag_value, DELIVERY_WAIT_S);
}

static time_t iso_time(const char *iso)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (!iso || !*iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

/* "<N> s" from the invocation's own times, else -1 */
static long long duration_s(const char *start, const char *end)
{
	time_t a = iso_time(start), b = iso_time(end);
	return a && b && b >= a ? (long long)(b - a) : -1;
}

static void print_fallback(const struct aws_ssm_invocation *inv)
{
	puts("(CloudWatch Logs has no output for this command; showing the invocation's own "
	     "copy, which AWS cuts at 24,000 characters of stdout and 8,000 of stderr)");
	fputs(inv->stdout_text, stdout);
	if (*inv->stdout_text && inv->stdout_text[strlen(inv->stdout_text) - 1] != '\n')
		putchar('\n');
	for (const char *p = inv->stderr_text; *p;) {
		size_t n = strcspn(p, "\n");
		printf("stderr| %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static int follow_end(const struct aws_ssm_invocation *inv, bool seen, double elapsed)
{
	if (!seen)
		print_fallback(inv);
	long long d = duration_s(inv->start, inv->end);
	if (d < 0)
		printf("status %s, exit code %d, %.1f s\n", inv->status, inv->response_code, elapsed);
	else
		printf("status %s, exit code %d, %lld s\n", inv->status, inv->response_code, d);
	fflush(stdout);
	return strcmp(inv->status, "Success") ? EXIT_FAILED : EXIT_OK;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Streams stdout and stderr of the command on its instance until the
 * invocation is final; then one more pass, for lines that came with the end. */
static enum err_code follow_loop(struct ssm *s, const char *id, const char *inst,
				 struct aws_ssm_invocation *inv, struct stream st[2], struct err *e)
{
	char *group = aws_ssm_log_group(s->document, s->env.conf.ssm_log_group);
	enum err_code c = ERR_OK;
	for (bool final = false; !c;) {
		c = stream_drain(s, group, &st[0], e);
		if (!c)
			c = stream_drain(s, group, &st[1], e);
		if (c || final)
			break;
		aws_ssm_invocation_release(inv);
		c = aws_ssm_get_invocation(s->aws, id, inst, inv, e);
		final = !c && aws_ssm_status_final(inv->status);
		if (!c && !final)
			sleep_ms(POLL_MS);
	}
	free(group);
	return c;
}

static int follow(struct ssm *s, const char *id, struct err *e)
{
	struct aws_ssm_invocation inv = { .response_code = -1 };
	struct stream st[2] = { { .prefix = "" }, { .prefix = "stderr| " } };
	char *inst = NULL;
	double t0 = now_s();
	enum err_code c = follow_instance(s, id, &inst, e);
	if (!c) {
		st[0].name = aws_ssm_log_stream(id, inst, PLUGIN, "stdout");
		st[1].name = aws_ssm_log_stream(id, inst, PLUGIN, "stderr");
		c = follow_loop(s, id, inst, &inv, st, e);
	}
	int rc = c ? cli_fail(e) : follow_end(&inv, st[0].seen || st[1].seen, now_s() - t0);
	for (int i = 0; i < 2; i++) {
		free(st[i].name);
		free(st[i].token);
	}
	aws_ssm_invocation_release(&inv);
	free(inst);
	return rc;
}

/* ---- run ---------------------------------------------------------------- */

static void run_comment(const char *db, char *out, size_t n)
{
	unsigned int r = 0;
	FILE *f = fopen("/dev/urandom", "rb");
	if (!f || fread(&r, sizeof r, 1, f) != 1)
		r = (unsigned int)time(NULL) ^ ((unsigned int)getpid() << 16);
	if (f)
		fclose(f);
	snprintf(out, n, "tarmac db=%s run=%08x", db, r);
}

static enum err_code run_render(struct ssm *s, const struct cli_opts *o, struct buf *cmd,
				struct err *e)
{
	struct tpl_vals v = { .database = s->db, .action = o->action ? o->action : "migrate" };
	const char *tpl = s->env.conf.ssm_command;
	if (!tpl || !*tpl)
		return err_set(e, ERR_USAGE, "[ssm] command is not set in %s",
			       s->env.conf.path ? s->env.conf.path : "tarmac.conf");
	tpl_vals_from_locations(&v, s->env.cfg);
	enum err_code c = tpl_vals_check(&v, e);
	if (!c)
		c = tpl_render(tpl, &v, cmd, e);
	tpl_vals_release(&v);
	return c;
}

static enum err_code run_send(struct ssm *s, const char *text, char **id, struct err *e)
{
	char comment[128], *busy = NULL;
	run_comment(s->db, comment, sizeof comment);
	enum err_code c = ssm_aws(s, e);
	if (!c)
		c = in_flight(s, s->db, &busy, e);
	if (!c && busy)
		c = err_set(e, ERR_LOCKED, "a run for %s is in progress: %s (attach with: tarmac "
			    "ssm run -d %s --attach %s)", s->db, busy, s->db, busy);
	free(busy);
	if (c)
		return c;
	struct aws_ssm_send req = {
		.document = s->document, .instance_id = s->instance_id,
		.target_key = s->tag_key, .target_value = s->tag_value,
		.commands = (const char *const[]){ text }, .ncommands = 1, .comment = comment,
		.log_group = s->env.conf.ssm_log_group && *s->env.conf.ssm_log_group
			     ? s->env.conf.ssm_log_group : NULL,
	};
	struct aws_ssm_command out = { 0 };
	c = aws_ssm_send_command(s->aws, &req, &out, e);
	if (!c) {
		printf("sent %s (%s)\n", out.command_id, comment);
		*id = out.command_id;
		out.command_id = NULL;
	}
	free(out.command_id);
	free(out.status);
	free(out.comment);
	free(out.document);
	free(out.requested);
	free(out.instance_id);
	return c;
}

static int ssm_run(struct ssm *s, const struct cli_opts *o, struct err *e)
{
	if (o->attach) {
		printf("attaching to %s (its output from the start)\n", o->attach);
		enum err_code c = ssm_aws(s, e);
		return c ? cli_fail(e) : follow(s, o->attach, e);
	}
	struct buf text = BUF_INIT;
	char *id = NULL;
	enum err_code c = run_render(s, o, &text, e);
	if (!c && read_only(s) && !o->dry_run)
		c = err_set(e, ERR_READ_ONLY, "ssm run %s: refused in read-only mode (--read-only or "
			    "read_only in tarmac.conf); --dry-run shows the command", s->db);
	if (!c) {
		printf("target:  %s%s%s%s\ncommand: %s\n", s->instance_id ? s->instance_id : s->tag_key,
		       s->tag_key ? "=" : "", s->tag_value ? s->tag_value : "",
		       o->dry_run ? " (dry run: nothing sent)" : "", text.ptr);
		fflush(stdout);
	}
	if (!c && !o->dry_run)
		c = run_send(s, text.ptr, &id, e);
	buf_release(&text);
	int rc = c ? cli_fail(e) : EXIT_OK;
	if (c == ERR_LOCKED)
		rc = EXIT_FAILED;
	if (!c && id && o->follow)
		rc = follow(s, id, e);
	else if (!c && id)
		printf("follow it with: tarmac ssm run -d %s --attach %s\n", s->db, id);
	free(id);
	return rc;
}

/* ---- list --------------------------------------------------------------- */

/* Duration of a finished command from its (first) invocation. */
static void list_duration(struct ssm *s, const struct aws_ssm_command *cmd, char *out, size_t n)
{
	struct vec inv = VEC_INIT;
	struct aws_ssm_invocation i = { .response_code = -1 };
	snprintf(out, n, "-");
	if (!aws_ssm_status_final(cmd->status) ||
	    aws_ssm_list_invocations(s->aws, cmd->command_id, &inv, NULL) || !inv.len)
		goto out;
	const char *inst = ((struct aws_ssm_command *)inv.items[0])->instance_id;
	if (!aws_ssm_get_invocation(s->aws, cmd->command_id, inst, &i, NULL)) {
		long long d = duration_s(i.start, i.end);
		if (d >= 0)
			snprintf(out, n, "%lld s", d);
	}
out:
	aws_ssm_invocation_release(&i);
	vec_release(&inv, aws_ssm_command_free);
}

static int ssm_list(struct ssm *s, struct err *e)
{
	struct vec cmds = VEC_INIT;
	enum err_code c = ssm_aws(s, e);
	if (!c)
		c = aws_ssm_list_commands(s->aws, s->instance_id, LIST_MAX, &cmds, e);
	if (!c)
		printf("%-38s %-16s %-12s %-22s %s\n", "COMMAND ID", "DATABASE", "STATUS",
		       "REQUESTED", "DURATION");
	for (size_t i = 0; !c && i < cmds.len; i++) {
		const struct aws_ssm_command *cmd = cmds.items[i];
		char *db = comment_db(cmd->comment), dur[32];
		if (!s->db || (db && !strcmp(db, s->db))) {
			list_duration(s, cmd, dur, sizeof dur);
			printf("%-38s %-16s %-12s %-22s %s\n", cmd->command_id, db ? db : "-",
			       cmd->status, cmd->requested, dur);
		}
		free(db);
	}
	vec_release(&cmds, aws_ssm_command_free);
	return c ? cli_fail(e) : EXIT_OK;
}

/* ---- cancel ------------------------------------------------------------- */

/* Waits for every invocation of id to be final; prints each one's status. */
static enum err_code cancel_wait(struct ssm *s, const char *id, bool *cancelled, struct err *e)
{
	enum err_code c = ERR_OK;
	for (int t = 0; !c && t < CANCEL_WAIT_S * 1000 / 250; t++) {
		struct vec inv = VEC_INIT;
		bool done = true;
		c = aws_ssm_list_invocations(s->aws, id, &inv, e);
		for (size_t i = 0; !c && i < inv.len; i++)
			done &= aws_ssm_status_final(((struct aws_ssm_command *)inv.items[i])->status);
		*cancelled = true;
		for (size_t i = 0; !c && done && i < inv.len; i++) {
			const struct aws_ssm_command *v = inv.items[i];
			printf("%s on %s: status %s\n", id, v->instance_id, v->status);
			*cancelled &= !strcmp(v->status, "Cancelled");
		}
		vec_release(&inv, aws_ssm_command_free);
		if (!c && done)
			return ERR_OK;
		sleep_ms(250);
	}
	return c ? c : err_set(e, ERR_HTTP, "SSM command %s was not final %d s after "
				  "CancelCommand; see `tarmac ssm list`", id, CANCEL_WAIT_S);
}

static int ssm_cancel(struct ssm *s, const struct cli_opts *o, struct err *e)
{
	char *id = o->argc > 1 ? xstrdup(o->argv[1]) : NULL;
	bool cancelled = false;
	enum err_code c = ERR_OK;
	if (read_only(s))
		c = err_set(e, ERR_READ_ONLY, "ssm cancel: refused in read-only mode (--read-only "
			    "or read_only in tarmac.conf)");
	if (!c)
		c = ssm_aws(s, e);
	if (!c && !id)
		c = in_flight(s, s->db, &id, e);
	if (!c && !id) {
		free(id);
		printf("no run for %s is in progress\n", s->db);
		return EXIT_FAILED;
	}
	if (!c)
		c = aws_ssm_cancel_command(s->aws, id, e);
	if (!c)
		printf("cancelling %s\n", id);
	if (!c)
		c = cancel_wait(s, id, &cancelled, e);
	free(id);
	if (c)
		return cli_fail(e);
	return cancelled ? EXIT_OK : EXIT_FAILED;
}

int cmd_ssm(struct cli_opts *o)
{
	struct ssm s;
	struct err e = ERR_INIT;
	const char *sub = o->argc ? o->argv[0] : "";
	if (strcmp(sub, "run") && strcmp(sub, "list") && strcmp(sub, "cancel")) {
		fprintf(stderr, "tarmac: ssm needs run, list or cancel (got '%s')\n", sub);
		return EXIT_USAGE;
	}
	int rc;
	if (ssm_open(&s, o, strcmp(sub, "list") != 0, &e))
		rc = cli_fail(&e);
	else if (!strcmp(sub, "run"))
		rc = ssm_run(&s, o, &e);
	else if (!strcmp(sub, "list"))
		rc = ssm_list(&s, &e);
	else
		rc = ssm_cancel(&s, o, &e);
	ssm_close(&s);
	return rc;
}
