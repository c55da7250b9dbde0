/*
 * theme — roles, styles, theme files and colour degradation (see theme.h).
 *
 * The role table below is the single source of truth: each row names a
 * role, its style in the built-in default and monochrome themes, and its
 * help. themes/default.theme and themes/monochrome.theme repeat those
 * styles for people to copy; test_theme checks that they agree.
 *
 * Parsing is forgiving by design: a theme is cosmetic, and an operator who
 * mistypes one colour during an incident should get a console with that
 * one role in its default style and a warning naming the line, not an
 * error screen. So the parser works line by line on its own copy of the
 * text, and every problem is a warning that skips just that line.
 *
 * Colours are matched in plain RGB (squared distance), as tmux does; no
 * perceptual model, so results are predictable and easy to test. The one
 * exception is greys on 8 and 16 colours, which only match greys.
 */
#include "tui/theme.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define QUOTE_MAX 32            /* input bytes quoted in a message */
#define QUOTE_BUF (QUOTE_MAX + 4)
#define TOKEN_MAX 48            /* longest style token that can be valid, with room */
#define SECTION_MAX 32
#define GREY_SPREAD 16          /* max - min channel of a colour taken for grey */

struct role_def {
	const char *name;     /* "section.key"; sections are contiguous */
	const char *def;      /* style in the built-in default theme */
	const char *mono;     /* style in the built-in monochrome theme */
	const char *help;
};

/*
 * The default theme assumes a dark terminal (light.theme is for light
 * ones) and sticks to the 16 named colours, so it looks the same at every
 * colour depth. The monochrome column gives the nine migration states nine
 * different attribute sets: without colour they stay distinguishable.
 */
