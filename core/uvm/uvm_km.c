/*
 * uvm_km.c — kernel memory: kernel_map, the kernel object, uvm_km_alloc()
 * and uvm_km_free(), pageable memory and uvm_fault(), pool pages and the
 * kva cache, and the uvm layer's boot and halt.
 *
 * What it follows.  NetBSD sys/uvm/uvm_km.c rev 1.108 (2011):
 * uvm_km_init() sets up kernel_map
 * over the kernel's address space and reserves with a first entry what the
 * kernel already used (here: what pmap_steal_memory() took, kmem.steal);
 * uvm_km_alloc() takes address space with UVM_FLAG_QUANTUM and, for wired
 * memory, a page per address mapped with pmap_kenter_pa() and one
 * pmap_update(); a NOWAIT or CANFAIL allocation that runs out of pages
 * gives everything back and returns 0 (CANFAIL fails at once because the
 * model has nothing reclaimable: uvm_reclaimable() is false without a
 * pagedaemon), any other waits in uvm_wait(); pool pages come from the
 * direct map when the pmap has PMAP_MAP_POOLPAGE, else from a kva cache
 * (a pool of 32-page VA chunks per map, km_vacache_alloc) plus a kentered
 * page.  NetBSD chooses between those at compile time; the model chooses
 * at boot (kmem.poolpage = direct | vacache | plain), so one build compares
 * them.
 *
 * Where it differs, and why.  NetBSD 1.108's uvm_km_free_poolpage_cache()
 * frees the page (uvm_km_pgremove_intrsafe) before pmap_kremove() and,
 * outside DEBUG kernels, without pmap_update(): the frame can be reused
 * while another CPU's TLB still maps it at the old address.  The model
 * forbids that (docs/architecture.md, rule 4: no frame is reused while a TLB may hold it), so
 * uvm_km_pgremove() and uvm_km_pgremove_intrsafe() unmap, complete the
 * shootdown with pmap_update(), and only then free the frames; uvm_km_free()
 * calls pmap_update() again (it has nothing left to do then) before the
 * address space goes back to the map, so a VA is never handed out while an
 * old translation of it may be cached either.
 *
 * Not modelled: swap (uao swap slots, uao_dropswap: pageable kernel pages
 * stay resident until uvm_km_pgremove), page busy/wanted waits (the model's
 * pageable pages are never busy), page colours, UVM_KMF_* fallbacks that
 * reclaim memory (uvm_km_va_drain callbacks).
 *
 * Races.  uvm_km_alloc/free run concurrently on any CPUs; the map lock
 * (class kernel_map) orders changes of one map; the pages between
 * allocation and free belong to their allocation only.  uvm_fault() on a
 * page races with other faults on it (the slot is set by compare-and-swap,
 * the loser frees its page) but not with the free of the same memory,
 * which is a caller bug as in NetBSD.
 */
#include "uvm_impl.h"

#include <inttypes.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

STATS_COUNTER(uvm_bad, "uvm.bad_input", "bad calls (size 0, unaligned or unknown frees, double frees) refused")
STATS_COUNTER(km_allocs, "uvm.km.allocs", "uvm_km_alloc() calls that succeeded")
STATS_COUNTER(km_frees, "uvm.km.frees", "uvm_km_free() calls")
STATS_COUNTER(km_fail_va, "uvm.km.fail_va", "uvm_km_alloc() calls that found no address space (or a busy lock)")
STATS_COUNTER(km_fail_mem, "uvm.km.fail_mem", "NOWAIT/CANFAIL uvm_km_alloc() calls that ran out of pages")
STATS_COUNTER(km_waits, "uvm.km.waits", "uvm_km_alloc() waits for pages")
STATS_COUNTER(km_faults, "uvm.km.faults", "uvm_fault() calls that mapped a pageable page")
STATS_COUNTER(km_pgremoved, "uvm.km.pgremove_pages", "pages freed by uvm_km_pgremove[_intrsafe]")
STATS_COUNTER(km_pp_allocs, "uvm.km.poolpage_allocs", "pool pages allocated")
STATS_COUNTER(km_pp_frees, "uvm.km.poolpage_frees", "pool pages freed")
STATS_COUNTER(km_vacache_chunks, "uvm.km.vacache_chunks", "kva-cache chunks taken from a map")

