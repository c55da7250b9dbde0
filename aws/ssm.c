/*
 * ssm — Run Command over awsJson1.1 (spec/aws.md §4): send a script to one
 * instance or a tag target, follow one invocation, list recent commands and
 * their per-instance invocations, check the agent, cancel.
 *
 * Invariants: request bodies are built with cJSON (every string escaped)
 * and checked here first, so the limits AWS would refuse anyway (Comment
 * ≤ 100 characters, TimeoutSeconds 30..2592000, the MaxConcurrency and
 * MaxErrors forms) come back as ERR_USAGE naming the rule, with nothing
 * sent. Parsers see only the body text (tests and fuzzers call them
 * directly), copy members through one field table per shape, fill their
 * output only on success and leave it empty otherwise. String members are
 * never NULL; epoch-second timestamps become ISO 8601 UTC text.
 * GetCommandInvocation's InvocationDoesNotExist means the command has not
 * reached the instance yet: that is status "Pending", not an error.
 */
#include <cJSON.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/internal.h"

#define COMMENT_MAX 100         /* characters, as AWS counts them (UTF-16) */
#define TIMEOUT_MIN 30
#define TIMEOUT_MAX 2592000
#define LOG_GROUP_MAX 512
#define PAGE_SIZE 50            /* ListCommands / ListCommandInvocations max */
#define PAGES_MAX 1000          /* a server that never stops paging is broken */
#define LIST_DEFAULT 50

/* ---- JSON members through field tables ---------------------------------- */

enum jkind { J_STR, J_TIME, J_I64, J_INT };

struct jfield {
	const char *name;
	enum jkind kind;
	size_t off;
};

static void *must(void *p)
{
	if (!p) {
		if (buf_oom_hook)
			buf_oom_hook();
		abort();
	}
	return p;
}

static cJSON *json_parse(const char *body, size_t len, const char *op, struct err *e)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (root && end)
		while (end < body + len && isspace((unsigned char)*end))
			end++;
	if (!root || !cJSON_IsObject(root) || !end || end != body + len) {
		cJSON_Delete(root);
		err_set(e, ERR_PARSE, "SSM %s: the response is not a JSON object", op);
		return NULL;
	}
	return root;
}

/* Epoch seconds (AWS sends fractions) as ISO 8601, whole seconds. */
static bool epoch_iso(double t, char **out)
{
	if (!(t >= 0 && t < 253402300800.0)) /* also rejects NaN */
		return false;
	time_t s = (time_t)t;
	struct tm tm;
	char text[32];
	if (!gmtime_r(&s, &tm) || !strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return false;
	*out = xstrdup(text);
	return true;
}

static bool json_integer(const cJSON *v, double lo, double hi, double *out)
{
	if (!cJSON_IsNumber(v))
		return false;
	double d = v->valuedouble;
	if (!(d >= lo && d <= hi) || d != floor(d))
		return false;
	*out = d;
	return true;
}

static bool field_get(const cJSON *v, const struct jfield *f, char *dst)
{
	double d;
	bool absent = !v || cJSON_IsNull(v);
	switch (f->kind) {
	case J_STR:
	case J_TIME:
		if (absent || cJSON_IsString(v)) {
			*(char **)(void *)(dst + f->off) = xstrdup(absent ? "" : v->valuestring);
			return true;
		}
		return f->kind == J_TIME && cJSON_IsNumber(v)
		       && epoch_iso(v->valuedouble, (char **)(void *)(dst + f->off));
	case J_I64:
		if (absent)
			return true;
		if (!json_integer(v, -9007199254740992.0, 9007199254740992.0, &d))
			return false;
		*(int64_t *)(void *)(dst + f->off) = (int64_t)d;
		return true;
	case J_INT:
		if (absent)
			return true;
		if (!json_integer(v, INT_MIN, INT_MAX, &d))
			return false;
		*(int *)(void *)(dst + f->off) = (int)d;
		return true;
	}
	return false;
}

/* Copies every field of the table from obj into the struct at dst. */
static enum err_code fields_get(const cJSON *obj, const struct jfield *f, size_t n, void *dst,
				const char *op, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, f[i].name);
		if (!field_get(v, &f[i], dst))
			return err_set(e, ERR_PARSE, "SSM %s: %s is not a valid %s", op, f[i].name,
				       f[i].kind == J_STR ? "string" :
				       f[i].kind == J_TIME ? "time" : "integer");
	}
	return ERR_OK;
}

