/*
 * kmem.c — multi-page kernel memory: uvm_km_alloc() and uvm_km_free().
 *
 * Each CPU keeps `hold` allocations of `pages` pages live in a ring: an
 * operation allocates one (wired or pageable, as `type` says), touches
 * every page through the MMU (faulting pageable ones in with uvm_fault),
 * and frees the oldest — uvm_km_free() unmaps it and completes a kernel
 * shootdown, which targets every CPU (the kernel pmap is active on all).
 */
#include "trials/workloads/workload.h"

#include <errno.h>
#include <stdlib.h>

#include <pmapstorm/alloc.h>
#include <pmapstorm/uvm_km.h>

static const struct wl_option kmem_options[] = {
	{"pages", "4", "pages per allocation", WO_INT, 1, 256, NULL},
	{"hold", "8", "allocations each CPU keeps live", WO_INT, 1, 1024, NULL},
	{"type", "wired", "UVM_KMF_WIRED, or UVM_KMF_PAGEABLE with faults", WO_ENUM, 0, 0, "wired|pageable"},
	{NULL, NULL, NULL, 0, 0, 0, NULL},
};

struct kmem_cpu {
	vaddr_t *km_ring;
	unsigned km_hold, km_pages, km_next;
	int km_flags;
};

static int kmem_init(struct wl_ctx *c)
{
	struct kmem_cpu *k = mem_zalloc(struct kmem_cpu, 1);
	if (k == NULL)
		return ENOMEM;
	k->km_pages = (unsigned)wl_opt_long(c->wc_role, "pages");
	k->km_hold = (unsigned)wl_opt_long(c->wc_role, "hold");
	k->km_flags = wl_opt_is(c->wc_role, "type", "wired") ? UVM_KMF_WIRED : UVM_KMF_PAGEABLE;
	k->km_ring = mem_zalloc(vaddr_t, k->km_hold);
	c->wc_priv = k;
	return 0;
}

static void kmem_op(struct wl_ctx *c)
{
	struct kmem_cpu *k = c->wc_priv;
	vsize_t size = ptoa(k->km_pages);
	vaddr_t va = uvm_km_alloc(kernel_map, size, 0, k->km_flags);
	if (va == 0) {
		wl_error(c->wc_role, "cpu%u: uvm_km_alloc of %lu bytes returned 0 without CANFAIL", c->wc_cpu,
		    (unsigned long)size);
		return;
	}
	for (unsigned i = 0; i < k->km_pages; i++) {
		vaddr_t p = va + ptoa(i);
		int err = mmu_store(p, c->wc_ops);
		if (err == EFAULT && k->km_flags == UVM_KMF_PAGEABLE) {
			/* the trap handler's part: fault the page in, retry */
			err = uvm_fault(kernel_map, p, VM_PROT_WRITE);
			if (err == 0)
				err = mmu_store(p, c->wc_ops);
		}
		if (err != 0)
			wl_error(c->wc_role, "cpu%u: store to kernel memory %#lx failed (%d)", c->wc_cpu, (unsigned long)p, err);
	}
	vaddr_t old = k->km_ring[k->km_next];
	k->km_ring[k->km_next] = va;
	k->km_next = (k->km_next + 1) % k->km_hold;
	if (old != 0)
		uvm_km_free(kernel_map, old, size, k->km_flags);
}

static void kmem_fini(struct wl_ctx *c)
{
	struct kmem_cpu *k = c->wc_priv;
	for (unsigned i = 0; i < k->km_hold; i++)
		if (k->km_ring[i] != 0)
			uvm_km_free(kernel_map, k->km_ring[i], ptoa(k->km_pages), k->km_flags);
	free(k->km_ring);
	free(k);
}

const struct workload wl_kmem = {
	.wl_name = "kmem",
	.wl_desc = "multi-page uvm_km_alloc/uvm_km_free (wired or pageable), `hold` live per CPU",
	.wl_options = kmem_options,
	.wl_reports = "allocations; kernel shootdowns (every CPU is a target)",
	.wl_kmem = true,
	.wl_init = kmem_init,
	.wl_op = kmem_op,
	.wl_fini = kmem_fini,
};
