/*
 * test_aws_http — the signed HTTP layer and the RPC framings (aws/http.c,
 * aws/call.c): JSON/XML error mapping from literal AWS bodies (spec §3,
 * §4), the standard retry classification (§5), and a loopback HTTP/1.1
 * server run on a thread (127.0.0.1, port 0, keep-alive) that plays AWS:
 * SlowDown then 200, a persistent 500, RequestTimeTooSkewed with a Date an
 * hour ahead, ExpiredTokenException, a body over the cap, a server that
 * never answers, a closed port, and a read-only or cancelled context that
 * must send nothing.
 *
 * The server checks every request it receives: it recomputes the SigV4
 * Authorization from what arrived on the wire (method, path, query, the
 * headers named in SignedHeaders, the body) and counts any mismatch, any
 * Expect header, and any x-amz-content-sha256 that is not the body's hash.
 * Contexts come from aws_ctx_new with fixed environment credentials and
 * AWS_ENDPOINT_URL pointing at the server; config files are /dev/null and
 * instance metadata is disabled, so nothing leaves the machine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws/internal.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "FwoGZXIvYXdzEBYaDH/+tok=en=="

static char akid[] = AKID, secret[] = SECRET, token[] = TOKEN;

/* ---- the loopback server ------------------------------------------------- */

enum { MAX_CONNS = 8, MAX_REQS = 8 };

struct srv_req {
	char method[16];
	char target[1024];
	struct buf head;   /* header lines, "\r\n"-separated */
	struct buf body;
};

/* Writes the raw response for request number n (0-based) of the current
 * test into out; leaving out empty sends nothing (a hung server). */
typedef void srv_fn(const struct srv_req *rq, int n, struct buf *out);

static struct {
	int lfd, port;
	pthread_t th;
	pthread_mutex_t mu;
	atomic_bool stop;
	srv_fn *fn;
	int nreq, nconn, bad_sig, bad_hdr;
	char date[MAX_REQS][17];   /* X-Amz-Date of each request */
	struct buf last_head, last_body;
	char last_target[1024];
} srv = { .mu = PTHREAD_MUTEX_INITIALIZER };

static atomic_bool cancel_flag;

struct conn {
	int fd;
	struct buf in;
};

/* The value of header name in a "\r\n"-separated block, copied to out. */
static bool head_get(const char *head, const char *name, char *out, size_t n)
{
	size_t len = strlen(name);
	for (const char *p = head; *p;) {
		size_t l = strcspn(p, "\r\n");
		if (l > len && !strncasecmp(p, name, len) && p[len] == ':') {
			const char *v = p + len + 1;
			while (*v == ' ')
				v++;
			snprintf(out, n, "%.*s", (int)(l - (size_t)(v - p)), v);
			return true;
		}
		p += l;
		p += strspn(p, "\r\n");
	}
	return false;
}

