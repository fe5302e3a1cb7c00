/* clock.c - mlde_now on CLOCK_MONOTONIC: wall-clock changes (NTP, a
 * user setting the date) never make a duration negative. */
#include <time.h>

#include "base/clock.h"

double mlde_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
