/*
 * merge.c — `pmapstorm merge OUT DIR...`: the N shard folders of one run
 * (shard.h) into one results folder, as if one host had run it.
 *
 * First every check, then every write.  The shards belong together when
 * each holds a "shard" object of the same N, every K from 1 to N is there
 * exactly once, and they ran the same experiment file (its text, kept in
 * run.json), the same --set overrides, the same commit and build, the same
 * engine, and resolved the same points (every point's config, roles,
 * swept values and windows: a value resolved on each host, such as
 * machine.cpus = host or ipi.preset = calibrated, differs there and is
 * named).  The trials the shards were given must cover the run's trials
 * once each, and a shard may hold only its own.  Anything else is exit 2
 * with a message naming the folder and what differs, and nothing is
 * written.
 *
 * Then, under a temporary name beside OUT, renamed into place when whole
 * (never over an existing folder):
 *   run.json     the first shard's document, every shard's trials in each
 *                point (copied as written, each with the host it ran on and
 *                its place in the run's order), the summaries made again
 *                over all of them, and "merged": where each shard ran
 *                (host, CPU model, provenance), the hosts, and whether the
 *                hosts' topologies differed;
 *   placement.csv, topology.xml, topology-shardK.xml, topology-pP.xml
 *                from the shards (a point's topology is that of the first
 *                shard that ran it: with machine.topology = host it is that
 *                host's);
 *   the CSV files, plots and report, made from run.json read back
 *                (runjson.c) by the same code as a run's (results.c,
 *                plot.c, report.c).
 */
#include "commands/commands.h"
#include "commands/exitcode.h"
#include "common/atomicfile.h"
#include "common/msg.h"
#include "common/provenance.h"
#include "common/utf8.h"
#include "compare/gate.h"
#include "record/results.h"
#include "record/runjson.h"
#include "report/plot.h"
#include "report/report.h"
#include "trials/driver.h"
#include "trials/shard.h"

#include <pmapstorm/alloc.h>

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const merge_usage =
    "usage: pmapstorm merge OUT DIR... [--quiet] [--no-plots]\n"
    "\n"
    "Puts the N results folders of a sharded run (pmapstorm run CONFIG --shard K/N)\n"
    "together into the new results folder OUT, as one host would have written it:\n"
    "run.json with every shard's trials, each with the host it ran on, and where\n"
    "each shard ran (\"merged\"); the CSV files, the plots and the report.\n"
    "Every shard K of 1..N must be given once, and all must come from the same\n"
    "experiment file (its text), overrides, commit, build and engine, with the\n"
    "same points; otherwise merge names the folder and what differs, exits 2 and\n"
    "writes nothing.  DIR is a shard's results folder or its run.json.  OUT must\n"
    "not exist: results folders are never replaced.\n"
    "  --quiet       no output but errors and warnings\n"
    "  --no-plots    skip gnuplot\n"
    "Timings of the threads engine from different hosts are flagged in the report\n"
    "and by pmapstorm gate; deterministic counters compare across hosts.\n"
    "Exit: 0 ok, 1 the shards' trials found violations, 2 bad flag or shards that\n"
    "do not belong together, 3 cannot write OUT (or gnuplot missing: the data is\n"
    "kept).\n";

struct shard_in {
	const char *si_arg;   /* as given */
	char si_path[4096];   /* its run.json */
	char si_dir[4096];    /* the folder holding it */
	json_t *si_doc;
	json_t *si_shard;     /* its "shard" object */
	unsigned si_index, si_count;
	unsigned si_done;     /* completed trials */
};

static const char *str_of(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : "";
}

static json_t *prov_of(const struct shard_in *s)
{
	return json_object_get(s->si_doc, "provenance");
}

/* "DIR (shard K/N)" */
static const char *who(const struct shard_in *s, char *buf, size_t len)
{
	if (s->si_count > 0)
		snprintf(buf, len, "%s (shard %u/%u)", s->si_arg, s->si_index, s->si_count);
	else
		snprintf(buf, len, "%s", s->si_arg);
	return buf;
}

