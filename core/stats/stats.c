/*
 * stats.c — counter and histogram registry, per-CPU blocks, merging.
 *
 * The histogram layout is HdrHistogram's log-linear scheme (Gil Tene,
 * HdrHistogram, "sub-bucket" arrays): values below 2^SUBBITS are counted
 * exactly; above, each power of two is cut into 2^SUBBITS linear buckets.
 * Registration happens in constructors, before main() and before any thread
 * exists, so the registry needs no lock; blocks are linked under a mutex
 * (creation and destruction only) and read with relaxed atomics.
 */
#include <pmapstorm/alloc.h>
#include <pmapstorm/stats.h>
#include <pmapstorm/types.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Thread_local struct stats_block *stats_tls __attribute__((tls_model("initial-exec")));
struct stats_block stats_shared = {.sb_cpu = -1};
bool stats_on = true;

/* => no CPU running (set at boot, from the config) */
void stats_enable(bool on)
{
	stats_on = on;
}

static struct stats_counter *counters[STATS_MAX_COUNTERS];
static unsigned ncounters;
static struct stats_hist *hists[STATS_MAX_HISTS];
static unsigned nhists;

/* Protects the list of blocks (creation/destruction only, never bumps). */
static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stats_block *blocks = &stats_shared;

static void hist_cell_clear(struct stats_hist_cell *c)
{
	atomic_store_explicit(&c->hc_count, 0, memory_order_relaxed);
	atomic_store_explicit(&c->hc_sum, 0, memory_order_relaxed);
	atomic_store_explicit(&c->hc_min, UINT64_MAX, memory_order_relaxed);
	atomic_store_explicit(&c->hc_max, 0, memory_order_relaxed);
	for (unsigned i = 0; i < STATS_HIST_BUCKETS; i++)
		atomic_store_explicit(&c->hc_buckets[i], 0, memory_order_relaxed);
}

void stats_counter_register(struct stats_counter *c)
{
	if (ncounters >= STATS_MAX_COUNTERS) {
		fprintf(stderr, "pmapstorm: too many counters (STATS_MAX_COUNTERS=%d) at %s\n",
		    STATS_MAX_COUNTERS, c->sc_name);
		abort();
	}
	c->sc_index = ncounters;
	counters[ncounters++] = c;
}

void stats_hist_register(struct stats_hist *h)
{
	if (nhists >= STATS_MAX_HISTS) {
		fprintf(stderr, "pmapstorm: too many histograms (STATS_MAX_HISTS=%d) at %s\n",
		    STATS_MAX_HISTS, h->sh_name);
		abort();
	}
	h->sh_index = nhists;
	hists[nhists++] = h;
	hist_cell_clear(&stats_shared.sb_hists[h->sh_index]);
}

unsigned stats_hist_bucket(uint64_t v)
{
	return stats_hist_bucket_inline(v);
}

uint64_t stats_hist_bucket_low(unsigned b)
{
	const unsigned sub = 1u << STATS_HIST_SUBBITS;
	if (b < sub)
		return b;
	unsigned e = b / sub + STATS_HIST_SUBBITS - 1;
	uint64_t s = b % sub;
	return (1ULL << e) | (s << (e - STATS_HIST_SUBBITS));
}

/* The shared block of threads that are not CPUs: several writers, atomic RMWs. */
void stats_hist_record_shared(struct stats_hist *h, uint64_t v)
{
	unsigned k = stats_hist_bucket_inline(v);
	struct stats_hist_cell *c = &stats_shared.sb_hists[h->sh_index];
	atomic_fetch_add_explicit(&c->hc_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->hc_sum, v, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->hc_buckets[k], 1, memory_order_relaxed);
	uint64_t m = atomic_load_explicit(&c->hc_min, memory_order_relaxed);
	while (v < m && !atomic_compare_exchange_weak_explicit(&c->hc_min, &m, v,
	    memory_order_relaxed, memory_order_relaxed))
		;
	m = atomic_load_explicit(&c->hc_max, memory_order_relaxed);
	while (v > m && !atomic_compare_exchange_weak_explicit(&c->hc_max, &m, v,
	    memory_order_relaxed, memory_order_relaxed))
		;
}

