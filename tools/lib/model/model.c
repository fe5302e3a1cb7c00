/* model.c - the builtin model (see model.h): its parameters and their
 * initialisation, the model file (safetensors with the metadata that makes
 * the file self-contained), the text hashing and the image resizing.  The
 * arithmetic of training and inference is in engine.c. */
#include "model/model_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/rng.h"
#include "model/safetensors.h"

void mlde_model_default_cfg(mlde_model_cfg *cfg)
{
	*cfg = (mlde_model_cfg){
		.size = 64, .c1 = 32, .c2 = 64, .c3 = 64, .nfilm = 2, .c4 = 128,
		.dq = 64, .dh = 128, .dz = 128, .nh = 4, .dk = 32, .nq = 1 << 14,
		.na = 1 << 12,
	};
}

const char *mlde_model_check_cfg(const mlde_model_cfg *c)
{
	if (c->size < 8 || c->size > 512 || c->size % 8)
		return "image_size must be a multiple of 8 in 8..512";
	if (c->c1 < 1 || c->c2 < 1 || c->c3 < 1 || c->c4 < 1 || c->c1 > 1024 ||
	    c->c2 > 1024 || c->c3 > 1024 || c->c4 > 4096)
		return "channels out of range";
	if (c->nfilm < 0 || c->nfilm > MLDE_FILM_MAX)
		return "film_blocks out of range";
	if (c->dq < 1 || c->dh < 1 || c->dz < 1 || c->dq > 4096 || c->dh > 4096 ||
	    c->dz > 4096)
		return "widths out of range";
	if (c->nh < 0 || c->nh > 64 || c->dk < 1 || c->dk > 1024)
		return "attention sizes out of range";
	if (c->nq < 1 || c->na < 1 || c->nq > (1 << 24) || c->na > (1 << 24))
		return "hash buckets out of range";
	return NULL;
}

/* ---- layout ---- */

static int reg(mlde_model *m, const char *name, int buf, int ndim, int64_t d0, int64_t d1,
	       int64_t d2, int64_t d3)
{
	tdesc *d = &m->desc[m->ndesc];
	int64_t dims[4] = { d0, d1, d2, d3 };

	snprintf(d->name, sizeof d->name, "%s", name);
	d->ndim = ndim;
	d->count = 1;
	for (int i = 0; i < ndim; i++) {
		d->shape[i] = dims[i];
		d->count *= (size_t)dims[i];
	}
	d->buf = buf;
	d->off = m->len[buf];
	m->len[buf] += d->count;
	return m->ndesc++;
}

