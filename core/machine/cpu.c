/*
 * cpu.c — simulated CPUs: attach/detach, interrupt points, IPIs, waiting,
 * the clock, and machine_run(), the one helper that starts CPU threads.
 *
 * A CPU is a host thread that called cpu_attach().  An IPI of a type is a
 * sequence number bumped in the target's mailbox line (x86 NetBSD keeps a
 * bit mask, ci_ipis; counters let the target consume IPIs with loads only);
 * the target takes them only at cpu_intr_poll() and only when its
 * interrupt-block depth (splvm) is zero.  Waiting anywhere in the model goes through
 * cpu_spin_wait(): it keeps taking the CPU's own IPIs at every turn — two
 * CPUs that shoot at each other while each waits for the other's
 * acknowledgement would otherwise deadlock, as in a real kernel — and
 * yields the host CPU only where that helps: after machine.spin turns, when
 * another attached CPU is placed on the same host PU (or this CPU's thread
 * is not bound to its own); see cpu_spin_turn().
 *
 * Every interrupt point is a quiescent state: no walk of the page tables is
 * in progress there.  A CPU asked with cpu_qs_request() answers at its next
 * one, in its mailbox line (the pmap reuses a freed page-table page once every
 * CPU that may be walking it answered: core/pmap/ptp.c).  cpu_intr_poll()
 * is also liburcu's QSBR quiescent state (urcu/urcu-qsbr.h): attached CPUs
 * are registered QSBR readers, for sync_rcu_defer().
 *
 * Detach protocol: a detaching CPU leaves the attached set, takes its last
 * IPIs, flushes its whole TLB, then marks itself detached.  A CPU in the
 * detached state has an empty TLB, so an initiator waiting for its
 * acknowledgement may stop waiting (cpu_is_attached()).
 */

#include "machine_impl.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>



#include <pmapstorm/topo.h>

_Thread_local struct cpu_info *curcpu_tls __attribute__((tls_model("initial-exec")));

STATS_COUNTER(ipi_sent, "ipi.sent", "IPIs sent")
STATS_COUNTER(ipi_received, "ipi.received", "interrupts taken for IPIs")
STATS_COUNTER(cpu_yields, "cpu.yields", "waits that yielded the host CPU")

/*
 * The clock: the TSC where it is invariant (constant_tsc and nonstop_tsc in
 * /proc/cpuinfo), scaled to nanoseconds by a factor calibrated once against
 * CLOCK_MONOTONIC; CLOCK_MONOTONIC itself elsewhere.  On this project's
 * hosts rdtsc costs about 10 ns, clock_gettime() about 23 ns.
 */
static pthread_once_t clock_once = PTHREAD_ONCE_INIT;
static bool clock_tsc;
static uint64_t clock_tsc0, clock_ns0;
static uint64_t clock_mult; /* ns per tick, 32.32 fixed point */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void clock_calibrate(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool constant = false, nonstop = false;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	if (f != NULL)
		fclose(f);
	if (!constant || !nonstop)
		return;
	uint64_t t0 = __builtin_ia32_rdtsc(), n0 = mono_ns(), n1;
	while ((n1 = mono_ns()) - n0 < 20000000)
		;
	uint64_t t1 = __builtin_ia32_rdtsc();
	if (t1 <= t0)
		return;
	clock_mult = (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0));
	clock_tsc0 = t1;
	clock_ns0 = n1;
	clock_tsc = true;
}

static _Atomic bool clock_ready; /* set (release) once clock_calibrate() ran */

static void clock_init(void)
{
	clock_calibrate();
	atomic_store_explicit(&clock_ready, true, memory_order_release);
}

uint64_t cpu_now_ns(void)
{
	/* machine.engine = virtual: the CPU's own clock; a thread that is no
	 * CPU reads the newest clock the engine published */
	if (__predict_false(engine_on)) {
		struct cpu_info *ci = curcpu();
		return ci != NULL ? ci->ci_vclock : engine_now();
	}
	/* acquire: the calibration's results are visible once the flag is;
	 * pthread_once() only on the first calls (it was a call per read) */
	if (__predict_false(!atomic_load_explicit(&clock_ready, memory_order_acquire)))
		pthread_once(&clock_once, clock_init);
	if (!clock_tsc)
		return mono_ns();
	uint64_t d = __builtin_ia32_rdtsc() - clock_tsc0;
	return clock_ns0 + (uint64_t)(((unsigned __int128)d * clock_mult) >> 32);
}

