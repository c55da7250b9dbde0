/*
 * endpoint — the AWS context: the shared config and credentials files,
 * read once at aws_ctx_new (spec/aws.md §2.2), the profile and region in
 * use (§2.5), and where each service's requests go (§2.6).
 *
 * Invariants:
 * - config_kv and creds_kv hold "section\tkey\tvalue" strings. A profile's
 *   section is "profile NAME" in both (config "[default]" and
 *   "[profile NAME]", credentials "[NAME]"), so a config section that is
 *   not a profile ("[services local]", "[sso-session x]", a bare "[x]")
 *   keeps its header text and can never be mistaken for one. Keys are
 *   lower-case; an indented sub-section line under "s3 =" is the key
 *   "s3.name". Each section header also adds one entry with an empty key
 *   and value, so that a section without keys still exists. Neither
 *   section nor key holds a tab; later lines win.
 * - The files are read once; nothing here writes them.
 * - ctx->region always points at a valid string. When nothing named a
 *   region it is an empty REGION_MAX buffer that the first aws_ctx_region
 *   fills from instance metadata, once, under region_lock; region_pending
 *   turns false after that and the buffer never changes again.
 * - Error messages never quote a line of either file: the credentials
 *   file holds secrets, and a malformed line may be one.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "aws/internal.h"

enum { CONFIG_MAX = 1 << 20, REGION_MAX = 64 };

static const char *env_get(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static bool is_true(const char *v)
{
	return v && !strcasecmp(v, "true");
}

/* ---- INI parsing (botocore's configloader over RawConfigParser) ---------- */

struct ini {
	const char *file;
	bool config;            /* config file: "[profile NAME]"; else bare names */
	struct vec *kv;
	struct buf section;     /* normalised header of the current section */
	bool in_section;
	struct buf key;         /* the open key, "" when none */
	struct buf value;
	size_t key_indent;
	bool nested;            /* its value began empty: indented lines are sub-keys */
	size_t line;
};

static enum err_code ini_fail(const struct ini *p, const char *what, struct err *e)
{
	return err_set(e, ERR_PARSE, "%s line %zu: %s", p->file, p->line, what);
}

/* Tabs separate the fields of a kv string, so they may not occur inside
 * a section or key. */
static void add_name(struct buf *b, const char *s, size_t n, bool lower)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i] == '\t' ? ' ' : s[i];
		buf_addc(b, lower ? (char)tolower((unsigned char)c) : c);
	}
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static void kv_add(struct ini *p, const char *key, const char *value, size_t vlen)
{
	struct buf b = BUF_INIT;
	buf_add(&b, p->section.ptr, p->section.len);
	buf_addc(&b, '\t');
	buf_adds(&b, key);
	buf_addc(&b, '\t');
	buf_add(&b, value, vlen);
	vec_push(p->kv, buf_detach(&b, NULL));
}

static void ini_flush(struct ini *p)
{
	if (p->key.len)
		kv_add(p, p->key.ptr, p->value.ptr, p->value.len);
	buf_reset(&p->key);
	buf_wipe(&p->value);
}

/* "[default]" and "[profile NAME]" (NAME may be quoted) are profiles in
 * the config file; every section of the credentials file is one. */
static void section_name(struct buf *out, const char *h, size_t n, bool config)
{
	trim(&h, &n);
	buf_reset(out);
	if (!config || (n == 7 && !memcmp(h, "default", 7))) {
		buf_adds(out, "profile ");
		add_name(out, h, n, false);
		return;
	}
	if (n > 8 && !memcmp(h, "profile", 7) && isspace((unsigned char)h[7])) {
		const char *name = h + 8;
		size_t nn = n - 8;
		trim(&name, &nn);
		if (nn >= 2 && (*name == '"' || *name == '\'') && name[nn - 1] == *name)
			name++, nn -= 2;
		if (nn) {
			buf_adds(out, "profile ");
			add_name(out, name, nn, false);
			return;
		}
	}
	add_name(out, h, n, false);
}

