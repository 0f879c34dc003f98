/*
 * run.c — `pmapstorm run CONFIG`: the experiment driver.
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
#include "driver.h"

#include <pmapstorm/alloc.h>
#include <pmapstorm/topo.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static _Atomic int run_stop;

static void on_signal(int sig)
{
	(void)sig;
	if (atomic_exchange(&run_stop, 1) != 0)
		_exit(EXIT_INTERRUPTED); /* a second signal: at once */
}

static const char *const run_usage =
    "usage: pmapstorm run CONFIG [--set section.key=value]... [--engine threads|virtual] [--results DIR]\n"
    "                     [--quiet] [--no-plots] [--yes] [--save-baseline NAME | --replace-baseline NAME]\n"
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
    "Nothing is written until the whole file is valid.  SIGINT or SIGTERM stops\n"
    "the run at the CPUs' next interrupt point and writes the finished trials,\n"
    "marked \"interrupted\": true; a second signal exits at once: published\n"
    "results stay whole, and the unfinished DIR/.tmp-NAME-PID is removed by the\n"
    "next run in DIR.\n"
    "With check = on in [experiment] (or --set check.enabled=on) the coherence\n"
    "oracles run during every trial (see pmapstorm stress --help); their checks and\n"
    "violations go into run.json.  watchdog.seconds (default 60): a CPU without\n"
    "progress that long dumps every CPU's state and exits 1.\n"
    "Exit: 0 ok, 1 a workload, checker or oracle found a violation, 2 bad config,\n"
    "3 environment or resource error (memory, gnuplot missing: the data is kept),\n"
    "130 interrupted (partial results kept).\n";

