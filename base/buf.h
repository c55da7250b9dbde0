/*
 * buf — a growable byte buffer (git's strbuf contract).
 *
 * Invariants: `ptr` is never NULL and always NUL-terminated (ptr[len] == 0),
 * so a buf can be handed to any C string function; `cap` counts usable
 * bytes excluding the terminator. A buf that has never allocated points at
 * a shared empty string and must not be written through `ptr`.
 * Out of memory aborts (after the registered hook, so the console can
 * restore the terminal first).
 */
#ifndef TARMAC_BASE_BUF_H
#define TARMAC_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *ptr;
	size_t len;
	size_t cap;
};

extern char buf_empty_[1];
#define BUF_INIT { buf_empty_, 0, 0 }

void buf_init(struct buf *b);
/* Frees the storage and resets to BUF_INIT. */
void buf_release(struct buf *b);
/* Like buf_release, but zeroes the bytes first: use for secrets. */
void buf_wipe(struct buf *b);
/* Ensures room for `extra` more bytes. */
void buf_grow(struct buf *b, size_t extra);
void buf_reset(struct buf *b);
void buf_setlen(struct buf *b, size_t len);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Removes the first `n` bytes, shifting the rest down. */
void buf_consume(struct buf *b, size_t n);
/* Hands the string to the caller (who frees it) and resets b. */
char *buf_detach(struct buf *b, size_t *len);

/* Called before abort() on allocation failure; NULL by default. */
extern void (*buf_oom_hook)(void);
/* Allocation helpers that never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* strdup that keeps NULL as NULL. */
char *xstrdup_or_null(const char *s);

#endif
