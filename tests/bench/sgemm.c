/* sgemm.c - bench-sgemm [THREADS]: OpenBLAS's sgemm rate on this machine,
 * measured as mlde-train --bench does (every thread of a team multiplies
 * its own 512 x 512 matrices, OpenBLAS single-threaded in each), so a
 * reader can set the README's figures against the machine in front of them. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "model/nn.h"

typedef struct job {
	float *a, *b, *c;
	int n, reps;
} job;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void member(void *ctx, int tid)
{
	job *j = ctx;
	size_t nn = (size_t)j->n * j->n;

	for (int r = 0; r < j->reps; r++)
		mlde_gemm(0, 0, j->n, j->n, j->n, 1, j->a + tid * nn, j->n, j->b + tid * nn,
			  j->n, 0, j->c + tid * nn, j->n);
}

/* GFLOP/s of a team of T, the best of three runs of at least 0.5 s each */
static double rate(int T)
{
	mlde_error err;
	mlde_team *team;
	job j = { .n = 512, .reps = 1 };
	size_t nn = (size_t)j.n * j.n * (size_t)T;
	double best = 0;

	mlde_blas_threads(1);  /* as the programs run a team */
	mlde_error_clear(&err);
	if (!(team = mlde_team_new(T, &err))) {
		fprintf(stderr, "bench-sgemm: %s\n", err.msg);
		exit(err.status);
	}
	j.a = calloc(nn, sizeof(float));
	j.b = calloc(nn, sizeof(float));
	j.c = calloc(nn, sizeof(float));
	if (!j.a || !j.b || !j.c) {
		fprintf(stderr, "bench-sgemm: out of memory\n");
		exit(5);
	}
	for (size_t i = 0; i < nn; i++) {
		j.a[i] = (float)(i % 7) * 0.1f;
		j.b[i] = (float)(i % 5) * 0.1f;
	}
	mlde_team_run(team, member, &j);  /* warm up */
	for (int run = 0; run < 3; run++) {
		double t = 0, t0;

		for (j.reps = 1; t < 0.5; j.reps *= 2) {
			t0 = now();
			mlde_team_run(team, member, &j);
			t = now() - t0;
		}
		j.reps /= 2;
		double r = 2.0 * j.n * j.n * j.n * j.reps * T / t / 1e9;
		if (r > best)
			best = r;
	}
	free(j.a);
	free(j.b);
	free(j.c);
	mlde_team_free(team);
	return best;
}

int main(int argc, char **argv)
{
	int T = argc > 1 ? atoi(argv[1]) : 2;

	if (T < 1 || T > 256) {
		fprintf(stderr, "usage: bench-sgemm [THREADS]\n");
		return 2;
	}
	printf("OpenBLAS sgemm, 512 x 512 per thread: %.1f GFLOP/s on 1 thread", rate(1));
	if (T > 1)
		printf(", %.1f GFLOP/s on %d threads", rate(T), T);
	printf("\n");
	return 0;
}
