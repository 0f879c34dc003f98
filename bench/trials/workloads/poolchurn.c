/*
 * poolchurn.c — pool(9) object churn in bursts, freed across CPUs.
 *
 * The allocation pattern of a busy kernel's pools (mbufs, vnodes, ...):
 * each operation takes a burst of objects from a pool_cache shared by the
 * role (or from the bare pool), stamps each one through the MMU, then
 * frees them — `remote` percent handed to another CPU of the role, which
 * frees them from its own magazines (the cross-CPU free pattern that
 * pool_cache's depot exists for), after checking the stamp.  When the
 * pool's pages come and go, kmem.poolpage decides what that costs:
 * nothing (direct map), or mappings and kernel shootdowns (vacache, plain).
 *
 * Why pages come and go: a pool_cache keeps its objects in magazines, so
 * once warm it never empties a page, and a steady churn would never free
 * one.  A kernel frees pool pages when its page daemon runs short of
 * memory and drains the pools (NetBSD uvm_pdaemon.c: pool_drain(), which
 * invalidates a cache's magazines so that their pages empty and go back).
 * The `drain` option is that page daemon: every `drain` operations the
 * role's first CPU invalidates the cache (pool_cache_invalidate()), the
 * pages go back through uvm_km_free_poolpage() — with vacache, a kernel
 * shootdown to every CPU — and the next bursts take new ones.  That is
 * the concurrent pool-page churn the main job measures beside user
 * shootdowns.  (Bursts above a high-water mark would free pages too, but
 * the model's pools keep at most one idle page, so with the cache off
 * pages already come and go with every burst: `cache = off`.)
 */
#include "trials/workloads/workload.h"

#include <errno.h>
#include <stdlib.h>

#include <pmapstorm/alloc.h>
#include <pmapstorm/pool.h>

static const struct wl_option poolchurn_options[] = {
	{"size", "256", "object size in bytes", WO_INT, 8, 4096, NULL},
	{"burst", "32", "objects taken, then freed, per operation", WO_INT, 1, 4096, NULL},
	{"remote", "50", "percent of frees handed to another CPU of the role", WO_INT, 0, 100, NULL},
	{"cache", "on", "pool_cache front (on) or the bare pool (off)", WO_ENUM, 0, 0, "on|off"},
	{"drain", "0", "operations between page-daemon drains of the cache by the role's first CPU (0: never)",
	    WO_INT, 0, 1000000, NULL},
	{NULL, NULL, NULL, 0, 0, 0, NULL},
};

#define PC_RING 8192

struct pc_role {
	pool_cache_t pr_cache;
	struct pool pr_pool;
	bool pr_use_cache;
	unsigned pr_size, pr_burst, pr_remote, pr_drain;
	/* objects handed between CPUs: a ring under a pool-class lock */
	kmutex_t pr_lock;
	vaddr_t pr_ring[PC_RING];
	uint64_t pr_stamp[PC_RING];
	unsigned pr_head, pr_count;
};

struct pc_cpu {
	vaddr_t *pc_objs;
	unsigned pc_since_drain;
};

static vaddr_t pc_get(struct pc_role *r)
{
	void *o = r->pr_use_cache ? pool_cache_get(r->pr_cache, PR_WAITOK) : pool_get(&r->pr_pool, PR_WAITOK);
	return (vaddr_t)(uintptr_t)o;
}

static void pc_put(struct pc_role *r, vaddr_t o)
{
	if (r->pr_use_cache)
		pool_cache_put(r->pr_cache, (void *)(uintptr_t)o);
	else
		pool_put(&r->pr_pool, (void *)(uintptr_t)o);
}

static int pc_role_init(struct wl_role *wr)
{
	struct pc_role *r = mem_zalloc(struct pc_role, 1);
	if (r == NULL)
		return ENOMEM;
	r->pr_size = (unsigned)wl_opt_long(wr, "size");
	r->pr_burst = (unsigned)wl_opt_long(wr, "burst");
	r->pr_remote = (unsigned)wl_opt_long(wr, "remote");
	r->pr_drain = (unsigned)wl_opt_long(wr, "drain");
	r->pr_use_cache = wl_opt_is(wr, "cache", "on");
	if (r->pr_use_cache)
		r->pr_cache = pool_cache_init(r->pr_size, 8, 0, 0, "churn", NULL, 0, NULL, NULL, NULL);
	else
		pool_init(&r->pr_pool, r->pr_size, 8, 0, 0, "churn", NULL, 0);
	mutex_init(&r->pr_lock, LC_POOL);
	wr->wr_priv = r;
	return 0;
}

