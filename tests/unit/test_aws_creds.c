/*
 * test_aws_creds — aws/endpoint.c, aws/creds.c and aws/sts.c: the config
 * and credentials file parser, profile and region selection, endpoint
 * resolution, the credential chain (environment, files, assume-role,
 * credential_process, container, IMDSv2), its cache and refresh, and the
 * STS answers.
 *
 * Every test gets a fresh temporary HOME with every AWS_* variable unset
 * and instance metadata disabled, so nothing of the machine's own
 * configuration is read and nothing leaves the machine. The container,
 * IMDS and STS tests run a small HTTP server on 127.0.0.1 in a thread;
 * credential_process tests run a shell script written into the temporary
 * directory. Tables become one cmocka test per row, named after the row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/internal.h"
#include "base/time.h"

static char tmpdir[128];

/* ---- fixture: a private HOME and a clean environment ---------------------------- */

static void env_clean(void)
{
	struct vec names = VEC_INIT;
	for (char **p = environ; *p; p++)
		if (!strncmp(*p, "AWS_", 4))
			vec_push(&names, xstrndup(*p, strcspn(*p, "=")));
	for (size_t i = 0; i < names.len; i++)
		unsetenv(names.items[i]);
	vec_free_strs(&names);
	static const char *const proxies[] = { "http_proxy", "HTTP_PROXY", "https_proxy",
					       "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
	for (size_t i = 0; i < sizeof proxies / sizeof *proxies; i++)
		unsetenv(proxies[i]);
}

/* "@DIR@" in s becomes the temporary directory. */
static char *expand(const char *s)
{
	struct buf b = BUF_INIT;
	for (const char *p = s; *p;) {
		if (!strncmp(p, "@DIR@", 5)) {
			buf_adds(&b, tmpdir);
			p += 5;
		} else {
			buf_addc(&b, *p++);
		}
	}
	return buf_detach(&b, NULL);
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	char *t = expand(text);
	fputs(t, f);
	free(t);
	fclose(f);
}

static void env_set(const char *kv)
{
	char *s = expand(kv);
	char *eq = strchr(s, '=');
	assert_non_null(eq);
	*eq = 0;
	setenv(s, eq + 1, 1);
	free(s);
}

static void env_apply(const char *const *env, size_t n)
{
	for (size_t i = 0; i < n && env[i]; i++)
		env_set(env[i]);
}

static int fx_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/tarmac-creds-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	env_clean();
	setenv("HOME", tmpdir, 1);
	env_set("AWS_CONFIG_FILE=@DIR@/config");
	env_set("AWS_SHARED_CREDENTIALS_FILE=@DIR@/credentials");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int fx_teardown(void **state)
{
	(void)state;
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	env_clean();
	return 0;
}

static struct aws_ctx *ctx_open(const char *profile, const char *region)
{
	struct aws_ctx_options o = { .profile = profile, .region = region };
	struct aws_ctx *ctx = NULL;
	struct err e = ERR_INIT;
	enum err_code rc = aws_ctx_new(&o, &ctx, &e);
	if (rc)
		fail_msg("aws_ctx_new: %s", e.msg);
	return ctx;
}

static void assert_has(const char *text, const char *part)
{
	if (part && !strstr(text, part))
		fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

static void assert_lacks(const char *text, const char *part)
{
	if (part && strstr(text, part))
		fail_msg("\"%s\" contains \"%s\"", text, part);
}

static const char *s_or(const char *s)
{
	return s ? s : "(null)";
}

/* ---- the file parser ------------------------------------------------------------- */

struct parse_case {
	const char *name;
	bool config;
	const char *text;
	const char *want;      /* the kv strings, '\n'-joined, tabs shown as '|' */
	const char *err;       /* expected message part, when it must fail */
	const char *secret;    /* must not appear in the message */
};

static const struct parse_case parse_cases[] = {
	{ "parse/config_profiles", true,
	  "[default]\nregion = eu-west-1\n[profile dev]\nregion=ap-south-1\n",
	  "profile default||\nprofile default|region|eu-west-1\nprofile dev||\n"
	  "profile dev|region|ap-south-1", NULL, NULL },
	{ "parse/config_bare_section_is_not_a_profile", true, "[dev]\nregion = x\n",
	  "dev||\ndev|region|x", NULL, NULL },
	{ "parse/config_profile_default", true, "[profile default]\nregion = x\n",
	  "profile default||\nprofile default|region|x", NULL, NULL },
	{ "parse/config_quoted_and_spaced_name", true,
	  "[ profile   \"my dev\" ]\nregion = x\n[profile\tops]\noutput = json\n",
	  "profile my dev||\nprofile my dev|region|x\nprofile ops||\nprofile ops|output|json",
	  NULL, NULL },
	{ "parse/config_other_sections_kept", true,
	  "[services local]\nssm =\n  endpoint_url = http://a\n[sso-session s]\nsso_region = x\n",
	  "services local||\nservices local|ssm.endpoint_url|http://a\nservices local|ssm|\n"
	  "sso-session s||\nsso-session s|sso_region|x",
	  NULL, NULL },
	{ "parse/credentials_bare_names", false, "[dev]\naws_access_key_id = AKIADEV\n",
	  "profile dev||\nprofile dev|aws_access_key_id|AKIADEV", NULL, NULL },
	{ "parse/credentials_profile_prefix_is_literal", false, "[profile dev]\nk = v\n",
	  "profile profile dev||\nprofile profile dev|k|v", NULL, NULL },
	{ "parse/comments", true,
	  "# top\n; semi\n[default]\n  # indented\nregion = us-east-1 # kept\n;x = y\n",
	  "profile default||\nprofile default|region|us-east-1 # kept", NULL, NULL },
	{ "parse/colon_and_case", true, "[default]\nOutput: json\nRegion=x\n",
	  "profile default||\nprofile default|output|json\nprofile default|region|x", NULL, NULL },
	{ "parse/nested_subsection", true,
	  "[default]\ns3 =\n  addressing_style = path\n\n  Max_Concurrency=10\nregion = x\n",
	  "profile default||\nprofile default|s3.addressing_style|path\n"
	  "profile default|s3.max_concurrency|10\n"
	  "profile default|s3|\nprofile default|region|x", NULL, NULL },
	{ "parse/continuation", true, "[default]\ncredential_process = helper\n  --flag x\n",
	  "profile default||\nprofile default|credential_process|helper\n--flag x", NULL, NULL },
	{ "parse/indented_keys_same_level", true, "[default]\n  a = 1\n  b = 2\n",
	  "profile default||\nprofile default|a|1\nprofile default|b|2", NULL, NULL },
	{ "parse/crlf", true, "[default]\r\nregion = x\r\n", "profile default||\nprofile default|region|x",
	  NULL, NULL },
	{ "parse/no_final_newline", true, "[default]\nregion = x",
	  "profile default||\nprofile default|region|x", NULL, NULL },
	{ "parse/empty", true, "", "", NULL, NULL },
	{ "parse/empty_value", true, "[default]\nregion =\n",
	  "profile default||\nprofile default|region|", NULL, NULL },
	{ "parse/tab_in_name", false, "[a\tb]\nk\tx = v\n", "profile a b||\nprofile a b|k x|v", NULL,
	  NULL },
	{ "parse/trailing_text_after_header", true, "[default] ; note\nregion = x\n",
	  "profile default||\nprofile default|region|x", NULL, NULL },
	{ "parse/err_key_before_section", true, "region = x\n", NULL, "line 1: a \"key = value\"",
	  NULL },
	{ "parse/err_no_delimiter", false, "[default]\naws_access_key_id = A\nAKIASECRETLINE\n",
	  NULL, "line 3: not a [section] header", "AKIASECRETLINE" },
	{ "parse/err_unclosed_header", true, "\n\n[default\nregion = x\n", NULL,
	  "line 3: a section header needs its closing ']'", NULL },
	{ "parse/err_empty_header", true, "[ ]\n", NULL, "line 1: a section header needs a name",
	  NULL },
	{ "parse/err_empty_key", true, "[default]\n= x\n", NULL, "line 2: a \"key = value\" line "
	  "without a key", NULL },
	{ "parse/err_nested_without_equals", true, "[default]\ns3 =\n  addressing_style\n", NULL,
	  "line 3: an indented line under", NULL },
	{ "parse/err_names_file", true, "junk\n", NULL, "test.ini line 1", NULL },
};

static void dump_kv(struct buf *b, const struct vec *kv)
{
	for (size_t i = 0; i < kv->len; i++) {
		if (i)
			buf_addc(b, '\n');
		for (const char *p = kv->items[i]; *p; p++)
			buf_addc(b, *p == '\t' ? '|' : *p);
	}
}

static void run_parse_case(void **state)
{
	const struct parse_case *c = *state;
	struct vec kv = VEC_INIT;
	struct err e = ERR_INIT;
	enum err_code rc = aws_config_parse(c->text, strlen(c->text), "test.ini", c->config, &kv, &e);
	if (c->err) {
		assert_int_equal(rc, ERR_PARSE);
		assert_has(e.msg, c->err);
		assert_lacks(e.msg, c->secret);
	} else {
		if (rc)
			fail_msg("%s", e.msg);
		struct buf b = BUF_INIT;
		dump_kv(&b, &kv);
		assert_string_equal(b.ptr, c->want);
		buf_release(&b);
	}
	vec_free_strs(&kv);
}

static void test_parse_nul_and_lookup(void **state)
{
	(void)state;
	struct vec kv = VEC_INIT;
	struct err e = ERR_INIT;
	const char text[] = "[default]\nregion = a\0" "b\n";
	assert_int_equal(aws_config_parse(text, sizeof text - 1, "f", true, &kv, &e), ERR_PARSE);
	assert_has(e.msg, "f line 2: contains a NUL byte");
	vec_free_strs(&kv);
	const char *t2 = "[default]\nregion = a\nregion = b\n[profile x]\nregion = c\n";
	assert_int_equal(aws_config_parse(t2, strlen(t2), "f", true, &kv, &e), ERR_OK);
	assert_string_equal(aws_config_get(&kv, "profile default", "region"), "b");
	assert_string_equal(aws_config_get(&kv, "profile x", "region"), "c");
	assert_null(aws_config_get(&kv, "profile x", "regio"));
	assert_null(aws_config_get(&kv, "profile", "region"));
	vec_free_strs(&kv);
}

static void test_ctx_bad_file(void **state)
{
	(void)state;
	struct aws_ctx *ctx = NULL;
	struct err e = ERR_INIT;
	write_file("credentials", "[default]\naws_access_key_id = AKIA\nwJalrXUtnFEMIK7MDENG\n");
	assert_int_equal(aws_ctx_new(NULL, &ctx, &e), ERR_PARSE);
	assert_null(ctx);
	assert_has(e.msg, "/credentials line 3:");
	assert_lacks(e.msg, "wJalr");
	write_file("credentials", "");
	env_set("AWS_CONFIG_FILE=@DIR@");
	assert_int_equal(aws_ctx_new(NULL, &ctx, &e), ERR_IO);
	assert_has(e.msg, tmpdir);
	env_set("AWS_CONFIG_FILE=@DIR@/nonexistent/config");
	assert_int_equal(aws_ctx_new(NULL, &ctx, &e), ERR_OK);
	aws_ctx_free(ctx);
	/* "~/" in the variable is HOME, as botocore expands it */
	write_file("cfg2", "[default]\nregion = from-tilde-1\n");
	setenv("AWS_CONFIG_FILE", "~/cfg2", 1);
	ctx = ctx_open(NULL, NULL);
	assert_string_equal(aws_ctx_region(ctx), "from-tilde-1");
	aws_ctx_free(ctx);
}

/* ---- profile and region selection ------------------------------------------------ */

struct sel_case {
	const char *name;
	const char *env[5];
	const char *config, *creds;
	const char *opt_profile, *opt_region;
	const char *profile, *region;
};

static const char sel_config[] =
	"[default]\nregion = eu-west-1\n[profile a]\nregion = ap-south-1\n"
	"[profile b]\nregion = sa-east-1\n[profile o]\nregion = ca-central-1\n[bare]\nregion = x-1\n";

static const struct sel_case sel_cases[] = {
	{ "select/nothing", { NULL }, "", "", NULL, NULL, "default", "" },
	{ "select/default_profile_region", { NULL }, sel_config, "", NULL, NULL, "default",
	  "eu-west-1" },
	{ "select/AWS_DEFAULT_PROFILE", { "AWS_DEFAULT_PROFILE=b" }, sel_config, "", NULL, NULL, "b",
	  "sa-east-1" },
	{ "select/AWS_PROFILE_first", { "AWS_PROFILE=a", "AWS_DEFAULT_PROFILE=b" }, sel_config, "",
	  NULL, NULL, "a", "ap-south-1" },
	{ "select/options_first", { "AWS_PROFILE=a" }, sel_config, "", "o", NULL, "o",
	  "ca-central-1" },
	{ "select/empty_AWS_PROFILE_ignored", { "AWS_PROFILE=", "AWS_DEFAULT_PROFILE=b" }, sel_config,
	  "", NULL, NULL, "b", "sa-east-1" },
	{ "select/bare_section_not_a_profile", { "AWS_PROFILE=bare" }, sel_config, "", NULL, NULL,
	  "bare", "" },
	{ "select/region_option", { "AWS_REGION=us-west-2" }, sel_config, "", NULL, "eu-north-1",
	  "default", "eu-north-1" },
	{ "select/AWS_REGION_before_AWS_DEFAULT_REGION",
	  { "AWS_REGION=ca-central-1", "AWS_DEFAULT_REGION=sa-east-1" }, sel_config, "", NULL, NULL,
	  "default", "ca-central-1" },
	{ "select/AWS_DEFAULT_REGION_before_profile", { "AWS_DEFAULT_REGION=sa-east-1" }, sel_config,
	  "", NULL, NULL, "default", "sa-east-1" },
	{ "select/credentials_file_region_wins", { NULL }, sel_config,
	  "[default]\nregion = us-west-1\n", NULL, NULL, "default", "us-west-1" },
	{ "select/empty_credentials_region_ignored", { NULL }, sel_config,
	  "[default]\nregion =\n", NULL, NULL, "default", "eu-west-1" },
	{ "select/profile_default_header", { NULL }, "[profile default]\nregion = me-south-1\n", "",
	  NULL, NULL, "default", "me-south-1" },
};

static void run_sel_case(void **state)
{
	const struct sel_case *c = *state;
	env_apply(c->env, 5);
	write_file("config", c->config);
	write_file("credentials", c->creds);
	struct aws_ctx *ctx = ctx_open(c->opt_profile, c->opt_region);
	assert_string_equal(aws_ctx_profile(ctx), c->profile);
	assert_string_equal(aws_ctx_region(ctx), c->region);
	aws_ctx_free(ctx);
}

/* ---- endpoints (spec §2.6) --------------------------------------------------------- */

struct ep_case {
	const char *name;
	const char *env[4];
	const char *config;
	const char *service, *region;
	enum err_code rc;
	const char *want;      /* the URL, or a part of the message when rc != ERR_OK */
	bool custom;
};

static const char ep_services[] =
	"[default]\nservices = local\nendpoint_url = http://profile-wide:1\n"
	"[services local]\nssm =\n  endpoint_url = http://cfg-ssm:2/\n"
	"cloudwatch_logs =\n  endpoint_url = http://cfg-logs:3\n"
	"secrets_manager =\n  endpoint_url = http://cfg-secrets:4\n";

#define EU "eu-central-1"
static const struct ep_case ep_cases[] = {
	{ "endpoint/default_S3", { NULL }, "", "S3", EU, 0, "https://s3.eu-central-1.amazonaws.com", false },
	{ "endpoint/default_SSM", { NULL }, "", "SSM", EU, 0, "https://ssm.eu-central-1.amazonaws.com", false },
	{ "endpoint/default_Logs", { NULL }, "", "CloudWatch Logs", EU, 0,
	  "https://logs.eu-central-1.amazonaws.com", false },
	{ "endpoint/default_STS_regional", { NULL }, "", "STS", "us-east-1", 0,
	  "https://sts.us-east-1.amazonaws.com", false },
	{ "endpoint/default_Secrets", { NULL }, "", "Secrets Manager", EU, 0,
	  "https://secretsmanager.eu-central-1.amazonaws.com", false },
	{ "endpoint/default_RDS", { NULL }, "", "RDS", EU, 0, "https://rds.eu-central-1.amazonaws.com", false },
	{ "endpoint/default_EC2", { NULL }, "", "EC2", EU, 0, "https://ec2.eu-central-1.amazonaws.com", false },
	{ "endpoint/S3_us_east_1_legacy_host", { NULL }, "", "S3", "us-east-1", 0,
	  "https://s3.amazonaws.com", false },
	{ "endpoint/china_partition", { NULL }, "", "SSM", "cn-north-1", 0,
	  "https://ssm.cn-north-1.amazonaws.com.cn", false },
	{ "endpoint/S3_without_region_global", { NULL }, "", "S3", NULL, 0, "https://s3.amazonaws.com", false },
	{ "endpoint/STS_without_region_global", { NULL }, "", "STS", NULL, 0, "https://sts.amazonaws.com", false },
	{ "endpoint/SSM_without_region_fails", { NULL }, "", "SSM", NULL, ERR_USAGE,
	  "no AWS region for SSM", false },
	{ "endpoint/bad_region", { NULL }, "", "SSM", "EU_West", ERR_USAGE,
	  "\"EU_West\" is not an AWS region", false },
	{ "endpoint/ctx_region_used", { "AWS_REGION=ap-northeast-2" }, "", "RDS", NULL, 0,
	  "https://rds.ap-northeast-2.amazonaws.com", false },
	{ "endpoint/unknown_service", { NULL }, "", "DynamoDB", EU, ERR_USAGE,
	  "no endpoint is known for the AWS service \"DynamoDB\"", false },
	{ "endpoint/env_S3", { "AWS_ENDPOINT_URL_S3=http://127.0.0.1:4568" }, "", "S3", EU, 0,
	  "http://127.0.0.1:4568", true },
	{ "endpoint/env_SSM", { "AWS_ENDPOINT_URL_SSM=http://ssm.local" }, "", "SSM", EU, 0,
	  "http://ssm.local", true },
	{ "endpoint/env_CLOUDWATCH_LOGS", { "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=http://logs.local" }, "",
	  "CloudWatch Logs", EU, 0, "http://logs.local", true },
	{ "endpoint/env_STS", { "AWS_ENDPOINT_URL_STS=https://sts.local:8443" }, "", "STS", EU, 0,
	  "https://sts.local:8443", true },
	{ "endpoint/env_SECRETS_MANAGER", { "AWS_ENDPOINT_URL_SECRETS_MANAGER=http://sm.local" }, "",
	  "Secrets Manager", EU, 0, "http://sm.local", true },
	{ "endpoint/env_RDS", { "AWS_ENDPOINT_URL_RDS=http://rds.local" }, "", "RDS", EU, 0,
	  "http://rds.local", true },
	{ "endpoint/env_other_service_not_used", { "AWS_ENDPOINT_URL_SSM=http://ssm.local" }, "",
	  "S3", EU, 0, "https://s3.eu-central-1.amazonaws.com", false },
	{ "endpoint/env_global", { "AWS_ENDPOINT_URL=http://emu:5000" }, "", "RDS", EU, 0,
	  "http://emu:5000", true },
	{ "endpoint/env_service_beats_global",
	  { "AWS_ENDPOINT_URL=http://emu:5000", "AWS_ENDPOINT_URL_S3=http://s3:1" }, "", "S3", EU, 0,
	  "http://s3:1", true },
	{ "endpoint/empty_env_service_skipped",
	  { "AWS_ENDPOINT_URL_SSM=", "AWS_ENDPOINT_URL=http://emu:5000" }, "", "SSM", EU, 0,
	  "http://emu:5000", true },
	{ "endpoint/env_global_beats_config_service", { "AWS_ENDPOINT_URL=http://emu:5000" },
	  ep_services, "SSM", EU, 0, "http://emu:5000", true },
	{ "endpoint/config_service_ssm", { NULL }, ep_services, "SSM", EU, 0, "http://cfg-ssm:2", true },
	{ "endpoint/config_service_logs", { NULL }, ep_services, "CloudWatch Logs", EU, 0,
	  "http://cfg-logs:3", true },
	{ "endpoint/config_service_secrets", { NULL }, ep_services, "Secrets Manager", EU, 0,
	  "http://cfg-secrets:4", true },
	{ "endpoint/config_global_when_no_service_entry", { NULL }, ep_services, "S3", EU, 0,
	  "http://profile-wide:1", true },
	{ "endpoint/config_of_selected_profile", { "AWS_PROFILE=dev" },
	  "[default]\nendpoint_url = http://d:1\n[profile dev]\nendpoint_url = http://dev:2/base/\n",
	  "SSM", EU, 0, "http://dev:2/base", true },
	{ "endpoint/ignore_env", { "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true",
				   "AWS_ENDPOINT_URL=http://emu:5000" }, ep_services, "SSM", EU, 0,
	  "https://ssm.eu-central-1.amazonaws.com", false },
	{ "endpoint/ignore_env_any_case", { "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=TRUE",
					    "AWS_ENDPOINT_URL_S3=http://s3:1" }, "", "S3", EU, 0,
	  "https://s3.eu-central-1.amazonaws.com", false },
	{ "endpoint/ignore_config", { "AWS_ENDPOINT_URL_RDS=http://rds:1" },
	  "[default]\nignore_configured_endpoint_urls = true\n", "RDS", EU, 0,
	  "https://rds.eu-central-1.amazonaws.com", false },
	{ "endpoint/ignore_env_false_beats_config", { "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false",
						     "AWS_ENDPOINT_URL_RDS=http://rds:1" },
	  "[default]\nignore_configured_endpoint_urls = true\n", "RDS", EU, 0, "http://rds:1", true },
	{ "endpoint/not_a_url", { "AWS_ENDPOINT_URL_S3=127.0.0.1:4568" }, "", "S3", EU, ERR_USAGE,
	  "the endpoint URL in AWS_ENDPOINT_URL_S3 is not", false },
	{ "endpoint/url_without_host", { "AWS_ENDPOINT_URL=http:///x" }, "", "S3", EU, ERR_USAGE,
	  "AWS_ENDPOINT_URL is not", false },
	{ "endpoint/bad_config_url_named", { NULL },
	  "[default]\nservices = s\n[services s]\nsts =\n  endpoint_url = ftp://x\n", "STS", EU,
	  ERR_USAGE, "[services s] sts.endpoint_url in", false },
};

static void run_ep_case(void **state)
{
	const struct ep_case *c = *state;
	env_apply(c->env, 4);
	write_file("config", c->config);
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	struct buf url = BUF_INIT;
	struct err e = ERR_INIT;
	bool custom = !c->custom;
	enum err_code rc = aws_endpoint_for(ctx, c->service, c->region, &url, &custom, &e);
	assert_int_equal(rc, c->rc);
	if (rc) {
		assert_has(e.msg, c->want);
	} else {
		assert_string_equal(url.ptr, c->want);
		assert_int_equal(custom, c->custom);
	}
	buf_release(&url);
	aws_ctx_free(ctx);
}

/* ---- the chain without servers ------------------------------------------------------- */

struct chain_case {
	const char *name;
	const char *env[6];
	const char *config, *creds;
	const char *opt_profile;
	enum err_code rc;
	const char *source, *ak, *sk, *token;
	time_t expires;
	const char *msg[3];    /* parts of the message when rc != ERR_OK */
	const char *secret;    /* never in the message */
};

#define ENV_KEYS "AWS_ACCESS_KEY_ID=AKIAENV", "AWS_SECRET_ACCESS_KEY=env-secret"
static const char file_keys[] = "[default]\naws_access_key_id = AKIAFILE\n"
				"aws_secret_access_key = file-secret\n"
				"[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = dev-secret\n";
static const char role_base[] = "[base]\naws_access_key_id = AKIABASE\n"
				"aws_secret_access_key = base-secret\n";

static const struct chain_case chain_cases[] = {
	{ "chain/env_keys", { ENV_KEYS }, "", "", NULL, 0, "env", "AKIAENV", "env-secret", NULL, 0,
	  { NULL }, NULL },
	{ "chain/env_session_token", { ENV_KEYS, "AWS_SESSION_TOKEN=sess" }, "", "", NULL, 0, "env",
	  "AKIAENV", "env-secret", "sess", 0, { NULL }, NULL },
	{ "chain/env_security_token_first", { ENV_KEYS, "AWS_SESSION_TOKEN=sess",
					      "AWS_SECURITY_TOKEN=sec" }, "", "", NULL, 0, "env",
	  "AKIAENV", "env-secret", "sec", 0, { NULL }, NULL },
	{ "chain/env_empty_security_token_skipped", { ENV_KEYS, "AWS_SESSION_TOKEN=sess",
						      "AWS_SECURITY_TOKEN=" }, "", "", NULL, 0,
	  "env", "AKIAENV", "env-secret", "sess", 0, { NULL }, NULL },
	{ "chain/env_expiration", { ENV_KEYS, "AWS_CREDENTIAL_EXPIRATION=2099-01-01T00:00:00Z" }, "",
	  "", NULL, 0, "env", "AKIAENV", "env-secret", NULL, 4070908800, { NULL }, NULL },
	{ "chain/env_bad_expiration", { ENV_KEYS, "AWS_CREDENTIAL_EXPIRATION=tomorrow" }, "", "",
	  NULL, ERR_AUTH, NULL, NULL, NULL, NULL, 0, { "AWS_CREDENTIAL_EXPIRATION is not" },
	  "env-secret" },
	{ "chain/env_partial_no_secret", { "AWS_ACCESS_KEY_ID=AKIAENV" }, "", file_keys, NULL,
	  ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" }, NULL },
	{ "chain/env_partial_no_key", { "AWS_SECRET_ACCESS_KEY=env-secret" }, "", file_keys, NULL,
	  ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not" }, "env-secret" },
	{ "chain/env_empty_key_ignored", { "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=" }, "",
	  file_keys, NULL, 0, "profile default", "AKIAFILE", "file-secret", NULL, 0, { NULL },
	  NULL },
	{ "chain/env_beats_files", { ENV_KEYS }, "", file_keys, NULL, 0, "env", "AKIAENV",
	  "env-secret", NULL, 0, { NULL }, NULL },
	{ "chain/AWS_PROFILE_keeps_env", { ENV_KEYS, "AWS_PROFILE=dev" }, "", file_keys, NULL, 0,
	  "env", "AKIAENV", "env-secret", NULL, 0, { NULL }, NULL },
	{ "chain/option_profile_drops_env", { ENV_KEYS }, "", file_keys, "dev", 0, "profile dev",
	  "AKIADEV", "dev-secret", NULL, 0, { NULL }, NULL },
	{ "chain/credentials_file", { NULL }, "", file_keys, NULL, 0, "profile default", "AKIAFILE",
	  "file-secret", NULL, 0, { NULL }, NULL },
	{ "chain/credentials_file_token", { NULL }, "",
	  "[default]\naws_access_key_id = A\naws_secret_access_key = s\naws_session_token = t1\n",
	  NULL, 0, "profile default", "A", "s", "t1", 0, { NULL }, NULL },
	{ "chain/credentials_file_security_token_first", { NULL }, "",
	  "[default]\naws_access_key_id = A\naws_secret_access_key = s\naws_session_token = t1\n"
	  "aws_security_token = t2\n", NULL, 0, "profile default", "A", "s", "t2", 0, { NULL },
	  NULL },
	{ "chain/credentials_file_partial", { NULL }, "", "[default]\naws_access_key_id = AKIAX\n",
	  NULL, ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "profile default in ", "/credentials has aws_access_key_id but no "
				   "aws_secret_access_key" }, NULL },
	{ "chain/config_file_keys", { NULL },
	  "[default]\naws_access_key_id = AKIACFG\naws_secret_access_key = cfg-secret\n", "", NULL,
	  0, "profile default", "AKIACFG", "cfg-secret", NULL, 0, { NULL }, NULL },
	{ "chain/credentials_file_beats_config", { NULL },
	  "[default]\naws_access_key_id = AKIACFG\naws_secret_access_key = cfg-secret\n", file_keys,
	  NULL, 0, "profile default", "AKIAFILE", "file-secret", NULL, 0, { NULL }, NULL },
	{ "chain/credentials_profile_prefix_not_a_profile", { "AWS_PROFILE=dev" }, "[profile dev]\n",
	  "[profile dev]\naws_access_key_id = A\naws_secret_access_key = s\n", NULL, ERR_AUTH, NULL,
	  NULL, NULL, NULL, 0, { "no AWS credentials" }, NULL },
	{ "chain/missing_profile", { "AWS_PROFILE=nope" }, "", file_keys, NULL, ERR_AUTH, NULL, NULL,
	  NULL, NULL, 0, { "AWS profile nope (from AWS_PROFILE) is in neither" }, NULL },
	{ "chain/nothing", { NULL }, "", "", NULL, ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "no AWS credentials: tried environment, profile default (",
	    "container (not configured), instance metadata (disabled by AWS_EC2_METADATA_DISABLED)",
	    "configure profile default" }, NULL },
	{ "chain/nothing_explicit_profile", { ENV_KEYS }, "[profile ops]\nregion = eu-west-1\n", "",
	  "ops", ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "tried environment (skipped: a profile was chosen), profile ops (" }, "env-secret" },
	{ "chain/role_without_source", { NULL }, "[default]\nrole_arn = arn:aws:iam::1:role/r\n", "",
	  NULL, ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "profile default has role_arn but neither source_profile nor credential_source" },
	  NULL },
	{ "chain/role_both_sources", { NULL },
	  "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
	  "credential_source = Environment\n", role_base, NULL, ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "has both source_profile and credential_source" }, NULL },
	{ "chain/role_mfa", { NULL },
	  "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
	  "mfa_serial = arn:aws:iam::1:mfa/me\n", role_base, NULL, ERR_AUTH, NULL, NULL, NULL, NULL,
	  0, { "needs an MFA code" }, NULL },
	{ "chain/role_bad_credential_source", { NULL },
	  "[default]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Laptop\n", "", NULL,
	  ERR_AUTH, NULL, NULL, NULL, NULL, 0, { "credential_source of profile default must be" },
	  NULL },
	{ "chain/role_source_missing", { NULL },
	  "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = nope\n", "", NULL, ERR_AUTH,
	  NULL, NULL, NULL, NULL, 0, { "source_profile nope of profile default is in neither" },
	  NULL },
	{ "chain/role_source_without_creds", { NULL },
	  "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = empty\n"
	  "[profile empty]\nregion = x-1\n", "", NULL, ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "source_profile empty of profile default has no credentials" }, NULL },
	{ "chain/role_loop", { "AWS_PROFILE=a" },
	  "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
	  "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n", "", NULL,
	  ERR_AUTH, NULL, NULL, NULL, NULL, 0, { "form a loop: a -> b -> a" }, NULL },
	{ "chain/role_self_without_keys", { "AWS_PROFILE=a" },
	  "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = a\n", "", NULL, ERR_AUTH,
	  NULL, NULL, NULL, NULL, 0, { "form a loop: a -> a" }, NULL },
	{ "chain/role_bad_duration", { NULL },
	  "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
	  "duration_seconds = 60\n", role_base, NULL, ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "duration_seconds of profile default must be" }, "base-secret" },
	{ "chain/role_credential_source_env_empty", { NULL },
	  "[default]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\n", "",
	  NULL, ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "takes its credentials from Environment, which has none" }, NULL },
	{ "chain/role_credential_source_container_unset", { NULL },
	  "[default]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = EcsContainer\n", "",
	  NULL, ERR_AUTH, NULL, NULL, NULL, NULL, 0, { "from EcsContainer, which has none" }, NULL },
	{ "chain/role_credential_source_imds_disabled", { NULL },
	  "[default]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Ec2InstanceMetadata\n",
	  "", NULL, ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "which has none (disabled by AWS_EC2_METADATA_DISABLED)" }, NULL },
	{ "chain/web_identity_unsupported", { NULL },
	  "[default]\nrole_arn = arn:aws:iam::1:role/r\nweb_identity_token_file = /t\n", "", NULL,
	  ERR_AUTH, NULL, NULL, NULL, NULL, 0, { "web identity" }, NULL },
	{ "chain/web_identity_env_named", { "AWS_WEB_IDENTITY_TOKEN_FILE=/t",
					    "AWS_ROLE_ARN=arn:aws:iam::1:role/r" }, "", "", NULL,
	  ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "web identity (AWS_WEB_IDENTITY_TOKEN_FILE is not supported)" }, NULL },
	{ "chain/sso_unsupported", { NULL },
	  "[default]\nsso_session = corp\nsso_account_id = 1\n", "", NULL, ERR_AUTH, NULL, NULL,
	  NULL, NULL, 0, { "IAM Identity Center (SSO)" }, NULL },
	{ "chain/container_relative_not_a_path", { "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=v2/x" },
	  "", "", NULL, ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path" }, NULL },
	{ "chain/container_full_uri_host_refused",
	  { "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.169.254/creds" }, "", "", NULL,
	  ERR_AUTH, NULL, NULL, NULL, NULL, 0,
	  { "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback" }, NULL },
	{ "chain/container_token_line_break",
	  { "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/creds",
	    "AWS_CONTAINER_AUTHORIZATION_TOKEN=abc\r\nX-Evil: 1" }, "", "", NULL, ERR_AUTH, NULL,
	  NULL, NULL, NULL, 0, { "the container authorization token has a line break" }, "abc" },
	{ "chain/container_token_file_missing",
	  { "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/creds",
	    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=@DIR@/no-token" }, "", "", NULL, ERR_AUTH, NULL,
	  NULL, NULL, NULL, 0, { "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE ", "does not exist" },
	  NULL },
};

static void check_creds(const struct aws_creds *c, const char *source, const char *ak,
			const char *sk, const char *token, time_t expires)
{
	assert_string_equal(c->source, source);
	assert_string_equal(s_or(c->access_key), ak);
	assert_string_equal(s_or(c->secret_key), sk);
	assert_string_equal(s_or(c->session_token), s_or(token));
	assert_int_equal(c->expires, expires);
}

static void run_chain_case(void **state)
{
	const struct chain_case *c = *state;
	env_apply(c->env, 6);
	write_file("config", c->config);
	write_file("credentials", c->creds);
	struct aws_ctx *ctx = ctx_open(c->opt_profile, NULL);
	struct aws_creds cr;
	struct err e = ERR_INIT;
	enum err_code rc = aws_creds_get(ctx, &cr, &e);
	if (rc != c->rc)
		fail_msg("rc %d, want %d: %s", rc, c->rc, e.msg);
	if (rc) {
		for (size_t i = 0; i < 3; i++)
			assert_has(e.msg, c->msg[i]);
		assert_lacks(e.msg, c->secret);
		assert_null(cr.access_key);
	} else {
		check_creds(&cr, c->source, c->ak, c->sk, c->token, c->expires);
	}
	aws_creds_release(&cr);
	aws_ctx_free(ctx);
}

static void test_container_uri_allowed(void **state)
{
	(void)state;
	static const struct {
		const char *url;
		bool ok;
	} rows[] = {
		{ "http://127.0.0.1:80/creds", true },
		{ "http://127.1.2.3/creds", true },
		{ "http://localhost:8080/x", true },
		{ "http://[::1]:8080/x", true },
		{ "http://169.254.170.2/v2/x", true },
		{ "http://169.254.170.23/v1/credentials", true },
		{ "http://[fd00:ec2::23]/v1/credentials", true },
		{ "https://creds.example.com/x", true },
		{ "HTTPS://creds.example.com", true },
		{ "http://creds.example.com/x", false },
		{ "http://169.254.169.254/latest", false },
		{ "http://127.0.0.1@evil.example/x", false },
		{ "http://127.0.0.1:80@evil.example/x", false },
		{ "http://[fd00:ec2::24]/x", false },
		{ "ftp://127.0.0.1/x", false },
		{ "http:///x", false },
		{ "http://127.0.0.1/a b", false },
	};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
		if (aws_container_uri_allowed(rows[i].url) != rows[i].ok)
			fail_msg("%s: want %s", rows[i].url, rows[i].ok ? "allowed" : "refused");
}

/* ---- credential_process --------------------------------------------------------------- */

static const char helper_sh[] =
	"#!/bin/sh\n"
	"echo run >> \"$0.count\"\n"
	"j() { printf '%s' \"$1\" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/\"/\\\\\"/g'; }\n"
	"case \"$1\" in\n"
	"ok) printf '{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"proc-secret\","
	" \"SessionToken\": \"proc-token\", \"Expiration\": \"2099-01-01T00:00:00Z\"}' \"$2\" ;;\n"
	"static) printf '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\", \"SecretAccessKey\": \"s\"}';;\n"
	"soon) printf '{\"Version\": 1, \"AccessKeyId\": \"AKIASOON\", \"SecretAccessKey\": \"s\","
	" \"Expiration\": \"%s\"}' \"$(date -u -d @$(( $(date +%s) + 120 )) +%Y-%m-%dT%H:%M:%SZ)\" ;;\n"
	"badjson) printf 'not json' ;;\n"
	"v2) printf '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\"}' ;;\n"
	"vstr) printf '{\"Version\": \"1\", \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\"}' ;;\n"
	"nosecret) printf '{\"Version\": 1, \"AccessKeyId\": \"A\"}' ;;\n"
	"badexp) printf '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\","
	" \"Expiration\": \"tomorrow\"}' ;;\n"
	"fail) echo 'STDERR-SECRET-xyz' >&2; printf '{}'; exit 3 ;;\n"
	"kill) kill -9 $$ ;;\n"
	"big) head -c 70000 /dev/zero | tr '\\000' a ;;\n"
	"slow) sleep 5 ;;\n"
	"args) shift; printf '{\"Version\": 1, \"AccessKeyId\": \"%s|%s|%s\", \"SecretAccessKey\": "
	"\"s\"}' \"$(j \"$1\")\" \"$(j \"$2\")\" \"$#\" ;;\n"
	"esac\n";

static void helper_install(void)
{
	char path[256];
	write_file("helper.sh", helper_sh);
	snprintf(path, sizeof path, "%s/helper.sh", tmpdir);
	assert_int_equal(chmod(path, 0755), 0);
}

static int helper_runs(void)
{
	char path[256];
	int n = 0, c;
	snprintf(path, sizeof path, "%s/helper.sh.count", tmpdir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

struct proc_case {
	const char *name;
	const char *args;      /* after the helper's path; NULL: the command is cmd */
	const char *cmd;
	enum err_code rc;
	const char *ak, *token;
	time_t expires;
	const char *msg;
};

static const struct proc_case proc_cases[] = {
	{ "process/valid", "ok AKIAPROC1", NULL, 0, "AKIAPROC1", "proc-token", 4070908800, NULL },
	{ "process/no_expiration", "static", NULL, 0, "AKIAPROC", NULL, 0, NULL },
	{ "process/single_quotes", "args 'a b' \"c'd\"", NULL, 0, "a b|c'd|2", NULL, 0, NULL },
	{ "process/backslash", "args x\\ y z", NULL, 0, "x y|z|2", NULL, 0, NULL },
	{ "process/double_quotes", "args \"q\\\"w\" 'x\\y'", NULL, 0, "q\"w|x\\y|2", NULL, 0, NULL },
	{ "process/dq_backslash_kept", "args \"a\\b\"", NULL, 0, "a\\b||1", NULL, 0, NULL },
	{ "process/dq_backslash_escaped", "args \"a\\\\b\" \"\"", NULL, 0, "a\\b||2", NULL, 0,
	  NULL },
	{ "process/empty_argument", "args '' z", NULL, 0, "|z|2", NULL, 0, NULL },
	{ "process/bad_json", "badjson", NULL, ERR_AUTH, NULL, NULL, 0,
	  "credential_process of profile default: the credentials are not a JSON object" },
	{ "process/version_2", "v2", NULL, ERR_AUTH, NULL, NULL, 0, "Version must be the number 1" },
	{ "process/version_string", "vstr", NULL, ERR_AUTH, NULL, NULL, 0, "Version must be" },
	{ "process/no_secret", "nosecret", NULL, ERR_AUTH, NULL, NULL, 0,
	  "the credentials have no SecretAccessKey" },
	{ "process/bad_expiration", "badexp", NULL, ERR_AUTH, NULL, NULL, 0,
	  "Expiration is not an ISO 8601 time" },
	{ "process/exit_status", "fail", NULL, ERR_AUTH, NULL, NULL, 0, "exited with status 3" },
	{ "process/killed", "kill", NULL, ERR_AUTH, NULL, NULL, 0, "was killed by signal 9" },
	{ "process/too_much_output", "big", NULL, ERR_AUTH, NULL, NULL, 0,
	  "printed more than 64 KiB" },
	{ "process/unclosed_quote", "args 'a", NULL, ERR_AUTH, NULL, NULL, 0, "unclosed quote" },
	{ "process/missing_program", NULL, "@DIR@/no-such-helper --x", ERR_AUTH, NULL, NULL, 0,
	  "cannot run @DIR@/no-such-helper: No such file or directory" },
	{ "process/empty_command", NULL, "''", ERR_AUTH, NULL, NULL, 0, "cannot run" },
	{ "process/path_lookup", NULL, "sh -c 'printf \"{\\\"Version\\\":1,\\\"AccessKeyId\\\":"
	  "\\\"AKIASH\\\",\\\"SecretAccessKey\\\":\\\"s\\\"}\"'", 0, "AKIASH", NULL, 0, NULL },
};

static void run_proc_case(void **state)
{
	const struct proc_case *c = *state;
	struct buf cfg = BUF_INIT;
	helper_install();
	if (c->args)
		buf_addf(&cfg, "[default]\ncredential_process = @DIR@/helper.sh %s\n", c->args);
	else
		buf_addf(&cfg, "[default]\ncredential_process = %s\n", c->cmd);
	write_file("config", cfg.ptr);
	buf_release(&cfg);
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	struct aws_creds cr;
	struct err e = ERR_INIT;
	enum err_code rc = aws_creds_get(ctx, &cr, &e);
	if (rc != c->rc)
		fail_msg("rc %d, want %d: %s", rc, c->rc, e.msg);
	if (rc) {
		char *want = expand(c->msg);
		assert_has(e.msg, want);
		free(want);
		assert_lacks(e.msg, "STDERR-SECRET");
		assert_lacks(e.msg, "proc-secret");
	} else {
		check_creds(&cr, "process", c->ak, c->args && !strncmp(c->args, "ok", 2) ?
			    "proc-secret" : "s", c->token, c->expires);
	}
	aws_creds_release(&cr);
	aws_ctx_free(ctx);
}

static void test_process_cache_and_refresh(void **state)
{
	(void)state;
	helper_install();
	write_file("config", "[default]\ncredential_process = @DIR@/helper.sh ok AKIAP\n"
			     "[profile soon]\ncredential_process = @DIR@/helper.sh soon\n");
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	struct aws_creds cr;
	struct err e = ERR_INIT;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(aws_creds_get(ctx, &cr, &e), ERR_OK);
		aws_creds_release(&cr);
	}
	assert_int_equal(helper_runs(), 1); /* far from expiry: cached */
	aws_creds_invalidate(ctx);
	assert_int_equal(aws_creds_get(ctx, &cr, &e), ERR_OK);
	aws_creds_release(&cr);
	assert_int_equal(helper_runs(), 2);
	aws_ctx_free(ctx);
	/* expiring in 2 minutes: inside the 15-minute window, run again each time */
	ctx = ctx_open("soon", NULL);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(aws_creds_get(ctx, &cr, &e), ERR_OK);
		assert_string_equal(cr.access_key, "AKIASOON");
		assert_true(cr.expires > time(NULL) + 60 && cr.expires <= time(NULL) + 121);
		aws_creds_release(&cr);
	}
	assert_int_equal(helper_runs(), 4);
	aws_ctx_free(ctx);
}

static void test_process_timeout(void **state)
{
	(void)state;
	helper_install();
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	char *cmd = expand("@DIR@/helper.sh slow");
	uint64_t t0 = time_mono_ns();
	assert_int_equal(aws_process_run(ctx, cmd, 300, &out, &e), ERR_AUTH);
	assert_true(time_ms_between(t0, time_mono_ns()) < 2000);
	assert_has(e.msg, "timed out");
	atomic_bool cancel = true;
	ctx->cancel = &cancel;
	assert_int_equal(aws_process_run(ctx, cmd, 5000, &out, &e), ERR_CANCELLED);
	assert_true(time_ms_between(t0, time_mono_ns()) < 3000);
	free(cmd);
	buf_release(&out);
	aws_ctx_free(ctx);
}

/* ---- a loopback HTTP server: IMDS, container credentials, STS ------------------------- */

struct srv {
	int fd, port;
	pthread_t th;
	atomic_bool stop;
	pthread_mutex_t mu;
	/* behaviour (set before the requests) */
	int token_status;       /* PUT /latest/api/token: 200 or what to refuse with */
	bool v1_ok;             /* metadata GETs without a token are served */
	int meta_status;        /* the role's credentials: 200 or an error status */
	long exp_in;            /* Expiration of what is served, seconds from now */
	int creds_status;       /* container: 200 or an error status */
	const char *want_auth;  /* container: the required Authorization, NULL: none */
	/* behind mu */
	int served;
	struct buf log;
};

static struct srv srv;

static void iso_in(char *out, size_t n, long secs)
{
	time_t t = time(NULL) + secs;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void reply(int c, int status, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
			 strlen(body));
	if (write(c, head, (size_t)n) < 0 || write(c, body, strlen(body)) < 0)
		return;
}

static const char *header(const char *req, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(req, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
		if (!strncasecmp(p + 2, name, nl) && p[2 + nl] == ':') {
			const char *v = p + 3 + nl;
			while (*v == ' ')
				v++;
			size_t vn = strcspn(v, "\r\n");
			snprintf(out, n, "%.*s", (int)(vn < n ? vn : n - 1), v);
			return out;
		}
	}
	return NULL;
}

static int next_serial(void)
{
	pthread_mutex_lock(&srv.mu);
	int n = ++srv.served;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static void serve_imds(int c, const char *method, const char *path, const char *req)
{
	char tok[64], body[512], exp[32];
	if (!strcmp(method, "PUT") && !strcmp(path, "/latest/api/token")) {
		if (srv.token_status != 200)
			reply(c, srv.token_status, "");
		else if (!header(req, "x-aws-ec2-metadata-token-ttl-seconds", tok, sizeof tok))
			reply(c, 400, "");
		else
			reply(c, 200, "TESTTOKEN");
		return;
	}
	bool has = header(req, "x-aws-ec2-metadata-token", tok, sizeof tok) != NULL;
	if (has ? strcmp(tok, "TESTTOKEN") != 0 : !srv.v1_ok) {
		reply(c, 401, "");
		return;
	}
	if (!strcmp(path, "/latest/meta-data/iam/security-credentials/")) {
		reply(c, 200, "test-role");
	} else if (!strcmp(path, "/latest/meta-data/iam/security-credentials/test-role")) {
		if (srv.meta_status != 200) {
			reply(c, srv.meta_status, "");
			return;
		}
		int n = next_serial();
		iso_in(exp, sizeof exp, srv.exp_in);
		snprintf(body, sizeof body,
			 "{\"Code\":\"Success\",\"LastUpdated\":\"2024-05-17T08:00:00Z\",\"Type\":"
			 "\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS%d\",\"SecretAccessKey\":\"imds-secret\","
			 "\"Token\":\"imds-token\",\"Expiration\":\"%s\"}", n, exp);
		reply(c, 200, body);
	} else if (!strcmp(path, "/latest/meta-data/placement/region")) {
		reply(c, 200, "eu-west-3\n");
	} else {
		reply(c, 404, "");
	}
}

static void serve_container(int c, const char *req)
{
	char auth[128], body[512], exp[32];
	const char *got = header(req, "authorization", auth, sizeof auth);
	if (srv.want_auth && (!got || strcmp(got, srv.want_auth))) {
		reply(c, 401, "{\"message\":\"bad token\"}");
		return;
	}
	if (srv.creds_status != 200) {
		reply(c, srv.creds_status, "");
		return;
	}
	int n = next_serial();
	iso_in(exp, sizeof exp, srv.exp_in);
	snprintf(body, sizeof body,
		 "{\"AccessKeyId\":\"ASIACONT%d\",\"SecretAccessKey\":\"cont-secret\",\"Token\":"
		 "\"cont-token\",\"Expiration\":\"%s\",\"RoleArn\":\"arn:aws:iam::1:role/t\"}", n, exp);
	reply(c, 200, body);
}

static void serve_sts(int c, const char *body)
{
	char out[1024], exp[32];
	if (strstr(body, "Action=GetCallerIdentity")) {
		reply(c, 200, "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/"
			      "2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:"
			      "user/alice</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012"
			      "</Account></GetCallerIdentityResult></GetCallerIdentityResponse>");
		return;
	}
	if (strstr(body, "denied")) {
		reply(c, 403, "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
			      "<Message>not allowed to assume</Message></Error></ErrorResponse>");
		return;
	}
	int n = next_serial();
	iso_in(exp, sizeof exp, srv.exp_in);
	snprintf(out, sizeof out,
		 "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAROLE%d"
		 "</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey><SessionToken>"
		 "role-token</SessionToken><Expiration>%s</Expiration></Credentials>"
		 "</AssumeRoleResult></AssumeRoleResponse>", n, exp);
	reply(c, 200, out);
}

/* Reads one request (head and Content-Length body) into b. */
static bool read_request(int c, struct buf *b)
{
	char chunk[4096];
	for (;;) {
		char *end = strstr(b->ptr, "\r\n\r\n");
		if (end) {
			char cl[32];
			size_t want = header(b->ptr, "content-length", cl, sizeof cl) ?
					      (size_t)atol(cl) : 0;
			if (b->len >= (size_t)(end + 4 - b->ptr) + want)
				return true;
		}
		struct pollfd p = { c, POLLIN, 0 };
		if (poll(&p, 1, 2000) <= 0)
			return false;
		ssize_t r = read(c, chunk, sizeof chunk);
		if (r <= 0 || b->len > 65536)
			return false;
		buf_add(b, chunk, (size_t)r);
	}
}

static void serve_one(int c)
{
	struct buf b = BUF_INIT;
	char method[8], path[256], auth[256];
	if (!read_request(c, &b) || sscanf(b.ptr, "%7s %255s", method, path) != 2) {
		buf_release(&b);
		return;
	}
	const char *body = strstr(b.ptr, "\r\n\r\n") + 4;
	pthread_mutex_lock(&srv.mu);
	buf_addf(&srv.log, "%s %s", method, path);
	if (header(b.ptr, "x-aws-ec2-metadata-token", auth, sizeof auth))
		buf_addf(&srv.log, " token=%s", auth);
	if (header(b.ptr, "x-aws-ec2-metadata-token-ttl-seconds", auth, sizeof auth))
		buf_addf(&srv.log, " ttl=%s", auth);
	if (header(b.ptr, "authorization", auth, sizeof auth))
		buf_addf(&srv.log, " auth=%s", auth);
	if (header(b.ptr, "x-amz-security-token", auth, sizeof auth))
		buf_addf(&srv.log, " sectoken=%s", auth);
	buf_addf(&srv.log, " body=%s\n", body);
	pthread_mutex_unlock(&srv.mu);
	if (!strncmp(path, "/latest/", 8))
		serve_imds(c, method, path, b.ptr);
	else if (!strcmp(path, "/creds"))
		serve_container(c, b.ptr);
	else if (!strcmp(method, "POST") && !strcmp(path, "/"))
		serve_sts(c, body);
	else
		reply(c, 404, "");
	buf_release(&b);
}

static void *srv_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&srv.stop)) {
		struct pollfd p = { srv.fd, POLLIN, 0 };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept(srv.fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(c);
		close(c);
	}
	return NULL;
}

