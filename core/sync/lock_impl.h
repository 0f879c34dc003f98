/*
 * lock_impl.h — the interface between the lock layer (lock.c) and the
 * algorithms of the zoo (lock_*.c, one file each, one line in lock.c's
 * table).
 *
 * An algorithm provides a try (no waiting), a wait (after a failed try,
 * waiting through the given wait function), and a release; reader-writer
 * algorithms also the shared-mode three.  lock.c does everything else:
 * owner tracking, lockstat and the ThreadSanitizer annotations; an
 * algorithm with an inline fast path (la_fast) also has its try and
 * release in pmapstorm/lock.h, which must do what la_try and la_exit do.  Queue
 * locks take their node from a per-thread pool and keep it in the lock's
 * mtx_node while they hold it (only the holder reads or writes it).
 */
#ifndef PMAPSTORM_LOCK_IMPL_H
#define PMAPSTORM_LOCK_IMPL_H

#include <pmapstorm/alloc.h>
#include <pmapstorm/config.h>
#include <pmapstorm/lock.h>

typedef void (*lock_wait_fn)(unsigned *iter);

/* lock.c's keys (locks.*), NULL-terminated: core/boot.c lists them */
extern const struct cfg_key lock_keys[];
int lock_config_validate(const struct machine_config *);

/*
 * ThreadSanitizer cannot see ck's atomics (inline assembly), so each
 * algorithm declares its acquire and release edges on the lock's address:
 * right after it owns the lock (before it writes holder-only fields such as
 * mtx_node) and right before the store that lets the next holder in (after
 * its last read of them).  No-ops without TSan.
 */
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define LOCK_TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#define LOCK_TSAN_RELEASE(p) __tsan_release((void *)(p))
#else
#define LOCK_TSAN_ACQUIRE(p) ((void)0)
#define LOCK_TSAN_RELEASE(p) ((void)0)
#endif

struct lock_algo {
	struct lock_algo_info la_info;
	enum lock_fast la_fast;     /* the inline fast path's kind (pmapstorm/lock.h), LF_NONE: none */
	void (*la_init)(kmutex_t *);
	void (*la_destroy)(kmutex_t *);
	bool (*la_try)(kmutex_t *);
	void (*la_wait)(kmutex_t *, lock_wait_fn);
	void (*la_exit)(kmutex_t *);
	/* reader-writer algorithms: shared mode */
	bool (*la_try_read)(kmutex_t *);
	void (*la_wait_read)(kmutex_t *, lock_wait_fn);
	void (*la_exit_read)(kmutex_t *);
};

/* Queue nodes come from per-thread pools (lock.c). */
struct lock_clh_node *lock_clh_node_get(void);
void lock_clh_node_put(struct lock_clh_node *);
struct lock_clh_node *lock_clh_node_alloc(void); /* a fresh, available node (a lock's first) */
ck_spinlock_mcs_context_t *lock_mcs_node_get(void);
void lock_mcs_node_put(ck_spinlock_mcs_context_t *);

/* The MCS lock: n was swapped in behind prev; link and wait (lock_mcs.c). */
void lock_mcs_wait_behind(kmutex_t *, ck_spinlock_mcs_context_t *n, ck_spinlock_mcs_context_t *prev,
    lock_wait_fn);

/* The ticket lock: wait until `ticket` is served (lock_ticket.c). */
void lock_ticket_wait_for(kmutex_t *, uint32_t ticket, lock_wait_fn);

/* The spin policy's wait (locks.wait = spin): takes IPIs, pauses, never yields. */
void lock_wait_spin(unsigned *iter);

/* Sleeping algorithms sleep in slices of LOCK_SLEEP_SLICE_NS and take IPIs
 * between them: a real CPU whose thread sleeps goes on taking interrupts,
 * a simulated CPU's are taken only by its own thread.  The slice is the
 * modelled latency with which a sleeping CPU answers a shootdown. */
#define LOCK_SLEEP_SLICE_NS 20000
struct timespec;
void lock_sleep_deadline(struct timespec *ts); /* CLOCK_REALTIME, one slice from now */

#endif