static int load_shard(struct shard_in *s)
{
	json_error_t je;
	gate_input_path(s->si_arg, s->si_path, sizeof(s->si_path));
	snprintf(s->si_dir, sizeof(s->si_dir), "%s", s->si_path);
	char *slash = strrchr(s->si_dir, '/');
	if (slash != NULL && strcmp(slash, "/run.json") == 0)
		*slash = '\0';
	else if (slash == NULL && strcmp(s->si_dir, "run.json") == 0)
		snprintf(s->si_dir, sizeof(s->si_dir), ".");
	struct stat st;
	if (stat(s->si_path, &st) != 0 || !S_ISREG(st.st_mode)) {
		msg_error("merge: %s: not a results folder (no run.json)", s->si_arg);
		return EXIT_USAGE;
	}
	if ((s->si_doc = json_load_file(s->si_path, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		msg_error("merge: %s: line %d: not valid JSON (%s)", s->si_path, je.line, je.text);
		return EXIT_USAGE;
	}
	json_t *sv = json_object_get(s->si_doc, "schema_version");
	if (strcmp(str_of(s->si_doc, "schema"), "pmapstorm-run") != 0 || !json_is_integer(sv)) {
		msg_error("merge: %s: not a pmapstorm run.json", s->si_path);
		return EXIT_USAGE;
	}
	if (json_integer_value(sv) < RUN_SCHEMA_VERSION_MIN || json_integer_value(sv) > RUN_SCHEMA_VERSION) {
		msg_error("merge: %s: schema_version %lld; this pmapstorm merges versions %d to %d (the merged run.json "
		    "keeps its shards' version)", s->si_path, (long long)json_integer_value(sv), RUN_SCHEMA_VERSION_MIN,
		    RUN_SCHEMA_VERSION);
		return EXIT_USAGE;
	}
	if (json_object_get(s->si_doc, "merged") != NULL) {
		msg_error("merge: %s is a merged folder, not a shard: merge the shard folders themselves", s->si_arg);
		return EXIT_USAGE;
	}
	s->si_shard = json_object_get(s->si_doc, "shard");
	if (!json_is_object(s->si_shard)) {
		msg_error("merge: %s is not a shard: its run had no --shard (pmapstorm run CONFIG --shard K/N)", s->si_arg);
		return EXIT_USAGE;
	}
	json_t *k = json_object_get(s->si_shard, "index"), *n = json_object_get(s->si_shard, "count");
	if (!json_is_integer(k) || !json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > SHARD_MAX ||
	    json_integer_value(k) < 1 || json_integer_value(k) > json_integer_value(n) ||
	    !json_is_string(json_object_get(s->si_shard, "experiment_text")) ||
	    !json_is_array(json_object_get(s->si_shard, "trials")) || !json_is_array(json_object_get(s->si_doc, "points")) ||
	    !json_is_integer(json_object_get(s->si_doc, "trials_per_point"))) {
		msg_error("merge: %s: run.json's \"shard\" or points are not as pmapstorm run --shard writes them", s->si_path);
		return EXIT_USAGE;
	}
	s->si_index = (unsigned)json_integer_value(k);
	s->si_count = (unsigned)json_integer_value(n);
	size_t p;
	json_t *pt;
	json_array_foreach(json_object_get(s->si_doc, "points"), p, pt)
		s->si_done += (unsigned)json_array_size(json_object_get(pt, "trials"));
	return EXIT_OK;
}

/* "--set a=1 --set b=2", or "none" */
static void sets_text(const json_t *a, char *buf, size_t len)
{
	size_t n = 0, i;
	json_t *v;
	buf[0] = '\0';
	json_array_foreach((json_t *)a, i, v)
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s--set %s", i ? " " : "", json_is_string(v) ? json_string_value(v) : "?");
	if (n == 0)
		snprintf(buf, len, "none");
}

/* where two experiment files first differ: "line 7 is 'x' there, 'y' here" */
static void text_diff(const char *a, const char *b, char *buf, size_t len)
{
	unsigned line = 1;
	while (*a != '\0' || *b != '\0') {
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
		if (la != lb || strncmp(a, b, la) != 0 || (a[la] == '\0') != (b[lb] == '\0')) {
			if (*a == '\0' || *b == '\0')
				snprintf(buf, len, "%s ends at line %u", *a == '\0' ? "the first shard's" : "this one", line);
			else
				snprintf(buf, len, "line %u is '%.*s' in the first shard's, '%.*s' in this one's", line,
				    (int)(la > 80 ? 80 : la), a, (int)(lb > 80 ? 80 : lb), b);
			return;
		}
		a += la + (a[la] != '\0');
		b += lb + (b[lb] != '\0');
		line++;
	}
	snprintf(buf, len, "they differ");
}

/* What must be equal in every shard's point p: what defines the point. */
static const char *const point_fields[] = {"mix", "facet", "params", "roles", "warmup_s", "duration_s", "interval_s",
    NULL};

static int check_points(const struct shard_in *ref, const struct shard_in *s)
{
	char a[4200], b[4200];
	json_t *pa = json_object_get(ref->si_doc, "points"), *pb = json_object_get(s->si_doc, "points");
	if (json_array_size(pa) != json_array_size(pb)) {
		msg_error("merge: %s has %zu points, %s %zu: they did not resolve the same sweep (a value resolved on "
		    "each host, such as machine.cpus = 1..host, differs; give it explicitly)", who(s, a, sizeof(a)),
		    json_array_size(pb), who(ref, b, sizeof(b)), json_array_size(pa));
		return EXIT_USAGE;
	}
	for (size_t p = 0; p < json_array_size(pa); p++) {
		json_t *x = json_array_get(pa, p), *y = json_array_get(pb, p);
		json_t *cx = json_object_get(x, "config"), *cy = json_object_get(y, "config");
		const char *k;
		json_t *v;
		json_object_foreach(cx, k, v)
		{
			json_t *w = json_object_get(cy, k);
			if (w == NULL || !json_equal(v, w)) {
				msg_error("merge: point %zu: %s is '%s' in %s but '%s' in %s (a value resolved on each host, such as "
				    "machine.cpus = host or ipi.preset = calibrated, must be given explicitly for a sharded run)", p, k,
				    str_of(cy, k), who(s, a, sizeof(a)), json_string_value(v), who(ref, b, sizeof(b)));
				return EXIT_USAGE;
			}
		}
		if (json_object_size(cx) != json_object_size(cy)) {
			msg_error("merge: point %zu: %s has config keys %s lacks", p, who(s, a, sizeof(a)), who(ref, b, sizeof(b)));
			return EXIT_USAGE;
		}
		for (const char *const *f = point_fields; *f != NULL; f++)
			if (!json_equal(json_object_get(x, *f), json_object_get(y, *f))) {
				msg_error("merge: point %zu: its %s differs between %s and %s", p, *f, who(s, a, sizeof(a)),
				    who(ref, b, sizeof(b)));
				return EXIT_USAGE;
			}
	}
	return EXIT_OK;
}

/* Does shard s belong with ref (the first given)?  EXIT_OK, or EXIT_USAGE
 * after a message naming s and what differs. */
static int check_shard(const struct shard_in *ref, const struct shard_in *s)
{
	char a[4200], b[4200], d[512];
	who(s, a, sizeof(a));
	who(ref, b, sizeof(b));
	if (s->si_count != ref->si_count) {
		msg_error("merge: %s is one of %u shards, %s one of %u: they are not the same split", a, s->si_count, b,
		    ref->si_count);
		return EXIT_USAGE;
	}
	const char *ta = str_of(ref->si_shard, "experiment_text"), *tb = str_of(s->si_shard, "experiment_text");
	if (strcmp(ta, tb) != 0) {
		text_diff(ta, tb, d, sizeof(d));
		msg_error("merge: %s ran another experiment file than %s (%s and %s): %s", a, b,
		    str_of(s->si_doc, "config_file"), str_of(ref->si_doc, "config_file"), d);
		return EXIT_USAGE;
	}
	if (!json_equal(json_object_get(s->si_doc, "overrides"), json_object_get(ref->si_doc, "overrides"))) {
		char x[1024], y[1024];
		sets_text(json_object_get(s->si_doc, "overrides"), x, sizeof(x));
		sets_text(json_object_get(ref->si_doc, "overrides"), y, sizeof(y));
		msg_error("merge: %s ran with other overrides than %s: %s, against %s", a, b, x, y);
		return EXIT_USAGE;
	}
	static const char *const prov_keys[] = {"commit", "build", "pmapstorm", NULL};
	for (const char *const *k = prov_keys; *k != NULL; k++)
		if (strcmp(str_of(prov_of(s), *k), str_of(prov_of(ref), *k)) != 0) {
			msg_error("merge: %s was run by another pmapstorm than %s: %s '%s', against '%s'", a, b, *k,
			    str_of(prov_of(s), *k), str_of(prov_of(ref), *k));
			return EXIT_USAGE;
		}
	if (strcmp(str_of(s->si_shard, "engine"), str_of(ref->si_shard, "engine")) != 0) {
		msg_error("merge: %s ran on the %s engine, %s on the %s engine", a, str_of(s->si_shard, "engine"), b,
		    str_of(ref->si_shard, "engine"));
		return EXIT_USAGE;
	}
	static const char *const top_keys[] = {"name", "seed", "trials_per_point", "sweep_keys", "mixes", "report", NULL};
	for (const char *const *k = top_keys; *k != NULL; k++)
		if (!json_equal(json_object_get(s->si_doc, *k), json_object_get(ref->si_doc, *k))) {
			msg_error("merge: %s and %s differ in run.json's \"%s\"", a, b, *k);
			return EXIT_USAGE;
		}
	return check_points(ref, s);
}

/* Every trial of the run in exactly one shard's list, and every shard
 * holding only its own: owner[p * T + t] = index into in[]. */
static int check_trials(struct shard_in *in, unsigned n, unsigned np, unsigned T)
{
	int *owner = mem_alloc(int, (size_t)np * T + 1);
	char a[4200], b[4200];
	int rc = EXIT_OK;
	if (owner == NULL) {
		msg_error("merge: out of memory for %u trials", np * T);
		return EXIT_ENV;
	}
	for (size_t i = 0; i < (size_t)np * T; i++)
		owner[i] = -1;
	for (unsigned i = 0; i < n && rc == EXIT_OK; i++) {
		size_t k;
		json_t *e;
		json_array_foreach(json_object_get(in[i].si_shard, "trials"), k, e)
		{
			json_t *p = json_array_get(e, 0), *t = json_array_get(e, 1);
			if (!json_is_integer(p) || !json_is_integer(t) || json_integer_value(p) < 0 || json_integer_value(p) >= np ||
			    json_integer_value(t) < 0 || json_integer_value(t) >= T) {
				msg_error("merge: %s: shard.trials[%zu] is not [point, trial] of the run", who(&in[i], a, sizeof(a)), k);
				rc = EXIT_USAGE;
				break;
			}
			size_t at = (size_t)json_integer_value(p) * T + (size_t)json_integer_value(t);
			if (owner[at] >= 0) {
				msg_error("merge: trial %lld of point %lld was given to %s and to %s: the shards were not cut alike",
				    (long long)json_integer_value(t), (long long)json_integer_value(p),
				    who(&in[owner[at]], a, sizeof(a)), who(&in[i], b, sizeof(b)));
				rc = EXIT_USAGE;
				break;
			}
			owner[at] = (int)i;
		}
	}
	for (size_t at = 0; rc == EXIT_OK && at < (size_t)np * T; at++)
		if (owner[at] < 0) {
			msg_error("merge: trial %zu of point %zu was given to no shard: the shards were not cut alike", at % T, at / T);
			rc = EXIT_USAGE;
		}
	for (unsigned i = 0; i < n && rc == EXIT_OK; i++) {
		size_t p, k;
		json_t *pt, *tr;
		json_array_foreach(json_object_get(in[i].si_doc, "points"), p, pt)
			json_array_foreach(json_object_get(pt, "trials"), k, tr)
			{
				json_t *t = json_object_get(tr, "trial");
				if (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) >= T ||
				    owner[p * T + (size_t)json_integer_value(t)] != (int)i) {
					msg_error("merge: %s holds trial %lld of point %zu, which is not its own", who(&in[i], a, sizeof(a)),
					    json_is_integer(t) ? (long long)json_integer_value(t) : -1LL, p);
					rc = EXIT_USAGE;
					break;
				}
			}
	}
	free(owner);
	return rc;
}

static int cmp_trial(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "trial"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "trial"));
	return x < y ? -1 : x > y;
}

