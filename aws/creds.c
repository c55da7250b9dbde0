/*
 * creds — the credential chain (spec/aws.md §2.1, botocore's order) and
 * the context's credential cache.
 *
 * Providers, tried in order until one has credentials: the environment,
 * assume-role from the profile, the shared credentials file,
 * credential_process, the config file's keys, container credentials, EC2
 * instance metadata. A provider that finds nothing lets the chain go on;
 * one that finds something configured but broken (partial keys, a failing
 * credential_process, a refused AssumeRole, a container endpoint that does
 * not answer) stops it with ERR_AUTH, as botocore does: silently falling
 * through to other credentials would act as somebody else. Instance
 * metadata is the exception botocore makes too: unreachable is "none".
 *
 * Refresh (botocore's RefreshableCredentials): credentials that expire are
 * refreshed when 15 minutes or less remain (advisory); if that refresh
 * fails they are still used while more than 10 minutes remain (mandatory).
 * A refresh runs the whole chain again, which finds the same provider.
 *
 * Invariants: ctx->creds is read and replaced only under ctx->lock and
 * handed out as copies. One resolution runs at a time, under
 * ctx->refresh_lock; it is held across network calls, so it is never
 * taken while ctx->lock is held. Secret keys, session tokens, the
 * container and IMDS tokens and credential_process output are wiped after
 * use and never appear in messages (neither does the process's stderr,
 * which goes to /dev/null).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>

#include "aws/internal.h"
#include "base/time.h"

enum {
	ADVISORY_S = 15 * 60,          /* botocore _DEFAULT_ADVISORY_REFRESH_TIMEOUT */
	MANDATORY_S = 10 * 60,         /* botocore _DEFAULT_MANDATORY_REFRESH_TIMEOUT */
	PROCESS_TIMEOUT_MS = 60 * 1000,
	PROCESS_OUT_MAX = 64 * 1024,
	CONTAINER_TIMEOUT_MS = 2000,   /* spec §2.3: 2 s, 3 attempts, 1 s apart */
	CONTAINER_ATTEMPTS = 3,
	CONTAINER_TOKEN_MAX = 16 * 1024,
	IMDS_TIMEOUT_MS = 1000,        /* spec §2.4: 1 s */
	IMDS_TOKEN_MAX = 4096,
	ROLE_DEPTH_MAX = 8,
};

static const char *env_get(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static bool is_true(const char *v)
{
	return v && !strcasecmp(v, "true");
}

static void str_wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static bool cancelled(const struct aws_ctx *ctx)
{
	return ctx->cancel && atomic_load(ctx->cancel);
}

/* Sleeps ms in small steps; false when the cancel flag was raised. */
static bool nap(const struct aws_ctx *ctx, int ms)
{
	for (int left = ms; left > 0 && !cancelled(ctx); left -= 50) {
		struct timespec ts = { 0, (left < 50 ? left : 50) * 1000000L };
		nanosleep(&ts, NULL);
	}
	return !cancelled(ctx);
}

static void resp_init(struct aws_response *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->body);
}

/* Response bodies here hold keys and tokens. */
static void resp_wipe(struct aws_response *r)
{
	buf_wipe(&r->body);
	aws_response_release(r);
}

/* ---- struct aws_creds ------------------------------------------------------ */

void aws_creds_release(struct aws_creds *c)
{
	if (!c)
		return;
	free(c->access_key);
	str_wipe_free(c->secret_key);
	str_wipe_free(c->session_token);
	memset(c, 0, sizeof *c);
}

/* dst is overwritten, not released: pass an empty or released struct. */
void aws_creds_copy(struct aws_creds *dst, const struct aws_creds *src)
{
	memset(dst, 0, sizeof *dst);
	dst->access_key = xstrdup_or_null(src->access_key);
	dst->secret_key = xstrdup_or_null(src->secret_key);
	dst->session_token = xstrdup_or_null(src->session_token);
	dst->expires = src->expires;
	memcpy(dst->source, src->source, sizeof dst->source);
}

static void creds_fill(struct aws_creds *out, const char *ak, const char *sk, const char *token,
		       time_t expires, const char *source)
{
	aws_creds_release(out);
	out->access_key = xstrdup(ak);
	out->secret_key = xstrdup(sk);
	out->session_token = token && *token ? xstrdup(token) : NULL;
	out->expires = expires;
	snprintf(out->source, sizeof out->source, "%s", source);
}

/* ---- JSON credentials (credential_process, container, IMDS) ---------------- */

struct json_shape {
	const char *source;      /* "process", "container", "imds" */
	const char *token_key;   /* "SessionToken" (process) or "Token" */
	bool process;            /* Version must be 1; token and Expiration optional */
};

static void json_wipe(cJSON *j)
{
	for (; j; j = j->next) {
		json_wipe(j->child);
		if (j->valuestring)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
	}
}

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

