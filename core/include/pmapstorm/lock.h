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

#include <pmapstorm/stats.h>

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

/* A CLH queue node (lock_clh.c).  Its state is LOCK_CLH_AVAILABLE once its
 * holder released, LOCK_CLH_WAITING while its owner holds or waits, or —
 * once its owner gave up a try — the address of the node it waited behind
 * (Scott & Scherer's abandoned node).  One line each: a waiter spins on its
 * predecessor's. */
#define LOCK_CLH_AVAILABLE ((uintptr_t)0)
#define LOCK_CLH_WAITING ((uintptr_t)1)
struct lock_clh_node {
	_Atomic uintptr_t cn_state;
	struct lock_clh_node *cn_prev;      /* the holder's predecessor: its node after the release */
	struct lock_clh_node *cn_free_next; /* in a thread's pool */
} __attribute__((aligned(64)));

/* What an algorithm keeps in the lock (the largest is pthread's rwlock). */
union lock_state {
	ck_spinlock_fas_t ls_fas;
	ck_spinlock_ticket_t ls_ticket;
	ck_spinlock_mcs_t ls_mcs;     /* the queue's tail */
	_Atomic(struct lock_clh_node *) ls_clh; /* the CLH queue's tail node */
	ck_rwlock_t ls_ckrw;
	pthread_mutex_t ls_pmutex;
	/* a pthread_rwlock_t (lock_rw.c checks its size and alignment):
	 * <pthread.h> declares that type only for POSIX.1-2001 and later, so
	 * a program compiled as strict ISO C (-std=c17, no feature macro)
	 * would not see it, and this header must compile there too */
	uint64_t ls_prw[7];
	_Atomic uint32_t ls_word;
};

/* Algorithms whose uncontended acquire and release are inlined below. */
enum lock_fast { LF_NONE = 0, LF_TAS, LF_TICKET, LF_MCS, LF_CLH, LF_CKRW, LF_PTHREAD, LF_PTHREAD_RW };

struct lock_algo;
struct stats_hist;

typedef struct kmutex {
	/* Two lines when the lock starts one (struct pmap's does).  The first:
	 * what a waiting CPU reads or writes — the algorithm's state, the
	 * owner (its recursion check), the waiters count, the last acquirer.
	 * The second: set at init, or the holder's own.  A waiter then never
	 * pulls away a line the holder writes during its critical section
	 * (docs/performance.md, section 12).
	 *
	 * mtx_owner, mtx_waiters, mtx_lastcpu and mtx_t0 are accessed with
	 * relaxed atomics: plain loads and stores on x86, and race-free even
	 * when a deliberately broken lock lets two threads "hold" it at once. */
	union lock_state mtx_u;
	_Atomic uint32_t mtx_owner;   /* the holder's lock id (0: free or readers), | LOCK_OWNER_RDEXCL */
	_Atomic uint16_t mtx_waiters; /* waiting now (slow path with lockstat on) */
	_Atomic uint16_t mtx_lastcpu; /* CPU of the last acquisition, +1 (bounces; written only when it changes) */
	const struct lock_algo *mtx_algo;
	void *mtx_node;               /* the holder's queue node (MCS, CLH); holder only */
	_Atomic uint64_t mtx_t0;      /* the holder's hold-time start, 0 if unsampled */
	uint8_t mtx_class;
	uint8_t mtx_fast;             /* enum lock_fast: the inline path's algorithm */
	uint16_t mtx_ls_acq, mtx_ls_bnc; /* the class's lockstat counters (stats block indices) */
} kmutex_t;

typedef struct krwlock {
	kmutex_t rw_lock;
} krwlock_t;

typedef enum { RW_READER = 0, RW_WRITER = 1 } krw_t;

void mutex_init(kmutex_t *, lock_class_t);
void mutex_destroy(kmutex_t *);
static inline void mutex_enter(kmutex_t *);
static inline void mutex_exit(kmutex_t *);
bool mutex_tryenter(kmutex_t *);
static inline bool mutex_owned(const kmutex_t *);

