/*
 * test_uvm_km.c — kernel memory (issue 4) against the semantics of NetBSD's
 * uvm_km.c 1.108: every uvm_km_alloc flag, kernel_map and submaps, pageable
 * memory and uvm_fault, the page allocator front ends, pool pages in every
 * kmem.poolpage mode with the kva-cache hit path, exhaustion on a 1 MiB
 * machine, and the multi-CPU guarantees: a VA is never handed out twice,
 * no frame is freed while a TLB may still map it, memory freed on another
 * CPU than it was allocated on comes back.  Bad input panics (checked in a
 * forked child) in builds with KASSERTs and is counted otherwise.
 */
#include "harness.h"

#include "../core/uvm/uvm_impl.h" /* map internals: hold a map lock (TRYLOCK) */

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pmapstorm/pool.h>
#include <pmapstorm/uvm_km.h>

#define RW (VM_PROT_READ | VM_PROT_WRITE)

static void hexaddr(char *b, size_t n, vaddr_t va)
{
	snprintf(b, n, "%#lx", (unsigned long)va);
}

static const char *const sets_default[] = {NULL};
static const char *const sets_steal[] = {"kmem.steal=64K", NULL};
static const char *const sets_small[] = {"machine.memory=1M", "machine.cpus=2", NULL};
static const char *const sets_small_off[] = {"machine.memory=1M", "machine.cpus=2", "uvm.pagecache=off", NULL};
static const char *const sets_vacache[] = {"kmem.poolpage=vacache", NULL};
static const char *const sets_plain[] = {"kmem.poolpage=plain", NULL};
static const char *const sets_off[] = {"uvm.pagecache=off", NULL};

/* ---- kernel_map ---- */

static void test_kernel_map_bounds(void **state)
{
	(void)state;
	assert_non_null(kernel_map);
	assert_int_equal(vm_map_min(kernel_map), VM_MIN_KERNEL_ADDRESS);
	assert_int_equal(vm_map_max(kernel_map), VM_MIN_KERNEL_ADDRESS + (64ULL << 30));
	assert_true(vm_map_flags(kernel_map) & VM_MAP_PAGEABLE);
	assert_false(vm_map_flags(kernel_map) & VM_MAP_VACACHE); /* direct mode: no kva cache */
	vaddr_t va = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_VAONLY);
	assert_int_equal(va, VM_MIN_KERNEL_ADDRESS); /* nothing stolen: the map starts free */
	uvm_km_free(kernel_map, va, PAGE_SIZE, UVM_KMF_VAONLY);
}

/* uvm_km_init: what pmap_steal_memory took is the map's first entry. */
static void test_first_entry_reserves_stolen(void **state)
{
	(void)state;
	vaddr_t vs, ve;
	pmap_virtual_space(&vs, &ve);
	assert_int_equal(vs, VM_MIN_KERNEL_ADDRESS + 64 * 1024);
	assert_true(pmap_extract(pmap_kernel(), VM_MIN_KERNEL_ADDRESS, NULL)); /* the stolen memory */
	vaddr_t va = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_VAONLY);
	assert_int_equal(va, vs);
	/* a fixed mapping over the reservation is refused */
	vaddr_t fixed = VM_MIN_KERNEL_ADDRESS;
	assert_int_equal(uvm_map(kernel_map, &fixed, PAGE_SIZE, NULL, UVM_UNKNOWN_OFFSET, 0, UVM_FLAG_FIXED), ENOMEM);
	uvm_km_free(kernel_map, va, PAGE_SIZE, UVM_KMF_VAONLY);
}

static void free_first_entry(void *arg)
{
	(void)arg;
	uvm_km_free(kernel_map, VM_MIN_KERNEL_ADDRESS, 64 * 1024, UVM_KMF_VAONLY);
}

static void test_first_entry_cannot_be_freed(void **state)
{
	(void)state;
	th_expect_bad_input(free_first_entry, NULL, "uvm_km_free", "reserved at boot");
}

/* ---- uvm_km_alloc flags ---- */

static void test_wired(void **state)
{
	(void)state;
	uint64_t free0 = uvm_free_pages();
	vaddr_t va = uvm_km_alloc(kernel_map, 3 * PAGE_SIZE - 100, 0, UVM_KMF_WIRED | UVM_KMF_ZERO);
	assert_true(va != 0);
	assert_int_equal(va & PAGE_MASK, 0);
	assert_int_equal(uvm_free_pages(), free0 - 3);
	paddr_t pa[3];
	for (unsigned i = 0; i < 3; i++) {
		assert_true(pmap_extract(pmap_kernel(), va + ptoa(i), &pa[i]));
		uint64_t v = 1;
		assert_int_equal(mmu_load(va + ptoa(i) + 8, &v), 0);
		assert_int_equal(v, 0);
		assert_int_equal(mmu_store(va + ptoa(i), 0xbeef + i), 0);
		assert_int_equal(*(uint64_t *)machine_phys(pa[i]), 0xbeef + i);
	}
	assert_int_equal(mmu_fetch(va), EACCES); /* not EXEC: no-execute */
	assert_false(pmap_extract(pmap_kernel(), va + ptoa(3), NULL));
	uvm_km_free(kernel_map, va, 3 * PAGE_SIZE, UVM_KMF_WIRED);
	for (unsigned i = 0; i < 3; i++) {
		assert_false(pmap_extract(pmap_kernel(), va + ptoa(i), NULL));
		assert_int_equal(mmu_load(va + ptoa(i), &(uint64_t){0}), EFAULT);
		assert_true(atomic_load(&PHYS_TO_VM_PAGE(pa[i])->flags) & PG_FREE);
	}
	assert_int_equal(uvm_free_pages(), free0);
	assert_int_equal(tlb_check(), 0);
	assert_int_equal(pmap_check(pmap_kernel()), 0);
}

static void test_exec(void **state)
{
	(void)state;
	uint64_t free0 = uvm_free_pages();
	vaddr_t va = uvm_km_alloc(kernel_map, 2 * PAGE_SIZE, 0, UVM_KMF_WIRED | UVM_KMF_EXEC);
	assert_true(va != 0);
	assert_int_equal(mmu_fetch(va), 0);
	assert_int_equal(mmu_fetch(va + PAGE_SIZE), 0);
	assert_int_equal(mmu_store(va, 7), 0);
	uvm_km_free(kernel_map, va, 2 * PAGE_SIZE, UVM_KMF_WIRED);
	assert_int_equal(mmu_fetch(va), EFAULT);
	assert_int_equal(uvm_free_pages(), free0);
	assert_int_equal(pmap_check(pmap_kernel()), 0);
}

