/*
 * ssm_follow — a command's output as it is written: both CloudWatch Logs
 * streams of its invocation are drained page by page while
 * GetCommandInvocation is polled, until the invocation is final and one
 * last drain has picked up what came with the end; and the fleet run, which
 * does that for one database after another.
 *
 * Invariants: a line is given to the sink once per command, across
 * processes: the position (both forward tokens and the line count) is saved
 * after every page, before the cancel flag is looked at, so a follower
 * stopped by its flag saves exactly what it delivered and the next one
 * starts at the next line. (A follower killed outright may repeat at most
 * the one page it was delivering.) The state file goes once the command is
 * final and drained.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "tui/ssm_internal.h"

#define PLUGIN "aws:runShellScript"       /* AWS-RunShellScript's one step */
#define POLL_MS 1000
#define DRAIN_PAGES 100                    /* per stream and poll */
#define DELIVERY_WAIT_S 60

static const char *const stream_names[2] = { "stdout", "stderr" };
static const enum tui_stream stream_kinds[2] = { TUI_STREAM_STDOUT, TUI_STREAM_STDERR };

struct follow {
	struct tui_ssm *s;
	const char *id;
	const struct tui_ssm_sink *sink;
	atomic_bool *cancel;
	char *group, *inst, *stream[2];
	struct tui_ssm_pos pos;
	bool keep;                       /* positions are saved (until a write fails) */
	uint64_t t0;                     /* time_mono_ns() at the start */
};

static void emit(const struct tui_ssm_sink *sink, enum tui_stream st, const char *text,
		 size_t len)
{
	if (sink && sink->line)
		sink->line(sink->ctx, st, text, len);
}

__attribute__((format(printf, 2, 3)))
static void notef(const struct tui_ssm_sink *sink, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	emit(sink, TUI_STREAM_INFO, b.ptr, b.len);
	buf_release(&b);
}

/* Gives m to the sink line by line (one trailing newline dropped); returns
 * the lines given. */
static unsigned long long deliver(const struct tui_ssm_sink *sink, enum tui_stream st,
				  const char *m)
{
	struct buf line = BUF_INIT;
	unsigned long long count = 0;
	size_t n = strlen(m);
	if (n && m[n - 1] == '\n')
		n--;
	for (size_t i = 0;;) {
		const char *nl = memchr(m + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (m + i)) : n - i;
		buf_reset(&line);
		buf_add(&line, m + i, len);
		emit(sink, st, line.ptr, line.len);
		count++;
		if (!nl)
			break;
		i += len + 1;
	}
	buf_release(&line);
	return count;
}

void tui_ssm_outcome_format(const struct tui_ssm_outcome *o, char *out, size_t n)
{
	double whole = (double)(long long)o->seconds;
	snprintf(out, n, "status %s, exit code %d, %.*f s", o->status, o->exit_code,
		 whole == o->seconds ? 0 : 1, o->seconds);
}

/* ---- the position ----------------------------------------------------------- */

static void position_load(struct follow *f)
{
	struct err le = ERR_INIT;
	bool found = false;
	f->keep = f->s->state_dir != NULL;
	if (!f->keep) {
		notef(f->sink, "neither XDG_STATE_HOME nor HOME is set: how far %s has been shown "
		      "is not kept; showing its output from the start", f->id);
		return;
	}
	if (tui_ssm_state_load(f->s->state_dir, f->id, &f->pos, &found, &le))
		notef(f->sink, "%s; showing %s's output from the start", le.msg, f->id);
	else if (!found)
		notef(f->sink, "no saved position for %s; showing its output from the start", f->id);
	else if (f->pos.lines)
		notef(f->sink, "resuming %s after %llu lines already shown", f->id, f->pos.lines);
}

static void position_save(struct follow *f)
{
	struct err le = ERR_INIT;
	if (f->keep && tui_ssm_state_save(f->s->state_dir, f->id, &f->pos, &le)) {
		f->keep = false;
		notef(f->sink, "cannot save how far %s has been shown (%s): attaching again will "
		      "repeat lines", f->id, le.msg);
	}
}

static bool cancelled(const struct follow *f)
{
	return f->cancel && atomic_load(f->cancel);
}

static enum err_code stopped(const struct follow *f, struct err *e)
{
	return err_set(e, ERR_CANCELLED, "stopped following %s after %llu lines; the command "
		       "goes on", f->id, f->pos.lines);
}

/* ---- following -------------------------------------------------------------- */

/* Gives the sink every event stream i has past its token, saving the
 * position after each page. */
