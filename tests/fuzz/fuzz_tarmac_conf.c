/*
 * fuzz_tarmac_conf — tui_conf_parse on arbitrary text.
 *
 * The input must not make the parser read arbitrary files: the config is
 * named under a directory that does not exist, so a relative flyway_conf
 * fails with ENOENT, and on any line that mentions flyway_conf the bytes
 * '/' and '~' are replaced, so no value can be an absolute or home path.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tui/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void defuse_imports(char *text)
{
	for (char *line = text; *line;) {
		size_t n = strcspn(line, "\n");
		char save = line[n];
		line[n] = 0;
		if (strcasestr(line, "flyway_conf"))
			for (char *p = line; *p; p++)
				if (*p == '/' || *p == '~')
					*p = '_';
		line[n] = save;
		line += n + (save != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	defuse_imports(text);
	struct tui_conf c;
	struct err e = ERR_INIT;
	tui_conf_init(&c);
	tui_conf_parse(&c, "/nonexistent-tarmac-fuzz/tarmac.conf", text, &e);
	tui_conf_release(&c);
	free(text);
	return 0;
}