static void test_zero(void **state)
{
	(void)state;
	/* dirty some frames, give them back, then ask for zeroed ones: the
	 * per-CPU cache hands the same frames out again */
	vaddr_t va = uvm_km_alloc(kernel_map, 4 * PAGE_SIZE, 0, UVM_KMF_WIRED);
	for (unsigned i = 0; i < 4 * PAGE_SIZE / 8; i++)
		assert_int_equal(mmu_store(va + 8 * i, ~0ULL), 0);
	uvm_km_free(kernel_map, va, 4 * PAGE_SIZE, UVM_KMF_WIRED);
	va = uvm_km_alloc(kernel_map, 4 * PAGE_SIZE, 0, UVM_KMF_WIRED | UVM_KMF_ZERO);
	for (unsigned i = 0; i < 4 * PAGE_SIZE / 8; i++) {
		uint64_t v = 1;
		assert_int_equal(mmu_load(va + 8 * i, &v), 0);
		if (v != 0)
			fail_msg("UVM_KMF_ZERO memory holds %#lx at +%u", (unsigned long)v, 8 * i);
	}
	uvm_km_free(kernel_map, va, 4 * PAGE_SIZE, UVM_KMF_WIRED);
}

static void test_vaonly(void **state)
{
	(void)state;
	uint64_t free0 = uvm_free_pages();
	vaddr_t va = uvm_km_alloc(kernel_map, 16 * PAGE_SIZE, 0, UVM_KMF_VAONLY);
	assert_true(va != 0);
	assert_int_equal(uvm_free_pages(), free0);
	assert_false(pmap_extract(pmap_kernel(), va, NULL));
	assert_int_equal(mmu_load(va, &(uint64_t){0}), EFAULT);
	/* the caller may map it itself */
	struct vm_page *pg = th_page();
	pmap_kenter_pa(va, VM_PAGE_TO_PHYS(pg), RW, 0);
	pmap_update(pmap_kernel());
	assert_int_equal(mmu_store(va, 5), 0);
	pmap_kremove(va, PAGE_SIZE);
	pmap_update(pmap_kernel());
	uvm_pagefree(pg);
	uvm_km_free(kernel_map, va, 16 * PAGE_SIZE, UVM_KMF_VAONLY);
	vaddr_t again = uvm_km_alloc(kernel_map, 16 * PAGE_SIZE, 0, UVM_KMF_VAONLY);
	assert_int_equal(again, va); /* first fit: the same space */
	uvm_km_free(kernel_map, again, 16 * PAGE_SIZE, UVM_KMF_VAONLY);
}

static void test_align(void **state)
{
	(void)state;
	vaddr_t a = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_VAONLY);
	vaddr_t b = uvm_km_alloc(kernel_map, PAGE_SIZE, 1 << 20, UVM_KMF_VAONLY);
	vaddr_t c = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_VAONLY);
	assert_int_equal(b & ((1 << 20) - 1), 0);
	assert_true(b > a);
	assert_true(c < b); /* the hole below the aligned one is used */
	uvm_km_free(kernel_map, a, PAGE_SIZE, UVM_KMF_VAONLY);
	uvm_km_free(kernel_map, b, PAGE_SIZE, UVM_KMF_VAONLY);
	uvm_km_free(kernel_map, c, PAGE_SIZE, UVM_KMF_VAONLY);
}