static const struct role_def roles[TUI_ROLE_COUNT] = {
	[TUI_ROLE_HEADER_BAR] = { "header.bar", "fg=white,bg=blue", "reverse",
		"the header line: account, profile, host, clock" },
	[TUI_ROLE_HEADER_ENV] = { "header.env", "fg=black,bg=cyan", "reverse,underline",
		"the environment band of a database that is not prod" },
	[TUI_ROLE_HEADER_PROD] = { "header.prod", "fg=white,bg=red,bold",
		"reverse,bold,underline", "the environment band of a prod database" },
	[TUI_ROLE_HEADER_READONLY] = { "header.readonly", "fg=black,bg=yellow,bold",
		"reverse,bold", "the RO badge" },
	[TUI_ROLE_HEADER_READWRITE] = { "header.readwrite", "fg=white,bg=magenta,bold",
		"bold", "the RW badge" },
	[TUI_ROLE_HEADER_WARN] = { "header.warn", "fg=brightyellow,bg=blue,bold",
		"reverse,italic", "credentials about to expire, an SSM host offline" },
	[TUI_ROLE_CRUMBS_TEXT] = { "crumbs.text", "bold", "bold",
		"the crumbs line (Databases > users)" },
	[TUI_ROLE_CRUMBS_SEPARATOR] = { "crumbs.separator", "fg=brightblack", "dim",
		"the separators between crumbs" },
	[TUI_ROLE_PANE_BORDER] = { "pane.border", "fg=brightblack", "dim",
		"the border of a pane without focus" },
	[TUI_ROLE_PANE_TITLE] = { "pane.title", "bold", "bold",
		"the title of a pane without focus" },
	[TUI_ROLE_PANE_FOCUS] = { "pane.focus", "fg=cyan,bold", "bold",
		"the border and title of the focused pane" },
	[TUI_ROLE_TABLE_HEADING] = { "table.heading", "bold", "bold,underline",
		"column headings" },
	[TUI_ROLE_TABLE_CURSOR] = { "table.cursor", "fg=black,bg=cyan", "reverse",
		"the selected row" },
	[TUI_ROLE_TABLE_MARKED] = { "table.marked", "fg=magenta,bold", "bold,italic",
		"rows marked with space for a fleet action" },
	[TUI_ROLE_TABLE_MATCH] = { "table.match", "fg=black,bg=yellow", "underline,bold",
		"text matching the filter or search" },
	[TUI_ROLE_STATE_SUCCESS] = { "state.success", "fg=green", "none",
		"an applied migration" },
	[TUI_ROLE_STATE_PENDING] = { "state.pending", "fg=yellow", "bold",
		"a migration not yet applied" },
	[TUI_ROLE_STATE_FAILED] = { "state.failed", "fg=red,bold", "bold,reverse",
		"a failed migration" },
	[TUI_ROLE_STATE_MISSING] = { "state.missing", "fg=magenta", "bold,underline",
		"applied, but its file is gone" },
	[TUI_ROLE_STATE_FUTURE] = { "state.future", "fg=cyan", "italic",
		"applied by a newer version than the files know" },
	[TUI_ROLE_STATE_OUTDATED] = { "state.outdated", "fg=yellow,underline", "underline",
		"a repeatable migration whose file changed" },
	[TUI_ROLE_STATE_IGNORED] = { "state.ignored", "dim", "dim",
		"a migration migrate would skip" },
	[TUI_ROLE_STATE_BASELINE] = { "state.baseline", "fg=blue", "dim,underline",
		"the baseline row" },
	[TUI_ROLE_STATE_MISMATCH] = { "state.mismatch", "fg=red,reverse", "underline,reverse",
		"a checksum that differs from the history" },
	[TUI_ROLE_DIALOG_BODY] = { "dialog.body", "fg=white,bg=blue", "none",
		"the inside of a dialog" },
	[TUI_ROLE_DIALOG_TITLE] = { "dialog.title", "fg=brightwhite,bg=blue,bold", "bold",
		"a dialog's title" },
	[TUI_ROLE_DIALOG_BUTTON] = { "dialog.button", "fg=black,bg=white", "none",
		"a button without focus" },
	[TUI_ROLE_DIALOG_FOCUS] = { "dialog.focus", "fg=black,bg=cyan,bold", "reverse",
		"the focused button" },
	[TUI_ROLE_DIALOG_DISABLED] = { "dialog.disabled", "fg=brightblack,bg=blue", "dim",
		"a button that cannot be pressed yet (type the database name)" },
	[TUI_ROLE_DIALOG_DANGER] = { "dialog.danger", "fg=white,bg=red,bold", "reverse,bold",
		"the warning line of a dialog that changes a database" },
	[TUI_ROLE_LOG_ERROR] = { "log.error", "fg=red,bold", "bold",
		"an error in the output pane" },
	[TUI_ROLE_LOG_WARN] = { "log.warn", "fg=yellow", "underline",
		"a warning in the output pane" },
	[TUI_ROLE_LOG_TIMESTAMP] = { "log.timestamp", "dim", "dim",
		"timestamps in the output pane" },
	[TUI_ROLE_LOG_STDERR] = { "log.stderr", "fg=magenta,bold", "bold,reverse",
		"the marker in front of a line the command wrote to stderr" },
	[TUI_ROLE_FOOTER_KEY] = { "footer.key", "fg=cyan,bold", "reverse",
		"a key in the footer" },
	[TUI_ROLE_FOOTER_HINT] = { "footer.hint", "fg=white", "none",
		"what a footer key does" },
	[TUI_ROLE_FOOTER_PROMPT] = { "footer.prompt", "fg=brightwhite,bold", "bold",
		"the : command and / filter input line" },
	[TUI_ROLE_FLASH_OK] = { "flash.ok", "fg=black,bg=green", "bold",
		"a short message that something worked" },
	[TUI_ROLE_FLASH_ERROR] = { "flash.error", "fg=white,bg=red,bold", "reverse,bold",
		"a short message that something failed" },
	[TUI_ROLE_HELP_KEY] = { "help.key", "fg=cyan,bold", "bold",
		"a key on the help screen" },
	[TUI_ROLE_HELP_BLOCKED] = { "help.blocked", "dim", "dim",
		"an action read-only blocks, greyed, with the reason" },
};

static const char *const colour_names[16] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
	"brightblack", "brightred", "brightgreen", "brightyellow",
	"brightblue", "brightmagenta", "brightcyan", "brightwhite",
};

/* xterm's default palette for the first 16 colours. */
static const uint32_t ansi_rgb[16] = {
	0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5,
	0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00, 0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff,
};

/* The levels of xterm's 6x6x6 cube: dense at the bright end, not even. */
static const int cube_level[6] = { 0x00, 0x5f, 0x87, 0xaf, 0xd7, 0xff };

struct attr_name {
	const char *name;
	unsigned bit;
};

/* The first ATTR_CANONICAL rows are the names tui_style_format writes. */
#define ATTR_CANONICAL 5
static const struct attr_name attr_names[] = {
	{ "bold", TUI_ATTR_BOLD },
	{ "dim", TUI_ATTR_DIM },
	{ "underline", TUI_ATTR_UNDERLINE },
	{ "reverse", TUI_ATTR_REVERSE },
	{ "italic", TUI_ATTR_ITALIC },
	/* tmux's spellings, so styles copied from a tmux.conf work */
	{ "bright", TUI_ATTR_BOLD },
	{ "underscore", TUI_ATTR_UNDERLINE },
	{ "italics", TUI_ATTR_ITALIC },
};

