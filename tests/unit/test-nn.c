/* test-nn.c - the builtin model's arithmetic against finite differences:
 * every layer alone, then the whole model (one thread and two, so the
 * batch-norm reductions across threads are checked too); a team whose
 * thread cannot start; and a model file whose metadata lies. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/gemm.h"
#include "model/model.h"
#include "model/nn.h"
#include "base/rng.h"
#include "model/safetensors.h"
#include "tap.h"

static mlde_rng rng;

static void randn(float *p, size_t n, double sd)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (float)(sd * mlde_rng_normal(&rng));
}

static double dot(const float *a, const float *b, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

/* Compare an analytic gradient with central differences at up to 12
 * coordinates of p; f() evaluates the loss.  Returns the worst relative
 * error (absolute below 1e-2); *nbad, when not NULL, counts coordinates
 * worse than bad (a ReLU or max switching inside +-eps makes an isolated
 * one of those). */
static double check_coords2(float *p, const float *grad, size_t n, double (*f)(void *),
			    void *ctx, double eps, double bad, int *nbad)
{
	double worst = 0;

	for (int t = 0; t < 12 && t < (int)n; t++) {
		size_t i = n <= 12 ? (size_t)t : (size_t)mlde_rng_below(&rng, n);
		float keep = p[i];
		double lp, lm, num, err;

		p[i] = keep + (float)eps;
		lp = f(ctx);
		p[i] = keep - (float)eps;
		lm = f(ctx);
		p[i] = keep;
		num = (lp - lm) / (2 * eps);
		err = fabs(num - grad[i]) / fmax(1e-2, fabs(num) + fabs(grad[i]));
		if (getenv("TEST_NN_VERBOSE"))
			printf("#   [%zu] numeric %g analytic %g\n", i, num, grad[i]);
		if (nbad && err > bad)
			++*nbad;
		if (err > worst)
			worst = err;
	}
	return worst;
}

static double check_coords(float *p, const float *grad, size_t n, double (*f)(void *),
			   void *ctx, double eps)
{
	return check_coords2(p, grad, n, f, ctx, eps, 0, NULL);
}

/* ---- convolution ---- */

typedef struct conv_case {
	int C, Co, n, H, k, s;
	float *x, *w, *r, *col, *y;
} conv_case;

static double conv_loss(void *ctx)
{
	conv_case *c = ctx;
	int Ho = mlde_conv_out(c->H, c->k, c->s);
	int N = c->n * Ho * Ho, K = c->C * c->k * c->k;

	mlde_im2col(c->x, c->C, c->n, c->H, c->H, c->k, c->s, c->col);
	mlde_gemm(0, 0, c->Co, N, K, 1, c->w, K, c->col, N, 0, c->y, N);
	return dot(c->y, c->r, (size_t)c->Co * N);
}

static void test_conv(int k, int s, int H)
{
	conv_case c = { .C = 3, .Co = 4, .n = 2, .H = H, .k = k, .s = s };
	int Ho = mlde_conv_out(H, k, s), N = c.n * Ho * Ho, K = c.C * k * k;
	size_t nx = (size_t)c.C * c.n * H * H;
	float *dw = calloc((size_t)c.Co * K, sizeof(float)), *dx = calloc(nx, sizeof(float));
	float *dcol = calloc((size_t)K * N, sizeof(float));

	c.x = malloc(nx * sizeof(float));
	c.w = malloc((size_t)c.Co * K * sizeof(float));
	c.r = malloc((size_t)c.Co * N * sizeof(float));
	c.col = malloc((size_t)K * N * sizeof(float));
	c.y = malloc((size_t)c.Co * N * sizeof(float));
	randn(c.x, nx, 1);
	randn(c.w, (size_t)c.Co * K, 1);
	randn(c.r, (size_t)c.Co * N, 1);
	conv_loss(&c);
	/* dL/dW = r col^T, dL/dx = col2im(W^T r) */
	mlde_gemm(0, 1, c.Co, K, N, 1, c.r, N, c.col, N, 0, dw, K);
	mlde_gemm(1, 0, K, N, c.Co, 1, c.w, K, c.r, N, 0, dcol, N);
	mlde_col2im(dcol, c.C, c.n, H, H, k, s, dx);
	TAP_OK(check_coords(c.w, dw, (size_t)c.Co * K, conv_loss, &c, 1e-2) < 1e-2,
	       "conv %dx%d stride %d on %dx%d: weight gradient", k, k, s, H, H);
	TAP_OK(check_coords(c.x, dx, nx, conv_loss, &c, 1e-2) < 1e-2,
	       "conv %dx%d stride %d on %dx%d: input gradient", k, k, s, H, H);
	free(c.x); free(c.w); free(c.r); free(c.col); free(c.y);
	free(dw); free(dx); free(dcol);
}

