/* mlde-world - the embedded default world: render synthetic scenes as PNG
 * files and write the pool, base (training), val and test sets about them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "io/jsonl.h"
#include "io/png.h"
#include "world/world.h"

#define SYNOPSIS "mlde-world [-qv] [-LEVEL] --seed S --out DIR [--images N] " \
	"[--base N] [--val N] [--test N] [--mix default|uniform|TYPE=W,...] [--annotate]"

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
	"  -0 .. -19, --level N\n"
	"                    zstd level (default 3; 0 is libzstd's default)\n"
	"  -q, --quiet       errors only\n"
	"  -v, --verbose     more notes on stderr\n"
	"  -h, --help, --version\n"
	"\n"
	"Types: scene_understanding instance_identity instance_attributes\n"
	"instance_location instances_counting spatial_relation instance_interaction\n"
	"visual_reasoning text_understanding\n"
	"\n"
	"Exit status: 0 success, 2 usage, 3 I/O error (see mlde(7)).\n";

enum { OPT_SEED = MLDE_OPT_FIRST_PRIVATE, OPT_OUT, OPT_IMAGES, OPT_BASE, OPT_VAL,
       OPT_TEST, OPT_MIX, OPT_ANNOTATE };

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
	long images, base, val, test;
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

/* n items split by weight, the remainders to the largest fractions (ties to
 * the earlier type), as a shuffled list of types. */
static int *type_order(long n, const double *w, mlde_rng *rng)
{
	long count[MLDE_WORLD_NTYPES], given = 0;
	double frac[MLDE_WORLD_NTYPES], sum = 0.0;
	int *order = mlde_xmalloc((size_t)n * sizeof *order);
	long k = 0;

	for (int t = 0; t < MLDE_WORLD_NTYPES; t++)
		sum += w[t];
	for (int t = 0; t < MLDE_WORLD_NTYPES; t++) {
		double q = sum > 0.0 ? (double)n * w[t] / sum : 0.0;

		count[t] = (long)q;
		frac[t] = w[t] > 0.0 ? q - (double)count[t] : -1.0;
		given += count[t];
	}
	for (; given < n; given++) {
		int best = 0;

		for (int t = 1; t < MLDE_WORLD_NTYPES; t++)
			if (frac[t] > frac[best])
				best = t;
		count[best]++;
		frac[best] = -1.0;
	}
	for (int t = 0; t < MLDE_WORLD_NTYPES; t++)
		for (long i = 0; i < count[t]; i++)
			order[k++] = t;
	mlde_rng_shuffle(rng, order, (size_t)n, sizeof *order);
	return order;
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0777) < 0 && errno != EEXIST)
		mlde_die(MLDE_EXIT_IO, "%s: cannot make directory: %s", path, strerror(errno));
}

/* The pixels of every image written so far, by 64-bit hash, so that no val
 * or test image repeats a pool or base image (tiny scenes can coincide). */
typedef struct seen_set {
	uint64_t *slots;  /* 0 is empty */
	size_t n, cap;
} seen_set;

static uint64_t pixel_hash(const unsigned char *rgb, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ rgb[i]) * 1099511628211ULL;
	return h ? h : 1;
}

static bool seen_has(const seen_set *t, uint64_t h)
{
	if (!t->cap)
		return false;
	for (size_t i = h & (t->cap - 1); t->slots[i]; i = (i + 1) & (t->cap - 1))
		if (t->slots[i] == h)
			return true;
	return false;
}

static void seen_add(seen_set *t, uint64_t h)
{
	size_t i;

	if (2 * (t->n + 1) > t->cap) {
		seen_set g = { NULL, 0, t->cap ? 2 * t->cap : 1024 };

		g.slots = calloc(g.cap, sizeof *g.slots);
		if (!g.slots)
			mlde_die(MLDE_EXIT_INTERNAL, "out of memory");
		for (size_t j = 0; j < t->cap; j++)
			if (t->slots[j])
				seen_add(&g, t->slots[j]);
		free(t->slots);
		*t = g;
	}
	for (i = h & (t->cap - 1); t->slots[i]; i = (i + 1) & (t->cap - 1))
		if (t->slots[i] == h)
			return;
	t->slots[i] = h;
	t->n++;
}

typedef struct output {
	const options *opt;
	mlde_writer *w;
	char *path;         /* DIR/name.jsonl.zst */
	char *image_path;   /* DIR/images/..., rewritten per image */
	size_t image_len;
	unsigned char rgb[MLDE_WORLD_SIDE * MLDE_WORLD_SIDE * 3];
} output;

static void open_set(output *o, const options *opt, enum set_id set)
{
	mlde_output spec = { .level = opt->level, .plain = 0 };
	mlde_error err;
	size_t n = strlen(opt->out) + 64;

	mlde_error_clear(&err);
	o->opt = opt;
	o->path = mlde_xmalloc(n);
	snprintf(o->path, n, "%s/%s.jsonl.zst", opt->out, set_names[set]);
	o->image_len = n;
	o->image_path = mlde_xmalloc(n);
	spec.path = o->path;
	o->w = mlde_writer_open(&spec, &err);
	if (!o->w)
		mlde_die_error(&err);
}

static void fail(output *o, const mlde_error *err)
{
	mlde_writer_abort(o->w);
	mlde_die_error(err);
}

