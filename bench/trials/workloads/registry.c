/*
 * registry.c — the table of workloads.  Adding a workload: one file in
 * bench/trials/workloads/ and one line in the table below.  The table
 * lives apart from the helpers every workload calls (workload.c): the file
 * that names every workload and the file every workload uses are two, so
 * there is no cycle between files (tests/bench_deps.py).
 */
#include "trials/workloads/workload.h"

#include <string.h>

extern const struct workload wl_touch, wl_munmap, wl_mprotect, wl_cow, wl_pagedaemon, wl_ctxswitch, wl_poolchurn,
    wl_kmem, wl_migrate;

const struct workload *const workloads[] = {
	&wl_touch,
	&wl_munmap,
	&wl_mprotect,
	&wl_cow,
	&wl_pagedaemon,
	&wl_ctxswitch,
	&wl_poolchurn,
	&wl_kmem,
	&wl_migrate,
	NULL,
};

const struct workload *workload_find(const char *name)
{
	for (unsigned i = 0; workloads[i] != NULL; i++)
		if (strcmp(workloads[i]->wl_name, name) == 0)
			return workloads[i];
	return NULL;
}
