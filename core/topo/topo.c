/*
 * topo.c — topologies (hwloc), placement of simulated CPUs on processing
 * units, and memory placement (libnuma).
 *
 * What it models: where a kernel's CPUs sit.  A shootdown's cost depends on
 * how far its IPIs and acknowledgements travel (SMT sibling, shared L3,
 * same package, across the interconnect); strategies such as hier group
 * CPUs by it (Baumann et al., "The Multikernel", SOSP 2009, section 5.1).
 *
 * What it follows:
 *  - hwloc (hwloc.h; hwloc_topology_set_synthetic(), as hwloc's own tests
 *    do in tests/hwloc/hwloc_synthetic.c) describes the host or a synthetic
 *    machine; logical PU order follows the cache hierarchy, so "compact"
 *    is PU i mod npus; "scatter" sorts the PUs by their sibling ranks read
 *    from the PU upwards, so the top level varies fastest — the order of
 *    Intel OpenMP's KMP_AFFINITY=scatter; hwloc_set_cpubind() with
 *    HWLOC_CPUBIND_THREAD pins threads; hwloc_topology_export_xml() writes
 *    the topology a run used into its results;
 *  - hop levels count the levels above a PU at which the tree branches, up
 *    to the nearest common ancestor of two PUs (hwloc_get_common_ancestor_obj),
 *    so levels that do not branch (a per-core L2) add no distance;
 *  - libnuma (numa(3): numa_alloc_interleaved/_local/_onnode,
 *    numa_tonode_memory, numa_set_preferred) places memory; a host with one
 *    node or no NUMA gets plain mmap, and topo_numa_describe() says so.
 *
 * Races: the host topology is loaded once (pthread_once) and only read
 * afterwards (hwloc allows concurrent reads of a loaded topology).  A
 * struct topo is built before the CPU threads start and read-only while
 * they run; topo_current_set() happens at machine boot and halt, when no
 * CPU thread runs.
 */
#include <pmapstorm/alloc.h>
#include <pmapstorm/topo.h>

#include <ctype.h>
#include <errno.h>
#include <hwloc.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TOPO_MAXLEVELS 32
#define TOPO_MAXLIST 4096

struct topo {
	hwloc_topology_t t_hw;  /* the model topology */
	bool t_synthetic;
	char t_desc[512];       /* normalised synthetic description */
	char t_policy[64];
	unsigned t_npus;        /* model PUs */
	unsigned t_ncpu;
	hwloc_obj_t *t_pu;      /* model PU of each CPU */
	int *t_host_pu;         /* host PU (OS index) of each CPU */
	int *t_node;            /* host NUMA node of each CPU, -1 */
	bool t_over;
	unsigned t_nlevels;
	const char *t_level[TOPO_MAXLEVELS + 1];
};

/* ---- the host ---- */

static pthread_once_t host_once = PTHREAD_ONCE_INIT;
static hwloc_topology_t host;
static bool host_ok;
static unsigned host_npus = 1;

static void host_load(void)
{
	if (hwloc_topology_init(&host) != 0)
		return;
	if (hwloc_topology_load(host) != 0) {
		hwloc_topology_destroy(host);
		return;
	}
	int n = hwloc_get_nbobjs_by_type(host, HWLOC_OBJ_PU);
	host_npus = n > 0 ? (unsigned)n : 1;
	host_ok = true;
}

unsigned topo_npus(void)
{
	pthread_once(&host_once, host_load);
	return host_npus;
}

void topo_counts(unsigned *packages, unsigned *cores, unsigned *pus, unsigned *numa_nodes)
{
	pthread_once(&host_once, host_load);
	int pk = host_ok ? hwloc_get_nbobjs_by_type(host, HWLOC_OBJ_PACKAGE) : 1;
	int co = host_ok ? hwloc_get_nbobjs_by_type(host, HWLOC_OBJ_CORE) : 1;
	int nn = host_ok ? hwloc_get_nbobjs_by_type(host, HWLOC_OBJ_NUMANODE) : 1;
	*packages = pk > 0 ? (unsigned)pk : 1;
	*cores = co > 0 ? (unsigned)co : 1;
	*pus = host_npus;
	*numa_nodes = nn > 0 ? (unsigned)nn : 1;
}

unsigned topo_host_numa_nodes(void)
{
	if (numa_available() < 0)
		return 0;
	return (unsigned)numa_max_node() + 1;
}

