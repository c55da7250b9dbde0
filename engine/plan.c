/*
 * plan — Flyway's MigrationInfoService (spec §5): pairs files with history
 * rows and gives every migration its state. Versioned rows pair with files
 * by (version, type); repeatable rows by description. DELETE rows hide the
 * row they mark; the latest run of a repeatable decides whether the file
 * is outdated. Nothing here talks to a database.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

static const char *const state_names[ENG_STATE_COUNT] = {
	[ENG_STATE_PENDING] = "Pending",
	[ENG_STATE_ABOVE_TARGET] = "Above Target",
	[ENG_STATE_BELOW_BASELINE] = "Below Baseline",
	[ENG_STATE_BASELINE_IGNORED] = "Ignored (Baseline)",
	[ENG_STATE_BASELINE] = "Baseline",
	[ENG_STATE_IGNORED] = "Ignored",
	[ENG_STATE_MISSING_SUCCESS] = "Missing",
	[ENG_STATE_MISSING_FAILED] = "Failed (Missing)",
	[ENG_STATE_SUCCESS] = "Success",
	[ENG_STATE_UNDONE] = "Undone",
	[ENG_STATE_AVAILABLE] = "Available",
	[ENG_STATE_FAILED] = "Failed",
	[ENG_STATE_OUT_OF_ORDER] = "Out of Order",
	[ENG_STATE_FUTURE_SUCCESS] = "Future",
	[ENG_STATE_FUTURE_FAILED] = "Failed (Future)",
	[ENG_STATE_OUTDATED] = "Outdated",
	[ENG_STATE_SUPERSEDED] = "Superseded",
	[ENG_STATE_DELETED] = "Deleted",
};

const char *eng_state_name(enum eng_state s)
{
	return (unsigned)s < ENG_STATE_COUNT ? state_names[s] : "?";
}

bool eng_state_is_failed(enum eng_state s)
{
	return s == ENG_STATE_FAILED || s == ENG_STATE_MISSING_FAILED ||
	       s == ENG_STATE_FUTURE_FAILED;
}

bool eng_state_is_applied(enum eng_state s)
{
	switch (s) {
	case ENG_STATE_PENDING: case ENG_STATE_ABOVE_TARGET: case ENG_STATE_BELOW_BASELINE:
	case ENG_STATE_BASELINE_IGNORED: case ENG_STATE_IGNORED: case ENG_STATE_AVAILABLE:
		return false;
	default:
		return true;
	}
}

static bool type_is_synthetic(const char *t)
{
	return !strcmp(t, "SCHEMA") || !strcmp(t, "BASELINE") || !strcmp(t, "DELETE");
}

static bool type_is_baseline(const char *t)
{
	return !strcmp(t, "BASELINE") || !strcmp(t, "SQL_BASELINE") || !strcmp(t, "JDBC_BASELINE");
}

/* Working state of one refresh; freed at the end of eng_plan_build. */
struct pass {
	const struct eng_resolved_set *files;
	const struct vec *applied;
	bool *deleted;          /* per applied row */
	bool *out_of_order;     /* per applied row */
	bool *latest_run;       /* per applied repeatable row */
	int *match;             /* per applied row: index of its file, or -1 */
	size_t *order;          /* file indices, sorted for lookup */
	size_t nversioned;      /* how many of order are versioned files */
	bool *file_applied;     /* per file */
	const struct eng_version *last_applied, *last_resolved;
	const struct eng_version *applied_baseline, *pending_baseline;
};

/* Files sorted for lookup: versioned by version, repeatables by
 * description, so pairing 10,000 rows with 10,000 files stays n log n. */
static int cmp_file_idx(const void *x, const void *y, void *ctx)
{
	const struct pass *p = ctx;
	const struct eng_resolved *a = p->files->items.items[*(const size_t *)x];
	const struct eng_resolved *b = p->files->items.items[*(const size_t *)y];
	bool ra = a->kind == ENG_KIND_REPEATABLE, rb = b->kind == ENG_KIND_REPEATABLE;
	if (ra != rb)
		return ra ? 1 : -1;
	return ra ? strcmp(a->description, b->description) : eng_version_cmp(&a->version, &b->version);
}

