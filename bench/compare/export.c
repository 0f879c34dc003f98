/*
 * export.c — a run's medians for existing dashboards (export.h; the
 * command is `pmapstorm export`).
 *
 * Two formats, both documented by their projects:
 *  - github-action-benchmark's custom tools (benchmark-action/
 *    github-action-benchmark, README "Examples: custom benchmarks"): a JSON
 *    array of {name, unit, value, range, extra}; the tool name,
 *    customSmallerIsBetter or customBiggerIsBetter, says the direction for
 *    the whole file, so one export holds the metrics of one direction
 *    (--direction), and metrics without a better-direction are left out.
 *  - Bencher Metric Format (bencher.dev, "Bencher Metric Format"): an
 *    object benchmark -> measure -> {value, lower_value, upper_value}; here
 *    benchmark = "experiment: point label", measure = metric name, value =
 *    the median over trials, lower/upper = min/max over trials.
 * The run is read with the gate's reader (gate.h), so export accepts
 * exactly what gate accepts.  A metric that is 0 in every trial of every
 * point (a strategy-independent zero: errors, a lock class nobody waits
 * for) says nothing on a dashboard and is left out; one that is 0 at some
 * points and not at others is kept, zeros included.  Metrics that do not
 * apply are absent from run.json and so from the export.
 */
#include "compare/export.h"
#include "common/msg.h"
#include "common/samples.h"
#include "common/utf8.h"

#include <stdlib.h>
#include <string.h>

/* => 0, or -1 after saying which entry could not be built (out of memory) */
static int built(json_t *v, const char *what, const char *name)
{
	if (v != NULL)
		return 0;
	msg_error("export: cannot build %s \"%s\": out of memory", what, name);
	return -1;
}

/* "experiment: point[: metric]", cut on a character boundary, valid UTF-8 */
static json_t *entry_name(const struct gate_doc *d, const struct gate_point *gp, const char *metric)
{
	char name[2048];
	snprintf(name, sizeof(name), "%s: %s%s%s", d->gd_name, gp->gp_label, metric ? ": " : "", metric ? metric : "");
	utf8_cut(name);
	json_t *j = utf8_json_string(name);
	built(j, "the name of", name);
	return j;
}

/* Is metric name 0 in every trial of every point of d? */
static bool flat_zero(const struct gate_doc *d, const char *name)
{
	for (unsigned p = 0; p < d->gd_npoints; p++)
		for (unsigned i = 0; i < d->gd_points[p].gp_nmetrics; i++) {
			const struct gate_metric *gm = &d->gd_points[p].gp_metrics[i];
			if (strcmp(gm->gm_name, name) != 0)
				continue;
			for (unsigned k = 0; k < gm->gm_n; k++)
				if (gm->gm_vals[k] != 0)
					return false;
		}
	return true;
}

/* => the array, or NULL after a message */
json_t *export_gab(const struct gate_doc *d, int direction)
{
	json_t *a = json_array();
	if (built(a, "the array", "github-action-benchmark"))
		return NULL;
	for (unsigned p = 0; p < d->gd_npoints; p++) {
		const struct gate_point *gp = &d->gd_points[p];
		for (unsigned i = 0; i < gp->gp_nmetrics; i++) {
			const struct gate_metric *gm = &gp->gp_metrics[i];
			if (gm->gm_better != direction || gm->gm_n == 0 || flat_zero(d, gm->gm_name))
				continue;
			struct samples_stats s = samples_summarize(gm->gm_vals, gm->gm_n, false);
			char range[64], extra[128];
			snprintf(range, sizeof(range), "± %.6g", (s.max - s.min) / 2);
			snprintf(extra, sizeof(extra), "median of %u trials; %s is better%s", gm->gm_n,
			    direction < 0 ? "lower" : "higher", gm->gm_det ? "; deterministic" : "");
			json_t *name = entry_name(d, gp, gm->gm_name), *e;
			if (name == NULL)
				goto fail;
			e = json_pack("{s:O,s:o,s:f,s:s,s:s}", "name", name, "unit", utf8_json_string(gm->gm_unit), "value",
			    s.median, "range", range, "extra", extra);
			if (built(e, "the entry", json_string_value(name)) || json_array_append_new(a, e) != 0) {
				json_decref(name);
				goto fail;
			}
			json_decref(name);
		}
	}
	return a;
fail:
	json_decref(a);
	return NULL;
}

/* => the object, or NULL after a message */
json_t *export_bmf(const struct gate_doc *d)
{
	json_t *o = json_object();
	if (built(o, "the object", "bmf"))
		return NULL;
	for (unsigned p = 0; p < d->gd_npoints; p++) {
		const struct gate_point *gp = &d->gd_points[p];
		json_t *name = entry_name(d, gp, NULL), *b = json_object();
		if (name == NULL || built(b, "the benchmark", json_string_value(name)))
			goto fail;
		for (unsigned i = 0; i < gp->gp_nmetrics; i++) {
			const struct gate_metric *gm = &gp->gp_metrics[i];
			if (gm->gm_n == 0 || flat_zero(d, gm->gm_name))
				continue;
			struct samples_stats s = samples_summarize(gm->gm_vals, gm->gm_n, false);
			/* metric names come from jansson, which read them as valid UTF-8 */
			if (json_object_set_new(b, gm->gm_name, json_pack("{s:f,s:f,s:f}", "value", s.median, "lower_value", s.min,
			        "upper_value", s.max)) != 0) {
				built(NULL, "the measure", gm->gm_name);
				goto fail;
			}
		}
		/* the name is valid UTF-8 (entry_name), so only memory can fail here */
		if (json_object_set_new(o, json_string_value(name), b) != 0) {
			b = NULL;
			built(NULL, "the benchmark", json_string_value(name));
			goto fail;
		}
		json_decref(name);
		continue;
	fail:
		json_decref(name);
		json_decref(b);
		json_decref(o);
		return NULL;
	}
	return o;
}
