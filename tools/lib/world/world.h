/* world.h - the embedded synthetic world: scenes of coloured shapes and a
 * letter on a plain or checkered background, their rendering to pixels, their
 * annotations as pool records, and the multiple-choice questions of every
 * type that can be asked about them.  The questions are written from the
 * annotations alone, so mlde-world (from its own scenes) and the offline
 * generator (from pool records) share one writer.  Nothing here prints. */
#ifndef MLDE_WORLD_H
#define MLDE_WORLD_H

#include <stdbool.h>
#include <jv.h>

#include "base/err.h"
#include "base/rng.h"

#define MLDE_WORLD_SIDE 64        /* images are SIDE x SIDE RGB */
#define MLDE_WORLD_MAX_OBJECTS 5
#define MLDE_WORLD_OPTIONS 4      /* every item has exactly this many */
#define MLDE_WORLD_GLYPH_SCALE 5  /* the 5x7 font drawn at 25x35 pixels */

/* The nine SEED-Bench dimensions, in the order of DESIGN.md. */
enum mlde_world_type {
	MLDE_WT_SCENE,        /* scene_understanding: the background */
	MLDE_WT_IDENTITY,     /* instance_identity: the shape of an object */
	MLDE_WT_ATTRIBUTES,   /* instance_attributes: its colour, or size and colour */
	MLDE_WT_LOCATION,     /* instance_location: which part of the image */
	MLDE_WT_COUNTING,     /* instances_counting: how many of a shape or colour */
	MLDE_WT_SPATIAL,      /* spatial_relation: one object relative to another */
	MLDE_WT_INTERACTION,  /* instance_interaction: what touches an object */
	MLDE_WT_REASONING,    /* visual_reasoning: the most common colour or shape */
	MLDE_WT_TEXT,         /* text_understanding: the letter written */
	MLDE_WORLD_NTYPES
};

enum { MLDE_WORLD_NSHAPES = 4, MLDE_WORLD_NCOLORS = 6, MLDE_WORLD_NBACKGROUNDS = 4,
       MLDE_WORLD_NSIZES = 2, MLDE_WORLD_NLETTERS = 10, MLDE_WORLD_NZONES = 5,
       MLDE_WORLD_NRELATIONS = 4 };

/* The names the world uses, in the order of their indices. */
extern const char *const mlde_world_type_names[MLDE_WORLD_NTYPES];
extern const char *const mlde_world_shape_names[MLDE_WORLD_NSHAPES];   /* circle ... */
extern const char *const mlde_world_shape_plurals[MLDE_WORLD_NSHAPES];
extern const char *const mlde_world_color_names[MLDE_WORLD_NCOLORS];   /* red ... */
extern const char *const mlde_world_background_names[MLDE_WORLD_NBACKGROUNDS];
extern const char *const mlde_world_size_names[MLDE_WORLD_NSIZES];     /* small, large */
extern const char *const mlde_world_zone_names[MLDE_WORLD_NZONES];     /* top left ... */
extern const char *const mlde_world_relation_names[MLDE_WORLD_NRELATIONS];
extern const char mlde_world_letters[MLDE_WORLD_NLETTERS + 1];          /* "ACEH..." */
extern const unsigned char mlde_world_color_rgb[MLDE_WORLD_NCOLORS][3];
/* Half the side of a shape's box: small 6 (13 px), large 10 (21 px). */
extern const int mlde_world_radius[MLDE_WORLD_NSIZES];

/* Index of name in names[0..n), or -1. */
int mlde_world_lookup(const char *const *names, int n, const char *name);
int mlde_world_type_from_name(const char *name);

typedef struct mlde_world_object {
	int shape, color, size;  /* indices into the name tables */
	int cx, cy;              /* centre pixel; the box is cx-r .. cx+r inclusive */
} mlde_world_object;

typedef struct mlde_world_scene {
	int background;
	int nobj;
	mlde_world_object obj[MLDE_WORLD_MAX_OBJECTS];  /* in drawing order */
	int touch_a, touch_b;   /* the one pair that touches (b drawn over a), or -1 */
	int letter;             /* index into mlde_world_letters, or -1 */
	int tx, ty;             /* the letter's top-left pixel */
} mlde_world_scene;

/* What a scene must hold.  mlde_world_spec_default gives the world's own
 * distribution; the item generator tightens it for the type it wants. */