static time_t amz_time(const char *s)
{
	struct tm tm = { 0 };
	if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* Adds to hdrs every received header named in the ';'-list signed that
 * the signer does not add itself. */
static void signed_headers_of(const char *head, const char *signed_list, struct vec *hdrs)
{
	static const char *const own[] = { "host", "x-amz-date", "x-amz-security-token",
					   "x-amz-content-sha256" };
	for (const char *s = signed_list; *s;) {
		size_t n = strcspn(s, ";");
		bool mine = false;
		for (size_t i = 0; i < 4; i++)
			mine |= strlen(own[i]) == n && !strncmp(s, own[i], n);
		for (const char *p = head; !mine && *p;) {
			size_t l = strcspn(p, "\r\n");
			if (l > n && !strncasecmp(p, s, n) && p[n] == ':')
				vec_push(hdrs, xstrndup(p, l));
			p += l;
			p += strspn(p, "\r\n");
		}
		s += n + (s[n] == ';');
	}
}

/* Recomputes the Authorization of a received request; true when it matches. */
static bool sig_ok(const struct srv_req *rq)
{
	char auth[1024], host[256], date[32], tok[512] = "", sha[128] = "", got_sha[65];
	char region[64], service[64], names[512];
	if (!head_get(rq->head.ptr, "authorization", auth, sizeof auth) ||
	    !head_get(rq->head.ptr, "host", host, sizeof host) ||
	    !head_get(rq->head.ptr, "x-amz-date", date, sizeof date) ||
	    sscanf(auth, "AWS4-HMAC-SHA256 Credential=" AKID "/%*8s/%63[^/]/%63[^/]/aws4_request, "
		   "SignedHeaders=%511[^,]", region, service, names) != 3)
		return false;
	bool has_tok = head_get(rq->head.ptr, "x-amz-security-token", tok, sizeof tok);
	aws_sha256_hex(rq->body.ptr, rq->body.len, got_sha);
	if (head_get(rq->head.ptr, "x-amz-content-sha256", sha, sizeof sha) && strcmp(sha, got_sha))
		return false;
	struct vec hdrs = VEC_INIT, add = VEC_INIT;
	signed_headers_of(rq->head.ptr, names, &hdrs);
	char path[1024];
	snprintf(path, sizeof path, "%s", rq->target);
	char *q = strchr(path, '?');
	if (q)
		*q++ = 0;
	struct aws_creds c = { .access_key = akid, .secret_key = secret,
			       .session_token = has_tok ? tok : NULL };
	struct aws_sigv4_request r = {
		.method = rq->method, .host = host, .path = path, .query = q,
		.headers = (const char *const *)hdrs.items, .nheaders = hdrs.len,
		.payload_sha256 = got_sha, .region = region, .service = service,
		.now = amz_time(date), .s3 = !strcmp(service, "s3"),
	};
	struct err e = ERR_INIT;
	bool ok = aws_sigv4_sign(&r, &c, &add, &e) == ERR_OK &&
		  !strcmp((char *)add.items[add.len - 1] + strlen("Authorization: "), auth);
	vec_free_strs(&hdrs);
	vec_free_strs(&add);
	return ok;
}

static void srv_record(const struct srv_req *rq)
{
	char date[32] = "", tmp[8];
	head_get(rq->head.ptr, "x-amz-date", date, sizeof date);
	pthread_mutex_lock(&srv.mu);
	if (srv.nreq < MAX_REQS)
		snprintf(srv.date[srv.nreq], sizeof srv.date[0], "%.16s", date);
	if (*date && !sig_ok(rq))
		srv.bad_sig++;
	if (head_get(rq->head.ptr, "expect", tmp, sizeof tmp))
		srv.bad_hdr++;
	buf_reset(&srv.last_head);
	buf_adds(&srv.last_head, rq->head.ptr);
	buf_reset(&srv.last_body);
	buf_add(&srv.last_body, rq->body.ptr, rq->body.len);
	snprintf(srv.last_target, sizeof srv.last_target, "%s", rq->target);
	pthread_mutex_unlock(&srv.mu);
}

/* One complete request at the front of c->in: handled, answered, consumed. */
static bool srv_serve_one(struct conn *c)
{
	char *end = strstr(c->in.ptr, "\r\n\r\n"), clen[32] = "0";
	if (!end)
		return false;
	size_t hlen = (size_t)(end - c->in.ptr) + 4;
	struct srv_req rq = { .head = BUF_INIT, .body = BUF_INIT };
	size_t line = strcspn(c->in.ptr, "\r\n");
	buf_add(&rq.head, c->in.ptr + line + 2, hlen - line - 2);
	head_get(rq.head.ptr, "content-length", clen, sizeof clen);
	size_t blen = strtoul(clen, NULL, 10);
	if (c->in.len < hlen + blen) {
		buf_release(&rq.head);
		return false;
	}
	sscanf(c->in.ptr, "%15s %1023s", rq.method, rq.target);
	buf_add(&rq.body, c->in.ptr + hlen, blen);
	buf_consume(&c->in, hlen + blen);
	srv_record(&rq);
	pthread_mutex_lock(&srv.mu);
	int n = srv.nreq++;
	srv_fn *fn = srv.fn;
	pthread_mutex_unlock(&srv.mu);
	struct buf out = BUF_INIT;
	if (fn)
		fn(&rq, n, &out);
	if (out.len && send(c->fd, out.ptr, out.len, MSG_NOSIGNAL) < 0)
		perror("test server send");
	buf_release(&out), buf_release(&rq.head), buf_release(&rq.body);
	return true;
}

static void srv_accept(struct conn *conns, int *nc)
{
	int fd = accept(srv.lfd, NULL, NULL);
	if (fd < 0)
		return;
	if (*nc == MAX_CONNS) {
		close(fd);
		return;
	}
	conns[*nc].fd = fd;
	buf_init(&conns[(*nc)++].in);
	pthread_mutex_lock(&srv.mu);
	srv.nconn++;
	pthread_mutex_unlock(&srv.mu);
}

static void *srv_main(void *arg)
{
	(void)arg;
	struct conn conns[MAX_CONNS];
	int nc = 0;
	while (!atomic_load(&srv.stop)) {
		struct pollfd pf[MAX_CONNS + 1] = { { .fd = srv.lfd, .events = POLLIN } };
		for (int i = 0; i < nc; i++)
			pf[i + 1] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		if (poll(pf, (nfds_t)nc + 1, 50) <= 0)
			continue;
		for (int i = nc - 1; i >= 0; i--) {
			if (!pf[i + 1].revents)
				continue;
			char chunk[8192];
			ssize_t got = recv(conns[i].fd, chunk, sizeof chunk, 0);
			if (got <= 0) {
				close(conns[i].fd);
				buf_release(&conns[i].in);
				conns[i] = conns[--nc];
				continue;
			}
			buf_add(&conns[i].in, chunk, (size_t)got);
			while (srv_serve_one(&conns[i]))
				;
		}
		if (pf[0].revents)
			srv_accept(conns, &nc);
	}
	for (int i = 0; i < nc; i++)
		close(conns[i].fd), buf_release(&conns[i].in);
	return NULL;
}

static void srv_start(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (srv.lfd < 0 || bind(srv.lfd, (struct sockaddr *)&a, sizeof a) ||
	    listen(srv.lfd, 16) || getsockname(srv.lfd, (struct sockaddr *)&a, &len))
		abort();
	srv.port = ntohs(a.sin_port);
	if (pthread_create(&srv.th, NULL, srv_main, NULL))
		abort();
}

static void srv_stop(void)
{
	atomic_store(&srv.stop, true);
	pthread_join(srv.th, NULL);
	close(srv.lfd);
	buf_release(&srv.last_head);
	buf_release(&srv.last_body);
}

/* Starts a test: the handler, and every counter at zero. */
static void srv_use(srv_fn *fn)
{
	pthread_mutex_lock(&srv.mu);
	srv.fn = fn;
	srv.nreq = srv.nconn = srv.bad_sig = srv.bad_hdr = 0;
	memset(srv.date, 0, sizeof srv.date);
	pthread_mutex_unlock(&srv.mu);
}

static int srv_count(int *field)
{
	pthread_mutex_lock(&srv.mu);
	int n = *field;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static void http_date(char *out, size_t n, long offset)
{
	time_t t = time(NULL) + offset;
	struct tm tm;
	gmtime_r(&t, &tm);
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	snprintf(out, n, "%s, %02d %s %d %02d:%02d:%02d GMT", wd[tm.tm_wday], tm.tm_mday,
		 mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void reply(struct buf *out, int status, const char *type, const char *body, long date_off)
{
	char date[64];
	http_date(date, sizeof date, date_off);
	buf_addf(out, "HTTP/1.1 %d X\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		 "x-amzn-RequestId: 11111111-2222\r\n\r\n%s", status, date, type, strlen(body), body);
}

/* ---- handlers -------------------------------------------------------------- */

static void h_ok(const struct srv_req *rq, int n, struct buf *out)
{
	(void)rq, (void)n;
	reply(out, 200, "application/x-amz-json-1.1", "{\"ok\":true}", 0);
}

static void h_slowdown_then_ok(const struct srv_req *rq, int n, struct buf *out)
{
	(void)rq;
	if (n == 0)
		reply(out, 503, "application/xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
		      "</Message><RequestId>1</RequestId><HostId>2</HostId></Error>", 0);
	else
		reply(out, 200, "application/xml", "<ok/>", 0);
}

static void h_always_500(const struct srv_req *rq, int n, struct buf *out)
{
	(void)rq, (void)n;
	reply(out, 500, "application/x-amz-json-1.1",
	      "{\"__type\":\"InternalFailure\",\"message\":\"boom\"}", 0);
}

static void h_throttle_then_ok(const struct srv_req *rq, int n, struct buf *out)
{
	(void)rq;
	if (n == 0)
		reply(out, 400, "application/x-amz-json-1.1",
		      "{\"__type\":\"com.amazon.coral.availability#ThrottlingException\","
		      "\"message\":\"Rate exceeded\"}", 0);
	else
		h_ok(rq, n, out);
}

/* AWS an hour ahead of us: refuses dates more than 5 minutes off its own. */
static void h_skewed(const struct srv_req *rq, int n, struct buf *out)
{
	(void)n;
	char date[32] = "";
	head_get(rq->head.ptr, "x-amz-date", date, sizeof date);
	long off = (long)(amz_time(date) - (time(NULL) + 3600));
	if (labs(off) <= 300)
		h_ok(rq, n, out);
	else
		reply(out, 403, "application/xml",
		      "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the "
		      "request time and the current time is too large.</Message><RequestTime>x"
		      "</RequestTime><ServerTime>y</ServerTime><MaxAllowedSkewMilliseconds>900000"
		      "</MaxAllowedSkewMilliseconds></Error>", 3600);
}

static void h_expired_then_ok(const struct srv_req *rq, int n, struct buf *out)
{
	if (n == 0)
		reply(out, 400, "application/x-amz-json-1.1",
		      "{\"__type\":\"ExpiredTokenException\",\"message\":\"The security token "
		      "included in the request is expired\"}", 0);
	else
		h_ok(rq, n, out);
}

static void h_always_expired(const struct srv_req *rq, int n, struct buf *out)
{
	h_expired_then_ok(rq, 0 * n, out);
}

static void h_big(const struct srv_req *rq, int n, struct buf *out)
{
	(void)rq, (void)n;
	char *big = xmalloc(5001);
	memset(big, 'x', 5000);
	big[5000] = 0;
	reply(out, 200, "application/octet-stream", big, 0);
	free(big);
}

static void h_hang(const struct srv_req *rq, int n, struct buf *out)
{
	(void)rq, (void)n, (void)out;
}

static void h_cancel_then_503(const struct srv_req *rq, int n, struct buf *out)
{
	(void)rq, (void)n;
	atomic_store(&cancel_flag, true);
	reply(out, 503, "application/xml", "<Error><Code>ServiceUnavailable</Code></Error>", 0);
}

static void h_rds_error(const struct srv_req *rq, int n, struct buf *out)
{
	(void)rq, (void)n;
	reply(out, 404, "text/xml",
	      "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>"
	      "Sender</Type><Code>DBClusterNotFoundFault</Code><Message>DBCluster nope not found."
	      "</Message></Error><RequestId>r-1</RequestId></ErrorResponse>", 0);
}

static void h_sts_denied(const struct srv_req *rq, int n, struct buf *out)
{
	(void)rq, (void)n;
	reply(out, 403, "text/xml",
	      "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: "
	      "arn:aws:iam::123456789012:user/x is not authorized to perform: sts:AssumeRole"
	      "</Message></Error></ErrorResponse>", 0);
}

/* ---- contexts ---------------------------------------------------------------- */

static struct aws_ctx *ctx_make(bool read_only, atomic_bool *cancel)
{
	struct aws_ctx_options o = { .read_only = read_only, .cancel = cancel };
	struct aws_ctx *ctx = NULL;
	struct err e = ERR_INIT;
	if (aws_ctx_new(&o, &ctx, &e) != ERR_OK)
		fail_msg("aws_ctx_new: %s", e.msg);
	return ctx;
}

static char endpoint[64];

/* A request as s3.c makes it: its own endpoint and credentials. */
static struct aws_request s3_req(const char *method, const char *op)
{
	static struct aws_creds c = { .access_key = akid, .secret_key = secret,
				      .session_token = token };
	return (struct aws_request){
		.service_id = "S3", .signing_name = "s3", .operation = op,
		.resource = "bucket acme-users", .method = method, .path = "/acme-users/a%20b.sql",
		.region = "eu-west-1", .creds = &c, .endpoint = endpoint,
	};
}

/* No secret, token or signature in a message, ever. */
static void assert_clean(const char *msg)
{
	assert_null(strstr(msg, SECRET));
	assert_null(strstr(msg, TOKEN));
	assert_null(strstr(msg, "Signature="));
}

/* ---- error mapping from literal bodies --------------------------------------- */

static void test_json_errors(void **state)
{
	(void)state;
	static const struct {
		long status;
		const char *body, *hdr, *sid, *sign, *op, *res;
		enum err_code code;
		const char *msg;
	} t[] = {
		{ 400, "{\"__type\":\"InvocationDoesNotExist\"}", NULL, "SSM", "ssm",
		  "GetCommandInvocation", "command c-1 on i-1", ERR_HTTP,
		  "SSM GetCommandInvocation on command c-1 on i-1: InvocationDoesNotExist" },
		{ 400, "{\"__type\":\"com.amazon.coral.service#UnrecognizedClientException\","
		  "\"message\":\"The security token included in the request is invalid.\"}", NULL,
		  "SSM", "ssm", "SendCommand", NULL, ERR_AUTH,
		  "SSM SendCommand: UnrecognizedClientException: The security token included in "
		  "the request is invalid." },
		{ 400, "{\"__type\":\"com.amazonaws.ssm#AccessDeniedException:http://internal.amazon."
		  "com/coral/com.amazon.coral.service/\",\"Message\":\"User: arn:aws:iam::1:user/x is "
		  "not authorized to perform: ssm:SendCommand\"}", NULL, "SSM", "ssm", "SendCommand",
		  "instance i-0123", ERR_AUTH,
		  "SSM SendCommand on instance i-0123: AccessDeniedException: User: "
		  "arn:aws:iam::1:user/x is not authorized to perform: ssm:SendCommand (tarmac needs "
		  "the IAM permission ssm:SendCommand)" },
		{ 400, "{\"__type\":\"ResourceNotFoundException\",\"message\":\"The specified log "
		  "stream does not exist.\"}", NULL, "CloudWatch Logs", "logs", "GetLogEvents",
		  "stream s", ERR_HTTP, "CloudWatch Logs GetLogEvents on stream s: "
		  "ResourceNotFoundException: The specified log stream does not exist." },
		{ 400, "{\"__type\":\"AccessDeniedException\",\"Message\":\"no\"}", NULL,
		  "Secrets Manager", "secretsmanager", "GetSecretValue", "secret users", ERR_AUTH,
		  "Secrets Manager GetSecretValue on secret users: AccessDeniedException: no (tarmac "
		  "needs the IAM permission secretsmanager:GetSecretValue (and kms:Decrypt on the "
		  "secret's key))" },
		{ 503, "Service Unavailable", NULL, "SSM", "ssm", "ListCommands", NULL, ERR_HTTP,
		  "SSM ListCommands: HTTP 503: Service Unavailable" },
		{ 500, "", NULL, "SSM", "ssm", "ListCommands", NULL, ERR_HTTP,
		  "SSM ListCommands: HTTP 500" },
		{ 403, "", NULL, "SSM", "ssm", "ListCommands", NULL, ERR_AUTH,
		  "SSM ListCommands: HTTP 403" },
		{ 400, "{\"__type\":\"X\",\"message\":\"line one\\nline\\ttwo\"}", NULL, "SSM", "ssm",
		  "ListCommands", NULL, ERR_HTTP, "SSM ListCommands: X: line one line two" },
		{ 400, "{\"__type\":\"InvalidParameterValue\",\"message\":\"q\"}",
		  "x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender", "SQS", "sqs",
		  "GetQueueUrl", NULL, ERR_HTTP,
		  "SQS GetQueueUrl: AWS.SimpleQueueService.NonExistentQueue: q" },
		{ 400, "{\"__type\":\"ExpiredTokenException\",\"message\":\"The security token "
		  "included in the request is expired\"}", "x-tarmac-attempts: 2", "STS", "sts",
		  "GetCallerIdentity", NULL, ERR_AUTH,
		  "STS GetCallerIdentity: ExpiredTokenException: The security token included in the "
		  "request is expired (the session token has expired: renew the credentials) (gave "
		  "up after 2 attempts)" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct aws_request req = { .service_id = t[i].sid, .signing_name = t[i].sign,
					   .operation = t[i].op, .resource = t[i].res,
					   .method = "POST" };
		struct aws_response r = { .status = t[i].status, .body = BUF_INIT,
					  .headers = VEC_INIT };
		buf_adds(&r.body, t[i].body);
		if (t[i].hdr)
			vec_push_str(&r.headers, t[i].hdr);
		struct err e = ERR_INIT;
		enum err_code c = aws_error_from_json(&req, &r, &e);
		if (c != t[i].code || strcmp(e.msg, t[i].msg))
			fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, c, e.msg, t[i].code,
				 t[i].msg);
		aws_response_release(&r);
	}
}

/* aws_error_parse tells JSON from XML and finds the code (used for retries). */
static void test_error_parse(void **state)
{
	(void)state;
	static const struct { const char *body, *code, *msg; } t[] = {
		{ "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
		  "<Key>nope.txt</Key><RequestId>4442587FB7D0A2F9</RequestId></Error>",
		  "NoSuchKey", "The specified key does not exist." },
		{ "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect</Code>"
		  "<Message>The bucket you are attempting to access must be addressed using the "
		  "specified endpoint.</Message><Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint>"
		  "</Error>", "PermanentRedirect",
		  "The bucket you are attempting to access must be addressed using the specified "
		  "endpoint." },
		{ "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>"
		  "Sender</Type><Code>DBClusterNotFoundFault</Code><Message>DBCluster nope not found."
		  "</Message></Error><RequestId>r</RequestId></ErrorResponse>",
		  "DBClusterNotFoundFault", "DBCluster nope not found." },
		{ "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist"
		  "</Message><BucketName>nobucket</BucketName></Error>", "NoSuchBucket",
		  "The specified bucket does not exist" },
		{ "  {\"__type\":\"a.b#SlowDown:http://x\"}", "SlowDown", "" },
		{ "<html><body>Bad Gateway</body></html>", "", "" },
		{ "", "", "" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct aws_response r = { .status = 400, .body = BUF_INIT, .headers = VEC_INIT };
		buf_adds(&r.body, t[i].body);
		char code[64], msg[256];
		aws_error_parse(&r, code, sizeof code, msg, sizeof msg);
		if (strcmp(code, t[i].code) || strcmp(msg, t[i].msg))
			fail_msg("case %zu: got %s / %s", i, code, msg);
		aws_response_release(&r);
	}
}

static void test_retry_classify(void **state)
{
	(void)state;
	static const struct { long status; const char *code; enum aws_retry_class want; } t[] = {
		{ 503, "SlowDown", AWS_RETRY_THROTTLE },
		{ 400, "Throttling", AWS_RETRY_THROTTLE },
		{ 400, "ThrottlingException", AWS_RETRY_THROTTLE },
		{ 400, "TooManyRequestsException", AWS_RETRY_THROTTLE },
		{ 503, "RequestLimitExceeded", AWS_RETRY_THROTTLE },
		{ 400, "ProvisionedThroughputExceededException", AWS_RETRY_THROTTLE },
		{ 400, "RequestThrottled", AWS_RETRY_THROTTLE },
		{ 400, "PriorRequestNotComplete", AWS_RETRY_THROTTLE },
		{ 503, "EC2ThrottledException", AWS_RETRY_THROTTLE },
		{ 429, "", AWS_RETRY_THROTTLE },
		{ 400, "RequestTimeout", AWS_RETRY_TRANSIENT },
		{ 408, "RequestTimeoutException", AWS_RETRY_TRANSIENT },
		{ 500, "InternalError", AWS_RETRY_TRANSIENT },
		{ 502, "", AWS_RETRY_TRANSIENT },
		{ 503, "ServiceUnavailable", AWS_RETRY_TRANSIENT },
		{ 504, NULL, AWS_RETRY_TRANSIENT },
		{ 403, "RequestTimeTooSkewed", AWS_RETRY_SKEW },
		{ 400, "InvalidSignatureException", AWS_RETRY_SKEW },
		{ 403, "SignatureDoesNotMatch", AWS_RETRY_SKEW },
		{ 400, "RequestExpired", AWS_RETRY_SKEW },
		{ 400, "ExpiredToken", AWS_RETRY_CREDS },
		{ 400, "ExpiredTokenException", AWS_RETRY_CREDS },
		{ 404, "NoSuchKey", AWS_RETRY_NO },
		{ 403, "AccessDenied", AWS_RETRY_NO },
		{ 400, "ValidationException", AWS_RETRY_NO },
		{ 301, "PermanentRedirect", AWS_RETRY_NO },
		{ 501, "NotImplemented", AWS_RETRY_NO },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (aws_retry_classify(t[i].status, t[i].code) != t[i].want)
			fail_msg("%ld %s: got %d, want %d", t[i].status, t[i].code ? t[i].code : "-",
				 aws_retry_classify(t[i].status, t[i].code), t[i].want);
}

static void test_response_header(void **state)
{
	(void)state;
	struct aws_response r = { .body = BUF_INIT, .headers = VEC_INIT };
	vec_push_str(&r.headers, "etag: \"abc\"");
	vec_push_str(&r.headers, "x-amz-bucket-region: eu-west-1");
	vec_push_str(&r.headers, "x-empty: ");
	assert_string_equal(aws_response_header(&r, "etag"), "\"abc\"");
	assert_string_equal(aws_response_header(&r, "x-amz-bucket-region"), "eu-west-1");
	assert_string_equal(aws_response_header(&r, "x-empty"), "");
	assert_null(aws_response_header(&r, "x-amz"));
	assert_null(aws_response_header(&r, "date"));
	aws_response_release(&r);
	aws_response_release(&r); /* twice is fine */
	aws_response_release(NULL);
}

/* ---- over the loopback server -------------------------------------------------- */

static void test_slowdown_then_ok(void **state)
{
	(void)state;
	srv_use(h_slowdown_then_ok);
	struct aws_ctx *ctx = ctx_make(false, NULL);
	struct aws_request req = s3_req("GET", "GetObject");
	struct aws_response r;
	struct err e = ERR_INIT;
	assert_int_equal(aws_http_do(ctx, &req, &r, &e), ERR_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.ptr, "<ok/>");
	assert_int_equal(srv_count(&srv.nreq), 2);
	assert_int_equal(srv_count(&srv.nconn), 1); /* the pooled handle kept the connection */
	assert_int_equal(srv_count(&srv.bad_sig), 0);
	assert_int_equal(srv_count(&srv.bad_hdr), 0);
	assert_string_equal(aws_response_header(&r, "x-tarmac-attempts"), "2");
	assert_string_equal(aws_response_header(&r, "x-amzn-requestid"), "11111111-2222");
	assert_int_equal(ctx->retry_tokens, 500); /* paid 5, refunded 5 */
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.last_target, "/acme-users/a%20b.sql");
	char v[128];
	assert_true(head_get(srv.last_head.ptr, "host", v, sizeof v));
	assert_string_equal(v, endpoint + 7); /* 127.0.0.1:port, as signed */
	assert_true(head_get(srv.last_head.ptr, "x-amz-security-token", v, sizeof v));
	assert_string_equal(v, TOKEN);
	pthread_mutex_unlock(&srv.mu);
	aws_response_release(&r);
	aws_ctx_free(ctx);
}

static void test_persistent_500(void **state)
{
	(void)state;
	srv_use(h_always_500);
	struct aws_ctx *ctx = ctx_make(false, NULL);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	enum err_code c = aws_json_call(ctx, "SSM", "ssm", "AmazonSSM", "ListCommands", NULL, NULL,
					false, &out, &e);
	assert_int_equal(c, ERR_HTTP);
	assert_string_equal(e.msg, "SSM ListCommands: InternalFailure: boom (gave up after 3 attempts)");
	assert_int_equal(srv_count(&srv.nreq), 3);
	assert_int_equal(srv_count(&srv.bad_sig), 0);
	assert_int_equal(ctx->retry_tokens, 490);
	assert_int_equal(out.len, 0);
	pthread_mutex_lock(&srv.mu);
	char v[128];
	assert_true(head_get(srv.last_head.ptr, "x-amz-target", v, sizeof v));
	assert_string_equal(v, "AmazonSSM.ListCommands");
	assert_true(head_get(srv.last_head.ptr, "content-type", v, sizeof v));
	assert_string_equal(v, "application/x-amz-json-1.1");
	assert_string_equal(srv.last_body.ptr, "{}");
	assert_string_equal(srv.last_target, "/");
	pthread_mutex_unlock(&srv.mu);
	aws_ctx_free(ctx);
}

static void test_clock_skew(void **state)
{
	(void)state;
	srv_use(h_skewed);
	struct aws_ctx *ctx = ctx_make(false, NULL);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	if (aws_json_call(ctx, "SSM", "ssm", "AmazonSSM", "DescribeInstanceInformation", NULL,
			  "{\"MaxResults\":5}", false, &out, &e) != ERR_OK)
		fail_msg("%s", e.msg);
	assert_string_equal(out.ptr, "{\"ok\":true}");
	assert_int_equal(srv_count(&srv.nreq), 2);
	assert_int_equal(srv_count(&srv.bad_sig), 0);
	assert_in_range(ctx->skew_s, 3600 - 5, 3600 + 5);
	pthread_mutex_lock(&srv.mu);
	long first = (long)(amz_time(srv.date[0]) - time(NULL));
	long second = (long)(amz_time(srv.date[1]) - time(NULL));
	pthread_mutex_unlock(&srv.mu);
	assert_in_range(first + 10, 0, 20);
	assert_in_range(second - 3600 + 10, 0, 20);
	/* the offset stays: the next call is right the first time */
	srv_use(h_skewed);
	buf_reset(&out);
	assert_int_equal(aws_json_call(ctx, "SSM", "ssm", "AmazonSSM", "ListCommands", NULL, NULL,
				       false, &out, &e), ERR_OK);
	assert_int_equal(srv_count(&srv.nreq), 1);
	assert_int_equal(ctx->retry_tokens, 500);
	buf_release(&out);
	aws_ctx_free(ctx);
}

static void test_throttle_then_ok(void **state)
{
	(void)state;
	srv_use(h_throttle_then_ok);
	struct aws_ctx *ctx = ctx_make(false, NULL);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	assert_int_equal(aws_json_call(ctx, "CloudWatch Logs", "logs", "Logs_20140328",
				       "GetLogEvents", "stream s", "{}", false, &out, &e), ERR_OK);
	assert_int_equal(srv_count(&srv.nreq), 2);
	assert_string_equal(out.ptr, "{\"ok\":true}");
	buf_release(&out);
	aws_ctx_free(ctx);
}

/* ExpiredTokenException: the credentials are looked up again, once. */
static void test_expired_token(void **state)
{
	(void)state;
	srv_use(h_expired_then_ok);
	struct aws_ctx *ctx = ctx_make(false, NULL);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	assert_int_equal(aws_json_call(ctx, "SSM", "ssm", "AmazonSSM", "ListCommands", NULL, NULL,
				       false, &out, &e), ERR_OK);
	assert_int_equal(srv_count(&srv.nreq), 2);
	assert_int_equal(srv_count(&srv.bad_sig), 0);
	assert_int_equal(ctx->retry_tokens, 500);
	/* an expiry that persists is reported after that one extra attempt */
	srv_use(h_always_expired);
	assert_int_equal(aws_json_call(ctx, "SSM", "ssm", "AmazonSSM", "ListCommands", NULL, NULL,
				       false, &out, &e), ERR_AUTH);
	assert_int_equal(srv_count(&srv.nreq), 2);
	assert_non_null(strstr(e.msg, "SSM ListCommands: ExpiredTokenException: "));
	assert_non_null(strstr(e.msg, "renew the credentials"));
	assert_clean(e.msg);
	buf_release(&out);
	aws_ctx_free(ctx);
}

static void test_response_cap(void **state)
{
	(void)state;
	srv_use(h_big);
	struct aws_ctx *ctx = ctx_make(false, NULL);
	struct aws_request req = s3_req("GET", "GetObject");
	req.max_response = 1000;
	struct aws_response r;
	struct err e = ERR_INIT;
	assert_int_equal(aws_http_do(ctx, &req, &r, &e), ERR_TOO_LARGE);
	assert_string_equal(e.msg, "S3 GetObject on bucket acme-users: response larger than 1000 bytes");
	assert_int_equal(srv_count(&srv.nreq), 1); /* not retried */
	assert_int_equal(r.body.len, 0);
	aws_response_release(&r);
	req.max_response = 5000; /* exactly the cap is fine */
	assert_int_equal(aws_http_do(ctx, &req, &r, &e), ERR_OK);
	assert_int_equal(r.body.len, 5000);
	aws_response_release(&r);
	aws_ctx_free(ctx);
}

static void test_read_only(void **state)
{
	(void)state;
	srv_use(h_ok);
	struct aws_ctx *ctx = ctx_make(true, NULL);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	assert_int_equal(aws_json_call(ctx, "SSM", "ssm", "AmazonSSM", "SendCommand",
				       "instance i-1", "{}", true, &out, &e), ERR_READ_ONLY);
	assert_string_equal(e.msg, "SSM SendCommand on instance i-1: refused: this session is read-only");
	struct aws_request req = s3_req("PUT", "PutObject");
	req.mutating = true;
	req.body = "x", req.body_len = 1;
	struct aws_response r;
	assert_int_equal(aws_http_do(ctx, &req, &r, &e), ERR_READ_ONLY);
	aws_response_release(&r);
	assert_int_equal(srv_count(&srv.nreq), 0); /* nothing was sent */
	/* reading is allowed */
	assert_int_equal(aws_json_call(ctx, "SSM", "ssm", "AmazonSSM", "ListCommands", NULL, NULL,
				       false, &out, &e), ERR_OK);
	assert_int_equal(srv_count(&srv.nreq), 1);
	buf_release(&out);
	aws_ctx_free(ctx);
}

static void test_cancel(void **state)
{
	(void)state;
	srv_use(h_ok);
	atomic_store(&cancel_flag, true);
	struct aws_ctx *ctx = ctx_make(false, &cancel_flag);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	assert_int_equal(aws_json_call(ctx, "SSM", "ssm", "AmazonSSM", "ListCommands", NULL, NULL,
				       false, &out, &e), ERR_CANCELLED);
	assert_int_equal(srv_count(&srv.nreq), 0);
	/* set while the first attempt is answered: no retry is sent */
	atomic_store(&cancel_flag, false);
	srv_use(h_cancel_then_503);
	assert_int_equal(aws_json_call(ctx, "SSM", "ssm", "AmazonSSM", "ListCommands", NULL, NULL,
				       false, &out, &e), ERR_CANCELLED);
	assert_int_equal(srv_count(&srv.nreq), 1);
	atomic_store(&cancel_flag, false);
	aws_ctx_free(ctx);
}

/* A PUT with a body: x-amz-content-sha256 is the body's hash, no Expect,
 * no form Content-Type added by libcurl, everything signed as sent. */
static void test_put_headers(void **state)
{
	(void)state;
	srv_use(h_ok);
	struct aws_ctx *ctx = ctx_make(false, NULL);
	struct aws_request req = s3_req("PUT", "PutObject");
	static const char body[] = "CREATE TABLE t (id int);\n";
	const char *hdrs[] = { "x-amz-meta-origin: tarmac" };
	req.body = body, req.body_len = strlen(body), req.mutating = true;
	req.headers = hdrs, req.nheaders = 1;
	struct aws_response r;
	struct err e = ERR_INIT;
	assert_int_equal(aws_http_do(ctx, &req, &r, &e), ERR_OK);
	assert_int_equal(srv_count(&srv.bad_sig), 0);
	assert_int_equal(srv_count(&srv.bad_hdr), 0);
	pthread_mutex_lock(&srv.mu);
	char v[256], sha[65];
	aws_sha256_hex(body, strlen(body), sha);
	assert_true(head_get(srv.last_head.ptr, "x-amz-content-sha256", v, sizeof v));
	assert_string_equal(v, sha);
	assert_false(head_get(srv.last_head.ptr, "content-type", v, sizeof v));
	assert_true(head_get(srv.last_head.ptr, "authorization", v, sizeof v));
	assert_non_null(strstr(v, "/eu-west-1/s3/aws4_request, SignedHeaders=host;"
			       "x-amz-content-sha256;x-amz-date;x-amz-meta-origin;"
			       "x-amz-security-token, "));
	assert_string_equal(srv.last_body.ptr, body);
	pthread_mutex_unlock(&srv.mu);
	aws_response_release(&r);
	aws_ctx_free(ctx);
}

static void test_query_call(void **state)
{
	(void)state;
	srv_use(h_ok);
	struct aws_ctx *ctx = ctx_make(false, NULL);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	const char *kv[] = { "DBClusterIdentifier", "my cluster/1", "Marker", "a+b=" };
	assert_int_equal(aws_query_call(ctx, "RDS", "rds", "DescribeDBClusters", "2014-10-31", kv,
					4, "cluster my cluster/1", NULL, &out, &e), ERR_OK);
	assert_int_equal(srv_count(&srv.bad_sig), 0);
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.last_body.ptr, "Action=DescribeDBClusters&Version=2014-10-31&"
			    "DBClusterIdentifier=my%20cluster%2F1&Marker=a%2Bb%3D");
	char v[128];
	assert_true(head_get(srv.last_head.ptr, "content-type", v, sizeof v));
	assert_string_equal(v, "application/x-www-form-urlencoded; charset=utf-8");
	pthread_mutex_unlock(&srv.mu);

	srv_use(h_rds_error);
	assert_int_equal(aws_query_call(ctx, "RDS", "rds", "DescribeDBClusters", "2014-10-31", kv,
					2, "cluster nope", NULL, &out, &e), ERR_HTTP);
	assert_non_null(strstr(e.msg, "RDS DescribeDBClusters on cluster nope: "
			       "DBClusterNotFoundFault: DBCluster nope not found."));
	assert_int_equal(srv_count(&srv.nreq), 1);

	srv_use(h_sts_denied);
	assert_int_equal(aws_query_call(ctx, "STS", "sts", "AssumeRole", "2011-06-15", NULL, 0,
					"role r", NULL, &out, &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "STS AssumeRole on role r: AccessDenied: "));
	assert_non_null(strstr(e.msg, "(tarmac needs the IAM permission sts:AssumeRole)"));
	assert_clean(e.msg);
	buf_release(&out);
	aws_ctx_free(ctx);
}

static void test_unreachable(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_STREAM, 0); /* a port nobody listens on */
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	char ep[64], want[160];
	snprintf(ep, sizeof ep, "http://127.0.0.1:%d", ntohs(a.sin_port));
	struct aws_ctx *ctx = ctx_make(false, NULL);
	struct aws_request req = s3_req("GET", "ListObjectsV2");
	req.endpoint = ep;
	struct aws_response r;
	struct err e = ERR_INIT;
	assert_int_equal(aws_http_do(ctx, &req, &r, &e), ERR_NET);
	snprintf(want, sizeof want, "S3 ListObjectsV2 on bucket acme-users: cannot reach "
		 "127.0.0.1:%d: ", ntohs(a.sin_port));
	assert_true(!strncmp(e.msg, want, strlen(want)));
	assert_non_null(strstr(e.msg, "(gave up after 3 attempts)"));
	assert_clean(e.msg);
	assert_int_equal(ctx->retry_tokens, 490);
	aws_response_release(&r);
	aws_ctx_free(ctx);
	close(fd);
}

static void test_plain(void **state)
{
	(void)state;
	srv_use(h_ok);
	struct aws_ctx *ctx = ctx_make(false, NULL);
	char url[96];
	snprintf(url, sizeof url, "%s/latest/api/token", endpoint);
	const char *hdrs[] = { "x-aws-ec2-metadata-token-ttl-seconds: 21600" };
	struct aws_response r;
	struct err e = ERR_INIT;
	assert_int_equal(aws_http_plain(ctx, "PUT", url, hdrs, 1, "", 1000, &r, &e), ERR_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.ptr, "{\"ok\":true}");
	pthread_mutex_lock(&srv.mu);
	char v[64];
	assert_true(head_get(srv.last_head.ptr, "x-aws-ec2-metadata-token-ttl-seconds", v, sizeof v));
	assert_false(head_get(srv.last_head.ptr, "authorization", v, sizeof v));
	assert_string_equal(srv.last_target, "/latest/api/token");
	pthread_mutex_unlock(&srv.mu);
	aws_response_release(&r);

	srv_use(h_hang); /* a silent server times out, once, quickly */
	time_t t0 = time(NULL);
	assert_int_equal(aws_http_plain(ctx, "GET", url, NULL, 0, NULL, 300, &r, &e), ERR_NET);
	assert_true(time(NULL) - t0 <= 2);
	assert_int_equal(srv_count(&srv.nreq), 1);
	aws_response_release(&r);
	aws_ctx_free(ctx);
}

/* No region anywhere: a clear usage error before anything is sent. */
static void test_no_region(void **state)
{
	(void)state;
	srv_use(h_ok);
	unsetenv("AWS_REGION");
	struct aws_ctx *ctx = ctx_make(false, NULL);
	setenv("AWS_REGION", "us-east-1", 1);
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	assert_int_equal(aws_json_call(ctx, "SSM", "ssm", "AmazonSSM", "ListCommands", NULL, NULL,
				       false, &out, &e), ERR_USAGE);
	assert_string_equal(e.msg, "SSM ListCommands: no AWS region: set AWS_REGION, or region in "
			    "the profile or tarmac.conf");
	assert_int_equal(srv_count(&srv.nreq), 0);
	aws_ctx_free(ctx);
}

static int group_setup(void **state)
{
	(void)state;
	srv_start();
	snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", srv.port);
	setenv("AWS_ENDPOINT_URL", endpoint, 1);
	setenv("AWS_ACCESS_KEY_ID", AKID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_SECURITY_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
	unsetenv("AWS_CA_BUNDLE");
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	unsetenv("all_proxy");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	srv_stop();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_error_parse),
		cmocka_unit_test(test_retry_classify),
		cmocka_unit_test(test_response_header),
		cmocka_unit_test(test_slowdown_then_ok),
		cmocka_unit_test(test_persistent_500),
		cmocka_unit_test(test_clock_skew),
		cmocka_unit_test(test_throttle_then_ok),
		cmocka_unit_test(test_expired_token),
		cmocka_unit_test(test_response_cap),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_put_headers),
		cmocka_unit_test(test_query_call),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_no_region),
	};
	return cmocka_run_group_tests_name("aws_http", tests, group_setup, group_teardown);
}
