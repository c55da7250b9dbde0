/*
 * test_aws_json — the JSON and query-protocol services without a network:
 * the SendCommand body (every member, escaping, each ERR_USAGE rule and
 * the 100-character Comment counted as AWS counts it), and every response
 * parser fed literal bodies shaped like spec/aws.md §4 and §6 — SSM
 * SendCommand, GetCommandInvocation, ListCommands, ListCommandInvocations,
 * DescribeInstanceInformation, CloudWatch Logs GetLogEvents, Secrets
 * Manager GetSecretValue (port as number and as string, binary secrets,
 * messages that must not quote the secret) and RDS DescribeDBClusters /
 * DescribeDBInstances XML across Marker pages. Malformed bodies must come
 * back ERR_PARSE with the output left empty. The RDS IAM token goes through
 * the real context and credential chain (environment keys, frozen clock)
 * and must match botocore's generate_db_auth_token. Table-driven: every row is
 * checked and every mismatch printed before the test fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cJSON.h>

#include "aws/internal.h"

static int failures;

static void fail_row(const char *table, size_t row, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail_row(const char *table, size_t row, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s[%zu]: ", table, row);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	failures++;
}

static bool streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

#define CHECK_STR(table, row, name, got, want)                                        \
	do {                                                                          \
		if (!streq((got), (want)))                                            \
			fail_row(table, row, "%s: got \"%s\", want \"%s\"", name,      \
				 (got) ? (got) : "(null)", (want) ? (want) : "(null)"); \
	} while (0)

#define CHECK_INT(table, row, name, got, want)                                        \
	do {                                                                          \
		if ((long long)(got) != (long long)(want))                            \
			fail_row(table, row, "%s: got %lld, want %lld", name,          \
				 (long long)(got), (long long)(want));                 \
	} while (0)

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define P(s) s, sizeof(s) - 1
/* A row that must fail to parse. */
#define BAD(s) { .body = (s), .len = sizeof(s) - 1, .code = ERR_PARSE }

/* ---- SendCommand body ---------------------------------------------------- */

static const char *const two_lines[] = {
	"aws s3 sync s3://acme-users-migrations /opt/flyway/sql/users --delete",
	"flyway -configFiles=/opt/flyway/conf/users.conf migrate",
};
static const char *const tricky_lines[] = {
	"echo \"quoted\" 'single' \\back\\slash",
	"printf 'tab\\there\\nnewline'\n",
	"echo ünïcödé Ω \x01",
};

struct body_case {
	struct aws_ssm_send req;
	const char *want;   /* the JSON the body must equal, members in any order */
};

static const struct body_case body_cases[] = {
	{ { .document = "AWS-RunShellScript", .instance_id = "i-0123456789abcdef0",
	    .commands = two_lines, .ncommands = 2, .comment = "tarmac migrate users",
	    .log_group = "/tarmac/ssm", .timeout_s = 600, .max_concurrency = "1",
	    .max_errors = "0" },
	  "{\"DocumentName\":\"AWS-RunShellScript\",\"InstanceIds\":[\"i-0123456789abcdef0\"],"
	  "\"Parameters\":{\"commands\":[\"aws s3 sync s3://acme-users-migrations "
	  "/opt/flyway/sql/users --delete\",\"flyway -configFiles=/opt/flyway/conf/users.conf "
	  "migrate\"]},\"Comment\":\"tarmac migrate users\",\"TimeoutSeconds\":600,"
	  "\"MaxConcurrency\":\"1\",\"MaxErrors\":\"0\",\"CloudWatchOutputConfig\":"
	  "{\"CloudWatchOutputEnabled\":true,\"CloudWatchLogGroupName\":\"/tarmac/ssm\"}}" },
	/* tag target; no comment, timeout, rates or group: those members absent */
	{ { .document = "AWS-RunShellScript", .target_key = "tag:Role",
	    .target_value = "flyway-host", .commands = two_lines, .ncommands = 1 },
	  "{\"DocumentName\":\"AWS-RunShellScript\",\"Targets\":[{\"Key\":\"tag:Role\","
	  "\"Values\":[\"flyway-host\"]}],\"Parameters\":{\"commands\":[\"aws s3 sync "
	  "s3://acme-users-migrations /opt/flyway/sql/users --delete\"]},"
	  "\"CloudWatchOutputConfig\":{\"CloudWatchOutputEnabled\":true}}" },
	/* escaping survives the round trip; an empty comment is left out */
	{ { .document = "AWS-RunShellScript", .instance_id = "mi-0123456789abcdef0",
	    .commands = tricky_lines, .ncommands = 3, .comment = "",
	    .max_concurrency = "10%", .max_errors = "100%" },
	  "{\"DocumentName\":\"AWS-RunShellScript\",\"InstanceIds\":[\"mi-0123456789abcdef0\"],"
	  "\"Parameters\":{\"commands\":[\"echo \\\"quoted\\\" 'single' \\\\back\\\\slash\","
	  "\"printf 'tab\\\\there\\\\nnewline'\\n\",\"echo ünïcödé Ω \\u0001\"]},"
	  "\"MaxConcurrency\":\"10%\",\"MaxErrors\":\"100%\","
	  "\"CloudWatchOutputConfig\":{\"CloudWatchOutputEnabled\":true}}" },
	/* the bounds themselves are allowed */
	{ { .document = "Custom:Doc/v1", .target_key = "InstanceIds", .target_value = "i-12345678",
	    .commands = two_lines, .ncommands = 1, .timeout_s = 30, .max_errors = "0%" },
	  "{\"DocumentName\":\"Custom:Doc/v1\",\"Targets\":[{\"Key\":\"InstanceIds\","
	  "\"Values\":[\"i-12345678\"]}],\"Parameters\":{\"commands\":[\"aws s3 sync "
	  "s3://acme-users-migrations /opt/flyway/sql/users --delete\"]},"
	  "\"TimeoutSeconds\":30,\"MaxErrors\":\"0%\","
	  "\"CloudWatchOutputConfig\":{\"CloudWatchOutputEnabled\":true}}" },
};

static void test_send_body(void **state)
{
	(void)state;
	failures = 0;
	for (size_t i = 0; i < LEN(body_cases); i++) {
		struct buf b = BUF_INIT;
		struct err e = ERR_INIT;
		enum err_code c = aws_ssm_send_body_build(&body_cases[i].req, &b, &e);
		cJSON *got = cJSON_Parse(b.ptr), *want = cJSON_Parse(body_cases[i].want);
		if (c != ERR_OK)
			fail_row("body", i, "code %d: %s", c, e.msg);
		else if (!want)
			fail_row("body", i, "the expected JSON does not parse");
		else if (!got || !cJSON_Compare(got, want, 1))
			fail_row("body", i, "got %s\n  want %s", b.ptr, body_cases[i].want);
		cJSON_Delete(got);
		cJSON_Delete(want);
		buf_release(&b);
	}
	assert_int_equal(failures, 0);
}

/* Member by member on the first case: types matter to the service model. */
static void test_send_body_members(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	assert_int_equal(aws_ssm_send_body_build(&body_cases[0].req, &b, &e), ERR_OK);
	cJSON *j = cJSON_Parse(b.ptr);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "DocumentName")->valuestring,
			    "AWS-RunShellScript");
	cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "InstanceIds");
	assert_true(cJSON_IsArray(ids));
	assert_int_equal(cJSON_GetArraySize(ids), 1);
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "Targets"));
	cJSON *cmds = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(j, "Parameters"), "commands");
	assert_true(cJSON_IsArray(cmds));
	assert_int_equal(cJSON_GetArraySize(cmds), 2);
	assert_string_equal(cJSON_GetArrayItem(cmds, 1)->valuestring, two_lines[1]);
	cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "TimeoutSeconds");
	assert_true(cJSON_IsNumber(t));
	assert_int_equal(t->valueint, 600);
	assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "MaxConcurrency")));
	assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "MaxErrors")));
	cJSON *cw = cJSON_GetObjectItemCaseSensitive(j, "CloudWatchOutputConfig");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cw, "CloudWatchOutputEnabled")));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cw, "CloudWatchLogGroupName")
			    ->valuestring, "/tarmac/ssm");
	/* awsJson bodies are sent compact */
	assert_null(strchr(b.ptr, '\n'));
	cJSON_Delete(j);
	buf_release(&b);
}

static char comment_buf[512];

static const char *repeat(const char *unit, int n)
{
	size_t len = 0, u = strlen(unit);
	for (int i = 0; i < n && len + u < sizeof comment_buf; i++, len += u)
		memcpy(comment_buf + len, unit, u);
	comment_buf[len] = 0;
	return comment_buf;
}

/* One change to a valid request, and what it must do. */
enum tweak { T_COMMENT, T_DOCUMENT, T_TIMEOUT, T_CONC, T_ERRORS, T_GROUP, T_NCOMMANDS,
	     T_NULL_LINE, T_TAG, T_TAG_ONLY };

struct usage_case {
	const char *name;
	enum tweak t;
	const char *s, *s2;    /* T_COMMENT: s repeated n times; T_TAG*: key, value */
	int n;
	const char *want_in_msg;    /* NULL: must succeed */
};