static enum err_code ini_header(struct ini *p, const char *t, size_t n, struct err *e)
{
	const char *close = NULL;
	for (size_t i = n; i-- > 1;)
		if (t[i] == ']') {
			close = t + i;
			break;
		}
	if (!close)
		return ini_fail(p, "a section header needs its closing ']'", e);
	const char *h = t + 1;
	size_t hn = (size_t)(close - h);
	trim(&h, &hn);
	if (!hn)
		return ini_fail(p, "a section header needs a name between '[' and ']'", e);
	section_name(&p->section, h, hn, p->config);
	p->in_section = true;
	kv_add(p, "", "", 0); /* so that an empty section exists too */
	return ERR_OK;
}

static enum err_code ini_keyline(struct ini *p, const char *t, size_t n, size_t indent,
				 struct err *e)
{
	if (!p->in_section)
		return ini_fail(p, "a \"key = value\" line before any [section] header", e);
	size_t d = 0;
	while (d < n && t[d] != '=' && t[d] != ':')
		d++;
	if (d == n)
		return ini_fail(p, "not a [section] header, a \"key = value\" line or a comment", e);
	const char *k = t, *v = t + d + 1;
	size_t kn = d, vn = n - d - 1;
	trim(&k, &kn);
	trim(&v, &vn);
	if (!kn)
		return ini_fail(p, "a \"key = value\" line without a key", e);
	add_name(&p->key, k, kn, true);
	buf_add(&p->value, v, vn);
	p->key_indent = indent;
	p->nested = vn == 0;
	return ERR_OK;
}

/* An indented line under an open key: part of its value, or (when the
 * key's own value was empty, botocore's _parse_nested) a sub-key. */
static enum err_code ini_continue(struct ini *p, const char *t, size_t n, struct err *e)
{
	if (!p->nested) {
		buf_addc(&p->value, '\n');
		buf_add(&p->value, t, n);
		return ERR_OK;
	}
	const char *eq = memchr(t, '=', n);
	if (!eq)
		return ini_fail(p, "an indented line under \"key =\" must be \"name = value\"", e);
	const char *k = t, *v = eq + 1;
	size_t kn = (size_t)(eq - t), vn = n - kn - 1;
	trim(&k, &kn);
	trim(&v, &vn);
	if (!kn)
		return ini_fail(p, "an indented \"name = value\" line without a name", e);
	struct buf sub = BUF_INIT;
	buf_add(&sub, p->key.ptr, p->key.len);
	buf_addc(&sub, '.');
	add_name(&sub, k, kn, true);
	kv_add(p, sub.ptr, v, vn);
	buf_release(&sub);
	return ERR_OK;
}

static enum err_code ini_line(struct ini *p, const char *s, size_t n, struct err *e)
{
	if (memchr(s, 0, n))
		return ini_fail(p, "contains a NUL byte", e);
	size_t indent = 0;
	while (indent < n && isspace((unsigned char)s[indent]))
		indent++;
	const char *t = s + indent;
	size_t tn = n - indent;
	trim(&t, &tn);
	if (!tn || *t == '#' || *t == ';')
		return ERR_OK; /* blank lines and comments never close a value */
	if (p->key.len && indent > p->key_indent)
		return ini_continue(p, t, tn, e);
	ini_flush(p);
	if (*t == '[')
		return ini_header(p, t, tn, e);
	return ini_keyline(p, t, tn, indent, e);
}

enum err_code aws_config_parse(const char *text, size_t len, const char *file, bool config,
			       struct vec *kv, struct err *e)
{
	struct ini p = { .file = file ? file : "(config)", .config = config, .kv = kv };
	enum err_code rc = ERR_OK;
	buf_init(&p.section);
	buf_init(&p.key);
	buf_init(&p.value);
	for (size_t at = 0; at < len && !rc;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		p.line++;
		rc = ini_line(&p, text + at, n, e);
		at += n + 1;
	}
	if (!rc)
		ini_flush(&p);
	buf_release(&p.section);
	buf_release(&p.key);
	buf_wipe(&p.value);
	return rc;
}

