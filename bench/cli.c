/*
 * cli.c — what the pmapstorm command's subcommands share (cli.h): error
 * printing, --set, provenance, atomic JSON writes, and `pmapstorm list`.
 */
#include "cli.h"
#include "workload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <pmapstorm/shootdown.h>
#include <pmapstorm/topo.h>

void cli_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "pmapstorm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

int cli_apply_set(struct machine_config *cfg, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (eq == NULL || eq == kv) {
		cli_error("--set: '%s' is not key=value", kv);
		return EXIT_USAGE;
	}
	char key[128];
	size_t n = (size_t)(eq - kv);
	if (n >= sizeof(key)) {
		cli_error("--set: key too long");
		return EXIT_USAGE;
	}
	memcpy(key, kv, n);
	key[n] = '\0';
	if (machine_config_set(cfg, key, eq + 1) != 0) {
		cli_error("--set: %s", machine_errmsg());
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

json_t *cli_provenance(const struct machine_config *cfg)
{
	json_t *o = json_object();
	struct utsname u;
	char buf[256], host[256] = "";
	json_object_set_new(o, "pmapstorm", json_string(PMAPSTORM_VERSION));
	json_object_set_new(o, "commit", json_string(PMAPSTORM_GIT));
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

/* path = dir/name, or name alone when dir is NULL */
static void cli_path(char *buf, size_t len, const char *dir, const char *name)
{
	if (dir != NULL)
		snprintf(buf, len, "%s/%s", dir, name);
	else
		snprintf(buf, len, "%s", name);
}

FILE *cli_file_begin(const char *dir, const char *name, char *tmp, size_t len)
{
	char path[4096];
	cli_path(path, sizeof(path), dir, name);
	snprintf(tmp, len, "%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		cli_error("%s: cannot write (%s)", path, strerror(errno));
	return f;
}

int cli_file_commit(FILE *f, const char *dir, const char *name, const char *tmp)
{
	char path[4096];
	cli_path(path, sizeof(path), dir, name);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		cli_error("%s: cannot write (%s)", path, strerror(errno));
		unlink(tmp);
		return EXIT_ENV;
	}
	return EXIT_OK;
}

int cli_write_json(const char *path, json_t *doc)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	if (json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
		cli_error("%s: cannot write (%s)", path, strerror(errno));
		unlink(tmp);
		return EXIT_ENV;
	}
	if (rename(tmp, path) != 0) {
		cli_error("%s: cannot rename into place (%s)", path, strerror(errno));
		unlink(tmp);
		return EXIT_ENV;
	}
	return EXIT_OK;
}

int cmd_list(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: pmapstorm list strategies|locks|workloads|keys\n");
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "strategies")) {
		for (unsigned i = 0; shootdown_strategies[i] != NULL; i++) {
			const struct shootdown_strategy *s = shootdown_strategies[i];
			if (s->sd_unsafe)
				continue;
			printf("%-12s %s%s\n%-12s   from %s\n", s->sd_name, s->sd_mechanism,
			    s->sd_lazy ? " [lazy: frames held back]" : "", "", s->sd_origin);
		}
		printf("deliberately broken (shootdown.allow_unsafe = yes; for validators only):\n");
		for (unsigned i = 0; shootdown_strategies[i] != NULL; i++)
			if (shootdown_strategies[i]->sd_unsafe)
				printf("  %-17s %s\n", shootdown_strategies[i]->sd_name, shootdown_strategies[i]->sd_mechanism);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "locks")) {
		const struct lock_algo_info *i;
		printf("lock algorithms (config: locks.<class> = NAME):\n");
		for (unsigned k = 0; (i = lock_algo_at(k)) != NULL; k++)
			if (!i->li_unsafe)
				printf("  %-17s %s%s\n%-19s from %s\n", i->li_name, i->li_desc,
				    i->li_rw ? " [reader-writer: kernel_map]" : "", "", i->li_origin);
		printf("deliberately broken (locks.allow_unsafe = yes; for validators only):\n");
		for (unsigned k = 0; (i = lock_algo_at(k)) != NULL; k++)
			if (i->li_unsafe)
				printf("  %-17s %s\n", i->li_name, i->li_desc);
		printf("lock classes and their defaults:\n");
		for (int c = 0; c < LC_NCLASS; c++)
			printf("  %-17s %s%s\n", lock_class_name((lock_class_t)c), lock_class_default((lock_class_t)c),
			    lock_class_is_rw((lock_class_t)c) ? " (read-mostly: rw_enter)" : "");
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "workloads")) {
		for (unsigned i = 0; workloads[i] != NULL; i++) {
			const struct workload *w = workloads[i];
			printf("%-11s %s\n%-11s   reports: %s\n", w->wl_name, w->wl_desc, "", w->wl_reports);
			for (const struct wl_option *o = w->wl_options; o && o->wo_name; o++)
				printf("%-11s   %-8s = %-7s %s%s%s\n", "", o->wo_name, o->wo_default, o->wo_desc,
				    o->wo_type == WO_ENUM ? ": " : "", o->wo_type == WO_ENUM ? o->wo_choices : "");
		}
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "keys")) {
		struct machine_config cfg;
		char buf[128];
		machine_config_init(&cfg);
		for (const char *const *k = machine_config_keys(); *k != NULL; k++) {
			machine_config_get(&cfg, *k, buf, sizeof(buf));
			printf("%-20s default %s\n", *k, buf);
		}
		return EXIT_OK;
	}
	cli_error("list: unknown list '%s' (strategies, locks, workloads, keys)", argv[1]);
	return EXIT_USAGE;
}

