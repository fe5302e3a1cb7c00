/* conv.c - 3 x 3 convolutions as gemms whose B operand is a window over a
 * tensor (conv.h).  A window row r = c*ntaps + t is channel c seen through
 * tap t; its column j = (img*Ho + oy)*Wo + ox reads input position
 * (oy*s + dy[t], ox*s + dx[t]) of image img, or 0 outside the image. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "model/conv.h"
#include "model/gemm.h"
#include "model/nn.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2 1
#include "model/avx2.h"
#endif

enum { NR = MLDE_GEMM_NR, CHUNK = 256, TAPS_MAX = 9 };

typedef struct window {
	const float *x;
	int C, n, H, W;
	int Ho, Wo, s;
	int ntaps;
	int dy[TAPS_MAX], dx[TAPS_MAX];
	/* the padded copy of x (mlde_conv3_pad), or NULL: where it is set, tap
	 * t of the segment whose first pixel is at base (window_bases) is the
	 * NR / 2 floats from base + tapoff[t] of its channel's padded plane */
	const float *xp;
	int Hp, Wp;
	int tapoff[TAPS_MAX];
} window;

/* off[t * len + i]: where pixel j0 + i reads tap t in its channel's plane,
 * or -1 where that is outside its image (and for i past the last pixel) */
static void window_offsets(const window *w, int j0, int nj, int len, int32_t *off)
{
	int HoWo = w->Ho * w->Wo;

	for (int i = 0; i < len; i++) {
		int j = j0 + i, img = j / HoWo, oy = j % HoWo / w->Wo, ox = j % w->Wo;

		for (int t = 0; t < w->ntaps; t++) {
			int iy = oy * w->s + w->dy[t], ix = ox * w->s + w->dx[t];
			bool in = i < nj && iy >= 0 && iy < w->H && ix >= 0 && ix < w->W;

			off[t * len + i] = in ? (int32_t)(((size_t)img * w->H + iy) * w->W + ix) : -1;
		}
	}
}

/* d[i] = plane[o[i]] (0 where o[i] < 0), for i < n, n a multiple of 8 */
static void gather_portable(const float *plane, const int32_t *o, int n, float *d)
{
	for (int i = 0; i < n; i++)
		d[i] = o[i] >= 0 ? plane[o[i]] : 0;
}

#ifdef HAVE_AVX2
AVX2 static void gather_avx2(const float *plane, const int32_t *o, int n, float *d)
{
	const __m256i none = _mm256_set1_epi32(-1);

	for (int i = 0; i < n; i += 8) {
		__m256i oi = _mm256_loadu_si256((const __m256i *)(o + i));
		__m256 in = _mm256_castsi256_ps(_mm256_cmpgt_epi32(oi, none));

		_mm256_storeu_ps(d + i, _mm256_mask_i32gather_ps(_mm256_setzero_ps(), plane, oi,
								 in, 4));
	}
}
#endif

typedef void gather_fn(const float *plane, const int32_t *o, int n, float *d);

/* the gather of the CPU the gemm's kernel is chosen for (a move of data,
 * the same values either way) */
static gather_fn *gather_here(void)
{
#ifdef HAVE_AVX2
	if (mlde_gemm_kernel()[0] == 'a')
		return gather_avx2;
#endif
	return gather_portable;
}

/* the channel plane row r of the window reads */
static const float *plane_of(const window *w, int r)
{
	return w->x + (size_t)(r / w->ntaps) * w->n * w->H * w->W;
}

/* ---- the padded copy ----
 * Copied once into planes with a zero border, and at stride 2 with each
 * row's even columns apart from its odd ones, the input reads eight pixels
 * of an output row as eight floats in a row, for every tap: a plain copy,
 * with no masks, no shuffles and no table of where the image ends.  The
 * packed values are the same as the segments' (those are the fallback). */

size_t mlde_conv3_pad_floats(int C, int n, int H, int W)
{
	return (size_t)C * n * (H + 2) * (W + 2);
}

/* row iy of a plane, padded: at stride 1 [0, x..., 0]; at stride 2 the
 * even columns, a 0, the odd ones and a 0, so column 2q is at q and
 * 2q + 1 at W/2 + 1 + q (column -1, the border, at W/2) */
