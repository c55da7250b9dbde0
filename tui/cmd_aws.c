/*
 * cmd_aws — `tarmac buckets` and `tarmac push`: what S3 holds for each
 * configured database, and uploading the local migrations a bucket lacks
 * (never overwriting an object whose content differs unless --force).
 */
#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "tui/cli.h"

const char *cli_bucket_database(const struct tui_conf *conf, const char *bucket)
{
	size_t n = strlen(bucket);
	for (size_t i = 0; i < conf->databases.len; i++) {
		const struct tui_db_conf *d = conf->databases.items[i];
		for (size_t k = 0; k < d->eng.locations.len; k++) {
			const char *l = d->eng.locations.items[k];
			if (!strncasecmp(l, "s3:", 3) && !strncmp(l + 3, bucket, n) &&
			    (l[3 + n] == 0 || l[3 + n] == '/'))
				return d->name;
		}
	}
	return NULL;
}

bool cli_key_is_migration(const char *key)
{
	const char *name = strrchr(key, '/') ? strrchr(key, '/') + 1 : key;
	struct eng_naming nm = { "V", "R", "B", "__", (const char *const[]){ ".sql" }, 1 };
	struct eng_name parsed;
	enum eng_name_result r = eng_name_parse(name, &nm, &parsed, NULL);
	if (r == ENG_NAME_OK)
		eng_name_release(&parsed);
	return r == ENG_NAME_OK;
}

static void bucket_row(struct aws_ctx *aws, const struct tui_conf *conf, const char *bucket)
{
	struct vec objs = VEC_INIT;
	struct err e = ERR_INIT;
	size_t migrations = 0;
	const char *db = cli_bucket_database(conf, bucket);
	if (aws_s3_list_objects(aws, bucket, "", &objs, &e)) {
		printf("%-40s %-16s %s\n", bucket, db ? db : "-", e.msg);
		return;
	}
	for (size_t i = 0; i < objs.len; i++)
		migrations += cli_key_is_migration(((struct aws_s3_object *)objs.items[i])->key);
	printf("%-40s %-16s %8zu %10zu%s\n", bucket, db ? db : "-", objs.len, migrations,
	       !db && migrations ? "  (migration bucket of no configured database)" : "");
	vec_release(&objs, aws_s3_object_free);
}

int cmd_buckets(struct cli_opts *o)
{
	struct cli_env env;
	struct err e = ERR_INIT;
	struct aws_ctx *aws = NULL;
	struct vec buckets = VEC_INIT;
	memset(&env, 0, sizeof env);
	tui_conf_init(&env.conf);
	enum err_code c = tui_conf_load(&env.conf, o->config_path, &e);
	if (!c)
		c = cli_env_aws(&env, &aws, &e);
	if (!c)
		c = aws_s3_list_buckets(aws, &buckets, &e);
	if (!c) {
		printf("%-40s %-16s %8s %10s\n", "BUCKET", "DATABASE", "OBJECTS", "MIGRATIONS");
		for (size_t i = 0; i < buckets.len; i++)
			bucket_row(aws, &env.conf, ((struct aws_s3_bucket *)buckets.items[i])->name);
	}
	vec_release(&buckets, aws_s3_bucket_free);
	aws_ctx_free(env.aws);
	tui_conf_release(&env.conf);
	return c ? cli_fail(&e) : EXIT_OK;
}

/* ---- push --------------------------------------------------------------- */

struct push {
	struct aws_ctx *aws;
	const char *bucket, *prefix;   /* prefix "" or ending in '/' */
	bool dry_run, force;
	size_t uploaded, same, refused;
};

static void md5_hex(const struct buf *data, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(data->ptr, data->len, md, &n, EVP_md5(), NULL);
	for (unsigned int i = 0; i < n && i < 16; i++)
		snprintf(out + (size_t)2 * i, 3, "%02x", md[i]);
}

/* Is the object's content the file's? By ETag when it is a plain MD5,
 * else by fetching the object. */
static enum err_code same_content(struct push *p, const char *key, const char *etag,
				  const struct buf *data, bool *same, struct err *e)
{
	char md5[33] = "";
	md5_hex(data, md5);
	if (etag && !strchr(etag, '-')) {
		const char *t = etag[0] == '"' ? etag + 1 : etag;
		*same = !strncasecmp(t, md5, 32);
		return ERR_OK;
	}
	struct buf body = BUF_INIT;
	enum err_code c = aws_s3_get_object(p->aws, p->bucket, key, data->len + 1, &body, NULL, e);
	if (c == ERR_TOO_LARGE) {
		*same = false;
		c = ERR_OK;
	} else if (!c) {
		*same = body.len == data->len && !memcmp(body.ptr, data->ptr, data->len);
	}
	buf_release(&body);
	return c;
}

