/*
 * test_pmap.c — the pmap(9) interface, one CPU (the test thread is CPU 0).
 *
 * Each test checks documented behaviour of one or more functions of the
 * NetBSD pmap(9) manual (NetBSD 7.1.2) through the simulated
 * MMU: mmu_load/mmu_store/mmu_fetch see what the pmap mapped, machine_phys()
 * gives the frame's host view.  Most tests end with pmap_check() and
 * tlb_check().  The modified/referenced tests run under hardware A/D and
 * under software emulation (mmu.refmod=software); the context-switch and
 * page_protect tests also with PCIDs off.
 */
#include "harness.h"

#include <errno.h>
#include <time.h>

#define UVA ((vaddr_t)0x10000000)  /* a user address in L4 slot 0 */
#define UVA2 ((vaddr_t)0x30000000) /* another one, other 2 MiB tables */
#define L1SPAN ((vaddr_t)512 << PAGE_SHIFT) /* what one page-table page maps: 2 MiB */
#define PREFER_ALIGN (8 * PAGE_SIZE)

/* ---- fixtures ---- */

static const char *const sets_nopcid[] = {"mmu.pcid=off", NULL};
static const char *const sets_soft[] = {"mmu.refmod=software", NULL};
static const char *const sets_small[] = {"machine.memory=1M", NULL};

static int setup_default(void **state)
{
	th.sets = NULL;
	return th_setup_cpu0(state);
}

static int setup_nopcid(void **state)
{
	th.sets = sets_nopcid;
	return th_setup_cpu0(state);
}

static int setup_soft(void **state)
{
	th.sets = sets_soft;
	return th_setup_cpu0(state);
}

static int setup_small(void **state)
{
	th.sets = sets_small;
	return th_setup_cpu0(state);
}

static int teardown(void **state)
{
	int r = th_teardown_cpu0(state);
	th.sets = NULL;
	return r;
}

/* Managed kernel mappings (pmap_enter(pmap_kernel(), ...)) live at these
 * offsets from the start of kernel VA; removed here too, in case the test
 * failed before it removed them itself (the kernel pmap outlives th.pm). */
#define KMANAGED_A (16 * PAGE_SIZE)
#define KMANAGED_B (32 * PAGE_SIZE)

static int teardown_kmanaged(void **state)
{
	if (th.m != NULL && cpu_attached()) {
		vaddr_t s, e;
		pmap_virtual_space(&s, &e);
		pmap_remove(pmap_kernel(), s + KMANAGED_A, s + KMANAGED_A + PAGE_SIZE);
		pmap_remove(pmap_kernel(), s + KMANAGED_B, s + KMANAGED_B + PAGE_SIZE);
		pmap_update(pmap_kernel());
	}
	return teardown(state);
}

/* ---- helpers ---- */

static uint64_t *host(paddr_t pa)
{
	uint64_t *p = machine_phys(pa);
	assert_non_null(p);
	return p;
}

static uint64_t *pghost(struct vm_page *pg)
{
	return host(VM_PAGE_TO_PHYS(pg));
}

static uint64_t load_ok(vaddr_t va)
{
	uint64_t v = 0;
	int e = mmu_load(va, &v);
	if (e != 0)
		fail_msg("mmu_load(%#lx) = %d, expected 0", (unsigned long)va, e);
	return v;
}

static void store_ok(vaddr_t va, uint64_t v)
{
	int e = mmu_store(va, v);
	if (e != 0)
		fail_msg("mmu_store(%#lx) = %d, expected 0", (unsigned long)va, e);
}

static int load_err(vaddr_t va)
{
	uint64_t v;
	return mmu_load(va, &v);
}

static void consistent(pmap_t pm)
{
	assert_int_equal(pmap_check(pm), 0);
	assert_int_equal(tlb_check(), 0);
}

static vaddr_t kva_start(void)
{
	vaddr_t s, e;
	pmap_virtual_space(&s, &e);
	return s;
}

/*
 * Waits (taking quiescent states) until page-table pages are back to
 * target: they come back from liburcu's call_rcu thread after a grace
 * period, which takes as long as the host takes to run that thread.  No
 * clock bounds it (a loaded host may not run the thread for seconds); pages
 * that never come back hang the test until CTest's timeout ends it.
 */
