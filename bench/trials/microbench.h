/*
 * microbench.h — the model's unit costs on one CPU pair, against the
 * physical floor measured in the same run (microbench.c says what each
 * figure is).  `pmapstorm microbench` prints them beside their targets;
 * calibrate uses the shootdown round trip alone.
 */
#ifndef PMAPSTORM_TRIALS_MICROBENCH_H
#define PMAPSTORM_TRIALS_MICROBENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <pmapstorm/lock.h>
#include <pmapstorm/machine.h>

#define MB_MAXALGO 16
#define MB_SCALE_MAX 3
#define MB_NSCALES 3
#define MB_ROUNDS 9 /* rounds of the fast figures: TLB hit and miss, lock pairs (best block) */
#define MB_TRIALS 5 /* trials of each driver figure: the driver's cost, scaling (best trial) */
/* core probes of a PU in the scaling rounds: every scaling trial's and the single-target trial's */
#define MB_SCALE_PROBES (MB_TRIALS * (MB_NSCALES * MB_SCALE_MAX + 1))
#define MB_CORE_SHARED 3.5 /* core probe cycles at which a round's core was shared (microbench.c, core_cycles) */

/* one lock algorithm's uncontended acquire+release pair, ns */
struct mb_lockcost {
	const char *name;
	double bare_ns, off_ns, on_ns; /* its library's own calls; the lock layer, lockstat off; on */
	double cs_bare_ns, cs_off_ns;  /* the same around a one-store critical section: bare; layer, lockstat off */
};

/* a pool-page mode's alloc+free pair */
struct mb_poolpage {
	double solo_ns;              /* one CPU, pair without touching the page */
	uint64_t dual_med, dual_p90; /* CPU 1 attached, page written: pair incl. shootdown */
};

/* a workload through the driver on 1, 2 (and N) CPUs */
struct mb_scale {
	const char *name;      /* json key */
	const char *label;
	const char *workload;
	bool private_pmap;
	const char *len;       /* munmap's len, or NULL */
	unsigned ncpu[MB_SCALE_MAX];
	double ops[MB_SCALE_MAX];
	double sd_p50[MB_SCALE_MAX]; /* update cost p50 (ns): a completion with the page operations before it */
	double rl_p50[MB_SCALE_MAX]; /* remote latency p50 (ns): the shootdowns alone (shootdown.latency) */
	double trial_ops[MB_SCALE_MAX][MB_TRIALS]; /* every trial's ops/s, round by round */
	unsigned n;
};

struct microbench_result {
	double hit_ns, miss_ns;                 /* TLB hit and miss (4-level walk) */
	/* the host core in each round of the fast figures: cycles per
	 * iteration of 8 independent operations (microbench.c, core_cycles);
	 * 0: not measured (core_why says why) */
	double core_cycles[MB_ROUNDS];
	const char *core_why;
	uint64_t sd_med, sd_p90, sd_min;        /* single-target shootdown round trip */
	uint64_t sd_lat_p50;                    /* the same loop's shootdown.latency p50 (remote latency) */
	unsigned sd_n;
	uint64_t pp_med, pp_min;                /* cache-line ping-pong round trip */
	unsigned pp_n;
	double ratio;                           /* sd_med / pp_med */
	double meta;                            /* page-table + TLB metadata / simulated memory */
	struct lockstat_row rows[3 * LC_NCLASS];/* lockstat of the pair's run: all CPUs, CPU 0, CPU 1 */
	struct mb_lockcost locks[MB_MAXALGO];
	unsigned nlocks;
	struct mb_poolpage pp_direct, pp_vacache;
	double pp_ratio;                        /* vacache / direct, two CPUs (medians) */
	double drv_on, drv_off;                 /* the driver: touch on one CPU, statistics on and off, ns/op */
	struct mb_scale scales[MB_NSCALES];     /* munmap private, munmap shared, touch private */
	double mutual;                          /* the shared munmap's remote latency p50 on 2 CPUs (both shoot) */
	double single;                          /* the same munmap on CPU 0 alone, CPU 1 running touch in its
	                                           pmap: remote latency p50 (the median trial) */
	double mutual_ratio;                    /* mutual / single */
	unsigned mutual_trials;                 /* the rounds both measured, of MB_TRIALS (the medians' count) */
	double mutual_update;                   /* its update cost p50 (page operations and lock waits included) */
	/* the host kernel under tlb_flush2's loop on the host PUs of CPUs 0
	 * and 1 (trials/tlbflush2.h), ops/s of 1 thread and of 2 threads of
	 * one process: the shared munmap's host counterpart; 0: not measured
	 * (virtual time, a PU that could not be pinned to: host_why) */
	double host_ops[2];
	/* the same loop in 1 and 2 processes (no shootdown: an address space
	 * each), ops/s: the private munmap's host counterpart; 0: not measured */
	double host_proc_ops[2];
	/* 1 and 2 threads loading at random from their own pages, no system
	 * call (host_mem_loop), ops/s: the private touch's host counterpart,
	 * how far two PUs that share nothing scale; 0: not measured */
	double host_loop_ops[2];
	/* the host cores of CPUs 0 and 1 (host PUs scale_pus, -1 when not
	 * used) just before every model trial of the scaling rounds, in the
	 * order the trials ran, one PU at a time: cycles per iteration as
	 * core_cycles; 0: not measured (scale_core_why says why) */
	double scale_core[2][MB_SCALE_PROBES];
	unsigned scale_nprobes;
	int scale_pus[2];
	char scale_core_why[128];
	double over_host;                       /* the shared munmap on 2 CPUs over host_ops[1] */
	char host_why[128];
};

