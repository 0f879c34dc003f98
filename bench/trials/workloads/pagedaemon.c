/*
 * pagedaemon.c — the page daemon's second-chance scan over a working set.
 *
 * NetBSD's uvmpdpol clock: accesses mark pages referenced; the scan hand
 * clears the referenced bit (pmap_clear_reference) and gives a referenced
 * page a second chance; an unreferenced page is cleaned if modified
 * (pmap_is_modified, pmap_clear_modify), unmapped everywhere
 * (pmap_page_protect(VM_PROT_NONE)), freed, and — so the working set stays
 * the same size — faulted back in as a fresh page.  Each operation makes
 * `touch` random accesses and advances the hand by one page.
 */
#include "trials/workloads/workload.h"

#include <errno.h>
#include <stdlib.h>

static const struct wl_option pagedaemon_options[] = {
	{"pages", "64", "pages in the working set, per CPU", WO_INT, 1, 65536, NULL},
	{"touch", "4", "random accesses per scan step", WO_INT, 0, 1024, NULL},
	{NULL, NULL, NULL, 0, 0, 0, NULL},
};

struct pd_cpu {
	struct vm_page **pd_frames;
	unsigned pd_pages, pd_touch, pd_hand;
};

static int pd_init(struct wl_ctx *c)
{
	struct pd_cpu *p = mem_zalloc(struct pd_cpu, 1);
	if (p == NULL)
		return ENOMEM;
	p->pd_pages = (unsigned)wl_opt_long(c->wc_role, "pages");
	p->pd_touch = (unsigned)wl_opt_long(c->wc_role, "touch");
	p->pd_frames = mem_zalloc(struct vm_page *, p->pd_pages);
	for (unsigned i = 0; i < p->pd_pages; i++) {
		p->pd_frames[i] = wl_page();
		wl_map(c->wc_pmap, c->wc_va + ptoa(i), p->pd_frames[i], VM_PROT_READ | VM_PROT_WRITE);
	}
	pmap_update(c->wc_pmap);
	c->wc_priv = p;
	return 0;
}

static void pd_op(struct wl_ctx *c)
{
	struct pd_cpu *p = c->wc_priv;
	for (unsigned k = 0; k < p->pd_touch; k++) {
		vaddr_t va = c->wc_va + ptoa(wl_rand_below(&c->wc_rng, p->pd_pages));
		uint64_t v;
		int err = (wl_rand(&c->wc_rng) & 1) ? mmu_store(va, c->wc_ops) : mmu_load(va, &v);
		if (err != 0)
			wl_error(c->wc_role, "cpu%u: access to resident %#lx failed (%d)", c->wc_cpu, (unsigned long)va, err);
	}
	unsigned i = p->pd_hand;
	p->pd_hand = (p->pd_hand + 1) % p->pd_pages;
	struct vm_page *pg = p->pd_frames[i];
	if (pmap_clear_reference(pg))
		return; /* second chance */
	if (pmap_is_modified(pg))
		pmap_clear_modify(pg); /* "cleaned": written to backing store */
	pmap_page_protect(pg, VM_PROT_NONE);
	vaddr_t va = c->wc_va + ptoa(i);
	uint64_t v;
	if (mmu_load(va, &v) != EFAULT)
		wl_error(c->wc_role, "cpu%u: %#lx still mapped after pmap_page_protect(NONE)", c->wc_cpu, (unsigned long)va);
	uvm_pagefree(pg);
	p->pd_frames[i] = wl_page();
	wl_map(c->wc_pmap, va, p->pd_frames[i], VM_PROT_READ | VM_PROT_WRITE);
	pmap_update(c->wc_pmap);
}

static void pd_fini(struct wl_ctx *c)
{
	struct pd_cpu *p = c->wc_priv;
	pmap_remove(c->wc_pmap, c->wc_va, c->wc_va + ptoa(p->pd_pages));
	pmap_update(c->wc_pmap);
	for (unsigned i = 0; i < p->pd_pages; i++)
		uvm_pagefree(p->pd_frames[i]);
	free(p->pd_frames);
	free(p);
}

const struct workload wl_pagedaemon = {
	.wl_name = "pagedaemon",
	.wl_desc = "second-chance scan: clear_reference, is_modified/clear_modify, page_protect(NONE), free",
	.wl_options = pagedaemon_options,
	.wl_reports = "scan steps; evictions; mod/ref shootdowns",
	.wl_init = pd_init,
	.wl_op = pd_op,
	.wl_fini = pd_fini,
};
