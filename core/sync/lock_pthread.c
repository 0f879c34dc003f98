/*
 * lock_pthread.c — POSIX mutexes: "pthread" (PTHREAD_MUTEX_NORMAL) and
 * "pthread-adaptive" (glibc's PTHREAD_MUTEX_ADAPTIVE_NP: spins a while in
 * user space, then sleeps on a futex — the shape of NetBSD's adaptive
 * mutex(9)).  Both sleep in the host kernel when contended.
 *
 * The sleep is cut into slices (pthread_mutex_timedlock; see
 * LOCK_SLEEP_SLICE_NS in lock_impl.h): between slices the CPU takes IPIs.
 */
#include "lock_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>


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

static bool pm_try(kmutex_t *m)
{
	return pthread_mutex_trylock(&m->mtx_u.ls_pmutex) == 0;
}

static void pm_wait(kmutex_t *m, lock_wait_fn wait)
{
	unsigned iter = 0;
	for (;;) {
		struct timespec ts;
		lock_sleep_deadline(&ts);
		if (pthread_mutex_timedlock(&m->mtx_u.ls_pmutex, &ts) == 0)
			return;
		wait(&iter); /* between slices: take IPIs */
	}
}

static void pm_exit(kmutex_t *m)
{
	pthread_mutex_unlock(&m->mtx_u.ls_pmutex);
}

const struct lock_algo lock_algo_pthread = {
	.la_info = {"pthread", "POSIX mutex, normal: sleeps on a futex when contended",
	    "POSIX.1 pthread_mutex_lock (glibc, PTHREAD_MUTEX_NORMAL)", false, true, false},
	.la_fast = LF_PTHREAD,
	.la_init = pm_init_normal,
	.la_destroy = pm_destroy,
	.la_try = pm_try,
	.la_wait = pm_wait,
	.la_exit = pm_exit,
};

const struct lock_algo lock_algo_pthread_adaptive = {
	.la_info = {"pthread-adaptive", "POSIX mutex, adaptive: spins briefly, then sleeps (like NetBSD's adaptive mutex)",
	    "glibc PTHREAD_MUTEX_ADAPTIVE_NP", false, true, false},
	.la_fast = LF_PTHREAD,
	.la_init = pm_init_adaptive,
	.la_destroy = pm_destroy,
	.la_try = pm_try,
	.la_wait = pm_wait,
	.la_exit = pm_exit,
};
