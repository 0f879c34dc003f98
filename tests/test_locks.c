/*
 * test_locks.c — the lock layer (pmapstorm/lock.h): every algorithm of the
 * zoo, through the lock classes that select it by config.
 *
 *  1. mutual exclusion, validated in Concurrency Kit's style
 *     (regressions/ck_spinlock/validate): 4 CPUs (oversubscribing a small
 *     host), an "inside" counter bumped after lock and checked, a little
 *     work on shared words that must keep the values written, a plain
 *     counter that must not lose updates; under locks.wait = spin-yield and
 *     spin;
 *  2. the validator catches the deliberately broken lock, in a state built
 *     so that it must (the random runs find violations too, but no verdict
 *     rests on a race showing up), and the broken lock is refused unless
 *     locks.allow_unsafe = yes;
 *  3. mutex_tryenter / mutex_owned / rw_tryenter / rw_write_held;
 *  4. lockstat: contended and uncontended counts, wait, hold samples,
 *     queue, bounces, and the lockstat switch;
 *  5. reader-writer algorithms: readers share, writers exclude;
 *  6. config errors; 7. the registry's descriptions and flags.
 *
 * Mutex algorithms are exercised through class pool (locks.pool = <name>),
 * reader-writer algorithms through class kernel_map (locks.kernel_map =
 * <name>, rw_enter / rw_exit).
 *
 * Each validation runs in a child process (fork) with its own machine, as
 * ck's validators are separate programs: a lock that deadlocks or makes the
 * lock layer panic fails that run, and the other algorithms are still
 * tested.  Results come back through shared memory.  The shared state the
 * validator checks is C11 atomics only, so ThreadSanitizer stays quiet even
 * for the broken lock; the plain counter is used for safe algorithms only.
 *
 * Wait loops on CPU threads go through cpu_spin_wait() (they take IPIs);
 * cmocka asserts only on the test thread (LT_CHECK elsewhere).  A property
 * of a lock state (two readers share, a waiting writer keeps readers out,
 * a held lock keeps a second CPU out) is tested by building that state step
 * by step and proving it reached (the lock's wait function is called only
 * by a CPU the lock keeps waiting: the tests install their own through
 * sync_set_wait() to see it), never by racing threads and counting.
 *
 * Environment: LT_FILTER (a cmocka test filter, e.g. 'test_validate*'),
 * LT_ALGO (validate one algorithm), LT_SCALE (n times the iterations and
 * time budgets, for soak runs), PMAPSTORM_TEST_SET (as th_boot()).
 */
#include "harness.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pmapstorm/lock.h>

#if defined(__SANITIZE_THREAD__)
#define LT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LT_TSAN 1
#endif
#endif
#ifndef LT_TSAN
#define LT_TSAN 0
#endif

#define LT_WATCHDOG_S 300 /* per test (in-process tests): a guard against hangs, generous for a loaded host */
#define LT_CHILD_S (LT_TSAN ? 30 : 10) /* per validation child: it hangs past this */
#define LT_NCPU 4
#define LT_WORDS 4

/* iterations per CPU (CK's validate does millions on real cores; 4 CPUs on
 * 2 host cores, and ThreadSanitizer, need far fewer) */
#define LT_ITERS_YIELD (LT_TSAN ? 5000u : 20000u)
#define LT_ITERS_SPIN (LT_TSAN ? 2000u : 20000u)
#define LT_BROKEN_CAP 2000000u

static uint64_t lt_scale = 1; /* LT_SCALE=n: n times the iterations (soak runs) */

/* ---- checks on CPU threads ---- */

#define LT_CHECK(cond, ...) TH_CHECKF(cond, __VA_ARGS__)

static const char *_Atomic lt_waiting_for; /* lt_wait_ge(); relaxed: only the watchdog's message reads it */

static void lt_watchdog(int sig)
{
	(void)sig;
	static const char msg[] = "test_locks: watchdog: the test ran past its time limit (deadlock?)\n";
	ssize_t n = write(2, msg, sizeof(msg) - 1);
	const char *w = atomic_load_explicit(&lt_waiting_for, memory_order_relaxed);
	if (w != NULL) {
		static const char pre[] = "test_locks: the last wait begun was for ";
		n = write(2, pre, sizeof(pre) - 1);
		n = write(2, w, strlen(w));
		n = write(2, "\n", 1);
	}
	(void)n;
	_exit(3);
}

static int lt_setup(void **state)
{
	(void)state;
	(void)th_failures();
	alarm(LT_WATCHDOG_S);
	return 0;
}

static int lt_teardown(void **state)
{
	(void)state;
	alarm(0);
	lockstat_enable(true);
	return 0;
}

/* ---- the registry and config helpers ---- */

static const struct lock_algo_info *lt_algo(const char *name)
{
	const struct lock_algo_info *li;
	for (unsigned i = 0; (li = lock_algo_at(i)) != NULL; i++)
		if (strcmp(li->li_name, name) == 0)
			return li;
	return NULL;
}

/* The class an algorithm is exercised through, and its config key. */
static lock_class_t lt_class(const struct lock_algo_info *li)
{
	return li->li_rw ? LC_KERNEL_MAP : LC_POOL;
}

static const char *lt_key(const struct lock_algo_info *li)
{
	return li->li_rw ? "locks.kernel_map" : "locks.pool";
}

/* A NULL-terminated list of "key=value" strings, built at run time. */
struct lt_sets {
	char kv[8][80];
	const char *p[9];
	unsigned n;
};

__attribute__((format(printf, 2, 3))) static void lt_set(struct lt_sets *s, const char *fmt, ...)
{
	if (s->n >= 8)
		abort();
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->kv[s->n], sizeof(s->kv[0]), fmt, ap);
	va_end(ap);
	s->p[s->n] = s->kv[s->n];
	s->n++;
	s->p[s->n] = NULL;
}

/* The machine for algorithm li, through its class (plus extra overrides). */
static void lt_sets_for(struct lt_sets *s, const struct lock_algo_info *li, const char *wait)
{
	memset(s, 0, sizeof(*s));
	lt_set(s, "machine.cpus=%u", LT_NCPU);
	if (li->li_unsafe)
		lt_set(s, "locks.allow_unsafe=yes");
	lt_set(s, "%s=%s", lt_key(li), li->li_name);
	lt_set(s, "locks.wait=%s", wait != NULL ? wait : "spin-yield");
}

/* th_boot() without cmocka (for child processes): NULL and a message on error. */
static struct machine *lt_boot_quiet(const char *const *sets, char *err, size_t len)
{
	struct machine_config cfg;
	machine_config_init(&cfg);
	/* as th_boot(): PMAPSTORM_TEST_SET first, then the overrides */
	char envset[512];
	const char *env = getenv("PMAPSTORM_TEST_SET");
	snprintf(envset, sizeof(envset), "%s", env != NULL ? env : "");
	const char *all[32];
	unsigned n = 0;
	for (char *tok = strtok(envset, ","); tok != NULL && n < 16; tok = strtok(NULL, ","))
		all[n++] = tok;
	for (const char *const *kv = sets; kv != NULL && *kv != NULL && n < 31; kv++)
		all[n++] = *kv;
	for (unsigned i = 0; i < n; i++) {
		char key[80], val[80];
		const char *eq = strchr(all[i], '=');
		if (eq == NULL) {
			snprintf(err, len, "bad override %s", all[i]);
			return NULL;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - all[i]), all[i]);
		snprintf(val, sizeof(val), "%s", eq + 1);
		if (machine_config_set(&cfg, key, val) != 0) {
			snprintf(err, len, "config %s=%s: %s", key, val, machine_errmsg());
			return NULL;
		}
	}
	struct machine *m = machine_boot(&cfg);
	if (m == NULL)
		snprintf(err, len, "machine_boot: %s", machine_errmsg());
	return m;
}

/* ---- a lock of either kind ---- */

struct lt_lock {
	bool l_rw; /* krwlock_t through rw_enter(RW_WRITER) */
	kmutex_t l_m;
	krwlock_t l_rwl;
};

static void lt_lock_init(struct lt_lock *l, const struct lock_algo_info *li)
{
	l->l_rw = li->li_rw;
	if (l->l_rw)
		rw_init(&l->l_rwl, lt_class(li));
	else
		mutex_init(&l->l_m, lt_class(li));
}

static void lt_lock_destroy(struct lt_lock *l)
{
	if (l->l_rw)
		rw_destroy(&l->l_rwl);
	else
		mutex_destroy(&l->l_m);
}

static inline void lt_enter(struct lt_lock *l)
{
	if (l->l_rw)
		rw_enter(&l->l_rwl, RW_WRITER);
	else
		mutex_enter(&l->l_m);
}

static inline void lt_exit(struct lt_lock *l)
{
	if (l->l_rw)
		rw_exit(&l->l_rwl);
	else
		mutex_exit(&l->l_m);
}

static inline bool lt_tryenter(struct lt_lock *l)
{
	return l->l_rw ? rw_tryenter(&l->l_rwl, RW_WRITER) : mutex_tryenter(&l->l_m);
}

static inline bool lt_owned(struct lt_lock *l)
{
	return l->l_rw ? rw_write_held(&l->l_rwl) : mutex_owned(&l->l_m);
}

/* the kmutex under an lt_lock */
static inline kmutex_t *lt_mutex(struct lt_lock *l)
{
	return l->l_rw ? &l->l_rwl.rw_lock : &l->l_m;
}

static inline unsigned lt_waiters(struct lt_lock *l)
{
	return atomic_load(&lt_mutex(l)->mtx_waiters);
}

/* ---- waiting on CPU threads, bounded ---- */

static uint64_t lt_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Waits (taking IPIs) until *p >= v: for another CPU to reach a step it
 * must reach.  No clock bounds the wait (a loaded host may not run that CPU
 * for a while); a lock that keeps it from getting there hangs the test, and
 * the watchdog (LT_WATCHDOG_S) ends it, saying what was awaited.
 */
