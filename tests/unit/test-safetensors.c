/* test-safetensors.c - the safetensors reader as the gate for model files
 * from anywhere: a round trip, then files that are cut short, lie in their
 * header (lengths, offsets, dtype, shape, metadata) or are not files. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model/safetensors.h"
#include "tap.h"

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	fwrite(p, 1, n, f);
	fclose(f);
}

/* A file of one header and n data bytes. */
static void write_st(const char *path, const char *hdr, size_t n)
{
	size_t h = strlen(hdr);
	unsigned char *buf = calloc(8 + h + n + 1, 1);

	for (int i = 0; i < 8; i++)
		buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
	memcpy(buf + 8, hdr, h);
	write_bytes(path, buf, 8 + h + n);
	free(buf);
}

static void expect_bad(const char *hdr, size_t n, const char *want, const char *name)
{
	mlde_st_file f;
	mlde_error err;
	int rc;

	mlde_error_clear(&err);
	write_st("bad.safetensors", hdr, n);
	rc = mlde_st_load("bad.safetensors", &f, &err);
	TAP_OK(rc == -1 && err.status == MLDE_EXIT_DATA && strstr(err.msg, want) &&
	       strstr(err.msg, "bad.safetensors"), "safetensors: %s is refused", name);
	if (rc == -1 && !strstr(err.msg, want))
		printf("#   message: %s\n", err.msg);
}

static void test_safetensors(void)
{
	float a[6] = { 1, -2, 3.5f, 0, 1e-30f, 7 }, b[2] = { 42, -0.25f };
	mlde_st_tensor t[2] = {
		{ .name = "layer.a", .ndim = 2, .shape = { 2, 3 }, .count = 6, .data = a },
		{ .name = "b", .ndim = 1, .shape = { 2 }, .count = 2, .data = b },
	};
	jv meta = jv_object_set(jv_object(), jv_string("format"), jv_string("test"));
	mlde_st_file f;
	mlde_error err;
	const mlde_st_tensor *ta, *tb;
	unsigned char head[8];
	FILE *fp;
	uint64_t hlen = 0;

	mlde_error_clear(&err);
	TAP_IS_INT(mlde_st_save("m.safetensors", t, 2, meta, &err), 0, "safetensors: save");
	TAP_OK(access("m.safetensors.tmp", F_OK) != 0, "safetensors: no .tmp left");
	fp = fopen("m.safetensors", "rb");
	TAP_OK(fp && fread(head, 1, 8, fp) == 8, "safetensors: header length readable");
	if (fp)
		fclose(fp);
	for (int i = 7; i >= 0; i--)
		hlen = (hlen << 8) | head[i];
	TAP_OK(hlen % 8 == 0, "safetensors: data 8-byte aligned (header length %llu)",
	       (unsigned long long)hlen);
	TAP_IS_INT(mlde_st_load("m.safetensors", &f, &err), 0, "safetensors: load");
	ta = mlde_st_find(&f, "layer.a");
	tb = mlde_st_find(&f, "b");
	TAP_OK(ta && ta->ndim == 2 && ta->shape[0] == 2 && ta->shape[1] == 3 &&
	       memcmp(ta->data, a, sizeof a) == 0, "safetensors: round trip of a 2x3 tensor");
	TAP_OK(tb && tb->count == 2 && memcmp(tb->data, b, sizeof b) == 0,
	       "safetensors: round trip of a vector");
	TAP_IS_STR(mlde_st_meta(&f, "format"), "test", "safetensors: metadata round trip");
	TAP_OK(mlde_st_meta(&f, "missing") == NULL, "safetensors: absent metadata is NULL");
	mlde_st_free(&f);

	mlde_error_clear(&err);
	TAP_OK(mlde_st_load("nonexistent.safetensors", &f, &err) == -1 &&
	       err.status == MLDE_EXIT_IO && strstr(err.msg, "nonexistent.safetensors"),
	       "safetensors: a missing file is an I/O error naming it");
	write_bytes("short.safetensors", "abc", 3);
	mlde_error_clear(&err);
	TAP_OK(mlde_st_load("short.safetensors", &f, &err) == -1 && err.status == MLDE_EXIT_DATA,
	       "safetensors: a 3-byte file is refused");
	{
		unsigned char big[16] = { 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, '{', '}' };

		write_bytes("big.safetensors", big, sizeof big);
		mlde_error_clear(&err);
		TAP_OK(mlde_st_load("big.safetensors", &f, &err) == -1 &&
		       err.status == MLDE_EXIT_DATA && strstr(err.msg, "too large"),
		       "safetensors: a huge header length is refused");
	}
	{
		/* header length says 64 but the file holds 10 bytes of header */
		unsigned char lie[18] = { 64, 0, 0, 0, 0, 0, 0, 0, '{', '}' };

		write_bytes("lie.safetensors", lie, sizeof lie);
		mlde_error_clear(&err);
		TAP_OK(mlde_st_load("lie.safetensors", &f, &err) == -1 &&
		       strstr(err.msg, "past the end"), "safetensors: a header length past the "
		       "end of the file is refused");
	}
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8,
		   "bad header", "truncated JSON");
	expect_bad("[1,2]", 0, "not a JSON object", "a header that is not an object");
	expect_bad("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
		   "not supported", "a dtype other than F32");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
		   "shape needs 12 bytes", "a shape that does not match its bytes");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8,
		   "outside", "offsets past the data");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
		   "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 16,
		   "not contiguous", "a gap between tensors");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
		   "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
		   "not contiguous", "overlapping tensors");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12,
		   "the header describes 8", "data bytes the header does not describe");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
		   "bad shape", "a negative dimension");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
		   "\"data_offsets\":[0,8]}}", 8, "larger than the file",
		   "a shape whose product overflows");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0.5,8]}}", 8,
		   "bad data_offsets", "fractional offsets");
	expect_bad("{\"__metadata__\":{\"k\":1}}", 0, "must be strings",
		   "a metadata value that is not a string");
}

