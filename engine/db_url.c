/*
 * db_url — database targets: parsing every URL form tarmac accepts
 * (libpq URIs, mysql:// / mariadb://, the JDBC forms from Flyway configs,
 * bare libpq keyword strings), showing them back with the password masked,
 * and the dialect's quoting and parameter markers.
 *
 * Invariants: a parsed target holds decoded strings, NULL for anything the
 * URL left out; user/password/host/port/dbname never also appear in
 * params. No text this file produces for a message or a display contains
 * a password: raw URLs are masked before they are quoted.
 */
#include "engine/db_driver.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *prefix;
	enum db_dialect dialect;
} schemes[] = {
	{ "postgresql://", DB_PG },      { "postgres://", DB_PG },
	{ "mysql://", DB_MY },           { "mariadb://", DB_MY },
	{ "jdbc:postgresql://", DB_PG }, { "jdbc:mysql://", DB_MY },
	{ "jdbc:mariadb://", DB_MY },
};

#define URL_HINT "use postgresql://, mysql://, mariadb:// or jdbc:.."
#define SCHEME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.:"

/* ---- masking raw text ------------------------------------------------- */

/* Copies s to out with the value of every key containing "password"
 * (query parameter or libpq keyword) replaced by ***. */
static void mask_keywords(const char *s, struct buf *out)
{
	while (*s) {
		const char *hit = strcasestr(s, "password");
		if (!hit) {
			buf_adds(out, s);
			return;
		}
		const char *p = hit + strlen("password");
		while (*p == ' ')
			p++;
		buf_add(out, s, (size_t)(p - s));
		s = p;
		if (*p != '=')
			continue;
		buf_addc(out, '=');
		p++;
		while (*p == ' ')
			p++;
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		} else {
			p += strcspn(p, "& ;");
		}
		buf_adds(out, "***");
		s = p;
	}
}

/* The raw URL as it may appear in a message: the userinfo password and any
 * password parameter replaced by ***. */
static void mask_url(const char *url, struct buf *out)
{
	const char *sep = strstr(url, "://");
	if (!sep) {
		mask_keywords(url, out);
		return;
	}
	/* Wider than the parser's authority on purpose: a password with an
	 * unescaped '/' must not leak either. */
	const char *auth = sep + 3;
	size_t alen = strcspn(auth, "?");
	const char *at = memrchr(auth, '@', alen);
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon) {
		char *head = xstrndup(url, (size_t)(colon - url));
		mask_keywords(head, out);
		free(head);
		buf_adds(out, ":***");
		url = at;
	}
	mask_keywords(url, out);
}

/* ---- decoding pieces -------------------------------------------------- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) into a new string (NULL when n == 0). */
static enum err_code url_decode(const char *s, size_t n, char **out,
				const char *shown, struct err *e)
{
	*out = NULL;
	if (n == 0)
		return ERR_OK;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			buf_addc(&b, s[i]);
			continue;
		}
		int hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
		int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
		if (lo < 0 || (hi == 0 && lo == 0)) {
			buf_release(&b);
			return err_set(e, ERR_USAGE,
				       "invalid percent-escape in database URL %s: "
				       "write %%25 for a literal %%", shown);
		}
		buf_addc(&b, (char)(hi * 16 + lo));
		i += 2;
	}
	*out = buf_detach(&b, NULL);
	return ERR_OK;
}

/* The port is not quoted on its own: in a URL with an unescaped '/' in the
 * password, what the parser took for the port is part of the password. */
static enum err_code check_port(const char *port, const char *shown, struct err *e)
{
	if (!port)
		return ERR_OK;
	char *end;
	long v = strtol(port, &end, 10);
	if (!isdigit((unsigned char)port[0]) || *end || v < 1 || v > 65535)
		return err_set(e, ERR_USAGE,
			       "invalid port in database URL %s: use a number 1-65535",
			       shown);
	return ERR_OK;
}

/* Gives value (owned) to the field or parameter named key; a later value
 * for the same key replaces an earlier one. */
