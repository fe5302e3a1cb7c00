/* interval.c - Wilson and Newcombe intervals (interval.h). */
#include "base/interval.h"

#include <math.h>

void mlde_wilson(unsigned long c, unsigned long n, double *lo, double *hi)
{
	const double z = MLDE_Z95;
	double p, z2n, denom, center, half;

	if (n == 0) {
		*lo = 0.0;
		*hi = 1.0;
		return;
	}
	p = (double)c / (double)n;
	z2n = z * z / (double)n;
	denom = 1.0 + z2n;
	center = (p + z2n / 2.0) / denom;
	half = z * sqrt(p * (1.0 - p) / (double)n + z2n / (4.0 * (double)n)) / denom;
	/* at p = 0 or 1 the bound is exactly 0 or 1; do not let rounding move it */
	*lo = c == 0 ? 0.0 : fmax(0.0, center - half);
	*hi = c == n ? 1.0 : fmin(1.0, center + half);
}

void mlde_newcombe(unsigned long c1, unsigned long n1, unsigned long c2, unsigned long n2,
		   double *lo, double *hi)
{
	double p1, p2, l1, u1, l2, u2;

	if (n1 == 0 || n2 == 0) {
		*lo = -1.0;
		*hi = 1.0;
		return;
	}
	p1 = (double)c1 / (double)n1;
	p2 = (double)c2 / (double)n2;
	mlde_wilson(c1, n1, &l1, &u1);
	mlde_wilson(c2, n2, &l2, &u2);
	*lo = p1 - p2 - sqrt((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2));
	*hi = p1 - p2 + sqrt((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2));
}