static void test_pageable_fault(void **state)
{
	(void)state;
	uint64_t free0 = uvm_free_pages();
	vaddr_t va = uvm_km_alloc(kernel_map, 4 * PAGE_SIZE, 0, UVM_KMF_PAGEABLE);
	assert_true(va != 0);
	assert_int_equal(uvm_free_pages(), free0); /* no page until a fault */
	uint64_t v = 1;
	assert_int_equal(mmu_load(va + PAGE_SIZE, &v), EFAULT);
	assert_int_equal(uvm_fault(kernel_map, va + PAGE_SIZE + 8, VM_PROT_READ), 0);
	assert_int_equal(mmu_load(va + PAGE_SIZE, &v), 0);
	assert_int_equal(v, 0); /* zero-fill */
	assert_int_equal(mmu_store(va + PAGE_SIZE, 42), 0);
	assert_int_equal(uvm_free_pages(), free0 - 1);
	paddr_t pa;
	assert_true(pmap_extract(pmap_kernel(), va + PAGE_SIZE, &pa));
	struct vm_page *pg = PHYS_TO_VM_PAGE(pa);
	assert_ptr_equal(pg->uobject, uvm_kernel_object);
	assert_int_equal(pg->offset, (voff_t)(va + PAGE_SIZE - VM_MIN_KERNEL_ADDRESS));
	/* a second fault on the same page finds it: the data stays */
	assert_int_equal(uvm_fault(kernel_map, va + PAGE_SIZE, VM_PROT_WRITE), 0);
	assert_int_equal(mmu_load(va + PAGE_SIZE, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(uvm_free_pages(), free0 - 1);
	/* not executable, and nothing pageable outside the allocation */
	assert_int_equal(uvm_fault(kernel_map, va, VM_PROT_EXECUTE), EACCES);
	assert_int_equal(uvm_fault(kernel_map, va + 4 * PAGE_SIZE, VM_PROT_READ), EFAULT);
	vaddr_t w = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_WIRED);
	assert_int_equal(uvm_fault(kernel_map, w, VM_PROT_READ), EFAULT);
	uvm_km_free(kernel_map, w, PAGE_SIZE, UVM_KMF_WIRED);
	assert_int_equal(uvm_fault(kernel_map, va + 3 * PAGE_SIZE, VM_PROT_WRITE), 0);
	assert_int_equal(uvm_free_pages(), free0 - 2);
	uvm_km_free(kernel_map, va, 4 * PAGE_SIZE, UVM_KMF_PAGEABLE);
	assert_int_equal(uvm_free_pages(), free0);
	assert_int_equal(mmu_load(va + PAGE_SIZE, &v), EFAULT);
	assert_true(atomic_load(&pg->flags) & PG_FREE);
	assert_null(pg->uobject);
	assert_int_equal(pmap_check(pmap_kernel()), 0);
	assert_int_equal(tlb_check(), 0);
}

/* uvm_km_pgremove alone: the pages go, the address space stays. */
static void test_pgremove(void **state)
{
	(void)state;
	uint64_t free0 = uvm_free_pages();
	vaddr_t va = uvm_km_alloc(kernel_map, 2 * PAGE_SIZE, 0, UVM_KMF_PAGEABLE);
	assert_int_equal(uvm_fault(kernel_map, va, VM_PROT_WRITE), 0);
	assert_int_equal(uvm_fault(kernel_map, va + PAGE_SIZE, VM_PROT_WRITE), 0);
	assert_int_equal(mmu_store(va, 9), 0);
	uvm_km_pgremove(va, va + 2 * PAGE_SIZE);
	assert_int_equal(uvm_free_pages(), free0);
	assert_int_equal(mmu_load(va, &(uint64_t){0}), EFAULT);
	assert_int_equal(uvm_fault(kernel_map, va, VM_PROT_READ), 0); /* a fresh zero page */
	uint64_t v = 1;
	assert_int_equal(mmu_load(va, &v), 0);
	assert_int_equal(v, 0);
	uvm_km_free(kernel_map, va, 2 * PAGE_SIZE, UVM_KMF_PAGEABLE);
	assert_int_equal(uvm_free_pages(), free0);
}

/* ---- submaps ---- */

static void test_submap_intrsafe(void **state)
{
	(void)state;
	vaddr_t smin = 0, smax = 0;
	struct vm_map *sub = uvm_km_suballoc(kernel_map, &smin, &smax, 8 * PAGE_SIZE, VM_MAP_INTRSAFE, false, NULL);
	assert_non_null(sub);
	assert_int_equal(smax - smin, 8 * PAGE_SIZE);
	assert_int_equal(vm_map_min(sub), smin);
	assert_true(vm_map_flags(sub) & VM_MAP_INTRSAFE);
	vaddr_t va[8];
	for (unsigned i = 0; i < 8; i++) {
		va[i] = uvm_km_alloc(sub, PAGE_SIZE, 0, UVM_KMF_WIRED | UVM_KMF_NOWAIT);
		assert_true(va[i] >= smin && va[i] < smax);
		assert_int_equal(mmu_store(va[i], i), 0);
	}
	uint64_t novas = th_counter("uvm.km.fail_va");
	assert_int_equal(uvm_km_alloc(sub, PAGE_SIZE, 0, UVM_KMF_WIRED | UVM_KMF_NOWAIT), 0); /* full */
	assert_int_equal(th_counter("uvm.km.fail_va"), novas + 1);
	/* the parent has the whole range as one entry: its allocations go elsewhere */
	vaddr_t p = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_VAONLY);
	assert_true(p < smin || p >= smax);
	uvm_km_free(kernel_map, p, PAGE_SIZE, UVM_KMF_VAONLY);
	uvm_km_free(sub, va[3], PAGE_SIZE, UVM_KMF_WIRED);
	vaddr_t again = uvm_km_alloc(sub, PAGE_SIZE, 0, UVM_KMF_WIRED | UVM_KMF_NOWAIT);
	assert_int_equal(again, va[3]);
	va[3] = again;
	for (unsigned i = 0; i < 8; i++)
		uvm_km_free(sub, va[i], PAGE_SIZE, UVM_KMF_WIRED);
}

static void pageable_in_intrsafe(void *arg)
{
	uvm_km_alloc(arg, PAGE_SIZE, 0, UVM_KMF_PAGEABLE);
}

static void free_submap_range_in_parent(void *arg)
{
	uvm_km_free(kernel_map, vm_map_min(arg), PAGE_SIZE, UVM_KMF_VAONLY);
}

static void test_submap_rules(void **state)
{
	(void)state;
	vaddr_t smin = 0, smax = 0;
	struct vm_map *sub = uvm_km_suballoc(kernel_map, &smin, &smax, 4 * PAGE_SIZE, VM_MAP_INTRSAFE, false, NULL);
	th_expect_bad_input(pageable_in_intrsafe, sub, "uvm_km_alloc", "not VM_MAP_PAGEABLE");
	th_expect_bad_input(free_submap_range_in_parent, sub, "uvm_km_free", "submap");
}

static void test_submap_fixed_pageable(void **state)
{
	(void)state;
	vaddr_t want = VM_MIN_KERNEL_ADDRESS + (256ULL << 20);
	vaddr_t smin = want, smax = 0;
	struct vm_map *sub = uvm_km_suballoc(kernel_map, &smin, &smax, 1 << 20, VM_MAP_PAGEABLE, true, NULL);
	assert_int_equal(smin, want);
	assert_int_equal(smax, want + (1 << 20));
	vaddr_t va = uvm_km_alloc(sub, 2 * PAGE_SIZE, 0, UVM_KMF_PAGEABLE);
	assert_int_equal(va, want);
	/* a fault through kernel_map descends into the submap */
	assert_int_equal(uvm_fault(kernel_map, va + PAGE_SIZE, VM_PROT_WRITE), 0);
	assert_int_equal(mmu_store(va + PAGE_SIZE, 1), 0);
	uvm_km_free(sub, va, 2 * PAGE_SIZE, UVM_KMF_PAGEABLE);
	assert_int_equal(mmu_store(va + PAGE_SIZE, 1), EFAULT);
	/* a nested submap of the submap */
	vaddr_t nmin = 0, nmax = 0;
	struct vm_map *nested = uvm_km_suballoc(sub, &nmin, &nmax, 8 * PAGE_SIZE, VM_MAP_PAGEABLE, false, NULL);
	assert_true(nmin >= smin && nmax <= smax);
	vaddr_t n = uvm_km_alloc(nested, PAGE_SIZE, 0, UVM_KMF_PAGEABLE);
	assert_int_equal(uvm_fault(kernel_map, n, VM_PROT_READ), 0);
	uvm_km_free(nested, n, PAGE_SIZE, UVM_KMF_PAGEABLE);
}

/* uvm_map: non-quantum entries may be clipped by uvm_unmap; quantum ones may not. */
static void clip_quantum(void *arg)
{
	vaddr_t va = *(vaddr_t *)arg;
	uvm_unmap(kernel_map, va, va + PAGE_SIZE);
}

