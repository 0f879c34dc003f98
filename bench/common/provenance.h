/*
 * provenance.h — where a result came from, recorded with it: version, git
 * commit, compiler, build flags, host, topology, date and the full config.
 */
#ifndef PMAPSTORM_COMMON_PROVENANCE_H
#define PMAPSTORM_COMMON_PROVENANCE_H

#include <jansson.h>
#include <pmapstorm/machine.h>

/* `git describe --always --dirty --tags` of the source this binary was built
 * from, taken at build time ("unknown" outside a git checkout) */
const char *pmapstorm_commit(void);

/* a new JSON object (run.json, microbench.json, calibration.json) */
json_t *provenance_json(const struct machine_config *);

#endif