void rw_init(krwlock_t *, lock_class_t);
void rw_destroy(krwlock_t *);
static inline void rw_enter(krwlock_t *, krw_t);
bool rw_tryenter(krwlock_t *, krw_t);
static inline void rw_exit(krwlock_t *);
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
/* The lock layer's keys of a config (locks.*: pmapstorm/config.h): every
 * class's algorithm, the wait, lockstat, allow_unsafe; and
 * lock_configure() with them (core/boot.c, at boot). */
struct machine_config;
void lock_config_read(const struct machine_config *, char (*algo)[LOCK_ALGO_NAMELEN], enum lock_wait *wait,
    bool *lockstat, bool *allow_unsafe);
int lock_configure_from(const struct machine_config *);
void lockstat_enable(bool on); /* the runtime switch */
bool lockstat_enabled(void);
/* Time one hold in n (n >= 1; 1: every hold), as locks.hold_sample;
 * before the CPUs run. */
void lockstat_hold_sample_set(unsigned n);
/* Start this thread's draws (lockstat_hold_draw) from seed: each simulated
 * CPU seeds from its number as it attaches, so CPUs running the same code
 * time different holds, the same ones every run. */
void lockstat_hold_seed(uint64_t seed);

/* The machine installs its wait functions — wait: take IPIs, pause, then
 * yield; spin: take IPIs and pause, never yield — and its clock here: the
 * lock layer never waits or reads a clock by itself. */
void sync_set_wait(void (*wait)(unsigned *iter), void (*spin)(unsigned *iter));
/* Where this thread says which lock it waits for (the watchdog's dump):
 * a contended acquisition stores the lock there for the length of its
 * wait, and what was there before once it owns (a wait inside an interrupt
 * taken during another wait); never on the uncontended path.  NULL to
 * stop. */
void sync_set_wait_slot(_Atomic(const struct kmutex *) *slot);
/* This thread's lock id (what mtx_owner holds while it holds a lock),
 * assigned now if it has none: the dump tells a holder's CPU by it. */
uint32_t lock_thread_id(void);
/* A lock's exclusive holder as the dump shows it: its lock id (0: free,
 * or held by readers). */
uint32_t lock_holder(const struct kmutex *);
/* What this thread's lock acquisitions cost in virtual time (the machine
 * installs it on a CPU of machine.engine = virtual; NULL: nothing).
 * bounced: another CPU held the lock last.  docs/engine.md */
void sync_set_charge(void (*charge)(bool bounced));
/* The simulated CPU this thread runs as (-1: none; the machine sets it as
 * the CPU attaches): an acquisition names its acquirer by it for lockstat's
 * bounces and the virtual-time charge (mtx_lastcpu). */
void sync_set_cpu(int cpu);
void sync_wait(unsigned *iter);
void sync_set_clock(uint64_t (*now)(void));

/* ---- lockstat ---- */

/* A place that waited for a lock (lockstat -s): the return address of the
 * mutex_enter()/rw_enter() call that found the lock taken. */
#define LOCKSTAT_SITES 8
struct lockstat_site {
	uintptr_t ls_pc;
	uint64_t ls_contentions, ls_wait_ns;
};

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
	/* cpu = -1 only: the call sites that waited longest, most first */
	struct lockstat_site lr_sites[LOCKSTAT_SITES];
	unsigned lr_nsites;
	uint64_t lr_sites_lost; /* contentions at sites beyond the table (counted, not placed) */
};
/* One row per class (LC_NCLASS rows); cpu = -1 for all CPUs. */
void lockstat_read(struct lockstat_row *rows, int cpu);
/* Forget the call sites (with stats_reset(): a new measured window). */
void lockstat_sites_reset(void);
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
/* The machine may take sync_rcu_defer() over (machine.engine = virtual,
 * where no host thread but the simulated CPUs may touch the machine: the
 * callbacks then run on a CPU at an interrupt point once every CPU passed
 * one); NULL gives it back to liburcu's call_rcu(). */
void sync_set_defer(void (*defer)(void (*fn)(void *), void *arg));
void sync_rcu_barrier(void); /* waits for every deferred call made so far */