static void target_set(struct db_target *t, const char *key, char *value)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
		{ "user", offsetof(struct db_target, user) },
		{ "password", offsetof(struct db_target, password) },
		{ "host", offsetof(struct db_target, host) },
		{ "port", offsetof(struct db_target, port) },
		{ "dbname", offsetof(struct db_target, dbname) },
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (strcmp(key, fields[i].key) == 0) {
			char **slot = (char **)((char *)t + fields[i].off);
			free(*slot);
			*slot = value;
			return;
		}
	}
	for (size_t i = 0; i < t->nparams; i++) {
		if (strcmp(t->params[i].key, key) == 0) {
			free(t->params[i].value);
			t->params[i].value = value;
			return;
		}
	}
	t->params = xrealloc(t->params, (t->nparams + 1) * sizeof *t->params);
	t->params[t->nparams].key = xstrdup(key);
	t->params[t->nparams].value = value;
	t->nparams++;
}

/* ---- URI forms --------------------------------------------------------- */

static enum err_code parse_query(const char *q, struct db_target *t,
				 const char *shown, struct err *e)
{
	while (*q) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		char *key = NULL, *value = NULL;
		if (n > 0 && !eq)
			return err_set(e, ERR_USAGE,
				       "parameter '%.*s' in database URL %s needs the form key=value",
				       (int)n, q, shown);
		/* Not quoted: after an empty name may come any value. */
		if (n > 0 && eq == q)
			return err_set(e, ERR_USAGE, "parameter without a name in database URL %s: "
				       "write key=value", shown);
		if (n > 0) {
			if (url_decode(q, (size_t)(eq - q), &key, shown, e) ||
			    url_decode(eq + 1, n - (size_t)(eq + 1 - q), &value, shown, e)) {
				free(key);
				return e ? e->code : ERR_USAGE;
			}
			target_set(t, key, value ? value : xstrdup(""));
			free(key);
		}
		q += n + (q[n] == '&');
	}
	return ERR_OK;
}

static enum err_code parse_hostport(const char *s, size_t n, struct db_target *t,
				    const char *shown, struct err *e)
{
	const char *host = s, *port = NULL;
	size_t hlen = n, plen = 0;
	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || (close + 1 < s + n && close[1] != ':'))
			return err_set(e, ERR_USAGE,
				       "malformed IPv6 host in database URL %s: write [addr]:port",
				       shown);
		host = s + 1;
		hlen = (size_t)(close - host);
		port = close + 1 < s + n ? close + 2 : NULL;
	} else {
		const char *colon = memchr(s, ':', n);
		if (memchr(s, ',', n))
			return err_set(e, ERR_USAGE,
				       "database URL %s names several hosts: tarmac connects to one", shown);
		if (colon && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)))
			return err_set(e, ERR_USAGE,
				       "IPv6 host in database URL %s needs brackets: [addr]:port", shown);
		hlen = colon ? (size_t)(colon - s) : n;
		port = colon ? colon + 1 : NULL;
	}
	if (port)
		plen = n - (size_t)(port - s);
	enum err_code rc = url_decode(host, hlen, &t->host, shown, e);
	if (!rc)
		rc = url_decode(port ? port : "", plen, &t->port, shown, e);
	return rc;
}

/* Parses "[/dbname][?k=v&...]", the part after the authority. */
static enum err_code parse_path(const char *s, struct db_target *t,
				const char *shown, struct err *e)
{
	enum err_code rc = ERR_OK;
	if (*s == '/')
		s++;
	size_t plen = strcspn(s, "?");
	rc = url_decode(s, plen, &t->dbname, shown, e);
	s += plen;
	if (!rc && *s == '?')
		rc = parse_query(s + 1, t, shown, e);
	if (!rc)
		rc = check_port(t->port, shown, e);
	return rc;
}

/* Parses "[user[:password]@]host[:port][/dbname][?k=v&...]". */
static enum err_code parse_uri(const char *s, struct db_target *t,
			       const char *shown, struct err *e)
{
	size_t alen = strcspn(s, "/?");
	const char *at = memrchr(s, '@', alen);
	enum err_code rc = ERR_OK;
	if (at) {
		const char *colon = memchr(s, ':', (size_t)(at - s));
		size_t ulen = (size_t)((colon ? colon : at) - s);
		rc = url_decode(s, ulen, &t->user, shown, e);
		if (!rc && colon)
			rc = url_decode(colon + 1, (size_t)(at - colon - 1), &t->password, shown, e);
	}
	const char *hp = at ? at + 1 : s;
	if (!rc)
		rc = parse_hostport(hp, (size_t)(s + alen - hp), t, shown, e);
	if (!rc)
		rc = parse_path(s + alen, t, shown, e);
	return rc;
}

