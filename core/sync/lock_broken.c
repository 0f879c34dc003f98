/*
 * lock_broken.c — a deliberately broken lock, for the validators.
 *
 * Its try checks the word and then sets it with two separate operations
 * (a check-then-act race) and its wait does not wait: two CPUs can both
 * "hold" it.  It exists so the mutual-exclusion validators can show they
 * catch a broken lock; it runs only when unsafe variants are allowed
 * (locks.allow_unsafe = yes) and is listed apart.
 */
#include "lock_impl.h"

static void broken_init(kmutex_t *m)
{
	atomic_store(&m->mtx_u.ls_word, 0);
}

static bool broken_try(kmutex_t *m)
{
	if (atomic_load_explicit(&m->mtx_u.ls_word, memory_order_relaxed) != 0)
		return false;
	atomic_store_explicit(&m->mtx_u.ls_word, 1, memory_order_relaxed); /* not atomic with the test */
	return true;
}

static void broken_wait(kmutex_t *m, lock_wait_fn wait)
{
	unsigned iter = 0;
	wait(&iter); /* a gesture at waiting; then barges in */
	atomic_store_explicit(&m->mtx_u.ls_word, 1, memory_order_relaxed);
}

static void broken_exit(kmutex_t *m)
{
	atomic_store_explicit(&m->mtx_u.ls_word, 0, memory_order_relaxed);
}

const struct lock_algo lock_algo_broken = {
	.la_info = {"broken", "MUTANT: check-then-set without atomicity, and a wait that barges in",
	    "a deliberately broken lock for the validators", false, false, true},
	.la_init = broken_init,
	.la_try = broken_try,
	.la_wait = broken_wait,
	.la_exit = broken_exit,
};
