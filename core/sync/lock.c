/*
 * lock.c — lock classes, the algorithm registry, and lockstat.
 *
 * Every kmutex_t / krwlock_t belongs to a class; the class's algorithm is
 * fixed when the lock is initialized (lock_configure() runs at boot, before
 * any lock exists).  The wrappers here do what every algorithm shares:
 *  - owner tracking (mutex_owned(), recursion and foreign-release checks);
 *  - per-thread pools of MCS and CLH queue nodes;
 *  - lockstat, in the style of Linux lock_stat (Documentation/locking/
 *    lockstat.rst) and NetBSD lockstat(8): per class and per CPU,
 *    acquisitions, contentions, bounces (acquired on another CPU than the
 *    last acquisition), wait time, hold time and queue length.  Only contended
 *    acquisitions take timestamps for the wait; hold time is timed for one
 *    acquisition in locks.hold_sample (64), drawn at random whether
 *    contended or not (lockstat_hold_draw(), pmapstorm/lock.h), so the
 *    uncontended path stays cheap and the samples are unbiased; averages and
 *    percentiles of hold time are over those samples;
 *  - ThreadSanitizer annotations: ck's atomics are inline assembly that
 *    TSan cannot see, so acquire/release edges are declared here.
 * The uncontended acquire and release are inline in pmapstorm/lock.h (the
 * fast path); what is here is the rest: a thread's first lock, contention
 * and its accounting, MCS, the broken lock, readers, and every path of a
 * ThreadSanitizer build.
 */
#include "lock_impl.h"
#include "../config/config_impl.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pmapstorm/stats.h>

#define TSAN_ACQUIRE(p) LOCK_TSAN_ACQUIRE(p)
#define TSAN_RELEASE(p) LOCK_TSAN_RELEASE(p)

extern const struct lock_algo lock_algo_tas, lock_algo_ticket, lock_algo_mcs, lock_algo_clh,
    lock_algo_pthread, lock_algo_pthread_adaptive, lock_algo_ckrw, lock_algo_pthread_rw, lock_algo_broken;

/* The zoo: one line per algorithm. */
static const struct lock_algo *const lock_algos[] = {
	&lock_algo_tas,
	&lock_algo_ticket,
	&lock_algo_mcs,
	&lock_algo_clh,
	&lock_algo_pthread,
	&lock_algo_pthread_adaptive,
	&lock_algo_ckrw,
	&lock_algo_pthread_rw,
	&lock_algo_broken,
	NULL,
};

struct lock_class_info {
	const char *lci_name;
	bool lci_rw;              /* taken with rw_enter() (shared readers) */
	const char *lci_default;
};

static const struct lock_class_info lock_classes[LC_NCLASS] = {
	[LC_PMAP] = {"pmap", false, "tas"},
	[LC_PV] = {"pv", false, "tas"},
	[LC_PMAPS] = {"pmaps", false, "tas"},
	[LC_PAGEFREE] = {"pagefree", false, "tas"},
	[LC_TLB_PACKET] = {"tlb_packet", false, "tas"},
	[LC_KERNEL_MAP] = {"kernel_map", true, "ck-rw"},
	[LC_POOL] = {"pool", false, "tas"},
};

static const struct lock_algo *class_algo[LC_NCLASS];
static lock_wait_fn class_wait = NULL;
_Atomic bool lockstat_on_flag = true;
uint64_t lockstat_hold_thr = UINT64_MAX / LOCKSTAT_HOLD_SAMPLE;

/* ---- lockstat counters and histograms, declared where they are bumped ---- */

