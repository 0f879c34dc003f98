/*
 * lockstat.c — the lock_stat-style table, as text, CSV and JSON.
 *
 * Columns follow Linux lock_stat (/proc/lock_stat: class name, contentions,
 * waittime-min/max/total/avg, acquisitions, holdtime-...) with NetBSD
 * lockstat(8)'s per-algorithm view added: one row per lock class, with the
 * algorithm it ran.  Hold times are over the sampled acquisitions (one in
 * locks.hold_sample, at random: core/sync/lock.c); a class with no timed
 * hold has none to show — "-" in the text, an empty CSV field, null in
 * JSON — not a hold of 0.
 */
#include "record/lockstat.h"
#include "common/atomicfile.h"
#include "common/msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void lockstat_print_text(FILE *f, const struct lockstat_row *r, unsigned n)
{
	fprintf(f, "%-11s %-16s %12s %11s %9s %12s %9s %9s %9s %9s %6s\n", "class", "algorithm", "acquisitions",
	    "contentions", "bounces", "wait-total", "wait-avg", "wait-max", "hold-avg", "hold-max", "queue");
	for (unsigned i = 0; i < n; i++, r++) {
		if (r->lr_acquisitions == 0 && r->lr_contentions == 0)
			continue;
		char havg[32] = "-", hmax[32] = "-";
		if (r->lr_hold_samples != 0) {
			snprintf(havg, sizeof(havg), "%.0fns", r->lr_hold_avg_ns);
			snprintf(hmax, sizeof(hmax), "%.2fus", (double)r->lr_hold_max_ns / 1e3);
		}
		fprintf(f, "%-11s %-16s %12lu %11lu %9lu %10.3fms %7.0fns %7.2fus %9s %9s %6lu\n", r->lr_class, r->lr_algo,
		    (unsigned long)r->lr_acquisitions, (unsigned long)r->lr_contentions, (unsigned long)r->lr_bounces,
		    (double)r->lr_wait_total_ns / 1e6, r->lr_wait_avg_ns, (double)r->lr_wait_max_ns / 1e3, havg, hmax,
		    (unsigned long)r->lr_max_queue);
	}
}

/* rows: ncpu + 1 blocks of LC_NCLASS rows, all CPUs first, then CPU 0, 1, ... */
int lockstat_write_csv(const char *path, const struct lockstat_row *r, unsigned n)
{
	char tmp[4096];
	FILE *f = atomicfile_begin(NULL, path, tmp, sizeof(tmp));
	if (f == NULL)
		return err_env(errno);
	fprintf(f, "cpu,class,algorithm,acquisitions,contentions,bounces,wait_total_ns,wait_avg_ns,wait_min_ns,"
	           "wait_max_ns,wait_p99_ns,hold_samples,hold_avg_ns,hold_max_ns,hold_p99_ns,max_queue\n");
	for (unsigned i = 0; i < n; i++, r++) {
		if (i / LC_NCLASS == 0)
			fprintf(f, "all,");
		else
			fprintf(f, "%u,", i / LC_NCLASS - 1);
		char hold[96] = ",,"; /* avg, max, p99: none without a timed hold */
		if (r->lr_hold_samples != 0)
			snprintf(hold, sizeof(hold), "%.1f,%lu,%lu", r->lr_hold_avg_ns, (unsigned long)r->lr_hold_max_ns,
			    (unsigned long)r->lr_hold_p99_ns);
		fprintf(f, "%s,%s,%lu,%lu,%lu,%lu,%.1f,%lu,%lu,%lu,%lu,%s,%lu\n", r->lr_class, r->lr_algo,
		    (unsigned long)r->lr_acquisitions, (unsigned long)r->lr_contentions, (unsigned long)r->lr_bounces,
		    (unsigned long)r->lr_wait_total_ns, r->lr_wait_avg_ns, (unsigned long)r->lr_wait_min_ns,
		    (unsigned long)r->lr_wait_max_ns, (unsigned long)r->lr_wait_p99_ns, (unsigned long)r->lr_hold_samples, hold,
		    (unsigned long)r->lr_max_queue);
	}
	return atomicfile_commit(f, NULL, path, tmp);
}

json_t *lockstat_json(const struct lockstat_row *r, unsigned n, const char (*sites)[LOCKSTAT_SITES][SYMBOL_NAMELEN])
{
	json_t *a = json_array();
	for (unsigned i = 0; i < n; i++, r++) {
		json_t *s = json_array();
		for (unsigned k = 0; k < r->lr_nsites; k++)
			json_array_append_new(s, json_pack("{s:s,s:I,s:I}", "site", sites != NULL ? sites[i][k] : "",
			    "contentions", (json_int_t)r->lr_sites[k].ls_contentions, "wait_ns",
			    (json_int_t)r->lr_sites[k].ls_wait_ns));
		json_t *row = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:f,s:I,s:I,s:I,s:I,s:f,s:I,s:I,s:I}", "class", r->lr_class,
		        "algorithm", r->lr_algo, "acquisitions", (json_int_t)r->lr_acquisitions, "contentions",
		        (json_int_t)r->lr_contentions, "bounces", (json_int_t)r->lr_bounces, "wait_total_ns",
		        (json_int_t)r->lr_wait_total_ns, "wait_avg_ns", r->lr_wait_avg_ns, "wait_min_ns",
		        (json_int_t)r->lr_wait_min_ns, "wait_max_ns", (json_int_t)r->lr_wait_max_ns, "wait_p99_ns",
		        (json_int_t)r->lr_wait_p99_ns, "hold_samples", (json_int_t)r->lr_hold_samples, "hold_avg_ns",
		        r->lr_hold_avg_ns, "hold_max_ns", (json_int_t)r->lr_hold_max_ns, "hold_p99_ns",
		        (json_int_t)r->lr_hold_p99_ns, "max_queue", (json_int_t)r->lr_max_queue);
		if (r->lr_hold_samples == 0) /* no hold timed: no hold time */
			for (const char *const *k = (const char *const[]){"hold_avg_ns", "hold_max_ns", "hold_p99_ns", NULL};
			     *k != NULL; k++)
				json_object_set_new(row, *k, json_null());
		json_object_set_new(row, "sites", s);
		json_object_set_new(row, "sites_lost", json_integer((json_int_t)r->lr_sites_lost));
		json_array_append_new(a, row);
	}
	return a;
}

bool lockstat_recorded(const struct machine_config *cfg)
{
	char algo[LC_NCLASS][LOCK_ALGO_NAMELEN];
	enum lock_wait wait;
	bool stat, unsafe;
	lock_config_read(cfg, algo, &wait, &stat, &unsafe);
	return stat && cfg->mc_stats;
}
