/*
 * uvm_impl.h — what the files of core/uvm share (not installed).
 *
 * core/uvm may use the pmap and sync layers (docs/architecture.md,
 * "Layers") and, like the pmap, the machine's private view
 * (machine_impl.h) for the free list and the CPUs.
 */
#ifndef PMAPSTORM_UVM_IMPL_H
#define PMAPSTORM_UVM_IMPL_H

#include "../machine/machine_impl.h"

#include <pmapstorm/pmap.h>
#include <pmapstorm/pool.h>
#include <pmapstorm/uvm_km.h>
#include <pmapstorm/uvm_page.h>

/* vm_page.flags bit of uvm_km: a frame handed out as a direct-mapped pool
 * page (cleared by the free list when the frame is reused) */
#define PG_KMPOOL 0x0100

/*
 * Bad input from a caller (issue 4, "Bad input"): a panic naming the call
 * and the address where KASSERTs are on; otherwise the counter
 * uvm.bad_input, the message in machine_errmsg(), and the call does
 * nothing.  Returns normally only in the second case.
 */
void uvm_bad_input(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* uvm.pagecache: the page allocator's front end (uvm_page.c) */
enum uvm_pagecache_mode {
	UVM_PAGECACHE_OFF = 0,    /* every allocation takes the global free-list lock */
	UVM_PAGECACHE_PERCPU = 1, /* a per-CPU cache of free pages in front of it */
};

/* kmem.poolpage: how pool pages are mapped (uvm_km.c) */
enum kmem_poolpage_mode {
	KMEM_POOLPAGE_DIRECT = 0,  /* PMAP_MAP_POOLPAGE: the direct map, no kenter, no shootdown */
	KMEM_POOLPAGE_VACACHE = 1, /* kernel_map's kva cache of VA chunks + pmap_kenter_pa */
	KMEM_POOLPAGE_PLAIN = 2,   /* uvm_km_alloc() / uvm_km_free() of one page each time */
};

/* the keys of the page allocator and of uvm_km (NULL-terminated) */
extern const struct cfg_key uvm_page_keys[], uvm_km_keys[];
int uvm_km_config_validate(const struct machine_config *);

/* uvm_km.c: the uvm layer after the pmap's boot (core/boot.c), and before
 * the pmap's halt; uvm_halt is safe after a failed boot */
int uvm_boot(struct machine *);
void uvm_halt(struct machine *);

/* uvm_page.c: the page allocator's per-CPU state, at boot and halt */
int uvm_page_boot(struct machine *);
void uvm_page_halt(struct machine *);
bool uvm_page_reclaim(void);

/* pool.c: a pool that is torn down at halt without a CPU (the kva cache):
 * frees only host memory */
void pool_destroy_host(struct pool *pp);
/* Is v an object of pp that is out (allocated)?  => pool lock not held */
bool pool_item_out(struct pool *pp, void *v);

/* ---- maps (uvm_map.c) ---- */

/* e_flags */
#define ME_QUANTUM 0x001   /* never clipped */
#define ME_FIRST 0x002     /* uvm_km_init's reservation of already-used space */
#define ME_SUBMAP 0x004    /* the range belongs to e_submap */
#define ME_KOBJ 0x008      /* kernel-object (pageable) memory: pages in e_pages */
#define ME_EXEC 0x010      /* executable (mapped with pmap_enter, not kenter) */
#define ME_KM_WIRED 0x100  /* uvm_km_alloc types: uvm_km_free must name the same */
#define ME_KM_PAGEABLE 0x200
#define ME_KM_VAONLY 0x400
#define ME_KM_TYPES (ME_KM_WIRED | ME_KM_PAGEABLE | ME_KM_VAONLY)

struct vm_map_entry {
	vaddr_t e_start, e_end;
	int e_flags;
	struct vm_map *e_submap;
	_Atomic(struct vm_page *) *e_pages; /* ME_KOBJ: one slot per page */
};

#define MAP_FREED_RING 16

struct vm_map {
	krwlock_t vm_lock;               /* class kernel_map */
	vaddr_t vm_min, vm_max;
	int vm_flags;                    /* VM_MAP_* */
	struct vm_map_entry *vm_ents;    /* sorted by address, disjoint */
	size_t vm_n, vm_cap;
	vaddr_t vm_first_free;           /* no free address lies below it */
	_Atomic uint64_t vm_gen;         /* +1 per unmap: what WAITVA waiters watch */
	vaddr_t vm_freed[MAP_FREED_RING]; /* recently freed starts: double-free diagnosis */
	unsigned vm_freed_i;
	struct vm_map *vm_next;          /* every map, for halt */
	struct pool *vm_vacache;         /* kva cache (VM_MAP_VACACHE) */
	struct pool_allocator vm_vacache_pa;
};

/* Create / destroy a map (host memory only). */
void uvm_map_boot(void);
struct vm_map *uvm_map_create(vaddr_t min, vaddr_t max, int flags);
void uvm_map_destroy_all(void);
/* uvm_map() with entry flags for uvm_km (ME_KM_*, ME_EXEC); 0 or an errno */
int uvm_map_enter(struct vm_map *map, vaddr_t *startp, vsize_t size, vsize_t align, int flags, int eflags);
/* uvm_km_free's check: [start, end) is whole allocations of type ktype
 * (ME_KM_*) in map.  true, or false after reporting bad input for fn. */
bool uvm_map_check_free(struct vm_map *map, vaddr_t start, vaddr_t end, int ktype, const char *fn);
/* Kernel-object pages in [start, end) of kernel_map and its submaps,
 * detached from their slots into a chain (pageq_next); returns how many.
 * => each map's lock is taken and released here; the caller unmaps. */
unsigned uvm_map_kobj_detach(vaddr_t start, vaddr_t end, struct vm_page **chain);
/* For uvm_fault: the map holding va (descending into submaps), read-locked,
 * and the index of va's entry, or NULL (nothing locked). */
struct vm_map *uvm_map_lookup_locked(struct vm_map *map, vaddr_t va, size_t *idx);

#endif /* PMAPSTORM_UVM_IMPL_H */
