/*
 * cmd_calibrate.c — `pmapstorm calibrate`: options, then the measurement
 * (trials/calibrate.c), which writes calibration.json.
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/msg.h"
#include "experiment/experiment.h"
#include "trials/calibrate.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pmapstorm/topo.h>

static const char *const calib_usage =
    "usage: pmapstorm calibrate [CONFIG] [--set section.key=value]... [--out FILE]\n"
    "                           [--samples N] [--seconds S] [--rounds N] [--pairs N]\n"
    "                           [--quiet]\n"
    "\n"
    "Measures, on the host PUs a run of CONFIG would use (machine.cpus,\n"
    "machine.placement, machine.topology; default: every host PU):\n"
    "  - the cache-line ping-pong round trip of every pair of those PUs (median;\n"
    "    at most --pairs of them);\n"
    "  - the timer's own overhead (the model's clock and CLOCK_MONOTONIC);\n"
    "  - the host kernel's real shootdown cost: threads that touch and\n"
    "    madvise(MADV_DONTNEED) their pages in one address space, against the same\n"
    "    in separate processes (will-it-scale tlb_flush2);\n"
    "  - the model's shootdown round trip on two CPUs, IPI costs at zero.\n"
    "It writes calibration.json (default results/calibration.json, the default of\n"
    "ipi.calibration); a run with ipi.preset = calibrated sets ipi.send_ns and\n"
    "ipi.handler_ns from it, and one in virtual time with engine.costs =\n"
    "calibrated sets cost.line_transfer_ns and the IPI costs (cost.ipi_send_ns,\n"
    "cost.ipi_deliver_ns, cost.handler_ns) from it.  A few seconds with the\n"
    "defaults.\n"
    "  --out FILE    where calibration.json goes\n"
    "  --samples N   ping-pong batches of 100 round trips per pair (default 200)\n"
    "  --seconds S   run time of each tlb_flush2 mode (default 0.3)\n"
    "  --rounds N    model shootdowns measured (default 2000)\n"
    "  --pairs N     PU pairs ping-ponged at most (default 256): with more pairs, N\n"
    "                of them evenly spread over the i < j order, the same every time\n"
    "  --quiet       no summary on stdout\n"
    "ipi.preset = calibrated in CONFIG is not applied (the file need not exist yet;\n"
    "by default calibrate writes the one CONFIG's ipi.calibration names).\n"
    "Timings are figures, never a pass or fail.\n"
    "Exit: 0 ok, 2 bad input, 3 environment error (cannot pin to a PU, which it\n"
    "names; cannot fork or write; machine.memory more than the host has free).\n";

int cmd_calibrate(int argc, char **argv)
{
	struct machine_config cfg;
	machine_config_init(&cfg);
	char cpus[16];
	snprintf(cpus, sizeof(cpus), "%u", topo_npus() > 2 ? topo_npus() : 2);
	machine_config_set(&cfg, "machine.cpus", cpus);
	const char *out = NULL;
	const char *sets[32];
	unsigned nsets = 0;
	unsigned long samples = 200, rounds = 2000, max_pairs = CALIBRATE_MAX_PAIRS;
	double seconds = 0.3;
	bool quiet = false;
	static const struct option opts[] = {
		{"set", required_argument, NULL, 's'}, {"out", required_argument, NULL, 'o'},
		{"samples", required_argument, NULL, 'n'}, {"seconds", required_argument, NULL, 'S'},
		{"rounds", required_argument, NULL, 'r'}, {"quiet", no_argument, NULL, 'q'},
		{"pairs", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c, rc;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:o:n:S:r:P:qh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (nsets == 32) {
				msg_error("calibrate: too many --set");
				return EXIT_USAGE;
			}
			sets[nsets++] = optarg;
			break;
		case 'o': out = optarg; break;
		case 'n':
			if ((rc = cmd_parse_count("calibrate", "--samples", optarg, 10, 1000000, &samples)) != EXIT_OK)
				return rc;
			break;
		case 'r':
			if ((rc = cmd_parse_count("calibrate", "--rounds", optarg, 100, 10000000, &rounds)) != EXIT_OK)
				return rc;
			break;
		case 'P':
			if ((rc = cmd_parse_count("calibrate", "--pairs", optarg, 1, 32640, &max_pairs)) != EXIT_OK)
				return rc;
			break;
		case 'S': {
			seconds = exp_parse_seconds(optarg);
			if (seconds < 0.01 || seconds > 600) {
				msg_error("calibrate: --seconds: '%s' is not a time in [0.01, 600] seconds", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'q': quiet = true; break;
		case 'h': fputs(calib_usage, stdout); return EXIT_OK;
		default:
			msg_error("calibrate: unknown or incomplete option '%s'\n%s", argv[optind - 1], calib_usage);
			return EXIT_USAGE;
		}
	}
	if ((rc = exp_first_config("calibrate", argc - optind, argv + optind, sets, nsets, &cfg)) != 0)
		return exitcode_of(rc);
	if (out == NULL)
		out = cfg.mc_ipi_calibration;
	struct calibrate_params cp = {.cp_samples = (unsigned)samples, .cp_rounds = (unsigned)rounds,
	    .cp_max_pairs = (unsigned)max_pairs, .cp_seconds = seconds, .cp_quiet = quiet};
	return exitcode_of(calibrate_measure(&cfg, out, &cp));
}

