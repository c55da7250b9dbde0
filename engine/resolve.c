/*
 * resolve — turns the files of every source into resolved migrations, as
 * Flyway's resolvers do: names parsed (invalid ones skipped and counted),
 * checksums computed (raw for V and B; after placeholders for R, with the
 * raw one kept as its equivalent), `<script>.conf` sidecars read, duplicate
 * versions refused, and the result sorted in Flyway's order.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "engine/internal.h"

#define SIDECAR_MAX ((size_t)64 * 1024)

void eng_resolved_set_release(struct eng_resolved_set *s)
{
	for (size_t i = 0; i < s->items.len; i++) {
		struct eng_resolved *r = s->items.items[i];
		eng_version_release(&r->version);
		free(r->description);
		free(r->script);
		eng_source_file_free(r->file);
		free(r);
	}
	vec_release(&s->items, NULL);
	vec_free_strs(&s->invalid_messages);
	memset(s, 0, sizeof *s);
}

/* The flyway: placeholder values of this context (filename set per file). */
void eng_ph_values_fill(struct eng_ctx *ctx, struct ph_values *v, struct ph_storage *st)
{
	const struct eng_config *c = ctx->cfg;
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(st->timestamp, sizeof st->timestamp, "%Y-%m-%d %H:%M:%S", &tm);
	memset(v, 0, sizeof *v);
	v->user = &c->placeholders;
	v->prefix = c->placeholder_prefix;
	v->suffix = c->placeholder_suffix;
	v->separator = c->placeholder_separator;
	v->default_schema = ctx->schema;
	v->user_name = ctx->user;
	v->database = ctx->database;
	v->timestamp = st->timestamp;
	v->table = c->table;
	v->environment = c->environment;
	v->working_dir = getcwd(st->cwd, sizeof st->cwd) ? st->cwd : NULL;
}

bool eng_config_latin1(const struct eng_config *c)
{
	return c->encoding && (!strcasecmp(c->encoding, "ISO-8859-1") ||
			       !strcasecmp(c->encoding, "latin1"));
}

/* Both of Flyway's checksums of one file: raw and after placeholders. */
struct sums {
	uint32_t raw, repl;
};

/* Reads the whole file through a reader, keeping both checksums. */
static enum err_code checksum_stream(struct eng_source *src, struct eng_source_file *f,
				     const struct ph_values *ph, bool latin1, struct sums *out,
				     struct err *e)
{
	struct eng_stream *st = NULL;
	enum err_code c = src->ops->open(src, f, &st, e);
	if (c)
		return c;
	struct mig_reader r;
	mig_reader_init(&r, st, f->name, ph, latin1);
	struct buf chunk = BUF_INIT;
	bool eof = false;
	while (!c && !eof) {
		buf_reset(&chunk);
		c = mig_reader_fill(&r, &chunk, 0, &eof, e);
	}
	out->raw = r.crc_raw;
	out->repl = r.crc_repl;
	buf_release(&chunk);
	mig_reader_release(&r);
	st->close(st);
	return c;
}

enum err_code eng_checksum_file(const char *path, const struct eng_config *cfg,
				int32_t *out, struct err *e)
{
	const char *slash = strrchr(path, '/');
	struct eng_source *src = eng_source_dir_new(path, path[0] == '/' ? "/" : ".");
	struct eng_source_file f = {
		.name = xstrdup(slash ? slash + 1 : path), .script = xstrdup(path),
	};
	struct sums sums = { 0, 0 };
	enum err_code c = checksum_stream(src, &f, NULL, eng_config_latin1(cfg), &sums, e);
	if (!c)
		*out = ck_signed(sums.raw);
	free(f.name);
	free(f.script);
	eng_source_free(src);
	return c;
}

char *eng_ph_filename(const struct eng_config *cfg, const struct eng_resolved *m)
{
	/* ResourceName.getFilename(): no separator when the description is empty */
	char *fname = xstrdup(m->file->name);
	const char *sep = cfg->separator;
	char *s = *m->description ? NULL : strstr(fname, sep);
	if (s)
		memmove(s, s + strlen(sep), strlen(s + strlen(sep)) + 1);
	return fname;
}