static void test_quantum_and_clipping(void **state)
{
	(void)state;
	vaddr_t va = 0;
	assert_int_equal(uvm_map(kernel_map, &va, 4 * PAGE_SIZE, NULL, UVM_UNKNOWN_OFFSET, 0, 0), 0);
	uvm_unmap(kernel_map, va + PAGE_SIZE, va + 2 * PAGE_SIZE); /* clip out the middle */
	vaddr_t fixed = va + PAGE_SIZE;
	assert_int_equal(uvm_map(kernel_map, &fixed, PAGE_SIZE, NULL, UVM_UNKNOWN_OFFSET, 0, UVM_FLAG_FIXED), 0);
	fixed = va + 2 * PAGE_SIZE;
	assert_int_equal(uvm_map(kernel_map, &fixed, PAGE_SIZE, NULL, UVM_UNKNOWN_OFFSET, 0, UVM_FLAG_FIXED), ENOMEM);
	uvm_unmap(kernel_map, va, va + 4 * PAGE_SIZE); /* three entries, whole */
	vaddr_t q = 0;
	assert_int_equal(uvm_map(kernel_map, &q, 4 * PAGE_SIZE, NULL, UVM_UNKNOWN_OFFSET, 0, UVM_FLAG_QUANTUM), 0);
	th_expect_bad_input(clip_quantum, &q, "uvm_unmap", "quantum");
	uvm_unmap(kernel_map, q, q + 4 * PAGE_SIZE);
}

/* UVM_KMF_TRYLOCK: a busy map lock makes the call fail instead of waiting. */
static void test_trylock(void **state)
{
	(void)state;
	uint64_t tf = th_counter("uvm.map.trylock_fail");
	rw_enter(&kernel_map->vm_lock, RW_WRITER);
	vaddr_t va = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_WIRED | UVM_KMF_TRYLOCK);
	rw_exit(&kernel_map->vm_lock);
	assert_int_equal(va, 0);
	assert_int_equal(th_counter("uvm.map.trylock_fail"), tf + 1);
	va = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_WIRED | UVM_KMF_TRYLOCK);
	assert_true(va != 0);
	uvm_km_free(kernel_map, va, PAGE_SIZE, UVM_KMF_WIRED);
}

/* UVM_KMF_WAITVA: blocks until another CPU frees address space. */
struct waitva_run {
	struct vm_map *sub;
	vaddr_t held[4];
	_Atomic int phase;
	_Atomic vaddr_t got;
};

static void waitva_cpu(unsigned cpu, void *arg)
{
	struct waitva_run *s = arg;
	unsigned iter = 0;
	if (cpu == 0) {
		for (unsigned i = 0; i < 4; i++)
			s->held[i] = uvm_km_alloc(s->sub, PAGE_SIZE, 0, UVM_KMF_VAONLY);
		TH_CHECK(uvm_km_alloc(s->sub, PAGE_SIZE, 0, UVM_KMF_VAONLY) == 0); /* no WAITVA: fails */
		uint64_t w0 = th_counter("uvm.map.waitva");
		atomic_store(&s->phase, 1);
		/* CPU 1 provably waits once it counted its wait (no time given and
		 * hoped for: a loaded host may not run it for a while) */
		while (th_counter("uvm.map.waitva") <= w0)
			cpu_spin_wait(&iter);
		TH_CHECK(atomic_load(&s->got) == 0); /* still waiting: nothing was freed */
		uvm_km_free(s->sub, s->held[2], PAGE_SIZE, UVM_KMF_VAONLY);
		while (atomic_load(&s->got) == 0)
			cpu_spin_wait(&iter);
		TH_CHECK(atomic_load(&s->got) == s->held[2]);
	} else {
		while (atomic_load(&s->phase) == 0)
			cpu_spin_wait(&iter);
		atomic_store(&s->got, uvm_km_alloc(s->sub, PAGE_SIZE, 0, UVM_KMF_VAONLY | UVM_KMF_WAITVA));
	}
}

static void test_waitva(void **state)
{
	(void)state;
	struct waitva_run s = {0};
	vaddr_t smin = 0, smax = 0;
	s.sub = uvm_km_suballoc(kernel_map, &smin, &smax, 4 * PAGE_SIZE, 0, false, NULL);
	th_run_cpus(2, waitva_cpu, &s);
	for (unsigned i = 0; i < 4; i++)
		uvm_km_free(s.sub, s.held[i], PAGE_SIZE, UVM_KMF_VAONLY);
}

/* ---- exhaustion on a 1 MiB machine ---- */

#define MAXHELD 512

/* Takes every page that is not the reserve. */
static unsigned drain_memory(struct vm_page **held)
{
	unsigned n = 0;
	struct vm_page *pg;
	while (n < MAXHELD && (pg = uvm_pagealloc(NULL, 0, NULL, 0)) != NULL)
		held[n++] = pg;
	return n;
}

static void test_exhaustion_nowait_canfail(void **state)
{
	(void)state;
	static struct vm_page *held[MAXHELD];
	unsigned n = drain_memory(held);
	assert_true(n > 100 && n < MAXHELD);
	uint64_t free0 = uvm_free_pages();
	assert_true(free0 > 0 && free0 <= 16); /* the reserve */
	uint64_t fm = th_counter("uvm.km.fail_mem"), fails = th_counter("uvm.page.failures");
	/* CANFAIL: nothing reclaimable, so it fails at once, and gives back the VA */
	assert_int_equal(uvm_km_alloc(kernel_map, 4 * PAGE_SIZE, 0, UVM_KMF_WIRED | UVM_KMF_CANFAIL), 0);
	assert_int_equal(uvm_free_pages(), free0);
	/* NOWAIT may use the reserve, but not more than there is: the pages
	 * it took come back */
	assert_int_equal(uvm_km_alloc(kernel_map, ptoa(free0 + 2), 0, UVM_KMF_WIRED | UVM_KMF_NOWAIT), 0);
	assert_int_equal(uvm_free_pages(), free0);
	assert_int_equal(th_counter("uvm.km.fail_mem"), fm + 2);
	assert_true(th_counter("uvm.page.failures") >= fails + 2);
	/* the address space came back too: the next allocation gets the first address */
	vaddr_t va = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_VAONLY);
	assert_int_equal(va, VM_MIN_KERNEL_ADDRESS);
	uvm_km_free(kernel_map, va, PAGE_SIZE, UVM_KMF_VAONLY);
	/* within the reserve, NOWAIT succeeds (and counts reserve use) */
	uint64_t res0 = th_counter("uvm.page.reserve_used");
	va = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_WIRED | UVM_KMF_NOWAIT);
	assert_true(va != 0);
	assert_true(th_counter("uvm.page.reserve_used") > res0);
	uvm_km_free(kernel_map, va, PAGE_SIZE, UVM_KMF_WIRED);
	assert_int_equal(uvm_free_pages(), free0);
	/* pool pages too: direct mode, no wait */
	assert_int_equal(uvm_km_alloc_poolpage(kernel_map, false) != 0, 1); /* from the reserve */
	while (n > 0)
		uvm_pagefree(held[--n]);
	assert_int_equal(uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_WIRED | UVM_KMF_NOWAIT) != 0, 1);
}

