/*
 * s3_source — the engine's migration source for "s3:bucket[/prefix]"
 * (spec/flyway.md §9), and the checksum cache that spares downloads.
 * The one file of aws/ that includes engine/engine.h.
 *
 * What Flyway does, and what tarmac does beyond it:
 * - bucket up to the first '/', prefix the rest (one leading '/' stripped),
 *   every key under the prefix, no delimiter; file name = key after the
 *   last '/', script = "bucket/key" (Flyway's S3 relativePath). Flyway reads
 *   one ListObjectsV2 page (1000 keys); tarmac reads every page.
 * - Bodies are fetched in parallel: the first open of an object not yet
 *   fetched starts a window of up to 64 objects / 64 MiB (that object and
 *   the following ones whose checksum is not cached, in listing order — the
 *   order the engine opens them), 16 transfers at a time over the reused
 *   connections of one curl multi handle, each signed with SigV4. Bodies
 *   are held until opened; passed-over ones are dropped when the next
 *   window starts. Any object the window could not fetch is fetched on its
 *   own by aws_s3_get_object, which has retries, redirects and error
 *   messages: the window is only an optimisation, never a source of errors.
 * - The cache maps (bucket, key, ETag) to the Flyway checksum, so a second
 *   run downloads only what changed. A checksum is remembered only when the
 *   body read carried the listed ETag. It is rewritten at free (temporary
 *   file + rename), replacing what it knew under this location's prefix
 *   by what this listing saw, so deleted objects leave it. A corrupt cache
 *   is ignored with a log line. It holds no secrets.
 * Threads: a source is used by one thread; the context it borrows (it must
 * outlive the source) is shared; cache rewrites within the process are
 * serialised.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "aws/internal.h"
#include "base/file.h"
#include "base/log.h"
#include "engine/engine.h"

enum { PREFETCH_PARALLEL = 16, PREFETCH_WINDOW = 64 };
#define PREFETCH_BYTES ((size_t)64 << 20)
#define OBJECT_MAX ((size_t)256 << 20)
#define CACHE_FILE_MAX ((size_t)64 << 20)
#define CACHE_HEADER "tarmac-s3-checksums 1"

/* ---- the checksum cache file ---------------------------------------------- */

static pthread_mutex_t cache_file_lock = PTHREAD_MUTEX_INITIALIZER;

void aws_s3_cache_entry_free(void *p)
{
	struct aws_s3_cache_entry *c = p;
	if (!c)
		return;
	free(c->bucket);
	free(c->key);
	free(c->etag);
	free(c);
}

bool aws_s3_cache_path(struct buf *out)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	buf_reset(out);
	if (xdg && xdg[0] == '/') /* relative values are invalid (XDG spec) */
		buf_addf(out, "%s/tarmac/s3-checksums", xdg);
	else if (home && home[0] == '/')
		buf_addf(out, "%s/.cache/tarmac/s3-checksums", home);
	return out->len > 0;
}

static int cmp_entry(const void *x, const void *y)
{
	const struct aws_s3_cache_entry *a = *(const struct aws_s3_cache_entry *const *)x;
	const struct aws_s3_cache_entry *b = *(const struct aws_s3_cache_entry *const *)y;
	int c = strcmp(a->bucket, b->bucket);
	return c ? c : strcmp(a->key, b->key);
}

struct aws_s3_cache_entry *aws_s3_cache_find(const struct vec *entries, const char *bucket,
					     const char *key)
{
	size_t lo = 0, hi = entries->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct aws_s3_cache_entry *m = entries->items[mid];
		int c = strcmp(m->bucket, bucket);
		if (!c)
			c = strcmp(m->key, key);
		if (!c)
			return m;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One percent-encoded field as aws_uri_encode wrote it; NULL if it is not. */
static char *field_decode(const char *s, size_t n)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789-_.~/";
	struct buf out = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		int hi = s[i] == '%' && i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
		int lo = hi >= 0 ? hexval((unsigned char)s[i + 2]) : -1;
		if (lo >= 0 && (hi | lo)) {
			buf_addc(&out, (char)(hi * 16 + lo));
			i += 2;
		} else if (s[i] && strchr(plain, s[i])) {
			buf_addc(&out, s[i]);
		} else {
			buf_release(&out);
			return NULL;
		}
	}
	return buf_detach(&out, NULL);
}

