/* worldgen.c - reply text from world annotations.  The scene comes back from
 * the pool record, a question of the wanted type is asked about it (a form
 * at random, then the others), and the item is written out in the reply
 * format, so the world backend goes through the same parser as an LLM. */
#include "world/worldgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/rng.h"
#include "world/world.h"
#include "record/record.h"

static char *skip(const char *why, const char *what)
{
	mlde_buf b = { 0 };

	mlde_buf_printf(&b, "Skip\nExplanation: %s%s\n", why, what);
	return mlde_buf_take(&b, NULL);
}

/* The captions of the query, as the explanation's evidence. */
static void add_captions(mlde_buf *b, jv query)
{
	jv caps = jv_object_get(jv_copy(query), jv_string(MLDE_F_CAPTIONS));

	if (jv_get_kind(caps) == JV_KIND_ARRAY) {
		int n = jv_array_length(jv_copy(caps));

		for (int i = 0; i < n; i++) {
			jv c = jv_array_get(jv_copy(caps), i);

			if (jv_get_kind(c) == JV_KIND_STRING)
				mlde_buf_printf(b, " %s", jv_string_value(c));
			jv_free(c);
		}
	}
	jv_free(caps);
}

const char *const mlde_world_fault_names[MLDE_FAULT_N] = {
	"wrong-answer", "absent-object", "other-type", "coordinates", "duplicate-options",
};

/* ---- the fault option ---- */

int mlde_world_faults_parse(const char *spec, mlde_world_faults *f, mlde_error *err)
{
	double sum = 0.0;
	const char *p = spec;

	memset(f, 0, sizeof *f);
	while (*p) {
		char name[32], *end;
		size_t n = strcspn(p, "=,");
		int kind = -2;
		double rate;

		if (n == 0 || n >= sizeof name || p[n] != '=') {
			mlde_error_set(err, MLDE_EXIT_USAGE, "'%.40s': expected KIND=RATE", p);
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		for (char *q = name; *q; q++)
			if (*q == '_')
				*q = '-';
		if (strcmp(name, "all") == 0)
			kind = -1;
		for (int k = 0; k < MLDE_FAULT_N && kind == -2; k++)
			if (strcmp(name, mlde_world_fault_names[k]) == 0)
				kind = k;
		if (kind == -2) {
			mlde_error_set(err, MLDE_EXIT_USAGE, "'%s' is no fault kind (all, wrong-answer, "
				       "absent-object, other-type, coordinates, duplicate-options)",
				       name);
			return -1;
		}
		rate = strtod(p + n + 1, &end);
		if (end == p + n + 1 || (*end && *end != ',') || !(rate >= 0.0 && rate <= 1.0)) {
			mlde_error_set(err, MLDE_EXIT_USAGE, "%s: '%.*s' is no rate in 0..1", name,
				       (int)strcspn(p + n + 1, ","), p + n + 1);
			return -1;
		}
		for (int k = 0; k < MLDE_FAULT_N; k++)
			if (kind == k || kind == -1)
				f->rate[k] = kind == -1 ? rate / MLDE_FAULT_N : rate;
		p = *end ? end + 1 : end;
	}
	for (int k = 0; k < MLDE_FAULT_N; k++)
		sum += f->rate[k];
	if (sum > 1.0 + 1e-9) {
		mlde_error_set(err, MLDE_EXIT_USAGE, "the rates add up to %g, more than 1", sum);
		return -1;
	}
	return 0;
}

bool mlde_world_faults_on(const mlde_world_faults *f)
{
	for (int k = 0; f && k < MLDE_FAULT_N; k++)
		if (f->rate[k] > 0.0)
			return true;
	return false;
}

void mlde_world_faults_string(const mlde_world_faults *f, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int k = 0; k < MLDE_FAULT_N && n < len; k++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s=%.6g", k ? "," : "",
				      mlde_world_fault_names[k], f->rate[k]);
}

/* ---- writing the reply ---- */

