/*
 * fuzz_fake_dict.c: libFuzzer target for the fake-value dictionary parser
 * (trib_fake_list_parse in mask_fake.c).
 *
 * The first byte picks plain or domain syntax; the rest is a dictionary
 * file.  Whatever the bytes, parsing must end in a list or an error naming
 * the file and line; every entry accepted must be non-empty, within the
 * length limit, free of control characters and valid UTF-8 (and a host
 * name for domains), and the list must be freed without leaks.
 *
 * `make -C consumer fuzz` runs it on fuzz/corpus/fake_dict (the shipped
 * dictionaries); `make check` replays the corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mask_fake.h"
#include "utf8.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	trib_fake_list l;
	char		err[256];
	bool		domains;

	if (size == 0)
		return 0;
	domains = data[0] & 1;
	if (!trib_fake_list_parse("fuzz.txt", (const char *) data + 1, size - 1, domains,
							  &l, err, sizeof(err)))
	{
		if (strncmp(err, "fuzz.txt", 8) != 0)
			abort();
		return 0;
	}
	if (l.count < TRIB_FAKE_MIN_ENTRIES)
		abort();
	for (size_t i = 0; i < l.count; i++)
	{
		size_t		n = strlen(l.items[i]);

		if (n == 0 || n > TRIB_FAKE_MAX_ENTRY || !trib_utf8_valid(l.items[i], n))
			abort();
		for (size_t k = 0; k < n; k++)
			if ((unsigned char) l.items[i][k] < 0x20)
				abort();
		if (domains && strchr(l.items[i], '.') == NULL)
			abort();
	}
	trib_fake_list_free(&l);
	return 0;
}
