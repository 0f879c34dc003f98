/*
 * report.h — report.md and index.html of a results folder (report.c).
 */
#ifndef PMAPSTORM_REPORT_REPORT_H
#define PMAPSTORM_REPORT_REPORT_H

#include "record/results.h"

#include <stdio.h>

/* report.md and index.html into dir, from the results and dir's run.json
 * and plots.txt; the answer per mix and the warning count go to headlines
 * too, unless it is NULL (the end of `pmapstorm run`).  0 or an errno,
 * after a message. */
int report_write(const struct run_results *, const char *dir, FILE *headlines);
/* report.primary against the metric catalog: a metric by its full name
 * (ops_per_s, walks_per_op.unmap with a role of the file,
 * lock_wait_share.pmap with a lock class), or a role metric without its
 * role, which the report takes at each mix's first role; one with a
 * better direction (a metric that is neither better higher nor lower
 * cannot rank).  0 (also when the key is not given), or EINVAL with the
 * reason in why. */
int report_primary_check(const struct experiment *, char *why, size_t len);

#endif