static void pad_row(const float *x, int W, int s, float *d)
{
	if (s == 1) {
		d[0] = 0;
		memcpy(d + 1, x, (size_t)W * sizeof *d);
		d[W + 1] = 0;
		return;
	}
	for (int q = 0; q < W / 2; q++) {
		d[q] = x[2 * q];
		d[W / 2 + 1 + q] = x[2 * q + 1];
	}
	d[W / 2] = 0;
	d[W + 1] = 0;
}

#ifdef HAVE_AVX2
/* columns 2q .. 2q + 15 of a row (lo, hi) to their places at stride 2: the
 * even ones at q, the odd ones at W/2 + 1 + q */
AVX2 static inline void store_even_odd(__m256 lo, __m256 hi, int W, int q, float *d)
{
	/* lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6, then the 64-bit pairs in order */
	__m256d e = _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88));
	__m256d o = _mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xdd));

	_mm256_storeu_ps(d + q, _mm256_castpd_ps(_mm256_permute4x64_pd(e, 0xd8)));
	_mm256_storeu_ps(d + W / 2 + 1 + q, _mm256_castpd_ps(_mm256_permute4x64_pd(o, 0xd8)));
}

/* the same at stride 2, sixteen columns at a time (W % 16 == 0) */
AVX2 static void pad_row_s2_avx2(const float *x, int W, float *d)
{
	for (int q = 0; q < W / 2; q += 8)
		store_even_odd(_mm256_loadu_ps(x + 2 * q), _mm256_loadu_ps(x + 2 * q + 8), W, q, d);
	d[W / 2] = 0;
	d[W + 1] = 0;
}

/* and at stride 1, eight at a time (W % 8 == 0) */
AVX2 static inline void pad_row_s1_avx2(const float *x, int W, float *d)
{
	d[0] = 0;
	for (int i = 0; i < W; i += 8)
		_mm256_storeu_ps(d + 1 + i, _mm256_loadu_ps(x + i));
	d[W + 1] = 0;
}
#endif

bool mlde_conv3_paddable(int W, int s)
{
	return mlde_conv_out(W, 3, s) % 8 == 0 && (s == 1 || W % 2 == 0);
}

/* ---- the padded copy made by its producer ----
 * A batch norm and its ReLU write the next convolution's padded copy
 * directly, max(0, scale * x + shift) a row at a time, so the normalised
 * map itself is never written and read back.  Each value is
 * mlde_affine_relu's (nn.h), as mlde_bn_forward's are, and the AVX2 rows
 * round the product and the sum one by one too: the copy holds the very
 * floats that map would. */

static void pad_row_affine(const float *x, int W, int s, float a, float b, float *d)
{
	if (s == 1) {
		d[0] = 0;
		for (int i = 0; i < W; i++)
			d[1 + i] = mlde_affine_relu(x[i], a, b);
		d[W + 1] = 0;
		return;
	}
	for (int q = 0; q < W / 2; q++) {
		d[q] = mlde_affine_relu(x[2 * q], a, b);
		d[W / 2 + 1 + q] = mlde_affine_relu(x[2 * q + 1], a, b);
	}
	d[W / 2] = 0;
	d[W + 1] = 0;
}

#ifdef HAVE_AVX2
AVX2 static inline __m256 affine_relu8(__m256 x, __m256 a, __m256 b)
{
	/* max(u, 0) is u where u > 0 and 0 otherwise, NaN included, as above */
	return _mm256_max_ps(_mm256_add_ps(_mm256_mul_ps(a, x), b), _mm256_setzero_ps());
}

/* as pad_row_s2_avx2, on the affine map (W % 16 == 0) */
AVX2 static void pad_row_affine_s2_avx2(const float *x, int W, float a, float b, float *d)
{
	__m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);

	for (int q = 0; q < W / 2; q += 8)
		store_even_odd(affine_relu8(_mm256_loadu_ps(x + 2 * q), va, vb),
			       affine_relu8(_mm256_loadu_ps(x + 2 * q + 8), va, vb), W, q, d);
	d[W / 2] = 0;
	d[W + 1] = 0;
}

