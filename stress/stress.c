/*
 * stress.c — `pmapstorm stress`: torture mode on the command line.
 *
 * Follows rcutorture's reporting (Linux kernel/rcu/rcutorture.c,
 * rcu_torture_stats_print(): one statistics line per kind of check, and a
 * final "End of test: SUCCESS" or "FAILURE") and locktorture's knobs
 * (torture_type, nreaders_stress, stutter): a strategy (or all of them),
 * a time, CPUs, a seed, injections.  The first violation gets a report —
 * oracle, CPU, address, frame, strategy, seed, the config keys that differ
 * from the defaults, the commit — and a one-line command that reruns the
 * same case.  The same seed repeats every choice the workload and the
 * injection make; with threads the interleaving is the host's, with
 * --engine virtual the seed fixes it too (engine.seed), so the rerun line
 * replays the same violation, and --schedules N tries N seeds in turn.
 */
#include "stress.h"

#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/msg.h"
#include "common/provenance.h"
#include "experiment/calibration.h"
#include "experiment/experiment.h"
#include "trials/hostmem.h"

#include <pmapstorm/alloc.h>
#include <pmapstorm/shootdown.h>
#include <pmapstorm/topo.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const stress_usage =
    "usage: pmapstorm stress [--strategy NAME|all] [--seconds N] [--cpus N] [--seed N]\n"
    "                        [--engine threads|virtual] [--schedules N]\n"
    "                        [--inject LIST] [--oracles LIST] [--unsafe] [--keep-going]\n"
    "                        [--set section.key=value]... [--quiet]\n"
    "\n"
    "Torture mode: runs the torture workload (every CPU maps, removes, protects,\n"
    "revokes and clears mod/ref on its pages of one shared pmap, allocates and frees\n"
    "kernel memory, and reads and writes the other CPUs' pages) under every oracle,\n"
    "with quiescent points every 25 ms, and prints a table of checks and violations\n"
    "per oracle ending in SUCCESS or FAILURE.\n"
    "  --strategy S   a shootdown strategy, or all (every correct one, one after the\n"
    "                 other; default: shootdown.strategy, netbsd-x86)\n"
    "  --seconds N    how long per strategy (default 10; fractions allowed, > 0;\n"
    "                 virtual seconds with --engine virtual, default there 0.05)\n"
    "  --cpus N       simulated CPUs (overrides --set machine.cpus; default: that,\n"
    "                 else the host's CPUs, at least 2, at most 4; more simulated\n"
    "                 CPUs than host CPUs make every wait slow)\n"
    "  --seed N       fixes every random choice of the workload and the injection\n"
    "                 (default 1); thread interleavings still vary on real threads,\n"
    "                 and with --engine virtual the seed fixes them too (engine.seed)\n"
    "  --engine E     machine.engine: threads (default) or virtual — one CPU at a\n"
    "                 time under a seeded scheduler, so a violation replays from its\n"
    "                 rerun line at the same operation, CPU and address\n"
    "  --schedules N  with --engine virtual: try seeds --seed, --seed+1, ... (N of\n"
    "                 them, each --seconds long) and stop at the first that fails,\n"
    "                 naming it; add --set engine.preempt=P for random preemption,\n"
    "                 or --set engine.delays=D to hold a CPU back at D points of\n"
    "                 each run (delay-bounded scheduling; docs/engine.md)\n"
    "  --inject LIST  comma-separated, or all / none (default none):\n"
    "                   ipi        IPI handling on inject.ipi_delay_cpus held back\n"
    "                              inject.ipi_delay_us (default here 200)\n"
    "                   yield      yields inside pmap critical sections (inject.yield,\n"
    "                              per mille; default here 20)\n"
    "                   spl        interrupt-blocked windows at interrupt points\n"
    "                              (inject.spl per mille, default here 5; inject.spl_us)\n"
    "                   allocfail  CANFAIL/NOWAIT allocations fail (inject.allocfail\n"
    "                              per mille, default here 20)\n"
    "                   pressure   CPU 0 holds free memory so that allocations wait in\n"
    "                              uvm_wait() (inject.pressure percent, default here 50)\n"
    "                 --set inject.KEY=VALUE sets a value of your own.\n"
    "  --oracles LIST which oracles check (default all):\n"
    "                   frame      no access through a TLB entry reaches a frame freed\n"
    "                              since the entry was filled (frame generations)\n"
    "                   update     once pmap_update() (or a page operation) returned, no\n"
    "                              access uses a translation it removed or downgraded\n"
    "                   modref     a write (access) after the last clear makes\n"
    "                              pmap_is_modified (is_referenced) true\n"
    "                   counts     resident and wired counts equal a recount at\n"
    "                              quiescent points (and pmap_check() passes)\n"
    "                   alloc      no frame or kernel VA handed out twice; no frame\n"
    "                              free while mapped\n"
    "                   contents   every page is stamped by its owner; reads verify it\n"
    "  --unsafe       allow the deliberately broken mutants (shootdown.allow_unsafe)\n"
    "  --keep-going   do not stop at the first violation\n"
    "  --set k=v      any config key (pmapstorm list keys); watchdog.seconds is 10 here\n"
    "  --quiet        no line per violation (the report and table remain)\n"
    "Limits: oracles judge accesses only when no one changed the page around them\n"
    "(races in which the owner did are not judged), and the in-machine update oracle\n"
    "keeps one address interval per CPU: violations can be missed, never invented.\n"
    "A CPU without progress for watchdog.seconds: every CPU's state is dumped, exit 1.\n"
    "Exit: 0 SUCCESS, 1 a violation (or the watchdog), 2 bad input, 3 environment,\n"
    "130 interrupted.\n";

