/*
 * uvm_page.c — the page allocator: uvm_pagealloc()/uvm_pagefree() over the
 * machine's free list, with an optional per-CPU cache in front of it.
 *
 * Semantics of NetBSD sys/uvm/uvm_page.c (NetBSD 5-6, uvm_pagealloc_strat
 * and uvm_pagefree): uvm_pagealloc() returns NULL when no page is free and
 * lets the caller choose between uvm_wait() and failing; only callers that
 * pass UVM_PGA_USERESERVE may take the last uvmexp.reserve_kernel pages;
 * UVM_PGA_ZERO returns a zero-filled page, skipping the work for a frame
 * known to be zero.  The free list itself is the machine's
 * (core/machine/phys.c), because the pmap takes page-table pages from it
 * and may not call uvm (docs/architecture.md, "Layers").
 *
 * The front end (uvm.pagecache).  "off": every allocation and free takes
 * the global free-list lock, as NetBSD did up to 8.  "percpu": each CPU
 * keeps up to uvm.pagecache_pages free frames under its own lock (class
 * pagefree, uncontended except when another CPU drains it), refilled and
 * spilled half a cache at a time, as NetBSD 9's per-CPU page caches
 * (sys/uvm/uvm_pgflcache.c) do.  A frame in a cache is free in every
 * respect: PG_FREE is set and its generation was bumped when it was freed,
 * uvm_free_pages() counts it, and when the free list runs dry phys_alloc()
 * calls back (mu_reclaim) to drain every cache into the list before it
 * gives up — so a page-table allocation or a CPU with an empty cache never
 * fails while frames sit in another CPU's cache.
 *
 * Lock order: a CPU's cache lock, then the free-list lock.  The drain takes
 * one cache lock at a time and holds none while it gives the frames back.
 *
 * Races: a cache is touched by its CPU and by drains on other CPUs, both
 * under the cache lock; pc_count is atomic because uvm_free_pages() and
 * uvm_wait() read it without the lock.
 */
#include "uvm_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

STATS_COUNTER(uvm_pg_allocs, "uvm.page.allocs", "pages allocated by uvm_pagealloc()")
STATS_COUNTER(uvm_pg_frees, "uvm.page.frees", "pages freed by uvm_pagefree()")
STATS_COUNTER(uvm_pg_fails, "uvm.page.failures", "uvm_pagealloc() calls that found no page")
STATS_COUNTER(uvm_pg_waits, "uvm.page.waits", "uvm_wait() calls")
STATS_COUNTER(uvm_pg_reserve, "uvm.page.reserve_used", "UVM_PGA_USERESERVE allocations served from the reserve")
STATS_COUNTER(uvm_pg_cache_hits, "uvm.page.cache_hits", "allocations served by the CPU's page cache")
STATS_COUNTER(uvm_pg_cache_refills, "uvm.page.cache_refills", "per-CPU page cache refills from the free list")
STATS_COUNTER(uvm_pg_cache_spills, "uvm.page.cache_spills", "per-CPU page cache spills to the free list")
STATS_COUNTER(uvm_pg_cache_drains, "uvm.page.cache_drains", "caches drained because the free list ran dry")

struct uvm_pgcache {
	kmutex_t pc_lock;
	struct vm_page *pc_head;     /* chain of free frames (pageq_next) */
	_Atomic unsigned pc_count;
} __cacheline_aligned;

static struct uvm_pgcache *pgcaches;
static unsigned pgcache_ncpu, pgcache_cap, pgcache_batch;
static bool pgcache_on;

static const char *const pagecache_values[] = {"off", "percpu", NULL};

const struct cfg_key uvm_page_keys[] = {
	CFG_KEY("uvm.pagecache", CFG_ENUM, 0, 0, pagecache_values, "percpu",
	    "the page allocator's front end. `off`: every `uvm_pagealloc`/`uvm_pagefree` takes the global free-list "
	    "lock. `percpu`: a per-CPU cache of free pages in front of it (NetBSD 9's page caches); drained back when the "
	    "free list runs dry"),
	CFG_KEY("uvm.pagecache_pages", CFG_UINT, 2, 4096, NULL, "64",
	    "pages a per-CPU cache holds before it spills half (2–4096)"),
	{0},
};

