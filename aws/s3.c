/*
 * s3 — the S3 REST calls tarmac makes (spec/aws.md §3): ListBuckets,
 * ListObjectsV2 (every page), GetObject, HeadObject, PutObject; the
 * response parsers behind them; addressing; and the region redirect.
 *
 * Invariants:
 * - Addressing is botocore's: virtual-hosted for DNS-compatible buckets on
 *   AWS endpoints, path-style for custom endpoints (s3rver, 127.0.0.1) and
 *   for dotted or non-DNS names. Keys are percent-encoded once, '/' kept.
 * - A region redirect (301/302/307, PermanentRedirect,
 *   AuthorizationHeaderMalformed, IllegalLocationConstraintException) is
 *   followed once: the region comes from x-amz-bucket-region, else the
 *   error's <Region>, else a HEAD of the bucket; the request is re-signed
 *   for it (never sent to Location) and the bucket's region is cached in
 *   ctx->bucket_regions under ctx->lock.
 * - Error messages name the operation, the bucket or s3://bucket/key and
 *   AWS's code; AccessDenied says which IAM action is missing.
 * - Listing keys are decoded only when the page says
 *   <EncodingType>url</EncodingType> (s3rver ignores encoding-type).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "aws/internal.h"
#include "base/log.h"

enum { S3_REGION_MAX = 64, S3_MAX_PAGES = 100000 };

#define RESPONSE_INIT { .body = BUF_INIT, .headers = VEC_INIT }

void aws_s3_bucket_free(void *p)
{
	struct aws_s3_bucket *b = p;
	if (!b)
		return;
	free(b->name);
	free(b->created);
	free(b);
}

void aws_s3_object_free(void *p)
{
	struct aws_s3_object *o = p;
	if (!o)
		return;
	free(o->key);
	free(o->etag);
	free(o->last_modified);
	free(o);
}

/* ---- parsing ------------------------------------------------------------ */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* botocore's unquote_plus. %00 stays as it is: a C string cannot hold it
 * and S3 keys never contain it. */
static char *url_decode_plus(const char *s)
{
	struct buf out = BUF_INIT;
	for (; *s; s++) {
		int hi = s[0] == '%' ? hexval((unsigned char)s[1]) : -1;
		int lo = hi >= 0 ? hexval((unsigned char)s[2]) : -1;
		if (lo >= 0 && (hi | lo)) {
			buf_addc(&out, (char)(hi * 16 + lo));
			s += 2;
		} else {
			buf_addc(&out, *s == '+' ? ' ' : *s);
		}
	}
	return buf_detach(&out, NULL);
}

static bool parse_size(const char *text, size_t len, int64_t *out)
{
	if (len == 0 || len > 18)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		v = v * 10 + (text[i] - '0');
	}
	*out = v;
	return true;
}

struct list_parse {
	struct aws_s3_list_page *page;
	struct aws_s3_object *cur;
	bool root;
};

static enum err_code on_contents_elem(struct list_parse *lp, const char *leaf, const char *text,
				      size_t len, struct err *e)
{
	struct aws_s3_object *o = lp->cur;
	if (!strcmp(leaf, "Key") && !o->key)
		o->key = xstrndup(text, len);
	else if (!strcmp(leaf, "ETag") && !o->etag)
		o->etag = xstrndup(text, len);
	else if (!strcmp(leaf, "LastModified") && !o->last_modified)
		o->last_modified = xstrndup(text, len);
	else if (!strcmp(leaf, "Size") && !parse_size(text, len, &o->size))
		return err_set(e, ERR_PARSE, "ListObjectsV2 response: bad Size \"%.*s\"",
			       (int)(len > 40 ? 40 : len), text);
	return ERR_OK;
}

