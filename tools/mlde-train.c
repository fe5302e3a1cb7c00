/* mlde-train - train the builtin multimodal model on multiple-choice items
 * and write it as a safetensors file; --init continues from an earlier
 * model, as iteration N of the loop fine-tunes iteration N-1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/hash.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "model/input.h"
#include "record/record.h"
#include "io/jsonl.h"
#include "model/model.h"
#include "model/nn.h"
#include "model/schedule.h"
#include "base/rng.h"

#define SYNOPSIS "mlde-train [-qv] [--init MODEL] -o MODEL [--epochs E] [--lr X] " \
	"[--batch B] [--wd X] [--shift N] [--seed S] [--threads T] [--images DIR] [--arch SPEC] [--bench] " \
	"[--old FILE]... [--replay N] [--freeze-stem L] [FILE...]"

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
	"  --old FILE          items trained on before (repeatable): with --replay, a\n"
	"                      sample of them joins each epoch; without, all of them\n"
	"  --replay N          each epoch: every FILE item and N of the --old items, a\n"
	"                      fresh seeded draw every epoch (all if fewer)\n"
	"  --freeze-stem L     train all but the first L (1-3) of the stem's three\n"
	"                      convolutions, which run as in inference (default 0)\n"
	"  --bench             also time OpenBLAS sgemm on the same threads, before and\n"
	"                      after the training, and give the training's FLOP rate as\n"
	"                      a fraction of the mean of the two\n"
	"  -q, --quiet         errors only\n"
	"  -v, --verbose       a line per epoch\n"
	"  -h, --help, --version\n"
	"\n"
	"Exit status: 0 success, 1 bad input, 2 usage, 3 I/O error (see mlde(7)).\n";

enum { OPT_INIT = MLDE_OPT_FIRST_PRIVATE, OPT_EPOCHS, OPT_LR, OPT_BATCH, OPT_SEED,
       OPT_THREADS, OPT_IMAGES, OPT_ARCH, OPT_BENCH, OPT_WD, OPT_SHIFT, OPT_OLD, OPT_REPLAY,
       OPT_FREEZE_STEM };

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
	{ "old", required_argument, 0, OPT_OLD },
	{ "replay", required_argument, 0, OPT_REPLAY },
	{ "freeze-stem", required_argument, 0, OPT_FREEZE_STEM },
	{ 0, 0, 0, 0 },
};

typedef struct options {
	const char *init, *images, *out;
	long epochs, batch, seed, threads, shift;
	long replay;           /* old items an epoch; -1: all of them */
	const char **old;      /* the --old files (argv's strings) */
	int nold;
	double lr, wd;
	long freeze_stem;      /* stem layers frozen */
	bool bench, arch;
	mlde_model_cfg cfg;
} options;

/* The images, each loaded once however many items name it: image i is
 * ref i of refs. */
typedef struct image_set {
	mlde_strset refs;      /* as the items name them */
	char **where;          /* FILE:LINE of the first item naming it */
	unsigned char **px;    /* size*size*3 each */
	size_t n, cap;
} image_set;

static int images_add(image_set *s, const char *ref, const char *where)
{
	bool added;
	size_t i = mlde_strset_add(&s->refs, ref, strlen(ref), &added);

	if (!added)
		return (int)i;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->where = mlde_xrealloc(s->where, s->cap * sizeof *s->where);
	}
	s->where[s->n++] = mlde_xstrdup(where);
	return (int)i;
}

typedef struct item_list {
	mlde_mc_item *v;
	size_t n, cap;
} item_list;

/* Everything the run holds, so that main's one way out frees it however
 * far the run got. */
typedef struct train {
	const options *o;
	mlde_model *m;
	item_list items;        /* the --old files' items first */
	size_t n_old;           /* how many of them are old */
	size_t per_epoch;       /* items an epoch: all, or the new and the replayed */
	image_set imgs;
	mlde_team *team;
	mlde_trainer *tr;
	mlde_shifter sh;        /* set up with tr */
	double loss, secs;      /* of the last epoch, and of the training */
	int correct;            /* in the last epoch */
	double sgemm_before;    /* --bench: sgemm's GFLOP/s just before the training */
} train;

