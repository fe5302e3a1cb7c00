/* mlde-weak - per-type accuracy of eval records, with 95% Wilson intervals
 * and the weight Adaptive Bad-case Sampling gives each type. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "io/jsonl.h"

#define SYNOPSIS "mlde-weak [-qvZ] [-o FILE] [-LEVEL] [--by FIELD] " \
	"[--weight error|wilson-upper|uniform] [--min-n N] [--type NAME]... " \
	"[--tsv] [--skip-bad] [FILE...]"

static const char help[] =
	"Read eval records (FILE, or stdin) and write one weakness record per\n"
	"question type, sorted by type: n, correct, acc, lo and hi (95% Wilson\n"
	"interval), weight (what ABS samples by) and unanswered (pred null).\n"
	"\n"
	"  --by FIELD        group by this string field instead of 'type'\n"
	"  --weight W        error: 1 - acc (default, as the original pipeline);\n"
	"                    wilson-upper: 1 - lo; uniform: 1 for every type\n"
	"  --min-n N         a type with fewer than N records gets the mean weight of\n"
	"                    the others and \"sparse\": true (default 1)\n"
	"  --type NAME       always report NAME, with n=0 if no record has it\n"
	"                    (repeatable)\n"
	"  --tsv             a header and one tab-separated row per type, plain text\n"
	"  --skip-bad        leave out bad records (counted on stderr) instead of\n"
	"                    failing\n"
	"  -o, --output FILE write FILE (via FILE.tmp, renamed on success)\n"
	"  -Z, --plain       plain JSON Lines, not zstd (the default on a terminal)\n"
	"  -0 .. -19, --level N\n"
	"                    zstd level (default 3; 0 is libzstd's default)\n"
	"  -q, --quiet       errors only\n"
	"  -v, --verbose     more notes on stderr\n"
	"  -h, --help, --version\n"
	"\n"
	"Exit status: 0 success, 1 bad input, 2 usage, 3 I/O error (see mlde(7)).\n";

enum { OPT_BY = MLDE_OPT_FIRST_PRIVATE, OPT_WEIGHT, OPT_MIN_N, OPT_TYPE, OPT_TSV,
       OPT_SKIP_BAD };

static const struct option longopts[] = {
	MLDE_COMMON_LONGOPTS,
	{ "by", required_argument, 0, OPT_BY },
	{ "weight", required_argument, 0, OPT_WEIGHT },
	{ "min-n", required_argument, 0, OPT_MIN_N },
	{ "type", required_argument, 0, OPT_TYPE },
	{ "tsv", no_argument, 0, OPT_TSV },
	{ "skip-bad", no_argument, 0, OPT_SKIP_BAD },
	{ 0, 0, 0, 0 },
};

enum weight_kind { WEIGHT_ERROR, WEIGHT_WILSON_UPPER, WEIGHT_UNIFORM };

typedef struct group {
	char *key;
	unsigned long n, correct, unanswered;
	double acc, lo, hi, weight;
	bool sparse;
} group;

/* Open-addressing table of groups by key; grouping by a per-record field
 * such as `image` can make many groups, so lookups must stay O(1). */
typedef struct group_table {
	group *groups;     /* dense, in order of first appearance */
	size_t ngroups, cap_groups;
	size_t *slots;     /* index + 1 into groups; 0 is empty */
	size_t nslots;
} group_table;

