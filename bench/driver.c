/*
 * driver.c — one trial: boot a machine, run the roles' workloads on their
 * CPUs for warm-up + duration, and measure.
 *
 * Phases, all CPUs together through a barrier that keeps taking IPIs:
 *   setup    role init (first CPU of each role), then per-CPU init;
 *   warm-up  operations, not counted;
 *   reset    CPU 0 zeroes every counter and histogram (all CPUs wait);
 *   measure  operations until the window closes; a monitor thread samples
 *            the 1-second series;
 *   snapshot CPU 0 copies every counter, histogram and lockstat row; every
 *            CPU runs tlb_check() and the first CPU of a role pmap_check();
 *   teardown per-CPU fini, role fini, pmaps destroyed.
 * CPUs in no role idle at interrupt points: they are attached, so kernel
 * shootdowns still target them, as idle CPUs in a real kernel.
 */
#include "driver.h"
#include "workload.h"

#include <pmapstorm/alloc.h>
#include <pmapstorm/shootdown.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OPS_BETWEEN_CLOCK_READS 32

struct drv_cpu {
	_Atomic uint64_t dc_ops __attribute__((aligned(64)));
	int dc_role; /* -1: idle */
	unsigned dc_index;
};

struct drv {
	const struct exp_point *d_pt;
	struct machine *d_m;
	unsigned d_ncpu;
	uint64_t d_seed;
	struct wl_role d_roles[EXP_MAX_ROLES];
	pmap_t d_named[EXP_MAX_ROLES];   /* pmaps named by role.X.pmap = NAME, by role index of first use */
	int d_role_first[EXP_MAX_ROLES]; /* the role's first CPU, -1 if it has none */
	struct drv_cpu *d_cpus;
	struct cpu_barrier d_bar;
	_Atomic int d_phase; /* 0 setup, 1 warm-up, 2 measure, 3 done */
	_Atomic int *d_stop;
	uint64_t d_t_measure0, d_t_measure1;
	struct trial_result *d_res;
	_Atomic unsigned d_errors;
	_Atomic unsigned d_checker_viol; /* d_errors also counted as oracle violations */
	/* the monitor */
	pthread_t d_mon;
	_Atomic bool d_mon_stop;
};

static void drv_barrier(struct drv *d)
{
	cpu_barrier_wait(&d->d_bar);
}

static void drv_loop(struct drv *d, struct wl_ctx *c, uint64_t until, bool count)
{
	struct drv_cpu *dc = &d->d_cpus[c->wc_cpu];
	const struct workload *w = c->wc_role->wr_wl;
	for (;;) {
		for (unsigned k = 0; k < OPS_BETWEEN_CLOCK_READS; k++) {
			w->wl_op(c);
			c->wc_ops++;
			cpu_intr_poll();
			/* a signal stops every CPU at its next interrupt point; relaxed:
			 * the flag carries no data, and one more op is harmless */
			if (atomic_load_explicit(d->d_stop, memory_order_relaxed))
				goto out;
		}
		if (count)
			atomic_store_explicit(&dc->dc_ops, c->wc_ops, memory_order_relaxed);
		if (cpu_now_ns() >= until)
			break;
	}
	return;
out:
	if (count)
		atomic_store_explicit(&dc->dc_ops, c->wc_ops, memory_order_relaxed);
}

