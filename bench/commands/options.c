/*
 * options.c — option values the commands parse the same way.
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/msg.h"

#include <pmapstorm/machine.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int cmd_check_engine(const char *cmd, const char *v, bool list)
{
	/* each value through machine.engine's own parser, so the flag takes
	 * what the key takes; a list's items trimmed as the experiment's
	 * lists are */
	struct machine_config scratch;
	machine_config_init(&scratch);
	const char *item = v;
	do {
		const char *end = list ? strchr(item, ',') : NULL;
		size_t n = end != NULL ? (size_t)(end - item) : strlen(item);
		while (list && n > 0 && *item == ' ')
			item++, n--;
		while (list && n > 0 && item[n - 1] == ' ')
			n--;
		char tok[256];
		snprintf(tok, sizeof(tok), "%.*s", (int)n, item);
		if (n >= sizeof(tok) || machine_config_set(&scratch, "machine.engine", tok) != 0) {
			msg_error("%s: --engine: '%s' is not threads or virtual%s", cmd, tok,
			    list ? " (or a comma-separated list of them)" : "");
			return EXIT_USAGE;
		}
		item = end != NULL ? end + 1 : NULL;
	} while (item != NULL);
	return EXIT_OK;
}
