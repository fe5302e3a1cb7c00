/* input.c - loading the images of records (a path under an image root, or
 * a data: URI) for the builtin model.  The item contract is record/record.c. */
#include "model/input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/png.h"

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
	unsigned char *out = mlde_xmalloc(n / 4 * 3 + 3);
	unsigned acc = 0;
	int bits = 0;

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
