/*
 * test_config — engine/config.c, engine/flyway_conf.c and tui/config.c.
 *
 * Table-driven: every row of every table below becomes its own cmocka test
 * (named after the row). A row gives an input and either a text expected in
 * the dump of the resulting configuration or the expected error message.
 * The dump prints every field, so a row also catches a key that lands in
 * the wrong field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "tui/config.h"

/* ---- dumps ---------------------------------------------------------------- */

static const char *s_or(const char *s)
{
	return s ? s : "(null)";
}

static void dump_vec(struct buf *b, const char *pfx, const char *name, const struct vec *v)
{
	buf_addf(b, "%s%s=[", pfx, name);
	for (size_t i = 0; i < v->len; i++)
		buf_addf(b, "%s%s", i ? "," : "", (const char *)v->items[i]);
	buf_adds(b, "]\n");
}

static void dump_strings(struct buf *b, const char *pfx, const struct eng_config *c)
{
	buf_addf(b, "%surl=%s\n%suser=%s\n%spassword=%s\n", pfx, s_or(c->url), pfx,
		 s_or(c->user), pfx, s_or(c->password));
	buf_addf(b, "%sdefault_schema=%s\n%stable=%s\n%sinstalled_by=%s\n", pfx,
		 s_or(c->default_schema), pfx, s_or(c->table), pfx, s_or(c->installed_by));
	buf_addf(b, "%senvironment=%s\n%sencoding=%s\n%starget=%s\n", pfx,
		 s_or(c->environment), pfx, s_or(c->encoding), pfx, s_or(c->target));
	buf_addf(b, "%sph=%s|%s|%s\n", pfx, s_or(c->placeholder_prefix),
		 s_or(c->placeholder_suffix), s_or(c->placeholder_separator));
	buf_addf(b, "%snaming=%s|%s|%s|%s\n", pfx, s_or(c->sql_prefix),
		 s_or(c->repeatable_prefix), s_or(c->baseline_prefix), s_or(c->separator));
	buf_addf(b, "%sbaseline=%s|%s\n", pfx, s_or(c->baseline_version),
		 s_or(c->baseline_description));
}

static void dump_eng(struct buf *b, const char *pfx, const struct eng_config *c)
{
	dump_strings(b, pfx, c);
	dump_vec(b, pfx, "locations", &c->locations);
	dump_vec(b, pfx, "schemas", &c->schemas);
	dump_vec(b, pfx, "suffixes", &c->suffixes);
	dump_vec(b, pfx, "ignore_patterns", &c->ignore_patterns);
	for (size_t i = 0; i < c->placeholders.len; i++) {
		const struct eng_kv *kv = c->placeholders.items[i];
		buf_addf(b, "%splaceholder.%s=%s\n", pfx, kv->key, kv->value);
	}
	buf_addf(b, "%sflags=replace:%d naming:%d bom:%d ooo:%d vom:%d clean_disabled:%d\n", pfx,
		 c->placeholder_replacement, c->validate_migration_naming,
		 c->baseline_on_migrate, c->out_of_order, c->validate_on_migrate,
		 c->clean_disabled);
	buf_addf(b, "%sflags2=create:%d mixed:%d tx:%d txlock:%d ro:%d retry:%d\n", pfx,
		 c->create_schemas, c->mixed, c->execute_in_transaction,
		 c->transactional_lock, c->read_only, c->lock_retry_count);
}

static void dump_tui(struct buf *b, const struct tui_conf *c)
{
	buf_addf(b, "aws=%s|%s\ntheme=%s\nread_only=%d\n", s_or(c->aws_profile),
		 s_or(c->aws_region), s_or(c->theme), c->read_only);
	buf_addf(b, "ssm=%s|%s|%s|%s\n", s_or(c->ssm_target), s_or(c->ssm_document),
		 s_or(c->ssm_log_group), s_or(c->ssm_command));
	for (size_t i = 0; i < c->databases.len; i++) {
		const struct tui_db_conf *db = c->databases.items[i];
		char pfx[128];
		snprintf(pfx, sizeof pfx, "db[%s].", db->name);
		buf_addf(b, "%ssecret=%s\n%siam=%d\n%sflyway_conf=%s\n", pfx, s_or(db->secret),
			 pfx, db->iam_auth, pfx, s_or(db->flyway_conf));
		dump_eng(b, pfx, &db->eng);
	}
}

/* Is `line` (with its '\n') one whole line of dump? */
static bool has_line(const char *dump, const char *line)
{
	for (const char *p = strstr(dump, line); p; p = strstr(p + 1, line))
		if (p == dump || p[-1] == '\n')
			return true;
	return false;
}

