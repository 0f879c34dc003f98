/*
 * torture.c — the torture workload and its oracles (stress_run()).
 *
 * What it models.  rcutorture's shape (Linux kernel/rcu/rcutorture.c:
 * writers that change what readers see, readers that check every value
 * they read, a statistics line of checks and errors that must stay zero)
 * and liburcu's tests/regression torture loops (seeded yields inside
 * critical sections), over pmap(9) and uvm_km instead of RCU.
 *
 * Every CPU owns ST_SLOTS page slots of one shared user pmap and ST_KM
 * kernel allocations.  Its operations, drawn from a seeded generator:
 * map a fresh page (PMAP_CANFAIL, some wired, some read-only), remove a
 * range, unmap a slot and enter the same page at the same VA at once,
 * write-protect a range, pmap_page_protect() (revoke or read-only),
 * clear modified/referenced and write again (or leave the writing to the
 * other CPUs), uvm_km_alloc()/uvm_km_free()
 * of 1-24 pages (some UVM_KMF_NOWAIT), and accesses to the other CPUs'
 * slots and kernel allocations, which fill TLBs with entries the owners
 * will shoot down.  Each page's word 0 holds its identity stamp (slot,
 * incarnation), written through the direct map before it is mapped; the
 * owner stamps word 1 with (CPU, sequence) through the MMU and reads it
 * back; other CPUs write word 2 + their number.
 *
 * Oracles here (the frame and update oracles run in the machine, mmu.c):
 *  - contents: a read of a slot finds that slot's identity stamp; when the
 *    slot's published identity did not change around the access, exactly
 *    that one (a lazy strategy may leave a removed entry until the
 *    reader's next sweep, but not once the VA maps again: the pmap's lazy
 *    guard); a mapped, published page does not fault; the owner reads back
 *    its own stamps and its writes to read-only slots fail;
 *  - modref: the owner publishes a per-slot epoch after each
 *    pmap_clear_modify() returned; a writer that saw the same epoch before
 *    and after its store records it; the owner then requires
 *    pmap_is_modified() (and, after its own access, pmap_is_referenced()).
 *    VAs are entered again at once after their removal, under every
 *    strategy (no quarantine for the lazy ones), and half the clears leave
 *    the next write to another CPU, whose TLB may hold the entry;
 *  - counts: at quiescent points pmap_check() passes and the pmap's
 *    resident and wired counts equal the slots the CPUs hold;
 *  - alloc: a frame given to a slot is not already held by another (a
 *    shadow table, test-and-set); at quiescent points no held frame is on
 *    a free list, no two kernel allocations overlap and their frames are
 *    distinct, held, and not slot frames.
 * Limits: the remote-read checks hold only across an access during which
 * the owner published nothing (a race in which the owner changed the slot
 * is not judged); the in-machine update oracle is conservative in the same
 * way (see check.c).  Interleavings come from real threads: the seed fixes
 * every choice of this file and of the injection, not the timing.
 *
 * Memory pressure (inject.pressure = P): CPU 0 holds P% of the free frames
 * for a while, then all of them above the reserve (so allocations on other
 * CPUs wait in uvm_wait()), then gives them back, in a cycle; it never
 * waits for memory itself while it holds any.
 */
#include "stress.h"

#include "common/msg.h"               /* err_env: the error convention */
#include "trials/workloads/workload.h" /* wl_rng */

#include <pmapstorm/alloc.h>
#include <pmapstorm/pmap.h>
#include <pmapstorm/shootdown.h>
#include <pmapstorm/stats.h>
#include <pmapstorm/uvm_km.h>
#include <pmapstorm/uvm_page.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_SLOTS 32
#define ST_KM 6
#define ST_KM_MAXPAGES 24
#define ST_VA ((vaddr_t)0x40000000ULL)
#define ST_SPARE_VA ((vaddr_t)0x3ff00000ULL) /* the counts "break": a mapping nobody counts */
#define ST_EPOCH_NS 25000000ULL               /* quiescent points every 25 ms */
#define ST_RW (VM_PROT_READ | VM_PROT_WRITE)
#define ST_TAG_USER 0xA5ULL
#define ST_TAG_KM 0x5AULL
#define ST_HOG_MAX 65536

static inline uint64_t st_stamp(uint64_t tag, unsigned gid, uint64_t inc)
{
	return tag << 56 | (uint64_t)(gid & 0xffff) << 40 | (inc & 0xffffffffffULL);
}
static inline unsigned st_stamp_gid(uint64_t v)
{
	return (unsigned)(v >> 40) & 0xffff;
}

/* published: read by every CPU */
struct st_slot {
	_Atomic uint64_t sl_id_pub;    /* identity of the page mapped and complete; 0 while changing */
	_Atomic uint64_t sl_mod_epoch; /* +1 after each clear_modify returned, and on map/unmap */
	_Atomic uint64_t sl_wrote;     /* an epoch in which a write completed */
	/* owner only */
	struct vm_page *sl_pg;
	uint64_t sl_id;
	uint64_t sl_stamp1;            /* the owner's last write to word 1 */
	bool sl_writable, sl_wired;
};

struct st_km {
	_Atomic uint64_t km_id_pub;
	_Atomic vaddr_t km_va_pub;
	vaddr_t km_va;
	vsize_t km_size;
	uint64_t km_id;
};

