/*
 * netbsd_x86.c — NetBSD/x86 batched TLB shootdown.
 *
 * Models sys/arch/x86/x86/x86_tlb.c (NetBSD 6-10: pmap_tlb_shootdown(),
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
 * The packet is a batch of shootdown.c (struct sd_req: adding an
 * invalidation with the overflow into a whole flush, applying, the
 * oracle's "still pending?"), and so are the targets and the wait for
 * acknowledgements (sd_targets, sd_wait_acks); what this file holds is
 * what x86_tlb.c does its own way: the global slot claimed by CAS, the
 * request packed into the target's line, early acknowledgement.
 *
 * Where the request travels.  NetBSD copies the packet to a shared mailbox
 * and counts acknowledgements down in a global counter (pmap_tlb_pendcount,
 * NetBSD 9-10) or clears bits of a global mask (6-7); either way a target
 * touches the IPI's line, the packet's lines and the counter's line.  The
 * model keeps NetBSD's semantics — one packet in flight, early
 * acknowledgement — but puts a small request where the IPI lands: the
 * initiator writes it into the target's mailbox line (ci_sd_req, beside
 * the IPI counters) and the target acknowledges in the same word.  Because
 * only one packet is in flight, a target's request words have one writer
 * at a time.  A request of more than TP_REQ_INLINE addresses sends only
 * its header there; the target then copies the addresses from the
 * initiator's packet.
 *
 * Cache-line budget (verified by shootdown.x86.packet_reads, which counts
 * the targets that had to read a packet, and by the layout assertions
 * below; tests/test_scaling.c):
 *  - per shootdown: for each target, its mailbox line crosses once (the
 *    initiator writes the request and the IPI; the target's next interrupt
 *    point misses on it).  The global slot's line crosses only when another
 *    CPU claimed it last.  A request of more than TP_REQ_INLINE (2)
 *    addresses also moves the packet's address lines to each target:
 *    ceil(8 * n / 64) + 1 lines for n addresses up to TP_INLINE (16; the
 *    PCIDs and the request's header share the last), at most
 *    1 + ceil(8 * n / 64) + ceil(2 * n / 64) for a larger batch.
 *  - per acknowledgement: one line, the same mailbox line back (the target's
 *    plain store; the initiator's poll misses on it once).
 *  So a single-target shootdown of one or two pages is one line there and
 *  back, as a cache-line ping-pong is; what remains above the floor is
 *  software (microbench: shootdown / ping-pong).
 *
 * Memory ordering: the initiator writes the request words with relaxed
 * stores and the control word last with release; the IPI's release RMW
 * follows.  The target, after the IPI's acquire, reads the control word
 * with acquire: a set TP_REQ means a live request whose other words (and,
 * for a long request, the initiator's packet) are complete.  It copies,
 * then clears TP_REQ with a release store (its reads of the request come
 * before it), so the initiator, which polls with acquire, reuses its
 * packet only after every target copied it.  A control word with TP_REQ
 * set has exactly one writer besides its target — that request's
 * initiator — and only after the target detached (it is then quiescent:
 * its last interrupt came before CPU_DETACHED), so the target's plain
 * store needs no atomic RMW.  The next initiator writes the words only
 * after claiming the slot, which the previous one released (release/
 * acquire) after seeing every acknowledgement.
 */
#include "shootdown_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TP_INLINE 16 /* the default batch lives in the packet's own lines */

/* The request in the target's mailbox line (ci_sd_req) */
#define TP_REQ_INLINE 2          /* addresses that travel with the IPI */
#define TP_REQ 0x1ULL            /* live: the target has not copied it yet */
#define TP_REQ_LONG 0x2ULL       /* the addresses are in the initiator's packet */
#define TP_REQ_ALLVA 0x4ULL
#define TP_REQ_GLOBAL 0x8ULL
#define TP_REQ_MIXED 0x10ULL     /* several PCIDs: each address carries its own */
#define TP_REQ_SOLE 0x20ULL      /* this target is the only one */
#define TP_ACK_TAKE 0x40ULL      /* (acknowledgement) the target takes the slot over */
#define TP_REQ_COUNT_SHIFT 8     /* inline addresses (0..TP_REQ_INLINE) */
#define TP_REQ_PCID_SHIFT 16     /* the one PCID */
#define TP_REQ_INIT_SHIFT 32     /* the initiator */
enum { TP_W_CTL = 0, TP_W_SENT = 1, TP_W_VA = 2 };
_Static_assert(TP_W_VA + TP_REQ_INLINE <= CI_SD_REQ_WORDS, "an inline request fits the mailbox line");
_Static_assert(MAXCPUS <= 65536, "the initiator's number fits its 16 bits");

