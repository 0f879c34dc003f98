/*
 * calibrate.h — what `pmapstorm calibrate` measures (calibrate.c says
 * what and after whom), as a library: the command and `pmapstorm run`
 * (a missing calibration file) both call it.  experiment/calibration.h
 * reads the file it writes.
 */
#ifndef PMAPSTORM_TRIALS_CALIBRATE_H
#define PMAPSTORM_TRIALS_CALIBRATE_H

#include <stdbool.h>
#include <pmapstorm/machine.h>

/* Pairs of PUs measured at most, unless --pairs says otherwise: 256 pairs
 * take a few seconds at the default --samples; every pair of 23 PUs. */
#define CALIBRATE_MAX_PAIRS 256

struct calibrate_params {
	unsigned cp_samples, cp_rounds, cp_max_pairs;
	double cp_seconds;
	bool cp_quiet;
};
extern const struct calibrate_params calibrate_defaults;

/* The host PUs cfg places its CPUs on, measured; calibration.json written
 * to out (its folder made if missing), and a summary on stdout unless
 * quiet.  0, or an errno after a message (common/msg.h): EINVAL for a
 * config that does not resolve; any failure while measuring is the
 * host's. */
int calibrate_measure(const struct machine_config *cfg, const char *out, const struct calibrate_params *);

#endif
