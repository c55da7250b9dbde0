/*
 * version — Flyway's MigrationVersion: parts split at a dot followed by a
 * digit, each an arbitrary-size integer (Java BigInteger: an optional sign
 * then ASCII digits), compared numerically with trailing zero parts ignored.
 * The display text is kept exactly as written (after '_' → '.'), because
 * that text is what Flyway stores in the `version` column.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "engine/engine.h"

/* Normalizes one part into "[-]digits" without leading zeros; 0 if invalid. */
static char *part_normalize(const char *p, size_t n)
{
	bool neg = false;
	size_t i = 0;
	if (i < n && (p[i] == '+' || p[i] == '-'))
		neg = p[i++] == '-';
	if (i == n)
		return NULL;
	for (size_t j = i; j < n; j++)
		if (p[j] < '0' || p[j] > '9')
			return NULL;
	while (i + 1 < n && p[i] == '0')
		i++;
	if (n - i == 1 && p[i] == '0')
		neg = false; /* -0 == 0 */
	struct buf b = BUF_INIT;
	if (neg)
		buf_addc(&b, '-');
	buf_add(&b, p + i, n - i);
	return buf_detach(&b, NULL);
}

static enum err_code version_fail(struct eng_version *v, const char *text, struct err *e)
{
	err_set(e, ERR_PARSE,
		"Version may only contain 0..9 and . (dot). Invalid version: %s", text);
	eng_version_release(v);
	return ERR_PARSE;
}

enum err_code eng_version_parse(const char *s, struct eng_version *v, struct err *e)
{
	memset(v, 0, sizeof *v);
	v->text = xstrdup(s);
	for (char *c = v->text; *c; c++)
		if (*c == '_')
			*c = '.';
	struct vec parts = VEC_INIT;
	const char *start = v->text;
	for (const char *c = v->text;; c++) {
		/* Split only at a dot that a digit follows, as Flyway's regex does. */
		bool split = *c == '.' && c[1] >= '0' && c[1] <= '9';
		if (!split && *c)
			continue;
		char *p = part_normalize(start, (size_t)(c - start));
		if (!p) {
			char *text = xstrdup(v->text);
			vec_free_strs(&parts);
			version_fail(v, text, e);
			free(text);
			return ERR_PARSE;
		}
		vec_push(&parts, p);
		if (!*c)
			break;
		start = c + 1;
	}
	while (parts.len && strcmp(parts.items[parts.len - 1], "0") == 0)
		free(parts.items[--parts.len]);
	v->nparts = parts.len;
	v->parts = (char **)parts.items;
	return ERR_OK;
}

void eng_version_release(struct eng_version *v)
{
	for (size_t i = 0; i < v->nparts; i++)
		free(v->parts[i]);
	free(v->parts);
	free(v->text);
	memset(v, 0, sizeof *v);
}

void eng_version_copy(struct eng_version *dst, const struct eng_version *src)
{
	dst->text = xstrdup_or_null(src->text);
	dst->nparts = src->nparts;
	dst->parts = xcalloc(src->nparts ? src->nparts : 1, sizeof *dst->parts);
	for (size_t i = 0; i < src->nparts; i++)
		dst->parts[i] = xstrdup(src->parts[i]);
}

static int part_cmp(const char *a, const char *b)
{
	bool na = *a == '-', nb = *b == '-';
	if (na != nb)
		return na ? -1 : 1;
	size_t la = strlen(a), lb = strlen(b);
	int mag = la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
	if (mag > 0)
		mag = 1;
	else if (mag < 0)
		mag = -1;
	return na ? -mag : mag;
}

int eng_version_cmp(const struct eng_version *a, const struct eng_version *b)
{
	size_t n = a->nparts > b->nparts ? a->nparts : b->nparts;
	for (size_t i = 0; i < n; i++) {
		const char *pa = i < a->nparts ? a->parts[i] : "0";
		const char *pb = i < b->nparts ? b->parts[i] : "0";
		int c = part_cmp(pa, pb);
		if (c)
			return c;
	}
	return 0;
}
