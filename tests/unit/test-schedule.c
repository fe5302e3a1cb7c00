/* test-schedule.c - model/schedule.h: the epoch order against the stable
 * sort mlde-train used before (same draws, same order), images kept
 * together, the shift of an image and of a batch, and the learning rate's
 * warm-up and cosine. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model/schedule.h"
#include "tap.h"

#define NITEMS 500
#define NIMG 97

/* The order as mlde-train computed it before: the same keys, then a
 * stable insertion sort of the item indices by key. */
static void reference_order(mlde_rng *r, const mlde_mc_item *items, size_t n, size_t nimg,
			    size_t *idx)
{
	uint64_t rank[NIMG], place[NIMG], key[NITEMS];

	for (size_t i = 0; i < nimg; i++)
		rank[i] = i;
	mlde_rng_shuffle(r, rank, nimg, sizeof *rank);
	for (size_t i = 0; i < nimg; i++)
		place[rank[i]] = i;
	for (size_t i = 0; i < n; i++)
		key[i] = (place[items[i].image] << 24) | (mlde_rng_next(r) >> 40);
	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		for (; j > 0 && key[idx[j - 1]] > key[i]; j--)
			idx[j] = idx[j - 1];
		idx[j] = i;
	}
}

static void test_epoch_order(void)
{
	static mlde_mc_item items[NITEMS];
	const mlde_mc_item *order[NITEMS], *again[NITEMS];
	size_t idx[NITEMS];
	mlde_rng r, ref, gen;
	bool same = true, perm = true, together = true, moved = false;
	unsigned char seen[NITEMS] = { 0 }, done[NIMG] = { 0 };

	mlde_rng_seed(&gen, 3);
	for (size_t i = 0; i < NITEMS; i++)
		items[i].image = (int)mlde_rng_below(&gen, NIMG);
	mlde_rng_seed2(&r, 1, 0x6f72646572ULL);
	mlde_rng_seed2(&ref, 1, 0x6f72646572ULL);
	for (int epoch = 0; epoch < 3; epoch++) {
		mlde_epoch_order(&r, items, NITEMS, NIMG, order);
		reference_order(&ref, items, NITEMS, NIMG, idx);
		for (size_t i = 0; i < NITEMS; i++)
			same = same && order[i] == &items[idx[i]];
	}
	TAP_OK(same, "three epochs: the order of the stable sort by key, item for item");
	TAP_OK(memcmp(&r, &ref, sizeof r) == 0, "and the same number of draws");

	for (size_t i = 0; i < NITEMS; i++) {
		size_t k = (size_t)(order[i] - items);

		perm = perm && k < NITEMS && !seen[k];
		if (k < NITEMS)
			seen[k] = 1;
		/* an image seen before must be the one just before */
		if (i > 0 && order[i]->image != order[i - 1]->image) {
			together = together && !done[order[i]->image];
			done[order[i - 1]->image] = 1;
		}
	}
	TAP_OK(perm, "every item once");
	TAP_OK(together, "the items of an image side by side");
	mlde_epoch_order(&r, items, NITEMS, NIMG, again);
	for (size_t i = 0; i < NITEMS; i++)
		moved = moved || again[i] != order[i];
	TAP_OK(moved, "the next epoch has another order");
	mlde_epoch_order(&r, items, 0, 0, order);
	TAP_OK(1, "no items, no images: fine");
}

/* A side x side image whose pixel (x, y) is (x, y, 7). */
static void gradient(unsigned char *px, int side)
{
	for (int y = 0; y < side; y++)
		for (int x = 0; x < side; x++) {
			px[(y * side + x) * 3] = (unsigned char)x;
			px[(y * side + x) * 3 + 1] = (unsigned char)y;
			px[(y * side + x) * 3 + 2] = 7;
		}
}

static bool pixel_is(const unsigned char *px, int side, int x, int y, int sx, int sy)
{
	const unsigned char *p = px + (y * side + x) * 3;

	return p[0] == sx && p[1] == sy && p[2] == 7;
}

/* Whether dst is src shifted by some dx, dy in [-k, k]. */
static bool is_shift_of(const unsigned char *src, const unsigned char *dst, int side, int k)
{
	unsigned char tmp[8 * 8 * 3];

	for (int dy = -k; dy <= k; dy++)
		for (int dx = -k; dx <= k; dx++) {
			mlde_shift_image(src, tmp, side, dx, dy);
			if (memcmp(tmp, dst, (size_t)side * side * 3) == 0)
				return true;
		}
	return false;
}

static void test_shift_image(void)
{
	unsigned char src[8 * 8 * 3], dst[8 * 8 * 3];
	bool ok = true;

	gradient(src, 8);
	mlde_shift_image(src, dst, 8, 0, 0);
	TAP_OK(memcmp(src, dst, sizeof src) == 0, "shift 0, 0: the image itself");
	mlde_shift_image(src, dst, 8, 2, -1);
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 8; x++) {
			int sx = x - 2 < 0 ? 0 : x - 2, sy = y + 1 > 7 ? 7 : y + 1;

			ok = ok && pixel_is(dst, 8, x, y, sx, sy);
		}
	TAP_OK(ok, "shift 2 right, 1 up: pixel (x, y) from (x-2, y+1), edges replicated");
	ok = true;
	mlde_shift_image(src, dst, 8, -20, 20);
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 8; x++)
			ok = ok && pixel_is(dst, 8, x, y, 7, 0);
	TAP_OK(ok, "a shift beyond the side: every pixel the replicated corner");
}