static bool parse_checksum(const char *s, size_t n, int32_t *out)
{
	char tmp[16];
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	char *end = NULL;
	errno = 0;
	long long v = strtoll(tmp, &end, 10);
	if (errno || *end || end == tmp || tmp[0] == '+' || tmp[0] == ' ' ||
	    v < INT32_MIN || v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

/* "bucket key etag checksum": four fields separated by single spaces. */
static struct aws_s3_cache_entry *parse_line(const char *line, size_t n)
{
	const char *f[4];
	size_t fl[4], k = 0;
	const char *p = line, *end = line + n;
	while (k < 4) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		f[k] = p;
		fl[k++] = (size_t)((sp ? sp : end) - p);
		if (!sp)
			break;
		p = sp + 1;
	}
	struct aws_s3_cache_entry *c = xcalloc(1, sizeof *c);
	if (k != 4 || f[3] + fl[3] != end || !fl[0] || !fl[1] ||
	    !(c->bucket = field_decode(f[0], fl[0])) || !(c->key = field_decode(f[1], fl[1])) ||
	    !(c->etag = field_decode(f[2], fl[2])) || !parse_checksum(f[3], fl[3], &c->checksum)) {
		aws_s3_cache_entry_free(c);
		return NULL;
	}
	return c;
}

static enum err_code cache_parse(const char *path, const struct buf *text, struct vec *out,
				 struct err *e)
{
	const char *p = text->ptr, *end = text->ptr + text->len;
	size_t hl = strlen(CACHE_HEADER), lineno = 1;
	if (text->len <= hl || memcmp(p, CACHE_HEADER "\n", hl + 1) != 0)
		return err_set(e, ERR_PARSE, "%s: not a tarmac S3 checksum cache", path);
	for (p += hl + 1; p < end; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct aws_s3_cache_entry *c = nl ? parse_line(p, (size_t)(nl - p)) : NULL;
		if (!c)
			return err_set(e, ERR_PARSE, "%s:%zu: malformed entry", path, lineno + 1);
		vec_push(out, c);
		p = nl + 1;
	}
	return ERR_OK;
}

static enum err_code read_file(const char *path, struct buf *out, bool *missing, struct err *e)
{
	*missing = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*missing = errno == ENOENT;
		return *missing ? ERR_OK : err_set(e, ERR_IO, "cannot read %s: %s", path,
						   strerror(errno));
	}
	enum err_code c = ERR_OK;
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			c = err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
		else if (out->len + (size_t)n > CACHE_FILE_MAX)
			c = err_set(e, ERR_PARSE, "%s: larger than %zu bytes", path,
				    CACHE_FILE_MAX);
		if (c || n <= 0)
			break;
		buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return c;
}

enum err_code aws_s3_cache_read(const char *path, struct vec *entries, struct err *e)
{
	struct buf text = BUF_INIT;
	struct vec got = VEC_INIT;
	bool missing = false;
	enum err_code c = read_file(path, &text, &missing, e);
	if (!c && !missing)
		c = cache_parse(path, &text, &got, e);
	if (c) {
		vec_release(&got, aws_s3_cache_entry_free);
	} else {
		for (size_t i = 0; i < got.len; i++)
			vec_push(entries, got.items[i]);
		vec_release(&got, NULL);
		vec_sort(entries, cmp_entry);
	}
	buf_release(&text);
	return c;
}

static void add_entry_line(struct buf *b, const struct aws_s3_cache_entry *c)
{
	aws_uri_encode(b, c->bucket, true);
	buf_addc(b, ' ');
	aws_uri_encode(b, c->key, true);
	buf_addc(b, ' ');
	aws_uri_encode(b, c->etag ? c->etag : "", true);
	buf_addf(b, " %ld\n", (long)c->checksum);
}

