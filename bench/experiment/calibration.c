/*
 * calibration.c — reading calibration.json for ipi.preset = calibrated
 * (calibration.h); trials/calibrate.c writes it.
 */
#include "experiment/calibration.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>

/* The calibration file ipi.calibration names, or NULL with why saying
 * which setting (who) wanted it and how to make it. */
static json_t *calibration_load(const struct machine_config *cfg, const char *who, char *why, size_t len)
{
	json_error_t je;
	json_t *doc = json_load_file(cfg->mc_ipi_calibration, 0, &je);
	if (doc == NULL)
		snprintf(why, len, "ipi.calibration: %s: %s (%s; make it with pmapstorm calibrate --out %s)",
		    cfg->mc_ipi_calibration, je.line > 0 ? je.text : "cannot read", who, cfg->mc_ipi_calibration);
	return doc;
}

int calibration_apply(struct machine_config *cfg, char *why, size_t len)
{
	json_t *doc = calibration_load(cfg, "ipi.preset = calibrated", why, len);
	if (doc == NULL)
		return EINVAL;
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

/*
 * engine.costs = calibrated: the virtual engine's costs from the same file.
 * A cache-line transfer is half the fastest pair's ping-pong round trip; the
 * host kernel's shootdown (will-it-scale tlb_flush2, two tasks: one
 * target) less two line transfers (the request and the acknowledgement)
 * is split between the sender (10 %), the wire (50 %) and the target's
 * interrupt entry (40 %) — the split is ours, the total is measured.  The
 * TLB, walk, lock and PTE-write costs keep the xeon-sp values: calibrate
 * measures none.
 */
bool calibration_engine_wanted(const struct machine_config *cfg)
{
	char v[32];
	return cfg->mc_engine == MACHINE_ENGINE_VIRTUAL && machine_config_get(cfg, "engine.costs", v, sizeof(v)) == 0 &&
	    !strcmp(v, "calibrated");
}

int calibration_engine_apply(struct machine_config *cfg, char *why, size_t len)
{
	json_t *doc = calibration_load(cfg, "engine.costs = calibrated", why, len);
	if (doc == NULL)
		return EINVAL;
	json_t *fl = json_object_get(json_object_get(doc, "pingpong"), "floor_ns");
	json_t *sd = json_object_get(json_object_get(doc, "host_shootdown"), "shootdown_ns");
	int rc = 0;
	if (!json_is_integer(fl) || !json_is_number(sd) || json_integer_value(fl) <= 0 || json_number_value(sd) < 0) {
		snprintf(why, len, "engine.costs = calibrated: %s has no pingpong.floor_ns and host_shootdown.shootdown_ns "
		    "(make one with pmapstorm calibrate)", cfg->mc_ipi_calibration);
		rc = EINVAL;
	} else if (json_number_value(sd) <= 0) {
		/* not measured (one PU, or the threads ran no slower than the
		 * processes): IPIs at no cost would make every IPI strategy win */
		snprintf(why, len, "engine.costs = calibrated: %s measured no host shootdown (host_shootdown.shootdown_ns "
		    "is 0: one PU, or noise); calibrate again on an idle host, or use engine.costs = xeon-sp",
		    cfg->mc_ipi_calibration);
		rc = ENODATA; /* the host's, not the input's: exit 3 */
	} else {
		double line = (double)json_integer_value(fl) / 2, rest = json_number_value(sd) - 2 * line;
		if (rest < 0)
			rest = 0;
		const struct {
			const char *key;
			double v;
		} set[] = {{"cost.line_transfer_ns", line}, {"cost.ipi_send_ns", rest * 0.1},
		    {"cost.ipi_deliver_ns", rest * 0.5}, {"cost.handler_ns", rest * 0.4}};
		for (size_t i = 0; i < sizeof(set) / sizeof(set[0]) && rc == 0; i++) {
			char v[32];
			snprintf(v, sizeof(v), "%.0f", set[i].v);
			if (machine_config_set(cfg, set[i].key, v) != 0) {
				snprintf(why, len, "engine.costs = calibrated: %s: %s", cfg->mc_ipi_calibration, machine_errmsg());
				rc = EINVAL;
			}
		}
	}
	json_decref(doc);
	return rc;
}

int calibration_apply_wanted(struct machine_config *cfg, char *why, size_t len)
{
	if (cfg->mc_ipi_preset == IPI_PRESET_CALIBRATED && calibration_apply(cfg, why, len) != 0)
		return EINVAL;
	return calibration_engine_wanted(cfg) ? calibration_engine_apply(cfg, why, len) : 0;
}