/* Each expected line is checked on its own, so a row lists what it cares about. */
static void assert_has_lines(const char *dump, const char *expect)
{
	const char *p = expect;
	while (*p) {
		size_t n = strcspn(p, "\n");
		char want[1024];
		snprintf(want, sizeof want, "%.*s\n", (int)n, p);
		if (!has_line(dump, want)) {
			print_error("missing line: %s--- dump:\n%s", want, dump);
			fail();
		}
		p += n + (p[n] == '\n');
	}
}

static void assert_outcome(enum err_code rc, const struct err *e, enum err_code want_rc,
			   const char *want, const char *dump)
{
	if (rc != want_rc)
		print_error("rc %d, want %d; message: %s\n", rc, want_rc, e->msg);
	assert_int_equal(rc, want_rc);
	if (want_rc != ERR_OK)
		assert_string_equal(e->msg, want);
	else
		assert_has_lines(dump, want);
}

/* ---- defaults --------------------------------------------------------------- */

static const char default_dump[] =
	"url=(null)\nuser=(null)\npassword=(null)\n"
	"default_schema=(null)\ntable=flyway_schema_history\ninstalled_by=(null)\n"
	"environment=default\nencoding=UTF-8\ntarget=(null)\n"
	"ph=${|}|:\nnaming=V|R|B|__\nbaseline=1|<< Flyway Baseline >>\n"
	"locations=[]\nschemas=[]\nsuffixes=[.sql]\nignore_patterns=[*:future]\n"
	"flags=replace:1 naming:0 bom:0 ooo:0 vom:1 clean_disabled:1\n"
	"flags2=create:1 mixed:0 tx:1 txlock:1 ro:0 retry:50\n";

static void test_defaults(void **state)
{
	(void)state;
	struct eng_config c;
	struct buf b = BUF_INIT;
	eng_config_init(&c);
	dump_eng(&b, "", &c);
	assert_string_equal(b.ptr, default_dump);
	eng_config_release(&c);
	eng_config_release(&c); /* release twice is harmless */
	buf_release(&b);
}

static void test_tui_defaults(void **state)
{
	(void)state;
	struct tui_conf c;
	struct buf b = BUF_INIT;
	tui_conf_init(&c);
	dump_tui(&b, &c);
	assert_string_equal(b.ptr, "aws=(null)|(null)\ntheme=default\nread_only=0\n"
			    "ssm=(null)|AWS-RunShellScript|(null)|(null)\n");
	tui_conf_release(&c);
	buf_release(&b);
}

/* ---- eng_config_set ------------------------------------------------------------ */

struct set_case {
	const char *name, *key, *value;
	bool ignore_unknown;
	enum err_code rc;
	const char *want;   /* dump lines, or the error message */
};

#define PAT_URL "https://help.red-gate.com/help/flyway-cli11/help_1.aspx?topic=" \
	"reference/configuration/flyway-namespace/flyway-ignore-migration-patterns-setting"