int uvm_page_boot(struct machine *m)
{
	pgcache_on = machine_knob(&m->m_cfg, &uvm_page_keys[0]) == UVM_PAGECACHE_PERCPU;
	pgcache_cap = (unsigned)machine_knob(&m->m_cfg, &uvm_page_keys[1]);
	pgcache_batch = pgcache_cap / 2;
	if ((pgcaches = mem_alloc(struct uvm_pgcache, m->m_ncpu)) == NULL)
		return machine_seterr(ENOMEM, "uvm.pagecache: no host memory for %u per-CPU caches", m->m_ncpu);
	memset(pgcaches, 0, sizeof(*pgcaches) * m->m_ncpu);
	for (unsigned i = 0; i < m->m_ncpu; i++)
		mutex_init(&pgcaches[i].pc_lock, LC_PAGEFREE);
	pgcache_ncpu = m->m_ncpu;
	return 0;
}

void uvm_page_halt(struct machine *m)
{
	(void)m;
	for (unsigned i = 0; pgcaches != NULL && i < pgcache_ncpu; i++)
		mutex_destroy(&pgcaches[i].pc_lock);
	free(pgcaches); /* the frames go with physical memory */
	pgcaches = NULL;
	pgcache_ncpu = 0;
	pgcache_on = false;
}

/* mu_reclaim: every cache back to the free list.  => no cache lock held */
bool uvm_page_reclaim(void)
{
	bool moved = false;
	for (unsigned i = 0; pgcaches != NULL && i < pgcache_ncpu; i++) {
		struct uvm_pgcache *pc = &pgcaches[i];
		if (atomic_load_explicit(&pc->pc_count, memory_order_relaxed) == 0)
			continue;
		mutex_enter(&pc->pc_lock);
		struct vm_page *chain = pc->pc_head;
		unsigned n = atomic_load_explicit(&pc->pc_count, memory_order_relaxed);
		pc->pc_head = NULL;
		atomic_store_explicit(&pc->pc_count, 0, memory_order_relaxed);
		mutex_exit(&pc->pc_lock);
		if (n != 0) {
			phys_give(chain, n);
			stats_inc(&uvm_pg_cache_drains);
			moved = true;
		}
	}
	return moved;
}

/* A frame from this CPU's cache, or NULL.  => no lock held */
static struct vm_page *pgcache_get(struct uvm_pgcache *pc)
{
	mutex_enter(&pc->pc_lock);
	struct vm_page *pg = pc->pc_head;
	unsigned n = atomic_load_explicit(&pc->pc_count, memory_order_relaxed);
	if (pg == NULL) {
		/* never from the reserve: a cache must not hoard it */
		n = phys_take(pgcache_batch, false, &pg);
		if (n != 0)
			stats_inc(&uvm_pg_cache_refills);
	} else {
		stats_inc(&uvm_pg_cache_hits);
	}
	if (pg != NULL) {
		pc->pc_head = pg->pageq_next;
		atomic_store_explicit(&pc->pc_count, n - 1, memory_order_relaxed);
	}
	mutex_exit(&pc->pc_lock);
	return pg;
}

static void pgcache_put(struct uvm_pgcache *pc, struct vm_page *pg)
{
	struct vm_page *spill = NULL;
	unsigned nspill = 0;
	mutex_enter(&pc->pc_lock);
	pg->pageq_next = pc->pc_head;
	pc->pc_head = pg;
	unsigned n = atomic_load_explicit(&pc->pc_count, memory_order_relaxed) + 1;
	if (n > pgcache_cap) {
		/* the most recently freed (cache-warm) frames stay */
		struct vm_page *keep = pc->pc_head;
		for (unsigned i = 1; i < n - pgcache_batch; i++)
			keep = keep->pageq_next;
		spill = keep->pageq_next;
		keep->pageq_next = NULL;
		nspill = pgcache_batch;
		n -= nspill;
	}
	atomic_store_explicit(&pc->pc_count, n, memory_order_relaxed);
	mutex_exit(&pc->pc_lock);
	if (spill != NULL) {
		phys_give(spill, nspill);
		stats_inc(&uvm_pg_cache_spills);
	}
}