static int listen_loopback(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static int srv_setup(void **state)
{
	fx_setup(state);
	memset(&srv, 0, sizeof srv);
	pthread_mutex_init(&srv.mu, NULL);
	buf_init(&srv.log);
	srv.token_status = srv.meta_status = srv.creds_status = 200;
	srv.exp_in = 6 * 3600;
	srv.fd = listen_loopback(&srv.port);
	atomic_init(&srv.stop, false);
	assert_int_equal(pthread_create(&srv.th, NULL, srv_main, NULL), 0);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", srv.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	setenv("AWS_ENDPOINT_URL_STS", url, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	return 0;
}

static int srv_teardown(void **state)
{
	atomic_store(&srv.stop, true);
	pthread_join(srv.th, NULL);
	close(srv.fd);
	buf_release(&srv.log);
	pthread_mutex_destroy(&srv.mu);
	return fx_teardown(state);
}

/* The log so far (a copy), and forgets it. */
static char *srv_log_take(void)
{
	pthread_mutex_lock(&srv.mu);
	char *s = buf_detach(&srv.log, NULL);
	pthread_mutex_unlock(&srv.mu);
	return s;
}

static size_t count(const char *s, const char *part)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, part)); p++)
		n++;
	return n;
}

static void get_ok(struct aws_ctx *ctx, const char *ak, const char *source)
{
	struct aws_creds cr;
	struct err e = ERR_INIT;
	enum err_code rc = aws_creds_get(ctx, &cr, &e);
	if (rc)
		fail_msg("aws_creds_get: %s", e.msg);
	assert_string_equal(cr.access_key, ak);
	assert_string_equal(cr.source, source);
	aws_creds_release(&cr);
}