static _Atomic int stress_stop;

static void on_signal(int sig)
{
	(void)sig;
	if (atomic_exchange(&stress_stop, 1) != 0)
		syscall(SYS_exit_group, EXIT_INTERRUPTED); /* not _exit(): see cmd_run.c's on_signal() */
}

struct inject_default {
	const char *id_name, *id_key, *id_value;
};
static const struct inject_default inject_defaults[] = {
	{"ipi", "inject.ipi_delay_us", "200"},
	{"yield", "inject.yield", "20"},
	{"spl", "inject.spl", "5"},
	{"allocfail", "inject.allocfail", "20"},
	{"pressure", "inject.pressure", "50"},
};
#define NINJECT (sizeof(inject_defaults) / sizeof(inject_defaults[0]))

/* --inject LIST: switch each named injection on (a value --set gave wins). */
static int apply_inject(struct machine_config *cfg, const char *list)
{
	if (!strcmp(list, "none"))
		return EXIT_OK;
	bool all = !strcmp(list, "all");
	const char *p = list;
	while (*p != '\0' || all) {
		size_t n = strcspn(p, ",");
		bool found = false;
		for (size_t i = 0; i < NINJECT; i++) {
			if (!all && (strlen(inject_defaults[i].id_name) != n || strncmp(p, inject_defaults[i].id_name, n)))
				continue;
			found = true;
			char cur[64];
			machine_config_get(cfg, inject_defaults[i].id_key, cur, sizeof(cur));
			if (!strcmp(cur, "0"))
				machine_config_set(cfg, inject_defaults[i].id_key, inject_defaults[i].id_value);
		}
		if (all)
			break;
		if (!found || n == 0) {
			msg_error("--inject: unknown injection '%.*s'; valid: ipi, yield, spl, allocfail, pressure, all, none",
			    (int)n, p);
			return EXIT_USAGE;
		}
		p += n + (p[n] == ',');
	}
	return EXIT_OK;
}

/* ---- the report ---- */

static char rerun_line[2048];
static const struct machine_config *report_cfg;

static void print_config_diff(FILE *f, const struct machine_config *cfg)
{
	struct machine_config def;
	machine_config_init(&def);
	const char *const *keys = machine_config_keys();
	bool any = false;
	for (unsigned i = 0; keys[i] != NULL; i++) {
		char a[256], b[256];
		machine_config_get(cfg, keys[i], a, sizeof(a));
		machine_config_get(&def, keys[i], b, sizeof(b));
		if (strcmp(a, b) != 0) {
			fprintf(f, "%s%s=%s", any ? " " : "", keys[i], a);
			any = true;
		}
	}
	if (!any)
		fprintf(f, "(defaults)");
}

