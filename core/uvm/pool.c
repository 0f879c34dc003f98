/*
 * pool.c — a pool(9)-like object allocator on pool pages, and the
 * per-CPU pool_cache(9) front, so that kernel-memory churn in workloads
 * looks like a kernel's: bursts of small objects, pages taken and given
 * back in the background, objects freed on other CPUs than they came from.
 *
 * What it follows.  NetBSD sys/kern/subr_pool.c (NetBSD 5-6): a pool hands
 * out fixed-size objects from pages of its pool_allocator, keeps pages on
 * partial / empty / full lists, and finds an object's page by address (an
 * off-page header tree, PR_NOTOUCH).  pool_cache: per-CPU "current" and
 * "previous" groups (magazines) of PCG_NOBJECTS objects and a global depot
 * of full and empty groups (Bonwick and Adams, "Magazines and Vmem",
 * USENIX 2001).
 *
 * Simplifications.  Objects are simulated kernel addresses, never
 * dereferenced by the host, so headers are always off-page (host memory)
 * and the free objects of a page are a bitmap in its header, found by a
 * hash of page addresses; pages are aligned to their size, so an object's
 * page is its address rounded down.  Empty pages beyond pr_maxidle (1) go
 * back to the allocator at once, where NetBSD waits for pool_reclaim();
 * there is no pool_sethiwat/lowat, no IPL (the model's CPUs take IPIs only
 * at interrupt points, never inside a pool), and no cache coloring.
 *
 * pool_cache_invalidate() is what NetBSD's page daemon reaches through
 * pool_drain() when memory is short (uvm_pdaemon.c -> pool_drain() ->
 * pool_cache_invalidate(), NetBSD 6-7): the depot's full groups are
 * destructed at once, so their objects' pages empty and go back; each
 * CPU's own groups are drained by that CPU (NetBSD cross-calls every CPU,
 * pool_cache_invalidate_cpu() through xc_broadcast), here at the CPU's
 * next get or put, since a CPU's groups are touched by no one else.
 *
 * Locking.  pr_lock (class pool) guards a pool's lists, hash and
 * statistics; it is dropped around the page allocator, which may take map
 * and page-allocator locks, issue a shootdown or wait.  A pool_cache's
 * per-CPU groups are touched only by their own CPU (a simulated CPU is never
 * preempted), without a lock; pc_lock (class pool) guards the depot.
 * Order: pc_lock is never held while pr_lock is taken.
 */
#include "uvm_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

STATS_COUNTER(pool_gets, "pool.gets", "objects handed out by pool_get()")
STATS_COUNTER(pool_puts, "pool.puts", "objects returned by pool_put()")
STATS_COUNTER(pool_pagealloc, "pool.page_allocs", "pages taken from pool allocators")
STATS_COUNTER(pool_pagefree, "pool.page_frees", "pages given back to pool allocators")
STATS_COUNTER(pool_fails, "pool.failures", "pool_get() calls that returned NULL")
STATS_COUNTER(pcache_hits, "pool.cache_hits", "pool_cache gets and puts served by the CPU's groups")
STATS_COUNTER(pcache_misses, "pool.cache_misses", "pool_cache gets that went to the pool")
STATS_COUNTER(pcache_depot, "pool.cache_depot", "pool_cache group exchanges with the depot")
STATS_COUNTER(pcache_inval, "pool.cache_invalidations", "pool_cache_invalidate() calls (page-daemon drains)")

struct pool_item_header {
	struct pool_item_header *ph_next, *ph_prev; /* on one of the pool's lists */
	struct pool_item_header *ph_hnext;          /* hash chain */
	vaddr_t ph_page;
	unsigned ph_nfree;
	uint64_t ph_freemap[]; /* bit set: the object is free */
};

/* ---- the default allocator: pool pages from kernel_map ---- */

static void *pool_page_alloc_kmem(struct pool *pp, int flags)
{
	(void)pp;
	return (void *)uvm_km_alloc_poolpage_cache(kernel_map, (flags & PR_WAITOK) != 0);
}

static void pool_page_free_kmem(struct pool *pp, void *v)
{
	(void)pp;
	uvm_km_free_poolpage_cache(kernel_map, (vaddr_t)v);
}

