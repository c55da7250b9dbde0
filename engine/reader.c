/*
 * reader — turns a source stream into checked UTF-8 text in chunks while
 * keeping Flyway's two checksums (raw, and after placeholders). Bounded
 * memory: it holds one chunk plus, at most, an unfinished placeholder.
 * Invalid UTF-8 is an error that names the file and where (Flyway refuses
 * such files too; replacing bytes would change the checksum silently).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define READ_CHUNK ((size_t)64 * 1024) /* below malloc's mmap threshold: reused, not mapped per file */

void mig_reader_init(struct mig_reader *r, struct eng_stream *in, const char *name,
		     const struct ph_values *ph, bool latin1)
{
	memset(r, 0, sizeof *r);
	r->in = in;
	r->name = name;
	r->ph = ph;
	r->latin1 = latin1;
	r->line = 1;
	buf_init(&r->text);
}

void mig_reader_release(struct mig_reader *r)
{
	buf_release(&r->text);
}

static void count_lines(struct mig_reader *r, const char *p, size_t n)
{
	for (const char *q = p; (q = memchr(q, '\n', n - (size_t)(q - p))); q++)
		r->line++;
}

static enum err_code bad_utf8(struct mig_reader *r, size_t at, struct err *e)
{
	return err_set(e, ERR_CHECKSUM,
		       "Unable to calculate checksum of %s: invalid UTF-8 at line %ld (byte %llu). "
		       "Please ensure you have configured the correct file encoding with "
		       "'flyway.encoding'",
		       r->name, r->line, (unsigned long long)r->offset + at);
}

/* Appends the decoded form of raw bytes to dst (Latin-1 → UTF-8, or UTF-8
 * checked, with an unfinished sequence kept for the next call). */
static enum err_code decode(struct mig_reader *r, const char *raw, size_t n, bool eof,
			    struct buf *dst, struct err *e)
{
	if (r->latin1) {
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)raw[i];
			if (c < 0x80) {
				buf_addc(dst, (char)c);
			} else {
				buf_addc(dst, (char)(0xC0 | (c >> 6)));
				buf_addc(dst, (char)(0x80 | (c & 0x3F)));
			}
		}
		return ERR_OK;
	}
	size_t base = dst->len;
	buf_add(dst, r->pend, r->npend);
	buf_add(dst, raw, n);
	size_t avail = dst->len - base, pend_was = r->npend;
	bool incomplete;
	size_t ok = utf8_valid_prefix((unsigned char *)dst->ptr + base, avail, &incomplete);
	r->npend = 0;
	if (ok < avail) {
		if (!incomplete || eof || avail - ok > 3) {
			count_lines(r, dst->ptr + base, ok);
			return bad_utf8(r, ok - pend_was, e);
		}
		r->npend = avail - ok;
		memcpy(r->pend, dst->ptr + base + ok, r->npend);
		buf_setlen(dst, base + ok);
	}
	return ERR_OK;
}

/* Drops a BOM at the very start of the text (Flyway's BomFilter). */
static void drop_bom(struct mig_reader *r, struct buf *t, size_t from)
{
	if (r->started || t->len == from)
		return;
	r->started = true;
	if (t->len - from >= 3 && memcmp(t->ptr + from, "\xEF\xBB\xBF", 3) == 0) {
		memmove(t->ptr + from, t->ptr + from + 3, t->len - from - 3);
		buf_setlen(t, t->len - 3);
	}
}

static enum err_code read_some(struct mig_reader *r, size_t chunk, struct err *e)
{
	char *raw = xmalloc(chunk);
	size_t got = 0;
	enum err_code c = r->in->read(r->in, raw, chunk, &got, e);
	if (!c) {
		r->eof = got == 0;
		size_t from = r->text.len;
		c = decode(r, raw, got, r->eof, &r->text, e);
		if (!c)
			drop_bom(r, &r->text, from);
		if (!c) {
			count_lines(r, r->text.ptr + from, r->text.len - from);
			r->crc_raw = ck_update(r->crc_raw, r->text.ptr + from, r->text.len - from);
		}
		r->offset += got;
	}
	free(raw);
	return c;
}

enum err_code mig_reader_fill(struct mig_reader *r, struct buf *out, size_t chunk,
			      bool *eof, struct err *e)
{
	*eof = false;
	if (r->done) {
		*eof = true;
		return ERR_OK;
	}
	if (!chunk)
		chunk = READ_CHUNK;
	size_t before = out->len;
	while (out->len == before && !r->done) {
		enum err_code c = r->eof ? ERR_OK : read_some(r, chunk, e);
		if (c)
			return c;
		size_t used = r->text.len;
		if (r->ph) {
			c = ph_replace(r->ph, (struct ph_input){ r->text.ptr, r->text.len, r->eof }, out, &used, e);
			if (c) {
				err_prefix(e, "%s", r->name);
				return c;
			}
		} else {
			buf_add(out, r->text.ptr, r->text.len);
		}
		buf_consume(&r->text, used);
		r->crc_repl = ck_update(r->crc_repl, out->ptr + before, out->len - before);
		if (r->eof && !r->text.len)
			r->done = true;
	}
	*eof = r->done;
	return ERR_OK;
}