struct exhaust_run {
	struct vm_page *held[MAXHELD];
	unsigned n;
	_Atomic int phase;
	_Atomic vaddr_t got;
};

static void exhaust_cpu(unsigned cpu, void *arg)
{
	struct exhaust_run *s = arg;
	unsigned iter = 0;
	if (cpu == 0) {
		s->n = drain_memory(s->held);
		uint64_t w0 = th_counter("uvm.km.waits");
		atomic_store(&s->phase, 1);
		/* CPU 1 provably waits for memory once it counted its wait */
		while (th_counter("uvm.km.waits") <= w0)
			cpu_spin_wait(&iter);
		TH_CHECK(atomic_load(&s->got) == 0); /* still waiting: nothing was freed */
		/* frees on this CPU (into its page cache) wake CPU 1 */
		for (unsigned i = 0; i < 4; i++)
			uvm_pagefree(s->held[--s->n]);
		while (atomic_load(&s->got) == 0)
			cpu_spin_wait(&iter);
	} else {
		while (atomic_load(&s->phase) == 0)
			cpu_spin_wait(&iter);
		vaddr_t va = uvm_km_alloc(kernel_map, 2 * PAGE_SIZE, 0, UVM_KMF_WIRED);
		TH_CHECK(va != 0);
		TH_CHECK(mmu_store(va + PAGE_SIZE, 3) == 0);
		atomic_store(&s->got, va);
	}
}

static void test_exhaustion_waits(void **state)
{
	(void)state;
	static struct exhaust_run s;
	memset(&s, 0, sizeof(s));
	th_run_cpus(2, exhaust_cpu, &s);
	uvm_km_free(kernel_map, s.got, 2 * PAGE_SIZE, UVM_KMF_WIRED);
	while (s.n > 0)
		uvm_pagefree(s.held[--s.n]);
}

/* ---- churn on several CPUs ---- */

#define CH_PAGES 16384 /* the first 64 MiB of kernel_map */

struct churn_run {
	_Atomic uint32_t owner[CH_PAGES]; /* cpu+1 of the allocation holding each page of VA */
	unsigned rounds;
	int type;
	_Atomic unsigned twice, wrong, escaped;
	struct th_barrier bar;
	/* cross-CPU frees: CPU 0 allocates, CPU 1 frees */
	_Atomic vaddr_t handoff[64];
};

static void churn_cpu(unsigned cpu, void *arg)
{
	struct churn_run *s = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (cpu + 1);
	for (unsigned r = 0; r < s->rounds; r++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		unsigned npg = 1 + (unsigned)(seed % 3);
		vaddr_t va = uvm_km_alloc(kernel_map, ptoa(npg), 0, s->type | UVM_KMF_ZERO);
		if (va == 0 || va - VM_MIN_KERNEL_ADDRESS >= ptoa(CH_PAGES - 4)) {
			atomic_fetch_add(&s->escaped, 1);
			continue;
		}
		size_t first = atop(va - VM_MIN_KERNEL_ADDRESS);
		for (unsigned i = 0; i < npg; i++) {
			uint32_t z = 0;
			if (!atomic_compare_exchange_strong(&s->owner[first + i], &z, cpu + 1))
				atomic_fetch_add(&s->twice, 1);
		}
		uint64_t mark = ((uint64_t)cpu << 32) | r;
		for (unsigned i = 0; i < npg; i++) {
			if (s->type == UVM_KMF_PAGEABLE)
				TH_CHECK(uvm_fault(kernel_map, va + ptoa(i), RW) == 0);
			TH_CHECK(mmu_store(va + ptoa(i) + 8 * cpu, mark) == 0);
		}
		cpu_intr_poll();
		for (unsigned i = 0; i < npg; i++) {
			uint64_t v = 0;
			if (mmu_load(va + ptoa(i) + 8 * cpu, &v) != 0 || v != mark)
				atomic_fetch_add(&s->wrong, 1); /* a frame shared with someone else */
		}
		for (unsigned i = 0; i < npg; i++)
			atomic_store(&s->owner[first + i], 0);
		uvm_km_free(kernel_map, va, ptoa(npg), s->type);
	}
	th_barrier_wait(&s->bar);
	/* memory allocated on CPU 0 and freed on CPU 1 */
	if (cpu == 0)
		for (unsigned i = 0; i < 64; i++)
			atomic_store(&s->handoff[i], uvm_km_alloc(kernel_map, PAGE_SIZE, 0, s->type));
	th_barrier_wait(&s->bar);
	if (cpu == 1)
		for (unsigned i = 0; i < 64; i++)
			uvm_km_free(kernel_map, atomic_load(&s->handoff[i]), PAGE_SIZE, s->type);
	th_barrier_wait(&s->bar);
}

static void churn(int type)
{
	static struct churn_run s;
	memset(&s, 0, sizeof(s));
	s.rounds = 1500;
	s.type = type;
	th_barrier_init(&s.bar, 2);
	uint64_t free0 = uvm_free_pages();
	th_run_cpus(2, churn_cpu, &s);
	assert_int_equal(atomic_load(&s.twice), 0);
	assert_int_equal(atomic_load(&s.wrong), 0);
	assert_int_equal(atomic_load(&s.escaped), 0);
	assert_int_equal(uvm_free_pages(), free0);
	assert_int_equal(pmap_check(pmap_kernel()), 0);
	vaddr_t va = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_VAONLY);
	assert_int_equal(va, VM_MIN_KERNEL_ADDRESS); /* every VA came back */
	uvm_km_free(kernel_map, va, PAGE_SIZE, UVM_KMF_VAONLY);
}

static void test_churn_wired(void **state)
{
	(void)state;
	churn(UVM_KMF_WIRED);
}

static void test_churn_pageable(void **state)
{
	(void)state;
	churn(UVM_KMF_PAGEABLE);
}

/*
 * No frame is freed while a TLB may still map it: CPU 1 keeps the page
 * cached and, before each access, reads the frame's generation.  Once the
 * generation changed (the frame was freed), the access must fault: the
 * shootdown that covers CPU 1 completed before the frame went back.
 */
