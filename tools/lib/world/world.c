/* world.c - the synthetic world: scene sampling, rendering, annotations
 * (pool records, both ways) and the question writers of the nine types.
 * Everything is integer pixel geometry on a 64x64 canvas, so a question
 * written from a pool record and one written from the scene agree exactly. */
#include "world/world.h"
#include "io/jsonl.h"
#include "record/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIDE MLDE_WORLD_SIDE
#define GLYPH_W (5 * MLDE_WORLD_GLYPH_SCALE)
#define GLYPH_H (7 * MLDE_WORLD_GLYPH_SCALE)
/* Background pixels at least between two boxes that do not touch. */
#define GAP 3
/* How far the box of a touching object reaches into its partner's. */
#define OVERLAP 2
#define PLACE_TRIES 100
#define MAKE_TRIES 2000

const char *const mlde_world_type_names[MLDE_WORLD_NTYPES] = {
	"scene_understanding", "instance_identity", "instance_attributes",
	"instance_location", "instances_counting", "spatial_relation",
	"instance_interaction", "visual_reasoning", "text_understanding",
};
const char *const mlde_world_shape_names[MLDE_WORLD_NSHAPES] = {
	"circle", "square", "triangle", "cross",
};
const char *const mlde_world_shape_plurals[MLDE_WORLD_NSHAPES] = {
	"circles", "squares", "triangles", "crosses",
};
const char *const mlde_world_color_names[MLDE_WORLD_NCOLORS] = {
	"red", "orange", "yellow", "green", "blue", "purple",
};
/* Saturated and far apart (L1 >= 115 between any two), and far from every
 * background and from the letter's ink. */
const unsigned char mlde_world_color_rgb[MLDE_WORLD_NCOLORS][3] = {
	{ 220, 30, 30 }, { 245, 140, 0 }, { 240, 220, 30 },
	{ 30, 160, 60 }, { 40, 80, 230 }, { 140, 50, 190 },
};
const char *const mlde_world_background_names[MLDE_WORLD_NBACKGROUNDS] = {
	"white", "black", "gray", "checkered",
};
static const unsigned char background_rgb[MLDE_WORLD_NBACKGROUNDS][3] = {
	{ 245, 245, 245 }, { 15, 15, 15 }, { 128, 128, 128 }, { 235, 235, 235 },
};
static const unsigned char checker_dark[3] = { 195, 195, 195 };
#define CHECKER 8  /* tile side of the checkered background */
const char *const mlde_world_size_names[MLDE_WORLD_NSIZES] = { "small", "large" };
#define R_SMALL 6
#define R_LARGE 10
const int mlde_world_radius[MLDE_WORLD_NSIZES] = { R_SMALL, R_LARGE };
const char *const mlde_world_zone_names[MLDE_WORLD_NZONES] = {
	"top left", "top right", "bottom left", "bottom right", "center",
};
const char *const mlde_world_relation_names[MLDE_WORLD_NRELATIONS] = {
	"to the left", "to the right", "above", "below",
};
const char mlde_world_letters[MLDE_WORLD_NLETTERS + 1] = "ACEHKLMSTZ";

/* 5x7 glyphs of mlde_world_letters, one row a byte, bit 4 the left column. */
static const unsigned char font[MLDE_WORLD_NLETTERS][7] = {
	{ 0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11 },  /* A */
	{ 0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e },  /* C */
	{ 0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f },  /* E */
	{ 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11 },  /* H */
	{ 0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11 },  /* K */
	{ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f },  /* L */
	{ 0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11 },  /* M */
	{ 0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e },  /* S */
	{ 0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04 },  /* T */
	{ 0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f },  /* Z */
};

int mlde_world_lookup(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int mlde_world_type_from_name(const char *name)
{
	return mlde_world_lookup(mlde_world_type_names, MLDE_WORLD_NTYPES, name);
}

/* ---- geometry ---- */

int mlde_world_object_radius(const mlde_world_object *o)
{
	return mlde_world_radius[o->size];
}

bool mlde_world_object_covers(const mlde_world_object *o, int x, int y)
{
	int r = mlde_world_object_radius(o), dx = x - o->cx, dy = y - o->cy;
	int ax = abs(dx), ay = abs(dy);

	if (ax > r || ay > r)
		return false;
	switch (o->shape) {
	case 0: return dx * dx + dy * dy <= r * r + r;  /* circle */
	case 1: return true;                             /* square */
	case 2: return 2 * ax <= dy + r;                 /* triangle, apex up */
	default: return ax <= r / 3 || ay <= r / 3;      /* cross */
	}
}

int mlde_world_object_area(const mlde_world_object *o)
{
	int r = mlde_world_object_radius(o), n = 0;

	for (int y = o->cy - r; y <= o->cy + r; y++)
		for (int x = o->cx - r; x <= o->cx + r; x++)
			n += mlde_world_object_covers(o, x, y);
	return n;
}

bool mlde_world_glyph_bit(int letter, int x, int y)
{
	return x >= 0 && x < 5 && y >= 0 && y < 7 && (font[letter][y] >> (4 - x) & 1);
}

typedef struct box {
	int x1, y1, x2, y2;  /* inclusive */
} box;

static box object_box(const mlde_world_object *o)
{
	int r = mlde_world_object_radius(o);

	return (box){ o->cx - r, o->cy - r, o->cx + r, o->cy + r };
}

/* Background pixels between two boxes along the axis that separates them
 * most; negative when they overlap. */
static int box_gap(box a, box b)
{
	int g = b.x1 - a.x2, t;

	if ((t = a.x1 - b.x2) > g)
		g = t;
	if ((t = b.y1 - a.y2) > g)
		g = t;
	if ((t = a.y1 - b.y2) > g)
		g = t;
	return g - 1;
}

static bool inside(const mlde_world_object *o)
{
	int r = mlde_world_object_radius(o);

	return o->cx >= r && o->cx < SIDE - r && o->cy >= r && o->cy < SIDE - r;
}

/* Pixels of b that lie on a or next to it: how much the two touch. */
static int contact(const mlde_world_object *a, const mlde_world_object *b)
{
	box bb = object_box(b);
	int n = 0;

	for (int y = bb.y1; y <= bb.y2; y++)
		for (int x = bb.x1; x <= bb.x2; x++)
			if (mlde_world_object_covers(b, x, y) &&
			    (mlde_world_object_covers(a, x, y) ||
			     mlde_world_object_covers(a, x - 1, y) ||
			     mlde_world_object_covers(a, x + 1, y) ||
			     mlde_world_object_covers(a, x, y - 1) ||
			     mlde_world_object_covers(a, x, y + 1)))
				n++;
	return n;
}

/* Pixels of a hidden under b. */
static int hidden(const mlde_world_object *a, const mlde_world_object *b)
{
	box ab = object_box(a);
	int n = 0;

	for (int y = ab.y1; y <= ab.y2; y++)
		for (int x = ab.x1; x <= ab.x2; x++)
			n += mlde_world_object_covers(a, x, y) && mlde_world_object_covers(b, x, y);
	return n;
}

/* Is what shows of a, with b drawn over it, one 4-connected piece?  (A
 * stray pixel of a beside b would read as a sixth object.) */
static bool shows_whole(const mlde_world_object *a, const mlde_world_object *b)
{
	enum { MAXSIDE = 2 * R_LARGE + 1 };
	box ab = object_box(a);
	int w = ab.x2 - ab.x1 + 1, h = ab.y2 - ab.y1 + 1, stack[MAXSIDE * MAXSIDE];
	bool seen[MAXSIDE * MAXSIDE] = { false }, show[MAXSIDE * MAXSIDE];
	int visible = 0, reached = 0, top = 0;

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int px = ab.x1 + x, py = ab.y1 + y;

			show[y * w + x] = mlde_world_object_covers(a, px, py) &&
					  !mlde_world_object_covers(b, px, py);
			visible += show[y * w + x];
			if (show[y * w + x] && !top) {
				seen[y * w + x] = true;
				stack[top++] = y * w + x;
			}
		}
	while (top) {
		int p = stack[--top], x = p % w, y = p / w;
		int nb[4] = { x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1,
			      y > 0 ? p - w : -1, y < h - 1 ? p + w : -1 };

		reached++;
		for (int k = 0; k < 4; k++)
			if (nb[k] >= 0 && show[nb[k]] && !seen[nb[k]]) {
				seen[nb[k]] = true;
				stack[top++] = nb[k];
			}
	}
	return reached == visible;
}

