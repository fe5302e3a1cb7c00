/* test-abs.c - the ABS arithmetic of sample/abs.h: quotas that add up to
 * the budget with the documented tie-breaks, shares by strategy, seeded
 * example orders, and the choice of unused pool images (no topk cap). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample/abs.h"
#include "tap.h"

static const char *quotas_of(const double *share, size_t n, long budget)
{
	static char buf[256];
	long q[16];
	size_t at = 0;

	mlde_abs_quotas(share, n, budget, q);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%ld", i ? " " : "", q[i]);
	return buf;
}

static void test_quotas(void)
{
	TAP_IS_STR(quotas_of((double[]){ 1, 2, 1 }, 3, 8), "2 4 2", "exact shares: no remainder");
	TAP_IS_STR(quotas_of((double[]){ 0.5, 0.3, 0.2 }, 3, 7), "4 2 1",
		   "floors 3 2 1, the one left to the largest remainder (.5)");
	TAP_IS_STR(quotas_of((double[]){ 1, 3 }, 2, 2), "0 2",
		   "equal remainders (.5, .5): the larger share wins");
	TAP_IS_STR(quotas_of((double[]){ 3, 1 }, 2, 2), "2 0",
		   "equal remainders: the larger share wins, wherever it is");
	TAP_IS_STR(quotas_of((double[]){ 1, 1, 1 }, 3, 2), "1 1 0",
		   "equal remainders and shares: the lower index wins");
	TAP_IS_STR(quotas_of((double[]){ 0, 0, 0 }, 3, 4), "2 1 1",
		   "every share 0: an even split, the rest to the lower index");
	TAP_IS_STR(quotas_of((double[]){ 0, 1, 0, 1 }, 4, 3), "0 2 0 1",
		   "a share of 0 gets nothing while another share is positive");
	TAP_IS_STR(quotas_of((double[]){ 5 }, 1, 13), "13", "one type takes the whole budget");
	TAP_IS_STR(quotas_of((double[]){ 2, 3 }, 2, 0), "0 0", "budget 0: nothing");

	/* random shares: always exactly the budget, each within 1 of exact */
	{
		mlde_rng r;
		bool sum_ok = true, near_ok = true;

		mlde_rng_seed(&r, 42);
		for (int trial = 0; trial < 2000; trial++) {
			size_t n = 1 + (size_t)mlde_rng_below(&r, 16);
			long budget = (long)mlde_rng_below(&r, 5000), q[16], sum = 0;
			double share[16], total = 0;

			for (size_t i = 0; i < n; i++) {
				share[i] = mlde_rng_below(&r, 4) ? mlde_rng_double(&r) * 10 : 0.0;
				total += share[i];
			}
			mlde_abs_quotas(share, n, budget, q);
			for (size_t i = 0; i < n; i++) {
				double exact = total > 0 ? (double)budget * share[i] / total
							 : (double)budget / (double)n;
				sum += q[i];
				if (!(q[i] >= floor(exact) && q[i] <= floor(exact) + 1))
					near_ok = false;
			}
			if (sum != budget)
				sum_ok = false;
		}
		TAP_OK(sum_ok, "2000 random splits add up to exactly the budget");
		TAP_OK(near_ok, "and each quota is the floor of its exact share or one more");
	}
}

static void test_share(void)
{
	TAP_OK(mlde_abs_share(MLDE_ABS_WEIGHTED, 0.3, 9, 1.0) == 0.3, "abs, T = 1: the weight");
	TAP_OK(fabs(mlde_abs_share(MLDE_ABS_WEIGHTED, 0.25, 9, 0.5) - 0.0625) < 1e-12,
	       "abs, T = 0.5: weight^2 (sharper)");
	TAP_OK(fabs(mlde_abs_share(MLDE_ABS_WEIGHTED, 0.25, 9, 2.0) - 0.5) < 1e-12,
	       "abs, T = 2: weight^(1/2) (flatter)");
	TAP_OK(mlde_abs_share(MLDE_ABS_UNIFORM, 0.3, 9, 1.0) == 1.0, "uniform: 1");
	TAP_OK(mlde_abs_share(MLDE_ABS_PROPORTIONAL, 0.3, 9, 1.0) == 9.0,
	       "proportional: the number of bad cases");
}

