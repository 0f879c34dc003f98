/*
 * pmapstorm/check.h — coherence oracles, seeded fault injection and the
 * watchdog: what torture mode (stress/, `pmapstorm stress`) and
 * `check = on` in `pmapstorm run` build on.
 *
 * Oracles.  Each has a count of checks and of violations.  Two of them run
 * inside the machine, on every TLB hit, when check.enabled = on (one
 * predictable branch on a flag set at boot when off):
 *   frame    the frame an entry points to has not been freed since the
 *            entry was filled (its generation, mdpage.mp_gen, is the one
 *            the entry recorded);
 *   update   the entry agrees with the PTE, or the PTE's change is still in
 *            flight: the CPU that changed it has not yet returned from the
 *            pmap_update() (or synchronous page operation) that completes it.
 * The others are checked by the torture workload (stress/) with
 * check_count() and check_violation():
 *   modref   a write after the last pmap_clear_modify() makes
 *            pmap_is_modified() true until the next clear; referenced alike;
 *   counts   resident and wired counts equal a recount at quiescent points
 *            (pmap_check() and the workload's own count of its mappings);
 *   alloc    no frame or kernel VA range handed out twice; no frame free
 *            while mapped;
 *   contents every page carries a stamp of who owns it; reads verify it.
 * A violation is counted, kept (the first one, for the report) and passed
 * to the reporter set with check_set_reporter().
 *
 * Fault injection (inject.*), seeded by inject.seed: delayed IPI handling,
 * yields inside pmap critical sections, interrupt-blocked windows, and
 * failures of CANFAIL/NOWAIT allocations.  Memory pressure is the torture
 * runner's (it holds pages so that allocations wait in uvm_wait()).
 *
 * Watchdog (watchdog.seconds): a host thread started at machine_boot()
 * that watches every attached CPU's progress (interrupt points passed
 * outside waits).  A CPU that makes none for that long — stuck waiting for
 * an acknowledgement, a lock, anything — gets the machine's state dumped
 * (every CPU: pending IPIs, what it waits on and since when, the lock it
 * waits for and which CPU holds it), the hook set with
 * check_set_watchdog_hook() runs, and the process exits with status 1:
 * never a hang.
 */
#ifndef PMAPSTORM_CHECK_H
#define PMAPSTORM_CHECK_H

#include <pmapstorm/types.h>

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum check_oracle {
	CHK_FRAME = 0,
	CHK_UPDATE,
	CHK_MODREF,
	CHK_COUNTS,
	CHK_ALLOC,
	CHK_CONTENTS,
	CHK_NORACLES
};
#define CHK_ALL ((1u << CHK_NORACLES) - 1)

const char *check_oracle_name(enum check_oracle);
const char *check_oracle_desc(enum check_oracle);
/* -1 if unknown */
int check_oracle_find(const char *name);
/* "frame,update" or "all" into a mask: 0, or EINVAL naming the bad word in why */
int check_oracles_parse(const char *list, unsigned *mask, char *why, size_t len);

/* Is the oracle on in the running machine (check.enabled and check.oracles)? */
bool check_on(enum check_oracle);
/* n checks done (on a CPU: its own counter; elsewhere a shared one);
 * nothing for an oracle that is off, nor does check_violation() count */
void check_count(enum check_oracle, uint64_t n);

struct check_violation {
	enum check_oracle cv_oracle;
	int cv_cpu;        /* -1: not on a CPU */
	vaddr_t cv_va;
	paddr_t cv_pa;     /* the frame involved, or 0 */
	uint64_t cv_t_ns;  /* cpu_now_ns() */
	char cv_what[256];
};
/* Counts a violation, keeps the first, calls the reporter. */
void check_violation(enum check_oracle, vaddr_t va, paddr_t pa, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
typedef void (*check_report_fn)(const struct check_violation *);
void check_set_reporter(check_report_fn);
/* Totals since the last check_reset() (quiescent points only for exactness). */
void check_totals(enum check_oracle, uint64_t *checks, uint64_t *violations);
uint64_t check_violations_total(void);
bool check_first(struct check_violation *out);
void check_reset(void);

/* The watchdog's last words: called after the state dump, before exit(1). */
void check_set_watchdog_hook(void (*fn)(void));
/* Dumps every CPU's state (what the watchdog prints). */
void machine_dump_state(FILE *);

/* Of a config: are the oracles on (check.enabled)?  The watchdog's limit? */
struct machine_config;
bool check_config_enabled(const struct machine_config *);
unsigned check_config_watchdog_s(const struct machine_config *);

/* Injection names (the inject.* keys without the section), for messages. */
extern const char *const inject_names[];

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_CHECK_H */