static enum err_code json_creds_take(const cJSON *j, const struct json_shape *s,
				     struct aws_creds *out, struct err *e)
{
	if (s->process) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "Version");
		if (!cJSON_IsNumber(v) || v->valuedouble != 1)
			return err_set(e, ERR_AUTH, "the output's Version must be the number 1");
	}
	const char *ak = json_str(j, "AccessKeyId"), *sk = json_str(j, "SecretAccessKey");
	const char *tok = json_str(j, s->token_key), *exp = json_str(j, "Expiration");
	const char *missing = !ak ? "AccessKeyId" : !sk ? "SecretAccessKey" : NULL;
	if (!missing && !s->process)
		missing = !tok ? s->token_key : !exp ? "Expiration" : NULL;
	if (missing)
		return err_set(e, ERR_AUTH, "the credentials have no %s", missing);
	time_t expires = 0;
	if (exp && aws_iso8601_parse(exp, &expires, NULL))
		return err_set(e, ERR_AUTH, "the credentials' Expiration is not an ISO 8601 time");
	creds_fill(out, ak, sk, tok, expires, s->source);
	return ERR_OK;
}

static enum err_code json_creds(const char *text, size_t len, const struct json_shape *s,
				struct aws_creds *out, struct err *e)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	enum err_code rc;
	if (!cJSON_IsObject(j))
		rc = err_set(e, ERR_AUTH, "the credentials are not a JSON object");
	else
		rc = json_creds_take(j, s, out, e);
	json_wipe(j);
	cJSON_Delete(j);
	return rc;
}

/* ---- credential_process ------------------------------------------------------- */

/* Python's shlex.split (POSIX mode, no comments), which botocore uses:
 * whitespace separates words, '...' is literal, "..." lets a backslash
 * escape only '"' and '\', a bare backslash escapes any character. */
static enum err_code cmd_split(const char *s, struct vec *argv, struct err *e)
{
	struct buf w = BUF_INIT;
	bool in_word = false;
	for (const char *p = s;; p++) {
		if (!*p || isspace((unsigned char)*p)) {
			if (in_word)
				vec_push(argv, buf_detach(&w, NULL));
			in_word = false;
			if (!*p)
				return ERR_OK;
			continue;
		}
		in_word = true;
		if (*p == '\\') {
			if (!p[1])
				break;
			buf_addc(&w, *++p);
		} else if (*p == '\'') {
			const char *q = strchr(p + 1, '\'');
			if (!q)
				break;
			buf_add(&w, p + 1, (size_t)(q - p - 1));
			p = q;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				buf_addc(&w, *p);
			}
			if (!*p)
				break;
		} else {
			buf_addc(&w, *p);
		}
	}
	buf_release(&w);
	return err_set(e, ERR_AUTH, "the command line has an unclosed quote or a trailing backslash");
}

/* No shell: argv[0] is looked up in PATH (execvp's rules). stdin and
 * stderr are /dev/null, so nothing reaches the console; the child gets
 * its own process group so a timeout can kill everything it started. */
static enum err_code process_spawn(char *const *argv, pid_t *pid, int *outfd, struct err *e)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC))
		return err_set(e, ERR_IO, "cannot make a pipe: %s", strerror(errno));
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	int err = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fds[1]);
	if (err) {
		close(fds[0]);
		return err_set(e, ERR_AUTH, "cannot run %s: %s", argv[0], strerror(err));
	}
	*outfd = fds[0];
	return ERR_OK;
}

static int ms_left(uint64_t deadline_ns)
{
	uint64_t now = time_mono_ns();
	return now >= deadline_ns ? 0 : (int)((deadline_ns - now) / 1000000 + 1);
}

static enum err_code process_read(const struct aws_ctx *ctx, int fd, uint64_t deadline,
				  struct buf *out, struct err *e)
{
	char chunk[4096];
	enum err_code rc = ERR_OK;
	for (;;) {
		if (cancelled(ctx)) {
			rc = err_set(e, ERR_CANCELLED, "cancelled");
			break;
		}
		int left = ms_left(deadline);
		if (!left) {
			rc = err_set(e, ERR_AUTH, "timed out");
			break;
		}
		struct pollfd p = { fd, POLLIN, 0 };
		int n = poll(&p, 1, left < 100 ? left : 100);
		if (n <= 0)
			continue; /* timeout slice, or EINTR: check cancel and the clock */
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (out->len + (size_t)r > PROCESS_OUT_MAX) {
			rc = err_set(e, ERR_AUTH, "printed more than %d KiB", PROCESS_OUT_MAX / 1024);
			break;
		}
		buf_add(out, chunk, (size_t)r);
	}
	explicit_bzero(chunk, sizeof chunk);
	return rc;
}

/* Waits for the child (killing its group when rc already failed or the
 * deadline passes) and turns its exit status into an error. */
static enum err_code process_reap(pid_t pid, uint64_t deadline, enum err_code rc, struct err *e)
{
	int st = 0;
	for (;;) {
		if (rc) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			return rc;
		}
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return err_set(e, ERR_AUTH, "lost the process: %s", strerror(errno));
		if (!ms_left(deadline))
			rc = err_set(e, ERR_AUTH, "timed out");
		else
			nanosleep(&(struct timespec){ 0, 5000000L }, NULL);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st))
		return err_set(e, ERR_AUTH, "exited with status %d", WEXITSTATUS(st));
	if (WIFSIGNALED(st))
		return err_set(e, ERR_AUTH, "was killed by signal %d", WTERMSIG(st));
	return ERR_OK;
}