/* ---- scenes ---- */

void mlde_world_spec_default(mlde_world_spec *spec)
{
	*spec = (mlde_world_spec){
		.min_obj = 1, .max_obj = MLDE_WORLD_MAX_OBJECTS,
		.p_letter = 0.5, .p_touch = 0.4, .p_dup = 0.3,
		.background = -1, .letter = -2,
	};
}

static int below(mlde_rng *rng, int n)
{
	return (int)mlde_rng_below(rng, (uint64_t)n);
}

/* Attributes of the i-th object tried. */
static void pick_attrs(mlde_world_scene *s, int i, const mlde_world_spec *spec,
		       mlde_rng *rng, mlde_world_object *o)
{
	o->shape = below(rng, MLDE_WORLD_NSHAPES);
	o->color = below(rng, MLDE_WORLD_NCOLORS);
	o->size = below(rng, MLDE_WORLD_NSIZES);
	if (s->nobj > 0 && mlde_rng_double(rng) < spec->p_dup)
		o->shape = s->obj[below(rng, s->nobj)].shape;
	if (s->nobj > 0 && mlde_rng_double(rng) < spec->p_dup)
		o->color = s->obj[below(rng, s->nobj)].color;
	if (spec->force_attr) {
		int *attr = spec->force_attr == 1 ? &o->shape : &o->color;
		int n = spec->force_attr == 1 ? MLDE_WORLD_NSHAPES : MLDE_WORLD_NCOLORS;

		if (i < spec->force_count)
			*attr = spec->force_value;
		else
			while (*attr == spec->force_value)
				*attr = below(rng, n);
	}
}

/* Is o clear of the letter and of every object but skip? */
static bool clear_of_all(const mlde_world_scene *s, const mlde_world_object *o, int skip)
{
	box b = object_box(o);

	if (s->letter >= 0 &&
	    box_gap(b, (box){ s->tx, s->ty, s->tx + GLYPH_W - 1, s->ty + GLYPH_H - 1 }) < GAP)
		return false;
	for (int j = 0; j < s->nobj; j++)
		if (j != skip && box_gap(b, object_box(&s->obj[j])) < GAP)
			return false;
	return true;
}

static bool place_random(mlde_world_scene *s, mlde_world_object *o, mlde_rng *rng)
{
	int r = mlde_world_object_radius(o);

	for (int t = 0; t < PLACE_TRIES; t++) {
		o->cx = r + below(rng, SIDE - 2 * r);
		o->cy = r + below(rng, SIDE - 2 * r);
		if (clear_of_all(s, o, -1))
			return true;
	}
	return false;
}

/* Place b against a (already placed, the only object so far), in a random
 * direction, so that they clearly touch and a stays mostly visible. */
static bool place_touching(mlde_world_scene *s, const mlde_world_object *a,
			   mlde_world_object *b, mlde_rng *rng)
{
	int ra = mlde_world_object_radius(a), rb = mlde_world_object_radius(b);
	int reach = ra + rb + 1 - OVERLAP;

	for (int t = 0; t < 8; t++) {
		int dir = below(rng, 4), jitter = below(rng, 5) - 2;

		b->cx = a->cx + (dir == 0 ? -reach : dir == 1 ? reach : jitter);
		b->cy = a->cy + (dir == 2 ? -reach : dir == 3 ? reach : jitter);
		if (!inside(b) || !clear_of_all(s, b, 0) || contact(a, b) < 4 ||
		    5 * hidden(a, b) > mlde_world_object_area(a) || !shows_whole(a, b))
			continue;
		return true;
	}
	return false;
}

void mlde_world_scene_make(mlde_world_scene *s, const mlde_world_spec *spec, mlde_rng *rng)
{
	int n = spec->min_obj + below(rng, spec->max_obj - spec->min_obj + 1);
	bool touch;

	memset(s, 0, sizeof *s);
	s->touch_a = s->touch_b = -1;
	s->background = spec->background >= 0 ? spec->background
					      : below(rng, MLDE_WORLD_NBACKGROUNDS);
	s->letter = spec->letter >= -1 ? spec->letter
		    : mlde_rng_double(rng) < spec->p_letter ? below(rng, MLDE_WORLD_NLETTERS)
							    : -1;
	if (s->letter >= 0) {
		s->tx = below(rng, SIDE - GLYPH_W + 1);
		s->ty = below(rng, SIDE - GLYPH_H + 1);
	}
	touch = n >= 2 && (spec->touch || mlde_rng_double(rng) < spec->p_touch);
	for (int i = 0; i < n; i++) {
		mlde_world_object o;

		pick_attrs(s, i, spec, rng, &o);
		if (touch && i == 1 && s->nobj == 1) {
			mlde_world_object *a = &s->obj[0];

			/* the pair must differ in colour to be seen as two; when
			 * both are forced to one colour, or b does not fit against
			 * a, b goes elsewhere */
			if (o.color == a->color && !(spec->force_attr == 2 && i < spec->force_count))
				while (o.color == a->color ||
				       (spec->force_attr == 2 && o.color == spec->force_value))
					o.color = below(rng, MLDE_WORLD_NCOLORS);
			if (o.color != a->color && place_touching(s, a, &o, rng)) {
				s->touch_a = 0;
				s->touch_b = 1;
				s->obj[s->nobj++] = o;
				continue;
			}
		}
		if (place_random(s, &o, rng))
			s->obj[s->nobj++] = o;
	}
}

