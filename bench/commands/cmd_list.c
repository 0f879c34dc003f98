/*
 * cmd_list.c — `pmapstorm list`: what the registries hold (strategies,
 * lock algorithms, workloads, config keys, metrics), printed from them.
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/msg.h"
#include "trials/metrics.h"
#include "trials/workloads/workload.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pmapstorm/lock.h>
#include <pmapstorm/machine.h>
#include <pmapstorm/shootdown.h>

/* the shootdown strategies, the mutants apart */
static int list_strategies(void)
{
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

/* the lock algorithms, then the lock classes and their defaults */
static int list_locks(void)
{
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

/* the metric catalog (trials/metrics.c): every metric's one definition */
static int list_metrics(int argc, char **argv)
{
	/* the catalog (trials/metrics.c): every metric's one definition; --markdown
	 * prints the README's table (tests/test_run.c keeps the two in step) */
	bool md = argc > 2 && !strcmp(argv[2], "--markdown"), js = argc > 2 && !strcmp(argv[2], "--json");
	if (js) {
		json_t *o = json_object();
		for (const struct metric_def *d = metric_defs; d->md_name != NULL; d++) {
			char buf[METRIC_NA_LEN];
			const char *na = metric_na(d, buf, sizeof(buf));
			json_object_set_new(o, d->md_name, json_pack("{s:s,s:s,s:s,s:s}", "unit", d->md_unit, "scope",
			    d->md_scope == MS_ROLE ? "role" : d->md_scope == MS_CLASS ? "lock class" : "trial", "definition",
			    d->md_desc, "not_applicable_when", na ? na : ""));
		}
		char *txt = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (txt == NULL)
			return EXIT_ENV;
		puts(txt);
		free(txt);
		return EXIT_OK;
	}
	if (md)
		printf("| metric | unit | better | definition | absent (not applicable) when |\n|---|---|---|---|---|\n");
	for (const struct metric_def *d = metric_defs; d->md_name != NULL; d++) {
		const char *name = d->md_scope == MS_ROLE ? ".ROLE" : d->md_scope == MS_CLASS ? ".CLASS" : "";
		const char *better = d->md_better > 0 ? "higher" : d->md_better < 0 ? "lower" : "-";
		char buf[METRIC_NA_LEN];
		const char *na = metric_na(d, buf, sizeof(buf));
		if (md)
			printf("| `%s%s` | %s | %s | %s | %s |\n", d->md_name, name, d->md_unit, better, d->md_desc,
			    na ? na : "-");
		else
			printf("%s%s  [%s, %s is better]\n    %s\n%s%s%s", d->md_name, name, d->md_unit, better, d->md_desc,
			    na ? "    not applicable (absent from the trial): " : "", na ? na : "", na ? "\n" : "");
	}
	return EXIT_OK;
}

/* the workloads with their options */
static int list_workloads(void)
{
	for (unsigned i = 0; workloads[i] != NULL; i++) {
		const struct workload *w = workloads[i];
		printf("%-11s %s\n%-11s   reports: %s\n", w->wl_name, w->wl_desc, "", w->wl_reports);
		for (const struct wl_option *o = w->wl_options; o && o->wo_name; o++)
			printf("%-11s   %-8s = %-7s %s%s%s\n", "", o->wo_name, o->wo_default, o->wo_desc,
			    o->wo_type == WO_ENUM ? ": " : "", o->wo_type == WO_ENUM ? o->wo_choices : "");
	}
	return EXIT_OK;
}

/* every config key with its default */
/* every component's table (pmapstorm/config.h); --markdown prints the
 * README's table (tests/keys_docs.sh keeps the two in step) */
static int list_keys(int argc, char **argv)
{
	bool md = argc > 2 && !strcmp(argv[2], "--markdown");
	struct machine_config cfg;
	char def[128], values[256];
	machine_config_init(&cfg);
	if (md)
		printf("| key | default | values | meaning |\n|---|---|---|---|\n");
	for (const char *const *k = machine_config_keys(); *k != NULL; k++) {
		const struct cfg_key *ck = machine_config_key(*k);
		machine_config_get(&cfg, *k, def, sizeof(def));
		cfg_key_describe(ck, values, sizeof(values));
		if (md)
			printf("| `%s` | %s | %s | %s |\n", *k, def, values, ck->ck_help);
		else
			printf("%s = %s  [%s]\n    %s\n", *k, def, values, ck->ck_help);
	}
	return EXIT_OK;
}

int cmd_list(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: pmapstorm list strategies|locks|workloads|keys|metrics [--markdown|--json]\n");
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "strategies"))
		return list_strategies();
	if (!strcmp(argv[1], "locks"))
		return list_locks();
	if (!strcmp(argv[1], "metrics"))
		return list_metrics(argc, argv);
	if (!strcmp(argv[1], "workloads"))
		return list_workloads();
	if (!strcmp(argv[1], "keys"))
		return list_keys(argc, argv);
	msg_error("list: unknown list '%s' (strategies, locks, workloads, keys, metrics)", argv[1]);
	return EXIT_USAGE;
}
