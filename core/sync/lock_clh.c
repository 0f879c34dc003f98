/*
 * lock_clh.c — CLH queue lock: each waiter spins on its predecessor's node,
 * with a non-blocking try by abandonment.
 *
 * The lock is ck_spinlock_clh's (T. Craig, "Building FIFO and priority-
 * queuing spin locks from atomic swap", TR 93-02-02, U. Washington 1993;
 * Magnussen, Landin & Hagersten, IPPS 1994): an acquisition swaps a node of
 * the thread's pool in as the queue's tail and waits until its predecessor's
 * node says available; a release marks its own node available and takes the
 * predecessor's node back into the pool.
 *
 * ck has no trylock for CLH, for a reason: a try that swaps the tail only if
 * the tail's node is free suffers ABA, because nodes are recycled.  The
 * model's first answer was a count of holders and waiters beside the queue
 * (a try moved it from 0 to 1): two more atomic RMWs on every acquisition,
 * four times the cost of ck's lock (issue 17).  The try here is instead the
 * timeout-0 case of Scott & Scherer's CLH-try ("Scalable queue-based spin
 * locks with timeout", PPoPP 2001, section 3): it enqueues like any
 * acquisition, and if the predecessor has not released, it abandons its
 * node by storing the predecessor's address in it.  Whoever is (or becomes)
 * the node's successor finds an address instead of available/waiting,
 * takes the abandoned node into its own pool and waits on that predecessor
 * instead.  The uncontended path is then ck's, step for step: one swap to
 * acquire, one store to release (pmapstorm/lock.h inlines both).
 *
 * Nodes move between threads' pools (a thread that abandons loses its node
 * to its successor), so a pool keeps at most LOCK_CLH_POOL_MAX nodes and
 * frees the rest (lock.c); a lock owns one node while free (its tail,
 * available), freed with the lock together with any abandoned nodes still
 * in front of it.
 *
 * Memory ordering (C11 atomics, which ThreadSanitizer sees): a node's state
 * is set to waiting (relaxed) before the swap publishes it (acq_rel swap);
 * a holder's release store of available pairs with its successor's acquire
 * load; an abandoning store is a release, so the successor's acquire load
 * of it sees the predecessor's address and the node it points to.
 */
#include "lock_impl.h"

#include <stdlib.h>

static void clh_init(kmutex_t *m)
{
	atomic_store_explicit(&m->mtx_u.ls_clh, lock_clh_node_alloc(), memory_order_relaxed);
}

static void clh_destroy(kmutex_t *m)
{
	/* the lock is free: its tail is available, or abandoned nodes lead to
	 * the available one */
	struct lock_clh_node *n = atomic_load_explicit(&m->mtx_u.ls_clh, memory_order_acquire);
	while (n != NULL) {
		uintptr_t st = atomic_load_explicit(&n->cn_state, memory_order_acquire);
		free(n);
		n = st > LOCK_CLH_WAITING ? (struct lock_clh_node *)st : NULL;
	}
	atomic_store_explicit(&m->mtx_u.ls_clh, NULL, memory_order_relaxed);
}

/*
 * Enqueue a node and look at (or wait for) the predecessor; try: abandon
 * the node rather than wait.  Abandoned predecessors on the way are taken
 * into this thread's pool.  => true when the lock is held
 */
static bool clh_enqueue(kmutex_t *m, lock_wait_fn wait, bool try)
{
	struct lock_clh_node *n = lock_clh_node_get(), *p;
	unsigned iter = 0;
	atomic_store_explicit(&n->cn_state, LOCK_CLH_WAITING, memory_order_relaxed);
	p = atomic_exchange_explicit(&m->mtx_u.ls_clh, n, memory_order_acq_rel);
	for (;;) {
		uintptr_t st = atomic_load_explicit(&p->cn_state, memory_order_acquire);
		if (st == LOCK_CLH_AVAILABLE)
			break;
		if (st != LOCK_CLH_WAITING) {
			/* abandoned: its owner left; nobody but us will look at
			 * it again, and we wait behind its predecessor */
			lock_clh_node_put(p);
			p = (struct lock_clh_node *)st;
			continue;
		}
		if (try) {
			atomic_store_explicit(&n->cn_state, (uintptr_t)p, memory_order_release);
			return false;
		}
		wait(&iter);
	}
	LOCK_TSAN_ACQUIRE(m);
	n->cn_prev = p;
	m->mtx_node = n;
	return true;
}

static bool clh_try(kmutex_t *m)
{
	return clh_enqueue(m, lock_wait_spin, true);
}

static void clh_wait(kmutex_t *m, lock_wait_fn wait)
{
	clh_enqueue(m, wait, false);
}

/* as the inline release (pmapstorm/lock.h), with the release edge for
 * ThreadSanitizer between its last read of the node and the store */
static void clh_exit(kmutex_t *m)
{
	struct lock_clh_node *n = m->mtx_node, *p = n->cn_prev;
	LOCK_TSAN_RELEASE(m);
	atomic_store_explicit(&n->cn_state, LOCK_CLH_AVAILABLE, memory_order_release);
	lock_clh_node_put(p);
}

const struct lock_algo lock_algo_clh = {
	.la_info = {"clh", "CLH queue lock: FIFO, each waiter spins on its predecessor's node; try by abandonment",
	    "Craig 1993; Magnussen, Landin & Hagersten 1994; Scott & Scherer 2001 (CLH-try); after ck_spinlock_clh",
	    false, false, false},
	.la_fast = LF_CLH,
	.la_init = clh_init,
	.la_destroy = clh_destroy,
	.la_try = clh_try,
	.la_wait = clh_wait,
	.la_exit = clh_exit,
};
