/*
 * calibration.h — ipi.preset = calibrated: the IPI costs of a config from
 * the calibration file that `pmapstorm calibrate` writes
 * (trials/calibrate.h).
 */
#ifndef PMAPSTORM_EXPERIMENT_CALIBRATION_H
#define PMAPSTORM_EXPERIMENT_CALIBRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <pmapstorm/machine.h>

/* ipi.send_ns and ipi.handler_ns of cfg from the file ipi.calibration
 * names: 0, or EINVAL with "ipi.calibration: reason" in why (a missing or
 * malformed file is bad input). */
int calibration_apply(struct machine_config *, char *why, size_t len);
/* engine.costs = calibrated (with machine.engine = virtual): the cost.*
 * keys an IPI and a line transfer take, from the same file; the same
 * contract, but ENODATA (an environment error, exit 3) when the file is
 * whole and its host measured no shootdown (one PU, or a loaded host). */
bool calibration_engine_wanted(const struct machine_config *);
int calibration_engine_apply(struct machine_config *, char *why, size_t len);
/* Both, where the config asks for them (ipi.preset, engine.costs): what a
 * command that runs one machine config (microbench, stress) does before it
 * boots; run does the same per point, naming the key's line. */
int calibration_apply_wanted(struct machine_config *, char *why, size_t len);

#endif
