/*
 * calibrate.c — `pmapstorm calibrate`: the physical floor and the host
 * kernel's real shootdown cost, for the host PUs a run would use, and
 * ipi.preset = calibrated, which sets the model's IPI costs from them.
 *
 * What it measures, and after whom:
 *  - the cache-line ping-pong round trip of every pair of those PUs (at
 *    most --pairs of them, evenly spread over the i < j order): one
 *    line bounced between two pinned threads, the median of many batches,
 *    as core-to-core-latency (nviennot/core-to-core-latency, its "CAS"
 *    and "read/write" benchmarks) does; the fastest pair is the floor any
 *    cross-CPU request/acknowledge protocol pays;
 *  - the timer's own overhead: back-to-back cpu_now_ns() (the model's
 *    clock) and clock_gettime(CLOCK_MONOTONIC), medians;
 *  - the host kernel's shootdown: will-it-scale's tlb_flush2
 *    (antonblanchard/will-it-scale, tests/tlb_flush2.c): each task
 *    touches its page and madvise(MADV_DONTNEED)s it, over and over.  As
 *    threads of one process, each madvise must shoot down the other CPUs
 *    running that address space; as separate processes it needs no IPI.
 *    The difference per madvise is the host kernel's shootdown cost;
 *  - the model's own shootdown round trip and ping-pong on two CPUs
 *    (microbench_shootdown), with the IPI costs at zero.
 * It writes calibration.json.  ipi.preset = calibrated then sets
 * ipi.send_ns + ipi.handler_ns to what the model lacks to reach the host
 * kernel's cost, half each (the split is a choice, recorded in the file).
 *
 * Nothing here passes or fails on timing; it runs before any machine is
 * booted, except for the model's own measurement (machine.memory is
 * checked against the host first).  Every pinning is checked: a PU that
 * cannot be pinned to is an environment error naming it, and the
 * command's thread gets its affinity back when the pairs are done.
 */
#include "experiment.h"
#include "samples.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pmapstorm/alloc.h>
#include <pmapstorm/topo.h>

/* ---- the ping-pong (shared with microbench) ---- */

unsigned pingpong_lead(_Atomic uint64_t *ball, unsigned batches, uint64_t *samples)
{
	for (unsigned b = 0; b < batches; b++) {
		uint64_t t0 = cpu_now_ns();
		for (unsigned i = 0; i < PINGPONG_BATCH; i++) {
			uint64_t x = ((uint64_t)b * PINGPONG_BATCH + i) * 2 + 1;
			/* release/acquire: each side's store is what the other waits for */
			atomic_store_explicit(ball, x, memory_order_release);
			unsigned spins = 0;
			while (atomic_load_explicit(ball, memory_order_acquire) != x + 1)
				if (cpu_virtual())
					cpu_spin_wait(&spins); /* one CPU runs at a time: the other side must get a turn */
				else if (++spins > 100000)
					sched_yield(); /* oversubscribed host: let the other side run */
		}
		samples[b] = (cpu_now_ns() - t0) / PINGPONG_BATCH;
	}
	return batches;
}

void pingpong_follow(_Atomic uint64_t *ball, unsigned batches)
{
	for (uint64_t n = 0; n < (uint64_t)batches * PINGPONG_BATCH; n++) {
		uint64_t want = n * 2 + 1;
		unsigned spins = 0;
		while (atomic_load_explicit(ball, memory_order_acquire) != want)
			if (cpu_virtual())
				cpu_spin_wait(&spins);
			else if (++spins > 100000)
				sched_yield();
		atomic_store_explicit(ball, want + 1, memory_order_release);
	}
}

struct pp_pair {
	int pp_pu[2];
	unsigned pp_batches;
	uint64_t *pp_samples;
	_Atomic uint64_t pp_ball __attribute__((aligned(64)));
	_Atomic unsigned pp_ready;
	int pp_bind_err; /* the follower's topo_bind_host_pu(), before pp_ready */
};

