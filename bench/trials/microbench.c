/*
 * microbench.c — what `pmapstorm microbench` measures (microbench.h): the
 * model's unit costs on one CPU pair, against the physical floor measured
 * in the same run.
 *
 *  tlb_hit_ns       mmu_load() of one mapped page, TLB hit (CPU 0 alone)
 *  tlb_miss_ns      mmu_load() cycling over more pages than the TLB holds:
 *                   every access misses and walks four levels
 *  lock pairs       an uncontended acquire+release, bare library call and
 *                   lock layer with lockstat off and on (CPU 0 alone), and
 *                   bare and layer (off) around a one-store section; this
 *                   and the TLB figures: the best of MB_ROUNDS blocks, taken
 *                   in rounds that measure every one of them in turn
 *  core_cycles      the host core itself, once in every round of those:
 *                   a loop of 8 independent one-cycle operations, in cycles
 *                   of a dependent multiply-add chain timed beside it (the
 *                   host PU of CPU 0; real time, x86-64) — about 2.5 when
 *                   the thread has the core's issue slots to itself, 4 or
 *                   more when another hardware thread shares them (rounds
 *                   at MB_CORE_SHARED or more are counted; docs/
 *                   performance.md, section 21); and the same on each of
 *                   the host PUs of CPUs 0 and 1 before every model trial
 *                   of the scaling rounds (scale_core)
 *  shootdown_rtt_ns pmap_update() after pmap_remove() of a page CPU 1 keeps
 *                   loading (CPU 1 loops on mmu_load + cpu_intr_poll): one
 *                   IPI, one early acknowledgement (median of many)
 *  pingpong_rtt_ns  a cache line bounced between the same two threads
 *                   (median of batches): the hardware floor of any
 *                   cross-CPU request/acknowledge protocol
 *  ratio            shootdown_rtt / pingpong_rtt
 *  scaling          total operations per second of a workload through the
 *                   experiment driver on 1 and 2 CPUs (and on every host
 *                   PU when the host has more than 2), the best of
 *                   MB_TRIALS trials of 0.3 s, every point's trials taken
 *                   in turn: munmap (len 1) on private pmaps, munmap on
 *                   one shared pmap (will-it-scale tlb_flush2's pattern),
 *                   touch on private pmaps; and the p50 shootdown latency
 *                   of the shared munmap on 2 CPUs (both shoot at each
 *                   other; the median trial) over that of the same munmap
 *                   on CPU 0 alone while CPU 1 runs touch in its pmap (a
 *                   target that shoots nothing back; a trial in every round)
 *  host_ops         the host kernel under will-it-scale tlb_flush2's loop
 *                   (tlbflush2.c: touch a page, madvise(MADV_DONTNEED) it)
 *                   on the host PUs of CPUs 0 and 1: one thread, and two
 *                   threads of one process, a trial of 0.1 s each in every
 *                   round of the scaling trials, the best — the shared
 *                   munmap's host counterpart, for its scaling and its
 *                   speed; and one process and two processes (an address
 *                   space each: no shootdown) — the private munmap's; and
 *                   one and two threads of random loads over their own
 *                   128 pages, no system call — the private touch's
 *  poolpage_*_ns    uvm_km_alloc_poolpage_cache + uvm_km_free_poolpage_cache
 *                   pairs (issue 4), each mode on a machine of its own:
 *                   direct and vacache with CPU 0 alone (mean of best
 *                   batch); then with CPU 1 attached and polling (the
 *                   kernel pmap is active on every CPU), the page written
 *                   between alloc and free so its free needs a shootdown:
 *                   the vacache pair with that shootdown, the direct pair
 *                   (no shootdown: no TLB entry), and their ratio (medians)
 *
 * The command (commands/cmd_microbench.c) prints every figure beside its
 * target, with "not met" where it falls short (the targets of issues 3, 4
 * and 17).  These are benchmark figures; nothing passes or fails on timing.
 */
#include "trials/microbench.h"
#include "common/msg.h"
#include "common/samples.h"
#include "experiment/experiment.h"
#include "trials/driver.h"
#include "trials/hostmem.h"
#include "trials/pingpong.h"
#include "trials/tlbflush2.h"
#include "trials/workloads/workload.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pmapstorm/alloc.h>
#include <pmapstorm/pmap.h>
#include <pmapstorm/stats.h>
#include <pmapstorm/topo.h>
#include <pmapstorm/uvm_km.h>
#include <pmapstorm/uvm_page.h>

#include <ck_rwlock.h>
#include <ck_spinlock.h>
#include <pthread.h>

#define MB_VA 0x10000000ULL

struct mb_state {
	struct machine *m;
	const struct machine_config *cfg;
	struct mb_lockcost locks[MB_MAXALGO];
	unsigned nlocks;
	pmap_t pm;
	unsigned rounds;      /* shootdown and ping-pong samples */
	unsigned miss_pages;
	bool sd_only;         /* the shootdown and ping-pong only (calibrate) */
	/* CPU 0 <-> CPU 1 */
	_Atomic unsigned phase;
	_Atomic uint64_t seen __attribute__((aligned(64)));
	_Atomic uint64_t ball __attribute__((aligned(64)));
	/* results */
	double hit_ns, miss_ns;
	double core_cycles[MB_ROUNDS]; /* mb_core_probe() of each round; 0: not measured */
	uint64_t *sd_samples, *pp_samples;
	unsigned sd_n, pp_n;
};

enum { PH_SOLO, PH_SHOOT, PH_PINGPONG, PH_DONE };

static struct vm_page *mb_page(void)
{
	struct vm_page *pg;
	while ((pg = uvm_pagealloc(NULL, 0, NULL, UVM_PGA_ZERO)) == NULL)
		uvm_wait("mbpage");
	return pg;
}

static void wait_phase(struct mb_state *s, unsigned ph)
{
	unsigned iter = 0;
	while (atomic_load(&s->phase) < ph)
		cpu_spin_wait(&iter);
}

/* ---- lock costs: one CPU, uncontended acquire+release pairs ---- */