const char *aws_config_get(const struct vec *kv, const char *section, const char *key)
{
	size_t sn = strlen(section), kn = strlen(key);
	for (size_t i = kv->len; i-- > 0;) {
		const char *s = kv->items[i];
		if (!strncmp(s, section, sn) && s[sn] == '\t' && !strncmp(s + sn + 1, key, kn) &&
		    s[sn + 1 + kn] == '\t')
			return s + sn + kn + 2;
	}
	return NULL;
}

bool aws_profile_exists(const struct aws_ctx *ctx, const char *profile)
{
	struct buf sec = BUF_INIT;
	bool found = false;
	buf_addf(&sec, "profile %s\t", profile);
	const struct vec *kvs[] = { &ctx->creds_kv, &ctx->config_kv };
	for (size_t k = 0; k < 2 && !found; k++)
		for (size_t i = 0; i < kvs[k]->len && !found; i++)
			found = !strncmp(kvs[k]->items[i], sec.ptr, sec.len);
	buf_release(&sec);
	return found;
}

/* botocore merges the credentials file into the profiles and lets it win,
 * even for region (spec §2.2). */
const char *aws_profile_get(const struct aws_ctx *ctx, const char *profile, const char *key)
{
	struct buf sec = BUF_INIT;
	buf_addf(&sec, "profile %s", profile ? profile : ctx->profile);
	const char *v = aws_config_get(&ctx->creds_kv, sec.ptr, key);
	if (!v || !*v)
		v = aws_config_get(&ctx->config_kv, sec.ptr, key);
	buf_release(&sec);
	return v && *v ? v : NULL;
}

/* ---- files ---------------------------------------------------------------- */

enum err_code aws_file_read(const char *path, size_t cap, struct buf *out, bool *missing,
			    struct err *e)
{
	*missing = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*missing = true;
			return ERR_OK;
		}
		return err_set(e, ERR_IO, "cannot open %s: %s", path, strerror(errno));
	}
	enum err_code rc = ERR_OK;
	char chunk[4096];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
			break;
		}
		if (!r)
			break;
		if (out->len + (size_t)r > cap) {
			rc = err_set(e, ERR_TOO_LARGE, "%s is larger than %zu KiB", path, cap / 1024);
			break;
		}
		buf_add(out, chunk, (size_t)r);
	}
	explicit_bzero(chunk, sizeof chunk);
	close(fd);
	return rc;
}

/* $ENV, with a leading "~/" expanded as botocore does, else ~/<dflt>. */
static char *file_path(const char *env, const char *dflt)
{
	const char *v = env_get(env), *home = env_get("HOME");
	struct buf b = BUF_INIT;
	if (v && v[0] == '~' && (v[1] == '/' || !v[1]) && home)
		buf_addf(&b, "%s%s", home, v + 1);
	else if (v)
		buf_adds(&b, v);
	else if (home)
		buf_addf(&b, "%s/%s", home, dflt);
	else
		return NULL;
	return buf_detach(&b, NULL);
}

static enum err_code file_load(const char *path, bool config, struct vec *kv, struct err *e)
{
	if (!path)
		return ERR_OK;
	struct buf text = BUF_INIT;
	bool missing;
	enum err_code rc = aws_file_read(path, CONFIG_MAX, &text, &missing, e);
	if (!rc && !missing)
		rc = aws_config_parse(text.ptr, text.len, path, config, kv, e);
	buf_wipe(&text);
	return rc;
}

static void kv_wipe(struct vec *kv)
{
	for (size_t i = 0; i < kv->len; i++)
		explicit_bzero(kv->items[i], strlen(kv->items[i]));
	vec_free_strs(kv);
}

/* ---- the context ------------------------------------------------------------ */

struct choice {
	const char *value, *from;
};

static struct choice choose(const struct choice *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].value && *c[i].value)
			return c[i];
	return (struct choice){ NULL, NULL };
}