/* and at stride 1 (W % 8 == 0) */
AVX2 static void pad_row_affine_s1_avx2(const float *x, int W, float a, float b, float *d)
{
	__m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);

	d[0] = 0;
	for (int i = 0; i < W; i += 8)
		_mm256_storeu_ps(d + 1 + i, affine_relu8(_mm256_loadu_ps(x + i), va, vb));
	d[W + 1] = 0;
}
#endif

/* One row into the padded layout: as it is, or through the affine map and
 * its ReLU (scale non-NULL), eight or sixteen columns at a time on AVX2. */
static void pad_one_row(const float *row, int W, int s, bool avx2, const float *scale, float a,
			float b, float *to)
{
#ifdef HAVE_AVX2
	if (avx2 && W % (8 * s) == 0) {
		if (!scale && s == 1)
			pad_row_s1_avx2(row, W, to);
		else if (!scale)
			pad_row_s2_avx2(row, W, to);
		else if (s == 1)
			pad_row_affine_s1_avx2(row, W, a, b, to);
		else
			pad_row_affine_s2_avx2(row, W, a, b, to);
		return;
	}
#else
	(void)avx2;
#endif
	if (scale)
		pad_row_affine(row, W, s, a, b, to);
	else
		pad_row(row, W, s, to);
}

/* The padded copy of x, or with scale and shift of the affine map of x. */
static void pad_planes(const float *x, int C, int n, int H, int W, int s, const float *scale,
		       const float *shift, float *xp)
{
	int Wp = W + 2;
	bool avx2 = gather_here() != gather_portable;

	for (size_t p = 0; p < (size_t)C * n; p++, x += (size_t)H * W) {
		float *d = xp + p * (H + 2) * Wp;
		float a = scale ? scale[p / (size_t)n] : 1, b = scale ? shift[p / (size_t)n] : 0;

		for (int i = 0; i < Wp; i++) {
			d[i] = 0;
			d[(size_t)(H + 1) * Wp + i] = 0;
		}
		for (int iy = 0; iy < H; iy++)
			pad_one_row(x + (size_t)iy * W, W, s, avx2, scale, a, b,
				    d + (size_t)(iy + 1) * Wp);
	}
}

void mlde_conv3_pad(const float *x, int C, int n, int H, int W, int s, float *xp)
{
	pad_planes(x, C, n, H, W, s, NULL, NULL, xp);
}

void mlde_conv3_pad_affine(const float *x, int C, int n, int H, int W, int s,
			   const float *scale, const float *shift, float *xp)
{
	pad_planes(x, C, n, H, W, s, scale, shift, xp);
}

/* the window reads the padded copy xp of its x */
static void window_padded(window *w, const float *xp)
{
	if (!xp || !mlde_conv3_paddable(w->W, w->s))
		return;
	w->xp = xp;
	w->Hp = w->H + 2;
	w->Wp = w->W + 2;
	for (int t = 0; t < w->ntaps; t++) {
		int col = w->s == 1 ? w->dx[t] : w->dx[t] == 0 ? 0 : w->W / 2 + (w->dx[t] > 0);

		w->tapoff[t] = w->dy[t] * w->Wp + col;
	}
}

/* base[g]: where segment g (pixels j0 + 8g ..) reads tap offset 0 */
static void window_bases(const window *w, int j0, int nj, int32_t *base)
{
	int HoWo = w->Ho * w->Wo;

	for (int g = 0; g < nj / 8; g++) {
		int j = j0 + 8 * g, img = j / HoWo, oy = j % HoWo / w->Wo, ox = j % w->Wo;

		base[g] = (int32_t)(((size_t)img * w->Hp + oy * w->s + 1) * w->Wp +
				    (w->s == 1 ? ox + 1 : ox));
	}
}

/* where row r of the window (channel r / ntaps, tap r % ntaps) reads its
 * segments in the padded copy: base[g] floats on */
static const float *padded_row(const window *w, int r)
{
	return w->xp + (size_t)(r / w->ntaps) * w->n * w->Hp * w->Wp + w->tapoff[r % w->ntaps];
}

/* The chunk's panels from the padded copy, a panel at a time: each writes
 * its kc steps of NR floats in a row.  (Row by row, as row_avx2 goes, the
 * writes would stride over the panels, whose distance maps them onto a few
 * sets of the L1 cache.)  A last panel of one segment is zero past it. */