/* A good file cut short anywhere is refused as data, never read past. */
static void test_truncated(void)
{
	float a[4] = { 1, 2, 3, 4 };
	mlde_st_tensor t = { .name = "a", .ndim = 1, .shape = { 4 }, .count = 4, .data = a };
	mlde_st_file f;
	mlde_error err;
	struct stat st;
	int refused = 0, tries = 0;

	mlde_error_clear(&err);
	if (mlde_st_save("cut.safetensors", &t, 1, jv_object(), &err) < 0 ||
	    stat("cut.safetensors", &st) < 0) {
		TAP_OK(0, "truncated: a file to cut (%s)", err.msg);
		return;
	}
	for (off_t len = st.st_size - 1; len >= 0; len -= 3) {
		tries++;
		if (truncate("cut.safetensors", len) < 0)
			break;
		mlde_error_clear(&err);
		if (mlde_st_load("cut.safetensors", &f, &err) == -1 &&
		    err.status == MLDE_EXIT_DATA && strstr(err.msg, "cut.safetensors"))
			refused++;
		else
			printf("#   cut to %ld bytes: %s\n", (long)len, err.msg);
	}
	TAP_IS_INT(refused, tries, "truncated: every cut of a %ld-byte file is refused as "
		   "data", (long)st.st_size);
}

/* The same bytes from memory, as mlde_st_parse takes them. */
static void test_parse_mem(void)
{
	static const char hdr[] =
		"{\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}";
	unsigned char buf[8 + sizeof hdr - 1 + 4] = { sizeof hdr - 1 };
	float v = 2.5f;
	mlde_st_file f;
	mlde_error err;
	const mlde_st_tensor *x;

	memcpy(buf + 8, hdr, sizeof hdr - 1);
	memcpy(buf + 8 + sizeof hdr - 1, &v, 4);
	mlde_error_clear(&err);
	TAP_IS_INT(mlde_st_parse(buf, sizeof buf, "mem", &f, &err), 0,
		   "parse: a scalar from memory (%s)", err.msg);
	x = mlde_st_find(&f, "x");
	TAP_OK(x && x->ndim == 0 && x->count == 1 && x->data[0] == 2.5f,
	       "parse: a scalar has no dimensions and one value");
	TAP_OK(mlde_st_find(&f, "y") == NULL, "parse: an absent tensor is NULL");
	mlde_st_free(&f);
	mlde_error_clear(&err);
	TAP_OK(mlde_st_parse(buf, sizeof buf - 1, "mem", &f, &err) == -1 &&
	       err.status == MLDE_EXIT_DATA && strstr(err.msg, "mem"),
	       "parse: one byte short is refused, naming the buffer (%s)", err.msg);
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A path that is not a regular file is refused at once: a FIFO with no
 * writer would block a plain open() for ever (the alarm ends the test then). */
static void test_not_a_file(void)
{
	mlde_st_file f;
	mlde_error err;
	double t0;
	int rc;

	if (mkfifo("fifo.safetensors", 0600) < 0) {
		TAP_OK(0, "mkfifo: %s", strerror(errno));
		return;
	}
	alarm(10);
	t0 = seconds();
	mlde_error_clear(&err);
	rc = mlde_st_load("fifo.safetensors", &f, &err);
	alarm(0);
	TAP_OK(rc == -1 && err.status == MLDE_EXIT_IO && strstr(err.msg, "fifo.safetensors") &&
	       strstr(err.msg, "not a regular file") && strstr(err.msg, "FIFO"),
	       "a FIFO is refused as an I/O error naming it (%s)", err.msg);
	TAP_OK(seconds() - t0 < 2, "  at once, without waiting for a writer");
	mkdir("dir.safetensors", 0700);
	mlde_error_clear(&err);
	TAP_OK(mlde_st_load("dir.safetensors", &f, &err) == -1 && err.status == MLDE_EXIT_IO &&
	       strstr(err.msg, "dir.safetensors") && strstr(err.msg, "directory"),
	       "a directory is refused as an I/O error naming it (%s)", err.msg);
}

/* Saving where the .tmp cannot be made fails with I/O and leaves nothing. */
static void test_save_fails(void)
{
	float a = 1;
	mlde_st_tensor t = { .name = "a", .ndim = 1, .shape = { 1 }, .count = 1, .data = &a };
	mlde_error err;

	mlde_error_clear(&err);
	TAP_OK(mlde_st_save("no/such/dir/m.safetensors", &t, 1, jv_object(), &err) == -1 &&
	       err.status == MLDE_EXIT_IO && strstr(err.msg, "no/such/dir/m.safetensors"),
	       "save into a missing directory: an I/O error naming the file (%s)", err.msg);
	mlde_error_clear(&err);
	TAP_OK(mlde_st_save("m2.safetensors", &t, 1, jv_number(1), &err) == -1 &&
	       access("m2.safetensors", F_OK) != 0 && access("m2.safetensors.tmp", F_OK) != 0,
	       "save with metadata that is not an object: refused, nothing written");
}

int main(void)
{
	signal(SIGALRM, SIG_DFL);
	test_safetensors();
	test_truncated();
	test_parse_mem();
	test_not_a_file();
	test_save_fails();
	return TAP_DONE();
}
