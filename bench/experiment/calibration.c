/*
 * calibration.c — reading calibration.json for ipi.preset = calibrated
 * (calibration.h); trials/calibrate.c writes it.
 */
#include "experiment/calibration.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>

int calibration_apply(struct machine_config *cfg, char *why, size_t len)
{
	json_error_t je;
	json_t *doc = json_load_file(cfg->mc_ipi_calibration, 0, &je);
	if (doc == NULL) {
		snprintf(why, len, "ipi.calibration: %s: %s (ipi.preset = calibrated; make it with pmapstorm calibrate --out %s)",
		    cfg->mc_ipi_calibration, je.line > 0 ? je.text : "cannot read", cfg->mc_ipi_calibration);
		return EINVAL;
	}
	json_t *ipi = json_object_get(doc, "ipi");
	json_t *snd = json_object_get(ipi, "send_ns"), *hnd = json_object_get(ipi, "handler_ns");
	char v[32];
	int rc = 0;
	if (!json_is_integer(snd) || !json_is_integer(hnd) || json_integer_value(snd) < 0 || json_integer_value(hnd) < 0) {
		snprintf(why, len, "ipi.calibration: %s is not a calibration file (no ipi.send_ns and ipi.handler_ns; "
		    "make one with pmapstorm calibrate)", cfg->mc_ipi_calibration);
		rc = EINVAL;
	} else {
		snprintf(v, sizeof(v), "%lld", (long long)json_integer_value(snd));
		if (machine_config_set(cfg, "ipi.send_ns", v) == 0) {
			snprintf(v, sizeof(v), "%lld", (long long)json_integer_value(hnd));
			rc = machine_config_set(cfg, "ipi.handler_ns", v) == 0 ? 0 : EINVAL;
		} else
			rc = EINVAL;
		if (rc != 0)
			snprintf(why, len, "ipi.calibration: %s: %s", cfg->mc_ipi_calibration, machine_errmsg());
	}
	json_decref(doc);
	return rc;
}