struct pool_allocator pool_allocator_kmem = {
	.pa_alloc = pool_page_alloc_kmem,
	.pa_free = pool_page_free_kmem,
	.pa_pagesz = PAGE_SIZE,
};

/* ---- lists and hash (pool lock held) ---- */

static void ph_link(struct pool_item_header **head, struct pool_item_header *ph)
{
	ph->ph_prev = NULL;
	ph->ph_next = *head;
	if (*head != NULL)
		(*head)->ph_prev = ph;
	*head = ph;
}

static void ph_unlink(struct pool_item_header **head, struct pool_item_header *ph)
{
	if (ph->ph_prev != NULL)
		ph->ph_prev->ph_next = ph->ph_next;
	else
		*head = ph->ph_next;
	if (ph->ph_next != NULL)
		ph->ph_next->ph_prev = ph->ph_prev;
	ph->ph_next = ph->ph_prev = NULL;
}

static inline unsigned ph_bucket(const struct pool *pp, vaddr_t page)
{
	uint64_t k = page / pp->pr_pagesz;
	return (unsigned)((k ^ (k >> 17)) * 0x9e3779b97f4a7c15ULL >> 40) & pp->pr_hashmask;
}

static struct pool_item_header *ph_lookup(const struct pool *pp, vaddr_t page)
{
	for (struct pool_item_header *ph = pp->pr_hash[ph_bucket(pp, page)]; ph != NULL; ph = ph->ph_hnext)
		if (ph->ph_page == page)
			return ph;
	return NULL;
}

static void ph_hash_insert(struct pool *pp, struct pool_item_header *ph)
{
	if (pp->pr_npages + 1 > 2 * ((uint64_t)pp->pr_hashmask + 1)) {
		unsigned nb = 2 * (pp->pr_hashmask + 1);
		struct pool_item_header **nh = mem_zalloc(struct pool_item_header *, nb);
		if (nh != NULL) {
			struct pool_item_header **old = pp->pr_hash;
			unsigned ob = pp->pr_hashmask + 1;
			pp->pr_hash = nh;
			pp->pr_hashmask = nb - 1;
			for (unsigned b = 0; b < ob; b++)
				for (struct pool_item_header *x = old[b], *nx; x != NULL; x = nx) {
					nx = x->ph_hnext;
					unsigned i = ph_bucket(pp, x->ph_page);
					x->ph_hnext = nh[i];
					nh[i] = x;
				}
			free(old);
		}
	}
	unsigned i = ph_bucket(pp, ph->ph_page);
	ph->ph_hnext = pp->pr_hash[i];
	pp->pr_hash[i] = ph;
}

static void ph_hash_remove(struct pool *pp, struct pool_item_header *ph)
{
	for (struct pool_item_header **p = &pp->pr_hash[ph_bucket(pp, ph->ph_page)]; *p != NULL; p = &(*p)->ph_hnext)
		if (*p == ph) {
			*p = ph->ph_hnext;
			return;
		}
	panic("pool %s: page %#lx missing from its hash", pp->pr_wchan, (unsigned long)ph->ph_page);
}

/* ---- pools ---- */

void pool_init(struct pool *pp, size_t size, unsigned align, unsigned ioff, int flags, const char *wchan,
    struct pool_allocator *palloc, int ipl)
{
	(void)ioff, (void)ipl;
	memset(pp, 0, sizeof(*pp));
	if (palloc == NULL)
		palloc = &pool_allocator_kmem;
	if (align == 0)
		align = 8;
	KASSERTMSG((align & (align - 1)) == 0, "pool_init(%s): alignment %u", wchan, align);
	pp->pr_alloc = palloc;
	pp->pr_pagesz = palloc->pa_pagesz ? palloc->pa_pagesz : PAGE_SIZE;
	pp->pr_size = (size + align - 1) & ~(size_t)(align - 1);
	if (pp->pr_size == 0 || pp->pr_size > pp->pr_pagesz)
		panic("pool_init(%s): object size %zu does not fit a %u-byte page", wchan, size, pp->pr_pagesz);
	pp->pr_itemsperpage = (unsigned)(pp->pr_pagesz / pp->pr_size);
	pp->pr_wchan = wchan;
	pp->pr_flags = flags | PR_NOTOUCH;
	pp->pr_maxidle = 1;
	pp->pr_hashmask = 63;
	pp->pr_hash = mem_zalloc(struct pool_item_header *, pp->pr_hashmask + 1);
	if (pp->pr_hash == NULL)
		panic("pool_init(%s): no host memory", wchan);
	mutex_init(&pp->pr_lock, LC_POOL);
}