static void panels_padded(const window *w, const int32_t *base, int k0, int kc, int nseg,
			  float *dst)
{
	const float *row[MLDE_GEMM_KC];

	for (int k = 0; k < kc; k++)
		row[k] = padded_row(w, k0 + k);
	for (int g = 0; g < nseg; g += 2, dst += (size_t)kc * NR) {
		int b0 = base[g], b1 = g + 1 < nseg ? base[g + 1] : -1;

		for (int k = 0; k < kc; k++) {
			memcpy(dst + k * NR, row[k] + b0, 8 * sizeof *dst);
			if (b1 >= 0)
				memcpy(dst + k * NR + 8, row[k] + b1, 8 * sizeof *dst);
			else
				memset(dst + k * NR + 8, 0, 8 * sizeof *dst);
		}
	}
}

#ifdef HAVE_AVX2
/* the same with 32-byte loads and stores (a memcpy of 32 bytes is split in
 * two under the compiler's generic tuning) */
AVX2 static void panels_padded_avx2(const window *w, const int32_t *base, int k0, int kc,
				    int nseg, float *dst)
{
	const float *row[MLDE_GEMM_KC];

	for (int k = 0; k < kc; k++)
		row[k] = padded_row(w, k0 + k);
	for (int g = 0; g < nseg; g += 2, dst += (size_t)kc * NR) {
		int b0 = base[g], b1 = g + 1 < nseg ? base[g + 1] : -1;

		/* the rows' lines two panels on, whose reads jump from plane
		 * to plane where the hardware's prefetchers lose them */
		int pf = g + 4 < nseg ? base[g + 4] : b0;

		for (int k = 0; k < kc; k++) {
			_mm_prefetch((const char *)(row[k] + pf), _MM_HINT_T0);
			_mm256_storeu_ps(dst + k * NR, _mm256_loadu_ps(row[k] + b0));
			_mm256_storeu_ps(dst + k * NR + 8, b1 >= 0 ? _mm256_loadu_ps(row[k] + b1)
								    : _mm256_setzero_ps());
		}
	}
}
#endif

/* ---- eight pixels of an output row at a time (AVX2) ----
 * Where the output rows are whole eights (Wo % 8 == 0, as in every layer of
 * the model), the eight pixels of a segment read one input row: at stride
 * 1 eight floats in a row, at stride 2 the even ones of sixteen.  Each
 * segment of each tap is an offset and the lanes to load (masked loads
 * read nothing where the mask is off): none where the tap's row is outside
 * the image, and not the first or last pixel where that is outside
 * sideways. */

typedef struct segment {
	int32_t off;               /* where its first pixel reads */
	int32_t lo[8], hi[8];      /* masks of the floats off.. and off+8.. */
} segment;

typedef struct segments {
	segment seg[TAPS_MAX * CHUNK / 8];  /* [t][g] */
	int nseg;
} segments;

static bool segmentable(const window *w, int j0, int nj)
{
	return w->Wo % 8 == 0 && j0 % 8 == 0 && nj % 8 == 0 && nj / 8 <= CHUNK / 8;
}

/* the floats a segment loads: at stride 1 lanes 0-7 of lo; at stride 2
 * the even ones of lo and hi, never the last of hi (it may be past the
 * row, and is not needed) */
static void segment_masks(int s, bool out, bool first_out, bool last_out, segment *g)
{
	for (int l = 0; l < 8; l++) {
		int lo_pixel = s == 1 ? l : l / 2;

		g->lo[l] = out || (first_out && lo_pixel == 0) || (s == 1 && last_out && l == 7)
			? 0 : -1;
		g->hi[l] = out || s == 1 || l == 7 ? 0 : -1;
	}
}

static void window_segments(const window *w, int j0, int nj, segments *sg)
{
	int HoWo = w->Ho * w->Wo;

	sg->nseg = nj / 8;
	for (int g = 0; g < sg->nseg; g++) {
		int j = j0 + 8 * g, img = j / HoWo, oy = j % HoWo / w->Wo, ox = j % w->Wo;

		for (int t = 0; t < w->ntaps; t++) {
			int iy = oy * w->s + w->dy[t], ix = ox * w->s + w->dx[t];
			int last = (ox + 7) * w->s + w->dx[t];
			bool out = iy < 0 || iy >= w->H;
			segment *e = &sg->seg[t * sg->nseg + g];

			e->off = out ? 0 : (int32_t)(((size_t)img * w->H + iy) * w->W + ix);
			segment_masks(w->s, out, ix < 0, last >= w->W, e);
		}
	}
}

