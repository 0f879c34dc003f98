/*
 * engine.c — the virtual-time engine (machine.engine = virtual), its keys
 * and its cost model.  docs/engine.md is the design; this is the summary.
 *
 * What it models.  The same simulated CPUs, the same host threads, but only
 * one of them runs at a time: it holds the baton.  Each CPU has a virtual
 * clock (ci_vclock, in virtual nanoseconds) that the cost model advances —
 * a TLB hit, each level of a walk, an invalidation, an IPI sent, delivered
 * and handled, a wait turn on a line another CPU writes, the code between
 * two interrupt points.  At a yield point (an interrupt point, a wait turn,
 * an IPI send, an injected yield) the running CPU keeps the baton while its
 * clock stays within engine.quantum_ns of the smallest clock of the other
 * runnable CPUs; past that, the scheduler hands the baton to the CPU with
 * the smallest clock, ties broken by a priority each CPU drew from
 * engine.seed.  With engine.preempt it also hands the baton, at that per
 * mille of yield points, to a CPU the seed picks, whatever the clocks: the
 * random preemption of PCT (Burckhardt et al., "A Randomized Scheduler
 * with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010), simplified
 * to a fixed rate.  Everything the scheduler reads is state of the model
 * that only the baton holder writes, so the run is a function of the
 * binary, the config and the seed: FoundationDB's deterministic simulation
 * in miniature, with real threads instead of an event loop.
 *
 * A waiting CPU does not burn host time: each wait turn puts its clock at
 * max(its clock, the smallest other clock) + cost.line_transfer_ns, so the
 * next CPU that can change what it waits for runs first, and the waiter
 * costs one baton hand-off per step of the others.
 *
 * Why baton passing between the existing threads and not coroutines: the
 * model keeps per-CPU state in thread-local storage it does not own
 * (liburcu's QSBR reader registration, the lock layer's node pools, the
 * statistics block, curcpu), so one host thread switching stacks would
 * have to switch all of them by hand; a hand-off through a per-CPU futex
 * word keeps every thread-local intact, and its atomics are the
 * happens-before edges ThreadSanitizer needs.  docs/engine.md has the
 * measured cost of a hand-off against a ucontext switch.
 *
 * Races: none by construction among CPUs under the engine.  Threads that
 * are not CPUs (the watchdog, an embedder's monitor) read engine_now(),
 * which the baton holder publishes at every hand-off.
 */
#include "machine_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

STATS_COUNTER(eng_switches, "engine.switches", "baton hand-offs between simulated CPUs (machine.engine = virtual)")
STATS_COUNTER(eng_preempts, "engine.preemptions", "hand-offs the seed forced (engine.preempt, inject.yield)")
STATS_COUNTER(eng_delays, "engine.delayed", "CPUs held back at a delay point (engine.delays)")

bool engine_on;
uint64_t engine_cost[EC_NCOSTS];
_Atomic uint64_t engine_epoch;

/* ---- the keys ---- */

#define ENG_MAXDELAYS 64

enum eng_preset { EP_XEON_SP = 0, EP_CALIBRATED = 1, EP_MANUAL = 2, EP_NPRESETS };

/* The costs: key, value in the xeon-sp preset (the default; calibrated
 * starts from it until the pmapstorm command applies calibration.json),
 * meaning.  Index = enum engine_cost. */
#define ENG_COSTS(X)                                                                                     \
	X(EC_TLB_HIT, "cost.tlb_hit_ns", 1, "a translation the TLB holds")                            \
	X(EC_WALK_LEVEL, "cost.walk_level_ns", 20, "each page-table level a walk reads")               \
	X(EC_INVLPG, "cost.invlpg_ns", 100, "one page invalidated in the own TLB (INVLPG)")            \
	X(EC_FLUSH, "cost.flush_ns", 300, "a whole-TLB or whole-PCID flush")                           \
	X(EC_IPI_SEND, "cost.ipi_send_ns", 200, "the sender's cost of one IPI (an ICR write)")          \
	X(EC_IPI_DELIVER, "cost.ipi_deliver_ns", 1000, "from an IPI's send to when the target can take it") \
	X(EC_HANDLER, "cost.handler_ns", 500, "interrupt entry and exit on the target")                 \
	X(EC_LINE, "cost.line_transfer_ns", 80, "a cache line another CPU wrote: a wait turn, a mailbox") \
	X(EC_POLL, "cost.intr_poll_ns", 20, "the code between two interrupt points, as a floor")        \
	X(EC_PTE_WRITE, "cost.pte_write_ns", 5, "a page-table entry written by the pmap (any level)")   \
	X(EC_LOCK, "cost.lock_ns", 20,                                                                  \
	    "a lock acquisition and its release, uncontended; a lock another CPU held last adds "         \
	    "cost.line_transfer_ns")