static void test_imds_v2(void **state)
{
	(void)state;
	unsetenv("AWS_EC2_METADATA_DISABLED");
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	struct aws_creds cr;
	struct err e = ERR_INIT;
	assert_int_equal(aws_creds_get(ctx, &cr, &e), ERR_OK);
	check_creds(&cr, "imds", "ASIAIMDS1", "imds-secret", "imds-token", cr.expires);
	assert_true(cr.expires > time(NULL) + 6 * 3600 - 60);
	aws_creds_release(&cr);
	char *log = srv_log_take();
	assert_has(log, "PUT /latest/api/token ttl=21600 body=\n"
			"GET /latest/meta-data/iam/security-credentials/ token=TESTTOKEN body=\n"
			"GET /latest/meta-data/iam/security-credentials/test-role token=TESTTOKEN");
	assert_int_equal(count(log, "\n"), 3);
	free(log);
	get_ok(ctx, "ASIAIMDS1", "imds"); /* six hours left: cached */
	log = srv_log_take();
	assert_string_equal(log, "");
	free(log);
	char src[48];
	time_t exp = 0;
	assert_int_equal(aws_creds_describe(ctx, src, sizeof src, &exp, &e), ERR_OK);
	assert_string_equal(src, "imds");
	assert_true(exp > time(NULL));
	aws_creds_invalidate(ctx);
	get_ok(ctx, "ASIAIMDS2", "imds");
	aws_ctx_free(ctx);
}

