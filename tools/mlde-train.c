/* mlde-train - train the builtin multimodal model on multiple-choice items
 * and write it as a safetensors file; --init continues from an earlier
 * model, as iteration N of the loop fine-tunes iteration N-1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "model/input.h"
#include "io/jsonl.h"
#include "model/model.h"
#include "model/nn.h"
#include "base/rng.h"

#define SYNOPSIS "mlde-train [-qv] [--init MODEL] -o MODEL [--epochs E] [--lr X] " \
	"[--batch B] [--wd X] [--shift N] [--seed S] [--threads T] [--images DIR] [--arch SPEC] [--bench] " \
	"[FILE...]"

static const char help[] =
	"Train the builtin model on items (FILE, or stdin) and write it to MODEL, a\n"
	"safetensors file whose metadata holds everything needed to run it.  Same\n"
	"items, seed and thread count: the same bytes.\n"
	"\n"
	"  -o, --output MODEL  the model to write (via MODEL.tmp, renamed on success)\n"
	"  --init MODEL        start from this model instead of a fresh one\n"
	"  --epochs E          passes over the items (default 12)\n"
	"  --lr X              peak Adam learning rate (default 0.004), warmed up and\n"
	"                      decayed along a cosine\n"
	"  --batch B           items per step (default 128)\n"
	"  --wd X              AdamW weight decay of the weights (default 0.05)\n"
	"  --shift N           move each training image by up to N pixels on each axis,\n"
	"                      a fresh draw every step (default 2; 0 for none)\n"
	"  --seed S            initialisation and shuffling seed (default 1)\n"
	"  --threads T         threads (default 1); the result depends on T\n"
	"  --images DIR        image paths are relative to DIR (default .)\n"
	"  --arch SPEC         architecture of a fresh model: KEY=N,... with keys\n"
	"                      c1 c2 c3 film c4 dq dh dz heads dk nq na (see\n"
	"                      mlde-train(1))\n"
	"  --bench             also time OpenBLAS sgemm on the same threads and give the\n"
	"                      training's FLOP rate as a fraction of it\n"
	"  -q, --quiet         errors only\n"
	"  -v, --verbose       a line per epoch\n"
	"  -h, --help, --version\n"
	"\n"
	"Exit status: 0 success, 1 bad input, 2 usage, 3 I/O error (see mlde(7)).\n";

enum { OPT_INIT = MLDE_OPT_FIRST_PRIVATE, OPT_EPOCHS, OPT_LR, OPT_BATCH, OPT_SEED,
       OPT_THREADS, OPT_IMAGES, OPT_ARCH, OPT_BENCH, OPT_WD, OPT_SHIFT };

static const struct option longopts[] = {
	MLDE_COMMON_LONGOPTS,
	{ "init", required_argument, 0, OPT_INIT },
	{ "epochs", required_argument, 0, OPT_EPOCHS },
	{ "lr", required_argument, 0, OPT_LR },
	{ "batch", required_argument, 0, OPT_BATCH },
	{ "seed", required_argument, 0, OPT_SEED },
	{ "threads", required_argument, 0, OPT_THREADS },
	{ "images", required_argument, 0, OPT_IMAGES },
	{ "arch", required_argument, 0, OPT_ARCH },
	{ "bench", no_argument, 0, OPT_BENCH },
	{ "wd", required_argument, 0, OPT_WD },
	{ "shift", required_argument, 0, OPT_SHIFT },
	{ 0, 0, 0, 0 },
};

typedef struct options {
	const char *init, *images, *out;
	long epochs, batch, seed, threads, shift;
	double lr, wd;
	bool bench, arch;
	mlde_model_cfg cfg;
} options;

/* The images, each loaded once however many items name it. */
typedef struct image_set {
	char **ref;            /* as the item names it */
	char **where;          /* FILE:LINE of the first item naming it */
	unsigned char **px;    /* size*size*3 each */
	size_t n, cap;
	size_t *slot;          /* open addressing: index + 1, 0 empty */
	size_t nslot;
} image_set;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void images_grow(image_set *s)
{
	size_t nslot = s->nslot ? s->nslot * 2 : 1024;
	size_t *slot = calloc(nslot, sizeof *slot);

	if (!slot)
		mlde_die(MLDE_EXIT_INTERNAL, "out of memory");
	for (size_t i = 0; i < s->n; i++) {
		size_t h = hash_str(s->ref[i]) & (nslot - 1);
		while (slot[h])
			h = (h + 1) & (nslot - 1);
		slot[h] = i + 1;
	}
	free(s->slot);
	s->slot = slot;
	s->nslot = nslot;
}