static enum err_code next_token_get(const cJSON *root, char **next_token, const char *op,
				    struct err *e)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "NextToken");
	*next_token = NULL;
	if (!t || cJSON_IsNull(t))
		return ERR_OK;
	if (!cJSON_IsString(t))
		return err_set(e, ERR_PARSE, "SSM %s: NextToken is not a string", op);
	if (*t->valuestring)
		*next_token = xstrdup(t->valuestring);
	return ERR_OK;
}

/* The array member `name` (absent: empty); anything else is ERR_PARSE. */
static enum err_code array_get(const cJSON *root, const char *name, const cJSON **out,
			       const char *op, struct err *e)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, name);
	*out = NULL;
	if (!a || cJSON_IsNull(a))
		return ERR_OK;
	if (!cJSON_IsArray(a))
		return err_set(e, ERR_PARSE, "SSM %s: %s is not a list", op, name);
	*out = a;
	return ERR_OK;
}

/* ---- public helpers ----------------------------------------------------- */

/* ASCII only, whatever the locale the console set: AWS's patterns are. */
static bool ascii_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char *aws_ssm_log_group(const char *document, const char *log_group)
{
	if (log_group && *log_group)
		return xstrdup(log_group);
	struct buf b = BUF_INIT;
	buf_adds(&b, "/aws/ssm/");
	for (const char *p = document ? document : ""; *p; p++)
		buf_addc(&b, ascii_alnum(*p) || strchr("_-/.#", *p) ? *p : '.');
	return buf_detach(&b, NULL);
}

char *aws_ssm_log_stream(const char *command_id, const char *instance_id, const char *plugin,
			 const char *which)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s/%s/", command_id, instance_id);
	for (const char *p = plugin; *p; p++)
		buf_addc(&b, *p == ':' || *p == '*' ? '-' : *p);
	buf_addf(&b, "/%s", which);
	return buf_detach(&b, NULL);
}

bool aws_ssm_status_final(const char *status)
{
	static const char *const done[] = { "Success", "Failed", "Cancelled", "TimedOut" };
	for (size_t i = 0; status && i < sizeof done / sizeof done[0]; i++)
		if (!strcmp(status, done[i]))
			return true;
	return false;
}

/* ---- release ------------------------------------------------------------ */

void aws_ssm_command_release(struct aws_ssm_command *c)
{
	free(c->command_id);
	free(c->status);
	free(c->comment);
	free(c->document);
	free(c->requested);
	free(c->instance_id);
}

void aws_ssm_command_free(void *p)
{
	if (p)
		aws_ssm_command_release(p);
	free(p);
}

void aws_ssm_invocation_release(struct aws_ssm_invocation *i)
{
	if (!i)
		return;
	free(i->status);
	free(i->status_details);
	free(i->stdout_text);
	free(i->stderr_text);
	free(i->start);
	free(i->end);
	free(i->log_group);
	memset(i, 0, sizeof *i);
	i->response_code = -1;
}

void aws_ssm_instance_release(struct aws_ssm_instance *i)
{
	if (!i)
		return;
	free(i->instance_id);
	free(i->ping_status);
	free(i->agent_version);
	free(i->platform);
	free(i->last_ping);
	memset(i, 0, sizeof *i);
}

/* ---- SendCommand body --------------------------------------------------- */

/* Length as AWS counts it: UTF-16 code units (4-byte UTF-8 sequences are
 * surrogate pairs). */
static size_t utf16_len(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xC0) != 0x80)
			n++;
		if (*p >= 0xF0)
			n++;
	}
	return n;
}

/* MaxConcurrency ^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$ and MaxErrors,
 * which also allows 0 and 0%; at most 7 characters. */
static bool rate_ok(const char *s, bool zero_ok)
{
	size_t n = strlen(s);
	bool pct = n && s[n - 1] == '%';
	size_t digits = pct ? n - 1 : n;
	if (!digits || n > 7 || strspn(s, "0123456789") != digits)
		return false;
	if (s[0] == '0')
		return zero_ok && digits == 1;
	return !pct || digits < 3 || !strcmp(s, "100%");
}

static bool name_ok(const char *s, const char *extra, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return false;
	for (; *s; s++)
		if (!ascii_alnum(*s) && !strchr(extra, *s))
			return false;
	return true;
}

