/* worldgen.c - reply text from world annotations.  The scene comes back from
 * the pool record, a question of the wanted type is asked about it (a form
 * at random, then the others), and the item is written out in the reply
 * format, so the world backend goes through the same parser as an LLM. */
#include "world/worldgen.h"

#include <stdio.h>
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

char *mlde_worldgen_reply(jv plan, uint64_t seed)
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
	mlde_buf_printf(&b, "Question: %s\nChoices:", item.question);
	for (int i = 0; i < MLDE_WORLD_OPTIONS; i++)
		mlde_buf_printf(&b, " (%c) %s", 'A' + i, item.options[i]);
	mlde_buf_printf(&b, "\nAnswer: The answer is (%c): %s.\nExplanation: Looking at the image:",
			'A' + item.answer, item.options[item.answer]);
	add_captions(&b, query);
	mlde_buf_printf(&b, " So the answer is %s.\n", item.options[item.answer]);
	reply = mlde_buf_take(&b, NULL);
done:
	jv_free(type);
	jv_free(query);
	return reply;
}
