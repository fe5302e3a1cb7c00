/* coco.c - COCO's captions and instances files into pool records: one per
 * image of the two "images" lists, its captions in file order, its
 * objects' pixel [x, y, w, h] boxes as [x1, y1, x2, y2] fractions of the
 * image's width and height, named from "categories".  Everything is held
 * as jv (the files are whole jv values already); images are found by id
 * through a jv object keyed by the id's decimal string. */
#include "import/import.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/fields.h"
#include "record/record.h"

enum { IN_CAPTIONS = 1, IN_INSTANCES = 2 };

typedef struct image {
	char *file;        /* file_name, under the images directory */
	double w, h;
	int in;            /* IN_CAPTIONS | IN_INSTANCES: the lists that name it */
	jv captions, objects;
} image;

typedef struct pool {
	const mlde_coco_opts *o;
	mlde_coco_counts *n;
	image *img;
	size_t nimg, cap;
	jv by_id;          /* "ID" -> index in img */
	jv category;       /* "ID" -> name */
} pool;

static void id_key(double id, char *buf, size_t len)
{
	snprintf(buf, len, "%lld", (long long)id);
}

/* A bad entry: left out when on_bad says so (counted), else the error. */
static int bad(pool *P, mlde_error *err)
{
	if (P->o->on_bad && P->o->on_bad(P->o->ctx, err) == 0) {
		P->n->bad++;
		mlde_error_clear(err);
		return 0;
	}
	return -1;
}

/* The array under key of file (borrowed), or invalid with err. */
static jv list_of(jv file, const char *key, const char *path, mlde_error *err)
{
	jv list = jv_get_kind(file) == JV_KIND_OBJECT
		  ? jv_object_get(jv_copy(file), jv_string(key)) : jv_invalid();

	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '%s': %s", path, key,
			       jv_get_kind(file) != JV_KIND_OBJECT ? "the file is not a JSON object"
			       : jv_is_valid(list) ? "not an array" : "missing");
		jv_free(list);
		return jv_invalid();
	}
	return list;
}

/* "PATH: LIST[i] (id X)" */
static void where_of(char *buf, size_t len, const char *path, const char *list, int i, jv e)
{
	char *id = jv_get_kind(e) == JV_KIND_OBJECT ? mlde_import_id(e, "id") : NULL;

	if (id)
		snprintf(buf, len, "%s: %s[%d] (id %s)", path, list, i, id);
	else
		snprintf(buf, len, "%s: %s[%d]", path, list, i);
	free(id);
}

static int find_image(const pool *P, double id)
{
	char key[32];
	jv v;
	int i = -1;

	id_key(id, key, sizeof key);
	v = jv_object_get(jv_copy(P->by_id), jv_string(key));
	if (jv_get_kind(v) == JV_KIND_NUMBER)
		i = (int)jv_number_value(v);
	jv_free(v);
	return i;
}

static int need_object(jv e, const char *where, mlde_error *err)
{
	if (jv_get_kind(e) == JV_KIND_OBJECT)
		return 0;
	mlde_error_set(err, MLDE_EXIT_DATA, "%s: expected an object, got %s", where,
		       mlde_kind_name(jv_get_kind(e)));
	return -1;
}

