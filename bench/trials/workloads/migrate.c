/*
 * migrate.c — page migration under readers: one CPU moves pages to new
 * frames while the rest of the role reads them.
 *
 * What NUMA balancing and compaction do in a kernel (Linux mm/migrate.c,
 * NetBSD's uvm_pglistalloc-driven moves): copy the page to a new frame,
 * point the PTE at the new frame (pmap_enter over the old mapping), and
 * free the old frame only after pmap_update() has taken the old
 * translation out of every TLB.  The role's first CPU migrates; every
 * other CPU of the role reads random pages of the same shared set through
 * its TLB, so every migration must shoot down the readers' entries.
 *
 * Each page carries its own tag; a reader that sees another value read a
 * frame the page no longer lives in (a stale translation to a freed, maybe
 * reused frame) and counts an error.  A stale entry to a freed frame that
 * still holds the old bytes is invisible here, but not to the `frame`
 * oracle of `check = on` — together they make `run` catch a broken
 * strategy, which no other workload does as directly.
 *
 * Races: the frame array is the migrator's alone; readers reach pages
 * only through mmu_load(), as hardware would.
 */
#include "trials/workloads/workload.h"

#include <errno.h>
#include <stdlib.h>

static const struct wl_option migrate_options[] = {
	{"pages", "16", "pages in the shared set the role reads and CPU 0 of the role migrates", WO_INT, 1, 4096, NULL},
	{NULL, NULL, NULL, 0, 0, 0, NULL},
};

#define MIGRATE_TAG(i) (0x6d696772ULL << 32 | (uint64_t)(i)) /* "migr" : page index */

struct migrate_role {
	struct vm_page **mr_frames;
	unsigned mr_pages;
};

static int migrate_role_init(struct wl_role *r)
{
	if (r->wr_pmap == NULL) {
		wl_error(r, "migrate: the role needs one shared pmap (pmap = shared or a name), not private ones");
		return EINVAL;
	}
	struct migrate_role *m = mem_zalloc(struct migrate_role, 1);
	if (m == NULL)
		return ENOMEM;
	m->mr_pages = (unsigned)wl_opt_long(r, "pages");
	m->mr_frames = mem_zalloc(struct vm_page *, m->mr_pages);
	if (m->mr_frames == NULL) {
		free(m);
		return ENOMEM;
	}
	for (unsigned i = 0; i < m->mr_pages; i++) {
		m->mr_frames[i] = wl_page();
		uint64_t *p = machine_phys(VM_PAGE_TO_PHYS(m->mr_frames[i]));
		atomic_store_explicit((_Atomic uint64_t *)p, MIGRATE_TAG(i), memory_order_relaxed);
		wl_map(r->wr_pmap, r->wr_va + ptoa(i), m->mr_frames[i], VM_PROT_READ | VM_PROT_WRITE);
	}
	pmap_update(r->wr_pmap);
	r->wr_priv = m;
	return 0;
}

static void migrate_op(struct wl_ctx *c)
{
	struct wl_role *r = c->wc_role;
	struct migrate_role *m = r->wr_priv;
	unsigned i = (unsigned)wl_rand_below(&c->wc_rng, m->mr_pages);
	vaddr_t va = r->wr_va + ptoa(i);
	if (c->wc_index == 0) {
		struct vm_page *old = m->mr_frames[i], *new_ = wl_page();
		pmap_copy_page(VM_PAGE_TO_PHYS(old), VM_PAGE_TO_PHYS(new_));
		wl_map(r->wr_pmap, va, new_, VM_PROT_READ | VM_PROT_WRITE); /* a frame change */
		pmap_update(r->wr_pmap); /* no TLB may reach the old frame after this */
		uvm_pagefree(old);
		m->mr_frames[i] = new_;
		return;
	}
	uint64_t v = 0;
	int e;
	/* the PTE may be between frames (pmap_enter over a mapping is not one
	 * atomic swap): a fault, which a kernel's handler waits out */
	for (unsigned iter = 0; (e = mmu_load(va, &v)) == EFAULT;)
		cpu_spin_wait(&iter);
	if (e != 0 || v != MIGRATE_TAG(i))
		wl_error(r, "cpu%u: page %u at %#lx reads %#lx (error %d), not its tag %#lx: a stale translation",
		    c->wc_cpu, i, (unsigned long)va, (unsigned long)v, e, (unsigned long)MIGRATE_TAG(i));
}

static void migrate_role_fini(struct wl_role *r)
{
	struct migrate_role *m = r->wr_priv;
	if (m == NULL)
		return;
	pmap_remove(r->wr_pmap, r->wr_va, r->wr_va + ptoa(m->mr_pages));
	pmap_update(r->wr_pmap);
	for (unsigned i = 0; i < m->mr_pages; i++)
		uvm_pagefree(m->mr_frames[i]);
	free(m->mr_frames);
	free(m);
	r->wr_priv = NULL;
}

const struct workload wl_migrate = {
	.wl_name = "migrate",
	.wl_desc = "page migration: CPU 0 of the role moves shared pages to new frames while the others read them "
	    "(one pmap for the role: pmap = shared or a name)",
	.wl_options = migrate_options,
	.wl_reports = "migrations and reads; shootdowns per migration; reads of a stale frame (errors)",
	.wl_shared_pmap = true,
	.wl_role_init = migrate_role_init,
	.wl_op = migrate_op,
	.wl_role_fini = migrate_role_fini,
};
