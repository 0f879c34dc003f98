/*
 * machine.c — machine configuration, boot and halt.
 *
 * The configuration is a flat table of "section.key" entries shared by INI
 * files, --set and machine_config_set(); each entry parses, validates and
 * prints its own field, so a new key is one table line.  Boot allocates
 * physical memory (phys.c) and the CPUs, then hands over to the pmap layer
 * through machine_hooks.mh_boot (pmap_bootstrap), which builds the kernel's
 * page tables and selects the shootdown strategy, and then to the uvm layer
 * through machine_uvm_hooks.mu_boot (kernel_map, page caches), which halts
 * first.  Both layers register their hooks from constructors: the machine
 * never calls upward by name.
 */
#include "machine_impl.h"

#include <pmapstorm/check.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>



struct machine *machine_cur;
static _Thread_local char errbuf[512];
static struct machine_hooks hooks;
static struct machine_uvm_hooks uvm_hooks;
static bool (*strategy_check)(const char *name, bool allow_unsafe, char *why, size_t len);

void machine_set_hooks(const struct machine_hooks *h)
{
	hooks = *h;
}

void machine_set_uvm_hooks(const struct machine_uvm_hooks *h)
{
	uvm_hooks = *h;
}

void machine_set_strategy_check(bool (*check)(const char *, bool, char *, size_t))
{
	strategy_check = check;
}

const char *machine_errmsg(void)
{
	return errbuf;
}

int machine_seterr(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	errno = err;
	return err;
}

/* ---- value parsers ---- */

static int parse_u64(const char *key, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	if (v == NULL || *v == '\0' || !isdigit((unsigned char)*v))
		return machine_seterr(EINVAL, "%s: '%s' is not a whole number", key, v ? v : "");
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno != 0 || *end != '\0')
		return machine_seterr(EINVAL, "%s: '%s' is not a whole number", key, v);
	if (x < lo || x > hi)
		return machine_seterr(EINVAL, "%s: %llu is out of range [%" PRIu64 ", %" PRIu64 "]", key, x, lo, hi);
	*out = x;
	return 0;
}

/* bytes with an optional K/M/G suffix (powers of 1024) */
int machine_parse_size(const char *key, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	if (v == NULL || !isdigit((unsigned char)*v))
		return machine_seterr(EINVAL, "%s: '%s' is not a size (bytes with an optional K, M or G)", key, v ? v : "");
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	uint64_t mul = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K': mul = 1ULL << 10; end++; break;
	case 'M': mul = 1ULL << 20; end++; break;
	case 'G': mul = 1ULL << 30; end++; break;
	default: break;
	}
	if (toupper((unsigned char)*end) == 'B' || toupper((unsigned char)*end) == 'I')
		end += (toupper((unsigned char)end[0]) == 'I' && toupper((unsigned char)end[1]) == 'B') ? 2 : 1;
	while (isspace((unsigned char)*end))
		end++;
	if (errno != 0 || *end != '\0' || (mul > 1 && x > UINT64_MAX / mul))
		return machine_seterr(EINVAL, "%s: '%s' is not a size (bytes with an optional K, M or G)", key, v);
	x *= mul;
	if (x < lo || x > hi)
		return machine_seterr(EINVAL, "%s: %s is out of range [%" PRIu64 "K, %" PRIu64 "G]", key, v,
		    lo >> 10, hi >> 30);
	*out = x;
	return 0;
}

static int parse_onoff(const char *key, const char *v, bool *out)
{
	if (v && (!strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))) {
		*out = true;
		return 0;
	}
	if (v && (!strcasecmp(v, "off") || !strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))) {
		*out = false;
		return 0;
	}
	return machine_seterr(EINVAL, "%s: '%s' is not on or off", key, v ? v : "");
}

/* ---- the key table ---- */

struct cfg_key {
	const char *ck_name;
	int (*ck_set)(struct machine_config *, const char *key, const char *v);
	void (*ck_get)(const struct machine_config *, char *buf, size_t len);
};

/* locks.<class>: the class is found from the key's name */
static int lock_class_of_key(const char *key)
{
	return lock_class_find(key + strlen("locks."));
}
static int lockalgo_set(struct machine_config *c, const char *k, const char *v)
{
	char why[384];
	int cls = lock_class_of_key(k);
	if (v == NULL || strlen(v) >= LOCK_ALGO_NAMELEN ||
	    !lock_algo_check((lock_class_t)cls, v, c->mc_locks_unsafe, why, sizeof(why)))
		return machine_seterr(EINVAL, "%s: %s", k, v == NULL || strlen(v) >= LOCK_ALGO_NAMELEN ? "bad name" : why);
	snprintf(c->mc_locks[cls], LOCK_ALGO_NAMELEN, "%s", v);
	return 0;
}
#define LOCKALGO_GET(cls)                                                                     \
	static void lockalgo_get_##cls(const struct machine_config *c, char *b, size_t n)       \
	{                                                                                     \
		snprintf(b, n, "%s", c->mc_locks[cls][0] ? c->mc_locks[cls] : lock_class_default(cls)); \
	}
LOCKALGO_GET(LC_PMAP)
LOCKALGO_GET(LC_PV)
LOCKALGO_GET(LC_PMAPS)
LOCKALGO_GET(LC_PAGEFREE)
LOCKALGO_GET(LC_TLB_PACKET)
LOCKALGO_GET(LC_KERNEL_MAP)
LOCKALGO_GET(LC_POOL)

static int lockwait_set(struct machine_config *c, const char *k, const char *v)
{
	if (v && !strcasecmp(v, "spin-yield"))
		c->mc_lock_wait = LOCK_WAIT_SPIN_YIELD;
	else if (v && !strcasecmp(v, "spin"))
		c->mc_lock_wait = LOCK_WAIT_SPIN;
	else
		return machine_seterr(EINVAL, "%s: '%s' is not one of: spin-yield, spin", k, v ? v : "");
	return 0;
}
static void lockwait_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_lock_wait == LOCK_WAIT_SPIN ? "spin" : "spin-yield");
}