static void layout(mlde_model *m)
{
	const mlde_model_cfg *c = &m->cfg;
	int cin[3] = { 3, c->c1, c->c2 }, cout[3] = { c->c1, c->c2, c->c3 };
	int iconv[3], ig[3], ib[3], ifw[MLDE_FILM_MAX], ifgw[MLDE_FILM_MAX];
	int ifgb[MLDE_FILM_MAX], ifbw[MLDE_FILM_MAX], ifbb[MLDE_FILM_MAX];
	int ihw, ihg, ihb, iqw, iqb, iq2w, iq2b, iqlg, iqlb, iolg, iolb, ikw, iaqw, iaqb;
	int iow, iob, ipw, iE, iA, iAb, irm[NSITES], irv[NSITES];
	int nsites = 4 + c->nfilm, P = (c->size / 8) * (c->size / 8);
	char name[48];

	for (int l = 0; l < 3; l++) {
		snprintf(name, sizeof name, "stem.%d.conv.weight", l);
		iconv[l] = reg(m, name, BUF_W, 4, cout[l], cin[l], 3, 3);
		snprintf(name, sizeof name, "stem.%d.bn.weight", l);
		ig[l] = reg(m, name, BUF_W, 1, cout[l], 0, 0, 0);
		snprintf(name, sizeof name, "stem.%d.bn.bias", l);
		ib[l] = reg(m, name, BUF_W, 1, cout[l], 0, 0, 0);
	}
	iqw = reg(m, "question.weight", BUF_W, 2, c->dh, c->dq, 0, 0);
	iqb = reg(m, "question.bias", BUF_W, 1, c->dh, 0, 0, 0);
	iq2w = reg(m, "question.1.weight", BUF_W, 2, c->dh, c->dh, 0, 0);
	iq2b = reg(m, "question.1.bias", BUF_W, 1, c->dh, 0, 0, 0);
	iqlg = reg(m, "question.1.ln.weight", BUF_W, 1, c->dh, 0, 0, 0);
	iqlb = reg(m, "question.1.ln.bias", BUF_W, 1, c->dh, 0, 0, 0);
	for (int k = 0; k < c->nfilm; k++) {
		snprintf(name, sizeof name, "film.%d.conv.weight", k);
		ifw[k] = reg(m, name, BUF_W, 4, c->c3, c->c3 + 2, 3, 3);
		snprintf(name, sizeof name, "film.%d.scale.weight", k);
		ifgw[k] = reg(m, name, BUF_W, 2, c->c3, c->dh, 0, 0);
		snprintf(name, sizeof name, "film.%d.scale.bias", k);
		ifgb[k] = reg(m, name, BUF_W, 1, c->c3, 0, 0, 0);
		snprintf(name, sizeof name, "film.%d.shift.weight", k);
		ifbw[k] = reg(m, name, BUF_W, 2, c->c3, c->dh, 0, 0);
		snprintf(name, sizeof name, "film.%d.shift.bias", k);
		ifbb[k] = reg(m, name, BUF_W, 1, c->c3, 0, 0, 0);
	}
	ihw = reg(m, "head.conv.weight", BUF_W, 4, c->c4, c->c3 + 2, 1, 1);
	ihg = reg(m, "head.bn.weight", BUF_W, 1, c->c4, 0, 0, 0);
	ihb = reg(m, "head.bn.bias", BUF_W, 1, c->c4, 0, 0, 0);
	ikw = reg(m, "attention.key.weight", BUF_W, 2, c->dk, c->c3 + 2, 0, 0);
	iaqw = reg(m, "attention.query.weight", BUF_W, 2, c->nh * c->dk, c->dh, 0, 0);
	iaqb = reg(m, "attention.query.bias", BUF_W, 1, c->nh * c->dk, 0, 0, 0);
	iow = reg(m, "out.weight", BUF_W, 2, c->dz, MLDE_POOLED(c), 0, 0);
	iob = reg(m, "out.bias", BUF_W, 1, c->dz, 0, 0, 0);
	iolg = reg(m, "out.ln.weight", BUF_W, 1, c->dz, 0, 0, 0);
	iolb = reg(m, "out.ln.bias", BUF_W, 1, c->dz, 0, 0, 0);
	ipw = reg(m, "option.weight", BUF_W, 2, c->dz, c->dq, 0, 0);
	iE = reg(m, "words.weight", BUF_E, 2, c->nq, c->dq, 0, 0);
	iA = reg(m, "answers.weight", BUF_A, 2, c->na, c->dz, 0, 0);
	iAb = reg(m, "answers.bias", BUF_AB, 1, c->na, 0, 0, 0);
	for (int s = 0; s < nsites; s++) {
		int C = s < 3 ? cout[s] : s < 3 + c->nfilm ? c->c3 : c->c4;

		if (s < 3)
			snprintf(name, sizeof name, "stem.%d.bn", s);
		else if (s < 3 + c->nfilm)
			snprintf(name, sizeof name, "film.%d.bn", s - 3);
		else
			snprintf(name, sizeof name, "head.bn");
		strcat(name, ".running_mean");
		irm[s] = reg(m, name, BUF_STATS, 1, C, 0, 0, 0);
		name[strlen(name) - strlen("mean")] = '\0';
		strcat(name, "var");
		irv[s] = reg(m, name, BUF_STATS, 1, C, 0, 0, 0);
	}
	for (int b = 0; b < NBUF; b++)
		m->buf[b] = mlde_xcalloc(m->len[b], sizeof(float));
#define V(i) (m->buf[m->desc[i].buf] + m->desc[i].off)
	for (int l = 0; l < 3; l++) {
		m->conv[l] = V(iconv[l]);
		m->bng[l] = V(ig[l]);
		m->bnb[l] = V(ib[l]);
	}
	for (int k = 0; k < c->nfilm; k++) {
		m->fw[k] = V(ifw[k]);
		m->fgw[k] = V(ifgw[k]);
		m->fgb[k] = V(ifgb[k]);
		m->fbw[k] = V(ifbw[k]);
		m->fbb[k] = V(ifbb[k]);
	}
	m->hw = V(ihw); m->hg = V(ihg); m->hb = V(ihb);
	m->qw = V(iqw); m->qb = V(iqb); m->q2w = V(iq2w); m->q2b = V(iq2b);
	m->qlg = V(iqlg); m->qlb = V(iqlb); m->olg = V(iolg); m->olb = V(iolb);
	m->kw = V(ikw); m->aqw = V(iaqw); m->aqb = V(iaqb);
	m->ow = V(iow); m->ob = V(iob); m->pw = V(ipw);
	m->E = V(iE); m->A = V(iA); m->Ab = V(iAb);
	for (int s = 0; s < nsites; s++) {
		m->rm[s] = V(irm[s]);
		m->rv[s] = V(irv[s]);
	}
#undef V
	{
		int side = c->size / 8;

		m->coords = mlde_xmalloc(2 * (size_t)P * sizeof(float));
		for (int y = 0; y < side; y++)
			for (int x = 0; x < side; x++) {
				m->coords[y * side + x] = (2.0f * x + 1) / side - 1;
				m->coords[P + y * side + x] = (2.0f * y + 1) / side - 1;
			}
	}
}