struct order_item {
	unsigned oi_point, oi_trial;
};

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
		cli_error("run: --%s-baseline '%s': a name of letters, digits, - _ . (at most 64, not starting with .)",
		    replace ? "replace" : "save", name);
		return EXIT_USAGE;
	}
	snprintf(path, len, "%s/baselines/%s.json", base, name);
	if (!replace && access(path, F_OK) == 0) {
		cli_error("run: --save-baseline %s: %s exists; remove it or use --replace-baseline %s", name, path, name);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The published run.json, slimmed (per-trial counters and lockstat rows
 * emptied: still valid against docs/run.schema.json), written to path. */
static int save_baseline(const char *dir, const char *base, const char *path, bool replace)
{
	char src[4096];
	json_error_t je;
	snprintf(src, sizeof(src), "%s/run.json", dir);
	json_t *doc = json_load_file(src, 0, &je);
	if (doc == NULL) {
		cli_error("run: %s: cannot read back (%s)", src, je.text);
		return EXIT_ENV;
	}
	json_t *pt, *tr;
	size_t i, j;
	json_array_foreach(json_object_get(doc, "points"), i, pt) json_array_foreach(json_object_get(pt, "trials"), j, tr)
	{
		json_object_set_new(tr, "counters", json_object());
		json_object_set_new(tr, "lockstat", json_array());
	}
	char bdir[4096];
	snprintf(bdir, sizeof(bdir), "%s/baselines", base);
	bool existed = access(path, F_OK) == 0;
	int rc = EXIT_OK;
	if (mkdir(bdir, 0777) != 0 && errno != EEXIST) {
		cli_error("run: cannot create %s (%s)", bdir, strerror(errno));
		rc = EXIT_ENV;
	}
	if (rc == EXIT_OK) /* the check before the run is advice; this one is atomic */
		rc = replace ? cli_write_json(path, doc) : cli_write_json_new(path, doc);
	json_decref(doc);
	if (rc == EXIT_OK)
		fprintf(stderr, "pmapstorm run: baseline %s %s\n", path, existed && replace ? "replaced" : "written");
	return rc;
}

static int make_results_dir(const char *base, const char *name, char *final, size_t len, char *tmp, size_t tlen)
{
	if (mkdir(base, 0777) != 0 && errno != EEXIST) {
		cli_error("run: cannot create %s (%s)", base, strerror(errno));
		return EXIT_ENV;
	}
	cli_remove_stale(base, ".tmp-");
	cli_remove_stale(base, ".latest-");
	time_t now = time(NULL);
	char stamp[64];
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(final, len, "%s/%s-%s", base, stamp, name);
	snprintf(tmp, tlen, "%s/.tmp-%s-%d", base, name, (int)getpid());
	if (mkdir(tmp, 0777) != 0) {
		cli_error("run: cannot create %s (%s)", tmp, strerror(errno));
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
	while (cli_rename_dir_new(tmp, final) != 0) {
		if (errno != EEXIST || k == 1000 || (size_t)snprintf(final, len, "%s-%d", want, k++) >= len) {
			cli_error("run: cannot move results from %s into %s (%s)", tmp, final, strerror(errno));
			return EXIT_ENV;
		}
	}
	char link[4096], ltmp[4096];
	snprintf(link, sizeof(link), "%s/latest", base);
	snprintf(ltmp, sizeof(ltmp), "%s/.latest-%d", base, (int)getpid());
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
	int rc = pt != NULL ? EXIT_OK : EXIT_ENV;
	ex->ex_skip_calib = true;
	for (unsigned p = 0; rc == EXIT_OK && p < ex->ex_npoints; p++) {
		if ((rc = exp_point(ex, p, pt)) != EXIT_OK)
			break;
		if ((pt->ep_cfg.mc_ipi_preset != IPI_PRESET_CALIBRATED && !calib_engine_wanted(&pt->ep_cfg)) ||
		    access(pt->ep_cfg.mc_ipi_calibration, R_OK) == 0)
			continue;
		fprintf(stderr, "pmapstorm run: %s is missing: calibrating this host first (pmapstorm calibrate --out %s)\n",
		    pt->ep_cfg.mc_ipi_calibration, pt->ep_cfg.mc_ipi_calibration);
		struct calib_params cp = calib_defaults;
		cp.cp_quiet = quiet;
		rc = calib_measure(&pt->ep_cfg, pt->ep_cfg.mc_ipi_calibration, &cp);
	}
	ex->ex_skip_calib = false;
	free(pt);
	return rc;
}

static int run_main(int argc, char **argv)
{
	const char *results_base = "results";
	bool quiet = false, plots = true, yes = false;
	const char *sets[64], *baseline = NULL;
	unsigned nsets = 0;
	bool replace = false;
	char bpath[4200];
	static const struct option opts[] = {
		{"set", required_argument, NULL, 's'}, {"results", required_argument, NULL, 'r'},
		{"engine", required_argument, NULL, 'e'}, {"quiet", no_argument, NULL, 'q'}, {"no-plots", no_argument, NULL, 'n'}, {"yes", no_argument, NULL, 'y'},
		{"save-baseline", required_argument, NULL, 'b'}, {"replace-baseline", required_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c, rc0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:r:e:qyh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (nsets == 64) {
				cli_error("run: too many --set");
				return EXIT_USAGE;
			}
			sets[nsets++] = optarg;
			break;
		case 'r': results_base = optarg; break;
		case 'e': {
			/* --engine E is --set machine.engine=E (a list sweeps both) */
			static char eng[64][80];
			if (nsets == 64) {
				cli_error("run: too many --set");
				return EXIT_USAGE;
			}
			snprintf(eng[nsets], sizeof(eng[nsets]), "machine.engine=%s", optarg);
			sets[nsets] = eng[nsets];
			nsets++;
			break;
		}
		case 'q': quiet = true; break;
		case 'n': plots = false; break;
		case 'b':
		case 'B':
			if (baseline != NULL) {
				cli_error("run: one --save-baseline or --replace-baseline");
				return EXIT_USAGE;
			}
			baseline = optarg;
			replace = c == 'B';
			break;
		case 'y': yes = true; break;
		case 'h': fputs(run_usage, stdout); return EXIT_OK;
		default:
			cli_error("run: unknown or incomplete option '%s'\n%s", argv[optind - 1], run_usage);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		cli_error(optind >= argc ? "run: which experiment file? (pmapstorm run CONFIG)"
		                         : "run: one experiment file, not several ('%s')", argv[optind + 1]);
		return EXIT_USAGE;
	}
	const char *path = argv[optind];
	if (baseline != NULL && (rc0 = baseline_path(results_base, baseline, replace, bpath, sizeof(bpath))) != EXIT_OK)
		return rc0;
	struct experiment *ex = mem_zalloc(struct experiment, 1);
	int rc = exp_load(ex, path);
	for (unsigned i = 0; rc == EXIT_OK && i < nsets; i++)
		rc = exp_override(ex, sets[i]);
	if (rc != EXIT_OK) {
		exp_free(ex); /* exp_load frees on its own failure; the overrides' values are still held */
		free(ex);
		return rc;
	}
	/* ipi.preset = calibrated without its file: calibrate this host first
	 * (pmapstorm calibrate; under a second), once, and keep the file */
	if ((rc = run_calibrate_if_missing(ex, quiet)) != EXIT_OK) {
		exp_free(ex);
		free(ex);
		return rc;
	}
	/* every point resolves (CPU sets against each point's machine) before anything runs */
	struct exp_point *points = mem_zalloc(struct exp_point, ex->ex_npoints);
	for (unsigned p = 0; p < ex->ex_npoints; p++)
		if ((rc = exp_point(ex, p, &points[p])) != EXIT_OK) {
			exp_free(ex);
			free(points);
			free(ex);
			return rc;
		}
	unsigned T = points[0].ep_trials;
	for (unsigned p = 1; p < ex->ex_npoints; p++)
		if (points[p].ep_trials != T) {
			cli_error("%s: experiment.trials may not be swept", path);
			exp_free(ex);
			free(points);
			free(ex);
			return EXIT_USAGE;
		}
	/* more simulated CPUs than PUs is allowed, and said once (run.json records it per point) */
	for (unsigned p = 0; p < ex->ex_npoints; p++) {
		if (points[p].ep_cfg.mc_engine == MACHINE_ENGINE_VIRTUAL)
			continue; /* one CPU at a time: virtual timings share nothing */
		struct topo *t = exp_point_topo(&points[p]);
		bool over = t != NULL && topo_oversubscribed(t);
		topo_close(t);
		if (over) {
			fprintf(stderr, "pmapstorm run: warning: point %u has %u simulated CPUs on fewer PUs "
			    "(oversubscribed: allowed, recorded in run.json; timings share PUs)\n", p, points[p].ep_cfg.mc_ncpu);
			break;
		}
	}
	unsigned total = ex->ex_npoints * T;
	double estimate = 0;
	for (unsigned p = 0; p < ex->ex_npoints; p++)
		estimate += T * (points[p].ep_warmup_s + points[p].ep_duration_s + 0.05);
	char eta[64];
	cli_duration(eta, sizeof(eta), estimate);
	if (!quiet || estimate > 3600)
		fprintf(stderr, "pmapstorm run: %s: %u points x %u trials, about %s\n", ex->ex_name, ex->ex_npoints, T, eta);
	if (estimate > 3600 && !yes) {
		cli_error("run: %s would run for about %s (more than an hour); pass --yes to run it", path, eta);
		rc = EXIT_USAGE;
	}
	/* the largest simulated memory of any point, against what the host can give */
	unsigned big = 0;
	for (unsigned p = 1; p < ex->ex_npoints; p++)
		if (points[p].ep_cfg.mc_memory > points[big].ep_cfg.mc_memory)
			big = p;
	if (rc == EXIT_OK) {
		char where[4200];
		int line = exp_key_line(ex, "machine.memory");
		if (line > 0)
			snprintf(where, sizeof(where), "%s:%d", path, line);
		else
			snprintf(where, sizeof(where), "%s", line < 0 ? "--set" : path);
		rc = cli_memory_check(&points[big].ep_cfg, where);
	}
	if (rc != EXIT_OK) {
		free(points);
		exp_free(ex);
		free(ex);
		return rc;
	}

	char final[4096], tmp[4096];
	if ((rc = make_results_dir(results_base, ex->ex_name, final, sizeof(final), tmp, sizeof(tmp))) != EXIT_OK) {
		free(points);
		exp_free(ex);
		free(ex);
		return rc;
	}
	struct trial_result *trials = mem_zalloc(struct trial_result, total);
	struct order_item *order = mem_zalloc(struct order_item, total);
	if (trials == NULL || order == NULL) {
		cli_error("run: out of host memory for %u trials", total);
		rmdir(tmp);
		free(trials);
		free(order);
		free(points);
		exp_free(ex);
		free(ex);
		return EXIT_ENV;
	}
	for (unsigned p = 0, k = 0; p < ex->ex_npoints; p++)
		for (unsigned t = 0; t < T; t++, k++)
			order[k] = (struct order_item){p, t};
	shuffle(order, total, points[0].ep_seed);

	bool tty = isatty(STDERR_FILENO);
	uint64_t t0 = cpu_now_ns(), last_report = t0;
	unsigned done = 0, errors = 0;
	for (unsigned k = 0; k < total && !atomic_load(&run_stop); k++) {
		const struct exp_point *pt = &points[order[k].oi_point];
		struct trial_result *tr = &trials[order[k].oi_point * T + order[k].oi_trial];
		uint64_t seed = pt->ep_seed * 1000003ULL + order[k].oi_point * 1009ULL + order[k].oi_trial;
		rc = trial_run(pt, order[k].oi_trial, seed, tr, &run_stop);
		if (rc != EXIT_OK)
			break;
		tr->tr_order = k;
		if (tr->tr_done) {
			done++;
			errors += tr->tr_errors;
		}
		uint64_t now = cpu_now_ns();
		if (!quiet && (tty || now - last_report > 10ULL * 1000000000ULL || k + 1 == total)) {
			progress(tty, k + 1, total, (double)(now - t0) / 1e9, estimate);
			last_report = now;
		}
	}
	struct run_results rr = {
		.rr_ex = ex,
		.rr_points = points,
		.rr_trials = trials,
		.rr_trials_per_point = T,
		.rr_interrupted = atomic_load(&run_stop) != 0 || done < total,
		.rr_config_path = path,
		.rr_sets = sets,
		.rr_nsets = nsets,
		.rr_wall_s = (double)(cpu_now_ns() - t0) / 1e9,
	};
	if (rc != EXIT_OK && done == 0) {
		rmdir(tmp);
		goto out;
	}
	int wrc = results_write(&rr, tmp), prc = EXIT_OK;
	if (wrc == EXIT_OK && plots)
		prc = plot_dir(tmp, quiet); /* a plotting problem keeps the data, then exits 3 */
	/* the answer per mix and the warnings, for the end of the run */
	char *heads = NULL;
	size_t headsz = 0;
	FILE *hf = open_memstream(&heads, &headsz);
	if (wrc == EXIT_OK)
		wrc = report_write(&rr, tmp, hf);
	if (hf != NULL)
		fclose(hf);
	if (wrc == EXIT_OK)
		wrc = publish(results_base, final, sizeof(final), tmp);
	if (wrc != EXIT_OK) {
		free(heads);
		rc = wrc;
		goto out;
	}
	if (!quiet && heads != NULL) {
		fputs(heads, stdout);
		printf("  report: %s/report.md (and index.html, self-contained)\n", final);
		fflush(stdout);
	}
	free(heads);
	if (!quiet || rr.rr_interrupted)
		fprintf(stderr, "pmapstorm run: results in %s%s\n", final, rr.rr_interrupted ? " (interrupted: partial)" : "");
	if (rr.rr_interrupted && atomic_load(&run_stop))
		rc = EXIT_INTERRUPTED;
	else if (rc == EXIT_OK && errors > 0) {
		cli_error("run: %u violation(s) found by the workloads' checks, pmap_check/tlb_check or the oracles (check = on)", errors);
		rc = EXIT_VIOLATION;
	}
	if (baseline != NULL && (rc != EXIT_OK || rr.rr_interrupted))
		cli_error("run: no baseline written (%s): the run %s", bpath, rr.rr_interrupted ? "was interrupted" : "failed");
	else if (baseline != NULL && (wrc = save_baseline(final, results_base, bpath, replace)) != EXIT_OK)
		rc = wrc;
	if (rc == EXIT_OK && prc != EXIT_OK)
		rc = prc; /* plots missing: the data and any baseline are written, then exit 3 */
out:
	for (unsigned i = 0; i < total; i++)
		trial_free(&trials[i]);
	free(trials);
	free(order);
	free(points);
	exp_free(ex);
	free(ex);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	/* from the start a signal stops the run: even before the first trial it
	 * ends in a (then empty) result marked interrupted, and exit 130 */
	atomic_store(&run_stop, 0);
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	int rc = run_main(argc, argv);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}