#define U64_KEY(fn, field, lo, hi)                                                           \
	static int fn##_set(struct machine_config *c, const char *k, const char *v)           \
	{                                                                                     \
		uint64_t x = 0;                                                                 \
		int e = parse_u64(k, v, (lo), (hi), &x);                                      \
		if (e == 0)                                                                   \
			c->field = x;                                                         \
		return e;                                                                     \
	}                                                                                     \
	static void fn##_get(const struct machine_config *c, char *b, size_t n)               \
	{                                                                                     \
		snprintf(b, n, "%" PRIu64, (uint64_t)c->field);                               \
	}

U64_KEY(cpus, mc_ncpu, 1, MAXCPUS)
U64_KEY(tlb_entries, mc_tlb_entries, 1, MACHINE_MAX_TLB_ENTRIES)
U64_KEY(tlb_ways, mc_tlb_ways, 1, 64)
U64_KEY(ipi_send, mc_ipi_send_ns, 0, 1000000000)
U64_KEY(ipi_handler, mc_ipi_handler_ns, 0, 1000000000)
U64_KEY(spin, mc_spin_before_yield, 0, 1000000)
U64_KEY(tick_us, mc_tick_us, 1, 10000000)
/* shootdown knobs: 0 is never a valid batch, ceiling, ring or threshold */
U64_KEY(sd_batch, mc_sd_batch, 1, SD_MAX_BATCH)
U64_KEY(sd_linux_ceiling, mc_sd_linux_ceiling, 1, SD_MAX_BATCH)
U64_KEY(sd_freebsd_threshold, mc_sd_freebsd_threshold, 1, 1U << 27)
U64_KEY(sd_latr_ring, mc_sd_latr_ring, 2, 65536)
U64_KEY(sd_broadcast_max, mc_sd_broadcast_max, 1, SD_MAX_BATCH)
U64_KEY(sd_hier_group, mc_sd_hier_group, 0, MAXCPUS)

static int memory_set(struct machine_config *c, const char *k, const char *v)
{
	uint64_t x = 0;
	int e = machine_parse_size(k, v, MACHINE_MIN_MEMORY, MACHINE_MAX_MEMORY, &x);
	if (e == 0 && (x & PAGE_MASK) != 0)
		return machine_seterr(EINVAL, "%s: %s is not a multiple of the page size (%lu)", k, v, PAGE_SIZE);
	if (e == 0)
		c->mc_memory = x;
	return e;
}
static void memory_get(const struct machine_config *c, char *b, size_t n)
{
	if (c->mc_memory % (1ULL << 30) == 0)
		snprintf(b, n, "%" PRIu64 "G", c->mc_memory >> 30);
	else if (c->mc_memory % (1ULL << 20) == 0)
		snprintf(b, n, "%" PRIu64 "M", c->mc_memory >> 20);
	else
		snprintf(b, n, "%" PRIu64 "K", c->mc_memory >> 10);
}
static int pcid_set(struct machine_config *c, const char *k, const char *v)
{
	return parse_onoff(k, v, &c->mc_pcid);
}
static void pcid_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_pcid ? "on" : "off");
}
static int refmod_set(struct machine_config *c, const char *k, const char *v)
{
	if (v && !strcasecmp(v, "hardware"))
		c->mc_refmod = MMU_REFMOD_HARDWARE;
	else if (v && !strcasecmp(v, "software"))
		c->mc_refmod = MMU_REFMOD_SOFTWARE;
	else
		return machine_seterr(EINVAL, "%s: '%s' is not one of: hardware, software", k, v ? v : "");
	return 0;
}
static void refmod_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_refmod == MMU_REFMOD_SOFTWARE ? "software" : "hardware");
}
static int strategy_set(struct machine_config *c, const char *k, const char *v)
{
	char why[384];
	if (v == NULL || *v == '\0' || strlen(v) >= sizeof(c->mc_strategy))
		return machine_seterr(EINVAL, "%s: '%s' is not a strategy name", k, v ? v : "");
	if (strategy_check != NULL && !strategy_check(v, c->mc_sd_unsafe, why, sizeof(why)))
		return machine_seterr(EINVAL, "%s: %s", k, why);
	snprintf(c->mc_strategy, sizeof(c->mc_strategy), "%s", v);
	return 0;
}
static void strategy_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_strategy);
}

static int sdunsafe_set(struct machine_config *c, const char *k, const char *v)
{
	return parse_onoff(k, v, &c->mc_sd_unsafe);
}
static void sdunsafe_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_sd_unsafe ? "yes" : "no");
}

static int lockstat_set(struct machine_config *c, const char *k, const char *v)
{
	return parse_onoff(k, v, &c->mc_lockstat);
}
static void lockstat_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_lockstat ? "on" : "off");
}
static int lockunsafe_set(struct machine_config *c, const char *k, const char *v)
{
	return parse_onoff(k, v, &c->mc_locks_unsafe);
}
static void lockunsafe_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_locks_unsafe ? "yes" : "no");
}

static int pagecache_set(struct machine_config *c, const char *k, const char *v)
{
	if (v && !strcasecmp(v, "off"))
		c->mc_uvm_pagecache = UVM_PAGECACHE_OFF;
	else if (v && !strcasecmp(v, "percpu"))
		c->mc_uvm_pagecache = UVM_PAGECACHE_PERCPU;
	else
		return machine_seterr(EINVAL, "%s: '%s' is not one of: off, percpu", k, v ? v : "");
	return 0;
}
static void pagecache_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_uvm_pagecache == UVM_PAGECACHE_OFF ? "off" : "percpu");
}
U64_KEY(pagecache_pages, mc_uvm_pagecache_pages, 2, 4096)

