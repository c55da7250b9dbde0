/*
 * call — the two RPC framings tarmac speaks (awsJson 1.1 for SSM, Logs and
 * Secrets Manager; the query protocol for STS and RDS), the JSON error
 * mapping (botocore's rules, spec/aws.md §4), and the response helpers.
 * (aws_error_from_xml lives in xml.c with the rest of the XML code.)
 *
 * Invariants:
 * - Error messages read "<Service> <Operation> on <resource>: <Code>:
 *   <Message>", with AWS's text cleaned to one line and cut to a sane
 *   length, then what to do: the IAM action for an access-denied error,
 *   the attempt count when retries were spent. Nothing else of a body or
 *   request (tokens, signatures, secret values) is ever quoted.
 * - Response bodies may hold secrets (GetSecretValue, AssumeRole): they
 *   are wiped when released, and so are the request bodies built here.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws/internal.h"

enum { MAX_CODE = 64, MAX_MSG = 300 };

/* ---- responses ---------------------------------------------------------- */

void aws_response_release(struct aws_response *r)
{
	if (!r)
		return;
	buf_wipe(&r->body);
	vec_free_strs(&r->headers);
	r->status = 0;
}

const char *aws_response_header(const struct aws_response *r, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < r->headers.len; i++) {
		const char *h = r->headers.items[i];
		if (!strncasecmp(h, name, n) && h[n] == ':')
			return h[n + 1] == ' ' ? h + n + 2 : h + n + 1;
	}
	return NULL;
}

/* ---- error bodies --------------------------------------------------------- */

/* Copies s (at most n bytes of it) to out as one clean line. */
static void copy_clean(char *out, size_t size, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && s[i] && o + 1 < size; i++)
		out[o++] = iscntrl((unsigned char)s[i]) ? ' ' : s[i];
	out[o] = 0;
	while (o && out[o - 1] == ' ')
		out[--o] = 0;
}

/* botocore: "a.b#Code:http://..." → "Code". */
static void code_clean(char *out, size_t size, const char *raw)
{
	size_t n = strcspn(raw, ":");
	const char *hash = NULL;
	for (const char *p = raw; p < raw + n; p++)
		if (*p == '#')
			hash = p;
	if (hash) {
		n -= (size_t)(hash + 1 - raw);
		raw = hash + 1;
	}
	copy_clean(out, size, raw, n);
}

static void json_error(const struct aws_response *r, char *code, size_t ncode, char *msg,
		       size_t nmsg)
{
	cJSON *j = cJSON_ParseWithLength(r->body.ptr, r->body.len);
	if (!cJSON_IsObject(j)) { /* botocore: the text itself is the message */
		copy_clean(msg, nmsg, r->body.ptr, r->body.len);
		cJSON_Delete(j);
		return;
	}
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
	if (!cJSON_IsString(m))
		m = cJSON_GetObjectItemCaseSensitive(j, "Message");
	if (cJSON_IsString(t))
		code_clean(code, ncode, t->valuestring);
	if (cJSON_IsString(m))
		copy_clean(msg, nmsg, m->valuestring, strlen(m->valuestring));
	cJSON_Delete(j);
}

void aws_error_parse(const struct aws_response *r, char *code, size_t ncode, char *msg,
		     size_t nmsg)
{
	*code = *msg = 0;
	const char *p = r->body.ptr;
	while (*p && isspace((unsigned char)*p))
		p++;
	if (*p == '<') {
		struct aws_xml_error x;
		if (aws_xml_error_parse(r->body.ptr, r->body.len, &x, NULL) == ERR_OK) {
			copy_clean(code, ncode, x.code, strlen(x.code));
			if (x.message)
				copy_clean(msg, nmsg, x.message, strlen(x.message));
			aws_xml_error_release(&x);
		}
	} else if (r->body.len) {
		json_error(r, code, ncode, msg, nmsg);
	}
	/* The query-compatible header names the code; restJson's errortype too. */
	const char *h = aws_response_header(r, "x-amzn-query-error");
	if (h) {
		copy_clean(code, ncode, h, strcspn(h, ";"));
	} else if (!*code && (h = aws_response_header(r, "x-amzn-errortype"))) {
		code_clean(code, ncode, h);
	}
}

