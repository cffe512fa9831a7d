/*
 * mono.c -- the monotonic clock.  Timeouts, RTTs, cache ages and latency
 * histograms must not jump when the wall clock is set.
 */
#include "config.h"

#include <time.h>

#include "mono.h"

uint64_t
mono_us(void)
{
	struct timespec	 ts;

	/* Cannot fail with a valid clock id and pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

uint64_t
mono_ms(void)
{
	return (mono_us() / 1000);
}