static int poolpage_set(struct machine_config *c, const char *k, const char *v)
{
	if (v && !strcasecmp(v, "direct"))
		c->mc_kmem_poolpage = KMEM_POOLPAGE_DIRECT;
	else if (v && !strcasecmp(v, "vacache"))
		c->mc_kmem_poolpage = KMEM_POOLPAGE_VACACHE;
	else if (v && !strcasecmp(v, "plain"))
		c->mc_kmem_poolpage = KMEM_POOLPAGE_PLAIN;
	else
		return machine_seterr(EINVAL, "%s: '%s' is not one of: direct, vacache, plain", k, v ? v : "");
	return 0;
}
static void poolpage_get(const struct machine_config *c, char *b, size_t n)
{
	static const char *const names[] = {"direct", "vacache", "plain"};
	snprintf(b, n, "%s", names[c->mc_kmem_poolpage]);
}

static int kva_check(const char *k, uint64_t x)
{
	if (x > MACHINE_MAX_KVA)
		return machine_seterr(EINVAL,
		    "%s: %" PRIu64 "G is more kernel VA than the address space holds (%" PRIu64
		    "G from VM_MIN_KERNEL_ADDRESS to VM_MAX_KERNEL_ADDRESS)", k, x >> 30, MACHINE_MAX_KVA >> 30);
	if (x < (1ULL << 20) || (x & PAGE_MASK))
		return machine_seterr(EINVAL, "%s: %" PRIu64 " bytes is not a page multiple of at least 1M", k, x);
	return 0;
}
static int kva_set(struct machine_config *c, const char *k, const char *v)
{
	uint64_t x = 0;
	int e = machine_parse_size(k, v, 0, UINT64_MAX, &x);
	if (e == 0 && (e = kva_check(k, x)) == 0)
		c->mc_kmem_kva = x;
	return e;
}
static void kva_get(const struct machine_config *c, char *b, size_t n)
{
	if (c->mc_kmem_kva % (1ULL << 30) == 0)
		snprintf(b, n, "%" PRIu64 "G", c->mc_kmem_kva >> 30);
	else if (c->mc_kmem_kva % (1ULL << 20) == 0)
		snprintf(b, n, "%" PRIu64 "M", c->mc_kmem_kva >> 20);
	else
		snprintf(b, n, "%" PRIu64 "K", c->mc_kmem_kva >> 10);
}
static int vacache_set(struct machine_config *c, const char *k, const char *v)
{
	uint64_t x = 0;
	int e = parse_u64(k, v, 1, 1024, &x);
	if (e == 0 && (x & (x - 1)) != 0)
		return machine_seterr(EINVAL, "%s: %" PRIu64 " is not a power of two", k, x);
	if (e == 0)
		c->mc_kmem_vacache_pages = (unsigned)x;
	return e;
}
static void vacache_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%u", c->mc_kmem_vacache_pages);
}
static int steal_set(struct machine_config *c, const char *k, const char *v)
{
	uint64_t x = 0;
	int e = machine_parse_size(k, v, 0, MACHINE_MAX_MEMORY, &x);
	if (e == 0)
		c->mc_kmem_steal = x;
	return e;
}
static void steal_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%" PRIu64 "K", c->mc_kmem_steal >> 10);
}

static int stats_set(struct machine_config *c, const char *k, const char *v)
{
	return parse_onoff(k, v, &c->mc_stats);
}
static void stats_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_stats ? "on" : "off");
}

/* ---- topology and NUMA (core/topo does the parsing; the host is asked) ---- */

