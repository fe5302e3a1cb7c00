/* nn.c - numeric building blocks of the builtin model (see nn.h).  Plain
 * loops over contiguous rows, gemm through OpenBLAS; nothing here allocates
 * per call except the team itself. */
#include "model/nn.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "model/gemm.h"

/* ---- team ---- */

/* A barrier that spins a while before it sleeps.  A training step meets
 * about 13 of them (each batch norm's statistics, forward and backward),
 * and with pthread_barrier_wait each wait ended in a futex wake-up and a
 * reschedule of the sleeper: 5% of a 2-thread epoch.  The spin is bounded,
 * so a team of more threads than cores still sleeps rather than burns. */
typedef struct barrier {
	int n;
	atomic_uint arrived;       /* members at the barrier this round */
	atomic_uint round;         /* how many rounds have ended */
	atomic_int sleepers;       /* members asleep on cv */
	pthread_mutex_t mu;
	pthread_cond_t cv;
} barrier;

/* About 50-200 microseconds of pause instructions, depending on the CPU:
 * longer than most waits between two batch norms, shorter than a
 * scheduler's time slice. */
#define SPIN_PAUSES 4096

static void barrier_init(barrier *b, int n)
{
	b->n = n;
	atomic_init(&b->arrived, 0);
	atomic_init(&b->round, 0);
	atomic_init(&b->sleepers, 0);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
}

