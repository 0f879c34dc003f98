/*
 * uvm_page.c — uvm_pagealloc()/uvm_pagefree() over the machine's frames.
 *
 * NetBSD sys/uvm/uvm_page.c semantics: uvm_pagealloc() returns NULL when
 * no page is free (the caller decides to uvm_wait() or fail); only
 * UVM_PGA_USERESERVE callers may take the last reserve pages; UVM_PGA_ZERO
 * returns a zero-filled page (skipping the work when the frame is known to
 * be zero).  The free list itself is the machine's (core/machine/phys.c),
 * because the pmap takes page-table pages from it too.
 */
#include "../machine/machine_impl.h"

#include <pmapstorm/pmap.h>
#include <pmapstorm/uvm_page.h>

struct vm_page *uvm_pagealloc(struct uvm_object *obj, voff_t off, struct vm_anon *anon, int flags)
{
	struct vm_page *pg = phys_alloc(flags & UVM_PGA_USERESERVE);
	if (pg == NULL)
		return NULL;
	if ((flags & UVM_PGA_ZERO) && !(atomic_load(&pg->flags) & PG_ZERO))
		pmap_zero_page(pg->phys_addr);
	atomic_fetch_and(&pg->flags, ~(uint32_t)PG_ZERO);
	pg->uobject = obj;
	pg->offset = off;
	pg->uanon = anon;
	return pg;
}

void uvm_pagefree(struct vm_page *pg)
{
	phys_free(pg);
}

void uvm_wait(const char *wmsg)
{
	(void)wmsg;
	phys_wait();
}

uint64_t uvm_free_pages(void)
{
	return machine_cur ? atomic_load(&machine_cur->m_free_count) : 0;
}
