/* conv.h - the builtin model's 3 x 3 convolutions (zero padding 1, stride
 * 1 or 2) as products with a window: the gemm's packer reads the columns
 * straight from the image, a cache-sized block at a time, so no im2col
 * matrix is ever made, kept for the backward, or folded back (col2im).
 *
 * Tensors are channel-major ("CNHW", nn.h): C rows of n*H*W floats.  The
 * weights of a convolution of C inputs and F outputs are F x 9C, row f
 * holding (c*3 + ky)*3 + kx, as im2col's rows are numbered. */
#ifndef MLDE_CONV_H
#define MLDE_CONV_H

#include <stdbool.h>

/* The forward and the weight gradient read x, or where xp is given and the
 * shape allows (mlde_conv3_paddable), its padded copy xp (mlde_conv3_pad),
 * which is faster.  The input gradient takes pad, NULL or room for the
 * padded copy of dy (mlde_conv3_pad_floats(F, n, Ho, Wo)), which it makes
 * there and reads.  The results are the same bits either way. */

/* y (F x n*Ho*Wo) = conv(x), x of C x (n*H*W), Ho = (H + 1) / s + ... (as
 * mlde_conv_out: the output of a 3 x 3, padding 1, stride s) */
void mlde_conv3_forward(const float *x, int C, int n, int H, int W, int s, const float *w,
			int F, float *y, const float *xp);
/* dw (F x 9C) += dL/dw, from the forward's input x and dy (F x n*Ho*Wo) */
void mlde_conv3_wgrad(const float *x, int C, int n, int H, int W, int s, const float *dy,
		      int F, float *dw, const float *xp);
/* dx (C x n*H*W) = dL/dx, or += when accumulate, from dy (F x n*Ho*Wo),
 * for the first Cx <= C input channels only (the rest are not needed).
 * Stride 1 is a convolution of dy by the flipped kernel; stride 2 (H and W
 * even) is four, one for each parity of the input position, each with the
 * taps that reach it, written through scratch (Cx x n*H*W floats). */
void mlde_conv3_dgrad(const float *dy, int F, int n, int H, int W, int s, const float *w,
		      int C, int Cx, float *dx, bool accumulate, float *scratch, float *pad);

/* The padded copy: C planes of n x (H + 2) x (W + 2) floats, at stride 2
 * with each row's even columns apart from its odd ones.  Paddable: the
 * output rows are whole eights (Wo % 8 == 0), and at stride 2 W is even. */
size_t mlde_conv3_pad_floats(int C, int n, int H, int W);
bool mlde_conv3_paddable(int W, int s);
void mlde_conv3_pad(const float *x, int C, int n, int H, int W, int s, float *xp);
/* The padded copy of max(0, scale[c] x + shift[c]) over channel c of x
 * (a batch norm and its ReLU: mlde_bn_affine), made without writing that
 * map: the same floats mlde_bn_forward would give it.  Where the copy is
 * given to mlde_conv3_forward or _wgrad of a paddable shape, their x is
 * not read and may be NULL. */
void mlde_conv3_pad_affine(const float *x, int C, int n, int H, int W, int s,
			   const float *scale, const float *shift, float *xp);

#endif