static enum err_code push_file(struct push *p, const char *path, const char *rel, struct err *e)
{
	struct buf data = BUF_INIT, key = BUF_INIT;
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(e, ERR_IO, "cannot read %s", path);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&data, chunk, n);
	fclose(f);
	buf_addf(&key, "%s%s", p->prefix, rel);
	bool exists = false, same = false;
	char *etag = NULL;
	enum err_code c = aws_s3_head_object(p->aws, p->bucket, key.ptr, &exists, &etag, NULL, e);
	if (!c && exists)
		c = same_content(p, key.ptr, etag, &data, &same, e);
	if (!c && exists && same) {
		p->same++;
	} else if (!c && exists && !p->force) {
		printf("refused   s3://%s/%s: the bucket's object differs from %s (use --force to overwrite)\n",
		       p->bucket, key.ptr, path);
		p->refused++;
	} else if (!c) {
		printf("%s s3://%s/%s\n", p->dry_run ? "would put" : "put      ", p->bucket, key.ptr);
		if (!p->dry_run)
			c = aws_s3_put_object(p->aws, p->bucket, key.ptr, data.ptr, data.len, NULL, e);
		p->uploaded += !c;
	}
	free(etag);
	buf_release(&data);
	buf_release(&key);
	return c;
}

static enum err_code push_dir(struct push *p, const char *root, const char *rel, struct err *e)
{
	struct buf dir = BUF_INIT;
	buf_addf(&dir, "%s%s%s", root, *rel ? "/" : "", rel);
	DIR *d = opendir(dir.ptr);
	enum err_code c = d ? ERR_OK : err_set(e, ERR_IO, "cannot read directory %s", dir.ptr);
	struct dirent *de;
	while (!c && d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue; /* hidden files and directories are not migrations */
		struct buf path = BUF_INIT, sub = BUF_INIT;
		buf_addf(&path, "%s/%s", dir.ptr, de->d_name);
		buf_addf(&sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		struct stat st;
		if (stat(path.ptr, &st) == 0 && S_ISDIR(st.st_mode))
			c = push_dir(p, root, sub.ptr, e);
		else if (stat(path.ptr, &st) == 0 && S_ISREG(st.st_mode))
			c = push_file(p, path.ptr, sub.ptr, e);
		buf_release(&path);
		buf_release(&sub);
	}
	if (d)
		closedir(d);
	buf_release(&dir);
	return c;
}

static const char *first_s3_location(const struct eng_config *cfg)
{
	for (size_t i = 0; i < cfg->locations.len; i++)
		if (!strncasecmp(cfg->locations.items[i], "s3:", 3))
			return (const char *)cfg->locations.items[i] + 3;
	return NULL;
}

int cmd_push(struct cli_opts *o)
{
	struct cli_env env;
	struct err e = ERR_INIT;
	struct push p = { .dry_run = o->dry_run != NULL, .force = o->force };
	char *bucket = NULL;
	enum err_code c = cli_env_open(&env, o, false, &e);
	const char *loc = c ? NULL : first_s3_location(env.cfg);
	if (!c && !loc)
		c = err_set(&e, ERR_USAGE, "%s has no s3: location to push to", env.name);
	if (!c && loc) {
		const char *slash = strchr(loc, '/');
		bucket = xstrndup(loc, slash ? (size_t)(slash - loc) : strlen(loc));
		struct buf prefix = BUF_INIT;
		if (slash && slash[1])
			buf_addf(&prefix, "%s%s", slash + 1, slash[strlen(slash) - 1] == '/' ? "" : "/");
		p.prefix = buf_detach(&prefix, NULL);
		p.bucket = bucket;
		c = cli_env_aws(&env, &p.aws, &e);
	}
	struct buf from = BUF_INIT;
	if (!c) {
		buf_addf(&from, "%s", o->from ? o->from : "");
		if (!o->from)
			buf_addf(&from, "migrations/%s", env.name);
		c = push_dir(&p, from.ptr, "", &e);
	}
	if (!c)
		printf("%s: %zu %s, %zu already there, %zu refused\n", env.name, p.uploaded,
		       p.dry_run ? "to upload" : "uploaded", p.same, p.refused);
	buf_release(&from);
	free((void *)(uintptr_t)p.prefix);
	free(bucket);
	cli_env_close(&env);
	if (c)
		return cli_fail(&e);
	return p.refused ? EXIT_FAILED : EXIT_OK;
}
