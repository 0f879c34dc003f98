/*
 * check.c — the machine's half of torture mode: oracle bookkeeping, the
 * two oracles that live on the TLB-hit path, seeded fault injection, and
 * the watchdog.
 *
 * What it models.  Correctness checking in the style of rcutorture and
 * locktorture (Linux kernel/rcu/rcutorture.c, kernel/locking/locktorture.c:
 * per-check counters, an error count that must stay zero, a stall detector
 * that dumps every CPU's state) and liburcu's torture tests
 * (tests/regression: seeded yields injected inside critical sections to
 * widen races, urcu/debug.h's rcu_yield_active).  The oracles follow the
 * hardware rules of docs/architecture.md ("The hardware rules"):
 *  - frame: "a physical frame must not be reused while any TLB may still
 *    hold a translation to it".  Every free bumps the frame's generation
 *    (phys.c) and every TLB entry records the generation it was filled at
 *    (mmu.c), so a hit through an entry whose frame has been freed since is
 *    a use-after-free of the frame, whatever the strategy;
 *  - update: pmap(9)'s contract that invalidations are complete when
 *    pmap_update() (or a page operation) returns.  Before it changes a PTE
 *    the pmap adds the VA to its CPU's in-flight range; it clears the range
 *    when its pmap_update() / synchronous operation has returned.  A TLB hit
 *    through an entry that disagrees with its PTE (tlb_entry_disagrees(),
 *    the rule tlb_check() uses) is legitimate only while some CPU's range
 *    covers the VA.  Removals of strategies that complete them lazily by
 *    design (sd_lazy) are exempt while the PTE stays empty: those are the
 *    frame oracle's (once the VA maps again the pmap's lazy guard has
 *    drained them, so a stale entry then is a violation).
 *
 * Races.  The in-flight range is written with seq_cst stores before the PTE
 * change (a seq_cst RMW), so a CPU whose walk read the new PTE also sees a
 * range covering it.  A correct strategy cannot let the initiator clear its
 * range while a target still holds the entry in the middle of an access:
 * targets acknowledge only at interrupt points, and broadcast completion
 * waits for the target's next translation to drain its inbox.  The ranges
 * are conservative (one interval per CPU for user and one for kernel addresses): a violation inside an unrelated
 * in-flight interval is missed, never invented.
 *
 * Injection draws from a per-CPU xorshift generator seeded from
 * inject.seed and the CPU number, so the choices each CPU makes are a
 * function of the seed — the interleaving of real threads is not.
 *
 * The watchdog is a host thread (not a simulated CPU): every 100 ms it
 * reads each attached CPU's ci_progress, which cpu_intr_poll() bumps outside
 * waits, and its count of waits begun (ci_wait_seq).  A hang is a CPU
 * that neither progressed nor began another wait for watchdog.seconds (one
 * wait that never ends, or a loop without interrupt points), or a machine
 * on which no CPU progressed for that long (CPUs that only wait, each for
 * another).  A CPU that keeps waiting briefly for a peer that progresses —
 * a barrier behind a CPU the host starves — is not a hang; either rule
 * dumps the machine and exits 1.
 */
#include "machine_impl.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

STATS_COUNTER(inj_yields, "inject.yields", "yields injected inside pmap critical sections")
STATS_COUNTER(inj_spl, "inject.spl_windows", "interrupt-blocked windows injected")
STATS_COUNTER(inj_ipi, "inject.ipi_delays", "IPI deliveries held back")
STATS_COUNTER(inj_allocfail, "inject.allocfails", "CANFAIL/NOWAIT allocations failed on purpose")

bool check_tlb_on, check_update_on, inject_yield_on, inject_intr_on;
unsigned inject_update_locks_n;

