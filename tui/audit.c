/*
 * audit — appends one JSON line per event to the audit log (see audit.h).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/file.h"
#include "tui/audit.h"

static void audit_path(struct buf *out)
{
	const char *p = getenv("TARMAC_AUDIT_LOG"), *state = getenv("XDG_STATE_HOME");
	if (p && *p) {
		buf_adds(out, p);
		return;
	}
	if (state && *state) {
		buf_addf(out, "%s/tarmac", state);
	} else {
		const char *home = getenv("HOME");
		buf_addf(out, "%s/.local/state/tarmac", home && *home ? home : ".");
	}
	buf_adds(out, "/audit.log");
	file_make_parents(out->ptr, NULL); /* open() below says it if this failed */
}

/* $USER, else the account's name; getpwuid_r because workers call this. */
static const char *user_name(char *buf, size_t n)
{
	const char *u = getenv("USER");
	if (u && *u)
		return u;
	struct passwd pw, *found = NULL;
	if (getpwuid_r(getuid(), &pw, buf, n, &found) || !found)
		return "unknown";
	return found->pw_name;
}

enum err_code tui_audit_write(const char *action, const char *database, const char *event,
			      const char *detail, struct err *e)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "time", when);
	char pwbuf[1024];
	cJSON_AddStringToObject(o, "user", user_name(pwbuf, sizeof pwbuf));
	cJSON_AddStringToObject(o, "action", action);
	cJSON_AddStringToObject(o, "database", database ? database : "");
	cJSON_AddStringToObject(o, "event", event);
	if (detail)
		cJSON_AddStringToObject(o, "detail", detail);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return err_set(e, ERR_IO, "cannot format an audit record (out of memory)");
	struct buf line = BUF_INIT, path = BUF_INIT;
	buf_addf(&line, "%s\n", text);
	free(text);
	audit_path(&path);
	enum err_code c = ERR_OK;
	int fd = open(path.ptr, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line.ptr, line.len) != (ssize_t)line.len)
		c = err_set(e, ERR_IO, "cannot write the audit log %s: %s", path.ptr, strerror(errno));
	if (fd >= 0)
		close(fd);
	buf_release(&line);
	buf_release(&path);
	return c;
}
