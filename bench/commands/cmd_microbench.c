/*
 * cmd_microbench.c — `pmapstorm microbench`: options, the measurement
 * (trials/microbench.c says what each figure is), every figure printed
 * beside its target with "not met" where it falls short, and --json /
 * --out.  Benchmark figures: nothing here passes or fails on timing.
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/atomicfile.h"
#include "common/msg.h"
#include "common/path.h"
#include "common/provenance.h"
#include "experiment/calibration.h"
#include "experiment/experiment.h"
#include "record/lockstat.h"
#include "trials/hostmem.h"
#include "trials/microbench.h"
#include "trials/tlbflush2.h"

#include <pmapstorm/config.h>

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pmapstorm/alloc.h>

static const char *const mb_usage =
    "usage: pmapstorm microbench [--config FILE] [--out DIR] [--json FILE] [--rounds N] [--set key=value]...\n"
    "                            [--engine threads|virtual] [--quiet]\n"
    "\n"
    "Measures on CPUs 0 and 1 of a simulated machine: TLB-hit and TLB-miss access\n"
    "time, the single-target shootdown round trip (pmap_remove + pmap_update\n"
    "against a CPU that keeps the page cached), the cache-line ping-pong round\n"
    "trip between the same two threads, and their ratio; the lock layer against\n"
    "each lock library's own calls, with an empty critical section and with one\n"
    "that stores a word; pool-page pairs; the driver's own cost; and,\n"
    "through the driver, how munmap (len 1) on private pmaps and on one shared\n"
    "pmap, and touch on private pmaps, scale from 1 to 2 CPUs (and to every host\n"
    "PU when there are more), with the shared munmap's p50 shootdown latency (both\n"
    "CPUs shoot at each other) over the same measure with one target (the munmap\n"
    "on CPU 0 alone while CPU 1 runs touch in its pmap, a trial in every round;\n"
    "shootdown.latency: a request to its last acknowledgement), and the host\n"
    "kernel under the same loop (will-it-scale tlb_flush2: touch a page, madvise it\n"
    "away) with 1 thread and 2 threads of one process on the same host PUs, for\n"
    "the shared munmap's scaling and speed beside it, and in 1 and 2 processes\n"
    "(no shootdown) for the private munmap's scaling; and 1 and 2 threads of\n"
    "random loads from their own pages, no system call, for the private touch's.\n"
    "The host's speed drifts, so the short figures (TLB, locks) are the best of\n"
    CFG_STR(MB_ROUNDS) " rounds that each time all of them, and the driver's figures the best\n"
    "of " CFG_STR(MB_TRIALS) " trials taken in turn (latencies: the median trial).  Each round\n"
    "also times the host core (\"host core\": cycles of a loop of 8 independent\n"
    "operations; about 2.5 when the thread has the core's issue slots, 4 or more\n"
    "when another hardware thread takes some, and the figures run slower), and\n"
    "the scaling rounds time both host PUs' cores before every model trial (\"host\n"
    "cores before the trials\": how many probes found each shared).  Prints each\n"
    "figure beside its target, \"not met\" where it falls short, and \"not\n"
    "measured\" with why where a figure was not (the shootdown latencies with\n"
    "stats.enabled = off, the host's figures under virtual time); --json FILE also\n"
    "writes the figures (null where not measured), the targets and the run's\n"
    "provenance.\n"
    "  --out DIR    write DIR/microbench.json (unless --json names another file)\n"
    "               and DIR/lockstat.csv\n"
    "  --config F   an INI file: its machine keys (experiment and role sections\n"
    "               are ignored; a list is an error); options after it override it\n"
    "  --rounds N   shootdown and ping-pong samples (default 20000)\n"
    "  --set k=v    any config key (pmapstorm list keys); machine.cpus >= 2\n"
    "  --engine E   machine.engine (threads or virtual): with virtual every figure is\n"
    "               in virtual ns from the cost model (cost.*, engine.costs), and the\n"
    "               bare library lock calls and the host kernel, which run outside\n"
    "               the model, are not measured\n"
    "  --quiet      print nothing (with --json: only write the file)\n";

/* A figure of 0 (or less) was not measured — a histogram without samples,
 * a ratio over a missing figure, a bare lock call under virtual time —
 * and meets no target: a zero never wins. */
static bool mb_measured(double v)
{
	return v > 0;
}

static bool mb_met(double v, char op, double target)
{
	return mb_measured(v) && (op == '<' ? v <= target : v >= target);
}