/* Busy time the model charges (modelled IPI costs): no interrupt points. */
void cpu_delay_ns(uint64_t ns)
{
	if (ns == 0)
		return;
	if (__predict_false(engine_on)) {
		/* virtual: the time passes, and CPUs behind it run first (a
		 * yield, not an interrupt point: nothing is taken here) */
		struct cpu_info *ci = curcpu();
		if (ci != NULL) {
			ci->ci_vclock += ns;
			engine_yield(ci);
		}
		return;
	}
	uint64_t end = cpu_now_ns() + ns;
	while (cpu_now_ns() < end)
		__builtin_ia32_pause();
}

/*
 * A quiescent state, whatever the interrupt level (no walk is in progress
 * at an interrupt point): answer the newest request (cpu_qs_request).
 * Acquire: pairs with the requester's release, so this CPU's later walks
 * see what it stored before asking (an unlinked page-table page).
 * Release: this CPU's earlier walks are over for whoever reads the answer
 * with acquire (cpu_qs_passed) and then reuses the page.  The request
 * and the answer share the mailbox line that cpu_ipi_pending() reads next:
 * no extra miss here, and an initiator that polls this line for a
 * shootdown's acknowledgement reads the answer with it.
 */
static inline void cpu_qs_answer(struct cpu_info *ci)
{
	uint64_t qs = atomic_load_explicit(&ci->ci_qs_req, memory_order_acquire);
	if (__predict_false(qs != atomic_load_explicit(&ci->ci_qs_ack, memory_order_relaxed))) {
		atomic_store_explicit(&ci->ci_qs_ack, qs, memory_order_release);
		engine_changed();
	}
}

/* New IPIs?  => owner only; relaxed loads of the (usually cached) mailbox line */
static inline bool cpu_ipi_pending(const struct cpu_info *ci)
{
	for (unsigned t = 0; t < IPI_NTYPES; t++)
		if (atomic_load_explicit(&((struct cpu_info *)ci)->ci_ipi_seq[t], memory_order_relaxed) !=
		    atomic_load_explicit(&((struct cpu_info *)ci)->ci_ipi_seen[t], memory_order_relaxed) &&
		    (!engine_on || engine_ipi_arrived(ci, t)))
			return true;
	return false;
}

static void cpu_intr_dispatch(struct cpu_info *ci, bool all)
{
	uint32_t fired = 0;
	for (unsigned t = 0; t < IPI_NTYPES; t++) {
		/* acquire: pairs with the sender's release; what it wrote
		 * before sending (the request) is visible to the handler */
		uint32_t seq = atomic_load_explicit(&ci->ci_ipi_seq[t], memory_order_acquire);
		if (seq != atomic_load_explicit(&ci->ci_ipi_seen[t], memory_order_relaxed) &&
		    (all || !engine_on || engine_ipi_arrived(ci, t))) {
			atomic_store_explicit(&ci->ci_ipi_seen[t], seq, memory_order_relaxed);
			fired |= 1u << t;
		}
	}
	if (fired == 0)
		return;
	engine_changed();
	/* a request posted before these IPIs is visible now (their acquire
	 * loads): answer it before a handler acknowledges, so an initiator
	 * that asked and then shot down finds the answer with the ack */
	cpu_qs_answer(ci);
	ci->ci_ipl++; /* handlers run with interrupts blocked */
	const struct machine *m = machine_cur;
	if (__predict_false(engine_on)) {
		/* virtual: the entry costs its time first (cost.handler_ns and
		 * ipi.handler_ns together: one yield, so moving time from one
		 * to the other moves nothing else), and CPUs behind that time
		 * run before the handler acts (its acknowledgement must not be
		 * seen by a CPU whose clock has not reached it yet) */
		ci->ci_vclock += engine_cost[EC_HANDLER] + m->m_cfg.mc_ipi_handler_ns;
		engine_yield(ci);
	} else if (m->m_cfg.mc_ipi_handler_ns != 0) {
		cpu_delay_ns(m->m_cfg.mc_ipi_handler_ns);
	}
	/* several IPIs of one type coalesce into one handler call, as
	 * pending-bit IPIs do on real hardware */
	if (fired & (1u << IPI_SHOOTDOWN))
		m->m_hooks.mh_ipi_shootdown(ci);
	ci->ci_ipl--;
	stats_block_inc(ci->ci_stats, &ipi_received); /* after: an acknowledgement waits for nothing */
}

