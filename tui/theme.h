/*
 * theme — the console's colour roles, the theme files that style them, and
 * how a theme is rendered on terminals with 256, 16, 8 or no colours.
 *
 * A ROLE is one thing the console draws ("state.failed", "header.prod").
 * A THEME gives every role a STYLE: a foreground and a background colour
 * plus attributes, written in tmux's syntax ("fg=red,bg=#102030,bold").
 * Theme files are INI: `[section]` then `key = style`, where section.key
 * is a role name; `[meta] name = NAME` names the theme.
 *
 * Invariants kept here:
 *  - The role table in theme.c is the one list of roles. Parsing, the
 *    built-in default and monochrome themes, tui_theme_format and
 *    tui_theme_help all walk it: a new role is an enum value and a row.
 *  - A theme is plain data (no heap): copy it with `=`; nothing to release.
 *  - Theme content never fails a parse: a bad line becomes a warning
 *    "NAME:LINE: what" and is skipped, and every other line still applies.
 *    Only I/O and input over TUI_THEME_MAX_BYTES are errors.
 *  - Warnings quote at most a few dozen bytes of the input, with control
 *    bytes replaced, so a hostile file cannot drive the terminal through a
 *    message; there are at most TUI_THEME_MAX_WARNINGS + 1 per parse.
 *  - Resolved colour indexes are always valid for the terminal: -1 (the
 *    terminal's own colour) or 0..ncolours-1; monochrome has no colours.
 *
 * No curses here: the console maps struct tui_pens onto colour pairs.
 * No global state; tui_theme_dirs and tui_theme_env_no_color read the
 * environment, so call them from the main thread.
 */
#ifndef TARMAC_TUI_THEME_H
#define TARMAC_TUI_THEME_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/vec.h"

/* Every role; the order is the order of tui_theme_format and the help. */
enum tui_role {
	TUI_ROLE_HEADER_BAR,          /* header.bar */
	TUI_ROLE_HEADER_ENV,          /* header.env: a non-prod environment */
	TUI_ROLE_HEADER_PROD,         /* header.prod */
	TUI_ROLE_HEADER_READONLY,     /* header.readonly: the RO badge */
	TUI_ROLE_HEADER_READWRITE,    /* header.readwrite: the RW badge */
	TUI_ROLE_HEADER_WARN,         /* header.warn: expiring creds, host offline */
	TUI_ROLE_CRUMBS_TEXT,         /* crumbs.text */
	TUI_ROLE_CRUMBS_SEPARATOR,    /* crumbs.separator */
	TUI_ROLE_PANE_BORDER,         /* pane.border */
	TUI_ROLE_PANE_TITLE,          /* pane.title */
	TUI_ROLE_PANE_FOCUS,          /* pane.focus: border and title, focused pane */
	TUI_ROLE_TABLE_HEADING,       /* table.heading */
	TUI_ROLE_TABLE_CURSOR,        /* table.cursor */
	TUI_ROLE_TABLE_MARKED,        /* table.marked: space-marked rows */
	TUI_ROLE_TABLE_MATCH,         /* table.match: filter / search hits */
	TUI_ROLE_STATE_SUCCESS,       /* state.success */
	TUI_ROLE_STATE_PENDING,       /* state.pending */
	TUI_ROLE_STATE_FAILED,        /* state.failed */
	TUI_ROLE_STATE_MISSING,       /* state.missing */
	TUI_ROLE_STATE_FUTURE,        /* state.future */
	TUI_ROLE_STATE_OUTDATED,      /* state.outdated */
	TUI_ROLE_STATE_IGNORED,       /* state.ignored */
	TUI_ROLE_STATE_BASELINE,      /* state.baseline */
	TUI_ROLE_STATE_MISMATCH,      /* state.mismatch: checksum mismatch */
	TUI_ROLE_DIALOG_BODY,         /* dialog.body */
	TUI_ROLE_DIALOG_TITLE,        /* dialog.title */
	TUI_ROLE_DIALOG_BUTTON,       /* dialog.button */
	TUI_ROLE_DIALOG_FOCUS,        /* dialog.focus: the focused button */
	TUI_ROLE_DIALOG_DISABLED,     /* dialog.disabled: confirm not yet allowed */
	TUI_ROLE_DIALOG_DANGER,       /* dialog.danger */
	TUI_ROLE_LOG_ERROR,           /* log.error */
	TUI_ROLE_LOG_WARN,            /* log.warn */
	TUI_ROLE_LOG_TIMESTAMP,       /* log.timestamp */
	TUI_ROLE_LOG_STDERR,          /* log.stderr: the marker before stderr lines */
	TUI_ROLE_FOOTER_KEY,          /* footer.key */
	TUI_ROLE_FOOTER_HINT,         /* footer.hint */
	TUI_ROLE_FOOTER_PROMPT,       /* footer.prompt: the : and / input line */
	TUI_ROLE_FLASH_OK,            /* flash.ok */
	TUI_ROLE_FLASH_ERROR,         /* flash.error */
	TUI_ROLE_HELP_KEY,            /* help.key */
	TUI_ROLE_HELP_BLOCKED,        /* help.blocked: greyed, read-only blocks it */
	TUI_ROLE_COUNT
};

