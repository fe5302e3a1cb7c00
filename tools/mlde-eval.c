/* mlde-eval - evaluate a model on multiple-choice items: the builtin model
 * (-m MODEL, a file of mlde-train), or any model behind an OpenAI-compatible
 * vision endpoint (--backend http), each item one chat completion through the
 * request window (gen/window.h: in input order, cached, retried, limited).
 * Each item comes out as an eval record (pred, correct, scores, model), and
 * the accuracy overall and per type goes to stderr.  --embed adds the image
 * embedding, and accepts pool records (no question) too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli/batchopt.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "cli/endpoint.h"
#include "cli/pacing.h"
#include "cli/progress.h"
#include "eval/answer.h"
#include "eval/chat.h"
#include "gen/batch.h"
#include "gen/cache.h"
#include "gen/reply.h"
#include "gen/window.h"
#include "io/image.h"
#include "model/input.h"
#include "io/json.h"
#include "io/jsonl.h"
#include "cli/cost.h"
#include "model/model.h"
#include "model/nn.h"
#include "record/record.h"

#define SYNOPSIS "mlde-eval [-qvZ] [-o FILE] [-LEVEL] -m MODEL [--images DIR] [--embed] " \
	"[--threads T] [--batch N] [--backend builtin|http] [--base-url URL] " \
	"[--system TEXT] [--field KEY=JSON] [--logprobs K] [--circular] [--judge-url URL] " \
	"[--judge-model NAME] [--embed-url URL] [--embed-model NAME] [--temperature T] " \
	"[--max-tokens N] [--api-key-file FILE] [-j N] [--rpm N] [--tpm N] [--retries N] " \
	"[--timeout S] [--backoff S] [--cache DIR] [--offline] [--batch-api] [--batch-retry batch|live|none] " \
	"[--batch-write FILE] [--batch-read FILE] [--dry-run] [--prices FILE] [--progress] [FILE...]"

/* The http backend's defaults, named in the help and mlde-eval(1). */
#define MAX_TOKENS 16
#define IMAGE_MAX ((size_t)20 << 20)  /* bytes of one image file: OpenAI's limit */

static const char help[] =
	"Run a model on items (FILE, or stdin) and write one eval record per item:\n"
	"the item's fields and pred (the option chosen), correct, scores (the\n"
	"probability of each option) and model.  Accuracy, overall and per type,\n"
	"goes to stderr.\n"
	"\n"
	"  -m, --model MODEL   builtin: the model file (from mlde-train); http: the\n"
	"                      served model's name (required either way)\n"
	"  --images DIR        image paths are relative to DIR (default .)\n"
	"  --embed             add \"embedding\", the image embedding; records with no\n"
	"                      question (pool records) are then embedded only\n"
	"  --threads T         builtin: threads (default 1)\n"
	"  --batch N           builtin: records per batch (default 512)\n"
	"  --backend B         builtin (default): the model file of -m; http: an\n"
	"                      OpenAI-compatible chat completions server\n"
	"http backend (see mlde-eval(1) for the exact request):\n"
	"  --base-url URL      default $OPENAI_BASE_URL, else https://api.openai.com/v1\n"
	"  --system TEXT       a system message before the question\n"
	"  --field KEY=JSON    set KEY of the request body to the JSON value (again\n"
	"                      for more; over the fields mlde-eval sets)\n"
	"  --logprobs K        ask for the top K log-probabilities: scores\n"
	"  --circular          CircularEval: ask each item once per rotation of its\n"
	"                      options; correct only when every rotation is\n"
	"  --judge-url URL     ask a judge there to read the replies the rules cannot\n"
	"                      (default: --base-url)\n"
	"  --judge-model NAME  the judge's model (required for a judge)\n"
	"  --embed-url URL     --embed: the embeddings server (default: --base-url)\n"
	"  --embed-model NAME  --embed: its model (default: -m)\n"
	"  --temperature T     default 0\n"
	"  --max-tokens N      default " MLDE_STR(MAX_TOKENS) "\n"
	"  --api-key-file FILE read the key from FILE rather than $OPENAI_API_KEY\n"
	"  -j, --jobs N        requests in flight per server at most (default "
		MLDE_STR(MLDE_ENDPOINT_JOBS) "); fewer\n"
	"                      while the server throttles (mlde(7), PACING)\n"
	"  --rpm N, --tpm N    requests and tokens per minute at most, per server\n"
	"                      (default: no limit)\n"
	"  --retries N         retries of a request after 429, 5xx, a timeout or a\n"
	"                      connection error (default " MLDE_STR(MLDE_ENDPOINT_RETRIES) ")\n"
	"  --timeout S         seconds per attempt (default " MLDE_STR(MLDE_ENDPOINT_TIMEOUT) ")\n"
	"  --backoff S         the first retry waits about S seconds, doubling\n"
	"                      (default " MLDE_STR(MLDE_ENDPOINT_BACKOFF) ")\n"
	"  --cache DIR         reply cache (default $XDG_CACHE_HOME/mlde/replies)\n"
	"  --offline           send nothing: a reply missing from the cache is a failure\n"
	MLDE_BATCH_HELP("the questions", "  ")
	"  --dry-run           render every request known in advance (questions,\n"
	"                      rotations, embeddings; not the judge's) and send none:\n"
	"                      print their count, how many the reply cache holds, the\n"
	"                      estimated tokens and cost, a row per model\n"
	"  --prices FILE       the price table (default: prompts/prices.tsv)\n"
	"  --progress          progress on stderr even when it is not a terminal\n"
	"\n"
	"  -o, --output FILE   write FILE (via FILE.tmp, renamed on success)\n"
	"  -Z, --plain         plain JSON Lines, not zstd (the default on a terminal)\n"
	"  -0 .. -19, --level N\n"
	"                      zstd level (default 3; 0 is libzstd's default)\n"
	"  -q, --quiet         errors only\n"
	"  -v, --verbose       more notes on stderr\n"
	"  -h, --help, --version\n"
	"\n"
	"Exit status: 0 success, 1 bad input, 2 usage, 3 I/O error, 4 requests\n"
	"failed for good (see mlde(7)).\n";

enum { OPT_IMAGES = MLDE_OPT_FIRST_PRIVATE, OPT_EMBED, OPT_THREADS, OPT_BATCH, OPT_BACKEND,
       OPT_SYSTEM, OPT_FIELD, OPT_LOGPROBS, OPT_CIRCULAR, OPT_JUDGE_URL, OPT_JUDGE_MODEL,
       OPT_EMBED_URL, OPT_EMBED_MODEL, OPT_PROGRESS };