static enum err_code stream_drain(struct follow *f, int i, struct err *e)
{
	for (int page = 0; page < DRAIN_PAGES; page++) {
		struct vec evs = VEC_INIT;
		bool missing = false;
		enum err_code c = aws_logs_get_events(f->s->aws, f->group, f->stream[i],
						      &f->pos.token[i], &evs, &missing, e);
		for (size_t k = 0; !c && k < evs.len; k++)
			f->pos.lines += deliver(f->sink, stream_kinds[i],
						((struct aws_log_event *)evs.items[k])->message);
		size_t got = evs.len;
		vec_release(&evs, aws_log_event_free);
		if (c || !got)
			return c;
		position_save(f);
		if (cancelled(f))
			return stopped(f, e);
	}
	return ERR_OK;
}

/* The instance the command went to: the target's, or for tag targets the
 * first one it was delivered to. Asking also makes an unknown id an error
 * rather than an invocation that stays Pending for ever. */
static enum err_code follow_instance(struct follow *f, struct err *e)
{
	for (int i = 0; i < DELIVERY_WAIT_S; i++) {
		struct vec inv = VEC_INIT;
		enum err_code c = aws_ssm_list_invocations(f->s->aws, f->id, &inv, e);
		if (!c && f->s->instance_id)
			f->inst = xstrdup(f->s->instance_id);
		else if (!c && inv.len)
			f->inst = xstrdup(((struct aws_ssm_command *)inv.items[0])->instance_id);
		if (!c && inv.len > 1)
			notef(f->sink, "(%zu instances ran %s; following %s)", inv.len, f->id, f->inst);
		vec_release(&inv, aws_ssm_command_free);
		if (c && c != ERR_CANCELLED)
			err_prefix(e, "cannot follow %s", f->id);
		if (c || f->inst)
			return c;
		if (!tui_ssm_pause(POLL_MS, f->cancel))
			return stopped(f, e);
	}
	return err_set(e, ERR_HTTP, "SSM command %s reached no instance with %s=%s in %d s; "
		       "see `tarmac ssm list`", f->id, f->s->tag_key, f->s->tag_value,
		       DELIVERY_WAIT_S);
}

/* Drains both streams until the invocation is final; then once more, for
 * the lines that came with the end. */
static enum err_code follow_loop(struct follow *f, struct aws_ssm_invocation *inv,
				 struct err *e)
{
	for (bool final = false;;) {
		if (cancelled(f))
			return stopped(f, e);
		enum err_code c = stream_drain(f, 0, e);
		if (!c)
			c = stream_drain(f, 1, e);
		if (c || final)
			return c;
		aws_ssm_invocation_release(inv);
		c = aws_ssm_get_invocation(f->s->aws, f->id, f->inst, inv, e);
		final = !c && aws_ssm_status_final(inv->status);
		if (!c && !final && !tui_ssm_pause(POLL_MS, f->cancel))
			c = stopped(f, e);
		if (c)
			return c;
	}
}

static void follow_end(struct follow *f, const struct aws_ssm_invocation *inv,
		       struct tui_ssm_outcome *out)
{
	if (!f->pos.lines) {
		notef(f->sink, "(CloudWatch Logs has no output for this command; showing the "
		      "invocation's own copy, which AWS cuts at 24,000 characters of stdout and "
		      "8,000 of stderr)");
		if (inv->stdout_text && *inv->stdout_text)
			deliver(f->sink, TUI_STREAM_STDOUT, inv->stdout_text);
		if (inv->stderr_text && *inv->stderr_text)
			deliver(f->sink, TUI_STREAM_STDERR, inv->stderr_text);
	}
	if (f->s->state_dir)
		tui_ssm_state_remove(f->s->state_dir, f->id);
	snprintf(out->status, sizeof out->status, "%s", inv->status ? inv->status : "");
	out->exit_code = inv->response_code;
	long long d = tui_ssm_duration_s(inv->start, inv->end);
	out->seconds = d >= 0 ? (double)d : (double)(time_mono_ns() - f->t0) / 1e9;
}

enum err_code tui_ssm_follow(struct tui_ssm *s, const char *id, const struct tui_ssm_sink *sink,
			     atomic_bool *cancel, struct tui_ssm_outcome *out, struct err *e)
{
	struct follow f = { .s = s, .id = id, .sink = sink, .cancel = cancel,
			  .t0 = time_mono_ns() };
	struct aws_ssm_invocation inv = { .response_code = -1 };
	memset(out, 0, sizeof *out);
	out->exit_code = -1;
	if (!tui_ssm_id_ok(id))
		return err_set(e, ERR_USAGE, "\"%s\" is not an SSM command id (see `tarmac ssm "
			       "list`)", id ? id : "");
	atomic_bool *was = tui_ssm_bind_cancel(s, cancel);
	enum err_code c = follow_instance(&f, e);
	if (!c) {
		position_load(&f);
		f.group = aws_ssm_log_group(s->document, s->log_group);
		for (int i = 0; i < 2; i++)
			f.stream[i] = aws_ssm_log_stream(id, f.inst, PLUGIN, stream_names[i]);
		c = follow_loop(&f, &inv, e);
	}
	if (c == ERR_CANCELLED) /* the flag may have stopped an AWS call: say it our way */
		c = stopped(&f, e);
	if (!c)
		follow_end(&f, &inv, out);
	tui_ssm_bind_cancel(s, was);
	for (int i = 0; i < 2; i++)
		free(f.stream[i]);
	free(f.group);
	free(f.inst);
	tui_ssm_pos_release(&f.pos);
	aws_ssm_invocation_release(&inv);
	return c;
}