static const struct usage_case usage_cases[] = {
	{ "comment 100 ascii", T_COMMENT, "x", NULL, 100, NULL },
	{ "comment 101 ascii", T_COMMENT, "x", NULL, 101, "101 characters" },
	{ "comment 100 two-byte", T_COMMENT, "\xc3\xa9", NULL, 100, NULL },
	{ "comment 101 two-byte", T_COMMENT, "\xc3\xa9", NULL, 101, "at most 100" },
	{ "comment 50 astral = 100 units", T_COMMENT, "\xf0\x9f\x9a\x80", NULL, 50, NULL },
	{ "comment 51 astral = 102 units", T_COMMENT, "\xf0\x9f\x9a\x80", NULL, 51,
	  "102 characters" },
	{ "no document", T_DOCUMENT, NULL, NULL, 0, "document name" },
	{ "short document", T_DOCUMENT, "ab", NULL, 0, "document name" },
	{ "bad document", T_DOCUMENT, "AWS RunShellScript", NULL, 0, "document name" },
	{ "both targets", T_TAG, "tag:Role", "x", 0, "not both" },
	{ "no target", T_TAG_ONLY, NULL, NULL, 0, "none was set" },
	{ "tag without value", T_TAG_ONLY, "tag:Role", NULL, 0, "has no value" },
	{ "tag with empty value", T_TAG_ONLY, "tag:Role", "", 0, "has no value" },
	{ "tag only", T_TAG_ONLY, "tag:Role", "flyway-host", 0, NULL },
	{ "no commands", T_NCOMMANDS, NULL, NULL, 0, "no commands" },
	{ "null line", T_NULL_LINE, NULL, NULL, 0, "line 2" },
	{ "timeout 29", T_TIMEOUT, NULL, NULL, 29, "outside 30..2592000" },
	{ "timeout max", T_TIMEOUT, NULL, NULL, 2592000, NULL },
	{ "timeout max+1", T_TIMEOUT, NULL, NULL, 2592001, "timeout 2592001" },
	{ "timeout negative", T_TIMEOUT, NULL, NULL, -5, "timeout -5" },
	{ "concurrency 50", T_CONC, "50", NULL, 0, NULL },
	{ "concurrency 1%", T_CONC, "1%", NULL, 0, NULL },
	{ "concurrency 100%", T_CONC, "100%", NULL, 0, NULL },
	{ "concurrency 1234567", T_CONC, "1234567", NULL, 0, NULL },
	{ "concurrency 0", T_CONC, "0", NULL, 0, "max concurrency" },
	{ "concurrency 0%", T_CONC, "0%", NULL, 0, "max concurrency" },
	{ "concurrency 05", T_CONC, "05", NULL, 0, "max concurrency" },
	{ "concurrency 101%", T_CONC, "101%", NULL, 0, "max concurrency" },
	{ "concurrency 12345678", T_CONC, "12345678", NULL, 0, "max concurrency" },
	{ "concurrency empty", T_CONC, "", NULL, 0, "max concurrency" },
	{ "concurrency %", T_CONC, "%", NULL, 0, "max concurrency" },
	{ "concurrency ten", T_CONC, "ten", NULL, 0, "max concurrency" },
	{ "errors 0", T_ERRORS, "0", NULL, 0, NULL },
	{ "errors 0%", T_ERRORS, "0%", NULL, 0, NULL },
	{ "errors 99%", T_ERRORS, "99%", NULL, 0, NULL },
	{ "errors 00", T_ERRORS, "00", NULL, 0, "max errors" },
	{ "errors 1000%", T_ERRORS, "1000%", NULL, 0, "max errors" },
	{ "errors -1", T_ERRORS, "-1", NULL, 0, "max errors" },
	{ "log group space", T_GROUP, "/tarmac ssm", NULL, 0, "log group" },
	{ "log group empty", T_GROUP, "", NULL, 0, "log group" },
	{ "log group ok", T_GROUP, "/aws/ssm/x#y_z-1.2", NULL, 0, NULL },
};

static const char *const null_line[] = { "echo 1", NULL };

static void usage_apply(const struct usage_case *u, struct aws_ssm_send *r)
{
	*r = (struct aws_ssm_send){ .document = "AWS-RunShellScript",
				    .instance_id = "i-0123456789abcdef0",
				    .commands = two_lines, .ncommands = 2 };
	switch (u->t) {
	case T_COMMENT: r->comment = repeat(u->s, u->n); break;
	case T_DOCUMENT: r->document = u->s; break;
	case T_TIMEOUT: r->timeout_s = u->n; break;
	case T_CONC: r->max_concurrency = u->s; break;
	case T_ERRORS: r->max_errors = u->s; break;
	case T_GROUP: r->log_group = u->s; break;
	case T_NCOMMANDS: r->ncommands = (size_t)u->n; break;
	case T_NULL_LINE: r->commands = null_line; break;
	case T_TAG_ONLY: r->instance_id = NULL; /* and the tag: */
		r->target_key = u->s;
		r->target_value = u->s2;
		break;
	case T_TAG: r->target_key = u->s; r->target_value = u->s2; break;
	}
}

static void test_send_usage(void **state)
{
	(void)state;
	failures = 0;
	for (size_t i = 0; i < LEN(usage_cases); i++) {
		const struct usage_case *u = &usage_cases[i];
		struct aws_ssm_send req;
		struct buf b = BUF_INIT;
		struct err e = ERR_INIT;
		usage_apply(u, &req);
		enum err_code c = aws_ssm_send_body_build(&req, &b, &e);
		if (!u->want_in_msg && c != ERR_OK)
			fail_row("usage", i, "%s: code %d: %s", u->name, c, e.msg);
		if (u->want_in_msg && (c != ERR_USAGE || !strstr(e.msg, u->want_in_msg)))
			fail_row("usage", i, "%s: code %d \"%s\", want ERR_USAGE with \"%s\"",
				 u->name, c, e.msg, u->want_in_msg);
		if (u->want_in_msg && b.len)
			fail_row("usage", i, "%s: body written on error: %s", u->name, b.ptr);
		buf_release(&b);
	}
	assert_int_equal(failures, 0);
}

/* ---- SendCommand response ------------------------------------------------ */

static const char send_ok[] =
	"{\"Command\":{\"CommandId\":\"0b2c4a3e-1f2d-4c5b-9a8e-7d6c5b4a3f21\","
	"\"DocumentName\":\"AWS-RunShellScript\",\"DocumentVersion\":\"$DEFAULT\","
	"\"Comment\":\"tarmac migrate users\",\"ExpiresAfter\":1715937550.123,"
	"\"Parameters\":{\"commands\":[\"echo hi\"]},\"InstanceIds\":[\"i-0123456789abcdef0\"],"
	"\"Targets\":[],\"RequestedDateTime\":1715933350.456,\"Status\":\"Pending\","
	"\"StatusDetails\":\"Pending\",\"OutputS3Region\":\"eu-central-1\","
	"\"MaxConcurrency\":\"50\",\"MaxErrors\":\"0\",\"TargetCount\":1,"
	"\"CompletedCount\":0,\"ErrorCount\":0,\"DeliveryTimedOutCount\":0,"
	"\"ServiceRole\":\"\",\"NotificationConfig\":{\"NotificationArn\":\"\","
	"\"NotificationEvents\":[],\"NotificationType\":\"\"},\"CloudWatchOutputConfig\":"
	"{\"CloudWatchLogGroupName\":\"/tarmac/ssm\",\"CloudWatchOutputEnabled\":true},"
	"\"TimeoutSeconds\":600}}\n";

static const char send_tags[] =
	"{\"Command\":{\"CommandId\":\"11111111-2222-3333-4444-555555555555\","
	"\"DocumentName\":\"AWS-RunShellScript\",\"InstanceIds\":[],"
	"\"Targets\":[{\"Key\":\"tag:Role\",\"Values\":[\"flyway-host\"]}],"
	"\"RequestedDateTime\":0,\"Status\":\"InProgress\",\"TargetCount\":12,"
	"\"CompletedCount\":7,\"ErrorCount\":2}}";

struct command_want {
	const char *body;
	size_t len;
	enum err_code code;
	const char *id, *status, *comment, *document, *requested, *instance;
	int64_t targets, completed, errors;
};

