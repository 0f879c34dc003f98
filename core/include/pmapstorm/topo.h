/*
 * pmapstorm/topo.h — host topology (hwloc) and thread placement.
 *
 * Simulated CPU i runs on a host processing unit chosen by the placement
 * policy; today the policy is compact (PU i modulo the host's PUs, in
 * hwloc's logical order).  Oversubscription is allowed.
 */
#ifndef PMAPSTORM_TOPO_H
#define PMAPSTORM_TOPO_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Host processing units (1 if hwloc cannot tell). */
unsigned topo_npus(void);
/* Binds the calling thread to the PU for simulated CPU i; 0 or an errno. */
int topo_bind_thread(unsigned i);
/* Counts of the host's packages, cores, processing units and NUMA nodes. */
void topo_counts(unsigned *packages, unsigned *cores, unsigned *pus, unsigned *numa_nodes);
/* The host PU (OS index) simulated CPU i is placed on. */
int topo_pu_of(unsigned i);
/* The group of simulated CPU i: the logical index of the L3 cache (else
 * the package) above its PU; 0 when hwloc cannot tell. */
int topo_group_of(unsigned i);

#ifdef __cplusplus
}
#endif
#endif
