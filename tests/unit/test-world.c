/* test-world.c - unit tests of tools/lib/world/world.c.  The heart is an
 * independent checker: for every item it reads the object phrases back out
 * of the question text, resolves them against the scene rebuilt from its
 * pool record, recomputes the answer with its own geometry, and compares.
 * Also: the pixels match the annotations, answers and their positions are
 * uniform, a text-only guesser stays near chance, and bad pool records fail. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "world/world.h"

#define SIDE MLDE_WORLD_SIDE
#define ITEMS_PER_TYPE 400

/* ---- the checker: nothing below calls the question writers ---- */

typedef struct phrase {
	int size, color, shape;  /* -1 when the phrase does not say */
	const char *at;          /* where "the" starts in the lowered question */
} phrase;

static int word_at(const char *p, const char *const *words, int n, size_t *len)
{
	for (int i = 0; i < n; i++) {
		size_t k = strlen(words[i]);

		if (strncmp(p, words[i], k) == 0 && !isalpha((unsigned char)p[k])) {
			*len = k;
			return i;
		}
	}
	return -1;
}

/* Every "the [size] [color] (shape|object)" in q (lowered). */
static int phrases(const char *q, phrase *out, int max)
{
	int n = 0;

	for (const char *p = q; (p = strstr(p, "the ")) != NULL; p++) {
		const char *w = p + 4;
		phrase ph = { -1, -1, -1, p };
		size_t len;
		static const char *const object[] = { "object" };

		if (p > q && isalpha((unsigned char)p[-1]))
			continue;
		if ((ph.size = word_at(w, mlde_world_size_names, MLDE_WORLD_NSIZES, &len)) >= 0)
			w += len + 1;
		if ((ph.color = word_at(w, mlde_world_color_names, MLDE_WORLD_NCOLORS, &len)) >= 0)
			w += len + 1;
		if ((ph.shape = word_at(w, mlde_world_shape_names, MLDE_WORLD_NSHAPES, &len)) < 0 &&
		    word_at(w, object, 1, &len) < 0)
			continue;
		if (n < max)
			out[n++] = ph;
	}
	return n;
}

/* The one object the phrase names, or -1. */
static int resolve(const mlde_world_scene *s, const phrase *ph)
{
	int found = -1, n = 0;

	for (int i = 0; i < s->nobj; i++) {
		const mlde_world_object *o = &s->obj[i];

		if ((ph->size < 0 || o->size == ph->size) && (ph->color < 0 || o->color == ph->color) &&
		    (ph->shape < 0 || o->shape == ph->shape)) {
			found = i;
			n++;
		}
	}
	return n == 1 ? found : -1;
}

/* The zones, by their own reading of mlde-world(1): left of x 24, right of
 * x 39, the centre 27..36, both axes; NULL in between. */
static const char *zone(const mlde_world_object *o)
{
	int h = o->cx < 24 ? 0 : o->cx > 39 ? 2 : o->cx > 26 && o->cx < 37 ? 1 : -1;
	int v = o->cy < 24 ? 0 : o->cy > 39 ? 2 : o->cy > 26 && o->cy < 37 ? 1 : -1;
	static const char *const names[3][3] = {
		{ "top left", NULL, "top right" },
		{ NULL, "center", NULL },
		{ "bottom left", NULL, "bottom right" },
	};

	return h < 0 || v < 0 ? NULL : names[v][h];
}

static const char *relation(const mlde_world_object *a, const mlde_world_object *b)
{
	int dx = a->cx - b->cx, dy = a->cy - b->cy, ax = abs(dx), ay = abs(dy);

	if (ax >= 8 && ax >= 2 * ay)
		return dx < 0 ? "to the left" : "to the right";
	if (ay >= 8 && ay >= 2 * ax)
		return dy < 0 ? "above" : "below";
	return NULL;
}

/* Do the pixels of a and b meet (share or neighbour a pixel)? */
static int touch(const mlde_world_object *a, const mlde_world_object *b)
{
	for (int y = 0; y < SIDE; y++)
		for (int x = 0; x < SIDE; x++)
			if (mlde_world_object_covers(a, x, y))
				for (int dy = -1; dy <= 1; dy++)
					for (int dx = -1; dx <= 1; dx++)
						if (mlde_world_object_covers(b, x + dx, y + dy))
							return 1;
	return 0;
}

static char truth[64];
static char why[160];

