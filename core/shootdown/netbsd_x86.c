/*
 * netbsd_x86.c — NetBSD/x86 batched TLB shootdown.
 *
 * Models sys/arch/x86/x86/x86_tlb.c (NetBSD 6-7: pmap_tlb_shootdown(),
 * pmap_tlb_shootnow(), pmap_tlb_intr()):
 *  - each CPU accumulates its invalidations in a private packet of up to
 *    TP_MAXVA (16; shootdown.batch) addresses; one more overflows the packet into a whole
 *    flush (of the one PCID involved, of all non-global entries when several
 *    are, of everything when a global entry is involved — x86 tlbflushg());
 *  - a PTE the walker never marked accessed (PG_U clear) needs no shootdown;
 *  - the targets are the CPUs whose TLB may hold the pmap's entries (the
 *    pmap's CPU set; every attached CPU for the kernel pmap);
 *  - pmap_update() -> shootnow: one packet is in flight system-wide,
 *    claimed by compare-and-swap on the global slot while the claimant keeps
 *    taking IPIs; the IPIs go out, the initiator invalidates its own TLB
 *    while the remote CPUs work, then waits for every acknowledgement;
 *  - a target acknowledges as soon as it has copied the request (early
 *    acknowledgement), then invalidates.  That is safe because it copies and
 *    invalidates inside one interrupt: it cannot use a stale entry between
 *    its acknowledgement and its invalidation.
 *
 * Memory ordering: the initiator fills its packet with plain stores, then
 * publishes the target set with seq_cst stores (kcpuset_copy); a target
 * reads its bit with a seq_cst load before it reads the packet, and clears
 * the bit (seq_cst RMW) only after it copied it; the initiator reuses the
 * packet only after it saw every bit clear.  The pending set belongs to the
 * packet, so a target that raced with the release of one packet and the
 * claim of the next reads a consistent request or none.
 */
#include "shootdown_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TP_ALLVA UINT32_MAX /* whole flush */
#define TP_INLINE 16 /* the default batch lives in the packet's own lines */
#define TP_PCID_MIXED UINT32_MAX

/* What a target reads comes first: one or two cache lines for small requests. */
struct tlb_packet {
	kcpuset_t tp_pending;  /* targets that have not copied the request */
	uint64_t tp_sent_ns;   /* when the IPIs went out (acknowledgement latency) */
	uint32_t tp_initiator;
	uint32_t tp_count;     /* addresses, or TP_ALLVA */
	uint32_t tp_pcid;      /* the one PCID involved, or TP_PCID_MIXED */
	bool tp_global;        /* a global entry is involved */
	vaddr_t *tp_va;        /* TP_MAXVA (shootdown.batch) of each: the */
	uint16_t *tp_pcid_of;  /* inline arrays below, unless the batch is larger */
	vaddr_t tp_va_inline[TP_INLINE];
	uint16_t tp_pcid_inline[TP_INLINE];
	unsigned tp_naddrs;    /* invalidations queued, for statistics */
	kcpuset_t tp_cpumask;  /* CPUs that may hold the entries */
	struct tlb_packet *tp_copy; /* where this CPU copies a request it takes */
} __cacheline_aligned;

/* The global slot: the one packet in flight. */
static _Atomic(struct tlb_packet *) tlb_inflight __cacheline_aligned;
static struct tlb_packet *packets; /* 2 per CPU: its packet, and its copy of a request */
static unsigned TP_MAXVA, npackets;

static void x86_halt(struct machine *m)
{
	(void)m;
	for (unsigned i = 0; packets != NULL && i < npackets; i++)
		if (packets[i].tp_va != packets[i].tp_va_inline) {
			free(packets[i].tp_va);
			free(packets[i].tp_pcid_of);
		}
	free(packets);
	packets = NULL;
}