/* im2col and col2im against the definition, value for value: the fast
 * paths (whole shifted planes at stride 1) must give exactly what a
 * pixel-by-pixel loop gives, including sizes where the kernel overhangs
 * the whole image. */
static void test_im2col_exact(int k, int s, int H)
{
	int C = 2, n = 3, p = k / 2, Ho = mlde_conv_out(H, k, s);
	size_t nx = (size_t)C * n * H * H, ncol = (size_t)n * Ho * Ho, K = (size_t)C * k * k;
	float *x = malloc(nx * sizeof(float)), *col = malloc(K * ncol * sizeof(float));
	float *dx = calloc(nx, sizeof(float)), *ref = calloc(nx, sizeof(float));
	int bad = 0;

	randn(x, nx, 1);
	mlde_im2col(x, C, n, H, H, k, s, col);
	mlde_col2im(col, C, n, H, H, k, s, dx);
	for (int c = 0; c < C; c++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++)
				for (int img = 0; img < n; img++)
					for (int oy = 0; oy < Ho; oy++)
						for (int ox = 0; ox < Ho; ox++) {
							int iy = oy * s + ky - p, ix = ox * s + kx - p;
							size_t r = (size_t)(c * k + ky) * k + kx;
							size_t at = r * ncol + ((size_t)img * Ho + oy) * Ho + ox;
							bool in = iy >= 0 && iy < H && ix >= 0 && ix < H;
							size_t xi = (((size_t)c * n + img) * H + (in ? iy : 0)) * H +
								    (in ? ix : 0);

							bad += col[at] != (in ? x[xi] : 0);
							if (in)
								ref[xi] += col[at];
						}
	for (size_t i = 0; i < nx; i++)
		bad += dx[i] != ref[i];
	TAP_OK(bad == 0, "im2col and col2im %dx%d stride %d on %dx%d: exactly the definition "
	       "(%d values off)", k, k, s, H, H, bad);
	free(x); free(col); free(dx); free(ref);
}

/* ---- batch norm, FiLM, ReLU ---- */

typedef struct bn_case {
	int C, nitems, gsize, film, relu;
	size_t N;
	float *x, *gamma, *beta, *r, *out, *mean, *invstd;
} bn_case;

static double bn_loss(void *ctx)
{
	bn_case *b = ctx;
	double *sums = calloc(2 * (size_t)b->C, sizeof(double));

	mlde_bn_sums(b->x, b->C, b->N, sums);
	mlde_bn_stats(sums, b->C, (double)b->N, b->mean, b->invstd, NULL);
	if (b->film)
		mlde_film_forward(b->x, b->out, b->C, b->nitems, b->gsize, b->mean, b->invstd,
				  b->gamma, b->beta, b->relu);
	else
		mlde_bn_forward(b->x, b->out, b->C, b->N, b->mean, b->invstd, b->gamma, b->beta,
				b->relu);
	free(sums);
	return dot(b->out, b->r, (size_t)b->C * b->N);
}