static int topology_set(struct machine_config *c, const char *k, const char *v)
{
	char why[768];
	if (v == NULL || strlen(v) >= sizeof(c->mc_topology))
		return machine_seterr(EINVAL, "%s: too long (at most %zu characters)", k, sizeof(c->mc_topology) - 1);
	if (!strcmp(v, "host"))
		v = "";
	if (*v != '\0') {
		struct topo *t = topo_open(v, why, sizeof(why));
		if (t == NULL)
			return machine_seterr(EINVAL, "%s", why);
		topo_close(t);
	}
	snprintf(c->mc_topology, sizeof(c->mc_topology), "%s", v);
	return 0;
}
static void topology_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_topology[0] ? c->mc_topology : "host");
}
static int placement_set(struct machine_config *c, const char *k, const char *v)
{
	char why[512];
	if (v == NULL || strlen(v) >= sizeof(c->mc_placement))
		return machine_seterr(EINVAL, "%s: too long (at most %zu characters)", k, sizeof(c->mc_placement) - 1);
	if (topo_placement_check(v, why, sizeof(why)) != 0)
		return machine_seterr(EINVAL, "%s", why);
	snprintf(c->mc_placement, sizeof(c->mc_placement), "%s", v);
	return 0;
}
static void placement_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_placement);
}
static int numa_check(const char *spec)
{
	char why[384];
	struct topo_numa tn;
	if (topo_numa_parse(spec, &tn, why, sizeof(why)) != 0 ||
	    topo_numa_resolve(&tn, topo_host_numa_nodes(), why, sizeof(why)) != 0)
		return machine_seterr(EINVAL, "%s", why);
	return 0;
}
static int numa_set(struct machine_config *c, const char *k, const char *v)
{
	int e = numa_check(v);
	if (e == 0)
		snprintf(c->mc_numa, sizeof(c->mc_numa), "%s", v);
	return e;
}
static void numa_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_numa);
}
/* "20 60 200": delays of hop levels 1, 2, 3 (and beyond); "0" or "none": none */
static int distance_set(struct machine_config *c, const char *k, const char *v)
{
	uint64_t d[MACHINE_MAX_HOPS];
	unsigned n = 0;
	const char *p = v ? v : "";
	if (!strcmp(p, "none")) {
		c->mc_ipi_ndistance = 0;
		return 0;
	}
	while (*p != '\0') {
		char *end;
		while (*p == ' ' || *p == '/')
			p++;
		if (*p == '\0')
			break;
		if (!isdigit((unsigned char)*p))
			return machine_seterr(EINVAL, "%s: '%s' is not a list of nanoseconds per hop level (\"20 60 200\")", k, v);
		unsigned long long x = strtoull(p, &end, 10);
		if (x > 1000000000ULL || n == MACHINE_MAX_HOPS)
			return machine_seterr(EINVAL, "%s: '%s': at most %d values in [0, 1000000000]", k, v, MACHINE_MAX_HOPS);
		d[n++] = x;
		p = end;
		if (*p != '\0' && *p != ' ' && *p != '/')
			return machine_seterr(EINVAL, "%s: '%s' is not a list of nanoseconds per hop level (\"20 60 200\")", k, v);
	}
	if (n == 0)
		return machine_seterr(EINVAL, "%s: '%s' is not a list of nanoseconds per hop level (\"20 60 200\")", k, v ? v : "");
	/* "0" alone: no distance delays */
	c->mc_ipi_ndistance = (n == 1 && d[0] == 0) ? 0 : n;
	memcpy(c->mc_ipi_distance_ns, d, sizeof(d[0]) * n);
	return 0;
}
static void distance_get(const struct machine_config *c, char *b, size_t n)
{
	size_t o = 0;
	if (c->mc_ipi_ndistance == 0)
		snprintf(b, n, "0");
	for (unsigned i = 0; i < c->mc_ipi_ndistance && o < n; i++)
		o += (size_t)snprintf(b + o, n - o, "%s%" PRIu64, i ? " " : "", c->mc_ipi_distance_ns[i]);
}
static int preset_set(struct machine_config *c, const char *k, const char *v)
{
	if (v && !strcasecmp(v, "manual"))
		c->mc_ipi_preset = IPI_PRESET_MANUAL;
	else if (v && !strcasecmp(v, "calibrated"))
		c->mc_ipi_preset = IPI_PRESET_CALIBRATED;
	else
		return machine_seterr(EINVAL, "%s: '%s' is not one of: manual, calibrated", k, v ? v : "");
	return 0;
}
static void preset_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_ipi_preset == IPI_PRESET_CALIBRATED ? "calibrated" : "manual");
}
static int calibration_set(struct machine_config *c, const char *k, const char *v)
{
	bool text = v != NULL && v[strspn(v, " \t")] != '\0';
	for (const char *p = v; text && *p != '\0'; p++)
		text = (unsigned char)*p >= 0x20 && *p != 0x7f;
	if (!text || strlen(v) >= sizeof(c->mc_ipi_calibration))
		return machine_seterr(EINVAL, "%s: '%s' is not a file path (printable, at most %zu characters)", k,
		    v ? v : "", sizeof(c->mc_ipi_calibration) - 1);
	snprintf(c->mc_ipi_calibration, sizeof(c->mc_ipi_calibration), "%s", v);
	return 0;
}
static void calibration_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_ipi_calibration);
}
/* ---- check.*, inject.*, watchdog.* (pmapstorm/check.h) ---- */
static int check_set(struct machine_config *c, const char *k, const char *v)
{
	return parse_onoff(k, v, &c->mc_check);
}
static void check_get(const struct machine_config *c, char *b, size_t n)
{
	snprintf(b, n, "%s", c->mc_check ? "on" : "off");
}
static int oracles_set(struct machine_config *c, const char *k, const char *v)
{
	char why[256];
	unsigned mask;
	if (check_oracles_parse(v, &mask, why, sizeof(why)) != 0)
		return machine_seterr(EINVAL, "%s: %s", k, why);
	c->mc_check_oracles = mask;
	return 0;
}
/* A bit mask as "all" or a comma list: names from name(), or the bit numbers. */
static void mask_get(char *b, size_t n, uint64_t mask, uint64_t all, unsigned nbits, const char *(*name)(enum check_oracle))
{
	size_t o = 0;
	if (mask == all) {
		snprintf(b, n, "all");
		return;
	}
	b[0] = '\0';
	for (unsigned i = 0; i < nbits && o < n; i++)
		if (mask >> i & 1) {
			if (name != NULL)
				o += (size_t)snprintf(b + o, n - o, "%s%s", o ? "," : "", name((enum check_oracle)i));
			else
				o += (size_t)snprintf(b + o, n - o, "%s%u", o ? "," : "", i);
		}
}
static void oracles_get(const struct machine_config *c, char *b, size_t n)
{
	mask_get(b, n, c->mc_check_oracles, CHK_ALL, CHK_NORACLES, check_oracle_name);
}
/* a CPU list: "all", or comma-separated CPU numbers below 64 */
static int cpumask_set(struct machine_config *c, const char *k, const char *v)
{
	if (v != NULL && !strcasecmp(v, "all")) {
		c->mc_inject_ipi_cpus = UINT64_MAX;
		return 0;
	}
	uint64_t mask = 0;
	const char *p = v;
	while (p != NULL && *p != '\0') {
		char *end;
		if (!isdigit((unsigned char)*p))
			break;
		unsigned long x = strtoul(p, &end, 10);
		if (x >= 64)
			return machine_seterr(EINVAL, "%s: CPU %lu is out of range [0, 63]", k, x);
		mask |= 1ULL << x;
		p = end;
		while (*p == ' ')
			p++;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			break;
	}
	if (v == NULL || *v == '\0' || (p != NULL && *p != '\0'))
		return machine_seterr(EINVAL, "%s: '%s' is not 'all' or a list of CPU numbers (0,2,3)", k, v ? v : "");
	c->mc_inject_ipi_cpus = mask;
	return 0;
}
static void cpumask_get(const struct machine_config *c, char *b, size_t n)
{
	mask_get(b, n, c->mc_inject_ipi_cpus, UINT64_MAX, 64, NULL);
}
U64_KEY(inject_seed, mc_inject_seed, 0, UINT64_MAX)
U64_KEY(inject_ipi_delay, mc_inject_ipi_delay_us, 0, 1000000)
U64_KEY(inject_yield, mc_inject_yield, 0, 1000)
U64_KEY(inject_spl, mc_inject_spl, 0, 1000)
U64_KEY(inject_spl_us, mc_inject_spl_us, 1, 1000000)
U64_KEY(inject_allocfail, mc_inject_allocfail, 0, 1000)
U64_KEY(inject_pressure, mc_inject_pressure, 0, 90)
U64_KEY(watchdog, mc_watchdog_s, 0, 86400)