/* Take item rec (borrowed), r's last record, into T's items and images. */
static int add_item(train *T, const mlde_reader *r, jv rec, mlde_error *err)
{
	item_list *items = &T->items;
	char where[512];
	mlde_item t;

	snprintf(where, sizeof where, "%s:%lu", mlde_reader_name(r), mlde_reader_lineno(r));
	if (mlde_item_check(rec, MLDE_ITEM_NEED_ANSWER, where, &t, err) < 0)
		return -1;
	if (items->n == items->cap) {
		items->cap = items->cap ? 2 * items->cap : 4096;
		items->v = mlde_xrealloc(items->v, items->cap * sizeof *items->v);
	}
	mlde_mc_item_init(T->m, &items->v[items->n++], images_add(&T->imgs, t.image, where),
			  t.question, t.options, t.nopt, t.answer);
	return 0;
}

static int read_items(train *T, const char *path, mlde_error *err)
{
	mlde_reader *r = mlde_reader_open(path, err);
	int got = r ? 1 : -1;  /* 1 while records come, 0 at the end */
	jv rec;

	while (got > 0 && (got = mlde_reader_next(r, &rec, err)) > 0) {
		if (add_item(T, r, rec, err) < 0)
			got = -1;
		jv_free(rec);
	}
	if (r)
		mlde_reader_close(r);
	return got;
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
		if (mlde_item_image(c->m, c->root, c->imgs->refs.keys[i], c->imgs->px[i], &c->errs[i]) < 0)
			c->errs[i].status = c->errs[i].status ? c->errs[i].status : MLDE_EXIT_DATA;
	}
}

/* Every image, on the team's threads: 0, or -1 with err naming the item
 * of the first that cannot be used. */
static int load_images(train *T, mlde_error *err)
{
	image_set *imgs = &T->imgs;
	load_ctx c = { T->m, imgs, T->o->images, NULL, mlde_team_size(T->team) };
	int rc = 0;

	imgs->px = mlde_xmalloc((imgs->n ? imgs->n : 1) * sizeof *imgs->px);
	c.errs = mlde_xmalloc((imgs->n ? imgs->n : 1) * sizeof *c.errs);
	mlde_team_run(T->team, load_member, &c);
	for (size_t i = 0; rc == 0 && i < imgs->n; i++)
		if (c.errs[i].status) {
			mlde_error_set(err, c.errs[i].status, "%.200s: %.800s", imgs->where[i],
				       c.errs[i].msg);
			rc = -1;
		}
	free(c.errs);
	return rc;
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
	if (o->replay >= 0)
		SET("train_replay", "%ld", o->replay);
	if (o->freeze_stem)
		SET("train_frozen_stem", "%ld", o->freeze_stem);
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

static void parse_options(mlde_cli *cli, int *argc, char **argv, options *o)
{
	static const char shortopts[] = MLDE_COMMON_SHORTOPTS;
	int c;

	mlde_cli_init(cli, "mlde-train", argc, argv, shortopts, longopts);
	while ((c = getopt_long(*argc, argv, shortopts, longopts, NULL)) != -1) {
		if (mlde_cli_common(cli, c, optarg))
			continue;
		switch (c) {
		case OPT_INIT: o->init = optarg; break;
		case OPT_SHIFT: o->shift = mlde_cli_long(cli, "--shift", optarg, 0, 8); break;
		case OPT_EPOCHS: o->epochs = mlde_cli_long(cli, "--epochs", optarg, 0, 100000); break;
		case OPT_LR: o->lr = mlde_cli_double(cli, "--lr", optarg, 0, 10); break;
		case OPT_WD: o->wd = mlde_cli_double(cli, "--wd", optarg, 0, 100); break;
		case OPT_BATCH: o->batch = mlde_cli_long(cli, "--batch", optarg, 1, 65536); break;
		case OPT_SEED: o->seed = mlde_cli_long(cli, "--seed", optarg, 0, 0x7fffffffL); break;
		case OPT_THREADS:
			o->threads = mlde_cli_long(cli, "--threads", optarg, 1, 256);
			break;
		case OPT_IMAGES: o->images = optarg; break;
		case OPT_ARCH:
			parse_arch(cli, optarg, &o->cfg);
			o->arch = true;
			break;
		case OPT_BENCH: o->bench = true; break;
		case OPT_OLD:
			o->old = mlde_xrealloc(o->old, (size_t)(o->nold + 1) * sizeof *o->old);
			o->old[o->nold++] = optarg;
			break;
		case OPT_REPLAY:
			o->replay = mlde_cli_long(cli, "--replay", optarg, 0, 0x7fffffffL);
			break;
		case OPT_FREEZE_STEM:
			o->freeze_stem = mlde_cli_long(cli, "--freeze-stem", optarg, 0, 3);
			break;
		default: mlde_cli_usage_error(cli, "unhandled option");
		}
	}
	o->out = cli->out.path;
	if (o->init && o->arch)
		mlde_cli_usage_error(cli, "--arch: an --init model brings its own architecture");
	if (!o->out || strcmp(o->out, "-") == 0)
		mlde_cli_usage_error(cli, "-o MODEL is required (a model is not written to "
				     "stdout)");
}

/* Everything before the first step, in the order its errors are told: the
 * model, the items, the threads, the images. */
static int setup(train *T, int nfiles, char **files, mlde_error *err)
{
	const options *o = T->o;

	if (o->init && mlde_model_load(o->init, &T->m, err) < 0)
		return -1;
	if (!o->init)
		T->m = mlde_model_new(&o->cfg, (uint64_t)o->seed);
	for (int i = 0; i < o->nold; i++)
		if (read_items(T, o->old[i], err) < 0)
			return -1;
	T->n_old = T->items.n;
	for (int i = 0; i < (nfiles ? nfiles : 1); i++)
		if (read_items(T, nfiles ? files[i] : "-", err) < 0)
			return -1;
	T->per_epoch = T->items.n;
	if (o->replay >= 0 && (size_t)o->replay < T->n_old)
		T->per_epoch = T->items.n - T->n_old + (size_t)o->replay;
	if (T->per_epoch == 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "no items to train on");
		return -1;
	}
	mlde_blas_single();
	if (!(T->team = mlde_team_new((int)o->threads, err)) || load_images(T, err) < 0)
		return -1;
	T->tr = mlde_trainer_new(T->m, T->team, (int)o->batch);
	mlde_shifter_init(&T->sh, (int)o->shift, mlde_model_config(T->m)->size, T->imgs.px,
			  T->imgs.n, (int)o->batch, (uint64_t)o->seed);
	mlde_trainer_set_decay(T->tr, (float)o->wd);
	mlde_trainer_freeze_stem(T->tr, (int)o->freeze_stem);
	return 0;
}