#define LS_DECL(id, name)                                                                                  \
	STATS_COUNTER(ls_acq_##id, "lock." name ".acquisitions", "acquisitions of " name " locks")        \
	STATS_COUNTER(ls_con_##id, "lock." name ".contentions", "contended acquisitions of " name " locks") \
	STATS_COUNTER(ls_bnc_##id, "lock." name ".bounces", name " locks acquired on another CPU than the last acquisition") \
	STATS_HIST(ls_wait_##id, "lock." name ".wait", "ns", "wait time of contended " name " acquisitions")   \
	STATS_HIST(ls_hold_##id, "lock." name ".hold", "ns", "hold time of " name " locks (sampled)")          \
	STATS_HIST(ls_queue_##id, "lock." name ".queue", "waiters", "waiters found by contended " name " acquisitions")
LS_DECL(pmap, "pmap")
LS_DECL(pv, "pv")
LS_DECL(pmaps, "pmaps")
LS_DECL(pagefree, "pagefree")
LS_DECL(tlb_packet, "tlb_packet")
LS_DECL(kernel_map, "kernel_map")
LS_DECL(pool, "pool")

#define LS_ROW(id) {&ls_acq_##id, &ls_con_##id, &ls_bnc_##id, &ls_wait_##id, &ls_hold_##id, &ls_queue_##id}
/* the inline fast path's counters (pmapstorm/lock.h) */
struct stats_counter *const lockstat_acq_counter[LC_NCLASS] = {
	[LC_PMAP] = &ls_acq_pmap, [LC_PV] = &ls_acq_pv, [LC_PMAPS] = &ls_acq_pmaps, [LC_PAGEFREE] = &ls_acq_pagefree,
	[LC_TLB_PACKET] = &ls_acq_tlb_packet, [LC_KERNEL_MAP] = &ls_acq_kernel_map, [LC_POOL] = &ls_acq_pool,
};
struct stats_counter *const lockstat_bounce_counter[LC_NCLASS] = {
	[LC_PMAP] = &ls_bnc_pmap, [LC_PV] = &ls_bnc_pv, [LC_PMAPS] = &ls_bnc_pmaps, [LC_PAGEFREE] = &ls_bnc_pagefree,
	[LC_TLB_PACKET] = &ls_bnc_tlb_packet, [LC_KERNEL_MAP] = &ls_bnc_kernel_map, [LC_POOL] = &ls_bnc_pool,
};

static const struct {
	struct stats_counter *acq, *con, *bnc;
	struct stats_hist *wait, *hold, *queue;
} ls[LC_NCLASS] = {
	[LC_PMAP] = LS_ROW(pmap),
	[LC_PV] = LS_ROW(pv),
	[LC_PMAPS] = LS_ROW(pmaps),
	[LC_PAGEFREE] = LS_ROW(pagefree),
	[LC_TLB_PACKET] = LS_ROW(tlb_packet),
	[LC_KERNEL_MAP] = LS_ROW(kernel_map),
	[LC_POOL] = LS_ROW(pool),
};

/* ---- waiting and the clock, through the machine ---- */

static void default_wait(unsigned *iter)
{
	if ((*iter)++ < 64)
		__builtin_ia32_pause();
	else
		sched_yield();
}

static void default_spin(unsigned *iter)
{
	(void)iter;
	__builtin_ia32_pause();
}

static void (*_Atomic wait_fn)(unsigned *) = default_wait;
static void (*_Atomic spin_fn)(unsigned *) = default_spin;

void sync_set_wait(void (*wait)(unsigned *iter), void (*spin)(unsigned *iter))
{
	atomic_store(&wait_fn, wait != NULL ? wait : default_wait);
	atomic_store(&spin_fn, spin != NULL ? spin : default_spin);
}

void sync_wait(unsigned *iter)
{
	atomic_load_explicit(&wait_fn, memory_order_relaxed)(iter);
}

void lock_wait_spin(unsigned *iter)
{
	atomic_load_explicit(&spin_fn, memory_order_relaxed)(iter);
}

void lock_sleep_deadline(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += LOCK_SLEEP_SLICE_NS;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static uint64_t default_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t (*_Atomic clock_fn)(void) = default_clock;

void sync_set_clock(uint64_t (*now)(void))
{
	atomic_store(&clock_fn, now != NULL ? now : default_clock);
}

static inline uint64_t ls_now(void)
{
	return atomic_load_explicit(&clock_fn, memory_order_relaxed)();
}

/* ---- classes and the registry ---- */

const char *lock_class_name(lock_class_t c)
{
	return (unsigned)c < LC_NCLASS ? lock_classes[c].lci_name : "?";
}

int lock_class_find(const char *name)
{
	for (int c = 0; c < LC_NCLASS; c++)
		if (strcmp(lock_classes[c].lci_name, name) == 0)
			return c;
	return -1;
}

bool lock_class_is_rw(lock_class_t c)
{
	return lock_classes[c].lci_rw;
}

const char *lock_class_default(lock_class_t c)
{
	return lock_classes[c].lci_default;
}

const struct lock_algo_info *lock_algo_at(unsigned i)
{
	for (unsigned k = 0; lock_algos[k] != NULL; k++)
		if (k == i)
			return &lock_algos[k]->la_info;
	return NULL;
}

static const struct lock_algo *algo_find(const char *name)
{
	for (unsigned k = 0; lock_algos[k] != NULL; k++)
		if (strcmp(lock_algos[k]->la_info.li_name, name) == 0)
			return lock_algos[k];
	return NULL;
}

bool lock_algo_check(lock_class_t c, const char *name, bool allow_unsafe, char *why, size_t len)
{
	const struct lock_algo *a = algo_find(name);
	if (a == NULL || (a->la_info.li_unsafe && !allow_unsafe)) {
		size_t n = (size_t)snprintf(why, len, a ? "'%s' is a deliberately broken lock (needs "
		                                          "locks.allow_unsafe = yes); valid: "
		                                        : "unknown lock algorithm '%s'; valid: ", name);
		for (unsigned k = 0, first = 1; lock_algos[k] != NULL && n < len; k++) {
			const struct lock_algo_info *i = &lock_algos[k]->la_info;
			if (i->li_unsafe || (i->li_rw && !lock_class_is_rw(c)))
				continue;
			n += (size_t)snprintf(why + n, len - n, "%s%s", first ? "" : ", ", i->li_name);
			first = 0;
		}
		return false;
	}
	if (a->la_info.li_rw && !lock_class_is_rw(c)) {
		snprintf(why, len,
		    "'%s' is a reader-writer lock, but %s locks are taken exclusively (mutex_enter): "
		    "reader-writer algorithms suit read-mostly classes (kernel_map)", name, lock_class_name(c));
		return false;
	}
	return true;
}

int lock_configure(const char (*algo)[LOCK_ALGO_NAMELEN], enum lock_wait wait, bool stat, bool allow_unsafe)
{
	char why[256];
	for (int c = 0; c < LC_NCLASS; c++) {
		const char *name = (algo != NULL && algo[c][0] != '\0') ? algo[c] : lock_classes[c].lci_default;
		if (!lock_algo_check((lock_class_t)c, name, allow_unsafe, why, sizeof(why)))
			return EINVAL;
	}
	for (int c = 0; c < LC_NCLASS; c++)
		class_algo[c] = algo_find((algo != NULL && algo[c][0] != '\0') ? algo[c] : lock_classes[c].lci_default);
	class_wait = wait == LOCK_WAIT_SPIN ? lock_wait_spin : NULL;
	atomic_store(&lockstat_on_flag, stat);
	return 0;
}

/* ---- the keys: locks.<class>, locks.wait, locks.lockstat, locks.hold_sample, locks.allow_unsafe ---- */

enum { LK_WAIT = LC_NCLASS, LK_LOCKSTAT, LK_HOLD_SAMPLE, LK_UNSAFE, LK_N };
static const char *const wait_values[] = {"spin-yield", "spin", NULL};

static lock_class_t key_class(const struct cfg_key *k)
{
	return (lock_class_t)lock_class_find(k->ck_name + strlen("locks."));
}
/* the knob holds 1 + the algorithm's index in lock_algos[] (0: the class's default) */
static int lockalgo_set(const struct cfg_key *k, struct machine_config *c, const char *v)
{
	char why[384];
	bool unsafe = machine_knob(c, &lock_keys[LK_UNSAFE]) != 0;
	if (v == NULL || !lock_algo_check(key_class(k), v, unsafe, why, sizeof(why)))
		return machine_seterr(EINVAL, "%s: %s", k->ck_name, v == NULL ? "no value" : why);
	unsigned i = 0;
	while (strcmp(lock_algos[i]->la_info.li_name, v) != 0)
		i++;
	return machine_knob_store(c, k, i + 1);
}
static const char *lockalgo_name(const struct machine_config *c, lock_class_t cls)
{
	uint64_t i = machine_knob(c, &lock_keys[cls]);
	return i == 0 ? lock_classes[cls].lci_default : lock_algos[i - 1]->la_info.li_name;
}
static void lockalgo_get(const struct cfg_key *k, const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", lockalgo_name(c, key_class(k)));
}
static void unsafe_get(const struct cfg_key *k, const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", machine_knob(c, k) ? "yes" : "no");
}

#define LOCK_CLASS_KEY(cls, name, def, help) \
	[cls] = CFG_KEY("locks." name, CFG_TEXT, 0, 0, NULL, def, help, .ck_set = lockalgo_set, .ck_get = lockalgo_get)
const struct cfg_key lock_keys[] = {
	LOCK_CLASS_KEY(LC_PMAP, "pmap", "tas", "algorithm of the `pmap` lock class (`pmapstorm list locks`)"),
	LOCK_CLASS_KEY(LC_PV, "pv", "tas", "… of the per-page pv-list locks"),
	LOCK_CLASS_KEY(LC_PMAPS, "pmaps", "tas", "… of PCID allocation and `pmap_growkernel`"),
	LOCK_CLASS_KEY(LC_PAGEFREE, "pagefree", "tas", "… of the physical free list"),
	LOCK_CLASS_KEY(LC_TLB_PACKET, "tlb_packet", "tas",
	    "… of shootdown packet state (for strategies that lock it; netbsd-x86 claims its packet by CAS)"),
	LOCK_CLASS_KEY(LC_KERNEL_MAP, "kernel_map", "ck-rw",
	    "… of kernel_map and submaps: a read-mostly class, so reader-writer algorithms are allowed here only"),
	LOCK_CLASS_KEY(LC_POOL, "pool", "tas", "… of pool caches"),
	[LK_WAIT] = CFG_KEY("locks.wait", CFG_ENUM, 0, 0, wait_values, "spin-yield",
	    "how spinning locks wait. `spin-yield`: the machine's wait (take IPIs, pause, then yield as `machine.spin` "
	    "says). `spin`: take IPIs and pause, never yield (use it only with no more simulated CPUs than host cores)"),
	[LK_LOCKSTAT] = CFG_KEY("locks.lockstat", CFG_BOOL, 0, 0, NULL, "on",
	    "lockstat: per class and per CPU acquisitions, contentions, bounces, wait and hold times, queue length "
	    "(off whatever this says with `stats.enabled = off`)"),
	[LK_HOLD_SAMPLE] = CFG_KEY("locks.hold_sample", CFG_UINT, 1, 1u << 20, NULL, CFG_STR(LOCKSTAT_HOLD_SAMPLE),
	    "lockstat times the hold of one acquisition in this many, drawn at random (1: every hold). Hold-time "
	    "averages and percentiles are over the timed holds; each costs two clock reads"),
	[LK_UNSAFE] = CFG_KEY("locks.allow_unsafe", CFG_BOOL, 0, 0, NULL, "no",
	    "allow the deliberately broken lock `broken` (for validators)", .ck_get = unsafe_get),
	{0},
};
_Static_assert(LC_NCLASS == 7, "a lock class without its locks.<class> key");
/* what a waiter touches fills the first line, the rest starts the second
 * (pmapstorm/lock.h) */
_Static_assert(offsetof(kmutex_t, mtx_algo) == 64, "kmutex_t: the waiters' fields fill its first line");

void lock_config_read(const struct machine_config *c, char (*algo)[LOCK_ALGO_NAMELEN], enum lock_wait *wait,
    bool *lockstat, bool *allow_unsafe)
{
	for (int cls = 0; cls < LC_NCLASS; cls++)
		snprintf(algo[cls], LOCK_ALGO_NAMELEN, "%s", lockalgo_name(c, (lock_class_t)cls));
	*wait = (enum lock_wait)machine_knob(c, &lock_keys[LK_WAIT]);
	*lockstat = machine_knob(c, &lock_keys[LK_LOCKSTAT]) != 0;
	*allow_unsafe = machine_knob(c, &lock_keys[LK_UNSAFE]) != 0;
}

/* Every class's algorithm against locks.allow_unsafe as the whole config
 * has them (allow_unsafe may have been withdrawn after a class was set). */
int lock_config_validate(const struct machine_config *c)
{
	char algo[LC_NCLASS][LOCK_ALGO_NAMELEN], why[384];
	enum lock_wait wait;
	bool stat, unsafe;
	lock_config_read(c, algo, &wait, &stat, &unsafe);
	for (int cls = 0; cls < LC_NCLASS; cls++)
		if (!lock_algo_check((lock_class_t)cls, algo[cls], unsafe, why, sizeof(why)))
			return machine_seterr(EINVAL, "locks.%s: %s", lock_class_name((lock_class_t)cls), why);
	return 0;
}

int lock_configure_from(const struct machine_config *c)
{
	char algo[LC_NCLASS][LOCK_ALGO_NAMELEN];
	enum lock_wait wait;
	bool stat, unsafe;
	lock_config_read(c, algo, &wait, &stat, &unsafe);
	lockstat_hold_sample_set((unsigned)machine_knob(c, &lock_keys[LK_HOLD_SAMPLE]));
	/* lockstat is statistics: off with the rest of them (stats.enabled),
	 * or it would go on reading clocks for figures nothing records */
	return lock_configure((const char(*)[LOCK_ALGO_NAMELEN])algo, wait, stat && c->mc_stats, unsafe);
}

void lockstat_enable(bool on)
{
	atomic_store(&lockstat_on_flag, on);
}

void lockstat_hold_sample_set(unsigned n)
{
	lockstat_hold_thr = stats_sample_threshold(n);
}

void lockstat_hold_seed(uint64_t seed)
{
	lock_thread_tls.lt_sample = stats_sample_seed(seed);
}

bool lockstat_enabled(void)
{
	return atomic_load_explicit(&lockstat_on_flag, memory_order_relaxed);
}

/* ---- per-thread state: lock id, queue-node pools ---- */

#define LOCK_CLH_POOL_MAX 64 /* nodes a thread keeps (try failures move nodes between threads) */

_Thread_local struct lock_thread lock_thread_tls __attribute__((tls_model("initial-exec")));
#define lock_self (lock_thread_tls.lt_self)
static _Atomic uint32_t lock_next_id;
static pthread_key_t clh_key;
static pthread_once_t clh_once = PTHREAD_ONCE_INIT;

static inline uint32_t self_id(void)
{
	if (__builtin_expect(lock_self == 0, 0))
		lock_self = atomic_fetch_add(&lock_next_id, 1) + 1;
	return lock_self;
}

_Noreturn static void lock_panic(const kmutex_t *m, const char *what)
{
	fprintf(stderr, "pmapstorm: panic: %s lock %p: %s\n", lock_class_name(m->mtx_class), (const void *)m, what);
	abort();
}

ck_spinlock_mcs_context_t *lock_mcs_node_get(void)
{
	struct lock_thread *t = &lock_thread_tls;
	if (t->lt_mcs_used == UINT32_MAX) {
		fprintf(stderr, "pmapstorm: panic: more than %d MCS locks held by one thread\n", LOCK_MCS_NODES);
		abort();
	}
	unsigned i = (unsigned)__builtin_ctz(~t->lt_mcs_used);
	t->lt_mcs_used |= 1u << i;
	return &t->lt_mcs[i];
}

void lock_mcs_node_put(ck_spinlock_mcs_context_t *n)
{
	struct lock_thread *t = &lock_thread_tls;
	t->lt_mcs_used &= ~(1u << (unsigned)(n - t->lt_mcs));
}

/* A thread's CLH nodes go with it (the key's value is only a marker). */
static void clh_pool_free(void *p)
{
	(void)p;
	struct lock_thread *t = &lock_thread_tls;
	for (struct lock_clh_node *n = t->lt_clh_free, *next; n != NULL; n = next) {
		next = n->cn_free_next;
		free(n);
	}
	t->lt_clh_free = NULL;
	t->lt_clh_nfree = 0;
}

static void clh_key_make(void)
{
	pthread_key_create(&clh_key, clh_pool_free);
}

struct lock_clh_node *lock_clh_node_alloc(void)
{
	struct lock_clh_node *n = mem_alloc(struct lock_clh_node, 1);
	if (n == NULL) {
		fprintf(stderr, "pmapstorm: out of memory for a CLH node\n");
		abort();
	}
	n->cn_prev = n->cn_free_next = NULL;
	atomic_store_explicit(&n->cn_state, LOCK_CLH_AVAILABLE, memory_order_relaxed);
	return n;
}

struct lock_clh_node *lock_clh_node_get(void)
{
	struct lock_thread *t = &lock_thread_tls;
	struct lock_clh_node *n = t->lt_clh_free;
	if (n != NULL) {
		t->lt_clh_free = n->cn_free_next;
		t->lt_clh_nfree--;
		return n;
	}
	/* the pool goes when the thread does (the first allocation marks it) */
	pthread_once(&clh_once, clh_key_make);
	pthread_setspecific(clh_key, &lock_thread_tls);
	return lock_clh_node_alloc();
}

void lock_clh_node_put(struct lock_clh_node *n)
{
	struct lock_thread *t = &lock_thread_tls;
	if (t->lt_clh_nfree >= LOCK_CLH_POOL_MAX) {
		free(n); /* nobody points at a node that came back */
		return;
	}
	n->cn_free_next = t->lt_clh_free;
	t->lt_clh_free = n;
	t->lt_clh_nfree++;
}

/* ---- lockstat ---- */

/* after an acquisition: counted; maybe start timing the hold (exclusive
 * only: the caller keeps the start).  t1: the clock at the end of a wait,
 * 0 if none was read.  Bounces are lock_acquired_extra()'s. */
static inline uint64_t ls_acquired(kmutex_t *m, uint64_t t1)
{
	stats_inc(ls[m->mtx_class].acq);
	if (!lockstat_hold_draw(&lock_thread_tls))
		return 0;
	return t1 != 0 ? t1 : ls_now();
}

/* Every out-of-line acquisition, once: the last acquirer, lockstat's
 * bounce, the virtual-time charge (lock_note_acquirer, pmapstorm/lock.h) */
static inline void lock_acquired_extra(kmutex_t *m)
{
	void (*charge)(bool) = lock_thread_tls.lt_charge;
	const bool stat = atomic_load_explicit(&lockstat_on_flag, memory_order_relaxed);
	if (!stat && charge == NULL)
		return;
	const bool bounced = lock_note_acquirer(m, lock_thread_tls.lt_cpu1);
	if (stat && bounced)
		stats_inc(ls[m->mtx_class].bnc);
	if (charge != NULL)
		charge(bounced);
}

/* The inline path's hold sample: start (acquired) and end (released). */
void lockstat_hold_begin(kmutex_t *m)
{
	atomic_store_explicit(&m->mtx_t0, ls_now(), memory_order_relaxed);
}

void lockstat_hold_end(kmutex_t *m)
{
	uint64_t t0 = atomic_load_explicit(&m->mtx_t0, memory_order_relaxed);
	atomic_store_explicit(&m->mtx_t0, 0, memory_order_relaxed);
	if (t0 != 0)
		stats_hist_record(ls[m->mtx_class].hold, ls_now() - t0);
}

/*
 * Call sites (lockstat -s, perf lock contention's callers): per class, an
 * open-addressed table of the return addresses that found a lock taken,
 * with their contentions and wait time.  Written on the contended path
 * only (fetch_add: several CPUs may wait at one site), read at quiescent
 * points; a full table counts the rest as lost.
 */
#define LS_SITE_SLOTS 64
struct ls_site {
	_Atomic uintptr_t s_pc;
	_Atomic uint64_t s_cont, s_wait;
};
static struct ls_site ls_sites[LC_NCLASS][LS_SITE_SLOTS];
static _Atomic uint64_t ls_sites_lost[LC_NCLASS];

static void ls_site_note(unsigned c, uintptr_t pc, uint64_t wait_ns)
{
	unsigned h = (unsigned)((pc >> 4) * 0x9E3779B1u) % LS_SITE_SLOTS;
	for (unsigned i = 0; i < LS_SITE_SLOTS; i++) {
		struct ls_site *s = &ls_sites[c][(h + i) % LS_SITE_SLOTS];
		uintptr_t cur = atomic_load_explicit(&s->s_pc, memory_order_relaxed);
		if (cur == 0 && atomic_compare_exchange_strong_explicit(&s->s_pc, &cur, pc, memory_order_relaxed,
		                    memory_order_relaxed))
			cur = pc;
		if (cur != pc)
			continue;
		atomic_fetch_add_explicit(&s->s_cont, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->s_wait, wait_ns, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&ls_sites_lost[c], 1, memory_order_relaxed);
}

void lockstat_sites_reset(void)
{
	for (int c = 0; c < LC_NCLASS; c++) {
		for (unsigned i = 0; i < LS_SITE_SLOTS; i++) {
			atomic_store_explicit(&ls_sites[c][i].s_pc, 0, memory_order_relaxed);
			atomic_store_explicit(&ls_sites[c][i].s_cont, 0, memory_order_relaxed);
			atomic_store_explicit(&ls_sites[c][i].s_wait, 0, memory_order_relaxed);
		}
		atomic_store_explicit(&ls_sites_lost[c], 0, memory_order_relaxed);
	}
}

void sync_set_wait_slot(_Atomic(const kmutex_t *) *slot)
{
	lock_thread_tls.lt_wait_slot = slot;
}

void sync_set_charge(void (*charge)(bool bounced))
{
	lock_thread_tls.lt_charge = charge;
}

void sync_set_cpu(int cpu)
{
	lock_thread_tls.lt_cpu1 = (uint16_t)(cpu >= 0 && cpu < UINT16_MAX ? cpu + 1 : 0);
}

uint32_t lock_thread_id(void)
{
	return self_id();
}

uint32_t lock_holder(const kmutex_t *m)
{
	return atomic_load_explicit((_Atomic uint32_t *)&m->mtx_owner, memory_order_relaxed) & ~LOCK_OWNER_RDEXCL;
}

/* The watchdog's view of a contended acquisition (sync_set_wait_slot): the
 * lock this thread waits for, from before its wait until it owns; the
 * previous value comes back after (an interrupt taken during a wait may
 * wait for a lock of its own).  Only the slow paths pay, a load and two
 * stores: the uncontended path keeps no record of what a thread holds
 * (docs/performance.md, section 26). */
static inline const kmutex_t *lock_wait_note(const kmutex_t *m)
{
	_Atomic(const kmutex_t *) *slot = lock_thread_tls.lt_wait_slot;
	if (slot == NULL)
		return NULL;
	const kmutex_t *prev = atomic_load_explicit(slot, memory_order_relaxed);
	/* release: the dump reads the lock's class through the pointer */
	atomic_store_explicit(slot, m, memory_order_release);
	return prev;
}

static inline void lock_wait_done(const kmutex_t *prev)
{
	_Atomic(const kmutex_t *) *slot = lock_thread_tls.lt_wait_slot;
	if (slot != NULL)
		atomic_store_explicit(slot, prev, memory_order_release);
}

/* A contended acquisition, counted and timed (lock_slow(), and the waits
 * the inline paths began: a ticket taken, an MCS node queued):
 * ls_wait_begin() before the wait (0 with lockstat off), ls_wait_end()
 * after it, with the call site; it returns the hold start. */
static inline uint64_t ls_wait_begin(kmutex_t *m, bool stat, bool exclusive)
{
	if (exclusive && lock_self != 0 &&
	    (atomic_load_explicit(&m->mtx_owner, memory_order_relaxed) & ~LOCK_OWNER_RDEXCL) == lock_self)
		lock_panic(m, "recursive acquisition");
	if (!stat)
		return 0;
	unsigned q = atomic_fetch_add_explicit(&m->mtx_waiters, 1, memory_order_relaxed);
	stats_inc(ls[m->mtx_class].con);
	stats_hist_record(ls[m->mtx_class].queue, q + 1);
	return ls_now();
}

static inline uint64_t ls_wait_end(kmutex_t *m, bool stat, bool exclusive, uint64_t t0, uintptr_t pc)
{
	if (!stat)
		return 0;
	uint64_t t1 = ls_now();
	atomic_fetch_sub_explicit(&m->mtx_waiters, 1, memory_order_relaxed);
	stats_hist_record(ls[m->mtx_class].wait, t1 - t0);
	ls_site_note(m->mtx_class, pc, t1 - t0);
	if (!exclusive) {
		stats_inc(ls[m->mtx_class].acq); /* counted; a shared hold is not timed (no draw) */
		return 0;
	}
	return ls_acquired(m, t1);
}

/* The slow path: wait, counted and timed.  Returns the hold start.
 * => pc: the caller of mutex_enter()/rw_enter() (the call site) */
static uint64_t lock_slow(kmutex_t *m, bool shared, uintptr_t pc)
{
	const struct lock_algo *a = m->mtx_algo;
	lock_wait_fn w = class_wait != NULL ? class_wait : sync_wait;
	bool stat = atomic_load_explicit(&lockstat_on_flag, memory_order_relaxed);
	uint64_t t0 = ls_wait_begin(m, stat, !shared);
	const kmutex_t *outer = lock_wait_note(m);
	if (shared)
		a->la_wait_read(m, w);
	else
		a->la_wait(m, w);
	lock_wait_done(outer);
	return ls_wait_end(m, stat, !shared, t0, pc);
}

/* ---- mutex(9) ---- */

static const struct lock_algo *algo_of(lock_class_t c)
{
	const struct lock_algo *a = class_algo[c] != NULL ? class_algo[c] : algo_find(lock_classes[c].lci_default);
	if (a->la_info.li_rw && !lock_classes[c].lci_rw)
		a = algo_find(lock_classes[c].lci_default);
	return a;
}

void mutex_init(kmutex_t *m, lock_class_t c)
{
	memset(m, 0, sizeof(*m));
	m->mtx_class = (uint8_t)c;
	m->mtx_algo = algo_of(c);
	m->mtx_fast = m->mtx_algo->la_fast;
	m->mtx_ls_acq = (uint16_t)ls[c].acq->sc_index;
	m->mtx_ls_bnc = (uint16_t)ls[c].bnc->sc_index;
	m->mtx_algo->la_init(m);
}

void mutex_destroy(kmutex_t *m)
{
	if (atomic_load_explicit(&m->mtx_owner, memory_order_relaxed) != 0)
		lock_panic(m, "destroyed while held");
	if (m->mtx_algo != NULL && m->mtx_algo->la_destroy != NULL)
		m->mtx_algo->la_destroy(m);
}

/* The default algorithm's try and release, called directly: an indirect
 * call costs about as much as the whole uncontended TAS acquisition. */
static inline bool algo_try(kmutex_t *m)
{
	if (m->mtx_algo == &lock_algo_tas)
		return ck_spinlock_fas_trylock(&m->mtx_u.ls_fas);
	return m->mtx_algo->la_try(m);
}

static inline void algo_exit(kmutex_t *m)
{
	if (m->mtx_algo == &lock_algo_tas)
		ck_spinlock_fas_unlock(&m->mtx_u.ls_fas);
	else
		m->mtx_algo->la_exit(m);
}

/* => the exclusive acquisition itself; the owner is recorded by the caller */
static inline uint64_t lock_enter(kmutex_t *m, uintptr_t pc)
{
	if (__builtin_expect(algo_try(m), 1))
		return atomic_load_explicit(&lockstat_on_flag, memory_order_relaxed) ? ls_acquired(m, 0) : 0;
	return lock_slow(m, false, pc);
}

/* the caller holds m exclusively since hold start t0: record the owner */
static inline void lock_own(kmutex_t *m, uint64_t t0)
{
	TSAN_ACQUIRE(m);
	atomic_store_explicit(&m->mtx_t0, t0, memory_order_relaxed);
	atomic_store_explicit(&m->mtx_owner, lock_self, memory_order_relaxed);
	lock_acquired_extra(m);
}

/* The inline ticket path took a ticket that is not served yet: wait for it
 * and own, as mutex_enter_slow() does after its own wait.  Called from the
 * inline mutex_enter(), so the return address is the call site. */
void mutex_enter_ticket_slow(kmutex_t *m, uint32_t ticket)
{
	lock_wait_fn w = class_wait != NULL ? class_wait : sync_wait;
	bool stat = atomic_load_explicit(&lockstat_on_flag, memory_order_relaxed);
	uint64_t t0 = ls_wait_begin(m, stat, true);
	const kmutex_t *outer = lock_wait_note(m);
	lock_ticket_wait_for(m, ticket, w);
	lock_wait_done(outer);
	lock_own(m, ls_wait_end(m, stat, true, t0, (uintptr_t)__builtin_return_address(0)));
}

/* The inline MCS path swapped node n in behind prev: link and wait, then own. */
void mutex_enter_mcs_slow(kmutex_t *m, ck_spinlock_mcs_context_t *n, ck_spinlock_mcs_context_t *prev)
{
	lock_wait_fn w = class_wait != NULL ? class_wait : sync_wait;
	bool stat = atomic_load_explicit(&lockstat_on_flag, memory_order_relaxed);
	uint64_t t0 = ls_wait_begin(m, stat, true);
	const kmutex_t *outer = lock_wait_note(m);
	lock_mcs_wait_behind(m, n, prev, w);
	lock_wait_done(outer);
	lock_own(m, ls_wait_end(m, stat, true, t0, (uintptr_t)__builtin_return_address(0)));
}

/* => pc: the call site, for lockstat's sites */
static inline void mutex_enter_at(kmutex_t *m, uintptr_t pc)
{
	(void)self_id(); /* a thread's first lock: from now on the inline path serves it */
	lock_own(m, lock_enter(m, pc));
}

/* mutex_enter()'s path beyond the inline one (pmapstorm/lock.h): the
 * return address is mutex_enter()'s call site */
void mutex_enter_slow(kmutex_t *m)
{
	mutex_enter_at(m, (uintptr_t)__builtin_return_address(0));
}

bool mutex_tryenter(kmutex_t *m)
{
	if (!algo_try(m))
		return false;
	uint64_t t0 = atomic_load_explicit(&lockstat_on_flag, memory_order_relaxed) ? ls_acquired(m, 0) : 0;
	TSAN_ACQUIRE(m);
	atomic_store_explicit(&m->mtx_t0, t0, memory_order_relaxed);
	atomic_store_explicit(&m->mtx_owner, self_id(), memory_order_relaxed);
	lock_acquired_extra(m);
	return true;
}

/* mutex_exit()'s path beyond the inline one (pmapstorm/lock.h) */
void mutex_exit_slow(kmutex_t *m)
{
	uint32_t owner = atomic_load_explicit(&m->mtx_owner, memory_order_relaxed) & ~LOCK_OWNER_RDEXCL;
	if (__builtin_expect(owner != lock_self || lock_self == 0, 0) &&
	    !m->mtx_algo->la_info.li_unsafe) /* a broken lock has two holders at once: that is its point */
		lock_panic(m, "released by a thread that does not hold it");
	atomic_store_explicit(&m->mtx_owner, 0, memory_order_relaxed);
	if (atomic_load_explicit(&m->mtx_t0, memory_order_relaxed) != 0)
		lockstat_hold_end(m); /* a timed hold (whatever lockstat says now) */
	TSAN_RELEASE(m);
	algo_exit(m);
}

/* ---- rwlock(9) ---- */

void rw_init(krwlock_t *rw, lock_class_t c)
{
	kmutex_t *m = &rw->rw_lock;
	memset(m, 0, sizeof(*m));
	m->mtx_class = (uint8_t)c;
	m->mtx_algo = class_algo[c] != NULL ? class_algo[c] : algo_find(lock_classes[c].lci_default);
	m->mtx_fast = m->mtx_algo->la_fast;
	m->mtx_ls_acq = (uint16_t)ls[c].acq->sc_index;
	m->mtx_ls_bnc = (uint16_t)ls[c].bnc->sc_index;
	m->mtx_algo->la_init(m);
}

void rw_destroy(krwlock_t *rw)
{
	mutex_destroy(&rw->rw_lock);
}

/*
 * Shared holds are counted (acquisitions, contentions, wait) but their hold
 * time is not timed: several readers hold at once and the lock has one
 * holder slot.
 */
static bool rw_enter_common(krwlock_t *rw, krw_t op, bool try_only, uintptr_t pc)
{
	kmutex_t *m = &rw->rw_lock;
	const struct lock_algo *a = m->mtx_algo;
	if (op == RW_WRITER || !a->la_info.li_rw) {
		/* exclusive (a mutex algorithm serves readers exclusively too) */
		if (try_only && !mutex_tryenter(m))
			return false;
		if (!try_only)
			mutex_enter_at(m, pc);
		if (op == RW_READER) /* held, but not "write held" */
			atomic_store_explicit(&m->mtx_owner, self_id() | LOCK_OWNER_RDEXCL, memory_order_relaxed);
		return true;
	}
	if (a->la_try_read(m)) {
		if (atomic_load_explicit(&lockstat_on_flag, memory_order_relaxed))
			stats_inc(ls[m->mtx_class].acq); /* counted; a shared hold is not timed */
	} else if (try_only) {
		return false;
	} else {
		(void)lock_slow(m, true, pc);
	}
	lock_acquired_extra(m);
	TSAN_ACQUIRE(m);
	return true;
}

/* rw_enter()'s path beyond the inline one: readers (pmapstorm/lock.h) */
void rw_enter_slow(krwlock_t *rw, krw_t op)
{
	rw_enter_common(rw, op, false, (uintptr_t)__builtin_return_address(0));
}

bool rw_tryenter(krwlock_t *rw, krw_t op)
{
	return rw_enter_common(rw, op, true, 0);
}

/* rw_exit()'s path beyond the inline one (lock_exit_inline() declined):
 * a reader, an exclusive holder of an out-of-line algorithm, or a foreign
 * release */
void rw_exit_slow(krwlock_t *rw)
{
	kmutex_t *m = &rw->rw_lock;
	if (mutex_owned(m) || !m->mtx_algo->la_info.li_rw) {
		mutex_exit_slow(m);
		return;
	}
	TSAN_RELEASE(m); /* a shared hold is not timed (see rw_enter_common) */
	m->mtx_algo->la_exit_read(m);
}

bool rw_write_held(const krwlock_t *rw)
{
	return mutex_owned(&rw->rw_lock) &&
	    !(atomic_load_explicit(&rw->rw_lock.mtx_owner, memory_order_relaxed) & LOCK_OWNER_RDEXCL);
}

/* ---- reading lockstat ---- */

void lockstat_read(struct lockstat_row *rows, int cpu)
{
	for (int c = 0; c < LC_NCLASS; c++) {
		struct lockstat_row *r = &rows[c];
		struct stats_hist_summary w, h, q;
		memset(r, 0, sizeof(*r));
		r->lr_class = lock_classes[c].lci_name;
		const struct lock_algo *a = class_algo[c] != NULL ? class_algo[c] : algo_find(lock_classes[c].lci_default);
		r->lr_algo = a->la_info.li_name;
		r->lr_acquisitions = cpu < 0 ? stats_counter_total(ls[c].acq) : stats_counter_cpu(ls[c].acq, cpu);
		r->lr_contentions = cpu < 0 ? stats_counter_total(ls[c].con) : stats_counter_cpu(ls[c].con, cpu);
		r->lr_bounces = cpu < 0 ? stats_counter_total(ls[c].bnc) : stats_counter_cpu(ls[c].bnc, cpu);
		stats_hist_summarize(ls[c].wait, cpu, &w);
		stats_hist_summarize(ls[c].hold, cpu, &h);
		stats_hist_summarize(ls[c].queue, cpu, &q);
		r->lr_wait_total_ns = w.hs_sum;
		r->lr_wait_max_ns = w.hs_max;
		r->lr_wait_min_ns = w.hs_min;
		r->lr_wait_avg_ns = w.hs_mean;
		r->lr_wait_p99_ns = w.hs_p99;
		r->lr_hold_samples = h.hs_count;
		r->lr_hold_avg_ns = h.hs_mean;
		r->lr_hold_max_ns = h.hs_max;
		r->lr_hold_p99_ns = h.hs_p99;
		r->lr_max_queue = q.hs_max;
		if (cpu >= 0)
			continue;
		/* the sites that waited longest (a selection: the table is small) */
		r->lr_sites_lost = atomic_load_explicit(&ls_sites_lost[c], memory_order_relaxed);
		for (unsigned i = 0; i < LS_SITE_SLOTS; i++) {
			struct lockstat_site st = {atomic_load_explicit(&ls_sites[c][i].s_pc, memory_order_relaxed),
			    atomic_load_explicit(&ls_sites[c][i].s_cont, memory_order_relaxed),
			    atomic_load_explicit(&ls_sites[c][i].s_wait, memory_order_relaxed)};
			if (st.ls_pc == 0 || st.ls_contentions == 0)
				continue;
			/* longest wait first; ties by address, not by the table's
			 * order (a hash of the address, which moves with where the
			 * binary was loaded): a virtual-time run lists the same
			 * sites in the same order every time */
#define LS_BEFORE(a, b) ((a).ls_wait_ns > (b).ls_wait_ns || ((a).ls_wait_ns == (b).ls_wait_ns && (a).ls_pc < (b).ls_pc))
			unsigned k = r->lr_nsites < LOCKSTAT_SITES ? r->lr_nsites++ : LOCKSTAT_SITES;
			if (k == LOCKSTAT_SITES) {
				if (!LS_BEFORE(st, r->lr_sites[LOCKSTAT_SITES - 1]))
					continue;
				k = LOCKSTAT_SITES - 1;
			}
			for (; k > 0 && LS_BEFORE(st, r->lr_sites[k - 1]); k--)
				r->lr_sites[k] = r->lr_sites[k - 1];
			r->lr_sites[k] = st;
#undef LS_BEFORE
		}
	}
}

const struct stats_hist *lockstat_hist(lock_class_t c, bool hold)
{
	return hold ? ls[c].hold : ls[c].wait;
}
