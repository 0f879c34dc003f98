/*
 * pmapstorm/stats.h — counters and log-linear latency histograms, per CPU.
 *
 * A counter or histogram is declared where it is bumped, with
 * STATS_COUNTER() / STATS_HIST() at file scope; a constructor registers it,
 * so every one of them reaches reports without further wiring (NetBSD's
 * EVCNT_ATTACH_STATIC, done at load time).
 *
 * Each CPU thread bumps its own block (installed by the machine at
 * cpu_attach()) with relaxed single-writer stores; readers merge all blocks
 * with relaxed loads, so a snapshot taken while CPUs run is approximate but
 * race-free.  Threads that are not CPUs bump a shared block atomically.
 *
 * Histograms are log-linear (HdrHistogram's layout, 16 linear sub-buckets
 * per power of two: at most 6.25 % relative error), of nanoseconds or of any
 * other unsigned quantity.
 */
#ifndef PMAPSTORM_STATS_H
#define PMAPSTORM_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STATS_MAX_COUNTERS 256
#define STATS_MAX_HISTS 32
#define STATS_HIST_SUBBITS 4
#define STATS_HIST_MAXEXP 44
#define STATS_HIST_BUCKETS (((STATS_HIST_MAXEXP - STATS_HIST_SUBBITS + 2) << STATS_HIST_SUBBITS))

struct stats_counter {
	const char *sc_name; /* "module.what", e.g. "tlb.hits" */
	const char *sc_desc;
	unsigned sc_index;
};

struct stats_hist {
	const char *sh_name;
	const char *sh_desc;
	const char *sh_unit; /* "ns", "pages", ... */
	unsigned sh_index;
};

struct stats_hist_cell {
	_Atomic uint64_t hc_count;
	_Atomic uint64_t hc_sum;
	_Atomic uint64_t hc_min;
	_Atomic uint64_t hc_max;
	_Atomic uint64_t hc_buckets[STATS_HIST_BUCKETS];
};

struct stats_block {
	_Atomic uint64_t sb_counters[STATS_MAX_COUNTERS];
	struct stats_hist_cell sb_hists[STATS_MAX_HISTS];
	int sb_cpu;                 /* -1 for the shared block */
	struct stats_block *sb_next;
};

void stats_counter_register(struct stats_counter *);
void stats_hist_register(struct stats_hist *);

#define STATS_COUNTER(var, name, desc)                                         \
	struct stats_counter var = {name, desc, 0};                            \
	__attribute__((constructor)) static void var##_stats_register(void)    \
	{                                                                      \
		stats_counter_register(&var);                                  \
	}
#define STATS_HIST(var, name, unit, desc)                                      \
	struct stats_hist var = {name, desc, unit, 0};                         \
	__attribute__((constructor)) static void var##_stats_register(void)    \
	{                                                                      \
		stats_hist_register(&var);                                     \
	}

extern _Thread_local struct stats_block *stats_tls __attribute__((tls_model("initial-exec")));
extern struct stats_block stats_shared;
/* The switch (config stats.enabled): off, nothing counts — the driver's
 * own cost can then be measured against its cost with statistics on. */
extern bool stats_on;
void stats_enable(bool on);

static inline void stats_add(struct stats_counter *c, uint64_t n)
{
	if (__builtin_expect(!stats_on, 0))
		return;
	struct stats_block *b = stats_tls;
	if (__builtin_expect(b != 0, 1)) {
		/* single writer: a relaxed load and store, no locked instruction */
		_Atomic uint64_t *p = &b->sb_counters[c->sc_index];
		atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + n,
		    memory_order_relaxed);
	} else {
		atomic_fetch_add_explicit(&stats_shared.sb_counters[c->sc_index], n,
		    memory_order_relaxed);
	}
}
#define stats_inc(c) stats_add((c), 1)

/* Bump a block the caller knows is its own (a CPU's hot path). */
static inline void stats_block_inc(struct stats_block *b, struct stats_counter *c)
{
	if (__builtin_expect(!stats_on, 0))
		return;
	_Atomic uint64_t *p = &b->sb_counters[c->sc_index];
	atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + 1, memory_order_relaxed);
}

unsigned stats_hist_bucket(uint64_t value);
uint64_t stats_hist_bucket_low(unsigned bucket);  /* smallest value of a bucket */
void stats_hist_record_shared(struct stats_hist *, uint64_t value); /* a thread that is not a CPU */

