/* test-image.c - unit tests of tools/lib/io/image.c: the media type from
 * the bytes of each kind (a PNG written by io/png.c, a JPEG, WebP and GIFs
 * written here byte by byte), a JPEG named .png, the files refused and
 * why, the size limit, data: URIs passed through, the image root.  Runs
 * in a scratch directory. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base64.h"
#include "io/image.h"
#include "io/png.h"
#include "tap.h"

/* A 1x1 GIF89a from the GIF89a specification's layout: header, logical
 * screen (1x1, a 2-colour table), the table, an image descriptor, LZW
 * data (minimum code size 2: clear, index 0, end) and the trailer. */
static const unsigned char gif89[] = {
	'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0,
	0, 0, 0, 0xff, 0xff, 0xff,
	',', 0, 0, 0, 0, 1, 0, 1, 0, 0,
	2, 2, 0x44, 0x01, 0,
	';',
};

/* The start of a baseline JFIF file: SOI, then APP0 "JFIF" version 1.1,
 * no thumbnail, then EOI (a header, not a decodable image: typing reads
 * only the signature). */
static const unsigned char jpeg[] = {
	0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
	0xff, 0xd9,
};

/* A RIFF container of form WEBP holding one VP8L chunk header (signature
 * byte 0x2f): the layout of Google's WebP container specification. */
static const unsigned char webp[] = {
	'R', 'I', 'F', 'F', 14, 0, 0, 0, 'W', 'E', 'B', 'P',
	'V', 'P', '8', 'L', 2, 0, 0, 0, 0x2f, 0,
};

