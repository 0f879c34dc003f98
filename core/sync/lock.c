/*
 * lock.c — kmutex_t: the model's mutual-exclusion lock.
 *
 * A test-and-test-and-set lock (Rudolph & Segall 1984; the "TTAS" of
 * Herlihy & Shavit, ch. 7) whose word holds the owner's lock id, so
 * mutex_owned() is exact and recursion is caught.  A contended acquire
 * waits through sync_wait(), i.e. the machine's cpu_spin_wait(): it keeps
 * taking IPIs and yields after a few spins.  Acquire/release ordering on
 * the word is the whole memory-ordering story: acquire on the CAS that
 * takes the lock, release on the store that drops it.
 */
#include <pmapstorm/lock.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const class_names[LC_NCLASS] = {
	[LC_PMAP] = "pmap",
	[LC_PV] = "pv",
	[LC_PMAPS] = "pmaps",
	[LC_PAGEFREE] = "pagefree",
	[LC_TLB_PACKET] = "tlb_packet",
	[LC_KERNEL_MAP] = "kernel_map",
	[LC_POOL] = "pool",
};

static _Thread_local uint32_t lock_self;
static _Atomic uint32_t lock_next_id;

static void default_wait(unsigned *iter)
{
	if ((*iter)++ < 64)
		__builtin_ia32_pause();
	else
		sched_yield();
}

static void (*_Atomic wait_fn)(unsigned *) = default_wait;

void sync_set_wait(void (*wait)(unsigned *iter))
{
	atomic_store(&wait_fn, wait != NULL ? wait : default_wait);
}

void sync_wait(unsigned *iter)
{
	atomic_load_explicit(&wait_fn, memory_order_relaxed)(iter);
}

static inline uint32_t self_id(void)
{
	if (__builtin_expect(lock_self == 0, 0))
		lock_self = atomic_fetch_add(&lock_next_id, 1) + 1;
	return lock_self;
}

const char *lock_class_name(lock_class_t c)
{
	return (unsigned)c < LC_NCLASS ? class_names[c] : "?";
}

void mutex_init(kmutex_t *m, lock_class_t c)
{
	atomic_store_explicit(&m->mtx_owner, 0, memory_order_relaxed);
	m->mtx_class = (uint8_t)c;
}

void mutex_destroy(kmutex_t *m)
{
	if (atomic_load_explicit(&m->mtx_owner, memory_order_relaxed) != 0) {
		fprintf(stderr, "pmapstorm: panic: %s lock destroyed while held\n", lock_class_name(m->mtx_class));
		abort();
	}
}

bool mutex_tryenter(kmutex_t *m)
{
	uint32_t z = 0;
	return atomic_compare_exchange_strong_explicit(&m->mtx_owner, &z, self_id(), memory_order_acquire,
	    memory_order_relaxed);
}

void mutex_enter(kmutex_t *m)
{
	uint32_t self = self_id(), z = 0;
	if (__builtin_expect(atomic_compare_exchange_strong_explicit(&m->mtx_owner, &z, self,
	        memory_order_acquire, memory_order_relaxed), 1))
		return;
	if (z == self) {
		fprintf(stderr, "pmapstorm: panic: %s lock: recursive mutex_enter\n", lock_class_name(m->mtx_class));
		abort();
	}
	unsigned iter = 0;
	for (;;) {
		while (atomic_load_explicit(&m->mtx_owner, memory_order_relaxed) != 0)
			sync_wait(&iter);
		z = 0;
		if (atomic_compare_exchange_weak_explicit(&m->mtx_owner, &z, self, memory_order_acquire,
		        memory_order_relaxed))
			return;
	}
}

void mutex_exit(kmutex_t *m)
{
	if (__builtin_expect(atomic_load_explicit(&m->mtx_owner, memory_order_relaxed) != lock_self, 0)) {
		fprintf(stderr, "pmapstorm: panic: %s lock released by a thread that does not hold it\n",
		    lock_class_name(m->mtx_class));
		abort();
	}
	atomic_store_explicit(&m->mtx_owner, 0, memory_order_release);
}

bool mutex_owned(const kmutex_t *m)
{
	return lock_self != 0 && atomic_load_explicit((_Atomic uint32_t *)&m->mtx_owner, memory_order_relaxed) == lock_self;
}