#define ENG_XEON(idx, name, val, help) [idx] = val,
static const uint64_t eng_xeon[EC_NCOSTS] = {ENG_COSTS(ENG_XEON)};

enum { EK_ENGINE, EK_SEED, EK_PREEMPT, EK_DELAYS, EK_DELAY_NS, EK_DELAY_STEPS, EK_QUANTUM, EK_COSTS, EK_COST0 };
static const char *const engine_values[] = {"threads", "virtual", NULL};
static const char *const preset_values[] = {"xeon-sp", "calibrated", "manual", NULL};

/* engine.costs = a preset: every cost.* key takes the preset's value (a
 * cost.* set after it overrides one); manual keeps the values as they are */
static int costs_set(const struct cfg_key *k, struct machine_config *c, const char *v);

#define ENG_KEY(idx, name, val, help)                                                                      \
	[EK_COST0 + idx] = CFG_KEY(name, CFG_UINT, 0, 1000000000, NULL, #val,                              \
	    "virtual ns (machine.engine = virtual): " help),
const struct cfg_key engine_keys[] = {
	[EK_ENGINE] = CFG_KEY("machine.engine", CFG_ENUM, 0, 0, engine_values, "threads",
	    "`threads`: each simulated CPU is a host thread in real time. `virtual`: one CPU at a time in virtual "
	    "time, scheduled by the smallest clock with seeded ties, clocks advanced by the cost model (cost.*): "
	    "deterministic from the seed on any host (docs/engine.md)", CFG_FIELD(mc_engine)),
	[EK_SEED] = CFG_KEY("engine.seed", CFG_UINT, 0, UINT64_MAX, NULL, "1",
	    "the virtual scheduler's tie-breaks and preemptions"),
	[EK_PREEMPT] = CFG_KEY("engine.preempt", CFG_UINT, 0, 1000, NULL, "0",
	    "per mille of yield points where the seed preempts the running CPU (virtual; PCT-style exploration)"),
	[EK_DELAYS] = CFG_KEY("engine.delays", CFG_UINT, 0, ENG_MAXDELAYS, NULL, "0",
	    "delays per machine run (virtual; delay-bounded scheduling): at this many yield points drawn from the "
	    "seed among the first `engine.delay_steps`, the running CPU is held back `engine.delay_ns`, as if its "
	    "host had descheduled it there"),
	[EK_DELAY_NS] = CFG_KEY("engine.delay_ns", CFG_UINT, 1, 1000000000, NULL, "50000",
	    "how long a delayed CPU is held back (virtual ns)"),
	[EK_DELAY_STEPS] = CFG_KEY("engine.delay_steps", CFG_UINT, 1, 1000000000000ULL, NULL, "100000",
	    "the yield points of a machine run over which `engine.delays` are drawn"),
	[EK_QUANTUM] = CFG_KEY("engine.quantum_ns", CFG_UINT, 0, 1000000, NULL, "200",
	    "how far past the slowest CPU the running one may go before it yields (virtual ns)"),
	[EK_COSTS] = CFG_KEY("engine.costs", CFG_ENUM, 0, 0, preset_values, "xeon-sp",
	    "the cost preset: `xeon-sp` (published figures, docs/engine.md), `calibrated` (this host's "
	    "`pmapstorm calibrate`), `manual` (the cost.* values as given)", .ck_set = costs_set),
	ENG_COSTS(ENG_KEY)
	{0},
};
_Static_assert(sizeof(engine_keys) / sizeof(engine_keys[0]) == EK_COST0 + EC_NCOSTS + 1, "a cost without its key");

