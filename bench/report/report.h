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

#endif