static void lt_wait_ge(_Atomic unsigned *p, unsigned v, const char *what)
{
	unsigned iter = 0;
	atomic_store_explicit(&lt_waiting_for, what, memory_order_relaxed);
	while (atomic_load(p) < v)
		cpu_spin_wait(&iter);
}

/* Spins (taking IPIs) for about us microseconds. */
static void lt_spin_us(unsigned us)
{
	uint64_t end = lt_now() + (uint64_t)us * 1000ULL;
	unsigned iter = 0;
	while (lt_now() < end)
		cpu_spin_wait(&iter);
}

/* ================================================================
 * 1, 2. Mutual-exclusion validation, ck style, in a child process.
 * ================================================================ */

enum val_mode {
	VAL_EXCL = 0, /* mutex_enter, or rw_enter(RW_WRITER) for rw algorithms */
	VAL_RW_MIX,   /* kernel_map: CPU 0 writes, the others read (rw_enter both ways) */
	VAL_TRY_MIX,  /* VAL_EXCL, every other section entered by retried tryenter (CLH's abandoned nodes) */
};

/* Lives in shared memory: the child runs, the parent reads. */
struct val {
	/* the run */
	char v_algo[LOCK_ALGO_NAMELEN];
	char v_wait[16];
	enum val_mode v_mode;
	unsigned v_ncpu;
	uint64_t v_iters;     /* per CPU */
	bool v_until;         /* stop at the first violation (the broken lock) */
	bool v_plain;         /* also a plain, lock-protected counter */
	uint64_t v_deadline;  /* lt_now() after which the CPUs stop (0: none) */
	unsigned v_budget_ms; /* the run's time budget, from the start */
	/* the lock and the shared state */
	struct lt_lock v_lock;
	_Atomic unsigned v_inside;   /* exclusive holders inside */
	_Atomic unsigned v_readers;  /* VAL_RW_MIX: readers inside */
	_Atomic unsigned v_writer;   /* VAL_RW_MIX: a writer inside */
	_Atomic uint64_t v_words[LT_WORDS];
	_Atomic bool v_stop;
	_Atomic unsigned v_writer_done;
	uint64_t v_plain_count;
	/* results */
	_Atomic uint64_t v_violations; /* entered while another held it */
	_Atomic uint64_t v_corrupt;    /* shared words changed under the holder */
	_Atomic uint64_t v_done;       /* critical sections completed */
	_Atomic uint64_t v_done_cpu[LT_NCPU];
	_Atomic uint64_t v_reads;      /* VAL_RW_MIX: read sections */
	_Atomic uint64_t v_read_overlap; /* VAL_RW_MIX: read sections that saw another reader */
	_Atomic int v_phase;           /* 1 booted, 2 ran, 3 destroyed */
	char v_algo_seen[LOCK_ALGO_NAMELEN];
	char v_err[256];
};

static void val_violation(struct val *v)
{
	atomic_fetch_add(&v->v_violations, 1);
	if (v->v_until)
		atomic_store(&v->v_stop, true);
}

/* The exclusive critical section. */
static void val_section(struct val *v, unsigned cpu, uint64_t i)
{
	if (atomic_fetch_add(&v->v_inside, 1) != 0)
		val_violation(v);
	if (v->v_mode == VAL_RW_MIX) {
		atomic_store(&v->v_writer, 1);
		if (atomic_load(&v->v_readers) != 0)
			val_violation(v);
	}
	uint64_t tag = (((uint64_t)cpu + 1) << 56) | (i << 4);
	for (unsigned k = 0; k < LT_WORDS; k++)
		atomic_store_explicit(&v->v_words[k], tag | k, memory_order_relaxed);
	for (unsigned k = 0; k < LT_WORDS; k++)
		if (atomic_load_explicit(&v->v_words[k], memory_order_relaxed) != (tag | k))
			atomic_fetch_add(&v->v_corrupt, 1);
	if (v->v_plain)
		v->v_plain_count++;
	if (v->v_mode == VAL_RW_MIX)
		atomic_store(&v->v_writer, 0);
	if (atomic_fetch_sub(&v->v_inside, 1) != 1)
		val_violation(v);
}

/* A read section (VAL_RW_MIX): no writer inside, the words stay put. */
static void val_read_section(struct val *v)
{
	unsigned r = atomic_fetch_add(&v->v_readers, 1);
	if (atomic_load(&v->v_writer) != 0 || atomic_load(&v->v_inside) != 0)
		val_violation(v);
	uint64_t w0 = atomic_load_explicit(&v->v_words[0], memory_order_relaxed);
	for (unsigned k = 1; k < LT_WORDS; k++)
		if (atomic_load_explicit(&v->v_words[k], memory_order_relaxed) != ((w0 & ~0xfULL) | k) && w0 != 0)
			atomic_fetch_add(&v->v_corrupt, 1);
	if (r != 0 || atomic_load(&v->v_readers) > 1)
		atomic_fetch_add(&v->v_read_overlap, 1);
	if (atomic_load(&v->v_writer) != 0 || atomic_load(&v->v_inside) != 0)
		val_violation(v);
	atomic_fetch_sub(&v->v_readers, 1);
	atomic_fetch_add(&v->v_reads, 1);
}

static void val_cpu(unsigned cpu, void *arg)
{
	struct val *v = arg;
	if (v->v_mode == VAL_RW_MIX && cpu != 0) {
		/* readers: at least 64 reads, then until the writer is done
		 * (bounded: a reader-preferring lock may keep the writer out) */
		krwlock_t *rw = &v->v_lock.l_rwl;
		for (uint64_t i = 0; i < 64 || (i < 4 * v->v_iters && atomic_load(&v->v_writer_done) == 0); i++) {
			rw_enter(rw, RW_READER);
			val_read_section(v);
			rw_exit(rw);
			atomic_fetch_add_explicit(&v->v_done_cpu[cpu], 1, memory_order_relaxed);
		}
		return;
	}
	for (uint64_t i = 0; i < v->v_iters; i++) {
		if (v->v_until && atomic_load_explicit(&v->v_stop, memory_order_relaxed))
			break;
		if (i >= 8 && v->v_deadline != 0 && lt_now() > v->v_deadline)
			break;
		if (v->v_mode == VAL_TRY_MIX && ((i + cpu) & 1)) {
			unsigned it = 0;
			while (!lt_tryenter(&v->v_lock))
				cpu_spin_wait(&it);
		} else {
			lt_enter(&v->v_lock);
		}
		val_section(v, cpu, i);
		lt_exit(&v->v_lock);
		atomic_fetch_add_explicit(&v->v_done, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&v->v_done_cpu[cpu], 1, memory_order_relaxed);
	}
	if (v->v_mode == VAL_RW_MIX)
		atomic_store(&v->v_writer_done, 1);
}