/* The merged run.json without its summaries (in[] sorted by shard index). */
static json_t *merged_doc(struct shard_in *in, unsigned n, const char *const *args)
{
	json_t *doc = json_deep_copy(in[0].si_doc);
	if (doc == NULL)
		return NULL;
	json_object_del(doc, "shard");
	bool interrupted = false, topo_differ = false;
	double wall = 0;
	for (unsigned i = 0; i < n; i++) {
		interrupted |= json_is_true(json_object_get(in[i].si_doc, "interrupted"));
		interrupted |= in[i].si_done < json_array_size(json_object_get(in[i].si_shard, "trials"));
		double w = json_number_value(json_object_get(in[i].si_doc, "wall_seconds"));
		wall = w > wall ? w : wall;
	}
	json_object_set_new(doc, "interrupted", json_boolean(interrupted));
	json_object_set_new(doc, "wall_seconds", json_real(wall)); /* the longest shard: the shards ran side by side */
	json_t *points = json_object_get(doc, "points");
	size_t p;
	json_t *pt;
	json_array_foreach(points, p, pt)
	{
		json_t *trials = json_array();
		int from = -1;
		for (unsigned i = 0; i < n; i++) {
			json_t *spt = json_array_get(json_object_get(in[i].si_doc, "points"), p), *tr;
			size_t k;
			json_array_foreach(json_object_get(spt, "trials"), k, tr)
				json_array_append_new(trials, json_deep_copy(tr));
			if (json_array_size(json_object_get(spt, "trials")) == 0)
				continue;
			if (from < 0)
				from = (int)i;
			else if (!json_equal(json_object_get(spt, "topology"),
			             json_object_get(json_array_get(json_object_get(in[from].si_doc, "points"), p), "topology")))
				topo_differ = true;
		}
		/* trials in trial order, as one run writes them */
		size_t nt = json_array_size(trials);
		json_t **v = mem_alloc(json_t *, nt + 1);
		if (v == NULL) {
			json_decref(trials);
			json_decref(doc);
			return NULL;
		}
		for (size_t k = 0; k < nt; k++)
			v[k] = json_incref(json_array_get(trials, k));
		qsort(v, nt, sizeof(*v), cmp_trial);
		json_array_clear(trials);
		for (size_t k = 0; k < nt; k++)
			json_array_append_new(trials, v[k]);
		free(v);
		json_object_set_new(pt, "trials", trials);
		/* the topology of the first shard that ran the point: with the
		 * host's topology, that host's (its XML kept as topology-shardK.xml) */
		json_t *topo = json_deep_copy(json_object_get(json_array_get(json_object_get(in[from >= 0 ? from : 0].si_doc,
		    "points"), p), "topology"));
		if (json_is_object(topo) && !json_is_true(json_object_get(topo, "synthetic"))) {
			char name[64];
			snprintf(name, sizeof(name), "topology-shard%u.xml", in[from >= 0 ? from : 0].si_index);
			json_object_set_new(topo, "xml", json_string(name));
		}
		json_object_set_new(pt, "topology", topo != NULL ? topo : json_null());
	}
	/* where each shard ran, and by whom it was merged */
	json_t *shards = json_array();
	for (unsigned i = 0; i < n; i++) {
		json_t *prov = prov_of(&in[i]);
		json_t *e = json_pack("{s:i,s:o,s:s,s:s,s:s,s:i,s:i,s:f,s:b,s:O}", "index", (int)in[i].si_index, "folder",
		    utf8_json_string(args[i]), "given_as", str_of(in[i].si_shard, "given_as"), "host",
		    str_of(prov, "host"), "cpu_model", str_of(prov, "cpu_model"), "trials",
		    (int)json_array_size(json_object_get(in[i].si_shard, "trials")), "completed", (int)in[i].si_done,
		    "wall_seconds", json_number_value(json_object_get(in[i].si_doc, "wall_seconds")), "interrupted",
		    json_is_true(json_object_get(in[i].si_doc, "interrupted")), "provenance", prov);
		json_array_append_new(shards, e);
	}
	char host[256] = "", date[64];
	gethostname(host, sizeof(host) - 1);
	time_t now = time(NULL);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_t *merged = json_pack("{s:i,s:s,s:O,s:b,s:o,s:{s:s,s:s,s:s,s:s}}", "count", (int)n, "engine",
	    str_of(in[0].si_shard, "engine"), "experiment_text", json_object_get(in[0].si_shard, "experiment_text"),
	    "host_topologies_differ", topo_differ, "shards", shards, "by", "pmapstorm", PMAPSTORM_VERSION, "commit",
	    pmapstorm_commit(), "host", host, "date", date);
	if (merged == NULL) {
		json_decref(doc);
		return NULL;
	}
	struct shard_hosts hs;
	shard_doc_hosts(doc, &hs);
	json_t *hosts = json_array();
	for (unsigned i = 0; i < hs.hs_nhosts && i < SHARD_MAX_HOSTS; i++)
		json_array_append_new(hosts, json_pack("{s:s,s:i}", "name", hs.hs_name[i], "trials", (int)hs.hs_trials[i]));
	json_object_set_new(merged, "hosts", hosts);
	json_object_set_new(doc, "merged", merged);
	return doc;
}

