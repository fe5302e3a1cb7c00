/* mmbench.c - MMBench's TSV rows into items: the hint joined to the
 * question as LLaVA's model_vqa_mmbench joins it ("HINT\nQUESTION"),
 * options A.. that are absent (empty, or a value pandas reads as NaN)
 * dropped, the answer letter turned into an index of those left, and the
 * base64 image written once as a file named by its sha256. */
#include "import/import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "record/record.h"

/* The columns the importer reads; -1 when the header has none. */
enum col { C_INDEX, C_QUESTION, C_HINT, C_ANSWER, C_CATEGORY, C_IMAGE, C_SOURCE, C_L2,
	   C_SPLIT, C_COMMENT, NCOLS };
static const char *const col_names[NCOLS] = {
	"index", "question", "hint", "answer", "category", "image", "source", "l2-category",
	"split", "comment",
};
/* The option columns, A to H (mlde's items have at most 8 options). */
static const char letters[] = "ABCDEFGH";

struct mlde_mmbench {
	int col[NCOLS];
	int opt_col[MLDE_OPTIONS_MAX];
	enum mlde_mmbench_type type;
	mlde_image_store *images;
	jv images_of;  /* index -> the image name of its row, for the short references */
};

static int find_column(const mlde_tsv *t, const char *name)
{
	for (size_t i = 0; i < mlde_tsv_nfields(t); i++)
		if (strcmp(mlde_tsv_field(t, i, NULL), name) == 0)
			return (int)i;
	return -1;
}

mlde_mmbench *mlde_mmbench_new(mlde_tsv *t, enum mlde_mmbench_type type,
			       mlde_image_store *images, mlde_error *err)
{
	const int required[] = { C_INDEX, C_QUESTION, C_ANSWER, C_IMAGE,
				 type == MLDE_MMBENCH_CATEGORY ? C_CATEGORY : C_L2 };
	mlde_mmbench *m = mlde_xcalloc(1, sizeof *m);

	for (int c = 0; c < NCOLS; c++)
		m->col[c] = find_column(t, col_names[c]);
	for (int i = 0; i < MLDE_OPTIONS_MAX; i++) {
		char name[2] = { letters[i], '\0' };
		m->opt_col[i] = find_column(t, name);
	}
	for (size_t i = 0; i < sizeof required / sizeof *required; i++)
		if (m->col[required[i]] < 0) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s:%lu: no column '%s' in the header",
				       mlde_tsv_name(t), mlde_tsv_lineno(t), col_names[required[i]]);
			free(m);
			return NULL;
		}
	if (m->opt_col[0] < 0 || m->opt_col[1] < 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s:%lu: no column '%s' in the header",
			       mlde_tsv_name(t), mlde_tsv_lineno(t), m->opt_col[0] < 0 ? "A" : "B");
		free(m);
		return NULL;
	}
	mlde_tsv_name_fields(t);
	m->type = type;
	m->images = images;
	m->images_of = jv_object();
	return m;
}

void mlde_mmbench_free(mlde_mmbench *m)
{
	if (!m)
		return;
	jv_free(m->images_of);
	free(m);
}

/* A cell pandas reads as NaN (its default na_values that a benchmark
 * could hold), or empty: VLMEvalKit and LLaVA then treat it as absent.
 * LLaVA's is_none adds "none" in lower case. */
static bool is_absent(const char *s)
{
	static const char *const na[] = { "", "nan", "NaN", "-nan", "-NaN", "None", "none", "NULL",
					  "null", "NA", "N/A", "n/a", "<NA>", "#N/A" };

	for (size_t i = 0; i < sizeof na / sizeof *na; i++)
		if (strcmp(s, na[i]) == 0)
			return true;
	return false;
}

/* Field c of the row, "" when the row is short or the header lacks it. */
static const char *cell(const mlde_tsv *t, int c, size_t *len)
{
	const char *s = c >= 0 ? mlde_tsv_field(t, (size_t)c, len) : NULL;

	if (!s && len)
		*len = 0;
	return s ? s : "";
}

/* A present cell of column c as a string, or absent (nothing set). */
static jv keep_cell(jv item, const mlde_tsv *t, int c, const char *as)
{
	const char *s = cell(t, c, NULL);

	return is_absent(s) ? item : jv_object_set(item, jv_string(as), jv_string(s));
}

