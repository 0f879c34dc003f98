/*
 * shootdown_impl.h — what strategies share: the machine's view, counters.
 */
#ifndef PMAPSTORM_SHOOTDOWN_IMPL_H
#define PMAPSTORM_SHOOTDOWN_IMPL_H

#include "../machine/machine_impl.h"

#include <pmapstorm/shootdown.h>

bool shootdown_check_name(const char *name, char *why, size_t len);
/* one completed request: addresses, whole flush?, remote targets interrupted,
 * targets skipped, and the time it took when it had remote targets */
void sd_count_request(unsigned naddrs, bool whole, unsigned ntargets, unsigned nskipped, uint64_t ns);
void sd_count_unaccessed(void);

/* Could a TLB hold the translation in opte?  Only if the walker marked it
 * accessed: it sets A before it fills (x86: NetBSD's pmap_tlb_shootdown
 * skips PTEs without PG_U for the same reason) — or if A was cleared
 * (pmap_clear_reference) by an operation whose own shootdown may not have
 * completed yet: PTE_SWA stays set for that reason. */
static inline bool sd_pte_cached(uint64_t opte)
{
	return (opte & PTE_SWV) && (opte & (PTE_A | PTE_SWA));
}

#endif
