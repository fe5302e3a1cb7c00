/* mlde-import - benchmark and image-set files into mlde's records: MMBench
 * TSV, SEED-Bench JSON and A-OKVQA JSON into items, COCO captions and
 * instances into pool records.  The conversions are tools/lib/import/;
 * this file holds the options, the flow and the summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/sink.h"
#include "import/import.h"
#include "io/jsonl.h"

#define SYNOPSIS "mlde-import mmbench|seed|aokvqa|coco [-qvZ] [-o FILE] [-LEVEL] " \
	"[--skip-bad] [--images DIR] [--type T] [--captions FILE --instances FILE] [FILE]"

static const char help[] =
	"Convert a benchmark into mlde items, or COCO annotations into pool records,\n"
	"written as JSON Lines (see mlde-import(1) for every field):\n"
	"  mlde-import mmbench --images DIR [--type category|l2-category] [FILE.tsv]\n"
	"  mlde-import seed [--images DIR] [FILE.json]\n"
	"  mlde-import aokvqa [--images DIR] [--type NAME] [FILE.json]\n"
	"  mlde-import coco [--images DIR] --captions FILE --instances FILE\n"
	"\n"
	"  mmbench  MMBench TSV: the hint joined to the question (\"HINT\\nQUESTION\"),\n"
	"           absent options dropped, the answer letter as an index, each\n"
	"           base64 image written once as DIR/SHA256.EXT\n"
	"  seed     SEED-Bench JSON: image questions, question_type_id as one of the\n"
	"           nine dimension names; video questions counted and skipped\n"
	"  aokvqa   A-OKVQA JSON: choices, correct_choice_idx, rationales; no type\n"
	"           unless --type names one\n"
	"  coco     COCO captions and instances JSON: one pool record per image,\n"
	"           boxes as [x1, y1, x2, y2] fractions of the image size\n"
	"\n"
	"  --images DIR      mmbench: where the images are written (required); the\n"
	"                    others: a directory put before each image's file name\n"
	"  --type T          mmbench: the column giving the type, category (default)\n"
	"                    or l2-category; aokvqa: the type of every item\n"
	"  --captions FILE   coco: captions_*.json\n"
	"  --instances FILE  coco: instances_*.json\n"
	"  --skip-bad        leave out bad records (named on stderr, the first ten,\n"
	"                    and counted) instead of failing\n"
	MLDE_HELP_OUTPUT
	"  -q, --quiet       errors only\n"
	MLDE_HELP_VERBOSE
	"\n"
	"Exit status: 0 success, 1 bad input, 2 usage, 3 I/O error (see mlde(7)).\n";

enum { OPT_IMAGES = MLDE_OPT_FIRST_PRIVATE, OPT_TYPE, OPT_CAPTIONS, OPT_INSTANCES,
       OPT_SKIP_BAD };

static const struct option longopts[] = {
	MLDE_COMMON_LONGOPTS,
	{ "images", required_argument, 0, OPT_IMAGES },
	{ "type", required_argument, 0, OPT_TYPE },
	{ "captions", required_argument, 0, OPT_CAPTIONS },
	{ "instances", required_argument, 0, OPT_INSTANCES },
	{ "skip-bad", no_argument, 0, OPT_SKIP_BAD },
	{ 0, 0, 0, 0 },
};

enum format { F_MMBENCH, F_SEED, F_AOKVQA, F_COCO };
static const char *const format_names[] = { "mmbench", "seed", "aokvqa", "coco" };

/* The bad records named on stderr before only counting them. */
#define MAX_SKIP_MESSAGES 10

typedef struct options {
	enum format format;
	const char *input;       /* "-": stdin */
	const char *images, *type, *captions, *instances;
	bool skip_bad;
} options;

typedef struct run {
	const options *opt;
	mlde_sink *out;
	unsigned long read, written, bad, video;
	mlde_image_store images;
} run;

/* A bad record: named and counted with --skip-bad (0: go on), else -1
 * with err as it is. */
static int on_bad(void *ctx, const mlde_error *err)
{
	run *R = ctx;

	if (!R->opt->skip_bad || err->status != MLDE_EXIT_DATA)
		return -1;
	if (++R->bad <= MAX_SKIP_MESSAGES)
		mlde_warn("skipped: %s", err->msg);
	return 0;
}

static int put(run *R, jv rec, mlde_error *err)
{
	mlde_sink_put(R->out, rec);
	R->written++;
	return mlde_sink_error(R->out, err);
}

/* ---- the formats ---- */

