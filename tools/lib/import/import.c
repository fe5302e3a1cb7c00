/* import.c - what the importers share: a JSON file read into one jv as it
 * streams in, field readers with messages, and the store of images
 * written once under their sha256. */
#include "import/import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base64.h"
#include "base/sha256.h"
#include "import/fields.h"
#include "io/atomic.h"
#include "io/image.h"
#include "io/jsonl.h"

/* ---- one JSON value from a file ---- */

static int parse_error(const char *name, jv v, mlde_error *err)
{
	char msg[300];

	mlde_jv_parse_message(v, msg, sizeof msg);
	mlde_error_set(err, MLDE_EXIT_DATA, "%s: %s", name, msg);
	return -1;
}

/* Feed the parser chunk by chunk: the text is never held whole, only the
 * value (COCO's instances file is 450 MB of text). */
static int parse_stream(FILE *f, const char *name, jv *out, mlde_error *err)
{
	enum { CHUNK = 1 << 16 };
	char *chunk = mlde_xmalloc(CHUNK);
	struct jv_parser *p = jv_parser_new(0);
	int rc = 0, nvalues = 0;
	size_t n;

	*out = jv_invalid();
	do {
		n = fread(chunk, 1, CHUNK, f);
		if (n < CHUNK && ferror(f)) {
			mlde_error_set(err, MLDE_EXIT_IO, "%s: read error: %s", name, strerror(errno));
			rc = -1;
			break;
		}
		jv_parser_set_buf(p, chunk, (int)n, !feof(f));
		while (rc == 0) {
			jv v = jv_parser_next(p);

			if (jv_is_valid(v)) {
				if (++nvalues == 1) {
					*out = v;
					continue;
				}
				jv_free(v);
				mlde_error_set(err, MLDE_EXIT_DATA, "%s: more than one JSON value", name);
				rc = -1;
			} else if (jv_invalid_has_msg(jv_copy(v))) {
				rc = parse_error(name, v, err);
			} else {
				jv_free(v);  /* wants more text */
				break;
			}
		}
	} while (rc == 0 && !feof(f));
	jv_parser_free(p);
	free(chunk);
	if (rc == 0 && nvalues == 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: no JSON value", name);
		rc = -1;
	}
	if (rc < 0) {
		jv_free(*out);
		*out = jv_invalid();
	}
	return rc;
}

int mlde_import_load_json(const char *path, jv *out, mlde_error *err)
{
	bool is_stdin = !path || strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	int rc;

	*out = jv_invalid();
	if (!f) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = parse_stream(f, is_stdin ? "<stdin>" : path, out, err);
	if (!is_stdin)
		fclose(f);
	return rc;
}

/* ---- fields ---- */

static int field_error(mlde_error *err, const char *where, const char *key, const char *what)
{
	mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '%s': %s", where, key, what);
	return -1;
}

int mlde_import_string(jv rec, const char *key, const char *where, const char **s,
		       mlde_error *err)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(key));
	jv_kind k = jv_get_kind(v);
	char what[80];

	/* the string lives on in rec, which holds its own reference */
	*s = k == JV_KIND_STRING ? jv_string_value(v) : NULL;
	jv_free(v);
	if (k == JV_KIND_STRING && **s)
		return 0;
	if (k == JV_KIND_STRING)
		return field_error(err, where, key, "empty");
	snprintf(what, sizeof what, "expected a string, got %s",
		 k == JV_KIND_INVALID ? "nothing" : mlde_kind_name(k));
	return field_error(err, where, key, k == JV_KIND_INVALID ? "missing" : what);
}