/*
 * The fast figures (TLB hit and miss, every lock pair) are blocks of a few
 * milliseconds, taken in MB_ROUNDS rounds that each measure every figure
 * once, and each figure is its best block.  The host's own speed changes
 * from one fraction of a second to the next (on the 2-PU VM of
 * docs/performance.md, section 17, a TLB hit took 4.2 ns in one boot and
 * 7.8 ns in the next, its structures at the same page offsets; section 21:
 * the phases are another hardware thread taking the core's issue slots):
 * five blocks in a row measured a figure inside one such phase, and a
 * layer and its bare library call in different phases.  Rounds spread each
 * figure's blocks over the whole measurement, and keep a ratio's two sides
 * next to each other; each round also times the core (mb_core_probe).
 */
#define LOCK_ITERS 300000
#define HIT_ITERS 1000000
#define MISS_PASSES 32

/*
 * The critical section: empty, or one store to the data the lock guards
 * (a line of its own).  An empty one is the layer's whole cost; but where
 * the algorithm's release is a locked instruction (ticket, clh's queue,
 * pthread), that instruction waits until every earlier store has left the
 * store buffer, and the layer's owner store is then the only one it waits
 * for.  Around a section that writes, as every one in the model does, the
 * release waits for that write anyway (docs/performance.md, section 18).
 */
static _Atomic unsigned long mb_cs_word __attribute__((aligned(64)));
#define MB_CS(i)                                                                         \
	do {                                                                             \
		if (cs)                                                                  \
			atomic_store_explicit(&mb_cs_word, (i), memory_order_relaxed);   \
	} while (0)

/* Both pair timers are inlined where they are called, and every call
 * passes cs (and stat) as constants: MB_CS's test is compiled away, and
 * no loop times a branch the other does not. */
#define MB_PAIR static inline __attribute__((always_inline))

/* the algorithm's own library calls, without the lock layer: one block */
MB_PAIR double bare_pair_ns(const char *name, const bool cs)
{
	uint64_t t0 = 0, t1 = 0;
	if (!strcmp(name, "tas")) {
		ck_spinlock_fas_t l = CK_SPINLOCK_FAS_INITIALIZER;
		t0 = cpu_now_ns();
		for (unsigned i = 0; i < LOCK_ITERS; i++) {
			ck_spinlock_fas_lock_eb(&l);
			MB_CS(i);
			ck_spinlock_fas_unlock(&l);
		}
		t1 = cpu_now_ns();
	} else if (!strcmp(name, "ticket")) {
		ck_spinlock_ticket_t l = CK_SPINLOCK_TICKET_INITIALIZER;
		t0 = cpu_now_ns();
		for (unsigned i = 0; i < LOCK_ITERS; i++) {
			ck_spinlock_ticket_lock(&l);
			MB_CS(i);
			ck_spinlock_ticket_unlock(&l);
		}
		t1 = cpu_now_ns();
	} else if (!strcmp(name, "mcs")) {
		ck_spinlock_mcs_t l = CK_SPINLOCK_MCS_INITIALIZER;
		ck_spinlock_mcs_context_t node;
		t0 = cpu_now_ns();
		for (unsigned i = 0; i < LOCK_ITERS; i++) {
			ck_spinlock_mcs_lock(&l, &node);
			MB_CS(i);
			ck_spinlock_mcs_unlock(&l, &node);
		}
		t1 = cpu_now_ns();
	} else if (!strcmp(name, "clh")) {
		ck_spinlock_clh_t *l, unowned, mine, *me = &mine;
		ck_spinlock_clh_init(&l, &unowned);
		t0 = cpu_now_ns();
		for (unsigned i = 0; i < LOCK_ITERS; i++) {
			ck_spinlock_clh_lock(&l, me);
			MB_CS(i);
			ck_spinlock_clh_unlock(&me);
		}
		t1 = cpu_now_ns();
	} else if (!strcmp(name, "pthread") || !strcmp(name, "pthread-adaptive")) {
		pthread_mutex_t l;
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, !strcmp(name, "pthread") ? PTHREAD_MUTEX_NORMAL : PTHREAD_MUTEX_ADAPTIVE_NP);
		pthread_mutex_init(&l, &a);
		t0 = cpu_now_ns();
		for (unsigned i = 0; i < LOCK_ITERS; i++) {
			pthread_mutex_lock(&l);
			MB_CS(i);
			pthread_mutex_unlock(&l);
		}
		t1 = cpu_now_ns();
		pthread_mutex_destroy(&l);
	} else if (!strcmp(name, "ck-rw")) {
		ck_rwlock_t l = CK_RWLOCK_INITIALIZER;
		t0 = cpu_now_ns();
		for (unsigned i = 0; i < LOCK_ITERS; i++) {
			ck_rwlock_write_lock(&l);
			MB_CS(i);
			ck_rwlock_write_unlock(&l);
		}
		t1 = cpu_now_ns();
	} else if (!strcmp(name, "pthread-rw")) {
		pthread_rwlock_t l;
		pthread_rwlock_init(&l, NULL);
		t0 = cpu_now_ns();
		for (unsigned i = 0; i < LOCK_ITERS; i++) {
			pthread_rwlock_wrlock(&l);
			MB_CS(i);
			pthread_rwlock_unlock(&l);
		}
		t1 = cpu_now_ns();
		pthread_rwlock_destroy(&l);
	} else {
		return 0;
	}
	return (double)(t1 - t0) / LOCK_ITERS;
}

/* through the lock layer: a lock of class pool (or kernel_map for rw), one block */
MB_PAIR double layer_pair_ns(const struct machine_config *cfg, const struct lock_algo_info *li, const bool stat,
    const bool cs)
{
	char algo[LC_NCLASS][LOCK_ALGO_NAMELEN];
	enum lock_wait wait;
	bool run_stat, unsafe;
	lock_config_read(cfg, algo, &wait, &run_stat, &unsafe);
	lock_class_t cls = li->li_rw ? LC_KERNEL_MAP : LC_POOL;
	snprintf(algo[cls], LOCK_ALGO_NAMELEN, "%s", li->li_name);
	lock_configure((const char(*)[LOCK_ALGO_NAMELEN])algo, wait, stat, false);
	krwlock_t rw;
	kmutex_t m;
	if (li->li_rw)
		rw_init(&rw, cls);
	else
		mutex_init(&m, cls);
	uint64_t t0 = cpu_now_ns();
	if (li->li_rw)
		for (unsigned i = 0; i < LOCK_ITERS; i++) {
			rw_enter(&rw, RW_WRITER);
			MB_CS(i);
			rw_exit(&rw);
		}
	else
		for (unsigned i = 0; i < LOCK_ITERS; i++) {
			mutex_enter(&m);
			MB_CS(i);
			mutex_exit(&m);
		}
	const double ns = (double)(cpu_now_ns() - t0) / LOCK_ITERS;
	if (li->li_rw)
		rw_destroy(&rw);
	else
		mutex_destroy(&m);
	/* back to the run's own configuration */
	lock_configure_from(cfg);
	return ns;
}