static void test_bn(int film, int relu)
{
	bn_case b = { .C = 3, .nitems = 4, .gsize = 5, .film = film, .relu = relu };
	size_t np = film ? (size_t)b.nitems * b.C : (size_t)b.C, n;
	float *dx, *dg, *db, *dout;
	double *sums = calloc(2 * (size_t)b.C, sizeof(double));
	const char *what = film ? "FiLM" : "batch norm";

	b.N = (size_t)b.nitems * b.gsize;
	n = (size_t)b.C * b.N;
	b.x = malloc(n * sizeof(float));
	b.r = malloc(n * sizeof(float));
	b.out = malloc(n * sizeof(float));
	b.gamma = malloc(np * sizeof(float));
	b.beta = malloc(np * sizeof(float));
	b.mean = malloc((size_t)b.C * sizeof(float));
	b.invstd = malloc((size_t)b.C * sizeof(float));
	dx = calloc(n, sizeof(float));
	dout = malloc(n * sizeof(float));
	dg = calloc(np, sizeof(float));
	db = calloc(np, sizeof(float));
	randn(b.x, n, 2);
	for (size_t i = 0; i < n; i++)
		b.x[i] += 1;
	randn(b.r, n, 1);
	randn(b.gamma, np, 0.5);
	for (size_t i = 0; i < np; i++)
		b.gamma[i] += 1;
	randn(b.beta, np, 0.5);
	bn_loss(&b);
	memcpy(dout, b.r, n * sizeof(float));
	mlde_bn_backward1(b.x, b.out, dout, b.C, b.N, film ? b.nitems : 0, b.gsize, b.mean,
			  b.invstd, b.gamma, b.beta, relu, sums, dg, db);
	if (relu) {
		/* without out, the mask is the forward's own: the same bits */
		float *d2 = malloc(n * sizeof(float)), *dg2 = calloc(np, sizeof(float));
		float *db2 = calloc(np, sizeof(float));
		double *sums2 = calloc(2 * (size_t)b.C, sizeof(double));

		memcpy(d2, b.r, n * sizeof(float));
		mlde_bn_backward1(b.x, NULL, d2, b.C, b.N, film ? b.nitems : 0, b.gsize, b.mean,
				  b.invstd, b.gamma, b.beta, relu, sums2, dg2, db2);
		TAP_OK(memcmp(d2, dout, n * sizeof(float)) == 0 &&
		       memcmp(dg2, dg, np * sizeof(float)) == 0 &&
		       memcmp(db2, db, np * sizeof(float)) == 0 &&
		       memcmp(sums2, sums, 2 * (size_t)b.C * sizeof(double)) == 0,
		       "%s + ReLU: the mask recomputed without out gives the same bits", what);
		free(d2); free(dg2); free(db2); free(sums2);
	}
	mlde_bn_backward2(b.x, dout, dx, b.C, b.N, film ? b.nitems : 0, b.gsize, b.mean, b.invstd,
			  b.gamma, sums, (double)b.N, 0);
	TAP_OK(check_coords(b.x, dx, n, bn_loss, &b, 1e-3) < 2e-2, "%s%s: input gradient", what,
	       relu ? " + ReLU" : "");
	TAP_OK(check_coords(b.gamma, dg, np, bn_loss, &b, 1e-3) < 2e-2, "%s%s: scale gradient",
	       what, relu ? " + ReLU" : "");
	TAP_OK(check_coords(b.beta, db, np, bn_loss, &b, 1e-3) < 2e-2, "%s%s: shift gradient",
	       what, relu ? " + ReLU" : "");
	free(b.x); free(b.r); free(b.out); free(b.gamma); free(b.beta); free(b.mean);
	free(b.invstd); free(dx); free(dout); free(dg); free(db); free(sums);
}

/* ---- pooling, linear, softmax ---- */

typedef struct small_case {
	int C, nitems, gsize, in, out;
	float *x, *w, *bias, *y, *r, *r2, *pmax, *pmean;
	int *arg;
} small_case;

static double pool_loss(void *ctx)
{
	small_case *s = ctx;

	mlde_pool_forward(s->x, s->C, s->nitems, s->gsize, s->pmax, s->pmean, s->C, s->arg);
	return dot(s->pmax, s->r, (size_t)s->nitems * s->C) +
	       dot(s->pmean, s->r2, (size_t)s->nitems * s->C);
}

static void test_pool(void)
{
	small_case s = { .C = 3, .nitems = 2, .gsize = 6 };
	size_t n = (size_t)s.C * s.nitems * s.gsize, np = (size_t)s.nitems * s.C;
	float *dx = malloc(n * sizeof(float));

	s.x = malloc(n * sizeof(float));
	s.r = malloc(np * sizeof(float));
	s.r2 = malloc(np * sizeof(float));
	s.pmax = malloc(np * sizeof(float));
	s.pmean = malloc(np * sizeof(float));
	s.arg = malloc(np * sizeof(int));
	randn(s.x, n, 1);
	randn(s.r, np, 1);
	randn(s.r2, np, 1);
	pool_loss(&s);
	mlde_pool_backward(s.r, s.r2, s.C, s.arg, s.C, s.nitems, s.gsize, dx);
	TAP_OK(check_coords(s.x, dx, n, pool_loss, &s, 1e-3) < 1e-2, "max and mean pooling");
	free(s.x); free(s.r); free(s.r2); free(s.pmax); free(s.pmean); free(s.arg); free(dx);
}

static double linear_loss(void *ctx)
{
	small_case *s = ctx;

	mlde_linear_forward(s->x, s->nitems, s->in, s->w, s->bias, s->out, s->y, 1);
	return dot(s->y, s->r, (size_t)s->nitems * s->out);
}