/* --model is the endpoint options' (MLDE_OPT_MODEL); -m means the same. */
static const struct option longopts[] = {
	MLDE_COMMON_LONGOPTS,
	{ "images", required_argument, 0, OPT_IMAGES },
	{ "embed", no_argument, 0, OPT_EMBED },
	{ "threads", required_argument, 0, OPT_THREADS },
	{ "batch", required_argument, 0, OPT_BATCH },
	{ "backend", required_argument, 0, OPT_BACKEND },
	MLDE_ENDPOINT_LONGOPTS,
	MLDE_BATCH_LONGOPTS,
	MLDE_COST_LONGOPTS,
	{ "system", required_argument, 0, OPT_SYSTEM },
	{ "field", required_argument, 0, OPT_FIELD },
	{ "logprobs", required_argument, 0, OPT_LOGPROBS },
	{ "circular", no_argument, 0, OPT_CIRCULAR },
	{ "judge-url", required_argument, 0, OPT_JUDGE_URL },
	{ "judge-model", required_argument, 0, OPT_JUDGE_MODEL },
	{ "embed-url", required_argument, 0, OPT_EMBED_URL },
	{ "embed-model", required_argument, 0, OPT_EMBED_MODEL },
	{ "progress", no_argument, 0, OPT_PROGRESS },
	{ 0, 0, 0, 0 },
};

enum backend { BACKEND_BUILTIN, BACKEND_HTTP };

typedef struct options {
	enum backend backend;
	const char *images;
	bool embed;
	long threads, batch;          /* builtin */
	mlde_endpoint_opts http;      /* .model: -m, the file or the served name */
	mlde_batch_cli bapi;          /* --batch-*: the questions through the Batch API first */
	const char *system, *judge_url, *judge_model, *embed_url, *embed_model;
	jv fields;                    /* --field: an object */
	mlde_cost_opts cost;          /* --dry-run, --prices */
	long logprobs;
	bool circular, progress;
} options;

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

static void tally_free(tally *t)
{
	for (size_t i = 0; i < t->ntypes; i++)
		free(t->type[i]);
	free(t->type); free(t->n); free(t->correct);
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
	/* what the members made of the batch: each one's records as lines (in
	 * order, member after member), and per record, for the tally, its
	 * type (NULL: image-only) and whether it was answered right */
	mlde_buf *text;
	char **type;
	bool *right;
	int nmembers;
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
 * out of the batch); its type and whether it was right kept for the tally.
 * Only record i's own values are touched: the members build their records
 * side by side (jv's reference counts are not atomic, so no value may be
 * shared between two of them). */
static jv eval_record(eval *ev, int i)
{
	batch *b = &ev->b;
	const mlde_mc_item *it = &b->items[i];
	int D = mlde_model_embed_dim(ev->m);
	jv rec = b->rec[i];

	b->rec[i] = jv_invalid();
	b->type[i] = NULL;
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
		b->type[i] = mlde_xstrdup(jv_get_kind(type) == JV_KIND_STRING ? jv_string_value(type)
									   : "(no type)");
		b->right[i] = best == it->answer;
		jv_free(type);
	}
	if (ev->embed) {
		jv e = jv_array();

		for (int d = 0; d < D; d++)
			e = jv_array_append(e, rounded(b->embed[(size_t)i * D + d]));
		rec = jv_object_set(rec, jv_string(MLDE_F_EMBEDDING), e);
	}
	return rec;
}

/* A member's share of the batch's eval records, built and written out as
 * lines.  (On the main thread alone, this was a fifth of the time of
 * embedding the pool, while the other members waited.) */
static void build_member(void *ctx, int tid)
{
	eval *ev = ctx;
	batch *b = &ev->b;
	mlde_buf *text = &b->text[tid];
	size_t lo, hi;

	mlde_split((size_t)b->n, tid, b->nmembers, &lo, &hi);
	mlde_buf_reset(text);
	for (size_t i = lo; i < hi; i++) {
		jv rec = eval_record(ev, (int)i);

		mlde_json_dump(rec, text);  /* mlde_writer_put's bytes */
		jv_free(rec);
		mlde_buf_addc(text, '\n');
	}
}

/* The built batch counted in the tally and written, in record order. */
static int write_built(eval *ev, mlde_error *err)
{
	batch *b = &ev->b;

	for (int i = 0; i < b->n; i++) {
		if (b->type[i])
			tally_add(&ev->t, b->type[i], b->right[i]);
		else
			ev->t.embedded++;
		free(b->type[i]);
		b->type[i] = NULL;
	}
	for (int t = 0; t < b->nmembers; t++)
		if (mlde_writer_write(ev->w, b->text[t].p, b->text[t].len, err) < 0)
			return -1;
	return 0;
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
		mlde_team_run(ev->team, build_member, ev);
		rc = write_built(ev, err);
	}
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

static void batch_alloc(batch *b, int cap, int side, int embed_dim, int nmembers)
{
	b->cap = cap;
	b->nmembers = nmembers;
	b->text = mlde_xcalloc((size_t)nmembers, sizeof *b->text);
	b->type = mlde_xcalloc((size_t)cap, sizeof *b->type);
	b->right = mlde_xcalloc((size_t)cap, sizeof *b->right);
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
	for (int t = 0; t < b->nmembers; t++)
		mlde_buf_free(&b->text[t]);
	free(b->text); free(b->type); free(b->right);
}


/* ==== the http backend ==== */

/* One question as asked in one rotation of its options (rotation 0: as
 * the item has them), and what came of it. */
typedef struct rotation {
	int pred;               /* an index of the item's options; -1: none */
	mlde_answer_rule rule;
	bool judged;            /* the judge decided pred */
	char *raw, *judge;      /* the reply, the judge's reply (NULL: none) */
	mlde_usage usage, judge_usage;  /* of each, as the server counted it */
	bool has_scores;
	double scores[MLDE_OPTIONS_MAX];  /* in the item's order of options */
} rotation;

/* One input record from admission until its eval record is written. */
typedef struct pending {
	jv rec;
	char *question, *options[MLDE_OPTIONS_MAX];
	int nopt, answer, nrot; /* nopt 0: an image-only record */
	rotation rot[MLDE_OPTIONS_MAX];
	int waiting;            /* requests not back yet */
	bool failed;            /* one failed for good: the record is left out */
	jv embedding;           /* invalid until it comes (or none asked) */
	mlde_usage embedding_usage;
} pending;

enum { WIN_ASK, WIN_JUDGE, WIN_EMBED, NWIN };

/* The user of one request in a window. */
typedef struct request {
	pending *p;
	int rot;
} request;

typedef struct hrun {
	const options *opt;
	mlde_chat_opts ask, judge;
	mlde_cache cache;
	mlde_window *win[NWIN];    /* NULL: not used */
	mlde_batch *batch;         /* the pass that collects the questions for it */
	bool ask_offline;          /* --batch-retry none: after the batch, no question is sent */
	char *url[NWIN];           /* for messages, and in the cache key */
	const char *base[NWIN];    /* the base URL each was made of, for hints */
	long jobs;                 /* requests in flight per window */
	pending **q;               /* in input order, from qhead, qn of them */
	size_t qcap, qhead, qn;
	mlde_writer *w;
	unsigned long read, written, failed, embedded, kept;
	unsigned long answered, unanswered, by_judge, judge_asked, plain_correct;
	mlde_usage_sum usage;      /* of every reply, the reply cache's apart */
	mlde_dry dry;              /* --dry-run: what would be sent */
	char first_failure[400];   /* why the first request failed for good */
	mlde_remote_causes causes; /* of all the requests that failed for good */
	bool eof;
	double t0;
	mlde_progress bar;
	tally t;
} hrun;

