/*
 * test_pool.c — the pool(9)-like allocator and its per-CPU pool_cache
 * front (core/uvm/pool.c), on pool pages of every kmem.poolpage mode.
 *
 * Objects are simulated kernel addresses: the tests write and read them
 * through the MMU (mmu_store/mmu_load), so an object handed out twice, or
 * a pool page unmapped while objects live on it, shows up as a wrong value
 * or a fault.
 */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pmapstorm/pool.h>
#include <pmapstorm/uvm_km.h>

static const char *const sets_direct[] = {"machine.cpus=2", NULL};
static const char *const sets_vacache[] = {"machine.cpus=2", "kmem.poolpage=vacache", NULL};
static const char *const sets_plain[] = {"machine.cpus=2", "kmem.poolpage=plain", NULL};
static const char *const sets_small[] = {"machine.cpus=2", "machine.memory=1M", "kmem.poolpage=vacache", NULL};

#define NOBJ 300

static void test_pool_get_put(void **state)
{
	(void)state;
	uint64_t free0 = uvm_free_pages();
	struct pool pp;
	pool_init(&pp, 100, 16, 0, 0, "test100", NULL, 0);
	assert_int_equal(pp.pr_size, 112);
	assert_int_equal(pp.pr_itemsperpage, PAGE_SIZE / 112);
	static vaddr_t obj[NOBJ];
	for (unsigned i = 0; i < NOBJ; i++) {
		obj[i] = (vaddr_t)pool_get(&pp, PR_WAITOK);
		assert_true(obj[i] != 0);
		assert_int_equal(obj[i] % 16, 0);
		assert_int_equal(mmu_store(obj[i], i), 0);
		assert_int_equal(mmu_store(obj[i] + 104, ~(uint64_t)i), 0);
	}
	for (unsigned i = 0; i < NOBJ; i++) {
		uint64_t v;
		assert_int_equal(mmu_load(obj[i], &v), 0);
		assert_int_equal(v, i); /* distinct, non-overlapping objects */
		assert_int_equal(mmu_load(obj[i] + 104, &v), 0);
		assert_int_equal(v, ~(uint64_t)i);
	}
	unsigned pages = (NOBJ + pp.pr_itemsperpage - 1) / pp.pr_itemsperpage;
	assert_int_equal(pp.pr_npages, pages);
	assert_int_equal(pp.pr_nout, NOBJ);
	assert_int_equal(uvm_free_pages(), free0 - pages);
	/* free in an order that empties pages in the middle first */
	for (unsigned i = 0; i < NOBJ; i += 2)
		pool_put(&pp, (void *)obj[i]);
	for (unsigned i = 1; i < NOBJ; i += 2)
		pool_put(&pp, (void *)obj[i]);
	assert_int_equal(pp.pr_nout, 0);
	assert_int_equal(pp.pr_npages, 1); /* one idle page kept */
	assert_int_equal(pp.pr_npagefree, pages - 1);
	/* reuse after free: the idle page serves the next get */
	void *again = pool_get(&pp, PR_NOWAIT);
	assert_int_equal(pp.pr_npagealloc, pages);
	pool_put(&pp, again);
	pool_destroy(&pp);
	assert_int_equal(uvm_free_pages(), free0);
}

static void pool_double_put(void *arg)
{
	(void)arg;
	struct pool pp;
	pool_init(&pp, 64, 0, 0, 0, "dbl", NULL, 0);
	void *a = pool_get(&pp, PR_WAITOK);
	void *b = pool_get(&pp, PR_WAITOK);
	(void)b;
	pool_put(&pp, a);
	pool_put(&pp, a);
}

static void pool_foreign_put(void *arg)
{
	(void)arg;
	struct pool pp;
	pool_init(&pp, 64, 0, 0, 0, "foreign", NULL, 0);
	pool_put(&pp, (void *)(VM_MIN_KERNEL_ADDRESS + 0x123000));
}

static void test_pool_bad_input(void **state)
{
	(void)state;
	th_expect_bad_input(pool_double_put, NULL, "pool_put", "double free");
	th_expect_bad_input(pool_foreign_put, NULL, "pool_put", "not in a page of the pool");
}

/* ---- pool_cache ---- */

static _Atomic unsigned nctor, ndtor;

static int obj_ctor(void *arg, void *obj, int flags)
{
	(void)arg, (void)flags;
	atomic_fetch_add(&nctor, 1);
	return mmu_store((vaddr_t)obj, 0xc0) == 0 ? 0 : EFAULT;
}

static void obj_dtor(void *arg, void *obj)
{
	(void)arg, (void)obj;
	atomic_fetch_add(&ndtor, 1);
}

struct pc_run {
	pool_cache_t pc;
	_Atomic vaddr_t objs[NOBJ];
	struct th_barrier bar;
	_Atomic unsigned dup;
};

/* CPU 0 allocates, CPU 1 frees (objects freed on another CPU), then CPU 1
 * allocates again from what it cached; finally both churn in bursts. */
