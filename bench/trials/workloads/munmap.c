/*
 * munmap.c — map, touch, unmap, update: the shootdown generator.
 *
 * Like will-it-scale's tlb_flush2 (threads of one process madvise()ing and
 * re-touching their own memory): each CPU enters `len` pages of its own
 * range, touches them, removes the range and calls pmap_update().  With a
 * shared pmap every other CPU running it is a shootdown target, though it
 * never touched these pages — the cost the strategies differ on.  The
 * frames are kept across operations (reused only after pmap_update()).
 *
 * `slots`: the operation maps at the next of `slots` ranges of the CPU's
 * region in turn, so a range's address is entered again only every `slots`
 * operations.  With 1 (tlb_flush2's madvise of the same page) the address
 * is reused at once, which a lazy strategy pays for (the pmap's lazy guard
 * completes its lazy work first); with many, the lazy window may close on
 * its own before the address comes back, as LATR's munmap keeps a freed
 * range from reuse for an epoch.
 *
 * `tables`: with free (the default) the ranges are all a CPU's region
 * holds, so removing a range empties its page-table pages and the pmap
 * frees them, as NetBSD's pmap_remove() frees an emptied page-table page
 * (pmap_free_ptp()), and enters them again next time: three page-table
 * pages per cycle.  With keep, one page (never touched, so never shot
 * down) stays mapped just past the ranges for the whole trial, as a
 * process's other mappings would: the tables above it are never emptied,
 * and with slots x len < 512 neither is the last-level one the ranges
 * share with it — will-it-scale's tlb_flush2 madvise()s its pages away and
 * frees no page table at all (docs/performance.md, sections 31 and 35).
 */
#include "trials/workloads/workload.h"

#include <errno.h>
#include <stdlib.h>

static const struct wl_option munmap_options[] = {
	{"len", "8", "pages mapped and removed per operation", WO_INT, 1, 4096, NULL},
	{"touch", "1", "touch each page before removing it (0: never-accessed PTEs)", WO_INT, 0, 1, NULL},
	{"slots", "1", "ranges used in turn (1: the same address every operation)", WO_INT, 1, 4096, NULL},
	{"tables", "free",
	    "free: removing a range frees the page-table pages it emptied (NetBSD); keep: a page stays mapped past "
	    "the ranges, so none above it is freed, nor the last one with slots x len < 512 (tlb_flush2)",
	    WO_ENUM, 0, 0, "free|keep"},
	{NULL, NULL, NULL, 0, 0, 0, NULL},
};

struct munmap_cpu {
	struct vm_page **mc_frames;
	struct vm_page *mc_anchor; /* tables = keep: the page mapped at mc_anchor_va */
	vaddr_t mc_anchor_va;
	unsigned mc_len, mc_slots, mc_next;
	bool mc_touch;
};

static int munmap_init(struct wl_ctx *c)
{
	struct munmap_cpu *m = mem_zalloc(struct munmap_cpu, 1);
	if (m == NULL)
		return ENOMEM;
	m->mc_len = (unsigned)wl_opt_long(c->wc_role, "len");
	m->mc_touch = wl_opt_long(c->wc_role, "touch") != 0;
	m->mc_slots = (unsigned)wl_opt_long(c->wc_role, "slots");
	const bool keep = wl_opt_is(c->wc_role, "tables", "keep");
	/* the CPU's region: 4 GiB, the anchor's page too with tables = keep */
	if ((uint64_t)m->mc_slots * m->mc_len + keep > (1ULL << 20)) {
		wl_error(c->wc_role, "munmap: slots x len = %u pages%s, more than a CPU's 4 GiB region",
		    m->mc_slots * m->mc_len, keep ? " and the page tables = keep maps past them" : "");
		free(m);
		return EINVAL;
	}
	m->mc_frames = mem_zalloc(struct vm_page *, m->mc_len);
	for (unsigned i = 0; i < m->mc_len; i++)
		m->mc_frames[i] = wl_page();
	if (keep) {
		m->mc_anchor = wl_page();
		m->mc_anchor_va = c->wc_va + ptoa((vaddr_t)m->mc_slots * m->mc_len);
		wl_map(c->wc_pmap, m->mc_anchor_va, m->mc_anchor, VM_PROT_READ);
		pmap_update(c->wc_pmap);
	}
	c->wc_priv = m;
	return 0;
}

static void munmap_op(struct wl_ctx *c)
{
	struct munmap_cpu *m = c->wc_priv;
	vaddr_t va = c->wc_va + ptoa((vaddr_t)m->mc_next * m->mc_len);
	m->mc_next = (m->mc_next + 1) % m->mc_slots;
	for (unsigned i = 0; i < m->mc_len; i++)
		wl_map(c->wc_pmap, va + ptoa(i), m->mc_frames[i], VM_PROT_READ | VM_PROT_WRITE);
	pmap_update(c->wc_pmap);
	if (m->mc_touch)
		for (unsigned i = 0; i < m->mc_len; i++)
			if (mmu_store(va + ptoa(i), c->wc_ops) != 0)
				wl_error(c->wc_role, "cpu%u: store to a fresh mapping %#lx failed", c->wc_cpu,
				    (unsigned long)(va + ptoa(i)));
	pmap_remove(c->wc_pmap, va, va + ptoa(m->mc_len));
	pmap_update(c->wc_pmap);
	uint64_t v;
	if (mmu_load(va, &v) != EFAULT)
		wl_error(c->wc_role, "cpu%u: %#lx still reachable after pmap_remove + pmap_update", c->wc_cpu,
		    (unsigned long)va);
}

static void munmap_fini(struct wl_ctx *c)
{
	struct munmap_cpu *m = c->wc_priv;
	if (m->mc_anchor != NULL) {
		pmap_remove(c->wc_pmap, m->mc_anchor_va, m->mc_anchor_va + PAGE_SIZE);
		pmap_update(c->wc_pmap);
		uvm_pagefree(m->mc_anchor);
	}
	for (unsigned i = 0; i < m->mc_len; i++)
		uvm_pagefree(m->mc_frames[i]);
	free(m->mc_frames);
	free(m);
}

const struct workload wl_munmap = {
	.wl_name = "munmap",
	.wl_desc = "enter, touch, remove a range and update (will-it-scale tlb_flush2); range length `len`",
	.wl_options = munmap_options,
	.wl_reports = "map/unmap cycles; shootdowns, IPIs and latency per cycle",
	.wl_init = munmap_init,
	.wl_op = munmap_op,
	.wl_fini = munmap_fini,
};