enum err_code aws_s3_cache_write(const char *path, struct vec *entries, struct err *e)
{
	struct buf text = BUF_INIT;
	vec_sort(entries, cmp_entry);
	buf_adds(&text, CACHE_HEADER "\n");
	for (size_t i = 0; i < entries->len; i++) /* one line per (bucket, key) */
		if (i + 1 == entries->len || cmp_entry(&entries->items[i], &entries->items[i + 1]))
			add_entry_line(&text, entries->items[i]);
	enum err_code c = file_replace_private(path, text.ptr, text.len, e);
	buf_release(&text);
	return c;
}

/* ---- locations ------------------------------------------------------------- */

enum err_code aws_s3_location_parse(const char *location, char **bucket, char **prefix,
				    struct err *e)
{
	static const char bucket_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789.-_";
	*bucket = *prefix = NULL;
	if (strncmp(location, "s3:", 3) != 0)
		return err_set(e, ERR_USAGE, "%s is not an S3 location (s3:bucket/prefix)",
			       location);
	const char *rest = location + 3;
	if (!strncmp(rest, "//", 2))
		return err_set(e, ERR_USAGE, "S3 location %s: write s3:bucket/prefix, without //",
			       location);
	if (strpbrk(rest, "*?"))
		return err_set(e, ERR_USAGE, "S3 location %s: wildcards are not supported",
			       location);
	size_t bl = strcspn(rest, "/");
	if (bl == 0)
		return err_set(e, ERR_USAGE, "S3 location %s names no bucket (s3:bucket/prefix)",
			       location);
	if (bl > 255 || strspn(rest, bucket_chars) < bl)
		return err_set(e, ERR_USAGE, "S3 location %s: \"%.*s\" is not a bucket name",
			       location, (int)(bl > 64 ? 64 : bl), rest);
	*bucket = xstrndup(rest, bl);
	if (rest[bl] == '/' && rest[bl + 1])
		*prefix = xstrdup(rest + bl + 1);
	return ERR_OK;
}

/* ---- the source ------------------------------------------------------------ */

struct s3_obj {
	char *key, *etag;
	int64_t size;
	bool has_sum;          /* checksum known: from the cache or remembered */
	int32_t sum;
	bool no_cache;         /* a body read had another ETag than listed */
	bool tried;            /* a window has tried to fetch it */
	char *body;            /* fetched, not yet opened (NULL: none) */
	size_t len;
};

struct s3_source {
	struct eng_source base;
	struct aws_ctx *ctx;   /* borrowed */
	char *bucket, *prefix; /* prefix NULL: the whole bucket */
	struct vec objs;       /* struct s3_obj*, sorted by key */
	bool listed;
	struct vec cache;      /* struct aws_s3_cache_entry*, as loaded */
	bool cache_loaded, dirty;
	size_t held;           /* bytes of fetched bodies not yet opened */
	CURLM *multi;
	CURL *easy[PREFETCH_PARALLEL];
};

static void obj_free(void *p)
{
	struct s3_obj *o = p;
	if (!o)
		return;
	free(o->key);
	free(o->etag);
	free(o->body);
	free(o);
}

static bool in_scope(const struct s3_source *s, const char *bucket, const char *key)
{
	return !strcmp(bucket, s->bucket) &&
	       (!s->prefix || !strncmp(key, s->prefix, strlen(s->prefix)));
}

/* ETags compare without quotes or a weak marker (servers differ). */
static bool etag_same(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	if (!strncmp(a, "W/", 2))
		a += 2;
	if (!strncmp(b, "W/", 2))
		b += 2;
	a += *a == '"';
	b += *b == '"';
	size_t la = strlen(a), lb = strlen(b);
	la -= la && a[la - 1] == '"';
	lb -= lb && b[lb - 1] == '"';
	return la == lb && !memcmp(a, b, la);
}

