/* test-conv.c - the window convolutions (model/conv.h) against im2col and
 * col2im with a product (which test-nn holds to the definition, value for
 * value): the output, the weight gradient and the input gradient, for
 * strides 1 and 2, channel counts off every block, more pixels than a
 * packing chunk and sums longer than a block; the padded copies' layout;
 * and the padded and unpadded, AVX2 and portable paths all giving the same
 * bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/conv.h"
#include "model/gemm.h"
#include "model/nn.h"
#include "tap.h"

static unsigned long long rng = 2463534242ULL;

static float *rand_floats(size_t n)
{
	float *m = malloc((n ? n : 1) * sizeof *m);

	for (size_t i = 0; i < n; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		m[i] = (float)((rng >> 11) * (1.0 / 9007199254740992.0)) - 0.5f;
	}
	return m;
}

/* the largest |a - b| relative to the largest |b| */
static double rel_diff(const float *a, const float *b, size_t n)
{
	double d = 0, m = 1e-30;

	for (size_t i = 0; i < n; i++) {
		d = fmax(d, fabs((double)a[i] - b[i]));
		m = fmax(m, fabs((double)b[i]));
	}
	return d / m;
}

typedef struct conv_out {
	float *y, *dw, *dx;
} conv_out;

/* the window path: y, dw (from a start of dw0) and dx (on a start of dx0
 * when accumulating); reading padded copies where padded */
static conv_out windowed(const float *x, const float *w, const float *dy, const float *dw0,
			 const float *dx0, int C, int Cx, int F, int n, int H, int s,
			 bool accumulate, bool padded)
{
	int Ho = mlde_conv_out(H, 3, s);
	size_t nx = (size_t)C * n * H * H, nw = (size_t)F * 9 * C;
	conv_out o = { malloc((size_t)F * n * Ho * Ho * sizeof(float)),
		       malloc(nw * sizeof(float)), malloc(nx * sizeof(float)) };
	float *scratch = malloc(nx * sizeof(float));
	float *xp = NULL, *dpad = NULL;

	if (padded && mlde_conv3_paddable(H, s)) {
		xp = malloc(mlde_conv3_pad_floats(C, n, H, H) * sizeof(float));
		mlde_conv3_pad(x, C, n, H, H, s, xp);
	}
	if (padded)
		dpad = malloc(mlde_conv3_pad_floats(F, n, H, H) * sizeof(float));
	memcpy(o.dw, dw0, nw * sizeof(float));
	memcpy(o.dx, dx0, nx * sizeof(float));
	mlde_conv3_forward(x, C, n, H, H, s, w, F, o.y, xp);
	mlde_conv3_wgrad(x, C, n, H, H, s, dy, F, o.dw, xp);
	mlde_conv3_dgrad(dy, F, n, H, H, s, w, C, Cx, o.dx, accumulate, scratch, dpad);
	free(scratch);
	free(xp);
	free(dpad);
	return o;
}

static bool same_out(conv_out a, conv_out b, size_t ny, size_t nw, size_t nx)
{
	return memcmp(a.y, b.y, ny * sizeof(float)) == 0 &&
	       memcmp(a.dw, b.dw, nw * sizeof(float)) == 0 &&
	       memcmp(a.dx, b.dx, nx * sizeof(float)) == 0;
}

static void free_out(conv_out o)
{
	free(o.y);
	free(o.dw);
	free(o.dx);
}

