/* mlde-eval - run the builtin model on multiple-choice items: each item
 * comes out as an eval record (pred, correct, scores, model), and the
 * accuracy overall and per type goes to stderr.  --embed adds the image
 * embedding, and accepts pool records (no question) too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/input.h"
#include "io/jsonl.h"
#include "model/model.h"
#include "model/nn.h"
#include "record/record.h"

#define SYNOPSIS "mlde-eval [-qvZ] [-o FILE] [-LEVEL] -m MODEL [--images DIR] [--embed] " \
	"[--threads T] [--batch N] [FILE...]"

static const char help[] =
	"Run the model on items (FILE, or stdin) and write one eval record per\n"
	"item: the item's fields and pred (the best option), correct, scores (the\n"
	"probability of each option) and model (the model's file name).  Accuracy,\n"
	"overall and per type, goes to stderr.\n"
	"\n"
	"  -m, --model MODEL   the model file (from mlde-train)\n"
	"  --images DIR        image paths are relative to DIR (default .)\n"
	"  --embed             add \"embedding\", the image embedding; records with no\n"
	"                      question (pool records) are then embedded only\n"
	"  --threads T         threads (default 1)\n"
	"  --batch N           records per batch (default 512)\n"
	"  -o, --output FILE   write FILE (via FILE.tmp, renamed on success)\n"
	"  -Z, --plain         plain JSON Lines, not zstd (the default on a terminal)\n"
	"  -0 .. -19, --level N\n"
	"                      zstd level (default 3; 0 is libzstd's default)\n"
	"  -q, --quiet         errors only\n"
	"  -v, --verbose       more notes on stderr\n"
	"  -h, --help, --version\n"
	"\n"
	"Exit status: 0 success, 1 bad input, 2 usage, 3 I/O error (see mlde(7)).\n";

enum { OPT_IMAGES = MLDE_OPT_FIRST_PRIVATE, OPT_EMBED, OPT_THREADS, OPT_BATCH };

static const struct option longopts[] = {
	MLDE_COMMON_LONGOPTS,
	{ "model", required_argument, 0, 'm' },
	{ "images", required_argument, 0, OPT_IMAGES },
	{ "embed", no_argument, 0, OPT_EMBED },
	{ "threads", required_argument, 0, OPT_THREADS },
	{ "batch", required_argument, 0, OPT_BATCH },
	{ 0, 0, 0, 0 },
};

/* Accuracy per type, kept in order of first appearance, sorted at the end. */
typedef struct tally {
	char **type;
	unsigned long *n, *correct;
	size_t ntypes, cap;
	unsigned long items, embedded;
} tally;

static void tally_add(tally *t, const char *type, bool correct)
{
	size_t i;

	for (i = 0; i < t->ntypes; i++)
		if (strcmp(t->type[i], type) == 0)
			break;
	if (i == t->ntypes) {
		if (t->ntypes == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 16;
			t->type = mlde_xrealloc(t->type, t->cap * sizeof *t->type);
			t->n = mlde_xrealloc(t->n, t->cap * sizeof *t->n);
			t->correct = mlde_xrealloc(t->correct, t->cap * sizeof *t->correct);
		}
		t->type[i] = mlde_xstrdup(type);
		t->n[i] = t->correct[i] = 0;
		t->ntypes++;
	}
	t->n[i]++;
	t->correct[i] += correct;
	t->items++;
}

/* One batch of records on their way through. */
typedef struct batch {
	jv *rec;
	mlde_mc_item *items;
	const mlde_mc_item **ptr;
	char **ref;             /* image reference of each record */
	char **where;           /* FILE:LINE */
	unsigned char **px;     /* the image of each record */
	mlde_error *errs;
	float *scores, *embed;
	int n, cap;
} batch;

typedef struct eval {
	mlde_model *m;
	const char *images, *model_name;
	bool embed;
	mlde_team *team;
	mlde_predictor *pred;
	mlde_writer *w;         /* NULL until open, and again once closed */
	batch b;
	tally t;
} eval;