static void pending_free(pending *p)
{
	jv_free(p->rec);
	jv_free(p->embedding);
	free(p->question);
	for (int i = 0; i < p->nopt; i++)
		free(p->options[i]);
	for (int k = 0; k < p->nrot; k++) {
		free(p->rot[k].raw);
		free(p->rot[k].judge);
	}
	free(p);
}

/* A request never taken: its record goes with the queue. */
static void request_drop(void *user)
{
	free(user);
}

static int submit(hrun *R, int win, pending *p, int rot, char *body, size_t len,
		  double tokens, mlde_error *err)
{
	request *rq;
	int rc;

	if (R->opt->cost.dry_run) {
		rc = mlde_dry_add(&R->dry, R->url[win], body, len, err);
		free(body);
		return rc;
	}
	if (R->batch) {
		/* the first pass of --batch-api or --batch-write: the questions
		 * collected (judge and embedding requests go live later) */
		rc = win == WIN_ASK ? mlde_batch_add(R->batch, body, len, err) : 0;
		free(body);
		return rc;
	}
	rq = mlde_xmalloc(sizeof *rq);
	rq->p = p;
	rq->rot = rot;
	rc = mlde_window_submit(R->win[win], body, len, tokens, NULL, rq, err);
	free(body);
	if (rc < 0) {
		free(rq);
		return -1;
	}
	p->waiting++;
	return 0;
}

/* The tpm estimate: about 4 bytes a token of text, an image as OpenAI
 * counts a 512-pixel one in detail, and the reply. */
static double tokens_of(size_t body_len, size_t uri_len, long max_tokens)
{
	return (double)(body_len - uri_len) / 4.0 + 765.0 + (double)max_tokens;
}

/* The questions of p, one per rotation, to the ask window. */
static int ask(hrun *R, pending *p, const char *hint, const char *uri, mlde_error *err)
{
	size_t ulen = strlen(uri);

	for (int k = 0; k < p->nrot; k++) {
		const char *shown[MLDE_OPTIONS_MAX];
		char *text, *body;
		size_t len;

		mlde_chat_rotate((const char *const *)p->options, (size_t)p->nopt, (size_t)k, shown);
		text = mlde_chat_question_text(hint, p->question, shown, (size_t)p->nopt);
		body = mlde_chat_question_body(&R->ask, uri, text, &len);
		free(text);
		if (submit(R, WIN_ASK, p, k, body, len, tokens_of(len, ulen, R->ask.max_tokens),
			   err) < 0)
			return -1;
	}
	return 0;
}

static int ask_embedding(hrun *R, pending *p, const char *uri, mlde_error *err)
{
	const options *o = R->opt;
	size_t len;
	char *body = mlde_chat_embed_body(o->embed_model ? o->embed_model : o->http.model, uri,
					  NULL, &len);

	return submit(R, WIN_EMBED, p, 0, body, len, tokens_of(len, strlen(uri), 0), err);
}

static char *string_field(jv rec, const char *key)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(key));
	char *s = jv_get_kind(v) == JV_KIND_STRING ? mlde_xstrdup(jv_string_value(v)) : NULL;

	jv_free(v);
	return s;
}

/* Take in one record (consumed): checked, its image read, its requests
 * submitted, and queued for output in input order. */
static int admit(hrun *R, const mlde_reader *r, jv rec, mlde_error *err)
{
	const options *o = R->opt;
	char where[512], *uri = NULL, *hint = NULL;
	bool need_embed;
	mlde_item t;
	pending *p;
	int rc = 0;

	snprintf(where, sizeof where, "%s:%lu", mlde_reader_name(r), mlde_reader_lineno(r));
	if (mlde_item_check(rec, MLDE_ITEM_NEED_ANSWER | (o->embed ? MLDE_ITEM_IMAGE_ONLY : 0),
			    where, &t, err) < 0) {
		if (!o->embed && t.fault.what == MLDE_FAULT_MISSING &&
		    strcmp(t.fault.field, MLDE_F_QUESTION) == 0)
			strncat(err->msg, " (use --embed for pool records)",
				sizeof err->msg - strlen(err->msg) - 1);
		jv_free(rec);
		return -1;
	}
	p = mlde_xmalloc(sizeof *p);
	memset(p, 0, sizeof *p);
	p->rec = rec;
	p->embedding = jv_invalid();
	p->nopt = t.nopt;
	p->answer = t.answer;
	p->nrot = t.nopt == 0 ? 0 : o->circular ? t.nopt : 1;
	p->question = t.question ? mlde_xstrdup(t.question) : NULL;
	for (int i = 0; i < t.nopt; i++)
		p->options[i] = mlde_xstrdup(t.options[i]);
	for (int k = 0; k < p->nrot; k++)
		p->rot[k].pred = -1;
	/* a record that has its embedding keeps it */
	need_embed = o->embed && !jv_object_has(jv_copy(rec), jv_string(MLDE_F_EMBEDDING));
	if (p->nrot > 0 || need_embed) {
		mlde_error ierr;

		mlde_error_clear(&ierr);
		uri = mlde_image_data_uri(o->images, t.image, IMAGE_MAX, &ierr);
		if (!uri) {
			mlde_error_set(err, ierr.status ? ierr.status : MLDE_EXIT_DATA, "%.200s: %.800s",
				       where, ierr.msg);
			rc = -1;
		}
	}
	hint = rc == 0 ? string_field(rec, "hint") : NULL;
	if (rc == 0 && p->nrot > 0)
		rc = ask(R, p, hint, uri, err);
	if (rc == 0 && need_embed)
		rc = ask_embedding(R, p, uri, err);
	if (rc == 0 && o->embed && !need_embed && p->nopt == 0)
		R->kept++;
	free(uri);
	free(hint);
	/* in the queue even on failure: requests submitted point to it */
	R->q[(R->qhead + R->qn++) % R->qcap] = p;
	R->read++;
	return rc;
}

/* ---- replies ---- */

/* The rules read nothing: the judge is asked which option the reply chose,
 * among the options as that rotation showed them. */
static int ask_judge(hrun *R, pending *p, int k, mlde_error *err)
{
	const char *shown[MLDE_OPTIONS_MAX];
	char *text, *body;
	size_t len;

	mlde_chat_rotate((const char *const *)p->options, (size_t)p->nopt, (size_t)k, shown);
	text = mlde_chat_judge_text(p->question, shown, (size_t)p->nopt, p->rot[k].raw);
	body = mlde_chat_text_body(&R->judge, text, &len);
	free(text);
	R->judge_asked++;
	return submit(R, WIN_JUDGE, p, k, body, len, (double)len / 4.0 + MAX_TOKENS, err);
}

