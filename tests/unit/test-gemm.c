/* test-gemm.c - our own sgemm (model/gemm.h): every shape of the engine's
 * kind against a sum in double, both transposes, blocks of the sum and of
 * the rows and columns with remainders, accumulation, and the AVX2 kernel
 * and the portable one giving the same bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/gemm.h"
#include "tap.h"

static unsigned long long rng = 88172645463325252ULL;

static float urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) - 0.5f;
}

static float *rand_matrix(size_t n)
{
	float *m = malloc(n * sizeof *m);

	for (size_t i = 0; i < n; i++)
		m[i] = urand();
	return m;
}

/* op(A)[i][k] of a row-major store */
static float at(const float *m, int ld, bool trans, int i, int k)
{
	return trans ? m[(size_t)k * ld + i] : m[(size_t)i * ld + k];
}

/* the largest |C - (C0 + op(A) op(B))| over C, the reference in double,
 * relative to the sum of |terms| (the bound rounding can reach) */
static double worst_error(int M, int N, int K, const float *A, bool ta, const float *B, bool tb,
			  const float *C0, const float *C)
{
	int lda = ta ? M : K, ldb = tb ? K : N;
	double worst = 0;

	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double s = C0 ? C0[(size_t)i * N + j] : 0, mag = fabs(s) + 1e-30;

			for (int k = 0; k < K; k++) {
				double t = (double)at(A, lda, ta, i, k) * at(B, ldb, !tb, j, k);

				s += t;
				mag += fabs(t);
			}
			double e = fabs(C[(size_t)i * N + j] - s) / mag;

			if (e > worst)
				worst = e;
		}
	return worst;
}

static void test_shape(int M, int N, int K, bool ta, bool tb, bool accumulate)
{
	int lda = ta ? M : K, ldb = tb ? K : N;
	float *A = rand_matrix((size_t)M * K), *B = rand_matrix((size_t)K * N);
	float *C0 = rand_matrix((size_t)M * N), *C = malloc((size_t)M * N * sizeof *C);
	float *Cp = malloc((size_t)M * N * sizeof *Cp);
	mlde_gemm_operand a = mlde_gemm_matrix_a(A, lda, ta), b = mlde_gemm_matrix_b(B, ldb, tb);
	double e;

	memcpy(C, C0, (size_t)M * N * sizeof *C);
	memcpy(Cp, C0, (size_t)M * N * sizeof *C);
	mlde_gemm_run(M, N, K, &a, &b, accumulate, C, N);
	mlde_gemm_portable(true);
	mlde_gemm_run(M, N, K, &a, &b, accumulate, Cp, N);
	mlde_gemm_portable(false);
	e = worst_error(M, N, K, A, ta, B, tb, accumulate ? C0 : NULL, C);
	TAP_OK(e < 1e-6, "%dx%dx%d %s%s%s: within %.1g of the sum in double", M, N, K,
	       ta ? "A^T" : "A", tb ? " B^T" : " B", accumulate ? " +=" : "", e);
	TAP_OK(memcmp(C, Cp, (size_t)M * N * sizeof *C) == 0,
	       "%dx%dx%d %s%s%s: the %s kernel and the portable one give the same bits", M, N, K,
	       ta ? "A^T" : "A", tb ? " B^T" : " B", accumulate ? " +=" : "", mlde_gemm_kernel());
	free(A);
	free(B);
	free(C0);
	free(C);
	free(Cp);
}

/* C is zeroed by K = 0, or kept when accumulating; M or N of 0 touch nothing */
static void test_empty(void)
{
	float C[6] = { 1, 2, 3, 4, 5, 6 }, A[1] = { 7 }, B[1] = { 8 };
	mlde_gemm_operand a = mlde_gemm_matrix_a(A, 1, false), b = mlde_gemm_matrix_b(B, 1, false);

	mlde_gemm_run(2, 3, 0, &a, &b, true, C, 3);
	TAP_OK(C[0] == 1 && C[5] == 6, "K = 0 with accumulation leaves C");
	mlde_gemm_run(0, 3, 1, &a, &b, false, C, 3);
	mlde_gemm_run(2, 0, 1, &a, &b, false, C, 3);
	TAP_OK(C[0] == 1 && C[5] == 6, "M = 0 or N = 0 leaves C");
	mlde_gemm_run(2, 3, 0, &a, &b, false, C, 3);
	TAP_OK(C[0] == 0 && C[5] == 0, "K = 0 makes C zero");
}

int main(void)
{
	/* remainders of every block: MR 6 (a last panel of 1 to 5 rows, which
	 * the AVX2 kernels of two and four rows take), NR 16, KC 256, MC 132,
	 * and the engine's own shapes (a K of 27, a K past KC, M past MC, N
	 * past NC) */
	static const int shapes[][3] = { { 1, 1, 1 },	    { 5, 17, 3 },	  { 6, 16, 8 },
					 { 7, 33, 27 },	    { 32, 300, 27 },	  { 64, 130, 288 },
					 { 13, 40, 513 },   { 140, 50, 70 },	  { 64, 27, 1100 },
					 { 300, 70, 64 },   { 20, 4100, 9 },	  { 9, 33, 100 },
					 { 4, 32, 40 } };

	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
		for (int t = 0; t < 4; t++)
			test_shape(shapes[s][0], shapes[s][1], shapes[s][2], t & 1, t & 2, t == 1);
	test_shape(64, 200, 600, false, true, true);
	test_empty();
	printf("1..%d\n", tap_count);
	return tap_failures != 0;
}
