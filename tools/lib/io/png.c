/* png.c - PNG reading and writing over libpng.  libpng reports errors by
 * longjmp; every function here catches them at one setjmp, frees what it
 * holds (the locals that change after setjmp are volatile) and turns the
 * message into an mlde_error naming the file. */
#include "io/png.h"
#include "io/atomic.h"
#include "base/buf.h"

#include <errno.h>
#include <fcntl.h>
/* libpng's header by its versioned directory: plain <png.h> would find our
 * own png.h, as -Itools/lib comes first */
#include <libpng16/png.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The signature and the IHDR chunk up to the height: enough to refuse an
 * oversized image with a clear message before libpng allocates anything. */
#define HEAD_LEN 24

/* Where the bytes come from, and what went wrong; libpng's io and error
 * pointer. */
typedef struct png_src {
	const char *name;
	int fd;                      /* a file to read; -1: read from mem */
	const unsigned char *mem;
	size_t mem_len, mem_pos;
	unsigned char head[HEAD_LEN];  /* bytes already read, served first */
	size_t head_len, head_pos;
	int io_errno;                /* a read or write failed with this errno */
	int truncated;               /* the input ended early */
	int oom;
	char msg[256];               /* libpng's error message */
	char warning[256];           /* its last warning, which often says why */
} png_src;

static void on_error(png_structp png, png_const_charp msg)
{
	png_src *s = png_get_error_ptr(png);

	snprintf(s->msg, sizeof s->msg, "%s", msg);
	png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
	png_src *s = png_get_error_ptr(png);

	snprintf(s->warning, sizeof s->warning, "%s", msg);
}

/* Raw bytes from the source, without libpng; returns how many. */
static size_t src_read(png_src *s, unsigned char *out, size_t n)
{
	size_t got = 0;

	if (s->fd < 0) {
		got = s->mem_len - s->mem_pos < n ? s->mem_len - s->mem_pos : n;
		memcpy(out, s->mem + s->mem_pos, got);
		s->mem_pos += got;
		return got;
	}
	/* read(2), not stdio: the errno of a failed read is kept, and the
	 * fault shim of the tests sees each call */
	while (got < n) {
		ssize_t k = read(s->fd, out + got, n - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			s->io_errno = errno;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

static void read_data(png_structp png, png_bytep out, png_size_t n)
{
	png_src *s = png_get_io_ptr(png);

	while (n && s->head_pos < s->head_len) {
		*out++ = s->head[s->head_pos++];
		n--;
	}
	if (n && src_read(s, out, n) < n) {
		if (s->io_errno)
			png_error(png, "read error");
		s->truncated = 1;
		png_error(png, "unexpected end of file");
	}
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Read the signature and IHDR size by hand: -1 with err set when the input
 * is not a PNG or is larger than the limits. */
static int check_head(png_src *s, int max_w, int max_h, mlde_error *err)
{
	s->head_len = src_read(s, s->head, HEAD_LEN);
	if (s->io_errno) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: read error: %s", s->name,
			       strerror(s->io_errno));
		return -1;
	}
	if (s->head_len < 8 || png_sig_cmp(s->head, 0, 8) != 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: not a PNG file%s", s->name,
			       s->head_len == 0 ? " (empty)" : "");
		return -1;
	}
	if (s->head_len == HEAD_LEN && memcmp(s->head + 12, "IHDR", 4) == 0) {
		uint32_t w = be32(s->head + 16), h = be32(s->head + 20);

		if (w > (uint32_t)max_w || h > (uint32_t)max_h) {
			mlde_error_set(err, MLDE_EXIT_DATA,
				       "%s: image is %lux%lu, larger than the limit %dx%d",
				       s->name, (unsigned long)w, (unsigned long)h, max_w, max_h);
			return -1;
		}
	}
	return 0;
}

static void read_failed(const png_src *s, mlde_error *err)
{
	if (s->io_errno)
		mlde_error_set(err, MLDE_EXIT_IO, "%s: read error: %s", s->name,
			       strerror(s->io_errno));
	else if (s->oom)
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "%s: out of memory", s->name);
	else if (s->truncated)
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: truncated PNG (unexpected end of file)",
			       s->name);
	else if (s->warning[0])
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: bad PNG: %s (%s)", s->name, s->msg,
			       s->warning);
	else
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: bad PNG: %s", s->name, s->msg);
}

/* max_w and max_h are positive here: the callers set the defaults, since
 * nothing may change them once setjmp has run. */
