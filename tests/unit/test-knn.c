/* test-knn.c - the blocked top-k search against brute force, across block
 * edges, with ties, and with normalisation. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sample/knn.h"
#include "base/rng.h"
#include "tap.h"

/* Brute force: is (s, i) among the k best of row q? Count the better ones. */
static size_t rank_of(const float *q, const float *base, size_t nb, size_t d, size_t i)
{
	float si = 0.0f;
	size_t better = 0;

	for (size_t j = 0; j < d; j++)
		si += q[j] * base[i * d + j];
	for (size_t b = 0; b < nb; b++) {
		float s = 0.0f;
		for (size_t j = 0; j < d; j++)
			s += q[j] * base[b * d + j];
		if (s > si + 1e-5f)
			better++;
	}
	return better;
}

static void fill(float *v, size_t n, mlde_rng *rng)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (float)mlde_rng_normal(rng);
}

static void test_against_brute_force(size_t nq, size_t nb, size_t d, size_t k)
{
	mlde_rng rng;
	float *q = malloc(nq * d * sizeof *q), *b = malloc(nb * d * sizeof *b);
	float *score = malloc(nq * k * sizeof *score);
	uint32_t *idx = malloc(nq * k * sizeof *idx);
	size_t misplaced = 0, unsorted = 0;

	mlde_rng_seed(&rng, nq * 31 + nb);
	fill(q, nq * d, &rng);
	fill(b, nb * d, &rng);
	mlde_knn_search(q, nq, b, nb, d, k, 2, idx, score);
	for (size_t i = 0; i < nq; i++) {
		for (size_t r = 0; r < k; r++) {
			/* the r-th result has at most r better candidates */
			if (rank_of(q + i * d, b, nb, d, idx[i * k + r]) > r)
				misplaced++;
			if (r && score[i * k + r] > score[i * k + r - 1])
				unsorted++;
		}
	}
	TAP_IS_INT(misplaced, 0, "%zu queries x %zu base x %zu dims, k=%zu: the true top k", nq,
		   nb, d, k);
	TAP_IS_INT(unsorted, 0, "  best first");
	free(q);
	free(b);
	free(score);
	free(idx);
}

static void test_ties(void)
{
	/* every base row the same: ties go to the lowest indices, in order */
	float q[2] = { 1, 0 }, b[20];
	uint32_t idx[4];
	float score[4];

	for (int i = 0; i < 10; i++) {
		b[2 * i] = 1;
		b[2 * i + 1] = 0;
	}
	mlde_knn_search(q, 1, b, 10, 2, 4, 1, idx, score);
	TAP_OK(idx[0] == 0 && idx[1] == 1 && idx[2] == 2 && idx[3] == 3,
	       "equal scores: the lowest indices, in order (%u %u %u %u)", idx[0], idx[1], idx[2],
	       idx[3]);
}

/* The same bits on 1, 3 and 8 threads, and for a query searched among
 * 700 or among its first 37 (other blocks of queries): each query's
 * products have one order, whatever the blocks and the threads. */
static void test_same_bits(void)
{
	size_t nq = 700, nb = 5000, d = 24, k = 10;
	mlde_rng rng;
	float *q = malloc(nq * d * sizeof *q), *b = malloc(nb * d * sizeof *b);
	float *s1 = malloc(nq * k * sizeof *s1), *s2 = malloc(nq * k * sizeof *s2);
	uint32_t *i1 = malloc(nq * k * sizeof *i1), *i2 = malloc(nq * k * sizeof *i2);
	bool same = true;

	mlde_rng_seed(&rng, 99);
	fill(q, nq * d, &rng);
	fill(b, nb * d, &rng);
	mlde_knn_search(q, nq, b, nb, d, k, 1, i1, s1);
	for (int threads = 3; threads <= 8; threads += 5) {
		mlde_knn_search(q, nq, b, nb, d, k, threads, i2, s2);
		same = same && memcmp(i1, i2, nq * k * sizeof *i1) == 0 &&
		       memcmp(s1, s2, nq * k * sizeof *s1) == 0;
	}
	TAP_OK(same, "1, 3 and 8 threads: the same neighbours and the same score bits");
	mlde_knn_search(q, 37, b, nb, d, k, 2, i2, s2);
	TAP_OK(memcmp(i1, i2, 37 * k * sizeof *i1) == 0 && memcmp(s1, s2, 37 * k * sizeof *s1) == 0,
	       "the first 37 queries alone: the same bits as among 700");
	free(q); free(b); free(s1); free(s2); free(i1); free(i2);
}

static void test_normalize(void)
{
	float v[6] = { 3, 4, 0, 0, 0, 0 };
	size_t zero = mlde_knn_normalize(v, 2, 3);

	TAP_OK(fabsf(v[0] - 0.6f) < 1e-6f && fabsf(v[1] - 0.8f) < 1e-6f, "rows scaled to unit length");
	TAP_IS_INT(zero, 1, "zero rows counted, left zero");
}

int main(void)
{
	test_against_brute_force(3, 10, 4, 10);
	test_against_brute_force(700, 5000, 16, 8);  /* crosses both block sizes */
	test_against_brute_force(5, 9000, 7, 40);
	test_ties();
	test_same_bits();
	test_normalize();
	return TAP_DONE();
}