static int costs_set(const struct cfg_key *k, struct machine_config *c, const char *v)
{
	for (unsigned p = 0; p < EP_NPRESETS; p++)
		if (v != NULL && !strcasecmp(v, preset_values[p])) {
			int e = machine_knob_store(c, k, p);
			for (unsigned i = 0; e == 0 && p != EP_MANUAL && i < EC_NCOSTS; i++)
				e = machine_knob_store(c, &engine_keys[EK_COST0 + i], eng_xeon[i]);
			return e;
		}
	return machine_seterr(EINVAL, "%s: '%s' is not one of: xeon-sp, calibrated, manual", k->ck_name, v ? v : "");
}

/* machine.engine = virtual with a lock that sleeps in the host kernel: it
 * would sleep holding the baton, and the holder it waits for cannot run */
int engine_config_validate(const struct machine_config *c)
{
	if (c->mc_engine != MACHINE_ENGINE_VIRTUAL)
		return 0;
	char algo[LC_NCLASS][LOCK_ALGO_NAMELEN];
	enum lock_wait wait;
	bool stat, unsafe;
	lock_config_read(c, algo, &wait, &stat, &unsafe);
	for (int cls = 0; cls < LC_NCLASS; cls++)
		for (unsigned k = 0; lock_algo_at(k) != NULL; k++) {
			const struct lock_algo_info *li = lock_algo_at(k);
			if (!strcmp(li->li_name, algo[cls]) && li->li_blocking)
				return machine_seterr(EINVAL,
				    "locks.%s: '%s' sleeps in the host kernel, which machine.engine = virtual cannot "
				    "schedule; choose a spinning algorithm (tas, ticket, mcs, clh, ck-rw)",
				    lock_class_name((lock_class_t)cls), algo[cls]);
		}
	return 0;
}

/* ---- the scheduler ---- */

enum { ES_OUT = 0, ES_RUN, ES_DONE };

struct eng_cpu {
	_Atomic uint32_t e_go __cacheline_aligned; /* the baton: 1 = this CPU holds it (a futex word) */
	uint64_t e_ipi_at[IPI_NTYPES];              /* virtual arrival of the oldest IPI not taken */
};

/*
 * The scheduler's state below is the baton holder's (engine_start's and
 * the halting thread's before and after a run), handed on with the baton
 * (eng_give's release, eng_wait_baton's acquire).  Two readers see it
 * without the baton: the watchdog's dump, from its own thread, and the
 * threads of an aborted run, which all run at once.  What they read is
 * accessed with relaxed atomics (ENG_LD, ENG_ST): plain loads and stores
 * on x86, and no data race (docs/engine.md, the watchdog).
 */
#define ENG_LD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define ENG_ST(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

static struct eng_cpu *eng_cpus;
/* what the scheduler scans, dense (a pick reads every CPU's clock): the
 * clock each CPU had when it last gave the baton away, and the priorities */
static _Atomic uint64_t *eng_clk;
static uint64_t *eng_prio;
static _Atomic uint8_t *eng_state;
static _Atomic uint8_t *eng_waiting;     /* parked in a wait turn (engine_wait_turn) */
static _Atomic uint64_t *eng_wepoch;     /* engine_epoch at the CPU's last wait turn */
static unsigned eng_nrun;                /* CPUs in ES_RUN */
static unsigned eng_n;
static _Atomic bool eng_running;         /* a machine_run() is under the engine */
static _Atomic bool eng_abort_flag;
static _Atomic uint32_t eng_done;        /* futex word of the thread in engine_start() */
static _Atomic uint64_t eng_now;         /* the newest clock a hand-off published */
static uint64_t eng_rng;
static _Atomic uint64_t eng_horizon;     /* the holder runs on while its clock is not past this */
static uint64_t eng_min_other;           /* the smallest clock of the other runnable CPUs */
static uint64_t eng_quantum;
static unsigned eng_preempt;
/* delay-bounded scheduling (engine.delays): the yield points of this run
 * where the running CPU is held back, ascending; the count so far */
static uint64_t eng_delay_at[ENG_MAXDELAYS];
static unsigned eng_ndelays, eng_delay_next;
static uint64_t eng_delay_ns, eng_delay_steps, eng_steps;

static void eng_rcu_defer(void (*fn)(void *), void *arg);
static void eng_rcu_drain(void);

