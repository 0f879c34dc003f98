/*
 * lock_clh.c — CLH queue lock: each waiter spins on its predecessor's node.
 *
 * Concurrency Kit's ck_spinlock_clh (T. Craig, "Building FIFO and priority-
 * queuing spin locks from atomic swap", TR 93-02-02, U. Washington 1993;
 * Magnussen, Landin & Hagersten, IPPS 1994).  A lock owns one node (its
 * tail when free); an acquisition enqueues a node of the thread's pool and
 * on release leaves it behind, taking its predecessor's node back into the
 * pool — ck_spinlock_clh_unlock()'s recycling.  ck has no trylock for CLH:
 * the try here succeeds only by a compare-and-swap of a free tail.  The wait
 * follows ck_spinlock_clh_lock() with the model's wait.
 */
#include "lock_impl.h"

#include <stdio.h>
#include <stdlib.h>

static void clh_init(kmutex_t *m)
{
	ck_spinlock_clh_t *unowned = malloc(sizeof(*unowned));
	if (unowned == NULL) {
		fprintf(stderr, "pmapstorm: out of memory for a CLH lock node\n");
		abort();
	}
	ck_spinlock_clh_init(&m->mtx_u.ls_clh, unowned);
}

static void clh_destroy(kmutex_t *m)
{
	free(m->mtx_u.ls_clh); /* the node the lock owns */
	m->mtx_u.ls_clh = NULL;
}

static bool clh_try(kmutex_t *m)
{
	ck_spinlock_clh_t *tail = ck_pr_load_ptr(&m->mtx_u.ls_clh);
	if (ck_pr_load_uint(&tail->wait) == true)
		return false;
	ck_spinlock_clh_t *node = lock_clh_node_get();
	node->wait = true;
	node->previous = tail;
	ck_pr_fence_store_atomic();
	if (!ck_pr_cas_ptr(&m->mtx_u.ls_clh, tail, node)) {
		lock_clh_node_put(node);
		return false;
	}
	ck_pr_fence_lock();
	m->mtx_node = node;
	return true;
}

static void clh_wait(kmutex_t *m, lock_wait_fn wait)
{
	ck_spinlock_clh_t *node = lock_clh_node_get(), *previous;
	unsigned iter = 0;
	ck_pr_store_uint(&node->wait, true);
	ck_pr_fence_store_atomic();
	previous = ck_pr_fas_ptr(&m->mtx_u.ls_clh, node);
	node->previous = previous;
	while (ck_pr_load_uint(&previous->wait) == true)
		wait(&iter);
	ck_pr_fence_lock();
	m->mtx_node = node;
}

static void clh_exit(kmutex_t *m)
{
	ck_spinlock_clh_t *node = m->mtx_node;
	ck_spinlock_clh_unlock(&node); /* now points at the predecessor's node */
	lock_clh_node_put(node);
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
