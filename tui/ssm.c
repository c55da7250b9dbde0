/*
 * ssm — the handle of tui/ssm.h and the calls that do not stream: one run
 * per database (the in-flight check on the Comment tag), SendCommand,
 * CancelCommand and the wait for it, the list of recent runs, the host's
 * agent status. Following a command is in ssm_follow.c, the command's text
 * in ssm_template.c, the follow positions in ssm_state.c.
 *
 * Invariants: nothing here prints or keeps global state; every AWS call
 * goes through the handle's own context, which is bound to a caller's
 * cancel flag only for the duration of the call that was given one.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui/ssm_internal.h"

#define IN_FLIGHT_SCAN 50                 /* recent commands searched for a run */
#define WAIT_POLL_MS 250

/* ---- the handle ------------------------------------------------------------- */

static enum err_code target_parse(struct tui_ssm *s, struct err *e)
{
	const char *t = s->conf.ssm_target;
	if (!t || !*t)
		return err_set(e, ERR_USAGE, "[ssm] target is not set in %s: write target = "
			       "i-0123456789abcdef0 or target = tag:Role=flyway-host",
			       s->conf.path ? s->conf.path : "tarmac.conf");
	s->target = xstrdup(t);
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
	s->instance_id = xstrdup(t);
	return ERR_OK;
}

static const char *conf_or(const char *v, const char *dflt)
{
	return v && *v ? v : dflt;
}

enum err_code tui_ssm_open(const char *config_path, bool read_only, struct tui_ssm **out,
			   struct err *e)
{
	struct tui_ssm *s = xcalloc(1, sizeof *s);
	*out = NULL;
	tui_conf_init(&s->conf);
	enum err_code c = tui_conf_load(&s->conf, config_path, e);
	s->read_only = read_only || s->conf.read_only;
	if (!c)
		c = target_parse(s, e);
	if (!c) {
		struct aws_ctx_options o = { .profile = s->conf.aws_profile,
					     .region = s->conf.aws_region,
					     .read_only = s->read_only };
		c = aws_ctx_new(&o, &s->aws, e);
	}
	if (c) {
		tui_ssm_free(s);
		return c;
	}
	s->document = conf_or(s->conf.ssm_document, "AWS-RunShellScript");
	s->log_group = conf_or(s->conf.ssm_log_group, NULL);
	s->state_dir = tui_ssm_state_dir();
	/* $USER, else the account's name (a tmux or SSM session may not set it) */
	const char *user = getenv("USER");
	struct passwd *pw = user && *user ? NULL : getpwuid(getuid());
	tui_ssm_operator_clean(pw ? pw->pw_name : user, s->operator_name);
	*out = s;
	return ERR_OK;
}

void tui_ssm_free(struct tui_ssm *s)
{
	if (!s)
		return;
	aws_ctx_free(s->aws);
	tui_conf_release(&s->conf);
	free(s->target);
	free(s->instance_id);
	free(s->tag_key);
	free(s->tag_value);
	free(s->state_dir);
	free(s);
}

const char *tui_ssm_target(const struct tui_ssm *s)
{
	return s->target;
}

const char *tui_ssm_operator(const struct tui_ssm *s)
{
	return s->operator_name;
}

const char *tui_ssm_comment(const struct tui_ssm *s)
{
	return s->comment;
}

bool tui_ssm_read_only(const struct tui_ssm *s, const char *db)
{
	const struct tui_db_conf *d = db ? tui_conf_find_db(&s->conf, db) : NULL;
	return s->read_only || (d && d->eng.read_only);
}

atomic_bool *tui_ssm_bind_cancel(struct tui_ssm *s, atomic_bool *cancel)
{
	atomic_bool *was = s->cancel;
	s->cancel = cancel;
	aws_ctx_set_cancel(s->aws, cancel);
	return was;
}

enum err_code tui_ssm_find_db(const struct tui_ssm *s, const char *db,
			      struct tui_db_conf **out, struct err *e)
{
	*out = db ? tui_conf_find_db(&s->conf, db) : NULL;
	if (!*out)
		return err_set(e, ERR_USAGE, "no database '%s' in %s", db ? db : "",
			       s->conf.path ? s->conf.path : "any tarmac.conf");
	return ERR_OK;
}

/* ---- one run per database --------------------------------------------------- */

enum err_code tui_ssm_in_flight(struct tui_ssm *s, const char *db, char **id, struct err *e)
{
	struct vec cmds = VEC_INIT;
	struct tui_db_conf *d;
	*id = NULL;
	enum err_code c = tui_ssm_find_db(s, db, &d, e);
	if (!c)
		c = aws_ssm_list_commands(s->aws, s->instance_id, IN_FLIGHT_SCAN, &cmds, e);
	for (size_t i = 0; !c && !*id && i < cmds.len; i++) {
		const struct aws_ssm_command *cmd = cmds.items[i];
		char *name = tui_ssm_comment_get(cmd->comment, "db");
		if (name && !strcmp(name, db) && !aws_ssm_status_final(cmd->status))
			*id = xstrdup(cmd->command_id);
		free(name);
	}
	vec_release(&cmds, aws_ssm_command_free);
	return c;
}

