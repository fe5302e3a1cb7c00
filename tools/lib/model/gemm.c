/* gemm.c - the engine's own sgemm: GotoBLAS's blocking (a KC x NC block of
 * B packed into NR-wide panels, an MC x KC block of A into MR-high ones,
 * an MR x NR tile of C in registers for KC steps), one thread, with the
 * order of every sum fixed and the same on every CPU (gemm.h). */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "model/gemm.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2_KERNEL 1
#include "model/avx2.h"
#endif

enum { MR = MLDE_GEMM_MR, NR = MLDE_GEMM_NR, KC = MLDE_GEMM_KC, MC = MLDE_GEMM_MC,
       NC = MLDE_GEMM_NC, KA = 1024, NB = 256 };

typedef void kernel_fn(int kc, const float *a, const float *b, float *c, int ldc, int mr,
		       int nr, bool add);

/* ---- the kernels: acc[i][j] = fma(a[k][i], b[k][j], acc[i][j]) for k
 * ascending, from zero; then C = acc or C = C + acc ---- */

static void store_tile(const float *acc, float *c, int ldc, int mr, int nr, bool add)
{
	for (int i = 0; i < mr; i++)
		for (int j = 0; j < nr; j++)
			c[(size_t)i * ldc + j] = add ? c[(size_t)i * ldc + j] + acc[i * NR + j]
						     : acc[i * NR + j];
}

static void kernel_portable(int kc, const float *a, const float *b, float *c, int ldc, int mr,
			    int nr, bool add)
{
	float acc[MR * NR] = { 0 };

	for (int k = 0; k < kc; k++, a += MR, b += NR)
		for (int i = 0; i < MR; i++)
			for (int j = 0; j < NR; j++)
				acc[i * NR + j] = fmaf(a[i], b[j], acc[i * NR + j]);
	store_tile(acc, c, ldc, mr, nr, add);
}

#ifdef HAVE_AVX2_KERNEL

AVX2 static inline void row_store(float *c, __m256 lo, __m256 hi, bool add)
{
	if (add) {
		lo = _mm256_add_ps(_mm256_loadu_ps(c), lo);
		hi = _mm256_add_ps(_mm256_loadu_ps(c + 8), hi);
	}
	_mm256_storeu_ps(c, lo);
	_mm256_storeu_ps(c + 8, hi);
}

/* A panel's tile past its sum: rows of acc (ROWS <= MR in registers) to C,
 * by rows where it is whole, through a buffer where it is cut short. */
#define TILE_STORE(ROWS, ...)                                                       \
	do {                                                                        \
		__m256 r_[2 * (ROWS)] = { __VA_ARGS__ };                            \
		float acc_[MR * NR] __attribute__((aligned(32)));                   \
		if (mr == (ROWS) && nr == NR) {                                     \
			for (int i_ = 0; i_ < (ROWS); i_++)                         \
				row_store(c + (size_t)i_ * ldc, r_[2 * i_],         \
					  r_[2 * i_ + 1], add);                     \
			return;                                                     \
		}                                                                   \
		for (int i_ = 0; i_ < 2 * (ROWS); i_++)                             \
			_mm256_store_ps(acc_ + 8 * i_, r_[i_]);                     \
		store_tile(acc_, c, ldc, mr, nr, add);                              \
	} while (0)

/* One step of the sum for row i of the tile: a[i] broadcast against the
 * two halves of b's sixteen, into that row's two accumulators. */
#define ROW_STEP(i, lo, hi)                                  \
	do {                                                 \
		__m256 t_ = _mm256_broadcast_ss(a + (i));    \
		lo = _mm256_fmadd_ps(t_, b0, lo);            \
		hi = _mm256_fmadd_ps(t_, b1, hi);            \
	} while (0)

/* The last panel of an M that is not a multiple of six (64 is ten and
 * four, 32 five and two) has only its rows summed: the same steps, in the
 * same order, for each element, so the same bits as the six-row kernel. */
AVX2 static void kernel_avx2_2(int kc, const float *a, const float *b, float *c, int ldc,
			       int mr, int nr, bool add)
{
	__m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;

	for (int k = 0; k < kc; k++, a += MR, b += NR) {
		__m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);

		ROW_STEP(0, c00, c01);
		ROW_STEP(1, c10, c11);
	}
	TILE_STORE(2, c00, c01, c10, c11);
}

