/*
 * config.c — experiment files (INI, parsed by inih) into a machine config.
 *
 * Every "[section] key = value" becomes machine_config_set("section.key",
 * value), the same setter --set and the embedding API use, so the three
 * accept the same keys and print the same reasons.  A bad file is reported
 * as "file:line: key: reason" and is exit code 2.
 */
#include "cli.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

struct cfg_load {
	struct machine_config *cl_cfg;
	char cl_err[512];
	int cl_nerr;
};

static int cfg_handler(void *user, const char *section, const char *name, const char *value)
{
	struct cfg_load *cl = user;
	char key[256];
	snprintf(key, sizeof(key), "%s.%s", section, name);
	if (machine_config_set(cl->cl_cfg, key, value) == 0)
		return 1;
	if (cl->cl_nerr++ == 0)
		snprintf(cl->cl_err, sizeof(cl->cl_err), "%s", machine_errmsg());
	return 0; /* inih returns the line of the first error */
}

int cli_load_config(struct machine_config *cfg, const char *path)
{
	struct cfg_load cl = {.cl_cfg = cfg};
	int line = ini_parse(path, cfg_handler, &cl);
	if (line == -1) {
		cli_error("%s: cannot open (%s)", path, strerror(errno));
		return EXIT_USAGE;
	}
	if (line == -2) {
		cli_error("%s: out of memory while parsing", path);
		return EXIT_ENV;
	}
	if (line > 0) {
		if (cl.cl_nerr > 0)
			cli_error("%s:%d: %s", path, line, cl.cl_err);
		else
			cli_error("%s:%d: not a 'key = value' line or '[section]' header", path, line);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