/* a file of a shard's folder into the merged one, atomically */
static int copy_file(const char *from, const char *dir, const char *name)
{
	FILE *in = fopen(from, "rb");
	if (in == NULL)
		return errno == ENOENT ? EXIT_OK : (msg_error("merge: %s: cannot read (%s)", from, strerror(errno)), EXIT_ENV);
	char tmp[4200], buf[65536];
	FILE *out = atomicfile_begin(dir, name, tmp, sizeof(tmp));
	if (out == NULL) {
		fclose(in);
		return EXIT_ENV;
	}
	size_t got;
	bool bad = false;
	while (!bad && (got = fread(buf, 1, sizeof(buf), in)) > 0)
		bad = fwrite(buf, 1, got, out) != got;
	bad |= ferror(in) != 0;
	fclose(in);
	if (bad) {
		msg_error("merge: cannot copy %s into %s", from, dir);
		fclose(out);
		unlink(tmp);
		return EXIT_ENV;
	}
	return exitcode_of(atomicfile_commit(out, dir, name, tmp));
}

/* placement.csv from the points' topologies, and the topology files */
static int write_topologies(const json_t *doc, const struct shard_in *in, unsigned n, const char *dir)
{
	char tmp[4200], path[4400], name[64];
	int rc = EXIT_OK;
	FILE *f = atomicfile_begin(dir, "placement.csv", tmp, sizeof(tmp));
	if (f == NULL)
		return EXIT_ENV;
	fprintf(f, "point,strategy,cpus,cpu,pu,host_pu,group,numa_node,synthetic\n");
	size_t p, c;
	json_t *pt, *cpu;
	json_array_foreach(json_object_get(doc, "points"), p, pt)
	{
		json_t *topo = json_object_get(pt, "topology"), *cfg = json_object_get(pt, "config");
		json_array_foreach(json_object_get(topo, "cpus"), c, cpu)
			fprintf(f, "%zu,%s,%s,%lld,%lld,%lld,%lld,%lld,%d\n", p, str_of(cfg, "shootdown.strategy"),
			    str_of(cfg, "machine.cpus"), (long long)json_integer_value(json_object_get(cpu, "cpu")),
			    (long long)json_integer_value(json_object_get(cpu, "pu")),
			    (long long)json_integer_value(json_object_get(cpu, "host_pu")),
			    (long long)json_integer_value(json_object_get(cpu, "group")),
			    (long long)json_integer_value(json_object_get(cpu, "numa_node")),
			    json_is_true(json_object_get(topo, "synthetic")));
		if (json_is_true(json_object_get(topo, "synthetic")) && rc == EXIT_OK) {
			snprintf(name, sizeof(name), "topology-p%zu.xml", p);
			snprintf(path, sizeof(path), "%s/%s", in[0].si_dir, name);
			rc = copy_file(path, dir, name);
		}
	}
	if (rc != EXIT_OK) {
		fclose(f);
		unlink(tmp);
		return rc;
	}
	if ((rc = exitcode_of(atomicfile_commit(f, dir, "placement.csv", tmp))) != EXIT_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/topology.xml", in[0].si_dir);
	rc = copy_file(path, dir, "topology.xml");
	for (unsigned i = 0; i < n && rc == EXIT_OK; i++) {
		snprintf(path, sizeof(path), "%s/topology.xml", in[i].si_dir);
		snprintf(name, sizeof(name), "topology-shard%u.xml", in[i].si_index);
		rc = copy_file(path, dir, name);
	}
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int cmp_index(const void *a, const void *b)
{
	const struct shard_in *x = a, *y = b;
	return x->si_index < y->si_index ? -1 : x->si_index > y->si_index;
}

static int merge_main(const char *out, char **dirs, unsigned n, bool quiet, bool plots)
{
	struct shard_in *in = mem_zalloc(struct shard_in, n);
	const char **args = mem_zalloc(const char *, n);
	struct runjson rj = {0};
	json_t *doc = NULL;
	char a[4200], b[4600], err[1024], tmp[4400] = "";
	int rc = EXIT_OK;
	if (in == NULL || args == NULL) {
		msg_error("merge: out of memory");
		rc = EXIT_ENV;
		goto out;
	}
	struct stat st;
	if (lstat(out, &st) == 0) {
		msg_error("merge: %s exists: results folders are never replaced; name a new folder", out);
		rc = EXIT_USAGE;
		goto out;
	}
	for (unsigned i = 0; i < n && rc == EXIT_OK; i++) {
		in[i].si_arg = dirs[i];
		rc = load_shard(&in[i]);
	}
	for (unsigned i = 1; i < n && rc == EXIT_OK; i++)
		rc = check_shard(&in[0], &in[i]);
	if (rc != EXIT_OK)
		goto out;
	/* every shard once */
	unsigned N = in[0].si_count;
	qsort(in, n, sizeof(*in), cmp_index);
	for (unsigned i = 1; i < n; i++)
		if (in[i].si_index == in[i - 1].si_index) {
			msg_error("merge: shard %u/%u given twice: %s and %s", in[i].si_index, N, in[i - 1].si_arg, in[i].si_arg);
			rc = EXIT_USAGE;
			goto out;
		}
	if (n != N) {
		char missing[1024] = "", given[2048] = "";
		size_t lm = 0, lg = 0;
		for (unsigned k = 1, i = 0; k <= N && lm < sizeof(missing); k++) {
			if (i < n && in[i].si_index == k) {
				i++;
				continue;
			}
			lm += (size_t)snprintf(missing + lm, sizeof(missing) - lm, "%s%u/%u", lm ? ", " : "", k, N);
		}
		for (unsigned i = 0; i < n && lg < sizeof(given); i++)
			lg += (size_t)snprintf(given + lg, sizeof(given) - lg, "%s%s", i ? ", " : "", who(&in[i], a, sizeof(a)));
		msg_error("merge: shard%s %s missing (given: %s); merge needs all %u shard folders of the run",
		    N - n > 1 ? "s" : "", missing, given, N);
		rc = EXIT_USAGE;
		goto out;
	}
	unsigned np = (unsigned)json_array_size(json_object_get(in[0].si_doc, "points"));
	json_int_t T = json_integer_value(json_object_get(in[0].si_doc, "trials_per_point"));
	if (np == 0 || T < 1 || T > 1000) {
		msg_error("merge: %s: %u points of %lld trials", in[0].si_path, np, (long long)T);
		rc = EXIT_USAGE;
		goto out;
	}
	if ((rc = check_trials(in, n, np, (unsigned)T)) != EXIT_OK)
		goto out;
	for (unsigned i = 0; i < n; i++)
		args[i] = in[i].si_arg;
	if ((doc = merged_doc(in, n, args)) == NULL) {
		msg_error("merge: out of memory");
		rc = EXIT_ENV;
		goto out;
	}
	/* the run again, from the merged document, for its summaries, CSV files and report */
	if ((rc = exitcode_of(runjson_read(doc, out, &rj, err, sizeof(err)))) != EXIT_OK) {
		msg_error("merge: %s", err);
		goto out;
	}
	json_t *pts = json_object_get(doc, "points");
	for (unsigned p = 0; p < np; p++)
		json_object_set_new(json_array_get(pts, p), "summary", results_summary_json(&rj.rj_rr, p));
	if (strcmp(str_of(prov_of(&in[0]), "commit"), pmapstorm_commit()) != 0)
		fprintf(stderr, "pmapstorm merge: warning: the shards ran commit %s, this is %s: the CSV files and report "
		    "are this build's view of their run.json\n", str_of(prov_of(&in[0]), "commit"), pmapstorm_commit());
	if (rj.rj_rr.rr_interrupted)
		fprintf(stderr, "pmapstorm merge: warning: a shard was interrupted: the merged run is partial, marked "
		    "\"interrupted\": true\n");

	/* everything checked: now write, under a temporary name beside OUT */
	snprintf(a, sizeof(a), "%s", out);
	char *slash = strrchr(a, '/');
	const char *base = slash != NULL ? slash + 1 : a;
	if (slash != NULL)
		*slash = '\0';
	const char *parent = slash == NULL ? "." : a[0] != '\0' ? a : "/";
	if (mkdir(parent, 0777) != 0 && errno != EEXIST) {
		msg_error("merge: cannot create %s (%s)", parent, strerror(errno));
		rc = EXIT_ENV;
		goto out;
	}
	atomicfile_remove_stale(parent, ".tmp-merge-");
	snprintf(tmp, sizeof(tmp), "%s/.tmp-merge-%.64s-%d", parent, base, (int)getpid());
	if (mkdir(tmp, 0777) != 0) {
		msg_error("merge: cannot create %s (%s)", tmp, strerror(errno));
		tmp[0] = '\0';
		rc = EXIT_ENV;
		goto out;
	}
	snprintf(b, sizeof(b), "%s/run.json", tmp);
	if ((rc = exitcode_of(atomicfile_write_json(b, doc))) != EXIT_OK || (rc = write_topologies(doc, in, n, tmp)) != EXIT_OK ||
	    (rc = exitcode_of(results_write_tables(&rj.rj_rr, tmp))) != EXIT_OK)
		goto out;
	int prc = plots ? exitcode_of(plot_dir(tmp, quiet, NULL)) : EXIT_OK; /* missing gnuplot keeps the data, then exits 3 */
	char *heads = NULL;
	size_t headsz = 0;
	FILE *hf = open_memstream(&heads, &headsz);
	rc = exitcode_of(report_write(&rj.rj_rr, tmp, hf));
	if (hf != NULL)
		fclose(hf);
	if (rc == EXIT_OK && atomicfile_rename_dir_new(tmp, out) != 0) {
		int e = errno;
		msg_error("merge: cannot move the merged results from %s into %s (%s)", tmp, out, strerror(e));
		rc = e == EEXIST ? EXIT_USAGE : EXIT_ENV; /* OUT appeared meanwhile: still never replaced */
	}
	if (rc != EXIT_OK) {
		free(heads);
		goto out;
	}
	tmp[0] = '\0'; /* published */
	if (!quiet && heads != NULL) {
		fputs(heads, stdout);
		printf("  report: %s/report.md (and index.html, self-contained)\n", out);
		fflush(stdout);
	}
	free(heads);
	struct shard_hosts hs;
	shard_doc_hosts(doc, &hs);
	shard_hosts_names(&hs, a, sizeof(a));
	unsigned done = 0, errors = 0;
	for (size_t i = 0; i < rj.rj_ntrials; i++)
		if (rj.rj_trials[i].tr_done) {
			done++;
			errors += rj.rj_trials[i].tr_errors;
		}
	if (!quiet)
		fprintf(stderr, "pmapstorm merge: %u shards, %u of %u trials, from %u host%s (%s): %s\n", n, done,
		    np * (unsigned)T, hs.hs_nhosts, hs.hs_nhosts == 1 ? "" : "s", a, out);
	if (errors > 0) {
		msg_error("merge: %u violation(s) in the shards' trials (workload checks, pmap_check/tlb_check or the oracles)",
		    errors);
		rc = EXIT_VIOLATION;
	} else if ((rc = prc) != EXIT_OK) {
		msg_error("merge: %s holds the data without plots (pmapstorm plot %s draws them)", out, out);
	}
out:
	if (tmp[0] != '\0')
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS); /* nothing half-written stays */
	runjson_free(&rj);
	json_decref(doc);
	for (unsigned i = 0; in != NULL && i < n; i++)
		json_decref(in[i].si_doc);
	free(in);
	free(args);
	return rc;
}

int cmd_merge(int argc, char **argv)
{
	bool quiet = false, plots = true;
	static const struct option opts[] = {
		{"quiet", no_argument, NULL, 'q'}, {"no-plots", no_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'n': plots = false; break;
		case 'h': fputs(merge_usage, stdout); return EXIT_OK;
		default:
			msg_error("merge: unknown or incomplete option '%s'\n%s", argv[optind - 1], merge_usage);
			return EXIT_USAGE;
		}
	}
	if (argc - optind < 2) {
		msg_error("merge: %s\n%s", argc - optind < 1 ? "where to? (pmapstorm merge OUT DIR...)"
		                                               : "which shards? (pmapstorm merge OUT DIR...)", merge_usage);
		return EXIT_USAGE;
	}
	if ((unsigned)(argc - optind - 1) > SHARD_MAX) {
		msg_error("merge: more than %u shard folders", SHARD_MAX);
		return EXIT_USAGE;
	}
	return merge_main(argv[optind], argv + optind + 1, (unsigned)(argc - optind - 1), quiet, plots);
}