static const struct set_case set_cases[] = {
	{ "set url with prefix", "flyway.url", "postgresql://h/db", false, ERR_OK, "url=postgresql://h/db" },
	{ "set url without prefix", "url", "mysql://h/db", false, ERR_OK, "url=mysql://h/db" },
	{ "set password", "flyway.password", "s3cret", false, ERR_OK, "password=s3cret" },
	{ "set list trimmed", "flyway.schemas", " a , b,,c ", false, ERR_OK, "schemas=[a,b,c]" },
	{ "set locations", "locations", "filesystem:sql, s3:bucket/prefix", false, ERR_OK,
	  "locations=[filesystem:sql,s3:bucket/prefix]" },
	{ "set suffixes", "flyway.sqlMigrationSuffixes", ".sql,.psql", false, ERR_OK, "suffixes=[.sql,.psql]" },
	{ "set bool any case", "flyway.outOfOrder", "TRUE", false, ERR_OK,
	  "flags=replace:1 naming:0 bom:0 ooo:1 vom:1 clean_disabled:1" },
	{ "set bool false", "flyway.cleanDisabled", "False", false, ERR_OK,
	  "flags=replace:1 naming:0 bom:0 ooo:0 vom:1 clean_disabled:0" },
	{ "invalid bool", "flyway.outOfOrder", "yes", false, ERR_PARSE,
	  "invalid boolean 'yes' for flyway.outOfOrder: use true or false" },
	{ "set int negative", "lockRetryCount", "-1", false, ERR_OK,
	  "flags2=create:1 mixed:0 tx:1 txlock:1 ro:0 retry:-1" },
	{ "invalid int", "flyway.lockRetryCount", "12x", false, ERR_PARSE,
	  "invalid integer '12x' for flyway.lockRetryCount: use a whole number" },
	{ "int overflow", "lockRetryCount", "2147483648", false, ERR_PARSE,
	  "invalid integer '2147483648' for lockRetryCount: use a whole number" },
	{ "transactional lock", "flyway.postgresql.transactional.lock", "false", false, ERR_OK,
	  "flags2=create:1 mixed:0 tx:1 txlock:0 ro:0 retry:50" },
	{ "empty target is unset", "flyway.target", "", false, ERR_OK, "target=(null)" },
	{ "set environment", "flyway.environment", "prod", false, ERR_OK, "environment=prod" },
	{ "set naming", "flyway.sqlMigrationSeparator", "--", false, ERR_OK, "naming=V|R|B|--" },
	{ "placeholder lower-cased", "flyway.placeholders.MyKey", "v", false, ERR_OK, "placeholder.mykey=v" },
	{ "placeholder without name", "flyway.placeholders.", "v", false, ERR_PARSE,
	  "placeholder name missing in 'flyway.placeholders.': write placeholders.NAME=VALUE" },
	{ "patterns normalised", "flyway.ignoreMigrationPatterns", "Versioned:Pending, * : missing", false,
	  ERR_OK, "ignore_patterns=[versioned:pending,*:missing]" },
	{ "pattern trailing colon", "ignoreMigrationPatterns", "*:pending:", false, ERR_OK,
	  "ignore_patterns=[*:pending]" },
	{ "pattern bad type", "flyway.ignoreMigrationPatterns", "*:future,foo:pending", false, ERR_PARSE,
	  "Invalid migration type 'foo'. Valid types are: [*, repeatable, versioned]" },
	{ "pattern bad state", "flyway.ignoreMigrationPatterns", "*:bar", false, ERR_PARSE,
	  "Invalid migration state 'bar'. Valid states are: [*, missing, pending, ignored, future]" },
	{ "pattern without colon", "flyway.ignoreMigrationPatterns", "versioned", false, ERR_PARSE,
	  "Invalid pattern 'versioned'. Pattern must be of the form <migration_type>:<migration_state> "
	  "See " PAT_URL " for full details" },
	{ "pattern three fields", "flyway.ignoreMigrationPatterns", "a:b:c", false, ERR_PARSE,
	  "Invalid pattern 'a:b:c'. Pattern must be of the form <migration_type>:<migration_state> "
	  "See " PAT_URL " for full details" },
	{ "ignored key driver", "flyway.driver", "org.postgresql.Driver", false, ERR_OK, "url=(null)" },
	{ "ignored prefix jdbcProperties", "flyway.jdbcProperties.ssl", "true", false, ERR_OK, "url=(null)" },
	{ "unknown key", "flyway.tabel", "x", false, ERR_PARSE, "unknown Flyway setting 'flyway.tabel'" },
	{ "unknown key tolerated", "flyway.tabel", "x", true, ERR_OK, "table=flyway_schema_history" },
	{ "keys are case-sensitive", "flyway.TABLE", "x", false, ERR_PARSE, "unknown Flyway setting 'flyway.TABLE'" },
};

static void run_set_case(void **state)
{
	const struct set_case *t = *state;
	struct eng_config c;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	eng_config_init(&c);
	enum err_code rc = eng_config_set(&c, t->key, t->value, t->ignore_unknown, &e);
	dump_eng(&b, "", &c);
	assert_outcome(rc, &e, t->rc, t->want, b.ptr);
	eng_config_release(&c);
	buf_release(&b);
}

static void test_placeholder_replaced(void **state)
{
	(void)state;
	struct eng_config c;
	eng_config_init(&c);
	eng_config_set_placeholder(&c, "Key", "1");
	eng_config_set_placeholder(&c, "KEY", "2");
	assert_int_equal(c.placeholders.len, 1);
	const struct eng_kv *kv = c.placeholders.items[0];
	assert_string_equal(kv->key, "key");
	assert_string_equal(kv->value, "2");
	eng_config_release(&c);
}

static void test_list_replaced(void **state)
{
	(void)state;
	struct eng_config c;
	eng_config_init(&c);
	assert_int_equal(eng_config_set(&c, "flyway.schemas", "a,b", false, NULL), ERR_OK);
	assert_int_equal(eng_config_set(&c, "flyway.schemas", "c", false, NULL), ERR_OK);
	assert_int_equal(c.schemas.len, 1);
	assert_string_equal(c.schemas.items[0], "c");
	/* A failed pattern list leaves the previous one in place. */
	assert_int_equal(eng_config_set(&c, "ignoreMigrationPatterns", "*:x", false, NULL), ERR_PARSE);
	assert_int_equal(c.ignore_patterns.len, 1);
	assert_string_equal(c.ignore_patterns.items[0], "*:future");
	eng_config_release(&c);
}

/* ---- flyway.conf ---------------------------------------------------------------- */

struct text_case {
	const char *name, *text;
	enum err_code rc;
	const char *want;
};