void eng_resolved_set_checksum(struct eng_resolved *m, const struct eng_config *cfg,
			       uint32_t raw, uint32_t replaced)
{
	bool repl = m->kind == ENG_KIND_REPEATABLE && cfg->placeholder_replacement;
	m->checksum = ck_signed(repl ? replaced : raw);
	m->has_checksum = true;
	if (repl) {
		m->has_equivalent = true;
		m->equivalent_checksum = ck_signed(raw);
	} else if (m->source->ops->remember) {
		m->source->ops->remember(m->source, m->file, m->checksum);
	}
}

enum err_code eng_resolved_checksum(struct eng_ctx *ctx, struct eng_resolved *m,
				    const struct ph_values *base, struct err *e)
{
	const struct eng_config *c = ctx->cfg;
	bool repl = m->kind == ENG_KIND_REPEATABLE && c->placeholder_replacement;
	if (m->has_checksum)
		return ERR_OK;
	if (!repl && m->file->has_cached_checksum) {
		m->checksum = m->file->cached_checksum;
		m->has_checksum = true;
		return ERR_OK;
	}
	struct ph_values ph = *base;
	char *fname = eng_ph_filename(c, m);
	ph.filename = fname;
	struct sums sums = { 0, 0 };
	enum err_code code = checksum_stream(m->source, m->file, repl ? &ph : NULL,
					     eng_config_latin1(c), &sums, e);
	free(fname);
	if (!code)
		eng_resolved_set_checksum(m, c, sums.raw, sums.repl);
	return code;
}

/* Reads `<script>.conf` next to a migration, when the source has one;
 * `confs` holds only the listing's *.conf files, so this stays cheap. */
static enum err_code read_sidecar(struct eng_resolved *m, struct vec *confs, struct err *e)
{
	struct vec *files = confs;
	struct buf want = BUF_INIT, text = BUF_INIT;
	buf_addf(&want, "%s.conf", m->file->script);
	enum err_code c = ERR_OK;
	for (size_t i = 0; i < files->len; i++) {
		struct eng_source_file *f = files->items[i];
		if (!f || strcmp(f->script, want.ptr)) /* NULL: taken by a migration */
			continue;
		struct eng_stream *st = NULL;
		c = m->source->ops->open(m->source, f, &st, e);
		if (!c) {
			c = eng_stream_slurp(st, &text, SIDECAR_MAX, e);
			st->close(st);
		}
		if (!c)
			c = eng_sidecar_parse(text.ptr, want.ptr, &m->tx_override, e);
		break;
	}
	buf_release(&want);
	buf_release(&text);
	return c;
}

static struct eng_resolved *resolved_new(struct eng_source *src, struct eng_source_file *f,
					 struct eng_name *nm)
{
	struct eng_resolved *m = xcalloc(1, sizeof *m);
	m->kind = nm->kind;
	m->version = nm->version;
	m->description = nm->description;
	memset(nm, 0, sizeof *nm);
	m->script = xstrdup(f->script);
	m->type = m->kind == ENG_KIND_BASELINE ? "SQL_BASELINE" : "SQL";
	m->source = src;
	m->file = f;
	m->tx_override = -1;
	return m;
}

static enum err_code resolve_source(struct eng_ctx *ctx, struct eng_source *src,
				    const struct eng_naming *nm, const struct ph_values *ph,
				    struct eng_resolved_set *out, struct err *e)
{
	struct vec files = VEC_INIT, confs = VEC_INIT;
	enum err_code c = src->ops->list(src, &files, e);
	for (size_t i = 0; !c && i < files.len; i++) {
		const char *name = ((struct eng_source_file *)files.items[i])->name;
		size_t n = strlen(name);
		if (n > 5 && !strcmp(name + n - 5, ".conf"))
			vec_push(&confs, files.items[i]);
	}
	for (size_t i = 0; !c && i < files.len; i++) {
		struct eng_source_file *f = files.items[i];
		struct eng_name name;
		struct err why = ERR_INIT;
		enum eng_name_result r = eng_name_parse(f->name, nm, &name, &why);
		if (r == ENG_NAME_INVALID) {
			out->invalid_names++;
			vec_push_str(&out->invalid_messages, why.msg);
		}
		if (r != ENG_NAME_OK)
			continue;
		struct eng_resolved *m = resolved_new(src, f, &name);
		files.items[i] = NULL;
		vec_push(&out->items, m);
		if (ph)
			c = eng_resolved_checksum(ctx, m, ph, e);
		if (!c)
			c = read_sidecar(m, &confs, e);
	}
	vec_release(&confs, NULL);
	vec_release(&files, eng_source_file_free);
	return c;
}

