/*
 * calibrate.c — what `pmapstorm calibrate` measures: the physical floor
 * and the host kernel's real shootdown cost, for the host PUs a run would
 * use, written to calibration.json; ipi.preset = calibrated sets the
 * model's IPI costs from that file (experiment/calibration.c).
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
 *  - the host kernel's shootdown: will-it-scale's tlb_flush2 loop
 *    (tlbflush2.c) on every PU of the run: each task touches its page and
 *    madvise(MADV_DONTNEED)s it, over and over.  As threads of one
 *    process, each madvise must shoot down the other CPUs running that
 *    address space; as separate processes it needs no IPI.
 *    The difference per madvise is the host kernel's shootdown cost;
 *  - the model's own shootdown round trip and ping-pong on two CPUs
 *    (microbench_shootdown), with the IPI costs at zero, under netbsd-x86
 *    whatever the run's strategy (cal_model says why).
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
#include "trials/calibrate.h"
#include "common/msg.h"
#include "common/atomicfile.h"
#include "common/path.h"
#include "common/provenance.h"
#include "common/samples.h"
#include "experiment/experiment.h"
#include "trials/driver.h"
#include "trials/hostmem.h"
#include "trials/microbench.h"
#include "trials/pingpong.h"
#include "trials/tlbflush2.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pmapstorm/alloc.h>
#include <pmapstorm/topo.h>

#define CAL_MODEL_STRATEGY "netbsd-x86"

/* ---- the ping-pong of PU pairs ---- */

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
		uint64_t t0 = trial_host_ns(), t = t0;
		for (int k = 0; k < 100; k++)
			t = trial_host_ns();
		v[i] = t - t0;
	}
	*mono_ns = (double)samples_pct_u64(v, TIMER_SAMPLES, 0.5) / 100;
	free(v);
}

const struct calibrate_params calibrate_defaults = {.cp_samples = 200, .cp_rounds = 2000, .cp_max_pairs = CALIBRATE_MAX_PAIRS,
    .cp_seconds = 0.3, .cp_quiet = false};

/* ---- the measurement, step by step ---- */

/* One calibration: its parameters, the host PUs, and what each step found. */
struct cal {
	const struct calibrate_params *c_p;
	struct machine_config c_cfg;
	int c_pus[256];               /* the distinct host PUs of the run, in placement order */
	unsigned c_npu;
	struct topo *c_host;          /* the host, placed on c_pus (hop levels); may be NULL */
	json_t *c_doc;                /* calibration.json */
	uint64_t c_floor_ns;          /* the fastest pair's ping-pong median */
	double c_model_clock, c_mono_clock;
	double c_thr_ns, c_proc_ns, c_host_sd_ns;
	uint64_t c_model_sd, c_model_pp;
	uint64_t c_send, c_handler;
	char c_summary[256];
	/* a failure: what was measured, the PU that could not be pinned to
	 * (-1: another failure), or the model's own failure */
	char c_why[768];
	int c_bad_pu;
	bool c_model_failed;
};

/* the run's host PUs, and the host topology placed on them */
static void cal_pus(struct cal *c, const struct topo *t)
{
	for (unsigned i = 0; i < topo_ncpu(t) && c->c_npu < 256; i++) {
		int p = topo_cpu_host_pu(t, i);
		bool dup = false;
		for (unsigned j = 0; j < c->c_npu; j++)
			dup = dup || c->c_pus[j] == p;
		if (!dup)
			c->c_pus[c->c_npu++] = p;
	}
	c->c_host = topo_open(NULL, c->c_why, sizeof(c->c_why));
	char hostpl[1024];
	size_t o = (size_t)snprintf(hostpl, sizeof(hostpl), "list:");
	for (unsigned i = 0; i < c->c_npu && o < sizeof(hostpl); i++)
		o += (size_t)snprintf(hostpl + o, sizeof(hostpl) - o, "%s%d", i ? "," : "", c->c_pus[i]);
	if (c->c_host != NULL && topo_place(c->c_host, hostpl, c->c_npu, c->c_why, sizeof(c->c_why)) != 0) {
		topo_close(c->c_host);
		c->c_host = NULL;
	}
	json_t *jpus = json_array();
	for (unsigned i = 0; i < c->c_npu; i++)
		json_array_append_new(jpus, json_integer(c->c_pus[i]));
	json_object_set_new(c->c_doc, "host_pus", jpus);
}

/* The pairs' ping-pong; the floor is the fastest pair's median.  With more
 * pairs than --pairs, pair k of the i < j enumeration is measured for
 * k = m * npairs / nmeasured, m = 0..nmeasured-1: evenly spread, the same
 * every time, and the first (the two closest PUs) included.  The pinning
 * moves this thread: the caller gives it its affinity back.  0 or an errno. */
