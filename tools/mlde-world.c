/* mlde-world - the embedded default world: render synthetic scenes as PNG
 * files and write the pool, base (training), val and test sets about them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/hash.h"
#include "base/par.h"
#include "cli/cli.h"
#include "io/atomic.h"
#include "io/jsonl.h"
#include "io/png.h"
#include "sample/abs.h"
#include "world/world.h"

#define SYNOPSIS "mlde-world [-qv] [-LEVEL] --seed S --out DIR [--images N] " \
	"[--base N] [--val N] [--test N] [--mix default|uniform|TYPE=W,...] [--annotate] [--threads T]"

static const char help[] =
	"Render synthetic scenes (64x64 PNG files under DIR/images/) and write four\n"
	"zstd JSON Lines files: DIR/pool.jsonl.zst (one annotated pool record per\n"
	"image), DIR/base.jsonl.zst (training items, mixed by --mix),\n"
	"DIR/val.jsonl.zst and DIR/test.jsonl.zst (items balanced by type).  Every\n"
	"item has its own image; pool, base, val and test images never coincide.\n"
	"Same seed and options, same bytes.\n"
	"\n"
	"  --seed S          the world's seed (required)\n"
	"  --out DIR         the output directory, made if missing (required)\n"
	"  --images N        pool images (default 1000)\n"
	"  --base N          base items (default 4000)\n"
	"  --val N           val items (default 900)\n"
	"  --test N          test items (default 900)\n"
	"  --mix MIX         the base set's type mix: default (uneven, see\n"
	"                    mlde-world(1)), uniform, or TYPE=W,... (relative\n"
	"                    weights; a type not named gets none)\n"
	"  --annotate        add each item's scene (a pool record) as \"scene\"\n"
	"  --threads T       threads that render and write the images (default 1;\n"
	"                    the same bytes with any)\n"
	"  -0 .. -19, --level N\n"
	"                    zstd level (default 3; 0 is libzstd's default)\n"
	"  -q, --quiet       errors only\n"
	MLDE_HELP_VERBOSE
	"\n"
	"Types: scene_understanding instance_identity instance_attributes\n"
	"instance_location instances_counting spatial_relation instance_interaction\n"
	"visual_reasoning text_understanding\n"
	"\n"
	"Exit status: 0 success, 2 usage, 3 I/O error (see mlde(7)).\n";

enum { OPT_SEED = MLDE_OPT_FIRST_PRIVATE, OPT_OUT, OPT_IMAGES, OPT_BASE, OPT_VAL,
       OPT_TEST, OPT_MIX, OPT_ANNOTATE, OPT_THREADS };

static const struct option longopts[] = {
	{ "help", no_argument, 0, MLDE_OPT_HELP },
	{ "version", no_argument, 0, MLDE_OPT_VERSION },
	{ "level", required_argument, 0, MLDE_OPT_LEVEL },
	{ "quiet", no_argument, 0, 'q' },
	{ "verbose", no_argument, 0, 'v' },
	{ "seed", required_argument, 0, OPT_SEED },
	{ "out", required_argument, 0, OPT_OUT },
	{ "images", required_argument, 0, OPT_IMAGES },
	{ "base", required_argument, 0, OPT_BASE },
	{ "val", required_argument, 0, OPT_VAL },
	{ "test", required_argument, 0, OPT_TEST },
	{ "mix", required_argument, 0, OPT_MIX },
	{ "annotate", no_argument, 0, OPT_ANNOTATE },
	{ "threads", required_argument, 0, OPT_THREADS },
	{ 0, 0, 0, 0 },
};

/* Relative weights of the default base mix: plenty of the easy perceptual
 * types, little of the relational ones and of letters, so the baseline has
 * clear weak spots for the loop to find.  Letters are scarce because they
 * are learned quickly once there is data: with 2 (their first weight)
 * the baseline already knew them and the loop had little to show.
 * Order of mlde_world_type_names. */
static const double default_mix[MLDE_WORLD_NTYPES] = {
	3.0,  /* scene_understanding */
	2.0,  /* instance_identity */
	3.0,  /* instance_attributes */
	3.0,  /* instance_location */
	1.0,  /* instances_counting */
	1.0,  /* spatial_relation */
	0.5,  /* instance_interaction */
	0.5,  /* visual_reasoning */
	0.5,  /* text_understanding */
};