/* One entry of an "images" list, named by the list in (IN_*). */
static int add_image(pool *P, jv e, int in, const char *where, mlde_error *err)
{
	const char *file;
	double id, w, h;
	char key[32];
	int i;

	if (need_object(e, where, err) < 0 ||
	    mlde_import_number(e, "id", true, where, &id, err) < 0 ||
	    mlde_import_string(e, "file_name", where, &file, err) < 0 ||
	    mlde_import_number(e, "width", false, where, &w, err) < 0 ||
	    mlde_import_number(e, "height", false, where, &h, err) < 0)
		return -1;
	if (!(w > 0 && h > 0)) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '%s': not above 0", where,
			       w > 0 ? "height" : "width");
		return -1;
	}
	if ((i = find_image(P, id)) >= 0) {
		if (P->img[i].w != w || P->img[i].h != h) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'width': %gx%g, where the other "
				       "file says %gx%g", where, w, h, P->img[i].w, P->img[i].h);
			return -1;
		}
		P->img[i].in |= in;
		return 0;
	}
	if (P->nimg == P->cap) {
		P->cap = P->cap ? 2 * P->cap : 1024;
		P->img = mlde_xrealloc(P->img, P->cap * sizeof *P->img);
	}
	P->img[P->nimg] = (image){ mlde_import_join(P->o->images, file), w, h, in, jv_array(),
				   jv_array() };
	id_key(id, key, sizeof key);
	P->by_id = jv_object_set(P->by_id, jv_string(key), jv_number((double)P->nimg));
	P->nimg++;
	return 0;
}

static int add_category(pool *P, jv e, const char *where, mlde_error *err)
{
	const char *name;
	double id;
	char key[32];

	if (need_object(e, where, err) < 0 ||
	    mlde_import_number(e, "id", true, where, &id, err) < 0 ||
	    mlde_import_string(e, "name", where, &name, err) < 0)
		return -1;
	id_key(id, key, sizeof key);
	P->category = jv_object_set(P->category, jv_string(key), jv_string(name));
	return 0;
}

/* COCO's captions end in blanks and newlines now and then. */
static jv trimmed(const char *s)
{
	size_t n = strlen(s);

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
			 s[n - 1] == '\r'))
		n--;
	return jv_string_sized(s, (int)n);
}

static int add_caption(pool *P, jv e, const char *where, mlde_error *err)
{
	const char *text;
	double id;
	int i;

	if (need_object(e, where, err) < 0 ||
	    mlde_import_number(e, "image_id", true, where, &id, err) < 0 ||
	    mlde_import_string(e, "caption", where, &text, err) < 0)
		return -1;
	if ((i = find_image(P, id)) < 0) {
		P->n->stray_captions++;
		return 0;
	}
	P->img[i].captions = jv_array_append(P->img[i].captions, trimmed(text));
	P->n->captions++;
	return 0;
}

/* A fraction of the image size, on a 1e-4 grid (what a prompt needs, and
 * short in JSON), inside [0, 1]. */
static double fraction(double px, double size)
{
	double f = round(px / size * 1e4) / 1e4;

	return f < 0.0 ? 0.0 : f > 1.0 ? 1.0 : f;
}

static int add_object(pool *P, jv e, const char *where, mlde_error *err)
{
	double id, cat, box[4], bbox[4];
	char key[32];
	jv b, name;
	int i;

	if (need_object(e, where, err) < 0 ||
	    mlde_import_number(e, "image_id", true, where, &id, err) < 0 ||
	    mlde_import_number(e, "category_id", true, where, &cat, err) < 0)
		return -1;
	b = jv_object_get(jv_copy(e), jv_string("bbox"));
	for (int k = 0; k < 4; k++) {
		jv x = jv_get_kind(b) == JV_KIND_ARRAY && jv_array_length(jv_copy(b)) == 4
		       ? jv_array_get(jv_copy(b), k) : jv_invalid();

		if (jv_get_kind(x) != JV_KIND_NUMBER) {
			jv_free(x);
			jv_free(b);
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'bbox': not four numbers "
				       "[x, y, width, height]", where);
			return -1;
		}
		box[k] = jv_number_value(x);
		jv_free(x);
	}
	jv_free(b);
	if (box[2] < 0 || box[3] < 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'bbox': a negative width or height",
			       where);
		return -1;
	}
	id_key(cat, key, sizeof key);
	name = jv_object_get(jv_copy(P->category), jv_string(key));
	if (jv_get_kind(name) != JV_KIND_STRING) {
		jv_free(name);
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'category_id': %s is in no "
			       "category of the categories list", where, key);
		return -1;
	}
	if ((i = find_image(P, id)) < 0) {
		jv_free(name);
		P->n->stray_objects++;
		return 0;
	}
	bbox[0] = fraction(box[0], P->img[i].w);
	bbox[1] = fraction(box[1], P->img[i].h);
	bbox[2] = fraction(box[0] + box[2], P->img[i].w);
	bbox[3] = fraction(box[1] + box[3], P->img[i].h);
	P->img[i].objects = jv_array_append(P->img[i].objects,
					    mlde_pool_object(jv_string_value(name), bbox));
	jv_free(name);
	P->n->objects++;
	return 0;
}

