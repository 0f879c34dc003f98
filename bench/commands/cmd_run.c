/*
 * cmd_run.c — `pmapstorm run CONFIG`: an experiment from its file to its
 * published results, in steps: options, load, check the host, trials,
 * write (results, plots, report, publish), verdict.
 *
 * Loads and validates the whole experiment first (every value of every
 * sweep list), then runs every trial of every sweep point in one random
 * order drawn from the seed, so slow drift of the host (thermal, other
 * load) spreads over all points instead of favouring the first.  Results
 * go to a temporary folder, renamed to results/<date>-<time>-<name>/ when
 * complete, and results/latest points at it.  SIGINT/SIGTERM stop the run
 * at the next trial boundary (the trial in flight stops at its next batch
 * of operations); the finished trials are written, marked interrupted, and
 * the exit code is 130.
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/atomicfile.h"
#include "common/msg.h"
#include "common/path.h"
#include "experiment/calibration.h"
#include "experiment/experiment.h"
#include "record/results.h"
#include "report/plot.h"
#include "report/report.h"
#include "trials/calibrate.h"
#include "trials/driver.h"
#include "trials/hostmem.h"
#include "trials/shard.h"

#include <pmapstorm/alloc.h>
#include <pmapstorm/topo.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static _Atomic int run_stop;
static _Atomic long run_stop_from;    /* the first signal's sender: a pid, or -1 (the kernel: a terminal's ^C) */
static _Atomic uint64_t run_stop_ns; /* when it came (CLOCK_MONOTONIC + 1; 0 until then) */

/* A second signal exits at once, by the exit_group system call itself:
 * _exit() is intercepted by the sanitizers, and ThreadSanitizer's exit hook,
 * run inside this handler, reported the CPU threads that had ended but were
 * not joined yet as leaked (exit 66, now and then: tests/signals.sh).  The
 * same process sending again within a second is no second signal: GNU
 * timeout (without --foreground) sends its signal to the run and then to
 * its whole process group, and the run lost every result to that.  Both
 * signals are blocked while the handler runs (cmd_run), so it never nests
 * on one thread; on two, the second waits for the first's notes. */
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec + 1;
	long from = si != NULL && si->si_code <= 0 ? (long)si->si_pid : -1; /* SI_USER, SI_QUEUE: kill(2) */
	if (atomic_exchange(&run_stop, 1) == 0) {
		atomic_store(&run_stop_from, from);
		atomic_store(&run_stop_ns, now);
		return;
	}
	uint64_t t0;
	while ((t0 = atomic_load(&run_stop_ns)) == 0)
		;
	if (from >= 0 && from == atomic_load(&run_stop_from) && now < t0 + 1000000000ULL)
		return;
	syscall(SYS_exit_group, EXIT_INTERRUPTED);
}