/*
 * ---- the fast path ----
 *
 * mutex_enter(), mutex_exit(), rw_enter(RW_WRITER) and rw_exit() of a
 * writer are inline: an uncontended acquisition of tas, ticket, mcs, clh,
 * ck-rw, pthread, pthread-adaptive or pthread-rw is the algorithm's own
 * atomic, a store of the owner and, with lockstat on, a counter or two in
 * the CPU's own statistics block (and the hold time of one acquisition in
 * locks.hold_sample, at random: lockstat_hold_draw()).  Anything else —
 * contention, the broken lock, a thread's first lock, ThreadSanitizer
 * builds (ck's atomics are inline assembly it cannot see) — goes to the
 * out-of-line path in lock.c, which counts contentions, wait and queue
 * length.  Measured in docs/performance.md and by `pmapstorm microbench`
 * (layer / bare library call).
 */
#define LOCKSTAT_HOLD_SAMPLE 64 /* locks.hold_sample's default */

#define LOCK_MCS_NODES 32
struct lock_thread {
	uint32_t lt_self;                   /* lock id: 0 until the first out-of-line acquisition or lock_thread_id() */
	uint16_t lt_cpu1;                   /* sync_set_cpu()'s CPU + 1; 0: no CPU */
	uint64_t lt_sample;                 /* the hold sampling's generator (lockstat_hold_draw) */
	_Atomic(const struct kmutex *) *lt_wait_slot; /* sync_set_wait_slot() */
	void (*lt_charge)(bool bounced);    /* sync_set_charge() */
	struct lock_clh_node *lt_clh_free;  /* CLH node pool */
	unsigned lt_clh_nfree;
	uint32_t lt_mcs_used;               /* MCS node pool: a bit per node in use */
	ck_spinlock_mcs_context_t lt_mcs[LOCK_MCS_NODES];
};
extern _Thread_local struct lock_thread lock_thread_tls __attribute__((tls_model("initial-exec")));
extern _Atomic bool lockstat_on_flag;
extern uint64_t lockstat_hold_thr; /* a draw at or below it times the hold (lockstat_hold_sample_set) */
extern struct stats_counter *const lockstat_acq_counter[LC_NCLASS];
extern struct stats_counter *const lockstat_bounce_counter[LC_NCLASS];

void mutex_enter_slow(kmutex_t *);
void mutex_enter_ticket_slow(kmutex_t *, uint32_t ticket); /* holds a ticket not served yet: waits, counts, owns */
/* queued behind prev in an MCS lock: links, waits, counts, owns */
void mutex_enter_mcs_slow(kmutex_t *, ck_spinlock_mcs_context_t *node, ck_spinlock_mcs_context_t *prev);
void mutex_exit_slow(kmutex_t *);
void rw_enter_slow(krwlock_t *, krw_t);
void rw_exit_slow(krwlock_t *);
void lockstat_hold_begin(kmutex_t *);
void lockstat_hold_end(kmutex_t *);
/* pthread-rw's uncontended try and release, out of line (ls_prw) */
bool lock_prw_trywrlock(kmutex_t *);
void lock_prw_unlock(kmutex_t *);

#if defined(__SANITIZE_THREAD__)
#define LOCK_INLINE_FAST 0
#else
#define LOCK_INLINE_FAST 1
#endif

/* One try of a CLH acquisition: enqueue a node of the thread's pool; if the
 * predecessor has released, the lock is ours, else the node is abandoned
 * (its successor will skip it) and the out-of-line path takes over. */
static inline bool lock_clh_try_fast(kmutex_t *m, struct lock_thread *t)
{
	struct lock_clh_node *n = t->lt_clh_free;
	if (n == NULL)
		return false; /* the out-of-line path allocates */
	/* lt_clh_nfree counts only what the out-of-line path caps: the pop
	 * here and the push at release leave it as it was */
	t->lt_clh_free = n->cn_free_next;
	atomic_store_explicit(&n->cn_state, LOCK_CLH_WAITING, memory_order_relaxed);
	/* acq_rel: our WAITING is published with the node; the predecessor's
	 * node is read after it was linked */
	struct lock_clh_node *p = atomic_exchange_explicit(&m->mtx_u.ls_clh, n, memory_order_acq_rel);
	/* acquire: pairs with the holder's release of its node */
	uintptr_t st = atomic_load_explicit(&p->cn_state, memory_order_acquire);
	if (__builtin_expect(st == LOCK_CLH_AVAILABLE, 1)) {
		n->cn_prev = p;
		m->mtx_node = n;
		return true;
	}
	/* release: whoever follows the abandoned node reads p after it */
	atomic_store_explicit(&n->cn_state, (uintptr_t)p, memory_order_release);
	t->lt_clh_nfree--; /* the node is gone to our successor */
	return false;
}

