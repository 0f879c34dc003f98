/*
 * mutants.c — deliberately broken strategies that prove the checks can fail.
 *
 * Each breaks one rule the correct strategies keep, on top of the flat
 * protocol of shootdown.c (a per-CPU batch of shootdown.batch addresses,
 * a per-initiator slot, one IPI per target, late acknowledgement):
 *   mutant-skip      the highest-numbered target is never interrupted;
 *   mutant-nowait    pmap_update() returns before the acknowledgements
 *                    (a frame freed next is reused under a live entry);
 *   mutant-early-ack a target acknowledges before it copied the request
 *                    and then copies what the slot holds by then: the
 *                    initiator's next (here: an empty) request — a lost
 *                    invalidation, the race NetBSD's early ack avoids by
 *                    copying first (netbsd_x86.c).  The target waits for
 *                    the initiator to move on, without a clock, so the
 *                    loss does not depend on how the host schedules the
 *                    initiator's thread; only where waiting could deadlock
 *                    (see mu_ipi) does it copy at once, and lose nothing;
 *   mutant-noglobal  a whole flush never drops global entries (x86
 *                    tlbflush() where tlbflushg() was needed).
 * One more lives beside the strategy it breaks: mutant-latr-unguarded
 * (latr.c), latr without the pmap's lazy guard.
 * They are flagged sd_unsafe: they boot only with shootdown.allow_unsafe =
 * yes, `pmapstorm list strategies` lists them apart, no default run uses
 * them.  tests/test_strategies.c runs each against the coherence scenario
 * that must catch it.
 *
 * Memory ordering is the flat protocol's (shootdown.c) except where a
 * mutant breaks it on purpose; mutant-early-ack reads only the slot's
 * atomic generation after its early acknowledgement, so the lost
 * invalidation is a protocol error and not a data race.
 */
#include "shootdown_impl.h"

#include <errno.h>
#include <stdlib.h>

enum { MU_SKIP, MU_NOWAIT, MU_EARLY, MU_NOGLOBAL };
static int mu_kind;
static struct sd_req *mu_reqs; /* 2 per CPU: mutant-nowait alternates */
static unsigned *mu_cur;
static _Atomic uint64_t *mu_gen; /* per initiator: requests completed */
static _Atomic bool *mu_waiting; /* per CPU: waits in mu_ipi for an initiator (early-ack) */

static void mu_halt(struct machine *m)
{
	for (unsigned i = 0; mu_reqs != NULL && i < 2 * m->m_ncpu; i++)
		sd_req_fini(&mu_reqs[i]);
	free(mu_reqs);
	free(mu_cur);
	free((void *)mu_gen);
	free((void *)mu_waiting);
	mu_reqs = NULL;
	mu_cur = NULL;
	mu_gen = NULL;
	mu_waiting = NULL;
	sd_slots_halt();
}