static void barrier_destroy(barrier *b)
{
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* The last to arrive opens the next round and wakes any sleeper.  The
 * sleepers count and the round are both sequentially consistent: a member
 * that counts itself asleep and then finds the round unchanged is seen by
 * the last arriver, which takes the mutex before it broadcasts, so no
 * wake-up falls between a sleeper's check and its wait. */
static void barrier_wait(barrier *b)
{
	unsigned r = atomic_load(&b->round);

	if (atomic_fetch_add(&b->arrived, 1) == (unsigned)b->n - 1) {
		atomic_store(&b->arrived, 0);
		atomic_fetch_add(&b->round, 1);
		if (atomic_load(&b->sleepers) > 0) {
			pthread_mutex_lock(&b->mu);
			pthread_cond_broadcast(&b->cv);
			pthread_mutex_unlock(&b->mu);
		}
		return;
	}
	for (int i = 0; i < SPIN_PAUSES; i++) {
		if (atomic_load_explicit(&b->round, memory_order_acquire) != r)
			return;
		cpu_relax();
	}
	pthread_mutex_lock(&b->mu);
	atomic_fetch_add(&b->sleepers, 1);
	while (atomic_load(&b->round) == r)
		pthread_cond_wait(&b->cv, &b->mu);
	atomic_fetch_sub(&b->sleepers, 1);
	pthread_mutex_unlock(&b->mu);
}

struct mlde_team {
	int n;
	int started;     /* members 1..started-1 are running */
	pthread_t *th;
	struct member { struct mlde_team *team; int tid; } *members;
	barrier start, end, sync;
	/* the gate members pass once before the first barrier: a team whose
	 * last thread cannot start sends the others home through it, as the
	 * barriers count on every member */
	pthread_mutex_t gate_mu;
	pthread_cond_t gate_cv;
	int gate;        /* 0 closed, 1 open, -1 go home */
	void (*fn)(void *ctx, int tid);
	void *ctx;
	int quit;
};

static bool pass_gate(mlde_team *t)
{
	int g;

	pthread_mutex_lock(&t->gate_mu);
	while (t->gate == 0)
		pthread_cond_wait(&t->gate_cv, &t->gate_mu);
	g = t->gate;
	pthread_mutex_unlock(&t->gate_mu);
	return g > 0;
}

static void set_gate(mlde_team *t, int g)
{
	pthread_mutex_lock(&t->gate_mu);
	t->gate = g;
	pthread_cond_broadcast(&t->gate_cv);
	pthread_mutex_unlock(&t->gate_mu);
}

static void *member_main(void *arg)
{
	struct member *m = arg;
	mlde_team *t = m->team;

	if (!pass_gate(t))
		return NULL;
	for (;;) {
		barrier_wait(&t->start);
		if (t->quit)
			break;
		t->fn(t->ctx, m->tid);
		barrier_wait(&t->end);
	}
	return NULL;
}

static void team_destroy(mlde_team *t)
{
	for (int i = 1; i < t->started; i++)
		pthread_join(t->th[i], NULL);
	barrier_destroy(&t->start);
	barrier_destroy(&t->end);
	barrier_destroy(&t->sync);
	pthread_cond_destroy(&t->gate_cv);
	pthread_mutex_destroy(&t->gate_mu);
	free(t->th);
	free(t->members);
	free(t);
}

mlde_team *mlde_team_new(int nthreads, mlde_error *err)
{
	mlde_team *t = mlde_xcalloc(1, sizeof *t);

	t->n = nthreads < 1 ? 1 : nthreads;
	t->started = 1;
	t->th = mlde_xmalloc((size_t)t->n * sizeof *t->th);
	t->members = mlde_xmalloc((size_t)t->n * sizeof *t->members);
	barrier_init(&t->start, t->n);
	barrier_init(&t->end, t->n);
	barrier_init(&t->sync, t->n);
	pthread_mutex_init(&t->gate_mu, NULL);
	pthread_cond_init(&t->gate_cv, NULL);
	for (int i = 1; i < t->n; i++) {
		int rc;

		t->members[i] = (struct member){ t, i };
		rc = pthread_create(&t->th[i], NULL, member_main, &t->members[i]);
		if (rc != 0) {
			mlde_error_set(err, MLDE_EXIT_INTERNAL,
				       "cannot start thread %d of %d: %s", i + 1, t->n,
				       strerror(rc));
			set_gate(t, -1);
			team_destroy(t);
			return NULL;
		}
		t->started = i + 1;
	}
	set_gate(t, 1);
	return t;
}

void mlde_team_free(mlde_team *t)
{
	if (!t)
		return;
	t->quit = 1;
	if (t->n > 1)
		barrier_wait(&t->start);
	team_destroy(t);
}

void mlde_blas_threads(int n)
{
	openblas_set_num_threads(n < 1 ? 1 : n);
}

/* weak: a BLAS without the pool has no such function */
extern int blas_thread_shutdown_(void) __attribute__((weak));

void mlde_blas_single(void)
{
	mlde_blas_threads(1);
	if (blas_thread_shutdown_)
		blas_thread_shutdown_();
}

int mlde_team_size(const mlde_team *t)
{
	return t->n;
}

void mlde_team_run(mlde_team *t, void (*fn)(void *ctx, int tid), void *ctx)
{
	t->fn = fn;
	t->ctx = ctx;
	if (t->n > 1)
		barrier_wait(&t->start);
	fn(ctx, 0);
	if (t->n > 1)
		barrier_wait(&t->end);
}

void mlde_team_sync(mlde_team *t)
{
	if (t->n > 1)
		barrier_wait(&t->sync);
}

void mlde_split(size_t n, int tid, int nt, size_t *lo, size_t *hi)
{
	*lo = n * (size_t)tid / (size_t)nt;
	*hi = n * (size_t)(tid + 1) / (size_t)nt;
}

/* ---- gemm ---- */

/* The peer the bench measures against: OpenBLAS's own sgemm. */
static void blas_gemm(int M, int N, int K, const float *A, const float *B, float *C)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, A, K, B, N, 0, C, N);
}

typedef struct rate_job {
	float *a, *b, *c;
	int n, reps;
} rate_job;

static void rate_member(void *ctx, int tid)
{
	rate_job *j = ctx;
	size_t nn = (size_t)j->n * j->n;

	for (int r = 0; r < j->reps; r++)
		blas_gemm(j->n, j->n, j->n, j->a + tid * nn, j->b + tid * nn, j->c + tid * nn);
}

