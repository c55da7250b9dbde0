/*
 * main — tarmac's entry point: parses the global options and the command,
 * then hands over to the command's handler (tui/cmd_*.c). With no command
 * it opens the console (tui/console.c).
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "tui/cli.h"
#include "tui/console.h"

struct command {
	const char *name;
	int (*run)(struct cli_opts *o);
	const char *help;
};

static const struct command commands[] = {
	{ "info", cmd_info, "the diff: every migration and its state [--json]" },
	{ "validate", cmd_validate, "Flyway's validate rules; exit 1 on failure [--json]" },
	{ "migrate", cmd_migrate, "apply pending migrations [--dry-run[=FILE]] [--rehearse] [--target V] [--out-of-order] [--yes]" },
	{ "baseline", cmd_baseline, "write the baseline row [--version V] [--description D] [--dry-run]" },
	{ "repair", cmd_repair, "remove failed rows, mark missing ones deleted, realign checksums [--dry-run]" },
	{ "checksum", cmd_checksum, "Flyway checksum of each FILE" },
	{ "databases", cmd_databases, "the databases configured in tarmac.conf" },
	{ "buckets", cmd_buckets, "every S3 bucket, the database it maps to, its object count" },
	{ "push", cmd_push, "upload the local migrations the bucket lacks [--from DIR] [--dry-run] [--force]" },
	{ "ssm", cmd_ssm, "run -d NAME[,NAME...] [--action A] [--follow | --attach ID] [--dry-run] | list [-d NAME] | cancel -d NAME [ID] | host" },
};

static void usage(FILE *out)
{
	fputs("usage: tarmac [-c FILE] [-d NAME | --url URL --locations LOC] COMMAND [options]\n\n"
	      "commands:\n", out);
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fputs("\noptions:\n"
	      "  -c, --config FILE      tarmac.conf to read\n"
	      "  -d, --database NAME    a [database \"NAME\"] section of tarmac.conf\n"
	      "      --url URL          postgresql://, mysql://, mariadb:// or jdbc: URL\n"
	      "      --locations LOC    filesystem:DIR or s3:bucket/prefix, comma-separated\n"
	      "      --user USER        database user (password: URL, PGPASSWORD, ~/.pgpass, ~/.my.cnf)\n"
	      "      --table NAME       schema history table (flyway_schema_history)\n"
	      "      --schemas LIST     schemas; the first holds the history table\n"
	      "      --set KEY=VALUE    any Flyway setting (placeholders.x=1, outOfOrder=true, ...)\n"
	      "      --read-only        refuse every change, in the engine and the session\n"
	      "      --json             one JSON document on stdout (info, validate)\n"
	      "      --follow           ssm run: stream the command's output until it ends; with\n"
	      "                         -d A,B: one database after another, to the first failure\n"
	      "      --attach ID        ssm run: follow a command already running (from where the\n"
	      "                         last follower stopped, else from the start)\n"
	      "      --action A         ssm run: migrate (default), info, validate, repair, baseline\n"
	      "      --theme NAME       console: themes/NAME.theme (default, light, monochrome, ...)\n"
	      "      --no-color         console: attributes only (also NO_COLOR=1)\n"
	      "  -h, --help             this text\n"
	      "      --help-config      every tarmac.conf section and key\n\n"
	      "With no command, tarmac opens the console.\n", out);
}

enum { OPT_URL = 256, OPT_LOCATIONS, OPT_USER, OPT_TABLE, OPT_SCHEMAS, OPT_SET, OPT_JSON,
       OPT_YES, OPT_RO, OPT_DRY, OPT_REHEARSE, OPT_TARGET, OPT_OOO, OPT_VERSION, OPT_DESC,
       OPT_SUGGEST, OPT_LOCK_RETRY, OPT_FORCE, OPT_FROM, OPT_FOLLOW, OPT_ATTACH, OPT_ACTION, OPT_THEME, OPT_NO_COLOR,
       OPT_HELP_CONFIG };

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "database", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "url", required_argument, NULL, OPT_URL },
	{ "locations", required_argument, NULL, OPT_LOCATIONS },
	{ "user", required_argument, NULL, OPT_USER },
	{ "table", required_argument, NULL, OPT_TABLE },
	{ "schemas", required_argument, NULL, OPT_SCHEMAS },
	{ "set", required_argument, NULL, OPT_SET },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "yes", no_argument, NULL, OPT_YES },
	{ "read-only", no_argument, NULL, OPT_RO },
	{ "dry-run", optional_argument, NULL, OPT_DRY },
	{ "rehearse", no_argument, NULL, OPT_REHEARSE },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "out-of-order", no_argument, NULL, OPT_OOO },
	{ "version", required_argument, NULL, OPT_VERSION },
	{ "description", required_argument, NULL, OPT_DESC },
	{ "suggest", no_argument, NULL, OPT_SUGGEST },
	{ "lock-retry-count", required_argument, NULL, OPT_LOCK_RETRY },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "action", required_argument, NULL, OPT_ACTION },
	{ "theme", required_argument, NULL, OPT_THEME },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "help-config", no_argument, NULL, OPT_HELP_CONFIG },
	{ NULL, 0, NULL, 0 },
};

static bool parse_opt(int c, struct cli_opts *o)
{
	switch (c) {
	case 'c': o->config_path = optarg; break;
	case 'd': o->db_name = optarg; break;
	case OPT_URL: o->url = optarg; break;
	case OPT_LOCATIONS: o->locations = optarg; break;
	case OPT_USER: o->user = optarg; break;
	case OPT_TABLE: o->table = optarg; break;
	case OPT_SCHEMAS: o->schemas = optarg; break;
	case OPT_SET: vec_push(&o->sets, optarg); break;
	case OPT_JSON: o->json = true; break;
	case OPT_YES: o->yes = true; break;
	case OPT_RO: o->read_only = true; break;
	case OPT_DRY: o->dry_run = optarg ? optarg : "-"; break;
	case OPT_REHEARSE: o->rehearse = true; break;
	case OPT_TARGET: o->target = optarg; break;
	case OPT_OOO: o->out_of_order = true; break;
	case OPT_VERSION: o->version = optarg; break;
	case OPT_DESC: o->description = optarg; break;
	case OPT_SUGGEST: o->suggest = true; break;
	case OPT_LOCK_RETRY: o->lock_retry_count = atoi(optarg); break;
	case OPT_FORCE: o->force = true; break;
	case OPT_FROM: o->from = optarg; break;
	case OPT_FOLLOW: o->follow = true; break;
	case OPT_ATTACH: o->attach = optarg; break;
	case OPT_ACTION: o->action = optarg; break;
	case OPT_THEME: o->theme = optarg; break;
	case OPT_NO_COLOR: o->no_color = true; break;
	default: return false;
	}
	return true;
}

/* Line mode: warnings from the layers below go to stderr (never stdout,
 * which may carry a JSON document or a dry-run script). */