static const struct {
	const char *name, *desc;
} oracles[CHK_NORACLES] = {
	[CHK_FRAME] = {"frame", "no access through a TLB entry reaches a frame freed since the entry was filled"},
	[CHK_UPDATE] = {"update", "after pmap_update() returned, no access uses a translation it removed or downgraded"},
	[CHK_MODREF] = {"modref", "a write (access) after the last clear makes pmap_is_modified (is_referenced) true"},
	[CHK_COUNTS] = {"counts", "resident and wired counts equal a recount at quiescent points"},
	[CHK_ALLOC] = {"alloc", "no frame or kernel VA range handed out twice; no frame free while mapped"},
	[CHK_CONTENTS] = {"contents", "every read finds the stamp of the page's owner (end-to-end evidence)"},
};

const char *const inject_names[] = {"ipi", "yield", "spl", "allocfail", "pressure", NULL};

const char *check_oracle_name(enum check_oracle o)
{
	return (unsigned)o < CHK_NORACLES ? oracles[o].name : "?";
}

const char *check_oracle_desc(enum check_oracle o)
{
	return (unsigned)o < CHK_NORACLES ? oracles[o].desc : "?";
}

int check_oracle_find(const char *name)
{
	for (int i = 0; i < CHK_NORACLES; i++)
		if (!strcmp(oracles[i].name, name))
			return i;
	return -1;
}

int check_oracles_parse(const char *list, unsigned *mask, char *why, size_t len)
{
	*mask = 0;
	if (list != NULL && !strcasecmp(list, "all")) {
		*mask = CHK_ALL;
		return 0;
	}
	const char *p = list;
	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, ",");
		char word[32];
		snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) - 1 ? n : sizeof(word) - 1), p);
		int o = check_oracle_find(word);
		if (o < 0) {
			size_t k = (size_t)snprintf(why, len, "unknown oracle '%s'; valid: all", word);
			for (int i = 0; i < CHK_NORACLES && k < len; i++)
				k += (size_t)snprintf(why + k, len - k, ", %s", oracles[i].name);
			return EINVAL;
		}
		*mask |= 1u << o;
		p += n + (p[n] == ',');
	}
	if (*mask == 0) {
		snprintf(why, len, "'%s' names no oracle (all, or a list such as frame,update)", list ? list : "");
		return EINVAL;
	}
	return 0;
}

/* ---- counts and violations ---- */

static unsigned check_mask; /* of the running machine; 0 when checks are off */
static _Atomic uint64_t check_off_cpu[CHK_NORACLES]; /* counts made off any CPU */
static _Atomic uint64_t check_viol[CHK_NORACLES];
static _Atomic bool check_first_taken;
static struct check_violation check_first_v;
static _Atomic bool check_first_ready;
static _Atomic unsigned check_printed; /* violations printed without a reporter (check_reset: 0) */
static _Atomic(check_report_fn) check_reporter;
static void (*_Atomic watchdog_hook)(void);

bool check_on(enum check_oracle o)
{
	return (check_mask >> o) & 1;
}

void check_count(enum check_oracle o, uint64_t n)
{
	if (!check_on(o))
		return; /* an oracle that is off counts nothing */
	struct cpu_info *ci = curcpu();
	if (ci != NULL)
		atomic_store_explicit(&ci->ci_chk[o], atomic_load_explicit(&ci->ci_chk[o], memory_order_relaxed) + n,
		    memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&check_off_cpu[o], n, memory_order_relaxed);
}