double mlde_sgemm_rate(mlde_team *team)
{
	int T = mlde_team_size(team);
	rate_job j = { .n = 512, .reps = 1 };
	size_t nn = (size_t)j.n * j.n * T;
	double t0, t = 0;

	j.a = mlde_xcalloc(nn, sizeof(float));
	j.b = mlde_xcalloc(nn, sizeof(float));
	j.c = mlde_xcalloc(nn, sizeof(float));
	for (size_t i = 0; i < nn; i++) {
		j.a[i] = (float)(i % 7) * 0.1f;
		j.b[i] = (float)(i % 5) * 0.1f;
	}
	mlde_team_run(team, rate_member, &j);  /* warm up */
	while (t < 0.5) {
		j.reps *= 2;
		t0 = mlde_now();
		mlde_team_run(team, rate_member, &j);
		t = mlde_now() - t0;
	}
	free(j.a);
	free(j.b);
	free(j.c);
	return 2.0 * j.n * j.n * (double)j.n * j.reps * T / t;
}

/* The engine's products run on our own sgemm (model/gemm.h: the same bits
 * on every CPU); OpenBLAS is left the scalings the engine never asks for. */
void mlde_gemm(int transa, int transb, int M, int N, int K, float alpha,
	       const float *A, int lda, const float *B, int ldb, float beta,
	       float *C, int ldc)
{
	mlde_gemm_operand a, b;

	if (M <= 0 || N <= 0)
		return;
	if (alpha != 1 || (beta != 0 && beta != 1)) {
		mlde_gemm_count(2.0 * M * N * (K > 0 ? K : 0));
		if (K <= 0) {
			for (int i = 0; i < M; i++)
				for (int j = 0; j < N; j++)
					C[(size_t)i * ldc + j] =
						beta == 0 ? 0 : beta * C[(size_t)i * ldc + j];
			return;
		}
		cblas_sgemm(CblasRowMajor, transa ? CblasTrans : CblasNoTrans,
			    transb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb,
			    beta, C, ldc);
		return;
	}
	a = mlde_gemm_matrix_a(A, lda, transa);
	b = mlde_gemm_matrix_b(B, ldb, transb);
	mlde_gemm_run(M, N, K, &a, &b, beta == 1, C, ldc);
}

/* ---- convolution ---- */

int mlde_conv_out(int size, int k, int s)
{
	return (size + 2 * (k / 2) - k) / s + 1;
}

/* The output columns ox whose input column ox*s + kx - p is inside [0, W). */
static void valid_range(int Wo, int W, int s, int kx, int p, int *lo, int *hi)
{
	int a = 0, b = Wo;

	while (a < Wo && a * s + kx - p < 0)
		a++;
	while (b > a && (b - 1) * s + kx - p >= W)
		b--;
	*lo = a;
	*hi = b;
}

/* Stride 1, same size out as in: the shifted valid rows of one image plane
 * are one contiguous run of xi, copied whole; then the columns that fell
 * outside the image (which the run wrapped onto the neighbouring row) and
 * the rows above and below it are zeroed.  The same values as the row by
 * row copy, in far fewer, longer moves. */
static void im2col_plane_s1(const float *xi, int H, int W, int ky, int kx, int p, int lo,
			    int hi, float *ri)
{
	int oy0 = p - ky > 0 ? p - ky : 0, oy1 = H + p - ky < H ? H + p - ky : H;
	size_t first, last;

	if (oy1 <= oy0 || hi <= lo) {
		memset(ri, 0, (size_t)H * W * sizeof *ri);
		return;
	}
	first = (size_t)oy0 * W + lo;
	last = (size_t)(oy1 - 1) * W + hi;
	memcpy(ri + first, xi + (ptrdiff_t)first + (ptrdiff_t)(ky - p) * W + (kx - p),
	       (last - first) * sizeof *ri);
	memset(ri, 0, first * sizeof *ri);
	memset(ri + last, 0, ((size_t)H * W - last) * sizeof *ri);
	for (int oy = oy0; oy < oy1; oy++) {
		float *r = ri + (size_t)oy * W;

		for (int ox = 0; ox < lo; ox++)
			r[ox] = 0;
		for (int ox = hi; ox < W; ox++)
			r[ox] = 0;
	}
}

