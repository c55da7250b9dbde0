/*
 * file — see file.h. Whole-file replacement is write-to-temporary, fsync,
 * rename: a reader (or a crash) sees the old content or the new, never a mix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/file.h"

enum err_code file_make_parents(const char *path, struct err *e)
{
	char *dir = xstrdup(path);
	enum err_code c = ERR_OK;
	for (char *p = strchr(dir + 1, '/'); p && !c; p = strchr(p + 1, '/')) {
		*p = 0;
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			c = err_set(e, ERR_IO, "cannot create %s: %s", dir, strerror(errno));
		*p = '/';
	}
	free(dir);
	return c;
}

/* Writes all of data (EINTR retried) and fsyncs it. */
static enum err_code write_synced(int fd, const char *data, size_t len, const char *path,
				  struct err *e)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, ERR_IO, "cannot write %s: %s", path, strerror(errno));
		done += (size_t)n;
	}
	if (fsync(fd) != 0)
		return err_set(e, ERR_IO, "cannot write %s: %s", path, strerror(errno));
	return ERR_OK;
}

enum err_code file_replace_private(const char *path, const void *data, size_t len,
				   struct err *e)
{
	struct buf tmp = BUF_INIT;
	buf_addf(&tmp, "%s.XXXXXX", path);
	enum err_code c = file_make_parents(path, e);
	int fd = c ? -1 : mkstemp(tmp.ptr);
	if (!c && fd < 0)
		c = err_set(e, ERR_IO, "cannot create %s: %s", tmp.ptr, strerror(errno));
	if (!c && fchmod(fd, 0600) != 0)
		c = err_set(e, ERR_IO, "cannot chmod %s: %s", tmp.ptr, strerror(errno));
	if (!c)
		c = write_synced(fd, data, len, tmp.ptr, e);
	if (fd >= 0 && close(fd) != 0 && !c)
		c = err_set(e, ERR_IO, "cannot write %s: %s", tmp.ptr, strerror(errno));
	if (!c && rename(tmp.ptr, path) != 0)
		c = err_set(e, ERR_IO, "cannot replace %s: %s", path, strerror(errno));
	if (c && fd >= 0)
		unlink(tmp.ptr);
	buf_release(&tmp);
	return c;
}