/* a table's figure with two decimals, "-" where it was not measured */
static const char *mb_fig(char buf[16], double v)
{
	if (mb_measured(v))
		snprintf(buf, 16, "%.2f", v);
	else
		snprintf(buf, 16, "-");
	return buf;
}

/* A figure beside its target: "(target <= 2)" or "(target >= 1.9)", and
 * "not met" when it falls short ("not measured" when it is 0). */
static void mb_target(char *buf, size_t len, double v, char op, double target)
{
	snprintf(buf, len, "(target %s %g)%s", op == '<' ? "<=" : ">=", target,
	    !mb_measured(v) ? "  not measured" : mb_met(v, op, target) ? "" : "  not met");
}

static json_t *mb_target_json(double v, char op, double target)
{
	return json_pack("{s:o,s:s,s:f,s:b}", "value", mb_measured(v) ? json_real(v) : json_null(), "target",
	    op == '<' ? "<=" : ">=", "bound", target, "met", mb_met(v, op, target));
}

/* the scaling targets on 2 CPUs, per scale (the bounds) */
static const double scale_min2[MB_NSCALES] = {1.9, 1.0, 1.95};

struct mb_opts {
	struct machine_config cfg;
	const char *json_path, *out_dir;
	char out_json[4096];
	bool quiet;
	unsigned long rounds;
};

