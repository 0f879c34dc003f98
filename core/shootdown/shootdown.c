/*
 * shootdown.c — the strategy registry and the counters every strategy shares.
 *
 * Adding a strategy: one file in core/shootdown/ defining a
 * struct shootdown_strategy, and one line in the table below.
 */
#include "shootdown_impl.h"

#include <string.h>

extern const struct shootdown_strategy shootdown_netbsd_x86;

const struct shootdown_strategy *const shootdown_strategies[] = {
	&shootdown_netbsd_x86,
	NULL,
};

const struct shootdown_strategy *shootdown_current;

STATS_COUNTER(sd_requests, "shootdown.requests", "pmap_update()s that had invalidations to complete")
STATS_COUNTER(sd_remote, "shootdown.remote_requests", "requests that needed other CPUs")
STATS_COUNTER(sd_whole, "shootdown.whole_flushes", "requests that flushed a whole PCID or TLB instead of pages")
STATS_COUNTER(sd_unaccessed, "shootdown.skipped_unaccessed", "invalidations skipped: the PTE was never accessed")
STATS_COUNTER(sd_skipped_targets, "shootdown.skipped_targets", "CPUs not interrupted (lazy, untracked, detached)")
STATS_HIST(sd_addrs, "shootdown.addrs", "pages", "addresses per request")
STATS_HIST(sd_targets, "shootdown.targets", "cpus", "remote CPUs per request")
STATS_HIST(sd_latency, "shootdown.latency", "ns", "pmap_update() time of requests that interrupted other CPUs")

const struct shootdown_strategy *shootdown_find(const char *name)
{
	for (unsigned i = 0; shootdown_strategies[i] != NULL; i++)
		if (strcmp(shootdown_strategies[i]->sd_name, name) == 0)
			return shootdown_strategies[i];
	return NULL;
}

bool shootdown_check_name(const char *name, char *why, size_t len)
{
	if (shootdown_find(name) != NULL)
		return true;
	size_t n = (size_t)snprintf(why, len, "unknown strategy '%s'; valid: ", name);
	for (unsigned i = 0; shootdown_strategies[i] != NULL && n < len; i++)
		n += (size_t)snprintf(why + n, len - n, "%s%s", i ? ", " : "", shootdown_strategies[i]->sd_name);
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
		stats_hist_record(&sd_targets, ntargets);
		stats_hist_record(&sd_latency, ns);
	}
}

void sd_count_unaccessed(void)
{
	stats_inc(&sd_unaccessed);
}
