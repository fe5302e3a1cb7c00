/* mlde-sample - Adaptive Bad-case Sampling: turn a generation budget into
 * per-type quotas by weakness, and pick each request's in-context bad cases
 * and query image (a pool image similar to the bad case). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/hash.h"
#include "cli/cli.h"
#include "io/jsonl.h"
#include "model/nn.h"  /* mlde_blas_single */
#include "record/record.h"
#include "sample/abs.h"
#include "base/rng.h"

#define SYNOPSIS "mlde-sample [-qvZ] [-o FILE] [-LEVEL] --weak WEAK --pool POOL " \
	"--budget N [--strategy abs|uniform|proportional] [--temperature T] " \
	"[--examples K] [--topk K] [--retrieval similar|random] [--seed S] " \
	"[--threads T] [FILE...]"

static const char help[] =
	"Read eval records (FILE, or stdin); their bad cases (correct false) are\n"
	"the in-context examples.  Write one plan record per generation request:\n"
	"N requests split over the types of WEAK, each with K bad cases of its type\n"
	"and a query image from POOL.\n"
	"\n"
	"  --weak WEAK       weakness records (mlde-weak): the types and their weights\n"
	"  --pool POOL       pool records: the images generation may use\n"
	"  --budget N        the number of requests (plan records) to write\n"
	"  --strategy S      abs: quota of type t proportional to weight^(1/T) (default);\n"
	"                    uniform: the same for every type; proportional: by the\n"
	"                    number of bad cases\n"
	"  --temperature T   ABS temperature, > 0 (default 1: the weights as they are;\n"
	"                    lower sharpens towards the weakest type, higher flattens)\n"
	"  --examples K      bad cases per request (default 2)\n"
	"  --topk K          similar: choose among the K pool images most similar to\n"
	"                    the request's first bad case (default 8)\n"
	"  --retrieval R     similar (cosine of 'embedding' fields, the default) or random\n"
	"  --seed S          random seed (default 1)\n"
	"  --threads T       threads for the similarity search (default: the online\n"
	"                    CPUs); the output does not depend on it\n"
	MLDE_HELP_OUTPUT
	"  -q, --quiet       errors only (no quota table)\n"
	MLDE_HELP_VERBOSE
	"\n"
	"Exit status: 0 success, 1 bad input, 2 usage, 3 I/O error (see mlde(7)).\n";

/* The largest --topk: the search keeps 4K + 16 candidates for every bad
 * case that leads a request, so K bounds its memory (the choice among them,
 * mlde_abs_similar_unused, has no limit of its own). */
#define TOPK_MAX 256

enum { OPT_WEAK = MLDE_OPT_FIRST_PRIVATE, OPT_POOL, OPT_BUDGET, OPT_STRATEGY,
       OPT_TEMPERATURE, OPT_EXAMPLES, OPT_TOPK, OPT_RETRIEVAL, OPT_SEED, OPT_THREADS };

static const struct option longopts[] = {
	MLDE_COMMON_LONGOPTS,
	{ "weak", required_argument, 0, OPT_WEAK },
	{ "pool", required_argument, 0, OPT_POOL },
	{ "budget", required_argument, 0, OPT_BUDGET },
	{ "strategy", required_argument, 0, OPT_STRATEGY },
	{ "temperature", required_argument, 0, OPT_TEMPERATURE },
	{ "examples", required_argument, 0, OPT_EXAMPLES },
	{ "topk", required_argument, 0, OPT_TOPK },
	{ "retrieval", required_argument, 0, OPT_RETRIEVAL },
	{ "seed", required_argument, 0, OPT_SEED },
	{ "threads", required_argument, 0, OPT_THREADS },
	{ 0, 0, 0, 0 },
};

/* In the order of enum mlde_abs_strategy. */
static const char *const strategy_names[] = { "abs", "uniform", "proportional" };

typedef struct options {
	const char *weak, *pool;
	long budget, examples, topk, threads;
	enum mlde_abs_strategy strategy;
	double temperature;
	bool similar;
	unsigned long long seed;
} options;

