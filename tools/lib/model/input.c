/* input.c - loading the images of records (a path under an image root, or
 * a data: URI) for the builtin model.  The item contract is record/record.c. */
#include "model/input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "io/png.h"

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
		bytes = mlde_base64_decode(comma + 1, strlen(comma + 1), &len);
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
