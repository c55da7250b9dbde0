/*
 * sigv4 — AWS Signature Version 4, header and query (presigned) forms, and
 * the RDS IAM auth token built on the latter (spec/aws.md §1).
 *
 * Hand-rolled on OpenSSL's SHA256/HMAC because libcurl's CURLOPT_AWS_SIGV4
 * neither sorts the query nor adds x-amz-content-sha256 (§1.6).
 *
 * Invariants:
 * - The canonical query is made of pairs encoded with the AWS rule after
 *   decoding any %XX already present, sorted as (key, value) tuples — so a
 *   correctly encoded wire query signs as itself, byte for byte.
 * - Non-S3 paths are dot-segment-normalised and encoded again (botocore's
 *   double encoding); S3 paths are signed as sent, only completing an
 *   encoding the caller left out (a raw space becomes %20).
 * - Header values are trimmed and inner whitespace runs (folded lines
 *   included) collapsed to one space; repeated names join with ',' in
 *   order of appearance.
 * - Secret key material (the "AWS4"+secret key and every derived key) is
 *   cleansed before return; nothing here logs.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "aws/internal.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char hexdig[] = "0123456789ABCDEF";

static void hex_lower(const unsigned char *p, size_t n, char *out)
{
	static const char lo[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = lo[p[i] >> 4];
		out[2 * i + 1] = lo[p[i] & 15];
	}
	out[2 * n] = 0;
}

void aws_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(data ? data : (const void *)"", len, md);
	hex_lower(md, sizeof md, out);
}

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static void add_pct(struct buf *out, unsigned char c)
{
	char enc[3] = { '%', hexdig[c >> 4], hexdig[c & 15] };
	buf_add(out, enc, 3);
}

void aws_uri_encode(struct buf *out, const char *s, bool keep_slash)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p) || (keep_slash && *p == '/'))
			buf_addc(out, (char)*p);
		else
			add_pct(out, *p);
	}
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The AWS encoding of s[0..n) as a server sees it: valid %XX escapes are
 * decoded first, so an encoded input comes out unchanged (hex uppercased)
 * and a raw one comes out encoded. An escaped slash stays escaped even
 * when raw slashes are kept: it is part of a key, not a separator.
 */
static void add_canonical(struct buf *out, const char *s, size_t n, bool keep_slash)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
			unsigned char c = (unsigned char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
			if (unreserved(c))
				buf_addc(out, (char)c);
			else
				add_pct(out, c);
			i += 2;
		} else if (unreserved(p[i]) || (keep_slash && p[i] == '/')) {
			buf_addc(out, (char)p[i]);
		} else {
			add_pct(out, p[i]);
		}
	}
}

/*
 * RFC 3986 dot-segment removal plus the collapsing of empty segments AWS
 * expects ("//" → "/"); a trailing slash survives when anything is left.
 */
static void remove_dots(struct buf *out, const char *path)
{
	size_t n = strlen(path), depth = 0;
	const char *p = path;
	while (p < path + n) {
		const char *q = strchr(p, '/');
		size_t len = q ? (size_t)(q - p) : strlen(p);
		if (len == 2 && !memcmp(p, "..", 2)) {
			if (depth) { /* drop the last "/segment" */
				size_t k = out->len;
				while (k && out->ptr[k - 1] != '/')
					k--;
				buf_setlen(out, k - 1);
				depth--;
			}
		} else if (len && !(len == 1 && *p == '.')) {
			buf_addc(out, '/');
			buf_add(out, p, len);
			depth++;
		}
		p += len + 1;
	}
	if (depth && path[n - 1] == '/')
		buf_addc(out, '/');
	if (!out->len && path[0] == '/')
		buf_addc(out, '/');
	if (path[0] != '/' && out->len)
		buf_consume(out, 1);
}

static void canonical_path(struct buf *out, const char *path, bool normalize)
{
	if (!path || !*path) {
		buf_addc(out, '/');
		return;
	}
	if (!normalize) {
		add_canonical(out, path, strlen(path), true);
		return;
	}
	struct buf tmp = BUF_INIT;
	remove_dots(&tmp, path);
	aws_uri_encode(out, tmp.ptr, true);
	buf_release(&tmp);
}

/* Orders "name<sep>rest" strings by name, then by rest (bytewise). */
static int cmp_split(const char *a, const char *b, char sep)
{
	const char *ea = strchr(a, sep), *eb = strchr(b, sep);
	size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
	int c = memcmp(a, b, la < lb ? la : lb);
	if (c)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(ea ? ea + 1 : "", eb ? eb + 1 : "");
}