static enum err_code send_check_target(const struct aws_ssm_send *r, struct err *e)
{
	bool inst = r->instance_id && *r->instance_id;
	bool tag = r->target_key && *r->target_key;
	if (inst == tag)
		return err_set(e, ERR_USAGE, "SSM SendCommand: give either an instance id or a "
			       "target (like tag:Role=flyway-host), %s",
			       inst ? "not both" : "none was set");
	if (tag && !(r->target_value && *r->target_value))
		return err_set(e, ERR_USAGE, "SSM SendCommand: target %s has no value "
			       "(write %s=VALUE)", r->target_key, r->target_key);
	return ERR_OK;
}

static enum err_code send_check(const struct aws_ssm_send *r, struct err *e)
{
	if (!r->document || !name_ok(r->document, "_-.:/", 3, 128))
		return err_set(e, ERR_USAGE, "SSM SendCommand: document name \"%s\" is not 3 to "
			       "128 of A-Z a-z 0-9 _ - . : /", r->document ? r->document : "");
	enum err_code c = send_check_target(r, e);
	if (c)
		return c;
	if (!r->ncommands || !r->commands || r->ncommands > INT_MAX)
		return err_set(e, ERR_USAGE, "SSM SendCommand: there are no commands to send");
	for (size_t i = 0; i < r->ncommands; i++)
		if (!r->commands[i])
			return err_set(e, ERR_USAGE, "SSM SendCommand: command line %zu is missing", i + 1);
	if (r->comment && utf16_len(r->comment) > COMMENT_MAX)
		return err_set(e, ERR_USAGE, "SSM SendCommand: the comment has %zu characters; "
			       "SSM allows at most %d", utf16_len(r->comment), COMMENT_MAX);
	if (r->timeout_s && (r->timeout_s < TIMEOUT_MIN || r->timeout_s > TIMEOUT_MAX))
		return err_set(e, ERR_USAGE, "SSM SendCommand: timeout %d s is outside %d..%d s",
			       r->timeout_s, TIMEOUT_MIN, TIMEOUT_MAX);
	if (r->max_concurrency && !rate_ok(r->max_concurrency, false))
		return err_set(e, ERR_USAGE, "SSM SendCommand: max concurrency \"%s\" is not a "
			       "count (1, 10) or a percentage (1%% to 100%%)", r->max_concurrency);
	if (r->max_errors && !rate_ok(r->max_errors, true))
		return err_set(e, ERR_USAGE, "SSM SendCommand: max errors \"%s\" is not a count "
			       "(0, 1, 10) or a percentage (0%% to 100%%)", r->max_errors);
	if (r->log_group && !name_ok(r->log_group, "._-/#", 1, LOG_GROUP_MAX))
		return err_set(e, ERR_USAGE, "SSM SendCommand: log group \"%s\" is not 1 to %d "
			       "of A-Z a-z 0-9 . _ - / #", r->log_group, LOG_GROUP_MAX);
	return ERR_OK;
}

static void json_to_buf(cJSON *root, struct buf *out)
{
	char *text = must(cJSON_PrintUnformatted(root));
	buf_adds(out, text);
	cJSON_free(text);
	cJSON_Delete(root);
}

static cJSON *str_array(const char *const *s, size_t n)
{
	return must(cJSON_CreateStringArray(s, (int)n));
}

static void send_add_target(cJSON *root, const struct aws_ssm_send *r)
{
	if (r->instance_id && *r->instance_id) {
		cJSON_AddItemToObject(root, "InstanceIds", str_array(&r->instance_id, 1));
		return;
	}
	cJSON *t = must(cJSON_CreateObject());
	cJSON_AddStringToObject(t, "Key", r->target_key);
	cJSON_AddItemToObject(t, "Values", str_array(&r->target_value, 1));
	cJSON *targets = must(cJSON_AddArrayToObject(root, "Targets"));
	cJSON_AddItemToArray(targets, t);
}

