/*
 * metrics.c — the metric catalog (see metrics.h): one definition per
 * metric, in the order the report lists them.
 *
 * Sources of each figure: the counters and histograms the core declares
 * where it bumps them (pmap.update_cost and pmap.flushes in
 * core/pmap/pmap.c, shootdown.latency, .ack_latency and .coherence in
 * core/shootdown/shootdown.c, ipi.sent in core/machine/cpu.c, ...), summed
 * or merged over the CPUs of a role (stats_counter_set,
 * stats_hist_summarize_set) by the driver (driver.c, trial_metrics()).
 * Percentiles come from log-linear histograms (at most 6.25 % relative
 * error, the low edge of the bucket); maxima are exact.
 */
#include "trials/metrics.h"

#include <stdio.h>
#include <string.h>

#define ROLE MS_ROLE
#define TRIAL MS_TRIAL
#define CLASS MS_CLASS

const struct metric_def metric_defs[] = {
    /* ---- the role's throughput and what each of its completions costs ---- */
    {"ops_per_s", "ops/s", +1, ROLE, false, false,
        "operations the role's CPUs completed per second of the measured window (an operation is one call of "
        "the role's workload: a map/unmap cycle, a pool burst, a scan step...)",
        "the role has no CPU at this point"},
    {"update_cost_p50", "ns", -1, ROLE, false, false,
        "median time a completion costs the role's CPUs: every pmap_update() or page operation that completes "
        "synchronously, with the time inside the pmap's page operations since the previous completion "
        "(pmap.update_cost); paid whether or not anything was sent, so it compares across all strategies; "
        "over the completions timed, one in stats.update_sample drawn at random (by default every one in virtual "
        "time)",
        "the role completed nothing (its workload never calls the pmap), or none of its completions was timed"},
    {"update_cost_p99", "ns", -1, ROLE, false, false, "99th percentile of update_cost (see update_cost_p50)",
        "like update_cost_p50"},
    {"update_cost_per_op", "ns", -1, ROLE, false, false,
        "update_cost summed over the window, per operation of the role: what the pmap and the strategy take "
        "of each operation (the timed completions' mean times all the role's completions, pmap.completions)",
        "like update_cost_p50"},
    {"remote_latency_p50", "ns", -1, ROLE, false, false,
        "median time from the start of a request that reached at least one other CPU's TLB (by IPI, or by "
        "broadcast invalidation) to its completion there, for the role's requests (shootdown.latency; immediate "
        "makes one request per page)",
        "no request of the role reached another CPU (lazy updates, tracked with no other filler, one CPU)"},
    {"remote_latency_p99", "ns", -1, ROLE, false, false, "99th percentile of remote_latency (see remote_latency_p50)",
        "like remote_latency_p50"},
    {"remote_latency_max", "ns", -1, ROLE, false, false, "the longest remote request of the role", "like remote_latency_p50"},
    /* ---- why: the counters that explain a ranking ---- */
    {"ipis_per_update", "IPIs", -1, ROLE, true, true,
        "IPIs the role's CPUs sent as initiators (hier's fan-out by group leaders excluded: fanout_ipis_per_update), "
        "per completion that had invalidations (pmap.flushes); immediate with 8 pages and one target sends 8",
        "the role completed no invalidation"},
    {"ipis_per_op", "IPIs", -1, ROLE, true, true, "IPIs the role's CPUs sent as initiators, per operation of the role",
        "the role did no operation"},
    {"whole_flush_share", "ratio", 0, ROLE, true, true,
        "share of the role's requests that flushed a whole PCID or TLB instead of pages (shootdown.whole_flushes / "
        "shootdown.requests)",
        "the role made no request"},
    {"addrs_per_request", "pages", 0, ROLE, true, false, "invalidations per request of the role, mean (shootdown.addrs)",
        "the role made no request"},
    {"walks_per_op", "walks", -1, ROLE, true, true, "page-table walks on the role's CPUs per operation of the role",
        "the role did no operation"},
    {"tlb_hit_rate", "ratio", +1, ROLE, true, false, "TLB hits / (hits + misses) of the role's accesses",
        "the role made no access through the MMU"},
    {"ack_latency_p50", "ns", -1, TRIAL, false, true,
        "median time from a request's posting to its acknowledgement, measured by each target, over every "
        "acknowledged request of the trial (shootdown.ack_latency)",
        "nothing was acknowledged (lazy and broadcast strategies, one CPU)"},
    {"ack_latency_p99", "ns", -1, TRIAL, false, false, "99th percentile of ack_latency (see ack_latency_p50)",
        "like ack_latency_p50"},
    {"fanout_ipis_per_update", "IPIs", -1, TRIAL, true, true,
        "hier: IPIs group leaders sent to their groups, per completion that had invalidations (all roles)",
        "the strategy is not hier"},
    {"coherence_time_p50", "ns", -1, TRIAL, false, true,
        "lazy strategies: median time from a pmap_update() that left removed translations on a CPU to that "
        "CPU's sweep (shootdown.coherence)",
        "the strategy completes every update before it returns, or left nothing behind"},
    {"coherence_time_p99", "ns", -1, TRIAL, false, false, "99th percentile of coherence_time", "like coherence_time_p50"},
    {"coherence_time_max", "ns", -1, TRIAL, false, false,
        "the longest any removed translation outlived the pmap_update() that removed it", "like coherence_time_p50"},
    {"lazy_fallbacks_per_update", "ratio", -1, TRIAL, true, true,
        "lazy strategies: completions that met the pmap's lazy guard (a VA entered again, a page operation, a "
        "late removal: pmap.lazy_*), per pmap_update()",
        "the strategy is not lazy"},
    {"deferred_frees_per_s", "1/s", 0, TRIAL, false, true,
        "lazy strategies: frames held back per second until every CPU that may cache them swept "
        "(shootdown.deferred_frees)",
        "the strategy is not lazy"},
    {"lock_wait_share", "ratio", -1, CLASS, false, true,
        "time CPUs spent waiting for locks of the class, as a share of all CPU time in the window",
        "nobody took a lock of the class, or locks.lockstat = off"},
    /* ---- kernel memory: pool pages and the kernel shootdowns they cause ---- */
    {"poolpage_allocs_per_s", "1/s", 0, TRIAL, false, false,
        "pool pages allocated per second (uvm_km_alloc_poolpage: uvm.km.poolpage_allocs)",
        "no role uses pools or kernel memory"},
    {"poolpage_frees_per_s", "1/s", 0, TRIAL, false, false, "pool pages freed per second (uvm.km.poolpage_frees)",
        "like poolpage_allocs_per_s"},
    {"kernel_flushes_per_s", "1/s", 0, TRIAL, false, false,
        "completions per second that held kernel invalidations: the kernel shootdowns of freed pool pages and "
        "kernel memory (pmap.kernel_flushes)",
        "like poolpage_allocs_per_s"},
    {"kernel_update_cost_p50", "ns", -1, TRIAL, false, false,
        "median update_cost of the timed completions that held kernel invalidations (pmap.kernel_update_cost; "
        "one completion in stats.update_sample is timed)",
        "no kernel shootdown (kmem.poolpage = direct maps pool pages without any), or none of them was timed"},
    {"kernel_update_cost_p99", "ns", -1, TRIAL, false, false, "99th percentile of kernel_update_cost",
        "like kernel_update_cost_p50"},
    {"poolpage_alloc_latency_p50", "ns", -1, TRIAL, false, false,
        "median time of a pool page allocation, of one call in 16 drawn at random on each CPU "
        "(uvm.poolpage.latency)",
        "no pool page allocation in the window was timed (none was made, or none drawn)"},
    {"poolpage_alloc_latency_p99", "ns", -1, TRIAL, false, false, "99th percentile of poolpage_alloc_latency",
        "like poolpage_alloc_latency_p50"},
    {"km_alloc_latency_p50", "ns", -1, TRIAL, false, false,
        "median time of a uvm_km_alloc(), of one call in 16 drawn at random on each CPU (uvm.km_alloc.latency)",
        "no uvm_km_alloc() in the window was timed (none was made, or none drawn)"},
    {"km_alloc_latency_p99", "ns", -1, TRIAL, false, false, "99th percentile of km_alloc_latency",
        "like km_alloc_latency_p50"},
    {"errors", "count", -1, TRIAL, true, false,
        "violations the workloads' own checks, pmap_check(), tlb_check() and (check = on) the oracles found", NULL},
    {NULL, NULL, 0, 0, false, false, NULL, NULL},
};