static int images_add(image_set *s, const char *ref, const char *where)
{
	size_t h;

	if ((s->n + 1) * 2 > s->nslot)
		images_grow(s);
	for (h = hash_str(ref) & (s->nslot - 1); s->slot[h]; h = (h + 1) & (s->nslot - 1))
		if (strcmp(s->ref[s->slot[h] - 1], ref) == 0)
			return (int)(s->slot[h] - 1);
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->ref = mlde_xrealloc(s->ref, s->cap * sizeof *s->ref);
		s->where = mlde_xrealloc(s->where, s->cap * sizeof *s->where);
	}
	s->ref[s->n] = mlde_xstrdup(ref);
	s->where[s->n] = mlde_xstrdup(where);
	s->slot[h] = ++s->n;
	return (int)(s->n - 1);
}

typedef struct item_list {
	mlde_mc_item *v;
	size_t n, cap;
} item_list;

static void read_items(const char *path, const mlde_model *m, item_list *items,
		       image_set *imgs)
{
	mlde_error err;
	mlde_reader *r;
	jv rec;
	int got;

	mlde_error_clear(&err);
	r = mlde_reader_open(path, &err);
	if (!r)
		mlde_die_error(&err);
	while ((got = mlde_reader_next(r, &rec, &err)) > 0) {
		char where[512];
		mlde_item_text t;

		snprintf(where, sizeof where, "%s:%lu", mlde_reader_name(r), mlde_reader_lineno(r));
		if (mlde_item_read(rec, true, false, where, &t, &err) < 0)
			mlde_die_error(&err);
		if (items->n == items->cap) {
			items->cap = items->cap ? 2 * items->cap : 4096;
			items->v = mlde_xrealloc(items->v, items->cap * sizeof *items->v);
		}
		mlde_mc_item_init(m, &items->v[items->n++], images_add(imgs, t.image, where),
				  t.question, t.options, t.nopt, t.answer);
		jv_free(rec);
	}
	if (got < 0)
		mlde_die_error(&err);
	mlde_reader_close(r);
}

typedef struct load_ctx {
	const mlde_model *m;
	image_set *imgs;
	const char *root;
	mlde_error *errs;  /* one per image, so the first bad one in order is named */
	int T;
} load_ctx;

static void load_member(void *ctx, int tid)
{
	load_ctx *c = ctx;
	size_t lo, hi, S = (size_t)mlde_model_config(c->m)->size;

	mlde_split(c->imgs->n, tid, c->T, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		c->imgs->px[i] = mlde_xmalloc(S * S * 3);
		mlde_error_clear(&c->errs[i]);
		if (mlde_item_image(c->m, c->root, c->imgs->ref[i], c->imgs->px[i], &c->errs[i]) < 0)
			c->errs[i].status = c->errs[i].status ? c->errs[i].status : MLDE_EXIT_DATA;
	}
}

static void load_images(mlde_team *team, const mlde_model *m, image_set *imgs,
			const char *root)
{
	load_ctx c = { m, imgs, root, NULL, mlde_team_size(team) };

	imgs->px = mlde_xmalloc((imgs->n ? imgs->n : 1) * sizeof *imgs->px);
	c.errs = mlde_xmalloc((imgs->n ? imgs->n : 1) * sizeof *c.errs);
	mlde_team_run(team, load_member, &c);
	for (size_t i = 0; i < imgs->n; i++)
		if (c.errs[i].status) {
			mlde_error e;

			mlde_error_set(&e, c.errs[i].status, "%.200s: %.800s", imgs->where[i],
				       c.errs[i].msg);
			mlde_die_error(&e);
		}
	free(c.errs);
}

/* The order of an epoch: images shuffled, and the items of an image side by
 * side (shuffled too), so a batch computes each image once. */
