/*
 * cmd_ssm — `tarmac ssm run|list|cancel|host`, the line mode over tui/ssm.h:
 * the Flyway host's command for one database (or a fleet of them, one after
 * another) sent through SSM Run Command and followed as it runs, the recent
 * runs, cancelling one, and the host's SSM agent.
 *
 * Invariants: output goes to stdout as tui/ssm.c delivers it, flushed line
 * by line, so a position tui/ssm.c saves is a line already shown. While a
 * command is followed, SIGINT, SIGTERM and SIGHUP (unless they were
 * ignored, as under nohup) only raise the cancel flag: the follower stops
 * between pages with its position saved, says how to re-attach, and exits
 * 128 + the signal's number. A second signal ends it at once. Errors go to stderr as "tarmac: ..." with the
 * exit codes of cli.h (a run that is not Success exits 1).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"
#include "tui/ssm.h"

#define LIST_MAX 20
#define CANCEL_WAIT_S 60

/* ---- stopping a follower by signal -------------------------------------------- */

static atomic_bool stop_flag;
static volatile sig_atomic_t stop_signal;

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NSTOP (sizeof stop_signals / sizeof *stop_signals)

/* The first signal asks the follower to stop after its page; a second one,
 * for a follower that does not, takes the default action at once. */
static void on_stop(int sig)
{
	if (atomic_load(&stop_flag)) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	stop_signal = sig;
	atomic_store(&stop_flag, true);
}

struct stop_guard {
	struct sigaction old[NSTOP];
};

static void stop_catch(struct stop_guard *g)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	atomic_store(&stop_flag, false);
	stop_signal = 0;
	for (size_t i = 0; i < NSTOP; i++) {
		sigaction(stop_signals[i], NULL, &g->old[i]);
		if (g->old[i].sa_handler != SIG_IGN)
			sigaction(stop_signals[i], &sa, NULL);
	}
}

static void stop_release(const struct stop_guard *g)
{
	for (size_t i = 0; i < NSTOP; i++)
		sigaction(stop_signals[i], &g->old[i], NULL);
}

static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
}

/* ---- output ----------------------------------------------------------------- */

static void print_line(void *ctx, enum tui_stream stream, const char *text, size_t len)
{
	(void)ctx;
	if (stream == TUI_STREAM_STDERR)
		fputs("stderr| ", stdout);
	fwrite(text, 1, len, stdout);
	putchar('\n');
	fflush(stdout);
}

static const struct tui_ssm_sink print_sink = { print_line, NULL };

/* The exit of a follower stopped by a signal. */
static int stopped_exit(const struct err *e, const char *hint_db, const char *hint_id)
{
	fflush(stdout);
	if (hint_id)
		fprintf(stderr, "tarmac: %s (%s): re-attach with: tarmac ssm run -d %s --attach %s\n",
			e->msg, signal_name(stop_signal), hint_db, hint_id);
	else
		fprintf(stderr, "tarmac: %s (%s)\n", e->msg, signal_name(stop_signal));
	return 128 + stop_signal;
}

static int follow(struct tui_ssm *s, const char *db, const char *id)
{
	struct tui_ssm_outcome out;
	struct err e = ERR_INIT;
	struct stop_guard g;
	char line[128];
	stop_catch(&g);
	enum err_code c = tui_ssm_follow(s, id, &print_sink, &stop_flag, &out, &e);
	stop_release(&g);
	if (c == ERR_CANCELLED && stop_signal)
		return stopped_exit(&e, db, id);
	if (c)
		return cli_fail(&e);
	tui_ssm_outcome_format(&out, line, sizeof line);
	puts(line);
	fflush(stdout);
	return strcmp(out.status, "Success") ? EXIT_FAILED : EXIT_OK;
}

/* ---- run -------------------------------------------------------------------- */

static void split_dbs(const char *list, struct vec *out)
{
	for (const char *p = list;; p++) {
		size_t n = strcspn(p, ",");
		vec_push(out, xstrndup(p, n));
		p += n;
		if (!*p)
			break;
	}
}

static int fleet_dry_run(struct tui_ssm *s, const struct cli_opts *o, const struct vec *dbs)
{
	struct err e = ERR_INIT;
	printf("target:  %s (dry run: nothing sent)\n", tui_ssm_target(s));
	for (size_t i = 0; i < dbs->len; i++) {
		struct buf text = BUF_INIT;
		enum err_code c = tui_ssm_render(s, dbs->items[i], o->action, &text, &e);
		if (!c)
			printf("command for %s: %s\n", (const char *)dbs->items[i], text.ptr);
		buf_release(&text);
		if (c)
			return cli_fail(&e);
	}
	return EXIT_OK;
}

