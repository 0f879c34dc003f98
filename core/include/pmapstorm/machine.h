/*
 * pmapstorm/machine.h — the simulated multiprocessor.
 *
 * A machine is simulated physical memory (frames plus one struct vm_page per
 * frame), shared page-table memory read by a hardware walker, and CPUs: each
 * CPU is a host thread that attached itself with cpu_attach() and owns a
 * private TLB and an IPI mailbox.  One machine exists per process at a time.
 *
 * Errors follow the convention of pmapstorm/types.h: 0 or an errno value,
 * or NULL with errno set; machine_errmsg() explains, naming the config key.
 */
#ifndef PMAPSTORM_MACHINE_H
#define PMAPSTORM_MACHINE_H

#include <pmapstorm/config.h>
#include <pmapstorm/lock.h>
#include <pmapstorm/types.h>

#include <stdatomic.h>

#ifdef __cplusplus
extern "C" {
#endif

struct machine;
struct lwp;
struct pmap;
struct vm_page;

enum mmu_refmod {
	MMU_REFMOD_HARDWARE = 0, /* walker sets A/D atomically, like x86 */
	MMU_REFMOD_SOFTWARE = 1, /* no hardware A/D: first access/write faults */
};

#define MACHINE_STRATEGY_NAMELEN 32

/* ipi.preset: manual takes ipi.send_ns / ipi.handler_ns as given; calibrated
 * sets them from ipi.calibration (the pmapstorm command resolves it before
 * boot; an embedder sets the two keys itself) */
enum ipi_preset {
	IPI_PRESET_MANUAL = 0,
	IPI_PRESET_CALIBRATED = 1,
};
/* machine.engine: threads (each simulated CPU a host thread in real time) or
 * virtual (one CPU at a time, in virtual time: docs/engine.md) */
enum machine_engine {
	MACHINE_ENGINE_THREADS = 0,
	MACHINE_ENGINE_VIRTUAL = 1,
};
#define MACHINE_MAX_HOPS 8 /* values of ipi.distance_ns (hop levels 1..8; the last repeats) */

/* A knob of a component, in the config's knob store (pmapstorm/config.h). */
#define MACHINE_MAX_KNOBS 96
#define MACHINE_KNOB_NAMELEN 40
struct machine_knob {
	char mk_name[MACHINE_KNOB_NAMELEN]; /* "section.key" */
	uint64_t mk_value;
};

/*
 * The machine's own keys are fields: each has a config key of the same
 * meaning ("section.key"); set them through machine_config_set() so that
 * values are validated.  Every other component (each strategy, the locks,
 * the page allocator, uvm_km, the oracles and fault injection, the
 * watchdog) keeps its keys in mc_knob, read with machine_knob(): its table
 * says what they are (pmapstorm/config.h, `pmapstorm list keys`).
 */
struct machine_config {
	unsigned mc_ncpu;             /* machine.cpus (default 4) */
	uint64_t mc_memory;           /* machine.memory, bytes (default 64M) */
	unsigned mc_tlb_entries;      /* tlb.entries (default 64) */
	unsigned mc_tlb_ways;         /* tlb.ways (default 4) */
	bool mc_pcid;                 /* mmu.pcid = on|off (default on) */
	enum mmu_refmod mc_refmod;    /* mmu.refmod = hardware|software */
	char mc_strategy[MACHINE_STRATEGY_NAMELEN]; /* shootdown.strategy */
	bool mc_sd_unsafe;            /* shootdown.allow_unsafe = yes: the mutants, for validators */
	uint64_t mc_ipi_send_ns;      /* ipi.send_ns: modelled cost to send one IPI */
	uint64_t mc_ipi_handler_ns;   /* ipi.handler_ns: modelled cost of entering the handler */
	unsigned mc_spin_before_yield; /* machine.spin (default 64): pause iterations before a wait may yield */
	bool mc_stats;                /* stats.enabled = on|off (default on): counters and histograms */
	uint64_t mc_tick_us;          /* machine.tick_us (default 1000): clock tick period */
	/* topology and memory placement (core/topo: hwloc, libnuma) */
	char mc_topology[256];        /* machine.topology: hwloc synthetic description ("" = the host) */
	char mc_placement[512];       /* machine.placement = compact|scatter|list:PU,... (default compact) */
	char mc_numa[32];             /* machine.numa = interleave|local|node:N (default interleave) */
	unsigned mc_ipi_ndistance;    /* ipi.distance_ns: modelled delay per hop level (0 values = none) */
	uint64_t mc_ipi_distance_ns[MACHINE_MAX_HOPS];
	enum ipi_preset mc_ipi_preset; /* ipi.preset = manual|calibrated (default manual) */
	char mc_ipi_calibration[256]; /* ipi.calibration: calibration.json of `pmapstorm calibrate` */
	enum machine_engine mc_engine; /* machine.engine = threads|virtual (default threads; core/machine/engine.c) */
	/* the components' keys: set ones only; the rest read as their defaults */
	unsigned mc_nknob;
	struct machine_knob mc_knob[MACHINE_MAX_KNOBS];
};

/* Upper and lower bounds the validator enforces. */
#define MACHINE_MIN_MEMORY (1ULL << 20)   /* 1 MiB */
#define MACHINE_MAX_MEMORY (64ULL << 30)  /* 64 GiB */
#define MACHINE_MAX_TLB_ENTRIES 65536

void machine_config_init(struct machine_config *);
/* "section.key" = value, as in config files: 0, ENOENT (unknown key) or EINVAL. */
int machine_config_set(struct machine_config *, const char *key, const char *value);
/* Writes the value of key as a config string into buf; 0 or ENOENT. */
int machine_config_get(const struct machine_config *, const char *key, char *buf, size_t len);
/* The keys machine_config_set() accepts, NULL-terminated. */
const char *const *machine_config_keys(void);
/* The whole config as machine_boot() checks it (topology, placement and
 * NUMA against the host included), without booting: 0, EINVAL for bad
 * input, or ENOMEM/ENOSYS when hwloc cannot load a topology. */
int machine_config_check(const struct machine_config *);
/* The topology and placement a config gives (what machine_boot uses):
 * NULL with errno (as machine_config_check) and machine_errmsg(); the
 * caller topo_close()s it. */
struct topo;
struct topo *machine_config_topo(const struct machine_config *);
/* The last error message of this thread (empty when none). */
const char *machine_errmsg(void);

/* NULL + errno (EINVAL: bad config, EBUSY: a machine exists, ENOMEM) on failure. */
struct machine *machine_boot(const struct machine_config *);
/* Every CPU must be detached first (cpu_detach(), or machine_run() returned):
 * a CPU still attached is a panic. */
void machine_halt(struct machine *);
const struct machine_config *machine_config_of(const struct machine *);
unsigned machine_ncpu(const struct machine *);
/* Frames in simulated physical memory, and bytes of page-table + TLB metadata. */
uint64_t machine_phys_pages(const struct machine *);
uint64_t machine_metadata_bytes(const struct machine *);

/* => the calling thread becomes CPU cpuid: 0, EINVAL (bad id), EBUSY (attached;
 * or, with machine.engine = virtual, a thread machine_run() did not start
 * while a machine_run() is in progress or another such thread is attached:
 * virtual time schedules only machine_run()'s CPUs). */
int cpu_attach(struct machine *, unsigned cpuid);
void cpu_detach(void);
unsigned cpu_number(void);
bool cpu_attached(void);

/*
 * Interrupt points.  IPIs are taken only in cpu_intr_poll(), and not while
 * the CPU has interrupts blocked with splvm().  cpu_intr_poll() is also a
 * quiescent state for RCU.
 */
void cpu_intr_poll(void);
int splvm(void);
void splx(int s);

/*
 * Waiting.  A wait loop calls cpu_spin_wait(&iter) once per turn: it takes
 * pending IPIs (unless blocked) and pauses.  After machine.spin turns it
 * yields the host CPU at every turn when the simulated CPUs outnumber the
 * host PUs they are placed on (so the model progresses with more CPUs than
 * cores); when they fit, only once the wait is 50 us old (the other side
 * was most likely preempted by the host).
 */
void cpu_spin_wait(unsigned *iter);
/* The same, saying what it waits for (the watchdog's dump names it). */
void cpu_spin_wait_for(unsigned *iter, const char *what);
/* Now, in ns: the host's clock, or with machine.engine = virtual the
 * calling CPU's virtual clock (a thread that is no CPU: the newest clock
 * the engine published). */
uint64_t cpu_now_ns(void);
void cpu_delay_ns(uint64_t ns);
/* Does the booted machine run machine.engine = virtual?  A wait loop of
 * the caller's own must then go through cpu_spin_wait(): only one CPU runs
 * at a time, and a bare spin would wait for a CPU that cannot run. */
bool cpu_virtual(void);

/* 8-byte accesses by the current CPU: 0, EFAULT (no valid mapping, or va
 * not 8-byte aligned) or EACCES (the mapping forbids the access). */
int mmu_load(vaddr_t va, uint64_t *val);
int mmu_store(vaddr_t va, uint64_t val);
int mmu_fetch(vaddr_t va);
void *machine_phys(paddr_t pa);

/* Execution contexts: an lwp runs in one pmap; lwp_switch() is a context switch. */
struct lwp *lwp_create(struct pmap *);
void lwp_destroy(struct lwp *);
void lwp_switch(struct lwp *);
struct lwp *curlwp(void);
struct pmap *lwp_pmap(const struct lwp *);

/*
 * The shared helper for running code on simulated CPUs: starts ncpu threads,
 * pins each (hwloc), attaches thread i as CPU i, releases them together from
 * one start barrier, runs fn(i, arg), detaches and joins.  0 or an errno
 * (EBUSY with machine.engine = virtual while a thread that attached itself
 * is still attached).
 */
typedef void (*machine_cpu_fn)(unsigned cpuid, void *arg);
int machine_run(struct machine *, unsigned ncpu, machine_cpu_fn fn, void *arg);

/*
 * The shared barrier for CPU threads: n CPUs meet; the wait keeps taking
 * IPIs (cpu_spin_wait), so a CPU shooting at one that already waits here
 * gets its acknowledgement.  Reusable at once.
 */
struct cpu_barrier {
	_Atomic unsigned cb_count;
	_Atomic unsigned cb_gen;
	unsigned cb_n;
};
void cpu_barrier_init(struct cpu_barrier *, unsigned n);
void cpu_barrier_wait(struct cpu_barrier *);

/* Panics of the model (an invariant broken, a pmap_enter that may not fail). */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_MACHINE_H */
