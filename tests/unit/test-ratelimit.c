/* test-ratelimit.c - the rpm and tpm limiter against a clock the test
 * moves: a burst of one second's worth, then the refill rate; both limits
 * at once; a request larger than the bucket; no limit at all; time that
 * stands still or runs backwards. */
#include <math.h>
#include <stdio.h>

#include "gen/ratelimit.h"
#include "tap.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

/* Send n requests of tokens each as soon as the limiter lets them, moving
 * the clock t only by the waits it asks for; the time of the last. */
static double send_all(mlde_ratelimit *rl, int n, double tokens, double t)
{
	for (int i = 0; i < n; i++) {
		double w = mlde_ratelimit_wait(rl, tokens, t);

		t += w;
		if (mlde_ratelimit_wait(rl, tokens, t) > 1e-9)
			return -1.0;  /* the wait it asked for was not enough */
		mlde_ratelimit_take(rl, tokens, t);
	}
	return t;
}

int main(void)
{
	mlde_ratelimit rl;
	double t;
	int burst;

	/* no limit: everything goes at once */
	mlde_ratelimit_init(&rl, 0, 0, 100.0);
	TAP_OK(!mlde_ratelimit_active(&rl), "rpm 0, tpm 0: no limit");
	TAP_OK(NEAR(send_all(&rl, 1000, 1e6, 100.0), 100.0), "no limit: 1000 requests, no wait");

	/* --rpm 240: 4 a second, a burst of 4 */
	mlde_ratelimit_init(&rl, 240, 0, 10.0);
	TAP_OK(mlde_ratelimit_active(&rl), "rpm 240: a limit");
	for (burst = 0; mlde_ratelimit_wait(&rl, 1, 10.0) == 0.0 && burst < 100; burst++)
		mlde_ratelimit_take(&rl, 1, 10.0);
	TAP_IS_INT(burst, 4, "rpm 240: a burst of 4 at the start");
	TAP_OK(NEAR(mlde_ratelimit_wait(&rl, 1, 10.0), 0.25), "... then the 5th waits 0.25 s");
	TAP_OK(NEAR(mlde_ratelimit_wait(&rl, 1, 10.1), 0.15), "... less as the clock moves");
	TAP_OK(mlde_ratelimit_wait(&rl, 1, 10.25) == 0.0, "... and goes at 0.25 s");
	mlde_ratelimit_init(&rl, 240, 0, 0.0);
	TAP_OK(NEAR(send_all(&rl, 8, 1, 0.0), 1.0), "rpm 240: 8 requests take 1 s (4 at once, then 4 a second)");
	mlde_ratelimit_init(&rl, 240, 0, 0.0);
	t = send_all(&rl, 4, 1, 0.0);
	TAP_OK(NEAR(mlde_ratelimit_wait(&rl, 1, 60.0), 0.0), "a long pause refills the bucket");
	t = send_all(&rl, 5, 1, 60.0);
	TAP_OK(NEAR(t, 60.25), "... to one second's worth, no more: 5 requests take 0.25 s");

	/* a slow rate: the bucket holds one request */
	mlde_ratelimit_init(&rl, 30, 0, 0.0);
	TAP_OK(NEAR(send_all(&rl, 3, 1, 0.0), 4.0), "rpm 30: one at once, then one every 2 s");

	/* --tpm 6000: 100 tokens a second, a bucket of 100 */
	mlde_ratelimit_init(&rl, 0, 6000, 0.0);
	TAP_OK(NEAR(send_all(&rl, 4, 25, 0.0), 0.0), "tpm 6000: 4 requests of 25 tokens at once");
	TAP_OK(NEAR(mlde_ratelimit_wait(&rl, 50, 0.0), 0.5), "... then 50 tokens wait 0.5 s");
	mlde_ratelimit_init(&rl, 0, 6000, 0.0);
	TAP_OK(NEAR(send_all(&rl, 10, 50, 0.0), 4.0), "tpm 6000: 10 requests of 50 tokens take 4 s");

	/* a request larger than the bucket goes when the bucket is full */
	mlde_ratelimit_init(&rl, 0, 6000, 0.0);
	TAP_OK(mlde_ratelimit_wait(&rl, 1000, 0.0) == 0.0, "1000 tokens, a bucket of 100: goes when full");
	mlde_ratelimit_take(&rl, 1000, 0.0);
	TAP_OK(NEAR(mlde_ratelimit_wait(&rl, 1000, 0.0), 1.0), "... the next waits for a full bucket again (1 s)");
	TAP_OK(NEAR(mlde_ratelimit_wait(&rl, 10, 0.0), 0.1), "... and it took the whole bucket, no more");

	/* both at once: whichever binds */
	mlde_ratelimit_init(&rl, 240, 6000, 0.0);
	TAP_OK(NEAR(send_all(&rl, 8, 10, 0.0), 1.0), "rpm 240 + tpm 6000, 10 tokens each: rpm binds, 8 take 1 s");
	mlde_ratelimit_init(&rl, 240, 6000, 0.0);
	TAP_OK(NEAR(send_all(&rl, 4, 50, 0.0), 1.0), "rpm 240 + tpm 6000, 50 tokens each: tpm binds, 4 take 1 s");
	mlde_ratelimit_init(&rl, 240, 6000, 0.0);
	mlde_ratelimit_take(&rl, 100, 0.0);
	TAP_OK(NEAR(mlde_ratelimit_wait(&rl, 100, 0.0), 1.0), "the wait is the longer of the two (tpm 1 s, rpm 0)");
	mlde_ratelimit_take(&rl, 0, 0.0);
	mlde_ratelimit_take(&rl, 0, 0.0);
	mlde_ratelimit_take(&rl, 0, 0.0);
	TAP_OK(NEAR(mlde_ratelimit_wait(&rl, 0, 0.0), 0.25), "... free requests still count against rpm");

	/* a clock that stands still or steps back never adds tokens */
	mlde_ratelimit_init(&rl, 60, 0, 5.0);
	mlde_ratelimit_take(&rl, 1, 5.0);
	TAP_OK(NEAR(mlde_ratelimit_wait(&rl, 1, 4.0), 1.0), "a clock stepping back: no refill");
	TAP_OK(NEAR(mlde_ratelimit_wait(&rl, 1, 4.5), 0.5), "... and the refill starts from there");
	return TAP_DONE();
}
