/*
 * shootdown.c — the strategy registry, the counters every strategy shares,
 * and the building blocks of shootdown_impl.h.
 *
 * Adding a strategy: one file in core/shootdown/ defining a
 * struct shootdown_strategy (with the config keys of its knobs in sd_keys),
 * and one line in SHOOTDOWN_STRATEGIES below.  Mutants
 * (sd_unsafe) sit in the same table and boot only with
 * shootdown.allow_unsafe = yes.
 */
#include "shootdown_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The registry: one line per strategy (its struct shootdown_strategy is
 * shootdown_<name> in its own file), mutants after the rest. */
#define SHOOTDOWN_STRATEGIES(X)                                                                     \
	X(immediate)                                                                                \
	X(netbsd_x86)                                                                               \
	X(netbsd_mi)                                                                                \
	X(linux)                                                                                    \
	X(freebsd)                                                                                  \
	X(latr)                                                                                     \
	X(broadcast)                                                                                \
	X(tracked)                                                                                  \
	X(hier)                                                                                     \
	X(mutant_skip)                                                                              \
	X(mutant_nowait)                                                                            \
	X(mutant_early)                                                                             \
	X(mutant_noglobal)                                                                          \
	X(mutant_latr_unguarded)

#define SD_DECLARE(name) extern const struct shootdown_strategy shootdown_##name;
#define SD_ENTRY(name) &shootdown_##name,
SHOOTDOWN_STRATEGIES(SD_DECLARE)
const struct shootdown_strategy *const shootdown_strategies[] = {SHOOTDOWN_STRATEGIES(SD_ENTRY) NULL};

const struct shootdown_strategy *shootdown_current;

/* ---- the keys of the shootdown layer (each strategy lists its own) ---- */

static int strategy_set(const struct cfg_key *k, struct machine_config *c, const char *v)
{
	char why[384];
	if (v == NULL || *v == '\0' || strlen(v) >= sizeof(c->mc_strategy))
		return machine_seterr(EINVAL, "%s: '%s' is not a strategy name", k->ck_name, v ? v : "");
	if (!shootdown_check_name(v, c->mc_sd_unsafe, why, sizeof(why)))
		return machine_seterr(EINVAL, "%s: %s", k->ck_name, why);
	snprintf(c->mc_strategy, sizeof(c->mc_strategy), "%s", v);
	return 0;
}
static void strategy_get(const struct cfg_key *k, const struct machine_config *c, char *b, size_t n)
{
	(void)k;
	snprintf(b, n, "%s", c->mc_strategy);
}
static void unsafe_get(const struct cfg_key *k, const struct machine_config *c, char *b, size_t n)
{
	(void)k;
	snprintf(b, n, "%s", c->mc_sd_unsafe ? "yes" : "no");
}

const struct cfg_key shootdown_keys[] = {
	CFG_KEY("shootdown.strategy", CFG_TEXT, 0, 0, NULL, "netbsd-x86",
	    "the shootdown strategy (`pmapstorm list strategies`)", CFG_FIELD(mc_strategy), .ck_set = strategy_set, .ck_get = strategy_get),
	CFG_KEY("shootdown.allow_unsafe", CFG_BOOL, 0, 0, NULL, "no",
	    "allow the mutants (`mutant-*`), for validators; anywhere in an experiment file, but before "
	    "`shootdown.strategy` in `--set` lists and `machine_config_set()`",
	    CFG_FIELD(mc_sd_unsafe), .ck_get = unsafe_get),
	{0},
};

const struct cfg_key sd_batch_key = CFG_KEY("shootdown.batch", CFG_UINT, 1, SD_MAX_BATCH, NULL, "16",
    "netbsd-x86 (and tracked, hier, mutants): addresses per packet before a whole flush (1–4096)");

/* The strategy of a whole config (fields may have been set directly). */
int shootdown_config_validate(const struct machine_config *c)
{
	char why[384];
	if (!shootdown_check_name(c->mc_strategy, c->mc_sd_unsafe, why, sizeof(why)))
		return machine_seterr(EINVAL, "shootdown.strategy: %s", why);
	return 0;
}