static void test_case(int C, int Cx, int F, int n, int H, int s, bool accumulate)
{
	int Ho = mlde_conv_out(H, 3, s), N = n * Ho * Ho, K = 9 * C;
	size_t nx = (size_t)C * n * H * H, nw = (size_t)F * K, ny = (size_t)F * N;
	float *x = rand_floats(nx), *w = rand_floats(nw), *dy = rand_floats(ny);
	float *dw0 = rand_floats(nw), *dx0 = rand_floats(nx);
	float *col = malloc((size_t)K * N * sizeof(float)), *dcol = malloc((size_t)K * N * sizeof(float));
	float *y = malloc(ny * sizeof(float)), *dw = malloc(nw * sizeof(float));
	float *dx = calloc(nx, sizeof(float));
	conv_out o, p;
	char what[96];

	snprintf(what, sizeof what, "%d->%d channels (%d of dx), %d images of %dx%d, stride %d%s", C,
		 F, Cx, n, H, H, s, accumulate ? ", dx +=" : "");
	/* the reference: im2col, the products, col2im */
	mlde_im2col(x, C, n, H, H, 3, s, col);
	mlde_gemm(0, 0, F, N, K, 1, w, K, col, N, 0, y, N);
	memcpy(dw, dw0, nw * sizeof(float));
	mlde_gemm(0, 1, F, K, N, 1, dy, N, col, N, 1, dw, K);
	mlde_gemm(1, 0, K, N, F, 1, w, K, dy, N, 0, dcol, N);
	mlde_col2im(dcol, C, n, H, H, 3, s, dx);
	for (size_t i = 0; i < nx; i++)
		if (accumulate)
			dx[i] += dx0[i];

	o = windowed(x, w, dy, dw0, dx0, C, Cx, F, n, H, s, accumulate, false);
	TAP_OK(rel_diff(o.y, y, ny) < 1e-5, "%s: the output", what);
	TAP_OK(rel_diff(o.dw, dw, nw) < 1e-5, "%s: the weight gradient", what);
	/* only the first Cx channels of dx are made; the rest keep dx0 */
	TAP_OK(rel_diff(o.dx, dx, (size_t)Cx * n * H * H) < 1e-5, "%s: the input gradient", what);
	TAP_OK(memcmp(o.dx + (size_t)Cx * n * H * H, dx0 + (size_t)Cx * n * H * H,
		      (nx - (size_t)Cx * n * H * H) * sizeof(float)) == 0,
	       "%s: channels past %d of dx untouched", what, Cx);

	/* the padded copies change where the values are read, not them */
	p = windowed(x, w, dy, dw0, dx0, C, Cx, F, n, H, s, accumulate, true);
	TAP_OK(same_out(o, p, ny, nw, nx), "%s: the padded copies give the same bits", what);
	free_out(p);
	for (int padded = 0; padded < 2; padded++) {
		mlde_gemm_portable(true);
		p = windowed(x, w, dy, dw0, dx0, C, Cx, F, n, H, s, accumulate, padded);
		mlde_gemm_portable(false);
		TAP_OK(same_out(o, p, ny, nw, nx), "%s: the portable path%s gives the same bits",
		       what, padded ? ", padded," : "");
		free_out(p);
	}
	free_out(o);
	free(x); free(w); free(dy); free(dw0); free(dx0);
	free(col); free(dcol); free(y); free(dw); free(dx);
}

/* The layout itself, on a 2-image, 1-channel 2 x 16 input at stride 2
 * and a 1 x 8 one at stride 1: the border is 0, and at stride 2 the even
 * columns come first, then a 0 (column -1), then the odd ones. */
static void test_pad_layout(void)
{
	float x[2 * 2 * 16], xp[2 * 4 * 18], x1[8], xp1[3 * 10];
	bool ok = true;

	for (int i = 0; i < 64; i++)
		x[i] = (float)(i + 1);
	TAP_OK(mlde_conv3_paddable(16, 2) && !mlde_conv3_paddable(15, 2) &&
		       !mlde_conv3_paddable(14, 2) && mlde_conv3_paddable(8, 1) &&
		       !mlde_conv3_paddable(9, 1),
	       "paddable: output rows of whole eights, and at stride 2 an even width");
	TAP_OK(mlde_conv3_pad_floats(1, 2, 2, 16) == sizeof xp / sizeof *xp,
	       "pad_floats: n x (H + 2) x (W + 2) a channel");
	for (int port = 0; port < 2; port++) {
		mlde_gemm_portable(port);
		mlde_conv3_pad(x, 1, 2, 2, 16, 2, xp);
		for (int img = 0; img < 2; img++)
			for (int r = 0; r < 4; r++)
				for (int i = 0; i < 18; i++) {
					int iy = r - 1, col = i < 8 ? 2 * i : i == 8 || i == 17 ? -1
									     : 2 * (i - 9) + 1;
					float want = iy < 0 || iy >= 2 || col < 0
						? 0 : x[(img * 2 + iy) * 16 + col];

					ok = ok && xp[(img * 4 + r) * 18 + i] == want;
				}
	}
	mlde_gemm_portable(false);
	TAP_OK(ok, "pad at stride 2: zero border, even columns, 0, odd columns, 0 (both paths)");
	for (int i = 0; i < 8; i++)
		x1[i] = (float)(i + 1);
	mlde_conv3_pad(x1, 1, 1, 1, 8, 1, xp1);
	ok = true;
	for (int i = 0; i < 30; i++)
		ok = ok && xp1[i] == (i > 10 && i < 19 ? (float)(i - 10) : 0);
	TAP_OK(ok, "pad at stride 1: the row inside a zero border");
}