static void test_imds_refresh(void **state)
{
	(void)state;
	unsetenv("AWS_EC2_METADATA_DISABLED");
	srv.exp_in = 120; /* inside the 15-minute advisory window */
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	get_ok(ctx, "ASIAIMDS1", "imds");
	get_ok(ctx, "ASIAIMDS2", "imds");
	char *log = srv_log_take();
	assert_int_equal(count(log, "PUT /latest/api/token"), 2);
	free(log);
	/* 12 minutes left and IMDS failing: the old ones are still good */
	srv.exp_in = 12 * 60;
	aws_creds_invalidate(ctx);
	get_ok(ctx, "ASIAIMDS3", "imds");
	srv.meta_status = 500;
	get_ok(ctx, "ASIAIMDS3", "imds");
	/* 5 minutes left and IMDS failing: past the mandatory window */
	srv.meta_status = 200;
	srv.exp_in = 5 * 60;
	aws_creds_invalidate(ctx);
	get_ok(ctx, "ASIAIMDS4", "imds");
	srv.meta_status = 500;
	struct aws_creds cr;
	struct err e = ERR_INIT;
	assert_int_equal(aws_creds_get(ctx, &cr, &e), ERR_AUTH);
	assert_has(e.msg, "instance metadata (unexpected HTTP status)");
	aws_ctx_free(ctx);
}