struct stale_run {
	_Atomic vaddr_t va;
	_Atomic(struct vm_page *) pg;
	_Atomic uint32_t gen0;
	_Atomic unsigned round, seen, done;
	unsigned rounds;
	int mode; /* 0 wired, 1 pageable, 2 pool page (kmem.poolpage of the machine) */
	_Atomic unsigned stale;
};

static void stale_cpu(unsigned cpu, void *arg)
{
	struct stale_run *s = arg;
	unsigned iter = 0;
	for (unsigned r = 1; r <= s->rounds; r++) {
		if (cpu == 0) {
			vaddr_t va;
			if (s->mode == 0)
				va = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_WIRED);
			else if (s->mode == 1) {
				va = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_PAGEABLE);
				TH_CHECK(uvm_fault(kernel_map, va, RW) == 0);
			} else
				va = uvm_km_alloc_poolpage_cache(kernel_map, true);
			TH_CHECK(mmu_store(va, r) == 0);
			paddr_t pa = 0;
			TH_CHECK(pmap_extract(pmap_kernel(), va, &pa));
			struct vm_page *pg = PHYS_TO_VM_PAGE(pa);
			atomic_store(&s->gen0, atomic_load(&pg->mdpage.mp_gen));
			atomic_store(&s->pg, pg);
			atomic_store(&s->va, va);
			atomic_store(&s->round, r);
			while (atomic_load(&s->seen) != r)
				cpu_spin_wait(&iter); /* CPU 1 has it in its TLB */
			if (s->mode == 0)
				uvm_km_free(kernel_map, va, PAGE_SIZE, UVM_KMF_WIRED);
			else if (s->mode == 1)
				uvm_km_free(kernel_map, va, PAGE_SIZE, UVM_KMF_PAGEABLE);
			else
				uvm_km_free_poolpage_cache(kernel_map, va);
			while (atomic_load(&s->done) != r)
				cpu_spin_wait(&iter);
		} else {
			while (atomic_load(&s->round) != r)
				cpu_spin_wait(&iter);
			vaddr_t va = atomic_load(&s->va);
			struct vm_page *pg = atomic_load(&s->pg);
			uint32_t gen0 = atomic_load(&s->gen0);
			uint64_t v;
			TH_CHECK(mmu_load(va, &v) == 0 && v == r);
			atomic_store(&s->seen, r);
			for (;;) {
				uint32_t g = atomic_load(&pg->mdpage.mp_gen);
				int e = mmu_load(va, &v);
				if (g != gen0) {
					if (e == 0)
						atomic_fetch_add(&s->stale, 1);
					break;
				}
				cpu_intr_poll();
			}
			atomic_store(&s->done, r);
		}
	}
}

static void stale(int mode)
{
	struct stale_run s = {.rounds = 300, .mode = mode};
	th_run_cpus(2, stale_cpu, &s);
	assert_int_equal(atomic_load(&s.stale), 0);
}

static void test_no_frame_freed_while_mapped_wired(void **state)
{
	(void)state;
	stale(0);
}

static void test_no_frame_freed_while_mapped_pageable(void **state)
{
	(void)state;
	stale(1);
}

static void test_no_frame_freed_while_mapped_vacache(void **state)
{
	(void)state;
	stale(2);
}

/* ---- which allocations the latency histograms time ---- */

/* One call in 16 is timed, drawn at random on each CPU: a workload that
 * takes a wired page and a pool page in turn gets about 20 timed of each
 * of its 320 (seeded, the same every run; the bounds are 4 standard
 * deviations).  The old rule, every 16th call of the thread, timed the
 * same one of the two every time and the other never. */
static void test_alloc_latency_sampled(void **state)
{
	(void)state;
	uint64_t a0 = th_hist_count("uvm.km_alloc.latency"), p0 = th_hist_count("uvm.poolpage.latency");
	for (int i = 0; i < 320; i++) {
		vaddr_t va = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_WIRED);
		vaddr_t pp = uvm_km_alloc_poolpage(kernel_map, true);
		assert_true(va != 0 && pp != 0);
		uvm_km_free(kernel_map, va, PAGE_SIZE, UVM_KMF_WIRED);
		uvm_km_free_poolpage(kernel_map, pp);
	}
	assert_in_range(th_hist_count("uvm.km_alloc.latency") - a0, 3, 37);
	assert_in_range(th_hist_count("uvm.poolpage.latency") - p0, 3, 37);
}

/* ---- pool pages ---- */

static void test_poolpage_direct(void **state)
{
	(void)state;
	uint64_t free0 = uvm_free_pages();
	vaddr_t va = uvm_km_alloc_poolpage_cache(kernel_map, true);
	assert_true(va >= PMAP_DIRECT_BASE && va < PMAP_DIRECT_END);
	assert_int_equal(mmu_store(va + 16, 77), 0);
	assert_int_equal(*(uint64_t *)((char *)machine_phys(PMAP_UNMAP_POOLPAGE(va)) + 16), 77);
	assert_int_equal(uvm_free_pages(), free0 - 1);
	uvm_km_free_poolpage_cache(kernel_map, va);
	assert_int_equal(uvm_free_pages(), free0);
}

static void test_poolpage_plain(void **state)
{
	(void)state;
	uint64_t free0 = uvm_free_pages(), allocs = th_counter("uvm.km.allocs");
	vaddr_t va = uvm_km_alloc_poolpage_cache(kernel_map, true);
	assert_true(va >= VM_MIN_KERNEL_ADDRESS && va < vm_map_max(kernel_map));
	assert_int_equal(th_counter("uvm.km.allocs"), allocs + 1);
	assert_int_equal(mmu_store(va, 1), 0);
	assert_int_equal(uvm_free_pages(), free0 - 1);
	uvm_km_free_poolpage_cache(kernel_map, va);
	assert_int_equal(uvm_free_pages(), free0);
	assert_false(pmap_extract(pmap_kernel(), va, NULL));
}