static inline void mb_keep_best(double *best, double ns)
{
	if (ns > 0 && (*best == 0 || ns < *best))
		*best = ns;
}

/* One round of the lock pairs: each algorithm's bare call, then the layer
 * with lockstat off and on, side by side; then the bare call and the layer
 * (lockstat off) around a one-store critical section */
static void mb_locks_round(struct mb_state *s)
{
	const struct lock_algo_info *li;
	unsigned n = 0;
	for (unsigned k = 0; (li = lock_algo_at(k)) != NULL && n < MB_MAXALGO; k++) {
		if (li->li_unsafe)
			continue;
		struct mb_lockcost *c = &s->locks[n++];
		c->name = li->li_name;
		mb_keep_best(&c->bare_ns, bare_pair_ns(li->li_name, false));
		mb_keep_best(&c->off_ns, layer_pair_ns(s->cfg, li, false, false));
		mb_keep_best(&c->on_ns, layer_pair_ns(s->cfg, li, true, false));
		mb_keep_best(&c->cs_bare_ns, bare_pair_ns(li->li_name, true));
		mb_keep_best(&c->cs_off_ns, layer_pair_ns(s->cfg, li, false, true));
	}
	s->nlocks = n;
}

/* One trial of touch on one CPU through the driver: ns per operation, 0 if it failed */
static double driver_touch_trial(const struct machine_config *base, bool stats)
{
	struct machine_config cfg = *base;
	cfg.mc_ncpu = 1;
	cfg.mc_stats = stats;
	machine_config_set(&cfg, "locks.lockstat", stats ? "on" : "off");
	struct exp_point pt;
	exp_point_single(&pt, &cfg, "touch", 0.05, 0.3);
	struct trial_result *r = mem_zalloc(struct trial_result, 1);
	_Atomic int stop = 0;
	double ns = 0;
	if (r != NULL && trial_run(&pt, 0, 1, r, &stop) == 0) {
		const struct metric *m = trial_metric(r, "ops_per_s.touch"); /* exp_point_single names the role */
		ns = m && m->m_value > 0 ? 1e9 / m->m_value : 0;
	}
	if (r != NULL)
		trial_free(r);
	free(r);
	return ns;
}

/* The driver's own cost: touch on one CPU through the driver, statistics
 * on and off in turn, the best of MB_TRIALS trials each. */
static void driver_touch(const struct machine_config *base, double *on, double *off)
{
	*on = *off = 0;
	for (int rep = 0; rep < MB_TRIALS; rep++) {
		mb_keep_best(on, driver_touch_trial(base, true));
		mb_keep_best(off, driver_touch_trial(base, false));
	}
}

/* TLB hit: one block of loads of a mapped page (CPU 0 alone); sink keeps them */
static double tlb_hit_block(uint64_t *sink)
{
	uint64_t v = 0, sum = 0;
	uint64_t t0 = cpu_now_ns();
	for (unsigned i = 0; i < HIT_ITERS; i++) {
		mmu_load(MB_VA, &v);
		sum += v;
	}
	const double ns = (double)(cpu_now_ns() - t0) / HIT_ITERS;
	*sink += sum;
	return ns;
}

/*
 * The host core's share of issue slots, as the rounds go (section 21 of
 * docs/performance.md): the time of 8 independent one-cycle operations per
 * iteration (their dependency chains are one cycle long: the core issues
 * them as fast as it has slots) over that of a dependent chain of a
 * multiply and an add (3 + 1 cycles on Intel cores since Nehalem and AMD's
 * since Zen; another thread on the core hardly slows it), times 4: cycles
 * per iteration, whatever the clock rate.  The loop is 10 micro-operations
 * an iteration (9 once the compare and branch fuse); a core that gives the
 * thread all of its 4 or more ALU slots runs it in 2.5–2.9 cycles, one
 * whose other hardware thread (another tenant of a VM host) is busy, in 4
 * or more.  Each loop is run CORE_REPS times in turn and the fastest of
 * each kept, so a preemption inside one does not make a round look shared
 * (in the loop) or hide a shared one (in the chain).  Host time
 * (trial_host_ns), about 1.5 ms.  Both loops are written in assembly: a
 * compiler's register moves in the chain would lengthen it on cores
 * without move elimination.  Where CPUs 0 and 1 are hardware threads of
 * one core, CPU 1's own spinning takes slots too.
 */
#define CORE_ITERS 150000
#define CORE_REPS 3

static double mb_core_probe(void)
{
#if defined(__x86_64__)
	double chain = 0, loop = 0;
	for (unsigned rep = 0; rep < CORE_REPS; rep++) {
		uint64_t x = 1, n = CORE_ITERS, k = 0x9e3779b97f4a7c15ULL;
		uint64_t i = 0, v0 = 0, v1 = 1, v2 = 2, v3 = 3, v4 = 4, v5 = 5, v6 = 6, v7 = 7;
		const uint64_t a = trial_host_ns();
		/* the chain: imul (3 cycles) then add (1), each on the last's
		 * result ("memory": kept between the clock reads) */
		__asm__ volatile("1:\n\timul %[k], %[x]\n\tadd $1, %[x]\n\tdec %[n]\n\tjnz 1b"
		                 : [x] "+r"(x), [n] "+r"(n)
		                 : [k] "r"(k)
		                 : "cc", "memory");
		const uint64_t b = trial_host_ns();
		/* the loop: 8 one-cycle operations whose chains are one cycle
		 * long, and the count */
		__asm__ volatile("1:\n\tadd %[i], %[v0]\n\txor %[i], %[v1]\n\tadd %[v0], %[v2]\n\txor %[v1], %[v3]\n\t"
		                 "add %[i], %[v4]\n\txor %[i], %[v5]\n\tadd %[v4], %[v6]\n\txor %[v5], %[v7]\n\t"
		                 "add $1, %[i]\n\tcmp %[n], %[i]\n\tjne 1b"
		                 : [i] "+r"(i), [v0] "+r"(v0), [v1] "+r"(v1), [v2] "+r"(v2), [v3] "+r"(v3),
		                 [v4] "+r"(v4), [v5] "+r"(v5), [v6] "+r"(v6), [v7] "+r"(v7)
		                 : [n] "r"((uint64_t)CORE_ITERS)
		                 : "cc", "memory");
		const uint64_t c = trial_host_ns();
		const double tc = (double)(b - a), tl = (double)(c - b);
		if (chain == 0 || tc < chain)
			chain = tc;
		if (loop == 0 || tl < loop)
			loop = tl;
	}
	return chain > 0 ? 4 * loop / chain : 0;
#else
	return 0; /* not measured: the probe is x86-64's */
#endif
}

