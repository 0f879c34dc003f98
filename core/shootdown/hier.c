/*
 * hier.c — topology-aware multicast shootdown.
 *
 * Models the hierarchical shootdown of Baumann et al., "The Multikernel"
 * (SOSP 2009, section 5.1: a multicast tree over the machine's packages
 * beats flat unicast IPIs because a message crosses the interconnect once
 * per package) as it applies to TLB shootdown, and the NUMA-aware
 * multicast of Amit et al., "Don't shoot down TLB shootdowns!" (EuroSys
 * 2020, section 5.2):
 *  - the targets (the flat protocol's: the pmap's CPU set) are split by
 *    group — the last-level cache or package of the host PU each CPU is
 *    placed on (hwloc, core/topo: topo_group_of()), or groups of
 *    shootdown.hier_group consecutive CPUs when set;
 *  - the initiator sends one IPI per group, to the group's leader (its
 *    lowest-numbered target); in its own group the initiator is the
 *    leader;
 *  - a leader fans the request out to the other targets of its group,
 *    then invalidates; every target, leader included, counts its group
 *    down after invalidating, and the last one clears the group's bit —
 *    the acknowledgements aggregate, and the initiator waits for one bit
 *    per group.  A leader never waits inside its handler (it would block
 *    interrupts while another leader waits for it);
 *  - with a single group it is the flat protocol: the initiator IPIs
 *    every target.
 * If a group stalls (its leader detached before fanning out), the
 * initiator re-sends the IPIs itself after a while, and counts down for
 * targets that detached: a detached CPU's TLB is empty.  Only a detached
 * leader makes a stall: a leader that is merely slow (its thread not
 * running) fans out when it runs, and re-sending to its group then would
 * make the IPIs a shootdown costs depend on how the host schedules threads.
 *
 * Cache-line budget: the initiator sends one IPI per group (each group
 * leader's mailbox line) and writes its slot (pending set, group counts:
 * two lines) and request lines; every target reads the slot and request
 * lines, claims its bit (an RMW on the slot's first line) and counts its
 * group down (an RMW on the counts' line).  Back: one line per group (the
 * group mask, which the initiator polls), not one per target.  Leaders
 * write their group members' mailbox lines.
 *
 * Memory ordering.  The initiator fills the request, the group counts and
 * the group mask with plain or relaxed stores, then publishes the
 * pending set with release stores before any IPI.  A CPU claims its bit
 * with an acq_rel RMW (only the claimer serves or counts for it), applies,
 * then decrements its group with acq_rel; the one that reaches zero
 * clears the group bit with release, and the initiator's acquire loads of
 * the mask order every group's invalidations before pmap_update()
 * returns.
 */
#include "shootdown_impl.h"

#include <pmapstorm/topo.h>

#include <errno.h>
#include <stdlib.h>

#define HIER_NGROUP 64

struct hier_slot {
	kcpuset_t hs_pending;             /* targets that have not claimed it */
	kcpuset_t hs_targets;             /* the request's targets */
	_Atomic uint64_t hs_groups;       /* groups not yet done */
	_Atomic unsigned hs_left[HIER_NGROUP];
	unsigned hs_init_group;           /* the initiator's group (it leads it) */
	const struct sd_req *hs_req;
	uint64_t hs_sent_ns;              /* when it was posted (ack latency, at the targets) */
} __cacheline_aligned;

static struct hier_slot *hier_slots;
static struct sd_req *hier_reqs;
static unsigned *hier_group; /* per CPU, < HIER_NGROUP */
static unsigned hier_ncpu;

STATS_COUNTER(hier_fanout, "shootdown.hier.fanout_ipis", "IPIs sent by group leaders to their group")
STATS_COUNTER(hier_resent, "shootdown.hier.resent_ipis", "IPIs the initiator sent again to a stalled group")

static void hier_halt(struct machine *m)
{
	(void)m;
	for (unsigned i = 0; hier_reqs != NULL && i < hier_ncpu; i++)
		sd_req_fini(&hier_reqs[i]);
	free(hier_reqs);
	free(hier_slots);
	free(hier_group);
	hier_reqs = NULL;
	hier_slots = NULL;
	hier_group = NULL;
}