enum err_code aws_ssm_send_body_build(const struct aws_ssm_send *r, struct buf *out,
				      struct err *e)
{
	enum err_code c = send_check(r, e);
	if (c)
		return c;
	cJSON *root = must(cJSON_CreateObject());
	cJSON_AddStringToObject(root, "DocumentName", r->document);
	send_add_target(root, r);
	cJSON *params = must(cJSON_AddObjectToObject(root, "Parameters"));
	cJSON_AddItemToObject(params, "commands", str_array(r->commands, r->ncommands));
	if (r->comment && *r->comment)
		cJSON_AddStringToObject(root, "Comment", r->comment);
	if (r->timeout_s)
		cJSON_AddNumberToObject(root, "TimeoutSeconds", r->timeout_s);
	if (r->max_concurrency)
		cJSON_AddStringToObject(root, "MaxConcurrency", r->max_concurrency);
	if (r->max_errors)
		cJSON_AddStringToObject(root, "MaxErrors", r->max_errors);
	/* Always on: the console follows output through CloudWatch Logs. */
	cJSON *cw = must(cJSON_AddObjectToObject(root, "CloudWatchOutputConfig"));
	cJSON_AddTrueToObject(cw, "CloudWatchOutputEnabled");
	if (r->log_group)
		cJSON_AddStringToObject(cw, "CloudWatchLogGroupName", r->log_group);
	json_to_buf(root, out);
	return ERR_OK;
}

/* ---- response parsers --------------------------------------------------- */

#define CMD_OFF(m) offsetof(struct aws_ssm_command, m)
#define INV_OFF(m) offsetof(struct aws_ssm_invocation, m)
#define N(t) (sizeof(t) / sizeof((t)[0]))

static const struct jfield command_fields[] = {
	{ "CommandId", J_STR, CMD_OFF(command_id) },
	{ "Status", J_STR, CMD_OFF(status) },
	{ "Comment", J_STR, CMD_OFF(comment) },
	{ "DocumentName", J_STR, CMD_OFF(document) },
	{ "RequestedDateTime", J_TIME, CMD_OFF(requested) },
	{ "TargetCount", J_I64, CMD_OFF(target_count) },
	{ "CompletedCount", J_I64, CMD_OFF(completed_count) },
	{ "ErrorCount", J_I64, CMD_OFF(error_count) },
};

/* A CommandInvocation is one instance's share of a command. */
static const struct jfield cinv_fields[] = {
	{ "CommandId", J_STR, CMD_OFF(command_id) },
	{ "InstanceId", J_STR, CMD_OFF(instance_id) },
	{ "Status", J_STR, CMD_OFF(status) },
	{ "Comment", J_STR, CMD_OFF(comment) },
	{ "DocumentName", J_STR, CMD_OFF(document) },
	{ "RequestedDateTime", J_TIME, CMD_OFF(requested) },
};

static const struct jfield invocation_fields[] = {
	{ "Status", J_STR, INV_OFF(status) },
	{ "StatusDetails", J_STR, INV_OFF(status_details) },
	{ "ResponseCode", J_INT, INV_OFF(response_code) },
	{ "StandardOutputContent", J_STR, INV_OFF(stdout_text) },
	{ "StandardErrorContent", J_STR, INV_OFF(stderr_text) },
	{ "ExecutionStartDateTime", J_TIME, INV_OFF(start) },
	{ "ExecutionEndDateTime", J_TIME, INV_OFF(end) },
};

static enum err_code first_instance(const cJSON *obj, char **out, const char *op,
				    struct err *e)
{
	const cJSON *ids = NULL, *first;
	enum err_code c = array_get(obj, "InstanceIds", &ids, op, e);
	if (c)
		return c;
	first = ids ? ids->child : NULL;
	if (first && !cJSON_IsString(first))
		return err_set(e, ERR_PARSE, "SSM %s: InstanceIds holds a non-string", op);
	*out = xstrdup(first ? first->valuestring : "");
	return ERR_OK;
}

static enum err_code command_from(const cJSON *obj, const char *op,
				  struct aws_ssm_command **out, struct err *e)
{
	struct aws_ssm_command *c = xcalloc(1, sizeof *c);
	enum err_code rc = ERR_PARSE;
	if (!cJSON_IsObject(obj)) {
		err_set(e, rc, "SSM %s: a command is not a JSON object", op);
		goto out;
	}
	rc = fields_get(obj, command_fields, N(command_fields), c, op, e);
	if (!rc)
		rc = first_instance(obj, &c->instance_id, op, e);
	if (!rc && !*c->command_id)
		rc = err_set(e, ERR_PARSE, "SSM %s: a command has no CommandId", op);
out:
	if (rc)
		aws_ssm_command_free(c);
	else
		*out = c;
	return rc;
}

enum err_code aws_ssm_command_parse(const char *body, size_t len, struct aws_ssm_command *out,
				    struct err *e)
{
	struct aws_ssm_command *c = NULL;
	cJSON *root = json_parse(body, len, "SendCommand", e);
	enum err_code rc = ERR_PARSE;
	memset(out, 0, sizeof *out);
	if (!root)
		return rc;
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(root, "Command");
	if (!cmd)
		err_set(e, rc, "SSM SendCommand: the response has no Command");
	else
		rc = command_from(cmd, "SendCommand", &c, e);
	if (!rc) {
		*out = *c;
		free(c);
	}
	cJSON_Delete(root);
	return rc;
}

