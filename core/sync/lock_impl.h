/*
 * lock_impl.h — the interface between the lock layer (lock.c) and the
 * algorithms of the zoo (lock_*.c, one file each, one line in lock.c's
 * table).
 *
 * An algorithm provides a try (no waiting), a wait (after a failed try,
 * waiting through the given wait function), and a release; reader-writer
 * algorithms also the shared-mode three.  lock.c does everything else:
 * owner tracking, lockstat, the per-thread record of held locks (where
 * queue locks keep their node), and the ThreadSanitizer annotations.
 */
#ifndef PMAPSTORM_LOCK_IMPL_H
#define PMAPSTORM_LOCK_IMPL_H

#include <pmapstorm/lock.h>

/* One held lock, in a per-thread slot that does not move while held. */
struct lock_held {
	const kmutex_t *lh_lock;
	uint64_t lh_t0; /* hold time start, 0 when not sampled */
	union {
		ck_spinlock_mcs_context_t mcs; /* the MCS queue node */
		ck_spinlock_clh_t *clh;        /* the CLH node this acquisition enqueued */
	} lh_node;
	bool lh_shared;
};

typedef void (*lock_wait_fn)(unsigned *iter);

struct lock_algo {
	struct lock_algo_info la_info;
	void (*la_init)(kmutex_t *);
	void (*la_destroy)(kmutex_t *);
	bool (*la_try)(kmutex_t *, struct lock_held *);
	void (*la_wait)(kmutex_t *, struct lock_held *, lock_wait_fn);
	void (*la_exit)(kmutex_t *, struct lock_held *);
	/* reader-writer algorithms: shared mode */
	bool (*la_try_read)(kmutex_t *);
	void (*la_wait_read)(kmutex_t *, lock_wait_fn);
	void (*la_exit_read)(kmutex_t *);
};

/* CLH nodes come from a per-thread pool (lock.c). */
ck_spinlock_clh_t *lock_clh_node_get(void);
void lock_clh_node_put(ck_spinlock_clh_t *);

/* The pure spin wait (locks.wait = spin): pause, never yield. */
void lock_wait_pause(unsigned *iter);

#endif
