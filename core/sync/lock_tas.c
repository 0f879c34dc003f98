/*
 * lock_tas.c — test-and-set with exponential backoff.
 *
 * Concurrency Kit's ck_spinlock_fas (fetch-and-store) with ck_backoff_eb:
 * T. E. Anderson, "The performance of spin lock alternatives for
 * shared-memory multiprocessors", IEEE TPDS 1(1), 1990.  The wait re-reads
 * the word before it swaps again (test-and-test-and-set), backing off
 * exponentially under locks.wait = spin, or through the machine's wait under
 * spin-yield.
 */
#include "lock_impl.h"

#include <ck_backoff.h>

static void tas_init(kmutex_t *m)
{
	ck_spinlock_fas_init(&m->mtx_u.ls_fas);
}

static bool tas_try(kmutex_t *m)
{
	return ck_spinlock_fas_trylock(&m->mtx_u.ls_fas);
}

static void tas_wait(kmutex_t *m, lock_wait_fn wait)
{
	ck_backoff_t backoff = CK_BACKOFF_INITIALIZER;
	unsigned iter = 0;
	for (;;) {
		while (ck_spinlock_fas_locked(&m->mtx_u.ls_fas)) {
			if (wait == lock_wait_spin)
				ck_backoff_eb(&backoff); /* exponential backoff, as ck_spinlock_fas_lock_eb */
			wait(&iter);
		}
		if (ck_spinlock_fas_trylock(&m->mtx_u.ls_fas))
			return;
	}
}

static void tas_exit(kmutex_t *m)
{
	ck_spinlock_fas_unlock(&m->mtx_u.ls_fas);
}

const struct lock_algo lock_algo_tas = {
	.la_info = {"tas", "test-and-set, exponential backoff (ck_spinlock_fas + ck_backoff)",
	    "Anderson 1990; Concurrency Kit ck_spinlock_fas", false, false, false},
	.la_fast = LF_TAS,
	.la_init = tas_init,
	.la_try = tas_try,
	.la_wait = tas_wait,
	.la_exit = tas_exit,
};
