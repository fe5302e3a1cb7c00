/* schedule.h - the training schedule of the builtin model: the order of
 * each epoch, the shift augmentation of each batch, and the learning rate
 * of each step.  mlde-train drives them; the same seed, the same steps. */
#ifndef MLDE_SCHEDULE_H
#define MLDE_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "model/model.h"

/* The order of an epoch over items[0..n), whose images are 0..nimg-1:
 * the images shuffled, and the items of an image side by side (shuffled
 * too), so a batch computes each image once.  order[i] points into items. */
void mlde_epoch_order(mlde_rng *r, const mlde_mc_item *items, size_t n, size_t nimg,
		      const mlde_mc_item **order);

/* dst = src (side x side RGB) moved by dx to the right and dy down, the
 * edge pixels replicated into what is uncovered. */
void mlde_shift_image(const unsigned char *src, unsigned char *dst, int side, int dx, int dy);

/* Translation augmentation: each step sees every image of its batch moved
 * by up to k pixels on each axis (edges replicated), a fresh draw every
 * time.  The world's answers survive it: location questions are only asked
 * of objects at least 3 pixels from a border between parts, spatial
 * relations need 8 pixels of offset, and the rest do not depend on place. */
typedef struct mlde_shifter {
	int k;                      /* the largest shift; 0 turns it off */
	int side;                   /* the image side */
	unsigned char *const *px;   /* the images as loaded (not owned) */
	unsigned char **view;       /* what the trainer sees: px, or a shifted copy */
	unsigned char *scratch;     /* the batch's copies, side*side*3 each */
	mlde_rng rng;
} mlde_shifter;

/* For nimg images px of side x side, batches of at most batch items; the
 * draws come from the "shift" stream of seed. */
void mlde_shifter_init(mlde_shifter *s, int k, int side, unsigned char *const *px,
		       size_t nimg, int batch, uint64_t seed);
/* Point view[] at shifted copies of the images of order[0..n), one draw
 * per image (its items sit together and share the copy). */
void mlde_shifter_batch(mlde_shifter *s, const mlde_mc_item *const *order, int n);
/* Point view[] back at the images of order[0..n), ready for the next batch. */
void mlde_shifter_unbatch(mlde_shifter *s, const mlde_mc_item *const *order, int n);
void mlde_shifter_free(mlde_shifter *s);

/* The learning rate of step (0-based) of total: a linear warm-up to lr over
 * the first 3% of the steps (at least one), then a cosine down to 2% of lr
 * at the last. */
float mlde_lr_at(double lr, long step, long total);

#endif