static const char *const run_usage =
    "usage: pmapstorm run CONFIG [--set section.key=value]... [--engine threads|virtual] [--results DIR]\n"
    "                     [--quiet] [--no-plots] [--yes] [--save-baseline NAME | --replace-baseline NAME]\n"
    "                     [--shard K/N | --shard env:VAR[+1]/N]\n"
    "\n"
    "Runs the experiment in CONFIG (INI): every sweep point (the cartesian product\n"
    "of all comma-separated lists) for experiment.trials trials, in a seeded random\n"
    "order, and writes results/<date>-<time>-<name>/ with run.json, CSV files,\n"
    "plots (gnuplot) and report.md / index.html; results/latest points at it.\n"
    "  --set k=v     override a key of the file (may be a list: a sweep)\n"
    "  --engine E    machine.engine: threads (default: each CPU a host thread, real\n"
    "                time) or virtual (one CPU at a time in virtual time: runs are\n"
    "                bit-for-bit repeatable, any CPU count fits the host, and every\n"
    "                time reported is in virtual ns; docs/engine.md); a list sweeps\n"
    "  --results DIR where results folders go (default results)\n"
    "  --quiet       no progress output\n"
    "  --no-plots    skip gnuplot\n"
    "  --save-baseline NAME     also write DIR/baselines/NAME.json (the run.json\n"
    "                without per-trial counters and lockstat rows), for\n"
    "                pmapstorm gate; refuses to overwrite an existing one\n"
    "  --replace-baseline NAME  the same, replacing an existing baseline\n"
    "  --yes         run a sweep estimated to take more than an hour\n"
    "  --shard K/N   run only shard K of N (K from 1) of the run's trials, into\n"
    "                DIR/<date>-<time>-<name>-shardKofN/; pmapstorm merge puts the\n"
    "                N folders together.  The slices are the same on every host\n"
    "                (the run's seeded order, each point's trials spread evenly,\n"
    "                balanced by estimated time) and every trial keeps its seed\n"
    "  --shard env:VAR/N    K from the environment variable VAR (a scheduler's task\n"
    "                index: SLURM_ARRAY_TASK_ID, a CI matrix variable); env:VAR+1/N\n"
    "                when VAR counts from 0 (JOB_COMPLETION_INDEX)\n"
    "Nothing is written until the whole file is valid.  SIGINT or SIGTERM stops\n"
    "the run at the CPUs' next interrupt point and writes the finished trials,\n"
    "marked \"interrupted\": true; after the last trial (while plotting) it keeps\n"
    "every trial and the plots drawn so far, and exits 130.  A second signal exits\n"
    "at once (the same sender within a second, as GNU timeout sends to the run and\n"
    "then its process group, counts once): published results stay whole, and the\n"
    "unfinished DIR/.tmp-NAME-PID is removed by the next run in DIR.\n"
    "With check = on in [experiment] (or --set check.enabled=on) the coherence\n"
    "oracles run during every trial (see pmapstorm stress --help); their checks and\n"
    "violations go into run.json.  watchdog.seconds (default 60): a CPU without\n"
    "progress that long dumps every CPU's state and exits 1.\n"
    "Exit: 0 ok, 1 a workload, checker or oracle found a violation, 2 bad config,\n"
    "3 environment or resource error (memory, gnuplot missing: the data is kept),\n"
    "130 interrupted (partial results kept; a signal after the last trial keeps\n"
    "every trial, and violations found then still exit 1).\n";

