/*
 * calibration.h — ipi.preset = calibrated: the IPI costs of a config from
 * the calibration file that `pmapstorm calibrate` writes
 * (trials/calibrate.h).
 */
#ifndef PMAPSTORM_EXPERIMENT_CALIBRATION_H
#define PMAPSTORM_EXPERIMENT_CALIBRATION_H

#include <stddef.h>
#include <pmapstorm/machine.h>

/* ipi.send_ns and ipi.handler_ns of cfg from the file ipi.calibration
 * names: 0, or EINVAL with "ipi.calibration: reason" in why (a missing or
 * malformed file is bad input). */
int calibration_apply(struct machine_config *, char *why, size_t len);

#endif