struct st_cpu {
	struct st_slot c_slots[ST_SLOTS];
	struct st_km c_km[ST_KM];
	struct wl_rng c_rng;
	uint64_t c_inc;
	uint64_t c_ops;
	uint64_t c_seq;
} __attribute__((aligned(64)));

struct st_run {
	const struct stress_opts *r_o;
	unsigned r_pressure;            /* inject.pressure */
	struct stress_result *r_res;
	struct machine *r_m;
	unsigned r_ncpu;
	pmap_t r_pm;
	struct st_cpu *r_cpus;
	_Atomic uint8_t *r_owned;      /* per frame: held by a slot (the alloc oracle's shadow) */
	uint8_t *r_scratch;            /* per frame, CPU 0 at quiescent points */
	uint64_t r_npages;
	struct cpu_barrier r_bar;
	_Atomic bool r_stop;           /* decided by CPU 0 at a quiescent point */
	_Atomic unsigned r_epoch;      /* quiescent points passed */
	_Atomic bool r_first_noted;    /* st_report() saw the first violation (an exchange: two CPUs may report at once) */
	_Atomic uint64_t r_epoch_end;
	uint64_t r_t0, r_deadline;
	/* pressure (CPU 0 only) */
	struct vm_page **r_hog;
	unsigned r_nhog, r_hog_phase, r_hog_ops;
	struct vm_page *r_break_pg;    /* the counts break's extra mapping */
	_Atomic bool r_broken;         /* so_break done (any CPU may do the modref one) */
};

static struct st_run *st_cur; /* for the reporter */

static void st_barrier(struct st_run *r)
{
	cpu_barrier_wait(&r->r_bar);
}

static inline vaddr_t slot_va(unsigned cpu, unsigned i)
{
	return ST_VA + ptoa((vaddr_t)cpu * ST_SLOTS + i);
}

static inline _Atomic uint64_t *phys_word(struct vm_page *pg, unsigned w)
{
	return (_Atomic uint64_t *)machine_phys(VM_PAGE_TO_PHYS(pg)) + w;
}

static uint64_t pfn_of(struct vm_page *pg)
{
	return atop(VM_PAGE_TO_PHYS(pg));
}

/* ---- pages: the alloc oracle's shadow ---- */

static void st_own(struct st_run *r, struct vm_page *pg)
{
	check_count(CHK_ALLOC, 1);
	if (atomic_exchange(&r->r_owned[pfn_of(pg)], 1) != 0)
		check_violation(CHK_ALLOC, 0, VM_PAGE_TO_PHYS(pg),
		    "the page allocator handed out frame %#lx, which a slot still holds",
		    (unsigned long)VM_PAGE_TO_PHYS(pg));
}

static void st_disown(struct st_run *r, struct vm_page *pg)
{
	atomic_store(&r->r_owned[pfn_of(pg)], 0);
}

static bool st_holds_hog(const struct st_run *r, unsigned cpu)
{
	return cpu == 0 && r->r_nhog > 0;
}

static struct vm_page *st_page(struct st_run *r, unsigned cpu)
{
	struct vm_page *pg = uvm_pagealloc(NULL, 0, NULL, UVM_PGA_ZERO);
	if (pg == NULL && !st_holds_hog(r, cpu)) {
		uvm_wait("stress"); /* pressure: another CPU holds the memory */
		pg = uvm_pagealloc(NULL, 0, NULL, UVM_PGA_ZERO);
	}
	return pg;
}

/* ---- slots ---- */

static void st_unmap_range(struct st_run *r, struct st_cpu *c, unsigned cpu, unsigned first, unsigned n)
{
	for (unsigned i = first; i < first + n; i++) {
		struct st_slot *sl = &c->c_slots[i];
		if (sl->sl_pg == NULL)
			continue;
		/* unpublish before the change: readers stop judging exactly */
		atomic_store(&sl->sl_id_pub, 0);
		atomic_fetch_add(&sl->sl_mod_epoch, 1);
	}
	pmap_remove(r->r_pm, slot_va(cpu, first), slot_va(cpu, first + n));
	pmap_update(r->r_pm);
	for (unsigned i = first; i < first + n; i++) {
		struct st_slot *sl = &c->c_slots[i];
		if (sl->sl_pg == NULL)
			continue;
		st_disown(r, sl->sl_pg);
		uvm_pagefree(sl->sl_pg);
		sl->sl_pg = NULL;
	}
}

