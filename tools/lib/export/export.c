/* export.c - one item into one trainer record.  Key order is part of the
 * output bytes (jq 1.6 keeps insertion order): LLaVA's records are written
 * id, image, conversations as in mix665k; LLaMA-Factory's messages, images
 * as in mllm_demo.json, each message role then content. */
#include "export/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "import/fields.h"
#include "record/record.h"

/* LLaVA's image placeholder: its DEFAULT_IMAGE_TOKEN, which LLaMA-Factory's
 * multimodal plugins take too. */
#define IMAGE_TOKEN "<image>"

char *mlde_export_question_text(const char *question, const char *const *options, int nopt)
{
	mlde_buf b = { 0 };

	mlde_buf_adds(&b, question);
	for (int i = 0; i < nopt; i++)
		mlde_buf_printf(&b, "\n%c. %s", 'A' + i, options[i]);
	mlde_buf_adds(&b, "\n" MLDE_EXPORT_INSTRUCTION);
	return mlde_buf_take(&b, NULL);
}

/* The base64 part of a data:image/...;base64,DATA URI, or NULL. */
static const char *data_uri_payload(const char *uri)
{
	static const char b64[] = ";base64";
	const char *comma = strchr(uri, ',');

	if (strncmp(uri, "data:image/", 11) != 0 || !comma ||
	    (size_t)(comma - uri) < 11 + sizeof b64 - 1 ||
	    memcmp(comma - (sizeof b64 - 1), b64, sizeof b64 - 1) != 0)
		return NULL;
	return comma + 1;
}

int mlde_export_image_path(const mlde_export_opts *o, const char *image, const char *where,
			   char **path, mlde_error *err)
{
	const char *payload;
	char *name;

	*path = NULL;
	if (strncmp(image, "data:", 5) != 0) {
		/* absolute paths and paths without a root are the item's own */
		*path = image[0] == '/' ? mlde_xstrdup(image) : mlde_import_join(o->image_root, image);
		return 0;
	}
	if (!(payload = data_uri_payload(image))) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'image': a data: URI that is not "
			       "data:image/...;base64", where);
		return -1;
	}
	if (!o->images) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'image': a data: URI, and no "
			       "--images-out DIR to write it to", where);
		return -1;
	}
	if (mlde_image_store_b64(o->images, payload, strlen(payload), where, &name, err) < 0)
		return -1;
	*path = mlde_import_join(o->images_out, name);
	free(name);
	return 0;
}

static jv turn(const char *role_key, const char *role, const char *text_key, const char *text)
{
	jv t = jv_object_set(jv_object(), jv_string(role_key), jv_string(role));

	return jv_object_set(t, jv_string(text_key), jv_string(text));
}

/* The answer turn: the letter, then the rationale on the next line when
 * asked for and the item has one. */
static char *answer_text(const mlde_export_opts *o, const mlde_item *it)
{
	mlde_buf b = { 0 };

	mlde_buf_addc(&b, (char)('A' + it->answer));
	if (o->rationale && it->rationale && *it->rationale)
		mlde_buf_printf(&b, "\n%s", it->rationale);
	return mlde_buf_take(&b, NULL);
}

int mlde_export_record(const mlde_export_opts *o, jv item, const char *where, jv *out,
		       mlde_error *err)
{
	mlde_item it;
	char *image, *question, *human, *answer;
	size_t qlen;

	*out = jv_invalid();
	if (mlde_item_check(item, MLDE_ITEM_NEED_ANSWER, where, &it, err) < 0)
		return -1;
	if (o->format == MLDE_EXPORT_LLAVA && (!it.id || !*it.id)) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'id': %s", where,
			       it.id ? "empty" : "missing (LLaVA's records need one)");
		return -1;
	}
	if (mlde_export_image_path(o, it.image, where, &image, err) < 0)
		return -1;
	question = mlde_export_question_text(it.question, it.options, it.nopt);
	qlen = strlen(question);
	human = mlde_xmalloc(sizeof IMAGE_TOKEN + 1 + qlen);
	/* LLaVA's prompt puts the image token on a line of its own; so does
	 * the ShareGPT record, where the token marks the image's place */
	snprintf(human, sizeof IMAGE_TOKEN + 1 + qlen, IMAGE_TOKEN "\n%s", question);
	answer = answer_text(o, &it);
	if (o->format == MLDE_EXPORT_LLAVA) {
		jv conv = jv_array_append(jv_array_append(jv_array(),
					  turn("from", "human", "value", human)),
					  turn("from", "gpt", "value", answer));

		*out = jv_object_set(jv_object(), jv_string("id"), jv_string(it.id));
		*out = jv_object_set(*out, jv_string("image"), jv_string(image));
		*out = jv_object_set(*out, jv_string("conversations"), conv);
	} else {
		jv msgs = jv_array_append(jv_array_append(jv_array(),
					  turn("role", "user", "content", human)),
					  turn("role", "assistant", "content", answer));

		*out = jv_object_set(jv_object(), jv_string("messages"), msgs);
		*out = jv_object_set(*out, jv_string("images"),
				     jv_array_append(jv_array(), jv_string(image)));
	}
	free(image);
	free(question);
	free(human);
	free(answer);
	return 0;
}
