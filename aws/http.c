/*
 * http — signed AWS requests over libcurl with the standard retry mode
 * (spec/aws.md §5), and plain requests for IMDS and container credentials.
 *
 * Invariants:
 * - Every attempt is signed afresh (new X-Amz-Date, current credentials,
 *   the context's skew-corrected clock); the Host header sent is the one
 *   signed, and libcurl's own Expect/Content-Type are suppressed so that
 *   nothing it adds is something we signed differently.
 * - TLS peer and host verification are always on; AWS_CA_BUNDLE (or the
 *   profile's ca_bundle) only changes which CAs are trusted.
 * - At most 3 attempts for retryable failures, each retry paid from the
 *   context's quota (500 tokens; 5 a retry, 10 after a timeout; a success
 *   refunds), after a jittered backoff of rand * min(2^(n-1), 20) s. A
 *   clock-skew error and an expired token each earn one immediate extra
 *   attempt on top (after fixing ctx->skew_s / refreshing credentials).
 * - The response body is capped (ERR_TOO_LARGE past it) and headers are
 *   kept lower-cased. Requests, tokens and signatures never reach an error
 *   message or the log: the curl header list is wiped before it is freed.
 * - Curl handles come from ctx->curl_pool (behind ctx->lock) and go back
 *   after each transfer, so connections (and TLS sessions) are reused.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "aws/internal.h"
#include "base/log.h"

enum {
	POOL_MAX = 8,
	MAX_ATTEMPTS = 3,
	QUOTA_MAX = 500,
	COST_RETRY = 5,
	COST_TIMEOUT = 10,
	SKEW_LIMIT_S = 300,
	MAX_HEADERS = 200,
	CONNECT_MS = 10000,
};
#define DEFAULT_CAP ((size_t)16 << 20)
#define PLAIN_CAP ((size_t)1 << 20)

/* ---- the handle pool ------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static CURL *pool_take(struct aws_ctx *ctx)
{
	CURL *h = NULL;
	pthread_once(&curl_once, curl_init_once);
	pthread_mutex_lock(&ctx->lock);
	if (ctx->curl_pool.len)
		h = ctx->curl_pool.items[--ctx->curl_pool.len];
	pthread_mutex_unlock(&ctx->lock);
	if (!h)
		h = curl_easy_init();
	return h;
}

/* Back to the pool with its options cleared; reset keeps live connections. */
static void pool_give(struct aws_ctx *ctx, CURL *h)
{
	if (!h)
		return;
	curl_easy_reset(h);
	pthread_mutex_lock(&ctx->lock);
	if (ctx->curl_pool.len < POOL_MAX) {
		vec_push(&ctx->curl_pool, h);
		h = NULL;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (h)
		curl_easy_cleanup(h);
}

void aws_http_pool_free(struct aws_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	for (size_t i = 0; i < ctx->curl_pool.len; i++)
		curl_easy_cleanup(ctx->curl_pool.items[i]);
	vec_release(&ctx->curl_pool, NULL);
	pthread_mutex_unlock(&ctx->lock);
}

/* ---- one transfer --------------------------------------------------------- */

struct xfer {
	struct aws_ctx *ctx;
	struct aws_response *resp;
	size_t cap;
	bool too_large;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	struct buf *b = &x->resp->body;
	if (len > x->cap - b->len) {
		x->too_large = true;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	if (b->len + len > b->cap) {
		/* Grow by copy and wipe, not realloc: bodies can hold secrets
		 * (GetSecretValue, AssumeRole) and realloc would leave copies. */
		struct buf nb = BUF_INIT;
		size_t want = b->cap * 2 > b->len + len ? b->cap * 2 : b->len + len;
		buf_grow(&nb, want > x->cap ? x->cap : want);
		buf_add(&nb, b->ptr, b->len);
		buf_wipe(b);
		*b = nb;
	}
	buf_add(b, p, len);
	return len;
}

/* "Name: value\r\n" → "name: value"; a status line starts a new header
 * block (after 100 Continue or a proxy's CONNECT response). */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len >= 5 && !memcmp(p, "HTTP/", 5)) {
		vec_free_strs(&x->resp->headers);
		return size * n;
	}
	const char *colon = memchr(p, ':', len);
	if (!colon || colon == p || x->resp->headers.len >= MAX_HEADERS)
		return size * n;
	struct buf h = BUF_INIT;
	for (const char *c = p; c < colon; c++)
		buf_addc(&h, (char)tolower((unsigned char)*c));
	buf_adds(&h, ": ");
	const char *v = colon + 1;
	while (v < p + len && (*v == ' ' || *v == '\t'))
		v++;
	buf_add(&h, v, (size_t)(p + len - v));
	vec_push(&x->resp->headers, buf_detach(&h, NULL));
	return size * n;
}