void mlde_im2col(const float *x, int C, int n, int H, int W, int k, int s, float *col)
{
	int p = k / 2, Ho = mlde_conv_out(H, k, s), Wo = mlde_conv_out(W, k, s);
	size_t HW = (size_t)H * W, HoWo = (size_t)Ho * Wo, ncol = (size_t)n * HoWo;
	bool plane = s == 1 && Ho == H && Wo == W;

	for (int c = 0; c < C; c++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				float *row = col + ((size_t)(c * k + ky) * k + kx) * ncol;
				int lo, hi;

				valid_range(Wo, W, s, kx, p, &lo, &hi);
				for (int img = 0; img < n; img++) {
					const float *xi = x + ((size_t)c * n + img) * HW;
					float *ri = row + (size_t)img * HoWo;

					if (plane) {
						im2col_plane_s1(xi, H, W, ky, kx, p, lo, hi, ri);
						continue;
					}
					for (int oy = 0; oy < Ho; oy++) {
						int iy = oy * s + ky - p;
						float *r = ri + (size_t)oy * Wo;
						const float *xr;

						if (iy < 0 || iy >= H) {
							memset(r, 0, (size_t)Wo * sizeof *r);
							continue;
						}
						xr = xi + (size_t)iy * W + kx - p;
						for (int ox = 0; ox < lo; ox++)
							r[ox] = 0;
						if (s == 1)
							memcpy(r + lo, xr + lo,
							       (size_t)(hi - lo) * sizeof *r);
						else if (s == 2)
							for (int ox = lo; ox < hi; ox++)
								r[ox] = xr[2 * ox];
						else
							for (int ox = lo; ox < hi; ox++)
								r[ox] = xr[ox * s];
						for (int ox = hi; ox < Wo; ox++)
							r[ox] = 0;
					}
				}
			}
}

void mlde_col2im(const float *col, int C, int n, int H, int W, int k, int s, float *dx)
{
	int p = k / 2, Ho = mlde_conv_out(H, k, s), Wo = mlde_conv_out(W, k, s);
	size_t HW = (size_t)H * W, HoWo = (size_t)Ho * Wo, ncol = (size_t)n * HoWo;

	for (int c = 0; c < C; c++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				const float *row = col + ((size_t)(c * k + ky) * k + kx) * ncol;
				int lo, hi;

				valid_range(Wo, W, s, kx, p, &lo, &hi);
				for (int img = 0; img < n; img++) {
					float *xi = dx + ((size_t)c * n + img) * HW;
					const float *ri = row + (size_t)img * HoWo;

					for (int oy = 0; oy < Ho; oy++) {
						int iy = oy * s + ky - p;
						const float *r = ri + (size_t)oy * Wo;
						float *xr;

						if (iy < 0 || iy >= H)
							continue;
						xr = xi + (size_t)iy * W + kx - p;
						for (int ox = lo; ox < hi; ox++)
							xr[ox * s] += r[ox];
					}
				}
			}
}

/* ---- batch normalisation ---- */

#define LANES 8  /* independent float accumulators of a vectorised sum */

void mlde_bn_sums(const float *x, int C, size_t N, double *sums)
{
	for (int c = 0; c < C; c++) {
		const float *r = x + (size_t)c * N;
		/* float partial sums in blocks, in LANES interleaved lanes that
		 * the vectoriser can keep in registers (a float reduction in one
		 * accumulator it may not reorder); the double total keeps the
		 * precision.  The order is the code's, whatever the machine. */
		double s = 0, q = 0;

		for (size_t i = 0; i < N; i += 256) {
			size_t e = i + 256 < N ? i + 256 : N, j = i;
			float fs[LANES] = { 0 }, fq[LANES] = { 0 };

			for (; j + LANES <= e; j += LANES)
				for (int l = 0; l < LANES; l++) {
					fs[l] += r[j + l];
					fq[l] += r[j + l] * r[j + l];
				}
			for (; j < e; j++) {
				fs[0] += r[j];
				fq[0] += r[j] * r[j];
			}
			for (int l = 0; l < LANES; l++) {
				s += fs[l];
				q += fq[l];
			}
		}
		sums[c] += s;
		sums[C + c] += q;
	}
}

