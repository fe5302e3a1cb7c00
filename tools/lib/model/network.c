/* engine.c - the builtin model at work: forward, backward and the Adam
 * step, run by a team of threads, each on its own slice of the batch.
 * Batch-norm statistics and gradients are summed across the slices in
 * thread order, so a given seed and thread count always give the same
 * numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "model/conv.h"
#include "model/gemm.h"
#include "model/model_impl.h"

/* ---- the engine: a worker per team member, each on a slice of the batch ---- */

typedef struct worker {
	int bmax;
	/* the slice: its images (deduplicated) and its items with a question */
	int nimg, b;
	const mlde_mc_item **it;
	int *item_of, *limg, *limg_all, *gimg, *slot_key, *slot_val;
	int nslot;
	/* activations */
	float *x0, *y[3], *a[3];
	float *dscratch;  /* training: the four parities of a stem layer's input
			   * gradient before they are woven (conv.h) */
	/* the padded copies the convolutions read (conv.h), NULL where a
	 * shape has none: of each stem layer's input and each FiLM block's
	 * state, kept for the weight gradient in training and one buffer for
	 * all in inference; and in training, of an input gradient's dy */
	float *xp[3], *zp[MLDE_FILM_MAX], *dpad;
	float *scale, *shift;  /* a batch norm as an affine map (mlde_bn_affine) */
	float *z[MLDE_FILM_MAX + 1], *yf[MLDE_FILM_MAX], *rf[MLDE_FILM_MAX];
	float *gam[MLDE_FILM_MAX], *bet[MLDE_FILM_MAX];
	float *yh, *G, *e, *q1, *qu, *qh, *v, *hu, *hz, *ob, *av, *sc;
	float *qm, *qis, *hm, *his;   /* layer-norm statistics of qu and hu */
	float *K, *Q, *alpha, *alog;  /* attention keys, queries, weights, logits */
	float *soft;                  /* the head's soft-argmax softmaxes */
	int *arg;
	/* gradients */
	float *dA, *dB, *dzA, *dzB, *dr, *dv, *dq1, *dqh, *dhz, *dgam, *dbet, *de, *dob, *dav,
	      *dsc, *dK, *dQ, *dqu, *dhu;
	float *g;
	float *mean[NSITES], *invstd[NSITES], *var;
	double *lsum, *tot;
	double cnt[NSITES];  /* columns of each site in the whole batch */
	double loss, flops;
	int correct;
} worker;

typedef struct engine {
	mlde_model *m;
	mlde_team *team;
	int T, train;
	int frozen;         /* the stem's first layers run as in inference: no
			     * gradient, no step */
	size_t frozen_len;  /* their parameters: the first of BUF_W */
	worker *wk;
	double *red;        /* [2 * NSITES][T][red_stride]: partial sums to add up */
	size_t red_stride;
	/* this call */
	const mlde_mc_item *const *items;
	const unsigned char *const *images;
	int n;
	float lr, wd;
	unsigned char *decay;  /* per dense parameter: 1 where weight decay applies */
	double count;       /* items with an answer in the whole batch */
	float *scores, *embed;
	/* Adam */
	long step;
	int apply;          /* 0: gradients only (for tests) */
	size_t ntouchE, ntouchA;
	float *mw, *vw, *mE, *vE, *mA, *vA, *mAb, *vAb, *gE, *gA, *gAb;
	uint32_t *stampE, *stampA, *touchE, *touchA;
} engine;

struct mlde_trainer { engine e; };
struct mlde_predictor { engine e; };

static float *falloc(size_t n)
{
	return mlde_xcalloc(n, sizeof(float));
}

static size_t zmax(size_t a, size_t b)
{
	return a > b ? a : b;
}

static int cmax_of(const mlde_model_cfg *c)
{
	int m = c->c1;

	m = c->c2 > m ? c->c2 : m;
	m = c->c3 > m ? c->c3 : m;
	return c->c4 > m ? c->c4 : m;
}

/* The padded copies' buffers (worker.xp, zp, dpad), where the shapes
 * have them. */
static void pads_init(worker *w, const mlde_model_cfg *c, int bmax, bool train)
{
	int cin[3] = { 3, c->c1, c->c2 }, cout[3] = { c->c1, c->c2, c->c3 };
	int side = c->size / 8, cz = c->c3 + 2;
	size_t len[3 + MLDE_FILM_MAX] = { 0 }, most = 0, dmost = 0;
	float *one;

	for (int l = 0; l < 3; l++) {
		int H = c->size >> l;

		if (mlde_conv3_paddable(H, 2))
			len[l] = mlde_conv3_pad_floats(cin[l], bmax, H, H);
		/* the input gradient's dy, of every layer but the first (the
		 * image has none) */
		if (l > 0 && mlde_conv3_paddable(H / 2, 1))
			dmost = zmax(dmost, mlde_conv3_pad_floats(cout[l], bmax, H / 2, H / 2));
	}
	for (int k = 0; k < c->nfilm && mlde_conv3_paddable(side, 1); k++)
		len[3 + k] = mlde_conv3_pad_floats(cz, bmax, side, side);
	if (mlde_conv3_paddable(side, 1))
		dmost = zmax(dmost, mlde_conv3_pad_floats(c->c3, bmax, side, side));
	for (int i = 0; i < 3 + c->nfilm; i++)
		most = zmax(most, len[i]);
	/* inference: one for all (each is read only by its own product) */
	one = !train && most ? falloc(most) : NULL;
	for (int i = 0; i < 3 + c->nfilm; i++) {
		float *b = !len[i] ? NULL : train ? falloc(len[i]) : one;

		if (i < 3)
			w->xp[i] = b;
		else
			w->zp[i - 3] = b;
	}
	if (train && dmost)
		w->dpad = falloc(dmost);
}

static void pads_free(worker *w)
{
	float *seen = NULL;

	for (int i = 0; i < 3 + MLDE_FILM_MAX; i++) {
		float *b = i < 3 ? w->xp[i] : w->zp[i - 3];

		/* inference's one buffer is in every slot */
		if (b && b != seen)
			free(b);
		seen = b ? b : seen;
	}
	free(w->dpad);
}

/* Stem layer l's batch norm writes the padded copy the next layer reads
 * (mlde_conv3_pad_affine) rather than a[l]: wherever that layer has one. */
static bool padded_by_bn(const worker *w, int l)
{
	return l < 2 && w->xp[l + 1];
}