static void test_shifter(void)
{
	enum { SIDE = 8, NI = 4 };
	unsigned char store[NI][SIDE * SIDE * 3], copy[NI][SIDE * SIDE * 3];
	unsigned char *px[NI];
	mlde_mc_item it[5] = { { .image = 2 }, { .image = 2 }, { .image = 0 }, { .image = 3 },
			       { .image = 3 } };
	const mlde_mc_item *order[5] = { &it[0], &it[1], &it[2], &it[3], &it[4] };
	mlde_shifter s, t;
	bool shifted = true, moved = false;

	for (int i = 0; i < NI; i++) {
		gradient(store[i], SIDE);
		store[i][2] = (unsigned char)(100 + i);  /* tell the images apart */
		px[i] = store[i];
	}
	memcpy(copy, store, sizeof store);
	mlde_shifter_init(&s, 0, SIDE, px, NI, 5, 1);
	mlde_shifter_batch(&s, order, 5);
	TAP_OK(s.view[2] == px[2] && s.view[0] == px[0], "k = 0: the images as they are");
	mlde_shifter_free(&s);

	mlde_shifter_init(&s, 2, SIDE, px, NI, 5, 1);
	for (int step = 0; step < 20; step++) {
		mlde_shifter_batch(&s, order, 5);
		for (int i = 0; i < 5; i++) {
			int im = order[i]->image;

			shifted = shifted && s.view[im] != px[im] &&
				  is_shift_of(px[im], s.view[im], SIDE, 2);
			moved = moved || memcmp(s.view[im], px[im], sizeof store[0]) != 0;
		}
		if (step == 0)
			TAP_OK(s.view[1] == px[1], "an image outside the batch: as it is");
		mlde_shifter_unbatch(&s, order, 5);
		if (step == 0)
			TAP_OK(s.view[2] == px[2] && s.view[0] == px[0] && s.view[3] == px[3],
			       "unbatch: the images as they are again");
	}
	TAP_OK(shifted, "20 batches: each image a shift by at most 2 of its own pixels");
	TAP_OK(moved, "and some shift is not 0");
	TAP_OK(memcmp(copy, store, sizeof store) == 0, "the loaded images are never written");

	/* the same seed draws the same shifts */
	mlde_shifter_free(&s);
	mlde_shifter_init(&s, 3, SIDE, px, NI, 5, 9);
	mlde_shifter_init(&t, 3, SIDE, px, NI, 5, 9);
	mlde_shifter_batch(&s, order, 5);
	mlde_shifter_batch(&t, order, 5);
	TAP_OK(memcmp(s.scratch, t.scratch, 3 * sizeof store[0]) == 0,
	       "same seed: the same shifts (three images in the batch, three copies)");
	mlde_shifter_free(&s);
	mlde_shifter_free(&t);
}

static void test_lr(void)
{
	bool down = true;
	float prev;

	/* 330 steps: 10 of warm-up */
	TAP_OK(fabsf(mlde_lr_at(1.0, 0, 330) - 0.1f) < 1e-6f, "step 0: a tenth of the peak");
	TAP_OK(fabsf(mlde_lr_at(1.0, 4, 330) - 0.5f) < 1e-6f, "step 4: half of it");
	TAP_OK(fabsf(mlde_lr_at(1.0, 9, 330) - 1.0f) < 1e-6f, "step 9: the peak, warm-up done");
	TAP_OK(fabsf(mlde_lr_at(1.0, 10, 330) - 1.0f) < 1e-6f, "step 10: the cosine starts at the peak");
	TAP_OK(fabsf(mlde_lr_at(1.0, 170, 330) - 0.51f) < 1e-6f, "half way down: 0.02 + 0.98 / 2");
	TAP_OK(fabsf(mlde_lr_at(0.004, 330, 330) - 0.004f * 0.02f) < 1e-9f,
	       "the end: 2%% of the peak");
	prev = mlde_lr_at(1.0, 10, 330);
	for (long st = 11; st < 330; st++) {
		float lr = mlde_lr_at(1.0, st, 330);

		down = down && lr <= prev;
		prev = lr;
	}
	TAP_OK(down, "after the warm-up it only goes down");
	TAP_OK(fabsf(mlde_lr_at(0.5, 0, 1) - 0.5f) < 1e-7f, "one step: warm-up of one, the peak");
	TAP_OK(fabsf(mlde_lr_at(0.5, 0, 20) - 0.5f) < 1e-7f,
	       "under 33 steps: a warm-up of one step");
}

/* Every shift of -10..10 on each axis of a 7 x 7 and an 8 x 8 image, run by
 * run as mlde_shift_image copies, against the definition pixel by pixel:
 * (x, y) from (x - dx, y - dy), each clamped into the image. */
static void test_shift_every(void)
{
	unsigned char src[8 * 8 * 3], dst[8 * 8 * 3];
	int bad = 0;

	for (int side = 7; side <= 8; side++) {
		gradient(src, side);
		for (int dy = -10; dy <= 10; dy++)
			for (int dx = -10; dx <= 10; dx++) {
				mlde_shift_image(src, dst, side, dx, dy);
				for (int y = 0; y < side; y++)
					for (int x = 0; x < side; x++) {
						int sx = x - dx, sy = y - dy;

						sx = sx < 0 ? 0 : sx >= side ? side - 1 : sx;
						sy = sy < 0 ? 0 : sy >= side ? side - 1 : sy;
						bad += !pixel_is(dst, side, x, y, sx, sy);
					}
			}
	}
	TAP_OK(bad == 0, "every shift in -10..10 of a 7x7 and an 8x8 image: the clamped "
	       "definition (%d pixels off)", bad);
}

int main(void)
{
	test_epoch_order();
	test_shift_image();
	test_shift_every();
	test_shifter();
	test_lr();
	return TAP_DONE();
}
