/*
 * pmapstorm/lock.h — the model's locks: named classes, a zoo of algorithms,
 * lockstat, and RCU.
 *
 * Every lock in the model belongs to a lock class (pmap, pv, pagefree, ...).
 * The class decides the algorithm (config key locks.<class>), so a lock
 * study is a config line; and every class is measured like Linux lock_stat
 * and NetBSD lockstat(8): acquisitions, contentions, wait and hold times,
 * longest queue, bounces.  Core code takes locks only through this header.
 *
 * Names follow NetBSD's mutex(9) and rwlock(9): kmutex_t with mutex_enter(),
 * mutex_exit(), mutex_tryenter(), mutex_owned(); krwlock_t with rw_enter(),
 * rw_exit(), rw_tryenter(), rw_write_held().  mutex_init() and rw_init()
 * take the lock class instead of a type and an IPL.
 *
 * Waiting (locks.wait): "spin-yield" (default) waits through the machine's
 * cpu_spin_wait(): it keeps taking IPIs and yields the host CPU after a few
 * turns, which the model needs when simulated CPUs outnumber host cores;
 * "spin" spins with pause only, as a kernel spin mutex with interrupts
 * blocked does.  Blocking algorithms (pthread) sleep in the host kernel and
 * take no IPIs while they sleep.
 */
#ifndef PMAPSTORM_LOCK_H
#define PMAPSTORM_LOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ck_rwlock.h>
#include <ck_spinlock.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lock_class {
	LC_PMAP = 0,   /* struct pmap: page tables, pv insertion, statistics */
	LC_PV,         /* a page's pv list */
	LC_PMAPS,      /* PCID allocation and pmap_growkernel() */
	LC_PAGEFREE,   /* the physical page free list */
	LC_TLB_PACKET, /* shootdown packet or mailbox state */
	LC_KERNEL_MAP, /* kernel_map and submaps (read-mostly: a reader-writer class) */
	LC_POOL,       /* pool caches */
	LC_NCLASS
} lock_class_t;

#define LOCK_ALGO_NAMELEN 24

/* What an algorithm keeps in the lock (the largest is pthread's rwlock). */
union lock_state {
	ck_spinlock_fas_t ls_fas;
	ck_spinlock_ticket_t ls_ticket;
	ck_spinlock_mcs_t ls_mcs;     /* the queue's tail */
	struct {
		ck_spinlock_clh_t *tail;      /* the queue's tail node */
		unsigned int busy;            /* holders + waiters (for a safe try) */
	} ls_clh;
	ck_rwlock_t ls_ckrw;
	pthread_mutex_t ls_pmutex;
	pthread_rwlock_t ls_prw;
	_Atomic uint32_t ls_word;
};

struct lock_algo;
struct stats_hist;

typedef struct kmutex {
	union lock_state mtx_u;
	const struct lock_algo *mtx_algo;
	void *mtx_node;               /* the holder's queue node (MCS, CLH); holder only */
	/* holder-only fields, accessed with relaxed atomics: plain loads and
	 * stores on x86, and race-free even when a deliberately broken lock
	 * lets two threads "hold" it at once */
	_Atomic bool mtx_rdexcl;      /* a reader holds it exclusively (rw class, mutex algorithm) */
	_Atomic uint64_t mtx_t0;      /* the holder's hold-time start, 0 if unsampled */
	_Atomic uint32_t mtx_owner;   /* the holder's lock id (0: free or readers) */
	_Atomic uint16_t mtx_waiters; /* waiting now (slow path only) */
	_Atomic uint16_t mtx_lastcpu; /* CPU of the last release, +1 (bounces) */
	uint8_t mtx_class;
} kmutex_t;

typedef struct krwlock {
	kmutex_t rw_lock;
} krwlock_t;

typedef enum { RW_READER = 0, RW_WRITER = 1 } krw_t;