static void *pp_follower(void *arg)
{
	struct pp_pair *p = arg;
	p->pp_bind_err = topo_bind_host_pu(p->pp_pu[1]);
	bool ok = p->pp_bind_err == 0;
	atomic_fetch_add(&p->pp_ready, 1);
	if (ok)
		pingpong_follow(&p->pp_ball, p->pp_batches);
	return NULL;
}

/* Median round trip between host PUs a and b (the caller's thread leads,
 * pinned to a: the caller restores its affinity).  0, or an errno with
 * *bad_pu the PU that could not be pinned to (-1 for other failures). */
static int pp_measure(int a, int b, unsigned batches, uint64_t *med, int *bad_pu)
{
	*bad_pu = -1;
	int err = topo_bind_host_pu(a);
	if (err != 0) {
		*bad_pu = a;
		return err;
	}
	struct pp_pair *p = mem_zalloc(struct pp_pair, 1);
	if (p == NULL)
		return ENOMEM;
	p->pp_pu[0] = a;
	p->pp_pu[1] = b;
	p->pp_batches = batches;
	p->pp_samples = mem_zalloc(uint64_t, batches);
	pthread_t tid;
	err = p->pp_samples == NULL ? ENOMEM : pthread_create(&tid, NULL, pp_follower, p);
	if (err == 0) {
		while (atomic_load(&p->pp_ready) == 0)
			sched_yield();
		if (p->pp_bind_err == 0)
			*med = samples_pct_u64(p->pp_samples, pingpong_lead(&p->pp_ball, batches, p->pp_samples), 0.5);
		pthread_join(tid, NULL);
		if ((err = p->pp_bind_err) != 0)
			*bad_pu = b;
	}
	free(p->pp_samples);
	free(p);
	return err;
}

/* ---- timer overhead ---- */

static uint64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#define TIMER_SAMPLES 10001

static void timer_overhead(double *model_ns, double *mono_ns)
{
	uint64_t *v = mem_zalloc(uint64_t, TIMER_SAMPLES);
	if (v == NULL)
		return;
	/* a batch of 100 back-to-back reads per sample: below the clock's grain */
	for (unsigned i = 0; i < TIMER_SAMPLES; i++) {
		uint64_t t0 = cpu_now_ns(), t = t0;
		for (int k = 0; k < 100; k++)
			t = cpu_now_ns();
		v[i] = t - t0;
	}
	*model_ns = (double)samples_pct_u64(v, TIMER_SAMPLES, 0.5) / 100;
	for (unsigned i = 0; i < TIMER_SAMPLES; i++) {
		uint64_t t0 = mono_now(), t = t0;
		for (int k = 0; k < 100; k++)
			t = mono_now();
		v[i] = t - t0;
	}
	*mono_ns = (double)samples_pct_u64(v, TIMER_SAMPLES, 0.5) / 100;
	free(v);
}

/* ---- the host kernel's shootdown (will-it-scale tlb_flush2) ---- */

struct tf_shared {
	_Atomic int tf_go, tf_stop;
	_Atomic unsigned tf_ready;
	uint64_t tf_ops[256];
	int tf_bind_err[256]; /* each task's topo_bind_host_pu(), before tf_ready */
};

struct tf_task {
	struct tf_shared *tf_s;
	unsigned tf_i;
	int tf_pu;
	char *tf_page; /* this task's page */
};

static void tf_loop(struct tf_task *t)
{
	struct tf_shared *s = t->tf_s;
	s->tf_bind_err[t->tf_i] = topo_bind_host_pu(t->tf_pu);
	atomic_fetch_add(&s->tf_ready, 1);
	while (!atomic_load_explicit(&s->tf_go, memory_order_acquire))
		sched_yield();
	uint64_t n = 0;
	while (!atomic_load_explicit(&s->tf_stop, memory_order_relaxed)) {
		*(volatile char *)t->tf_page = 1; /* fault it in: a TLB entry on this CPU */
		madvise(t->tf_page, (size_t)getpagesize(), MADV_DONTNEED);
		n++;
	}
	s->tf_ops[t->tf_i] = n;
}

