/*
 * name — Flyway's migration file names (ResourceNameParser): prefix
 * case-sensitive, suffix case-insensitive, the first separator splits
 * version from description, '_' in the description becomes ' ' and nothing
 * else changes. Callback scripts (beforeMigrate.sql, ...) are recognised so
 * that they are not mistaken for invalid migrations.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "engine/engine.h"

/* Flyway's callback event ids: also prefixes, so never migrations. */
static const char *const callback_events[] = {
	"beforeMigrate", "beforeRepeatables", "beforeEachMigrate",
	"beforeEachMigrateStatement", "afterEachMigrateStatement",
	"afterEachMigrateStatementError", "afterEachMigrate", "afterEachMigrateError",
	"afterMigrate", "afterMigrateApplied", "afterVersioned", "afterMigrateError",
	"beforeUndo", "beforeEachUndo", "beforeEachUndoStatement",
	"afterEachUndoStatement", "afterEachUndoStatementError", "afterEachUndo",
	"afterEachUndoError", "afterUndo", "afterUndoError", "beforeClean",
	"afterClean", "afterCleanError", "beforeInfo", "afterInfo", "afterInfoError",
	"beforeValidate", "afterValidate", "afterValidateError", "beforeBaseline",
	"afterBaseline", "afterBaselineError", "beforeRepair", "afterRepair",
	"afterRepairError", "beforeConnect", "afterConnect", "beforeCreateSchema",
	"createSchema",
};

static bool ends_with_ci(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return n <= len && strncasecmp(s + len - n, suffix, n) == 0;
}

/* The longest matching prefix among V/R/B and the callbacks, as Flyway
 * sorts candidates by descending length. */
static const char *match_prefix(const char *name, const struct eng_naming *n,
				enum eng_kind *kind, bool *callback)
{
	const char *best = NULL;
	size_t best_len = 0;
	const char *mine[3] = { n->sql_prefix, n->repeatable_prefix, n->baseline_prefix };
	static const enum eng_kind kinds[3] = {
		ENG_KIND_VERSIONED, ENG_KIND_REPEATABLE, ENG_KIND_BASELINE
	};
	for (int i = 0; i < 3; i++) {
		size_t l = strlen(mine[i]);
		if (l > best_len && strncmp(name, mine[i], l) == 0) {
			best = mine[i], best_len = l, *kind = kinds[i], *callback = false;
		}
	}
	for (size_t i = 0; i < sizeof callback_events / sizeof *callback_events; i++) {
		size_t l = strlen(callback_events[i]);
		if (l > best_len && strncmp(name, callback_events[i], l) == 0)
			best = callback_events[i], best_len = l, *callback = true;
	}
	return best;
}

static const char *match_suffix(const char *name, const struct eng_naming *n)
{
	for (size_t i = 0; i < n->nsuffixes; i++)
		if (ends_with_ci(name, strlen(name), n->suffixes[i]))
			return n->suffixes[i];
	return NULL;
}

/* Flyway's example in the message: the file's own description (or
 * "description"), the configured separator, the file's own suffix. */
static enum eng_name_result invalid_versioned(const char *filename, const char *prefix,
					      const char *sep, const char *desc,
					      const char *suffix, struct err *e)
{
	err_set(e, ERR_PARSE,
		"Invalid versioned migration name format: %s (It must contain a version and should look like this: %s1.2%s%s%s)",
		filename, prefix, sep, *desc ? desc : "description", suffix);
	return ENG_NAME_INVALID;
}

static enum eng_name_result invalid_version_number(const char *filename, const char *version,
						   struct err *e)
{
	err_set(e, ERR_PARSE,
		"Invalid versioned migration name format: %s (could not recognise version number %s)",
		filename, version);
	return ENG_NAME_INVALID;
}