int topo_bind_host_pu(int os_index)
{
	pthread_once(&host_once, host_load);
	if (!host_ok)
		return ENOSYS;
	hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(host, (unsigned)os_index);
	if (pu == NULL)
		return ENOENT;
	return hwloc_set_cpubind(host, pu->cpuset, HWLOC_CPUBIND_THREAD) == 0 ? 0 : errno;
}

/* "the host has 2 PUs (0-1)" or "the synthetic machine has 32 PUs (0-31)" */
static void what_it_has(const struct topo *t, char *buf, size_t len)
{
	char list[256] = "";
	hwloc_obj_t root = hwloc_get_root_obj(t->t_hw);
	hwloc_bitmap_list_snprintf(list, sizeof(list), root->cpuset);
	snprintf(buf, len, "the %s has %u PUs (%s)", t->t_synthetic ? "synthetic machine" : "host", t->t_npus, list);
}

static void host_describe(char *buf, size_t len)
{
	pthread_once(&host_once, host_load);
	if (!host_ok || hwloc_topology_export_synthetic(host, buf, len, 0) < 0)
		snprintf(buf, len, "%u PUs", host_npus);
}

/* ---- topologies ---- */

static int topo_err(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int topo_err(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (why != NULL && len > 0)
		vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return EINVAL;
}

/*
 * The PUs a synthetic description would give, read before hwloc builds it:
 * hwloc allocates every object, so "pack:1000 core:1000 pu:1000" would
 * exhaust memory before it could be refused.  The syntax is hwloc's
 * (hwloc(7), "Synthetic topologies"; topology-synthetic.c): levels
 * separated by blanks, each "type:N" or a bare "N", optionally followed by
 * attributes in parentheses "(memory=1GB)"; memory children in brackets
 * "[numa(memory=1GB)]" add no PUs, nor do root attributes "(...)" at the
 * start.  The PU count is the product of the arities.  0 with *pus, or -1
 * when the text is not that shape (hwloc then says what is wrong).
 */
static int synthetic_pus(const char *s, unsigned long long *pus)
{
	unsigned long long n = 1;
	bool any = false;
	while (*s != '\0') {
		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		if (*s == '(' || *s == '[') {
			/* root attributes or a memory child, nested parentheses allowed */
			int depth = 0;
			do {
				if (*s == '(' || *s == '[')
					depth++;
				else if (*s == ')' || *s == ']')
					depth--;
				s++;
			} while (*s != '\0' && depth > 0);
			if (depth != 0)
				return -1;
			continue;
		}
		/* one level: [type:]N then attributes */
		const char *colon = NULL, *p = s;
		while (*p != '\0' && !isspace((unsigned char)*p) && *p != '(' && *p != '[') {
			if (*p == ':')
				colon = p;
			p++;
		}
		const char *num = colon != NULL ? colon + 1 : s;
		if (!isdigit((unsigned char)*num))
			return -1;
		char *end;
		errno = 0;
		unsigned long long a = strtoull(num, &end, 10);
		if (errno != 0 || end != p)
			return -1;
		n = a != 0 && n > ULLONG_MAX / a ? ULLONG_MAX : n * a;
		any = true;
		s = p;
	}
	if (!any)
		return -1;
	*pus = n;
	return 0;
}

/* the levels at which the tree branches, read above the first PU */
static void topo_levels(struct topo *t)
{
	hwloc_obj_t o = hwloc_get_obj_by_type(t->t_hw, HWLOC_OBJ_PU, 0);
	t->t_nlevels = 0;
	for (; o != NULL && o->parent != NULL && t->t_nlevels < TOPO_MAXLEVELS; o = o->parent)
		if (o->parent->arity > 1)
			t->t_level[++t->t_nlevels] = hwloc_obj_type_string(o->parent->type);
}

struct topo *topo_open(const char *synthetic, char *why, size_t len)
{
	struct topo *t = mem_zalloc(struct topo, 1);
	if (t == NULL) {
		topo_err(why, len, "machine.topology: out of host memory");
		errno = ENOMEM;
		return NULL;
	}
	pthread_once(&host_once, host_load);
	if (synthetic != NULL && *synthetic != '\0') {
		char hostdesc[512];
		t->t_synthetic = true;
		unsigned long long pus;
		if (synthetic_pus(synthetic, &pus) == 0 && pus > TOPO_MAXPUS) {
			topo_err(why, len, "machine.topology: %llu PUs, at most %d", pus, TOPO_MAXPUS);
			free(t);
			errno = EINVAL;
			return NULL;
		}
		if (hwloc_topology_init(&t->t_hw) != 0) {
			int e = errno ? errno : ENOMEM;
			topo_err(why, len, "machine.topology: hwloc cannot start (%s)", strerror(e));
			free(t);
			errno = e;
			return NULL;
		}
		if (hwloc_topology_set_synthetic(t->t_hw, synthetic) != 0 || hwloc_topology_load(t->t_hw) != 0) {
			host_describe(hostdesc, sizeof(hostdesc));
			topo_err(why, len,
			    "machine.topology: '%s' is not an hwloc synthetic description such as "
			    "\"pack:2 l3:2 core:4 pu:2\" (this host is \"%s\")", synthetic, hostdesc);
			hwloc_topology_destroy(t->t_hw);
			free(t);
			errno = EINVAL;
			return NULL;
		}
		if (hwloc_topology_export_synthetic(t->t_hw, t->t_desc, sizeof(t->t_desc), 0) < 0)
			snprintf(t->t_desc, sizeof(t->t_desc), "%s", synthetic);
	} else {
		if (!host_ok || hwloc_topology_dup(&t->t_hw, host) != 0) {
			topo_err(why, len, "machine.topology: hwloc cannot read the host's topology");
			free(t);
			errno = ENOSYS;
			return NULL;
		}
	}
	int n = hwloc_get_nbobjs_by_type(t->t_hw, HWLOC_OBJ_PU);
	t->t_npus = n > 0 ? (unsigned)n : 1;
	topo_levels(t);
	return t;
}

void topo_close(struct topo *t)
{
	if (t == NULL)
		return;
	hwloc_topology_destroy(t->t_hw);
	free(t->t_pu);
	free(t->t_host_pu);
	free(t->t_node);
	free(t);
}

/* list:a,b,c-d into v (OS indices); the count, or -1 with why */
static int parse_list(const char *s, unsigned *v, unsigned max, char *why, size_t len)
{
	unsigned n = 0;
	const char *p = s;
	while (*p != '\0') {
		char *end;
		if (!isdigit((unsigned char)*p))
			return -topo_err(why, len, "machine.placement: 'list:%s' is not a list of PU numbers (list:0,2,4-7)", s);
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return -topo_err(why, len, "machine.placement: 'list:%s' has an unfinished range", s);
			b = strtoul(end + 1, &end, 10);
		}
		if (a > 65535 || b > 65535 || b < a)
			return -topo_err(why, len, "machine.placement: 'list:%s': %lu-%lu is not a range of PU numbers", s, a, b);
		for (unsigned long x = a; x <= b; x++) {
			if (n == max)
				return -topo_err(why, len, "machine.placement: more than %u PUs in the list", max);
			if (v != NULL)
				v[n] = (unsigned)x;
			n++;
		}
		/* commas, or spaces where a comma would make a sweep (experiment files) */
		if ((*end == ',' || *end == ' ') && end[1] != '\0') {
			while (*end == ',' || *end == ' ')
				end++;
		} else if (*end != '\0')
			return -topo_err(why, len, "machine.placement: 'list:%s' is not a list of PU numbers (list:0,2,4-7)", s);
		p = end;
	}
	if (n == 0)
		return -topo_err(why, len, "machine.placement: 'list:' names no PU (list:0,2,4-7)");
	return (int)n;
}

