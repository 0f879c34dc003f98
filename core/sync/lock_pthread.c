/*
 * lock_pthread.c — POSIX mutexes: "pthread" (PTHREAD_MUTEX_NORMAL) and
 * "pthread-adaptive" (glibc's PTHREAD_MUTEX_ADAPTIVE_NP: spins a while in
 * user space, then sleeps on a futex — the shape of NetBSD's adaptive
 * mutex(9)).  Both sleep in the host kernel when contended: a simulated
 * CPU waiting on one takes no IPIs until it has the lock.
 */
#include "lock_impl.h"

#include <stdio.h>
#include <stdlib.h>

static void pm_init_type(kmutex_t *m, int type)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	if (pthread_mutex_init(&m->mtx_u.ls_pmutex, &a) != 0) {
		fprintf(stderr, "pmapstorm: pthread_mutex_init failed\n");
		abort();
	}
	pthread_mutexattr_destroy(&a);
}

static void pm_init_normal(kmutex_t *m)
{
	pm_init_type(m, PTHREAD_MUTEX_NORMAL);
}

static void pm_init_adaptive(kmutex_t *m)
{
	pm_init_type(m, PTHREAD_MUTEX_ADAPTIVE_NP);
}

static void pm_destroy(kmutex_t *m)
{
	pthread_mutex_destroy(&m->mtx_u.ls_pmutex);
}

static bool pm_try(kmutex_t *m, struct lock_held *h)
{
	(void)h;
	return pthread_mutex_trylock(&m->mtx_u.ls_pmutex) == 0;
}

static void pm_wait(kmutex_t *m, struct lock_held *h, lock_wait_fn wait)
{
	(void)h, (void)wait; /* the host kernel does the waiting */
	pthread_mutex_lock(&m->mtx_u.ls_pmutex);
}

static void pm_exit(kmutex_t *m, struct lock_held *h)
{
	(void)h;
	pthread_mutex_unlock(&m->mtx_u.ls_pmutex);
}

const struct lock_algo lock_algo_pthread = {
	.la_info = {"pthread", "POSIX mutex, normal: sleeps on a futex when contended",
	    "POSIX.1 pthread_mutex_lock (glibc, PTHREAD_MUTEX_NORMAL)", false, true, false},
	.la_init = pm_init_normal,
	.la_destroy = pm_destroy,
	.la_try = pm_try,
	.la_wait = pm_wait,
	.la_exit = pm_exit,
};

const struct lock_algo lock_algo_pthread_adaptive = {
	.la_info = {"pthread-adaptive", "POSIX mutex, adaptive: spins briefly, then sleeps (like NetBSD's adaptive mutex)",
	    "glibc PTHREAD_MUTEX_ADAPTIVE_NP", false, true, false},
	.la_init = pm_init_adaptive,
	.la_destroy = pm_destroy,
	.la_try = pm_try,
	.la_wait = pm_wait,
	.la_exit = pm_exit,
};