static uint64_t eng_rand(void)
{
	/* xorshift64*: only the baton holder (or engine_start) draws */
	uint64_t x = eng_rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	eng_rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static long eng_futex(_Atomic uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)w, op, val, NULL, NULL, 0);
}

int engine_boot(struct machine *m)
{
	const struct machine_config *c = &m->m_cfg;
	engine_on = c->mc_engine == MACHINE_ENGINE_VIRTUAL;
	if (!engine_on)
		return 0;
	for (unsigned i = 0; i < EC_NCOSTS; i++)
		engine_cost[i] = machine_knob(c, &engine_keys[EK_COST0 + i]);
	eng_cpus = mem_zalloc(struct eng_cpu, m->m_ncpu);
	eng_clk = mem_zalloc(_Atomic uint64_t, m->m_ncpu);
	eng_prio = mem_zalloc(uint64_t, m->m_ncpu);
	eng_state = mem_zalloc(_Atomic uint8_t, m->m_ncpu);
	eng_waiting = mem_zalloc(_Atomic uint8_t, m->m_ncpu);
	eng_wepoch = mem_zalloc(_Atomic uint64_t, m->m_ncpu);
	if (eng_cpus == NULL || eng_clk == NULL || eng_prio == NULL || eng_state == NULL || eng_waiting == NULL ||
	    eng_wepoch == NULL) {
		engine_halt(m);
		return machine_seterr(ENOMEM, "machine.engine: no host memory for %u CPUs", m->m_ncpu);
	}
	eng_n = m->m_ncpu;
	eng_quantum = machine_knob(c, &engine_keys[EK_QUANTUM]);
	eng_preempt = (unsigned)machine_knob(c, &engine_keys[EK_PREEMPT]);
	eng_ndelays = (unsigned)machine_knob(c, &engine_keys[EK_DELAYS]);
	eng_delay_ns = machine_knob(c, &engine_keys[EK_DELAY_NS]);
	eng_delay_steps = machine_knob(c, &engine_keys[EK_DELAY_STEPS]);
	eng_rng = (machine_knob(c, &engine_keys[EK_SEED]) ^ 0x9E3779B97F4A7C15ULL) | 1;
	atomic_store(&eng_now, 0);
	ENG_ST(eng_running, false);
	sync_set_defer(eng_rcu_defer);
	return 0;
}

void engine_halt(struct machine *m)
{
	(void)m;
	if (engine_on) {
		sync_set_defer(NULL);
		eng_rcu_drain();
	}
	free(eng_cpus);
	free((void *)eng_clk);
	free(eng_prio);
	free((void *)eng_state);
	free((void *)eng_waiting);
	free((void *)eng_wepoch);
	eng_cpus = NULL;
	eng_clk = eng_wepoch = NULL;
	eng_prio = NULL;
	eng_state = eng_waiting = NULL;
	eng_n = 0;
	engine_on = false;
}

uint64_t engine_now(void)
{
	return atomic_load_explicit(&eng_now, memory_order_relaxed);
}

bool engine_scheduled(const struct cpu_info *ci)
{
	return ENG_LD(eng_running) && ENG_LD(eng_state[ci->ci_cpuid]) == ES_RUN;
}

/* The runnable CPU with the smallest (clock, priority); eng_n if none.
 * => the baton holder, whose own clock is in eng_clk[] already */
static unsigned eng_pick(void)
{
	unsigned best = eng_n;
	uint64_t bc = UINT64_MAX, bp = UINT64_MAX;
	for (unsigned i = 0; i < eng_n; i++)
		if (ENG_LD(eng_state[i]) == ES_RUN) {
			uint64_t c = ENG_LD(eng_clk[i]);
			if (c < bc || (c == bc && eng_prio[i] < bp)) {
				best = i;
				bc = c;
				bp = eng_prio[i];
			}
		}
	return best;
}

/* => the new holder: how far it may run before the next decision */
static void eng_set_horizon(unsigned self)
{
	uint64_t min = UINT64_MAX;
	for (unsigned i = 0; i < eng_n; i++)
		if (i != self && ENG_LD(eng_state[i]) == ES_RUN && ENG_LD(eng_clk[i]) < min)
			min = ENG_LD(eng_clk[i]);
	eng_min_other = min;
	ENG_ST(eng_horizon, min > UINT64_MAX - eng_quantum ? UINT64_MAX : min + eng_quantum);
}