static void fleet_summary(const struct vec *dbs, size_t done)
{
	printf("fleet: %zu of %zu succeeded", done, dbs->len);
	for (size_t i = 0; i < done; i++)
		printf("%s%s", i ? ", " : " (", (const char *)dbs->items[i]);
	puts(done ? ")" : "");
	fflush(stdout);
}

static int fleet_follow(struct tui_ssm *s, const struct cli_opts *o, const struct vec *dbs)
{
	struct err e = ERR_INIT;
	struct stop_guard g;
	size_t done = 0;
	printf("target:  %s\nfleet:   %zu databases, one at a time, stopping at the first run "
	       "that does not succeed\n", tui_ssm_target(s), dbs->len);
	fflush(stdout);
	stop_catch(&g);
	enum err_code c = tui_ssm_fleet(s, (const char *const *)dbs->items, dbs->len, o->action,
					&print_sink, &stop_flag, &done, &e);
	stop_release(&g);
	fleet_summary(dbs, done);
	if (c == ERR_CANCELLED && stop_signal)
		return stopped_exit(&e, NULL, NULL);
	if (!c)
		return EXIT_OK;
	int rc = cli_fail(&e);
	return c == ERR_LOCKED ? EXIT_FAILED : rc; /* as for one run: not a database lock */
}

/* -d a,b,c: every database's command checked, then one run after another. */
static int ssm_fleet(struct tui_ssm *s, const struct cli_opts *o)
{
	struct vec dbs = VEC_INIT;
	int rc;
	split_dbs(o->db_name, &dbs);
	if (o->attach) {
		fprintf(stderr, "tarmac: ssm run --attach follows one command: give one -d NAME\n");
		rc = EXIT_USAGE;
	} else if (o->dry_run) {
		rc = fleet_dry_run(s, o, &dbs);
	} else if (!o->follow) {
		fprintf(stderr, "tarmac: a fleet run (-d %s) needs --follow: each database waits for "
			"the one before it to succeed\n", o->db_name);
		rc = EXIT_USAGE;
	} else {
		rc = fleet_follow(s, o, &dbs);
	}
	vec_free_strs(&dbs);
	return rc;
}

static int ssm_run(struct tui_ssm *s, const struct cli_opts *o)
{
	const char *db = o->db_name;
	if (strchr(db, ','))
		return ssm_fleet(s, o);
	if (o->attach) {
		printf("attaching to %s\n", o->attach);
		fflush(stdout);
		return follow(s, db, o->attach);
	}
	struct buf text = BUF_INIT;
	struct err e = ERR_INIT;
	char *id = NULL;
	enum err_code c = tui_ssm_render(s, db, o->action, &text, &e);
	if (!c && !o->dry_run && tui_ssm_read_only(s, db))
		c = err_set(&e, ERR_READ_ONLY, "ssm run %s: refused in read-only mode (--read-only or "
			    "read_only in tarmac.conf); --dry-run shows the command", db);
	if (!c)
		printf("target:  %s%s\ncommand: %s\n", tui_ssm_target(s),
		       o->dry_run ? " (dry run: nothing sent)" : "", text.ptr);
	fflush(stdout);
	if (!c && !o->dry_run)
		c = tui_ssm_send(s, db, text.ptr, &id, &e);
	buf_release(&text);
	int rc = c ? cli_fail(&e) : EXIT_OK;
	if (c == ERR_LOCKED)
		rc = EXIT_FAILED;
	if (id)
		printf("sent %s (%s)\n", id, tui_ssm_comment(s));
	if (id && o->follow)
		rc = follow(s, db, id);
	else if (id)
		printf("follow it with: tarmac ssm run -d %s --attach %s\n", db, id);
	free(id);
	return rc;
}

/* ---- list, cancel, host ----------------------------------------------------- */

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static int ssm_list(struct tui_ssm *s, const struct cli_opts *o)
{
	struct vec runs = VEC_INIT;
	struct err e = ERR_INIT;
	enum err_code c = tui_ssm_list(s, o->db_name, LIST_MAX, &runs, &e);
	if (!c)
		printf("%-38s %-16s %-12s %-16s %-22s %s\n", "COMMAND ID", "DATABASE", "STATUS",
		       "OPERATOR", "REQUESTED", "DURATION");
	for (size_t i = 0; !c && i < runs.len; i++) {
		const struct tui_ssm_run *r = runs.items[i];
		char dur[32] = "-";
		if (r->seconds >= 0)
			snprintf(dur, sizeof dur, "%lld s", r->seconds);
		printf("%-38s %-16s %-12s %-16s %-22s %s\n", r->id, or_dash(r->db), r->status,
		       or_dash(r->operator_name), r->requested, dur);
	}
	vec_release(&runs, tui_ssm_run_free);
	return c ? cli_fail(&e) : EXIT_OK;
}

