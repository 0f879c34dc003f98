/*
 * report.c — report.md and index.html of a results folder.
 */
#include "driver.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int report_write(const struct run_results *rr, const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/report.md", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		cli_error("%s: cannot write (%s)", path, strerror(errno));
		return EXIT_ENV;
	}
	fprintf(f, "# pmapstorm run: %s\n\n", rr->rr_ex->ex_name);
	fprintf(f, "%u points x %u trials, %.0f s%s.\n", rr->rr_ex->ex_npoints, rr->rr_trials_per_point, rr->rr_wall_s,
	    rr->rr_interrupted ? " (interrupted: partial results)" : "");
	fclose(f);
	return EXIT_OK;
}