/* Owner: its own view of slot i after an operation (contents). */
static void st_check_own(struct st_run *r, struct st_cpu *c, unsigned cpu, unsigned i)
{
	struct st_slot *sl = &c->c_slots[i];
	vaddr_t va = slot_va(cpu, i);
	uint64_t v = 0;
	check_count(CHK_CONTENTS, 1);
	int e = mmu_load(va, &v);
	if (sl->sl_pg == NULL) {
		if (e != EFAULT)
			check_violation(CHK_CONTENTS, va, 0, "the owner's read of its unmapped slot gave %d, value %#lx "
			    "(expected a fault)", e, (unsigned long)v);
		return;
	}
	paddr_t pa = VM_PAGE_TO_PHYS(sl->sl_pg);
	if (e != 0 || v != sl->sl_id) {
		check_violation(CHK_CONTENTS, va, pa, "the owner read %#lx (error %d) from its slot, whose page is "
		    "stamped %#lx", (unsigned long)v, e, (unsigned long)sl->sl_id);
		return;
	}
	uint64_t stamp = (uint64_t)cpu << 56 | ++c->c_seq;
	e = mmu_store(va + 8, stamp);
	if (e != (sl->sl_writable ? 0 : EACCES)) {
		check_violation(CHK_CONTENTS, va, pa, "the owner's store to its %s slot gave %d",
		    sl->sl_writable ? "writable" : "read-only", e);
		return;
	}
	if (e == 0) {
		sl->sl_stamp1 = stamp;
		atomic_store(&sl->sl_wrote, atomic_load(&sl->sl_mod_epoch));
	}
	if (sl->sl_stamp1 != 0 && (mmu_load(va + 8, &v) != 0 || v != sl->sl_stamp1))
		check_violation(CHK_CONTENTS, va, pa, "the owner read back %#lx, not its last stamp %#lx",
		    (unsigned long)v, (unsigned long)sl->sl_stamp1);
}

/* pmap_enter of slot i's VA: 0, or the error of a CANFAIL enter that kept failing */
static int st_enter(struct st_run *r, unsigned cpu, unsigned i, struct vm_page *pg, vm_prot_t prot, unsigned flags)
{
	int err;
	/* ENOMEM is real shortage (wait for the page daemon) or an injected
	 * failure with plenty free, where uvm_wait() returns at once: bound the
	 * retries, and a CANFAIL enter that keeps failing simply fails */
	for (unsigned tries = 0;
	     (err = pmap_enter(r->r_pm, slot_va(cpu, i), VM_PAGE_TO_PHYS(pg), prot, flags)) == ENOMEM; tries++) {
		if (st_holds_hog(r, cpu) || tries == 16) /* never wait while holding the hog */
			break;
		uvm_wait("stress");
		cpu_intr_poll();
	}
	return err;
}

/* The VA is entered again right away: no quarantine, under any strategy
 * (a lazy one's stale entries are the pmap's lazy guard's to drain) */
static void st_map(struct st_run *r, struct st_cpu *c, unsigned cpu, unsigned i, uint64_t rnd)
{
	struct st_slot *sl = &c->c_slots[i];
	if (sl->sl_pg != NULL)
		return;
	struct vm_page *pg = st_page(r, cpu);
	if (pg == NULL)
		return;
	st_own(r, pg);
	sl->sl_id = st_stamp(ST_TAG_USER, cpu * ST_SLOTS + i, ++c->c_inc);
	sl->sl_stamp1 = 0;
	/* the identity, through the direct map: before any translation exists */
	atomic_store_explicit(phys_word(pg, 0), sl->sl_id, memory_order_relaxed);
	sl->sl_writable = (rnd >> 20) & 1;
	sl->sl_wired = ((rnd >> 22) & 7) == 0;
	vm_prot_t prot = sl->sl_writable ? ST_RW : VM_PROT_READ;
	unsigned flags = PMAP_CANFAIL | (sl->sl_wired ? PMAP_WIRED : 0) | (((rnd >> 21) & 1) ? VM_PROT_READ : 0);
	int err = st_enter(r, cpu, i, pg, prot, flags);
	if (err != 0) {
		st_disown(r, pg);
		uvm_pagefree(pg);
		return;
	}
	pmap_update(r->r_pm);
	sl->sl_pg = pg;
	atomic_fetch_add(&sl->sl_mod_epoch, 1);
	atomic_store(&sl->sl_id_pub, sl->sl_id); /* complete: readers may judge exactly */
	st_check_own(r, c, cpu, i);
}

/*
 * Unmap slot i and enter the same page at the same VA at once, without an
 * access of the owner's: the new PTE is clean and unreferenced, while
 * another CPU's TLB may hold the removed entry, dirty (the case that lost
 * writes under the lazy strategies before the pmap's lazy guard).
 */
static void st_remap(struct st_run *r, struct st_cpu *c, unsigned cpu, unsigned i)
{
	struct st_slot *sl = &c->c_slots[i];
	if (sl->sl_pg == NULL)
		return;
	vaddr_t va = slot_va(cpu, i);
	atomic_store(&sl->sl_id_pub, 0);
	atomic_fetch_add(&sl->sl_mod_epoch, 1);
	pmap_remove(r->r_pm, va, va + PAGE_SIZE);
	pmap_update(r->r_pm);
	int err = st_enter(r, cpu, i, sl->sl_pg, sl->sl_writable ? ST_RW : VM_PROT_READ,
	    PMAP_CANFAIL | (sl->sl_wired ? PMAP_WIRED : 0));
	if (err != 0) {
		st_disown(r, sl->sl_pg);
		uvm_pagefree(sl->sl_pg);
		sl->sl_pg = NULL;
		return;
	}
	pmap_update(r->r_pm);
	atomic_fetch_add(&sl->sl_mod_epoch, 1);
	atomic_store(&sl->sl_id_pub, sl->sl_id);
}