static unsigned int run_tag(void)
{
	unsigned int r = 0;
	FILE *f = fopen("/dev/urandom", "rb");
	if (!f || fread(&r, sizeof r, 1, f) != 1)
		r = (unsigned int)time(NULL) ^ ((unsigned int)getpid() << 16);
	if (f)
		fclose(f);
	return r;
}

static enum err_code send_check(struct tui_ssm *s, const char *db, char *comment,
				struct err *e)
{
	char *busy = NULL;
	if (tui_ssm_read_only(s, db))
		return err_set(e, ERR_READ_ONLY, "ssm run %s: refused in read-only mode (--read-only "
			       "or read_only in tarmac.conf)", db ? db : "");
	enum err_code c = tui_ssm_comment_make(db, run_tag(), s->operator_name, comment, e);
	if (!c)
		c = tui_ssm_in_flight(s, db, &busy, e);
	if (!c && busy)
		c = err_set(e, ERR_LOCKED, "a run for %s is in progress: %s (attach with: tarmac "
			    "ssm run -d %s --attach %s)", db, busy, db, busy);
	free(busy);
	return c;
}

/* An empty position: a follow of this command starts quietly at the top,
 * while one of a command without a file says it has no position. */
static void send_record(struct tui_ssm *s, const char *id)
{
	struct tui_ssm_pos pos = { 0 };
	if (!s->state_dir)
		return;
	tui_ssm_state_prune(s->state_dir, TUI_SSM_STATE_MAX_AGE_S);
	tui_ssm_state_save(s->state_dir, id, &pos, NULL);
}

enum err_code tui_ssm_send(struct tui_ssm *s, const char *db, const char *text, char **id,
			   struct err *e)
{
	char comment[TUI_SSM_COMMENT_MAX + 1];
	*id = NULL;
	enum err_code c = send_check(s, db, comment, e);
	if (c)
		return c;
	struct aws_ssm_send req = {
		.document = s->document, .instance_id = s->instance_id,
		.target_key = s->tag_key, .target_value = s->tag_value,
		.commands = (const char *const[]){ text }, .ncommands = 1, .comment = comment,
		.log_group = s->log_group,
	};
	struct aws_ssm_command out = { 0 };
	c = aws_ssm_send_command(s->aws, &req, &out, e);
	if (!c) {
		snprintf(s->comment, sizeof s->comment, "%s", comment);
		*id = out.command_id;
		out.command_id = NULL;
		send_record(s, *id);
	}
	aws_ssm_command_release(&out);
	return c;
}

/* ---- cancel ----------------------------------------------------------------- */

enum err_code tui_ssm_cancel(struct tui_ssm *s, const char *id, struct err *e)
{
	if (s->read_only)
		return err_set(e, ERR_READ_ONLY, "ssm cancel: refused in read-only mode (--read-only "
			       "or read_only in tarmac.conf)");
	return aws_ssm_cancel_command(s->aws, id, e);
}

void tui_ssm_invocation_free(void *p)
{
	struct tui_ssm_invocation *i = p;
	if (!i)
		return;
	free(i->instance_id);
	free(i->status);
	free(i);
}

bool tui_ssm_pause(long ms, atomic_bool *cancel)
{
	for (long left = ms; left > 0; left -= 50) {
		if (cancel && atomic_load(cancel))
			return false;
		struct timespec ts = { 0, (left < 50 ? left : 50) * 1000000L };
		nanosleep(&ts, NULL);
	}
	return !(cancel && atomic_load(cancel));
}

/* true when every invocation in inv is final; then moves them to out */
static bool invocations_final(struct vec *inv, struct vec *out)
{
	for (size_t i = 0; i < inv->len; i++)
		if (!aws_ssm_status_final(((struct aws_ssm_command *)inv->items[i])->status))
			return false;
	for (size_t i = 0; i < inv->len; i++) {
		const struct aws_ssm_command *v = inv->items[i];
		struct tui_ssm_invocation *t = xcalloc(1, sizeof *t);
		t->instance_id = xstrdup(v->instance_id);
		t->status = xstrdup(v->status);
		vec_push(out, t);
	}
	return true;
}