/* The image ranges of the four sets, and the rng streams they draw from:
 * item k of a set has its own stream, so one set never changes with the
 * size of another. */
enum set_id { SET_POOL = 1, SET_BASE, SET_VAL, SET_TEST };
static const char *const set_names[] = { NULL, "pool", "base", "val", "test" };
#define ORDER_STREAM 0xffffffffULL

typedef struct options {
	unsigned long long seed;
	const char *out;
	long images, base, val, test, threads;
	double mix[MLDE_WORLD_NTYPES];
	bool annotate;
	int level;
} options;

static void parse_mix(const mlde_cli *cli, const char *arg, double *mix)
{
	char *copy, *tok, *save = NULL;
	double sum = 0.0;

	if (strcmp(arg, "default") == 0) {
		memcpy(mix, default_mix, sizeof default_mix);
		return;
	}
	for (int t = 0; t < MLDE_WORLD_NTYPES; t++)
		mix[t] = strcmp(arg, "uniform") == 0 ? 1.0 : 0.0;
	if (strcmp(arg, "uniform") == 0)
		return;
	copy = mlde_xstrdup(arg);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int t;

		if (!eq)
			mlde_cli_usage_error(cli, "--mix: '%s' is not TYPE=WEIGHT", tok);
		*eq = '\0';
		t = mlde_world_type_from_name(tok);
		if (t < 0)
			mlde_cli_usage_error(cli, "--mix: unknown type '%s'", tok);
		mix[t] = mlde_cli_double(cli, "--mix", eq + 1, 0.0, 1e6);
		sum += mix[t];
	}
	free(copy);
	if (!(sum > 0.0))
		mlde_cli_usage_error(cli, "--mix: '%s' gives no type a weight", arg);
}

/* n items split by weight (mlde-sample's quotas: floors, then the largest
 * remainders), as a shuffled list of types. */
static int *type_order(long n, const double *w, mlde_rng *rng)
{
	long count[MLDE_WORLD_NTYPES], k = 0;
	int *order = mlde_xmalloc((size_t)n * sizeof *order);

	mlde_abs_quotas(w, MLDE_WORLD_NTYPES, n, count);
	for (int t = 0; t < MLDE_WORLD_NTYPES; t++)
		for (long i = 0; i < count[t]; i++)
			order[k++] = t;
	mlde_rng_shuffle(rng, order, (size_t)n, sizeof *order);
	return order;
}

static int make_dir(const char *path, mlde_error *err)
{
	if (mkdir(path, 0777) < 0 && errno != EEXIST) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: cannot make directory: %s", path,
			       strerror(errno));
		return -1;
	}
	return 0;
}

/* How many times a val or test item is drawn again while its image is that
 * of a pool or base item, before mlde-world gives up rather than leak. */
#define MAX_REDRAWS 1000

/* Images are drawn, rendered and written CHUNK at a time on the threads;
 * then the main thread takes their records in order. */
#define CHUNK 256

/* The four sets, written side by side and renamed together at the end, so
 * a failed run leaves no set file that looks finished. */
typedef struct output {
	const options *opt;
	mlde_writer *w[SET_TEST + 1];  /* by set_id; NULL when not open */
	char *path[SET_TEST + 1];      /* DIR/name.jsonl.zst */
	long n[SET_TEST + 1];          /* records written */
	char *image_path;              /* DIR/images/..., rewritten per image */
	size_t image_len;
	bool all_seen;                 /* MLDE_WORLD_TEST_LEAK: see draw_unseen */
} output;

/* One image of a chunk, as a thread made it. */
typedef struct drawn {
	mlde_world_scene s;
	mlde_world_item item;          /* not for the pool */
	uint64_t hash;                 /* of its pixels */
	unsigned redraws;              /* val, test: draws that gave a seen image */
	bool failed;                   /* err says why */
	mlde_error err;
} drawn;

/* A chunk of one set: images first .. first + n - 1 of it. */
typedef struct chunk {
	output *o;
	enum set_id set;
	long first;
	const int *types;              /* the set's types by item (not the pool) */
	const mlde_world_spec *spec;   /* the pool's scenes */
	const mlde_u64set *seen;       /* pool and base images, for val and test */
	drawn d[CHUNK];
	/* each thread's own: the pixels it renders, the path it writes */
	unsigned char (*rgb)[MLDE_WORLD_SIDE * MLDE_WORLD_SIDE * 3];
	char **image_path;
	size_t image_len;
} chunk;