/* Every figure, machine after machine (one at a time), for cfg
 * (machine.cpus >= 2; ipi.preset already applied).  0, or an errno after a
 * "microbench: ..." message: EINVAL when cfg does not boot or is too small
 * for the TLB-miss working set. */
int microbench_run(const struct machine_config *cfg, unsigned rounds, struct microbench_result *out);
/* The median of the n values that were measured (> 0; sorts v): a trial
 * that measured nothing (0: no remote request timed, or statistics off) is
 * left out, not counted as the fastest; 0 when none was. */
double microbench_median(double *v, unsigned n);
/* Two figures measured round by round, for a ratio of their medians: a
 * round that measured one but not the other counts for neither (both 0),
 * so the two medians are over the same rounds, whose number it returns. */
unsigned microbench_pair_measured(double *a, double *b, unsigned n);
/* scaling k CPUs over 1 CPU (0 when 1 CPU did nothing) */
double microbench_scale_ratio(const struct mb_scale *, unsigned k);
/* the core probe (core_cycles) on host PU pu, from a thread of its own
 * bound there: cycles per iteration; 0 when the thread cannot be bound or
 * the host is not x86-64 */
double microbench_core_on_pu(int pu);
/* core_cycles' best and worst round, and how many rounds took
 * MB_CORE_SHARED cycles or more (0, 0 and 0 when none was measured) */
unsigned microbench_core_summary(const double *cycles, unsigned n, double *best, double *worst);
/* a host figure's 2 tasks over 1 (host_ops, host_proc_ops, host_loop_ops); 0 when not measured */
double microbench_host_ratio(const double ops[2]);

/* The model's shootdown round trip and ping-pong on CPUs 0 and 1 of a
 * two-CPU machine made from cfg: medians, ns; 0 or an errno
 * (machine_errmsg() says why). */
int microbench_shootdown(const struct machine_config *cfg, unsigned rounds, uint64_t *sd_med, uint64_t *pp_med);
/* The mutual-shootdown figure's single-target counterpart, a point of 2 CPUs
 * for trial_run(): munmap (len 1) on CPU 0 (role "unmap") in a pmap that
 * CPU 1 has loaded while it runs touch (role "target"), so every update of
 * CPU 0 shoots CPU 1 and CPU 1 shoots nothing back; 0.05 s of warm-up,
 * 0.3 s measured (docs/performance.md, section 32) */
struct exp_point;
void microbench_single_point(const struct machine_config *cfg, struct exp_point *pt);

#endif