static void drv_snapshot(struct drv *d)
{
	struct trial_result *r = d->d_res;
	for (unsigned i = 0; i < stats_ncounters(); i++)
		r->tr_counters[i] = stats_counter_total(stats_counter_at(i));
	const struct stats_hist *lat = stats_hist_find("shootdown.latency");
	if (lat != NULL) {
		struct stats_hist_summary ls;
		stats_hist_merged(lat, r->tr_lat_buckets);
		stats_hist_summarize(lat, -1, &ls);
		r->tr_lat_max_ns = (double)ls.hs_max;
	}
	lockstat_read(r->tr_lockstat, -1);
	const struct stats_hist *ah = stats_hist_find("shootdown.addrs");
	if (ah != NULL) {
		struct stats_hist_summary s;
		stats_hist_summarize(ah, -1, &s);
		r->tr_addrs_mean = s.hs_mean;
	}
	r->tr_ack_sum = mem_zalloc(uint64_t, (size_t)d->d_ncpu * d->d_ncpu);
	r->tr_ack_count = mem_zalloc(uint64_t, (size_t)d->d_ncpu * d->d_ncpu);
	for (unsigned i = 0; r->tr_ack_sum && r->tr_ack_count && i < d->d_ncpu; i++)
		for (unsigned t = 0; t < d->d_ncpu; t++)
			shootdown_ack_get(i, t, &r->tr_ack_sum[i * d->d_ncpu + t], &r->tr_ack_count[i * d->d_ncpu + t]);
	const struct stats_hist *akh = stats_hist_find("shootdown.ack_latency");
	if (akh != NULL) {
		struct stats_hist_summary s;
		stats_hist_summarize(akh, -1, &s);
		r->tr_ack_ns[0] = (double)s.hs_p50;
		r->tr_ack_ns[1] = (double)s.hs_p99;
	}
	const struct stats_hist *coh = stats_hist_find("shootdown.coherence");
	if (coh != NULL) {
		struct stats_hist_summary s;
		stats_hist_summarize(coh, -1, &s);
		r->tr_coh_n = s.hs_count;
		r->tr_coh_ns[0] = (double)s.hs_p50;
		r->tr_coh_ns[1] = (double)s.hs_p99;
		r->tr_coh_ns[2] = (double)s.hs_max;
	}
	static const char *const alloc_hists[2] = {"uvm.km_alloc.latency", "uvm.poolpage.latency"};
	for (int i = 0; i < 2; i++) {
		const struct stats_hist *h = stats_hist_find(alloc_hists[i]);
		struct stats_hist_summary s = {0};
		if (h != NULL)
			stats_hist_summarize(h, -1, &s);
		r->tr_alloc_ns[i][0] = (double)s.hs_p50;
		r->tr_alloc_ns[i][1] = (double)s.hs_p99;
	}
}

/* A quiescent checker's findings: an error, and a violation of its oracle when checks are on. */
static void drv_checker(struct drv *d, enum check_oracle o, int bad, const char *what)
{
	if (check_on(o)) {
		check_count(o, 1);
		if (bad != 0) {
			check_violation(o, 0, 0, "%s at the end of the trial found %d inconsistencies", what, bad);
			atomic_fetch_add(&d->d_checker_viol, 1);
		}
	}
	if (bad != 0)
		atomic_fetch_add(&d->d_errors, 1);
}

