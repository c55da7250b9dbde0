/*
 * sidecar — `<migration>.conf` script configuration (spec §4.4):
 * properties lines; executeInTransaction decides how the script runs.
 * Keys Flyway rejects are rejected here too, naming the file and line.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

static enum err_code sidecar_line(char *line, const char *name, int lineno, int *tx,
				  struct err *e)
{
	char *t = trim(line);
	if (!*t || *t == '#' || *t == '!')
		return ERR_OK;
	char *eq = strpbrk(t, "=:");
	if (!eq)
		return err_set(e, ERR_PARSE, "%s:%d: expected key=value", name, lineno);
	*eq = 0;
	char *key = trim(t), *val = trim(eq + 1);
	if (!strcmp(key, "executeInTransaction")) {
		if (strcasecmp(val, "true") && strcasecmp(val, "false"))
			return err_set(e, ERR_PARSE,
				       "%s:%d: Invalid value for executeInTransaction (should be either true or false): %s",
				       name, lineno, val);
		*tx = !strcasecmp(val, "true");
		return ERR_OK;
	}
	if (!strcmp(key, "encoding") || !strcmp(key, "placeholderReplacement") ||
	    !strcmp(key, "shouldExecute"))
		return ERR_OK;
	return err_set(e, ERR_PARSE, "%s:%d: Unknown script configuration property: %s",
		       name, lineno, key);
}

enum err_code eng_sidecar_parse(const char *text, const char *name, int *tx_override,
				struct err *e)
{
	char *copy = xstrdup(text), *save = NULL;
	int lineno = 0;
	enum err_code c = ERR_OK;
	for (char *line = copy; !c && line; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = 0;
		c = sidecar_line(line, name, ++lineno, tx_override, e);
	}
	free(copy);
	return c;
}