static void wait_ptp_pages(uint64_t target)
{
	while (pmap_ptp_pages() > target) {
		cpu_intr_poll();
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

/* A second user pmap with an lwp. */
struct other {
	pmap_t pm;
	struct lwp *l;
};

static struct other other_create(void)
{
	struct other o;
	o.pm = pmap_create();
	assert_non_null(o.pm);
	o.l = lwp_create(o.pm);
	assert_non_null(o.l);
	return o;
}

static void other_destroy(struct other *o)
{
	if (curlwp() == o->l)
		lwp_switch(th.l);
	/* its mappings all lie below 4 GiB (pmap_remove_all would scan all of user space) */
	pmap_remove(o->pm, VM_MIN_ADDRESS, (vaddr_t)1 << 32);
	pmap_update(o->pm);
	assert_int_equal(pmap_resident_count(o->pm), 0);
	assert_int_equal(pmap_check(o->pm), 0);
	lwp_destroy(o->l);
	pmap_destroy(o->pm);
}

/* ---- pmap_create / pmap_reference / pmap_destroy / pmap_kernel / pmap_init ---- */

static void test_create_reference_destroy(void **state)
{
	(void)state;
	uint64_t ptp0 = pmap_ptp_pages();
	pmap_t p = pmap_create();
	assert_non_null(p);
	assert_ptr_not_equal(p, th.pm);
	assert_ptr_not_equal(p, pmap_kernel());
	assert_int_equal(pmap_resident_count(p), 0);
	assert_int_equal(pmap_wired_count(p), 0);
	assert_true(pmap_ptp_pages() > ptp0); /* its root table */

	/* refcount 2: one destroy leaves it usable */
	pmap_reference(p);
	pmap_destroy(p);
	struct vm_page *pg = th_page();
	assert_non_null(pg);
	assert_int_equal(pmap_enter(p, UVA, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, 0), 0);
	pmap_update(p);
	paddr_t pa;
	assert_true(pmap_extract(p, UVA, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(pg));
	assert_int_equal(pmap_resident_count(p), 1);
	assert_int_equal(pmap_check(p), 0);
	/* a mapping in p is not a mapping in th.pm */
	assert_false(pmap_extract(th.pm, UVA, NULL));
	pmap_remove(p, UVA, UVA + PAGE_SIZE);
	pmap_update(p);
	assert_int_equal(pmap_resident_count(p), 0);
	assert_int_equal(pmap_check(p), 0);
	/* the last reference: everything it held is released */
	pmap_destroy(p);
	wait_ptp_pages(ptp0);
	uvm_pagefree(pg);
	consistent(th.pm);
}

/* Many pmaps at once: each distinct, each independent. */
static void test_create_many(void **state)
{
	(void)state;
	enum { N = 64 };
	pmap_t p[N];
	struct vm_page *pg = th_page();
	for (int i = 0; i < N; i++) {
		p[i] = pmap_create();
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(p[i], p[j]);
		assert_int_equal(pmap_enter(p[i], UVA + ptoa(i), VM_PAGE_TO_PHYS(pg), VM_PROT_READ, 0), 0);
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(pmap_resident_count(p[i]), 1);
		assert_true(pmap_extract(p[i], UVA + ptoa(i), NULL));
		assert_false(pmap_extract(p[i], UVA + ptoa(i + 1), NULL));
		assert_int_equal(pmap_check(p[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pmap_remove(p[i], UVA, UVA + ptoa(N));
		pmap_update(p[i]);
		pmap_destroy(p[i]);
	}
	assert_null(pg->mdpage.mp_pvlist);
	uvm_pagefree(pg);
	consistent(th.pm);
}

static void test_kernel_pmap_and_init(void **state)
{
	(void)state;
	assert_non_null(pmap_kernel());
	assert_ptr_equal(pmap_kernel(), kernel_pmap_ptr);
	assert_ptr_not_equal(pmap_kernel(), th.pm);
	pmap_init();
	assert_true(pmap_resident_count(pmap_kernel()) >= 0);
	assert_true(pmap_wired_count(pmap_kernel()) <= pmap_resident_count(pmap_kernel()));
	/* user addresses are not in the kernel pmap */
	th_map(UVA, VM_PROT_READ, 0);
	assert_false(pmap_extract(pmap_kernel(), UVA, NULL));
	assert_int_equal(pmap_check(pmap_kernel()), 0);
	consistent(th.pm);
}

/* pmap_update(), the page operations and a removal that frees page-table
 * pages, from a thread that is not a CPU, panic with the reason, in
 * release builds too (no bare SIGSEGV); the pages are mapped, so each
 * has work to do */
static struct vm_page *off_cpu_pg;

static void update_detached(void *arg)
{
	cpu_detach();
	switch ((int)(intptr_t)arg) {
	case 0: pmap_update(pmap_kernel()); break;
	case 1: pmap_page_protect(off_cpu_pg, VM_PROT_NONE); break;
	case 2: pmap_clear_modify(off_cpu_pg); break;
	default: pmap_remove(th.pm, UVA, UVA + PAGE_SIZE); break;
	}
}

static void test_update_off_cpu_panics(void **state)
{
	(void)state;
	off_cpu_pg = th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, 0);
	for (intptr_t k = 0; k < 4; k++)
		th_expect_panic(update_detached, (void *)k, "pmap operations must run on a CPU", "not attached");
}

static void test_virtual_space(void **state)
{
	(void)state;
	vaddr_t s = 0, e = 0;
	pmap_virtual_space(&s, &e);
	assert_true(s >= VM_MIN_KERNEL_ADDRESS);
	assert_true(s < e);
	assert_true(e <= VM_MAX_KERNEL_ADDRESS);
	assert_int_equal(s & PAGE_MASK, 0);
	/* pmap_growkernel() is provided: the end is the maximum kernel VA */
	assert_int_equal(e, VM_MAX_KERNEL_ADDRESS);
	/* the start is usable without growing */
	struct vm_page *pg = th_page();
	pmap_kenter_pa(s, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(pmap_kernel());
	store_ok(s, 42);
	assert_int_equal(pghost(pg)[0], 42);
	pmap_kremove(s, PAGE_SIZE);
	pmap_update(pmap_kernel());
	assert_int_equal(load_err(s), EFAULT);
	uvm_pagefree(pg);
	assert_int_equal(pmap_check(pmap_kernel()), 0);
	consistent(th.pm);
}

/* ---- pmap_enter ---- */

static void test_enter_maps_frame(void **state)
{
	(void)state;
	struct vm_page *a = th_page(), *b = th_page();
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(a), VM_PROT_READ | VM_PROT_WRITE, 0), 0);
	assert_int_equal(pmap_enter(th.pm, UVA + PAGE_SIZE, VM_PAGE_TO_PHYS(b), VM_PROT_READ | VM_PROT_WRITE, 0), 0);
	pmap_update(th.pm);
	/* host writes are seen through the MMU */
	pghost(a)[0] = 0x1111;
	pghost(a)[511] = 0x2222;
	pghost(b)[0] = 0x3333;
	assert_int_equal(load_ok(UVA), 0x1111);
	assert_int_equal(load_ok(UVA + PAGE_SIZE - 8), 0x2222);
	assert_int_equal(load_ok(UVA + PAGE_SIZE), 0x3333);
	/* MMU writes land in the frame */
	store_ok(UVA + 8, 0x5678);
	store_ok(UVA + PAGE_SIZE + 16, 0x9abc);
	assert_int_equal(pghost(a)[1], 0x5678);
	assert_int_equal(pghost(b)[2], 0x9abc);
	assert_int_equal(pghost(a)[2], 0);
	/* neighbours are not mapped */
	assert_int_equal(load_err(UVA - PAGE_SIZE), EFAULT);
	assert_int_equal(load_err(UVA + 2 * PAGE_SIZE), EFAULT);
	assert_int_equal(pmap_resident_count(th.pm), 2);
	assert_int_equal(pmap_wired_count(th.pm), 0);
	consistent(th.pm);
}

static void test_enter_protection(void **state)
{
	(void)state;
	const vaddr_t r = UVA, rx = UVA + PAGE_SIZE, rw = UVA + 2 * PAGE_SIZE, rwx = UVA + 3 * PAGE_SIZE;
	th_map(r, VM_PROT_READ, 0);
	th_map(rx, VM_PROT_READ | VM_PROT_EXECUTE, 0);
	th_map(rw, VM_PROT_READ | VM_PROT_WRITE, 0);
	th_map(rwx, VM_PROT_ALL, 0);

	load_ok(r);
	assert_int_equal(mmu_store(r, 1), EACCES);
	assert_int_equal(mmu_fetch(r), EACCES);

	load_ok(rx);
	assert_int_equal(mmu_fetch(rx), 0);
	assert_int_equal(mmu_store(rx, 1), EACCES);

	store_ok(rw, 1);
	assert_int_equal(load_ok(rw), 1);
	assert_int_equal(mmu_fetch(rw), EACCES);

	store_ok(rwx, 2);
	assert_int_equal(mmu_fetch(rwx), 0);
	assert_int_equal(load_ok(rwx), 2);

	/* a cached read translation does not let a write through */
	load_ok(r);
	assert_int_equal(mmu_store(r, 3), EACCES);
	assert_int_equal(load_ok(r), 0);
	consistent(th.pm);
}

static void test_enter_statistics_wired(void **state)
{
	(void)state;
	assert_int_equal(pmap_resident_count(th.pm), 0);
	assert_int_equal(pmap_wired_count(th.pm), 0);
	th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, 0);
	th_map(UVA + PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE, PMAP_WIRED);
	th_map(UVA2, VM_PROT_READ, PMAP_WIRED | VM_PROT_READ);
	assert_int_equal(pmap_resident_count(th.pm), 3);
	assert_int_equal(pmap_wired_count(th.pm), 2);
	/* wired mappings work like any other */
	store_ok(UVA + PAGE_SIZE, 5);
	assert_int_equal(load_ok(UVA + PAGE_SIZE), 5);
	consistent(th.pm);
	/* removing a wired mapping drops both counts */
	pmap_remove(th.pm, UVA + PAGE_SIZE, UVA + 2 * PAGE_SIZE);
	pmap_update(th.pm);
	assert_int_equal(pmap_resident_count(th.pm), 2);
	assert_int_equal(pmap_wired_count(th.pm), 1);
	consistent(th.pm);
}

/* A mapping exists: pmap_enter with another frame replaces it. */
static void test_enter_replaces_frame(void **state)
{
	(void)state;
	struct vm_page *a = th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, PMAP_WIRED);
	struct vm_page *b = th_page();
	pghost(b)[0] = 222;
	store_ok(UVA, 111); /* the TLB caches a's translation */
	assert_int_equal(load_ok(UVA), 111);
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(b), VM_PROT_READ | VM_PROT_WRITE, PMAP_WIRED), 0);
	pmap_update(th.pm);
	assert_int_equal(load_ok(UVA), 222);
	store_ok(UVA + 8, 333);
	assert_int_equal(pghost(b)[1], 333);
	assert_int_equal(pghost(a)[0], 111);
	assert_int_equal(pghost(a)[1], 0);
	paddr_t pa;
	assert_true(pmap_extract(th.pm, UVA, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(b));
	assert_int_equal(pmap_resident_count(th.pm), 1);
	assert_int_equal(pmap_wired_count(th.pm), 1);
	/* the old page lost its mapping but kept its modified attribute */
	assert_null(a->mdpage.mp_pvlist);
	assert_true(pmap_is_modified(a));
	pmap_page_protect(a, VM_PROT_NONE); /* no mapping of a: b's survives */
	assert_int_equal(load_ok(UVA), 222);
	consistent(th.pm);
	uvm_pagefree(a);
	consistent(th.pm);
}

static void test_enter_changes_protection(void **state)
{
	(void)state;
	struct vm_page *pg = th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, 0);
	store_ok(UVA, 7); /* writable translation cached */
	/* downgrade */
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(pg), VM_PROT_READ, 0), 0);
	pmap_update(th.pm);
	assert_int_equal(mmu_store(UVA, 8), EACCES);
	assert_int_equal(load_ok(UVA), 7);
	assert_int_equal(pmap_resident_count(th.pm), 1);
	consistent(th.pm);
	/* upgrade */
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(pg), VM_PROT_ALL, 0), 0);
	pmap_update(th.pm);
	store_ok(UVA, 9);
	assert_int_equal(mmu_fetch(UVA), 0);
	assert_int_equal(pghost(pg)[0], 9);
	/* drop execute only */
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, 0), 0);
	pmap_update(th.pm);
	assert_int_equal(mmu_fetch(UVA), EACCES);
	store_ok(UVA, 10);
	assert_int_equal(pmap_resident_count(th.pm), 1);
	assert_int_equal(pmap_wired_count(th.pm), 0);
	consistent(th.pm);
}

static void test_enter_changes_wiring(void **state)
{
	(void)state;
	struct vm_page *pg = th_map(UVA, VM_PROT_READ, 0);
	pghost(pg)[0] = 77;
	assert_int_equal(pmap_wired_count(th.pm), 0);
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(pg), VM_PROT_READ, PMAP_WIRED), 0);
	pmap_update(th.pm);
	assert_int_equal(pmap_wired_count(th.pm), 1);
	assert_int_equal(pmap_resident_count(th.pm), 1);
	/* entering it wired again does not count it twice */
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(pg), VM_PROT_READ, PMAP_WIRED), 0);
	pmap_update(th.pm);
	assert_int_equal(pmap_wired_count(th.pm), 1);
	consistent(th.pm);
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(pg), VM_PROT_READ, 0), 0);
	pmap_update(th.pm);
	assert_int_equal(pmap_wired_count(th.pm), 0);
	assert_int_equal(pmap_resident_count(th.pm), 1);
	assert_int_equal(load_ok(UVA), 77);
	consistent(th.pm);
}

/* The access type in flags seeds the page's referenced/modified attributes. */
static void test_enter_seeds_refmod(void **state)
{
	(void)state;
	struct vm_page *w = th_page(), *r = th_page(), *n = th_page();
	const vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(w), rw, VM_PROT_WRITE), 0);
	assert_int_equal(pmap_enter(th.pm, UVA + PAGE_SIZE, VM_PAGE_TO_PHYS(r), rw, VM_PROT_READ), 0);
	assert_int_equal(pmap_enter(th.pm, UVA + 2 * PAGE_SIZE, VM_PAGE_TO_PHYS(n), rw, 0), 0);
	/* right after pmap_enter, before any access */
	assert_true(pmap_is_modified(w));
	assert_true(pmap_is_referenced(w));
	assert_false(pmap_is_modified(r));
	assert_true(pmap_is_referenced(r));
	assert_false(pmap_is_modified(n));
	assert_false(pmap_is_referenced(n));
	pmap_update(th.pm);
	consistent(th.pm);
}

