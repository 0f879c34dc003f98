/*
 * cli.c — what the pmapstorm command's subcommands share (cli.h): error
 * printing, --set, provenance, atomic JSON writes, and `pmapstorm list`.
 */
#include "cli.h"
#include "metrics.h"
#include "workload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <pmapstorm/alloc.h>
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

void cli_duration(char *buf, size_t len, double s)
{
	if (s >= 3600)
		snprintf(buf, len, "%d h %02d min", (int)(s / 3600), (int)(s / 60) % 60);
	else if (s >= 60)
		snprintf(buf, len, "%d min %02d s", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, len, "%.0f s", s);
}

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

int cli_memory_check(const struct machine_config *cfg, const char *where)
{
	/* simulated frames, their struct vm_page array and per-CPU state: the
	 * frames plus a few percent, with room for the host process itself */
	uint64_t need = cfg->mc_memory + cfg->mc_memory / 16 + (64ULL << 20);
	uint64_t have = host_available_bytes();
	if (need <= have)
		return 0;
	cli_error("%s%smachine.memory: %" PRIu64 " MiB of simulated memory needs about %" PRIu64
	    " MiB, more than this host has available (%" PRIu64 " MiB); lower machine.memory",
	    where ? where : "", where ? ": " : "", cfg->mc_memory >> 20, need >> 20, have >> 20);
	return ENOMEM;
}

int cli_apply_set(struct machine_config *cfg, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (eq == NULL || eq == kv) {
		cli_error("--set: '%s' is not key=value", kv);
		return EINVAL;
	}
	char key[128];
	size_t n = (size_t)(eq - kv);
	if (n >= sizeof(key)) {
		cli_error("--set: key too long");
		return EINVAL;
	}
	memcpy(key, kv, n);
	key[n] = '\0';
	if (machine_config_set(cfg, key, eq + 1) != 0) {
		cli_error("--set: %s", machine_errmsg());
		return EINVAL;
	}
	return 0;
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
	if (f == NULL) {
		int err = errno;
		cli_error("%s: cannot write (%s)", path, strerror(err));
		errno = err; /* for the caller, whatever stdio did to it */
	}
	return f;
}

/*
 * Durable and atomic: the data reaches the disk (fsync) before the rename
 * makes it visible, so a crash at any moment leaves the old file, the new
 * file whole, or none — never a torn one.
 */
static int cli_publish(const char *tmp, const char *path, bool replace)
{
	if (replace)
		return rename(tmp, path);
	/* never over an existing file: RENAME_NOREPLACE, or link() on file
	 * systems without it — both fail with EEXIST where rename() replaces */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(tmp, path) != 0)
		return -1;
	unlink(tmp);
	return 0;
}

static int cli_commit(FILE *f, const char *tmp, const char *path, bool replace)
{
	/* ferror: a write that failed earlier (ENOSPC) leaves a hole fflush cannot see */
	int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (bad || cli_publish(tmp, path, replace) != 0) {
		int err = errno; /* before cli_error() and unlink() can change it */
		unlink(tmp);
		cli_error("%s: cannot write (%s)", path, err == EEXIST ? "it exists already; not overwritten" : strerror(err));
		return err != 0 ? err : EIO;
	}
	return 0;
}

int cli_file_commit(FILE *f, const char *dir, const char *name, const char *tmp)
{
	char path[4096];
	cli_path(path, sizeof(path), dir, name);
	return cli_commit(f, tmp, path, true);
}

