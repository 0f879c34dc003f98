/*
 * hostmem.h — what the host can give a simulated machine, checked before
 * it boots (run, microbench, calibrate, stress).
 */
#ifndef PMAPSTORM_TRIALS_HOSTMEM_H
#define PMAPSTORM_TRIALS_HOSTMEM_H

#include <pmapstorm/machine.h>

/* machine.memory against what the host can give now (MemAvailable, a
 * cgroup v2 memory.max; PMAPSTORM_MEM_AVAILABLE stands in for tests):
 * 0, or ENOMEM after "WHERE: machine.memory: ..." (WHERE: "file:line",
 * "--set", a command's name, or NULL) */
int hostmem_check(const struct machine_config *cfg, const char *where);

#endif
