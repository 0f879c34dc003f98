/*
 * atomicfile.h — output a reader sees whole or not at all.
 *
 * A file is written under a temporary name beside its final one, flushed,
 * synced and renamed into place, so that a crash or a signal at any moment
 * leaves the old file, the new one whole, or none -- never a torn one
 * (atomicfile.c says how).  Functions return 0 or an errno after a message
 * (common/msg.h); a NULL FILE * comes with errno set.
 */
#ifndef PMAPSTORM_COMMON_ATOMICFILE_H
#define PMAPSTORM_COMMON_ATOMICFILE_H

#include <jansson.h>
#include <stdio.h>

/* Write to the temporary name atomicfile_begin() opens, then
 * atomicfile_commit() renames it into place, replacing what is there
 * (dir may be NULL: name is a path). */
FILE *atomicfile_begin(const char *dir, const char *name, char *tmp, size_t len);
int atomicfile_commit(FILE *f, const char *dir, const char *name, const char *tmp);
/* a JSON document, atomically, replacing path */
int atomicfile_write_json(const char *path, json_t *doc);
/* the same, but never over an existing file: EEXIST and a message if path exists */
int atomicfile_write_json_new(const char *path, json_t *doc);
/* rename a finished folder into place, never over an existing one (0, or -1 and errno) */
int atomicfile_rename_dir_new(const char *from, const char *to);
/* Remove dir/PREFIX...-PID entries (files or whole folders) whose process is
 * gone: what a run killed by a second signal, or a crash, left unpublished.
 * Says what it removed on stderr. */
void atomicfile_remove_stale(const char *dir, const char *prefix);

#endif