static const struct command_want command_cases[] = {
	{ P(send_ok), ERR_OK, "0b2c4a3e-1f2d-4c5b-9a8e-7d6c5b4a3f21", "Pending",
	  "tarmac migrate users", "AWS-RunShellScript", "2024-05-17T08:09:10Z",
	  "i-0123456789abcdef0", 1, 0, 0 },
	{ P(send_tags), ERR_OK, "11111111-2222-3333-4444-555555555555", "InProgress", "",
	  "AWS-RunShellScript", "1970-01-01T00:00:00Z", "", 12, 7, 2 },
	/* a time already in text is kept as sent */
	{ P("{\"Command\":{\"CommandId\":\"c\",\"RequestedDateTime\":\"2024-05-17T08:09:10.456Z\"}}"),
	  ERR_OK, "c", "", "", "", "2024-05-17T08:09:10.456Z", "", 0, 0, 0 },
	{ P("{\"Command\":{\"CommandId\":\"c\",\"Status\":null,\"TargetCount\":null}}"),
	  ERR_OK, "c", "", "", "", "", "", 0, 0, 0 },
	BAD(""),
	BAD("null"),
	BAD("[]"),
	BAD("{}"),
	BAD("{\"__type\":\"InvalidInstanceId\",\"message\":\"Instances not in a valid state\"}"),
	BAD("{\"Command\":[]}"),
	BAD("{\"Command\":{\"Status\":\"Pending\"}}"),
	BAD("{\"Command\":{\"CommandId\":\"\"}}"),
	BAD("{\"Command\":{\"CommandId\":7}}"),
	BAD("{\"Command\":{\"CommandId\":\"c\",\"Status\":5}}"),
	BAD("{\"Command\":{\"CommandId\":\"c\",\"RequestedDateTime\":-1}}"),
	BAD("{\"Command\":{\"CommandId\":\"c\",\"RequestedDateTime\":1e300}}"),
	BAD("{\"Command\":{\"CommandId\":\"c\",\"RequestedDateTime\":true}}"),
	BAD("{\"Command\":{\"CommandId\":\"c\",\"TargetCount\":1.5}}"),
	BAD("{\"Command\":{\"CommandId\":\"c\",\"TargetCount\":\"1\"}}"),
	BAD("{\"Command\":{\"CommandId\":\"c\",\"ErrorCount\":1e20}}"),
	BAD("{\"Command\":{\"CommandId\":\"c\",\"InstanceIds\":\"i-1\"}}"),
	BAD("{\"Command\":{\"CommandId\":\"c\",\"InstanceIds\":[1]}}"),
	BAD("{\"Command\":{\"CommandId\":\"c\"}} trailing"),
	BAD("{\"Command\":{\"CommandId\":\"c\""),
};

static void test_command_parse(void **state)
{
	(void)state;
	failures = 0;
	for (size_t i = 0; i < LEN(command_cases); i++) {
		const struct command_want *w = &command_cases[i];
		struct aws_ssm_command c;
		struct err e = ERR_INIT;
		enum err_code rc = aws_ssm_command_parse(w->body, w->len, &c, &e);
		CHECK_INT("command", i, "code", rc, w->code);
		if (rc != ERR_OK) {
			if (c.command_id || c.status || c.instance_id)
				fail_row("command", i, "output not left empty on error");
			if (rc == ERR_PARSE && !strstr(e.msg, "SSM SendCommand"))
				fail_row("command", i, "message does not name the call: %s", e.msg);
			continue;
		}
		CHECK_STR("command", i, "id", c.command_id, w->id);
		CHECK_STR("command", i, "status", c.status, w->status);
		CHECK_STR("command", i, "comment", c.comment, w->comment);
		CHECK_STR("command", i, "document", c.document, w->document);
		CHECK_STR("command", i, "requested", c.requested, w->requested);
		CHECK_STR("command", i, "instance", c.instance_id, w->instance);
		CHECK_INT("command", i, "targets", c.target_count, w->targets);
		CHECK_INT("command", i, "completed", c.completed_count, w->completed);
		CHECK_INT("command", i, "errors", c.error_count, w->errors);
		aws_ssm_command_release(&c);
	}
	assert_int_equal(failures, 0);
}

/* ---- GetCommandInvocation ------------------------------------------------ */

static const char inv_running[] =
	"{\"CommandId\":\"0b2c4a3e-1f2d-4c5b-9a8e-7d6c5b4a3f21\","
	"\"InstanceId\":\"i-0123456789abcdef0\",\"Comment\":\"\","
	"\"DocumentName\":\"AWS-RunShellScript\",\"DocumentVersion\":\"$DEFAULT\","
	"\"PluginName\":\"aws:runShellScript\",\"ResponseCode\":-1,"
	"\"ExecutionStartDateTime\":\"2024-05-17T08:09:11.123Z\","
	"\"ExecutionElapsedTime\":\"PT1.2S\",\"ExecutionEndDateTime\":\"\","
	"\"Status\":\"InProgress\",\"StatusDetails\":\"InProgress\","
	"\"StandardOutputContent\":\"\",\"StandardOutputUrl\":\"\","
	"\"StandardErrorContent\":\"\",\"StandardErrorUrl\":\"\","
	"\"CloudWatchOutputConfig\":{\"CloudWatchLogGroupName\":\"\","
	"\"CloudWatchOutputEnabled\":true}}";

static const char inv_success[] =
	"{\"CommandId\":\"0b2c4a3e-1f2d-4c5b-9a8e-7d6c5b4a3f21\","
	"\"InstanceId\":\"i-0123456789abcdef0\",\"DocumentName\":\"AWS-RunShellScript\","
	"\"ResponseCode\":0,\"ExecutionStartDateTime\":\"2024-05-17T08:09:11.123Z\","
	"\"ExecutionEndDateTime\":\"2024-05-17T08:09:19.004Z\",\"Status\":\"Success\","
	"\"StatusDetails\":\"Success\",\"StandardOutputContent\":"
	"\"Flyway OSS Edition 10.10.0\\nSuccessfully applied 2 migrations\\n\","
	"\"StandardErrorContent\":\"WARNING: \\u00fcber\\n\",\"CloudWatchOutputConfig\":"
	"{\"CloudWatchLogGroupName\":\"/tarmac/ssm\",\"CloudWatchOutputEnabled\":true}}";

static const char inv_timeout[] =
	"{\"Status\":\"TimedOut\",\"StatusDetails\":\"Delivery Timed Out\","
	"\"DocumentName\":\"My Doc:v1\",\"CloudWatchOutputConfig\":"
	"{\"CloudWatchOutputEnabled\":true}}";

struct inv_want {
	const char *body;
	size_t len;
	enum err_code code;
	const char *status, *details;
	int response_code;
	const char *out, *err, *start, *end, *group;
};

static const struct inv_want inv_cases[] = {
	{ P(inv_running), ERR_OK, "InProgress", "InProgress", -1, "", "",
	  "2024-05-17T08:09:11.123Z", "", "/aws/ssm/AWS-RunShellScript" },
	{ P(inv_success), ERR_OK, "Success", "Success", 0,
	  "Flyway OSS Edition 10.10.0\nSuccessfully applied 2 migrations\n",
	  "WARNING: \xc3\xbc" "ber\n", "2024-05-17T08:09:11.123Z", "2024-05-17T08:09:19.004Z",
	  "/tarmac/ssm" },
	/* the default group replaces characters outside the agent's set with '.' */
	{ P(inv_timeout), ERR_OK, "TimedOut", "Delivery Timed Out", -1, "", "", "", "",
	  "/aws/ssm/My.Doc.v1" },
	/* no CloudWatch output: no group to follow */
	{ P("{\"Status\":\"Failed\",\"ResponseCode\":127}"), ERR_OK, "Failed", "", 127, "", "",
	  "", "", "" },
	{ P("{\"Status\":\"Failed\",\"CloudWatchOutputConfig\":{\"CloudWatchOutputEnabled\":"
	    "false}}"), ERR_OK, "Failed", "", -1, "", "", "", "", "" },
	{ P("{\"Status\":\"Success\",\"ExecutionStartDateTime\":1715933350}"), ERR_OK,
	  "Success", "", -1, "", "", "2024-05-17T08:09:10Z", "", "" },
	BAD("{\"Status\":1}"),
	BAD("{\"ResponseCode\":\"0\"}"),
	BAD("{\"ResponseCode\":3000000000}"),
	BAD("{\"ResponseCode\":0.5}"),
	BAD("{\"StandardOutputContent\":[]}"),
	BAD("{\"CloudWatchOutputConfig\":5}"),
	BAD("{\"CloudWatchOutputConfig\":{\"CloudWatchLogGroupName\":5}}"),
	BAD("{\"__type\":\"InvocationDoesNotExist\"} {}"),
	BAD("\"InProgress\""),
};

static void test_invocation_parse(void **state)
{
	(void)state;
	failures = 0;
	for (size_t i = 0; i < LEN(inv_cases); i++) {
		const struct inv_want *w = &inv_cases[i];
		struct aws_ssm_invocation inv;
		struct err e = ERR_INIT;
		enum err_code rc = aws_ssm_invocation_parse(w->body, w->len, &inv, &e);
		CHECK_INT("invocation", i, "code", rc, w->code);
		if (rc != ERR_OK) {
			if (inv.status || inv.stdout_text || inv.log_group || inv.response_code != -1)
				fail_row("invocation", i, "output not left empty on error");
			continue;
		}
		CHECK_STR("invocation", i, "status", inv.status, w->status);
		CHECK_STR("invocation", i, "details", inv.status_details, w->details);
		CHECK_INT("invocation", i, "response code", inv.response_code, w->response_code);
		CHECK_STR("invocation", i, "stdout", inv.stdout_text, w->out);
		CHECK_STR("invocation", i, "stderr", inv.stderr_text, w->err);
		CHECK_STR("invocation", i, "start", inv.start, w->start);
		CHECK_STR("invocation", i, "end", inv.end, w->end);
		CHECK_STR("invocation", i, "log group", inv.log_group, w->group);
		aws_ssm_invocation_release(&inv);
	}
	assert_int_equal(failures, 0);
}

