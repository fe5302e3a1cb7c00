/* image.h - an item's image as a vision request carries it: a data: URI of
 * the file's bytes, its media type found from the bytes themselves (a
 * JPEG named .png is still a JPEG).  Nothing here prints. */
#ifndef MLDE_IMAGE_H
#define MLDE_IMAGE_H

#include <stddef.h>

#include "base/err.h"

/* "image/png", "image/jpeg", "image/webp" or "image/gif", from the
 * signature of the n bytes at p; NULL for anything else. */
const char *mlde_image_type(const void *p, size_t n);

/* The data: URI of an item's image reference: ref itself (copied, no size
 * limit) when it is a data:image/...;base64 URI already (any other data:
 * URI is refused, MLDE_EXIT_DATA), else "data:TYPE;base64,..." of the file
 * ref (under root unless ref is absolute, or root is NULL, "" or "."),
 * read whole.  Malloc'd, or NULL with err: a file that cannot be read
 * (MLDE_EXIT_IO, "FILE: why"), one larger than max_bytes (0: no limit;
 * a FIFO is stopped as soon as it passes the limit) or of no known image
 * type, empty included (MLDE_EXIT_DATA, naming it); an empty or NULL ref
 * (MLDE_EXIT_DATA). */
char *mlde_image_data_uri(const char *root, const char *ref, size_t max_bytes, mlde_error *err);

#endif
