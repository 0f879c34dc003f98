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
#include "trials/driver.h"
#include "common/msg.h"
#include "common/symbol.h"
#include "trials/metrics.h"
#include "trials/workloads/workload.h"

#include <pmapstorm/alloc.h>
#include <pmapstorm/shootdown.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>

/* Operations between two clock reads: as many as the last batch's pace
 * fits in DRV_BATCH_NS, at most OPS_BETWEEN_CLOCK_READS (a clock read, 16
 * ns here, costs what a TLB miss does), at least one.  So after its first
 * batch, at a steady pace, a role overruns its window by about
 * DRV_BATCH_NS at most, or by one operation when its operations are slower
 * than that; and a batch the host stretched (a preemption) shortens only
 * the next one: until issue 17 one slow batch made every later batch one
 * operation long, and `touch` spent a quarter of its time reading the
 * clock (docs/performance.md, section 23). */
#define OPS_BETWEEN_CLOCK_READS 32
#define DRV_BATCH_NS 20000

/* the next batch's length after `batch` operations took `took` ns */
unsigned trial_batch_next(unsigned batch, uint64_t took)
{
	uint64_t fit = took > 0 ? (uint64_t)DRV_BATCH_NS * batch / took : OPS_BETWEEN_CLOCK_READS;
	return fit >= OPS_BETWEEN_CLOCK_READS ? OPS_BETWEEN_CLOCK_READS : fit == 0 ? 1 : (unsigned)fit;
}

struct drv_cpu {
	_Atomic uint64_t dc_ops __attribute__((aligned(64)));
	int dc_role; /* -1: idle */
	unsigned dc_index;
	struct rusage dc_ru0, dc_ru1; /* the thread's usage at the window's ends */
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
	uint64_t d_host0, d_host1; /* CLOCK_MONOTONIC at the window's ends (the engine's speed) */
	struct trial_result *d_res;
	_Atomic unsigned d_errors;
	_Atomic unsigned d_checker_viol; /* d_errors also counted as oracle violations */
	_Atomic int d_init_err;          /* the first workload set-up that failed: its errno (trial_run's) */
	/* the monitor: sleeps on d_mon_cv (CLOCK_MONOTONIC) until its next
	 * sample, or until d_mon_stop, set under d_mon_mu */
	pthread_t d_mon;
	pthread_mutex_t d_mon_mu;
	pthread_cond_t d_mon_cv;
	bool d_mon_stop;
	bool d_virtual;    /* machine.engine = virtual: CPU 0 samples the timeline itself */
	struct drv_mon *d_vmon;
};

static void drv_mon_step(struct drv *d, struct drv_mon *s, uint64_t now);

static void drv_barrier(struct drv *d)
{
	cpu_barrier_wait(&d->d_bar);
}