static void shuffle(struct order_item *v, unsigned n, uint64_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (unsigned i = n; i > 1; i--) {
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		unsigned j = (unsigned)((s * 0x2545F4914F6CDD1DULL) % i);
		struct order_item t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

static void progress(bool tty, unsigned done, unsigned total, double elapsed, double estimate)
{
	double left = estimate - elapsed;
	if (done > 0)
		left = elapsed / done * (total - done);
	if (left < 0)
		left = 0;
	if (tty) {
		int width = 30, fill = total ? (int)((double)done / total * width) : width;
		fprintf(stderr, "\r[%.*s%*s] %u/%u trials  %3.0f%%  ETA %2d:%02d ", fill,
		    "##############################", width - fill, "", done, total, total ? 100.0 * done / total : 100,
		    (int)left / 60, (int)left % 60);
		if (done == total)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "pmapstorm run: %u/%u trials, %.0f s elapsed, about %.0f s left\n", done, total, elapsed, left);
	}
	fflush(stderr);
}

/* results/baselines/NAME.json: checked before the run, so that a bad name or
 * an existing baseline costs nothing */
static int baseline_path(const char *base, const char *name, bool replace, char *path, size_t len)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64 || name[0] == '.' || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                                       "0123456789-_.") != n) {
		msg_error("run: --%s-baseline '%s': a name of letters, digits, - _ . (at most 64, not starting with .)",
		    replace ? "replace" : "save", name);
		return EXIT_USAGE;
	}
	char file[80];
	snprintf(file, sizeof(file), "baselines/%s.json", name); /* the name is at most 64 */
	if (path_join(path, len, base, file) != 0) {
		msg_error("run: --results %s: path too long", base);
		return EXIT_USAGE;
	}
	if (!replace && access(path, F_OK) == 0) {
		msg_error("run: --save-baseline %s: %s exists; remove it or use --replace-baseline %s", name, path, name);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The published run.json, slimmed (per-trial counters and lockstat rows
 * emptied: still valid against docs/run.schema.json), written to path. */
static int save_baseline(const char *dir, const char *base, const char *path, bool replace)
{
	char src[4096], bdir[4096];
	json_error_t je;
	if (path_join(src, sizeof(src), dir, "run.json") != 0 || path_join(bdir, sizeof(bdir), base, "baselines") != 0) {
		msg_error("run: %s: path too long", dir);
		return EXIT_ENV;
	}
	json_t *doc = json_load_file(src, 0, &je);
	if (doc == NULL) {
		msg_error("run: %s: cannot read back (%s)", src, je.text);
		return EXIT_ENV;
	}
	json_t *pt, *tr;
	size_t i, j;
	json_array_foreach(json_object_get(doc, "points"), i, pt) json_array_foreach(json_object_get(pt, "trials"), j, tr)
	{
		json_object_set_new(tr, "counters", json_object());
		json_object_set_new(tr, "lockstat", json_array());
	}
	bool existed = access(path, F_OK) == 0;
	int rc = EXIT_OK;
	if (mkdir(bdir, 0777) != 0 && errno != EEXIST) {
		msg_error("run: cannot create %s (%s)", bdir, strerror(errno));
		rc = EXIT_ENV;
	}
	if (rc == EXIT_OK) /* the check before the run is advice; this one is atomic */
		rc = exitcode_of(replace ? atomicfile_write_json(path, doc) : atomicfile_write_json_new(path, doc));
	json_decref(doc);
	if (rc == EXIT_OK)
		fprintf(stderr, "pmapstorm run: baseline %s %s\n", path, existed && replace ? "replaced" : "written");
	return rc;
}

static int make_results_dir(const char *base, const char *name, char *final, size_t len, char *tmp, size_t tlen)
{
	if (mkdir(base, 0777) != 0 && errno != EEXIST) {
		msg_error("run: cannot create %s (%s)", base, strerror(errno));
		return EXIT_ENV;
	}
	atomicfile_remove_stale(base, ".tmp-");
	atomicfile_remove_stale(base, ".latest-");
	time_t now = time(NULL);
	char stamp[64], fname[256], tname[256]; /* the experiment's name is shorter than EXP_NAMELEN */
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(fname, sizeof(fname), "%s-%s", stamp, name);
	snprintf(tname, sizeof(tname), ".tmp-%s-%d", name, (int)getpid());
	if (path_join(final, len, base, fname) != 0 || path_join(tmp, tlen, base, tname) != 0) {
		msg_error("run: --results %s: path too long", base);
		return EXIT_USAGE;
	}
	if (mkdir(tmp, 0777) != 0) {
		msg_error("run: cannot create %s (%s)", tmp, strerror(errno));
		return EXIT_ENV;
	}
	return EXIT_OK;
}

/* Rename into place, never over an existing folder; then results/latest. */
static int publish(const char *base, char *final, size_t len, const char *tmp)
{
	char want[4096];
	snprintf(want, sizeof(want), "%s", final);
	int k = 2;
	while (atomicfile_rename_dir_new(tmp, final) != 0) {
		if (errno != EEXIST || k == 1000 || (size_t)snprintf(final, len, "%s-%d", want, k++) >= len) {
			msg_error("run: cannot move results from %s into %s (%s)", tmp, final, strerror(errno));
			return EXIT_ENV;
		}
	}
	char link[4096], ltmp[4096], lname[32];
	snprintf(lname, sizeof(lname), ".latest-%d", (int)getpid());
	if (path_join(link, sizeof(link), base, "latest") != 0 || path_join(ltmp, sizeof(ltmp), base, lname) != 0)
		return EXIT_OK; /* the results are in place; latest is a convenience */
	const char *target = strrchr(final, '/') ? strrchr(final, '/') + 1 : final;
	unlink(ltmp);
	if (symlink(target, ltmp) == 0 && rename(ltmp, link) != 0)
		unlink(ltmp);
	return EXIT_OK;
}

/* The calibration files the points name with ipi.preset = calibrated, made
 * by calibrating the host when one is missing (on the first such point's
 * placement): so the main job models IPIs at what this host's kernel pays
 * for a shootdown, with nothing to run by hand first. */
static int run_calibrate_if_missing(struct experiment *ex, bool quiet)
{
	struct exp_point *pt = mem_zalloc(struct exp_point, 1);
	int rc = pt != NULL ? 0 : ENOMEM;
	ex->ex_skip_calib = true;
	for (unsigned p = 0; rc == 0 && p < ex->ex_npoints; p++) {
		if ((rc = exp_point(ex, p, pt)) != 0)
			break;
		if ((pt->ep_cfg.mc_ipi_preset != IPI_PRESET_CALIBRATED && !calibration_engine_wanted(&pt->ep_cfg)) ||
		    access(pt->ep_cfg.mc_ipi_calibration, R_OK) == 0)
			continue;
		fprintf(stderr, "pmapstorm run: %s is missing: calibrating this host first (pmapstorm calibrate --out %s)\n",
		    pt->ep_cfg.mc_ipi_calibration, pt->ep_cfg.mc_ipi_calibration);
		struct calibrate_params cp = calibrate_defaults;
		cp.cp_quiet = quiet;
		rc = calibrate_measure(&pt->ep_cfg, pt->ep_cfg.mc_ipi_calibration, &cp);
	}
	ex->ex_skip_calib = false;
	free(pt);
	return rc;
}

/* A run from its options to its exit code, in the steps below. */
struct run {
	/* the options */
	const char *ru_path, *ru_base, *ru_baseline;
	const char *ru_sets[64];
	unsigned ru_nsets;
	bool ru_quiet, ru_plots, ru_yes, ru_replace;
	char ru_bpath[4200];
	/* the experiment, resolved */
	struct experiment *ru_ex;
	struct exp_point *ru_points;
	unsigned ru_T, ru_total;    /* trials per point; trials in all */
	double ru_estimate;         /* seconds, from the points' warm-up and duration */
	/* the trials */
	struct trial_result *ru_trials;
	struct order_item *ru_order;   /* every trial, in the seeded order */
	struct shard_spec ru_shard;    /* --shard: this host's slice of ru_order */
	unsigned ru_nrun;              /* trials this host runs */
	unsigned ru_done, ru_errors; /* complete trials; violations they found */
	uint64_t ru_t0;
	/* the results folder: written as tmp, published as final */
	char ru_final[4096], ru_tmp[4096];
};

/* the options: EXIT_GO_ON or an exit code */
static int run_options(int argc, char **argv, struct run *ru)
{
	static const struct option opts[] = {
		{"set", required_argument, NULL, 's'}, {"results", required_argument, NULL, 'r'},
		{"engine", required_argument, NULL, 'e'}, {"quiet", no_argument, NULL, 'q'}, {"no-plots", no_argument, NULL, 'n'}, {"yes", no_argument, NULL, 'y'},
		{"save-baseline", required_argument, NULL, 'b'}, {"replace-baseline", required_argument, NULL, 'B'},
		{"shard", required_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c;
	ru->ru_base = "results";
	ru->ru_plots = true;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:r:e:qyh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (ru->ru_nsets == 64) {
				msg_error("run: too many --set");
				return EXIT_USAGE;
			}
			ru->ru_sets[ru->ru_nsets++] = optarg;
			break;
		case 'r': ru->ru_base = optarg; break;
		case 'e': {
			/* --engine E is --set machine.engine=E (a list sweeps both) */
			static char eng[64][80];
			if (cmd_check_engine("run", optarg, true) != EXIT_OK)
				return EXIT_USAGE;
			if (ru->ru_nsets == 64) {
				msg_error("run: too many --set");
				return EXIT_USAGE;
			}
			unsigned i = ru->ru_nsets++;
			snprintf(eng[i], sizeof(eng[i]), "machine.engine=%s", optarg);
			ru->ru_sets[i] = eng[i];
			break;
		}
		case 'q': ru->ru_quiet = true; break;
		case 'n': ru->ru_plots = false; break;
		case 'b':
		case 'B':
			if (ru->ru_baseline != NULL) {
				msg_error("run: one --save-baseline or --replace-baseline");
				return EXIT_USAGE;
			}
			ru->ru_baseline = optarg;
			ru->ru_replace = c == 'B';
			break;
		case 'y': ru->ru_yes = true; break;
		case 'S':
			if (ru->ru_shard.sh_count > 0) {
				msg_error("run: one --shard");
				return EXIT_USAGE;
			}
			if (shard_parse(optarg, &ru->ru_shard) != 0)
				return EXIT_USAGE;
			break;
		case 'h': fputs(run_usage, stdout); return EXIT_OK;
		default:
			msg_error("run: unknown or incomplete option '%s'\n%s", argv[optind - 1], run_usage);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		msg_error(optind >= argc ? "run: which experiment file? (pmapstorm run CONFIG)"
		                         : "run: one experiment file, not several ('%s')", argv[optind + 1]);
		return EXIT_USAGE;
	}
	ru->ru_path = argv[optind];
	if (ru->ru_baseline != NULL && ru->ru_shard.sh_count > 0) {
		msg_error("run: --%s-baseline with --shard: a shard holds a slice of the trials; gate against the merged "
		    "folder (pmapstorm merge), or save the baseline from an unsharded run",
		    ru->ru_replace ? "replace" : "save");
		return EXIT_USAGE;
	}
	if (ru->ru_baseline != NULL) {
		int rc = baseline_path(ru->ru_base, ru->ru_baseline, ru->ru_replace, ru->ru_bpath, sizeof(ru->ru_bpath));
		if (rc != EXIT_OK)
			return rc;
	}
	return EXIT_GO_ON;
}

/* The experiment file, its overrides, a missing calibration made, and every
 * point resolved (CPU sets against each point's machine) before anything
 * runs: an exit code */
static int run_load(struct run *ru)
{
	int rc;
	if ((ru->ru_ex = mem_zalloc(struct experiment, 1)) == NULL) {
		msg_error("run: out of host memory");
		return EXIT_ENV;
	}
	rc = exp_load(ru->ru_ex, ru->ru_path);
	for (unsigned i = 0; rc == 0 && i < ru->ru_nsets; i++)
		rc = exp_override(ru->ru_ex, ru->ru_sets[i]);
	char why[256];
	if (rc == 0 && report_primary_check(ru->ru_ex, why, sizeof(why)) != 0) {
		const int line = exp_key_line(ru->ru_ex, "report.primary");
		if (line > 0)
			msg_error("%s:%d: report.primary: %s", ru->ru_path, line, why);
		else
			msg_error("--set report.primary: %s", why);
		return EXIT_USAGE;
	}
	/* ipi.preset = calibrated without its file: calibrate this host first
	 * (pmapstorm calibrate; under a second), once, and keep the file */
	if (rc == 0)
		rc = run_calibrate_if_missing(ru->ru_ex, ru->ru_quiet);
	if (rc != 0)
		return exitcode_of(rc);
	const struct experiment *ex = ru->ru_ex;
	if ((ru->ru_points = mem_zalloc(struct exp_point, ex->ex_npoints)) == NULL) {
		msg_error("run: out of host memory for %u points", ex->ex_npoints);
		return EXIT_ENV;
	}
	for (unsigned p = 0; p < ex->ex_npoints; p++)
		if ((rc = exp_point(ex, p, &ru->ru_points[p])) != 0)
			return exitcode_of(rc);
	/* one value for every point: the experiment refuses a list of trials */
	ru->ru_T = ru->ru_points[0].ep_trials;
	ru->ru_total = ex->ex_npoints * ru->ru_T;
	return EXIT_OK;
}

/* Every trial of every point in one order drawn from the seed; with --shard,
 * this host's slice of it (trials/shard.c): an exit code */
static int run_plan(struct run *ru)
{
	unsigned T = ru->ru_T, total = ru->ru_total;
	if ((ru->ru_order = mem_zalloc(struct order_item, total + 1)) == NULL) {
		msg_error("run: out of host memory for %u trials", total);
		return EXIT_ENV;
	}
	for (unsigned p = 0, k = 0; p < ru->ru_ex->ex_npoints; p++)
		for (unsigned t = 0; t < T; t++, k++)
			ru->ru_order[k] = (struct order_item){p, t};
	shuffle(ru->ru_order, total, ru->ru_points[0].ep_seed);
	ru->ru_nrun = total;
	if (ru->ru_shard.sh_count > 0) {
		int rc = exitcode_of(shard_plan(&ru->ru_shard, ru->ru_order, total, ru->ru_ex, ru->ru_points));
		if (rc != EXIT_OK)
			return rc;
		ru->ru_nrun = ru->ru_shard.sh_ntrials;
	}
	for (unsigned k = 0; k < total; k++)
		if (ru->ru_shard.sh_count == 0 || ru->ru_shard.sh_mine[k])
			ru->ru_estimate += shard_trial_cost(&ru->ru_points[ru->ru_order[k].oi_point]);
	return EXIT_OK;
}

/* What the host can give, said before anything runs: oversubscription (a
 * warning), the time (more than an hour needs --yes), the memory of the
 * largest point: an exit code */
static int run_check_host(struct run *ru)
{
	const struct experiment *ex = ru->ru_ex;
	/* more simulated CPUs than PUs is allowed, and said once (run.json records it per point) */
	for (unsigned p = 0; p < ex->ex_npoints; p++) {
		if (ru->ru_points[p].ep_cfg.mc_engine == MACHINE_ENGINE_VIRTUAL)
			continue; /* one CPU at a time: virtual timings share nothing */
		struct topo *t = exp_point_topo(&ru->ru_points[p]);
		bool over = t != NULL && topo_oversubscribed(t);
		topo_close(t);
		if (over) {
			fprintf(stderr, "pmapstorm run: warning: point %u has %u simulated CPUs on fewer PUs "
			    "(oversubscribed: allowed, recorded in run.json; timings share PUs)\n", p,
			    ru->ru_points[p].ep_cfg.mc_ncpu);
			break;
		}
	}
	char eta[64];
	msg_duration(eta, sizeof(eta), ru->ru_estimate);
	if (ru->ru_shard.sh_count > 0 && (!ru->ru_quiet || ru->ru_estimate > 3600))
		fprintf(stderr, "pmapstorm run: %s: shard %s: %u of the %u trials (%u points x %u), about %s\n",
		    ex->ex_name, ru->ru_shard.sh_how, ru->ru_nrun, ru->ru_total, ex->ex_npoints, ru->ru_T, eta);
	else if (!ru->ru_quiet || ru->ru_estimate > 3600)
		fprintf(stderr, "pmapstorm run: %s: %u points x %u trials, about %s\n", ex->ex_name, ex->ex_npoints,
		    ru->ru_T, eta);
	if (ru->ru_estimate > 3600 && !ru->ru_yes) {
		msg_error("run: %s would run for about %s (more than an hour); pass --yes to run it", ru->ru_path, eta);
		return EXIT_USAGE;
	}
	/* the largest simulated memory of any point, against what the host can give */
	unsigned big = 0;
	for (unsigned p = 1; p < ex->ex_npoints; p++)
		if (ru->ru_points[p].ep_cfg.mc_memory > ru->ru_points[big].ep_cfg.mc_memory)
			big = p;
	char where[4200];
	int line = exp_key_line(ex, "machine.memory");
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%d", ru->ru_path, line);
	else
		snprintf(where, sizeof(where), "%s", line < 0 ? "--set" : ru->ru_path);
	return exitcode_of(hostmem_check(&ru->ru_points[big].ep_cfg, where));
}

/* Every trial of every point, in one order drawn from the seed, until done
 * or a signal: the exit code of the trial that failed, else EXIT_OK */
static int run_trials(struct run *ru)
{
	const struct exp_point *points = ru->ru_points;
	unsigned T = ru->ru_T, total = ru->ru_total;
	if ((ru->ru_trials = mem_zalloc(struct trial_result, total)) == NULL) {
		msg_error("run: out of host memory for %u trials", total);
		return EXIT_ENV;
	}

	bool tty = isatty(STDERR_FILENO);
	uint64_t last_report = ru->ru_t0 = cpu_now_ns();
	int rc = EXIT_OK;
	unsigned ran = 0;
	for (unsigned k = 0; k < total && !atomic_load(&run_stop); k++) {
		if (ru->ru_shard.sh_count > 0 && !ru->ru_shard.sh_mine[k])
			continue; /* another shard's */
		ran++;
		const struct order_item *oi = &ru->ru_order[k];
		const struct exp_point *pt = &points[oi->oi_point];
		struct trial_result *tr = &ru->ru_trials[oi->oi_point * T + oi->oi_trial];
		/* 63 bits: run.json records it as a (signed) JSON integer */
		uint64_t seed = (pt->ep_seed * 1000003ULL + oi->oi_point * 1009ULL + oi->oi_trial) & INT64_MAX;
		if ((rc = exitcode_of(trial_run(pt, oi->oi_trial, seed, tr, &run_stop))) != EXIT_OK)
			break;
		tr->tr_order = k;
		if (tr->tr_done) {
			ru->ru_done++;
			ru->ru_errors += tr->tr_errors;
		} else if (atomic_load(&run_stop)) {
			break; /* dropped mid-way: no progress line counts it */
		}
		uint64_t now = cpu_now_ns();
		if (!ru->ru_quiet && (tty || now - last_report > 10ULL * 1000000000ULL || ran == ru->ru_nrun)) {
			progress(tty, ran, ru->ru_nrun, (double)(now - ru->ru_t0) / 1e9, ru->ru_estimate);
			last_report = now;
		}
	}
	return rc;
}

/* run.json and the CSV files, the plots, the report, then the folder
 * renamed into place; the answer per mix on stdout.  An exit code; *plots_rc
 * is the plots' own (a plotting problem keeps the data, then exits 3). */
static int run_write(struct run *ru, const struct run_results *rr, int *plots_rc)
{
	int rc = exitcode_of(results_write(rr, ru->ru_tmp));
	*plots_rc = EXIT_OK;
	/* a run the signal cut short still gets its plots (a second signal
	 * exits at once); a complete one stops drawing at a signal */
	if (rc == EXIT_OK && ru->ru_plots)
		*plots_rc = exitcode_of(plot_dir(ru->ru_tmp, ru->ru_quiet, rr->rr_interrupted ? NULL : &run_stop));
	/* the answer per mix and the warnings, for the end of the run */
	char *heads = NULL;
	size_t headsz = 0;
	FILE *hf = open_memstream(&heads, &headsz);
	if (rc == EXIT_OK)
		rc = exitcode_of(report_write(rr, ru->ru_tmp, hf));
	if (hf != NULL)
		fclose(hf);
	if (rc == EXIT_OK)
		rc = publish(ru->ru_base, ru->ru_final, sizeof(ru->ru_final), ru->ru_tmp);
	if (rc == EXIT_OK && !ru->ru_quiet && heads != NULL) {
		fputs(heads, stdout);
		printf("  report: %s/report.md (and index.html, self-contained)\n", ru->ru_final);
		fflush(stdout);
	}
	free(heads);
	return rc;
}

/* After the results are published: interrupted mid-run (130), violations
 * (1), interrupted after the last trial (130), the baseline, and plots that
 * could not be drawn (3): the exit code */
static int run_verdict(struct run *ru, const struct run_results *rr, int rc, int plots_rc)
{
	/* a signal after the last trial (while plotting, or writing) leaves
	 * every trial in run.json, which is then no partial result */
	bool late = !rr->rr_interrupted && atomic_load(&run_stop);
	if (!ru->ru_quiet || rr->rr_interrupted || late)
		fprintf(stderr, "pmapstorm run: results in %s%s\n", ru->ru_final,
		    rr->rr_interrupted ? " (interrupted: partial)" : late ? " (every trial; interrupted after them)" : "");
	if (late && plots_rc == EXIT_INTERRUPTED)
		msg_error("run: interrupted while drawing the plots: %s has the plots drawn before (pmapstorm plot %s "
		    "draws them all)", ru->ru_final, ru->ru_final);
	if (rr->rr_interrupted && atomic_load(&run_stop))
		rc = EXIT_INTERRUPTED;
	else if (rc == EXIT_OK && ru->ru_errors > 0) {
		/* every trial ran: what they found outranks a late signal */
		msg_error("run: %u violation(s) found by the workloads' checks, pmap_check/tlb_check or the oracles "
		    "(check = on)", ru->ru_errors);
		rc = EXIT_VIOLATION;
	} else if (late)
		rc = EXIT_INTERRUPTED;
	int brc;
	if (ru->ru_baseline != NULL && (rc != EXIT_OK || rr->rr_interrupted))
		msg_error("run: no baseline written (%s): the run %s", ru->ru_bpath,
		    rc == EXIT_INTERRUPTED || rr->rr_interrupted ? "was interrupted" : "failed");
	else if (ru->ru_baseline != NULL &&
	    (brc = save_baseline(ru->ru_final, ru->ru_base, ru->ru_bpath, ru->ru_replace)) != EXIT_OK)
		rc = brc;
	if (rc == EXIT_OK && plots_rc != EXIT_OK) {
		/* plots missing: the data and any baseline are written, then exit 3 */
		msg_error("run: %s holds the data without plots (pmapstorm plot %s draws them)", ru->ru_final, ru->ru_final);
		rc = plots_rc;
	}
	return rc;
}

static void run_free(struct run *ru)
{
	for (unsigned i = 0; ru->ru_trials != NULL && i < ru->ru_total; i++)
		trial_free(&ru->ru_trials[i]);
	free(ru->ru_trials);
	free(ru->ru_order);
	shard_free(&ru->ru_shard);
	free(ru->ru_points);
	if (ru->ru_ex != NULL)
		exp_free(ru->ru_ex); /* exp_load frees on its own failure; the overrides' values are still held */
	free(ru->ru_ex);
}

/* The trials, then what they found written and published: the exit code */
static int run_go(struct run *ru)
{
	int rc = run_trials(ru);
	struct run_results rr = {
		.rr_ex = ru->ru_ex,
		.rr_points = ru->ru_points,
		.rr_trials = ru->ru_trials,
		.rr_trials_per_point = ru->ru_T,
		/* partial when a trial is missing; a signal after the last one
		 * leaves every trial (run_verdict) */
		.rr_interrupted = ru->ru_done < ru->ru_nrun,
		.rr_config_path = ru->ru_path,
		.rr_sets = ru->ru_sets,
		.rr_nsets = ru->ru_nsets,
		.rr_wall_s = (double)(cpu_now_ns() - ru->ru_t0) / 1e9,
		.rr_shard = ru->ru_shard.sh_count > 0 ? &ru->ru_shard : NULL,
	};
	if (ru->ru_trials == NULL || (rc != EXIT_OK && ru->ru_done == 0)) {
		rmdir(ru->ru_tmp); /* nothing to keep */
		return rc;
	}
	int plots_rc, wrc = run_write(ru, &rr, &plots_rc);
	return wrc != EXIT_OK ? wrc : run_verdict(ru, &rr, rc, plots_rc);
}

static int run_main(int argc, char **argv)
{
	struct run *ru = mem_zalloc(struct run, 1);
	if (ru == NULL) {
		msg_error("run: out of host memory");
		return EXIT_ENV;
	}
	int rc = run_options(argc, argv, ru);
	char fname[EXP_NAMELEN + 32];
	if (rc == EXIT_GO_ON && (rc = run_load(ru)) == EXIT_OK && (rc = run_plan(ru)) == EXIT_OK &&
	    (rc = run_check_host(ru)) == EXIT_OK) {
		shard_folder_name(&ru->ru_shard, ru->ru_ex->ex_name, fname, sizeof(fname));
		if ((rc = make_results_dir(ru->ru_base, fname, ru->ru_final, sizeof(ru->ru_final), ru->ru_tmp,
		         sizeof(ru->ru_tmp))) == EXIT_OK)
			rc = run_go(ru);
	}
	run_free(ru);
	free(ru);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	/* from the start a signal stops the run: even before the first trial it
	 * ends in a (then empty) result marked interrupted, and exit 130 */
	atomic_store(&run_stop, 0);
	atomic_store(&run_stop_ns, 0);
	struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO}, old_int, old_term;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	int rc = run_main(argc, argv);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}