static struct uvm_object uvm_kernel_object_store = {.uo_refs = UVM_OBJ_KERN};
struct uvm_object *const uvm_kernel_object = &uvm_kernel_object_store;
struct vm_map *kernel_map;
static enum kmem_poolpage_mode km_mode;
static unsigned km_vacache_pages;

/* ---- bad input ---- */

void uvm_bad_input(const char *fmt, ...)
{
	char buf[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* KASSERTMSG's rule: fatal where assertions are compiled in */
	static const bool fatal =
#ifdef NDEBUG
	    false;
#else
	    true;
#endif
	if (fatal)
		panic("%s", buf);
	stats_inc(&uvm_bad);
	machine_seterr(EINVAL, "%s", buf);
}

/* ---- boot and halt ---- */

/*
 * uvm_km_init: kernel_map over [VM_MIN_KERNEL_ADDRESS, end); [base, start)
 * is already in use and becomes the map's first entry.
 */
static int uvm_km_init(vaddr_t start, vaddr_t end)
{
	const vaddr_t base = VM_MIN_KERNEL_ADDRESS;
	kernel_map = uvm_map_create(base, end, VM_MAP_PAGEABLE);
	if (kernel_map == NULL)
		return machine_seterr(ENOMEM, "kmem.kva: no host memory for kernel_map");
	if (start != base) {
		vaddr_t va = base;
		if (uvm_map_enter(kernel_map, &va, start - base, 0, UVM_FLAG_FIXED, ME_FIRST | ME_QUANTUM) != 0)
			return machine_seterr(EINVAL, "kmem.steal: could not reserve [%#lx, %#lx) in kernel_map",
			    (unsigned long)base, (unsigned long)start);
	}
	uvm_km_vacache_init(kernel_map, "kvakernel", 0);
	return 0;
}

/* ---- the keys of uvm_km ---- */

#define KMEM_MAX_KVA (VM_MAX_KERNEL_ADDRESS - VM_MIN_KERNEL_ADDRESS) /* 64 TiB */
static const char *const poolpage_values[] = {"direct", "vacache", "plain", NULL};

static int kva_check(const struct cfg_key *k, const struct machine_config *c, uint64_t x)
{
	(void)c;
	if (x > KMEM_MAX_KVA)
		return machine_seterr(EINVAL,
		    "%s: %" PRIu64 "G is more kernel VA than the address space holds (%" PRIu64
		    "G from VM_MIN_KERNEL_ADDRESS to VM_MAX_KERNEL_ADDRESS)", k->ck_name, x >> 30, KMEM_MAX_KVA >> 30);
	if (x & PAGE_MASK)
		return machine_seterr(EINVAL, "%s: %" PRIu64 " bytes is not a multiple of the page size", k->ck_name, x);
	return 0;
}

static int pow2_check(const struct cfg_key *k, const struct machine_config *c, uint64_t x)
{
	(void)c;
	if ((x & (x - 1)) != 0)
		return machine_seterr(EINVAL, "%s: %" PRIu64 " is not a power of two", k->ck_name, x);
	return 0;
}

enum { KK_POOLPAGE, KK_KVA, KK_VACACHE, KK_STEAL };
const struct cfg_key uvm_km_keys[] = {
	[KK_POOLPAGE] = CFG_KEY("kmem.poolpage", CFG_ENUM, 0, 0, poolpage_values, "direct",
	    "how pool pages are mapped. `direct`: `PMAP_MAP_POOLPAGE`, the direct map (no kenter, no shootdown). "
	    "`vacache`: kernel_map's kva cache of VA chunks, a page kentered per pool page, a shootdown per free. "
	    "`plain`: `uvm_km_alloc`/`uvm_km_free` of one wired page each time"),
	/* at most the whole kernel half (kva_check says so in words) */
	[KK_KVA] = CFG_KEY("kmem.kva", CFG_SIZE, 1ULL << 20, UINT64_MAX, NULL, "64G",
	    "size of kernel_map from `VM_MIN_KERNEL_ADDRESS` (1M – 65536G, the whole kernel half); more than the "
	    "address space holds is an error naming the key", .ck_check = kva_check),
	[KK_VACACHE] = CFG_KEY("kmem.vacache_pages", CFG_UINT, 1, 1024, NULL, "32",
	    "pages per kva-cache chunk (`KM_VACACHE_SIZE`), a power of two up to 1024", .ck_check = pow2_check),
	[KK_STEAL] = CFG_KEY("kmem.steal", CFG_SIZE, 0, MACHINE_MAX_MEMORY, NULL, "0",
	    "bytes `pmap_steal_memory()` takes at boot before `uvm_km_init()` (a kernel image); kernel_map's first entry "
	    "reserves them"),
	{0},
};

/* the rules between these keys and the machine's */
int uvm_km_config_validate(const struct machine_config *c)
{
	uint64_t kva = machine_knob(c, &uvm_km_keys[KK_KVA]);
	uint64_t vp = machine_knob(c, &uvm_km_keys[KK_VACACHE]);
	uint64_t steal = machine_knob(c, &uvm_km_keys[KK_STEAL]);
	if (ptoa(vp) * 4 > kva)
		return machine_seterr(EINVAL, "kmem.vacache_pages: %" PRIu64 " pages of VA chunk do not fit four times in "
		    "kmem.kva", vp);
	if (round_page(steal) >= c->mc_memory / 2 || round_page(steal) >= kva / 2)
		return machine_seterr(EINVAL, "kmem.steal: %" PRIu64 " bytes is not less than half of machine.memory "
		    "and of kmem.kva", steal);
	return 0;
}

int uvm_boot(struct machine *m)
{
	const struct machine_config *c = &m->m_cfg;
	/* the upcall the machine makes when its free list runs dry */
	m->m_uvm_hooks.mu_reclaim = uvm_page_reclaim;
	int err = uvm_page_boot(m);
	if (err != 0)
		return err;
	uvm_map_boot();
	km_mode = (enum kmem_poolpage_mode)machine_knob(c, &uvm_km_keys[KK_POOLPAGE]);
	km_vacache_pages = (unsigned)machine_knob(c, &uvm_km_keys[KK_VACACHE]);
	uint64_t steal = machine_knob(c, &uvm_km_keys[KK_STEAL]), kva = machine_knob(c, &uvm_km_keys[KK_KVA]);
	if (steal != 0) {
		/* the kernel image and bootstrap tables of a real kernel */
		uint64_t need = atop(round_page(steal));
		if (atomic_load(&m->m_free_count) < need + 2 * m->m_reserve + 16)
			return machine_seterr(EINVAL, "kmem.steal: %lu pages do not fit in machine.memory",
			    (unsigned long)need);
		pmap_steal_memory(round_page(steal), NULL, NULL);
	}
	vaddr_t start, end;
	pmap_virtual_space(&start, &end);
	vaddr_t kend = VM_MIN_KERNEL_ADDRESS + kva;
	if (kend > end)
		kend = end;
	if (start >= kend)
		return machine_seterr(EINVAL, "kmem.kva: %lu bytes leave nothing after the %lu bytes used at boot",
		    (unsigned long)kva, (unsigned long)(start - VM_MIN_KERNEL_ADDRESS));
	return uvm_km_init(start, kend);
}

void uvm_halt(struct machine *m)
{
	uvm_map_destroy_all();
	kernel_map = NULL;
	uvm_page_halt(m);
}

/* ---- removing pages ---- */

static void km_free_chain(struct vm_page *pg)
{
	struct vm_page *next;
	for (; pg != NULL; pg = next) {
		next = pg->pageq_next;
		pg->pageq_next = NULL;
		pg->uobject = NULL;
		uvm_pagefree(pg);
		stats_inc(&km_pgremoved);
	}
}

/*
 * uvm_km_pgremove: the kernel object's pages in [startva, endva).
 * => no lock held; unmaps, completes the shootdown, then frees
 */
void uvm_km_pgremove(vaddr_t startva, vaddr_t endva)
{
	KASSERT(VM_MIN_KERNEL_ADDRESS <= startva);
	KASSERT(startva < endva);
	KASSERT(endva <= VM_MAX_KERNEL_ADDRESS);
	struct vm_page *chain;
	if (uvm_map_kobj_detach(trunc_page(startva), round_page(endva), &chain) == 0)
		return;
	/* the pages are off their slots: no fault can map them again */
	for (struct vm_page *pg = chain; pg != NULL; pg = pg->pageq_next) {
		vaddr_t va = vm_map_min(kernel_map) + (vaddr_t)pg->offset;
		pmap_remove(pmap_kernel(), va, va + PAGE_SIZE);
	}
	pmap_update(pmap_kernel());
	km_free_chain(chain);
}

/*
 * uvm_km_pgremove_intrsafe: wired pages of map in [start, end), found by
 * pmap_extract.  => no lock held; unmaps, completes the shootdown, then frees
 */
void uvm_km_pgremove_intrsafe(struct vm_map *map, vaddr_t start, vaddr_t end)
{
	KASSERT(vm_map_min(map) <= start);
	KASSERT(start < end);
	KASSERT(end <= vm_map_max(map));
	struct vm_page *chain = NULL;
	for (vaddr_t va = start; va < end; va += PAGE_SIZE) {
		paddr_t pa;
		if (!pmap_extract(pmap_kernel(), va, &pa))
			continue;
		struct vm_page *pg = PHYS_TO_VM_PAGE(pa);
		KASSERT(pg != NULL);
		KASSERTMSG(pg->uobject == NULL && pg->uanon == NULL,
		    "uvm_km_pgremove_intrsafe: page %#lx at %#lx belongs to an object", (unsigned long)pa,
		    (unsigned long)va);
		/* EXEC memory was entered with pmap_enter (pmap_kenter_pa
		 * maps no executable page): it has a pv entry */
		if (pg->mdpage.mp_pvlist != NULL)
			pmap_remove(pmap_kernel(), va, va + PAGE_SIZE);
		else
			pmap_kremove(va, PAGE_SIZE);
		pg->pageq_next = chain;
		chain = pg;
	}
	if (chain == NULL)
		return;
	pmap_update(pmap_kernel());
	km_free_chain(chain);
}

/* ---- uvm_km_alloc / uvm_km_free ---- */

static int km_type_eflags(int type)
{
	switch (type) {
	case UVM_KMF_WIRED: return ME_KM_WIRED;
	case UVM_KMF_PAGEABLE: return ME_KM_PAGEABLE | ME_KOBJ;
	case UVM_KMF_VAONLY: return ME_KM_VAONLY;
	default: return -1;
	}
}

static vaddr_t km_alloc_1(struct vm_map *map, vsize_t size, vsize_t align, int flags)
{
	int eflags = km_type_eflags(flags & UVM_KMF_TYPEMASK);
	if (eflags < 0) {
		uvm_bad_input("uvm_km_alloc: flags %#x name not exactly one of WIRED, PAGEABLE, VAONLY (map [%#lx, %#lx))",
		    (unsigned)flags, (unsigned long)map->vm_min, (unsigned long)map->vm_max);
		return 0;
	}
	if (size == 0) {
		uvm_bad_input("uvm_km_alloc: size 0 in map [%#lx, %#lx)", (unsigned long)map->vm_min,
		    (unsigned long)map->vm_max);
		return 0;
	}
	if ((align & (align - 1)) != 0) {
		uvm_bad_input("uvm_km_alloc: alignment %#lx is not a power of two", (unsigned long)align);
		return 0;
	}
	if ((flags & UVM_KMF_PAGEABLE) && !(map->vm_flags & VM_MAP_PAGEABLE)) {
		uvm_bad_input("uvm_km_alloc: pageable memory in map [%#lx, %#lx), which is not VM_MAP_PAGEABLE",
		    (unsigned long)map->vm_min, (unsigned long)map->vm_max);
		return 0;
	}
	if (flags & UVM_KMF_EXEC)
		eflags |= ME_EXEC;
	size = round_page(size);
	vaddr_t kva = vm_map_min(map); /* hint */
	if (uvm_map_enter(map, &kva, size, align,
	        (flags & (UVM_KMF_TRYLOCK | UVM_KMF_NOWAIT | UVM_KMF_WAITVA)) | UVM_FLAG_QUANTUM, eflags) != 0) {
		stats_inc(&km_fail_va);
		return 0;
	}
	if (flags & (UVM_KMF_VAONLY | UVM_KMF_PAGEABLE)) {
		stats_inc(&km_allocs);
		return kva;
	}
	/* wired: a page for each address; only we know of this range yet */
	voff_t offset = (voff_t)(kva - vm_map_min(kernel_map));
	int pgaflags = ((flags & UVM_KMF_NOWAIT) ? UVM_PGA_USERESERVE : 0) | ((flags & UVM_KMF_ZERO) ? UVM_PGA_ZERO : 0);
	vm_prot_t prot = VM_PROT_READ | VM_PROT_WRITE | ((flags & UVM_KMF_EXEC) ? VM_PROT_EXECUTE : 0);
	for (vaddr_t va = kva; va < kva + size;) {
		KASSERT(!pmap_extract(pmap_kernel(), va, NULL));
		/* inject.allocfail: a NOWAIT / CANFAIL caller meets a shortage */
		bool canfail = flags & (UVM_KMF_NOWAIT | UVM_KMF_CANFAIL);
		struct vm_page *pg = canfail && inject_allocfail() ? NULL : uvm_pagealloc(NULL, offset, NULL, pgaflags);
		if (__predict_false(pg == NULL)) {
			if (canfail) {
				/* give everything back: pages, then the address space */
				stats_inc(&km_fail_mem);
				uvm_km_free(map, kva, size, flags & UVM_KMF_TYPEMASK);
				return 0;
			}
			stats_inc(&km_waits);
			uvm_wait("km_getwait2");
			continue;
		}
		if (flags & UVM_KMF_EXEC) {
			if (pmap_enter(pmap_kernel(), va, VM_PAGE_TO_PHYS(pg), prot, PMAP_WIRED | PMAP_KMPAGE) != 0)
				panic("uvm_km_alloc: pmap_enter of %#lx failed", (unsigned long)va);
		} else {
			pmap_kenter_pa(va, VM_PAGE_TO_PHYS(pg), prot, PMAP_KMPAGE);
		}
		va += PAGE_SIZE;
		offset += PAGE_SIZE;
	}
	pmap_update(pmap_kernel());
	stats_inc(&km_allocs);
	return kva;
}

void uvm_km_free(struct vm_map *map, vaddr_t addr, vsize_t size, int flags)
{
	int ktype = km_type_eflags(flags & UVM_KMF_TYPEMASK);
	if (ktype < 0) {
		uvm_bad_input("uvm_km_free: flags %#x name not exactly one of WIRED, PAGEABLE, VAONLY (address %#lx)",
		    (unsigned)flags, (unsigned long)addr);
		return;
	}
	if (addr & PAGE_MASK) {
		uvm_bad_input("uvm_km_free: unaligned address %#lx", (unsigned long)addr);
		return;
	}
	if (size == 0) {
		uvm_bad_input("uvm_km_free: size 0 at address %#lx", (unsigned long)addr);
		return;
	}
	size = round_page(size);
	if (addr < map->vm_min || addr >= map->vm_max || map->vm_max - addr < size) {
		uvm_bad_input("uvm_km_free: [%#lx, %#lx) lies outside the map [%#lx, %#lx)", (unsigned long)addr,
		    (unsigned long)(addr + size), (unsigned long)map->vm_min, (unsigned long)map->vm_max);
		return;
	}
	if (!uvm_map_check_free(map, addr, addr + size, ktype & ME_KM_TYPES, "uvm_km_free"))
		return;
	if (flags & UVM_KMF_PAGEABLE) {
		uvm_km_pgremove(addr, addr + size);
		pmap_remove(pmap_kernel(), addr, addr + size); /* nothing left: pgremove unmapped */
	} else if (flags & UVM_KMF_WIRED) {
		uvm_km_pgremove_intrsafe(map, addr, addr + size);
		pmap_kremove(addr, size); /* likewise */
	}
	/* every invalidation of the range complete before the VA goes back */
	pmap_update(pmap_kernel());
	uvm_unmap1(map, addr, addr + size, UVM_FLAG_QUANTUM | UVM_FLAG_VAONLY);
	stats_inc(&km_frees);
}

/* ---- pageable memory ---- */

int uvm_fault(struct vm_map *map, vaddr_t va, vm_prot_t access)
{
	va = trunc_page(va);
	for (;;) {
		size_t i;
		struct vm_map *m = uvm_map_lookup_locked(map, va, &i);
		if (m == NULL)
			return EFAULT;
		const struct vm_map_entry *e = &m->vm_ents[i];
		if (!(e->e_flags & ME_KOBJ)) {
			rw_exit(&m->vm_lock);
			return EFAULT;
		}
		vm_prot_t prot = VM_PROT_READ | VM_PROT_WRITE | ((e->e_flags & ME_EXEC) ? VM_PROT_EXECUTE : 0);
		if (access & ~prot) {
			rw_exit(&m->vm_lock);
			return EACCES;
		}
		_Atomic(struct vm_page *) *slot = &e->e_pages[atop(va - e->e_start)];
		struct vm_page *pg = atomic_load(slot);
		if (pg == NULL) {
			/* anonymous kernel memory is zero-fill on demand (uao) */
			struct vm_page *fresh = uvm_pagealloc(uvm_kernel_object, (voff_t)(va - vm_map_min(kernel_map)),
			    NULL, UVM_PGA_ZERO);
			if (fresh == NULL) {
				rw_exit(&m->vm_lock);
				uvm_wait("flt_noram1");
				continue;
			}
			if (atomic_compare_exchange_strong(slot, &pg, fresh)) {
				pg = fresh;
			} else {
				fresh->uobject = NULL;
				uvm_pagefree(fresh); /* never mapped */
			}
		}
		int err = pmap_enter(pmap_kernel(), va, VM_PAGE_TO_PHYS(pg), prot, (unsigned)access | PMAP_CANFAIL);
		rw_exit(&m->vm_lock);
		if (err != 0) {
			uvm_wait("flt_pmfail1");
			continue;
		}
		pmap_update(pmap_kernel());
		stats_inc(&km_faults);
		return 0;
	}
}

/* ---- pool pages and the kva cache ---- */

static void *km_vacache_alloc(struct pool *pp, int flags)
{
	struct vm_map *map = pp->pr_alloc->pa_arg;
	vsize_t size = pp->pr_alloc->pa_pagesz;
	vaddr_t va = vm_map_min(map);
	if (uvm_map_enter(map, &va, size, size,
	        UVM_FLAG_QUANTUM | ((flags & PR_WAITOK) ? UVM_FLAG_WAITVA : UVM_FLAG_TRYLOCK | UVM_FLAG_NOWAIT),
	        ME_KM_VAONLY) != 0)
		return NULL;
	stats_inc(&km_vacache_chunks);
	return (void *)va;
}

static void km_vacache_free(struct pool *pp, void *v)
{
	struct vm_map *map = pp->pr_alloc->pa_arg;
	vaddr_t va = (vaddr_t)v;
	uvm_unmap1(map, va, va + pp->pr_alloc->pa_pagesz, UVM_FLAG_QUANTUM | UVM_FLAG_VAONLY);
}

/*
 * uvm_km_vacache_init: give map a kva cache of size-byte chunks (0: kmem.vacache_pages
 * pages).  Only in kmem.poolpage = vacache; a no-op otherwise, as it is in
 * NetBSD kernels whose pmap defines PMAP_MAP_POOLPAGE.
 * => at boot or before the map is used for pool pages
 */
void uvm_km_vacache_init(struct vm_map *map, const char *name, size_t size)
{
	if (km_mode != KMEM_POOLPAGE_VACACHE || map->vm_vacache != NULL)
		return;
	if (size == 0)
		size = ptoa((size_t)km_vacache_pages);
	KASSERTMSG((size & (size - 1)) == 0 && size >= PAGE_SIZE, "uvm_km_vacache_init: chunk %#zx", size);
	KASSERT(size < (vm_map_max(map) - vm_map_min(map)) / 2);
	struct pool *pp = mem_zalloc(struct pool, 1);
	if (pp == NULL)
		panic("uvm_km_vacache_init: no host memory");
	map->vm_vacache_pa = (struct pool_allocator){
		.pa_alloc = km_vacache_alloc,
		.pa_free = km_vacache_free,
		.pa_pagesz = (unsigned)size,
		.pa_arg = map,
	};
	pool_init(pp, PAGE_SIZE, 0, 0, PR_NOTOUCH, name, &map->vm_vacache_pa, 0);
	map->vm_vacache = pp;
	map->vm_flags |= VM_MAP_VACACHE;
}

static vaddr_t km_alloc_poolpage_1(struct vm_map *map, bool waitok)
{
	if (km_mode != KMEM_POOLPAGE_DIRECT) {
		vaddr_t va = uvm_km_alloc(map, PAGE_SIZE, 0,
		    (waitok ? 0 : UVM_KMF_NOWAIT | UVM_KMF_TRYLOCK) | UVM_KMF_WIRED);
		if (va != 0)
			stats_inc(&km_pp_allocs);
		return va;
	}
	struct vm_page *pg;
	while ((pg = uvm_pagealloc(NULL, 0, NULL, waitok ? 0 : UVM_PGA_USERESERVE)) == NULL) {
		if (!waitok)
			return 0;
		uvm_wait("plpg");
	}
	atomic_fetch_or_explicit(&pg->flags, PG_KMPOOL, memory_order_relaxed);
	stats_inc(&km_pp_allocs);
	return PMAP_MAP_POOLPAGE(VM_PAGE_TO_PHYS(pg));
}

static vaddr_t km_alloc_poolpage_cache_1(struct vm_map *map, bool waitok)
{
	if (km_mode != KMEM_POOLPAGE_VACACHE || !(map->vm_flags & VM_MAP_VACACHE))
		return uvm_km_alloc_poolpage(map, waitok);
	struct pool *pp = map->vm_vacache;
	vaddr_t va = (vaddr_t)pool_get(pp, waitok ? PR_WAITOK : PR_NOWAIT);
	if (va == 0)
		return 0;
	KASSERT(!pmap_extract(pmap_kernel(), va, NULL));
	struct vm_page *pg;
	while ((pg = uvm_pagealloc(NULL, 0, NULL, waitok ? 0 : UVM_PGA_USERESERVE)) == NULL) {
		if (!waitok) {
			pool_put(pp, (void *)va); /* never mapped: no shootdown owed */
			return 0;
		}
		uvm_wait("plpg");
	}
	pmap_kenter_pa(va, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, PMAP_KMPAGE);
	pmap_update(pmap_kernel());
	stats_inc(&km_pp_allocs);
	return va;
}

void uvm_km_free_poolpage(struct vm_map *map, vaddr_t addr)
{
	if (km_mode != KMEM_POOLPAGE_DIRECT) {
		uvm_km_free(map, addr, PAGE_SIZE, UVM_KMF_WIRED);
		stats_inc(&km_pp_frees);
		return;
	}
	struct vm_page *pg = NULL;
	if (addr >= PMAP_DIRECT_BASE && addr < PMAP_DIRECT_END && (addr & PAGE_MASK) == 0)
		pg = PHYS_TO_VM_PAGE(PMAP_UNMAP_POOLPAGE(addr));
	uint32_t f = pg != NULL ? atomic_load_explicit(&pg->flags, memory_order_relaxed) : 0;
	if (pg == NULL || (f & PG_FREE) || !(f & PG_KMPOOL)) {
		uvm_bad_input("uvm_km_free_poolpage: %#lx is not an allocated pool page%s", (unsigned long)addr,
		    pg != NULL && (f & PG_FREE) ? " (double free)" : "");
		return;
	}
	/* direct-mapped: no TLB entry to shoot down */
	uvm_pagefree(pg);
	stats_inc(&km_pp_frees);
}

void uvm_km_free_poolpage_cache(struct vm_map *map, vaddr_t addr)
{
	if (km_mode != KMEM_POOLPAGE_VACACHE || !(map->vm_flags & VM_MAP_VACACHE)) {
		uvm_km_free_poolpage(map, addr);
		return;
	}
	struct pool *pp = map->vm_vacache;
	if ((addr & PAGE_MASK) != 0 || !pool_item_out(pp, (void *)addr) || !pmap_extract(pmap_kernel(), addr, NULL)) {
		uvm_bad_input("uvm_km_free_poolpage_cache: %#lx is not an allocated pool page of map [%#lx, %#lx)",
		    (unsigned long)addr, (unsigned long)map->vm_min, (unsigned long)map->vm_max);
		return;
	}
	/* unmap, shoot down, free the frame; then the VA may go back */
	uvm_km_pgremove_intrsafe(map, addr, addr + PAGE_SIZE);
	KASSERT(!pmap_extract(pmap_kernel(), addr, NULL));
	pool_put(pp, (void *)addr);
	stats_inc(&km_pp_frees);
}

/*
 * Allocation latency, sampled: one call in KM_LAT_SAMPLE is timed (two
 * clock reads would otherwise be a large part of a pool-page allocation),
 * drawn at random from the CPU's generator (stats_sample_draw).  The rule
 * it replaced, every 16th call of the thread with one count for all three
 * functions, timed the same call of a workload's fixed sequence every time
 * (docs/performance.md, section 24).  A thread that is no CPU, or
 * statistics off, times nothing.
 */
#define KM_LAT_SAMPLE 16
STATS_HIST(km_alloc_lat, "uvm.km_alloc.latency", "ns", "uvm_km_alloc() latency (one call in 16 timed, at random)")
STATS_HIST(km_poolpage_lat, "uvm.poolpage.latency", "ns",
    "pool page allocation latency (one call in 16 timed, at random)")

static inline bool km_lat_sampled(void)
{
	struct cpu_info *ci = curcpu();
	return stats_on && ci != NULL && stats_sample_draw(&ci->ci_sample_rng, stats_sample_threshold(KM_LAT_SAMPLE));
}

vaddr_t uvm_km_alloc(struct vm_map *map, vsize_t size, vsize_t align, int flags)
{
	if (!km_lat_sampled())
		return km_alloc_1(map, size, align, flags);
	uint64_t t0 = cpu_now_ns();
	vaddr_t va = km_alloc_1(map, size, align, flags);
	stats_hist_record(&km_alloc_lat, cpu_now_ns() - t0);
	return va;
}

vaddr_t uvm_km_alloc_poolpage(struct vm_map *map, bool waitok)
{
	if (!km_lat_sampled())
		return km_alloc_poolpage_1(map, waitok);
	uint64_t t0 = cpu_now_ns();
	vaddr_t va = km_alloc_poolpage_1(map, waitok);
	stats_hist_record(&km_poolpage_lat, cpu_now_ns() - t0);
	return va;
}

vaddr_t uvm_km_alloc_poolpage_cache(struct vm_map *map, bool waitok)
{
	if (!km_lat_sampled())
		return km_alloc_poolpage_cache_1(map, waitok);
	uint64_t t0 = cpu_now_ns();
	vaddr_t va = km_alloc_poolpage_cache_1(map, waitok);
	stats_hist_record(&km_poolpage_lat, cpu_now_ns() - t0);
	return va;
}
