/*
 * phys.c — simulated physical memory: frames, struct vm_page, the free list.
 *
 * Frames are real host memory, placed by libnuma as machine.numa says
 * (interleaved over the nodes by default, the policy of a big kernel's
 * page allocator; or the local node, or one node) when the host has more
 * than one node, else mapped with mmap (core/topo: topo_mem_alloc).
 * Each frame has a struct vm_page; freeing a frame bumps its generation (mdpage.mp_gen), which the
 * coherence oracles compare against the generation a TLB entry recorded at
 * fill time.
 *
 * The free list is the machine's: the pmap takes page-table pages from it
 * (the pmap may not use uvm: docs/architecture.md, "Layers"), and uvm_pagealloc() is a front end
 * over it.  A reserve (NetBSD's uvmexp.reserve_kernel) is kept for callers
 * that pass UVM_PGA_USERESERVE, which includes page-table allocation.
 *
 * The page allocator may keep free frames in per-CPU caches above this list
 * (uvm.pagecache), and so does the pmap for page-table pages
 * (core/pmap/ptp.c): phys_take()/phys_give() move chains of frames that
 * stay marked free, and when the list cannot serve phys_alloc(), the uvm
 * layer's and the pmap's reclaim hooks drain those caches back before the
 * allocation fails.
 */
#include "machine_impl.h"

#include <errno.h>
#include <string.h>
#include <stdlib.h>

STATS_COUNTER(phys_allocs, "phys.allocs", "frames allocated")
STATS_COUNTER(phys_frees, "phys.frees", "frames freed")
STATS_COUNTER(phys_fails, "phys.failures", "allocations that found no frame")
STATS_COUNTER(phys_reserve_used, "phys.reserve_used", "allocations served from the reserve")
STATS_COUNTER(phys_waits, "phys.waits", "waits for free frames (uvm_wait)")

/* neighbouring frames share no line (pmapstorm/uvm_page.h); mem_zalloc
 * aligns the array to the type */
_Static_assert(sizeof(struct vm_page) % 64 == 0 && _Alignof(struct vm_page) == 64,
    "struct vm_page fills whole cache lines");

int phys_init(struct machine *m)
{
	m->m_npages = m->m_cfg.mc_memory >> PAGE_SHIFT;
	size_t bytes = (size_t)m->m_cfg.mc_memory;
	m->m_numa = m->m_numa_plan.tn_active;
	m->m_phys = topo_mem_alloc(&m->m_numa_plan, bytes);
	if (m->m_phys == NULL)
		return machine_seterr(ENOMEM, "machine.memory: cannot allocate %zu bytes of host memory", bytes);
	m->m_pages = mem_zalloc(struct vm_page, m->m_npages);
	if (m->m_pages == NULL)
		return machine_seterr(ENOMEM, "machine.memory: no host memory for %lu vm_page structures",
		    (unsigned long)m->m_npages);
	mutex_init(&m->m_free_lock, LC_PAGEFREE);
	/* free list in address order.  Frame 0 is never handed out (as PC
	 * firmware keeps page 0): physical address 0 then means "no table"
	 * to the walker and "no frame" everywhere else. */
	for (uint64_t i = m->m_npages; i-- > 0;) {
		struct vm_page *pg = &m->m_pages[i];
		pg->phys_addr = ptoa(i);
		mutex_init(&pg->mdpage.mp_pvlock, LC_PV);
		if (i == 0) {
			atomic_store_explicit(&pg->flags, PG_BUSY, memory_order_relaxed);
			continue;
		}
		atomic_store_explicit(&pg->flags, PG_FREE | PG_ZERO, memory_order_relaxed);
		pg->pageq_next = m->m_free_head;
		m->m_free_head = pg;
	}
	atomic_store(&m->m_free_count, m->m_npages - 1);
	/* NetBSD keeps a few pages (uvmexp.reserve_kernel, 5 by default) for
	 * the kernel's own allocations; scale it with memory, at least 8 */
	m->m_reserve = m->m_npages / 256 > 8 ? m->m_npages / 256 : 8;
	return 0;
}

