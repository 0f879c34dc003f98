/*
 * ctxswitch.c — several address spaces per CPU, switched between.
 *
 * Each CPU owns `lwps` lwps, each in its own pmap with `pages` resident
 * pages.  An operation switches to the next lwp (lwp_switch: pmap_deactivate
 * and pmap_activate — with mmu.pcid = off a flush of non-global entries)
 * and touches that lwp's pages, which then hit or miss depending on whether
 * the TLB kept their PCID-tagged entries.
 */
#include "trials/workloads/workload.h"

#include <errno.h>
#include <stdlib.h>

static const struct wl_option ctxswitch_options[] = {
	{"lwps", "4", "lwps (each with its own pmap) per CPU", WO_INT, 1, 64, NULL},
	{"pages", "4", "resident pages per lwp, touched after each switch", WO_INT, 1, 1024, NULL},
	{NULL, NULL, NULL, 0, 0, 0, NULL},
};

struct cs_cpu {
	unsigned cs_n, cs_pages, cs_cur;
	struct lwp **cs_lwps;
	pmap_t *cs_pmaps;
	struct vm_page **cs_frames;
	struct lwp *cs_home;
};

static int cs_init(struct wl_ctx *c)
{
	struct cs_cpu *s = mem_zalloc(struct cs_cpu, 1);
	if (s == NULL)
		return ENOMEM;
	s->cs_n = (unsigned)wl_opt_long(c->wc_role, "lwps");
	s->cs_pages = (unsigned)wl_opt_long(c->wc_role, "pages");
	s->cs_lwps = mem_zalloc(struct lwp *, s->cs_n);
	s->cs_pmaps = mem_zalloc(pmap_t, s->cs_n);
	s->cs_frames = mem_zalloc(struct vm_page *, (size_t)s->cs_n * s->cs_pages);
	s->cs_home = curlwp();
	for (unsigned l = 0; l < s->cs_n; l++) {
		s->cs_pmaps[l] = pmap_create();
		s->cs_lwps[l] = lwp_create(s->cs_pmaps[l]);
		for (unsigned i = 0; i < s->cs_pages; i++) {
			struct vm_page *pg = wl_page();
			s->cs_frames[l * s->cs_pages + i] = pg;
			wl_map(s->cs_pmaps[l], c->wc_va + ptoa(i), pg, VM_PROT_READ | VM_PROT_WRITE);
		}
		pmap_update(s->cs_pmaps[l]);
	}
	c->wc_priv = s;
	return 0;
}

static void cs_op(struct wl_ctx *c)
{
	struct cs_cpu *s = c->wc_priv;
	s->cs_cur = (s->cs_cur + 1) % s->cs_n;
	lwp_switch(s->cs_lwps[s->cs_cur]);
	for (unsigned i = 0; i < s->cs_pages; i++) {
		uint64_t v;
		if (mmu_load(c->wc_va + ptoa(i), &v) != 0)
			wl_error(c->wc_role, "cpu%u: lwp %u: resident page %u faulted", c->wc_cpu, s->cs_cur, i);
	}
}

static void cs_fini(struct wl_ctx *c)
{
	struct cs_cpu *s = c->wc_priv;
	lwp_switch(s->cs_home);
	for (unsigned l = 0; l < s->cs_n; l++) {
		pmap_remove(s->cs_pmaps[l], c->wc_va, c->wc_va + ptoa(s->cs_pages));
		pmap_update(s->cs_pmaps[l]);
		lwp_destroy(s->cs_lwps[l]);
		pmap_destroy(s->cs_pmaps[l]);
	}
	for (unsigned i = 0; i < s->cs_n * s->cs_pages; i++)
		uvm_pagefree(s->cs_frames[i]);
	free(s->cs_frames);
	free(s->cs_pmaps);
	free(s->cs_lwps);
	free(s);
}

const struct workload wl_ctxswitch = {
	.wl_name = "ctxswitch",
	.wl_desc = "several lwps and pmaps per CPU: switch, then touch the new address space",
	.wl_options = ctxswitch_options,
	.wl_reports = "switches; TLB misses after a switch (PCID on/off)",
	.wl_init = cs_init,
	.wl_op = cs_op,
	.wl_fini = cs_fini,
};
