/*
 * cmd_export.c — `pmapstorm export`: options, the run read with the gate's
 * reader, and the document compare/export.c makes, on stdout or --out.
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/atomicfile.h"
#include "common/msg.h"
#include "compare/export.h"
#include "compare/gate.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const export_usage =
    "usage: pmapstorm export --format github-action-benchmark|bmf RUN [--direction smaller|bigger] [--out FILE]\n"
    "\n"
    "Writes the medians over trials of every point's metrics of RUN (a run.json,\n"
    "a results folder, or a baseline) for a dashboard; a metric that is 0\n"
    "everywhere in RUN is left out, and one that does not apply is absent:\n"
    "  github-action-benchmark  custom tool JSON ({name, unit, value, range,\n"
    "                           extra}); only the metrics of one direction:\n"
    "                           --direction smaller (default; tool\n"
    "                           customSmallerIsBetter) or bigger\n"
    "                           (customBiggerIsBetter)\n"
    "  bmf                      Bencher Metric Format: benchmark -> measure ->\n"
    "                           {value, lower_value, upper_value} (median, min, max)\n"
    "  --out FILE               write FILE instead of stdout: atomically\n"
    "                           (temporary name, fsync, rename), replaced if\n"
    "                           it exists\n"
    "Exit: 0 ok, 2 bad flag or bad input, 3 cannot write (--out or stdout) or\n"
    "out of memory.\n";

int cmd_export(int argc, char **argv)
{
	const char *format = NULL, *out = NULL, *dir = "smaller";
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'}, {"out", required_argument, NULL, 'o'},
		{"direction", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'o': out = optarg; break;
		case 'd': dir = optarg; break;
		case 'h': fputs(export_usage, stdout); return EXIT_OK;
		default:
			msg_error("export: unknown or incomplete option '%s'\n%s", argv[optind - 1], export_usage);
			return EXIT_USAGE;
		}
	}
	if (format == NULL || (strcmp(format, "github-action-benchmark") != 0 && strcmp(format, "bmf") != 0)) {
		msg_error("export: --format: github-action-benchmark or bmf%s%s", format ? ", not " : "", format ? format : "");
		return EXIT_USAGE;
	}
	if (strcmp(dir, "smaller") != 0 && strcmp(dir, "bigger") != 0) {
		msg_error("export: --direction: smaller or bigger, not %s", dir);
		return EXIT_USAGE;
	}
	if (argc - optind != 1) {
		msg_error("export: one run (a run.json or a results folder)");
		return EXIT_USAGE;
	}
	char path[4096], err[1024];
	gate_input_path(argv[optind], path, sizeof(path));
	struct gate_doc d;
	int rc = gate_doc_load(path, &d, err, sizeof(err));
	if (rc != 0) {
		msg_error("export: %s", err);
		return exitcode_of(rc);
	}
	json_t *doc = !strcmp(format, "bmf") ? export_bmf(&d) : export_gab(&d, !strcmp(dir, "smaller") ? -1 : 1);
	if (doc == NULL)
		rc = EXIT_ENV;
	else if (out != NULL)
		rc = exitcode_of(atomicfile_write_json(out, doc));
	else if (json_dumpf(doc, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF)
		rc = EXIT_ENV;
	json_decref(doc);
	gate_doc_free(&d);
	return rc;
}