static bool cancelled(const struct aws_ctx *ctx)
{
	return ctx->cancel && atomic_load(ctx->cancel);
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	const struct xfer *x = arg;
	return cancelled(x->ctx) ? 1 : 0;
}

static void easy_tls(CURL *h, struct aws_ctx *ctx)
{
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	const char *ca = getenv("AWS_CA_BUNDLE");
	if (!ca || !*ca)
		ca = aws_profile_get(ctx, NULL, "ca_bundle");
	if (ca && *ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
}

static void easy_setup(CURL *h, struct xfer *x, const char *url, long connect_ms, long total_ms)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	if (total_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
	easy_tls(h, x->ctx);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "tarmac");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
}

static void easy_method(CURL *h, const char *method, const void *body, size_t len)
{
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "GET") && !len) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (len || !strcmp(method, "POST") || !strcmp(method, "PUT")) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		}
	}
}

static void slist_wipe_free(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		OPENSSL_cleanse(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static struct curl_slist *slist_add(struct curl_slist *l, const char *line)
{
	struct curl_slist *n = curl_slist_append(l, line);
	if (!n) {
		if (buf_oom_hook)
			buf_oom_hook();
		abort();
	}
	return n;
}

static bool has_header(const char *const *h, size_t n, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (!strncasecmp(h[i], name, len) && h[i][len] == ':')
			return true;
	return false;
}

static void response_reset(struct aws_response *r)
{
	r->status = 0;
	buf_reset(&r->body);
	vec_free_strs(&r->headers);
}

/* What one transfer sends. */
struct send {
	const char *url, *method;
	const void *body;
	size_t len;
	struct curl_slist *hdrs;
	long connect_ms, total_ms;  /* total 0: none (the low-speed abort still applies) */
	size_t cap;
};

/* Performs one transfer on a pooled handle; resp gets status, headers, body. */
static CURLcode perform(struct aws_ctx *ctx, const struct send *s, struct aws_response *resp,
			struct xfer *x)
{
	x->ctx = ctx, x->resp = resp, x->cap = s->cap, x->too_large = false, x->errbuf[0] = 0;
	response_reset(resp);
	CURL *h = pool_take(ctx);
	if (!h)
		return CURLE_FAILED_INIT;
	easy_setup(h, x, s->url, s->connect_ms, s->total_ms);
	easy_method(h, s->method, s->body, s->len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, s->hdrs);
	CURLcode cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	pool_give(ctx, h);
	return cc;
}

/* ---- targets, messages ---------------------------------------------------- */

struct target {
	struct buf url;     /* scheme://authority + base path + path [? query] */
	struct buf host;    /* the Host header: authority without a default port */
	struct buf path;    /* the signed path: base path + request path */
	const char *region;
	char sha[65];       /* hex SHA-256 of the body, signed on every attempt */
};

static void req_context(struct buf *b, const struct aws_request *req)
{
	buf_addf(b, "%s %s", req->service_id ? req->service_id : "AWS",
		 req->operation ? req->operation : req->method);
	if (req->resource && *req->resource)
		buf_addf(b, " on %s", req->resource);
}

static enum err_code req_fail(struct err *e, enum err_code code, const struct aws_request *req,
			      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "<Service> <Operation> on <resource>: " and the rest. */
static enum err_code req_fail(struct err *e, enum err_code code, const struct aws_request *req,
			      const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	req_context(&b, req);
	buf_adds(&b, ": ");
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	err_set(e, code, "%s", b.ptr);
	buf_release(&b);
	return code;
}

/* Splits "scheme://authority/base" into the target of req. */
static enum err_code target_parse(struct target *t, const char *ep, const struct aws_request *req,
				  struct err *e)
{
	bool tls = !strncasecmp(ep, "https://", 8);
	if (!tls && strncasecmp(ep, "http://", 7))
		return req_fail(e, ERR_USAGE, req, "endpoint %s is not an http(s) URL", ep);
	const char *auth = ep + (tls ? 8 : 7);
	size_t alen = strcspn(auth, "/?#");
	if (!alen)
		return req_fail(e, ERR_USAGE, req, "endpoint %s has no host", ep);
	const char *end = auth + alen, *bracket = memchr(auth, ']', alen);
	const char *after = bracket ? bracket + 1 : auth; /* an IPv6 literal has colons */
	const char *colon = memchr(after, ':', (size_t)(end - after));
	const char *dflt = tls ? "443" : "80";
	size_t hlen = alen;
	size_t dlen = strlen(dflt);
	if (colon && (size_t)(end - colon - 1) == dlen && !memcmp(colon + 1, dflt, dlen))
		hlen = (size_t)(colon - auth); /* botocore leaves a default port out of Host */
	buf_add(&t->host, auth, hlen);
	const char *base = auth + alen;
	size_t blen = strcspn(base, "?#");
	while (blen && base[blen - 1] == '/')
		blen--;
	buf_add(&t->path, base, blen);
	buf_adds(&t->path, req->path && *req->path ? req->path : "/");
	buf_add(&t->url, ep, (size_t)(auth + alen - ep));
	buf_adds(&t->url, t->path.ptr);
	if (req->query && *req->query)
		buf_addf(&t->url, "?%s", req->query);
	return ERR_OK;
}

static enum err_code target_resolve(struct aws_ctx *ctx, const struct aws_request *req,
				    struct target *t, struct err *e)
{
	t->region = req->region && *req->region ? req->region : aws_ctx_region(ctx);
	if (!t->region || !*t->region)
		return req_fail(e, ERR_USAGE, req, "no AWS region: set AWS_REGION, or region "
				"in the profile or tarmac.conf");
	if (req->endpoint)
		return target_parse(t, req->endpoint, req, e);
	struct buf ep = BUF_INIT;
	bool custom = false;
	enum err_code c = aws_endpoint_for(ctx, req->service_id, t->region, &ep, &custom, e);
	if (c == ERR_OK)
		c = target_parse(t, ep.ptr, req, e);
	buf_release(&ep);
	return c;
}

static void target_release(struct target *t)
{
	buf_release(&t->url);
	buf_release(&t->host);
	buf_release(&t->path);
}

/* ---- signing one attempt -------------------------------------------------- */

/* The header list for one attempt: the caller's, the signature's, Host,
 * and blanks that stop libcurl adding Expect or a form Content-Type. */
static enum err_code attempt_headers(struct aws_ctx *ctx, const struct aws_request *req,
				     const struct target *t, time_t now, struct curl_slist **out,
				     struct err *e)
{
	struct aws_creds own = { 0 };
	const struct aws_creds *c = req->creds;
	if (!c) {
		enum err_code rc = aws_creds_get(ctx, &own, e);
		if (rc != ERR_OK) {
			err_prefix(e, "%s %s", req->service_id ? req->service_id : "AWS",
				   req->operation ? req->operation : req->method);
			aws_creds_release(&own);
			return rc;
		}
		c = &own;
	}
	struct aws_sigv4_request r = {
		.method = req->method, .host = t->host.ptr, .path = t->path.ptr,
		.query = req->query, .headers = req->headers, .nheaders = req->nheaders,
		.payload_sha256 = t->sha,
		.region = t->region, .service = req->signing_name, .now = now,
		.s3 = req->signing_name && !strcmp(req->signing_name, "s3"),
	};
	struct vec add = VEC_INIT;
	enum err_code rc = aws_sigv4_sign(&r, c, &add, e);
	struct curl_slist *l = NULL;
	for (size_t i = 0; rc == ERR_OK && i < req->nheaders; i++)
		l = slist_add(l, req->headers[i]);
	for (size_t i = 0; i < add.len; i++) {
		if (rc == ERR_OK)
			l = slist_add(l, add.items[i]);
		OPENSSL_cleanse(add.items[i], strlen(add.items[i]));
	}
	vec_free_strs(&add);
	if (rc == ERR_OK) {
		struct buf host = BUF_INIT;
		buf_addf(&host, "Host: %s", t->host.ptr);
		l = slist_add(slist_add(l, host.ptr), "Expect:");
		if (req->body_len && !has_header(req->headers, req->nheaders, "Content-Type"))
			l = slist_add(l, "Content-Type:");
		buf_release(&host);
	}
	*out = l;
	aws_creds_release(&own);
	return rc;
}

/* ---- the retry loop -------------------------------------------------------- */

/* Uniform in [0, 1). */
static double jitter(void)
{
	uint32_t r;
	if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
		return 0.5;
	return r / 4294967296.0;
}

/* Sleeps s seconds in small steps; false when cancelled meanwhile. */
static bool nap(const struct aws_ctx *ctx, double s)
{
	while (s > 0) {
		if (cancelled(ctx))
			return false;
		double step = s < 0.05 ? s : 0.05;
		struct timespec ts = { 0, (long)(step * 1e9) };
		nanosleep(&ts, NULL);
		s -= step;
	}
	return !cancelled(ctx);
}

static bool quota_take(struct aws_ctx *ctx, int cost)
{
	pthread_mutex_lock(&ctx->lock);
	bool ok = ctx->retry_tokens >= cost;
	if (ok)
		ctx->retry_tokens -= cost;
	pthread_mutex_unlock(&ctx->lock);
	return ok;
}

static void quota_refund(struct aws_ctx *ctx, int amount)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->retry_tokens += amount;
	if (ctx->retry_tokens > QUOTA_MAX)
		ctx->retry_tokens = QUOTA_MAX;
	pthread_mutex_unlock(&ctx->lock);
}

static const char *const month[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* An RFC 7231 date ("Mon, 27 Nov 2026 22:19:39 GMT"), locale-free; 0 if not one. */
static time_t http_date(const char *s)
{
	char mon[4];
	struct tm tm = { 0 };
	if (!s || sscanf(s, "%*3s, %d %3s %d %d:%d:%d", &tm.tm_mday, mon, &tm.tm_year,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_mon = -1;
	for (int i = 0; i < 12; i++)
		if (!strcmp(mon, month[i]))
			tm.tm_mon = i;
	if (tm.tm_mon < 0 || tm.tm_year < 1970)
		return 0;
	tm.tm_year -= 1900;
	return timegm(&tm);
}

/* The server's Date says our clock is off by more than 5 minutes: keep the
 * offset (so every later request is signed with server time) and say so. */
static bool skew_fix(struct aws_ctx *ctx, const struct aws_response *r, time_t signed_at)
{
	time_t server = http_date(aws_response_header(r, "date"));
	if (!server || labs((long)(server - signed_at)) <= SKEW_LIMIT_S)
		return false;
	time_t local = ctx->clock ? ctx->clock() : time(NULL);
	pthread_mutex_lock(&ctx->lock);
	ctx->skew_s = (long)(server - local);
	pthread_mutex_unlock(&ctx->lock);
	log_msg(LOG_WARN, "the local clock is %ld s off AWS's; signing with AWS's time",
		(long)(local - server));
	return true;
}

static bool in_list(const char *code, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(code, list[i]))
			return true;
	return false;
}

#define IN(code, list) in_list((code), (list), sizeof(list) / sizeof((list)[0]))

enum aws_retry_class aws_retry_classify(long status, const char *code)
{
	static const char *const throttle[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException",
		"ProvisionedThroughputExceededException", "TransactionInProgressException",
		"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
		"RequestThrottled", "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
	};
	static const char *const transient[] = {
		"RequestTimeout", "RequestTimeoutException", "IDPCommunicationError",
	};
	static const char *const skew[] = {
		"RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture",
		"InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure",
	};
	static const char *const creds[] = { "ExpiredToken", "ExpiredTokenException" };
	if (!code)
		code = "";
	if (IN(code, throttle))
		return AWS_RETRY_THROTTLE;
	if (IN(code, transient))
		return AWS_RETRY_TRANSIENT;
	if (IN(code, skew))
		return AWS_RETRY_SKEW;
	if (IN(code, creds))
		return AWS_RETRY_CREDS;
	if (status == 429)
		return AWS_RETRY_THROTTLE;
	if (status == 500 || status == 502 || status == 503 || status == 504)
		return AWS_RETRY_TRANSIENT;
	return AWS_RETRY_NO;
}

enum retry_step { STEP_DONE, STEP_NOW, STEP_BACKOFF };

struct retry {
	int tries;         /* attempts counted against MAX_ATTEMPTS */
	int sent;          /* every attempt, the extra ones included */
	int last_cost;     /* quota paid for the last retry (0: none yet) */
	bool skew_done, creds_done;
	time_t signed_at;
};

/* What to do after an HTTP response. */
static enum retry_step after_response(struct aws_ctx *ctx, const struct aws_request *req,
				      const struct aws_response *r, struct retry *st)
{
	char code[128], msg[8];
	if (r->status < 300) {
		quota_refund(ctx, st->last_cost ? st->last_cost : 1);
		return STEP_DONE;
	}
	aws_error_parse(r, code, sizeof code, msg, sizeof msg);
	enum aws_retry_class cls = aws_retry_classify(r->status, code);
	if (cls == AWS_RETRY_SKEW && !st->skew_done) {
		st->skew_done = true;
		if (skew_fix(ctx, r, st->signed_at))
			return STEP_NOW;
	}
	if ((cls == AWS_RETRY_CREDS || !strcmp(code, "RequestExpired")) && !st->creds_done &&
	    !req->creds) {
		st->creds_done = true;
		aws_creds_invalidate(ctx);
		return STEP_NOW;
	}
	if (cls != AWS_RETRY_TRANSIENT && cls != AWS_RETRY_THROTTLE)
		return STEP_DONE;
	if (st->tries >= MAX_ATTEMPTS || !quota_take(ctx, COST_RETRY))
		return STEP_DONE;
	st->last_cost = COST_RETRY;
	log_msg(LOG_INFO, "%s %s: HTTP %ld %s, retrying", req->service_id ? req->service_id : "AWS",
		req->operation ? req->operation : req->method, r->status, code);
	return STEP_BACKOFF;
}

static bool curl_transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT: case CURLE_OPERATION_TIMEDOUT: case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING: case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/* What to do after a transfer that got no complete response. */
static enum retry_step after_failure(struct aws_ctx *ctx, const struct aws_request *req,
				     CURLcode cc, struct retry *st)
{
	int cost = cc == CURLE_OPERATION_TIMEDOUT ? COST_TIMEOUT : COST_RETRY;
	if (!curl_transient(cc) || st->tries >= MAX_ATTEMPTS || !quota_take(ctx, cost))
		return STEP_DONE;
	st->last_cost = cost;
	log_msg(LOG_INFO, "%s %s: %s, retrying", req->service_id ? req->service_id : "AWS",
		req->operation ? req->operation : req->method, curl_easy_strerror(cc));
	return STEP_BACKOFF;
}

static enum err_code transfer_error(const struct aws_request *req, const struct target *t,
				    CURLcode cc, const struct xfer *x, const struct retry *st,
				    struct err *e)
{
	char after[48] = "";
	if (st->sent > 1)
		snprintf(after, sizeof after, " (gave up after %d attempts)", st->sent);
	if (x->too_large)
		return req_fail(e, ERR_TOO_LARGE, req, "response larger than %zu bytes", x->cap);
	if (cc == CURLE_ABORTED_BY_CALLBACK)
		return req_fail(e, ERR_CANCELLED, req, "cancelled");
	const char *why = *x->errbuf ? x->errbuf : curl_easy_strerror(cc);
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
	    cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SSL_CERTPROBLEM)
		return req_fail(e, ERR_NET, req, "TLS with %s failed: %s (if a proxy re-signs "
				"TLS, point AWS_CA_BUNDLE at its CA bundle)", t->host.ptr, why);
	return req_fail(e, ERR_NET, req, "cannot reach %s: %s%s", t->host.ptr, why, after);
}

static enum err_code http_loop(struct aws_ctx *ctx, const struct aws_request *req,
			       const struct target *t, struct aws_response *resp, struct err *e)
{
	struct retry st = { 0 };
	struct xfer x = { 0 };
	struct send s = { .url = t->url.ptr, .method = req->method, .body = req->body,
			  .len = req->body_len, .connect_ms = CONNECT_MS,
			  .cap = req->max_response ? req->max_response : DEFAULT_CAP };
	for (;;) {
		if (cancelled(ctx))
			return req_fail(e, ERR_CANCELLED, req, "cancelled");
		st.signed_at = aws_ctx_now(ctx);
		enum err_code rc = attempt_headers(ctx, req, t, st.signed_at, &s.hdrs, e);
		if (rc != ERR_OK)
			return rc;
		st.tries++, st.sent++;
		CURLcode cc = perform(ctx, &s, resp, &x);
		slist_wipe_free(s.hdrs);
		s.hdrs = NULL;
		enum retry_step step = cc == CURLE_OK ? after_response(ctx, req, resp, &st)
			: x.too_large ? STEP_DONE : after_failure(ctx, req, cc, &st);
		if (step == STEP_NOW) {
			st.tries--; /* the skew or credential retry is on the house */
			continue;
		}
		if (step == STEP_BACKOFF) {
			/* rand * min(2^(n-1), 20) s after the n-th attempt */
			double ceiling = st.tries > 5 ? 20 : (double)(1 << (st.tries - 1));
			if (!nap(ctx, jitter() * (ceiling > 20 ? 20 : ceiling)))
				return req_fail(e, ERR_CANCELLED, req, "cancelled");
			continue;
		}
		if (cc != CURLE_OK) {
			response_reset(resp);
			return transfer_error(req, t, cc, &x, &st, e);
		}
		if (st.sent > 1) {
			char line[40];
			snprintf(line, sizeof line, "x-tarmac-attempts: %d", st.sent);
			vec_push_str(&resp->headers, line);
		}
		return ERR_OK;
	}
}

enum err_code aws_http_do(struct aws_ctx *ctx, const struct aws_request *req,
			  struct aws_response *resp, struct err *e)
{
	*resp = (struct aws_response){ .body = BUF_INIT, .headers = VEC_INIT };
	if (req->mutating && ctx->read_only)
		return req_fail(e, ERR_READ_ONLY, req, "refused: this session is read-only");
	struct target t = { BUF_INIT, BUF_INIT, BUF_INIT, NULL, "" };
	aws_sha256_hex(req->body, req->body_len, t.sha);
	enum err_code rc = target_resolve(ctx, req, &t, e);
	if (rc == ERR_OK)
		rc = http_loop(ctx, req, &t, resp, e);
	target_release(&t);
	return rc;
}

/* ---- plain HTTP (IMDS, container credentials) ------------------------------ */

/* The parameter list is internal.h's contract. */
/* NOLINTNEXTLINE(readability-function-size) */
enum err_code aws_http_plain(struct aws_ctx *ctx, const char *method, const char *url,
			     const char *const *headers, size_t nheaders, const char *body,
			     long timeout_ms, struct aws_response *resp, struct err *e)
{
	*resp = (struct aws_response){ .body = BUF_INIT, .headers = VEC_INIT };
	struct curl_slist *l = NULL;
	for (size_t i = 0; i < nheaders; i++)
		l = slist_add(l, headers[i]);
	l = slist_add(l, "Expect:");
	size_t len = body ? strlen(body) : 0;
	if (len && !has_header(headers, nheaders, "Content-Type"))
		l = slist_add(l, "Content-Type:");
	struct send s = { .url = url, .method = method, .body = body, .len = len, .hdrs = l,
			  .connect_ms = timeout_ms > 0 && timeout_ms < CONNECT_MS ? timeout_ms
									      : CONNECT_MS,
			  .total_ms = timeout_ms, .cap = PLAIN_CAP };
	struct xfer x = { 0 };
	CURLcode cc = CURLE_ABORTED_BY_CALLBACK;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (cancelled(ctx))
			break;
		cc = perform(ctx, &s, resp, &x);
		/* One more try only when the connection broke; a timeout means
		 * "not here" for IMDS and is reported at once. */
		if (cc != CURLE_COULDNT_CONNECT && cc != CURLE_RECV_ERROR &&
		    cc != CURLE_SEND_ERROR && cc != CURLE_GOT_NOTHING)
			break;
	}
	slist_wipe_free(l);
	if (cc == CURLE_OK)
		return ERR_OK;
	response_reset(resp);
	if (x.too_large)
		return err_set(e, ERR_TOO_LARGE, "%s %s: response larger than %zu bytes", method,
			       url, PLAIN_CAP);
	if (cc == CURLE_ABORTED_BY_CALLBACK)
		return err_set(e, ERR_CANCELLED, "%s %s: cancelled", method, url);
	return err_set(e, ERR_NET, "%s %s: %s", method, url,
		       *x.errbuf ? x.errbuf : curl_easy_strerror(cc));
}