static void reproducibility(FILE *f, uint64_t seed, bool virt)
{
	if (virt) {
		fprintf(f, "reproducibility: seed %lu fixes every random choice of the workload, of the injection\n"
		    "  and of the virtual scheduler (engine.seed): the rerun line replays the same run, the\n"
		    "  same violation at the same operation, CPU and address\n", (unsigned long)seed);
		return;
	}
	fprintf(f, "reproducibility: seed %lu fixes every random choice of the workload and of the injection;\n"
	    "  thread interleavings on real threads still vary, so a rerun repeats the same operations,\n"
	    "  not necessarily the same race (run it longer, or with --inject, to hit it again)\n",
	    (unsigned long)seed);
}

static void print_report(FILE *f, const struct stress_result *res, const struct machine_config *cfg, uint64_t seed)
{
	const struct check_violation *v = &res->sr_first;
	fprintf(f, "\nVIOLATION REPORT\n");
	fprintf(f, "  oracle:   %s (%s)\n", check_oracle_name(v->cv_oracle), check_oracle_desc(v->cv_oracle));
	fprintf(f, "  what:     %s\n", v->cv_what);
	if (v->cv_cpu >= 0)
		fprintf(f, "  cpu:      %d\n", v->cv_cpu);
	else
		fprintf(f, "  cpu:      (the runner, at a quiescent point)\n");
	fprintf(f, "  address:  %#lx\n  frame:    %#lx\n", (unsigned long)v->cv_va, (unsigned long)v->cv_pa);
	if (v->cv_cpu >= 0)
		fprintf(f, "  op:       after operation %lu of cpu %d\n", (unsigned long)res->sr_first_op, v->cv_cpu);
	if (cfg->mc_engine == MACHINE_ENGINE_VIRTUAL)
		fprintf(f, "  at:       %lu virtual ns\n", (unsigned long)res->sr_first_t_ns);
	fprintf(f, "  strategy: %s\n  seed:     %lu\n  after:    %.3f %ss\n", cfg->mc_strategy, (unsigned long)seed,
	    res->sr_first_s, cfg->mc_engine == MACHINE_ENGINE_VIRTUAL ? "virtual " : "");
	fprintf(f, "  config:   ");
	print_config_diff(f, cfg);
	fprintf(f, "\n  commit:   %s (pmapstorm %s, %s)\n", pmapstorm_commit(), PMAPSTORM_VERSION, PMAPSTORM_COMPILER);
	fprintf(f, "  rerun:    %s\n", rerun_line);
}

static void print_table(FILE *f, const struct stress_result *res, const struct machine_config *cfg, unsigned oracles)
{
	fprintf(f, "\npmapstorm stress: strategy %s, %u CPUs, %.2f s, %lu operations, %u quiescent points\n",
	    cfg->mc_strategy, cfg->mc_ncpu, res->sr_seconds, (unsigned long)res->sr_ops, res->sr_epochs);
	fprintf(f, "  %-9s %14s %11s\n", "oracle", "checks", "violations");
	for (int o = 0; o < CHK_NORACLES; o++) {
		if (!(oracles >> o & 1)) {
			fprintf(f, "  %-9s %14s %11s\n", check_oracle_name((enum check_oracle)o), "off", "-");
			continue;
		}
		fprintf(f, "  %-9s %14lu %11lu%s\n", check_oracle_name((enum check_oracle)o),
		    (unsigned long)res->sr_checks[o], (unsigned long)res->sr_violations[o],
		    res->sr_violations[o] ? "  <-- FAILURE" : "");
	}
	fprintf(f, "  injected:");
	if (!cfg->mc_stats) /* the injections are counted by statistics counters: 0 would be a lie */
		fprintf(f, " not counted (stats.enabled = off)");
	else
		for (int k = 0; k < 5; k++)
			fprintf(f, " %s %lu", stress_injected_names[k], (unsigned long)res->sr_injected[k]);
	fprintf(f, "\n  %s: %s%s\n", cfg->mc_strategy, stress_violations(res) ? "FAILURE" : "SUCCESS",
	    res->sr_interrupted ? " (interrupted)" : "");
}

