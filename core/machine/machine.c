/*
 * machine.c — the machine's configuration keys, boot and halt of the
 * simulated hardware.
 *
 * The machine declares its own keys in machine_keys[] (values in fields of
 * struct machine_config); every other component declares its own in its own
 * file, and core/boot.c lists the tables (docs/architecture.md,
 * "Configuration keys").  machine_hw_boot() allocates physical memory
 * (phys.c), the CPUs and their TLBs and places them (core/topo);
 * core/boot.c's machine_boot() calls it first, then boots the pmap and the
 * uvm layer above it, and machine_hw_halt() last.
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

/* ---- the machine's own keys ---- */

static int memory_check(const struct cfg_key *k, const struct machine_config *c, uint64_t x)
{
	(void)c;
	if ((x & PAGE_MASK) != 0)
		return machine_seterr(EINVAL, "%s: %" PRIu64 " bytes is not a multiple of the page size (%lu)", k->ck_name,
		    x, PAGE_SIZE);
	return 0;
}

/* tlb.entries / tlb.ways sets, a power of two (checked on the whole config) */
static int tlb_check(const struct machine_config *c)
{
	unsigned sets = c->mc_tlb_entries / c->mc_tlb_ways;
	if (c->mc_tlb_entries % c->mc_tlb_ways != 0 || (sets & (sets - 1)) != 0)
		return machine_seterr(EINVAL, "tlb.entries: %u / tlb.ways %u is not a power-of-two number of sets",
		    c->mc_tlb_entries, c->mc_tlb_ways);
	return 0;
}

/* ---- topology and NUMA (core/topo does the parsing; the host is asked) ---- */

