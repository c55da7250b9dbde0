/*
 * fuzz_aws_config — libFuzzer target for the AWS config / shared
 * credentials file parser (aws_config_parse).
 *
 * The first byte picks the dialect (bit 0: config file, else credentials
 * file); the rest is the file, handed over as an exact-size copy with no
 * terminator so that AddressSanitizer catches any read past it. Checked:
 * on success every entry is "section\tkey\tvalue" with a tab-free section
 * and key, a profile section of the credentials file starts with
 * "profile ", and looking an entry up gives the last value stored for its
 * section and key; on failure the message starts with the file's name
 * and a line number within the input, and what was appended before the
 * bad line is still well-formed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { CHECK_MAX = 64 }; /* lookups are linear: check a bounded number */

static void check_entry(const struct vec *kv, size_t i, bool config)
{
	const char *s = kv->items[i];
	const char *t1 = strchr(s, '\t');
	const char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
	if (!t1 || !t2)
		abort();
	if (!config && strncmp(s, "profile ", 8))
		abort();
	if (i >= CHECK_MAX)
		return;
	char *section = xstrndup(s, (size_t)(t1 - s));
	char *key = xstrndup(t1 + 1, (size_t)(t2 - t1 - 1));
	const char *v = aws_config_get(kv, section, key);
	/* a later entry with the same section and key wins */
	const char *want = t2 + 1;
	for (size_t j = i + 1; j < kv->len; j++) {
		const char *o = kv->items[j];
		size_t sn = strlen(section), kn = strlen(key);
		if (!strncmp(o, section, sn) && o[sn] == '\t' && !strncmp(o + sn + 1, key, kn) &&
		    o[sn + 1 + kn] == '\t')
			want = o + sn + kn + 2;
	}
	if (!v || strcmp(v, want))
		abort();
	free(section);
	free(key);
}

static size_t count_lines(const char *text, size_t len)
{
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	bool config = data[0] & 1;
	size_t len = size - 1;
	char *text = malloc(len ? len : 1);
	if (!text)
		return 0;
	memcpy(text, data + 1, len);
	struct vec kv = VEC_INIT;
	struct err e = ERR_INIT;
	enum err_code rc = aws_config_parse(text, len, "fuzz.ini", config, &kv, &e);
	if (rc != ERR_OK && rc != ERR_PARSE)
		abort();
	if (rc) {
		size_t line = 0;
		const char *at = strstr(e.msg, "fuzz.ini line ");
		if (!at || e.msg != at)
			abort();
		line = strtoul(at + 14, NULL, 10);
		if (!line || line > count_lines(text, len))
			abort();
	}
	for (size_t i = 0; i < kv.len; i++)
		check_entry(&kv, i, config);
	vec_free_strs(&kv);
	free(text);
	return 0;
}