/*
 * The clock interrupt, for strategies that work at ticks (latr's sweeps):
 * taken at an interrupt point once machine.tick_us has passed, with
 * interrupts blocked like any handler.  Only strategies with a tick hook
 * pay for the clock read.
 */
static void cpu_tick(struct cpu_info *ci)
{
	uint64_t now = cpu_now_ns();
	if (now < ci->ci_next_tick)
		return;
	ci->ci_next_tick = now + ci->ci_tick_ns;
	engine_changed();
	ci->ci_ipl++;
	machine_cur->m_hooks.mh_tick(ci);
	ci->ci_ipl--;
}

/* An interrupt point; `progress`: outside a wait (the watchdog's measure). */
static inline void cpu_intr_point(struct cpu_info *ci, bool progress)
{
	if (progress) {
		atomic_store_explicit(&ci->ci_progress,
		    atomic_load_explicit(&ci->ci_progress, memory_order_relaxed) + 1, memory_order_relaxed);
	}
	cpu_qs_answer(ci);
	/* broadcast invalidations: the MMU applies them whatever the CPU's
	 * interrupt level (no software involved) */
	if (__predict_false(atomic_load_explicit(&ci->ci_tlb_inbox, memory_order_relaxed) != 0)) {
		machine_cur->m_hooks.mh_tlb_inbox(ci);
		engine_changed();
	}
	if (ci->ci_ipl != 0)
		return;
	/* inject.spl / inject.ipi_delay_us (check.c): off, one test of a flag */
	if (__predict_false(inject_intr_on) && inject_intr(ci, cpu_ipi_pending(ci)))
		return;
	if (__predict_false(cpu_ipi_pending(ci)))
		cpu_intr_dispatch(ci, false);
	if (ci->ci_tick_ns != 0)
		cpu_tick(ci);
	sync_rcu_quiescent();
	if (__predict_false(engine_rcu_pending))
		engine_rcu_poll();
}

void cpu_intr_poll(void)
{
	struct cpu_info *ci = curcpu();
	if (ci == NULL)
		return;
	if (__predict_false(engine_on)) {
		/* a yield point: the code since the last one costs its floor,
		 * and whatever other CPUs do before this clock happens first */
		ci->ci_vclock += engine_cost[EC_POLL];
		engine_yield(ci);
	}
	cpu_intr_point(ci, true);
}

void cpu_send_ipi(struct cpu_info *target, unsigned type)
{
	struct machine *m = machine_cur;
	uint64_t ns = m->m_cfg.mc_ipi_send_ns;
	/* ipi.distance_ns: the wire is longer the more hop levels lie between
	 * sender and target in the model topology; the sender pays it, as it
	 * pays ipi.send_ns, before the IPI lands */
	struct cpu_info *self = curcpu();
	if (m->m_ipi_dist != NULL && self != NULL)
		ns += m->m_ipi_dist[self->ci_cpuid * m->m_ncpu + target->ci_cpuid];
	if (__predict_false(engine_on) && self != NULL) {
		/* virtual: the sender pays the send, the wire takes the delivery
		 * latency and the hops; a shared-state step, so a yield point */
		self->ci_vclock += engine_cost[EC_IPI_SEND] + ns;
		engine_ipi_sent(target, type, self->ci_vclock + engine_cost[EC_IPI_DELIVER]);
		atomic_fetch_add_explicit(&target->ci_ipi_seq[type], 1, memory_order_release);
		stats_inc(&ipi_sent);
		engine_yield(self);
		return;
	}
	if (ns != 0)
		cpu_delay_ns(ns);
	atomic_fetch_add_explicit(&target->ci_ipi_seq[type], 1, memory_order_release);
	stats_inc(&ipi_sent);
}

uint64_t cpu_qs_request(struct cpu_info *target)
{
	/* release RMW: the caller's stores before it (an unlink) are visible
	 * to target once its interrupt point reads the request (acquire) */
	return atomic_fetch_add_explicit(&target->ci_qs_req, 1, memory_order_release) + 1;
}