static const struct cfg_key cfg_keys[] = {
	{"machine.cpus", cpus_set, cpus_get},
	{"machine.memory", memory_set, memory_get},
	{"machine.spin", spin_set, spin_get},
	{"machine.topology", topology_set, topology_get},
	{"machine.placement", placement_set, placement_get},
	{"machine.numa", numa_set, numa_get},
	{"tlb.entries", tlb_entries_set, tlb_entries_get},
	{"tlb.ways", tlb_ways_set, tlb_ways_get},
	{"mmu.pcid", pcid_set, pcid_get},
	{"mmu.refmod", refmod_set, refmod_get},
	{"machine.tick_us", tick_us_set, tick_us_get},
	{"shootdown.strategy", strategy_set, strategy_get},
	{"shootdown.allow_unsafe", sdunsafe_set, sdunsafe_get},
	{"shootdown.batch", sd_batch_set, sd_batch_get},
	{"shootdown.linux_ceiling", sd_linux_ceiling_set, sd_linux_ceiling_get},
	{"shootdown.freebsd_threshold", sd_freebsd_threshold_set, sd_freebsd_threshold_get},
	{"shootdown.latr_ring", sd_latr_ring_set, sd_latr_ring_get},
	{"shootdown.broadcast_max", sd_broadcast_max_set, sd_broadcast_max_get},
	{"shootdown.hier_group", sd_hier_group_set, sd_hier_group_get},
	{"ipi.send_ns", ipi_send_set, ipi_send_get},
	{"ipi.handler_ns", ipi_handler_set, ipi_handler_get},
	{"ipi.distance_ns", distance_set, distance_get},
	{"ipi.preset", preset_set, preset_get},
	{"ipi.calibration", calibration_set, calibration_get},
	{"locks.pmap", lockalgo_set, lockalgo_get_LC_PMAP},
	{"locks.pv", lockalgo_set, lockalgo_get_LC_PV},
	{"locks.pmaps", lockalgo_set, lockalgo_get_LC_PMAPS},
	{"locks.pagefree", lockalgo_set, lockalgo_get_LC_PAGEFREE},
	{"locks.tlb_packet", lockalgo_set, lockalgo_get_LC_TLB_PACKET},
	{"locks.kernel_map", lockalgo_set, lockalgo_get_LC_KERNEL_MAP},
	{"locks.pool", lockalgo_set, lockalgo_get_LC_POOL},
	{"locks.wait", lockwait_set, lockwait_get},
	{"locks.lockstat", lockstat_set, lockstat_get},
	{"locks.allow_unsafe", lockunsafe_set, lockunsafe_get},
	{"stats.enabled", stats_set, stats_get},
	{"uvm.pagecache", pagecache_set, pagecache_get},
	{"uvm.pagecache_pages", pagecache_pages_set, pagecache_pages_get},
	{"kmem.poolpage", poolpage_set, poolpage_get},
	{"kmem.kva", kva_set, kva_get},
	{"kmem.vacache_pages", vacache_set, vacache_get},
	{"kmem.steal", steal_set, steal_get},
	{"check.enabled", check_set, check_get},
	{"check.oracles", oracles_set, oracles_get},
	{"inject.seed", inject_seed_set, inject_seed_get},
	{"inject.ipi_delay_us", inject_ipi_delay_set, inject_ipi_delay_get},
	{"inject.ipi_delay_cpus", cpumask_set, cpumask_get},
	{"inject.yield", inject_yield_set, inject_yield_get},
	{"inject.spl", inject_spl_set, inject_spl_get},
	{"inject.spl_us", inject_spl_us_set, inject_spl_us_get},
	{"inject.allocfail", inject_allocfail_set, inject_allocfail_get},
	{"inject.pressure", inject_pressure_set, inject_pressure_get},
	{"watchdog.seconds", watchdog_set, watchdog_get},
};
#define NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

void machine_config_init(struct machine_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mc_ncpu = 4;
	c->mc_memory = 64ULL << 20;
	c->mc_tlb_entries = 64;
	c->mc_tlb_ways = 4;
	c->mc_pcid = true;
	c->mc_refmod = MMU_REFMOD_HARDWARE;
	snprintf(c->mc_strategy, sizeof(c->mc_strategy), "netbsd-x86");
	c->mc_spin_before_yield = 64;
	c->mc_lockstat = true;
	c->mc_stats = true;
	c->mc_uvm_pagecache = UVM_PAGECACHE_PERCPU;
	c->mc_uvm_pagecache_pages = 64;
	c->mc_kmem_poolpage = KMEM_POOLPAGE_DIRECT;
	c->mc_kmem_kva = 64ULL << 30;
	c->mc_kmem_vacache_pages = 32;
	c->mc_kmem_steal = 0;
	c->mc_tick_us = 1000; /* HZ = 1000 */
	c->mc_sd_batch = 16;            /* NetBSD x86_tlb.c TP_MAXVA */
	c->mc_sd_linux_ceiling = 33;    /* Linux tlb_single_page_flush_ceiling */
	c->mc_sd_freebsd_threshold = 4096; /* FreeBSD PMAP_INVLPG_THRESHOLD, in pages */
	c->mc_sd_latr_ring = 256;       /* LATR: lazy entries per CPU */
	c->mc_sd_broadcast_max = 512;   /* Linux arm64 MAX_DVM_OPS (PTRS_PER_PTE) */
	c->mc_sd_hier_group = 0;
	snprintf(c->mc_placement, sizeof(c->mc_placement), "compact");
	snprintf(c->mc_numa, sizeof(c->mc_numa), "interleave");
	c->mc_ipi_preset = IPI_PRESET_MANUAL;
	snprintf(c->mc_ipi_calibration, sizeof(c->mc_ipi_calibration), "results/calibration.json");
	c->mc_check_oracles = CHK_ALL;
	c->mc_inject_seed = 1;
	c->mc_inject_ipi_cpus = UINT64_MAX;
	c->mc_inject_spl_us = 50;
	c->mc_watchdog_s = 60;
	engine_config_init(c);
}