static int import_mmbench(run *R, mlde_error *err)
{
	const options *o = R->opt;
	mlde_tsv *t = mlde_tsv_open(o->input, err);
	mlde_mmbench *m = NULL;
	int rc = t ? mlde_tsv_next(t, err) : -1;

	if (rc == 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: empty: no header row", mlde_tsv_name(t));
		rc = -1;
	}
	if (rc > 0 && !(m = mlde_mmbench_new(t, o->type && strcmp(o->type, "l2-category") == 0
					     ? MLDE_MMBENCH_L2_CATEGORY : MLDE_MMBENCH_CATEGORY,
					     &R->images, err)))
		rc = -1;
	while (rc > 0 && (rc = mlde_tsv_next(t, err)) > 0) {
		jv item;

		R->read++;
		if (mlde_mmbench_item(m, t, &item, err) < 0)
			rc = on_bad(R, err) < 0 ? -1 : 1;
		else if (put(R, item, err) < 0)
			rc = -1;
	}
	mlde_mmbench_free(m);
	mlde_tsv_close(t);
	return rc;
}

/* The elements of list (consumed) through the format's converter. */
static int import_list(run *R, jv list, const char *name, mlde_error *err)
{
	const options *o = R->opt;
	int n = jv_array_length(jv_copy(list)), rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		jv q = jv_array_get(jv_copy(list), i), item;
		char where[600], *id = jv_get_kind(q) == JV_KIND_OBJECT
				       ? mlde_import_id(q, "question_id") : NULL;
		int got;

		snprintf(where, sizeof where, "%s: %s[%d]%s%s%s", name,
			 o->format == F_SEED ? "questions" : "", i, id ? " (question_id " : "",
			 id ? id : "", id ? ")" : "");
		free(id);
		R->read++;
		got = o->format == F_SEED ? mlde_seed_item(q, o->images, where, &item, err)
		      : mlde_aokvqa_item(q, o->type, o->images, where, &item, err);
		jv_free(q);
		if (got < 0)
			rc = on_bad(R, err);
		else if (o->format == F_SEED && got == 0)
			R->video++;
		else
			rc = put(R, item, err);
	}
	jv_free(list);
	return rc;
}

static int import_json(run *R, mlde_error *err)
{
	const options *o = R->opt;
	const char *name = strcmp(o->input, "-") == 0 ? "<stdin>" : o->input;
	jv file, list;

	if (mlde_import_load_json(o->input, &file, err) < 0)
		return -1;
	if (o->format == F_SEED)
		return mlde_seed_questions(file, name, &list, err) < 0 ? -1
		       : import_list(R, list, name, err);
	if (jv_get_kind(file) != JV_KIND_ARRAY) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: expected a list of questions, got %s",
			       name, mlde_kind_name(jv_get_kind(file)));
		jv_free(file);
		return -1;
	}
	return import_list(R, file, name, err);
}

static int import_coco(run *R, mlde_error *err)
{
	const options *o = R->opt;
	mlde_coco_opts co = { .images = o->images, .captions_path = o->captions,
			      .instances_path = o->instances, .on_bad = on_bad, .ctx = R };
	mlde_coco_counts n;
	jv captions, instances, pool;
	int rc, len;

	if (mlde_import_load_json(o->captions, &captions, err) < 0)
		return -1;
	if (mlde_import_load_json(o->instances, &instances, err) < 0) {
		jv_free(captions);
		return -1;
	}
	if (mlde_coco_pool(captions, instances, &co, &pool, &n, err) < 0)
		return -1;
	len = jv_array_length(jv_copy(pool));
	rc = 0;
	for (int i = 0; i < len && rc == 0; i++)
		rc = put(R, jv_array_get(jv_copy(pool), i), err);
	jv_free(pool);
	if (rc < 0)
		return -1;
	R->read = n.captions + n.objects + n.stray_captions + n.stray_objects + n.bad;
	mlde_note(0, "%lu captions and %lu objects on %lu images; %lu images listed with no "
		  "annotation left out", n.captions, n.objects, n.images, n.unannotated);
	if (n.only_captions || n.only_instances)
		mlde_warn("%lu images only in %s, %lu only in %s (written with what that file "
			  "gives)", n.only_captions, o->captions, n.only_instances, o->instances);
	if (n.stray_captions || n.stray_objects)
		mlde_warn("%lu captions and %lu objects of images in neither images list left out",
			  n.stray_captions, n.stray_objects);
	return 0;
}

/* ---- options and the summary ---- */