enum err_code aws_process_run(const struct aws_ctx *ctx, const char *cmdline, int timeout_ms,
			      struct buf *out, struct err *e)
{
	struct vec argv = VEC_INIT;
	enum err_code rc = cmd_split(cmdline, &argv, e);
	if (!rc && !argv.len)
		rc = err_set(e, ERR_AUTH, "the command line is empty");
	if (rc)
		goto out;
	vec_push(&argv, NULL);
	uint64_t deadline = time_mono_ns() + (uint64_t)timeout_ms * 1000000u;
	pid_t pid = 0;
	int fd = -1;
	rc = process_spawn((char *const *)argv.items, &pid, &fd, e);
	if (rc)
		goto out;
	rc = process_read(ctx, fd, deadline, out, e);
	close(fd);
	rc = process_reap(pid, deadline, rc, e);
out:
	vec_free_strs(&argv);
	return rc;
}

static enum err_code process_creds(struct aws_ctx *ctx, const char *profile, const char *cmd,
				   struct aws_creds *out, struct err *e)
{
	static const struct json_shape shape = { "process", "SessionToken", true };
	struct buf text = BUF_INIT;
	enum err_code rc = aws_process_run(ctx, cmd, PROCESS_TIMEOUT_MS, &text, e);
	if (!rc)
		rc = json_creds(text.ptr, text.len, &shape, out, e);
	buf_wipe(&text);
	if (rc && rc != ERR_CANCELLED)
		err_prefix(e, "credential_process of profile %s", profile);
	return rc;
}

/* ---- environment and profile files -------------------------------------------- */