static void on_watchdog(void)
{
	fprintf(stderr, "\npmapstorm stress: FAILURE: the watchdog fired (a hang)\n");
	if (report_cfg != NULL) {
		fprintf(stderr, "  strategy: %s\n  config:   ", report_cfg->mc_strategy);
		print_config_diff(stderr, report_cfg);
		fprintf(stderr, "\n  commit:   %s\n", pmapstorm_commit());
	}
	fprintf(stderr, "  rerun:    %s\n", rerun_line);
}

static void make_rerun(const char *strategy, double seconds, unsigned cpus, uint64_t seed, const char *engine,
    const char *inject, const char *oracles, bool unsafe, const char *const *sets, unsigned nsets)
{
	/* the shortest text that reads back as the same seconds */
	char secs[40];
	snprintf(secs, sizeof(secs), "%g", seconds);
	if (strtod(secs, NULL) != seconds)
		snprintf(secs, sizeof(secs), "%.17g", seconds);
	size_t n = (size_t)snprintf(rerun_line, sizeof(rerun_line),
	    "pmapstorm stress --strategy %s --seconds %s --cpus %u --seed %lu", strategy, secs, cpus,
	    (unsigned long)seed);
	if (engine != NULL && n < sizeof(rerun_line))
		n += (size_t)snprintf(rerun_line + n, sizeof(rerun_line) - n, " --engine %s", engine);
	if (inject != NULL && n < sizeof(rerun_line))
		n += (size_t)snprintf(rerun_line + n, sizeof(rerun_line) - n, " --inject %s", inject);
	if (oracles != NULL && n < sizeof(rerun_line))
		n += (size_t)snprintf(rerun_line + n, sizeof(rerun_line) - n, " --oracles %s", oracles);
	if (unsafe && n < sizeof(rerun_line))
		n += (size_t)snprintf(rerun_line + n, sizeof(rerun_line) - n, " --unsafe");
	for (unsigned i = 0; i < nsets && n < sizeof(rerun_line); i++)
		n += (size_t)snprintf(rerun_line + n, sizeof(rerun_line) - n, " --set '%s'", sets[i]);
}

/* what `pmapstorm stress` was asked, and the config and strategies made of it */
struct stress_cmd {
	const char *sc_strategy, *sc_inject, *sc_oracles;
	double sc_seconds;
	unsigned sc_cpus;
	uint64_t sc_seed;
	bool sc_unsafe, sc_keep_going, sc_quiet, sc_cpus_given, sc_seconds_given;
	const char *sc_engine;     /* --engine */
	unsigned long sc_schedules; /* --schedules: seeds tried per strategy */
	bool sc_virtual;           /* machine.engine = virtual */
	const char *sc_sets[64];
	unsigned sc_nsets;
	struct machine_config sc_cfg;
	char sc_cfg_strategy[MACHINE_STRATEGY_NAMELEN];
	const char *sc_names[64]; /* the strategies to run */
	unsigned sc_nnames;
};