/* The agent cuts stdout at 24,000 characters and says so at the end; the
 * text reaches the caller whole, marker included, for it to show. */
static void test_invocation_output_cut(void **state)
{
	(void)state;
	static const char suffix[] = "--output truncated--";
	struct buf body = BUF_INIT, want = BUF_INIT;
	for (size_t i = 0; want.len < 24000 - (sizeof suffix - 1); i++)
		buf_addc(&want, (char)('a' + i % 26));
	buf_adds(&want, suffix);
	assert_int_equal(want.len, 24000);
	buf_addf(&body, "{\"Status\":\"Success\",\"ResponseCode\":0,"
		 "\"StandardOutputContent\":\"%s\"}", want.ptr);
	struct aws_ssm_invocation inv;
	struct err e = ERR_INIT;
	assert_int_equal(aws_ssm_invocation_parse(body.ptr, body.len, &inv, &e), ERR_OK);
	assert_int_equal(strlen(inv.stdout_text), 24000);
	assert_string_equal(inv.stdout_text, want.ptr);
	assert_string_equal(inv.stderr_text, "");
	aws_ssm_invocation_release(&inv);
	assert_null(inv.status);
	assert_int_equal(inv.response_code, -1);
	buf_release(&body);
	buf_release(&want);
}

/* ---- ListCommands / ListCommandInvocations ------------------------------- */

static const char list_page1[] =
	"{\"Commands\":["
	"{\"CommandId\":\"aaaaaaaa-0000-0000-0000-000000000002\",\"DocumentName\":"
	"\"AWS-RunShellScript\",\"Comment\":\"tarmac migrate users\",\"InstanceIds\":"
	"[\"i-0123456789abcdef0\"],\"RequestedDateTime\":1715933410.5,\"Status\":\"Success\","
	"\"TargetCount\":1,\"CompletedCount\":1,\"ErrorCount\":0},"
	"{\"CommandId\":\"aaaaaaaa-0000-0000-0000-000000000001\",\"DocumentName\":"
	"\"AWS-RunShellScript\",\"Comment\":\"tarmac info users\",\"InstanceIds\":[],"
	"\"Targets\":[{\"Key\":\"tag:Role\",\"Values\":[\"flyway-host\"]}],"
	"\"RequestedDateTime\":1715933350,\"Status\":\"Failed\",\"TargetCount\":3,"
	"\"CompletedCount\":3,\"ErrorCount\":1}],"
	"\"NextToken\":\"AAEAAV1n+/==\"}";

static const char list_page2[] =
	"{\"Commands\":[{\"CommandId\":\"aaaaaaaa-0000-0000-0000-000000000000\","
	"\"RequestedDateTime\":1715000000,\"Status\":\"Cancelled\"}],\"NextToken\":\"\"}";

static void test_commands_parse(void **state)
{
	(void)state;
	struct vec v = VEC_INIT;
	static char untouched[] = "untouched";
	char *token = untouched;
	struct err e = ERR_INIT;
	assert_int_equal(aws_ssm_commands_parse(P(list_page1), &v, &token, &e), ERR_OK);
	assert_int_equal(v.len, 2);
	assert_string_equal(token, "AAEAAV1n+/==");
	free(token);
	const struct aws_ssm_command *a = v.items[0], *b = v.items[1];
	assert_string_equal(a->command_id, "aaaaaaaa-0000-0000-0000-000000000002");
	assert_string_equal(a->requested, "2024-05-17T08:10:10Z");
	assert_string_equal(a->instance_id, "i-0123456789abcdef0");
	assert_string_equal(a->status, "Success");
	assert_string_equal(b->comment, "tarmac info users");
	assert_string_equal(b->instance_id, "");
	assert_int_equal(b->target_count, 3);
	assert_int_equal(b->error_count, 1);
	/* the last page: an empty NextToken means none */
	assert_int_equal(aws_ssm_commands_parse(P(list_page2), &v, &token, &e), ERR_OK);
	assert_null(token);
	assert_int_equal(v.len, 3);
	assert_string_equal(((struct aws_ssm_command *)v.items[2])->status, "Cancelled");
	/* no Commands member at all: an empty page */
	assert_int_equal(aws_ssm_commands_parse(P("{}"), &v, &token, &e), ERR_OK);
	assert_int_equal(v.len, 3);
	assert_null(token);
	vec_release(&v, aws_ssm_command_free);
}

static void test_list_parse_errors(void **state)
{
	(void)state;
	static const struct { const char *body; size_t len; bool invocations; } bad[] = {
		{ P("{\"Commands\":{}}"), false },
		{ P("{\"Commands\":[1]}"), false },
		{ P("{\"Commands\":[{\"CommandId\":\"a\"},{\"Status\":\"Success\"}]}"), false },
		{ P("{\"Commands\":[{\"CommandId\":\"a\"}],\"NextToken\":5}"), false },
		{ P("{\"Commands\":[{\"CommandId\":\"a\",\"CompletedCount\":-1e300}]}"), false },
		{ P("<ListCommandsResponse/>"), false },
		{ P("{\"CommandInvocations\":\"x\"}"), true },
		{ P("{\"CommandInvocations\":[{\"CommandId\":\"a\"},[]]}"), true },
		{ P("{\"CommandInvocations\":[{\"InstanceId\":{}}]}"), true },
		{ P("{\"CommandInvocations\":[{\"RequestedDateTime\":\"\"}],\"NextToken\":[]}"), true },
	};
	failures = 0;
	for (size_t i = 0; i < LEN(bad); i++) {
		struct vec v = VEC_INIT;
		char *token = NULL;
		struct err e = ERR_INIT;
		vec_push(&v, NULL); /* what the caller had must stay */
		enum err_code c = bad[i].invocations
			? aws_ssm_invocations_parse(bad[i].body, bad[i].len, &v, &token, &e)
			: aws_ssm_commands_parse(bad[i].body, bad[i].len, &v, &token, &e);
		CHECK_INT("list errors", i, "code", c, ERR_PARSE);
		CHECK_INT("list errors", i, "items", v.len, 1);
		if (token)
			fail_row("list errors", i, "token set on error");
		if (!strstr(e.msg, bad[i].invocations ? "ListCommandInvocations" : "ListCommands"))
			fail_row("list errors", i, "message does not name the call: %s", e.msg);
		vec_release(&v, NULL);
	}
	assert_int_equal(failures, 0);
}

static const char invocations_page[] =
	"{\"CommandInvocations\":["
	"{\"CommandId\":\"c1\",\"InstanceId\":\"i-0000000000000000a\",\"InstanceName\":\"\","
	"\"Comment\":\"tarmac migrate\",\"DocumentName\":\"AWS-RunShellScript\","
	"\"DocumentVersion\":\"$DEFAULT\",\"RequestedDateTime\":1715933350.999,"
	"\"Status\":\"Success\",\"StatusDetails\":\"Success\",\"TraceOutput\":\"\","
	"\"StandardOutputUrl\":\"\",\"StandardErrorUrl\":\"\",\"CommandPlugins\":[],"
	"\"ServiceRole\":\"\",\"NotificationConfig\":{},\"CloudWatchOutputConfig\":"
	"{\"CloudWatchLogGroupName\":\"/tarmac/ssm\",\"CloudWatchOutputEnabled\":true}},"
	"{\"CommandId\":\"c1\",\"InstanceId\":\"i-0000000000000000b\",\"Status\":\"Failed\"},"
	"{\"CommandId\":\"c1\",\"InstanceId\":\"i-0000000000000000c\",\"Status\":\"TimedOut\"},"
	"{\"CommandId\":\"c1\",\"InstanceId\":\"i-0000000000000000d\",\"Status\":\"Cancelled\"},"
	"{\"CommandId\":\"c1\",\"InstanceId\":\"i-0000000000000000e\",\"Status\":\"InProgress\"}"
	"],\"NextToken\":\"next-page\"}";

static void test_invocations_parse(void **state)
{
	(void)state;
	static const struct {
		const char *instance, *status;
		int completed, errors;
	} want[] = {
		{ "i-0000000000000000a", "Success", 1, 0 },
		{ "i-0000000000000000b", "Failed", 1, 1 },
		{ "i-0000000000000000c", "TimedOut", 1, 1 },
		{ "i-0000000000000000d", "Cancelled", 1, 0 },
		{ "i-0000000000000000e", "InProgress", 0, 0 },
	};
	struct vec v = VEC_INIT;
	char *token = NULL;
	struct err e = ERR_INIT;
	assert_int_equal(aws_ssm_invocations_parse(P(invocations_page), &v, &token, &e), ERR_OK);
	assert_string_equal(token, "next-page");
	assert_int_equal(v.len, LEN(want));
	failures = 0;
	for (size_t i = 0; i < LEN(want); i++) {
		const struct aws_ssm_command *c = v.items[i];
		CHECK_STR("invocations", i, "id", c->command_id, "c1");
		CHECK_STR("invocations", i, "instance", c->instance_id, want[i].instance);
		CHECK_STR("invocations", i, "status", c->status, want[i].status);
		CHECK_INT("invocations", i, "targets", c->target_count, 1);
		CHECK_INT("invocations", i, "completed", c->completed_count, want[i].completed);
		CHECK_INT("invocations", i, "errors", c->error_count, want[i].errors);
	}
	const struct aws_ssm_command *first = v.items[0];
	assert_string_equal(first->requested, "2024-05-17T08:09:10Z");
	assert_string_equal(first->comment, "tarmac migrate");
	assert_string_equal(((struct aws_ssm_command *)v.items[1])->requested, "");
	assert_int_equal(failures, 0);
	free(token);
	vec_release(&v, aws_ssm_command_free);
}