static int open_set(output *o, enum set_id set, mlde_error *err)
{
	mlde_output spec = { .level = o->opt->level, .plain = 0 };
	size_t n = strlen(o->opt->out) + 64;

	o->path[set] = mlde_xmalloc(n);
	snprintf(o->path[set], n, "%s/%s.jsonl.zst", o->opt->out, set_names[set]);
	if (!o->image_path) {
		o->image_len = n;
		o->image_path = mlde_xmalloc(n);
	}
	spec.path = o->path[set];
	o->w[set] = mlde_writer_open(&spec, err);
	return o->w[set] ? 0 : -1;
}

/* DIR/images/SET-K.png into path (len bytes). */
static void image_file(const output *o, enum set_id set, long k, char *path, size_t len)
{
	snprintf(path, len, "%s/images/%s-%06ld.png", o->opt->out, set_names[set], k);
}

static int put(output *o, enum set_id set, jv rec, mlde_error *err)
{
	if (mlde_writer_put(o->w[set], rec, err) < 0)
		return -1;
	o->n[set]++;
	return 0;
}

/* Rename the four sets into place, in order, once the images they name
 * are on disk (written without a sync each: one for them all). */
static int commit_sets(output *o, mlde_error *err)
{
	size_t n = strlen(o->opt->out) + sizeof "/images";
	char *images = mlde_xmalloc(n);
	int rc;

	snprintf(images, n, "%s/images", o->opt->out);
	rc = mlde_atomic_sync_fs(images, err);
	free(images);
	if (rc < 0 || mlde_writer_commit_all(o->w, SET_TEST + 1, err) < 0)
		return -1;
	for (int set = SET_POOL; set <= SET_TEST; set++)
		mlde_note(1, "%s: %ld %s", o->path[set], o->n[set],
			  set == SET_POOL ? "pool records" : "items");
	return 0;
}

/* Give up every set still open (removing its FILE.tmp) and free o. */
static void output_free(output *o)
{
	for (int set = SET_POOL; set <= SET_TEST; set++) {
		mlde_writer_abort(o->w[set]);
		free(o->path[set]);
	}
	free(o->image_path);
}

/* Draw item k of a val or test set until its image is none of seen (the
 * pool and base images): fail, rather than leak a benchmark image into
 * training data, after MAX_REDRAWS draws.  MLDE_WORLD_TEST_LEAK in the
 * environment makes every image count as seen, for the test of that. */
static int draw_unseen(const chunk *c, long k, drawn *d, unsigned char *rgb)
{
	const output *o = c->o;

	for (uint64_t again = 0; again <= MAX_REDRAWS; again++) {
		mlde_rng rng;

		mlde_rng_seed2(&rng, o->opt->seed, again << 40 | (uint64_t)c->set << 32 | (uint64_t)k);
		mlde_world_make_item(c->types[k], &rng, &d->s, &d->item);
		mlde_world_render(&d->s, rgb);
		if (!o->all_seen && !mlde_u64set_has(c->seen, mlde_fnv1a(rgb, sizeof *c->rgb)))
			return 0;
		d->redraws++;
	}
	mlde_error_set(&d->err, MLDE_EXIT_INTERNAL, "%s-%06ld: %d draws in a row gave the image "
		       "of a pool or base item (a benchmark leak): no set written", set_names[c->set],
		       k, MAX_REDRAWS + 1);
	return -1;
}

/* Image i of chunk c, on thread tid: drawn, rendered, hashed and written. */
static void draw_one(void *ctx, size_t i, int tid)
{
	chunk *c = ctx;
	const output *o = c->o;
	long k = c->first + (long)i;
	drawn *d = &c->d[i];
	unsigned char *rgb = c->rgb[tid];
	mlde_image img = { MLDE_WORLD_SIDE, MLDE_WORLD_SIDE, rgb };
	mlde_rng rng;

	d->redraws = 0;
	d->failed = false;
	mlde_error_clear(&d->err);
	mlde_rng_seed2(&rng, o->opt->seed, (uint64_t)c->set << 32 | (uint64_t)k);
	if (c->set == SET_POOL) {
		mlde_world_scene_make(&d->s, c->spec, &rng);
		mlde_world_render(&d->s, rgb);
	} else if (c->set == SET_BASE) {
		mlde_world_make_item(c->types[k], &rng, &d->s, &d->item);
		mlde_world_render(&d->s, rgb);
	} else if (draw_unseen(c, k, d, rgb) < 0) {
		d->failed = true;
		return;
	}
	d->hash = mlde_fnv1a(rgb, sizeof *c->rgb);
	image_file(o, c->set, k, c->image_path[tid], c->image_len);
	if (mlde_png_write_unsynced(c->image_path[tid], &img, &d->err) < 0)
		d->failed = true;
}