static void test_linear(void)
{
	small_case s = { .nitems = 3, .in = 5, .out = 4 };
	size_t nx = (size_t)s.nitems * s.in, nw = (size_t)s.out * s.in, ny = (size_t)s.nitems * s.out;
	float *dx = calloc(nx, sizeof(float)), *dw = calloc(nw, sizeof(float));
	float *db = calloc((size_t)s.out, sizeof(float)), *dy = malloc(ny * sizeof(float));

	s.x = malloc(nx * sizeof(float));
	s.w = malloc(nw * sizeof(float));
	s.bias = malloc((size_t)s.out * sizeof(float));
	s.y = malloc(ny * sizeof(float));
	s.r = malloc(ny * sizeof(float));
	randn(s.x, nx, 1);
	randn(s.w, nw, 1);
	randn(s.bias, (size_t)s.out, 1);
	randn(s.r, ny, 1);
	linear_loss(&s);
	memcpy(dy, s.r, ny * sizeof(float));
	mlde_linear_backward(s.x, s.nitems, s.in, s.w, s.out, s.y, dy, 1, dw, db, dx, 0);
	TAP_OK(check_coords(s.x, dx, nx, linear_loss, &s, 1e-3) < 1e-2, "linear + ReLU: input");
	TAP_OK(check_coords(s.w, dw, nw, linear_loss, &s, 1e-3) < 1e-2, "linear + ReLU: weight");
	TAP_OK(check_coords(s.bias, db, (size_t)s.out, linear_loss, &s, 1e-3) < 1e-2,
	       "linear + ReLU: bias");
	free(s.x); free(s.w); free(s.bias); free(s.y); free(s.r);
	free(dx); free(dw); free(db); free(dy);
}

typedef struct attend_case {
	int dk, nh, cz, n, P;
	float *K, *Q, *Z, *alpha, *a, *r, *wr;
} attend_case;

static double attend_loss(void *ctx)
{
	attend_case *c = ctx;
	int ld = c->nh * (c->cz + 1);

	mlde_attend_forward(c->K, c->dk, c->Q, c->nh, c->Z, c->cz, c->n, c->P, 0.7f, c->alpha,
			    c->a, c->r, c->r + c->nh * c->cz, ld);
	return dot(c->r, c->wr, (size_t)c->n * ld);
}

static void test_attend(void)
{
	attend_case c = { .dk = 3, .nh = 2, .cz = 4, .n = 2, .P = 5 };
	size_t nk = (size_t)c.dk * c.n * c.P, nq = (size_t)c.n * c.nh * c.dk;
	size_t nz = (size_t)c.cz * c.n * c.P, nr = (size_t)c.n * c.nh * (c.cz + 1);
	float *dK = calloc(nk, sizeof(float)), *dQ = calloc(nq, sizeof(float));
	float *dZ = calloc(nz, sizeof(float));
	int ld = c.nh * (c.cz + 1);

	c.K = malloc(nk * sizeof(float));
	c.Q = malloc(nq * sizeof(float));
	c.Z = malloc(nz * sizeof(float));
	c.alpha = malloc((size_t)c.n * c.nh * c.P * sizeof(float));
	c.a = malloc((size_t)c.n * c.nh * c.P * sizeof(float));
	c.r = malloc(nr * sizeof(float));
	c.wr = malloc(nr * sizeof(float));
	randn(c.K, nk, 1);
	randn(c.Q, nq, 1);
	randn(c.Z, nz, 1);
	randn(c.wr, nr, 1);
	attend_loss(&c);
	mlde_attend_backward(c.K, c.dk, c.Q, c.nh, c.Z, c.cz, c.n, c.P, 0.7f, c.alpha, c.a, c.wr,
			     c.wr + c.nh * c.cz, ld, dZ, dK, dQ);
	TAP_OK(check_coords(c.K, dK, nk, attend_loss, &c, 1e-3) < 1e-2, "attention: keys");
	TAP_OK(check_coords(c.Q, dQ, nq, attend_loss, &c, 1e-3) < 1e-2, "attention: queries");
	TAP_OK(check_coords(c.Z, dZ, nz, attend_loss, &c, 1e-3) < 1e-2, "attention: values");
	free(c.K); free(c.Q); free(c.Z); free(c.alpha); free(c.a); free(c.r); free(c.wr);
	free(dK); free(dQ); free(dZ);
}

static float sa_coords[2 * 6], sa_soft[3 * 2 * 6];

static double softarg_loss(void *ctx)
{
	small_case *s = ctx;

	mlde_softarg_forward(s->x, s->C, s->nitems, s->gsize, sa_coords, 2, s->pmax, 2 * s->C,
			     sa_soft);
	return dot(s->pmax, s->r, (size_t)s->nitems * 2 * s->C);
}

static void test_softarg(void)
{
	small_case s = { .C = 3, .nitems = 2, .gsize = 6 };
	size_t n = (size_t)s.C * s.nitems * s.gsize, no = (size_t)s.nitems * 2 * s.C;
	float *dx = calloc(n, sizeof(float));

	s.x = malloc(n * sizeof(float));
	s.r = malloc(no * sizeof(float));
	s.pmax = malloc(no * sizeof(float));
	randn(s.x, n, 1);
	randn(s.r, no, 1);
	randn(sa_coords, 12, 1);
	softarg_loss(&s);
	mlde_softarg_backward(sa_soft, s.C, s.nitems, s.gsize, sa_coords, 2, s.r, 2 * s.C, dx);
	TAP_OK(check_coords(s.x, dx, n, softarg_loss, &s, 1e-3) < 1e-2, "spatial soft-argmax");
	free(s.x); free(s.r); free(s.pmax); free(dx);
}

