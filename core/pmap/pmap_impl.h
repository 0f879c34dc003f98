/*
 * pmap_impl.h — the pmap's private structures (core/pmap only).
 */
#ifndef PMAPSTORM_PMAP_IMPL_H
#define PMAPSTORM_PMAP_IMPL_H

#include "../machine/machine_impl.h"

#include <pmapstorm/pmap.h>
#include <pmapstorm/shootdown.h>

/* core/shootdown/shootdown.c: the strategies' common state */
int sd_common_boot(struct machine *);
void sd_reclaim_deferred(void); /* frees the deferred frames no TLB can hold any more */
void sd_common_halt(void);

/* core/shootdown/shootdown.c */
bool shootdown_check_name(const char *name, bool allow_unsafe, char *why, size_t len);

/* A managed mapping of a page (NetBSD struct pv_entry). */
struct pv_entry {
	struct pv_entry *pv_next;
	struct pmap *pv_pmap;
	vaddr_t pv_va;
};

struct pmap {
	struct mmu_ctx pm_ctx;       /* what the MMU and strategies see */
	kmutex_t pm_lock;            /* page tables, statistics, pv insertion */
	_Atomic unsigned pm_refcnt;
	_Atomic long pm_resident;    /* struct pmap_statistics, kept incrementally */
	_Atomic long pm_wired;
	struct vm_page *pm_root;     /* L4 page-table page */
} __cacheline_aligned; /* pmaps are written by every CPU that runs them: one line each */

/* Per-CPU pmap state: page-table pages to free after the next update. */
struct pmap_cpu {
	struct vm_page *pc_gc;
};

struct lwp {
	struct pmap *l_pmap;
	struct cpu_info *l_cpu; /* where it runs, when it runs */
};

void pmap_cpu_detach(struct cpu_info *);

#endif
