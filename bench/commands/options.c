/*
 * options.c — option values the commands parse the same way.
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/msg.h"

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
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", v);
	char *tok = buf;
	do {
		char *end = list ? strchr(tok, ',') : NULL;
		if (end != NULL)
			*end = '\0';
		while (*tok == ' ')
			tok++;
		size_t n = strlen(tok);
		while (n > 0 && tok[n - 1] == ' ')
			tok[--n] = '\0';
		if (strcmp(tok, "threads") != 0 && strcmp(tok, "virtual") != 0) {
			msg_error("%s: --engine: '%s' is not threads or virtual%s", cmd, tok,
			    list ? " (or a comma-separated list of them)" : "");
			return EXIT_USAGE;
		}
		tok = end != NULL ? end + 1 : NULL;
	} while (tok != NULL);
	return EXIT_OK;
}
