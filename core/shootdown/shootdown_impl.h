/*
 * shootdown_impl.h — what strategies share: the machine's view, counters,
 * and the building blocks several strategies are made of (shootdown.c):
 *
 *  - struct sd_req: a batch of invalidations (addresses with their PCIDs,
 *    overflowing into a whole flush), the CPUs that may hold them, and how
 *    to apply it to the current CPU's TLB, copy it, or match an address
 *    against it.  Every strategy that batches keeps its addresses in one,
 *    in its own lines where the layout matters (netbsd-x86's packet,
 *    latr's ring states: sd_req_init_at);
 *  - the targets of a batch (sd_targets), a target set published to its
 *    targets and acknowledged bit by bit (sd_cpuset_publish, _named,
 *    _ack: sd_slot's pending set, latr's state masks), and the
 *    initiator's wait for acknowledgements however they travel
 *    (sd_wait_acks: sd_slot's pending set, netbsd-x86's mailbox words);
 *  - sd_slot: a per-initiator request slot with a pending set, scanned by
 *    every target that takes a shootdown IPI (Linux's per-CPU
 *    call_single_data queues, FreeBSD's per-CPU request fields), so
 *    several initiators proceed at once without a global slot.  Its
 *    cache-line budget (the flat protocol: immediate, linux, tracked,
 *    latr's fallback, the mutants), per target of a shootdown: there, the
 *    target's mailbox line (the IPI), the initiator's slot line (pending
 *    set, request pointer), the request's header line (struct sd_req) and
 *    its address and PCID arrays (one line each up to 8 addresses, 32
 *    PCIDs); back, the slot line once (the target's RMW on the pending
 *    set, the initiator's poll).  A target also reads every other
 *    initiator's slot line to find its requests (shared and unchanged
 *    unless that initiator posted);
 *  - the lazy machinery: per-CPU "posted" and "swept" sequence numbers
 *    and the list of frames held back until every CPU that may hold a
 *    translation to them swept (netbsd-mi, latr);
 *  - stale PCIDs: a CPU that loses a pmap's ASID without an IPI (NetBSD
 *    pmap_pai_reset(), FreeBSD's pm_gen = 0) drops the PCID's entries the
 *    next time it loads it.
 */
#ifndef PMAPSTORM_SHOOTDOWN_IMPL_H
#define PMAPSTORM_SHOOTDOWN_IMPL_H

#include "../machine/machine_impl.h"
#include "shootdown_pmap.h"

#define SD_MAX_BATCH 4096 /* the largest shootdown.batch / linux_ceiling / broadcast_max */
/* shootdown.batch: addresses per request before a whole flush (netbsd-x86's
 * TP_MAXVA; tracked, hier and the mutants share it) */
extern const struct cfg_key sd_batch_key;

#include <pmapstorm/shootdown.h>

/*
 * The clock for a statistic only — a request's send time for its targets'
 * sd_ack_record(), a lazy post's time for shootdown.coherence, a deferred
 * free's for shootdown.deferral: 0, and no clock read, with statistics off
 * (stats.enabled), when nothing records them.  The protocols themselves
 * need no clock.  docs/performance.md, section 15.
 */
static inline uint64_t sd_stat_now(void)
{
	return stats_on ? cpu_now_ns() : 0;
}

/* The start of a request's latency (shootdown.latency, and the sent time a
 * target's acknowledgement latency counts from): a clock read of the
 * strategy's own, once it knows the request has remote targets and before
 * it sends anything (broadcast and netbsd-mi find their targets while
 * posting, so they read it first).  A request with none has no latency and
 * reads no clock; with statistics off nothing is read.  Until section 22
 * of docs/performance.md the first request of an update started where
 * pmap_update() did, reusing its clock read; update_cost now times one
 * completion in stats.update_sample, so that read is mostly not taken, and
 * the latency starts at the strategy for every request. */
static inline uint64_t sd_clock_start(bool remote)
{
	return remote ? sd_stat_now() : 0;
}

/* The time since sd_clock_start()'s t0 for sd_count_request(): 0, and no
 * clock read, with statistics off. */
static inline uint64_t sd_elapsed(uint64_t t0)
{
	return stats_on ? cpu_now_ns() - t0 : 0;
}

/* one completed request: addresses, whole flush?, remote targets interrupted,
 * targets skipped, and the time it took when it had remote targets */
