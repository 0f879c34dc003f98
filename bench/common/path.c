/*
 * path.c — checked path joins (path.h).
 */
#include "common/path.h"

#include <errno.h>
#include <stdio.h>

/* n from snprintf into len bytes: did it all fit? */
static int fits(char *buf, size_t len, int n)
{
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return ENAMETOOLONG;
	}
	return 0;
}

int path_join(char *buf, size_t len, const char *dir, const char *name)
{
	if (dir == NULL)
		return fits(buf, len, snprintf(buf, len, "%s", name));
	return fits(buf, len, snprintf(buf, len, "%s/%s", dir, name));
}

int path_join_ext(char *buf, size_t len, const char *dir, const char *name, const char *ext)
{
	return fits(buf, len, snprintf(buf, len, "%s/%s.%s", dir, name, ext));
}