/* mb_core_probe() on one host PU, from a thread bound to it (the caller's
 * binding stays as it was) */
struct mb_core_on {
	int pu;
	double cycles; /* 0: the PU could not be bound to */
};

static void *mb_core_on_pu_thread(void *arg)
{
	struct mb_core_on *a = arg;
	a->cycles = topo_bind_host_pu(a->pu) == 0 ? mb_core_probe() : 0;
	return NULL;
}

double microbench_core_on_pu(int pu)
{
	struct mb_core_on a = {.pu = pu, .cycles = 0};
	pthread_t t;
	if (pthread_create(&t, NULL, mb_core_on_pu_thread, &a) != 0)
		return 0;
	pthread_join(t, NULL);
	return a.cycles;
}

unsigned microbench_core_summary(const double *cycles, unsigned n, double *best, double *worst)
{
	*best = *worst = 0;
	for (unsigned i = 0; i < n; i++) {
		if (cycles[i] <= 0)
			continue;
		if (*best == 0 || cycles[i] < *best)
			*best = cycles[i];
		if (cycles[i] > *worst)
			*worst = cycles[i];
	}
	unsigned slow = 0;
	for (unsigned i = 0; i < n; i++)
		slow += cycles[i] >= MB_CORE_SHARED;
	return slow;
}

/* TLB miss: one block of passes over more pages than the TLB holds */
static double tlb_miss_block(const struct mb_state *s, vaddr_t base, uint64_t *sink)
{
	uint64_t v = 0, sum = 0;
	unsigned n = 0;
	uint64_t t0 = cpu_now_ns();
	for (unsigned r = 0; r < MISS_PASSES; r++)
		for (unsigned i = 0; i < s->miss_pages; i++, n++) {
			mmu_load(base + ptoa(i), &v);
			sum += v;
		}
	const double ns = (double)(cpu_now_ns() - t0) / n;
	*sink += sum;
	return ns;
}

/* The fast figures in rounds (see MB_ROUNDS): TLB hit, TLB miss, and every
 * lock pair, each its best block */
static void mb_fast_figures(struct mb_state *s, uint64_t *sink)
{
	uint64_t v;
	mmu_load(MB_VA, &v); /* the hit's entry */
	vaddr_t base = MB_VA + 0x1000000ULL;
	struct vm_page **pages = mem_zalloc(struct vm_page *, s->miss_pages);
	for (unsigned i = 0; pages != NULL && i < s->miss_pages; i++) {
		pages[i] = mb_page();
		pmap_enter(s->pm, base + ptoa(i), VM_PAGE_TO_PHYS(pages[i]), VM_PROT_READ, VM_PROT_READ);
	}
	pmap_update(s->pm);
	const bool host_time = s->cfg->mc_engine != MACHINE_ENGINE_VIRTUAL;
	for (unsigned r = 0; r < MB_ROUNDS; r++) {
		if (host_time)
			s->core_cycles[r] = mb_core_probe();
		mb_keep_best(&s->hit_ns, tlb_hit_block(sink));
		if (pages != NULL) /* else the miss stays unmeasured (0) */
			mb_keep_best(&s->miss_ns, tlb_miss_block(s, base, sink));
		mb_locks_round(s);
	}
	if (pages == NULL)
		return;
	pmap_remove(s->pm, base, base + ptoa(s->miss_pages));
	pmap_update(s->pm);
	for (unsigned i = 0; i < s->miss_pages; i++)
		uvm_pagefree(pages[i]);
	free(pages);
}

static void cpu0(struct mb_state *s)
{
	uint64_t sink = 0;
	struct vm_page *pg = mb_page();
	pmap_enter(s->pm, MB_VA, VM_PAGE_TO_PHYS(pg), VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ | VM_PROT_WRITE);
	pmap_update(s->pm);
	if (!s->sd_only) {
		mb_fast_figures(s, &sink);
		stats_reset(); /* the lockstat table below is the rest of the run's */
	}

	/* ---- shootdown round trip: CPU 1 keeps loading MB_VA ---- */
	pmap_remove(s->pm, MB_VA, MB_VA + PAGE_SIZE);
	/* a neighbour keeps the page tables alive, as in a process with other
	 * mappings: the round trip is measured, not page-table freeing */
	pmap_enter(s->pm, MB_VA + PAGE_SIZE, VM_PAGE_TO_PHYS(pg), VM_PROT_READ, 0);
	pmap_update(s->pm);
	_Atomic uint64_t *word = machine_phys(VM_PAGE_TO_PHYS(pg));
	atomic_store(&s->phase, PH_SHOOT);
	for (unsigned i = 1; i <= s->rounds; i++) {
		atomic_store_explicit(word, i, memory_order_relaxed);
		pmap_enter(s->pm, MB_VA, VM_PAGE_TO_PHYS(pg), VM_PROT_READ, VM_PROT_READ);
		pmap_update(s->pm);
		unsigned iter = 0;
		while (atomic_load_explicit(&s->seen, memory_order_acquire) != i)
			cpu_spin_wait(&iter); /* CPU 1 has the translation cached */
		pmap_remove(s->pm, MB_VA, MB_VA + PAGE_SIZE);
		uint64_t t0 = cpu_now_ns();
		pmap_update(s->pm);
		s->sd_samples[s->sd_n++] = cpu_now_ns() - t0;
	}
	/* ---- ping-pong ---- */
	atomic_store(&s->phase, PH_PINGPONG);
	s->pp_n = pingpong_lead(&s->ball, s->rounds / PINGPONG_BATCH, s->pp_samples);
	atomic_store(&s->phase, PH_DONE);
	pmap_remove(s->pm, MB_VA + PAGE_SIZE, MB_VA + 2 * PAGE_SIZE);
	pmap_update(s->pm);
	uvm_pagefree(pg);
	if (sink == 42)
		fprintf(stderr, " ");
}