static double ln_loss(void *ctx)
{
	small_case *s = ctx;
	float mean[3], invstd[3];

	mlde_ln_forward(s->x, s->nitems, s->in, s->w, s->bias, s->y, mean, invstd);
	return dot(s->y, s->r, (size_t)s->nitems * s->in);
}

static void test_ln(void)
{
	small_case s = { .nitems = 3, .in = 6 };
	size_t n = (size_t)s.nitems * s.in;
	float *dx = calloc(n, sizeof(float)), *dg = calloc(6, sizeof(float));
	float *db = calloc(6, sizeof(float)), *dy = malloc(n * sizeof(float));
	float mean[3], invstd[3];

	s.x = malloc(n * sizeof(float));
	s.w = malloc(6 * sizeof(float));
	s.bias = malloc(6 * sizeof(float));
	s.y = malloc(n * sizeof(float));
	s.r = malloc(n * sizeof(float));
	randn(s.x, n, 2);
	randn(s.w, 6, 0.5);
	for (int k = 0; k < 6; k++)
		s.w[k] += 1;
	randn(s.bias, 6, 0.5);
	randn(s.r, n, 1);
	mlde_ln_forward(s.x, s.nitems, s.in, s.w, s.bias, s.y, mean, invstd);
	memcpy(dy, s.r, n * sizeof(float));
	mlde_ln_backward(s.x, s.y, dy, s.nitems, s.in, mean, invstd, s.w, dg, db, dx);
	TAP_OK(check_coords(s.x, dx, n, ln_loss, &s, 1e-3) < 2e-2, "layer norm + ReLU: input");
	TAP_OK(check_coords(s.w, dg, 6, ln_loss, &s, 1e-3) < 2e-2, "layer norm + ReLU: scale");
	TAP_OK(check_coords(s.bias, db, 6, ln_loss, &s, 1e-3) < 2e-2, "layer norm + ReLU: shift");
	free(s.x); free(s.w); free(s.bias); free(s.y); free(s.r);
	free(dx); free(dg); free(db); free(dy);
}

static float sm_scores[5];

static double softmax_loss(void *ctx)
{
	float s[5];

	(void)ctx;
	memcpy(s, sm_scores, sizeof s);
	return mlde_softmax_xent(s, 5, 2);
}

static void test_softmax(void)
{
	float p[5], g[5];

	randn(sm_scores, 5, 2);
	memcpy(p, sm_scores, sizeof p);
	mlde_softmax_xent(p, 5, 2);
	for (int j = 0; j < 5; j++)
		g[j] = p[j] - (j == 2);
	TAP_OK(check_coords(sm_scores, g, 5, softmax_loss, NULL, 1e-3) < 1e-2,
	       "softmax cross-entropy");
}

/* ---- the whole model ---- */

#define NIMG 3
#define NITEM 6

typedef struct model_case {
	mlde_model *m;
	mlde_trainer *tr;
	const mlde_mc_item *items[NITEM];
	const unsigned char *images[NIMG];
} model_case;

static double model_loss(void *ctx)
{
	model_case *c = ctx;

	return mlde_trainer_grad(c->tr, c->items, NITEM, c->images);
}

/* A step with the first layers of the stem frozen changes none of their
 * weights and moves every weight of the stem layers and FiLM blocks above;
 * the frozen layers' running statistics were never updated, through all
 * the batches of the gradient checks (mean 0, variance 1 as made). */