static void worker_init(worker *w, const mlde_model *m, int bmax, bool train)
{
	const mlde_model_cfg *c = &m->cfg;
	size_t n = (size_t)bmax, S = (size_t)c->size, P = (S / 8) * (S / 8);
	size_t s2 = (S / 2) * (S / 2), s4 = (S / 4) * (S / 4), bP = n * P;
	size_t cz = (size_t)c->c3 + 2, ldv = (size_t)MLDE_POOLED(c);
	size_t big = zmax(zmax((size_t)c->c1 * n * s2, (size_t)c->c2 * n * s4),
			  zmax((size_t)c->c3 * n * P, (size_t)c->c4 * bP));
	int cm = cmax_of(c);

	memset(w, 0, sizeof *w);
	w->bmax = bmax;
	w->it = mlde_xmalloc(n * sizeof *w->it);
	w->item_of = mlde_xmalloc(n * sizeof(int));
	w->limg = mlde_xmalloc(n * sizeof(int));
	w->limg_all = mlde_xmalloc(n * sizeof(int));
	w->gimg = mlde_xmalloc(n * sizeof(int));
	for (w->nslot = 16; (size_t)w->nslot < 2 * n; w->nslot *= 2)
		;
	w->slot_key = mlde_xmalloc((size_t)w->nslot * sizeof(int));
	w->slot_val = mlde_xmalloc((size_t)w->nslot * sizeof(int));
	pads_init(w, c, bmax, train);  /* first: padded_by_bn asks for them */
	/* Inference reads a normalised map's input no more once it is
	 * normalised (only the backward would), and the normalisation goes
	 * element by element: in place there, on less memory to fault in
	 * (forward() must keep to that if it changes). */
	w->x0 = falloc(3 * n * S * S);
	w->y[0] = falloc((size_t)c->c1 * n * s2);
	w->y[1] = falloc((size_t)c->c2 * n * s4);
	w->y[2] = falloc((size_t)c->c3 * n * P);
	for (int l = 0; l < 3; l++) {
		size_t len[3] = { (size_t)c->c1 * n * s2, (size_t)c->c2 * n * s4,
				  (size_t)c->c3 * n * P };

		/* inference normalises in place; where a padded copy takes
		 * the map, there is no a[l] at all */
		w->a[l] = padded_by_bn(w, l) ? NULL : train ? falloc(len[l]) : w->y[l];
	}
	for (int k = 0; k <= c->nfilm; k++)
		w->z[k] = falloc(cz * bP);
	for (int k = 0; k < c->nfilm; k++) {
		w->yf[k] = falloc((size_t)c->c3 * bP);
		w->rf[k] = train ? falloc((size_t)c->c3 * bP) : w->yf[k];
		w->gam[k] = falloc(n * c->c3);
		w->bet[k] = falloc(n * c->c3);
	}
	w->yh = falloc((size_t)c->c4 * bP);
	w->G = train ? falloc((size_t)c->c4 * bP) : w->yh;
	w->soft = falloc((size_t)c->c4 * bP);
	w->e = falloc(n * c->dq);
	w->q1 = falloc(n * c->dh);
	w->qh = falloc(n * c->dh);
	w->K = falloc((size_t)c->dk * bP);
	w->Q = falloc(n * c->nh * c->dk);
	w->alpha = falloc(n * c->nh * P);
	w->alog = falloc(n * c->nh * P);
	w->v = falloc(n * ldv);
	w->hz = falloc(n * c->dz);
	w->hu = falloc(n * c->dz);
	w->qu = falloc(n * c->dh);
	w->qm = falloc(n);
	w->qis = falloc(n);
	w->hm = falloc(n);
	w->his = falloc(n);
	w->ob = falloc(n * MLDE_OPTIONS_MAX * c->dq);
	w->av = falloc(n * MLDE_OPTIONS_MAX * c->dz);
	w->sc = falloc(n * MLDE_OPTIONS_MAX);
	w->arg = mlde_xmalloc(n * c->c4 * sizeof(int));
	for (int s = 0; s < NSITES; s++) {
		w->mean[s] = falloc((size_t)cm);
		w->invstd[s] = falloc((size_t)cm);
	}
	w->var = falloc((size_t)cm);
	w->lsum = mlde_xcalloc(2 * (size_t)cm + 1, sizeof(double));
	w->tot = mlde_xcalloc(2 * (size_t)cm + 1, sizeof(double));
	w->scale = falloc((size_t)cm);
	w->shift = falloc((size_t)cm);
	if (!train)
		return;
	w->dscratch = falloc(zmax((size_t)c->c1 * n * s2, (size_t)c->c2 * n * s4));
	w->dA = falloc(big);
	w->dB = falloc(big);
	w->dzA = falloc(cz * bP);
	w->dzB = falloc(cz * bP);
	w->dr = falloc((size_t)c->c3 * bP);
	w->dv = falloc(n * ldv);
	w->dq1 = falloc(n * c->dh);
	w->dqh = falloc(n * c->dh);
	w->dK = falloc((size_t)c->dk * bP);
	w->dQ = falloc(n * c->nh * c->dk);
	w->dhz = falloc(n * c->dz);
	w->dhu = falloc(n * c->dz);
	w->dqu = falloc(n * c->dh);
	w->dgam = falloc(n * c->c3);
	w->dbet = falloc(n * c->c3);
	w->de = falloc(n * c->dq);
	w->dob = falloc(n * MLDE_OPTIONS_MAX * c->dq);
	w->dav = falloc(n * MLDE_OPTIONS_MAX * c->dz);
	w->dsc = falloc(n * MLDE_OPTIONS_MAX);
	w->g = falloc(m->len[BUF_W]);
}

/* inference's in-place maps (worker_init): each freed as its input */
static void unalias(worker *w)
{
	for (int l = 0; l < 3; l++)
		if (w->a[l] == w->y[l])
			w->a[l] = NULL;
	if (w->G == w->yh)
		w->G = NULL;
	for (int k = 0; k < MLDE_FILM_MAX; k++)
		if (w->rf[k] == w->yf[k])
			w->rf[k] = NULL;
}

static void worker_free(worker *w)
{
	unalias(w);
	void *ps[] = { w->it, w->item_of, w->limg, w->limg_all, w->gimg, w->slot_key,
		       w->slot_val, w->x0, w->dscratch, w->y[0], w->y[1], w->y[2],
		       w->a[0], w->a[1], w->a[2], w->yh, w->G, w->soft, w->e, w->qh, w->v, w->hz,
		       w->ob, w->av, w->sc, w->arg, w->var, w->lsum, w->tot, w->dA, w->dB,
		       w->dzA, w->dzB, w->dr, w->dv, w->dqh, w->dhz, w->dgam, w->dbet, w->de,
		       w->dob, w->dav, w->dsc, w->g, w->q1, w->K, w->Q, w->alpha, w->alog,
		       w->dq1, w->dK, w->dQ, w->hu, w->qu, w->qm, w->qis, w->hm, w->his,
		       w->dhu, w->dqu, w->scale, w->shift };

	for (size_t i = 0; i < sizeof ps / sizeof *ps; i++)
		free(ps[i]);
	pads_free(w);
	for (int k = 0; k <= MLDE_FILM_MAX; k++)
		free(w->z[k]);
	for (int k = 0; k < MLDE_FILM_MAX; k++) {
		free(w->yf[k]);
		free(w->rf[k]);
		free(w->gam[k]);
		free(w->bet[k]);
	}
	for (int s = 0; s < NSITES; s++) {
		free(w->mean[s]);
		free(w->invstd[s]);
	}
}

