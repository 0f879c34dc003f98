/*
 * latr.c — lazy TLB coherence.
 *
 * Models LATR (Kumar et al., "LATR: Lazy Translation Coherence", ASPLOS
 * 2018, sections 4.1-4.3):
 *  - a free (munmap: here, a removal) sends no IPI: the initiator
 *    invalidates its own TLB, then records (pmap, CPU mask, addresses) in
 *    its per-CPU ring of "LATR states" (shootdown.latr_ring, 256);
 *  - every CPU sweeps every ring at its scheduler tick (machine.tick_us)
 *    and at each context switch, applies the states naming it, and clears
 *    its bit; a state whose mask is empty is free again;
 *  - the frames (and, in LATR, the virtual addresses) are released only
 *    after every CPU has swept: LATR waits a scheduler epoch; the model
 *    keeps each frame until every CPU that had a state posted before the
 *    free swept past it (sd_lazy_free in shootdown.c — the same rule as
 *    an epoch, per CPU);
 *  - a full ring falls back to IPIs, and so do protection downgrades,
 *    which must be synchronous (a stale writable entry would write
 *    through a copy-on-write page), and page operations that must be
 *    complete on return (sd_sync).  The fallback is the flat protocol of
 *    shootdown.c.
 * The pmap does not hold virtual addresses back, as LATR's munmap does for
 * the epoch; its lazy guard completes the lazy work at once instead when a
 * VA is entered again, or a page operation meets a page a removed entry may
 * still reach (pmap.c, "The lazy guard"; counted in pmap.lazy_*).
 * mutant-latr-unguarded is this strategy without the guard: the lost
 * modified bits and stale reads the guard exists for, for the oracles.
 *
 * Cache-line budget: no IPI and nothing waited for.  Per removal batch,
 * the initiator writes one ring state (mask and up to 16 addresses: four
 * lines) in its own ring and bumps each target's posted count (one RMW on
 * its sd_seq line); at its next tick or switch each target reads the
 * state's lines and clears its bit (one RMW back on the mask's line).  A
 * full ring or a downgrade falls back to the flat protocol.
 *
 * A state is a batch of shootdown.c (struct sd_req, applied and matched
 * by its helpers) whose CPU set is the mask; a state is four lines.
 *
 * Memory ordering.  The ring's owner writes a free state's fields with
 * plain stores and publishes its mask with release stores
 * (sd_cpuset_publish), then bumps each target's posted count (seq_cst,
 * sd_lazy_posted).  A sweeper reads its posted count (seq_cst) first, then
 * each state's mask with acquire (sd_cpuset_named); it reads the fields
 * only when its bit is set, and clears its bit with a release RMW after
 * applying (sd_cpuset_ack).  The owner reuses a state only after an
 * acquire load saw its mask empty, so no sweeper is still reading it.
 * A sweeper publishes its swept count (release) after its sweep; a free
 * that snapshotted the posted counts waits for those.
 */
#include "shootdown_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LATR_NVA 16 /* addresses a state names before it flushes the PCID */

/* A LATR state: a batch of shootdown.c over its own arrays, whose CPU set
 * (ls_req.r_cpus) holds the CPUs that have not swept it; empty = free. */
struct latr_state {
	struct sd_req ls_req;
	vaddr_t ls_va[LATR_NVA];
	uint16_t ls_pcid_of[LATR_NVA];
} __cacheline_aligned;
_Static_assert(sizeof(struct latr_state) == 4 * CACHE_LINE, "a state is four lines");

struct latr_cpu {
	struct latr_state *lc_ring;
	unsigned lc_head;
	struct sd_req lc_batch; /* this CPU's removals since pmap_update */
} __cacheline_aligned;

static struct latr_cpu *latr_cpus;
static unsigned latr_ring, latr_ncpu;

STATS_COUNTER(latr_lazy, "shootdown.latr.lazy", "requests left to the CPUs' sweeps (no IPI)")
STATS_COUNTER(latr_full, "shootdown.latr.ring_full", "requests sent by IPI because the ring was full")
STATS_COUNTER(latr_sweeps, "shootdown.latr.sweeps", "ring sweeps (ticks and context switches)")