/* ---- rendering ---- */

static void put(unsigned char *rgb, int x, int y, const unsigned char *c)
{
	unsigned char *p = rgb + ((size_t)y * SIDE + (size_t)x) * 3;

	p[0] = c[0];
	p[1] = c[1];
	p[2] = c[2];
}

void mlde_world_render(const mlde_world_scene *s, unsigned char *rgb)
{
	static const unsigned char ink_dark[3] = { 10, 10, 10 }, ink_light[3] = { 240, 240, 240 };
	const unsigned char *ink = s->background == 1 ? ink_light : ink_dark;

	for (int y = 0; y < SIDE; y++)
		for (int x = 0; x < SIDE; x++)
			put(rgb, x, y, s->background == 3 && (x / CHECKER + y / CHECKER) % 2
				       ? checker_dark : background_rgb[s->background]);
	for (int i = 0; i < s->nobj; i++) {
		const mlde_world_object *o = &s->obj[i];
		box b = object_box(o);

		for (int y = b.y1; y <= b.y2; y++)
			for (int x = b.x1; x <= b.x2; x++)
				if (mlde_world_object_covers(o, x, y))
					put(rgb, x, y, mlde_world_color_rgb[o->color]);
	}
	if (s->letter < 0)
		return;
	for (int y = 0; y < GLYPH_H; y++)
		for (int x = 0; x < GLYPH_W; x++)
			if (mlde_world_glyph_bit(s->letter, x / MLDE_WORLD_GLYPH_SCALE,
						 y / MLDE_WORLD_GLYPH_SCALE))
				put(rgb, s->tx + x, s->ty + y, ink);
}

/* ---- the question writers ---- */

/* Which part of the image an object is in, or -1 when it is near a border
 * between parts (then no location question is asked about it). */
static int zone_of(const mlde_world_object *o)
{
	int h = o->cx <= 23 ? 0 : o->cx >= 40 ? 2 : o->cx >= 27 && o->cx <= 36 ? 1 : -1;
	int v = o->cy <= 23 ? 0 : o->cy >= 40 ? 2 : o->cy >= 27 && o->cy <= 36 ? 1 : -1;

	if (h == 1 && v == 1)
		return 4;
	if (h < 0 || v < 0 || h == 1 || v == 1)
		return -1;
	return (v / 2) * 2 + h / 2;
}

/* Where a is relative to b, or -1 when neither axis clearly dominates. */
static int relation_of(const mlde_world_object *a, const mlde_world_object *b)
{
	int dx = a->cx - b->cx, dy = a->cy - b->cy;

	if (abs(dx) >= 8 && abs(dx) >= 2 * abs(dy))
		return dx < 0 ? 0 : 1;
	if (abs(dy) >= 8 && abs(dy) >= 2 * abs(dx))
		return dy < 0 ? 2 : 3;
	return -1;
}

enum { A_SHAPE = 1, A_COLOR = 2, A_SIZE = 4, A_ALL = 7 };

static bool same_on(const mlde_world_object *a, const mlde_world_object *b, int mask)
{
	return (!(mask & A_SHAPE) || a->shape == b->shape) &&
	       (!(mask & A_COLOR) || a->color == b->color) &&
	       (!(mask & A_SIZE) || a->size == b->size);
}

/* The attribute sets within allowed that pick out object t alone; size alone
 * is never used (a letter could pass for a large object).  Returns how many,
 * writing them to masks. */
static int descriptions(const mlde_world_scene *s, int t, int allowed, int masks[8])
{
	int n = 0;

	for (int m = 1; m <= A_ALL; m++) {
		int matches = 0;

		if ((m & ~allowed) || m == A_SIZE)
			continue;
		for (int j = 0; j < s->nobj; j++)
			matches += same_on(&s->obj[j], &s->obj[t], m);
		if (matches == 1)
			masks[n++] = m;
	}
	return n;
}

/* "the large red circle", "the red object", ... */
static void describe(const mlde_world_scene *s, int t, int allowed, mlde_rng *rng,
		     char *buf, size_t len)
{
	const mlde_world_object *o = &s->obj[t];
	int masks[8], n = descriptions(s, t, allowed, masks), m = masks[below(rng, n)];

	snprintf(buf, len, "the %s%s%s%s%s", m & A_SIZE ? mlde_world_size_names[o->size] : "",
		 m & A_SIZE ? " " : "", m & A_COLOR ? mlde_world_color_names[o->color] : "",
		 m & A_COLOR ? " " : "", m & A_SHAPE ? mlde_world_shape_names[o->shape] : "object");
}

static bool describable(const mlde_world_scene *s, int t, int allowed)
{
	int masks[8];

	return descriptions(s, t, allowed, masks) > 0;
}

int mlde_world_nforms(int type)
{
	switch (type) {
	case MLDE_WT_ATTRIBUTES: case MLDE_WT_COUNTING: case MLDE_WT_INTERACTION:
	case MLDE_WT_REASONING:
		return 2;
	default:
		return 1;
	}
}

int mlde_world_domain(int type, int form)
{
	switch (type) {
	case MLDE_WT_SCENE: return MLDE_WORLD_NBACKGROUNDS;
	case MLDE_WT_IDENTITY: return MLDE_WORLD_NSHAPES;
	case MLDE_WT_ATTRIBUTES: return form ? MLDE_WORLD_NSIZES * MLDE_WORLD_NCOLORS
					     : MLDE_WORLD_NCOLORS;
	case MLDE_WT_LOCATION: return MLDE_WORLD_NZONES;
	case MLDE_WT_COUNTING: return 4;  /* 1 to 4 */
	case MLDE_WT_SPATIAL: return MLDE_WORLD_NRELATIONS;
	case MLDE_WT_INTERACTION:
	case MLDE_WT_REASONING: return form ? MLDE_WORLD_NCOLORS : MLDE_WORLD_NSHAPES;
	case MLDE_WT_TEXT: return MLDE_WORLD_NLETTERS;
	default: return 0;
	}
}

