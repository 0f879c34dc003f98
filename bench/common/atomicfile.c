/*
 * atomicfile.c — output that a reader sees whole or not at all
 * (atomicfile.h): files written under a temporary name, synced and renamed
 * into place; folders renamed into place, never over another; and the
 * leftovers of a writer that died before its rename.
 */
#include "common/atomicfile.h"
#include "common/msg.h"
#include "common/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *atomicfile_begin(const char *dir, const char *name, char *tmp, size_t len)
{
	char path[4096], tname[32];
	snprintf(tname, sizeof(tname), ".tmp.%d", (int)getpid());
	/* a cut name would be another file: too long is an error */
	if (path_join(path, sizeof(path), dir, name) != 0 || strlen(path) + strlen(tname) >= len) {
		msg_error("%s%s%s: cannot write (path too long)", dir != NULL ? dir : "", dir != NULL ? "/" : "", name);
		errno = ENAMETOOLONG;
		return NULL;
	}
	snprintf(tmp, len, "%s%s", path, tname);
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		int err = errno;
		msg_error("%s: cannot write (%s)", path, strerror(err));
		errno = err; /* for the caller, whatever stdio did to it */
	}
	return f;
}

/*
 * Durable and atomic: the data reaches the disk (fsync) before the rename
 * makes it visible, so a crash at any moment leaves the old file, the new
 * file whole, or none — never a torn one.
 */
static int af_publish(const char *tmp, const char *path, bool replace)
{
	if (replace)
		return rename(tmp, path);
	/* never over an existing file: RENAME_NOREPLACE, or link() on file
	 * systems without it — both fail with EEXIST where rename() replaces */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(tmp, path) != 0)
		return -1;
	unlink(tmp);
	return 0;
}

static int af_commit(FILE *f, const char *tmp, const char *path, bool replace)
{
	/* ferror: a write that failed earlier (ENOSPC) leaves a hole fflush cannot see */
	int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (bad || af_publish(tmp, path, replace) != 0) {
		int err = errno; /* before msg_error() and unlink() can change it */
		unlink(tmp);
		msg_error("%s: cannot write (%s)", path, err == EEXIST ? "it exists already; not overwritten" : strerror(err));
		return err != 0 ? err : EIO;
	}
	return 0;
}

int atomicfile_commit(FILE *f, const char *dir, const char *name, const char *tmp)
{
	char path[4096];
	if (path_join(path, sizeof(path), dir, name) != 0) {
		/* atomicfile_begin() made tmp from the same dir and name: not reached */
		fclose(f);
		unlink(tmp);
		msg_error("%s: cannot write (path too long)", name);
		return ENAMETOOLONG;
	}
	return af_commit(f, tmp, path, true);
}

static int af_json_to(const char *path, json_t *doc, bool replace)
{
	char tmp[4096];
	FILE *f = atomicfile_begin(NULL, path, tmp, sizeof(tmp));
	if (f == NULL)
		return errno != 0 ? errno : EIO;
	errno = 0;
	if (json_dumpf(doc, f, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 || fputc('\n', f) == EOF) {
		int err = errno != 0 ? errno : EIO;
		msg_error("%s: cannot write (%s)", path, strerror(err));
		fclose(f);
		unlink(tmp);
		return err;
	}
	return af_commit(f, tmp, path, replace);
}

int atomicfile_write_json(const char *path, json_t *doc)
{
	return af_json_to(path, doc, true);
}

int atomicfile_write_json_new(const char *path, json_t *doc)
{
	return af_json_to(path, doc, false);
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

void atomicfile_remove_stale(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	size_t pl = strlen(prefix);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, pl) != 0)
			continue;
		/* the PID is the name's last "-" field */
		const char *dash = strrchr(e->d_name, '-');
		char *end;
		long pid = dash != NULL ? strtol(dash + 1, &end, 10) : 0;
		if (pid <= 0 || *end != '\0' || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* not ours to judge, or its writer still runs */
		char path[4352];
		if (path_join(path, sizeof(path), dir, e->d_name) != 0)
			continue; /* never remove what a cut path would name */
		if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
			fprintf(stderr, "pmapstorm: removed %s, left by an interrupted run (process %ld)\n", path, pid);
	}
	closedir(d);
}

int atomicfile_rename_dir_new(const char *from, const char *to)
{
	/* a directory rename() replaces an empty directory at 'to': refuse that too */
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (access(to, F_OK) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}
