/*
 * pmapstorm/uvm_km.h — kernel virtual memory: kernel_map, submaps, the
 * kernel object, uvm_km_alloc()/uvm_km_free() and pool pages.
 *
 * Names, flags and semantics follow NetBSD's sys/uvm/uvm_km.c rev 1.108
 * and sys/uvm/uvm_extern.h of that time (2011):
 *  - kernel_map covers [VM_MIN_KERNEL_ADDRESS, + kmem.kva); its first entry
 *    reserves whatever pmap_steal_memory() took before uvm_km_init();
 *  - a submap (uvm_km_suballoc) takes over a range of its parent and has its
 *    own lock: allocations inside it never touch the parent's lock;
 *  - UVM_KMF_WIRED memory is backed and mapped with pmap_kenter_pa() at
 *    once; UVM_KMF_PAGEABLE memory lives in the kernel object and its pages
 *    appear on uvm_fault(); UVM_KMF_VAONLY is bare address space;
 *  - frees remove the pages (uvm_km_pgremove[_intrsafe]), complete the
 *    shootdown (pmap_update) and only then release the address space.
 *    Unlike NetBSD 1.108, a frame is freed only after the shootdown that
 *    covers its last mapping completed (docs/architecture.md, rule 4: no frame is reused while
 *    a TLB may hold it), so uvm_km_pgremove[_intrsafe] unmap and update
 *    themselves before they free.
 *
 * Every function must run on a CPU (cpu_attach()), after machine_boot().
 *
 * Bad input (a size of 0, an unaligned free, a free of an address that was
 * never allocated, lies outside the map or was freed already): a panic
 * naming the call and the address in builds with KASSERTs; otherwise the
 * call does nothing, bumps the counter uvm.bad_input and leaves the
 * message in machine_errmsg().
 *
 * Not modelled: swap (pageable kernel pages are never paged out), map-entry
 * merging (every kernel allocation is a quantum allocation, as in NetBSD's
 * uvm_km_alloc), and uvm_map's protection, inheritance and advice arguments.
 */
#ifndef PMAPSTORM_UVM_KM_H
#define PMAPSTORM_UVM_KM_H

#include <pmapstorm/pmap.h>
#include <pmapstorm/uvm_page.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vm_map;

/* uvm_map() flags (sys/uvm/uvm_extern.h), a subset */
#define UVM_FLAG_FIXED 0x00010000   /* *startp is the only acceptable start */
#define UVM_FLAG_NOMERGE 0x00040000 /* never merge with a neighbour (always true here) */
#define UVM_FLAG_TRYLOCK 0x00200000 /* fail (EAGAIN) rather than wait for the map lock */
#define UVM_FLAG_NOWAIT 0x00400000  /* never wait */
#define UVM_FLAG_WAITVA 0x00800000  /* wait for address space to be freed */
#define UVM_FLAG_QUANTUM 0x01000000 /* the entry is never clipped: freed whole or not at all */
#define UVM_FLAG_VAONLY 0x02000000  /* uvm_unmap1(): the pages were removed already */

/* uvm_km_alloc() flags */
#define UVM_KMF_WIRED 0x1    /* wired: backed and mapped now */
#define UVM_KMF_PAGEABLE 0x2 /* pageable: kernel object, pages on fault */
#define UVM_KMF_VAONLY 0x4   /* address space only */
#define UVM_KMF_TYPEMASK (UVM_KMF_WIRED | UVM_KMF_PAGEABLE | UVM_KMF_VAONLY)
#define UVM_KMF_CANFAIL 0x8  /* fail (return 0) rather than wait for memory */
#define UVM_KMF_ZERO 0x10    /* zero-filled pages */
#define UVM_KMF_EXEC 0x20    /* executable mapping */
#define UVM_KMF_TRYLOCK UVM_FLAG_TRYLOCK
#define UVM_KMF_NOWAIT UVM_FLAG_NOWAIT /* fail rather than wait; may use the reserve */
#define UVM_KMF_WAITVA UVM_FLAG_WAITVA

/* map flags (vm_map.flags) */
#define VM_MAP_PAGEABLE 0x01 /* may hold pageable (kernel object) memory */
#define VM_MAP_INTRSAFE 0x02 /* interrupt safe: wired memory only */
#define VM_MAP_VACACHE 0x10  /* has a kva cache (uvm_km_vacache_init) */

#define UVM_UNKNOWN_OFFSET ((voff_t)-1)

/* A uvm object; only the kernel object exists in the model. */
#define UVM_OBJ_KERN (-2)
struct uvm_object {
	int uo_refs; /* UVM_OBJ_KERN: never dies */
};