/* Interaction and reasoning: form 0 asks for a shape, form 1 for a colour. */
void mlde_world_value_name(int type, int form, int value, char *buf, size_t len)
{
	switch (type) {
	case MLDE_WT_SCENE:
		snprintf(buf, len, "%s", mlde_world_background_names[value]);
		break;
	case MLDE_WT_ATTRIBUTES:
		if (form)
			snprintf(buf, len, "%s %s",
				 mlde_world_size_names[value / MLDE_WORLD_NCOLORS],
				 mlde_world_color_names[value % MLDE_WORLD_NCOLORS]);
		else
			snprintf(buf, len, "%s", mlde_world_color_names[value]);
		break;
	case MLDE_WT_LOCATION:
		snprintf(buf, len, "%s", mlde_world_zone_names[value]);
		break;
	case MLDE_WT_COUNTING:
		snprintf(buf, len, "%d", value + 1);
		break;
	case MLDE_WT_SPATIAL:
		snprintf(buf, len, "%s", mlde_world_relation_names[value]);
		break;
	case MLDE_WT_INTERACTION:
	case MLDE_WT_REASONING:
		snprintf(buf, len, "%s", form ? mlde_world_color_names[value]
					      : mlde_world_shape_names[value]);
		break;
	case MLDE_WT_TEXT:
		snprintf(buf, len, "%c", mlde_world_letters[value]);
		break;
	default:  /* MLDE_WT_IDENTITY */
		snprintf(buf, len, "%s", mlde_world_shape_names[value]);
		break;
	}
}

/* Question templates by type and form: {a} and {b} are object descriptions
 * ({A} capitalised), {c} the class counted.  Spatial templates keep
 * "where is {a}" so the phrase after it is always the object asked about. */
static const char *const templates[MLDE_WORLD_NTYPES][2][3] = {
	[MLDE_WT_SCENE] = { {
		"What is the background of the image?",
		"What kind of background does this picture have?",
		"Which background are the shapes drawn on?" } },
	[MLDE_WT_IDENTITY] = { {
		"What shape is {a}?",
		"What is the shape of {a}?",
		"{A} has which shape?" } },
	[MLDE_WT_ATTRIBUTES] = { {
		"What color is {a}?",
		"Which color does {a} have?",
		"What is the color of {a}?" }, {
		"What are the size and color of {a}?",
		"Which describes {a} best?",
		"How would you describe {a}?" } },
	[MLDE_WT_LOCATION] = { {
		"Where is {a} in the image?",
		"In which part of the image is {a}?",
		"Where in the picture is {a}?" } },
	[MLDE_WT_COUNTING] = { {
		"How many {c} are there in the image?",
		"How many {c} can you see?",
		"Count the {c}. How many are there?" }, {
		"How many {c} shapes are there in the image?",
		"How many {c} shapes can you see?",
		"Count the {c} shapes. How many are there?" } },
	[MLDE_WT_SPATIAL] = { {
		"Where is {a} relative to {b}?",
		"In relation to {b}, where is {a}?",
		"Where is {a} located with respect to {b}?" } },
	[MLDE_WT_INTERACTION] = { {
		"What shape is touching {a}?",
		"Which shape is in contact with {a}?",
		"{A} touches another shape. What shape is it?" }, {
		"What color is the shape touching {a}?",
		"Which color is the shape in contact with {a}?",
		"{A} touches another shape. What color is it?" } },
	[MLDE_WT_REASONING] = { {
		"Which shape appears most often?",
		"What is the most common shape in the image?",
		"Which kind of shape is there the most of?" }, {
		"Which color appears most often among the shapes?",
		"What is the most common color of the shapes?",
		"Which color is the most frequent among the shapes?" } },
	[MLDE_WT_TEXT] = { {
		"What letter is written in the image?",
		"Which letter can be seen in the picture?",
		"What letter is shown?" } },
};

const char *mlde_world_template(int type, int form, int k)
{
	if (type < 0 || type >= MLDE_WORLD_NTYPES || form < 0 || form >= mlde_world_nforms(type) ||
	    k < 0 || k >= MLDE_WORLD_TEMPLATES)
		return NULL;
	return templates[type][form][k];
}

void mlde_world_fill_template(const char *tpl, const char *a, const char *b, const char *c,
			      char *out, size_t len)
{
	size_t n = 0;

	for (const char *p = tpl; *p && n + 1 < len; p++) {
		const char *sub = NULL;
		bool cap = false;

		if (p[0] == '{' && p[1] && p[2] == '}') {
			switch (p[1]) {
			case 'a': sub = a; break;
			case 'A': sub = a; cap = true; break;
			case 'b': sub = b; break;
			case 'c': sub = c; break;
			}
		}
		if (!sub) {
			out[n++] = *p;
			continue;
		}
		for (const char *q = sub; *q && n + 1 < len; q++)
			out[n++] = cap && q == sub && *q >= 'a' && *q <= 'z' ? (char)(*q - 32) : *q;
		p += 2;
	}
	out[n] = '\0';
}

/* One question the scene can carry: its answer value, the objects it is
 * about (a, b) and the class it counts. */
typedef struct cand {
	int value, a, b, cls;
} cand;

#define MAX_CANDS 64

/* The class most common among the objects (by shape if form 0, else by
 * colour), or -1 when none is: it must be unique, held by two objects or
 * more, and cover the most pixels too, so that area does not mislead. */
static int most_common(const mlde_world_scene *s, int form)
{
	int count[MLDE_WORLD_NCOLORS] = { 0 }, area[MLDE_WORLD_NCOLORS] = { 0 };
	int n = form ? MLDE_WORLD_NCOLORS : MLDE_WORLD_NSHAPES, best = -1;

	for (int i = 0; i < s->nobj; i++) {
		int c = form ? s->obj[i].color : s->obj[i].shape;

		count[c]++;
		area[c] += mlde_world_object_area(&s->obj[i]);
	}
	for (int c = 0; c < n; c++)
		if (best < 0 || count[c] > count[best])
			best = c;
	if (count[best] < 2)
		return -1;
	for (int c = 0; c < n; c++)
		if (c != best && (count[c] >= count[best] || 10 * area[c] >= 9 * area[best]))
			return -1;
	return best;
}

