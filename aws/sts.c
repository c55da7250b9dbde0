/*
 * sts — the two STS calls tarmac makes (query protocol, version
 * 2011-06-15): GetCallerIdentity, to show who the console acts as, and
 * AssumeRole, for profiles with role_arn (creds.c). Also ISO 8601 → time_t,
 * which every credential source's Expiration needs.
 *
 * Invariants: AssumeRole's secret key and session token live only in the
 * returned struct aws_creds and in buffers wiped before they are freed; an
 * answer missing any Credentials member is ERR_PARSE and fills nothing.
 * Error messages never quote a key or token.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/internal.h"

/* ---- ISO 8601 --------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil), so no timegm or TZ is involved. */
static long long days_from_civil(long long y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (!isdigit((unsigned char)**s))
			return false;
		v = v * 10 + (**s - '0');
	}
	*out = v;
	return true;
}

static bool lit(const char **s, char c)
{
	if (**s != c)
		return false;
	(*s)++;
	return true;
}

/* "Z", "+HH:MM", "-HHMM", or nothing (taken as UTC): seconds east of UTC. */
static bool zone(const char *s, long *east)
{
	int hh, mm;
	*east = 0;
	if (!*s || ((*s == 'Z' || *s == 'z') && !s[1]))
		return true;
	if (*s != '+' && *s != '-')
		return false;
	int sign = *s++ == '-' ? -1 : 1;
	if (!digits(&s, 2, &hh))
		return false;
	lit(&s, ':');
	if (!digits(&s, 2, &mm) || *s || hh > 23 || mm > 59)
		return false;
	*east = sign * (hh * 3600L + mm * 60L);
	return true;
}

enum err_code aws_iso8601_parse(const char *s, time_t *out, struct err *e)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, sec;
	long east;
	bool ok = digits(&p, 4, &y) && lit(&p, '-') && digits(&p, 2, &mo) && lit(&p, '-') &&
		  digits(&p, 2, &d) && (lit(&p, 'T') || lit(&p, 't') || lit(&p, ' ')) &&
		  digits(&p, 2, &h) && lit(&p, ':') && digits(&p, 2, &mi) && lit(&p, ':') &&
		  digits(&p, 2, &sec);
	if (ok && *p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	ok = ok && zone(p, &east) && mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1] &&
	     h <= 23 && mi <= 59 && sec <= 60;
	if (ok && mo == 2 && d == 29)
		ok = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (!ok)
		return err_set(e, ERR_PARSE, "\"%.40s\" is not an ISO 8601 time like "
					     "2024-05-17T09:09:10Z", s);
	long long t = days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL +
		      (sec == 60 ? 59 : sec) - east;
	*out = (time_t)t;
	return ERR_OK;
}

/* ---- picking elements out of a query-protocol answer ------------------------------- */

struct pick {
	const char *tail;   /* matched with aws_xml_path_is */
	char **slot;
};

struct picks {
	const struct pick *p;
	size_t n;
};

static enum err_code on_elem(const char *path, const char *text, size_t len, void *arg,
			     struct err *e)
{
	const struct picks *ps = arg;
	(void)e;
	for (size_t i = 0; i < ps->n; i++) {
		if (*ps->p[i].slot || !aws_xml_path_is(path, ps->p[i].tail))
			continue;
		while (len && isspace((unsigned char)*text))
			text++, len--;
		while (len && isspace((unsigned char)text[len - 1]))
			len--;
		*ps->p[i].slot = xstrndup(text, len);
	}
	return ERR_OK;
}

static void slots_wipe(const struct pick *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (*p[i].slot)
			explicit_bzero(*p[i].slot, strlen(*p[i].slot));
		free(*p[i].slot);
		*p[i].slot = NULL;
	}
}

/* ---- GetCallerIdentity ------------------------------------------------------------- */

void aws_identity_release(struct aws_identity *id)
{
	if (!id)
		return;
	free(id->account);
	free(id->arn);
	free(id->user_id);
	memset(id, 0, sizeof *id);
}