#ifdef HAVE_AVX2
AVX2 static inline __m256 segment_s1(const float *plane, const segment *e)
{
	return _mm256_maskload_ps(plane + e->off, _mm256_loadu_si256((const __m256i *)e->lo));
}

AVX2 static inline __m256 segment_s2(const float *plane, const segment *e)
{
	__m256 lo = _mm256_maskload_ps(plane + e->off, _mm256_loadu_si256((const __m256i *)e->lo));
	__m256 hi = _mm256_maskload_ps(plane + e->off + 8,
				       _mm256_loadu_si256((const __m256i *)e->hi));
	__m256 v = _mm256_shuffle_ps(lo, hi, 0x88);  /* lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6 */

	return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xd8));
}

/* row r of the window over segments g0.. of the table: segment g to
 * d + (g / 2) * panel + (g % 2) * 8, two to a panel of NR pixels (or, with
 * panel 16, one row of 8 * nseg floats) */
AVX2 static void row_avx2(const window *w, const segments *sg, int r, int g0, int nseg,
			  float *d, size_t panel)
{
	const float *plane = plane_of(w, r);
	const segment *e = sg->seg + (size_t)(r % w->ntaps) * sg->nseg + g0;

	if (w->s == 1)
		for (int g = 0; g < nseg; g++)
			_mm256_storeu_ps(d + (g / 2) * panel + (g % 2) * 8, segment_s1(plane, e + g));
	else
		for (int g = 0; g < nseg; g++)
			_mm256_storeu_ps(d + (g / 2) * panel + (g % 2) * 8, segment_s2(plane, e + g));
}
/* The window transposed, for a panel of NR rows r0.. (nr of them) over
 * the table's pixels: each segment's eight pixels of the sixteen rows, as
 * two 8 x 8 transposes, straight into the panel's eight steps. */
AVX2 static void panel_t_avx2(const window *w, const segments *sg, int r0, int nr, float *dst)
{
	for (int g = 0; g < sg->nseg; g++) {
		__m256 v[NR];

		for (int i = 0; i < NR; i++) {
			int r = r0 + i;
			const float *plane;
			const segment *e;

			if (i >= nr) {
				v[i] = _mm256_setzero_ps();
				continue;
			}
			plane = plane_of(w, r);
			e = sg->seg + (size_t)(r % w->ntaps) * sg->nseg + g;
			v[i] = w->s == 1 ? segment_s1(plane, e) : segment_s2(plane, e);
		}
		mlde_transpose8(v);
		mlde_transpose8(v + 8);
		for (int j = 0; j < 8; j++) {
			_mm256_storeu_ps(dst + (size_t)(8 * g + j) * NR, v[j]);
			_mm256_storeu_ps(dst + (size_t)(8 * g + j) * NR + 8, v[8 + j]);
		}
	}
}
#endif

/* pixels nq.. len of a chunk's panels (a last panel's remainder) are 0 */
static void zero_past(float *d, int kc, int nq, int len)
{
	for (int p = nq; p < len; p++)
		for (int k = 0; k < kc; k++)
			d[(size_t)(p / NR * NR) * kc + k * NR + p % NR] = 0;
}

/* op(B) = the window: k = row r, x = pixel j; panels of NR pixels, made
 * CHUNK pixels at a time */
