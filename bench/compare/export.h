/*
 * export.h — a run's medians for existing dashboards (export.c says which
 * formats, after whom, and what is left out).  The run is a gate_doc, read
 * with the gate's reader (gate.h), so export accepts exactly what gate
 * accepts.
 */
#ifndef PMAPSTORM_COMPARE_EXPORT_H
#define PMAPSTORM_COMPARE_EXPORT_H

#include "compare/gate.h"

#include <jansson.h>

/* github-action-benchmark's custom-tool array of the metrics whose
 * better-direction is direction (-1: smaller is better, +1: bigger);
 * NULL after a message when memory runs out */
json_t *export_gab(const struct gate_doc *, int direction);
/* Bencher Metric Format; NULL after a message when memory runs out */
json_t *export_bmf(const struct gate_doc *);

#endif