static void pool_free_headers(struct pool *pp, bool give_pages)
{
	struct pool_item_header **lists[] = {&pp->pr_partial, &pp->pr_empty, &pp->pr_full};
	for (unsigned l = 0; l < 3; l++)
		while (*lists[l] != NULL) {
			struct pool_item_header *ph = *lists[l];
			ph_unlink(lists[l], ph);
			if (give_pages) {
				pp->pr_alloc->pa_free(pp, (void *)ph->ph_page);
				stats_inc(&pool_pagefree);
			}
			free(ph);
		}
	free(pp->pr_hash);
	pp->pr_hash = NULL;
	mutex_destroy(&pp->pr_lock);
}

void pool_destroy(struct pool *pp)
{
	mutex_enter(&pp->pr_lock);
	uint64_t out = pp->pr_nout;
	mutex_exit(&pp->pr_lock);
	if (out != 0) {
		uvm_bad_input("pool_destroy: pool %s still has %lu objects out", pp->pr_wchan, (unsigned long)out);
		return;
	}
	pool_free_headers(pp, true);
}

void pool_destroy_host(struct pool *pp)
{
	pool_free_headers(pp, false);
}

/* Takes a free object of ph.  => pool lock held */
static vaddr_t ph_take(struct pool *pp, struct pool_item_header *ph, bool was_empty)
{
	unsigned nwords = (pp->pr_itemsperpage + 63) / 64, idx = 0;
	for (unsigned w = 0; w < nwords; w++)
		if (ph->ph_freemap[w] != 0) {
			idx = w * 64 + (unsigned)__builtin_ctzll(ph->ph_freemap[w]);
			ph->ph_freemap[w] &= ph->ph_freemap[w] - 1;
			break;
		}
	ph->ph_nfree--;
	if (was_empty) {
		ph_unlink(&pp->pr_empty, ph);
		pp->pr_nidle--;
		ph_link(ph->ph_nfree ? &pp->pr_partial : &pp->pr_full, ph);
	} else if (ph->ph_nfree == 0) {
		ph_unlink(&pp->pr_partial, ph);
		ph_link(&pp->pr_full, ph);
	}
	pp->pr_nout++;
	pp->pr_nget++;
	return ph->ph_page + (vaddr_t)idx * pp->pr_size;
}

void *pool_get(struct pool *pp, int flags)
{
	mutex_enter(&pp->pr_lock);
	for (;;) {
		struct pool_item_header *ph = pp->pr_partial;
		bool was_empty = false;
		if (ph == NULL && (ph = pp->pr_empty) != NULL)
			was_empty = true;
		if (ph != NULL) {
			vaddr_t v = ph_take(pp, ph, was_empty);
			mutex_exit(&pp->pr_lock);
			stats_inc(&pool_gets);
			return (void *)v;
		}
		/* a new page: the allocator may map, shoot down or wait */
		mutex_exit(&pp->pr_lock);
		unsigned nwords = (pp->pr_itemsperpage + 63) / 64;
		struct pool_item_header *nph = mem_zalloc_flex(struct pool_item_header, ph_freemap, nwords);
		void *page = nph != NULL ? pp->pr_alloc->pa_alloc(pp, flags) : NULL;
		if (page == NULL) {
			free(nph);
			mutex_enter(&pp->pr_lock);
			pp->pr_nfail++;
			mutex_exit(&pp->pr_lock);
			stats_inc(&pool_fails);
			return NULL;
		}
		KASSERTMSG(((vaddr_t)page & (pp->pr_pagesz - 1)) == 0, "pool %s: page %p not aligned to %u",
		    pp->pr_wchan, page, pp->pr_pagesz);
		nph->ph_page = (vaddr_t)page;
		nph->ph_nfree = pp->pr_itemsperpage;
		for (unsigned i = 0; i < pp->pr_itemsperpage; i++)
			nph->ph_freemap[i / 64] |= 1ULL << (i % 64);
		stats_inc(&pool_pagealloc);
		mutex_enter(&pp->pr_lock);
		ph_hash_insert(pp, nph);
		ph_link(&pp->pr_empty, nph);
		pp->pr_npages++;
		pp->pr_nidle++;
		pp->pr_npagealloc++;
	}
}