enum eng_name_result eng_name_parse(const char *filename, const struct eng_naming *n,
				    struct eng_name *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	const char *suffix = match_suffix(filename, n);
	if (!suffix)
		return ENG_NAME_NOT_SQL;
	size_t stem_len = strlen(filename) - strlen(suffix);
	suffix = filename + stem_len; /* as written: ".SQL" */
	char *stem = xstrndup(filename, stem_len);
	enum eng_kind kind = ENG_KIND_VERSIONED;
	bool callback = false;
	const char *prefix = match_prefix(stem, n, &kind, &callback);
	enum eng_name_result r = ENG_NAME_NOT_SQL;
	if (!stem_len)
		goto out; /* ".sql": not longer than "" + suffix, never scanned */
	if (callback) {
		/* a callback is no migration, but a malformed one is invalid */
		const char *rest = stem + strlen(prefix), *sep = strstr(rest, n->separator);
		size_t left = sep ? (size_t)(sep - rest) : strlen(rest);
		const char *desc = sep ? sep + strlen(n->separator) : "";
		if (left) {
			r = ENG_NAME_INVALID;
			err_set(e, ERR_PARSE,
				"Invalid repeatable migration / callback name format: %s (It cannot contain a version and should look like this: %s%s%s%s)",
				filename, prefix, n->separator, *desc ? desc : "description", suffix);
		}
		goto out;
	}
	/* Flyway's naming validator counts every *.sql it cannot parse. */
	r = ENG_NAME_INVALID;
	if (!prefix) {
		err_set(e, ERR_PARSE, "Unrecognised migration name format: %s", filename);
		goto out;
	}
	if (stem_len <= strlen(prefix) && kind != ENG_KIND_REPEATABLE) {
		invalid_versioned(filename, prefix, n->separator, "", suffix, e);
		goto out;
	}
	r = ENG_NAME_NOT_SQL;
	if (stem_len <= strlen(prefix))
		goto out; /* "R.sql": the scanner never offers it */
	const char *rest = stem + strlen(prefix);
	const char *sep = strstr(rest, n->separator);
	size_t left_len = sep ? (size_t)(sep - rest) : strlen(rest);
	const char *desc = sep ? sep + strlen(n->separator) : "";
	if (kind == ENG_KIND_REPEATABLE) {
		r = ENG_NAME_INVALID;
		if (left_len) {
			err_set(e, ERR_PARSE,
				"Invalid repeatable migration / callback name format: %s (It cannot contain a version and should look like this: %s%s%s%s)",
				filename, prefix, n->separator, *desc ? desc : "description", suffix);
			goto out;
		}
	} else {
		r = ENG_NAME_INVALID;
		if (!left_len) {
			invalid_versioned(filename, prefix, n->separator, desc, suffix, e);
			goto out;
		}
		char *vs = xstrndup(rest, left_len);
		enum err_code c = eng_version_parse(vs, &out->version, NULL);
		if (c) {
			invalid_version_number(filename, vs, e);
			free(vs);
			goto out;
		}
		free(vs);
	}
	out->kind = kind;
	out->description = xstrdup(desc);
	for (char *c = out->description; *c; c++)
		if (*c == '_')
			*c = ' ';
	r = ENG_NAME_OK;
out:
	free(stem);
	return r;
}

void eng_name_release(struct eng_name *n)
{
	eng_version_release(&n->version);
	free(n->description);
	memset(n, 0, sizeof *n);
}

/* Bytes of the first `units` UTF-16 code units of UTF-8 text s, never
 * splitting a character (a 4-byte sequence is two units). */
static size_t utf16_prefix_bytes(const char *s, size_t units, size_t *total_units)
{
	size_t i = 0, u = 0, cut = (size_t)-1;
	const unsigned char *p = (const unsigned char *)s;
	while (p[i]) {
		size_t len = p[i] >= 0xF0 ? 4 : p[i] >= 0xE0 ? 3 : p[i] >= 0xC0 ? 2 : 1;
		size_t w = len == 4 ? 2 : 1;
		if (cut == (size_t)-1 && u + w > units)
			cut = i;
		u += w;
		for (size_t k = 0; k < len && p[i]; k++)
			i++;
	}
	*total_units = u;
	return cut == (size_t)-1 ? i : cut;
}

char *eng_abbreviate_description(const char *d)
{
	size_t units, cut = utf16_prefix_bytes(d, 197, &units);
	if (units <= 200)
		return xstrdup(d);
	struct buf b = BUF_INIT;
	buf_add(&b, d, cut);
	buf_adds(&b, "...");
	return buf_detach(&b, NULL);
}

char *eng_abbreviate_script(const char *s)
{
	size_t units, skip = utf16_prefix_bytes(s, 3, &units);
	if (units <= 1000)
		return xstrdup(s);
	/* Java: "..." + s.substring(3, 1000) */
	size_t u2, end = utf16_prefix_bytes(s, 1000, &u2);
	struct buf b = BUF_INIT;
	buf_adds(&b, "...");
	buf_add(&b, s + skip, end - skip);
	return buf_detach(&b, NULL);
}
