/* knn.c (bench) - the similarity search of mlde-sample at the issue's
 * scale: 10,000 queries over 100,000 pool embeddings of 512 dimensions.
 * Prints seconds, GFLOP/s as a fraction of plain sgemm's rate measured in
 * this same run on the search's own block shape, and peak memory against
 * the pool's size.
 * usage: bench-knn [QUERIES POOL DIMS K] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "base/clock.h"
#include "sample/knn.h"
#include "base/rng.h"

static float *random_rows(size_t n, size_t d, uint64_t seed)
{
	float *v = malloc(n * d * sizeof *v);
	mlde_rng rng;

	if (!v) {
		perror("bench-knn");
		exit(1);
	}
	mlde_rng_seed(&rng, seed);
	for (size_t i = 0; i < n * d; i++)
		v[i] = (float)(mlde_rng_double(&rng) - 0.5);
	return v;
}

/* sgemm's own rate on one block of the search, repeated for ~2 s. */
static double sgemm_rate(const float *q, const float *p, size_t d)
{
	size_t m = MLDE_KNN_QUERY_BLOCK, n = MLDE_KNN_BASE_BLOCK;
	float *c = malloc(m * n * sizeof *c);
	double t0 = mlde_now(), t;
	long reps = 0;

	do {
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)d, 1.0f, q,
			    (int)d, p, (int)d, 0.0f, c, (int)n);
		reps++;
		t = mlde_now() - t0;
	} while (t < 2.0);
	free(c);
	return mlde_knn_flops(m, n, d) * (double)reps / t;
}

int main(int argc, char **argv)
{
	size_t nq = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	size_t np = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	size_t d = argc > 3 ? strtoul(argv[3], NULL, 10) : 512;
	size_t k = argc > 4 ? strtoul(argv[4], NULL, 10) : 48; /* mlde-sample's 4 x topk + 16 */
	float *q = random_rows(nq, d, 1), *p = random_rows(np, d, 2);
	uint32_t *idx = malloc(nq * k * sizeof *idx);
	float *score = malloc(nq * k * sizeof *score);
	double rate, t0, secs, achieved;
	struct rusage ru;

	mlde_knn_normalize(q, nq, d);
	mlde_knn_normalize(p, np, d);
	/* sgemm's rate before and after the search, the better of the two: a
	 * machine busy with other work during one of them makes it no worse */
	rate = sgemm_rate(q, p, d);
	t0 = mlde_now();
	mlde_knn_search(q, nq, p, np, d, k, idx, score);
	secs = mlde_now() - t0;
	double after = sgemm_rate(q, p, d);
	if (after > rate)
		rate = after;
	achieved = mlde_knn_flops(nq, np, d) / secs;
	getrusage(RUSAGE_SELF, &ru);
	printf("retrieval: %zu queries x %zu pool x %zu dims, top %zu: %.2f s\n", nq, np, d, k, secs);
	printf("  %.1f GFLOP/s; sgemm alone on the same block shape: %.1f GFLOP/s; ratio %.2f (goal: at least 0.50)\n",
	       achieved / 1e9, rate / 1e9, achieved / rate);
	printf("  peak memory %.0f MiB = pool %.0f MiB + queries and results %.0f MiB + %.0f MiB else (score block %.0f MiB)\n",
	       (double)ru.ru_maxrss / 1024.0, (double)(np * d * 4) / 1048576.0,
	       (double)(nq * d * 4 + nq * k * 8) / 1048576.0,
	       (double)ru.ru_maxrss / 1024.0 - (double)(np * d * 4 + nq * d * 4 + nq * k * 8) / 1048576.0,
	       (double)(MLDE_KNN_QUERY_BLOCK * MLDE_KNN_BASE_BLOCK * 4) / 1048576.0);
	free(q);
	free(p);
	free(idx);
	free(score);
	return 0;
}