static void *get_many(void *arg)
{
	struct aws_ctx *ctx = arg;
	for (int i = 0; i < 20; i++) {
		struct aws_creds cr;
		struct err e = ERR_INIT;
		if (aws_creds_get(ctx, &cr, &e) || strcmp(cr.access_key, "ASIAIMDS1"))
			return (void *)1;
		aws_creds_release(&cr);
	}
	return NULL;
}

/* Threads asking at once share one resolution (refresh_lock). */
static void test_creds_threads(void **state)
{
	(void)state;
	unsetenv("AWS_EC2_METADATA_DISABLED");
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	pthread_t th[8];
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, get_many, ctx), 0);
	for (size_t i = 0; i < 8; i++) {
		void *r;
		pthread_join(th[i], &r);
		assert_null(r);
	}
	char *log = srv_log_take();
	assert_int_equal(count(log, "PUT /latest/api/token"), 1);
	free(log);
	aws_ctx_free(ctx);
}

static void test_imds_v1_fallback(void **state)
{
	(void)state;
	unsetenv("AWS_EC2_METADATA_DISABLED");
	srv.token_status = 403;
	srv.v1_ok = true;
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	get_ok(ctx, "ASIAIMDS1", "imds");
	char *log = srv_log_take();
	assert_has(log, "GET /latest/meta-data/iam/security-credentials/test-role body=");
	assert_lacks(log, "token=");
	free(log);
	aws_ctx_free(ctx);
}