static enum err_code invocation_log_group(const cJSON *root, struct aws_ssm_invocation *inv,
					  struct err *e)
{
	const cJSON *cw = cJSON_GetObjectItemCaseSensitive(root, "CloudWatchOutputConfig");
	const cJSON *doc = cJSON_GetObjectItemCaseSensitive(root, "DocumentName");
	if (cw && !cJSON_IsNull(cw) && !cJSON_IsObject(cw))
		return err_set(e, ERR_PARSE, "SSM GetCommandInvocation: CloudWatchOutputConfig "
			       "is not an object");
	const cJSON *on = cJSON_GetObjectItemCaseSensitive(cw, "CloudWatchOutputEnabled");
	const cJSON *group = cJSON_GetObjectItemCaseSensitive(cw, "CloudWatchLogGroupName");
	if ((group && !cJSON_IsNull(group) && !cJSON_IsString(group))
	    || (doc && !cJSON_IsNull(doc) && !cJSON_IsString(doc)))
		return err_set(e, ERR_PARSE, "SSM GetCommandInvocation: a log group or document "
			       "name is not a string");
	if (group && cJSON_IsString(group) && *group->valuestring)
		inv->log_group = xstrdup(group->valuestring);
	else if (cJSON_IsTrue(on))
		inv->log_group = aws_ssm_log_group(doc && cJSON_IsString(doc) ? doc->valuestring
						   : "", NULL);
	else
		inv->log_group = xstrdup("");
	return ERR_OK;
}

enum err_code aws_ssm_invocation_parse(const char *body, size_t len,
				       struct aws_ssm_invocation *out, struct err *e)
{
	struct aws_ssm_invocation inv = { .response_code = -1 };
	cJSON *root = json_parse(body, len, "GetCommandInvocation", e);
	enum err_code rc = ERR_PARSE;
	memset(out, 0, sizeof *out);
	out->response_code = -1;
	if (!root)
		return rc;
	rc = fields_get(root, invocation_fields, N(invocation_fields), &inv,
			"GetCommandInvocation", e);
	if (!rc)
		rc = invocation_log_group(root, &inv, e);
	if (rc)
		aws_ssm_invocation_release(&inv);
	else
		*out = inv;
	cJSON_Delete(root);
	return rc;
}

/* Moves every item of `from` onto `to`; frees them all on failure. */
static void vec_move(struct vec *to, struct vec *from, enum err_code rc)
{
	for (size_t i = 0; !rc && i < from->len; i++)
		vec_push(to, from->items[i]);
	vec_release(from, rc ? aws_ssm_command_free : NULL);
}

static enum err_code commands_from(const cJSON *list, const char *op, bool per_instance,
				   struct vec *out, struct err *e)
{
	const cJSON *item;
	enum err_code rc = ERR_OK;
	cJSON_ArrayForEach(item, list) {
		struct aws_ssm_command *c = NULL;
		if (per_instance) {
			c = xcalloc(1, sizeof *c);
			rc = cJSON_IsObject(item)
			     ? fields_get(item, cinv_fields, N(cinv_fields), c, op, e)
			     : err_set(e, ERR_PARSE, "SSM %s: an invocation is not an object", op);
			if (!rc) {
				bool done = aws_ssm_status_final(c->status);
				c->target_count = 1;
				c->completed_count = done;
				/* as AWS's ErrorCount: Failed or timed out */
				c->error_count = !strcmp(c->status, "Failed")
						 || !strcmp(c->status, "TimedOut");
			}
		} else {
			rc = command_from(item, op, &c, e);
		}
		if (rc) {
			aws_ssm_command_free(c);
			break;
		}
		vec_push(out, c);
	}
	return rc;
}

/* A List* response: its operation, the list member, and whether entries
 * are per-instance invocations rather than commands. */
struct list_shape {
	const char *op, *member;
	bool per_instance;
};

