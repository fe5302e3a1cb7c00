/* knn.h - the k most similar vectors of a base set for many queries, by
 * cosine similarity, computed as blocked gemms so memory stays the vectors
 * plus a fixed block of scores a thread however large the base set is. */
#ifndef MLDE_KNN_H
#define MLDE_KNN_H

#include <stddef.h>
#include <stdint.h>

/* Scale each of the n rows of v (d floats) to unit length; a zero row stays
 * zero (similar to nothing).  Returns the number of zero rows. */
size_t mlde_knn_normalize(float *v, size_t n, size_t d);

/* For each of nq query rows, the k rows of base (nb x d) with the highest
 * dot product, best first; equal scores go to the lower index.  idx and
 * score hold nq * k entries; k must be at most nb.  On up to threads
 * threads, each a block of queries at a time: the same bits however many,
 * and on any CPU (the products are the engine's gemm, model/gemm.h). */
void mlde_knn_search(const float *queries, size_t nq, const float *base, size_t nb,
		     size_t d, size_t k, int threads, uint32_t *idx, float *score);

/* Floating-point operations of the search, for rate reports. */
double mlde_knn_flops(size_t nq, size_t nb, size_t d);

/* Rows of queries (at most) and of base per block: with the thread count,
 * the bound on extra memory. */
#define MLDE_KNN_QUERY_BLOCK 512
#define MLDE_KNN_BASE_BLOCK 4096

#endif