enum err_code tui_ssm_wait_final(struct tui_ssm *s, const char *id, int timeout_s,
				 atomic_bool *cancel, struct vec *invs, struct err *e)
{
	atomic_bool *was = tui_ssm_bind_cancel(s, cancel);
	enum err_code c = ERR_OK;
	bool done = false;
	for (long t = 0; !c && !done; t += WAIT_POLL_MS) {
		struct vec inv = VEC_INIT;
		c = aws_ssm_list_invocations(s->aws, id, &inv, e);
		done = !c && invocations_final(&inv, invs);
		vec_release(&inv, aws_ssm_command_free);
		if (!c && !done && t >= timeout_s * 1000L)
			c = err_set(e, ERR_HTTP, "SSM command %s was not final %d s after "
				    "CancelCommand; see `tarmac ssm list`", id, timeout_s);
		if (!c && !done && !tui_ssm_pause(WAIT_POLL_MS, cancel))
			c = err_set(e, ERR_CANCELLED, "stopped waiting for %s", id);
	}
	tui_ssm_bind_cancel(s, was);
	return c;
}

/* ---- list ------------------------------------------------------------------- */

void tui_ssm_run_free(void *p)
{
	struct tui_ssm_run *r = p;
	if (!r)
		return;
	free(r->id);
	free(r->db);
	free(r->operator_name);
	free(r->status);
	free(r->requested);
	free(r);
}

static time_t iso_time(const char *iso)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (!iso || !*iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

long long tui_ssm_duration_s(const char *start, const char *end)
{
	time_t a = iso_time(start), b = iso_time(end);
	return a && b && b >= a ? (long long)(b - a) : -1;
}

/* Seconds a finished command ran, from its (first) invocation; -1 unknown. */
static long long run_seconds(struct tui_ssm *s, const struct aws_ssm_command *cmd)
{
	struct vec inv = VEC_INIT;
	struct aws_ssm_invocation i = { .response_code = -1 };
	long long d = -1;
	if (aws_ssm_status_final(cmd->status) &&
	    !aws_ssm_list_invocations(s->aws, cmd->command_id, &inv, NULL) && inv.len) {
		const char *inst = ((struct aws_ssm_command *)inv.items[0])->instance_id;
		if (!aws_ssm_get_invocation(s->aws, cmd->command_id, inst, &i, NULL))
			d = tui_ssm_duration_s(i.start, i.end);
	}
	aws_ssm_invocation_release(&i);
	vec_release(&inv, aws_ssm_command_free);
	return d;
}

static char *or_empty(char *s)
{
	return s ? s : xstrdup("");
}

enum err_code tui_ssm_list(struct tui_ssm *s, const char *db, int max, struct vec *runs,
			   struct err *e)
{
	struct vec cmds = VEC_INIT;
	struct tui_db_conf *d;
	int added = 0;
	enum err_code c = db ? tui_ssm_find_db(s, db, &d, e) : ERR_OK;
	if (!c) /* a database's runs are looked for among more of the newest */
		c = aws_ssm_list_commands(s->aws, s->instance_id,
					  db && max < IN_FLIGHT_SCAN ? IN_FLIGHT_SCAN : max, &cmds, e);
	for (size_t i = 0; !c && added < max && i < cmds.len; i++) {
		const struct aws_ssm_command *cmd = cmds.items[i];
		char *name = or_empty(tui_ssm_comment_get(cmd->comment, "db"));
		if (db && strcmp(name, db)) {
			free(name);
			continue;
		}
		struct tui_ssm_run *r = xcalloc(1, sizeof *r);
		r->id = xstrdup(cmd->command_id);
		r->db = name;
		r->operator_name = or_empty(tui_ssm_comment_get(cmd->comment, "by"));
		r->status = xstrdup(cmd->status);
		r->requested = xstrdup(cmd->requested);
		r->seconds = run_seconds(s, cmd);
		vec_push(runs, r);
		added++;
	}
	vec_release(&cmds, aws_ssm_command_free);
	return c;
}

/* ---- the host --------------------------------------------------------------- */

enum err_code tui_ssm_host_status(struct tui_ssm *s, struct tui_ssm_host *out, struct err *e)
{
	struct aws_ssm_instance in = { 0 };
	enum err_code c = s->instance_id
			  ? aws_ssm_describe_instance(s->aws, s->instance_id, &in, e)
			  : aws_ssm_describe_tagged(s->aws, s->tag_key, s->tag_value, &in, e);
	memset(out, 0, sizeof *out);
	if (!c) {
		out->managed = in.found;
		snprintf(out->instance_id, sizeof out->instance_id, "%s", in.instance_id);
		snprintf(out->ping, sizeof out->ping, "%s", in.ping_status);
		snprintf(out->agent, sizeof out->agent, "%s", in.agent_version);
		snprintf(out->platform, sizeof out->platform, "%s", in.platform);
	}
	aws_ssm_instance_release(&in);
	return c;
}
