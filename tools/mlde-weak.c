/* mlde-weak - per-type accuracy of eval records, with 95% Wilson intervals
 * and the weight Adaptive Bad-case Sampling gives each type. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/interval.h"
#include "cli/cli.h"
#include "io/jsonl.h"
#include "record/record.h"

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
	"  --min-n N         a type with fewer than N records (or none) gets the mean\n"
	"                    weight of the others and \"sparse\": true (default 1)\n"
	"  --type NAME       always report NAME, with n=0 if no record has it\n"
	"                    (repeatable)\n"
	"  --tsv             a header and one tab-separated row per type, plain text\n"
	"  --skip-bad        leave out bad records (counted on stderr) instead of\n"
	"                    failing\n"
	MLDE_HELP_OUTPUT
	"  -q, --quiet       errors only\n"
	MLDE_HELP_VERBOSE
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
	const char *key;
	unsigned long n, correct, unanswered;
	double acc, lo, hi, weight;
	bool sparse;
} group;

/* The groups by key; grouping by a per-record field such as `image` can
 * make many groups, so lookups must stay O(1).  Group i has key i of keys
 * (and borrows its string) until the groups are sorted for output. */
typedef struct group_table {
	group *groups;     /* dense, in order of first appearance */
	size_t ngroups, cap_groups;
	mlde_strset keys;
} group_table;

static group *table_get(group_table *t, const char *key, size_t len)
{
	bool added;
	size_t i = mlde_strset_add(&t->keys, key, len, &added);

	if (!added)
		return &t->groups[i];
	if (t->ngroups == t->cap_groups) {
		t->cap_groups = t->cap_groups ? t->cap_groups * 2 : 16;
		t->groups = mlde_xrealloc(t->groups, t->cap_groups * sizeof *t->groups);
	}
	t->groups[t->ngroups] = (group){ .key = t->keys.keys[i] };
	return &t->groups[t->ngroups++];
}

typedef struct options {
	const char *by;
	enum weight_kind weight;
	long min_n;
	bool tsv, skip_bad;
} options;

typedef struct tally {
	unsigned long records, skipped;
} tally;

#define MAX_SKIP_MESSAGES 10

/* Count one record; -1 with err set when it is bad. */
static int count_record(group_table *t, const options *opt, jv rec, const mlde_reader *r,
			mlde_error *err)
{
	char where[600];
	mlde_eval e;
	int rc;

	snprintf(where, sizeof where, "%s:%lu", mlde_reader_name(r), mlde_reader_lineno(r));
	rc = mlde_eval_check(rec, opt->by, 0, where, &e, err);
	if (rc == 0) {
		group *g = table_get(t, e.key, e.key_len);

		g->n++;
		g->correct += e.correct;
		g->unanswered += !e.answered;
	}
	jv_free(rec);
	return rc;
}

static int read_input(group_table *t, tally *ty, const options *opt, const char *path,
		      mlde_error *err)
{
	mlde_reader *r = mlde_reader_open(path, err);
	unsigned long before = ty->records;
	jv rec;
	int got;

	if (!r)
		return -1;
	while ((got = mlde_reader_next(r, &rec, err)) > 0) {
		if (count_record(t, opt, rec, r, err) == 0) {
			ty->records++;
			continue;
		}
		if (!opt->skip_bad)
			break;
		if (++ty->skipped <= MAX_SKIP_MESSAGES)
			mlde_warn("skipped: %s", err->msg);
		mlde_error_clear(err);
	}
	if (got == 0)
		mlde_note(1, "%s: %lu records, %lu lines, %llu bytes of %s JSON",
			  mlde_reader_name(r), ty->records - before, mlde_reader_lineno(r),
			  mlde_reader_bytes(r), mlde_reader_is_zstd(r) ? "zstd" : "plain");
	mlde_reader_close(r);
	return got == 0 ? 0 : -1;
}

static void compute_weights(group_table *t, const options *opt)
{
	double sum = 0.0;
	size_t dense = 0;

	for (size_t i = 0; i < t->ngroups; i++) {
		group *g = &t->groups[i];

		g->acc = g->n ? (double)g->correct / (double)g->n : NAN;
		mlde_wilson(g->correct, g->n, &g->lo, &g->hi);
		/* no record at all is sparse even at --min-n 0: 1 - acc has no
		 * value to give (acc is unknown), and a null weight would stop
		 * mlde-sample */
		g->sparse = g->n == 0 || (long)g->n < opt->min_n;
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
	mlde_weakness w = {
		.by = by, .key = g->key, .n = g->n, .correct = g->correct,
		.unanswered = g->unanswered, .acc = g->acc, .lo = g->lo, .hi = g->hi,
		.weight = g->weight, .sparse = g->sparse,
	};

	return mlde_weakness_record(&w);
}

/* Open the output the options describe; -1 with err (main reports it). */
static int open_output(const mlde_cli *cli, mlde_writer **w, mlde_error *err)
{
	mlde_output out = mlde_cli_output(cli);

	*w = mlde_writer_open(&out, err);
	return *w ? 0 : -1;
}

static int write_groups(mlde_writer *w, const group_table *t, const options *opt,
			mlde_error *err)
{
	int rc = 0;

	if (opt->tsv)
		rc = mlde_writer_printf(w, err, "%s\tn\tcorrect\tacc\tlo\thi\tweight\t"
					"unanswered\tsparse\n", opt->by);
	for (size_t i = 0; rc == 0 && i < t->ngroups; i++) {
		const group *g = &t->groups[i];
		char acc[32] = "NA";

		if (!opt->tsv) {
			rc = mlde_writer_put(w, weakness_record(g, opt->by), err);
			continue;
		}
		if (g->n)
			snprintf(acc, sizeof acc, "%.4f", g->acc);
		rc = mlde_writer_printf(w, err, "%s\t%lu\t%lu\t%s\t%.4f\t%.4f\t%.4f\t%lu\t%d\n",
					g->key, g->n, g->correct, acc, g->lo, g->hi,
					g->weight, g->unanswered, g->sparse);
	}
	return rc;
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
	options opt = { .by = MLDE_F_TYPE, .weight = WEIGHT_ERROR, .min_n = 1 };
	group_table table = { 0 };
	tally ty = { 0 };
	mlde_writer *w = NULL;
	mlde_error err;
	int c, rc = 0;

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

	mlde_error_clear(&err);
	if (optind == argc)
		rc = read_input(&table, &ty, &opt, "-", &err);
	for (int i = optind; i < argc && rc == 0; i++)
		rc = read_input(&table, &ty, &opt, argv[i], &err);
	if (rc == 0) {
		compute_weights(&table, &opt);
		if (table.ngroups)  /* qsort(NULL, 0, ...) is undefined */
			qsort(table.groups, table.ngroups, sizeof *table.groups, by_key);
		rc = open_output(&cli, &w, &err);
	}
	if (rc == 0)
		rc = write_groups(w, &table, &opt, &err);
	if (rc == 0) {
		rc = mlde_writer_close(w, &err);  /* frees it, whatever the result */
		w = NULL;
	}
	if (rc == 0)
		summarise(&table, &ty);

	/* the one way out: an output still open is given up (no FILE, no
	 * FILE.tmp, a zstd stream left unfinished), everything freed */
	mlde_writer_abort(w);
	free(table.groups);
	mlde_strset_free(&table.keys);
	if (rc < 0)
		mlde_die_error(&err);  /* quietly 0 when the reader of stdout went away */
	return MLDE_EXIT_OK;
}