static void fill_normal(mlde_rng *r, float *p, size_t n, double sd)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (float)(sd * mlde_rng_normal(r));
}

static void fill_const(float *p, size_t n, float v)
{
	for (size_t i = 0; i < n; i++)
		p[i] = v;
}

mlde_model *mlde_model_new(const mlde_model_cfg *cfg, uint64_t seed)
{
	mlde_model *m = mlde_xcalloc(1, sizeof *m);
	const mlde_model_cfg *c = cfg;
	int cin[3] = { 3, c->c1, c->c2 }, cout[3] = { c->c1, c->c2, c->c3 };
	mlde_rng r;

	m->cfg = *cfg;
	layout(m);
	mlde_rng_seed2(&r, seed, 0x6d6f64656cULL);  /* "model" */
	/* He initialisation before batch norm and ReLU; the FiLM and option
	 * projections start small so every question first sees the same
	 * features and the answer table starts near uniform scores */
	for (int l = 0; l < 3; l++) {
		fill_normal(&r, m->conv[l], (size_t)cout[l] * cin[l] * 9, sqrt(2.0 / (cin[l] * 9)));
		fill_const(m->bng[l], (size_t)cout[l], 1);
	}
	fill_normal(&r, m->qw, (size_t)c->dh * c->dq, sqrt(2.0 / c->dq));
	for (int k = 0; k < c->nfilm; k++) {
		fill_normal(&r, m->fw[k], (size_t)c->c3 * (c->c3 + 2) * 9,
			    sqrt(2.0 / ((c->c3 + 2) * 9)));
		fill_normal(&r, m->fgw[k], (size_t)c->c3 * c->dh, 0.1 / sqrt(c->dh));
		fill_normal(&r, m->fbw[k], (size_t)c->c3 * c->dh, 0.1 / sqrt(c->dh));
	}
	fill_normal(&r, m->hw, (size_t)c->c4 * (c->c3 + 2), sqrt(2.0 / (c->c3 + 2)));
	fill_const(m->hg, (size_t)c->c4, 1);
	fill_normal(&r, m->q2w, (size_t)c->dh * c->dh, sqrt(2.0 / c->dh));
	fill_const(m->qlg, (size_t)c->dh, 1);
	fill_const(m->olg, (size_t)c->dz, 1);
	fill_normal(&r, m->kw, (size_t)c->dk * (c->c3 + 2), sqrt(1.0 / (c->c3 + 2)));
	fill_normal(&r, m->aqw, (size_t)c->nh * c->dk * c->dh, sqrt(1.0 / c->dh));
	fill_normal(&r, m->ow, (size_t)c->dz * MLDE_POOLED(c), sqrt(2.0 / MLDE_POOLED(c)));
	fill_normal(&r, m->pw, (size_t)c->dz * c->dq, 0.1 / sqrt(c->dq));
	fill_normal(&r, m->E, (size_t)c->nq * c->dq, 0.5);
	fill_normal(&r, m->A, (size_t)c->na * c->dz, 0.01);
	for (int i = 0; i < m->ndesc; i++)
		if (m->desc[i].buf == BUF_STATS && strstr(m->desc[i].name, "running_var"))
			fill_const(m->buf[BUF_STATS] + m->desc[i].off, m->desc[i].count, 1);
	return m;
}

