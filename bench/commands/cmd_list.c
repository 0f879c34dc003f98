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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pmapstorm/lock.h>
#include <pmapstorm/machine.h>
#include <pmapstorm/shootdown.h>

/* How a list prints: text for a reader; --markdown, a table (the README's
 * key and metric tables are two: tests/keys_docs.sh, tests/metrics_docs.sh);
 * --json, for a program */
enum list_format { LIST_TEXT, LIST_MARKDOWN, LIST_JSON };

/* One row of a Markdown table: each cell as given, its '|' escaped (a bare
 * one ends the cell, and GitHub drops what spills past the header's cells:
 * "on|off" in a values column pushed the meaning out of the key table) */
static void md_row(unsigned n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++) {
		fputs("| ", stdout);
		for (const char *c = va_arg(ap, const char *); *c; c++) {
			if (*c == '|')
				putchar('\\');
			putchar(*c);
		}
		putchar(' ');
	}
	va_end(ap);
	puts("|");
}

/* a name as a Markdown code span, for md_row */
static const char *md_code(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "`%s`", name);
	return buf;
}

/* a list's JSON document to stdout, and freed */
static int list_json(json_t *doc)
{
	char *txt = doc != NULL ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (txt == NULL) {
		msg_error("list: out of host memory");
		return EXIT_ENV;
	}
	puts(txt);
	free(txt);
	return EXIT_OK;
}

/* the shootdown strategies, the mutants apart */
static int list_strategies(enum list_format f)
{
	if (f == LIST_JSON) {
		json_t *a = json_array();
		for (unsigned i = 0; shootdown_strategies[i] != NULL; i++) {
			const struct shootdown_strategy *s = shootdown_strategies[i];
			json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:b,s:b}", "name", s->sd_name, "mechanism",
			    s->sd_mechanism, "origin", s->sd_origin, "lazy", s->sd_lazy, "mutant", s->sd_unsafe));
		}
		return list_json(a);
	}
	if (f == LIST_MARKDOWN)
		printf("| strategy | mechanism | from | lazy | mutant |\n|---|---|---|---|---|\n");
	for (int unsafe = 0; unsafe < 2; unsafe++) {
		if (unsafe && f == LIST_TEXT)
			printf("deliberately broken (shootdown.allow_unsafe = yes; for validators only):\n");
		for (unsigned i = 0; shootdown_strategies[i] != NULL; i++) {
			const struct shootdown_strategy *s = shootdown_strategies[i];
			if (s->sd_unsafe != (unsafe != 0))
				continue;
			char code[64];
			if (f == LIST_MARKDOWN)
				md_row(5, md_code(s->sd_name, code, sizeof(code)), s->sd_mechanism, s->sd_origin,
				    s->sd_lazy ? "yes" : "no", s->sd_unsafe ? "yes" : "no");
			else if (unsafe)
				printf("  %-17s %s\n", s->sd_name, s->sd_mechanism);
			else
				printf("%-12s %s%s\n%-12s   from %s\n", s->sd_name, s->sd_mechanism,
				    s->sd_lazy ? " [lazy: frames held back]" : "", "", s->sd_origin);
		}
	}
	return EXIT_OK;
}

