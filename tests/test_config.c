/*
 * test_config.c — configuration keys as the components declare them
 * (pmapstorm/config.h): every table entry works through the one validator,
 * a strategy's knob is reached through its registry entry alone, and the
 * knob store keeps the public struct fixed.
 */
#include "harness.h"

#include <pmapstorm/config.h>
#include <pmapstorm/shootdown.h>

#include <errno.h>
#include <string.h>

/* Every key: its default is valid, what get prints sets back to the same
 * value, and it has a meaning to print. */
static void test_every_key_round_trips(void **state)
{
	(void)state;
	struct machine_config c;
	machine_config_init(&c);
	unsigned n = 0;
	for (const char *const *k = machine_config_keys(); *k != NULL; k++, n++) {
		const struct cfg_key *ck = machine_config_key(*k);
		assert_non_null(ck);
		assert_ptr_equal(ck->ck_name, *k);
		assert_true(ck->ck_help != NULL && strlen(ck->ck_help) > 10);
		assert_non_null(ck->ck_default);
		char a[512], b[512];
		assert_int_equal(machine_config_get(&c, *k, a, sizeof(a)), 0);
		if (machine_config_set(&c, *k, ck->ck_default) != 0)
			fail_msg("%s: its default '%s' is refused: %s", *k, ck->ck_default, machine_errmsg());
		assert_int_equal(machine_config_get(&c, *k, b, sizeof(b)), 0);
		assert_string_equal(a, b); /* setting the default changes nothing */
		if (machine_config_set(&c, *k, a) != 0)
			fail_msg("%s: its printed value '%s' is refused: %s", *k, a, machine_errmsg());
		assert_int_equal(machine_config_get(&c, *k, b, sizeof(b)), 0);
		assert_string_equal(a, b);
	}
	assert_true(n >= 50);
	assert_int_equal(machine_config_check(&c), 0);
}

/* A strategy's knob lives in its own file: the registry entry's sd_keys is
 * how the config finds it, and the key reads back its default until set. */
static void test_strategy_knobs_come_from_the_registry(void **state)
{
	(void)state;
	unsigned knobs = 0;
	for (unsigned i = 0; shootdown_strategies[i] != NULL; i++)
		for (const struct cfg_key *const *k = shootdown_strategies[i]->sd_keys; k && *k; k++) {
			const struct cfg_key *found = machine_config_key((*k)->ck_name);
			assert_non_null(found);
			assert_string_equal(found->ck_name, (*k)->ck_name);
			assert_int_equal(strncmp((*k)->ck_name, "shootdown.", 10), 0);
			knobs++;
		}
	assert_true(knobs >= 6);
	const struct cfg_key *ring = machine_config_key("shootdown.latr_ring");
	const struct shootdown_strategy *latr = shootdown_find("latr");
	assert_non_null(latr);
	assert_ptr_equal(latr->sd_keys[0], ring); /* the same entry, not a copy */
	struct machine_config c;
	machine_config_init(&c);
	assert_int_equal(machine_knob(&c, ring), 256);
	assert_int_equal(machine_config_set(&c, "shootdown.latr_ring", "1"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "shootdown.latr_ring"));
	assert_non_null(strstr(machine_errmsg(), "[2, 65536]"));
	assert_int_equal(machine_config_set(&c, "shootdown.latr_ring", "64"), 0);
	assert_int_equal(machine_knob(&c, ring), 64);
}

/* The knob store: a key set again takes no new slot; a copy of the config
 * is independent; machine_config_u64 reads fields and knobs alike. */
static void test_knob_store(void **state)
{
	(void)state;
	struct machine_config c, d;
	machine_config_init(&c);
	assert_int_equal(c.mc_nknob, 0);
	for (unsigned i = 0; i < 3 * MACHINE_MAX_KNOBS; i++)
		assert_int_equal(machine_config_setu(&c, "inject.yield", i % 1000), 0);
	assert_int_equal(c.mc_nknob, 1);
	d = c;
	assert_int_equal(machine_config_set(&d, "inject.yield", "7"), 0);
	uint64_t v = 0;
	assert_int_equal(machine_config_u64(&c, "inject.yield", &v), 0);
	assert_int_equal(v, (3 * MACHINE_MAX_KNOBS - 1) % 1000);
	assert_int_equal(machine_config_u64(&d, "inject.yield", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(machine_config_u64(&c, "machine.cpus", &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(machine_config_u64(&c, "kmem.poolpage", &v), 0); /* an enum: its index */
	assert_int_equal(v, 0);
	assert_int_equal(machine_config_u64(&c, "machine.topology", &v), EINVAL); /* text */
	assert_int_equal(machine_config_u64(&c, "no.such", &v), ENOENT);
	/* every component's keys fit in the store together */
	machine_config_init(&c);
	unsigned knobs = 0;
	for (const char *const *k = machine_config_keys(); *k != NULL; k++) {
		const struct cfg_key *ck = machine_config_key(*k);
		if (ck->ck_size == 0) {
			char buf[256];
			machine_config_get(&c, *k, buf, sizeof(buf));
			assert_int_equal(machine_config_set(&c, *k, buf), 0);
			knobs++;
		}
	}
	assert_int_equal(c.mc_nknob, knobs);
	assert_true(knobs <= MACHINE_MAX_KNOBS);
}

/* Each type's bad value is refused, naming the key and what it takes. */
static void test_bad_values_by_type(void **state)
{
	(void)state;
	static const char *const bad[][3] = {
		{"inject.spl", "1001", "[0, 1000]"},                  /* CFG_UINT */
		{"kmem.steal", "lots", "not a size"},                 /* CFG_SIZE */
		{"locks.lockstat", "maybe", "not on or off"},         /* CFG_BOOL */
		{"locks.hold_sample", "0", "[1, 1048576]"},           /* CFG_UINT: one hold in 0 */
		{"uvm.pagecache", "global", "off, percpu"},           /* CFG_ENUM */
		{"kmem.vacache_pages", "24", "not a power of two"},   /* ck_check */
		{"check.oracles", "frame,bogus", "bogus"},            /* CFG_TEXT */
		{"locks.pmap", "ck-rw", "reader-writer"},             /* a rule of the lock layer */
	};
	struct machine_config c;
	machine_config_init(&c);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(machine_config_set(&c, bad[i][0], bad[i][1]), EINVAL);
		if (strstr(machine_errmsg(), bad[i][0]) == NULL || strstr(machine_errmsg(), bad[i][2]) == NULL)
			fail_msg("%s = %s: message '%s' lacks '%s'", bad[i][0], bad[i][1], machine_errmsg(), bad[i][2]);
	}
	assert_int_equal(machine_config_set(&c, "no.such_key", "1"), ENOENT);
	assert_non_null(strstr(machine_errmsg(), "no.such_key"));
	assert_int_equal(c.mc_nknob, 0); /* nothing refused was stored */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_round_trips),
		cmocka_unit_test(test_strategy_knobs_come_from_the_registry),
		cmocka_unit_test(test_knob_store),
		cmocka_unit_test(test_bad_values_by_type),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