void mlde_bn_stats(const double *sums, int C, double count, float *mean, float *invstd,
		   float *var)
{
	for (int c = 0; c < C; c++) {
		double m = sums[c] / count;
		double v = sums[C + c] / count - m * m;

		if (v < 0)
			v = 0;
		mean[c] = (float)m;
		invstd[c] = (float)(1.0 / sqrt(v + MLDE_BN_EPS));
		if (var)
			var[c] = (float)v;
	}
}

/* The batch norm as one product and one sum per element, out = a x + c:
 * every map and mask of it (mlde_bn_affine, the mask that
 * mlde_bn_backward1 recomputes) takes a and c from here. */
static inline void affine_of(float m, float is, float g, float b, float *a, float *c)
{
	*a = g * is;
	*c = b - m * g * is;
}

void mlde_bn_affine(int C, const float *mean, const float *invstd, const float *gamma,
		    const float *beta, float *scale, float *shift)
{
	for (int c = 0; c < C; c++)
		affine_of(mean[c], invstd[c], gamma ? gamma[c] : 1, beta ? beta[c] : 0, &scale[c],
			  &shift[c]);
}

static void affine_row(const float *x, float *o, size_t n, float m, float is, float g,
		       float b, int relu)
{
	float a, c;

	affine_of(m, is, g, b, &a, &c);

	if (relu)
		for (size_t i = 0; i < n; i++)
			o[i] = mlde_affine_relu(x[i], a, c);
	else
		for (size_t i = 0; i < n; i++)
			o[i] = a * x[i] + c;
}

void mlde_bn_forward(const float *x, float *out, int C, size_t N, const float *mean,
		     const float *invstd, const float *gamma, const float *beta, int relu)
{
	for (int c = 0; c < C; c++)
		affine_row(x + (size_t)c * N, out + (size_t)c * N, N, mean[c], invstd[c],
			   gamma ? gamma[c] : 1, beta ? beta[c] : 0, relu);
}

void mlde_film_forward(const float *x, float *out, int C, int nitems, int gsize,
		       const float *mean, const float *invstd, const float *gamma,
		       const float *beta, int relu)
{
	size_t N = (size_t)nitems * gsize;

	for (int c = 0; c < C; c++)
		for (int i = 0; i < nitems; i++) {
			size_t off = (size_t)c * N + (size_t)i * gsize;

			affine_row(x + off, out + off, (size_t)gsize, mean[c], invstd[c],
				   gamma[(size_t)i * C + c], beta[(size_t)i * C + c], relu);
		}
}

/* dout of one row through the ReLU mask of out, or where out is NULL of
 * a x + c > 0 (the forward's own test of the same floats); with the sums
 * of dxhat and dxhat * xhat, one after the other in column order. */
static void backward1_row(const float *xr, const float *orow, float *d, size_t n, float m,
			  float is, float a, float c, int relu, float *psd, float *psdx)
{
	float sd = 0, sdx = 0;

	for (size_t j = 0; j < n; j++) {
		bool off = relu && !((orow ? orow[j] : mlde_affine_relu(xr[j], a, c)) > 0);
		float du = off ? 0 : d[j];
		float xh = (xr[j] - m) * is;

		d[j] = du;
		sd += du;
		sdx += du * xh;
	}
	*psd = sd;
	*psdx = sdx;
}

void mlde_bn_backward1(const float *x, const float *out, float *dout, int C, size_t N,
		       int nitems, int gsize, const float *mean, const float *invstd,
		       const float *gamma, const float *beta, int relu, double *sums,
		       float *dgamma, float *dbeta)
{
	size_t gs = nitems ? (size_t)gsize : N;
	int ng = nitems ? nitems : 1;

	for (int c = 0; c < C; c++) {
		double s1 = 0, s2 = 0;

		for (int i = 0; i < ng; i++) {
			size_t off = (size_t)c * N + (size_t)i * gs;
			size_t gi = nitems ? (size_t)i * C + c : (size_t)c;
			float m = mean[c], is = invstd[c];
			float g = gamma ? gamma[gi] : 1, a, cc, sd, sdx;

			affine_of(m, is, g, beta ? beta[gi] : 0, &a, &cc);
			backward1_row(x + off, out ? out + off : NULL, dout + off, gs, m, is, a, cc,
				      relu, &sd, &sdx);
			if (dgamma)
				dgamma[gi] += sdx;
			if (dbeta)
				dbeta[gi] += sd;
			s1 += (double)g * sd;
			s2 += (double)g * sdx;
		}
		sums[c] += s1;
		sums[C + c] += s2;
	}
}

