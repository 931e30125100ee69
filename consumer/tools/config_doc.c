/*
 * tools/config_doc.c: print the configuration reference to stdout.
 *
 * `make -C consumer doc` runs it to write docs/CONFIG.md without needing
 * the daemon binary; `tributary config-doc` prints the same text.
 */
#include <stdio.h>

#include "config.h"

int
main(void)
{
	trib_config_write_doc(stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