_Noreturn static void val_child(struct val *v)
{
	/* cmocka's handlers would catch a crash on a CPU thread: let it kill the child */
	static const int sigs[] = {SIGALRM, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
	for (size_t k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
		signal(sigs[k], SIG_DFL);
	alarm(LT_CHILD_S); /* the child dies of SIGALRM if it hangs */
	const struct lock_algo_info *li = lt_algo(v->v_algo);
	if (li == NULL) {
		snprintf(v->v_err, sizeof(v->v_err), "no algorithm %s", v->v_algo);
		_exit(2);
	}
	struct lt_sets s;
	lt_sets_for(&s, li, v->v_wait);
	if (v->v_mode == VAL_RW_MIX) /* kernel_map, whatever the algorithm */
		snprintf(s.kv[li->li_unsafe ? 2 : 1], sizeof(s.kv[0]), "locks.kernel_map=%s", li->li_name);
	struct machine *m = lt_boot_quiet(s.p, v->v_err, sizeof(v->v_err));
	if (m == NULL)
		_exit(2);
	atomic_store(&v->v_phase, 1);
	if (v->v_mode == VAL_RW_MIX) {
		v->v_lock.l_rw = true;
		rw_init(&v->v_lock.l_rwl, LC_KERNEL_MAP);
	} else {
		lt_lock_init(&v->v_lock, li);
	}
	struct lockstat_row rows[LC_NCLASS];
	lockstat_read(rows, -1);
	snprintf(v->v_algo_seen, sizeof(v->v_algo_seen), "%s",
	    rows[v->v_mode == VAL_RW_MIX ? LC_KERNEL_MAP : lt_class(li)].lr_algo);
	if (v->v_budget_ms != 0)
		v->v_deadline = lt_now() + (uint64_t)v->v_budget_ms * 1000000ULL;
	int e = machine_run(m, v->v_ncpu, val_cpu, v);
	if (e != 0) {
		snprintf(v->v_err, sizeof(v->v_err), "machine_run: %d %s", e, machine_errmsg());
		_exit(2);
	}
	atomic_store(&v->v_phase, 2);
	lt_lock_destroy(&v->v_lock);
	atomic_store(&v->v_phase, 3);
	/* no machine_halt(): the child goes away with everything (and does not
	 * touch liburcu's threads, which fork did not copy) */
	_exit(0);
}

static struct val *val_new(const struct lock_algo_info *li, const char *wait, enum val_mode mode, uint64_t iters)
{
	struct val *v = mmap(NULL, sizeof(*v), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(v != MAP_FAILED);
	memset(v, 0, sizeof(*v));
	snprintf(v->v_algo, sizeof(v->v_algo), "%s", li->li_name);
	snprintf(v->v_wait, sizeof(v->v_wait), "%s", wait);
	v->v_mode = mode;
	v->v_ncpu = LT_NCPU;
	v->v_iters = iters;
	v->v_plain = !li->li_unsafe;
	return v;
}

static void val_free(struct val *v)
{
	munmap(v, sizeof(*v));
}

/* Runs the validation in a child; returns the child's wait status. */
static int val_fork(struct val *v, double *secs)
{
	fflush(stdout);
	fflush(stderr);
	uint64_t t0 = lt_now();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		val_child(v);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*secs = (double)(lt_now() - t0) / 1e9;
	return st;
}

static void val_status(char *buf, size_t len, int st)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(st), strsignal(WTERMSIG(st)),
		    WTERMSIG(st) == SIGALRM ? ": hung, past the child's time limit" : "");
	else
		snprintf(buf, len, "status %#x", st);
}

/* Appends to a failure summary. */
static void lt_note(char *sum, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lt_note(char *sum, size_t len, const char *fmt, ...)
{
	size_t n = strlen(sum);
	if (n + 2 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sum + n, len - n, fmt, ap);
	va_end(ap);
}

static const char *lt_only; /* LT_ALGO=name: validate that algorithm only */

/*
 * Validates every safe algorithm of the registry under one wait policy:
 * iters sections per CPU, or as many as fit in budget_ms (FIFO spin locks
 * with locks.wait = spin convoy badly when a waiter's host thread is
 * preempted: each hand-off to it costs a scheduler time slice).
 */
static void validate_all(const char *wait, enum val_mode mode, uint64_t iters, unsigned budget_ms)
{
	char sum[4096] = "";
	const struct lock_algo_info *li;
	unsigned tested = 0;
	for (unsigned i = 0; (li = lock_algo_at(i)) != NULL; i++) {
		if (li->li_unsafe || (lt_only != NULL && strcmp(lt_only, li->li_name) != 0))
			continue;
		struct val *v = val_new(li, wait, mode, iters * lt_scale);
		v->v_budget_ms = budget_ms * (unsigned)lt_scale;
		double secs = 0;
		int st = val_fork(v, &secs);
		char sts[128];
		val_status(sts, sizeof(sts), st);
		uint64_t viol = atomic_load(&v->v_violations), corrupt = atomic_load(&v->v_corrupt);
		uint64_t done = atomic_load(&v->v_done);
		print_message("  %-17s %-10s %s: %" PRIu64 " sections (cpu0..3: %" PRIu64 " %" PRIu64 " %" PRIu64
		              " %" PRIu64 "), %" PRIu64 " violations, %" PRIu64 " corrupt words, %.2f s, %s\n",
		    li->li_name, wait, mode == VAL_RW_MIX ? "rw-mix" : mode == VAL_TRY_MIX ? "try-mix" : "excl", done,
		    atomic_load(&v->v_done_cpu[0]),
		    atomic_load(&v->v_done_cpu[1]), atomic_load(&v->v_done_cpu[2]), atomic_load(&v->v_done_cpu[3]),
		    viol, corrupt, secs, sts);
		if (mode == VAL_RW_MIX)
			print_message("  %-17s            reads %" PRIu64 ", %" PRIu64 " of them beside another reader\n",
			    li->li_name, atomic_load(&v->v_reads), atomic_load(&v->v_read_overlap));
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			lt_note(sum, sizeof(sum), "\n  %s: child %s (phase %d of 3: 1 booted, 2 ran, 3 lock destroyed)%s%s", li->li_name, sts,
			    atomic_load(&v->v_phase), v->v_err[0] ? ": " : "", v->v_err);
		if (viol != 0 || corrupt != 0)
			lt_note(sum, sizeof(sum), "\n  %s: %" PRIu64 " mutual-exclusion violations, %" PRIu64
			    " corrupted words", li->li_name, viol, corrupt);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			if (v->v_plain_count != done)
				lt_note(sum, sizeof(sum), "\n  %s: plain counter %" PRIu64 " after %" PRIu64
				    " sections (lost updates)", li->li_name, v->v_plain_count, done);
			for (unsigned c = 0; c < LT_NCPU; c++)
				if (atomic_load(&v->v_done_cpu[c]) == 0)
					lt_note(sum, sizeof(sum), "\n  %s: cpu%u made no progress", li->li_name, c);
			if (strcmp(v->v_algo_seen, li->li_name) != 0)
				lt_note(sum, sizeof(sum), "\n  %s: lockstat says the class runs '%s'", li->li_name,
				    v->v_algo_seen);
		}
		val_free(v);
		tested++;
	}
	assert_true(tested >= 1);
	if (sum[0] != '\0')
		fail_msg("validation (locks.wait=%s):%s", wait, sum);
}

static void test_validate_spin_yield(void **state)
{
	(void)state;
	validate_all("spin-yield", VAL_EXCL, LT_ITERS_YIELD, 1500);
}

static void test_validate_spin(void **state)
{
	(void)state;
	validate_all("spin", VAL_EXCL, LT_ITERS_SPIN, 600);
}

/* Readers and writers on kernel_map (every safe algorithm: a mutex
 * algorithm serves readers exclusively). */
static void test_validate_rw_mix(void **state)
{
	(void)state;
	validate_all("spin-yield", VAL_RW_MIX, LT_ITERS_YIELD / 4, 1000);
}

/* Tries that fail under contention mixed with waiting acquisitions: a CLH
 * try leaves an abandoned node that its successor must skip. */
static void test_validate_try_mix(void **state)
{
	(void)state;
	validate_all("spin-yield", VAL_TRY_MIX, LT_ITERS_YIELD / 2, 1000);
}

/*
 * The queue locks (MCS, CLH) move nodes between threads; their failures
 * depend on a thread being preempted at the wrong instruction, so they are
 * validated a few more times (stopping at the first failure).
 */
static void test_validate_queue_locks_soak(void **state)
{
	(void)state;
	static const char *const names[] = {"mcs", "clh"};
	char sum[2048] = "";
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		const struct lock_algo_info *li = lt_algo(names[k]);
		if (li == NULL || (lt_only != NULL && strcmp(lt_only, li->li_name) != 0))
			continue;
		for (int round = 0; round < 4; round++) {
			struct val *v = val_new(li, "spin-yield", VAL_EXCL, LT_ITERS_YIELD * lt_scale);
			v->v_budget_ms = 1000;
			double secs = 0;
			int st = val_fork(v, &secs);
			char sts[128];
			val_status(sts, sizeof(sts), st);
			uint64_t viol = atomic_load(&v->v_violations), done = atomic_load(&v->v_done);
			bool bad = !WIFEXITED(st) || WEXITSTATUS(st) != 0 || viol != 0 ||
			    atomic_load(&v->v_corrupt) != 0 || v->v_plain_count != done;
			print_message("  %-5s round %d: %" PRIu64 " sections, %" PRIu64 " violations, %.2f s, %s\n",
			    li->li_name, round, done, viol, secs, sts);
			if (bad)
				lt_note(sum, sizeof(sum), "\n  %s, round %d: child %s, %" PRIu64 " violations, plain counter %"
				    PRIu64 " after %" PRIu64 " sections", li->li_name, round, sts, viol, v->v_plain_count, done);
			val_free(v);
			if (bad)
				break;
		}
	}
	if (sum[0] != '\0')
		fail_msg("queue locks:%s", sum);
}

/* The broken lock, validated the same way until a violation shows (or
 * LT_BROKEN_CAP sections: the verdict is the built state's, not this run's). */
static struct val *broken_run(int *st, double *secs)
{
	const struct lock_algo_info *li = lt_algo("broken");
	assert_non_null(li);
	assert_true(li->li_unsafe);
	struct val *v = val_new(li, "spin-yield", VAL_EXCL, LT_BROKEN_CAP);
	v->v_until = true;
	*st = val_fork(v, secs);
	char sts[128];
	val_status(sts, sizeof(sts), *st);
	print_message("  broken: %" PRIu64 " sections, %" PRIu64 " violations, %" PRIu64
	              " corrupt words, %.2f s, child %s (phase %d)%s%s\n",
	    atomic_load(&v->v_done), atomic_load(&v->v_violations), atomic_load(&v->v_corrupt), *secs, sts,
	    atomic_load(&v->v_phase), v->v_err[0] ? ": " : "", v->v_err);
	return v;
}

/*
 * The validator sees the broken lock's violation, in a state built on
 * purpose rather than raced for: CPU 0 takes the lock and is inside the
 * validator's critical section (v_inside = 1); then CPU 1 asks for the lock
 * and runs the validator's section once it has it.  CPU 0 leaves only when
 * CPU 1 is done, or when CPU 1 has called the lock's wait function twice
 * (it provably waits: every algorithm's wait loop calls it while the lock
 * is held; lock_impl.h).  The broken lock calls it once and barges in
 * (lock_broken.c), so CPU 1 runs the section beside CPU 0: the validator
 * must count a violation.  Every safe algorithm, in the same state, keeps
 * CPU 1 out until CPU 0 left: no violation.  Nothing here depends on how the
 * host schedules the threads.
 */
struct ex_run {
	struct val *x_v;
	_Atomic unsigned x_step;
	_Atomic unsigned x_waits; /* CPU 1's calls of the wait function */
};

static struct ex_run *ex_cur;

static void ex_wait(unsigned *iter)
{
	/* seq_cst: CPU 0 reads the count and then leaves; the call that
	 * counted happened while CPU 1 was inside the lock's wait */
	if (cpu_attached() && cpu_number() == 1) /* not the RCU worker, which may wait for locks too */
		atomic_fetch_add(&ex_cur->x_waits, 1);
	cpu_spin_wait(iter);
}