static int cal_pairs(struct cal *c)
{
	unsigned npu = c->c_npu, npairs = npu * (npu - 1) / 2;
	unsigned nmeasured = npairs < c->c_p->cp_max_pairs ? npairs : c->c_p->cp_max_pairs;
	if (!c->c_p->cp_quiet)
		fprintf(stderr, "pmapstorm calibrate: %u host PUs, %u pairs%s\n", npu, nmeasured,
		    nmeasured < npairs ? " (a sample; --pairs)" : "");
	json_t *pairs = json_array();
	unsigned k = 0, m = 0;
	for (unsigned i = 0; i < npu; i++)
		for (unsigned j = i + 1; j < npu; j++, k++) {
			if (m >= nmeasured || k != (unsigned)((uint64_t)m * npairs / nmeasured))
				continue;
			m++;
			uint64_t med = 0;
			int rc = pp_measure(c->c_pus[i], c->c_pus[j], c->c_p->cp_samples, &med, &c->c_bad_pu);
			if (rc != 0) {
				snprintf(c->c_why, sizeof(c->c_why), "ping-pong PU %d - PU %d", c->c_pus[i], c->c_pus[j]);
				json_decref(pairs);
				return rc;
			}
			unsigned hops = c->c_host ? topo_hops(c->c_host, i, j) : 0;
			json_array_append_new(pairs, json_pack("{s:i,s:i,s:I,s:i,s:s}", "a", c->c_pus[i], "b", c->c_pus[j],
			    "median_ns", (json_int_t)med, "hop_level", (int)hops, "level",
			    c->c_host ? topo_level_name(c->c_host, hops) : ""));
			if (c->c_floor_ns == 0 || med < c->c_floor_ns)
				c->c_floor_ns = med;
		}
	json_object_set_new(c->c_doc, "pingpong", json_pack("{s:o,s:I,s:i,s:i,s:i,s:i}", "pairs", pairs, "floor_ns",
	    (json_int_t)c->c_floor_ns, "batches", (int)c->c_p->cp_samples, "batch", PINGPONG_BATCH, "pairs_total",
	    (int)npairs, "pairs_measured", (int)nmeasured));
	return 0;
}

static void cal_timer(struct cal *c)
{
	timer_overhead(&c->c_model_clock, &c->c_mono_clock);
	json_object_set_new(c->c_doc, "timer_overhead_ns", json_pack("{s:f,s:f}", "cpu_now_ns", c->c_model_clock,
	    "clock_gettime_monotonic", c->c_mono_clock));
}

/* the host kernel's shootdown: tlb_flush2 as threads, then as processes; 0 or an errno */
static int cal_host_shootdown(struct cal *c)
{
	double seconds = c->c_p->cp_seconds;
	int rc;
	if ((rc = host_tlb_flush2(c->c_pus, c->c_npu, false, seconds, &c->c_thr_ns, NULL, &c->c_bad_pu)) != 0 ||
	    (rc = host_tlb_flush2(c->c_pus, c->c_npu, true, seconds, &c->c_proc_ns, NULL, &c->c_bad_pu)) != 0) {
		snprintf(c->c_why, sizeof(c->c_why), "tlb_flush2");
		return rc;
	}
	c->c_host_sd_ns = c->c_thr_ns > c->c_proc_ns ? c->c_thr_ns - c->c_proc_ns : 0;
	json_object_set_new(c->c_doc, "host_shootdown", json_pack("{s:i,s:f,s:f,s:f,s:f,s:s}", "tasks", (int)c->c_npu,
	    "threads_ns_per_madvise", c->c_thr_ns, "processes_ns_per_madvise", c->c_proc_ns, "shootdown_ns",
	    c->c_host_sd_ns, "seconds_per_mode", seconds, "method",
	    c->c_npu < 2 ? "one PU: no other CPU to shoot down, cost 0"
	                 : "will-it-scale tlb_flush2: touch + madvise(MADV_DONTNEED) of each task's page; "
	                   "threads of one process minus separate processes"));
	return 0;
}

