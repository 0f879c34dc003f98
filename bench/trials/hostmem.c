/*
 * hostmem.c — can the host give a machine its simulated memory (hostmem.h)?
 */
#include "trials/hostmem.h"
#include "common/msg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static uint64_t host_meminfo_bytes(void);

/* One number from a file ("max" or unreadable: UINT64_MAX). */
static uint64_t read_u64_file(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long long x = 0;
	int ok = f != NULL && fscanf(f, "%llu", &x) == 1;
	if (f != NULL)
		fclose(f);
	return ok ? (uint64_t)x : UINT64_MAX;
}

/*
 * What the host can give now: MemAvailable (else free pages), and no more
 * than the cgroup v2 limit leaves (a container's memory.max).
 * PMAPSTORM_MEM_AVAILABLE (bytes) stands in for both, for tests.
 */
static uint64_t host_available_bytes(void)
{
	const char *env = getenv("PMAPSTORM_MEM_AVAILABLE");
	if (env != NULL && *env != '\0')
		return strtoull(env, NULL, 10);
	uint64_t cg = read_u64_file("/sys/fs/cgroup/memory.max"), used = read_u64_file("/sys/fs/cgroup/memory.current");
	uint64_t room = cg == UINT64_MAX ? UINT64_MAX : cg - (used != UINT64_MAX && used < cg ? used : 0);
	uint64_t host = host_meminfo_bytes();
	return room < host ? room : host;
}

static uint64_t host_meminfo_bytes(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (f != NULL)
		fclose(f);
	if (kb > 0)
		return (uint64_t)kb << 10;
	long pages = sysconf(_SC_AVPHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	return pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : UINT64_MAX;
}

int hostmem_check(const struct machine_config *cfg, const char *where)
{
	/* simulated frames, their struct vm_page array and per-CPU state: the
	 * frames plus a few percent, with room for the host process itself */
	uint64_t need = cfg->mc_memory + cfg->mc_memory / 16 + (64ULL << 20);
	uint64_t have = host_available_bytes();
	if (need <= have)
		return 0;
	msg_error("%s%smachine.memory: %" PRIu64 " MiB of simulated memory needs about %" PRIu64
	    " MiB, more than this host has available (%" PRIu64 " MiB); lower machine.memory",
	    where ? where : "", where ? ": " : "", cfg->mc_memory >> 20, need >> 20, have >> 20);
	return ENOMEM;
}