static void cache_load(struct s3_source *s)
{
	struct buf path = BUF_INIT;
	struct err e = ERR_INIT;
	if (s->cache_loaded)
		return;
	s->cache_loaded = true;
	if (aws_s3_cache_path(&path) && aws_s3_cache_read(path.ptr, &s->cache, &e)) {
		log_msg(LOG_WARN, "ignoring the S3 checksum cache: %s", e.msg);
		vec_release(&s->cache, aws_s3_cache_entry_free);
	}
	buf_release(&path);
}

/* Rewrites the cache file: entries of other locations as they are on disk
 * now, this location's as this listing saw them. */
static void cache_save(struct s3_source *s)
{
	struct buf path = BUF_INIT;
	struct vec disk = VEC_INIT, keep = VEC_INIT;
	struct err e = ERR_INIT;
	if (!s->listed || !s->dirty || !aws_s3_cache_path(&path))
		goto out;
	pthread_mutex_lock(&cache_file_lock);
	if (aws_s3_cache_read(path.ptr, &disk, &e)) {
		log_msg(LOG_WARN, "replacing the S3 checksum cache: %s", e.msg);
		vec_release(&disk, aws_s3_cache_entry_free);
	}
	for (size_t i = 0; i < disk.len; i++) {
		struct aws_s3_cache_entry *c = disk.items[i];
		if (in_scope(s, c->bucket, c->key))
			aws_s3_cache_entry_free(c);
		else
			vec_push(&keep, c);
	}
	for (size_t i = 0; i < s->objs.len; i++) {
		struct s3_obj *o = s->objs.items[i];
		if (!o->has_sum || o->no_cache)
			continue;
		struct aws_s3_cache_entry *c = xcalloc(1, sizeof *c);
		c->bucket = xstrdup(s->bucket);
		c->key = xstrdup(o->key);
		c->etag = xstrdup(o->etag ? o->etag : "");
		c->checksum = o->sum;
		vec_push(&keep, c);
	}
	if (aws_s3_cache_write(path.ptr, &keep, &e))
		log_msg(LOG_WARN, "cannot save the S3 checksum cache: %s", e.msg);
	pthread_mutex_unlock(&cache_file_lock);
out:
	vec_release(&disk, NULL);
	vec_release(&keep, aws_s3_cache_entry_free);
	buf_release(&path);
}

static int cmp_obj(const void *x, const void *y)
{
	const struct s3_obj *a = *(const struct s3_obj *const *)x;
	const struct s3_obj *b = *(const struct s3_obj *const *)y;
	return strcmp(a->key, b->key);
}

/* Where key is in objs (sorted by key), or (size_t)-1. */
static size_t obj_index(const struct vec *objs, const char *key)
{
	size_t lo = 0, hi = objs->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(((const struct s3_obj *)objs->items[mid])->key, key);
		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (size_t)-1;
}

/* What is known of an object before this listing: the cache file's entry,
 * or a checksum remembered since (a source may be listed again). */
static void obj_known(const struct s3_source *s, const struct vec *old, struct s3_obj *o)
{
	size_t i = obj_index(old, o->key);
	const struct s3_obj *p = i == (size_t)-1 ? NULL : old->items[i];
	const struct aws_s3_cache_entry *c = aws_s3_cache_find(&s->cache, s->bucket, o->key);
	if (p && p->has_sum && !p->no_cache && etag_same(p->etag, o->etag)) {
		o->has_sum = true;
		o->sum = p->sum;
	} else if (c && etag_same(c->etag, o->etag)) {
		o->has_sum = true;
		o->sum = c->checksum;
	}
}

/* Replaces the objects with a new listing's; notes when the cache file
 * has entries under the prefix that the listing no longer matches. */
