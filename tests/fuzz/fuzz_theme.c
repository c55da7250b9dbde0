/*
 * fuzz_theme — tui_theme_parse on arbitrary text.
 *
 * Beyond "never crashes" (ASan/UBSan), every input must keep the parser's
 * promises, and an abort() reports the one it broke:
 *  - the result is ERR_OK, or ERR_TOO_LARGE for text over the cap;
 *  - at most TUI_THEME_MAX_WARNINGS + 1 warnings, each short and free of
 *    control bytes (they are shown on the operator's terminal);
 *  - whatever loaded can be written out and read back to the same theme
 *    with no warning (tui_theme_format is how `:theme` saves);
 *  - resolution gives colour indexes in range at every terminal depth.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tui/theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WARNING_MAX 600   /* "fuzz:LINE: " + a role + a message + a quote */

static void check_warnings(const struct vec *w)
{
	if (w->len > TUI_THEME_MAX_WARNINGS + 1)
		abort();
	for (size_t i = 0; i < w->len; i++) {
		const char *s = w->items[i];
		size_t n = strlen(s);
		if (n > WARNING_MAX)
			abort();
		for (size_t k = 0; k < n; k++)
			if ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] >= 0x7f)
				abort();
	}
}

static void check_roundtrip(const struct tui_theme *t)
{
	struct buf text = BUF_INIT;
	struct vec w = VEC_INIT;
	struct tui_theme back;
	tui_theme_format(t, &text);
	tui_theme_init_mono(&back);
	if (tui_theme_parse(&back, "roundtrip", text.ptr, &w, NULL) || w.len)
		abort();
	if (strcmp(back.name, t->name))
		abort();
	for (size_t i = 0; i < TUI_ROLE_COUNT; i++)
		if (!tui_style_equal(&back.style[i], &t->style[i]))
			abort();
	vec_free_strs(&w);
	buf_release(&text);
}

static void check_resolve(const struct tui_theme *t)
{
	static const int depths[] = { 0, 8, 16, 256 };
	struct tui_pens p;
	for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++) {
		tui_theme_resolve(t, depths[d], false, &p);
		for (size_t i = 0; i < TUI_ROLE_COUNT; i++)
			if (p.role[i].fg < -1 || p.role[i].fg >= depths[d] ||
			    p.role[i].bg < -1 || p.role[i].bg >= depths[d])
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	struct tui_theme t;
	struct vec w = VEC_INIT;
	struct err e = ERR_INIT;
	tui_theme_init_default(&t);
	enum err_code rc = tui_theme_parse(&t, "fuzz", text, &w, &e);
	if (rc != ERR_OK && !(rc == ERR_TOO_LARGE && strlen(text) > TUI_THEME_MAX_BYTES))
		abort();
	check_warnings(&w);
	check_roundtrip(&t);
	check_resolve(&t);
	vec_free_strs(&w);
	free(text);
	return 0;
}
