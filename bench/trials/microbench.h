/*
 * microbench.h — the model's unit costs on one CPU pair (microbench.c).
 */
#ifndef PMAPSTORM_TRIALS_MICROBENCH_H
#define PMAPSTORM_TRIALS_MICROBENCH_H

#include <stdint.h>
#include <pmapstorm/machine.h>

/* The model's shootdown round trip and ping-pong on CPUs 0 and 1 of a
 * two-CPU machine made from cfg: medians, ns; 0 or an errno
 * (machine_errmsg() says why). */
int microbench_shootdown(const struct machine_config *cfg, unsigned rounds, uint64_t *sd_med, uint64_t *pp_med);

#endif
