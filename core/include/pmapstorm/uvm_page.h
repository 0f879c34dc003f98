/*
 * pmapstorm/uvm_page.h — physical pages: struct vm_page and the page allocator.
 *
 * One struct vm_page describes each frame of simulated physical memory, with
 * NetBSD's field names (sys/uvm/uvm_page.h) and a machine-dependent part
 * (mdpage) holding what the pmap keeps per page: the modified/referenced
 * attributes (atomic), the pv list and its lock, and the frame generation,
 * bumped every time the frame is freed, which coherence oracles use to tell
 * a stale translation from a live one.
 *
 * A struct vm_page starts a cache line and fills whole lines (192 bytes),
 * as Linux keeps its struct page at one line: two CPUs that map different
 * frames never write one line (the pv lock, the attributes, a page-table
 * page's count).  At 168 bytes, neighbouring frames shared a line, and two
 * CPUs each with a frame of its own queued for it (docs/performance.md,
 * section 12).
 */
#ifndef PMAPSTORM_UVM_PAGE_H
#define PMAPSTORM_UVM_PAGE_H

#include <stdatomic.h>
#include <pmapstorm/lock.h>
#include <pmapstorm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pv_entry;
struct uvm_object;
struct vm_anon;

/* mp_attrs: the page's modified/referenced attributes */
#define PP_ATTRS_M 0x01 /* modified */
#define PP_ATTRS_R 0x02 /* referenced */

struct vm_page_md {
	_Atomic uint32_t mp_attrs;     /* PP_ATTRS_* */
	_Atomic uint32_t mp_gen;       /* frame generation: +1 on every free */
	kmutex_t mp_pvlock;            /* protects mp_pvlist */
	struct pv_entry *mp_pvlist;    /* managed mappings of this page */
	uint32_t mp_ptpcount;          /* page-table page: live entries (pmap lock) */
};

/* flags */
#define PG_FREE 0x0001  /* on the free list */
#define PG_ZERO 0x0002  /* known to be zero-filled */
#define PG_PTP 0x0004   /* in use as a page-table page */
#define PG_BUSY 0x0008  /* allocated */

struct vm_page {
	paddr_t phys_addr;
	struct uvm_object *uobject;
	voff_t offset;
	struct vm_anon *uanon;
	_Atomic uint32_t flags;
	uint32_t wire_count;
	struct vm_page *pageq_next; /* free list link */
	struct vm_page_md mdpage;
} __attribute__((aligned(64))); /* whole lines: see the top */

/* uvm_pagealloc() flags */
#define UVM_PGA_USERESERVE 0x0001 /* may dip into the reserve */
#define UVM_PGA_ZERO 0x0002       /* return a zero-filled page */

struct vm_page *uvm_pagealloc(struct uvm_object *obj, voff_t off, struct vm_anon *anon, int flags);
void uvm_pagefree(struct vm_page *);
/* Waits until free pages appear (wmsg names the waiter, as in NetBSD). */
void uvm_wait(const char *wmsg);
/* Free frames now. */
uint64_t uvm_free_pages(void);

struct vm_page *PHYS_TO_VM_PAGE(paddr_t pa);
#define VM_PAGE_TO_PHYS(pg) ((pg)->phys_addr)

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_UVM_PAGE_H */