static enum err_code list_parse(const struct list_shape *ls, const char *body, size_t len,
				struct vec *out, char **next_token, struct err *e)
{
	const char *op = ls->op;
	struct vec got = VEC_INIT;
	const cJSON *list = NULL;
	char *token = NULL;
	cJSON *root = json_parse(body, len, op, e);
	enum err_code rc = ERR_PARSE;
	if (!root)
		return rc;
	rc = array_get(root, ls->member, &list, op, e);
	if (!rc)
		rc = commands_from(list, op, ls->per_instance, &got, e);
	if (!rc)
		rc = next_token_get(root, &token, op, e);
	vec_move(out, &got, rc);
	if (!rc)
		*next_token = token;
	cJSON_Delete(root);
	return rc;
}

enum err_code aws_ssm_commands_parse(const char *body, size_t len, struct vec *out,
				     char **next_token, struct err *e)
{
	static const struct list_shape shape = { "ListCommands", "Commands", false };
	return list_parse(&shape, body, len, out, next_token, e);
}

enum err_code aws_ssm_invocations_parse(const char *body, size_t len, struct vec *out,
					char **next_token, struct err *e)
{
	static const struct list_shape shape = {
		"ListCommandInvocations", "CommandInvocations", true
	};
	return list_parse(&shape, body, len, out, next_token, e);
}

#define INS_OFF(m) offsetof(struct aws_ssm_instance, m)
static const struct jfield instance_fields[] = {
	{ "InstanceId", J_STR, INS_OFF(instance_id) },
	{ "PingStatus", J_STR, INS_OFF(ping_status) },
	{ "AgentVersion", J_STR, INS_OFF(agent_version) },
	{ "PlatformName", J_STR, INS_OFF(platform) },
	{ "LastPingDateTime", J_TIME, INS_OFF(last_ping) },
};

static enum err_code instance_find(const cJSON *list, const char *instance_id,
				   struct aws_ssm_instance *out, struct err *e)
{
	const char *op = "DescribeInstanceInformation";
	const cJSON *item;
	cJSON_ArrayForEach(item, list) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "InstanceId");
		if (!cJSON_IsObject(item) || (id && !cJSON_IsString(id)))
			return err_set(e, ERR_PARSE, "SSM %s: an entry is not an object with a "
				       "string InstanceId", op);
		if (!id || (instance_id && strcmp(id->valuestring, instance_id)))
			continue;
		struct aws_ssm_instance got = { 0 };
		enum err_code rc = fields_get(item, instance_fields, N(instance_fields), &got, op, e);
		if (rc) {
			aws_ssm_instance_release(&got);
			return rc;
		}
		got.found = true;
		*out = got;
		return ERR_OK;
	}
	return ERR_OK;
}

static void instance_absent(const char *instance_id, struct aws_ssm_instance *out)
{
	out->instance_id = xstrdup(instance_id ? instance_id : "");
	out->ping_status = xstrdup("");
	out->agent_version = xstrdup("");
	out->platform = xstrdup("");
	out->last_ping = xstrdup("");
	out->found = false;
}

enum err_code aws_ssm_instance_parse(const char *body, size_t len, const char *instance_id,
				     struct aws_ssm_instance *out, char **next_token,
				     struct err *e)
{
	const char *op = "DescribeInstanceInformation";
	const cJSON *list = NULL;
	char *token = NULL;
	cJSON *root = json_parse(body, len, op, e);
	enum err_code rc = ERR_PARSE;
	memset(out, 0, sizeof *out);
	if (!root)
		return rc;
	rc = array_get(root, "InstanceInformationList", &list, op, e);
	if (!rc)
		rc = next_token_get(root, &token, op, e);
	if (!rc)
		rc = instance_find(list, instance_id, out, e);
	if (!rc && !out->found)
		instance_absent(instance_id, out);
	if (rc)
		free(token);
	else
		*next_token = token;
	cJSON_Delete(root);
	return rc;
}

/* ---- the calls ---------------------------------------------------------- */

/* The two SSM calls that change something; read-only contexts refuse them. */
static bool op_mutating(const char *op)
{
	return !strcmp(op, "SendCommand") || !strcmp(op, "CancelCommand");
}

/* Sends req (consumed) as operation op; the response body lands in resp. */
static enum err_code ssm_call(struct aws_ctx *ctx, const char *op, const char *resource,
			      cJSON *req, struct buf *resp, struct err *e)
{
	struct buf body = BUF_INIT;
	json_to_buf(req, &body);
	enum err_code c = aws_json_call(ctx, "SSM", "ssm", "AmazonSSM", op, resource, body.ptr,
					op_mutating(op), resp, e);
	buf_release(&body);
	return c;
}