/* Is slot i in this epoch's hot window (st_remote), where other CPUs write?
 * The epoch changes only while every CPU waits at a quiescent point, so
 * during an operation the answer holds for every CPU. */
static bool st_hot(const struct st_run *r, unsigned i)
{
	unsigned first = (atomic_load_explicit(&r->r_epoch, memory_order_relaxed) * 7) % ST_SLOTS;
	return (i + ST_SLOTS - first) % ST_SLOTS < 8;
}

/* modref: clear, then a write and an access must be seen — the owner's,
 * or (half the time) another CPU's, judged at the slot's next st_modref() */
static void st_modref(struct st_run *r, struct st_cpu *c, unsigned cpu, unsigned i, uint64_t rnd)
{
	struct st_slot *sl = &c->c_slots[i];
	if (sl->sl_pg == NULL)
		return;
	vaddr_t va = slot_va(cpu, i);
	paddr_t pa = VM_PAGE_TO_PHYS(sl->sl_pg);
	/* a write someone completed in this epoch: still modified */
	uint64_t ep = atomic_load(&sl->sl_mod_epoch);
	if (atomic_load(&sl->sl_wrote) == ep) {
		check_count(CHK_MODREF, 1);
		if (!pmap_is_modified(sl->sl_pg))
			check_violation(CHK_MODREF, va, pa, "a write completed after the last pmap_clear_modify() "
			    "returned, yet pmap_is_modified() is false (a lost modified bit)");
	}
	(void)pmap_clear_reference(sl->sl_pg);
	(void)pmap_clear_modify(sl->sl_pg);
	atomic_fetch_add(&sl->sl_mod_epoch, 1);
	/* leave the page to the others: an owner's write would set D through
	 * a fresh walk and hide a write another CPU lost */
	if (((rnd >> 24) & 1) && r->r_o->so_break != CHK_MODREF)
		return;
	uint64_t v;
	if (sl->sl_writable) {
		if (r->r_o->so_break == CHK_MODREF && !st_hot(r, i) && !atomic_exchange(&r->r_broken, true)) {
			/* deliberately: a write the pmap cannot see (the direct map),
			 * on a slot no other CPU writes in this epoch, whose write
			 * through the MMU would set D and hide the break */
			sl->sl_stamp1 = (uint64_t)cpu << 56 | ++c->c_seq;
			atomic_store_explicit(phys_word(sl->sl_pg, 1), sl->sl_stamp1, memory_order_relaxed);
			atomic_store(&sl->sl_wrote, atomic_load(&sl->sl_mod_epoch));
		} else {
			st_check_own(r, c, cpu, i); /* writes word 1, records the epoch */
		}
		check_count(CHK_MODREF, 1);
		if (atomic_load(&sl->sl_wrote) == atomic_load(&sl->sl_mod_epoch) && !pmap_is_modified(sl->sl_pg))
			check_violation(CHK_MODREF, va, pa, "the owner wrote after pmap_clear_modify() returned, yet "
			    "pmap_is_modified() is false");
	} else {
		(void)mmu_load(va, &v);
	}
	check_count(CHK_MODREF, 1);
	if (!pmap_is_referenced(sl->sl_pg))
		check_violation(CHK_MODREF, va, pa, "an access after pmap_clear_reference() returned, yet "
		    "pmap_is_referenced() is false");
}

/* ---- kernel allocations ---- */

static void st_km_op(struct st_run *r, struct st_cpu *c, unsigned cpu, unsigned k, uint64_t rnd)
{
	struct st_km *km = &c->c_km[k];
	if (km->km_va != 0) {
		atomic_store(&km->km_id_pub, 0);
		uvm_km_free(kernel_map, km->km_va, km->km_size, UVM_KMF_WIRED);
		km->km_va = 0;
		return;
	}
	unsigned npages = 1 + (unsigned)((rnd >> 24) % ST_KM_MAXPAGES);
	int flags = UVM_KMF_WIRED | UVM_KMF_ZERO;
	if (((rnd >> 30) & 1) || st_holds_hog(r, cpu))
		flags |= UVM_KMF_NOWAIT | UVM_KMF_CANFAIL;
	vaddr_t va = uvm_km_alloc(kernel_map, ptoa(npages), 0, flags);
	if (va == 0)
		return; /* NOWAIT: a shortage, injected or real */
	km->km_va = va;
	km->km_size = ptoa(npages);
	km->km_id = st_stamp(ST_TAG_KM, cpu * ST_KM + k, ++c->c_inc);
	for (unsigned p = 0; p < npages; p++)
		if (mmu_store(va + ptoa(p), km->km_id) != 0)
			check_violation(CHK_CONTENTS, va + ptoa(p), 0, "a fresh uvm_km_alloc() page faults on write");
	atomic_store(&km->km_va_pub, va);
	atomic_store(&km->km_id_pub, km->km_id);
}

/* ---- the other CPUs' pages ---- */

