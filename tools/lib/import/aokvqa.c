/* aokvqa.c - A-OKVQA's JSON questions into items: the choices as options,
 * correct_choice_idx as the answer, the rationales kept (the first also as
 * the item's "rationale"), the image the COCO 2017 file of image_id.
 * A-OKVQA has no question types: an item gets the one it is given, or
 * none (a typing step names it later). */
#include "import/import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/fields.h"
#include "record/record.h"

/* The choices of q as options: 0, or -1 with err. */
static int choices(jv q, const char *where, mlde_item *it, jv *list, mlde_error *err)
{
	jv_kind k;
	int n;

	*list = jv_object_get(jv_copy(q), jv_string("choices"));
	k = jv_get_kind(*list);
	if (k != JV_KIND_ARRAY) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'choices': %s%s", where,
			       k == JV_KIND_INVALID ? "missing" : "expected an array, got ",
			       k == JV_KIND_INVALID ? "" : mlde_kind_name(k));
		return -1;
	}
	n = jv_array_length(jv_copy(*list));
	if (n < MLDE_OPTIONS_MIN || n > MLDE_OPTIONS_MAX) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'choices': %d of them (an item has "
			       "%d to %d)", where, n, MLDE_OPTIONS_MIN, MLDE_OPTIONS_MAX);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		jv c = jv_array_get(jv_copy(*list), i);

		if (jv_get_kind(c) != JV_KIND_STRING || !jv_string_value(c)[0]) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'choices': choice %d is not a "
				       "non-empty string", where, i);
			jv_free(c);
			return -1;
		}
		/* the string lives on in *list */
		it->options[i] = jv_string_value(c);
		jv_free(c);
	}
	it->nopt = n;
	return 0;
}

static char *image_path(const char *split, double image_id, const char *images)
{
	char name[96];

	snprintf(name, sizeof name, "%s2017/%012lld.jpg", split, (long long)image_id);
	return mlde_import_join(images, name);
}

/* The first rationale, when there is one. */
static jv first_rationale(jv q)
{
	jv r = jv_object_get(jv_copy(q), jv_string("rationales"));
	jv first = jv_invalid();

	if (jv_get_kind(r) == JV_KIND_ARRAY && jv_array_length(jv_copy(r)) > 0)
		first = jv_array_get(jv_copy(r), 0);
	jv_free(r);
	if (jv_get_kind(first) != JV_KIND_STRING) {
		jv_free(first);
		return jv_invalid();
	}
	return first;
}

int mlde_aokvqa_item(jv q, const char *type, const char *images, const char *where,
		     jv *item, mlde_error *err)
{
	const char *question, *split;
	mlde_item it = { 0 };
	double answer, image_id;
	jv list = jv_invalid(), rationale;
	char *id = NULL, *image = NULL;
	int rc = -1;

	*item = jv_invalid();
	if (jv_get_kind(q) != JV_KIND_OBJECT) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: expected an object, got %s", where,
			       mlde_kind_name(jv_get_kind(q)));
		return -1;
	}
	if (!(id = mlde_import_id(q, "question_id")))
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'question_id': missing, or not a "
			       "string or an integer", where);
	else if (mlde_import_string(q, "question", where, &question, err) == 0 &&
		 mlde_import_string(q, "split", where, &split, err) == 0 &&
		 mlde_import_number(q, "image_id", true, where, &image_id, err) == 0 &&
		 choices(q, where, &it, &list, err) == 0 &&
		 mlde_import_number(q, "correct_choice_idx", true, where, &answer, err) == 0)
		rc = 0;
	if (rc == 0 && (answer < 0 || answer >= it.nopt)) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'correct_choice_idx': %g is not the "
			       "index of one of the %d choices", where, answer, it.nopt);
		rc = -1;
	}
	if (rc == 0) {
		image = image_path(split, image_id, images);
		rationale = first_rationale(q);
		it.id = id;
		it.image = image;
		it.question = question;
		it.answer = (int)answer;
		it.type = type ? type : "";
		it.rationale = jv_is_valid(rationale) ? jv_string_value(rationale) : NULL;
		*item = mlde_item_record(&it);
		jv_free(rationale);
		if (!type)
			*item = jv_object_delete(*item, jv_string(MLDE_F_TYPE));
		*item = mlde_import_keep(*item, q, "rationales", NULL);
		*item = mlde_import_keep(*item, q, "direct_answers", NULL);
		*item = mlde_import_keep(*item, q, "difficult_direct_answer", NULL);
		*item = mlde_import_keep(*item, q, "split", NULL);
		*item = mlde_import_keep(*item, q, "image_id", NULL);
		*item = jv_object_set(*item, jv_string("benchmark"), jv_string("a-okvqa"));
	}
	jv_free(list);
	free(image);
	free(id);
	return rc;
}