/*
 * Copies up to QUOTE_MAX bytes of s[0..n) into out for a message: bytes
 * outside printable ASCII become '?', so a file cannot put escape
 * sequences on the operator's terminal; "..." marks a cut.
 */
static const char *quote(char out[QUOTE_BUF], const char *s, size_t n)
{
	size_t k = n < QUOTE_MAX ? n : QUOTE_MAX;
	for (size_t i = 0; i < k; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (k < n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = 0;
	return out;
}

/* ---- roles ----------------------------------------------------------------- */

const char *tui_role_name(enum tui_role r)
{
	return (unsigned)r < TUI_ROLE_COUNT ? roles[r].name : "?";
}

const char *tui_role_help(enum tui_role r)
{
	return (unsigned)r < TUI_ROLE_COUNT ? roles[r].help : "?";
}

/* Length of the section part of a role name ("state" in "state.failed"). */
static size_t section_len(const char *role_name)
{
	return strcspn(role_name, ".");
}

static bool in_section(const struct role_def *d, const char *section, size_t len)
{
	return section_len(d->name) == len && !strncasecmp(d->name, section, len);
}

static bool role_lookup(const char *section, size_t slen, const char *key, enum tui_role *out)
{
	for (size_t i = 0; i < COUNT(roles); i++) {
		if (in_section(&roles[i], section, slen) &&
		    !strcasecmp(roles[i].name + slen + 1, key)) {
			*out = (enum tui_role)i;
			return true;
		}
	}
	return false;
}

bool tui_role_find(const char *name, enum tui_role *out)
{
	const char *dot = strchr(name, '.');
	return dot && role_lookup(name, (size_t)(dot - name), dot + 1, out);
}

static bool section_known(const char *section)
{
	size_t len = strlen(section);
	for (size_t i = 0; i < COUNT(roles); i++)
		if (in_section(&roles[i], section, len))
			return true;
	return false;
}

/* ---- colours ------------------------------------------------------------------- */

static enum err_code bad_colour(struct err *e, const char *text)
{
	char q[QUOTE_BUF];
	return err_set(e, ERR_PARSE,
		       "unknown colour '%s' (use default, a name such as red or brightred, "
		       "colour0 to colour255, or #rrggbb)",
		       quote(q, text, strlen(text)));
}

/* Reads exactly 1 to 3 decimal digits worth at most 255. */
static bool parse_index(const char *s, uint32_t *out)
{
	size_t n = strspn(s, "0123456789");
	if (n < 1 || n > 3 || s[n])
		return false;
	*out = (uint32_t)strtoul(s, NULL, 10);
	return *out <= 255;
}

static bool parse_hex(const char *s, uint32_t *out)
{
	if (strlen(s) != 6)
		return false;
	for (size_t i = 0; i < 6; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	*out = (uint32_t)strtoul(s, NULL, 16);
	return true;
}

enum err_code tui_colour_parse(struct tui_colour *c, const char *text, struct err *e)
{
	struct tui_colour got = { TUI_COLOUR_INDEX, 0 };
	if (!strcasecmp(text, "default")) {
		*c = (struct tui_colour){ TUI_COLOUR_DEFAULT, 0 };
		return ERR_OK;
	}
	for (uint32_t i = 0; i < COUNT(colour_names); i++) {
		if (!strcasecmp(text, colour_names[i])) {
			*c = (struct tui_colour){ TUI_COLOUR_INDEX, i };
			return ERR_OK;
		}
	}
	bool ok = false;
	if (text[0] == '#') {
		got.kind = TUI_COLOUR_RGB;
		ok = parse_hex(text + 1, &got.value);
	} else if (!strncasecmp(text, "colour", 6)) {
		ok = parse_index(text + 6, &got.value);
	} else if (!strncasecmp(text, "color", 5)) {
		ok = parse_index(text + 5, &got.value);
	}
	if (!ok)
		return bad_colour(e, text);
	*c = got;
	return ERR_OK;
}

/* The RGB value xterm shows for a palette index. */
static uint32_t index_rgb(uint32_t i)
{
	if (i < 16)
		return ansi_rgb[i];
	if (i >= 232) {
		uint32_t v = 8 + 10 * (i - 232);
		return v << 16 | v << 8 | v;
	}
	i -= 16;
	return (uint32_t)cube_level[i / 36] << 16 | (uint32_t)cube_level[i / 6 % 6] << 8 |
	       (uint32_t)cube_level[i % 6];
}

static int dist_sq(uint32_t a, uint32_t b)
{
	int dr = (int)(a >> 16 & 0xff) - (int)(b >> 16 & 0xff);
	int dg = (int)(a >> 8 & 0xff) - (int)(b >> 8 & 0xff);
	int db = (int)(a & 0xff) - (int)(b & 0xff);
	return dr * dr + dg * dg + db * db;
}

/* The cube step nearest to an 8-bit level (tmux's thresholds). */
static int cube_step(int v)
{
	if (v < 48)
		return 0;
	if (v < 114)
		return 1;
	return (v - 35) / 40;
}

static int rgb_to_256(uint32_t rgb)
{
	int r = (int)(rgb >> 16 & 0xff), g = (int)(rgb >> 8 & 0xff), b = (int)(rgb & 0xff);
	int qr = cube_step(r), qg = cube_step(g), qb = cube_step(b);
	int cube = 16 + 36 * qr + 6 * qg + qb;
	uint32_t cube_rgb = index_rgb((uint32_t)cube);
	if (cube_rgb == rgb)
		return cube;
	/* The grey ramp runs 8, 18, ... 238; beyond that the cube's white is nearer. */
	int avg = (r + g + b) / 3;
	int grey_step = avg > 238 ? 23 : (avg > 3 ? (avg - 3) / 10 : 0);
	uint32_t grey_rgb = index_rgb((uint32_t)(232 + grey_step));
	return dist_sq(grey_rgb, rgb) < dist_sq(cube_rgb, rgb) ? 232 + grey_step : cube;
}

/* How far a colour is from grey: its largest channel minus its smallest. */
static int spread(uint32_t rgb)
{
	int r = (int)(rgb >> 16 & 0xff), g = (int)(rgb >> 8 & 0xff), b = (int)(rgb & 0xff);
	int hi = r > g ? (r > b ? r : b) : (g > b ? g : b);
	int lo = r < g ? (r < b ? r : b) : (g < b ? g : b);
	return hi - lo;
}

/*
 * The nearest of the first n palette colours. A grey only matches the
 * palette's greys (black, white, brightblack, brightwhite): xterm's
 * colours are so saturated that #808080 is nearer yellow (#cdcd00) than
 * white (#e5e5e5), and grey borders would turn yellow on 8 colours.
 */
static int nearest_ansi(uint32_t rgb, int n)
{
	bool grey = spread(rgb) <= GREY_SPREAD;
	int best = 0, best_d = dist_sq(ansi_rgb[0], rgb);
	for (int i = 1; i < n; i++) {
		int d = dist_sq(ansi_rgb[i], rgb);
		if (d < best_d && (!grey || spread(ansi_rgb[i]) == 0)) {
			best = i;
			best_d = d;
		}
	}
	return best;
}

int tui_colour_to_256(struct tui_colour c)
{
	switch (c.kind) {
	case TUI_COLOUR_INDEX:
		return (int)(c.value & 0xff);
	case TUI_COLOUR_RGB:
		return rgb_to_256(c.value & 0xffffff);
	case TUI_COLOUR_DEFAULT:
		break;
	}
	return -1;
}

/* The nearest of the first n (8 or 16) palette colours. */
static int colour_to_ansi(struct tui_colour c, int n)
{
	switch (c.kind) {
	case TUI_COLOUR_INDEX:
		if (c.value < (uint32_t)n)
			return (int)c.value;
		return nearest_ansi(index_rgb(c.value & 0xff), n);
	case TUI_COLOUR_RGB:
		return nearest_ansi(c.value & 0xffffff, n);
	case TUI_COLOUR_DEFAULT:
		break;
	}
	return -1;
}

int tui_colour_to_16(struct tui_colour c)
{
	return colour_to_ansi(c, 16);
}

int tui_colour_to_8(struct tui_colour c)
{
	return colour_to_ansi(c, 8);
}

static void colour_format(struct tui_colour c, struct buf *out)
{
	if (c.kind == TUI_COLOUR_RGB)
		buf_addf(out, "#%06x", (unsigned)(c.value & 0xffffff));
	else if (c.kind == TUI_COLOUR_INDEX && c.value < 16)
		buf_adds(out, colour_names[c.value]);
	else if (c.kind == TUI_COLOUR_INDEX)
		buf_addf(out, "colour%u", (unsigned)(c.value & 0xff));
	else
		buf_adds(out, "default");
}

static bool colour_equal(struct tui_colour a, struct tui_colour b)
{
	return a.kind == b.kind && (a.kind == TUI_COLOUR_DEFAULT || a.value == b.value);
}

/* ---- styles --------------------------------------------------------------------- */

static const struct attr_name *attr_lookup(const char *name)
{
	for (size_t i = 0; i < COUNT(attr_names); i++)
		if (!strcasecmp(name, attr_names[i].name))
			return &attr_names[i];
	return NULL;
}

static enum err_code bad_token(struct err *e, const char *tok, size_t n)
{
	char q[QUOTE_BUF];
	return err_set(e, ERR_PARSE,
		       "unknown attribute '%s' (use fg=COLOUR, bg=COLOUR, bold, dim, "
		       "underline, reverse, italic, noATTR or none)",
		       quote(q, tok, n));
}

/* Applies one token (tok[0..n), not terminated) to s. */
static enum err_code style_token(struct tui_style *s, const char *tok, size_t n,
				 struct err *e)
{
	char word[TOKEN_MAX];
	if (n >= sizeof word)
		return bad_token(e, tok, n);
	memcpy(word, tok, n);
	word[n] = 0;
	if (!strcasecmp(word, "none") || !strcasecmp(word, "default")) {
		*s = (struct tui_style){ { TUI_COLOUR_DEFAULT, 0 }, { TUI_COLOUR_DEFAULT, 0 }, 0 };
		return ERR_OK;
	}
	if (!strncasecmp(word, "fg=", 3))
		return tui_colour_parse(&s->fg, word + 3, e);
	if (!strncasecmp(word, "bg=", 3))
		return tui_colour_parse(&s->bg, word + 3, e);
	const struct attr_name *a = attr_lookup(word);
	if (a) {
		s->attrs |= a->bit;
		return ERR_OK;
	}
	a = strncasecmp(word, "no", 2) ? NULL : attr_lookup(word + 2);
	if (!a)
		return bad_token(e, tok, n);
	s->attrs &= ~a->bit;
	return ERR_OK;
}

enum err_code tui_style_parse(struct tui_style *st, const char *text, struct err *e)
{
	static const char seps[] = ", \t";
	struct tui_style s = { { TUI_COLOUR_DEFAULT, 0 }, { TUI_COLOUR_DEFAULT, 0 }, 0 };
	size_t tokens = 0;
	for (const char *p = text + strspn(text, seps); *p; p += strspn(p, seps)) {
		size_t n = strcspn(p, seps);
		enum err_code rc = style_token(&s, p, n, e);
		if (rc)
			return rc;
		p += n;
		tokens++;
	}
	if (!tokens)
		return err_set(e, ERR_PARSE,
			       "empty style (write default for the terminal's own colours)");
	*st = s;
	return ERR_OK;
}

static void add_sep(struct buf *out, size_t start)
{
	if (out->len > start)
		buf_addc(out, ',');
}

void tui_style_format(const struct tui_style *st, struct buf *out)
{
	size_t start = out->len;
	if (st->fg.kind != TUI_COLOUR_DEFAULT) {
		buf_adds(out, "fg=");
		colour_format(st->fg, out);
	}
	if (st->bg.kind != TUI_COLOUR_DEFAULT) {
		add_sep(out, start);
		buf_adds(out, "bg=");
		colour_format(st->bg, out);
	}
	for (size_t i = 0; i < ATTR_CANONICAL; i++) {
		if (st->attrs & attr_names[i].bit) {
			add_sep(out, start);
			buf_adds(out, attr_names[i].name);
		}
	}
	if (out->len == start)
		buf_adds(out, "default");
}

bool tui_style_equal(const struct tui_style *a, const struct tui_style *b)
{
	return colour_equal(a->fg, b->fg) && colour_equal(a->bg, b->bg) && a->attrs == b->attrs;
}

/* ---- built-in themes ------------------------------------------------------------ */

static void theme_init(struct tui_theme *t, const char *name, bool mono)
{
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", name);
	/* The table's styles are constants that test_theme parses; a typo
	 * would leave that role plain, which the test reports. */
	for (size_t i = 0; i < COUNT(roles); i++)
		tui_style_parse(&t->style[i], mono ? roles[i].mono : roles[i].def, NULL);
}

void tui_theme_init_default(struct tui_theme *t)
{
	theme_init(t, "default", false);
}

void tui_theme_init_mono(struct tui_theme *t)
{
	theme_init(t, "monochrome", true);
}

/* ---- theme files -------------------------------------------------------------- */

enum section_kind { SECT_NONE, SECT_META, SECT_ROLES, SECT_SKIP };

struct parser {
	struct tui_theme *t;
	const char *name;          /* labels warnings */
	struct vec *warnings;      /* may be NULL */
	size_t nwarn;
	int line;
	enum section_kind sect;
	char section[SECTION_MAX]; /* the [section] when sect == SECT_ROLES */
};

static void warn(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct parser *p, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	if (!p->warnings || ++p->nwarn > TUI_THEME_MAX_WARNINGS + 1)
		return;
	/* A file of garbage should not bury the first, useful warnings. */
	if (p->nwarn == TUI_THEME_MAX_WARNINGS + 1) {
		buf_addf(&b, "%s: more than %d problems; the rest are not listed", p->name,
			 TUI_THEME_MAX_WARNINGS);
	} else {
		va_list ap;
		buf_addf(&b, "%s:%d: ", p->name, p->line);
		va_start(ap, fmt);
		buf_vaddf(&b, fmt, ap);
		va_end(ap);
	}
	vec_push(p->warnings, buf_detach(&b, NULL));
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

/* Cuts a trailing comment: ';' or '#' first or after a blank, so fg=#rrggbb
 * stays whole (and so tui_theme_format's output reads back the same). */
static char *cut_comment(char *s)
{
	for (char *c = s; *c; c++) {
		if ((*c == ';' || *c == '#') && (c == s || c[-1] == ' ' || c[-1] == '\t')) {
			*c = 0;
			break;
		}
	}
	return s;
}

/* The keys of a section, for "unknown key" messages. */
static void section_keys(const char *section, struct buf *out)
{
	size_t len = strlen(section);
	for (size_t i = 0; i < COUNT(roles); i++) {
		if (!in_section(&roles[i], section, len))
			continue;
		buf_addf(out, "%s%s", out->len ? ", " : "", roles[i].name + len + 1);
	}
}

static void section_list(struct buf *out)
{
	buf_adds(out, "meta");
	for (size_t i = 0; i < COUNT(roles); i++) {
		size_t len = section_len(roles[i].name);
		if (i == 0 || !in_section(&roles[i - 1], roles[i].name, len))
			buf_addf(out, ", %.*s", (int)len, roles[i].name);
	}
}

static void parse_section(struct parser *p, char *line)
{
	char q[QUOTE_BUF];
	char *close = strchr(line, ']');
	char *rest = close ? trim(cut_comment(close + 1)) : NULL;
	p->sect = SECT_SKIP;
	if (!close || (*rest && *rest != ';' && *rest != '#')) {
		warn(p, "expected '[section]', not '%s'; keys up to the next section are ignored",
		     quote(q, line, strlen(line)));
		return;
	}
	*close = 0;
	char *name = trim(line + 1);
	if (!strcasecmp(name, "meta")) {
		p->sect = SECT_META;
	} else if (strlen(name) < sizeof p->section && section_known(name)) {
		p->sect = SECT_ROLES;
		snprintf(p->section, sizeof p->section, "%s", name);
	} else {
		struct buf known = BUF_INIT;
		section_list(&known);
		warn(p, "unknown section [%s] (known: %s); its keys are ignored",
		     quote(q, name, strlen(name)), known.ptr);
		buf_release(&known);
	}
}

static bool meta_name_ok(const char *v)
{
	size_t n = strlen(v);
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] >= 0x7f)
			return false;
	return n > 0 && n < TUI_THEME_NAME_MAX;
}

static void parse_meta(struct parser *p, const char *key, const char *value)
{
	char q[QUOTE_BUF];
	if (strcasecmp(key, "name")) {
		warn(p, "unknown key '%s' in [meta] (known: name)", quote(q, key, strlen(key)));
		return;
	}
	if (!meta_name_ok(value)) {
		warn(p, "[meta] name must be 1 to %d printable ASCII characters",
		     TUI_THEME_NAME_MAX - 1);
		return;
	}
	snprintf(p->t->name, sizeof p->t->name, "%s", value);
}

static void parse_role(struct parser *p, const char *key, const char *value)
{
	char q[QUOTE_BUF];
	enum tui_role r;
	if (!role_lookup(p->section, strlen(p->section), key, &r)) {
		struct buf known = BUF_INIT;
		section_keys(p->section, &known);
		warn(p, "unknown key '%s' in [%s] (known: %s)", quote(q, key, strlen(key)),
		     p->section, known.ptr);
		buf_release(&known);
		return;
	}
	struct err e = ERR_INIT;
	struct tui_style st;
	if (tui_style_parse(&st, value, &e)) {
		warn(p, "%s: %s", roles[r].name, e.msg);
		return;
	}
	p->t->style[r] = st;
}

static void parse_line(struct parser *p, char *line)
{
	char q[QUOTE_BUF];
	line = trim(line);
	if (!*line || *line == ';' || *line == '#')
		return;
	if (*line == '[') {
		parse_section(p, line);
		return;
	}
	char *eq = strchr(line, '=');
	if (!eq) {
		warn(p, "expected 'key = style', not '%s'", quote(q, line, strlen(line)));
		return;
	}
	*eq = 0;
	char *key = trim(line), *value = trim(cut_comment(eq + 1));
	switch (p->sect) {
	case SECT_NONE:
		warn(p, "'%s' comes before any [section]", quote(q, key, strlen(key)));
		break;
	case SECT_META:
		parse_meta(p, key, value);
		break;
	case SECT_ROLES:
		parse_role(p, key, value);
		break;
	case SECT_SKIP:     /* already reported at the section header */
		break;
	}
}

/* Parses text[0..len), which may hold NUL bytes (a file read from disk). */
static void parse_bytes(struct tui_theme *t, const char *name, const char *text, size_t len,
			struct vec *warnings)
{
	struct parser p = { t, name ? name : "theme", warnings, 0, 0, SECT_NONE, "" };
	char *copy = xmalloc(len + 1), *end = copy + len;
	memcpy(copy, text, len);
	*end = 0;
	char *line = copy;
	if (len >= 3 && !memcmp(copy, "\xef\xbb\xbf", 3))
		line += 3;    /* a UTF-8 byte order mark, as some editors write */
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *stop = nl ? nl : end;
		p.line++;
		*stop = 0;
		if ((size_t)(stop - line) != strlen(line))
			warn(&p, "the line holds a NUL byte; it is ignored");
		else
			parse_line(&p, line);
		if (!nl)
			break;
		line = nl + 1;
	}
	free(copy);
}

enum err_code tui_theme_parse(struct tui_theme *t, const char *name, const char *text,
			      struct vec *warnings, struct err *e)
{
	size_t len = strnlen(text, TUI_THEME_MAX_BYTES + 1);
	if (len > TUI_THEME_MAX_BYTES)
		return err_set(e, ERR_TOO_LARGE, "theme %s is larger than %zu KiB; is it a theme?",
			       name ? name : "theme", TUI_THEME_MAX_BYTES >> 10);
	parse_bytes(t, name, text, len, warnings);
	return ERR_OK;
}

/* ---- finding and loading -------------------------------------------------------- */

void tui_theme_dirs(struct vec *dirs, const char *exe_path)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	struct buf b = BUF_INIT;
	vec_push_str(dirs, "themes");
	/* The XDG spec says to ignore a relative XDG_CONFIG_HOME. */
	if (xdg && xdg[0] == '/') {
		buf_addf(&b, "%s/tarmac/themes", xdg);
		vec_push(dirs, buf_detach(&b, NULL));
	} else if (home && *home) {
		buf_addf(&b, "%s/.config/tarmac/themes", home);
		vec_push(dirs, buf_detach(&b, NULL));
	}
	/* `make install` puts the binary in PREFIX/bin and the themes in
	 * PREFIX/share/tarmac/themes. */
	const char *slash = exe_path ? strrchr(exe_path, '/') : NULL;
	if (slash) {
		buf_addf(&b, "%.*s/../share/tarmac/themes", (int)(slash - exe_path), exe_path);
		vec_push(dirs, buf_detach(&b, NULL));
	}
}

