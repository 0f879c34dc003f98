/*
 * options.c — option values the commands parse the same way.
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/msg.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int cmd_parse_count(const char *cmd, const char *flag, const char *v, unsigned long lo, unsigned long hi,
    unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	/* digits only: strtoul() would take blanks, a sign and wrap "-5" */
	if (errno || !isdigit((unsigned char)*v) || *end != '\0' || x < lo || x > hi) {
		msg_error("%s: %s: '%s' is not a number in [%lu, %lu]", cmd, flag, v, lo, hi);
		return EXIT_USAGE;
	}
	*out = x;
	return EXIT_OK;
}
