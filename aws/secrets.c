/*
 * secrets — a database login from Secrets Manager (spec/aws.md §6):
 * GetSecretValue, then its SecretString parsed again as the RDS secret JSON
 * {username, password, host, port, dbname, engine}.
 *
 * Invariants: the secret never reaches an error message (messages name the
 * secret id and the member, never a value) and never outlives its use in
 * memory we own: the response body, both cJSON trees (every value and key)
 * and anything copied on a failed parse are zeroed before they are freed;
 * aws_db_secret_release zeroes every member. `port` is text whether the
 * secret holds 5432 or "5432". A secret stored as SecretBinary is refused
 * with a clear ERR_PARSE: tarmac reads only the JSON text form.
 */
#include <cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/internal.h"

#define OP "GetSecretValue"

static void str_wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void aws_db_secret_release(struct aws_db_secret *s)
{
	if (!s)
		return;
	str_wipe_free(s->username);
	str_wipe_free(s->password);
	str_wipe_free(s->host);
	str_wipe_free(s->port);
	str_wipe_free(s->dbname);
	str_wipe_free(s->engine);
	memset(s, 0, sizeof *s);
}

/* Zeroes every string cJSON allocated for the tree (values and keys). */
static void json_wipe(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
		if (j->string)
			explicit_bzero(j->string, strlen(j->string));
		json_wipe(j->child);
	}
}

static void json_free(cJSON *j)
{
	json_wipe(j);
	cJSON_Delete(j);
}

static cJSON *json_object(const char *text, size_t len)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (j && end)
		while (end < text + len && isspace((unsigned char)*end))
			end++;
	if (!j || !cJSON_IsObject(j) || !end || end != text + len) {
		json_free(j);
		return NULL;
	}
	return j;
}

struct member {
	const char *name;
	size_t off;
};

#define M(f) { #f, offsetof(struct aws_db_secret, f) }
static const struct member members[] = {
	M(username), M(password), M(host), M(port), M(dbname), M(engine),
};

/* "5432": 1 to 5 digits, at most 65535. */
static bool port_text_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");
	return n && n <= 5 && !s[n] && atol(s) <= 65535;
}

static enum err_code member_get(const cJSON *obj, const struct member *m, const char *id,
				struct aws_db_secret *out, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, m->name);
	char **dst = (char **)(void *)((char *)out + m->off);
	bool port = !strcmp(m->name, "port");
	if (!v || cJSON_IsNull(v))
		return ERR_OK;
	if (cJSON_IsString(v) && (!port || port_text_ok(v->valuestring))) {
		*dst = xstrdup(v->valuestring);
		return ERR_OK;
	}
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	if (port && d >= 0 && d <= 65535 && d == floor(d)) {
		char text[8];
		snprintf(text, sizeof text, "%d", (int)d);
		*dst = xstrdup(text);
		return ERR_OK;
	}
	return err_set(e, ERR_PARSE, "Secrets Manager " OP " on secret %s: its %s is not %s",
		       id, m->name, port ? "a port number" : "a string");
}

static enum err_code secret_fields(const cJSON *ss, const char *id, struct aws_db_secret *out,
				   struct err *e)
{
	enum err_code c = ERR_OK;
	cJSON *inner = json_object(ss->valuestring, strlen(ss->valuestring));
	if (!inner)
		return err_set(e, ERR_PARSE, "Secrets Manager " OP " on secret %s: its SecretString "
			       "is not a JSON object; store the RDS secret JSON (username, password, "
			       "host, port, dbname, engine)", id);
	for (size_t i = 0; !c && i < sizeof members / sizeof members[0]; i++)
		c = member_get(inner, &members[i], id, out, e);
	if (!c && !(out->password && *out->password))
		c = err_set(e, ERR_PARSE, "Secrets Manager " OP " on secret %s: it has no password",
			    id);
	json_free(inner);
	return c;
}

enum err_code aws_secrets_db_parse(const char *body, size_t len, const char *secret_id,
				   struct aws_db_secret *out, struct err *e)
{
	struct aws_db_secret got = { 0 };
	enum err_code c = ERR_PARSE;
	cJSON *root = json_object(body, len);
	memset(out, 0, sizeof *out);
	if (!root)
		return err_set(e, c, "Secrets Manager " OP " on secret %s: the response is not a "
			       "JSON object", secret_id);
	const cJSON *ss = cJSON_GetObjectItemCaseSensitive(root, "SecretString");
	const cJSON *bin = cJSON_GetObjectItemCaseSensitive(root, "SecretBinary");
	if (cJSON_IsString(ss))
		c = secret_fields(ss, secret_id, &got, e);
	else if (bin && !cJSON_IsNull(bin))
		err_set(e, c, "Secrets Manager " OP " on secret %s: it holds binary data "
			"(SecretBinary); tarmac reads only a SecretString with the RDS secret JSON "
			"(username, password, host, port, dbname, engine)", secret_id);
	else
		err_set(e, c, "Secrets Manager " OP " on secret %s: the response has no "
			"SecretString", secret_id);
	if (c)
		aws_db_secret_release(&got);
	else
		*out = got;
	json_free(root);
	return c;
}

enum err_code aws_secrets_get_db(struct aws_ctx *ctx, const char *secret_id,
				 struct aws_db_secret *out, struct err *e)
{
	struct buf resp = BUF_INIT, res = BUF_INIT;
	memset(out, 0, sizeof *out);
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "SecretId", secret_id);
	char *body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (!body) {
		if (buf_oom_hook)
			buf_oom_hook();
		abort();
	}
	buf_addf(&res, "secret %s", secret_id);
	enum err_code c = aws_json_call(ctx, "Secrets Manager", "secretsmanager", "secretsmanager",
					OP, res.ptr, body, false, &resp, e);
	if (!c)
		c = aws_secrets_db_parse(resp.ptr, resp.len, secret_id, out, e);
	cJSON_free(body);
	buf_wipe(&resp);
	buf_release(&res);
	return c;
}