static void st_remote(struct st_run *r, unsigned me, uint64_t rnd)
{
	unsigned cpu = (unsigned)(rnd % r->r_ncpu);
	if (cpu == me)
		cpu = (cpu + 1) % r->r_ncpu;
	struct st_cpu *c = &r->r_cpus[cpu];
	uint64_t v = 0;
	if (((rnd >> 8) & 7) == 0) { /* a kernel allocation */
		struct st_km *km = &c->c_km[(rnd >> 12) % ST_KM];
		uint64_t s0 = atomic_load(&km->km_id_pub);
		if (s0 == 0)
			return;
		vaddr_t va = atomic_load(&km->km_va_pub); /* its first page */
		int e = mmu_load(va, &v);
		uint64_t s1 = atomic_load(&km->km_id_pub);
		check_count(CHK_CONTENTS, 1);
		if (s0 == s1 && (e != 0 || v != s0))
			check_violation(CHK_CONTENTS, va, 0, "read %#lx (error %d) from cpu%u's kernel allocation, "
			    "stamped %#lx and unchanged during the access", (unsigned long)v, e, cpu, (unsigned long)s0);
		return;
	}
	/* a hot window of 8 slots per CPU, moving every epoch: the entries
	 * other CPUs cache are used again soon, before the TLB evicts them */
	unsigned i = (atomic_load_explicit(&r->r_epoch, memory_order_relaxed) * 7 + (unsigned)(rnd >> 12) % 8) % ST_SLOTS;
	struct st_slot *sl = &c->c_slots[i];
	vaddr_t va = slot_va(cpu, i);
	unsigned gid = cpu * ST_SLOTS + i;
	uint64_t s0 = atomic_load(&sl->sl_id_pub);
	if ((rnd >> 20) & 1) { /* a write: the modref oracle's evidence */
		uint64_t e0 = atomic_load(&sl->sl_mod_epoch);
		int e = mmu_store(va + 8 * (2 + me % 500), (uint64_t)me << 56 | rnd >> 8);
		if (e == 0 && s0 != 0 && atomic_load(&sl->sl_mod_epoch) == e0 && atomic_load(&sl->sl_id_pub) == s0)
			atomic_store(&sl->sl_wrote, e0);
		return;
	}
	int e = mmu_load(va, &v);
	uint64_t s1 = atomic_load(&sl->sl_id_pub);
	check_count(CHK_CONTENTS, 1);
	if (e == 0 && (v >> 56 != ST_TAG_USER || st_stamp_gid(v) != gid))
		check_violation(CHK_CONTENTS, va, 0, "read %#lx from cpu%u's slot %u: not that slot's page (a stale "
		    "translation reached a frame that was reused)", (unsigned long)v, cpu, i);
	else if (s0 != 0 && s0 == s1 && e == 0 && v != s0)
		check_violation(CHK_CONTENTS, va, 0, "read %#lx from cpu%u's slot %u, whose page since before the access "
		    "is stamped %#lx (an earlier page of the slot)", (unsigned long)v, cpu, i, (unsigned long)s0);
	else if (s0 != 0 && s0 == s1 && e != 0)
		check_violation(CHK_CONTENTS, va, 0, "cpu%u's slot %u is mapped and published, yet a read faults (%d)",
		    cpu, i, e);
}

/* ---- memory pressure (CPU 0) ---- */

static void st_hog_release(struct st_run *r)
{
	while (r->r_nhog > 0)
		uvm_pagefree(r->r_hog[--r->r_nhog]);
}

static void st_pressure(struct st_run *r)
{
	unsigned pct = r->r_pressure;
	if (pct == 0 || ++r->r_hog_ops % 64 != 0)
		return;
	r->r_hog_phase = (r->r_hog_phase + 1) % 3;
	if (r->r_hog_phase == 2) { /* give back */
		st_hog_release(r);
		return;
	}
	/* phase 0: P% of what is free; phase 1: everything above the reserve */
	uint64_t want = r->r_hog_phase == 0 ? uvm_free_pages() * pct / 100 : UINT64_MAX;
	struct vm_page *pg;
	while (r->r_nhog < ST_HOG_MAX && r->r_nhog < want && (pg = uvm_pagealloc(NULL, 0, NULL, 0)) != NULL)
		r->r_hog[r->r_nhog++] = pg;
}

/* ---- quiescent points ---- */