/* The brief's order (options, AWS_PROFILE, AWS_DEFAULT_PROFILE) is the
 * CLI's; botocore alone lets AWS_DEFAULT_PROFILE win (spec §2.1). */
static void ctx_pick_profile(struct aws_ctx *ctx, const struct aws_ctx_options *o)
{
	const struct choice c[] = {
		{ o ? o->profile : NULL, "the options" },
		{ getenv("AWS_PROFILE"), "AWS_PROFILE" },
		{ getenv("AWS_DEFAULT_PROFILE"), "AWS_DEFAULT_PROFILE" },
		{ "default", "the default" },
	};
	struct choice got = choose(c, sizeof c / sizeof *c);
	ctx->profile = xstrdup(got.value);
	ctx->profile_from = got.from;
	ctx->profile_explicit = got.from == c[0].from;
}

/* spec §2.5's recommendation: AWS_REGION before AWS_DEFAULT_REGION (the
 * CLI and every SDK but boto3), then the profile, then IMDS (lazily). */
static void ctx_pick_region(struct aws_ctx *ctx, const struct aws_ctx_options *o)
{
	const struct choice c[] = {
		{ o ? o->region : NULL, "the options" },
		{ getenv("AWS_REGION"), "AWS_REGION" },
		{ getenv("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION" },
		{ aws_profile_get(ctx, NULL, "region"), "the profile's region" },
	};
	struct choice got = choose(c, sizeof c / sizeof *c);
	if (got.value) {
		ctx->region = xstrdup(got.value);
		ctx->region_from = got.from;
		return;
	}
	ctx->region = xcalloc(1, REGION_MAX);
	ctx->region_from = "nowhere";
	atomic_store(&ctx->region_pending, true);
}

enum err_code aws_ctx_new(const struct aws_ctx_options *o, struct aws_ctx **out, struct err *e)
{
	struct aws_ctx *ctx = xcalloc(1, sizeof *ctx);
	*out = NULL;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_mutex_init(&ctx->refresh_lock, NULL);
	pthread_mutex_init(&ctx->region_lock, NULL);
	atomic_init(&ctx->region_pending, false);
	ctx->read_only = o && o->read_only;
	ctx->cancel = o ? o->cancel : NULL;
	ctx->clock = o ? o->clock : NULL;
	ctx->retry_tokens = 500;
	ctx->config_path = file_path("AWS_CONFIG_FILE", ".aws/config");
	ctx->creds_path = file_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
	enum err_code rc = file_load(ctx->config_path, true, &ctx->config_kv, e);
	if (!rc)
		rc = file_load(ctx->creds_path, false, &ctx->creds_kv, e);
	if (rc) {
		aws_ctx_free(ctx);
		return rc;
	}
	ctx_pick_profile(ctx, o);
	ctx_pick_region(ctx, o);
	*out = ctx;
	return ERR_OK;
}

void aws_ctx_set_cancel(struct aws_ctx *ctx, atomic_bool *cancel)
{
	ctx->cancel = cancel;
}

void aws_ctx_free(struct aws_ctx *ctx)
{
	if (!ctx)
		return;
	for (size_t i = 0; i < ctx->curl_pool.len; i++)
		curl_easy_cleanup(ctx->curl_pool.items[i]);
	vec_release(&ctx->curl_pool, NULL);
	aws_creds_release(&ctx->creds);
	vec_free_strs(&ctx->bucket_regions);
	kv_wipe(&ctx->config_kv);
	kv_wipe(&ctx->creds_kv);
	free(ctx->profile);
	free(ctx->region);
	free(ctx->config_path);
	free(ctx->creds_path);
	pthread_mutex_destroy(&ctx->lock);
	pthread_mutex_destroy(&ctx->refresh_lock);
	pthread_mutex_destroy(&ctx->region_lock);
	free(ctx);
}

const char *aws_ctx_profile(const struct aws_ctx *ctx)
{
	return ctx->profile;
}

static bool region_ok(const char *r)
{
	size_t n = strlen(r);
	if (!n || n >= REGION_MAX || r[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(r[i] >= 'a' && r[i] <= 'z') && !(r[i] >= '0' && r[i] <= '9') && r[i] != '-')
			return false;
	return true;
}

/* Set while this thread asks IMDS, so that nothing it calls can wait on
 * region_lock, which it holds. */
static _Thread_local bool region_busy;

static void region_from_imds(struct aws_ctx *ctx)
{
	struct buf r = BUF_INIT;
	struct err e = ERR_INIT;
	bool found = false;
	const char *why = NULL;
	if (aws_imds_get(ctx, "meta-data/placement/region", &r, &found, &why, &e) == ERR_OK &&
	    found) {
		const char *s = r.ptr;
		size_t n = r.len;
		trim(&s, &n);
		char tmp[REGION_MAX];
		if (n < sizeof tmp) {
			memcpy(tmp, s, n);
			tmp[n] = 0;
			if (region_ok(tmp)) {
				memcpy(ctx->region, tmp, n + 1);
				ctx->region_from = "instance metadata";
			}
		}
	}
	buf_release(&r);
}

/* aws.h takes a const context because asking for the region reads it; the
 * one lazy fill writes through a context that aws_ctx_new allocated as
 * mutable, so shedding the const here is defined behaviour. */
const char *aws_ctx_region(const struct aws_ctx *cctx)
{
	if (!atomic_load(&cctx->region_pending) || region_busy)
		return cctx->region;
	struct aws_ctx *ctx = (struct aws_ctx *)(uintptr_t)cctx;
	pthread_mutex_lock(&ctx->region_lock);
	if (atomic_load(&ctx->region_pending)) {
		region_busy = true;
		region_from_imds(ctx);
		region_busy = false;
		atomic_store(&ctx->region_pending, false);
	}
	pthread_mutex_unlock(&ctx->region_lock);
	return ctx->region;
}

time_t aws_ctx_now(struct aws_ctx *ctx)
{
	time_t now = ctx->clock ? ctx->clock() : time(NULL);
	pthread_mutex_lock(&ctx->lock);
	long skew = ctx->skew_s;
	pthread_mutex_unlock(&ctx->lock);
	return now + (time_t)skew;
}

/* ---- endpoints (spec §2.6) ---------------------------------------------------- */

struct service {
	const char *id;      /* botocore's serviceId */
	const char *prefix;  /* host label of the default endpoint */
};

static const struct service services[] = {
	{ "S3", "s3" },
	{ "SSM", "ssm" },
	{ "CloudWatch Logs", "logs" },
	{ "STS", "sts" },
	{ "Secrets Manager", "secretsmanager" },
	{ "RDS", "rds" },
	{ "EC2", "ec2" },
};

static const struct service *service_find(const char *id)
{
	for (size_t i = 0; id && i < sizeof services / sizeof *services; i++)
		if (!strcasecmp(services[i].id, id))
			return &services[i];
	return NULL;
}

/* botocore's names: the serviceId with spaces and dashes as '_',
 * upper-cased after "AWS_ENDPOINT_URL_", lower-cased in [services X]. */
static void service_key(struct buf *out, const char *prefix, const char *id, bool upper)
{
	buf_adds(out, prefix);
	for (const char *p = id; *p; p++) {
		char c = *p == ' ' || *p == '-' ? '_' : *p;
		buf_addc(out, (char)(upper ? toupper((unsigned char)c) : tolower((unsigned char)c)));
	}
}

static bool endpoints_ignored(const struct aws_ctx *ctx)
{
	const char *v = env_get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	if (!v)
		v = aws_profile_get(ctx, NULL, "ignore_configured_endpoint_urls");
	return is_true(v);
}

/* The configured URL in botocore's order (environment_service,
 * environment_global, config_service, config_global) and, in from, where
 * it came from; NULL when none. */
static const char *endpoint_configured(const struct aws_ctx *ctx, const char *id, struct buf *from)
{
	const char *v;
	service_key(from, "AWS_ENDPOINT_URL_", id, true);
	if ((v = env_get(from->ptr)))
		return v;
	buf_reset(from);
	buf_adds(from, "AWS_ENDPOINT_URL");
	if ((v = env_get(from->ptr)))
		return v;
	buf_reset(from);
	const char *svc = aws_profile_get(ctx, NULL, "services");
	if (svc) {
		struct buf sec = BUF_INIT, key = BUF_INIT;
		buf_addf(&sec, "services %s", svc);
		service_key(&key, "", id, false);
		buf_adds(&key, ".endpoint_url");
		v = aws_config_get(&ctx->config_kv, sec.ptr, key.ptr);
		buf_addf(from, "[%s] %s in %s", sec.ptr, key.ptr, ctx->config_path);
		buf_release(&sec);
		buf_release(&key);
		if (v && *v)
			return v;
		buf_reset(from);
	}
	buf_addf(from, "endpoint_url of profile %s", ctx->profile);
	return aws_profile_get(ctx, NULL, "endpoint_url");
}

static enum err_code endpoint_take(const char *url, const char *from, struct buf *out,
				   struct err *e)
{
	size_t skip = !strncasecmp(url, "https://", 8) ? 8 : !strncasecmp(url, "http://", 7) ? 7 : 0;
	bool ok = skip && url[skip] && url[skip] != '/';
	for (const char *p = url; ok && *p; p++)
		ok = (unsigned char)*p > ' ' && *p != 0x7f;
	if (!ok)
		return err_set(e, ERR_USAGE,
			       "the endpoint URL in %s is not an http:// or https:// URL with a host",
			       from);
	buf_adds(out, url);
	while (out->len > skip + 1 && out->ptr[out->len - 1] == '/')
		buf_setlen(out, out->len - 1);
	return ERR_OK;
}

static enum err_code endpoint_default(const struct aws_ctx *ctx, const struct service *s,
				      const char *region, struct buf *out, struct err *e)
{
	bool s3 = !strcmp(s->id, "S3"), sts = !strcmp(s->id, "STS");
	if (!*region) {
		/* botocore's global endpoints, both signed for us-east-1 */
		if (s3 || sts) {
			buf_addf(out, "https://%s.amazonaws.com", s->prefix);
			return ERR_OK;
		}
		return err_set(e, ERR_USAGE,
			       "no AWS region for %s: set AWS_REGION, or region in profile %s (%s)",
			       s->id, ctx->profile, ctx->config_path ? ctx->config_path : "~/.aws/config");
	}
	if (!region_ok(region))
		return err_set(e, ERR_USAGE,
			       "\"%.40s\" is not an AWS region name like eu-central-1: check "
			       "AWS_REGION, AWS_DEFAULT_REGION and the profile's region", region);
	if (s3 && !strcmp(region, "us-east-1")) {
		buf_adds(out, "https://s3.amazonaws.com");
		return ERR_OK;
	}
	const char *dns = !strncmp(region, "cn-", 3) ? "amazonaws.com.cn" : "amazonaws.com";
	buf_addf(out, "https://%s.%s.%s", s->prefix, region, dns);
	return ERR_OK;
}

enum err_code aws_endpoint_for(struct aws_ctx *ctx, const char *service_id, const char *region,
			       struct buf *out, bool *custom, struct err *e)
{
	const struct service *s = service_find(service_id);
	if (custom)
		*custom = false;
	buf_reset(out);
	if (!s)
		return err_set(e, ERR_USAGE, "no endpoint is known for the AWS service \"%s\"",
			       service_id ? service_id : "(none)");
	if (!endpoints_ignored(ctx)) {
		struct buf from = BUF_INIT;
		const char *url = endpoint_configured(ctx, s->id, &from);
		enum err_code rc = url ? endpoint_take(url, from.ptr, out, e) : ERR_OK;
		buf_release(&from);
		if (url) {
			if (!rc && custom)
				*custom = true;
			return rc;
		}
	}
	if (!region || !*region)
		region = aws_ctx_region(ctx);
	return endpoint_default(ctx, s, region, out, e);
}