static void eng_publish(const struct cpu_info *ci)
{
	if (ci->ci_vclock > atomic_load_explicit(&eng_now, memory_order_relaxed))
		atomic_store_explicit(&eng_now, ci->ci_vclock, memory_order_relaxed);
}

/* Give the baton to next (release: everything this CPU did happens before
 * what next does after its acquire in eng_wait_baton). */
static void eng_give(unsigned next)
{
	atomic_store_explicit(&eng_cpus[next].e_go, 1, memory_order_release);
	eng_futex(&eng_cpus[next].e_go, FUTEX_WAKE_PRIVATE, 1);
}

/* => spin: pause turns before sleeping, chosen by the caller while it still
 * held the baton (eng_nrun is the holder's to read) */
static void eng_wait_baton(unsigned self, unsigned spin)
{
	_Atomic uint32_t *go = &eng_cpus[self].e_go;
	for (unsigned i = 0; i < spin; i++) {
		if (atomic_load_explicit(go, memory_order_acquire))
			goto got;
		__builtin_ia32_pause();
	}
	while (!atomic_load_explicit(go, memory_order_acquire))
		eng_futex(go, FUTEX_WAIT_PRIVATE, 0);
got:
	atomic_store_explicit(go, 0, memory_order_relaxed);
}

static void eng_switch(struct cpu_info *ci, unsigned next)
{
	unsigned self = ci->ci_cpuid;
	stats_inc(&eng_switches);
	ENG_ST(eng_clk[self], ci->ci_vclock);
	eng_publish(ci);
	/* a short spin first where the baton comes straight back (two CPUs
	 * that take turns: the hand-off lands within a microsecond); with more,
	 * it comes back after the others ran, and a spin would only keep a
	 * host core from the CPU that has it.  Then sleep in the kernel. */
	unsigned spin = eng_nrun <= 2 ? 200 : 0;
	eng_give(next);
	eng_wait_baton(self, spin);
	if (atomic_load_explicit(&eng_abort_flag, memory_order_relaxed))
		return;
	eng_set_horizon(self);
}

/* The decision at a yield point: keep the baton, or hand it on. */
static void eng_step(struct cpu_info *ci)
{
	if (eng_preempt != 0 && eng_rand() % 1000 < eng_preempt) {
		engine_preempt(ci);
		return;
	}
	if (__predict_true(ci->ci_vclock <= ENG_LD(eng_horizon)))
		return;
	ENG_ST(eng_clk[ci->ci_cpuid], ci->ci_vclock);
	unsigned next = eng_pick();
	if (next == ci->ci_cpuid) {
		eng_set_horizon(next);
		return;
	}
	eng_switch(ci, next);
}

void engine_yield(struct cpu_info *ci)
{
	if (!ENG_LD(eng_running) || ENG_LD(eng_state[ci->ci_cpuid]) != ES_RUN)
		return;
	/* outside a wait: whatever this CPU did may be what a waiter waits for */
	eng_epoch_bump();
	ENG_ST(eng_waiting[ci->ci_cpuid], 0);
	/* a delay point: the CPU stalls here, and every other CPU runs on
	 * past it (then the clocks decide again) */
	if (__predict_false(eng_delay_next < eng_ndelays) && ++eng_steps >= eng_delay_at[eng_delay_next]) {
		while (eng_delay_next < eng_ndelays && eng_delay_at[eng_delay_next] <= eng_steps)
			eng_delay_next++;
		ci->ci_vclock += eng_delay_ns;
		stats_inc(&eng_delays);
	}
	eng_step(ci);
}

/*
 * When could something another CPU does next change what a waiter sees?
 * A CPU outside a wait: at its clock.  A CPU parked in a wait turn: at its
 * clock if anything changed since its last turn (its condition may hold
 * now), else only when it takes an interrupt (an IPI that has arrived, a
 * tick), which runs a handler.  UINT64_MAX: never (every CPU waits on
 * every other: the model deadlocked, which the watchdog reports).
 */