static void ex_cpu(unsigned cpu, void *arg)
{
	struct ex_run *x = arg;
	struct val *v = x->x_v;
	unsigned iter = 0;
	if (cpu == 0) {
		lt_enter(&v->v_lock);
		atomic_fetch_add(&v->v_inside, 1); /* the first half of val_section() */
		atomic_store(&x->x_step, 1);
		while (atomic_load(&x->x_step) < 2 && atomic_load(&x->x_waits) < 2)
			cpu_spin_wait(&iter);
		atomic_fetch_sub(&v->v_inside, 1);
		lt_exit(&v->v_lock);
	} else {
		while (atomic_load(&x->x_step) < 1)
			cpu_spin_wait(&iter);
		lt_enter(&v->v_lock);
		val_section(v, cpu, 0);
		lt_exit(&v->v_lock);
		atomic_store(&x->x_step, 2);
	}
}

/* The built state under algorithm li: the violations the validator counted. */
static uint64_t ex_violations(const struct lock_algo_info *li)
{
	struct lt_sets s;
	lt_sets_for(&s, li, NULL);
	struct machine *m = th_boot(s.p);
	struct val *v = val_new(li, "spin-yield", VAL_EXCL, 1);
	struct ex_run *x = mem_zalloc(struct ex_run, 1);
	assert_non_null(x);
	x->x_v = v;
	lt_lock_init(&v->v_lock, li);
	ex_cur = x;
	sync_set_wait(ex_wait, NULL); /* until machine_halt() puts the machine's back */
	int e = machine_run(m, 2, ex_cpu, x);
	uint64_t viol = atomic_load(&v->v_violations);
	print_message("  %-17s CPU 1 asked while CPU 0 was inside: %" PRIu64 " violation(s), %u wait call(s)\n",
	    li->li_name, viol, atomic_load(&x->x_waits));
	lt_lock_destroy(&v->v_lock);
	machine_halt(m);
	ex_cur = NULL;
	free(x);
	val_free(v);
	assert_int_equal(e, 0);
	assert_int_equal(th_failures(), 0);
	return viol;
}

static void test_validate_catches_broken(void **state)
{
	(void)state;
	const struct lock_algo_info *li;
	char sum[1024] = "";
	for (unsigned i = 0; (li = lock_algo_at(i)) != NULL; i++) {
		if (li->li_unsafe)
			continue;
		uint64_t viol = ex_violations(li);
		if (viol != 0)
			lt_note(sum, sizeof(sum), "\n  %s: %" PRIu64 " violation(s): CPU 1 got in while CPU 0 held it",
			    li->li_name, viol);
	}
	const struct lock_algo_info *broken = lt_algo("broken");
	assert_non_null(broken);
	if (ex_violations(broken) == 0)
		lt_note(sum, sizeof(sum), "\n  broken: the validator saw no violation with CPU 1 barging in beside CPU 0");
	if (sum[0] != '\0')
		fail_msg("the validator's built state:%s", sum);
}

/*
 * The broken lock exists "so the mutual-exclusion validators can show they
 * catch a broken lock" (lock_broken.c): the validation must run to its end
 * and report, not take the process down.  Whether this random run happens
 * to see an overlap is printed, not asserted (test_validate_catches_broken
 * builds the overlap).
 */
static void test_validate_broken_runs_to_completion(void **state)
{
	(void)state;
	int st;
	double secs;
	struct val *v = broken_run(&st, &secs);
	uint64_t viol = atomic_load(&v->v_violations);
	int phase = atomic_load(&v->v_phase);
	val_free(v);
	char sts[128];
	val_status(sts, sizeof(sts), st);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || phase != 3)
		fail_msg("the broken-lock validation did not complete: child %s after %" PRIu64
		         " violation(s) (phase %d; see the panic message above)", sts, viol, phase);
}

/* The broken lock is refused unless locks.allow_unsafe = yes. */
static void test_broken_needs_allow_unsafe(void **state)
{
	(void)state;
	struct machine_config c;
	machine_config_init(&c);
	assert_int_equal(machine_config_set(&c, "locks.pool", "broken"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "allow_unsafe"));
	assert_non_null(strstr(machine_errmsg(), "locks.pool"));
	/* the order matters: allow first */
	assert_int_equal(machine_config_set(&c, "locks.allow_unsafe", "yes"), 0);
	assert_int_equal(machine_config_set(&c, "locks.pool", "broken"), 0);
	char buf[64];
	assert_int_equal(machine_config_get(&c, "locks.pool", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "broken");
	/* withdrawn again: the boot refuses it */
	assert_int_equal(machine_config_set(&c, "locks.allow_unsafe", "no"), 0);
	errno = 0;
	struct machine *m = machine_boot(&c);
	if (m != NULL) {
		machine_halt(m);
		fail_msg("booted with locks.pool=broken and locks.allow_unsafe=no");
	}
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(machine_errmsg(), "allow_unsafe"));
	assert_non_null(strstr(machine_errmsg(), "locks.pool"));
	/* the registry check itself */
	char why[512];
	assert_false(lock_algo_check(LC_POOL, "broken", false, why, sizeof(why)));
	assert_non_null(strstr(why, "allow_unsafe"));
	assert_true(lock_algo_check(LC_POOL, "broken", true, why, sizeof(why)));
}

/* ================================================================
 * 3. tryenter, owned, write_held.
 * ================================================================ */

struct try_run {
	struct lt_lock t_lock;
	const char *t_name;
	_Atomic unsigned t_step;
};

static void try_cpu(unsigned cpu, void *arg)
{
	struct try_run *t = arg;
	struct lt_lock *l = &t->t_lock;
	if (cpu == 0) {
		lt_enter(l);
		LT_CHECK(lt_owned(l), "%s: not owned by its holder", t->t_name);
		atomic_store(&t->t_step, 1);
		lt_wait_ge(&t->t_step, 2, "tryenter: cpu1 to reach step 2");
		LT_CHECK(lt_owned(l), "%s: no longer owned", t->t_name);
		lt_exit(l);
		LT_CHECK(!lt_owned(l), "%s: owned after exit", t->t_name);
		atomic_store(&t->t_step, 3);
		lt_wait_ge(&t->t_step, 4, "tryenter: cpu1 to reach step 4");
		LT_CHECK(!lt_owned(l), "%s: cpu0 owns what cpu1 holds", t->t_name);
		LT_CHECK(!lt_tryenter(l), "%s: tryenter succeeded while cpu1 holds it", t->t_name);
		atomic_store(&t->t_step, 5);
	} else if (cpu == 1) {
		lt_wait_ge(&t->t_step, 1, "cpu0 to take the lock");
		LT_CHECK(!lt_owned(l), "%s: owned by a CPU that does not hold it", t->t_name);
		for (int k = 0; k < 100; k++)
			LT_CHECK(!lt_tryenter(l), "%s: tryenter succeeded while cpu0 holds it", t->t_name);
		if (l->l_rw) {
			LT_CHECK(!rw_tryenter(&l->l_rwl, RW_READER), "%s: read tryenter under a writer", t->t_name);
			LT_CHECK(!rw_write_held(&l->l_rwl), "%s: write_held on a CPU that does not hold it",
			    t->t_name);
		}
		atomic_store(&t->t_step, 2);
		lt_wait_ge(&t->t_step, 3, "tryenter: cpu0 to release");
		LT_CHECK(lt_tryenter(l), "%s: tryenter failed on a free lock", t->t_name);
		LT_CHECK(lt_owned(l), "%s: not owned after tryenter", t->t_name);
		atomic_store(&t->t_step, 4);
		lt_wait_ge(&t->t_step, 5, "tryenter: cpu0 to reach step 5");
		lt_exit(l);
		LT_CHECK(!lt_owned(l), "%s: owned after exit", t->t_name);
	}
}

static void test_tryenter_owned(void **state)
{
	(void)state;
	const struct lock_algo_info *li;
	char sum[2048] = "";
	for (unsigned i = 0; (li = lock_algo_at(i)) != NULL; i++) {
		if (li->li_unsafe)
			continue;
		struct lt_sets s;
		lt_sets_for(&s, li, NULL);
		struct machine *m = th_boot(s.p);
		struct try_run *t = mem_zalloc(struct try_run, 1);
		assert_non_null(t);
		t->t_name = li->li_name;
		lt_lock_init(&t->t_lock, li);
		/* the test thread is no CPU and holds nothing */
		bool owned_here = lt_owned(&t->t_lock);
		int e = machine_run(m, 2, try_cpu, t);
		lt_lock_destroy(&t->t_lock);
		free(t);
		machine_halt(m);
		assert_int_equal(e, 0);
		unsigned f = th_failures();
		if (f != 0 || owned_here)
			lt_note(sum, sizeof(sum), "\n  %s: %u failed checks%s", li->li_name, f,
			    owned_here ? ", owned by the test thread before anyone took it" : "");
	}
	if (sum[0] != '\0')
		fail_msg("tryenter/owned:%s", sum);
}

/* rw_write_held() is for writers: a reader (or nobody) does not hold for write. */
struct wh_run {
	krwlock_t w_rw;
	const char *w_name;
	bool w_shared; /* a reader-writer algorithm */
	_Atomic unsigned w_step;
};

static void wh_cpu(unsigned cpu, void *arg)
{
	struct wh_run *w = arg;
	if (cpu == 0) {
		rw_enter(&w->w_rw, RW_READER);
		LT_CHECK(!rw_write_held(&w->w_rw), "%s: rw_write_held true for a reader", w->w_name);
		atomic_store(&w->w_step, 1);
		lt_wait_ge(&w->w_step, 2, "write_held: cpu1 to try");
		rw_exit(&w->w_rw);
		LT_CHECK(!rw_write_held(&w->w_rw), "%s: write_held after rw_exit", w->w_name);
		rw_enter(&w->w_rw, RW_WRITER);
		LT_CHECK(rw_write_held(&w->w_rw), "%s: rw_write_held false for the writer", w->w_name);
		rw_exit(&w->w_rw);
		LT_CHECK(!rw_write_held(&w->w_rw), "%s: write_held after the writer left", w->w_name);
	} else {
		lt_wait_ge(&w->w_step, 1, "write_held: cpu0 to hold it shared");
		LT_CHECK(!rw_tryenter(&w->w_rw, RW_WRITER), "%s: write tryenter succeeded under a reader",
		    w->w_name);
		bool got = rw_tryenter(&w->w_rw, RW_READER);
		if (w->w_shared)
			LT_CHECK(got, "%s: a second reader was refused", w->w_name);
		if (got) {
			LT_CHECK(!rw_write_held(&w->w_rw), "%s: write_held true for a second reader", w->w_name);
			rw_exit(&w->w_rw);
		}
		atomic_store(&w->w_step, 2);
	}
}