static bool is_permutation(const size_t *order, size_t n)
{
	unsigned char seen[64] = { 0 };

	for (size_t i = 0; i < n; i++) {
		if (order[i] >= n || seen[order[i]])
			return false;
		seen[order[i]] = 1;
	}
	return true;
}

static void test_example_order(void)
{
	size_t a[40], b[40], c[40], d[40];
	bool cycle = true;

	mlde_abs_example_order(1, "spatial_relation", a, 40);
	mlde_abs_example_order(1, "spatial_relation", b, 40);
	mlde_abs_example_order(1, "text_understanding", c, 40);
	mlde_abs_example_order(2, "spatial_relation", d, 40);
	TAP_OK(is_permutation(a, 40), "an example order is a permutation");
	TAP_OK(memcmp(a, b, sizeof a) == 0, "same seed and type: the same order");
	TAP_OK(memcmp(a, c, sizeof a) != 0, "another type: another order");
	TAP_OK(memcmp(a, d, sizeof a) != 0, "another seed: another order");
	{
		size_t moved = 0;

		for (size_t i = 0; i < 40; i++)
			moved += a[i] != i;
		TAP_OK(moved > 20, "the order is shuffled (%zu of 40 moved)", moved);
	}
	/* request j of 3 examples takes slots 3j .. 3j+2, wrapping around */
	cycle = true;
	for (long j = 0; j < 30; j++)
		for (long s = 0; s < 3; s++)
			if (mlde_abs_example_at(a, 40, j, 3, s) != a[(size_t)(3 * j + s) % 40])
				cycle = false;
	TAP_OK(cycle, "example_at: slot s of request j is order[(j*k + s) mod n]");
	mlde_abs_example_order(1, "x", a, 0);
	TAP_OK(1, "an empty order is fine");
}

static void test_query_rng(void)
{
	mlde_rng a, b, c;

	mlde_abs_query_rng(&a, 5, "scene_understanding");
	mlde_abs_query_rng(&b, 5, "scene_understanding");
	mlde_abs_query_rng(&c, 5, "instance_identity");
	TAP_OK(mlde_rng_next(&a) == mlde_rng_next(&b), "query stream: the same per seed and type");
	mlde_abs_query_rng(&a, 5, "scene_understanding");
	TAP_OK(mlde_rng_next(&a) != mlde_rng_next(&c), "query stream: its own per type");
}

