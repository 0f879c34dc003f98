/*
 * uvm_map.c — kernel maps: a virtual-address allocator per map, submaps.
 *
 * What it models.  The part of NetBSD's sys/uvm/uvm_map.c (NetBSD 5, the
 * era of uvm_km.c 1.108) that kernel memory uses: uvm_map() finding room
 * for an allocation (first fit above a hint, with alignment), UVM_FLAG_FIXED,
 * UVM_FLAG_TRYLOCK (vm_map_lock_try), UVM_FLAG_NOWAIT and UVM_FLAG_WAITVA
 * (sleep until an unmap frees address space), UVM_FLAG_QUANTUM entries,
 * which are never clipped, and submaps, whose range the parent keeps as one
 * entry while the submap's own lock governs the inside (uvm_km.c's
 * overview: "submaps ... break up the locking ... into smaller chunks").
 *
 * Structure.  A map is a sorted array of disjoint entries, searched by
 * bisection; a first-free hint (NetBSD's map->first_free) bounds the scan.
 * Entries come from host memory, so NetBSD's map-entry reservations
 * (uvm_mapent_overhead, the kernel map's entry pool) and entry merging are
 * not modelled.  Kernel-object entries carry their pages in a slot array
 * (a simplification of uao's page hash: the kernel object's offset is the
 * address minus vm_map_min(kernel_map), so an entry's slots are exactly the
 * object's pages in that range).
 *
 * Locking.  One krwlock per map, class kernel_map: writers change the entry
 * array, readers (uvm_fault, the free-time checks) look entries up.  A
 * slot of a kernel-object entry changes by atomic exchange under the read
 * lock.  Lock order: a map, then its submap is never held together with it
 * (lookups drop the parent first); a map lock, then pmaps/pmap locks
 * (pmap_growkernel under the write lock, as NetBSD's uvm_map_prepare
 * does); a map lock, then the page allocator's locks.  No map lock is held
 * across pmap_update() or any wait: WAITVA waiters drop the lock and watch
 * the map's generation with cpu_spin_wait().
 */
#include "uvm_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

STATS_COUNTER(uvm_map_enters, "uvm.map.enters", "entries made by uvm_map()")
STATS_COUNTER(uvm_map_removes, "uvm.map.removes", "ranges released by uvm_unmap1()")
STATS_COUNTER(uvm_map_novas, "uvm.map.no_va", "uvm_map() calls that found no room")
STATS_COUNTER(uvm_map_trylock_fail, "uvm.map.trylock_fail", "UVM_FLAG_TRYLOCK calls that found the map locked")
STATS_COUNTER(uvm_map_waitva, "uvm.map.waitva", "UVM_FLAG_WAITVA waits for address space")

static struct vm_map *all_maps;   /* every map (boot and suballoc), for halt */
static kmutex_t all_maps_lock;    /* class kernel_map is rw: a pool-class mutex guards the list */
static _Atomic vaddr_t uvm_maxkaddr; /* end of the kernel page tables uvm asked for */

vaddr_t vm_map_min(const struct vm_map *map)
{
	return map->vm_min;
}

vaddr_t vm_map_max(const struct vm_map *map)
{
	return map->vm_max;
}

int vm_map_flags(const struct vm_map *map)
{
	return map->vm_flags;
}

struct vm_map *uvm_map_create(vaddr_t min, vaddr_t max, int flags)
{
	struct vm_map *map = mem_zalloc(struct vm_map, 1);
	if (map == NULL)
		return NULL;
	rw_init(&map->vm_lock, LC_KERNEL_MAP);
	map->vm_min = min;
	map->vm_max = max;
	map->vm_flags = flags;
	map->vm_first_free = min;
	mutex_enter(&all_maps_lock);
	map->vm_next = all_maps;
	all_maps = map;
	mutex_exit(&all_maps_lock);
	return map;
}

void uvm_map_boot(void)
{
	mutex_init(&all_maps_lock, LC_POOL);
	atomic_store(&uvm_maxkaddr, 0);
	all_maps = NULL;
}