void mlde_model_free(mlde_model *m)
{
	if (!m)
		return;
	for (int b = 0; b < NBUF; b++)
		free(m->buf[b]);
	free(m->coords);
	free(m);
}

const mlde_model_cfg *mlde_model_config(const mlde_model *m)
{
	return &m->cfg;
}

int mlde_model_embed_dim(const mlde_model *m)
{
	return 2 * m->cfg.c3;
}

double mlde_model_flops(const mlde_model *m)
{
	const mlde_model_cfg *c = &m->cfg;
	double S = c->size, P = (S / 8) * (S / 8);
	double f = 2.0 * c->c1 * 27 * (S / 2) * (S / 2) + 2.0 * c->c2 * 9 * c->c1 * (S / 4) * (S / 4) +
		   2.0 * c->c3 * 9 * c->c2 * P;

	f += c->nfilm * 2.0 * c->c3 * 9 * (c->c3 + 2) * P + 2.0 * c->c4 * (c->c3 + 2) * P;
	f += 2.0 * c->dk * (c->c3 + 2) * P;
	return f;
}

/* ---- file form ---- */

static jv meta_int(jv o, const char *k, long v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%ld", v);
	return jv_object_set(o, jv_string(k), jv_string(buf));
}

static const char text_doc[] =
	"words: maximal runs of ASCII letters and digits (lowercased) and bytes >= 0x80, "
	"the first 64 of a text; question features 'u:' word, 'b:' word ' ' next word, "
	"'pK:' word with K = floor(4 * index / words), 's:' word ' ' a word 2 to 4 after it; "
	"option features 'u:' and 'b:'; "
	"answer key 'a:' + the words joined by one space; each feature string hashed with "
	"64-bit FNV-1a, row = hash mod buckets; a text's vector is the mean of its rows";
static const char image_doc[] =
	"PNG decoded to 8-bit RGB (alpha dropped), resized bilinearly to image_size square "
	"when its size differs, value (v - 127.5) / 64, channels first";
static const char arch_doc[] =
	"stem: 3 x (3x3 stride-2 conv, batch norm, ReLU) to an image_size/8 grid; embedding: "
	"mean and max of the stem output; question: mean of word rows, linear, ReLU, linear, "
	"layer norm, ReLU; "
	"FiLM blocks: input plus x,y channels, 3x3 conv, batch norm, scale 1 + "
	"linear(question) and shift linear(question), ReLU, residual; head: x,y channels, "
	"1x1 conv, batch norm, ReLU, max and mean pooling and soft-argmax (x, y under the "
	"softmax of 2 x each channel); attention: keys a 1x1 conv of the "
	"FiLM output with x,y, a query per head linear(question), softmax over the grid, "
	"readout of the FiLM output with x,y, count sum(sigmoid(logit))/8; h: linear, layer "
	"norm, ReLU of "
	"the pooled head, question, readouts and counts; option score: h . (answers[a] + "
	"option.weight x mean of option word rows) + answers.bias[a]; softmax over the "
	"offered options";

