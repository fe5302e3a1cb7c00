/* seed.c - SEED-Bench-1's JSON questions into items: choice_a..choice_d as
 * the options, the answer letter as an index, question_type_id 1..9 as
 * the nine image dimensions' names; video questions (data_type "video",
 * dimensions 10..12) are left to the caller to count. */
#include "import/import.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/fields.h"
#include "record/record.h"

/* By question_type_id - 1, as SEED-Bench.json's "question_type" map
 * numbers them ("Scene Understanding": 1 ... "Text Understanding": 9). */
const char *const mlde_seed_type_names[MLDE_SEED_IMAGE_TYPES] = {
	"scene_understanding", "instance_identity", "instance_attributes",
	"instance_location", "instances_counting", "spatial_relation",
	"instance_interaction", "visual_reasoning", "text_understanding",
};

/* "Instances Counting" -> "instances_counting" */
static void type_key(const char *name, char *out, size_t len)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < len; i++)
		out[i] = name[i] == ' ' || name[i] == '-' ? '_'
			 : (char)tolower((unsigned char)name[i]);
	out[i] = '\0';
}

static int check_type_map(jv map, const char *path, mlde_error *err)
{
	int rc = 0;

	jv_object_foreach(map, name, id) {
		char key[128];
		double v = jv_get_kind(id) == JV_KIND_NUMBER ? jv_number_value(id) : -1;

		type_key(jv_string_value(name), key, sizeof key);
		if (rc == 0 && v >= 1 && v <= MLDE_SEED_IMAGE_TYPES && v == (int)v &&
		    strcmp(key, mlde_seed_type_names[(int)v - 1]) != 0) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'question_type': '%s' is "
				       "question_type_id %d here, which mlde knows as %s", path,
				       jv_string_value(name), (int)v, mlde_seed_type_names[(int)v - 1]);
			rc = -1;
		}
		jv_free(name);
		jv_free(id);
	}
	return rc;
}

int mlde_seed_questions(jv file, const char *path, jv *questions, mlde_error *err)
{
	jv map;

	*questions = jv_invalid();
	if (jv_get_kind(file) == JV_KIND_ARRAY) {
		*questions = file;
		return 0;
	}
	if (jv_get_kind(file) != JV_KIND_OBJECT) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: expected an object with \"questions\", "
			       "got %s", path, mlde_kind_name(jv_get_kind(file)));
		jv_free(file);
		return -1;
	}
	map = jv_object_get(jv_copy(file), jv_string("question_type"));
	if (jv_get_kind(map) == JV_KIND_OBJECT && check_type_map(map, path, err) < 0) {
		jv_free(map);
		jv_free(file);
		return -1;
	}
	jv_free(map);
	*questions = jv_object_get(file, jv_string("questions"));
	if (jv_get_kind(*questions) != JV_KIND_ARRAY) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'questions': expected an array, got %s",
			       path, jv_is_valid(*questions) ? mlde_kind_name(jv_get_kind(*questions))
			       : "nothing");
		jv_free(*questions);
		*questions = jv_invalid();
		return -1;
	}
	return 0;
}

int mlde_seed_item(jv q, const char *images, const char *where, jv *item, mlde_error *err)
{
	static const char *const choice[] = { "choice_a", "choice_b", "choice_c", "choice_d" };
	const char *question, *answer, *data_type, *data_id;
	mlde_item it = { 0 };
	double type_id;
	char *id, *image;

	*item = jv_invalid();
	if (jv_get_kind(q) != JV_KIND_OBJECT) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: expected an object, got %s", where,
			       mlde_kind_name(jv_get_kind(q)));
		return -1;
	}
	if (mlde_import_string(q, "data_type", where, &data_type, err) < 0)
		return -1;
	if (strcmp(data_type, "video") == 0)
		return 0;
	if (strcmp(data_type, "image") != 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'data_type': '%.40s' is neither "
			       "image nor video", where, data_type);
		return -1;
	}
	if (!(id = mlde_import_id(q, "question_id"))) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'question_id': missing, or not a "
			       "string or an integer", where);
		return -1;
	}
	if (mlde_import_string(q, "question", where, &question, err) < 0 ||
	    mlde_import_string(q, "answer", where, &answer, err) < 0 ||
	    mlde_import_string(q, "data_id", where, &data_id, err) < 0 ||
	    mlde_import_number(q, "question_type_id", true, where, &type_id, err) < 0) {
		free(id);
		return -1;
	}
	if (type_id < 1 || type_id > MLDE_SEED_IMAGE_TYPES) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'question_type_id': %g is no image "
			       "dimension (1 to 9)", where, type_id);
		free(id);
		return -1;
	}
	for (int i = 0; i < 4; i++)
		if (mlde_import_string(q, choice[i], where, &it.options[i], err) < 0) {
			free(id);
			return -1;
		}
	it.nopt = 4;
	if (strlen(answer) != 1 || answer[0] < 'A' || answer[0] > 'D') {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'answer': '%.40s' is not A, B, C or D",
			       where, answer);
		free(id);
		return -1;
	}
	image = mlde_import_join(images, data_id);
	it.id = id;
	it.image = image;
	it.question = question;
	it.answer = answer[0] - 'A';
	it.type = mlde_seed_type_names[(int)type_id - 1];
	*item = mlde_item_record(&it);
	*item = mlde_import_keep(*item, q, "question_type_id", NULL);
	*item = mlde_import_keep(*item, q, "data_id", NULL);
	*item = jv_object_set(*item, jv_string("benchmark"), jv_string("seed-bench"));
	free(image);
	free(id);
	return 1;
}