/* A growable list of records with their embeddings (row i: emb + i * d). */
typedef struct record_list {
	jv *recs;
	float *emb;
	size_t n, cap;
} record_list;

typedef struct type_state {
	char *name;
	double weight;
	long quota;
	size_t nbad;            /* bad cases in the input, before any fallback */
	record_list bad, good;  /* good: correctly answered, the fallback */
	record_list *examples;  /* bad, or good when there is no bad case */
	size_t *order;          /* seeded order of the examples */
	size_t query_base;      /* row of examples[0] in the search */
	const char *fallback;   /* why the examples are not bad cases, or NULL */
} type_state;

typedef struct embedding_dim {
	size_t d;               /* 0 until the first embedding is read */
	char where[600];        /* FILE:LINE of that first embedding */
} embedding_dim;

/* Everything the run reads and makes, so that main's one way out can give
 * up the output and free it all, however far the run got. */
typedef struct sample {
	const options *opt;
	type_state *types;      /* sorted by name once read */
	size_t ntypes;
	record_list pool;       /* without the leaked images */
	embedding_dim dim;
	float *emb;             /* the embedding of the record being read: dim.d floats */
	mlde_strset images;     /* of the eval records: kept out of the pool */
	unsigned long unknown_type;  /* eval records of a type WEAK does not name */
	size_t leaked;          /* pool images that are input images too */
	mlde_abs_neighbours near;
	mlde_writer *w;         /* the plans: NULL once committed */
} sample;

static void list_push(record_list *l, jv rec, const float *emb, size_t d)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->recs = mlde_xrealloc(l->recs, l->cap * sizeof *l->recs);
		if (d)
			l->emb = mlde_xrealloc(l->emb, l->cap * d * sizeof *l->emb);
	}
	l->recs[l->n] = rec;
	if (d)
		memcpy(l->emb + l->n * d, emb, d * sizeof *emb);
	l->n++;
}

static void list_free(record_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		jv_free(l->recs[i]);
	free(l->recs);
	free(l->emb);
}

/* "FILE:LINE" of r's last record, for the record checks' messages. */
static const char *where_of(const mlde_reader *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%lu", mlde_reader_name(r), mlde_reader_lineno(r));
	return buf;
}

/* err: "FILE:LINE: what" of r's last record, bad input; returns -1.  The
 * checks the records module does not make (embeddings, duplicates). */
__attribute__((format(printf, 3, 4)))
static int bad_at(const mlde_reader *r, mlde_error *err, const char *fmt, ...)
{
	char where[600], what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	mlde_error_set(err, MLDE_EXIT_DATA, "%s: %s", where_of(r, where, sizeof where), what);
	return -1;
}

/* Take rec's `embedding` into buf (checking its length against the first
 * one seen) and remove it from rec, whose other fields travel on.  1, 0
 * when there is none, or -1 with err (rec is still the caller's). */
static int take_embedding(const mlde_reader *r, jv *rec, float **buf, embedding_dim *dim,
			  mlde_error *err)
{
	jv e = jv_object_get(jv_copy(*rec), jv_string(MLDE_F_EMBEDDING));
	jv_kind k = jv_get_kind(e);
	size_t n = k == JV_KIND_ARRAY ? (size_t)jv_array_length(jv_copy(e)) : 0;
	int rc = 1;

	if (k == JV_KIND_INVALID || k == JV_KIND_NULL)
		rc = 0;
	else if (k != JV_KIND_ARRAY)
		rc = bad_at(r, err, "field 'embedding': expected array, got %s", mlde_kind_name(k));
	else if (n == 0)
		rc = bad_at(r, err, "field 'embedding': empty");
	else if (dim->d && n != dim->d)
		rc = bad_at(r, err, "field 'embedding': %zu numbers, but %s has %zu", n, dim->where,
			    dim->d);
	if (rc == 1 && !dim->d) {  /* the first: every other one has its length */
		dim->d = n;
		where_of(r, dim->where, sizeof dim->where);
		*buf = mlde_xmalloc(n * sizeof **buf);
	}
	for (size_t i = 0; rc == 1 && i < n; i++) {
		jv x = jv_array_get(jv_copy(e), (int)i);

		if (jv_get_kind(x) != JV_KIND_NUMBER)
			rc = bad_at(r, err, "field 'embedding': element %zu is not a number", i);
		else
			(*buf)[i] = (float)jv_number_value(x);
		jv_free(x);
	}
	jv_free(e);
	if (rc == 1)
		*rec = jv_object_delete(*rec, jv_string(MLDE_F_EMBEDDING));
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const type_state *)a)->name, ((const type_state *)b)->name);
}