static void test_rw_write_held(void **state)
{
	(void)state;
	const struct lock_algo_info *li;
	char sum[2048] = "";
	for (unsigned i = 0; (li = lock_algo_at(i)) != NULL; i++) {
		if (li->li_unsafe)
			continue;
		struct lt_sets s;
		memset(&s, 0, sizeof(s));
		lt_set(&s, "locks.kernel_map=%s", li->li_name);
		struct machine *m = th_boot(s.p);
		struct wh_run *w = mem_zalloc(struct wh_run, 1);
		assert_non_null(w);
		w->w_name = li->li_name;
		w->w_shared = li->li_rw;
		rw_init(&w->w_rw, LC_KERNEL_MAP);
		int e = machine_run(m, 2, wh_cpu, w);
		rw_destroy(&w->w_rw);
		free(w);
		machine_halt(m);
		assert_int_equal(e, 0);
		unsigned f = th_failures();
		if (f != 0)
			lt_note(sum, sizeof(sum), "\n  kernel_map=%s: %u failed checks", li->li_name, f);
	}
	if (sum[0] != '\0')
		fail_msg("rw_write_held:%s", sum);
}

/* ================================================================
 * 4. lockstat.
 * ================================================================ */

struct ls_run {
	struct lt_lock s_lock;
	const char *s_name;
	unsigned s_n;          /* acquisitions per CPU (uncontended runs) */
	_Atomic unsigned s_step;
};

/* CPU 0 holds; CPU 1 comes to wait; CPU 0 sees it waiting, then releases. */
static void ls_contend_cpu(unsigned cpu, void *arg)
{
	struct ls_run *r = arg;
	struct lt_lock *l = &r->s_lock;
	if (cpu == 0) {
		lt_enter(l);
		atomic_store(&r->s_step, 1);
		lt_wait_ge(&r->s_step, 2, "lockstat: cpu1 to come");
		/* CPU 1 provably waits once the lock layer counted it (lockstat
		 * is on: mtx_waiters is bumped on the slow path before the wait) */
		atomic_store_explicit(&lt_waiting_for, "cpu1 to show as a waiter (mtx_waiters)", memory_order_relaxed);
		unsigned iter = 0;
		while (lt_waiters(l) == 0)
			cpu_spin_wait(&iter);
		lt_spin_us(200); /* a wait long enough to measure */
		lt_exit(l);
	} else if (cpu == 1) {
		lt_wait_ge(&r->s_step, 1, "cpu0 to take the lock");
		atomic_store(&r->s_step, 2);
		lt_enter(l);
		lt_exit(l);
	}
}

/* The watchdog's view of a wait (sync_set_wait_slot): CPU 1 comes to wait
 * for the lock CPU 0 holds, with a slot of its own that already names
 * another lock (as when the wait is inside an interrupt taken during an
 * outer wait).  CPU 0 sees the slot name its lock and itself as the holder,
 * then releases; once CPU 1 owns, the slot names the outer lock again. */
struct ws_run {
	struct lt_lock w_lock;
	kmutex_t w_outer;
	_Atomic(const kmutex_t *) w_slot;
	_Atomic unsigned w_step;
	_Atomic uint32_t w_holder_id, w_seen_holder; /* CPU 0's lock id; the holder lock_holder() said */
	_Atomic(const kmutex_t *) w_after;           /* the slot once CPU 1 owned */
};

static void ws_cpu(unsigned cpu, void *arg)
{
	struct ws_run *r = arg;
	kmutex_t *m = lt_mutex(&r->w_lock);
	if (cpu == 0) {
		lt_enter(&r->w_lock);
		atomic_store(&r->w_holder_id, lock_thread_id());
		atomic_store(&r->w_step, 1);
		atomic_store_explicit(&lt_waiting_for, "cpu1's wait slot to name the lock", memory_order_relaxed);
		unsigned iter = 0;
		while (atomic_load(&r->w_slot) != m)
			cpu_spin_wait(&iter);
		atomic_store(&r->w_seen_holder, lock_holder(m));
		lt_exit(&r->w_lock);
	} else if (cpu == 1) {
		lt_wait_ge(&r->w_step, 1, "cpu0 to take the lock");
		atomic_store(&r->w_slot, &r->w_outer);
		sync_set_wait_slot(&r->w_slot);
		lt_enter(&r->w_lock);
		atomic_store(&r->w_after, atomic_load(&r->w_slot));
		lt_exit(&r->w_lock);
		sync_set_wait_slot(NULL);
	}
}

static void test_wait_slot_names_the_lock(void **state)
{
	(void)state;
	const struct lock_algo_info *li;
	for (unsigned i = 0; (li = lock_algo_at(i)) != NULL; i++) {
		if (li->li_unsafe)
			continue;
		struct lt_sets s;
		lt_sets_for(&s, li, NULL);
		struct machine *m = th_boot(s.p);
		struct ws_run *r = mem_zalloc(struct ws_run, 1);
		assert_non_null(r);
		lt_lock_init(&r->w_lock, li);
		mutex_init(&r->w_outer, LC_POOL);
		int e = machine_run(m, 2, ws_cpu, r);
		print_message("  %-17s holder id %u, seen %u\n", li->li_name, (unsigned)atomic_load(&r->w_holder_id),
		    (unsigned)atomic_load(&r->w_seen_holder));
		assert_int_equal(e, 0);
		assert_int_not_equal(atomic_load(&r->w_holder_id), 0);
		assert_int_equal(atomic_load(&r->w_seen_holder), atomic_load(&r->w_holder_id));
		assert_ptr_equal(atomic_load(&r->w_after), &r->w_outer);
		assert_int_equal(lock_holder(lt_mutex(&r->w_lock)), 0);
		mutex_destroy(&r->w_outer);
		lt_lock_destroy(&r->w_lock);
		free(r);
		machine_halt(m);
		assert_int_equal(th_failures(), 0);
	}
}

static void lt_row(struct lockstat_row *row, lock_class_t c)
{
	struct lockstat_row rows[LC_NCLASS];
	lockstat_read(rows, -1);
	*row = rows[c];
}

static void test_lockstat_contended(void **state)
{
	(void)state;
	const struct lock_algo_info *li;
	char sum[4096] = "";
	for (unsigned i = 0; (li = lock_algo_at(i)) != NULL; i++) {
		if (li->li_unsafe)
			continue;
		struct lt_sets s;
		lt_sets_for(&s, li, NULL);
		lt_set(&s, "locks.hold_sample=1"); /* every hold timed: the contended one too */
		struct machine *m = th_boot(s.p);
		struct ls_run *r = mem_zalloc(struct ls_run, 1);
		assert_non_null(r);
		r->s_name = li->li_name;
		lt_lock_init(&r->s_lock, li);
		stats_reset();
		int e = machine_run(m, 2, ls_contend_cpu, r);
		struct lockstat_row row;
		lt_row(&row, lt_class(li));
		lt_lock_destroy(&r->s_lock);
		free(r);
		machine_halt(m);
		assert_int_equal(e, 0);
		unsigned f = th_failures();
		print_message("  %-17s acq %" PRIu64 " cont %" PRIu64 " bounces %" PRIu64 " wait total %" PRIu64
		              " ns max queue %" PRIu64 " hold samples %" PRIu64 "\n",
		    li->li_name, row.lr_acquisitions, row.lr_contentions, row.lr_bounces, row.lr_wait_total_ns,
		    row.lr_max_queue, row.lr_hold_samples);
		if (f != 0)
			lt_note(sum, sizeof(sum), "\n  %s: %u failed checks on the CPUs", li->li_name, f);
		if (strcmp(row.lr_algo, li->li_name) != 0)
			lt_note(sum, sizeof(sum), "\n  %s: row says algorithm %s", li->li_name, row.lr_algo);
		if (row.lr_contentions < 1 || row.lr_wait_total_ns == 0 || row.lr_acquisitions < 2 ||
		    row.lr_max_queue < 1 || row.lr_bounces < 1 || row.lr_hold_samples < 1 ||
		    row.lr_wait_max_ns < row.lr_wait_min_ns)
			lt_note(sum, sizeof(sum), "\n  %s: contentions %" PRIu64 " wait %" PRIu64 " acquisitions %" PRIu64
			    " max queue %" PRIu64 " bounces %" PRIu64 " hold samples %" PRIu64, li->li_name,
			    row.lr_contentions, row.lr_wait_total_ns, row.lr_acquisitions, row.lr_max_queue,
			    row.lr_bounces, row.lr_hold_samples);
	}
	if (sum[0] != '\0')
		fail_msg("lockstat, contended:%s", sum);
}

/* One CPU, s_n acquisitions, no one else. */
static void ls_single_cpu(unsigned cpu, void *arg)
{
	struct ls_run *r = arg;
	(void)cpu;
	for (unsigned i = 0; i < r->s_n; i++) {
		lt_enter(&r->s_lock);
		lt_exit(&r->s_lock);
	}
}