static void objs_from_listing(struct s3_source *s, struct vec *listing)
{
	struct vec old = s->objs;
	size_t in_cache = 0, hits = 0;
	memset(&s->objs, 0, sizeof s->objs);
	for (size_t i = 0; i < listing->len; i++) {
		struct aws_s3_object *lo = listing->items[i];
		size_t kl = strlen(lo->key);
		if (!kl || lo->key[kl - 1] == '/') /* a "folder" marker, not a file */
			continue;
		struct s3_obj *o = xcalloc(1, sizeof *o);
		o->key = xstrdup(lo->key);
		o->etag = xstrdup_or_null(lo->etag);
		o->size = lo->size;
		obj_known(s, &old, o);
		vec_push(&s->objs, o);
	}
	vec_sort(&s->objs, cmp_obj);
	vec_release(&old, obj_free);
	s->held = 0;
	for (size_t i = 0; i < s->cache.len; i++) {
		const struct aws_s3_cache_entry *c = s->cache.items[i];
		if (!in_scope(s, c->bucket, c->key))
			continue;
		in_cache++;
		size_t k = obj_index(&s->objs, c->key);
		const struct s3_obj *o = k == (size_t)-1 ? NULL : s->objs.items[k];
		hits += o && etag_same(c->etag, o->etag);
	}
	if (in_cache > hits) /* deleted or changed objects: forget them */
		s->dirty = true;
}

static void objs_clear(struct s3_source *s)
{
	vec_release(&s->objs, obj_free);
	s->held = 0;
	s->listed = false;
}

static enum err_code s3_list(struct eng_source *base, struct vec *files, struct err *e)
{
	struct s3_source *s = (struct s3_source *)base;
	struct vec listing = VEC_INIT;
	cache_load(s);
	enum err_code c = aws_s3_list_objects(s->ctx, s->bucket, s->prefix, &listing, e);
	if (c) {
		err_prefix(e, "Could not access s3 location:%s%s%s due to error", s->bucket,
			   s->prefix ? "/" : "", s->prefix ? s->prefix : "");
		goto out;
	}
	objs_from_listing(s, &listing);
	s->listed = true;
	for (size_t i = 0; i < s->objs.len; i++) {
		const struct s3_obj *o = s->objs.items[i];
		struct eng_source_file *f = xcalloc(1, sizeof *f);
		const char *slash = strrchr(o->key, '/');
		f->name = xstrdup(slash ? slash + 1 : o->key);
		struct buf script = BUF_INIT;
		buf_addf(&script, "%s/%s", s->bucket, o->key);
		f->script = buf_detach(&script, NULL);
		f->etag = xstrdup_or_null(o->etag);
		f->size = o->size;
		f->has_cached_checksum = o->has_sum;
		f->cached_checksum = o->sum;
		vec_push(files, f);
	}
out:
	vec_release(&listing, aws_s3_object_free);
	return c;
}


/* The key of a file this source listed ("bucket/key" → "key"), or NULL. */
static const char *file_key(const struct s3_source *s, const struct eng_source_file *f)
{
	size_t bl = strlen(s->bucket);
	if (!f->script || strncmp(f->script, s->bucket, bl) || f->script[bl] != '/')
		return NULL;
	return f->script + bl + 1;
}

/* ---- parallel fetching ------------------------------------------------------ */

struct xfer {
	struct s3_obj *obj;
	struct buf body;
	size_t cap;                /* the listed size: more means it changed */
	bool too_big;
	char etag[160];
	struct curl_slist *headers;
	atomic_bool *cancel;
};

/* One window: its transfers, and what signing them takes. */
struct window {
	struct xfer xs[PREFETCH_WINDOW];
	size_t n, next;            /* picked; the next one to start */
	char region[64];
	struct aws_creds creds;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	if (x->body.len + len > x->cap) {
		x->too_big = true;
		return 0;
	}
	buf_add(&x->body, data, len);
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	if (len > 5 && !strncasecmp(data, "etag:", 5)) {
		size_t a = 5, b = len;
		while (a < b && (data[a] == ' ' || data[a] == '\t'))
			a++;
		while (b > a && (data[b - 1] == '\r' || data[b - 1] == '\n' || data[b - 1] == ' '))
			b--;
		snprintf(x->etag, sizeof x->etag, "%.*s", (int)(b - a), data + a);
	} else if (len > 5 && !strncmp(data, "HTTP/", 5)) {
		x->etag[0] = 0; /* a new response (after a 100 Continue) */
	}
	return len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct xfer *x = arg;
	(void)dt, (void)dn, (void)ut, (void)un;
	return x->cancel && atomic_load(x->cancel);
}