static int cmp_pair(const void *a, const void *b)
{
	return cmp_split(*(char *const *)a, *(char *const *)b, '=');
}

static int cmp_header(const void *a, const void *b)
{
	return cmp_split(*(char *const *)a, *(char *const *)b, ':');
}

/* Adds every "k=v" of a raw query as a canonical "K=V" to pairs. */
static void query_collect(struct vec *pairs, const char *query)
{
	for (const char *p = query; p && *p;) {
		size_t len = strcspn(p, "&");
		if (len) {
			const char *eq = memchr(p, '=', len);
			size_t klen = eq ? (size_t)(eq - p) : len;
			struct buf kv = BUF_INIT;
			add_canonical(&kv, p, klen, false);
			buf_addc(&kv, '=');
			if (eq)
				add_canonical(&kv, eq + 1, len - klen - 1, false);
			vec_push(pairs, buf_detach(&kv, NULL));
		}
		p += len + (p[len] == '&');
	}
}

/* Adds key=value with the value (raw) encoded by the AWS rule. */
static void pair_add(struct vec *pairs, const char *key, const char *raw)
{
	struct buf kv = BUF_INIT;
	buf_adds(&kv, key);
	buf_addc(&kv, '=');
	aws_uri_encode(&kv, raw, false);
	vec_push(pairs, buf_detach(&kv, NULL));
}

/* Trimall: trims, and collapses runs of whitespace (folded lines too). */
static void add_trimmed(struct buf *out, const char *v)
{
	bool space = false;
	while (*v && isspace((unsigned char)*v))
		v++;
	for (; *v; v++) {
		if (isspace((unsigned char)*v)) {
			space = true;
			continue;
		}
		if (space)
			buf_addc(out, ' ');
		space = false;
		buf_addc(out, *v);
	}
}

/* Adds "name:value" to hdrs, joining a repeated name's values with ','. */
static void header_add(struct vec *hdrs, const char *name, size_t nlen, const char *value)
{
	struct buf h = BUF_INIT;
	for (size_t i = 0; i < nlen; i++)
		buf_addc(&h, (char)tolower((unsigned char)name[i]));
	buf_addc(&h, ':');
	for (size_t i = 0; i < hdrs->len; i++) {
		char *old = hdrs->items[i];
		if (!strncmp(old, h.ptr, h.len)) {
			buf_reset(&h);
			buf_adds(&h, old);
			buf_addc(&h, ',');
			add_trimmed(&h, value);
			free(old);
			hdrs->items[i] = buf_detach(&h, NULL);
			return;
		}
	}
	add_trimmed(&h, value);
	vec_push(hdrs, buf_detach(&h, NULL));
}

/* Headers the signer owns or must never sign (botocore's blacklist and
 * what libcurl may rewrite). */
static bool header_skipped(const char *name, size_t n)
{
	static const char *const skip[] = {
		"host", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256",
		"authorization", "expect", "user-agent", "x-amzn-trace-id", "transfer-encoding",
	};
	for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
		if (strlen(skip[i]) == n && !strncasecmp(name, skip[i], n))
			return true;
	return n == 0;
}

static enum err_code headers_collect(struct vec *hdrs, const struct aws_sigv4_request *r,
				     struct err *e)
{
	if (!r->host || !*r->host)
		return err_set(e, ERR_USAGE, "cannot sign %s request: no host", r->method);
	header_add(hdrs, "host", 4, r->host);
	for (size_t i = 0; i < r->nheaders; i++) {
		const char *h = r->headers[i], *colon = strchr(h, ':');
		if (!colon)
			return err_set(e, ERR_USAGE, "cannot sign header without a colon");
		size_t n = (size_t)(colon - h);
		while (n && isspace((unsigned char)h[n - 1]))
			n--;
		if (!header_skipped(h, n))
			header_add(hdrs, h, n, colon + 1);
	}
	return ERR_OK;
}

static void signed_names(struct buf *out, const struct vec *hdrs)
{
	for (size_t i = 0; i < hdrs->len; i++) {
		const char *h = hdrs->items[i];
		if (i)
			buf_addc(out, ';');
		buf_add(out, h, strcspn(h, ":"));
	}
}

struct signing {
	char date[17];     /* 20150830T123600Z */
	char day[9];       /* 20150830 */
	struct vec pairs;  /* canonical "K=V", sorted before use */
	struct vec hdrs;   /* canonical "name:value", sorted before use */
	struct buf names;  /* signed header names joined by ';' */
	char sig[65];
};