/* The right answer's text by the checker's own reading, or NULL (why says). */
static const char *recompute(const mlde_world_scene *s, const mlde_world_item *it)
{
	char q[256];
	phrase ph[4];
	int np, t = -1, counts[MLDE_WORLD_NCOLORS] = { 0 };
	size_t len;

	for (size_t i = 0; i <= strlen(it->question); i++)
		q[i] = (char)tolower((unsigned char)it->question[i]);
	np = phrases(q, ph, 4);
	if (np >= 1)
		t = resolve(s, &ph[0]);
	switch (it->type) {
	case MLDE_WT_SCENE:
		return mlde_world_background_names[s->background];
	case MLDE_WT_IDENTITY:
		if (np != 1 || t < 0 || ph[0].shape >= 0)
			return snprintf(why, sizeof why, "no unique shapeless phrase"), NULL;
		return mlde_world_shape_names[s->obj[t].shape];
	case MLDE_WT_ATTRIBUTES:
		if (np != 1 || t < 0 || ph[0].color >= 0)
			return snprintf(why, sizeof why, "no unique colourless phrase"), NULL;
		if (strstr(q, "size") || strstr(q, "describ")) {
			if (ph[0].size >= 0)
				return snprintf(why, sizeof why, "the phrase gives the size"), NULL;
			snprintf(truth, sizeof truth, "%s %s", mlde_world_size_names[s->obj[t].size],
				 mlde_world_color_names[s->obj[t].color]);
			return truth;
		}
		return mlde_world_color_names[s->obj[t].color];
	case MLDE_WT_LOCATION:
		if (np != 1 || t < 0 || !zone(&s->obj[t]))
			return snprintf(why, sizeof why, "no unique phrase, or a border zone"), NULL;
		return zone(&s->obj[t]);
	case MLDE_WT_COUNTING: {
		int n = 0, shape = -1, color = -1;

		for (const char *p = q; *p && shape < 0; p++)
			if (p == q || !isalpha((unsigned char)p[-1]))
				shape = word_at(p, mlde_world_shape_plurals, MLDE_WORLD_NSHAPES, &len);
		for (const char *p = q; *p && shape < 0 && color < 0; p++)
			if (p == q || !isalpha((unsigned char)p[-1]))
				color = word_at(p, mlde_world_color_names, MLDE_WORLD_NCOLORS, &len);
		if (shape < 0 && color < 0)
			return snprintf(why, sizeof why, "counts nothing"), NULL;
		for (int i = 0; i < s->nobj; i++)
			n += shape >= 0 ? s->obj[i].shape == shape : s->obj[i].color == color;
		snprintf(truth, sizeof truth, "%d", n);
		return truth;
	}
	case MLDE_WT_SPATIAL: {
		const char *w = strstr(q, "where is ");
		int a, b;

		if (np != 2 || !w)
			return snprintf(why, sizeof why, "not two phrases"), NULL;
		a = ph[0].at == w + 9 ? 0 : ph[1].at == w + 9 ? 1 : -1;
		if (a < 0)
			return snprintf(why, sizeof why, "no phrase after 'where is'"), NULL;
		b = resolve(s, &ph[1 - a]);
		a = resolve(s, &ph[a]);
		if (a < 0 || b < 0 || a == b || !relation(&s->obj[a], &s->obj[b]))
			return snprintf(why, sizeof why, "unresolved or unclear pair"), NULL;
		return relation(&s->obj[a], &s->obj[b]);
	}
	case MLDE_WT_INTERACTION: {
		int partner = -1, n = 0;

		if (np != 1 || t < 0)
			return snprintf(why, sizeof why, "no unique phrase"), NULL;
		for (int i = 0; i < s->nobj; i++)
			if (i != t && touch(&s->obj[t], &s->obj[i]))
				partner = i, n++;
		if (n != 1)
			return snprintf(why, sizeof why, "%d objects touch it", n), NULL;
		return strstr(q, "color") ? mlde_world_color_names[s->obj[partner].color]
					  : mlde_world_shape_names[s->obj[partner].shape];
	}
	case MLDE_WT_REASONING: {
		int by_color = strstr(q, "color") != NULL, best = 0, ties = 0;

		for (int i = 0; i < s->nobj; i++)
			counts[by_color ? s->obj[i].color : s->obj[i].shape]++;
		for (int c = 1; c < MLDE_WORLD_NCOLORS; c++)
			if (counts[c] > counts[best])
				best = c;
		for (int c = 0; c < MLDE_WORLD_NCOLORS; c++)
			ties += counts[c] == counts[best];
		if (ties != 1)
			return snprintf(why, sizeof why, "no single most common"), NULL;
		return by_color ? mlde_world_color_names[best] : mlde_world_shape_names[best];
	}
	case MLDE_WT_TEXT:
		if (s->letter < 0)
			return snprintf(why, sizeof why, "no letter"), NULL;
		snprintf(truth, sizeof truth, "%c", mlde_world_letters[s->letter]);
		return truth;
	}
	return NULL;
}