static enum err_code on_list_elem(const char *path, const char *text, size_t len, void *arg,
				  struct err *e)
{
	static const char contents[] = "ListBucketResult/Contents/";
	const size_t cl = sizeof contents - 1;
	struct list_parse *lp = arg;
	struct aws_s3_list_page *p = lp->page;
	if (!strncmp(path, contents, cl) && !strchr(path + cl, '/')) {
		if (!lp->cur) {
			lp->cur = xcalloc(1, sizeof *lp->cur);
			lp->cur->size = -1;
		}
		return on_contents_elem(lp, path + cl, text, len, e);
	}
	if (!strcmp(path, "ListBucketResult/Contents")) {
		struct aws_s3_object *o = lp->cur;
		lp->cur = NULL;
		if (!o || !o->key) {
			aws_s3_object_free(o);
			return err_set(e, ERR_PARSE,
				       "ListObjectsV2 response: Contents without a Key");
		}
		vec_push(&p->objects, o);
	} else if (!strcmp(path, "ListBucketResult/IsTruncated")) {
		p->truncated = len == 4 && !memcmp(text, "true", 4);
	} else if (!strcmp(path, "ListBucketResult/NextContinuationToken") && !p->next_token) {
		p->next_token = xstrndup(text, len);
	} else if (!strcmp(path, "ListBucketResult/EncodingType")) {
		p->url_encoded = len == 3 && !memcmp(text, "url", 3);
	} else if (!strcmp(path, "ListBucketResult")) {
		lp->root = true;
	}
	return ERR_OK;
}

void aws_s3_list_page_release(struct aws_s3_list_page *p)
{
	if (!p)
		return;
	vec_release(&p->objects, aws_s3_object_free);
	free(p->next_token);
	memset(p, 0, sizeof *p);
}

enum err_code aws_s3_list_page_parse(const char *xml, size_t len, struct aws_s3_list_page *out,
				     struct err *e)
{
	memset(out, 0, sizeof *out);
	struct list_parse lp = { .page = out };
	enum err_code c = aws_xml_walk(xml, len, on_list_elem, &lp, e);
	aws_s3_object_free(lp.cur);
	if (!c && !lp.root)
		c = err_set(e, ERR_PARSE, "ListObjectsV2 response: no ListBucketResult");
	if (c) {
		aws_s3_list_page_release(out);
		return c;
	}
	for (size_t i = 0; out->url_encoded && i < out->objects.len; i++) {
		struct aws_s3_object *o = out->objects.items[i];
		char *raw = o->key;
		o->key = url_decode_plus(raw);
		free(raw);
	}
	return ERR_OK;
}

struct buckets_parse {
	struct vec *out;
	struct aws_s3_bucket *cur;
	char **token;
	bool root;
};

static enum err_code on_bucket_elem(const char *path, const char *text, size_t len, void *arg,
				    struct err *e)
{
	static const char bucket[] = "ListAllMyBucketsResult/Buckets/Bucket";
	struct buckets_parse *bp = arg;
	if (!strncmp(path, bucket, sizeof bucket - 1) && path[sizeof bucket - 1] == '/') {
		if (!bp->cur)
			bp->cur = xcalloc(1, sizeof *bp->cur);
		const char *leaf = path + sizeof bucket;
		if (!strcmp(leaf, "Name") && !bp->cur->name)
			bp->cur->name = xstrndup(text, len);
		else if (!strcmp(leaf, "CreationDate") && !bp->cur->created)
			bp->cur->created = xstrndup(text, len);
	} else if (!strcmp(path, bucket)) {
		struct aws_s3_bucket *b = bp->cur;
		bp->cur = NULL;
		if (!b || !b->name) {
			aws_s3_bucket_free(b);
			return err_set(e, ERR_PARSE, "ListBuckets response: Bucket without a Name");
		}
		if (!b->created)
			b->created = xstrdup("");
		vec_push(bp->out, b);
	} else if (!strcmp(path, "ListAllMyBucketsResult/ContinuationToken") && !*bp->token) {
		if (len)
			*bp->token = xstrndup(text, len);
	} else if (!strcmp(path, "ListAllMyBucketsResult")) {
		bp->root = true;
	}
	return ERR_OK;
}