static void drv_cpu_main(unsigned cpu, void *arg)
{
	struct drv *d = arg;
	const struct exp_point *pt = d->d_pt;
	struct drv_cpu *dc = &d->d_cpus[cpu];
	struct wl_ctx c;
	memset(&c, 0, sizeof(c));
	c.wc_cpu = cpu;
	struct lwp *l = NULL;
	pmap_t own = NULL;
	struct wl_role *role = dc->dc_role >= 0 ? &d->d_roles[dc->dc_role] : NULL;
	bool first = role != NULL && d->d_role_first[dc->dc_role] == (int)cpu;
	bool failed = false;

	if (cpu == 0) {
		/* named pmaps, shared by every role that names them */
		for (unsigned i = 0; i < pt->ep_nroles; i++) {
			const char *n = pt->ep_roles[i].er_pmap;
			if (!strcmp(n, "shared") || !strcmp(n, "private"))
				continue;
			unsigned j = 0;
			while (j < i && strcmp(pt->ep_roles[j].er_pmap, n) != 0)
				j++;
			if (j == i)
				d->d_named[i] = pmap_create();
			d->d_roles[i].wr_pmap = d->d_named[j];
		}
	}
	drv_barrier(d);
	if (first) {
		if (!strcmp(pt->ep_roles[dc->dc_role].er_pmap, "shared"))
			role->wr_pmap = pmap_create();
		if (role->wr_wl->wl_role_init != NULL && role->wr_wl->wl_role_init(role) != 0)
			wl_error(role, "role init failed");
	}
	drv_barrier(d);
	if (role != NULL) {
		c.wc_role = role;
		c.wc_index = dc->dc_index;
		c.wc_pmap = role->wr_pmap != NULL ? role->wr_pmap : (own = pmap_create());
		c.wc_va = role->wr_va + ((vaddr_t)(dc->dc_index + 1) << 32);
		c.wc_rng.r_state = (d->d_seed ^ (0x9E3779B97F4A7C15ULL * (cpu + 1))) | 1;
		l = lwp_create(c.wc_pmap);
		lwp_switch(l);
		if (role->wr_wl->wl_init != NULL && role->wr_wl->wl_init(&c) != 0) {
			wl_error(role, "cpu%u: init failed", cpu);
			failed = true; /* idle from here: no operations, no fini */
		}
	}
	drv_barrier(d);
	uint64_t t0 = cpu_now_ns();
	uint64_t warm_end = t0 + (uint64_t)(pt->ep_warmup_s * 1e9);
	if (cpu == 0)
		atomic_store(&d->d_phase, 1);
	if (role != NULL && !failed)
		drv_loop(d, &c, warm_end, false);
	else
		while (cpu_now_ns() < warm_end && !atomic_load(d->d_stop))
			cpu_intr_poll();
	drv_barrier(d);
	if (cpu == 0) {
		stats_reset();
		shootdown_ack_reset();
		d->d_t_measure0 = cpu_now_ns();
		atomic_store(&d->d_phase, 2);
	}
	drv_barrier(d);
	uint64_t end = d->d_t_measure0 + (uint64_t)(pt->ep_duration_s * 1e9);
	uint64_t ops0 = c.wc_ops;
	c.wc_ops = 0;
	if (role != NULL && !failed)
		drv_loop(d, &c, end, true);
	else
		while (cpu_now_ns() < end && !atomic_load(d->d_stop))
			cpu_intr_poll();
	atomic_store(&dc->dc_ops, c.wc_ops);
	drv_barrier(d);
	if (cpu == 0) {
		d->d_t_measure1 = cpu_now_ns();
		atomic_store(&d->d_phase, 3);
		drv_snapshot(d);
	}
	drv_barrier(d);
	/* quiescent: the checkers (after the snapshot, so they cost nothing
	 * measured); with check.enabled they count as the update and counts
	 * oracles' checks */
	drv_checker(d, CHK_UPDATE, tlb_check(), "tlb_check()");
	if (first && role->wr_pmap != NULL)
		drv_checker(d, CHK_COUNTS, pmap_check(role->wr_pmap), "pmap_check()");
	if (own != NULL)
		drv_checker(d, CHK_COUNTS, pmap_check(own), "pmap_check()");
	drv_barrier(d);
	(void)ops0;
	if (role != NULL && !failed && role->wr_wl->wl_fini != NULL)
		role->wr_wl->wl_fini(&c);
	if (l != NULL) {
		lwp_switch(NULL);
		lwp_destroy(l);
	}
	if (own != NULL)
		pmap_destroy(own);
	drv_barrier(d);
	if (first) {
		if (role->wr_wl->wl_role_fini != NULL)
			role->wr_wl->wl_role_fini(role);
		if (role->wr_pmap != NULL && !strcmp(pt->ep_roles[dc->dc_role].er_pmap, "shared"))
			pmap_destroy(role->wr_pmap);
		role->wr_pmap = NULL;
	}
	drv_barrier(d);
	if (cpu == 0)
		for (unsigned i = 0; i < pt->ep_nroles; i++)
			if (d->d_named[i] != NULL)
				pmap_destroy(d->d_named[i]);
	drv_barrier(d);
}

/* The 1-second series: sampled by a host thread that is not a CPU. */
static void *drv_monitor(void *arg)
{
	struct drv *d = arg;
	struct trial_result *r = d->d_res;
	const struct stats_counter *sd = stats_counter_find("shootdown.remote_requests");
	/* pages allocated: uvm's count (the per-CPU page caches hide frames from phys.allocs) */
	const struct stats_counter *pa = stats_counter_find("uvm.page.allocs");
	if (pa == NULL)
		pa = stats_counter_find("phys.allocs");
	double interval = d->d_pt->ep_interval_s;
	uint64_t last_ops = 0, last_sd = 0, last_pa = 0;
	uint64_t next = 0, last_t = 0;
	while (!atomic_load(&d->d_mon_stop)) {
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
		if (atomic_load(&d->d_phase) != 2)
			continue;
		uint64_t now = cpu_now_ns();
		if (next == 0) {
			next = d->d_t_measure0 + (uint64_t)(interval * 1e9);
			last_t = d->d_t_measure0;
			continue;
		}
		if (now < next || r->tr_nintervals >= TRIAL_MAX_INTERVALS)
			continue;
		uint64_t ops = 0;
		for (unsigned c = 0; c < d->d_ncpu; c++)
			ops += atomic_load_explicit(&d->d_cpus[c].dc_ops, memory_order_relaxed);
		uint64_t s = sd ? stats_counter_total(sd) : 0, p = pa ? stats_counter_total(pa) : 0;
		/* rates over the time that really passed: a late sample (an
		 * oversubscribed host) must not count two intervals as one */
		double dt = (double)(now - last_t) / 1e9;
		last_t = now;
		struct interval_sample *is = &r->tr_intervals[r->tr_nintervals++];
		is->is_t = (double)(now - d->d_t_measure0) / 1e9;
		is->is_ops_per_s = (double)(ops - last_ops) / dt;
		is->is_shootdowns_per_s = (double)(s - last_sd) / dt;
		is->is_pages_per_s = (double)(p - last_pa) / dt;
		last_ops = ops;
		last_sd = s;
		last_pa = p;
		while (next <= now)
			next += (uint64_t)(interval * 1e9);
	}
	return NULL;
}