#define LOCK_ALWAYS_INLINE static inline __attribute__((always_inline))

/*
 * Whether this acquisition's hold is timed (lockstat on): a draw from the
 * thread's own generator (stats_sample_draw) at or below lockstat_hold_thr
 * — one hold in locks.hold_sample on average, contended or not, at random.  A fixed
 * period aliased with the workloads' fixed orders of acquisitions (every
 * 16th acquisition of the munmap cycle's six never fell on a pv lock, and
 * the pmap lock's samples fell on one of its two call sites), and timing
 * every contended hold weighted the average toward them.  The sequence
 * is the thread's own, from its CPU's seed (lockstat_hold_seed), so a
 * virtual-time run samples the same holds every time.
 * docs/performance.md, section 14.
 */
LOCK_ALWAYS_INLINE bool lockstat_hold_draw(struct lock_thread *t)
{
	return stats_sample_draw(&t->lt_sample, lockstat_hold_thr);
}

LOCK_ALWAYS_INLINE bool lock_try_fast(kmutex_t *m, struct lock_thread *t, unsigned kind)
{
	if (__builtin_expect(kind == LF_TAS, 1))
		return ck_spinlock_fas_trylock(&m->mtx_u.ls_fas);
	switch (kind) {
	case LF_CLH:
		return lock_clh_try_fast(m, t);
	case LF_CKRW:
		return ck_rwlock_write_trylock(&m->mtx_u.ls_ckrw);
	case LF_PTHREAD:
		return pthread_mutex_trylock(&m->mtx_u.ls_pmutex) == 0;
	case LF_PTHREAD_RW:
		return lock_prw_trywrlock(m);
	default:
		return false;
	}
}

LOCK_ALWAYS_INLINE void lock_exit_fast(kmutex_t *m, struct lock_thread *t, unsigned kind)
{
	if (__builtin_expect(kind == LF_TAS, 1)) {
		ck_spinlock_fas_unlock(&m->mtx_u.ls_fas);
		return;
	}
	switch (kind) {
	case LF_TICKET:
		ck_spinlock_ticket_unlock(&m->mtx_u.ls_ticket);
		break;
	case LF_MCS: {
		ck_spinlock_mcs_context_t *n = (ck_spinlock_mcs_context_t *)m->mtx_node;
		ck_spinlock_mcs_unlock(&m->mtx_u.ls_mcs, n);
		t->lt_mcs_used &= ~(1u << (unsigned)(n - t->lt_mcs));
		break;
	}
	case LF_CLH: {
		struct lock_clh_node *n = (struct lock_clh_node *)m->mtx_node, *p = n->cn_prev;
		/* release: the critical section before the next holder's acquire */
		atomic_store_explicit(&n->cn_state, LOCK_CLH_AVAILABLE, memory_order_release);
		/* the predecessor's node is ours now (CLH's recycling) */
		p->cn_free_next = t->lt_clh_free;
		t->lt_clh_free = p;
		break;
	}
	case LF_CKRW:
		ck_rwlock_write_unlock(&m->mtx_u.ls_ckrw);
		break;
	case LF_PTHREAD:
		pthread_mutex_unlock(&m->mtx_u.ls_pmutex);
		break;
	case LF_PTHREAD_RW:
		lock_prw_unlock(m);
		break;
	default:
		break;
	}
}

/* The lock's last acquirer (mtx_lastcpu, CPU + 1; me 0: a thread that is no
 * CPU, which leaves it alone): whether this acquisition took the lock from
 * another CPU (lockstat's bounces, virtual time's line transfer).  One load,
 * and a store only when the acquirer changed.  Every acquisition path calls
 * it once, when lockstat or the virtual-time charge wants it. */