/* ---- fleet ------------------------------------------------------------------ */

struct fleet {
	const char *const *dbs;
	size_t n;
	const struct tui_ssm_sink *sink;
	atomic_bool *cancel;
};

/* Every database's command, before anything is sent. */
static enum err_code fleet_render(struct tui_ssm *s, const struct fleet *fl, const char *action,
				  struct buf *texts, struct err *e)
{
	if (!fl->n)
		return err_set(e, ERR_USAGE, "a fleet run needs at least one database");
	for (size_t i = 0; i < fl->n; i++) {
		enum err_code c = tui_ssm_render(s, fl->dbs[i], action, &texts[i], e);
		if (!c && tui_ssm_read_only(s, fl->dbs[i]))
			c = err_set(e, ERR_READ_ONLY, "ssm run %s: refused in read-only mode "
				    "(--read-only or read_only in tarmac.conf)", fl->dbs[i]);
		if (c) {
			err_prefix(e, "fleet: nothing sent");
			return c;
		}
	}
	return ERR_OK;
}

/* Sends, follows and judges run i; an error says where the fleet stopped. */
static enum err_code fleet_one(struct tui_ssm *s, const struct fleet *fl, size_t i,
			       const char *text, struct err *e)
{
	const char *db = fl->dbs[i];
	struct tui_ssm_outcome o;
	struct err le = ERR_INIT;
	struct buf rest = BUF_INIT;
	char *id = NULL, line[128];
	notef(fl->sink, "fleet %zu/%zu: %s", i + 1, fl->n, db);
	enum err_code c = tui_ssm_send(s, db, text, &id, &le);
	if (!c) {
		notef(fl->sink, "sent %s (%s)", id, s->comment);
		c = tui_ssm_follow(s, id, fl->sink, fl->cancel, &o, &le);
	}
	if (!c) {
		tui_ssm_outcome_format(&o, line, sizeof line);
		notef(fl->sink, "fleet %zu/%zu: %s: %s", i + 1, fl->n, db, line);
		if (strcmp(o.status, "Success"))
			c = err_set(&le, ERR_VALIDATE, "%s", line);
	}
	for (size_t k = i + 1; k < fl->n; k++)
		buf_addf(&rest, "%s%s", k == i + 1 ? "; not sent: " : ", ", fl->dbs[k]);
	if (c == ERR_CANCELLED && id)
		err_set(e, c, "fleet stopped at %s (%zu of %zu): %s (re-attach with: tarmac ssm run "
			"-d %s --attach %s)%s", db, i + 1, fl->n, le.msg, db, id, rest.ptr);
	else if (c)
		err_set(e, c, "fleet stopped at %s (%zu of %zu): %s%s", db, i + 1, fl->n, le.msg,
			rest.ptr);
	buf_release(&rest);
	free(id);
	return c;
}

/* NOLINTNEXTLINE(readability-function-size): ssm.h's signature (the console's) */
enum err_code tui_ssm_fleet(struct tui_ssm *s, const char *const *dbs, size_t n,
			    const char *action, const struct tui_ssm_sink *sink,
			    atomic_bool *cancel, size_t *done, struct err *e)
{
	struct fleet fl = { .dbs = dbs, .n = n, .sink = sink, .cancel = cancel };
	struct buf *texts = xcalloc(n ? n : 1, sizeof *texts);
	atomic_bool *was = tui_ssm_bind_cancel(s, cancel);
	*done = 0;
	for (size_t i = 0; i < n; i++)
		buf_init(&texts[i]);
	enum err_code c = fleet_render(s, &fl, action, texts, e);
	for (size_t i = 0; !c && i < n; i++) {
		if (cancel && atomic_load(cancel))
			c = err_set(e, ERR_CANCELLED, "fleet stopped before %s (%zu of %zu)", dbs[i],
				    i + 1, n);
		if (!c)
			c = fleet_one(s, &fl, i, texts[i].ptr, e);
		if (!c)
			(*done)++;
	}
	tui_ssm_bind_cancel(s, was);
	for (size_t i = 0; i < n; i++)
		buf_release(&texts[i]);
	free(texts);
	return c;
}