enum err_code aws_ssm_send_command(struct aws_ctx *ctx, const struct aws_ssm_send *req,
				   struct aws_ssm_command *out, struct err *e)
{
	struct buf body = BUF_INIT, resp = BUF_INIT, res = BUF_INIT;
	memset(out, 0, sizeof *out);
	enum err_code c = aws_ssm_send_body_build(req, &body, e);
	if (c)
		goto out;
	if (req->instance_id && *req->instance_id)
		buf_addf(&res, "instance %s", req->instance_id);
	else
		buf_addf(&res, "target %s=%s", req->target_key, req->target_value);
	c = aws_json_call(ctx, "SSM", "ssm", "AmazonSSM", "SendCommand", res.ptr, body.ptr, true,
			  &resp, e);
	if (!c)
		c = aws_ssm_command_parse(resp.ptr, resp.len, out, e);
	if (!c && !*out->instance_id && req->instance_id && *req->instance_id) {
		free(out->instance_id);
		out->instance_id = xstrdup(req->instance_id);
	}
out:
	buf_release(&body);
	buf_release(&resp);
	buf_release(&res);
	return c;
}

static void invocation_pending(struct aws_ssm_invocation *out)
{
	out->status = xstrdup("Pending");
	out->status_details = xstrdup("Pending");
	out->response_code = -1;
	out->stdout_text = xstrdup("");
	out->stderr_text = xstrdup("");
	out->start = xstrdup("");
	out->end = xstrdup("");
	out->log_group = xstrdup("");
}

enum err_code aws_ssm_get_invocation(struct aws_ctx *ctx, const char *command_id,
				     const char *instance_id, struct aws_ssm_invocation *out,
				     struct err *e)
{
	struct buf resp = BUF_INIT, res = BUF_INIT;
	struct err le = ERR_INIT;
	memset(out, 0, sizeof *out);
	out->response_code = -1;
	cJSON *req = must(cJSON_CreateObject());
	cJSON_AddStringToObject(req, "CommandId", command_id);
	cJSON_AddStringToObject(req, "InstanceId", instance_id);
	buf_addf(&res, "command %s for %s", command_id, instance_id);
	enum err_code c = ssm_call(ctx, "GetCommandInvocation", res.ptr, req, &resp, &le);
	/* Right after SendCommand the invocation may not exist yet (spec §4). */
	if (c == ERR_HTTP && aws_error_has_code(&le, "InvocationDoesNotExist")) {
		invocation_pending(out);
		c = ERR_OK;
	} else if (!c) {
		c = aws_ssm_invocation_parse(resp.ptr, resp.len, out, &le);
	}
	if (c && e)
		*e = le;
	buf_release(&resp);
	buf_release(&res);
	return c;
}

/* Newest first; a stable insertion sort keeps AWS's order among equal
 * times (lists are at most a few hundred long). */
static void commands_sort(struct vec *v)
{
	for (size_t i = 1; i < v->len; i++) {
		struct aws_ssm_command *c = v->items[i];
		size_t j = i;
		for (; j > 0; j--) {
			const struct aws_ssm_command *p = v->items[j - 1];
			if (strcmp(p->requested, c->requested) >= 0)
				break;
			v->items[j] = v->items[j - 1];
		}
		v->items[j] = c;
	}
}

static cJSON *list_request(const char *key, const char *value, int page, const char *token)
{
	cJSON *req = must(cJSON_CreateObject());
	if (value)
		cJSON_AddStringToObject(req, key, value);
	cJSON_AddNumberToObject(req, "MaxResults", page);
	if (token)
		cJSON_AddStringToObject(req, "NextToken", token);
	return req;
}

enum err_code aws_ssm_list_commands(struct aws_ctx *ctx, const char *instance_id, int max,
				    struct vec *out, struct err *e)
{
	struct vec got = VEC_INIT;
	struct buf resp = BUF_INIT;
	char *token = NULL, *next = NULL;
	size_t want = max > 0 ? (size_t)max : LIST_DEFAULT;
	enum err_code c = ERR_OK;
	for (int page = 0; !c && got.len < want && page < PAGES_MAX; page++) {
		size_t n = want - got.len < PAGE_SIZE ? want - got.len : PAGE_SIZE;
		cJSON *req = list_request("InstanceId", instance_id, (int)n, token);
		buf_reset(&resp);
		c = ssm_call(ctx, "ListCommands", instance_id, req, &resp, e);
		if (!c)
			c = aws_ssm_commands_parse(resp.ptr, resp.len, &got, &next, e);
		bool same = next && token && !strcmp(next, token);
		free(token);
		token = next;
		next = NULL;
		if (!token || same)
			break;
	}
	while (!c && got.len > want)
		aws_ssm_command_free(got.items[--got.len]);
	if (!c)
		commands_sort(&got);
	vec_move(out, &got, c);
	free(token);
	buf_release(&resp);
	return c;
}