static void latr_halt(struct machine *m)
{
	(void)m;
	for (unsigned i = 0; latr_cpus != NULL && i < latr_ncpu; i++) {
		free(latr_cpus[i].lc_ring);
		sd_req_fini(&latr_cpus[i].lc_batch);
	}
	free(latr_cpus);
	latr_cpus = NULL;
	sd_lazy_halt();
	sd_slots_halt();
}

static void latr_sweep(struct cpu_info *ci);

static const struct cfg_key latr_ring_key = CFG_KEY("shootdown.latr_ring", CFG_UINT, 2, 65536, NULL, "256",
    "latr: lazy states per CPU ring (2–65536); a full ring falls back to IPIs");
static const struct cfg_key *const latr_keys[] = {&latr_ring_key, NULL};

static int latr_boot(struct machine *m)
{
	latr_ring = (unsigned)machine_knob(&m->m_cfg, &latr_ring_key);
	latr_ncpu = m->m_ncpu;
	if ((latr_cpus = mem_alloc(struct latr_cpu, latr_ncpu)) == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory");
	memset(latr_cpus, 0, sizeof(*latr_cpus) * latr_ncpu);
	for (unsigned i = 0; i < latr_ncpu; i++) {
		struct latr_state *ring = latr_cpus[i].lc_ring = mem_zalloc(struct latr_state, latr_ring);
		if (ring == NULL || sd_req_init(&latr_cpus[i].lc_batch, LATR_NVA) != 0)
			return machine_seterr(ENOMEM, "shootdown.latr_ring: no memory for %u-entry rings", latr_ring);
		for (unsigned k = 0; k < latr_ring; k++)
			sd_req_init_at(&ring[k].ls_req, LATR_NVA, ring[k].ls_va, ring[k].ls_pcid_of);
	}
	int err = sd_lazy_boot(m, latr_sweep, false);
	return err ? err : sd_slots_boot(m);
}

static void latr_invalidate(struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind kind)
{
	if (!sd_pte_cached(opte)) {
		sd_count_unaccessed();
		return;
	}
	sd_req_add(&latr_cpus[curcpu()->ci_cpuid].lc_batch, ctx, va, opte, kind, NULL);
}

/* A free state in my ring, or NULL (full). */
static struct latr_state *latr_claim(struct latr_cpu *lc)
{
	for (unsigned k = 0; k < latr_ring; k++) {
		struct latr_state *s = &lc->lc_ring[(lc->lc_head + k) % latr_ring];
		kcpuset_t *mask = &s->ls_req.r_cpus;
		if (!kcpuset_iszero(mask)) {
			/* a CPU that detached has an empty TLB: it owes nothing */
			KCPUSET_FOREACH(mask, c)
				if (!cpu_is_attached(cpu_lookup(c)))
					kcpuset_atomic_clear(mask, c);
			if (!kcpuset_iszero(mask))
				continue;
		}
		lc->lc_head = (lc->lc_head + k + 1) % latr_ring;
		return s;
	}
	return NULL;
}

/* Sweep every ring for states naming ci (tick, context switch). */
static void latr_sweep(struct cpu_info *ci)
{
	const unsigned me = ci->ci_cpuid;
	uint64_t since, seen = sd_lazy_sweep_begin(ci, &since);
	for (unsigned c = 0; c < latr_ncpu; c++) {
		struct latr_cpu *lc = &latr_cpus[c];
		for (unsigned k = 0; k < latr_ring; k++) {
			struct latr_state *s = &lc->lc_ring[k];
			if (!sd_cpuset_named(&s->ls_req.r_cpus, me))
				continue;
			sd_req_apply(ci, &s->ls_req, true);
			sd_cpuset_ack(&s->ls_req.r_cpus, me);
		}
	}
	sd_lazy_sweep_end(ci, seen, since);
	stats_inc(&latr_sweeps);
}

static void latr_flush(bool sync)
{
	struct cpu_info *ci = curcpu();
	struct latr_cpu *lc = &latr_cpus[ci->ci_cpuid];
	struct sd_req *r = &lc->lc_batch;
	if (r->r_naddrs == 0)
		return;
	struct latr_state *s = NULL;
	if (!sync && !r->r_downgrade)
		s = latr_claim(lc);
	if (s == NULL) {
		/* downgrade, synchronous operation, or a full ring: IPIs */
		if (!sync && !r->r_downgrade)
			stats_inc(&latr_full);
		sd_flat_update(ci, r, true, true, 0);
		sd_req_reset(r);
		return;
	}
	kcpuset_t targets;
	unsigned nskipped = 0, n = sd_targets(ci, &r->r_cpus, &targets, &nskipped);
	sd_req_copy(&s->ls_req, r);
	sd_cpuset_publish(&s->ls_req.r_cpus, &targets);
	KCPUSET_FOREACH(&targets, c)
		sd_lazy_posted(c, true);
	sd_req_apply(ci, r, true);
	stats_inc(&latr_lazy);
	/* no IPI: the targets are "skipped" until their sweep */
	sd_count_request(r->r_naddrs, r->r_count == SD_ALLVA, 0, n + nskipped, 0);
	sd_req_reset(r);
	sd_lazy_reclaim(false);
}

static void latr_update(void)
{
	latr_flush(false);
}

static void latr_sync(void)
{
	latr_flush(true);
}

static void latr_ipi(struct cpu_info *ci)
{
	sd_slots_serve(ci);
	/* the pmap's fallback (sd_lazy_drain) asks for the sweep now */
	if (sd_lazy_outstanding(ci->ci_cpuid))
		latr_sweep(ci);
}

/* => interrupt context, possibly inside a lock wait — even in the free
 * list's own lock queue: frames the sweep released go back only if the free
 * list's lock is free at once (sd_lazy_reclaim_tick); the rest wait for the
 * next update, free or failed allocation. */
static void latr_tick(struct cpu_info *ci)
{
	latr_sweep(ci);
	sd_lazy_reclaim_tick();
}

static void latr_switch(struct cpu_info *ci, struct mmu_ctx *old, struct mmu_ctx *new_)
{
	(void)old, (void)new_;
	/* before any context is loaded: no stale entry meets its PCID again */
	latr_sweep(ci);
}

static bool latr_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	const unsigned me = ci->ci_cpuid;
	if (sd_slots_cover(va, pcid))
		return true;
	for (unsigned c = 0; c < latr_ncpu; c++)
		for (unsigned k = 0; k < latr_ring; k++) {
			const struct latr_state *s = &latr_cpus[c].lc_ring[k];
			if (kcpuset_isset(&s->ls_req.r_cpus, me) && sd_req_covers(&s->ls_req, va, pcid))
				return true;
		}
	return false;
}

