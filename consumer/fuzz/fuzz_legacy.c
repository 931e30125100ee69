/*
 * fuzz_legacy.c: libFuzzer target for the copy-and-sanitize format
 * (legacy.c): arbitrary bytes are loaded as such a file; the loader must
 * return steps or an error, never crash, hang or leak.  Every translated
 * step's configuration is then loaded by the native loader too, which must
 * not crash on the generated text (it may still reject it, e.g. an unset
 * ${ENV}).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "legacy.h"
#include "log.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a default key, so keyed strategies translate into native rules too */
	const trib_legacy_opts opts = {.state_dir = "/state", .key_env = "TRIB_FUZZ_KEY",
	.source_uri = "postgresql://u:pw@h:5432/x", .source_uri_from = "TRIBUTARY_SOURCE_URI"};
	trib_legacy *lg = NULL;
	char		err[4096];

	if (trib_legacy_load("fuzz.yaml", (const char *) data, size, &opts, &lg,
						 err, sizeof(err)))
	{
		for (size_t i = 0; i < lg->nsteps; i++)
		{
			trib_config *cfg = NULL;

			if (trib_config_load_buffer("gen", lg->steps[i].config,
										strlen(lg->steps[i].config), &cfg, err, sizeof(err)))
				trib_config_free(cfg);
		}
		trib_legacy_free(lg);
	}
	trib_log_clear_secrets();
	return 0;
}
