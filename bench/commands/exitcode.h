/*
 * exitcode.h — the process's exit codes, and the one mapping to them from
 * the error codes every layer below returns (common/msg.h).  Only the
 * commands include this header (tests/bench_deps.py checks it).
 */
#ifndef PMAPSTORM_COMMANDS_EXITCODE_H
#define PMAPSTORM_COMMANDS_EXITCODE_H

#include <errno.h>

/* Exit codes (README, "Exit codes") */
enum {
	EXIT_OK = 0,          /* done, nothing wrong */
	EXIT_VIOLATION = 1,   /* a violation or regression was found */
	EXIT_USAGE = 2,       /* bad flag, bad config, bad input */
	EXIT_ENV = 3,         /* environment or resource error */
	EXIT_INTERRUPTED = 130,
	EXIT_GO_ON = -1,      /* not an exit code: a command's step (its options,
	                         its checks) says "no exit yet, go on" */
};

/* The exit code of an error code: 0 -> 0; EINVAL (bad input) and EEXIST
 * (an output that must be new exists) -> 2; EINTR -> 130; any other errno
 * (the environment) -> 3. */
static inline int exitcode_of(int err)
{
	switch (err) {
	case 0: return EXIT_OK;
	case EINVAL:
	case EEXIST: return EXIT_USAGE;
	case EINTR: return EXIT_INTERRUPTED;
	default: return EXIT_ENV;
	}
}

#endif