static void block_clear(struct stats_block *b)
{
	for (unsigned i = 0; i < STATS_MAX_COUNTERS; i++)
		atomic_store_explicit(&b->sb_counters[i], 0, memory_order_relaxed);
	for (unsigned i = 0; i < STATS_MAX_HISTS; i++)
		hist_cell_clear(&b->sb_hists[i]);
}

struct stats_block *stats_block_create(int cpu)
{
	struct stats_block *b = mem_zalloc(struct stats_block, 1);
	if (b == NULL)
		return NULL;
	block_clear(b);
	b->sb_cpu = cpu;
	pthread_mutex_lock(&blocks_lock);
	b->sb_next = blocks;
	blocks = b;
	pthread_mutex_unlock(&blocks_lock);
	return b;
}

void stats_block_destroy(struct stats_block *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&blocks_lock);
	for (struct stats_block **pp = &blocks; *pp != NULL; pp = &(*pp)->sb_next) {
		if (*pp == b) {
			*pp = b->sb_next;
			break;
		}
	}
	/* Keep what the CPU counted: fold it into the shared block. */
	for (unsigned i = 0; i < ncounters; i++)
		atomic_fetch_add_explicit(&stats_shared.sb_counters[i],
		    atomic_load_explicit(&b->sb_counters[i], memory_order_relaxed),
		    memory_order_relaxed);
	for (unsigned i = 0; i < nhists; i++) {
		struct stats_hist_cell *d = &stats_shared.sb_hists[i], *s = &b->sb_hists[i];
		atomic_fetch_add(&d->hc_count, atomic_load(&s->hc_count));
		atomic_fetch_add(&d->hc_sum, atomic_load(&s->hc_sum));
		if (atomic_load(&s->hc_min) < atomic_load(&d->hc_min))
			atomic_store(&d->hc_min, atomic_load(&s->hc_min));
		if (atomic_load(&s->hc_max) > atomic_load(&d->hc_max))
			atomic_store(&d->hc_max, atomic_load(&s->hc_max));
		for (unsigned k = 0; k < STATS_HIST_BUCKETS; k++)
			atomic_fetch_add_explicit(&d->hc_buckets[k],
			    atomic_load_explicit(&s->hc_buckets[k], memory_order_relaxed),
			    memory_order_relaxed);
	}
	pthread_mutex_unlock(&blocks_lock);
	free(b);
}

void stats_attach(struct stats_block *b)
{
	stats_tls = b;
}

void stats_reset(void)
{
	pthread_mutex_lock(&blocks_lock);
	for (struct stats_block *b = blocks; b != NULL; b = b->sb_next)
		block_clear(b);
	pthread_mutex_unlock(&blocks_lock);
}

static uint64_t counter_sum(const struct stats_counter *c, int cpu, bool all)
{
	uint64_t t = 0;
	pthread_mutex_lock(&blocks_lock);
	for (struct stats_block *b = blocks; b != NULL; b = b->sb_next)
		if (all || b->sb_cpu == cpu)
			t += atomic_load_explicit(&b->sb_counters[c->sc_index], memory_order_relaxed);
	pthread_mutex_unlock(&blocks_lock);
	return t;
}

uint64_t stats_counter_total(const struct stats_counter *c)
{
	return counter_sum(c, 0, true);
}

uint64_t stats_counter_cpu(const struct stats_counter *c, int cpu)
{
	return counter_sum(c, cpu, false);
}

void stats_hist_merged(const struct stats_hist *h, uint64_t *counts)
{
	memset(counts, 0, sizeof(uint64_t) * STATS_HIST_BUCKETS);
	pthread_mutex_lock(&blocks_lock);
	for (struct stats_block *b = blocks; b != NULL; b = b->sb_next)
		for (unsigned k = 0; k < STATS_HIST_BUCKETS; k++)
			counts[k] += atomic_load_explicit(&b->sb_hists[h->sh_index].hc_buckets[k],
			    memory_order_relaxed);
	pthread_mutex_unlock(&blocks_lock);
}

#define MAXCPU_WORDS (MAXCPUS / 64)

static uint64_t percentile(const uint64_t *counts, uint64_t total, double q, uint64_t max)
{
	if (total == 0)
		return 0;
	uint64_t want = (uint64_t)(q * (double)total + 0.999999);
	if (want == 0)
		want = 1;
	uint64_t seen = 0;
	for (unsigned k = 0; k < STATS_HIST_BUCKETS; k++) {
		seen += counts[k];
		if (seen >= want) {
			uint64_t lo = stats_hist_bucket_low(k);
			return lo < max ? lo : max;
		}
	}
	return max;
}

