/*
 * ssm_template — the text that goes to the Flyway host: tarmac.conf's [ssm]
 * command with {bucket} {prefix} {database} {action} filled in, and the
 * Comment that tags a run with its database and operator.
 *
 * Invariants: a value reaches the template only after it passed the check
 * for its kind (S3's bucket naming rules; a prefix, database name and
 * operator of letters, digits and a few punctuation marks; one of Flyway's
 * verbs) and then only single-quoted, so no value can end the quoting or
 * start a shell construct. A Comment is at most 100 characters, as
 * SendCommand requires.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tui/ssm_internal.h"

static bool char_ok(char c, const char *extra)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr(extra, c));
}

static bool chars_ok(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!char_ok(*s, extra))
			return false;
	return true;
}

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* S3's bucket naming rules: 3-63 of a-z 0-9 . -, starting and ending alnum. */
static bool bucket_ok(const char *b)
{
	size_t n = strlen(b);
	if (n < 3 || n > 63 || !lower_alnum(b[0]) || !lower_alnum(b[n - 1]))
		return false;
	for (const char *p = b; *p; p++)
		if (!lower_alnum(*p) && *p != '.' && *p != '-')
			return false;
	return true;
}

static bool action_ok(const char *a)
{
	static const char *const verbs[] = { "migrate", "info", "validate", "repair", "baseline" };
	for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
		if (!strcmp(a, verbs[i]))
			return true;
	return false;
}

struct tpl_vals {
	char *bucket, *prefix;           /* NULL: the database has no s3: location */
	const char *database, *action;
};

static void tpl_vals_release(struct tpl_vals *v)
{
	free(v->bucket);
	free(v->prefix);
}

static enum err_code tpl_vals_check(const struct tpl_vals *v, struct err *e)
{
	if (!*v->database || !chars_ok(v->database, "_.-"))
		return err_set(e, ERR_USAGE, "ssm run: refusing database name \"%s\": only A-Z a-z "
			       "0-9 _ . - are allowed", v->database);
	if (v->bucket && !bucket_ok(v->bucket))
		return err_set(e, ERR_USAGE, "ssm run %s: refusing bucket \"%s\": not an S3 bucket "
			       "name (3-63 of a-z 0-9 . -, starting and ending with a letter or digit)",
			       v->database, v->bucket);
	if (v->prefix && !chars_ok(v->prefix, "._/-"))
		return err_set(e, ERR_USAGE, "ssm run %s: refusing prefix \"%s\": only A-Z a-z 0-9 "
			       ". _ / - are allowed", v->database, v->prefix);
	if (!action_ok(v->action))
		return err_set(e, ERR_USAGE, "ssm run %s: refusing action \"%s\": use migrate, info, "
			       "validate, repair or baseline", v->database, v->action);
	return ERR_OK;
}

/* bucket and prefix from the first s3:bucket[/prefix] location */
static void tpl_vals_from_locations(struct tpl_vals *v, const struct eng_config *cfg)
{
	for (size_t i = 0; i < cfg->locations.len; i++) {
		const char *l = cfg->locations.items[i];
		if (strncasecmp(l, "s3:", 3))
			continue;
		l += 3;
		const char *slash = strchr(l, '/');
		v->bucket = xstrndup(l, slash ? (size_t)(slash - l) : strlen(l));
		v->prefix = xstrdup(slash ? slash + 1 : "");
		return;
	}
}

void tui_ssm_shell_quote(struct buf *b, const char *s)
{
	buf_addc(b, '\'');
	for (; *s; s++)
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *s);
	buf_addc(b, '\'');
}

/* The value of placeholder {name} (n characters), or NULL when the name is
 * not one of ours (then the text is left alone: it may be shell's ${x}). */
static enum err_code tpl_value(const struct tpl_vals *v, const char *name, size_t n,
			       const char **out, struct err *e)
{
	static const char *const names[] = { "bucket", "prefix", "database", "action" };
	const char *vals[] = { v->bucket, v->prefix, v->database, v->action };
	*out = NULL;
	for (size_t i = 0; i < 4; i++) {
		if (strlen(names[i]) != n || strncmp(name, names[i], n))
			continue;
		if (!vals[i])
			return err_set(e, ERR_USAGE, "ssm run %s: the [ssm] command uses {%s} but "
				       "the database has no s3: location", v->database, names[i]);
		*out = vals[i];
	}
	return ERR_OK;
}

static enum err_code tpl_render(const char *tpl, const struct tpl_vals *v, struct buf *out,
				struct err *e)
{
	for (const char *p = tpl; *p; p++) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		const char *val = NULL;
		if (close) {
			enum err_code c = tpl_value(v, p + 1, (size_t)(close - p - 1), &val, e);
			if (c)
				return c;
		}
		if (val) {
			tui_ssm_shell_quote(out, val);
			p = close;
		} else {
			buf_addc(out, *p);
		}
	}
	return ERR_OK;
}

enum err_code tui_ssm_render(struct tui_ssm *s, const char *db, const char *action,
			     struct buf *out, struct err *e)
{
	struct tui_db_conf *d = NULL;
	struct tpl_vals v = { .database = db ? db : "", .action = action ? action : "migrate" };
	const char *tpl = s->conf.ssm_command;
	enum err_code c = tui_ssm_find_db(s, v.database, &d, e);
	if (!c && (!tpl || !*tpl))
		c = err_set(e, ERR_USAGE, "[ssm] command is not set in %s",
			    s->conf.path ? s->conf.path : "tarmac.conf");
	if (c)
		return c;
	size_t start = out->len;
	tpl_vals_from_locations(&v, &d->eng);
	c = tpl_vals_check(&v, e);
	if (!c)
		c = tpl_render(tpl, &v, out, e);
	if (c) /* no half-rendered command left for anyone to send */
		buf_setlen(out, start);
	tpl_vals_release(&v);
	return c;
}

/* ---- the Comment ------------------------------------------------------------ */

void tui_ssm_operator_clean(const char *user, char *out)
{
	size_t n = 0;
	if (!user || !*user)
		user = "unknown";
	for (; n < TUI_SSM_OPERATOR_MAX && user[n]; n++)
		out[n] = char_ok(user[n], "._@-") ? user[n] : '_';
	out[n] = '\0';
}

enum err_code tui_ssm_comment_make(const char *db, unsigned int run, const char *op, char *out,
				   struct err *e)
{
	/* "tarmac db=" " run=XXXXXXXX" " by=" */
	size_t fixed = 10 + 13 + 4, room = TUI_SSM_COMMENT_MAX - fixed;
	if (strlen(db) >= room)
		return err_set(e, ERR_USAGE, "ssm run: database name \"%s\" is too long for SSM's "
			       "100-character Comment (at most %zu characters)", db, room - 1);
	room -= strlen(db);
	snprintf(out, TUI_SSM_COMMENT_MAX + 1, "tarmac db=%s run=%08x by=%.*s", db, run,
		 (int)room, op);
	return ERR_OK;
}

char *tui_ssm_comment_get(const char *comment, const char *key)
{
	size_t n = strlen(key);
	if (!comment || strncmp(comment, "tarmac ", 7))
		return NULL;
	for (const char *p = comment + 7; *p;) {
		size_t len = strcspn(p, " ");
		if (len > n && !strncmp(p, key, n) && p[n] == '=')
			return xstrndup(p + n + 1, len - n - 1);
		p += len;
		p += strspn(p, " ");
	}
	return NULL;
}