void check_violation(enum check_oracle o, vaddr_t va, paddr_t pa, const char *fmt, ...)
{
	if (!check_on(o))
		return; /* the caller's finding stays its own (an error of run, say) */
	struct check_violation v = {.cv_oracle = o, .cv_cpu = -1, .cv_va = va, .cv_pa = pa, .cv_t_ns = cpu_now_ns()};
	if (curcpu() != NULL)
		v.cv_cpu = (int)curcpu()->ci_cpuid;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v.cv_what, sizeof(v.cv_what), fmt, ap);
	va_end(ap);
	atomic_fetch_add(&check_viol[o], 1);
	if (!atomic_exchange(&check_first_taken, true)) {
		check_first_v = v;
		atomic_store_explicit(&check_first_ready, true, memory_order_release);
	}
	check_report_fn fn = atomic_load(&check_reporter);
	if (fn != NULL)
		fn(&v);
	else if (atomic_fetch_add(&check_printed, 1) < 10) /* no reporter: the first ones on stderr */
		fprintf(stderr, "pmapstorm: violation: oracle %s, cpu%d, va %#lx, frame %#lx: %s\n", check_oracle_name(o),
		    v.cv_cpu, (unsigned long)va, (unsigned long)pa, v.cv_what);
}

void check_set_reporter(check_report_fn fn)
{
	atomic_store(&check_reporter, fn);
}

void check_totals(enum check_oracle o, uint64_t *checks, uint64_t *violations)
{
	uint64_t n = atomic_load(&check_off_cpu[o]);
	struct machine *m = machine_cur;
	for (unsigned i = 0; m != NULL && i < m->m_ncpu; i++)
		n += atomic_load_explicit(&m->m_cpus[i].ci_chk[o], memory_order_relaxed);
	*checks = n;
	*violations = atomic_load(&check_viol[o]);
}

uint64_t check_violations_total(void)
{
	uint64_t n = 0;
	for (int o = 0; o < CHK_NORACLES; o++)
		n += atomic_load(&check_viol[o]);
	return n;
}

bool check_first(struct check_violation *out)
{
	if (!atomic_load_explicit(&check_first_ready, memory_order_acquire))
		return false;
	*out = check_first_v;
	return true;
}

void check_reset(void)
{
	struct machine *m = machine_cur;
	for (int o = 0; o < CHK_NORACLES; o++) {
		atomic_store(&check_off_cpu[o], 0);
		atomic_store(&check_viol[o], 0);
		for (unsigned i = 0; m != NULL && i < m->m_ncpu; i++)
			atomic_store_explicit(&m->m_cpus[i].ci_chk[o], 0, memory_order_relaxed);
	}
	atomic_store(&check_first_ready, false);
	atomic_store(&check_first_taken, false);
	atomic_store(&check_printed, 0);
}

void check_set_watchdog_hook(void (*fn)(void))
{
	atomic_store(&watchdog_hook, fn);
}

/* ---- the TLB-hit oracles ---- */

bool check_inflight_covers(vaddr_t va)
{
	struct machine *m = machine_cur;
	unsigned k = va >= VM_MIN_KERNEL_ADDRESS;
	for (unsigned i = 0; i < m->m_ncpu; i++) {
		struct cpu_info *c = &m->m_cpus[i];
		if (va >= atomic_load(&c->ci_inflight_lo[k]) && va < atomic_load(&c->ci_inflight_hi[k]))
			return true;
	}
	return false;
}

/* ---- the keys: check.*, inject.*, watchdog.* ---- */