/* The position (in rotation k) an answer text names, as an index of the
 * item's options: -1 for none. */
static int read_answer(const pending *p, int k, const char *text, size_t len,
		       mlde_answer_rule *rule)
{
	const char *shown[MLDE_OPTIONS_MAX];
	int at;

	mlde_chat_rotate((const char *const *)p->options, (size_t)p->nopt, (size_t)k, shown);
	at = mlde_answer_extract(text, len, shown, (size_t)p->nopt, rule);
	return at < 0 ? -1 : (at + k) % p->nopt;
}

/* The letters' probabilities, if the reply carries log-probabilities,
 * into the item's order of options. */
static void read_scores(rotation *r, const pending *p, int k, jv body)
{
	jv choices = jv_object_get(jv_copy(body), jv_string("choices"));
	jv choice = jv_array_get(choices, 0);  /* the check saw an array of one or more */
	double s[MLDE_OPTIONS_MAX];

	if (mlde_answer_scores(choice, (size_t)p->nopt, s) == 0) {
		r->has_scores = true;
		for (int i = 0; i < p->nopt; i++)
			r->scores[(i + k) % p->nopt] = s[i];
	}
	jv_free(choice);
}

/* The text of a completion the window's check accepted: malloc'd; its
 * usage in *u, and in the sums. */
static char *reply_text(hrun *R, const mlde_window_done *d, jv body, mlde_usage *u)
{
	char why[200];
	jv text;
	char *s;

	*u = mlde_usage_of_reply(body);
	mlde_usage_add(&R->usage, u, d->cached);
	if (mlde_reply_completion_text(body, &text, NULL, NULL, why, sizeof why) < 0)
		return mlde_xstrdup("");  /* not reached: checked before it was stored or used */
	s = mlde_xstrdup(jv_string_value(text));
	jv_free(text);
	return s;
}

static int on_answer(hrun *R, pending *p, int k, const mlde_window_done *d, mlde_error *err)
{
	rotation *r = &p->rot[k];
	jv body = jv_parse_sized(d->reply, (int)d->reply_len);

	r->raw = reply_text(R, d, body, &r->usage);
	r->pred = read_answer(p, k, r->raw, strlen(r->raw), &r->rule);
	if (R->opt->logprobs > 0)
		read_scores(r, p, k, body);
	jv_free(body);
	if (r->pred < 0 && R->win[WIN_JUDGE])
		return ask_judge(R, p, k, err);
	return 0;
}

/* The judge's reply is read strictly: a bare letter or a letter in one of
 * the usual forms, never an option's text. */
static void on_judge(hrun *R, pending *p, int k, const mlde_window_done *d)
{
	rotation *r = &p->rot[k];
	jv body = jv_parse_sized(d->reply, (int)d->reply_len);
	mlde_answer_rule rule;
	int pred;

	r->judge = reply_text(R, d, body, &r->judge_usage);
	jv_free(body);
	pred = read_answer(p, k, r->judge, strlen(r->judge), &rule);
	if (pred >= 0 && (rule == MLDE_ANSWER_LETTER || rule == MLDE_ANSWER_FORM)) {
		r->pred = pred;
		r->judged = true;
	}
}

/* Six significant digits: what a float32 embedding holds, in few bytes. */
static jv six_digits(jv vec)
{
	jv out = jv_array();
	char buf[32];

	jv_array_foreach(vec, i, x) {
		snprintf(buf, sizeof buf, "%.6g", jv_number_value(x));
		out = jv_array_append(out, jv_number(strtod(buf, NULL)));
		jv_free(x);
		(void)i;
	}
	jv_free(vec);
	return out;
}

static void on_embedding(hrun *R, pending *p, const mlde_window_done *d)
{
	jv body = jv_parse_sized(d->reply, (int)d->reply_len), vec;
	char why[200];

	p->embedding_usage = mlde_usage_of_reply(body);
	mlde_usage_add(&R->usage, &p->embedding_usage, d->cached);

	if (mlde_chat_embedding(body, &vec, why, sizeof why) == 0)  /* checked: it is */
		p->embedding = six_digits(vec);
	else
		p->failed = true;
	jv_free(body);
}

/* One finished request of window win. */
static int taken(hrun *R, int win, mlde_window_done *d, mlde_error *err)
{
	request *rq = d->user;
	pending *p = rq->p;
	int k = rq->rot, rc = 0;

	free(rq);
	p->waiting--;
	if (d->cache_unusable)
		mlde_warn("cache entry %s unusable (%s): asking again", d->key, d->cache_why);
	if (!d->ok) {
		char why[sizeof R->first_failure];

		snprintf(why, sizeof why, "%s: %.300s", R->url[win],
			 strcmp(d->reason, MLDE_WINDOW_NOT_CACHED) == 0
			 ? "no reply in the cache, and --offline sends nothing" : d->error);
		mlde_note(1, "%s", why);
		mlde_remote_count(&R->causes, why);
		if (!*R->first_failure)
			memcpy(R->first_failure, why, sizeof why);
		p->failed = true;
	} else if (win == WIN_ASK) {
		rc = on_answer(R, p, k, d, err);
	} else if (win == WIN_JUDGE) {
		on_judge(R, p, k, d);
	} else {
		on_embedding(R, p, d);
	}
	free(d->reply);
	return rc;
}

/* ---- eval records ---- */

static jv scores_of(const rotation *r, int n)
{
	jv sc = jv_array();

	for (int i = 0; i < n; i++)
		sc = jv_array_append(sc, rounded(r->scores[i]));
	return sc;
}

static const char *extracted_of(const rotation *r)
{
	return r->pred < 0 ? NULL : r->judged ? "judge" : "rule";
}

/* raw, extracted, rule and judge (when asked) of one rotation, into o. */
static jv with_reading(jv o, const rotation *r)
{
	const char *ex = extracted_of(r);

	o = jv_object_set(o, jv_string(MLDE_F_RAW), jv_string(r->raw));
	o = jv_object_set(o, jv_string("extracted"), ex ? jv_string(ex) : jv_null());
	o = jv_object_set(o, jv_string("rule"), jv_string(mlde_answer_rule_name(r->rule)));
	if (r->judge)
		o = jv_object_set(o, jv_string("judge"), jv_string(r->judge));
	return o;
}

/* One rotation's usage (usage) and its judge's (judge_usage), into o. */
static jv with_usage(jv o, const rotation *r)
{
	o = mlde_usage_set(o, &r->usage);
	if (r->judge_usage.known)
		o = jv_object_set(o, jv_string("judge_usage"), mlde_usage_json(&r->judge_usage));
	return o;
}