/* the options, in order (--config, then each --set over it): EXIT_GO_ON or an exit code */
static int mb_options(int argc, char **argv, struct mb_opts *o)
{
	machine_config_init(&o->cfg);
	machine_config_set(&o->cfg, "machine.cpus", "2");
	o->rounds = 20000;
	static const struct option opts[] = {
		{"json", required_argument, NULL, 'j'}, {"set", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'}, {"out", required_argument, NULL, 'o'},
		{"rounds", required_argument, NULL, 'r'}, {"quiet", no_argument, NULL, 'q'},
		{"engine", required_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c, rc;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "j:s:c:o:r:e:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json_path = optarg; break;
		case 'o': o->out_dir = optarg; break;
		case 'c':
			if ((rc = exp_load_machine(&o->cfg, optarg)) != 0)
				return exitcode_of(rc);
			break;
		case 's':
			if ((rc = exp_apply_set(&o->cfg, optarg)) != 0)
				return exitcode_of(rc);
			break;
		case 'r':
			if ((rc = cmd_parse_count("microbench", "--rounds", optarg, 100, 10000000, &o->rounds)) != EXIT_OK)
				return rc;
			break;
		case 'e': {
			if ((rc = cmd_check_engine("microbench", optarg, false)) != EXIT_OK)
				return rc;
			char kv[96];
			snprintf(kv, sizeof(kv), "machine.engine=%s", optarg);
			if ((rc = exp_apply_set(&o->cfg, kv)) != 0)
				return exitcode_of(rc);
			break;
		}
		case 'q': o->quiet = true; break;
		case 'h': fputs(mb_usage, stdout); return EXIT_OK;
		default:
			msg_error("microbench: unknown or incomplete option '%s'\n%s", argv[optind - 1], mb_usage);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		msg_error("microbench: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	return EXIT_GO_ON;
}

/* what must hold before any machine boots: two CPUs, the memory, the
 * output folder, the calibration file: EXIT_GO_ON or an exit code */
static int mb_prepare(struct mb_opts *o)
{
	int rc;
	if (o->cfg.mc_ncpu < 2) {
		msg_error("microbench: --set machine.cpus: needs at least 2 CPUs");
		return EXIT_USAGE;
	}
	if ((rc = hostmem_check(&o->cfg, "microbench")) != 0)
		return exitcode_of(rc);
	if (o->out_dir != NULL) {
		if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST) {
			msg_error("microbench: --out: cannot create %s (%s)", o->out_dir, strerror(errno));
			return EXIT_ENV;
		}
		if (o->json_path == NULL) {
			if (path_join(o->out_json, sizeof(o->out_json), o->out_dir, "microbench.json") != 0) {
				msg_error("microbench: --out: %s: path too long", o->out_dir);
				return EXIT_USAGE;
			}
			o->json_path = o->out_json;
		}
	}
	char why[512];
	int crc = calibration_apply_wanted(&o->cfg, why, sizeof(why));
	if (crc != 0) {
		msg_error("microbench: %s", why);
		return exitcode_of(crc);
	}
	return EXIT_GO_ON;
}

/* ---- the figures as text, beside their targets ---- */

/* The host core during the short figures: whether another hardware thread
 * took its issue slots (microbench.c, core_cycles; docs/performance.md,
 * section 21) */
static void mb_print_core(const struct microbench_result *r)
{
	double best, worst;
	unsigned slow = microbench_core_summary(r->core_cycles, MB_ROUNDS, &best, &worst);
	if (!mb_measured(best)) {
		printf("  %-34s %10s      (%s)\n", "host core: 8 independent ops", "not measured", r->core_why);
		return;
	}
	if (slow == 0)
		printf("  %-34s %10.2f cyc  (slowest round %.2f; under %.1f in every round: its issue slots were this "
		       "thread's)\n", "host core: 8 independent ops", best, worst, MB_CORE_SHARED);
	else
		printf("  %-34s %10.2f cyc  (slowest round %.2f; %u of %u rounds at %.1f or more: another hardware "
		       "thread took issue slots, and the figures of those rounds run slower)\n",
		    "host core: 8 independent ops", best, worst, slow, MB_ROUNDS, MB_CORE_SHARED);
}

static void mb_print_pair(const struct machine_config *cfg, const struct microbench_result *r)
{
	char tg[96];
	printf("pmapstorm microbench  (%s, %u-entry %u-way TLB, pcid %s, strategy %s)\n", pmapstorm_commit(),
	    cfg->mc_tlb_entries, cfg->mc_tlb_ways, cfg->mc_pcid ? "on" : "off", cfg->mc_strategy);
	mb_target(tg, sizeof(tg), r->hit_ns, '<', 5);
	printf("  %-34s %10.2f ns   %s\n", "TLB-hit access", r->hit_ns, tg);
	mb_target(tg, sizeof(tg), r->miss_ns, '<', 60);
	printf("  %-34s %10.2f ns   %s\n", "TLB-miss access (4-level walk)", r->miss_ns, tg);
	mb_print_core(r);
	printf("  %-34s %10lu ns   (p90 %lu, min %lu)\n", "shootdown round trip (1 target)",
	    (unsigned long)r->sd_med, (unsigned long)r->sd_p90, (unsigned long)r->sd_min);
	printf("  %-34s %10lu ns   (min %lu)\n", "cache-line ping-pong round trip", (unsigned long)r->pp_med,
	    (unsigned long)r->pp_min);
	mb_target(tg, sizeof(tg), r->ratio, '<', 2);
	printf("  %-34s %10.2f x    %s\n", "shootdown / ping-pong", r->ratio, tg);
	mb_target(tg, sizeof(tg), r->meta * 100, '<', 2);
	printf("  %-34s %10.3f %%    %s\n", "page-table + TLB metadata", r->meta * 100, tg);
}

static void mb_print_poolpages(const struct microbench_result *r)
{
	char tg[96];
	printf("\n  pool page alloc+free pair (uvm_km_alloc_poolpage_cache + uvm_km_free_poolpage_cache)\n");
	mb_target(tg, sizeof(tg), r->pp_direct.solo_ns, '<', 100);
	printf("  %-34s %10.1f ns   %s\n", "direct, one CPU", r->pp_direct.solo_ns, tg);
	mb_target(tg, sizeof(tg), r->pp_vacache.solo_ns, '<', 400);
	printf("  %-34s %10.1f ns   %s\n", "vacache, one CPU", r->pp_vacache.solo_ns, tg);
	printf("  %-34s %10lu ns   (p90 %lu; page written, CPU 1 attached)\n", "vacache + shootdown, two CPUs",
	    (unsigned long)r->pp_vacache.dual_med, (unsigned long)r->pp_vacache.dual_p90);
	printf("  %-34s %10lu ns   (p90 %lu; no TLB entry, no shootdown)\n", "direct, two CPUs",
	    (unsigned long)r->pp_direct.dual_med, (unsigned long)r->pp_direct.dual_p90);
	printf("  %-34s %10.2f x\n", "vacache / direct, two CPUs", r->pp_ratio);
}

static void mb_print_driver(const struct microbench_result *r)
{
	char tg[96];
	double ratio = r->drv_off > 0 ? r->drv_on / r->drv_off : 0;
	printf("\n  the driver, touch on one CPU, best of %d trials each (target: statistics on <= 1.05 x off)\n",
	    MB_TRIALS);
	printf("  %-34s %10.2f ns/op\n", "statistics on", r->drv_on);
	printf("  %-34s %10.2f ns/op\n", "statistics off", r->drv_off);
	mb_target(tg, sizeof(tg), ratio, '<', 1.05);
	printf("  %-34s %10.2f x    %s\n", "on / off", ratio, tg);
}

/* A latency figure in ns with what it is, or "not measured" and why
 * (why: the reason when it was not; NULL: "nothing recorded") */
static void mb_print_ns(const char *label, double v, const char *what, const char *why)
{
	if (mb_measured(v))
		printf("  %-34s %10.0f ns   (%s)\n", label, v, what);
	else
		printf("  %-34s %10s      (%s; %s)\n", label, "not measured", what, why != NULL ? why : "nothing recorded");
}

/* The two host PUs' core probes before the model's trials: a scaling
 * ratio taken while another hardware thread shared a core is the host's as
 * much as the model's (docs/performance.md, section 21).  Each PU's range
 * and how many of its measured probes reached MB_CORE_SHARED. */
static void mb_print_scale_cores(const struct microbench_result *r)
{
	char txt[2][96];
	for (unsigned p = 0; p < 2; p++) {
		double best, worst;
		unsigned shared = microbench_core_summary(r->scale_core[p], r->scale_nprobes, &best, &worst), n = 0;
		for (unsigned i = 0; i < r->scale_nprobes; i++)
			n += mb_measured(r->scale_core[p][i]);
		if (mb_measured(best))
			snprintf(txt[p], sizeof(txt[p]), "PU %d %.2f-%.2f cyc, %u of %u at %.1f or more", r->scale_pus[p], best,
			    worst, shared, n, MB_CORE_SHARED);
		else
			snprintf(txt[p], sizeof(txt[p]), "PU %d not measured", r->scale_pus[p]);
	}
	if (r->scale_pus[0] < 0) /* no PU probed: scale_core_why says why */
		printf("  %-34s %10s      (%s)\n", "host cores before the trials", "not measured", r->scale_core_why);
	else
		printf("  %-34s %s; %s%s%s%s\n", "host cores before the trials", txt[0], txt[1],
		    r->scale_core_why[0] ? " (" : "", r->scale_core_why, r->scale_core_why[0] ? ")" : "");
}

static void mb_print_scaling(const struct machine_config *cfg, const struct microbench_result *r)
{
	char tg[96];
	printf("\n  scaling: total operations per second, best of %d trials of 0.3 s, taken in turn (strategy %s)\n",
	    MB_TRIALS, cfg->mc_strategy);
	for (unsigned i = 0; i < MB_NSCALES; i++) {
		const struct mb_scale *sc = &r->scales[i];
		for (unsigned k = 0; k < sc->n; k++)
			printf("  %-30s %3u CPU%s %10.0f ops/s\n", sc->label, sc->ncpu[k], sc->ncpu[k] == 1 ? " " : "s",
			    sc->ops[k]);
		for (unsigned k = 1; k < sc->n; k++) {
			/* 2 CPUs: the bound; N: the same share of N (1.0 for the shared pmap) */
			double bound = k == 1 ? scale_min2[i] : (i == 1 ? 1.0 : scale_min2[i] / 2 * sc->ncpu[k]);
			char lab[64];
			snprintf(lab, sizeof(lab), "%s, %u / 1 CPU", sc->name, sc->ncpu[k]);
			mb_target(tg, sizeof(tg), microbench_scale_ratio(sc, k), '>', bound);
			printf("  %-34s %10.2f x    %s\n", lab, microbench_scale_ratio(sc, k), tg);
		}
	}
	mb_print_scale_cores(r);
	/* the host counterparts, measured in the same run: each kind is
	 * measured or not on its own (host_why: the first that was not) */
	char loads[64];
	snprintf(loads, sizeof(loads), "random loads from its own %d pages, no system call", HL_PAGES);
	const struct {
		const double *ops;
		const char *label[3], *note[3], *missing;
	} host[] = {
	    {r->host_ops, {"host kernel, 1 thread", "host kernel, 2 threads", "host kernel, 2 / 1 thread"},
	        {"touch + madvise of one page: tlb_flush2's loop", "2 threads of one process: each madvise shoots",
	            "munmap_shared's host counterpart"},
	        "host kernel, threads"},
	    {r->host_proc_ops, {"host kernel, 1 process", "host kernel, 2 processes", "host kernel, 2 / 1 process"},
	        {"the same loop, one process", "2 processes: an address space each, no shootdown",
	            "munmap_private's host counterpart"},
	        "host kernel, processes"},
	    {r->host_loop_ops, {"host PUs, 1 thread", "host PUs, 2 threads", "host PUs, 2 / 1 thread"},
	        {loads, NULL, "touch_private's host counterpart"}, "host PUs, memory loop"},
	};
	for (size_t h = 0; h < sizeof(host) / sizeof(host[0]); h++) {
		if (!(host[h].ops[1] > 0)) {
			printf("  %-34s %10s      (%s)\n", host[h].missing, "not measured", r->host_why);
			continue;
		}
		for (unsigned k = 0; k < 2; k++) {
			if (host[h].note[k] != NULL)
				printf("  %-34s %10.0f ops/s  (%s)\n", host[h].label[k], host[h].ops[k], host[h].note[k]);
			else
				printf("  %-34s %10.0f ops/s\n", host[h].label[k], host[h].ops[k]);
		}
		printf("  %-34s %10.2f x    (%s)\n", host[h].label[2], microbench_host_ratio(host[h].ops), host[h].note[2]);
	}
	char fig[16];
	mb_target(tg, sizeof(tg), r->over_host, '>', 30);
	printf("  %-34s %10s x    %s\n", "munmap_shared 2 CPUs / host 2 thr.", mb_fig(fig, r->over_host), tg);
	/* shootdown.latency and update_cost are statistics: with stats.enabled
	 * = off nothing records them, and the figures are not measured (not 0) */
	const char *off = cfg->mc_stats ? NULL : "statistics off: stats.enabled = off";
	mb_print_ns("mutual shootdowns, 2 CPUs", r->mutual,
	    "shootdown latency p50, both CPUs shooting: the shared munmap", off);
	mb_print_ns("single-target shootdowns", r->single,
	    "the same munmap on CPU 0 alone, CPU 1 running touch in its pmap", off);
	mb_target(tg, sizeof(tg), r->mutual_ratio, '<', 1.5);
	printf("  %-34s %10s x    %s\n", "mutual / single-target", mb_fig(fig, r->mutual_ratio), tg);
	/* a round where either side timed no remote request counts for
	 * neither median (microbench_pair_measured): say so when one did */
	if (r->mutual_trials > 0 && r->mutual_trials < MB_TRIALS)
		printf("  %-34s (medians of the %u of %d rounds in which both measured a shootdown)\n", "",
		    r->mutual_trials, MB_TRIALS);
	mb_print_ns("mutual, whole completions", r->mutual_update,
	    "update cost p50: with pmap_enter/remove and their pmap-lock waits", off);
	mb_print_ns("single target, round-trip loop", (double)r->sd_lat_p50,
	    "shootdown latency p50 of the round-trip loop: a target that only polls", off);
}

static void mb_print_locks(const struct machine_config *cfg, const struct microbench_result *r)
{
	printf("\n  uncontended lock acquire+release, ns, best of %d rounds (targets: layer/bare <= 1.05 lockstat "
	       "off, <= 1.3 on)\n", MB_ROUNDS);
	printf("  %-18s %8s %10s %7s %10s %7s\n", "algorithm", "bare", "lockstat-", "ratio", "lockstat+", "ratio");
	char b[4][16];
	for (unsigned i = 0; i < r->nlocks; i++) {
		const struct mb_lockcost *lc = &r->locks[i];
		double off = lc->bare_ns > 0 ? lc->off_ns / lc->bare_ns : 0, on = lc->bare_ns > 0 ? lc->on_ns / lc->bare_ns : 0;
		printf("  %-18s %8s %10.2f %7s %10.2f %7s%s%s\n", lc->name, mb_fig(b[0], lc->bare_ns), lc->off_ns,
		    mb_fig(b[1], off), lc->on_ns, mb_fig(b[2], on),
		    !mb_measured(off) ? "  not measured" : mb_met(off, '<', 1.05) ? "" : "  off: not met",
		    !mb_measured(on) ? "" : mb_met(on, '<', 1.3) ? "" : "  on: not met");
	}
	printf("\n  the same pairs around a critical section of one store to the guarded data, lockstat off (no "
	       "target:\n  an algorithm whose release is a locked instruction waits there for the layer's owner "
	       "store\n  when the section is empty, and for the section's own store when it writes)\n");
	printf("  %-18s %8s %10s %7s\n", "algorithm", "bare", "lockstat-", "ratio");
	for (unsigned i = 0; i < r->nlocks; i++) {
		const struct mb_lockcost *lc = &r->locks[i];
		const double ratio = lc->cs_bare_ns > 0 ? lc->cs_off_ns / lc->cs_bare_ns : 0;
		printf("  %-18s %8s %10.2f %7s%s\n", lc->name, mb_fig(b[0], lc->cs_bare_ns), lc->cs_off_ns,
		    mb_fig(b[1], ratio), mb_measured(ratio) ? "" : "  not measured");
	}
	if (!lockstat_recorded(cfg)) {
		printf("\nlockstat of this run: not recorded (locks.lockstat = off or stats.enabled = off)\n");
		return;
	}
	printf("\nlockstat of this run (all CPUs):\n");
	lockstat_print_text(stdout, r->rows, LC_NCLASS);
}

/* ---- the figures as JSON (--json, --out) ---- */

/* a figure, or null where it was not measured (0: a zero never wins) */
static json_t *mb_json_fig(double v)
{
	return mb_measured(v) ? json_real(v) : json_null();
}

/* A host figure of 1 and 2 tasks into o: the task counts under tasks_key,
 * ops/s under ops_key, 2 over 1 under ratio_key; null where not measured */
static void mb_json_host(json_t *o, const char *tasks_key, const char *ops_key, const char *ratio_key,
    const double ops[2])
{
	const double ratio = microbench_host_ratio(ops);
	json_t *a = json_array();
	for (unsigned k = 0; k < 2; k++)
		json_array_append_new(a, mb_measured(ratio) ? json_real(ops[k]) : json_null());
	json_object_set_new(o, tasks_key, json_pack("[i,i]", 1, 2));
	json_object_set_new(o, ops_key, a);
	json_object_set_new(o, ratio_key, mb_measured(ratio) ? json_real(ratio) : json_null());
}

/* core probes (cycles per iteration, microbench.c: core_cycles): every
 * probe's, the best and worst, and how many reached MB_CORE_SHARED; null
 * where not measured, with why */
static json_t *mb_json_probes(const double *cycles, unsigned n, const char *why)
{
	double best, worst;
	unsigned shared = microbench_core_summary(cycles, n, &best, &worst);
	json_t *all = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(all, mb_json_fig(cycles[i]));
	json_t *o = json_pack("{s:o,s:o,s:o,s:o,s:f}", "cycles_per_iteration", all, "best", mb_json_fig(best), "worst",
	    mb_json_fig(worst), "shared", mb_measured(best) ? json_integer(shared) : json_null(), "shared_at",
	    MB_CORE_SHARED);
	if (!mb_measured(best))
		json_object_set_new(o, "not_measured", json_string(why));
	return o;
}

static json_t *mb_json_scaling(const struct machine_config *cfg, const struct microbench_result *r)
{
	json_t *sj = json_object();
	for (unsigned i = 0; i < MB_NSCALES; i++) {
		const struct mb_scale *sc = &r->scales[i];
		json_t *o = json_object(), *cpus = json_array(), *ops = json_array();
		for (unsigned k = 0; k < sc->n; k++) {
			json_array_append_new(cpus, json_integer(sc->ncpu[k]));
			json_array_append_new(ops, json_real(sc->ops[k]));
		}
		json_object_set_new(o, "cpus", cpus);
		json_object_set_new(o, "ops_per_s", ops);
		json_object_set_new(o, "over_1_cpu", json_real(microbench_scale_ratio(sc, 1)));
		json_t *trials = json_array();
		for (unsigned k = 0; k < sc->n; k++) {
			json_t *tk = json_array();
			for (unsigned t = 0; t < MB_TRIALS; t++)
				json_array_append_new(tk, json_real(sc->trial_ops[k][t]));
			json_array_append_new(trials, tk);
		}
		json_object_set_new(o, "trial_ops_per_s", trials); /* per point, round by round */
		if (sc->n > 2)
			json_object_set_new(o, "n_over_1_cpu", json_real(microbench_scale_ratio(sc, 2)));
		json_object_set_new(sj, sc->name, o);
	}
	json_t *host = json_object();
	mb_json_host(host, "threads", "ops_per_s", "over_1_thread", r->host_ops);
	mb_json_host(host, "processes", "processes_ops_per_s", "over_1_process", r->host_proc_ops);
	if (r->host_ops[1] <= 0 || r->host_proc_ops[1] <= 0)
		json_object_set_new(host, "not_measured", json_string(r->host_why));
	json_object_set_new(sj, "host_tlb_flush2", host);
	/* the memory loop (no system call): the private touch's counterpart */
	json_t *loop = json_object();
	mb_json_host(loop, "threads", "ops_per_s", "over_1_thread", r->host_loop_ops);
	if (r->host_loop_ops[1] <= 0)
		json_object_set_new(loop, "not_measured", json_string(r->host_why));
	json_object_set_new(sj, "host_memory_loop", loop);
	/* the core probes of the two PUs before every model trial */
	json_t *cores = json_array();
	for (unsigned p = 0; p < 2; p++) {
		json_t *c = mb_json_probes(r->scale_core[p], r->scale_nprobes, r->scale_core_why);
		json_object_set_new(c, "pu", r->scale_pus[p] >= 0 ? json_integer(r->scale_pus[p]) : json_null());
		json_array_append_new(cores, c);
	}
	json_object_set_new(sj, "host_cores", cores);
	json_object_set_new(sj, "mutual_shootdown_p50_ns", mb_json_fig(r->mutual));
	json_object_set_new(sj, "single_shootdown_p50_ns", mb_json_fig(r->single));
	json_object_set_new(sj, "round_trip_loop_shootdown_p50_ns", mb_json_fig((double)r->sd_lat_p50));
	json_object_set_new(sj, "mutual_over_single", mb_json_fig(r->mutual_ratio));
	json_object_set_new(sj, "mutual_trials_measured", json_integer(r->mutual_trials));
	json_object_set_new(sj, "mutual_update_cost_p50_ns", mb_json_fig(r->mutual_update));
	if (!cfg->mc_stats) /* the latencies above are statistics: null */
		json_object_set_new(sj, "latency_not_measured", json_string("statistics off: stats.enabled = off"));
	return sj;
}

/* every figure that has a target, with it */
static json_t *mb_json_targets(const struct microbench_result *r)
{
	json_t *tj = json_object();
	double drv = r->drv_off > 0 ? r->drv_on / r->drv_off : 0;
	json_object_set_new(tj, "tlb_hit_ns", mb_target_json(r->hit_ns, '<', 5));
	json_object_set_new(tj, "tlb_miss_ns", mb_target_json(r->miss_ns, '<', 60));
	json_object_set_new(tj, "shootdown_over_pingpong", mb_target_json(r->ratio, '<', 2));
	json_object_set_new(tj, "metadata_percent", mb_target_json(r->meta * 100, '<', 2));
	json_object_set_new(tj, "poolpage_direct_one_cpu_ns", mb_target_json(r->pp_direct.solo_ns, '<', 100));
	json_object_set_new(tj, "poolpage_vacache_one_cpu_ns", mb_target_json(r->pp_vacache.solo_ns, '<', 400));
	json_object_set_new(tj, "driver_stats_on_over_off", mb_target_json(drv, '<', 1.05));
	json_object_set_new(tj, "munmap_private_2_over_1",
	    mb_target_json(microbench_scale_ratio(&r->scales[0], 1), '>', scale_min2[0]));
	json_object_set_new(tj, "munmap_shared_2_over_1",
	    mb_target_json(microbench_scale_ratio(&r->scales[1], 1), '>', scale_min2[1]));
	json_object_set_new(tj, "touch_private_2_over_1",
	    mb_target_json(microbench_scale_ratio(&r->scales[2], 1), '>', scale_min2[2]));
	json_object_set_new(tj, "munmap_shared_2_cpus_over_host_2_threads",
	    mb_target_json(r->over_host, '>', 30));
	json_object_set_new(tj, "mutual_over_single", mb_target_json(r->mutual_ratio, '<', 1.5));
	for (unsigned i = 0; i < r->nlocks; i++) {
		const struct mb_lockcost *lc = &r->locks[i];
		char key[64];
		snprintf(key, sizeof(key), "lock_%s_off_over_bare", lc->name);
		json_object_set_new(tj, key, mb_target_json(lc->bare_ns > 0 ? lc->off_ns / lc->bare_ns : 0, '<', 1.05));
		snprintf(key, sizeof(key), "lock_%s_on_over_bare", lc->name);
		json_object_set_new(tj, key, mb_target_json(lc->bare_ns > 0 ? lc->on_ns / lc->bare_ns : 0, '<', 1.3));
	}
	return tj;
}

static json_t *mb_json(const struct machine_config *cfg, const struct microbench_result *r)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "provenance", provenance_json(cfg));
	json_t *m = json_object();
	json_object_set_new(m, "tlb_hit_ns", json_real(r->hit_ns));
	json_object_set_new(m, "tlb_miss_ns", json_real(r->miss_ns));
	json_object_set_new(m, "host_core", mb_json_probes(r->core_cycles, MB_ROUNDS, r->core_why));
	json_object_set_new(m, "shootdown_rtt_ns", json_pack("{s:I,s:I,s:I,s:I}", "median", (json_int_t)r->sd_med,
	    "p90", (json_int_t)r->sd_p90, "min", (json_int_t)r->sd_min, "samples", (json_int_t)r->sd_n));
	json_object_set_new(m, "pingpong_rtt_ns", json_pack("{s:I,s:I,s:I}", "median", (json_int_t)r->pp_med,
	    "min", (json_int_t)r->pp_min, "samples", (json_int_t)r->pp_n));
	json_object_set_new(m, "shootdown_over_pingpong", json_real(r->ratio));
	json_object_set_new(m, "metadata_fraction", json_real(r->meta));
	json_t *lk = json_array();
	for (unsigned i = 0; i < r->nlocks; i++) {
		const struct mb_lockcost *lc = &r->locks[i];
		/* a figure not measured (a bare call under virtual time) is null */
		json_array_append_new(lk, json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "algorithm", lc->name, "bare_ns",
		    mb_json_fig(lc->bare_ns), "lockstat_off_ns", mb_json_fig(lc->off_ns), "lockstat_on_ns",
		    mb_json_fig(lc->on_ns), "one_store_bare_ns", mb_json_fig(lc->cs_bare_ns), "one_store_lockstat_off_ns",
		    mb_json_fig(lc->cs_off_ns)));
	}
	json_object_set_new(m, "lock_pair_ns", lk);
	json_object_set_new(m, "driver_touch_ns", json_pack("{s:f,s:f,s:f}", "stats_on", r->drv_on, "stats_off",
	    r->drv_off, "ratio", r->drv_off > 0 ? r->drv_on / r->drv_off : 0));
	json_object_set_new(m, "poolpage_pair_ns",
	    json_pack("{s:f,s:f,s:{s:I,s:I},s:{s:I,s:I},s:f}", "direct_one_cpu", r->pp_direct.solo_ns,
	        "vacache_one_cpu", r->pp_vacache.solo_ns, "vacache_two_cpus_shootdown", "median",
	        (json_int_t)r->pp_vacache.dual_med, "p90", (json_int_t)r->pp_vacache.dual_p90, "direct_two_cpus",
	        "median", (json_int_t)r->pp_direct.dual_med, "p90", (json_int_t)r->pp_direct.dual_p90,
	        "vacache_over_direct", r->pp_ratio));
	json_object_set_new(m, "scaling", mb_json_scaling(cfg, r));
	json_object_set_new(m, "targets", mb_json_targets(r));
	json_object_set_new(doc, "microbench", m);
	/* lockstat off (locks.lockstat or stats.enabled): no rows, not rows of 0 */
	const unsigned nrows = lockstat_recorded(cfg) ? LC_NCLASS : 0;
	json_t *ls = json_object();
	json_object_set_new(ls, "all", lockstat_json(r->rows, nrows, NULL));
	json_object_set_new(ls, "cpu0", lockstat_json(r->rows + LC_NCLASS, nrows, NULL));
	json_object_set_new(ls, "cpu1", lockstat_json(r->rows + 2 * LC_NCLASS, nrows, NULL));
	json_object_set_new(doc, "lockstat", ls);
	return doc;
}