static void write_reply(mlde_buf *b, const mlde_world_item *item, int answer, jv query)
{
	mlde_buf_printf(b, "Question: %s\nChoices:", item->question);
	for (int i = 0; i < MLDE_WORLD_OPTIONS; i++)
		mlde_buf_printf(b, " (%c) %s", 'A' + i, item->options[i]);
	mlde_buf_printf(b, "\nAnswer: The answer is (%c): %s.\nExplanation: Looking at the image:",
			'A' + answer, item->options[answer]);
	add_captions(b, query);
	mlde_buf_printf(b, " So the answer is %s.\n", item->options[answer]);
}

/* ---- the faults: each spoils a correct item in place ---- */

static int below(mlde_rng *rng, int n)
{
	return (int)mlde_rng_below(rng, (uint64_t)n);
}

static int other_option(mlde_rng *rng, int not)
{
	int k = below(rng, MLDE_WORLD_OPTIONS - 1);

	return k >= not ? k + 1 : k;
}

/* Another option marked: the commonest slip. */
static bool fault_wrong(mlde_world_item *item, mlde_rng *rng)
{
	item->answer = other_option(rng, item->answer);
	return true;
}

/* A phrase for an object the scene does not have: "the large green object"
 * for identity (whose phrases never name the shape), else "the green cross". */
static void absent_phrase(const mlde_world_scene *s, bool for_identity, mlde_rng *rng,
			  char *buf, size_t len)
{
	int free_pairs[MLDE_WORLD_NCOLORS * MLDE_WORLD_NSHAPES], n = 0;
	int other = for_identity ? MLDE_WORLD_NSIZES : MLDE_WORLD_NSHAPES;

	for (int c = 0; c < MLDE_WORLD_NCOLORS; c++)
		for (int o = 0; o < other; o++) {
			bool seen = false;

			for (int i = 0; i < s->nobj; i++)
				seen |= s->obj[i].color == c &&
					(for_identity ? s->obj[i].size : s->obj[i].shape) == o;
			if (!seen)
				free_pairs[n++] = c * other + o;
		}
	/* at most 5 objects: there are always 12 or 24 pairs, so some is free */
	n = free_pairs[below(rng, n)];
	if (for_identity)
		snprintf(buf, len, "the %s %s object", mlde_world_size_names[n % other],
			 mlde_world_color_names[n / other]);
	else
		snprintf(buf, len, "the %s %s", mlde_world_color_names[n / other],
			 mlde_world_shape_names[n % other]);
}

/* The question asked again about something the image lacks, with the same
 * options and answer: an LLM that misread the captions. */
static bool fault_absent(const mlde_world_scene *s, mlde_world_item *item, mlde_rng *rng)
{
	const char *tpl;
	char a[64] = "", c[32] = "";
	int form = item->form;

	switch (item->type) {
	case MLDE_WT_IDENTITY: case MLDE_WT_ATTRIBUTES: case MLDE_WT_LOCATION:
	case MLDE_WT_SPATIAL: case MLDE_WT_INTERACTION:
		absent_phrase(s, item->type == MLDE_WT_IDENTITY, rng, a, sizeof a);
		break;
	case MLDE_WT_COUNTING: {
		int shapes[MLDE_WORLD_NSHAPES] = { 0 }, colors[MLDE_WORLD_NCOLORS] = { 0 }, k;

		for (int i = 0; i < s->nobj; i++) {
			shapes[s->obj[i].shape]++;
			colors[s->obj[i].color]++;
		}
		form = 1;  /* six colours, five objects at most: one is missing */
		for (k = 0; k < MLDE_WORLD_NSHAPES; k++)
			if (!shapes[k] && below(rng, 2))
				form = 0;
		do
			k = below(rng, form ? MLDE_WORLD_NCOLORS : MLDE_WORLD_NSHAPES);
		while (form ? colors[k] : shapes[k]);
		snprintf(c, sizeof c, "%s", form ? mlde_world_color_names[k]
						 : mlde_world_shape_plurals[k]);
		break;
	}
	default:
		return false;
	}
	tpl = mlde_world_template(item->type, form, below(rng, MLDE_WORLD_TEMPLATES));
	mlde_world_fill_template(tpl, a, item->about_b, c, item->question, sizeof item->question);
	return true;
}