bool metric_from_stats(const struct metric_def *md)
{
	return strcmp(md->md_name, "ops_per_s") != 0 && strcmp(md->md_name, "errors") != 0;
}

const char *metric_na(const struct metric_def *md, char *buf, size_t len)
{
	if (!metric_from_stats(md) || (md->md_na != NULL && !strncmp(md->md_na, "like ", 5)))
		return md->md_na;
	snprintf(buf, len, "%s%sstatistics are off (stats.enabled = off)", md->md_na ? md->md_na : "",
	    md->md_na ? "; or " : "");
	return buf;
}

const char *metric_scope_part(const char *name)
{
	const char *dot = strchr(name, '.');
	return dot != NULL ? dot + 1 : "";
}

const struct metric_def *metric_def_of(const char *name)
{
	size_t n = strcspn(name, ".");
	for (const struct metric_def *d = metric_defs; d->md_name != NULL; d++)
		if (strlen(d->md_name) == n && !strncmp(d->md_name, name, n) &&
		    (name[n] == '.') == (d->md_scope != MS_TRIAL))
			return d;
	return NULL;
}

const char *metric_unit_virtual(const char *unit)
{
	static const char *const map[][2] = {
		{"ns", "virtual ns"},
		{"ops/s", "ops/virtual s"},
		{"1/s", "1/virtual s"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(unit, map[i][0]))
			return map[i][1];
	return unit;
}