int topo_placement_check(const char *placement, char *why, size_t len)
{
	if (placement == NULL || strlen(placement) >= 64)
		return topo_err(why, len, "machine.placement: not one of: compact, scatter, list:PU,PU,...");
	if (!strcmp(placement, "compact") || !strcmp(placement, "scatter"))
		return 0;
	if (!strncmp(placement, "list:", 5))
		return parse_list(placement + 5, NULL, TOPO_MAXLIST, why, len) < 0 ? EINVAL : 0;
	return topo_err(why, len, "machine.placement: '%s' is not one of: compact, scatter, list:PU,PU,...", placement);
}

struct scatter_key {
	hwloc_obj_t sk_pu;
	unsigned sk_rank[TOPO_MAXLEVELS];
	unsigned sk_n;
};

static int scatter_cmp(const void *a, const void *b)
{
	const struct scatter_key *x = a, *y = b;
	for (unsigned i = 0; i < x->sk_n && i < y->sk_n; i++)
		if (x->sk_rank[i] != y->sk_rank[i])
			return x->sk_rank[i] < y->sk_rank[i] ? -1 : 1;
	return x->sk_pu->logical_index < y->sk_pu->logical_index ? -1 : 1;
}

/* the PUs in scatter order: sibling ranks from the PU upwards, compared PU first */
static hwloc_obj_t *scatter_order(struct topo *t)
{
	struct scatter_key *k = mem_zalloc(struct scatter_key, t->t_npus);
	hwloc_obj_t *order = mem_zalloc(hwloc_obj_t, t->t_npus);
	if (k == NULL || order == NULL) {
		free(k);
		free(order);
		return NULL;
	}
	for (unsigned i = 0; i < t->t_npus; i++) {
		k[i].sk_pu = hwloc_get_obj_by_type(t->t_hw, HWLOC_OBJ_PU, i);
		for (hwloc_obj_t o = k[i].sk_pu; o != NULL && o->parent != NULL && k[i].sk_n < TOPO_MAXLEVELS; o = o->parent)
			k[i].sk_rank[k[i].sk_n++] = o->sibling_rank;
	}
	qsort(k, t->t_npus, sizeof(*k), scatter_cmp);
	for (unsigned i = 0; i < t->t_npus; i++)
		order[i] = k[i].sk_pu;
	free(k);
	return order;
}

