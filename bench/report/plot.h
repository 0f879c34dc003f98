/*
 * plot.h — a results folder's plots, drawn by gnuplot from its CSV files
 * (plot.c: one plots/NAME.gp each).
 */
#ifndef PMAPSTORM_REPORT_PLOT_H
#define PMAPSTORM_REPORT_PLOT_H

#include <stdbool.h>

/* Draw every plot into dir and list them in dir/plots.txt; print one line
 * per plot unless quiet.  0, or an errno after a message: ENOENT when
 * gnuplot is not installed (the data stays), another errno when a script
 * fails or an image cannot be moved into place.  stop (NULL: none) is a
 * signal handler's flag: once set, no further plot is started, a gnuplot
 * the same signal ended is no failure, the plots drawn so far are listed
 * and moved into place, and the return is EINTR (no message). */
int plot_dir(const char *dir, bool quiet, _Atomic int *stop);

#endif
