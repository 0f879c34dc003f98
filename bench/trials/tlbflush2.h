/*
 * tlbflush2.h — the host kernel under will-it-scale tlb_flush2's loop
 * (tlbflush2.c says what and after whom): calibrate and microbench; and the
 * host's PUs under a loop that never enters the kernel (microbench).
 */
#ifndef PMAPSTORM_TRIALS_TLBFLUSH2_H
#define PMAPSTORM_TRIALS_TLBFLUSH2_H

#include <stdbool.h>
#include <stdint.h>

#define TF_MAX_TASKS 256

/* k tasks (1 to TF_MAX_TASKS), pinned to host PUs pus[0..k-1], each
 * touching its page and madvise(MADV_DONTNEED)ing it for `seconds`:
 * threads of one process (each madvise shoots at the others) or processes
 * (no shootdown).  *ns: the median task's ns per madvise; *ops (unless
 * NULL): the madvise calls of all tasks together.  0, or an errno (EINVAL
 * for k out of range) with *bad_pu the PU a task could not be pinned to
 * (-1: another failure). */
int host_tlb_flush2(const int *pus, unsigned k, bool processes, double seconds, double *ns, uint64_t *ops,
    int *bad_pu);

/* k threads of one process on pus[0..k-1], each loading bytes of its own
 * HL_PAGES pages at random for `seconds`, no system call: *ops,
 * the accesses of all threads together.  0, or an errno as above. */
#define HL_PAGES 128
int host_mem_loop(const int *pus, unsigned k, double seconds, uint64_t *ops, int *bad_pu);

#endif