/* "host[:port]" as signed: the endpoint's authority without a default port. */
static void endpoint_host(const char *endpoint, struct buf *host)
{
	bool https = !strncmp(endpoint, "https://", 8);
	const char *h = strstr(endpoint, "://");
	h = h ? h + 3 : endpoint;
	size_t n = strcspn(h, "/");
	buf_add(host, h, n);
	const char *dflt = https ? ":443" : ":80";
	size_t dl = strlen(dflt);
	if (host->len > dl && !strcmp(host->ptr + host->len - dl, dflt))
		buf_setlen(host, host->len - dl);
}

/* Curl keeps copies of the header strings; the session token is among them. */
static void slist_wipe_free(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		if (p->data)
			memset(p->data, 0, strlen(p->data));
	curl_slist_free_all(l);
}

static enum err_code xfer_sign(struct s3_source *s, const struct window *w, struct xfer *x,
			       struct buf *url, struct err *e)
{
	struct aws_s3_where where = { BUF_INIT, BUF_INIT };
	struct buf host = BUF_INIT;
	struct vec add = VEC_INIT;
	enum err_code c = aws_s3_address(s->ctx, s->bucket, x->obj->key, w->region, &where, e);
	if (!c) {
		endpoint_host(where.endpoint.ptr, &host);
		struct aws_sigv4_request r = {
			.method = "GET", .host = host.ptr, .path = where.path.ptr,
			.region = w->region, .service = "s3", .now = aws_ctx_now(s->ctx),
			.s3 = true,
		};
		c = aws_sigv4_sign(&r, &w->creds, &add, e);
	}
	for (size_t i = 0; !c && i < add.len; i++)
		x->headers = curl_slist_append(x->headers, add.items[i]);
	buf_reset(url);
	buf_addf(url, "%s%s", where.endpoint.ptr, where.path.ptr);
	for (size_t i = 0; i < add.len; i++)
		memset(add.items[i], 0, strlen(add.items[i]));
	vec_free_strs(&add);
	aws_s3_where_release(&where);
	buf_release(&host);
	return c;
}

static void xfer_setopt(struct s3_source *s, CURL *h, struct xfer *x, const char *url)
{
	const char *ca = getenv("AWS_CA_BUNDLE");
	if (!ca || !*ca)
		ca = aws_profile_get(s->ctx, s->ctx->profile, "ca_bundle");
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "tarmac");
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	if (ca && *ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
}

/* Starts transfer x on handle h; false when it cannot be signed. */
static bool xfer_start(struct s3_source *s, const struct window *w, CURL *h, struct xfer *x)
{
	struct buf url = BUF_INIT;
	struct err e = ERR_INIT;
	x->cancel = s->ctx->cancel;
	x->cap = x->obj->size > 0 ? (size_t)x->obj->size : 0;
	if (xfer_sign(s, w, x, &url, &e)) {
		log_msg(LOG_DEBUG, "S3 prefetch of s3://%s/%s: %s", s->bucket, x->obj->key, e.msg);
		buf_release(&url);
		return false;
	}
	buf_grow(&x->body, x->cap);
	xfer_setopt(s, h, x, url.ptr);
	buf_release(&url);
	return curl_multi_add_handle(s->multi, h) == CURLM_OK;
}

