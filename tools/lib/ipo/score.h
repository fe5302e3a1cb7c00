/* score.h - correctness of prompt versions from review records, with the
 * intervals of base/interval.h: Newcombe's for the difference of two
 * versions says whether version N+1 is more often correct than version N
 * by more than noise.  Nothing here prints. */
#ifndef MLDE_IPO_SCORE_H
#define MLDE_IPO_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <jv.h>

#include "base/err.h"
#include "base/interval.h"  /* mlde_wilson, mlde_newcombe */

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