void mlde_bn_backward2(const float *x, const float *dout, float *dx, int C, size_t N,
		       int nitems, int gsize, const float *mean, const float *invstd,
		       const float *gamma, const double *sums, double count, int accumulate)
{
	size_t gs = nitems ? (size_t)gsize : N;
	int ng = nitems ? nitems : 1;

	for (int c = 0; c < C; c++) {
		float m = mean[c], is = invstd[c];
		float a1 = (float)(sums[c] / count), a2 = (float)(sums[C + c] / count);

		for (int i = 0; i < ng; i++) {
			size_t off = (size_t)c * N + (size_t)i * gs;
			const float *xr = x + off, *d = dout + off;
			float g = gamma ? (nitems ? gamma[(size_t)i * C + c] : gamma[c]) : 1;
			float *o = dx + off;

			for (size_t j = 0; j < gs; j++) {
				float xh = (xr[j] - m) * is;
				float v = is * (g * d[j] - a1 - xh * a2);

				o[j] = accumulate ? o[j] + v : v;
			}
		}
	}
}

/* ---- pooling, linear, softmax ---- */

void mlde_pool_forward(const float *x, int C, int nitems, int gsize, float *pmax,
		       float *pmean, int ld, int *arg)
{
	size_t N = (size_t)nitems * gsize;

	for (int c = 0; c < C; c++)
		for (int i = 0; i < nitems; i++) {
			const float *r = x + (size_t)c * N + (size_t)i * gsize;
			float mx = r[0], s = 0;
			int am = 0;

			for (int j = 0; j < gsize; j++) {
				s += r[j];
				if (r[j] > mx) {
					mx = r[j];
					am = j;
				}
			}
			pmax[(size_t)i * ld + c] = mx;
			pmean[(size_t)i * ld + c] = s / (float)gsize;
			arg[(size_t)i * C + c] = am;
		}
}

void mlde_pool_backward(const float *dpmax, const float *dpmean, int ld, const int *arg,
			int C, int nitems, int gsize, float *dx)
{
	size_t N = (size_t)nitems * gsize;

	for (int c = 0; c < C; c++)
		for (int i = 0; i < nitems; i++) {
			float *r = dx + (size_t)c * N + (size_t)i * gsize;
			float dm = dpmean[(size_t)i * ld + c] / (float)gsize;

			for (int j = 0; j < gsize; j++)
				r[j] = dm;
			r[arg[(size_t)i * C + c]] += dpmax[(size_t)i * ld + c];
		}
}

void mlde_linear_forward(const float *x, int n, int in, const float *W, const float *b,
			 int out, float *y, int relu)
{
	mlde_gemm(0, 1, n, out, in, 1, x, in, W, in, 0, y, out);
	for (int i = 0; i < n; i++) {
		float *r = y + (size_t)i * out;

		for (int o = 0; o < out; o++) {
			float v = r[o] + (b ? b[o] : 0);
			r[o] = relu && v < 0 ? 0 : v;
		}
	}
}

void mlde_linear_backward(const float *x, int n, int in, const float *W, int out,
			  const float *y, float *dy, int relu, float *dW, float *db,
			  float *dx, int accumulate)
{
	if (relu)
		for (size_t i = 0; i < (size_t)n * out; i++)
			if (!(y[i] > 0))
				dy[i] = 0;
	if (dW)
		mlde_gemm(1, 0, out, in, n, 1, dy, out, x, in, 1, dW, in);
	if (db)
		for (int i = 0; i < n; i++)
			for (int o = 0; o < out; o++)
				db[o] += dy[(size_t)i * out + o];
	if (dx)
		mlde_gemm(0, 0, n, in, out, 1, dy, out, W, in, accumulate ? 1 : 0, dx, in);
}