static type_state *find_type(type_state *types, size_t n, const char *name)
{
	type_state key = { .name = (char *)name };

	return bsearch(&key, types, n, sizeof *types, by_name);
}

/* ---- reading: one function per record (consumed), 0 or -1 with err ---- */

static int add_weakness(sample *S, const mlde_reader *r, jv rec, mlde_error *err)
{
	char where[600];
	mlde_weakness w;
	int rc = mlde_weakness_check(rec, where_of(r, where, sizeof where), &w, err);

	for (size_t i = 0; rc == 0 && i < S->ntypes; i++)
		if (strcmp(S->types[i].name, w.key) == 0)
			rc = bad_at(r, err, "type '%s' appears twice", w.key);
	if (rc == 0) {
		S->types = mlde_xrealloc(S->types, (S->ntypes + 1) * sizeof *S->types);
		S->types[S->ntypes++] = (type_state){ .name = mlde_xstrdup(w.key),
						      .weight = w.weight };
	}
	jv_free(rec);
	return rc;
}

/* An eval record: a bad case or a correct one of its type.  Its image is
 * kept out of the pool whatever its type. */
static int add_eval(sample *S, const mlde_reader *r, jv rec, mlde_error *err)
{
	const options *opt = S->opt;
	char where[600];
	mlde_eval e;
	type_state *t;
	int has_emb, rc = 0;

	if (mlde_eval_check(rec, MLDE_F_TYPE, MLDE_EVAL_NEED_IMAGE,
			    where_of(r, where, sizeof where), &e, err) < 0) {
		jv_free(rec);
		return -1;
	}
	mlde_strset_add(&S->images, e.image, strlen(e.image), NULL);
	t = find_type(S->types, S->ntypes, e.key);  /* before rec changes under e.key */
	has_emb = take_embedding(r, &rec, &S->emb, &S->dim, err);
	rec = jv_object_delete(rec, jv_string(MLDE_F_SCORES));
	if (has_emb < 0) {
		rc = -1;
	} else if (!t) {
		S->unknown_type++;
	} else if (!e.correct && opt->similar && !has_emb) {
		rc = bad_at(r, err, "field 'embedding': missing on a bad case "
			    "(--retrieval similar needs mlde-eval --embed)");
	} else if (!e.correct || !opt->similar || has_emb) {
		list_push(e.correct ? &t->good : &t->bad, rec, S->emb, opt->similar ? S->dim.d : 0);
		return 0;
	}
	jv_free(rec);
	return rc;
}

static int add_pool(sample *S, const mlde_reader *r, jv rec, mlde_error *err)
{
	char where[600];
	mlde_pool pr;
	int rc = mlde_pool_check(rec, where_of(r, where, sizeof where), &pr, err);
	/* before rec changes under pr.image */
	bool leaked = rc == 0 && mlde_strset_find(&S->images, pr.image, strlen(pr.image)) >= 0;

	if (rc == 0)
		rc = take_embedding(r, &rec, &S->emb, &S->dim, err);
	if (rc == 0 && S->opt->similar)
		rc = bad_at(r, err, "field 'embedding': missing on a pool record "
			    "(--retrieval similar needs mlde-eval --embed)");
	if (rc < 0 || leaked) {
		S->leaked += rc >= 0;
		jv_free(rec);
		return rc < 0 ? -1 : 0;
	}
	list_push(&S->pool, rec, S->emb, S->opt->similar ? S->dim.d : 0);
	return 0;
}

typedef int add_fn(sample *S, const mlde_reader *r, jv rec, mlde_error *err);

/* Hand every record of path to add; name: the file's name in messages.
 * 0 at the end, or -1 with err. */