static bool code_in(const char *code, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(code, list[i]))
			return true;
	return false;
}

static bool code_denied(const char *code)
{
	static const char *const denied[] = {
		"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
		"AuthorizationError", "UnauthorizedException",
	};
	return code_in(code, denied, sizeof denied / sizeof denied[0]);
}

static bool code_is_auth(const char *code)
{
	static const char *const auth[] = {
		"AuthFailure", "ExpiredToken", "ExpiredTokenException", "IncompleteSignature",
		"InvalidAccessKeyId", "InvalidClientTokenId", "InvalidSignatureException",
		"InvalidToken", "MissingAuthenticationToken", "MissingAuthenticationTokenException",
		"NotAuthorized", "SignatureDoesNotMatch", "UnrecognizedClientException",
		"RequestExpired",
	};
	return code_denied(code) || code_in(code, auth, sizeof auth / sizeof auth[0]);
}

/* The IAM action an operation needs; S3's names differ from its operations. */
static void iam_action(const struct aws_request *req, char *out, size_t n)
{
	static const struct { const char *op, *action; } s3[] = {
		{ "ListObjectsV2", "s3:ListBucket" }, { "HeadBucket", "s3:ListBucket" },
		{ "ListBuckets", "s3:ListAllMyBuckets" }, { "GetObject", "s3:GetObject" },
		{ "HeadObject", "s3:GetObject" }, { "PutObject", "s3:PutObject" },
		{ "GetBucketLocation", "s3:GetBucketLocation" },
	};
	const char *svc = req->signing_name ? req->signing_name : "";
	const char *op = req->operation ? req->operation : "";
	if (!strcmp(svc, "s3"))
		for (size_t i = 0; i < sizeof s3 / sizeof s3[0]; i++)
			if (!strcmp(op, s3[i].op)) {
				snprintf(out, n, "%s", s3[i].action);
				return;
			}
	snprintf(out, n, "%s:%s%s", svc, op,
		 !strcmp(svc, "secretsmanager") ? " (and kms:Decrypt on the secret's key)" : "");
}

/* What to do, after the AWS text: the IAM action, the attempts spent. */
static void add_advice(struct buf *b, const struct aws_request *req,
		       const struct aws_response *r, const char *code)
{
	if (code_denied(code)) {
		char action[160];
		iam_action(req, action, sizeof action);
		buf_addf(b, " (tarmac needs the IAM permission %s)", action);
	} else if (!strcmp(code, "ExpiredToken") || !strcmp(code, "ExpiredTokenException")) {
		buf_adds(b, " (the session token has expired: renew the credentials)");
	}
	const char *n = aws_response_header(r, "x-tarmac-attempts");
	if (n)
		buf_addf(b, " (gave up after %s attempts)", n);
}

enum err_code aws_error_from_json(const struct aws_request *req, const struct aws_response *r,
				  struct err *e)
{
	char code[MAX_CODE], msg[MAX_MSG];
	struct buf b = BUF_INIT;
	aws_error_parse(r, code, sizeof code, msg, sizeof msg);
	buf_addf(&b, "%s %s", req->service_id ? req->service_id : "AWS",
		 req->operation ? req->operation : req->method ? req->method : "request");
	if (req->resource && *req->resource)
		buf_addf(&b, " on %s", req->resource);
	if (*code)
		buf_addf(&b, ": %s", code);
	else
		buf_addf(&b, ": HTTP %ld", r->status);
	if (*msg)
		buf_addf(&b, ": %s", msg);
	add_advice(&b, req, r, code);
	enum err_code c = code_is_auth(code) || (!*code && (r->status == 401 || r->status == 403))
			  ? ERR_AUTH : ERR_HTTP;
	err_set(e, c, "%s", b.ptr);
	buf_release(&b);
	return c;
}

/* ---- the two framings --------------------------------------------------------- */