/* One CPU, s_n shared acquisitions (kernel_map). */
static void ls_single_read_cpu(unsigned cpu, void *arg)
{
	struct ls_run *r = arg;
	(void)cpu;
	for (unsigned i = 0; i < r->s_n; i++) {
		rw_enter(&r->s_lock.l_rwl, RW_READER);
		LT_CHECK(!rw_write_held(&r->s_lock.l_rwl), "%s: a reader holds for write", r->s_name);
		rw_exit(&r->s_lock.l_rwl);
	}
}

/* CPU 0 takes and releases (s_n times), then CPU 1 (s_n times). */
static void ls_handoff_cpu(unsigned cpu, void *arg)
{
	struct ls_run *r = arg;
	if (cpu == 1)
		lt_wait_ge(&r->s_step, 1, "lockstat: cpu0 to finish");
	for (unsigned i = 0; i < r->s_n; i++) {
		lt_enter(&r->s_lock);
		lt_exit(&r->s_lock);
	}
	if (cpu == 0)
		atomic_store(&r->s_step, 1);
}

/* boots, runs fn on ncpu CPUs after stats_reset(), returns the class's row */
static void ls_run1(const struct lock_algo_info *li, const char *extra, unsigned ncpu, machine_cpu_fn fn,
    unsigned n, bool runtime_off, struct lockstat_row *row)
{
	struct lt_sets s;
	lt_sets_for(&s, li, NULL);
	if (extra != NULL)
		lt_set(&s, "%s", extra);
	struct machine *m = th_boot(s.p);
	struct ls_run *r = mem_zalloc(struct ls_run, 1);
	assert_non_null(r);
	r->s_name = li->li_name;
	r->s_n = n;
	lt_lock_init(&r->s_lock, li);
	if (runtime_off)
		lockstat_enable(false);
	stats_reset();
	int e = machine_run(m, ncpu, fn, r);
	lt_row(row, lt_class(li));
	lockstat_enable(true);
	lt_lock_destroy(&r->s_lock);
	free(r);
	machine_halt(m);
	assert_int_equal(e, 0);
	assert_int_equal(th_failures(), 0);
}

static void test_lockstat_uncontended(void **state)
{
	(void)state;
	const struct lock_algo_info *li;
	char sum[4096] = "";
	const unsigned n = 1000;
	for (unsigned i = 0; (li = lock_algo_at(i)) != NULL; i++) {
		if (li->li_unsafe)
			continue;
		struct lockstat_row row;
		/* one CPU, n times: n acquisitions, nothing contended, no bounce;
		 * hold time is sampled, one hold in locks.hold_sample (64): about
		 * 16 of the n (the draws are the CPU's own, so always the same
		 * number; the bounds leave room for another generator) */
		ls_run1(li, NULL, 1, ls_single_cpu, n, false, &row);
		if (row.lr_acquisitions != n || row.lr_contentions != 0 || row.lr_wait_total_ns != 0 ||
		    row.lr_bounces != 0 || row.lr_max_queue != 0 || row.lr_hold_samples < 4 || row.lr_hold_samples > 48)
			lt_note(sum, sizeof(sum), "\n  %s single CPU x%u: acquisitions %" PRIu64 " contentions %" PRIu64
			    " wait %" PRIu64 " bounces %" PRIu64 " max queue %" PRIu64 " hold samples %" PRIu64,
			    li->li_name, n, row.lr_acquisitions, row.lr_contentions, row.lr_wait_total_ns,
			    row.lr_bounces, row.lr_max_queue, row.lr_hold_samples);
		/* locks.hold_sample = 1 times every hold */
		ls_run1(li, "locks.hold_sample=1", 1, ls_single_cpu, 16, false, &row);
		if (row.lr_acquisitions != 16 || row.lr_hold_samples != 16)
			lt_note(sum, sizeof(sum), "\n  %s x16, hold_sample 1: acquisitions %" PRIu64 " hold samples %" PRIu64,
			    li->li_name, row.lr_acquisitions, row.lr_hold_samples);
		/* same CPU twice: no bounce */
		ls_run1(li, NULL, 1, ls_single_cpu, 2, false, &row);
		if (row.lr_acquisitions != 2 || row.lr_bounces != 0)
			lt_note(sum, sizeof(sum), "\n  %s same CPU twice: acquisitions %" PRIu64 " bounces %" PRIu64,
			    li->li_name, row.lr_acquisitions, row.lr_bounces);
		/* CPU 0 then CPU 1: one bounce */
		ls_run1(li, NULL, 2, ls_handoff_cpu, 1, false, &row);
		if (row.lr_acquisitions != 2 || row.lr_bounces != 1 || row.lr_contentions != 0)
			lt_note(sum, sizeof(sum), "\n  %s cpu0 then cpu1: acquisitions %" PRIu64 " bounces %" PRIu64
			    " contentions %" PRIu64, li->li_name, row.lr_acquisitions, row.lr_bounces,
			    row.lr_contentions);
		ls_run1(li, NULL, 2, ls_handoff_cpu, 50, false, &row);
		if (row.lr_acquisitions != 100 || row.lr_bounces != 1)
			lt_note(sum, sizeof(sum), "\n  %s cpu0 x50 then cpu1 x50: acquisitions %" PRIu64
			    " bounces %" PRIu64, li->li_name, row.lr_acquisitions, row.lr_bounces);
		/* shared acquisitions are counted too */
		if (li->li_rw) {
			ls_run1(li, NULL, 1, ls_single_read_cpu, n, false, &row);
			if (row.lr_acquisitions != n || row.lr_contentions != 0 || row.lr_wait_total_ns != 0)
				lt_note(sum, sizeof(sum), "\n  %s readers x%u: acquisitions %" PRIu64 " contentions %" PRIu64
				    " wait %" PRIu64, li->li_name, n, row.lr_acquisitions, row.lr_contentions,
				    row.lr_wait_total_ns);
		}
		/* lockstat off by config, and at run time */
		ls_run1(li, "locks.lockstat=off", 1, ls_single_cpu, n, false, &row);
		if (row.lr_acquisitions != 0 || row.lr_hold_samples != 0)
			lt_note(sum, sizeof(sum), "\n  %s locks.lockstat=off: acquisitions %" PRIu64 " hold samples %" PRIu64,
			    li->li_name, row.lr_acquisitions, row.lr_hold_samples);
		ls_run1(li, NULL, 1, ls_single_cpu, n, true, &row);
		if (row.lr_acquisitions != 0 || row.lr_hold_samples != 0)
			lt_note(sum, sizeof(sum), "\n  %s lockstat_enable(false): acquisitions %" PRIu64
			    " hold samples %" PRIu64, li->li_name, row.lr_acquisitions, row.lr_hold_samples);

	}
	if (sum[0] != '\0')
		fail_msg("lockstat, uncontended:%s", sum);
}

/*
 * Hold sampling does not alias with a fixed order of acquisitions: one CPU
 * takes a pool lock and a pagefree lock in turn, n times each.  Every
 * 16th acquisition (the old rule) always fell on the same one of the two
 * — the munmap cycle's pv locks went untimed that way — while random draws
 * at one in 64 time about n / 64 holds of each.  Deterministic: the draws
 * are the thread's own sequence.
 */
struct alias_run {
	kmutex_t a_pool, a_pagefree;
	unsigned a_n;
};

static void alias_cpu(unsigned cpu, void *arg)
{
	struct alias_run *a = arg;
	if (cpu != 0)
		return;
	for (unsigned i = 0; i < a->a_n; i++) {
		mutex_enter(&a->a_pool);
		mutex_exit(&a->a_pool);
		mutex_enter(&a->a_pagefree);
		mutex_exit(&a->a_pagefree);
	}
}

static void test_lockstat_hold_sampling_does_not_alias(void **state)
{
	(void)state;
	struct machine *m = th_boot((const char *const[]){"machine.cpus=1", NULL});
	struct alias_run *a = mem_zalloc(struct alias_run, 1);
	assert_non_null(a);
	a->a_n = 2000;
	mutex_init(&a->a_pool, LC_POOL);
	mutex_init(&a->a_pagefree, LC_PAGEFREE);
	stats_reset();
	assert_int_equal(machine_run(m, 1, alias_cpu, a), 0);
	struct lockstat_row rows[LC_NCLASS];
	lockstat_read(rows, -1);
	mutex_destroy(&a->a_pool);
	mutex_destroy(&a->a_pagefree);
	free(a);
	machine_halt(m);
	print_message("  pool: %" PRIu64 " acquisitions, %" PRIu64 " holds timed; pagefree: %" PRIu64 ", %" PRIu64 "\n",
	    rows[LC_POOL].lr_acquisitions, rows[LC_POOL].lr_hold_samples, rows[LC_PAGEFREE].lr_acquisitions,
	    rows[LC_PAGEFREE].lr_hold_samples);
	assert_int_equal(rows[LC_POOL].lr_acquisitions, 2000);
	assert_true(rows[LC_PAGEFREE].lr_acquisitions >= 2000); /* the machine's own pages too */
	/* about 31 each; the old rule gave one of them 0 */
	assert_true(rows[LC_POOL].lr_hold_samples >= 8);
	assert_true(rows[LC_PAGEFREE].lr_hold_samples >= 8);
}

static void test_lockstat_switch(void **state)
{
	(void)state;
	struct machine *m = th_boot((const char *const[]){"locks.lockstat=off", NULL});
	assert_false(lockstat_enabled());
	lockstat_enable(true);
	assert_true(lockstat_enabled());
	machine_halt(m);
	/* lockstat is statistics: stats.enabled = off turns it off too (it
	 * would read clocks for figures nothing records) */
	m = th_boot((const char *const[]){"stats.enabled=off", "locks.lockstat=on", NULL});
	assert_false(lockstat_enabled());
	machine_halt(m);
	m = th_boot(NULL);
	assert_true(lockstat_enabled()); /* the default */
	lockstat_enable(false);
	assert_false(lockstat_enabled());
	lockstat_enable(true);
	/* the histograms exist for every class */
	for (int c = 0; c < LC_NCLASS; c++) {
		assert_non_null(lockstat_hist((lock_class_t)c, false));
		assert_non_null(lockstat_hist((lock_class_t)c, true));
		assert_ptr_not_equal(lockstat_hist((lock_class_t)c, false), lockstat_hist((lock_class_t)c, true));
	}
	/* the counters are registered under lock.<class>.* */
	assert_non_null(stats_counter_find("lock.pool.acquisitions"));
	assert_non_null(stats_counter_find("lock.kernel_map.contentions"));
	assert_non_null(stats_counter_find("lock.pmap.bounces"));
	machine_halt(m);
}

