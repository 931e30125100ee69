/*
 * control_path.c: the control API's path patterns (control_int.h): the
 * endpoint table's rows name a source, a sink or a lineage asset with a
 * wildcard, and the endpoint reads the name from the path itself.
 *
 * The HTTP server decodes a path but its %2F and %25 (lib/urlpath.h), so
 * that an encoded '/' stays inside a name; ctl_path_name() is the one place
 * that takes a name out of the path and decodes those two.
 */
#include "control_int.h"

#include <string.h>

#include "urlpath.h"

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

/* See control_int.h. */
void
ctl_path_name(const char *rest, size_t from, trib_strbuf *out)
{
	const char *end = strrchr(rest, '/');

	out->len = 0;
	trib_strbuf_add(out, rest + from, end != NULL && end > rest + from
					? (size_t) (end - (rest + from)) : 0);
	trib_url_unescape_segment(out->data);	/* the %2F and %25 the server kept */
	out->len = strlen(out->data);
}
