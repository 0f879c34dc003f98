/*
 * tlbflush2.c — the host kernel under will-it-scale's tlb_flush2 loop
 * (antonblanchard/will-it-scale, tests/tlb_flush2.c), without its
 * read-back: each task touches its own page (a fault maps it: a TLB entry
 * on its CPU) and madvise(MADV_DONTNEED)s it, over and over.  As threads
 * of one process each madvise must shoot down the other CPUs running that
 * address space; as separate processes it needs no IPI.  It is the model's
 * `munmap` with len 1 on one shared pmap, or on private ones, run by the
 * host kernel: calibrate takes the kernel's shootdown cost from the
 * difference, microbench sets the shared munmap beside it.
 */
#include "trials/tlbflush2.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/samples.h"

#include <pmapstorm/alloc.h>
#include <pmapstorm/topo.h>

struct tf_shared {
	_Atomic int tf_go, tf_stop;
	_Atomic unsigned tf_ready;
	uint64_t tf_ops[TF_MAX_TASKS];
	int tf_bind_err[TF_MAX_TASKS]; /* each task's topo_bind_host_pu(), before tf_ready */
};

struct tf_task {
	struct tf_shared *tf_s;
	unsigned tf_i;
	int tf_pu;
	char *tf_page; /* this task's page */
};

static void tf_loop(struct tf_task *t)
{
	struct tf_shared *s = t->tf_s;
	s->tf_bind_err[t->tf_i] = topo_bind_host_pu(t->tf_pu);
	atomic_fetch_add(&s->tf_ready, 1);
	while (!atomic_load_explicit(&s->tf_go, memory_order_acquire))
		sched_yield();
	uint64_t n = 0;
	do { /* one at least, however late the host runs this task */
		*(volatile char *)t->tf_page = 1; /* fault it in: a TLB entry on this CPU */
		madvise(t->tf_page, (size_t)getpagesize(), MADV_DONTNEED);
		n++;
	} while (!atomic_load_explicit(&s->tf_stop, memory_order_relaxed));
	s->tf_ops[t->tf_i] = n;
}

static void *tf_thread(void *arg)
{
	tf_loop(arg);
	return NULL;
}

int host_tlb_flush2(const int *pus, unsigned k, bool processes, double seconds, double *ns, uint64_t *ops,
    int *bad_pu)
{
	*bad_pu = -1;
	if (k == 0 || k > TF_MAX_TASKS)
		return EINVAL;
	size_t pg = (size_t)getpagesize();
	struct tf_shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *pages = mmap(NULL, pg * k, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct tf_task *tasks = mem_zalloc(struct tf_task, k);
	pthread_t *tids = mem_zalloc(pthread_t, k);
	pid_t *pids = mem_zalloc(pid_t, k);
	int err = 0;
	unsigned started = 0;
	if (s == MAP_FAILED || pages == MAP_FAILED || tasks == NULL || tids == NULL || pids == NULL) {
		err = ENOMEM;
		goto out;
	}
	memset(s, 0, sizeof(*s));
	for (; started < k; started++) {
		tasks[started] = (struct tf_task){s, started, pus[started], pages + pg * started};
		if (processes) {
			pids[started] = fork();
			if (pids[started] == 0) {
				tf_loop(&tasks[started]);
				_exit(0);
			}
			if (pids[started] < 0) {
				err = errno;
				break;
			}
		} else if ((err = pthread_create(&tids[started], NULL, tf_thread, &tasks[started])) != 0)
			break;
	}
	while (atomic_load(&s->tf_ready) < started)
		sched_yield();
	atomic_store(&s->tf_go, 1);
	struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
	nanosleep(&ts, NULL);
	atomic_store(&s->tf_stop, 1);
	for (unsigned i = 0; i < started; i++) {
		if (processes)
			waitpid(pids[i], NULL, 0);
		else
			pthread_join(tids[i], NULL);
	}
	for (unsigned i = 0; err == 0 && i < started; i++)
		if ((err = s->tf_bind_err[i]) != 0)
			*bad_pu = pus[i];
	if (err == 0) {
		uint64_t per[TF_MAX_TASKS], total = 0;
		for (unsigned i = 0; i < k; i++) {
			per[i] = s->tf_ops[i] ? (uint64_t)(seconds * 1e9 / (double)s->tf_ops[i]) : 0;
			total += s->tf_ops[i];
		}
		*ns = (double)samples_pct_u64(per, k, 0.5);
		if (ops != NULL)
			*ops = total;
	}
out:
	if (s != MAP_FAILED)
		munmap(s, sizeof(*s));
	if (pages != MAP_FAILED)
		munmap(pages, pg * k);
	free(tasks);
	free(tids);
	free(pids);
	return err;
}