/* The items of an epoch when it replays a sample of the old ones: into
 * epoch, the first `want` of pick (the old items' indices) after a partial
 * shuffle, which leaves a uniform draw whatever order pick is in, then every
 * new item. */
static void replay_draw(const train *T, mlde_rng *r, size_t *pick, size_t want,
			mlde_mc_item *epoch)
{
	size_t k = 0;

	for (size_t i = 0; i < want; i++) {
		size_t j = i + (size_t)mlde_rng_below(r, T->n_old - i), t = pick[i];

		pick[i] = pick[j];
		pick[j] = t;
		epoch[k++] = T->items.v[pick[i]];
	}
	for (size_t i = T->n_old; i < T->items.n; i++)
		epoch[k++] = T->items.v[i];
}

/* The epochs: each a seeded order of the items in batches, every image of
 * a batch shifted by a fresh draw.  With fewer items an epoch than read
 * (--replay), each epoch's old items are drawn first, from a stream of
 * their own so the order's stream is as it would be. */
static void fit(train *T)
{
	const options *o = T->o;
	size_t n_items = T->per_epoch, B = (size_t)o->batch;
	bool replaying = n_items < T->items.n;
	const mlde_mc_item **order = mlde_xmalloc(n_items * sizeof *order);
	mlde_mc_item *epoch = replaying ? mlde_xmalloc(n_items * sizeof *epoch) : T->items.v;
	size_t *pick = replaying ? mlde_xmalloc(T->n_old * sizeof *pick) : NULL;
	long steps = o->epochs * (long)((n_items + B - 1) / B), step = 0;
	double t0;
	mlde_progress bar;
	mlde_rng rng, replay_rng;

	mlde_rng_seed2(&rng, (uint64_t)o->seed, 0x6f72646572ULL);  /* "order" */
	mlde_rng_seed2(&replay_rng, (uint64_t)o->seed, 0x7265706c6179ULL);  /* "replay" */
	for (size_t i = 0; replaying && i < T->n_old; i++)
		pick[i] = i;
	mlde_progress_init(&bar, false);
	t0 = mlde_now();
	for (int e = 0; e < o->epochs; e++) {
		double eloss = 0;
		int ecorrect = 0;

		if (replaying)
			replay_draw(T, &replay_rng, pick, (size_t)o->replay, epoch);
		mlde_epoch_order(&rng, epoch, n_items, T->imgs.n, order);
		for (size_t b = 0; b < n_items; b += B) {
			int n = (int)(n_items - b < B ? n_items - b : B);
			int ok;

			mlde_shifter_batch(&T->sh, order + b, n);
			eloss += mlde_trainer_step(T->tr, order + b, n,
						   (const unsigned char *const *)T->sh.view,
						   mlde_lr_at(o->lr, step, steps), &ok);
			mlde_shifter_unbatch(&T->sh, order + b, n);
			ecorrect += ok;
			step++;
			if (mlde_progress_due(&bar)) {
				double el = mlde_now() - t0, done = (double)step / (double)steps;
				double eta = done > 0 ? el / done - el : 0;

				mlde_progress_draw(&bar, "epoch %d/%ld  loss %.4f  acc %.3f  %.0f samples/s"
						   "  ETA %d:%02d", e + 1, o->epochs,
						   eloss / (double)(b + (size_t)n),
						   (double)ecorrect / (double)(b + (size_t)n),
						   (double)step * (double)o->batch / el,
						   (int)eta / 60, (int)eta % 60);
			}
		}
		T->loss = eloss / (double)n_items;
		T->correct = ecorrect;
		mlde_note(1, "epoch %d: loss %.4f, train accuracy %.4f, %.1f s", e + 1, T->loss,
			  (double)ecorrect / (double)n_items, mlde_now() - t0);
	}
	T->secs = mlde_now() - t0;
	mlde_progress_wipe();
	free(order);
	if (replaying)
		free(epoch);
	free(pick);
}