/* Write the pixels in o->rgb to DIR/images/SET-K.png; returns the image's
 * name relative to DIR, in image_path after the directory part. */
static const char *write_image(output *o, enum set_id set, long k)
{
	mlde_image img = { MLDE_WORLD_SIDE, MLDE_WORLD_SIDE, o->rgb };
	size_t dir = strlen(o->opt->out) + 1;
	mlde_error err;

	mlde_error_clear(&err);
	snprintf(o->image_path, o->image_len, "%s/images/%s-%06ld.png", o->opt->out,
		 set_names[set], k);
	if (mlde_png_write(o->image_path, &img, &err) < 0)
		fail(o, &err);
	return o->image_path + dir;
}

static void put(output *o, jv rec)
{
	mlde_error err;

	mlde_error_clear(&err);
	if (mlde_writer_put(o->w, rec, &err) < 0)
		fail(o, &err);
}

static void close_set(output *o, long n, const char *what)
{
	mlde_error err;

	mlde_error_clear(&err);
	if (mlde_writer_close(o->w, &err) < 0)
		mlde_die_error(&err);
	mlde_note(1, "%s: %ld %s", o->path, n, what);
	free(o->path);
	free(o->image_path);
}

static void write_pool(const options *opt, seen_set *seen)
{
	output o;
	mlde_world_spec spec;

	open_set(&o, opt, SET_POOL);
	mlde_world_spec_default(&spec);
	/* rich in what generation needs: a second object (spatial, interaction),
	 * touching pairs and letters; the world backend must skip a request
	 * whose image cannot carry its type, which costs the rare types most */
	spec.min_obj = 2;
	spec.p_touch = 0.7;
	spec.p_letter = 0.7;
	for (long k = 0; k < opt->images; k++) {
		mlde_rng rng;
		mlde_world_scene s;

		mlde_rng_seed2(&rng, opt->seed, (uint64_t)SET_POOL << 32 | (uint64_t)k);
		mlde_world_scene_make(&s, &spec, &rng);
		mlde_world_render(&s, o.rgb);
		seen_add(seen, pixel_hash(o.rgb, sizeof o.rgb));
		put(&o, mlde_world_scene_record(&s, write_image(&o, SET_POOL, k)));
	}
	close_set(&o, opt->images, "pool records");
}

/* Items of one set.  Pool and base images go into seen; a val or test
 * image already there is drawn again from the item's next stream. */
static void write_items(const options *opt, enum set_id set, long n, const double *mix,
			seen_set *seen)
{
	output o;
	mlde_rng rng;
	int *order;
	long per_type[MLDE_WORLD_NTYPES] = { 0 };

	mlde_rng_seed2(&rng, opt->seed, (uint64_t)set << 32 | ORDER_STREAM);
	order = type_order(n, mix, &rng);
	open_set(&o, opt, set);
	for (long k = 0; k < n; k++) {
		mlde_world_scene s;
		mlde_world_item item;
		const char *image;
		char id[32];
		jv rec;

		for (uint64_t again = 0;; again++) {
			uint64_t h;

			mlde_rng_seed2(&rng, opt->seed, again << 40 | (uint64_t)set << 32 | (uint64_t)k);
			mlde_world_make_item(order[k], &rng, &s, &item);
			mlde_world_render(&s, o.rgb);
			h = pixel_hash(o.rgb, sizeof o.rgb);
			if (set == SET_BASE || !seen_has(seen, h) || again == 1000) {
				if (set == SET_BASE)
					seen_add(seen, h);
				break;
			}
			mlde_note(2, "%s-%06ld: the image of a pool or base item, drawn again",
				  set_names[set], k);
		}
		image = write_image(&o, set, k);
		snprintf(id, sizeof id, "%s-%06ld", set_names[set], k);
		rec = mlde_world_item_record(&item, id, image);
		if (opt->annotate)
			rec = jv_object_set(rec, jv_string("scene"),
					    mlde_world_scene_record(&s, image));
		put(&o, rec);
		per_type[order[k]]++;
	}
	close_set(&o, n, "items");
	for (int t = 0; t < MLDE_WORLD_NTYPES; t++)
		mlde_note(2, "%s: %s %ld", set_names[set], mlde_world_type_names[t], per_type[t]);
	free(order);
}

int main(int argc, char **argv)
{
	static const char shortopts[] = ":qvh";
	static const double uniform[MLDE_WORLD_NTYPES] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	options opt = { .images = 1000, .base = 4000, .val = 900, .test = 900 };
	bool have_seed = false;
	seen_set seen = { 0 };
	char *images_dir;
	size_t n;
	int c;

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

	make_dir(opt.out);
	n = strlen(opt.out) + sizeof "/images";
	images_dir = mlde_xmalloc(n);
	snprintf(images_dir, n, "%s/images", opt.out);
	make_dir(images_dir);
	free(images_dir);

	write_pool(&opt, &seen);
	write_items(&opt, SET_BASE, opt.base, opt.mix, &seen);
	write_items(&opt, SET_VAL, opt.val, uniform, &seen);
	write_items(&opt, SET_TEST, opt.test, uniform, &seen);
	free(seen.slots);
	mlde_warn("%ld pool images, %ld base, %ld val and %ld test items in %s", opt.images,
		  opt.base, opt.val, opt.test, opt.out);
	return MLDE_EXIT_OK;
}