static void load_member(void *ctx, int tid)
{
	eval *ev = ctx;
	batch *b = &ev->b;
	size_t lo, hi;

	mlde_split((size_t)b->n, tid, mlde_team_size(ev->team), &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		mlde_error_clear(&b->errs[i]);
		if (mlde_item_image(ev->m, ev->images, b->ref[i], b->px[i], &b->errs[i]) < 0 &&
		    !b->errs[i].status)
			b->errs[i].status = MLDE_EXIT_DATA;
	}
}

/* Scores and embeddings are rounded: four decimals say all they can. */
static jv rounded(double x)
{
	return jv_number(round(x * 1e4) / 1e4);
}

/* Free the records still in the batch (a record already written is
 * jv_invalid() there) and empty it. */
static void batch_drop(batch *b)
{
	for (int i = 0; i < b->n; i++) {
		jv_free(b->rec[i]);
		b->rec[i] = jv_invalid();
		mlde_mc_item_free(&b->items[i]);
		free(b->ref[i]);
		free(b->where[i]);
	}
	b->n = 0;
}

/* The eval record of record i of the batch, scored (its record is taken
 * out of the batch), counted in the tally. */
static jv eval_record(eval *ev, int i)
{
	batch *b = &ev->b;
	const mlde_mc_item *it = &b->items[i];
	int D = mlde_model_embed_dim(ev->m);
	jv rec = b->rec[i];

	b->rec[i] = jv_invalid();
	if (it->nopt > 0) {
		const float *s = b->scores + (size_t)i * MLDE_OPTIONS_MAX;
		jv sc = jv_array(), type;
		int best = 0;

		for (int j = 0; j < it->nopt; j++) {
			sc = jv_array_append(sc, rounded(s[j]));
			if (s[j] > s[best])
				best = j;
		}
		rec = mlde_eval_record(rec, best, best == it->answer, sc, ev->model_name);
		type = jv_object_get(jv_copy(rec), jv_string(MLDE_F_TYPE));
		tally_add(&ev->t, jv_get_kind(type) == JV_KIND_STRING ? jv_string_value(type)
								   : "(no type)",
			  best == it->answer);
		jv_free(type);
	} else {
		ev->t.embedded++;
	}
	if (ev->embed) {
		jv e = jv_array();

		for (int d = 0; d < D; d++)
			e = jv_array_append(e, rounded(b->embed[(size_t)i * D + d]));
		rec = jv_object_set(rec, jv_string(MLDE_F_EMBEDDING), e);
	}
	return rec;
}

/* Load the images of the batch, run the model on it and write its eval
 * records; the batch is empty afterwards, whatever the result. */
static int flush_batch(eval *ev, mlde_error *err)
{
	batch *b = &ev->b;
	int rc = 0;

	if (b->n == 0)
		return 0;
	mlde_team_run(ev->team, load_member, ev);
	for (int i = 0; i < b->n && rc == 0; i++)
		if (b->errs[i].status) {
			mlde_error_set(err, b->errs[i].status, "%.200s: %.800s", b->where[i],
				       b->errs[i].msg);
			rc = -1;
		}
	if (rc == 0) {
		for (int i = 0; i < b->n; i++)
			b->ptr[i] = &b->items[i];
		mlde_predict(ev->pred, b->ptr, b->n, (const unsigned char *const *)b->px,
			     b->scores, ev->embed ? b->embed : NULL);
	}
	for (int i = 0; i < b->n && rc == 0; i++)
		rc = mlde_writer_put(ev->w, eval_record(ev, i), err);
	batch_drop(b);
	return rc;
}

/* Take in one record (consumed): checked as an item (or an image-only
 * record with --embed), it joins the batch, which is run when full. */