static void usage_plus(mlde_usage *sum, const mlde_usage *u)
{
	if (!u->known)
		return;
	sum->known = true;
	sum->cached_known |= u->cached_known;
	sum->prompt += u->prompt;
	sum->completion += u->completion;
	sum->cached += u->cached;
}

/* The record's usage: "usage", every request of it together (questions,
 * rotations, judge, embedding); "judge_usage" and "embedding_usage" the
 * parts that went to other models, named by "model" there.  Nothing when
 * the server counted nothing. */
static jv record_usage(const hrun *R, const pending *p, jv rec)
{
	mlde_usage all = { 0 }, judge = { 0 };

	for (int k = 0; k < p->nrot; k++) {
		usage_plus(&all, &p->rot[k].usage);
		usage_plus(&all, &p->rot[k].judge_usage);
		usage_plus(&judge, &p->rot[k].judge_usage);
	}
	usage_plus(&all, &p->embedding_usage);
	rec = mlde_usage_set(rec, &all);
	if (judge.known)
		rec = jv_object_set(rec, jv_string("judge_usage"),
				    jv_object_set(mlde_usage_json(&judge), jv_string("model"),
						  jv_string(R->opt->judge_model)));
	if (p->embedding_usage.known) {
		const options *o = R->opt;

		rec = jv_object_set(rec, jv_string("embedding_usage"),
				    jv_object_set(mlde_usage_json(&p->embedding_usage),
						  jv_string("model"),
						  jv_string(o->embed_model ? o->embed_model
						  : o->http.model)));
	}
	return rec;
}

/* Every rotation's prediction, in the item's option indices. */
static jv circular_of(const pending *p)
{
	jv a = jv_array();

	for (int k = 0; k < p->nrot; k++) {
		const rotation *r = &p->rot[k];
		jv o = jv_object_set(jv_object(), jv_string(MLDE_F_PRED),
				     r->pred < 0 ? jv_null() : jv_number(r->pred));

		o = jv_object_set(o, jv_string(MLDE_F_CORRECT), jv_bool(r->pred == p->answer));
		if (r->has_scores)
			o = jv_object_set(o, jv_string(MLDE_F_SCORES), scores_of(r, p->nopt));
		a = jv_array_append(a, with_usage(with_reading(o, r), r));
	}
	return a;
}

/* The eval record of an item whose every request is back.  Circular: pred
 * is the first rotation's, null when any rotation went unread; correct
 * only when every rotation is. */
static jv item_result(hrun *R, pending *p)
{
	const rotation *r0 = &p->rot[0];
	int pred = r0->pred;
	bool correct = true, judged = false;
	jv rec = p->rec, type;

	p->rec = jv_invalid();
	for (int k = 0; k < p->nrot; k++) {
		if (p->rot[k].pred < 0)
			pred = -1;
		correct = correct && p->rot[k].pred == p->answer;
		judged = judged || p->rot[k].judged;
	}
	rec = jv_object_delete(rec, jv_string(MLDE_F_SCORES));
	rec = jv_object_delete(rec, jv_string("judge"));
	rec = jv_object_delete(rec, jv_string("circular"));
	rec = jv_object_delete(rec, jv_string(MLDE_F_USAGE));
	rec = jv_object_delete(rec, jv_string("judge_usage"));
	rec = jv_object_delete(rec, jv_string("embedding_usage"));
	rec = mlde_eval_record(rec, pred, correct,
			       r0->has_scores ? scores_of(r0, p->nopt) : jv_invalid(),
			       R->opt->http.model);
	rec = with_reading(rec, r0);
	if (p->nrot > 1) {
		rec = jv_object_set(rec, jv_string("extracted"),
				    pred < 0 ? jv_null() : jv_string(judged ? "judge" : "rule"));
		rec = jv_object_set(rec, jv_string("circular"), circular_of(p));
	}
	if (pred < 0)
		R->unanswered++;
	else
		R->answered++;
	R->by_judge += pred >= 0 && judged;
	R->plain_correct += r0->pred == p->answer;
	type = jv_object_get(jv_copy(rec), jv_string(MLDE_F_TYPE));
	tally_add(&R->t, jv_get_kind(type) == JV_KIND_STRING ? jv_string_value(type) : "(no type)",
		  correct);
	jv_free(type);
	return rec;
}

/* Write out the records at the head of the queue whose requests are all
 * back; one with a request failed for good is left out (and counted). */