static void metric_add(struct trial_result *r, const char *name, const char *unit, int better, double v)
{
	if (r->tr_nmetrics == TRIAL_MAX_METRICS || !isfinite(v))
		return;
	r->tr_metrics[r->tr_nmetrics++] = (struct metric){name, unit, better, v, false};
}

/* A metric that counts events per event (no host time in it): its value
 * depends only on what the workloads did, so with a fixed seed and no
 * interleaving that matters it repeats exactly from trial to trial. */
static void metric_add_count(struct trial_result *r, const char *name, const char *unit, int better, double v)
{
	unsigned n = r->tr_nmetrics;
	metric_add(r, name, unit, better, v);
	if (r->tr_nmetrics > n)
		r->tr_metrics[n].m_count = true;
}

void trial_free(struct trial_result *r)
{
	free(r->tr_intervals);
	free(r->tr_ack_sum);
	free(r->tr_ack_count);
	r->tr_intervals = NULL;
	r->tr_ack_sum = r->tr_ack_count = NULL;
}

const struct metric *trial_metric(const struct trial_result *r, const char *name)
{
	for (unsigned i = 0; i < r->tr_nmetrics; i++)
		if (!strcmp(r->tr_metrics[i].m_name, name))
			return &r->tr_metrics[i];
	return NULL;
}

static uint64_t ctr(const struct trial_result *r, const char *name)
{
	const struct stats_counter *c = stats_counter_find(name);
	return c ? r->tr_counters[c->sc_index] : 0;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0;
}

/* percentile from merged buckets (the low edge of the bucket) */
static double bucket_pct(const uint64_t *b, double q)
{
	uint64_t total = 0, seen = 0;
	for (unsigned k = 0; k < STATS_HIST_BUCKETS; k++)
		total += b[k];
	if (total == 0)
		return 0;
	uint64_t want = (uint64_t)ceil(q * (double)total);
	if (want == 0)
		want = 1;
	for (unsigned k = 0; k < STATS_HIST_BUCKETS; k++) {
		seen += b[k];
		if (seen >= want)
			return (double)stats_hist_bucket_low(k);
	}
	return 0;
}