int machine_config_set(struct machine_config *c, const char *key, const char *value)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(cfg_keys[i].ck_name, key) == 0)
			return cfg_keys[i].ck_set(c, key, value);
	int e = engine_config_set(c, key, value); /* engine.c's own table */
	return e != ENOENT ? e : machine_seterr(ENOENT, "%s: unknown key", key);
}

int machine_config_get(const struct machine_config *c, const char *key, char *buf, size_t len)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(cfg_keys[i].ck_name, key) == 0) {
			cfg_keys[i].ck_get(c, buf, len);
			return 0;
		}
	return engine_config_get(c, key, buf, len) == 0 ? 0 : machine_seterr(ENOENT, "%s: unknown key", key);
}

const char *const *machine_config_keys(void)
{
	static const char *names[NKEYS + 2 * MACHINE_MAX_COSTS + 1];
	size_t n = 0;
	for (size_t i = 0; i < NKEYS; i++)
		names[n++] = cfg_keys[i].ck_name;
	for (unsigned i = 0; engine_config_key(i) != NULL; i++)
		names[n++] = engine_config_key(i);
	names[n] = NULL;
	return names;
}

/* Checks a whole config (fields may have been set directly). */
static int config_validate(const struct machine_config *c)
{
	if (c->mc_ncpu == 0 || c->mc_ncpu > MAXCPUS)
		return machine_seterr(EINVAL, "machine.cpus: %u is out of range [1, %d]", c->mc_ncpu, MAXCPUS);
	if (c->mc_memory < MACHINE_MIN_MEMORY || c->mc_memory > MACHINE_MAX_MEMORY || (c->mc_memory & PAGE_MASK))
		return machine_seterr(EINVAL, "machine.memory: %" PRIu64 " bytes is not a page multiple in [1M, 64G]",
		    c->mc_memory);
	if (c->mc_tlb_ways == 0 || c->mc_tlb_ways > 64)
		return machine_seterr(EINVAL, "tlb.ways: %u is out of range [1, 64]", c->mc_tlb_ways);
	if (c->mc_tlb_entries == 0 || c->mc_tlb_entries > MACHINE_MAX_TLB_ENTRIES || c->mc_tlb_entries % c->mc_tlb_ways != 0)
		return machine_seterr(EINVAL, "tlb.entries: %u is not a multiple of tlb.ways (%u) in [1, %d]",
		    c->mc_tlb_entries, c->mc_tlb_ways, MACHINE_MAX_TLB_ENTRIES);
	/* enums an embedder may have set directly */
	if (c->mc_refmod != MMU_REFMOD_HARDWARE && c->mc_refmod != MMU_REFMOD_SOFTWARE)
		return machine_seterr(EINVAL, "mmu.refmod: %d is not hardware or software", (int)c->mc_refmod);
	if (c->mc_lock_wait != LOCK_WAIT_SPIN_YIELD && c->mc_lock_wait != LOCK_WAIT_SPIN)
		return machine_seterr(EINVAL, "locks.wait: %d is not spin-yield or spin", (int)c->mc_lock_wait);
	if (c->mc_sd_hier_group > MAXCPUS)
		return machine_seterr(EINVAL, "shootdown.hier_group: %u is out of range [0, %d]", c->mc_sd_hier_group, MAXCPUS);
	unsigned sets = c->mc_tlb_entries / c->mc_tlb_ways;
	if ((sets & (sets - 1)) != 0)
		return machine_seterr(EINVAL, "tlb.entries: %u / tlb.ways %u = %u sets, not a power of two",
		    c->mc_tlb_entries, c->mc_tlb_ways, sets);
	char why[384];
	if (strategy_check != NULL && !strategy_check(c->mc_strategy, c->mc_sd_unsafe, why, sizeof(why)))
		return machine_seterr(EINVAL, "shootdown.strategy: %s", why);
	if (c->mc_tick_us == 0)
		return machine_seterr(EINVAL, "machine.tick_us: 0 is out of range [1, 10000000]");
	if (c->mc_sd_batch == 0 || c->mc_sd_batch > SD_MAX_BATCH)
		return machine_seterr(EINVAL, "shootdown.batch: %u is out of range [1, %d]", c->mc_sd_batch, SD_MAX_BATCH);
	if (c->mc_sd_linux_ceiling == 0 || c->mc_sd_linux_ceiling > SD_MAX_BATCH)
		return machine_seterr(EINVAL, "shootdown.linux_ceiling: %u is out of range [1, %d]",
		    c->mc_sd_linux_ceiling, SD_MAX_BATCH);
	if (c->mc_sd_freebsd_threshold == 0)
		return machine_seterr(EINVAL, "shootdown.freebsd_threshold: 0 is out of range [1, %u]", 1U << 27);
	if (c->mc_sd_latr_ring < 2 || c->mc_sd_latr_ring > 65536)
		return machine_seterr(EINVAL, "shootdown.latr_ring: %u is out of range [2, 65536]", c->mc_sd_latr_ring);
	if (c->mc_sd_broadcast_max == 0 || c->mc_sd_broadcast_max > SD_MAX_BATCH)
		return machine_seterr(EINVAL, "shootdown.broadcast_max: %u is out of range [1, %d]",
		    c->mc_sd_broadcast_max, SD_MAX_BATCH);
	for (int cls = 0; cls < LC_NCLASS; cls++)
		if (c->mc_locks[cls][0] != '\0' &&
		    !lock_algo_check((lock_class_t)cls, c->mc_locks[cls], c->mc_locks_unsafe, why, sizeof(why)))
			return machine_seterr(EINVAL, "locks.%s: %s", lock_class_name((lock_class_t)cls), why);
	if (c->mc_uvm_pagecache != UVM_PAGECACHE_OFF && c->mc_uvm_pagecache != UVM_PAGECACHE_PERCPU)
		return machine_seterr(EINVAL, "uvm.pagecache: %d is not off or percpu", (int)c->mc_uvm_pagecache);
	if (c->mc_uvm_pagecache_pages < 2 || c->mc_uvm_pagecache_pages > 4096)
		return machine_seterr(EINVAL, "uvm.pagecache_pages: %u is out of range [2, 4096]",
		    c->mc_uvm_pagecache_pages);
	if ((unsigned)c->mc_kmem_poolpage > KMEM_POOLPAGE_PLAIN)
		return machine_seterr(EINVAL, "kmem.poolpage: %d is not direct, vacache or plain", (int)c->mc_kmem_poolpage);
	if ((c->mc_check_oracles & ~(unsigned)CHK_ALL) != 0 || c->mc_inject_yield > 1000 || c->mc_inject_spl > 1000 ||
	    c->mc_inject_allocfail > 1000 || c->mc_inject_pressure > 90)
		return machine_seterr(EINVAL, "check.oracles / inject.*: a value out of range (set them with machine_config_set)");
	int e = kva_check("kmem.kva", c->mc_kmem_kva);
	if (e != 0)
		return e;
	unsigned vp = c->mc_kmem_vacache_pages;
	if (vp == 0 || vp > 1024 || (vp & (vp - 1)) != 0)
		return machine_seterr(EINVAL, "kmem.vacache_pages: %u is not a power of two in [1, 1024]", vp);
	if (ptoa((uint64_t)vp) * 4 > c->mc_kmem_kva)
		return machine_seterr(EINVAL, "kmem.vacache_pages: %u pages of VA chunk do not fit four times in kmem.kva",
		    vp);
	if (round_page(c->mc_kmem_steal) >= c->mc_memory / 2 || round_page(c->mc_kmem_steal) >= c->mc_kmem_kva / 2)
		return machine_seterr(EINVAL, "kmem.steal: %" PRIu64 " bytes is not less than half of machine.memory "
		    "and of kmem.kva", c->mc_kmem_steal);
	if (c->mc_ipi_ndistance > MACHINE_MAX_HOPS)
		return machine_seterr(EINVAL, "ipi.distance_ns: %u values, at most %d", c->mc_ipi_ndistance, MACHINE_MAX_HOPS);
	if (c->mc_ipi_preset != IPI_PRESET_MANUAL && c->mc_ipi_preset != IPI_PRESET_CALIBRATED)
		return machine_seterr(EINVAL, "ipi.preset: %d is not manual or calibrated", (int)c->mc_ipi_preset);
	if ((e = numa_check(c->mc_numa)) != 0)
		return e;
	if ((e = engine_config_validate(c)) != 0)
		return e;
	/* the placement against the topology: a list may name PUs it lacks */
	struct topo *t = machine_config_topo(c);
	if (t == NULL)
		return errno;
	topo_close(t);
	return 0;
}