void phys_fini(struct machine *m)
{
	if (m->m_pages != NULL) {
		for (uint64_t i = 0; i < m->m_npages; i++)
			mutex_destroy(&m->m_pages[i].mdpage.mp_pvlock);
		free(m->m_pages);
	}
	if (m->m_phys != NULL) {
		topo_mem_free(m->m_phys, (size_t)m->m_cfg.mc_memory);
	}
}

void phys_mark_busy(struct vm_page *pg)
{
	uint32_t f = atomic_load_explicit(&pg->flags, memory_order_relaxed);
	KASSERTMSG(f & PG_FREE, "frame %#lx on the free list without PG_FREE", (unsigned long)pg->phys_addr);
	pg->pageq_next = NULL;
	atomic_store_explicit(&pg->flags, (f & PG_ZERO) | PG_BUSY, memory_order_release);
	pg->uobject = NULL;
	pg->uanon = NULL;
	pg->offset = 0;
	pg->wire_count = 0;
}

static struct vm_page *phys_alloc_once(struct machine *m, bool usereserve)
{
	mutex_enter(&m->m_free_lock);
	uint64_t nfree = atomic_load_explicit(&m->m_free_count, memory_order_relaxed);
	if (nfree == 0 || (!usereserve && nfree <= m->m_reserve)) {
		mutex_exit(&m->m_free_lock);
		return NULL;
	}
	if (nfree <= m->m_reserve)
		stats_inc(&phys_reserve_used);
	struct vm_page *pg = m->m_free_head;
	m->m_free_head = pg->pageq_next;
	atomic_store_explicit(&m->m_free_count, nfree - 1, memory_order_relaxed);
	mutex_exit(&m->m_free_lock);
	return pg;
}

struct vm_page *phys_alloc(bool usereserve)
{
	struct machine *m = machine_cur;
	struct vm_page *pg = phys_alloc_once(m, usereserve);
	/* frames may sit in the page allocator's per-CPU caches: pull them
	 * back and look again (mu_reclaim says whether it found any) */
	while (pg == NULL && m->m_uvm_hooks.mu_reclaim != NULL && m->m_uvm_hooks.mu_reclaim())
		pg = phys_alloc_once(m, usereserve);
	/* and the pmap's per-CPU caches of free page-table pages */
	while (pg == NULL && m->m_hooks.mh_ptp_reclaim != NULL && m->m_hooks.mh_ptp_reclaim())
		pg = phys_alloc_once(m, usereserve);
	/* and frames a lazy strategy held back until every TLB dropped them */
	if (pg == NULL && m->m_hooks.mh_page_reclaim != NULL) {
		m->m_hooks.mh_page_reclaim();
		pg = phys_alloc_once(m, usereserve);
	}
	if (pg == NULL) {
		stats_inc(&phys_fails);
		return NULL;
	}
	phys_mark_busy(pg);
	stats_inc(&phys_allocs);
	return pg;
}

void phys_mark_free(struct vm_page *pg)
{
	uint32_t f = atomic_load_explicit(&pg->flags, memory_order_relaxed);
	if (f & PG_FREE)
		panic("phys_free: frame %#lx freed twice", (unsigned long)pg->phys_addr);
	KASSERTMSG(pg->mdpage.mp_pvlist == NULL, "frame %#lx freed while mapped", (unsigned long)pg->phys_addr);
	/* the generation changes before the frame can be handed out again */
	atomic_fetch_add_explicit(&pg->mdpage.mp_gen, 1, memory_order_release);
	atomic_store_explicit(&pg->mdpage.mp_attrs, 0, memory_order_relaxed);
	atomic_store_explicit(&pg->flags, PG_FREE, memory_order_relaxed);
}

/*
 * A frame must not be reused while any TLB may still hold a translation to
 * it (docs/architecture.md, rule 4).  A strategy whose pmap_update() returns before every TLB
 * dropped its entries (netbsd-mi, latr) keeps the frame until they did and
 * then calls phys_free_now().  Every free path — this one and the page
 * allocator's per-CPU caches — asks first.
 */