static void test_frozen_step(model_case *c, int frozen)
{
	int nt = mlde_model_ntensors(c->m), frozen_moved = 0, nfrozen = 0, above_moved = 0;
	int nabove = 0, stats_off = 0;
	float **before = calloc((size_t)nt, sizeof *before);
	int correct;

	for (int t = 0; t < nt; t++) {
		float *data;
		size_t count;
		bool trained;

		mlde_model_tensor(c->m, t, &data, &count, &trained);
		before[t] = malloc(count * sizeof(float));
		memcpy(before[t], data, count * sizeof(float));
	}
	mlde_trainer_step(c->tr, c->items, NITEM, c->images, 0.01f, &correct);
	for (int t = 0; t < nt; t++) {
		float *data;
		size_t count;
		bool trained;
		const char *name = mlde_model_tensor(c->m, t, &data, &count, &trained);
		bool moved = memcmp(before[t], data, count * sizeof(float)) != 0;
		bool stem = strncmp(name, "stem.", 5) == 0, in_frozen = stem && name[5] - '0' < frozen;

		if (in_frozen && trained) {
			nfrozen++;
			frozen_moved += moved;
		} else if (in_frozen) {
			float made = strstr(name, "running_var") ? 1 : 0;

			for (size_t k = 0; k < count; k++)
				stats_off += data[k] != made;
		} else if (trained && (stem || strncmp(name, "film.", 5) == 0)) {
			nabove++;
			above_moved += moved;
		}
		free(before[t]);
	}
	free(before);
	TAP_OK(nfrozen == 3 * frozen && frozen_moved == 0, "a step with %d stem layers frozen "
	       "leaves their %d weight tensors as they were (%d moved)", frozen, nfrozen,
	       frozen_moved);
	TAP_OK(nabove == 10 + 3 * (3 - frozen) && above_moved == nabove, "... and moves all %d "
	       "of the stem's and FiLM blocks' weight tensors above them (%d moved)", nabove,
	       above_moved);
	TAP_OK(stats_off == 0, "... whose running statistics were never updated (%d values "
	       "moved)", stats_off);
}

/* frozen: the stem's first layers frozen (mlde_trainer_freeze_stem): their
 * gradient must be exactly zero, every other tensor's must match finite
 * differences, and a step must leave them as they were, running statistics
 * included. */
static void test_model(int threads, int frozen)
{
	static const char *const opts[][4] = {
		{ "red", "green", "blue", "yellow" },
		{ "one", "two", "three", "four" },
		{ "top left", "top right", "bottom left", "center" },
	};
	static const char *const qs[] = {
		"What colour is the circle?", "How many squares are there?",
		"Where is the small red triangle?",
	};
	mlde_model_cfg cfg = { .size = 16, .c1 = 3, .c2 = 4, .c3 = 4, .nfilm = 2, .c4 = 5,
			       .dq = 6, .dh = 7, .dz = 8, .nh = 2, .dk = 3, .nq = 97,
			       .na = 31 };
	mlde_error err;
	mlde_team *team;
	mlde_mc_item items[NITEM];
	unsigned char *img[NIMG];
	model_case c;
	int bad = 0, checked = 0, nstem = 0;
	size_t nstem_nonzero = 0;

	mlde_error_clear(&err);
	mlde_blas_threads(1);
	team = mlde_team_new(threads, &err);
	TAP_OK(team != NULL, "a team of %d thread(s) starts (%s)", threads, err.msg);
	c.m = mlde_model_new(&cfg, 7);
	c.tr = mlde_trainer_new(c.m, team, NITEM);
	mlde_trainer_freeze_stem(c.tr, frozen);
	for (int i = 0; i < NIMG; i++) {
		img[i] = malloc(16 * 16 * 3);
		for (int p = 0; p < 16 * 16 * 3; p++)
			img[i][p] = (unsigned char)mlde_rng_below(&rng, 256);
		c.images[i] = img[i];
	}
	for (int i = 0; i < NITEM; i++) {
		mlde_mc_item_init(c.m, &items[i], i % NIMG, qs[i % 3], opts[i % 3], 3 + i % 2,
				  i % 3);
		c.items[i] = &items[i];
	}
	/* the items of an image side by side, as mlde-train batches them */
	for (int i = 0; i < NITEM; i++)
		for (int j = i + 1; j < NITEM; j++)
			if (c.items[j]->image < c.items[i]->image) {
				const mlde_mc_item *t = c.items[i];
				c.items[i] = c.items[j];
				c.items[j] = t;
			}
	model_loss(&c);
	for (int t = 0; t < mlde_model_ntensors(c.m); t++) {
		float *data, *grad;
		size_t count;
		bool trained;
		const char *name = mlde_model_tensor(c.m, t, &data, &count, &trained);
		double worst;
		int nbad = 0;

		if (!trained)
			continue;
		grad = malloc(count * sizeof(float));
		model_loss(&c);
		mlde_trainer_tensor_grad(c.tr, t, grad);
		if (strncmp(name, "stem.", 5) == 0 && name[5] - '0' < frozen) {
			for (size_t k = 0; k < count; k++)
				nstem_nonzero += grad[k] != 0;
			nstem++;
			free(grad);
			continue;
		}
		/* the tables are sparse: check rows the batch uses */
		if (strcmp(name, "words.weight") == 0 || strstr(name, "answers.")) {
			size_t d = strcmp(name, "answers.bias") == 0 ? 1 : (size_t)count /
				   (strcmp(name, "words.weight") == 0 ? (size_t)cfg.nq : (size_t)cfg.na);
			size_t rowi = strcmp(name, "words.weight") == 0 ? items[0].q[0]
								      : items[0].aid[1];

			worst = check_coords2(data + rowi * d, grad + rowi * d, d, model_loss, &c,
					      1e-2, 0.1, &nbad);
		} else {
			worst = check_coords2(data, grad, count, model_loss, &c, 1e-3, 0.1, &nbad);
		}
		checked++;
		if (nbad > 2) {
			bad++;
			printf("#   %s: %d of 12 coordinates off, worst relative error %.3g\n",
			       name, nbad, worst);
		} else if (nbad) {  /* isolated: a ReLU or a max switched */
			printf("#   %s: %d coordinate(s) off (kinks?), worst relative error "
			       "%.3g\n", name, nbad, worst);
		}
		free(grad);
	}
	TAP_OK(bad == 0 && checked > 20, "whole model, %d thread%s, %d stem layers frozen: the "
	       "gradient of all %d trained tensors matches finite differences (10 of 12 "
	       "coordinates within 10%%)", threads, threads > 1 ? "s" : "", frozen, checked);
	if (frozen) {
		TAP_OK(nstem == 3 * frozen && nstem_nonzero == 0, "%d stem layers frozen, %d "
		       "thread(s): their %d tensors have a zero gradient (%zu coordinates not zero)",
		       frozen, threads, nstem, nstem_nonzero);
		test_frozen_step(&c, frozen);
	}
	for (int i = 0; i < NITEM; i++)
		mlde_mc_item_free(&items[i]);
	for (int i = 0; i < NIMG; i++)
		free(img[i]);
	mlde_trainer_free(c.tr);
	mlde_model_free(c.m);
	mlde_team_free(team);
}