void sd_count_request(unsigned naddrs, bool whole, unsigned ntargets, unsigned nskipped, uint64_t ns);
void sd_count_unaccessed(void);
/* on the target, when it acknowledges a request the initiator sent at
 * sent_ns (sd_clock_start(); nothing with statistics off) */
void sd_ack_record(unsigned initiator, unsigned target, uint64_t sent_ns);
void sd_count_skipped(unsigned n); /* targets skipped outside a request (lazy, untracked) */

/* Could a TLB hold the translation in opte?  Only if the walker marked it
 * accessed: it sets A before it fills (x86: NetBSD's pmap_tlb_shootdown
 * skips PTEs without PG_U for the same reason) — or if A was cleared
 * (pmap_clear_reference) by an operation whose own shootdown may not have
 * completed yet: PTE_SWA stays set for that reason. */
static inline bool sd_pte_cached(uint64_t opte)
{
	return (opte & PTE_SWV) && (opte & (PTE_A | PTE_SWA));
}

/* The CPUs whose TLB may hold an entry of ctx: its CPU set, or every
 * attached CPU for the kernel (whose entries are global). */
static inline const kcpuset_t *sd_ctx_cpus(const struct mmu_ctx *ctx)
{
	return ctx->mc_kernel ? &machine_cur->m_attached : &ctx->mc_cpus;
}

/* ---- batches ---- */
#define SD_ALLVA UINT32_MAX
#define SD_PCID_MIXED UINT32_MAX

struct sd_req {
	/* what a target reads to apply it (sd_req_apply, sd_req_copy): the
	 * first SD_REQ_HEAD bytes, within one line where the request is laid
	 * out for it (netbsd-x86's packet, latr's states) */
	uint32_t r_count;  /* addresses kept, or SD_ALLVA (whole flush) */
	uint32_t r_pcid;   /* the one PCID involved, or SD_PCID_MIXED */
	bool r_global;     /* a global entry is involved */
	bool r_downgrade;  /* a downgrade (not a removal) is in it */
	unsigned r_naddrs; /* invalidations queued, for statistics */
	vaddr_t *r_va;
	uint16_t *r_pcid_of;
	/* the initiator's */
	uint32_t r_cap;    /* addresses before the whole flush */
	vaddr_t r_min, r_max;
	kcpuset_t r_cpus;  /* CPUs that may hold the entries */
};
#define SD_REQ_HEAD __builtin_offsetof(struct sd_req, r_cap)
_Static_assert(SD_REQ_HEAD <= CACHE_LINE, "what a target reads of a request is one line");

/* The words of a CPU set that the machine's CPUs use. */
static inline unsigned sd_cpuset_words(void)
{
	return (machine_cur->m_ncpu + 63) / 64;
}

int sd_req_init(struct sd_req *, uint32_t cap);
/* The same over the caller's arrays of cap entries (a packet's or a ring
 * state's own lines); no sd_req_fini then. */
void sd_req_init_at(struct sd_req *, uint32_t cap, vaddr_t *va, uint16_t *pcid_of);
void sd_req_fini(struct sd_req *);
/* Inline, as sd_targets below: every strategy's update runs them. */
static inline void sd_req_reset(struct sd_req *r)
{
	r->r_count = 0;
	r->r_naddrs = 0;
	r->r_pcid = SD_PCID_MIXED;
	r->r_global = false;
	r->r_downgrade = false;
	r->r_min = UINT64_MAX;
	r->r_max = 0;
	kcpuset_zero(&r->r_cpus);
}
/* Queue one invalidation; targets are sd_ctx_cpus(ctx) unless who != NULL.
 * => the current CPU's own batch (one writer) */
void sd_req_add(struct sd_req *, const struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind,
    const kcpuset_t *who);
/* Apply to the current CPU's TLB; `global_too` is false only for a mutant. */
void sd_req_apply(struct cpu_info *, const struct sd_req *, bool global_too);
bool sd_req_covers(const struct sd_req *, vaddr_t va, uint16_t pcid);
/* dst = what src asks of a TLB (count, PCID, global, the addresses; not
 * the CPU set); dst's capacity holds src's addresses */
