/*
 * test_theme — tui/theme.c: colours, styles, theme files, degradation.
 *
 * Table-driven: every row of the colour, style, degradation and theme-text
 * tables below is its own cmocka test, named after the row. The fixed tests
 * check the role table, the shipped themes/NAME.theme files (read from the source
 * tree next to this file: each must load with no warning, set every role
 * and name itself), loading from search directories, and resolution for
 * 256, 16, 8 and no colours.
 *
 * Expected 256-colour indexes were worked out by hand from tmux's rule
 * (nearest of the 6x6x6 cube level and the grey ramp), the 16/8 ones from
 * xterm's default palette; they are not computed by the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tui/theme.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[256];

/* ---- helpers --------------------------------------------------------------- */

/* The source tree: this file is ROOT/tests/unit/test_theme.c. */
static const char *repo_root(void)
{
	static char root[1024];
	const char *file = __FILE__, *tail = "tests/unit/test_theme.c";
	size_t n = strlen(file), t = strlen(tail);
	if (n >= t && !strcmp(file + n - t, tail) && n - t < sizeof root) {
		memcpy(root, file, n - t);
		root[n - t] = 0;
	}
	if (!root[0])
		strcpy(root, "./");
	return root;
}

static void themes_dir(char *out, size_t size)
{
	snprintf(out, size, "%sthemes", repo_root());
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, NULL);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_str(const char *path, const char *text)
{
	write_file(path, text, strlen(text));
}

/* A fresh directory under the group's tmpdir. */
static void make_dir(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", tmpdir, name);
	assert_int_equal(mkdir(out, 0700), 0);
}

static void print_warnings(const struct vec *w)
{
	for (size_t i = 0; i < w->len; i++)
		print_message("warning: %s\n", (const char *)w->items[i]);
}

/* The canonical text of role `name` in t. */
static void role_style(const struct tui_theme *t, const char *name, char *out, size_t size)
{
	enum tui_role r;
	struct buf b = BUF_INIT;
	if (!tui_role_find(name, &r))
		fail_msg("no role %s", name);
	tui_style_format(&t->style[r], &b);
	snprintf(out, size, "%s", b.ptr);
	buf_release(&b);
}

static bool style_plain(const struct tui_style *s)
{
	static const struct tui_style plain;
	return tui_style_equal(s, &plain);
}

static bool themes_equal(const struct tui_theme *a, const struct tui_theme *b)
{
	if (strcmp(a->name, b->name))
		return false;
	for (size_t i = 0; i < TUI_ROLE_COUNT; i++)
		if (!tui_style_equal(&a->style[i], &b->style[i]))
			return false;
	return true;
}

/* Every role in a style no theme uses, to see which roles a file sets. */
static void init_sentinel(struct tui_theme *t)
{
	memset(t, 0, sizeof *t);
	strcpy(t->name, "sentinel");
	for (size_t i = 0; i < TUI_ROLE_COUNT; i++)
		assert_int_equal(tui_style_parse(&t->style[i],
						 "fg=colour123,bg=colour45,bold,dim,underline,"
						 "reverse,italic", NULL), ERR_OK);
}

