/* err — error filling helpers; messages are truncated, never overflowed. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	if (!e)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	e->code = code;
	return code;
}

void err_prefix(struct err *e, const char *fmt, ...)
{
	if (!e)
		return;
	char head[256], old[sizeof e->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	size_t n = strlen(head);
	if (n + 2 >= sizeof e->msg)
		n = sizeof e->msg - 3;
	memcpy(e->msg, head, n);
	memcpy(e->msg + n, ": ", 2);
	size_t room = sizeof e->msg - n - 3;
	size_t ol = strlen(old);
	if (ol > room)
		ol = room;
	memcpy(e->msg + n + 2, old, ol);
	e->msg[n + 2 + ol] = 0;
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->code = ERR_OK;
	e->msg[0] = 0;
}

const char *err_code_name(enum err_code code)
{
	static const char *const names[] = {
		[ERR_OK] = "ok", [ERR_IO] = "io", [ERR_PARSE] = "parse",
		[ERR_NET] = "network", [ERR_HTTP] = "http", [ERR_AUTH] = "auth",
		[ERR_DB] = "database", [ERR_CHECKSUM] = "checksum",
		[ERR_VALIDATE] = "validate", [ERR_LOCKED] = "locked",
		[ERR_TOO_LARGE] = "too large", [ERR_CANCELLED] = "cancelled",
		[ERR_READ_ONLY] = "read-only", [ERR_USAGE] = "usage",
	};
	if ((unsigned)code < sizeof names / sizeof names[0] && names[code])
		return names[code];
	return "error";
}