void sd_req_copy(struct sd_req *dst, const struct sd_req *src);
/* out = may ∩ attached − me; counts targets and the skipped (detached) */
static inline unsigned sd_targets(const struct cpu_info *me, const kcpuset_t *may, kcpuset_t *out,
    unsigned *nskipped)
{
	/* out is the caller's: plain (relaxed) stores.  One word in the usual
	 * case, and no popcount (a libgcc call without -mpopcnt) of a zero */
	const struct machine *m = machine_cur;
	const unsigned nw = (m->m_ncpu + 63) / 64, mw = me->ci_cpuid / 64;
	unsigned n = 0, skipped = 0, w;
	for (w = 0; w < nw; w++) {
		uint64_t may_w = atomic_load((_Atomic uint64_t *)&may->bits[w]), t = 0;
		if (w == mw)
			may_w &= ~(1ULL << (me->ci_cpuid % 64));
		if (may_w != 0) {
			/* seq_cst: the attached set is read after the PTE changes */
			t = may_w & atomic_load((_Atomic uint64_t *)&m->m_attached.bits[w]);
			if (t != 0)
				n += (unsigned)__builtin_popcountll(t);
			if (may_w & ~t)
				skipped += (unsigned)__builtin_popcountll(may_w & ~t);
		}
		atomic_store_explicit(&out->bits[w], t, memory_order_relaxed);
	}
	for (; w < MAXCPUS / 64; w++)
		atomic_store_explicit(&out->bits[w], 0, memory_order_relaxed);
	if (nskipped != NULL)
		*nskipped += skipped;
	return n;
}

/* ---- posting to a set of targets, and their acknowledgements ---- */
/* The initiator publishes a set naming its targets (an sd_slot's pending
 * set, a latr state's mask) after writing what they will read: release
 * stores, one a non-empty word (dst was empty). */
static inline void sd_cpuset_publish(kcpuset_t *dst, const kcpuset_t *src)
{
	for (unsigned w = 0; w < MAXCPUS / 64; w++) {
		uint64_t b = atomic_load_explicit((_Atomic uint64_t *)&src->bits[w], memory_order_relaxed);
		if (b != 0)
			atomic_store_explicit(&dst->bits[w], b, memory_order_release);
	}
}
/* A target: is it named (acquire: pairs with sd_cpuset_publish, so it
 * sees what the initiator wrote before) ... */
static inline bool sd_cpuset_named(const kcpuset_t *s, unsigned me)
{
	return (atomic_load_explicit((_Atomic uint64_t *)&s->bits[me / 64], memory_order_acquire) >> (me % 64)) & 1;
}
/* ... and its acknowledgement after it applied what it read (release: the
 * initiator may reuse that once it sees the bit clear) */
static inline void sd_cpuset_ack(kcpuset_t *s, unsigned me)
{
	atomic_fetch_and_explicit(&s->bits[me / 64], ~(1ULL << (me % 64)), memory_order_release);
}
/*
 * The initiator's wait for acknowledgements (sd_slot_wait, netbsd-x86's
 * mailboxes): spin, taking IPIs, until every CPU in *left acknowledged —
 * acked(c, arg) — or detached.  A detached CPU has an empty TLB and is
 * quiescent (its last interrupt came before CPU_DETACHED): every 64 turns
 * the wait withdraws its request, gone(c, arg), and stops waiting for it.
 * *left is the caller's own copy of the targets; it ends empty.  Inline,
 * so that each caller's acked() is compiled into its loop.
 */
static inline void sd_wait_acks(kcpuset_t *left, bool (*acked)(unsigned c, void *arg),
    void (*gone)(unsigned c, void *arg), void *arg)
{
	const unsigned nw = sd_cpuset_words();
	unsigned iter = 0;
	for (;;) {
		bool pending = false;
		for (unsigned w = 0; w < nw; w++)
			for (uint64_t b = atomic_load_explicit(&left->bits[w], memory_order_relaxed); b != 0; b &= b - 1) {
				unsigned c = w * 64 + (unsigned)__builtin_ctzll(b);
				if (!acked(c, arg)) {
					if ((iter & 63) != 63 || cpu_is_attached(cpu_lookup(c))) {
						pending = true;
						continue;
					}
					gone(c, arg);
				}
				atomic_store_explicit(&left->bits[w],
				    atomic_load_explicit(&left->bits[w], memory_order_relaxed) & ~(1ULL << (c % 64)),
				    memory_order_relaxed);
			}
		if (!pending)
			return;
		cpu_spin_wait_for(&iter, "shootdown acknowledgements");
	}
}

