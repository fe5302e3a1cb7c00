/* fuzz-jsonl.c - libFuzzer target: the JSON Lines reader (io/jsonl.c) over
 * plain text and zstd.  The first byte chooses how the rest reaches the
 * reader: as it is (a seed may be a .zst file), compressed as one frame,
 * as two frames split where the second byte says, as a frame cut short,
 * or as it is with a 64-byte line limit.  The input is served on stdin
 * from a jsonl_fd, as a program reads "-". */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include "io/jsonl.h"

static int jsonl_fd = -1;

static void jsonl_put(const void *p, size_t n)
{
	const char *at = p;

	while (n > 0) {
		ssize_t k = write(jsonl_fd, at, n);
		if (k <= 0)
			abort();
		at += k;
		n -= (size_t)k;
	}
}

static void jsonl_put_frame(const uint8_t *p, size_t n, size_t keep)
{
	size_t cap = ZSTD_compressBound(n);
	char *z = malloc(cap);
	size_t zn = ZSTD_compress(z, cap, p, n, 1);

	if (ZSTD_isError(zn))
		abort();
	jsonl_put(z, keep && keep < zn ? keep : zn);
	free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mlde_reader *r;
	mlde_error err;
	jv rec;
	int mode, got;

	if (size < 2)
		return 0;
	if (jsonl_fd < 0 && (jsonl_fd = memfd_create("fuzz-jsonl", 0)) < 0)
		abort();
	if (ftruncate(jsonl_fd, 0) < 0 || lseek(jsonl_fd, 0, SEEK_SET) < 0)
		abort();
	mode = data[0] % 5;
	{
		const uint8_t *body = data + 2;
		size_t n = size - 2, cut = n ? data[1] % (n + 1) : 0;

		switch (mode) {
		case 1: jsonl_put_frame(body, n, 0); break;
		case 2: jsonl_put_frame(body, cut, 0); jsonl_put_frame(body + cut, n - cut, 0); break;
		case 3: jsonl_put_frame(body, n, 1 + data[1] % 64); break;
		default: jsonl_put(body, n); break;
		}
	}
	if (lseek(jsonl_fd, 0, SEEK_SET) < 0 || dup2(jsonl_fd, STDIN_FILENO) < 0)
		abort();
	mlde_error_clear(&err);
	r = mlde_reader_open("-", &err);
	if (!r)
		return 0;
	if (mode == 4)
		mlde_reader_set_line_max(r, 64);
	while ((got = mlde_reader_next(r, &rec, &err)) > 0)
		jv_free(rec);
	if (got < 0 && (err.status == 0 || !err.msg[0]))
		abort();  /* an error must say what */
	mlde_reader_close(r);
	return 0;
}