/* Keeps a finished transfer's body for open(), or lets open() fetch it. */
static void xfer_finish(struct s3_source *s, CURL *h, struct xfer *x, CURLcode rc)
{
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(s->multi, h);
	slist_wipe_free(x->headers);
	x->headers = NULL;
	if (rc != CURLE_OK || status != 200 || x->too_big) {
		log_msg(LOG_DEBUG, "S3 prefetch of s3://%s/%s: %s (HTTP %ld): fetched on open",
			s->bucket, x->obj->key, x->too_big ? "larger than listed" :
			curl_easy_strerror(rc), status);
		buf_release(&x->body);
		return;
	}
	if (!etag_same(x->etag, x->obj->etag))
		x->obj->no_cache = true;
	x->obj->body = buf_detach(&x->body, &x->obj->len);
	s->held += x->obj->len;
}

static CURLM *multi_get(struct s3_source *s)
{
	if (!s->multi) {
		s->multi = curl_multi_init();
		if (s->multi) {
			curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
					  (long)PREFETCH_PARALLEL);
			curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
					  (long)PREFETCH_PARALLEL);
			/* kept between windows, when no transfer holds them */
			curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)PREFETCH_PARALLEL);
		}
	}
	for (size_t i = 0; s->multi && i < PREFETCH_PARALLEL; i++)
		if (!s->easy[i] && !(s->easy[i] = curl_easy_init()))
			return NULL;
	return s->multi;
}

/* Hands the next waiting transfer to handle h; false when none could start. */
static bool next_xfer(struct s3_source *s, struct window *w, CURL *h)
{
	if (s->ctx->cancel && atomic_load(s->ctx->cancel))
		return false;
	while (w->next < w->n) {
		struct xfer *x = &w->xs[w->next++];
		if (xfer_start(s, w, h, x))
			return true;
		slist_wipe_free(x->headers);
		x->headers = NULL;
		buf_release(&x->body);
	}
	return false;
}

static void run_xfers(struct s3_source *s, struct window *w)
{
	int running = 0;
	for (size_t i = 0; i < PREFETCH_PARALLEL; i++)
		running += next_xfer(s, w, s->easy[i]);
	while (running > 0) {
		int still = 0, queued = 0;
		if (curl_multi_perform(s->multi, &still) != CURLM_OK)
			break;
		if (still)
			curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
		CURLMsg *m;
		while ((m = curl_multi_info_read(s->multi, &queued))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			CURL *h = m->easy_handle;
			char *priv = NULL;
			curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
			xfer_finish(s, h, (struct xfer *)(void *)priv, m->data.result);
			running += (int)next_xfer(s, w, h) - 1;
		}
	}
	/* Left over only when the multi handle itself failed. */
	for (size_t i = 0; i < PREFETCH_PARALLEL; i++)
		curl_multi_remove_handle(s->multi, s->easy[i]);
	for (size_t i = 0; i < w->n; i++) {
		slist_wipe_free(w->xs[i].headers);
		buf_release(&w->xs[i].body);
	}
}

/* Drops bodies the engine passed over (before index first). */
static void evict_before(struct s3_source *s, size_t first)
{
	for (size_t i = 0; i < first && s->held; i++) {
		struct s3_obj *o = s->objs.items[i];
		if (o->body) {
			s->held -= o->len;
			free(o->body);
			o->body = NULL;
		}
	}
}

/* Picks the window that starts at objs[first]: that object, then the
 * following ones without a known checksum, within the count and bytes. */
static void window_pick(struct s3_source *s, size_t first, struct window *w)
{
	size_t bytes = s->held;
	for (size_t i = first; i < s->objs.len && w->n < PREFETCH_WINDOW; i++) {
		struct s3_obj *o = s->objs.items[i];
		if (i > first && (o->has_sum || o->tried || o->body))
			continue;
		if (o->size < 0 || (size_t)o->size > PREFETCH_BYTES - bytes) {
			if (i == first)
				continue;
			break;
		}
		bytes += (size_t)o->size;
		o->tried = true;
		w->xs[w->n].obj = o;
		buf_init(&w->xs[w->n++].body);
	}
}