int topo_place(struct topo *t, const char *placement, unsigned ncpu, char *why, size_t len)
{
	int e = topo_placement_check(placement, why, len);
	if (e != 0)
		return e;
	if (ncpu == 0)
		return topo_err(why, len, "machine.cpus: 0 CPUs to place");
	hwloc_obj_t *pu = mem_zalloc(hwloc_obj_t, ncpu);
	int *hpu = mem_zalloc(int, ncpu), *node = mem_zalloc(int, ncpu);
	unsigned *list = NULL;
	hwloc_obj_t *order = NULL;
	if (pu == NULL || hpu == NULL || node == NULL) {
		e = topo_err(why, len, "machine.placement: out of host memory");
		goto out;
	}
	unsigned distinct = t->t_npus;
	if (!strcmp(placement, "compact")) {
		for (unsigned i = 0; i < ncpu; i++)
			pu[i] = hwloc_get_obj_by_type(t->t_hw, HWLOC_OBJ_PU, i % t->t_npus);
	} else if (!strcmp(placement, "scatter")) {
		if ((order = scatter_order(t)) == NULL) {
			e = topo_err(why, len, "machine.placement: out of host memory");
			goto out;
		}
		for (unsigned i = 0; i < ncpu; i++)
			pu[i] = order[i % t->t_npus];
	} else {
		list = mem_zalloc(unsigned, TOPO_MAXLIST);
		int n = list ? parse_list(placement + 5, list, TOPO_MAXLIST, why, len) : -1;
		if (n < 0) {
			e = EINVAL;
			goto out;
		}
		hwloc_bitmap_t seen = hwloc_bitmap_alloc();
		for (int j = 0; j < n; j++) {
			if (hwloc_get_pu_obj_by_os_index(t->t_hw, list[j]) == NULL) {
				char has[320];
				what_it_has(t, has, sizeof(has));
				e = topo_err(why, len, "machine.placement: PU %u does not exist (%s)", list[j], has);
				hwloc_bitmap_free(seen);
				goto out;
			}
			hwloc_bitmap_set(seen, list[j]);
		}
		distinct = (unsigned)hwloc_bitmap_weight(seen);
		hwloc_bitmap_free(seen);
		for (unsigned i = 0; i < ncpu; i++)
			pu[i] = hwloc_get_pu_obj_by_os_index(t->t_hw, list[i % (unsigned)n]);
	}
	/* threads run on host PUs: the same ones, or compact on the host when
	 * the model machine is synthetic */
	bool numa = topo_host_numa_nodes() > 0;
	for (unsigned i = 0; i < ncpu; i++) {
		if (!t->t_synthetic)
			hpu[i] = (int)pu[i]->os_index;
		else {
			hwloc_obj_t h = host_ok ? hwloc_get_obj_by_type(host, HWLOC_OBJ_PU, i % host_npus) : NULL;
			hpu[i] = h != NULL ? (int)h->os_index : (int)(i % host_npus);
		}
		node[i] = numa ? numa_node_of_cpu(hpu[i]) : -1;
	}
	free(t->t_pu);
	free(t->t_host_pu);
	free(t->t_node);
	t->t_pu = pu;
	t->t_host_pu = hpu;
	t->t_node = node;
	t->t_ncpu = ncpu;
	t->t_over = ncpu > host_npus || ncpu > distinct;
	snprintf(t->t_policy, sizeof(t->t_policy), "%s", placement);
	pu = NULL;
	hpu = node = NULL;
	e = 0;
out:
	free(pu);
	free(hpu);
	free(node);
	free(list);
	free(order);
	return e;
}

