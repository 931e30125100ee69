/*
 * fuzz_config.c: libFuzzer target for the pipeline file loader
 * (yaml_tree.c, the config/ folder, the plugins' key tables).
 *
 * Arbitrary bytes go to trib_config_load_buffer(); whatever they are, the
 * loader must either return a config or an error message, never crash,
 * hang, read out of bounds or leak (ASan's leak check runs at the end of
 * each input).  A loaded config is freed again; the secret registry the
 * loader fills is cleared after every input so memory stays flat.
 *
 * `make -C consumer fuzz` builds it with clang and runs it on
 * fuzz/corpus/config (the examples and the bad configs of the unit tests)
 * with the dictionary fuzz/fuzz_config.dict; `make check` replays the
 * corpus once.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "log.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	trib_config *cfg = NULL;
	char		err[4096];

	if (trib_config_load_buffer("fuzz.yaml", (const char *) data, size, &cfg,
								err, sizeof(err)))
	{
		/* a loaded config is complete: every source and sink has a name */
		for (size_t i = 0; i < cfg->nsources; i++)
			if (cfg->sources[i].name == NULL || cfg->sources[i].name[0] == '\0')
				__builtin_trap();
		for (size_t i = 0; i < cfg->nsinks; i++)
			if (cfg->sinks[i].name == NULL || cfg->sinks[i].name[0] == '\0')
				__builtin_trap();
		if (cfg->pipeline == NULL || cfg->http.host == NULL)
			__builtin_trap();
		trib_config_free(cfg);
	}
	else if (cfg != NULL || err[0] == '\0')
		__builtin_trap();		/* a failure must say why and return nothing */
	trib_log_clear_secrets();
	return 0;
}