/* Options: four, distinct, the right one at answer and nowhere else. */
static int check_item(const mlde_world_scene *s, const mlde_world_item *it)
{
	const char *want = recompute(s, it);

	if (it->answer < 0 || it->answer >= MLDE_WORLD_OPTIONS)
		return snprintf(why, sizeof why, "answer %d out of range", it->answer), 0;
	for (int i = 0; i < MLDE_WORLD_OPTIONS; i++)
		for (int j = i + 1; j < MLDE_WORLD_OPTIONS; j++)
			if (strcmp(it->options[i], it->options[j]) == 0)
				return snprintf(why, sizeof why, "option '%s' twice", it->options[i]), 0;
	if (!want)
		return 0;
	if (strcmp(it->options[it->answer], want) != 0)
		return snprintf(why, sizeof why, "answer '%s', recomputed '%s'",
				it->options[it->answer], want), 0;
	return 1;
}

/* ---- pixels against annotations ---- */

/* Label 4-connected regions of one exact object colour; each object must be
 * one region of its colour inside its box, and there must be no others. */
static int check_pixels(const mlde_world_scene *s, const unsigned char *rgb)
{
	static int label[SIDE * SIDE], stack[SIDE * SIDE];
	int regions = 0, ink = 0, glyph = 0;

	memset(label, 0, sizeof label);
	for (int p = 0; p < SIDE * SIDE; p++) {
		int c = -1, top = 0, obj = -1, n = 0;

		for (int k = 0; k < MLDE_WORLD_NCOLORS; k++)
			if (memcmp(rgb + p * 3, mlde_world_color_rgb[k], 3) == 0)
				c = k;
		if (c < 0) {
			ink += rgb[p * 3] == (s->background == 1 ? 240 : 10);
			continue;
		}
		if (label[p])
			continue;
		label[p] = ++regions;
		stack[top++] = p;
		while (top) {
			int q = stack[--top], x = q % SIDE, y = q / SIDE;
			int nb[4] = { x > 0 ? q - 1 : -1, x < SIDE - 1 ? q + 1 : -1,
				      y > 0 ? q - SIDE : -1, y < SIDE - 1 ? q + SIDE : -1 };

			n++;
			for (int i = 0; i < s->nobj; i++) {
				int r = mlde_world_object_radius(&s->obj[i]);

				if (s->obj[i].color == c && abs(x - s->obj[i].cx) <= r &&
				    abs(y - s->obj[i].cy) <= r)
					obj = obj == -1 || obj == i ? i : -2;
			}
			for (int k = 0; k < 4; k++)
				if (nb[k] >= 0 && !label[nb[k]] &&
				    memcmp(rgb + nb[k] * 3, mlde_world_color_rgb[c], 3) == 0) {
					label[nb[k]] = regions;
					stack[top++] = nb[k];
				}
		}
		/* most of the object shows (a touching one may hide a fifth) */
		if (obj < 0 || 5 * n < 4 * mlde_world_object_area(&s->obj[obj]))
			return snprintf(why, sizeof why,
					"region %d (colour %d, %d pixels, object %d) is no whole object",
					regions, c, n, obj), 0;
	}
	if (regions != s->nobj)
		return snprintf(why, sizeof why, "%d regions, %d objects", regions, s->nobj), 0;
	if (s->letter >= 0)
		for (int y = 0; y < 7; y++)
			for (int x = 0; x < 5; x++)
				glyph += mlde_world_glyph_bit(s->letter, x, y) * MLDE_WORLD_GLYPH_SCALE * MLDE_WORLD_GLYPH_SCALE;
	if (ink != glyph)
		return snprintf(why, sizeof why, "%d ink pixels, the letter has %d", ink, glyph), 0;
	return 1;
}

/* ---- tests ---- */

static int same_scene(const mlde_world_scene *a, const mlde_world_scene *b)
{
	if (a->background != b->background || a->nobj != b->nobj || a->letter != b->letter ||
	    a->touch_a != b->touch_a || a->touch_b != b->touch_b)
		return 0;
	if (a->letter >= 0 && (a->tx != b->tx || a->ty != b->ty))
		return 0;
	for (int i = 0; i < a->nobj; i++)
		if (memcmp(&a->obj[i], &b->obj[i], sizeof a->obj[i]) != 0)
			return 0;
	return 1;
}

