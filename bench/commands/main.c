/*
 * main.c — the pmapstorm command: subcommand dispatch only.
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/msg.h"
#include "common/provenance.h"

#include <stdio.h>
#include <string.h>

static const char *const usage_text =
    "usage: pmapstorm [--version] [--help] <command> [<args>]\n"
    "\n"
    "commands:\n"
    "  run          run an experiment file: sweeps, trials, results, plots, report\n"
    "               (--shard K/N: one slice of its trials, for a scheduler's task)\n"
    "  merge        put the shards of a run back together into one results folder\n"
    "  plot         redraw the plots of a results folder\n"
    "  microbench   measure TLB hit/miss cost, the shootdown round trip and the\n"
    "               cache-line ping-pong floor on one CPU pair\n"
    "  gate         compare two runs and fail on a regression (CI performance gate)\n"
    "  export       a run's medians for github-action-benchmark or Bencher (BMF)\n"
    "  topo         print the topology (host or synthetic machine.topology) and\n"
    "               where each simulated CPU is placed (machine.placement)\n"
    "  calibrate    measure the ping-pong floor of PU pairs, the timer, and the\n"
    "               host kernel's real shootdown cost; write calibration.json for\n"
    "               ipi.preset = calibrated\n"
    "  stress       torture mode: every correct strategy (or one, or a mutant) under\n"
    "               coherence oracles and seeded fault injection, with a watchdog;\n"
    "               a per-oracle table ending in SUCCESS or FAILURE\n"
    "  list         list strategies, lock algorithms, workloads, config keys or metrics\n"
    "               (pmapstorm list strategies|locks|workloads|keys|metrics)\n"
    "\n"
    "'pmapstorm <command> --help' describes a command.\n"
    "exit codes: 0 ok, 1 violation or regression found, 2 usage or input error,\n"
    "            3 environment or resource error, 130 interrupted\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "--version")) {
		printf("pmapstorm %s (commit %s, %s)\n", PMAPSTORM_VERSION, pmapstorm_commit(), PMAPSTORM_COMPILER);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "merge"))
		return cmd_merge(argc - 1, argv + 1);
	if (!strcmp(cmd, "plot"))
		return cmd_plot(argc - 1, argv + 1);
	if (!strcmp(cmd, "microbench"))
		return cmd_microbench(argc - 1, argv + 1);
	if (!strcmp(cmd, "gate"))
		return cmd_gate(argc - 1, argv + 1);
	if (!strcmp(cmd, "export"))
		return cmd_export(argc - 1, argv + 1);
	if (!strcmp(cmd, "topo"))
		return cmd_topo(argc - 1, argv + 1);
	if (!strcmp(cmd, "calibrate"))
		return cmd_calibrate(argc - 1, argv + 1);
	if (!strcmp(cmd, "stress"))
		return cmd_stress(argc - 1, argv + 1);
	if (!strcmp(cmd, "list"))
		return cmd_list(argc - 1, argv + 1);
	if (cmd[0] == '-')
		msg_error("unknown option '%s' (see pmapstorm --help)", cmd);
	else
		msg_error("unknown command '%s' (see pmapstorm --help)", cmd);
	return EXIT_USAGE;
}