static void engine_init(engine *e, mlde_model *m, mlde_team *team, int batch, bool train)
{
	int T = mlde_team_size(team), cm = cmax_of(&m->cfg);

	memset(e, 0, sizeof *e);
	e->m = m;
	e->team = team;
	e->T = T;
	e->wk = mlde_xmalloc((size_t)T * sizeof *e->wk);
	for (int t = 0; t < T; t++)
		worker_init(&e->wk[t], m, (batch + T - 1) / T, train);
	e->red_stride = 2 * (size_t)cm + 1;
	e->red = mlde_xcalloc(2 * NSITES * (size_t)T * e->red_stride, sizeof(double));
	if (!train)
		return;
	e->decay = mlde_xcalloc(m->len[BUF_W], 1);
	for (int i = 0; i < m->ndesc; i++)
		if (m->desc[i].buf == BUF_W && m->desc[i].ndim >= 2)
			memset(e->decay + m->desc[i].off, 1, m->desc[i].count);
	e->mw = falloc(m->len[BUF_W]);
	e->vw = falloc(m->len[BUF_W]);
	e->mE = falloc(m->len[BUF_E]);
	e->vE = falloc(m->len[BUF_E]);
	e->gE = falloc(m->len[BUF_E]);
	e->mA = falloc(m->len[BUF_A]);
	e->vA = falloc(m->len[BUF_A]);
	e->gA = falloc(m->len[BUF_A]);
	e->mAb = falloc(m->len[BUF_AB]);
	e->vAb = falloc(m->len[BUF_AB]);
	e->gAb = falloc(m->len[BUF_AB]);
	e->stampE = mlde_xcalloc((size_t)m->cfg.nq, sizeof(uint32_t));
	e->touchE = mlde_xcalloc((size_t)m->cfg.nq, sizeof(uint32_t));
	e->stampA = mlde_xcalloc((size_t)m->cfg.na, sizeof(uint32_t));
	e->touchA = mlde_xcalloc((size_t)m->cfg.na, sizeof(uint32_t));
}

static void engine_free(engine *e)
{
	void *ps[] = { e->red, e->decay, e->mw, e->vw, e->mE, e->vE, e->gE, e->mA, e->vA, e->gA,
		       e->mAb, e->vAb, e->gAb, e->stampE, e->touchE, e->stampA, e->touchA };

	for (int t = 0; t < e->T; t++)
		worker_free(&e->wk[t]);
	free(e->wk);
	for (size_t i = 0; i < sizeof ps / sizeof *ps; i++)
		free(ps[i]);
}

/* Add this member's sums to the others' in member order: every member gets
 * the same totals, bit for bit.  tot[2C] is the count. */
static void reduce(engine *e, int tid, int slot, int C, const double *local, double count,
		   double *tot)
{
	size_t st = e->red_stride;
	double *mine = e->red + ((size_t)slot * e->T + tid) * st;

	memcpy(mine, local, 2 * (size_t)C * sizeof *mine);
	mine[2 * C] = count;
	mlde_team_sync(e->team);
	memset(tot, 0, (2 * (size_t)C + 1) * sizeof *tot);
	for (int t = 0; t < e->T; t++) {
		const double *p = e->red + ((size_t)slot * e->T + t) * st;

		for (int i = 0; i <= 2 * C; i++)
			tot[i] += p[i];
	}
}

/* Mean and 1/std of site s: the batch's when training (and the running
 * averages move towards them), the running averages otherwise. */
static void site_stats(engine *e, worker *w, int tid, int s, const float *x, int C, size_t N)
{
	mlde_model *m = e->m;

	if (!e->train || s < e->frozen) {
		for (int c = 0; c < C; c++) {
			w->mean[s][c] = m->rm[s][c];
			w->invstd[s][c] = (float)(1.0 / sqrt((double)m->rv[s][c] + MLDE_BN_EPS));
		}
		return;
	}
	memset(w->lsum, 0, 2 * (size_t)C * sizeof *w->lsum);
	mlde_bn_sums(x, C, N, w->lsum);
	reduce(e, tid, s, C, w->lsum, (double)N, w->tot);
	w->cnt[s] = w->tot[2 * C];
	mlde_bn_stats(w->tot, C, w->tot[2 * C], w->mean[s], w->invstd[s], w->var);
	if (tid == 0 && w->tot[2 * C] > 1) {
		double unbias = w->tot[2 * C] / (w->tot[2 * C] - 1);

		for (int c = 0; c < C; c++) {
			m->rm[s][c] += (float)(BN_MOMENTUM * (w->mean[s][c] - m->rm[s][c]));
			m->rv[s][c] += (float)(BN_MOMENTUM * (w->var[c] * unbias - m->rv[s][c]));
		}
	}
}

/* Items [lo, hi) of the call: their images without repeats, and those with
 * a question. */
static void take_slice(engine *e, worker *w, size_t lo, size_t hi)
{
	int mask = w->nslot - 1;

	for (int i = 0; i < w->nslot; i++)
		w->slot_key[i] = -1;
	w->nimg = w->b = 0;
	for (size_t k = lo; k < hi; k++) {
		const mlde_mc_item *it = e->items[k];
		unsigned h = ((unsigned)it->image * 2654435761u) & (unsigned)mask;

		while (w->slot_key[h] != -1 && w->slot_key[h] != it->image)
			h = (h + 1) & (unsigned)mask;
		if (w->slot_key[h] == -1) {
			w->slot_key[h] = it->image;
			w->slot_val[h] = w->nimg;
			w->gimg[w->nimg++] = it->image;
		}
		w->limg_all[k - lo] = w->slot_val[h];
		if (it->nopt > 0) {
			w->it[w->b] = it;
			w->limg[w->b] = w->slot_val[h];
			w->item_of[w->b] = (int)k;
			w->b++;
		}
	}
}

/* A text's vector is the mean of its rows. */
static float bag_scale(int n)
{
	return n ? 1 / (float)n : 0;
}

