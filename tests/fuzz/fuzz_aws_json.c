/*
 * fuzz_aws_json — every JSON response parser of aws/ (SSM SendCommand,
 * GetCommandInvocation, ListCommands, ListCommandInvocations,
 * DescribeInstanceInformation, CloudWatch Logs GetLogEvents, Secrets
 * Manager GetSecretValue) and the RDS DescribeDBClusters/Instances XML
 * parser on the same arbitrary bytes, plus the SendCommand body builder on
 * a request cut from them. Besides memory errors (ASan/UBSan) it aborts
 * when a contract breaks: a parser that fails must leave its output empty,
 * one that succeeds must fill every string member, and a body the builder
 * accepts must be a JSON object carrying the request's document name.
 * No network, no files.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "aws/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void need(bool ok)
{
	if (!ok)
		abort();
}

static void commands_check(struct vec *v, size_t before, enum err_code c)
{
	need(c == ERR_OK || v->len == before);
	for (size_t i = 0; i < v->len; i++) {
		const struct aws_ssm_command *cmd = v->items[i];
		need(cmd->command_id && cmd->status && cmd->comment && cmd->document &&
		     cmd->requested && cmd->instance_id);
	}
	vec_release(v, aws_ssm_command_free);
}

static void ssm_lists(const char *b, size_t n)
{
	struct vec v = VEC_INIT;
	char *token = NULL;
	struct err e = ERR_INIT;
	enum err_code c = aws_ssm_commands_parse(b, n, &v, &token, &e);
	need(c == ERR_OK || !token);
	free(token);
	token = NULL;
	commands_check(&v, 0, c);
	c = aws_ssm_invocations_parse(b, n, &v, &token, &e);
	need(c == ERR_OK || !token);
	free(token);
	commands_check(&v, 0, c);
}

static void ssm_single(const char *b, size_t n)
{
	struct aws_ssm_command cmd;
	struct aws_ssm_invocation inv;
	struct aws_ssm_instance in;
	char *token = NULL;
	struct err e = ERR_INIT;
	if (aws_ssm_command_parse(b, n, &cmd, &e) == ERR_OK) {
		need(cmd.command_id && *cmd.command_id && cmd.requested && cmd.instance_id);
		aws_ssm_command_release(&cmd);
	} else {
		need(!cmd.command_id && !cmd.status);
	}
	if (aws_ssm_invocation_parse(b, n, &inv, &e) == ERR_OK)
		need(inv.status && inv.status_details && inv.stdout_text && inv.stderr_text &&
		     inv.start && inv.end && inv.log_group);
	else
		need(!inv.status && !inv.log_group && inv.response_code == -1);
	aws_ssm_invocation_release(&inv);
	if (aws_ssm_instance_parse(b, n, "i-0123456789abcdef0", &in, &token, &e) == ERR_OK)
		need(in.instance_id && in.ping_status && in.agent_version && in.platform &&
		     in.last_ping && (!in.found || !strcmp(in.instance_id, "i-0123456789abcdef0")));
	else
		need(!in.instance_id && !token);
	free(token);
	aws_ssm_instance_release(&in);
}

static void logs_and_secrets(const char *b, size_t n)
{
	struct vec v = VEC_INIT;
	char *token = NULL;
	struct aws_db_secret s;
	struct err e = ERR_INIT;
	enum err_code c = aws_logs_events_parse(b, n, &v, &token, &e);
	need(c == ERR_OK || (!v.len && !token));
	for (size_t i = 0; i < v.len; i++)
		need(((struct aws_log_event *)v.items[i])->message != NULL);
	vec_release(&v, aws_log_event_free);
	free(token);
	if (aws_secrets_db_parse(b, n, "fuzz", &s, &e) == ERR_OK)
		need(s.password && *s.password);
	else
		need(!s.username && !s.password && !s.host && !s.port && !s.dbname && !s.engine);
	aws_db_secret_release(&s);
}

static void rds(const char *b, size_t n)
{
	enum err_code (*parse[])(const char *, size_t, struct vec *, char **, struct err *) = {
		aws_rds_clusters_parse, aws_rds_instances_parse,
	};
	for (size_t k = 0; k < 2; k++) {
		struct vec v = VEC_INIT;
		char *marker = NULL;
		struct err e = ERR_INIT;
		enum err_code c = parse[k](b, n, &v, &marker, &e);
		need(c == ERR_OK || (!v.len && !marker));
		for (size_t i = 0; i < v.len; i++) {
			const struct aws_rds_cluster *r = v.items[i];
			need(r->id && *r->id && r->engine && r->engine_version && r->endpoint &&
			     r->reader_endpoint && r->status && r->port >= 0 && r->port <= 65535);
		}
		vec_release(&v, aws_rds_cluster_free);
		free(marker);
	}
}

/* A SendCommand request from NUL-separated fields of the input. */
static void send_body(const char *b, size_t n)
{
	char *copy = xmalloc(n + 1);
	const char *f[8] = { 0 };
	size_t nf = 0;
	memcpy(copy, b, n);
	copy[n] = 0;
	for (char *p = copy; nf < 8 && p <= copy + n; p += strlen(p) + 1)
		f[nf++] = p;
	const char *lines[3] = { f[5] ? f[5] : "", f[6] ? f[6] : "", f[7] ? f[7] : "" };
	struct aws_ssm_send req = {
		.document = f[0], .comment = f[2], .max_concurrency = f[3], .max_errors = f[4],
		.commands = lines, .ncommands = 1 + (nf > 6) + (nf > 7),
		.timeout_s = n ? (int)(signed char)b[0] * 1000 : 0,
	};
	if (f[1] && !strncmp(f[1], "tag:", 4))
		req.target_key = f[1], req.target_value = f[1] + 4;
	else
		req.instance_id = f[1], req.log_group = f[1];
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	if (aws_ssm_send_body_build(&req, &out, &e) == ERR_OK) {
		cJSON *j = cJSON_ParseWithLength(out.ptr, out.len);
		need(cJSON_IsObject(j));
		cJSON *doc = cJSON_GetObjectItemCaseSensitive(j, "DocumentName");
		need(cJSON_IsString(doc) && !strcmp(doc->valuestring, req.document));
		cJSON_Delete(j);
	} else {
		need(out.len == 0 && e.code == ERR_USAGE);
	}
	buf_release(&out);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = size ? (const char *)data : "";
	ssm_single(b, size);
	ssm_lists(b, size);
	logs_and_secrets(b, size);
	rds(b, size);
	send_body(b, size);
	return 0;
}