/* ---- the same bits on every CPU ----
 * Three steps of a model of the real image size (every convolution on the
 * in-place window path) on two threads, with the gemm's AVX2 kernel where
 * the CPU has one and then with the portable kernel, from the same start:
 * every tensor, running statistics included, must come out the same, bit
 * for bit, as must the losses. */
static double train_steps(const mlde_model_cfg *cfg, mlde_team *team,
			  const mlde_mc_item *const *items, const unsigned char *const *images,
			  int n, mlde_model **out)
{
	mlde_model *m = mlde_model_new(cfg, 3);
	mlde_trainer *tr = mlde_trainer_new(m, team, n);
	double loss = 0;
	int correct;

	for (int s = 0; s < 3; s++)
		loss += mlde_trainer_step(tr, items, n, images, 0.01f, &correct);
	mlde_trainer_free(tr);
	*out = m;
	return loss;
}

static void test_portable_bits(void)
{
	static const char *const opts[4] = { "red", "green", "blue", "yellow" };
	mlde_model_cfg cfg = { .size = 64, .c1 = 8, .c2 = 8, .c3 = 8, .nfilm = 1, .c4 = 8,
			       .dq = 6, .dh = 7, .dz = 8, .nh = 2, .dk = 3, .nq = 97, .na = 31 };
	enum { N = 4 };
	mlde_error err;
	mlde_team *team;
	mlde_mc_item items[N];
	const mlde_mc_item *ip[N];
	unsigned char *img[N];
	mlde_model *fast, *portable;
	double lf, lp;
	int differ = 0, nt;

	mlde_error_clear(&err);
	team = mlde_team_new(2, &err);
	fast = mlde_model_new(&cfg, 3);  /* for the items' word ids only */
	for (int i = 0; i < N; i++) {
		img[i] = malloc(64 * 64 * 3);
		for (int p = 0; p < 64 * 64 * 3; p++)
			img[i][p] = (unsigned char)mlde_rng_below(&rng, 256);
		mlde_mc_item_init(fast, &items[i], i, "What colour is the circle?", opts, 4, i % 4);
		ip[i] = &items[i];
	}
	mlde_model_free(fast);
	lf = train_steps(&cfg, team, ip, (const unsigned char *const *)img, N, &fast);
	mlde_gemm_portable(true);
	lp = train_steps(&cfg, team, ip, (const unsigned char *const *)img, N, &portable);
	mlde_gemm_portable(false);
	nt = mlde_model_ntensors(fast);
	for (int t = 0; t < nt; t++) {
		float *a, *b;
		size_t na, nb;
		bool trained;

		mlde_model_tensor(fast, t, &a, &na, &trained);
		mlde_model_tensor(portable, t, &b, &nb, &trained);
		differ += na != nb || memcmp(a, b, na * sizeof *a) != 0;
	}
	TAP_OK(differ == 0 && memcmp(&lf, &lp, sizeof lf) == 0,
	       "three steps on the %s kernel and on the portable one: the same bits in all %d "
	       "tensors (%d differ) and the same losses", mlde_gemm_kernel(), nt, differ);
	for (int i = 0; i < N; i++) {
		mlde_mc_item_free(&items[i]);
		free(img[i]);
	}
	mlde_model_free(fast);
	mlde_model_free(portable);
	mlde_team_free(team);
}