/* Software mod/ref: a wired mapping entered with an access type must not fault to emulate mod/ref. */
static void test_enter_wired_seeded_no_refmod_fault(void **state)
{
	(void)state;
	struct vm_page *pg = th_page();
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE,
	                     PMAP_WIRED | VM_PROT_READ | VM_PROT_WRITE), 0);
	pmap_update(th.pm);
	uint64_t f0 = th_counter("mmu.refmod_faults");
	store_ok(UVA, 1);
	assert_int_equal(load_ok(UVA), 1);
	assert_int_equal(th_counter("mmu.refmod_faults"), f0);
	assert_true(pmap_is_modified(pg));
	consistent(th.pm);
}

static void test_enter_cache_modes(void **state)
{
	(void)state;
	struct vm_page *pg = th_page();
	const vm_prot_t rw = VM_PROT_READ | VM_PROT_WRITE;
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(pg), rw, PMAP_NOCACHE), 0);
	assert_int_equal(pmap_enter(th.pm, UVA + PAGE_SIZE, VM_PAGE_TO_PHYS(pg), rw, PMAP_WRITE_COMBINE), 0);
	pmap_update(th.pm);
	store_ok(UVA, 5);
	assert_int_equal(load_ok(UVA + PAGE_SIZE), 5);
	/* a new cache mode on the same frame keeps the mapping */
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(pg), rw, PMAP_WRITE_BACK), 0);
	pmap_update(th.pm);
	assert_int_equal(load_ok(UVA), 5);
	assert_int_equal(pmap_resident_count(th.pm), 2);
	consistent(th.pm);
}

/* Kernel pmap, managed mappings (pmap_enter(pmap_kernel(), ...)). */
static void test_enter_kernel_managed(void **state)
{
	(void)state;
	vaddr_t kva = kva_start() + KMANAGED_A;
	struct vm_page *pg = th_page();
	long res0 = pmap_resident_count(pmap_kernel());
	assert_int_equal(pmap_enter(pmap_kernel(), kva, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, 0), 0);
	pmap_update(pmap_kernel());
	assert_int_equal(pmap_resident_count(pmap_kernel()), res0 + 1);
	store_ok(kva, 31);
	assert_int_equal(pghost(pg)[0], 31);
	assert_true(pmap_is_modified(pg));
	/* managed: pmap_page_protect reaches it */
	pmap_page_protect(pg, VM_PROT_READ);
	assert_int_equal(mmu_store(kva, 32), EACCES);
	assert_int_equal(load_ok(kva), 31);
	/* still reachable after leaving the user context */
	lwp_switch(NULL);
	assert_int_equal(load_ok(kva), 31);
	lwp_switch(th.l);
	pmap_remove(pmap_kernel(), kva, kva + PAGE_SIZE);
	pmap_update(pmap_kernel());
	assert_int_equal(load_err(kva), EFAULT);
	assert_int_equal(pmap_resident_count(pmap_kernel()), res0);
	assert_int_equal(pmap_check(pmap_kernel()), 0);
	assert_null(pg->mdpage.mp_pvlist);
	uvm_pagefree(pg);
	consistent(th.pm);
}

/*
 * PMAP_CANFAIL: with physical memory exhausted, pmap_enter at an address
 * that needs new page-table pages returns ENOMEM, and leaves the pmap as it
 * was (no mapping, no half-built tables, no frames consumed).
 */
static void test_enter_canfail_enomem(void **state)
{
	(void)state;
	enum { MAXP = 512 };
	static struct vm_page *held[MAXP];
	unsigned n = 0;
	struct vm_page *pg;
	while (n < MAXP && (pg = uvm_pagealloc(NULL, 0, NULL, UVM_PGA_USERESERVE)) != NULL)
		held[n++] = pg;
	assert_true(n > 1 && n < MAXP);
	assert_int_equal(uvm_free_pages(), 0);
	const vaddr_t va1 = (vaddr_t)1 << 39; /* L4 slot 1: needs L3, L2 and L1 tables */
	const vaddr_t va2 = (vaddr_t)2 << 39; /* L4 slot 2 */
	const paddr_t pa = VM_PAGE_TO_PHYS(held[0]);
	uint64_t enomem0 = th_counter("pmap.enter_enomem");

	/* nothing free at all */
	assert_int_equal(pmap_enter(th.pm, va1, pa, VM_PROT_READ, PMAP_CANFAIL), ENOMEM);
	assert_int_equal(pmap_resident_count(th.pm), 0);
	assert_false(pmap_extract(th.pm, va1, NULL));
	int bad_empty = pmap_check(th.pm);
	assert_int_equal(th_counter("pmap.enter_enomem"), enomem0 + 1);

	/* one frame free: enough for one of the three tables needed */
	uvm_pagefree(held[--n]);
	assert_int_equal(uvm_free_pages(), 1);
	int e = pmap_enter(th.pm, va2, pa, VM_PROT_READ, PMAP_CANFAIL);
	uint64_t free_after = uvm_free_pages();
	int bad_partial = pmap_check(th.pm);
	long res_partial = pmap_resident_count(th.pm);

	/* repair before asserting (a half-built table would make pmap_destroy panic
	 * in the teardown): with memory back, the same addresses can be mapped */
	while (n > 1)
		uvm_pagefree(held[--n]);
	assert_int_equal(pmap_enter(th.pm, va1, pa, VM_PROT_READ, PMAP_CANFAIL), 0);
	assert_int_equal(pmap_enter(th.pm, va2, pa, VM_PROT_READ, PMAP_CANFAIL), 0);
	pmap_update(th.pm);
	assert_int_equal(pmap_resident_count(th.pm), 2);
	assert_true(pmap_extract(th.pm, va2, NULL));
	pmap_remove(th.pm, va1, va1 + PAGE_SIZE);
	pmap_remove(th.pm, va2, va2 + PAGE_SIZE);
	pmap_update(th.pm);
	int bad_repaired = pmap_check(th.pm);
	assert_null(held[0]->mdpage.mp_pvlist);
	uvm_pagefree(held[0]);

	assert_int_equal(bad_empty, 0);
	assert_int_equal(e, ENOMEM);
	assert_int_equal(res_partial, 0);
	assert_int_equal(bad_repaired, 0);
	/* the failed call consumed no frame and left no empty table linked */
	assert_int_equal(free_after, 1);
	assert_int_equal(bad_partial, 0);
	consistent(th.pm);
}

/* ---- pmap_remove / pmap_remove_all ---- */

static void test_remove(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		th_map(UVA + ptoa(i), VM_PROT_READ | VM_PROT_WRITE, i == 1 ? PMAP_WIRED : 0);
		store_ok(UVA + ptoa(i), (uint64_t)i + 1);
	}
	assert_int_equal(pmap_resident_count(th.pm), 3);
	assert_int_equal(pmap_wired_count(th.pm), 1);
	pmap_remove(th.pm, UVA + PAGE_SIZE, UVA + 2 * PAGE_SIZE);
	pmap_update(th.pm);
	assert_int_equal(load_err(UVA + PAGE_SIZE), EFAULT);
	assert_int_equal(mmu_store(UVA + PAGE_SIZE, 9), EFAULT);
	assert_false(pmap_extract(th.pm, UVA + PAGE_SIZE, NULL));
	assert_int_equal(load_ok(UVA), 1);
	assert_int_equal(load_ok(UVA + 2 * PAGE_SIZE), 3);
	assert_int_equal(pmap_resident_count(th.pm), 2);
	assert_int_equal(pmap_wired_count(th.pm), 0);
	consistent(th.pm);
	/* removing an unmapped range changes nothing */
	pmap_remove(th.pm, UVA + PAGE_SIZE, UVA + 2 * PAGE_SIZE);
	pmap_remove(th.pm, UVA2, UVA2 + 64 * PAGE_SIZE);
	pmap_update(th.pm);
	assert_int_equal(pmap_resident_count(th.pm), 2);
	consistent(th.pm);
}