static inline bool lock_note_acquirer(kmutex_t *m, uint16_t me)
{
	uint16_t last = atomic_load_explicit(&m->mtx_lastcpu, memory_order_relaxed);
	if (__builtin_expect(last == me || me == 0, 1))
		return false;
	atomic_store_explicit(&m->mtx_lastcpu, me, memory_order_relaxed);
	return last != 0;
}

/* An uncontended acquisition with lockstat on (its counters in the CPU's
 * own block) or under virtual time (the charge): out of the fast path's
 * common case, one test of both */
static inline void lock_acquired_fast_extra(kmutex_t *m, struct lock_thread *t, bool stat, void (*charge)(bool))
{
	const bool bounced = lock_note_acquirer(m, t->lt_cpu1);
	if (stat) {
		struct stats_block *b = stats_tls;
		if (__builtin_expect(b != NULL && stats_on, 1)) {
			/* a CPU's own block: single writer, relaxed load and store */
			_Atomic uint64_t *acq = &b->sb_counters[m->mtx_ls_acq];
			atomic_store_explicit(acq, atomic_load_explicit(acq, memory_order_relaxed) + 1, memory_order_relaxed);
			if (bounced) {
				_Atomic uint64_t *bnc = &b->sb_counters[m->mtx_ls_bnc];
				atomic_store_explicit(bnc, atomic_load_explicit(bnc, memory_order_relaxed) + 1,
				    memory_order_relaxed);
			}
		} else {
			stats_inc(lockstat_acq_counter[m->mtx_class]);
			if (bounced)
				stats_inc(lockstat_bounce_counter[m->mtx_class]);
		}
		if (__builtin_expect(lockstat_hold_draw(t), 0))
			lockstat_hold_begin(m);
	}
	if (charge != NULL)
		charge(bounced);
}

/* mtx_owner: the holder's lock id; this bit set when a reader holds an
 * rw-class lock of a mutex algorithm (exclusively, but not "write held") */
#define LOCK_OWNER_RDEXCL 0x80000000u

/* The inline acquisition; likely: the algorithm the caller's locks mostly
 * use (tas for mutexes, ck-rw for reader-writer locks), whose try the
 * compiler then calls without dispatching on the algorithm.  The test for
 * tas ahead of the switch in lock_try_fast() and lock_exit_fast() stays:
 * folded into the switch, it made clh and ck-rw slower by 0.05-0.1
 * (docs/performance.md, section 34). */
LOCK_ALWAYS_INLINE void lock_enter_inline(kmutex_t *m, unsigned likely)
{
#if LOCK_INLINE_FAST
	struct lock_thread *t = &lock_thread_tls;
	/* everything the fast path needs is loaded before the algorithm's
	 * atomic instruction (a full barrier on x86): what follows it is
	 * stores and branches */
	const uint32_t self = t->lt_self;
	const unsigned kind = m->mtx_fast;
	void (*const charge)(bool) = t->lt_charge;
	const bool stat = atomic_load_explicit(&lockstat_on_flag, memory_order_relaxed);
	/* the likely algorithm first, laid out straight through (the compiler
	 * otherwise tests ticket and mcs first and jumps out of line to it:
	 * docs/performance.md, section 36) */
	if (__builtin_expect(kind == likely, 1)) {
		if (__builtin_expect(self != 0, 1) && __builtin_expect(lock_try_fast(m, t, likely), 1))
			goto acquired;
		mutex_enter_slow(m);
		return;
	}
	if (kind == LF_TICKET && __builtin_expect(self != 0, 1)) {
		/* ck_spinlock_ticket_lock()'s take-a-number, not a try by CAS
		 * (that costs the same atomic and a load before it): served at
		 * once, or the out-of-line path waits for this ticket */
		uint32_t r = ck_pr_faa_32(&m->mtx_u.ls_ticket.value, 1u << 16);
		if (__builtin_expect((r & 0xffffu) != (r >> 16), 0)) {
			mutex_enter_ticket_slow(m, r >> 16);
			return;
		}
		ck_pr_fence_lock();
		goto acquired;
	}
	if (kind == LF_MCS && __builtin_expect(self != 0 && t->lt_mcs_used != UINT32_MAX, 1)) {
		/* ck_spinlock_mcs_lock()'s swap with a node of the thread's
		 * pool: the queue was empty, or the out-of-line path links
		 * behind the predecessor and waits */
		unsigned i = (unsigned)__builtin_ctz(~t->lt_mcs_used);
		ck_spinlock_mcs_context_t *n = &t->lt_mcs[i];
		t->lt_mcs_used |= 1u << i;
		ck_pr_store_uint(&n->locked, true);
		ck_pr_store_ptr(&n->next, NULL);
		ck_pr_fence_store_atomic();
		ck_spinlock_mcs_context_t *prev = ck_pr_fas_ptr(&m->mtx_u.ls_mcs, n);
		if (__builtin_expect(prev != NULL, 0)) {
			mutex_enter_mcs_slow(m, n, prev);
			return;
		}
		ck_pr_fence_lock();
		m->mtx_node = n;
		goto acquired;
	}
	if (__builtin_expect(self != 0, 1) && lock_try_fast(m, t, kind)) {
	acquired:
		/* holder-only fields: relaxed (see struct kmutex) */
		atomic_store_explicit(&m->mtx_owner, self, memory_order_relaxed);
		if (__builtin_expect(stat || charge != NULL, 0))
			lock_acquired_fast_extra(m, t, stat, charge);
		return;
	}
#else
	(void)likely;
#endif
	mutex_enter_slow(m);
}

