/* schedule.c - epoch order, shift augmentation and learning-rate schedule
 * of mlde-train (see schedule.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "model/schedule.h"

typedef struct order_key {
	uint64_t key;
	size_t i;
} order_key;

/* By key, then by item: the stable order of the keys, as a total order. */
static int by_key(const void *a, const void *b)
{
	const order_key *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

void mlde_epoch_order(mlde_rng *r, const mlde_mc_item *items, size_t n, size_t nimg,
		      const mlde_mc_item **order)
{
	uint64_t *rank = mlde_xmalloc((nimg ? nimg : 1) * sizeof *rank);
	uint64_t *place = mlde_xmalloc((nimg ? nimg : 1) * sizeof *place);
	order_key *keys = mlde_xmalloc((n ? n : 1) * sizeof *keys);

	for (size_t i = 0; i < nimg; i++)
		rank[i] = i;
	mlde_rng_shuffle(r, rank, nimg, sizeof *rank);
	/* rank[i] is a position; invert it into each image's place */
	for (size_t i = 0; i < nimg; i++)
		place[rank[i]] = i;
	/* the image's place above, a random 24 bits below: items of an image
	 * together, in a random order (ties, vanishingly rare, by item) */
	for (size_t i = 0; i < n; i++)
		keys[i] = (order_key){ (place[items[i].image] << 24) | (mlde_rng_next(r) >> 40), i };
	qsort(keys, n, sizeof *keys, by_key);
	for (size_t i = 0; i < n; i++)
		order[i] = &items[keys[i].i];
	free(keys);
	free(place);
	free(rank);
}

/* Each row is the source row moved by dx: the pixels that stay inside
 * copied in one run, the uncovered ones the edge pixel repeated.  (A pixel
 * at a time, this was the main thread's work between steps while the
 * other members waited.) */
void mlde_shift_image(const unsigned char *src, unsigned char *dst, int side, int dx, int dy)
{
	int lo = dx > 0 ? (dx < side ? dx : side) : 0;           /* x < lo: column 0 */
	int hi = dx < 0 ? (side + dx > 0 ? side + dx : 0) : side; /* x >= hi: side - 1 */

	if (hi < lo)
		hi = lo;
	for (int y = 0; y < side; y++) {
		int sy = y - dy < 0 ? 0 : y - dy >= side ? side - 1 : y - dy;
		const unsigned char *from = src + (size_t)sy * side * 3;
		unsigned char *to = dst + (size_t)y * side * 3;

		for (int x = 0; x < lo; x++)
			memcpy(to + (size_t)x * 3, from, 3);
		if (hi > lo)
			memcpy(to + (size_t)lo * 3, from + (size_t)(lo - dx) * 3, (size_t)(hi - lo) * 3);
		for (int x = hi; x < side; x++)
			memcpy(to + (size_t)x * 3, from + (size_t)(side - 1) * 3, 3);
	}
}

void mlde_shifter_init(mlde_shifter *s, int k, int side, unsigned char *const *px,
		       size_t nimg, int batch, uint64_t seed)
{
	s->k = k;
	s->side = side;
	s->px = px;
	s->view = mlde_xmalloc((nimg ? nimg : 1) * sizeof *s->view);
	if (nimg)
		memcpy(s->view, px, nimg * sizeof *s->view);
	s->scratch = k ? mlde_xmalloc((size_t)batch * side * side * 3) : NULL;
	mlde_rng_seed2(&s->rng, seed, 0x7368696674ULL);  /* "shift" */
}

void mlde_shifter_batch(mlde_shifter *s, const mlde_mc_item *const *order, int n)
{
	size_t bytes = (size_t)s->side * s->side * 3;
	int used = 0, span = 2 * s->k + 1;

	if (s->k == 0)
		return;
	for (int i = 0; i < n; i++) {
		int img = order[i]->image, dx, dy;

		if (i > 0 && order[i - 1]->image == img)
			continue;  /* items of one image sit together and share its copy */
		dx = (int)mlde_rng_below(&s->rng, (uint64_t)span) - s->k;
		dy = (int)mlde_rng_below(&s->rng, (uint64_t)span) - s->k;
		mlde_shift_image(s->px[img], s->scratch + (size_t)used * bytes, s->side, dx, dy);
		s->view[img] = s->scratch + (size_t)used++ * bytes;
	}
}

void mlde_shifter_unbatch(mlde_shifter *s, const mlde_mc_item *const *order, int n)
{
	if (s->k == 0)
		return;
	for (int i = 0; i < n; i++)
		s->view[order[i]->image] = s->px[order[i]->image];
}

void mlde_shifter_free(mlde_shifter *s)
{
	free(s->view);
	free(s->scratch);
	s->view = NULL;
	s->scratch = NULL;
}

float mlde_lr_at(double lr, long step, long total)
{
	long warm = total / 33 > 0 ? total / 33 : 1;
	double p;

	if (step < warm)
		return (float)(lr * (double)(step + 1) / (double)warm);
	p = (double)(step - warm) / (double)(total - warm > 0 ? total - warm : 1);
	return (float)(lr * (0.02 + 0.98 * 0.5 * (1 + cos(M_PI * p))));
}
