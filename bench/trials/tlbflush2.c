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
 *
 * The same runner times a loop that never enters the kernel: each thread
 * loads bytes of its own buffer of HL_PAGES pages at random
 * (Knuth's MMIX linear congruential generator, TAOCP vol. 2, 3.3.4) — the
 * host's own figure for the `touch` workload on private pmaps (its default
 * working set: twice a 64-entry TLB's reach), for how far two PUs that
 * share nothing scale.
 */
#include "trials/tlbflush2.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
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

enum tf_body { TF_MADVISE, TF_MEMLOOP };

struct tf_task {
	struct tf_shared *tf_s;
	unsigned tf_i;
	int tf_pu;
	enum tf_body tf_body;
	char *tf_page; /* this task's page (TF_MADVISE), its HL_PAGES pages (TF_MEMLOOP) */
};

/* TF_MEMLOOP: a batch of random loads between looks at tf_stop */
#define HL_BATCH 1024

static void tf_loop(struct tf_task *t)
{
	struct tf_shared *s = t->tf_s;
	s->tf_bind_err[t->tf_i] = topo_bind_host_pu(t->tf_pu);
	const size_t bytes = (size_t)HL_PAGES * (size_t)getpagesize();
	if (t->tf_body == TF_MEMLOOP)
		memset(t->tf_page, 1, bytes); /* frames of its own (not the zero page), in its caches */
	atomic_fetch_add(&s->tf_ready, 1);
	while (!atomic_load_explicit(&s->tf_go, memory_order_acquire))
		sched_yield();
	uint64_t n = 0;
	if (t->tf_body == TF_MEMLOOP) {
		/* loads (volatile: each is done), as touch's default (write = 0) */
		const volatile char *buf = t->tf_page;
		const size_t mask = bytes - 1; /* a power of two */
		uint64_t x = t->tf_i + 1;
		do {
			for (unsigned i = 0; i < HL_BATCH; i++) {
				x = x * 6364136223846793005ULL + 1442695040888963407ULL;
				(void)buf[(x >> 33) & mask];
			}
			n += HL_BATCH;
		} while (!atomic_load_explicit(&s->tf_stop, memory_order_relaxed));
		s->tf_ops[t->tf_i] = n;
		return;
	}
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

static int tf_run(const int *pus, unsigned k, bool processes, enum tf_body body, double seconds, double *ns,
    uint64_t *ops, int *bad_pu)
{
	*bad_pu = -1;
	if (k == 0 || k > TF_MAX_TASKS)
		return EINVAL;
	/* a task's memory: its page, or its HL_PAGES (each task's own lines) */
	size_t pg = (size_t)getpagesize() * (body == TF_MEMLOOP ? HL_PAGES : 1);
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
	const pid_t parent = getpid();
	for (; started < k; started++) {
		tasks[started] = (struct tf_task){s, started, pus[started], body, pages + pg * started};
		if (processes) {
			pids[started] = fork();
			if (pids[started] == 0) {
				/* a task spins until the parent stops it: one whose
				 * parent was killed (a CI job's timeout) goes too */
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (getppid() == parent)
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

int host_tlb_flush2(const int *pus, unsigned k, bool processes, double seconds, double *ns, uint64_t *ops,
    int *bad_pu)
{
	return tf_run(pus, k, processes, TF_MADVISE, seconds, ns, ops, bad_pu);
}

int host_mem_loop(const int *pus, unsigned k, double seconds, uint64_t *ops, int *bad_pu)
{
	double ns = 0;
	return tf_run(pus, k, false, TF_MEMLOOP, seconds, &ns, ops, bad_pu);
}
