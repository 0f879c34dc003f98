/*
 * test_machine.c — the simulated machine: configuration, boot errors,
 * CPUs, the MMU's address-space checks, TLB organisation, statistics.
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

static void test_config_defaults_and_set(void **state)
{
	(void)state;
	struct machine_config c;
	char buf[64];
	machine_config_init(&c);
	assert_int_equal(c.mc_ncpu, 4);
	assert_int_equal(machine_config_set(&c, "machine.memory", "128M"), 0);
	assert_int_equal(c.mc_memory, 128ULL << 20);
	assert_int_equal(machine_config_set(&c, "machine.memory", "2G"), 0);
	assert_int_equal(c.mc_memory, 2ULL << 30);
	assert_int_equal(machine_config_get(&c, "machine.memory", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2G");
	assert_int_equal(machine_config_set(&c, "mmu.pcid", "off"), 0);
	assert_false(c.mc_pcid);
	assert_int_equal(machine_config_set(&c, "mmu.refmod", "software"), 0);
	assert_int_equal(c.mc_refmod, MMU_REFMOD_SOFTWARE);
	assert_int_equal(machine_config_set(&c, "ipi.send_ns", "250"), 0);
	assert_int_equal(c.mc_ipi_send_ns, 250);
}

/* Every bad value is refused with EINVAL and a message naming the key. */
static void test_config_bad_values(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
		{"machine.cpus", "0"}, {"machine.cpus", "257"}, {"machine.cpus", "four"}, {"machine.cpus", "4x"},
		{"machine.cpus", ""}, {"machine.memory", "12Q"}, {"machine.memory", "100"}, {"machine.memory", "1T"},
		{"machine.memory", "1000001"}, {"tlb.ways", "0"}, {"tlb.entries", "-1"}, {"mmu.pcid", "maybe"},
		{"mmu.refmod", "firmware"}, {"shootdown.strategy", "no-such-strategy"}, {"ipi.send_ns", "1e9"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct machine_config c;
		machine_config_init(&c);
		int e = machine_config_set(&c, bad[i][0], bad[i][1]);
		if (e != EINVAL)
			fail_msg("%s = '%s' gave %d, not EINVAL", bad[i][0], bad[i][1], e);
		if (strstr(machine_errmsg(), bad[i][0]) == NULL)
			fail_msg("message for %s does not name the key: %s", bad[i][0], machine_errmsg());
	}
	struct machine_config c;
	machine_config_init(&c);
	assert_int_equal(machine_config_set(&c, "machine.colour", "blue"), ENOENT);
	assert_non_null(strstr(machine_errmsg(), "machine.colour"));
	/* the strategy message lists the valid names */
	machine_config_set(&c, "shootdown.strategy", "nope");
	assert_non_null(strstr(machine_errmsg(), "netbsd-x86"));
}

static void expect_boot_einval(struct machine_config *c, const char *key)
{
	errno = 0;
	struct machine *m = machine_boot(c);
	if (m != NULL) {
		machine_halt(m);
		fail_msg("machine_boot accepted a bad %s", key);
	}
	assert_int_equal(errno, EINVAL);
	if (strstr(machine_errmsg(), key) == NULL)
		fail_msg("boot error does not name %s: %s", key, machine_errmsg());
}

/* The few values a key may take although they look like garbage. */
static bool garbage_allowed(const char *key, const char *v)
{
	/* a file name: any printable text that is not only blanks */
	if (!strcmp(key, "ipi.calibration"))
		return v[strspn(v, " ")] != '\0' && (unsigned char)v[0] >= 0x20 && strlen(v) < 1000;
	/* "" is the host itself; "1 2" is hwloc's synthetic shorthand (2 of 1) */
	if (!strcmp(key, "machine.topology"))
		return !strcmp(v, "") || !strcmp(v, "1 2");
	/* a delay per hop level: 1 ns, then 2 ns */
	if (!strcmp(key, "ipi.distance_ns"))
		return !strcmp(v, "1 2");
	return false;
}

/*
 * Every key of the table, fed values no key may accept: each is refused
 * with EINVAL, a message that starts with the key, and the config as it was.
 * A key added later is covered without touching this test.
 */
