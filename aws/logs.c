/*
 * logs — CloudWatch Logs GetLogEvents (spec/aws.md §4), the live half of
 * following an SSM command: the agent uploads output to a stream about
 * once a second, and the console polls it forward from the head.
 *
 * Invariants: every request reads from the head (startFromHead true: a
 * forward token is only honoured with it); the caller's token is replaced
 * only by a token AWS sent, so a poll that fails or finds nothing never
 * loses the position. A stream (or group) that does not exist yet is not an
 * error: the agent creates it with the first output line, so *missing is
 * set and ERR_OK returned. Events are appended only when the whole page
 * parsed.
 */
#include <cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aws/internal.h"

#define OP "GetLogEvents"

void aws_log_event_free(void *p)
{
	struct aws_log_event *ev = p;
	if (!ev)
		return;
	free(ev->message);
	free(ev);
}

static enum err_code bad(struct err *e, const char *what)
{
	return err_set(e, ERR_PARSE, "CloudWatch Logs " OP ": %s", what);
}

static cJSON *json_parse(const char *body, size_t len, struct err *e)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (root && end)
		while (end < body + len && isspace((unsigned char)*end))
			end++;
	if (!root || !cJSON_IsObject(root) || !end || end != body + len) {
		cJSON_Delete(root);
		bad(e, "the response is not a JSON object");
		return NULL;
	}
	return root;
}

static enum err_code event_from(const cJSON *item, struct aws_log_event **out, struct err *e)
{
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(item, "timestamp");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(item, "message");
	if (!cJSON_IsObject(item))
		return bad(e, "an event is not a JSON object");
	/* milliseconds since the epoch: integral, and exact in a double */
	if (!cJSON_IsNumber(ts) || !(fabs(ts->valuedouble) <= 9007199254740992.0)
	    || ts->valuedouble != floor(ts->valuedouble))
		return bad(e, "an event's timestamp is not a whole number of milliseconds");
	if (msg && !cJSON_IsNull(msg) && !cJSON_IsString(msg))
		return bad(e, "an event's message is not a string");
	struct aws_log_event *ev = xcalloc(1, sizeof *ev);
	ev->timestamp_ms = (int64_t)ts->valuedouble;
	ev->message = xstrdup(msg && cJSON_IsString(msg) ? msg->valuestring : "");
	*out = ev;
	return ERR_OK;
}

static enum err_code events_from(const cJSON *root, struct vec *got, struct err *e)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "events"), *item;
	if (list && !cJSON_IsNull(list) && !cJSON_IsArray(list))
		return bad(e, "events is not a list");
	cJSON_ArrayForEach(item, list) {
		struct aws_log_event *ev = NULL;
		enum err_code c = event_from(item, &ev, e);
		if (c)
			return c;
		vec_push(got, ev);
	}
	return ERR_OK;
}

enum err_code aws_logs_events_parse(const char *body, size_t len, struct vec *events,
				    char **next_token, struct err *e)
{
	struct vec got = VEC_INIT;
	cJSON *root = json_parse(body, len, e);
	if (!root)
		return ERR_PARSE;
	enum err_code c = events_from(root, &got, e);
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "nextForwardToken");
	if (!c && tok && !cJSON_IsNull(tok) && !cJSON_IsString(tok))
		c = bad(e, "nextForwardToken is not a string");
	for (size_t i = 0; !c && i < got.len; i++)
		vec_push(events, got.items[i]);
	vec_release(&got, c ? aws_log_event_free : NULL);
	if (!c)
		*next_token = tok && cJSON_IsString(tok) && *tok->valuestring
			      ? xstrdup(tok->valuestring) : NULL;
	cJSON_Delete(root);
	return c;
}

static void request_build(const char *group, const char *stream, const char *token,
			  struct buf *out)
{
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "logGroupName", group);
	cJSON_AddStringToObject(req, "logStreamName", stream);
	cJSON_AddTrueToObject(req, "startFromHead");
	if (token)
		cJSON_AddStringToObject(req, "nextToken", token);
	char *text = cJSON_PrintUnformatted(req);
	if (!text) {
		if (buf_oom_hook)
			buf_oom_hook();
		abort();
	}
	buf_adds(out, text);
	cJSON_free(text);
	cJSON_Delete(req);
}

/* NOLINTNEXTLINE(readability-function-size): aws.h's signature */
enum err_code aws_logs_get_events(struct aws_ctx *ctx, const char *group, const char *stream,
				  char **next_token, struct vec *events, bool *missing,
				  struct err *e)
{
	struct buf body = BUF_INIT, resp = BUF_INIT, res = BUF_INIT;
	struct err le = ERR_INIT;
	char *token = NULL;
	*missing = false;
	request_build(group, stream, *next_token, &body);
	buf_addf(&res, "log stream %s in %s", stream, group);
	enum err_code c = aws_json_call(ctx, "CloudWatch Logs", "logs", "Logs_20140328", OP,
					res.ptr, body.ptr, false, &resp, &le);
	if (c == ERR_HTTP && aws_error_has_code(&le, "ResourceNotFoundException")) {
		*missing = true;
		c = ERR_OK;
	} else if (!c) {
		c = aws_logs_events_parse(resp.ptr, resp.len, events, &token, &le);
	}
	if (!c && token) {
		free(*next_token);
		*next_token = token;
	}
	if (c && e)
		*e = le;
	buf_release(&body);
	buf_release(&resp);
	buf_release(&res);
	return c;
}
