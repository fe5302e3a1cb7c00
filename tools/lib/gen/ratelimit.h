/* ratelimit.h - the requests-per-minute and tokens-per-minute limits of the
 * HTTP client as two token buckets, against a clock the caller passes in,
 * so the arithmetic can be tested with a fake one.  Nothing here prints. */
#ifndef MLDE_RATELIMIT_H
#define MLDE_RATELIMIT_H

#include <stdbool.h>

/* A bucket holds one second's worth of its rate (at least 1) and starts
 * full; rate 0 is no limit. */
typedef struct mlde_bucket {
	double rate, cap, level, last;  /* per second; level at time last */
} mlde_bucket;

typedef struct mlde_ratelimit {
	mlde_bucket rpm, tpm;
} mlde_ratelimit;

/* Limits per minute (0: none), the clock at now (seconds). */
void mlde_ratelimit_init(mlde_ratelimit *rl, double rpm, double tpm, double now);
/* May one request of tokens go at time now?  0: yes; else the seconds
 * until it may.  A request costing more than the token bucket holds goes
 * when the bucket is full.  Nothing is taken. */
double mlde_ratelimit_wait(mlde_ratelimit *rl, double tokens, double now);
/* Send it: take one request and tokens (after a wait of 0). */
void mlde_ratelimit_take(mlde_ratelimit *rl, double tokens, double now);
/* Is any limit set? */
bool mlde_ratelimit_active(const mlde_ratelimit *rl);

#endif
