/* usage.c - the token usage of replies: read, written into records, summed
 * (usage.h). */
#include "cost/usage.h"

/* obj[key] when it is a number >= 0; -1 when it is missing or is not. */
static double count_at(jv obj, const char *key)
{
	jv v;
	double d = -1.0;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return -1.0;
	v = jv_object_get(jv_copy(obj), jv_string(key));
	if (jv_get_kind(v) == JV_KIND_NUMBER && jv_number_value(v) >= 0.0)
		d = jv_number_value(v);
	jv_free(v);
	return d;
}

/* The usage object u of a reply or a record: its cached tokens at
 * cached_key inside cached_in (NULL: in u itself). */
static mlde_usage usage_of(jv u, const char *cached_in)
{
	mlde_usage r = { 0 };
	double p = count_at(u, "prompt_tokens"), c = count_at(u, "completion_tokens"), k;

	if (p < 0.0 && c < 0.0)
		return r;
	r.known = true;
	r.prompt = p > 0.0 ? p : 0.0;
	r.completion = c > 0.0 ? c : 0.0;
	if (cached_in) {
		jv d = jv_object_get(jv_copy(u), jv_string(cached_in));

		k = count_at(d, "cached_tokens");
		jv_free(d);
	} else {
		k = count_at(u, "cached_tokens");
	}
	if (k >= 0.0) {
		r.cached_known = true;
		r.cached = k;
	}
	return r;
}

static mlde_usage usage_field(jv obj, const char *cached_in)
{
	mlde_usage r = { 0 };
	jv u;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return r;
	u = jv_object_get(jv_copy(obj), jv_string(MLDE_F_USAGE));
	r = usage_of(u, cached_in);
	jv_free(u);
	return r;
}

mlde_usage mlde_usage_of_reply(jv body)
{
	return usage_field(body, "prompt_tokens_details");
}

mlde_usage mlde_usage_of_record(jv rec)
{
	return usage_field(rec, NULL);
}

jv mlde_usage_json(const mlde_usage *u)
{
	jv o = jv_object();

	o = jv_object_set(o, jv_string("prompt_tokens"), jv_number(u->prompt));
	o = jv_object_set(o, jv_string("completion_tokens"), jv_number(u->completion));
	if (u->cached_known)
		o = jv_object_set(o, jv_string("cached_tokens"), jv_number(u->cached));
	return o;
}

jv mlde_usage_set(jv obj, const mlde_usage *u)
{
	if (!u->known)
		return obj;
	return jv_object_set(obj, jv_string(MLDE_F_USAGE), mlde_usage_json(u));
}

void mlde_usage_add(mlde_usage_sum *s, const mlde_usage *u, bool from_reply_cache)
{
	if (!u->known)
		return;
	if (from_reply_cache) {
		s->from_cache++;
		s->cache_prompt += u->prompt;
		s->cache_completion += u->completion;
		return;
	}
	s->replies++;
	s->prompt += u->prompt;
	s->completion += u->completion;
	s->cached += u->cached;
}

void mlde_usage_merge(mlde_usage_sum *into, const mlde_usage_sum *s)
{
	into->replies += s->replies;
	into->prompt += s->prompt;
	into->completion += s->completion;
	into->cached += s->cached;
	into->from_cache += s->from_cache;
	into->cache_prompt += s->cache_prompt;
	into->cache_completion += s->cache_completion;
}

void mlde_usage_format(const mlde_usage_sum *s, mlde_buf *b)
{
	mlde_buf_printf(b, "tokens %.0f (%.0f prompt, %.0f completion, %.0f cached prompt)",
			s->prompt + s->completion, s->prompt, s->completion, s->cached);
	if (s->from_cache)
		mlde_buf_printf(b, "; the reply cache saved %.0f prompt, %.0f completion",
				s->cache_prompt, s->cache_completion);
}