/* the options: EXIT_GO_ON or an exit code */
static int stress_options(int argc, char **argv, struct stress_cmd *sc)
{
	static const struct option opts[] = {
		{"strategy", required_argument, NULL, 'S'}, {"seconds", required_argument, NULL, 't'},
		{"cpus", required_argument, NULL, 'c'}, {"seed", required_argument, NULL, 'r'},
		{"inject", required_argument, NULL, 'i'}, {"oracles", required_argument, NULL, 'o'},
		{"unsafe", no_argument, NULL, 'u'}, {"keep-going", no_argument, NULL, 'k'},
		{"set", required_argument, NULL, 's'}, {"quiet", no_argument, NULL, 'q'},
		{"engine", required_argument, NULL, 'e'}, {"schedules", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c;
	char *end;
	sc->sc_seconds = 10;
	sc->sc_cpus = topo_npus();
	sc->sc_cpus = sc->sc_cpus < 2 ? 2 : sc->sc_cpus > 4 ? 4 : sc->sc_cpus;
	sc->sc_seed = 1;
	sc->sc_schedules = 1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'S': sc->sc_strategy = optarg; break;
		case 't':
			sc->sc_seconds = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(sc->sc_seconds > 0) || sc->sc_seconds > 86400) {
				msg_error("--seconds: '%s' is not a positive number of seconds (at most 86400)", optarg);
				return EXIT_USAGE;
			}
			sc->sc_seconds_given = true;
			break;
		case 'e':
			if (cmd_check_engine("stress", optarg, false) != EXIT_OK)
				return EXIT_USAGE;
			sc->sc_engine = optarg;
			break;
		case 'n':
			if (cmd_parse_count("stress", "--schedules", optarg, 1, 1000000, &sc->sc_schedules) != EXIT_OK)
				return EXIT_USAGE;
			break;
		case 'c': {
			unsigned long x;
			if (cmd_parse_count("stress", "--cpus", optarg, 1, MAXCPUS, &x) != EXIT_OK)
				return EXIT_USAGE;
			sc->sc_cpus = (unsigned)x;
			sc->sc_cpus_given = true;
			break;
		}
		case 'r': {
			/* a seed is any uint64_t: no sign, no overflow (strtoul wraps "-5") */
			_Static_assert(sizeof(unsigned long) == sizeof(uint64_t), "a seed fits an unsigned long");
			unsigned long x;
			if (cmd_parse_count("stress", "--seed", optarg, 0, ULONG_MAX, &x) != EXIT_OK)
				return EXIT_USAGE;
			sc->sc_seed = x;
			break;
		}
		case 'i': sc->sc_inject = optarg; break;
		case 'o': sc->sc_oracles = optarg; break;
		case 'u': sc->sc_unsafe = true; break;
		case 'k': sc->sc_keep_going = true; break;
		case 'q': sc->sc_quiet = true; break;
		case 's':
			if (sc->sc_nsets == sizeof(sc->sc_sets) / sizeof(sc->sc_sets[0])) {
				msg_error("--set: at most %zu", sizeof(sc->sc_sets) / sizeof(sc->sc_sets[0]));
				return EXIT_USAGE;
			}
			sc->sc_sets[sc->sc_nsets++] = optarg;
			break;
		case 'h': fputs(stress_usage, stdout); return EXIT_OK;
		default:
			msg_error("stress: unknown or incomplete option '%s' (see pmapstorm stress --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		msg_error("stress: unexpected argument '%s' (see pmapstorm stress --help)", argv[optind]);
		return EXIT_USAGE;
	}
	return EXIT_GO_ON;
}

/* The config: stress's own defaults first, so that a --set overrides them
 * and --cpus both; then the host's memory, the oracles and the injections:
 * EXIT_GO_ON or an exit code */
static int stress_config(struct stress_cmd *sc)
{
	struct machine_config *cfg = &sc->sc_cfg;
	machine_config_init(cfg);
	machine_config_set(cfg, "watchdog.seconds", "10");
	cfg->mc_ncpu = sc->sc_cpus;
	if (sc->sc_unsafe)
		machine_config_set(cfg, "shootdown.allow_unsafe", "yes");
	for (unsigned i = 0; i < sc->sc_nsets; i++)
		if (exp_apply_set(cfg, sc->sc_sets[i]) != 0)
			return EXIT_USAGE;
	if (sc->sc_engine != NULL) {
		char kv[96];
		snprintf(kv, sizeof(kv), "machine.engine=%s", sc->sc_engine);
		if (exp_apply_set(cfg, kv) != 0)
			return EXIT_USAGE;
	}
	/* ipi.preset = calibrated, engine.costs = calibrated: their file, as
	 * microbench reads it (missing or malformed: exit 2; a host that
	 * measured no shootdown: exit 3) */
	char why[512];
	int crc = calibration_apply_wanted(cfg, why, sizeof(why));
	if (crc != 0) {
		msg_error("stress: %s", why);
		return exitcode_of(crc);
	}
	sc->sc_virtual = cfg->mc_engine == MACHINE_ENGINE_VIRTUAL;
	if (sc->sc_schedules > 1 && !sc->sc_virtual) {
		msg_error("--schedules: needs --engine virtual (with threads the host picks the interleavings)");
		return EXIT_USAGE;
	}
	if (sc->sc_virtual && !sc->sc_seconds_given)
		sc->sc_seconds = 0.05; /* virtual seconds: a few µs of host time each virtual µs */
	sc->sc_unsafe = cfg->mc_sd_unsafe;
	if (sc->sc_cpus_given)
		cfg->mc_ncpu = sc->sc_cpus;
	sc->sc_cpus = cfg->mc_ncpu;
	int mrc = hostmem_check(cfg, "stress");
	if (mrc != 0)
		return exitcode_of(mrc);
	machine_config_set(cfg, "check.enabled", "on");
	machine_config_setu(cfg, "inject.seed", sc->sc_seed);
	if (sc->sc_oracles != NULL) {
		unsigned mask;
		if (check_oracles_parse(sc->sc_oracles, &mask, why, sizeof(why)) != 0) {
			msg_error("--oracles: %s", why);
			return EXIT_USAGE;
		}
		machine_config_set(cfg, "check.oracles", sc->sc_oracles);
	}
	if (sc->sc_inject != NULL && apply_inject(cfg, sc->sc_inject) != EXIT_OK)
		return EXIT_USAGE;
	return EXIT_GO_ON;
}

/* --strategy: all (every correct one), one, or a mutant with --unsafe;
 * default shootdown.strategy: EXIT_GO_ON or an exit code */
static int stress_strategies(struct stress_cmd *sc)
{
	snprintf(sc->sc_cfg_strategy, sizeof(sc->sc_cfg_strategy), "%s", sc->sc_cfg.mc_strategy);
	const char *strategy = sc->sc_strategy != NULL ? sc->sc_strategy : sc->sc_cfg_strategy;
	if (!strcmp(strategy, "all")) {
		for (unsigned i = 0; shootdown_strategies[i] != NULL && sc->sc_nnames < 64; i++)
			if (!shootdown_strategies[i]->sd_unsafe)
				sc->sc_names[sc->sc_nnames++] = shootdown_strategies[i]->sd_name;
		return EXIT_GO_ON;
	}
	const struct shootdown_strategy *sd = shootdown_find(strategy);
	if (sd == NULL || (sd->sd_unsafe && !sc->sc_unsafe)) {
		char list[512];
		size_t n = 0;
		list[0] = '\0';
		for (unsigned i = 0; shootdown_strategies[i] != NULL && n < sizeof(list); i++)
			if (sd != NULL ? shootdown_strategies[i]->sd_unsafe : !shootdown_strategies[i]->sd_unsafe)
				n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "",
				    shootdown_strategies[i]->sd_name);
		if (sd == NULL)
			msg_error("--strategy: unknown strategy '%s'; valid: all, %s", strategy, list);
		else
			msg_error("--strategy: '%s' is a deliberately broken mutant: add --unsafe to run it "
			    "(mutants: %s)", strategy, list);
		return EXIT_USAGE;
	}
	sc->sc_names[sc->sc_nnames++] = strategy;
	return EXIT_GO_ON;
}