/* ================================================================
 * 5. Reader-writer algorithms: readers share.
 * ================================================================ */

/*
 * CPU 0 holds the lock shared; while it holds, CPU 1 asks for it shared,
 * first with rw_tryenter() (which cannot wait, so an exclusive lock gives a
 * clean "refused" instead of a hang), then, if that was admitted, with
 * rw_enter().  Both must get in beside CPU 0: no timing decides it.
 */
struct rd_run {
	krwlock_t r_rw;
	_Atomic unsigned r_step;
	_Atomic bool r_try_ok, r_enter_ok;
};

static void rd_cpu(unsigned cpu, void *arg)
{
	struct rd_run *r = arg;
	unsigned iter = 0;
	if (cpu == 0) {
		rw_enter(&r->r_rw, RW_READER);
		atomic_store(&r->r_step, 1);
		while (atomic_load(&r->r_step) < 2)
			cpu_spin_wait(&iter);
		rw_exit(&r->r_rw);
		return;
	}
	while (atomic_load(&r->r_step) < 1)
		cpu_spin_wait(&iter);
	bool got = rw_tryenter(&r->r_rw, RW_READER);
	atomic_store(&r->r_try_ok, got);
	if (got) {
		rw_exit(&r->r_rw);
		rw_enter(&r->r_rw, RW_READER); /* returns: CPU 0 holds it shared only */
		atomic_store(&r->r_enter_ok, true);
		rw_exit(&r->r_rw);
	}
	atomic_store(&r->r_step, 2);
}

static void test_rw_readers_share(void **state)
{
	(void)state;
	const struct lock_algo_info *li;
	char sum[1024] = "";
	unsigned nrw = 0;
	for (unsigned i = 0; (li = lock_algo_at(i)) != NULL; i++) {
		if (!li->li_rw || li->li_unsafe)
			continue;
		nrw++;
		struct lt_sets s;
		lt_sets_for(&s, li, NULL);
		struct machine *m = th_boot(s.p);
		struct rd_run *r = mem_zalloc(struct rd_run, 1);
		assert_non_null(r);
		rw_init(&r->r_rw, LC_KERNEL_MAP);
		int e = machine_run(m, 2, rd_cpu, r);
		bool t = atomic_load(&r->r_try_ok), n = atomic_load(&r->r_enter_ok);
		rw_destroy(&r->r_rw);
		free(r);
		machine_halt(m);
		assert_int_equal(e, 0);
		assert_int_equal(th_failures(), 0);
		if (!t || !n)
			lt_note(sum, sizeof(sum), "\n  %s: a second reader beside a holding reader: rw_tryenter %s, rw_enter %s",
			    li->li_name, t ? "admitted" : "refused", n ? "admitted" : t ? "refused" : "not tried");
	}
	assert_true(nrw >= 2); /* ck-rw and pthread-rw */
	if (sum[0] != '\0')
		fail_msg("readers:%s", sum);
}

/*
 * ck-rw is documented as writer-biased (lock.h's zoo, lock_rw.c: "a writer
 * announces itself, then waits for the readers to drain; readers back off
 * while a writer is present").  So while a writer waits behind a reader, a
 * new reader must not get in.
 *
 * The state is built, not raced for.  CPU 0 holds the lock shared; CPU 1
 * asks for it exclusively.  The lock layer waits only through its wait
 * function, and ck-rw's writer calls it only after it announced itself
 * (ckrw_wait: the fas on `writer`, then the wait for the readers to drain),
 * so the test installs its own wait function (sync_set_wait), which notes
 * the first call made by CPU 1 with the writer flag up: from then on the
 * writer is provably announced and waiting, and it stays so, since CPU 0
 * keeps its hold until CPU 2 is done.  Only then does CPU 2 make its read
 * tryenters; every one must be refused.  The controls show that the count
 * can be non-zero: the same tryenter is admitted beside CPU 0 before the
 * writer comes, and again after it left.
 */
struct wb_run {
	krwlock_t w_rw;
	_Atomic unsigned w_step;
	_Atomic bool w_writer_waiting; /* CPU 1 called the wait function, announced */
	_Atomic bool w_writer_done;
	_Atomic unsigned w_read_ok;    /* read tryenters admitted while the writer waited */
	_Atomic bool w_before, w_after; /* the controls */
};

#define WB_TRIES 2000u

static struct wb_run *wb_cur;

/* The lock layer's wait function for this test (sync_set_wait): the
 * machine's own wait, after noting that the writer waits. */
static void wb_wait(unsigned *iter)
{
	struct wb_run *w = wb_cur;
	/* The flag is CPU 1's own: set by its fas in ckrw_wait, which is
	 * sequenced before this call.  The seq_cst store below pairs with CPU
	 * 2's seq_cst load: whatever CPU 2 does after seeing it comes after
	 * the announcement (the fas is a locked instruction, a full barrier). */
	if (cpu_attached() && cpu_number() == 1 && ck_pr_load_uint(&w->w_rw.rw_lock.mtx_u.ls_ckrw.writer) != 0)
		atomic_store(&w->w_writer_waiting, true);
	cpu_spin_wait(iter);
}

/* Waits (taking IPIs) for *p; the test's watchdog ends a run that hangs. */
static void wb_wait_flag(_Atomic bool *p)
{
	unsigned iter = 0;
	while (!atomic_load(p))
		cpu_spin_wait(&iter);
}

static void wb_wait_step(struct wb_run *w, unsigned v)
{
	unsigned iter = 0;
	while (atomic_load(&w->w_step) < v)
		cpu_spin_wait(&iter);
}

static void wb_cpu(unsigned cpu, void *arg)
{
	struct wb_run *w = arg;
	if (cpu == 0) { /* the first reader: holds until CPU 2 is done */
		rw_enter(&w->w_rw, RW_READER);
		atomic_store(&w->w_step, 1);
		wb_wait_step(w, 3);
		rw_exit(&w->w_rw);
	} else if (cpu == 1) { /* the writer, once the control read is done */
		wb_wait_step(w, 2);
		rw_enter(&w->w_rw, RW_WRITER);
		rw_exit(&w->w_rw);
		atomic_store(&w->w_writer_done, true);
	} else if (cpu == 2) {
		wb_wait_step(w, 1);
		/* control: beside CPU 0, with no writer, a reader is admitted */
		bool got = rw_tryenter(&w->w_rw, RW_READER);
		if (got)
			rw_exit(&w->w_rw);
		atomic_store(&w->w_before, got);
		atomic_store(&w->w_step, 2);
		/* the writer is announced and waits behind CPU 0 */
		wb_wait_flag(&w->w_writer_waiting);
		for (unsigned k = 0; k < WB_TRIES; k++) {
			if (rw_tryenter(&w->w_rw, RW_READER)) {
				atomic_fetch_add(&w->w_read_ok, 1);
				rw_exit(&w->w_rw);
			}
		}
		atomic_store(&w->w_step, 3);
		/* control: once the writer left, a reader is admitted again */
		wb_wait_flag(&w->w_writer_done);
		got = rw_tryenter(&w->w_rw, RW_READER);
		if (got)
			rw_exit(&w->w_rw);
		atomic_store(&w->w_after, got);
	}
}

static void test_ckrw_writer_bias(void **state)
{
	(void)state;
	struct machine *m = th_boot((const char *const[]){"locks.kernel_map=ck-rw", NULL});
	struct wb_run *w = mem_zalloc(struct wb_run, 1);
	assert_non_null(w);
	rw_init(&w->w_rw, LC_KERNEL_MAP);
	wb_cur = w;
	sync_set_wait(wb_wait, NULL); /* until machine_halt() puts the default back */
	int e = machine_run(m, 3, wb_cpu, w);
	unsigned ok = atomic_load(&w->w_read_ok);
	bool before = atomic_load(&w->w_before), after = atomic_load(&w->w_after);
	rw_destroy(&w->w_rw);
	free(w);
	machine_halt(m);
	wb_cur = NULL;
	assert_int_equal(e, 0);
	assert_int_equal(th_failures(), 0);
	print_message("  ck-rw: %u of %u read tryenters admitted while a writer waited; beside a reader alone %s, "
	              "after the writer %s\n", ok, WB_TRIES, before ? "admitted" : "refused", after ? "admitted" : "refused");
	assert_true(before);
	assert_true(after);
	if (ok != 0)
		fail_msg("ck-rw is documented writer-biased, but %u of %u new readers got in while a writer "
		         "was announced and waiting behind a reader", ok, WB_TRIES);
}

/* ================================================================
 * 6. Config errors.
 * ================================================================ */

