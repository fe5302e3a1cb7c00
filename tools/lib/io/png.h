/* png.h - PNG images in and out through libpng, as 8-bit RGB in memory.
 * Reading converts any colour type and bit depth to 8-bit RGB and enforces
 * size limits (no decompression bombs); writing is deterministic (no time or
 * text chunks), so the same pixels always give the same bytes.  Nothing here
 * prints: errors come back in an mlde_error naming the file. */
#ifndef MLDE_PNG_H
#define MLDE_PNG_H

#include <stddef.h>

#include "base/err.h"

typedef struct mlde_image {
	int width, height;
	unsigned char *rgb;  /* width*height*3 bytes, row-major RGB */
} mlde_image;

/* The largest side mlde_png_read accepts when asked for max_w or max_h <= 0. */
#define MLDE_PNG_SIDE_MAX 16384
/* The most memory libpng may give one ancillary chunk (iCCP, zTXt, ...). */
#define MLDE_PNG_CHUNK_MAX ((size_t)1 << 22)

/* Allocate a black width x height image; -1 (MLDE_EXIT_INTERNAL) when out of
 * memory or the size is not positive. */
int mlde_image_init(mlde_image *img, int width, int height, mlde_error *err);
/* Free the pixels and zero the image; safe on a zeroed or freed image. */
void mlde_image_free(mlde_image *img);

/* Write img as an 8-bit RGB PNG through io/atomic.h: via PATH.tmp renamed
 * onto path on success, or straight to a path that is not a regular file.
 * Encoded for speed (the Sub filter, zlib level 1), not for size.  0 ok,
 * -1 with err set (MLDE_EXIT_IO). */
int mlde_png_write(const char *path, const mlde_image *img, mlde_error *err);
/* The same written in place, with no .tmp and no fsync
 * (mlde_atomic_open_in_place): for many images written at once, synced
 * together by mlde_atomic_sync_fs before anything that names them is
 * committed; a failed write removes the file. */
int mlde_png_write_unsynced(const char *path, const mlde_image *img, mlde_error *err);

/* Read a PNG of any colour type into img (8-bit RGB; alpha is dropped, not
 * composited).  An image wider than max_w or taller than max_h is refused
 * (<= 0: MLDE_PNG_SIDE_MAX).  0 ok; -1 with err set and img zeroed:
 * MLDE_EXIT_IO when the file cannot be opened or read, MLDE_EXIT_DATA when
 * its content is not a valid PNG within the limits. */
int mlde_png_read(const char *path, mlde_image *img, int max_w, int max_h,
		  mlde_error *err);
/* The same from len bytes in memory (a decoded data: URI); name is used in
 * messages. */
int mlde_png_read_mem(const void *buf, size_t len, const char *name, mlde_image *img,
		      int max_w, int max_h, mlde_error *err);

#endif