static void cpu1(struct mb_state *s)
{
	wait_phase(s, PH_SHOOT);
	while (atomic_load_explicit(&s->phase, memory_order_relaxed) == PH_SHOOT) {
		uint64_t v;
		if (mmu_load(MB_VA, &v) == 0 && v != atomic_load_explicit(&s->seen, memory_order_relaxed))
			atomic_store_explicit(&s->seen, v, memory_order_release);
		cpu_intr_poll();
	}
	wait_phase(s, PH_PINGPONG);
	pingpong_follow(&s->ball, s->rounds / PINGPONG_BATCH);
	wait_phase(s, PH_DONE);
}

static void mb_main(unsigned cpu, void *arg)
{
	struct mb_state *s = arg;
	struct lwp *l = lwp_create(s->pm);
	lwp_switch(l);
	if (cpu == 0)
		cpu0(s);
	else if (cpu == 1)
		cpu1(s);
	lwp_switch(NULL);
	lwp_destroy(l);
}

/* ---- pool pages (issue 4) ---- */

#define PP_ITERS 200000
#define PP_SAMPLES 20000

struct mb_pp {
	double solo_ns;              /* one CPU, pair without touching the page */
	uint64_t dual_med, dual_p90; /* CPU 1 attached, page written: pair incl. shootdown */
	_Atomic int dual_phase;
	uint64_t *samples;
};

static void pp_solo(unsigned cpu, void *arg)
{
	struct mb_pp *p = arg;
	(void)cpu;
	for (unsigned i = 0; i < 1000; i++) /* warm: the first kva-cache chunk, page caches */
		uvm_km_free_poolpage_cache(kernel_map, uvm_km_alloc_poolpage_cache(kernel_map, true));
	double best = 1e30;
	for (int rep = 0; rep < 5; rep++) {
		uint64_t t0 = cpu_now_ns();
		for (unsigned i = 0; i < PP_ITERS; i++)
			uvm_km_free_poolpage_cache(kernel_map, uvm_km_alloc_poolpage_cache(kernel_map, true));
		double ns = (double)(cpu_now_ns() - t0) / PP_ITERS;
		if (ns < best)
			best = ns;
	}
	p->solo_ns = best;
}

static void pp_dual(unsigned cpu, void *arg)
{
	struct mb_pp *p = arg;
	if (cpu == 1) {
		/* CPU 1 runs in the kernel pmap and takes its IPIs */
		while (atomic_load_explicit(&p->dual_phase, memory_order_relaxed) == 0)
			cpu_intr_poll();
		return;
	}
	for (unsigned i = 0; i < PP_SAMPLES + 1000; i++) {
		uint64_t t0 = cpu_now_ns();
		vaddr_t va = uvm_km_alloc_poolpage_cache(kernel_map, true);
		mmu_store(va, i); /* referenced: its translation may be cached, so its free shoots down */
		uvm_km_free_poolpage_cache(kernel_map, va);
		if (i >= 1000)
			p->samples[i - 1000] = cpu_now_ns() - t0;
	}
	p->dual_med = samples_pct_u64(p->samples, PP_SAMPLES, 0.5);
	p->dual_p90 = samples_pct_u64(p->samples, PP_SAMPLES, 0.9);
	atomic_store(&p->dual_phase, 1);
}

/* One mode on a machine of its own.  0 or an errno (machine_errmsg). */
static int mb_poolpage(const struct machine_config *cfg, const char *mode, struct mb_pp *p)
{
	struct machine_config c = *cfg;
	int err = machine_config_set(&c, "kmem.poolpage", mode);
	if (err != 0)
		return err;
	struct machine *m = machine_boot(&c);
	if (m == NULL)
		return errno;
	p->samples = mem_zalloc(uint64_t, PP_SAMPLES);
	if (p->samples == NULL)
		err = ENOMEM;
	else if ((err = machine_run(m, 1, pp_solo, p)) == 0)
		err = machine_run(m, 2, pp_dual, p);
	free(p->samples);
	p->samples = NULL;
	machine_halt(m);
	return err;
}

/* ---- scaling: workloads through the driver on 1, 2 and N CPUs ---- */

/* One trial (t) of pt: the named role's total ops/s, update cost p50 and
 * remote latency p50 (0 where not measured; any may be NULL) */
static int mb_point_trial(const struct exp_point *pt, unsigned t, const char *role, double *ops, double *lat,
    double *rl)
{
	struct trial_result *res = mem_zalloc(struct trial_result, 1);
	_Atomic int stop = 0;
	if (res == NULL)
		return ENOMEM;
	int rc = trial_run(pt, t, 1 + t, res, &stop);
	static const char *const names[3] = {
	    "ops_per_s",
	    "update_cost_p50",    /* a completion, page operations included */
	    "remote_latency_p50", /* the shootdowns alone */
	};
	double *const out[3] = {ops, lat, rl};
	for (unsigned i = 0; rc == 0 && i < 3; i++) {
		char name[128];
		snprintf(name, sizeof(name), "%s.%s", names[i], role);
		const struct metric *m = trial_metric(res, name);
		if (out[i] != NULL)
			*out[i] = m != NULL ? m->m_value : 0;
	}
	trial_free(res);
	free(res);
	return rc;
}

/* One trial of one point (CPU count k) of a scaling workload, 0.3 s:
 * total ops/s, update cost p50, remote latency p50 (0 where not measured) */
static int mb_scale_trial(const struct machine_config *base, const struct mb_scale *sc, unsigned k, unsigned t,
    double *ops, double *lat, double *rl)
{
	struct machine_config cfg = *base;
	cfg.mc_ncpu = sc->ncpu[k];
	struct exp_point pt;
	exp_point_single(&pt, &cfg, sc->workload, 0.05, 0.3);
	struct exp_role *r = &pt.ep_roles[0];
	snprintf(r->er_pmap, sizeof(r->er_pmap), "%s", sc->private_pmap ? "private" : "shared");
	r->er_private_pmap = sc->private_pmap;
	if (sc->len != NULL) {
		r->er_optkeys[0] = "len";
		r->er_optvals[0] = sc->len;
		r->er_nopts = 1;
	}
	/* exp_point_single names the role after its workload */
	return mb_point_trial(&pt, t, r->er_name, ops, lat, rl);
}