bool cpu_qs_passed(const struct cpu_info *target, uint64_t ticket)
{
	/* a detached CPU walks nothing, and its last walk came before its
	 * release store of CPU_DETACHED (cpu_is_attached() loads with acquire) */
	return !cpu_is_attached(target) ||
	    atomic_load_explicit(&((struct cpu_info *)target)->ci_qs_ack, memory_order_acquire) >= ticket;
}

int splvm(void)
{
	struct cpu_info *ci = curcpu();
	return ci == NULL ? 0 : ci->ci_ipl++;
}

void splx(int s)
{
	struct cpu_info *ci = curcpu();
	if (ci != NULL)
		ci->ci_ipl = s;
}

/* A wait's first turns are flat polls (cpu_spin_turn); the rest pause. */
#define CPU_SPIN_FLAT 16

/* A wait's first turn records what it waits for and where, and counts the
 * wait (the watchdog tells one wait from the next by the count); its
 * pausing turns record since when, if nothing has (a handler's short wait
 * inside a long one clears it).  A wait that ends within its flat turns
 * (an acknowledgement a line transfer or two away) reads no clock: a read
 * costs about 20 ns here, a twentieth of a shootdown's round trip
 * (docs/performance.md, section 11). */
static inline void cpu_wait_note(struct cpu_info *ci, unsigned iter, void *site, const char *what)
{
	if (iter >= CPU_SPIN_FLAT) {
		if (atomic_load_explicit(&ci->ci_wait_t0, memory_order_relaxed) == 0)
			atomic_store_explicit(&ci->ci_wait_t0, cpu_now_ns(), memory_order_relaxed);
		return;
	}
	if (iter != 0)
		return;
	atomic_store_explicit(&ci->ci_wait_seq, atomic_load_explicit(&ci->ci_wait_seq, memory_order_relaxed) + 1,
	    memory_order_relaxed);
	atomic_store_explicit(&ci->ci_wait_what, what, memory_order_relaxed);
	atomic_store_explicit(&ci->ci_wait_site, (uintptr_t)site, memory_order_relaxed);
	atomic_store_explicit(&ci->ci_wait_t0, 0, memory_order_relaxed);
}

/* Is ci's thread bound to a host PU that no other attached CPU shares? */
static inline bool cpu_pu_alone(const struct cpu_info *ci, struct machine *m)
{
	if (!ci->ci_pinned || m == NULL)
		return false;
	/* relaxed is enough: a CPU that attaches meanwhile is seen a turn later */
	for (unsigned w = 0; w < MAXCPUS / 64; w++)
		if (atomic_load_explicit(&ci->ci_pu_peers.bits[w], memory_order_relaxed) &
		    atomic_load_explicit(&m->m_attached.bits[w], memory_order_relaxed))
			return false;
	return true;
}

/*
 * The wait policy.  The first turns poll flat out: an acknowledgement
 * usually arrives within a cache-line transfer or two, and a pause would
 * add its own latency to every round trip (and so would a full interrupt
 * point at every turn: it takes one every fourth).  Then pauses, up to
 * machine.spin turns.  Then a yield, at every turn, but only where a yield
 * can help: when another attached CPU is placed on the same host PU (it may
 * be the one waited for, queued behind this thread), or when this CPU's
 * thread is not bound to a PU of its own.  A CPU pinned alone on its PU
 * waits for something that runs on another PU; a yield would only hand its
 * PU to whatever else the host runs, for a whole time slice (a millisecond
 * or more): beside two busy loops every hand-off cost that, and
 * test_coherence ran ten times slower (issue 14), and two CPUs shooting at
 * each other collapsed into a benchmark of sched_yield() (issue 17).  Such
 * a CPU keeps pausing; the host's scheduler still preempts it when its
 * slice ends.
 */