static void pc_cpu(unsigned cpu, void *arg)
{
	struct pc_run *s = arg;
	if (cpu == 0)
		for (unsigned i = 0; i < NOBJ; i++) {
			vaddr_t o = (vaddr_t)pool_cache_get(s->pc, PR_WAITOK);
			uint64_t v = 0;
			TH_CHECK(mmu_load(o, &v) == 0 && (v == 0xc0 || v == 0xf7ee));
			TH_CHECK(mmu_store(o + 8, i) == 0);
			atomic_store(&s->objs[i], o);
		}
	th_barrier_wait(&s->bar);
	if (cpu == 1)
		for (unsigned i = 0; i < NOBJ; i++) {
			vaddr_t o = atomic_load(&s->objs[i]);
			uint64_t v = 0;
			TH_CHECK(mmu_load(o + 8, &v) == 0 && v == i);
			TH_CHECK(mmu_store(o, 0xf7ee) == 0);
			pool_cache_put(s->pc, (void *)o);
		}
	th_barrier_wait(&s->bar);
	if (cpu == 1) {
		struct pool_cache_stats before, after;
		pool_cache_stats(s->pc, 1, &before);
		void *o[PCG_NOBJECTS];
		for (unsigned i = 0; i < PCG_NOBJECTS; i++)
			o[i] = pool_cache_get(s->pc, PR_WAITOK);
		pool_cache_stats(s->pc, 1, &after);
		/* served from this CPU's own magazine: hits, no pool */
		TH_CHECK(after.pcs_hits - before.pcs_hits == PCG_NOBJECTS);
		TH_CHECK(after.pcs_misses == before.pcs_misses);
		for (unsigned i = 0; i < PCG_NOBJECTS; i++)
			pool_cache_put(s->pc, o[i]);
	}
	th_barrier_wait(&s->bar);
	/* bursts on both CPUs; each object carries its owner's mark */
	uint64_t seed = 88172645463325252ULL + cpu;
	static _Thread_local vaddr_t mine[64];
	for (unsigned round = 0; round < 200; round++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		unsigned burst = 1 + (unsigned)(seed % 64);
		for (unsigned i = 0; i < burst; i++) {
			mine[i] = (vaddr_t)pool_cache_get(s->pc, PR_WAITOK);
			TH_CHECK(mmu_store(mine[i] + 8, ((uint64_t)cpu << 32) | round) == 0);
		}
		for (unsigned i = 0; i < burst; i++) {
			uint64_t v = 0;
			if (mmu_load(mine[i] + 8, &v) != 0 || v != (((uint64_t)cpu << 32) | round))
				atomic_fetch_add(&s->dup, 1);
			pool_cache_put(s->pc, (void *)mine[i]);
		}
	}
}

static void pool_cache_cross(void)
{
	static struct pc_run s;
	memset(&s, 0, sizeof(s));
	atomic_store(&nctor, 0);
	atomic_store(&ndtor, 0);
	uint64_t free0 = uvm_free_pages();
	s.pc = pool_cache_init(48, 0, 0, 0, "pctest", NULL, 0, obj_ctor, obj_dtor, NULL);
	th_barrier_init(&s.bar, 2);
	th_run_cpus(2, pc_cpu, &s);
	assert_int_equal(atomic_load(&s.dup), 0);
	struct pool_cache_stats all, c0, c1;
	pool_cache_stats(s.pc, -1, &all);
	pool_cache_stats(s.pc, 0, &c0);
	pool_cache_stats(s.pc, 1, &c1);
	assert_int_equal(c0.pcs_misses + c1.pcs_misses, all.pcs_misses);
	assert_true(c0.pcs_misses >= NOBJ - PCG_NOBJECTS); /* CPU 0 started empty */
	assert_true(c1.pcs_hits >= NOBJ);                  /* CPU 1 cached what it freed */
	assert_true(all.pcs_depot > 0);                    /* full groups went through the depot */
	assert_int_equal(pool_cache_pool(s.pc)->pr_nout, atomic_load(&nctor) - atomic_load(&ndtor));
	pool_cache_destroy(s.pc);
	assert_int_equal(atomic_load(&nctor), atomic_load(&ndtor));
	assert_int_equal(uvm_free_pages(), free0);
	assert_int_equal(pmap_check(pmap_kernel()), 0);
}

static void test_pool_cache_cross_cpu(void **state)
{
	(void)state;
	pool_cache_cross();
}

/* One CPU: the object just freed is the next one handed out (LIFO magazine). */
static void test_pool_cache_single(void **state)
{
	(void)state;
	pool_cache_t pc = pool_cache_init(256, 64, 0, 0, "pc1", NULL, 0, NULL, NULL, NULL);
	void *a = pool_cache_get(pc, PR_WAITOK);
	assert_int_equal((vaddr_t)a % 64, 0);
	pool_cache_put(pc, a);
	void *b = pool_cache_get(pc, PR_WAITOK);
	assert_ptr_equal(a, b); /* LIFO magazine */
	pool_cache_put(pc, b);
	pool_cache_destroy(pc);
}

/* A pool on 1 MiB: PR_NOWAIT fails cleanly when pages run out. */
static void test_pool_nowait_exhaustion(void **state)
{
	(void)state;
	struct pool pp;
	pool_init(&pp, PAGE_SIZE, 0, 0, 0, "big", NULL, 0);
	static void *objs[512];
	unsigned n = 0;
	uint64_t fails0 = th_counter("pool.failures");
	while (n < 512 && (objs[n] = pool_get(&pp, PR_NOWAIT)) != NULL)
		n++;
	assert_true(n > 100 && n < 512);
	assert_int_equal(th_counter("pool.failures"), fails0 + 1);
	while (n > 0)
		pool_put(&pp, objs[--n]);
	pool_destroy(&pp);
}

#define T(f, sets) cmocka_unit_test_prestate_setup_teardown(f, th_setup_sets, th_teardown_sets, (void *)(sets))

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pool_get_put, sets_direct),
		T(test_pool_get_put, sets_vacache),
		T(test_pool_get_put, sets_plain),
		T(test_pool_bad_input, sets_direct),
		T(test_pool_cache_single, sets_direct),
		T(test_pool_cache_cross_cpu, sets_direct),
		T(test_pool_cache_cross_cpu, sets_vacache),
		T(test_pool_cache_cross_cpu, sets_plain),
		T(test_pool_nowait_exhaustion, sets_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
