/*
 * pingpong.c — the cache-line ping-pong (pingpong.h).  Each side's
 * release store is what the other's acquire load waits for; on an
 * oversubscribed host a side that spins long yields, so the other runs.
 */
#include "trials/pingpong.h"

#include <pmapstorm/machine.h>

#include <sched.h>

unsigned pingpong_lead(_Atomic uint64_t *ball, unsigned batches, uint64_t *samples)
{
	for (unsigned b = 0; b < batches; b++) {
		uint64_t t0 = cpu_now_ns();
		for (unsigned i = 0; i < PINGPONG_BATCH; i++) {
			uint64_t x = ((uint64_t)b * PINGPONG_BATCH + i) * 2 + 1;
			/* release/acquire: each side's store is what the other waits for */
			atomic_store_explicit(ball, x, memory_order_release);
			unsigned spins = 0;
			while (atomic_load_explicit(ball, memory_order_acquire) != x + 1)
				if (cpu_virtual())
					cpu_spin_wait(&spins); /* one CPU runs at a time: the other side must get a turn */
				else if (++spins > 100000)
					sched_yield(); /* oversubscribed host: let the other side run */
		}
		samples[b] = (cpu_now_ns() - t0) / PINGPONG_BATCH;
	}
	return batches;
}

void pingpong_follow(_Atomic uint64_t *ball, unsigned batches)
{
	for (uint64_t n = 0; n < (uint64_t)batches * PINGPONG_BATCH; n++) {
		uint64_t want = n * 2 + 1;
		unsigned spins = 0;
		while (atomic_load_explicit(ball, memory_order_acquire) != want)
			if (cpu_virtual())
				cpu_spin_wait(&spins);
			else if (++spins > 100000)
				sched_yield();
		atomic_store_explicit(ball, want + 1, memory_order_release);
	}
}