/* Attribute bits of a style (the console maps them onto A_BOLD, ...). */
enum tui_attr {
	TUI_ATTR_BOLD = 1u << 0,
	TUI_ATTR_DIM = 1u << 1,
	TUI_ATTR_UNDERLINE = 1u << 2,
	TUI_ATTR_REVERSE = 1u << 3,
	TUI_ATTR_ITALIC = 1u << 4,
};

enum tui_colour_kind {
	TUI_COLOUR_DEFAULT,   /* the terminal's own colour; value unused */
	TUI_COLOUR_INDEX,     /* value 0..255: 0-7 named, 8-15 bright, 16-255 xterm */
	TUI_COLOUR_RGB,       /* value 0xRRGGBB */
};

struct tui_colour {
	enum tui_colour_kind kind;
	uint32_t value;
};

/* All-zero is the plain style: default colours, no attributes. */
struct tui_style {
	struct tui_colour fg, bg;
	unsigned attrs;       /* enum tui_attr bits */
};

#define TUI_THEME_NAME_MAX 64
#define TUI_THEME_MAX_BYTES ((size_t)64 << 10)
#define TUI_THEME_MAX_WARNINGS 32

struct tui_theme {
	char name[TUI_THEME_NAME_MAX];            /* [meta] name, or the file's */
	struct tui_style style[TUI_ROLE_COUNT];
};

/* A role ready to draw: colour indexes for the terminal, -1 = default. */
struct tui_pen {
	int fg, bg;
	unsigned attrs;
};

struct tui_pens {
	int ncolours;         /* 0 (monochrome), 8, 16 or 256 */
	struct tui_pen role[TUI_ROLE_COUNT];
};

/* ---- roles ---------------------------------------------------------------- */

/* "section.key" and a one-line description; static strings. */
const char *tui_role_name(enum tui_role r);
const char *tui_role_help(enum tui_role r);
/* The role called "section.key" (case-insensitive); false when none is. */
bool tui_role_find(const char *name, enum tui_role *out);

/* ---- colours and styles ------------------------------------------------------ */

/*
 * Parses `default`, a name (black..white, brightblack..brightwhite),
 * colourN / colorN (0-255) or #rrggbb, case-insensitively. On ERR_PARSE
 * *c is unchanged and e says what was expected.
 */
enum err_code tui_colour_parse(struct tui_colour *c, const char *text, struct err *e);
/*
 * The nearest colour a terminal of that depth has, -1 for default.
 * to_256: #rrggbb by tmux's rule (the nearer of the 6x6x6 cube and the 24
 * greys); indexes are kept. to_16 / to_8: the nearest of the first 16 / 8
 * colours in xterm's default palette (squared RGB distance, lower index on
 * a tie), where a grey (channels within 16 of each other) only matches
 * black, white, brightblack or brightwhite; index colours are compared by
 * their xterm RGB value.
 */