static void test_items(void)
{
	static unsigned char rgb[SIDE * SIDE * 3];

	for (int type = 0; type < MLDE_WORLD_NTYPES; type++) {
		int bad = 0, bad_pixels = 0, bad_record = 0, pos[MLDE_WORLD_OPTIONS] = { 0 };
		int value[2][12] = { { 0 } }, form_n[2] = { 0 }, low = 0;
		char first_why[400] = "";

		for (int k = 0; k < ITEMS_PER_TYPE; k++) {
			mlde_rng rng;
			mlde_world_scene s, back;
			mlde_world_item it;
			mlde_error err;
			jv rec;

			mlde_rng_seed2(&rng, 7, (uint64_t)type << 32 | (uint64_t)k);
			mlde_world_make_item(type, &rng, &s, &it);
			rec = mlde_world_scene_record(&s, "x.png");
			if (mlde_world_scene_from_record(rec, &back, &err) < 0 || !same_scene(&s, &back)) {
				bad_record++;
				jv_free(rec);
				continue;
			}
			jv_free(rec);
			if (!check_item(&back, &it) && bad++ == 0)
				snprintf(first_why, sizeof first_why, "'%s': %s", it.question, why);
			mlde_world_render(&s, rgb);
			if (!check_pixels(&s, rgb) && bad_pixels++ == 0)
				snprintf(first_why, sizeof first_why, "pixels %d: %s", k, why);
			pos[it.answer]++;
			value[it.form][it.value]++;
			form_n[it.form]++;
		}
		TAP_IS_INT(bad_record, 0, "%s: pool records round trip", mlde_world_type_names[type]);
		TAP_IS_INT(bad, 0, "%s: every answer recomputed from the annotations %s",
			   mlde_world_type_names[type], first_why);
		TAP_IS_INT(bad_pixels, 0, "%s: the pixels show the annotated objects %s",
			   mlde_world_type_names[type], first_why);
		/* 100 expected per position; 60 is far outside chance */
		TAP_OK(pos[0] > 60 && pos[1] > 60 && pos[2] > 60 && pos[3] > 60,
		       "%s: answer positions uniform (%d %d %d %d)", mlde_world_type_names[type],
		       pos[0], pos[1], pos[2], pos[3]);
		for (int f = 0; f < mlde_world_nforms(type); f++)
			for (int v = 0; v < mlde_world_domain(type, f); v++)
				low += 3 * value[f][v] * mlde_world_domain(type, f) < form_n[f];
		TAP_IS_INT(low, 0, "%s: every answer value about as likely as another",
			   mlde_world_type_names[type]);
		if (low)
			for (int f = 0; f < mlde_world_nforms(type); f++)
				for (int v = 0; v < mlde_world_domain(type, f); v++)
					printf("#   form %d value %d: %d of %d\n", f, v, value[f][v], form_n[f]);
	}
}

/* A guesser that sees only the text: it learns how often each option text
 * is right when offered for the same question text, and picks the best.
 * Trained on one stream and tried on another, it must stay near chance. */
typedef struct tally {
	char key[240];
	int offered, right;
} tally;

static tally table[1 << 16];

static tally *lookup(const char *q, const char *opt)
{
	char key[240];
	unsigned h = 2166136261u;

	snprintf(key, sizeof key, "%s|%s", q, opt);
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (h &= (1 << 16) - 1; table[h].key[0] && strcmp(table[h].key, key); h = (h + 1) & 0xffff)
		;
	if (!table[h].key[0])
		snprintf(table[h].key, sizeof table[h].key, "%s", key);
	return &table[h];
}

static void test_text_only(void)
{
	enum { TRAIN = 1500, TRY = 400 };

	for (int type = 0; type < MLDE_WORLD_NTYPES; type++) {
		int right = 0;

		memset(table, 0, sizeof table);
		for (int k = 0; k < TRAIN + TRY; k++) {
			mlde_rng rng;
			mlde_world_scene s;
			mlde_world_item it;
			double best = -1.0;
			int pick = 0;

			mlde_rng_seed2(&rng, 11, (uint64_t)type << 32 | (uint64_t)k);
			mlde_world_make_item(type, &rng, &s, &it);
			for (int i = 0; i < MLDE_WORLD_OPTIONS; i++) {
				tally *t = lookup(it.question, it.options[i]);
				double score = (t->right + 1.0) / (t->offered + 4.0);

				if (k < TRAIN) {
					t->offered++;
					t->right += i == it.answer;
				} else if (score > best) {
					best = score;
					pick = i;
				}
			}
			right += k >= TRAIN && pick == it.answer;
		}
		/* chance is 100 of 400; 140 is beyond three standard deviations */
		TAP_OK(right < 140, "%s: text alone gets %d of %d", mlde_world_type_names[type],
		       right, TRY);
	}
}