/* softmax of temp * r[0..P) into s */
static void softmax_row(const float *r, int P, float temp, float *s)
{
	float mx = r[0];
	double sum = 0;

	for (int p = 1; p < P; p++)
		mx = r[p] > mx ? r[p] : mx;
	for (int p = 0; p < P; p++) {
		s[p] = expf(temp * (r[p] - mx));
		sum += s[p];
	}
	for (int p = 0; p < P; p++)
		s[p] = (float)(s[p] / sum);
}

void mlde_softarg_forward(const float *x, int C, int nitems, int P, const float *coords,
			  float temp, float *out, int ld, float *soft)
{
	size_t N = (size_t)nitems * P;

	for (int c = 0; c < C; c++)
		for (int i = 0; i < nitems; i++) {
			float *s = soft + (size_t)c * N + (size_t)i * P, mx = 0, my = 0;

			softmax_row(x + (size_t)c * N + (size_t)i * P, P, temp, s);
			for (int p = 0; p < P; p++) {
				mx += s[p] * coords[p];
				my += s[p] * coords[P + p];
			}
			out[(size_t)i * ld + c] = mx;
			out[(size_t)i * ld + C + c] = my;
		}
}

void mlde_softarg_backward(const float *soft, int C, int nitems, int P, const float *coords,
			   float temp, const float *dout, int ld, float *dx)
{
	size_t N = (size_t)nitems * P;

	for (int c = 0; c < C; c++)
		for (int i = 0; i < nitems; i++) {
			float gx = dout[(size_t)i * ld + c], gy = dout[(size_t)i * ld + C + c];
			float *d = dx + (size_t)c * N + (size_t)i * P, dot = 0;
			const float *s = soft + (size_t)c * N + (size_t)i * P;

			for (int p = 0; p < P; p++)
				dot += s[p] * (gx * coords[p] + gy * coords[P + p]);
			for (int p = 0; p < P; p++)
				d[p] += temp * s[p] * (gx * coords[p] + gy * coords[P + p] - dot);
		}
}

#define LN_EPS 1e-5f

void mlde_ln_forward(const float *x, int n, int d, const float *gamma, const float *beta,
		     float *out, float *mean, float *invstd)
{
	for (int i = 0; i < n; i++) {
		const float *r = x + (size_t)i * d;
		float *o = out + (size_t)i * d;
		double s = 0, q = 0;
		float m, is;

		for (int k = 0; k < d; k++)
			s += r[k];
		m = (float)(s / d);
		for (int k = 0; k < d; k++)
			q += (double)(r[k] - m) * (r[k] - m);
		is = 1 / sqrtf((float)(q / d) + LN_EPS);
		mean[i] = m;
		invstd[i] = is;
		for (int k = 0; k < d; k++) {
			float u = gamma[k] * (r[k] - m) * is + beta[k];
			o[k] = u > 0 ? u : 0;
		}
	}
}

void mlde_ln_backward(const float *x, const float *out, float *dout, int n, int d,
		      const float *mean, const float *invstd, const float *gamma,
		      float *dgamma, float *dbeta, float *dx)
{
	for (int i = 0; i < n; i++) {
		const float *r = x + (size_t)i * d, *o = out + (size_t)i * d;
		float *g = dout + (size_t)i * d, *dr = dx + (size_t)i * d;
		float m = mean[i], is = invstd[i], s1 = 0, s2 = 0;

		for (int k = 0; k < d; k++) {
			float xh = (r[k] - m) * is, dxh;

			if (!(o[k] > 0))
				g[k] = 0;
			dgamma[k] += g[k] * xh;
			dbeta[k] += g[k];
			dxh = g[k] * gamma[k];
			s1 += dxh;
			s2 += dxh * xh;
		}
		s1 /= (float)d;
		s2 /= (float)d;
		for (int k = 0; k < d; k++) {
			float xh = (r[k] - m) * is;

			dr[k] = is * (g[k] * gamma[k] - s1 - xh * s2);
		}
	}
}

