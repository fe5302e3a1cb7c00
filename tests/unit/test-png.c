/* test-png.c - unit tests of tools/lib/io/png.c: round trips, every colour
 * type libpng can write, and the bad files (missing, not a PNG, truncated,
 * corrupt, oversized, a zTXt bomb).  Runs in a scratch directory. */
#include <libpng16/png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/png.h"
#include "tap.h"

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static int contains(const unsigned char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(buf + i, s, n) == 0)
			return 1;
	return 0;
}

static void spit(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	fwrite(buf, 1, len, f);
	fclose(f);
}

/* A test pattern that differs in every channel of every pixel. */
static void pattern(mlde_image *img)
{
	for (int y = 0; y < img->height; y++)
		for (int x = 0; x < img->width; x++) {
			unsigned char *p = img->rgb + ((size_t)y * img->width + x) * 3;
			p[0] = (unsigned char)(x * 37 + y);
			p[1] = (unsigned char)(y * 53 + 7);
			p[2] = (unsigned char)(x * y + 200);
		}
}

/* Write a PNG with libpng directly, in the given colour type and depth, from
 * rows of raw samples; text, when not NULL, goes in a zTXt chunk. */
static void write_raw(const char *path, int w, int h, int ctype, int depth, int interlace,
		      unsigned char **rows, const png_color *palette, int npalette,
		      const unsigned char *trns, int ntrns, const char *text)
{
	FILE *f = fopen(path, "wb");
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);

	if (setjmp(png_jmpbuf(png))) {
		fprintf(stderr, "write_raw: libpng failed\n");
		exit(99);
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype, interlace,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (palette)
		png_set_PLTE(png, info, palette, npalette);
	if (trns)
		png_set_tRNS(png, info, trns, ntrns, NULL);
	if (text) {
		png_text t = { .compression = PNG_TEXT_COMPRESSION_zTXt,
			       .key = "Comment", .text = (char *)text,
			       .text_length = strlen(text) };
		png_set_text(png, info, &t, 1);
	}
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	fclose(f);
}

static int pixel_is(const mlde_image *img, int x, int y, int r, int g, int b)
{
	const unsigned char *p = img->rgb + ((size_t)y * img->width + x) * 3;

	return p[0] == r && p[1] == g && p[2] == b;
}

static void test_round_trip(void)
{
	mlde_image img, back;
	mlde_error err;
	unsigned char *a, *b;
	size_t alen = 0, blen = 0;

	mlde_error_clear(&err);
	TAP_IS_INT(mlde_image_init(&img, 13, 7, &err), 0, "image_init");
	pattern(&img);
	TAP_IS_INT(mlde_png_write("rt.png", &img, &err), 0, "write rt.png");
	TAP_IS_INT(mlde_png_read("rt.png", &back, 64, 64, &err), 0, "read rt.png");
	TAP_OK(back.width == 13 && back.height == 7, "size survives (%dx%d)", back.width,
	       back.height);
	TAP_OK(back.rgb && memcmp(back.rgb, img.rgb, 13 * 7 * 3) == 0, "pixels survive");
	mlde_image_free(&back);

	TAP_IS_INT(mlde_png_write("rt2.png", &img, &err), 0, "write again");
	a = slurp("rt.png", &alen);
	b = slurp("rt2.png", &blen);
	TAP_OK(a && b && alen == blen && memcmp(a, b, alen) == 0,
	       "same pixels, same bytes (%zu)", alen);
	TAP_OK(a && !contains(a, alen, "tIME") && !contains(a, alen, "tEXt"),
	       "no time or text chunk");
	TAP_IS_INT(fopen("rt.png.tmp", "rb") == NULL, 1, "no .tmp left behind");

	TAP_IS_INT(mlde_png_read_mem(a, alen, "<mem>", &back, 0, 0, &err), 0, "read_mem");
	TAP_OK(back.rgb && memcmp(back.rgb, img.rgb, 13 * 7 * 3) == 0, "read_mem pixels");
	mlde_image_free(&back);
	TAP_IS_INT(mlde_png_read_mem(a, alen - 20, "<mem>", &back, 0, 0, &err), -1,
		   "read_mem truncated fails");
	TAP_OK(strstr(err.msg, "<mem>: truncated") != NULL, "names it: %s", err.msg);
	free(a);
	free(b);

	TAP_IS_INT(mlde_png_write("no/such/dir/x.png", &img, &err), -1, "write into a missing dir");
	TAP_IS_INT(err.status, MLDE_EXIT_IO, "status IO");
	TAP_OK(strstr(err.msg, "no/such/dir/x.png.tmp") != NULL, "names the file: %s", err.msg);
	mlde_image_free(&img);
	mlde_image_free(&img);  /* twice is harmless */
	TAP_OK(img.rgb == NULL && img.width == 0, "free zeroes the image");
}