/* A name is a file name in a directory the operator chose: no paths
 * (`:theme ../../etc/passwd`), no hidden files. */
static bool theme_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (!n || n >= TUI_THEME_NAME_MAX || name[0] == '.')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_.-") == n;
}

/* Reads path into out; a missing file is not an error (*found stays false). */
static enum err_code read_theme(const char *path, struct buf *out, bool *found,
				struct err *e)
{
	char chunk[4096];
	size_t n;
	enum err_code rc = ERR_OK;
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ERR_OK;
		return err_set(e, ERR_IO, "cannot read theme %s: %s", path, strerror(errno));
	}
	*found = true;
	while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (out->len + n > TUI_THEME_MAX_BYTES)
			rc = err_set(e, ERR_TOO_LARGE, "theme %s is larger than %zu KiB; is it a theme?",
				     path, TUI_THEME_MAX_BYTES >> 10);
		else
			buf_add(out, chunk, n);
	}
	if (!rc && ferror(f))
		rc = err_set(e, ERR_IO, "cannot read theme %s: %s", path, strerror(errno));
	fclose(f);
	return rc;
}

static enum err_code not_found(const char *name, const struct vec *dirs, struct err *e)
{
	struct buf where = BUF_INIT;
	for (size_t i = 0; i < dirs->len; i++)
		buf_addf(&where, "%s%s", i ? ", " : "", (const char *)dirs->items[i]);
	err_set(e, ERR_IO, "no theme '%s': looked for %s.theme in %s; the built-in themes are "
		"default and monochrome", name, name, dirs->len ? where.ptr : "no directory");
	buf_release(&where);
	return ERR_IO;
}