static int cmp_range(const void *a, const void *b)
{
	const vaddr_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* => CPU 0, every other CPU waiting at the barrier */
static void st_quiescent_cpu0(struct st_run *r)
{
	/* counts: pmap_check() and the slots every CPU holds */
	long resident = 0, wired = 0;
	for (unsigned cpu = 0; cpu < r->r_ncpu; cpu++)
		for (unsigned i = 0; i < ST_SLOTS; i++) {
			struct st_slot *sl = &r->r_cpus[cpu].c_slots[i];
			if (sl->sl_pg == NULL)
				continue;
			resident++;
			wired += sl->sl_wired;
			/* alloc: a held frame is not free */
			check_count(CHK_ALLOC, 1);
			if (atomic_load(&sl->sl_pg->flags) & PG_FREE)
				check_violation(CHK_ALLOC, slot_va(cpu, i), VM_PAGE_TO_PHYS(sl->sl_pg),
				    "a frame mapped at cpu%u's slot %u is on a free list", cpu, i);
		}
	check_count(CHK_COUNTS, 2);
	int bad = pmap_check(r->r_pm);
	if (bad != 0)
		check_violation(CHK_COUNTS, 0, 0, "pmap_check() found %d inconsistencies (statistics, page-table "
		    "counts or pv entries; see above)", bad);
	long rc = pmap_resident_count(r->r_pm), wc = pmap_wired_count(r->r_pm);
	if (rc != resident || wc != wired)
		check_violation(CHK_COUNTS, 0, 0, "resident %ld, wired %ld; the slots hold %ld pages, %ld wired", rc, wc,
		    resident, wired);
	/* alloc: kernel allocations do not overlap; their frames are distinct and held */
	vaddr_t ranges[MAXCPUS * ST_KM][2];
	unsigned n = 0;
	memset(r->r_scratch, 0, r->r_npages);
	for (unsigned cpu = 0; cpu < r->r_ncpu; cpu++)
		for (unsigned k = 0; k < ST_KM; k++) {
			struct st_km *km = &r->r_cpus[cpu].c_km[k];
			if (km->km_va == 0)
				continue;
			ranges[n][0] = km->km_va;
			ranges[n][1] = km->km_va + km->km_size;
			n++;
			for (vaddr_t va = km->km_va; va < km->km_va + km->km_size; va += PAGE_SIZE) {
				paddr_t pa;
				check_count(CHK_ALLOC, 1);
				if (!pmap_extract(pmap_kernel(), va, &pa)) {
					check_violation(CHK_ALLOC, va, 0, "cpu%u's kernel allocation has an unmapped page", cpu);
					continue;
				}
				struct vm_page *pg = PHYS_TO_VM_PAGE(pa);
				uint64_t pfn = atop(pa);
				if (pg == NULL || (atomic_load(&pg->flags) & PG_FREE) || r->r_scratch[pfn] ||
				    atomic_load(&r->r_owned[pfn]))
					check_violation(CHK_ALLOC, va, pa, "frame %#lx of cpu%u's kernel allocation is %s",
					    (unsigned long)pa, cpu, pg == NULL ? "outside memory" :
					    (atomic_load(&pg->flags) & PG_FREE) ? "on a free list" :
					    r->r_scratch[pfn] ? "in another kernel allocation too" : "a slot's page too");
				r->r_scratch[pfn] = 1;
			}
		}
	qsort(ranges, n, sizeof(ranges[0]), cmp_range);
	for (unsigned k = 1; k < n; k++) {
		check_count(CHK_ALLOC, 1);
		if (ranges[k][0] < ranges[k - 1][1])
			check_violation(CHK_ALLOC, ranges[k][0], 0, "uvm_km_alloc() handed out [%#lx, %#lx), which overlaps "
			    "[%#lx, %#lx)", (unsigned long)ranges[k][0], (unsigned long)ranges[k][1],
			    (unsigned long)ranges[k - 1][0], (unsigned long)ranges[k - 1][1]);
	}
	uint64_t now = cpu_now_ns();
	r->r_res->sr_epochs++;
	atomic_fetch_add(&r->r_epoch, 1);
	_Atomic int *ext = r->r_o->so_stop;
	/* so_min_ops: c_ops are owner-written; every CPU waits at the barrier */
	bool enough = r->r_o->so_min_ops == 0 || r->r_res->sr_epochs >= 3;
	for (unsigned cpu = 0; cpu < r->r_ncpu && enough; cpu++)
		enough = r->r_cpus[cpu].c_ops >= r->r_o->so_min_ops;
	bool stop = (now >= r->r_deadline && enough) || (ext != NULL && atomic_load(ext));
	if (!r->r_o->so_keep_going && check_violations_total() > 0)
		stop = true;
	if (ext != NULL && atomic_load(ext))
		r->r_res->sr_interrupted = true;
	atomic_store(&r->r_stop, stop);
	atomic_store(&r->r_epoch_end, now + ST_EPOCH_NS);
}

/* The deliberate breaks that need CPU 0 (so_break; tests only). */
static void st_break(struct st_run *r, struct st_cpu *c)
{
	int b = r->r_o->so_break;
	if (b < 0 || b == CHK_MODREF || atomic_load(&r->r_broken))
		return;
	for (unsigned i = 0; i < ST_SLOTS; i++) {
		struct st_slot *sl = &c->c_slots[i];
		if (sl->sl_pg == NULL)
			continue;
		if (b == CHK_CONTENTS) {
			/* another slot's identity in this page: a reused frame's look */
			atomic_store_explicit(phys_word(sl->sl_pg, 0), st_stamp(ST_TAG_USER, i + 1, 1), memory_order_relaxed);
			r->r_broken = true;
			st_check_own(r, c, 0, i); /* the owner's next read finds it */
		} else if (b == CHK_ALLOC) {
			/* the allocator hands this held frame out a second time */
			st_own(r, sl->sl_pg);
			r->r_broken = true;
		} else if (b == CHK_COUNTS) {
			/* a mapping nobody counts */
			struct vm_page *pg = uvm_pagealloc(NULL, 0, NULL, UVM_PGA_ZERO);
			if (pg != NULL && pmap_enter(r->r_pm, ST_SPARE_VA, VM_PAGE_TO_PHYS(pg), VM_PROT_READ, PMAP_CANFAIL) == 0) {
				pmap_update(r->r_pm);
				r->r_break_pg = pg;
				r->r_broken = true;
			} else if (pg != NULL)
				uvm_pagefree(pg);
		}
		return;
	}
}

/* 1-8 slots from slot i, within the CPU's slots */
static unsigned st_range_len(unsigned i, uint64_t rnd)
{
	unsigned n = 1 + (unsigned)(rnd >> 32) % 8;
	return i + n > ST_SLOTS ? ST_SLOTS - i : n;
}

static void st_cpu_main(unsigned cpu, void *arg)
{
	struct st_run *r = arg;
	struct st_cpu *c = &r->r_cpus[cpu];
	if (cpu == 0)
		r->r_pm = pmap_create();
	st_barrier(r);
	struct lwp *l = lwp_create(r->r_pm);
	lwp_switch(l);
	c->c_rng.r_state = (r->r_o->so_seed ^ (0x9E3779B97F4A7C15ULL * (cpu + 1))) | 1;
	st_barrier(r);
	while (!atomic_load(&r->r_stop)) {
		uint64_t end = atomic_load(&r->r_epoch_end);
		while (cpu_now_ns() < end) {
			uint64_t rnd = wl_rand(&c->c_rng);
			unsigned i = (unsigned)(rnd >> 8) % ST_SLOTS;
			switch (rnd % 16) {
			case 0:
			case 1:
			case 2:
				st_map(r, c, cpu, i, rnd);
				break;
			case 3: { /* remove a range */
				unsigned n = st_range_len(i, rnd);
				st_unmap_range(r, c, cpu, i, n);
				st_check_own(r, c, cpu, i);
				break;
			}
			case 4: { /* write-protect a range */
				unsigned n = st_range_len(i, rnd);
				pmap_protect(r->r_pm, slot_va(cpu, i), slot_va(cpu, i + n), VM_PROT_READ);
				pmap_update(r->r_pm);
				for (unsigned j = i; j < i + n; j++)
					c->c_slots[j].sl_writable = false;
				st_check_own(r, c, cpu, i);
				break;
			}
			case 5: { /* through the page: revoke or write-protect */
				struct st_slot *sl = &c->c_slots[i];
				if (sl->sl_pg == NULL)
					break;
				if ((rnd >> 20) & 1) {
					atomic_store(&sl->sl_id_pub, 0);
					atomic_fetch_add(&sl->sl_mod_epoch, 1);
					pmap_page_protect(sl->sl_pg, VM_PROT_NONE);
					st_disown(r, sl->sl_pg);
					uvm_pagefree(sl->sl_pg);
					sl->sl_pg = NULL;
				} else {
					pmap_page_protect(sl->sl_pg, VM_PROT_READ);
					sl->sl_writable = false;
				}
				st_check_own(r, c, cpu, i);
				break;
			}
			case 6:
				st_modref(r, c, cpu, i, rnd);
				break;
			case 7:
				st_km_op(r, c, cpu, (unsigned)(rnd >> 40) % ST_KM, rnd);
				break;
			case 8:
				st_remap(r, c, cpu, i);
				break;
			default: /* the others' pages */
				for (int a = 0; a < 4; a++)
					st_remote(r, cpu, wl_rand(&c->c_rng));
				break;
			}
			c->c_ops++;
			if (cpu == 0) {
				st_pressure(r);
				if (r->r_res->sr_epochs >= 1)
					st_break(r, c);
			}
			cpu_intr_poll();
		}
		if (cpu == 0)
			st_hog_release(r);
		cpu_intr_poll(); /* a tick is due by now: a lazy strategy's sweep */
		st_barrier(r);
		if (tlb_check() != 0)
			check_violation(CHK_UPDATE, 0, 0, "tlb_check() at a quiescent point: a TLB entry disagrees with its "
			    "PTE and no shootdown is pending (see above)");
		check_count(CHK_UPDATE, 1);
		st_barrier(r);
		if (cpu == 0)
			st_quiescent_cpu0(r);
		st_barrier(r);
	}
	/* teardown: everything back, then the final counts */
	st_unmap_range(r, c, cpu, 0, ST_SLOTS);
	for (unsigned k = 0; k < ST_KM; k++)
		if (c->c_km[k].km_va != 0)
			st_km_op(r, c, cpu, k, 0);
	if (cpu == 0 && r->r_break_pg != NULL) {
		pmap_remove(r->r_pm, ST_SPARE_VA, ST_SPARE_VA + PAGE_SIZE);
		pmap_update(r->r_pm);
		uvm_pagefree(r->r_break_pg);
		r->r_break_pg = NULL;
	}
	st_barrier(r);
	if (cpu == 0) {
		check_count(CHK_COUNTS, 1);
		if (pmap_resident_count(r->r_pm) != 0 || pmap_check(r->r_pm) != 0)
			check_violation(CHK_COUNTS, 0, 0, "resident count %ld after every slot was removed",
			    pmap_resident_count(r->r_pm));
	}
	st_barrier(r);
	lwp_switch(NULL);
	lwp_destroy(l);
	st_barrier(r);
	if (cpu == 0)
		pmap_destroy(r->r_pm);
}

/* violation lines printed in this stress_run(): each strategy gets its first ten */
static _Atomic unsigned st_printed;

static void st_report(const struct check_violation *v)
{
	struct st_run *r = st_cur;
	if (r == NULL)
		return;
	/* the first violation: which operation of its CPU (owner-written
	 * count, read on that CPU) — with the virtual engine, the same in
	 * every rerun */
	if (!atomic_load_explicit(&r->r_first_noted, memory_order_relaxed) &&
	    !atomic_exchange_explicit(&r->r_first_noted, true, memory_order_relaxed)) {
		r->r_res->sr_first_op = v->cv_cpu >= 0 ? r->r_cpus[v->cv_cpu].c_ops : 0;
		r->r_res->sr_first_t_ns = v->cv_t_ns - r->r_t0;
	}
	if (r->r_o->so_quiet)
		return;
	if (atomic_fetch_add(&st_printed, 1) >= 10)
		return;
	char at[48];
	if (cpu_virtual()) /* virtual ns, as the report's "at" line: a 50 ms run's are all "0.000 s" */
		snprintf(at, sizeof(at), "%llu virtual ns", (unsigned long long)(v->cv_t_ns - r->r_t0));
	else
		snprintf(at, sizeof(at), "%.3f s", (double)(v->cv_t_ns - r->r_t0) / 1e9);
	fprintf(stderr, "pmapstorm stress: VIOLATION [%s] cpu%d va %#lx frame %#lx at %s: %s\n",
	    check_oracle_name(v->cv_oracle), v->cv_cpu, (unsigned long)v->cv_va, (unsigned long)v->cv_pa, at,
	    v->cv_what);
}

const char *const stress_injected_names[5] = {"inject.yields", "inject.spl_windows", "inject.ipi_delays",
    "inject.allocfails", "uvm.page.waits"};

uint64_t stress_violations(const struct stress_result *res)
{
	uint64_t n = 0;
	for (int o = 0; o < CHK_NORACLES; o++)
		n += res->sr_violations[o];
	return n;
}

int stress_run(const struct stress_opts *o, struct stress_result *res)
{
	memset(res, 0, sizeof(*res));
	atomic_store(&st_printed, 0);
	struct machine_config cfg = o->so_cfg;
	machine_config_set(&cfg, "check.enabled", "on");
	struct machine *m = machine_boot(&cfg);
	if (m == NULL) {
		int err = errno;
		fprintf(stderr, "pmapstorm stress: %s\n", machine_errmsg());
		return err == EINVAL ? EINVAL : err_env(err);
	}
	struct st_run *r = mem_zalloc(struct st_run, 1);
	int rc = 0;
	if (r == NULL)
		goto nomem;
	r->r_o = o;
	uint64_t pressure = 0;
	machine_config_u64(&o->so_cfg, "inject.pressure", &pressure);
	r->r_pressure = (unsigned)pressure;
	r->r_res = res;
	r->r_m = m;
	r->r_ncpu = machine_ncpu(m);
	cpu_barrier_init(&r->r_bar, r->r_ncpu);
	r->r_npages = machine_phys_pages(m);
	r->r_cpus = mem_alloc(struct st_cpu, r->r_ncpu);
	r->r_owned = mem_zalloc(_Atomic uint8_t, r->r_npages);
	r->r_scratch = mem_zalloc(uint8_t, r->r_npages);
	r->r_hog = mem_zalloc(struct vm_page *, ST_HOG_MAX);
	if (r->r_cpus == NULL || r->r_owned == NULL || r->r_scratch == NULL || r->r_hog == NULL)
		goto nomem;
	memset(r->r_cpus, 0, sizeof(struct st_cpu) * r->r_ncpu);
	r->r_t0 = cpu_now_ns();
	r->r_deadline = r->r_t0 + (uint64_t)(o->so_seconds * 1e9);
	atomic_store(&r->r_epoch_end, r->r_t0 + ST_EPOCH_NS);
	st_cur = r;
	check_set_reporter(st_report);
	int err = machine_run(m, r->r_ncpu, st_cpu_main, r);
	check_set_reporter(NULL);
	st_cur = NULL;
	if (err != 0) {
		fprintf(stderr, "pmapstorm stress: %s\n", machine_errmsg());
		rc = err_env(err);
	}
	res->sr_seconds = (double)(cpu_now_ns() - r->r_t0) / 1e9;
	for (unsigned i = 0; i < r->r_ncpu; i++)
		res->sr_ops += r->r_cpus[i].c_ops;
	for (int k = 0; k < CHK_NORACLES; k++)
		check_totals((enum check_oracle)k, &res->sr_checks[k], &res->sr_violations[k]);
	res->sr_have_first = check_first(&res->sr_first);
	for (int k = 0; k < 5; k++) {
		const struct stats_counter *sc = stats_counter_find(stress_injected_names[k]);
		res->sr_injected[k] = sc != NULL ? stats_counter_total(sc) : 0;
	}
	if (res->sr_have_first)
		res->sr_first_s = (double)(res->sr_first.cv_t_ns - r->r_t0) / 1e9;
	goto out;
nomem:
	fprintf(stderr, "pmapstorm stress: out of host memory\n");
	rc = ENOMEM;
out:
	if (r != NULL) {
		free(r->r_cpus);
		free((void *)r->r_owned);
		free(r->r_scratch);
		free(r->r_hog);
		free(r);
	}
	machine_halt(m);
	return rc;
}