typedef struct mlde_world_spec {
	int min_obj, max_obj;     /* shapes wanted (placement may drop some) */
	double p_letter;          /* chance of a letter */
	double p_touch;           /* chance of a touching pair */
	double p_dup;             /* chance an object repeats an earlier shape or colour */
	int background;           /* -1: any */
	int letter;               /* -2: by p_letter; -1: none; else that letter */
	bool touch;               /* force a touching pair */
	int force_attr;           /* 0: none; 1: shape; 2: colour ... */
	int force_value;          /* ... of the first force_count objects is force_value, */
	int force_count;          /* and of no other object */
} mlde_world_spec;

void mlde_world_spec_default(mlde_world_spec *spec);
/* A random scene; objects that do not fit are left out. */
void mlde_world_scene_make(mlde_world_scene *s, const mlde_world_spec *spec, mlde_rng *rng);

/* Pixel geometry, shared by the renderer and the question writers. */
int mlde_world_object_radius(const mlde_world_object *o);
bool mlde_world_object_covers(const mlde_world_object *o, int x, int y);
/* Pixels the object covers, were nothing drawn over it. */
int mlde_world_object_area(const mlde_world_object *o);
/* The letter's bitmap: is (x, y) of the 5x7 glyph ink? */
bool mlde_world_glyph_bit(int letter, int x, int y);

/* Draw the scene into rgb (SIDE*SIDE*3 bytes). */
void mlde_world_render(const mlde_world_scene *s, unsigned char *rgb);

/* The pool record of a scene: image, captions, objects (name, color, size,
 * bbox as fractions, touching), background, text, text_bbox. */
jv mlde_world_scene_record(const mlde_world_scene *s, const char *image);
/* The scene back from such a record; -1 with err set (MLDE_EXIT_DATA) when
 * the record does not describe a world scene.  Borrows rec. */
int mlde_world_scene_from_record(jv rec, mlde_world_scene *s, mlde_error *err);

/* One multiple-choice question about a scene. */
typedef struct mlde_world_item {
	int type, form;
	int value;         /* the answer as an index into the form's domain */
	char question[200];
	char options[MLDE_WORLD_OPTIONS][24];
	int answer;        /* options[answer] names value */
	char rationale[200];  /* why, in one sentence from the annotations */
	/* what the question is about: objects a and b (indices, or -1), the
	 * class counted (or -1), and the phrases naming a and b in the text */
	int a, b, cls;
	char about_a[64], about_b[64];
} mlde_world_item;

/* Each type asks one of a few forms (e.g. colour, or size and colour); each
 * form's answers are the domain 0 .. mlde_world_domain(type, form) - 1. */
int mlde_world_nforms(int type);
int mlde_world_domain(int type, int form);
/* The option text of a domain value. */
void mlde_world_value_name(int type, int form, int value, char *buf, size_t len);

/* Write a question of this type and form whose answer is want (-1: any)
 * about the scene; form -1 picks one at random.  1 when written, 0 when the
 * scene cannot carry such a question (it would be ambiguous, or not
 * answerable from the pixels). */
int mlde_world_ask(const mlde_world_scene *s, int type, int form, int want,
		   mlde_rng *rng, mlde_world_item *item);

/* The question templates: MLDE_WORLD_TEMPLATES for each type and form,
 * with {a} and {b} for object phrases ({A} capitalised) and {c} for the
 * class counted (a plural shape, form 0, or a colour, form 1).  NULL past
 * the end.  fill writes one with its holes filled. */
#define MLDE_WORLD_TEMPLATES 3
const char *mlde_world_template(int type, int form, int k);
void mlde_world_fill_template(const char *tpl, const char *a, const char *b, const char *c,
			      char *out, size_t len);

/* The true answer (a domain value) of a question of this type and form
 * about objects a and b (indices, or -1) and counted class cls (or -1), by
 * the world's own geometry; -1 when the image cannot answer it (an object
 * on a border between parts, no clear relation, nothing touching a, no
 * most common class, no letter). */
int mlde_world_true_value(const mlde_world_scene *s, int type, int form, int a, int b, int cls);

/* A fresh scene and a question of the given type about it, with form and
 * answer drawn uniformly, so that no answer is likelier than another. */
void mlde_world_make_item(int type, mlde_rng *rng, mlde_world_scene *s,
			  mlde_world_item *item);

/* The item record (DESIGN.md), with its rationale and "source": "world". */
jv mlde_world_item_record(const mlde_world_item *item, const char *id, const char *image);

#endif