bool topo_is_synthetic(const struct topo *t)
{
	return t->t_synthetic;
}

const char *topo_description(const struct topo *t)
{
	return t->t_synthetic ? t->t_desc : "";
}

unsigned topo_topo_pus(const struct topo *t)
{
	return t->t_npus;
}

unsigned topo_ncpu(const struct topo *t)
{
	return t->t_ncpu;
}

bool topo_oversubscribed(const struct topo *t)
{
	return t->t_over;
}

int topo_cpu_pu(const struct topo *t, unsigned cpu)
{
	return cpu < t->t_ncpu ? (int)t->t_pu[cpu]->os_index : -1;
}

int topo_cpu_host_pu(const struct topo *t, unsigned cpu)
{
	return cpu < t->t_ncpu ? t->t_host_pu[cpu] : -1;
}

int topo_cpu_node(const struct topo *t, unsigned cpu)
{
	return cpu < t->t_ncpu ? t->t_node[cpu] : -1;
}

/* the group of a PU: the last-level cache it sits under, else its package */
static int pu_group(hwloc_topology_t hw, hwloc_obj_t pu)
{
	hwloc_obj_t g = hwloc_get_ancestor_obj_by_type(hw, HWLOC_OBJ_L3CACHE, pu);
	if (g == NULL)
		g = hwloc_get_ancestor_obj_by_type(hw, HWLOC_OBJ_PACKAGE, pu);
	return g != NULL ? (int)g->logical_index : 0;
}

int topo_cpu_group(const struct topo *t, unsigned cpu)
{
	return cpu < t->t_ncpu ? pu_group(t->t_hw, t->t_pu[cpu]) : 0;
}

unsigned topo_hops(const struct topo *t, unsigned a, unsigned b)
{
	if (a >= t->t_ncpu || b >= t->t_ncpu || t->t_pu[a] == t->t_pu[b])
		return 0;
	hwloc_obj_t anc = hwloc_get_common_ancestor_obj(t->t_hw, t->t_pu[a], t->t_pu[b]);
	unsigned hops = 0;
	for (hwloc_obj_t o = t->t_pu[a]; o != anc && o->parent != NULL; o = o->parent)
		if (o->parent->arity > 1)
			hops++;
	return hops;
}

unsigned topo_nlevels(const struct topo *t)
{
	return t->t_nlevels;
}

const char *topo_level_name(const struct topo *t, unsigned level)
{
	return level >= 1 && level <= t->t_nlevels ? t->t_level[level] : "";
}

static void print_tree(const struct topo *t, FILE *f, hwloc_obj_t o, int indent)
{
	char type[64];
	hwloc_obj_type_snprintf(type, sizeof(type), o, 0);
	fprintf(f, "%*s%s L#%u", indent, "", type, o->logical_index);
	if (o->type == HWLOC_OBJ_PU) {
		fprintf(f, " (P#%u):", o->os_index);
		unsigned shown = 0;
		for (unsigned i = 0; i < t->t_ncpu; i++)
			if (t->t_pu[i] == o)
				fprintf(f, " cpu%u", i), shown++;
		if (shown == 0)
			fprintf(f, " -");
	}
	fputc('\n', f);
	for (unsigned c = 0; c < o->arity; c++)
		print_tree(t, f, o->children[c], indent + 2);
}