static void bag(const float *table, int d, const uint32_t *ids, int n, float *out)
{
	memset(out, 0, (size_t)d * sizeof *out);
	for (int i = 0; i < n; i++) {
		const float *r = table + (size_t)ids[i] * d;

		for (int k = 0; k < d; k++)
			out[k] += r[k];
	}
	if (n > 1)
		for (int k = 0; k < d; k++)
			out[k] *= bag_scale(n);
}

static void forward(engine *e, worker *w, int tid)
{
	const mlde_model *m = e->m;
	const mlde_model_cfg *c = &m->cfg;
	int S = c->size, n = w->nimg, b = w->b, side = S / 8, P = side * side;
	int cin[3] = { 3, c->c1, c->c2 }, cout[3] = { c->c1, c->c2, c->c3 };
	int cz = c->c3 + 2, hs = 3 + c->nfilm, ldv = MLDE_POOLED(c);
	int roff = 2 * c->c4 + c->dh, coff = roff + c->nh * cz, soff = coff + c->nh;
	float ascale = 1 / sqrtf((float)c->dk);
	size_t SS = (size_t)S * S, bP = (size_t)b * P;
	const float *in = w->x0;
	int H = S;

	w->loss = 0;
	w->correct = 0;
	for (int i = 0; i < n; i++) {
		const unsigned char *px = e->images[w->gimg[i]];

		for (int ch = 0; ch < 3; ch++) {
			float *o = w->x0 + ((size_t)ch * n + i) * SS;

			for (size_t p = 0; p < SS; p++)
				o[p] = ((float)px[3 * p + ch] - 127.5f) * (1.0f / 64);
		}
	}
	for (int l = 0; l < 3; l++) {
		int Ho = H / 2;
		size_t N = (size_t)n * Ho * Ho;

		if (w->xp[l] && in)
			mlde_conv3_pad(in, cin[l], n, H, H, 2, w->xp[l]);
		mlde_conv3_forward(in, cin[l], n, H, H, 2, m->conv[l], cout[l], w->y[l], w->xp[l]);
		site_stats(e, w, tid, l, w->y[l], cout[l], N);
		if (padded_by_bn(w, l)) {
			/* the next layer reads only its padded copy: the batch
			 * norm writes that, and a[l] is never made */
			mlde_bn_affine(cout[l], w->mean[l], w->invstd[l], m->bng[l], m->bnb[l],
				       w->scale, w->shift);
			mlde_conv3_pad_affine(w->y[l], cout[l], n, Ho, Ho, 2, w->scale, w->shift,
					      w->xp[l + 1]);
			in = NULL;
		} else {
			mlde_bn_forward(w->y[l], w->a[l], cout[l], N, w->mean[l], w->invstd[l],
					m->bng[l], m->bnb[l], 1);
			in = w->a[l];
		}
		H = Ho;
	}

	/* per item: stage state z[k] is c3 feature rows and the x, y rows */
	for (int ch = 0; ch < c->c3; ch++)
		for (int i = 0; i < b; i++)
			memcpy(w->z[0] + (size_t)ch * bP + (size_t)i * P,
			       w->a[2] + ((size_t)ch * n + w->limg[i]) * P, (size_t)P * sizeof(float));
	for (int k = 0; k <= c->nfilm; k++)
		for (int i = 0; i < b; i++)
			for (int r = 0; r < 2; r++)
				memcpy(w->z[k] + (size_t)(c->c3 + r) * bP + (size_t)i * P,
				       m->coords + (size_t)r * P, (size_t)P * sizeof(float));
	for (int i = 0; i < b; i++)
		bag(m->E, c->dq, w->it[i]->q, w->it[i]->nq, w->e + (size_t)i * c->dq);
	mlde_linear_forward(w->e, b, c->dq, m->qw, m->qb, c->dh, w->q1, 1);
	mlde_linear_forward(w->q1, b, c->dh, m->q2w, m->q2b, c->dh, w->qu, 0);
	mlde_ln_forward(w->qu, b, c->dh, m->qlg, m->qlb, w->qh, w->qm, w->qis);
	for (int k = 0; k < c->nfilm; k++) {
		if (w->zp[k])
			mlde_conv3_pad(w->z[k], cz, b, side, side, 1, w->zp[k]);
		mlde_conv3_forward(w->z[k], cz, b, side, side, 1, m->fw[k], c->c3, w->yf[k],
				   w->zp[k]);
		site_stats(e, w, tid, 3 + k, w->yf[k], c->c3, bP);
		mlde_linear_forward(w->qh, b, c->dh, m->fgw[k], m->fgb[k], c->c3, w->gam[k], 0);
		for (size_t i = 0; i < (size_t)b * c->c3; i++)
			w->gam[k][i] += 1;
		mlde_linear_forward(w->qh, b, c->dh, m->fbw[k], m->fbb[k], c->c3, w->bet[k], 0);
		mlde_film_forward(w->yf[k], w->rf[k], c->c3, b, P, w->mean[3 + k], w->invstd[3 + k],
				  w->gam[k], w->bet[k], 1);
		for (size_t i = 0; i < (size_t)c->c3 * bP; i++)
			w->z[k + 1][i] = w->z[k][i] + w->rf[k][i];
	}
	mlde_gemm(0, 0, c->c4, (int)bP, cz, 1, m->hw, cz, w->z[c->nfilm], (int)bP, 0, w->yh,
		  (int)bP);
	site_stats(e, w, tid, hs, w->yh, c->c4, bP);
	mlde_bn_forward(w->yh, w->G, c->c4, bP, w->mean[hs], w->invstd[hs], m->hg, m->hb, 1);
	if (b == 0)
		return;
	mlde_pool_forward(w->G, c->c4, b, P, w->v, w->v + c->c4, ldv, w->arg);
	mlde_softarg_forward(w->G, c->c4, b, P, m->coords, SOFTARG_TEMP, w->v + soff, ldv,
			     w->soft);
	for (int i = 0; i < b; i++)
		memcpy(w->v + (size_t)i * ldv + 2 * c->c4, w->qh + (size_t)i * c->dh,
		       (size_t)c->dh * sizeof(float));
	mlde_gemm(0, 0, c->dk, (int)bP, cz, 1, m->kw, cz, w->z[c->nfilm], (int)bP, 0, w->K,
		  (int)bP);
	mlde_linear_forward(w->qh, b, c->dh, m->aqw, m->aqb, c->nh * c->dk, w->Q, 0);
	mlde_attend_forward(w->K, c->dk, w->Q, c->nh, w->z[c->nfilm], cz, b, P, ascale, w->alpha,
			    w->alog, w->v + roff, w->v + coff, ldv);
	mlde_linear_forward(w->v, b, ldv, m->ow, m->ob, c->dz, w->hu, 0);
	mlde_ln_forward(w->hu, b, c->dz, m->olg, m->olb, w->hz, w->hm, w->his);

	/* options: av = A[answer] + P * (mean of the option's word rows) */
	memset(w->ob, 0, (size_t)b * MLDE_OPTIONS_MAX * c->dq * sizeof(float));
	for (int i = 0; i < b; i++)
		for (int j = 0; j < w->it[i]->nopt; j++)
			bag(m->E, c->dq, w->it[i]->of[j], w->it[i]->nof[j],
			    w->ob + ((size_t)i * MLDE_OPTIONS_MAX + j) * c->dq);
	mlde_gemm(0, 1, b * MLDE_OPTIONS_MAX, c->dz, c->dq, 1, w->ob, c->dq, m->pw, c->dq, 0, w->av,
		  c->dz);
	for (int i = 0; i < b; i++) {
		const mlde_mc_item *it = w->it[i];
		const float *h = w->hz + (size_t)i * c->dz;
		float *s = w->sc + (size_t)i * MLDE_OPTIONS_MAX;
		int best = 0;

		for (int j = 0; j < MLDE_OPTIONS_MAX; j++) {
			float *av = w->av + ((size_t)i * MLDE_OPTIONS_MAX + j) * c->dz;
			const float *arow = m->A + (size_t)it->aid[j] * c->dz;
			float dot = 0;

			if (j >= it->nopt) {
				memset(av, 0, (size_t)c->dz * sizeof *av);
				s[j] = 0;
				continue;
			}
			for (int d = 0; d < c->dz; d++) {
				av[d] += arow[d];
				dot += h[d] * av[d];
			}
			s[j] = dot + m->Ab[it->aid[j]];
			if (s[j] > s[best])
				best = j;
		}
		w->loss += mlde_softmax_xent(s, it->nopt, it->answer);
		w->correct += it->answer >= 0 && best == it->answer;
	}
}