static struct tui_colour colour(const char *text)
{
	struct tui_colour c = { TUI_COLOUR_DEFAULT, 0 };
	struct err e = ERR_INIT;
	if (tui_colour_parse(&c, text, &e))
		fail_msg("colour %s: %s", text, e.msg);
	return c;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/tarmac-test-theme.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- colours ----------------------------------------------------------------- */

enum { OK = 1, BAD = 0 };
enum { DEF = TUI_COLOUR_DEFAULT, IDX = TUI_COLOUR_INDEX, RGB = TUI_COLOUR_RGB };

struct colour_case {
	const char *name;
	const char *text;
	int ok;
	int kind;
	uint32_t value;
};

static const struct colour_case colour_cases[] = {
	{ "colour default", "default", OK, DEF, 0 },
	{ "colour DEFAULT", "DEFAULT", OK, DEF, 0 },
	{ "colour black", "black", OK, IDX, 0 },
	{ "colour red", "red", OK, IDX, 1 },
	{ "colour green", "green", OK, IDX, 2 },
	{ "colour yellow", "yellow", OK, IDX, 3 },
	{ "colour blue", "blue", OK, IDX, 4 },
	{ "colour magenta", "magenta", OK, IDX, 5 },
	{ "colour cyan", "cyan", OK, IDX, 6 },
	{ "colour white", "white", OK, IDX, 7 },
	{ "colour brightblack", "brightblack", OK, IDX, 8 },
	{ "colour brightred", "brightred", OK, IDX, 9 },
	{ "colour brightgreen", "brightgreen", OK, IDX, 10 },
	{ "colour brightyellow", "brightyellow", OK, IDX, 11 },
	{ "colour brightblue", "brightblue", OK, IDX, 12 },
	{ "colour brightmagenta", "brightmagenta", OK, IDX, 13 },
	{ "colour brightcyan", "brightcyan", OK, IDX, 14 },
	{ "colour brightwhite", "brightwhite", OK, IDX, 15 },
	{ "colour name case", "BrightRed", OK, IDX, 9 },
	{ "colour colour0", "colour0", OK, IDX, 0 },
	{ "colour colour255", "colour255", OK, IDX, 255 },
	{ "colour color17", "color17", OK, IDX, 17 },
	{ "colour Colour42", "Colour42", OK, IDX, 42 },
	{ "colour colour007", "colour007", OK, IDX, 7 },
	{ "colour #rrggbb", "#102030", OK, RGB, 0x102030 },
	{ "colour #RRGGBB", "#ABCDEF", OK, RGB, 0xabcdef },
	{ "colour #000000", "#000000", OK, RGB, 0 },
	{ "colour bad colour256", "colour256", BAD, 0, 0 },
	{ "colour bad colour-1", "colour-1", BAD, 0, 0 },
	{ "colour bad colour+1", "colour+1", BAD, 0, 0 },
	{ "colour bad colour", "colour", BAD, 0, 0 },
	{ "colour bad colour1x", "colour1x", BAD, 0, 0 },
	{ "colour bad colour1000", "colour1000", BAD, 0, 0 },
	{ "colour bad colour 1", "colour 1", BAD, 0, 0 },
	{ "colour bad #12345", "#12345", BAD, 0, 0 },
	{ "colour bad #1234567", "#1234567", BAD, 0, 0 },
	{ "colour bad #gg0000", "#gg0000", BAD, 0, 0 },
	{ "colour bad # 12345", "# 12345", BAD, 0, 0 },
	{ "colour bad #", "#", BAD, 0, 0 },
	{ "colour bad 0x102030", "0x102030", BAD, 0, 0 },
	{ "colour bad empty", "", BAD, 0, 0 },
	{ "colour bad rouge", "rouge", BAD, 0, 0 },
	{ "colour bad bright", "bright", BAD, 0, 0 },
	{ "colour bad 12", "12", BAD, 0, 0 },
};

static void run_colour_case(void **state)
{
	const struct colour_case *c = *state;
	struct tui_colour got = { TUI_COLOUR_RGB, 0x123456 };
	struct err e = ERR_INIT;
	enum err_code rc = tui_colour_parse(&got, c->text, &e);
	if (!c->ok) {
		assert_int_equal(rc, ERR_PARSE);
		assert_non_null(strstr(e.msg, "unknown colour '"));
		/* unchanged on error */
		assert_int_equal(got.kind, TUI_COLOUR_RGB);
		assert_int_equal(got.value, 0x123456);
		return;
	}
	assert_int_equal(rc, ERR_OK);
	assert_int_equal(got.kind, c->kind);
	if (c->kind != DEF)
		assert_int_equal(got.value, c->value);
}

/* ---- styles -------------------------------------------------------------------- */

struct style_case {
	const char *name;
	const char *text;
	const char *want;    /* canonical text, or NULL for an error */
	const char *err;     /* substring of the error */
};

static const struct style_case style_cases[] = {
	{ "style fg only", "fg=red", "fg=red", NULL },
	{ "style tmux full", "fg=red,bg=#102030,bold", "fg=red,bg=#102030,bold", NULL },
	{ "style colourN both", "fg=colour33,bg=color200", "fg=colour33,bg=colour200", NULL },
	{ "style colour low index as name", "fg=colour9", "fg=brightred", NULL },
	{ "style every attribute, canonical order", "italic,reverse,underline,dim,bold",
	  "bold,dim,underline,reverse,italic", NULL },
	{ "style blanks separate", "  fg=red  bold\tunderline ", "fg=red,bold,underline", NULL },
	{ "style empty tokens skipped", "fg=red,,bold,", "fg=red,bold", NULL },
	{ "style case-insensitive", "FG=Red,BG=BLUE,Bold", "fg=red,bg=blue,bold", NULL },
	{ "style none", "none", "default", NULL },
	{ "style default", "default", "default", NULL },
	{ "style none resets what came before", "fg=red,bg=blue,bold,none", "default", NULL },
	{ "style default then more", "fg=red,default,underline", "underline", NULL },
	{ "style noattr clears", "bold,underline,nobold", "underline", NULL },
	{ "style tmux bright", "bright", "bold", NULL },
	{ "style tmux underscore", "underscore", "underline", NULL },
	{ "style tmux italics", "italics", "italic", NULL },
	{ "style fg=default", "fg=default,bg=default", "default", NULL },
	{ "style later colour wins", "fg=red,fg=#00ff00", "fg=#00ff00", NULL },
	{ "style bad colour", "fg=rde", NULL, "unknown colour 'rde'" },
	{ "style bad bg colour", "bg=#12345,bold", NULL, "unknown colour '#12345'" },
	{ "style empty fg", "fg=", NULL, "unknown colour ''" },
	{ "style bad attribute", "bold,blink", NULL, "unknown attribute 'blink'" },
	{ "style bad noattr", "noblink", NULL, "unknown attribute 'noblink'" },
	{ "style colon not equals", "fg:red", NULL, "unknown attribute 'fg:red'" },
	{ "style bare colour", "red", NULL, "unknown attribute 'red'" },
	{ "style empty", "", NULL, "empty style" },
	{ "style only separators", " , ,", NULL, "empty style" },
	{ "style long token quoted and cut",
	  "fg=red,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL,
	  "unknown attribute 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'" },
};

static void run_style_case(void **state)
{
	const struct style_case *c = *state;
	struct tui_style st;
	struct err e = ERR_INIT;
	tui_style_parse(&st, "fg=green,underline", NULL);
	struct tui_style before = st;
	enum err_code rc = tui_style_parse(&st, c->text, &e);
	if (!c->want) {
		assert_int_equal(rc, ERR_PARSE);
		print_message("error: %s\n", e.msg);
		assert_non_null(strstr(e.msg, c->err));
		assert_true(tui_style_equal(&st, &before));
		return;
	}
	assert_int_equal(rc, ERR_OK);
	struct buf b = BUF_INIT;
	tui_style_format(&st, &b);
	assert_string_equal(b.ptr, c->want);
	/* the canonical text parses back to the same style */
	struct tui_style again;
	assert_int_equal(tui_style_parse(&again, b.ptr, NULL), ERR_OK);
	assert_true(tui_style_equal(&again, &st));
	buf_release(&b);
}

/* ---- degradation ------------------------------------------------------------------ */

struct degrade_case {
	const char *name;
	const char *colour;
	int c256, c16, c8;
};

static const struct degrade_case degrade_cases[] = {
	/* exact cube colours */
	{ "degrade #ff0000", "#ff0000", 196, 9, 1 },
	{ "degrade #000000", "#000000", 16, 0, 0 },
	{ "degrade #ffffff", "#ffffff", 231, 15, 7 },
	{ "degrade #5f87af", "#5f87af", 67, 8, 6 },
	{ "degrade #ff8700", "#ff8700", 208, 3, 3 },
	{ "degrade #d70000", "#d70000", 160, 1, 1 },
	{ "degrade #00ff00", "#00ff00", 46, 10, 2 },
	{ "degrade #0000ff", "#0000ff", 21, 4, 4 },
	/* greys: the ramp beats the cube */
	{ "degrade #808080", "#808080", 244, 8, 7 },
	{ "degrade #080808", "#080808", 232, 0, 0 },
	{ "degrade #eeeeee", "#eeeeee", 255, 7, 7 },
	{ "degrade #767676", "#767676", 243, 8, 7 },
	{ "degrade #1c1c1c", "#1c1c1c", 234, 0, 0 },
	/* greys match only greys on 8/16: #909090 is nearer yellow than white */
	{ "degrade #909090 grey stays grey", "#909090", 246, 8, 7 },
	{ "degrade #7f7f8f nearly grey", "#7f7f8f", 102, 8, 7 },
	/* past the ramp's top (238) the cube's white is nearer */
	{ "degrade #fafafa", "#fafafa", 231, 15, 7 },
	/* off the cube: nearest level per channel */
	{ "degrade #ffa500", "#ffa500", 214, 3, 3 },
	{ "degrade #102030", "#102030", 234, 0, 0 },
	/* palette indexes */
	{ "degrade colour196", "colour196", 196, 9, 1 },
	{ "degrade colour244", "colour244", 244, 8, 7 },
	{ "degrade colour16", "colour16", 16, 0, 0 },
	{ "degrade colour231", "colour231", 231, 15, 7 },
	{ "degrade brightred", "brightred", 9, 9, 1 },
	{ "degrade brightblack", "brightblack", 8, 8, 7 },
	{ "degrade red", "red", 1, 1, 1 },
	{ "degrade default", "default", -1, -1, -1 },
};

static void run_degrade_case(void **state)
{
	const struct degrade_case *c = *state;
	struct tui_colour col = colour(c->colour);
	assert_int_equal(tui_colour_to_256(col), c->c256);
	assert_int_equal(tui_colour_to_16(col), c->c16);
	assert_int_equal(tui_colour_to_8(col), c->c8);
}

/* Every cube and grey colour, given as #rrggbb, maps back to its own index. */
static void test_degrade_palette_exact(void **state)
{
	(void)state;
	static const int level[6] = { 0, 0x5f, 0x87, 0xaf, 0xd7, 0xff };
	for (int i = 16; i < 256; i++) {
		int r, g, b;
		if (i < 232) {
			r = level[(i - 16) / 36], g = level[(i - 16) / 6 % 6], b = level[(i - 16) % 6];
		} else {
			r = g = b = 8 + 10 * (i - 232);
		}
		struct tui_colour c = { TUI_COLOUR_RGB, (uint32_t)(r << 16 | g << 8 | b) };
		if (tui_colour_to_256(c) != i)
			fail_msg("#%02x%02x%02x gave %d, not %d", r, g, b, tui_colour_to_256(c), i);
		struct tui_colour idx = { TUI_COLOUR_INDEX, (uint32_t)i };
		assert_int_equal(tui_colour_to_256(idx), i);
		assert_in_range(tui_colour_to_16(c), 0, 15);
		assert_in_range(tui_colour_to_8(c), 0, 7);
	}
	for (uint32_t i = 0; i < 16; i++) {
		struct tui_colour idx = { TUI_COLOUR_INDEX, i };
		assert_int_equal(tui_colour_to_16(idx), (int)i);
		if (i < 8)
			assert_int_equal(tui_colour_to_8(idx), (int)i);
	}
}

/* ---- theme text ---------------------------------------------------------------------- */

struct role_check {
	const char *role;
	const char *style;
};

struct parse_case {
	const char *name;
	const char *text;
	const char *warn[4];           /* prefixes, in order; the count must match */
	struct role_check check[4];
	const char *theme_name;        /* expected t.name, or NULL */
};

static const char spec_example[] =
	"[meta]\nname = default\n[header]\nbar = fg=white,bg=blue\n"
	"prod = fg=white,bg=red,bold\nreadonly = fg=black,bg=yellow,bold\n"
	"[table]\ncursor = fg=black,bg=cyan\nheading = bold\n"
	"[state]\nsuccess = fg=green\npending = fg=yellow\nfailed = fg=red,bold\n"
	"missing = fg=magenta\noutdated = fg=yellow,underline\nignored = dim\n"
	"baseline = fg=blue\nmismatch = fg=red,reverse\n"
	"[dialog]\ndanger = fg=white,bg=red,bold\n"
	"[log]\nerror = fg=red,bold\ntimestamp = dim\n";

static const struct parse_case parse_cases[] = {
	{ "theme spec example", spec_example, { NULL },
	  { { "header.prod", "fg=white,bg=red,bold" }, { "state.mismatch", "fg=red,reverse" },
	    { "table.cursor", "fg=black,bg=cyan" }, { "log.timestamp", "dim" } },
	  "default" },
	{ "theme bad colour, the rest loads",
	  "[state]\nsuccess = fg=blue\nfailed = fg=rde\npending = fg=cyan\n",
	  { "t:3: state.failed: unknown colour 'rde'" },
	  { { "state.success", "fg=blue" }, { "state.pending", "fg=cyan" },
	    { "state.failed", "fg=red,bold" } },
	  NULL },
	{ "theme bad attribute, the rest loads",
	  "[table]\nheading = bold,blink\ncursor = reverse\n",
	  { "t:2: table.heading: unknown attribute 'blink'" },
	  { { "table.heading", "bold" }, { "table.cursor", "reverse" } }, NULL },
	{ "theme unknown section",
	  "[nope]\nbar = bold\n[header]\nbar = fg=red\n",
	  { "t:1: unknown section [nope] (known: meta, header, crumbs," },
	  { { "header.bar", "fg=red" } }, NULL },
	{ "theme unknown key",
	  "[state]\nsucess = fg=blue\nfailed = fg=blue\n",
	  { "t:2: unknown key 'sucess' in [state] (known: success, pending, failed," },
	  { { "state.failed", "fg=blue" }, { "state.success", "fg=green" } }, NULL },
	{ "theme key in wrong section",
	  "[header]\nfailed = fg=blue\n",
	  { "t:2: unknown key 'failed' in [header]" },
	  { { "state.failed", "fg=red,bold" } }, NULL },
	{ "theme key before any section",
	  "bar = bold\n[header]\nbar = reverse\n",
	  { "t:1: 'bar' comes before any [section]" },
	  { { "header.bar", "reverse" } }, NULL },
	{ "theme line without equals",
	  "[header]\njust some words\nbar = reverse\n",
	  { "t:2: expected 'key = style', not 'just some words'" },
	  { { "header.bar", "reverse" } }, NULL },
	{ "theme broken section header skips its keys",
	  "[header\nbar = fg=red\n[state]\nfailed = fg=blue\n",
	  { "t:1: expected '[section]', not '[header'" },
	  { { "header.bar", "fg=white,bg=blue" }, { "state.failed", "fg=blue" } }, NULL },
	{ "theme text after section header",
	  "[header] junk\nbar = fg=red\n",
	  { "t:1: expected '[section]'" },
	  { { "header.bar", "fg=white,bg=blue" } }, NULL },
	{ "theme empty style",
	  "[header]\nbar =\nprod = reverse\n",
	  { "t:2: header.bar: empty style" },
	  { { "header.bar", "fg=white,bg=blue" }, { "header.prod", "reverse" } }, NULL },
	{ "theme line numbers count blanks and comments",
	  "\n\n; comment\n# comment\n[state]\n\nfailed = fg=nope\n",
	  { "t:7: state.failed: unknown colour 'nope'" }, { { NULL, NULL } }, NULL },
	{ "theme several warnings in order",
	  "[state]\nfailed = fg=x\n[bad]\n[state]\npending = blink\nnokey\n",
	  { "t:2: state.failed:", "t:3: unknown section [bad]", "t:5: state.pending:",
	    "t:6: expected 'key = style'" },
	  { { NULL, NULL } }, NULL },
	{ "theme comments everywhere",
	  "; a\n# b\n  ; indented\n[header] ; c\nbar = fg=red ; trailing\n"
	  "prod = fg=#102030 # trailing, after a blank\nreadonly = fg=#aabbcc\t;tab\n",
	  { NULL },
	  { { "header.bar", "fg=red" }, { "header.prod", "fg=#102030" },
	    { "header.readonly", "fg=#aabbcc" } }, NULL },
	{ "theme CRLF line ends", "[header]\r\nbar = fg=red\r\n", { NULL },
	  { { "header.bar", "fg=red" } }, NULL },
	{ "theme no final newline", "[header]\nbar = fg=red", { NULL },
	  { { "header.bar", "fg=red" } }, NULL },
	{ "theme UTF-8 byte order mark", "\xef\xbb\xbf[header]\nbar = fg=red\n", { NULL },
	  { { "header.bar", "fg=red" } }, NULL },
	{ "theme sections and keys case-insensitive", "[HEADER]\nBar = FG=Red\n", { NULL },
	  { { "header.bar", "fg=red" } }, NULL },
	{ "theme later line wins", "[state]\nfailed = fg=blue\nfailed = fg=cyan\n", { NULL },
	  { { "state.failed", "fg=cyan" } }, NULL },
	{ "theme none resets a role", "[state]\nfailed = none\n", { NULL },
	  { { "state.failed", "default" } }, NULL },
	{ "theme every colour form",
	  "[header]\nbar = fg=colour33,bg=#0a0b0c,underline\nprod = fg=color7,bg=brightred\n"
	  "env = bg=default,fg=default,italic\n",
	  { NULL },
	  { { "header.bar", "fg=colour33,bg=#0a0b0c,underline" },
	    { "header.prod", "fg=white,bg=brightred" }, { "header.env", "italic" } }, NULL },
	{ "theme meta name", "[meta]\nname = Sunset Strip\n", { NULL }, { { NULL, NULL } },
	  "Sunset Strip" },
	{ "theme comment right after equals", "[meta]\nname =; not a name\n[header]\nbar =#x\n",
	  { "t:2: [meta] name must be", "t:4: header.bar: empty style" }, { { NULL, NULL } },
	  "default" },
	{ "theme meta unknown key", "[meta]\nauthor = me\nname = x\n",
	  { "t:2: unknown key 'author' in [meta] (known: name)" }, { { NULL, NULL } }, "x" },
	{ "theme meta name too long",
	  "[meta]\nname = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  { "t:2: [meta] name must be 1 to 63 printable ASCII characters" }, { { NULL, NULL } },
	  "default" },
	{ "theme escape bytes are not echoed",
	  "[state]\nfailed = fg=\x1b[31m\n[\x1b]0;pwned\x07]\n",
	  { "t:2: state.failed: unknown colour '?[31m'", "t:3: expected '[section]', not '[?]0;pwned?]'" },
	  { { NULL, NULL } }, NULL },
	{ "theme long garbage is quoted short",
	  "[state]\nfailed = bold,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	  { "t:2: state.failed: unknown attribute 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'" },
	  { { NULL, NULL } }, NULL },
};

static void run_parse_case(void **state)
{
	const struct parse_case *c = *state;
	struct tui_theme t;
	struct vec w = VEC_INIT;
	struct err e = ERR_INIT;
	char got[256];
	size_t nwarn = 0;
	tui_theme_init_default(&t);
	assert_int_equal(tui_theme_parse(&t, "t", c->text, &w, &e), ERR_OK);
	print_warnings(&w);
	while (nwarn < COUNT(c->warn) && c->warn[nwarn])
		nwarn++;
	assert_int_equal(w.len, nwarn);
	for (size_t i = 0; i < nwarn; i++) {
		const char *have = w.items[i];
		if (strncmp(have, c->warn[i], strlen(c->warn[i])))
			fail_msg("warning %zu is \"%s\", expected \"%s...\"", i, have, c->warn[i]);
		for (const char *p = have; *p; p++)
			assert_true(*p >= 0x20 && *p < 0x7f);
		assert_true(strlen(have) < 400);
	}
	for (size_t i = 0; i < COUNT(c->check) && c->check[i].role; i++) {
		role_style(&t, c->check[i].role, got, sizeof got);
		if (strcmp(got, c->check[i].style))
			fail_msg("%s is \"%s\", expected \"%s\"", c->check[i].role, got,
				 c->check[i].style);
	}
	if (c->theme_name)
		assert_string_equal(t.name, c->theme_name);
	vec_free_strs(&w);
}

/* A file of garbage yields a bounded number of warnings. */
static void test_parse_warnings_capped(void **state)
{
	(void)state;
	struct buf text = BUF_INIT;
	struct vec w = VEC_INIT;
	struct tui_theme t;
	tui_theme_init_default(&t);
	buf_adds(&text, "[state]\n");
	for (int i = 0; i < 500; i++)
		buf_adds(&text, "failed = sparkly\n");
	buf_adds(&text, "pending = fg=blue\n");
	assert_int_equal(tui_theme_parse(&t, "t", text.ptr, &w, NULL), ERR_OK);
	assert_int_equal(w.len, TUI_THEME_MAX_WARNINGS + 1);
	assert_string_equal(w.items[0], "t:2: state.failed: unknown attribute 'sparkly' (use "
			    "fg=COLOUR, bg=COLOUR, bold, dim, underline, reverse, italic, noATTR "
			    "or none)");
	assert_string_equal(w.items[TUI_THEME_MAX_WARNINGS],
			    "t: more than 32 problems; the rest are not listed");
	char got[64];
	role_style(&t, "state.pending", got, sizeof got);
	assert_string_equal(got, "fg=blue");   /* still loaded after the cap */
	vec_free_strs(&w);
	buf_release(&text);
}

static void test_parse_size_cap(void **state)
{
	(void)state;
	struct buf text = BUF_INIT;
	struct tui_theme t, before;
	struct err e = ERR_INIT;
	tui_theme_init_default(&t);
	before = t;
	buf_adds(&text, "[state]\nfailed = fg=blue\n");
	while (text.len < TUI_THEME_MAX_BYTES)
		buf_addc(&text, text.len % 64 ? ';' : '\n');
	buf_setlen(&text, TUI_THEME_MAX_BYTES);
	assert_int_equal(tui_theme_parse(&t, "t", text.ptr, NULL, &e), ERR_OK);
	char got[64];
	role_style(&t, "state.failed", got, sizeof got);
	assert_string_equal(got, "fg=blue");

	t = before;
	buf_addc(&text, ';');
	assert_int_equal(tui_theme_parse(&t, "big", text.ptr, NULL, &e), ERR_TOO_LARGE);
	assert_string_equal(e.msg, "theme big is larger than 64 KiB; is it a theme?");
	assert_true(themes_equal(&t, &before));
	buf_release(&text);
}

/* ---- roles and the built-in themes ------------------------------------------------- */

static void test_roles_table(void **state)
{
	(void)state;
	for (int i = 0; i < TUI_ROLE_COUNT; i++) {
		const char *name = tui_role_name((enum tui_role)i);
		enum tui_role found;
		assert_non_null(name);
		assert_non_null(strchr(name, '.'));
		assert_true(strlen(tui_role_help((enum tui_role)i)) > 5);
		/* unique: the lookup finds this very row */
		assert_true(tui_role_find(name, &found));
		assert_int_equal(found, i);
	}
	enum tui_role r;
	assert_true(tui_role_find("STATE.Failed", &r));
	assert_int_equal(r, TUI_ROLE_STATE_FAILED);
	assert_false(tui_role_find("state", &r));
	assert_false(tui_role_find("state.", &r));
	assert_false(tui_role_find(".failed", &r));
	assert_false(tui_role_find("state.failed.x", &r));
	assert_false(tui_role_find("stat.failed", &r));
	assert_string_equal(tui_role_name(TUI_ROLE_COUNT), "?");
}

/* Every key of spec/console.md's example, and the roles a console needs. */
static void test_roles_cover_spec(void **state)
{
	(void)state;
	static const char *const names[] = {
		"header.bar", "header.prod", "header.readonly", "table.cursor", "table.heading",
		"state.success", "state.pending", "state.failed", "state.missing",
		"state.outdated", "state.ignored", "state.baseline", "state.mismatch",
		"dialog.danger", "log.error", "log.timestamp",
		"footer.hint", "footer.key", "flash.ok", "flash.error", "pane.border",
		"pane.title", "pane.focus", "help.blocked", "log.stderr", "crumbs.text",
		"state.future",
	};
	for (size_t i = 0; i < COUNT(names); i++) {
		enum tui_role r;
		if (!tui_role_find(names[i], &r))
			fail_msg("no role %s", names[i]);
	}
}

static void test_default_sets_every_role(void **state)
{
	(void)state;
	struct tui_theme t;
	tui_theme_init_default(&t);
	assert_string_equal(t.name, "default");
	for (int i = 0; i < TUI_ROLE_COUNT; i++)
		if (style_plain(&t.style[i]))
			fail_msg("the default theme leaves %s plain", tui_role_name((enum tui_role)i));
	char got[64];
	role_style(&t, "state.failed", got, sizeof got);
	assert_string_equal(got, "fg=red,bold");
	role_style(&t, "header.prod", got, sizeof got);
	assert_string_equal(got, "fg=white,bg=red,bold");
}

static void test_mono_has_no_colour(void **state)
{
	(void)state;
	struct tui_theme t;
	tui_theme_init_mono(&t);
	assert_string_equal(t.name, "monochrome");
	for (int i = 0; i < TUI_ROLE_COUNT; i++) {
		assert_int_equal(t.style[i].fg.kind, TUI_COLOUR_DEFAULT);
		assert_int_equal(t.style[i].bg.kind, TUI_COLOUR_DEFAULT);
	}
}

static void test_help(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	tui_theme_help(&b);
	assert_non_null(strstr(b.ptr, "state.failed"));
	assert_non_null(strstr(b.ptr, "(default: fg=red,bold; monochrome: bold,reverse)"));
	size_t lines = 0;
	for (const char *p = b.ptr; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, TUI_ROLE_COUNT);
	buf_release(&b);
}

/* Format, parse back over a sentinel: no warning, same theme. */
static void assert_roundtrip(const struct tui_theme *t)
{
	struct buf text = BUF_INIT;
	struct vec w = VEC_INIT;
	struct tui_theme back;
	tui_theme_format(t, &text);
	init_sentinel(&back);
	assert_int_equal(tui_theme_parse(&back, "roundtrip", text.ptr, &w, NULL), ERR_OK);
	print_warnings(&w);
	assert_int_equal(w.len, 0);
	if (!themes_equal(&back, t))
		fail_msg("%s does not survive format and parse:\n%s", t->name, text.ptr);
	vec_free_strs(&w);
	buf_release(&text);
}

static void test_format_roundtrip_builtin(void **state)
{
	(void)state;
	struct tui_theme t;
	tui_theme_init_default(&t);
	assert_roundtrip(&t);
	tui_theme_init_mono(&t);
	assert_roundtrip(&t);
	/* every colour form */
	assert_int_equal(tui_theme_parse(&t, "t", "[header]\nbar = fg=#0a0b0c,bg=colour200,italic\n"
					 "prod = fg=brightcyan,nodim\n", NULL, NULL), ERR_OK);
	assert_roundtrip(&t);
}

/* ---- the shipped themes ------------------------------------------------------------- */

/* Parses ROOT/themes/NAME.theme over t; the warnings go to w. */
static void parse_shipped(struct tui_theme *t, const char *name, struct vec *w)
{
	char dir[1024], path[1100];
	themes_dir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/%s.theme", dir, name);
	char *text = slurp(path);
	assert_int_equal(tui_theme_parse(t, name, text, w, NULL), ERR_OK);
	free(text);
}

static void test_shipped_themes(void **state)
{
	(void)state;
	static const char *const required[] = {
		"default", "light", "monochrome", "prod-alert", "deuteranopia",
	};
	char dir[1024];
	size_t found = 0, total = 0;
	themes_dir(dir, sizeof dir);
	DIR *d = opendir(dir);
	if (!d) {
		fail_msg("cannot open %s", dir);
		return;
	}
	for (struct dirent *de; (de = readdir(d));) {
		size_t n = strlen(de->d_name);
		if (n < 7 || strcmp(de->d_name + n - 6, ".theme"))
			continue;
		char stem[256];
		snprintf(stem, sizeof stem, "%.*s", (int)(n - 6), de->d_name);
		struct tui_theme t;
		struct vec w = VEC_INIT;
		init_sentinel(&t);
		parse_shipped(&t, stem, &w);
		print_warnings(&w);
		if (w.len)
			fail_msg("themes/%s has %zu warnings", de->d_name, w.len);
		for (int i = 0; i < TUI_ROLE_COUNT; i++) {
			struct tui_theme s;
			init_sentinel(&s);
			if (tui_style_equal(&t.style[i], &s.style[i]))
				fail_msg("themes/%s does not set %s", de->d_name,
					 tui_role_name((enum tui_role)i));
		}
		assert_string_equal(t.name, stem);
		assert_roundtrip(&t);
		for (size_t i = 0; i < COUNT(required); i++)
			found += !strcmp(stem, required[i]);
		total++;
		vec_free_strs(&w);
	}
	closedir(d);
	assert_int_equal(found, COUNT(required));
	assert_true(total >= COUNT(required));
}

static void test_default_file_is_builtin(void **state)
{
	(void)state;
	struct tui_theme file, builtin;
	tui_theme_init_mono(&file);
	parse_shipped(&file, "default", NULL);
	tui_theme_init_default(&builtin);
	assert_true(themes_equal(&file, &builtin));
}

static void test_mono_file_is_builtin(void **state)
{
	(void)state;
	struct tui_theme file, builtin;
	tui_theme_init_default(&file);
	parse_shipped(&file, "monochrome", NULL);
	tui_theme_init_mono(&builtin);
	assert_true(themes_equal(&file, &builtin));
}

/*
 * Simulated deuteranopia (Machado, Oliveira & Fernandes 2009, severity 1,
 * applied in linear RGB); returns the sRGB distance between two colours
 * as a deuteranope sees them.
 */
static double lin(double c)
{
	c /= 255;
	return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double unlin(double l)
{
	l = l < 0 ? 0 : l > 1 ? 1 : l;
	return 255 * (l <= 0.0031308 ? l * 12.92 : 1.055 * pow(l, 1 / 2.4) - 0.055);
}

static double deutan_distance(uint32_t a, uint32_t b)
{
	static const double m[3][3] = {
		{ 0.367322, 0.860646, -0.227968 },
		{ 0.280085, 0.672501, 0.047413 },
		{ -0.011820, 0.042940, 0.968881 },
	};
	double sum = 0;
	for (int k = 0; k < 3; k++) {
		double va = 0, vb = 0;
		for (int j = 0; j < 3; j++) {
			va += m[k][j] * lin((double)(a >> (16 - 8 * j) & 0xff));
			vb += m[k][j] * lin((double)(b >> (16 - 8 * j) & 0xff));
		}
		sum += (unlin(va) - unlin(vb)) * (unlin(va) - unlin(vb));
	}
	return sqrt(sum);
}

static bool red_or_green(int idx)
{
	return idx == 1 || idx == 2 || idx == 9 || idx == 10;
}

static void test_deuteranopia_not_red_green(void **state)
{
	(void)state;
	struct tui_theme t;
	struct tui_pens pens;
	tui_theme_init_default(&t);
	parse_shipped(&t, "deuteranopia", NULL);
	const struct tui_style *ok = &t.style[TUI_ROLE_STATE_SUCCESS];
	const struct tui_style *bad = &t.style[TUI_ROLE_STATE_FAILED];
	assert_int_equal(ok->fg.kind, TUI_COLOUR_RGB);
	assert_int_equal(bad->fg.kind, TUI_COLOUR_RGB);
	/* the check itself tells red from green apart: xterm's red and green
	 * fail it, the theme's pair passes it by a wide margin */
	assert_true(deutan_distance(0x00cd00, 0xcd0000) < 150);
	assert_true(deutan_distance(ok->fg.value, bad->fg.value) >= 150);
	/* and on smaller terminals neither becomes red or green */
	static const int depths[] = { 256, 16, 8 };
	for (size_t i = 0; i < COUNT(depths); i++) {
		tui_theme_resolve(&t, depths[i], false, &pens);
		struct tui_pen s = pens.role[TUI_ROLE_STATE_SUCCESS];
		struct tui_pen f = pens.role[TUI_ROLE_STATE_FAILED];
		assert_int_not_equal(s.fg, f.fg);
		if (depths[i] < 256) {
			assert_false(red_or_green(s.fg));
			assert_false(red_or_green(f.fg));
		}
		assert_true(f.attrs & TUI_ATTR_BOLD);
	}
}

/* ---- loading ------------------------------------------------------------------------ */

static void test_load_first_dir_wins(void **state)
{
	(void)state;
	char d1[512], d2[512], path[600], got[64];
	struct vec dirs = VEC_INIT, w = VEC_INIT;
	struct tui_theme t;
	struct err e = ERR_INIT;
	make_dir(d1, sizeof d1, "first");
	make_dir(d2, sizeof d2, "second");
	snprintf(path, sizeof path, "%s/x.theme", d1);
	write_str(path, "[state]\nfailed = fg=blue\n");
	snprintf(path, sizeof path, "%s/x.theme", d2);
	write_str(path, "[state]\nfailed = fg=cyan\n");
	snprintf(path, sizeof path, "%s/y.theme", d2);
	write_str(path, "[meta]\nname = Why\n[state]\nfailed = fg=cyan\n");
	vec_push_str(&dirs, d1);
	vec_push_str(&dirs, d2);
	init_sentinel(&t);
	assert_int_equal(tui_theme_load(&t, "x", &dirs, &w, &e), ERR_OK);
	role_style(&t, "state.failed", got, sizeof got);
	assert_string_equal(got, "fg=blue");
	/* loaded over the default: the roles it does not name are the default's */
	role_style(&t, "header.bar", got, sizeof got);
	assert_string_equal(got, "fg=white,bg=blue");
	assert_string_equal(t.name, "x");
	assert_int_equal(tui_theme_load(&t, "y", &dirs, &w, &e), ERR_OK);
	role_style(&t, "state.failed", got, sizeof got);
	assert_string_equal(got, "fg=cyan");
	assert_string_equal(t.name, "Why");
	assert_int_equal(w.len, 0);
	vec_free_strs(&dirs);
}

static void test_load_warnings_name_the_file(void **state)
{
	(void)state;
	char d[512], path[600], want[700], got[64];
	static const char text[] = "[state]\nfai\0led = x\nfailed = fg=nope\nsuccess = fg=blue\n";
	struct vec dirs = VEC_INIT, w = VEC_INIT;
	struct tui_theme t;
	make_dir(d, sizeof d, "warn");
	snprintf(path, sizeof path, "%s/w.theme", d);
	write_file(path, text, sizeof text - 1);
	vec_push_str(&dirs, d);
	assert_int_equal(tui_theme_load(&t, "w", &dirs, &w, NULL), ERR_OK);
	print_warnings(&w);
	assert_int_equal(w.len, 2);
	snprintf(want, sizeof want, "%s:2: the line holds a NUL byte; it is ignored", path);
	assert_string_equal(w.items[0], want);
	snprintf(want, sizeof want, "%s:3: state.failed: unknown colour 'nope'", path);
	assert_memory_equal(w.items[1], want, strlen(want));
	role_style(&t, "state.success", got, sizeof got);
	assert_string_equal(got, "fg=blue");
	vec_free_strs(&w);
	vec_free_strs(&dirs);
}

static void test_load_builtin_fallback(void **state)
{
	(void)state;
	struct vec dirs = VEC_INIT;
	struct tui_theme t, want;
	struct err e = ERR_INIT;
	char d[512];
	make_dir(d, sizeof d, "empty");
	vec_push_str(&dirs, d);
	vec_push_str(&dirs, "/nonexistent-tarmac/themes");
	init_sentinel(&t);
	assert_int_equal(tui_theme_load(&t, "default", &dirs, NULL, &e), ERR_OK);
	tui_theme_init_default(&want);
	assert_true(themes_equal(&t, &want));
	assert_int_equal(tui_theme_load(&t, "monochrome", &dirs, NULL, &e), ERR_OK);
	tui_theme_init_mono(&want);
	assert_true(themes_equal(&t, &want));

	struct tui_theme before = t;
	assert_int_equal(tui_theme_load(&t, "light", &dirs, NULL, &e), ERR_IO);
	char msg[1200];
	snprintf(msg, sizeof msg, "no theme 'light': looked for light.theme in %s, "
		 "/nonexistent-tarmac/themes; the built-in themes are default and monochrome", d);
	assert_string_equal(e.msg, msg);
	assert_true(themes_equal(&t, &before));
	vec_free_strs(&dirs);
}

static void test_load_errors(void **state)
{
	(void)state;
	static const char *const bad_names[] = {
		"", "../etc/passwd", "a/b", ".hidden", "with space", "tab\t",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	char d[512], path[600];
	struct vec dirs = VEC_INIT;
	struct tui_theme t, before;
	struct err e = ERR_INIT;
	make_dir(d, sizeof d, "errors");
	vec_push_str(&dirs, d);
	tui_theme_init_default(&t);
	before = t;
	for (size_t i = 0; i < COUNT(bad_names); i++) {
		assert_int_equal(tui_theme_load(&t, bad_names[i], &dirs, NULL, &e), ERR_USAGE);
		assert_non_null(strstr(e.msg, "bad theme name"));
	}
	/* too large */
	struct buf big = BUF_INIT;
	buf_adds(&big, "[state]\nfailed = fg=blue\n");
	while (big.len <= TUI_THEME_MAX_BYTES)
		buf_adds(&big, "; filler filler filler filler filler filler\n");
	snprintf(path, sizeof path, "%s/big.theme", d);
	write_file(path, big.ptr, big.len);
	assert_int_equal(tui_theme_load(&t, "big", &dirs, NULL, &e), ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "big.theme is larger than 64 KiB"));
	/* unreadable: a directory where the file should be */
	snprintf(path, sizeof path, "%s/dir.theme", d);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(tui_theme_load(&t, "dir", &dirs, NULL, &e), ERR_IO);
	assert_non_null(strstr(e.msg, "cannot read theme"));
	assert_true(themes_equal(&t, &before));
	buf_release(&big);
	vec_free_strs(&dirs);
}

static void test_theme_dirs(void **state)
{
	(void)state;
	struct vec dirs = VEC_INIT;
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	setenv("HOME", "/home/op", 1);
	tui_theme_dirs(&dirs, "/opt/tarmac/bin/tarmac");
	assert_int_equal(dirs.len, 3);
	assert_string_equal(dirs.items[0], "themes");
	assert_string_equal(dirs.items[1], "/xdg/tarmac/themes");
	assert_string_equal(dirs.items[2], "/opt/tarmac/bin/../share/tarmac/themes");
	vec_free_strs(&dirs);

	setenv("XDG_CONFIG_HOME", "relative", 1);   /* ignored, as XDG says */
	tui_theme_dirs(&dirs, "tarmac");             /* no directory part */
	assert_int_equal(dirs.len, 2);
	assert_string_equal(dirs.items[1], "/home/op/.config/tarmac/themes");
	vec_free_strs(&dirs);

	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	tui_theme_dirs(&dirs, NULL);
	assert_int_equal(dirs.len, 1);
	vec_free_strs(&dirs);
	if (home)
		setenv("HOME", home, 1);
	free(home);
}

/* The shipped directory works as a search directory too. */
static void test_load_shipped(void **state)
{
	(void)state;
	char dir[1024], got[64];
	struct vec dirs = VEC_INIT, w = VEC_INIT;
	struct tui_theme t;
	themes_dir(dir, sizeof dir);
	vec_push_str(&dirs, dir);
	assert_int_equal(tui_theme_load(&t, "prod-alert", &dirs, &w, NULL), ERR_OK);
	assert_int_equal(w.len, 0);
	assert_string_equal(t.name, "prod-alert");
	role_style(&t, "pane.border", got, sizeof got);
	assert_string_equal(got, "fg=red");
	vec_free_strs(&dirs);
}

/* ---- resolving ---------------------------------------------------------------------- */

static void test_resolve_default_256(void **state)
{
	(void)state;
	struct tui_theme t;
	struct tui_pens p;
	tui_theme_init_default(&t);
	tui_theme_resolve(&t, 256, false, &p);
	assert_int_equal(p.ncolours, 256);
	assert_int_equal(p.role[TUI_ROLE_HEADER_BAR].fg, 7);
	assert_int_equal(p.role[TUI_ROLE_HEADER_BAR].bg, 4);
	assert_int_equal(p.role[TUI_ROLE_HEADER_BAR].attrs, 0);
	assert_int_equal(p.role[TUI_ROLE_STATE_FAILED].fg, 1);
	assert_int_equal(p.role[TUI_ROLE_STATE_FAILED].bg, -1);
	assert_int_equal(p.role[TUI_ROLE_STATE_FAILED].attrs, TUI_ATTR_BOLD);
	assert_int_equal(p.role[TUI_ROLE_STATE_IGNORED].fg, -1);
	assert_int_equal(p.role[TUI_ROLE_STATE_IGNORED].attrs, TUI_ATTR_DIM);
}

struct depth_case {
	int ncolours;
	int depth, fg, bg;
};

static void test_resolve_depths(void **state)
{
	(void)state;
	static const struct depth_case cases[] = {
		{ 1 << 24, 256, 196, 244 }, { 256, 256, 196, 244 }, { 88, 16, 9, 8 },
		{ 16, 16, 9, 8 }, { 15, 8, 1, 7 }, { 8, 8, 1, 7 },
		{ 7, 0, -1, -1 }, { 2, 0, -1, -1 }, { 0, 0, -1, -1 }, { -1, 0, -1, -1 },
	};
	struct tui_theme t;
	struct tui_pens p;
	tui_theme_init_default(&t);
	assert_int_equal(tui_theme_parse(&t, "t", "[state]\nfailed = fg=#ff0000,bg=#808080,"
					 "underline\n", NULL, NULL), ERR_OK);
	for (size_t i = 0; i < COUNT(cases); i++) {
		tui_theme_resolve(&t, cases[i].ncolours, false, &p);
		print_message("ncolours %d\n", cases[i].ncolours);
		assert_int_equal(p.ncolours, cases[i].depth);
		assert_int_equal(p.role[TUI_ROLE_STATE_FAILED].fg, cases[i].fg);
		assert_int_equal(p.role[TUI_ROLE_STATE_FAILED].bg, cases[i].bg);
		/* monochrome takes the built-in monochrome attributes */
		assert_int_equal(p.role[TUI_ROLE_STATE_FAILED].attrs,
				 cases[i].depth ? TUI_ATTR_UNDERLINE : TUI_ATTR_BOLD | TUI_ATTR_REVERSE);
		for (int r = 0; r < TUI_ROLE_COUNT; r++) {
			assert_in_range(p.role[r].fg + 1, 0, (unsigned)cases[i].depth);
			assert_in_range(p.role[r].bg + 1, 0, (unsigned)cases[i].depth);
		}
	}
}

static const enum tui_role state_roles[] = {
	TUI_ROLE_STATE_SUCCESS, TUI_ROLE_STATE_PENDING, TUI_ROLE_STATE_FAILED,
	TUI_ROLE_STATE_MISSING, TUI_ROLE_STATE_FUTURE, TUI_ROLE_STATE_OUTDATED,
	TUI_ROLE_STATE_IGNORED, TUI_ROLE_STATE_BASELINE, TUI_ROLE_STATE_MISMATCH,
};

/* NO_COLOR drops every colour; the states stay apart by attributes. */
static void test_resolve_no_color(void **state)
{
	(void)state;
	struct tui_theme t;
	struct tui_pens p, q;
	tui_theme_init_default(&t);
	parse_shipped(&t, "deuteranopia", NULL);   /* a theme that is all colour */
	tui_theme_resolve(&t, 256, true, &p);
	assert_int_equal(p.ncolours, 0);
	for (int r = 0; r < TUI_ROLE_COUNT; r++) {
		assert_int_equal(p.role[r].fg, -1);
		assert_int_equal(p.role[r].bg, -1);
	}
	for (size_t i = 0; i < COUNT(state_roles); i++)
		for (size_t j = i + 1; j < COUNT(state_roles); j++)
			if (p.role[state_roles[i]].attrs == p.role[state_roles[j]].attrs)
				fail_msg("%s and %s look the same without colour",
					 tui_role_name(state_roles[i]), tui_role_name(state_roles[j]));
	/* the same as a terminal without colours, and as the monochrome theme */
	tui_theme_resolve(&t, 0, false, &q);
	assert_memory_equal(&p, &q, sizeof p);
	tui_theme_init_mono(&t);
	tui_theme_resolve(&t, 256, false, &q);
	assert_memory_equal(p.role, q.role, sizeof p.role);
}

/* Degrading two different colours onto one index must not hide the text. */
static void test_resolve_keeps_text_visible(void **state)
{
	(void)state;
	struct tui_theme t;
	struct tui_pens p;
	tui_theme_init_default(&t);
	assert_int_equal(tui_theme_parse(&t, "t",
					 "[header]\nbar = fg=#ff8700,bg=#ffaf00\n"
					 "prod = fg=red,bg=red\n"
					 "env = fg=#202020,bg=#000000\n", NULL, NULL), ERR_OK);
	tui_theme_resolve(&t, 256, false, &p);
	assert_int_equal(p.role[TUI_ROLE_HEADER_BAR].fg, 208);
	assert_int_equal(p.role[TUI_ROLE_HEADER_BAR].bg, 214);
	tui_theme_resolve(&t, 16, false, &p);
	assert_int_equal(p.role[TUI_ROLE_HEADER_BAR].bg, 3);
	assert_int_equal(p.role[TUI_ROLE_HEADER_BAR].fg, 0);     /* black on yellow */
	assert_int_equal(p.role[TUI_ROLE_HEADER_ENV].bg, 0);
	assert_int_equal(p.role[TUI_ROLE_HEADER_ENV].fg, 15);    /* white on black */
	tui_theme_resolve(&t, 8, false, &p);
	assert_int_equal(p.role[TUI_ROLE_HEADER_BAR].fg, 0);
	assert_int_equal(p.role[TUI_ROLE_HEADER_BAR].bg, 3);
	assert_int_equal(p.role[TUI_ROLE_HEADER_ENV].fg, 7);
	/* the theme asked for red on red: that is kept */
	assert_int_equal(p.role[TUI_ROLE_HEADER_PROD].fg, 1);
	assert_int_equal(p.role[TUI_ROLE_HEADER_PROD].bg, 1);
}

static void test_env_no_color(void **state)
{
	(void)state;
	unsetenv("NO_COLOR");
	assert_false(tui_theme_env_no_color());
	setenv("NO_COLOR", "", 1);
	assert_false(tui_theme_env_no_color());
	setenv("NO_COLOR", "1", 1);
	assert_true(tui_theme_env_no_color());
	unsetenv("NO_COLOR");
}

/* ---- main: one cmocka test per table row ---------------------------------------------- */

#define ADD_ROWS(tests, n, table, fn)                                          \
	for (size_t i_ = 0; i_ < COUNT(table); i_++)                           \
		(tests)[(n)++] = (struct CMUnitTest){ (table)[i_].name, (fn), NULL, \
						      NULL, (void *)(uintptr_t)&(table)[i_] }

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_degrade_palette_exact),
		cmocka_unit_test(test_parse_warnings_capped),
		cmocka_unit_test(test_parse_size_cap),
		cmocka_unit_test(test_roles_table),
		cmocka_unit_test(test_roles_cover_spec),
		cmocka_unit_test(test_default_sets_every_role),
		cmocka_unit_test(test_mono_has_no_colour),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_format_roundtrip_builtin),
		cmocka_unit_test(test_shipped_themes),
		cmocka_unit_test(test_default_file_is_builtin),
		cmocka_unit_test(test_mono_file_is_builtin),
		cmocka_unit_test(test_deuteranopia_not_red_green),
		cmocka_unit_test(test_load_first_dir_wins),
		cmocka_unit_test(test_load_warnings_name_the_file),
		cmocka_unit_test(test_load_builtin_fallback),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_theme_dirs),
		cmocka_unit_test(test_load_shipped),
		cmocka_unit_test(test_resolve_default_256),
		cmocka_unit_test(test_resolve_depths),
		cmocka_unit_test(test_resolve_no_color),
		cmocka_unit_test(test_resolve_keeps_text_visible),
		cmocka_unit_test(test_env_no_color),
	};
	size_t max = COUNT(fixed) + COUNT(colour_cases) + COUNT(style_cases) +
		     COUNT(degrade_cases) + COUNT(parse_cases);
	struct CMUnitTest *tests = calloc(max, sizeof *tests);
	size_t n = 0;
	for (size_t i = 0; i < COUNT(fixed); i++)
		tests[n++] = fixed[i];
	ADD_ROWS(tests, n, colour_cases, run_colour_case);
	ADD_ROWS(tests, n, style_cases, run_style_case);
	ADD_ROWS(tests, n, degrade_cases, run_degrade_case);
	ADD_ROWS(tests, n, parse_cases, run_parse_case);
	int failed = _cmocka_run_group_tests("theme", tests, n, make_tmpdir, remove_tmpdir);
	free(tests);
	return failed;
}
