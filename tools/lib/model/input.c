/* item.c - checking items and loading their images for the builtin model. */
#include "model/input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/jsonl.h"
#include "io/png.h"

/* "field 'x': expected string, got number", or "missing". */
static int field_error(mlde_error *err, const char *where, const char *field, jv v,
		       const char *want)
{
	jv_kind k = jv_get_kind(v);

	if (k == JV_KIND_INVALID)
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '%s': missing", where, field);
	else
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '%s': expected %s, got %s", where,
			       field, want, mlde_kind_name(k));
	return -1;
}

/* The string field f of rec; the pointer lives as long as rec. */
static const char *get_string(jv rec, const char *f, jv *keep)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(f));
	const char *s = NULL;

	if (jv_get_kind(v) == JV_KIND_STRING)
		s = jv_string_value(v);  /* rec still holds the string */
	*keep = v;
	return s;
}

int mlde_item_read(jv rec, bool need_answer, bool allow_image_only, const char *where,
		   mlde_item_text *it, mlde_error *err)
{
	jv v, opts = jv_invalid(), ans = jv_invalid();
	int rc = -1, n;

	memset(it, 0, sizeof *it);
	it->answer = -1;
	it->image = get_string(rec, "image", &v);
	if (!it->image) {
		field_error(err, where, "image", v, "string");
		jv_free(v);
		return -1;
	}
	jv_free(v);
	it->type = get_string(rec, "type", &v);
	if (!it->type && jv_get_kind(v) != JV_KIND_INVALID && jv_get_kind(v) != JV_KIND_NULL) {
		field_error(err, where, "type", v, "string");
		jv_free(v);
		return -1;
	}
	jv_free(v);
	it->question = get_string(rec, "question", &v);
	if (!it->question) {
		if (allow_image_only && jv_get_kind(v) == JV_KIND_INVALID) {
			jv_free(v);
			return 0;
		}
		field_error(err, where, "question", v, "string");
		jv_free(v);
		return -1;
	}
	jv_free(v);

	opts = jv_object_get(jv_copy(rec), jv_string("options"));
	if (jv_get_kind(opts) != JV_KIND_ARRAY) {
		field_error(err, where, "options", opts, "array");
		goto out;
	}
	n = jv_array_length(jv_copy(opts));
	if (n < 2 || n > MLDE_OPTS_MAX) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'options': %d option%s (2 to %d "
			       "needed)", where, n, n == 1 ? "" : "s", MLDE_OPTS_MAX);
		goto out;
	}
	for (int j = 0; j < n; j++) {
		jv o = jv_array_get(jv_copy(opts), j);

		if (jv_get_kind(o) != JV_KIND_STRING) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'options': option %d is %s, "
				       "not a string", where, j, mlde_kind_name(jv_get_kind(o)));
			jv_free(o);
			goto out;
		}
		it->options[j] = jv_string_value(o);  /* rec holds it */
		jv_free(o);
	}
	it->nopt = n;

	ans = jv_object_get(jv_copy(rec), jv_string("answer"));
	if (jv_get_kind(ans) == JV_KIND_INVALID || jv_get_kind(ans) == JV_KIND_NULL) {
		if (need_answer) {
			field_error(err, where, "answer", ans, "integer");
			goto out;
		}
	} else if (jv_get_kind(ans) != JV_KIND_NUMBER || !jv_is_integer(ans)) {
		field_error(err, where, "answer", ans, "integer");
		if (jv_get_kind(ans) == JV_KIND_NUMBER)
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'answer': %g is not an "
				       "integer", where, jv_number_value(ans));
		goto out;
	} else {
		double a = jv_number_value(ans);

		if (a < 0 || a >= n) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'answer': %g is out of range "
				       "(0 to %d for %d options)", where, a, n - 1, n);
			goto out;
		}
		it->answer = (int)a;
	}
	rc = 0;
out:
	jv_free(opts);
	jv_free(ans);
	return rc;
}

static int b64(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode base64 (padding optional, whitespace skipped); NULL if malformed. */
static unsigned char *unbase64(const char *s, size_t *len)
{
	size_t n = strlen(s), k = 0;
	unsigned char *out = malloc(n / 4 * 3 + 3);
	unsigned acc = 0;
	int bits = 0;

	if (!out)
		return NULL;
	for (; *s && *s != '='; s++) {
		int v = b64((unsigned char)*s);

		if (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
			continue;
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (unsigned char)(acc >> bits);
		}
	}
	*len = k;
	return out;
}

int mlde_item_image(const mlde_model *m, const char *root, const char *ref,
		    unsigned char *out, mlde_error *err)
{
	mlde_image img = { 0 };
	int rc;

	if (strncmp(ref, "data:", 5) == 0) {
		const char *comma = strchr(ref, ',');
		unsigned char *bytes;
		size_t len;

		if (!comma || !strstr(ref, ";base64") || strstr(ref, ";base64") > comma) {
			mlde_error_set(err, MLDE_EXIT_DATA, "data: URI: only base64 data is read");
			return -1;
		}
		bytes = unbase64(comma + 1, &len);
		if (!bytes) {
			mlde_error_set(err, MLDE_EXIT_DATA, "data: URI: bad base64");
			return -1;
		}
		rc = mlde_png_read_mem(bytes, len, "data: URI", &img, MLDE_ITEM_SIDE_MAX,
				       MLDE_ITEM_SIDE_MAX, err);
		free(bytes);
	} else if (ref[0] == '/' || !root || !*root || strcmp(root, ".") == 0) {
		rc = mlde_png_read(ref, &img, MLDE_ITEM_SIDE_MAX, MLDE_ITEM_SIDE_MAX, err);
	} else {
		size_t n = strlen(root) + strlen(ref) + 2;
		char *path = mlde_xmalloc(n);

		snprintf(path, n, "%s/%s", root, ref);
		rc = mlde_png_read(path, &img, MLDE_ITEM_SIDE_MAX, MLDE_ITEM_SIDE_MAX, err);
		free(path);
	}
	if (rc < 0)
		return -1;
	mlde_model_image(m, img.rgb, img.width, img.height, out);
	mlde_image_free(&img);
	return 0;
}