static void pc_role_fini(struct wl_role *wr)
{
	struct pc_role *r = wr->wr_priv;
	for (; r->pr_count > 0; r->pr_count--) {
		pc_put(r, r->pr_ring[r->pr_head]);
		r->pr_head = (r->pr_head + 1) % PC_RING;
	}
	if (r->pr_use_cache)
		pool_cache_destroy(r->pr_cache);
	else
		pool_destroy(&r->pr_pool);
	mutex_destroy(&r->pr_lock);
	free(r);
}

static int pc_init(struct wl_ctx *c)
{
	struct pc_role *r = c->wc_role->wr_priv;
	struct pc_cpu *p = mem_zalloc(struct pc_cpu, 1);
	if (p == NULL)
		return ENOMEM;
	p->pc_objs = mem_zalloc(vaddr_t, r->pr_burst);
	c->wc_priv = p;
	return 0;
}

static void pc_op(struct wl_ctx *c)
{
	struct pc_role *r = c->wc_role->wr_priv;
	struct pc_cpu *p = c->wc_priv;
	uint64_t stamp = ((uint64_t)(c->wc_cpu + 1) << 48) | (c->wc_ops & 0xffffffffffffULL);
	for (unsigned i = 0; i < r->pr_burst; i++) {
		p->pc_objs[i] = pc_get(r);
		if (mmu_store(p->pc_objs[i], stamp + i) != 0)
			wl_error(c->wc_role, "cpu%u: store to a fresh object %#lx failed", c->wc_cpu,
			    (unsigned long)p->pc_objs[i]);
	}
	/* free: some here, some handed to another CPU; take others' hand-offs */
	unsigned handed = 0;
	for (unsigned i = 0; i < r->pr_burst; i++) {
		bool remote = c->wc_role->wr_ncpu > 1 && wl_rand_below(&c->wc_rng, 100) < r->pr_remote;
		if (remote) {
			mutex_enter(&r->pr_lock);
			if (r->pr_count < PC_RING) {
				unsigned k = (r->pr_head + r->pr_count++) % PC_RING;
				r->pr_ring[k] = p->pc_objs[i];
				r->pr_stamp[k] = stamp + i;
				handed++;
				mutex_exit(&r->pr_lock);
				continue;
			}
			mutex_exit(&r->pr_lock);
		}
		pc_put(r, p->pc_objs[i]);
	}
	for (unsigned i = 0; i < handed + 1; i++) {
		mutex_enter(&r->pr_lock);
		if (r->pr_count == 0) {
			mutex_exit(&r->pr_lock);
			break;
		}
		vaddr_t o = r->pr_ring[r->pr_head];
		uint64_t want = r->pr_stamp[r->pr_head], v = 0;
		r->pr_head = (r->pr_head + 1) % PC_RING;
		r->pr_count--;
		mutex_exit(&r->pr_lock);
		if (mmu_load(o, &v) != 0 || v != want)
			wl_error(c->wc_role, "cpu%u: object %#lx handed over reads %#lx, not %#lx", c->wc_cpu,
			    (unsigned long)o, (unsigned long)v, (unsigned long)want);
		pc_put(r, o);
	}
	/* the page daemon: the cache's pages go back, the next bursts take new ones */
	if (r->pr_drain != 0 && r->pr_use_cache && c->wc_index == 0 && ++p->pc_since_drain >= r->pr_drain) {
		p->pc_since_drain = 0;
		pool_cache_invalidate(r->pr_cache);
	}
}

static void pc_fini(struct wl_ctx *c)
{
	struct pc_cpu *p = c->wc_priv;
	free(p->pc_objs);
	free(p);
}

const struct workload wl_poolchurn = {
	.wl_name = "poolchurn",
	.wl_desc = "pool_cache(9) objects in bursts, `remote` percent freed on another CPU; page-daemon drains "
	           "every `drain` operations",
	.wl_options = poolchurn_options,
	.wl_reports = "bursts; pool pages allocated and freed; kernel shootdowns of pool pages",
	.wl_kmem = true,
	.wl_role_init = pc_role_init,
	.wl_role_fini = pc_role_fini,
	.wl_init = pc_init,
	.wl_op = pc_op,
	.wl_fini = pc_fini,
};
