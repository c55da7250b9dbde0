/*
 * fuzz_flyway_conf — eng_config_parse_flyway_conf on arbitrary bytes.
 * Touches no files; ${ENV} expansion reads the environment only, and one
 * variable is set so the expansion path produces text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/engine.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("FUZZ", "flyway.table=x\\", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eng_config c;
	struct err e = ERR_INIT;
	eng_config_init(&c);
	eng_config_parse_flyway_conf(&c, "fuzz.conf", (const char *)data, size, &e);
	eng_config_release(&c);
	return 0;
}
