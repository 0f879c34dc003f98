/*
 * pmap_impl.h — the pmap's private structures (core/pmap only).
 */
#ifndef PMAPSTORM_PMAP_IMPL_H
#define PMAPSTORM_PMAP_IMPL_H

#include "../machine/machine_impl.h"
#include "../shootdown/shootdown_pmap.h"

#include <pmapstorm/pmap.h>
#include <pmapstorm/shootdown.h>


/* pmap.c: boot after the machine's hardware, halt before it (core/boot.c) */
int pmap_boot(struct machine *);
void pmap_halt(struct machine *);

/* mp_attrs: a mapping of the page was removed lazily and a TLB may still
 * cache it (pmap.c, "The lazy guard"); beside PP_ATTRS_M/R of uvm_page.h */
#define PP_ATTRS_LAZY 0x100u


/* A managed mapping of a page (NetBSD struct pv_entry). */
struct pv_entry {
	struct pv_entry *pv_next;
	struct pmap *pv_pmap;
	vaddr_t pv_va;
};

struct pmap {
	struct mmu_ctx pm_ctx;       /* what the MMU and strategies see */
	/* page tables, statistics, pv insertion.  A line of its own (two: its
	 * word, then its state), and what its holder writes inside the
	 * critical section starts the next: a CPU waiting for the lock reads
	 * the lock's lines, and a counter beside them was pulled away from
	 * the holder at every write (docs/performance.md, section 12) */
	kmutex_t pm_lock __cacheline_aligned;
	_Atomic unsigned pm_refcnt __cacheline_aligned;
	_Atomic long pm_resident;    /* struct pmap_statistics, kept incrementally */
	_Atomic long pm_wired;
	struct vm_page *pm_root;     /* L4 page-table page */
	/* VAs with a lazy removal some TLB may still cache ([lo, hi), empty
	 * when lo >= hi; pm_lock): entering one of them again goes through
	 * the lazy guard first (pmap.c) */
	vaddr_t pm_lazy_lo, pm_lazy_hi;
} __cacheline_aligned; /* pmaps are written by every CPU that runs them: one line each */
_Static_assert(offsetof(struct pmap, pm_lock) % 64 == 0 && offsetof(struct pmap, pm_refcnt) % 64 == 0,
    "struct pmap: the lock starts a line, and the counters its holder writes start another");

/* Per-CPU pmap state, one cache line apart (a CPU with a private pmap
 * writes no line another CPU writes).  Owner only: page-table pages
 * retired since the last update and the other CPUs that had their pmaps
 * loaded (ptp.c); whether the CPU queued lazy removals since its last
 * update, and the lazy guard's generation when it queued the first
 * (pmap.c); its count of page-table pages (allocated minus freed, summed
 * by readers).  Under pc_lock: the CPU's free page-table pages and the
 * batches waiting for a grace period (ptp.c). */
struct pmap_cpu {
	struct vm_page *pc_gc;
	unsigned pc_ngc;
	kcpuset_t pc_gc_cpus;
	bool pc_gc_asked;                /* pc_gc_ticket covers every page of pc_gc */
	uint64_t *pc_gc_ticket;          /* [cpu]: tickets asked at the update's start */
	bool pc_lazy;
	uint64_t pc_lazy_gen;
	/* what a completion costs (pmap.c, pmap.update_cost): the time in
	 * page operations since the last completion, the outermost
	 * operation's start and depth, whether it completed, and the
	 * invalidations (kernel ones apart) it handed to the strategy;
	 * whether this completion is timed (one in stats.update_sample, drawn
	 * from the CPU's ci_sample_rng when the previous one completed) */
	uint64_t pc_op_t0, pc_cost;
	unsigned pc_depth, pc_ninv, pc_nkinv;
	bool pc_synced, pc_timed;
	uint64_t *pc_sample_rng;
	struct pv_entry *pc_pv;          /* pv entries this CPU freed, for its next pmap_enter()s (pv_get) */
	unsigned pc_npv;
	_Atomic int64_t pc_ptps;
	kmutex_t pc_lock;
	struct vm_page *pc_ready;        /* free, zero page-table pages */
	_Atomic unsigned pc_nready;      /* relaxed: read without the lock by pmap_ptp_free_pages() */
	struct vm_page *pc_wait;         /* asked about: free once each CPU in pc_wait_cpus passed its ticket */
	unsigned pc_nwait;
	kcpuset_t pc_wait_cpus;
	uint64_t *pc_ticket;             /* [cpu]: cpu_qs_request() tickets of pc_wait */
	struct vm_page *pc_next;         /* retired after pc_wait was asked about */
	unsigned pc_nnext;
	kcpuset_t pc_next_cpus;
} __cacheline_aligned;

/* pmap.c: its configuration keys (stats.update_sample) */
extern const struct cfg_key pmap_keys[];

/* ptp.c: page-table pages and their per-CPU reclamation */
int ptp_boot(struct machine *, struct pmap_cpu *);
void ptp_halt(void);
struct vm_page *ptp_alloc(void);                /* NULL if no frame is free */
int ptp_alloc_n(struct vm_page **out, unsigned n); /* all n or none (ENOMEM) */
void ptp_free_unlinked(struct vm_page **, unsigned n); /* never linked: free at once */
/* pg was just unlinked from pm's tables (pm_lock held); freed once the
 * invalidations are complete and no walker can be inside it */
void ptp_retire(struct pmap *pm, struct vm_page *pg);
/* this CPU's update begins: ask the CPUs that may be walking its retired
 * pages for a quiescent state now, so the interrupt that takes the
 * shootdown answers it too */
void ptp_retired_ask(struct cpu_info *);
/* this CPU's invalidations are complete: its retired pages move on */
void ptp_retired_complete(struct cpu_info *);
void ptp_cpu_detach(struct cpu_info *);
bool ptp_reclaim(void);

struct lwp {
	struct pmap *l_pmap;
	struct cpu_info *l_cpu; /* where it runs, when it runs */
};

void pmap_cpu_detach(struct cpu_info *);

/* The calling CPU, where an operation needs one (its TLB, its per-CPU
 * state: an update, a page operation, a page-table page retired).
 * Checked in release builds too: a thread that is not attached would
 * crash further on without a word (pmap.h: every function on a CPU). */
static inline struct cpu_info *pmap_need_cpu(void)
{
	struct cpu_info *ci = curcpu();
	if (__builtin_expect(ci == NULL, 0))
		panic("pmap operations must run on a CPU (cpu_attach): pmap_update(), a page operation or a "
		      "page-table page's release called from a thread that is not attached");
	return ci;
}

#endif
