/* abs.c - Adaptive Bad-case Sampling's arithmetic (see abs.h): quotas by
 * largest remainder, shares by strategy, seeded example orders and the
 * choice of unused pool images.  mlde-sample and mlde-world use it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "sample/abs.h"
#include "sample/knn.h"

typedef struct share_left {
	double frac, share;
	size_t i;
} share_left;

static int by_remainder(const void *a, const void *b)
{
	const share_left *x = a, *y = b;

	if (x->frac != y->frac)
		return x->frac > y->frac ? -1 : 1;
	if (x->share != y->share)
		return x->share > y->share ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

void mlde_abs_quotas(const double *share, size_t n, long budget, long *quota)
{
	share_left *rem;
	double total = 0.0;
	long given = 0;

	if (n == 0)
		return;
	rem = mlde_xmalloc(n * sizeof *rem);
	for (size_t i = 0; i < n; i++)
		total += share[i];
	for (size_t i = 0; i < n; i++) {
		/* all shares zero: nothing to prefer, so split evenly */
		double exact = total > 0.0 ? (double)budget * share[i] / total
					   : (double)budget / (double)n;

		quota[i] = (long)floor(exact);
		given += quota[i];
		rem[i] = (share_left){ exact - floor(exact), share[i], i };
	}
	qsort(rem, n, sizeof *rem, by_remainder);
	/* the remainders add up to what is left, each below 1, so one pass
	 * suffices; the wrap only guards against rounding */
	for (size_t j = 0; given < budget; j = (j + 1) % n, given++)
		quota[rem[j].i]++;
	free(rem);
}

double mlde_abs_share(enum mlde_abs_strategy s, double weight, size_t nbad,
		      double temperature)
{
	switch (s) {
	case MLDE_ABS_WEIGHTED:
		return pow(weight, 1.0 / temperature);
	case MLDE_ABS_UNIFORM:
		return 1.0;
	case MLDE_ABS_PROPORTIONAL:
		return (double)nbad;
	}
	return 0.0;
}

void mlde_abs_example_order(uint64_t seed, const char *type, size_t *order, size_t n)
{
	mlde_rng rng;

	for (size_t k = 0; k < n; k++)
		order[k] = k;
	mlde_rng_seed2(&rng, seed, mlde_fnv1a_str(type) ^ 0x6578616d706c6573ULL);
	mlde_rng_shuffle(&rng, order, n, sizeof *order);
}

size_t mlde_abs_example_at(const size_t *order, size_t n, long j, long k, long s)
{
	return order[((size_t)j * (size_t)k + (size_t)s) % n];
}

void mlde_abs_query_rng(mlde_rng *r, uint64_t seed, const char *type)
{
	mlde_rng_seed2(r, seed, mlde_fnv1a_str(type) ^ 0x717565727949ULL);
}

void mlde_abs_usage_init(mlde_abs_usage *u, size_t pool_n)
{
	u->used = mlde_xmalloc(pool_n ? pool_n : 1);
	u->pool_n = pool_n;
	mlde_abs_usage_reset(u);
}

void mlde_abs_usage_reset(mlde_abs_usage *u)
{
	memset(u->used, 0, u->pool_n);
	u->nused = 0;
	u->passes = 0;
}

void mlde_abs_usage_mark(mlde_abs_usage *u, size_t image)
{
	if (u->used[image])
		return;
	u->used[image] = 1;
	if (++u->nused == u->pool_n) {
		/* the type has used the pool up: reuse begins */
		memset(u->used, 0, u->pool_n);
		u->nused = 0;
		u->passes++;
	}
}

void mlde_abs_usage_free(mlde_abs_usage *u)
{
	free(u->used);
	u->used = NULL;
}

size_t mlde_abs_random_unused(const mlde_abs_usage *u, mlde_rng *rng)
{
	/* the pick-th unused image, counted from the start */
	size_t pick = (size_t)mlde_rng_below(rng, u->pool_n - u->nused);

	for (size_t i = 0; i < u->pool_n; i++)
		if (!u->used[i] && pick-- == 0)
			return i;
	return 0; /* not reached: nused < pool_n */
}

long mlde_abs_similar_unused(const mlde_abs_usage *u, const uint32_t *idx, size_t k,
			     size_t topk, mlde_rng *rng)
{
	size_t ncand = 0, pick;

	/* count the candidates, then walk to the chosen one: no array, so no
	 * limit on topk */
	for (size_t i = 0; i < k && ncand < topk; i++)
		ncand += !u->used[idx[i]];
	if (!ncand)
		return -1;
	pick = (size_t)mlde_rng_below(rng, ncand);
	for (size_t i = 0; i < k; i++)
		if (!u->used[idx[i]] && pick-- == 0)
			return (long)i;
	return -1; /* not reached: pick < ncand */
}

void mlde_abs_neighbours_search(mlde_abs_neighbours *nb, float *queries, size_t nq,
				float *pool, size_t pool_n, size_t d, size_t topk, int threads)
{
	nb->k = topk * 4 + 16;
	if (nb->k > pool_n)
		nb->k = pool_n;
	nb->idx = NULL;
	nb->score = NULL;
	if (nq == 0)
		return;
	mlde_knn_normalize(queries, nq, d);
	mlde_knn_normalize(pool, pool_n, d);  /* cosine: unit rows on both sides */
	nb->idx = mlde_xmalloc(nq * nb->k * sizeof *nb->idx);
	nb->score = mlde_xmalloc(nq * nb->k * sizeof *nb->score);
	mlde_knn_search(queries, nq, pool, pool_n, d, nb->k, threads, nb->idx, nb->score);
}

void mlde_abs_neighbours_free(mlde_abs_neighbours *nb)
{
	free(nb->idx);
	free(nb->score);
	nb->idx = NULL;
	nb->score = NULL;
}

size_t mlde_abs_query_image(const mlde_abs_usage *u, const mlde_abs_neighbours *nb, size_t row,
			    size_t topk, mlde_rng *rng, float *sim, bool *similar)
{
	long pick = -1;

	if (nb)
		pick = mlde_abs_similar_unused(u, nb->idx + row * nb->k, nb->k, topk, rng);
	*similar = pick >= 0;
	if (pick < 0)
		return mlde_abs_random_unused(u, rng);
	*sim = nb->score[row * nb->k + (size_t)pick];
	return nb->idx[row * nb->k + (size_t)pick];
}
