/* model_impl.h - what model.c (parameters, file form, text, images) and
 * engine.c (forward, backward, Adam) share about the builtin model; not for
 * programs. */
#ifndef MLDE_MODEL_IMPL_H
#define MLDE_MODEL_IMPL_H

#include "model/model.h"

#define NSITES (4 + MLDE_FILM_MAX)  /* batch norms: 3 stem, FiLM blocks, head */
#define BN_MOMENTUM 0.1
#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8

enum { BUF_W, BUF_E, BUF_A, BUF_AB, BUF_STATS, NBUF };

typedef struct tdesc {
	char name[48];
	int ndim;
	int64_t shape[4];
	size_t count;
	int buf;
	size_t off;
} tdesc;

#define NDESC_MAX 64

/* Width of the pooled vector: max, mean and soft-argmax x and y of the head,
 * the question, and per attention head its readout (c3 features and x, y)
 * and count. */
#define MLDE_POOLED(c) (4 * (c)->c4 + (c)->dh + (c)->nh * ((c)->c3 + 3))
#define SOFTARG_TEMP 2.0f

struct mlde_model {
	mlde_model_cfg cfg;
	float *buf[NBUF];
	size_t len[NBUF];
	tdesc desc[NDESC_MAX];
	int ndesc;
	/* views into buf[BUF_W] (trainable dense parameters) */
	float *conv[3], *bng[3], *bnb[3];
	float *fw[MLDE_FILM_MAX], *fgw[MLDE_FILM_MAX], *fgb[MLDE_FILM_MAX];
	float *fbw[MLDE_FILM_MAX], *fbb[MLDE_FILM_MAX];
	float *hw, *hg, *hb, *qw, *qb, *q2w, *q2b, *qlg, *qlb, *olg, *olb;
	float *kw, *aqw, *aqb, *ow, *ob, *pw;
	/* the tables, and the running batch-norm statistics of every site */
	float *E, *A, *Ab;
	float *rm[NSITES], *rv[NSITES];
	float *coords;  /* 2 x P: x and y of every cell of the FiLM grid, in -1..1 */
};

#endif