enum err_code tui_theme_load(struct tui_theme *t, const char *name, const struct vec *dirs,
			     struct vec *warnings, struct err *e)
{
	char q[QUOTE_BUF];
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct tui_theme work;
	enum err_code rc = ERR_OK;
	bool found = false;
	if (!theme_name_ok(name))
		return err_set(e, ERR_USAGE, "bad theme name '%s': use letters, digits, '_', '-' "
			       "and '.', not starting with '.'", quote(q, name, strlen(name)));
	for (size_t i = 0; i < dirs->len && !found && !rc; i++) {
		buf_reset(&path);
		buf_addf(&path, "%s/%s.theme", (const char *)dirs->items[i], name);
		rc = read_theme(path.ptr, &text, &found, e);
	}
	if (rc)
		goto out;
	if (found) {
		tui_theme_init_default(&work);
		snprintf(work.name, sizeof work.name, "%s", name);
		parse_bytes(&work, path.ptr, text.ptr, text.len, warnings);
	} else if (!strcmp(name, "default")) {
		tui_theme_init_default(&work);
	} else if (!strcmp(name, "monochrome")) {
		tui_theme_init_mono(&work);
	} else {
		rc = not_found(name, dirs, e);
		goto out;
	}
	*t = work;
out:
	buf_release(&path);
	buf_release(&text);
	return rc;
}