/* ---- libpq keyword/value strings --------------------------------------- */

/* Reads one value (quoted or bare, backslash escapes) at *sp into out. */
static bool conninfo_value(const char **sp, struct buf *out)
{
	const char *s = *sp;
	bool quoted = *s == '\'';
	if (quoted)
		s++;
	for (; *s; s++) {
		if (quoted ? *s == '\'' : isspace((unsigned char)*s))
			break;
		if (*s == '\\' && s[1])
			s++;
		buf_addc(out, *s);
	}
	if (quoted && *s != '\'')
		return false;
	*sp = s + quoted;
	return true;
}

static enum err_code parse_conninfo(const char *s, struct db_target *t,
				    const char *shown, struct err *e)
{
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			return ERR_OK;
		size_t klen = strcspn(s, "= \t\n\r");
		char *key = xstrndup(s, klen);
		s += klen;
		while (isspace((unsigned char)*s))
			s++;
		if (*s != '=' || klen == 0) {
			err_set(e, ERR_USAGE, "missing '=' after '%s' in connection string %s",
				key, shown);
			free(key);
			return ERR_USAGE;
		}
		for (s++; isspace((unsigned char)*s); s++)
			;
		struct buf v = BUF_INIT;
		if (!conninfo_value(&s, &v)) {
			free(key);
			buf_wipe(&v);
			return err_set(e, ERR_USAGE, "unterminated quote in connection string %s", shown);
		}
		target_set(t, key, buf_detach(&v, NULL));
		free(key);
	}
}

/* ---- entry points ------------------------------------------------------ */

static enum err_code parse_any(const char *url, struct db_target *t,
			       const char *shown, struct err *e)
{
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t n = strlen(schemes[i].prefix);
		if (strncasecmp(url, schemes[i].prefix, n) == 0) {
			t->dialect = schemes[i].dialect;
			return parse_uri(url + n, t, shown, e);
		}
	}
	const char *sep = strstr(url, "://");
	/* Only a plausible scheme is quoted: "://" inside a libpq keyword
	 * value must not put that value (a password, say) in the message. */
	if (sep && sep > url && strspn(url, SCHEME_CHARS) >= (size_t)(sep - url))
		return err_set(e, ERR_USAGE, "unsupported database URL scheme '%.*s' in %s: " URL_HINT,
			       (int)(sep - url), url, shown);
	/* pgJDBC's short form jdbc:postgresql:dbname means localhost. */
	if (strncasecmp(url, "jdbc:postgresql:", 16) == 0) {
		t->dialect = DB_PG;
		return parse_path(url + 16, t, shown, e);
	}
	if (strchr(url, '=')) {
		t->dialect = DB_PG;
		return parse_conninfo(url, t, shown, e);
	}
	return err_set(e, ERR_USAGE, "cannot read database URL '%s': " URL_HINT
		       " or libpq keywords (host=... dbname=...)", shown);
}

enum err_code db_target_parse(const char *url, struct db_target *t, struct err *e)
{
	struct err local = ERR_INIT;
	struct buf shown = BUF_INIT;
	memset(t, 0, sizeof *t);
	mask_url(url, &shown);
	enum err_code rc = parse_any(url, t, shown.ptr, e ? e : &local);
	if (rc)
		db_target_release(t);
	buf_release(&shown);
	return rc;
}

static void free_wiped(char *s)
{
	if (!s)
		return;
	volatile char *p = s;
	while (*p)
		*p++ = 0;
	free(s);
}

void db_target_release(struct db_target *t)
{
	if (!t)
		return;
	free(t->host);
	free(t->port);
	free(t->dbname);
	free(t->user);
	free_wiped(t->password);
	for (size_t i = 0; i < t->nparams; i++) {
		free(t->params[i].key);
		free_wiped(t->params[i].value); /* sslpassword and friends */
	}
	free(t->params);
	memset(t, 0, sizeof *t);
}

void db_target_copy(struct db_target *dst, const struct db_target *src)
{
	dst->dialect = src->dialect;
	dst->host = xstrdup_or_null(src->host);
	dst->port = xstrdup_or_null(src->port);
	dst->dbname = xstrdup_or_null(src->dbname);
	dst->user = xstrdup_or_null(src->user);
	dst->password = xstrdup_or_null(src->password);
	dst->nparams = src->nparams;
	dst->params = src->nparams ? xcalloc(src->nparams, sizeof *dst->params) : NULL;
	for (size_t i = 0; i < src->nparams; i++) {
		dst->params[i].key = xstrdup(src->params[i].key);
		dst->params[i].value = xstrdup(src->params[i].value);
	}
}