/* The header and object index of v, or a reason it is none.  => pool lock held */
static const char *pool_locate(struct pool *pp, vaddr_t v, struct pool_item_header **php, unsigned *idxp)
{
	struct pool_item_header *ph = ph_lookup(pp, v & ~(vaddr_t)(pp->pr_pagesz - 1));
	if (ph == NULL)
		return "is not in a page of the pool";
	vaddr_t off = v - ph->ph_page;
	if (off % pp->pr_size != 0 || off / pp->pr_size >= pp->pr_itemsperpage)
		return "is not the start of an object";
	unsigned idx = (unsigned)(off / pp->pr_size);
	if (ph->ph_freemap[idx / 64] & (1ULL << (idx % 64)))
		return "is free already (double free)";
	*php = ph;
	*idxp = idx;
	return NULL;
}

bool pool_item_out(struct pool *pp, void *v)
{
	struct pool_item_header *ph;
	unsigned idx;
	mutex_enter(&pp->pr_lock);
	bool out = pool_locate(pp, (vaddr_t)v, &ph, &idx) == NULL;
	mutex_exit(&pp->pr_lock);
	return out;
}

void pool_put(struct pool *pp, void *v)
{
	struct pool_item_header *ph = NULL;
	unsigned idx = 0;
	mutex_enter(&pp->pr_lock);
	const char *why = pool_locate(pp, (vaddr_t)v, &ph, &idx);
	if (why != NULL) {
		mutex_exit(&pp->pr_lock);
		uvm_bad_input("pool_put: %p %s %s", v, why, pp->pr_wchan);
		return;
	}
	ph->ph_freemap[idx / 64] |= 1ULL << (idx % 64);
	bool was_full = ph->ph_nfree++ == 0;
	pp->pr_nout--;
	pp->pr_nput++;
	void *give = NULL;
	if (ph->ph_nfree == pp->pr_itemsperpage) {
		ph_unlink(was_full ? &pp->pr_full : &pp->pr_partial, ph);
		if (pp->pr_nidle >= pp->pr_maxidle) {
			ph_hash_remove(pp, ph);
			pp->pr_npages--;
			pp->pr_npagefree++;
			give = (void *)ph->ph_page;
		} else {
			ph_link(&pp->pr_empty, ph);
			pp->pr_nidle++;
		}
	} else if (was_full) {
		ph_unlink(&pp->pr_full, ph);
		ph_link(&pp->pr_partial, ph);
	}
	mutex_exit(&pp->pr_lock);
	stats_inc(&pool_puts);
	if (give != NULL) {
		free(ph);
		pp->pr_alloc->pa_free(pp, give);
		stats_inc(&pool_pagefree);
	}
}

/* ---- pool_cache ---- */

struct pool_cache_group {
	struct pool_cache_group *pcg_next;
	unsigned pcg_avail;
	void *pcg_objects[PCG_NOBJECTS];
};

struct pool_cache_cpu {
	struct pool_cache_group *cc_current, *cc_previous;
	uint64_t cc_gen; /* pc_gen when this CPU last drained its groups */
	/* owner writes, anyone reads (pool_cache_stats) */
	_Atomic uint64_t cc_hits, cc_misses, cc_depot, cc_topool;
} __cacheline_aligned;

struct pool_cache {
	struct pool pc_pool;
	kmutex_t pc_lock; /* the depot */
	struct pool_cache_group *pc_full, *pc_empty;
	int (*pc_ctor)(void *, void *, int);
	void (*pc_dtor)(void *, void *);
	void *pc_arg;
	unsigned pc_ncpu;
	struct pool_cache_cpu *pc_cpus;
	_Atomic uint64_t pc_gen; /* pool_cache_invalidate() calls: a CPU behind it drains its groups */
};

