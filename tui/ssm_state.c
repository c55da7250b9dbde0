/*
 * ssm_state — where a follower of an SSM command has got to: one small text
 * file per command id under $XDG_STATE_HOME/tarmac/ssm/, holding the
 * CloudWatch Logs forward token of each stream and the lines delivered.
 *
 *   tarmac ssm follow 1
 *   id 3f2c0d7e-...
 *   lines 42
 *   stdout f/00000000000000000000000000000000000000000000000000000042/s
 *   stderr -
 *
 * Invariants: a file is replaced whole (temp file in the same directory,
 * fsync, rename), so a reader sees the old position or the new one, never
 * half of either; files are 0600 in 0700 directories (tokens name the
 * command's output); a file that does not parse as exactly the lines above,
 * for exactly its own id, is refused, never partly used.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/file.h"
#include "tui/ssm_internal.h"

#define STATE_HEADER "tarmac ssm follow 1"
#define STATE_FILE_MAX 8192
#define TOKEN_MAX 2048

static const char *const stream_names[2] = { "stdout", "stderr" };

void tui_ssm_pos_release(struct tui_ssm_pos *p)
{
	for (int i = 0; i < 2; i++) {
		free(p->token[i]);
		p->token[i] = NULL;
	}
	p->lines = 0;
}

bool tui_ssm_id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n < 1 || n > 64)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

char *tui_ssm_state_dir(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct buf b = BUF_INIT;
	if (xdg && xdg[0] == '/') /* the XDG spec says to ignore relative values */
		buf_addf(&b, "%s/tarmac/ssm", xdg);
	else if (home && home[0] == '/')
		buf_addf(&b, "%s/.local/state/tarmac/ssm", home);
	if (b.len)
		return buf_detach(&b, NULL);
	buf_release(&b);
	return NULL;
}

enum err_code tui_ssm_state_save(const char *dir, const char *id, const struct tui_ssm_pos *p,
				 struct err *e)
{
	struct buf text = BUF_INIT, path = BUF_INIT;
	tui_ssm_state_format(&text, id, p);
	buf_addf(&path, "%s/%s", dir, id);
	enum err_code c = file_replace_private(path.ptr, text.ptr, text.len, e);
	buf_release(&text);
	buf_release(&path);
	return c;
}

/* The rest of the line after "key ", or NULL; advances *at past the line. */
static const char *field(char **at, const char *key)
{
	char *line = *at, *nl = strchr(line, '\n');
	size_t n = strlen(key);
	if (!nl)
		return NULL;
	*nl = '\0';
	*at = nl + 1;
	return !strncmp(line, key, n) && line[n] == ' ' ? line + n + 1 : NULL;
}

static bool token_ok(const char *t)
{
	size_t n = strlen(t);
	if (n < 1 || n > TOKEN_MAX)
		return false;
	for (; *t; t++)
		if (*t <= ' ' || *t > '~')
			return false;
	return true;
}

static bool lines_get(const char *v, unsigned long long *out)
{
	char *end;
	if (!v || *v < '0' || *v > '9')
		return false;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return !errno && !*end;
}

static bool state_fields(char *text, const char *id, struct tui_ssm_pos *p)
{
	char *at = text;
	const char *v;
	if (strncmp(at, STATE_HEADER "\n", sizeof STATE_HEADER))
		return false;
	at += sizeof STATE_HEADER;
	if (!(v = field(&at, "id")) || strcmp(v, id) || !lines_get(field(&at, "lines"), &p->lines))
		return false;
	for (int i = 0; i < 2; i++) {
		if (!(v = field(&at, stream_names[i])) || !token_ok(v))
			return false;
		p->token[i] = strcmp(v, "-") ? xstrdup(v) : NULL;
	}
	return *at == '\0';
}

enum err_code tui_ssm_state_parse(const char *name, const char *text, size_t len,
				  const char *id, struct tui_ssm_pos *p, struct err *e)
{
	enum err_code c = ERR_OK;
	memset(p, 0, sizeof *p);
	if (len > STATE_FILE_MAX)
		return err_set(e, ERR_PARSE, "%s is larger than a saved position can be", name);
	if (memchr(text, '\0', len))
		return err_set(e, ERR_PARSE, "%s holds NUL bytes", name);
	char *copy = xstrndup(text, len);
	if (!state_fields(copy, id, p)) {
		tui_ssm_pos_release(p);
		c = err_set(e, ERR_PARSE, "%s is not a saved position for %s", name, id);
	}
	free(copy);
	return c;
}

void tui_ssm_state_format(struct buf *out, const char *id, const struct tui_ssm_pos *p)
{
	buf_addf(out, STATE_HEADER "\nid %s\nlines %llu\n", id, p->lines);
	for (int i = 0; i < 2; i++)
		buf_addf(out, "%s %s\n", stream_names[i], p->token[i] ? p->token[i] : "-");
}

/* The file's first STATE_FILE_MAX + 1 bytes: enough to tell it is too long. */
static enum err_code state_read(const char *path, struct buf *text, struct err *e)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
	buf_grow(text, STATE_FILE_MAX + 1);
	size_t n = fread(text->ptr, 1, STATE_FILE_MAX + 1, f);
	enum err_code c = ferror(f) ? err_set(e, ERR_IO, "cannot read %s", path) : ERR_OK;
	fclose(f);
	buf_setlen(text, n);
	return c;
}

enum err_code tui_ssm_state_load(const char *dir, const char *id, struct tui_ssm_pos *p,
				 bool *found, struct err *e)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct stat st;
	enum err_code c = ERR_OK;
	memset(p, 0, sizeof *p);
	*found = false;
	buf_addf(&path, "%s/%s", dir, id);
	if (stat(path.ptr, &st) != 0) {
		if (errno != ENOENT)
			c = err_set(e, ERR_IO, "cannot read %s: %s", path.ptr, strerror(errno));
		goto out;
	}
	*found = true;
	long age = (long)(time(NULL) - st.st_mtime);
	if (age > TUI_SSM_STATE_MAX_AGE_S)
		c = err_set(e, ERR_PARSE, "%s was saved %ld hours ago, and CloudWatch Logs forgets "
			    "positions after 24", path.ptr, age / 3600);
	if (!c)
		c = state_read(path.ptr, &text, e);
	if (!c)
		c = tui_ssm_state_parse(path.ptr, text.ptr, text.len, id, p, e);
out:
	buf_release(&path);
	buf_release(&text);
	return c;
}

void tui_ssm_state_remove(const char *dir, const char *id)
{
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/%s", dir, id);
	unlink(path.ptr);
	buf_release(&path);
}

void tui_ssm_state_prune(const char *dir, long max_age_s)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	time_t now = time(NULL);
	if (!d)
		return;
	while ((ent = readdir(d))) {
		struct stat st;
		char id[65];
		size_t n = strcspn(ent->d_name, ".");
		/* ours only: command ids, and temp files a killed writer left */
		if (n >= sizeof id)
			continue;
		memcpy(id, ent->d_name, n);
		id[n] = '\0';
		if (!tui_ssm_id_ok(id))
			continue;
		if (!fstatat(dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
		    S_ISREG(st.st_mode) && now - st.st_mtime > max_age_s)
			unlinkat(dirfd(d), ent->d_name, 0);
	}
	closedir(d);
}
