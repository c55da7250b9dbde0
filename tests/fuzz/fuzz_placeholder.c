/*
 * fuzz_placeholder — libFuzzer target for placeholder replacement.
 *
 * The first byte picks the prefix/suffix pair (low 3 bits) and the piece
 * size (high 5 bits, plus one); the rest is the text. The text is replaced
 * once in one final call and once fed in pieces, keeping what each call
 * did not use, every piece an exact-size heap copy so that
 * AddressSanitizer sees any read past it. Checked: used <= len, a final
 * call uses everything, both runs agree on the error (code and message) or
 * on the output, and text without the prefix's first byte comes out
 * unchanged.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static char k_x[] = "x", v_x[] = "1", k_e[] = "empty", v_e[] = "";
static char k_n[] = "nested", v_n[] = "${x}", k_l[] = "long", v_l[] = "a much longer value\n";
static struct eng_kv kvs[] = { { k_x, v_x }, { k_e, v_e }, { k_n, v_n }, { k_l, v_l } };
static void *items[] = { &kvs[0], &kvs[1], &kvs[2], &kvs[3] };
static const struct vec user = { items, 4, 4 };

static const char *const pairs[8][2] = {
	{ "${", "}" }, { "#[", "]" }, { "@", "@" }, { "${{", "}}" },
	{ "<<<", ">>>" }, { "$", "$" }, { "%{", "}%" }, { "[[", "]" },
};

struct outcome {
	enum err_code code;
	char msg[512];
	char *out;
	size_t len;
};

static void replace_all(const struct ph_values *v, const char *in, size_t len, size_t piece,
			struct outcome *o)
{
	struct buf out = BUF_INIT, pending = BUF_INIT;
	struct err e = ERR_INIT;
	size_t pos = 0;
	o->code = ERR_OK;
	do {
		size_t n = len - pos < piece ? len - pos : piece;
		buf_add(&pending, in + pos, n);
		pos += n;
		bool final = pos == len;
		/* an exact-size copy: reading past it is an ASan report */
		char *win = malloc(pending.len ? pending.len : 1);
		CHECK(win);
		memcpy(win, pending.ptr, pending.len);
		size_t used = (size_t)-1;
		o->code = ph_replace(v, (struct ph_input){ win, pending.len, final }, &out, &used, &e);
		free(win);
		if (o->code)
			break;
		CHECK(used <= pending.len);
		if (final)
			CHECK(used == pending.len);
		buf_consume(&pending, used);
	} while (pos < len);
	memcpy(o->msg, e.msg, sizeof o->msg);
	o->out = buf_detach(&out, &o->len);
	buf_release(&pending);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 2048)
		return 0;
	const char *prefix = pairs[data[0] & 7][0], *suffix = pairs[data[0] & 7][1];
	size_t piece = 1 + (data[0] >> 3);
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	struct ph_values v = {
		.user = &user, .prefix = prefix, .suffix = suffix, .separator = ":",
		.default_schema = "public", .user_name = NULL, .database = "db",
		.timestamp = "2024-01-02 03:04:05", .filename = "R__x.sql",
		.working_dir = "/w", .table = "flyway_schema_history", .environment = "default",
	};
	struct outcome whole, pieces;
	replace_all(&v, in, len, len ? len : 1, &whole);
	replace_all(&v, in, len, piece, &pieces);
	CHECK(whole.code == pieces.code);
	if (whole.code)
		CHECK(!strcmp(whole.msg, pieces.msg));
	else
		CHECK(whole.len == pieces.len && !memcmp(whole.out, pieces.out, whole.len));
	if (!whole.code && !memchr(in, prefix[0], len))
		CHECK(whole.len == len && !memcmp(whole.out, in, len));
	free(whole.out);
	free(pieces.out);
	return 0;
}