enum {
	CK_ENABLED, CK_ORACLES, CK_SEED, CK_IPI_DELAY, CK_IPI_CPUS, CK_YIELD, CK_SPL, CK_SPL_US, CK_ALLOCFAIL,
	CK_PRESSURE, CK_UPDATE_LOCKS, CK_WATCHDOG, CK_N
};

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
static int oracles_set(const struct cfg_key *k, struct machine_config *c, const char *v)
{
	char why[256];
	unsigned mask;
	if (check_oracles_parse(v, &mask, why, sizeof(why)) != 0)
		return machine_seterr(EINVAL, "%s: %s", k->ck_name, why);
	return machine_knob_store(c, k, mask);
}
static void oracles_get(const struct cfg_key *k, const struct machine_config *c, char *b, size_t n)
{
	mask_get(b, n, machine_knob(c, k), CHK_ALL, CHK_NORACLES, check_oracle_name);
}
/* a CPU list: "all", or comma-separated CPU numbers below 64 */
static int cpumask_set(const struct cfg_key *k, struct machine_config *c, const char *v)
{
	if (v != NULL && !strcasecmp(v, "all"))
		return machine_knob_store(c, k, UINT64_MAX);
	uint64_t mask = 0;
	const char *p = v;
	while (p != NULL && *p != '\0') {
		char *end;
		if (!isdigit((unsigned char)*p))
			break;
		unsigned long x = strtoul(p, &end, 10);
		if (x >= 64)
			return machine_seterr(EINVAL, "%s: CPU %lu is out of range [0, 63]", k->ck_name, x);
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
		return machine_seterr(EINVAL, "%s: '%s' is not 'all' or a list of CPU numbers (0,2,3)", k->ck_name,
		    v ? v : "");
	return machine_knob_store(c, k, mask);
}
static void cpumask_get(const struct cfg_key *k, const struct machine_config *c, char *b, size_t n)
{
	mask_get(b, n, machine_knob(c, k), UINT64_MAX, 64, NULL);
}

const struct cfg_key check_keys[] = {
	[CK_ENABLED] = CFG_KEY("check.enabled", CFG_BOOL, 0, 0, NULL, "off",
	    "the coherence oracles (*Stress*); `check = on` in `[experiment]` is the same. Off, they cost one "
	    "predictable branch per TLB hit and per PTE change"),
	[CK_ORACLES] = CFG_KEY("check.oracles", CFG_TEXT, 0, 0, NULL, "all",
	    "which oracles: `all` or a list of `frame`, `update`, `modref`, `counts`, `alloc`, `contents`",
	    .ck_set = oracles_set, .ck_get = oracles_get),
	[CK_SEED] = CFG_KEY("inject.seed", CFG_UINT, 0, UINT64_MAX, NULL, "1",
	    "seed of every injected choice (`pmapstorm stress --seed` sets it)"),
	[CK_IPI_DELAY] = CFG_KEY("inject.ipi_delay_us", CFG_UINT, 0, 1000000, NULL, "0",
	    "IPI handling on the chosen CPUs is held back this long (0–1000000)"),
	[CK_IPI_CPUS] = CFG_KEY("inject.ipi_delay_cpus", CFG_TEXT, 0, 0, NULL, "all",
	    "the CPUs `inject.ipi_delay_us` applies to: `all` or a list such as `1,3` (CPUs below 64)",
	    .ck_set = cpumask_set, .ck_get = cpumask_get),
	[CK_YIELD] = CFG_KEY("inject.yield", CFG_UINT, 0, 1000, NULL, "0",
	    "per mille of the points inside pmap critical sections (pmap lock or pv lock held) that yield the host CPU"),
	[CK_SPL] = CFG_KEY("inject.spl", CFG_UINT, 0, 1000, NULL, "0",
	    "per mille of interrupt points that open an interrupt-blocked window of `inject.spl_us`"),
	[CK_SPL_US] = CFG_KEY("inject.spl_us", CFG_UINT, 1, 1000000, NULL, "50",
	    "length of an injected interrupt-blocked window (1–1000000 µs)"),
	[CK_ALLOCFAIL] = CFG_KEY("inject.allocfail", CFG_UINT, 0, 1000, NULL, "0",
	    "per mille of `PMAP_CANFAIL` `pmap_enter()` calls and `UVM_KMF_NOWAIT`/`CANFAIL` `uvm_km_alloc()` page "
	    "allocations that fail"),
	[CK_PRESSURE] = CFG_KEY("inject.pressure", CFG_UINT, 0, 90, NULL, "0",
	    "percent of free memory the torture runner's CPU 0 holds in a cycle (then all of it above the reserve), so "
	    "allocations wait in `uvm_wait()` (0–90; `stress` only)"),
	[CK_UPDATE_LOCKS] = CFG_KEY("inject.update_locks", CFG_UINT, 0, 1000, NULL, "0",
	    "extra acquisitions and releases of a lock in every `pmap_update()`: a modelled code change, for "
	    "checking that `gate` sees one (in virtual time each costs `cost.lock_ns`)"),
	[CK_WATCHDOG] = CFG_KEY("watchdog.seconds", CFG_UINT, 0, 86400, NULL, "60",
	    "a hang this long — a CPU without progress (interrupt points outside waits) that stayed in one wait, or in "
	    "none, or no CPU progressing at all: every CPU's state is dumped and the process exits 1 (0 = off; `stress` "
	    "uses 10). A CPU that keeps waiting briefly behind a peer that progresses is not a hang; in virtual time only "
	    "the whole machine's stall counts, an interrupt handled in a wait as progress"),
	{0},
};

/* the values of the running machine (check_boot) */
static uint64_t ckv[CK_N];

static void check_values_load(const struct machine_config *c)
{
	for (unsigned i = 0; i < CK_N; i++)
		ckv[i] = machine_knob(c, &check_keys[i]);
}

bool check_config_enabled(const struct machine_config *c)
{
	return machine_knob(c, &check_keys[CK_ENABLED]) != 0;
}

unsigned check_config_watchdog_s(const struct machine_config *c)
{
	return (unsigned)machine_knob(c, &check_keys[CK_WATCHDOG]);
}

/* ---- injection ---- */

static inline uint64_t inj_rand(struct cpu_info *ci)
{
	uint64_t x = ci->ci_inj_rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	ci->ci_inj_rng = x;
	return x;
}

void inject_yield_slow(struct cpu_info *ci)
{
	if (ci == NULL || inj_rand(ci) % 1000 >= ckv[CK_YIELD])
		return;
	stats_inc(&inj_yields);
	if (engine_on)
		engine_preempt(ci); /* virtual: another CPU, picked by engine.seed, runs a step */
	else
		sched_yield();
}

bool inject_allocfail(void)
{
	struct cpu_info *ci = curcpu();
	struct machine *m = machine_cur;
	if (ci == NULL || m == NULL || ckv[CK_ALLOCFAIL] == 0)
		return false;
	if (inj_rand(ci) % 1000 >= ckv[CK_ALLOCFAIL])
		return false;
	stats_inc(&inj_allocfail);
	return true;
}

bool inject_intr(struct cpu_info *ci, bool ipi_pending)
{
	if (ckv[CK_SPL] != 0 && ci->ci_ipl == 0 && inj_rand(ci) % 1000 < ckv[CK_SPL]) {
		/* an interrupt-blocked window: what a long splvm() section does */
		stats_inc(&inj_spl);
		ci->ci_ipl++;
		cpu_delay_ns(ckv[CK_SPL_US] * 1000);
		ci->ci_ipl--;
	}
	if (!ci->ci_inj_ipi || !ipi_pending)
		return false;
	if (ci->ci_inj_ipi_until == 0) {
		ci->ci_inj_ipi_until = cpu_now_ns() + ckv[CK_IPI_DELAY] * 1000;
		stats_inc(&inj_ipi);
		return true;
	}
	if (cpu_now_ns() < ci->ci_inj_ipi_until)
		return true;
	ci->ci_inj_ipi_until = 0;
	return false;
}

/* ---- the watchdog ---- */

/*
 * The watchdog counts its own 100 ms ticks, not wall time: a process that
 * was stopped (SIGSTOP, a debugger) or a host so loaded that no thread ran
 * also stopped the watchdog, so neither reads as a CPU without progress.
 * It sleeps on a condition variable so that halt wakes it at once.
 */
#define WD_TICK_NS 100000000ULL
struct watchdog {
	pthread_t w_thread;
	pthread_mutex_t w_lock;
	pthread_cond_t w_cv;
	bool w_stop;          /* under w_lock */
	uint64_t w_limit_ticks;
	uint64_t w_tick;      /* ticks so far (the watchdog thread's own) */
	uint64_t *w_last;     /* per CPU: progress seen */
	uint64_t *w_lastwait; /* per CPU: the count of waits seen (ci_wait_seq) */
	uint64_t *w_since;    /* per CPU: the tick either last changed */
	uint64_t w_any;       /* the tick at which any CPU last progressed */
};

static void dump_site(FILE *f, uintptr_t site)
{
	Dl_info di;
	if (site == 0)
		return;
	if (dladdr((void *)site, &di) == 0 || di.dli_fname == NULL) {
		fprintf(f, " at %#lx", (unsigned long)site);
		return;
	}
	/* the binary and offset: `addr2line -f -e BINARY OFFSET` names static functions too */
	fprintf(f, " at %s+%#lx", di.dli_fname, (unsigned long)(site - (uintptr_t)di.dli_fbase));
	if (di.dli_sname != NULL)
		fprintf(f, " (in or after %s)", di.dli_sname);
}

/* The lock a CPU waits for and which CPU holds it: read racily (the lock
 * may change hands as the dump prints; a hung CPU's stays where it is),
 * enough to show a cycle of waits. */
static void dump_lock_wait(FILE *f, const struct machine *m, struct cpu_info *ci)
{
	/* acquire: pairs with the waiter's release (lock.c), so the lock's
	 * class, set at its init, is read after it */
	const struct kmutex *l = atomic_load_explicit(&ci->ci_lock_wait, memory_order_acquire);
	if (l == NULL) {
		fprintf(f, "        lock wait: none\n");
		return;
	}
	fprintf(f, "        lock wait: a %s lock at %p, ", lock_class_name((lock_class_t)l->mtx_class), (const void *)l);
	uint32_t holder = lock_holder(l);
	if (holder == 0) {
		fprintf(f, "held by no CPU now (free, or by readers)\n");
		return;
	}
	for (unsigned i = 0; i < m->m_ncpu; i++)
		if (cpu_is_attached(&m->m_cpus[i]) &&
		    atomic_load_explicit(&m->m_cpus[i].ci_lock_id, memory_order_relaxed) == holder) {
			fprintf(f, "held by cpu%u\n", i);
			return;
		}
	fprintf(f, "held by a thread that is no CPU (lock id %u)\n", (unsigned)holder);
}

void machine_dump_state(FILE *f)
{
	struct machine *m = machine_cur;
	if (m == NULL)
		return;
	uint64_t now = cpu_now_ns();
	struct watchdog *w = m->m_watchdog;
	fprintf(f, "machine state: %u CPUs, strategy %s, %lu free frames of %lu\n", m->m_ncpu, m->m_cfg.mc_strategy,
	    (unsigned long)atomic_load(&m->m_free_count), (unsigned long)m->m_npages);
	for (unsigned i = 0; i < m->m_ncpu; i++) {
		struct cpu_info *ci = &m->m_cpus[i];
		if (!cpu_is_attached(ci)) {
			fprintf(f, "  cpu%u: detached\n", i);
			continue;
		}
		fprintf(f, "  cpu%u: %lu interrupt points", i, (unsigned long)atomic_load(&ci->ci_progress));
		if (w != NULL)
			fprintf(f, engine_on ? ", none and no interrupt handled for %.1f host s" : ", none for %.1f s",
			    (double)(w->w_tick - w->w_since[i]) * WD_TICK_NS / 1e9);
		fprintf(f, "; IPIs pending:");
		static const char *const tn[IPI_NTYPES] = {"shootdown", "kick"};
		bool any = false;
		for (unsigned t = 0; t < IPI_NTYPES; t++) {
			uint32_t d = atomic_load_explicit(&ci->ci_ipi_seq[t], memory_order_relaxed) -
			    atomic_load_explicit(&ci->ci_ipi_seen[t], memory_order_relaxed);
			if (d != 0) {
				fprintf(f, " %s x%u", tn[t], d);
				any = true;
			}
		}
		if (!any)
			fprintf(f, " none");
		fprintf(f, "; TLB inbox %s\n", atomic_load(&ci->ci_tlb_inbox) ? "non-empty" : "empty");
		const char *what = atomic_load_explicit(&ci->ci_wait_what, memory_order_relaxed);
		uint64_t t0 = atomic_load_explicit(&ci->ci_wait_t0, memory_order_relaxed);
		if (atomic_load_explicit(&ci->ci_wait_seq, memory_order_relaxed) == 0) {
			fprintf(f, "        last wait: none since it attached");
		} else {
			fprintf(f, "        last wait: %s, ", what != NULL ? what : "(unnamed)");
			/* the clock is read at a wait's first pausing turn (cpu.c) */
			if (t0 == 0)
				fprintf(f, "short (it ended, or is still, within its first polls)");
			else
				fprintf(f, engine_on ? "began %.6f virtual s ago" : "began %.3f s ago",
				    now > t0 ? (double)(now - t0) / 1e9 : 0.0);
			dump_site(f, atomic_load_explicit(&ci->ci_wait_site, memory_order_relaxed));
		}
		fprintf(f, "\n");
		dump_lock_wait(f, m, ci);
		if (m->m_hooks.mh_dump != NULL)
			m->m_hooks.mh_dump(f, ci);
	}
	engine_dump(f);
}

static void *wd_main(void *arg)
{
	struct machine *m = arg;
	struct watchdog *w = m->m_watchdog;
	pthread_mutex_lock(&w->w_lock);
	for (;;) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)WD_TICK_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!w->w_stop && pthread_cond_timedwait(&w->w_cv, &w->w_lock, &until) == 0)
			;
		if (w->w_stop)
			break;
		w->w_tick++;
		int stuck = -1;
		bool attached = false;
		for (unsigned i = 0; i < m->m_ncpu; i++) {
			struct cpu_info *ci = &m->m_cpus[i];
			uint64_t p = atomic_load_explicit(&ci->ci_progress, memory_order_relaxed);
			/* virtual time runs one CPU at a time: a CPU's wait lasts as
			 * many host seconds as every other CPU takes to run through
			 * it (a global shootdown slot behind 63 others, a barrier
			 * behind a CPU with work left), so no one wait is judged by
			 * host seconds there.  The machine is, with an interrupt
			 * handled (an IPI answered inside a wait) as progress too: a
			 * CPU that waits forever stops the others at the latest when
			 * they need it, at the trial's end, and nothing is handled
			 * when every CPU waits on another (docs/engine.md) */
			if (engine_on)
				for (unsigned t = 0; t < IPI_NTYPES; t++)
					p += atomic_load_explicit(&ci->ci_ipi_seen[t], memory_order_relaxed);
			uint64_t waits = atomic_load_explicit(&ci->ci_wait_seq, memory_order_relaxed);
			if (!cpu_is_attached(ci) || p != w->w_last[i]) {
				if (cpu_is_attached(ci))
					w->w_any = w->w_tick;
				w->w_last[i] = p;
				w->w_lastwait[i] = waits;
				w->w_since[i] = w->w_tick;
				continue;
			}
			attached = true;
			if (waits != w->w_lastwait[i]) { /* another wait: the last one ended */
				w->w_lastwait[i] = waits;
				w->w_since[i] = w->w_tick;
			}
			if (!engine_on && stuck < 0 && w->w_tick - w->w_since[i] >= w->w_limit_ticks)
				stuck = (int)i;
		}
		bool stalled = attached && w->w_tick - w->w_any >= w->w_limit_ticks;
		if (stuck >= 0 || stalled) {
			fflush(stdout);
			if (stuck >= 0)
				fprintf(stderr, "pmapstorm: watchdog: cpu%d made no progress and stayed in one wait (or none) "
				    "for %u s (watchdog.seconds): a hang — dumping every CPU, then exit 1\n", stuck,
				    (unsigned)ckv[CK_WATCHDOG]);
			else
				fprintf(stderr, "pmapstorm: watchdog: no CPU made progress for %u s (watchdog.seconds), each "
				    "waiting: a hang — dumping every CPU, then exit 1\n", (unsigned)ckv[CK_WATCHDOG]);
			machine_dump_state(stderr);
			void (*hook)(void) = atomic_load(&watchdog_hook);
			if (hook != NULL)
				hook();
			fflush(stdout);
			fflush(stderr);
			_exit(1);
		}
	}
	pthread_mutex_unlock(&w->w_lock);
	return NULL;
}