int tui_colour_to_256(struct tui_colour c);
int tui_colour_to_16(struct tui_colour c);
int tui_colour_to_8(struct tui_colour c);

/*
 * Parses a style: tokens separated by commas or blanks, applied left to
 * right to a plain style: fg=COLOUR, bg=COLOUR, bold, dim, underline,
 * reverse, italic (tmux's bright, underscore and italics too), noATTR to
 * clear one, and none / default to reset everything before. An empty
 * style is an error (write `default`). On ERR_PARSE *st is unchanged.
 */
enum err_code tui_style_parse(struct tui_style *st, const char *text, struct err *e);
/* Appends the canonical text of st, which parses back to st ("default"
 * for the plain style). */
void tui_style_format(const struct tui_style *st, struct buf *out);
bool tui_style_equal(const struct tui_style *a, const struct tui_style *b);

/* ---- themes ------------------------------------------------------------------- */

/* The built-in themes; themes/default.theme and themes/monochrome.theme
 * hold the same styles. */
void tui_theme_init_default(struct tui_theme *t);
void tui_theme_init_mono(struct tui_theme *t);

/*
 * Applies theme text on top of t (initialise t first; roles the text does
 * not mention keep their style). `name` labels the warnings
 * ("NAME:LINE: ..."), which are pushed onto `warnings` (char *, the
 * caller's; NULL drops them). Returns ERR_TOO_LARGE, with t unchanged, for
 * text over TUI_THEME_MAX_BYTES; otherwise ERR_OK, whatever the content.
 */
enum err_code tui_theme_parse(struct tui_theme *t, const char *name, const char *text,
			      struct vec *warnings, struct err *e);

/*
 * Pushes the theme search directories, first match wins, onto dirs
 * (char *, the caller's): ./themes, $XDG_CONFIG_HOME/tarmac/themes
 * (~/.config/tarmac/themes when XDG_CONFIG_HOME is unset or relative), and
 * EXE_DIR/../share/tarmac/themes when exe_path (the running binary's path,
 * e.g. from /proc/self/exe) is not NULL and has a directory part.
 */
void tui_theme_dirs(struct vec *dirs, const char *exe_path);

/*
 * Loads theme NAME: the first DIR/NAME.theme of dirs (char *) that exists,
 * parsed over the built-in default, warnings labelled with its path. When
 * no directory has it, "default" and "monochrome" are the built-in themes.
 * Errors, all leaving t unchanged: ERR_USAGE for a name that is not
 * [A-Za-z0-9_.-]+ (not starting with '.'), ERR_IO when no file is found or
 * one cannot be read, ERR_TOO_LARGE over TUI_THEME_MAX_BYTES.
 */
enum err_code tui_theme_load(struct tui_theme *t, const char *name, const struct vec *dirs,
			     struct vec *warnings, struct err *e);

/* Appends t as a complete theme file (parses back to t with no warning). */
void tui_theme_format(const struct tui_theme *t, struct buf *out);
/* Appends one line per role: name, help and both built-in styles. */
void tui_theme_help(struct buf *out);

/*
 * Resolves every role for a terminal with `ncolours` colours (curses'
 * COLORS: 256 and more use 256, 16..255 use 16, 8..15 use 8, fewer none).
 * With no_color, or fewer than 8 colours, the built-in monochrome theme is
 * used whatever t is: every colour -1, states told apart by attributes.
 * When degrading makes a role's foreground equal its background although
 * the theme gave two different colours, the foreground becomes black or
 * white, whichever stands out, so text never vanishes.
 */
void tui_theme_resolve(const struct tui_theme *t, int ncolours, bool no_color,
		       struct tui_pens *out);
/* True when NO_COLOR is set and non-empty (https://no-color.org). */
bool tui_theme_env_no_color(void);

#endif
