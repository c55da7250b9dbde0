/*
 * source_dir — the filesystem migration source ("filesystem:DIR"):
 * recursive, hidden directories skipped as Flyway's scanner does, script
 * paths relative to DIR with '/' separators. Also the in-memory stream used
 * by sources that fetch whole objects (S3) and by tests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"

struct dir_source {
	struct eng_source base;
	char *dir;
};

struct fd_stream {
	struct eng_stream base;
	int fd;
	char *path;
};

void eng_source_file_free(void *p)
{
	struct eng_source_file *f = p;
	if (!f)
		return;
	free(f->name);
	free(f->script);
	free(f->etag);
	free(f);
}

void eng_source_free(struct eng_source *s)
{
	if (s)
		s->ops->free(s);
}

static enum err_code walk(const char *root, const char *rel, struct vec *files,
			  struct err *e);

static enum err_code walk_entry(const char *root, const char *rel, const struct dirent *de,
				struct vec *files, struct err *e)
{
	const char *name = de->d_name;
	struct buf sub = BUF_INIT, full = BUF_INIT;
	enum err_code c = ERR_OK;
	buf_addf(&sub, "%s%s%s", rel, *rel ? "/" : "", name);
	buf_addf(&full, "%s/%s", root, sub.ptr);
	struct stat st = { 0 };
	/* d_type spares a stat per file; links and unknown types are stat'ed. */
	if (de->d_type == DT_REG) {
		st.st_mode = S_IFREG;
		st.st_size = -1;
	} else if (de->d_type == DT_DIR) {
		st.st_mode = S_IFDIR;
	} else if (stat(full.ptr, &st) != 0) {
		c = err_set(e, ERR_IO, "cannot read %s: %s", full.ptr, strerror(errno));
	}
	if (!c && S_ISDIR(st.st_mode)) {
		if (name[0] != '.') /* hidden directories are not scanned */
			c = walk(root, sub.ptr, files, e);
	} else if (!c && S_ISREG(st.st_mode)) {
		struct eng_source_file *f = xcalloc(1, sizeof *f);
		f->name = xstrdup(name);
		f->script = xstrdup(sub.ptr);
		f->size = st.st_size;
		vec_push(files, f);
	}
	buf_release(&sub);
	buf_release(&full);
	return c;
}

static enum err_code walk(const char *root, const char *rel, struct vec *files,
			  struct err *e)
{
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s%s%s", root, *rel ? "/" : "", rel);
	DIR *d = opendir(path.ptr);
	if (!d) {
		enum err_code c = err_set(e, ERR_IO, "cannot read migrations directory %s: %s",
					  path.ptr, strerror(errno));
		buf_release(&path);
		return c;
	}
	enum err_code c = ERR_OK;
	struct dirent *de;
	while (!c && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		c = walk_entry(root, rel, de, files, e);
	}
	closedir(d);
	buf_release(&path);
	return c;
}

static enum err_code dir_list(struct eng_source *s, struct vec *files, struct err *e)
{
	struct dir_source *ds = (struct dir_source *)s;
	return walk(ds->dir, "", files, e);
}

static enum err_code fd_read(struct eng_stream *s, char *dst, size_t cap, size_t *got,
			     struct err *e)
{
	struct fd_stream *fs = (struct fd_stream *)s;
	for (;;) {
		ssize_t n = read(fs->fd, dst, cap);
		if (n >= 0) {
			*got = (size_t)n;
			return ERR_OK;
		}
		if (errno != EINTR)
			return err_set(e, ERR_IO, "cannot read %s: %s", fs->path, strerror(errno));
	}
}

static void fd_close(struct eng_stream *s)
{
	struct fd_stream *fs = (struct fd_stream *)s;
	close(fs->fd);
	free(fs->path);
	free(fs);
}

static enum err_code dir_open(struct eng_source *s, const struct eng_source_file *f,
			      struct eng_stream **out, struct err *e)
{
	struct dir_source *ds = (struct dir_source *)s;
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/%s", ds->dir, f->script);
	int fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		enum err_code c = err_set(e, ERR_IO, "cannot open %s: %s", path.ptr,
					  strerror(errno));
		buf_release(&path);
		return c;
	}
	struct fd_stream *fs = xcalloc(1, sizeof *fs);
	fs->base.read = fd_read;
	fs->base.close = fd_close;
	fs->fd = fd;
	fs->path = buf_detach(&path, NULL);
	*out = &fs->base;
	return ERR_OK;
}

static void dir_free(struct eng_source *s)
{
	struct dir_source *ds = (struct dir_source *)s;
	free(ds->dir);
	free(ds->base.location);
	free(ds);
}

static const struct eng_source_ops dir_ops = {
	.list = dir_list, .open = dir_open, .remember = NULL, .free = dir_free,
};

struct eng_source *eng_source_dir_new(const char *location, const char *dir)
{
	struct dir_source *ds = xcalloc(1, sizeof *ds);
	ds->base.ops = &dir_ops;
	ds->base.location = xstrdup(location);
	ds->dir = xstrdup(dir);
	size_t n = strlen(ds->dir);
	while (n > 1 && ds->dir[n - 1] == '/')
		ds->dir[--n] = 0;
	return &ds->base;
}

struct mem_stream {
	struct eng_stream base;
	char *data;
	size_t len, pos;
};

static enum err_code mem_read(struct eng_stream *s, char *dst, size_t cap, size_t *got,
			      struct err *e)
{
	(void)e;
	struct mem_stream *ms = (struct mem_stream *)s;
	size_t n = ms->len - ms->pos < cap ? ms->len - ms->pos : cap;
	memcpy(dst, ms->data + ms->pos, n);
	ms->pos += n;
	*got = n;
	return ERR_OK;
}

static void mem_close(struct eng_stream *s)
{
	struct mem_stream *ms = (struct mem_stream *)s;
	free(ms->data);
	free(ms);
}

struct eng_stream *eng_stream_mem_take(char *data, size_t len)
{
	struct mem_stream *ms = xcalloc(1, sizeof *ms);
	ms->base.read = mem_read;
	ms->base.close = mem_close;
	ms->data = data;
	ms->len = len;
	return &ms->base;
}

enum err_code eng_stream_slurp(struct eng_stream *s, struct buf *out, size_t cap,
			       struct err *e)
{
	for (;;) {
		buf_grow(out, (size_t)64 * 1024);
		size_t got = 0;
		enum err_code c = s->read(s, out->ptr + out->len, out->cap - out->len, &got, e);
		if (c)
			return c;
		if (!got)
			return ERR_OK;
		buf_setlen(out, out->len + got);
		if (out->len > cap)
			return err_set(e, ERR_TOO_LARGE, "file is larger than %zu bytes", cap);
	}
}
