/*
 * lock_rw.c — reader-writer locks for read-mostly classes.
 *
 * "ck-rw": Concurrency Kit's ck_rwlock (writer-biased: a writer announces
 * itself, then waits for the readers to drain; readers back off while a
 * writer is present).  The writer's wait follows ck_rwlock_write_lock()
 * and a reader's retries ck_rwlock_read_trylock(), both with the model's
 * wait function, so waiters keep taking IPIs.
 * "pthread-rw": POSIX pthread_rwlock_t (glibc's default, reader-preferring),
 * which sleeps in the host kernel when contended, in slices (lock_impl.h).
 */
#include "lock_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>


/* ---- ck-rw ---- */

static void ckrw_init(kmutex_t *m)
{
	ck_rwlock_init(&m->mtx_u.ls_ckrw);
}

static bool ckrw_try(kmutex_t *m)
{
	return ck_rwlock_write_trylock(&m->mtx_u.ls_ckrw);
}

/* ck_rwlock_write_lock(): announce the writer (new readers back off), then
 * wait for the readers inside to drain — with the model's wait */
static void ckrw_wait(kmutex_t *m, lock_wait_fn wait)
{
	ck_rwlock_t *rw = &m->mtx_u.ls_ckrw;
	unsigned iter = 0;
	while (ck_pr_fas_uint(&rw->writer, 1) == 1)
		wait(&iter);
	ck_pr_fence_atomic_load();
	while (ck_pr_load_uint(&rw->n_readers) != 0)
		wait(&iter);
	ck_pr_fence_lock();
}

static void ckrw_exit(kmutex_t *m)
{
	ck_rwlock_write_unlock(&m->mtx_u.ls_ckrw);
}

static bool ckrw_try_read(kmutex_t *m)
{
	return ck_rwlock_read_trylock(&m->mtx_u.ls_ckrw);
}

static void ckrw_wait_read(kmutex_t *m, lock_wait_fn wait)
{
	unsigned iter = 0;
	while (!ck_rwlock_read_trylock(&m->mtx_u.ls_ckrw))
		wait(&iter);
}

static void ckrw_exit_read(kmutex_t *m)
{
	ck_rwlock_read_unlock(&m->mtx_u.ls_ckrw);
}

const struct lock_algo lock_algo_ckrw = {
	.la_info = {"ck-rw", "reader-writer spinlock, writer-biased (ck_rwlock)", "Concurrency Kit ck_rwlock",
	    true, false, false},
	.la_fast = LF_CKRW,
	.la_init = ckrw_init,
	.la_try = ckrw_try,
	.la_wait = ckrw_wait,
	.la_exit = ckrw_exit,
	.la_try_read = ckrw_try_read,
	.la_wait_read = ckrw_wait_read,
	.la_exit_read = ckrw_exit_read,
};

/* ---- pthread-rw ---- */

/* the lock's storage: lock.h cannot name pthread_rwlock_t (it compiles as
 * strict ISO C too), so it keeps room for one */
_Static_assert(sizeof(pthread_rwlock_t) <= sizeof(((union lock_state *)0)->ls_prw) &&
    _Alignof(pthread_rwlock_t) <= _Alignof(uint64_t), "union lock_state's ls_prw holds a pthread_rwlock_t");

static inline pthread_rwlock_t *prw(kmutex_t *m)
{
	return (pthread_rwlock_t *)(void *)m->mtx_u.ls_prw;
}

bool lock_prw_trywrlock(kmutex_t *m)
{
	return pthread_rwlock_trywrlock(prw(m)) == 0;
}

void lock_prw_unlock(kmutex_t *m)
{
	pthread_rwlock_unlock(prw(m));
}

static void prw_init(kmutex_t *m)
{
	if (pthread_rwlock_init(prw(m), NULL) != 0) {
		fprintf(stderr, "pmapstorm: pthread_rwlock_init failed\n");
		abort();
	}
}

static void prw_destroy(kmutex_t *m)
{
	pthread_rwlock_destroy(prw(m));
}

static void prw_wait(kmutex_t *m, lock_wait_fn wait)
{
	unsigned iter = 0;
	for (;;) {
		struct timespec ts;
		lock_sleep_deadline(&ts);
		if (pthread_rwlock_timedwrlock(prw(m), &ts) == 0)
			return;
		wait(&iter);
	}
}

static bool prw_try_read(kmutex_t *m)
{
	return pthread_rwlock_tryrdlock(prw(m)) == 0;
}

static void prw_wait_read(kmutex_t *m, lock_wait_fn wait)
{
	unsigned iter = 0;
	for (;;) {
		struct timespec ts;
		lock_sleep_deadline(&ts);
		if (pthread_rwlock_timedrdlock(prw(m), &ts) == 0)
			return;
		wait(&iter);
	}
}

static void prw_exit_read(kmutex_t *m)
{
	pthread_rwlock_unlock(prw(m));
}

const struct lock_algo lock_algo_pthread_rw = {
	.la_info = {"pthread-rw", "POSIX reader-writer lock: sleeps when contended", "POSIX.1 pthread_rwlock (glibc)",
	    true, true, false},
	.la_fast = LF_PTHREAD_RW,
	.la_init = prw_init,
	.la_destroy = prw_destroy,
	.la_try = lock_prw_trywrlock,
	.la_wait = prw_wait,
	.la_exit = lock_prw_unlock,
	.la_try_read = prw_try_read,
	.la_wait_read = prw_wait_read,
	.la_exit_read = prw_exit_read,
};