static void test_colour_types(void)
{
	enum { W = 5, H = 3 };
	unsigned char buf[H][W * 8];
	unsigned char *rows[H];
	mlde_image img;
	mlde_error err;
	png_color pal[3] = { { 255, 0, 0 }, { 0, 255, 0 }, { 10, 20, 30 } };
	unsigned char trns[3] = { 0, 128, 255 };

	mlde_error_clear(&err);
	for (int y = 0; y < H; y++)
		rows[y] = buf[y];

	/* palette, 8 bits, with transparency: alpha is dropped */
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			buf[y][x] = (unsigned char)((x + y) % 3);
	write_raw("pal.png", W, H, PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE, rows, pal,
		  3, trns, 3, NULL);
	TAP_IS_INT(mlde_png_read("pal.png", &img, 64, 64, &err), 0, "palette+tRNS reads");
	TAP_OK(img.rgb && pixel_is(&img, 0, 0, 255, 0, 0) && pixel_is(&img, 1, 0, 0, 255, 0) &&
	       pixel_is(&img, 1, 1, 10, 20, 30), "palette colours");
	mlde_image_free(&img);

	/* palette, 2 bits: four pixels a byte */
	memset(buf, 0, sizeof buf);
	for (int y = 0; y < H; y++)
		buf[y][0] = 0x24;  /* 00 10 01 00: colours 0, 2, 1, 0 */
	write_raw("pal2.png", W, H, PNG_COLOR_TYPE_PALETTE, 2, PNG_INTERLACE_NONE, rows, pal,
		  3, NULL, 0, NULL);
	TAP_IS_INT(mlde_png_read("pal2.png", &img, 64, 64, &err), 0, "2-bit palette reads");
	TAP_OK(img.rgb && pixel_is(&img, 1, 2, 10, 20, 30) && pixel_is(&img, 2, 0, 0, 255, 0),
	       "2-bit palette colours");
	mlde_image_free(&img);

	/* gray 8 bits */
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			buf[y][x] = (unsigned char)(x * 50 + y);
	write_raw("gray.png", W, H, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, rows, NULL, 0,
		  NULL, 0, NULL);
	TAP_IS_INT(mlde_png_read("gray.png", &img, 64, 64, &err), 0, "gray reads");
	TAP_OK(img.rgb && pixel_is(&img, 3, 2, 152, 152, 152), "gray to rgb");
	mlde_image_free(&img);

	/* gray 1 bit */
	memset(buf, 0, sizeof buf);
	buf[1][0] = 0x80;  /* pixel (0,1) white */
	write_raw("gray1.png", W, H, PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE, rows, NULL, 0,
		  NULL, 0, NULL);
	TAP_IS_INT(mlde_png_read("gray1.png", &img, 64, 64, &err), 0, "1-bit gray reads");
	TAP_OK(img.rgb && pixel_is(&img, 0, 1, 255, 255, 255) && pixel_is(&img, 1, 1, 0, 0, 0),
	       "1-bit gray scaled to 0..255");
	mlde_image_free(&img);

	/* gray + alpha */
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			buf[y][2 * x] = (unsigned char)(x * 10);
			buf[y][2 * x + 1] = 7;
		}
	write_raw("ga.png", W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE, rows, NULL,
		  0, NULL, 0, NULL);
	TAP_IS_INT(mlde_png_read("ga.png", &img, 64, 64, &err), 0, "gray+alpha reads");
	TAP_OK(img.rgb && pixel_is(&img, 4, 0, 40, 40, 40), "alpha dropped");
	mlde_image_free(&img);

	/* RGBA */
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			unsigned char *p = &buf[y][4 * x];
			p[0] = (unsigned char)x, p[1] = (unsigned char)y, p[2] = 99, p[3] = 0;
		}
	write_raw("rgba.png", W, H, PNG_COLOR_TYPE_RGB_ALPHA, 8, PNG_INTERLACE_NONE, rows, NULL,
		  0, NULL, 0, NULL);
	TAP_IS_INT(mlde_png_read("rgba.png", &img, 64, 64, &err), 0, "rgba reads");
	TAP_OK(img.rgb && pixel_is(&img, 4, 2, 4, 2, 99), "rgba to rgb");
	mlde_image_free(&img);

	/* RGB 16 bits, interlaced */
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			unsigned char *p = &buf[y][6 * x];
			p[0] = (unsigned char)(x * 20), p[1] = 0xff;
			p[2] = (unsigned char)(y * 30), p[3] = 0;
			p[4] = 0xab, p[5] = 0xcd;
		}
	write_raw("rgb16.png", W, H, PNG_COLOR_TYPE_RGB, 16, PNG_INTERLACE_ADAM7, rows, NULL,
		  0, NULL, 0, NULL);
	TAP_IS_INT(mlde_png_read("rgb16.png", &img, 64, 64, &err), 0, "16-bit interlaced reads");
	TAP_OK(img.rgb && pixel_is(&img, 3, 2, 60, 60, 0xab), "16 bits to 8 (%d %d %d)",
	       img.rgb ? img.rgb[(2 * W + 3) * 3] : -1, img.rgb ? img.rgb[(2 * W + 3) * 3 + 1] : -1,
	       img.rgb ? img.rgb[(2 * W + 3) * 3 + 2] : -1);
	mlde_image_free(&img);
}

