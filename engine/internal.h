/*
 * internal — declarations shared by engine/ files and their tests only.
 * Nothing here is part of the engine's public surface (engine.h).
 */
#ifndef TARMAC_ENGINE_INTERNAL_H
#define TARMAC_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "engine/engine.h"

/* ---- checksum (spec §1) ------------------------------------------------- */

/* Running CRC-32 over text with every '\r' and '\n' left out. */
uint32_t ck_update(uint32_t crc, const char *p, size_t n);
/* The stored (signed) form of a finished CRC. */
static inline int32_t ck_signed(uint32_t crc) { return (int32_t)crc; }

/* ---- placeholders (spec §1.4) ------------------------------------------- */

struct ph_values {
	const struct vec *user;        /* struct eng_kv*, keys lower-case */
	const char *prefix, *suffix, *separator;
	/* flyway: defaults; NULL means "cannot be populated here" */
	const char *default_schema, *user_name, *database, *timestamp;
	const char *filename, *working_dir, *table, *environment;
};

/*
 * Replaces placeholders in in.text[0..in.len) and appends the result to out.
 * Stops before a placeholder that may be incomplete unless in.final; returns
 * the number of input bytes used up (the caller keeps the rest and calls
 * again with more appended). ERR_PARSE with Flyway's messages for unknown
 * names (the `name` of the file is prefixed by the caller).
 */
struct ph_input {
	const char *text;
	size_t len;
	bool final;      /* no more text follows */
};
enum err_code ph_replace(const struct ph_values *v, struct ph_input in, struct buf *out,
			 size_t *used, struct err *e);

/* ---- migration text reader --------------------------------------------- */

/*
 * Reads a migration's bytes from a source stream in chunks, checks they are
 * valid text in the configured encoding (UTF-8 strictly, as Java's decoder
 * does, or ISO-8859-1), drops a leading BOM, and keeps two CRCs: of the raw
 * text and of the text after placeholder replacement. The text handed out
 * is always UTF-8 (after replacement when replacement is on).
 */
struct mig_reader {
	struct eng_stream *in;
	const char *name;              /* file name, for messages */
	const struct ph_values *ph;    /* NULL: no replacement */
	bool latin1;
	bool started, eof, done;
	unsigned char pend[4];         /* an incomplete UTF-8 sequence */
	size_t npend;
	uint64_t offset;               /* bytes decoded so far */
	long line;                     /* current line, for messages */
	uint32_t crc_raw, crc_repl;
	struct buf text;               /* decoded text waiting for replacement */
};

void mig_reader_init(struct mig_reader *r, struct eng_stream *in, const char *name,
		     const struct ph_values *ph, bool latin1);
/* Appends at least some text (up to about `chunk` bytes) to out; sets *eof
 * when everything has been handed out. */
enum err_code mig_reader_fill(struct mig_reader *r, struct buf *out, size_t chunk,
			      bool *eof, struct err *e);
void mig_reader_release(struct mig_reader *r);

/* Validates UTF-8 strictly (no overlongs, surrogates or > U+10FFFF).
 * Returns the length of the longest valid prefix; *incomplete is set when
 * the invalid part is only a truncated sequence at the end. */
size_t utf8_valid_prefix(const unsigned char *p, size_t n, bool *incomplete);

/* Java String.hashCode over the UTF-16 code units of UTF-8 text s. */
int32_t java_string_hash(const char *s);

#endif

/* ---- shared by resolve/migrate ------------------------------------------ */

/* Storage for the run-time placeholder values (owned by the caller, so
 * workers on different threads never share it). */
struct ph_storage {
	char timestamp[32];
	char cwd[4096];
};
/* Fills v with the context's placeholder values, pointing into st. */
void eng_ph_values_fill(struct eng_ctx *ctx, struct ph_values *v, struct ph_storage *st);
bool eng_config_latin1(const struct eng_config *c);
/* Lists and parses every file; checksums too unless !checksums (migrate
 * computes them only where it needs them: files with a history row, and
 * pending files while it reads them anyway). */
enum err_code eng_resolve_files(struct eng_ctx *ctx, bool checksums, struct eng_resolved_set *out,
				struct err *e);
/* Computes m's checksum if it has none yet. */
enum err_code eng_resolved_checksum(struct eng_ctx *ctx, struct eng_resolved *m,
				    const struct ph_values *base, struct err *e);
/* Records checksums a reader computed (raw and after placeholders). */
void eng_resolved_set_checksum(struct eng_resolved *m, const struct eng_config *cfg,
			       uint32_t raw, uint32_t replaced);
/* ${flyway:filename} of m (Flyway drops the separator with no description). */
char *eng_ph_filename(const struct eng_config *cfg, const struct eng_resolved *m);
/* Java's String.trim() on a span: every byte <= ' ' counts as space. */
void eng_trim_span(const char **s, size_t *n);
/* Parses a `<script>.conf` sidecar (executeInTransaction=true|false). */
enum err_code eng_sidecar_parse(const char *text, const char *name, int *tx_override,
				struct err *e);