static void *tf_thread(void *arg)
{
	tf_loop(arg);
	return NULL;
}

/* ns per madvise, median over the tasks: threads of one process or
 * processes.  0, or an errno with *bad_pu the PU a task could not be
 * pinned to (-1 for other failures). */
static int tf_run(const int *pus, unsigned k, bool processes, double seconds, double *ns, int *bad_pu)
{
	*bad_pu = -1;
	size_t pg = (size_t)getpagesize();
	struct tf_shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *pages = mmap(NULL, pg * k, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct tf_task *tasks = mem_zalloc(struct tf_task, k);
	pthread_t *tids = mem_zalloc(pthread_t, k);
	pid_t *pids = mem_zalloc(pid_t, k);
	int err = 0;
	unsigned started = 0;
	if (s == MAP_FAILED || pages == MAP_FAILED || tasks == NULL || tids == NULL || pids == NULL) {
		err = ENOMEM;
		goto out;
	}
	memset(s, 0, sizeof(*s));
	for (; started < k; started++) {
		tasks[started] = (struct tf_task){s, started, pus[started], pages + pg * started};
		if (processes) {
			pids[started] = fork();
			if (pids[started] == 0) {
				tf_loop(&tasks[started]);
				_exit(0);
			}
			if (pids[started] < 0) {
				err = errno;
				break;
			}
		} else if ((err = pthread_create(&tids[started], NULL, tf_thread, &tasks[started])) != 0)
			break;
	}
	while (atomic_load(&s->tf_ready) < started)
		sched_yield();
	atomic_store(&s->tf_go, 1);
	struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
	nanosleep(&ts, NULL);
	atomic_store(&s->tf_stop, 1);
	for (unsigned i = 0; i < started; i++) {
		if (processes)
			waitpid(pids[i], NULL, 0);
		else
			pthread_join(tids[i], NULL);
	}
	for (unsigned i = 0; err == 0 && i < started; i++)
		if ((err = s->tf_bind_err[i]) != 0)
			*bad_pu = pus[i];
	if (err == 0) {
		uint64_t per[256];
		for (unsigned i = 0; i < k; i++)
			per[i] = s->tf_ops[i] ? (uint64_t)(seconds * 1e9 / (double)s->tf_ops[i]) : 0;
		*ns = (double)samples_pct_u64(per, k, 0.5);
	}
out:
	if (s != MAP_FAILED)
		munmap(s, sizeof(*s));
	if (pages != MAP_FAILED)
		munmap(pages, pg * k);
	free(tasks);
	free(tids);
	free(pids);
	return err;
}

/* ---- ipi.preset = calibrated ---- */

int calib_apply(struct machine_config *cfg, char *why, size_t len)
{
	json_error_t je;
	json_t *doc = json_load_file(cfg->mc_ipi_calibration, 0, &je);
	if (doc == NULL) {
		snprintf(why, len, "ipi.calibration: %s: %s (ipi.preset = calibrated; make it with pmapstorm calibrate --out %s)",
		    cfg->mc_ipi_calibration, je.line > 0 ? je.text : "cannot read", cfg->mc_ipi_calibration);
		return -1;
	}
	json_t *ipi = json_object_get(doc, "ipi");
	json_t *snd = json_object_get(ipi, "send_ns"), *hnd = json_object_get(ipi, "handler_ns");
	char v[32];
	int rc = 0;
	if (!json_is_integer(snd) || !json_is_integer(hnd) || json_integer_value(snd) < 0 || json_integer_value(hnd) < 0) {
		snprintf(why, len, "ipi.calibration: %s is not a calibration file (no ipi.send_ns and ipi.handler_ns; "
		    "make one with pmapstorm calibrate)", cfg->mc_ipi_calibration);
		rc = -1;
	} else {
		snprintf(v, sizeof(v), "%lld", (long long)json_integer_value(snd));
		if (machine_config_set(cfg, "ipi.send_ns", v) == 0) {
			snprintf(v, sizeof(v), "%lld", (long long)json_integer_value(hnd));
			rc = machine_config_set(cfg, "ipi.handler_ns", v) == 0 ? 0 : -1;
		} else
			rc = -1;
		if (rc != 0)
			snprintf(why, len, "ipi.calibration: %s: %s", cfg->mc_ipi_calibration, machine_errmsg());
	}
	json_decref(doc);
	return rc;
}

/*
 * engine.costs = calibrated: the virtual engine's costs from the same file.
 * A cache-line transfer is half the fastest pair's ping-pong round trip; the
 * host kernel's shootdown (will-it-scale tlb_flush2, two tasks: one
 * target) less two line transfers (the request and the acknowledgement)
 * is split between the sender (10 %), the wire (50 %) and the target's
 * interrupt entry (40 %) — the split is ours, the total is measured.  The
 * TLB and walk costs keep the xeon-sp values: calibrate measures none.
 */
bool calib_engine_wanted(const struct machine_config *cfg)
{
	char v[32];
	return cfg->mc_engine == MACHINE_ENGINE_VIRTUAL && machine_config_get(cfg, "engine.costs", v, sizeof(v)) == 0 &&
	    !strcmp(v, "calibrated");
}

int calib_engine_apply(struct machine_config *cfg, char *why, size_t len)
{
	json_error_t je;
	json_t *doc = json_load_file(cfg->mc_ipi_calibration, 0, &je);
	if (doc == NULL) {
		snprintf(why, len, "engine.costs = calibrated: ipi.calibration %s: %s (make it with pmapstorm calibrate --out %s)",
		    cfg->mc_ipi_calibration, je.line > 0 ? je.text : "cannot read", cfg->mc_ipi_calibration);
		return -1;
	}
	json_t *fl = json_object_get(json_object_get(doc, "pingpong"), "floor_ns");
	json_t *sd = json_object_get(json_object_get(doc, "host_shootdown"), "shootdown_ns");
	int rc = 0;
	if (!json_is_integer(fl) || !json_is_number(sd) || json_integer_value(fl) <= 0 || json_number_value(sd) < 0) {
		snprintf(why, len, "engine.costs = calibrated: %s has no pingpong.floor_ns and host_shootdown.shootdown_ns "
		    "(make one with pmapstorm calibrate)", cfg->mc_ipi_calibration);
		rc = -1;
	} else {
		double line = (double)json_integer_value(fl) / 2, rest = json_number_value(sd) - 2 * line;
		if (rest < 0)
			rest = 0;
		const struct {
			const char *key;
			double v;
		} set[] = {{"cost.line_transfer_ns", line}, {"cost.ipi_send_ns", rest * 0.1},
		    {"cost.ipi_deliver_ns", rest * 0.5}, {"cost.handler_ns", rest * 0.4}};
		for (size_t i = 0; i < sizeof(set) / sizeof(set[0]) && rc == 0; i++) {
			char v[32];
			snprintf(v, sizeof(v), "%.0f", set[i].v);
			if (machine_config_set(cfg, set[i].key, v) != 0) {
				snprintf(why, len, "engine.costs = calibrated: %s: %s", cfg->mc_ipi_calibration, machine_errmsg());
				rc = -1;
			}
		}
	}
	json_decref(doc);
	return rc;
}

/* ---- the command ---- */

/* Pairs of PUs measured at most, unless --pairs says otherwise: 256 pairs
 * take a few seconds at the default --samples; every pair of 23 PUs. */
#define CALIB_MAX_PAIRS 256

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
    "ipi.handler_ns from it.  A few seconds with the defaults.\n"
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

static int parse_count(const char *flag, const char *v, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || end == v || *end != '\0' || x < lo || x > hi) {
		cli_error("calibrate: %s: '%s' is not a number in [%lu, %lu]", flag, v, lo, hi);
		return EXIT_USAGE;
	}
	*out = x;
	return EXIT_OK;
}

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
	unsigned long samples = 200, rounds = 2000, max_pairs = CALIB_MAX_PAIRS;
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
				cli_error("calibrate: too many --set");
				return EXIT_USAGE;
			}
			sets[nsets++] = optarg;
			break;
		case 'o': out = optarg; break;
		case 'n':
			if ((rc = parse_count("--samples", optarg, 10, 1000000, &samples)) != EXIT_OK)
				return rc;
			break;
		case 'r':
			if ((rc = parse_count("--rounds", optarg, 100, 10000000, &rounds)) != EXIT_OK)
				return rc;
			break;
		case 'P':
			if ((rc = parse_count("--pairs", optarg, 1, 32640, &max_pairs)) != EXIT_OK)
				return rc;
			break;
		case 'S': {
			seconds = exp_parse_seconds(optarg);
			if (seconds < 0.01 || seconds > 600) {
				cli_error("calibrate: --seconds: '%s' is not a time in [0.01, 600] seconds", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'q': quiet = true; break;
		case 'h': fputs(calib_usage, stdout); return EXIT_OK;
		default:
			cli_error("calibrate: unknown or incomplete option '%s'\n%s", argv[optind - 1], calib_usage);
			return EXIT_USAGE;
		}
	}
	if ((rc = exp_first_config("calibrate", argc - optind, argv + optind, sets, nsets, &cfg)) != EXIT_OK)
		return rc;
	if (out == NULL)
		out = cfg.mc_ipi_calibration;
	struct calib_params cp = {.cp_samples = (unsigned)samples, .cp_rounds = (unsigned)rounds,
	    .cp_max_pairs = (unsigned)max_pairs, .cp_seconds = seconds, .cp_quiet = quiet};
	return calib_measure(&cfg, out, &cp);
}

