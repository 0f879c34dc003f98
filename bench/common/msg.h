/*
 * msg.h — messages for people, and the error convention of bench/.
 *
 * The error convention, written once (hwloc's habit) and followed by every
 * function below the commands (common/, experiment/, trials/, record/,
 * report/, compare/, and stress/'s runner):
 *   0        done;
 *   EINVAL   the input is wrong: a flag's value, a config key, a file's
 *            contents, a file named as input that cannot be read;
 *   EEXIST   an output that must be new exists already (a baseline);
 *   EINTR    stopped by a signal;
 *   any other errno: the environment or a resource (ENOMEM, EIO, ENOSPC,
 *            EACCES, ENOENT for a tool that is not installed, ...).
 * The function has said what went wrong, with msg_error() (or into the
 * caller's buffer, where its contract says so) before it returns.  Only
 * the commands (commands/) turn these codes into the process's exit
 * codes, with exitcode_of() (commands/exitcode.h).
 */
#ifndef PMAPSTORM_COMMON_MSG_H
#define PMAPSTORM_COMMON_MSG_H

#include <errno.h>
#include <stddef.h>

/* e as an environment error: e itself, unless it would read as something
 * else under the convention (0, EINVAL, EEXIST, EINTR): then EIO */
static inline int err_env(int e)
{
	return e == 0 || e == EINVAL || e == EEXIST || e == EINTR ? EIO : e;
}

/* "pmapstorm: " fmt "\n" on stderr */
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "42 s", "3 min 05 s", "2 h 10 min" */
void msg_duration(char *buf, size_t len, double seconds);

#endif