static enum err_code signing_init(struct signing *s, const struct aws_sigv4_request *r,
				  const struct aws_creds *c, struct err *e)
{
	memset(s, 0, sizeof *s);
	buf_init(&s->names);
	if (!r->method || !r->service || !*r->service)
		return err_set(e, ERR_USAGE, "cannot sign a request without method and service");
	if (!c || !c->access_key || !*c->access_key || !c->secret_key)
		return err_set(e, ERR_AUTH, "cannot sign %s request to %s: no credentials",
			       r->method, r->host ? r->host : "AWS");
	if (!r->region || !*r->region)
		return err_set(e, ERR_USAGE, "cannot sign request to %s: no region (set "
			       "AWS_REGION or region in the profile)", r->host ? r->host : "AWS");
	struct tm tm;
	if (!gmtime_r(&r->now, &tm) || !strftime(s->date, sizeof s->date, "%Y%m%dT%H%M%SZ", &tm))
		return err_set(e, ERR_USAGE, "cannot sign request: clock out of range");
	memcpy(s->day, s->date, 8);
	return headers_collect(&s->hdrs, r, e);
}

static void signing_release(struct signing *s)
{
	vec_free_strs(&s->pairs);
	for (size_t i = 0; i < s->hdrs.len; i++)
		OPENSSL_cleanse(s->hdrs.items[i], strlen(s->hdrs.items[i]));
	vec_free_strs(&s->hdrs);
	buf_release(&s->names);
}

static void hmac(const void *key, size_t klen, const char *msg, size_t mlen,
		 unsigned char out[32])
{
	unsigned int n = 32;
	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &n);
}

/* kDate → kRegion → kService → kSigning, then the signature of sts. */
static void derive_sign(const char *secret, const struct signing *s, const char *region,
			const char *service, const struct buf *sts, char sig[65])
{
	unsigned char k[32], k2[32];
	struct buf ksecret = BUF_INIT;
	buf_adds(&ksecret, "AWS4");
	buf_adds(&ksecret, secret);
	hmac(ksecret.ptr, ksecret.len, s->day, 8, k);
	buf_wipe(&ksecret);
	hmac(k, 32, region, strlen(region), k2);
	hmac(k2, 32, service, strlen(service), k);
	hmac(k, 32, "aws4_request", 12, k2);
	hmac(k2, 32, sts->ptr, sts->len, k);
	hex_lower(k, 32, sig);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(k2, sizeof k2);
}

/* Builds the canonical request and string to sign, and signs. */
static void sign_finish(struct signing *s, const struct aws_sigv4_request *r,
			const struct aws_creds *c, const char *payload)
{
	struct buf creq = BUF_INIT, sts = BUF_INIT;
	char hash[65];
	vec_sort(&s->pairs, cmp_pair);
	buf_adds(&creq, r->method);
	buf_addc(&creq, '\n');
	canonical_path(&creq, r->path, !(r->s3 || r->no_normalize));
	buf_addc(&creq, '\n');
	for (size_t i = 0; i < s->pairs.len; i++)
		buf_addf(&creq, "%s%s", i ? "&" : "", (const char *)s->pairs.items[i]);
	buf_addc(&creq, '\n');
	for (size_t i = 0; i < s->hdrs.len; i++)
		buf_addf(&creq, "%s\n", (const char *)s->hdrs.items[i]);
	buf_addf(&creq, "\n%s\n%s", s->names.ptr, payload);
	aws_sha256_hex(creq.ptr, creq.len, hash);
	buf_addf(&sts, ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s", s->date, s->day, r->region,
		 r->service, hash);
	derive_sign(c->secret_key, s, r->region, r->service, &sts, s->sig);
	if (r->creq_out)
		buf_add(r->creq_out, creq.ptr, creq.len);
	if (r->sts_out)
		buf_add(r->sts_out, sts.ptr, sts.len);
	buf_wipe(&creq);
	buf_release(&sts);
}

static char *header_line(const char *name, const char *value)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s: %s", name, value);
	return buf_detach(&b, NULL);
}

enum err_code aws_sigv4_sign(const struct aws_sigv4_request *r, const struct aws_creds *c,
			     struct vec *add_headers, struct err *e)
{
	struct signing s;
	const char *payload = r->payload_sha256 ? r->payload_sha256 : EMPTY_SHA256;
	bool sha_header = r->s3 || r->sign_body;
	enum err_code rc = signing_init(&s, r, c, e);
	if (rc != ERR_OK)
		goto out;
	header_add(&s.hdrs, "x-amz-date", 10, s.date);
	if (c->session_token && *c->session_token)
		header_add(&s.hdrs, "x-amz-security-token", 20, c->session_token);
	if (sha_header)
		header_add(&s.hdrs, "x-amz-content-sha256", 20, payload);
	vec_sort(&s.hdrs, cmp_header);
	signed_names(&s.names, &s.hdrs);
	query_collect(&s.pairs, r->query);
	sign_finish(&s, r, c, payload);