static uint64_t eng_next_event(unsigned self)
{
	const struct machine *m = machine_cur;
	uint64_t ev = UINT64_MAX;
	for (unsigned i = 0; i < eng_n; i++) {
		if (i == self || ENG_LD(eng_state[i]) != ES_RUN)
			continue;
		uint64_t e = UINT64_MAX;
		if (!ENG_LD(eng_waiting[i]) || ENG_LD(eng_wepoch[i]) != ENG_LD(engine_epoch)) {
			e = ENG_LD(eng_clk[i]);
		} else {
			const struct cpu_info *c = &m->m_cpus[i];
			for (unsigned t = 0; t < IPI_NTYPES; t++)
				if (atomic_load_explicit((_Atomic uint32_t *)&c->ci_ipi_seq[t], memory_order_relaxed) !=
				        atomic_load_explicit((_Atomic uint32_t *)&c->ci_ipi_seen[t], memory_order_relaxed) &&
				    eng_cpus[i].e_ipi_at[t] < e)
					e = eng_cpus[i].e_ipi_at[t];
			if (c->ci_tick_ns != 0 && c->ci_next_tick < e)
				e = c->ci_next_tick;
			if (e != UINT64_MAX && e < ENG_LD(eng_clk[i]))
				e = ENG_LD(eng_clk[i]);
		}
		if (e < ev)
			ev = e;
	}
	return ev;
}

/*
 * A wait turn.  What this CPU waits for can change only when another CPU
 * runs: its clock goes past the slowest other one, which then runs first,
 * and the waiter polls again a line transfer later.  When nothing changed
 * since its last turn (engine_epoch: every yield outside a wait, every
 * wait's first turn, every interrupt handled moves it), the polls between
 * now and the next event that can change anything would all find the
 * same: the clock jumps to that event.  Without that, K CPUs waiting
 * behind one that is D ahead leapfrog one another a line transfer at a
 * time, K * D / cost.line_transfer_ns hand-offs before it runs again.
 */
void engine_wait_turn(struct cpu_info *ci, unsigned turn)
{
	unsigned self = ci->ci_cpuid;
	if (!ENG_LD(eng_running) || ENG_LD(eng_state[self]) != ES_RUN)
		return;
	/* a wait's first turn follows work; a wait loop's own work (a reclaim
	 * every 64 turns in phys_wait) counts as a change too */
	if (turn == 0 || (turn & 63) == 0)
		eng_epoch_bump();
	uint64_t t = ci->ci_vclock > eng_min_other || eng_min_other == UINT64_MAX ? ci->ci_vclock : eng_min_other;
	if (ENG_LD(eng_waiting[self]) && ENG_LD(eng_wepoch[self]) == ENG_LD(engine_epoch)) {
		uint64_t ev = eng_next_event(self);
		if (ev != UINT64_MAX && ev > t)
			t = ev;
	}
	ci->ci_vclock = t + engine_cost[EC_LINE] + 1;
	ENG_ST(eng_waiting[self], 1);
	ENG_ST(eng_wepoch[self], ENG_LD(engine_epoch));
	/* a waiter gets no lookahead (engine.quantum_ns is for CPUs that
	 * work): past the slowest other CPU, what it waits for may be done in
	 * that CPU's next steps, and a poll ahead of them only adds latency */
	if (ci->ci_vclock > eng_min_other && eng_min_other != UINT64_MAX && eng_preempt == 0) {
		ENG_ST(eng_clk[self], ci->ci_vclock);
		unsigned next = eng_pick();
		if (next != self) {
			eng_switch(ci, next);
			return;
		}
		eng_set_horizon(self);
		return;
	}
	eng_step(ci);
}

void engine_preempt(struct cpu_info *ci)
{
	if (!ENG_LD(eng_running) || ENG_LD(eng_state[ci->ci_cpuid]) != ES_RUN)
		return;
	unsigned nrun = eng_nrun - 1; /* the others */
	if (nrun == 0)
		return;
	unsigned k = (unsigned)(eng_rand() % nrun), next = eng_n;
	for (unsigned i = 0; i < eng_n && next == eng_n; i++)
		if (i != ci->ci_cpuid && ENG_LD(eng_state[i]) == ES_RUN && k-- == 0)
			next = i;
	stats_inc(&eng_preempts);
	eng_epoch_bump();
	ENG_ST(eng_waiting[ci->ci_cpuid], 0);
	eng_switch(ci, next);
}