static void check_options(const mlde_cli *cli, options *o)
{
	const char *f = format_names[o->format];

	if (o->format == F_MMBENCH) {
		if (!o->images)
			mlde_cli_usage_error(cli, "mmbench: --images DIR is required (the TSV "
					     "embeds its images)");
		if (o->type && strcmp(o->type, "category") != 0 &&
		    strcmp(o->type, "l2-category") != 0)
			mlde_cli_usage_error(cli, "--type: '%s' is not one of category, "
					     "l2-category", o->type);
	}
	if (o->type && (o->format == F_SEED || o->format == F_COCO))
		mlde_cli_usage_error(cli, "%s: --type does not apply (%s)", f,
				     o->format == F_SEED ? "SEED-Bench names the type"
				     : "pool records have no type");
	if (o->type && !*o->type)
		mlde_cli_usage_error(cli, "--type: empty");
	if (o->format != F_COCO && (o->captions || o->instances))
		mlde_cli_usage_error(cli, "%s: --%s is for coco", f,
				     o->captions ? "captions" : "instances");
	if (o->format == F_COCO && (!o->captions || !o->instances))
		mlde_cli_usage_error(cli, "coco: --captions FILE and --instances FILE are "
				     "required");
}

static void parse_options(mlde_cli *cli, int *argc, char **argv, options *o)
{
	static const char shortopts[] = MLDE_COMMON_SHORTOPTS;
	int c, i;

	mlde_cli_init(cli, "mlde-import", argc, argv, shortopts, longopts);
	while ((c = getopt_long(*argc, argv, shortopts, longopts, NULL)) != -1) {
		if (mlde_cli_common(cli, c, optarg))
			continue;
		switch (c) {
		case OPT_IMAGES:
			if (!*optarg)
				mlde_cli_usage_error(cli, "--images: empty directory name");
			o->images = optarg;
			break;
		case OPT_TYPE: o->type = optarg; break;
		case OPT_CAPTIONS: o->captions = optarg; break;
		case OPT_INSTANCES: o->instances = optarg; break;
		case OPT_SKIP_BAD: o->skip_bad = true; break;
		default:
			mlde_cli_usage_error(cli, "unhandled option");
		}
	}
	if (optind >= *argc)
		mlde_cli_usage_error(cli, "which format? mmbench, seed, aokvqa or coco");
	for (i = 0; i < 4 && strcmp(argv[optind], format_names[i]) != 0; i++)
		;
	if (i == 4)
		mlde_cli_usage_error(cli, "unknown format '%s' (mmbench, seed, aokvqa or coco)",
				     argv[optind]);
	o->format = (enum format)i;
	o->input = optind + 1 < *argc ? argv[optind + 1] : "-";
	if (optind + 2 < *argc || (o->format == F_COCO && optind + 1 < *argc))
		mlde_cli_usage_error(cli, "unexpected argument '%s'",
				     argv[o->format == F_COCO ? optind + 1 : optind + 2]);
	check_options(cli, o);
}

static const char *plural(unsigned long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void summary(const run *R)
{
	const options *o = R->opt;
	const char *what = o->format == F_COCO ? "pool record" : "item";

	if (o->format == F_COCO)
		mlde_note(0, "%s + %s: %lu %s%s written, %lu bad %s skipped", o->captions,
			  o->instances, R->written, what, plural(R->written, "", "s"), R->bad,
			  plural(R->bad, "entry", "entries"));
	else
		mlde_note(0, "%s: %lu %s read, %lu %s%s written, %lu bad skipped",
			  strcmp(o->input, "-") == 0 ? "<stdin>" : o->input, R->read,
			  o->format == F_MMBENCH ? plural(R->read, "row", "rows")
			  : plural(R->read, "question", "questions"),
			  R->written, what, plural(R->written, "", "s"), R->bad);
	if (R->video)
		mlde_note(0, "%lu video %s skipped: mlde evaluates image questions only",
			  R->video, plural(R->video, "question", "questions"));
	if (o->format == F_MMBENCH)
		mlde_note(0, "images in %s: %lu written, %lu there already", o->images,
			  R->images.written, R->images.reused);
	if (R->bad > MAX_SKIP_MESSAGES)
		mlde_warn("skipped %lu bad records in all (the first %d named above)", R->bad,
			  MAX_SKIP_MESSAGES);
}

int main(int argc, char **argv)
{
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	options opt = { 0 };
	run R = { .opt = &opt };
	mlde_output out;
	mlde_error err;
	int rc;

	parse_options(&cli, &argc, argv, &opt);
	R.images.dir = opt.images;
	out = mlde_cli_output(&cli);

	mlde_error_clear(&err);
	rc = opt.format == F_MMBENCH ? mlde_image_store_make(opt.images, &err) : 0;
	if (rc == 0)
		rc = mlde_sink_open(&R.out, &out, &err);
	if (rc == 0)
		rc = opt.format == F_MMBENCH ? import_mmbench(&R, &err)
		     : opt.format == F_COCO ? import_coco(&R, &err) : import_json(&R, &err);
	if (rc == 0)
		rc = mlde_sink_close(&R.out, &err);
	if (rc == 0)
		summary(&R);

	/* the one way out: an output still open is given up (its FILE.tmp
	 * removed) */
	mlde_sink_abort(&R.out);
	if (rc < 0)
		mlde_die_error(&err);
	return MLDE_EXIT_OK;
}