int mlde_model_save(const mlde_model *m, const char *path, jv extra, mlde_error *err)
{
	const mlde_model_cfg *c = &m->cfg;
	mlde_st_tensor t[NDESC_MAX];
	char chans[64];
	jv meta = jv_object();
	int rc;

	if (jv_get_kind(extra) == JV_KIND_OBJECT)
		jv_object_foreach(extra, k, v) meta = jv_object_set(meta, k, v);
	jv_free(extra);
	meta = jv_object_set(meta, jv_string("format"), jv_string(MLDE_MODEL_FORMAT));
	meta = jv_object_set(meta, jv_string("architecture"), jv_string(arch_doc));
	meta = meta_int(meta, "image_size", c->size);
	snprintf(chans, sizeof chans, "%d,%d,%d", c->c1, c->c2, c->c3);
	meta = jv_object_set(meta, jv_string("stem_channels"), jv_string(chans));
	meta = meta_int(meta, "film_blocks", c->nfilm);
	meta = meta_int(meta, "head_channels", c->c4);
	meta = meta_int(meta, "word_dim", c->dq);
	meta = meta_int(meta, "question_dim", c->dh);
	meta = meta_int(meta, "answer_dim", c->dz);
	meta = meta_int(meta, "attention_heads", c->nh);
	meta = meta_int(meta, "attention_dim", c->dk);
	meta = meta_int(meta, "word_buckets", c->nq);
	meta = meta_int(meta, "answer_buckets", c->na);
	meta = meta_int(meta, "embedding_dim", 2 * c->c3);
	meta = jv_object_set(meta, jv_string("text"), jv_string(text_doc));
	meta = jv_object_set(meta, jv_string("text_hash"), jv_string("fnv1a64"));
	meta = jv_object_set(meta, jv_string("image"), jv_string(image_doc));
	for (int i = 0; i < m->ndesc; i++) {
		const tdesc *d = &m->desc[i];

		t[i] = (mlde_st_tensor){ .name = (char *)d->name, .ndim = d->ndim, .count = d->count,
					 .data = m->buf[d->buf] + d->off };
		memcpy(t[i].shape, d->shape, sizeof d->shape);
	}
	rc = mlde_st_save(path, t, (size_t)m->ndesc, meta, err);
	return rc;
}

static int meta_get_int(const mlde_st_file *f, const char *path, const char *key, int *out,
			mlde_error *err)
{
	const char *s = mlde_st_meta(f, key);
	char *end;
	long v;

	if (!s) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: __metadata__: no '%s'", path, key);
		return -1;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < 0 || v > (1L << 30)) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: __metadata__: '%s' is not a size: %.40s",
			       path, key, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* What is wrong with tensor d's values, or NULL; *bad the element.  Every
 * value must be finite; a batch norm's running variance must also be >= 0,
 * as a variance is: a negative one makes 1/sqrt(var + eps) a NaN or a huge
 * scale, and the model would predict nonsense without a word. */
static const char *tensor_fault(const tdesc *d, const float *v, size_t *bad)
{
	bool variance = d->buf == BUF_STATS && strstr(d->name, "running_var") != NULL;

	for (size_t i = 0; i < d->count; i++) {
		*bad = i;
		if (!isfinite(v[i]))
			return "not finite";
		if (variance && v[i] < 0)
			return "a running variance below 0";
	}
	return NULL;
}