#define GRAD(p) (w->g + ((p) - m->buf[BUF_W]))

static void backward(engine *e, worker *w, int tid)
{
	const mlde_model *m = e->m;
	const mlde_model_cfg *c = &m->cfg;
	int S = c->size, n = w->nimg, b = w->b, side = S / 8, P = side * side;
	int cin[3] = { 3, c->c1, c->c2 }, cout[3] = { c->c1, c->c2, c->c3 };
	int cz = c->c3 + 2, hs = 3 + c->nfilm, ldv = MLDE_POOLED(c), B8 = b * MLDE_OPTIONS_MAX;
	int roff = 2 * c->c4 + c->dh, coff = roff + c->nh * cz, soff = coff + c->nh;
	float ascale = 1 / sqrtf((float)c->dk);
	size_t bP = (size_t)b * P;
	float inv = e->count > 0 ? (float)(1.0 / e->count) : 0;
	float *dcur = w->dzA, *dnext = w->dzB;

	/* loss -> scores -> h and the option vectors */
	memset(w->dhz, 0, (size_t)b * c->dz * sizeof(float));
	memset(w->dav, 0, (size_t)B8 * c->dz * sizeof(float));
	memset(w->dsc, 0, (size_t)B8 * sizeof(float));
	for (int i = 0; i < b; i++) {
		const mlde_mc_item *it = w->it[i];
		const float *h = w->hz + (size_t)i * c->dz;
		float *dh = w->dhz + (size_t)i * c->dz;

		if (it->answer < 0)
			continue;
		for (int j = 0; j < it->nopt; j++) {
			size_t r = (size_t)i * MLDE_OPTIONS_MAX + j;
			float d = (w->sc[r] - (j == it->answer)) * inv;
			const float *av = w->av + r * c->dz;
			float *dav = w->dav + r * c->dz;

			w->dsc[r] = d;
			for (int k = 0; k < c->dz; k++) {
				dh[k] += d * av[k];
				dav[k] = d * h[k];
			}
		}
	}
	mlde_gemm(1, 0, c->dz, c->dq, B8, 1, w->dav, c->dz, w->ob, c->dq, 1, GRAD(m->pw), c->dq);
	mlde_gemm(0, 0, B8, c->dq, c->dz, 1, w->dav, c->dz, m->pw, c->dq, 0, w->dob, c->dq);
	mlde_ln_backward(w->hu, w->hz, w->dhz, b, c->dz, w->hm, w->his, m->olg, GRAD(m->olg),
			 GRAD(m->olb), w->dhu);
	mlde_linear_backward(w->v, b, ldv, m->ow, c->dz, NULL, w->dhu, 0, GRAD(m->ow),
			     GRAD(m->ob), w->dv, 0);
	for (int i = 0; i < b; i++)
		memcpy(w->dqh + (size_t)i * c->dh, w->dv + (size_t)i * ldv + 2 * c->c4,
		       (size_t)c->dh * sizeof(float));

	/* pooling and the head */
	mlde_pool_backward(w->dv, w->dv + c->c4, ldv, w->arg, c->c4, b, P, w->dA);
	mlde_softarg_backward(w->soft, c->c4, b, P, m->coords, SOFTARG_TEMP, w->dv + soff, ldv,
			      w->dA);
	memset(w->lsum, 0, 2 * (size_t)c->c4 * sizeof(double));
	mlde_bn_backward1(w->yh, w->G, w->dA, c->c4, bP, 0, 0, w->mean[hs], w->invstd[hs], m->hg,
			  m->hb, 1, w->lsum, GRAD(m->hg), GRAD(m->hb));
	reduce(e, tid, NSITES + hs, c->c4, w->lsum, 0, w->tot);
	mlde_bn_backward2(w->yh, w->dA, w->dB, c->c4, bP, 0, 0, w->mean[hs], w->invstd[hs], m->hg,
			  w->tot, w->cnt[hs], 0);
	mlde_gemm(0, 1, c->c4, cz, (int)bP, 1, w->dB, (int)bP, w->z[c->nfilm], (int)bP, 1,
		  GRAD(m->hw), cz);
	mlde_gemm(1, 0, cz, (int)bP, c->c4, 1, m->hw, cz, w->dB, (int)bP, 0, dcur, (int)bP);

	/* the attention reads the same FiLM output */
	memset(w->dK, 0, (size_t)c->dk * bP * sizeof(float));
	mlde_attend_backward(w->K, c->dk, w->Q, c->nh, w->z[c->nfilm], cz, b, P, ascale, w->alpha,
			     w->alog, w->dv + roff, w->dv + coff, ldv, dcur, w->dK, w->dQ);
	mlde_gemm(0, 1, c->dk, cz, (int)bP, 1, w->dK, (int)bP, w->z[c->nfilm], (int)bP, 1,
		  GRAD(m->kw), cz);
	mlde_gemm(1, 0, cz, (int)bP, c->dk, 1, m->kw, cz, w->dK, (int)bP, 1, dcur, (int)bP);
	mlde_linear_backward(w->qh, b, c->dh, m->aqw, c->nh * c->dk, NULL, w->dQ, 0,
			     GRAD(m->aqw), GRAD(m->aqb), w->dqh, 1);

	/* FiLM blocks, last first; the residual carries dcur straight through */
	for (int k = c->nfilm - 1; k >= 0; k--) {
		int s = 3 + k;
		float *t;

		memcpy(w->dr, dcur, (size_t)c->c3 * bP * sizeof(float));
		memset(w->dgam, 0, (size_t)b * c->c3 * sizeof(float));
		memset(w->dbet, 0, (size_t)b * c->c3 * sizeof(float));
		memset(w->lsum, 0, 2 * (size_t)c->c3 * sizeof(double));
		mlde_bn_backward1(w->yf[k], w->rf[k], w->dr, c->c3, bP, b, P, w->mean[s],
				  w->invstd[s], w->gam[k], w->bet[k], 1, w->lsum, w->dgam, w->dbet);
		reduce(e, tid, NSITES + s, c->c3, w->lsum, 0, w->tot);
		mlde_bn_backward2(w->yf[k], w->dr, w->dB, c->c3, bP, b, P, w->mean[s], w->invstd[s],
				  w->gam[k], w->tot, w->cnt[s], 0);
		mlde_conv3_wgrad(w->z[k], cz, b, side, side, 1, w->dB, c->c3, GRAD(m->fw[k]),
				 w->zp[k]);
		/* the residual's gradient plus the block's, on the feature rows
		 * only: nothing reads the gradient of the x, y rows */
		memcpy(dnext, dcur, (size_t)c->c3 * bP * sizeof(float));
		mlde_conv3_dgrad(w->dB, c->c3, b, side, side, 1, m->fw[k], cz, c->c3, dnext, true,
				 NULL, w->dpad);
		mlde_linear_backward(w->qh, b, c->dh, m->fgw[k], c->c3, NULL, w->dgam, 0,
				     GRAD(m->fgw[k]), GRAD(m->fgb[k]), w->dqh, 1);
		mlde_linear_backward(w->qh, b, c->dh, m->fbw[k], c->c3, NULL, w->dbet, 0,
				     GRAD(m->fbw[k]), GRAD(m->fbb[k]), w->dqh, 1);
		t = dcur;
		dcur = dnext;
		dnext = t;
	}

	mlde_ln_backward(w->qu, w->qh, w->dqh, b, c->dh, w->qm, w->qis, m->qlg, GRAD(m->qlg),
			 GRAD(m->qlb), w->dqu);
	mlde_linear_backward(w->q1, b, c->dh, m->q2w, c->dh, NULL, w->dqu, 0, GRAD(m->q2w),
			     GRAD(m->q2b), w->dq1, 0);
	mlde_linear_backward(w->e, b, c->dq, m->qw, c->dh, w->q1, w->dq1, 1, GRAD(m->qw),
			     GRAD(m->qb), w->de, 0);
	if (e->frozen == 3)
		return;

	/* back onto the images the items came from, in item order */
	memset(w->dA, 0, (size_t)c->c3 * n * P * sizeof(float));
	for (int ch = 0; ch < c->c3; ch++)
		for (int i = 0; i < b; i++) {
			float *o = w->dA + ((size_t)ch * n + w->limg[i]) * P;
			const float *d = dcur + (size_t)ch * bP + (size_t)i * P;

			for (int p = 0; p < P; p++)
				o[p] += d[p];
		}

	/* the stem, last layer first */
	for (int l = 2; l >= e->frozen; l--) {
		int Hin = S >> l, Ho = Hin / 2;
		size_t N = (size_t)n * Ho * Ho;

		memset(w->lsum, 0, 2 * (size_t)cout[l] * sizeof(double));
		mlde_bn_backward1(w->y[l], padded_by_bn(w, l) ? NULL : w->a[l], w->dA, cout[l], N, 0,
				  0, w->mean[l], w->invstd[l], m->bng[l], m->bnb[l], 1, w->lsum,
				  GRAD(m->bng[l]), GRAD(m->bnb[l]));
		reduce(e, tid, NSITES + l, cout[l], w->lsum, 0, w->tot);
		mlde_bn_backward2(w->y[l], w->dA, w->dB, cout[l], N, 0, 0, w->mean[l],
				  w->invstd[l], m->bng[l], w->tot, w->cnt[l], 0);
		mlde_conv3_wgrad(l == 0 ? w->x0 : padded_by_bn(w, l - 1) ? NULL : w->a[l - 1], cin[l],
				 n, Hin, Hin, 2, w->dB, cout[l], GRAD(m->conv[l]), w->xp[l]);
		if (l == e->frozen)
			break;
		mlde_conv3_dgrad(w->dB, cout[l], n, Hin, Hin, 2, m->conv[l], cin[l], cin[l], w->dA,
				 false, w->dscratch, w->dpad);
	}
}