static void prefetch(struct s3_source *s, size_t first)
{
	struct window *w = xcalloc(1, sizeof *w);
	struct err e = ERR_INIT;
	evict_before(s, first);
	window_pick(s, first, w);
	((struct s3_obj *)s->objs.items[first])->tried = true;
	if (w->n == 0 || !multi_get(s))
		goto out;
	if (aws_creds_get(s->ctx, &w->creds, &e)) {
		log_msg(LOG_DEBUG, "S3 prefetch skipped: %s", e.msg);
		goto out;
	}
	aws_s3_bucket_region(s->ctx, s->bucket, w->region, sizeof w->region);
	run_xfers(s, w);
out:
	aws_creds_release(&w->creds);
	free(w);
}

/* ---- the engine's interface ------------------------------------------------ */

static enum err_code fetch_one(struct s3_source *s, const char *key, struct s3_obj *o,
			       const char *want_etag, struct eng_stream **out, struct err *e)
{
	struct buf body = BUF_INIT;
	char *etag = NULL;
	enum err_code c = aws_s3_get_object(s->ctx, s->bucket, key, OBJECT_MAX, &body, &etag, e);
	if (!c) {
		if (o && !etag_same(etag, want_etag))
			o->no_cache = true;
		size_t len = 0;
		char *data = buf_detach(&body, &len);
		*out = eng_stream_mem_take(data, len);
	}
	free(etag);
	buf_release(&body);
	return c;
}

static enum err_code s3_open(struct eng_source *base, const struct eng_source_file *f,
			     struct eng_stream **out, struct err *e)
{
	struct s3_source *s = (struct s3_source *)base;
	const char *key = file_key(s, f);
	*out = NULL;
	if (!key)
		return err_set(e, ERR_USAGE, "%s is not in S3 location %s", f->script,
			       s->base.location);
	size_t i = s->listed ? obj_index(&s->objs, key) : (size_t)-1;
	struct s3_obj *o = i == (size_t)-1 ? NULL : s->objs.items[i];
	if (o && !o->body && !o->tried)
		prefetch(s, i);
	if (o && o->body && etag_same(o->etag, f->etag)) {
		*out = eng_stream_mem_take(o->body, o->len);
		s->held -= o->len;
		o->body = NULL;
		o->len = 0;
		return ERR_OK;
	}
	return fetch_one(s, key, o, f->etag, out, e);
}

static void s3_remember(struct eng_source *base, const struct eng_source_file *f,
			int32_t checksum)
{
	struct s3_source *s = (struct s3_source *)base;
	const char *key = file_key(s, f);
	size_t i = key && s->listed ? obj_index(&s->objs, key) : (size_t)-1;
	struct s3_obj *o = i == (size_t)-1 ? NULL : s->objs.items[i];
	if (!o || o->no_cache || !etag_same(o->etag, f->etag))
		return;
	if (!o->has_sum || o->sum != checksum)
		s->dirty = true;
	o->has_sum = true;
	o->sum = checksum;
}

static void s3_free(struct eng_source *base)
{
	struct s3_source *s = (struct s3_source *)base;
	cache_save(s);
	objs_clear(s);
	vec_release(&s->cache, aws_s3_cache_entry_free);
	for (size_t i = 0; i < PREFETCH_PARALLEL; i++)
		if (s->easy[i])
			curl_easy_cleanup(s->easy[i]);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	free(s->bucket);
	free(s->prefix);
	free(s->base.location);
	free(s);
}

static const struct eng_source_ops s3_ops = {
	.list = s3_list, .open = s3_open, .remember = s3_remember, .free = s3_free,
};

enum err_code aws_s3_source_new(struct aws_ctx *ctx, const char *location,
				struct eng_source **out, struct err *e)
{
	char *bucket = NULL, *prefix = NULL;
	*out = NULL;
	enum err_code c = aws_s3_location_parse(location, &bucket, &prefix, e);
	if (c)
		return c;
	struct s3_source *s = xcalloc(1, sizeof *s);
	s->base.ops = &s3_ops;
	s->base.location = xstrdup(location);
	s->ctx = ctx;
	s->bucket = bucket;
	s->prefix = prefix;
	*out = &s->base;
	return ERR_OK;
}