static void test_config_every_key_refuses_garbage(void **state)
{
	(void)state;
	char huge[5000];
	memset(huge, '9', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	const char *const garbage[] = {
		"", " ", "-1", "nan", "inf", "1e999", "99999999999999999999999999", "0x", "\x01\x02", "\xff\xfe",
		"on off", "1 2", "%s%n", huge,
	};
	const char *const *keys = machine_config_keys();
	unsigned nkeys = 0, bad = 0;
	for (; keys[nkeys] != NULL; nkeys++) {
		for (size_t g = 0; g < sizeof(garbage) / sizeof(garbage[0]); g++) {
			if (garbage_allowed(keys[nkeys], garbage[g]))
				continue;
			struct machine_config c, before;
			machine_config_init(&c);
			before = c;
			int e = machine_config_set(&c, keys[nkeys], garbage[g]);
			if (e != EINVAL) {
				print_error("%s = '%.20s': %d, not EINVAL\n", keys[nkeys], garbage[g], e);
				bad++;
			} else if (strncmp(machine_errmsg(), keys[nkeys], strlen(keys[nkeys])) != 0) {
				print_error("%s = '%.20s': message '%s' does not name the key\n", keys[nkeys], garbage[g],
				    machine_errmsg());
				bad++;
			} else if (memcmp(&c, &before, sizeof(c)) != 0) {
				print_error("%s = '%.20s': refused, yet the config changed\n", keys[nkeys], garbage[g]);
				bad++;
			}
		}
	}
	assert_int_equal(bad, 0);
	assert_true(nkeys >= 30);
}

static void test_boot_bad_input(void **state)
{
	(void)state;
	struct machine_config c;
	machine_config_init(&c);
	c.mc_ncpu = 0;
	expect_boot_einval(&c, "machine.cpus");
	machine_config_init(&c);
	c.mc_ncpu = MAXCPUS + 1;
	expect_boot_einval(&c, "machine.cpus");
	machine_config_init(&c);
	c.mc_memory = 64 * 1024; /* too little for the kernel's page tables */
	expect_boot_einval(&c, "machine.memory");
	machine_config_init(&c);
	snprintf(c.mc_strategy, sizeof(c.mc_strategy), "bogus");
	expect_boot_einval(&c, "shootdown.strategy");
	machine_config_init(&c);
	c.mc_tlb_entries = 48; /* 12 sets: not a power of two */
	expect_boot_einval(&c, "tlb.entries");
	/* one machine per process */
	machine_config_init(&c);
	struct machine *m = machine_boot(&c);
	assert_non_null(m);
	errno = 0;
	assert_null(machine_boot(&c));
	assert_int_equal(errno, EBUSY);
	machine_halt(m);
}

static void *attach_thread(void *arg)
{
	struct machine *m = arg;
	return (void *)(intptr_t)cpu_attach(m, 0);
}

static void halt_attached(void *arg)
{
	assert_int_equal(cpu_attach(arg, 2), 0);
	machine_halt(arg);
}

static void test_cpu_attach(void **state)
{
	(void)state;
	struct machine *m = th_boot(NULL);
	assert_int_equal(cpu_attach(m, 99), EINVAL);
	assert_int_equal(cpu_attach(m, 0), 0);
	assert_true(cpu_attached());
	assert_int_equal(cpu_number(), 0);
	/* this thread is a CPU already */
	assert_int_equal(cpu_attach(m, 1), EBUSY);
	/* another thread cannot take CPU 0 */
	pthread_t t;
	void *ret;
	pthread_create(&t, NULL, attach_thread, m);
	pthread_join(t, &ret);
	assert_int_equal((int)(intptr_t)ret, EBUSY);
	cpu_detach();
	assert_false(cpu_attached());
	assert_int_equal(cpu_attach(m, 3), 0);
	assert_int_equal(cpu_number(), 3);
	cpu_detach();
	/* halting with a CPU attached is a panic, in release builds too */
	th_expect_panic(halt_attached, m, "machine_halt with CPU 2 attached", "cpu_detach() first");
	machine_halt(m);
}

/* Accesses outside the simulated address space fault; the host survives. */
static void test_mmu_outside_address_space(void **state)
{
	(void)state;
	uint64_t v;
	static const vaddr_t bad[] = {
		0x0000800000000000ULL, /* non-canonical hole */
		0x7fff00000000ULL,     /* user, unmapped */
		VM_MAX_KERNEL_ADDRESS - PAGE_SIZE,
		PMAP_DIRECT_END - 8,   /* beyond the direct map's memory */
		0xfffffffffffff000ULL, /* top of the address space */
		VM_MIN_KERNEL_ADDRESS + 0x3000ULL, /* kernel, unmapped */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mmu_load(bad[i], &v), EFAULT);
		assert_int_equal(mmu_store(bad[i], 1), EFAULT);
		assert_int_equal(mmu_fetch(bad[i]), EFAULT);
	}
	/* misaligned */
	assert_int_equal(mmu_load(0x1003, &v), EFAULT);
}

