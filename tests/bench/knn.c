/* knn.c (bench) - the similarity search of mlde-sample at the issue's
 * scale: 10,000 queries over 100,000 pool embeddings of 512 dimensions.
 * Prints seconds, GFLOP/s as a fraction of plain sgemm's rate on the
 * search's own block shape, measured just before each search in the same
 * run, and peak memory against the pool's size.  RUNS rounds (3) of sgemm
 * then search: each figure is the median of the rounds, with the lowest
 * and highest (the ratio taken round by round).
 * The search runs on THREADS threads (the online CPUs), and sgemm on as
 * many of OpenBLAS's.
 * usage: bench-knn [QUERIES POOL DIMS K [RUNS [THREADS]]] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/clock.h"
#include "model/nn.h"  /* mlde_blas_threads */
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

/* sgemm's own rate on one block of the search, repeated for ~1 s. */
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
	} while (t < 1.0);
	free(c);
	return mlde_knn_flops(m, n, d) * (double)reps / t;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* "M (LO..HI)" of the n values v (sorted in place), scaled */
static const char *fig(double *v, int n, double scale, char *buf, size_t len)
{
	double m;

	qsort(v, (size_t)n, sizeof *v, by_value);
	m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	snprintf(buf, len, "%.2f (%.2f..%.2f)", m * scale, v[0] * scale, v[n - 1] * scale);
	return buf;
}

#define RUNS_MAX 50

int main(int argc, char **argv)
{
	size_t nq = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	size_t np = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	size_t d = argc > 3 ? strtoul(argv[3], NULL, 10) : 512;
	size_t k = argc > 4 ? strtoul(argv[4], NULL, 10) : 48; /* mlde-sample's 4 x topk + 16 */
	int runs = argc > 5 ? atoi(argv[5]) : 3;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int threads = argc > 6 ? atoi(argv[6]) : cpus > 0 ? (int)cpus : 1;
	float *q = random_rows(nq, d, 1), *p = random_rows(np, d, 2);
	uint32_t *idx = malloc(nq * k * sizeof *idx);
	float *score = malloc(nq * k * sizeof *score);
	double secs[RUNS_MAX], achieved[RUNS_MAX], rate[RUNS_MAX], ratio[RUNS_MAX];
	char a[64], b[64], c[64];
	struct rusage ru;

	if (runs < 1 || runs > RUNS_MAX) {
		fprintf(stderr, "bench-knn: RUNS must be 1 to %d\n", RUNS_MAX);
		return 2;
	}
	if (threads < 1) {
		fprintf(stderr, "bench-knn: THREADS must be at least 1\n");
		return 2;
	}
	mlde_blas_threads(threads);
	mlde_knn_normalize(q, nq, d);
	mlde_knn_normalize(p, np, d);
	for (int r = 0; r < runs; r++) {
		double t0;

		rate[r] = sgemm_rate(q, p, d);
		t0 = mlde_now();
		mlde_knn_search(q, nq, p, np, d, k, threads, idx, score);
		secs[r] = mlde_now() - t0;
		achieved[r] = mlde_knn_flops(nq, np, d) / secs[r];
		ratio[r] = achieved[r] / rate[r];
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("retrieval: %zu queries x %zu pool x %zu dims, top %zu, %d threads; %d rounds, median (lowest..highest)\n",
	       nq, np, d, k, threads, runs);
	printf("  %s s, %s GFLOP/s\n", fig(secs, runs, 1, a, sizeof a), fig(achieved, runs, 1e-9, b, sizeof b));
	printf("  sgemm alone on the same block shape, just before: %s GFLOP/s\n",
	       fig(rate, runs, 1e-9, c, sizeof c));
	printf("  ratio %s of sgemm's rate, round by round (goal: at least 0.50)\n",
	       fig(ratio, runs, 1, a, sizeof a));
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
