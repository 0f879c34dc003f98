/*
 * path.h — paths built into fixed buffers, checked: a path that does not
 * fit is an error the caller reports, never a silently cut name (which
 * could name another file).
 */
#ifndef PMAPSTORM_COMMON_PATH_H
#define PMAPSTORM_COMMON_PATH_H

#include <stddef.h>

/* buf = "dir/name", or name alone when dir is NULL: 0, or ENAMETOOLONG
 * (buf then holds "") when it does not fit in len bytes */
int path_join(char *buf, size_t len, const char *dir, const char *name);
/* buf = "dir/name.ext": the same */
int path_join_ext(char *buf, size_t len, const char *dir, const char *name, const char *ext);

#endif