STATS_COUNTER(sd_requests, "shootdown.requests", "pmap_update()s that had invalidations to complete")
STATS_COUNTER(sd_remote, "shootdown.remote_requests", "requests that needed other CPUs")
STATS_COUNTER(sd_whole, "shootdown.whole_flushes", "requests that flushed a whole PCID or TLB instead of pages")
STATS_COUNTER(sd_unaccessed, "shootdown.skipped_unaccessed", "invalidations skipped: the PTE was never accessed")
STATS_COUNTER(sd_skipped_targets, "shootdown.skipped_targets", "CPUs not interrupted (lazy, untracked, detached)")
STATS_COUNTER(sd_deferred, "shootdown.deferred_frees", "frames held back until every TLB that may cache them swept")
STATS_HIST(sd_addrs, "shootdown.addrs", "pages", "addresses per request")
STATS_HIST(sd_targets_h, "shootdown.targets", "cpus", "remote CPUs per request")
STATS_HIST(sd_latency, "shootdown.latency", "ns", "pmap_update() time of requests that interrupted other CPUs")
STATS_HIST(sd_deferral, "shootdown.deferral", "ns", "how long a deferred frame was held back (max: the longest)")

const struct shootdown_strategy *shootdown_find(const char *name)
{
	for (unsigned i = 0; shootdown_strategies[i] != NULL; i++)
		if (strcmp(shootdown_strategies[i]->sd_name, name) == 0)
			return shootdown_strategies[i];
	return NULL;
}

static size_t list_names(char *why, size_t n, size_t len, bool unsafe)
{
	unsigned k = 0;
	for (unsigned i = 0; shootdown_strategies[i] != NULL && n < len; i++)
		if (shootdown_strategies[i]->sd_unsafe == unsafe)
			n += (size_t)snprintf(why + n, len - n, "%s%s", k++ ? ", " : "", shootdown_strategies[i]->sd_name);
	return n;
}

bool shootdown_check_name(const char *name, bool allow_unsafe, char *why, size_t len)
{
	const struct shootdown_strategy *s = shootdown_find(name);
	if (s != NULL && (!s->sd_unsafe || allow_unsafe))
		return true;
	size_t n;
	if (s != NULL) {
		n = (size_t)snprintf(why, len, "'%s' is a deliberately broken mutant: set shootdown.allow_unsafe = yes "
		    "first; mutants: ", name);
		list_names(why, n, len, true);
		return false;
	}
	n = (size_t)snprintf(why, len, "unknown strategy '%s'; valid: ", name);
	n = list_names(why, n, len, false);
	if (allow_unsafe && n < len) {
		n += (size_t)snprintf(why + n, len - n, "; mutants: ");
		list_names(why, n, len, true);
	}
	return false;
}

void sd_count_request(unsigned naddrs, bool whole, unsigned ntargets, unsigned nskipped, uint64_t ns)
{
	stats_inc(&sd_requests);
	stats_hist_record(&sd_addrs, naddrs);
	if (whole)
		stats_inc(&sd_whole);
	if (nskipped)
		stats_add(&sd_skipped_targets, nskipped);
	if (ntargets) {
		stats_inc(&sd_remote);
		stats_hist_record(&sd_targets_h, ntargets);
		stats_hist_record(&sd_latency, ns);
	}
}

void sd_count_unaccessed(void)
{
	stats_inc(&sd_unaccessed);
}

void sd_count_skipped(unsigned n)
{
	if (n)
		stats_add(&sd_skipped_targets, n);
}

/* ---- batches ---- */

void sd_req_init_at(struct sd_req *r, uint32_t cap, vaddr_t *va, uint16_t *pcid_of)
{
	memset(r, 0, sizeof(*r));
	r->r_cap = cap;
	r->r_va = va;
	r->r_pcid_of = pcid_of;
	sd_req_reset(r);
}