static int candidates(const mlde_world_scene *s, int type, int form, cand *cs)
{
	int n = 0;

	switch (type) {
	case MLDE_WT_SCENE:
		cs[n++] = (cand){ s->background, -1, -1, -1 };
		break;
	case MLDE_WT_IDENTITY:
		for (int t = 0; t < s->nobj; t++)
			if (describable(s, t, A_COLOR | A_SIZE))
				cs[n++] = (cand){ s->obj[t].shape, t, -1, -1 };
		break;
	case MLDE_WT_ATTRIBUTES:
		for (int t = 0; t < s->nobj; t++)
			if (describable(s, t, form ? A_SHAPE : A_SHAPE | A_SIZE))
				cs[n++] = (cand){ form ? s->obj[t].size * MLDE_WORLD_NCOLORS +
							 s->obj[t].color
						       : s->obj[t].color, t, -1, -1 };
		break;
	case MLDE_WT_LOCATION:
		for (int t = 0; t < s->nobj; t++)
			if (zone_of(&s->obj[t]) >= 0 && describable(s, t, A_ALL))
				cs[n++] = (cand){ zone_of(&s->obj[t]), t, -1, -1 };
		break;
	case MLDE_WT_COUNTING: {
		int nc = form ? MLDE_WORLD_NCOLORS : MLDE_WORLD_NSHAPES;

		for (int c = 0; c < nc; c++) {
			int k = 0;

			for (int i = 0; i < s->nobj; i++)
				k += (form ? s->obj[i].color : s->obj[i].shape) == c;
			if (k >= 1 && k <= 4)
				cs[n++] = (cand){ k - 1, -1, -1, c };
		}
		break;
	}
	case MLDE_WT_SPATIAL:
		for (int a = 0; a < s->nobj; a++)
			for (int b = 0; b < s->nobj; b++)
				if (a != b && relation_of(&s->obj[a], &s->obj[b]) >= 0 &&
				    describable(s, a, A_ALL) && describable(s, b, A_ALL))
					cs[n++] = (cand){ relation_of(&s->obj[a], &s->obj[b]), a, b, -1 };
		break;
	case MLDE_WT_INTERACTION:
		if (s->touch_a < 0)
			break;
		for (int k = 0; k < 2; k++) {
			int a = k ? s->touch_b : s->touch_a, b = k ? s->touch_a : s->touch_b;

			if (describable(s, a, A_ALL))
				cs[n++] = (cand){ form ? s->obj[b].color : s->obj[b].shape, a, b, -1 };
		}
		break;
	case MLDE_WT_REASONING: {
		int c = most_common(s, form);

		if (c >= 0)
			cs[n++] = (cand){ c, -1, -1, -1 };
		break;
	}
	case MLDE_WT_TEXT:
		if (s->letter >= 0)
			cs[n++] = (cand){ s->letter, -1, -1, -1 };
		break;
	}
	return n;
}

int mlde_world_true_value(const mlde_world_scene *s, int type, int form, int a, int b, int cls)
{
	bool has_a = a >= 0 && a < s->nobj, has_b = b >= 0 && b < s->nobj;

	switch (type) {
	case MLDE_WT_SCENE:
		return s->background;
	case MLDE_WT_IDENTITY:
		return has_a ? s->obj[a].shape : -1;
	case MLDE_WT_ATTRIBUTES:
		if (!has_a)
			return -1;
		return form ? s->obj[a].size * MLDE_WORLD_NCOLORS + s->obj[a].color : s->obj[a].color;
	case MLDE_WT_LOCATION:
		return has_a ? zone_of(&s->obj[a]) : -1;
	case MLDE_WT_COUNTING: {
		int k = 0;

		if (cls < 0)
			return -1;
		for (int i = 0; i < s->nobj; i++)
			k += (form ? s->obj[i].color : s->obj[i].shape) == cls;
		return k - 1;  /* -1 when there are none: nothing to count */
	}
	case MLDE_WT_SPATIAL:
		return has_a && has_b && a != b ? relation_of(&s->obj[a], &s->obj[b]) : -1;
	case MLDE_WT_INTERACTION: {
		int p = a == s->touch_a ? s->touch_b : a == s->touch_b ? s->touch_a : -1;

		if (!has_a || s->touch_a < 0 || p < 0)
			return -1;
		return form ? s->obj[p].color : s->obj[p].shape;
	}
	case MLDE_WT_REASONING:
		return most_common(s, form);
	case MLDE_WT_TEXT:
		return s->letter;
	default:
		return -1;
	}
}

/* Which attributes may describe the object asked about: never the one the
 * question asks for. */
static int allowed_for(int type, int form)
{
	if (type == MLDE_WT_IDENTITY)
		return A_COLOR | A_SIZE;
	if (type == MLDE_WT_ATTRIBUTES)
		return form ? A_SHAPE : A_SHAPE | A_SIZE;
	return A_ALL;
}

/* Why the answer is right, in one sentence from the annotations: the
 * Explanation an LLM is asked for.  a is the description of the object
 * asked about, b of the other one. */
static void explain(const mlde_world_scene *s, const cand *pick, int type, int form,
		    const char *a, const char *b, char *out, size_t len)
{
	char capa[64];

	snprintf(capa, sizeof capa, "%s", a);
	if (capa[0] >= 'a' && capa[0] <= 'z')
		capa[0] = (char)(capa[0] - 32);
	switch (type) {
	case MLDE_WT_SCENE:
		snprintf(out, len, "The background is %s.",
			 mlde_world_background_names[s->background]);
		break;
	case MLDE_WT_IDENTITY:
		snprintf(out, len, "%s is a %s.", capa,
			 mlde_world_shape_names[s->obj[pick->a].shape]);
		break;
	case MLDE_WT_ATTRIBUTES:
		if (form)
			snprintf(out, len, "%s is %s and %s.", capa,
				 mlde_world_size_names[pick->value / MLDE_WORLD_NCOLORS],
				 mlde_world_color_names[pick->value % MLDE_WORLD_NCOLORS]);
		else
			snprintf(out, len, "%s is %s.", capa, mlde_world_color_names[pick->value]);
		break;
	case MLDE_WT_LOCATION:
		snprintf(out, len, "%s is in the %s of the image.", capa,
			 mlde_world_zone_names[pick->value]);
		break;
	case MLDE_WT_COUNTING:
		if (form)
			snprintf(out, len, "There %s %d %s shape%s.", pick->value ? "are" : "is",
				 pick->value + 1, mlde_world_color_names[pick->cls],
				 pick->value ? "s" : "");
		else
			snprintf(out, len, "There %s %d %s.", pick->value ? "are" : "is",
				 pick->value + 1, pick->value ? mlde_world_shape_plurals[pick->cls]
							      : mlde_world_shape_names[pick->cls]);
		break;
	case MLDE_WT_SPATIAL:
		snprintf(out, len, "%s is %s%s%s.", capa, mlde_world_relation_names[pick->value],
			 pick->value < 2 ? " of " : " ", b);
		break;
	case MLDE_WT_INTERACTION: {
		const mlde_world_object *o = &s->obj[pick->b];

		snprintf(out, len, "%s touches a %s %s %s.", capa, mlde_world_size_names[o->size],
			 mlde_world_color_names[o->color], mlde_world_shape_names[o->shape]);
		break;
	}
	case MLDE_WT_REASONING: {
		const char *what = form ? mlde_world_color_names[pick->value]
					: mlde_world_shape_plurals[pick->value];
		int n = 0;

		for (int i = 0; i < s->nobj; i++)
			n += (form ? s->obj[i].color : s->obj[i].shape) == pick->value;
		if (n == s->nobj)
			snprintf(out, len, "All %d shapes are %s.", n, what);
		else
			snprintf(out, len, "%d of the %d shapes are %s, more than any other %s.", n,
				 s->nobj, what, form ? "color" : "shape");
		break;
	}
	case MLDE_WT_TEXT:
		snprintf(out, len, "The letter %c is written in the image.",
			 mlde_world_letters[s->letter]);
		break;
	}
}