struct topo *machine_config_topo(const struct machine_config *c)
{
	char why[768];
	struct topo *t = topo_open(c->mc_topology, why, sizeof(why));
	if (t == NULL) {
		/* EINVAL: bad input; ENOMEM, ENOSYS: hwloc or the host failed */
		errno = machine_seterr(errno ? errno : EINVAL, "%s", why);
		return NULL;
	}
	int e = topo_place(t, c->mc_placement, c->mc_ncpu, why, sizeof(why));
	if (e != 0) {
		topo_close(t);
		errno = machine_seterr(e, "%s", why);
		return NULL;
	}
	return t;
}

int machine_config_check(const struct machine_config *c)
{
	errbuf[0] = '\0';
	return config_validate(c);
}

/*
 * ipi.distance_ns: the modelled delay of an IPI from a to b, by the hop
 * level between their PUs in the model topology (topo_hops); levels past
 * the last value take the last value, the same PU takes none.
 */
static int ipi_distance_init(struct machine *m)
{
	const struct machine_config *c = &m->m_cfg;
	unsigned n = m->m_ncpu;
	if ((m->m_ipi_dist = mem_zalloc(uint32_t, (size_t)n * n)) == NULL)
		return machine_seterr(ENOMEM, "ipi.distance_ns: no host memory for %u x %u delays", n, n);
	for (unsigned a = 0; a < n; a++)
		for (unsigned b = 0; b < n; b++) {
			unsigned h = topo_hops(m->m_topo, a, b);
			if (h > c->mc_ipi_ndistance)
				h = c->mc_ipi_ndistance;
			m->m_ipi_dist[a * n + b] = h == 0 ? 0 : (uint32_t)c->mc_ipi_distance_ns[h - 1];
		}
	return 0;
}

