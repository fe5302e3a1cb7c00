/* rng.c - xoshiro256** (Blackman and Vigna) with splitmix64 seeding. */
#include "base/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void mlde_rng_seed(mlde_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

void mlde_rng_seed2(mlde_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed;
	uint64_t mixed = splitmix64(&x) ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);

	mlde_rng_seed(r, mixed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t mlde_rng_next(mlde_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t mlde_rng_below(mlde_rng *r, uint64_t n)
{
	/* reject the top sliver so every value is equally likely */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = mlde_rng_next(r);
	while (x >= limit);
	return x % n;
}

double mlde_rng_double(mlde_rng *r)
{
	return (double)(mlde_rng_next(r) >> 11) * 0x1.0p-53;
}

double mlde_rng_normal(mlde_rng *r)
{
	double u1 = 1.0 - mlde_rng_double(r); /* (0, 1]: log is finite */
	double u2 = mlde_rng_double(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void mlde_rng_shuffle(mlde_rng *r, void *base, size_t n, size_t size)
{
	unsigned char *p = base;

	for (size_t i = n; i > 1; i--) {
		unsigned char *a = p + (i - 1) * size;
		unsigned char *b = p + (size_t)mlde_rng_below(r, i) * size;

		for (size_t k = 0; k < size; k++) {
			unsigned char t = a[k];
			a[k] = b[k];
			b[k] = t;
		}
	}
}