static inline void cpu_spin_turn(unsigned *iter, void *site, const char *what)
{
	struct machine *m = machine_cur;
	unsigned spin = m != NULL ? m->m_cfg.mc_spin_before_yield : 64;
	struct cpu_info *ci = curcpu();
	unsigned i = (*iter)++;
	if (__predict_false(engine_on) && ci != NULL && engine_scheduled(ci)) {
		/* virtual: every turn takes interrupts, then the clock jumps
		 * past the slowest other CPU and the baton moves on */
		if (m->m_watchdog != NULL)
			cpu_wait_note(ci, i, site, what);
		cpu_intr_point(ci, false);
		engine_wait_turn(ci, i);
		return;
	}
	/* the flat turns: the caller re-checks its condition three times
	 * between interrupt points (a few ns apart), so an acknowledgement is
	 * seen as soon as its line arrives; IPIs are still taken every
	 * fourth turn */
	if (i < CPU_SPIN_FLAT && (i & 3) != 0)
		return;
	if (ci != NULL) {
		if (m != NULL && m->m_watchdog != NULL) /* only the watchdog's dump reads it */
			cpu_wait_note(ci, i, site, what);
		cpu_intr_point(ci, false);
	}
	if (i < CPU_SPIN_FLAT)
		return;
	if (i < spin || (ci != NULL && cpu_pu_alone(ci, m))) {
		__builtin_ia32_pause();
		return;
	}
	stats_inc(&cpu_yields);
	sched_yield();
}

void cpu_spin_wait(unsigned *iter)
{
	cpu_spin_turn(iter, __builtin_return_address(0), NULL);
}

void cpu_spin_wait_for(unsigned *iter, const char *what)
{
	cpu_spin_turn(iter, __builtin_return_address(0), what);
}

/* A turn of a pure spin: takes IPIs, pauses, never yields (locks.wait = spin). */
void cpu_spin_pause(unsigned *iter)
{
	struct cpu_info *ci = curcpu();
	if (ci != NULL) {
		cpu_wait_note(ci, *iter, __builtin_return_address(0), NULL);
		cpu_intr_point(ci, false);
		if (__predict_false(engine_on) && engine_scheduled(ci)) {
			engine_wait_turn(ci, (*iter)++);
			return;
		}
	}
	(*iter)++;
	__builtin_ia32_pause();
}

/* A lock acquisition in virtual time: cost.lock_ns, and a line transfer
 * when another CPU held the lock last (the lock word's line crosses). */
static void cpu_charge_lock(bool bounced)
{
	struct cpu_info *ci = curcpu();
	if (ci != NULL)
		ci->ci_vclock += engine_cost[EC_LOCK] + (bounced ? engine_cost[EC_LINE] : 0);
}

/*
 * Virtual time schedules only machine_run()'s CPUs.  A thread that attaches
 * itself (an embedder's setup, microbench's) runs outside the scheduler, so
 * it may do so only alone: not while a machine_run() is in progress, and not
 * beside another such thread; and machine_run() refuses to start while one
 * is attached.  Otherwise its steps would interleave with the scheduled
 * CPUs' as the host pleases, and the run would not repeat.
 */
static _Thread_local bool cpu_run_thread;   /* this thread was started by machine_run() */
static _Atomic unsigned cpu_runs_active;     /* machine_run()s in progress */
static _Atomic unsigned cpu_self_attached;   /* CPUs attached by threads of their own */

