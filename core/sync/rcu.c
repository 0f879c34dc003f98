/*
 * rcu.c — RCU glue over liburcu's QSBR flavour (urcu/urcu-qsbr.h).
 *
 * QSBR (quiescent-state-based reclamation, McKenney & Slingwine 1998;
 * Desnoyers et al., "User-Level Implementations of Read-Copy Update",
 * IEEE TPDS 2012) has read-side critical sections that cost nothing: the
 * simulated CPUs announce a quiescent state at every interrupt point, which
 * is exactly where the hardware walker holds no page-table pointer.
 * sync_rcu_defer() hands a callback to call_rcu(); liburcu's worker thread
 * runs it after every registered CPU has passed an interrupt point.  That
 * worker is a host thread outside the simulated CPUs, so the model's core
 * defers nothing through it: page-table pages are reclaimed by the CPUs
 * themselves (core/pmap/ptp.c, which says why).  This stays for an
 * embedder's own read-mostly data.  With machine.engine = virtual the
 * machine takes the deferrals over (sync_set_defer): its callbacks run on
 * simulated CPUs, at interrupt points, never on liburcu's worker.
 */
#define _LGPL_SOURCE 1
#include <pmapstorm/alloc.h>
#include <pmapstorm/lock.h>

#include <stdio.h>
#include <stdlib.h>

#include <urcu-qsbr.h>
#include <urcu/compiler.h>

struct rcu_deferred {
	struct rcu_head rd_head;
	void (*rd_fn)(void *);
	void *rd_arg;
};

void sync_rcu_register(void)
{
	urcu_qsbr_register_thread();
}

void sync_rcu_unregister(void)
{
	urcu_qsbr_unregister_thread();
}

void sync_rcu_quiescent(void)
{
	urcu_qsbr_quiescent_state();
}

static void rcu_deferred_run(struct rcu_head *h)
{
	struct rcu_deferred *d = caa_container_of(h, struct rcu_deferred, rd_head);
	d->rd_fn(d->rd_arg);
	free(d);
}

static void (*_Atomic defer_hook)(void (*)(void *), void *);

void sync_set_defer(void (*defer)(void (*fn)(void *), void *arg))
{
	atomic_store(&defer_hook, defer);
}

/* => the caller is a registered, online reader (an attached CPU) */
void sync_rcu_defer(void (*fn)(void *), void *arg)
{
	void (*hook)(void (*)(void *), void *) = atomic_load(&defer_hook);
	if (hook != NULL) {
		hook(fn, arg); /* the machine's own grace periods (virtual engine) */
		return;
	}
	struct rcu_deferred *d = mem_alloc(struct rcu_deferred, 1);
	if (d == NULL) {
		/* no memory for the record: wait out a grace period instead */
		urcu_qsbr_thread_offline();
		urcu_qsbr_synchronize_rcu();
		urcu_qsbr_thread_online();
		fn(arg);
		return;
	}
	d->rd_fn = fn;
	d->rd_arg = arg;
	urcu_qsbr_call_rcu(&d->rd_head, rcu_deferred_run);
}

/* => not from an attached CPU (it would hold up the grace period) */
void sync_rcu_barrier(void)
{
	urcu_qsbr_barrier();
}