void topo_print(const struct topo *t, FILE *f)
{
	char hostdesc[512];
	host_describe(hostdesc, sizeof(hostdesc));
	if (t->t_synthetic)
		fprintf(f, "topology: synthetic \"%s\" (%u PUs); threads run on the host \"%s\" (%u PUs)\n", t->t_desc,
		    t->t_npus, hostdesc, host_npus);
	else
		fprintf(f, "topology: host \"%s\" (%u PUs)\n", hostdesc, t->t_npus);
	fprintf(f, "hop levels:");
	for (unsigned l = 1; l <= t->t_nlevels; l++)
		fprintf(f, " %u=%s", l, t->t_level[l]);
	fprintf(f, "%s\n", t->t_nlevels == 0 ? " none (one PU)" : "");
	fprintf(f, "placement: %s, %u CPUs%s\n", t->t_policy, t->t_ncpu,
	    t->t_over ? " (oversubscribed: more CPUs than PUs; allowed, timings share PUs)" : "");
	print_tree(t, f, hwloc_get_root_obj(t->t_hw), 0);
	fprintf(f, "%-5s %-6s %-8s %-6s %s\n", "cpu", "pu", "host_pu", "group", "numa_node");
	for (unsigned i = 0; i < t->t_ncpu; i++)
		fprintf(f, "%-5u %-6d %-8d %-6d %d\n", i, topo_cpu_pu(t, i), t->t_host_pu[i], topo_cpu_group(t, i),
		    t->t_node[i]);
}

int topo_export_xml(const struct topo *t, bool whole_host, FILE *f)
{
	pthread_once(&host_once, host_load);
	hwloc_topology_t hw = whole_host ? host : t->t_hw;
	if (whole_host && !host_ok)
		return ENOSYS;
	/* into memory, then the caller's stream: the caller decides how the
	 * file is made (bench: a temporary name, fsync, rename) */
	char *buf;
	int n;
	errno = 0;
	if (hwloc_topology_export_xmlbuffer(hw, &buf, &n, 0) != 0)
		return errno ? errno : EIO;
	/* n counts the terminating NUL */
	size_t want = n > 0 ? (size_t)n - 1 : 0;
	int e = fwrite(buf, 1, want, f) == want ? 0 : (errno ? errno : EIO);
	hwloc_free_xmlbuffer(hw, buf);
	return e;
}

/* ---- the running machine's placement ---- */

static struct topo *topo_cur;

void topo_current_set(struct topo *t)
{
	topo_cur = t;
}

int topo_pu_of(unsigned i)
{
	if (topo_cur != NULL && i < topo_cur->t_ncpu)
		return topo_cur->t_host_pu[i];
	pthread_once(&host_once, host_load);
	if (!host_ok)
		return -1;
	hwloc_obj_t pu = hwloc_get_obj_by_type(host, HWLOC_OBJ_PU, i % host_npus);
	return pu ? (int)pu->os_index : -1;
}

int topo_bind_thread(unsigned i)
{
	int pu = topo_pu_of(i);
	return pu < 0 ? ENOSYS : topo_bind_host_pu(pu);
}

bool topo_thread_bound(unsigned i)
{
	int pu = topo_pu_of(i);
	pthread_once(&host_once, host_load);
	if (pu < 0 || !host_ok)
		return false;
	hwloc_obj_t obj = hwloc_get_pu_obj_by_os_index(host, (unsigned)pu);
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	bool bound = obj != NULL && set != NULL && hwloc_get_cpubind(host, set, HWLOC_CPUBIND_THREAD) == 0 &&
	    hwloc_bitmap_isequal(set, obj->cpuset);
	hwloc_bitmap_free(set);
	return bound;
}

int topo_group_of(unsigned i)
{
	if (topo_cur != NULL && i < topo_cur->t_ncpu)
		return topo_cpu_group(topo_cur, i);
	pthread_once(&host_once, host_load);
	if (!host_ok)
		return 0;
	hwloc_obj_t pu = hwloc_get_obj_by_type(host, HWLOC_OBJ_PU, i % host_npus);
	return pu != NULL ? pu_group(host, pu) : 0;
}

/* ---- memory ---- */

int topo_numa_parse(const char *spec, struct topo_numa *n, char *why, size_t len)
{
	memset(n, 0, sizeof(*n));
	if (spec != NULL && !strcmp(spec, "interleave"))
		n->tn_policy = TOPO_NUMA_INTERLEAVE;
	else if (spec != NULL && !strcmp(spec, "local"))
		n->tn_policy = TOPO_NUMA_LOCAL;
	else if (spec != NULL && !strncmp(spec, "node:", 5) && isdigit((unsigned char)spec[5])) {
		char *end;
		unsigned long x = strtoul(spec + 5, &end, 10);
		if (*end != '\0' || x > 4095)
			return topo_err(why, len, "machine.numa: '%s' is not node:N with N a node number", spec);
		n->tn_policy = TOPO_NUMA_NODE;
		n->tn_node = (int)x;
	} else
		return topo_err(why, len, "machine.numa: '%s' is not one of: interleave, local, node:N", spec ? spec : "");
	return 0;
}

