/*
 * msg.c — messages for people (msg.h): errors on stderr, durations.
 */
#include "common/msg.h"

#include <stdarg.h>
#include <stdio.h>

void msg_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "pmapstorm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

void msg_duration(char *buf, size_t len, double s)
{
	if (s >= 3600)
		snprintf(buf, len, "%d h %02d min", (int)(s / 3600), (int)(s / 60) % 60);
	else if (s >= 60)
		snprintf(buf, len, "%d min %02d s", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, len, "%.0f s", s);
}