static int row_error(mlde_error *err, const char *where, const char *field,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "WHERE: field 'FIELD': what", as bad data. */
static int row_error(mlde_error *err, const char *where, const char *field, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '%s': %s", where, field, what);
	return -1;
}

/* The image of the row: stored, or the row's reference to an earlier
 * row's image.  *name is malloc'd. */
static int row_image(mlde_mmbench *m, const mlde_tsv *t, const char *where, char **name,
		     mlde_error *err)
{
	size_t len;
	const char *b64 = cell(t, m->col[C_IMAGE], &len);
	jv ref;

	if (len == 0)
		return row_error(err, where, "image", "empty");
	if (len > 64)
		return mlde_image_store_b64(m->images, b64, len, where, name, err);
	/* VLMEvalKit: a short image field is the index of the row that holds it */
	ref = jv_object_get(jv_copy(m->images_of), jv_string(b64));
	if (jv_get_kind(ref) != JV_KIND_STRING) {
		jv_free(ref);
		return row_error(err, where, "image", "'%.64s' is no image, nor the index of an "
				 "earlier row", b64);
	}
	*name = mlde_xstrdup(jv_string_value(ref));
	jv_free(ref);
	return 0;
}

/* Options: the present cells of A..H, and the index of the answer's
 * letter among them. */
static int row_options(const mlde_mmbench *m, const mlde_tsv *t, const char *where,
		       mlde_item *it, mlde_error *err)
{
	const char *answer = cell(t, m->col[C_ANSWER], NULL);
	int letter = -1;

	it->nopt = 0;
	it->answer = -1;
	if (strlen(answer) == 1 && strchr(letters, answer[0]))
		letter = (int)(strchr(letters, answer[0]) - letters);
	else
		return row_error(err, where, "answer", "'%.40s' is not an option letter A to H",
				 answer);
	for (int i = 0; i < MLDE_OPTIONS_MAX; i++) {
		const char *o = cell(t, m->opt_col[i], NULL);

		if (is_absent(o))
			continue;
		if (i == letter)
			it->answer = it->nopt;
		it->options[it->nopt++] = o;
	}
	if (it->answer < 0)
		return row_error(err, where, "answer", "'%s' names an absent option", answer);
	if (it->nopt < MLDE_OPTIONS_MIN)
		return row_error(err, where, "B", "only one option (an item needs two)");
	return 0;
}

int mlde_mmbench_item(mlde_mmbench *m, const mlde_tsv *t, jv *item, mlde_error *err)
{
	const char *index = cell(t, m->col[C_INDEX], NULL);
	const char *question = cell(t, m->col[C_QUESTION], NULL);
	const char *hint = cell(t, m->col[C_HINT], NULL);
	const char *type = cell(t, m->col[m->type == MLDE_MMBENCH_CATEGORY ? C_CATEGORY : C_L2],
				NULL);
	mlde_item it = { .id = index };
	mlde_buf q = { 0 };
	char where[600], *image = NULL;

	*item = jv_invalid();
	snprintf(where, sizeof where, "%s:%lu: row %.40s", mlde_tsv_name(t), mlde_tsv_lineno(t),
		 *index ? index : "(no index)");
	if (!*index)
		return row_error(err, where, "index", "empty");
	if (jv_object_has(jv_copy(m->images_of), jv_string(index)))
		return row_error(err, where, "index", "'%s' repeats an earlier row's", index);
	if (is_absent(question))
		return row_error(err, where, "question", "empty");
	if (is_absent(type))
		return row_error(err, where, col_names[m->type == MLDE_MMBENCH_CATEGORY ? C_CATEGORY
						       : C_L2], "empty");
	if (row_options(m, t, where, &it, err) < 0 || row_image(m, t, where, &image, err) < 0)
		return -1;
	if (!is_absent(hint)) {
		mlde_buf_adds(&q, hint);
		mlde_buf_addc(&q, '\n');
	}
	mlde_buf_adds(&q, question);
	it.question = q.p;
	it.image = image;
	it.type = type;
	*item = mlde_item_record(&it);
	*item = keep_cell(*item, t, m->col[C_HINT], "hint");
	*item = keep_cell(*item, t, m->col[C_CATEGORY], "category");
	*item = keep_cell(*item, t, m->col[C_L2], "l2-category");
	*item = keep_cell(*item, t, m->col[C_SOURCE], MLDE_F_SOURCE);
	*item = keep_cell(*item, t, m->col[C_SPLIT], "split");
	*item = keep_cell(*item, t, m->col[C_COMMENT], "comment");
	*item = jv_object_set(*item, jv_string("benchmark"), jv_string("mmbench"));
	m->images_of = jv_object_set(m->images_of, jv_string(index), jv_string(image));
	mlde_buf_free(&q);
	free(image);
	return 0;
}