const struct calib_params calib_defaults = {.cp_samples = 200, .cp_rounds = 2000, .cp_max_pairs = CALIB_MAX_PAIRS,
    .cp_seconds = 0.3, .cp_quiet = false};

int calib_measure(const struct machine_config *cfgp, const char *out, const struct calib_params *cp)
{
	struct machine_config cfg = *cfgp;
	unsigned long samples = cp->cp_samples, rounds = cp->cp_rounds, max_pairs = cp->cp_max_pairs;
	double seconds = cp->cp_seconds;
	bool quiet = cp->cp_quiet;
	int rc;
	struct topo *t;
	if ((rc = exp_config_topo(&cfg, "calibrate", &t)) != EXIT_OK)
		return rc;
	/* the model machine booted at the end must fit in memory: say so first */
	if ((rc = cli_memory_check(&cfg, "calibrate")) != EXIT_OK) {
		topo_close(t);
		return rc;
	}
	char why[768];
	/* the distinct host PUs of the run, in placement order */
	int pus[256];
	unsigned npu = 0;
	for (unsigned i = 0; i < topo_ncpu(t) && npu < 256; i++) {
		int p = topo_cpu_host_pu(t, i);
		bool dup = false;
		for (unsigned j = 0; j < npu; j++)
			dup = dup || pus[j] == p;
		if (!dup)
			pus[npu++] = p;
	}
	struct topo *host = topo_open(NULL, why, sizeof(why));
	char hostpl[1024];
	size_t o = (size_t)snprintf(hostpl, sizeof(hostpl), "list:");
	for (unsigned i = 0; i < npu && o < sizeof(hostpl); i++)
		o += (size_t)snprintf(hostpl + o, sizeof(hostpl) - o, "%s%d", i ? "," : "", pus[i]);
	if (host != NULL && topo_place(host, hostpl, npu, why, sizeof(why)) != 0) {
		topo_close(host);
		host = NULL;
	}
	unsigned npairs = npu * (npu - 1) / 2, nmeasured = npairs < max_pairs ? npairs : (unsigned)max_pairs;
	if (!quiet)
		fprintf(stderr, "pmapstorm calibrate: %u host PUs, %u pairs%s\n", npu, nmeasured,
		    nmeasured < npairs ? " (a sample; --pairs)" : "");

	/* the pinning below moves this thread: it gets its affinity back */
	cpu_set_t saved;
	bool restore = pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0;
	json_t *doc = json_object();
	json_object_set_new(doc, "provenance", cli_provenance(&cfg));
	json_t *jpus = json_array();
	for (unsigned i = 0; i < npu; i++)
		json_array_append_new(jpus, json_integer(pus[i]));
	json_object_set_new(doc, "host_pus", jpus);

	/* the pairs' ping-pong; the floor is the fastest pair's median.  With
	 * more pairs than --pairs, pair k of the i < j enumeration is measured
	 * for k = m * npairs / nmeasured, m = 0..nmeasured-1: evenly spread,
	 * the same every time, and the first (the two closest PUs) included */
	json_t *pairs = json_array();
	uint64_t floor_ns = 0;
	unsigned k = 0, m = 0;
	int bad_pu = -1;
	for (unsigned i = 0; i < npu; i++)
		for (unsigned j = i + 1; j < npu; j++, k++) {
			if (m >= nmeasured || k != (unsigned)((uint64_t)m * npairs / nmeasured))
				continue;
			m++;
			uint64_t med = 0;
			if ((rc = pp_measure(pus[i], pus[j], (unsigned)samples, &med, &bad_pu)) != 0) {
				snprintf(why, sizeof(why), "ping-pong PU %d - PU %d", pus[i], pus[j]);
				goto fail;
			}
			unsigned hops = host ? topo_hops(host, i, j) : 0;
			json_array_append_new(pairs, json_pack("{s:i,s:i,s:I,s:i,s:s}", "a", pus[i], "b", pus[j], "median_ns",
			    (json_int_t)med, "hop_level", (int)hops, "level", host ? topo_level_name(host, hops) : ""));
			if (floor_ns == 0 || med < floor_ns)
				floor_ns = med;
		}
	if (restore)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	json_object_set_new(doc, "pingpong", json_pack("{s:o,s:I,s:i,s:i,s:i,s:i}", "pairs", pairs, "floor_ns",
	    (json_int_t)floor_ns, "batches", (int)samples, "batch", PINGPONG_BATCH, "pairs_total", (int)npairs,
	    "pairs_measured", (int)nmeasured));
	pairs = NULL; /* doc holds it now */

	double model_clock = 0, mono_clock = 0;
	timer_overhead(&model_clock, &mono_clock);
	json_object_set_new(doc, "timer_overhead_ns", json_pack("{s:f,s:f}", "cpu_now_ns", model_clock,
	    "clock_gettime_monotonic", mono_clock));

	double thr_ns = 0, proc_ns = 0;
	if ((rc = tf_run(pus, npu, false, seconds, &thr_ns, &bad_pu)) != 0 ||
	    (rc = tf_run(pus, npu, true, seconds, &proc_ns, &bad_pu)) != 0) {
		snprintf(why, sizeof(why), "tlb_flush2");
		goto fail;
	}
	double host_sd_ns = thr_ns > proc_ns ? thr_ns - proc_ns : 0;
	json_object_set_new(doc, "host_shootdown", json_pack("{s:i,s:f,s:f,s:f,s:f,s:s}", "tasks", (int)npu,
	    "threads_ns_per_madvise", thr_ns, "processes_ns_per_madvise", proc_ns, "shootdown_ns", host_sd_ns,
	    "seconds_per_mode", seconds, "method",
	    npu < 2 ? "one PU: no other CPU to shoot down, cost 0"
	            : "will-it-scale tlb_flush2: touch + madvise(MADV_DONTNEED) of each task's page; "
	              "threads of one process minus separate processes"));

	/* the model, IPI costs at zero, on the run's first two CPUs */
	struct machine_config mc = cfg;
	machine_config_set(&mc, "ipi.preset", "manual");
	machine_config_set(&mc, "ipi.send_ns", "0");
	machine_config_set(&mc, "ipi.handler_ns", "0");
	machine_config_set(&mc, "ipi.distance_ns", "0");
	uint64_t model_sd = 0, model_pp = 0;
	if ((rc = microbench_shootdown(&mc, (unsigned)rounds, &model_sd, &model_pp)) != 0) {
		snprintf(why, sizeof(why), "the model's shootdown: %s", machine_errmsg());
		rc = 0;
		goto fail;
	}
	double x = floor_ns ? (double)model_sd / (double)floor_ns : 0;
	json_object_set_new(doc, "model", json_pack("{s:I,s:I,s:f,s:i}", "shootdown_rtt_ns", (json_int_t)model_sd,
	    "pingpong_rtt_ns", (json_int_t)model_pp, "shootdown_over_floor", x, "rounds", (int)rounds));

	/* what the model lacks to cost what the host kernel pays, half sending, half handling */
	uint64_t extra = host_sd_ns > (double)model_sd ? (uint64_t)(host_sd_ns - (double)model_sd) : 0;
	uint64_t send = extra / 2, handler = extra - send;
	json_object_set_new(doc, "ipi", json_pack("{s:I,s:I,s:s}", "send_ns", (json_int_t)send, "handler_ns",
	    (json_int_t)handler, "rule",
	    "ipi.send_ns + ipi.handler_ns = host_shootdown.shootdown_ns - model.shootdown_rtt_ns (at least 0), "
	    "split in halves"));
	char summary[256];
	snprintf(summary, sizeof(summary), "shootdown in the model = %.2f x the ping-pong floor; the host kernel's = %.2f us",
	    x, host_sd_ns / 1000);
	json_object_set_new(doc, "summary", json_string(summary));
	/* the default lives in results/, which a fresh checkout lacks */
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", out);
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0777);
	}
	rc = cli_write_json(out, doc);
	json_decref(doc);
	if (rc == EXIT_OK && !quiet) {
		printf("pmapstorm calibrate  (%u host PUs)\n", npu);
		printf("  %-40s %8lu ns\n", "cache-line ping-pong floor (fastest pair)", (unsigned long)floor_ns);
		printf("  %-40s %8.1f ns (CLOCK_MONOTONIC %.1f ns)\n", "timer overhead (cpu_now_ns)", model_clock, mono_clock);
		printf("  %-40s %8.0f ns (threads %.0f, processes %.0f ns per madvise)\n", "host kernel shootdown", host_sd_ns,
		    thr_ns, proc_ns);
		printf("  %-40s %8lu ns (model ping-pong %lu ns)\n", "model shootdown round trip", (unsigned long)model_sd,
		    (unsigned long)model_pp);
		printf("  calibrated: ipi.send_ns = %lu, ipi.handler_ns = %lu\n", (unsigned long)send, (unsigned long)handler);
		printf("%s\nwritten to %s\n", summary, out);
	}
	topo_close(host);
	topo_close(t);
	return rc;

fail:
	if (rc == 0)
		cli_error("calibrate: %s", why);
	else if (bad_pu >= 0)
		cli_error("calibrate: %s: cannot pin a thread to host PU %d (%s)", why, bad_pu, strerror(rc));
	else
		cli_error("calibrate: %s: %s", why, strerror(rc));
	if (restore)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	json_decref(pairs);
	json_decref(doc);
	topo_close(host);
	topo_close(t);
	return EXIT_ENV;
}
