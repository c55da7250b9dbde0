/*
 * placeholder — Flyway's PlaceholderReplacingReader (spec §1.4): plain text
 * substitution before any SQL parsing, names case-insensitive, the text up
 * to the first suffix is the name, `flyway:` defaults, and Flyway's quirk
 * that after a prefix look-ahead fails the consumed characters are emitted
 * without being looked at again (`$${x}` stays as it is).
 *
 * Streaming: the function only ever stops at a position where Flyway's
 * reader is in its normal state, so restarting there is exact.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"

static const char *lookup_user(const struct ph_values *v, const char *name, size_t n)
{
	if (!v->user)
		return NULL;
	for (size_t i = 0; i < v->user->len; i++) {
		const struct eng_kv *kv = v->user->items[i];
		if (strlen(kv->key) == n && strncasecmp(kv->key, name, n) == 0)
			return kv->value;
	}
	return NULL;
}

/* The flyway:-namespaced defaults; *known tells whether the name is one. */
static const char *lookup_default(const struct ph_values *v, const char *name, size_t n,
				  bool *known)
{
	static const char *const names[] = {
		"defaultSchema", "user", "database", "timestamp", "filename",
		"workingDirectory", "table", "environment",
	};
	const char *vals[] = {
		v->default_schema, v->user_name, v->database, v->timestamp, v->filename,
		v->working_dir, v->table, v->environment,
	};
	*known = false;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0) {
			*known = true;
			return vals[i];
		}
	}
	return NULL;
}

static enum err_code resolve(const struct ph_values *v, const char *name, size_t n,
			     struct buf *out, struct err *e)
{
	const char *val = lookup_user(v, name, n);
	size_t ns = strlen("flyway") + strlen(v->separator);
	bool ns_match = n >= ns && strncasecmp(name, "flyway", 6) == 0 &&
			strncmp(name + 6, v->separator, strlen(v->separator)) == 0;
	if (!val && ns_match) {
		bool known;
		val = lookup_default(v, name + ns, n - ns, &known);
	}
	/* Flyway's message test is case-sensitive: startsWith("flyway:") */
	if (!val && ns_match && strncmp(name, "flyway", 6) == 0) {
		return err_set(e, ERR_PARSE,
				       "Failed to populate value for default placeholder: %s%.*s%s",
				       v->prefix, (int)n, name, v->suffix);
	}
	if (!val)
		return err_set(e, ERR_PARSE,
			       "No value provided for placeholder: %s%.*s%s.  Check your configuration!",
			       v->prefix, (int)n, name, v->suffix);
	buf_adds(out, val);
	return ERR_OK;
}

enum err_code ph_replace(const struct ph_values *v, struct ph_input input, struct buf *out,
			 size_t *used, struct err *e)
{
	const char *in = input.text;
	size_t len = input.len;
	bool final = input.final;
	size_t pl = strlen(v->prefix), sl = strlen(v->suffix), i = 0, plain = 0;
	*used = 0;
	while (i < len) {
		const char *p = memchr(in + i, v->prefix[0], len - i);
		if (!p) {
			i = len;
			break;
		}
		i = (size_t)(p - in);
		size_t m = 0;
		while (m < pl && i + m < len && in[i + m] == v->prefix[m])
			m++;
		if (m < pl && i + m == len && !final)
			break; /* the look-ahead needs bytes we do not have yet */
		if (m < pl) {
			/* Flyway's look-ahead stops at the first character that does
			 * not match and emits what it read without re-checking it. */
			i += i + m < len ? m + 1 : m;
			continue;
		}
		const char *name = in + i + pl;
		const char *end = sl ? memmem(name, len - i - pl, v->suffix, sl) : NULL;
		if (!end && !final)
			break;
		buf_add(out, in + plain, i - plain);
		if (!end) {
			/* Unterminated: Flyway reads to EOF and drops the last char. */
			size_t n = len - i - pl;
			enum err_code c = resolve(v, name, n >= sl ? n - sl : 0, out, e);
			if (!c)
				*used = len;
			return c;
		}
		enum err_code c = resolve(v, name, (size_t)(end - name), out, e);
		if (c)
			return c;
		i = plain = (size_t)(end - in) + sl;
	}
	size_t stop = i < len ? i : len;
	buf_add(out, in + plain, stop - plain);
	*used = stop;
	return ERR_OK;
}