static int read_file(sample *S, const char *path, add_fn *add, char name[600], mlde_error *err)
{
	mlde_reader *r = mlde_reader_open(path, err);
	int got = r ? 1 : -1;  /* 1 while records come, 0 at the end */
	jv rec;

	while (got > 0 && (got = mlde_reader_next(r, &rec, err)) > 0)
		if (add(S, r, rec, err) < 0)
			got = -1;
	if (r) {
		snprintf(name, 600, "%s", mlde_reader_name(r));
		mlde_reader_close(r);
	}
	return got;
}

/* WEAK, the eval records (FILE..., or stdin) and POOL, each to its end. */
static int read_inputs(sample *S, int nfiles, char **files, mlde_error *err)
{
	char name[600];

	if (read_file(S, S->opt->weak, add_weakness, name, err) < 0)
		return -1;
	if (S->ntypes == 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: no weakness records: nothing to allocate "
			       "the budget to", name);
		return -1;
	}
	qsort(S->types, S->ntypes, sizeof *S->types, by_name);
	for (int i = 0; i < (nfiles ? nfiles : 1); i++)
		if (read_file(S, nfiles ? files[i] : "-", add_eval, name, err) < 0)
			return -1;
	if (read_file(S, S->opt->pool, add_pool, name, err) < 0)
		return -1;
	if (S->pool.n == 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: the pool is empty%s", name,
			       S->leaked ? " once the benchmark images are left out" : "");
		return -1;
	}
	if (S->unknown_type)
		mlde_warn("%lu input records have a type %s does not name: not used",
			  S->unknown_type, S->opt->weak);
	if (S->leaked)
		mlde_warn("%zu pool images are also input (benchmark) images: never chosen",
			  S->leaked);
	else
		mlde_note(1, "no pool image is an input image");
	return 0;
}

static void allocate(type_state *types, size_t n, const options *opt)
{
	double *share = mlde_xmalloc(n * sizeof *share);
	long *quota = mlde_xmalloc(n * sizeof *quota);

	for (size_t i = 0; i < n; i++)
		share[i] = mlde_abs_share(opt->strategy, types[i].weight, types[i].nbad,
					  opt->temperature);
	mlde_abs_quotas(share, n, opt->budget, quota);
	for (size_t i = 0; i < n; i++)
		types[i].quota = quota[i];
	free(share);
	free(quota);
}

/* Which records serve as examples: the bad cases, else (saying so) the
 * correctly answered items of the type, else none; and a seeded order of
 * them, so requests cycle through every example before any repeats. */
static void choose_examples(type_state *types, size_t n, const options *opt)
{
	for (size_t i = 0; i < n; i++) {
		type_state *t = &types[i];

		t->nbad = t->bad.n;
		t->examples = &t->bad;
		if (t->bad.n == 0 && t->good.n > 0) {
			t->examples = &t->good;
			t->fallback = "no bad case: examples are correctly answered items";
		} else if (t->bad.n == 0) {
			t->fallback = "no bad case and no other item: no examples";
		}
		t->order = mlde_xmalloc((t->examples->n + 1) * sizeof *t->order);
		mlde_abs_example_order(opt->seed, t->name, t->order, t->examples->n);
	}
}

/* The example of request j of t at slot s (s < number of examples). */
static size_t example_at(const type_state *t, long j, long k, long s)
{
	return mlde_abs_example_at(t->order, t->examples->n, j, k, s);
}

/* The nearest pool images of every example that leads a request, in one
 * blocked search: query rows follow the types' examples in order. */
static void search_neighbours(sample *S)
{
	type_state *types = S->types;
	size_t nq = 0, d = S->dim.d;
	float *queries;

	for (size_t i = 0; i < S->ntypes; i++) {
		types[i].query_base = nq;
		if (types[i].quota > 0)
			nq += types[i].examples->n;
	}
	queries = mlde_xmalloc((nq ? nq : 1) * d * sizeof *queries);
	for (size_t i = 0; i < S->ntypes; i++)
		if (types[i].quota > 0 && types[i].examples->n)
			memcpy(queries + types[i].query_base * d, types[i].examples->emb,
			       types[i].examples->n * d * sizeof *queries);
	mlde_abs_neighbours_search(&S->near, queries, nq, S->pool.emb, S->pool.n, d,
				   (size_t)S->opt->topk, (int)S->opt->threads);
	if (nq)
		mlde_note(1, "similarity search: %zu queries x %zu pool images x %zu dimensions",
			  nq, S->pool.n, d);
	free(queries);
}