#define LATR_HOOKS                         \
	.sd_lazy = true,                   \
	.sd_boot = latr_boot,              \
	.sd_halt = latr_halt,              \
	.sd_invalidate = latr_invalidate,  \
	.sd_update = latr_update,          \
	.sd_sync = latr_sync,              \
	.sd_ipi = latr_ipi,                \
	.sd_switch = latr_switch,          \
	.sd_tick = latr_tick,              \
	.sd_free = sd_lazy_free,           \
	.sd_pending = latr_pending

const struct shootdown_strategy shootdown_latr = {
	.sd_name = "latr",
	.sd_keys = latr_keys,
	.sd_origin = "Kumar et al., LATR: Lazy Translation Coherence (ASPLOS 2018), sec. 4.1-4.3",
	.sd_mechanism = "removals recorded in per-CPU rings of 256 (shootdown.latr_ring) swept at ticks and "
	                "switches; frames freed after every CPU swept; IPIs for full rings and downgrades",
	.sd_remove_targets = SD_TARGETS_NONE,
	LATR_HOOKS,
};

const struct shootdown_strategy shootdown_mutant_latr_unguarded = {
	.sd_name = "mutant-latr-unguarded",
	.sd_keys = latr_keys,
	.sd_origin = "latr without the pmap's lazy guard (pmapstorm before it)",
	.sd_mechanism = "latr; a VA entered again, or a page cleared or protected, while a lazily removed "
	                "translation is still cached: lost modified bits, stale reads",
	.sd_unsafe = true,
	.sd_unguarded = true,
	.sd_remove_targets = SD_TARGETS_NONE,
	LATR_HOOKS,
};