/* --json FILE and --out DIR's lockstat.csv: 0 or an errno */
static int mb_write(const struct mb_opts *o, const struct microbench_result *r)
{
	int rc = 0;
	if (o->json_path != NULL) {
		json_t *doc = mb_json(&o->cfg, r);
		rc = atomicfile_write_json(o->json_path, doc);
		json_decref(doc);
	}
	if (o->out_dir != NULL && rc == 0) {
		char path[4096];
		if (path_join(path, sizeof(path), o->out_dir, "lockstat.csv") != 0) {
			msg_error("microbench: --out: %s: path too long", o->out_dir);
			return ENAMETOOLONG;
		}
		rc = lockstat_write_csv(path, r->rows, lockstat_recorded(&o->cfg) ? 3 * LC_NCLASS : 0);
	}
	return rc;
}

int cmd_microbench(int argc, char **argv)
{
	struct mb_opts *o = mem_zalloc(struct mb_opts, 1);
	struct microbench_result *r = mem_zalloc(struct microbench_result, 1);
	int rc = EXIT_ENV;
	if (o == NULL || r == NULL)
		msg_error("microbench: out of host memory");
	else if ((rc = mb_options(argc, argv, o)) == EXIT_GO_ON && (rc = mb_prepare(o)) == EXIT_GO_ON) {
		int err = microbench_run(&o->cfg, (unsigned)o->rounds, r);
		if (err == 0 && !o->quiet) {
			mb_print_pair(&o->cfg, r);
			mb_print_poolpages(r);
			mb_print_driver(r);
			mb_print_scaling(&o->cfg, r);
			mb_print_locks(&o->cfg, r);
		}
		if (err == 0)
			err = mb_write(o, r);
		rc = exitcode_of(err);
	}
	free(o);
	free(r);
	return rc;
}