/* A batch norm's map written straight into the padded copy: the same
 * floats as mlde_bn_forward (with its ReLU) then mlde_conv3_pad, on both
 * paths, at strides 1 and 2; and the convolutions on that copy alone (x
 * NULL) give the same bits as on x and its copy. */
static void test_pad_affine(int C, int n, int H, int s)
{
	size_t nx = (size_t)C * n * H * H, np = mlde_conv3_pad_floats(C, n, H, H);
	int F = 8, Ho = mlde_conv_out(H, 3, s);
	size_t ny = (size_t)F * n * Ho * Ho, nw = (size_t)F * 9 * C;
	float *y = rand_floats(nx), *mean = rand_floats((size_t)C), *invstd = rand_floats((size_t)C);
	float *gamma = rand_floats((size_t)C), *beta = rand_floats((size_t)C);
	float *scale = malloc((size_t)C * sizeof(float)), *shift = malloc((size_t)C * sizeof(float));
	float *a = malloc(nx * sizeof(float)), *want = malloc(np * sizeof(float));
	float *got = malloc(np * sizeof(float)), *w = rand_floats(nw), *dy = rand_floats(ny);
	float *o1 = malloc(ny * sizeof(float)), *o2 = malloc(ny * sizeof(float));
	float *dw1 = calloc(nw, sizeof(float)), *dw2 = calloc(nw, sizeof(float));
	bool same = true;

	for (int c = 0; c < C; c++)
		invstd[c] += 1;
	mlde_bn_forward(y, a, C, (size_t)n * H * H, mean, invstd, gamma, beta, 1);
	mlde_bn_affine(C, mean, invstd, gamma, beta, scale, shift);
	for (int port = 0; port < 2; port++) {
		mlde_gemm_portable(port);
		mlde_conv3_pad(a, C, n, H, H, s, want);
		memset(got, 0x7f, np * sizeof(float));
		mlde_conv3_pad_affine(y, C, n, H, H, s, scale, shift, got);
		same = same && memcmp(got, want, np * sizeof(float)) == 0;
	}
	mlde_gemm_portable(false);
	TAP_OK(same, "pad_affine, %d channels of %d x %dx%d at stride %d: the batch norm's floats, "
	       "padded (both paths)", C, n, H, H, s);
	mlde_conv3_forward(a, C, n, H, H, s, w, F, o1, want);
	mlde_conv3_forward(NULL, C, n, H, H, s, w, F, o2, got);
	mlde_conv3_wgrad(a, C, n, H, H, s, dy, F, dw1, want);
	mlde_conv3_wgrad(NULL, C, n, H, H, s, dy, F, dw2, got);
	TAP_OK(memcmp(o1, o2, ny * sizeof(float)) == 0 && memcmp(dw1, dw2, nw * sizeof(float)) == 0,
	       "forward and weight gradient on the padded copy alone (x NULL): the same bits");
	free(y); free(mean); free(invstd); free(gamma); free(beta); free(scale); free(shift);
	free(a); free(want); free(got); free(w); free(dy); free(o1); free(o2); free(dw1);
	free(dw2);
}

int main(void)
{
	test_pad_layout();
	test_pad_affine(3, 2, 32, 2);
	test_pad_affine(5, 3, 16, 2);
	test_pad_affine(4, 2, 8, 1);
	/* the stem's shapes, small: 3 -> 32 at stride 2, then 32 -> 64 */
	test_case(3, 3, 8, 2, 16, 2, false);
	test_case(5, 5, 7, 3, 8, 2, false);
	test_case(40, 40, 13, 3, 16, 2, false);   /* K 360: two blocks; 192 pixels */
	test_case(3, 3, 4, 2, 34, 2, true);       /* 578 pixels: three chunks */
	test_case(120, 120, 6, 1, 16, 2, false);  /* K 1080: past the packed-once A */
	test_case(8, 8, 140, 2, 16, 2, false);    /* 140 outputs: past one block of A */
	test_case(4, 4, 5, 3, 64, 2, false);      /* 3072 pixels */
	/* the FiLM blocks': stride 1, the input gradient of the feature
	 * channels only (66 in, 64 of dx) */
	test_case(66, 64, 64, 2, 8, 1, true);
	test_case(6, 6, 5, 3, 9, 1, false);
	test_case(30, 28, 9, 5, 8, 1, false);     /* K 270, 320 pixels */
	test_case(2, 1, 3, 1, 5, 1, true);
	printf("1..%d\n", tap_count);
	return tap_failures != 0;
}
