/*
 * touch.c — memory accesses over a working set sized against TLB reach.
 *
 * The working set is `reach` × tlb.entries pages, visited sequentially,
 * uniformly at random, or with a Zipf distribution (Gray et al., "Quickly
 * generating billion-record synthetic databases", SIGMOD 1994, the skew
 * parameter theta), a `write` percent of them as stores.  With scope =
 * shared every CPU of the role touches the same frames (at the same
 * addresses); with private each has its own.  One operation is one access.
 */
#include "trials/workloads/workload.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static const struct wl_option touch_options[] = {
	{"reach", "2", "working set in units of TLB reach (tlb.entries pages)", WO_FLOAT, 0.01, 4096, NULL},
	{"pattern", "random", "visiting order", WO_ENUM, 0, 0, "seq|random|zipf"},
	{"theta", "0.99", "Zipf skew (pattern = zipf)", WO_FLOAT, 0, 3, NULL},
	{"write", "0", "percent of accesses that are stores", WO_INT, 0, 100, NULL},
	{"scope", "private", "private: pages per CPU; shared: one set for the role", WO_ENUM, 0, 0, "private|shared"},
	{NULL, NULL, NULL, 0, 0, 0, NULL},
};

struct touch_role {
	unsigned tr_pages;
	int tr_pattern; /* 0 seq, 1 random, 2 zipf */
	unsigned tr_write;
	bool tr_shared;
	struct vm_page **tr_frames; /* shared scope */
	double *tr_cdf;             /* zipf */
};

struct touch_cpu {
	struct vm_page **tc_frames; /* private scope */
	vaddr_t tc_base;
	unsigned tc_next;
};

static int touch_role_init(struct wl_role *r)
{
	struct touch_role *t = mem_zalloc(struct touch_role, 1);
	if (t == NULL)
		return ENOMEM;
	t->tr_pages = (unsigned)ceil(wl_opt_double(r, "reach") * r->wr_cfg->mc_tlb_entries);
	if (t->tr_pages == 0)
		t->tr_pages = 1;
	t->tr_pattern = wl_opt_is(r, "pattern", "seq") ? 0 : wl_opt_is(r, "pattern", "random") ? 1 : 2;
	t->tr_write = (unsigned)wl_opt_long(r, "write");
	t->tr_shared = wl_opt_is(r, "scope", "shared");
	if (t->tr_pattern == 2) {
		t->tr_cdf = mem_alloc(double, t->tr_pages);
		double theta = wl_opt_double(r, "theta"), sum = 0;
		for (unsigned i = 0; i < t->tr_pages; i++)
			sum += 1.0 / pow(i + 1, theta);
		double acc = 0;
		for (unsigned i = 0; i < t->tr_pages; i++) {
			acc += 1.0 / pow(i + 1, theta) / sum;
			t->tr_cdf[i] = acc;
		}
	}
	if (t->tr_shared) {
		t->tr_frames = mem_zalloc(struct vm_page *, t->tr_pages);
		for (unsigned i = 0; i < t->tr_pages; i++) {
			t->tr_frames[i] = wl_page();
			if (r->wr_pmap != NULL)
				wl_map(r->wr_pmap, r->wr_va + ptoa(i), t->tr_frames[i], VM_PROT_READ | VM_PROT_WRITE);
		}
		if (r->wr_pmap != NULL)
			pmap_update(r->wr_pmap);
	}
	r->wr_priv = t;
	return 0;
}

static void touch_role_fini(struct wl_role *r)
{
	struct touch_role *t = r->wr_priv;
	if (t->tr_shared) {
		if (r->wr_pmap != NULL) {
			pmap_remove(r->wr_pmap, r->wr_va, r->wr_va + ptoa(t->tr_pages));
			pmap_update(r->wr_pmap);
		}
		for (unsigned i = 0; i < t->tr_pages; i++)
			uvm_pagefree(t->tr_frames[i]);
		free(t->tr_frames);
	}
	free(t->tr_cdf);
	free(t);
}

static int touch_init(struct wl_ctx *c)
{
	struct wl_role *r = c->wc_role;
	struct touch_role *t = r->wr_priv;
	struct touch_cpu *tc = mem_zalloc(struct touch_cpu, 1);
	if (tc == NULL)
		return ENOMEM;
	if (t->tr_shared) {
		tc->tc_base = r->wr_va;
		if (r->wr_pmap == NULL) /* private pmaps: map the shared frames into mine */
			for (unsigned i = 0; i < t->tr_pages; i++)
				wl_map(c->wc_pmap, tc->tc_base + ptoa(i), t->tr_frames[i], VM_PROT_READ | VM_PROT_WRITE);
	} else {
		tc->tc_base = c->wc_va;
		tc->tc_frames = mem_zalloc(struct vm_page *, t->tr_pages);
		for (unsigned i = 0; i < t->tr_pages; i++) {
			tc->tc_frames[i] = wl_page();
			wl_map(c->wc_pmap, tc->tc_base + ptoa(i), tc->tc_frames[i], VM_PROT_READ | VM_PROT_WRITE);
		}
	}
	pmap_update(c->wc_pmap);
	c->wc_priv = tc;
	return 0;
}

static void touch_op(struct wl_ctx *c)
{
	struct touch_role *t = c->wc_role->wr_priv;
	struct touch_cpu *tc = c->wc_priv;
	unsigned i;
	if (t->tr_pattern == 0) {
		i = tc->tc_next++;
		if (tc->tc_next == t->tr_pages)
			tc->tc_next = 0;
	} else if (t->tr_pattern == 1) {
		i = (unsigned)wl_rand_below(&c->wc_rng, t->tr_pages);
	} else {
		double u = (double)(wl_rand(&c->wc_rng) >> 11) * (1.0 / 9007199254740992.0);
		unsigned lo = 0, hi = t->tr_pages - 1;
		while (lo < hi) {
			unsigned mid = (lo + hi) / 2;
			if (t->tr_cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		i = lo;
	}
	vaddr_t va = tc->tc_base + ptoa(i) + ((wl_rand(&c->wc_rng) & 511) << 3);
	int err;
	if (t->tr_write > 0 && wl_rand_below(&c->wc_rng, 100) < t->tr_write)
		err = mmu_store(va, c->wc_ops);
	else {
		uint64_t v;
		err = mmu_load(va, &v);
	}
	if (err != 0)
		wl_error(c->wc_role, "cpu%u: access to %#lx failed (%d) in a mapped working set", c->wc_cpu,
		    (unsigned long)va, err);
}

static void touch_fini(struct wl_ctx *c)
{
	struct touch_role *t = c->wc_role->wr_priv;
	struct touch_cpu *tc = c->wc_priv;
	if (!t->tr_shared || c->wc_role->wr_pmap == NULL) {
		pmap_remove(c->wc_pmap, tc->tc_base, tc->tc_base + ptoa(t->tr_pages));
		pmap_update(c->wc_pmap);
	}
	if (!t->tr_shared) {
		for (unsigned i = 0; i < t->tr_pages; i++)
			uvm_pagefree(tc->tc_frames[i]);
		free(tc->tc_frames);
	}
	free(tc);
}

const struct workload wl_touch = {
	.wl_name = "touch",
	.wl_desc = "loads and stores over a working set sized in TLB reach (sequential, random or Zipf)",
	.wl_options = touch_options,
	.wl_reports = "accesses; TLB hits, misses and walks per access",
	.wl_role_init = touch_role_init,
	.wl_role_fini = touch_role_fini,
	.wl_init = touch_init,
	.wl_op = touch_op,
	.wl_fini = touch_fini,
};