static jv plan_record(const type_state *t, long j, const record_list *pool, size_t image,
		      long k, bool similar, float sim)
{
	size_t n = strlen(t->name) + 32;
	char *id = mlde_xmalloc(n);
	jv examples = jv_array(), o;

	snprintf(id, n, "%s-%05ld", t->name, j);
	for (long s = 0; s < k; s++)
		examples = jv_array_append(examples, jv_copy(t->examples->recs[example_at(t, j, k, s)]));
	o = mlde_plan_record(id, t->name, jv_copy(pool->recs[image]), examples, similar,
			     round((double)sim * 1e6) / 1e6);
	free(id);
	return o;
}

/* Each type's requests: their examples, and a query image from the pool
 * for each, not used again by the type until it has used the pool up. */
static int write_plans(const sample *S, mlde_error *err)
{
	const options *opt = S->opt;
	mlde_abs_usage u;
	int rc = 0;

	mlde_abs_usage_init(&u, S->pool.n);
	for (size_t i = 0; rc == 0 && i < S->ntypes; i++) {
		const type_state *t = &S->types[i];
		long n = (long)t->examples->n, k = n < opt->examples ? n : opt->examples;
		unsigned long fallbacks = 0;  /* requests whose neighbours were all used */
		const mlde_abs_neighbours *nb = opt->similar && t->examples->n ? &S->near : NULL;
		mlde_rng rng;

		mlde_abs_usage_reset(&u);
		mlde_abs_query_rng(&rng, opt->seed, t->name);
		for (long j = 0; rc == 0 && j < t->quota; j++) {
			size_t row = nb ? t->query_base + example_at(t, j, k ? k : 1, 0) : 0;
			bool similar;
			float sim = 0.0f;
			size_t image = mlde_abs_query_image(&u, nb, row, (size_t)opt->topk, &rng,
							    &sim, &similar);

			fallbacks += nb && !similar;
			mlde_abs_usage_mark(&u, image);
			rc = mlde_writer_put(S->w, plan_record(t, j, &S->pool, image, k, similar, sim),
					     err);
		}
		if (rc == 0 && fallbacks)
			mlde_warn("%s: %lu requests got a random image: the nearest %zu to their "
				  "example were used already", t->name, fallbacks, S->near.k);
		if (rc == 0 && u.passes)
			mlde_note(0, "%s: the quota exceeds the pool: images reused after %lu "
				  "full pass%s", t->name, u.passes, u.passes == 1 ? "" : "es");
	}
	mlde_abs_usage_free(&u);
	return rc;
}

static void print_table(const type_state *types, size_t n, const options *opt)
{
	if (mlde_verbosity < 0)
		return;
	fprintf(stderr, "%s: budget %ld, strategy %s", mlde_prog, opt->budget,
		strategy_names[opt->strategy]);
	if (opt->strategy == MLDE_ABS_WEIGHTED)
		fprintf(stderr, ", temperature %g", opt->temperature);
	fprintf(stderr, "\n  %-24s %8s %6s %6s\n", "type", "weight", "bad", "quota");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %-24s %8.4f %6zu %6ld\n", types[i].name, types[i].weight,
			types[i].nbad, types[i].quota);
	for (size_t i = 0; i < n; i++)
		if (types[i].quota > 0 && types[i].fallback)
			mlde_warn("%s: %s", types[i].name, types[i].fallback);
}