AVX2 static void kernel_avx2_4(int kc, const float *a, const float *b, float *c, int ldc,
			       int mr, int nr, bool add)
{
	__m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00,
	       c21 = c00, c30 = c00, c31 = c00;

	for (int k = 0; k < kc; k++, a += MR, b += NR) {
		__m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);

		ROW_STEP(0, c00, c01);
		ROW_STEP(1, c10, c11);
		ROW_STEP(2, c20, c21);
		ROW_STEP(3, c30, c31);
	}
	TILE_STORE(4, c00, c01, c10, c11, c20, c21, c30, c31);
}

/* Twelve accumulators, two loads of b and six broadcasts of a a step: the
 * fifteen of the sixteen ymm registers GotoBLAS's 6 x 16 shape is for. */
AVX2 static void kernel_avx2(int kc, const float *a, const float *b, float *c, int ldc, int mr,
			     int nr, bool add)
{
	if (mr <= 2) {
		kernel_avx2_2(kc, a, b, c, ldc, mr, nr, add);
		return;
	}
	if (mr <= 4) {
		kernel_avx2_4(kc, a, b, c, ldc, mr, nr, add);
		return;
	}
	__m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00,
	       c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;

	/* the tile's lines are on their way while the sum runs */
	for (int i = 0; i < mr; i++) {
		_mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
		_mm_prefetch((const char *)(c + (size_t)i * ldc + NR - 1), _MM_HINT_T0);
	}

	for (int k = 0; k < kc; k++, a += MR, b += NR) {
		__m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);

		ROW_STEP(0, c00, c01);
		ROW_STEP(1, c10, c11);
		ROW_STEP(2, c20, c21);
		ROW_STEP(3, c30, c31);
		ROW_STEP(4, c40, c41);
		ROW_STEP(5, c50, c51);
	}
	TILE_STORE(6, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
}
#endif

static bool force_portable;

void mlde_gemm_portable(bool on)
{
	force_portable = on;
}