int mlde_model_load(const char *path, mlde_model **out, mlde_error *err)
{
	mlde_st_file f;
	mlde_model_cfg c;
	mlde_model *m;
	const char *fmt, *chans, *why;
	size_t bad;

	*out = NULL;
	if (mlde_st_load(path, &f, err) < 0)
		return -1;
	fmt = mlde_st_meta(&f, "format");
	if (!fmt || strcmp(fmt, MLDE_MODEL_FORMAT) != 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: not an mlde model (format %.40s, "
			       "expected " MLDE_MODEL_FORMAT ")", path, fmt ? fmt : "missing");
		goto fail;
	}
	chans = mlde_st_meta(&f, "stem_channels");
	if (!chans || sscanf(chans, "%d,%d,%d", &c.c1, &c.c2, &c.c3) != 3) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: __metadata__: bad stem_channels", path);
		goto fail;
	}
	if (meta_get_int(&f, path, "image_size", &c.size, err) < 0 ||
	    meta_get_int(&f, path, "film_blocks", &c.nfilm, err) < 0 ||
	    meta_get_int(&f, path, "head_channels", &c.c4, err) < 0 ||
	    meta_get_int(&f, path, "word_dim", &c.dq, err) < 0 ||
	    meta_get_int(&f, path, "question_dim", &c.dh, err) < 0 ||
	    meta_get_int(&f, path, "answer_dim", &c.dz, err) < 0 ||
	    meta_get_int(&f, path, "attention_heads", &c.nh, err) < 0 ||
	    meta_get_int(&f, path, "attention_dim", &c.dk, err) < 0 ||
	    meta_get_int(&f, path, "word_buckets", &c.nq, err) < 0 ||
	    meta_get_int(&f, path, "answer_buckets", &c.na, err) < 0)
		goto fail;
	if ((why = mlde_model_check_cfg(&c))) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: __metadata__: %s", path, why);
		goto fail;
	}
	m = mlde_xcalloc(1, sizeof *m);
	m->cfg = c;
	layout(m);
	for (int i = 0; i < m->ndesc; i++) {
		const tdesc *d = &m->desc[i];
		const mlde_st_tensor *t = mlde_st_find(&f, d->name);
		bool same = t && t->ndim == d->ndim;

		for (int k = 0; same && k < d->ndim; k++)
			same = t->shape[k] == d->shape[k];
		if (!same) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: tensor '%s' %s", path, d->name,
				       t ? "has the wrong shape for the metadata" : "is missing");
			mlde_model_free(m);
			goto fail;
		}
		if ((why = tensor_fault(d, t->data, &bad))) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: tensor '%s': element %zu is %g: %s",
				       path, d->name, bad, (double)t->data[bad], why);
			mlde_model_free(m);
			goto fail;
		}
		memcpy(m->buf[d->buf] + d->off, t->data, d->count * sizeof(float));
	}
	mlde_st_free(&f);
	*out = m;
	return 0;
fail:
	mlde_st_free(&f);
	return -1;
}

/* ---- text ---- */

static bool word_byte(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch >= 0x80;
}

typedef struct words {
	int n;
	char buf[2048];
	int off[MLDE_WORDS_MAX], len[MLDE_WORDS_MAX];
} words;

static void split_words(const char *s, words *w)
{
	size_t used = 0;

	w->n = 0;
	while (*s && w->n < MLDE_WORDS_MAX) {
		size_t n = 0;

		while (*s && !word_byte((unsigned char)*s))
			s++;
		if (!*s)
			break;
		while (word_byte((unsigned char)s[n]))
			n++;
		if (n > 31)
			n = 31;  /* a very long word is known by its first 31 bytes */
		w->off[w->n] = (int)used;
		w->len[w->n] = (int)n;
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)s[i];
			w->buf[used + i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
		}
		used += n;
		w->n++;
		while (word_byte((unsigned char)*s))
			s++;
	}
}

static uint32_t row(uint64_t h, int buckets)
{
	return (uint32_t)(h % (uint64_t)buckets);
}

