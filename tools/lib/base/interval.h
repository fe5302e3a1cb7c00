/* interval.h - 95% confidence intervals of proportions: Wilson's score
 * interval of one (mlde-weak's per-type accuracy, mlde-prompt's correctness
 * per prompt version), and Newcombe's for the difference of two
 * independent ones (his method 10, the hybrid score interval built from
 * the two Wilson intervals). */
#ifndef MLDE_INTERVAL_H
#define MLDE_INTERVAL_H

/* The 0.975 quantile of N(0,1). */
#define MLDE_Z95 1.959963984540054

/* 95% Wilson score interval of c successes in n trials; [0, 1] at n = 0. */
void mlde_wilson(unsigned long c, unsigned long n, double *lo, double *hi);
/* 95% interval of p1 - p2, p1 = c1/n1 and p2 = c2/n2 independent
 * (Newcombe 1998, method 10); [-1, 1] when either n is 0. */
void mlde_newcombe(unsigned long c1, unsigned long n1, unsigned long c2, unsigned long n2,
		   double *lo, double *hi);

#endif
