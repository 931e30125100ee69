/*
 * mysql_lag.c: the binlog reader's lag (mysql_lag.h).
 */
#include "mysql_lag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_position.h"

/* See mysql_lag.h. */
void
trib_my_lag_note(trib_my_lag *lag, bool heartbeat, const char *file, uint64_t end,
				 uint32_t ts)
{
	if (heartbeat)
	{
		lag->caught_up = true;
		return;
	}
	if (ts == 0 || end == 0 || file == NULL || file[0] == '\0')
		return;					/* artificial: not a place in the binlog */
	lag->read = true;
	lag->caught_up = false;
	snprintf(lag->file, sizeof(lag->file), "%s", file);
	lag->end = end;
	lag->ts_ms = (int64_t) ts * 1000;
}

/* See mysql_lag.h. */
double
trib_my_lag_seconds(const trib_my_lag *lag, int64_t now_ms)
{
	if (!lag->read || lag->caught_up || now_ms <= lag->ts_ms)
		return 0;
	return (double) (now_ms - lag->ts_ms) / 1000.0;
}

/* See mysql_lag.h. */
bool
trib_my_lag_bytes(const trib_my_lag *lag, const trib_my_rows *logs, uint64_t *out)
{
	uint32_t	at,
				n;
	bool		found = false;
	uint64_t	sum = 0;

	if (!lag->read || !trib_my_file_number(lag->file, &at))
		return false;
	for (int i = 0; i < logs->nrows; i++)
	{
		const char *name = trib_my_cell(logs, i, 0);
		const char *size = trib_my_cell(logs, i, 1);
		uint64_t	bytes = size ? strtoull(size, NULL, 10) : 0;

		if (name == NULL || !trib_my_file_number(name, &n) || n < at)
			continue;
		if (n == at)
		{
			found = true;
			sum += bytes > lag->end ? bytes - lag->end : 0;
		}
		else
			sum += bytes;
	}
	*out = sum;
	return found;
}