/* ---- writing --------------------------------------------------------------------- */

void tui_theme_format(const struct tui_theme *t, struct buf *out)
{
	buf_addf(out, "[meta]\nname = %s\n", t->name);
	for (size_t i = 0; i < COUNT(roles); i++) {
		size_t len = section_len(roles[i].name);
		if (i == 0 || !in_section(&roles[i - 1], roles[i].name, len))
			buf_addf(out, "\n[%.*s]\n", (int)len, roles[i].name);
		buf_addf(out, "%s = ", roles[i].name + len + 1);
		tui_style_format(&t->style[i], out);
		buf_addc(out, '\n');
	}
}

void tui_theme_help(struct buf *out)
{
	for (size_t i = 0; i < COUNT(roles); i++)
		buf_addf(out, "  %-18s %s (default: %s; monochrome: %s)\n", roles[i].name,
			 roles[i].help, roles[i].def, roles[i].mono);
}

/* ---- rendering ---------------------------------------------------------------------- */

static int depth_of(int ncolours)
{
	if (ncolours >= 256)
		return 256;
	if (ncolours >= 16)
		return 16;
	return ncolours >= 8 ? 8 : 0;
}

static int colour_index(struct tui_colour c, int depth)
{
	switch (depth) {
	case 256:
		return tui_colour_to_256(c);
	case 16:
		return tui_colour_to_16(c);
	case 8:
		return tui_colour_to_8(c);
	default:
		return -1;
	}
}