static unsigned long long hash_key(const char *s, size_t n)
{
	unsigned long long h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static void table_grow(group_table *t)
{
	size_t nslots = t->nslots ? t->nslots * 2 : 64;
	size_t *slots = calloc(nslots, sizeof *slots);

	if (!slots)
		mlde_die(MLDE_EXIT_INTERNAL, "out of memory");
	for (size_t i = 0; i < t->ngroups; i++) {
		const char *k = t->groups[i].key;
		size_t s = hash_key(k, strlen(k)) & (nslots - 1);
		while (slots[s])
			s = (s + 1) & (nslots - 1);
		slots[s] = i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
}

static group *table_get(group_table *t, const char *key, size_t len)
{
	size_t s;

	if ((t->ngroups + 1) * 2 > t->nslots)
		table_grow(t);
	s = hash_key(key, len) & (t->nslots - 1);
	for (; t->slots[s]; s = (s + 1) & (t->nslots - 1)) {
		group *g = &t->groups[t->slots[s] - 1];
		if (strncmp(g->key, key, len) == 0 && g->key[len] == '\0')
			return g;
	}
	if (t->ngroups == t->cap_groups) {
		t->cap_groups = t->cap_groups ? t->cap_groups * 2 : 16;
		t->groups = mlde_xrealloc(t->groups, t->cap_groups * sizeof *t->groups);
	}
	t->groups[t->ngroups] = (group){ .key = mlde_xmalloc(len + 1) };
	memcpy(t->groups[t->ngroups].key, key, len);
	t->groups[t->ngroups].key[len] = '\0';
	t->slots[s] = ++t->ngroups;
	return &t->groups[t->ngroups - 1];
}

typedef struct options {
	const char *by;
	enum weight_kind weight;
	long min_n;
	bool tsv, skip_bad;
} options;

typedef struct tally {
	unsigned long records, skipped;
	jv by_key, correct_key, pred_key;  /* made once, copied per lookup */
} tally;

#define MAX_SKIP_MESSAGES 10

/* Count one record; -1 with err set when it is bad. */
static int count_record(group_table *t, tally *ty, const options *opt, jv rec,
			const mlde_reader *r, mlde_error *err)
{
	jv key = jv_object_get(jv_copy(rec), jv_copy(ty->by_key));
	jv correct = jv_object_get(jv_copy(rec), jv_copy(ty->correct_key));
	jv_kind kk = jv_get_kind(key), ck = jv_get_kind(correct);
	int rc = -1;

	if (kk != JV_KIND_STRING) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s:%lu: field '%s': %s",
			       mlde_reader_name(r), mlde_reader_lineno(r), opt->by,
			       kk == JV_KIND_INVALID ? "missing"
						     : kk == JV_KIND_NULL ? "expected string, got null"
						     : kk == JV_KIND_NUMBER ? "expected string, got number"
						     : kk == JV_KIND_ARRAY ? "expected string, got array"
						     : kk == JV_KIND_OBJECT ? "expected string, got object"
									    : "expected string, got boolean");
	} else if (ck != JV_KIND_TRUE && ck != JV_KIND_FALSE) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s:%lu: field 'correct': %s%s",
			       mlde_reader_name(r), mlde_reader_lineno(r),
			       ck == JV_KIND_INVALID ? "missing" : "expected boolean, got ",
			       ck == JV_KIND_INVALID ? "" : mlde_kind_name(ck));
	} else {
		group *g = table_get(t, jv_string_value(key),
				     (size_t)jv_string_length_bytes(jv_copy(key)));
		jv pred = jv_object_get(jv_copy(rec), jv_copy(ty->pred_key));

		g->n++;
		g->correct += ck == JV_KIND_TRUE;
		g->unanswered += jv_get_kind(pred) == JV_KIND_NULL;
		jv_free(pred);
		rc = 0;
	}
	jv_free(key);
	jv_free(correct);
	jv_free(rec);
	return rc;
}

static void read_input(group_table *t, tally *ty, const options *opt, const char *path)
{
	mlde_error err;
	mlde_reader *r;
	jv rec;
	int got;

	mlde_error_clear(&err);
	r = mlde_reader_open(path, &err);
	if (!r)
		mlde_die_error(&err);
	unsigned long before = ty->records;

	while ((got = mlde_reader_next(r, &rec, &err)) > 0) {
		if (count_record(t, ty, opt, rec, r, &err) == 0) {
			ty->records++;
			continue;
		}
		if (!opt->skip_bad)
			mlde_die_error(&err);
		if (++ty->skipped <= MAX_SKIP_MESSAGES)
			mlde_warn("skipped: %s", err.msg);
	}
	if (got < 0)
		mlde_die_error(&err);
	mlde_note(1, "%s: %lu records, %lu lines, %llu bytes of %s JSON", mlde_reader_name(r),
		  ty->records - before, mlde_reader_lineno(r), mlde_reader_bytes(r),
		  mlde_reader_is_zstd(r) ? "zstd" : "plain");
	mlde_reader_close(r);
}