static void expect_imds_none(const char *why)
{
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	struct aws_creds cr;
	struct err e = ERR_INIT;
	assert_int_equal(aws_creds_get(ctx, &cr, &e), ERR_AUTH);
	assert_has(e.msg, "no AWS credentials: tried ");
	assert_has(e.msg, why);
	aws_ctx_free(ctx);
}

static void test_imds_refusals(void **state)
{
	(void)state;
	unsetenv("AWS_EC2_METADATA_DISABLED");
	/* IMDSv2-only instance, token refused: the tokenless GET gets 401 */
	srv.token_status = 403;
	expect_imds_none("instance metadata (token refused)");
	char *log = srv_log_take();
	assert_has(log, "GET /latest/meta-data/iam/security-credentials/ body=");
	free(log);
	/* IMDSv1 forbidden by the user: no tokenless request at all */
	setenv("AWS_EC2_METADATA_V1_DISABLED", "true", 1);
	srv.v1_ok = true;
	expect_imds_none("instance metadata (no token, and IMDSv1 is disabled)");
	log = srv_log_take();
	assert_int_equal(count(log, "GET "), 0);
	free(log);
	unsetenv("AWS_EC2_METADATA_V1_DISABLED");
	srv.token_status = 400;
	expect_imds_none("instance metadata (the token request failed)");
	/* nothing listening */
	int port, fd = listen_loopback(&port);
	close(fd);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	expect_imds_none("instance metadata (unreachable)");
}

