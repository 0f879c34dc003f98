/*
 * pmapstorm/topo.h — topology (hwloc), placement of simulated CPUs, and
 * memory placement (libnuma).
 *
 * A struct topo is a loaded topology — the host's, or a synthetic machine
 * described in hwloc's synthetic syntax ("pack:2 l3:2 core:4 pu:2") — plus
 * a placement of ncpu simulated CPUs on its processing units (PUs).  The
 * model topology (synthetic or host) decides groups and hop distances; the
 * threads always run on host PUs: with a synthetic topology they are
 * pinned compactly on the host, and both mappings are reported.
 *
 * Error convention (as hwloc's, said once): functions return 0 or an errno
 * value, or NULL; the ones that take (why, len) write there a reason that
 * names the config key (machine.topology, machine.placement, machine.numa)
 * and what the host or the synthetic machine has.
 */
#ifndef PMAPSTORM_TOPO_H
#define PMAPSTORM_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the host ---- */

/* Host processing units (1 if hwloc cannot tell). */
unsigned topo_npus(void);
/* Counts of the host's packages, cores, processing units and NUMA nodes. */
void topo_counts(unsigned *packages, unsigned *cores, unsigned *pus, unsigned *numa_nodes);
/* Host NUMA nodes libnuma can place memory on; 0 when the host has no NUMA. */
unsigned topo_host_numa_nodes(void);
/* Binds the calling thread to the host PU with that OS index: 0 or an errno. */
int topo_bind_host_pu(int os_index);

/* ---- topologies and placements ---- */

struct topo;

/* A synthetic machine.topology has at most this many PUs (refused before
 * hwloc builds it: hwloc allocates every object).  4096 is sixteen times
 * MAXCPUS: room to place 256 CPUs on a part of a big machine. */
#define TOPO_MAXPUS 4096

/* The host (synthetic NULL or "") or a synthetic machine; NULL + why, and
 * errno: EINVAL when the description is bad input (not hwloc's syntax,
 * more than TOPO_MAXPUS PUs), else ENOMEM or ENOSYS (hwloc cannot start or
 * cannot read the host: an environment error).
 * => may allocate; the host is discovered once per process, then copied. */
struct topo *topo_open(const char *synthetic, char *why, size_t len);
void topo_close(struct topo *);
/*
 * Places ncpu simulated CPUs on the topology's PUs:
 *   compact        PU i mod npus in hwloc's logical order (closest first)
 *   scatter        the top level varies fastest (packages, then caches,
 *                  then cores, then SMT siblings), as KMP_AFFINITY=scatter
 *   list:a,b,c-d   these PUs (OS indices), in this order, repeated; spaces
 *                  may stand for the commas (in experiment files a comma sweeps)
 * More CPUs than PUs is allowed (topo_oversubscribed()).  0 or EINVAL.
 * => not while another thread reads the same topo (it replaces the mapping).
 */
int topo_place(struct topo *, const char *placement, unsigned ncpu, char *why, size_t len);
/* Syntax of a placement, without a topology: 0 or EINVAL. */
int topo_placement_check(const char *placement, char *why, size_t len);

bool topo_is_synthetic(const struct topo *);
/* The synthetic description as hwloc normalises it ("" for the host). */
const char *topo_description(const struct topo *);
unsigned topo_topo_pus(const struct topo *);  /* PUs of the model topology */
unsigned topo_ncpu(const struct topo *);      /* placed CPUs (0 before topo_place) */
/* More simulated CPUs than host PUs, or than model PUs. */
bool topo_oversubscribed(const struct topo *);
int topo_cpu_pu(const struct topo *, unsigned cpu);      /* model PU (OS index) */
int topo_cpu_host_pu(const struct topo *, unsigned cpu); /* host PU its thread is pinned to */
int topo_cpu_node(const struct topo *, unsigned cpu);    /* host NUMA node of that PU, -1 if none */
/* The group of a CPU: logical index of the L3 cache (else the package)
 * above its model PU. */