/* Every strategy in turn, until a signal: a report for each that failed,
 * a table for each, and the summary ending in SUCCESS or FAILURE.  The exit
 * code: 1 when a strategy failed, else 130 when interrupted, else 0. */
static int stress_all(struct stress_cmd *sc)
{
	struct machine_config *cfg = &sc->sc_cfg;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	check_set_watchdog_hook(on_watchdog);
	int rc = EXIT_OK;
	unsigned failed = 0, ran = 0;
	uint64_t first_failing = 0;
	bool any_failing = false;
	for (unsigned k = 0; k < sc->sc_nnames && !atomic_load(&stress_stop); k++) {
		const char *name = sc->sc_names[k];
		snprintf(cfg->mc_strategy, sizeof(cfg->mc_strategy), "%s", name);
		struct stress_result res;
		uint64_t s = sc->sc_seed;
		/* --schedules N: seeds seed .. seed+N-1, to the first that fails;
		 * each seed fixes the workload, the injection and the scheduler */
		for (unsigned long t = 0; t < sc->sc_schedules && !atomic_load(&stress_stop); t++) {
			s = sc->sc_seed + t;
			machine_config_setu(cfg, "inject.seed", s);
			machine_config_setu(cfg, "engine.seed", s);
			make_rerun(name, sc->sc_seconds, sc->sc_cpus, s, sc->sc_virtual ? "virtual" : NULL, sc->sc_inject,
			    sc->sc_oracles, sc->sc_unsafe, sc->sc_sets, sc->sc_nsets);
			report_cfg = cfg;
			struct stress_opts o = {.so_cfg = *cfg, .so_seconds = sc->sc_seconds, .so_seed = s,
			    .so_keep_going = sc->sc_keep_going, .so_quiet = sc->sc_quiet, .so_break = -1,
			    .so_stop = &stress_stop};
			if (!sc->sc_quiet && (sc->sc_schedules == 1 || t == 0)) {
				fflush(stdout); /* the last strategy's table first, whole, when both go to one file */
				fprintf(stderr, "pmapstorm stress: %s for %g %ss on %u CPUs (seed %lu%s)\n", name, sc->sc_seconds,
				    sc->sc_virtual ? "virtual " : "", sc->sc_cpus, (unsigned long)s,
				    sc->sc_schedules > 1 ? ", and the next schedules" : "");
			}
			int r = stress_run(&o, &res);
			report_cfg = NULL;
			if (r != 0)
				return exitcode_of(r);
			if (stress_violations(&res) != 0) {
				if (sc->sc_schedules > 1)
					printf("\npmapstorm stress: %s: schedule %lu of %lu, seed %lu, is the first that fails\n",
					    name, t + 1, sc->sc_schedules, (unsigned long)s);
				if (!any_failing)
					first_failing = s;
				any_failing = true;
				break;
			}
		}
		if (sc->sc_schedules > 1 && stress_violations(&res) == 0)
			printf("\npmapstorm stress: %s: %lu schedules (seeds %lu to %lu), none failed\n", name,
			    sc->sc_schedules, (unsigned long)sc->sc_seed, (unsigned long)(sc->sc_seed + sc->sc_schedules - 1));
		ran++;
		if (stress_violations(&res) != 0) {
			failed++;
			if (res.sr_have_first)
				print_report(stdout, &res, cfg, s);
		}
		uint64_t oracle_mask = CHK_ALL;
		machine_config_u64(cfg, "check.oracles", &oracle_mask);
		print_table(stdout, &res, cfg, (unsigned)oracle_mask);
		if (res.sr_interrupted)
			rc = EXIT_INTERRUPTED;
	}
	if (atomic_load(&stress_stop))
		rc = EXIT_INTERRUPTED;
	printf("\n");
	reproducibility(stdout, any_failing ? first_failing : sc->sc_seed, sc->sc_virtual);
	if (sc->sc_nnames > 1)
		printf("pmapstorm stress: %u of %u strategies ran, %u failed\n", ran, sc->sc_nnames, failed);
	printf("End of test: %s%s\n", failed ? "FAILURE" : "SUCCESS", rc == EXIT_INTERRUPTED ? " (interrupted)" : "");
	fflush(stdout);
	check_set_watchdog_hook(NULL);
	return failed ? EXIT_VIOLATION : rc;
}

int cmd_stress(int argc, char **argv)
{
	struct stress_cmd *sc = mem_zalloc(struct stress_cmd, 1);
	if (sc == NULL) {
		msg_error("stress: out of host memory");
		return EXIT_ENV;
	}
	int rc = stress_options(argc, argv, sc);
	if (rc == EXIT_GO_ON && (rc = stress_config(sc)) == EXIT_GO_ON && (rc = stress_strategies(sc)) == EXIT_GO_ON)
		rc = stress_all(sc);
	free(sc);
	return rc;
}