static void pack_window(const mlde_gemm_operand *op, int k0, int kc, int x0, int nx, float *dst)
{
	const window *w = op->ctx;
	gather_fn *gather = gather_here();
	int32_t off[TAPS_MAX * CHUNK];

	for (int q = 0; q < nx; q += CHUNK) {
		int nq = nx - q < CHUNK ? nx - q : CHUNK, len = (nq + NR - 1) / NR * NR;
		bool fast = gather != gather_portable && segmentable(w, x0 + q, nq);

		if (w->xp && segmentable(w, x0 + q, nq)) {
			int32_t base[CHUNK / 8];

			window_bases(w, x0 + q, nq, base);
#ifdef HAVE_AVX2
			if (gather != gather_portable) {
				panels_padded_avx2(w, base, k0, kc, nq / 8, dst + (size_t)q * kc);
				continue;
			}
#endif
			panels_padded(w, base, k0, kc, nq / 8, dst + (size_t)q * kc);
			continue;
		}
#ifdef HAVE_AVX2
		if (fast) {
			segments sg;

			/* a row at a time, along the chunk: its reads run on
			 * in each input row, and its writes go to the panels;
			 * only the chunk's own pixels are read */
			window_segments(w, x0 + q, nq, &sg);
			for (int k = 0; k < kc; k++)
				row_avx2(w, &sg, k0 + k, 0, nq / 8, dst + (size_t)q * kc + k * NR,
					 (size_t)kc * NR);
			zero_past(dst + (size_t)q * kc, kc, nq, len);
			continue;
		}
#endif
		window_offsets(w, x0 + q, nq, len, off);
		for (int p = 0; p < len; p += NR) {
			float *d = dst + (size_t)(q + p) * kc;

			for (int k = 0; k < kc; k++) {
				int r = k0 + k;

				gather(plane_of(w, r), off + (r % w->ntaps) * len + p, NR, d + k * NR);
			}
		}
	}
}

/* The padded window transposed, for a panel of NR rows r0.. (nr of
 * them) over nseg segments: as panel_t_avx2, with plain loads. */
#ifdef HAVE_AVX2
AVX2 static void panel_t_padded_avx2(const window *w, const int32_t *base, int nseg, int r0,
				     int nr, float *dst)
{
	const float *row[NR];

	for (int i = 0; i < nr; i++)
		row[i] = padded_row(w, r0 + i);
	for (int g = 0; g < nseg; g++) {
		__m256 v[NR];

		for (int i = 0; i < NR; i++)
			v[i] = i < nr ? _mm256_loadu_ps(row[i] + base[g]) : _mm256_setzero_ps();
		mlde_transpose8(v);
		mlde_transpose8(v + 8);
		for (int j = 0; j < 8; j++) {
			_mm256_storeu_ps(dst + (size_t)(8 * g + j) * NR, v[j]);
			_mm256_storeu_ps(dst + (size_t)(8 * g + j) * NR + 8, v[8 + j]);
		}
	}
}
#endif

/* the same, portable: each row's segments copied out, then transposed */
static void panel_t_padded(const window *w, const int32_t *base, int nseg, int r0, int nr,
			   float *dst)
{
	float rows[NR][MLDE_GEMM_KC];
	const float *from[NR];

	for (int i = 0; i < nr; i++) {
		const float *row = padded_row(w, r0 + i);

		for (int g = 0; g < nseg; g++)
			memcpy(rows[i] + 8 * g, row + base[g], 8 * sizeof(float));
		from[i] = rows[i];
	}
	mlde_gemm_transpose_rows(from, nr, 8 * nseg, NR, dst);
}

/* op(B) = the window transposed: k = pixel j, x = row r; panels of NR rows,
 * each made whole (kc <= MLDE_GEMM_KC pixels) and then transposed */
static void pack_window_t(const mlde_gemm_operand *op, int k0, int kc, int x0, int nx,
			  float *dst)
{
	const window *w = op->ctx;
	gather_fn *gather = gather_here();
	int len = (kc + 7) / 8 * 8;
	bool fast = gather != gather_portable && segmentable(w, k0, len) && len == kc;
	int32_t off[TAPS_MAX * MLDE_GEMM_KC];
	float rows[NR][MLDE_GEMM_KC];
	segments sg;

	if (w->xp && segmentable(w, k0, len) && len == kc) {
		int32_t base[MLDE_GEMM_KC / 8];

		window_bases(w, k0, kc, base);
		for (int p = 0; p < nx; p += NR, dst += (size_t)kc * NR) {
			int nr = nx - p < NR ? nx - p : NR;

#ifdef HAVE_AVX2
			if (gather != gather_portable) {
				panel_t_padded_avx2(w, base, kc / 8, x0 + p, nr, dst);
				continue;
			}
#endif
			panel_t_padded(w, base, kc / 8, x0 + p, nr, dst);
		}
		return;
	}
	if (fast)
		window_segments(w, k0, len, &sg);
	else
		window_offsets(w, k0, kc, len, off);
	for (int p = 0; p < nx; p += NR, dst += (size_t)kc * NR) {
		int nr = nx - p < NR ? nx - p : NR;
		const float *from[NR];

#ifdef HAVE_AVX2
		if (fast) {
			panel_t_avx2(w, &sg, x0 + p, nr, dst);
			continue;
		}
#endif
		for (int i = 0; i < nr; i++) {
			int r = x0 + p + i;

			gather(plane_of(w, r), off + (r % w->ntaps) * len, len, rows[i]);
			from[i] = rows[i];
		}
		mlde_gemm_transpose_rows(from, nr, kc, NR, dst);
	}
}