int sd_req_init(struct sd_req *r, uint32_t cap)
{
	sd_req_init_at(r, cap, mem_zalloc(vaddr_t, cap ? cap : 1), mem_zalloc(uint16_t, cap ? cap : 1));
	if (r->r_va == NULL || r->r_pcid_of == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory for request batches");
	return 0;
}

void sd_req_fini(struct sd_req *r)
{
	free(r->r_va);
	free(r->r_pcid_of);
	r->r_va = NULL;
	r->r_pcid_of = NULL;
}

void sd_req_add(struct sd_req *r, const struct mmu_ctx *ctx, vaddr_t va, uint64_t opte, enum sd_inv_kind kind,
    const kcpuset_t *who)
{
	uint16_t pcid = (opte & PTE_G) ? 0 : ctx->mc_pcid;
	if (r->r_naddrs == 0)
		r->r_pcid = pcid;
	else if (r->r_pcid != pcid)
		r->r_pcid = SD_PCID_MIXED;
	r->r_naddrs++;
	if (opte & PTE_G)
		r->r_global = true;
	if (kind == SD_INV_DOWNGRADE)
		r->r_downgrade = true;
	if (va < r->r_min)
		r->r_min = va;
	if (va > r->r_max)
		r->r_max = va;
	if (r->r_count != SD_ALLVA) {
		if (r->r_count < r->r_cap) {
			r->r_va[r->r_count] = va;
			r->r_pcid_of[r->r_count] = pcid;
			r->r_count++;
		} else
			r->r_count = SD_ALLVA;
	}
	/* the CPUs that may cache it: read after the PTE changed (seq_cst
	 * loads; pairs with pmap_activate's set-then-fence, a Dekker pair).
	 * The batch is this CPU's: a relaxed load and store merge them (other
	 * CPUs only read it: sd_pending) */
	if (who == NULL)
		who = sd_ctx_cpus(ctx);
	for (unsigned i = 0, nw = sd_cpuset_words(); i < nw; i++) {
		uint64_t b = atomic_load((_Atomic uint64_t *)&who->bits[i]);
		uint64_t o = atomic_load_explicit(&r->r_cpus.bits[i], memory_order_relaxed);
		if ((o | b) != o)
			atomic_store_explicit(&r->r_cpus.bits[i], o | b, memory_order_relaxed);
	}
}

void sd_req_apply(struct cpu_info *ci, const struct sd_req *r, bool global_too)
{
	if (r->r_count == SD_ALLVA) {
		if (r->r_global && global_too)
			tlb_invalidate_all(ci);
		else if (r->r_pcid != SD_PCID_MIXED && !r->r_global)
			tlb_invalidate_pcid(ci, (uint16_t)r->r_pcid);
		else
			tlb_invalidate_nonglobal(ci);
		return;
	}
	for (uint32_t i = 0; i < r->r_count; i++)
		tlb_invalidate_page(ci, r->r_va[i], r->r_pcid_of[i]);
}

bool sd_req_covers(const struct sd_req *r, vaddr_t va, uint16_t pcid)
{
	if (r->r_naddrs == 0)
		return false;
	if (r->r_count == SD_ALLVA)
		return true;
	for (uint32_t i = 0; i < r->r_count; i++)
		if (r->r_va[i] == va && (r->r_pcid_of[i] == pcid || r->r_pcid_of[i] == 0))
			return true;
	return false;
}

void sd_req_copy(struct sd_req *dst, const struct sd_req *src)
{
	KASSERT(src->r_count == SD_ALLVA || src->r_count <= dst->r_cap);
	dst->r_count = src->r_count;
	dst->r_pcid = src->r_pcid;
	dst->r_global = src->r_global;
	dst->r_naddrs = src->r_naddrs;
	if (src->r_count != SD_ALLVA) {
		memcpy(dst->r_va, src->r_va, sizeof(vaddr_t) * src->r_count);
		memcpy(dst->r_pcid_of, src->r_pcid_of, sizeof(uint16_t) * src->r_count);
	}
}

/* ---- per-initiator slots ---- */

struct sd_slot *sd_slots;

/* The watchdog's dump: the targets that have not acknowledged ci's request. */
static void sd_slots_dump(FILE *f, struct cpu_info *ci)
{
	if (sd_slots == NULL)
		return;
	bool any = false;
	fprintf(f, "        its request slot: acknowledgements missing from");
	KCPUSET_FOREACH(&sd_slots[ci->ci_cpuid].s_pending, c) {
		fprintf(f, " cpu%u", c);
		any = true;
	}
	fprintf(f, "%s\n", any ? "" : " none");
}

int sd_slots_boot(struct machine *m)
{
	if ((sd_slots = mem_alloc(struct sd_slot, m->m_ncpu)) == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory for request slots");
	memset(sd_slots, 0, sizeof(*sd_slots) * m->m_ncpu);
	m->m_hooks.mh_dump = sd_slots_dump;
	return 0;
}

void sd_slots_halt(void)
{
	free(sd_slots);
	sd_slots = NULL;
}

void sd_slot_post(struct cpu_info *ci, const void *req, sd_apply_fn fn, const kcpuset_t *targets, uint64_t sent_ns)
{
	struct sd_slot *s = &sd_slots[ci->ci_cpuid];
	KASSERT(kcpuset_iszero(&s->s_pending));
	s->s_req = req;
	s->s_apply = fn;
	s->s_sent_ns = sent_ns;
	/* release: a target that reads its bit with acquire sees the request */
	sd_cpuset_publish(&s->s_pending, targets);
	KCPUSET_FOREACH(targets, c)
		cpu_send_ipi(cpu_lookup(c), IPI_SHOOTDOWN);
}

/* seq_cst loads: the targets' acknowledgements come after their
 * invalidations, so the request may be reused once all are seen */
static bool slot_acked(unsigned c, void *s)
{
	return !kcpuset_isset(&((struct sd_slot *)s)->s_pending, c);
}

/* a detached CPU has an empty TLB: nothing to wait for */
static void slot_gone(unsigned c, void *s)
{
	kcpuset_atomic_clear(&((struct sd_slot *)s)->s_pending, c);
}

void sd_slot_wait(struct cpu_info *ci)
{
	struct sd_slot *s = &sd_slots[ci->ci_cpuid];
	kcpuset_t left;
	for (unsigned w = 0; w < MAXCPUS / 64; w++)
		atomic_store_explicit(&left.bits[w], atomic_load(&s->s_pending.bits[w]), memory_order_relaxed);
	sd_wait_acks(&left, slot_acked, slot_gone, s);
}

void sd_apply_req(struct cpu_info *ci, const void *req)
{
	sd_req_apply(ci, req, true);
}

void sd_slots_serve(struct cpu_info *ci)
{
	const unsigned me = ci->ci_cpuid;
	for (unsigned c = 0; c < machine_cur->m_ncpu; c++) {
		struct sd_slot *s = &sd_slots[c];
		/* acquire: pairs with the initiator's release of the pending set */
		if (!sd_cpuset_named(&s->s_pending, me))
			continue;
		s->s_apply(ci, s->s_req);
		sd_ack_record(c, me, s->s_sent_ns);
		/* the acknowledgement comes after the invalidation (late ack):
		 * the initiator may reuse the request and free frames after it */
		sd_cpuset_ack(&s->s_pending, me);
	}
}

/* ---- lazy completion and deferred frees ---- */

struct sd_seq {
	_Atomic uint64_t q_posted; /* work published for this CPU */
	_Atomic uint64_t q_done;   /* work it swept (q_posted it read before) */
	_Atomic uint64_t q_since;  /* cpu_now_ns() of the oldest post not yet swept; 0: none */
} __cacheline_aligned;

struct sd_deferred {
	struct sd_deferred *d_next;
	struct vm_page *d_pg;
	uint64_t d_t0;
	unsigned d_n;
	struct {
		unsigned c;
		uint64_t seq;
	} d_wait[];
};

static struct sd_seq *sd_seqs;
static sd_sweep_fn sd_self_sweep;
static bool sd_posts_interrupt; /* every post already sent its target an IPI (netbsd-mi) */
static kmutex_t sd_deferred_lock;
static struct sd_deferred *sd_deferred_head, **sd_deferred_tail;
static _Atomic unsigned sd_deferred_count;

int sd_lazy_boot(struct machine *m, sd_sweep_fn sweep, bool posts_interrupt)
{
	sd_self_sweep = sweep;
	sd_posts_interrupt = posts_interrupt;
	if ((sd_seqs = mem_alloc(struct sd_seq, m->m_ncpu)) == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory for sweep counters");
	memset(sd_seqs, 0, sizeof(*sd_seqs) * m->m_ncpu);
	mutex_init(&sd_deferred_lock, LC_TLB_PACKET);
	sd_deferred_head = NULL;
	sd_deferred_tail = &sd_deferred_head;
	atomic_store(&sd_deferred_count, 0);
	return 0;
}

void sd_lazy_halt(void)
{
	/* every CPU is detached: every TLB is empty */
	sd_lazy_reclaim(true);
	mutex_destroy(&sd_deferred_lock);
	free(sd_seqs);
	sd_seqs = NULL;
	sd_self_sweep = NULL;
}

STATS_HIST(sd_coherence, "shootdown.coherence", "ns",
    "lazy strategies: from a pmap_update() that left removed translations on a CPU to that CPU's sweep "
    "(the oldest such update of each sweep; max: the longest any removed translation outlived its update)")
STATS_COUNTER(sd_drains, "shootdown.lazy_drains", "lazily posted work completed at once on every CPU (the "
    "pmap's fallbacks: a VA entered again, a page operation, a late removal)")

void sd_lazy_posted(unsigned c, bool window)
{
	struct sd_seq *q = &sd_seqs[c];
	/* seq_cst RMW after the work's stores: a sweeper that reads the new
	 * value (sd_lazy_sweep_begin) sees the work; a free that reads it
	 * (sd_lazy_free) waits for the sweep */
	atomic_fetch_add(&q->q_posted, 1);
	if (!window)
		return; /* the initiator waits for it: coherent when its update returns */
	/* time to coherence: the post's time, unless an older unswept post
	 * holds the field.  After the count: a sweeper takes the time before
	 * it reads the count (sd_lazy_sweep_begin), so a post it does not
	 * cover leaves its time for the next sweep, and one it covers at
	 * worst leaves it too (the next sweep then reports a window that is
	 * too long, never one that is too short). */
	if (stats_on && atomic_load_explicit(&q->q_since, memory_order_relaxed) == 0) {
		uint64_t zero = 0;
		atomic_compare_exchange_strong(&q->q_since, &zero, cpu_now_ns());
	}
}

uint64_t sd_lazy_sweep_begin(struct cpu_info *ci, uint64_t *since)
{
	struct sd_seq *q = &sd_seqs[ci->ci_cpuid];
	/* seq_cst: the time is taken before the count is read (above) */
	*since = atomic_load_explicit(&q->q_since, memory_order_relaxed) != 0 ? atomic_exchange(&q->q_since, 0) : 0;
	return atomic_load(&q->q_posted);
}

void sd_lazy_sweep_end(struct cpu_info *ci, uint64_t seen, uint64_t since)
{
	struct sd_seq *q = &sd_seqs[ci->ci_cpuid];
	/* release: the TLB changes are this CPU's own; what the release orders
	 * is our reading of the work before a freer's reuse of the frame */
	if (atomic_load_explicit(&q->q_done, memory_order_relaxed) < seen)
		atomic_store_explicit(&q->q_done, seen, memory_order_release);
	if (since != 0) {
		uint64_t now = sd_stat_now();
		stats_hist_record(&sd_coherence, now > since ? now - since : 0);
	}
}

void sd_lazy_sweep_self(struct cpu_info *ci)
{
	if (sd_self_sweep != NULL && sd_lazy_outstanding(ci->ci_cpuid))
		sd_self_sweep(ci);
}

/*
 * Every lazily posted invalidation is applied on every CPU when this
 * returns: the fallback the pmap takes where a lazy window would break a
 * promise of pmap(9) (pmap.c, "The lazy guard").  The CPUs that have
 * work outstanding get an IPI (unless their post already sent one); their
 * handler sweeps.  => a CPU's own thread, interrupts not blocked: it
 * waits, taking IPIs, so two CPUs draining each other both progress.
 */
void sd_lazy_drain(void)
{
	struct machine *m = machine_cur;
	struct cpu_info *self = curcpu();
	KASSERT(self != NULL && sd_seqs != NULL);
	uint64_t want[MAXCPUS];
	stats_inc(&sd_drains);
	sd_lazy_sweep_self(self);
	/* seq_cst loads, after whatever made the work ours to complete (the
	 * caller's generation bump, or its own post) */
	for (unsigned c = 0; c < m->m_ncpu; c++) {
		want[c] = atomic_load(&sd_seqs[c].q_posted);
		if (c != self->ci_cpuid && !sd_posts_interrupt && atomic_load(&sd_seqs[c].q_done) < want[c] &&
		    cpu_is_attached(cpu_lookup(c)))
			cpu_send_ipi(cpu_lookup(c), IPI_SHOOTDOWN);
	}
	unsigned iter = 0;
	for (unsigned c = 0; c < m->m_ncpu; c++)
		while (atomic_load_explicit(&sd_seqs[c].q_done, memory_order_acquire) < want[c] &&
		    cpu_is_attached(cpu_lookup(c))) {
			if (c == self->ci_cpuid)
				sd_lazy_sweep_self(self); /* posted to us since the first sweep */
			else
				cpu_spin_wait_for(&iter, "lazy drains (a pmap fallback)");
		}
}

bool sd_lazy_outstanding(unsigned c)
{
	return atomic_load(&sd_seqs[c].q_done) < atomic_load(&sd_seqs[c].q_posted);
}

static bool deferred_ready(const struct sd_deferred *d)
{
	for (unsigned i = 0; i < d->d_n; i++) {
		unsigned c = d->d_wait[i].c;
		if (atomic_load_explicit(&sd_seqs[c].q_done, memory_order_acquire) < d->d_wait[i].seq &&
		    cpu_is_attached(cpu_lookup(c)))
			return false;
	}
	return true;
}

bool sd_lazy_free(struct vm_page *pg)
{
	struct machine *m = machine_cur;
	unsigned n = 0, ncpu = m->m_ncpu;
	/*
	 * The freeing CPU sweeps its own posted work first.  Otherwise the
	 * frame waits for this CPU's sweep, which comes only at its next
	 * interrupt point: a CPU that frees many frames in a row (a range
	 * removal, uvm_km_free, the stress hog giving memory back) would
	 * defer every one on itself, rescan the whole deferred list at each
	 * free (lazy_reclaim: quadratic), and leave a CPU that waits for its
	 * drain (a downgrade, sd_sync) spinning all that time.  A CPU may
	 * always flush its own TLB, interrupts blocked or not.
	 */
	struct cpu_info *self = curcpu();
	if (self != NULL)
		sd_lazy_sweep_self(self);
	struct sd_deferred *d = mem_zalloc_flex(struct sd_deferred, d_wait, ncpu);
	if (d == NULL)
		panic("shootdown: no host memory to defer a free");
	for (unsigned c = 0; c < ncpu; c++) {
		/* seq_cst: ordered after whatever made the frame ours to free */
		uint64_t posted = atomic_load(&sd_seqs[c].q_posted);
		if (atomic_load(&sd_seqs[c].q_done) < posted && cpu_is_attached(cpu_lookup(c))) {
			d->d_wait[n].c = c;
			d->d_wait[n].seq = posted;
			n++;
		}
	}
	if (n == 0) {
		free(d);
		sd_lazy_reclaim(false);
		return false;
	}
	d->d_next = NULL;
	d->d_pg = pg;
	d->d_n = n;
	d->d_t0 = sd_stat_now();
	mutex_enter(&sd_deferred_lock);
	*sd_deferred_tail = d;
	sd_deferred_tail = &d->d_next;
	mutex_exit(&sd_deferred_lock);
	atomic_fetch_add(&sd_deferred_count, 1);
	stats_inc(&sd_deferred);
	sd_lazy_reclaim(false);
	return true;
}

/* => normal context (not an interrupt inside a lock wait): it takes the free-list lock */
void sd_reclaim_deferred(void)
{
	sd_lazy_reclaim(false);
}

/* from_tick: interrupt context, possibly inside the free list's own lock
 * queue — free only what can be freed without waiting, requeue the rest */
static void lazy_reclaim(bool wait, bool from_tick)
{
	if (atomic_load_explicit(&sd_deferred_count, memory_order_relaxed) == 0)
		return;
	if (wait)
		mutex_enter(&sd_deferred_lock);
	else if (!mutex_tryenter(&sd_deferred_lock))
		return;
	struct sd_deferred *ready = NULL, **pp = &sd_deferred_head;
	while (*pp != NULL) {
		struct sd_deferred *d = *pp;
		if (wait || deferred_ready(d)) {
			*pp = d->d_next;
			d->d_next = ready;
			ready = d;
		} else
			pp = &d->d_next;
	}
	sd_deferred_tail = pp;
	mutex_exit(&sd_deferred_lock);
	uint64_t now = sd_stat_now();
	while (ready != NULL) {
		struct sd_deferred *d = ready;
		ready = d->d_next;
		if (from_tick && !phys_free_try(d->d_pg)) {
			mutex_enter(&sd_deferred_lock); /* taken only by the reclaim and the free hook: never waited on from a tick */
			d->d_next = NULL;
			*sd_deferred_tail = d;
			sd_deferred_tail = &d->d_next;
			mutex_exit(&sd_deferred_lock);
			continue;
		}
		stats_hist_record(&sd_deferral, now - d->d_t0);
		if (!from_tick)
			phys_free_now(d->d_pg);
		atomic_fetch_sub(&sd_deferred_count, 1);
		free(d);
	}
}

void sd_lazy_reclaim(bool wait)
{
	lazy_reclaim(wait, false);
}

void sd_lazy_reclaim_tick(void)
{
	lazy_reclaim(false, true);
}

/* ---- stale PCIDs ---- */
#define SD_NPCID 65536
static _Atomic uint64_t *sd_stale; /* ncpu × SD_NPCID bits */

int sd_stale_boot(struct machine *m)
{
	sd_stale = mem_zalloc(_Atomic uint64_t, (size_t)m->m_ncpu * (SD_NPCID / 64));
	if (sd_stale == NULL)
		return machine_seterr(ENOMEM, "shootdown.strategy: no memory for per-CPU PCID state");
	return 0;
}

void sd_stale_halt(void)
{
	free(sd_stale);
	sd_stale = NULL;
}

static inline _Atomic uint64_t *stale_word(unsigned c, uint16_t pcid)
{
	return &sd_stale[(size_t)c * (SD_NPCID / 64) + pcid / 64];
}

void sd_stale_mark(unsigned c, uint16_t pcid)
{
	/* seq_cst: the marker reads mc_active after this; the CPU loading the
	 * context sets mc_active, fences, then reads this (a Dekker pair) */
	atomic_fetch_or(stale_word(c, pcid), 1ULL << (pcid % 64));
}

bool sd_stale_isset(unsigned c, uint16_t pcid)
{
	return (atomic_load(stale_word(c, pcid)) >> (pcid % 64)) & 1;
}

void sd_stale_check(struct cpu_info *ci, uint16_t pcid)
{
	if (!sd_stale_isset(ci->ci_cpuid, pcid))
		return;
	/* clear first: a mark that comes after is kept for the next load */
	atomic_fetch_and(stale_word(ci->ci_cpuid, pcid), ~(1ULL << (pcid % 64)));
	tlb_invalidate_pcid(ci, pcid);
}

/* ---- the flat protocol: targets, IPIs, local flush, wait ---- */

unsigned sd_flat_update(struct cpu_info *ci, struct sd_req *r, bool wait, bool global_too, int skip_one)
{
	if (r->r_naddrs == 0)
		return 0;
	kcpuset_t targets;
	unsigned nskipped = 0;
	unsigned n = sd_targets(ci, &r->r_cpus, &targets, &nskipped);
	uint64_t t0 = sd_clock_start(n > 0);
	if (skip_one && n > 0) {
		/* mutant: the highest-numbered target never hears of it */
		unsigned last = 0;
		KCPUSET_FOREACH(&targets, c)
			last = c;
		kcpuset_atomic_clear(&targets, last);
	}
	if (n > 0)
		sd_slot_post(ci, r, global_too ? sd_apply_req : sd_apply_req_noglobal, &targets, t0);
	/* the local flush, concurrent with the remote ones */
	sd_req_apply(ci, r, global_too);
	if (n > 0 && wait)
		sd_slot_wait(ci);
	sd_count_request(r->r_naddrs, r->r_count == SD_ALLVA, n, nskipped, n ? sd_elapsed(t0) : 0);
	return n;
}

void sd_apply_req_noglobal(struct cpu_info *ci, const void *req)
{
	sd_req_apply(ci, req, false);
}

bool sd_slots_cover(vaddr_t va, uint16_t pcid)
{
	for (unsigned c = 0; sd_slots != NULL && c < machine_cur->m_ncpu; c++)
		if (!kcpuset_iszero(&sd_slots[c].s_pending) && sd_slots[c].s_apply == sd_apply_req &&
		    sd_req_covers(sd_slots[c].s_req, va, pcid))
			return true;
	return false;
}

/*
 * The acknowledgement matrix: cell [initiator][target] is written only by
 * the target (single writer: relaxed load and store), read by the driver.
 * Stored by target: each target's row starts a cache line of its own, so
 * two CPUs that acknowledge each other's shootdowns write no common line
 * (with 2 CPUs the four cells used to share one line).
 */
struct sd_ack_cell {
	_Atomic uint64_t ac_sum;
	_Atomic uint64_t ac_count;
};
static struct sd_ack_cell *sd_ack;
static unsigned sd_ack_ncpu, sd_ack_stride; /* cells per target row, a whole number of lines */
STATS_HIST(sd_ack_lat, "shootdown.ack_latency", "ns", "request to acknowledgement, measured by each target")

static inline struct sd_ack_cell *sd_ack_cell(unsigned initiator, unsigned target)
{
	return &sd_ack[(size_t)target * sd_ack_stride + initiator];
}

int sd_common_boot(struct machine *m)
{
	const unsigned per_line = CACHE_LINE / sizeof(struct sd_ack_cell);
	sd_ack_ncpu = m->m_ncpu;
	sd_ack_stride = (m->m_ncpu + per_line - 1) / per_line * per_line;
	/* each target's row starts a line */
	sd_ack = mem_zalloc_bytes(CACHE_LINE, sizeof(*sd_ack) * sd_ack_stride * m->m_ncpu);
	return sd_ack == NULL ? machine_seterr(ENOMEM, "machine.cpus: no memory for the acknowledgement matrix") : 0;
}

void sd_common_halt(void)
{
	free(sd_ack);
	sd_ack = NULL;
	sd_ack_ncpu = 0;
}

void sd_ack_record(unsigned initiator, unsigned target, uint64_t sent_ns)
{
	if (!stats_on)
		return; /* the initiator read no clock (sd_clock_start) */
	uint64_t now = cpu_now_ns(), d = now > sent_ns ? now - sent_ns : 0;
	stats_hist_record(&sd_ack_lat, d);
	if (sd_ack == NULL || initiator >= sd_ack_ncpu || target >= sd_ack_ncpu)
		return;
	struct sd_ack_cell *c = sd_ack_cell(initiator, target);
	atomic_store_explicit(&c->ac_sum, atomic_load_explicit(&c->ac_sum, memory_order_relaxed) + d,
	    memory_order_relaxed);
	atomic_store_explicit(&c->ac_count, atomic_load_explicit(&c->ac_count, memory_order_relaxed) + 1,
	    memory_order_relaxed);
}

/* => no CPU is acknowledging (a quiescent point) */
void shootdown_ack_reset(void)
{
	for (unsigned t = 0; sd_ack != NULL && t < sd_ack_ncpu; t++)
		for (unsigned i = 0; i < sd_ack_ncpu; i++) {
			atomic_store_explicit(&sd_ack_cell(i, t)->ac_sum, 0, memory_order_relaxed);
			atomic_store_explicit(&sd_ack_cell(i, t)->ac_count, 0, memory_order_relaxed);
		}
}

bool shootdown_ack_get(unsigned initiator, unsigned target, uint64_t *sum_ns, uint64_t *count)
{
	if (sd_ack == NULL || initiator >= sd_ack_ncpu || target >= sd_ack_ncpu)
		return false;
	struct sd_ack_cell *c = sd_ack_cell(initiator, target);
	*sum_ns = atomic_load_explicit(&c->ac_sum, memory_order_relaxed);
	*count = atomic_load_explicit(&c->ac_count, memory_order_relaxed);
	return true;
}