static int emit_ready(hrun *R, mlde_error *err)
{
	while (R->qn > 0 && R->q[R->qhead]->waiting == 0) {
		pending *p = R->q[R->qhead];
		jv rec;
		int rc = 0;

		R->qhead = (R->qhead + 1) % R->qcap;
		R->qn--;
		R->written++;
		if (R->opt->cost.dry_run) {  /* nothing asked, nothing to write */
			pending_free(p);
			continue;
		}
		if (p->failed) {
			R->failed++;
			pending_free(p);
			continue;
		}
		if (p->nopt > 0) {
			rec = item_result(R, p);
		} else {
			rec = p->rec;
			p->rec = jv_invalid();
			R->t.embedded += jv_is_valid(p->embedding);
		}
		if (jv_is_valid(p->embedding)) {
			rec = jv_object_set(rec, jv_string(MLDE_F_EMBEDDING), p->embedding);
			p->embedding = jv_invalid();
		}
		rc = mlde_writer_put(R->w, record_usage(R, p, rec), err);
		pending_free(p);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- the loop ---- */

static void http_progress(hrun *R)
{
	mlde_window_stats st = { 0 };
	unsigned long retries = 0, in_flight = 0;
	double el = mlde_now() - R->t0, rate = el > 0.0 ? R->written / el : 0.0;
	char eta[32] = "";

	if (!mlde_progress_due(&R->bar))
		return;
	for (int i = 0; i < NWIN; i++)
		if (R->win[i]) {
			mlde_window_stats_get(R->win[i], &st);
			retries += st.http.retries;
			in_flight += st.http.in_flight;
		}
	if (R->eof && rate > 0.0) {
		long left = (long)((R->read - R->written) / rate + 0.5);
		snprintf(eta, sizeof eta, ", ETA %ld:%02ld", left / 60, left % 60);
	}
	mlde_progress_draw(&R->bar, "%lu/%s%lu done, %.1f/s, %lu in flight, %lu retries, %lu failed%s",
			   R->written, R->eof ? "" : ">=", R->read, rate, in_flight, retries,
			   R->failed, eta);
}

/* A window's error that ends the run, naming its server, with the hints
 * of a 401 or of a 404 from a base URL without /v1. */
static int remote_error(const hrun *R, int win, const mlde_window_done *d, mlde_error *err)
{
	if (err->status == MLDE_EXIT_REMOTE)
		mlde_remote_fatal(err, R->base[win], d->status);
	return -1;
}

/* Take what the windows have finished, waiting up to wait_ms on one of
 * them when none has anything: the number taken, or -1. */
static int pump(hrun *R, int wait_ms, mlde_error *err)
{
	mlde_window_done d;
	int moved = 0, got;

	for (int i = 0; i < NWIN; i++)
		while (R->win[i] && (got = mlde_window_next(R->win[i], 0, &d, err)) != 0) {
			if (got < 0)
				return remote_error(R, i, &d, err);
			if (taken(R, i, &d, err) < 0)
				return -1;
			moved++;
		}
	for (int i = 0; i < NWIN && moved == 0 && wait_ms > 0; i++) {
		if (!R->win[i] || mlde_window_held(R->win[i]) == 0)
			continue;
		got = mlde_window_next(R->win[i], wait_ms, &d, err);
		if (got < 0)
			return remote_error(R, i, &d, err);
		if (got > 0 && taken(R, i, &d, err) < 0)
			return -1;
		moved += got;
		break;
	}
	return moved;
}

/* Room for one more record: in the queue, and for all its requests. */
static bool room(const hrun *R)
{
	return R->qn < R->qcap &&
	       (!R->win[WIN_ASK] || mlde_window_room(R->win[WIN_ASK]) >= MLDE_OPTIONS_MAX) &&
	       (!R->win[WIN_EMBED] || mlde_window_room(R->win[WIN_EMBED]) > 0);
}

static int evaluate(hrun *R, mlde_reader **readers, int nreaders, mlde_error *err)
{
	int cur = 0, got;

	for (;;) {
		while (!R->eof && room(R)) {
			jv rec;

			got = mlde_reader_next(readers[cur], &rec, err);
			if (got < 0)
				return -1;
			if (got == 0) {
				if (++cur == nreaders)
					R->eof = true;
				continue;
			}
			if (admit(R, readers[cur], rec, err) < 0)
				return -1;
			http_progress(R);
		}
		if (emit_ready(R, err) < 0)
			return -1;
		if (R->eof && R->qn == 0)
			return 0;
		if (pump(R, 50, err) < 0)
			return -1;
		http_progress(R);
	}
}

/* ---- setup and summary ---- */

/* Window win for the server at url (taken: freed with the run): sending
 * with auth, or (--offline) answering from the cache only. */
static int open_window(hrun *R, int win, const char *base, const char *path, const char *auth,
		       size_t cap, mlde_http_check *check, mlde_error *err)
{
	const options *o = R->opt;
	char *url = mlde_endpoint_url(base, path);
	/* the server is in the cache key: a reply from one is not another's */
	mlde_window_opts wo = { .cap = cap, .check = check, .drop = request_drop,
				.cache = R->cache.dir ? &R->cache : NULL, .server = url };
	mlde_http_opts ho = { .url = url, .auth = auth, .parallel = (int)R->jobs,
			      .rpm = o->http.rpm, .tpm = o->http.tpm,
			      .retries = (int)o->http.retries, .timeout = o->http.timeout,
			      .backoff = o->http.backoff, .backoff_max = 60.0, .seed = 1 };

	R->url[win] = url;
	R->base[win] = base;
	if (o->cost.dry_run)
		return 0;  /* no window: the dry run counts what it would be given */
	if (!o->http.offline && !(win == WIN_ASK && R->ask_offline))
		wo.http = &ho;
	if (!(R->win[win] = mlde_window_new(&wo, err)))
		return -1;
	if (wo.http)
		mlde_note(1, "sending to %s, %ld in flight", url, R->jobs);
	return 0;
}

/* The cache and the windows: asking, judging (with a judge) and embedding
 * (with --embed), each with its own server, all with the one key (auth,
 * read once: it is gone from the environment). */
static int http_setup(hrun *R, const char *auth, mlde_error *err)
{
	const options *o = R->opt;
	const char *base = o->http.base_url;
	size_t cap = (size_t)(R->jobs * 16 > 256 ? R->jobs * 16 : 256);
	char *dir = o->http.cache ? mlde_xstrdup(o->http.cache) : mlde_cache_default_dir();
	int rc = mlde_cache_open(&R->cache, dir, err);

	if (rc == 0)
		mlde_note(1, "reply cache %s", dir);
	free(dir);
	if (!o->http.offline && !auth)
		mlde_note(1, "no API key (OPENAI_API_KEY or --api-key-file): none sent");
	R->qcap = cap;
	R->q = mlde_xmalloc(cap * sizeof *R->q);
	/* the ask and judge windows take every rotation of a record at once */
	if (rc == 0)
		rc = open_window(R, WIN_ASK, base, "/chat/completions", auth,
				 cap * MLDE_OPTIONS_MAX, mlde_reply_check_completion, err);
	if (rc == 0 && o->judge_model)
		rc = open_window(R, WIN_JUDGE, o->judge_url ? o->judge_url : base,
				 "/chat/completions", auth, cap * MLDE_OPTIONS_MAX,
				 mlde_reply_check_completion, err);
	if (rc == 0 && o->embed)
		rc = open_window(R, WIN_EMBED, o->embed_url ? o->embed_url : base, "/embeddings",
				 auth, cap, mlde_chat_check_embedding, err);
	mlde_dry_init(&R->dry, &R->cache);
	return rc;
}

/* --batch-read, --batch-api, --batch-write: the cache filled with the
 * answers to the questions (or the input file written) before the run;
 * --batch-retry none then sends no question. */
static int batch_pass(hrun *R, const mlde_cli *cli, const char *auth, char **files, int nfiles,
		      mlde_error *err)
{
	const options *o = R->opt;
	int rc = 0, got = 0;

	if (mlde_batch_cli_read(&o->bapi, &R->cache, mlde_reply_check_completion, err) < 0)
		return -1;
	if (!mlde_batch_collects(&o->bapi))
		return 0;
	R->batch = mlde_batch_cli_new(cli, &o->bapi, &o->http, auth, R->url[WIN_ASK], &R->cache,
				      mlde_reply_check_completion);
	for (int i = 0; i < nfiles && rc == 0; i++) {
		mlde_reader *r = mlde_reader_open(files[i], err);
		jv rec;

		if (!r) {
			rc = -1;
			break;
		}
		while (rc == 0 && (got = mlde_reader_next(r, &rec, err)) > 0)
			if ((rc = admit(R, r, rec, err)) == 0)  /* nothing waits on it: gone at once */
				pending_free(R->q[(R->qhead + --R->qn) % R->qcap]);
		if (got < 0)
			rc = -1;
		mlde_reader_close(r);
	}
	R->read = R->kept = 0;
	if (rc == 0)
		rc = mlde_batch_cli_finish(R->batch, &o->bapi, err);
	mlde_batch_free(R->batch);
	R->batch = NULL;
	if (rc == 0 && o->bapi.api && o->bapi.retry == MLDE_BATCH_RETRY_NONE) {
		mlde_window_free(R->win[WIN_ASK]);
		free(R->url[WIN_ASK]);
		R->ask_offline = true;
		rc = open_window(R, WIN_ASK, o->http.base_url, "/chat/completions", NULL,
				 R->qcap * MLDE_OPTIONS_MAX, mlde_reply_check_completion, err);
	}
	return rc;
}

static void window_line(mlde_buf *b, const char *what, const mlde_window *w)
{
	mlde_window_stats st = { 0 };

	if (!w)
		return;
	mlde_window_stats_get(w, &st);
	mlde_buf_printf(b, "%s%s sent %lu (%lu retries, %lu throttled), from cache %lu",
			b->len ? "; " : "", what, st.http.attempts, st.http.retries,
			st.http.throttled, st.from_cache);
}

static void http_summary(const hrun *R)
{
	mlde_buf b = { 0 };

	if (mlde_verbosity < 0)
		return;
	summarise(&R->t);
	if (R->opt->circular && R->t.items)
		mlde_warn("plain accuracy %.4f (%lu correct: the first rotation alone)",
			  (double)R->plain_correct / (double)R->t.items, R->plain_correct);
	if (R->t.items) {
		mlde_buf_printf(&b, "%lu answered (%lu by the rules, %lu by the judge), %lu unanswered",
				R->answered, R->answered - R->by_judge, R->by_judge, R->unanswered);
		if (R->win[WIN_JUDGE])
			mlde_buf_printf(&b, "; the judge asked %lu times", R->judge_asked);
		mlde_warn("%s", b.p);
		mlde_buf_reset(&b);
	}
	if (R->kept)
		mlde_warn("%lu image-only records kept their embedding", R->kept);
	window_line(&b, "questions", R->win[WIN_ASK]);
	window_line(&b, "judge", R->win[WIN_JUDGE]);
	window_line(&b, "embeddings", R->win[WIN_EMBED]);
	mlde_buf_adds(&b, "; ");
	mlde_usage_format(&R->usage, &b);
	mlde_warn("%s", b.p);
	mlde_buf_free(&b);
	mlde_cli_note_pacing("questions ", R->win[WIN_ASK]);
	mlde_cli_note_pacing("judge ", R->win[WIN_JUDGE]);
	mlde_cli_note_pacing("embeddings ", R->win[WIN_EMBED]);
}

static int eval_http(const mlde_cli *cli, const options *opt, char **files, int nfiles,
		     mlde_error *err)
{
	hrun R = { .opt = opt };
	mlde_endpoint ep = { 0 };
	mlde_reader **readers = mlde_xmalloc((size_t)nfiles * sizeof *readers);
	mlde_output out = mlde_cli_output(cli);
	bool only_write = opt->bapi.write != NULL;  /* --batch-write: no records */
	int rc = 0;

	memset(readers, 0, (size_t)nfiles * sizeof *readers);
	R.ask = (mlde_chat_opts){ .model = opt->http.model, .system = opt->system,
				  .temperature = opt->http.temperature,
				  .max_tokens = opt->http.max_tokens,
				  .top_logprobs = (int)opt->logprobs, .extra = opt->fields };
	R.judge = (mlde_chat_opts){ .model = opt->judge_model, .temperature = 0.0,
				    .max_tokens = MAX_TOKENS, .extra = jv_invalid() };
	/* every window has up to -j requests in flight, each with its files */
	R.jobs = mlde_cli_endpoint_open(&ep, cli, &opt->http,
					!opt->http.offline && !opt->cost.dry_run,
					1 + (opt->judge_model != NULL) + opt->embed);
	mlde_progress_init(&R.bar, opt->progress);
	R.t0 = mlde_now();
	rc = http_setup(&R, ep.auth, err);
	if (rc == 0)
		rc = batch_pass(&R, cli, ep.auth, files, nfiles, err);
	mlde_endpoint_free(&ep);  /* the clients keep their own copies of the key */
	for (int i = 0; i < nfiles && rc == 0 && !only_write; i++)
		if (!(readers[i] = mlde_reader_open(files[i], err)))
			rc = -1;
	if (rc == 0 && !only_write && !opt->cost.dry_run && !(R.w = mlde_writer_open(&out, err)))
		rc = -1;
	if (rc == 0 && !only_write)
		rc = evaluate(&R, readers, nfiles, err);
	if (rc == 0 && R.w) {
		rc = mlde_writer_close(R.w, err);  /* frees it, whatever the result */
		R.w = NULL;
	}
	mlde_progress_wipe();
	if (rc == 0 && opt->cost.dry_run)
		rc = mlde_cli_dry_report(&R.dry, &opt->cost, err);
	else if (rc == 0 && !only_write)
		http_summary(&R);
	if (rc == 0 && R.failed) {
		mlde_remote_report(&R.causes);  /* even with -q */
		mlde_error_set(err, MLDE_EXIT_REMOTE, "%lu record%s left out: requests failed for "
			       "good (the first: %s)", R.failed, R.failed == 1 ? "" : "s",
			       R.first_failure);
		rc = -1;
	}

	/* the one way out of the backend: windows first (their requests point
	 * into the queue), then the queue, the rest */
	mlde_writer_abort(R.w);
	for (int i = 0; i < NWIN; i++) {
		mlde_window_free(R.win[i]);
		free(R.url[i]);
	}
	for (size_t i = 0; i < R.qn; i++)
		pending_free(R.q[(R.qhead + i) % R.qcap]);
	free(R.q);
	for (int i = 0; i < nfiles; i++)
		if (readers[i])
			mlde_reader_close(readers[i]);
	free(readers);
	mlde_cache_close(&R.cache);
	mlde_dry_free(&R.dry);
	mlde_remote_causes_free(&R.causes);
	tally_free(&R.t);
	return rc;
}

/* ==== options ==== */

/* One --field KEY=JSON into the object fields. */
static jv add_field(const mlde_cli *cli, jv fields, const char *arg)
{
	const char *eq = strchr(arg, '=');
	jv v;

	if (!eq || eq == arg)
		mlde_cli_usage_error(cli, "--field: '%s' is not KEY=JSON", arg);
	v = jv_parse(eq + 1);
	if (!jv_is_valid(v)) {
		jv_free(v);
		mlde_cli_usage_error(cli, "--field: '%s': the value is not JSON", arg);
	}
	return jv_object_set(fields, jv_string_sized(arg, (int)(eq - arg)), v);
}

/* The option of getopt_long's answer c, for messages. */
static const char *option_name(int c, int longindex, char *buf, size_t len)
{
	if (longindex >= 0)
		snprintf(buf, len, "--%s", longopts[longindex].name);
	else
		snprintf(buf, len, "-%c", c);
	return buf;
}

static void parse_options(mlde_cli *cli, int *argc, char **argv, options *opt)
{
	static const char shortopts[] = MLDE_COMMON_SHORTOPTS MLDE_ENDPOINT_SHORTOPTS "m:";
	char http_only[64] = "", builtin_only[64] = "";
	int c, at = -1;

	mlde_cli_init(cli, "mlde-eval", argc, argv, shortopts, longopts);
	while ((c = getopt_long(*argc, argv, shortopts, longopts, &at)) != -1) {
		char name[64];

		option_name(c, at, name, sizeof name);
		at = -1;
		if (mlde_cli_common(cli, c, optarg))
			continue;
		if (c == 'm' || c == MLDE_OPT_MODEL) {
			opt->http.model = optarg;
			continue;
		}
		if (mlde_endpoint_option(cli, &opt->http, c, optarg) ||
		    mlde_batch_option(cli, &opt->bapi, c, optarg) || mlde_cost_option(&opt->cost, c, optarg)) {
			snprintf(http_only, sizeof http_only, "%s", name);
			continue;
		}
		switch (c) {
		case OPT_IMAGES: opt->images = optarg; break;
		case OPT_EMBED: opt->embed = true; break;
		case OPT_THREADS: opt->threads = mlde_cli_long(cli, "--threads", optarg, 1, 256); break;
		case OPT_BATCH: opt->batch = mlde_cli_long(cli, "--batch", optarg, 1, 65536); break;
		case OPT_BACKEND:
			if (strcmp(optarg, "builtin") == 0)
				opt->backend = BACKEND_BUILTIN;
			else if (strcmp(optarg, "http") == 0)
				opt->backend = BACKEND_HTTP;
			else
				mlde_cli_usage_error(cli, "--backend: '%s' is not one of builtin, http",
						     optarg);
			break;
		case OPT_SYSTEM: opt->system = optarg; break;
		case OPT_FIELD: opt->fields = add_field(cli, opt->fields, optarg); break;
		case OPT_LOGPROBS: opt->logprobs = mlde_cli_long(cli, "--logprobs", optarg, 1, 20); break;
		case OPT_CIRCULAR: opt->circular = true; break;
		case OPT_JUDGE_URL: opt->judge_url = optarg; break;
		case OPT_JUDGE_MODEL: opt->judge_model = optarg; break;
		case OPT_EMBED_URL: opt->embed_url = optarg; break;
		case OPT_EMBED_MODEL: opt->embed_model = optarg; break;
		case OPT_PROGRESS: opt->progress = true; break;
		default: mlde_cli_usage_error(cli, "unhandled option");
		}
		if (c == OPT_THREADS || c == OPT_BATCH)
			snprintf(builtin_only, sizeof builtin_only, "%s", name);
		else if (c >= OPT_SYSTEM)
			snprintf(http_only, sizeof http_only, "%s", name);
	}
	if (!opt->http.model)
		mlde_cli_usage_error(cli, "-m MODEL is required");
	if (opt->backend == BACKEND_BUILTIN && *http_only)
		mlde_cli_usage_error(cli, "%s is an option of --backend http", http_only);
	if (opt->backend == BACKEND_HTTP && *builtin_only)
		mlde_cli_usage_error(cli, "%s is an option of --backend builtin", builtin_only);
	if (opt->judge_url && !opt->judge_model)
		mlde_cli_usage_error(cli, "--judge-url needs --judge-model");
	if ((opt->embed_url || opt->embed_model) && !opt->embed)
		mlde_cli_usage_error(cli, "--embed-url and --embed-model need --embed");
	mlde_batch_check(cli, &opt->bapi, optind < *argc, opt->http.offline, opt->cost.dry_run);
}

/* ==== the builtin backend: the model, the threads and the batch ==== */

static int setup(eval *ev, const options *opt, mlde_error *err)
{
	const char *slash = strrchr(opt->http.model, '/');

	/* the model runs on the team: OpenBLAS's pool would only spin (a
	 * third of an evaluation of a few records) */
	mlde_blas_single();
	if (mlde_model_load(opt->http.model, &ev->m, err) < 0)
		return -1;
	ev->model_name = slash ? slash + 1 : opt->http.model;
	ev->team = mlde_team_new((int)opt->threads, err);
	if (!ev->team)
		return -1;
	/* a worker's slice of a batch: at most 64 items at a time */
	ev->pred = mlde_predictor_new(ev->m, ev->team, (int)(opt->batch < 64 * opt->threads
							      ? opt->batch : 64 * opt->threads));
	batch_alloc(&ev->b, (int)opt->batch, mlde_model_config(ev->m)->size,
		    mlde_model_embed_dim(ev->m), mlde_team_size(ev->team));
	return 0;
}

/* Open the output the options describe; -1 with err (main reports it). */
static int open_output(const mlde_cli *cli, mlde_writer **w, mlde_error *err)
{
	mlde_output out = mlde_cli_output(cli);

	*w = mlde_writer_open(&out, err);
	return *w ? 0 : -1;
}

static int eval_builtin(const mlde_cli *cli, const options *opt, char **files, int nfiles,
			mlde_error *err)
{
	eval ev = { .images = opt->images, .embed = opt->embed };
	int rc;

	rc = setup(&ev, opt, err);
	if (rc == 0)
		rc = open_output(cli, &ev.w, err);
	for (int i = 0; i < nfiles && rc == 0; i++)
		rc = read_input(&ev, files[i], err);
	if (rc == 0)
		rc = flush_batch(&ev, err);
	if (rc == 0) {
		rc = mlde_writer_close(ev.w, err);  /* frees it, whatever the result */
		ev.w = NULL;
	}
	if (rc == 0)
		summarise(&ev.t);

	/* an output still open is given up (no FILE, no FILE.tmp, a zstd
	 * stream left unfinished), everything freed */
	mlde_writer_abort(ev.w);
	batch_free(&ev.b);
	tally_free(&ev.t);
	mlde_predictor_free(ev.pred);
	mlde_team_free(ev.team);
	mlde_model_free(ev.m);
	return rc;
}

int main(int argc, char **argv)
{
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	options opt = { .backend = BACKEND_BUILTIN, .images = ".", .threads = 1, .batch = 512,
			.http = MLDE_ENDPOINT_DEFAULTS(NULL, 0.0, MAX_TOKENS) };
	char *stdin_only[] = { "-", NULL };
	mlde_error err;
	int rc;

	opt.fields = jv_object();
	parse_options(&cli, &argc, argv, &opt);
	mlde_endpoint_default_url(&opt.http);
	mlde_error_clear(&err);
	if (opt.backend == BACKEND_HTTP)
		rc = eval_http(&cli, &opt, optind < argc ? argv + optind : stdin_only,
			       optind < argc ? argc - optind : 1, &err);
	else
		rc = eval_builtin(&cli, &opt, optind < argc ? argv + optind : stdin_only,
				  optind < argc ? argc - optind : 1, &err);
	jv_free(opt.fields);
	if (rc < 0)
		mlde_die_error(&err);  /* quietly 0 when the reader of stdout went away */
	return MLDE_EXIT_OK;
}
