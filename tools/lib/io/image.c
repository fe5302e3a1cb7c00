/* image.c - an item's image as the data: URI of a vision request: the
 * file's bytes, typed by their signature, in base64. */
#include "io/image.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base64.h"

const char *mlde_image_type(const void *p, size_t n)
{
	const unsigned char *b = p;

	if (!b)
		return NULL;
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
		return "image/jpeg";
	if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
		return "image/webp";
	if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
		return "image/gif";
	return NULL;
}

/* Whether ref is a data: URI a request can carry as it is: an image type,
 * then base64 ("data:image/png;base64,..." or with parameters before
 * ";base64"). */
static int is_image_data_uri(const char *ref)
{
	const char *comma = strchr(ref, ',');
	static const char b64[] = ";base64";

	return strncmp(ref, "data:image/", 11) == 0 && comma &&
	       (size_t)(comma - ref) >= 11 + sizeof b64 - 1 &&
	       memcmp(comma - (sizeof b64 - 1), b64, sizeof b64 - 1) == 0;
}

static char *join_path(const char *root, const char *ref)
{
	size_t n;
	char *path;

	if (ref[0] == '/' || !root || !*root || strcmp(root, ".") == 0)
		return mlde_xstrdup(ref);
	n = strlen(root) + strlen(ref) + 2;
	path = mlde_xmalloc(n);
	snprintf(path, n, "%s/%s", root, ref);
	return path;
}

/* Read the file path whole into *buf (malloc'd), its length in *len; one
 * of more than max_bytes (0: no limit) is refused before it is read when
 * its size is known, and as soon as the limit is passed otherwise. */
static int read_whole(const char *path, size_t max_bytes, unsigned char **buf, size_t *len,
		      mlde_error *err)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0;
	unsigned char *p;
	struct stat st;

	*buf = NULL;
	if (!f) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
		if (max_bytes && (uintmax_t)st.st_size > max_bytes) {
			mlde_error_set(err, MLDE_EXIT_DATA,
				       "%s: image of %jd bytes, more than the limit of %zu", path,
				       (intmax_t)st.st_size, max_bytes);
			fclose(f);
			return -1;
		}
		if (st.st_size > 0 && (uintmax_t)st.st_size < SIZE_MAX)
			cap = (size_t)st.st_size + 1;
	}
	p = mlde_xmalloc(cap);
	for (;;) {
		size_t got = fread(p + n, 1, cap - n, f);

		n += got;
		if (max_bytes && n > max_bytes) {
			mlde_error_set(err, MLDE_EXIT_DATA,
				       "%s: image of more than the limit of %zu bytes", path, max_bytes);
			break;
		}
		if (n < cap) {
			if (ferror(f)) {
				mlde_error_set(err, MLDE_EXIT_IO, "%s: read error: %s", path,
					       strerror(errno));
				break;
			}
			fclose(f);
			*buf = p;
			*len = n;
			return 0;
		}
		if (cap > SIZE_MAX / 2) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: file too large", path);
			break;
		}
		cap *= 2;
		p = mlde_xrealloc(p, cap);
	}
	free(p);
	fclose(f);
	return -1;
}

char *mlde_image_data_uri(const char *root, const char *ref, size_t max_bytes, mlde_error *err)
{
	unsigned char *bytes;
	const char *type;
	char *path, *uri = NULL;
	size_t len, head;

	if (!ref || !*ref) {
		mlde_error_set(err, MLDE_EXIT_DATA, "empty image reference");
		return NULL;
	}
	if (strncmp(ref, "data:", 5) == 0) {
		if (is_image_data_uri(ref))
			return mlde_xstrdup(ref);
		mlde_error_set(err, MLDE_EXIT_DATA,
			       "data: URI: only data:image/...;base64 URIs are sent");
		return NULL;
	}
	path = join_path(root, ref);
	if (read_whole(path, max_bytes, &bytes, &len, err) < 0) {
		free(path);
		return NULL;
	}
	if (!(type = mlde_image_type(bytes, len))) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: not a PNG, JPEG, WebP or GIF image", path);
	} else if (len > (SIZE_MAX - 64) / 4 * 3) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: file too large", path);
	} else {
		head = strlen("data:") + strlen(type) + strlen(";base64,");
		uri = mlde_xmalloc(head + mlde_base64_len(len) + 1);
		snprintf(uri, head + 1, "data:%s;base64,", type);
		mlde_base64_encode(bytes, len, uri + head);
	}
	free(bytes);
	free(path);
	return uri;
}