static void spit(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(1 << 20);

	*len = f ? fread(buf, 1, 1 << 20, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

/* Whether uri is "data:TYPE;base64," followed by the base64 of the file's
 * bytes. */
static int uri_holds(const char *uri, const char *type, const char *path)
{
	char head[64];
	size_t len, n, got;
	unsigned char *bytes = slurp(path, &len), *back;
	int same;

	snprintf(head, sizeof head, "data:%s;base64,", type);
	n = strlen(head);
	if (!uri || strncmp(uri, head, n) != 0) {
		free(bytes);
		return 0;
	}
	back = mlde_base64_decode(uri + n, strlen(uri + n), &got);
	same = back && got == len && memcmp(back, bytes, len) == 0;
	free(back);
	free(bytes);
	return same;
}

static void types(void)
{
	static const unsigned char png_sig[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	static const unsigned char wave[] = { 'R', 'I', 'F', 'F', 4, 0, 0, 0, 'W', 'A', 'V', 'E' };

	TAP_IS_STR(mlde_image_type(png_sig, 8), "image/png", "PNG signature");
	TAP_OK(!mlde_image_type(png_sig, 7), "7 bytes of it are not a PNG");
	TAP_IS_STR(mlde_image_type(jpeg, sizeof jpeg), "image/jpeg", "JPEG (JFIF) signature");
	TAP_OK(!mlde_image_type(jpeg, 2), "FF D8 alone is not a JPEG");
	TAP_IS_STR(mlde_image_type(webp, sizeof webp), "image/webp", "WebP: RIFF....WEBP");
	TAP_OK(!mlde_image_type(webp, 11), "a WebP cut before its form type");
	TAP_OK(!mlde_image_type(wave, sizeof wave), "RIFF....WAVE is not an image");
	TAP_IS_STR(mlde_image_type(gif89, sizeof gif89), "image/gif", "GIF89a");
	TAP_IS_STR(mlde_image_type("GIF87a", 6), "image/gif", "GIF87a");
	TAP_OK(!mlde_image_type("GIF88a", 6), "GIF88a is not a GIF version");
	TAP_OK(!mlde_image_type("GIF8", 4), "a cut GIF header");
	TAP_OK(!mlde_image_type("<svg xmlns=", 11), "SVG text is not among the types");
	TAP_OK(!mlde_image_type("", 0), "no bytes");
	TAP_OK(!mlde_image_type(NULL, 0), "NULL");
}

static void files(void)
{
	mlde_image img = { 0 };
	mlde_error err = { 0 };
	char *uri;

	mkdir("imgs", 0755);
	if (mlde_image_init(&img, 3, 2, &err) < 0 || mlde_png_write("imgs/pic.png", &img, &err) < 0) {
		printf("Bail out! %s\n", err.msg);
		exit(1);
	}
	mlde_image_free(&img);
	spit("imgs/photo.png", jpeg, sizeof jpeg); /* a JPEG named .png */
	spit("imgs/anim.gif", gif89, sizeof gif89);
	spit("imgs/pic.webp", webp, sizeof webp);
	spit("imgs/notes.png", "not an image at all\n", 20);
	spit("imgs/empty.png", "", 0);

	uri = mlde_image_data_uri("imgs", "pic.png", 0, &err);
	TAP_OK(uri_holds(uri, "image/png", "imgs/pic.png"), "a PNG written by io/png.c");
	free(uri);
	uri = mlde_image_data_uri("imgs", "photo.png", 0, &err);
	TAP_OK(uri_holds(uri, "image/jpeg", "imgs/photo.png"), "a JPEG named .png is image/jpeg");
	free(uri);
	uri = mlde_image_data_uri("imgs", "anim.gif", 0, &err);
	TAP_OK(uri_holds(uri, "image/gif", "imgs/anim.gif"), "a GIF");
	free(uri);
	uri = mlde_image_data_uri("imgs", "pic.webp", 0, &err);
	TAP_OK(uri_holds(uri, "image/webp", "imgs/pic.webp"), "a WebP");
	free(uri);

	mlde_error_clear(&err);
	uri = mlde_image_data_uri("imgs", "notes.png", 0, &err);
	TAP_OK(!uri && err.status == MLDE_EXIT_DATA, "unknown bytes are refused (status %d)",
	       err.status);
	TAP_IS_STR(err.msg, "imgs/notes.png: not a PNG, JPEG, WebP or GIF image",
		   "... naming the file");
	mlde_error_clear(&err);
	uri = mlde_image_data_uri("imgs", "empty.png", 0, &err);
	TAP_OK(!uri && err.status == MLDE_EXIT_DATA && strstr(err.msg, "imgs/empty.png"),
	       "an empty file is refused: %s", err.msg);
	mlde_error_clear(&err);
	uri = mlde_image_data_uri("imgs", "gone.png", 0, &err);
	TAP_OK(!uri && err.status == MLDE_EXIT_IO, "a missing file: status %d", err.status);
	TAP_IS_STR(err.msg, "imgs/gone.png: No such file or directory", "... named, with why");
	mlde_error_clear(&err);
	uri = mlde_image_data_uri("imgs", "", 0, &err);
	TAP_OK(!uri && err.status == MLDE_EXIT_DATA, "an empty reference: %s", err.msg);
	mlde_error_clear(&err);
	uri = mlde_image_data_uri("imgs", NULL, 0, &err);
	TAP_OK(!uri && err.status == MLDE_EXIT_DATA, "a NULL reference");
	mlde_error_clear(&err);
	uri = mlde_image_data_uri(".", "imgs", 0, &err);
	TAP_OK(!uri && err.status == MLDE_EXIT_IO && strstr(err.msg, "imgs: "),
	       "a directory cannot be read: %s", err.msg);
}

static void size_limit(void)
{
	mlde_error err = { 0 };
	char *uri;

	uri = mlde_image_data_uri("imgs", "anim.gif", sizeof gif89, &err);
	TAP_OK(uri_holds(uri, "image/gif", "imgs/anim.gif"), "a file of exactly max_bytes");
	free(uri);
	uri = mlde_image_data_uri("imgs", "anim.gif", sizeof gif89 - 1, &err);
	TAP_OK(!uri && err.status == MLDE_EXIT_DATA, "one byte more than max_bytes is refused");
	TAP_OK(strstr(err.msg, "imgs/anim.gif") && strstr(err.msg, "34"),
	       "... naming the file and the limit: %s", err.msg);
}

/* A big GIF-typed stream through a FIFO, whose size stat cannot tell:
 * read in growing steps, and the limit checked as it is read. */
static void fifo_limit(size_t max_bytes, int want_ok)
{
	static unsigned char big[300000];
	mlde_error err = { 0 };
	pid_t pid;
	char *uri;
	int status;

	memcpy(big, gif89, sizeof gif89);
	unlink("stream.gif");
	if (mkfifo("stream.gif", 0600) < 0 || (pid = fork()) < 0) {
		printf("Bail out! fifo\n");
		exit(1);
	}
	if (pid == 0) {
		FILE *f = fopen("stream.gif", "wb");

		if (f) {
			fwrite(big, 1, sizeof big, f);
			fclose(f);
		}
		_exit(0);
	}
	uri = mlde_image_data_uri(NULL, "stream.gif", max_bytes, &err);
	if (want_ok) {
		TAP_OK(uri && strncmp(uri, "data:image/gif;base64,", 22) == 0 &&
			       strlen(uri) == 22 + mlde_base64_len(sizeof big),
		       "300000 bytes from a FIFO, no limit (%s)", uri ? "" : err.msg);
	} else {
		TAP_OK(!uri && err.status == MLDE_EXIT_DATA && strstr(err.msg, "stream.gif"),
		       "a FIFO past max_bytes %zu is refused: %s", max_bytes, err.msg);
	}
	free(uri);
	kill(pid, SIGPIPE);
	waitpid(pid, &status, 0);
}

static void data_uris(void)
{
	static const char *const passed[] = {
		"data:image/png;base64,iVBORw0KGgo=",
		"data:image/jpeg;name=a.jpg;base64,/9j/",
		"data:image/webp;base64,",
	};
	static const char *const refused[] = {
		"data:text/plain;base64,aGk=",
		"data:image/png,raw",
		"data:image/png;base64",
		"data:,hello",
	};
	mlde_error err = { 0 };

	for (size_t i = 0; i < sizeof passed / sizeof passed[0]; i++) {
		char *uri = mlde_image_data_uri("imgs", passed[i], 1, &err);

		TAP_OK(uri && uri != passed[i] && strcmp(uri, passed[i]) == 0,
		       "passed as is (a copy, no size limit): %s", passed[i]);
		free(uri);
	}
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		char *uri;

		mlde_error_clear(&err);
		uri = mlde_image_data_uri("imgs", refused[i], 0, &err);
		TAP_OK(!uri && err.status == MLDE_EXIT_DATA && strstr(err.msg, "data:"),
		       "refused: %s (%s)", refused[i], err.msg);
		free(uri);
	}
}

static void roots(void)
{
	mlde_error err = { 0 };
	char cwd[PATH_MAX], abs_path[PATH_MAX + 32];
	char *uri;

	uri = mlde_image_data_uri(NULL, "imgs/pic.png", 0, &err);
	TAP_OK(uri_holds(uri, "image/png", "imgs/pic.png"), "root NULL: ref from the cwd");
	free(uri);
	uri = mlde_image_data_uri("", "imgs/pic.png", 0, &err);
	TAP_OK(uri_holds(uri, "image/png", "imgs/pic.png"), "root \"\": ref from the cwd");
	free(uri);
	uri = mlde_image_data_uri(".", "imgs/pic.png", 0, &err);
	TAP_OK(uri_holds(uri, "image/png", "imgs/pic.png"), "root \".\": ref from the cwd");
	free(uri);
	if (!getcwd(cwd, sizeof cwd))
		cwd[0] = '\0';
	snprintf(abs_path, sizeof abs_path, "%s/imgs/pic.png", cwd);
	uri = mlde_image_data_uri("elsewhere", abs_path, 0, &err);
	TAP_OK(uri_holds(uri, "image/png", "imgs/pic.png"), "an absolute ref ignores the root");
	free(uri);
	mlde_error_clear(&err);
	uri = mlde_image_data_uri("elsewhere", "pic.png", 0, &err);
	TAP_OK(!uri && err.status == MLDE_EXIT_IO && strncmp(err.msg, "elsewhere/pic.png: ", 19) == 0,
	       "a relative ref is under the root: %s", err.msg);
}

int main(void)
{
	types();
	files();
	size_limit();
	fifo_limit(0, 1);
	fifo_limit(100000, 0);
	data_uris();
	roots();
	return TAP_DONE();
}