/* the model, IPI costs at zero, on the run's first two CPUs; 0 or an errno */
static int cal_model(struct cal *c)
{
	struct machine_config mc = c->c_cfg;
	machine_config_set(&mc, "ipi.preset", "manual");
	machine_config_set(&mc, "ipi.send_ns", "0");
	machine_config_set(&mc, "ipi.handler_ns", "0");
	machine_config_set(&mc, "ipi.distance_ns", "0");
	/* the round trip the IPI costs complement is netbsd-x86's, whatever
	 * strategy the run's first point has: the loop times pmap_update(), and
	 * immediate shoots inside pmap_remove() (a run of every strategy
	 * calibrated on immediate's 100 ns "round trip"), a lazy one not at all */
	machine_config_set(&mc, "shootdown.strategy", CAL_MODEL_STRATEGY);
	int rc = microbench_shootdown(&mc, c->c_p->cp_rounds, &c->c_model_sd, &c->c_model_pp);
	if (rc != 0) {
		snprintf(c->c_why, sizeof(c->c_why), "the model's shootdown: %s", machine_errmsg());
		c->c_model_failed = true;
		return rc;
	}
	double x = c->c_floor_ns ? (double)c->c_model_sd / (double)c->c_floor_ns : 0;
	json_object_set_new(c->c_doc, "model", json_pack("{s:I,s:I,s:f,s:i,s:s}", "shootdown_rtt_ns",
	    (json_int_t)c->c_model_sd, "pingpong_rtt_ns", (json_int_t)c->c_model_pp, "shootdown_over_floor", x, "rounds",
	    (int)c->c_p->cp_rounds, "strategy", CAL_MODEL_STRATEGY));
	/* what the model lacks to cost what the host kernel pays, half sending, half handling */
	double host = c->c_host_sd_ns, model = (double)c->c_model_sd;
	uint64_t extra = host > model ? (uint64_t)(host - model) : 0;
	c->c_send = extra / 2;
	c->c_handler = extra - c->c_send;
	json_object_set_new(c->c_doc, "ipi", json_pack("{s:I,s:I,s:s}", "send_ns", (json_int_t)c->c_send, "handler_ns",
	    (json_int_t)c->c_handler, "rule",
	    "ipi.send_ns + ipi.handler_ns = host_shootdown.shootdown_ns - model.shootdown_rtt_ns (at least 0), "
	    "split in halves"));
	snprintf(c->c_summary, sizeof(c->c_summary),
	    "shootdown in the model = %.2f x the ping-pong floor; the host kernel's = %.2f us", x, host / 1000);
	json_object_set_new(c->c_doc, "summary", json_string(c->c_summary));
	return 0;
}

/* calibration.json to out; its folder made (the default lives in
 * results/, which a fresh checkout lacks): 0 or an errno */
static int cal_write(struct cal *c, const char *out)
{
	char dir[4096];
	if (path_join(dir, sizeof(dir), NULL, out) == 0) {
		char *slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			mkdir(dir, 0777);
		}
	}
	return atomicfile_write_json(out, c->c_doc);
}

static void cal_print(const struct cal *c, const char *out)
{
	printf("pmapstorm calibrate  (%u host PUs)\n", c->c_npu);
	printf("  %-40s %8lu ns\n", "cache-line ping-pong floor (fastest pair)", (unsigned long)c->c_floor_ns);
	printf("  %-40s %8.1f ns (CLOCK_MONOTONIC %.1f ns)\n", "timer overhead (cpu_now_ns)", c->c_model_clock,
	    c->c_mono_clock);
	printf("  %-40s %8.0f ns (threads %.0f, processes %.0f ns per madvise)\n", "host kernel shootdown",
	    c->c_host_sd_ns, c->c_thr_ns, c->c_proc_ns);
	printf("  %-40s %8lu ns (model ping-pong %lu ns)\n", "model shootdown round trip", (unsigned long)c->c_model_sd,
	    (unsigned long)c->c_model_pp);
	printf("  calibrated: ipi.send_ns = %lu, ipi.handler_ns = %lu\n", (unsigned long)c->c_send,
	    (unsigned long)c->c_handler);
	printf("%s\nwritten to %s\n", c->c_summary, out);
}

/* what a failed measuring step says */
static void cal_fail_msg(const struct cal *c, int rc)
{
	if (c->c_model_failed)
		msg_error("calibrate: %s", c->c_why);
	else if (c->c_bad_pu >= 0)
		msg_error("calibrate: %s: cannot pin a thread to host PU %d (%s)", c->c_why, c->c_bad_pu, strerror(rc));
	else
		msg_error("calibrate: %s: %s", c->c_why, strerror(rc));
}

int calibrate_measure(const struct machine_config *cfg, const char *out, const struct calibrate_params *cp)
{
	struct cal *c = mem_zalloc(struct cal, 1);
	if (c == NULL) {
		msg_error("calibrate: out of host memory");
		return ENOMEM;
	}
	c->c_p = cp;
	c->c_cfg = *cfg;
	c->c_bad_pu = -1;
	struct topo *t;
	int rc;
	if ((rc = exp_config_topo(&c->c_cfg, "calibrate", &t)) != 0) {
		free(c);
		return rc;
	}
	/* the model machine booted at the end must fit in memory: say so first */
	if ((rc = hostmem_check(&c->c_cfg, "calibrate")) != 0) {
		topo_close(t);
		free(c);
		return rc;
	}
	c->c_doc = json_object();
	json_object_set_new(c->c_doc, "provenance", provenance_json(&c->c_cfg));
	cal_pus(c, t);
	/* the pinning moves this thread: it gets its affinity back */
	cpu_set_t saved;
	bool restore = pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0;
	rc = cal_pairs(c);
	if (restore)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	if (rc == 0) {
		cal_timer(c);
		rc = cal_host_shootdown(c);
	}
	if (rc == 0)
		rc = cal_model(c);
	if (rc != 0) {
		cal_fail_msg(c, rc);
		/* every failure while measuring is the host's, even an EINVAL
		 * (from sched_setaffinity: a PU this process may not use) */
		rc = err_env(rc);
	} else if ((rc = cal_write(c, out)) == 0 && !cp->cp_quiet)
		cal_print(c, out);
	json_decref(c->c_doc);
	topo_close(c->c_host);
	topo_close(t);
	free(c);
	return rc;
}
