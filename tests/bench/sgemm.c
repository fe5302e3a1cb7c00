/* sgemm.c - bench-sgemm [THREADS]: OpenBLAS's sgemm rate on this machine,
 * measured as mlde-train --bench does (mlde_sgemm_rate: every thread of a
 * team multiplies its own 512 x 512 matrices, OpenBLAS single-threaded in
 * each), so a reader can set the README's figures against the machine in
 * front of them. */
#include <stdio.h>
#include <stdlib.h>

#include "model/nn.h"

/* GFLOP/s of a team of T, the best of three runs */
static double rate(int T)
{
	mlde_error err;
	mlde_team *team;
	double best = 0;

	mlde_blas_threads(1);  /* as the programs run a team */
	mlde_error_clear(&err);
	if (!(team = mlde_team_new(T, &err))) {
		fprintf(stderr, "bench-sgemm: %s\n", err.msg);
		exit(err.status);
	}
	for (int run = 0; run < 3; run++) {
		double r = mlde_sgemm_rate(team) / 1e9;

		if (r > best)
			best = r;
	}
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
