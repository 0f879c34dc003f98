/*
 * registry.c — the table of workloads.  Adding a workload: one file in
 * bench/trials/workloads/ and one line, X(NAME), in WORKLOADS below.  The table
 * lives apart from the helpers every workload calls (workload.c): the file
 * that names every workload and the file every workload uses are two, so
 * there is no cycle between files (tests/bench_deps.py).
 */
#include "trials/workloads/workload.h"

#include <string.h>

/* one line per workload: its struct workload is wl_<name>, in its own file */
#define WORKLOADS(X)                                                                                      \
	X(touch)                                                                                          \
	X(munmap)                                                                                         \
	X(mprotect)                                                                                       \
	X(cow)                                                                                            \
	X(pagedaemon)                                                                                     \
	X(ctxswitch)                                                                                      \
	X(poolchurn)                                                                                      \
	X(kmem)                                                                                           \
	X(migrate)

#define WL_DECLARE(name) extern const struct workload wl_##name;
#define WL_ENTRY(name) &wl_##name,
WORKLOADS(WL_DECLARE)
const struct workload *const workloads[] = {WORKLOADS(WL_ENTRY) NULL};

const struct workload *workload_find(const char *name)
{
	for (unsigned i = 0; workloads[i] != NULL; i++)
		if (strcmp(workloads[i]->wl_name, name) == 0)
			return workloads[i];
	return NULL;
}