/* the 3 x 3 window of a stride-s convolution, tap t = ky*3 + kx */
static window window3(const float *x, int C, int n, int H, int W, int s)
{
	window w = { .x = x, .C = C, .n = n, .H = H, .W = W, .s = s, .ntaps = 9,
		     .Ho = mlde_conv_out(H, 3, s), .Wo = mlde_conv_out(W, 3, s) };

	for (int t = 0; t < 9; t++) {
		w.dy[t] = t / 3 - 1;
		w.dx[t] = t % 3 - 1;
	}
	return w;
}

static mlde_gemm_operand window_operand(const window *w, bool transposed)
{
	return (mlde_gemm_operand){ .pack = transposed ? pack_window_t : pack_window, .ctx = w };
}

void mlde_conv3_forward(const float *x, int C, int n, int H, int W, int s, const float *w,
			int F, float *y, const float *xp)
{
	window win = window3(x, C, n, H, W, s);
	mlde_gemm_operand a = mlde_gemm_matrix_a(w, 9 * C, false), b;
	int N = n * win.Ho * win.Wo;

	window_padded(&win, xp);
	b = window_operand(&win, false);
	mlde_gemm_run(F, N, 9 * C, &a, &b, false, y, N);
}

void mlde_conv3_wgrad(const float *x, int C, int n, int H, int W, int s, const float *dy,
		      int F, float *dw, const float *xp)
{
	window win = window3(x, C, n, H, W, s);
	int N = n * win.Ho * win.Wo;
	mlde_gemm_operand a = mlde_gemm_matrix_a(dy, N, false), b;

	window_padded(&win, xp);
	b = window_operand(&win, true);
	mlde_gemm_run(F, 9 * C, N, &a, &b, true, dw, 9 * C);
}

/* ---- the input gradient ----
 * dx(c, iy, ix) = sum over f and the taps (ky, kx) that reach it of
 * w[f][c, ky, kx] dy(f, oy, ox), iy = oy*s + ky - 1: a product of a weight
 * matrix A[c][f*ntaps + t] = w[f][c*9 + tap[t]] with a window over dy. */

typedef struct taps_of {
	const float *w;
	int C, ntaps;
	int tap[TAPS_MAX];
} taps_of;

static void pack_weights_t(const mlde_gemm_operand *op, int k0, int kc, int x0, int nx,
			   float *dst)
{
	const taps_of *tw = op->ctx;
	enum { MR = MLDE_GEMM_MR };

	for (int p = 0; p < nx; p += MR, dst += (size_t)kc * MR)
		for (int k = 0; k < kc; k++) {
			int r = k0 + k, f = r / tw->ntaps, t = tw->tap[r % tw->ntaps];

			for (int i = 0; i < MR; i++) {
				int c = x0 + p + i;

				dst[k * MR + i] = c < x0 + nx
					? tw->w[(size_t)f * 9 * tw->C + (size_t)c * 9 + t] : 0;
			}
		}
}

/* Stride 1: tap t of the window over dy reads (iy - ky + 1, ix - kx + 1),
 * which is window3's tap 8 - t: the flipped kernel. */
