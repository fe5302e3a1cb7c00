/* clock.h - the one clock of mlde's timings: seconds on the monotonic
 * clock, for rates, ETAs, rate limits and backoff (never for dates). */
#ifndef MLDE_CLOCK_H
#define MLDE_CLOCK_H

/* Seconds on a monotonic clock, from an unspecified start. */
double mlde_now(void);

#endif