enum err_code aws_s3_buckets_parse(const char *xml, size_t len, struct vec *buckets,
				   char **next_token, struct err *e)
{
	struct vec got = VEC_INIT;
	*next_token = NULL;
	struct buckets_parse bp = { .out = &got, .token = next_token };
	enum err_code c = aws_xml_walk(xml, len, on_bucket_elem, &bp, e);
	aws_s3_bucket_free(bp.cur);
	if (!c && !bp.root)
		c = err_set(e, ERR_PARSE, "ListBuckets response: no ListAllMyBucketsResult");
	if (c) {
		vec_release(&got, aws_s3_bucket_free);
		free(*next_token);
		*next_token = NULL;
		return c;
	}
	for (size_t i = 0; i < got.len; i++)
		vec_push(buckets, got.items[i]);
	vec_release(&got, NULL);
	return ERR_OK;
}

/* ---- addressing and the bucket-region cache ------------------------------ */

bool aws_s3_bucket_dns_ok(const char *b)
{
	size_t n = strlen(b);
	if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-'))
			return false;
	return true;
}

static void add_address(const char *ep, bool custom, const char *bucket, const char *key,
			struct aws_s3_where *out)
{
	const char *host = strstr(ep, "://");
	host = host ? host + 3 : ep;
	const char *base = strchr(host, '/');
	size_t origin = base ? (size_t)(base - ep) : strlen(ep);
	bool vhost = bucket && !custom && !strncmp(ep, "https://", 8) &&
		     aws_s3_bucket_dns_ok(bucket);
	if (vhost) {
		buf_add(&out->endpoint, ep, (size_t)(host - ep));
		buf_addf(&out->endpoint, "%s.", bucket);
		buf_add(&out->endpoint, host, origin - (size_t)(host - ep));
	} else {
		buf_add(&out->endpoint, ep, origin);
	}
	if (base)
		buf_adds(&out->path, base);
	while (out->path.len && out->path.ptr[out->path.len - 1] == '/')
		buf_setlen(&out->path, out->path.len - 1);
	if (bucket && !vhost) {
		buf_addc(&out->path, '/');
		aws_uri_encode(&out->path, bucket, false);
	}
	if (key || !out->path.len)
		buf_addc(&out->path, '/');
	if (key)
		aws_uri_encode(&out->path, key, true);
}

enum err_code aws_s3_address(struct aws_ctx *ctx, const char *bucket, const char *key,
			     const char *region, struct aws_s3_where *out, struct err *e)
{
	struct buf ep = BUF_INIT;
	bool custom = false;
	enum err_code c = aws_endpoint_for(ctx, "S3", region, &ep, &custom, e);
	if (!c) {
		buf_reset(&out->endpoint);
		buf_reset(&out->path);
		add_address(ep.ptr, custom, bucket, key, out);
	}
	buf_release(&ep);
	return c;
}

void aws_s3_where_release(struct aws_s3_where *w)
{
	buf_release(&w->endpoint);
	buf_release(&w->path);
}

