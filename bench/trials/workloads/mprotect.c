/*
 * mprotect.c — write-protect a range, check, and make it writable again.
 *
 * As mprotect(PROT_READ) then mprotect(PROT_READ|PROT_WRITE) on a resident
 * range: pmap_protect(VM_PROT_READ) + pmap_update() (a downgrade: every CPU
 * that may cache a writable entry must drop it), a store that must fault,
 * then pmap_enter() of the same frames with write permission (an upgrade:
 * no shootdown needed) and a store that must succeed.
 */
#include "trials/workloads/workload.h"

#include <errno.h>
#include <stdlib.h>

static const struct wl_option mprotect_options[] = {
	{"pages", "16", "pages in the range", WO_INT, 1, 4096, NULL},
	{NULL, NULL, NULL, 0, 0, 0, NULL},
};

struct mprotect_cpu {
	struct vm_page **mp_frames;
	unsigned mp_pages;
};

static int mprotect_init(struct wl_ctx *c)
{
	struct mprotect_cpu *m = mem_zalloc(struct mprotect_cpu, 1);
	if (m == NULL)
		return ENOMEM;
	m->mp_pages = (unsigned)wl_opt_long(c->wc_role, "pages");
	m->mp_frames = mem_zalloc(struct vm_page *, m->mp_pages);
	for (unsigned i = 0; i < m->mp_pages; i++) {
		m->mp_frames[i] = wl_page();
		wl_map(c->wc_pmap, c->wc_va + ptoa(i), m->mp_frames[i], VM_PROT_READ | VM_PROT_WRITE);
	}
	pmap_update(c->wc_pmap);
	c->wc_priv = m;
	return 0;
}

static void mprotect_op(struct wl_ctx *c)
{
	struct mprotect_cpu *m = c->wc_priv;
	vaddr_t va = c->wc_va;
	unsigned i = (unsigned)wl_rand_below(&c->wc_rng, m->mp_pages);
	if (mmu_store(va + ptoa(i), c->wc_ops) != 0)
		wl_error(c->wc_role, "cpu%u: store to a writable page %#lx failed", c->wc_cpu, (unsigned long)(va + ptoa(i)));
	pmap_protect(c->wc_pmap, va, va + ptoa(m->mp_pages), VM_PROT_READ);
	pmap_update(c->wc_pmap);
	if (mmu_store(va + ptoa(i), 0) != EACCES)
		wl_error(c->wc_role, "cpu%u: store to a write-protected page %#lx did not fault", c->wc_cpu,
		    (unsigned long)(va + ptoa(i)));
	for (unsigned k = 0; k < m->mp_pages; k++)
		wl_map(c->wc_pmap, va + ptoa(k), m->mp_frames[k], VM_PROT_READ | VM_PROT_WRITE);
	pmap_update(c->wc_pmap);
}

static void mprotect_fini(struct wl_ctx *c)
{
	struct mprotect_cpu *m = c->wc_priv;
	pmap_remove(c->wc_pmap, c->wc_va, c->wc_va + ptoa(m->mp_pages));
	pmap_update(c->wc_pmap);
	for (unsigned i = 0; i < m->mp_pages; i++)
		uvm_pagefree(m->mp_frames[i]);
	free(m->mp_frames);
	free(m);
}

const struct workload wl_mprotect = {
	.wl_name = "mprotect",
	.wl_desc = "pmap_protect(READ) + update on a resident range, then re-enter it writable",
	.wl_options = mprotect_options,
	.wl_reports = "protect/unprotect cycles; downgrade shootdowns",
	.wl_init = mprotect_init,
	.wl_op = mprotect_op,
	.wl_fini = mprotect_fini,
};