/* The direct map reaches physical memory without page tables. */
static void test_direct_map(void **state)
{
	(void)state;
	struct vm_page *pg = th_page();
	vaddr_t va = PMAP_MAP_POOLPAGE(VM_PAGE_TO_PHYS(pg));
	assert_int_equal(PMAP_UNMAP_POOLPAGE(va), VM_PAGE_TO_PHYS(pg));
	assert_int_equal(mmu_store(va + 16, 0xabcdef), 0);
	uint64_t *host = machine_phys(VM_PAGE_TO_PHYS(pg));
	assert_int_equal(host[2], 0xabcdef);
	paddr_t pa;
	assert_true(pmap_extract(pmap_kernel(), va + 16, &pa));
	assert_int_equal(pa, VM_PAGE_TO_PHYS(pg) + 16);
	uvm_pagefree(pg);
}

/* LRU within a set: ways+1 pages of one set evict the oldest; the others hit. */
static void test_tlb_set_associative_lru(void **state)
{
	(void)state;
	const struct stats_counter *miss = stats_counter_find("tlb.misses");
	assert_non_null(miss);
	const unsigned ways = 4, sets = 64 / 4;
	vaddr_t base = 0x40000000;
	for (unsigned i = 0; i <= ways; i++)
		th_map(base + ptoa(i * sets), VM_PROT_READ, 0);
	uint64_t v;
	for (unsigned i = 0; i < ways; i++)
		assert_int_equal(mmu_load(base + ptoa(i * sets), &v), 0);
	uint64_t m0 = stats_counter_cpu(miss, 0);
	for (unsigned i = 0; i < ways; i++) /* all 4 cached: hits */
		assert_int_equal(mmu_load(base + ptoa(i * sets), &v), 0);
	assert_int_equal(stats_counter_cpu(miss, 0), m0);
	assert_int_equal(mmu_load(base + ptoa(ways * sets), &v), 0); /* evicts page 0 (LRU) */
	assert_int_equal(stats_counter_cpu(miss, 0), m0 + 1);
	assert_int_equal(mmu_load(base + ptoa(1 * sets), &v), 0); /* still there */
	assert_int_equal(stats_counter_cpu(miss, 0), m0 + 1);
	assert_int_equal(mmu_load(base, &v), 0); /* was evicted */
	assert_int_equal(stats_counter_cpu(miss, 0), m0 + 2);
	assert_int_equal(tlb_check(), 0);
}

/* Log-linear histogram buckets: exact below 16, <= 6.25 % error above. */
static void test_stats_histogram_buckets(void **state)
{
	(void)state;
	for (uint64_t v = 0; v < 16; v++)
		assert_int_equal(stats_hist_bucket_low(stats_hist_bucket(v)), v);
	for (uint64_t v = 16; v < (1ULL << 40); v = v * 3 / 2 + 7) {
		uint64_t lo = stats_hist_bucket_low(stats_hist_bucket(v));
		assert_true(lo <= v);
		assert_true((double)(v - lo) <= (double)v / 16.0);
	}
	/* monotone */
	unsigned prev = 0;
	for (uint64_t v = 1; v < 100000; v += 37) {
		unsigned b = stats_hist_bucket(v);
		assert_true(b >= prev);
		prev = b;
	}
}

/* Page-table and TLB metadata stay within 2 % of simulated memory. */
static void test_metadata_bound(void **state)
{
	(void)state;
	uint64_t mem = ptoa(machine_phys_pages(th.m));
	assert_true(machine_metadata_bytes(th.m) * 50 <= mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults_and_set),
		cmocka_unit_test(test_config_bad_values),
		cmocka_unit_test(test_config_every_key_refuses_garbage),
		cmocka_unit_test(test_boot_bad_input),
		cmocka_unit_test(test_cpu_attach),
		cmocka_unit_test(test_stats_histogram_buckets),
		cmocka_unit_test_setup_teardown(test_mmu_outside_address_space, th_setup_cpu0, th_teardown_cpu0),
		cmocka_unit_test_setup_teardown(test_direct_map, th_setup_cpu0, th_teardown_cpu0),
		cmocka_unit_test_setup_teardown(test_tlb_set_associative_lru, th_setup_cpu0, th_teardown_cpu0),
		cmocka_unit_test_setup_teardown(test_metadata_bound, th_setup_cpu0, th_teardown_cpu0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