/* Feature rows of a text; question adds position-tagged words. */
static uint32_t *text_rows(const mlde_model *m, const words *w, bool question, int *n)
{
	int cap = 6 * w->n + 1, k = 0;
	uint32_t *ids = mlde_xmalloc((size_t)cap * sizeof *ids);

	for (int i = 0; i < w->n; i++) {
		const char *wi = w->buf + w->off[i];
		uint64_t h = mlde_fnv1a("u:", 2);

		ids[k++] = row(mlde_fnv1a_more(h, wi, (size_t)w->len[i]), m->cfg.nq);
		if (i + 1 < w->n) {
			h = mlde_fnv1a_more(mlde_fnv1a("b:", 2), wi, (size_t)w->len[i]);
			h = mlde_fnv1a_more(h, " ", 1);
			h = mlde_fnv1a_more(h, w->buf + w->off[i + 1], (size_t)w->len[i + 1]);
			ids[k++] = row(h, m->cfg.nq);
		}
		if (!question)
			continue;
		{
			char tag[4] = { 'p', (char)('0' + 4 * i / w->n), ':', 0 };

			h = mlde_fnv1a(tag, 3);
			ids[k++] = row(mlde_fnv1a_more(h, wi, (size_t)w->len[i]), m->cfg.nq);
		}
		/* word pairs 2 to 4 apart: "to ... circle" marks the reference of
		 * a relation and "is ... circle" its subject, in any phrasing */
		for (int j = i + 2; j < w->n && j <= i + 4; j++) {
			h = mlde_fnv1a_more(mlde_fnv1a("s:", 2), wi, (size_t)w->len[i]);
			h = mlde_fnv1a_more(h, " ", 1);
			h = mlde_fnv1a_more(h, w->buf + w->off[j], (size_t)w->len[j]);
			ids[k++] = row(h, m->cfg.nq);
		}
	}
	*n = k;
	return ids;
}

void mlde_mc_item_init(const mlde_model *m, mlde_mc_item *it, int image,
		       const char *question, const char *const *options, int nopt,
		       int answer)
{
	words w;

	memset(it, 0, sizeof *it);
	it->image = image;
	it->answer = answer;
	it->nopt = nopt > MLDE_OPTIONS_MAX ? MLDE_OPTIONS_MAX : nopt;
	if (it->nopt <= 0) {
		it->nopt = 0;
		return;
	}
	split_words(question, &w);
	it->q = text_rows(m, &w, true, &it->nq);
	for (int j = 0; j < it->nopt; j++) {
		uint64_t h = mlde_fnv1a("a:", 2);

		split_words(options[j], &w);
		it->of[j] = text_rows(m, &w, false, &it->nof[j]);
		for (int i = 0; i < w.n; i++) {
			if (i)
				h = mlde_fnv1a_more(h, " ", 1);
			h = mlde_fnv1a_more(h, w.buf + w.off[i], (size_t)w.len[i]);
		}
		it->aid[j] = row(h, m->cfg.na);
	}
}

void mlde_mc_item_free(mlde_mc_item *it)
{
	free(it->q);
	for (int j = 0; j < MLDE_OPTIONS_MAX; j++)
		free(it->of[j]);
	memset(it, 0, sizeof *it);
}

void mlde_model_image(const mlde_model *m, const unsigned char *rgb, int w, int h,
		      unsigned char *out)
{
	int S = m->cfg.size;

	if (w == S && h == S) {
		memcpy(out, rgb, (size_t)S * S * 3);
		return;
	}
	for (int y = 0; y < S; y++) {
		double fy = (y + 0.5) * h / S - 0.5;
		int y0 = fy < 0 ? 0 : (int)fy, y1 = y0 + 1 < h ? y0 + 1 : h - 1;
		double ay = fy < 0 ? 0 : fy - y0;

		for (int x = 0; x < S; x++) {
			double fx = (x + 0.5) * w / S - 0.5;
			int x0 = fx < 0 ? 0 : (int)fx, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
			double ax = fx < 0 ? 0 : fx - x0;

			for (int ch = 0; ch < 3; ch++) {
				double a = rgb[((size_t)y0 * w + x0) * 3 + ch];
				double b = rgb[((size_t)y0 * w + x1) * 3 + ch];
				double cc = rgb[((size_t)y1 * w + x0) * 3 + ch];
				double d = rgb[((size_t)y1 * w + x1) * 3 + ch];
				double v = (a * (1 - ax) + b * ax) * (1 - ay) +
					   (cc * (1 - ax) + d * ax) * ay;

				out[((size_t)y * S + x) * 3 + ch] = (unsigned char)(v + 0.5);
			}
		}
	}
}