static int read_png(png_src *s, mlde_image *img, int max_w, int max_h, mlde_error *err)
{
	png_structp png;
	png_infop info;
	unsigned char *volatile rgb = NULL;
	png_bytep *volatile rows = NULL;
	png_uint_32 w, h;

	if (check_head(s, max_w, max_h, err) < 0)
		return -1;
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "%s: out of memory", s->name);
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		free(rows);
		free(rgb);
		png_destroy_read_struct(&png, &info, NULL);
		read_failed(s, err);
		return -1;
	}
	png_set_read_fn(png, s, read_data);
	/* the head check above caught most; these guard everything else */
	png_set_user_limits(png, (png_uint_32)max_w, (png_uint_32)max_h);
	png_set_chunk_cache_max(png, 128);
	png_set_chunk_malloc_max(png, MLDE_PNG_CHUNK_MAX);
	png_read_info(png, info);
	w = png_get_image_width(png, info);
	h = png_get_image_height(png, info);

	/* palette, low bit depths and tRNS to 8 bits, then to 3 channels */
	png_set_expand(png);
	png_set_strip_16(png);
	if (!(png_get_color_type(png, info) & PNG_COLOR_MASK_COLOR))
		png_set_gray_to_rgb(png);
	png_set_strip_alpha(png);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8 ||
	    png_get_rowbytes(png, info) != (size_t)w * 3)
		png_error(png, "unsupported pixel layout");

	rgb = malloc((size_t)w * h * 3);
	rows = malloc((size_t)h * sizeof *rows);
	if (!rgb || !rows) {
		s->oom = 1;
		png_error(png, "out of memory");
	}
	for (png_uint_32 y = 0; y < h; y++)
		rows[y] = rgb + (size_t)y * w * 3;
	png_read_image(png, rows);
	/* up to IEND: a file cut short after the pixels is still truncated */
	png_read_end(png, NULL);

	free(rows);
	png_destroy_read_struct(&png, &info, NULL);
	img->width = (int)w;
	img->height = (int)h;
	img->rgb = rgb;
	return 0;
}

int mlde_png_read(const char *path, mlde_image *img, int max_w, int max_h,
		  mlde_error *err)
{
	png_src s = { .name = path };
	int rc;

	*img = (mlde_image){ 0 };
	s.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s.fd < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = read_png(&s, img, max_w > 0 ? max_w : MLDE_PNG_SIDE_MAX,
		      max_h > 0 ? max_h : MLDE_PNG_SIDE_MAX, err);
	close(s.fd);  /* read only: nothing a failed close could lose */
	return rc;
}

int mlde_png_read_mem(const void *buf, size_t len, const char *name, mlde_image *img,
		      int max_w, int max_h, mlde_error *err)
{
	png_src s = { .name = name, .fd = -1, .mem = buf, .mem_len = len };

	*img = (mlde_image){ 0 };
	return read_png(&s, img, max_w > 0 ? max_w : MLDE_PNG_SIDE_MAX,
			max_h > 0 ? max_h : MLDE_PNG_SIDE_MAX, err);
}

/* The encoded file grows in memory, and is written with one write(2). */
static void write_data(png_structp png, png_bytep data, png_size_t n)
{
	mlde_buf *out = png_get_io_ptr(png);

	mlde_buf_add(out, data, n);
}

/* Nothing to flush: the bytes are in memory until written whole. */
static void flush_data(png_structp png)
{
	(void)png;
}

/* Encode img into out (s names it in messages); -1 with err set. */
static int encode_png(png_src *s, const mlde_image *img, mlde_buf *out, mlde_error *err)
{
	png_structp png;
	png_infop info;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		png_destroy_write_struct(png ? &png : NULL, NULL);
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "%s: out of memory", s->name);
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "%s: cannot write PNG: %s", s->name, s->msg);
		return -1;
	}
	png_set_write_fn(png, out, write_data, flush_data);
	png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
		     PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	/* One filter and zlib's fastest level: libpng's default tries all
	 * five filters on every row and deflates at level 6, which was 60%
	 * of mlde-world's time.  The pixels are the same; the world's images
	 * come out 29% larger (475 bytes on average, against 369), still a
	 * block of the disk each. */
	png_set_filter(png, 0, PNG_FILTER_SUB);
	png_set_compression_level(png, 1);
	png_write_info(png, info);
	for (int y = 0; y < img->height; y++)
		png_write_row(png, img->rgb + (size_t)y * (size_t)img->width * 3);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}

static int write_file(const char *path, const mlde_image *img, bool sync, mlde_error *err)
{
	png_src s = { .name = path, .fd = -1 };
	mlde_buf bytes = { 0 };
	mlde_atomic *file;
	int rc;

	if (!img->rgb || img->width <= 0 || img->height <= 0) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "%s: no image to write", path);
		return -1;
	}
	if (encode_png(&s, img, &bytes, err) < 0) {
		mlde_buf_free(&bytes);
		return -1;
	}
	file = sync ? mlde_atomic_open(path, err) : mlde_atomic_open_in_place(path, err);
	if (!file) {
		mlde_buf_free(&bytes);
		return -1;
	}
	rc = mlde_atomic_write(file, bytes.p, bytes.len, err);
	mlde_buf_free(&bytes);
	if (rc < 0) {
		mlde_atomic_abort(file);
		return -1;
	}
	return mlde_atomic_commit(file, err);
}

int mlde_png_write(const char *path, const mlde_image *img, mlde_error *err)
{
	return write_file(path, img, true, err);
}

int mlde_png_write_unsynced(const char *path, const mlde_image *img, mlde_error *err)
{
	return write_file(path, img, false, err);
}

int mlde_image_init(mlde_image *img, int width, int height, mlde_error *err)
{
	*img = (mlde_image){ 0 };
	if (width <= 0 || height <= 0 || width > MLDE_PNG_SIDE_MAX ||
	    height > MLDE_PNG_SIDE_MAX) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "bad image size %dx%d", width, height);
		return -1;
	}
	img->rgb = calloc((size_t)width * (size_t)height, 3);
	if (!img->rgb) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "out of memory (%dx%d image)", width,
			       height);
		return -1;
	}
	img->width = width;
	img->height = height;
	return 0;
}

void mlde_image_free(mlde_image *img)
{
	if (!img)
		return;
	free(img->rgb);
	*img = (mlde_image){ 0 };
}