/* A range over several 2 MiB page tables, an L2 boundary, and holes. */
static void test_remove_range_spanning_tables(void **state)
{
	(void)state;
	const vaddr_t base = 0x40000000 - 2 * L1SPAN; /* the range crosses the 1 GiB (L2) boundary */
	const vaddr_t inside[] = {
		base, base + PAGE_SIZE, base + 7 * PAGE_SIZE,       /* table 0 */
		base + L1SPAN - PAGE_SIZE,                          /* its last slot */
		base + L1SPAN + 3 * PAGE_SIZE,                      /* table 1 */
		                                                    /* table 2 = the 1 GiB boundary: hole */
		base + 3 * L1SPAN,                                  /* table 3, first slot */
		base + 5 * L1SPAN + 100 * PAGE_SIZE,                /* table 5 (4 is a hole) */
	};
	const size_t nin = sizeof(inside) / sizeof(inside[0]);
	const vaddr_t end = base + 5 * L1SPAN + 101 * PAGE_SIZE;
	const vaddr_t outside[] = {base - PAGE_SIZE, end, base + 5 * L1SPAN + 200 * PAGE_SIZE};
	uint64_t ptp0 = pmap_ptp_pages();
	for (size_t i = 0; i < nin; i++)
		th_map(inside[i], VM_PROT_READ | VM_PROT_WRITE, i == 0 ? PMAP_WIRED : 0);
	for (size_t i = 0; i < 3; i++)
		th_map(outside[i], VM_PROT_READ | VM_PROT_WRITE, 0);
	for (size_t i = 0; i < nin; i++)
		store_ok(inside[i], i + 100);
	for (size_t i = 0; i < 3; i++)
		store_ok(outside[i], i + 200);
	assert_int_equal(pmap_resident_count(th.pm), (long)nin + 3);
	uint64_t ptp_mapped = pmap_ptp_pages();
	assert_true(ptp_mapped > ptp0);
	consistent(th.pm);

	pmap_remove(th.pm, base, end);
	pmap_update(th.pm);
	for (size_t i = 0; i < nin; i++) {
		if (load_err(inside[i]) != EFAULT)
			fail_msg("%#lx still mapped after pmap_remove", (unsigned long)inside[i]);
		assert_false(pmap_extract(th.pm, inside[i], NULL));
	}
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(load_ok(outside[i]), i + 200);
	assert_int_equal(pmap_resident_count(th.pm), 3);
	assert_int_equal(pmap_wired_count(th.pm), 0);
	consistent(th.pm);
	/* the tables that emptied are given back (after a grace period) */
	wait_ptp_pages(ptp_mapped - 1);
	/* and the range can be mapped again */
	th_map(inside[3], VM_PROT_READ, 0);
	assert_int_equal(load_ok(inside[3]), 0);
	consistent(th.pm);
}

/* More pages than the shootdown packet holds: a whole flush, still correct. */
static void test_remove_many_pages(void **state)
{
	(void)state;
	enum { N = 40 };
	for (int i = 0; i < N; i++) {
		th_map(UVA + ptoa(i), VM_PROT_READ | VM_PROT_WRITE, 0);
		store_ok(UVA + ptoa(i), (uint64_t)i);
	}
	th_map(UVA + ptoa(N), VM_PROT_READ, 0);
	load_ok(UVA + ptoa(N));
	pmap_remove(th.pm, UVA, UVA + ptoa(N));
	assert_int_equal(tlb_check(), 0); /* stale entries are covered by the pending request */
	pmap_update(th.pm);
	for (int i = 0; i < N; i++)
		assert_int_equal(load_err(UVA + ptoa(i)), EFAULT);
	load_ok(UVA + ptoa(N));
	assert_int_equal(pmap_resident_count(th.pm), 1);
	consistent(th.pm);
}

static void test_remove_all(void **state)
{
	(void)state;
	const vaddr_t vas[] = {UVA, UVA + PAGE_SIZE, UVA2, (vaddr_t)3 << 39, VM_MAXUSER_ADDRESS - PAGE_SIZE};
	const size_t nva = sizeof(vas) / sizeof(vas[0]);
	struct vm_page *pgs[sizeof(vas) / sizeof(vas[0])];
	for (size_t i = 0; i < nva; i++) {
		pgs[i] = th_map(vas[i], VM_PROT_READ | VM_PROT_WRITE, (i & 1) ? PMAP_WIRED : 0);
		store_ok(vas[i], i + 1);
	}
	assert_int_equal(pmap_resident_count(th.pm), (long)nva);
	pmap_remove_all(th.pm);
	pmap_remove(th.pm, UVA, UVA2 + PAGE_SIZE); /* the removals that follow the hint */
	pmap_update(th.pm);
	for (size_t i = 0; i < nva; i++) {
		assert_int_equal(load_err(vas[i]), EFAULT);
		assert_false(pmap_extract(th.pm, vas[i], NULL));
		assert_null(pgs[i]->mdpage.mp_pvlist);
		assert_true(pmap_is_modified(pgs[i]));
	}
	assert_int_equal(pmap_resident_count(th.pm), 0);
	assert_int_equal(pmap_wired_count(th.pm), 0);
	consistent(th.pm);
	/* the pmap is usable again after the update */
	th_map(UVA, VM_PROT_READ, 0);
	assert_int_equal(load_ok(UVA), 0);
	assert_int_equal(pmap_resident_count(th.pm), 1);
	for (size_t i = 0; i < nva; i++)
		uvm_pagefree(pgs[i]);
	consistent(th.pm);
}

/* ---- pmap_protect ---- */

static void test_protect_read_only(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		th_map(UVA + ptoa(i), VM_PROT_READ | VM_PROT_WRITE, 0);
		store_ok(UVA + ptoa(i), (uint64_t)i + 10); /* writable translations cached */
	}
	pmap_protect(th.pm, UVA, UVA + 2 * PAGE_SIZE, VM_PROT_READ);
	assert_int_equal(tlb_check(), 0);
	pmap_update(th.pm);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(mmu_store(UVA + ptoa(i), 1), EACCES);
		assert_int_equal(load_ok(UVA + ptoa(i)), (uint64_t)i + 10);
	}
	store_ok(UVA + 2 * PAGE_SIZE, 99); /* outside the range */
	assert_int_equal(pmap_resident_count(th.pm), 3);
	consistent(th.pm);
}

static void test_protect_none_removes(void **state)
{
	(void)state;
	th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, 0);
	th_map(UVA + PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE, 0);
	load_ok(UVA);
	load_ok(UVA + PAGE_SIZE);
	pmap_protect(th.pm, UVA, UVA + PAGE_SIZE, VM_PROT_NONE);
	pmap_update(th.pm);
	assert_int_equal(load_err(UVA), EFAULT);
	assert_false(pmap_extract(th.pm, UVA, NULL));
	load_ok(UVA + PAGE_SIZE);
	assert_int_equal(pmap_resident_count(th.pm), 1);
	consistent(th.pm);
}

static void test_protect_never_adds(void **state)
{
	(void)state;
	th_map(UVA, VM_PROT_READ, 0);
	th_map(UVA + PAGE_SIZE, VM_PROT_READ | VM_PROT_EXECUTE, 0);
	th_map(UVA + 2 * PAGE_SIZE, VM_PROT_ALL, 0);
	assert_int_equal(mmu_fetch(UVA + PAGE_SIZE), 0);
	assert_int_equal(mmu_fetch(UVA + 2 * PAGE_SIZE), 0);
	pmap_protect(th.pm, UVA, UVA + 3 * PAGE_SIZE, VM_PROT_ALL);
	pmap_update(th.pm);
	assert_int_equal(mmu_store(UVA, 1), EACCES);
	assert_int_equal(mmu_fetch(UVA), EACCES);
	assert_int_equal(mmu_store(UVA + PAGE_SIZE, 1), EACCES);
	store_ok(UVA + 2 * PAGE_SIZE, 1);
	/* read+execute: drops write only */
	pmap_protect(th.pm, UVA, UVA + 3 * PAGE_SIZE, VM_PROT_READ | VM_PROT_EXECUTE);
	pmap_update(th.pm);
	assert_int_equal(mmu_store(UVA + 2 * PAGE_SIZE, 2), EACCES);
	assert_int_equal(mmu_fetch(UVA + 2 * PAGE_SIZE), 0);
	assert_int_equal(mmu_fetch(UVA), EACCES);
	/* read only: drops execute too */
	pmap_protect(th.pm, UVA, UVA + 3 * PAGE_SIZE, VM_PROT_READ);
	pmap_update(th.pm);
	assert_int_equal(mmu_fetch(UVA + PAGE_SIZE), EACCES);
	assert_int_equal(mmu_fetch(UVA + 2 * PAGE_SIZE), EACCES);
	assert_int_equal(load_ok(UVA + 2 * PAGE_SIZE), 1);
	/* and read+write afterwards gives nothing back */
	pmap_protect(th.pm, UVA, UVA + 3 * PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE);
	pmap_update(th.pm);
	assert_int_equal(mmu_store(UVA + 2 * PAGE_SIZE, 3), EACCES);
	assert_int_equal(pmap_resident_count(th.pm), 3);
	consistent(th.pm);
}

/* ---- pmap_unwire ---- */

static void test_unwire(void **state)
{
	(void)state;
	struct vm_page *pg = th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, PMAP_WIRED);
	th_map(UVA + PAGE_SIZE, VM_PROT_READ, PMAP_WIRED);
	store_ok(UVA, 5);
	assert_int_equal(pmap_wired_count(th.pm), 2);
	pmap_unwire(th.pm, UVA);
	assert_int_equal(pmap_wired_count(th.pm), 1);
	assert_int_equal(pmap_resident_count(th.pm), 2);
	paddr_t pa;
	assert_true(pmap_extract(th.pm, UVA, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(pg));
	assert_int_equal(load_ok(UVA), 5);
	store_ok(UVA, 6);
	/* unwiring an unwired mapping changes nothing */
	pmap_unwire(th.pm, UVA);
	assert_int_equal(pmap_wired_count(th.pm), 1);
	pmap_unwire(th.pm, UVA + PAGE_SIZE + 8);
	assert_int_equal(pmap_wired_count(th.pm), 0);
	consistent(th.pm);
}

/* ---- pmap_extract ---- */