LOCK_ALWAYS_INLINE void mutex_enter(kmutex_t *m)
{
	lock_enter_inline(m, LF_TAS);
}

/* The inline release: true if this thread held m exclusively and an
 * inline algorithm released it; false leaves m as it was, for the
 * out-of-line path.  mutex_exit() and rw_exit() each test ownership once,
 * here (rw_exit() of a writer tested it twice, through mutex_owned() and
 * again in mutex_exit(): docs/performance.md, section 30). */
LOCK_ALWAYS_INLINE bool lock_exit_inline(kmutex_t *m, unsigned likely)
{
#if LOCK_INLINE_FAST
	struct lock_thread *t = &lock_thread_tls;
	const uint32_t self = t->lt_self;
	const unsigned kind = m->mtx_fast;
	const uint32_t owner = atomic_load_explicit(&m->mtx_owner, memory_order_relaxed);
	if (__builtin_expect(kind != LF_NONE && self != 0 && (owner & ~LOCK_OWNER_RDEXCL) == self, 1)) {
		atomic_store_explicit(&m->mtx_owner, 0, memory_order_relaxed);
		/* a sampled hold (whatever lockstat says now: a start left behind
		 * would time the next, unsampled hold); resets the start */
		if (__builtin_expect(atomic_load_explicit(&m->mtx_t0, memory_order_relaxed) != 0, 0))
			lockstat_hold_end(m);
		if (__builtin_expect(kind == likely, 1))
			lock_exit_fast(m, t, likely);
		else
			lock_exit_fast(m, t, kind);
		return true;
	}
#else
	(void)m;
	(void)likely;
#endif
	return false;
}

LOCK_ALWAYS_INLINE void mutex_exit(kmutex_t *m)
{
	if (!lock_exit_inline(m, LF_TAS))
		mutex_exit_slow(m);
}

static inline bool mutex_owned(const kmutex_t *m)
{
	uint32_t self = lock_thread_tls.lt_self;
	return self != 0 &&
	    (atomic_load_explicit((_Atomic uint32_t *)&m->mtx_owner, memory_order_relaxed) & ~LOCK_OWNER_RDEXCL) == self;
}

LOCK_ALWAYS_INLINE void rw_enter(krwlock_t *rw, krw_t op)
{
	if (op == RW_WRITER)
		lock_enter_inline(&rw->rw_lock, LF_CKRW); /* exclusive: the mutex path */
	else
		rw_enter_slow(rw, op);
}

LOCK_ALWAYS_INLINE void rw_exit(krwlock_t *rw)
{
	/* a writer (or a reader holding a mutex algorithm exclusively) of an
	 * inline algorithm; anything else — readers, the out-of-line
	 * algorithms, a release by a thread that does not hold it — in
	 * rw_exit_slow() */
	if (!lock_exit_inline(&rw->rw_lock, LF_CKRW))
		rw_exit_slow(rw);
}

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_LOCK_H */