/* ---- Adam ---- */

static void adam(float *w, float *mo, float *ve, const float *g, size_t n, float lr,
		 double c1, double c2)
{
	/* bias corrections folded into the step size and epsilon */
	float a = (float)(lr * sqrt(c2) / c1), eps = (float)(ADAM_EPS * sqrt(c2));
	size_t i = 0;

#ifdef __SSE2__
	/* Four at a time.  Every product, sum, square root and quotient is
	 * rounded where the loop below rounds it (no fused multiply-add; IEEE
	 * square root and division are exact to the bit in both), so the
	 * same bits; sqrtf's errno kept the compiler from doing this itself. */
	__m128 b1 = _mm_set1_ps((float)ADAM_B1), nb1 = _mm_set1_ps((float)(1 - ADAM_B1));
	__m128 b2 = _mm_set1_ps((float)ADAM_B2), nb2 = _mm_set1_ps((float)(1 - ADAM_B2));
	__m128 va = _mm_set1_ps(a), veps = _mm_set1_ps(eps);

	for (; i + 4 <= n; i += 4) {
		__m128 gi = _mm_loadu_ps(g + i);
		__m128 m = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(mo + i)), _mm_mul_ps(nb1, gi));
		__m128 v = _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(ve + i)),
				      _mm_mul_ps(_mm_mul_ps(nb2, gi), gi));
		__m128 step = _mm_div_ps(_mm_mul_ps(va, m), _mm_add_ps(_mm_sqrt_ps(v), veps));

		_mm_storeu_ps(mo + i, m);
		_mm_storeu_ps(ve + i, v);
		_mm_storeu_ps(w + i, _mm_sub_ps(_mm_loadu_ps(w + i), step));
	}