static kernel_fn *kernel_here(void)
{
#ifdef HAVE_AVX2_KERNEL
	if (!force_portable && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return kernel_avx2;
#endif
	return kernel_portable;
}

const char *mlde_gemm_kernel(void)
{
	return kernel_here() == kernel_portable ? "portable" : "avx2";
}

/* ---- transposing rows into a panel ----
 * dst[k * width + i] = rows[i][k] for i < nrows, 0 for nrows <= i < width:
 * the packing of an operand whose rows run along the sum (A, or B^T). */

static void gather_rows_portable(const float *const *rows, int nrows, int kc, int width,
				 float *dst)
{
	for (int k = 0; k < kc; k++)
		for (int i = 0; i < width; i++)
			dst[k * width + i] = i < nrows ? rows[i][k] : 0;
}

#ifdef HAVE_AVX2_KERNEL
/* Eight steps of k at a time, by 8 x 8 transposes of eight rows; rows past
 * nrows read as zero, and a panel of six takes the first six lanes. */
AVX2 static void gather_rows_avx2(const float *const *rows, int nrows, int kc, int width,
				  float *dst)
{
	int k = 0;

	for (; k + 8 <= kc; k += 8)
		for (int g = 0; g < width; g += 8) {
			__m256 r[8];

			for (int i = 0; i < 8; i++)
				r[i] = g + i < nrows ? _mm256_loadu_ps(rows[g + i] + k)
						     : _mm256_setzero_ps();
			mlde_transpose8(r);
			for (int j = 0; j < 8; j++) {
				float *d = dst + (size_t)(k + j) * width + g;

				if (width - g >= 8)
					_mm256_storeu_ps(d, r[j]);
				else {
					/* six lanes as four and two: a masked store
					 * is microcode on some CPUs */
					_mm_storeu_ps(d, _mm256_castps256_ps128(r[j]));
					_mm_storel_pi((__m64 *)(d + 4), _mm256_extractf128_ps(r[j], 1));
				}
			}
		}
	if (k < kc) {
		const float *tail[NR];

		for (int i = 0; i < nrows; i++)
			tail[i] = rows[i] + k;
		gather_rows_portable(tail, nrows, kc - k, width, dst + (size_t)k * width);
	}
}
#endif

void mlde_gemm_transpose_rows(const float *const *rows, int nrows, int kc, int width,
			      float *dst)
{
#ifdef HAVE_AVX2_KERNEL
	if (kernel_here() == kernel_avx2) {
		gather_rows_avx2(rows, nrows, kc, width, dst);
		return;
	}
#endif
	gather_rows_portable(rows, nrows, kc, width, dst);
}

/* ---- packing a stored matrix ---- */

/* Panels of width (MR or NR) of x0.. of a stored matrix: where x is its
 * row (x_is_row), each row runs along the sum and is transposed in; else
 * step k is a run of its row k, copied. */
static void pack_stored(const float *data, int ld, bool x_is_row, int width, int k0, int kc,
			int x0, int nx, float *dst)
{
	for (int p = 0; p < nx; p += width, dst += (size_t)kc * width) {
		int w = nx - p < width ? nx - p : width;

		if (x_is_row) {
			const float *rows[NR];

			for (int i = 0; i < w; i++)
				rows[i] = data + (size_t)(x0 + p + i) * ld + k0;
			mlde_gemm_transpose_rows(rows, w, kc, width, dst);
			continue;
		}
		for (int k = 0; k < kc; k++) {
			const float *s = data + (size_t)(k0 + k) * ld + x0 + p;

			if (w == width)  /* the whole run: a plain copy, vectorised */
				for (int j = 0; j < width; j++)
					dst[k * width + j] = s[j];
			else
				for (int j = 0; j < width; j++)
					dst[k * width + j] = j < w ? s[j] : 0;
		}
	}
}

/* rows x0.. of op(A): A[x][k] (trans 0) or A[k][x] (trans 1) */
static void pack_matrix_a(const mlde_gemm_operand *op, int k0, int kc, int x0, int nx,
			  float *dst)
{
	pack_stored(op->data, op->ld, !op->trans, MR, k0, kc, x0, nx, dst);
}

/* columns x0.. of op(B): B[k][x] (trans 0) or B[x][k] (trans 1) */
static void pack_matrix_b(const mlde_gemm_operand *op, int k0, int kc, int x0, int nx,
			  float *dst)
{
	pack_stored(op->data, op->ld, op->trans, NR, k0, kc, x0, nx, dst);
}

mlde_gemm_operand mlde_gemm_matrix_a(const float *data, int ld, bool trans)
{
	return (mlde_gemm_operand){ .pack = pack_matrix_a, .data = data, .ld = ld,
				    .trans = trans };
}

mlde_gemm_operand mlde_gemm_matrix_b(const float *data, int ld, bool trans)
{
	return (mlde_gemm_operand){ .pack = pack_matrix_b, .data = data, .ld = ld,
				    .trans = trans };
}

/* ---- the calling thread's packing buffers ----
 * kept per thread (the team's members multiply at once), made on its first
 * product and freed when it ends; where no key can be had, each product
 * makes its own */

typedef struct workspace {
	void *araw, *braw;
	float *a, *b;
} workspace;

static pthread_key_t ws_key;
static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static bool ws_keyed;

static void ws_free(void *p)
{
	workspace *ws = p;

	free(ws->araw);
	free(ws->braw);
	free(ws);
}

static void ws_key_make(void)
{
	ws_keyed = pthread_key_create(&ws_key, ws_free) == 0;
}

/* n floats on a 64-byte line, from *raw */
static float *falloc_aligned(size_t n, void **raw)
{
	char *p = mlde_xmalloc(n * sizeof(float) + 64);

	*raw = p;
	return (float *)(p + (64 - (uintptr_t)p % 64));
}

static workspace *ws_make(void)
{
	workspace *ws = mlde_xmalloc(sizeof *ws);

	ws->a = falloc_aligned((size_t)MC * KA, &ws->araw);
	ws->b = falloc_aligned((size_t)KC * NC, &ws->braw);
	return ws;
}

/* the thread's buffers, or NULL where they cannot be kept */
static workspace *ws_kept(void)
{
	workspace *ws;

	pthread_once(&ws_once, ws_key_make);
	if (!ws_keyed)
		return NULL;
	ws = pthread_getspecific(ws_key);
	if (ws)
		return ws;
	ws = ws_make();
	if (pthread_setspecific(ws_key, ws) != 0) {
		ws_free(ws);
		return NULL;
	}
	return ws;
}

/* ---- the product ---- */

static void zero_or_keep(int M, int N, bool accumulate, float *C, int ldc)
{
	if (accumulate)
		return;
	for (int i = 0; i < M; i++)
		memset(C + (size_t)i * ldc, 0, (size_t)N * sizeof *C);
}

/* The depth of the blocks of a sum of K terms: as even as may be, so that
 * no block is a short remainder (K = 288 runs as 144 + 144, not 256 + 32),
 * a multiple of 8 (a packer may go eight steps at a time), and a function
 * of K alone, so the order of the sums is too. */
static int block_depth(int K)
{
	int nblocks = (K + KC - 1) / KC;

	return ((K + nblocks - 1) / nblocks + 7) / 8 * 8;
}

static void tiles(kernel_fn *kern, int mc, int nc, int kc, const float *ap, const float *bp,
		  bool add, float *C, int ldc)
{
	for (int jr = 0; jr < nc; jr += NR)
		for (int ir = 0; ir < mc; ir += MR)
			kern(kc, ap + (size_t)ir * kc, bp + (size_t)jr * kc,
			     C + (size_t)ir * ldc + jr, ldc, mc - ir < MR ? mc - ir : MR,
			     nc - jr < NR ? nc - jr : NR, add);
}

/* A small op(A) (the engine's weights: M <= MC rows, K <= KA) is packed
 * once, whole, and stays in L2; B then goes by in narrow blocks, each
 * packed into L1/L2 just before its products. */
static void run_a_resident(kernel_fn *kern, int M, int N, int K, int kb,
			   const mlde_gemm_operand *a, const mlde_gemm_operand *b,
			   bool accumulate, float *C, int ldc, workspace *ws)
{
	size_t apanel = (size_t)(M + MR - 1) / MR * MR;

	for (int pc = 0; pc < K; pc += kb)
		a->pack(a, pc, K - pc < kb ? K - pc : kb, 0, M, ws->a + apanel * pc);
	for (int jc = 0; jc < N; jc += NB) {
		int nc = N - jc < NB ? N - jc : NB;

		for (int pc = 0; pc < K; pc += kb) {
			int kc = K - pc < kb ? K - pc : kb;

			b->pack(b, pc, kc, jc, nc, ws->b);
			tiles(kern, M, nc, kc, ws->a + apanel * pc, ws->b, accumulate || pc > 0,
			      C + jc, ldc);
		}
	}
}

/* Anything else, GotoBLAS's way: a KC x NC block of B, packed once,
 * against every MC block of A in turn. */
static void run_blocked(kernel_fn *kern, int M, int N, int K, int kb,
			const mlde_gemm_operand *a, const mlde_gemm_operand *b, bool accumulate,
			float *C, int ldc, workspace *ws)
{
	for (int jc = 0; jc < N; jc += NC) {
		int nc = N - jc < NC ? N - jc : NC;

		for (int pc = 0; pc < K; pc += kb) {
			int kc = K - pc < kb ? K - pc : kb;

			b->pack(b, pc, kc, jc, nc, ws->b);
			for (int ic = 0; ic < M; ic += MC) {
				int mc = M - ic < MC ? M - ic : MC;

				a->pack(a, pc, kc, ic, mc, ws->a);
				tiles(kern, mc, nc, kc, ws->a, ws->b, accumulate || pc > 0,
				      C + (size_t)ic * ldc + jc, ldc);
			}
		}
	}
}

static _Thread_local double flops_here;

double mlde_gemm_flops(void)
{
	return flops_here;
}

void mlde_gemm_count(double flops)
{
	flops_here += flops;
}

void mlde_gemm_run(int M, int N, int K, const mlde_gemm_operand *a,
		   const mlde_gemm_operand *b, bool accumulate, float *C, int ldc)
{
	kernel_fn *kern = kernel_here();
	workspace *ws, *own = NULL;
	int kb;

	if (M <= 0 || N <= 0)
		return;
	flops_here += 2.0 * M * N * (K > 0 ? K : 0);
	if (K <= 0) {
		zero_or_keep(M, N, accumulate, C, ldc);
		return;
	}
	kb = block_depth(K);
	ws = ws_kept();
	if (!ws)
		ws = own = ws_make();
	if (M <= MC && K <= KA)
		run_a_resident(kern, M, N, K, kb, a, b, accumulate, C, ldc, ws);
	else
		run_blocked(kern, M, N, K, kb, a, b, accumulate, C, ldc, ws);
	if (own)
		ws_free(own);
}