void engine_ipi_sent(struct cpu_info *target, unsigned type, uint64_t at)
{
	/* the oldest IPI not taken decides when the target sees one: later
	 * ones coalesce with it, as pending-bit IPIs do */
	if (atomic_load_explicit(&target->ci_ipi_seq[type], memory_order_relaxed) ==
	    atomic_load_explicit(&target->ci_ipi_seen[type], memory_order_relaxed))
		eng_cpus[target->ci_cpuid].e_ipi_at[type] = at;
}

bool engine_ipi_arrived(const struct cpu_info *ci, unsigned type)
{
	return eng_cpus == NULL || ci->ci_vclock >= eng_cpus[ci->ci_cpuid].e_ipi_at[type];
}

/* The watchdog's dump: the scheduler's view, as its relaxed loads find it
 * (the holder may be changing it meanwhile), for a human. */
void engine_dump(FILE *f)
{
	if (!engine_on || eng_cpus == NULL)
		return;
	fprintf(f, "engine: virtual, %s, epoch %lu, published clock %lu ns, horizon %lu\n",
	    ENG_LD(eng_running) ? "running" : "not running", (unsigned long)ENG_LD(engine_epoch),
	    (unsigned long)engine_now(), (unsigned long)ENG_LD(eng_horizon));
	for (unsigned i = 0; i < eng_n; i++) {
		const unsigned st = ENG_LD(eng_state[i]);
		fprintf(f, "  cpu%u: %s clock %lu%s, last wait turn at epoch %lu, baton %u\n", i,
		    st == ES_RUN ? "runnable" : st == ES_DONE ? "done" : "out", (unsigned long)ENG_LD(eng_clk[i]),
		    ENG_LD(eng_waiting[i]) ? " waiting" : "", (unsigned long)ENG_LD(eng_wepoch[i]),
		    atomic_load_explicit(&eng_cpus[i].e_go, memory_order_relaxed));
	}
}

/* ---- RCU callbacks on the simulated CPUs ----
 *
 * liburcu's call_rcu() worker is a host thread outside the simulated CPUs;
 * under the engine it would touch the machine at host-chosen times.  So
 * sync_rcu_defer() comes here instead: a callback waits in a FIFO with a
 * quiescent-state ticket of every attached CPU (cpu_qs_request), and the
 * first CPU to pass an interrupt point after all of them answered runs it
 * there — a grace period as ptp.c runs its own.  Only the baton holder
 * touches the list.  What is left at halt runs on the halting thread, when
 * no CPU can be walking anything any more.
 */
struct eng_rcu {
	struct eng_rcu *er_next;
	void (*er_fn)(void *);
	void *er_arg;
	uint64_t er_ticket[]; /* per CPU; 0: not attached when deferred */
};
static struct eng_rcu *eng_rcu_head, **eng_rcu_tail = &eng_rcu_head;
bool engine_rcu_pending;

static void eng_rcu_defer(void (*fn)(void *), void *arg)
{
	const struct machine *m = machine_cur;
	struct eng_rcu *r = mem_zalloc_flex(struct eng_rcu, er_ticket, m->m_ncpu);
	if (r == NULL)
		panic("machine.engine = virtual: no host memory for an RCU callback");
	r->er_fn = fn;
	r->er_arg = arg;
	for (unsigned i = 0; i < m->m_ncpu; i++)
		if (cpu_is_attached(&m->m_cpus[i]))
			r->er_ticket[i] = cpu_qs_request(&m->m_cpus[i]);
	*eng_rcu_tail = r;
	eng_rcu_tail = &r->er_next;
	engine_rcu_pending = true;
}

void engine_rcu_poll(void)
{
	const struct machine *m = machine_cur;
	while (eng_rcu_head != NULL) {
		struct eng_rcu *r = eng_rcu_head;
		for (unsigned i = 0; i < m->m_ncpu; i++)
			if (r->er_ticket[i] != 0 && !cpu_qs_passed(&m->m_cpus[i], r->er_ticket[i]))
				return;
		if ((eng_rcu_head = r->er_next) == NULL) {
			eng_rcu_tail = &eng_rcu_head;
			engine_rcu_pending = false;
		}
		eng_epoch_bump();
		r->er_fn(r->er_arg);
		free(r);
	}
}