#endif
	for (; i < n; i++) {
		mo[i] = (float)ADAM_B1 * mo[i] + (float)(1 - ADAM_B1) * g[i];
		ve[i] = (float)ADAM_B2 * ve[i] + (float)(1 - ADAM_B2) * g[i] * g[i];
		w[i] -= a * mo[i] / (sqrtf(ve[i]) + eps);
	}
}

/* Rows of a table touched this step, their gradient zeroed on first touch. */
static float *touch(uint32_t *stamp, uint32_t *list, size_t *nlist, float *g, int d,
		    uint32_t row, uint32_t step)
{
	float *r = g + (size_t)row * d;

	if (stamp[row] != step) {
		stamp[row] = step;
		list[(*nlist)++] = row;
		memset(r, 0, (size_t)d * sizeof *r);
	}
	return r;
}

static void update_words(engine *e, double c1, double c2)
{
	const mlde_model_cfg *c = &e->m->cfg;
	uint32_t step = (uint32_t)e->step;
	size_t nt = 0;

	for (int t = 0; t < e->T; t++) {
		const worker *w = &e->wk[t];

		for (int i = 0; i < w->b; i++) {
			const mlde_mc_item *it = w->it[i];
			float s = bag_scale(it->nq);

			for (int q = 0; q < it->nq; q++) {
				float *r = touch(e->stampE, e->touchE, &nt, e->gE, c->dq, it->q[q], step);
				const float *d = w->de + (size_t)i * c->dq;

				for (int k = 0; k < c->dq; k++)
					r[k] += s * d[k];
			}
			for (int j = 0; j < it->nopt; j++) {
				const float *d = w->dob + ((size_t)i * MLDE_OPTIONS_MAX + j) * c->dq;

				s = bag_scale(it->nof[j]);
				for (int q = 0; q < it->nof[j]; q++) {
					float *r = touch(e->stampE, e->touchE, &nt, e->gE, c->dq,
							 it->of[j][q], step);
					for (int k = 0; k < c->dq; k++)
						r[k] += s * d[k];
				}
			}
		}
	}
	e->ntouchE = nt;
	for (size_t i = 0; e->apply && i < nt; i++) {
		size_t o = (size_t)e->touchE[i] * c->dq;

		adam(e->m->E + o, e->mE + o, e->vE + o, e->gE + o, (size_t)c->dq, e->lr, c1, c2);
	}
}

static void update_answers(engine *e, double c1, double c2)
{
	const mlde_model_cfg *c = &e->m->cfg;
	uint32_t step = (uint32_t)e->step;
	size_t nt = 0;

	for (int t = 0; t < e->T; t++) {
		const worker *w = &e->wk[t];

		for (int i = 0; i < w->b; i++)
			for (int j = 0; j < w->it[i]->nopt; j++) {
				size_t r = (size_t)i * MLDE_OPTIONS_MAX + j;
				uint32_t a = w->it[i]->aid[j];
				float *g = touch(e->stampA, e->touchA, &nt, e->gA, c->dz, a, step);

				for (int k = 0; k < c->dz; k++)
					g[k] += w->dav[r * c->dz + k];
			}
	}
	/* the bias rows were touched exactly where the answer rows were */
	for (size_t i = 0; i < nt; i++)
		e->gAb[e->touchA[i]] = 0;
	for (int t = 0; t < e->T; t++) {
		const worker *w = &e->wk[t];

		for (int i = 0; i < w->b; i++)
			for (int j = 0; j < w->it[i]->nopt; j++)
				e->gAb[w->it[i]->aid[j]] += w->dsc[(size_t)i * MLDE_OPTIONS_MAX + j];
	}
	e->ntouchA = nt;
	for (size_t i = 0; e->apply && i < nt; i++) {
		size_t a = e->touchA[i];

		adam(e->m->A + a * c->dz, e->mA + a * c->dz, e->vA + a * c->dz, e->gA + a * c->dz,
		     (size_t)c->dz, e->lr, c1, c2);
		adam(e->m->Ab + a, e->mAb + a, e->vAb + a, e->gAb + a, 1, e->lr, c1, c2);
	}
}

static void update(engine *e, int tid)
{
	mlde_model *m = e->m;
	double c1 = 1 - pow(ADAM_B1, (double)e->step), c2 = 1 - pow(ADAM_B2, (double)e->step);
	size_t lo, hi, chunk = 4096;
	float *g = e->wk[0].g;

	/* dense parameters: each member sums every member's gradient over its
	 * own range, in member order, into member 0's buffer, then steps */
	mlde_split(m->len[BUF_W], tid, e->T, &lo, &hi);
	if (lo < e->frozen_len)
		lo = e->frozen_len < hi ? e->frozen_len : hi;
	for (size_t a = lo; a < hi; a += chunk) {
		size_t z = a + chunk < hi ? a + chunk : hi;

		for (int t = 1; t < e->T; t++) {
			const float *gt = e->wk[t].g;

			for (size_t i = a; i < z; i++)
				g[i] += gt[i];
		}
		if (!e->apply)
			continue;
		/* decoupled weight decay (AdamW) of the matrices and kernels */
		if (e->wd > 0)
			for (size_t i = a; i < z; i++)
				if (e->decay[i])
					m->buf[BUF_W][i] -= e->lr * e->wd * m->buf[BUF_W][i];
		adam(m->buf[BUF_W] + a, e->mw + a, e->vw + a, g + a, z - a, e->lr, c1, c2);
	}
	if (tid == 0)
		update_words(e, c1, c2);
	if (tid == e->T - 1)
		update_answers(e, c1, c2);
}

/* ---- training and inference entry points ---- */

static void train_member(void *ctx, int tid)
{
	engine *e = ctx;
	worker *w = &e->wk[tid];
	size_t lo, hi;
	double f0 = mlde_gemm_flops();

	mlde_split((size_t)e->n, tid, e->T, &lo, &hi);
	take_slice(e, w, lo, hi);
	forward(e, w, tid);
	memset(w->g, 0, e->m->len[BUF_W] * sizeof(float));
	backward(e, w, tid);
	mlde_team_sync(e->team);
	update(e, tid);
	w->flops += mlde_gemm_flops() - f0;
}

mlde_trainer *mlde_trainer_new(mlde_model *m, mlde_team *team, int batch)
{
	mlde_trainer *t = mlde_xcalloc(1, sizeof *t);

	engine_init(&t->e, m, team, batch, true);
	t->e.train = 1;
	return t;
}