void microbench_single_point(const struct machine_config *base, struct exp_point *pt)
{
	struct machine_config cfg = *base;
	cfg.mc_ncpu = 2;
	exp_point_single(pt, &cfg, "munmap", 0.05, 0.3);
	pt->ep_nroles = 2;
	static const char *const roles[2][3] = {{"unmap", "munmap", "0"}, {"target", "touch", "1"}};
	for (unsigned i = 0; i < 2; i++) {
		struct exp_role *r = &pt->ep_roles[i];
		snprintf(r->er_name, sizeof(r->er_name), "%s", roles[i][0]);
		r->er_workload = workload_find(roles[i][1]);
		snprintf(r->er_cpus, sizeof(r->er_cpus), "%s", roles[i][2]);
		snprintf(r->er_pmap, sizeof(r->er_pmap), "mb"); /* one pmap, named by both roles */
		r->er_private_pmap = false;
	}
	pt->ep_roles[0].er_optkeys[0] = "len";
	pt->ep_roles[0].er_optvals[0] = "1";
	pt->ep_roles[0].er_nopts = 1;
}

/* One trial of microbench_single_point(): the unmap role's remote latency
 * p50 (ns), 0 if none was measured */
static int mb_single_trial(const struct machine_config *base, unsigned t, double *rl)
{
	struct exp_point pt;
	microbench_single_point(base, &pt);
	return mb_point_trial(&pt, t, "unmap", NULL, NULL, rl);
}

double microbench_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(double), samples_cmp_double);
	unsigned z = 0;
	while (z < n && !(v[z] > 0))
		z++;
	return z < n ? samples_median_sorted(v + z, n - z) : 0;
}

unsigned microbench_pair_measured(double *a, double *b, unsigned n)
{
	unsigned both = 0;
	for (unsigned i = 0; i < n; i++) {
		if (a[i] > 0 && b[i] > 0)
			both++;
		else
			a[i] = b[i] = 0;
	}
	return both;
}

/* the median of the MB_TRIALS trials' values (microbench_median) */
static double mb_median(double *v)
{
	return microbench_median(v, MB_TRIALS);
}

double microbench_scale_ratio(const struct mb_scale *sc, unsigned k)
{
	return sc->ops[0] > 0 ? sc->ops[k] / sc->ops[0] : 0;
}

double microbench_host_ratio(const double ops[2])
{
	return ops[0] > 0 && ops[1] > 0 ? ops[1] / ops[0] : 0;
}

int microbench_shootdown(const struct machine_config *base, unsigned rounds, uint64_t *sd_med, uint64_t *pp_med)
{
	struct machine_config cfg = *base;
	cfg.mc_ncpu = 2;
	struct machine *m = machine_boot(&cfg);
	if (m == NULL)
		return errno;
	struct mb_state *s = mem_zalloc(struct mb_state, 1);
	int err = ENOMEM;
	if (s == NULL)
		goto out;
	s->m = m;
	s->cfg = &cfg;
	s->rounds = rounds;
	s->sd_only = true;
	s->sd_samples = mem_zalloc(uint64_t, rounds);
	s->pp_samples = mem_zalloc(uint64_t, rounds);
	if (s->sd_samples == NULL || s->pp_samples == NULL || (err = cpu_attach(m, 0)) != 0)
		goto out;
	s->pm = pmap_create();
	cpu_detach();
	err = machine_run(m, 2, mb_main, s);
	cpu_attach(m, 0);
	pmap_destroy(s->pm);
	cpu_detach();
	*sd_med = samples_pct_u64(s->sd_samples, s->sd_n, 0.5);
	*pp_med = samples_pct_u64(s->pp_samples, s->pp_n, 0.5);
out:
	if (s != NULL) {
		free(s->sd_samples);
		free(s->pp_samples);
	}
	free(s);
	machine_halt(m);
	return err;
}

/* ---- every figure, one machine at a time ---- */

/* CPUs 0 and 1 of one machine: the lock pairs, TLB hit and miss, the
 * shootdown round trip and the ping-pong; the run's lockstat rows and the
 * model's metadata */