/* 95% Wilson score interval for c successes in n trials.  At n = 0 nothing
 * is known: [0, 1]. */
static void wilson(unsigned long c, unsigned long n, double *lo, double *hi)
{
	const double z = 1.959963984540054; /* the 0.975 quantile of N(0,1) */
	double p, z2n, denom, center, half;

	if (n == 0) {
		*lo = 0.0;
		*hi = 1.0;
		return;
	}
	p = (double)c / (double)n;
	z2n = z * z / (double)n;
	denom = 1.0 + z2n;
	center = (p + z2n / 2.0) / denom;
	half = z * sqrt(p * (1.0 - p) / (double)n + z2n / (4.0 * (double)n)) / denom;
	/* at p = 0 or 1 the bound is exactly 0 or 1; do not let rounding move it */
	*lo = c == 0 ? 0.0 : fmax(0.0, center - half);
	*hi = c == n ? 1.0 : fmin(1.0, center + half);
}

static void compute_weights(group_table *t, const options *opt)
{
	double sum = 0.0;
	size_t dense = 0;

	for (size_t i = 0; i < t->ngroups; i++) {
		group *g = &t->groups[i];

		g->acc = g->n ? (double)g->correct / (double)g->n : NAN;
		wilson(g->correct, g->n, &g->lo, &g->hi);
		g->sparse = (long)g->n < opt->min_n;
		switch (opt->weight) {
		case WEIGHT_ERROR: g->weight = 1.0 - g->acc; break;
		case WEIGHT_WILSON_UPPER: g->weight = 1.0 - g->lo; break;
		case WEIGHT_UNIFORM: g->weight = 1.0; break;
		}
		if (!g->sparse) {
			sum += g->weight;
			dense++;
		}
	}
	/* too few records to trust: give the mean of the others (or 1 if none) */
	for (size_t i = 0; i < t->ngroups; i++)
		if (t->groups[i].sparse)
			t->groups[i].weight = dense ? sum / (double)dense : 1.0;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const group *)a)->key, ((const group *)b)->key);
}

static jv weakness_record(const group *g, const char *by)
{
	jv o = jv_object();

	o = jv_object_set(o, jv_string(by), jv_string(g->key));
	o = jv_object_set(o, jv_string("n"), jv_number((double)g->n));
	o = jv_object_set(o, jv_string("correct"), jv_number((double)g->correct));
	o = jv_object_set(o, jv_string("acc"), g->n ? jv_number(g->acc) : jv_null());
	o = jv_object_set(o, jv_string("lo"), jv_number(g->lo));
	o = jv_object_set(o, jv_string("hi"), jv_number(g->hi));
	o = jv_object_set(o, jv_string("weight"), jv_number(g->weight));
	o = jv_object_set(o, jv_string("unanswered"), jv_number((double)g->unanswered));
	if (g->sparse)
		o = jv_object_set(o, jv_string("sparse"), jv_true());
	return o;
}

static void write_groups(const mlde_cli *cli, const group_table *t, const options *opt)
{
	mlde_writer *w = mlde_cli_open_output(cli);
	mlde_error err;
	int rc = 0;

	mlde_error_clear(&err);
	if (opt->tsv)
		rc = mlde_writer_printf(w, &err, "%s\tn\tcorrect\tacc\tlo\thi\tweight\t"
					"unanswered\tsparse\n", opt->by);
	for (size_t i = 0; rc == 0 && i < t->ngroups; i++) {
		const group *g = &t->groups[i];
		char acc[32] = "NA";

		if (!opt->tsv) {
			rc = mlde_writer_put(w, weakness_record(g, opt->by), &err);
			continue;
		}
		if (g->n)
			snprintf(acc, sizeof acc, "%.4f", g->acc);
		rc = mlde_writer_printf(w, &err, "%s\t%lu\t%lu\t%s\t%.4f\t%.4f\t%.4f\t%lu\t%d\n",
					g->key, g->n, g->correct, acc, g->lo, g->hi,
					g->weight, g->unanswered, g->sparse);
	}
	if (rc < 0) {
		mlde_writer_abort(w);
		mlde_die_error(&err);
	}
	mlde_cli_close_output(w);
}

