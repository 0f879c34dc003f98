/*
 * pmapstorm/lock.h — the model's locks.
 *
 * Every lock in the model belongs to a named lock class (pmap, pv, pagefree,
 * ...), and core code takes locks only through this header, so that the
 * algorithm behind a class can be chosen by configuration and its contention
 * measured.  The names follow NetBSD's mutex(9): kmutex_t, mutex_enter(),
 * mutex_exit(), mutex_tryenter(), mutex_owned(); mutex_init() takes the lock
 * class instead of a type and an IPL.
 *
 * Waiting: a contended mutex_enter() spins and then yields through the wait
 * function the machine installs (sync_set_wait()), which also takes pending
 * IPIs, so a CPU waiting for a lock still acknowledges shootdowns, as a real
 * kernel's idle loop or adaptive-mutex sleep would let it.
 */
#ifndef PMAPSTORM_LOCK_H
#define PMAPSTORM_LOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lock_class {
	LC_PMAP = 0,   /* struct pmap: page tables, pv insertion, statistics */
	LC_PV,         /* a page's pv list */
	LC_PMAPS,      /* the list of all pmaps (pmap_growkernel, pmap_create) */
	LC_PAGEFREE,   /* the physical page free list */
	LC_TLB_PACKET, /* shootdown packet or mailbox state */
	LC_KERNEL_MAP, /* kernel_map and submaps */
	LC_POOL,       /* pool caches */
	LC_NCLASS
} lock_class_t;

typedef struct kmutex {
	_Atomic uint32_t mtx_owner; /* 0 free, else the owner's lock id */
	uint8_t mtx_class;
} kmutex_t;

void mutex_init(kmutex_t *, lock_class_t);
void mutex_destroy(kmutex_t *);
void mutex_enter(kmutex_t *);
void mutex_exit(kmutex_t *);
bool mutex_tryenter(kmutex_t *);
bool mutex_owned(const kmutex_t *);
const char *lock_class_name(lock_class_t);

/* The machine installs its wait function here (spin with IPIs, then yield). */
void sync_set_wait(void (*wait)(unsigned *iter));
/* One turn of a wait loop, through the installed wait function. */
void sync_wait(unsigned *iter);

/*
 * RCU (liburcu, QSBR flavour).  CPU threads are readers; their quiescent
 * state is every interrupt point.  sync_rcu_defer() runs fn(arg) after a
 * grace period, from liburcu's call_rcu worker thread.
 */
void sync_rcu_register(void);
void sync_rcu_unregister(void);
void sync_rcu_quiescent(void);
void sync_rcu_defer(void (*fn)(void *), void *arg);
void sync_rcu_barrier(void); /* waits for every deferred call made so far */

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_LOCK_H */
