/*
 * fuzz_ssm_state — tui_ssm_state_parse on arbitrary bytes (a follow
 * position file someone or something else wrote).
 *
 * Beyond "never crashes" (ASan/UBSan), an abort() reports a broken promise:
 *  - the result is ERR_OK or ERR_PARSE, and on ERR_PARSE the position is
 *    empty (nothing half-read is used);
 *  - a position that parsed has tokens of 1-2048 printable, non-space
 *    ASCII characters (they go back to CloudWatch Logs in a JSON request);
 *  - writing it out and parsing that again gives the same position.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tui/ssm_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID "3f2c0d7e-1b2a-4c5d-9e8f-0123456789ab"

static void check_token(const char *t)
{
	size_t n = t ? strlen(t) : 1;
	if (n < 1 || n > 2048)
		abort();
	for (size_t i = 0; t && i < n; i++)
		if (t[i] <= ' ' || t[i] > '~')
			abort();
}

static bool same_token(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tui_ssm_pos p, again;
	struct err e = ERR_INIT;
	enum err_code c = tui_ssm_state_parse("fuzz", (const char *)data, size, ID, &p, &e);
	if (c != ERR_OK) {
		if (c != ERR_PARSE || p.token[0] || p.token[1] || p.lines)
			abort();
		return 0;
	}
	check_token(p.token[0]);
	check_token(p.token[1]);
	struct buf text = BUF_INIT;
	tui_ssm_state_format(&text, ID, &p);
	if (tui_ssm_state_parse("fuzz", text.ptr, text.len, ID, &again, &e) != ERR_OK ||
	    again.lines != p.lines || !same_token(p.token[0], again.token[0]) ||
	    !same_token(p.token[1], again.token[1]))
		abort();
	tui_ssm_pos_release(&again);
	tui_ssm_pos_release(&p);
	buf_release(&text);
	return 0;
}