/* The record of image i of chunk c, its image named relative to DIR. */
static jv record_of(chunk *c, size_t i)
{
	output *o = c->o;
	long k = c->first + (long)i;
	const drawn *d = &c->d[i];
	const char *image;
	char id[32];
	jv rec;

	image_file(o, c->set, k, o->image_path, o->image_len);
	image = o->image_path + strlen(o->opt->out) + 1;
	if (c->set == SET_POOL)
		return mlde_world_scene_record(&d->s, image);
	snprintf(id, sizeof id, "%s-%06ld", set_names[c->set], k);
	rec = mlde_world_item_record(&d->item, id, image);
	if (o->opt->annotate)
		rec = jv_object_set(rec, jv_string("scene"), mlde_world_scene_record(&d->s, image));
	return rec;
}

/* The n images of a set, CHUNK at a time on the threads, and their records
 * in order; the images of the pool and base go into seen, those of val and
 * test never repeat one of seen.  The first image that failed fails the
 * set. */
static int write_set(output *o, enum set_id set, long n, const int *types,
		     const mlde_world_spec *spec, mlde_u64set *seen, mlde_error *err)
{
	int threads = (int)o->opt->threads;
	chunk *c = mlde_xcalloc(1, sizeof *c);
	int rc = 0;

	*c = (chunk){ .o = o, .set = set, .types = types, .spec = spec, .seen = seen,
		      .image_len = strlen(o->opt->out) + 64 };
	c->rgb = mlde_xmalloc((size_t)threads * sizeof *c->rgb);
	c->image_path = mlde_xmalloc((size_t)threads * sizeof *c->image_path);
	for (int t = 0; t < threads; t++)
		c->image_path[t] = mlde_xmalloc(c->image_len);
	for (c->first = 0; c->first < n && rc == 0; c->first += CHUNK) {
		size_t m = (size_t)(n - c->first < CHUNK ? n - c->first : CHUNK);

		mlde_par_for(threads, m, draw_one, c);
		for (size_t i = 0; i < m && rc == 0; i++) {
			drawn *d = &c->d[i];

			for (unsigned r = 0; r < d->redraws; r++)
				mlde_note(2, "%s-%06ld: the image of a pool or base item, drawn again",
					  set_names[set], c->first + (long)i);
			if (d->failed) {
				*err = d->err;
				rc = -1;
				break;
			}
			if (set == SET_POOL || set == SET_BASE)
				mlde_u64set_add(seen, d->hash);
			rc = put(o, set, record_of(c, i), err);
		}
	}
	for (int t = 0; t < threads; t++)
		free(c->image_path[t]);
	free(c->image_path);
	free(c->rgb);
	free(c);
	return rc;
}

static int write_pool(output *o, mlde_u64set *seen, mlde_error *err)
{
	mlde_world_spec spec;

	if (open_set(o, SET_POOL, err) < 0)
		return -1;
	mlde_world_spec_default(&spec);
	/* rich in what generation needs: a second object (spatial, interaction),
	 * touching pairs and letters; the world backend must skip a request
	 * whose image cannot carry its type, which costs the rare types most */
	spec.min_obj = 2;
	spec.p_touch = 0.7;
	spec.p_letter = 0.7;
	return write_set(o, SET_POOL, o->opt->images, NULL, &spec, seen, err);
}

/* The n items of one set, their types mixed by mix. */
static int write_items(output *o, enum set_id set, long n, const double *mix,
		       mlde_u64set *seen, mlde_error *err)
{
	long per_type[MLDE_WORLD_NTYPES] = { 0 };
	mlde_rng rng;
	int *order, rc;

	mlde_rng_seed2(&rng, o->opt->seed, (uint64_t)set << 32 | ORDER_STREAM);
	order = type_order(n, mix, &rng);
	rc = open_set(o, set, err);
	if (rc == 0)
		rc = write_set(o, set, n, order, NULL, seen, err);
	if (rc == 0) {
		for (long k = 0; k < n; k++)
			per_type[order[k]]++;
		for (int t = 0; t < MLDE_WORLD_NTYPES; t++)
			mlde_note(2, "%s: %s %ld", set_names[set], mlde_world_type_names[t],
				  per_type[t]);
	}
	free(order);
	return rc;
}