enum err_code aws_ssm_list_invocations(struct aws_ctx *ctx, const char *command_id,
				       struct vec *out, struct err *e)
{
	struct vec got = VEC_INIT;
	struct buf resp = BUF_INIT, res = BUF_INIT;
	char *token = NULL, *next = NULL;
	enum err_code c = ERR_OK;
	buf_addf(&res, "command %s", command_id);
	for (int page = 0; !c && page < PAGES_MAX; page++) {
		cJSON *req = list_request("CommandId", command_id, PAGE_SIZE, token);
		buf_reset(&resp);
		c = ssm_call(ctx, "ListCommandInvocations", res.ptr, req, &resp, e);
		if (!c)
			c = aws_ssm_invocations_parse(resp.ptr, resp.len, &got, &next, e);
		bool same = next && token && !strcmp(next, token);
		free(token);
		token = next;
		next = NULL;
		if (!token || same)
			break;
	}
	vec_move(out, &got, c);
	free(token);
	buf_release(&resp);
	buf_release(&res);
	return c;
}

/* DescribeInstanceInformation filtered by key ("InstanceIds", "tag:Role"). */
static cJSON *instance_request(const char *key, const char *value, const char *token)
{
	cJSON *req = must(cJSON_CreateObject());
	cJSON *f = must(cJSON_CreateObject());
	cJSON_AddStringToObject(f, "Key", key);
	cJSON_AddItemToObject(f, "Values", str_array(&value, 1));
	cJSON_AddItemToArray(must(cJSON_AddArrayToObject(req, "Filters")), f);
	if (token)
		cJSON_AddStringToObject(req, "NextToken", token);
	return req;
}

/* The first entry for key=value (instance_id: that instance; NULL: any). */
static enum err_code describe(struct aws_ctx *ctx, const char *key, const char *value,
			     const char *instance_id, struct aws_ssm_instance *out, struct err *e)
{
	struct buf resp = BUF_INIT, res = BUF_INIT;
	char *token = NULL, *next = NULL;
	enum err_code c = ERR_OK;
	memset(out, 0, sizeof *out);
	if (instance_id)
		buf_addf(&res, "instance %s", instance_id);
	else
		buf_addf(&res, "instances with %s=%s", key, value);
	/* A filtered listing may still come in pages, some of them empty. */
	for (int page = 0; !c && page < PAGES_MAX; page++) {
		aws_ssm_instance_release(out);
		buf_reset(&resp);
		c = ssm_call(ctx, "DescribeInstanceInformation", res.ptr,
			     instance_request(key, value, token), &resp, e);
		if (!c)
			c = aws_ssm_instance_parse(resp.ptr, resp.len, instance_id, out, &next, e);
		bool same = next && token && !strcmp(next, token);
		free(token);
		token = next;
		next = NULL;
		if (c || out->found || !token || same)
			break;
	}
	free(token);
	buf_release(&resp);
	buf_release(&res);
	return c;
}

enum err_code aws_ssm_describe_instance(struct aws_ctx *ctx, const char *instance_id,
					struct aws_ssm_instance *out, struct err *e)
{
	return describe(ctx, "InstanceIds", instance_id, instance_id, out, e);
}

enum err_code aws_ssm_describe_tagged(struct aws_ctx *ctx, const char *tag_key,
				      const char *value, struct aws_ssm_instance *out,
				      struct err *e)
{
	return describe(ctx, tag_key, value, NULL, out, e);
}

enum err_code aws_ssm_cancel_command(struct aws_ctx *ctx, const char *command_id,
				     struct err *e)
{
	struct buf resp = BUF_INIT, res = BUF_INIT;
	cJSON *req = must(cJSON_CreateObject());
	cJSON_AddStringToObject(req, "CommandId", command_id);
	buf_addf(&res, "command %s", command_id);
	enum err_code c = ssm_call(ctx, "CancelCommand", res.ptr, req, &resp, e);
	buf_release(&resp);
	buf_release(&res);
	return c;
}
