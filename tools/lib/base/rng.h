/* rng.h - the one random number generator of mlde: xoshiro256** seeded
 * through splitmix64.  Same seed, same sequence, on every machine, so worlds,
 * samples and trainings are reproducible byte for byte. */
#ifndef MLDE_RNG_H
#define MLDE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct mlde_rng {
	uint64_t s[4];
} mlde_rng;

void mlde_rng_seed(mlde_rng *r, uint64_t seed);
/* An independent stream for a named purpose: seed and stream id mixed. */
void mlde_rng_seed2(mlde_rng *r, uint64_t seed, uint64_t stream);
uint64_t mlde_rng_next(mlde_rng *r);
/* Uniform integer in [0, n), without modulo bias; n > 0. */
uint64_t mlde_rng_below(mlde_rng *r, uint64_t n);
/* Uniform double in [0, 1), 53 bits. */
double mlde_rng_double(mlde_rng *r);
/* Standard normal (Box-Muller, no cached second value: keeps state simple). */
double mlde_rng_normal(mlde_rng *r);
/* Fisher-Yates shuffle of n elements of size bytes each. */
void mlde_rng_shuffle(mlde_rng *r, void *base, size_t n, size_t size);

#endif