/* ---- DescribeInstanceInformation ----------------------------------------- */

static const char instances_body[] =
	"{\"InstanceInformationList\":[{\"InstanceId\":\"i-0123456789abcdef0\","
	"\"PingStatus\":\"Online\",\"LastPingDateTime\":1715933350.75,"
	"\"AgentVersion\":\"3.3.40.0\",\"IsLatestVersion\":false,\"PlatformType\":\"Linux\","
	"\"PlatformName\":\"Amazon Linux\",\"PlatformVersion\":\"2023\","
	"\"ResourceType\":\"EC2Instance\",\"IPAddress\":\"10.0.1.17\","
	"\"ComputerName\":\"ip-10-0-1-17.ec2.internal\",\"AssociationStatus\":\"Success\","
	"\"AssociationOverview\":{\"DetailedStatus\":\"Success\","
	"\"InstanceAssociationStatusAggregatedCount\":{\"Success\":1}},"
	"\"SourceId\":\"i-0123456789abcdef0\",\"SourceType\":\"AWS::EC2::Instance\"}]}";

struct instance_want {
	const char *body;
	size_t len;
	const char *id;
	enum err_code code;
	bool found;
	const char *ping, *agent, *platform, *last_ping, *token;
};

#define IBAD(s) { .body = (s), .len = sizeof(s) - 1, .id = "i-1", .code = ERR_PARSE }

static const struct instance_want instance_cases[] = {
	{ P(instances_body), "i-0123456789abcdef0", ERR_OK, true, "Online", "3.3.40.0",
	  "Amazon Linux", "2024-05-17T08:09:10Z", NULL },
	/* a page that holds another instance only */
	{ P(instances_body), "i-0fffffffffffffff0", ERR_OK, false, "", "", "", "", NULL },
	{ P("{\"InstanceInformationList\":[]}"), "i-0123456789abcdef0", ERR_OK, false,
	  "", "", "", "", NULL },
	{ P("{\"InstanceInformationList\":[],\"NextToken\":\"t2\"}"), "i-0123456789abcdef0",
	  ERR_OK, false, "", "", "", "", "t2" },
	{ P("{\"InstanceInformationList\":[{\"InstanceId\":\"i-1\",\"PingStatus\":"
	    "\"ConnectionLost\"}]}"), "i-1", ERR_OK, true, "ConnectionLost", "", "", "", NULL },
	IBAD("{\"InstanceInformationList\":{}}"),
	IBAD("{\"InstanceInformationList\":[7]}"),
	IBAD("{\"InstanceInformationList\":[{\"InstanceId\":1}]}"),
	IBAD("{\"InstanceInformationList\":[{\"InstanceId\":\"i-1\",\"LastPingDateTime\":"
	     "\"x\",\"PingStatus\":false}]}"),
	IBAD("{\"InstanceInformationList\":[{\"InstanceId\":\"i-1\",\"LastPingDateTime\":"
	     "-3}]}"),
};

static void test_instance_parse(void **state)
{
	(void)state;
	failures = 0;
	for (size_t i = 0; i < LEN(instance_cases); i++) {
		const struct instance_want *w = &instance_cases[i];
		struct aws_ssm_instance in;
		char *token = NULL;
		struct err e = ERR_INIT;
		enum err_code c = aws_ssm_instance_parse(w->body, w->len, w->id, &in, &token, &e);
		CHECK_INT("instance", i, "code", c, w->code);
		if (c != ERR_OK) {
			if (in.instance_id || in.ping_status || token)
				fail_row("instance", i, "output not left empty on error");
			continue;
		}
		CHECK_INT("instance", i, "found", in.found, w->found);
		CHECK_STR("instance", i, "id", in.instance_id, w->id);
		CHECK_STR("instance", i, "ping", in.ping_status, w->ping);
		CHECK_STR("instance", i, "agent", in.agent_version, w->agent);
		CHECK_STR("instance", i, "platform", in.platform, w->platform);
		CHECK_STR("instance", i, "last ping", in.last_ping, w->last_ping);
		if (w->token)
			CHECK_STR("instance", i, "token", token, w->token);
		else if (token)
			fail_row("instance", i, "token \"%s\" on the last page", token);
		free(token);
		aws_ssm_instance_release(&in);
	}
	assert_int_equal(failures, 0);
}

/* ---- log group, log stream, final statuses ------------------------------- */

static void test_log_names(void **state)
{
	(void)state;
	static const struct { const char *doc, *group, *want; } groups[] = {
		{ "AWS-RunShellScript", NULL, "/aws/ssm/AWS-RunShellScript" },
		{ "AWS-RunShellScript", "", "/aws/ssm/AWS-RunShellScript" },
		{ "AWS-RunShellScript", "/tarmac/ssm", "/tarmac/ssm" },
		{ "arn:aws:ssm:eu-central-1:123456789012:document/My Doc",
		  NULL, "/aws/ssm/arn.aws.ssm.eu-central-1.123456789012.document/My.Doc" },
		{ "a#b_c.d-e/f*g", NULL, "/aws/ssm/a#b_c.d-e/f.g" },
	};
	static const struct { const char *cmd, *inst, *plugin, *which, *want; } streams[] = {
		{ "0b2c4a3e-1f2d-4c5b-9a8e-7d6c5b4a3f21", "i-0123456789abcdef0",
		  "aws:runShellScript", "stdout",
		  "0b2c4a3e-1f2d-4c5b-9a8e-7d6c5b4a3f21/i-0123456789abcdef0/aws-runShellScript/stdout" },
		{ "c", "mi-1", "aws:runPowerShellScript", "stderr",
		  "c/mi-1/aws-runPowerShellScript/stderr" },
		{ "c", "i-1", "step*1:x", "stdout", "c/i-1/step-1-x/stdout" },
	};
	failures = 0;
	for (size_t i = 0; i < LEN(groups); i++) {
		char *g = aws_ssm_log_group(groups[i].doc, groups[i].group);
		CHECK_STR("log group", i, "group", g, groups[i].want);
		free(g);
	}
	for (size_t i = 0; i < LEN(streams); i++) {
		char *s = aws_ssm_log_stream(streams[i].cmd, streams[i].inst, streams[i].plugin,
					     streams[i].which);
		CHECK_STR("log stream", i, "stream", s, streams[i].want);
		free(s);
	}
	static const struct { const char *status; bool final; } statuses[] = {
		{ "Success", true }, { "Failed", true }, { "Cancelled", true },
		{ "TimedOut", true }, { "Pending", false }, { "InProgress", false },
		{ "Delayed", false }, { "Cancelling", false }, { "", false }, { NULL, false },
		{ "success", false },
	};
	for (size_t i = 0; i < LEN(statuses); i++)
		CHECK_INT("final", i, "final", aws_ssm_status_final(statuses[i].status),
			  statuses[i].final);
	assert_int_equal(failures, 0);
}

/* ---- CloudWatch Logs GetLogEvents ---------------------------------------- */

static const char events_body[] =
	"{\"events\":[{\"timestamp\":1715933351123,\"message\":\"Flyway OSS Edition 10.10.0\","
	"\"ingestionTime\":1715933352000},{\"timestamp\":1715933351124,\"message\":"
	"\"Migrating schema \\\"public\\\" to version \\\"2 - alter table persons\\\"\","
	"\"ingestionTime\":1715933352001}],"
	"\"nextForwardToken\":\"f/38528731294744628113214283431808491286401402853455036416/s\","
	"\"nextBackwardToken\":\"b/38528731294744628113214283431808491286401402853455036416/s\"}";

static void test_events_parse(void **state)
{
	(void)state;
	struct vec v = VEC_INIT;
	char *token = NULL;
	struct err e = ERR_INIT;
	assert_int_equal(aws_logs_events_parse(P(events_body), &v, &token, &e), ERR_OK);
	assert_int_equal(v.len, 2);
	const struct aws_log_event *a = v.items[0], *b = v.items[1];
	assert_true(a->timestamp_ms == INT64_C(1715933351123));
	assert_string_equal(a->message, "Flyway OSS Edition 10.10.0");
	assert_string_equal(b->message,
			    "Migrating schema \"public\" to version \"2 - alter table persons\"");
	assert_string_equal(token, "f/38528731294744628113214283431808491286401402853455036416/s");
	free(token);
	/* the end of the stream: no events, the same token again */
	assert_int_equal(aws_logs_events_parse(P("{\"events\":[],\"nextForwardToken\":\"f/1\","
						 "\"nextBackwardToken\":\"b/1\"}"),
					       &v, &token, &e), ERR_OK);
	assert_int_equal(v.len, 2);
	assert_string_equal(token, "f/1");
	free(token);
	/* an event without a message is an empty line */
	assert_int_equal(aws_logs_events_parse(P("{\"events\":[{\"timestamp\":0}]}"), &v, &token,
					       &e), ERR_OK);
	assert_int_equal(v.len, 3);
	assert_null(token);
	assert_string_equal(((struct aws_log_event *)v.items[2])->message, "");
	vec_release(&v, aws_log_event_free);
}

