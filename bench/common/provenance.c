/*
 * provenance.c — what every result records about where it came from
 * (provenance.h): version, commit, compiler, build, host, topology, date
 * and the whole config.
 */
#include "common/provenance.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <pmapstorm/topo.h>

json_t *provenance_json(const struct machine_config *cfg)
{
	json_t *o = json_object();
	struct utsname u;
	char buf[256], host[256] = "";
	json_object_set_new(o, "pmapstorm", json_string(PMAPSTORM_VERSION));
	json_object_set_new(o, "commit", json_string(pmapstorm_commit()));
	json_object_set_new(o, "compiler", json_string(PMAPSTORM_COMPILER));
	if (uname(&u) == 0) {
		snprintf(buf, sizeof(buf), "%s %s %s", u.sysname, u.release, u.machine);
		json_object_set_new(o, "kernel", json_string(buf));
	}
	gethostname(host, sizeof(host) - 1);
	json_object_set_new(o, "host", json_string(host));
	json_object_set_new(o, "host_pus", json_integer(topo_npus()));
	unsigned pk, co, pu, nn;
	topo_counts(&pk, &co, &pu, &nn);
	json_object_set_new(o, "host_topology", json_pack("{s:i,s:i,s:i,s:i}", "packages", pk, "cores", co, "pus", pu,
	    "numa_nodes", nn));
	FILE *ci = fopen("/proc/cpuinfo", "r");
	char line[512];
	while (ci != NULL && fgets(line, sizeof(line), ci) != NULL)
		if (!strncmp(line, "model name", 10) && strchr(line, ':') != NULL) {
			char *v = strchr(line, ':') + 2;
			v[strcspn(v, "\n")] = '\0';
			json_object_set_new(o, "cpu_model", json_string(v));
			break;
		}
	if (ci != NULL)
		fclose(ci);
	json_object_set_new(o, "build", json_string(PMAPSTORM_BUILD));
	time_t now = time(NULL);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_object_set_new(o, "date", json_string(buf));
	json_t *c = json_object();
	for (const char *const *k = machine_config_keys(); *k != NULL; k++)
		if (machine_config_get(cfg, *k, buf, sizeof(buf)) == 0)
			json_object_set_new(c, *k, json_string(buf));
	json_object_set_new(o, "config", c);
	return o;
}
