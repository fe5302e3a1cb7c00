/* ratelimit.c - token buckets: each refills at its rate up to its capacity
 * as the clock moves; a request takes one from the request bucket and its
 * estimated tokens from the token bucket. */
#include "gen/ratelimit.h"

static void bucket_init(mlde_bucket *b, double per_minute, double now)
{
	b->rate = per_minute / 60.0;
	b->cap = b->rate > 1.0 ? b->rate : 1.0;  /* one second's worth, at least one */
	b->level = b->cap;
	b->last = now;
}

static void bucket_fill(mlde_bucket *b, double now)
{
	if (now > b->last) {
		b->level += (now - b->last) * b->rate;
		if (b->level > b->cap)
			b->level = b->cap;
	}
	b->last = now;
}

/* Seconds until n can be taken (0: now). */
static double bucket_wait(mlde_bucket *b, double n, double now)
{
	if (b->rate <= 0.0)
		return 0.0;
	bucket_fill(b, now);
	if (n > b->cap)
		n = b->cap;
	return b->level >= n ? 0.0 : (n - b->level) / b->rate;
}

static void bucket_take(mlde_bucket *b, double n, double now)
{
	if (b->rate <= 0.0)
		return;
	bucket_fill(b, now);
	b->level -= n > b->cap ? b->cap : n;
}

void mlde_ratelimit_init(mlde_ratelimit *rl, double rpm, double tpm, double now)
{
	bucket_init(&rl->rpm, rpm, now);
	bucket_init(&rl->tpm, tpm, now);
}

double mlde_ratelimit_wait(mlde_ratelimit *rl, double tokens, double now)
{
	double r = bucket_wait(&rl->rpm, 1.0, now), t = bucket_wait(&rl->tpm, tokens, now);

	return r > t ? r : t;
}

void mlde_ratelimit_take(mlde_ratelimit *rl, double tokens, double now)
{
	bucket_take(&rl->rpm, 1.0, now);
	bucket_take(&rl->tpm, tokens, now);
}

bool mlde_ratelimit_active(const mlde_ratelimit *rl)
{
	return rl->rpm.rate > 0.0 || rl->tpm.rate > 0.0;
}
