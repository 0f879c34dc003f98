/*
 * cow.c — copy-on-write: write-protect a page everywhere, fault, copy.
 *
 * The uvm fork/COW path: pmap_page_protect(pg, VM_PROT_READ) lowers every
 * mapping of the page (synchronous), a store then faults (EACCES), and the
 * "fault handler" copies the page (pmap_copy_page) into a new frame,
 * enters it writable at the same address (pmap_enter over the old mapping:
 * a frame change, whose invalidation pmap_update() completes) and frees the
 * old frame only after that update.  The copy is checked.
 */
#include "trials/workloads/workload.h"

#include <errno.h>
#include <stdlib.h>

static const struct wl_option cow_options[] = {
	{"pages", "16", "pages per CPU", WO_INT, 1, 4096, NULL},
	{NULL, NULL, NULL, 0, 0, 0, NULL},
};

struct cow_cpu {
	struct vm_page **cc_frames;
	unsigned cc_pages;
};

static int cow_init(struct wl_ctx *c)
{
	struct cow_cpu *w = mem_zalloc(struct cow_cpu, 1);
	if (w == NULL)
		return ENOMEM;
	w->cc_pages = (unsigned)wl_opt_long(c->wc_role, "pages");
	w->cc_frames = mem_zalloc(struct vm_page *, w->cc_pages);
	for (unsigned i = 0; i < w->cc_pages; i++) {
		w->cc_frames[i] = wl_page();
		wl_map(c->wc_pmap, c->wc_va + ptoa(i), w->cc_frames[i], VM_PROT_READ | VM_PROT_WRITE);
	}
	pmap_update(c->wc_pmap);
	c->wc_priv = w;
	return 0;
}

static void cow_op(struct wl_ctx *c)
{
	struct cow_cpu *w = c->wc_priv;
	unsigned i = (unsigned)wl_rand_below(&c->wc_rng, w->cc_pages);
	vaddr_t va = c->wc_va + ptoa(i);
	uint64_t stamp = ((uint64_t)c->wc_cpu << 48) | c->wc_ops, v = 0;
	if (mmu_store(va, stamp) != 0)
		wl_error(c->wc_role, "cpu%u: store to %#lx failed", c->wc_cpu, (unsigned long)va);
	pmap_page_protect(w->cc_frames[i], VM_PROT_READ);
	if (mmu_store(va + 8, 1) != EACCES)
		wl_error(c->wc_role, "cpu%u: store after pmap_page_protect(READ) did not fault", c->wc_cpu);
	struct vm_page *old = w->cc_frames[i], *new_ = wl_page();
	pmap_copy_page(VM_PAGE_TO_PHYS(old), VM_PAGE_TO_PHYS(new_));
	wl_map(c->wc_pmap, va, new_, VM_PROT_READ | VM_PROT_WRITE);
	pmap_update(c->wc_pmap); /* the old frame's translation is gone everywhere */
	uvm_pagefree(old);
	w->cc_frames[i] = new_;
	if (mmu_load(va, &v) != 0 || v != stamp)
		wl_error(c->wc_role, "cpu%u: copied page at %#lx reads %#lx, wrote %#lx", c->wc_cpu, (unsigned long)va,
		    (unsigned long)v, (unsigned long)stamp);
	if (mmu_store(va + 8, 2) != 0)
		wl_error(c->wc_role, "cpu%u: store to the copy at %#lx failed", c->wc_cpu, (unsigned long)va);
}

static void cow_fini(struct wl_ctx *c)
{
	struct cow_cpu *w = c->wc_priv;
	pmap_remove(c->wc_pmap, c->wc_va, c->wc_va + ptoa(w->cc_pages));
	pmap_update(c->wc_pmap);
	for (unsigned i = 0; i < w->cc_pages; i++)
		uvm_pagefree(w->cc_frames[i]);
	free(w->cc_frames);
	free(w);
}

const struct workload wl_cow = {
	.wl_name = "cow",
	.wl_desc = "copy-on-write: pmap_page_protect(READ), write fault, copy to a new frame, re-enter",
	.wl_options = cow_options,
	.wl_reports = "COW faults; page_protect shootdowns",
	.wl_init = cow_init,
	.wl_op = cow_op,
	.wl_fini = cow_fini,
};