static void test_determinism(void)
{
	mlde_rng r1, r2;
	mlde_world_scene s1, s2;
	mlde_world_item i1, i2;
	int same = 1;

	for (int k = 0; k < 50; k++) {
		mlde_rng_seed2(&r1, 3, (uint64_t)k);
		mlde_rng_seed2(&r2, 3, (uint64_t)k);
		mlde_world_make_item(k % MLDE_WORLD_NTYPES, &r1, &s1, &i1);
		mlde_world_make_item(k % MLDE_WORLD_NTYPES, &r2, &s2, &i2);
		same &= same_scene(&s1, &s2) && memcmp(&i1, &i2, sizeof i1) == 0;
	}
	TAP_OK(same, "same stream, same scenes and items");
	mlde_rng_seed2(&r2, 4, 0);
	mlde_world_make_item(0, &r2, &s2, &i2);
	mlde_rng_seed2(&r1, 3, 0);
	mlde_world_make_item(0, &r1, &s1, &i1);
	TAP_OK(!same_scene(&s1, &s2) || strcmp(i1.question, i2.question) != 0 ||
	       i1.answer != i2.answer, "another seed, another item");
}

static void test_colors(void)
{
	int min = 1000;

	for (int a = 0; a < MLDE_WORLD_NCOLORS; a++)
		for (int b = a + 1; b < MLDE_WORLD_NCOLORS; b++) {
			int d = 0;

			for (int k = 0; k < 3; k++)
				d += abs(mlde_world_color_rgb[a][k] - mlde_world_color_rgb[b][k]);
			if (d < min)
				min = d;
		}
	TAP_OK(min >= 100, "object colours far apart (closest pair L1 %d)", min);
}

static void test_bad_records(void)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{ "[]", "expected object" },
		{ "{\"objects\":[]}", "background" },
		{ "{\"background\":\"pink\",\"objects\":[]}", "background" },
		{ "{\"background\":\"white\"}", "objects" },
		{ "{\"background\":\"white\",\"objects\":[1]}", "objects[0]: expected object" },
		{ "{\"background\":\"white\",\"objects\":[{\"name\":\"star\"}]}", "objects[0].name" },
		{ "{\"background\":\"white\",\"objects\":[{\"name\":\"circle\",\"color\":\"pink\"}]}",
		  "objects[0].color" },
		{ "{\"background\":\"white\",\"objects\":[{\"name\":\"circle\",\"color\":\"red\","
		  "\"size\":\"small\",\"bbox\":[0,0,0.5,0.5]}]}", "objects[0].bbox" },
		{ "{\"background\":\"white\",\"objects\":[{\"name\":\"circle\",\"color\":\"red\","
		  "\"size\":\"small\",\"bbox\":[0,0,0.203125,0.203125],\"touching\":[0]}]}",
		  "objects[0].touching" },
		{ "{\"background\":\"white\",\"objects\":[],\"text\":\"Q\"}", "text" },
		{ "{\"background\":\"white\",\"objects\":[],\"text\":7}", "text" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		jv rec = jv_parse(cases[i].json);
		mlde_world_scene s;
		mlde_error err;
		int rc;

		mlde_error_clear(&err);
		rc = mlde_world_scene_from_record(rec, &s, &err);
		TAP_OK(rc == -1 && err.status == MLDE_EXIT_DATA && strstr(err.msg, cases[i].want),
		       "bad pool record %s: %s", cases[i].json, err.msg);
		jv_free(rec);
	}
}

static void test_ask_any(void)
{
	mlde_rng rng;
	mlde_world_spec spec;
	mlde_world_scene s;
	mlde_world_item it;
	int asked = 0, bad = 0;

	/* the offline generator's way: any question of a type about a pool
	 * scene, or none */
	mlde_world_spec_default(&spec);
	mlde_rng_seed(&rng, 5);
	for (int k = 0; k < 300; k++) {
		mlde_world_scene_make(&s, &spec, &rng);
		for (int type = 0; type < MLDE_WORLD_NTYPES; type++)
			if (mlde_world_ask(&s, type, -1, -1, &rng, &it)) {
				asked++;
				bad += !check_item(&s, &it);
			}
	}
	TAP_OK(asked > 1000, "pool scenes carry most types (%d questions)", asked);
	TAP_IS_INT(bad, 0, "and every answer checks out");
	TAP_IS_INT(mlde_world_ask(&s, MLDE_WORLD_NTYPES, 0, -1, &rng, &it), 0, "no such type");
}

int main(void)
{
	test_colors();
	test_determinism();
	test_items();
	test_text_only();
	test_ask_any();
	test_bad_records();
	return TAP_DONE();
}