int mlde_import_number(jv rec, const char *key, bool integer, const char *where, double *v,
		       mlde_error *err)
{
	jv n = jv_object_get(jv_copy(rec), jv_string(key));
	jv_kind k = jv_get_kind(n);
	char what[80];

	if (k == JV_KIND_NUMBER) {
		*v = jv_number_value(n);
		jv_free(n);
		if (integer && *v != (double)(long long)*v)
			return field_error(err, where, key, "not an integer");
		return 0;
	}
	jv_free(n);
	if (k == JV_KIND_INVALID)
		return field_error(err, where, key, "missing");
	snprintf(what, sizeof what, "expected a number, got %s", mlde_kind_name(k));
	return field_error(err, where, key, what);
}

char *mlde_import_id(jv rec, const char *key)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(key));
	char buf[64], *s = NULL;

	if (jv_get_kind(v) == JV_KIND_STRING && jv_string_value(v)[0]) {
		s = mlde_xstrdup(jv_string_value(v));
	} else if (jv_get_kind(v) == JV_KIND_NUMBER &&
		   jv_number_value(v) == (double)(long long)jv_number_value(v)) {
		snprintf(buf, sizeof buf, "%lld", (long long)jv_number_value(v));
		s = mlde_xstrdup(buf);
	}
	jv_free(v);
	return s;
}

char *mlde_import_join(const char *dir, const char *name)
{
	size_t n;
	char *s;

	if (!dir || !*dir)
		return mlde_xstrdup(name);
	n = strlen(dir) + strlen(name) + 2;
	s = mlde_xmalloc(n);
	/* "DIR/" and "DIR" give the same path */
	snprintf(s, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	return s;
}

jv mlde_import_keep(jv rec, jv from, const char *key, const char *as)
{
	jv v = jv_object_get(jv_copy(from), jv_string(key));

	if (jv_is_valid(v))
		return jv_object_set(rec, jv_string(as ? as : key), v);
	jv_free(v);
	return rec;
}

/* ---- images ---- */

const char *mlde_import_image_ext(const void *p, size_t n)
{
	/* The signatures are io/image's; only the file name extension is ours. */
	const char *type = mlde_image_type(p, n);

	if (!type)
		return NULL;
	if (strcmp(type, "image/jpeg") == 0)
		return "jpg";
	return type + strlen("image/");
}

int mlde_image_store_make(const char *dir, mlde_error *err)
{
	struct stat st;
	int e;

	if (mkdir(dir, 0777) == 0)
		return 0;
	e = errno;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	mlde_error_set(err, MLDE_EXIT_IO, "%s: cannot make the images directory: %s", dir,
		       strerror(e));
	return -1;
}

static int write_whole(const char *path, const unsigned char *p, size_t n, mlde_error *err)
{
	mlde_atomic *a = mlde_atomic_open(path, err);

	if (!a)
		return -1;
	if (mlde_atomic_write(a, p, n, err) < 0) {
		mlde_atomic_abort(a);
		return -1;
	}
	return mlde_atomic_commit(a, err);
}

int mlde_image_store_b64(mlde_image_store *s, const char *b64, size_t n, const char *where,
			 char **name, mlde_error *err)
{
	size_t len;
	unsigned char *bytes = mlde_base64_decode(b64, n, &len);
	const char *ext;
	char sha[MLDE_SHA256_HEX], file[MLDE_SHA256_HEX + 8], *path;
	struct stat st;
	int rc = 0;

	*name = NULL;
	if (!bytes) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'image': not base64", where);
		return -1;
	}
	if (!(ext = mlde_import_image_ext(bytes, len))) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'image': not a PNG, JPEG, WebP or "
			       "GIF image (%zu bytes)", where, len);
		free(bytes);
		return -1;
	}
	mlde_sha256_hex(bytes, len, sha);
	snprintf(file, sizeof file, "%s.%s", sha, ext);
	path = mlde_import_join(s->dir, file);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len) {
		s->reused++;
	} else {
		rc = write_whole(path, bytes, len, err);
		if (rc == 0)
			s->written++;
	}
	free(path);
	free(bytes);
	if (rc == 0)
		*name = mlde_xstrdup(file);
	return rc;
}