static int mb_pair(const struct machine_config *cfg, unsigned rounds, struct microbench_result *out)
{
	struct machine *m = machine_boot(cfg);
	if (m == NULL) {
		int err = errno;
		msg_error("microbench: %s", machine_errmsg());
		return err == EINVAL ? EINVAL : err_env(err);
	}
	int rc = 0;
	struct mb_state *s = mem_zalloc(struct mb_state, 1);
	if (s != NULL) {
		s->sd_samples = mem_zalloc(uint64_t, rounds);
		s->pp_samples = mem_zalloc(uint64_t, rounds);
	}
	if (s == NULL || s->sd_samples == NULL || s->pp_samples == NULL) {
		msg_error("microbench: out of host memory");
		rc = ENOMEM;
		goto out;
	}
	s->m = m;
	s->cfg = cfg;
	s->rounds = rounds;
	s->miss_pages = cfg->mc_tlb_entries * 4 > 1024 ? cfg->mc_tlb_entries * 4 : 1024;
	if (s->miss_pages > machine_phys_pages(m) / 2) {
		msg_error("microbench: machine.memory is too small for %u pages of TLB-miss working set", s->miss_pages);
		rc = EINVAL;
		goto out;
	}
	/* the pmap outlives both CPU threads: created and freed around the run */
	if ((rc = cpu_attach(m, 0)) != 0) {
		msg_error("microbench: %s", machine_errmsg());
		rc = err_env(rc);
		goto out;
	}
	s->pm = pmap_create();
	cpu_detach();
	if ((rc = machine_run(m, 2, mb_main, s)) != 0) {
		msg_error("microbench: %s", machine_errmsg());
		rc = err_env(rc);
		goto out;
	}
	/* the single-target loop's shootdowns as the driver measures them
	 * (shootdown.latency: the request to its last acknowledgement), a
	 * figure beside the mutual one ("single target, round-trip loop";
	 * its divisor is the same munmap with one target: mb_single_trial) */
	struct stats_hist_summary hs;
	stats_hist_summarize(stats_hist_find("shootdown.latency"), -1, &hs);
	out->sd_lat_p50 = hs.hs_p50;
	cpu_attach(m, 0);
	pmap_destroy(s->pm);
	cpu_detach();
	out->hit_ns = s->hit_ns;
	out->miss_ns = s->miss_ns;
	memcpy(out->core_cycles, s->core_cycles, sizeof(out->core_cycles));
	out->core_why = cfg->mc_engine == MACHINE_ENGINE_VIRTUAL ? "virtual time" : "the probe is x86-64's";
	out->sd_med = samples_pct_u64(s->sd_samples, s->sd_n, 0.5); /* sorts them */
	out->sd_p90 = samples_pct_u64(s->sd_samples, s->sd_n, 0.9);
	out->sd_min = s->sd_n ? s->sd_samples[0] : 0;
	out->sd_n = s->sd_n;
	out->pp_med = samples_pct_u64(s->pp_samples, s->pp_n, 0.5);
	out->pp_min = s->pp_n ? s->pp_samples[0] : 0;
	out->pp_n = s->pp_n;
	out->ratio = out->pp_med ? (double)out->sd_med / (double)out->pp_med : 0;
	out->meta = (double)machine_metadata_bytes(m) / (double)cfg->mc_memory;
	memcpy(out->locks, s->locks, sizeof(out->locks));
	out->nlocks = s->nlocks;
	/* lockstat: all CPUs, then each CPU of the run */
	lockstat_read(out->rows, -1);
	lockstat_read(out->rows + LC_NCLASS, 0);
	lockstat_read(out->rows + 2 * LC_NCLASS, 1);
out:
	if (s != NULL) {
		free(s->sd_samples);
		free(s->pp_samples);
	}
	free(s);
	machine_halt(m); /* one machine at a time: the pool-page runs boot their own */
	return rc;
}

/* both pool-page modes, each on a machine of its own */
static int mb_poolpages(const struct machine_config *cfg, struct microbench_result *out)
{
	struct mb_pp d = {0}, v = {0};
	int rc;
	if ((rc = mb_poolpage(cfg, "direct", &d)) != 0 || (rc = mb_poolpage(cfg, "vacache", &v)) != 0) {
		msg_error("microbench: pool pages: %s", machine_errmsg());
		return err_env(rc);
	}
	out->pp_direct = (struct mb_poolpage){d.solo_ns, d.dual_med, d.dual_p90};
	out->pp_vacache = (struct mb_poolpage){v.solo_ns, v.dual_med, v.dual_p90};
	out->pp_ratio = d.dual_med ? (double)v.dual_med / (double)d.dual_med : 0;
	return 0;
}

/* The host's figures (tlb_flush2's loop, the memory loop) run on the PUs
 * CPUs 0 and 1 run on: 1 task, then 2.  Real time only; where it
 * cannot run, the figures stay unmeasured (host_why says why), and the run
 * goes on.  true: pus[] are those PUs. */
static bool host_pus(const struct machine_config *cfg, int *pus, struct microbench_result *out)
{
	if (cfg->mc_engine == MACHINE_ENGINE_VIRTUAL) {
		snprintf(out->host_why, sizeof(out->host_why), "virtual time");
		return false;
	}
	struct topo *t = machine_config_topo(cfg);
	if (t == NULL) {
		snprintf(out->host_why, sizeof(out->host_why), "%s", machine_errmsg());
		return false;
	}
	pus[0] = topo_cpu_host_pu(t, 0);
	pus[1] = topo_cpu_host_pu(t, 1);
	topo_close(t);
	if (pus[0] == pus[1]) {
		snprintf(out->host_why, sizeof(out->host_why), "CPUs 0 and 1 share host PU %d", pus[0]);
		return false;
	}
	return true;
}

/* What runs on the host beside the model's scaling trials */
enum mb_host { MB_HOST_THREADS, MB_HOST_PROCESSES, MB_HOST_LOOP, MB_NHOST };

/* a kind's figures: 1 task, 2 tasks (ops/s) */
static double *mb_host_ops(struct microbench_result *out, enum mb_host what)
{
	return what == MB_HOST_THREADS ? out->host_ops : what == MB_HOST_PROCESSES ? out->host_proc_ops : out->host_loop_ops;
}

/* The host on pus (host_pus), one trial of k tasks, ops/s: tlb_flush2's
 * loop as k threads of one process or as k processes, or the loop that
 * never enters the kernel (k threads); 0 if it could not run, and the
 * first such failure in host_why */
static double mb_host_trial(const int *pus, unsigned k, enum mb_host what, struct microbench_result *out)
{
	static const char *const kind[MB_NHOST] = {"tlb_flush2 as threads", "tlb_flush2 as processes", "memory loop"};
	const double seconds = 0.1;
	double ns = 0;
	uint64_t ops = 0;
	int bad = -1;
	int rc = what == MB_HOST_LOOP ? host_mem_loop(pus, k, seconds, &ops, &bad)
	                              : host_tlb_flush2(pus, k, what == MB_HOST_PROCESSES, seconds, &ns, &ops, &bad);
	if (rc != 0 || ops == 0) {
		if (out->host_why[0] == '\0')
			snprintf(out->host_why, sizeof(out->host_why), "%s: %s%s", kind[what],
			    rc ? strerror(rc) : "no operation completed", bad >= 0 ? " (pinning to a host PU)" : "");
		return 0;
	}
	return (double)ops / seconds; /* every task's, as the model's ops/s are every CPU's */
}

/*
 * Scaling (issue 17): private and shared munmap, private touch, on 1, 2
 * (and N) CPUs, and beside them the host: tlb_flush2's loop as 1 and 2
 * threads and as 1 and 2 processes, the memory loop in 1 and 2 threads;
 * and before every model trial, the core probe on each of the two PUs
 * (whether another hardware thread shared them then).
 * MB_TRIALS rounds, each running one trial of every point in
 * turn, so that a point's trials spread over the whole measurement and the
 * points of a ratio run next to each other (the host's speed drifts: see
 * MB_ROUNDS).  Operations per second: the best trial (interference only
 * slows a trial down); latencies: the median trial.
 */