struct machine *machine_boot(const struct machine_config *cfg)
{
	int err;
	errbuf[0] = '\0';
	if (machine_cur != NULL) {
		machine_seterr(EBUSY, "machine_boot: a machine is already running (one per process)");
		return NULL;
	}
	if ((err = config_validate(cfg)) != 0)
		return NULL;
	if (hooks.mh_boot == NULL) {
		machine_seterr(ENOSYS, "machine_boot: the pmap layer is not linked in (link with -Wl,-u,pmap_init)");
		return NULL;
	}
	struct machine *m = mem_zalloc(struct machine, 1);
	if (m == NULL) {
		machine_seterr(ENOMEM, "machine_boot: out of host memory");
		return NULL;
	}
	m->m_cfg = *cfg;
	m->m_ncpu = cfg->mc_ncpu;
	m->m_hooks = hooks;
	m->m_uvm_hooks = uvm_hooks;
	machine_cur = m;
	sync_set_wait(cpu_spin_wait, cpu_spin_pause);
	sync_set_clock(cpu_now_ns);
	stats_enable(cfg->mc_stats);
	/* before the first lock is made: every lock takes its class's algorithm */
	lock_configure((const char(*)[LOCK_ALGO_NAMELEN])cfg->mc_locks, cfg->mc_lock_wait, cfg->mc_lockstat,
	    cfg->mc_locks_unsafe);
	/* where the CPUs sit (hwloc) and where memory goes (libnuma) */
	if ((m->m_topo = machine_config_topo(cfg)) == NULL) {
		err = errno;
		goto fail;
	}
	topo_current_set(m->m_topo);
	char why[384];
	if (topo_numa_parse(cfg->mc_numa, &m->m_numa_plan, why, sizeof(why)) != 0 ||
	    topo_numa_resolve(&m->m_numa_plan, topo_host_numa_nodes(), why, sizeof(why)) != 0) {
		err = machine_seterr(EINVAL, "%s", why);
		goto fail;
	}
	if (cfg->mc_ipi_ndistance > 0 && (err = ipi_distance_init(m)) != 0)
		goto fail;
	if ((err = phys_init(m)) != 0)
		goto fail;
	/* the CPUs' own structures on their local nodes: each cpu_info (the
	 * IPI mailbox) by its pages — placed before the first touch, so a
	 * page shared by CPUs of two nodes goes to the later one — the TLB
	 * entries, and (where the allocator takes fresh pages) the
	 * statistics block */
	/* topo_mem_alloc_node() gives whole host pages: enough for the
	 * cache-line aligned cpu_info (pmapstorm/alloc.h says why it matters) */
	_Static_assert(_Alignof(struct cpu_info) <= PAGE_SIZE, "cpu_info is aligned beyond a page");
	m->m_cpus_bytes = round_page(sizeof(struct cpu_info) * m->m_ncpu);
	if ((m->m_cpus = topo_mem_alloc_node(-1, m->m_cpus_bytes)) == NULL) {
		err = machine_seterr(ENOMEM, "machine.cpus: no host memory for %u CPUs", m->m_ncpu);
		goto fail;
	}
	for (unsigned i = 0; i < m->m_ncpu; i++) {
		uintptr_t a = trunc_page((uintptr_t)&m->m_cpus[i]), b = round_page((uintptr_t)&m->m_cpus[i + 1]);
		topo_mem_to_node((void *)a, b - a, topo_cpu_node(m->m_topo, i));
	}
	memset(m->m_cpus, 0, sizeof(struct cpu_info) * m->m_ncpu);
	kcpuset_zero(&m->m_attached);
	for (unsigned i = 0; i < m->m_ncpu; i++) {
		struct cpu_info *ci = &m->m_cpus[i];
		int node = topo_cpu_node(m->m_topo, i);
		ci->ci_cpuid = i;
		struct topo_mempol pol;
		topo_mem_prefer(node, &pol);
		ci->ci_stats = stats_block_create((int)i);
		topo_mem_restore(&pol);
		if (tlb_init(&ci->ci_tlb, cfg->mc_tlb_entries, cfg->mc_tlb_ways, node) != 0 || ci->ci_stats == NULL) {
			err = machine_seterr(ENOMEM, "tlb.entries: no host memory for the TLBs");
			goto fail;
		}
		m->m_tlb_bytes += (uint64_t)cfg->mc_tlb_entries * sizeof(struct tlb_entry);
		/* the CPUs that share its host PU: a wait yields only to them
		 * (cpu_spin_turn); an unknown PU is shared with every CPU */
		kcpuset_zero(&ci->ci_pu_peers);
		int pu = topo_pu_of(i);
		for (unsigned j = 0; j < m->m_ncpu; j++)
			if (j != i && (pu < 0 || topo_pu_of(j) == pu))
				kcpuset_atomic_set(&ci->ci_pu_peers, j);
	}
	if ((err = m->m_hooks.mh_boot(m)) != 0)
		goto fail;
	m->m_pmap_booted = true;
	if (m->m_uvm_hooks.mu_boot != NULL && (err = m->m_uvm_hooks.mu_boot(m)) != 0)
		goto fail;
	/* the engine before the watchdog: its thread reads engine_on (the
	 * clock of its dump), written here once, before that thread exists */
	if ((err = engine_boot(m)) != 0)
		goto fail;
	if ((err = check_boot(m)) != 0)
		goto fail;
	return m;
fail:
	machine_halt(m);
	errno = err;
	return NULL;
}

void machine_halt(struct machine *m)
{
	if (m == NULL)
		return;
	for (unsigned i = 0; m->m_cpus != NULL && i < m->m_ncpu; i++)
		KASSERTMSG(!cpu_is_attached(&m->m_cpus[i]), "machine_halt with CPU %u attached", i);
	check_halt(m);
	engine_halt(m);
	/* let every deferred free (call_rcu) finish before memory goes away */
	sync_rcu_barrier();
	/* the uvm layer first (its halt is safe after a failed boot) */
	if (m->m_uvm_hooks.mu_halt != NULL && m->m_pmap_booted)
		m->m_uvm_hooks.mu_halt(m);
	if (m->m_hooks.mh_halt != NULL && m->m_cpus != NULL)
		m->m_hooks.mh_halt(m);
	for (unsigned i = 0; m->m_cpus != NULL && i < m->m_ncpu; i++) {
		tlb_fini(&m->m_cpus[i].ci_tlb);
		stats_block_destroy(m->m_cpus[i].ci_stats);
	}
	topo_mem_free_node(m->m_cpus, m->m_cpus_bytes);
	phys_fini(m);
	free(m->m_ipi_dist);
	topo_current_set(NULL);
	topo_close(m->m_topo);
	sync_set_wait(NULL, NULL);
	sync_set_clock(NULL);
	stats_enable(true);
	machine_cur = NULL;
	free(m);
}

const struct machine_config *machine_config_of(const struct machine *m)
{
	return &m->m_cfg;
}

unsigned machine_ncpu(const struct machine *m)
{
	return m->m_ncpu;
}

uint64_t machine_phys_pages(const struct machine *m)
{
	return m->m_npages;
}

uint64_t machine_metadata_bytes(const struct machine *m)
{
	return ptoa(atomic_load(&((struct machine *)m)->m_ptp_pages)) + m->m_tlb_bytes;
}

void *machine_phys(paddr_t pa)
{
	struct machine *m = machine_cur;
	if (m == NULL || pa >= ptoa(m->m_npages))
		return NULL;
	return m->m_phys + pa;
}

_Noreturn void panic(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "pmapstorm: panic: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}