static void test_imds_region(void **state)
{
	(void)state;
	unsetenv("AWS_EC2_METADATA_DISABLED");
	unsetenv("AWS_REGION");
	unsetenv("AWS_ENDPOINT_URL_STS");
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	char *log = srv_log_take();
	assert_string_equal(log, ""); /* lazily: not at aws_ctx_new */
	free(log);
	assert_string_equal(aws_ctx_region(ctx), "eu-west-3");
	assert_string_equal(aws_ctx_region(ctx), "eu-west-3");
	struct buf url = BUF_INIT;
	struct err e = ERR_INIT;
	assert_int_equal(aws_endpoint_for(ctx, "SSM", NULL, &url, NULL, &e), ERR_OK);
	assert_string_equal(url.ptr, "https://ssm.eu-west-3.amazonaws.com");
	buf_release(&url);
	log = srv_log_take();
	assert_int_equal(count(log, "GET /latest/meta-data/placement/region token=TESTTOKEN"), 1);
	free(log);
	aws_ctx_free(ctx);
	/* a configured region never asks */
	write_file("config", "[default]\nregion = eu-north-1\n");
	ctx = ctx_open(NULL, NULL);
	assert_string_equal(aws_ctx_region(ctx), "eu-north-1");
	aws_ctx_free(ctx);
	log = srv_log_take();
	assert_string_equal(log, "");
	free(log);
}

