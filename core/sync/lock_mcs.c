/*
 * lock_mcs.c — MCS queue lock: each waiter spins on its own node.
 *
 * Concurrency Kit's ck_spinlock_mcs (Mellor-Crummey & Scott, ACM TOCS 9(1),
 * 1991, algorithm 5).  The node comes from the acquiring thread's pool and
 * stays in the lock's mtx_node while it is held.  The wait
 * follows ck_spinlock_mcs_lock() — swap ourselves in as the tail, link
 * behind the predecessor, spin on our own flag — with the model's wait in
 * place of ck_pr_stall().
 */
#include "lock_impl.h"

static void mcs_init(kmutex_t *m)
{
	ck_spinlock_mcs_init(&m->mtx_u.ls_mcs);
}

static bool mcs_try(kmutex_t *m)
{
	ck_spinlock_mcs_context_t *node = lock_mcs_node_get();
	if (ck_spinlock_mcs_trylock(&m->mtx_u.ls_mcs, node)) {
		LOCK_TSAN_ACQUIRE(m);
		m->mtx_node = node;
		return true;
	}
	lock_mcs_node_put(node);
	return false;
}

void lock_mcs_wait_behind(kmutex_t *m, ck_spinlock_mcs_context_t *node, ck_spinlock_mcs_context_t *previous,
    lock_wait_fn wait)
{
	unsigned iter = 0;
	if (previous != NULL) {
		ck_pr_store_ptr(&previous->next, node);
		while (ck_pr_load_uint(&node->locked) == true)
			wait(&iter);
	}
	ck_pr_fence_lock();
	LOCK_TSAN_ACQUIRE(m);
	m->mtx_node = node;
}

static void mcs_wait(kmutex_t *m, lock_wait_fn wait)
{
	struct ck_spinlock_mcs *node = lock_mcs_node_get(), *previous;
	node->locked = true;
	node->next = NULL;
	ck_pr_fence_store_atomic();
	previous = ck_pr_fas_ptr(&m->mtx_u.ls_mcs, node);
	lock_mcs_wait_behind(m, node, previous, wait);
}

static void mcs_exit(kmutex_t *m)
{
	ck_spinlock_mcs_context_t *node = m->mtx_node;
	LOCK_TSAN_RELEASE(m);
	ck_spinlock_mcs_unlock(&m->mtx_u.ls_mcs, node);
	lock_mcs_node_put(node);
}

const struct lock_algo lock_algo_mcs = {
	.la_info = {"mcs", "MCS queue lock: FIFO, each waiter spins on its own node (ck_spinlock_mcs)",
	    "Mellor-Crummey & Scott 1991, algorithm 5; Concurrency Kit ck_spinlock_mcs", false, false, false},
	.la_fast = LF_MCS,
	.la_init = mcs_init,
	.la_try = mcs_try,
	.la_wait = mcs_wait,
	.la_exit = mcs_exit,
};