/* the lock algorithms, then the lock classes and their defaults */
static int list_locks(enum list_format f)
{
	const struct lock_algo_info *i;
	if (f == LIST_JSON) {
		json_t *algos = json_array(), *classes = json_array();
		for (unsigned k = 0; (i = lock_algo_at(k)) != NULL; k++)
			json_array_append_new(algos, json_pack("{s:s,s:s,s:s,s:b,s:b,s:b}", "name", i->li_name, "description",
			    i->li_desc, "origin", i->li_origin, "reader_writer", i->li_rw, "blocking", i->li_blocking, "mutant",
			    i->li_unsafe));
		for (int c = 0; c < LC_NCLASS; c++)
			json_array_append_new(classes, json_pack("{s:s,s:s,s:b}", "name", lock_class_name((lock_class_t)c),
			    "default", lock_class_default((lock_class_t)c), "read_mostly", lock_class_is_rw((lock_class_t)c)));
		return list_json(json_pack("{s:o,s:o}", "algorithms", algos, "classes", classes));
	}
	if (f == LIST_MARKDOWN) {
		char code[64];
		printf("| algorithm | description | from | reader-writer | mutant |\n|---|---|---|---|---|\n");
		for (unsigned k = 0; (i = lock_algo_at(k)) != NULL; k++)
			md_row(5, md_code(i->li_name, code, sizeof(code)), i->li_desc, i->li_origin, i->li_rw ? "yes" : "no",
			    i->li_unsafe ? "yes" : "no");
		printf("\n| class | default | read-mostly (rw_enter) |\n|---|---|---|\n");
		for (int c = 0; c < LC_NCLASS; c++)
			md_row(3, md_code(lock_class_name((lock_class_t)c), code, sizeof(code)),
			    lock_class_default((lock_class_t)c), lock_class_is_rw((lock_class_t)c) ? "yes" : "no");
		return EXIT_OK;
	}
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

/* the metric catalog (trials/metrics.c): every metric's one definition;
 * --markdown prints the README's table (tests/metrics_docs.sh keeps the two
 * in step) */
static int list_metrics(enum list_format f)
{
	if (f == LIST_JSON) {
		json_t *o = json_object();
		for (const struct metric_def *d = metric_defs; d->md_name != NULL; d++) {
			char buf[METRIC_NA_LEN];
			const char *na = metric_na(d, buf, sizeof(buf));
			json_object_set_new(o, d->md_name, json_pack("{s:s,s:s,s:s,s:s}", "unit", d->md_unit, "scope",
			    d->md_scope == MS_ROLE ? "role" : d->md_scope == MS_CLASS ? "lock class" : "trial", "definition",
			    d->md_desc, "not_applicable_when", na ? na : ""));
		}
		return list_json(o);
	}
	const bool md = f == LIST_MARKDOWN;
	if (md)
		printf("| metric | unit | better | definition | absent (not applicable) when |\n|---|---|---|---|---|\n");
	for (const struct metric_def *d = metric_defs; d->md_name != NULL; d++) {
		const char *name = d->md_scope == MS_ROLE ? ".ROLE" : d->md_scope == MS_CLASS ? ".CLASS" : "";
		const char *better = d->md_better > 0 ? "higher" : d->md_better < 0 ? "lower" : "-";
		char buf[METRIC_NA_LEN];
		const char *na = metric_na(d, buf, sizeof(buf));
		char code[96];
		snprintf(code, sizeof(code), "`%s%s`", d->md_name, name);
		if (md)
			md_row(5, code, d->md_unit, better, d->md_desc, na ? na : "-");
		else
			printf("%s%s  [%s, %s is better]\n    %s\n%s%s%s", d->md_name, name, d->md_unit, better, d->md_desc,
			    na ? "    not applicable (absent from the trial): " : "", na ? na : "", na ? "\n" : "");
	}
	return EXIT_OK;
}

/* an option's values in words: "1-256", "seq|random|zipf" */
static void wl_option_values(const struct wl_option *o, char *buf, size_t len)
{
	if (o->wo_type == WO_ENUM)
		snprintf(buf, len, "%s", o->wo_choices);
	else
		snprintf(buf, len, "%.15g-%.15g", o->wo_min, o->wo_max); /* 1000000, not 1e+06 */
}

/* the workloads with their options */
static int list_workloads(enum list_format f)
{
	char values[256];
	if (f == LIST_JSON) {
		json_t *a = json_array();
		for (unsigned i = 0; workloads[i] != NULL; i++) {
			const struct workload *w = workloads[i];
			json_t *opts = json_array();
			for (const struct wl_option *o = w->wl_options; o && o->wo_name; o++) {
				wl_option_values(o, values, sizeof(values));
				json_array_append_new(opts, json_pack("{s:s,s:s,s:s,s:s}", "name", o->wo_name, "default",
				    o->wo_default, "values", values, "meaning", o->wo_desc));
			}
			json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:o}", "name", w->wl_name, "description", w->wl_desc,
			    "reports", w->wl_reports, "options", opts));
		}
		return list_json(a);
	}
	if (f == LIST_MARKDOWN)
		printf("| workload | option | default | values | meaning |\n|---|---|---|---|---|\n");
	for (unsigned i = 0; workloads[i] != NULL; i++) {
		const struct workload *w = workloads[i];
		char code[64], what[1024];
		snprintf(what, sizeof(what), "%s; reports %s", w->wl_desc, w->wl_reports);
		if (f == LIST_MARKDOWN)
			md_row(5, md_code(w->wl_name, code, sizeof(code)), "", "", "", what);
		else
			printf("%-11s %s\n%-11s   reports: %s\n", w->wl_name, w->wl_desc, "", w->wl_reports);
		for (const struct wl_option *o = w->wl_options; o && o->wo_name; o++) {
			wl_option_values(o, values, sizeof(values));
			if (f == LIST_MARKDOWN)
				md_row(5, "", md_code(o->wo_name, code, sizeof(code)), o->wo_default, values, o->wo_desc);
			else
				printf("%-11s   %-8s = %-7s %s%s%s\n", "", o->wo_name, o->wo_default, o->wo_desc,
				    o->wo_type == WO_ENUM ? ": " : "", o->wo_type == WO_ENUM ? o->wo_choices : "");
		}
	}
	return EXIT_OK;
}