/* Black or white, whichever stands out on palette colour bg. */
static int contrast(int bg, int depth)
{
	uint32_t rgb = index_rgb((uint32_t)bg);
	unsigned luma = (299 * (rgb >> 16 & 0xff) + 587 * (rgb >> 8 & 0xff) + 114 * (rgb & 0xff)) /
			1000;
	return luma > 128 ? 0 : (depth >= 16 ? 15 : 7);
}

static struct tui_pen pen_of(const struct tui_style *st, int depth)
{
	struct tui_pen p = { colour_index(st->fg, depth), colour_index(st->bg, depth), st->attrs };
	if (p.fg >= 0 && p.fg == p.bg && !colour_equal(st->fg, st->bg))
		p.fg = contrast(p.bg, depth);
	return p;
}

void tui_theme_resolve(const struct tui_theme *t, int ncolours, bool no_color,
		       struct tui_pens *out)
{
	struct tui_theme mono;
	int depth = no_color ? 0 : depth_of(ncolours);
	if (!depth) {
		tui_theme_init_mono(&mono);
		t = &mono;
	}
	out->ncolours = depth;
	for (size_t i = 0; i < COUNT(roles); i++)
		out->role[i] = pen_of(&t->style[i], depth);
}

bool tui_theme_env_no_color(void)
{
	const char *v = getenv("NO_COLOR");
	return v && *v;
}
