/*
 * plot.c — `pmapstorm plot DIR`: draw a results folder's plots.
 *
 * Every plots/NAME.gp script runs under gnuplot with the folder as its working
 * directory and reads only the CSV files there; scripts choose their own
 * output names (pngcairo and svg).  The scripts live in the source tree's
 * plots/ (or $PMAPSTORM_PLOTS, or the installed share/pmapstorm/plots).
 * Missing gnuplot: the data stays, the message says what to install, and
 * the exit code is 3.
 *
 * gnuplot writes its images in place, a piece at a time; so the scripts run
 * in a scratch folder inside DIR that holds links to the CSV files, and each
 * finished image is renamed into DIR.  A crash or a signal mid-plot leaves
 * every image in DIR whole (old or new); the scratch folder .plot-PID is
 * all it can leave behind, and the next plot of DIR removes it.
 */
#include "driver.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *plots_source(void)
{
	const char *env = getenv("PMAPSTORM_PLOTS");
	if (env != NULL && *env != '\0')
		return env;
	if (access(PMAPSTORM_PLOTS_DIR, R_OK) == 0)
		return PMAPSTORM_PLOTS_DIR;
	return PMAPSTORM_PLOTS_INSTALLED;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* scratch = DIR/.plot-PID with a link to each of DIR's CSV files */
static int plot_scratch_make(const char *dir, const char *scratch)
{
	if (mkdir(scratch, 0777) != 0) {
		cli_error("plot: cannot create %s (%s)", scratch, strerror(errno));
		return -1;
	}
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = d == NULL ? -1 : 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l <= 4 || strcmp(e->d_name + l - 4, ".csv") != 0)
			continue;
		char from[4352], to[4352];
		snprintf(from, sizeof(from), "../%s", e->d_name);
		snprintf(to, sizeof(to), "%s/%s", scratch, e->d_name);
		if (symlink(from, to) != 0)
			rc = -1;
	}
	if (d != NULL)
		closedir(d);
	if (rc != 0)
		cli_error("plot: cannot link the CSV files of %s into %s (%s)", dir, scratch, strerror(errno));
	return rc;
}

/* every image the scripts drew goes into DIR by rename; then the scratch folder goes */
static int plot_scratch_publish(const char *dir, const char *scratch)
{
	DIR *d = opendir(scratch);
	struct dirent *e;
	int rc = d == NULL ? -1 : 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char from[4352], to[4352];
		struct stat st;
		snprintf(from, sizeof(from), "%s/%s", scratch, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", dir, e->d_name);
		if (lstat(from, &st) == 0 && S_ISREG(st.st_mode)) {
			int fd = open(from, O_RDONLY);
			if (fd >= 0) {
				(void)fsync(fd); /* the image's bytes before its name */
				close(fd);
			}
			if (rename(from, to) != 0) {
				cli_error("plot: cannot move %s into %s (%s)", from, dir, strerror(errno));
				rc = -1;
			}
		} else {
			unlink(from);
		}
	}
	if (d != NULL)
		closedir(d);
	if (rc == 0 && rmdir(scratch) != 0)
		rc = -1;
	return rc;
}

int plot_dir(const char *dir, bool quiet)
{
	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		cli_error("plot: gnuplot is not installed; the data in %s is kept (apt-get install gnuplot-nox)", dir);
		return EXIT_ENV;
	}
	const char *src = plots_source();
	DIR *d = opendir(src);
	if (d == NULL) {
		cli_error("plot: no plot scripts in %s (%s)", src, strerror(errno));
		return EXIT_ENV;
	}
	char *names[128];
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 128) {
		size_t l = strlen(e->d_name);
		if (l > 3 && !strcmp(e->d_name + l - 3, ".gp"))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), cmp_str);
	char scratch[4096];
	cli_remove_stale(dir, ".plot-");
	snprintf(scratch, sizeof(scratch), "%s/.plot-%d", dir, (int)getpid());
	if (plot_scratch_make(dir, scratch) != 0) {
		for (unsigned i = 0; i < n; i++)
			free(names[i]);
		return EXIT_ENV;
	}
	int rc = EXIT_OK;
	for (unsigned i = 0; i < n; i++) {
		char script[4096];
		snprintf(script, sizeof(script), "%s/%s", src, names[i]);
		pid_t pid = fork();
		if (pid == 0) {
			if (chdir(scratch) != 0)
				_exit(126);
			if (quiet || !getenv("PMAPSTORM_PLOT_VERBOSE")) {
				FILE *nul = freopen("/dev/null", "w", stdout);
				(void)nul;
			}
			execlp("gnuplot", "gnuplot", script, (char *)NULL);
			_exit(127);
		}
		int st = 0;
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			cli_error("plot: %s failed in %s", names[i], dir);
			rc = EXIT_ENV;
		}
		free(names[i]);
	}
	if (plot_scratch_publish(dir, scratch) != 0)
		rc = EXIT_ENV;
	return rc;
}

int cmd_plot(int argc, char **argv)
{
	if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: pmapstorm plot DIR\n  redraws the plots of a results folder from its CSV files\n");
		return argc == 2 ? EXIT_OK : EXIT_USAGE;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/summary.csv", argv[1]);
	if (access(path, R_OK) != 0) {
		cli_error("plot: %s is not a results folder (no summary.csv)", argv[1]);
		return EXIT_USAGE;
	}
	return plot_dir(argv[1], false);
}