bool phys_free_defer(struct vm_page *pg)
{
	struct machine *m = machine_cur;
	return m->m_hooks.mh_page_free != NULL && m->m_hooks.mh_page_free(pg);
}

void phys_reclaim_deferred(void)
{
	struct machine *m = machine_cur;
	if (m->m_hooks.mh_page_reclaim != NULL)
		m->m_hooks.mh_page_reclaim();
	if (m->m_hooks.mh_ptp_reclaim != NULL)
		m->m_hooks.mh_ptp_reclaim();
}

void phys_free(struct vm_page *pg)
{
	uint32_t f = atomic_load_explicit(&pg->flags, memory_order_relaxed);
	if (f & PG_FREE)
		panic("phys_free: frame %#lx freed twice", (unsigned long)pg->phys_addr);
	KASSERTMSG(pg->mdpage.mp_pvlist == NULL, "frame %#lx freed while mapped", (unsigned long)pg->phys_addr);
	if (phys_free_defer(pg))
		return;
	phys_free_now(pg);
}

/* phys_free_now() if the free list's lock is free at once; false otherwise.
 * => for interrupt context, which may run inside that lock's own wait queue */
bool phys_free_try(struct vm_page *pg)
{
	struct machine *m = machine_cur;
	if (!mutex_tryenter(&m->m_free_lock))
		return false;
	phys_mark_free(pg);
	pg->pageq_next = m->m_free_head;
	m->m_free_head = pg;
	atomic_store_explicit(&m->m_free_count,
	    atomic_load_explicit(&m->m_free_count, memory_order_relaxed) + 1, memory_order_release);
	mutex_exit(&m->m_free_lock);
	stats_inc(&phys_frees);
	return true;
}

void phys_free_now(struct vm_page *pg)
{
	phys_mark_free(pg);
	pg->pageq_next = NULL;
	phys_give(pg, 1);
	stats_inc(&phys_frees);
}

void phys_give(struct vm_page *chain, unsigned n)
{
	struct machine *m = machine_cur;
	if (chain == NULL)
		return;
	struct vm_page *tail = chain;
	while (tail->pageq_next != NULL)
		tail = tail->pageq_next;
	mutex_enter(&m->m_free_lock);
	tail->pageq_next = m->m_free_head;
	m->m_free_head = chain;
	atomic_store_explicit(&m->m_free_count,
	    atomic_load_explicit(&m->m_free_count, memory_order_relaxed) + n, memory_order_release);
	mutex_exit(&m->m_free_lock);
}

unsigned phys_take(unsigned n, bool usereserve, struct vm_page **chain)
{
	struct machine *m = machine_cur;
	mutex_enter(&m->m_free_lock);
	uint64_t nfree = atomic_load_explicit(&m->m_free_count, memory_order_relaxed);
	uint64_t avail = usereserve ? nfree : (nfree > m->m_reserve ? nfree - m->m_reserve : 0);
	unsigned got = avail < n ? (unsigned)avail : n;
	struct vm_page *head = m->m_free_head, *last = NULL;
	for (unsigned i = 0; i < got; i++) {
		last = last == NULL ? head : last->pageq_next;
	}
	*chain = got ? head : NULL;
	if (got) {
		m->m_free_head = last->pageq_next;
		last->pageq_next = NULL;
		atomic_store_explicit(&m->m_free_count, nfree - got, memory_order_relaxed);
	}
	mutex_exit(&m->m_free_lock);
	return got;
}

/* => may be called from a CPU (keeps taking IPIs) or any other thread */
void phys_wait(void)
{
	struct machine *m = machine_cur;
	unsigned iter = 0;
	stats_inc(&phys_waits);
	while (atomic_load_explicit(&m->m_free_count, memory_order_acquire) <= m->m_reserve) {
		if ((iter & 63) == 0)
			phys_reclaim_deferred();
		cpu_spin_wait(&iter);
	}
}

struct vm_page *PHYS_TO_VM_PAGE(paddr_t pa)
{
	struct machine *m = machine_cur;
	if (m == NULL || atop(pa) >= m->m_npages)
		return NULL;
	return &m->m_pages[atop(pa)];
}
