/* request.c - request bodies are dumped with sorted keys, so one request
 * always has the same bytes and the same cache key. */
#include "gen/request.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "io/json.h"
#include "world/worldgen.h"
#include "record/record.h"

uint64_t mlde_request_seed(const char *s, uint64_t seed)
{
	/* FNV-1a of the plan id from a basis mixed with --seed.  (Before the
	 * one hash helper the basis lacked a digit; replies cached then are
	 * keyed by the old seeds and are not found again.) */
	uint64_t h = mlde_fnv1a_more(MLDE_FNV_OFFSET ^ (seed * 0x9e3779b97f4a7c15ULL), s,
				     strlen(s));

	h ^= h >> 29;
	return h;
}

/* v (consumed) as jv_dump_string(v, JV_PRINT_SORTED) writes it */
static char *dump_sorted(jv v, size_t *len)
{
	mlde_buf b = { 0 };

	mlde_json_dump_sorted(v, &b);
	jv_free(v);
	return mlde_buf_take(&b, len);
}

static char *with_seed(jv b, uint64_t seed, size_t *len)
{
	b = jv_object_set(b, jv_string("seed"), jv_number((double)(seed & 0x7fffffff)));
	return dump_sorted(b, len);
}

char *mlde_request_chat(const char *model, const char *prompt, double temperature,
			long max_tokens, uint64_t seed, size_t *len)
{
	jv msg = jv_object_set(jv_object(), jv_string("role"), jv_string("user"));
	jv b = jv_object();

	msg = jv_object_set(msg, jv_string("content"), jv_string(prompt));
	b = jv_object_set(b, jv_string("model"), jv_string(model));
	b = jv_object_set(b, jv_string("messages"), jv_array_append(jv_array(), msg));
	b = jv_object_set(b, jv_string("temperature"), jv_number(temperature));
	b = jv_object_set(b, jv_string("max_tokens"), jv_number((double)max_tokens));
	return with_seed(b, seed, len);
}

char *mlde_request_world(jv plan, uint64_t seed, const mlde_world_faults *faults, size_t *len)
{
	jv b = jv_object_set(jv_object(), jv_string("backend"), jv_string("world"));

	b = jv_object_set(b, jv_string("plan"), jv_object_get(jv_copy(plan), jv_string(MLDE_F_ID)));
	b = jv_object_set(b, jv_string("type"), jv_object_get(jv_copy(plan), jv_string(MLDE_F_TYPE)));
	b = jv_object_set(b, jv_string("query"), jv_object_get(jv_copy(plan), jv_string(MLDE_F_QUERY)));
	if (mlde_world_faults_on(faults)) {
		char spec[256];

		mlde_world_faults_string(faults, spec, sizeof spec);
		b = jv_object_set(b, jv_string("faults"), jv_string(spec));
	}
	return with_seed(b, seed, len);
}

char *mlde_request_world_reply(jv plan, uint64_t seed, const mlde_world_faults *faults,
			       size_t *len)
{
	const char *fault = NULL;
	char *text = mlde_worldgen_reply_faulty(plan, seed, faults, &fault);
	jv msg = jv_object_set(jv_object(), jv_string("role"), jv_string("assistant"));
	jv choice = jv_object(), body = jv_object();

	msg = jv_object_set(msg, jv_string("content"), jv_string(text));
	free(text);
	choice = jv_object_set(choice, jv_string("index"), jv_number(0));
	choice = jv_object_set(choice, jv_string("message"), msg);
	choice = jv_object_set(choice, jv_string("finish_reason"), jv_string("stop"));
	body = jv_object_set(body, jv_string("object"), jv_string("chat.completion"));
	body = jv_object_set(body, jv_string("model"), jv_string("world"));
	body = jv_object_set(body, jv_string("choices"), jv_array_append(jv_array(), choice));
	if (fault)
		body = jv_object_set(body, jv_string("fault"), jv_string(fault));
	return dump_sorted(body, len);
}