const char *db_target_param(const struct db_target *t, const char *key)
{
	for (size_t i = 0; i < t->nparams; i++)
		if (strcasecmp(t->params[i].key, key) == 0)
			return t->params[i].value;
	return NULL;
}

/* ---- display ----------------------------------------------------------- */

/* Percent-encodes everything but RFC 3986 unreserved bytes and `keep`. */
static void url_encode(struct buf *out, const char *s, const char *keep)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~", c) || (keep && strchr(keep, c)))
			buf_addc(out, (char)c);
		else
			buf_addf(out, "%%%02X", c);
	}
}

static void display_query(struct buf *b, const struct db_target *t, bool socket_host)
{
	char sep = '?';
	if (socket_host) {
		buf_adds(b, "?host=");
		url_encode(b, t->host, "/");
		sep = '&';
	}
	for (size_t i = 0; i < t->nparams; i++) {
		buf_addc(b, sep);
		sep = '&';
		url_encode(b, t->params[i].key, NULL);
		buf_addc(b, '=');
		if (strcasestr(t->params[i].key, "password"))
			buf_adds(b, "***");
		else
			url_encode(b, t->params[i].value, "/:,");
	}
}

char *db_target_display(const struct db_target *t)
{
	struct buf b = BUF_INIT;
	bool socket_host = t->host && t->host[0] == '/';
	buf_adds(&b, t->dialect == DB_PG ? "postgresql://" : "mysql://");
	if (t->user || t->password) {
		url_encode(&b, t->user ? t->user : "", NULL);
		if (t->password)
			buf_adds(&b, ":***");
		buf_addc(&b, '@');
	}
	if (t->host && !socket_host) {
		if (strchr(t->host, ':'))
			buf_addf(&b, "[%s]", t->host);
		else
			url_encode(&b, t->host, NULL);
	}
	if (t->port)
		buf_addf(&b, ":%s", t->port);
	if (t->dbname) {
		buf_addc(&b, '/');
		url_encode(&b, t->dbname, NULL);
	}
	display_query(&b, t, socket_host);
	return buf_detach(&b, NULL);
}

/* ---- quoting and markers ----------------------------------------------- */

void db_quote_ident(enum db_dialect d, struct buf *out, const char *s)
{
	char q = d == DB_PG ? '"' : '`';
	buf_addc(out, q);
	for (; *s; s++) {
		if (*s == q)
			buf_addc(out, q);
		buf_addc(out, *s);
	}
	buf_addc(out, q);
}

void db_quote_literal(enum db_dialect d, struct buf *out, const char *s)
{
	buf_addc(out, '\'');
	for (; *s; s++) {
		if (*s == '\'' || (d == DB_MY && *s == '\\'))
			buf_addc(out, *s);
		buf_addc(out, *s);
	}
	buf_addc(out, '\'');
}

/* "$1".."$9999" built once; markers must stay valid for the program's life
 * because callers hold several at once while formatting a statement. */
#define PG_MARKERS 10000
static char pg_markers[PG_MARKERS][6];
static pthread_once_t pg_markers_once = PTHREAD_ONCE_INIT;

static void pg_markers_fill(void)
{
	for (int i = 1; i < PG_MARKERS; i++) {
		char digits[8];
		int k = 0;
		for (int n = i; n; n /= 10)
			digits[k++] = (char)('0' + n % 10);
		char *m = pg_markers[i];
		*m++ = '$';
		while (k)
			*m++ = digits[--k];
		*m = 0;
	}
}

const char *db_param(const struct db *db, int n)
{
	if (db->dialect == DB_MY)
		return "?";
	if (n < 1 || n >= PG_MARKERS) {
		/* Past PostgreSQL's practical limits: rare enough for a small
		 * per-thread ring rather than a bigger table. */
		static _Thread_local char ring[8][16];
		static _Thread_local unsigned next;
		char *m = ring[next++ % 8];
		snprintf(m, sizeof ring[0], "$%d", n);
		return m;
	}
	pthread_once(&pg_markers_once, pg_markers_fill);
	return pg_markers[n];
}
