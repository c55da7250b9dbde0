/*
 * config — the Flyway settings tarmac honours, kept in one key table.
 *
 * Every setting is one row {name, type, default, field, help}: the same row
 * fills the default in eng_config_init and applies `flyway.<name>` in
 * eng_config_set, so a key is described exactly once. Settings Flyway has
 * but tarmac does not act on are accepted and ignored, so an existing
 * flyway.conf loads unchanged; anything else is an error naming the key.
 *
 * Invariants: list fields own their strings; ignore patterns are stored
 * checked and normalised ("versioned:pending", lower case, trimmed) so the
 * validator can match them without re-parsing; the password is zeroed
 * before it is replaced or freed.
 */
#include "engine/internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Flyway's help link for the pattern syntax (Flyway 11.1, as validate.c). */
#define PATTERN_URL "https://help.red-gate.com/help/flyway-cli11/help_1.aspx?topic=" \
	"reference/configuration/flyway-namespace/flyway-ignore-migration-patterns-setting"

enum key_type {
	KEY_STRING,     /* char *, replaced */
	KEY_OPTIONAL,   /* char *, an empty value means "not set" (NULL) */
	KEY_SECRET,     /* char *, zeroed before it is replaced or freed */
	KEY_BOOL,       /* bool, true/false in any case */
	KEY_INT,        /* int, Java Integer syntax */
	KEY_LIST,       /* struct vec of char *, comma-separated, trimmed */
	KEY_PATTERNS,   /* a KEY_LIST of `<type>:<state>` ignore patterns */
};

struct key {
	const char *name;       /* Flyway's name without the `flyway.` prefix */
	enum key_type type;
	const char *def;        /* Flyway's default, as text; NULL: unset */
	size_t off;             /* the field in struct eng_config */
	const char *help;
};

#define F(field) offsetof(struct eng_config, field)

static const struct key keys[] = {
	{ "url", KEY_OPTIONAL, NULL, F(url), "database URL (postgresql://, mysql://, jdbc:...)" },
	{ "user", KEY_OPTIONAL, NULL, F(user), "database user" },
	{ "password", KEY_SECRET, NULL, F(password), "database password (never printed)" },
	{ "schemas", KEY_LIST, "", F(schemas), "schemas Flyway manages; the first holds the history table" },
	{ "defaultSchema", KEY_OPTIONAL, NULL, F(default_schema), "schema of the history table; default: the first of schemas" },
	{ "table", KEY_STRING, "flyway_schema_history", F(table), "schema history table" },
	{ "locations", KEY_LIST, "", F(locations), "where migrations are: filesystem:DIR, s3:BUCKET/PREFIX" },
	{ "encoding", KEY_STRING, "UTF-8", F(encoding), "encoding of SQL migrations (UTF-8 or ISO-8859-1)" },
	{ "sqlMigrationPrefix", KEY_STRING, "V", F(sql_prefix), "prefix of versioned migrations" },
	{ "repeatableSqlMigrationPrefix", KEY_STRING, "R", F(repeatable_prefix), "prefix of repeatable migrations" },
	{ "baselineMigrationPrefix", KEY_STRING, "B", F(baseline_prefix), "prefix of baseline migrations" },
	{ "sqlMigrationSeparator", KEY_STRING, "__", F(separator), "separator between version and description" },
	{ "sqlMigrationSuffixes", KEY_LIST, ".sql", F(suffixes), "file name suffixes of SQL migrations" },
	{ "placeholderReplacement", KEY_BOOL, "true", F(placeholder_replacement), "replace ${placeholders} in migrations" },
	{ "placeholderPrefix", KEY_STRING, "${", F(placeholder_prefix), "text that opens a placeholder" },
	{ "placeholderSuffix", KEY_STRING, "}", F(placeholder_suffix), "text that closes a placeholder" },
	{ "placeholderSeparator", KEY_STRING, ":", F(placeholder_separator), "separator in ${flyway:name} placeholders" },
	{ "baselineVersion", KEY_STRING, "1", F(baseline_version), "version that baseline records" },
	{ "baselineDescription", KEY_STRING, "<< Flyway Baseline >>", F(baseline_description), "description that baseline records" },
	{ "baselineOnMigrate", KEY_BOOL, "false", F(baseline_on_migrate), "baseline a non-empty schema without history on migrate" },
	{ "outOfOrder", KEY_BOOL, "false", F(out_of_order), "apply migrations older than the latest applied one" },
	{ "target", KEY_OPTIONAL, NULL, F(target), "migrate up to this version; default: latest" },
	{ "validateOnMigrate", KEY_BOOL, "true", F(validate_on_migrate), "validate before migrating" },
	{ "validateMigrationNaming", KEY_BOOL, "false", F(validate_migration_naming), "fail on files whose names are not migrations" },
	{ "ignoreMigrationPatterns", KEY_PATTERNS, "*:future", F(ignore_patterns), "validate ignores these type:state patterns" },
	{ "cleanDisabled", KEY_BOOL, "true", F(clean_disabled), "refuse clean" },
	{ "createSchemas", KEY_BOOL, "true", F(create_schemas), "create missing schemas" },
	{ "mixed", KEY_BOOL, "false", F(mixed), "allow transactional and non-transactional statements in one migration" },
	{ "executeInTransaction", KEY_BOOL, "true", F(execute_in_transaction), "run each migration in a transaction" },
	{ "installedBy", KEY_OPTIONAL, NULL, F(installed_by), "installed_by recorded in history; default: the database user" },
	{ "lockRetryCount", KEY_INT, "50", F(lock_retry_count), "attempts to take the lock; -1: forever" },
	{ "postgresql.transactional.lock", KEY_BOOL, "true", F(transactional_lock), "PostgreSQL: hold the lock in a transaction" },
	{ "environment", KEY_STRING, "default", F(environment), "environment name; prod asks for typed confirmation" },
};

