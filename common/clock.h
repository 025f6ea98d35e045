/* clock.h: the clocks the agent and collector read. */
#ifndef AM_COMMON_CLOCK_H
#define AM_COMMON_CLOCK_H

#include <stdint.h>

/* Wall-clock milliseconds since the epoch (CLOCK_REALTIME): for stamps. */
int64_t clock_wall_ms(void);

/* Monotonic milliseconds / nanoseconds: for intervals; never jumps back. */
uint64_t clock_mono_ms(void);
uint64_t clock_mono_ns(void);

#endif