static const struct text_case fw_cases[] = {
	{ "fw basic", "flyway.url=jdbc:postgresql://h/db\nflyway.user=u\n", ERR_OK,
	  "url=jdbc:postgresql://h/db\nuser=u" },
	{ "fw crlf", "flyway.user=u\r\nflyway.table=t\r\n", ERR_OK, "user=u\ntable=t" },
	{ "fw comments and blanks", "# c\n! c\n\n   \n  flyway.table = t  \n", ERR_OK, "table=t" },
	{ "fw colon separator", "flyway.table: t", ERR_OK, "table=t" },
	{ "fw space separator", "flyway.table  t", ERR_OK, "table=t" },
	{ "fw separator after space", "flyway.table = =t", ERR_OK, "table==t" },
	{ "fw continuation", "flyway.locations=a,\\\n   b,\\\n c\nflyway.table=t\n", ERR_OK,
	  "locations=[a,b,c]\ntable=t" },
	{ "fw backslash literal", "flyway.locations=filesystem:C:\\sql\\x\n", ERR_OK,
	  "locations=[filesystem:C:\\sql\\x]" },
	{ "fw backslash before property", "flyway.user=a\\\nflyway.table=t\n", ERR_OK,
	  "user=a\\\ntable=t" },
	{ "fw backslash before blank", "flyway.user=a\\\n\nflyway.table=t\n", ERR_OK,
	  "user=a\\\ntable=t" },
	{ "fw backslash at end", "flyway.user=a\\", ERR_OK, "user=a\\" },
	{ "fw double backslash continues", "flyway.user=a\\\\\nb\n", ERR_OK, "user=a\\b" },
	{ "fw comment never continues", "# note \\\nflyway.table=t\n", ERR_OK, "table=t" },
	{ "fw continuation into comment", "flyway.user=a\\\n#b\n", ERR_OK, "user=a#b" },
	{ "fw env expanded", "flyway.user=${TARMAC_TEST_USER}\n", ERR_OK, "user=alice" },
	{ "fw env missing is empty", "flyway.user=x${TARMAC_TEST_UNSET_VAR}y\n", ERR_OK, "user=xy" },
	{ "fw env not a name", "flyway.user=${A-B}$x\n", ERR_OK, "user=${A-B}$x" },
	{ "fw env in key", "flyway.${TARMAC_TEST_KEY}=t\n", ERR_OK, "table=t" },
	{ "fw placeholders lower-cased", "flyway.placeholders.SchemaName=app\n", ERR_OK,
	  "placeholder.schemaname=app" },
	{ "fw other keys skipped", "other.key=1\nspring.flyway.x=2\nflyway.table=t\n", ERR_OK, "table=t" },
	{ "fw later wins", "flyway.table=a\nflyway.table=b\n", ERR_OK, "table=b" },
	{ "fw invalid bool", "\n# x\nflyway.mixed=maybe\n", ERR_PARSE,
	  "f.conf:3: invalid boolean 'maybe' for flyway.mixed: use true or false" },
	{ "fw invalid bool after continuation", "flyway.locations=a,\\\nb\nflyway.mixed=x\n", ERR_PARSE,
	  "f.conf:3: invalid boolean 'x' for flyway.mixed: use true or false" },
	{ "fw invalid pattern type", "flyway.ignoreMigrationPatterns=Foo:missing\n", ERR_PARSE,
	  "f.conf:1: Invalid migration type 'Foo'. Valid types are: [*, repeatable, versioned]" },
	{ "fw invalid pattern state", "flyway.ignoreMigrationPatterns=*:done\n", ERR_PARSE,
	  "f.conf:1: Invalid migration state 'done'. Valid states are: [*, missing, pending, ignored, future]" },
	{ "fw unknown key", "flyway.url=x\nflyway.colour=red\n", ERR_PARSE,
	  "f.conf:2: unknown Flyway setting 'flyway.colour'" },
	{ "fw ignored keys", "flyway.driver=x\nflyway.connectRetries=3\nflyway.jdbcProperties.a=b\n",
	  ERR_OK, "url=(null)" },
};

static void run_fw_case(void **state)
{
	const struct text_case *t = *state;
	struct eng_config c;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	eng_config_init(&c);
	enum err_code rc = eng_config_parse_flyway_conf(&c, "f.conf", t->text, strlen(t->text), &e);
	dump_eng(&b, "", &c);
	assert_outcome(rc, &e, t->rc, t->want, b.ptr);
	eng_config_release(&c);
	buf_release(&b);
}