static void container_env(const char *host)
{
	char url[96];
	snprintf(url, sizeof url, "http://%s:%d/creds", host, srv.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
}

static void test_container(void **state)
{
	(void)state;
	container_env("127.0.0.1");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer env-tok", 1);
	srv.want_auth = "Bearer env-tok";
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	get_ok(ctx, "ASIACONT1", "container");
	aws_ctx_free(ctx);
	/* the token file wins over the variable */
	write_file("token", "file-tok");
	env_set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=@DIR@/token");
	srv.want_auth = "file-tok";
	container_env("localhost");
	ctx = ctx_open(NULL, NULL);
	get_ok(ctx, "ASIACONT2", "container");
	/* expiring within the window: refreshed on the next call */
	srv.exp_in = 120;
	aws_creds_invalidate(ctx);
	get_ok(ctx, "ASIACONT3", "container");
	get_ok(ctx, "ASIACONT4", "container");
	aws_ctx_free(ctx);
	char *log = srv_log_take();
	assert_has(log, "GET /creds auth=file-tok");
	free(log);
}

static void test_container_failures(void **state)
{
	(void)state;
	container_env("127.0.0.1");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-tok", 1);
	srv.want_auth = "right-tok";
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	struct aws_creds cr;
	struct err e = ERR_INIT;
	uint64_t t0 = time_mono_ns();
	assert_int_equal(aws_creds_get(ctx, &cr, &e), ERR_AUTH);
	assert_has(e.msg, "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI): HTTP 401");
	assert_lacks(e.msg, "wrong-tok");
	assert_true(time_ms_between(t0, time_mono_ns()) >= 1900); /* 3 attempts, 1 s apart */
	char *log = srv_log_take();
	assert_int_equal(count(log, "GET /creds"), 3);
	free(log);
	aws_ctx_free(ctx);
}

static void test_assume_role(void **state)
{
	(void)state;
	write_file("config", "[default]\nrole_arn = arn:aws:iam::123456789012:role/deploy\n"
			     "source_profile = base\nrole_session_name = dba\nexternal_id = ext-1\n"
			     "duration_seconds = 1800\n");
	write_file("credentials", role_base);
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	struct aws_creds cr;
	struct err e = ERR_INIT;
	assert_int_equal(aws_creds_get(ctx, &cr, &e), ERR_OK);
	check_creds(&cr, "assume-role", "ASIAROLE1", "role-secret", "role-token", cr.expires);
	assert_true(cr.expires > time(NULL) + 5 * 3600);
	aws_creds_release(&cr);
	char *log = srv_log_take();
	assert_has(log, "POST / auth=AWS4-HMAC-SHA256 Credential=AKIABASE/");
	assert_has(log, "/us-east-1/sts/aws4_request");
	assert_has(log, "body=Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
			"123456789012%3Arole%2Fdeploy&RoleSessionName=dba&DurationSeconds=1800"
			"&ExternalId=ext-1");
	assert_lacks(log, "sectoken=");
	free(log);
	aws_ctx_free(ctx);
}

/* c assumes with b's role, which assumes with a's static keys; a may name
 * itself as its source to use its own keys. */
static void test_assume_role_chain(void **state)
{
	(void)state;
	write_file("config", "[profile c]\nrole_arn = arn:aws:iam::1:role/c\nsource_profile = b\n"
			     "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
			     "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = a\n");
	write_file("credentials", "[a]\naws_access_key_id = AKIAA\naws_secret_access_key = a-s\n");
	setenv("AWS_PROFILE", "c", 1);
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	get_ok(ctx, "ASIAROLE2", "assume-role");
	char *log = srv_log_take();
	const char *first = strstr(log, "Credential=AKIAA/");
	const char *second = strstr(log, "Credential=ASIAROLE1/");
	assert_non_null(first);
	assert_non_null(second);
	assert_true(first < second);
	assert_has(first, "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fb&RoleSessionName=tarmac-session-");
	assert_has(second, "sectoken=role-token");
	assert_has(second, "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fc");
	free(log);
	aws_ctx_free(ctx);
	/* a's own role, assumed with its own keys */
	ctx = ctx_open("a", NULL);
	get_ok(ctx, "ASIAROLE3", "assume-role");
	log = srv_log_take();
	assert_has(log, "Credential=AKIAA/");
	assert_has(log, "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa&");
	assert_int_equal(count(log, "POST /"), 1);
	free(log);
	aws_ctx_free(ctx);
}

static void test_assume_role_sources(void **state)
{
	(void)state;
	/* the environment as credential_source, with env keys dropped from the
	 * chain itself because the options chose the profile */
	write_file("config", "[profile envrole]\nrole_arn = arn:aws:iam::1:role/e\n"
			     "credential_source = Environment\n"
			     "[profile denied]\nrole_arn = arn:aws:iam::1:role/denied\n"
			     "source_profile = base\n");
	write_file("credentials", role_base);
	env_set("AWS_ACCESS_KEY_ID=AKIAENV");
	env_set("AWS_SECRET_ACCESS_KEY=env-secret");
	struct aws_ctx *ctx = ctx_open("envrole", NULL);
	get_ok(ctx, "ASIAROLE1", "assume-role");
	aws_ctx_free(ctx);
	char *log = srv_log_take();
	assert_has(log, "Credential=AKIAENV/");
	free(log);
	ctx = ctx_open("denied", NULL);
	struct aws_creds cr;
	struct err e = ERR_INIT;
	assert_int_equal(aws_creds_get(ctx, &cr, &e), ERR_AUTH);
	assert_has(e.msg, "assuming the role of profile denied: ");
	assert_has(e.msg, "AccessDenied");
	assert_lacks(e.msg, "base-secret");
	aws_ctx_free(ctx);
}

static void test_caller_identity(void **state)
{
	(void)state;
	env_set("AWS_ACCESS_KEY_ID=AKIAENV");
	env_set("AWS_SECRET_ACCESS_KEY=env-secret");
	struct aws_ctx *ctx = ctx_open(NULL, NULL);
	struct aws_identity id;
	struct err e = ERR_INIT;
	enum err_code rc = aws_sts_get_caller_identity(ctx, &id, &e);
	if (rc)
		fail_msg("%s", e.msg);
	assert_string_equal(id.account, "123456789012");
	assert_string_equal(id.arn, "arn:aws:iam::123456789012:user/alice");
	assert_string_equal(id.user_id, "AIDAEXAMPLE");
	aws_identity_release(&id);
	aws_identity_release(&id); /* released twice is harmless */
	char *log = srv_log_take();
	assert_has(log, "body=Action=GetCallerIdentity&Version=2011-06-15\n");
	free(log);
	aws_ctx_free(ctx);
}

/* ---- STS answers and ISO 8601 ------------------------------------------------------------ */

struct sts_case {
	const char *name;
	bool identity;
	const char *xml;
	enum err_code rc;
	const char *want;     /* "ak|sk|token|expires" or "account|arn|user" */
};

static const struct sts_case sts_cases[] = {
	{ "sts/assume_role", false,
	  "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
	  "  <AssumeRoleResult>\n    <Credentials>\n      <AccessKeyId>ASIAX</AccessKeyId>\n"
	  "      <SecretAccessKey>sec/+=</SecretAccessKey>\n      <SessionToken>tok&amp;en"
	  "</SessionToken>\n      <Expiration>2024-05-17T09:09:10Z</Expiration>\n"
	  "    </Credentials>\n    <AssumedRoleUser><Arn>a</Arn></AssumedRoleUser>\n"
	  "  </AssumeRoleResult>\n</AssumeRoleResponse>", 0, "ASIAX|sec/+=|tok&en|1715936950" },
	{ "sts/assume_role_missing_token", false,
	  "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
	  "<SecretAccessKey>s</SecretAccessKey><Expiration>2024-05-17T09:09:10Z</Expiration>"
	  "</Credentials></AssumeRoleResult></AssumeRoleResponse>", ERR_PARSE, "lacks part" },
	{ "sts/assume_role_bad_expiration", false,
	  "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
	  "<SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>soon"
	  "</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>", ERR_PARSE,
	  "Expiration is not" },
	{ "sts/assume_role_elsewhere_ignored", false,
	  "<AssumeRoleResponse><Other><Credentials><AccessKeyId>A</AccessKeyId></Credentials>"
	  "</Other></AssumeRoleResponse>", ERR_PARSE, "lacks part" },
	{ "sts/not_xml", false, "{\"json\": true}", ERR_PARSE, "XML" },
	{ "sts/doctype_refused", false,
	  "<!DOCTYPE x [<!ENTITY a \"b\">]><AssumeRoleResponse/>", ERR_PARSE, "" },
	{ "sts/identity", true,
	  "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::1:assumed-role/r/s"
	  "</Arn><UserId>AROA:s</UserId><Account>000000000001</Account></GetCallerIdentityResult>"
	  "<ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>"
	  "</GetCallerIdentityResponse>", 0, "000000000001|arn:aws:sts::1:assumed-role/r/s|AROA:s" },
	{ "sts/identity_without_user", true,
	  "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>a</Arn><Account>1</Account>"
	  "</GetCallerIdentityResult></GetCallerIdentityResponse>", 0, "1|a|" },
	{ "sts/identity_without_account", true,
	  "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>a</Arn>"
	  "</GetCallerIdentityResult></GetCallerIdentityResponse>", ERR_PARSE, "no Account or Arn" },
};

static void run_sts_case(void **state)
{
	const struct sts_case *c = *state;
	struct err e = ERR_INIT;
	struct buf got = BUF_INIT;
	enum err_code rc;
	if (c->identity) {
		struct aws_identity id;
		rc = aws_sts_identity_parse(c->xml, strlen(c->xml), &id, &e);
		if (!rc)
			buf_addf(&got, "%s|%s|%s", id.account, id.arn, id.user_id);
		else
			assert_null(id.account);
		aws_identity_release(&id);
	} else {
		struct aws_creds cr;
		rc = aws_sts_credentials_parse(c->xml, strlen(c->xml), &cr, &e);
		if (!rc) {
			assert_string_equal(cr.source, "assume-role");
			buf_addf(&got, "%s|%s|%s|%lld", cr.access_key, cr.secret_key,
				 cr.session_token, (long long)cr.expires);
		} else {
			assert_null(cr.access_key);
		}
		aws_creds_release(&cr);
	}
	assert_int_equal(rc, c->rc);
	if (rc)
		assert_has(e.msg, c->want);
	else
		assert_string_equal(got.ptr, c->want);
	buf_release(&got);
}

struct iso_case {
	const char *name, *text;
	bool ok;
	long long want;
};

static const struct iso_case iso_cases[] = {
	{ "iso8601/zulu", "2024-05-17T09:09:10Z", true, 1715936950 },
	{ "iso8601/fraction", "2024-05-17T09:09:10.123456Z", true, 1715936950 },
	{ "iso8601/plus_offset", "2024-05-17T11:09:10+02:00", true, 1715936950 },
	{ "iso8601/minus_offset_no_colon", "2024-05-17T04:09:10-0500", true, 1715936950 },
	{ "iso8601/space_no_zone", "2024-05-17 09:09:10", true, 1715936950 },
	{ "iso8601/lower_t_z", "2024-05-17t09:09:10z", true, 1715936950 },
	{ "iso8601/far_future", "2099-01-01T00:00:00Z", true, 4070908800LL },
	{ "iso8601/epoch", "1970-01-01T00:00:00Z", true, 0 },
	{ "iso8601/before_epoch", "1969-12-31T23:59:59Z", true, -1 },
	{ "iso8601/leap_day", "2024-02-29T00:00:00Z", true, 1709164800 },
	{ "iso8601/leap_second", "2016-12-31T23:59:60Z", true, 1483228799 },
	{ "iso8601/not_leap_year", "2023-02-29T00:00:00Z", false, 0 },
	{ "iso8601/century_not_leap", "2100-02-29T00:00:00Z", false, 0 },
	{ "iso8601/month_13", "2024-13-01T00:00:00Z", false, 0 },
	{ "iso8601/day_31_in_april", "2024-04-31T00:00:00Z", false, 0 },
	{ "iso8601/hour_24", "2024-05-17T24:00:00Z", false, 0 },
	{ "iso8601/date_only", "2024-05-17", false, 0 },
	{ "iso8601/trailing_junk", "2024-05-17T09:09:10Zjunk", false, 0 },
	{ "iso8601/empty", "", false, 0 },
	{ "iso8601/epoch_number", "1715936950", false, 0 },
};

static void run_iso_case(void **state)
{
	const struct iso_case *c = *state;
	time_t t = 12345;
	struct err e = ERR_INIT;
	enum err_code rc = aws_iso8601_parse(c->text, &t, &e);
	if (c->ok) {
		if (rc)
			fail_msg("%s", e.msg);
		assert_int_equal((long long)t, c->want);
	} else {
		assert_int_equal(rc, ERR_PARSE);
		assert_int_equal(t, 12345);
		assert_has(e.msg, "is not an ISO 8601 time");
	}
}

/* ---- main -------------------------------------------------------------------------------- */

#define ADD_ROWS(tests, n, table, fn)                                                    \
	for (size_t i_ = 0; i_ < sizeof(table) / sizeof((table)[0]); i_++)               \
		tests[n++] = (struct CMUnitTest){ (table)[i_].name, fn, fx_setup, fx_teardown, \
						  (void *)(uintptr_t)&(table)[i_] }

#define FIXED(fn) { #fn, fn, fx_setup, fx_teardown, NULL }
#define SERVED(fn) { #fn, fn, srv_setup, srv_teardown, NULL }

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		FIXED(test_parse_nul_and_lookup),
		FIXED(test_ctx_bad_file),
		FIXED(test_container_uri_allowed),
		FIXED(test_process_cache_and_refresh),
		FIXED(test_process_timeout),
		SERVED(test_imds_v2),
		SERVED(test_imds_refresh),
		SERVED(test_creds_threads),
		SERVED(test_imds_v1_fallback),
		SERVED(test_imds_refusals),
		SERVED(test_imds_region),
		SERVED(test_container),
		SERVED(test_container_failures),
		SERVED(test_assume_role),
		SERVED(test_assume_role_chain),
		SERVED(test_assume_role_sources),
		SERVED(test_caller_identity),
	};
	size_t max = sizeof fixed / sizeof *fixed + sizeof parse_cases / sizeof *parse_cases +
		     sizeof sel_cases / sizeof *sel_cases + sizeof ep_cases / sizeof *ep_cases +
		     sizeof chain_cases / sizeof *chain_cases + sizeof proc_cases / sizeof *proc_cases +
		     sizeof sts_cases / sizeof *sts_cases + sizeof iso_cases / sizeof *iso_cases;
	struct CMUnitTest *tests = calloc(max, sizeof *tests);
	size_t n = 0;
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		tests[n++] = fixed[i];
	ADD_ROWS(tests, n, parse_cases, run_parse_case);
	ADD_ROWS(tests, n, sel_cases, run_sel_case);
	ADD_ROWS(tests, n, ep_cases, run_ep_case);
	ADD_ROWS(tests, n, chain_cases, run_chain_case);
	ADD_ROWS(tests, n, proc_cases, run_proc_case);
	ADD_ROWS(tests, n, sts_cases, run_sts_case);
	ADD_ROWS(tests, n, iso_cases, run_iso_case);
	int failed = _cmocka_run_group_tests("aws_creds", tests, n, NULL, NULL);
	free(tests);
	return failed;
}
