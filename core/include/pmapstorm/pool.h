/*
 * pmapstorm/pool.h — a pool(9)-like allocator of fixed-size kernel objects
 * on pool pages, with a per-CPU pool_cache(9) front.
 *
 * Names follow NetBSD's sys/sys/pool.h and pool(9) / pool_cache(9) (NetBSD
 * 5-6, sys/kern/subr_pool.c).  Objects are simulated kernel addresses
 * (void * holding a vaddr_t): the host never dereferences them; code reads
 * and writes them with mmu_load()/mmu_store().  So every pool keeps its
 * bookkeeping off the page (NetBSD's PR_NOTOUCH / off-page headers).
 *
 *  - pool_init(): objects of size bytes carved from pages of the pool's
 *    allocator (NULL: pool_allocator_kmem, which takes pool pages as
 *    kmem.poolpage says).  Pages are aligned to their own size.
 *  - pool_get() / pool_put(): under the pool's lock (lock class pool).
 *  - pool_cache_*(): a per-CPU front of two magazines of PCG_NOBJECTS
 *    objects each, and a depot of full and empty magazines under the
 *    cache's lock; a CPU's magazines are touched only by that CPU.  An
 *    object freed on another CPU than it was allocated on goes into the
 *    freeing CPU's magazines.
 *
 * Every call must run on a CPU after machine_boot(); a pool must be
 * destroyed before machine_halt().  Bad input (pool_put of an object that
 * is not out, or of an address outside the pool) is handled as uvm_km.h
 * says: a panic with KASSERTs, else a counted error (uvm.bad_input).
 */
#ifndef PMAPSTORM_POOL_H
#define PMAPSTORM_POOL_H

#include <pmapstorm/uvm_km.h>

#ifdef __cplusplus
extern "C" {
#endif

/* pool_get() flags */
#define PR_NOWAIT 0x00 /* may return NULL */
#define PR_WAITOK 0x01 /* waits for memory */
/* pool_init() flags */
#define PR_NOTOUCH 0x400 /* never touch the objects (always the case here) */

#define PCG_NOBJECTS 15 /* objects per magazine (NetBSD PCG_NOBJECTS_NORMAL) */

struct pool;
struct pool_item_header;

struct pool_allocator {
	void *(*pa_alloc)(struct pool *, int flags); /* a page of pa_pagesz bytes, or NULL */
	void (*pa_free)(struct pool *, void *);
	unsigned pa_pagesz;                          /* 0: PAGE_SIZE */
	void *pa_arg;                                /* for the allocator (a map) */
};

/* Pool pages from uvm_km_alloc_poolpage_cache(kernel_map) / _free_poolpage_cache. */
extern struct pool_allocator pool_allocator_kmem;

struct pool {
	kmutex_t pr_lock;
	const char *pr_wchan;
	struct pool_allocator *pr_alloc;
	size_t pr_size;           /* object size, aligned */
	unsigned pr_itemsperpage;
	unsigned pr_pagesz;
	int pr_flags;
	unsigned pr_maxidle;      /* empty pages kept before they go back */
	struct pool_item_header *pr_partial, *pr_empty, *pr_full;
	struct pool_item_header **pr_hash;
	unsigned pr_hashmask;
	/* statistics (pool lock) */
	uint64_t pr_nget, pr_nput, pr_nfail;
	uint64_t pr_npagealloc, pr_npagefree;
	uint64_t pr_nout, pr_npages, pr_nidle;
};

void pool_init(struct pool *pp, size_t size, unsigned align, unsigned ioff, int flags, const char *wchan,
    struct pool_allocator *palloc, int ipl);
/* => every object back (else a bad-input panic); frees the pages */
void pool_destroy(struct pool *pp);
void *pool_get(struct pool *pp, int flags);
void pool_put(struct pool *pp, void *v);

typedef struct pool_cache *pool_cache_t;

struct pool_cache_stats {
	uint64_t pcs_hits;    /* gets and puts served by a CPU's magazines */
	uint64_t pcs_misses;  /* gets that went to the pool */
	uint64_t pcs_depot;   /* magazine exchanges with the depot */
	uint64_t pcs_puts_to_pool; /* puts that went to the pool */
};

pool_cache_t pool_cache_init(size_t size, unsigned align, unsigned align_offset, int flags, const char *wchan,
    struct pool_allocator *palloc, int ipl, int (*ctor)(void *arg, void *obj, int flags),
    void (*dtor)(void *arg, void *obj), void *arg);
/* => no CPU uses it any more; every object back */
void pool_cache_destroy(pool_cache_t);
void *pool_cache_get(pool_cache_t, int flags);
void pool_cache_put(pool_cache_t, void *obj);
/* The page daemon's drain (NetBSD pool_drain() -> pool_cache_invalidate()):
 * the depot's cached objects go back to the pool now, so its empty pages
 * go back to the page allocator; every CPU gives back its own groups at
 * its next get or put (NetBSD cross-calls them). */
void pool_cache_invalidate(pool_cache_t);
/* Hits, misses and depot traffic of one CPU (cpu = -1: all CPUs). */
void pool_cache_stats(pool_cache_t, int cpu, struct pool_cache_stats *);
struct pool *pool_cache_pool(pool_cache_t);

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_POOL_H */