static bool region_ok(const char *r)
{
	size_t n = r ? strlen(r) : 0;
	if (n == 0 || n >= S3_REGION_MAX)
		return false;
	return strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static void default_region(struct aws_ctx *ctx, char *out, size_t n)
{
	const char *r = aws_ctx_region(ctx);
	snprintf(out, n, "%s", r && *r ? r : "us-east-1");
}

void aws_s3_bucket_region(struct aws_ctx *ctx, const char *bucket, char *out, size_t n)
{
	size_t bl = strlen(bucket);
	bool found = false;
	pthread_mutex_lock(&ctx->lock);
	for (size_t i = 0; i < ctx->bucket_regions.len && !found; i++) {
		const char *s = ctx->bucket_regions.items[i];
		if (!strncmp(s, bucket, bl) && s[bl] == '\t') {
			snprintf(out, n, "%s", s + bl + 1);
			found = true;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	if (!found)
		default_region(ctx, out, n);
}

static void bucket_region_remember(struct aws_ctx *ctx, const char *bucket, const char *region)
{
	struct buf entry = BUF_INIT;
	size_t bl = strlen(bucket);
	buf_addf(&entry, "%s\t%s", bucket, region);
	pthread_mutex_lock(&ctx->lock);
	size_t i = 0;
	for (; i < ctx->bucket_regions.len; i++) {
		const char *s = ctx->bucket_regions.items[i];
		if (!strncmp(s, bucket, bl) && s[bl] == '\t')
			break;
	}
	if (i < ctx->bucket_regions.len) {
		free(ctx->bucket_regions.items[i]);
		ctx->bucket_regions.items[i] = buf_detach(&entry, NULL);
	} else {
		vec_push(&ctx->bucket_regions, buf_detach(&entry, NULL));
	}
	pthread_mutex_unlock(&ctx->lock);
}

/* ---- one call, with the region redirect ---------------------------------- */

struct s3_op {
	const char *operation;     /* "ListObjectsV2" */
	const char *action;        /* the IAM action it needs: "s3:ListBucket" */
	const char *bucket, *key;  /* bucket NULL: the service (ListBuckets) */
	const char *method, *query;
	const char *const *headers;
	size_t nheaders;
	const void *body;
	size_t body_len;
	bool mutating;
	size_t max_response;
	char resource[1200];       /* "bucket b" or "s3://b/k", for messages */
};

static void op_resource(struct s3_op *op)
{
	if (op->key)
		snprintf(op->resource, sizeof op->resource, "s3://%s/%s", op->bucket, op->key);
	else if (op->bucket)
		snprintf(op->resource, sizeof op->resource, "bucket %s", op->bucket);
	else
		op->resource[0] = 0;
}

static void op_request(const struct s3_op *op, struct aws_request *req)
{
	memset(req, 0, sizeof *req);
	req->service_id = "S3";
	req->signing_name = "s3";
	req->operation = op->operation;
	req->resource = op->resource[0] ? op->resource : NULL;
	req->method = op->method;
	req->query = op->query;
	req->headers = op->headers;
	req->nheaders = op->nheaders;
	req->body = op->body;
	req->body_len = op->body_len;
	req->mutating = op->mutating;
	req->max_response = op->max_response;
}

static enum err_code s3_send(struct aws_ctx *ctx, const struct s3_op *op, const char *region,
			     struct aws_response *resp, struct err *e)
{
	struct aws_s3_where w = { BUF_INIT, BUF_INIT };
	struct aws_request req;
	enum err_code c = aws_s3_address(ctx, op->bucket, op->key, region, &w, e);
	if (!c) {
		op_request(op, &req);
		req.path = w.path.ptr;
		req.region = region;
		req.endpoint = w.endpoint.ptr;
		c = aws_http_do(ctx, &req, resp, e);
	}
	aws_s3_where_release(&w);
	return c;
}

static bool wants_redirect(const struct aws_response *r, const char *region)
{
	if (r->status == 301 || r->status == 302 || r->status == 307)
		return true;
	if (r->status != 400)
		return false;
	const char *hdr = aws_response_header(r, "x-amz-bucket-region");
	if (hdr && region_ok(hdr) && strcmp(hdr, region))
		return true;
	struct aws_xml_error x;
	if (!r->body.len || aws_xml_error_parse(r->body.ptr, r->body.len, &x, NULL))
		return false;
	bool yes = !strcmp(x.code, "AuthorizationHeaderMalformed") ||
		   !strcmp(x.code, "IllegalLocationConstraintException") ||
		   !strcmp(x.code, "PermanentRedirect");
	aws_xml_error_release(&x);
	return yes;
}

/* The bucket's real region, from the failed response or a HEAD of the
 * bucket (whose x-amz-bucket-region S3 sends even with an error status). */
static bool redirect_region(struct aws_ctx *ctx, const struct s3_op *op,
			    const struct aws_response *r, const char *region, char *out)
{
	const char *hdr = aws_response_header(r, "x-amz-bucket-region");
	struct aws_xml_error x;
	if (region_ok(hdr)) {
		snprintf(out, S3_REGION_MAX, "%s", hdr);
		return true;
	}
	if (r->body.len && !aws_xml_error_parse(r->body.ptr, r->body.len, &x, NULL)) {
		if (region_ok(x.region))
			snprintf(out, S3_REGION_MAX, "%s", x.region);
		aws_xml_error_release(&x);
		if (*out)
			return true;
	}
	struct s3_op head = { .operation = "HeadBucket", .action = "s3:ListBucket",
			      .bucket = op->bucket, .method = "HEAD" };
	op_resource(&head);
	struct aws_response hr = RESPONSE_INIT;
	if (!s3_send(ctx, &head, region, &hr, NULL)) {
		hdr = aws_response_header(&hr, "x-amz-bucket-region");
		if (region_ok(hdr))
			snprintf(out, S3_REGION_MAX, "%s", hdr);
	}
	aws_response_release(&hr);
	return *out != 0;
}

static enum err_code s3_do(struct aws_ctx *ctx, struct s3_op *op, struct aws_response *resp,
			   struct err *e)
{
	char region[S3_REGION_MAX], other[S3_REGION_MAX] = "";
	op_resource(op);
	if (op->bucket)
		aws_s3_bucket_region(ctx, op->bucket, region, sizeof region);
	else
		default_region(ctx, region, sizeof region);
	enum err_code c = s3_send(ctx, op, region, resp, e);
	if (c || !op->bucket || !wants_redirect(resp, region))
		return c;
	if (!redirect_region(ctx, op, resp, region, other) || !strcmp(other, region))
		return ERR_OK; /* the caller reports the original error */
	log_msg(LOG_INFO, "S3 bucket %s is in %s, not %s: signing for %s", op->bucket, other,
		region, other);
	bucket_region_remember(ctx, op->bucket, other);
	aws_response_release(resp);
	*resp = (struct aws_response)RESPONSE_INIT;
	return s3_send(ctx, op, other, resp, e);
}

static void err_append(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void err_append(struct err *e, const char *fmt, ...)
{
	if (!e)
		return;
	size_t n = strlen(e->msg);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg + n, sizeof e->msg - n, fmt, ap);
	va_end(ap);
}

/* What to do, after AWS's text (as call.c's advice reads for the other
 * services): the IAM permission with its resource, the attempts spent. */
static void add_hint(const struct s3_op *op, const struct aws_response *r, const char *code,
		     struct err *e)
{
	if (!strcmp(code, "AccessDenied") || (!*code && r->status == 403)) {
		if (!op->bucket)
			err_append(e, " (tarmac needs the IAM permission %s)", op->action);
		else
			err_append(e, " (tarmac needs the IAM permission %s on arn:aws:s3:::%s%s%s)",
				   op->action, op->bucket, op->key ? "/" : "",
				   op->key ? op->key : "");
	} else if (!strcmp(code, "NoSuchBucket")) {
		err_append(e, " (check the bucket name and the account of the credentials)");
	} else if (!strcmp(code, "ExpiredToken")) {
		err_append(e, " (the session token has expired: renew the credentials)");
	}
	const char *n = aws_response_header(r, "x-tarmac-attempts");
	if (n)
		err_append(e, " (gave up after %s attempts)", n);
}

/* Maps a non-2xx response through aws_error_from_xml, adding what to do. */
static enum err_code s3_fail(const struct s3_op *op, const struct aws_response *r,
			     struct err *e)
{
	struct aws_request req;
	op_request(op, &req);
	enum err_code c = aws_error_from_xml(&req, r, e);
	struct aws_xml_error x;
	if (r->body.len && !aws_xml_error_parse(r->body.ptr, r->body.len, &x, NULL)) {
		add_hint(op, r, x.code, e);
		aws_xml_error_release(&x);
	} else {
		add_hint(op, r, "", e);
	}
	return c;
}

/* ---- the calls ----------------------------------------------------------- */

static void list_query(struct buf *q, const char *prefix, const char *token)
{
	/* Already in canonical order, so what is sent is what is signed. */
	if (token) {
		buf_adds(q, "continuation-token=");
		aws_uri_encode(q, token, false);
		buf_addc(q, '&');
	}
	buf_adds(q, "encoding-type=url&list-type=2&max-keys=1000");
	if (prefix && *prefix) {
		buf_adds(q, "&prefix=");
		aws_uri_encode(q, prefix, false);
	}
}

/* Moves a page's objects to out; *token becomes the next page's token. */
static enum err_code take_page(const struct s3_op *op, const struct aws_response *r,
			       struct vec *out, char **token, struct err *e)
{
	struct aws_s3_list_page page;
	enum err_code c = aws_s3_list_page_parse(r->body.ptr, r->body.len, &page, e);
	if (c) {
		err_prefix(e, "S3 ListObjectsV2 on %s", op->resource);
		return c;
	}
	for (size_t i = 0; i < page.objects.len; i++)
		vec_push(out, page.objects.items[i]);
	page.objects.len = 0;
	char *next = page.truncated ? page.next_token : NULL;
	if (page.truncated && (!next || !*next || (*token && !strcmp(next, *token))))
		c = err_set(e, ERR_PARSE,
			    "S3 ListObjectsV2 on %s: a truncated page without a new"
			    " continuation token",
			    op->resource);
	free(*token);
	*token = c ? NULL : next;
	if (next == page.next_token && !c)
		page.next_token = NULL;
	aws_s3_list_page_release(&page);
	return c;
}

enum err_code aws_s3_list_objects(struct aws_ctx *ctx, const char *bucket, const char *prefix,
				  struct vec *out, struct err *e)
{
	char *token = NULL;
	enum err_code c = ERR_OK;
	size_t pages = 0;
	do {
		struct buf q = BUF_INIT;
		struct aws_response r = RESPONSE_INIT;
		list_query(&q, prefix, token);
		struct s3_op op = { .operation = "ListObjectsV2", .action = "s3:ListBucket",
				    .bucket = bucket, .method = "GET", .query = q.ptr };
		c = s3_do(ctx, &op, &r, e);
		if (!c && r.status != 200)
			c = s3_fail(&op, &r, e);
		if (!c)
			c = take_page(&op, &r, out, &token, e);
		if (!c && ++pages >= S3_MAX_PAGES && token)
			c = err_set(e, ERR_TOO_LARGE, "S3 ListObjectsV2 on %s: more than %d pages",
				    op.resource, S3_MAX_PAGES);
		aws_response_release(&r);
		buf_release(&q);
	} while (!c && token);
	free(token);
	return c;
}

enum err_code aws_s3_list_buckets(struct aws_ctx *ctx, struct vec *out, struct err *e)
{
	char *token = NULL;
	enum err_code c = ERR_OK;
	size_t pages = 0;
	do {
		struct buf q = BUF_INIT;
		struct aws_response r = RESPONSE_INIT;
		if (token) {
			buf_adds(&q, "continuation-token=");
			aws_uri_encode(&q, token, false);
		}
		struct s3_op op = { .operation = "ListBuckets", .action = "s3:ListAllMyBuckets",
				    .method = "GET", .query = token ? q.ptr : NULL };
		char *next = NULL;
		c = s3_do(ctx, &op, &r, e);
		if (!c && r.status != 200)
			c = s3_fail(&op, &r, e);
		if (!c && (c = aws_s3_buckets_parse(r.body.ptr, r.body.len, out, &next, e)))
			err_prefix(e, "S3 ListBuckets");
		if (!c && next && ((token && !strcmp(next, token)) || ++pages >= S3_MAX_PAGES))
			c = err_set(e, ERR_PARSE, "S3 ListBuckets: the continuation token repeats");
		free(token);
		token = next;
		if (c) {
			free(token);
			token = NULL;
		}
		aws_response_release(&r);
		buf_release(&q);
	} while (!c && token);
	free(token);
	return c;
}

/* NOLINTNEXTLINE(readability-function-size): aws.h's signature */
enum err_code aws_s3_get_object(struct aws_ctx *ctx, const char *bucket, const char *key,
				size_t cap, struct buf *body, char **etag, struct err *e)
{
	struct aws_response r = RESPONSE_INIT;
	struct s3_op op = { .operation = "GetObject", .action = "s3:GetObject", .bucket = bucket,
			    .key = key, .method = "GET", .max_response = cap };
	if (etag)
		*etag = NULL;
	enum err_code c = s3_do(ctx, &op, &r, e);
	if (c == ERR_TOO_LARGE)
		c = err_set(e, c, "S3 GetObject on %s: larger than %zu bytes", op.resource,
			    cap ? cap : (size_t)16 << 20);
	else if (!c && r.status != 200 && r.status != 206)
		c = s3_fail(&op, &r, e);
	if (!c) {
		if (etag)
			*etag = xstrdup_or_null(aws_response_header(&r, "etag"));
		buf_release(body);
		*body = r.body;
		buf_init(&r.body);
	}
	aws_response_release(&r);
	return c;
}

static int64_t header_int(const struct aws_response *r, const char *name)
{
	const char *v = aws_response_header(r, name);
	int64_t n = -1;
	if (v && !parse_size(v, strlen(v), &n))
		n = -1;
	return n;
}

/* NOLINTNEXTLINE(readability-function-size): aws.h's signature */
enum err_code aws_s3_head_object(struct aws_ctx *ctx, const char *bucket, const char *key,
				 bool *exists, char **etag, int64_t *size, struct err *e)
{
	struct aws_response r = RESPONSE_INIT;
	struct s3_op op = { .operation = "HeadObject", .action = "s3:GetObject", .bucket = bucket,
			    .key = key, .method = "HEAD" };
	*exists = false;
	if (etag)
		*etag = NULL;
	if (size)
		*size = -1;
	enum err_code c = s3_do(ctx, &op, &r, e);
	if (!c && r.status == 200) {
		*exists = true;
		if (etag)
			*etag = xstrdup_or_null(aws_response_header(&r, "etag"));
		if (size)
			*size = header_int(&r, "content-length");
	} else if (!c && r.status == 403) {
		/* HEAD errors have no body: say what 403 can mean here. */
		c = err_set(e, ERR_AUTH,
			    "S3 HeadObject on %s: HTTP 403 (tarmac needs the IAM permission"
			    " s3:GetObject on arn:aws:s3:::%s/%s, and s3:ListBucket on"
			    " arn:aws:s3:::%s to tell a missing key from a forbidden one)",
			    op.resource, bucket, key, bucket);
	} else if (!c && r.status != 404) {
		c = s3_fail(&op, &r, e);
	}
	aws_response_release(&r);
	return c;
}

/* Base64 of the body's MD5, or "" where MD5 is unavailable (FIPS). */
static void content_md5(const void *data, size_t len, char out[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	out[0] = 0;
	if (EVP_Digest(data, len, md, &n, EVP_md5(), NULL) == 1 && n == 16)
		EVP_EncodeBlock((unsigned char *)out, md, 16);
}

/* NOLINTNEXTLINE(readability-function-size): aws.h's signature */
enum err_code aws_s3_put_object(struct aws_ctx *ctx, const char *bucket, const char *key,
				const void *data, size_t len, char **etag, struct err *e)
{
	struct aws_response r = RESPONSE_INIT;
	char md5[32], md5_header[64];
	const char *headers[2] = { "Content-Type: application/octet-stream", md5_header };
	struct s3_op op = { .operation = "PutObject", .action = "s3:PutObject", .bucket = bucket,
			    .key = key, .method = "PUT", .headers = headers, .nheaders = 1,
			    .body = data, .body_len = len, .mutating = true };
	if (etag)
		*etag = NULL;
	op_resource(&op);
	if (ctx->read_only)
		return err_set(e, ERR_READ_ONLY, "S3 PutObject on %s: refused, tarmac is read-only",
			       op.resource);
	content_md5(data, len, md5);
	if (md5[0]) {
		snprintf(md5_header, sizeof md5_header, "Content-MD5: %s", md5);
		op.nheaders = 2;
	}
	enum err_code c = s3_do(ctx, &op, &r, e);
	if (!c && r.status != 200)
		c = s3_fail(&op, &r, e);
	if (!c && etag)
		*etag = xstrdup_or_null(aws_response_header(&r, "etag"));
	aws_response_release(&r);
	return c;
}