static enum err_code env_creds(struct aws_creds *out, bool *found, struct err *e)
{
	const char *ak = env_get("AWS_ACCESS_KEY_ID"), *sk = env_get("AWS_SECRET_ACCESS_KEY");
	if (!ak && !sk)
		return ERR_OK;
	if (!ak || !sk)
		return err_set(e, ERR_AUTH, "%s is set but %s is not: set both, or unset %s",
			       ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			       ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
			       ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
	/* botocore's order: AWS_SECURITY_TOKEN, then AWS_SESSION_TOKEN */
	const char *tok = env_get("AWS_SECURITY_TOKEN");
	if (!tok)
		tok = env_get("AWS_SESSION_TOKEN");
	const char *x = env_get("AWS_CREDENTIAL_EXPIRATION");
	time_t expires = 0;
	if (x && aws_iso8601_parse(x, &expires, NULL))
		return err_set(e, ERR_AUTH, "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time "
					    "like 2024-05-17T09:09:10Z");
	creds_fill(out, ak, sk, tok, expires, "env");
	*found = true;
	return ERR_OK;
}

/* Static keys of profile in one file (kv). */
static enum err_code file_creds(const struct vec *kv, const char *file, const char *profile,
				struct aws_creds *out, bool *found, struct err *e)
{
	struct buf sec = BUF_INIT, src = BUF_INIT;
	enum err_code rc = ERR_OK;
	buf_addf(&sec, "profile %s", profile);
	const char *ak = aws_config_get(kv, sec.ptr, "aws_access_key_id");
	const char *sk = aws_config_get(kv, sec.ptr, "aws_secret_access_key");
	const char *tok = aws_config_get(kv, sec.ptr, "aws_security_token");
	if (!tok || !*tok)
		tok = aws_config_get(kv, sec.ptr, "aws_session_token");
	if (ak && *ak && (!sk || !*sk)) {
		rc = err_set(e, ERR_AUTH, "profile %s in %s has aws_access_key_id but no "
					  "aws_secret_access_key", profile, file);
	} else if (ak && *ak) {
		buf_addf(&src, "profile %s", profile);
		creds_fill(out, ak, sk, tok, 0, src.ptr);
		*found = true;
	}
	buf_release(&sec);
	buf_release(&src);
	return rc;
}

static bool has_static(const struct aws_ctx *ctx, const char *profile)
{
	return aws_profile_get(ctx, profile, "aws_access_key_id") != NULL;
}

static bool has_role(const struct aws_ctx *ctx, const char *profile)
{
	return aws_profile_get(ctx, profile, "role_arn") &&
	       !aws_profile_get(ctx, profile, "web_identity_token_file");
}

static const char *path_or(const char *path, const char *dflt)
{
	return path ? path : dflt;
}

/* botocore's profile providers (shared credentials file, credential_process,
 * config file), as for a source_profile. */
static enum err_code profile_creds(struct aws_ctx *ctx, const char *profile, struct aws_creds *out,
				   bool *found, struct err *e)
{
	enum err_code rc = file_creds(&ctx->creds_kv, path_or(ctx->creds_path, "~/.aws/credentials"),
				      profile, out, found, e);
	const char *cmd = aws_profile_get(ctx, profile, "credential_process");
	if (!rc && !*found && cmd) {
		rc = process_creds(ctx, profile, cmd, out, e);
		*found = !rc;
	}
	if (!rc && !*found)
		rc = file_creds(&ctx->config_kv, path_or(ctx->config_path, "~/.aws/config"), profile,
				out, found, e);
	return rc;
}

/* ---- container credentials (spec §2.3) ----------------------------------------- */

static bool host_allowed(const char *host)
{
	static const char *const named[] = { "localhost", "169.254.170.2", "169.254.170.23" };
	for (size_t i = 0; i < sizeof named / sizeof *named; i++)
		if (!strcasecmp(host, named[i]))
			return true;
	struct in_addr v4;
	struct in6_addr v6, eks;
	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	inet_pton(AF_INET6, "fd00:ec2::23", &eks);
	if (inet_pton(AF_INET6, host, &v6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&v6) || !memcmp(&v6, &eks, sizeof eks);
	return false;
}

/* https anywhere; plain http only to loopback and the ECS/EKS agents. A
 * URL with user info is refused: it can make the host look like another. */
bool aws_container_uri_allowed(const char *url)
{
	bool https = !strncasecmp(url, "https://", 8);
	if (!https && strncasecmp(url, "http://", 7))
		return false;
	const char *h = url + (https ? 8 : 7);
	size_t n = strcspn(h, "/?#");
	char host[256];
	if (memchr(h, '@', n) || strpbrk(url, " \t\r\n"))
		return false;
	if (*h == '[') {
		const char *rb = memchr(h, ']', n);
		if (!rb || (size_t)(rb - h - 1) >= sizeof host)
			return false;
		memcpy(host, h + 1, (size_t)(rb - h - 1));
		host[rb - h - 1] = 0;
	} else {
		size_t hn = strcspn(h, ":/?#");
		if (hn >= sizeof host)
			return false;
		memcpy(host, h, hn);
		host[hn] = 0;
	}
	return host[0] && (https || host_allowed(host));
}

static enum err_code container_url(struct buf *url, const char **var, struct err *e)
{
	const char *rel = env_get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env_get("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	*var = rel ? "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" : "AWS_CONTAINER_CREDENTIALS_FULL_URI";
	if (rel) {
		if (rel[0] != '/' || strpbrk(rel, " \t\r\n"))
			return err_set(e, ERR_AUTH, "%s must be a path starting with '/'", *var);
		buf_addf(url, "http://169.254.170.2%s", rel);
	} else if (full) {
		if (!aws_container_uri_allowed(full))
			return err_set(e, ERR_AUTH, "%s must be https, or http to a loopback address, "
					  "169.254.170.2, 169.254.170.23 or fd00:ec2::23", *var);
		buf_adds(url, full);
	}
	return ERR_OK;
}

/* "Authorization: <token>" from the token file (which wins) or variable. */
static enum err_code container_auth(struct buf *hdr, struct err *e)
{
	const char *file = env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tok = env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	struct buf t = BUF_INIT;
	enum err_code rc = ERR_OK;
	bool missing = false;
	if (file) {
		rc = aws_file_read(file, CONTAINER_TOKEN_MAX, &t, &missing, e);
		if (!rc && missing)
			rc = err_set(e, ERR_AUTH, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s does "
						  "not exist", file);
	} else if (tok) {
		buf_adds(&t, tok);
	}
	if (!rc && (strpbrk(t.ptr, "\r\n") || strlen(t.ptr) != t.len))
		rc = err_set(e, ERR_AUTH, "the container authorization token has a line break");
	if (!rc && t.len)
		buf_addf(hdr, "Authorization: %s", t.ptr);
	buf_wipe(&t);
	return rc;
}

static enum err_code container_fetch(struct aws_ctx *ctx, const char *url, const char *var,
				     const struct buf *auth, struct aws_creds *out, struct err *e)
{
	static const struct json_shape shape = { "container", "Token", false };
	const char *hdrs[] = { "Accept: application/json", auth->ptr };
	struct err last = ERR_INIT;
	for (int attempt = 1; attempt <= CONTAINER_ATTEMPTS; attempt++) {
		if (attempt > 1 && !nap(ctx, 1000))
			break;
		struct aws_response r;
		resp_init(&r);
		enum err_code rc = aws_http_plain(ctx, "GET", url, hdrs, auth->len ? 2 : 1, NULL,
						  CONTAINER_TIMEOUT_MS, &r, &last);
		if (!rc && r.status != 200)
			rc = err_set(&last, ERR_AUTH, "HTTP %ld", r.status);
		else if (!rc)
			rc = json_creds(r.body.ptr, r.body.len, &shape, out, &last);
		resp_wipe(&r);
		if (!rc)
			return ERR_OK;
		if (rc == ERR_CANCELLED)
			break;
	}
	if (cancelled(ctx))
		return err_set(e, ERR_CANCELLED, "cancelled while fetching container credentials");
	return err_set(e, ERR_AUTH, "container credentials (%s): %s", var, last.msg);
}

static enum err_code container_creds(struct aws_ctx *ctx, struct aws_creds *out, bool *found,
				     struct err *e)
{
	struct buf url = BUF_INIT, auth = BUF_INIT;
	const char *var;
	enum err_code rc = container_url(&url, &var, e);
	if (!rc && url.len)
		rc = container_auth(&auth, e);
	if (!rc && url.len) {
		rc = container_fetch(ctx, url.ptr, var, &auth, out, e);
		*found = !rc;
	}
	buf_release(&url);
	buf_wipe(&auth);
	return rc;
}

/* ---- EC2 instance metadata (spec §2.4) ------------------------------------------ */

/* One conversation with IMDS: its base URL, the session token ("" for
 * IMDSv1) and, once IMDS turned out unusable, why (static text). */
struct imds {
	struct aws_ctx *ctx;
	struct buf base, token;
	const char *why;
};

static void imds_open(struct imds *m, struct aws_ctx *ctx)
{
	const char *v = env_get("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	m->ctx = ctx;
	m->why = NULL;
	buf_init(&m->base);
	buf_init(&m->token);
	if (!v)
		v = aws_profile_get(ctx, NULL, "ec2_metadata_service_endpoint");
	if (!v) {
		const char *mode = env_get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
		if (!mode)
			mode = aws_profile_get(ctx, NULL, "ec2_metadata_service_endpoint_mode");
		v = mode && !strcasecmp(mode, "IPv6") ? "http://[fd00:ec2::254]"
						       : "http://169.254.169.254";
	}
	buf_adds(&m->base, v);
	while (m->base.len && m->base.ptr[m->base.len - 1] == '/')
		buf_setlen(&m->base, m->base.len - 1);
	if (is_true(env_get("AWS_EC2_METADATA_DISABLED")))
		m->why = "disabled by AWS_EC2_METADATA_DISABLED";
}

static void imds_close(struct imds *m)
{
	buf_wipe(&m->token);
	buf_release(&m->base);
}

static int imds_timeout_ms(void)
{
	const char *v = env_get("AWS_METADATA_SERVICE_TIMEOUT");
	int s = v ? atoi(v) : 0;
	return s > 0 && s <= 60 ? s * 1000 : IMDS_TIMEOUT_MS;
}

static bool imds_v1_disabled(const struct aws_ctx *ctx)
{
	const char *v = env_get("AWS_EC2_METADATA_V1_DISABLED");
	if (!v)
		v = aws_profile_get(ctx, NULL, "ec2_metadata_v1_disabled");
	return is_true(v);
}

static bool token_ok(const struct buf *b)
{
	return b->len && b->len < IMDS_TOKEN_MAX && !strpbrk(b->ptr, "\r\n") &&
	       strlen(b->ptr) == b->len;
}

/* The IMDSv2 token, left empty for IMDSv1 when the PUT is refused with
 * 403/404/405 (botocore's fallback). A PUT that times out counts as
 * unreachable here: aws_http_plain does not tell a read timeout from a
 * refused connection, and waiting twice off EC2 would cost seconds. */
static enum err_code imds_token(struct imds *m, struct err *e)
{
	static const char *const ttl[] = { "x-aws-ec2-metadata-token-ttl-seconds: 21600" };
	struct buf url = BUF_INIT;
	struct aws_response r;
	struct err e2 = ERR_INIT;
	resp_init(&r);
	buf_addf(&url, "%s/latest/api/token", m->base.ptr);
	enum err_code rc = aws_http_plain(m->ctx, "PUT", url.ptr, ttl, 1, "", imds_timeout_ms(), &r,
					  &e2);
	if (rc == ERR_CANCELLED) {
		err_set(e, rc, "cancelled while asking instance metadata");
	} else if (rc) {
		m->why = "unreachable";
		rc = ERR_OK;
	} else if (r.status == 200 && token_ok(&r.body)) {
		buf_adds(&m->token, r.body.ptr);
	} else if (r.status == 403 || r.status == 404 || r.status == 405) {
		if (imds_v1_disabled(m->ctx))
			m->why = "no token, and IMDSv1 is disabled";
	} else {
		m->why = "the token request failed";
	}
	resp_wipe(&r);
	buf_release(&url);
	return rc;
}

/* GET <base>/latest/<path> into out; m->why set when there is nothing. */
static enum err_code imds_fetch(struct imds *m, const char *path, struct buf *out, struct err *e)
{
	struct buf url = BUF_INIT, hdr = BUF_INIT;
	struct aws_response r;
	struct err e2 = ERR_INIT;
	resp_init(&r);
	buf_addf(&url, "%s/latest/%s", m->base.ptr, path);
	if (m->token.len)
		buf_addf(&hdr, "x-aws-ec2-metadata-token: %s", m->token.ptr);
	const char *const hdrs[] = { hdr.ptr };
	enum err_code rc = aws_http_plain(m->ctx, "GET", url.ptr, hdrs, hdr.len ? 1 : 0, NULL,
					  imds_timeout_ms(), &r, &e2);
	if (rc == ERR_CANCELLED) {
		err_set(e, rc, "cancelled while asking instance metadata");
	} else if (rc) {
		m->why = "unreachable";
		rc = ERR_OK;
	} else if (r.status == 200) {
		buf_add(out, r.body.ptr, r.body.len);
	} else {
		m->why = r.status == 404 ? "not found" : r.status == 401 ? "token refused"
									: "unexpected HTTP status";
	}
	resp_wipe(&r);
	buf_wipe(&hdr);
	buf_release(&url);
	return rc;
}

enum err_code aws_imds_get(struct aws_ctx *ctx, const char *path, struct buf *out, bool *found,
			   const char **why, struct err *e)
{
	struct imds m;
	enum err_code rc = ERR_OK;
	imds_open(&m, ctx);
	if (!m.why)
		rc = imds_token(&m, e);
	if (!rc && !m.why)
		rc = imds_fetch(&m, path, out, e);
	*found = !rc && !m.why;
	*why = m.why;
	imds_close(&m);
	return rc;
}

/* An IAM role name as IMDS lists it: IAM's character set only, since it
 * goes into the next URL. */
static bool role_name_ok(const char *s, size_t n)
{
	if (!n || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("+=,.@_-", s[i]))
			return false;
	return true;
}

/* The credentials document: botocore wants all four members; a 200 with
 * an error Code (IMDS does that) is no credentials either. */
static void imds_doc(struct imds *m, const struct buf *doc, struct aws_creds *out)
{
	static const struct json_shape shape = { "imds", "Token", false };
	cJSON *j = cJSON_ParseWithLength(doc->ptr, doc->len);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "Code");
	struct err e2 = ERR_INIT;
	if (cJSON_IsString(code) && strcmp(code->valuestring, "Success"))
		m->why = "the role's credentials are not available";
	else if (!cJSON_IsObject(j) || json_creds_take(j, &shape, out, &e2))
		m->why = "unusable credentials document";
	json_wipe(j);
	cJSON_Delete(j);
}

static enum err_code imds_creds(struct aws_ctx *ctx, struct aws_creds *out, bool *found,
				const char **why, struct err *e)
{
	const char *list = "meta-data/iam/security-credentials/";
	struct buf role = BUF_INIT, path = BUF_INIT, doc = BUF_INIT;
	struct imds m;
	enum err_code rc = ERR_OK;
	imds_open(&m, ctx);
	if (!m.why)
		rc = imds_token(&m, e);
	if (!rc && !m.why)
		rc = imds_fetch(&m, list, &role, e);
	size_t n = strcspn(role.ptr, "\r\n");
	if (!rc && (m.why ? !strcmp(m.why, "not found") : !role_name_ok(role.ptr, n)))
		m.why = "no IAM role";
	if (!rc && !m.why) {
		buf_addf(&path, "%s%.*s", list, (int)n, role.ptr);
		rc = imds_fetch(&m, path.ptr, &doc, e);
	}
	if (!rc && !m.why)
		imds_doc(&m, &doc, out);
	*found = !rc && !m.why;
	*why = m.why;
	imds_close(&m);
	buf_release(&role);
	buf_release(&path);
	buf_wipe(&doc);
	return rc;
}

/* ---- assume role (spec §2.2) ---------------------------------------------------- */

struct role_path {
	const char *names[ROLE_DEPTH_MAX];
	size_t n;
};

static enum err_code assume_role(struct aws_ctx *ctx, const char *profile, struct role_path *rp,
				 struct aws_creds *out, struct err *e);

static enum err_code source_named(struct aws_ctx *ctx, const char *profile, const char *cs,
				  struct aws_creds *out, struct err *e)
{
	bool found = false;
	const char *why = NULL;
	enum err_code rc;
	if (!strcmp(cs, "Environment"))
		rc = env_creds(out, &found, e);
	else if (!strcmp(cs, "Ec2InstanceMetadata"))
		rc = imds_creds(ctx, out, &found, &why, e);
	else if (!strcmp(cs, "EcsContainer"))
		rc = container_creds(ctx, out, &found, e);
	else
		return err_set(e, ERR_AUTH, "credential_source of profile %s must be Environment, "
					    "Ec2InstanceMetadata or EcsContainer", profile);
	if (!rc && !found)
		rc = err_set(e, ERR_AUTH, "profile %s takes its credentials from %s, which has "
					  "none%s%s%s", profile, cs, why ? " (" : "", why ? why : "",
			     why ? ")" : "");
	return rc;
}

static enum err_code source_loop(const struct role_path *rp, const char *sp, struct err *e)
{
	struct buf chain = BUF_INIT;
	for (size_t i = 0; i < rp->n; i++)
		buf_addf(&chain, "%s -> ", rp->names[i]);
	buf_adds(&chain, sp);
	err_set(e, ERR_AUTH, "the profiles' source_profile settings form a loop: %s", chain.ptr);
	buf_release(&chain);
	return ERR_AUTH;
}

/* botocore's _resolve_credentials_from_profile: a source profile with
 * static keys (or no role) gives its own credentials; one with a role is
 * assumed in turn. A profile may name itself only to use its own keys. */
static enum err_code source_profile(struct aws_ctx *ctx, const char *profile, const char *sp,
				    struct role_path *rp, struct aws_creds *out, struct err *e)
{
	bool seen = false, found = false;
	for (size_t i = 0; i < rp->n; i++)
		seen = seen || !strcmp(rp->names[i], sp);
	if (!aws_profile_exists(ctx, sp))
		return err_set(e, ERR_AUTH, "source_profile %s of profile %s is in neither %s nor %s",
			       sp, profile, path_or(ctx->config_path, "~/.aws/config"),
			       path_or(ctx->creds_path, "~/.aws/credentials"));
	if (seen && (strcmp(sp, profile) || !has_static(ctx, sp)))
		return source_loop(rp, sp, e);
	if (!has_static(ctx, sp) && has_role(ctx, sp)) {
		if (rp->n == ROLE_DEPTH_MAX)
			return source_loop(rp, sp, e);
		rp->names[rp->n++] = sp;
		return assume_role(ctx, sp, rp, out, e);
	}
	enum err_code rc = profile_creds(ctx, sp, out, &found, e);
	if (!rc && !found)
		rc = err_set(e, ERR_AUTH, "source_profile %s of profile %s has no credentials", sp,
			     profile);
	return rc;
}

static enum err_code role_call(struct aws_ctx *ctx, const char *profile,
			       const struct aws_creds *src, struct aws_creds *out, struct err *e)
{
	const char *dur = aws_profile_get(ctx, profile, "duration_seconds");
	char name[64];
	struct aws_sts_assume req = {
		.role_arn = aws_profile_get(ctx, profile, "role_arn"),
		.session_name = aws_profile_get(ctx, profile, "role_session_name"),
		.external_id = aws_profile_get(ctx, profile, "external_id"),
	};
	if (dur) {
		char *end;
		long d = strtol(dur, &end, 10);
		if (*end || d < 900 || d > 43200)
			return err_set(e, ERR_AUTH, "duration_seconds of profile %s must be a number "
						    "of seconds from 900 to 43200", profile);
		req.duration_s = (int)d;
	}
	if (!req.session_name) {
		snprintf(name, sizeof name, "tarmac-session-%lld", (long long)aws_ctx_now(ctx));
		req.session_name = name;
	}
	enum err_code rc = aws_sts_assume_role(ctx, &req, src, out, e);
	if (rc && rc != ERR_CANCELLED)
		err_prefix(e, "assuming the role of profile %s", profile);
	return rc;
}

static enum err_code assume_role(struct aws_ctx *ctx, const char *profile, struct role_path *rp,
				 struct aws_creds *out, struct err *e)
{
	const char *sp = aws_profile_get(ctx, profile, "source_profile");
	const char *cs = aws_profile_get(ctx, profile, "credential_source");
	struct aws_creds src = { 0 };
	if (sp && cs)
		return err_set(e, ERR_AUTH, "profile %s has both source_profile and "
					    "credential_source: keep one", profile);
	if (!sp && !cs)
		return err_set(e, ERR_AUTH, "profile %s has role_arn but neither source_profile "
					    "nor credential_source", profile);
	if (aws_profile_get(ctx, profile, "mfa_serial"))
		return err_set(e, ERR_AUTH, "profile %s needs an MFA code (mfa_serial), which "
					    "tarmac cannot ask for: use credential_process or "
					    "export temporary credentials", profile);
	enum err_code rc = cs ? source_named(ctx, profile, cs, &src, e)
			      : source_profile(ctx, profile, sp, rp, &src, e);
	if (!rc)
		rc = role_call(ctx, profile, &src, out, e);
	aws_creds_release(&src);
	return rc;
}

/* ---- the chain ------------------------------------------------------------------ */

struct chain {
	struct aws_ctx *ctx;
	struct buf tried;        /* what the "no credentials" message lists */
};

typedef enum err_code provider_fn(struct chain *ch, struct aws_creds *out, bool *found,
				  struct err *e);

static void tried_add(struct chain *ch, const char *what, const char *detail)
{
	buf_addf(&ch->tried, "%s%s%s%s%s", ch->tried.len ? ", " : "", what, detail ? " (" : "",
		 detail ? detail : "", detail ? ")" : "");
}

/* botocore drops the environment when a profile is chosen explicitly
 * (spec §2.1): AWS_PROFILE does not, the options' profile does. */
static enum err_code prov_env(struct chain *ch, struct aws_creds *out, bool *found,
			      struct err *e)
{
	if (ch->ctx->profile_explicit) {
		tried_add(ch, "environment", "skipped: a profile was chosen");
		return ERR_OK;
	}
	tried_add(ch, "environment", NULL);
	return env_creds(out, found, e);
}

/* Past the environment, everything comes from the profile, so a profile
 * that was named but does not exist is an error, as in botocore. */
static enum err_code prov_profile_known(struct chain *ch, struct aws_creds *out, bool *found,
					struct err *e)
{
	struct aws_ctx *ctx = ch->ctx;
	(void)out, (void)found;
	if (!strcmp(ctx->profile, "default") || aws_profile_exists(ctx, ctx->profile))
		return ERR_OK;
	return err_set(e, ERR_AUTH, "AWS profile %s (from %s) is in neither %s nor %s",
		       ctx->profile, ctx->profile_from,
		       path_or(ctx->config_path, "~/.aws/config"),
		       path_or(ctx->creds_path, "~/.aws/credentials"));
}

static enum err_code prov_assume(struct chain *ch, struct aws_creds *out, bool *found,
				 struct err *e)
{
	struct role_path rp = { { ch->ctx->profile }, 1 };
	if (!aws_profile_get(ch->ctx, NULL, "role_arn"))
		return ERR_OK;
	if (!has_role(ch->ctx, ch->ctx->profile))
		return err_set(e, ERR_AUTH, "profile %s uses web identity (web_identity_token_file),"
					    " which tarmac does not support", ch->ctx->profile);
	enum err_code rc = assume_role(ch->ctx, ch->ctx->profile, &rp, out, e);
	*found = !rc;
	return rc;
}

static enum err_code prov_profile(struct chain *ch, struct aws_creds *out, bool *found,
				  struct err *e)
{
	struct aws_ctx *ctx = ch->ctx;
	struct buf where = BUF_INIT;
	buf_addf(&where, "%s, %s", path_or(ctx->creds_path, "no credentials file"),
		 path_or(ctx->config_path, "no config file"));
	struct buf what = BUF_INIT;
	buf_addf(&what, "profile %s", ctx->profile);
	tried_add(ch, what.ptr, where.ptr);
	buf_release(&where);
	buf_release(&what);
	if (aws_profile_get(ctx, NULL, "sso_start_url") || aws_profile_get(ctx, NULL, "sso_session"))
		if (!has_static(ctx, ctx->profile) &&
		    !aws_profile_get(ctx, NULL, "credential_process"))
			return err_set(e, ERR_AUTH, "profile %s uses IAM Identity Center (SSO), "
						    "which tarmac does not support: use "
						    "credential_process or export credentials",
				       ctx->profile);
	return profile_creds(ctx, ctx->profile, out, found, e);
}

/* Web identity (EKS IRSA) is not supported; say so rather than fall
 * through silently when its variables are set. */
static enum err_code prov_web_identity(struct chain *ch, struct aws_creds *out, bool *found,
				       struct err *e)
{
	(void)out, (void)found, (void)e;
	if (env_get("AWS_WEB_IDENTITY_TOKEN_FILE"))
		tried_add(ch, "web identity", "AWS_WEB_IDENTITY_TOKEN_FILE is not supported");
	return ERR_OK;
}

static enum err_code prov_container(struct chain *ch, struct aws_creds *out, bool *found,
				    struct err *e)
{
	enum err_code rc = container_creds(ch->ctx, out, found, e);
	if (!rc && !*found)
		tried_add(ch, "container", "not configured");
	return rc;
}

static enum err_code prov_imds(struct chain *ch, struct aws_creds *out, bool *found,
			       struct err *e)
{
	const char *why = NULL;
	enum err_code rc = imds_creds(ch->ctx, out, found, &why, e);
	if (!rc && !*found)
		tried_add(ch, "instance metadata", why);
	return rc;
}

static provider_fn *const providers[] = {
	prov_env,      prov_profile_known, prov_assume, prov_web_identity,
	prov_profile,  prov_container,     prov_imds,
};

static enum err_code chain_run(struct aws_ctx *ctx, struct aws_creds *out, struct err *e)
{
	struct chain ch = { ctx, BUF_INIT };
	bool found = false;
	enum err_code rc = ERR_OK;
	for (size_t i = 0; !rc && !found && i < sizeof providers / sizeof *providers; i++)
		rc = providers[i](&ch, out, &found, e);
	if (!rc && !found)
		rc = err_set(e, ERR_AUTH, "no AWS credentials: tried %s; set AWS_ACCESS_KEY_ID and "
					  "AWS_SECRET_ACCESS_KEY, or configure profile %s",
			     ch.tried.ptr, ctx->profile);
	buf_release(&ch.tried);
	return rc;
}

/* ---- the cache ------------------------------------------------------------------- */

/* Under ctx->lock: copies the cached credentials into out when more than
 * window seconds remain (or they never expire). */
static bool cache_take(struct aws_ctx *ctx, time_t now, long window, struct aws_creds *out)
{
	if (!ctx->have_creds || (ctx->creds.expires && ctx->creds.expires - now <= window))
		return false;
	aws_creds_copy(out, &ctx->creds);
	return true;
}

static enum err_code cache_refresh(struct aws_ctx *ctx, time_t now, struct aws_creds *out,
				   struct err *e)
{
	struct aws_creds fresh = { 0 };
	struct err e2 = ERR_INIT;
	enum err_code rc = chain_run(ctx, &fresh, &e2);
	if (!rc && fresh.expires && fresh.expires <= now)
		rc = err_set(&e2, ERR_AUTH, "the credentials from %s have expired already",
			     fresh.source);
	pthread_mutex_lock(&ctx->lock);
	if (!rc) {
		aws_creds_release(&ctx->creds);
		ctx->creds = fresh;
		memset(&fresh, 0, sizeof fresh);
		ctx->have_creds = true;
		aws_creds_copy(out, &ctx->creds);
	} else if (rc != ERR_CANCELLED && cache_take(ctx, now, MANDATORY_S, out)) {
		rc = ERR_OK; /* an advisory refresh may fail: these still have > 10 min */
	}
	pthread_mutex_unlock(&ctx->lock);
	aws_creds_release(&fresh);
	if (rc && e)
		*e = e2;
	return rc;
}

enum err_code aws_creds_get(struct aws_ctx *ctx, struct aws_creds *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	time_t now = aws_ctx_now(ctx);
	pthread_mutex_lock(&ctx->lock);
	bool ok = cache_take(ctx, now, ADVISORY_S, out);
	pthread_mutex_unlock(&ctx->lock);
	if (ok)
		return ERR_OK;
	pthread_mutex_lock(&ctx->refresh_lock);
	now = aws_ctx_now(ctx);
	pthread_mutex_lock(&ctx->lock);
	ok = cache_take(ctx, now, ADVISORY_S, out); /* another thread may have refreshed */
	pthread_mutex_unlock(&ctx->lock);
	enum err_code rc = ok ? ERR_OK : cache_refresh(ctx, now, out, e);
	pthread_mutex_unlock(&ctx->refresh_lock);
	return rc;
}

void aws_creds_invalidate(struct aws_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	aws_creds_release(&ctx->creds);
	ctx->have_creds = false;
	pthread_mutex_unlock(&ctx->lock);
}

enum err_code aws_creds_describe(struct aws_ctx *ctx, char *source, size_t n, time_t *expires,
				 struct err *e)
{
	struct aws_creds c;
	enum err_code rc = aws_creds_get(ctx, &c, e);
	if (rc)
		return rc;
	if (source && n)
		snprintf(source, n, "%s", c.source);
	if (expires)
		*expires = c.expires;
	aws_creds_release(&c);
	return ERR_OK;
}
