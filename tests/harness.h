/*
 * harness.h — what the cmocka tests share.
 *
 * cmocka's assertions longjmp and are for the test's own thread only.  On
 * other CPU threads, use TH_CHECK(): it counts and prints a failure, and the
 * test asserts th_failures() == 0 after machine_run() returns.
 *
 * Single-CPU tests: th_setup_cpu0 / th_teardown_cpu0 boot a machine (with
 * the overrides in th_sets), attach the test thread as CPU 0, and give it a
 * user pmap and lwp (th.pm, th.l), so that cmocka asserts work directly.
 */
#ifndef PMAPSTORM_TESTS_HARNESS_H
#define PMAPSTORM_TESTS_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include <pmapstorm/alloc.h>
#include <pmapstorm/machine.h>
#include <pmapstorm/pmap.h>
#include <pmapstorm/stats.h>
#include <pmapstorm/uvm_page.h>

#include <stdatomic.h>

struct th_state {
	struct machine *m;
	pmap_t pm;
	struct lwp *l;
	const char *const *sets; /* "key=value", NULL-terminated; may be NULL */
};
extern struct th_state th;
extern _Atomic unsigned th_failure_count;

#define TH_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			atomic_fetch_add(&th_failure_count, 1);                                    \
			fprintf(stderr, "TH_CHECK failed: %s (%s:%d, cpu%u)\n", #cond, __FILE__, __LINE__, \
			    cpu_attached() ? cpu_number() : 9999);                                     \
		}                                                                                  \
	} while (0)

/* TH_CHECK with a printf-style explanation; prints the first 20 failures. */
extern _Atomic unsigned th_printed;
#define TH_CHECKF(cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			atomic_fetch_add(&th_failure_count, 1);                                    \
			if (atomic_fetch_add(&th_printed, 1) < 20) {                               \
				fprintf(stderr, "check failed: %s (%s:%d, cpu%u): ", #cond, __FILE__,     \
				    __LINE__, cpu_attached() ? cpu_number() : 9999);                   \
				fprintf(stderr, __VA_ARGS__);                                      \
				fputc('\n', stderr);                                               \
			}                                                                          \
		}                                                                                  \
	} while (0)

static inline unsigned th_failures(void)
{
	atomic_store(&th_printed, 0);
	return atomic_exchange(&th_failure_count, 0);
}

static inline void th_set1(struct machine_config *cfg, const char *kv, size_t len)
{
	char key[128], val[128];
	const char *eq = memchr(kv, '=', len);
	assert_non_null(eq);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	snprintf(val, sizeof(val), "%.*s", (int)(len - (size_t)(eq - kv) - 1), eq + 1);
	if (machine_config_set(cfg, key, val) != 0)
		fail_msg("config %s=%s: %s", key, val, machine_errmsg());
}

/*
 * Boots with defaults, then the comma-separated "key=value" list in the
 * environment variable PMAPSTORM_TEST_SET (to run the whole suite under,
 * say, every lock algorithm), then the test's own overrides (a
 * NULL-terminated list).
 */
static inline struct machine *th_boot(const char *const *sets)
{
	struct machine_config cfg;
	machine_config_init(&cfg);
	const char *env = getenv("PMAPSTORM_TEST_SET");
	while (env != NULL && *env != '\0') {
		size_t n = strcspn(env, ",");
		if (n > 0)
			th_set1(&cfg, env, n);
		env += n + (env[n] == ',');
	}
	for (const char *const *kv = sets; kv != NULL && *kv != NULL; kv++)
		th_set1(&cfg, *kv, strlen(*kv));
	struct machine *m = machine_boot(&cfg);
	if (m == NULL)
		fail_msg("machine_boot: %s", machine_errmsg());
	return m;
}

static inline struct vm_page *th_page(void)
{
	struct vm_page *pg = uvm_pagealloc(NULL, 0, NULL, UVM_PGA_ZERO);
	if (pg == NULL)
		fprintf(stderr, "th_page: out of pages\n");
	return pg;
}

/* A spin barrier that keeps taking IPIs: the machine's (cpu_barrier). */
struct th_barrier {
	struct cpu_barrier tb;
};
static inline void th_barrier_init(struct th_barrier *b, unsigned n)
{
	cpu_barrier_init(&b->tb, n);
}
static inline void th_barrier_wait(struct th_barrier *b)
{
	cpu_barrier_wait(&b->tb);
}

/* A child's stderr: reads fd (the pipe's read end) to its end into buf
 * (NUL-terminated), closes it, and reaps pid; returns the wait status. */
int th_child_output(pid_t pid, int fd, char *buf, size_t len);

/* Bad input to the uvm layer: in a build with KASSERTs, fn(arg) must panic
 * (abort) with a message holding each needle (needle2 may be NULL); without
 * KASSERTs it must return, bump uvm.bad_input and say the same in
 * machine_errmsg(). */
void th_expect_bad_input(void (*fn)(void *), void *arg, const char *needle1, const char *needle2);
/* fn(arg), in a child, must panic (abort) in every build, with a message
 * holding each needle (needle2 may be NULL). */
void th_expect_panic(void (*fn)(void *), void *arg, const char *needle1, const char *needle2);

int th_setup_cpu0(void **state);
int th_teardown_cpu0(void **state);
/* The same, with the overrides in *state (a NULL-terminated "key=value" list). */
int th_setup_sets(void **state);
int th_teardown_sets(void **state);
/* The total of a registered counter (fails the test if there is none). */
uint64_t th_counter(const char *name);
/* The samples a registered histogram holds, all CPUs (fails if there is none). */
uint64_t th_hist_count(const char *name);
/* machine_config_get() into a static buffer (the last call's) */
const char *cfg_str(const struct machine_config *, const char *key);
/* Runs fn on CPUs 0..n-1 while the test thread gives up CPU 0; asserts no TH_CHECK failed. */
void th_run_cpus(unsigned n, machine_cpu_fn fn, void *arg);

/* The test thread is CPU 0 with a user pmap: map one fresh page at va. */
struct vm_page *th_map(vaddr_t va, vm_prot_t prot, unsigned flags);

/* Runs a command (cmd_run, cmd_gate, ...) with its stdout sent to out and
 * its stderr to err: a path each, NULL to leave the stream as it is, the
 * same path twice for one file; "/dev/null" to silence.  Its exit code. */
int th_cmd(int (*cmd)(int, char **), int argc, char **argv, const char *out, const char *err);

/* Writes text to path (a config, a run.json to read back), replacing it. */
void th_write_file(const char *path, const char *text);
/* A file's whole text (up to 1 MiB), malloc'd; the test fails without it. */
char *th_read_file(const char *path);
/* The JSON document at the path that fmt and its arguments print (a
 * run.json, a calibration); the test fails, with jansson's message, without
 * it.  The caller json_decref()s it. */
json_t *th_load_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