/* Blocks of CPUs in the set (a bitmap; NULL: every block, the shared one too). */
static bool block_in(const struct stats_block *b, const uint64_t *cpus, unsigned nwords)
{
	if (cpus == NULL)
		return true;
	if (b->sb_cpu < 0 || (unsigned)b->sb_cpu / 64 >= nwords)
		return false;
	return (cpus[b->sb_cpu / 64] >> (b->sb_cpu % 64)) & 1;
}

uint64_t stats_counter_set(const struct stats_counter *c, const uint64_t *cpus, unsigned nwords)
{
	uint64_t t = 0;
	pthread_mutex_lock(&blocks_lock);
	for (struct stats_block *b = blocks; b != NULL; b = b->sb_next)
		if (block_in(b, cpus, nwords))
			t += atomic_load_explicit(&b->sb_counters[c->sc_index], memory_order_relaxed);
	pthread_mutex_unlock(&blocks_lock);
	return t;
}

void stats_hist_summarize(const struct stats_hist *h, int cpu, struct stats_hist_summary *s)
{
	uint64_t one[MAXCPU_WORDS] = {0};
	if (cpu >= 0 && (unsigned)cpu / 64 < MAXCPU_WORDS)
		one[cpu / 64] = 1ULL << (cpu % 64);
	stats_hist_summarize_set(h, cpu >= 0 ? one : NULL, MAXCPU_WORDS, s, NULL);
}

void stats_hist_summarize_set(const struct stats_hist *h, const uint64_t *cpus, unsigned nwords,
    struct stats_hist_summary *s, uint64_t *counts_out)
{
	uint64_t counts[STATS_HIST_BUCKETS];
	memset(counts, 0, sizeof(counts));
	memset(s, 0, sizeof(*s));
	s->hs_min = UINT64_MAX;
	pthread_mutex_lock(&blocks_lock);
	for (struct stats_block *b = blocks; b != NULL; b = b->sb_next) {
		if (!block_in(b, cpus, nwords))
			continue;
		const struct stats_hist_cell *c = &b->sb_hists[h->sh_index];
		s->hs_count += atomic_load_explicit(&c->hc_count, memory_order_relaxed);
		s->hs_sum += atomic_load_explicit(&c->hc_sum, memory_order_relaxed);
		uint64_t mn = atomic_load_explicit(&c->hc_min, memory_order_relaxed);
		uint64_t mx = atomic_load_explicit(&c->hc_max, memory_order_relaxed);
		if (mn < s->hs_min)
			s->hs_min = mn;
		if (mx > s->hs_max)
			s->hs_max = mx;
		for (unsigned k = 0; k < STATS_HIST_BUCKETS; k++)
			counts[k] += atomic_load_explicit(&c->hc_buckets[k], memory_order_relaxed);
	}
	pthread_mutex_unlock(&blocks_lock);
	if (counts_out != NULL)
		memcpy(counts_out, counts, sizeof(counts));
	if (s->hs_count == 0) {
		s->hs_min = 0;
		return;
	}
	s->hs_mean = (double)s->hs_sum / (double)s->hs_count;
	s->hs_p50 = percentile(counts, s->hs_count, 0.50, s->hs_max);
	s->hs_p90 = percentile(counts, s->hs_count, 0.90, s->hs_max);
	s->hs_p99 = percentile(counts, s->hs_count, 0.99, s->hs_max);
	s->hs_p999 = percentile(counts, s->hs_count, 0.999, s->hs_max);
}

unsigned stats_ncounters(void) { return ncounters; }
unsigned stats_nhists(void) { return nhists; }
const struct stats_counter *stats_counter_at(unsigned i) { return i < ncounters ? counters[i] : NULL; }
const struct stats_hist *stats_hist_at(unsigned i) { return i < nhists ? hists[i] : NULL; }

const struct stats_counter *stats_counter_find(const char *name)
{
	for (unsigned i = 0; i < ncounters; i++)
		if (strcmp(counters[i]->sc_name, name) == 0)
			return counters[i];
	return NULL;
}

const struct stats_hist *stats_hist_find(const char *name)
{
	for (unsigned i = 0; i < nhists; i++)
		if (strcmp(hists[i]->sh_name, name) == 0)
			return hists[i];
	return NULL;
}
