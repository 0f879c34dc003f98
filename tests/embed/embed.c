/*
 * embed.c — a program that uses libpmapstorm as an embedder would: built
 * outside this tree, against the installed headers and library only
 * (tests/embed/embed_check.sh builds it with pkg-config and with CMake's
 * find_package, then runs it).  It compiles as strict ISO C, so the public
 * headers must too.
 *
 * Two simulated CPUs share one pmap: CPU 0 maps a page and writes it, CPU 1
 * reads it through its own TLB, CPU 0 removes the mapping and runs
 * pmap_update(), which must shoot CPU 1's entry down: afterwards neither
 * CPU can reach the page.  Exit 0 when all of that held, 1 when a check
 * failed, 3 when the machine did not boot.
 */
#include <pmapstorm/machine.h>
#include <pmapstorm/pmap.h>
#include <pmapstorm/stats.h>
#include <pmapstorm/uvm_page.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define EMBED_VA ((vaddr_t)0x40000000)
#define EMBED_MARK 0x5eed0042ULL

struct embed {
	pmap_t pm;
	struct vm_page *pg;
	struct cpu_barrier bar;
	_Atomic unsigned failures;
};

static void embed_check(struct embed *e, int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "embed: CPU %u: %s\n", cpu_number(), what);
		atomic_fetch_add(&e->failures, 1);
	}
}

static void embed_cpu(unsigned cpu, void *arg)
{
	struct embed *e = arg;
	struct lwp *l = lwp_create(e->pm);
	lwp_switch(l);
	uint64_t v = 0;
	if (cpu == 0) {
		e->pg = uvm_pagealloc(NULL, 0, NULL, UVM_PGA_ZERO);
		embed_check(e, e->pg != NULL, "uvm_pagealloc failed");
		if (e->pg != NULL) {
			embed_check(e, pmap_enter(e->pm, EMBED_VA, VM_PAGE_TO_PHYS(e->pg), VM_PROT_READ | VM_PROT_WRITE,
			    VM_PROT_READ | VM_PROT_WRITE) == 0, "pmap_enter failed");
			pmap_update(e->pm);
			embed_check(e, mmu_store(EMBED_VA, EMBED_MARK) == 0, "store to the new mapping failed");
		}
	}
	cpu_barrier_wait(&e->bar);
	/* both CPUs now cache the translation */
	embed_check(e, mmu_load(EMBED_VA, &v) == 0 && v == EMBED_MARK, "load before the removal");
	cpu_barrier_wait(&e->bar);
	if (cpu == 0) {
		pmap_remove(e->pm, EMBED_VA, EMBED_VA + PAGE_SIZE);
		pmap_update(e->pm); /* returns once CPU 1's TLB entry is gone */
	}
	cpu_barrier_wait(&e->bar);
	embed_check(e, mmu_load(EMBED_VA, &v) == EFAULT, "the removed mapping still translates");
	cpu_barrier_wait(&e->bar);
	lwp_switch(NULL);
	lwp_destroy(l);
}

int main(void)
{
	struct machine_config cfg;
	machine_config_init(&cfg);
	if (machine_config_set(&cfg, "machine.cpus", "2") != 0 || machine_config_set(&cfg, "machine.memory", "4M") != 0 ||
	    machine_config_set(&cfg, "shootdown.strategy", "netbsd-x86") != 0) {
		fprintf(stderr, "embed: machine_config_set: %s\n", machine_errmsg());
		return 1;
	}
	struct machine *m = machine_boot(&cfg);
	if (m == NULL) {
		fprintf(stderr, "embed: machine_boot: %s (%s)\n", machine_errmsg(), strerror(errno));
		return 3;
	}
	struct embed e = {0};
	cpu_barrier_init(&e.bar, 2);
	/* pmaps are created and destroyed on a CPU */
	if (cpu_attach(m, 0) != 0) {
		fprintf(stderr, "embed: cpu_attach: %s\n", machine_errmsg());
		machine_halt(m);
		return 3;
	}
	e.pm = pmap_create();
	cpu_detach();
	uint64_t ipis0 = 0;
	const struct stats_counter *ipis = stats_counter_find("ipi.sent");
	if (ipis != NULL)
		ipis0 = stats_counter_total(ipis);
	int rc = machine_run(m, 2, embed_cpu, &e);
	if (rc != 0) {
		fprintf(stderr, "embed: machine_run: %s (%s)\n", machine_errmsg(), strerror(rc));
		atomic_fetch_add(&e.failures, 1);
	}
	/* the removal had to interrupt CPU 1 */
	if (ipis == NULL || stats_counter_total(ipis) == ipis0) {
		fprintf(stderr, "embed: no IPI counted (ipi.sent)\n");
		atomic_fetch_add(&e.failures, 1);
	}
	if (cpu_attach(m, 0) == 0) {
		if (e.pg != NULL)
			uvm_pagefree(e.pg);
		pmap_destroy(e.pm);
		cpu_detach();
	}
	machine_halt(m);
	unsigned bad = atomic_load(&e.failures);
	if (bad != 0) {
		fprintf(stderr, "embed: %u check(s) failed\n", bad);
		return 1;
	}
	printf("embed: 2 CPUs booted, a mapping entered, shot down by pmap_update, machine halted: ok\n");
	return 0;
}