extern struct vm_map *kernel_map;
/* The kernel object: owner of every pageable kernel page (pg->uobject). */
extern struct uvm_object *const uvm_kernel_object;

vaddr_t vm_map_min(const struct vm_map *);
vaddr_t vm_map_max(const struct vm_map *);
int vm_map_flags(const struct vm_map *);

/*
 * uvm_km_alloc: kernel memory of round_page(size) bytes in map.
 * => align: 0 or a power of two (at least a page)
 * => flags: one of WIRED / PAGEABLE / VAONLY, plus CANFAIL, ZERO, EXEC,
 *    TRYLOCK, NOWAIT, WAITVA
 * => returns 0 when the map has no room (and !WAITVA), when the map lock is
 *    busy (TRYLOCK), or when memory runs out with NOWAIT or CANFAIL (after
 *    giving back everything it took); otherwise waits (uvm_wait) for memory.
 * => may sleep unless NOWAIT; no lock held while it waits.
 */
vaddr_t uvm_km_alloc(struct vm_map *map, vsize_t size, vsize_t align, int flags);
/*
 * uvm_km_free: frees what uvm_km_alloc returned (whole allocations; the
 * type flag must match).  Pages are removed and the shootdown completed
 * before the address space is released.
 */
void uvm_km_free(struct vm_map *map, vaddr_t addr, vsize_t size, int flags);

/*
 * uvm_km_suballoc: carve a submap of size bytes out of map.
 * => fixed: *vmin is the required start; otherwise it is filled in.
 * => flags: VM_MAP_PAGEABLE and/or VM_MAP_INTRSAFE.
 * => submap must be NULL (the model allocates the map).
 * => panics when the parent has no room, as NetBSD does.
 */
struct vm_map *uvm_km_suballoc(struct vm_map *map, vaddr_t *vmin, vaddr_t *vmax, vsize_t size, int flags,
    bool fixed, struct vm_map *submap);

/*
 * uvm_map / uvm_unmap: the map layer under uvm_km (address space only;
 * obj is NULL or uvm_kernel_object).  0, ENOMEM (no room), EAGAIN (TRYLOCK
 * and the lock was busy) or EINVAL (FIXED and the range is taken or
 * outside the map).  uvm_unmap1 releases whole entries, or clips an
 * entry that was not a quantum allocation.
 */
int uvm_map(struct vm_map *map, vaddr_t *startp, vsize_t size, struct uvm_object *obj, voff_t off,
    vsize_t align, int flags);
void uvm_unmap1(struct vm_map *map, vaddr_t start, vaddr_t end, int flags);
#define uvm_unmap(map, s, e) uvm_unmap1((map), (s), (e), 0)

/*
 * uvm_km_pgremove: remove and free the kernel object's pages in
 * [startva, endva), after unmapping them and completing the shootdown.
 * uvm_km_pgremove_intrsafe: the same for wired memory of map (pages found
 * through pmap_extract, mappings removed with pmap_kremove).
 */
void uvm_km_pgremove(vaddr_t startva, vaddr_t endva);
void uvm_km_pgremove_intrsafe(struct vm_map *map, vaddr_t start, vaddr_t end);

/*
 * uvm_fault: make the page at va accessible for access (VM_PROT_*).
 * Only pageable kernel memory faults in: 0, EFAULT (no pageable memory at
 * va), EACCES (access not allowed).  The simulated MMU does not call it:
 * code that touches pageable memory calls it after an EFAULT from
 * mmu_load()/mmu_store() and retries, as trap() would.  Waits for memory.
 */
int uvm_fault(struct vm_map *map, vaddr_t va, vm_prot_t access);

/*
 * Pool pages (kmem.poolpage).  uvm_km_alloc_poolpage: direct — a frame
 * seen through the direct map (PMAP_MAP_POOLPAGE); vacache and plain —
 * uvm_km_alloc(WIRED).  The _cache variants use map's kva cache when the
 * mode is vacache and the map has one.  waitok false: may return 0, may use
 * the reserve.
 */
void uvm_km_vacache_init(struct vm_map *map, const char *name, size_t size);
vaddr_t uvm_km_alloc_poolpage(struct vm_map *map, bool waitok);
vaddr_t uvm_km_alloc_poolpage_cache(struct vm_map *map, bool waitok);
void uvm_km_free_poolpage(struct vm_map *map, vaddr_t addr);
void uvm_km_free_poolpage_cache(struct vm_map *map, vaddr_t addr);

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_UVM_KM_H */