int topo_numa_resolve(struct topo_numa *n, unsigned host_nodes, char *why, size_t len)
{
	if (n->tn_policy == TOPO_NUMA_NODE && (unsigned)n->tn_node >= (host_nodes ? host_nodes : 1)) {
		if (host_nodes == 0)
			return topo_err(why, len, "machine.numa: node %d does not exist (the host has no NUMA: node 0 only)",
			    n->tn_node);
		if (host_nodes == 1)
			return topo_err(why, len, "machine.numa: node %d does not exist (the host has 1 NUMA node: 0)",
			    n->tn_node);
		return topo_err(why, len, "machine.numa: node %d does not exist (the host has %u NUMA nodes: 0-%u)",
		    n->tn_node, host_nodes, host_nodes - 1);
	}
	/* with one node there is nothing to place: plain memory, said so */
	n->tn_active = host_nodes > 1;
	return 0;
}

void topo_numa_describe(const struct topo_numa *n, char *buf, size_t len)
{
	static const char *const names[] = {"interleave", "local", "node"};
	if (!n->tn_active) {
		unsigned h = topo_host_numa_nodes();
		snprintf(buf, len, "none: the host has %s (plain memory; %s asked)",
		    h == 0 ? "no NUMA" : "one NUMA node", names[n->tn_policy]);
	} else if (n->tn_policy == TOPO_NUMA_NODE)
		snprintf(buf, len, "node %d", n->tn_node);
	else if (n->tn_policy == TOPO_NUMA_LOCAL)
		snprintf(buf, len, "local (node %d)", numa_preferred());
	else
		snprintf(buf, len, "interleave over %u nodes", topo_host_numa_nodes());
}

static void *plain_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void *topo_mem_alloc(const struct topo_numa *n, size_t bytes)
{
	if (!n->tn_active)
		return plain_alloc(bytes);
	switch (n->tn_policy) {
	case TOPO_NUMA_LOCAL: return numa_alloc_local(bytes);
	case TOPO_NUMA_NODE: return numa_alloc_onnode(bytes, n->tn_node);
	default: return numa_alloc_interleaved(bytes);
	}
}

/* Without NUMA the per-CPU structures come from malloc, where AddressSanitizer
 * sees their bounds; with NUMA, fresh mappings libnuma can place. */
void *topo_mem_alloc_node(int node, size_t bytes)
{
	if (topo_host_numa_nodes() < 2) {
		size_t pg = (size_t)sysconf(_SC_PAGESIZE);
		return mem_zalloc_bytes(pg, bytes);
	}
	return node < 0 ? plain_alloc(bytes) : numa_alloc_onnode(bytes, node);
}

void topo_mem_free_node(void *p, size_t bytes)
{
	if (topo_host_numa_nodes() < 2)
		free(p);
	else
		topo_mem_free(p, bytes);
}

void topo_mem_to_node(void *p, size_t bytes, int node)
{
	if (node >= 0 && topo_host_numa_nodes() >= 2)
		numa_tonode_memory(p, bytes, node);
}

void topo_mem_free(void *p, size_t bytes)
{
	if (p != NULL)
		munmap(p, bytes); /* numa_free() is munmap() as well */
}

void topo_mem_prefer(int node, struct topo_mempol *saved)
{
	saved->tp_saved = false;
	if (topo_host_numa_nodes() < 2 || node < 0)
		return;
	/* the thread's own policy (an embedder's numactl --interleave, say)
	 * comes back with topo_mem_restore(), not the system default */
	if (get_mempolicy(&saved->tp_mode, saved->tp_mask, sizeof(saved->tp_mask) * 8, NULL, 0) != 0)
		return;
	saved->tp_saved = true;
	numa_set_preferred(node);
}

void topo_mem_restore(const struct topo_mempol *saved)
{
	if (saved->tp_saved)
		(void)set_mempolicy(saved->tp_mode, saved->tp_mask, sizeof(saved->tp_mask) * 8);
}
