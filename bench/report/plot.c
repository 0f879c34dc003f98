/*
 * plot.c — a results folder's plots (plot.h); `pmapstorm plot DIR` and
 * `pmapstorm run` draw them.
 *
 * A plot is one file, plots/NAME.gp: a gnuplot script that runs with the
 * folder as its working directory, reads only the CSV files there, and
 * writes NAME.png (pngcairo) and NAME.svg.  Each script first loads
 * plots/common.gnuplot (the helpers they share), which gnuplot finds on its
 * load path: GNUPLOT_LIB names the scripts' folder.  The scripts live in the
 * source tree's plots/ (or $PMAPSTORM_PLOTS, or the installed
 * share/pmapstorm/plots).  Missing gnuplot: the data stays, the message says
 * what to install, and plot_dir() returns ENOENT (the commands exit 3).
 *
 * Each script says what it shows in its opening comment block:
 *   # caption: one line, under the image in the report
 *   # order: N     its place in reading order (smaller first; no order: last)
 * plot_dir() draws them in that order and writes plots.txt, one line per
 * plot drawn, NAME<TAB>caption, which the report (report.c) follows; it
 * prints the same lines unless quiet.  Adding a plot is adding a .gp file.
 *
 * gnuplot writes its images in place, a piece at a time; so the scripts run
 * in a scratch folder inside DIR that holds links to the CSV files, and each
 * finished image, and then plots.txt, is renamed into DIR.  A crash or a
 * signal mid-plot leaves every image in DIR whole (old or new); the scratch
 * folder .plot-PID is all it can leave behind, and the next plot of DIR
 * removes it.
 */
#include "report/plot.h"
#include "common/atomicfile.h"
#include "common/msg.h"
#include "common/path.h"
#include "common/utf8.h"

#include <dirent.h>
#include <stdatomic.h>
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

/* one plots/NAME.gp and what its opening comments say */
struct plot_script {
	char ps_name[256]; /* NAME, without .gp */
	char ps_caption[512];
	long ps_order;
};

#define PLOT_ORDER_NONE 1000000L /* scripts without "# order:" come last, by name */

static int cmp_script(const void *a, const void *b)
{
	const struct plot_script *x = a, *y = b;
	if (x->ps_order != y->ps_order)
		return x->ps_order < y->ps_order ? -1 : 1;
	return strcmp(x->ps_name, y->ps_name);
}

/* "# caption: ..." and "# order: N" from the comment block that opens the
 * script; a script without a caption is drawn under its name, and said so */
static void plot_script_read(const char *src, struct plot_script *ps)
{
	char path[4352], line[1024];
	ps->ps_caption[0] = '\0';
	ps->ps_order = PLOT_ORDER_NONE;
	FILE *f = path_join_ext(path, sizeof(path), src, ps->ps_name, "gp") == 0 ? fopen(path, "r") : NULL;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL && line[0] == '#') {
		line[strcspn(line, "\r\n")] = '\0';
		char *v;
		if (ps->ps_caption[0] == '\0' && !strncmp(line, "# caption:", 10)) {
			for (v = line + 10; *v == ' '; v++)
				;
			for (char *t = v; *t != '\0'; t++)
				if (*t == '\t')
					*t = ' '; /* plots.txt is NAME<TAB>caption */
			/* a longer caption is cut, on a character boundary */
			snprintf(ps->ps_caption, sizeof(ps->ps_caption), "%.*s", (int)sizeof(ps->ps_caption) - 1, v);
			utf8_cut(ps->ps_caption);
		} else if (!strncmp(line, "# order:", 8)) {
			char *end;
			long o = strtol(line + 8, &end, 10);
			if (end != line + 8)
				ps->ps_order = o;
		}
	}
	if (f != NULL)
		fclose(f);
	if (ps->ps_caption[0] == '\0') {
		msg_error("plot: %s has no '# caption:' line in its opening comments; its caption is its name", path);
		snprintf(ps->ps_caption, sizeof(ps->ps_caption), "%s", ps->ps_name);
	}
}

