/* knn.c - blocked top-k search: a gemm computes a block of query x base
 * scores, then each query's k best so far are kept in a small min-heap;
 * blocks of queries go to the threads. */
#include "sample/knn.h"

#include <math.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/par.h"
#include "model/nn.h"  /* mlde_gemm */

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

/* The search, a block of queries at a time; each member its own block
 * of scores. */
typedef struct search {
	const float *queries, *base;
	size_t nq, nb, d, k, qblock;
	uint32_t *idx;
	float *score;
	float **block;     /* [thread]: qblock x MLDE_KNN_BASE_BLOCK scores */
	size_t **filled;   /* [thread]: entries in each query's heap */
} search;

static void search_block(void *ctx, size_t blk, int tid)
{
	const search *S = ctx;
	size_t q0 = blk * S->qblock, qn = S->nq - q0 < S->qblock ? S->nq - q0 : S->qblock;
	float *block = S->block[tid];
	size_t *filled = S->filled[tid];

	for (size_t i = 0; i < qn; i++)
		filled[i] = 0;
	for (size_t b0 = 0; b0 < S->nb; b0 += MLDE_KNN_BASE_BLOCK) {
		size_t bn = S->nb - b0 < MLDE_KNN_BASE_BLOCK ? S->nb - b0 : MLDE_KNN_BASE_BLOCK;

		/* block[qn x bn] = Q[q0.., :] . B[b0.., :]^T: the engine's gemm,
		 * whose sums go in one order whatever the CPU, the blocks and
		 * the threads (OpenBLAS's changed with its thread count) */
		mlde_gemm(0, 1, (int)qn, (int)bn, (int)S->d, 1.0f, S->queries + q0 * S->d, (int)S->d,
			  S->base + b0 * S->d, (int)S->d, 0.0f, block, (int)bn);
		for (size_t i = 0; i < qn; i++)
			offer_row(block + i * bn, bn, (uint32_t)b0, S->score + (q0 + i) * S->k,
				  S->idx + (q0 + i) * S->k, S->k, &filled[i]);
	}
	for (size_t i = 0; i < qn; i++)
		heap_to_sorted(S->score + (q0 + i) * S->k, S->idx + (q0 + i) * S->k, S->k);
}

void mlde_knn_search(const float *queries, size_t nq, const float *base, size_t nb,
		     size_t d, size_t k, int threads, uint32_t *idx, float *score)
{
	search S = { .queries = queries, .base = base, .nq = nq, .nb = nb, .d = d, .k = k,
		     .idx = idx, .score = score };
	size_t nblocks;

	threads = threads < 1 ? 1 : threads;
	/* at least four blocks a thread, so the last ones even out, and none
	 * over MLDE_KNN_QUERY_BLOCK; a block of 8 at the least */
	S.qblock = (nq + 4 * (size_t)threads - 1) / (4 * (size_t)threads);
	S.qblock = S.qblock < 8 ? 8 : S.qblock > MLDE_KNN_QUERY_BLOCK ? MLDE_KNN_QUERY_BLOCK
								  : S.qblock;
	nblocks = (nq + S.qblock - 1) / S.qblock;
	if ((size_t)threads > nblocks)
		threads = nblocks ? (int)nblocks : 1;
	S.block = mlde_xmalloc((size_t)threads * sizeof *S.block);
	S.filled = mlde_xmalloc((size_t)threads * sizeof *S.filled);
	for (int t = 0; t < threads; t++) {
		S.block[t] = mlde_xmalloc(sizeof(float) * S.qblock * MLDE_KNN_BASE_BLOCK);
		S.filled[t] = mlde_xcalloc(S.qblock, sizeof **S.filled);
	}
	mlde_par_for(threads, nblocks, search_block, &S);
	for (int t = 0; t < threads; t++) {
		free(S.block[t]);
		free(S.filled[t]);
	}
	free(S.block);
	free(S.filled);
}