static int x86_boot(struct machine *m)
{
	TP_MAXVA = m->m_cfg.mc_sd_batch;
	npackets = 2 * m->m_ncpu;
	if ((packets = mem_alloc(struct tlb_packet, npackets)) == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory for TLB packets");
	memset(packets, 0, sizeof(*packets) * npackets);
	for (unsigned i = 0; i < npackets; i++) {
		packets[i].tp_pcid = TP_PCID_MIXED;
		if (TP_MAXVA <= TP_INLINE) {
			packets[i].tp_va = packets[i].tp_va_inline;
			packets[i].tp_pcid_of = packets[i].tp_pcid_inline;
			continue;
		}
		packets[i].tp_va = mem_zalloc(vaddr_t, TP_MAXVA);
		packets[i].tp_pcid_of = mem_zalloc(uint16_t, TP_MAXVA);
		if (packets[i].tp_va == NULL || packets[i].tp_pcid_of == NULL) {
			x86_halt(m);
			return machine_seterr(ENOMEM, "shootdown.batch: no memory for TLB packets");
		}
	}
	for (unsigned i = 0; i < m->m_ncpu; i++) {
		packets[i].tp_copy = &packets[m->m_ncpu + i];
		m->m_cpus[i].ci_sd = &packets[i];
	}
	atomic_store(&tlb_inflight, NULL);
	return 0;
}

static void packet_reset(struct tlb_packet *tp)
{
	tp->tp_count = 0;
	tp->tp_naddrs = 0;
	tp->tp_pcid = TP_PCID_MIXED;
	tp->tp_global = false;
	kcpuset_zero(&tp->tp_cpumask);
}

/* pmap_tlb_shootdown(): => pmap lock or pv lock held; on the current CPU */
static void x86_invalidate(struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind kind)
{
	(void)kind; /* removals and downgrades alike are complete at pmap_update() */
	struct cpu_info *ci = curcpu();
	struct tlb_packet *tp = ci->ci_sd;
	if (!sd_pte_cached(opte)) {
		sd_count_unaccessed();
		return;
	}
	uint16_t pcid = (opte & PTE_G) ? 0 : ctx->mc_pcid;
	if (tp->tp_naddrs == 0)
		tp->tp_pcid = pcid;
	else if (tp->tp_pcid != pcid)
		tp->tp_pcid = TP_PCID_MIXED;
	tp->tp_naddrs++;
	if (opte & PTE_G)
		tp->tp_global = true;
	if (tp->tp_count != TP_ALLVA) {
		if (tp->tp_count < TP_MAXVA) {
			tp->tp_va[tp->tp_count] = va;
			tp->tp_pcid_of[tp->tp_count] = pcid;
			tp->tp_count++;
		} else
			tp->tp_count = TP_ALLVA;
	}
	/* the CPUs that may cache it: read after the PTE changed (seq_cst) */
	const kcpuset_t *who = ctx->mc_kernel ? &machine_cur->m_attached : &ctx->mc_cpus;
	for (unsigned i = 0; i < MAXCPUS / 64; i++)
		atomic_fetch_or_explicit(&tp->tp_cpumask.bits[i], atomic_load((_Atomic uint64_t *)&who->bits[i]),
		    memory_order_relaxed);
}

/* Apply a request to the current CPU's TLB. */
static void packet_apply(struct cpu_info *ci, const struct tlb_packet *req, uint32_t count)
{
	if (count == TP_ALLVA) {
		if (req->tp_global)
			tlb_invalidate_all(ci);
		else if (req->tp_pcid != TP_PCID_MIXED)
			tlb_invalidate_pcid(ci, (uint16_t)req->tp_pcid);
		else
			tlb_invalidate_nonglobal(ci);
		return;
	}
	for (uint32_t i = 0; i < count; i++)
		tlb_invalidate_page(ci, req->tp_va[i], req->tp_pcid_of[i]);
}

/* pmap_tlb_shootnow() */
static void x86_update(void)
{
	struct cpu_info *ci = curcpu();
	struct machine *m = machine_cur;
	struct tlb_packet *tp = ci->ci_sd;
	if (tp->tp_naddrs == 0)
		return;
	uint64_t t0 = cpu_now_ns();
	/* remote targets: may hold the entries, attached, not me */
	kcpuset_t targets;
	kcpuset_intersect_into(&targets, &tp->tp_cpumask, &m->m_attached);
	kcpuset_atomic_clear(&targets, ci->ci_cpuid);
	unsigned ntargets = 0, nskipped = 0;
	for (unsigned w = 0; w < MAXCPUS / 64; w++) {
		uint64_t t = atomic_load_explicit(&targets.bits[w], memory_order_relaxed);
		uint64_t all = atomic_load_explicit(&tp->tp_cpumask.bits[w], memory_order_relaxed);
		if (w == ci->ci_cpuid / 64)
			all &= ~(1ULL << (ci->ci_cpuid % 64));
		ntargets += (unsigned)__builtin_popcountll(t);
		nskipped += (unsigned)__builtin_popcountll(all & ~t);
	}
	if (ntargets > 0) {
		/* claim the global slot; keep taking IPIs meanwhile */
		unsigned iter = 0;
		struct tlb_packet *expect = NULL;
		while (!atomic_compare_exchange_weak(&tlb_inflight, &expect, tp)) {
			expect = NULL;
			cpu_spin_wait_for(&iter, "the global shootdown slot (tlb_inflight)");
		}
		tp->tp_sent_ns = cpu_now_ns();
		tp->tp_initiator = ci->ci_cpuid;
		/* publish the packet: release stores of the (all-zero) pending set;
		 * a target's acquire load of its bit sees the packet's contents */
		for (unsigned w = 0; w < MAXCPUS / 64; w++) {
			uint64_t b = atomic_load_explicit(&targets.bits[w], memory_order_relaxed);
			if (b != 0)
				atomic_store_explicit(&tp->tp_pending.bits[w], b, memory_order_release);
		}
		/* the packet's address travels in the target's mailbox line, with
		 * the IPI bit: the target finds the request without another miss */
		KCPUSET_FOREACH(&targets, c) {
			atomic_store_explicit(&cpu_lookup(c)->ci_sd_mbox, tp, memory_order_relaxed);
			cpu_send_ipi(cpu_lookup(c), IPI_SHOOTDOWN);
		}
	}
	/* the local flush, concurrent with the remote ones */
	packet_apply(ci, tp, tp->tp_count);
	if (ntargets > 0) {
		unsigned iter = 0;
		while (!kcpuset_iszero(&tp->tp_pending)) {
			/* a detached CPU has an empty TLB: nothing to wait for */
			if ((iter & 63) == 63)
				KCPUSET_FOREACH(&tp->tp_pending, c)
					if (!cpu_is_attached(cpu_lookup(c)))
						kcpuset_atomic_clear(&tp->tp_pending, c);
			cpu_spin_wait_for(&iter, "shootdown acknowledgements");
		}
		atomic_store_explicit(&tlb_inflight, NULL, memory_order_release);
	}
	sd_count_request(tp->tp_naddrs, tp->tp_count == TP_ALLVA, ntargets, nskipped,
	    ntargets ? cpu_now_ns() - t0 : 0);
	packet_reset(tp);
}

/* pmap_tlb_intr(): => at interrupt level, on the target */
static void x86_ipi(struct cpu_info *ci)
{
	/* the IPI bit was read with acquire after the sender's release */
	struct tlb_packet *tp = atomic_load_explicit(&ci->ci_sd_mbox, memory_order_relaxed);
	if (tp == NULL || !(atomic_load_explicit(&tp->tp_pending.bits[ci->ci_cpuid / 64], memory_order_acquire) &
	                      (1ULL << (ci->ci_cpuid % 64))))
		return; /* spurious, or a request we already served */
	/* small requests are copied to the stack, as before shootdown.batch
	 * existed; larger ones to this CPU's copy packet */
	struct tlb_packet stack, *copy = &stack;
	uint32_t count = tp->tp_count;
	if (count != TP_ALLVA && count > TP_INLINE)
		copy = ((struct tlb_packet *)ci->ci_sd)->tp_copy;
	else {
		stack.tp_va = stack.tp_va_inline;
		stack.tp_pcid_of = stack.tp_pcid_inline;
	}
	copy->tp_global = tp->tp_global;
	copy->tp_pcid = tp->tp_pcid;
	if (count != TP_ALLVA) {
		memcpy(copy->tp_va, tp->tp_va, sizeof(vaddr_t) * count);
		memcpy(copy->tp_pcid_of, tp->tp_pcid_of, sizeof(uint16_t) * count);
	}
	uint64_t sent = tp->tp_sent_ns;
	unsigned initiator = tp->tp_initiator;
	/* early acknowledgement: the request is copied */
	kcpuset_atomic_clear(&tp->tp_pending, ci->ci_cpuid);
	sd_ack_record(initiator, ci->ci_cpuid, sent);
	packet_apply(ci, copy, count);
}

static bool x86_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	(void)ci;
	for (unsigned c = 0; c < machine_cur->m_ncpu; c++) {
		const struct tlb_packet *tp = &packets[c];
		if (tp->tp_naddrs == 0)
			continue;
		if (tp->tp_count == TP_ALLVA)
			return true;
		for (uint32_t i = 0; i < tp->tp_count; i++)
			if (tp->tp_va[i] == va && (tp->tp_pcid_of[i] == pcid || tp->tp_pcid_of[i] == 0))
				return true;
	}
	return false;
}

const struct shootdown_strategy shootdown_netbsd_x86 = {
	.sd_name = "netbsd-x86",
	.sd_origin = "NetBSD sys/arch/x86/x86/x86_tlb.c: pmap_tlb_shootdown(), pmap_tlb_shootnow(), pmap_tlb_intr()",
	.sd_mechanism = "per-CPU packet of 16 (shootdown.batch) addresses, whole flush on overflow, one packet in flight "
	                "(CAS), early acknowledgement, no shootdown for never-accessed PTEs",
	.sd_boot = x86_boot,
	.sd_halt = x86_halt,
	.sd_invalidate = x86_invalidate,
	.sd_update = x86_update,
	.sd_ipi = x86_ipi,
	.sd_pending = x86_pending,
};