int check_boot(struct machine *m)
{
	check_values_load(&m->m_cfg);
	check_mask = ckv[CK_ENABLED] ? (unsigned)ckv[CK_ORACLES] : 0;
	check_update_on = check_on(CHK_UPDATE);
	check_tlb_on = check_on(CHK_FRAME) || check_update_on;
	inject_yield_on = ckv[CK_YIELD] != 0;
	inject_update_locks_n = (unsigned)ckv[CK_UPDATE_LOCKS];
	inject_intr_on = ckv[CK_SPL] != 0 || ckv[CK_IPI_DELAY] != 0;
	check_reset();
	for (unsigned i = 0; i < m->m_ncpu; i++) {
		struct cpu_info *ci = &m->m_cpus[i];
		ci->ci_inj_rng = (ckv[CK_SEED] ^ (0x9E3779B97F4A7C15ULL * (i + 1))) | 1;
		ci->ci_inj_ipi = ckv[CK_IPI_DELAY] != 0 && i < 64 && (ckv[CK_IPI_CPUS] >> i & 1);
		for (unsigned k = 0; k < 2; k++) {
			atomic_store(&ci->ci_inflight_lo[k], UINT64_MAX);
			atomic_store(&ci->ci_inflight_hi[k], 0);
		}
	}
	if (ckv[CK_WATCHDOG] == 0)
		return 0;
	struct watchdog *w = mem_zalloc(struct watchdog, 1);
	if (w == NULL)
		return machine_seterr(ENOMEM, "watchdog.seconds: no host memory");
	w->w_limit_ticks = ckv[CK_WATCHDOG] * (1000000000ULL / WD_TICK_NS);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->w_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&w->w_lock, NULL);
	w->w_last = mem_zalloc(uint64_t, m->m_ncpu);
	w->w_since = mem_zalloc(uint64_t, m->m_ncpu);
	w->w_lastwait = mem_zalloc(uint64_t, m->m_ncpu);
	m->m_watchdog = w;
	if (w->w_last == NULL || w->w_since == NULL || w->w_lastwait == NULL)
		return machine_seterr(ENOMEM, "watchdog.seconds: no host memory");
	int err = pthread_create(&w->w_thread, NULL, wd_main, m);
	if (err != 0) {
		w->w_thread = 0;
		return machine_seterr(err, "watchdog.seconds: cannot start the watchdog thread: %s", strerror(err));
	}
	return 0;
}

void check_halt(struct machine *m)
{
	struct watchdog *w = m->m_watchdog;
	if (w != NULL) {
		pthread_mutex_lock(&w->w_lock);
		w->w_stop = true;
		pthread_cond_signal(&w->w_cv);
		pthread_mutex_unlock(&w->w_lock);
		if (w->w_thread != 0)
			pthread_join(w->w_thread, NULL);
		pthread_cond_destroy(&w->w_cv);
		pthread_mutex_destroy(&w->w_lock);
		free(w->w_last);
		free(w->w_since);
		free(w->w_lastwait);
		free(w);
		m->m_watchdog = NULL;
	}
	check_tlb_on = check_update_on = inject_yield_on = inject_intr_on = false;
	inject_update_locks_n = 0;
	check_mask = 0;
}