void mlde_trainer_free(mlde_trainer *t)
{
	if (!t)
		return;
	engine_free(&t->e);
	free(t);
}

double mlde_trainer_step(mlde_trainer *t, const mlde_mc_item *const *items, int n,
			 const unsigned char *const *images, float lr, int *correct)
{
	engine *e = &t->e;
	double loss = 0;

	e->items = items;
	e->images = images;
	e->n = n;
	e->lr = lr;
	e->count = 0;
	for (int i = 0; i < n; i++)
		e->count += items[i]->nopt > 0 && items[i]->answer >= 0;
	e->step++;
	e->apply = 1;
	mlde_team_run(e->team, train_member, e);
	*correct = 0;
	for (int k = 0; k < e->T; k++) {
		loss += e->wk[k].loss;
		*correct += e->wk[k].correct;
	}
	return loss;
}

void mlde_trainer_set_decay(mlde_trainer *t, float wd)
{
	t->e.wd = wd;
}

void mlde_trainer_freeze_stem(mlde_trainer *t, int layers)
{
	const mlde_model *m = t->e.m;
	size_t end = 0;

	layers = layers < 0 ? 0 : layers > 3 ? 3 : layers;
	/* the stem's tensors are registered first, layer by layer (model.c's
	 * layout): stem.L.conv, stem.L.bn */
	for (int i = 0; i < m->ndesc; i++)
		if (m->desc[i].buf == BUF_W && strncmp(m->desc[i].name, "stem.", 5) == 0 &&
		    m->desc[i].name[5] - '0' < layers && m->desc[i].off + m->desc[i].count > end)
			end = m->desc[i].off + m->desc[i].count;
	t->e.frozen = layers;
	t->e.frozen_len = end;
}

double mlde_trainer_flops(const mlde_trainer *t)
{
	double f = 0;

	for (int k = 0; k < t->e.T; k++)
		f += t->e.wk[k].flops;
	return f;
}

static void predict_member(void *ctx, int tid)
{
	engine *e = ctx;
	worker *w = &e->wk[tid];
	const mlde_model_cfg *c = &e->m->cfg;
	int P = (c->size / 8) * (c->size / 8), D = 2 * c->c3;
	size_t lo, hi;

	mlde_split((size_t)e->n, tid, e->T, &lo, &hi);
	for (size_t k0 = lo; k0 < hi; k0 += (size_t)w->bmax) {
		size_t k1 = k0 + (size_t)w->bmax < hi ? k0 + (size_t)w->bmax : hi;

		take_slice(e, w, k0, k1);
		forward(e, w, tid);
		for (int i = 0; i < w->b; i++) {
			float *o = e->scores + (size_t)w->item_of[i] * MLDE_OPTIONS_MAX;

			memcpy(o, w->sc + (size_t)i * MLDE_OPTIONS_MAX, MLDE_OPTIONS_MAX * sizeof *o);
		}
		if (!e->embed)
			continue;
		for (size_t k = k0; k < k1; k++) {
			float *o = e->embed + k * D;
			int li = w->limg_all[k - k0];

			for (int ch = 0; ch < c->c3; ch++) {
				const float *r = w->a[2] + ((size_t)ch * w->nimg + li) * P;
				float s = 0, mx = r[0];

				for (int p = 0; p < P; p++) {
					s += r[p];
					mx = r[p] > mx ? r[p] : mx;
				}
				o[ch] = s / (float)P;
				o[c->c3 + ch] = mx;
			}
		}
	}
}

mlde_predictor *mlde_predictor_new(mlde_model *m, mlde_team *team, int batch)
{
	mlde_predictor *p = mlde_xcalloc(1, sizeof *p);

	engine_init(&p->e, m, team, batch, false);
	return p;
}

void mlde_predictor_free(mlde_predictor *p)
{
	if (!p)
		return;
	engine_free(&p->e);
	free(p);
}

void mlde_predict(mlde_predictor *p, const mlde_mc_item *const *items, int n,
		  const unsigned char *const *images, float *scores, float *embed)
{
	engine *e = &p->e;

	e->items = items;
	e->images = images;
	e->n = n;
	e->scores = scores;
	e->embed = embed;
	memset(scores, 0, (size_t)n * MLDE_OPTIONS_MAX * sizeof *scores);
	mlde_team_run(e->team, predict_member, e);
}

double mlde_trainer_grad(mlde_trainer *t, const mlde_mc_item *const *items, int n,
			 const unsigned char *const *images)
{
	engine *e = &t->e;
	double loss = 0;
	int correct;

	(void)correct;
	e->items = items;
	e->images = images;
	e->n = n;
	e->lr = 0;
	e->count = 0;
	for (int i = 0; i < n; i++)
		e->count += items[i]->nopt > 0 && items[i]->answer >= 0;
	e->step++;
	e->apply = 0;
	mlde_team_run(e->team, train_member, e);
	for (int k = 0; k < e->T; k++)
		loss += e->wk[k].loss;
	return e->count > 0 ? loss / e->count : 0;
}

int mlde_model_ntensors(const mlde_model *m)
{
	return m->ndesc;
}

const char *mlde_model_tensor(mlde_model *m, int i, float **data, size_t *count,
			      bool *trained)
{
	const tdesc *d = &m->desc[i];

	*data = m->buf[d->buf] + d->off;
	*count = d->count;
	*trained = d->buf != BUF_STATS;
	return d->name;
}

void mlde_trainer_tensor_grad(const mlde_trainer *t, int i, float *out)
{
	const engine *e = &t->e;
	const tdesc *d = &e->m->desc[i];
	const mlde_model_cfg *c = &e->m->cfg;

	memset(out, 0, d->count * sizeof *out);
	switch (d->buf) {
	case BUF_W:
		memcpy(out, e->wk[0].g + d->off, d->count * sizeof *out);
		break;
	case BUF_E:
		for (size_t k = 0; k < e->ntouchE; k++)
			memcpy(out + (size_t)e->touchE[k] * c->dq, e->gE + (size_t)e->touchE[k] * c->dq,
			       (size_t)c->dq * sizeof *out);
		break;
	case BUF_A:
		for (size_t k = 0; k < e->ntouchA; k++)
			memcpy(out + (size_t)e->touchA[k] * c->dz, e->gA + (size_t)e->touchA[k] * c->dz,
			       (size_t)c->dz * sizeof *out);
		break;
	case BUF_AB:
		for (size_t k = 0; k < e->ntouchA; k++)
			out[e->touchA[k]] = e->gAb[e->touchA[k]];
		break;
	}
}
