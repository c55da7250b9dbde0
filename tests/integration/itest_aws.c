/*
 * itest_aws — every AWS call of aws/ against the local emulator, which
 * recomputes each signature with botocore and validates each JSON body
 * against the service model: SSM (send, invocation, list, describe,
 * cancel), CloudWatch Logs streaming with forward tokens, STS (identity and
 * AssumeRole through a profile), Secrets Manager, RDS. Needs the emulator's
 * environment (tests/run.sh sources DIR/aws-env); fails without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws/aws.h"

static struct aws_ctx *open_ctx(const char *profile)
{
	assert_non_null(getenv("TARMAC_EMULATOR_ADMIN"));
	struct aws_ctx_options o = { .profile = profile };
	struct aws_ctx *ctx = NULL;
	struct err e = ERR_INIT;
	if (aws_ctx_new(&o, &ctx, &e))
		fail_msg("aws_ctx_new: %s", e.msg);
	return ctx;
}

static void test_sts_identity(void **state)
{
	(void)state;
	struct aws_ctx *ctx = open_ctx(NULL);
	struct aws_identity id = { 0 };
	struct err e = ERR_INIT;
	assert_int_equal(aws_sts_get_caller_identity(ctx, &id, &e), ERR_OK);
	assert_string_equal(id.account, "123456789012");
	aws_identity_release(&id);
	aws_ctx_free(ctx);
}

/* A profile with role_arn + source_profile: AssumeRole, then a call with
 * the role's session credentials. */
static void test_assume_role_profile(void **state)
{
	(void)state;
	const char *cfg = getenv("AWS_CONFIG_FILE");
	assert_non_null(cfg);
	char path[4096];
	snprintf(path, sizeof path, "%s.itest", cfg);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "[profile base]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n"
		   "[profile deployer]\nrole_arn = arn:aws:iam::123456789012:role/flyway-deployer\n"
		   "source_profile = base\n", getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"));
	fclose(f);
	setenv("AWS_CONFIG_FILE", path, 1);
	struct aws_ctx *ctx = open_ctx("deployer");
	char source[64];
	time_t expires = 0;
	struct err e = ERR_INIT;
	assert_int_equal(aws_creds_describe(ctx, source, sizeof source, &expires, &e), ERR_OK);
	assert_string_equal(source, "assume-role");
	assert_true(expires > time(NULL));
	struct aws_identity id = { 0 };
	assert_int_equal(aws_sts_get_caller_identity(ctx, &id, &e), ERR_OK);
	assert_non_null(strstr(id.arn, "flyway-deployer"));
	aws_identity_release(&id);
	aws_ctx_free(ctx);
	setenv("AWS_CONFIG_FILE", cfg, 1);
	unlink(path);
}

static void wait_final(struct aws_ctx *ctx, const char *cmd, const char *inst,
		       struct aws_ssm_invocation *inv)
{
	struct err e = ERR_INIT;
	for (int i = 0; i < 200; i++) {
		aws_ssm_invocation_release(inv);
		memset(inv, 0, sizeof *inv);
		assert_int_equal(aws_ssm_get_invocation(ctx, cmd, inst, inv, &e), ERR_OK);
		if (aws_ssm_status_final(inv->status))
			return;
		usleep(100000);
	}
	fail_msg("command %s did not finish", cmd);
}

static void test_ssm_run_and_stream(void **state)
{
	(void)state;
	struct aws_ctx *ctx = open_ctx(NULL);
	const char *inst = getenv("TARMAC_EMULATOR_INSTANCE_ID");
	assert_non_null(inst);
	const char *lines[] = { "for i in 1 2 3; do echo line $i; sleep 0.3; done", "echo oops >&2", "exit 3" };
	struct aws_ssm_send req = { .document = "AWS-RunShellScript", .instance_id = inst,
		.commands = lines, .ncommands = 3, .comment = "tarmac itest db=users run=1",
		.log_group = "/tarmac/itest" };
	struct aws_ssm_command cmd = { 0 };
	struct err e = ERR_INIT;
	assert_int_equal(aws_ssm_send_command(ctx, &req, &cmd, &e), ERR_OK);
	assert_non_null(cmd.command_id);
	struct aws_ssm_invocation inv = { 0 };
	wait_final(ctx, cmd.command_id, inst, &inv);
	assert_string_equal(inv.status, "Failed");
	assert_int_equal(inv.response_code, 3);
	assert_non_null(strstr(inv.stdout_text, "line 3"));
	/* the log stream holds the lines, and a forward token resumes without repeats */
	char *stream = aws_ssm_log_stream(cmd.command_id, inst, "aws:runShellScript", "stdout");
	struct vec ev = VEC_INIT;
	char *token = NULL;
	bool missing = false;
	assert_int_equal(aws_logs_get_events(ctx, "/tarmac/itest", stream, &token, &ev, &missing, &e), ERR_OK);
	assert_false(missing);
	assert_int_equal(ev.len, 3);
	assert_string_equal(((struct aws_log_event *)ev.items[0])->message, "line 1");
	assert_int_equal(aws_logs_get_events(ctx, "/tarmac/itest", stream, &token, &ev, &missing, &e), ERR_OK);
	assert_int_equal(ev.len, 3);
	vec_release(&ev, aws_log_event_free);
	free(token);
	free(stream);
	struct vec cmds = VEC_INIT, invs = VEC_INIT;
	assert_int_equal(aws_ssm_list_commands(ctx, inst, 10, &cmds, &e), ERR_OK);
	assert_true(cmds.len >= 1);
	assert_string_equal(((struct aws_ssm_command *)cmds.items[0])->command_id, cmd.command_id);
	assert_int_equal(aws_ssm_list_invocations(ctx, cmd.command_id, &invs, &e), ERR_OK);
	assert_int_equal(invs.len, 1);
	vec_release(&cmds, aws_ssm_command_free);
	vec_release(&invs, aws_ssm_command_free);
	aws_ssm_invocation_release(&inv);
	aws_ssm_command_release(&cmd);
	aws_ctx_free(ctx);
}

