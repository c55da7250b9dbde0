/* time — monotonic and wall clocks in the units tarmac reports. */
#ifndef TARMAC_BASE_TIME_H
#define TARMAC_BASE_TIME_H

#include <stdint.h>

/* Monotonic nanoseconds, for durations (never goes backwards). */
uint64_t time_mono_ns(void);
/* Milliseconds between two time_mono_ns() readings, floored as Flyway does. */
int64_t time_ms_between(uint64_t start_ns, uint64_t end_ns);

#endif