static void epoch_order(mlde_rng *r, const item_list *items, size_t nimg,
			const mlde_mc_item **order)
{
	uint64_t *key = mlde_xmalloc(items->n * sizeof *key);
	uint64_t *rank = mlde_xmalloc((nimg ? nimg : 1) * sizeof *rank);
	size_t *idx = mlde_xmalloc((items->n ? items->n : 1) * sizeof *idx);

	for (size_t i = 0; i < nimg; i++)
		rank[i] = i;
	mlde_rng_shuffle(r, rank, nimg, sizeof *rank);
	/* rank[i] is a position; invert it into each image's place */
	{
		uint64_t *place = mlde_xmalloc((nimg ? nimg : 1) * sizeof *place);

		for (size_t i = 0; i < nimg; i++)
			place[rank[i]] = i;
		for (size_t i = 0; i < items->n; i++)
			key[i] = (place[items->v[i].image] << 24) | (mlde_rng_next(r) >> 40);
		free(place);
	}
	for (size_t i = 0; i < items->n; i++)
		idx[i] = i;
	/* a stable sort by key: ties (vanishingly rare) keep item order */
	for (size_t w = 1; w < items->n; w *= 2) {
		size_t *tmp = mlde_xmalloc(items->n * sizeof *tmp);

		for (size_t lo = 0; lo < items->n; lo += 2 * w) {
			size_t mid = lo + w < items->n ? lo + w : items->n;
			size_t hi = lo + 2 * w < items->n ? lo + 2 * w : items->n;
			size_t a = lo, b = mid, k = lo;

			while (a < mid || b < hi)
				tmp[k++] = b >= hi || (a < mid && key[idx[a]] <= key[idx[b]]) ? idx[a++]
											   : idx[b++];
		}
		memcpy(idx, tmp, items->n * sizeof *idx);
		free(tmp);
	}
	for (size_t i = 0; i < items->n; i++)
		order[i] = &items->v[idx[i]];
	free(key);
	free(rank);
	free(idx);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Translation augmentation: each step sees every image of its batch moved
 * by up to --shift pixels on each axis (edges replicated), a fresh draw
 * every time.  The world's answers survive it: location questions are only
 * asked of objects at least 3 pixels from a border between parts, spatial
 * relations need 8 pixels of offset, and the rest do not depend on place. */
typedef struct shifter {
	int k;                      /* the largest shift; 0 turns it off */
	int side;                   /* the model's image side */
	unsigned char **view;       /* what the trainer sees: px, or a shifted copy */
	unsigned char *scratch;     /* batch images, side*side*3 each */
	mlde_rng rng;
} shifter;

static void shift_image(const unsigned char *src, unsigned char *dst, int side, int dx,
			int dy)
{
	for (int y = 0; y < side; y++) {
		int sy = y - dy < 0 ? 0 : y - dy >= side ? side - 1 : y - dy;

		for (int x = 0; x < side; x++) {
			int sx = x - dx < 0 ? 0 : x - dx >= side ? side - 1 : x - dx;

			memcpy(dst + ((size_t)y * side + x) * 3, src + ((size_t)sy * side + sx) * 3, 3);
		}
	}
}

/* Point view[] at shifted copies of the images of order[0..n). */
static void shift_batch(shifter *s, const image_set *imgs, const mlde_mc_item *const *order,
			int n)
{
	size_t bytes = (size_t)s->side * s->side * 3;
	int used = 0;

	if (s->k == 0)
		return;
	for (int i = 0; i < n; i++) {
		int img = order[i]->image;
		int span = 2 * s->k + 1;
		int dx, dy;

		if (i > 0 && order[i - 1]->image == img)
			continue;  /* items of one image sit together and share its copy */
		dx = (int)mlde_rng_below(&s->rng, (uint64_t)span) - s->k;
		dy = (int)mlde_rng_below(&s->rng, (uint64_t)span) - s->k;
		shift_image(imgs->px[img], s->scratch + (size_t)used * bytes, s->side, dx, dy);
		s->view[img] = s->scratch + (size_t)used++ * bytes;
	}
}

/* Back to the unshifted images, ready for the next batch. */
static void unshift_batch(shifter *s, const image_set *imgs, const mlde_mc_item *const *order,
			  int n)
{
	if (s->k == 0)
		return;
	for (int i = 0; i < n; i++)
		s->view[order[i]->image] = imgs->px[order[i]->image];
}

static void shift_init(shifter *s, const options *o, const mlde_model *m, const image_set *imgs)
{
	s->k = (int)o->shift;
	s->side = mlde_model_config(m)->size;
	s->view = mlde_xmalloc((imgs->n ? imgs->n : 1) * sizeof *s->view);
	memcpy(s->view, imgs->px, imgs->n * sizeof *s->view);
	s->scratch = s->k ? mlde_xmalloc((size_t)o->batch * s->side * s->side * 3) : NULL;
	mlde_rng_seed2(&s->rng, (uint64_t)o->seed, 0x7368696674ULL);  /* "shift" */
}

static void shift_free(shifter *s)
{
	free(s->view);
	free(s->scratch);
}

/* Warm up over the first 3% of the steps, then a cosine down to 2%. */
static float schedule(double lr, long step, long total)
{
	long warm = total / 33 > 0 ? total / 33 : 1;
	double p;

	if (step < warm)
		return (float)(lr * (double)(step + 1) / (double)warm);
	p = (double)(step - warm) / (double)(total - warm > 0 ? total - warm : 1);
	return (float)(lr * (0.02 + 0.98 * 0.5 * (1 + cos(M_PI * p))));
}

typedef struct gemm_bench {
	float *a, *b, *c;
	int n, reps;
} gemm_bench;

static void gemm_member(void *ctx, int tid)
{
	gemm_bench *g = ctx;
	size_t nn = (size_t)g->n * g->n;

	for (int r = 0; r < g->reps; r++)
		mlde_gemm(0, 0, g->n, g->n, g->n, 1, g->a + tid * nn, g->n, g->b + tid * nn, g->n, 0,
			  g->c + tid * nn, g->n);
}

/* sgemm's rate on this team: every member multiplies its own 512 x 512
 * matrices, as the training does (OpenBLAS single-threaded in each). */
static double sgemm_rate(mlde_team *team)
{
	int T = mlde_team_size(team);
	gemm_bench g = { .n = 512, .reps = 1 };
	size_t nn = (size_t)g.n * g.n * T;
	double t0, t = 0;

	g.a = calloc(nn, sizeof(float));
	g.b = calloc(nn, sizeof(float));
	g.c = calloc(nn, sizeof(float));
	if (!g.a || !g.b || !g.c)
		mlde_die(MLDE_EXIT_INTERNAL, "out of memory");
	for (size_t i = 0; i < nn; i++) {
		g.a[i] = (float)(i % 7) * 0.1f;
		g.b[i] = (float)(i % 5) * 0.1f;
	}
	mlde_team_run(team, gemm_member, &g);  /* warm up */
	while (t < 0.5) {
		g.reps *= 2;
		t0 = now();
		mlde_team_run(team, gemm_member, &g);
		t = now() - t0;
	}
	free(g.a);
	free(g.b);
	free(g.c);
	return 2.0 * g.n * g.n * (double)g.n * g.reps * T / t;
}

static void progress(int epoch, long epochs, double loss, double acc, double rate,
		     double eta)
{
	fprintf(stderr, "\r%s: epoch %d/%ld  loss %.4f  acc %.3f  %.0f samples/s  ETA %d:%02d ",
		mlde_prog, epoch, epochs, loss, acc, rate, (int)eta / 60, (int)eta % 60);
}

static void parse_arch(const mlde_cli *cli, const char *spec, mlde_model_cfg *c)
{
	char *s = mlde_xstrdup(spec), *save = NULL;

	for (char *kv = strtok_r(s, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		struct { const char *k; int *v; } keys[] = {
			{ "c1", &c->c1 }, { "c2", &c->c2 }, { "c3", &c->c3 }, { "film", &c->nfilm },
			{ "c4", &c->c4 }, { "dq", &c->dq }, { "dh", &c->dh }, { "dz", &c->dz },
			{ "heads", &c->nh }, { "dk", &c->dk }, { "nq", &c->nq }, { "na", &c->na },
		};
		size_t i;

		if (!eq)
			mlde_cli_usage_error(cli, "--arch: '%s' is not KEY=N", kv);
		*eq = '\0';
		for (i = 0; i < sizeof keys / sizeof *keys; i++)
			if (strcmp(keys[i].k, kv) == 0)
				break;
		if (i == sizeof keys / sizeof *keys)
			mlde_cli_usage_error(cli, "--arch: unknown key '%s'", kv);
		*keys[i].v = (int)mlde_cli_long(cli, "--arch", eq + 1, 0, 1 << 24);
	}
	free(s);
	if (mlde_model_check_cfg(c))
		mlde_cli_usage_error(cli, "--arch: %s", mlde_model_check_cfg(c));
}

static jv train_meta(const options *o, size_t nitems)
{
	jv m = jv_object();
	char buf[64];

#define SET(k, ...) (snprintf(buf, sizeof buf, __VA_ARGS__), \
		     m = jv_object_set(m, jv_string(k), jv_string(buf)))
	SET("train_seed", "%ld", o->seed);
	SET("train_epochs", "%ld", o->epochs);
	SET("train_batch", "%ld", o->batch);
	SET("train_lr", "%g", o->lr);
	SET("train_weight_decay", "%g", o->wd);
	SET("train_shift", "%ld", o->shift);
	SET("train_threads", "%ld", o->threads);
	SET("train_items", "%zu", nitems);
	m = jv_object_set(m, jv_string("train_schedule"),
			  jv_string("Adam (0.9, 0.999), linear warm-up over 3% of the steps, "
				    "cosine decay to 2% of the peak"));
#undef SET
	if (o->init) {
		const char *base = strrchr(o->init, '/');
		m = jv_object_set(m, jv_string("train_init"), jv_string(base ? base + 1 : o->init));
	}
	return m;
}

int main(int argc, char **argv)
{
	static const char shortopts[] = MLDE_COMMON_SHORTOPTS;
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	options o = { .images = ".", .epochs = 12, .batch = 128, .seed = 1, .threads = 1,
		      .lr = 0.004, .wd = 0.05, .shift = 2 };
	item_list items = { 0 };
	image_set imgs = { 0 };
	const mlde_mc_item **order;
	mlde_model *m;
	mlde_trainer *tr;
	mlde_team *team;
	mlde_error err;
	mlde_rng rng;
	shifter sh;
	bool tty;
	long steps, step = 0;
	double t0, last = 0, loss = 0, secs;
	int c, correct = 0;

	mlde_model_default_cfg(&o.cfg);
	mlde_cli_init(&cli, "mlde-train", &argc, argv, shortopts, longopts);
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (mlde_cli_common(&cli, c, optarg))
			continue;
		switch (c) {
		case OPT_INIT: o.init = optarg; break;
		case OPT_SHIFT: o.shift = mlde_cli_long(&cli, "--shift", optarg, 0, 8); break;
		case OPT_EPOCHS: o.epochs = mlde_cli_long(&cli, "--epochs", optarg, 0, 100000); break;
		case OPT_LR: o.lr = mlde_cli_double(&cli, "--lr", optarg, 0, 10); break;
		case OPT_WD: o.wd = mlde_cli_double(&cli, "--wd", optarg, 0, 100); break;
		case OPT_BATCH: o.batch = mlde_cli_long(&cli, "--batch", optarg, 1, 65536); break;
		case OPT_SEED: o.seed = mlde_cli_long(&cli, "--seed", optarg, 0, 0x7fffffffL); break;
		case OPT_THREADS:
			o.threads = mlde_cli_long(&cli, "--threads", optarg, 1, 256);
			break;
		case OPT_IMAGES: o.images = optarg; break;
		case OPT_ARCH:
			parse_arch(&cli, optarg, &o.cfg);
			o.arch = true;
			break;
		case OPT_BENCH: o.bench = true; break;
		default: mlde_cli_usage_error(&cli, "unhandled option");
		}
	}
	o.out = cli.out.path;
	if (o.init && o.arch)
		mlde_cli_usage_error(&cli, "--arch: an --init model brings its own architecture");
	if (!o.out || strcmp(o.out, "-") == 0)
		mlde_cli_usage_error(&cli, "-o MODEL is required (a model is not written to "
				     "stdout)");

	mlde_error_clear(&err);
	if (o.init) {
		if (mlde_model_load(o.init, &m, &err) < 0)
			mlde_die_error(&err);
	} else {
		m = mlde_model_new(&o.cfg, (uint64_t)o.seed);
	}
	if (optind == argc)
		read_items("-", m, &items, &imgs);
	for (int i = optind; i < argc; i++)
		read_items(argv[i], m, &items, &imgs);
	if (items.n == 0)
		mlde_die(MLDE_EXIT_DATA, "no items to train on");

	team = mlde_team_new((int)o.threads);
	load_images(team, m, &imgs, o.images);
	tr = mlde_trainer_new(m, team, (int)o.batch);
	shift_init(&sh, &o, m, &imgs);
	mlde_trainer_set_decay(tr, (float)o.wd);
	order = mlde_xmalloc(items.n * sizeof *order);
	mlde_rng_seed2(&rng, (uint64_t)o.seed, 0x6f72646572ULL);  /* "order" */
	steps = o.epochs * (long)((items.n + (size_t)o.batch - 1) / (size_t)o.batch);
	tty = isatty(2) && mlde_verbosity >= 0;
	t0 = now();
	for (int e = 0; e < o.epochs; e++) {
		double eloss = 0;
		int ecorrect = 0;

		epoch_order(&rng, &items, imgs.n, order);
		for (size_t b = 0; b < items.n; b += (size_t)o.batch) {
			int n = (int)(items.n - b < (size_t)o.batch ? items.n - b : (size_t)o.batch);
			int ok;

			shift_batch(&sh, &imgs, order + b, n);
			eloss += mlde_trainer_step(tr, order + b, n,
						   (const unsigned char *const *)sh.view,
						   schedule(o.lr, step, steps), &ok);
			unshift_batch(&sh, &imgs, order + b, n);
			ecorrect += ok;
			step++;
			if (tty && now() - last > 0.2) {
				double el = now() - t0, done = (double)step / (double)steps;

				last = now();
				progress(e + 1, o.epochs, eloss / (double)(b + (size_t)n),
					 (double)ecorrect / (double)(b + (size_t)n),
					 (double)step * (double)o.batch / el,
					 done > 0 ? el / done - el : 0);
			}
		}
		loss = eloss / (double)items.n;
		correct = ecorrect;
		if (mlde_verbosity >= 1) {
			if (tty)
				fputs("\r\033[K", stderr);
			mlde_note(1, "epoch %d: loss %.4f, train accuracy %.4f, %.1f s", e + 1, loss,
				  (double)ecorrect / (double)items.n, now() - t0);
		}
	}
	secs = now() - t0;
	if (tty)
		fputs("\r\033[K", stderr);
	if (mlde_model_save(m, o.out, train_meta(&o, items.n), &err) < 0)
		mlde_die_error(&err);
	{
		double samples = (double)items.n * (double)o.epochs;
		double gf = mlde_trainer_flops(tr) / (secs > 0 ? secs : 1) / 1e9;

		mlde_note(0, "%zu items, %zu images, %ld epochs in %.1f s: %.0f samples/s, "
			  "%.1f GFLOP/s; last epoch loss %.4f, train accuracy %.4f",
			  items.n, imgs.n, o.epochs, secs, samples / (secs > 0 ? secs : 1), gf,
			  loss, o.epochs ? (double)correct / (double)items.n : 0.0);
		if (o.bench) {
			double peak = sgemm_rate(team) / 1e9;

			mlde_note(0, "sgemm alone on %ld thread%s: %.1f GFLOP/s; training reached "
				  "%.1f%% of it", o.threads, o.threads == 1 ? "" : "s", peak,
				  100 * gf / peak);
		}
	}

	mlde_trainer_free(tr);
	shift_free(&sh);
	mlde_team_free(team);
	for (size_t i = 0; i < items.n; i++)
		mlde_mc_item_free(&items.v[i]);
	for (size_t i = 0; i < imgs.n; i++) {
		free(imgs.ref[i]);
		free(imgs.where[i]);
		free(imgs.px[i]);
	}
	free(imgs.ref);
	free(imgs.where);
	free(imgs.px);
	free(imgs.slot);
	free(items.v);
	free(order);
	mlde_model_free(m);
	return MLDE_EXIT_OK;
}
