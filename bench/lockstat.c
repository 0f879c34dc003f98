/*
 * lockstat.c — the lock_stat-style table, as text, CSV and JSON.
 *
 * Columns follow Linux lock_stat (/proc/lock_stat: class name, contentions,
 * waittime-min/max/total/avg, acquisitions, holdtime-...) with NetBSD
 * lockstat(8)'s per-algorithm view added: one row per lock class, with the
 * algorithm it ran.  Hold times are over the sampled acquisitions (every
 * contended one and one uncontended in 16, see core/sync/lock.c).
 */
#include "cli.h"

#include <dlfcn.h>
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
		fprintf(f, "%-11s %-16s %12lu %11lu %9lu %10.3fms %7.0fns %7.2fus %7.0fns %7.2fus %6lu\n", r->lr_class,
		    r->lr_algo, (unsigned long)r->lr_acquisitions, (unsigned long)r->lr_contentions,
		    (unsigned long)r->lr_bounces, (double)r->lr_wait_total_ns / 1e6, r->lr_wait_avg_ns,
		    (double)r->lr_wait_max_ns / 1e3, r->lr_hold_avg_ns, (double)r->lr_hold_max_ns / 1e3,
		    (unsigned long)r->lr_max_queue);
	}
}

/* rows: ncpu + 1 blocks of LC_NCLASS rows, all CPUs first, then CPU 0, 1, ... */
int lockstat_write_csv(const char *path, const struct lockstat_row *r, unsigned n)
{
	char tmp[4096];
	FILE *f = cli_file_begin(NULL, path, tmp, sizeof(tmp));
	if (f == NULL)
		return EXIT_ENV;
	fprintf(f, "cpu,class,algorithm,acquisitions,contentions,bounces,wait_total_ns,wait_avg_ns,wait_min_ns,"
	           "wait_max_ns,wait_p99_ns,hold_samples,hold_avg_ns,hold_max_ns,hold_p99_ns,max_queue\n");
	for (unsigned i = 0; i < n; i++, r++) {
		if (i / LC_NCLASS == 0)
			fprintf(f, "all,");
		else
			fprintf(f, "%u,", i / LC_NCLASS - 1);
		fprintf(f, "%s,%s,%lu,%lu,%lu,%lu,%.1f,%lu,%lu,%lu,%lu,%.1f,%lu,%lu,%lu\n", r->lr_class, r->lr_algo,
		    (unsigned long)r->lr_acquisitions, (unsigned long)r->lr_contentions, (unsigned long)r->lr_bounces,
		    (unsigned long)r->lr_wait_total_ns, r->lr_wait_avg_ns, (unsigned long)r->lr_wait_min_ns,
		    (unsigned long)r->lr_wait_max_ns, (unsigned long)r->lr_wait_p99_ns, (unsigned long)r->lr_hold_samples,
		    r->lr_hold_avg_ns, (unsigned long)r->lr_hold_max_ns, (unsigned long)r->lr_hold_p99_ns,
		    (unsigned long)r->lr_max_queue);
	}
	return cli_file_commit(f, NULL, path, tmp);
}

void lockstat_site_name(uintptr_t pc, char *buf, size_t len)
{
	Dl_info di;
	if (pc != 0 && dladdr((void *)pc, &di) != 0 && di.dli_sname != NULL) {
		snprintf(buf, len, "%s+%#lx", di.dli_sname, (unsigned long)(pc - (uintptr_t)di.dli_saddr));
	} else if (pc != 0 && dladdr((void *)pc, &di) != 0 && di.dli_fname != NULL) {
		/* no symbol (a static function): the file and the offset in it,
		 * which addr2line takes and which stays put wherever it loaded */
		const char *base = strrchr(di.dli_fname, '/');
		snprintf(buf, len, "%s+%#lx", base != NULL ? base + 1 : di.dli_fname,
		    (unsigned long)(pc - (uintptr_t)di.dli_fbase));
	} else {
		snprintf(buf, len, "%#lx", (unsigned long)pc);
	}
}

json_t *lockstat_json(const struct lockstat_row *r, unsigned n, const char (*sites)[LOCKSTAT_SITES][LOCKSTAT_SITE_NAMELEN])
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
		json_object_set_new(row, "sites", s);
		json_object_set_new(row, "sites_lost", json_integer((json_int_t)r->lr_sites_lost));
		json_array_append_new(a, row);
	}
	return a;
}