void mlde_attend_forward(const float *K, int dk, const float *Q, int nh, const float *Z,
			 int cz, int nitems, int P, float scale, float *alpha, float *a,
			 float *r, float *cnt, int ldr)
{
	size_t N = (size_t)nitems * P;

	for (int i = 0; i < nitems; i++)
		for (int h = 0; h < nh; h++) {
			const float *q = Q + ((size_t)i * nh + h) * dk;
			float *al = alpha + ((size_t)i * nh + h) * P, *lg = a + ((size_t)i * nh + h) * P;
			float *ro = r + (size_t)i * ldr + (size_t)h * cz, mx, c = 0;
			double sum = 0;

			for (int p = 0; p < P; p++)
				lg[p] = 0;
			for (int d = 0; d < dk; d++) {
				const float *kr = K + (size_t)d * N + (size_t)i * P;
				float qd = q[d] * scale;

				for (int p = 0; p < P; p++)
					lg[p] += kr[p] * qd;
			}
			mx = lg[0];
			for (int p = 1; p < P; p++)
				mx = lg[p] > mx ? lg[p] : mx;
			for (int p = 0; p < P; p++) {
				al[p] = expf(lg[p] - mx);
				sum += al[p];
				c += 1 / (1 + expf(-lg[p]));
			}
			for (int p = 0; p < P; p++)
				al[p] = (float)(al[p] / sum);
			cnt[(size_t)i * ldr + h] = c / 8;
			for (int ch = 0; ch < cz; ch++) {
				const float *zr = Z + (size_t)ch * N + (size_t)i * P;
				float v = 0;

				for (int p = 0; p < P; p++)
					v += al[p] * zr[p];
				ro[ch] = v;
			}
		}
}

void mlde_attend_backward(const float *K, int dk, const float *Q, int nh, const float *Z,
			  int cz, int nitems, int P, float scale, const float *alpha,
			  const float *a, const float *dr, const float *dcnt, int ldr,
			  float *dZ, float *dK, float *dQ)
{
	size_t N = (size_t)nitems * P;
	float *da = mlde_xmalloc((size_t)P * sizeof *da);

	for (int i = 0; i < nitems; i++)
		for (int h = 0; h < nh; h++) {
			const float *q = Q + ((size_t)i * nh + h) * dk;
			const float *al = alpha + ((size_t)i * nh + h) * P;
			const float *lg = a + ((size_t)i * nh + h) * P;
			const float *dro = dr + (size_t)i * ldr + (size_t)h * cz;
			float dc = dcnt[(size_t)i * ldr + h] / 8, dot = 0;
			float *dq = dQ + ((size_t)i * nh + h) * dk;

			/* da first holds dalpha */
			for (int p = 0; p < P; p++)
				da[p] = 0;
			for (int ch = 0; ch < cz; ch++) {
				const float *zr = Z + (size_t)ch * N + (size_t)i * P;
				float *dzr = dZ + (size_t)ch * N + (size_t)i * P;
				float g = dro[ch];

				for (int p = 0; p < P; p++) {
					da[p] += g * zr[p];
					dzr[p] += al[p] * g;
				}
			}
			for (int p = 0; p < P; p++)
				dot += al[p] * da[p];
			for (int p = 0; p < P; p++) {
				float sg = 1 / (1 + expf(-lg[p]));

				da[p] = al[p] * (da[p] - dot) + dc * sg * (1 - sg);
			}
			for (int d = 0; d < dk; d++) {
				const float *kr = K + (size_t)d * N + (size_t)i * P;
				float *dkr = dK + (size_t)d * N + (size_t)i * P;
				float qd = q[d] * scale, s = 0;

				for (int p = 0; p < P; p++) {
					s += da[p] * kr[p];
					dkr[p] += da[p] * qd;
				}
				dq[d] = s * scale;
			}
		}
	free(da);
}

double mlde_softmax_xent(float *s, int k, int answer)
{
	float mx = s[0];
	double sum = 0;

	for (int j = 1; j < k; j++)
		if (s[j] > mx)
			mx = s[j];
	for (int j = 0; j < k; j++)
		sum += exp((double)(s[j] - mx));
	for (int j = 0; j < k; j++)
		s[j] = (float)(exp((double)(s[j] - mx)) / sum);
	if (answer < 0)
		return 0;
	return -log(s[answer] > 1e-30f ? (double)s[answer] : 1e-30);
}