static void trial_metrics(struct drv *d)
{
	struct trial_result *r = d->d_res;
	const struct exp_point *pt = d->d_pt;
	double secs = r->tr_seconds;
	uint64_t ops = 0;
	for (unsigned c = 0; c < d->d_ncpu; c++) {
		r->tr_cpu_ops[c] = atomic_load(&d->d_cpus[c].dc_ops);
		ops += r->tr_cpu_ops[c];
		if (d->d_cpus[c].dc_role >= 0)
			r->tr_role_ops[d->d_cpus[c].dc_role] += r->tr_cpu_ops[c];
	}
	metric_add(r, "ops_per_s", "ops/s", +1, ops / secs);
	static char role_names[EXP_MAX_ROLES][EXP_NAMELEN + 16];
	for (unsigned i = 0; i < pt->ep_nroles; i++) {
		snprintf(role_names[i], sizeof(role_names[i]), "ops_per_s.%s", pt->ep_roles[i].er_name);
		metric_add(r, role_names[i], "ops/s", +1, r->tr_role_ops[i] / secs);
	}
	uint64_t req = ctr(r, "shootdown.requests"), remote = ctr(r, "shootdown.remote_requests");
	metric_add(r, "shootdowns_per_s", "1/s", 0, remote / secs);
	metric_add(r, "shootdown_latency_p50", "ns", -1, bucket_pct(r->tr_lat_buckets, 0.50));
	metric_add(r, "shootdown_latency_p90", "ns", -1, bucket_pct(r->tr_lat_buckets, 0.90));
	metric_add(r, "shootdown_latency_p99", "ns", -1, bucket_pct(r->tr_lat_buckets, 0.99));
	metric_add(r, "shootdown_latency_p999", "ns", -1, bucket_pct(r->tr_lat_buckets, 0.999));
	metric_add(r, "shootdown_latency_max", "ns", -1, r->tr_lat_max_ns);
	metric_add_count(r, "ipis_per_update", "IPIs", -1, ratio(ctr(r, "ipi.sent"), req));
	metric_add(r, "ack_latency_p50", "ns", -1, r->tr_ack_ns[0]);
	metric_add(r, "ack_latency_p99", "ns", -1, r->tr_ack_ns[1]);
	metric_add_count(r, "addrs_per_request", "pages", 0, r->tr_addrs_mean);
	metric_add(r, "km_alloc_latency_p50", "ns", -1, r->tr_alloc_ns[0][0]);
	metric_add(r, "km_alloc_latency_p99", "ns", -1, r->tr_alloc_ns[0][1]);
	metric_add(r, "poolpage_alloc_latency_p50", "ns", -1, r->tr_alloc_ns[1][0]);
	metric_add(r, "poolpage_alloc_latency_p99", "ns", -1, r->tr_alloc_ns[1][1]);
	metric_add_count(r, "whole_flush_ratio", "ratio", 0, ratio(ctr(r, "shootdown.whole_flushes"), req));
	uint64_t hits = ctr(r, "tlb.hits"), misses = ctr(r, "tlb.misses");
	metric_add_count(r, "tlb_hit_rate", "ratio", +1, ratio(hits, hits + misses));
	metric_add_count(r, "walks_per_op", "walks", -1, ratio(ctr(r, "mmu.walks"), ops));
	metric_add_count(r, "ipis_per_op", "IPIs", -1, ratio(ctr(r, "ipi.sent"), ops));
	/* lazy strategies only (elsewhere not applicable, so absent — not 0):
	 * how long removed translations outlived their pmap_update(), and how
	 * often the pmap's lazy guard had to complete lazy work at once */
	const struct shootdown_strategy *sd = shootdown_find(pt->ep_cfg.mc_strategy);
	if (sd != NULL && sd->sd_lazy) {
		if (r->tr_coh_n > 0) {
			metric_add(r, "coherence_time_p50", "ns", -1, r->tr_coh_ns[0]);
			metric_add(r, "coherence_time_p99", "ns", -1, r->tr_coh_ns[1]);
			metric_add(r, "coherence_time_max", "ns", -1, r->tr_coh_ns[2]);
		}
		uint64_t upd = ctr(r, "pmap.update");
		if (upd > 0)
			metric_add_count(r, "lazy_fallbacks_per_update", "ratio", -1,
			    ratio(ctr(r, "pmap.lazy_reuse") + ctr(r, "pmap.lazy_pageop") + ctr(r, "pmap.lazy_late"), upd));
	}
	/* the lock classes' share of CPU time spent waiting */
	static char lock_names[LC_NCLASS][48];
	double cpu_s = secs * d->d_ncpu;
	for (int c = 0; c < LC_NCLASS; c++) {
		if (r->tr_lockstat[c].lr_acquisitions == 0)
			continue;
		snprintf(lock_names[c], sizeof(lock_names[c]), "lock_wait_share.%s", r->tr_lockstat[c].lr_class);
		metric_add(r, lock_names[c], "ratio", -1, (double)r->tr_lockstat[c].lr_wait_total_ns / 1e9 / cpu_s);
	}
	metric_add_count(r, "errors", "count", -1, r->tr_errors);
}