/* The bucket of a value (HdrHistogram's log-linear layout; see stats.c). */
static inline unsigned stats_hist_bucket_inline(uint64_t v)
{
	const unsigned sub = 1u << STATS_HIST_SUBBITS;
	if (v < sub)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* e >= SUBBITS */
	if (e > STATS_HIST_MAXEXP)
		return STATS_HIST_BUCKETS - 1;
	unsigned s = (unsigned)(v >> (e - STATS_HIST_SUBBITS)) & (sub - 1);
	return (e - STATS_HIST_SUBBITS + 1) * sub + s;
}

/* Inline, as counters are: a CPU records on the paths it measures (a
 * shootdown's own latency among them), and a call and a second call for
 * the bucket were a fifth of what a round trip's bookkeeping cost. */
static inline void stats_hist_record(struct stats_hist *h, uint64_t v)
{
	if (__builtin_expect(!stats_on, 0))
		return;
	struct stats_block *b = stats_tls;
	if (__builtin_expect(b == 0, 0)) {
		stats_hist_record_shared(h, v);
		return;
	}
	struct stats_hist_cell *c = &b->sb_hists[h->sh_index];
	unsigned k = stats_hist_bucket_inline(v);
	/* single writer: relaxed loads and stores, no locked instruction */
	atomic_store_explicit(&c->hc_count, atomic_load_explicit(&c->hc_count, memory_order_relaxed) + 1,
	    memory_order_relaxed);
	atomic_store_explicit(&c->hc_sum, atomic_load_explicit(&c->hc_sum, memory_order_relaxed) + v,
	    memory_order_relaxed);
	atomic_store_explicit(&c->hc_buckets[k], atomic_load_explicit(&c->hc_buckets[k], memory_order_relaxed) + 1,
	    memory_order_relaxed);
	if (v < atomic_load_explicit(&c->hc_min, memory_order_relaxed))
		atomic_store_explicit(&c->hc_min, v, memory_order_relaxed);
	if (v > atomic_load_explicit(&c->hc_max, memory_order_relaxed))
		atomic_store_explicit(&c->hc_max, v, memory_order_relaxed);
}

/*
 * Sampling: which events of a stream a measurement times, one in n on
 * average, at random — a fixed period aliases with a workload's fixed order
 * of calls (docs/performance.md, section 14).  A generator is a thread's or
 * a CPU's own word: seed it with stats_sample_seed() (the same seed, the
 * same events every run), draw with stats_sample_draw(state,
 * stats_sample_threshold(n)).  The draw is Knuth's MMIX linear
 * congruential generator (TAOCP vol. 2, 3.3.4); the seed goes through
 * splitmix64's finalizer (Steele, Lea, Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014), so nearby seeds start far
 * apart.  lockstat's hold times and pmap's update_cost use it.
 */
static inline uint64_t stats_sample_threshold(unsigned n)
{
	return UINT64_MAX / (n != 0 ? n : 1);
}

static inline bool stats_sample_draw(uint64_t *state, uint64_t threshold)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state <= threshold;
}

static inline uint64_t stats_sample_seed(uint64_t seed)
{
	uint64_t z = seed + 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Per-CPU blocks: the machine creates one per CPU and installs it on attach. */
struct stats_block *stats_block_create(int cpu);
void stats_block_destroy(struct stats_block *);
void stats_attach(struct stats_block *); /* NULL: back to the shared block */
void stats_reset(void);                  /* zero every block */

/* Reading (merging every block) */
uint64_t stats_counter_total(const struct stats_counter *);
uint64_t stats_counter_cpu(const struct stats_counter *, int cpu);
struct stats_hist_summary {
	uint64_t hs_count, hs_sum, hs_min, hs_max;
	uint64_t hs_p50, hs_p90, hs_p99, hs_p999;
	double hs_mean;
};
void stats_hist_summarize(const struct stats_hist *, int cpu /* -1: all */, struct stats_hist_summary *);
/* The same over the CPUs of a set (a bitmap of nwords words; NULL: every
 * block, the shared one included), and the merged bucket counts into
 * counts (STATS_HIST_BUCKETS of them) unless NULL: a role's CPUs. */
void stats_hist_summarize_set(const struct stats_hist *, const uint64_t *cpus, unsigned nwords,
    struct stats_hist_summary *, uint64_t *counts);
/* A counter's sum over the CPUs of a set (NULL: the total). */
uint64_t stats_counter_set(const struct stats_counter *, const uint64_t *cpus, unsigned nwords);
/* The merged bucket counts, for plots: fills counts[STATS_HIST_BUCKETS]. */
void stats_hist_merged(const struct stats_hist *, uint64_t *counts);
unsigned stats_ncounters(void);
unsigned stats_nhists(void);
const struct stats_counter *stats_counter_at(unsigned i);
const struct stats_hist *stats_hist_at(unsigned i);
const struct stats_counter *stats_counter_find(const char *name);
const struct stats_hist *stats_hist_find(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_STATS_H */
