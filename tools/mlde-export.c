/* mlde-export - items (mlde's records, generated items included) out as the
 * training file of an external trainer: LLaVA's conversation JSON, or
 * LLaMA-Factory's ShareGPT-style records.  The conversions are
 * tools/lib/export/; this file holds the options and the flow.  The output
 * is the trainer's format, one JSON array, not zstd JSON Lines: trainers
 * json.load() the file whole.  It is held in memory and written only when
 * every item converted, so bad input leaves no output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "export/export.h"
#include "io/jsonl.h"

#define SYNOPSIS "mlde-export llava|sharegpt [-qv] [-o FILE] [--rationale] " \
	"[--images-out DIR] [--image-root DIR] [FILE...]"

static const char help[] =
	"Convert items (FILE, or stdin; zstd or plain JSON Lines) into a trainer's\n"
	"training file: one JSON array, one record a line (not zstd, not JSON Lines).\n"
	"  llava     LLaVA's conversation records, as its train.py reads them:\n"
	"            {id, image, conversations: [{from: human, value}, {from: gpt,\n"
	"            value}]}\n"
	"  sharegpt  LLaMA-Factory's ShareGPT-style records: {messages: [{role: user,\n"
	"            content}, {role: assistant, content}], images: [path]}\n"
	"The question turn is \"<image>\", the question, the options as \"A. ...\",\n"
	"and \"" MLDE_EXPORT_INSTRUCTION "\";\n"
	"the answer turn is the letter.\n"
	"\n"
	"  --rationale       the answer turn is the letter, a newline, and the item's\n"
	"                    rationale (when it has one)\n"
	"  --images-out DIR  write data: URI images as DIR/SHA256.EXT (made if\n"
	"                    missing) and refer to them by that path\n"
	"  --image-root DIR  put DIR/ before every relative image path of the items\n"
	"                    (not before the --images-out paths)\n"
	"  -o, --output FILE write FILE (via FILE.tmp, renamed on success)\n"
	"  -q, --quiet       errors only\n"
	MLDE_HELP_VERBOSE
	"\n"
	"Exit status: 0 success, 1 bad input, 2 usage, 3 I/O error (see mlde(7)).\n";

enum { OPT_RATIONALE = MLDE_OPT_FIRST_PRIVATE, OPT_IMAGES_OUT, OPT_IMAGE_ROOT };

/* the shared options but -Z and --level: the output is never zstd */
static const struct option longopts[] = {
	{ "help", no_argument, 0, MLDE_OPT_HELP },
	{ "version", no_argument, 0, MLDE_OPT_VERSION },
	{ "output", required_argument, 0, 'o' },
	{ "quiet", no_argument, 0, 'q' },
	{ "verbose", no_argument, 0, 'v' },
	{ "rationale", no_argument, 0, OPT_RATIONALE },
	{ "images-out", required_argument, 0, OPT_IMAGES_OUT },
	{ "image-root", required_argument, 0, OPT_IMAGE_ROOT },
	{ 0, 0, 0, 0 },
};

static const char *const format_names[] = { "llava", "sharegpt" };

typedef struct run {
	mlde_export_opts opt;
	mlde_image_store images;
	mlde_buf json;          /* the array, until every item is in */
	unsigned long items;
} run;

static void parse_options(mlde_cli *cli, int *argc, char **argv, run *R)
{
	static const char shortopts[] = ":o:qvh";
	int c, i;

	mlde_cli_init(cli, "mlde-export", argc, argv, shortopts, longopts);
	while ((c = getopt_long(*argc, argv, shortopts, longopts, NULL)) != -1) {
		if (mlde_cli_common(cli, c, optarg))
			continue;
		switch (c) {
		case OPT_RATIONALE: R->opt.rationale = true; break;
		case OPT_IMAGES_OUT:
			if (!*optarg)
				mlde_cli_usage_error(cli, "--images-out: empty directory name");
			R->opt.images_out = optarg;
			break;
		case OPT_IMAGE_ROOT:
			if (!*optarg)
				mlde_cli_usage_error(cli, "--image-root: empty directory name");
			R->opt.image_root = optarg;
			break;
		default:
			mlde_cli_usage_error(cli, "unhandled option");
		}
	}
	/* mlde_cli_init took any -N out of argv as a zstd level */
	if (cli->out.level != MLDE_LEVEL_DEFAULT)
		mlde_cli_usage_error(cli, "-%d: the output is JSON, not zstd", cli->out.level);
	if (optind >= *argc)
		mlde_cli_usage_error(cli, "which format? llava or sharegpt");
	for (i = 0; i < 2 && strcmp(argv[optind], format_names[i]) != 0; i++)
		;
	if (i == 2)
		mlde_cli_usage_error(cli, "unknown format '%s' (llava or sharegpt)", argv[optind]);
	R->opt.format = (enum mlde_export_format)i;
	optind++;
}

/* Every item of one file into the array. */
static int export_file(run *R, const char *path, mlde_error *err)
{
	mlde_reader *r = mlde_reader_open(path, err);
	char where[600];
	jv item, rec;
	int got = r ? 1 : -1;

	while (got > 0 && (got = mlde_reader_next(r, &item, err)) > 0) {
		snprintf(where, sizeof where, "%s:%lu", mlde_reader_name(r), mlde_reader_lineno(r));
		if (mlde_export_record(&R->opt, item, where, &rec, err) < 0) {
			jv_free(item);
			got = -1;
			break;
		}
		jv_free(item);
		rec = jv_dump_string(rec, 0);
		mlde_buf_adds(&R->json, R->items++ ? ",\n" : "[\n");
		mlde_buf_adds(&R->json, jv_string_value(rec));
		jv_free(rec);
	}
	if (r)
		mlde_reader_close(r);
	return got < 0 ? -1 : 0;
}

/* The array, written whole. */
static int write_out(run *R, const mlde_cli *cli, mlde_error *err)
{
	mlde_output out = { .path = cli->out.path, .plain = 1 };
	mlde_writer *w;

	mlde_buf_adds(&R->json, R->items ? "\n]\n" : "[]\n");
	if (!(w = mlde_writer_open(&out, err)))
		return -1;
	if (mlde_writer_write(w, R->json.p, R->json.len, err) < 0) {
		mlde_writer_abort(w);
		return -1;
	}
	return mlde_writer_close(w, err);
}

int main(int argc, char **argv)
{
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	run R = { .opt = { .format = MLDE_EXPORT_LLAVA } };
	char *stdin_only[] = { "-", NULL }, **files;
	int nfiles, rc = 0;
	mlde_error err;

	parse_options(&cli, &argc, argv, &R);
	files = optind < argc ? argv + optind : stdin_only;
	nfiles = optind < argc ? argc - optind : 1;

	mlde_error_clear(&err);
	if (R.opt.images_out) {
		R.images.dir = R.opt.images_out;
		R.opt.images = &R.images;
		rc = mlde_image_store_make(R.opt.images_out, &err);
	}
	for (int i = 0; i < nfiles && rc == 0; i++)
		rc = export_file(&R, files[i], &err);
	if (rc == 0)
		rc = write_out(&R, &cli, &err);
	if (rc == 0) {
		mlde_note(0, "%lu item%s exported as %s", R.items, R.items == 1 ? "" : "s",
			  format_names[R.opt.format]);
		if (R.opt.images_out)
			mlde_note(0, "images in %s: %lu written, %lu there already",
				  R.opt.images_out, R.images.written, R.images.reused);
	}

	/* the one way out */
	mlde_buf_free(&R.json);
	if (rc < 0)
		mlde_die_error(&err);
	return MLDE_EXIT_OK;
}
