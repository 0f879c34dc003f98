/*
 * lock_clh.c — CLH queue lock: each waiter spins on its predecessor's node.
 *
 * Concurrency Kit's ck_spinlock_clh (T. Craig, "Building FIFO and priority-
 * queuing spin locks from atomic swap", TR 93-02-02, U. Washington 1993;
 * Magnussen, Landin & Hagersten, IPPS 1994).  A lock owns one node (its
 * tail when free); an acquisition enqueues a node of the thread's pool and
 * on release leaves it behind, taking its predecessor's node back into the
 * pool — ck_spinlock_clh_unlock()'s recycling.  The wait follows
 * ck_spinlock_clh_lock() with the model's wait.
 *
 * ck has no trylock for CLH, for a reason: a try that swaps the tail only
 * if the tail's node is free suffers ABA, because nodes are recycled — the
 * tail seen free may be released, re-enqueued by its owner and held again
 * by the time the swap succeeds.  mutex_tryenter() (pmap_page_protect's
 * lock-order dance needs it) therefore uses a count of holders and waiters
 * beside the queue: every acquisition adds one before it enqueues, every
 * release subtracts one after it hands over, and a try succeeds only by
 * moving the count from 0 to 1 — then nobody is queued and the enqueue
 * that follows finds a free predecessor.  The count is one shared word
 * touched twice per acquisition, which the pure CLH lock avoids: that is
 * the price of a non-blocking try.
 */
#include "lock_impl.h"

#include <stdio.h>
#include <stdlib.h>

static void clh_init(kmutex_t *m)
{
	ck_spinlock_clh_t *unowned = mem_alloc(ck_spinlock_clh_t, 1);
	if (unowned == NULL) {
		fprintf(stderr, "pmapstorm: out of memory for a CLH lock node\n");
		abort();
	}
	ck_spinlock_clh_init(&m->mtx_u.ls_clh.tail, unowned);
	m->mtx_u.ls_clh.busy = 0;
}

static void clh_destroy(kmutex_t *m)
{
	free(m->mtx_u.ls_clh.tail); /* the node the lock owns */
	m->mtx_u.ls_clh.tail = NULL;
}

/* enqueue and wait behind the predecessor; => the caller counted itself in busy */
static void clh_enqueue(kmutex_t *m, lock_wait_fn wait)
{
	ck_spinlock_clh_t *node = lock_clh_node_get(), *previous;
	unsigned iter = 0;
	ck_pr_store_uint(&node->wait, true);
	ck_pr_fence_store_atomic();
	previous = ck_pr_fas_ptr(&m->mtx_u.ls_clh.tail, node);
	node->previous = previous;
	while (ck_pr_load_uint(&previous->wait) == true)
		wait(&iter);
	ck_pr_fence_lock();
	LOCK_TSAN_ACQUIRE(m);
	m->mtx_node = node;
}

static bool clh_try(kmutex_t *m)
{
	if (!ck_pr_cas_uint(&m->mtx_u.ls_clh.busy, 0, 1))
		return false;
	clh_enqueue(m, lock_wait_spin); /* the queue is empty: no wait */
	return true;
}

static void clh_wait(kmutex_t *m, lock_wait_fn wait)
{
	ck_pr_inc_uint(&m->mtx_u.ls_clh.busy);
	clh_enqueue(m, wait);
}

/* ck_spinlock_clh_unlock(), step for step, with the release edge for
 * ThreadSanitizer between its read of our node and its releasing store */
static void clh_exit(kmutex_t *m)
{
	ck_spinlock_clh_t *node = m->mtx_node;
	ck_spinlock_clh_t *previous = node->previous; /* ours from now: the pool's */
	LOCK_TSAN_RELEASE(m);
	ck_pr_fence_unlock();
	ck_pr_store_uint(&node->wait, false);
	ck_pr_dec_uint(&m->mtx_u.ls_clh.busy);
	lock_clh_node_put(previous);
}

const struct lock_algo lock_algo_clh = {
	.la_info = {"clh", "CLH queue lock: FIFO, each waiter spins on its predecessor's node (ck_spinlock_clh)",
	    "Craig 1993; Magnussen, Landin & Hagersten 1994; Concurrency Kit ck_spinlock_clh", false, false, false},
	.la_init = clh_init,
	.la_destroy = clh_destroy,
	.la_try = clh_try,
	.la_wait = clh_wait,
	.la_exit = clh_exit,
};
