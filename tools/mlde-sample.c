/* mlde-sample - Adaptive Bad-case Sampling: turn a generation budget into
 * per-type quotas by weakness, and pick each request's in-context bad cases
 * and query image (a pool image similar to the bad case). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "cli/cli.h"
#include "io/jsonl.h"
#include "model/nn.h"  /* mlde_blas_threads */
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
	"  --threads T       OpenBLAS threads for the similarity search (default: all)\n"
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

typedef struct pool {
	jv *recs;
	float *emb;
	size_t n, cap, leaked;
} pool;

typedef struct embedding_dim {
	size_t d;               /* 0 until the first embedding is read */
	char where[600];        /* FILE:LINE of that first embedding */
} embedding_dim;

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

static _Noreturn void die_at(const mlde_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void die_at(const mlde_reader *r, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	mlde_die(MLDE_EXIT_DATA, "%s:%lu: %s", mlde_reader_name(r), mlde_reader_lineno(r), what);
}

/* "FILE:LINE" of r's last record, for the record checks' messages. */
static const char *where_of(const mlde_reader *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%lu", mlde_reader_name(r), mlde_reader_lineno(r));
	return buf;
}

/* Take rec's `embedding` into buf (checking its length against the first
 * one seen) and remove it from rec, whose other fields travel on.  Returns
 * false when there is none. */
static bool take_embedding(const mlde_reader *r, jv *rec, float **buf, embedding_dim *dim)
{
	jv e = jv_object_get(jv_copy(*rec), jv_string(MLDE_F_EMBEDDING));
	size_t n;

	if (jv_get_kind(e) == JV_KIND_INVALID || jv_get_kind(e) == JV_KIND_NULL) {
		jv_free(e);
		return false;
	}
	if (jv_get_kind(e) != JV_KIND_ARRAY) {
		jv_kind k = jv_get_kind(e);
		jv_free(e);
		die_at(r, "field 'embedding': expected array, got %s", mlde_kind_name(k));
	}
	n = (size_t)jv_array_length(jv_copy(e));
	if (n == 0) {
		jv_free(e);
		die_at(r, "field 'embedding': empty");
	}
	if (!dim->d) {
		dim->d = n;
		snprintf(dim->where, sizeof dim->where, "%s:%lu", mlde_reader_name(r),
			 mlde_reader_lineno(r));
	} else if (n != dim->d) {
		jv_free(e);
		die_at(r, "field 'embedding': %zu numbers, but %s has %zu", n, dim->where, dim->d);
	}
	if (!*buf)  /* each reader keeps its own buffer of dim->d floats */
		*buf = mlde_xmalloc(n * sizeof **buf);
	for (size_t i = 0; i < n; i++) {
		jv x = jv_array_get(jv_copy(e), (int)i);
		if (jv_get_kind(x) != JV_KIND_NUMBER) {
			jv_free(x);
			jv_free(e);
			die_at(r, "field 'embedding': element %zu is not a number", i);
		}
		(*buf)[i] = (float)jv_number_value(x);
		jv_free(x);
	}
	jv_free(e);
	*rec = jv_object_delete(*rec, jv_string(MLDE_F_EMBEDDING));
	return true;
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

static mlde_reader *open_or_die(const char *path)
{
	mlde_error err;
	mlde_reader *r;

	mlde_error_clear(&err);
	r = mlde_reader_open(path, &err);
	if (!r)
		mlde_die_error(&err);
	return r;
}

static int next_or_die(mlde_reader *r, jv *rec)
{
	mlde_error err;
	int got;

	mlde_error_clear(&err);
	got = mlde_reader_next(r, rec, &err);
	if (got < 0)
		mlde_die_error(&err);
	return got;
}

static type_state *read_weak(const char *path, size_t *ntypes)
{
	mlde_reader *r = open_or_die(path);
	type_state *types = NULL;
	size_t n = 0;
	jv rec;

	while (next_or_die(r, &rec)) {
		char where[600];
		mlde_weakness w;
		mlde_error err;

		mlde_error_clear(&err);
		if (mlde_weakness_check(rec, where_of(r, where, sizeof where), &w, &err) < 0)
			mlde_die_error(&err);
		for (size_t i = 0; i < n; i++)
			if (strcmp(types[i].name, w.key) == 0)
				die_at(r, "type '%s' appears twice", w.key);
		types = mlde_xrealloc(types, (n + 1) * sizeof *types);
		types[n++] = (type_state){ .name = mlde_xstrdup(w.key), .weight = w.weight };
		jv_free(rec);
	}
	if (n == 0)
		mlde_die(MLDE_EXIT_DATA, "%s: no weakness records: nothing to allocate the budget to",
			 mlde_reader_name(r));
	mlde_reader_close(r);
	qsort(types, n, sizeof *types, by_name);
	*ntypes = n;
	return types;
}

/* A set of image paths, to keep benchmark images out of the pool. */
typedef mlde_strset string_set;

static bool set_has(const string_set *set, const char *s)
{
	return mlde_strset_find(set, s, strlen(s)) >= 0;
}

static void set_add(string_set *set, const char *s)
{
	mlde_strset_add(set, s, strlen(s), NULL);
}

typedef struct input_stats {
	unsigned long records, unknown_type;
} input_stats;

/* Read eval records: bad cases and correct ones by type, and every image. */
static void read_evals(const char *path, type_state *types, size_t ntypes, const options *opt,
		       embedding_dim *dim, string_set *images, input_stats *st)
{
	mlde_reader *r = open_or_die(path);
	float *emb = NULL;
	jv rec;

	while (next_or_die(r, &rec)) {
		char where[600];
		mlde_error err;
		mlde_eval e;
		type_state *t;
		bool has_emb;

		mlde_error_clear(&err);
		if (mlde_eval_check(rec, MLDE_F_TYPE, MLDE_EVAL_NEED_IMAGE,
				    where_of(r, where, sizeof where), &e, &err) < 0)
			mlde_die_error(&err);
		set_add(images, e.image);
		st->records++;
		t = find_type(types, ntypes, e.key);  /* before rec changes under e.key */
		has_emb = take_embedding(r, &rec, &emb, dim);
		rec = jv_object_delete(rec, jv_string(MLDE_F_SCORES));
		if (!t) {
			st->unknown_type++;
			jv_free(rec);
		} else if (!e.correct) {
			if (opt->similar && !has_emb)
				die_at(r, "field 'embedding': missing on a bad case "
				       "(--retrieval similar needs mlde-eval --embed)");
			list_push(&t->bad, rec, emb, opt->similar ? dim->d : 0);
		} else if (!opt->similar || has_emb) {
			list_push(&t->good, rec, emb, opt->similar ? dim->d : 0);
		} else {
			jv_free(rec);
		}
	}
	free(emb);
	mlde_reader_close(r);
}

static void read_pool(const options *opt, const string_set *images, embedding_dim *dim,
		      pool *p)
{
	mlde_reader *r = open_or_die(opt->pool);
	float *emb = NULL;
	jv rec;

	while (next_or_die(r, &rec)) {
		char where[600];
		mlde_error err;
		mlde_pool pr;
		bool leaked;

		mlde_error_clear(&err);
		if (mlde_pool_check(rec, where_of(r, where, sizeof where), &pr, &err) < 0)
			mlde_die_error(&err);
		leaked = set_has(images, pr.image);
		if (!take_embedding(r, &rec, &emb, dim) && opt->similar)
			die_at(r, "field 'embedding': missing on a pool record "
			       "(--retrieval similar needs mlde-eval --embed)");
		if (leaked) {
			p->leaked++;
			jv_free(rec);
			continue;
		}
		if (p->n == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 1024;
			p->recs = mlde_xrealloc(p->recs, p->cap * sizeof *p->recs);
			if (opt->similar)
				p->emb = mlde_xrealloc(p->emb, p->cap * dim->d * sizeof *p->emb);
		}
		if (opt->similar)
			memcpy(p->emb + p->n * dim->d, emb, dim->d * sizeof *emb);
		p->recs[p->n++] = rec;
	}
	if (p->n == 0)
		mlde_die(MLDE_EXIT_DATA, "%s: the pool is empty%s", mlde_reader_name(r),
			 p->leaked ? " once the benchmark images are left out" : "");
	free(emb);
	mlde_reader_close(r);
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

static long examples_per_request(const type_state *t, const options *opt)
{
	return (long)t->examples->n < opt->examples ? (long)t->examples->n : opt->examples;
}

/* The nearest pool images of every example that leads a request, in one
 * blocked search: query rows follow the types' examples in order. */
static void search_neighbours(type_state *types, size_t n, pool *p, size_t d,
			      const options *opt, mlde_abs_neighbours *near)
{
	size_t nq = 0;
	float *queries;

	for (size_t i = 0; i < n; i++) {
		types[i].query_base = nq;
		if (types[i].quota > 0)
			nq += types[i].examples->n;
	}
	queries = mlde_xmalloc((nq ? nq : 1) * d * sizeof *queries);
	for (size_t i = 0; i < n; i++)
		if (types[i].quota > 0 && types[i].examples->n)
			memcpy(queries + types[i].query_base * d, types[i].examples->emb,
			       types[i].examples->n * d * sizeof *queries);
	mlde_abs_neighbours_search(near, queries, nq, p->emb, p->n, d, (size_t)opt->topk);
	if (nq)
		mlde_note(1, "similarity search: %zu queries x %zu pool images x %zu dimensions",
			  nq, p->n, d);
	free(queries);
}

static jv plan_record(const type_state *t, long j, const pool *p, size_t image, long k,
		      bool similar, float sim)
{
	size_t n = strlen(t->name) + 32;
	char *id = mlde_xmalloc(n);
	jv examples = jv_array(), o;

	snprintf(id, n, "%s-%05ld", t->name, j);
	for (long s = 0; s < k; s++)
		examples = jv_array_append(examples, jv_copy(t->examples->recs[example_at(t, j, k, s)]));
	o = mlde_plan_record(id, t->name, jv_copy(p->recs[image]), examples, similar,
			     round((double)sim * 1e6) / 1e6);
	free(id);
	return o;
}

static void write_plans(const mlde_cli *cli, type_state *types, size_t n, const pool *p,
			const mlde_abs_neighbours *near, const options *opt)
{
	mlde_writer *w = mlde_cli_open_output(cli);
	mlde_abs_usage u;
	mlde_error err;

	mlde_abs_usage_init(&u, p->n);
	mlde_error_clear(&err);
	for (size_t i = 0; i < n; i++) {
		type_state *t = &types[i];
		long k = examples_per_request(t, opt);
		unsigned long fallbacks = 0;  /* requests whose neighbours were all used */
		const mlde_abs_neighbours *nb = opt->similar && t->examples->n ? near : NULL;
		mlde_rng rng;

		mlde_abs_usage_reset(&u);
		mlde_abs_query_rng(&rng, opt->seed, t->name);
		for (long j = 0; j < t->quota; j++) {
			size_t row = nb ? t->query_base + example_at(t, j, k ? k : 1, 0) : 0;
			bool similar;
			float sim = 0.0f;
			size_t image = mlde_abs_query_image(&u, nb, row, (size_t)opt->topk, &rng,
							    &sim, &similar);

			fallbacks += nb && !similar;
			mlde_abs_usage_mark(&u, image);
			if (mlde_writer_put(w, plan_record(t, j, p, image, k, similar, sim),
					    &err) < 0) {
				mlde_writer_abort(w);
				mlde_die_error(&err);
			}
		}
		if (fallbacks)
			mlde_warn("%s: %lu requests got a random image: the nearest %zu to their "
				  "example were used already", t->name, fallbacks, near->k);
		if (u.passes)
			mlde_note(0, "%s: the quota exceeds the pool: images reused after %lu "
				  "full pass%s", t->name, u.passes, u.passes == 1 ? "" : "es");
	}
	mlde_abs_usage_free(&u);
	mlde_cli_close_output(w);
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
	embedding_dim dim = { 0 };
	string_set images = { 0 };
	input_stats st = { 0 };
	mlde_abs_neighbours near = { 0 };
	pool p = { 0 };
	type_state *types;
	size_t ntypes;

	parse_options(&cli, &argc, argv, &opt);
	if (opt.threads)
		mlde_blas_threads((int)opt.threads);
	types = read_weak(opt.weak, &ntypes);
	if (optind == argc)
		read_evals("-", types, ntypes, &opt, &dim, &images, &st);
	for (int i = optind; i < argc; i++)
		read_evals(argv[i], types, ntypes, &opt, &dim, &images, &st);
	read_pool(&opt, &images, &dim, &p);
	if (st.unknown_type)
		mlde_warn("%lu input records have a type %s does not name: not used",
			  st.unknown_type, opt.weak);
	if (p.leaked)
		mlde_warn("%zu pool images are also input (benchmark) images: never chosen",
			  p.leaked);
	else
		mlde_note(1, "no pool image is an input image");

	choose_examples(types, ntypes, &opt);
	allocate(types, ntypes, &opt);
	print_table(types, ntypes, &opt);
	if (opt.similar)
		search_neighbours(types, ntypes, &p, dim.d, &opt, &near);
	write_plans(&cli, types, ntypes, &p, &near, &opt);

	for (size_t i = 0; i < ntypes; i++) {
		list_free(&types[i].bad);
		list_free(&types[i].good);
		free(types[i].order);
		free(types[i].name);
	}
	free(types);
	for (size_t i = 0; i < p.n; i++)
		jv_free(p.recs[i]);
	free(p.recs);
	free(p.emb);
	mlde_abs_neighbours_free(&near);
	mlde_strset_free(&images);
	return MLDE_EXIT_OK;
}
