/*
 * fuzz_config.c — libFuzzer target: the experiment-file parser.
 *
 * Every input is written to a memfd and read by exp_load() exactly as
 * `pmapstorm run FILE` reads a file (inih through exp_reader, every value
 * checked, the whole file validated), then every sweep point is resolved
 * with exp_point() as run does before it starts, and the same bytes go
 * through exp_load_machine() as `microbench --config` reads them.  The
 * properties checked are the ones ASan, UBSan and LeakSanitizer watch —
 * no crash, no undefined behaviour, no leak on any path, error or not —
 * plus the contract: a file is either accepted or refused with
 * EINVAL (bad input: exit code 2 in the commands), never anything else.
 *
 * Seed corpus: tests/fuzz/config/ (the shipped configs and bad cases).
 * The input format follows the libFuzzer manual (llvm.org/docs/LibFuzzer).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "experiment/experiment.h"

#include <pmapstorm/alloc.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* the refusals' messages are the expected outcome, not findings:
	 * msg_error() writes to stdio's stderr, the sanitizers to fd 2 */
	FILE *nul = fopen("/dev/null", "w");
	if (nul != NULL)
		stderr = nul;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return -1; /* beyond any experiment file; not worth the time */
	int fd = memfd_create("fuzz.ini", 0);
	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	struct experiment *ex = mem_zalloc(struct experiment, 1);
	int rc = exp_load(ex, path);
	if (rc != 0 && rc != EINVAL)
		abort();
	if (rc == 0) {
		struct exp_point pt;
		for (unsigned p = 0; p < ex->ex_npoints && p < 256; p++) {
			int prc = exp_point(ex, p, &pt);
			if (prc != 0 && prc != EINVAL)
				abort();
		}
		exp_free(ex);
	}
	free(ex);

	struct machine_config cfg;
	machine_config_init(&cfg);
	rc = exp_load_machine(&cfg, path);
	if (rc != 0 && rc != EINVAL)
		abort();
	close(fd);
	return 0;
}