static int cmp_resolved(const void *x, const void *y)
{
	const struct eng_resolved *a = *(const struct eng_resolved *const *)x;
	const struct eng_resolved *b = *(const struct eng_resolved *const *)y;
	bool ra = a->kind == ENG_KIND_REPEATABLE, rb = b->kind == ENG_KIND_REPEATABLE;
	if (ra != rb)
		return ra ? 1 : -1;
	if (ra)
		return strcmp(a->description, b->description);
	int c = eng_version_cmp(&a->version, &b->version);
	if (c)
		return c;
	return (a->kind == ENG_KIND_BASELINE) - (b->kind == ENG_KIND_BASELINE);
}

static enum err_code check_duplicates(const struct eng_resolved_set *s, struct err *e)
{
	for (size_t i = 1; i < s->items.len; i++) {
		const struct eng_resolved *a = s->items.items[i - 1], *b = s->items.items[i];
		if (a->kind != b->kind)
			continue;
		bool dup = a->kind == ENG_KIND_REPEATABLE ? !strcmp(a->description, b->description)
			: !eng_version_cmp(&a->version, &b->version);
		if (!dup)
			continue;
		if (a->kind == ENG_KIND_REPEATABLE)
			return err_set(e, ERR_VALIDATE,
				       "Found more than one repeatable migration with description %s\nOffenders:\n-> %s/%s (SQL)\n-> %s/%s (SQL)",
				       a->description, a->source->location, a->script,
				       b->source->location, b->script);
		return err_set(e, ERR_VALIDATE,
			       "Found more than one migration with version %s\nOffenders:\n-> %s/%s (%s)\n-> %s/%s (%s)",
			       a->version.text, a->source->location, a->script, a->type,
			       b->source->location, b->script, b->type);
	}
	return ERR_OK;
}

enum err_code eng_resolve(struct eng_ctx *ctx, struct eng_resolved_set *out, struct err *e)
{
	return eng_resolve_files(ctx, true, out, e);
}

enum err_code eng_resolve_files(struct eng_ctx *ctx, bool checksums, struct eng_resolved_set *out,
				struct err *e)
{
	const struct eng_config *c = ctx->cfg;
	memset(out, 0, sizeof *out);
	struct eng_naming nm = {
		c->sql_prefix, c->repeatable_prefix, c->baseline_prefix, c->separator,
		(const char *const *)c->suffixes.items, c->suffixes.len,
	};
	struct ph_storage st;
	struct ph_values ph;
	eng_ph_values_fill(ctx, &ph, &st);
	enum err_code code = ERR_OK;
	for (size_t i = 0; !code && i < ctx->sources.len; i++)
		code = resolve_source(ctx, ctx->sources.items[i], &nm, checksums ? &ph : NULL, out, e);
	if (!code && c->validate_migration_naming && out->invalid_names) {
		struct buf b = BUF_INIT;
		buf_adds(&b, "Invalid SQL filenames found:");
		for (size_t i = 0; i < out->invalid_messages.len; i++)
			buf_addf(&b, "\n%s", (char *)out->invalid_messages.items[i]);
		code = err_set(e, ERR_VALIDATE, "%s", b.ptr);
		buf_release(&b);
	}
	if (!code) {
		vec_sort(&out->items, cmp_resolved);
		code = check_duplicates(out, e);
	}
	if (code)
		eng_resolved_set_release(out);
	return code;
}
