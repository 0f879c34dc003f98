/*
 * lock_ticket.c — ticket lock: FIFO by a take-a-number counter.
 *
 * Concurrency Kit's ck_spinlock_ticket (Mellor-Crummey & Scott, "Algorithms
 * for scalable synchronization on shared-memory multiprocessors", ACM TOCS
 * 9(1), 1991, section 2.2).  The wait follows ck_spinlock_ticket_lock()
 * step for step — take a ticket with fetch-and-add on the packed word, then
 * wait until the serving half reaches it — with the model's wait in place of
 * ck_pr_stall(), so waiters keep taking IPIs and yield when oversubscribed.
 */
#include "lock_impl.h"

/* ck's x86 ticket lock packs (next ticket << 16 | now serving) in one
 * 32-bit word (ck_spinlock/ticket.h; its macros are private to the header) */
#if !defined(CK_F_SPINLOCK_TICKET_TRYLOCK)
#error "the ticket lock expects ck's packed-word ticket lock (x86-64)"
#endif
_Static_assert(sizeof(ck_spinlock_ticket_t) == 4, "ck's 32-bit packed ticket word");
#define TICKET_INCREMENT 0x00010000U
#define TICKET_MASK 0xFFFFU
#define TICKET_SHIFT 16

static void ticket_init(kmutex_t *m)
{
	ck_spinlock_ticket_init(&m->mtx_u.ls_ticket);
}

static bool ticket_try(kmutex_t *m)
{
	return ck_spinlock_ticket_trylock(&m->mtx_u.ls_ticket);
}

void lock_ticket_wait_for(kmutex_t *m, uint32_t request, lock_wait_fn wait)
{
	ck_spinlock_ticket_t *t = &m->mtx_u.ls_ticket;
	uint32_t position = ck_pr_load_32(&t->value) & TICKET_MASK;
	unsigned iter = 0;
	request &= TICKET_MASK;
	while (request != position) {
		wait(&iter);
		position = ck_pr_load_32(&t->value) & TICKET_MASK;
	}
	ck_pr_fence_lock();
}

static void ticket_wait(kmutex_t *m, lock_wait_fn wait)
{
	/* take a ticket (the inline path in pmapstorm/lock.h does the same) */
	uint32_t request = ck_pr_faa_32(&m->mtx_u.ls_ticket.value, TICKET_INCREMENT);
	lock_ticket_wait_for(m, request >> TICKET_SHIFT, wait);
}

static void ticket_exit(kmutex_t *m)
{
	ck_spinlock_ticket_unlock(&m->mtx_u.ls_ticket);
}

const struct lock_algo lock_algo_ticket = {
	.la_info = {"ticket", "ticket lock: FIFO, one shared counter (ck_spinlock_ticket)",
	    "Mellor-Crummey & Scott 1991, 2.2; Concurrency Kit ck_spinlock_ticket", false, false, false},
	.la_fast = LF_TICKET,
	.la_init = ticket_init,
	.la_try = ticket_try,
	.la_wait = ticket_wait,
	.la_exit = ticket_exit,
};