enum err_code aws_sts_identity_parse(const char *xml, size_t len, struct aws_identity *out,
				     struct err *e)
{
	struct aws_identity id = { 0 };
	const struct pick p[] = {
		{ "GetCallerIdentityResult/Account", &id.account },
		{ "GetCallerIdentityResult/Arn", &id.arn },
		{ "GetCallerIdentityResult/UserId", &id.user_id },
	};
	struct picks ps = { p, sizeof p / sizeof *p };
	memset(out, 0, sizeof *out);
	enum err_code rc = aws_xml_walk(xml, len, on_elem, &ps, e);
	if (!rc && (!id.account || !*id.account || !id.arn || !*id.arn))
		rc = err_set(e, ERR_PARSE, "STS GetCallerIdentity: the answer has no Account or Arn");
	if (rc) {
		aws_identity_release(&id);
		return rc;
	}
	if (!id.user_id)
		id.user_id = xstrdup("");
	*out = id;
	return ERR_OK;
}

enum err_code aws_sts_get_caller_identity(struct aws_ctx *ctx, struct aws_identity *out,
					  struct err *e)
{
	struct buf body = BUF_INIT;
	memset(out, 0, sizeof *out);
	enum err_code rc = aws_query_call(ctx, "STS", "sts", "GetCallerIdentity", "2011-06-15",
					  NULL, 0, NULL, NULL, &body, e);
	if (!rc)
		rc = aws_sts_identity_parse(body.ptr, body.len, out, e);
	buf_release(&body);
	return rc;
}

/* ---- AssumeRole ---------------------------------------------------------------------- */

enum err_code aws_sts_credentials_parse(const char *xml, size_t len, struct aws_creds *out,
					struct err *e)
{
	char *ak = NULL, *sk = NULL, *tok = NULL, *exp = NULL;
	const struct pick p[] = {
		{ "AssumeRoleResult/Credentials/AccessKeyId", &ak },
		{ "AssumeRoleResult/Credentials/SecretAccessKey", &sk },
		{ "AssumeRoleResult/Credentials/SessionToken", &tok },
		{ "AssumeRoleResult/Credentials/Expiration", &exp },
	};
	struct picks ps = { p, sizeof p / sizeof *p };
	time_t expires = 0;
	memset(out, 0, sizeof *out);
	enum err_code rc = aws_xml_walk(xml, len, on_elem, &ps, e);
	if (!rc && (!ak || !*ak || !sk || !*sk || !tok || !*tok || !exp))
		rc = err_set(e, ERR_PARSE, "STS AssumeRole: the answer lacks part of Credentials "
					   "(AccessKeyId, SecretAccessKey, SessionToken, Expiration)");
	else if (!rc && aws_iso8601_parse(exp, &expires, NULL))
		rc = err_set(e, ERR_PARSE, "STS AssumeRole: Expiration is not an ISO 8601 time");
	if (!rc) {
		out->access_key = ak;
		out->secret_key = sk;
		out->session_token = tok;
		out->expires = expires;
		snprintf(out->source, sizeof out->source, "assume-role");
		ak = sk = tok = NULL;
	}
	slots_wipe(p, sizeof p / sizeof *p);
	return rc;
}

static void kv_put(const char **kv, size_t *n, const char *key, const char *value)
{
	kv[(*n)++] = key;
	kv[(*n)++] = value;
}

enum err_code aws_sts_assume_role(struct aws_ctx *ctx, const struct aws_sts_assume *req,
				  const struct aws_creds *source, struct aws_creds *out,
				  struct err *e)
{
	const char *kv[8];
	size_t n = 0;
	char dur[16];
	struct buf body = BUF_INIT, resource = BUF_INIT;
	kv_put(kv, &n, "RoleArn", req->role_arn);
	kv_put(kv, &n, "RoleSessionName", req->session_name);
	if (req->duration_s) {
		snprintf(dur, sizeof dur, "%d", req->duration_s);
		kv_put(kv, &n, "DurationSeconds", dur);
	}
	if (req->external_id)
		kv_put(kv, &n, "ExternalId", req->external_id);
	buf_addf(&resource, "role %s", req->role_arn);
	memset(out, 0, sizeof *out);
	enum err_code rc = aws_query_call(ctx, "STS", "sts", "AssumeRole", "2011-06-15", kv, n,
					  resource.ptr, source, &body, e);
	if (!rc)
		rc = aws_sts_credentials_parse(body.ptr, body.len, out, e);
	buf_wipe(&body);
	buf_release(&resource);
	return rc;
}
