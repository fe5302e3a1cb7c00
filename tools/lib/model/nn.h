/* nn.h - the numeric building blocks of the builtin model: a team of
 * threads that run one program in lockstep, sgemm, im2col convolutions,
 * batch normalisation (with optional per-item FiLM scale and shift), ReLU,
 * pooling and the option softmax.  Each block has a forward and a backward
 * written by hand; tests/unit/test-nn.c checks every backward against finite
 * differences.
 *
 * Activations are channel-major: a tensor of C channels over n images of
 * H x W is C rows of n*H*W floats ("CNHW"), so a convolution over a whole
 * batch is one gemm and batch-norm statistics run along contiguous rows. */
#ifndef MLDE_NN_H
#define MLDE_NN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* ---- a team of threads ----
 * mlde_team_run runs fn(ctx, tid) on every member at once (the caller is
 * member 0) and returns when all have finished.  Inside fn, mlde_team_sync
 * is a barrier that every member must reach.  Work is split by tid only,
 * never by who arrives first, so results do not depend on timing. */
typedef struct mlde_team mlde_team;

/* A team of nthreads (< 1: 1) members, the caller included; NULL with err
 * set (MLDE_EXIT_INTERNAL) when a thread cannot start. */
mlde_team *mlde_team_new(int nthreads, mlde_error *err);
void mlde_team_free(mlde_team *t);
int mlde_team_size(const mlde_team *t);
void mlde_team_run(mlde_team *t, void (*fn)(void *ctx, int tid), void *ctx);
void mlde_team_sync(mlde_team *t);
/* The part [*lo, *hi) of n items that member tid of nt owns. */
void mlde_split(size_t n, int tid, int nt, size_t *lo, size_t *hi);

/* The threads OpenBLAS may use inside one gemm, for the whole process
 * (openblas_set_num_threads).  The library never sets it behind a
 * program's back: a program that runs a team calls mlde_blas_threads(1)
 * first, as the team is the parallelism and members that each fan out
 * into OpenBLAS threads would fight over the cores. */
void mlde_blas_threads(int n);
/* mlde_blas_threads(1), and OpenBLAS's own pool of threads stopped.  The
 * pthreads build starts that pool when it is loaded, and its threads spin
 * on sched_yield for some 0.1 s waiting for work before they sleep; a
 * program whose products run one-threaded on its own threads (a team, or
 * mlde-sample's search) never gives them any, and stopped at once they
 * leave the cores to the program.  A BLAS without such a pool: only the
 * thread count is set. */
void mlde_blas_single(void);

/* ---- matrix products ----
 * Row-major C = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T: by our
 * own gemm (model/gemm.h) for alpha 1 and beta 0 or 1, which is all the
 * engine asks, and by OpenBLAS otherwise. */
void mlde_gemm(int transa, int transb, int M, int N, int K, float alpha,
	       const float *A, int lda, const float *B, int ldb, float beta,
	       float *C, int ldc);
/* (mlde_gemm_flops, the operations of every product of the calling thread:
 * model/gemm.h) */
/* sgemm's rate on the team, in FLOP/s: every member multiplies its own
 * 512 x 512 matrices, as the training does (OpenBLAS single-threaded in
 * each), after a warm-up, for at least half a second.  mlde-train --bench
 * and bench-sgemm measure with this. */
double mlde_sgemm_rate(mlde_team *team);

/* ---- convolutions, k x k, stride s, zero padding k/2 ----
 * x is C x (n*H*W); col is (C*k*k) x (n*Ho*Wo), row (c*k + ky)*k + kx. */
int mlde_conv_out(int size, int k, int s);
void mlde_im2col(const float *x, int C, int n, int H, int W, int k, int s, float *col);
/* dx += the columns folded back onto the image */
void mlde_col2im(const float *col, int C, int n, int H, int W, int k, int s, float *dx);

/* ---- batch normalisation ----
 * Statistics are sums over a batch that may be split between team members:
 * each member adds its part with mlde_bn_sums, the parts are added in member
 * order, and mlde_bn_stats turns the totals into mean and 1/std. */
#define MLDE_BN_EPS 1e-5
void mlde_bn_sums(const float *x, int C, size_t N, double *sums);  /* sums[2C] += */
void mlde_bn_stats(const double *sums, int C, double count, float *mean, float *invstd,
		   float *var);

/* out = relu(gamma * xhat + beta), xhat = (x - mean) * invstd, per channel.
 * gamma and beta may be NULL (1 and 0).  relu 0: no ReLU. */
void mlde_bn_forward(const float *x, float *out, int C, size_t N, const float *mean,
		     const float *invstd, const float *gamma, const float *beta, int relu);
/* FiLM: the scale and shift are per item and channel, gamma[i*C + c], for
 * items of gsize columns each: out = relu(gamma * xhat + beta). */
void mlde_film_forward(const float *x, float *out, int C, int nitems, int gsize,
		       const float *mean, const float *invstd, const float *gamma,
		       const float *beta, int relu);

/* The same map as out = scale[c] x + shift[c] before the ReLU: the very
 * floats mlde_bn_forward computes (gamma, beta NULL: 1, 0), for a consumer
 * that writes the map itself (mlde_conv3_pad_affine). */