/* A page-aligned VA and its PCID in one word: 48-bit canonical VAs keep
 * the top 16 bits for the PCID (bit 47 gives them back). */
static inline uint64_t tp_va_word(vaddr_t va, uint16_t pcid)
{
	return ((uint64_t)pcid << 48) | (va & 0x0000fffffffff000ULL);
}
static inline vaddr_t tp_word_va(uint64_t w)
{
	vaddr_t va = w & 0x0000fffffffff000ULL;
	return (va & (1ULL << 47)) ? va | 0xffff000000000000ULL : va;
}

/*
 * A CPU's packet: a batch of shootdown.c (struct sd_req) whose TP_MAXVA
 * (shootdown.batch) addresses live in the packet's own lines unless the
 * batch is larger.  What a target reads of a long request comes first: the
 * addresses, then the PCIDs and the request's header in the next line.
 */
struct tlb_packet {
	vaddr_t tp_va_inline[TP_INLINE];
	uint16_t tp_pcid_inline[TP_INLINE];
	struct sd_req tp_req;
	struct tlb_packet *tp_copy; /* where this CPU copies a long request it takes */
	bool tp_want_slot;     /* this CPU waits for the global slot (its own handler reads it) */
} __cacheline_aligned;
_Static_assert(__builtin_offsetof(struct tlb_packet, tp_pcid_inline) / CACHE_LINE ==
        (__builtin_offsetof(struct tlb_packet, tp_req) + SD_REQ_HEAD - 1) / CACHE_LINE,
    "a long request's PCIDs and header share a line");

/* The global slot: the one packet in flight. */
static _Atomic(struct tlb_packet *) tlb_inflight __cacheline_aligned;
static struct tlb_packet *packets; /* 2 per CPU: its packet, and its copy of a request */
static unsigned TP_MAXVA, npackets;

STATS_COUNTER(x86_handoffs, "shootdown.x86.slot_handoffs", "netbsd-x86: the global slot passed from a request's "
    "sole target's acknowledgement straight to that target, which was waiting for it")
STATS_COUNTER(x86_packet_reads, "shootdown.x86.packet_reads", "netbsd-x86: targets that copied a request of more "
    "than 2 addresses from the initiator's packet (shorter ones travel in the target's mailbox line)")

static void x86_halt(struct machine *m)
{
	(void)m;
	for (unsigned i = 0; packets != NULL && i < npackets; i++)
		if (packets[i].tp_req.r_va != packets[i].tp_va_inline)
			sd_req_fini(&packets[i].tp_req);
	free(packets);
	packets = NULL;
}

static const struct cfg_key *const x86_keys[] = {&sd_batch_key, NULL};