int cpu_attach(struct machine *m, unsigned cpuid)
{
	if (m == NULL || m != machine_cur || cpuid >= m->m_ncpu)
		return machine_seterr(EINVAL, "cpu_attach: cpu %u does not exist (machine.cpus = %u)", cpuid,
		    m ? m->m_ncpu : 0);
	if (curcpu() != NULL)
		return machine_seterr(EBUSY, "cpu_attach: this thread is already cpu%u", curcpu()->ci_cpuid);
	const bool own = engine_on && !cpu_run_thread;
	if (own && atomic_fetch_add(&cpu_self_attached, 1) != 0) {
		atomic_fetch_sub(&cpu_self_attached, 1);
		return machine_seterr(EBUSY, "cpu_attach: machine.engine = virtual schedules only machine_run()'s CPUs: "
		    "another thread is attached on its own");
	}
	if (own && atomic_load(&cpu_runs_active) != 0) {
		atomic_fetch_sub(&cpu_self_attached, 1);
		return machine_seterr(EBUSY, "cpu_attach: machine.engine = virtual schedules only machine_run()'s CPUs: "
		    "a machine_run() is in progress");
	}
	struct cpu_info *ci = &m->m_cpus[cpuid];
	int expect = CPU_DETACHED;
	if (!atomic_compare_exchange_strong(&ci->ci_state, &expect, CPU_ATTACHED)) {
		if (own)
			atomic_fetch_sub(&cpu_self_attached, 1);
		return machine_seterr(EBUSY, "cpu_attach: cpu%u is already attached", cpuid);
	}
	ci->ci_self_attached = own;
	curcpu_tls = ci;
	stats_attach(ci->ci_stats);
	ci->ci_ipl = 0;
	ci->ci_ctx = NULL;
	ci->ci_pcid = 0;
	ci->ci_phys = m->m_phys;
	ci->ci_curlwp = NULL;
	/* pinned alone on its PU, its waits need not yield (cpu_spin_turn):
	 * machine_run() binds its threads first; a thread attached by an
	 * embedder counts if it bound itself to the same PU */
	ci->ci_pinned = topo_thread_bound(cpuid);
	ci->ci_tick_ns = m->m_hooks.mh_tick != NULL ? m->m_cfg.mc_tick_us * 1000 : 0;
	ci->ci_next_tick = ci->ci_tick_ns ? cpu_now_ns() + ci->ci_tick_ns : 0;
	tlb_invalidate_all(ci);
	atomic_store_explicit(&ci->ci_wait_what, NULL, memory_order_relaxed);
	atomic_store_explicit(&ci->ci_wait_seq, 0, memory_order_relaxed);
	atomic_store_explicit(&ci->ci_wait_t0, 0, memory_order_relaxed);
	/* for the watchdog's dump: which lock a contended acquisition waits
	 * for, and this thread's lock id, which tells whose CPU holds it */
	atomic_store_explicit(&ci->ci_lock_wait, NULL, memory_order_relaxed);
	atomic_store_explicit(&ci->ci_lock_id, lock_thread_id(), memory_order_relaxed);
	sync_set_wait_slot(&ci->ci_lock_wait);
	lockstat_hold_seed(cpuid + 1); /* which holds lockstat times: per CPU, the same every run */
	ci->ci_sample_rng = stats_sample_seed(((uint64_t)1 << 32) + cpuid); /* and which completions, allocations */
	/* virtual: every lock acquisition costs cost.lock_ns (docs/engine.md) */
	sync_set_charge(engine_on ? cpu_charge_lock : NULL);
	sync_set_cpu((int)cpuid); /* the acquirer that mtx_lastcpu names */
	sync_rcu_register();
	/* seq_cst, before any walk: pairs with initiators reading the set */
	kcpuset_atomic_set(&m->m_attached, cpuid);
	return 0;
}

void cpu_detach(void)
{
	struct cpu_info *ci = curcpu();
	if (ci == NULL)
		return;
	struct machine *m = machine_cur;
	if (m->m_hooks.mh_cpu_detach != NULL)
		m->m_hooks.mh_cpu_detach(ci); /* the pmap: switch away from the current lwp */
	kcpuset_atomic_clear(&m->m_attached, ci->ci_cpuid);
	ci->ci_ipl = 0;
	cpu_intr_dispatch(ci, true);
	tlb_invalidate_all(ci);
	sync_rcu_unregister();
	sync_set_wait_slot(NULL);
	sync_set_charge(NULL);
	sync_set_cpu(-1);
	if (ci->ci_self_attached) {
		ci->ci_self_attached = false;
		atomic_fetch_sub(&cpu_self_attached, 1);
	}
	stats_attach(NULL);
	curcpu_tls = NULL;
	atomic_store_explicit(&ci->ci_state, CPU_DETACHED, memory_order_release);
}

bool cpu_virtual(void)
{
	return engine_on;
}

unsigned cpu_number(void)
{
	struct cpu_info *ci = curcpu();
	KASSERTMSG(ci != NULL, "cpu_number() on a thread that is not a CPU");
	return ci ? ci->ci_cpuid : 0;
}

bool cpu_attached(void)
{
	return curcpu() != NULL;
}

/* ---- the shared barrier ---- */

void cpu_barrier_init(struct cpu_barrier *b, unsigned n)
{
	atomic_store(&b->cb_count, 0);
	atomic_store(&b->cb_gen, 0);
	b->cb_n = n;
}

void cpu_barrier_wait(struct cpu_barrier *b)
{
	unsigned gen = atomic_load(&b->cb_gen), iter = 0;
	if (atomic_fetch_add(&b->cb_count, 1) + 1 == b->cb_n) {
		atomic_store(&b->cb_count, 0);
		atomic_fetch_add(&b->cb_gen, 1);
		return;
	}
	while (atomic_load(&b->cb_gen) == gen)
		cpu_spin_wait_for(&iter, "the other CPUs at a barrier");
}