/* vacache: 32-page chunks; a freed page's VA is reused from the cache. */
static void test_poolpage_vacache_hit(void **state)
{
	(void)state;
	assert_true(vm_map_flags(kernel_map) & VM_MAP_VACACHE);
	uint64_t free0 = uvm_free_pages();
	uint64_t chunks0 = th_counter("uvm.km.vacache_chunks");
	vaddr_t a = uvm_km_alloc_poolpage_cache(kernel_map, true);
	assert_true(a != 0);
	assert_int_equal(th_counter("uvm.km.vacache_chunks"), chunks0 + 1);
	vaddr_t chunk = a & ~(vaddr_t)(32 * PAGE_SIZE - 1);
	assert_int_equal(mmu_store(a, 5), 0);
	uvm_km_free_poolpage_cache(kernel_map, a);
	assert_false(pmap_extract(pmap_kernel(), a, NULL));
	assert_int_equal(uvm_free_pages(), free0);
	/* the hit path: same VA, no new chunk, no map operation */
	uint64_t enters = th_counter("uvm.map.enters");
	vaddr_t b = uvm_km_alloc_poolpage_cache(kernel_map, true);
	assert_int_equal(b, a);
	assert_int_equal(th_counter("uvm.map.enters"), enters);
	assert_int_equal(th_counter("uvm.km.vacache_chunks"), chunks0 + 1);
	/* 32 pages per chunk: the 33rd takes a second chunk */
	vaddr_t pages[33];
	pages[0] = b;
	for (unsigned i = 1; i < 33; i++) {
		pages[i] = uvm_km_alloc_poolpage_cache(kernel_map, true);
		if (i < 32)
			assert_int_equal(pages[i] & ~(vaddr_t)(32 * PAGE_SIZE - 1), chunk);
	}
	assert_int_equal(th_counter("uvm.km.vacache_chunks"), chunks0 + 2);
	for (unsigned i = 0; i < 33; i++)
		for (unsigned j = 0; j < i; j++)
			assert_true(pages[i] != pages[j]);
	for (unsigned i = 0; i < 33; i++)
		uvm_km_free_poolpage_cache(kernel_map, pages[i]);
	assert_int_equal(uvm_free_pages(), free0);
	/* uvm_km_alloc_poolpage (no _cache) still works in this mode */
	vaddr_t p = uvm_km_alloc_poolpage(kernel_map, true);
	assert_int_equal(mmu_store(p, 1), 0);
	uvm_km_free_poolpage(kernel_map, p);
	assert_int_equal(uvm_free_pages(), free0);
}

static void free_pp_twice(void *arg)
{
	(void)arg;
	vaddr_t va = uvm_km_alloc_poolpage_cache(kernel_map, true);
	uvm_km_free_poolpage_cache(kernel_map, va);
	uvm_km_free_poolpage_cache(kernel_map, va);
}

static void test_poolpage_double_free(void **state)
{
	(void)state;
	th_expect_bad_input(free_pp_twice, NULL, "free_poolpage", "pool page");
}

/* ---- the page allocator ---- */

static void test_pagecache(void **state)
{
	(void)state;
	char mode[16];
	machine_config_get(machine_config_of(th.m), "uvm.pagecache", mode, sizeof(mode));
	bool percpu = strcmp(mode, "percpu") == 0;
	uint64_t free0 = uvm_free_pages(), a0 = th_counter("uvm.page.allocs"), f0 = th_counter("uvm.page.frees");
	uint64_t hits0 = th_counter("uvm.page.cache_hits");
	struct vm_page *p = uvm_pagealloc(NULL, 0, NULL, 0);
	assert_non_null(p);
	uvm_pagefree(p);
	struct vm_page *q = uvm_pagealloc(NULL, 0, NULL, UVM_PGA_ZERO);
	if (percpu) {
		assert_ptr_equal(q, p); /* LIFO per-CPU cache */
		assert_true(th_counter("uvm.page.cache_hits") > hits0);
	} else {
		assert_int_equal(th_counter("uvm.page.cache_hits"), hits0);
	}
	uint64_t *w = machine_phys(VM_PAGE_TO_PHYS(q));
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		assert_int_equal(w[i], 0);
	uvm_pagefree(q);
	assert_int_equal(th_counter("uvm.page.allocs"), a0 + 2);
	assert_int_equal(th_counter("uvm.page.frees"), f0 + 2);
	assert_int_equal(uvm_free_pages(), free0);
}

static void page_double_free(void *arg)
{
	(void)arg;
	struct vm_page *p = uvm_pagealloc(NULL, 0, NULL, 0);
	uvm_pagefree(p);
	uvm_pagefree(p);
}

static void test_page_double_free(void **state)
{
	(void)state;
	th_expect_bad_input(page_double_free, NULL, "uvm_pagefree", "double free");
}

/* Frames cached on CPU 1 are found by CPU 0 and by the pmap when memory runs out. */
struct drain_run {
	struct vm_page *held[MAXHELD];
	unsigned n;
	struct th_barrier bar;
};

static void drain_cpu(unsigned cpu, void *arg)
{
	struct drain_run *s = arg;
	if (cpu == 1) {
		/* fill this CPU's cache */
		struct vm_page *pg[32];
		for (unsigned i = 0; i < 32; i++)
			pg[i] = uvm_pagealloc(NULL, 0, NULL, 0);
		for (unsigned i = 0; i < 32; i++)
			uvm_pagefree(pg[i]);
	}
	th_barrier_wait(&s->bar);
	if (cpu == 0) {
		uint64_t before = uvm_free_pages();
		s->n = drain_memory(s->held);
		TH_CHECK(uvm_free_pages() == before - s->n);
		TH_CHECK(uvm_free_pages() <= 16);
		while (s->n > 0)
			uvm_pagefree(s->held[--s->n]);
	}
	th_barrier_wait(&s->bar);
}

static void test_pagecache_drain(void **state)
{
	(void)state;
	static struct drain_run s;
	memset(&s, 0, sizeof(s));
	th_barrier_init(&s.bar, 2);
	uint64_t drains = th_counter("uvm.page.cache_drains");
	th_run_cpus(2, drain_cpu, &s);
	char mode[16];
	machine_config_get(machine_config_of(th.m), "uvm.pagecache", mode, sizeof(mode));
	if (strcmp(mode, "percpu") == 0)
		assert_true(th_counter("uvm.page.cache_drains") > drains);
}

/* ---- bad input ---- */

static void alloc_size0(void *arg)
{
	(void)arg;
	uvm_km_alloc(kernel_map, 0, 0, UVM_KMF_WIRED);
}

static void free_unaligned(void *arg)
{
	vaddr_t va = *(vaddr_t *)arg;
	uvm_km_free(kernel_map, va + 8, PAGE_SIZE, UVM_KMF_WIRED);
}

static void free_never(void *arg)
{
	(void)arg;
	uvm_km_free(kernel_map, VM_MIN_KERNEL_ADDRESS + (1ULL << 30), PAGE_SIZE, UVM_KMF_WIRED);
}

