/*
 * workload.h — what a workload is, for the driver.
 *
 * A workload is one file in bench/trials/workloads/ defining a struct
 * workload (an info record in stress-ng's style: name, description,
 * options with defaults, the counters it reports) and one line in the
 * table of registry.c.  The driver runs it in a role: a set of CPUs sharing
 * one pmap (or one each).  Per trial it calls wl_role_init once (on the
 * role's first CPU, before the start barrier), wl_init on every CPU of the
 * role, wl_op in a loop until the time is up, then wl_fini and
 * wl_role_fini.  Every call runs on an attached CPU with the role's lwp
 * current; wl_op must not block without taking IPIs (cpu_spin_wait()).
 */
#ifndef PMAPSTORM_WORKLOAD_H
#define PMAPSTORM_WORKLOAD_H

#include <pmapstorm/alloc.h>
#include <pmapstorm/pmap.h>
#include <pmapstorm/uvm_page.h>

enum wo_type { WO_INT, WO_FLOAT, WO_ENUM };

struct wl_option {
	const char *wo_name;
	const char *wo_default;
	const char *wo_desc;
	enum wo_type wo_type;
	double wo_min, wo_max;     /* WO_INT, WO_FLOAT */
	const char *wo_choices;    /* WO_ENUM: "a|b|c" */
};

/* xorshift64*: the seeded generator every workload uses (Vigna 2016) */
struct wl_rng {
	uint64_t r_state;
};
static inline uint64_t wl_rand(struct wl_rng *r)
{
	uint64_t x = r->r_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->r_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}
static inline uint64_t wl_rand_below(struct wl_rng *r, uint64_t n)
{
	return n ? wl_rand(r) % n : 0;
}

struct wl_role {
	const char *wr_name;
	const struct workload *wr_wl;
	pmap_t wr_pmap;            /* the shared pmap (NULL with pmap = private) */
	unsigned wr_ncpu;          /* CPUs in the role at this point */
	unsigned wr_role_index;
	vaddr_t wr_va;             /* the role's VA region (1 TiB) */
	void *wr_priv;             /* the workload's role state */
	const struct machine_config *wr_cfg;
	/* options as given (defaults filled in) */
	const char *const *wr_optkeys;
	const char *const *wr_optvals;
	unsigned wr_nopts;
	uint64_t wr_seed;
	_Atomic uint64_t wr_ops;   /* operations done (measured window) */
	_Atomic unsigned wr_errors;/* violations or failures the workload saw */
	bool wr_failed;            /* wl_role_init failed: the role's CPUs stay idle */
};

struct wl_ctx {
	unsigned wc_cpu;           /* simulated CPU */
	unsigned wc_index;         /* position in the role, 0 .. wr_ncpu-1 */
	struct wl_role *wc_role;
	pmap_t wc_pmap;            /* the pmap this CPU runs in */
	vaddr_t wc_va;             /* this CPU's private VA region (4 GiB) */
	struct wl_rng wc_rng;
	void *wc_priv;
	uint64_t wc_ops;
};

struct workload {
	const char *wl_name;
	const char *wl_desc;
	const struct wl_option *wl_options; /* NULL-terminated by wo_name */
	const char *wl_reports;             /* what it counts, one line */
	bool wl_kmem;                       /* it allocates kernel memory or pool pages (the kernel-memory
	                                       metrics apply: metrics.c) */
	bool wl_shared_pmap;                /* it needs one pmap for the role: `pmap = private` is an
	                                       input error (experiment.c) */
	int (*wl_role_init)(struct wl_role *);
	void (*wl_role_fini)(struct wl_role *);
	int (*wl_init)(struct wl_ctx *);
	void (*wl_op)(struct wl_ctx *);
	void (*wl_fini)(struct wl_ctx *);
};

extern const struct workload *const workloads[];
const struct workload *workload_find(const char *name);

/* Option lookup: the role's value (the default when not given). */
const char *wl_opt(const struct wl_role *, const char *name);
long wl_opt_long(const struct wl_role *, const char *name);
double wl_opt_double(const struct wl_role *, const char *name);
/* Is an enum option's value (checked against its choices at configuration
 * time) this one? */
bool wl_opt_is(const struct wl_role *, const char *name, const char *value);
/* Validates an option value given for workload w: 0, or EINVAL with why. */
int wl_opt_check(const struct workload *w, const char *name, const char *value, char *why, size_t len);

/* Helpers the workloads share. */
struct vm_page *wl_page(void);                       /* a zeroed page, waiting if needed */
void wl_map(pmap_t, vaddr_t va, struct vm_page *pg, vm_prot_t prot);
void wl_error(struct wl_role *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