/* A question of another type the scene can carry, in place of the one
 * asked for (the plan's type stays on the item). */
static bool fault_type(const mlde_world_scene *s, mlde_world_item *item, mlde_rng *rng)
{
	int types[MLDE_WORLD_NTYPES], n = 0;

	for (int t = 0; t < MLDE_WORLD_NTYPES; t++)
		if (t != item->type)
			types[n++] = t;
	mlde_rng_shuffle(rng, types, (size_t)n, sizeof *types);
	for (int i = 0; i < n; i++)
		if (mlde_world_ask(s, types[i], -1, -1, rng, item))
			return true;
	return false;
}

/* Where the question's object is, as an LLM copies it from the boxes: its
 * centre in fractions, after the phrase naming it (or in a clause of its
 * own when the question names no object). */
static bool fault_coords(const mlde_world_scene *s, mlde_world_item *item, mlde_rng *rng)
{
	static const char *const forms[] = { " at (%.2f, %.2f)", " at x=%.2f, y=%.2f",
					     " centered at [%.2f, %.2f]" };
	const char *form = forms[below(rng, 3)];
	char at[64], q[sizeof item->question + 128];
	double x = 0.5, y = 0.5;
	int o = item->a >= 0 ? item->a : s->nobj > 0 ? below(rng, s->nobj) : -1;
	const char *p = item->a >= 0 && item->about_a[0]
			? strstr(item->question, item->about_a + 4) : NULL;

	if (o >= 0) {
		x = (s->obj[o].cx + 0.5) / MLDE_WORLD_SIDE;
		y = (s->obj[o].cy + 0.5) / MLDE_WORLD_SIDE;
	}
	snprintf(at, sizeof at, form, x, y);
	if (p) {
		size_t cut = (size_t)(p - item->question) + strlen(item->about_a + 4);

		snprintf(q, sizeof q, "%.*s%s%s", (int)cut, item->question, at, item->question + cut);
	} else if (o >= 0) {
		snprintf(q, sizeof q, "%s (The %s %s is%s.)", item->question,
			 mlde_world_color_names[s->obj[o].color],
			 mlde_world_shape_names[s->obj[o].shape], at);
	} else {
		snprintf(q, sizeof q, "%s (Look near the point%s.)", item->question, at);
	}
	snprintf(item->question, sizeof item->question, "%.*s", (int)sizeof item->question - 1, q);
	return true;
}

/* One value said twice in other words: "two" beside "2", "the color red"
 * beside "red".  The copy takes the place of an option that is not the
 * answer; what it copies is the answer half the time. */
static bool fault_duplicate(mlde_world_item *item, mlde_rng *rng)
{
	static const char *const numbers[] = { "zero", "one", "two", "three", "four", "five" };
	int to = other_option(rng, item->answer);
	int from = below(rng, 2) ? item->answer : other_option(rng, to);
	const char *v = item->options[from];
	char out[sizeof item->options[0]];

	switch (item->type) {
	case MLDE_WT_COUNTING:
		snprintf(out, sizeof out, "%s", numbers[(v[0] - '0') % 6]);
		break;
	case MLDE_WT_TEXT:
		snprintf(out, sizeof out, "the letter %s", v);
		break;
	case MLDE_WT_SCENE:
		snprintf(out, sizeof out, "%s background", v);
		break;
	case MLDE_WT_LOCATION:
		snprintf(out, sizeof out, strcmp(v, "center") == 0 ? "the %s of the image"
								   : "the %s corner", v);
		break;
	case MLDE_WT_SPATIAL:
		/* "to the left" -> "left of it", "above" -> "above it" */
		if (strncmp(v, "to the ", 7) == 0)
			snprintf(out, sizeof out, "%s of it", v + 7);
		else
			snprintf(out, sizeof out, "%s it", v);
		break;
	case MLDE_WT_ATTRIBUTES:
		if (item->form) {  /* "large red" -> "large and red" */
			const char *sp = strchr(v, ' ');

			snprintf(out, sizeof out, "%.*s and %s", (int)(sp - v), v, sp + 1);
		} else {
			snprintf(out, sizeof out, "the color %s", v);
		}
		break;
	default:  /* a shape, or (form 1 of interaction and reasoning) a colour */
		snprintf(out, sizeof out, item->form == 1 ? "the color %s" : "a %s", v);
		break;
	}
	snprintf(item->options[to], sizeof item->options[to], "%s", out);
	return true;
}