/* Hands a 2xx body to out; maps anything else with map(). */
static enum err_code call_finish(const struct aws_request *req, struct aws_response *r,
				 struct buf *out,
				 enum err_code (*map)(const struct aws_request *,
						      const struct aws_response *, struct err *),
				 struct err *e)
{
	if (r->status >= 200 && r->status < 300) {
		buf_wipe(out);
		*out = r->body;
		buf_init(&r->body);
		return ERR_OK;
	}
	return map(req, r, e);
}

/* Both framings' parameter lists are internal.h's contract. */
/* NOLINTNEXTLINE(readability-function-size) */
enum err_code aws_json_call(struct aws_ctx *ctx, const char *service_id, const char *signing_name,
			    const char *target_prefix, const char *operation, const char *resource,
			    const char *body, bool mutating, struct buf *out, struct err *e)
{
	struct buf target = BUF_INIT;
	buf_addf(&target, "X-Amz-Target: %s.%s", target_prefix, operation);
	const char *hdrs[] = { "Content-Type: application/x-amz-json-1.1", target.ptr };
	const char *text = body && *body ? body : "{}";
	struct aws_request req = {
		.service_id = service_id, .signing_name = signing_name, .operation = operation,
		.resource = resource, .method = "POST", .path = "/", .headers = hdrs, .nheaders = 2,
		.body = text, .body_len = strlen(text), .mutating = mutating,
	};
	struct aws_response r;
	enum err_code c = aws_http_do(ctx, &req, &r, e);
	if (c == ERR_OK)
		c = call_finish(&req, &r, out, aws_error_from_json, e);
	aws_response_release(&r);
	buf_release(&target);
	return c;
}

/* xml.c's mapping plus the advice the JSON side gives. */
static enum err_code query_error(const struct aws_request *req, const struct aws_response *r,
				 struct err *e)
{
	enum err_code c = aws_error_from_xml(req, r, e);
	char code[MAX_CODE], msg[8];
	aws_error_parse(r, code, sizeof code, msg, sizeof msg);
	struct buf b = BUF_INIT;
	add_advice(&b, req, r, code);
	size_t n = e ? strlen(e->msg) : 0;
	if (e && b.len && n + b.len < sizeof e->msg)
		memcpy(e->msg + n, b.ptr, b.len + 1);
	buf_release(&b);
	return c;
}

/* NOLINTNEXTLINE(readability-function-size) */
enum err_code aws_query_call(struct aws_ctx *ctx, const char *service_id, const char *signing_name,
			     const char *action, const char *version, const char *const *kv,
			     size_t nkv, const char *resource, const struct aws_creds *creds,
			     struct buf *out, struct err *e)
{
	struct buf body = BUF_INIT;
	buf_adds(&body, "Action=");
	aws_uri_encode(&body, action, false);
	buf_adds(&body, "&Version=");
	aws_uri_encode(&body, version, false);
	for (size_t i = 0; i + 1 < nkv; i += 2) {
		buf_addc(&body, '&');
		aws_uri_encode(&body, kv[i], false);
		buf_addc(&body, '=');
		aws_uri_encode(&body, kv[i + 1] ? kv[i + 1] : "", false);
	}
	const char *hdrs[] = { "Content-Type: application/x-www-form-urlencoded; charset=utf-8" };
	struct aws_request req = {
		.service_id = service_id, .signing_name = signing_name, .operation = action,
		.resource = resource, .method = "POST", .path = "/", .headers = hdrs, .nheaders = 1,
		.body = body.ptr, .body_len = body.len, .creds = creds,
	};
	struct aws_response r;
	enum err_code c = aws_http_do(ctx, &req, &r, e);
	if (c == ERR_OK)
		c = call_finish(&req, &r, out, query_error, e);
	aws_response_release(&r);
	buf_wipe(&body); /* AssumeRoleWithWebIdentity carries a token */
	return c;
}

bool aws_error_has_code(const struct err *e, const char *code)
{
	size_t n = strlen(code);
	for (const char *p = strstr(e->msg, ": "); p; p = strstr(p + 2, ": ")) {
		const char *after = p + 2 + n;
		if (!strncmp(p + 2, code, n)
		    && (*after == ':' || !*after || !strncmp(after, " (", 2)))
			return true;
	}
	return false;
}