static int topology_set(const struct cfg_key *ck, struct machine_config *c, const char *v)
{
	const char *k = ck->ck_name;
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
static void topology_get(const struct cfg_key *ck, const struct machine_config *c, char *b, size_t n)
{
	(void)ck;
	snprintf(b, n, "%s", c->mc_topology[0] ? c->mc_topology : "host");
}
static int placement_set(const struct cfg_key *ck, struct machine_config *c, const char *v)
{
	const char *k = ck->ck_name;
	char why[512];
	if (v == NULL || strlen(v) >= sizeof(c->mc_placement))
		return machine_seterr(EINVAL, "%s: too long (at most %zu characters)", k, sizeof(c->mc_placement) - 1);
	if (topo_placement_check(v, why, sizeof(why)) != 0)
		return machine_seterr(EINVAL, "%s", why);
	snprintf(c->mc_placement, sizeof(c->mc_placement), "%s", v);
	return 0;
}
static void placement_get(const struct cfg_key *ck, const struct machine_config *c, char *b, size_t n)
{
	(void)ck;
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
static int numa_set(const struct cfg_key *ck, struct machine_config *c, const char *v)
{
	(void)ck;
	int e = numa_check(v);
	if (e == 0)
		snprintf(c->mc_numa, sizeof(c->mc_numa), "%s", v);
	return e;
}
static void numa_get(const struct cfg_key *ck, const struct machine_config *c, char *b, size_t n)
{
	(void)ck;
	snprintf(b, n, "%s", c->mc_numa);
}
/* "20 60 200": delays of hop levels 1, 2, 3 (and beyond); "0" or "none": none */
static int distance_set(const struct cfg_key *ck, struct machine_config *c, const char *v)
{
	const char *k = ck->ck_name;
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
static void distance_get(const struct cfg_key *ck, const struct machine_config *c, char *b, size_t n)
{
	(void)ck;
	size_t o = 0;
	if (c->mc_ipi_ndistance == 0)
		snprintf(b, n, "0");
	for (unsigned i = 0; i < c->mc_ipi_ndistance && o < n; i++)
		o += (size_t)snprintf(b + o, n - o, "%s%" PRIu64, i ? " " : "", c->mc_ipi_distance_ns[i]);
}
static int calibration_set(const struct cfg_key *ck, struct machine_config *c, const char *v)
{
	const char *k = ck->ck_name;
	bool text = v != NULL && v[strspn(v, " \t")] != '\0';
	for (const char *p = v; text && *p != '\0'; p++)
		text = (unsigned char)*p >= 0x20 && *p != 0x7f;
	if (!text || strlen(v) >= sizeof(c->mc_ipi_calibration))
		return machine_seterr(EINVAL, "%s: '%s' is not a file path (printable, at most %zu characters)", k,
		    v ? v : "", sizeof(c->mc_ipi_calibration) - 1);
	snprintf(c->mc_ipi_calibration, sizeof(c->mc_ipi_calibration), "%s", v);
	return 0;
}
static void calibration_get(const struct cfg_key *ck, const struct machine_config *c, char *b, size_t n)
{
	(void)ck;
	snprintf(b, n, "%s", c->mc_ipi_calibration);
}

static const char *const refmod_values[] = {"hardware", "software", NULL};
static const char *const preset_values[] = {"manual", "calibrated", NULL};

const struct cfg_key machine_keys[] = {
	CFG_KEY("machine.cpus", CFG_UINT, 1, MAXCPUS, NULL, "4",
	    "simulated CPUs (1–256); they may outnumber host cores", CFG_FIELD(mc_ncpu)),
	CFG_KEY("machine.memory", CFG_SIZE, MACHINE_MIN_MEMORY, MACHINE_MAX_MEMORY, NULL, "64M",
	    "simulated physical memory: bytes with an optional K, M or G suffix (1M–64G, whole pages)",
	    CFG_FIELD(mc_memory), .ck_check = memory_check),
	CFG_KEY("machine.spin", CFG_UINT, 0, 1000000, NULL, "64",
	    "pause turns of a wait before it yields the host CPU, at every later turn, where a yield can help: when "
	    "another attached CPU is placed on the same host PU, or the CPU's thread is not bound to one. A CPU pinned to "
	    "a PU that no other attached CPU shares never yields (what it waits for runs elsewhere)",
	    CFG_FIELD(mc_spin_before_yield)),
	CFG_KEY("tlb.entries", CFG_UINT, 1, MACHINE_MAX_TLB_ENTRIES, NULL, "64",
	    "TLB entries per CPU (entries / ways must be a power of two: checked at boot, with tlb.ways, whatever order the keys came in)", CFG_FIELD(mc_tlb_entries)),
	CFG_KEY("tlb.ways", CFG_UINT, 1, 64, NULL, "4", "associativity (1–64)", CFG_FIELD(mc_tlb_ways)),
	CFG_KEY("mmu.pcid", CFG_BOOL, 0, 0, NULL, "on",
	    "PCID-tagged TLB entries; `off`: a context switch flushes every non-global entry", CFG_FIELD(mc_pcid)),
	CFG_KEY("mmu.refmod", CFG_ENUM, 0, 0, refmod_values, "hardware",
	    "`hardware`: the walker sets A/D atomically (x86). `software`: no hardware A/D, so the first access or write "
	    "faults into the pmap's emulation", CFG_FIELD(mc_refmod)),
	CFG_KEY("machine.tick_us", CFG_UINT, 1, 10000000, NULL, "1000",
	    "clock tick period in µs (HZ = 1000); taken at interrupt points, only by strategies that use ticks (latr)",
	    CFG_FIELD(mc_tick_us)),
	CFG_KEY("ipi.send_ns", CFG_UINT, 0, 1000000000, NULL, "0",
	    "modelled cost of sending one IPI (busy time of the sender)", CFG_FIELD(mc_ipi_send_ns)),
	CFG_KEY("ipi.handler_ns", CFG_UINT, 0, 1000000000, NULL, "0",
	    "modelled cost of entering the IPI handler (busy time of the target). A few µs models a virtualised guest",
	    CFG_FIELD(mc_ipi_handler_ns)),
	CFG_KEY("ipi.distance_ns", CFG_TEXT, 0, 0, NULL, "0",
	    "modelled delay per hop level between sender and target (`\"20 60 200\"`: level 1, 2, 3 and beyond; spaces, "
	    "since a comma sweeps); paid by the sender with `ipi.send_ns`. See *Topology*",
	    CFG_FIELD(mc_ipi_distance_ns), .ck_set = distance_set, .ck_get = distance_get),
	CFG_KEY("ipi.preset", CFG_ENUM, 0, 0, preset_values, "manual",
	    "`manual`: `ipi.send_ns`/`ipi.handler_ns` as given. `calibrated`: both from `ipi.calibration` (the file "
	    "`pmapstorm calibrate` writes)", CFG_FIELD(mc_ipi_preset)),
	CFG_KEY("ipi.calibration", CFG_TEXT, 0, 0, NULL, "results/calibration.json",
	    "the calibration file `ipi.preset = calibrated` and `engine.costs = calibrated` read. A missing one `run` "
	    "makes first (`pmapstorm calibrate`); to `microbench` and `stress` it is exit 2. A malformed one is exit 2; "
	    "one whose host measured no shootdown, to `engine.costs = calibrated`, exit 3",
	    CFG_FIELD(mc_ipi_calibration), .ck_set = calibration_set, .ck_get = calibration_get),
	CFG_KEY("machine.topology", CFG_TEXT, 0, 0, NULL, "host",
	    "the host (hwloc), or a synthetic machine in hwloc's synthetic syntax, e.g. `pack:2 l3:2 core:4 pu:2`, at "
	    "most 4096 PUs: it decides groups (hier) and hop levels", CFG_FIELD(mc_topology), .ck_set = topology_set, .ck_get = topology_get),
	CFG_KEY("machine.placement", CFG_TEXT, 0, 0, NULL, "compact",
	    "simulated CPU → PU: `compact` (PU i mod PUs, closest first), `scatter` (top level fastest: packages, then "
	    "caches, cores, SMT siblings), `list:0 2 4-7` (these PUs by OS index, repeated; spaces or commas, but commas "
	    "sweep in experiment files)", CFG_FIELD(mc_placement), .ck_set = placement_set, .ck_get = placement_get),
	CFG_KEY("machine.numa", CFG_TEXT, 0, 0, NULL, "interleave",
	    "where simulated physical memory goes (libnuma): `interleave`, `local` (the booting thread's node), "
	    "`node:N`; ignored, and said so in `run.json`, on a host with one node or none",
	    CFG_FIELD(mc_numa), .ck_set = numa_set, .ck_get = numa_get),
	CFG_KEY("stats.enabled", CFG_BOOL, 0, 0, NULL, "on",
	    "counters, histograms and the acknowledgement matrix; `off` measures the harness's own cost (results then "
	    "carry no statistics, and the strategies read no clock)",
	    CFG_FIELD(mc_stats)),
	{0},
};

/* The machine's rules between keys, and what an embedder may have written
 * into the fields directly; the keys' own checks are core/boot.c's. */
int machine_config_validate(const struct machine_config *c)
{
	int e;
	if ((e = tlb_check(c)) != 0)
		return e;
	if (c->mc_ipi_ndistance > MACHINE_MAX_HOPS)
		return machine_seterr(EINVAL, "ipi.distance_ns: %u values, at most %d", c->mc_ipi_ndistance, MACHINE_MAX_HOPS);
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

/*
 * The simulated hardware: memory, CPUs, TLBs, placement.  The config has
 * been validated (core/boot.c); the pmap and uvm layers boot after this and
 * install the machine's upcalls (m_hooks, m_uvm_hooks).
 */
struct machine *machine_hw_boot(const struct machine_config *cfg)
{
	int err;
	if (machine_cur != NULL) {
		machine_seterr(EBUSY, "machine_boot: a machine is already running (one per process)");
		return NULL;
	}
	struct machine *m = mem_zalloc(struct machine, 1);
	if (m == NULL) {
		machine_seterr(ENOMEM, "machine_boot: out of host memory");
		return NULL;
	}
	m->m_cfg = *cfg;
	m->m_ncpu = cfg->mc_ncpu;
	machine_cur = m;
	sync_set_wait(cpu_spin_wait, cpu_spin_pause);
	sync_set_clock(cpu_now_ns);
	stats_enable(cfg->mc_stats);
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
	return m;
fail:
	machine_hw_halt(m);
	errno = err;
	return NULL;
}

/* After the layers above have halted (or never booted). */
void machine_hw_halt(struct machine *m)
{
	if (m == NULL)
		return;
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