/* Prints each instance's final status; true when all were Cancelled. */
static bool print_final(const char *id, const struct vec *invs)
{
	bool cancelled = true;
	for (size_t i = 0; i < invs->len; i++) {
		const struct tui_ssm_invocation *v = invs->items[i];
		printf("%s on %s: status %s\n", id, v->instance_id, v->status);
		cancelled &= !strcmp(v->status, "Cancelled");
	}
	return cancelled;
}

static int ssm_cancel(struct tui_ssm *s, const struct cli_opts *o)
{
	struct vec invs = VEC_INIT;
	struct err e = ERR_INIT;
	char *id = o->argc > 1 ? xstrdup(o->argv[1]) : NULL;
	enum err_code c = ERR_OK;
	int rc = EXIT_FAILED;
	if (tui_ssm_read_only(s, o->db_name))
		c = err_set(&e, ERR_READ_ONLY, "ssm cancel: refused in read-only mode (--read-only "
			    "or read_only in tarmac.conf)");
	if (!c && !id)
		c = tui_ssm_in_flight(s, o->db_name, &id, &e);
	if (!c && !id)
		printf("no run for %s is in progress\n", o->db_name);
	if (!c && id)
		c = tui_ssm_cancel(s, id, &e);
	if (!c && id) {
		printf("cancelling %s\n", id);
		fflush(stdout);
		c = tui_ssm_wait_final(s, id, CANCEL_WAIT_S, NULL, &invs, &e);
	}
	if (!c && id)
		rc = print_final(id, &invs) ? EXIT_OK : EXIT_FAILED;
	if (c)
		rc = cli_fail(&e);
	vec_release(&invs, tui_ssm_invocation_free);
	free(id);
	return rc;
}

static int ssm_host(struct tui_ssm *s, const struct cli_opts *o)
{
	struct tui_ssm_host h;
	struct err e = ERR_INIT;
	const char *t = tui_ssm_target(s);
	(void)o;
	if (tui_ssm_host_status(s, &h, &e))
		return cli_fail(&e);
	printf("target:   %s\n", t);
	if (!h.managed) {
		fflush(stdout);
		fprintf(stderr, "tarmac: %s%s is not managed by SSM: check the agent and the instance "
			"profile\n", strncmp(t, "tag:", 4) ? "" : "no instance with ", t);
		return EXIT_FAILED;
	}
	if (!strncmp(t, "tag:", 4))
		printf("instance: %s\n", h.instance_id);
	printf("ping:     %s\nagent:    %s\nplatform: %s\n", h.ping, h.agent, h.platform);
	fflush(stdout);
	if (strcmp(h.ping, "Online")) {
		fprintf(stderr, "tarmac: %s is %s: its SSM agent has stopped checking in, and commands "
			"sent now wait for it (is the instance running? check the agent and its route "
			"to SSM)\n", h.instance_id, h.ping);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static const struct {
	const char *name;
	bool needs_db;
	int (*run)(struct tui_ssm *s, const struct cli_opts *o);
} subcommands[] = {
	{ "run", true, ssm_run },
	{ "list", false, ssm_list },
	{ "cancel", true, ssm_cancel },
	{ "host", false, ssm_host },
};

int cmd_ssm(struct cli_opts *o)
{
	const char *sub = o->argc ? o->argv[0] : "";
	struct tui_ssm *s = NULL;
	struct err e = ERR_INIT;
	size_t i = 0;
	while (i < sizeof subcommands / sizeof *subcommands && strcmp(sub, subcommands[i].name))
		i++;
	if (i == sizeof subcommands / sizeof *subcommands) {
		fprintf(stderr, "tarmac: ssm needs run, list, cancel or host (got '%s')\n", sub);
		return EXIT_USAGE;
	}
	if (subcommands[i].needs_db && !o->db_name) {
		fprintf(stderr, "tarmac: ssm %s needs -d NAME\n", sub);
		return EXIT_USAGE;
	}
	if (tui_ssm_open(o->config_path, o->read_only, &s, &e))
		return cli_fail(&e);
	int rc = subcommands[i].run(s, o);
	tui_ssm_free(s);
	return rc;
}