static int add_record(eval *ev, const mlde_reader *r, jv rec, mlde_error *err)
{
	batch *b = &ev->b;
	char where[512];
	mlde_item t;

	snprintf(where, sizeof where, "%s:%lu", mlde_reader_name(r), mlde_reader_lineno(r));
	if (mlde_item_check(rec, MLDE_ITEM_NEED_ANSWER | (ev->embed ? MLDE_ITEM_IMAGE_ONLY : 0),
			    where, &t, err) < 0) {
		/* a record with no question at all is likely a pool record */
		if (!ev->embed && t.fault.what == MLDE_FAULT_MISSING &&
		    strcmp(t.fault.field, MLDE_F_QUESTION) == 0)
			strncat(err->msg, " (use --embed for pool records)",
				sizeof err->msg - strlen(err->msg) - 1);
		jv_free(rec);
		return -1;
	}
	mlde_mc_item_init(ev->m, &b->items[b->n], b->n, t.question, t.options, t.nopt, t.answer);
	b->ref[b->n] = mlde_xstrdup(t.image);
	b->where[b->n] = mlde_xstrdup(where);
	b->rec[b->n++] = rec;
	return b->n == b->cap ? flush_batch(ev, err) : 0;
}

static int read_input(eval *ev, const char *path, mlde_error *err)
{
	mlde_reader *r = mlde_reader_open(path, err);
	jv rec;
	int got;

	if (!r)
		return -1;
	while ((got = mlde_reader_next(r, &rec, err)) > 0)
		if (add_record(ev, r, rec, err) < 0)
			break;
	mlde_reader_close(r);
	return got == 0 ? 0 : -1;
}