/*
 * Flyway settings that configure things tarmac does not have (drivers,
 * callbacks, Teams features, JVM plumbing). Accepting them keeps a
 * working flyway.conf loadable; none of them changes what tarmac writes.
 */
static const char *const ignored[] = {
	"batch", "callbackLocations", "callbacks", "cherryPick", "cleanOnValidationError",
	"configFileEncoding", "configFiles", "connectRetries", "connectRetriesInterval",
	"detectEncoding", "driver", "dryRunOutput", "errorOverrides", "failOnMissingLocations",
	"group", "initSql", "jarDirs", "kerberosConfigFile", "licenseKey", "loggers",
	"outputQueryResults", "outputType", "reportEnabled", "reportFilename", "resolvers",
	"scriptPlaceholderPrefix", "scriptPlaceholderSuffix", "skipDefaultCallbacks",
	"skipDefaultResolvers", "skipExecutingMigrations", "stream", "tablespace",
	"undoSqlMigrationPrefix", "workingDirectory",
};
static const char *const ignored_prefixes[] = {
	"jdbcProperties.", "plugins.", "oracle.", "sqlserver.",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void eng_trim_span(const char **s, size_t *n)
{
	while (*n && (unsigned char)(*s)[0] <= ' ')
		(*s)++, (*n)--;
	while (*n && (unsigned char)(*s)[*n - 1] <= ' ')
		(*n)--;
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static void free_secret(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

static void replace_str(char **field, const char *value, bool secret)
{
	char *old = *field;
	*field = value ? xstrdup(value) : NULL;
	if (secret)
		free_secret(old);
	else
		free(old);
}

/* Comma list, items trimmed, empty items dropped (Flyway's tokenizer). */
static void split_list(struct vec *out, const char *value)
{
	const char *p = value;
	for (;;) {
		size_t n = strcspn(p, ",");
		const char *item = p;
		size_t len = n;
		eng_trim_span(&item, &len);
		if (len)
			vec_push(out, xstrndup(item, len));
		if (!p[n])
			break;
		p += n + 1;
	}
}

static void replace_list(struct vec *field, struct vec *fresh)
{
	vec_free_strs(field);
	*field = *fresh;
}

enum err_code eng_config_parse_bool(const char *key, const char *value, bool *out, struct err *e)
{
	if (!strcasecmp(value, "true"))
		*out = true;
	else if (!strcasecmp(value, "false"))
		*out = false;
	else
		return err_set(e, ERR_PARSE, "invalid boolean '%s' for %s: use true or false",
			       value, key);
	return ERR_OK;
}

/* Java's Integer.valueOf: optional sign, decimal digits, 32-bit range. */
static enum err_code parse_int(const char *key, const char *value, int *out, struct err *e)
{
	const char *p = value + (*value == '+' || *value == '-');
	long long v = 0;
	bool ok = *p != 0;
	for (; ok && *p; p++) {
		ok = *p >= '0' && *p <= '9' && v <= (long long)INT_MAX + 1;
		v = v * 10 + (*p - '0');
	}
	if (*value == '-')
		v = -v;
	if (!ok || v < INT_MIN || v > INT_MAX)
		return err_set(e, ERR_PARSE, "invalid integer '%s' for %s: use a whole number",
			       value, key);
	*out = (int)v;
	return ERR_OK;
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

/*
 * Java's pattern.split(":") keeps every field but drops trailing empty
 * ones, so "versioned:pending:" has two fields (valid) and "versioned:"
 * has one (invalid). Returns the count of fields, at most 3 are recorded.
 */
static size_t java_split_colon(const char *s, const char *start[3], size_t len[3])
{
	size_t n = 0, kept = 0;
	for (const char *p = s;; n++) {
		size_t l = strcspn(p, ":");
		if (n < 3)
			start[n] = p, len[n] = l;
		if (l)
			kept = n + 1;
		if (!p[l])
			break;
		p += l + 1;
	}
	return kept;
}

/* ValidatePattern.fromPattern: Flyway's checks and messages, word for word. */
static enum err_code check_pattern(const char *pattern, struct buf *norm, struct err *e)
{
	static const char *const types[] = { "*", "repeatable", "versioned" };
	static const char *const states[] = { "*", "missing", "pending", "ignored", "future" };
	const char *part[3];
	size_t len[3];
	if (java_split_colon(pattern, part, len) != 2)
		return err_set(e, ERR_PARSE, "Invalid pattern '%s'. Pattern must be of the form "
			       "<migration_type>:<migration_state> See " PATTERN_URL " for full details",
			       pattern);
	char *tok[2];
	for (int i = 0; i < 2; i++) {
		const char *s = part[i];
		size_t n = len[i];
		eng_trim_span(&s, &n);
		tok[i] = xstrndup(s, n);
		lower_ascii(tok[i]);
	}
	enum err_code rc = ERR_OK;
	if (!in_list(tok[0], types, COUNT(types)))
		rc = err_set(e, ERR_PARSE, "Invalid migration type '%.*s'. Valid types are: "
			     "[*, repeatable, versioned]", (int)len[0], part[0]);
	else if (!in_list(tok[1], states, COUNT(states)))
		rc = err_set(e, ERR_PARSE, "Invalid migration state '%.*s'. Valid states are: "
			     "[*, missing, pending, ignored, future]", (int)len[1], part[1]);
	else
		buf_addf(norm, "%s:%s", tok[0], tok[1]);
	free(tok[0]);
	free(tok[1]);
	return rc;
}

enum err_code eng_ignore_pattern_check(const char *pattern, struct err *e)
{
	struct buf norm = BUF_INIT;
	enum err_code rc = check_pattern(pattern, &norm, e);
	buf_release(&norm);
	return rc;
}

static enum err_code set_patterns(struct vec *field, const char *value, struct err *e)
{
	struct vec items = VEC_INIT, fresh = VEC_INIT;
	enum err_code rc = ERR_OK;
	split_list(&items, value);
	for (size_t i = 0; i < items.len && !rc; i++) {
		struct buf norm = BUF_INIT;
		rc = check_pattern(items.items[i], &norm, e);
		if (!rc)
			vec_push(&fresh, buf_detach(&norm, NULL));
		buf_release(&norm);
	}
	vec_free_strs(&items);
	if (rc) {
		vec_free_strs(&fresh);
		return rc;
	}
	replace_list(field, &fresh);
	return ERR_OK;
}

/* Applies value to the row's field; `key` is the name used in messages. */
static enum err_code set_field(struct eng_config *c, const struct key *k, const char *key,
			       const char *value, struct err *e)
{
	void *field = (char *)c + k->off;
	struct vec fresh = VEC_INIT;
	switch (k->type) {
	case KEY_STRING:
	case KEY_SECRET:
		replace_str(field, value, k->type == KEY_SECRET);
		return ERR_OK;
	case KEY_OPTIONAL:
		replace_str(field, *value ? value : NULL, false);
		return ERR_OK;
	case KEY_BOOL:
		return eng_config_parse_bool(key, value, field, e);
	case KEY_INT:
		return parse_int(key, value, field, e);
	case KEY_LIST:
		split_list(&fresh, value);
		replace_list(field, &fresh);
		return ERR_OK;
	case KEY_PATTERNS:
		return set_patterns(field, value, e);
	}
	return ERR_OK;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < COUNT(keys); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static bool is_ignored(const char *name)
{
	if (in_list(name, ignored, COUNT(ignored)))
		return true;
	for (size_t i = 0; i < COUNT(ignored_prefixes); i++)
		if (!strncmp(name, ignored_prefixes[i], strlen(ignored_prefixes[i])))
			return true;
	return false;
}

void eng_config_init(struct eng_config *c)
{
	memset(c, 0, sizeof *c);
	/* Defaults come from the table so each is written down once. */
	for (size_t i = 0; i < COUNT(keys); i++)
		if (keys[i].def)
			set_field(c, &keys[i], keys[i].name, keys[i].def, NULL);
}

static void free_kv(void *p)
{
	struct eng_kv *kv = p;
	free(kv->key);
	free(kv->value);
	free(kv);
}

void eng_config_release(struct eng_config *c)
{
	for (size_t i = 0; i < COUNT(keys); i++) {
		void *field = (char *)c + keys[i].off;
		if (keys[i].type == KEY_LIST || keys[i].type == KEY_PATTERNS)
			vec_free_strs(field);
		else if (keys[i].type != KEY_BOOL && keys[i].type != KEY_INT)
			replace_str(field, NULL, keys[i].type == KEY_SECRET);
	}
	vec_release(&c->placeholders, free_kv);
	memset(c, 0, sizeof *c);
}

void eng_config_set_placeholder(struct eng_config *c, const char *key, const char *value)
{
	char *lower = xstrdup(key);
	lower_ascii(lower);
	for (size_t i = 0; i < c->placeholders.len; i++) {
		struct eng_kv *kv = c->placeholders.items[i];
		if (!strcmp(kv->key, lower)) {
			free(lower);
			replace_str(&kv->value, value, false);
			return;
		}
	}
	struct eng_kv *kv = xmalloc(sizeof *kv);
	kv->key = lower;
	kv->value = xstrdup(value);
	vec_push(&c->placeholders, kv);
}

enum err_code eng_config_set(struct eng_config *c, const char *key, const char *value,
			     bool ignore_unknown, struct err *e)
{
	const char *name = strncmp(key, "flyway.", 7) != 0 ? key : key + 7;
	if (!value)
		value = "";
	if (!strncmp(name, "placeholders.", 13)) {
		if (!name[13])
			return err_set(e, ERR_PARSE, "placeholder name missing in '%s': "
				       "write placeholders.NAME=VALUE", key);
		eng_config_set_placeholder(c, name + 13, value);
		return ERR_OK;
	}
	const struct key *k = find_key(name);
	if (k)
		return set_field(c, k, key, value, e);
	if (is_ignored(name) || ignore_unknown)
		return ERR_OK;
	return err_set(e, ERR_PARSE, "unknown Flyway setting '%s'", key);
}
