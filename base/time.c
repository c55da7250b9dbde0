/* time — clock_gettime wrappers. */
#define _POSIX_C_SOURCE 200809L
#include "base/time.h"

#include <time.h>

uint64_t time_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t time_ms_between(uint64_t start_ns, uint64_t end_ns)
{
	return end_ns > start_ns ? (int64_t)((end_ns - start_ns) / 1000000u) : 0;
}
