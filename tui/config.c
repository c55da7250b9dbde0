/*
 * config — tarmac.conf, read with libinih.
 *
 * inih splits `key = value` lines and skips comments. It is fed one line at
 * a time by this file's reader, which does what inih, as distributions
 * build it, does not do the way tarmac needs:
 *  - it strips leading whitespace, so indented keys (git-config style) are
 *    never taken for inih's multi-line continuations;
 *  - it cuts ` ;` comments itself, so they work however inih was built (a
 *    value cannot contain a ';' that follows a space or tab);
 *  - it parses [section] headers itself: inih truncates long section names
 *    silently and never reports a section that has no keys;
 *  - it hands inih only the key of a line longer than inih's line buffer
 *    and keeps the value aside, so a long ssm command is not truncated;
 *  - it counts lines, so every error names FILE:LINE.
 *
 * A database section's keys are checked as they are read but applied at the
 * end: its flyway_conf first, then the section's own keys in file order, so
 * the section overrides the import wherever the key is written.
 * Values are wiped after use: any of them may be a password.
 */
#include "tui/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"

#define CONF_MAX ((size_t)1 << 20)

enum section { SEC_NONE, SEC_AWS, SEC_CONSOLE, SEC_SSM, SEC_DATABASE };

static const char *const section_names[] = {
	[SEC_NONE] = "", [SEC_AWS] = "aws", [SEC_CONSOLE] = "console",
	[SEC_SSM] = "ssm", [SEC_DATABASE] = "database",
};

enum key_type {
	CK_STRING,
	CK_BOOL,
	CK_INT,
	CK_LIST,          /* comma-separated */
	CK_PLACEHOLDER,   /* the name is a prefix: placeholder.NAME */
	CK_PATH,          /* a file, relative to tarmac.conf's directory */
};

struct conf_key {
	enum section section;
	enum key_type type;
	const char *name;
	const char *def;      /* applied by init; NULL: unset (or Flyway's default) */
	const char *flyway;   /* the Flyway setting this key sets, or NULL */
	size_t off;           /* else the field in tui_conf / tui_db_conf */
	const char *help;
};

#define C(f) offsetof(struct tui_conf, f)
#define D(f) offsetof(struct tui_db_conf, f)