static void test_fw_nul_and_size(void **state)
{
	(void)state;
	struct eng_config c;
	struct err e = ERR_INIT;
	eng_config_init(&c);
	static const char nul[] = "flyway.table=a\nflyway.user=b\0c\n";
	assert_int_equal(eng_config_parse_flyway_conf(&c, "n.conf", nul, sizeof nul - 1, &e), ERR_PARSE);
	assert_string_equal(e.msg, "n.conf:2: NUL byte: is it a flyway.conf?");
	size_t big = 1024 * 1024 + 1;
	char *text = malloc(big);
	memset(text, '#', big);
	assert_int_equal(eng_config_parse_flyway_conf(&c, "b.conf", text, big, &e), ERR_TOO_LARGE);
	assert_int_equal(eng_config_parse_flyway_conf(&c, "b.conf", text, big - 1, &e), ERR_OK);
	free(text);
	assert_int_equal(eng_config_load_flyway_conf(&c, "/nonexistent-tarmac/f.conf", &e), ERR_IO);
	assert_string_equal(e.msg, "cannot read Flyway config /nonexistent-tarmac/f.conf: "
			    "No such file or directory");
	eng_config_release(&c);
}

/* ---- tarmac.conf ------------------------------------------------------------------ */

static const char two_dbs[] =
	"; tarmac.conf\n"
	"[aws]\n"
	"profile = ops                  ; else the standard credential chain\n"
	"region = eu-central-1\n"
	"\n"
	"[console]\n"
	"theme = dark\n"
	"\n"
	"[ssm]\n"
	"target = tag:Role=flyway-host   ; or an instance id\n"
	"command = a;b && c\n"
	"\n"
	"[database \"users\"]\n"
	"\turl = postgresql://flyway@users/users?sslmode=verify-full\n"
	"\tlocations = s3:acme-users-migrations, filesystem:sql\n"
	"\tsecret = arn:aws:secretsmanager:eu-central-1:1:secret:users\n"
	"\tenvironment = prod             ; prod: red band\n"
	"\tplaceholder.AppUser = app\n"
	"# a comment\n"
	"[database \"products.v2\"]\n"
	"url = mysql://p/products\n"
	"schemas = a, b\n"
	"read_only = true\n"
	"iam_auth = TRUE\n"
	"out_of_order = true\n"
	"ignore_migration_patterns = *:missing\n"
	"lock_retry_count = 7\n";