static void free_outside(void *arg)
{
	(void)arg;
	uvm_km_free(kernel_map, VM_MAX_KERNEL_ADDRESS - PAGE_SIZE, PAGE_SIZE, UVM_KMF_WIRED);
}

static void free_twice(void *arg)
{
	(void)arg;
	vaddr_t va = uvm_km_alloc(kernel_map, PAGE_SIZE, 0, UVM_KMF_WIRED);
	uvm_km_free(kernel_map, va, PAGE_SIZE, UVM_KMF_WIRED);
	uvm_km_free(kernel_map, va, PAGE_SIZE, UVM_KMF_WIRED);
}

static void free_wrong_type(void *arg)
{
	vaddr_t va = *(vaddr_t *)arg;
	uvm_km_free(kernel_map, va, 2 * PAGE_SIZE, UVM_KMF_PAGEABLE);
}

static void free_part(void *arg)
{
	vaddr_t va = *(vaddr_t *)arg;
	uvm_km_free(kernel_map, va, PAGE_SIZE, UVM_KMF_WIRED);
}

static void test_bad_input(void **state)
{
	(void)state;
	char a[32];
	th_expect_bad_input(alloc_size0, NULL, "uvm_km_alloc", "size 0");
	vaddr_t va = uvm_km_alloc(kernel_map, 2 * PAGE_SIZE, 0, UVM_KMF_WIRED);
	hexaddr(a, sizeof(a), va + 8);
	th_expect_bad_input(free_unaligned, &va, "uvm_km_free", a);
	hexaddr(a, sizeof(a), VM_MIN_KERNEL_ADDRESS + (1ULL << 30));
	th_expect_bad_input(free_never, NULL, "never allocated", a);
	hexaddr(a, sizeof(a), VM_MAX_KERNEL_ADDRESS - PAGE_SIZE);
	th_expect_bad_input(free_outside, NULL, "outside the map", a);
	th_expect_bad_input(free_twice, NULL, "uvm_km_free", "double free");
	hexaddr(a, sizeof(a), va);
	th_expect_bad_input(free_wrong_type, &va, "another type", a);
	th_expect_bad_input(free_part, &va, "uvm_km_free", "part of an allocation");
	/* nothing happened to the allocation in this process */
	assert_int_equal(mmu_store(va + PAGE_SIZE, 1), 0);
	uvm_km_free(kernel_map, va, 2 * PAGE_SIZE, UVM_KMF_WIRED);
}

/* ---- configuration ---- */

static void test_config_keys(void **state)
{
	(void)state;
	struct machine_config c;
	machine_config_init(&c);
	char buf[64];
	assert_int_equal(machine_config_get(&c, "uvm.pagecache", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "percpu");
	assert_int_equal(machine_config_get(&c, "kmem.poolpage", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "direct");
	assert_int_equal(machine_config_get(&c, "kmem.kva", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "64G");
	assert_int_equal(machine_config_set(&c, "kmem.kva", "65537G"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "kmem.kva"));
	assert_non_null(strstr(machine_errmsg(), "address space"));
	assert_int_equal(machine_config_set(&c, "kmem.kva", "65536G"), 0);
	assert_int_equal(machine_config_set(&c, "kmem.kva", "1000"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "kmem.kva"));
	assert_int_equal(machine_config_set(&c, "kmem.poolpage", "kseg0"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "kmem.poolpage"));
	assert_int_equal(machine_config_set(&c, "uvm.pagecache", "global"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "uvm.pagecache"));
	assert_int_equal(machine_config_set(&c, "uvm.pagecache_pages", "1"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "uvm.pagecache_pages"));
	assert_int_equal(machine_config_set(&c, "kmem.vacache_pages", "24"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "kmem.vacache_pages"));
	assert_int_equal(machine_config_set(&c, "kmem.steal", "lots"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "kmem.steal"));
	/* a field of the machine's set directly is checked at boot, naming the key */
	machine_config_init(&c);
	c.mc_memory = 3;
	assert_null(machine_boot(&c));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(machine_errmsg(), "machine.memory"));
	machine_config_init(&c);
	assert_int_equal(machine_config_set(&c, "kmem.steal", "40M"), 0);
	assert_null(machine_boot(&c));
	assert_non_null(strstr(machine_errmsg(), "kmem.steal"));
}

#define T(f, sets) cmocka_unit_test_prestate_setup_teardown(f, th_setup_sets, th_teardown_sets, (void *)(sets))

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_kernel_map_bounds, sets_default),
		T(test_first_entry_reserves_stolen, sets_steal),
		T(test_first_entry_cannot_be_freed, sets_steal),
		T(test_wired, sets_default),
		T(test_wired, sets_off),
		T(test_exec, sets_default),
		T(test_zero, sets_default),
		T(test_vaonly, sets_default),
		T(test_align, sets_default),
		T(test_pageable_fault, sets_default),
		T(test_pgremove, sets_default),
		T(test_submap_intrsafe, sets_default),
		T(test_submap_rules, sets_default),
		T(test_submap_fixed_pageable, sets_default),
		T(test_quantum_and_clipping, sets_default),
		T(test_trylock, sets_default),
		T(test_waitva, sets_small),
		T(test_exhaustion_nowait_canfail, sets_small),
		T(test_exhaustion_nowait_canfail, sets_small_off),
		T(test_exhaustion_waits, sets_small),
		T(test_exhaustion_waits, sets_small_off),
		T(test_churn_wired, sets_small),
		T(test_churn_pageable, sets_small),
		T(test_churn_wired, sets_small_off),
		T(test_no_frame_freed_while_mapped_wired, sets_small),
		T(test_no_frame_freed_while_mapped_pageable, sets_small),
		T(test_no_frame_freed_while_mapped_vacache, ((const char *const[]){"machine.cpus=2",
		    "kmem.poolpage=vacache", NULL})),
		T(test_alloc_latency_sampled, sets_default),
		T(test_poolpage_direct, sets_default),
		T(test_poolpage_plain, sets_plain),
		T(test_poolpage_vacache_hit, sets_vacache),
		T(test_poolpage_double_free, sets_vacache),
		T(test_poolpage_double_free, sets_default),
		T(test_pagecache, sets_default),
		T(test_pagecache, sets_off),
		T(test_page_double_free, sets_default),
		T(test_pagecache_drain, sets_small),
		T(test_bad_input, sets_default),
		cmocka_unit_test(test_config_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
