/* gemm.h - the engine's own single-thread sgemm.
 *
 * C = op(A) op(B), or C += op(A) op(B), row-major, op(X) = X or X^T.
 * Every element is summed in one fixed order (k ascending, in blocks of
 * MLDE_GEMM_KC whose sums are added to C in turn), by an AVX2 kernel where
 * the CPU has AVX2 and FMA and by a portable one elsewhere, and the two
 * give the same bits: a model trains to the same digits on any machine,
 * which OpenBLAS, with a kernel of its own for each CPU, does not promise.
 *
 * An operand is read through a packer, so a convolution can hand the
 * product its image instead of an im2col matrix (model/conv.c): the
 * columns are made a cache-sized block at a time, straight into the
 * layout the kernel reads. */
#ifndef MLDE_GEMM_H
#define MLDE_GEMM_H

#include <stdbool.h>

enum {
	MLDE_GEMM_MR = 6,     /* rows of C a kernel call holds in registers */
	MLDE_GEMM_NR = 16,    /* and columns */
	MLDE_GEMM_KC = 256,   /* the depth of one block of the sum */
	MLDE_GEMM_MC = 132,   /* rows of A packed at once (22 panels) */
	MLDE_GEMM_NC = 4096,  /* columns of B packed at once */
};

/* A packer writes the block [k0, k0+kc) x [x0, x0+nx) of its operand (rows
 * x of op(A), or columns x of op(B)) as panels of MR rows (A) or NR columns
 * (B): panel p holds x0 + p*W .. + W, each of its kc steps W floats, and
 * the part of the last panel past nx is zero. */
typedef struct mlde_gemm_operand {
	void (*pack)(const struct mlde_gemm_operand *op, int k0, int kc, int x0, int nx,
		     float *dst);
	const float *data;
	int ld, trans;
	const void *ctx;  /* a packer's own description of its operand */
} mlde_gemm_operand;

/* For packers: dst[k * width + i] = rows[i][k] for k < kc and i < nrows,
 * and 0 for nrows <= i < width (width MR or NR): rows that run along the
 * sum, transposed into a panel. */
void mlde_gemm_transpose_rows(const float *const *rows, int nrows, int kc, int width,
			      float *dst);

/* A stored matrix: op(A) of M x K or op(B) of K x N from data with leading
 * dimension ld, transposed when trans. */
mlde_gemm_operand mlde_gemm_matrix_a(const float *data, int ld, bool trans);
mlde_gemm_operand mlde_gemm_matrix_b(const float *data, int ld, bool trans);

/* C (M x N, leading dimension ldc) = A B, or += when accumulate.  The
 * packing buffers are the calling thread's own, kept until it ends. */
void mlde_gemm_run(int M, int N, int K, const mlde_gemm_operand *a,
		   const mlde_gemm_operand *b, bool accumulate, float *C, int ldc);

/* The floating-point operations (2MNK) of every product the calling thread
 * has run (mlde_gemm_run's and those counted in with mlde_gemm_count). */
double mlde_gemm_flops(void);
void mlde_gemm_count(double flops);

/* The kernel mlde_gemm_run uses in this process: "avx2" or "portable".
 * mlde_gemm_portable(true) makes it the portable one, so tests can hold
 * the two to the same bits. */
const char *mlde_gemm_kernel(void);
void mlde_gemm_portable(bool on);

#endif
