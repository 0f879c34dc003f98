/*
 * machine_impl.h — the simulated hardware, as the rest of core/ sees it.
 *
 * Shared by core/machine (which owns it), core/pmap and core/shootdown (which
 * docs/architecture.md, "Layers", allows to use the machine).  Not installed: the embedding API is
 * in core/include/pmapstorm/.
 *
 * Hardware rules kept here (docs/architecture.md, "The hardware rules"):
 *  - a TLB is touched only by its owning CPU's thread (struct tlb has no
 *    atomics for that reason); remote CPUs ask through the IPI mailbox;
 *  - page-table memory is read by the walker with atomic loads and the
 *    walker sets A/D with compare-and-swap, concurrently with pmap updates;
 *  - a CPU that is not attached has an empty TLB (flushed on detach and on
 *    attach), so nobody needs to wait for its acknowledgement.
 */
#ifndef PMAPSTORM_MACHINE_IMPL_H
#define PMAPSTORM_MACHINE_IMPL_H

#include "../config/config_impl.h"

#include <pmapstorm/alloc.h>
#include <pmapstorm/check.h>
#include <pmapstorm/lock.h>
#include <pmapstorm/machine.h>
#include <pmapstorm/stats.h>
#include <pmapstorm/topo.h>
#include <pmapstorm/uvm_page.h>

#include <stdatomic.h>
#include <stdio.h>

#define CACHE_LINE 64
#define __cacheline_aligned __attribute__((aligned(CACHE_LINE)))
#define __predict_true(x) __builtin_expect(!!(x), 1)
#define __predict_false(x) __builtin_expect(!!(x), 0)

