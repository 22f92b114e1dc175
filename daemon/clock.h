/*
 * clock.h: the coarse monotonic clock in milliseconds, for deadlines that
 * are checked lazily (read and response timeouts of seconds).
 *
 * CLOCK_MONOTONIC_COARSE is read from the vDSO without a system call; its
 * resolution (a scheduler tick, a few ms) is plenty for such deadlines.
 */
#ifndef GH_CLOCK_H
#define GH_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
clock_coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