/* ---- per-initiator slots ---- */
typedef void (*sd_apply_fn)(struct cpu_info *, const void *req);
struct sd_slot {
	kcpuset_t s_pending;    /* targets that have not acknowledged */
	const void *s_req;      /* valid while a target's bit is set */
	sd_apply_fn s_apply;
	uint64_t s_sent_ns;     /* when it was posted (ack latency, at the targets) */
} __cacheline_aligned;
extern struct sd_slot *sd_slots;
int sd_slots_boot(struct machine *);
void sd_slots_halt(void);
/* => from ci's slot: publish req to targets and send the IPIs */
void sd_slot_post(struct cpu_info *ci, const void *req, sd_apply_fn, const kcpuset_t *targets, uint64_t sent_ns);
/* => wait (taking IPIs) until every target acknowledged or detached */
void sd_slot_wait(struct cpu_info *ci);
/* IPI handler: serve every slot that names ci (acknowledge after applying) */
void sd_slots_serve(struct cpu_info *ci);
/* a target applies a whole sd_req (the mutant: without global entries) */
void sd_apply_req(struct cpu_info *ci, const void *req);
void sd_apply_req_noglobal(struct cpu_info *ci, const void *req);
/* is (va, pcid) in an sd_req some slot still serves? (sd_pending) */
bool sd_slots_cover(vaddr_t va, uint16_t pcid);
/*
 * The flat protocol on r (a batch of ci's): targets = r_cpus ∩ attached −
 * ci, one IPI each from ci's slot, the local flush meanwhile, then (when
 * `wait`) every acknowledgement; counts the request.  skip_one and
 * !global_too exist for mutants.  Returns the targets interrupted.  The
 * caller resets r (after the wait).
 */
unsigned sd_flat_update(struct cpu_info *ci, struct sd_req *r, bool wait, bool global_too, int skip_one);

/* ---- lazy completion and deferred frees ---- */
/* `sweep` applies what is posted for ci (between sweep_begin and _end) on
 * ci's own TLB; sd_lazy_free() runs it on the freeing CPU first, so a frame
 * never waits for a sweep that only the CPU freeing it can do.
 * => any context of ci's own thread; it takes no lock */
typedef void (*sd_sweep_fn)(struct cpu_info *ci);
/* posts_interrupt: every post also sends its target an IPI, whose
 * handler sweeps (netbsd-mi); otherwise sd_lazy_drain() sends one */
int sd_lazy_boot(struct machine *, sd_sweep_fn sweep, bool posts_interrupt);
void sd_lazy_halt(void);
/* work for CPU c was published (call after the stores it must see);
 * window: the initiator will not wait for it (a lazy update, whose time
 * to coherence starts now) */
void sd_lazy_posted(unsigned c, bool window);
/* a sweep on ci: read what is posted before reading the work ... */
uint64_t sd_lazy_sweep_begin(struct cpu_info *ci, uint64_t *since);
/* ... and say it is done after applying it (records the time to coherence) */
void sd_lazy_sweep_end(struct cpu_info *ci, uint64_t seen, uint64_t since);
/* sd_lazy_sweep_self() (ci sweeps its own outstanding work now: a CPU may
 * always flush its own TLB) and sd_lazy_drain() (every posted invalidation
 * applied on every CPU; it waits) are the pmap's too: shootdown_pmap.h */
bool sd_lazy_outstanding(unsigned c);
bool sd_lazy_free(struct vm_page *); /* an sd_free */
void sd_lazy_reclaim(bool wait);     /* frees what every CPU swept past */
void sd_lazy_reclaim_tick(void);     /* the same from a tick: never waits for the free list */

/* ---- stale PCIDs ---- */
int sd_stale_boot(struct machine *);
void sd_stale_halt(void);
void sd_stale_mark(unsigned c, uint16_t pcid);
/* on ci, before it loads pcid: drop its entries if marked */
void sd_stale_check(struct cpu_info *ci, uint16_t pcid);
bool sd_stale_isset(unsigned c, uint16_t pcid);

/* the CPU groups of hier (core/topo via hwloc, or shootdown.hier_group) */
#endif