static const struct text_case tc_cases[] = {
	{ "tc two databases", two_dbs, ERR_OK,
	  "aws=ops|eu-central-1\ntheme=dark\nread_only=0\n"
	  "ssm=tag:Role=flyway-host|AWS-RunShellScript|(null)|a;b && c\n"
	  "db[users].url=postgresql://flyway@users/users?sslmode=verify-full\n"
	  "db[users].locations=[s3:acme-users-migrations,filesystem:sql]\n"
	  "db[users].secret=arn:aws:secretsmanager:eu-central-1:1:secret:users\n"
	  "db[users].environment=prod\n"
	  "db[users].placeholder.appuser=app\n"
	  "db[users].flags2=create:1 mixed:0 tx:1 txlock:1 ro:0 retry:50\n"
	  "db[products.v2].url=mysql://p/products\n"
	  "db[products.v2].schemas=[a,b]\n"
	  "db[products.v2].iam=1\n"
	  "db[products.v2].ignore_patterns=[*:missing]\n"
	  "db[products.v2].flags=replace:1 naming:0 bom:0 ooo:1 vom:1 clean_disabled:1\n"
	  "db[products.v2].flags2=create:1 mixed:0 tx:1 txlock:1 ro:1 retry:7" },
	{ "tc console read_only", "[database \"a\"]\nurl=x\n[console]\nread_only = true\n", ERR_OK,
	  "read_only=1\ndb[a].flags2=create:1 mixed:0 tx:1 txlock:1 ro:1 retry:50" },
	{ "tc empty value is default", "[console]\ntheme =\n[ssm]\ndocument=\n", ERR_OK,
	  "theme=default\nssm=(null)|AWS-RunShellScript|(null)|(null)" },
	{ "tc bom and crlf", "\xEF\xBB\xBF[aws]\r\nregion = r\r\n", ERR_OK, "aws=(null)|r" },
	{ "tc colon separator", "[aws]\nregion: r\n", ERR_OK, "aws=(null)|r" },
	{ "tc section names any case", "[AWS]\nRegion = r\n", ERR_OK, "aws=(null)|r" },
	{ "tc unknown key", "[database \"users\"]\nurl = x\ntabel = y\n", ERR_PARSE,
	  "t.conf:3: unknown key 'tabel' in [database \"users\"]" },
	{ "tc unknown key in aws", "[aws]\nprofil = x\n", ERR_PARSE, "t.conf:2: unknown key 'profil' in [aws]" },
	{ "tc bad database name", "[aws]\n[database \"us ers\"]\nurl=x\n", ERR_PARSE,
	  "t.conf:2: invalid database name \"us ers\": use letters, digits, '_', '.' and '-'" },
	{ "tc database without name", "[database]\n", ERR_PARSE,
	  "t.conf:1: [database] needs a name: write [database \"NAME\"]" },
	{ "tc unquoted database name", "[database users]\n", ERR_PARSE,
	  "t.conf:1: quote the database name: write [database \"NAME\"]" },
	{ "tc missing url", "[database \"a\"]\nurl=x\n\n[database \"users\"]\ntable = t\n", ERR_PARSE,
	  "t.conf:4: [database \"users\"] has no url: set url = URL, secret = ARN or flyway_conf = FILE" },
	{ "tc empty section missing url", "[database \"e\"]\n; nothing\n", ERR_PARSE,
	  "t.conf:1: [database \"e\"] has no url: set url = URL, secret = ARN or flyway_conf = FILE" },
	{ "tc duplicate database", "[database \"a\"]\nurl=x\n\n[database \"a\"]\nurl=y\n", ERR_PARSE,
	  "t.conf:4: database \"a\" is already defined at line 1" },
	{ "tc unknown section", "[aws]\n[servers]\n", ERR_PARSE,
	  "t.conf:2: unknown section [servers]: use [aws], [console], [ssm] or [database \"NAME\"]" },
	{ "tc unclosed section", "[aws\n", ERR_PARSE, "t.conf:1: missing ']' at the end of the section header" },
	{ "tc text after section", "[aws] x\n", ERR_PARSE, "t.conf:1: unexpected text after ']'" },
	{ "tc key outside section", "region = r\n", ERR_PARSE,
	  "t.conf:1: 'region' is outside any section: put it under [aws], [console], [ssm] or "
	  "[database \"NAME\"]" },
	{ "tc line without value", "[aws]\nregion = r\nprofile\n", ERR_PARSE,
	  "t.conf:3: expected 'key = value', a [section] or a comment" },
	{ "tc syntax error reported first", "[aws]\nprofile\n[console]\nread_only = maybe\n", ERR_PARSE,
	  "t.conf:2: expected 'key = value', a [section] or a comment" },
	{ "tc invalid boolean", "[console]\nread_only = yes\n", ERR_PARSE,
	  "t.conf:2: invalid boolean 'yes' for read_only: use true or false" },
	{ "tc invalid boolean in database", "[database \"a\"]\nurl = x\nout_of_order = 1\n", ERR_PARSE,
	  "t.conf:3: invalid boolean '1' for out_of_order: use true or false" },
	{ "tc invalid integer", "[database \"a\"]\nurl = x\nlock_retry_count = many\n", ERR_PARSE,
	  "t.conf:3: invalid integer 'many' for lock_retry_count: use a whole number" },
	{ "tc invalid pattern", "[database \"a\"]\nurl = x\n\nignore_migration_patterns = *:gone\n",
	  ERR_PARSE, "t.conf:4: Invalid migration state 'gone'. Valid states are: [*, missing, pending, "
	  "ignored, future]" },
	{ "tc placeholder without name", "[database \"a\"]\nurl = x\nplaceholder. = v\n", ERR_PARSE,
	  "t.conf:3: placeholder name missing: write placeholder.NAME = VALUE" },
	{ "tc later key wins", "[database \"a\"]\nurl = x\nurl = y\ntable = t\n", ERR_OK,
	  "db[a].url=y\ndb[a].table=t" },
	{ "tc database read_only", "[database \"a\"]\nurl = x\nread_only = true\n[database \"b\"]\nurl=y\n",
	  ERR_OK, "db[a].flags2=create:1 mixed:0 tx:1 txlock:1 ro:1 retry:50\n"
	  "db[b].flags2=create:1 mixed:0 tx:1 txlock:1 ro:0 retry:50" },
	{ "tc hash not inline comment", "[database \"a\"]\nurl = x#y\npassword = p;q ; c\n", ERR_OK,
	  "db[a].url=x#y\ndb[a].password=p;q" },
	{ "tc reopened simple section", "[aws]\nregion = a\n[console]\n[aws]\nprofile = p\n", ERR_OK,
	  "aws=p|a" },
};

static void run_tc_case(void **state)
{
	const struct text_case *t = *state;
	struct tui_conf c;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	tui_conf_init(&c);
	enum err_code rc = tui_conf_parse(&c, "t.conf", t->text, &e);
	dump_tui(&b, &c);
	assert_outcome(rc, &e, t->rc, t->want, b.ptr);
	tui_conf_release(&c);
	buf_release(&b);
}

