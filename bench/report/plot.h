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
 * fails or an image cannot be moved into place. */
int plot_dir(const char *dir, bool quiet);

#endif
