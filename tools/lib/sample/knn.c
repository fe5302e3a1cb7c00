/* knn.c - blocked top-k search: sgemm computes a block of query x base
 * scores, then each query's k best so far are kept in a small min-heap. */
#include "sample/knn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "base/err.h"

size_t mlde_knn_normalize(float *v, size_t n, size_t d)
{
	size_t zero = 0;

	for (size_t i = 0; i < n; i++) {
		float *row = v + i * d;
		double sum = 0.0;

		for (size_t j = 0; j < d; j++)
			sum += (double)row[j] * row[j];
		if (sum == 0.0) {
			zero++;
			continue;
		}
		float inv = (float)(1.0 / sqrt(sum));
		for (size_t j = 0; j < d; j++)
			row[j] *= inv;
	}
	return zero;
}

double mlde_knn_flops(size_t nq, size_t nb, size_t d)
{
	return 2.0 * (double)nq * (double)nb * (double)d;
}

/* Is candidate (sa, ia) worse than (sb, ib)?  Lower score, or the same
 * score and a higher index: the order that makes results deterministic. */
static int worse(float sa, uint32_t ia, float sb, uint32_t ib)
{
	return sa < sb || (sa == sb && ia > ib);
}

/* Exchange entries a and b of the parallel score and index arrays. */
static void swap_entries(float *s, uint32_t *ix, size_t a, size_t b)
{
	float ts = s[a];
	uint32_t ti = ix[a];

	s[a] = s[b];
	ix[a] = ix[b];
	s[b] = ts;
	ix[b] = ti;
}

/* A min-heap of k entries by `worse`: the root is the one to replace. */
static void sift_down(float *s, uint32_t *ix, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && worse(s[l], ix[l], s[m], ix[m]))
			m = l;
		if (r < n && worse(s[r], ix[r], s[m], ix[m]))
			m = r;
		if (m == i)
			return;
		swap_entries(s, ix, i, m);
		i = m;
	}
}

static void sift_up(float *s, uint32_t *ix, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!worse(s[i], ix[i], s[p], ix[p]))
			return;
		swap_entries(s, ix, i, p);
		i = p;
	}
}

/* Offer one block row of scores to a query's heap of `*filled` entries. */
static void offer_row(const float *row, size_t n, uint32_t first, float *s, uint32_t *ix,
		      size_t k, size_t *filled)
{
	for (size_t j = 0; j < n; j++) {
		uint32_t id = first + (uint32_t)j;

		if (*filled < k) {
			s[*filled] = row[j];
			ix[*filled] = id;
			sift_up(s, ix, (*filled)++);
		} else if (worse(s[0], ix[0], row[j], id)) {
			s[0] = row[j];
			ix[0] = id;
			sift_down(s, ix, k, 0);
		}
	}
}

/* Turn a full heap into a best-first list (heapsort, in place). */
static void heap_to_sorted(float *s, uint32_t *ix, size_t k)
{
	for (size_t n = k; n > 1; n--) {
		swap_entries(s, ix, 0, n - 1);
		sift_down(s, ix, n - 1, 0);
	}
}

void mlde_knn_search(const float *queries, size_t nq, const float *base, size_t nb,
		     size_t d, size_t k, uint32_t *idx, float *score)
{
	float *block = mlde_xmalloc(sizeof(float) * MLDE_KNN_QUERY_BLOCK * MLDE_KNN_BASE_BLOCK);
	size_t *filled = mlde_xcalloc(MLDE_KNN_QUERY_BLOCK, sizeof *filled);

	for (size_t q0 = 0; q0 < nq; q0 += MLDE_KNN_QUERY_BLOCK) {
		size_t qn = nq - q0 < MLDE_KNN_QUERY_BLOCK ? nq - q0 : MLDE_KNN_QUERY_BLOCK;

		for (size_t i = 0; i < qn; i++)
			filled[i] = 0;
		for (size_t b0 = 0; b0 < nb; b0 += MLDE_KNN_BASE_BLOCK) {
			size_t bn = nb - b0 < MLDE_KNN_BASE_BLOCK ? nb - b0 : MLDE_KNN_BASE_BLOCK;

			/* block[qn x bn] = Q[q0.., :] . B[b0.., :]^T */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)qn, (int)bn,
				    (int)d, 1.0f, queries + q0 * d, (int)d, base + b0 * d, (int)d,
				    0.0f, block, (int)bn);
			for (size_t i = 0; i < qn; i++)
				offer_row(block + i * bn, bn, (uint32_t)b0, score + (q0 + i) * k,
					  idx + (q0 + i) * k, k, &filled[i]);
		}
		for (size_t i = 0; i < qn; i++)
			heap_to_sorted(score + (q0 + i) * k, idx + (q0 + i) * k, k);
	}
	free(filled);
	free(block);
}