static void test_usage(void)
{
	mlde_abs_usage u;
	mlde_rng r;
	bool fresh = true;
	unsigned char got[10] = { 0 };

	mlde_rng_seed(&r, 7);
	mlde_abs_usage_init(&u, 10);
	/* ten random unused images, each marked: every image once */
	for (int i = 0; i < 10; i++) {
		size_t im = mlde_abs_random_unused(&u, &r);

		if (im >= 10 || got[im])
			fresh = false;
		else
			got[im] = 1;
		mlde_abs_usage_mark(&u, im);
	}
	TAP_OK(fresh, "random_unused: a pass gives every image once");
	TAP_IS_INT(u.passes, 1, "a used-up pool counts a pass");
	TAP_IS_INT(u.nused, 0, "and starts again with nothing used");
	mlde_abs_usage_mark(&u, 3);
	mlde_abs_usage_mark(&u, 3);
	TAP_IS_INT(u.nused, 1, "marking an image twice counts it once");
	mlde_abs_usage_reset(&u);
	TAP_OK(u.nused == 0 && u.passes == 0 && !u.used[3], "reset: nothing used, no passes");

	/* candidates 5 3 7 1 9, with 3 and 1 used: topk 2 means 5 or 7 */
	{
		const uint32_t idx[] = { 5, 3, 7, 1, 9 };
		int count[5] = { 0 };
		bool only = true;

		mlde_abs_usage_mark(&u, 3);
		mlde_abs_usage_mark(&u, 1);
		for (int i = 0; i < 400; i++) {
			long p = mlde_abs_similar_unused(&u, idx, 5, 2, &r);

			if (p < 0 || p > 4)
				only = false;
			else
				count[p]++;
		}
		TAP_OK(only && count[1] == 0 && count[3] == 0 && count[4] == 0,
		       "similar_unused: only the first topk unused candidates");
		TAP_OK(count[0] > 100 && count[2] > 100, "similar_unused: either of them at random");
		mlde_abs_usage_mark(&u, 5);
		mlde_abs_usage_mark(&u, 7);
		mlde_abs_usage_mark(&u, 9);
		TAP_IS_INT(mlde_abs_similar_unused(&u, idx, 5, 2, &r), -1,
			   "similar_unused: -1 when every candidate is used");
	}
	mlde_abs_usage_free(&u);

	/* no cap: 1000 candidates, topk 600, positions beyond 256 come up */
	{
		uint32_t idx[1000];
		long most = 0;

		mlde_abs_usage_init(&u, 1000);
		for (uint32_t i = 0; i < 1000; i++)
			idx[i] = i;
		for (int i = 0; i < 200; i++) {
			long p = mlde_abs_similar_unused(&u, idx, 1000, 600, &r);
			most = p > most ? p : most;
		}
		TAP_OK(most > 256 && most < 600, "topk 600: picks beyond 256, none beyond 600 (%ld)",
		       most);
		mlde_abs_usage_free(&u);
	}
}

static void test_neighbours(void)
{
	/* pool rows (i, 1, 0): cosine to (1, 0, 0) grows with i */
	float pool[5 * 3], query[3] = { 2, 0, 0 };
	mlde_abs_neighbours nb;
	mlde_abs_usage u;
	mlde_rng r;
	char got[32] = "";
	bool similar = false, all_similar = true;
	float sim = 0;

	for (int i = 0; i < 5; i++) {
		pool[i * 3] = (float)i;
		pool[i * 3 + 1] = 1;
		pool[i * 3 + 2] = 0;
	}
	mlde_abs_neighbours_search(&nb, query, 1, pool, 5, 3, 1, 2);
	TAP_IS_INT(nb.k, 5, "candidates: 4 topk + 16, but at most the pool");
	TAP_OK(nb.idx[0] == 4 && nb.idx[4] == 0, "most similar first");
	TAP_OK(fabsf(nb.score[0] - 4.0f / sqrtf(17.0f)) < 1e-6f, "scores are cosines");
	mlde_rng_seed(&r, 1);
	mlde_abs_usage_init(&u, 5);
	for (int j = 0; j < 5; j++) {
		size_t im = mlde_abs_query_image(&u, &nb, 0, 1, &r, &sim, &similar);

		all_similar = all_similar && similar;
		mlde_abs_usage_mark(&u, im);
		snprintf(got + strlen(got), sizeof got - strlen(got), "%zu ", im);
	}
	TAP_IS_STR(got, "4 3 2 1 0 ", "topk 1: the most similar unused image each time");
	TAP_OK(all_similar, "each one by similarity");
	{
		size_t im = mlde_abs_query_image(&u, NULL, 0, 1, &r, &sim, &similar);

		TAP_OK(im < 5 && !similar, "no neighbours: a random image, not by similarity");
	}
	mlde_abs_usage_free(&u);
	mlde_abs_neighbours_free(&nb);
	mlde_abs_neighbours_search(&nb, query, 0, pool, 5, 3, 8, 2);
	TAP_OK(nb.idx == NULL && nb.k == 5, "no queries: no search");
	mlde_abs_neighbours_free(&nb);
}

int main(void)
{
	test_quotas();
	test_share();
	test_example_order();
	test_query_rng();
	test_usage();
	test_neighbours();
	return TAP_DONE();
}