static void eng_rcu_drain(void)
{
	while (eng_rcu_head != NULL) {
		struct eng_rcu *r = eng_rcu_head;
		eng_rcu_head = r->er_next;
		r->er_fn(r->er_arg);
		free(r);
	}
	eng_rcu_tail = &eng_rcu_head;
	engine_rcu_pending = false;
}

/* ---- machine_run() under the engine ---- */

void engine_park(struct cpu_info *ci)
{
	eng_wait_baton(ci->ci_cpuid, 0);
	if (!atomic_load_explicit(&eng_abort_flag, memory_order_relaxed))
		eng_set_horizon(ci->ci_cpuid);
}

bool engine_aborted(void)
{
	return atomic_load_explicit(&eng_abort_flag, memory_order_relaxed);
}

/* => machine_run(), before its threads exist.  An aborted run gives the
 * baton to every CPU, and one whose attach failed never took it: cleared
 * here, or that CPU would run beside the real holder next time. */
void engine_prepare(unsigned ncpu)
{
	for (unsigned i = 0; i < ncpu; i++)
		atomic_store_explicit(&eng_cpus[i].e_go, 0, memory_order_relaxed);
}

void engine_abort(struct machine *m, unsigned ncpu)
{
	(void)m;
	atomic_store(&eng_abort_flag, true);
	for (unsigned i = 0; i < ncpu; i++)
		eng_give(i);
}

/*
 * => the thread that called machine_run(), once every CPU thread attached
 *    and parked.  Every clock starts at the newest time a run reached (0
 *    after boot), so trials in one boot follow each other in virtual time.
 */
int engine_start(struct machine *m, unsigned ncpu)
{
	atomic_store(&eng_abort_flag, false);
	uint64_t t0 = atomic_load(&eng_now);
	for (unsigned i = 0; i < ncpu; i++) {
		ENG_ST(eng_state[i], ES_RUN);
		ENG_ST(eng_waiting[i], 0);
		eng_prio[i] = eng_rand();
		ENG_ST(eng_clk[i], t0);
		memset(eng_cpus[i].e_ipi_at, 0, sizeof(eng_cpus[i].e_ipi_at));
		m->m_cpus[i].ci_vclock = t0;
		if (m->m_cpus[i].ci_tick_ns != 0)
			m->m_cpus[i].ci_next_tick = t0 + m->m_cpus[i].ci_tick_ns;
	}
	/* this run's delay points, from the seed: ascending yield-point counts */
	eng_steps = 0;
	eng_delay_next = 0;
	for (unsigned j = 0; j < eng_ndelays; j++) {
		uint64_t at = 1 + eng_rand() % eng_delay_steps, k = j;
		for (; k > 0 && eng_delay_at[k - 1] > at; k--)
			eng_delay_at[k] = eng_delay_at[k - 1];
		eng_delay_at[k] = at;
	}
	atomic_store(&eng_done, 0);
	eng_nrun = ncpu;
	ENG_ST(eng_running, true);
	eng_give(eng_pick());
	while (!atomic_load_explicit(&eng_done, memory_order_acquire))
		eng_futex(&eng_done, FUTEX_WAIT_PRIVATE, 0);
	ENG_ST(eng_running, false);
	for (unsigned i = 0; i < ncpu; i++)
		ENG_ST(eng_state[i], ES_OUT);
	return 0;
}

/* => ci detached (its thread is about to return): the baton goes on */
void engine_exit(struct cpu_info *ci)
{
	if (!ENG_LD(eng_running))
		return;
	ENG_ST(eng_state[ci->ci_cpuid], ES_DONE);
	eng_nrun--;
	eng_epoch_bump();
	ENG_ST(eng_clk[ci->ci_cpuid], ci->ci_vclock);
	eng_publish(ci);
	unsigned next = eng_pick();
	if (next != eng_n) {
		stats_inc(&eng_switches);
		eng_give(next);
		return;
	}
	atomic_store_explicit(&eng_done, 1, memory_order_release);
	eng_futex(&eng_done, FUTEX_WAKE_PRIVATE, 1);
}
