/*
 * boot.c — the top of core/: every component's configuration keys in one
 * list, and the boot and halt of a whole machine, layer by layer.
 *
 * This is the one file that knows every layer, so that a reader can follow
 * machine_boot() from here: the config is checked (each key against its
 * component's table, then the rules between keys), the lock layer takes
 * its algorithms, the machine's hardware boots (core/machine), then the
 * pmap with its shootdown strategy (core/pmap, core/shootdown), then the
 * uvm layer (core/uvm), then the execution engine (core/machine/engine.c:
 * threads or virtual), then the oracles and the watchdog (check.c).  Halt
 * runs the other way.  Each layer installs the upcalls the machine makes
 * into it (m_hooks, m_uvm_hooks) in its own boot function: nothing is
 * registered from constructors.  docs/architecture.md, "Boot" and
 * "Configuration keys".
 */
#include "config/config_impl.h"
#include "machine/machine_impl.h"
#include "pmap/pmap_impl.h"
#include "shootdown/shootdown_pmap.h"
#include "sync/lock_impl.h"
#include "uvm/uvm_impl.h"

#include <pmapstorm/shootdown.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

/*
 * The components' tables, in the order `pmapstorm list keys` prints them.
 * A strategy's knobs come from its registry entry (sd_keys), so a strategy
 * with a knob adds nothing here.
 */
static const struct cfg_key *const cfg_tables[] = {
	machine_keys,
	pmap_keys,
	engine_keys,
	shootdown_keys,
	lock_keys,
	uvm_page_keys,
	uvm_km_keys,
	check_keys,
};
#define NTABLES (sizeof(cfg_tables) / sizeof(cfg_tables[0]))

#define MAX_KEYS 256
static const struct cfg_key *all_keys[MAX_KEYS + 1];
static const char *all_names[MAX_KEYS + 1];
static size_t nkeys;
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;

static void key_add(const struct cfg_key *k)
{
	for (size_t i = 0; i < nkeys; i++)
		if (all_keys[i] == k || strcmp(all_keys[i]->ck_name, k->ck_name) == 0)
			return; /* a knob several strategies share (shootdown.batch) */
	if (nkeys == MAX_KEYS)
		panic("core/boot.c: more than %d config keys", MAX_KEYS);
	all_names[nkeys] = k->ck_name;
	all_keys[nkeys++] = k;
}

static void keys_build(void)
{
	for (size_t t = 0; t < NTABLES; t++) {
		for (const struct cfg_key *k = cfg_tables[t]; k->ck_name != NULL; k++)
			key_add(k);
		if (cfg_tables[t] == shootdown_keys)
			for (unsigned i = 0; shootdown_strategies[i] != NULL; i++)
				for (const struct cfg_key *const *k = shootdown_strategies[i]->sd_keys; k && *k; k++)
					key_add(*k);
	}
}

static void keys_ready(void)
{
	pthread_once(&keys_once, keys_build);
}

const struct cfg_key *machine_config_key(const char *name)
{
	keys_ready();
	for (size_t i = 0; name != NULL && i < nkeys; i++)
		if (strcmp(all_keys[i]->ck_name, name) == 0)
			return all_keys[i];
	return NULL;
}

const char *const *machine_config_keys(void)
{
	keys_ready();
	return all_names;
}

void machine_config_init(struct machine_config *c)
{
	keys_ready();
	memset(c, 0, sizeof(*c));
	/* the fields take their defaults; knobs read as theirs until set */
	for (size_t i = 0; i < nkeys; i++)
		if (all_keys[i]->ck_size != 0 && cfg_key_set(all_keys[i], c, all_keys[i]->ck_default) != 0)
			panic("%s: the default '%s' is not valid: %s", all_keys[i]->ck_name, all_keys[i]->ck_default,
			    machine_errmsg());
}

int machine_config_set(struct machine_config *c, const char *key, const char *value)
{
	const struct cfg_key *k = machine_config_key(key);
	if (k == NULL)
		return machine_seterr(ENOENT, "%s: unknown key", key);
	return cfg_key_set(k, c, value);
}

int machine_config_get(const struct machine_config *c, const char *key, char *buf, size_t len)
{
	const struct cfg_key *k = machine_config_key(key);
	if (k == NULL)
		return machine_seterr(ENOENT, "%s: unknown key", key);
	cfg_key_get(k, c, buf, len);
	return 0;
}

int machine_config_u64(const struct machine_config *c, const char *key, uint64_t *out)
{
	const struct cfg_key *k = machine_config_key(key);
	if (k == NULL)
		return machine_seterr(ENOENT, "%s: unknown key", key);
	if (k->ck_type == CFG_TEXT && k->ck_size != 0)
		return machine_seterr(EINVAL, "%s: not a number", key);
	*out = cfg_value(c, k);
	return 0;
}

/* Every key against its entry (fields may have been written directly),
 * then each layer's rules between keys. */
static int config_validate(const struct machine_config *c)
{
	int e;
	keys_ready();
	for (size_t i = 0; i < nkeys; i++)
		if ((e = cfg_key_validate(all_keys[i], c)) != 0)
			return e;
	if ((e = shootdown_config_validate(c)) != 0 || (e = lock_config_validate(c)) != 0 ||
	    (e = uvm_km_config_validate(c)) != 0 ||
	    (e = machine_config_validate(c)) != 0)
		return e;
	return 0;
}

int machine_config_check(const struct machine_config *c)
{
	machine_clearerr();
	return config_validate(c);
}

struct machine *machine_boot(const struct machine_config *cfg)
{
	int err;
	machine_clearerr();
	if (machine_cur != NULL) {
		machine_seterr(EBUSY, "machine_boot: a machine is already running (one per process)");
		return NULL;
	}
	if (config_validate(cfg) != 0)
		return NULL;
	/* before the first lock is made: every lock takes its class's algorithm */
	if (lock_configure_from(cfg) != 0) {
		machine_seterr(EINVAL, "locks: a lock class's algorithm is not valid for it");
		return NULL;
	}
	struct machine *m = machine_hw_boot(cfg);
	if (m == NULL)
		return NULL;
	if ((err = pmap_boot(m)) != 0)
		goto fail;
	m->m_pmap_booted = true;
	if ((err = uvm_boot(m)) != 0)
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
	/* checked in release builds too: an attached thread would go on using
	 * the memory freed below */
	for (unsigned i = 0; m->m_cpus != NULL && i < m->m_ncpu; i++)
		if (cpu_is_attached(&m->m_cpus[i]))
			panic("machine_halt with CPU %u attached: every CPU thread must cpu_detach() first", i);
	check_halt(m);
	engine_halt(m);
	/* let every deferred free (call_rcu) finish before memory goes away */
	sync_rcu_barrier();
	/* the uvm layer first (its halt is safe after a failed boot) */
	if (m->m_pmap_booted)
		uvm_halt(m);
	if (m->m_cpus != NULL)
		pmap_halt(m);
	machine_hw_halt(m);
}
