/*
 * validate — Flyway's validate rules (spec §6) over a built plan, with its
 * messages word for word, and ignoreMigrationPatterns (`type:state`).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"

#define VALIDATE_URL "https://help.red-gate.com/help/flyway-cli11/help_1.aspx?topic=flyway-blog/older-posts/customize-validation-rules-with-ignoremigrationpatterns"

static bool is_repeatable(const struct eng_info *i)
{
	return i->app ? !i->app->version_text : i->res->kind == ENG_KIND_REPEATABLE;
}

/* Does one pattern match? A state token matches Flyway's display name. */
static bool pattern_matches(const char *pattern, const struct eng_info *i)
{
	const char *colon = strchr(pattern, ':');
	if (!colon)
		return false;
	size_t tl = (size_t)(colon - pattern);
	bool rep = is_repeatable(i);
	bool type_ok = (tl == 1 && pattern[0] == '*') ||
		(tl == 10 && !strncasecmp(pattern, "repeatable", tl) && rep) ||
		(tl == 9 && !strncasecmp(pattern, "versioned", tl) && !rep);
	const char *st = colon + 1;
	bool state_ok = !strcmp(st, "*") ||
		!strcasecmp(st, eng_state_name(i->state));
	return type_ok && state_ok;
}

static bool ignored_by(const struct vec *patterns, const char *extra,
		       const struct eng_info *i)
{
	if (extra && pattern_matches(extra, i))
		return true;
	for (size_t k = 0; patterns && k < patterns->len; k++)
		if (pattern_matches(patterns->items[k], i))
			return true;
	return false;
}

/* ValidatePatternUtils.is<State>Ignored: ignored for both types. */
static bool ignored_for_both(const struct vec *patterns, const char *extra,
			     const struct eng_info *i, enum eng_state s)
{
	struct eng_info as = *i;
	struct eng_resolved rv = { .kind = ENG_KIND_VERSIONED }, rr = { .kind = ENG_KIND_REPEATABLE };
	as.state = s;
	as.app = NULL;
	as.res = &rv;
	bool v = ignored_by(patterns, extra, &as);
	as.res = &rr;
	return v && ignored_by(patterns, extra, &as);
}

static bool type_synthetic(const char *t)
{
	return !strcmp(t, "SCHEMA") || !strcmp(t, "BASELINE") || !strcmp(t, "DELETE");
}