static int by_type(const void *a, const void *b)
{
	return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

static void summarise(const tally *t)
{
	unsigned long correct = 0;
	char ***order = mlde_xmalloc(t->ntypes * sizeof *order);
	size_t n = t->ntypes;

	for (size_t i = 0; i < t->ntypes; i++)
		correct += t->correct[i];
	if (t->items)
		mlde_warn("%lu items, accuracy %.4f (%lu correct)", t->items,
			  (double)correct / (double)t->items, correct);
	for (size_t i = 0; i < n; i++)
		order[i] = &t->type[i];
	qsort(order, n, sizeof *order, by_type);
	for (size_t k = 0; k < n && t->items; k++) {
		size_t i = (size_t)(order[k] - t->type);

		mlde_warn("  %-22s %.4f  (%lu/%lu)", t->type[i],
			  (double)t->correct[i] / (double)t->n[i], t->correct[i], t->n[i]);
	}
	free(order);
	if (t->embedded)
		mlde_warn("%lu image-only records embedded", t->embedded);
	if (!t->items && !t->embedded)
		mlde_warn("no records");
}

typedef struct options {
	const char *model;
	long threads, batch;
} options;

static void parse_options(mlde_cli *cli, int *argc, char **argv, eval *ev, options *opt)
{
	static const char shortopts[] = MLDE_COMMON_SHORTOPTS "m:";
	int c;

	mlde_cli_init(cli, "mlde-eval", argc, argv, shortopts, longopts);
	while ((c = getopt_long(*argc, argv, shortopts, longopts, NULL)) != -1) {
		if (mlde_cli_common(cli, c, optarg))
			continue;
		switch (c) {
		case 'm': opt->model = optarg; break;
		case OPT_IMAGES: ev->images = optarg; break;
		case OPT_EMBED: ev->embed = true; break;
		case OPT_THREADS: opt->threads = mlde_cli_long(cli, "--threads", optarg, 1, 256); break;
		case OPT_BATCH: opt->batch = mlde_cli_long(cli, "--batch", optarg, 1, 65536); break;
		default: mlde_cli_usage_error(cli, "unhandled option");
		}
	}
	if (!opt->model)
		mlde_cli_usage_error(cli, "-m MODEL is required");
}

static void batch_alloc(batch *b, int cap, int side, int embed_dim)
{
	b->cap = cap;
	b->rec = mlde_xmalloc((size_t)cap * sizeof *b->rec);
	b->items = mlde_xmalloc((size_t)cap * sizeof *b->items);
	b->ptr = mlde_xmalloc((size_t)cap * sizeof *b->ptr);
	b->ref = mlde_xmalloc((size_t)cap * sizeof *b->ref);
	b->where = mlde_xmalloc((size_t)cap * sizeof *b->where);
	b->errs = mlde_xmalloc((size_t)cap * sizeof *b->errs);
	b->px = mlde_xmalloc((size_t)cap * sizeof *b->px);
	for (int i = 0; i < cap; i++)
		b->px[i] = mlde_xmalloc((size_t)side * side * 3);
	b->scores = mlde_xmalloc((size_t)cap * MLDE_OPTIONS_MAX * sizeof(float));
	b->embed = mlde_xmalloc((size_t)cap * embed_dim * sizeof(float));
}

/* b->cap is 0 until batch_alloc: nothing to free. */
static void batch_free(batch *b)
{
	batch_drop(b);
	for (int i = 0; i < b->cap; i++)
		free(b->px[i]);
	free(b->rec); free(b->items); free(b->ptr); free(b->ref); free(b->where);
	free(b->errs); free(b->px); free(b->scores); free(b->embed);
}

/* The model, the threads and the batch. */
static int setup(eval *ev, const options *opt, mlde_error *err)
{
	const char *slash = strrchr(opt->model, '/');

	if (mlde_model_load(opt->model, &ev->m, err) < 0)
		return -1;
	ev->model_name = slash ? slash + 1 : opt->model;
	mlde_blas_threads(1);
	ev->team = mlde_team_new((int)opt->threads, err);
	if (!ev->team)
		return -1;
	/* a worker's slice of a batch: at most 64 items at a time */
	ev->pred = mlde_predictor_new(ev->m, ev->team, (int)(opt->batch < 64 * opt->threads
							      ? opt->batch : 64 * opt->threads));
	batch_alloc(&ev->b, (int)opt->batch, mlde_model_config(ev->m)->size,
		    mlde_model_embed_dim(ev->m));
	return 0;
}

/* Open the output the options describe; -1 with err (main reports it). */
static int open_output(const mlde_cli *cli, mlde_writer **w, mlde_error *err)
{
	mlde_output out = mlde_cli_output(cli);

	*w = mlde_writer_open(&out, err);
	return *w ? 0 : -1;
}

int main(int argc, char **argv)
{
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	eval ev = { .images = "." };
	options opt = { .threads = 1, .batch = 512 };
	mlde_error err;
	int rc;

	parse_options(&cli, &argc, argv, &ev, &opt);
	mlde_error_clear(&err);
	rc = setup(&ev, &opt, &err);
	if (rc == 0)
		rc = open_output(&cli, &ev.w, &err);
	if (rc == 0 && optind == argc)
		rc = read_input(&ev, "-", &err);
	for (int i = optind; i < argc && rc == 0; i++)
		rc = read_input(&ev, argv[i], &err);
	if (rc == 0)
		rc = flush_batch(&ev, &err);
	if (rc == 0) {
		rc = mlde_writer_close(ev.w, &err);  /* frees it, whatever the result */
		ev.w = NULL;
	}
	if (rc == 0)
		summarise(&ev.t);

	/* the one way out: an output still open is given up (no FILE, no
	 * FILE.tmp, a zstd stream left unfinished), everything freed */
	mlde_writer_abort(ev.w);
	batch_free(&ev.b);
	for (size_t i = 0; i < ev.t.ntypes; i++)
		free(ev.t.type[i]);
	free(ev.t.type); free(ev.t.n); free(ev.t.correct);
	mlde_predictor_free(ev.pred);
	mlde_team_free(ev.team);
	mlde_model_free(ev.m);
	if (rc < 0)
		mlde_die_error(&err);  /* quietly 0 when the reader of stdout went away */
	return MLDE_EXIT_OK;
}
