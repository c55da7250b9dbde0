/*
 * table — Flyway's ASCII table (+---+ rulers, | cell | rows), padded by
 * characters rather than bytes so non-ASCII descriptions line up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"

void cli_table_init(struct cli_table *t, size_t ncols, const char *const *headers)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	cli_table_add(t, headers);
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
	for (size_t i = 0; i < t->ncols; i++)
		vec_push_str(&t->cells, cells[i] ? cells[i] : "");
}

static size_t chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void ruler(const size_t *w, size_t ncols, FILE *out)
{
	for (size_t c = 0; c < ncols; c++) {
		fputc('+', out);
		for (size_t k = 0; k < w[c] + 2; k++)
			fputc('-', out);
	}
	fputs("+\n", out);
}

void cli_table_print(const struct cli_table *t, FILE *out)
{
	size_t rows = t->cells.len / t->ncols;
	size_t *w = calloc(t->ncols, sizeof *w);
	for (size_t i = 0; i < t->cells.len; i++) {
		size_t n = chars(t->cells.items[i]);
		if (n > w[i % t->ncols])
			w[i % t->ncols] = n;
	}
	ruler(w, t->ncols, out);
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells.items[r * t->ncols + c];
			fprintf(out, "| %s%*s ", s, (int)(w[c] - chars(s)), "");
		}
		fputs("|\n", out);
		if (r == 0 || r == rows - 1)
			ruler(w, t->ncols, out);
	}
	free(w);
}

void cli_table_release(struct cli_table *t)
{
	vec_free_strs(&t->cells);
}

void cli_format_ms(long long ms, char *out, size_t n)
{
	snprintf(out, n, "%02lld:%02lld.%03llds", ms / 60000, ms / 1000 % 60, ms % 1000);
}
