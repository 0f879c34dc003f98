/*
 * shootdown_pmap.h — what the pmap calls in the strategies' common layer
 * (shootdown.c), declared once: pmap_impl.h and shootdown_impl.h both
 * include it.
 */
#ifndef PMAPSTORM_SHOOTDOWN_PMAP_H
#define PMAPSTORM_SHOOTDOWN_PMAP_H

#include "../machine/machine_impl.h"

/* Is name a strategy the config may select?  false with the reason in why. */
bool shootdown_check_name(const char *name, bool allow_unsafe, char *why, size_t len);
/* the layer's own keys (shootdown.strategy, .allow_unsafe) and the check
 * of a whole config's strategy (core/boot.c) */
extern const struct cfg_key shootdown_keys[];
int shootdown_config_validate(const struct machine_config *);
/* the common state: boot and halt (pmap_boot calls them around the strategy's) */
int sd_common_boot(struct machine *);
void sd_common_halt(void);
void sd_reclaim_deferred(void);             /* frees the deferred frames no TLB can hold any more */
void sd_lazy_drain(void);                   /* every lazily posted invalidation applied everywhere */
void sd_lazy_sweep_self(struct cpu_info *); /* this CPU applies what was posted to it */

#endif /* PMAPSTORM_SHOOTDOWN_PMAP_H */