static int mu_boot_kind(struct machine *m, int kind)
{
	mu_kind = kind;
	mu_reqs = mem_zalloc(struct sd_req, 2 * m->m_ncpu);
	mu_cur = mem_zalloc(unsigned, m->m_ncpu);
	mu_gen = mem_zalloc(_Atomic uint64_t, m->m_ncpu);
	mu_waiting = mem_zalloc(_Atomic bool, m->m_ncpu);
	if (mu_reqs == NULL || mu_cur == NULL || mu_gen == NULL || mu_waiting == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory");
	for (unsigned i = 0; i < 2 * m->m_ncpu; i++)
		if (sd_req_init(&mu_reqs[i], (unsigned)machine_knob(&m->m_cfg, &sd_batch_key)) != 0)
			return ENOMEM;
	return sd_slots_boot(m);
}
static int mu_boot_skip(struct machine *m) { return mu_boot_kind(m, MU_SKIP); }
static int mu_boot_nowait(struct machine *m) { return mu_boot_kind(m, MU_NOWAIT); }
static int mu_boot_early(struct machine *m) { return mu_boot_kind(m, MU_EARLY); }
static int mu_boot_noglobal(struct machine *m) { return mu_boot_kind(m, MU_NOGLOBAL); }

static struct sd_req *mu_req(unsigned c)
{
	return &mu_reqs[2 * c + mu_cur[c]];
}

static void mu_invalidate(struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind kind)
{
	if (!sd_pte_cached(opte)) {
		sd_count_unaccessed();
		return;
	}
	sd_req_add(mu_req(curcpu()->ci_cpuid), ctx, va, opte, kind, NULL);
}

static void mu_early_apply(struct cpu_info *ci, const void *req);

static void mu_update(void)
{
	struct cpu_info *ci = curcpu();
	unsigned me = ci->ci_cpuid;
	struct sd_req *r = mu_req(me);
	if (r->r_naddrs == 0)
		return;
	/* the slot (and the other request) is reused only once acknowledged */
	sd_slot_wait(ci);
	if (mu_kind == MU_EARLY) {
		kcpuset_t targets;
		unsigned nskipped = 0, n = sd_targets(ci, &r->r_cpus, &targets, &nskipped);
		uint64_t t0 = sd_clock_start(n > 0);
		if (n > 0)
			sd_slot_post(ci, r, mu_early_apply, &targets, t0);
		sd_req_apply(ci, r, true);
		if (n > 0)
			sd_slot_wait(ci);
		/* its latency as every strategy's: 0 is not "not measured" */
		sd_count_request(r->r_naddrs, r->r_count == SD_ALLVA, n, nskipped, n ? sd_elapsed(t0) : 0);
	} else {
		sd_flat_update(ci, r, mu_kind != MU_NOWAIT, mu_kind != MU_NOGLOBAL, mu_kind == MU_SKIP);
	}
	/* release: the request is done with; an early acknowledger that sees
	 * the new generation would now copy an emptied packet */
	if (mu_kind == MU_NOWAIT) {
		/* targets may still read r: switch to the other request, whose
		 * targets were waited for at the top of this update */
		mu_cur[me] ^= 1;
		sd_req_reset(mu_req(me));
	} else
		sd_req_reset(r);
	atomic_fetch_add_explicit(&mu_gen[me], 1, memory_order_release);
}

static void mu_ipi(struct cpu_info *ci)
{
	if (mu_kind != MU_EARLY) {
		sd_slots_serve(ci);
		return;
	}
	const unsigned me = ci->ci_cpuid, w = me / 64;
	const uint64_t bit = 1ULL << (me % 64);
	for (unsigned c = 0; c < machine_cur->m_ncpu; c++) {
		struct sd_slot *s = &sd_slots[c];
		if (!(atomic_load_explicit(&s->s_pending.bits[w], memory_order_acquire) & bit))
			continue;
		uint64_t gen = atomic_load_explicit(&mu_gen[c], memory_order_acquire);
		/* seq_cst, before the acknowledgement: a CPU that would wait here
		 * for this CPU's own request sees that this one waits (and the
		 * other way round: Dekker, so two CPUs that shoot at each other do
		 * not both wait) */
		atomic_store(&mu_waiting[me], true);
		/* the broken order: acknowledge first ... */
		atomic_fetch_and(&s->s_pending.bits[w], ~bit);
		/* ... then copy what the slot holds once the initiator has moved
		 * on: its next request, here an empty one — nothing invalidated.
		 * The initiator bumps its generation without waiting for anyone
		 * once every target has acknowledged, so this waits for that with
		 * no clock.  Where waiting could deadlock — another target has not
		 * acknowledged (it may be waiting for this CPU), or the initiator
		 * itself waits in this handler for someone — the copy is made at
		 * once, of the request still there: a whole flush, nothing lost
		 * this time.  seq_cst loads: they pair with the stores above. */
		bool lost = true;
		unsigned iter = 0;
		while (atomic_load(&mu_gen[c]) == gen) {
			if (!kcpuset_iszero(&s->s_pending) || atomic_load(&mu_waiting[c])) {
				lost = false;
				break;
			}
			/* through the machine: interrupts stay blocked (a handler),
			 * and with machine.engine = virtual the initiator gets its turn */
			cpu_spin_wait_for(&iter, "mutant-early-ack: the initiator to move on");
		}
		atomic_store(&mu_waiting[me], false);
		if (!lost)
			mu_early_apply(ci, NULL);
	}
}

static void mu_early_apply(struct cpu_info *ci, const void *req)
{
	(void)req;
	tlb_invalidate_all(ci);
}

static bool mu_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	(void)ci;
	return sd_slots_cover(va, pcid);
}

static const struct cfg_key *const mu_keys[] = {&sd_batch_key, NULL};

#define MUTANT(var, name, boot, mech)                                                          \
	const struct shootdown_strategy var = {                                                    \
		.sd_name = name,                                                                   \
		.sd_keys = mu_keys,                                                                \
		.sd_origin = "a deliberately broken netbsd-x86-like batch (core/shootdown/mutants.c)", \
		.sd_mechanism = mech,                                                              \
		.sd_unsafe = true,                                                                 \
		.sd_boot = boot,                                                                   \
		.sd_halt = mu_halt,                                                                \
		.sd_invalidate = mu_invalidate,                                                    \
		.sd_update = mu_update,                                                            \
		.sd_ipi = mu_ipi,                                                                  \
		.sd_pending = mu_pending,                                                          \
	};

MUTANT(shootdown_mutant_skip, "mutant-skip", mu_boot_skip, "never interrupts the highest-numbered target")
MUTANT(shootdown_mutant_nowait, "mutant-nowait", mu_boot_nowait, "pmap_update() returns before the acknowledgements")
MUTANT(shootdown_mutant_early, "mutant-early-ack", mu_boot_early,
    "targets acknowledge before copying the request: a lost invalidation")
MUTANT(shootdown_mutant_noglobal, "mutant-noglobal", mu_boot_noglobal,
    "whole flushes keep global entries (tlbflush() for tlbflushg())")