/* DIR and DIR/images. */
static int make_dirs(const char *out, mlde_error *err)
{
	size_t n = strlen(out) + sizeof "/images";
	char *images = mlde_xmalloc(n);
	int rc;

	snprintf(images, n, "%s/images", out);
	rc = make_dir(out, err) < 0 || make_dir(images, err) < 0 ? -1 : 0;
	free(images);
	return rc;
}

int main(int argc, char **argv)
{
	static const char shortopts[] = ":qvh";
	static const double uniform[MLDE_WORLD_NTYPES] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	options opt = { .images = 1000, .base = 4000, .val = 900, .test = 900, .threads = 1 };
	bool have_seed = false;
	mlde_u64set seen = { 0 };  /* pixel hashes of the pool and base images: tiny
				    * scenes can coincide, and val or test must not */
	output out = { 0 };
	mlde_error err;
	int c, rc;

	memcpy(opt.mix, default_mix, sizeof default_mix);
	mlde_cli_init(&cli, "mlde-world", &argc, argv, shortopts, longopts);
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (mlde_cli_common(&cli, c, optarg))
			continue;
		switch (c) {
		case OPT_SEED:
			opt.seed = (unsigned long long)mlde_cli_long(&cli, "--seed", optarg, 0,
								    0x7fffffffffffffffL);
			have_seed = true;
			break;
		case OPT_OUT:
			if (!*optarg)
				mlde_cli_usage_error(&cli, "--out: empty directory name");
			opt.out = optarg;
			break;
		case OPT_IMAGES:
			opt.images = mlde_cli_long(&cli, "--images", optarg, 1, 10000000L);
			break;
		case OPT_BASE:
			opt.base = mlde_cli_long(&cli, "--base", optarg, 0, 10000000L);
			break;
		case OPT_VAL:
			opt.val = mlde_cli_long(&cli, "--val", optarg, 0, 10000000L);
			break;
		case OPT_TEST:
			opt.test = mlde_cli_long(&cli, "--test", optarg, 0, 10000000L);
			break;
		case OPT_MIX:
			parse_mix(&cli, optarg, opt.mix);
			break;
		case OPT_ANNOTATE:
			opt.annotate = true;
			break;
		case OPT_THREADS:
			opt.threads = mlde_cli_long(&cli, "--threads", optarg, 1, 256);
			break;
		default:
			mlde_cli_usage_error(&cli, "unhandled option");
		}
	}
	if (optind < argc)
		mlde_cli_usage_error(&cli, "unexpected argument '%s'", argv[optind]);
	if (!have_seed)
		mlde_cli_usage_error(&cli, "--seed is required");
	if (!opt.out)
		mlde_cli_usage_error(&cli, "--out is required");
	opt.level = cli.out.level;

	mlde_error_clear(&err);
	out.opt = &opt;
	out.all_seen = getenv("MLDE_WORLD_TEST_LEAK") != NULL;
	rc = make_dirs(opt.out, &err);
	if (rc == 0)
		rc = write_pool(&out, &seen, &err);
	if (rc == 0)
		rc = write_items(&out, SET_BASE, opt.base, opt.mix, &seen, &err);
	if (rc == 0)
		rc = write_items(&out, SET_VAL, opt.val, uniform, &seen, &err);
	if (rc == 0)
		rc = write_items(&out, SET_TEST, opt.test, uniform, &seen, &err);
	if (rc == 0)
		rc = commit_sets(&out, &err);
	if (rc == 0)
		mlde_warn("%ld pool images, %ld base, %ld val and %ld test items in %s",
			  opt.images, opt.base, opt.val, opt.test, opt.out);

	/* the one way out: the sets still open are given up (their FILE.tmp
	 * removed), everything freed */
	output_free(&out);
	mlde_u64set_free(&seen);
	if (rc < 0)
		mlde_die_error(&err);
	return MLDE_EXIT_OK;
}