/* every config key with its default: every component's table
 * (pmapstorm/config.h); --markdown prints the README's table
 * (tests/keys_docs.sh keeps the two in step) */
static int list_keys(enum list_format f)
{
	struct machine_config cfg;
	char def[128], values[256], code[128];
	machine_config_init(&cfg);
	json_t *a = f == LIST_JSON ? json_array() : NULL;
	if (f == LIST_MARKDOWN)
		printf("| key | default | values | meaning |\n|---|---|---|---|\n");
	for (const char *const *k = machine_config_keys(); *k != NULL; k++) {
		const struct cfg_key *ck = machine_config_key(*k);
		machine_config_get(&cfg, *k, def, sizeof(def));
		cfg_key_describe(ck, values, sizeof(values));
		if (f == LIST_JSON)
			json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "key", *k, "default", def, "values", values,
			    "meaning", ck->ck_help));
		else if (f == LIST_MARKDOWN)
			md_row(4, md_code(*k, code, sizeof(code)), def, values, ck->ck_help);
		else
			printf("%s = %s  [%s]\n    %s\n", *k, def, values, ck->ck_help);
	}
	return f == LIST_JSON ? list_json(a) : EXIT_OK;
}

static const char list_usage[] = "usage: pmapstorm list strategies|locks|workloads|keys|metrics [--markdown|--json]\n";

int cmd_list(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(list_usage, stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	enum list_format f = LIST_TEXT;
	if (argc > 2) {
		if (!strcmp(argv[2], "--markdown"))
			f = LIST_MARKDOWN;
		else if (!strcmp(argv[2], "--json"))
			f = LIST_JSON;
		else {
			msg_error("list: unknown option '%s' (--markdown or --json)\n%s", argv[2], list_usage);
			return EXIT_USAGE;
		}
	}
	if (argc > 3) {
		msg_error("list: unexpected argument '%s' (one of --markdown and --json)\n%s", argv[3], list_usage);
		return EXIT_USAGE;
	}
	static const struct {
		const char *name;
		int (*fn)(enum list_format);
	} lists[] = {
	    {"strategies", list_strategies}, {"locks", list_locks}, {"workloads", list_workloads},
	    {"keys", list_keys}, {"metrics", list_metrics},
	};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (!strcmp(argv[1], lists[i].name))
			return lists[i].fn(f);
	msg_error("list: unknown list '%s' (strategies, locks, workloads, keys, metrics)", argv[1]);
	return EXIT_USAGE;
}