	vec_push(add_headers, header_line("X-Amz-Date", s.date));
	if (c->session_token && *c->session_token)
		vec_push(add_headers, header_line("X-Amz-Security-Token", c->session_token));
	if (sha_header)
		vec_push(add_headers, header_line("X-Amz-Content-SHA256", payload));
	struct buf auth = BUF_INIT;
	buf_addf(&auth, "Authorization: " ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, "
		 "SignedHeaders=%s, Signature=%s", c->access_key, s.day, r->region, r->service,
		 s.names.ptr, s.sig);
	vec_push(add_headers, buf_detach(&auth, NULL));
out:
	OPENSSL_cleanse(s.sig, sizeof s.sig);
	signing_release(&s);
	return rc;
}

enum err_code aws_sigv4_presign(const struct aws_sigv4_request *r, const struct aws_creds *c,
				int expires_s, char **query, struct err *e)
{
	struct signing s;
	const char *payload = r->payload_sha256 ? r->payload_sha256
			      : r->s3 ? "UNSIGNED-PAYLOAD" : EMPTY_SHA256;
	enum err_code rc = signing_init(&s, r, c, e);
	if (rc != ERR_OK)
		goto out;
	vec_sort(&s.hdrs, cmp_header);
	signed_names(&s.names, &s.hdrs);
	query_collect(&s.pairs, *query ? *query : r->query);

	char num[24];
	struct buf cred = BUF_INIT;
	buf_addf(&cred, "%s/%s/%s/%s/aws4_request", c->access_key, s.day, r->region, r->service);
	snprintf(num, sizeof num, "%d", expires_s);
	pair_add(&s.pairs, "X-Amz-Algorithm", ALGORITHM);
	pair_add(&s.pairs, "X-Amz-Credential", cred.ptr);
	pair_add(&s.pairs, "X-Amz-Date", s.date);
	pair_add(&s.pairs, "X-Amz-Expires", num);
	if (c->session_token && *c->session_token)
		pair_add(&s.pairs, "X-Amz-Security-Token", c->session_token);
	pair_add(&s.pairs, "X-Amz-SignedHeaders", s.names.ptr);
	buf_release(&cred);
	sign_finish(&s, r, c, payload);

	/* The emitted query is the canonical one: what is sent is what was signed. */
	struct buf q = BUF_INIT;
	for (size_t i = 0; i < s.pairs.len; i++)
		buf_addf(&q, "%s&", (const char *)s.pairs.items[i]);
	buf_addf(&q, "X-Amz-Signature=%s", s.sig);
	free(*query);
	*query = buf_detach(&q, NULL);
out:
	OPENSSL_cleanse(s.sig, sizeof s.sig);
	for (size_t i = 0; i < s.pairs.len; i++)
		OPENSSL_cleanse(s.pairs.items[i], strlen(s.pairs.items[i]));
	signing_release(&s);
	return rc;
}

/* The parameters are what botocore's generate_db_auth_token takes, plus the clock. */
/* NOLINTNEXTLINE(readability-function-size) */
enum err_code aws_sigv4_rds_token(const struct aws_creds *c, const char *region, const char *host,
				  int port, const char *user, time_t now, char **token,
				  struct err *e)
{
	if (!host || !*host || !user || !*user || port <= 0 || port > 65535)
		return err_set(e, ERR_USAGE,
			       "cannot make an RDS auth token: need host, port and user");
	struct buf hostport = BUF_INIT, q = BUF_INIT;
	buf_addf(&hostport, "%s:%d", host, port);
	buf_adds(&q, "Action=connect&DBUser=");
	aws_uri_encode(&q, user, false);
	char *query = buf_detach(&q, NULL);
	struct aws_sigv4_request r = {
		.method = "GET", .host = hostport.ptr, .path = "/", .region = region,
		.service = "rds-db", .now = now,
	};
	enum err_code rc = aws_sigv4_presign(&r, c, 900, &query, e);
	if (rc == ERR_OK) {
		buf_addf(&hostport, "/?%s", query);
		*token = buf_detach(&hostport, NULL);
	}
	if (query)
		OPENSSL_cleanse(query, strlen(query));
	free(query);
	buf_release(&hostport);
	return rc;
}
