/* harness.c — see harness.h */
#include "harness.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

struct th_state th;
_Atomic unsigned th_failure_count;
_Atomic unsigned th_printed;

int th_setup_cpu0(void **state)
{
	(void)state;
	th.m = th_boot(th.sets);
	if (cpu_attach(th.m, 0) != 0)
		return -1;
	th.pm = pmap_create();
	th.l = lwp_create(th.pm);
	lwp_switch(th.l);
	return 0;
}

int th_teardown_cpu0(void **state)
{
	(void)state;
	if (th.m == NULL)
		return 0;
	if (!cpu_attached())
		cpu_attach(th.m, 0);
	lwp_switch(NULL);
	pmap_remove_all(th.pm);
	pmap_update(th.pm);
	lwp_destroy(th.l);
	pmap_destroy(th.pm);
	cpu_detach();
	machine_halt(th.m);
	th.m = NULL;
	return 0;
}

struct vm_page *th_map(vaddr_t va, vm_prot_t prot, unsigned flags)
{
	struct vm_page *pg = th_page();
	assert_non_null(pg);
	assert_int_equal(pmap_enter(th.pm, va, VM_PAGE_TO_PHYS(pg), prot, flags), 0);
	pmap_update(th.pm);
	return pg;
}

int th_setup_sets(void **state)
{
	th.sets = (const char *const *)*state;
	return th_setup_cpu0(state);
}

int th_teardown_sets(void **state)
{
	int r = th_teardown_cpu0(state);
	th.sets = NULL;
	return r;
}

uint64_t th_counter(const char *name)
{
	const struct stats_counter *c = stats_counter_find(name);
	if (c == NULL)
		fail_msg("no counter %s", name);
	return stats_counter_total(c);
}

uint64_t th_hist_count(const char *name)
{
	const struct stats_hist *h = stats_hist_find(name);
	if (h == NULL)
		fail_msg("no histogram %s", name);
	struct stats_hist_summary hs;
	stats_hist_summarize(h, -1, &hs);
	return hs.hs_count;
}

void th_run_cpus(unsigned n, machine_cpu_fn fn, void *arg)
{
	cpu_detach();
	assert_int_equal(machine_run(th.m, n, fn, arg), 0);
	assert_int_equal(cpu_attach(th.m, 0), 0);
	assert_int_equal(th_failures(), 0);
}

int th_child_output(pid_t pid, int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;
	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

void th_expect_panic(void (*fn)(void *), void *arg, const char *needle1, const char *needle2)
{
	const char *n2 = needle2 != NULL ? needle2 : needle1;
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 2);
		signal(SIGABRT, SIG_DFL);
		fn(arg);
		_exit(0); /* no panic: the parent fails the test */
	}
	close(p[1]);
	char buf[4096];
	int status = th_child_output(pid, p[0], buf, sizeof(buf));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("expected a panic naming '%s' and '%s'; child status %#x, stderr: %s", needle1, n2, status, buf);
	if (strstr(buf, needle1) == NULL || strstr(buf, n2) == NULL)
		fail_msg("panic message lacks '%s' or '%s': %s", needle1, n2, buf);
}

void th_expect_bad_input(void (*fn)(void *), void *arg, const char *needle1, const char *needle2)
{
#ifdef NDEBUG
	const char *n2 = needle2 != NULL ? needle2 : needle1;
	uint64_t bad0 = th_counter("uvm.bad_input");
	fn(arg);
	assert_int_equal(th_counter("uvm.bad_input"), bad0 + 1);
	if (strstr(machine_errmsg(), needle1) == NULL || strstr(machine_errmsg(), n2) == NULL)
		fail_msg("bad input not reported with '%s' and '%s': %s", needle1, n2, machine_errmsg());
#else
	th_expect_panic(fn, arg, needle1, needle2);
#endif
}

const char *cfg_str(const struct machine_config *c, const char *key)
{
	static char buf[256];
	if (machine_config_get(c, key, buf, sizeof(buf)) != 0)
		snprintf(buf, sizeof(buf), "(unknown key %s)", key);
	return buf;
}

void th_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

char *th_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *text = mem_zalloc(char, 1 << 20);
	assert_non_null(text);
	size_t n = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(n > 0);
	return text;
}

json_t *th_load_json(const char *fmt, ...)
{
	char path[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je);
	if (doc == NULL)
		fail_msg("%s: %s", path, je.text);
	return doc;
}

int th_cmd(int (*cmd)(int, char **), int argc, char **argv, const char *out, const char *err)
{
	fflush(stdout);
	fflush(stderr);
	int so = -1, se = -1, fo = -1, fe = -1;
	if (out != NULL) {
		fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fo >= 0);
		so = dup(1);
		dup2(fo, 1);
	}
	if (err != NULL) {
		/* one file for both: one descriptor, so they do not overwrite each other */
		fe = out != NULL && !strcmp(out, err) ? dup(fo) : open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fe >= 0);
		se = dup(2);
		dup2(fe, 2);
	}
	int rc = cmd(argc, argv);
	fflush(stdout);
	fflush(stderr);
	if (so >= 0) {
		dup2(so, 1);
		close(so);
		close(fo);
	}
	if (se >= 0) {
		dup2(se, 2);
		close(se);
		close(fe);
	}
	return rc;
}