static int cli_json_to(const char *path, json_t *doc, bool replace)
{
	char tmp[4096];
	FILE *f = cli_file_begin(NULL, path, tmp, sizeof(tmp));
	if (f == NULL)
		return errno != 0 ? errno : EIO;
	errno = 0;
	if (json_dumpf(doc, f, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 || fputc('\n', f) == EOF) {
		int err = errno != 0 ? errno : EIO;
		cli_error("%s: cannot write (%s)", path, strerror(err));
		fclose(f);
		unlink(tmp);
		return err;
	}
	return cli_commit(f, tmp, path, replace);
}

int cli_write_json(const char *path, json_t *doc)
{
	return cli_json_to(path, doc, true);
}

int cli_write_json_new(const char *path, json_t *doc)
{
	return cli_json_to(path, doc, false);
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

void cli_remove_stale(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	size_t pl = strlen(prefix);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, pl) != 0)
			continue;
		/* the PID is the name's last "-" field */
		const char *dash = strrchr(e->d_name, '-');
		char *end;
		long pid = dash != NULL ? strtol(dash + 1, &end, 10) : 0;
		if (pid <= 0 || *end != '\0' || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* not ours to judge, or its writer still runs */
		char path[4352];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
			fprintf(stderr, "pmapstorm: removed %s, left by an interrupted run (process %ld)\n", path, pid);
	}
	closedir(d);
}

/* the length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
	if (n == 0 || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) || (c == 0xf0 && s[1] < 0x90) ||
	    (c == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

char *cli_utf8_lossy(const char *s)
{
	size_t len = strlen(s), o = 0;
	char *d = mem_alloc(char, 3 * len + 1); /* each bad byte becomes 3 */
	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq((const unsigned char *)s + i);
		if (n == 0) {
			memcpy(d + o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
		} else {
			memcpy(d + o, s + i, n);
			o += n;
			i += n;
		}
	}
	d[o] = '\0';
	return d;
}

json_t *cli_json_string_lossy(const char *s)
{
	char *d = cli_utf8_lossy(s);
	json_t *j = d != NULL ? json_string(d) : NULL;
	free(d);
	return j;
}

void cli_utf8_cut(char *s)
{
	size_t len = strlen(s), i = len, back = 0;
	while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
		back++;
	}
	if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
		return; /* ASCII (or nothing but continuation bytes): nothing cut */
	i--; /* the lead byte */
	unsigned c = (unsigned char)s[i];
	size_t need = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
	if (len - i < need)
		s[i] = '\0';
}

int cli_rename_dir_new(const char *from, const char *to)
{
	/* a directory rename() replaces an empty directory at 'to': refuse that too */
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (access(to, F_OK) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

int cmd_list(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: pmapstorm list strategies|locks|workloads|keys|metrics [--markdown|--json]\n");
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
	if (!strcmp(argv[1], "metrics")) {
		/* the catalog (metrics.c): every metric's one definition; --markdown
		 * prints the README's table (tests/test_run.c keeps the two in step) */
		bool md = argc > 2 && !strcmp(argv[2], "--markdown"), js = argc > 2 && !strcmp(argv[2], "--json");
		if (js) {
			json_t *o = json_object();
			for (const struct metric_def *d = metric_defs; d->md_name != NULL; d++)
				json_object_set_new(o, d->md_name, json_pack("{s:s,s:s,s:s,s:s}", "unit", d->md_unit, "scope",
				    d->md_scope == MS_ROLE ? "role" : d->md_scope == MS_CLASS ? "lock class" : "trial", "definition",
				    d->md_desc, "not_applicable_when", d->md_na ? d->md_na : ""));
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
			if (md)
				printf("| `%s%s` | %s | %s | %s | %s |\n", d->md_name, name, d->md_unit, better, d->md_desc,
				    d->md_na ? d->md_na : "-");
			else
				printf("%s%s  [%s, %s is better]\n    %s\n%s%s%s", d->md_name, name, d->md_unit, better, d->md_desc,
				    d->md_na ? "    not applicable (absent from the trial): " : "", d->md_na ? d->md_na : "",
				    d->md_na ? "\n" : "");
		}
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
	cli_error("list: unknown list '%s' (strategies, locks, workloads, keys, metrics)", argv[1]);
	return EXIT_USAGE;
}

