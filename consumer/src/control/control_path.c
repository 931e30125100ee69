/*
 * control_path.c: the control API's path patterns (control_int.h): the
 * endpoint table's rows name a source, a sink or a lineage asset with a
 * wildcard, and the endpoint reads the name from the path itself.
 */
#include "control_int.h"

#include <string.h>

/* See control_int.h. */
bool
ctl_path_match(const char *pattern, const char *path)
{
	while (*pattern != '\0')
	{
		if (pattern[0] == '*' && pattern[1] == '*')
		{
			/* one or more characters: the longest that lets the rest fit */
			for (const char *t = path + strlen(path); t > path; t--)
				if (ctl_path_match(pattern + 2, t))
					return true;
			return false;
		}
		if (pattern[0] == '*')
		{
			size_t		n = strcspn(path, "/");

			if (n == 0)
				return false;
			path += n;
			pattern++;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *path == '\0';
}