int mlde_world_ask(const mlde_world_scene *s, int type, int form, int want,
		   mlde_rng *rng, mlde_world_item *item)
{
	cand cs[MAX_CANDS];
	int n, k = 0, domain, others[16], nothers = 0, slots[MLDE_WORLD_OPTIONS];
	char a[64] = "", b[64] = "", c[32] = "";
	const cand *pick;

	if (type < 0 || type >= MLDE_WORLD_NTYPES)
		return 0;
	if (form < 0)
		form = below(rng, mlde_world_nforms(type));
	n = candidates(s, type, form, cs);
	for (int i = 0; i < n; i++)
		if (want < 0 || cs[i].value == want)
			cs[k++] = cs[i];
	if (k == 0)
		return 0;
	pick = &cs[below(rng, k)];

	memset(item, 0, sizeof *item);
	item->type = type;
	item->form = form;
	item->value = pick->value;
	if (pick->a >= 0)
		describe(s, pick->a, allowed_for(type, form), rng, a, sizeof a);
	if (pick->b >= 0 && type == MLDE_WT_SPATIAL)
		describe(s, pick->b, A_ALL, rng, b, sizeof b);
	if (pick->cls >= 0)
		snprintf(c, sizeof c, "%s", form ? mlde_world_color_names[pick->cls]
						 : mlde_world_shape_plurals[pick->cls]);
	mlde_world_fill_template(templates[type][form][below(rng, 3)], a, b, c, item->question,
				 sizeof item->question);
	item->a = pick->a;
	item->b = pick->b;
	item->cls = pick->cls;
	snprintf(item->about_a, sizeof item->about_a, "%s", a);
	snprintf(item->about_b, sizeof item->about_b, "%s", b);
	explain(s, pick, type, form, a, b, item->rationale, sizeof item->rationale);

	/* the answer and three other values of the domain, in a random order;
	 * what touches an object never has its colour (the two would merge), so
	 * that colour is no option: it would be one the text rules out */
	domain = mlde_world_domain(type, form);
	for (int v = 0; v < domain; v++)
		if (v != pick->value && !(type == MLDE_WT_INTERACTION && form == 1 &&
					  v == s->obj[pick->a].color))
			others[nothers++] = v;
	mlde_rng_shuffle(rng, others, (size_t)nothers, sizeof *others);
	slots[0] = pick->value;
	for (int i = 1; i < MLDE_WORLD_OPTIONS; i++)
		slots[i] = others[i - 1];
	mlde_rng_shuffle(rng, slots, MLDE_WORLD_OPTIONS, sizeof *slots);
	for (int i = 0; i < MLDE_WORLD_OPTIONS; i++) {
		mlde_world_value_name(type, form, slots[i], item->options[i],
				      sizeof item->options[i]);
		if (slots[i] == pick->value)
			item->answer = i;
	}
	return 1;
}

void mlde_world_make_item(int type, mlde_rng *rng, mlde_world_scene *s,
			  mlde_world_item *item)
{
	int form = below(rng, mlde_world_nforms(type));
	int want = below(rng, mlde_world_domain(type, form));
	mlde_world_spec spec;

	mlde_world_spec_default(&spec);
	switch (type) {
	case MLDE_WT_SCENE:
		spec.background = want;
		break;
	case MLDE_WT_COUNTING:
		/* want + 1 objects of one class, and no other of that class */
		spec.force_attr = form ? 2 : 1;
		spec.force_value = below(rng, form ? MLDE_WORLD_NCOLORS : MLDE_WORLD_NSHAPES);
		spec.force_count = want + 1;
		spec.min_obj = want + 1;
		break;
	case MLDE_WT_SPATIAL:
		spec.min_obj = 2;
		break;
	case MLDE_WT_INTERACTION:
		spec.min_obj = 2;
		spec.touch = true;
		break;
	case MLDE_WT_REASONING:
		spec.force_attr = form ? 2 : 1;
		spec.force_value = want;
		spec.force_count = 2 + below(rng, 2);
		spec.min_obj = spec.force_count;
		break;
	case MLDE_WT_TEXT:
		spec.letter = want;
		break;
	}
	/* every draw is cheap (no pixels yet); a very unlucky run gives up the
	 * wanted answer rather than loop for ever */
	for (int t = 0;; t++) {
		mlde_world_scene_make(s, &spec, rng);
		if (mlde_world_ask(s, type, form, t < MAKE_TRIES ? want : -1, rng, item))
			return;
		if (t > 4 * MAKE_TRIES)
			mlde_world_spec_default(&spec);
	}
}

jv mlde_world_item_record(const mlde_world_item *item, const char *id, const char *image)
{
	mlde_item it = {
		.id = id, .image = image, .question = item->question,
		.nopt = MLDE_WORLD_OPTIONS, .answer = item->answer,
		.type = mlde_world_type_names[item->type], .rationale = item->rationale,
		.source = "world",
	};

	for (int i = 0; i < MLDE_WORLD_OPTIONS; i++)
		it.options[i] = item->options[i];
	return mlde_item_record(&it);
}

