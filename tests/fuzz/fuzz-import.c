/* fuzz-import.c - libFuzzer target: the importers (import/tsv.c,
 * import/import.c).  The first byte chooses the format of the rest: 0 an
 * MMBench TSV (through a file, as the reader takes one; images stored
 * under a scratch directory), 1 a SEED-Bench file, 2 A-OKVQA questions, 3
 * COCO captions and instances (a JSON array of the two). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jv.h>

#include "import/import.h"
#include "import/tsv.h"

static char scratch[] = "/tmp/mlde-fuzz-import.XXXXXX";
static char tsv_path[sizeof scratch + 16];

static void mmbench(const uint8_t *p, size_t n)
{
	mlde_image_store images = { .dir = scratch };
	mlde_error err = { 0 };
	FILE *f = fopen(tsv_path, "wb");
	mlde_tsv *t;
	mlde_mmbench *m = NULL;
	jv item;

	if (!f)
		abort();
	fwrite(p, 1, n, f);
	fclose(f);
	if (!(t = mlde_tsv_open(tsv_path, &err)))
		return;
	if (mlde_tsv_next(t, &err) > 0)
		m = mlde_mmbench_new(t, p[0] & 1 ? MLDE_MMBENCH_L2_CATEGORY : MLDE_MMBENCH_CATEGORY,
				     &images, &err);
	while (m && mlde_tsv_next(t, &err) > 0) {
		/* an item made is an object; a refusal says why */
		if (mlde_mmbench_item(m, t, &item, &err) == 0) {
			if (jv_get_kind(item) != JV_KIND_OBJECT)
				abort();
			jv_free(item);
		} else if (!err.msg[0]) {
			abort();
		}
	}
	mlde_mmbench_free(m);
	mlde_tsv_close(t);
}

/* Each question of a list (or the value itself) through one JSON importer. */
static void questions(jv list, int format)
{
	mlde_error err = { 0 };
	jv item;
	int n = jv_get_kind(list) == JV_KIND_ARRAY ? jv_array_length(jv_copy(list)) : 0;

	for (int i = 0; i < n && i < 64; i++) {
		jv q = jv_array_get(jv_copy(list), i);
		int rc = format == 1 ? mlde_seed_item(q, "img", "q", &item, &err)
				     : mlde_aokvqa_item(q, NULL, "img", "q", &item, &err) == 0;

		if (rc == 1)
			jv_free(item);
		jv_free(q);
	}
	jv_free(list);
}

static void json(const uint8_t *p, size_t n, int format)
{
	jv v = jv_parse_sized((const char *)p, (int)n), list;
	mlde_error err = { 0 };

	if (!jv_is_valid(v)) {
		jv_free(v);
		return;
	}
	if (format == 1) {
		if (mlde_seed_questions(v, "seed.json", &list, &err) == 0)
			questions(list, 1);
	} else if (format == 2) {
		questions(v, 2);
	} else if (jv_get_kind(v) == JV_KIND_ARRAY && jv_array_length(jv_copy(v)) == 2) {
		mlde_coco_opts o = { .captions_path = "c.json", .instances_path = "i.json" };
		mlde_coco_counts counts;
		jv pool;

		if (mlde_coco_pool(jv_array_get(jv_copy(v), 0), jv_array_get(jv_copy(v), 1), &o,
				   &pool, &counts, &err) == 0)
			jv_free(pool);
		jv_free(v);
	} else {
		jv_free(v);
	}
}

/* The scratch directory and the files in it go at exit. */
static void remove_scratch(void)
{
	DIR *d = opendir(scratch);
	struct dirent *e;
	char path[sizeof scratch + 300];

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!*tsv_path) {
		if (!mkdtemp(scratch))
			abort();
		atexit(remove_scratch);
		snprintf(tsv_path, sizeof tsv_path, "%s/in.tsv", scratch);
	}
	if (size < 1)
		return 0;
	if (data[0] % 4 == 0)
		mmbench(data + 1, size - 1);
	else
		json(data + 1, size - 1, data[0] % 4);
	return 0;
}
