/*
 * err — the one error type every fallible function reports through.
 *
 * Fallible functions return `enum err_code` and take `struct err *e` last;
 * on failure they fill `e` with a message that says what failed, on what,
 * and what to do. `e` may be NULL when the caller does not want the text.
 * engine/ and aws/ never print: tui/ decides how an error is shown.
 */
#ifndef TARMAC_BASE_ERR_H
#define TARMAC_BASE_ERR_H

enum err_code {
	ERR_OK,
	ERR_IO,
	ERR_PARSE,
	ERR_NET,
	ERR_HTTP,
	ERR_AUTH,
	ERR_DB,
	ERR_CHECKSUM,
	ERR_VALIDATE,
	ERR_LOCKED,
	ERR_TOO_LARGE,
	ERR_CANCELLED,
	ERR_READ_ONLY,
	ERR_USAGE,
};

struct err {
	enum err_code code;
	char msg[512];
};

#define ERR_INIT { ERR_OK, { 0 } }

/* Fills e (when not NULL) and returns code, for `return err_set(...)`. */
enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Puts "prefix: " in front of the message already in e. */
void err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);
/* A short stable name for a code ("database", "parse", ...). */
const char *err_code_name(enum err_code code);

#endif