/* A line longer than libinih's 200-byte buffer keeps its whole value. */
static void test_tc_long_line(void **state)
{
	(void)state;
	struct buf text = BUF_INIT, want = BUF_INIT;
	buf_adds(&want, "aws s3 sync s3://{bucket}/{prefix} /opt/flyway/sql/{database}");
	for (int i = 0; i < 40; i++)
		buf_addf(&want, " --exclude x%d", i);
	buf_addf(&text, "[ssm]\ncommand = %s  ; comment\ntarget = i-1\n", want.ptr);
	struct tui_conf c;
	struct err e = ERR_INIT;
	tui_conf_init(&c);
	assert_int_equal(tui_conf_parse(&c, "t.conf", text.ptr, &e), ERR_OK);
	assert_string_equal(c.ssm_command, want.ptr);
	assert_string_equal(c.ssm_target, "i-1");
	tui_conf_release(&c);
	buf_reset(&text);
	buf_adds(&text, "[ssm]\n");
	for (int i = 0; i < 300; i++)
		buf_addc(&text, 'k');
	buf_adds(&text, "\n");
	tui_conf_init(&c);
	assert_int_equal(tui_conf_parse(&c, "t.conf", text.ptr, &e), ERR_PARSE);
	assert_string_equal(e.msg, "t.conf:2: expected 'key = value'");
	tui_conf_release(&c);
	buf_release(&text);
	buf_release(&want);
}

/* ---- files: flyway_conf imports and the lookup order -------------------------------- */

static char tmpdir[256];

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/tarmac-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(tmpdir));
	write_file(tmpdir, "users.conf",
		   "flyway.url=jdbc:postgresql://db/users\nflyway.user=flyway\n"
		   "flyway.password=pw\nflyway.table=from_conf\nflyway.placeholders.X=conf\n"
		   "flyway.locations=filesystem:sql\n");
	write_file(tmpdir, "bad.conf", "flyway.url=x\nflyway.mixed=perhaps\n");
	return 0;
}