void mlde_bn_affine(int C, const float *mean, const float *invstd, const float *gamma,
		    const float *beta, float *scale, float *shift);
/* max(0, a x + b), the product and the sum rounded one by one (no fused
 * multiply-add under -std=c11): every ReLU'd batch norm, wherever it is
 * written (mlde_bn_forward, mlde_conv3_pad_affine), is this expression. */
static inline float mlde_affine_relu(float x, float a, float b)
{
	float u = a * x + b;

	return u > 0 ? u : 0;
}

/* Backward of either, in two steps around the batch reduction.
 * Step 1 turns dout (the gradient of out; changed in place into the gradient
 * of the affine output, through the ReLU mask of out) and adds to
 * sums[2C] the per-channel sums of dxhat and dxhat * xhat, and to
 * dgamma/dbeta (when not NULL) their gradients: [C] for BN, [nitems][C] for
 * FiLM (nitems 0: plain BN).  With out NULL the mask is recomputed from
 * x as the forward made out, from beta ([C] or [nitems][C] as gamma; NULL:
 * 0), so a map written only into a padded copy needs no copy of its own.
 * Step 2 writes dx from the totals. */
void mlde_bn_backward1(const float *x, const float *out, float *dout, int C, size_t N,
		       int nitems, int gsize, const float *mean, const float *invstd,
		       const float *gamma, const float *beta, int relu, double *sums,
		       float *dgamma, float *dbeta);
void mlde_bn_backward2(const float *x, const float *dout, float *dx, int C, size_t N,
		       int nitems, int gsize, const float *mean, const float *invstd,
		       const float *gamma, const double *sums, double count, int accumulate);

/* ---- small pieces ---- */
/* Max and mean of every item's gsize columns: pmax and pmean are
 * [nitems][C] with row stride ld, arg [nitems][C] the column of the max. */
void mlde_pool_forward(const float *x, int C, int nitems, int gsize, float *pmax,
		       float *pmean, int ld, int *arg);
void mlde_pool_backward(const float *dpmax, const float *dpmean, int ld, const int *arg,
			int C, int nitems, int gsize, float *dx);
/* y[i][o] = relu?(x[i] . W[o] + b[o]) for n rows. */
void mlde_linear_forward(const float *x, int n, int in, const float *W, const float *b,
			 int out, float *y, int relu);
/* dy is masked by the ReLU in place when relu; dW, db += ; dx = (or += when
 * accumulate) unless NULL. */
void mlde_linear_backward(const float *x, int n, int in, const float *W, int out,
			  const float *y, float *dy, int relu, float *dW, float *db,
			  float *dx, int accumulate);
/* Spatial soft-argmax: per item and channel, the softmax over the item's P
 * cells of temp * x, and the mean x and y coordinate under it (coords is
 * 2 x P): out[i*ld + c] and out[i*ld + C + c].  soft (C x nitems*P, laid
 * out as x) keeps the softmaxes for the backward. */
void mlde_softarg_forward(const float *x, int C, int nitems, int P, const float *coords,
			  float temp, float *out, int ld, float *soft);
/* dx += from dout (laid out as out) and the forward's soft. */
void mlde_softarg_backward(const float *soft, int C, int nitems, int P, const float *coords,
			   float temp, const float *dout, int ld, float *dx);
/* Layer normalisation of each of n rows of d values, then relu(gamma * xhat
 * + beta): a row's units cannot all die, whatever the others do.  mean and
 * invstd [n] are kept for the backward. */
void mlde_ln_forward(const float *x, int n, int d, const float *gamma, const float *beta,
		     float *out, float *mean, float *invstd);
/* dout is masked by the ReLU in place; dgamma, dbeta +=; dx =. */
void mlde_ln_backward(const float *x, const float *out, float *dout, int n, int d,
		      const float *mean, const float *invstd, const float *gamma,
		      float *dgamma, float *dbeta, float *dx);
/* Attention readout, per item i and head h: logits a[p] = scale * K[:, iP+p]
 * . Q[i][h*dk ..] over the P cells of the item (K is dk x (nitems*P), Q is
 * nitems x (nh*dk)); alpha = softmax(a); the readout r = sum_p alpha[p] *
 * Z[:, iP+p] (cz values, at r + i*ldr + h*cz) and the count cnt = sum_p
 * sigmoid(a[p]) / 8 (at cnt + i*ldr + h).  alpha and a are kept
 * ([nitems][nh][P]) for the backward. */
void mlde_attend_forward(const float *K, int dk, const float *Q, int nh, const float *Z,
			 int cz, int nitems, int P, float scale, float *alpha, float *a,
			 float *r, float *cnt, int ldr);
/* dZ, dK += and dQ = from dr and dcnt (laid out as r and cnt). */
void mlde_attend_backward(const float *K, int dk, const float *Q, int nh, const float *Z,
			  int cz, int nitems, int P, float scale, const float *alpha,
			  const float *a, const float *dr, const float *dcnt, int ldr,
			  float *dZ, float *dK, float *dQ);
/* Softmax of k scores in place; returns -log p[answer] (0 if answer < 0). */
double mlde_softmax_xent(float *s, int k, int answer);

#endif