static void test_ssm_cancel_and_describe(void **state)
{
	(void)state;
	struct aws_ctx *ctx = open_ctx(NULL);
	const char *inst = getenv("TARMAC_EMULATOR_INSTANCE_ID");
	const char *lines[] = { "sleep 30" };
	struct aws_ssm_send req = { .document = "AWS-RunShellScript", .target_key = "tag:Role",
		.target_value = "flyway-host", .commands = lines, .ncommands = 1 };
	struct aws_ssm_command cmd = { 0 };
	struct err e = ERR_INIT;
	assert_int_equal(aws_ssm_send_command(ctx, &req, &cmd, &e), ERR_OK);
	usleep(500000);
	assert_int_equal(aws_ssm_cancel_command(ctx, cmd.command_id, &e), ERR_OK);
	struct aws_ssm_invocation inv = { 0 };
	wait_final(ctx, cmd.command_id, inst, &inv);
	assert_string_equal(inv.status, "Cancelled");
	aws_ssm_invocation_release(&inv);
	struct aws_ssm_instance host = { 0 };
	assert_int_equal(aws_ssm_describe_instance(ctx, inst, &host, &e), ERR_OK);
	assert_true(host.found);
	assert_string_equal(host.ping_status, "Online");
	aws_ssm_instance_release(&host);
	assert_int_equal(aws_ssm_describe_instance(ctx, "i-00000000000000000", &host, &e), ERR_OK);
	assert_false(host.found);
	aws_ssm_instance_release(&host);
	assert_int_equal(aws_ssm_describe_tagged(ctx, "tag:Role", "flyway-host", &host, &e), ERR_OK);
	assert_true(host.found);
	assert_string_equal(host.instance_id, inst);
	aws_ssm_instance_release(&host);
	assert_int_equal(aws_ssm_describe_tagged(ctx, "tag:Role", "no-such-role", &host, &e), ERR_OK);
	assert_false(host.found);
	aws_ssm_instance_release(&host);
	aws_ssm_command_release(&cmd);
	aws_ctx_free(ctx);
}

static void test_read_only_refuses_send(void **state)
{
	(void)state;
	struct aws_ctx_options o = { .read_only = true };
	struct aws_ctx *ctx = NULL;
	struct err e = ERR_INIT;
	assert_int_equal(aws_ctx_new(&o, &ctx, &e), ERR_OK);
	const char *lines[] = { "true" };
	struct aws_ssm_send req = { .document = "AWS-RunShellScript",
		.instance_id = getenv("TARMAC_EMULATOR_INSTANCE_ID"), .commands = lines, .ncommands = 1 };
	struct aws_ssm_command cmd = { 0 };
	assert_int_equal(aws_ssm_send_command(ctx, &req, &cmd, &e), ERR_READ_ONLY);
	assert_int_equal(aws_ssm_cancel_command(ctx, "11111111-2222-3333-4444-555555555555", &e), ERR_READ_ONLY);
	aws_ctx_free(ctx);
}

static void test_rds_and_secret_missing(void **state)
{
	(void)state;
	struct aws_ctx *ctx = open_ctx(NULL);
	struct vec clusters = VEC_INIT, instances = VEC_INIT;
	struct err e = ERR_INIT;
	assert_int_equal(aws_rds_describe_clusters(ctx, &clusters, &e), ERR_OK);
	assert_int_equal(aws_rds_describe_instances(ctx, &instances, &e), ERR_OK);
	vec_release(&clusters, aws_rds_cluster_free);
	vec_release(&instances, aws_rds_cluster_free);
	struct aws_db_secret s = { 0 };
	assert_int_equal(aws_secrets_get_db(ctx, "no-such-secret", &s, &e), ERR_HTTP);
	assert_non_null(strstr(e.msg, "ResourceNotFoundException"));
	char *token = NULL;
	assert_int_equal(aws_rds_auth_token(ctx, "users.cluster-abc.eu-central-1.rds.amazonaws.com",
					    5432, "flyway", &token, &e), ERR_OK);
	assert_non_null(strstr(token, "X-Amz-Signature="));
	free(token);
	aws_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sts_identity),
		cmocka_unit_test(test_assume_role_profile),
		cmocka_unit_test(test_ssm_run_and_stream),
		cmocka_unit_test(test_ssm_cancel_and_describe),
		cmocka_unit_test(test_read_only_refuses_send),
		cmocka_unit_test(test_rds_and_secret_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