int topo_cpu_group(const struct topo *, unsigned cpu);
/*
 * Hop level between two CPUs: 0 on the same PU; else k when their nearest
 * common ancestor is the k-th level above the PU at which the tree
 * branches (pack:2 l3:2 core:4 pu:2: 1 core, 2 L3, 3 package, 4 machine).
 */
unsigned topo_hops(const struct topo *, unsigned a, unsigned b);
unsigned topo_nlevels(const struct topo *);
/* The object type of level k (1..topo_nlevels), e.g. "Core". */
const char *topo_level_name(const struct topo *, unsigned level);
/* A text picture of the topology and the placement. */
void topo_print(const struct topo *, FILE *);
/* The model topology as hwloc XML (the host's when host is true) written
 * to f: 0 or errno.  => the caller makes the file (atomically, in bench). */
int topo_export_xml(const struct topo *, bool host, FILE *f);

/*
 * The placement the running machine uses (machine_boot sets it, machine_halt
 * clears it); the functions below fall back to compact on the host.
 * => topo_current_set() only while no CPU thread runs (boot, halt).
 */
void topo_current_set(struct topo *);
/* Binds the calling thread to the host PU for simulated CPU i; 0 or an errno. */
int topo_bind_thread(unsigned i);
/* Is the calling thread bound to the host PU for simulated CPU i, and to
 * nothing else?  (false when hwloc cannot tell) */
bool topo_thread_bound(unsigned i);
/* The host PU (OS index) simulated CPU i runs on. */
int topo_pu_of(unsigned i);
/* The group of simulated CPU i (topo_cpu_group); 0 when hwloc cannot tell. */
int topo_group_of(unsigned i);

/* ---- memory (libnuma) ---- */

enum topo_numa_policy {
	TOPO_NUMA_INTERLEAVE = 0, /* pages round-robin over the nodes (default) */
	TOPO_NUMA_LOCAL = 1,      /* the node of the booting thread */
	TOPO_NUMA_NODE = 2,       /* one node */
};
struct topo_numa {
	enum topo_numa_policy tn_policy;
	int tn_node;       /* TOPO_NUMA_NODE */
	bool tn_active;    /* libnuma places memory (false: no NUMA, plain mmap) */
};
/* "interleave" | "local" | "node:N": 0 or EINVAL (syntax only). */
int topo_numa_parse(const char *spec, struct topo_numa *, char *why, size_t len);
/* Against a host of host_nodes nodes (0: no NUMA): sets tn_active; a node
 * the host lacks is EINVAL (node:0 on a host without NUMA is allowed). */
int topo_numa_resolve(struct topo_numa *, unsigned host_nodes, char *why, size_t len);
/* What the results record: "interleave over 2 nodes", "none: the host has no NUMA". */
void topo_numa_describe(const struct topo_numa *, char *buf, size_t len);
/* Memory placed by the policy (page-aligned, zeroed on first touch): NULL on failure. */
void *topo_mem_alloc(const struct topo_numa *, size_t bytes);
/* Memory on a NUMA node (node < 0 or no NUMA: anywhere), page-aligned and
 * zeroed; freed with topo_mem_free_node(). */
void *topo_mem_alloc_node(int node, size_t bytes);
void topo_mem_free_node(void *p, size_t bytes);
/* Moves [p, p + bytes) (page-aligned, not touched yet) to a node, if NUMA.
 * topo_mem_free() frees what topo_mem_alloc() gave. */
void topo_mem_to_node(void *p, size_t bytes, int node);
void topo_mem_free(void *p, size_t bytes);
/* The calling thread's allocations prefer this node until topo_mem_restore()
 * puts back the policy it had (saved here); node -1, or a host without
 * NUMA: nothing changes. */
struct topo_mempol {
	bool tp_saved;
	int tp_mode;
	unsigned long tp_mask[16]; /* up to 1024 nodes */
};
void topo_mem_prefer(int node, struct topo_mempol *saved);
void topo_mem_restore(const struct topo_mempol *saved);

#ifdef __cplusplus
}
#endif
#endif
