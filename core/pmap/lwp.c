/*
 * lwp.c — execution contexts and the context switch.
 *
 * An lwp runs in one pmap.  lwp_switch() is the part of NetBSD's
 * cpu_switchto()/pmap_activate() path the model needs: deactivate the
 * outgoing lwp's pmap, make the new lwp current, activate its pmap
 * (loading its table base and PCID; see pmap_activate()).
 */
#include "pmap_impl.h"

#include <stdlib.h>

struct lwp *lwp_create(struct pmap *pm)
{
	struct lwp *l = mem_zalloc(struct lwp, 1);
	if (l == NULL)
		panic("lwp_create: out of host memory");
	pmap_reference(pm);
	l->l_pmap = pm;
	return l;
}

void lwp_destroy(struct lwp *l)
{
	if (l == NULL)
		return;
	struct cpu_info *ci = curcpu();
	KASSERTMSG(ci == NULL || ci->ci_curlwp != l, "lwp_destroy of the running lwp");
	pmap_destroy(l->l_pmap);
	free(l);
}

void lwp_switch(struct lwp *l)
{
	struct cpu_info *ci = curcpu();
	KASSERTMSG(ci != NULL, "lwp_switch on a thread that is not a CPU");
	struct lwp *old = ci->ci_curlwp;
	if (old == l)
		return;
	if (old != NULL) {
		pmap_deactivate(old);
		old->l_cpu = NULL;
	}
	ci->ci_curlwp = l;
	if (l != NULL)
		pmap_activate(l);
}

struct lwp *curlwp(void)
{
	struct cpu_info *ci = curcpu();
	return ci ? ci->ci_curlwp : NULL;
}

struct pmap *lwp_pmap(const struct lwp *l)
{
	return l->l_pmap;
}

void pmap_cpu_detach(struct cpu_info *ci)
{
	lwp_switch(NULL);
	/* the machine flushes a detaching CPU's TLB: for a lazy strategy that
	 * is a sweep, and ends the windows it timed (shootdown.coherence) */
	sd_lazy_sweep_self(ci);
	/* its free page-table pages go back to the free list (ptp.c) */
	ptp_cpu_detach(ci);
}