void uvm_map_destroy_all(void)
{
	struct vm_map *map, *next;
	for (map = all_maps; map != NULL; map = next) {
		next = map->vm_next;
		if (map->vm_vacache != NULL) {
			pool_destroy_host(map->vm_vacache);
			free(map->vm_vacache);
		}
		for (size_t i = 0; i < map->vm_n; i++)
			free(map->vm_ents[i].e_pages);
		free(map->vm_ents);
		rw_destroy(&map->vm_lock);
		free(map);
	}
	all_maps = NULL;
	mutex_destroy(&all_maps_lock);
}

/* First entry whose end lies above va (vm_n if none).  => map locked */
static size_t map_search(const struct vm_map *map, vaddr_t va)
{
	size_t lo = 0, hi = map->vm_n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (map->vm_ents[mid].e_end <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* => write lock held; false: no host memory */
static bool map_insert(struct vm_map *map, size_t i, const struct vm_map_entry *e)
{
	if (map->vm_n == map->vm_cap) {
		size_t cap = map->vm_cap ? map->vm_cap * 2 : 16;
		struct vm_map_entry *n = mem_realloc(struct vm_map_entry, map->vm_ents, cap);
		if (n == NULL)
			return false;
		map->vm_ents = n;
		map->vm_cap = cap;
	}
	memmove(&map->vm_ents[i + 1], &map->vm_ents[i], (map->vm_n - i) * sizeof(*e));
	map->vm_ents[i] = *e;
	map->vm_n++;
	return true;
}

/*
 * Find room for size bytes aligned to align at or above *startp.
 * => write lock held; returns the insertion index, or SIZE_MAX
 */
static size_t map_findspace(struct vm_map *map, vaddr_t *startp, vsize_t size, vsize_t align)
{
	vaddr_t pos = *startp > map->vm_first_free ? *startp : map->vm_first_free;
	size_t i = map_search(map, pos);
	for (;;) {
		vaddr_t cand = (pos + align - 1) & ~(align - 1);
		vaddr_t gap_end = i < map->vm_n ? map->vm_ents[i].e_start : map->vm_max;
		if (cand >= pos && cand <= gap_end && gap_end - cand >= size) {
			*startp = cand;
			return i;
		}
		if (i >= map->vm_n)
			return SIZE_MAX;
		pos = map->vm_ents[i].e_end;
		i++;
	}
}

/*
 * uvm_map's work.  => no lock held; may wait (WAITVA) with none held
 */
int uvm_map_enter(struct vm_map *map, vaddr_t *startp, vsize_t size, vsize_t align, int flags, int eflags)
{
	size = round_page(size);
	if (align == 0)
		align = PAGE_SIZE;
	if (size == 0 || (align & (align - 1)) != 0 || align < PAGE_SIZE)
		return EINVAL;
	if (eflags & ME_KOBJ)
		eflags |= ME_QUANTUM; /* slot arrays are never split */
	if (flags & UVM_FLAG_QUANTUM)
		eflags |= ME_QUANTUM;
	uint64_t gen0 = 0;
	for (;;) {
		if (flags & UVM_FLAG_TRYLOCK) {
			if (!rw_tryenter(&map->vm_lock, RW_WRITER)) {
				stats_inc(&uvm_map_trylock_fail);
				return EAGAIN;
			}
		} else {
			rw_enter(&map->vm_lock, RW_WRITER);
		}
		gen0 = atomic_load_explicit(&map->vm_gen, memory_order_acquire);
		vaddr_t start = *startp;
		size_t i;
		if (flags & UVM_FLAG_FIXED) {
			if ((start & (align - 1)) != 0 || start < map->vm_min || start > map->vm_max ||
			    map->vm_max - start < size) {
				rw_exit(&map->vm_lock);
				return EINVAL;
			}
			i = map_search(map, start);
			if (i < map->vm_n && map->vm_ents[i].e_start < start + size) {
				rw_exit(&map->vm_lock);
				stats_inc(&uvm_map_novas);
				return ENOMEM;
			}
		} else {
			if (start < map->vm_min || start >= map->vm_max)
				start = map->vm_min;
			i = map_findspace(map, &start, size, align);
		}
		if (i != SIZE_MAX) {
			struct vm_map_entry e = {.e_start = start, .e_end = start + size, .e_flags = eflags};
			if (eflags & ME_KOBJ) {
				e.e_pages = mem_zalloc(_Atomic(struct vm_page *), atop(size));
				if (e.e_pages == NULL)
					panic("uvm_map: no host memory for %lu page slots", (unsigned long)atop(size));
			}
			if (!map_insert(map, i, &e))
				panic("uvm_map: no host memory for a map entry");
			if (start == map->vm_first_free)
				map->vm_first_free = start + size;
			/* the kernel's page tables must cover it before anyone
			 * kenters there (NetBSD uvm_map_prepare: pmap_growkernel) */
			if (start + size > atomic_load_explicit(&uvm_maxkaddr, memory_order_relaxed))
				atomic_store_explicit(&uvm_maxkaddr, pmap_growkernel(start + size), memory_order_relaxed);
			rw_exit(&map->vm_lock);
			*startp = start;
			stats_inc(&uvm_map_enters);
			return 0;
		}
		rw_exit(&map->vm_lock);
		stats_inc(&uvm_map_novas);
		if (!(flags & UVM_FLAG_WAITVA) || (flags & (UVM_FLAG_NOWAIT | UVM_FLAG_FIXED)))
			return ENOMEM;
		/* sleep until an unmap: watch the generation, take IPIs */
		stats_inc(&uvm_map_waitva);
		unsigned iter = 0;
		while (atomic_load_explicit(&map->vm_gen, memory_order_acquire) == gen0)
			cpu_spin_wait_for(&iter, "kernel_map address space");
	}
}

int uvm_map(struct vm_map *map, vaddr_t *startp, vsize_t size, struct uvm_object *obj, voff_t off,
    vsize_t align, int flags)
{
	(void)off; /* a kernel object's offset is the address (uvm_km.c's overview) */
	KASSERTMSG(obj == NULL || obj == uvm_kernel_object, "uvm_map: only the kernel object is modelled");
	if (obj != NULL && !(map->vm_flags & VM_MAP_PAGEABLE)) {
		uvm_bad_input("uvm_map: kernel-object memory in map [%#lx, %#lx), which is not VM_MAP_PAGEABLE",
		    (unsigned long)map->vm_min, (unsigned long)map->vm_max);
		return EINVAL;
	}
	return uvm_map_enter(map, startp, size, align, flags, obj != NULL ? ME_KOBJ : 0);
}

/*
 * Locate [start, end) as a run of entries.  => map locked
 * Returns "" and sets *first and *last, NULL when part of the range is
 * not allocated, or another reason for bad input.
 */
static const char *map_range(struct vm_map *map, vaddr_t start, vaddr_t end, size_t *first, size_t *last)
{
	if (start < map->vm_min || end > map->vm_max || end <= start)
		return "lies outside the map";
	size_t i = map_search(map, start);
	if (i >= map->vm_n || map->vm_ents[i].e_start > start)
		return NULL; /* "not allocated": the caller words it */
	size_t j = i;
	for (;;) {
		const struct vm_map_entry *e = &map->vm_ents[j];
		if (e->e_flags & ME_SUBMAP)
			return "belongs to a submap (free it through the submap)";
		if (e->e_flags & ME_FIRST)
			return "is the kernel's own space reserved at boot";
		if (e->e_end >= end)
			break;
		if (j + 1 >= map->vm_n || map->vm_ents[j + 1].e_start != e->e_end)
			return NULL;
		j++;
	}
	*first = i;
	*last = j;
	return "";
}

static void map_report(struct vm_map *map, vaddr_t start, vaddr_t end, const char *why, const char *fn)
{
	if (why == NULL) {
		why = "was never allocated";
		for (unsigned k = 0; k < MAP_FREED_RING; k++)
			if (map->vm_freed[k] == start && start != 0)
				why = "was already freed (double free)";
	}
	uvm_bad_input("%s: [%#lx, %#lx) %s (map [%#lx, %#lx))", fn, (unsigned long)start, (unsigned long)end, why,
	    (unsigned long)map->vm_min, (unsigned long)map->vm_max);
}

bool uvm_map_check_free(struct vm_map *map, vaddr_t start, vaddr_t end, int ktype, const char *fn)
{
	size_t i = 0, j = 0;
	rw_enter(&map->vm_lock, RW_READER);
	const char *why = map_range(map, start, end, &i, &j);
	if (why != NULL && *why == '\0') {
		for (size_t k = i; k <= j; k++) {
			const struct vm_map_entry *e = &map->vm_ents[k];
			if ((e->e_flags & ME_QUANTUM) && (e->e_start < start || e->e_end > end)) {
				why = "covers part of an allocation";
				break;
			}
			if ((e->e_flags & ME_KM_TYPES) != ktype) {
				why = "was allocated with another type (UVM_KMF_WIRED/PAGEABLE/VAONLY)";
				break;
			}
		}
	}
	if (why != NULL && *why == '\0') {
		rw_exit(&map->vm_lock);
		return true;
	}
	map_report(map, start, end, why, fn);
	rw_exit(&map->vm_lock);
	return false;
}

/*
 * uvm_unmap1: release [start, end).  Without UVM_FLAG_VAONLY the pages go
 * first (uvm_km_pgremove / _intrsafe, which complete their shootdown).
 * => no lock held; the address space is free when it returns
 */
void uvm_unmap1(struct vm_map *map, vaddr_t start, vaddr_t end, int flags)
{
	if (!(flags & UVM_FLAG_VAONLY)) {
		size_t i = 0, j = 0;
		rw_enter(&map->vm_lock, RW_READER);
		const char *why = map_range(map, start, end, &i, &j);
		bool kobj = false;
		for (size_t k = i; why != NULL && *why == '\0' && k <= j; k++)
			kobj |= map->vm_ents[k].e_flags & ME_KOBJ;
		rw_exit(&map->vm_lock);
		if (why != NULL && *why == '\0') {
			if (kobj)
				uvm_km_pgremove(start, end);
			else
				uvm_km_pgremove_intrsafe(map, start, end);
		}
	}
	rw_enter(&map->vm_lock, RW_WRITER);
	size_t i = 0, j = 0;
	const char *why = map_range(map, start, end, &i, &j);
	if (why == NULL || *why != '\0') {
		map_report(map, start, end, why, "uvm_unmap");
		rw_exit(&map->vm_lock);
		return;
	}
	struct vm_map_entry *a = &map->vm_ents[i], *b = &map->vm_ents[j];
	if (((a->e_flags & ME_QUANTUM) && a->e_start < start) || ((b->e_flags & ME_QUANTUM) && b->e_end > end)) {
		map_report(map, start, end, "covers part of a quantum allocation", "uvm_unmap");
		rw_exit(&map->vm_lock);
		return;
	}
	/* what is left of the first and last entries (clipping) */
	struct vm_map_entry pieces[2];
	unsigned np = 0;
	if (a->e_start < start) {
		pieces[np] = *a;
		pieces[np].e_end = start;
		np++;
	}
	if (b->e_end > end) {
		pieces[np] = *b;
		pieces[np].e_start = end;
		np++;
	}
	for (size_t k = i; k <= j; k++) {
		KASSERTMSG(!(map->vm_ents[k].e_flags & ME_KOBJ) || (flags & UVM_FLAG_VAONLY) ||
		    map->vm_ents[k].e_pages != NULL, "kernel-object entry without slots");
		free(map->vm_ents[k].e_pages);
	}
	size_t nrem = j - i + 1;
	memmove(&map->vm_ents[i + np], &map->vm_ents[j + 1], (map->vm_n - j - 1) * sizeof(*a));
	memcpy(&map->vm_ents[i], pieces, np * sizeof(*a));
	map->vm_n = map->vm_n - nrem + np;
	if (start < map->vm_first_free)
		map->vm_first_free = start;
	map->vm_freed[map->vm_freed_i++ % MAP_FREED_RING] = start;
	/* release: a WAITVA waiter that sees the new generation sees the room */
	atomic_fetch_add_explicit(&map->vm_gen, 1, memory_order_release);
	rw_exit(&map->vm_lock);
	stats_inc(&uvm_map_removes);
}

struct vm_map *uvm_map_lookup_locked(struct vm_map *map, vaddr_t va, size_t *idx)
{
	for (;;) {
		if (va < map->vm_min || va >= map->vm_max)
			return NULL;
		rw_enter(&map->vm_lock, RW_READER);
		size_t i = map_search(map, va);
		if (i >= map->vm_n || map->vm_ents[i].e_start > va) {
			rw_exit(&map->vm_lock);
			return NULL;
		}
		if (map->vm_ents[i].e_flags & ME_SUBMAP) {
			/* submaps are never freed before halt: the pointer stays good */
			struct vm_map *sub = map->vm_ents[i].e_submap;
			rw_exit(&map->vm_lock);
			if (sub == NULL)
				return NULL; /* uvm_km_suballoc has not plugged it in yet */
			map = sub;
			continue;
		}
		*idx = i;
		return map;
	}
}

unsigned uvm_map_kobj_detach(vaddr_t start, vaddr_t end, struct vm_page **chain)
{
	unsigned n = 0;
	*chain = NULL;
	for (vaddr_t va = start; va < end;) {
		size_t i;
		struct vm_map *map = uvm_map_lookup_locked(kernel_map, va, &i);
		if (map == NULL) {
			va += PAGE_SIZE;
			continue;
		}
		const struct vm_map_entry *e = &map->vm_ents[i];
		vaddr_t stop = e->e_end < end ? e->e_end : end;
		if (e->e_flags & ME_KOBJ) {
			for (vaddr_t a = va; a < stop; a += PAGE_SIZE) {
				struct vm_page *pg = atomic_exchange(&e->e_pages[atop(a - e->e_start)], NULL);
				if (pg != NULL) {
					pg->pageq_next = *chain;
					*chain = pg;
					n++;
				}
			}
		}
		rw_exit(&map->vm_lock);
		va = stop;
	}
	return n;
}

struct vm_map *uvm_km_suballoc(struct vm_map *map, vaddr_t *vmin, vaddr_t *vmax, vsize_t size, int flags,
    bool fixed, struct vm_map *submap)
{
	KASSERTMSG(submap == NULL, "uvm_km_suballoc: the model allocates the submap itself (pass NULL)");
	size = round_page(size);
	if (size == 0) {
		uvm_bad_input("uvm_km_suballoc: size 0 in map [%#lx, %#lx)", (unsigned long)map->vm_min,
		    (unsigned long)map->vm_max);
		return NULL;
	}
	if (!fixed)
		*vmin = map->vm_min;
	if (uvm_map_enter(map, vmin, size, 0, UVM_FLAG_NOMERGE | (fixed ? UVM_FLAG_FIXED : 0),
	        ME_SUBMAP | ME_QUANTUM) != 0)
		panic("uvm_km_suballoc: unable to allocate %#lx bytes%s%#lx in map [%#lx, %#lx)", (unsigned long)size,
		    fixed ? " at " : " above ", (unsigned long)*vmin, (unsigned long)map->vm_min,
		    (unsigned long)map->vm_max);
	*vmax = *vmin + size;
	struct vm_map *sub = uvm_map_create(*vmin, *vmax, flags & (VM_MAP_PAGEABLE | VM_MAP_INTRSAFE));
	if (sub == NULL)
		panic("uvm_km_suballoc: no host memory for a submap");
	/* plug it in (uvm_map_submap) */
	rw_enter(&map->vm_lock, RW_WRITER);
	size_t i = map_search(map, *vmin);
	KASSERT(i < map->vm_n && map->vm_ents[i].e_start == *vmin);
	map->vm_ents[i].e_submap = sub;
	rw_exit(&map->vm_lock);
	return sub;
}
