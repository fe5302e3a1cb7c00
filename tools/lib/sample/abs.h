/* abs.h - the arithmetic of Adaptive Bad-case Sampling: a budget split into
 * per-type quotas by largest remainder, the share each strategy gives a
 * type, a seeded order of a type's examples, and the choice of each
 * request's query image among the pool images the type has not used yet. */
#ifndef MLDE_ABS_H
#define MLDE_ABS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"

/* Split budget by share (any numbers >= 0) into n integers adding up to
 * exactly budget: the floors of the exact shares first, then one more to
 * the largest remainders; equal remainders go to the larger share, then
 * to the lower index.  When every share is 0, split evenly. */
void mlde_abs_quotas(const double *share, size_t n, long budget, long *quota);

enum mlde_abs_strategy {
	MLDE_ABS_WEIGHTED,      /* weight^(1/temperature): ABS itself */
	MLDE_ABS_UNIFORM,       /* the same for every type */
	MLDE_ABS_PROPORTIONAL,  /* the number of bad cases */
};

/* The share of one type under a strategy, for mlde_abs_quotas. */
double mlde_abs_share(enum mlde_abs_strategy s, double weight, size_t nbad,
		      double temperature);

/* A seeded order of a type's n examples (a permutation of 0..n-1), from
 * a stream of its own named by the type, so adding a type does not change
 * the others.  Request j takes slots j*k .. j*k+k-1 of it (see
 * mlde_abs_example_at), so requests cycle through every example before
 * any repeats. */
void mlde_abs_example_order(uint64_t seed, const char *type, size_t *order, size_t n);
/* The example at slot s of request j, k examples per request; n > 0. */
size_t mlde_abs_example_at(const size_t *order, size_t n, long j, long k, long s);

/* The stream a type's query images are drawn from. */
void mlde_abs_query_rng(mlde_rng *r, uint64_t seed, const char *type);

/* Which pool images a type has used in the current pass over the pool:
 * once it has used them all, reuse begins with a fresh pass. */
typedef struct mlde_abs_usage {
	unsigned char *used;    /* used[i]: image i, this pass */
	size_t pool_n, nused;   /* nused < pool_n between calls */
	unsigned long passes;   /* times the whole pool was used up */
} mlde_abs_usage;

/* For a pool of pool_n > 0 images; nothing used yet. */
void mlde_abs_usage_init(mlde_abs_usage *u, size_t pool_n);
/* Nothing used, no passes: ready for the next type. */
void mlde_abs_usage_reset(mlde_abs_usage *u);
void mlde_abs_usage_mark(mlde_abs_usage *u, size_t image);
void mlde_abs_usage_free(mlde_abs_usage *u);

/* An unused image drawn uniformly (one draw of rng). */
size_t mlde_abs_random_unused(const mlde_abs_usage *u, mlde_rng *rng);
/* Of the candidates idx[0..k) (pool images, most similar first), one of
 * the first topk unused at random (one draw of rng): its position in idx,
 * or -1 without a draw when every candidate is used.  No limit on k or
 * topk. */
long mlde_abs_similar_unused(const mlde_abs_usage *u, const uint32_t *idx, size_t k,
			     size_t topk, mlde_rng *rng);

/* The nearest pool images of many queries (the bad cases that lead
 * requests), by cosine similarity, in one blocked search. */
typedef struct mlde_abs_neighbours {
	size_t k;        /* candidates kept per query: 4 topk + 16, at most the pool */
	uint32_t *idx;   /* row q: idx[q*k .. q*k+k), most similar first */
	float *score;
} mlde_abs_neighbours;

/* Normalise the rows of queries (nq x d) and pool (pool_n x d) in place
 * and search; more than topk candidates are kept, so that used images can
 * be passed over.  nq may be 0.  On up to threads threads, with the same
 * result however many (mlde_knn_search). */
void mlde_abs_neighbours_search(mlde_abs_neighbours *nb, float *queries, size_t nq,
				float *pool, size_t pool_n, size_t d, size_t topk, int threads);
void mlde_abs_neighbours_free(mlde_abs_neighbours *nb);

/* The query image of a request whose lead example is query row `row` of
 * nb (nb NULL: no similarity, a random image): one of the first topk
 * unused candidates at random, *sim its similarity, *similar true; or, when
 * all of them are used (or nb is NULL), a random unused image, *similar
 * false.  One draw of rng either way. */
size_t mlde_abs_query_image(const mlde_abs_usage *u, const mlde_abs_neighbours *nb, size_t row,
			    size_t topk, mlde_rng *rng, float *sim, bool *similar);

#endif