static void summarise(const group_table *t, const tally *ty)
{
	unsigned long correct = 0, unanswered = 0;

	for (size_t i = 0; i < t->ngroups; i++) {
		correct += t->groups[i].correct;
		unanswered += t->groups[i].unanswered;
	}
	if (ty->skipped > MAX_SKIP_MESSAGES)
		mlde_warn("skipped %lu bad records in all (the first %d named above)",
			  ty->skipped, MAX_SKIP_MESSAGES);
	else if (ty->skipped)
		mlde_warn("skipped %lu bad record%s", ty->skipped, ty->skipped == 1 ? "" : "s");
	if (ty->records)
		mlde_warn("%lu records, %zu groups, accuracy %.4f, %lu unanswered",
			  ty->records, t->ngroups, (double)correct / (double)ty->records,
			  unanswered);
	else
		mlde_warn("no records");
}

static const char *check_field_name(const mlde_cli *cli, const char *opt, const char *arg)
{
	if (!*arg)
		mlde_cli_usage_error(cli, "%s: empty name", opt);
	return arg;
}

int main(int argc, char **argv)
{
	static const char shortopts[] = MLDE_COMMON_SHORTOPTS;
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	options opt = { .by = "type", .weight = WEIGHT_ERROR, .min_n = 1 };
	group_table table = { 0 };
	tally ty = { 0 };
	int c;

	mlde_cli_init(&cli, "mlde-weak", &argc, argv, shortopts, longopts);
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (mlde_cli_common(&cli, c, optarg))
			continue;
		switch (c) {
		case OPT_BY:
			opt.by = check_field_name(&cli, "--by", optarg);
			break;
		case OPT_WEIGHT:
			if (strcmp(optarg, "error") == 0)
				opt.weight = WEIGHT_ERROR;
			else if (strcmp(optarg, "wilson-upper") == 0)
				opt.weight = WEIGHT_WILSON_UPPER;
			else if (strcmp(optarg, "uniform") == 0)
				opt.weight = WEIGHT_UNIFORM;
			else
				mlde_cli_usage_error(&cli, "--weight: '%s' is not one of error, "
						     "wilson-upper, uniform", optarg);
			break;
		case OPT_MIN_N:
			opt.min_n = mlde_cli_long(&cli, "--min-n", optarg, 0, 1000000000L);
			break;
		case OPT_TYPE:
			table_get(&table, check_field_name(&cli, "--type", optarg), strlen(optarg));
			break;
		case OPT_TSV:
			opt.tsv = true;
			cli.out.plain = 1;  /* a table is for people and column(1) */
			break;
		case OPT_SKIP_BAD:
			opt.skip_bad = true;
			break;
		default:
			mlde_cli_usage_error(&cli, "unhandled option");
		}
	}
	if (opt.tsv && cli.out.plain != 1)
		cli.out.plain = 1;

	ty.by_key = jv_string(opt.by);
	ty.correct_key = jv_string("correct");
	ty.pred_key = jv_string("pred");
	if (optind == argc)
		read_input(&table, &ty, &opt, "-");
	for (int i = optind; i < argc; i++)
		read_input(&table, &ty, &opt, argv[i]);

	compute_weights(&table, &opt);
	if (table.ngroups)  /* qsort(NULL, 0, ...) is undefined */
		qsort(table.groups, table.ngroups, sizeof *table.groups, by_key);
	write_groups(&cli, &table, &opt);
	summarise(&table, &ty);

	jv_free(ty.by_key);
	jv_free(ty.correct_key);
	jv_free(ty.pred_key);
	for (size_t i = 0; i < table.ngroups; i++)
		free(table.groups[i].key);
	free(table.groups);
	free(table.slots);
	return MLDE_EXIT_OK;
}