struct vm_page *uvm_pagealloc(struct uvm_object *obj, voff_t off, struct vm_anon *anon, int flags)
{
	struct machine *m = machine_cur;
	struct cpu_info *ci = curcpu();
	bool usereserve = flags & UVM_PGA_USERESERVE;
	struct vm_page *pg = NULL;
	uint64_t nfree = atomic_load_explicit(&m->m_free_count, memory_order_relaxed);
	if (pgcache_on && ci != NULL && (usereserve || nfree > m->m_reserve)) {
		pg = pgcache_get(&pgcaches[ci->ci_cpuid]);
		if (pg != NULL)
			phys_mark_busy(pg);
	}
	if (pg == NULL)
		pg = phys_alloc(usereserve); /* drains the caches before it fails */
	if (pg == NULL) {
		stats_inc(&uvm_pg_fails);
		return NULL;
	}
	if (usereserve && nfree <= m->m_reserve)
		stats_inc(&uvm_pg_reserve);
	stats_inc(&uvm_pg_allocs);
	uint32_t f = atomic_load_explicit(&pg->flags, memory_order_relaxed);
	if ((flags & UVM_PGA_ZERO) && !(f & PG_ZERO))
		pmap_zero_page(pg->phys_addr);
	atomic_store_explicit(&pg->flags, f & ~(uint32_t)PG_ZERO, memory_order_relaxed);
	pg->uobject = obj;
	pg->offset = off;
	pg->uanon = anon;
	return pg;
}

void uvm_pagefree(struct vm_page *pg)
{
	struct cpu_info *ci = curcpu();
	uint32_t f = atomic_load_explicit(&pg->flags, memory_order_relaxed);
	if (f & PG_FREE) {
		uvm_bad_input("uvm_pagefree: page %#lx is already free (double free)", (unsigned long)pg->phys_addr);
		return;
	}
	if (pg->mdpage.mp_pvlist != NULL) {
		uvm_bad_input("uvm_pagefree: page %#lx is still mapped", (unsigned long)pg->phys_addr);
		return;
	}
	KASSERTMSG(!(f & PG_PTP), "uvm_pagefree: page %#lx is a page-table page", (unsigned long)pg->phys_addr);
	stats_inc(&uvm_pg_frees);
	if (phys_free_defer(pg))
		return; /* a lazy strategy frees it once no TLB can hold it */
	if (pgcache_on && ci != NULL) {
		phys_mark_free(pg);
		pgcache_put(&pgcaches[ci->ci_cpuid], pg);
	} else {
		phys_free_now(pg);
	}
}

uint64_t uvm_free_pages(void)
{
	struct machine *m = machine_cur;
	if (m == NULL)
		return 0;
	uint64_t n = atomic_load(&m->m_free_count);
	for (unsigned i = 0; pgcaches != NULL && i < pgcache_ncpu; i++)
		n += atomic_load_explicit(&pgcaches[i].pc_count, memory_order_relaxed);
	/* and the pmap's caches of free page-table pages (phys_alloc()
	 * drains them when the list runs dry) */
	return n + pmap_ptp_free_pages();
}

/*
 * Waits until more pages than the reserve are free (counting the per-CPU
 * caches).  NetBSD wakes the pagedaemon and sleeps; the model has no
 * pagedaemon and no swap, so only a uvm_pagefree() on another CPU (or
 * thread) ends the wait.
 * => no lock held; keeps taking IPIs (cpu_spin_wait)
 */
void uvm_wait(const char *wmsg)
{
	(void)wmsg;
	struct machine *m = machine_cur;
	unsigned iter = 0;
	stats_inc(&uvm_pg_waits);
	while (uvm_free_pages() <= m->m_reserve) {
		if ((iter & 63) == 0)
			phys_reclaim_deferred(); /* frames a lazy strategy held back */
		cpu_spin_wait_for(&iter, "free memory (uvm_wait)");
	}
}