static void test_events_parse_errors(void **state)
{
	(void)state;
	static const struct { const char *body; size_t len; } bad[] = {
		{ P("") },
		{ P("[]") },
		{ P("{\"events\":{}}") },
		{ P("{\"events\":[1]}") },
		{ P("{\"events\":[{\"timestamp\":\"1715933351123\",\"message\":\"x\"}]}") },
		{ P("{\"events\":[{\"message\":\"no time\"}]}") },
		{ P("{\"events\":[{\"timestamp\":1.5,\"message\":\"x\"}]}") },
		{ P("{\"events\":[{\"timestamp\":1e300,\"message\":\"x\"}]}") },
		{ P("{\"events\":[{\"timestamp\":1,\"message\":\"ok\"},{\"timestamp\":2,"
		    "\"message\":7}]}") },
		{ P("{\"events\":[],\"nextForwardToken\":7}") },
		{ P("{\"__type\":\"ResourceNotFoundException\",\"message\":\"The specified log "
		    "stream does not exist.\"}x") },
	};
	failures = 0;
	for (size_t i = 0; i < LEN(bad); i++) {
		struct vec v = VEC_INIT;
		char *token = NULL;
		struct err e = ERR_INIT;
		enum err_code c = aws_logs_events_parse(bad[i].body, bad[i].len, &v, &token, &e);
		CHECK_INT("events errors", i, "code", c, ERR_PARSE);
		CHECK_INT("events errors", i, "appended", v.len, 0);
		if (token)
			fail_row("events errors", i, "token set on error");
		if (!strstr(e.msg, "CloudWatch Logs GetLogEvents"))
			fail_row("events errors", i, "message does not name the call: %s", e.msg);
		vec_release(&v, aws_log_event_free);
	}
	assert_int_equal(failures, 0);
}

/* ---- Secrets Manager GetSecretValue -------------------------------------- */

#define PW_TEXT "s3cr3t-P@ss\"w0rd"

static const char secret_pg[] =
	"{\"ARN\":\"arn:aws:secretsmanager:eu-central-1:123456789012:secret:users-flyway-AbCdEf\","
	"\"Name\":\"users-flyway\",\"VersionId\":\"EXAMPLE1-90ab-cdef-fedc-ba987SECRET1\","
	"\"SecretString\":\"{\\\"engine\\\":\\\"postgres\\\",\\\"host\\\":"
	"\\\"users.cluster-abc.eu-central-1.rds.amazonaws.com\\\",\\\"username\\\":"
	"\\\"flyway\\\",\\\"password\\\":\\\"s3cr3t-P@ss\\\\\\\"w0rd\\\",\\\"dbname\\\":"
	"\\\"users\\\",\\\"port\\\":5432,\\\"dbClusterIdentifier\\\":\\\"users\\\"}\","
	"\"VersionStages\":[\"AWSCURRENT\"],\"CreatedDate\":1715933350.524}";

static const char secret_my[] =
	"{\"Name\":\"products\",\"SecretString\":\"{\\\"engine\\\":\\\"mysql\\\","
	"\\\"host\\\":\\\"products.cluster-abc.eu-central-1.rds.amazonaws.com\\\","
	"\\\"username\\\":\\\"admin\\\",\\\"password\\\":\\\"hunter2\\\","
	"\\\"dbname\\\":\\\"products\\\",\\\"port\\\":\\\"3306\\\"}\"}";

static const char secret_managed[] =
	"{\"Name\":\"rds!cluster-0a1b2c3d\",\"SecretString\":"
	"\"{\\\"username\\\":\\\"postgres\\\",\\\"password\\\":\\\"Xy7-managed\\\"}\"}";

struct secret_want {
	const char *body;
	size_t len;
	const char *user, *password, *host, *port, *dbname, *engine; /* NULL: absent */
};

static const struct secret_want secret_cases[] = {
	{ P(secret_pg), "flyway", PW_TEXT, "users.cluster-abc.eu-central-1.rds.amazonaws.com",
	  "5432", "users", "postgres" },
	{ P(secret_my), "admin", "hunter2", "products.cluster-abc.eu-central-1.rds.amazonaws.com",
	  "3306", "products", "mysql" },
	{ P(secret_managed), "postgres", "Xy7-managed", NULL, NULL, NULL, NULL },
	{ P("{\"SecretString\":\"{\\\"password\\\":\\\"p\\\",\\\"port\\\":0,\\\"host\\\":null}\"}"),
	  NULL, "p", NULL, "0", NULL, NULL },
	{ P("{\"SecretString\":\" {\\\"password\\\":\\\"p\\\",\\\"port\\\":65535} \\n\"}"),
	  NULL, "p", NULL, "65535", NULL, NULL },
};

static bool same_opt(const char *a, const char *b)
{
	return (!a && !b) || streq(a, b);
}

static void test_secret_parse(void **state)
{
	(void)state;
	failures = 0;
	for (size_t i = 0; i < LEN(secret_cases); i++) {
		const struct secret_want *w = &secret_cases[i];
		struct aws_db_secret s;
		struct err e = ERR_INIT;
		enum err_code c = aws_secrets_db_parse(w->body, w->len, "users-flyway", &s, &e);
		CHECK_INT("secret", i, "code", c, ERR_OK);
		if (c)
			continue;
		const char *got[] = { s.username, s.password, s.host, s.port, s.dbname, s.engine };
		const char *want[] = { w->user, w->password, w->host, w->port, w->dbname, w->engine };
		static const char *const names[] = { "username", "password", "host", "port",
						     "dbname", "engine" };
		for (size_t k = 0; k < LEN(names); k++)
			if (!same_opt(got[k], want[k]))
				fail_row("secret", i, "%s: got %s, want %s", names[k],
					 got[k] ? got[k] : "(null)", want[k] ? want[k] : "(null)");
		aws_db_secret_release(&s);
		if (s.password || s.username)
			fail_row("secret", i, "release left members behind");
	}
	assert_int_equal(failures, 0);
}

static void test_secret_parse_errors(void **state)
{
	(void)state;
	static const struct { const char *body; size_t len; const char *want, *secret; } bad[] = {
		{ P("{\"Name\":\"bin\",\"SecretBinary\":\"aHVudGVyMg==\"}"), "SecretBinary",
		  "aHVudGVyMg==" },
		{ P("{\"Name\":\"none\"}"), "no SecretString", NULL },
		{ P("{\"SecretString\":\"hunter2\"}"), "not a JSON object", "hunter2" },
		{ P("{\"SecretString\":\"[\\\"hunter2\\\"]\"}"), "not a JSON object", "hunter2" },
		{ P("{\"SecretString\":\"{\\\"password\\\":\\\"hunter2\\\"} junk\"}"),
		  "not a JSON object", "hunter2" },
		{ P("{\"SecretString\":\"{\\\"username\\\":\\\"u\\\"}\"}"), "no password", NULL },
		{ P("{\"SecretString\":\"{\\\"password\\\":\\\"\\\"}\"}"), "no password", NULL },
		{ P("{\"SecretString\":\"{\\\"password\\\":918273645}\"}"), "password is not",
		  "918273645" },
		{ P("{\"SecretString\":\"{\\\"password\\\":\\\"hunter2\\\",\\\"port\\\":70000}\"}"),
		  "port is not a port number", "hunter2" },
		{ P("{\"SecretString\":\"{\\\"password\\\":\\\"hunter2\\\",\\\"port\\\":5432.5}\"}"),
		  "port is not", "hunter2" },
		{ P("{\"SecretString\":\"{\\\"password\\\":\\\"hunter2\\\",\\\"port\\\":-1}\"}"),
		  "port is not", "hunter2" },
		{ P("{\"SecretString\":\"{\\\"password\\\":\\\"hunter2\\\",\\\"port\\\":true}\"}"),
		  "port is not", "hunter2" },
		{ P("{\"SecretString\":\"{\\\"password\\\":\\\"hunter2\\\",\\\"port\\\":\\\"54x\\\"}\"}"),
		  "port is not a port number", "hunter2" },
		{ P("{\"SecretString\":\"{\\\"password\\\":\\\"hunter2\\\",\\\"port\\\":\\\"99999\\\"}\"}"),
		  "port is not a port number", "hunter2" },
		{ P("{\"SecretString\":\"{\\\"password\\\":\\\"hunter2\\\",\\\"port\\\":\\\"\\\"}\"}"),
		  "port is not a port number", "hunter2" },
		{ P("{\"SecretString\":\"{\\\"password\\\":\\\"hunter2\\\",\\\"host\\\":[]}\"}"),
		  "host is not a string", "hunter2" },
		{ P("{\"SecretString\":{\"password\":\"hunter2\"}}"), "no SecretString", "hunter2" },
		{ P("{\"SecretString\":\"{\\\"password\\\":\\\"hunter2\\\"}\""), "not a JSON object",
		  "hunter2" },
		{ P(""), "not a JSON object", NULL },
	};
	failures = 0;
	for (size_t i = 0; i < LEN(bad); i++) {
		struct aws_db_secret s;
		struct err e = ERR_INIT;
		enum err_code c = aws_secrets_db_parse(bad[i].body, bad[i].len, "users-flyway", &s,
						       &e);
		CHECK_INT("secret errors", i, "code", c, ERR_PARSE);
		if (!strstr(e.msg, bad[i].want) || !strstr(e.msg, "secret users-flyway"))
			fail_row("secret errors", i, "message \"%s\" lacks \"%s\" or the id", e.msg,
				 bad[i].want);
		if (bad[i].secret && strstr(e.msg, bad[i].secret))
			fail_row("secret errors", i, "message quotes the secret: %s", e.msg);
		if (s.username || s.password || s.host || s.port || s.dbname || s.engine)
			fail_row("secret errors", i, "output not left empty on error");
	}
	assert_int_equal(failures, 0);
}