static int remove_tmpdir(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static enum err_code parse_in_tmp(struct tui_conf *c, const char *text, struct err *e)
{
	char name[512];
	snprintf(name, sizeof name, "%s/tarmac.conf", tmpdir);
	tui_conf_init(c);
	return tui_conf_parse(c, name, text, e);
}

static void test_import_overridden(void **state)
{
	(void)state;
	struct tui_conf c;
	struct err e = ERR_INIT;
	/* The section's keys win even when written before flyway_conf. */
	assert_int_equal(parse_in_tmp(&c, "[database \"users\"]\ntable = mine\n"
				      "placeholder.x = section\nflyway_conf = users.conf\n", &e), ERR_OK);
	struct tui_db_conf *db = tui_conf_find_db(&c, "users");
	assert_non_null(db);
	assert_null(tui_conf_find_db(&c, "nope"));
	char want[600];
	snprintf(want, sizeof want, "%s/users.conf", tmpdir);
	assert_string_equal(db->flyway_conf, want);
	assert_string_equal(db->eng.url, "jdbc:postgresql://db/users");
	assert_string_equal(db->eng.user, "flyway");
	assert_string_equal(db->eng.password, "pw");
	assert_string_equal(db->eng.table, "mine");
	assert_string_equal(db->eng.locations.items[0], "filesystem:sql");
	assert_int_equal(db->eng.placeholders.len, 1);
	const struct eng_kv *kv = db->eng.placeholders.items[0];
	assert_string_equal(kv->value, "section");
	tui_conf_release(&c);
}

static void test_import_errors(void **state)
{
	(void)state;
	struct tui_conf c;
	struct err e = ERR_INIT;
	char want[1024];
	assert_int_equal(parse_in_tmp(&c, "[database \"a\"]\n\nflyway_conf = missing.conf\n", &e), ERR_IO);
	snprintf(want, sizeof want, "%s/tarmac.conf:3: cannot read Flyway config %s/missing.conf: "
		 "No such file or directory", tmpdir, tmpdir);
	assert_string_equal(e.msg, want);
	tui_conf_release(&c);
	assert_int_equal(parse_in_tmp(&c, "[database \"a\"]\nflyway_conf = bad.conf\n", &e), ERR_PARSE);
	snprintf(want, sizeof want, "%s/tarmac.conf:2: %s/bad.conf:2: invalid boolean 'perhaps' for "
		 "flyway.mixed: use true or false", tmpdir, tmpdir);
	assert_string_equal(e.msg, want);
	tui_conf_release(&c);
}

static void test_load_lookup(void **state)
{
	(void)state;
	struct tui_conf c;
	struct err e = ERR_INIT;
	char path[600], cwd[1024];
	assert_non_null(getcwd(cwd, sizeof cwd));
	tui_conf_init(&c);
	assert_int_equal(tui_conf_load(&c, "/nonexistent-tarmac/x.conf", &e), ERR_IO);
	assert_string_equal(e.msg, "cannot read config /nonexistent-tarmac/x.conf: No such file or directory");
	tui_conf_release(&c);

	/* Nothing anywhere: not an error, no path. */
	assert_int_equal(chdir(tmpdir), 0);
	unsetenv("TARMAC_CONFIG");
	snprintf(path, sizeof path, "%s/xdg", tmpdir);
	setenv("XDG_CONFIG_HOME", path, 1);
	tui_conf_init(&c);
	assert_int_equal(tui_conf_load(&c, NULL, &e), ERR_OK);
	assert_null(c.path);
	tui_conf_release(&c);

	/* $XDG_CONFIG_HOME/tarmac/tarmac.conf. */
	snprintf(path, sizeof path, "%s/xdg", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/xdg/tarmac", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(path, "tarmac.conf", "[aws]\nregion = xdg\n");
	tui_conf_init(&c);
	assert_int_equal(tui_conf_load(&c, NULL, &e), ERR_OK);
	assert_string_equal(c.aws_region, "xdg");
	tui_conf_release(&c);

	/* ./tarmac.conf comes before XDG. */
	write_file(".", "tarmac.conf", "[aws]\nregion = cwd\n");
	tui_conf_init(&c);
	assert_int_equal(tui_conf_load(&c, NULL, &e), ERR_OK);
	assert_string_equal(c.aws_region, "cwd");
	assert_string_equal(c.path, "tarmac.conf");
	tui_conf_release(&c);

	/* $TARMAC_CONFIG comes before both and must exist. */
	write_file(tmpdir, "env.conf", "[aws]\nregion = env\n");
	snprintf(path, sizeof path, "%s/env.conf", tmpdir);
	setenv("TARMAC_CONFIG", path, 1);
	tui_conf_init(&c);
	assert_int_equal(tui_conf_load(&c, NULL, &e), ERR_OK);
	assert_string_equal(c.aws_region, "env");
	assert_string_equal(c.path, path);
	tui_conf_release(&c);
	setenv("TARMAC_CONFIG", "/nonexistent-tarmac/env.conf", 1);
	tui_conf_init(&c);
	assert_int_equal(tui_conf_load(&c, NULL, &e), ERR_IO);
	tui_conf_release(&c);

	/* -c beats everything and its errors name the file and line. */
	write_file(tmpdir, "c.conf", "[aws]\nregion = c\nbogus = 1\n");
	snprintf(path, sizeof path, "%s/c.conf", tmpdir);
	tui_conf_init(&c);
	assert_int_equal(tui_conf_load(&c, path, &e), ERR_PARSE);
	char want[800];
	snprintf(want, sizeof want, "%s:3: unknown key 'bogus' in [aws]", path);
	assert_string_equal(e.msg, want);
	tui_conf_release(&c);
	unsetenv("TARMAC_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(chdir(cwd), 0);
}

static void test_help(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	tui_conf_help(&b);
	assert_non_null(strstr(b.ptr, "[database \"NAME\"]\n"));
	assert_non_null(strstr(b.ptr, "placeholder.NAME"));
	assert_non_null(strstr(b.ptr, "(default: AWS-RunShellScript)"));
	assert_non_null(strstr(b.ptr, "(Flyway: baselineVersion)"));
	buf_release(&b);
}

/* ---- main: one cmocka test per table row --------------------------------------------- */

#define ADD_ROWS(tests, n, table, fn)                                          \
	for (size_t i_ = 0; i_ < sizeof(table) / sizeof((table)[0]); i_++)     \
		tests[n++] = (struct CMUnitTest){ (table)[i_].name, fn, NULL, NULL, \
						  (void *)(uintptr_t)&(table)[i_] }

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_tui_defaults),
		cmocka_unit_test(test_placeholder_replaced),
		cmocka_unit_test(test_list_replaced),
		cmocka_unit_test(test_fw_nul_and_size),
		cmocka_unit_test(test_tc_long_line),
		cmocka_unit_test(test_import_overridden),
		cmocka_unit_test(test_import_errors),
		cmocka_unit_test(test_load_lookup),
		cmocka_unit_test(test_help),
	};
	size_t max = sizeof fixed / sizeof fixed[0] + sizeof set_cases / sizeof set_cases[0] +
		sizeof fw_cases / sizeof fw_cases[0] + sizeof tc_cases / sizeof tc_cases[0];
	struct CMUnitTest *tests = calloc(max, sizeof *tests);
	size_t n = 0;
	setenv("TARMAC_TEST_USER", "alice", 1);
	setenv("TARMAC_TEST_KEY", "table", 1);
	unsetenv("TARMAC_TEST_UNSET_VAR");
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		tests[n++] = fixed[i];
	ADD_ROWS(tests, n, set_cases, run_set_case);
	ADD_ROWS(tests, n, fw_cases, run_fw_case);
	ADD_ROWS(tests, n, tc_cases, run_tc_case);
	int failed = _cmocka_run_group_tests("config", tests, n, make_tmpdir, remove_tmpdir);
	free(tests);
	return failed;
}