static int mb_scaling(const struct machine_config *cfg, struct microbench_result *out)
{
	static const struct mb_scale scales[MB_NSCALES] = {
		{.name = "munmap_private", .label = "munmap len 1, private pmaps", .workload = "munmap", .private_pmap = true,
		    .len = "1"},
		{.name = "munmap_shared", .label = "munmap len 1, one shared pmap", .workload = "munmap", .private_pmap = false,
		    .len = "1"},
		{.name = "touch_private", .label = "touch, private pmaps", .workload = "touch", .private_pmap = true, .len = NULL},
	};
	memcpy(out->scales, scales, sizeof(scales));
	const unsigned npus = topo_npus();
	for (unsigned i = 0; i < MB_NSCALES; i++) {
		struct mb_scale *sc = &out->scales[i];
		sc->n = 0;
		sc->ncpu[sc->n++] = 1;
		sc->ncpu[sc->n++] = 2;
		if (npus > 2)
			sc->ncpu[sc->n++] = npus > MAXCPUS ? MAXCPUS : npus;
	}
	int pus[2] = {-1, -1};
	bool host[MB_NHOST];
	host[0] = host_pus(cfg, pus, out);
	const bool probe = host[0]; /* the core probes, whatever becomes of the host trials */
	for (unsigned p = 0; p < 2; p++)
		out->scale_pus[p] = probe ? pus[p] : -1;
	if (!probe)
		snprintf(out->scale_core_why, sizeof(out->scale_core_why), "%s", out->host_why);
	for (unsigned w = 1; w < MB_NHOST; w++)
		host[w] = host[0];
	double lat[MB_NSCALES][MB_SCALE_MAX][MB_TRIALS], rl[MB_NSCALES][MB_SCALE_MAX][MB_TRIALS], single[MB_TRIALS];
	for (unsigned t = 0; t < MB_TRIALS; t++) {
		for (unsigned i = 0; i < MB_NSCALES; i++) {
			struct mb_scale *sc = &out->scales[i];
			for (unsigned k = 0; k < sc->n; k++) {
				/* the host cores just before the trial, one PU at a
				 * time (the trial runs on both when it has 2 CPUs) */
				if (probe && out->scale_nprobes < MB_SCALE_PROBES) {
					for (unsigned p = 0; p < 2; p++)
						out->scale_core[p][out->scale_nprobes] = microbench_core_on_pu(pus[p]);
					out->scale_nprobes++;
				}
				double ops = 0;
				int rc = mb_scale_trial(cfg, sc, k, t, &ops, &lat[i][k][t], &rl[i][k][t]);
				if (rc != 0) {
					msg_error("microbench: scaling (%s): %s", sc->name, machine_errmsg());
					return rc;
				}
				if (ops > sc->ops[k])
					sc->ops[k] = ops;
				sc->trial_ops[k][t] = ops;
			}
		}
		/* the mutual figure's single-target counterpart, in the same round */
		if (probe && out->scale_nprobes < MB_SCALE_PROBES) {
			for (unsigned p = 0; p < 2; p++)
				out->scale_core[p][out->scale_nprobes] = microbench_core_on_pu(pus[p]);
			out->scale_nprobes++;
		}
		int rc = mb_single_trial(cfg, t, &single[t]);
		if (rc != 0) {
			msg_error("microbench: scaling (single-target munmap): %s", machine_errmsg());
			return rc;
		}
		/* threads of one process (the shared munmap's counterpart),
		 * processes (the private munmap's), the loop outside the kernel
		 * (the private touch's); 1 task, then 2.  A kind that fails once
		 * stays unmeasured (host_why says why); the others go on. */
		for (unsigned j = 0; j < 2 * MB_NHOST; j++) {
			const unsigned k = 1 + j % 2;
			const enum mb_host what = (enum mb_host)(j / 2);
			if (!host[what])
				continue;
			double *best = mb_host_ops(out, what);
			double ops = mb_host_trial(pus, k, what, out);
			if (ops == 0) {
				host[what] = false;
				best[0] = best[1] = 0;
			} else if (ops > best[k - 1]) {
				best[k - 1] = ops;
			}
		}
	}
	for (unsigned i = 0; i < MB_NSCALES; i++)
		for (unsigned k = 0; k < out->scales[i].n; k++) {
			out->scales[i].sd_p50[k] = mb_median(lat[i][k]);
			out->scales[i].rl_p50[k] = mb_median(rl[i][k]);
		}
	/* a PU whose every probe failed: the thread could not be bound there
	 * (or started), or the host is not x86-64 */
	for (unsigned p = 0; probe && p < 2 && out->scale_core_why[0] == '\0'; p++) {
		double best, worst;
		microbench_core_summary(out->scale_core[p], out->scale_nprobes, &best, &worst);
		if (best <= 0)
			snprintf(out->scale_core_why, sizeof(out->scale_core_why),
			    "the probe did not run on a host PU (no thread bound there, or not x86-64)");
	}
	/* both CPUs of the shared munmap shoot at each other: their shootdowns'
	 * latency against the same munmap's with a target that shoots nothing
	 * back (mb_single_trial), the same measure; the update cost (with pmap_enter()/pmap_remove() and their pmap-lock
	 * waits, the shared-scaling figure's matter) is kept as a figure */
	double mut[MB_TRIALS];
	memcpy(mut, rl[1][1], sizeof(mut));
	out->mutual_trials = microbench_pair_measured(mut, single, MB_TRIALS); /* the same rounds on both sides */
	out->mutual = mb_median(mut);
	out->single = mb_median(single);
	out->mutual_ratio = out->single > 0 ? out->mutual / out->single : 0;
	out->mutual_update = out->scales[1].sd_p50[1];
	if (out->host_ops[1] > 0)
		out->over_host = out->scales[1].ops[1] / out->host_ops[1];
	return 0;
}

int microbench_run(const struct machine_config *cfg, unsigned rounds, struct microbench_result *out)
{
	memset(out, 0, sizeof(*out));
	int rc;
	if ((rc = mb_pair(cfg, rounds, out)) != 0 || (rc = mb_poolpages(cfg, out)) != 0)
		return rc;
	driver_touch(cfg, &out->drv_on, &out->drv_off);
	return mb_scaling(cfg, out);
}
