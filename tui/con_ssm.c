/*
 * con_ssm — the Flyway host's command from the console (S, :runs, K) and
 * the host's status in the header.
 */
#include <stdlib.h>
#include <string.h>

#include "tui/console.h"

void con_ssm_host_facts(struct cli_env *env, struct con_facts *f)
{
	const char *t = env->conf.ssm_target;
	struct aws_ssm_instance in = { 0 };
	struct err e = ERR_INIT;
	snprintf(f->host, sizeof f->host, "%s", t);
	if (strncmp(t, "i-", 2) && strncmp(t, "mi-", 3)) {
		snprintf(f->host_status, sizeof f->host_status, "(by tag)");
		f->host_ok = true;
		return;
	}
	if (aws_ssm_describe_instance(env->aws, t, &in, &e))
		snprintf(f->host_status, sizeof f->host_status, "unknown");
	else if (!in.found)
		snprintf(f->host_status, sizeof f->host_status, "not managed by SSM");
	else
		snprintf(f->host_status, sizeof f->host_status, "%s", in.ping_status);
	f->host_ok = in.found && in.ping_status && !strcmp(in.ping_status, "Online");
	aws_ssm_instance_release(&in);
}

void con_ssm_send(struct con *c)
{
	con_flash(c, true, " not in the console yet: use tarmac ssm run -d NAME --follow");
}

void con_ssm_runs(struct con *c)
{
	con_flash(c, true, " not in the console yet: use tarmac ssm list");
}

bool con_ssm_cancel(struct con *c)
{
	(void)c;
	return false;
}