static void test_config_errors(void **state)
{
	(void)state;
	struct machine_config c;
	machine_config_init(&c);
	char buf[64];

	/* defaults */
	assert_int_equal(machine_config_get(&c, "locks.pool", buf, sizeof(buf)), 0);
	assert_string_equal(buf, lock_class_default(LC_POOL));
	assert_int_equal(machine_config_get(&c, "locks.kernel_map", buf, sizeof(buf)), 0);
	assert_string_equal(buf, lock_class_default(LC_KERNEL_MAP));
	assert_int_equal(machine_config_get(&c, "locks.wait", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "spin-yield");
	assert_int_equal(machine_config_get(&c, "locks.lockstat", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "on");

	/* an unknown algorithm: the key and the valid names */
	assert_int_equal(machine_config_set(&c, "locks.pmap", "no-such-lock"), EINVAL);
	const char *msg = machine_errmsg();
	assert_non_null(strstr(msg, "locks.pmap"));
	assert_non_null(strstr(msg, "no-such-lock"));
	assert_non_null(strstr(msg, "mcs"));
	const struct lock_algo_info *li;
	for (unsigned i = 0; (li = lock_algo_at(i)) != NULL; i++) {
		bool listed = strstr(msg, li->li_name) != NULL;
		/* "pthread" is a prefix of others: look for it delimited */
		char delim[LOCK_ALGO_NAMELEN + 4];
		snprintf(delim, sizeof(delim), " %s,", li->li_name);
		bool exact = strstr(msg, delim) != NULL;
		size_t n = strlen(li->li_name), ml = strlen(msg);
		if (ml >= n + 1 && strcmp(msg + ml - n, li->li_name) == 0 && msg[ml - n - 1] == ' ')
			exact = true;
		if (!li->li_unsafe && !li->li_rw && !exact)
			fail_msg("the message does not list '%s': %s", li->li_name, msg);
		if ((li->li_unsafe || li->li_rw) && listed && exact)
			fail_msg("the message lists '%s', not valid for pmap: %s", li->li_name, msg);
	}
	assert_int_equal(machine_config_get(&c, "locks.pmap", buf, sizeof(buf)), 0);
	assert_string_equal(buf, lock_class_default(LC_PMAP)); /* unchanged */

	/* a reader-writer algorithm for an exclusive class */
	assert_int_equal(machine_config_set(&c, "locks.pv", "ck-rw"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "locks.pv"));
	assert_non_null(strstr(machine_errmsg(), "reader-writer"));
	assert_int_equal(machine_config_set(&c, "locks.pmap", "pthread-rw"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "reader-writer"));

	/* kernel_map takes both kinds */
	assert_int_equal(machine_config_set(&c, "locks.kernel_map", "pthread-rw"), 0);
	assert_int_equal(machine_config_set(&c, "locks.kernel_map", "mcs"), 0);
	assert_int_equal(machine_config_get(&c, "locks.kernel_map", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "mcs");

	/* wait policy and switches */
	assert_int_equal(machine_config_set(&c, "locks.wait", "bogus"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "locks.wait"));
	assert_non_null(strstr(machine_errmsg(), "spin-yield"));
	assert_int_equal(machine_config_set(&c, "locks.wait", "spin"), 0);
	{
		char v[32];
		assert_int_equal(machine_config_get(&c, "locks.wait", v, sizeof(v)), 0);
		assert_string_equal(v, "spin");
	}
	assert_int_equal(machine_config_set(&c, "locks.lockstat", "maybe"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "locks.lockstat"));
	assert_int_equal(machine_config_set(&c, "locks.allow_unsafe", "perhaps"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "locks.allow_unsafe"));

	/* unknown class key */
	assert_int_equal(machine_config_set(&c, "locks.nosuch", "tas"), ENOENT);
	assert_non_null(strstr(machine_errmsg(), "locks.nosuch"));
	assert_int_equal(machine_config_get(&c, "locks.nosuch", buf, sizeof(buf)), ENOENT);

	/* an overlong name */
	assert_int_equal(machine_config_set(&c, "locks.pool", "a-very-long-algorithm-name-beyond-the-limit"), EINVAL);
	assert_non_null(strstr(machine_errmsg(), "locks.pool"));

	/* every locks.<class> key is listed */
	const char *const *keys = machine_config_keys();
	for (int cls = 0; cls < LC_NCLASS; cls++) {
		char key[64];
		snprintf(key, sizeof(key), "locks.%s", lock_class_name((lock_class_t)cls));
		bool found = false;
		for (unsigned k = 0; keys[k] != NULL; k++)
			found = found || strcmp(keys[k], key) == 0;
		if (!found)
			fail_msg("machine_config_keys() lacks %s", key);
	}
}

/* ================================================================
 * 7. The registry.
 * ================================================================ */

static void test_registry(void **state)
{
	(void)state;
	const struct lock_algo_info *li;
	unsigned n = 0, nrw = 0;
	for (unsigned i = 0; (li = lock_algo_at(i)) != NULL; i++, n++) {
		assert_non_null(li->li_name);
		assert_true(li->li_name[0] != '\0');
		assert_true(strlen(li->li_name) < LOCK_ALGO_NAMELEN);
		if (li->li_desc == NULL || li->li_desc[0] == '\0' || strchr(li->li_desc, '\n') != NULL)
			fail_msg("%s: the description is not one non-empty line", li->li_name);
		if (li->li_origin == NULL || li->li_origin[0] == '\0' || strchr(li->li_origin, '\n') != NULL)
			fail_msg("%s: the origin is not one non-empty line", li->li_name);
		for (unsigned j = 0; j < i; j++)
			if (strcmp(lock_algo_at(j)->li_name, li->li_name) == 0)
				fail_msg("%s is registered twice", li->li_name);
		/* exactly the deliberately broken ones are unsafe */
		bool broken = strcmp(li->li_name, "broken") == 0;
		if (li->li_unsafe != broken)
			fail_msg("%s: li_unsafe = %d", li->li_name, li->li_unsafe);
		char why[512];
		bool ok_safe = lock_algo_check(lt_class(li), li->li_name, false, why, sizeof(why));
		bool ok_unsafe = lock_algo_check(lt_class(li), li->li_name, true, why, sizeof(why));
		assert_true(ok_unsafe);
		if (ok_safe == li->li_unsafe)
			fail_msg("%s: lock_algo_check without allow_unsafe gives %d", li->li_name, ok_safe);
		/* an rw algorithm is refused by an exclusive class; kernel_map takes all */
		if (li->li_rw)
			assert_false(lock_algo_check(LC_PMAP, li->li_name, true, why, sizeof(why)));
		assert_true(lock_algo_check(LC_KERNEL_MAP, li->li_name, true, why, sizeof(why)));
		if (li->li_rw)
			nrw++;
		/* blocking ones are the pthread family */
		if (li->li_blocking != (strncmp(li->li_name, "pthread", 7) == 0))
			fail_msg("%s: li_blocking = %d", li->li_name, li->li_blocking);
	}
	assert_true(n >= 8);
	assert_int_equal(nrw, 2);
	assert_null(lock_algo_at(n));
	assert_null(lock_algo_at(n + 7));
	assert_null(lock_algo_at(~0u));
	/* every class: a name that round-trips, a safe default it accepts */
	for (int c = 0; c < LC_NCLASS; c++) {
		const char *name = lock_class_name((lock_class_t)c);
		assert_int_equal(lock_class_find(name), c);
		const char *d = lock_class_default((lock_class_t)c);
		const struct lock_algo_info *dl = lt_algo(d);
		assert_non_null(dl);
		assert_false(dl->li_unsafe);
		char why[512];
		assert_true(lock_algo_check((lock_class_t)c, d, false, why, sizeof(why)));
		assert_int_equal(lock_class_is_rw((lock_class_t)c), c == LC_KERNEL_MAP);
	}
	assert_int_equal(lock_class_find("nosuch"), -1);
	assert_string_equal(lock_class_name(LC_NCLASS), "?");
	/* lockstat rows name every class and its algorithm */
	struct machine *m = th_boot((const char *const[]){"locks.pmap=mcs", "locks.kernel_map=pthread-rw", NULL});
	struct lockstat_row rows[LC_NCLASS];
	lockstat_read(rows, -1);
	for (int c = 0; c < LC_NCLASS; c++)
		assert_string_equal(rows[c].lr_class, lock_class_name((lock_class_t)c));
	assert_string_equal(rows[LC_PMAP].lr_algo, "mcs");
	assert_string_equal(rows[LC_KERNEL_MAP].lr_algo, "pthread-rw");
	assert_string_equal(rows[LC_POOL].lr_algo, lock_class_default(LC_POOL));
	machine_halt(m);
}

#define LT_TEST(f) cmocka_unit_test_setup_teardown(f, lt_setup, lt_teardown)

int main(void)
{
	signal(SIGALRM, lt_watchdog);
	const char *scale = getenv("LT_SCALE"), *filter = getenv("LT_FILTER");
	if (scale != NULL && atoi(scale) > 0)
		lt_scale = (uint64_t)atoi(scale);
	if (filter != NULL && *filter != '\0')
		cmocka_set_test_filter(filter); /* e.g. LT_FILTER='test_validate*' */
	lt_only = getenv("LT_ALGO");
	const struct CMUnitTest tests[] = {
		/* the forking tests first, while this process has one thread */
		LT_TEST(test_validate_broken_runs_to_completion),
		LT_TEST(test_validate_spin_yield),
		LT_TEST(test_validate_spin),
		LT_TEST(test_validate_rw_mix),
		LT_TEST(test_validate_try_mix),
		LT_TEST(test_validate_queue_locks_soak),
		LT_TEST(test_validate_catches_broken), /* in this process: after the forks */
		LT_TEST(test_broken_needs_allow_unsafe),
		LT_TEST(test_tryenter_owned),
		LT_TEST(test_rw_write_held),
		LT_TEST(test_lockstat_contended),
		LT_TEST(test_wait_slot_names_the_lock),
		LT_TEST(test_lockstat_uncontended),
		LT_TEST(test_lockstat_hold_sampling_does_not_alias),
		LT_TEST(test_lockstat_switch),
		LT_TEST(test_rw_readers_share),
		LT_TEST(test_ckrw_writer_bias),
		LT_TEST(test_config_errors),
		LT_TEST(test_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