#ifdef NDEBUG
#define KASSERT(e) ((void)sizeof(e))
#define KASSERTMSG(e, ...) ((void)sizeof(e))
#else
#define KASSERT(e) ((e) ? (void)0 : panic("kassert \"%s\" failed: %s:%d", #e, __FILE__, __LINE__))
#define KASSERTMSG(e, fmt, ...)                                                                  \
	((e) ? (void)0 : panic("kassert \"%s\" failed: %s:%d: " fmt, #e, __FILE__, __LINE__, ##__VA_ARGS__))
#endif

/* ---- page-table entries (x86-64 layout, plus software bits) ---- */
typedef uint64_t pt_entry_t;
#define PTE_V 0x001ULL    /* hardware valid (present) */
#define PTE_W 0x002ULL    /* hardware writable */
#define PTE_U 0x004ULL    /* user */
#define PTE_PWT 0x008ULL  /* write-through */
#define PTE_PCD 0x010ULL  /* cache disable */
#define PTE_A 0x020ULL    /* accessed (referenced) */
#define PTE_D 0x040ULL    /* dirty (modified) */
#define PTE_PAT 0x080ULL  /* page attribute table index bit */
#define PTE_G 0x100ULL    /* global: survives PCID / non-global flushes */
#define PTE_WIRED 0x200ULL   /* software: wired mapping */
#define PTE_MANAGED 0x400ULL /* software: pv-tracked (pmap_enter) mapping */
#define PTE_SWV 0x800ULL     /* software: the mapping exists (== V with hardware A/D) */
#define PTE_SWW (1ULL << 52) /* software: the mapping's protection allows writing */
#define PTE_SWA (1ULL << 53) /* software: A (or, with software mod/ref, V) was cleared while a
                              * TLB may have held the entry; its shootdown may still be in
                              * flight, so the PTE counts as possibly cached from then on */
#define PTE_NX (1ULL << 63)  /* no execute */
#define PTE_FRAME 0x000ffffffffff000ULL
#define PTE_CACHEBITS (PTE_PWT | PTE_PCD | PTE_PAT)
#define pte_pa(p) ((paddr_t)((p) & PTE_FRAME))

#define NPTEPG 512
#define PTP_LEVELS 4
#define pl_index(va, lvl) ((unsigned)(((va) >> (PAGE_SHIFT + 9 * ((lvl) - 1))) & (NPTEPG - 1)))

static inline _Atomic pt_entry_t *pte_slot(void *ptp, unsigned idx)
{
	return (_Atomic pt_entry_t *)ptp + idx;
}

/* ---- CPU sets (NetBSD kcpuset(9) names, fixed size) ---- */
typedef struct {
	_Atomic uint64_t bits[MAXCPUS / 64];
} kcpuset_t;

static inline void kcpuset_zero(kcpuset_t *s)
{
	for (unsigned i = 0; i < MAXCPUS / 64; i++)
		atomic_store_explicit(&s->bits[i], 0, memory_order_relaxed);
}
/* seq_cst: a CPU that sets its bit and then walks the page tables pairs
 * with an initiator that updates a PTE and then reads the set (Dekker) */
static inline void kcpuset_atomic_set(kcpuset_t *s, unsigned c)
{
	atomic_fetch_or(&s->bits[c / 64], 1ULL << (c % 64));
}
static inline void kcpuset_atomic_clear(kcpuset_t *s, unsigned c)
{
	atomic_fetch_and(&s->bits[c / 64], ~(1ULL << (c % 64)));
}
static inline bool kcpuset_isset(const kcpuset_t *s, unsigned c)
{
	return (atomic_load((_Atomic uint64_t *)&s->bits[c / 64]) >> (c % 64)) & 1;
}
/* A snapshot, seq_cst per word (also a release of what came before). */
static inline void kcpuset_copy(kcpuset_t *d, const kcpuset_t *s)
{
	for (unsigned i = 0; i < MAXCPUS / 64; i++)
		atomic_store(&d->bits[i], atomic_load((_Atomic uint64_t *)&s->bits[i]));
}
/* d = a & b, plain (d is private) */
static inline void kcpuset_intersect_into(kcpuset_t *d, const kcpuset_t *a, const kcpuset_t *b)
{
	for (unsigned i = 0; i < MAXCPUS / 64; i++)
		atomic_store_explicit(&d->bits[i],
		    atomic_load((_Atomic uint64_t *)&a->bits[i]) & atomic_load((_Atomic uint64_t *)&b->bits[i]),
		    memory_order_relaxed);
}
static inline bool kcpuset_iszero(const kcpuset_t *s)
{
	for (unsigned i = 0; i < MAXCPUS / 64; i++)
		if (atomic_load((_Atomic uint64_t *)&s->bits[i]) != 0)
			return false;
	return true;
}
/* Visits the members of a snapshot of each word (one atomic load a word). */
#define KCPUSET_FOREACH(set, c)                                                                    \
	for (unsigned _kw = 0; _kw < MAXCPUS / 64; _kw++)                                          \
		for (uint64_t _kb = atomic_load((_Atomic uint64_t *)&(set)->bits[_kw]); _kb != 0; \
		     _kb &= _kb - 1)                                                               \
			for (unsigned c = _kw * 64 + (unsigned)__builtin_ctzll(_kb), _k1 = 1; _k1; _k1 = 0)

/* ---- MMU contexts: what a shootdown strategy may see of a pmap ---- */
struct mmu_ctx {
	paddr_t mc_root;     /* L4 page (user half; kernel walks use the kernel root) */
	uint16_t mc_pcid;    /* tag of this context's TLB entries; 0 = kernel */
	bool mc_kernel;
	kcpuset_t mc_cpus;   /* CPUs whose TLB may hold entries of this context */
	kcpuset_t mc_active; /* CPUs where it is the current context */
};

/* ---- TLB (private to its CPU; mmu.c) ---- */
#define TE_W 0x01
#define TE_X 0x02
#define TE_D 0x04
#define TE_G 0x08
#define TLB_INVALID_VPN UINT64_MAX

struct tlb_entry {
	uint64_t te_vpn;
	uint64_t te_pfn;
	uint32_t te_lru;
	uint32_t te_gen; /* frame generation when filled */
	uint16_t te_pcid;
	uint8_t te_flags;
};

struct tlb {
	struct tlb_entry *tlb_entries; /* nsets * ways */
	uint64_t tlb_setmask;
	unsigned tlb_ways;
	uint32_t tlb_clock;
	size_t tlb_bytes;              /* the entries' mapping (topo_mem_alloc_node) */
};

/* ---- CPUs ---- */
#define IPI_SHOOTDOWN 0 /* the strategy's TLB shootdown handler */
#define IPI_KICK 1      /* nothing to do: just an interrupt point */
#define IPI_NTYPES 2    /* every interrupt point compares this many counters */

enum cpu_state { CPU_DETACHED = 0, CPU_ATTACHED = 1 };

/* Words of a strategy's request that fit beside the IPI counters */
#define CI_SD_REQ_WORDS 4

struct cpu_info {
	/* the mailbox line, written by senders.  An IPI of type t is a
	 * fetch_add on ci_ipi_seq[t]; the target only reads the line and
	 * compares with its private ci_ipi_seen[], so taking an IPI costs the
	 * target no read-for-ownership of its own mailbox. */
	_Atomic uint32_t ci_ipi_seq[IPI_NTYPES] __cacheline_aligned;
	/* quiescent-state requests (cpu_qs_request()): a counter other CPUs
	 * bump in this line, which every interrupt point reads anyway, and
	 * the owner's answer beside it — an initiator that asked and then shot
	 * this CPU down finds the answer in the line that brings the
	 * acknowledgement (netbsd_x86.c) */
	_Atomic uint64_t ci_qs_req;
	_Atomic uint64_t ci_qs_ack;         /* the last ci_qs_req seen at an interrupt point (owner-written) */
	_Atomic int ci_state;                         /* enum cpu_state */
	/* broadcast invalidation (TLBI IS / INVLPGB): non-zero while the TLB's
	 * hardware inbox holds operations; the MMU drains it before its next
	 * lookup (mmu_translate) */
	_Atomic uint32_t ci_tlb_inbox;
	/* the strategy's request, in the line that carries the IPI: a small
	 * one arrives with the interrupt, and its acknowledgement can go back
	 * in the same line (netbsd_x86.c) */
	_Atomic uint64_t ci_sd_req[CI_SD_REQ_WORDS];
	/* owner only (others may read ci_progress) */
	unsigned ci_cpuid __cacheline_aligned;
	uint64_t ci_vclock;         /* machine.engine = virtual: this CPU's clock, virtual ns (engine.c) */
	_Atomic uint32_t ci_ipi_seen[IPI_NTYPES];   /* relaxed: owner-written, read by the watchdog's dump */
	_Atomic uint64_t ci_progress;               /* interrupt points passed outside waits (the watchdog's view) */
	int ci_ipl;                 /* interrupt-block depth (splvm) */
	struct mmu_ctx *ci_ctx;     /* current user context (NULL: kernel only) */
	uint16_t ci_pcid;           /* ci_ctx's PCID, cached for the TLB-hit path */
	uint8_t *ci_phys;           /* machine_cur->m_phys, cached likewise */
	struct lwp *ci_curlwp;
	kcpuset_t ci_pu_peers;      /* the other CPUs placed on this CPU's host PU (boot) */
	bool ci_pinned;             /* this CPU's thread is bound to its PU, and only to it (cpu_attach) */
	bool ci_self_attached;      /* virtual: attached by a thread machine_run() did not start (cpu.c) */
	uint64_t ci_tick_ns;        /* tick period; 0: the strategy takes no ticks */
	uint64_t ci_next_tick;      /* cpu_now_ns() of the next tick */
	struct tlb ci_tlb;
	struct stats_block *ci_stats;
	void *ci_sd;                /* the shootdown strategy's per-CPU state */
	void *ci_pmap_md;           /* the pmap's per-CPU state (pending frees) */
	/* the generator (stats_sample_draw) of the statistics that time one
	 * event in n at random: pmap's update_cost, uvm_km's allocation
	 * latencies; seeded from the CPU's number at attach */
	uint64_t ci_sample_rng;
	/* check.c: oracle counts, the update oracle's in-flight range (the
	 * VAs whose PTEs this CPU changed since its last completed
	 * pmap_update(); owner-written, read by every CPU), injection state,
	 * and what the watchdog's dump shows */
	_Atomic uint64_t ci_chk[CHK_NORACLES];
	_Atomic uint64_t ci_inflight_lo[2], ci_inflight_hi[2]; /* [0] user, [1] kernel addresses */
	uint64_t ci_inj_rng;
	uint64_t ci_inj_ipi_until;  /* IPIs seen pending are held back until then (0: none seen) */
	bool ci_inj_ipi;            /* inject.ipi_delay_* applies to this CPU */
	_Atomic(const char *) ci_wait_what; /* the current wait's description, or NULL */
	_Atomic uintptr_t ci_wait_site;     /* the caller of the current cpu_spin_wait() loop */
	_Atomic uint64_t ci_wait_seq;       /* waits begun (the watchdog tells one wait from the next) */
	_Atomic uint64_t ci_wait_t0;        /* when that wait began; 0 until its first pausing turn */
	_Atomic(const struct kmutex *) ci_lock_wait; /* the lock a contended acquisition waits for (lock.c) */
	_Atomic uint32_t ci_lock_id;        /* its thread's lock id: what a lock it holds has in mtx_owner */
};

/*
 * The machine's upcalls into the pmap layer and its strategy: the pmap
 * installs them in m_hooks when it boots (pmap_boot, called by
 * core/boot.c's machine_boot); until then they are NULL.
 */
struct machine_hooks {
	/* a CPU detaches: the pmap switches it away from its lwp */
	void (*mh_cpu_detach)(struct cpu_info *ci);
	/* software mod/ref emulation: the walker found V or W missing on a
	 * mapping whose software bits allow the access; 0 to retry the walk */
	int (*mh_refmod_fault)(_Atomic pt_entry_t *ptep, pt_entry_t pte, int access);
	/* tlb_check(): is (va, pcid) covered by a pending shootdown? */
	bool (*mh_pending)(struct cpu_info *ci, vaddr_t va, uint16_t pcid);
	/* IPI_SHOOTDOWN handler */
	void (*mh_ipi_shootdown)(struct cpu_info *ci);
	/* context switch hook (old, new contexts), on the switching CPU */
	void (*mh_switch)(struct cpu_info *ci, struct mmu_ctx *old, struct mmu_ctx *new_);
	/* The strategy's hardware- and clock-level hooks, installed at boot
	 * (NULL when the strategy has none, so they cost one test):
	 * a clock tick, at an interrupt point with interrupts blocked */
	void (*mh_tick)(struct cpu_info *ci);
	/* a frame is freed: true if the strategy keeps it (phys_free_now later) */
	bool (*mh_page_free)(struct vm_page *pg);
	/* memory is short: free the deferred frames no TLB can hold any more */
	void (*mh_page_reclaim)(void);
	/* memory is short: the pmap's per-CPU caches of free page-table pages
	 * go back to the free list; true if any frame moved (core/pmap/ptp.c) */
	bool (*mh_ptp_reclaim)(void);
	/* the walker is about to fill pte (read from ptep) into ci's TLB:
	 * false if the PTE changed meanwhile (the walk is redone) */
	bool (*mh_fill)(struct cpu_info *ci, _Atomic pt_entry_t *ptep, pt_entry_t pte);
	/* drain ci's TLB inbox (ci_tlb_inbox != 0), before a lookup */
	void (*mh_tlb_inbox)(struct cpu_info *ci);
	/* the watchdog's dump: what the strategy knows of ci (optional) */
	void (*mh_dump)(FILE *f, struct cpu_info *ci);
};
_Static_assert(__builtin_offsetof(struct cpu_info, ci_cpuid) == CACHE_LINE,
    "the mailbox line (IPI counters, quiescent-state requests, the strategy's request) is one cache line");

/*
 * The uvm layer's upcall, installed in m_uvm_hooks by uvm_boot (after the
 * pmap's boot: kernel_map needs the kernel's page tables).  mu_reclaim is
 * called by phys_alloc() when the free list cannot serve a request: it
 * moves frames held in the page allocator's per-CPU caches back to the free
 * list and says whether it moved any.  It may take LC_PAGEFREE locks (never
 * m_free_lock).
 */
struct machine_uvm_hooks {
	bool (*mu_reclaim)(void);
};


struct machine {
	struct machine_config m_cfg;
	unsigned m_ncpu;
	/* physical memory */
	uint8_t *m_phys;          /* frames, host memory */
	uint64_t m_npages;
	struct vm_page *m_pages;  /* one per frame */
	bool m_numa;              /* placed by libnuma (machine.numa) */
	struct topo_numa m_numa_plan;
	/* topology: the placement of the CPUs, and the modelled IPI delay of
	 * each (sender, target) pair by hop level (ipi.distance_ns; NULL: none) */
	struct topo *m_topo;
	uint32_t *m_ipi_dist;     /* m_ncpu * m_ncpu */
	size_t m_cpus_bytes;      /* m_cpus mapping (topo_mem_alloc_node) */
	/* the free list */
	kmutex_t m_free_lock;
	struct vm_page *m_free_head;
	_Atomic uint64_t m_free_count;
	uint64_t m_reserve;       /* frames only UVM_PGA_USERESERVE may take */
	/* CPUs */
	struct cpu_info *m_cpus;  /* m_ncpu of them */
	kcpuset_t m_attached;
	paddr_t m_kernel_root;    /* kernel L4 (walks of kernel addresses) */
	uint64_t m_tlb_bytes;
	_Atomic uint64_t m_ptp_pages; /* frames in use as page-table pages */
	struct machine_hooks m_hooks;
	struct machine_uvm_hooks m_uvm_hooks;
	bool m_pmap_booted;       /* pmap_boot succeeded: uvm_boot ran or was tried */
	bool m_sd_lazy;           /* the strategy completes removals lazily (set by the pmap) */
	void *m_watchdog;         /* check.c */
};

/* One machine per process: the hot paths read these without indirection. */
extern struct machine *machine_cur;
extern _Thread_local struct cpu_info *curcpu_tls __attribute__((tls_model("initial-exec")));
static inline struct cpu_info *curcpu(void)
{
	return curcpu_tls;
}
static inline struct cpu_info *cpu_lookup(unsigned id)
{
	return &machine_cur->m_cpus[id];
}
static inline bool cpu_is_attached(const struct cpu_info *ci)
{
	return atomic_load_explicit((_Atomic int *)&ci->ci_state, memory_order_acquire) == CPU_ATTACHED;
}
static inline void *phys_to_host(paddr_t pa)
{
	return machine_cur->m_phys + pa;
}
/*
 * Zeroing and copying frames word by word with relaxed atomics: simulated
 * memory is shared, and a broken strategy (a mutant) lets a CPU store
 * through a stale translation into a frame that is being reused.  That is
 * a violation the oracles report, and must not be a data race of the host
 * program (TSan).  On x86 these are plain moves.
 */
static inline void phys_zero_page(paddr_t pa)
{
	_Atomic uint64_t *p = phys_to_host(pa);
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		atomic_store_explicit(&p[i], 0, memory_order_relaxed);
}
static inline void phys_copy_page(paddr_t dst, paddr_t src)
{
	_Atomic uint64_t *d = phys_to_host(dst), *s = phys_to_host(src);
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		atomic_store_explicit(&d[i], atomic_load_explicit(&s[i], memory_order_relaxed), memory_order_relaxed);
}

/* boot and halt of the hardware alone (core/boot.c boots the layers above) */
struct machine *machine_hw_boot(const struct machine_config *);
void machine_hw_halt(struct machine *);
/* the machine's own keys (NULL-terminated) and its rules between them */
extern const struct cfg_key machine_keys[];
/* check.c's keys: check.*, inject.*, watchdog.* */
extern const struct cfg_key check_keys[];
int machine_config_validate(const struct machine_config *);

/* physical memory (phys.c) */
int phys_init(struct machine *);
void phys_fini(struct machine *);
struct vm_page *phys_alloc(bool usereserve);
void phys_free(struct vm_page *);      /* the strategy may defer it (mh_page_free) */
void phys_free_now(struct vm_page *);   /* back on the free list at once */
bool phys_free_try(struct vm_page *);   /* the same if the free list's lock is free now */
bool phys_free_defer(struct vm_page *); /* true: the strategy keeps it for now */
void phys_reclaim_deferred(void);       /* memory is short: release what the strategy may */
void phys_wait(void);
/* For page caches above the free list (core/uvm/uvm_page.c):
 * phys_take() unlinks up to n free frames into a chain (pageq_next), which
 * stay marked free (PG_FREE), honouring the reserve unless usereserve;
 * phys_give() links back a chain of n frames that are marked free;
 * phys_mark_free() does what phys_free() does to the frame itself (checks,
 * generation bump, PG_FREE) without linking it; phys_mark_busy() what
 * phys_alloc() does to a frame it unlinked. */
unsigned phys_take(unsigned n, bool usereserve, struct vm_page **chain);
void phys_give(struct vm_page *chain, unsigned n);
void phys_mark_free(struct vm_page *pg);
void phys_mark_busy(struct vm_page *pg);

/* TLB (mmu.c): owner only */
int tlb_init(struct tlb *, unsigned entries, unsigned ways, int node); /* node: NUMA node, -1 any */
void tlb_fini(struct tlb *);
void tlb_invalidate_page(struct cpu_info *, vaddr_t va, uint16_t pcid);
void tlb_invalidate_pcid(struct cpu_info *, uint16_t pcid);   /* non-global entries of one PCID */
void tlb_invalidate_nonglobal(struct cpu_info *);
void tlb_invalidate_all(struct cpu_info *);
/* Load a context on this CPU (what writing CR3 does). */
void mmu_set_ctx(struct cpu_info *, struct mmu_ctx *);

/*
 * Oracles and injection (check.c).  The hot paths test one flag each, set
 * at boot from the config and never changed while a machine runs.
 */
extern bool check_tlb_on;     /* frame or update oracle on: mmu_translate's TLB-hit hook */
extern bool check_update_on;  /* the update oracle: the pmap records its in-flight changes */
extern bool inject_yield_on;  /* inject.yield > 0 */
extern unsigned inject_update_locks_n; /* inject.update_locks (pmap_update) */
extern bool inject_intr_on;   /* inject.ipi_delay_us or inject.spl > 0 */
int check_boot(struct machine *);
void check_halt(struct machine *);
/* the TLB-hit oracles (mmu.c) */
void check_tlb_hit(struct cpu_info *, const struct tlb_entry *, vaddr_t va);
/* is va in some CPU's in-flight range? */
bool check_inflight_covers(vaddr_t va);
/* => on ci, before it changes the PTE of va (pmap.c) */
static inline void check_inflight_add(struct cpu_info *ci, vaddr_t va)
{
	if (__predict_true(!check_update_on))
		return;
	/* seq_cst stores, before the PTE change: a CPU whose walk reads the
	 * new PTE then sees the range that covers it.  Owner-only writes,
	 * so load + store is enough; the range only grows until cleared.
	 * User and kernel addresses keep apart intervals (one would span
	 * the whole address space). */
	unsigned k = va >= VM_MIN_KERNEL_ADDRESS;
	if (va < atomic_load_explicit(&ci->ci_inflight_lo[k], memory_order_relaxed))
		atomic_store(&ci->ci_inflight_lo[k], va);
	if (va + PAGE_SIZE > atomic_load_explicit(&ci->ci_inflight_hi[k], memory_order_relaxed))
		atomic_store(&ci->ci_inflight_hi[k], va + PAGE_SIZE);
}
/* => on ci, once its pmap_update() / synchronous operation completed */
static inline void check_inflight_done(struct cpu_info *ci)
{
	if (__predict_true(!check_update_on))
		return;
	for (unsigned k = 0; k < 2; k++) {
		atomic_store(&ci->ci_inflight_lo[k], UINT64_MAX);
		atomic_store(&ci->ci_inflight_hi[k], 0);
	}
}
void inject_yield_slow(struct cpu_info *);
/* A point inside a pmap critical section where inject.yield may yield. */
static inline void cpu_inject_yield(void)
{
	if (__predict_false(inject_yield_on))
		inject_yield_slow(curcpu_tls);
}
/* Should this CANFAIL / NOWAIT allocation fail (inject.allocfail)? */
bool inject_allocfail(void);
/* At an interrupt point (interrupts not blocked): may run an injected
 * interrupt-blocked window; true while pending IPIs are held back. */
bool inject_intr(struct cpu_info *, bool ipi_pending);
/* IPIs (cpu.c) */
void cpu_spin_pause(unsigned *iter);
void cpu_send_ipi(struct cpu_info *target, unsigned type);

/*
 * The execution engine (engine.c; docs/engine.md).  With machine.engine =
 * threads nothing here does anything but test engine_on.  With virtual,
 * one simulated CPU runs at a time; each has a virtual clock (ci_vclock)
 * that the cost model advances, and at every yield point the scheduler
 * may hand the baton to the runnable CPU with the smallest clock.
 */
enum engine_cost {
	EC_TLB_HIT,      /* cost.tlb_hit_ns: a translation the TLB holds */
	EC_WALK_LEVEL,   /* cost.walk_level_ns: each level a page walk reads */
	EC_INVLPG,       /* cost.invlpg_ns: one page invalidated in the own TLB */
	EC_FLUSH,        /* cost.flush_ns: a whole-TLB / whole-PCID flush */
	EC_IPI_SEND,     /* cost.ipi_send_ns: the sender's cost of one IPI */
	EC_IPI_DELIVER,  /* cost.ipi_deliver_ns: from the send to when the target can take it */
	EC_HANDLER,      /* cost.handler_ns: interrupt entry and exit on the target */
	EC_LINE,         /* cost.line_transfer_ns: a cache line another CPU wrote (a wait turn, a mailbox) */
	EC_POLL,         /* cost.intr_poll_ns: the code between two interrupt points, as a floor */
	EC_PTE_WRITE,    /* cost.pte_write_ns: a page-table entry the pmap writes */
	EC_LOCK,         /* cost.lock_ns: a lock acquisition and release (+ EC_LINE if another CPU held it last) */
	EC_NCOSTS
};
extern bool engine_on;                 /* the booted machine runs machine.engine = virtual */
extern uint64_t engine_cost[EC_NCOSTS]; /* the booted machine's cost.* values */
/* moves whenever a CPU may have changed what a waiter sees; the baton
 * holder's, read by the watchdog's dump too (relaxed: engine.c) */
extern _Atomic uint64_t engine_epoch;
static inline void eng_epoch_bump(void)
{
	atomic_store_explicit(&engine_epoch, atomic_load_explicit(&engine_epoch, memory_order_relaxed) + 1,
	    memory_order_relaxed);
}
/* An interrupt point changed shared state (a handler ran, a request was
 * answered): a waiter may see something new (engine_wait_turn). */
static inline void engine_changed(void)
{
	if (__predict_false(engine_on))
		eng_epoch_bump();
}
static inline void engine_charge(struct cpu_info *ci, enum engine_cost what)
{
	if (__predict_false(engine_on))
		ci->ci_vclock += engine_cost[what];
}
/* A step the core takes outside the machine layer (a PTE write): the
 * calling CPU pays it; a thread that is no CPU (boot) pays nothing */
static inline void engine_charge_cur(enum engine_cost what)
{
	if (__predict_false(engine_on)) {
		struct cpu_info *ci = curcpu();
		if (ci != NULL)
			ci->ci_vclock += engine_cost[what];
	}
}
static inline void engine_charge_n(struct cpu_info *ci, enum engine_cost what, uint64_t n)
{
	if (__predict_false(engine_on))
		ci->ci_vclock += engine_cost[what] * n;
}
int engine_boot(struct machine *);
void engine_halt(struct machine *);
uint64_t engine_now(void);               /* virtual now of a thread that is no CPU */
bool engine_scheduled(const struct cpu_info *); /* ci runs under the scheduler now */
void engine_yield(struct cpu_info *);    /* a yield point (ci is curcpu()) */
void engine_wait_turn(struct cpu_info *, unsigned turn); /* turn of a wait (0: its first): the clock jumps, then a yield */
void engine_preempt(struct cpu_info *);  /* hand the baton to a CPU the seed picks */
void engine_ipi_sent(struct cpu_info *target, unsigned type, uint64_t at); /* arrives at `at` */
bool engine_ipi_arrived(const struct cpu_info *ci, unsigned type);
/* machine_run() under the engine: the CPU threads park at engine_park()
 * after they attached; engine_start() releases the first and waits until
 * every one of them went through engine_exit(). */
void engine_prepare(unsigned ncpu);      /* machine_run(), before its threads: no stale baton */
void engine_park(struct cpu_info *);     /* returns with the baton, or when the run was called off */
int engine_start(struct machine *, unsigned ncpu);
void engine_exit(struct cpu_info *);
void engine_abort(struct machine *, unsigned ncpu);
bool engine_aborted(void);
void engine_dump(FILE *);                /* the watchdog's dump */
extern bool engine_rcu_pending;          /* sync_rcu_defer() callbacks wait (virtual) */
void engine_rcu_poll(void);              /* at an interrupt point: run the ones whose grace period ended */
/* the engine's keys (machine.engine, engine.*, cost.*: NULL-terminated,
 * listed in core/boot.c) and its rule between keys (no sleeping lock in
 * virtual time) */
extern const struct cfg_key engine_keys[];
int engine_config_validate(const struct machine_config *);

/*
 * Quiescent states (cpu.c).  An interrupt point is a quiescent state: no
 * walk of the page tables is in progress on that CPU (the walker runs
 * inside one mmu_load/store/fetch, which never polls).  cpu_qs_request()
 * asks target to report its next one and returns a ticket; once
 * cpu_qs_passed() says so for that ticket, every walk target had begun
 * before the request is over and every later one sees what the caller
 * stored before the request.  No IPI and no host thread: the target
 * reads the request at its own next interrupt point (the line it reads
 * there anyway) and answers in the same line.  => any thread
 */
uint64_t cpu_qs_request(struct cpu_info *target);
bool cpu_qs_passed(const struct cpu_info *target, uint64_t ticket);

#endif /* PMAPSTORM_MACHINE_IMPL_H */
