/*
 * flyway_conf — legacy flyway.conf files, read the way Flyway reads them
 * (ConfigUtils.loadConfigurationFromString, spec §8.1): Java Properties
 * after Flyway's own pre-processing.
 *
 * Flyway first trims every line and doubles every backslash, so backslashes
 * are literal (Windows paths survive) — except a trailing one, which it
 * restores as a line continuation when the next line has content and does
 * not look like the start of a new `flyway.` property. It then expands
 * ${ENV_VAR} and hands the text to java.util.Properties. This file does the
 * same per logical line, then applies the `flyway.*` keys with
 * eng_config_set. Other keys are not Flyway's business and are skipped.
 *
 * Known difference: Flyway expands ${ENV} before Properties parses escapes,
 * so a variable holding a backslash or a newline is re-interpreted there;
 * here the variable's value is taken literally.
 * Every temporary copy of the text is wiped: it may hold the password.
 */
#include "engine/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FLYWAY_CONF_MAX ((size_t)1 << 20)

/* The text being read, one physical line at a time. */
struct cursor {
	const char *p, *end;
	int line;             /* number of the line last returned */
};

/* Next physical line without its terminator; "\r\n", "\n" and a lone "\r"
 * (a Properties line end) all end a line. */
static bool next_line(struct cursor *cur, const char **s, size_t *n)
{
	if (cur->p >= cur->end)
		return false;
	const char *q = cur->p;
	while (q < cur->end && *q != '\n' && *q != '\r')
		q++;
	*s = cur->p;
	*n = (size_t)(q - cur->p);
	if (q < cur->end && *q == '\r' && q + 1 < cur->end && q[1] == '\n')
		q++;
	cur->p = q < cur->end ? q + 1 : q;
	cur->line++;
	return true;
}


static bool span_has(const char *s, size_t n, char c)
{
	return memchr(s, c, n) != NULL;
}

/*
 * Does a trailing backslash continue onto the line after `cur`? Flyway
 * keeps it literal when there is no next line, the next line is empty, or
 * the next line starts a new `flyway.` property (contains '=').
 */
static bool continues(const struct cursor *cur)
{
	struct cursor look = *cur;
	const char *s;
	size_t n;
	if (!next_line(&look, &s, &n) || n == 0)
		return false;
	bool has_eq = span_has(s, n, '=');
	eng_trim_span(&s, &n);
	return !(n >= 7 && !memcmp(s, "flyway.", 7) && has_eq);
}

/* Joins a logical line into out; returns false at the end of the text. */
static bool logical_line(struct cursor *cur, struct buf *out, int *first_line)
{
	const char *s;
	size_t n;
	if (!next_line(cur, &s, &n))
		return false;
	*first_line = cur->line;
	eng_trim_span(&s, &n);
	buf_add(out, s, n);
	/* Properties never continues a comment line, whatever it ends with. */
	if (n && (s[0] == '#' || s[0] == '!'))
		return true;
	/* Only the line just added decides: an empty continuation line ends
	 * the property even if the text before it ends with a backslash. */
	while (n && s[n - 1] == '\\' && continues(cur)) {
		buf_setlen(out, out->len - 1);
		next_line(cur, &s, &n);
		eng_trim_span(&s, &n);
		buf_add(out, s, n);
	}
	return true;
}

/* ${NAME} with NAME in [A-Za-z0-9_]+ becomes the variable's value or "". */
static void expand_env(struct buf *out, const char *s)
{
	static const char name_chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
	while (*s) {
		size_t n = s[0] == '$' && s[1] == '{' ? strspn(s + 2, name_chars) : 0;
		if (n && s[2 + n] == '}') {
			char *name = xstrndup(s + 2, n);
			const char *v = getenv(name);
			free(name);
			buf_adds(out, v ? v : "");
			s += n + 3;
			continue;
		}
		buf_addc(out, *s++);
	}
}

static bool is_prop_space(char c)
{
	return c == ' ' || c == '\t' || c == '\f';
}

/*
 * Properties.load's split: the key ends at the first '=', ':' or
 * whitespace; then whitespace and at most one '=' or ':' are skipped.
 * Backslashes escape nothing (Flyway doubled them). Cuts `line` in place.
 */
static void split_property(char *line, const char **key, const char **value)
{
	size_t k = strcspn(line, "=: \t\f");
	char *v = line + k;
	bool sep = false;
	if (*v == '=' || *v == ':')
		sep = true, v++;
	else if (*v)
		v++;
	while (is_prop_space(*v) || (!sep && (*v == '=' || *v == ':'))) {
		if (*v == '=' || *v == ':')
			sep = true;
		v++;
	}
	line[k] = 0;
	*key = line;
	*value = v;
}

/* Applies one logical line (already joined and expanded). */
static enum err_code apply_line(struct eng_config *c, char *line, struct err *e)
{
	while (is_prop_space(*line))
		line++;
	if (!*line || *line == '#' || *line == '!')
		return ERR_OK;
	const char *key, *value;
	split_property(line, &key, &value);
	if (strncmp(key, "flyway.", 7) != 0)
		return ERR_OK;
	return eng_config_set(c, key, value, false, e);
}

static int line_of(const char *text, size_t at)
{
	int line = 1;
	for (size_t i = 0; i < at; i++)
		line += text[i] == '\n';
	return line;
}

enum err_code eng_config_parse_flyway_conf(struct eng_config *c, const char *name,
					   const char *text, size_t len, struct err *e)
{
	if (len > FLYWAY_CONF_MAX)
		return err_set(e, ERR_TOO_LARGE, "%s: larger than 1 MiB: is it a flyway.conf?", name);
	const char *nul = memchr(text, 0, len);
	if (nul)
		return err_set(e, ERR_PARSE, "%s:%d: NUL byte: is it a flyway.conf?",
			       name, line_of(text, (size_t)(nul - text)));
	struct cursor cur = { text, text + len, 0 };
	struct buf raw = BUF_INIT, line = BUF_INIT;
	enum err_code rc = ERR_OK;
	int first = 0;
	while (!rc && logical_line(&cur, &raw, &first)) {
		expand_env(&line, raw.ptr);
		rc = apply_line(c, line.ptr, e);
		if (rc)
			err_prefix(e, "%s:%d", name, first);
		buf_wipe(&raw);
		buf_wipe(&line);
	}
	buf_wipe(&raw);
	buf_wipe(&line);
	return rc;
}

/* Reads all of path, failing past `cap` bytes. */
static enum err_code read_capped(const char *path, size_t cap, struct buf *out, struct err *e)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(e, ERR_IO, "cannot read Flyway config %s: %s", path, strerror(errno));
	char chunk[8192];
	size_t n;
	enum err_code rc = ERR_OK;
	while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (out->len + n > cap)
			rc = err_set(e, ERR_TOO_LARGE, "%s: larger than 1 MiB: is it a flyway.conf?", path);
		else
			buf_add(out, chunk, n);
	}
	explicit_bzero(chunk, sizeof chunk);
	if (!rc && ferror(f))
		rc = err_set(e, ERR_IO, "cannot read Flyway config %s: %s", path, strerror(errno));
	fclose(f);
	return rc;
}

enum err_code eng_config_load_flyway_conf(struct eng_config *c, const char *path,
					  struct err *e)
{
	struct buf text = BUF_INIT;
	enum err_code rc = read_capped(path, FLYWAY_CONF_MAX, &text, e);
	if (!rc)
		rc = eng_config_parse_flyway_conf(c, path, text.ptr, text.len, e);
	buf_wipe(&text);
	return rc;
}