static void msg(struct vec *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void msg(struct vec *out, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	vec_push(out, buf_detach(&b, NULL));
}

static void mismatch(struct vec *out, const struct eng_info *i, const char *what,
		     const char *applied, const char *resolved)
{
	bool rep = is_repeatable(i);
	msg(out, "Migration %s mismatch for migration %s%s\n-> Applied to database : %s\n"
		 "-> Resolved locally    : %s\n"
		 "Either revert the changes to the migration, or run repair to update the schema history.",
	    what, rep ? "" : "version ", rep ? i->app->script : i->app->version_text,
	    applied, resolved);
}

static void check_both(const struct eng_info *i, const struct eng_version *baseline,
		       bool pending_ignored, struct vec *out)
{
	const struct eng_applied *a = i->app;
	const struct eng_resolved *r = i->res;
	bool rep = !a->version_text;
	if (!strcmp(a->type, "DELETE"))
		return;
	if (!rep && baseline && eng_version_cmp(&a->version, baseline) <= 0)
		return;
	if (strcmp(a->type, r->type)) {
		mismatch(out, i, "type", a->type, r->type);
		return;
	}
	bool check_sum = !rep || (pending_ignored && i->state != ENG_STATE_OUTDATED &&
				  i->state != ENG_STATE_SUPERSEDED);
	if (check_sum && a->has_checksum && a->checksum != r->checksum) {
		char x[16], y[16];
		snprintf(x, sizeof x, "%d", a->checksum);
		snprintf(y, sizeof y, "%d", r->checksum);
		mismatch(out, i, "checksum", x, y);
		return;
	}
	char *d = eng_abbreviate_description(r->description);
	const char *ad = strcmp(a->description, "<< no description >>") ? a->description : "";
	if (strcmp(d, ad))
		mismatch(out, i, "description", a->description, r->description);
	free(d);
}

static void validate_one(const struct eng_info *i, const struct vec *patterns,
			 const char *extra, const struct eng_version *baseline,
			 struct vec *out)
{
	enum eng_state s = i->state;
	const char *fix_pending = "To fix this error, either run migrate, or set -ignoreMigrationPatterns='*:pending'.";
	if (s == ENG_STATE_UNDONE || s == ENG_STATE_ABOVE_TARGET || s == ENG_STATE_DELETED)
		return;
	if (ignored_by(patterns, extra, i))
		return;
	bool rep = is_repeatable(i);
	const char *id = rep ? eng_info_description(i) : eng_info_version(i);
	bool pending_ignored = ignored_for_both(patterns, extra, i, ENG_STATE_PENDING);
	if (s == ENG_STATE_FUTURE_FAILED &&
	    ignored_for_both(patterns, extra, i, ENG_STATE_FUTURE_SUCCESS))
		return; /* ignoring future migrations covers failed ones too */
	if (eng_state_is_failed(s)) {
		if (rep)
			msg(out, "Detected failed repeatable migration: %s.\nPlease remove any half-completed changes then run repair to fix the schema history.", id);
		else
			msg(out, "Detected failed migration to version %s (%s).\nPlease remove any half-completed changes then run repair to fix the schema history.", id, eng_info_description(i));
		return;
	}
	if (i->app && !i->res && !type_synthetic(i->app->type) && s != ENG_STATE_SUPERSEDED) {
		msg(out, "Detected applied migration not resolved locally: %s.\nIf you removed this migration intentionally, run repair to mark the migration as deleted.", id);
		return;
	}
	if (s == ENG_STATE_IGNORED && !(i->res && i->res->kind == ENG_KIND_BASELINE)) {
		if (rep)
			msg(out, "Detected resolved repeatable migration not applied to database: %s.\nTo ignore this migration, set -ignoreMigrationPatterns='*:ignored'.", id);
		else
			msg(out, "Detected resolved migration not applied to database: %s.\nTo ignore this migration, set -ignoreMigrationPatterns='*:ignored'. To allow executing this migration, set -outOfOrder=true.", id);
		return;
	}
	if (s == ENG_STATE_PENDING) {
		msg(out, rep ? "Detected resolved repeatable migration not applied to database: %s.\n%s"
			     : "Detected resolved migration not applied to database: %s.\n%s", id, fix_pending);
		return;
	}
	if (s == ENG_STATE_OUTDATED) {
		if (!pending_ignored)
			msg(out, "Detected outdated resolved repeatable migration that should be re-applied to database: %s.\nRun migrate to execute this migration.", id);
		return;
	}
	if (i->app && i->res)
		check_both(i, baseline, pending_ignored, out);
}

enum err_code eng_validate_plan(const struct eng_plan *plan, const struct vec *ignore_patterns,
				bool add_pending, struct vec *messages, struct err *e)
{
	const struct eng_version *baseline = NULL;
	for (size_t k = 0; k < plan->rows.len; k++) {
		const struct eng_info *i = plan->rows.items[k];
		if (i->app && i->app->version_text &&
		    (!strcmp(i->app->type, "BASELINE") || !strcmp(i->app->type, "SQL_BASELINE")) &&
		    (!baseline || eng_version_cmp(&i->app->version, baseline) > 0))
			baseline = &i->app->version;
	}
	size_t before = messages->len;
	for (size_t k = 0; k < plan->rows.len; k++)
		validate_one(plan->rows.items[k], ignore_patterns,
			     add_pending ? "*:pending" : NULL, baseline, messages);
	if (messages->len == before)
		return ERR_OK;
	struct buf b = BUF_INIT;
	buf_adds(&b, "Validate failed: Migrations have failed validation");
	for (size_t k = before; k < messages->len; k++)
		buf_addf(&b, "\n%s", (char *)messages->items[k]);
	buf_adds(&b, "\nNeed more flexibility with validation rules? Learn more: " VALIDATE_URL);
	err_set(e, ERR_VALIDATE, "%s", b.ptr);
	buf_release(&b);
	return ERR_VALIDATE;
}