static void dgrad_s1(const float *dy, int F, int n, int H, int W, const float *w, int C,
		     int Cx, float *dx, bool accumulate, float *pad)
{
	window win = window3(dy, F, n, H, W, 1);
	taps_of tw = { .w = w, .C = C, .ntaps = 9 };
	mlde_gemm_operand a = { .pack = pack_weights_t, .ctx = &tw }, b;
	int N = n * H * W;

	for (int t = 0; t < 9; t++)
		tw.tap[t] = 8 - t;
	if (pad && mlde_conv3_paddable(W, 1)) {
		mlde_conv3_pad(dy, F, n, H, W, 1, pad);
		window_padded(&win, pad);
	}
	b = window_operand(&win, false);
	mlde_gemm_run(Cx, N, 9 * F, &a, &b, accumulate, dx, N);
}

/* Stride 2: input row iy = 2*qy + py.  Even rows (py 0) are reached by ky 1
 * from oy = qy; odd rows by ky 0 from oy = qy + 1 and by ky 2 from oy = qy.
 * The same for columns; each of the four parities is a product of its own
 * taps over dy on the grid of qy, qx, into its quarter of scratch, and the
 * quarters are then woven into dx, two output rows at a time. */
static void parity_product(const float *dy, int F, int n, int Ho, int Wo, const float *w,
			   int C, int Cx, int py, int px, float *out, const float *padded)
{
	static const int nk[2] = { 1, 2 }, ks[2][2] = { { 1, 0 }, { 0, 2 } },
			 shift[2][2] = { { 0, 0 }, { 1, 0 } };
	window win = { .x = dy, .C = F, .n = n, .H = Ho, .W = Wo, .Ho = Ho, .Wo = Wo, .s = 1 };
	taps_of tw = { .w = w, .C = C };
	mlde_gemm_operand a = { .pack = pack_weights_t, .ctx = &tw }, b;
	int N = n * Ho * Wo;

	for (int i = 0; i < nk[py]; i++)
		for (int j = 0; j < nk[px]; j++) {
			win.dy[win.ntaps] = shift[py][i];
			win.dx[win.ntaps] = shift[px][j];
			tw.tap[win.ntaps] = ks[py][i] * 3 + ks[px][j];
			win.ntaps++;
		}
	tw.ntaps = win.ntaps;
	window_padded(&win, padded);
	b = window_operand(&win, false);
	mlde_gemm_run(Cx, N, F * win.ntaps, &a, &b, false, out, N);
}

/* dx row = even, odd, even, odd... of rows e and o (Wo each) */
static void weave(const float *e, const float *o, int Wo, float *d, bool accumulate)
{
	if (accumulate)
		for (int q = 0; q < Wo; q++) {
			d[2 * q] += e[q];
			d[2 * q + 1] += o[q];
		}
	else
		for (int q = 0; q < Wo; q++) {
			d[2 * q] = e[q];
			d[2 * q + 1] = o[q];
		}
}

static void dgrad_s2(const float *dy, int F, int n, int H, int W, const float *w, int C,
		     int Cx, float *dx, bool accumulate, float *scratch, float *pad)
{
	int Ho = H / 2, Wo = W / 2;
	size_t N = (size_t)n * Ho * Wo, quarter = (size_t)Cx * N;
	const float *padded = NULL;

	/* the four products read one padded copy of dy */
	if (pad && mlde_conv3_paddable(Wo, 1)) {
		mlde_conv3_pad(dy, F, n, Ho, Wo, 1, pad);
		padded = pad;
	}
	for (int p = 0; p < 4; p++)
		parity_product(dy, F, n, Ho, Wo, w, C, Cx, p / 2, p % 2, scratch + p * quarter,
			       padded);
	for (size_t row = 0; row < (size_t)Cx * n * Ho; row++) {
		const float *s = scratch + row * Wo;
		float *d = dx + row * 2 * W;

		weave(s, s + quarter, Wo, d, accumulate);
		weave(s + 2 * quarter, s + 3 * quarter, Wo, d + W, accumulate);
	}
}

void mlde_conv3_dgrad(const float *dy, int F, int n, int H, int W, int s, const float *w,
		      int C, int Cx, float *dx, bool accumulate, float *scratch, float *pad)
{
	if (s == 1)
		dgrad_s1(dy, F, n, H, W, w, C, Cx, dx, accumulate, pad);
	else
		dgrad_s2(dy, F, n, H, W, w, C, Cx, dx, accumulate, scratch, pad);
}
