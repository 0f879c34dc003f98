/*
 * pmapstorm/pmap.h — NetBSD's pmap(9) interface, over the simulated machine.
 *
 * Names, signatures, flags and semantics follow the pmap(9) manual (NetBSD
 * 7.1.2, section 9) and sys/uvm/uvm_pmap.h.  In brief:
 *  - pmap_enter(), pmap_remove(), pmap_protect(), pmap_kenter_pa() and
 *    pmap_kremove() may defer TLB invalidation until pmap_update(); the
 *    lazy strategies (shootdown.strategy netbsd-mi, latr) defer it past
 *    pmap_update() too, a remote CPU sweeping at its next tick or switch
 *    (README, "Lazy strategies"); the page operations below never do;
 *  - pmap_page_protect(), pmap_clear_modify() and pmap_clear_reference() are
 *    complete when they return (they shoot down before returning);
 *  - modified/referenced are attributes of the page, kept after every mapping
 *    is gone, and detected again after a clear;
 *  - unmanaged mappings (pmap_kenter_pa) are kernel-only, always wired, not
 *    pv-tracked, untouched by pmap_page_protect(), removed by pmap_kremove().
 *
 * Synchronization table (which operations may run concurrently):
 *  - any pmap operation on different pmaps: yes;
 *  - two operations on one user pmap: yes, serialized by the pmap's lock;
 *  - pmap_kenter_pa()/pmap_kremove() on disjoint kernel ranges: yes, lock-free
 *    (the kernel's page tables below the growkernel limit never change shape);
 *  - page operations (pmap_page_protect, clear/is modify/reference) against
 *    pmap operations on the same page: yes, ordered by the page's pv lock;
 *  - hardware page walks and TLB fills on every CPU: always, lock-free.
 * Every function here must be called from a CPU thread (cpu_attach()).
 */
#ifndef PMAPSTORM_PMAP_H
#define PMAPSTORM_PMAP_H

#include <pmapstorm/machine.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmap *pmap_t;

struct pmap_statistics {
	long resident_count; /* number of mapped pages */
	long wired_count;    /* number of wired pages */
};

/* A process, as far as pmap_procwr() needs one. */
struct proc {
	pmap_t p_pmap;
};

/* flags of pmap_enter() and pmap_kenter_pa(); the access type is VM_PROT_* in the low bits */
#define PMAP_WIRED 0x00000010   /* wired mapping */
#define PMAP_CANFAIL 0x00000020 /* may fail (ENOMEM) on resource shortage */
#define PMAP_KMPAGE 0x00000040  /* kernel page for kernel memory (pool/km) */
#define PMAP_CACHE_MASK 0x00000f00
#define PMAP_NOCACHE 0x00000100
#define PMAP_WRITE_COMBINE 0x00000200
#define PMAP_WRITE_BACK 0x00000300
#define PMAP_NOCACHE_OVR 0x00000400
#define PMAP_MD_MASK 0xff000000

extern struct pmap *const kernel_pmap_ptr;
#define pmap_kernel() (kernel_pmap_ptr)

/* required functions */
void pmap_init(void);
void pmap_virtual_space(vaddr_t *vstartp, vaddr_t *vendp);
pmap_t pmap_create(void);
void pmap_destroy(pmap_t);
void pmap_reference(pmap_t);
long pmap_resident_count(pmap_t);
long pmap_wired_count(pmap_t);
int pmap_enter(pmap_t, vaddr_t va, paddr_t pa, vm_prot_t prot, unsigned flags);
void pmap_remove(pmap_t, vaddr_t sva, vaddr_t eva);
void pmap_remove_all(pmap_t);
void pmap_protect(pmap_t, vaddr_t sva, vaddr_t eva, vm_prot_t prot);
void pmap_unwire(pmap_t, vaddr_t va);
bool pmap_extract(pmap_t, vaddr_t va, paddr_t *pap);
void pmap_kenter_pa(vaddr_t va, paddr_t pa, vm_prot_t prot, unsigned flags);
void pmap_kremove(vaddr_t va, vsize_t size);
void pmap_copy(pmap_t dst_map, pmap_t src_map, vaddr_t dst_addr, vsize_t len, vaddr_t src_addr);
void pmap_update(pmap_t);
void pmap_activate(struct lwp *);
void pmap_deactivate(struct lwp *);
void pmap_zero_page(paddr_t pa);
void pmap_copy_page(paddr_t src, paddr_t dst);
void pmap_page_protect(struct vm_page *, vm_prot_t prot);
bool pmap_clear_modify(struct vm_page *);
bool pmap_clear_reference(struct vm_page *);
bool pmap_is_modified(struct vm_page *);
bool pmap_is_referenced(struct vm_page *);
/* the cookie is a page number, as on x86 (d_mmap's): its physical address */
paddr_t pmap_phys_address(paddr_t cookie);

/* optional functions, all provided */
#define PMAP_STEAL_MEMORY 1
#define PMAP_GROWKERNEL 1
#define PMAP_FORK 1
#define PMAP_NEED_PROCWR 1
vaddr_t pmap_steal_memory(vsize_t size, vaddr_t *vstartp, vaddr_t *vendp);
vaddr_t pmap_growkernel(vaddr_t maxkvaddr);
void pmap_fork(pmap_t src_map, pmap_t dst_map);
void pmap_procwr(struct proc *p, vaddr_t va, vsize_t size);
void pmap_prefer(vaddr_t hint, vaddr_t *vap, vsize_t sz, int td);
#define PMAP_PREFER(hint, vap, sz, td) pmap_prefer((hint), (vap), (sz), (td))
#define PMAP_MAP_POOLPAGE(pa) ((vaddr_t)(PMAP_DIRECT_BASE + (paddr_t)(pa)))
#define PMAP_UNMAP_POOLPAGE(va) ((paddr_t)((vaddr_t)(va) - PMAP_DIRECT_BASE))

/*
 * Harness checkers (NetBSD DIAGNOSTIC style), for quiescent points.
 * pmap_check(): the statistics equal a recount of the page tables, every
 * page-table page's live-entry count is right, and managed PTEs and pv
 * entries agree one to one.  tlb_check() (run on the CPU that owns the TLB):
 * every entry agrees with a valid PTE (same frame, no more rights, dirty only
 * if the PTE is dirty) or is covered by a pending shootdown.  Both print each
 * violation to stderr and return how many they found.  Quiescent points
 * only: they read other CPUs' pending requests without synchronization.
 */
int pmap_check(pmap_t);
int tlb_check(void);

/* Frames the pmap took for page-table pages (all pmaps), for the metadata bound. */
uint64_t pmap_ptp_pages(void);
/* Free frames the CPUs keep for their next page-table pages (counted free
 * by uvm_free_pages(); drained to the free list when memory is short). */
uint64_t pmap_ptp_free_pages(void);

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_PMAP_H */