typedef int (*add_fn)(pool *P, jv e, const char *where, mlde_error *err);

/* Every entry of list (consumed) through add, a bad one given to on_bad. */
static int add_all(pool *P, jv list, const char *path, const char *name, add_fn add,
		   mlde_error *err)
{
	int n = jv_array_length(jv_copy(list)), rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		jv e = jv_array_get(jv_copy(list), i);
		char where[600];

		where_of(where, sizeof where, path, name, i, e);
		if (add(P, e, where, err) < 0)
			rc = bad(P, err);
		jv_free(e);
	}
	jv_free(list);
	return rc;
}

static int add_caption_image(pool *P, jv e, const char *where, mlde_error *err)
{
	return add_image(P, e, IN_CAPTIONS, where, err);
}

static int add_instance_image(pool *P, jv e, const char *where, mlde_error *err)
{
	return add_image(P, e, IN_INSTANCES, where, err);
}

/* The five lists, in the order their entries refer to each other. */
static int read_lists(pool *P, jv captions, jv instances, mlde_error *err)
{
	const char *cp = P->o->captions_path, *ip = P->o->instances_path;
	struct { jv file; const char *path, *key; add_fn add; } step[] = {
		{ captions, cp, "images", add_caption_image },
		{ instances, ip, "images", add_instance_image },
		{ instances, ip, "categories", add_category },
		{ captions, cp, "annotations", add_caption },
		{ instances, ip, "annotations", add_object },
	};
	jv list[5];

	/* every list is there before any is read: a wrong file fails at once */
	for (int s = 0; s < 5; s++) {
		list[s] = list_of(step[s].file, step[s].key, step[s].path, err);
		if (!jv_is_valid(list[s])) {
			for (int k = 0; k < s; k++)
				jv_free(list[k]);
			return -1;
		}
	}
	for (int s = 0; s < 5; s++)
		if (add_all(P, list[s], step[s].path, step[s].key, step[s].add, err) < 0) {
			for (int k = s + 1; k < 5; k++)
				jv_free(list[k]);
			return -1;
		}
	return 0;
}

int mlde_coco_pool(jv captions, jv instances, const mlde_coco_opts *o, jv *out,
		   mlde_coco_counts *counts, mlde_error *err)
{
	pool P = { .o = o, .n = counts, .by_id = jv_object(), .category = jv_object() };
	int rc;

	memset(counts, 0, sizeof *counts);
	*out = jv_array();
	rc = read_lists(&P, captions, instances, err);
	for (size_t i = 0; i < P.nimg; i++) {
		image *m = &P.img[i];
		bool empty = jv_array_length(jv_copy(m->captions)) == 0 &&
			     jv_array_length(jv_copy(m->objects)) == 0;

		counts->only_captions += m->in == IN_CAPTIONS;
		counts->only_instances += m->in == IN_INSTANCES;
		if (rc < 0 || empty) {
			counts->unannotated += empty;
			jv_free(m->captions);
			jv_free(m->objects);
		} else {
			*out = jv_array_append(*out, mlde_pool_record(m->file, m->captions,
								      m->objects));
			counts->images++;
		}
		free(m->file);
	}
	free(P.img);
	jv_free(P.by_id);
	jv_free(P.category);
	jv_free(captions);
	jv_free(instances);
	if (rc < 0) {
		jv_free(*out);
		*out = jv_invalid();
	}
	return rc;
}
