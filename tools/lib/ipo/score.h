/* score.h - correctness of prompt versions from review records: the 95%
 * Wilson interval of a proportion, and Newcombe's interval for the
 * difference of two independent proportions (his method 10, the hybrid
 * score interval built from the two Wilson intervals), which says whether
 * version N+1 is more often correct than version N by more than noise.
 * Nothing here prints. */
#ifndef MLDE_IPO_SCORE_H
#define MLDE_IPO_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <jv.h>

#include "base/err.h"

/* The 0.975 quantile of N(0,1). */
#define MLDE_Z95 1.959963984540054

/* 95% Wilson score interval of c successes in n trials; [0, 1] at n = 0. */
void mlde_wilson(unsigned long c, unsigned long n, double *lo, double *hi);
/* 95% interval of p1 - p2, p1 = c1/n1 and p2 = c2/n2 independent
 * (Newcombe 1998, method 10); [-1, 1] when either n is 0. */
void mlde_newcombe(unsigned long c1, unsigned long n1, unsigned long c2, unsigned long n2,
		   double *lo, double *hi);

/* The count of one prompt version (and one type, or "all"). */
typedef struct mlde_score {
	char *version;           /* the prompt version; "(none)" for items without one */
	char *type;              /* the question type, or "all" */
	unsigned long n;         /* judged: correct + wrong */
	unsigned long correct, wrong, skipped;
	double acc, lo, hi;      /* acc NAN when n is 0 */
} mlde_score;

typedef struct mlde_scores {
	mlde_score *v;           /* sorted by version (mlde_version_cmp), "all"
				  * first, then the types by name */
	size_t n;
} mlde_scores;

/* Count review records (an array of checked records, borrowed): for each
 * item, the last record of each reviewer (reviewer NULL: of anyone; else
 * only that reviewer's) counts once.  Intervals computed. */
void mlde_scores_count(mlde_scores *s, jv recs, const char *reviewer);
/* The score of version and type, or NULL. */
const mlde_score *mlde_scores_find(const mlde_scores *s, const char *version, const char *type);
void mlde_scores_free(mlde_scores *s);

#endif