/* ---- RDS DescribeDBClusters / DescribeDBInstances ------------------------ */

static const char clusters_page1[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<DescribeDBClustersResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\n"
	"  <DescribeDBClustersResult>\n"
	"    <DBClusters><DBCluster>\n"
	"      <DBClusterIdentifier>my-cluster</DBClusterIdentifier><Engine>aurora-postgresql"
	"</Engine>\n"
	"      <EngineVersion>15.4</EngineVersion><Status>available</Status>\n"
	"      <Endpoint>my-cluster.cluster-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com</Endpoint>\n"
	"      <ReaderEndpoint>my-cluster.cluster-ro-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com"
	"</ReaderEndpoint>\n"
	"      <Port>5432</Port><DatabaseName>appdb</DatabaseName><MasterUsername>postgres"
	"</MasterUsername>\n"
	"      <IAMDatabaseAuthenticationEnabled>true</IAMDatabaseAuthenticationEnabled>\n"
	"      <MasterUserSecret><SecretArn>arn:aws:secretsmanager:us-east-1:123456789012:secret:"
	"rds!cluster-0a1b</SecretArn><SecretStatus>active</SecretStatus></MasterUserSecret>\n"
	"      <VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1"
	"</VpcSecurityGroupId><Status>inactive</Status></VpcSecurityGroupMembership>"
	"</VpcSecurityGroups>\n"
	"      <DBClusterMembers><DBClusterMember><DBInstanceIdentifier>my-cluster-1"
	"</DBInstanceIdentifier><IsClusterWriter>true</IsClusterWriter></DBClusterMember>"
	"</DBClusterMembers>\n"
	"    </DBCluster>\n"
	"    <DBCluster><DBClusterIdentifier>products</DBClusterIdentifier>"
	"<Engine>aurora-mysql</Engine><EngineVersion>8.0.mysql_aurora.3.05.2</EngineVersion>"
	"<Status>backing-up</Status><Port>3306</Port>"
	"<Endpoint>products.cluster-x.eu-central-1.rds.amazonaws.com</Endpoint></DBCluster>\n"
	"    </DBClusters>\n"
	"    <Marker>eyJtYXJrZXIiOiAicHJvZHVjdHMifQ==</Marker>\n"
	"  </DescribeDBClustersResult>\n"
	"  <ResponseMetadata><RequestId>4c1e0c3e-1d2f-4a5b-8c7d-6e5f4a3b2c1d</RequestId>"
	"</ResponseMetadata>\n"
	"</DescribeDBClustersResponse>\n";

static const char clusters_page2[] =
	"<DescribeDBClustersResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">"
	"<DescribeDBClustersResult><DBClusters><DBCluster>"
	"<DBClusterIdentifier>users</DBClusterIdentifier><Engine>aurora-postgresql</Engine>"
	"<DBClusterOptionGroupMemberships><DBClusterOptionGroupMembership><Status>in-sync"
	"</Status></DBClusterOptionGroupMembership></DBClusterOptionGroupMemberships>"
	"</DBCluster></DBClusters></DescribeDBClustersResult>"
	"<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
	"</DescribeDBClustersResponse>";

struct cluster_want {
	const char *id, *engine, *version, *endpoint, *reader, *status;
	int port;
};

static void check_clusters(const char *table, const struct vec *v,
			   const struct cluster_want *want, size_t n)
{
	if (v->len != n) {
		fail_row(table, 0, "%zu records, want %zu", v->len, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct aws_rds_cluster *c = v->items[i];
		CHECK_STR(table, i, "id", c->id, want[i].id);
		CHECK_STR(table, i, "engine", c->engine, want[i].engine);
		CHECK_STR(table, i, "version", c->engine_version, want[i].version);
		CHECK_STR(table, i, "endpoint", c->endpoint, want[i].endpoint);
		CHECK_STR(table, i, "reader", c->reader_endpoint, want[i].reader);
		CHECK_STR(table, i, "status", c->status, want[i].status);
		CHECK_INT(table, i, "port", c->port, want[i].port);
	}
}

static void test_clusters_pages(void **state)
{
	(void)state;
	static const struct cluster_want want[] = {
		{ "my-cluster", "aurora-postgresql", "15.4",
		  "my-cluster.cluster-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com",
		  "my-cluster.cluster-ro-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com", "available",
		  5432 },
		{ "products", "aurora-mysql", "8.0.mysql_aurora.3.05.2",
		  "products.cluster-x.eu-central-1.rds.amazonaws.com", "", "backing-up", 3306 },
		{ "users", "aurora-postgresql", "", "", "", "", 0 },
	};
	struct vec v = VEC_INIT;
	char *marker = NULL;
	struct err e = ERR_INIT;
	failures = 0;
	assert_int_equal(aws_rds_clusters_parse(P(clusters_page1), &v, &marker, &e), ERR_OK);
	assert_string_equal(marker, "eyJtYXJrZXIiOiAicHJvZHVjdHMifQ==");
	free(marker);
	assert_int_equal(aws_rds_clusters_parse(P(clusters_page2), &v, &marker, &e), ERR_OK);
	assert_null(marker);
	check_clusters("clusters", &v, want, LEN(want));
	assert_int_equal(failures, 0);
	vec_release(&v, aws_rds_cluster_free);
}

static const char instances_xml[] =
	"<DescribeDBInstancesResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">"
	"<DescribeDBInstancesResult><DBInstances>"
	"<DBInstance><DBInstanceIdentifier>my-cluster-1</DBInstanceIdentifier>"
	"<DBInstanceClass>db.r6g.large</DBInstanceClass><Engine>aurora-postgresql</Engine>"
	"<DBInstanceStatus>available</DBInstanceStatus>"
	"<Endpoint><Address>my-cluster-1.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com</Address>"
	"<Port>5432</Port><HostedZoneId>Z2R2ITUGPM61AM</HostedZoneId></Endpoint>"
	"<DbInstancePort>0</DbInstancePort><EngineVersion>15.4</EngineVersion>"
	"<VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1"
	"</VpcSecurityGroupId><Status>active</Status></VpcSecurityGroupMembership>"
	"</VpcSecurityGroups>"
	"<DBSubnetGroup><DBSubnetGroupName>default</DBSubnetGroupName><SubnetGroupStatus>"
	"Complete</SubnetGroupStatus><Subnets><Subnet><SubnetIdentifier>subnet-1"
	"</SubnetIdentifier><SubnetStatus>Active</SubnetStatus></Subnet></Subnets>"
	"</DBSubnetGroup>"
	"<ListenerEndpoint><Address>wrong.example</Address><Port>1</Port></ListenerEndpoint>"
	"</DBInstance>"
	"<DBInstance><DBInstanceIdentifier>legacy-mysql</DBInstanceIdentifier>"
	"<Engine>mysql</Engine><DBInstanceStatus>creating</DBInstanceStatus>"
	"<EngineVersion>8.0.35</EngineVersion></DBInstance>"
	"</DBInstances><Marker>page-2</Marker></DescribeDBInstancesResult>"
	"<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
	"</DescribeDBInstancesResponse>";

static void test_instances_parse(void **state)
{
	(void)state;
	static const struct cluster_want want[] = {
		{ "my-cluster-1", "aurora-postgresql", "15.4",
		  "my-cluster-1.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com", "", "available", 5432 },
		{ "legacy-mysql", "mysql", "8.0.35", "", "", "creating", 0 },
	};
	struct vec v = VEC_INIT;
	char *marker = NULL;
	struct err e = ERR_INIT;
	failures = 0;
	assert_int_equal(aws_rds_instances_parse(P(instances_xml), &v, &marker, &e), ERR_OK);
	assert_string_equal(marker, "page-2");
	free(marker);
	check_clusters("instances", &v, want, LEN(want));
	assert_int_equal(failures, 0);
	vec_release(&v, aws_rds_cluster_free);
}

#define CL_HEAD "<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters>"
#define CL_TAIL "</DBClusters></DescribeDBClustersResult></DescribeDBClustersResponse>"

static void test_rds_parse_errors(void **state)
{
	(void)state;
	static const struct { const char *body; size_t len; bool instances; const char *want; }
	bad[] = {
		{ P(""), false, "XML" },
		{ P("{\"DBClusters\":[]}"), false, "XML" },
		{ P(CL_HEAD "<DBCluster><Engine>aurora</Engine></DBCluster>" CL_TAIL), false,
		  "has no DBClusterIdentifier" },
		{ P(CL_HEAD "<DBCluster/>" CL_TAIL), false, "has no DBClusterIdentifier" },
		{ P(CL_HEAD "<DBCluster><DBClusterIdentifier>a</DBClusterIdentifier><Port>54x2"
		    "</Port></DBCluster>" CL_TAIL), false, "is not a port number" },
		{ P(CL_HEAD "<DBCluster><DBClusterIdentifier>a</DBClusterIdentifier><Port>65536"
		    "</Port></DBCluster>" CL_TAIL), false, "is not a port number" },
		{ P(CL_HEAD "<DBCluster><DBClusterIdentifier>a</DBClusterIdentifier><Port>"
		    "</Port></DBCluster>" CL_TAIL), false, "is not a port number" },
		{ P(CL_HEAD "<DBCluster><DBClusterIdentifier>a</DBClusterIdentifier>"), false,
		  "XML" },
		{ P("<ErrorResponse><Error><Type>Sender</Type><Code>DBClusterNotFoundFault</Code>"
		    "<Message>DBCluster nope not found.</Message></Error><RequestId>r</RequestId>"
		    "</ErrorResponse>"), false, "not a DescribeDBClustersResponse" },
		{ P(CL_HEAD CL_TAIL), true, "not a DescribeDBInstancesResponse" },
		{ P("<!DOCTYPE x [<!ENTITY a \"aaaa\">]>" CL_HEAD CL_TAIL), false, "DOCTYPE" },
		{ P("<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances>"
		    "<DBInstance><DBInstanceIdentifier>a</DBInstanceIdentifier><Endpoint><Port>-1"
		    "</Port></Endpoint></DBInstance></DBInstances></DescribeDBInstancesResult>"
		    "</DescribeDBInstancesResponse>"), true, "Endpoint/Port" },
	};
	failures = 0;
	for (size_t i = 0; i < LEN(bad); i++) {
		struct vec v = VEC_INIT;
		char *marker = NULL;
		struct err e = ERR_INIT;
		vec_push(&v, NULL);
		enum err_code c = bad[i].instances
			? aws_rds_instances_parse(bad[i].body, bad[i].len, &v, &marker, &e)
			: aws_rds_clusters_parse(bad[i].body, bad[i].len, &v, &marker, &e);
		CHECK_INT("rds errors", i, "code", c, ERR_PARSE);
		CHECK_INT("rds errors", i, "items", v.len, 1);
		if (!strstr(e.msg, bad[i].want) || strncmp(e.msg, "RDS Describe", 12))
			fail_row("rds errors", i, "message \"%s\" lacks \"%s\"", e.msg, bad[i].want);
		if (marker)
			fail_row("rds errors", i, "marker set on error");
		vec_release(&v, NULL);
	}
	assert_int_equal(failures, 0);
}

/* A namespace prefix on the elements changes nothing. */
static void test_rds_prefixed(void **state)
{
	(void)state;
	static const char xml[] =
		"<r:DescribeDBClustersResponse xmlns:r=\"http://rds.amazonaws.com/doc/2014-10-31/\">"
		"<r:DescribeDBClustersResult><r:DBClusters><r:DBCluster><r:DBClusterIdentifier>"
		"p</r:DBClusterIdentifier><r:Port> 5432 </r:Port></r:DBCluster></r:DBClusters>"
		"<r:Marker></r:Marker></r:DescribeDBClustersResult></r:DescribeDBClustersResponse>";
	struct vec v = VEC_INIT;
	static char untouched[] = "untouched";
	char *marker = untouched;
	struct err e = ERR_INIT;
	assert_int_equal(aws_rds_clusters_parse(P(xml), &v, &marker, &e), ERR_OK);
	assert_null(marker);
	assert_int_equal(v.len, 1);
	assert_string_equal(((struct aws_rds_cluster *)v.items[0])->id, "p");
	assert_int_equal(((struct aws_rds_cluster *)v.items[0])->port, 5432);
	vec_release(&v, aws_rds_cluster_free);
}

/* ---- RDS IAM auth token ---------------------------------------------------- */

/* 2024-05-17T08:09:10Z, the time of spec §1.5's vector. */
static time_t spec_clock(void)
{
	return 1715933350;
}

/* The token's host and its query parameters in order, so two tokens that
 * differ only in parameter order (spec §1.5: irrelevant) compare equal. */
static char *token_canon(const char *tok)
{
	struct vec parts = VEC_INIT;
	struct buf out = BUF_INIT;
	const char *q = strstr(tok, "/?");
	if (!q)
		return xstrdup(tok);
	buf_add(&out, tok, (size_t)(q - tok) + 2);
	for (const char *p = q + 2; *p;) {
		size_t n = strcspn(p, "&");
		vec_push(&parts, xstrndup(p, n));
		p += n + (p[n] == '&');
	}
	for (size_t i = 1; i < parts.len; i++)
		for (size_t j = i; j > 0 && strcmp(parts.items[j - 1], parts.items[j]) > 0; j--) {
			void *t = parts.items[j];
			parts.items[j] = parts.items[j - 1];
			parts.items[j - 1] = t;
		}
	for (size_t i = 0; i < parts.len; i++)
		buf_addf(&out, "%s%s", i ? "&" : "", (const char *)parts.items[i]);
	vec_free_strs(&parts);
	return buf_detach(&out, NULL);
}

static void env_creds(void)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_SECURITY_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void test_rds_auth_token(void **state)
{
	(void)state;
	/* botocore 1.43 generate_db_auth_token with the clock frozen; the first
	 * is spec §1.5's vector, signed for the region in the host name even
	 * though the context is in eu-west-1 */
	static const struct { const char *host; int port; const char *user, *want; } cases[] = {
		{ "mycluster.cluster-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com", 5432, "iam_user",
		  "mycluster.cluster-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com:5432/?Action=connect&"
		  "DBUser=iam_user&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F"
		  "20240517%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=20240517T080910Z&"
		  "X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature="
		  "e401c5bc0739bf43c0e5c30dce0659e68c1f88b6f38d86e438b10acab250a58c" },
		{ "db.internal.example", 3306, "flyway",
		  "db.internal.example:3306/?Action=connect&DBUser=flyway&X-Amz-Algorithm="
		  "AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240517%2Feu-west-1%2Frds-db%2F"
		  "aws4_request&X-Amz-Date=20240517T080910Z&X-Amz-Expires=900&"
		  "X-Amz-SignedHeaders=host&X-Amz-Signature="
		  "df251e84366abb0d454dc9526f525f25c2f8716c0263d87200b05caf8648d390" },
	};
	struct aws_ctx_options o = { .region = "eu-west-1", .clock = spec_clock };
	struct aws_ctx *ctx = NULL;
	struct err e = ERR_INIT;
	env_creds();
	assert_int_equal(aws_ctx_new(&o, &ctx, &e), ERR_OK);
	failures = 0;
	for (size_t i = 0; i < LEN(cases); i++) {
		char *tok = NULL;
		enum err_code c = aws_rds_auth_token(ctx, cases[i].host, cases[i].port,
						     cases[i].user, &tok, &e);
		CHECK_INT("token", i, "code", c, ERR_OK);
		char *got = tok ? token_canon(tok) : NULL, *want = token_canon(cases[i].want);
		CHECK_STR("token", i, "token", got, want);
		free(got);
		free(want);
		free(tok);
	}
	static const struct { const char *host; int port; const char *user; } bad[] = {
		{ NULL, 5432, "u" }, { "", 5432, "u" }, { "h", 0, "u" }, { "h", 65536, "u" },
		{ "h", 5432, "" }, { "h", 5432, NULL },
	};
	for (size_t i = 0; i < LEN(bad); i++) {
		char *tok = NULL;
		CHECK_INT("token usage", i, "code",
			  aws_rds_auth_token(ctx, bad[i].host, bad[i].port, bad[i].user, &tok, &e),
			  ERR_USAGE);
		if (tok)
			fail_row("token usage", i, "token made");
	}
	aws_ctx_free(ctx);
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_body),
		cmocka_unit_test(test_send_body_members),
		cmocka_unit_test(test_send_usage),
		cmocka_unit_test(test_command_parse),
		cmocka_unit_test(test_invocation_parse),
		cmocka_unit_test(test_invocation_output_cut),
		cmocka_unit_test(test_commands_parse),
		cmocka_unit_test(test_list_parse_errors),
		cmocka_unit_test(test_invocations_parse),
		cmocka_unit_test(test_instance_parse),
		cmocka_unit_test(test_log_names),
		cmocka_unit_test(test_events_parse),
		cmocka_unit_test(test_events_parse_errors),
		cmocka_unit_test(test_secret_parse),
		cmocka_unit_test(test_secret_parse_errors),
		cmocka_unit_test(test_clusters_pages),
		cmocka_unit_test(test_instances_parse),
		cmocka_unit_test(test_rds_parse_errors),
		cmocka_unit_test(test_rds_prefixed),
		cmocka_unit_test(test_rds_auth_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