static const struct conf_key keys[] = {
	{ SEC_AWS, CK_STRING, "profile", NULL, NULL, C(aws_profile), "AWS profile; unset: the standard credential chain" },
	{ SEC_AWS, CK_STRING, "region", NULL, NULL, C(aws_region), "AWS region; unset: the profile's" },
	{ SEC_CONSOLE, CK_STRING, "theme", "default", NULL, C(theme), "colour theme" },
	{ SEC_CONSOLE, CK_BOOL, "read_only", "false", NULL, C(read_only), "refuse every write, on every database" },
	{ SEC_SSM, CK_STRING, "target", NULL, NULL, C(ssm_target), "instance id, or tag:KEY=VALUE, of the Flyway host" },
	{ SEC_SSM, CK_STRING, "document", "AWS-RunShellScript", NULL, C(ssm_document), "SSM document that runs the command" },
	{ SEC_SSM, CK_STRING, "log_group", NULL, NULL, C(ssm_log_group), "CloudWatch log group for the command's output" },
	{ SEC_SSM, CK_STRING, "command", NULL, NULL, C(ssm_command), "shell command; {bucket} {prefix} {database} {action} are filled in" },
	{ SEC_DATABASE, CK_STRING, "url", NULL, "url", 0, "database URL (required here, in flyway_conf, or from the secret)" },
	{ SEC_DATABASE, CK_STRING, "user", NULL, "user", 0, "database user" },
	{ SEC_DATABASE, CK_STRING, "password", NULL, "password", 0, "database password; prefer secret or iam_auth" },
	{ SEC_DATABASE, CK_STRING, "secret", NULL, NULL, D(secret), "Secrets Manager ARN holding the password" },
	{ SEC_DATABASE, CK_BOOL, "iam_auth", "false", NULL, D(iam_auth), "connect with an RDS IAM auth token" },
	{ SEC_DATABASE, CK_PATH, "flyway_conf", NULL, NULL, D(flyway_conf), "flyway.conf to import; this section's keys override it" },
	{ SEC_DATABASE, CK_LIST, "locations", NULL, "locations", 0, "migration locations: filesystem:DIR, s3:BUCKET/PREFIX" },
	{ SEC_DATABASE, CK_STRING, "table", NULL, "table", 0, "schema history table" },
	{ SEC_DATABASE, CK_LIST, "schemas", NULL, "schemas", 0, "managed schemas" },
	{ SEC_DATABASE, CK_STRING, "default_schema", NULL, "defaultSchema", 0, "schema of the history table" },
	{ SEC_DATABASE, CK_PLACEHOLDER, "placeholder.", NULL, NULL, 0, "value of ${NAME} (NAME is lower-cased)" },
	{ SEC_DATABASE, CK_STRING, "baseline_version", NULL, "baselineVersion", 0, "version baseline records" },
	{ SEC_DATABASE, CK_STRING, "baseline_description", NULL, "baselineDescription", 0, "description baseline records" },
	{ SEC_DATABASE, CK_BOOL, "baseline_on_migrate", NULL, "baselineOnMigrate", 0, "baseline a schema without history on migrate" },
	{ SEC_DATABASE, CK_STRING, "environment", NULL, "environment", 0, "environment name; prod asks for typed confirmation" },
	{ SEC_DATABASE, CK_BOOL, "read_only", "false", NULL, D(eng.read_only), "refuse every write on this database" },
	{ SEC_DATABASE, CK_STRING, "installed_by", NULL, "installedBy", 0, "installed_by recorded in history" },
	{ SEC_DATABASE, CK_STRING, "target", NULL, "target", 0, "migrate up to this version" },
	{ SEC_DATABASE, CK_BOOL, "out_of_order", NULL, "outOfOrder", 0, "apply migrations older than the latest applied" },
	{ SEC_DATABASE, CK_BOOL, "validate_on_migrate", NULL, "validateOnMigrate", 0, "validate before migrating" },
	{ SEC_DATABASE, CK_LIST, "ignore_migration_patterns", NULL, "ignoreMigrationPatterns", 0, "type:state patterns validate ignores" },
	{ SEC_DATABASE, CK_INT, "lock_retry_count", NULL, "lockRetryCount", 0, "attempts to take the lock; -1: forever" },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A database section's key, kept until the whole file has been read. */
struct pending {
	const struct conf_key *key;
	char *name;               /* as written: placeholder.NAME */
	char *value;              /* wiped: may be a password */
	int line;
};

struct db_state {
	struct tui_db_conf *db;
	int line;                 /* of its [database "NAME"] header */
	struct vec pending;       /* struct pending*, in file order */
};

struct parse {
	struct tui_conf *c;
	const char *name;         /* the file, for messages */
	const char *text;
	size_t pos;
	int line;                 /* the line inih is processing */
	enum section section;
	struct db_state *db;      /* the open database section, or NULL */
	struct vec dbs;           /* struct db_state*, as c->databases */
	const char *long_value;   /* this line's value when inih got only its key */
	struct buf long_buf;
	struct err err;
	int err_line;
};

__attribute__((format(printf, 2, 3)))
static enum err_code fail(struct parse *p, const char *fmt, ...)
{
	char msg[sizeof p->err.msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->err_line = p->line;
	return err_set(&p->err, ERR_PARSE, "%s:%d: %s", p->name, p->line, msg);
}

static enum err_code check_int(const char *key, const char *value, struct err *e)
{
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (!*value || isspace((unsigned char)*value) || *end || errno || v < INT_MIN ||
	    v > INT_MAX)
		return err_set(e, ERR_PARSE, "invalid integer '%s' for %s: use a whole number",
			       value, key);
	return ERR_OK;
}

static void free_secret(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* Sets a key stored in tarmac's own structs; empty means the default. */
static enum err_code set_plain(const struct conf_key *k, void *base, const char *value,
			       struct err *e)
{
	void *field = (char *)base + k->off;
	if (k->type == CK_BOOL)
		return eng_config_parse_bool(k->name, value, field, e);
	char **s = field;
	free(*s);
	*s = xstrdup_or_null(*value ? value : k->def);
	return ERR_OK;
}

static void set_defaults(enum section sec, void *base)
{
	for (size_t i = 0; i < COUNT(keys); i++)
		if (keys[i].section == sec && keys[i].def && !keys[i].flyway)
			set_plain(&keys[i], base, keys[i].def, NULL);
}

static const struct conf_key *find_key(enum section sec, const char *name)
{
	for (size_t i = 0; i < COUNT(keys); i++) {
		const struct conf_key *k = &keys[i];
		size_t n = strlen(k->name);
		if (k->section != sec)
			continue;
		if (k->type == CK_PLACEHOLDER ? !strncasecmp(name, k->name, n)
					      : !strcasecmp(name, k->name))
			return k;
	}
	return NULL;
}

/* ---- sections ------------------------------------------------------------ */

static bool valid_db_name(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static void free_db(void *v)
{
	struct tui_db_conf *db = v;
	free(db->name);
	eng_config_release(&db->eng);
	free(db->secret);
	free(db->flyway_conf);
	free(db);
}

static enum err_code open_database(struct parse *p, const char *s, size_t n)
{
	if (!n)
		return fail(p, "[database] needs a name: write [database \"NAME\"]");
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return fail(p, "quote the database name: write [database \"NAME\"]");
	const char *name = s + 1;
	size_t len = n - 2;
	if (!valid_db_name(name, len))
		return fail(p, "invalid database name \"%.*s\": use letters, digits, '_', '.' and '-'",
			    (int)len, name);
	for (size_t i = 0; i < p->dbs.len; i++) {
		struct db_state *ds = p->dbs.items[i];
		if (strlen(ds->db->name) == len && !memcmp(ds->db->name, name, len))
			return fail(p, "database \"%s\" is already defined at line %d",
				    ds->db->name, ds->line);
	}
	struct db_state *ds = xcalloc(1, sizeof *ds);
	ds->db = xcalloc(1, sizeof *ds->db);
	ds->db->name = xstrndup(name, len);
	eng_config_init(&ds->db->eng);
	set_defaults(SEC_DATABASE, ds->db);
	ds->line = p->line;
	vec_push(&p->c->databases, ds->db);
	vec_push(&p->dbs, ds);
	p->section = SEC_DATABASE;
	p->db = ds;
	return ERR_OK;
}

static enum section section_named(const char *s, size_t n)
{
	for (int i = SEC_AWS; i <= SEC_DATABASE; i++)
		if (strlen(section_names[i]) == n && !strncasecmp(s, section_names[i], n))
			return (enum section)i;
	return SEC_NONE;
}

/* A header line: `[aws]`, `[ssm]`, `[console]` or `[database "NAME"]`. */
static enum err_code open_section(struct parse *p, const char *s, size_t n)
{
	const char *close = memchr(s, ']', n);
	if (!close)
		return fail(p, "missing ']' at the end of the section header");
	if (close != s + n - 1)
		return fail(p, "unexpected text after ']'");
	const char *in = s + 1;
	size_t len = (size_t)(close - in), w = 0;
	while (len && isspace((unsigned char)*in))
		in++, len--;
	while (len && isspace((unsigned char)in[len - 1]))
		len--;
	while (w < len && !isspace((unsigned char)in[w]) && in[w] != '"')
		w++;
	const char *rest = in + w;
	size_t rn = len - w;
	while (rn && isspace((unsigned char)*rest))
		rest++, rn--;
	enum section sec = section_named(in, w);
	if (sec == SEC_DATABASE)
		return open_database(p, rest, rn);
	if (sec == SEC_NONE || rn)
		return fail(p, "unknown section [%.*s]: use [aws], [console], [ssm] or "
			    "[database \"NAME\"]", (int)len, in);
	p->section = sec;
	p->db = NULL;
	return ERR_OK;
}

/* ---- the reader inih pulls lines from ------------------------------------ */

static char *hand(char *str, const char *s, size_t n)
{
	memcpy(str, s, n);
	str[n] = '\n';
	str[n + 1] = 0;
	return str;
}

/* Leading and trailing space off, a ` ;` comment cut. */
static void clean_line(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s))
		(*s)++, (*n)--;
	for (size_t i = 1; i < *n; i++)
		if ((*s)[i] == ';' && isblank((unsigned char)(*s)[i - 1])) {
			*n = i;
			break;
		}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* A line too long for inih's buffer: inih gets `key=`, the value waits. */
static char *hand_long(struct parse *p, char *str, int num, const char *s, size_t n)
{
	size_t k = 0;
	while (k < n && s[k] != '=' && s[k] != ':')
		k++;
	if (k == n) {
		fail(p, "expected 'key = value'");
		return NULL;
	}
	if (k + 3 > (size_t)num) {
		fail(p, "key too long");
		return NULL;
	}
	const char *v = s + k + 1;
	size_t vn = n - k - 1;
	while (vn && isspace((unsigned char)*v))
		v++, vn--;
	buf_reset(&p->long_buf);
	buf_add(&p->long_buf, v, vn);
	p->long_value = p->long_buf.ptr;
	return hand(str, s, k + 1);
}

static char *read_line(char *str, int num, void *stream)
{
	struct parse *p = stream;
	if (p->err.code || !p->text[p->pos] || num < 4)
		return NULL;
	const char *s = p->text + p->pos;
	size_t n = strcspn(s, "\n");
	p->pos += n + (s[n] == '\n');
	p->line++;
	p->long_value = NULL;
	if (p->line == 1 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		s += 3, n -= 3;
	clean_line(&s, &n);
	if (n && s[0] == '[')
		return open_section(p, s, n) ? NULL : hand(str, "[]", 2);
	if (!n || s[0] == '#' || s[0] == ';')
		return hand(str, "", 0);
	if (n + 2 <= (size_t)num)
		return hand(str, s, n);
	return hand_long(p, str, num, s, n);
}

/* ---- keys ---------------------------------------------------------------- */

/* Checks a database key's value now, so the error has its line. */
static enum err_code check_value(const struct conf_key *k, const char *name,
				 const char *value, struct err *e)
{
	bool b;
	switch (k->type) {
	case CK_BOOL:
		return eng_config_parse_bool(name, value, &b, e);
	case CK_INT:
		return check_int(name, value, e);
	case CK_PLACEHOLDER:
		if (!name[strlen(k->name)])
			return err_set(e, ERR_PARSE, "placeholder name missing: write "
				       "placeholder.NAME = VALUE");
		return ERR_OK;
	case CK_PATH:
		if (!*value)
			return err_set(e, ERR_PARSE, "%s needs a file name", name);
		return ERR_OK;
	case CK_STRING:
	case CK_LIST:
		return ERR_OK;
	}
	return ERR_OK;
}

static enum err_code defer(struct parse *p, const struct conf_key *k, const char *name,
			   const char *value)
{
	struct err tmp = ERR_INIT;
	if (check_value(k, name, value, &tmp))
		return fail(p, "%s", tmp.msg);
	struct pending *pd = xcalloc(1, sizeof *pd);
	pd->key = k;
	pd->name = xstrdup(name);
	pd->value = xstrdup(value);
	pd->line = p->line;
	vec_push(&p->db->pending, pd);
	return ERR_OK;
}

static enum err_code take_key(struct parse *p, const char *name, const char *value)
{
	if (p->section == SEC_NONE)
		return fail(p, "'%s' is outside any section: put it under [aws], [console], "
			    "[ssm] or [database \"NAME\"]", name);
	const struct conf_key *k = find_key(p->section, name);
	if (!k && p->db)
		return fail(p, "unknown key '%s' in [database \"%s\"]", name, p->db->db->name);
	if (!k)
		return fail(p, "unknown key '%s' in [%s]", name, section_names[p->section]);
	if (p->db)
		return defer(p, k, name, value);
	struct err tmp = ERR_INIT;
	if (set_plain(k, p->c, value, &tmp))
		return fail(p, "%s", tmp.msg);
	return ERR_OK;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	(void)section; /* the reader tracks sections: inih truncates long ones */
	if (p->err.code)
		return 0;
	if (p->long_value)
		value = p->long_value;
	if (!value)
		return !fail(p, "expected 'key = value'");
	return take_key(p, name, value) == ERR_OK;
}

/* ---- applying database sections ------------------------------------------ */

/* flyway_conf relative to the directory of the tarmac.conf naming it. */
static char *resolve_path(const char *conf, const char *path)
{
	const char *home = getenv("HOME");
	struct buf out = BUF_INIT;
	const char *slash = strrchr(conf, '/');
	if (path[0] == '~' && path[1] == '/' && home && *home)
		buf_addf(&out, "%s%s", home, path + 1);
	else if (path[0] == '/' || !slash)
		buf_adds(&out, path);
	else
		buf_addf(&out, "%.*s/%s", (int)(slash - conf), conf, path);
	return buf_detach(&out, NULL);
}

static enum err_code import_conf(struct parse *p, struct tui_db_conf *db,
				 const struct pending *pd)
{
	struct err tmp = ERR_INIT;
	free(db->flyway_conf);
	db->flyway_conf = resolve_path(p->name, pd->value);
	enum err_code rc = eng_config_load_flyway_conf(&db->eng, db->flyway_conf, &tmp);
	if (rc)
		return err_set(&p->err, rc, "%s:%d: %s", p->name, pd->line, tmp.msg);
	return ERR_OK;
}

static enum err_code apply_pending(struct parse *p, struct tui_db_conf *db,
				   const struct pending *pd)
{
	struct err tmp = ERR_INIT;
	enum err_code rc = ERR_OK;
	const struct conf_key *k = pd->key;
	if (k->flyway)
		rc = eng_config_set(&db->eng, k->flyway, pd->value, false, &tmp);
	else if (k->type == CK_PLACEHOLDER)
		eng_config_set_placeholder(&db->eng, pd->name + strlen(k->name), pd->value);
	else
		rc = set_plain(k, db, pd->value, &tmp);
	if (rc)
		return err_set(&p->err, rc, "%s:%d: %s", p->name, pd->line, tmp.msg);
	return ERR_OK;
}

static enum err_code apply_db(struct parse *p, struct db_state *ds)
{
	const struct pending *conf = NULL;
	for (size_t i = 0; i < ds->pending.len; i++) {
		const struct pending *pd = ds->pending.items[i];
		if (pd->key->type == CK_PATH)
			conf = pd;
	}
	if (conf && import_conf(p, ds->db, conf))
		return p->err.code;
	for (size_t i = 0; i < ds->pending.len; i++) {
		const struct pending *pd = ds->pending.items[i];
		if (pd->key->type != CK_PATH && apply_pending(p, ds->db, pd))
			return p->err.code;
	}
	/* A Secrets Manager secret may carry host, port and dbname instead. */
	bool from_secret = ds->db->secret && *ds->db->secret;
	if ((!ds->db->eng.url || !*ds->db->eng.url) && !from_secret)
		return err_set(&p->err, ERR_PARSE, "%s:%d: [database \"%s\"] has no url: "
			       "set url = URL, secret = ARN or flyway_conf = FILE", p->name, ds->line,
			       ds->db->name);
	return ERR_OK;
}

static enum err_code finish(struct parse *p)
{
	for (size_t i = 0; i < p->dbs.len; i++)
		if (apply_db(p, p->dbs.items[i]))
			return p->err.code;
	/* [console] read_only is a promise about every database. */
	for (size_t i = 0; p->c->read_only && i < p->c->databases.len; i++) {
		struct tui_db_conf *db = p->c->databases.items[i];
		db->eng.read_only = true;
	}
	return ERR_OK;
}

static void free_pending(void *v)
{
	struct pending *pd = v;
	free(pd->name);
	free_secret(pd->value);
	free(pd);
}

static void free_db_state(void *v)
{
	struct db_state *ds = v;
	vec_release(&ds->pending, free_pending);
	free(ds);
}

/* ---- public -------------------------------------------------------------- */

void tui_conf_init(struct tui_conf *c)
{
	memset(c, 0, sizeof *c);
	for (int sec = SEC_AWS; sec < SEC_DATABASE; sec++)
		set_defaults((enum section)sec, c);
}

void tui_conf_release(struct tui_conf *c)
{
	for (size_t i = 0; i < COUNT(keys); i++)
		if (keys[i].section != SEC_DATABASE && keys[i].type == CK_STRING)
			free(*(char **)((char *)c + keys[i].off));
	free(c->path);
	vec_release(&c->databases, free_db);
	memset(c, 0, sizeof *c);
}

enum err_code tui_conf_parse(struct tui_conf *c, const char *name, const char *text,
			     struct err *e)
{
	struct parse p = { .c = c, .name = name, .text = text, .long_buf = BUF_INIT };
	int rc = ini_parse_stream(read_line, &p, on_key, &p);
	/* inih reports its own syntax errors only at the end: keep the first. */
	if (rc > 0 && (!p.err.code || rc < p.err_line)) {
		p.line = rc;
		fail(&p, "expected 'key = value', a [section] or a comment");
	} else if (rc < 0 && !p.err.code) {
		err_set(&p.err, ERR_IO, "%s: libinih could not allocate memory", name);
	}
	if (!p.err.code)
		finish(&p);
	vec_release(&p.dbs, free_db_state);
	buf_wipe(&p.long_buf);
	if (p.err.code && e)
		*e = p.err;
	return p.err.code;
}

struct tui_db_conf *tui_conf_find_db(const struct tui_conf *c, const char *name)
{
	for (size_t i = 0; i < c->databases.len; i++) {
		struct tui_db_conf *db = c->databases.items[i];
		if (!strcmp(db->name, name))
			return db;
	}
	return NULL;
}

/* Reads path into out; a missing optional file sets *found = false. */
static enum err_code read_config(const char *path, bool required, bool *found,
				 struct buf *out, struct err *e)
{
	FILE *f = fopen(path, "rb");
	*found = f != NULL;
	if (!f && errno == ENOENT && !required)
		return ERR_OK;
	if (!f)
		return err_set(e, ERR_IO, "cannot read config %s: %s", path, strerror(errno));
	char chunk[8192];
	size_t n;
	enum err_code rc = ERR_OK;
	while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (out->len + n > CONF_MAX)
			rc = err_set(e, ERR_TOO_LARGE, "config %s is larger than 1 MiB: is it "
				     "the right file?", path);
		else if (memchr(chunk, 0, n))
			rc = err_set(e, ERR_PARSE, "config %s holds a NUL byte: is it the "
				     "right file?", path);
		else
			buf_add(out, chunk, n);
	}
	explicit_bzero(chunk, sizeof chunk);
	if (!rc && ferror(f))
		rc = err_set(e, ERR_IO, "cannot read config %s: %s", path, strerror(errno));
	fclose(f);
	return rc;
}

/*
 * A file holding a password that group or others can read is loaded all
 * the same: refusing would break shared read-only setups, and the password
 * never leaves this process (it is not printed, logged or audited).
 */
static enum err_code load_file(struct tui_conf *c, const char *path, bool required,
			       bool *found, struct err *e)
{
	struct buf text = BUF_INIT;
	enum err_code rc = read_config(path, required, found, &text, e);
	if (!rc && *found) {
		free(c->path);
		c->path = xstrdup(path);
		rc = tui_conf_parse(c, path, text.ptr, e);
	}
	buf_wipe(&text);
	return rc;
}

static char *xdg_config_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	struct buf out = BUF_INIT;
	/* The XDG spec says to ignore a relative XDG_CONFIG_HOME. */
	if (xdg && xdg[0] == '/')
		buf_addf(&out, "%s/tarmac/tarmac.conf", xdg);
	else if (home && *home)
		buf_addf(&out, "%s/.config/tarmac/tarmac.conf", home);
	else
		return NULL;
	return buf_detach(&out, NULL);
}

enum err_code tui_conf_load(struct tui_conf *c, const char *explicit_path, struct err *e)
{
	const char *env = getenv("TARMAC_CONFIG");
	bool found = false;
	if (explicit_path)
		return load_file(c, explicit_path, true, &found, e);
	if (env && *env)
		return load_file(c, env, true, &found, e);
	enum err_code rc = load_file(c, "tarmac.conf", false, &found, e);
	if (rc || found)
		return rc;
	char *xdg = xdg_config_path();
	if (xdg)
		rc = load_file(c, xdg, false, &found, e);
	free(xdg);
	return rc;
}

void tui_conf_help(struct buf *out)
{
	enum section last = SEC_NONE;
	for (size_t i = 0; i < COUNT(keys); i++) {
		const struct conf_key *k = &keys[i];
		if (k->section != last)
			buf_addf(out, "%s[%s%s]\n", last == SEC_NONE ? "" : "\n",
				 section_names[k->section],
				 k->section == SEC_DATABASE ? " \"NAME\"" : "");
		last = k->section;
		buf_addf(out, "  %-26s %s", k->type == CK_PLACEHOLDER ? "placeholder.NAME" : k->name,
			 k->help);
		if (k->def)
			buf_addf(out, " (default: %s)", k->def);
		if (k->flyway)
			buf_addf(out, " (Flyway: %s)", k->flyway);
		buf_addc(out, '\n');
	}
}