static const struct cfg_key hier_group_key = CFG_KEY("shootdown.hier_group", CFG_UINT, 0, MAXCPUS, NULL, "0",
    "hier: CPUs per group; 0 = groups from hwloc (the L3 cache, else the package, of each CPU's PU)");
static const struct cfg_key *const hier_keys[] = {&sd_batch_key, &hier_group_key, NULL};

static int hier_boot(struct machine *m)
{
	unsigned batch = (unsigned)machine_knob(&m->m_cfg, &sd_batch_key);
	unsigned group = (unsigned)machine_knob(&m->m_cfg, &hier_group_key);
	hier_ncpu = m->m_ncpu;
	hier_reqs = mem_zalloc(struct sd_req, hier_ncpu);
	hier_group = mem_zalloc(unsigned, hier_ncpu);
	if (hier_reqs == NULL || hier_group == NULL ||
	    (hier_slots = mem_alloc(struct hier_slot, hier_ncpu)) == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory");
	for (unsigned i = 0; i < hier_ncpu; i++) {
		if (sd_req_init(&hier_reqs[i], batch) != 0)
			return ENOMEM;
		kcpuset_zero(&hier_slots[i].hs_pending);
		atomic_store(&hier_slots[i].hs_groups, 0);
		unsigned g = group ? i / group : (unsigned)topo_group_of(i);
		hier_group[i] = g % HIER_NGROUP;
	}
	return 0;
}

unsigned shootdown_hier_group_of(unsigned cpu);
unsigned shootdown_hier_group_of(unsigned cpu)
{
	return hier_group != NULL && cpu < hier_ncpu ? hier_group[cpu] : 0;
}

static void hier_invalidate(struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind kind)
{
	if (!sd_pte_cached(opte)) {
		sd_count_unaccessed();
		return;
	}
	sd_req_add(&hier_reqs[curcpu()->ci_cpuid], ctx, va, opte, kind, NULL);
}

/* The group of c is done for one more CPU. */
static void hier_count_down(struct hier_slot *s, unsigned c)
{
	unsigned g = hier_group[c];
	if (atomic_fetch_sub_explicit(&s->hs_left[g], 1, memory_order_acq_rel) == 1)
		atomic_fetch_and_explicit(&s->hs_groups, ~(1ULL << g), memory_order_release);
}

/* Claim c's bit: true if the caller now serves (or counts for) c. */
static bool hier_claim(struct hier_slot *s, unsigned c)
{
	uint64_t bit = 1ULL << (c % 64);
	return atomic_fetch_and_explicit(&s->hs_pending.bits[c / 64], ~bit, memory_order_acq_rel) & bit;
}

/* IPI the targets of group g still pending, except `not`. */
/* The leader of group g for s's request: its lowest-numbered target there. */
static unsigned hier_leader(const struct hier_slot *s, unsigned g)
{
	KCPUSET_FOREACH(&s->hs_targets, t)
		if (hier_group[t] == g)
			return t;
	return UINT32_MAX;
}

static unsigned hier_send_group(struct hier_slot *s, unsigned g, unsigned not)
{
	unsigned n = 0;
	KCPUSET_FOREACH(&s->hs_pending, c)
		if (hier_group[c] == g && c != not) {
			cpu_send_ipi(cpu_lookup(c), IPI_SHOOTDOWN);
			n++;
		}
	return n;
}

static void hier_update(void)
{
	struct cpu_info *ci = curcpu();
	const unsigned me = ci->ci_cpuid;
	struct sd_req *r = &hier_reqs[me];
	if (r->r_naddrs == 0)
		return;
	struct hier_slot *s = &hier_slots[me];
	kcpuset_t targets;
	unsigned nskipped = 0, n = sd_targets(ci, &r->r_cpus, &targets, &nskipped);
	uint64_t t0 = sd_clock_start(n > 0);
	if (n > 0) {
		uint64_t groups = 0;
		for (unsigned g = 0; g < HIER_NGROUP; g++)
			atomic_store_explicit(&s->hs_left[g], 0, memory_order_relaxed);
		KCPUSET_FOREACH(&targets, c) {
			groups |= 1ULL << hier_group[c];
			atomic_fetch_add_explicit(&s->hs_left[hier_group[c]], 1, memory_order_relaxed);
		}
		s->hs_req = r;
		s->hs_sent_ns = t0;
		s->hs_init_group = hier_group[me];
		kcpuset_copy(&s->hs_targets, &targets);
		atomic_store_explicit(&s->hs_groups, groups, memory_order_relaxed);
		/* release: publishes everything above to whoever sees a bit */
		for (unsigned w = 0; w < MAXCPUS / 64; w++) {
			uint64_t b = atomic_load_explicit(&targets.bits[w], memory_order_relaxed);
			if (b)
				atomic_store_explicit(&s->hs_pending.bits[w], b, memory_order_release);
		}
		/* one IPI per group leader; the initiator leads its own group */
		bool sent[HIER_NGROUP] = {false};
		KCPUSET_FOREACH(&targets, c) {
			unsigned g = hier_group[c];
			if (g == s->hs_init_group || !sent[g]) {
				sent[g] = true;
				cpu_send_ipi(cpu_lookup(c), IPI_SHOOTDOWN);
			}
		}
	}
	sd_req_apply(ci, r, true);
	if (n > 0) {
		unsigned iter = 0;
		while (atomic_load_explicit(&s->hs_groups, memory_order_acquire) != 0) {
			if ((iter & 1023) == 1023) {
				/* count for detached CPUs; re-send to a remote group whose
				 * leader detached (it may have gone before fanning out) */
				KCPUSET_FOREACH(&s->hs_pending, c)
					if (!cpu_is_attached(cpu_lookup(c)) && hier_claim(s, c))
						hier_count_down(s, c);
				KCPUSET_FOREACH(&s->hs_pending, c) {
					unsigned g = hier_group[c], leader = hier_leader(s, g);
					if (g == s->hs_init_group || (leader != UINT32_MAX && cpu_is_attached(cpu_lookup(leader))))
						continue;
					stats_inc(&hier_resent);
					cpu_send_ipi(cpu_lookup(c), IPI_SHOOTDOWN);
				}
			}
			cpu_spin_wait_for(&iter, "shootdown acknowledgements");
		}
	}
	sd_count_request(r->r_naddrs, r->r_count == SD_ALLVA, n, nskipped, n ? sd_elapsed(t0) : 0);
	sd_req_reset(r);
}

static void hier_ipi(struct cpu_info *ci)
{
	const unsigned me = ci->ci_cpuid, g = hier_group[me];
	for (unsigned c = 0; c < hier_ncpu; c++) {
		struct hier_slot *s = &hier_slots[c];
		if (!(atomic_load_explicit(&s->hs_pending.bits[me / 64], memory_order_acquire) & (1ULL << (me % 64))))
			continue;
		/* the leader of a remote group: its lowest-numbered target */
		if (g != s->hs_init_group) {
			if (hier_leader(s, g) == me) {
				unsigned k = hier_send_group(s, g, me);
				for (unsigned i = 0; i < k; i++)
					stats_inc(&hier_fanout);
			}
		}
		if (!hier_claim(s, me))
			continue;
		sd_req_apply(ci, s->hs_req, true);
		sd_ack_record(c, me, s->hs_sent_ns);
		hier_count_down(s, me);
	}
}

static bool hier_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	(void)ci;
	for (unsigned c = 0; hier_slots != NULL && c < hier_ncpu; c++)
		if (atomic_load(&hier_slots[c].hs_groups) != 0 && sd_req_covers(hier_slots[c].hs_req, va, pcid))
			return true;
	return false;
}

const struct shootdown_strategy shootdown_hier = {
	.sd_name = "hier",
	.sd_keys = hier_keys,
	.sd_origin = "Baumann et al., The Multikernel (SOSP 2009) sec. 5.1; Amit et al., Don't shoot down TLB "
	             "shootdowns! (EuroSys 2020) sec. 5.2",
	.sd_mechanism = "one IPI per cache/package group leader (hwloc, or shootdown.hier_group CPUs), leaders "
	                "fan out, acknowledgements aggregate per group",
	.sd_boot = hier_boot,
	.sd_halt = hier_halt,
	.sd_invalidate = hier_invalidate,
	.sd_update = hier_update,
	.sd_ipi = hier_ipi,
	.sd_pending = hier_pending,
};