static void parse_options(mlde_cli *cli, int *argc, char **argv, options *opt)
{
	static const char shortopts[] = MLDE_COMMON_SHORTOPTS;
	int c;

	mlde_cli_init(cli, "mlde-sample", argc, argv, shortopts, longopts);
	while ((c = getopt_long(*argc, argv, shortopts, longopts, NULL)) != -1) {
		if (mlde_cli_common(cli, c, optarg))
			continue;
		switch (c) {
		case OPT_WEAK: opt->weak = optarg; break;
		case OPT_POOL: opt->pool = optarg; break;
		case OPT_BUDGET:
			opt->budget = mlde_cli_long(cli, "--budget", optarg, 1, 100000000L);
			break;
		case OPT_STRATEGY:
			for (int s = 0;; s++) {
				if (s == 3)
					mlde_cli_usage_error(cli, "--strategy: '%s' is not one of abs, "
							     "uniform, proportional", optarg);
				if (strcmp(optarg, strategy_names[s]) == 0) {
					opt->strategy = (enum mlde_abs_strategy)s;
					break;
				}
			}
			break;
		case OPT_TEMPERATURE:
			opt->temperature = mlde_cli_double(cli, "--temperature", optarg, 1e-3, 1e3);
			break;
		case OPT_EXAMPLES:
			opt->examples = mlde_cli_long(cli, "--examples", optarg, 0, 64);
			break;
		case OPT_TOPK:
			opt->topk = mlde_cli_long(cli, "--topk", optarg, 1, TOPK_MAX);
			break;
		case OPT_RETRIEVAL:
			if (strcmp(optarg, "similar") == 0)
				opt->similar = true;
			else if (strcmp(optarg, "random") == 0)
				opt->similar = false;
			else
				mlde_cli_usage_error(cli, "--retrieval: '%s' is not one of similar, "
						     "random", optarg);
			break;
		case OPT_SEED:
			opt->seed = (unsigned long long)mlde_cli_long(cli, "--seed", optarg, 0,
								       2147483647L);
			break;
		case OPT_THREADS:
			opt->threads = mlde_cli_long(cli, "--threads", optarg, 1, 256);
			break;
		default:
			mlde_cli_usage_error(cli, "unhandled option");
		}
	}
	if (!opt->weak)
		mlde_cli_usage_error(cli, "--weak WEAK is required");
	if (!opt->pool)
		mlde_cli_usage_error(cli, "--pool POOL is required");
	if (!opt->budget)
		mlde_cli_usage_error(cli, "--budget N is required");
}

int main(int argc, char **argv)
{
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	options opt = { .examples = 2, .topk = 8, .temperature = 1.0, .similar = true,
			.seed = 1 };
	sample S = { .opt = &opt };
	mlde_output out;
	mlde_error err;
	int rc;

	parse_options(&cli, &argc, argv, &opt);
	mlde_blas_single();  /* the search's products run on its own threads */
	if (!opt.threads) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		opt.threads = cpus < 1 ? 1 : cpus > 256 ? 256 : cpus;
	}
	mlde_error_clear(&err);
	rc = read_inputs(&S, argc - optind, argv + optind, &err);
	if (rc == 0) {
		choose_examples(S.types, S.ntypes, &opt);
		allocate(S.types, S.ntypes, &opt);
		print_table(S.types, S.ntypes, &opt);
		if (opt.similar)
			search_neighbours(&S);
		out = mlde_cli_output(&cli);
		S.w = mlde_writer_open(&out, &err);
		rc = S.w ? write_plans(&S, &err) : -1;
	}
	if (rc == 0) {
		rc = mlde_writer_close(S.w, &err);  /* frees it, committed or not */
		S.w = NULL;
	}

	/* the one way out: an output still open is given up, everything freed */
	if (S.w)
		mlde_writer_abort(S.w);
	for (size_t i = 0; i < S.ntypes; i++) {
		list_free(&S.types[i].bad);
		list_free(&S.types[i].good);
		free(S.types[i].order);
		free(S.types[i].name);
	}
	free(S.types);
	list_free(&S.pool);
	free(S.emb);
	mlde_abs_neighbours_free(&S.near);
	mlde_strset_free(&S.images);
	if (rc < 0)
		mlde_die_error(&err);  /* quietly 0 when the reader of stdout went away */
	return MLDE_EXIT_OK;
}