/* The summary line, and with --bench sgemm's rate beside the training's. */
static void summary(const train *T)
{
	const options *o = T->o;
	double secs = T->secs > 0 ? T->secs : 1;
	double samples = (double)T->per_epoch * (double)o->epochs;
	double gf = mlde_trainer_flops(T->tr) / secs / 1e9, peak, after;
	char replayed[96] = "";

	if (T->per_epoch < T->items.n)
		snprintf(replayed, sizeof replayed, " (%zu an epoch: %ld of %zu old replayed)",
			 T->per_epoch, o->replay, T->n_old);
	mlde_note(0, "%zu items%s, %zu images, %ld epochs in %.1f s: %.0f samples/s, "
		  "%.1f GFLOP/s; last epoch loss %.4f, train accuracy %.4f",
		  T->items.n, replayed, T->imgs.n, o->epochs, T->secs, samples / secs, gf, T->loss,
		  o->epochs ? (double)T->correct / (double)T->per_epoch : 0.0);
	if (!o->bench)
		return;
	/* the peer on both sides of the training, so that a slow moment of the
	 * machine on one side weighs half */
	after = mlde_sgemm_rate(T->team) / 1e9;
	peak = (T->sgemm_before + after) / 2;
	mlde_note(0, "sgemm alone on %ld thread%s: %.1f GFLOP/s (%.1f before the training, "
		  "%.1f after); training reached %.1f%% of it",
		  o->threads, o->threads == 1 ? "" : "s", peak, T->sgemm_before, after,
		  100 * gf / peak);
}

int main(int argc, char **argv)
{
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	options o = { .images = ".", .epochs = 12, .batch = 128, .seed = 1, .threads = 1,
		      .lr = 0.004, .wd = 0.05, .shift = 2, .replay = -1 };
	train T = { .o = &o };
	mlde_error err;
	int rc;

	mlde_model_default_cfg(&o.cfg);
	parse_options(&cli, &argc, argv, &o);
	mlde_error_clear(&err);
	rc = setup(&T, argc - optind, argv + optind, &err);
	if (rc == 0) {
		if (o.bench)
			T.sgemm_before = mlde_sgemm_rate(T.team) / 1e9;
		fit(&T);
		/* MODEL.tmp, renamed onto MODEL only once it is all written */
		rc = mlde_model_save(T.m, o.out, train_meta(&o, T.items.n), &err);
	}
	if (rc == 0)
		summary(&T);

	/* the one way out: everything freed, then the error told */
	mlde_trainer_free(T.tr);
	mlde_shifter_free(&T.sh);
	mlde_team_free(T.team);
	for (size_t i = 0; i < T.items.n; i++)
		mlde_mc_item_free(&T.items.v[i]);
	for (size_t i = 0; i < T.imgs.n; i++) {
		free(T.imgs.where[i]);
		if (T.imgs.px)
			free(T.imgs.px[i]);
	}
	mlde_strset_free(&T.imgs.refs);
	free(T.imgs.where);
	free(T.imgs.px);
	free(T.items.v);
	free(o.old);
	mlde_model_free(T.m);
	if (rc < 0)
		mlde_die_error(&err);
	return MLDE_EXIT_OK;
}
