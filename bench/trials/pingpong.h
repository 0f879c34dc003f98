/*
 * pingpong.h — the cache-line ping-pong of core-to-core-latency
 * (nviennot/core-to-core-latency): one line bounced between two threads,
 * the hardware floor of any cross-CPU request/acknowledge protocol
 * (microbench and calibrate measure against it).
 */
#ifndef PMAPSTORM_TRIALS_PINGPONG_H
#define PMAPSTORM_TRIALS_PINGPONG_H

#include <stdatomic.h>
#include <stdint.h>

#define PINGPONG_BATCH 100

/* The leader bounces the ball with the follower, batches x PINGPONG_BATCH
 * round trips, and writes each batch's mean round trip (ns) into samples;
 * returns batches.  The follower runs pingpong_follow() with the same
 * batches on another thread. */
unsigned pingpong_lead(_Atomic uint64_t *ball, unsigned batches, uint64_t *samples);
void pingpong_follow(_Atomic uint64_t *ball, unsigned batches);

#endif