/* ---- annotations ---- */

/* multiples of 1/64: exact in binary, so the pixels come back exactly */
static void fraction_box(int x1, int y1, int x2, int y2, double out[4])
{
	out[0] = (double)x1 / SIDE;
	out[1] = (double)y1 / SIDE;
	out[2] = (double)x2 / SIDE;
	out[3] = (double)y2 / SIDE;
}

/* "top left", "top", ... by thirds: loose, as a person would say it. */
static const char *rough_place(const mlde_world_object *o)
{
	static const char *const places[3][3] = {
		{ "top left", "top", "top right" },
		{ "left", "middle", "right" },
		{ "bottom left", "bottom", "bottom right" },
	};
	int h = o->cx < 22 ? 0 : o->cx > 41 ? 2 : 1, v = o->cy < 22 ? 0 : o->cy > 41 ? 2 : 1;

	return places[v][h];
}

static void full_name(const mlde_world_object *o, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s", mlde_world_size_names[o->size],
		 mlde_world_color_names[o->color], mlde_world_shape_names[o->shape]);
}

static jv captions(const mlde_world_scene *s)
{
	jv caps = jv_array();
	static const char *const counts[] = { "No", "One", "Two", "Three", "Four", "Five" };
	char line[512], name[64], other[64];
	size_t n;

	snprintf(line, sizeof line, "%s %s%s on a %s background.", counts[s->nobj],
		 s->nobj == 1 ? "shape" : "shapes",
		 s->letter >= 0 ? " and a letter" : "",
		 mlde_world_background_names[s->background]);
	caps = jv_array_append(caps, jv_string(line));

	/* with no shapes, say what there is: the letter, or nothing, on the
	 * background (not a bare "The image shows.") */
	if (s->nobj == 0 && s->letter >= 0)
		n = (size_t)snprintf(line, sizeof line, "The image shows the letter %c on a %s "
				     "background", mlde_world_letters[s->letter],
				     mlde_world_background_names[s->background]);
	else if (s->nobj == 0)
		n = (size_t)snprintf(line, sizeof line, "The image shows an empty %s background",
				     mlde_world_background_names[s->background]);
	else
		n = (size_t)snprintf(line, sizeof line, "The image shows");
	for (int i = 0; i < s->nobj && n < sizeof line; i++) {
		full_name(&s->obj[i], name, sizeof name);
		n += (size_t)snprintf(line + n, sizeof line - n, "%s a %s",
				      i == 0 ? "" : i == s->nobj - 1 ? " and" : ",", name);
	}
	if (n < sizeof line)
		snprintf(line + n, sizeof line - n, ".");
	caps = jv_array_append(caps, jv_string(line));

	for (int i = 0; i < s->nobj; i++) {
		const char *place = rough_place(&s->obj[i]);

		full_name(&s->obj[i], name, sizeof name);
		snprintf(line, sizeof line, "The %s is %s %s.", name,
			 strcmp(place, "middle") == 0 ? "in the" : "at the", place);
		caps = jv_array_append(caps, jv_string(line));
	}
	if (s->touch_a >= 0) {
		full_name(&s->obj[s->touch_b], name, sizeof name);
		full_name(&s->obj[s->touch_a], other, sizeof other);
		snprintf(line, sizeof line, "The %s touches the %s.", name, other);
		caps = jv_array_append(caps, jv_string(line));
	}
	if (s->letter >= 0) {
		snprintf(line, sizeof line, "The letter %c is written in %s.",
			 mlde_world_letters[s->letter], s->background == 1 ? "white" : "black");
		caps = jv_array_append(caps, jv_string(line));
	}
	return caps;
}

jv mlde_world_scene_record(const mlde_world_scene *s, const char *image)
{
	jv rec, objs = jv_array();
	double frac[4];

	for (int i = 0; i < s->nobj; i++) {
		const mlde_world_object *o = &s->obj[i];
		box b = object_box(o);
		jv obj;

		fraction_box(b.x1, b.y1, b.x2 + 1, b.y2 + 1, frac);
		obj = mlde_pool_object(mlde_world_shape_names[o->shape], frac);
		obj = jv_object_set(obj, jv_string(MLDE_F_COLOR),
				    jv_string(mlde_world_color_names[o->color]));
		obj = jv_object_set(obj, jv_string(MLDE_F_SIZE),
				    jv_string(mlde_world_size_names[o->size]));
		if (i == s->touch_a || i == s->touch_b)
			obj = jv_object_set(obj, jv_string(MLDE_F_TOUCHING),
					    jv_array_append(jv_array(), jv_number(i == s->touch_a
										 ? s->touch_b
										 : s->touch_a)));
		objs = jv_array_append(objs, obj);
	}
	rec = mlde_pool_record(image, captions(s), objs);
	rec = jv_object_set(rec, jv_string(MLDE_F_BACKGROUND),
			    jv_string(mlde_world_background_names[s->background]));
	if (s->letter >= 0) {
		char text[2] = { mlde_world_letters[s->letter], '\0' };

		fraction_box(s->tx, s->ty, s->tx + GLYPH_W, s->ty + GLYPH_H, frac);
		rec = jv_object_set(rec, jv_string(MLDE_F_TEXT), jv_string(text));
		rec = jv_object_set(rec, jv_string(MLDE_F_TEXT_BBOX), mlde_bbox_record(frac));
	} else {
		rec = jv_object_set(rec, jv_string(MLDE_F_TEXT), jv_null());
	}
	return rec;
}

/* Field key of the object obj as a string in buf: 0, or -1 when it is
 * missing or not a string. */
static int get_string(jv obj, const char *key, char *buf, size_t len)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	int rc = -1;

	if (jv_get_kind(v) == JV_KIND_STRING) {
		snprintf(buf, len, "%s", jv_string_value(v));
		rc = 0;
	}
	jv_free(v);
	return rc;
}

/* A bbox of fractions back to pixels (x2, y2 exclusive); -1 unless it is four
 * numbers on the 1/64 grid. */
static int get_box(jv obj, const char *key, int px[4])
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	int rc = 0;

	if (jv_get_kind(v) != JV_KIND_ARRAY || jv_array_length(jv_copy(v)) != 4) {
		jv_free(v);
		return -1;
	}
	for (int i = 0; i < 4 && rc == 0; i++) {
		jv x = jv_array_get(jv_copy(v), i);
		double d = jv_get_kind(x) == JV_KIND_NUMBER ? jv_number_value(x) * SIDE : -1.0;

		px[i] = (int)(d + 0.5);
		if (d < 0.0 || d > SIDE || d - px[i] > 1e-6 || px[i] - d > 1e-6)
			rc = -1;
		jv_free(x);
	}
	jv_free(v);
	return rc;
}