int trial_run(const struct exp_point *pt, unsigned trial, uint64_t seed, struct trial_result *r, _Atomic int *stop)
{
	memset(r, 0, sizeof(*r));
	r->tr_point = pt->ep_index;
	r->tr_trial = trial;
	r->tr_seed = seed;
	struct machine *m = machine_boot(&pt->ep_cfg);
	if (m == NULL) {
		int err = errno;
		cli_error("run: point %u: %s", pt->ep_index, machine_errmsg());
		return err == EINVAL ? EXIT_USAGE : EXIT_ENV;
	}
	struct drv *d = mem_zalloc(struct drv, 1);
	if (d == NULL) {
		cli_error("run: out of host memory");
		machine_halt(m);
		return EXIT_ENV;
	}
	d->d_pt = pt;
	d->d_m = m;
	d->d_ncpu = pt->ep_cfg.mc_ncpu;
	cpu_barrier_init(&d->d_bar, d->d_ncpu);
	d->d_seed = seed;
	d->d_stop = stop;
	d->d_res = r;
	r->tr_ncpu = d->d_ncpu;
	r->tr_intervals = mem_zalloc(struct interval_sample, TRIAL_MAX_INTERVALS);
	d->d_cpus = mem_zalloc(struct drv_cpu, d->d_ncpu);
	if (r->tr_intervals == NULL || d->d_cpus == NULL) {
		cli_error("run: out of host memory");
		free(d->d_cpus);
		free(d);
		machine_halt(m);
		return EXIT_ENV;
	}
	for (unsigned c = 0; c < d->d_ncpu; c++)
		d->d_cpus[c].dc_role = -1;
	for (unsigned i = 0; i < pt->ep_nroles; i++) {
		const struct exp_role *er = &pt->ep_roles[i];
		struct wl_role *wr = &d->d_roles[i];
		wr->wr_name = er->er_name;
		wr->wr_wl = er->er_workload;
		wr->wr_role_index = i;
		wr->wr_va = (vaddr_t)(i + 1) << 40; /* 1 TiB per role */
		wr->wr_cfg = &pt->ep_cfg;
		wr->wr_optkeys = er->er_optkeys;
		wr->wr_optvals = er->er_optvals;
		wr->wr_nopts = er->er_nopts;
		wr->wr_seed = seed + i;
		d->d_role_first[i] = -1;
		uint64_t bits[MAXCPUS / 64];
		char why[256];
		exp_cpuset(er->er_cpus, d->d_ncpu, bits, MAXCPUS / 64, why, sizeof(why));
		for (unsigned c = 0; c < d->d_ncpu; c++)
			if (bits[c / 64] >> (c % 64) & 1) {
				d->d_cpus[c].dc_role = (int)i;
				d->d_cpus[c].dc_index = wr->wr_ncpu++;
				if (d->d_role_first[i] < 0)
					d->d_role_first[i] = (int)c;
			}
	}
	bool monitor = pthread_create(&d->d_mon, NULL, drv_monitor, d) == 0; /* without it: no timeline */
	int err = machine_run(m, d->d_ncpu, drv_cpu_main, d);
	atomic_store(&d->d_mon_stop, true);
	if (monitor)
		pthread_join(d->d_mon, NULL);
	if (err != 0) {
		cli_error("run: point %u trial %u: %s", pt->ep_index, trial, machine_errmsg());
		machine_halt(m);
		free(d->d_cpus);
		free(d);
		return EXIT_ENV;
	}
	r->tr_seconds = (double)(d->d_t_measure1 - d->d_t_measure0) / 1e9;
	for (unsigned i = 0; i < pt->ep_nroles; i++)
		r->tr_errors += atomic_load(&d->d_roles[i].wr_errors);
	r->tr_errors += atomic_load(&d->d_errors);
	/* the oracles (check.enabled): their counts; violations found on the
	 * TLB-hit path are errors of the trial too (the checkers' own are
	 * in d_errors already) */
	r->tr_check = pt->ep_cfg.mc_check;
	uint64_t viol = 0;
	for (int o = 0; r->tr_check && o < CHK_NORACLES; o++) {
		check_totals((enum check_oracle)o, &r->tr_check_counts[o][0], &r->tr_check_counts[o][1]);
		viol += r->tr_check_counts[o][1];
	}
	r->tr_errors += (unsigned)(viol - atomic_load(&d->d_checker_viol));
	trial_metrics(d);
	/* complete if the whole window was measured (a signal in teardown keeps it) */
	r->tr_done = r->tr_seconds >= pt->ep_duration_s * 0.99;
	machine_halt(m);
	free(d->d_cpus);
	free(d);
	return EXIT_OK;
}