static void test_extract(void **state)
{
	(void)state;
	struct vm_page *pg = th_map(UVA, VM_PROT_READ, 0);
	paddr_t pa = 0;
	assert_true(pmap_extract(th.pm, UVA, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(pg));
	assert_true(pmap_extract(th.pm, UVA + 0x123, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(pg) + 0x123);
	assert_true(pmap_extract(th.pm, UVA + PAGE_SIZE - 1, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(pg) + PAGE_SIZE - 1);
	assert_true(pmap_extract(th.pm, UVA, NULL));
	/* unmapped: in the same table, in a missing table, beyond user space */
	pa = 0xdead;
	assert_false(pmap_extract(th.pm, UVA + PAGE_SIZE, &pa));
	assert_int_equal(pa, 0xdead);
	assert_false(pmap_extract(th.pm, UVA2, &pa));
	assert_false(pmap_extract(th.pm, (vaddr_t)5 << 39, &pa));
	assert_false(pmap_extract(th.pm, VM_MAXUSER_ADDRESS, &pa));
	/* kernel pmap: direct-map addresses */
	vaddr_t dva = PMAP_MAP_POOLPAGE(VM_PAGE_TO_PHYS(pg));
	assert_true(pmap_extract(pmap_kernel(), dva + 0x48, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(pg) + 0x48);
	assert_true(pmap_extract(pmap_kernel(), PMAP_DIRECT_BASE, &pa));
	assert_int_equal(pa, 0);
	assert_false(pmap_extract(pmap_kernel(), PMAP_DIRECT_BASE + ptoa(machine_phys_pages(th.m)), &pa));
	/* a user pmap translates kernel addresses too, direct-mapped ones
	 * included (pmap(9): "any kernel-accessible address") */
	pa = 0;
	assert_true(pmap_extract(th.pm, dva + 0x48, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(pg) + 0x48);
	struct vm_page *kpg = th_page();
	pmap_kenter_pa(kva_start() + 0x6000, VM_PAGE_TO_PHYS(kpg), VM_PROT_READ, 0);
	pmap_update(pmap_kernel());
	assert_true(pmap_extract(th.pm, kva_start() + 0x6010, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(kpg) + 0x10);
	pmap_kremove(kva_start() + 0x6000, PAGE_SIZE);
	pmap_update(pmap_kernel());
	assert_false(pmap_extract(th.pm, kva_start() + 0x6000, &pa));
	assert_false(pmap_extract(th.pm, PMAP_DIRECT_BASE + ptoa(machine_phys_pages(th.m)), &pa));
	/* kernel pmap: unmapped kernel address, user address */
	assert_false(pmap_extract(pmap_kernel(), kva_start() + 0x5000, &pa));
	assert_false(pmap_extract(pmap_kernel(), UVA, &pa));
	/* after removal */
	pmap_remove(th.pm, UVA, UVA + PAGE_SIZE);
	pmap_update(th.pm);
	assert_false(pmap_extract(th.pm, UVA, &pa));
	consistent(th.pm);
}

/* ---- pmap_kenter_pa / pmap_kremove ---- */

static void test_kenter_kremove(void **state)
{
	(void)state;
	const vaddr_t kva = kva_start() + 4 * PAGE_SIZE;
	struct vm_page *a = th_page(), *b = th_page();
	pmap_t k = pmap_kernel();
	long res0 = pmap_resident_count(k), wired0 = pmap_wired_count(k);
	pghost(a)[0] = 7;
	pmap_kenter_pa(kva, VM_PAGE_TO_PHYS(a), VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_kenter_pa(kva + PAGE_SIZE, VM_PAGE_TO_PHYS(b), VM_PROT_READ, 0);
	pmap_update(k);
	assert_int_equal(pmap_resident_count(k), res0 + 2);
	assert_int_equal(pmap_wired_count(k), wired0 + 2);
	assert_int_equal(load_ok(kva), 7);
	store_ok(kva + 8, 9);
	assert_int_equal(pghost(a)[1], 9);
	load_ok(kva + PAGE_SIZE);
	assert_int_equal(mmu_store(kva + PAGE_SIZE, 1), EACCES);
	assert_int_equal(mmu_fetch(kva), EACCES); /* never executable */
	paddr_t pa;
	assert_true(pmap_extract(k, kva + 16, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(a) + 16);
	/* kernel mappings are there in every context */
	lwp_switch(NULL);
	assert_int_equal(load_ok(kva + 8), 9);
	lwp_switch(th.l);
	assert_int_equal(pmap_check(k), 0);
	consistent(th.pm);

	pmap_kremove(kva, 2 * PAGE_SIZE);
	pmap_update(k);
	assert_int_equal(load_err(kva), EFAULT);
	assert_int_equal(load_err(kva + PAGE_SIZE), EFAULT);
	assert_false(pmap_extract(k, kva, NULL));
	assert_int_equal(pmap_resident_count(k), res0);
	assert_int_equal(pmap_wired_count(k), wired0);
	assert_int_equal(pmap_check(k), 0);
	consistent(th.pm);
	/* the address can be entered again */
	pmap_kenter_pa(kva, VM_PAGE_TO_PHYS(b), VM_PROT_READ, 0);
	pmap_update(k);
	assert_int_equal(load_ok(kva), 0);
	pmap_kremove(kva, PAGE_SIZE);
	pmap_update(k);
	uvm_pagefree(a);
	uvm_pagefree(b);
	assert_int_equal(pmap_check(k), 0);
	consistent(th.pm);
}

/* More kernel pages than the shootdown packet holds: global entries must go too. */
static void test_kremove_many_pages(void **state)
{
	(void)state;
	enum { N = 24 };
	const vaddr_t kva = kva_start() + 64 * PAGE_SIZE;
	struct vm_page *pg = th_page();
	long res0 = pmap_resident_count(pmap_kernel());
	for (int i = 0; i < N; i++)
		pmap_kenter_pa(kva + ptoa(i), VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(pmap_kernel());
	for (int i = 0; i < N; i++)
		store_ok(kva + ptoa(i) + 8 * (unsigned)i, (uint64_t)i); /* every translation cached */
	pmap_kremove(kva, ptoa(N));
	assert_int_equal(tlb_check(), 0);
	pmap_update(pmap_kernel());
	for (int i = 0; i < N; i++)
		if (load_err(kva + ptoa(i)) != EFAULT)
			fail_msg("kernel va %#lx still mapped after pmap_kremove", (unsigned long)(kva + ptoa(i)));
	assert_int_equal(pmap_resident_count(pmap_kernel()), res0);
	assert_int_equal(pmap_check(pmap_kernel()), 0);
	uvm_pagefree(pg);
	consistent(th.pm);
}

/* Unmanaged: untouched by pmap_page_protect, not in the page's mod/ref. */
static void test_kenter_unmanaged(void **state)
{
	(void)state;
	const vaddr_t kva = kva_start() + 8 * PAGE_SIZE;
	struct vm_page *pg = th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_kenter_pa(kva, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_update(pmap_kernel());
	store_ok(kva, 1);
	/* write-protect and then revoke every managed mapping */
	pmap_page_protect(pg, VM_PROT_READ);
	assert_int_equal(mmu_store(UVA, 2), EACCES);
	store_ok(kva, 3);
	pmap_page_protect(pg, VM_PROT_NONE);
	assert_int_equal(load_err(UVA), EFAULT);
	assert_int_equal(pmap_resident_count(th.pm), 0);
	assert_int_equal(load_ok(kva), 3);
	store_ok(kva, 4);
	assert_int_equal(pghost(pg)[0], 4);
	/* accesses through it leave the page's attributes alone */
	pmap_clear_modify(pg);
	pmap_clear_reference(pg);
	assert_false(pmap_is_modified(pg));
	assert_false(pmap_is_referenced(pg));
	store_ok(kva, 5);
	assert_int_equal(load_ok(kva), 5);
	assert_false(pmap_is_modified(pg));
	assert_false(pmap_is_referenced(pg));
	assert_false(pmap_clear_modify(pg));
	/* nor does removing it */
	pmap_kremove(kva, PAGE_SIZE);
	pmap_update(pmap_kernel());
	assert_int_equal(load_err(kva), EFAULT);
	assert_false(pmap_is_modified(pg));
	assert_false(pmap_is_referenced(pg));
	assert_int_equal(pmap_check(pmap_kernel()), 0);
	uvm_pagefree(pg);
	consistent(th.pm);
}

/* ---- pmap_copy / pmap_update ---- */

static void test_copy_advisory(void **state)
{
	(void)state;
	struct other o = other_create();
	struct vm_page *pg = th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, 0);
	store_ok(UVA, 12);
	pmap_copy(o.pm, th.pm, UVA, 4 * PAGE_SIZE, UVA);
	pmap_update(o.pm);
	assert_int_equal(pmap_resident_count(o.pm), 0);
	assert_false(pmap_extract(o.pm, UVA, NULL));
	assert_int_equal(pmap_check(o.pm), 0);
	/* the source is unaffected */
	paddr_t pa;
	assert_true(pmap_extract(th.pm, UVA, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(pg));
	store_ok(UVA, 13);
	assert_int_equal(pmap_resident_count(th.pm), 1);
	other_destroy(&o);
	consistent(th.pm);
}

static void test_update(void **state)
{
	(void)state;
	uint64_t u0 = th_counter("pmap.update");
	pmap_update(th.pm); /* nothing pending: harmless */
	pmap_update(pmap_kernel());
	assert_int_equal(th_counter("pmap.update"), u0 + 2);
	th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, 0);
	store_ok(UVA, 1);
	pmap_protect(th.pm, UVA, UVA + PAGE_SIZE, VM_PROT_READ);
	/* before the update a stale entry may remain, but only as a pending invalidation */
	assert_int_equal(tlb_check(), 0);
	pmap_update(th.pm);
	assert_int_equal(mmu_store(UVA, 2), EACCES);
	pmap_remove(th.pm, UVA, UVA + PAGE_SIZE);
	assert_int_equal(tlb_check(), 0);
	pmap_update(th.pm);
	assert_int_equal(load_err(UVA), EFAULT);
	consistent(th.pm);
}

/* ---- which completions update_cost times (stats.update_sample) ---- */

/* n user completions (a pmap_update() with nothing to send is one too)
 * taken in turn with n kernel ones (kenter, kremove, update): how many
 * completions were counted, how many timed, how many kernel ones timed */
static void completions_run(unsigned n, uint64_t *done, uint64_t *timed, uint64_t *ktimed)
{
	const vaddr_t kva = kva_start() + 4 * PAGE_SIZE;
	struct vm_page *pg = th_page();
	assert_non_null(pg);
	uint64_t c0 = th_counter("pmap.completions"), t0 = th_hist_count("pmap.update_cost");
	uint64_t k0 = th_hist_count("pmap.kernel_update_cost");
	for (unsigned i = 0; i < n; i++) {
		pmap_update(th.pm);
		pmap_kenter_pa(kva, VM_PAGE_TO_PHYS(pg), VM_PROT_READ, 0);
		pmap_kremove(kva, PAGE_SIZE);
		pmap_update(pmap_kernel());
	}
	*done = th_counter("pmap.completions") - c0;
	*timed = th_hist_count("pmap.update_cost") - t0;
	*ktimed = th_hist_count("pmap.kernel_update_cost") - k0;
	uvm_pagefree(pg);
}

/* Under threads (the default, 0) one completion in 8 is timed, drawn at
 * random: of 4 000 about 500 (seeded, so the same every run; the bounds
 * are 7 standard deviations), and the kernel ones, every other completion,
 * get their share — a fixed period of 8 would have timed all of them or
 * none.  Every completion is counted. */
static void test_update_cost_sampled(void **state)
{
	(void)state;
	uint64_t done, timed, ktimed;
	completions_run(2000, &done, &timed, &ktimed);
	assert_int_equal(done, 4000);
	assert_in_range(timed, 350, 650);
	assert_in_range(ktimed, 150, 350);
}

static const char *const sets_every[] = {"stats.update_sample=1", NULL};
static int setup_every(void **state)
{
	th.sets = sets_every;
	return th_setup_cpu0(state);
}

/* stats.update_sample = 1: every completion is timed */
static void test_update_cost_every(void **state)
{
	(void)state;
	uint64_t done, timed, ktimed;
	completions_run(500, &done, &timed, &ktimed);
	assert_int_equal(done, 1000);
	assert_int_equal(timed, 1000);
	assert_int_equal(ktimed, 500);
}

/* ---- pmap_activate / pmap_deactivate (through lwp_switch) ---- */

static void test_activate_switch(void **state)
{
	(void)state;
	struct other o = other_create();
	struct vm_page *a = th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, 0);
	struct vm_page *b = th_page(), *c = th_page();
	pghost(a)[0] = 1;
	pghost(b)[0] = 2;
	pghost(c)[0] = 3;
	assert_int_equal(pmap_enter(o.pm, UVA, VM_PAGE_TO_PHYS(b), VM_PROT_READ | VM_PROT_WRITE, 0), 0);
	pmap_update(o.pm);
	assert_ptr_equal(curlwp(), th.l);
	assert_ptr_equal(lwp_pmap(th.l), th.pm);
	assert_int_equal(load_ok(UVA), 1);

	lwp_switch(o.l);
	assert_ptr_equal(curlwp(), o.l);
	assert_int_equal(load_ok(UVA), 2);
	store_ok(UVA + 8, 22);
	assert_int_equal(pghost(b)[1], 22);
	assert_int_equal(tlb_check(), 0);

	lwp_switch(th.l);
	assert_int_equal(load_ok(UVA), 1);
	assert_int_equal(load_ok(UVA + 8), 0);
	assert_int_equal(tlb_check(), 0);

	/* no lwp: user addresses fault, kernel ones do not */
	lwp_switch(NULL);
	assert_null(curlwp());
	assert_int_equal(load_err(UVA), EFAULT);
	assert_int_equal(mmu_store(UVA, 5), EFAULT);
	assert_int_equal(load_ok(PMAP_MAP_POOLPAGE(VM_PAGE_TO_PHYS(a))), 1);
	assert_int_equal(tlb_check(), 0);
	lwp_switch(th.l);
	assert_int_equal(load_ok(UVA), 1);

	/* pmap_activate/deactivate of an lwp that is not running: no effect */
	pmap_activate(o.l);
	assert_int_equal(load_ok(UVA), 1);
	pmap_deactivate(o.l);
	assert_int_equal(load_ok(UVA), 1);
	/* of the running one, deactivate then activate */
	pmap_deactivate(th.l);
	assert_int_equal(load_err(UVA), EFAULT);
	pmap_activate(th.l);
	assert_int_equal(load_ok(UVA), 1);

	/* changes to a pmap while it is not loaded are seen when it is again */
	lwp_switch(o.l);
	assert_int_equal(load_ok(UVA), 2); /* cached under its PCID */
	lwp_switch(th.l);
	assert_int_equal(pmap_enter(o.pm, UVA, VM_PAGE_TO_PHYS(c), VM_PROT_READ, 0), 0);
	pmap_update(o.pm);
	lwp_switch(o.l);
	assert_int_equal(load_ok(UVA), 3);
	assert_int_equal(mmu_store(UVA, 4), EACCES);
	lwp_switch(th.l);
	pmap_remove(o.pm, UVA, UVA + PAGE_SIZE);
	pmap_update(o.pm);
	lwp_switch(o.l);
	assert_int_equal(load_err(UVA), EFAULT);
	assert_int_equal(tlb_check(), 0);
	lwp_switch(th.l);
	assert_int_equal(load_ok(UVA), 1);
	assert_int_equal(pmap_check(o.pm), 0);
	other_destroy(&o);
	uvm_pagefree(b);
	uvm_pagefree(c);
	consistent(th.pm);
}

/* A destroyed pmap's address space does not leak into its successor (PCID reuse). */
static void test_activate_after_destroy(void **state)
{
	(void)state;
	struct vm_page *pg = th_page();
	pghost(pg)[0] = 55;
	for (int round = 0; round < 4; round++) {
		struct other o = other_create();
		lwp_switch(o.l);
		assert_int_equal(load_err(UVA2), EFAULT);
		if (round % 2 == 0) {
			assert_int_equal(pmap_enter(o.pm, UVA2, VM_PAGE_TO_PHYS(pg), VM_PROT_READ, 0), 0);
			pmap_update(o.pm);
			assert_int_equal(load_ok(UVA2), 55);
		}
		lwp_switch(th.l);
		other_destroy(&o);
	}
	assert_int_equal(load_err(UVA2), EFAULT);
	uvm_pagefree(pg);
	consistent(th.pm);
}

/* ---- pmap_zero_page / pmap_copy_page ---- */

static void test_zero_copy_page(void **state)
{
	(void)state;
	struct vm_page *src = th_page(), *dst = th_page();
	uint64_t *s = pghost(src), *d = pghost(dst);
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++) {
		s[i] = 0x0101010101010101ULL * (i & 0xff) + i;
		d[i] = ~0ULL;
	}
	pmap_copy_page(VM_PAGE_TO_PHYS(src), VM_PAGE_TO_PHYS(dst));
	assert_memory_equal(s, d, PAGE_SIZE);
	assert_int_equal(s[3], 0x0303030303030303ULL + 3); /* source unchanged */
	/* seen through a mapping too */
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(dst), VM_PROT_READ, 0), 0);
	pmap_update(th.pm);
	assert_int_equal(load_ok(UVA + 8 * 5), s[5]);
	pmap_zero_page(VM_PAGE_TO_PHYS(dst));
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		if (d[i] != 0)
			fail_msg("word %u not zeroed", i);
	assert_int_equal(load_ok(UVA + 8 * 5), 0);
	assert_int_equal(s[5], 0x0505050505050505ULL + 5);
	consistent(th.pm);
}

/* ---- pmap_page_protect ---- */

/* The page mapped writable in th.pm (UVA, UVA+PAGE_SIZE) and in o.pm (UVA2); all three written. */
static struct vm_page *map_shared(struct other *o)
{
	struct vm_page *pg = th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, 0);
	assert_int_equal(pmap_enter(th.pm, UVA + PAGE_SIZE, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, PMAP_WIRED),
	    0);
	assert_int_equal(pmap_enter(o->pm, UVA2, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, 0), 0);
	pmap_update(th.pm);
	pmap_update(o->pm);
	store_ok(UVA, 1);
	store_ok(UVA + PAGE_SIZE + 8, 2);
	lwp_switch(o->l);
	store_ok(UVA2 + 16, 3);
	lwp_switch(th.l);
	return pg;
}

static void test_page_protect_read(void **state)
{
	(void)state;
	struct other o = other_create();
	struct vm_page *pg = map_shared(&o);
	pmap_page_protect(pg, VM_PROT_READ);
	/* complete on return: no pmap_update */
	assert_int_equal(mmu_store(UVA, 9), EACCES);
	assert_int_equal(mmu_store(UVA + PAGE_SIZE, 9), EACCES);
	assert_int_equal(load_ok(UVA), 1);
	assert_int_equal(load_ok(UVA + PAGE_SIZE + 8), 2);
	assert_int_equal(tlb_check(), 0);
	lwp_switch(o.l);
	assert_int_equal(mmu_store(UVA2, 9), EACCES);
	assert_int_equal(load_ok(UVA2 + 16), 3);
	assert_int_equal(tlb_check(), 0);
	lwp_switch(th.l);
	assert_int_equal(pmap_resident_count(th.pm), 2);
	assert_int_equal(pmap_wired_count(th.pm), 1);
	assert_int_equal(pmap_resident_count(o.pm), 1);
	assert_true(pmap_is_modified(pg));
	assert_int_equal(pmap_check(o.pm), 0);
	consistent(th.pm);
	other_destroy(&o);
	consistent(th.pm);
}

static void test_page_protect_none(void **state)
{
	(void)state;
	struct other o = other_create();
	struct vm_page *pg = map_shared(&o);
	struct vm_page *keep = th_map(UVA2, VM_PROT_READ, 0); /* another page: stays */
	assert_int_equal(pmap_resident_count(th.pm), 3);
	pmap_page_protect(pg, VM_PROT_NONE);
	assert_int_equal(load_err(UVA), EFAULT);
	assert_int_equal(load_err(UVA + PAGE_SIZE), EFAULT);
	assert_false(pmap_extract(th.pm, UVA, NULL));
	paddr_t pa;
	assert_true(pmap_extract(th.pm, UVA2, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(keep));
	load_ok(UVA2);
	assert_int_equal(tlb_check(), 0);
	lwp_switch(o.l);
	assert_int_equal(load_err(UVA2), EFAULT);
	assert_int_equal(tlb_check(), 0);
	lwp_switch(th.l);
	assert_int_equal(pmap_resident_count(th.pm), 1);
	assert_int_equal(pmap_wired_count(th.pm), 0);
	assert_int_equal(pmap_resident_count(o.pm), 0);
	assert_null(pg->mdpage.mp_pvlist);
	/* the page remembers it was written */
	assert_true(pmap_is_modified(pg));
	assert_true(pmap_is_referenced(pg));
	assert_int_equal(pmap_check(o.pm), 0);
	consistent(th.pm);
	other_destroy(&o);
	uvm_pagefree(pg);
	consistent(th.pm);
}

static void test_page_protect_never_adds(void **state)
{
	(void)state;
	struct vm_page *pg = th_map(UVA, VM_PROT_READ, 0);
	struct vm_page *w = th_map(UVA + PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_page_protect(pg, VM_PROT_READ | VM_PROT_WRITE);
	pmap_page_protect(pg, VM_PROT_ALL);
	assert_int_equal(mmu_store(UVA, 1), EACCES);
	assert_int_equal(mmu_fetch(UVA), EACCES);
	pmap_page_protect(pg, VM_PROT_READ);
	assert_int_equal(mmu_store(UVA, 1), EACCES);
	load_ok(UVA);
	/* READ|WRITE on a writable mapping changes nothing */
	pmap_page_protect(w, VM_PROT_READ | VM_PROT_WRITE);
	store_ok(UVA + PAGE_SIZE, 1);
	/* after write-protecting, READ|WRITE does not give writing back */
	pmap_page_protect(w, VM_PROT_READ);
	pmap_page_protect(w, VM_PROT_READ | VM_PROT_WRITE);
	assert_int_equal(mmu_store(UVA + PAGE_SIZE, 2), EACCES);
	assert_int_equal(load_ok(UVA + PAGE_SIZE), 1);
	assert_int_equal(pmap_resident_count(th.pm), 2);
	consistent(th.pm);
}

/* ---- modified / referenced ---- */

static void test_modified(void **state)
{
	(void)state;
	struct vm_page *pg = th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, 0);
	assert_false(pmap_is_modified(pg));
	assert_false(pmap_clear_modify(pg)); /* nothing set */
	load_ok(UVA);
	assert_false(pmap_is_modified(pg)); /* a read does not modify */
	store_ok(UVA, 1);
	assert_true(pmap_is_modified(pg));
	assert_true(pmap_clear_modify(pg));
	assert_false(pmap_is_modified(pg));
	assert_false(pmap_clear_modify(pg));
	/* detected again after a clear, though the TLB held a writable entry */
	store_ok(UVA, 2);
	assert_true(pmap_is_modified(pg));
	assert_true(pmap_clear_modify(pg));
	load_ok(UVA);
	assert_false(pmap_is_modified(pg));
	store_ok(UVA + 8, 3);
	assert_true(pmap_is_modified(pg));
	/* several rounds */
	for (int i = 0; i < 5; i++) {
		assert_true(pmap_clear_modify(pg));
		assert_false(pmap_is_modified(pg));
		store_ok(UVA + 16, (uint64_t)i);
		assert_true(pmap_is_modified(pg));
	}
	consistent(th.pm);
	/* survives the removal of every mapping */
	pmap_remove(th.pm, UVA, UVA + PAGE_SIZE);
	pmap_update(th.pm);
	assert_true(pmap_is_modified(pg));
	assert_true(pmap_clear_modify(pg));
	assert_false(pmap_is_modified(pg));
	consistent(th.pm);
}

/* Modified via a second mapping, and after a clear through a wired and a kernel-pmap mapping. */
static void test_modified_two_mappings(void **state)
{
	(void)state;
	struct vm_page *pg = th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, PMAP_WIRED);
	const vaddr_t kva = kva_start() + KMANAGED_B;
	assert_int_equal(pmap_enter(pmap_kernel(), kva, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, 0), 0);
	pmap_update(pmap_kernel());
	store_ok(UVA, 1);
	store_ok(kva, 2);
	assert_true(pmap_clear_modify(pg));
	assert_false(pmap_is_modified(pg));
	store_ok(kva + 8, 3); /* through the kernel mapping only */
	assert_true(pmap_is_modified(pg));
	assert_true(pmap_clear_modify(pg));
	store_ok(UVA + 8, 4); /* through the user mapping only */
	assert_true(pmap_is_modified(pg));
	pmap_clear_modify(pg);
	/* page_protect(NONE) keeps what it harvests */
	store_ok(kva, 5);
	pmap_page_protect(pg, VM_PROT_NONE);
	assert_true(pmap_is_modified(pg));
	assert_int_equal(pmap_resident_count(th.pm), 0);
	assert_int_equal(pmap_check(pmap_kernel()), 0);
	consistent(th.pm);
}

static void test_referenced(void **state)
{
	(void)state;
	struct vm_page *pg = th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, 0);
	assert_false(pmap_is_referenced(pg));
	assert_false(pmap_clear_reference(pg));
	load_ok(UVA);
	assert_true(pmap_is_referenced(pg));
	assert_true(pmap_clear_reference(pg));
	assert_false(pmap_is_referenced(pg));
	assert_false(pmap_clear_reference(pg));
	/* detected again after a clear, though the TLB held the translation */
	load_ok(UVA);
	assert_true(pmap_is_referenced(pg));
	assert_true(pmap_clear_reference(pg));
	store_ok(UVA, 1); /* a write references too */
	assert_true(pmap_is_referenced(pg));
	for (int i = 0; i < 5; i++) {
		assert_true(pmap_clear_reference(pg));
		assert_false(pmap_is_referenced(pg));
		load_ok(UVA + 8);
		assert_true(pmap_is_referenced(pg));
	}
	/* clearing referenced leaves modified alone, and vice versa */
	assert_true(pmap_is_modified(pg));
	assert_true(pmap_clear_reference(pg));
	assert_true(pmap_is_modified(pg));
	load_ok(UVA);
	assert_true(pmap_clear_modify(pg));
	assert_true(pmap_is_referenced(pg));
	consistent(th.pm);
	/* survives removal */
	pmap_remove(th.pm, UVA, UVA + PAGE_SIZE);
	pmap_update(th.pm);
	assert_true(pmap_is_referenced(pg));
	assert_true(pmap_clear_reference(pg));
	assert_false(pmap_is_referenced(pg));
	consistent(th.pm);
}

/* Clearing modified must not lose write protection or data; write after clear on a page_protect'ed page faults. */
static void test_refmod_with_protection(void **state)
{
	(void)state;
	struct vm_page *pg = th_map(UVA, VM_PROT_READ | VM_PROT_WRITE, 0);
	store_ok(UVA, 1);
	pmap_page_protect(pg, VM_PROT_READ);
	assert_true(pmap_clear_modify(pg));
	assert_true(pmap_clear_reference(pg));
	assert_int_equal(mmu_store(UVA, 2), EACCES);
	assert_false(pmap_is_modified(pg));
	assert_int_equal(load_ok(UVA), 1);
	assert_true(pmap_is_referenced(pg));
	/* write access comes back only through pmap_enter, and then it is tracked */
	assert_int_equal(pmap_enter(th.pm, UVA, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, 0), 0);
	pmap_update(th.pm);
	assert_false(pmap_is_modified(pg));
	store_ok(UVA, 3);
	assert_true(pmap_is_modified(pg));
	consistent(th.pm);
}

/* ---- the rest ---- */

static void test_phys_address(void **state)
{
	(void)state;
	assert_int_equal(pmap_phys_address(0), 0);
	assert_int_equal(pmap_phys_address(5), 5 * PAGE_SIZE);
	struct vm_page *pg = th_page();
	assert_int_equal(pmap_phys_address(atop(VM_PAGE_TO_PHYS(pg))), VM_PAGE_TO_PHYS(pg));
	uvm_pagefree(pg);
}

static void test_growkernel(void **state)
{
	(void)state;
	/* the current limit: asking for less changes nothing */
	vaddr_t cur = pmap_growkernel(VM_MIN_KERNEL_ADDRESS);
	assert_true(cur > VM_MIN_KERNEL_ADDRESS);
	assert_true(cur > kva_start());
	assert_int_equal(pmap_growkernel(VM_MIN_KERNEL_ADDRESS + PAGE_SIZE), cur);
	vaddr_t want = cur + 5 * L1SPAN + 0x123;
	vaddr_t got = pmap_growkernel(want);
	assert_true(got >= want);
	assert_true(got <= VM_MAX_KERNEL_ADDRESS);
	/* the new kernel VA is usable */
	struct vm_page *pg = th_page();
	const vaddr_t kva = trunc_page(want);
	pmap_kenter_pa(kva, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, 0);
	pmap_kenter_pa(cur, VM_PAGE_TO_PHYS(pg), VM_PROT_READ, 0);
	pmap_update(pmap_kernel());
	store_ok(kva, 66);
	assert_int_equal(load_ok(cur), 66);
	assert_int_equal(pghost(pg)[0], 66);
	/* growing keeps what was grown */
	assert_true(pmap_growkernel(cur) >= got);
	pmap_kremove(kva, PAGE_SIZE);
	pmap_kremove(cur, PAGE_SIZE);
	pmap_update(pmap_kernel());
	assert_int_equal(load_err(kva), EFAULT);
	uvm_pagefree(pg);
	assert_int_equal(pmap_check(pmap_kernel()), 0);
	consistent(th.pm);
}

static void test_steal_memory(void **state)
{
	(void)state;
	vaddr_t vs, ve;
	pmap_virtual_space(&vs, &ve);
	const vaddr_t vs0 = vs, ve0 = ve;
	long res0 = pmap_resident_count(pmap_kernel());
	uint64_t free0 = uvm_free_pages();
	vaddr_t va = pmap_steal_memory(3 * PAGE_SIZE + 5, &vs, &ve);
	assert_true(va >= vs0);
	assert_int_equal(va & PAGE_MASK, 0);
	assert_true(vs >= va + 4 * PAGE_SIZE); /* the start moved past what was stolen */
	assert_true(ve <= ve0 && ve > vs);
	assert_true(uvm_free_pages() <= free0 - 4);
	assert_int_equal(pmap_resident_count(pmap_kernel()), res0 + 4);
	for (vaddr_t a = va; a < va + 4 * PAGE_SIZE; a += 8)
		if (load_ok(a) != 0)
			fail_msg("stolen memory at %#lx is not zero", (unsigned long)a);
	store_ok(va + 3 * PAGE_SIZE + 8, 0x77);
	paddr_t pa;
	assert_true(pmap_extract(pmap_kernel(), va + 3 * PAGE_SIZE + 8, &pa));
	assert_int_equal(host(pa)[0], 0x77);
	/* a second steal does not overlap the first */
	vaddr_t va2 = pmap_steal_memory(PAGE_SIZE, &vs, &ve);
	assert_true(va2 >= va + 4 * PAGE_SIZE);
	assert_true(vs >= va2 + PAGE_SIZE);
	store_ok(va2, 1);
	assert_int_equal(load_ok(va + 3 * PAGE_SIZE + 8), 0x77);
	/* uvm's view starts after it too */
	vaddr_t s2, e2;
	pmap_virtual_space(&s2, &e2);
	assert_true(s2 >= va2 + PAGE_SIZE);
	assert_int_equal(pmap_check(pmap_kernel()), 0);
	consistent(th.pm);
}

static void test_prefer(void **state)
{
	(void)state;
	static const vaddr_t vas[] = {0x10000000, 0x10001000, 0x10007000, 0x7f0000003000};
	static const vaddr_t hints[] = {0, 0x1000, 0x3000, 0x7000, 0x8000, 0x12345000};
	for (size_t i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
		for (size_t j = 0; j < sizeof(hints) / sizeof(hints[0]); j++) {
			const vaddr_t va = vas[i], hint = hints[j];
			const bool aligned = ((va - hint) & (PREFER_ALIGN - 1)) == 0;
			for (int td = 0; td <= 1; td++) {
				vaddr_t v = va;
				PMAP_PREFER(hint, &v, 4 * PAGE_SIZE, td);
				if (((v - hint) & (PREFER_ALIGN - 1)) != 0)
					fail_msg("PMAP_PREFER(%#lx, %#lx, td %d) = %#lx: not congruent", (unsigned long)hint,
					    (unsigned long)va, td, (unsigned long)v);
				if (aligned)
					assert_int_equal(v, va);
				else if (td == 0)
					assert_true(v > va && v - va < PREFER_ALIGN);
				else
					assert_true(v < va && va - v < PREFER_ALIGN);
			}
		}
	}
}

static void test_fork_procwr(void **state)
{
	(void)state;
	th_map(UVA, VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE, 0);
	store_ok(UVA, 1);
	uint64_t f0 = th_counter("pmap.fork"), p0 = th_counter("pmap.procwr");
	pmap_t child = pmap_create();
	pmap_fork(th.pm, child);
	assert_int_equal(th_counter("pmap.fork"), f0 + 1);
	assert_int_equal(pmap_check(child), 0);
	pmap_destroy(child);
	struct proc p = {th.pm};
	pmap_procwr(&p, UVA, PAGE_SIZE);
	assert_int_equal(th_counter("pmap.procwr"), p0 + 1);
	/* the address space is unaffected */
	assert_int_equal(load_ok(UVA), 1);
	assert_int_equal(mmu_fetch(UVA), 0);
	assert_int_equal(pmap_resident_count(th.pm), 1);
	consistent(th.pm);
}

#define T2(fn, setup, down, suffix)                                                                \
	{                                                                                          \
		.name = #fn suffix, .test_func = fn, .setup_func = setup, .teardown_func = down,       \
		.initial_state = NULL                                                              \
	}
#define T(fn, setup, suffix) T2(fn, setup, teardown, suffix)
#define T_DEF(fn) T(fn, setup_default, "")
#define T_SOFT(fn) T(fn, setup_soft, "/refmod=software")
#define T_NOPCID(fn) T(fn, setup_nopcid, "/pcid=off")
#define T_KM(fn) T2(fn, setup_default, teardown_kmanaged, ""), T2(fn, setup_soft, teardown_kmanaged, "/refmod=software")

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_DEF(test_create_reference_destroy),
		T_DEF(test_create_many),
		T_DEF(test_kernel_pmap_and_init),
		T_DEF(test_update_off_cpu_panics),
		T_DEF(test_virtual_space),
		T_DEF(test_enter_maps_frame),
		T_SOFT(test_enter_maps_frame),
		T_DEF(test_enter_protection),
		T_SOFT(test_enter_protection),
		T_DEF(test_enter_statistics_wired),
		T_DEF(test_enter_replaces_frame),
		T_SOFT(test_enter_replaces_frame),
		T_DEF(test_enter_changes_protection),
		T_SOFT(test_enter_changes_protection),
		T_DEF(test_enter_changes_wiring),
		T_DEF(test_enter_seeds_refmod),
		T_SOFT(test_enter_seeds_refmod),
		T_SOFT(test_enter_wired_seeded_no_refmod_fault),
		T_DEF(test_enter_cache_modes),
		T_KM(test_enter_kernel_managed),
		T(test_enter_canfail_enomem, setup_small, "/memory=1M"),
		T_DEF(test_remove),
		T_DEF(test_remove_range_spanning_tables),
		T_DEF(test_remove_many_pages),
		T_NOPCID(test_remove_many_pages),
		T_DEF(test_remove_all),
		T_DEF(test_protect_read_only),
		T_SOFT(test_protect_read_only),
		T_DEF(test_protect_none_removes),
		T_DEF(test_protect_never_adds),
		T_DEF(test_unwire),
		T_DEF(test_extract),
		T_DEF(test_kenter_kremove),
		T_SOFT(test_kenter_kremove),
		T_DEF(test_kremove_many_pages),
		T_NOPCID(test_kremove_many_pages),
		T_DEF(test_kenter_unmanaged),
		T_SOFT(test_kenter_unmanaged),
		T_DEF(test_copy_advisory),
		T_DEF(test_update),
		T_DEF(test_update_cost_sampled),
		T(test_update_cost_every, setup_every, "/update_sample=1"),
		T_DEF(test_activate_switch),
		T_NOPCID(test_activate_switch),
		T_DEF(test_activate_after_destroy),
		T_NOPCID(test_activate_after_destroy),
		T_DEF(test_zero_copy_page),
		T_DEF(test_page_protect_read),
		T_SOFT(test_page_protect_read),
		T_NOPCID(test_page_protect_read),
		T_DEF(test_page_protect_none),
		T_SOFT(test_page_protect_none),
		T_NOPCID(test_page_protect_none),
		T_DEF(test_page_protect_never_adds),
		T_DEF(test_modified),
		T_SOFT(test_modified),
		T_KM(test_modified_two_mappings),
		T_DEF(test_referenced),
		T_SOFT(test_referenced),
		T_DEF(test_refmod_with_protection),
		T_SOFT(test_refmod_with_protection),
		T_DEF(test_phys_address),
		T_DEF(test_growkernel),
		T_DEF(test_steal_memory),
		T_DEF(test_prefer),
		T_DEF(test_fork_procwr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