static void drv_loop(struct drv *d, struct wl_ctx *c, uint64_t until, bool count)
{
	struct drv_cpu *dc = &d->d_cpus[c->wc_cpu];
	const struct workload *w = c->wc_role->wr_wl;
	unsigned batch = OPS_BETWEEN_CLOCK_READS;
	uint64_t last = cpu_now_ns();
	for (;;) {
		for (unsigned k = 0; k < batch; k++) {
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
		uint64_t now = cpu_now_ns();
		if (d->d_vmon != NULL && c->wc_cpu == 0 && count)
			drv_mon_step(d, d->d_vmon, now);
		if (now >= until)
			break;
		batch = trial_batch_next(batch, now - last);
		last = now;
	}
	return;
out:
	if (count)
		atomic_store_explicit(&dc->dc_ops, c->wc_ops, memory_order_relaxed);
}

static void hist_set(const char *name, const uint64_t *cpus, struct stats_hist_summary *out, uint64_t *counts)
{
	const struct stats_hist *h = stats_hist_find(name);
	memset(out, 0, sizeof(*out));
	if (counts != NULL)
		memset(counts, 0, sizeof(uint64_t) * STATS_HIST_BUCKETS);
	if (h != NULL)
		stats_hist_summarize_set(h, cpus, cpus != NULL ? MAXCPUS / 64 : 0, out, counts);
}

/* => CPU 0, every other CPU waiting at the barrier after the window */
static void drv_snapshot(struct drv *d)
{
	struct trial_result *r = d->d_res;
	for (unsigned i = 0; i < stats_ncounters(); i++)
		r->tr_counters[i] = stats_counter_total(stats_counter_at(i));
	/* each role's CPUs: counters summed, histograms merged */
	for (unsigned i = 0; i < r->tr_nroles; i++) {
		struct role_result *ro = &r->tr_roles[i];
		for (unsigned k = 0; k < stats_ncounters(); k++)
			ro->ro_counters[k] = stats_counter_set(stats_counter_at(k), ro->ro_cpus, MAXCPUS / 64);
		hist_set("pmap.update_cost", ro->ro_cpus, &ro->ro_cost, ro->ro_cost_buckets);
		hist_set("shootdown.latency", ro->ro_cpus, &ro->ro_lat, NULL);
		hist_set("shootdown.addrs", ro->ro_cpus, &ro->ro_addrs, NULL);
	}
	hist_set("shootdown.ack_latency", NULL, &r->tr_ack, NULL);
	hist_set("shootdown.coherence", NULL, &r->tr_coherence, NULL);
	hist_set("pmap.kernel_update_cost", NULL, &r->tr_kcost, NULL);
	hist_set("uvm.km_alloc.latency", NULL, &r->tr_km_lat, NULL);
	hist_set("uvm.poolpage.latency", NULL, &r->tr_pp_lat, NULL);
	lockstat_read(r->tr_lockstat, -1);
	for (int c = 0; c < LC_NCLASS; c++)
		for (unsigned k = 0; k < r->tr_lockstat[c].lr_nsites; k++)
			symbol_name(r->tr_lockstat[c].lr_sites[k].ls_pc, r->tr_sites[c][k], sizeof(r->tr_sites[c][k]));
	r->tr_ack_sum = mem_zalloc(uint64_t, (size_t)d->d_ncpu * d->d_ncpu);
	r->tr_ack_count = mem_zalloc(uint64_t, (size_t)d->d_ncpu * d->d_ncpu);
	for (unsigned i = 0; r->tr_ack_sum && r->tr_ack_count && i < d->d_ncpu; i++)
		for (unsigned t = 0; t < d->d_ncpu; t++)
			shootdown_ack_get(i, t, &r->tr_ack_sum[i * d->d_ncpu + t], &r->tr_ack_count[i * d->d_ncpu + t]);
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

/* A workload could not set up (wl_role_init, or wl_init on cpu >= 0): not a
 * violation the run found but a trial that could not run — bad options the
 * workload checks itself (EINVAL: exit 2) or no host memory (ENOMEM: exit
 * 3).  The role's CPUs idle; trial_run() returns the first such error. */
static void drv_init_failed(struct drv *d, struct wl_role *role, int cpu, int err)
{
	int none = 0;
	atomic_compare_exchange_strong(&d->d_init_err, &none, err);
	if (cpu < 0)
		msg_error("run: workload %s (role %s) could not set up: %s", role->wr_wl->wl_name, role->wr_name,
		    strerror(err));
	else
		msg_error("run: workload %s (role %s) could not set up on cpu%d: %s", role->wr_wl->wl_name, role->wr_name,
		    cpu, strerror(err));
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
		int e = role->wr_wl->wl_role_init != NULL ? role->wr_wl->wl_role_init(role) : 0;
		if (e != 0) {
			drv_init_failed(d, role, -1, e);
			role->wr_failed = true; /* its CPUs run nothing: the role's state is not there */
		}
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
		int e = 0;
		if (role->wr_failed)
			failed = true;
		else if (role->wr_wl->wl_init != NULL && (e = role->wr_wl->wl_init(&c)) != 0) {
			drv_init_failed(d, role, (int)cpu, e);
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
		lockstat_sites_reset();
		shootdown_ack_reset();
		d->d_t_measure0 = cpu_now_ns();
		d->d_host0 = trial_host_ns();
		atomic_store(&d->d_phase, 2);
	}
	drv_barrier(d);
	uint64_t end = d->d_t_measure0 + (uint64_t)(pt->ep_duration_s * 1e9);
	uint64_t ops0 = c.wc_ops;
	c.wc_ops = 0;
	getrusage(RUSAGE_THREAD, &dc->dc_ru0);
	if (role != NULL && !failed)
		drv_loop(d, &c, end, true);
	else
		while (cpu_now_ns() < end && !atomic_load(d->d_stop)) {
			cpu_intr_poll();
			if (d->d_vmon != NULL && cpu == 0)
				drv_mon_step(d, d->d_vmon, cpu_now_ns());
		}
	atomic_store(&dc->dc_ops, c.wc_ops);
	getrusage(RUSAGE_THREAD, &dc->dc_ru1);
	drv_barrier(d);
	if (cpu == 0) {
		d->d_t_measure1 = cpu_now_ns();
		d->d_host1 = trial_host_ns();
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

/* The timeline: sampled every experiment.interval (it reads counters and
 * operation counts; it takes no simulated lock).  With threads, by a host
 * thread that is not a CPU; with machine.engine = virtual, by CPU 0 in its
 * own loop, at virtual times (a host thread's samples would fall wherever
 * the host put them). */
struct drv_mon {
	const struct stats_counter *fl, *kfl, *ppa, *ppf;
	uint64_t last_ops[EXP_MAX_ROLES], last_fl, last_kfl, last_pp;
	uint64_t next, last_t;
};

static void drv_mon_init(struct drv_mon *s)
{
	memset(s, 0, sizeof(*s));
	s->fl = stats_counter_find("pmap.flushes");
	s->kfl = stats_counter_find("pmap.kernel_flushes");
	s->ppa = stats_counter_find("uvm.km.poolpage_allocs");
	s->ppf = stats_counter_find("uvm.km.poolpage_frees");
}

static void drv_mon_step(struct drv *d, struct drv_mon *s, uint64_t now)
{
	struct trial_result *r = d->d_res;
	const struct stats_counter *fl = s->fl, *kfl = s->kfl, *ppa = s->ppa, *ppf = s->ppf;
	double interval = d->d_pt->ep_interval_s;
	uint64_t *last_ops = s->last_ops, last_fl = s->last_fl, last_kfl = s->last_kfl, last_pp = s->last_pp;
	uint64_t next = s->next, last_t = s->last_t;
	if (atomic_load(&d->d_phase) != 2)
		return;
	if (next == 0) {
		s->next = d->d_t_measure0 + (uint64_t)(interval * 1e9);
		s->last_t = d->d_t_measure0;
		return;
	}
	if (now < next || r->tr_nintervals >= TRIAL_MAX_INTERVALS)
		return;
	/* past the window: the CPUs are finishing their last operation */
	if (next > d->d_t_measure0 + (uint64_t)(d->d_pt->ep_duration_s * 1e9) + 1000)
		return;
	{
		uint64_t ops[EXP_MAX_ROLES] = {0};
		for (unsigned c = 0; c < d->d_ncpu; c++)
			if (d->d_cpus[c].dc_role >= 0)
				ops[d->d_cpus[c].dc_role] += atomic_load_explicit(&d->d_cpus[c].dc_ops, memory_order_relaxed);
		uint64_t f = fl ? stats_counter_total(fl) : 0, k = kfl ? stats_counter_total(kfl) : 0,
			 pp = (ppa ? stats_counter_total(ppa) : 0) + (ppf ? stats_counter_total(ppf) : 0);
		/* rates over the time that really passed: a late sample (an
		 * oversubscribed host) is not a burst */
		double dt = (double)(now - last_t) / 1e9;
		struct interval_sample *is = &r->tr_intervals[r->tr_nintervals++];
		is->is_t = (double)(now - d->d_t_measure0) / 1e9;
		for (unsigned i = 0; i < d->d_pt->ep_nroles; i++) {
			is->is_role_ops_per_s[i] = (double)(ops[i] - last_ops[i]) / dt;
			last_ops[i] = ops[i];
		}
		/* the counters' rates; statistics off: nothing counted, so NaN
		 * (null in run.json, no row in timeline.csv), not 0 */
		const bool counted = d->d_pt->ep_cfg.mc_stats;
		is->is_flushes_per_s = counted ? (double)(f - last_fl) / dt : NAN;
		is->is_kernel_flushes_per_s = counted ? (double)(k - last_kfl) / dt : NAN;
		is->is_poolpages_per_s = counted ? (double)(pp - last_pp) / dt : NAN;
		last_fl = f;
		last_kfl = k;
		last_pp = pp;
		last_t = now;
		while (next <= now)
			next += (uint64_t)(interval * 1e9);
	}
	s->last_fl = last_fl;
	s->last_kfl = last_kfl;
	s->last_pp = last_pp;
	s->last_t = last_t;
	s->next = next;
}

/* Until the window opens, and once it has closed, the monitor naps a tenth
 * of the interval (at most 20 ms); inside the window it sleeps until its
 * next sample.  It used to nap inside the window too, so that on a host
 * with no free PU it preempted a CPU thread about fifty times a second at
 * the default interval (docs/performance.md, section 19); now it wakes
 * once per sample. */
static void *drv_monitor(void *arg)
{
	struct drv *d = arg;
	struct drv_mon s;
	drv_mon_init(&s);
	const double interval = d->d_pt->ep_interval_s;
	const uint64_t nap = (uint64_t)(interval * 1e8) < 20000000 ? (uint64_t)(interval * 1e8) : 20000000;
	pthread_mutex_lock(&d->d_mon_mu);
	while (!d->d_mon_stop) {
		pthread_mutex_unlock(&d->d_mon_mu);
		uint64_t now = cpu_now_ns(), wait = nap;
		const bool in_window = atomic_load(&d->d_phase) == 2;
		if (in_window) {
			const uint64_t before = s.next;
			drv_mon_step(d, &s, now);
			/* the step set or moved the next sample: sleep until it.
			 * A sample it declined leaves next behind now: with the
			 * series full, sleep until the window closes; past the
			 * window (the CPUs finish their last operation), nap */
			const uint64_t end = d->d_t_measure0 + (uint64_t)(d->d_pt->ep_duration_s * 1e9);
			if (s.next > now && (s.next != before || before > now)) {
				/* the sleep is on CLOCK_MONOTONIC, the sample's time
				 * on cpu_now_ns() (the TSC, calibrated against it):
				 * a little over (1/64, at most 2 ms, and 50 us), so
				 * that a calibration a little off does not wake it
				 * early again and again (a late sample is still its
				 * interval's: rates divide by the time that really
				 * passed) */
				wait = s.next - now;
				wait += (wait / 64 < 2000000 ? wait / 64 : 2000000) + 50000;
				d->d_res->tr_monitor_waits++;
			} else if (now < end) {
				wait = end - now;
			}
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		const uint64_t ns = (uint64_t)ts.tv_nsec + wait;
		ts.tv_sec += (time_t)(ns / 1000000000ULL);
		ts.tv_nsec = (long)(ns % 1000000000ULL);
		pthread_mutex_lock(&d->d_mon_mu);
		if (!d->d_mon_stop)
			pthread_cond_timedwait(&d->d_mon_cv, &d->d_mon_mu, &ts);
	}
	pthread_mutex_unlock(&d->d_mon_mu);
	return NULL;
}

static int drv_monitor_start(struct drv *d)
{
	pthread_condattr_t a;
	if (pthread_condattr_init(&a) != 0)
		return -1;
	int err = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (err == 0)
		err = pthread_cond_init(&d->d_mon_cv, &a);
	pthread_condattr_destroy(&a);
	if (err != 0)
		return -1;
	d->d_mon_stop = false;
	if (pthread_mutex_init(&d->d_mon_mu, NULL) != 0) {
		pthread_cond_destroy(&d->d_mon_cv);
		return -1;
	}
	if (pthread_create(&d->d_mon, NULL, drv_monitor, d) != 0) {
		pthread_mutex_destroy(&d->d_mon_mu);
		pthread_cond_destroy(&d->d_mon_cv);
		return -1;
	}
	return 0;
}

static void drv_monitor_stop(struct drv *d)
{
	pthread_mutex_lock(&d->d_mon_mu);
	d->d_mon_stop = true;
	pthread_cond_signal(&d->d_mon_cv);
	pthread_mutex_unlock(&d->d_mon_mu);
	pthread_join(d->d_mon, NULL);
	pthread_mutex_destroy(&d->d_mon_mu);
	pthread_cond_destroy(&d->d_mon_cv);
}

/* A metric of the catalog (metrics.c), for the trial or for one role or
 * lock class (scope: the role's or class's name, or NULL).  Not finite
 * (a ratio of nothing): not applicable, so absent. */
static void metric_put(struct trial_result *r, const char *base, const char *scope, double v)
{
	const struct metric_def *md = NULL;
	for (const struct metric_def *k = metric_defs; k->md_name != NULL && md == NULL; k++)
		if (!strcmp(k->md_name, base))
			md = k;
	/* statistics off: a counter or histogram read 0 because nothing
	 * counted, so the metric is absent, not 0 */
	if (md == NULL || r->tr_nmetrics == TRIAL_MAX_METRICS || !isfinite(v) || (!r->tr_stats && metric_from_stats(md)))
		return;
	struct metric *m = &r->tr_metrics[r->tr_nmetrics++];
	if (scope != NULL)
		snprintf(m->m_name, sizeof(m->m_name), "%s.%s", base, scope);
	else
		snprintf(m->m_name, sizeof(m->m_name), "%s", base);
	m->m_unit = r->tr_virtual ? metric_unit_virtual(md->md_unit) : md->md_unit;
	m->m_better = md->md_better;
	m->m_value = v;
	m->m_count = md->md_count;
}

void trial_free(struct trial_result *r)
{
	free(r->tr_intervals);
	free(r->tr_ack_sum);
	free(r->tr_ack_count);
	for (unsigned i = 0; i < EXP_MAX_ROLES; i++) {
		free(r->tr_roles[i].ro_cost_buckets);
		r->tr_roles[i].ro_cost_buckets = NULL;
	}
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

static uint64_t ctr_of(const uint64_t *counters, const char *name)
{
	const struct stats_counter *c = stats_counter_find(name);
	return c ? counters[c->sc_index] : 0;
}

static uint64_t ctr(const struct trial_result *r, const char *name)
{
	return ctr_of(r->tr_counters, name);
}

/* a / b, or NaN (not applicable: absent) when there is nothing to divide by */
static double per(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : NAN;
}

/* exact when every completion was timed (the sum itself) */
double trial_cost_per_op(uint64_t timed_sum, uint64_t timed, uint64_t completions, uint64_t ops)
{
	if (timed == 0 || ops == 0 || completions < timed)
		return NAN; /* nothing timed, or counts that do not fit together */
	double sum = timed == completions ? (double)timed_sum : (double)timed_sum / (double)timed * (double)completions;
	return sum / (double)ops;
}

/* a histogram percentile, or NaN when it holds no sample */
static double pct(const struct stats_hist_summary *h, uint64_t v)
{
	return h->hs_count ? (double)v : NAN;
}

/* Every metric of the catalog that applies, from the snapshot (metrics.c
 * defines each in words; the order here follows it). */
static void trial_metrics(struct drv *d)
{
	struct trial_result *r = d->d_res;
	const struct exp_point *pt = d->d_pt;
	double secs = r->tr_seconds;
	const struct shootdown_strategy *sd = shootdown_find(pt->ep_cfg.mc_strategy);
	bool lazy = sd != NULL && sd->sd_lazy, hier = sd != NULL && !strcmp(sd->sd_name, "hier");
	for (unsigned c = 0; c < d->d_ncpu; c++) {
		r->tr_cpu_ops[c] = atomic_load(&d->d_cpus[c].dc_ops);
		if (d->d_cpus[c].dc_role >= 0)
			r->tr_roles[d->d_cpus[c].dc_role].ro_ops += r->tr_cpu_ops[c];
	}
	for (unsigned i = 0; i < r->tr_nroles; i++) {
		struct role_result *ro = &r->tr_roles[i];
		const char *name = pt->ep_roles[i].er_name;
		if (ro->ro_ncpu == 0)
			continue; /* an empty role at this point: nothing applies */
		const uint64_t *k = ro->ro_counters;
		uint64_t ops = ro->ro_ops, flushes = ctr_of(k, "pmap.flushes"), req = ctr_of(k, "shootdown.requests");
		uint64_t ipis = ctr_of(k, "ipi.sent") - ctr_of(k, "shootdown.hier.fanout_ipis");
		uint64_t hits = ctr_of(k, "tlb.hits"), misses = ctr_of(k, "tlb.misses");
		metric_put(r, "ops_per_s", name, ops / secs);
		metric_put(r, "update_cost_p50", name, pct(&ro->ro_cost, ro->ro_cost.hs_p50));
		metric_put(r, "update_cost_p99", name, pct(&ro->ro_cost, ro->ro_cost.hs_p99));
		metric_put(r, "update_cost_per_op", name,
		    trial_cost_per_op(ro->ro_cost.hs_sum, ro->ro_cost.hs_count, ctr_of(k, "pmap.completions"), ops));
		metric_put(r, "remote_latency_p50", name, pct(&ro->ro_lat, ro->ro_lat.hs_p50));
		metric_put(r, "remote_latency_p99", name, pct(&ro->ro_lat, ro->ro_lat.hs_p99));
		metric_put(r, "remote_latency_max", name, pct(&ro->ro_lat, ro->ro_lat.hs_max));
		metric_put(r, "ipis_per_update", name, per(ipis, flushes));
		metric_put(r, "ipis_per_op", name, per(ipis, ops));
		metric_put(r, "whole_flush_share", name, per(ctr_of(k, "shootdown.whole_flushes"), req));
		metric_put(r, "addrs_per_request", name, ro->ro_addrs.hs_count ? ro->ro_addrs.hs_mean : NAN);
		metric_put(r, "walks_per_op", name, per(ctr_of(k, "mmu.walks"), ops));
		metric_put(r, "tlb_hit_rate", name, per(hits, hits + misses));
	}
	metric_put(r, "ack_latency_p50", NULL, pct(&r->tr_ack, r->tr_ack.hs_p50));
	metric_put(r, "ack_latency_p99", NULL, pct(&r->tr_ack, r->tr_ack.hs_p99));
	if (hier)
		metric_put(r, "fanout_ipis_per_update", NULL,
		    per(ctr(r, "shootdown.hier.fanout_ipis"), ctr(r, "pmap.flushes")));
	if (lazy) {
		metric_put(r, "coherence_time_p50", NULL, pct(&r->tr_coherence, r->tr_coherence.hs_p50));
		metric_put(r, "coherence_time_p99", NULL, pct(&r->tr_coherence, r->tr_coherence.hs_p99));
		metric_put(r, "coherence_time_max", NULL, pct(&r->tr_coherence, r->tr_coherence.hs_max));
		metric_put(r, "lazy_fallbacks_per_update", NULL,
		    per(ctr(r, "pmap.lazy_reuse") + ctr(r, "pmap.lazy_pageop") + ctr(r, "pmap.lazy_late"),
		        ctr(r, "pmap.update")));
		metric_put(r, "deferred_frees_per_s", NULL, ctr(r, "shootdown.deferred_frees") / secs);
	}
	/* the lock classes' share of CPU time spent waiting (classes nobody took: absent) */
	double cpu_s = secs * d->d_ncpu;
	for (int c = 0; c < LC_NCLASS; c++)
		if (r->tr_lockstat[c].lr_acquisitions != 0)
			metric_put(r, "lock_wait_share", r->tr_lockstat[c].lr_class,
			    (double)r->tr_lockstat[c].lr_wait_total_ns / 1e9 / cpu_s);
	/* kernel memory: applies when some role's workload uses it */
	bool kmem = false;
	for (unsigned i = 0; i < pt->ep_nroles; i++)
		kmem |= r->tr_roles[i].ro_ncpu > 0 && pt->ep_roles[i].er_workload->wl_kmem;
	if (kmem) {
		metric_put(r, "poolpage_allocs_per_s", NULL, ctr(r, "uvm.km.poolpage_allocs") / secs);
		metric_put(r, "poolpage_frees_per_s", NULL, ctr(r, "uvm.km.poolpage_frees") / secs);
		metric_put(r, "kernel_flushes_per_s", NULL, ctr(r, "pmap.kernel_flushes") / secs);
	}
	metric_put(r, "kernel_update_cost_p50", NULL, pct(&r->tr_kcost, r->tr_kcost.hs_p50));
	metric_put(r, "kernel_update_cost_p99", NULL, pct(&r->tr_kcost, r->tr_kcost.hs_p99));
	metric_put(r, "poolpage_alloc_latency_p50", NULL, pct(&r->tr_pp_lat, r->tr_pp_lat.hs_p50));
	metric_put(r, "poolpage_alloc_latency_p99", NULL, pct(&r->tr_pp_lat, r->tr_pp_lat.hs_p99));
	metric_put(r, "km_alloc_latency_p50", NULL, pct(&r->tr_km_lat, r->tr_km_lat.hs_p50));
	metric_put(r, "km_alloc_latency_p99", NULL, pct(&r->tr_km_lat, r->tr_km_lat.hs_p99));
	metric_put(r, "errors", NULL, r->tr_errors);
	/* the host under the trial */
	for (unsigned c = 0; c < d->d_ncpu; c++) {
		const struct rusage *a = &d->d_cpus[c].dc_ru0, *b = &d->d_cpus[c].dc_ru1;
		r->tr_host_usr_s += (double)(b->ru_utime.tv_sec - a->ru_utime.tv_sec) +
		    (double)(b->ru_utime.tv_usec - a->ru_utime.tv_usec) / 1e6;
		r->tr_host_sys_s += (double)(b->ru_stime.tv_sec - a->ru_stime.tv_sec) +
		    (double)(b->ru_stime.tv_usec - a->ru_stime.tv_usec) / 1e6;
		r->tr_host_nivcsw += (uint64_t)(b->ru_nivcsw - a->ru_nivcsw);
		r->tr_host_nvcsw += (uint64_t)(b->ru_nvcsw - a->ru_nvcsw);
	}
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
		msg_error("run: point %u: %s", pt->ep_index, machine_errmsg());
		return err == EINVAL ? EINVAL : err_env(err);
	}
	struct drv *d = mem_zalloc(struct drv, 1);
	if (d == NULL) {
		msg_error("run: out of host memory");
		machine_halt(m);
		return ENOMEM;
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
		msg_error("run: out of host memory");
		free(d->d_cpus);
		free(d);
		machine_halt(m);
		return ENOMEM;
	}
	for (unsigned c = 0; c < d->d_ncpu; c++)
		d->d_cpus[c].dc_role = -1;
	struct utsname un;
	snprintf(r->tr_host, sizeof(r->tr_host), "%.63s", uname(&un) == 0 ? un.nodename : "unknown");
	r->tr_nroles = pt->ep_nroles;
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
		struct role_result *ro = &r->tr_roles[i];
		for (unsigned c = 0; c < d->d_ncpu; c++)
			if (bits[c / 64] >> (c % 64) & 1) {
				d->d_cpus[c].dc_role = (int)i;
				d->d_cpus[c].dc_index = wr->wr_ncpu++;
				ro->ro_cpus[c / 64] |= 1ULL << (c % 64);
				if (d->d_role_first[i] < 0)
					d->d_role_first[i] = (int)c;
			}
		ro->ro_ncpu = wr->wr_ncpu;
		if ((ro->ro_cost_buckets = mem_zalloc(uint64_t, STATS_HIST_BUCKETS)) == NULL) {
			msg_error("run: out of host memory");
			trial_free(r);
			free(d->d_cpus);
			free(d);
			machine_halt(m);
			return ENOMEM;
		}
	}
	struct drv_mon vmon;
	d->d_virtual = r->tr_virtual = pt->ep_cfg.mc_engine == MACHINE_ENGINE_VIRTUAL;
	r->tr_stats = pt->ep_cfg.mc_stats;
	if (d->d_virtual) {
		drv_mon_init(&vmon);
		d->d_vmon = &vmon;
	}
	/* without it: no timeline */
	bool monitor = !d->d_virtual && drv_monitor_start(d) == 0;
	int err = machine_run(m, d->d_ncpu, drv_cpu_main, d);
	if (monitor)
		drv_monitor_stop(d);
	/* the machine failed, or a workload could not set up (drv_init_failed) */
	int rc = err != 0 ? err_env(err) : atomic_load(&d->d_init_err);
	if (rc != 0) {
		msg_error("run: point %u trial %u: %s", pt->ep_index, trial,
		    err != 0 ? machine_errmsg() : "a workload could not set up");
		machine_halt(m);
		free(d->d_cpus);
		free(d);
		return rc;
	}
	r->tr_seconds = (double)(d->d_t_measure1 - d->d_t_measure0) / 1e9;
	r->tr_host_wall_s = (double)(d->d_host1 - d->d_host0) / 1e9;
	for (unsigned i = 0; i < pt->ep_nroles; i++)
		r->tr_errors += atomic_load(&d->d_roles[i].wr_errors);
	r->tr_errors += atomic_load(&d->d_errors);
	/* the oracles (check.enabled): their counts; violations found on the
	 * TLB-hit path are errors of the trial too (the checkers' own are
	 * in d_errors already) */
	r->tr_check = check_config_enabled(&pt->ep_cfg);
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
	return 0;
}