/* ---- a team that cannot start ---- */

/* In a child whose address space is capped to what it uses now plus about
 * one thread stack, the second member's stack cannot be mapped: the team
 * must come back NULL with the reason, after sending home the member that
 * did start (a hang is caught by the alarm). */
static void test_team_fail(void)
{
#ifdef __SANITIZE_ADDRESS__
	printf("ok %d # SKIP ASan reserves address space a cap would refuse\n", ++tap_count);
#else
	pid_t pid;
	int st = 0;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		pthread_attr_t attr;
		size_t stack = 0;
		long pages = 0, pagesize = sysconf(_SC_PAGESIZE);
		FILE *f = fopen("/proc/self/statm", "r");
		struct rlimit rl;
		mlde_error err;
		mlde_team *t;

		if (!f || fscanf(f, "%ld", &pages) != 1)
			_exit(2);
		fclose(f);
		pthread_attr_init(&attr);
		pthread_attr_getstacksize(&attr, &stack);
		rl.rlim_cur = rl.rlim_max = (rlim_t)pages * (rlim_t)pagesize + stack * 3 / 2;
		if (setrlimit(RLIMIT_AS, &rl) < 0)
			_exit(3);
		alarm(20);
		mlde_error_clear(&err);
		t = mlde_team_new(8, &err);
		if (t)
			_exit(4);
		_exit(err.status == MLDE_EXIT_INTERNAL && strstr(err.msg, "cannot start thread")
		      ? 0 : 5);
	}
	waitpid(pid, &st, 0);
	TAP_OK(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "a thread that cannot start: mlde_team_new returns NULL with the reason "
	       "(child status %d, signal %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	       WIFSIGNALED(st) ? WTERMSIG(st) : 0);
#endif
}

/* ---- the model file ---- */

/* The safetensors reader itself is tests/unit/test-safetensors.c. */
static void test_model_file(void)
{
	mlde_error err;

	/* a model file: the shapes must agree with its metadata */
	{
		mlde_model_cfg cfg = { .size = 16, .c1 = 2, .c2 = 2, .c3 = 2, .nfilm = 1, .c4 = 2,
				       .dq = 2, .dh = 2, .dz = 2, .nh = 1, .dk = 2,
				       .nq = 8, .na = 8 };
		mlde_model *m = mlde_model_new(&cfg, 1), *m2 = NULL;
		mlde_st_file mf;

		mlde_error_clear(&err);
		TAP_IS_INT(mlde_model_save(m, "tiny.model", jv_object(), &err), 0, "model: save");
		TAP_IS_INT(mlde_model_load("tiny.model", &m2, &err), 0, "model: load");
		mlde_model_free(m2);
		/* rewrite it with a metadata size that does not match the tensors */
		mlde_st_load("tiny.model", &mf, &err);
		{
			mlde_st_tensor ts[64];
			jv lie = jv_object_set(jv_copy(mf.meta), jv_string("word_dim"),
					       jv_string("3"));

			for (size_t i = 0; i < mf.n; i++)
				ts[i] = mf.t[i];
			mlde_st_save("lying.model", ts, mf.n, lie, &err);
		}
		mlde_st_free(&mf);
		mlde_error_clear(&err);
		TAP_OK(mlde_model_load("lying.model", &m2, &err) == -1 &&
		       err.status == MLDE_EXIT_DATA && strstr(err.msg, "wrong shape"),
		       "model: metadata that lies about a shape is refused");
		mlde_model_free(m);
	}
}

int main(void)
{
	mlde_rng_seed(&rng, 12345);
	test_conv(3, 2, 8);
	test_conv(3, 2, 7);
	test_conv(3, 1, 5);
	test_conv(1, 1, 4);
	for (int H = 1; H <= 9; H += 2) {
		test_im2col_exact(3, 1, H);
		test_im2col_exact(3, 2, H + 1);
		test_im2col_exact(5, 1, H);
		test_im2col_exact(1, 1, H);
	}
	test_im2col_exact(3, 2, 7);
	test_bn(0, 0);
	test_bn(0, 1);
	test_bn(1, 1);
	test_pool();
	test_linear();
	test_softmax();
	test_ln();
	test_softarg();
	test_attend();
	test_model(1, 0);
	test_model(2, 0);
	test_model(1, 3);
	test_model(2, 3);
	test_model(1, 2);
	test_model(2, 1);
	test_portable_bits();
	test_team_fail();
	test_model_file();
	return TAP_DONE();
}