/* ---- machine_run: the shared start-barrier helper ---- */

struct run_state {
	struct machine *rs_m;
	unsigned rs_ncpu;
	machine_cpu_fn rs_fn;
	void *rs_arg;
	_Atomic unsigned rs_arrived;
	_Atomic int rs_err;
};

struct run_thread {
	struct run_state *rt_s;
	unsigned rt_cpu;
};

static void *run_main(void *p)
{
	struct run_thread *rt = p;
	struct run_state *s = rt->rt_s;
	if (!engine_on)
		topo_bind_thread(rt->rt_cpu);
	cpu_run_thread = true;
	int err = cpu_attach(s->rs_m, rt->rt_cpu);
	if (err != 0) {
		int z = 0;
		atomic_compare_exchange_strong(&s->rs_err, &z, err);
	}
	atomic_fetch_add(&s->rs_arrived, 1);
	if (engine_on) {
		/* virtual: wait for the baton; the first goes out once every
		 * CPU attached (engine_start) */
		if (err != 0)
			return NULL;
		engine_park(curcpu());
		if (!engine_aborted())
			s->rs_fn(rt->rt_cpu, s->rs_arg);
		struct cpu_info *ci = curcpu();
		cpu_detach();
		if (!engine_aborted())
			engine_exit(ci);
		return NULL;
	}
	unsigned iter = 0;
	while (atomic_load(&s->rs_arrived) < s->rs_ncpu)
		cpu_spin_wait(&iter);
	if (err == 0 && atomic_load(&s->rs_err) == 0)
		s->rs_fn(rt->rt_cpu, s->rs_arg);
	if (err == 0)
		cpu_detach();
	return NULL;
}

int machine_run(struct machine *m, unsigned ncpu, machine_cpu_fn fn, void *arg)
{
	if (m == NULL || ncpu == 0 || ncpu > m->m_ncpu)
		return machine_seterr(EINVAL, "machine_run: %u CPUs asked, machine.cpus = %u", ncpu, m ? m->m_ncpu : 0);
	if (engine_on) {
		atomic_fetch_add(&cpu_runs_active, 1);
		if (atomic_load(&cpu_self_attached) != 0) {
			atomic_fetch_sub(&cpu_runs_active, 1);
			return machine_seterr(EBUSY, "machine_run: machine.engine = virtual schedules only its own CPUs, and "
			    "a thread that attached itself (cpu_attach) is still attached: detach it first");
		}
	}
	struct run_state s = {.rs_m = m, .rs_ncpu = ncpu, .rs_fn = fn, .rs_arg = arg};
	pthread_t *tids = mem_zalloc(pthread_t, ncpu);
	struct run_thread *rts = mem_zalloc(struct run_thread, ncpu);
	if (tids == NULL || rts == NULL) {
		free(tids);
		free(rts);
		if (engine_on)
			atomic_fetch_sub(&cpu_runs_active, 1);
		return machine_seterr(ENOMEM, "machine_run: out of host memory");
	}
	if (engine_on)
		engine_prepare(ncpu); /* no baton left over from an aborted run */
	unsigned started = 0;
	int err = 0;
	for (; started < ncpu; started++) {
		rts[started] = (struct run_thread){&s, started};
		if ((err = pthread_create(&tids[started], NULL, run_main, &rts[started])) != 0) {
			machine_seterr(err, "machine_run: cannot start thread for cpu%u: %s", started, strerror(err));
			atomic_store(&s.rs_err, err);
			/* release the ones already started */
			atomic_fetch_add(&s.rs_arrived, ncpu - started);
			break;
		}
	}
	if (engine_on) {
		/* every thread attached (or failed to) before the baton goes out */
		while (atomic_load(&s.rs_arrived) < ncpu)
			sched_yield();
		if (err != 0 || atomic_load(&s.rs_err) != 0)
			engine_abort(m, started);
		else
			engine_start(m, ncpu);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (engine_on)
		atomic_fetch_sub(&cpu_runs_active, 1);
	free(tids);
	free(rts);
	return err != 0 ? err : atomic_load(&s.rs_err);
}
