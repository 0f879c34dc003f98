/*
 * topo.c — host topology from hwloc, and thread pinning.
 *
 * hwloc (hwloc.h, hwloc_topology_load(), hwloc_set_cpubind() with
 * HWLOC_CPUBIND_THREAD) gives the processing units in logical order, which
 * follows the cache hierarchy: consecutive logical PUs share the closest
 * caches, so "compact" placement is PU i mod npus.  The topology is loaded
 * once per process.
 */
#include <pmapstorm/topo.h>

#include <errno.h>
#include <hwloc.h>
#include <pthread.h>

static pthread_once_t topo_once = PTHREAD_ONCE_INIT;
static hwloc_topology_t topo;
static bool topo_ok;
static unsigned npus = 1;

static void topo_load(void)
{
	if (hwloc_topology_init(&topo) != 0)
		return;
	if (hwloc_topology_load(topo) != 0) {
		hwloc_topology_destroy(topo);
		return;
	}
	int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	npus = n > 0 ? (unsigned)n : 1;
	topo_ok = true;
}

unsigned topo_npus(void)
{
	pthread_once(&topo_once, topo_load);
	return npus;
}

int topo_pu_of(unsigned i)
{
	pthread_once(&topo_once, topo_load);
	if (!topo_ok)
		return -1;
	hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, i % npus);
	return pu ? (int)pu->os_index : -1;
}

int topo_bind_thread(unsigned i)
{
	pthread_once(&topo_once, topo_load);
	if (!topo_ok)
		return ENOSYS;
	hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, i % npus);
	if (pu == NULL)
		return ENOENT;
	return hwloc_set_cpubind(topo, pu->cpuset, HWLOC_CPUBIND_THREAD) == 0 ? 0 : errno;
}

void topo_counts(unsigned *packages, unsigned *cores, unsigned *pus, unsigned *numa_nodes)
{
	pthread_once(&topo_once, topo_load);
	int pk = topo_ok ? hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE) : 1;
	int co = topo_ok ? hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE) : 1;
	int nn = topo_ok ? hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE) : 1;
	*packages = pk > 0 ? (unsigned)pk : 1;
	*cores = co > 0 ? (unsigned)co : 1;
	*pus = npus;
	*numa_nodes = nn > 0 ? (unsigned)nn : 1;
}

int topo_group_of(unsigned i)
{
	pthread_once(&topo_once, topo_load);
	if (!topo_ok)
		return 0;
	hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, i % npus);
	if (pu == NULL)
		return 0;
	/* the last-level cache the PU sits under, else its package */
	hwloc_obj_t g = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_L3CACHE, pu);
	if (g == NULL)
		g = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, pu);
	return g != NULL ? (int)g->logical_index : 0;
}