static void log_to_stderr(enum log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "tarmac: %s%s\n", level >= LOG_ERROR ? "error: " : "warning: ", msg);
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	log_set_sink(log_to_stderr, NULL, getenv("TARMAC_DEBUG") ? LOG_DEBUG : LOG_WARN);
	struct cli_opts o = { .lock_retry_count = -2 };
	int c;
	while ((c = getopt_long(argc, argv, "+c:d:h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (c == OPT_HELP_CONFIG) {
			struct buf b = BUF_INIT;
			tui_conf_help(&b);
			fputs(b.ptr, stdout);
			buf_release(&b);
			return EXIT_OK;
		}
		if (!parse_opt(c, &o)) {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	o.argv0 = argv[0];
	if (optind >= argc)
		return tui_console_run(&o);
	const char *name = argv[optind++];
	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(commands[i].name, name))
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "tarmac: unknown command '%s'\n\n", name);
		usage(stderr);
		return EXIT_USAGE;
	}
	/* Options may also follow the command, and its own words (ssm run -d X):
	 * getopt restarts (optind 0) on the command's arguments, with the
	 * command name in argv[0]'s place, and permutes them. */
	int subc = argc - optind + 1;
	char **subv = argv + optind - 1;
	optind = 0;
	while ((c = getopt_long(subc, subv, "c:d:h", long_opts, NULL)) != -1) {
		if (!parse_opt(c, &o)) {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	o.argc = subc - optind;
	o.argv = subv + optind;
	int rc = cmd->run(&o);
	vec_release(&o.sets, NULL);
	return rc;
}
