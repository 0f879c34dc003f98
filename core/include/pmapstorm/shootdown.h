/*
 * pmapstorm/shootdown.h — the TLB shootdown strategy interface.
 *
 * A strategy decides how the invalidations a pmap queues reach the TLBs of
 * the CPUs that may cache them.  The pmap calls, on the CPU doing the work:
 *   sd_invalidate  — a PTE changed (removed, downgraded, cleared) and a TLB
 *                    may hold the old one: queue its invalidation;
 *   sd_update      — pmap_update(): complete everything queued by this CPU;
 *   sd_sync        — the same, for operations that must be complete when
 *                    they return (pmap_page_protect, clear_modify, ...);
 * and the machine calls sd_ipi on a CPU taking a shootdown IPI, sd_switch on
 * a context switch, sd_tick at a clock tick (machine.tick_us), sd_free when
 * a frame is freed (a lazy strategy defers it), sd_fill when the walker
 * fills a TLB entry, sd_inbox before a translation when broadcast
 * invalidations wait in the TLB's inbox.  One file per strategy in
 * core/shootdown/, one line in the registry (shootdown.c).
 *
 * struct cpu_info and struct mmu_ctx are the machine's (core/machine/
 * machine_impl.h): what a strategy may see of CPUs and address spaces.
 */
#ifndef PMAPSTORM_SHOOTDOWN_H
#define PMAPSTORM_SHOOTDOWN_H

#include <pmapstorm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cpu_info;
struct machine;
struct mmu_ctx;
struct vm_page;

/* What happened to the PTE whose invalidation is queued. */
enum sd_inv_kind {
	SD_INV_REMOVE = 0,    /* the mapping is gone (its frame may be freed next) */
	SD_INV_DOWNGRADE = 1, /* rights lowered, or A/D cleared: must not be lazy */
};

/*
 * Which CPUs pmap_update() interrupts with IPIs after a pmap_remove() of a
 * mapping that other CPUs' TLBs may hold: IPIs sent in all, relays
 * included (hier's group leaders forward to their members), with no ring
 * or packet overflowing.  Tests derive their expected IPI counts from it,
 * so a new strategy states it in its registry entry instead of in them.
 */
enum sd_remove_targets {
	SD_TARGETS_PMAP = 0, /* every other CPU the pmap is active on (the default) */
	SD_TARGETS_FILLED,   /* only the CPUs whose TLB filled the translation */
	SD_TARGETS_NONE,     /* none: remote TLBs drop it lazily, or broadcast hardware does */
};

struct shootdown_strategy {
	const char *sd_name;
	const char *sd_origin;    /* the source it models: file and function, or paper */
	const char *sd_mechanism; /* one line */
	bool sd_unsafe;           /* a deliberately broken variant (runs only when allowed) */
	/* pmap_update() may return while remote TLBs still hold removed
	 * translations (they drop them at their next interrupt point, tick
	 * or context switch); the strategy holds the frames back until then */
	bool sd_lazy;
	/* mutants only: the pmap's lazy guard is off (core/pmap/pmap.c, "The
	 * lazy guard"): a VA entered again, or a page whose modified or
	 * referenced bit is cleared, while a removed translation is still
	 * cached — the behaviour before the guard existed */
	bool sd_unguarded;
	enum sd_remove_targets sd_remove_targets;
	/* the config keys it reads (pmapstorm/config.h), NULL-terminated, or
	 * NULL: a knob is one entry here and one table in its own file */
	const struct cfg_key *const *sd_keys;
	int (*sd_boot)(struct machine *);
	void (*sd_halt)(struct machine *);
	/* => pmap lock or pv lock held; on the current CPU */
	void (*sd_invalidate)(struct mmu_ctx *, vaddr_t va, uint64_t opte, enum sd_inv_kind kind);
	void (*sd_update)(void);
	void (*sd_sync)(void); /* optional: complete everything now (page operations); default sd_update */
	void (*sd_ipi)(struct cpu_info *);
	void (*sd_switch)(struct cpu_info *, struct mmu_ctx *old_ctx, struct mmu_ctx *new_ctx); /* optional */
	void (*sd_tick)(struct cpu_info *);                                              /* optional */
	/* optional: a frame is being freed; true = the strategy keeps it and
	 * frees it (phys_free_now) once no TLB can hold it */
	bool (*sd_free)(struct vm_page *);
	/* optional: a page-table page of ctx was unlinked (Linux's freed_tables) */
	void (*sd_ptp_freed)(struct mmu_ctx *);
	/* optional: the walker fills a translation (see machine_hooks.mh_fill) */
	bool (*sd_fill)(struct cpu_info *, _Atomic uint64_t *ptep, uint64_t pte);
	/* optional: drain a TLB's hardware inbox (broadcast invalidation) */
	void (*sd_inbox)(struct cpu_info *);
	/* tlb_check(): is (va, pcid) in a request not yet completed? */
	bool (*sd_pending)(struct cpu_info *, vaddr_t va, uint16_t pcid);
};

/*
 * Request -> acknowledgement latency per (initiator, target) pair, as the
 * targets measure it (strategies that acknowledge record it): the sum and
 * count since the last reset.  For the initiator x target heat map.
 */
void shootdown_ack_reset(void);
bool shootdown_ack_get(unsigned initiator, unsigned target, uint64_t *sum_ns, uint64_t *count);

/* The registry, NULL-terminated. */
extern const struct shootdown_strategy *const shootdown_strategies[];
const struct shootdown_strategy *shootdown_find(const char *name);
/* The strategy of the running machine. */
extern const struct shootdown_strategy *shootdown_current;

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_SHOOTDOWN_H */