static void expect_fail(const char *path, int max, int status, const char *want,
			const char *name)
{
	mlde_image img = { 1, 1, NULL };
	mlde_error err;

	mlde_error_clear(&err);
	TAP_IS_INT(mlde_png_read(path, &img, max, max, &err), -1, "%s: fails", name);
	TAP_IS_INT(err.status, status, "%s: status %d", name, status);
	TAP_OK(strncmp(err.msg, path, strlen(path)) == 0 && strstr(err.msg, want),
	       "%s: message '%s'", name, err.msg);
	TAP_OK(img.rgb == NULL && img.width == 0, "%s: image left empty", name);
}

static void test_bad_files(void)
{
	mlde_image img;
	mlde_error err;
	unsigned char *good;
	size_t len = 0;
	char *bomb;

	mlde_error_clear(&err);
	mlde_image_init(&img, 100, 10, &err);
	pattern(&img);
	mlde_png_write("wide.png", &img, &err);
	mlde_image_free(&img);
	good = slurp("wide.png", &len);

	expect_fail("missing.png", 64, MLDE_EXIT_IO, "No such file", "missing file");
	expect_fail(".", 64, MLDE_EXIT_IO, "read error", "a directory");
	spit("text.png", "hello, world\n", 13);
	expect_fail("text.png", 64, MLDE_EXIT_DATA, "not a PNG file", "non-PNG file");
	spit("empty.png", "", 0);
	expect_fail("empty.png", 64, MLDE_EXIT_DATA, "not a PNG file (empty)", "empty file");
	expect_fail("wide.png", 64, MLDE_EXIT_DATA, "image is 100x10, larger than the limit 64x64",
		    "width over the limit");
	TAP_IS_INT(mlde_png_read("wide.png", &img, 0, 0, &err), 0, "limit 0: the default");
	mlde_image_free(&img);

	spit("trunc1.png", good, 16);
	expect_fail("trunc1.png", 128, MLDE_EXIT_DATA, "truncated", "truncated in IHDR");
	spit("trunc2.png", good, len / 2);
	expect_fail("trunc2.png", 128, MLDE_EXIT_DATA, "truncated", "truncated in IDAT");
	spit("trunc3.png", good, len - 1);
	expect_fail("trunc3.png", 128, MLDE_EXIT_DATA, "truncated", "truncated in IEND");

	good[len / 2] ^= 0x55;
	spit("corrupt.png", good, len);
	expect_fail("corrupt.png", 128, MLDE_EXIT_DATA, "bad PNG", "corrupt IDAT");
	free(good);

	/* a zTXt chunk that inflates to 64 MiB: skipped with bounded memory,
	 * the pixels still read */
	{
		enum { BOMB = 64 << 20 };
		unsigned char px[3] = { 1, 2, 3 }, *rows[1] = { px };

		bomb = malloc(BOMB + 1);
		memset(bomb, 'a', BOMB);
		bomb[BOMB] = '\0';
		write_raw("bomb.png", 1, 1, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, rows, NULL, 0,
			  NULL, 0, bomb);
		free(bomb);
		TAP_IS_INT(mlde_png_read("bomb.png", &img, 64, 64, &err), 0,
			   "zTXt bomb: read, its text skipped (%s)", err.msg);
		TAP_OK(img.rgb && pixel_is(&img, 0, 0, 1, 2, 3), "zTXt bomb: pixels");
		mlde_image_free(&img);
	}
}

int main(void)
{
	test_round_trip();
	test_colour_types();
	test_bad_files();
	return TAP_DONE();
}