static int x86_boot(struct machine *m)
{
	TP_MAXVA = (unsigned)machine_knob(&m->m_cfg, &sd_batch_key);
	npackets = 2 * m->m_ncpu;
	if ((packets = mem_alloc(struct tlb_packet, npackets)) == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory for TLB packets");
	memset(packets, 0, sizeof(*packets) * npackets);
	for (unsigned i = 0; i < npackets; i++) {
		if (TP_MAXVA <= TP_INLINE) {
			sd_req_init_at(&packets[i].tp_req, TP_MAXVA, packets[i].tp_va_inline, packets[i].tp_pcid_inline);
			continue;
		}
		if (sd_req_init(&packets[i].tp_req, TP_MAXVA) != 0) {
			x86_halt(m);
			return machine_seterr(ENOMEM, "shootdown.batch: no memory for TLB packets");
		}
	}
	for (unsigned i = 0; i < m->m_ncpu; i++) {
		packets[i].tp_copy = &packets[m->m_ncpu + i];
		m->m_cpus[i].ci_sd = &packets[i];
		for (unsigned w = 0; w < CI_SD_REQ_WORDS; w++)
			atomic_store_explicit(&m->m_cpus[i].ci_sd_req[w], 0, memory_order_relaxed);
	}
	atomic_store(&tlb_inflight, NULL);
	return 0;
}

/* pmap_tlb_shootdown(): => pmap lock or pv lock held; on the current CPU */
static void x86_invalidate(struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind kind)
{
	/* removals and downgrades alike are complete at pmap_update() */
	if (!sd_pte_cached(opte)) {
		sd_count_unaccessed();
		return;
	}
	sd_req_add(&((struct tlb_packet *)curcpu()->ci_sd)->tp_req, ctx, va, opte, kind, NULL);
}

/* The request words the initiator writes to each target: control (without
 * TP_REQ) in w[0], the rest complete. */
static void x86_req_words(const struct cpu_info *ci, const struct sd_req *r, uint64_t sent, uint64_t *w)
{
	uint64_t ctl = (uint64_t)ci->ci_cpuid << TP_REQ_INIT_SHIFT;
	if (r->r_global)
		ctl |= TP_REQ_GLOBAL;
	if (r->r_pcid == SD_PCID_MIXED)
		ctl |= TP_REQ_MIXED;
	else
		ctl |= (uint64_t)r->r_pcid << TP_REQ_PCID_SHIFT;
	if (r->r_count == SD_ALLVA) {
		ctl |= TP_REQ_ALLVA;
	} else if (r->r_count > TP_REQ_INLINE) {
		ctl |= TP_REQ_LONG;
	} else {
		ctl |= (uint64_t)r->r_count << TP_REQ_COUNT_SHIFT;
		for (uint32_t i = 0; i < r->r_count; i++)
			w[TP_W_VA + i] = tp_va_word(r->r_va[i], r->r_pcid_of[i]);
	}
	w[TP_W_CTL] = ctl;
	w[TP_W_SENT] = sent;
}

/* The initiator's wait (sd_wait_acks): has target c acknowledged?
 * acquire: pairs with the target's release of its acknowledgement, after
 * its copy.  *taken: the sole target takes the slot over. */
static bool x86_acked(unsigned c, void *taken)
{
	uint64_t a = atomic_load_explicit(&cpu_lookup(c)->ci_sd_req[TP_W_CTL], memory_order_acquire);
	if (a & TP_REQ)
		return false;
	*(bool *)taken = (a & TP_ACK_TAKE) != 0;
	return true;
}

/* c detached with the request unread: withdraw it.  Its TLB is empty and
 * it is quiescent, so the initiator is the word's one writer. */
static void x86_withdraw(unsigned c, void *taken)
{
	(void)taken;
	_Atomic uint64_t *ctl = &cpu_lookup(c)->ci_sd_req[TP_W_CTL];
	atomic_store_explicit(ctl, atomic_load_explicit(ctl, memory_order_relaxed) & ~TP_REQ, memory_order_relaxed);
}

/* pmap_tlb_shootnow() */
static void x86_update(void)
{
	struct cpu_info *ci = curcpu();
	struct tlb_packet *tp = ci->ci_sd;
	struct sd_req *r = &tp->tp_req;
	if (r->r_naddrs == 0)
		return;
	/* remote targets: may hold the entries, attached, not me */
	kcpuset_t targets;
	unsigned nskipped = 0, ntargets = sd_targets(ci, &r->r_cpus, &targets, &nskipped);
	uint64_t t0 = sd_clock_start(ntargets > 0);
	if (ntargets > 0) {
		/* claim the global slot; keep taking IPIs meanwhile — and if the
		 * holder's request was for this CPU alone, the handler that
		 * acknowledges it hands the slot over (x86_ipi) */
		unsigned iter = 0;
		struct tlb_packet *expect = NULL;
		tp->tp_want_slot = true;
		while (!atomic_compare_exchange_weak(&tlb_inflight, &expect, tp)) {
			if (expect == tp)
				break; /* handed over by this CPU's own handler */
			/* test before the next CAS (NetBSD spins on the pointer
			 * with plain loads too): a CAS at every turn would pull the
			 * slot's line away from its holder */
			do
				cpu_spin_wait_for(&iter, "the global shootdown slot (tlb_inflight)");
			while ((expect = atomic_load_explicit(&tlb_inflight, memory_order_relaxed)) != NULL && expect != tp);
			expect = NULL;
		}
		tp->tp_want_slot = false;
		uint64_t w[CI_SD_REQ_WORDS];
		x86_req_words(ci, r, t0, w);
		if (ntargets == 1)
			w[TP_W_CTL] |= TP_REQ_SOLE;
		const unsigned nw = (w[TP_W_CTL] & (TP_REQ_LONG | TP_REQ_ALLVA))
		    ? TP_W_VA
		    : TP_W_VA + (unsigned)((w[TP_W_CTL] >> TP_REQ_COUNT_SHIFT) & 0xff);
		KCPUSET_FOREACH(&targets, c) {
			struct cpu_info *t = cpu_lookup(c);
			/* the request words, the control word last (release: the
			 * target's acquire of it sees the rest, and the packet),
			 * then the IPI, all in the target's line */
			for (unsigned i = TP_W_SENT; i < nw; i++)
				atomic_store_explicit(&t->ci_sd_req[i], w[i], memory_order_relaxed);
			atomic_store_explicit(&t->ci_sd_req[TP_W_CTL], w[TP_W_CTL] | TP_REQ, memory_order_release);
			cpu_send_ipi(t, IPI_SHOOTDOWN);
		}
	}
	/* the local flush, concurrent with the remote ones */
	sd_req_apply(ci, r, true);
	if (ntargets > 0) {
		bool taken = false;
		sd_wait_acks(&targets, x86_acked, x86_withdraw, &taken);
		/* release the slot (release: the next holder writes request words
		 * after ours were acknowledged) — unless the sole target said it
		 * takes it over */
		if (!taken)
			atomic_store_explicit(&tlb_inflight, NULL, memory_order_release);
	}
	sd_count_request(r->r_naddrs, r->r_count == SD_ALLVA, ntargets, nskipped, ntargets ? sd_elapsed(t0) : 0);
	sd_req_reset(r);
}

/* pmap_tlb_intr(): => at interrupt level, on the target */
static void x86_ipi(struct cpu_info *ci)
{
	/* acquire: pairs with the initiator's release of the control word;
	 * the IPI's acquire already ordered it after the sender's writes */
	uint64_t ctl = atomic_load_explicit(&ci->ci_sd_req[TP_W_CTL], memory_order_acquire);
	if (!(ctl & TP_REQ))
		return; /* spurious, or a request we already served */
	/* copy the request: small ones from this line, long ones from the
	 * initiator's packet (to the stack up to TP_INLINE addresses, else to
	 * this CPU's copy packet) */
	vaddr_t va[TP_INLINE];
	uint16_t pcid_of[TP_INLINE];
	struct sd_req stack = {.r_va = va, .r_pcid_of = pcid_of, .r_cap = TP_INLINE}, *copy = &stack;
	unsigned initiator = (unsigned)(ctl >> TP_REQ_INIT_SHIFT) & 0xffff;
	if (ctl & TP_REQ_LONG) {
		const struct sd_req *r = &packets[initiator].tp_req;
		if (r->r_count > TP_INLINE)
			copy = &((struct tlb_packet *)ci->ci_sd)->tp_copy->tp_req;
		sd_req_copy(copy, r);
		stats_inc(&x86_packet_reads);
	} else {
		copy->r_global = (ctl & TP_REQ_GLOBAL) != 0;
		copy->r_pcid = (ctl & TP_REQ_MIXED) ? SD_PCID_MIXED : (uint32_t)((ctl >> TP_REQ_PCID_SHIFT) & 0xffff);
		if (ctl & TP_REQ_ALLVA) {
			copy->r_count = SD_ALLVA;
		} else {
			copy->r_count = (uint32_t)(ctl >> TP_REQ_COUNT_SHIFT) & 0xff;
			for (uint32_t i = 0; i < copy->r_count; i++) {
				uint64_t w = atomic_load_explicit(&ci->ci_sd_req[TP_W_VA + i], memory_order_relaxed);
				va[i] = tp_word_va(w);
				pcid_of[i] = (uint16_t)(w >> 48);
			}
		}
	}
	uint64_t sent = atomic_load_explicit(&ci->ci_sd_req[TP_W_SENT], memory_order_relaxed);
	/* the slot passes on when this CPU was the request's only target and
	 * is itself waiting for the slot (interrupted in x86_update's claim
	 * loop): with the copy made the request is complete, and the slot goes
	 * straight to this CPU, as NetBSD 9's last target clears
	 * pmap_tlb_packet — the initiator, told so in the acknowledgement, does
	 * not release it, and this CPU's claim does not wait for that release
	 * to cross the slot's line.  Nobody else can change the slot while it
	 * holds the initiator's packet, so a plain store takes it (relaxed:
	 * the slot's value only excludes; what this CPU writes next as holder
	 * is ordered by its own IPIs' release). */
	struct tlb_packet *mine = ci->ci_sd;
	bool take = (ctl & TP_REQ_SOLE) && mine->tp_want_slot;
	/* early acknowledgement: the request is copied (release: after the
	 * reads above) */
	atomic_store_explicit(&ci->ci_sd_req[TP_W_CTL], (ctl & ~TP_REQ) | (take ? TP_ACK_TAKE : 0),
	    memory_order_release);
	if (take) {
		atomic_store_explicit(&tlb_inflight, mine, memory_order_relaxed);
		stats_inc(&x86_handoffs);
	}
	sd_ack_record(initiator, ci->ci_cpuid, sent);
	sd_req_apply(ci, copy, true);
}

static bool x86_pending(struct cpu_info *ci, vaddr_t va, uint16_t pcid)
{
	(void)ci;
	for (unsigned c = 0; c < machine_cur->m_ncpu; c++)
		if (sd_req_covers(&packets[c].tp_req, va, pcid))
			return true;
	return false;
}

const struct shootdown_strategy shootdown_netbsd_x86 = {
	.sd_name = "netbsd-x86",
	.sd_keys = x86_keys,
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