/* is scratch/NAME.EXT there and not empty? */
static bool plot_image_made(const char *scratch, const char *name, const char *ext)
{
	char path[4608];
	struct stat st;
	return path_join_ext(path, sizeof(path), scratch, name, ext) == 0 && stat(path, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size > 0;
}

/* scratch = DIR/.plot-PID with a link to each of DIR's CSV files */
static int plot_scratch_make(const char *dir, const char *scratch)
{
	if (mkdir(scratch, 0777) != 0) {
		msg_error("plot: cannot create %s (%s)", scratch, strerror(errno));
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
		if (path_join(from, sizeof(from), "..", e->d_name) != 0 ||
		    path_join(to, sizeof(to), scratch, e->d_name) != 0) {
			errno = ENAMETOOLONG;
			rc = -1;
		} else if (symlink(from, to) != 0)
			rc = -1;
	}
	if (d != NULL)
		closedir(d);
	if (rc != 0)
		msg_error("plot: cannot link the CSV files of %s into %s (%s)", dir, scratch, strerror(errno));
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
		if (path_join(from, sizeof(from), scratch, e->d_name) != 0 ||
		    path_join(to, sizeof(to), dir, e->d_name) != 0) {
			msg_error("plot: %s/%s: path too long", dir, e->d_name);
			rc = -1;
		} else if (lstat(from, &st) == 0 && S_ISREG(st.st_mode)) {
			int fd = open(from, O_RDONLY);
			if (fd >= 0) {
				(void)fsync(fd); /* the image's bytes before its name */
				close(fd);
			}
			if (rename(from, to) != 0) {
				msg_error("plot: cannot move %s into %s (%s)", from, dir, strerror(errno));
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

int plot_dir(const char *dir, bool quiet, _Atomic int *stop)
{
	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		/* dir may be a run's folder under its temporary name: the caller
		 * names the folder the data ends up in (run, merge) */
		msg_error("plot: gnuplot is not installed (apt-get install gnuplot-nox); the data is kept, without plots");
		return ENOENT;
	}
	const char *src = plots_source();
	DIR *d = opendir(src);
	if (d == NULL) {
		int e = errno;
		msg_error("plot: no plot scripts in %s (%s)", src, strerror(e));
		return err_env(e);
	}
	static struct plot_script scripts[128];
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 128) {
		size_t l = strlen(e->d_name);
		if (l > 3 && l - 3 < sizeof(scripts[n].ps_name) && !strcmp(e->d_name + l - 3, ".gp")) {
			snprintf(scripts[n].ps_name, sizeof(scripts[n].ps_name), "%.*s", (int)(l - 3), e->d_name);
			n++;
		}
	}
	closedir(d);
	for (unsigned i = 0; i < n; i++)
		plot_script_read(src, &scripts[i]);
	qsort(scripts, n, sizeof(scripts[0]), cmp_script);
	/* the scripts load common.gnuplot from their own folder */
	char libpath[8192];
	const char *oldlib = getenv("GNUPLOT_LIB");
	snprintf(libpath, sizeof(libpath), "%s%s%s", src, oldlib != NULL && *oldlib != '\0' ? ":" : "",
	    oldlib != NULL ? oldlib : "");
	char scratch[4096], name[32];
	atomicfile_remove_stale(dir, ".plot-");
	snprintf(name, sizeof(name), ".plot-%d", (int)getpid());
	if (path_join(scratch, sizeof(scratch), dir, name) != 0) {
		msg_error("plot: %s: path too long", dir);
		return ENAMETOOLONG;
	}
	if (plot_scratch_make(dir, scratch) != 0)
		return EIO;
	int rc = 0;
	char tmp[4608];
	FILE *manifest = atomicfile_begin(scratch, "plots.txt", tmp, sizeof(tmp));
	if (manifest == NULL)
		rc = err_env(errno);
	if (!quiet)
		printf("plots:\n");
	for (unsigned i = 0; i < n && manifest != NULL; i++) {
		const struct plot_script *ps = &scripts[i];
		if (stop != NULL && atomic_load(stop)) {
			rc = EINTR;
			break;
		}
		char script[4352];
		if (path_join_ext(script, sizeof(script), src, ps->ps_name, "gp") != 0) {
			msg_error("plot: %s/%s.gp: path too long", src, ps->ps_name);
			rc = ENAMETOOLONG;
			continue;
		}
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			if (chdir(scratch) != 0)
				_exit(126);
			if (quiet || !getenv("PMAPSTORM_PLOT_VERBOSE")) {
				FILE *nul = freopen("/dev/null", "w", stdout);
				(void)nul;
			}
			setenv("GNUPLOT_LIB", libpath, 1);
			execlp("gnuplot", "gnuplot", script, (char *)NULL);
			_exit(127);
		}
		int st = 0;
		pid_t w = pid;
		/* the caller's handler interrupts the wait (no SA_RESTART) */
		while (pid > 0 && (w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
			;
		bool ok = pid > 0 && w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!ok && stop != NULL && atomic_load(stop)) {
			/* the signal reached gnuplot too (a terminal's ^C goes to
			 * the group): what it left half drawn is not published */
			static const char *const exts[] = {"png", "svg"};
			char img[4608];
			for (unsigned x = 0; x < 2; x++)
				if (path_join_ext(img, sizeof(img), scratch, ps->ps_name, exts[x]) == 0)
					unlink(img);
			rc = EINTR;
			break;
		}
		if (!ok) {
			msg_error("plot: %s.gp failed in %s", ps->ps_name, dir);
			rc = EIO;
			continue;
		}
		if (!plot_image_made(scratch, ps->ps_name, "png") || !plot_image_made(scratch, ps->ps_name, "svg")) {
			msg_error("plot: %s.gp drew no %s.png and %s.svg", ps->ps_name, ps->ps_name, ps->ps_name);
			rc = EIO;
			continue;
		}
		fprintf(manifest, "%s\t%s\n", ps->ps_name, ps->ps_caption);
		if (!quiet)
			printf("  %s.png: %s\n", ps->ps_name, ps->ps_caption);
	}
	fflush(stdout);
	/* plots.txt goes into DIR with the images, by the same rename */
	int crc;
	if (manifest != NULL && (crc = atomicfile_commit(manifest, scratch, "plots.txt", tmp)) != 0)
		rc = crc;
	if (plot_scratch_publish(dir, scratch) != 0)
		rc = EIO;
	return rc;
}