void mutex_init(kmutex_t *, lock_class_t);
void mutex_destroy(kmutex_t *);
void mutex_enter(kmutex_t *);
void mutex_exit(kmutex_t *);
bool mutex_tryenter(kmutex_t *);
bool mutex_owned(const kmutex_t *);

void rw_init(krwlock_t *, lock_class_t);
void rw_destroy(krwlock_t *);
void rw_enter(krwlock_t *, krw_t);
bool rw_tryenter(krwlock_t *, krw_t);
void rw_exit(krwlock_t *);
bool rw_write_held(const krwlock_t *);

/* ---- classes and algorithms ---- */

const char *lock_class_name(lock_class_t);
int lock_class_find(const char *name); /* -1 if unknown */
/* Classes locked with rw_enter() (shared readers) rather than mutex_enter(). */
bool lock_class_is_rw(lock_class_t);
const char *lock_class_default(lock_class_t);

struct lock_algo_info {
	const char *li_name;
	const char *li_desc;   /* one line */
	const char *li_origin; /* where the algorithm comes from */
	bool li_rw;            /* reader-writer: for rw classes only */
	bool li_blocking;      /* sleeps in the host kernel while waiting */
	bool li_unsafe;        /* a deliberately broken variant, for the validators */
};
/* The zoo, NULL-terminated. */
const struct lock_algo_info *lock_algo_at(unsigned i);
/* Can class use algorithm name?  false with the reason in why. */
bool lock_algo_check(lock_class_t, const char *name, bool allow_unsafe, char *why, size_t len);

enum lock_wait { LOCK_WAIT_SPIN_YIELD = 0, LOCK_WAIT_SPIN = 1 };

/*
 * The machine applies the config at boot, before it creates any lock:
 * algo[c] names the algorithm of class c ("" = the class default).
 */
int lock_configure(const char (*algo)[LOCK_ALGO_NAMELEN], enum lock_wait wait, bool lockstat, bool allow_unsafe);
void lockstat_enable(bool on); /* the runtime switch */
bool lockstat_enabled(void);

/* The machine installs its wait functions — wait: take IPIs, pause, then
 * yield; spin: take IPIs and pause, never yield — and its clock here: the
 * lock layer never waits or reads a clock by itself. */
void sync_set_wait(void (*wait)(unsigned *iter), void (*spin)(unsigned *iter));
/* Where this thread's held mutexes are counted (8 bits per class, relaxed
 * stores, read by the watchdog's dump); NULL to stop. */
void sync_set_held_slot(_Atomic uint64_t *slot);
void sync_wait(unsigned *iter);
void sync_set_clock(uint64_t (*now)(void));

/* ---- lockstat ---- */

struct lockstat_row {
	const char *lr_class;
	const char *lr_algo;
	uint64_t lr_acquisitions;
	uint64_t lr_contentions;
	uint64_t lr_bounces;
	uint64_t lr_wait_total_ns, lr_wait_max_ns, lr_wait_min_ns;
	double lr_wait_avg_ns;
	uint64_t lr_wait_p99_ns;
	uint64_t lr_hold_samples;
	double lr_hold_avg_ns;
	uint64_t lr_hold_max_ns, lr_hold_p99_ns;
	uint64_t lr_max_queue;
};
/* One row per class (LC_NCLASS rows); cpu = -1 for all CPUs. */
void lockstat_read(struct lockstat_row *rows, int cpu);
/* The class's wait and hold histograms (stats.h), for plots. */
const struct stats_hist *lockstat_hist(lock_class_t, bool hold);

/*
 * RCU (liburcu, QSBR flavour).  CPU threads are readers; their quiescent
 * state is every interrupt point.  sync_rcu_defer() runs fn(arg) after a
 * grace period, from liburcu's call_rcu worker thread — a host thread that
 * is no simulated CPU, so the model's own hot paths do not use it (the
 * pmap's page-table pages are reclaimed by the CPUs: core/pmap/ptp.c); it
 * is here for an embedder's read-mostly data.
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
