/* chat.c - request bodies are built as jv objects and dumped with sorted
 * keys: the bytes of a request depend only on what it asks, never on the
 * order fields were set in, so a cached reply is found again. */
#include "eval/chat.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "io/jsonl.h"
#include "io/json.h"

void mlde_chat_rotate(const char *const *options, size_t n, size_t k, const char **out)
{
	for (size_t p = 0; p < n; p++)
		out[p] = options[(p + k) % n];
}

/* "\nA. first\nB. second ..." */
static void add_options(mlde_buf *b, const char *const *options, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mlde_buf_printf(b, "\n%c. %s", (char)('A' + i), options[i]);
}

char *mlde_chat_question_text(const char *hint, const char *question,
			      const char *const *options, size_t n)
{
	mlde_buf b = { 0 };

	if (hint && *hint)
		mlde_buf_printf(&b, "%s\n", hint);
	mlde_buf_adds(&b, question);
	add_options(&b, options, n);
	mlde_buf_adds(&b, "\n" MLDE_CHAT_INSTRUCTION);
	return mlde_buf_take(&b, NULL);
}

char *mlde_chat_judge_text(const char *question, const char *const *options, size_t n,
			   const char *reply)
{
	mlde_buf b = { 0 };

	mlde_buf_printf(&b, "Here are a multiple-choice question, its options and a reply "
			"given to it. Which option does the reply choose?\n\nQuestion: %s\nOptions:",
			question);
	add_options(&b, options, n);
	mlde_buf_printf(&b, "\nReply: %s\n\nAnswer with the letter of the option the reply "
			"chooses, and nothing else; answer Z if it chooses none of them, or more "
			"than one.", reply);
	return mlde_buf_take(&b, NULL);
}

/* v (consumed) as jv_dump_string(v, JV_PRINT_SORTED) writes it */
static char *dump_sorted(jv v, size_t *len)
{
	mlde_buf b = { 0 };

	mlde_json_dump_sorted(v, &b);
	jv_free(v);
	return mlde_buf_take(&b, len);
}

static jv message(const char *role, jv content)
{
	jv m = jv_object_set(jv_object(), jv_string("role"), jv_string(role));

	return jv_object_set(m, jv_string("content"), content);
}

/* [{"type": "image_url", "image_url": {"url": uri}}, {"type": "text", ...}?] */
static jv image_content(const char *uri, const char *text)
{
	jv url = jv_object_set(jv_object(), jv_string("url"), jv_string(uri));
	jv img = jv_object_set(jv_object(), jv_string("type"), jv_string("image_url"));
	jv parts;

	img = jv_object_set(img, jv_string("image_url"), url);
	parts = jv_array_append(jv_array(), img);
	if (text && *text) {
		jv t = jv_object_set(jv_object(), jv_string("type"), jv_string("text"));

		parts = jv_array_append(parts, jv_object_set(t, jv_string("text"), jv_string(text)));
	}
	return parts;
}

/* The body of a chat completion whose user message holds content
 * (consumed). */
static char *chat_body(const mlde_chat_opts *o, jv content, size_t *len)
{
	jv msgs = jv_array(), b = jv_object();

	if (o->system)
		msgs = jv_array_append(msgs, message("system", jv_string(o->system)));
	msgs = jv_array_append(msgs, message("user", content));
	b = jv_object_set(b, jv_string("model"), jv_string(o->model));
	b = jv_object_set(b, jv_string("messages"), msgs);
	b = jv_object_set(b, jv_string("temperature"), jv_number(o->temperature));
	b = jv_object_set(b, jv_string("max_tokens"), jv_number((double)o->max_tokens));
	if (o->top_logprobs > 0) {
		b = jv_object_set(b, jv_string("logprobs"), jv_true());
		b = jv_object_set(b, jv_string("top_logprobs"), jv_number(o->top_logprobs));
	}
	if (jv_get_kind(o->extra) == JV_KIND_OBJECT) {
		jv_object_foreach(o->extra, key, value)
			b = jv_object_set(b, key, value);
	}
	return dump_sorted(b, len);
}

char *mlde_chat_question_body(const mlde_chat_opts *o, const char *image_uri,
			      const char *text, size_t *len)
{
	return chat_body(o, image_content(image_uri, text), len);
}

char *mlde_chat_text_body(const mlde_chat_opts *o, const char *text, size_t *len)
{
	return chat_body(o, jv_string(text), len);
}

char *mlde_chat_embed_body(const char *model, const char *image_uri, const char *text,
			   size_t *len)
{
	jv b = jv_object_set(jv_object(), jv_string("model"), jv_string(model));
	jv msg = message("user", image_content(image_uri, text ? text : MLDE_CHAT_EMBED_TEXT));

	b = jv_object_set(b, jv_string("messages"), jv_array_append(jv_array(), msg));
	b = jv_object_set(b, jv_string("encoding_format"), jv_string("float"));
	return dump_sorted(b, len);
}

int mlde_chat_embedding(jv body, jv *vec, char *why, size_t whylen)
{
	jv data, first, e;
	int n;

	if (jv_get_kind(body) != JV_KIND_OBJECT) {
		snprintf(why, whylen, "the body is not a JSON object");
		return -1;
	}
	data = jv_object_get(jv_copy(body), jv_string("data"));
	if (jv_get_kind(data) != JV_KIND_ARRAY || jv_array_length(jv_copy(data)) < 1) {
		jv_free(data);
		snprintf(why, whylen, "no 'data' in the body");
		return -1;
	}
	first = jv_array_get(data, 0);
	e = jv_get_kind(first) == JV_KIND_OBJECT
		    ? jv_object_get(jv_copy(first), jv_string("embedding")) : jv_invalid();
	jv_free(first);
	n = jv_get_kind(e) == JV_KIND_ARRAY ? jv_array_length(jv_copy(e)) : 0;
	for (int i = 0; i < n; i++) {
		jv x = jv_array_get(jv_copy(e), i);
		int bad = jv_get_kind(x) != JV_KIND_NUMBER || !isfinite(jv_number_value(x));

		jv_free(x);
		if (bad) {
			n = 0;
			break;
		}
	}
	if (n < 1) {
		jv_free(e);
		snprintf(why, whylen, "data[0].embedding is not an array of numbers");
		return -1;
	}
	*vec = e;
	return 0;
}

int mlde_chat_check_embedding(const char *body, size_t len, char *why, size_t whylen)
{
	jv v, vec;
	int rc;

	if (len > 0x7fffffff) {
		snprintf(why, whylen, "too long");
		return -1;
	}
	v = jv_parse_sized(body, (int)len);
	if (!jv_is_valid(v)) {
		mlde_jv_parse_message(v, why, whylen);
		return -1;
	}
	rc = mlde_chat_embedding(v, &vec, why, whylen);
	if (rc == 0)
		jv_free(vec);
	jv_free(v);
	return rc;
}
