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
 * a context switch, sd_tick at a clock tick.  One file per strategy in
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

struct shootdown_strategy {
	const char *sd_name;
	const char *sd_origin;    /* the source it models: file and function, or paper */
	const char *sd_mechanism; /* one line */
	bool sd_unsafe;           /* a deliberately broken variant (runs only when allowed) */
	int (*sd_boot)(struct machine *);
	void (*sd_halt)(struct machine *);
	void (*sd_invalidate)(struct mmu_ctx *, vaddr_t va, uint64_t opte);
	void (*sd_update)(void);
	void (*sd_ipi)(struct cpu_info *);
	void (*sd_switch)(struct cpu_info *, struct mmu_ctx *old_ctx, struct mmu_ctx *new_ctx); /* optional */
	void (*sd_tick)(struct cpu_info *);                                              /* optional */
	/* tlb_check(): is (va, pcid) in a request not yet completed? */
	bool (*sd_pending)(struct cpu_info *, vaddr_t va, uint16_t pcid);
};

/* The registry, NULL-terminated. */
extern const struct shootdown_strategy *const shootdown_strategies[];
const struct shootdown_strategy *shootdown_find(const char *name);
/* The strategy of the running machine. */
extern const struct shootdown_strategy *shootdown_current;

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_SHOOTDOWN_H */