static int parse_object(jv obj, int i, mlde_world_object *o, mlde_error *err)
{
	char buf[64];
	int px[4], r;

	if (jv_get_kind(obj) != JV_KIND_OBJECT) {
		mlde_error_set(err, MLDE_EXIT_DATA, "objects[%d]: expected object, got %s", i,
			       mlde_kind_name(jv_get_kind(obj)));
		return -1;
	}
	if (get_string(obj, MLDE_F_NAME, buf, sizeof buf) < 0 ||
	    (o->shape = mlde_world_lookup(mlde_world_shape_names, MLDE_WORLD_NSHAPES, buf)) < 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "objects[%d].name: not a world shape", i);
		return -1;
	}
	if (get_string(obj, MLDE_F_COLOR, buf, sizeof buf) < 0 ||
	    (o->color = mlde_world_lookup(mlde_world_color_names, MLDE_WORLD_NCOLORS, buf)) < 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "objects[%d].color: not a world color", i);
		return -1;
	}
	if (get_string(obj, MLDE_F_SIZE, buf, sizeof buf) < 0 ||
	    (o->size = mlde_world_lookup(mlde_world_size_names, MLDE_WORLD_NSIZES, buf)) < 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "objects[%d].size: not small or large", i);
		return -1;
	}
	r = mlde_world_radius[o->size];
	if (get_box(obj, MLDE_F_BBOX, px) < 0 || px[2] - px[0] != 2 * r + 1 ||
	    px[3] - px[1] != 2 * r + 1) {
		mlde_error_set(err, MLDE_EXIT_DATA,
			       "objects[%d].bbox: not the box of a %s shape on the %dx%d grid",
			       i, mlde_world_size_names[o->size], SIDE, SIDE);
		return -1;
	}
	o->cx = px[0] + r;
	o->cy = px[1] + r;
	return 0;
}

/* The touching pair from the objects' "touching" lists: at most one pair,
 * named from both sides. */
static int parse_touching(jv objs, mlde_world_scene *s, mlde_error *err)
{
	int partner[MLDE_WORLD_MAX_OBJECTS];

	for (int i = 0; i < s->nobj; i++) {
		jv t = jv_object_get(jv_array_get(jv_copy(objs), i), jv_string(MLDE_F_TOUCHING));
		jv_kind k = jv_get_kind(t);
		bool bad = k != JV_KIND_INVALID && k != JV_KIND_NULL && k != JV_KIND_ARRAY;

		partner[i] = -1;
		if (k == JV_KIND_ARRAY && jv_array_length(jv_copy(t)) > 0) {
			jv j = jv_array_get(jv_copy(t), 0);

			if (jv_get_kind(j) == JV_KIND_NUMBER)
				partner[i] = (int)jv_number_value(j);
			jv_free(j);
			bad = jv_array_length(jv_copy(t)) != 1 || partner[i] < 0 ||
			      partner[i] >= s->nobj || partner[i] == i;
		}
		jv_free(t);
		if (bad) {
			mlde_error_set(err, MLDE_EXIT_DATA,
				       "objects[%d].touching: expected [index of one other object]", i);
			return -1;
		}
	}
	for (int i = 0; i < s->nobj; i++) {
		if (partner[i] < 0)
			continue;
		if (partner[partner[i]] != i || (s->touch_a >= 0 && s->touch_a != i &&
						 s->touch_b != i)) {
			mlde_error_set(err, MLDE_EXIT_DATA,
				       "objects[%d].touching: the world has at most one touching "
				       "pair, named from both sides", i);
			return -1;
		}
		s->touch_a = i < partner[i] ? i : partner[i];
		s->touch_b = i < partner[i] ? partner[i] : i;
	}
	return 0;
}

int mlde_world_scene_from_record(jv rec, mlde_world_scene *s, mlde_error *err)
{
	char buf[64];
	jv objs, text;
	int rc = 0, n;

	memset(s, 0, sizeof *s);
	s->touch_a = s->touch_b = s->letter = -1;
	if (jv_get_kind(rec) != JV_KIND_OBJECT) {
		mlde_error_set(err, MLDE_EXIT_DATA, "pool record: expected object");
		return -1;
	}
	if (get_string(rec, MLDE_F_BACKGROUND, buf, sizeof buf) < 0 ||
	    (s->background = mlde_world_lookup(mlde_world_background_names,
					       MLDE_WORLD_NBACKGROUNDS, buf)) < 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "background: not a world background");
		return -1;
	}
	objs = jv_object_get(jv_copy(rec), jv_string(MLDE_F_OBJECTS));
	if (jv_get_kind(objs) != JV_KIND_ARRAY ||
	    (n = jv_array_length(jv_copy(objs))) > MLDE_WORLD_MAX_OBJECTS) {
		mlde_error_set(err, MLDE_EXIT_DATA, "objects: expected an array of at most %d",
			       MLDE_WORLD_MAX_OBJECTS);
		jv_free(objs);
		return -1;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		jv o = jv_array_get(jv_copy(objs), i);

		rc = parse_object(o, i, &s->obj[i], err);
		jv_free(o);
		s->nobj = i + 1;
	}
	if (rc == 0)
		rc = parse_touching(objs, s, err);
	jv_free(objs);
	if (rc < 0)
		return -1;

	text = jv_object_get(jv_copy(rec), jv_string(MLDE_F_TEXT));
	if (jv_get_kind(text) == JV_KIND_STRING) {
		const char *t = jv_string_value(text), *at = strchr(mlde_world_letters, t[0]);
		int px[4];

		if (!t[0] || t[1] || !at || get_box(rec, MLDE_F_TEXT_BBOX, px) < 0 ||
		    px[2] - px[0] != GLYPH_W || px[3] - px[1] != GLYPH_H) {
			mlde_error_set(err, MLDE_EXIT_DATA,
				       "text: expected one of the letters %s with its text_bbox",
				       mlde_world_letters);
			rc = -1;
		} else {
			s->letter = (int)(at - mlde_world_letters);
			s->tx = px[0];
			s->ty = px[1];
		}
	} else if (jv_get_kind(text) != JV_KIND_NULL && jv_get_kind(text) != JV_KIND_INVALID) {
		mlde_error_set(err, MLDE_EXIT_DATA, "text: expected string or null");
		rc = -1;
	}
	jv_free(text);
	return rc;
}