static void index_files(struct pass *p)
{
	size_t n = p->files->items.len;
	p->order = xcalloc(n ? n : 1, sizeof *p->order);
	for (size_t i = 0; i < n; i++)
		p->order[i] = i;
	qsort_r(p->order, n, sizeof *p->order, cmp_file_idx, p);
	p->nversioned = 0;
	while (p->nversioned < n &&
	       ((struct eng_resolved *)p->files->items.items[p->order[p->nversioned]])->kind != ENG_KIND_REPEATABLE)
		p->nversioned++;
}

static int find_versioned_file(const struct pass *p, const struct eng_applied *a)
{
	size_t lo = 0, hi = p->nversioned;
	while (lo < hi) { /* first file whose version is >= a's */
		size_t mid = lo + (hi - lo) / 2;
		const struct eng_resolved *r = p->files->items.items[p->order[mid]];
		if (eng_version_cmp(&r->version, &a->version) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < p->nversioned; lo++) {
		const struct eng_resolved *r = p->files->items.items[p->order[lo]];
		if (eng_version_cmp(&r->version, &a->version))
			break;
		if (!strcmp(r->type, a->type))
			return (int)p->order[lo];
	}
	return -1;
}

static int find_repeatable_file(const struct pass *p, const struct eng_applied *a)
{
	size_t lo = p->nversioned, hi = p->files->items.len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct eng_resolved *r = p->files->items.items[p->order[mid]];
		int c = strcmp(r->description, a->description);
		if (!c)
			return (int)p->order[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Marks the last run (highest rank) of every repeatable description. */
static int cmp_applied_idx(const void *x, const void *y, void *ctx)
{
	const struct vec *ap = ctx;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	const struct eng_applied *a = ap->items[i], *b = ap->items[j];
	int c = strcmp(a->description, b->description);
	if (!c)
		c = strcmp(a->type, b->type);
	return c ? c : (i > j) - (i < j);
}

static void mark_latest_runs(struct pass *p)
{
	const struct vec *ap = p->applied;
	size_t *idx = xcalloc(ap->len ? ap->len : 1, sizeof *idx), n = 0;
	for (size_t i = 0; i < ap->len; i++)
		if (!((struct eng_applied *)ap->items[i])->version_text)
			idx[n++] = i;
	qsort_r(idx, n, sizeof *idx, cmp_applied_idx, (void *)(uintptr_t)ap);
	for (size_t k = 0; k < n; k++) {
		const struct eng_applied *a = ap->items[idx[k]];
		const struct eng_applied *b = k + 1 < n ? ap->items[idx[k + 1]] : NULL;
		p->latest_run[idx[k]] = !b || strcmp(a->description, b->description) ||
					strcmp(a->type, b->type);
	}
	free(idx);
}

/* DELETE rows mark the latest earlier row of the same version/description. */
static enum err_code mark_deleted(struct pass *p, struct err *e)
{
	const struct vec *ap = p->applied;
	for (size_t i = 0; i < ap->len; i++) {
		const struct eng_applied *d = ap->items[i];
		if (strcmp(d->type, "DELETE") || !d->success)
			continue;
		for (size_t j = i; j-- > 0;) {
			const struct eng_applied *a = ap->items[j];
			if (type_is_synthetic(a->type))
				continue;
			bool same = d->version_text ? a->version_text &&
				eng_version_cmp(&a->version, &d->version) == 0
				: !a->version_text && !strcmp(a->description, d->description);
			if (!same)
				continue;
			if (p->deleted[j] && !d->version_text)
				break; /* markRepeatableAsDeleted: nothing more to do */
			if (p->deleted[j])
				return err_set(e, ERR_VALIDATE,
					       "Corrupted schema history: multiple delete entries for version %s",
					       d->version_text ? d->version_text : d->description);
			p->deleted[j] = true;
			break;
		}
	}
	return ERR_OK;
}

static void scan_applied(struct pass *p)
{
	const struct vec *ap = p->applied;
	const struct eng_version *running = NULL;
	for (size_t i = 0; i < ap->len; i++) {
		const struct eng_applied *a = ap->items[i];
		if (!a->version_text) {
			p->match[i] = type_is_synthetic(a->type) ? -1 : find_repeatable_file(p, a);
			continue;
		}
		p->match[i] = find_versioned_file(p, a);
		if (type_is_baseline(a->type) && (!p->applied_baseline ||
		    eng_version_cmp(&a->version, p->applied_baseline) > 0))
			p->applied_baseline = &a->version;
		if (!strcmp(a->type, "DELETE") || p->deleted[i])
			continue;
		if (running && eng_version_cmp(&a->version, running) <= 0)
			p->out_of_order[i] = true;
		if (!running || eng_version_cmp(&a->version, running) > 0)
			running = &a->version;
	}
	p->last_applied = running;
}

static void scan_files(struct pass *p)
{
	const struct vec *fs = &p->files->items;
	for (size_t i = 0; i < fs->len; i++) {
		const struct eng_resolved *r = fs->items[i];
		if (r->kind == ENG_KIND_REPEATABLE)
			continue;
		if (!p->last_resolved || eng_version_cmp(&r->version, p->last_resolved) > 0)
			p->last_resolved = &r->version;
		if (r->kind == ENG_KIND_BASELINE && !p->file_applied[i] &&
		    (!p->pending_baseline || eng_version_cmp(&r->version, p->pending_baseline) > 0))
			p->pending_baseline = &r->version;
	}
}

static enum eng_state missing_state(const struct pass *p, const struct eng_applied *a)
{
	bool below = !a->version_text ||
		(p->last_resolved && eng_version_cmp(&a->version, p->last_resolved) < 0);
	if (below)
		return a->success ? ENG_STATE_MISSING_SUCCESS : ENG_STATE_MISSING_FAILED;
	return a->success ? ENG_STATE_FUTURE_SUCCESS : ENG_STATE_FUTURE_FAILED;
}

static bool checksum_matches(const struct eng_resolved *r, const struct eng_applied *a)
{
	if (!a->has_checksum)
		return true;
	return a->checksum == r->checksum ||
	       (r->has_equivalent && a->checksum == r->equivalent_checksum);
}

static enum eng_state applied_state(const struct pass *p, size_t i)
{
	const struct eng_applied *a = p->applied->items[i];
	const struct eng_resolved *r = p->match[i] >= 0 ? p->files->items.items[p->match[i]] : NULL;
	bool repeatable = !a->version_text;
	if (p->deleted[i])
		return ENG_STATE_DELETED;
	if (!strcmp(a->type, "DELETE"))
		return ENG_STATE_SUCCESS;
	if (type_is_baseline(a->type)) {
		if (!strcmp(a->type, "SQL_BASELINE") && !a->success)
			return ENG_STATE_FAILED;
		if (!strcmp(a->type, "SQL_BASELINE") && !r)
			return missing_state(p, a);
		return ENG_STATE_BASELINE;
	}
	if (!r && (!repeatable || p->latest_run[i])) {
		if (!strcmp(a->type, "SCHEMA"))
			return ENG_STATE_SUCCESS;
		return missing_state(p, a);
	}
	if (!a->success)
		return ENG_STATE_FAILED;
	if (!strcmp(a->type, "SCHEMA"))
		return ENG_STATE_SUCCESS;
	if (repeatable) {
		if (!p->latest_run[i])
			return ENG_STATE_SUPERSEDED;
		return checksum_matches(r, a) ? ENG_STATE_SUCCESS : ENG_STATE_OUTDATED;
	}
	if (p->out_of_order[i])
		return ENG_STATE_OUT_OF_ORDER;
	return ENG_STATE_SUCCESS;
}

/* The migrate target: a version (has), "next", or latest (neither). */
struct target {
	struct eng_version v;
	bool has, next, optional;   /* optional: "5?" does not fail when missing */
};

static enum err_code target_parse(const struct eng_plan_options *o, const struct pass *p,
				  struct target *t, struct err *e)
{
	memset(t, 0, sizeof *t);
	const char *s = o ? o->target : NULL;
	if (!s || !*s || !strcasecmp(s, "latest"))
		return ERR_OK;
	if (!strcasecmp(s, "next")) {
		t->next = true;
		return ERR_OK;
	}
	t->has = true;
	if (!strcasecmp(s, "current")) {
		if (p->last_applied)
			eng_version_copy(&t->v, p->last_applied);
		else
			eng_version_parse("0", &t->v, NULL);
		return ERR_OK;
	}
	size_t n = strlen(s);
	t->optional = s[n - 1] == '?';
	char *text = xstrndup(s, t->optional ? n - 1 : n);
	enum err_code c = eng_version_parse(text, &t->v, e);
	free(text);
	t->has = !c;
	return c;
}

static enum eng_state pending_state(const struct pass *p, const struct eng_resolved *r,
				    const struct eng_plan_options *o, const struct eng_version *tv)
{
	if (r->kind == ENG_KIND_REPEATABLE)
		return ENG_STATE_PENDING;
	if (r->kind == ENG_KIND_BASELINE) {
		if (!p->last_applied && p->pending_baseline &&
		    eng_version_cmp(&r->version, p->pending_baseline) == 0)
			return ENG_STATE_PENDING;
		return p->last_applied ? ENG_STATE_IGNORED : ENG_STATE_BELOW_BASELINE;
	}
	const struct eng_version *base = p->last_applied ? p->applied_baseline : p->pending_baseline;
	if (base) {
		int c = eng_version_cmp(&r->version, base);
		if (c < 0)
			return ENG_STATE_BELOW_BASELINE;
		if (c == 0)
			return ENG_STATE_BASELINE_IGNORED;
	}
	if (tv && eng_version_cmp(&r->version, tv) > 0)
		return ENG_STATE_ABOVE_TARGET;
	if (p->last_applied && eng_version_cmp(&r->version, p->last_applied) < 0 &&
	    !(o && o->out_of_order))
		return ENG_STATE_IGNORED;
	return ENG_STATE_PENDING;
}

static void add_row(struct eng_plan *plan, enum eng_state s, const struct eng_resolved *r,
		    const struct eng_applied *a)
{
	struct eng_info *i = xcalloc(1, sizeof *i);
	i->state = s;
	i->res = r;
	i->app = a;
	vec_push(&plan->rows, i);
	if (s == ENG_STATE_PENDING)
		plan->pending++;
	if (eng_state_is_failed(s))
		plan->failed++;
	if (s == ENG_STATE_MISSING_SUCCESS || s == ENG_STATE_MISSING_FAILED)
		plan->missing++;
	if (r && a && a->has_checksum && r->kind != ENG_KIND_REPEATABLE &&
	    !checksum_matches(r, a) && strcmp(a->type, "DELETE"))
		plan->mismatched++;
}

/* Is the latest run of repeatable r outdated (or absent)? */
static bool repeatable_pending(const struct pass *p, size_t fi)
{
	const struct eng_resolved *r = p->files->items.items[fi];
	for (size_t i = p->applied->len; i-- > 0;) {
		const struct eng_applied *a = p->applied->items[i];
		if (a->version_text || p->match[i] != (int)fi || !p->latest_run[i])
			continue;
		if (p->deleted[i])
			return true;
		return !checksum_matches(r, a);
	}
	return true;
}

static int cmp_rows(const void *x, const void *y);

static void add_unapplied(struct pass *p, struct eng_plan *plan, const struct eng_plan_options *o,
			  const struct eng_version *tv, bool next)
{
	const struct vec *fs = &p->files->items;
	bool next_taken = false;
	for (size_t i = 0; i < fs->len; i++) {
		const struct eng_resolved *r = fs->items[i];
		if (r->kind == ENG_KIND_REPEATABLE ? !repeatable_pending(p, i) : p->file_applied[i])
			continue;
		enum eng_state s = pending_state(p, r, o, tv);
		if (next && s == ENG_STATE_PENDING && r->kind != ENG_KIND_REPEATABLE) {
			if (next_taken)
				s = ENG_STATE_ABOVE_TARGET;
			next_taken = true;
		}
		add_row(plan, s, r, NULL);
	}
}

static void pass_release(struct pass *p)
{
	free(p->deleted);
	free(p->out_of_order);
	free(p->latest_run);
	free(p->match);
	free(p->file_applied);
	free(p->order);
}

static enum err_code check_target_exists(const struct pass *p, const struct eng_version *tv,
					 bool optional, const struct eng_plan_options *o,
					 struct err *e)
{
	if (optional || !strcasecmp(o->target, "current"))
		return ERR_OK;
	for (size_t i = 0; i < p->files->items.len; i++) {
		const struct eng_resolved *r = p->files->items.items[i];
		if (r->kind != ENG_KIND_REPEATABLE && !eng_version_cmp(&r->version, tv))
			return ERR_OK;
	}
	for (size_t i = 0; i < p->applied->len; i++) {
		const struct eng_applied *a = p->applied->items[i];
		if (a->version_text && !eng_version_cmp(&a->version, tv))
			return ERR_OK;
	}
	return err_set(e, ERR_VALIDATE,
		       "No migration with a target version %s could be found. Ensure target is specified correctly and the migration exists.",
		       tv->text);
}

enum err_code eng_plan_build(const struct eng_resolved_set *files, const struct vec *applied,
			     const struct eng_plan_options *o, struct eng_plan *plan,
			     struct err *e)
{
	memset(plan, 0, sizeof *plan);
	size_t na = applied->len ? applied->len : 1, nf = files->items.len ? files->items.len : 1;
	struct pass p = {
		.files = files, .applied = applied,
		.deleted = xcalloc(na, sizeof(bool)), .out_of_order = xcalloc(na, sizeof(bool)),
		.latest_run = xcalloc(na, sizeof(bool)), .match = xcalloc(na, sizeof(int)),
		.file_applied = xcalloc(nf, sizeof(bool)),
	};
	struct target t = { 0 };
	enum err_code c = mark_deleted(&p, e);
	if (c)
		goto out;
	index_files(&p);
	mark_latest_runs(&p);
	scan_applied(&p);
	for (size_t i = 0; i < applied->len; i++)
		if (p.match[i] >= 0 && ((struct eng_applied *)applied->items[i])->version_text &&
		    !p.deleted[i])
			p.file_applied[p.match[i]] = true;
	scan_files(&p);
	c = target_parse(o, &p, &t, e);
	if (!c && t.has)
		c = check_target_exists(&p, &t.v, t.optional, o, e);
	if (c)
		goto out;
	for (size_t i = 0; i < applied->len; i++) {
		int m = p.match[i];
		const struct eng_applied *a = applied->items[i];
		/* Flyway does not list a versioned DELETE row, only what it deleted */
		if (a->version_text && !strcmp(a->type, "DELETE") && a->success)
			continue;
		add_row(plan, applied_state(&p, i), m >= 0 ? files->items.items[m] : NULL,
			applied->items[i]);
	}
	add_unapplied(&p, plan, o, t.has ? &t.v : NULL, t.next);
	vec_sort(&plan->rows, cmp_rows);
	if (p.last_applied)
		eng_version_copy(&plan->current, p.last_applied);
out:
	if (c)
		eng_plan_release(plan);
	eng_version_release(&t.v);
	pass_release(&p);
	return c;
}

void eng_plan_release(struct eng_plan *plan)
{
	vec_release(&plan->rows, free);
	eng_version_release(&plan->current);
	memset(plan, 0, sizeof *plan);
}

/* Display order: below-baseline files first, then history rows by rank,
 * then unapplied files by version, repeatables last by description. */
static int row_group(const struct eng_info *i)
{
	if (i->app)
		return 1;
	if (i->state == ENG_STATE_BELOW_BASELINE || i->state == ENG_STATE_BASELINE_IGNORED)
		return 0;
	return i->res->kind == ENG_KIND_REPEATABLE ? 3 : 2;
}

static int cmp_rows(const void *x, const void *y)
{
	const struct eng_info *a = *(const struct eng_info *const *)x;
	const struct eng_info *b = *(const struct eng_info *const *)y;
	int ga = row_group(a), gb = row_group(b);
	if (ga != gb)
		return ga - gb;
	if (ga == 1)
		return a->app->installed_rank - b->app->installed_rank;
	if (ga == 3)
		return strcmp(a->res->description, b->res->description);
	return eng_version_cmp(&a->res->version, &b->res->version);
}

const char *eng_info_category(const struct eng_info *i)
{
	const char *type = eng_info_type(i);
	if (type_is_synthetic(type))
		return "";
	if (type_is_baseline(type))
		return "Baseline";
	bool repeatable = i->app ? !i->app->version_text : i->res->kind == ENG_KIND_REPEATABLE;
	return repeatable ? "Repeatable" : "Versioned";
}

const char *eng_info_type(const struct eng_info *i)
{
	return i->app ? i->app->type : i->res->type;
}

const char *eng_info_version(const struct eng_info *i)
{
	if (i->app)
		return i->app->version_text ? i->app->version_text : "";
	return i->res->kind == ENG_KIND_REPEATABLE ? "" : i->res->version.text;
}

const char *eng_info_description(const struct eng_info *i)
{
	return i->app ? i->app->description : i->res->description;
}
