/* import.h - benchmark and image-set files converted into mlde's records
 * (DESIGN.md, "Records"): MMBench TSV, SEED-Bench and A-OKVQA JSON into
 * items, COCO captions and instances into pool records, and the images a
 * TSV embeds written once as files named by their content.  Each importer
 * turns one source record into one mlde record; the program (mlde-import)
 * reads, counts and writes.  Nothing here prints: a bad record comes back
 * as MLDE_EXIT_DATA "WHERE: field 'NAME': what", WHERE naming the file and
 * the line (TSV) or the element (JSON: jv gives no lines), so --skip-bad
 * can count it and go on. */
#ifndef MLDE_IMPORT_H
#define MLDE_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <jv.h>

#include "base/err.h"
#include "import/tsv.h"

/* ---- input ---- */

/* The one JSON value of the file at path ("-": stdin), parsed as it is read
 * (only the value is held, not the text).  0, or -1 with err: MLDE_EXIT_IO
 * (cannot be read), MLDE_EXIT_DATA (not JSON, none or more than one value). */
int mlde_import_load_json(const char *path, jv *out, mlde_error *err);

/* The id under key of rec (an object, borrowed): a non-empty string, or an
 * integer written in decimal; malloc'd, or NULL when neither. */
char *mlde_import_id(jv rec, const char *key);

/* ---- images, written once under a directory ---- */

typedef struct mlde_image_store {
	const char *dir;
	unsigned long written;  /* files written by this store */
	unsigned long reused;   /* images whose file was there already */
} mlde_image_store;

/* Make dir, a store's directory, when it is not there (its parent must
 * be): 0, or -1 with err (MLDE_EXIT_IO, naming it). */
int mlde_image_store_make(const char *dir, mlde_error *err);
/* "png", "jpg", "webp" or "gif" from the signature of the n bytes at p;
 * NULL for anything else. */
const char *mlde_import_image_ext(const void *p, size_t n);
/* Decode the n base64 characters at b64 and make sure DIR/SHA256.EXT holds
 * them (written through DIR/SHA256.EXT.tmp, renamed; left alone when it is
 * there: the name is the content).  *name (malloc'd) is "SHA256.EXT", the
 * path relative to DIR.  -1 with err: MLDE_EXIT_DATA "WHERE: field 'image':
 * ..." for bad base64 or an unknown image type, MLDE_EXIT_IO for a file. */
int mlde_image_store_b64(mlde_image_store *s, const char *b64, size_t n, const char *where,
			 char **name, mlde_error *err);

/* ---- MMBench (TSV) ---- */

/* Which column gives an item its type. */
enum mlde_mmbench_type { MLDE_MMBENCH_CATEGORY, MLDE_MMBENCH_L2_CATEGORY };

typedef struct mlde_mmbench mlde_mmbench;

/* The columns of the header row just read from t (and t told to name its
 * fields by them).  NULL with err naming a missing required column:
 * index, question, answer, image, A, B and the type's column. */
mlde_mmbench *mlde_mmbench_new(mlde_tsv *t, enum mlde_mmbench_type type,
			       mlde_image_store *images, mlde_error *err);
/* The item of the row just read from t: 0 and *item, or -1 with err.  The
 * image is stored in images, or, when the field is short (at most 64
 * characters, as in MMBench's circular copies of a question), the index of
 * an earlier row whose image it shares. */
int mlde_mmbench_item(mlde_mmbench *m, const mlde_tsv *t, jv *item, mlde_error *err);
void mlde_mmbench_free(mlde_mmbench *m);

/* ---- SEED-Bench (JSON) ---- */

/* The nine image dimensions of SEED-Bench-1, question_type_id 1 to 9 (10 to
 * 12 are video dimensions), by the names mlde uses for types. */
#define MLDE_SEED_IMAGE_TYPES 9
extern const char *const mlde_seed_type_names[MLDE_SEED_IMAGE_TYPES];

/* The questions of a SEED-Bench file (consumed): its "questions" list (or
 * the file itself when it is a list), its "question_type" map checked
 * against mlde_seed_type_names: a name the map gives an id of 1..9 must be
 * that id's (case and spaces aside).  0 and *questions, or -1 with err. */
int mlde_seed_questions(jv file, const char *path, jv *questions, mlde_error *err);
/* The item of one question (borrowed); where names it.  1 and *item, 0
 * for a video question (nothing made), -1 with err.  images (NULL: none)
 * is prefixed to data_id as a directory. */
int mlde_seed_item(jv q, const char *images, const char *where, jv *item, mlde_error *err);

/* ---- A-OKVQA (JSON) ---- */

/* The item of one question (borrowed): choices as options,
 * correct_choice_idx as the answer, image from split and image_id (under
 * images when not NULL), type when not NULL (else no "type": A-OKVQA has
 * none).  0 and *item, or -1 with err. */
int mlde_aokvqa_item(jv q, const char *type, const char *images, const char *where,
		     jv *item, mlde_error *err);

/* ---- COCO (captions and instances JSON) into pool records ---- */

typedef struct mlde_coco_counts {
	unsigned long images;            /* pool records made */
	unsigned long only_captions;     /* images listed by the captions file alone */
	unsigned long only_instances;    /* by the instances file alone */
	unsigned long unannotated;       /* listed, with no caption and no object: none made */
	unsigned long captions, objects; /* annotations used */
	unsigned long stray_captions;    /* annotations of an image no list has */
	unsigned long stray_objects;
	unsigned long bad;               /* annotations left out by on_bad */
} mlde_coco_counts;

typedef struct mlde_coco_opts {
	const char *images;              /* directory prefixed to file_name; NULL: none */
	const char *captions_path, *instances_path;  /* for messages */
	/* A bad annotation or image entry: return 0 to leave it out (counted
	 * in bad), -1 to stop with err as it is. */
	int (*on_bad)(void *ctx, const mlde_error *err);
	void *ctx;
} mlde_coco_opts;

/* The pool records (an array in *pool) of the images of the two files
 * (consumed), in the captions file's order and then the instances file's:
 * captions grouped per image, pixel [x, y, w, h] boxes turned into
 * [x1, y1, x2, y2] fractions of the image's width and height (rounded to
 * 1e-4, inside [0, 1]), object names from the categories list.  0, or -1
 * with err. */
int mlde_coco_pool(jv captions, jv instances, const mlde_coco_opts *o, jv *pool,
		   mlde_coco_counts *counts, mlde_error *err);

#endif