/* Spoil item with a fault drawn by rng: the kind made, or -1. */
static int spoil(const mlde_world_scene *s, mlde_world_item *item,
		 const mlde_world_faults *f, mlde_rng *rng)
{
	double u = mlde_rng_double(rng), acc = 0.0;
	int kind = -1;
	bool done = false;

	for (int k = 0; k < MLDE_FAULT_N && kind < 0; k++)
		if (u < (acc += f->rate[k]))
			kind = k;
	switch (kind) {
	case MLDE_FAULT_WRONG_ANSWER: done = fault_wrong(item, rng); break;
	case MLDE_FAULT_ABSENT: done = fault_absent(s, item, rng); break;
	case MLDE_FAULT_TYPE: done = fault_type(s, item, rng); break;
	case MLDE_FAULT_COORDS: done = fault_coords(s, item, rng); break;
	case MLDE_FAULT_DUPLICATE: done = fault_duplicate(item, rng); break;
	default: return -1;
	}
	if (!done) {
		fault_wrong(item, rng);
		kind = MLDE_FAULT_WRONG_ANSWER;
	}
	return kind;
}

char *mlde_worldgen_reply(jv plan, uint64_t seed)
{
	return mlde_worldgen_reply_faulty(plan, seed, NULL, NULL);
}

char *mlde_worldgen_reply_faulty(jv plan, uint64_t seed, const mlde_world_faults *faults,
				 const char **fault)
{
	jv type = jv_object_get(jv_copy(plan), jv_string(MLDE_F_TYPE));
	jv query = jv_object_get(jv_copy(plan), jv_string(MLDE_F_QUERY));
	mlde_world_scene scene;
	mlde_world_item item;
	mlde_error err;
	mlde_rng rng;
	mlde_buf b = { 0 };
	int t = -1, nforms, first, asked = 0;
	char *reply;

	if (fault)
		*fault = NULL;
	mlde_error_clear(&err);
	if (jv_get_kind(type) == JV_KIND_STRING)
		t = mlde_world_type_from_name(jv_string_value(type));
	if (t < 0) {
		reply = skip("the world writes no questions of this type: ",
			     jv_get_kind(type) == JV_KIND_STRING ? jv_string_value(type) : "(none)");
		goto done;
	}
	if (jv_get_kind(query) != JV_KIND_OBJECT ||
	    mlde_world_scene_from_record(query, &scene, &err) < 0) {
		reply = skip("the image is not a scene of the embedded world: ",
			     err.msg[0] ? err.msg : "no query record");
		goto done;
	}
	mlde_rng_seed2(&rng, seed, 0x776f726c64ULL);
	nforms = mlde_world_nforms(t);
	first = (int)mlde_rng_below(&rng, (uint64_t)(nforms > 0 ? nforms : 1));
	for (int k = 0; k < nforms && !asked; k++)
		asked = mlde_world_ask(&scene, t, (first + k) % nforms, -1, &rng, &item);
	if (!asked) {
		reply = skip("the image cannot carry a question of this type: ", jv_string_value(type));
		goto done;
	}
	if (mlde_world_faults_on(faults)) {
		mlde_rng frng;
		int kind;

		/* a stream of its own: the fault-free item is drawn as without faults */
		mlde_rng_seed2(&frng, seed, 0x6661756c74ULL);
		kind = spoil(&scene, &item, faults, &frng);
		if (fault && kind >= 0)
			*fault = mlde_world_fault_names[kind];
	}
	write_reply(&b, &item, item.answer, query);
	reply = mlde_buf_take(&b, NULL);
done:
	jv_free(type);
	jv_free(query);
	return reply;
}
