/* avx2.h - what the AVX2 paths of the engine (gemm.c, conv.c) share.
 * Included only where HAVE_AVX2 is defined: x86-64 with GCC or clang, the
 * functions compiled for AVX2 and FMA by attribute and called only where
 * the CPU has them (mlde_gemm_kernel). */
#ifndef MLDE_AVX2_H
#define MLDE_AVX2_H

#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

/* out[j] = column j of the 8 x 8 block in r: [r0[j], r1[j], ..., r7[j]] */
AVX2 static inline void mlde_transpose8(__m256 r[8])
{
	__m256 t[8], u[8];

	for (int i = 0; i < 4; i++) {
		t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
		t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
	}
	for (int h = 0; h < 2; h++) {
		__m256 *a = t + 4 * h, *o = u + 4 * h;

		o[0] = _mm256_shuffle_ps(a[0], a[2], 0x44);
		o[1] = _mm256_shuffle_ps(a[0], a[2], 0xee);
		o[2] = _mm256_shuffle_ps(a[1], a[3], 0x44);
		o[3] = _mm256_shuffle_ps(a[1], a[3], 0xee);
	}
	for (int j = 0; j < 4; j++) {
		r[j] = _mm256_permute2f128_ps(u[j], u[j + 4], 0x20);
		r[j + 4] = _mm256_permute2f128_ps(u[j], u[j + 4], 0x31);
	}
}

#endif
