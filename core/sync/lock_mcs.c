/*
 * lock_mcs.c — MCS queue lock: each waiter spins on its own node.
 *
 * Concurrency Kit's ck_spinlock_mcs (Mellor-Crummey & Scott, ACM TOCS 9(1),
 * 1991, algorithm 5).  The node lives in the holder's per-thread held-lock
 * slot (lock_impl.h), which does not move while the lock is held.  The wait
 * follows ck_spinlock_mcs_lock() — swap ourselves in as the tail, link
 * behind the predecessor, spin on our own flag — with the model's wait in
 * place of ck_pr_stall().
 */
#include "lock_impl.h"

static void mcs_init(kmutex_t *m)
{
	ck_spinlock_mcs_init(&m->mtx_u.ls_mcs);
}

static bool mcs_try(kmutex_t *m, struct lock_held *h)
{
	return ck_spinlock_mcs_trylock(&m->mtx_u.ls_mcs, &h->lh_node.mcs);
}

static void mcs_wait(kmutex_t *m, struct lock_held *h, lock_wait_fn wait)
{
	struct ck_spinlock_mcs *node = &h->lh_node.mcs, *previous;
	unsigned iter = 0;
	node->locked = true;
	node->next = NULL;
	ck_pr_fence_store_atomic();
	previous = ck_pr_fas_ptr(&m->mtx_u.ls_mcs, node);
	if (previous != NULL) {
		ck_pr_store_ptr(&previous->next, node);
		while (ck_pr_load_uint(&node->locked) == true)
			wait(&iter);
	}
	ck_pr_fence_lock();
}

static void mcs_exit(kmutex_t *m, struct lock_held *h)
{
	ck_spinlock_mcs_unlock(&m->mtx_u.ls_mcs, &h->lh_node.mcs);
}

const struct lock_algo lock_algo_mcs = {
	.la_info = {"mcs", "MCS queue lock: FIFO, each waiter spins on its own node (ck_spinlock_mcs)",
	    "Mellor-Crummey & Scott 1991, algorithm 5; Concurrency Kit ck_spinlock_mcs", false, false, false},
	.la_init = mcs_init,
	.la_try = mcs_try,
	.la_wait = mcs_wait,
	.la_exit = mcs_exit,
};
