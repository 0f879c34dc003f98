/*
 * cmd_plot.c — `pmapstorm plot DIR`: redraw a results folder's plots
 * (report/plot.c).
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/msg.h"
#include "common/path.h"
#include "report/plot.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cmd_plot(int argc, char **argv)
{
	bool quiet = false, help = false;
	const char *dir = NULL;
	int bad = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quiet"))
			quiet = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			help = true;
		else if (argv[i][0] == '-') {
			msg_error("plot: unknown option '%s'", argv[i]);
			bad++;
		} else if (dir != NULL) {
			msg_error("plot: one results folder, not '%s' too", argv[i]);
			bad++;
		} else
			dir = argv[i];
	}
	if (help || bad || dir == NULL) {
		printf("usage: pmapstorm plot DIR [--quiet]\n"
		       "  redraws the plots of a results folder from its CSV files and lists them in DIR/plots.txt;\n"
		       "  --quiet: do not print what was drawn\n");
		return help && !bad ? EXIT_OK : EXIT_USAGE;
	}
	char path[4096];
	if (path_join(path, sizeof(path), dir, "summary.csv") != 0 || access(path, R_OK) != 0) {
		msg_error("plot: %s is not a results folder (no summary.csv)", dir);
		return EXIT_USAGE;
	}
	return exitcode_of(plot_dir(dir, quiet, NULL));
}