static inline void cc_bump(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

pool_cache_t pool_cache_init(size_t size, unsigned align, unsigned align_offset, int flags, const char *wchan,
    struct pool_allocator *palloc, int ipl, int (*ctor)(void *, void *, int), void (*dtor)(void *, void *),
    void *arg)
{
	KASSERTMSG(machine_cur != NULL, "pool_cache_init(%s) before machine_boot", wchan);
	struct pool_cache *pc = mem_zalloc(struct pool_cache, 1);
	if (pc == NULL)
		panic("pool_cache_init(%s): no host memory", wchan);
	pool_init(&pc->pc_pool, size, align, align_offset, flags, wchan, palloc, ipl);
	mutex_init(&pc->pc_lock, LC_POOL);
	pc->pc_ctor = ctor;
	pc->pc_dtor = dtor;
	pc->pc_arg = arg;
	pc->pc_ncpu = machine_cur->m_ncpu;
	if ((pc->pc_cpus = mem_alloc(struct pool_cache_cpu, pc->pc_ncpu)) == NULL)
		panic("pool_cache_init(%s): no host memory", wchan);
	memset(pc->pc_cpus, 0, sizeof(*pc->pc_cpus) * pc->pc_ncpu);
	return pc;
}

struct pool *pool_cache_pool(pool_cache_t pc)
{
	return &pc->pc_pool;
}

static void *pcache_construct(struct pool_cache *pc, int flags)
{
	void *obj = pool_get(&pc->pc_pool, flags);
	if (obj != NULL && pc->pc_ctor != NULL && pc->pc_ctor(pc->pc_arg, obj, flags) != 0) {
		pool_put(&pc->pc_pool, obj);
		obj = NULL;
	}
	return obj;
}

static void pcache_destruct(struct pool_cache *pc, void *obj)
{
	if (pc->pc_dtor != NULL)
		pc->pc_dtor(pc->pc_arg, obj);
	pool_put(&pc->pc_pool, obj);
}

static void pcg_drain(struct pool_cache *pc, struct pool_cache_group *g);

/* The CPU's part of an invalidation it has not done yet: its groups back. */
static inline struct pool_cache_cpu *pcache_cpu(struct pool_cache *pc, struct cpu_info *ci)
{
	struct pool_cache_cpu *cc = &pc->pc_cpus[ci->ci_cpuid];
	/* relaxed: the generation orders nothing; the depot's lock does */
	uint64_t gen = atomic_load_explicit(&pc->pc_gen, memory_order_relaxed);
	if (__predict_false(cc->cc_gen != gen)) {
		cc->cc_gen = gen;
		if (cc->cc_current != NULL)
			cc->cc_current->pcg_next = NULL;
		if (cc->cc_previous != NULL)
			cc->cc_previous->pcg_next = NULL;
		pcg_drain(pc, cc->cc_current);
		pcg_drain(pc, cc->cc_previous);
		cc->cc_current = cc->cc_previous = NULL;
	}
	return cc;
}

void pool_cache_invalidate(pool_cache_t pc)
{
	stats_inc(&pcache_inval);
	atomic_fetch_add_explicit(&pc->pc_gen, 1, memory_order_relaxed);
	mutex_enter(&pc->pc_lock);
	struct pool_cache_group *full = pc->pc_full;
	pc->pc_full = NULL;
	mutex_exit(&pc->pc_lock);
	/* outside the depot's lock: destructing puts objects back to the pool,
	 * whose emptied pages go back to the page allocator (a kernel shootdown
	 * with kmem.poolpage = vacache or plain) */
	pcg_drain(pc, full);
	struct cpu_info *ci = curcpu();
	if (ci != NULL)
		(void)pcache_cpu(pc, ci);
}

void *pool_cache_get(pool_cache_t pc, int flags)
{
	struct cpu_info *ci = curcpu();
	if (ci == NULL)
		return pcache_construct(pc, flags);
	struct pool_cache_cpu *cc = pcache_cpu(pc, ci);
	struct pool_cache_group *g = cc->cc_current;
	if (g == NULL || g->pcg_avail == 0) {
		struct pool_cache_group *p = cc->cc_previous;
		if (p != NULL && p->pcg_avail > 0) {
			cc->cc_previous = g;
			cc->cc_current = g = p;
		} else {
			/* both empty: a full group from the depot, this one to the empties */
			mutex_enter(&pc->pc_lock);
			struct pool_cache_group *full = pc->pc_full;
			if (full != NULL) {
				pc->pc_full = full->pcg_next;
				if (g != NULL) {
					g->pcg_next = pc->pc_empty;
					pc->pc_empty = g;
				}
				cc->cc_current = g = full;
			}
			mutex_exit(&pc->pc_lock);
			if (full == NULL) {
				cc_bump(&cc->cc_misses);
				stats_inc(&pcache_misses);
				return pcache_construct(pc, flags);
			}
			cc_bump(&cc->cc_depot);
			stats_inc(&pcache_depot);
		}
	}
	cc_bump(&cc->cc_hits);
	stats_inc(&pcache_hits);
	return g->pcg_objects[--g->pcg_avail];
}

void pool_cache_put(pool_cache_t pc, void *obj)
{
	struct cpu_info *ci = curcpu();
	if (ci == NULL) {
		pcache_destruct(pc, obj);
		return;
	}
	struct pool_cache_cpu *cc = pcache_cpu(pc, ci);
	struct pool_cache_group *g = cc->cc_current;
	if (g == NULL || g->pcg_avail == PCG_NOBJECTS) {
		struct pool_cache_group *p = cc->cc_previous;
		if (p != NULL && p->pcg_avail < PCG_NOBJECTS) {
			cc->cc_previous = g;
			cc->cc_current = g = p;
		} else {
			if (p == NULL && g != NULL) {
				/* the full current becomes the previous */
				cc->cc_previous = g;
				g = NULL;
			}
			/* an empty group from the depot; a full current goes there */
			mutex_enter(&pc->pc_lock);
			struct pool_cache_group *e = pc->pc_empty;
			if (e != NULL)
				pc->pc_empty = e->pcg_next;
			if (g != NULL) {
				g->pcg_next = pc->pc_full;
				pc->pc_full = g;
			}
			mutex_exit(&pc->pc_lock);
			if (e == NULL && (e = mem_zalloc(struct pool_cache_group, 1)) == NULL) {
				cc->cc_current = NULL;
				cc_bump(&cc->cc_topool);
				pcache_destruct(pc, obj);
				return;
			}
			e->pcg_avail = 0;
			cc->cc_current = g = e;
			cc_bump(&cc->cc_depot);
			stats_inc(&pcache_depot);
		}
	}
	g->pcg_objects[g->pcg_avail++] = obj;
	cc_bump(&cc->cc_hits);
	stats_inc(&pcache_hits);
}

static void pcg_drain(struct pool_cache *pc, struct pool_cache_group *g)
{
	while (g != NULL) {
		struct pool_cache_group *next = g->pcg_next;
		while (g->pcg_avail > 0)
			pcache_destruct(pc, g->pcg_objects[--g->pcg_avail]);
		free(g);
		g = next;
	}
}

void pool_cache_destroy(pool_cache_t pc)
{
	for (unsigned i = 0; i < pc->pc_ncpu; i++) {
		struct pool_cache_cpu *cc = &pc->pc_cpus[i];
		if (cc->cc_current != NULL)
			cc->cc_current->pcg_next = NULL;
		if (cc->cc_previous != NULL)
			cc->cc_previous->pcg_next = NULL;
		pcg_drain(pc, cc->cc_current);
		pcg_drain(pc, cc->cc_previous);
	}
	pcg_drain(pc, pc->pc_full);
	pcg_drain(pc, pc->pc_empty);
	mutex_destroy(&pc->pc_lock);
	pool_destroy(&pc->pc_pool);
	free(pc->pc_cpus);
	free(pc);
}

void pool_cache_stats(pool_cache_t pc, int cpu, struct pool_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < pc->pc_ncpu; i++) {
		if (cpu >= 0 && (unsigned)cpu != i)
			continue;
		struct pool_cache_cpu *cc = &pc->pc_cpus[i];
		st->pcs_hits += atomic_load_explicit(&cc->cc_hits, memory_order_relaxed);
		st->pcs_misses += atomic_load_explicit(&cc->cc_misses, memory_order_relaxed);
		st->pcs_depot += atomic_load_explicit(&cc->cc_depot, memory_order_relaxed);
		st->pcs_puts_to_pool += atomic_load_explicit(&cc->cc_topool, memory_order_relaxed);
	}
}
