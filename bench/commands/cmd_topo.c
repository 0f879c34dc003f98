/*
 * topo.c — `pmapstorm topo`: the topology a run would use (the host's, or
 * a synthetic machine.topology) and the placement of its CPUs, printed by
 * core/topo (topo_print) so the command and the results say the same.
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/atomicfile.h"
#include "common/msg.h"
#include "experiment/experiment.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pmapstorm/topo.h>

static const char *const topo_usage =
    "usage: pmapstorm topo [CONFIG] [--set section.key=value]... [--cpus N]\n"
    "                      [--placement compact|scatter|list:PU,...] [--topology DESC]\n"
    "                      [--xml FILE]\n"
    "\n"
    "Prints the topology a run would use — the host's (hwloc), or the synthetic\n"
    "machine of machine.topology (hwloc synthetic syntax, \"pack:2 l3:2 core:4 pu:2\")\n"
    "— its hop levels (the delays of ipi.distance_ns), the NUMA policy, and where\n"
    "each simulated CPU is placed: model PU, host PU its thread is pinned to, group\n"
    "(L3 or package, as the hier strategy uses) and NUMA node.\n"
    "  CONFIG        an experiment file whose machine keys are used (first value)\n"
    "  --set k=v     a config key (machine.cpus, machine.placement, machine.topology, ...)\n"
    "  --cpus N      the same as --set machine.cpus=N\n"
    "  --placement P the same as --set machine.placement=P\n"
    "  --topology D  the same as --set machine.topology=D\n"
    "  --xml FILE    also write the model topology as hwloc XML (a temporary name in\n"
    "                the same folder, then renamed: never a half-written FILE)\n"
    "ipi.preset = calibrated is not applied: the calibration file need not exist.\n"
    "Exit: 0 ok, 2 bad input (the key and what the host has; a synthetic machine of\n"
    "more than 4096 PUs), 3 hwloc cannot load a topology, or FILE cannot be written.\n";

int cmd_topo(int argc, char **argv)
{
	struct machine_config cfg;
	machine_config_init(&cfg);
	const char *xml = NULL;
	static const struct option opts[] = {
		{"set", required_argument, NULL, 's'}, {"cpus", required_argument, NULL, 'c'},
		{"placement", required_argument, NULL, 'p'}, {"topology", required_argument, NULL, 't'},
		{"xml", required_argument, NULL, 'x'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	/* flags apply after the file, in their order */
	char kvs[32][1024];
	unsigned nkv = 0;
	int c, rc;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:c:p:t:x:h", opts, NULL)) != -1) {
		const char *key = NULL, *flag = NULL;
		switch (c) {
		case 's': key = ""; break;
		case 'c':
			key = "machine.cpus=";
			flag = "--cpus";
			break;
		case 'p':
			key = "machine.placement=";
			flag = "--placement";
			break;
		case 't':
			key = "machine.topology=";
			flag = "--topology";
			break;
		case 'x': xml = optarg; continue;
		case 'h': fputs(topo_usage, stdout); return EXIT_OK;
		default:
			msg_error("topo: unknown or incomplete option '%s'\n%s", argv[optind - 1], topo_usage);
			return EXIT_USAGE;
		}
		if (nkv == 32) {
			msg_error("topo: too many --set");
			return EXIT_USAGE;
		}
		if (flag != NULL) {
			/* --cpus, --placement, --topology: a bad value names the flag */
			struct machine_config scratch;
			char k[32];
			machine_config_init(&scratch);
			snprintf(k, sizeof(k), "%.*s", (int)strlen(key) - 1, key);
			if (machine_config_set(&scratch, k, optarg) != 0) {
				msg_error("topo: %s: %s", flag, machine_errmsg());
				return EXIT_USAGE;
			}
		}
		snprintf(kvs[nkv++], sizeof(kvs[0]), "%s%s", key, optarg);
	}
	const char *sets[32];
	for (unsigned i = 0; i < nkv; i++)
		sets[i] = kvs[i];
	if ((rc = exp_first_config("topo", argc - optind, argv + optind, sets, nkv, &cfg)) != 0)
		return exitcode_of(rc);
	struct topo *t;
	if ((rc = exp_config_topo(&cfg, "topo", &t)) != 0)
		return exitcode_of(rc);
	topo_print(t, stdout);
	struct topo_numa tn;
	char numa[768];
	if ((rc = exp_numa(&cfg, &tn, numa, sizeof(numa))) != 0) {
		msg_error("topo: %s", numa);
		topo_close(t);
		return exitcode_of(rc);
	}
	printf("memory (machine.numa = %s): %s\n", cfg.mc_numa, numa);
	if (cfg.mc_ipi_ndistance > 0) {
		printf("ipi.distance_ns by hop level:");
		for (unsigned l = 1; l <= topo_nlevels(t); l++) {
			unsigned k = l < cfg.mc_ipi_ndistance ? l : cfg.mc_ipi_ndistance;
			printf(" %s=%lu", topo_level_name(t, l), (unsigned long)cfg.mc_ipi_distance_ns[k - 1]);
		}
		printf("\n");
	}
	if (topo_oversubscribed(t))
		fprintf(stderr, "pmapstorm: warning: %u simulated CPUs on fewer PUs: threads share PUs (allowed; "
		    "timings are not those of a real machine of that size)\n", cfg.mc_ncpu);
	rc = EXIT_OK;
	if (xml != NULL) {
		/* a temporary name in the same folder, fsync, rename (common/atomicfile.c) */
		char tmp[4096];
		FILE *f = atomicfile_begin(NULL, xml, tmp, sizeof(tmp));
		int e = f == NULL ? -1 : topo_export_xml(t, false, f);
		if (e > 0) {
			msg_error("topo: --xml: cannot write %s (%s)", xml, strerror(e));
			fclose(f);
			unlink(tmp);
		}
		rc = e != 0 ? EXIT_ENV : exitcode_of(atomicfile_commit(f, NULL, xml, tmp));
	}
	topo_close(t);
	return rc;
}
