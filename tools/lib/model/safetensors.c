/* safetensors.c - writing and checked reading of F32 safetensors files.
 * The reader is the gate for model files from anywhere, so every number in
 * the header is validated before it is used to index the data. */
#include "model/safetensors.h"
#include "io/atomic.h"
#include "io/jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c reads and writes tensors in host order: little-endian only"
#endif

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ---- writing ---- */

static jv shape_json(const mlde_st_tensor *t)
{
	jv a = jv_array();

	for (int d = 0; d < t->ndim; d++)
		a = jv_array_append(a, jv_number((double)t->shape[d]));
	return a;
}

int mlde_st_save(const char *path, const mlde_st_tensor *t, size_t n, jv meta,
		 mlde_error *err)
{
	jv hdr = jv_object();
	uint64_t off = 0, hlen;
	unsigned char lenbuf[8];
	char *text = NULL;
	size_t tlen;
	mlde_atomic *file;

	if (jv_get_kind(meta) != JV_KIND_OBJECT) {
		jv_free(meta);
		jv_free(hdr);
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "%s: metadata is not an object", path);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		jv d = jv_object();
		uint64_t bytes = (uint64_t)t[i].count * sizeof(float);

		d = jv_object_set(d, jv_string("dtype"), jv_string("F32"));
		d = jv_object_set(d, jv_string("shape"), shape_json(&t[i]));
		d = jv_object_set(d, jv_string("data_offsets"),
				  jv_array_append(jv_array_append(jv_array(), jv_number((double)off)),
						  jv_number((double)(off + bytes))));
		hdr = jv_object_set(hdr, jv_string(t[i].name), d);
		off += bytes;
	}
	hdr = jv_object_set(hdr, jv_string("__metadata__"), meta);
	{
		jv s = jv_dump_string(hdr, JV_PRINT_SORTED);
		size_t len = (size_t)jv_string_length_bytes(jv_copy(s));

		/* pad with spaces so the data starts 8-byte aligned, as the
		 * format's reference writer does */
		tlen = (len + 7) & ~(size_t)7;
		text = mlde_xmalloc(tlen);
		memcpy(text, jv_string_value(s), len);
		memset(text + len, ' ', tlen - len);
		jv_free(s);
	}
	hlen = tlen;
	put_le64(lenbuf, hlen);

	file = mlde_atomic_open(path, err);
	if (!file) {
		free(text);
		return -1;
	}
	/* the header in one write, each tensor in one: no stdio, so every
	 * failed write is seen with its errno (mlde_atomic_write) */
	if (mlde_atomic_write(file, lenbuf, 8, err) < 0 ||
	    mlde_atomic_write(file, text, tlen, err) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (t[i].count &&
		    mlde_atomic_write(file, t[i].data, t[i].count * sizeof(float), err) < 0)
			goto fail;
	free(text);
	return mlde_atomic_commit(file, err);
fail:
	mlde_atomic_abort(file);
	free(text);
	return -1;
}

/* ---- reading ---- */

typedef struct entry {
	const char *name;  /* borrowed from the header jv while parsing */
	int ndim;
	int64_t shape[MLDE_ST_DIM_MAX];
	uint64_t begin, end, count;
} entry;

static int by_begin(const void *a, const void *b)
{
	const entry *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

/* A non-negative integer below limit, or false. */
static bool get_uint(jv v, uint64_t limit, uint64_t *out)
{
	double d;

	if (jv_get_kind(v) != JV_KIND_NUMBER)
		return false;
	d = jv_number_value(v);
	if (!(d >= 0) || d != (double)(uint64_t)d || d > (double)limit)
		return false;
	*out = (uint64_t)d;
	return true;
}

#define BAD(...) do { mlde_error_set(err, MLDE_EXIT_DATA, __VA_ARGS__); goto out; } while (0)

/* Check one tensor entry of the header; e->name is set by the caller. */
static int parse_entry(jv d, uint64_t data_len, entry *e, const char *name,
		       mlde_error *err)
{
	jv dtype = jv_invalid(), shape = jv_invalid(), offs = jv_invalid();
	uint64_t count = 1;
	int rc = -1;

	if (jv_get_kind(d) != JV_KIND_OBJECT)
		BAD("%s: tensor '%s': expected an object", name, e->name);
	dtype = jv_object_get(jv_copy(d), jv_string("dtype"));
	shape = jv_object_get(jv_copy(d), jv_string("shape"));
	offs = jv_object_get(jv_copy(d), jv_string("data_offsets"));
	if (jv_get_kind(dtype) != JV_KIND_STRING)
		BAD("%s: tensor '%s': no dtype", name, e->name);
	if (strcmp(jv_string_value(dtype), "F32") != 0)
		BAD("%s: tensor '%s': dtype %.16s is not supported (only F32)", name, e->name,
		    jv_string_value(dtype));
	if (jv_get_kind(shape) != JV_KIND_ARRAY)
		BAD("%s: tensor '%s': no shape", name, e->name);
	e->ndim = jv_array_length(jv_copy(shape));
	if (e->ndim > MLDE_ST_DIM_MAX)
		BAD("%s: tensor '%s': %d dimensions (at most %d)", name, e->name, e->ndim,
		    MLDE_ST_DIM_MAX);
	for (int i = 0; i < e->ndim; i++) {
		uint64_t dim;

		if (!get_uint(jv_array_get(jv_copy(shape), i), (uint64_t)1 << 40, &dim))
			BAD("%s: tensor '%s': bad shape", name, e->name);
		e->shape[i] = (int64_t)dim;
		/* the data cannot be larger than the file: this bounds count */
		if (dim && count > data_len / dim)
			BAD("%s: tensor '%s': shape larger than the file", name, e->name);
		count *= dim;
	}
	e->count = count;
	if (jv_get_kind(offs) != JV_KIND_ARRAY || jv_array_length(jv_copy(offs)) != 2 ||
	    !get_uint(jv_array_get(jv_copy(offs), 0), UINT64_C(1) << 53, &e->begin) ||
	    !get_uint(jv_array_get(jv_copy(offs), 1), UINT64_C(1) << 53, &e->end))
		BAD("%s: tensor '%s': bad data_offsets", name, e->name);
	if (e->begin > e->end || e->end > data_len)
		BAD("%s: tensor '%s': data_offsets [%llu, %llu] outside the %llu data bytes",
		    name, e->name, (unsigned long long)e->begin, (unsigned long long)e->end,
		    (unsigned long long)data_len);
	if (e->end - e->begin != count * sizeof(float))
		BAD("%s: tensor '%s': shape needs %llu bytes, data_offsets give %llu", name,
		    e->name, (unsigned long long)(count * sizeof(float)),
		    (unsigned long long)(e->end - e->begin));
	rc = 0;
out:
	jv_free(dtype);
	jv_free(shape);
	jv_free(offs);
	jv_free(d);
	return rc;
}

static int check_meta(jv meta, const char *name, mlde_error *err)
{
	int rc = -1;

	if (jv_get_kind(meta) != JV_KIND_OBJECT)
		BAD("%s: __metadata__ is not an object", name);
	jv_object_foreach(meta, k, v) {
		jv_kind kind = jv_get_kind(v);

		jv_free(k);
		jv_free(v);
		if (kind != JV_KIND_STRING)
			BAD("%s: __metadata__ values must be strings", name);
	}
	rc = 0;
out:
	return rc;
}

int mlde_st_parse(const unsigned char *buf, size_t len, const char *name,
		  mlde_st_file *f, mlde_error *err)
{
	jv hdr = jv_invalid(), meta = jv_object();
	entry *es = NULL;
	size_t ne = 0, cap;
	uint64_t hlen, data_len, pos = 0;
	char *text = NULL;
	int rc = -1;

	*f = (mlde_st_file){ 0, NULL, jv_null() };
	if (len < 8)
		BAD("%s: not a safetensors file (%zu bytes, too short)", name, len);
	hlen = get_le64(buf);
	if (hlen > MLDE_ST_HEADER_MAX)
		BAD("%s: not a safetensors file (header length %llu too large)", name,
		    (unsigned long long)hlen);
	if (hlen > len - 8)
		BAD("%s: header length %llu is past the end of the file (%zu bytes)", name,
		    (unsigned long long)hlen, len);
	if (hlen < 2 || buf[8] != '{')
		BAD("%s: not a safetensors file (the header is not a JSON object)", name);
	data_len = len - 8 - hlen;
	text = mlde_xmalloc(hlen + 1);
	memcpy(text, buf + 8, hlen);
	text[hlen] = '\0';
	if (strlen(text) != hlen)
		BAD("%s: NUL byte in the header at offset %zu (is the header length %llu right?)",
		    name, strlen(text), (unsigned long long)hlen);
	hdr = jv_parse_sized(text, (int)hlen);
	if (!jv_is_valid(hdr)) {
		char msg[256];

		mlde_jv_parse_message(hdr, msg, sizeof msg);
		hdr = jv_invalid();
		BAD("%s: bad header: %s", name, msg);
	}
	if (jv_get_kind(hdr) != JV_KIND_OBJECT)
		BAD("%s: the header is not a JSON object", name);
	cap = (size_t)jv_object_length(jv_copy(hdr));
	es = calloc(cap ? cap : 1, sizeof *es);
	if (!es)
		BAD("%s: out of memory", name);
	jv_object_foreach(hdr, k, v) {
		if (strcmp(jv_string_value(k), "__metadata__") == 0) {
			jv_free(meta);
			meta = v;
			jv_free(k);
			if (check_meta(meta, name, err) < 0)
				goto out;
			continue;
		}
		/* hdr holds the key string, so its pointer outlives k */
		es[ne].name = jv_string_value(k);
		jv_free(k);
		if (parse_entry(v, data_len, &es[ne], name, err) < 0)
			goto out;
		ne++;
	}
	qsort(es, ne, sizeof *es, by_begin);
	for (size_t i = 0; i < ne; i++) {
		if (es[i].begin != pos)
			BAD("%s: tensor '%s': data_offsets not contiguous (starts at %llu, "
			    "expected %llu)", name, es[i].name, (unsigned long long)es[i].begin,
			    (unsigned long long)pos);
		pos = es[i].end;
	}
	if (pos != data_len)
		BAD("%s: %llu data bytes in the file, the header describes %llu", name,
		    (unsigned long long)data_len, (unsigned long long)pos);

	f->t = calloc(ne ? ne : 1, sizeof *f->t);
	if (!f->t)
		BAD("%s: out of memory", name);
	for (size_t i = 0; i < ne; i++) {
		mlde_st_tensor *t = &f->t[i];

		t->name = mlde_xstrdup(es[i].name);
		t->ndim = es[i].ndim;
		memcpy(t->shape, es[i].shape, sizeof t->shape);
		t->count = (size_t)es[i].count;
		t->data = malloc(t->count ? t->count * sizeof(float) : 1);
		f->n = i + 1;
		if (!t->data)
			BAD("%s: out of memory", name);
		memcpy(t->data, buf + 8 + hlen + es[i].begin, t->count * sizeof(float));
	}
	f->meta = meta;
	meta = jv_invalid();
	rc = 0;
out:
	if (rc < 0)
		mlde_st_free(f);
	jv_free(meta);
	jv_free(hdr);
	free(es);
	free(text);
	return rc;
}

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/* Read len bytes; 0, or -1 with errno set (0 when the file ended early). */
static int read_full(int fd, unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t k = read(fd, buf, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = 0;
			return -1;
		}
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}

int mlde_st_load(const char *path, mlde_st_file *f, mlde_error *err)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t len;
	int fd, rc;

	*f = (mlde_st_file){ 0, NULL, jv_null() };
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer;
	 * fstat then refuses it (it changes nothing for a regular file) */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		mlde_error_set(err, MLDE_EXIT_IO, "%s: not a regular file (%s): a model is "
			       "read whole from a file", path, file_kind(st.st_mode));
		return -1;
	}
	len = (size_t)st.st_size;
	buf = malloc(len ? len : 1);
	if (!buf) {
		close(fd);
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "%s: out of memory (%zu bytes)", path, len);
		return -1;
	}
	if (read_full(fd, buf, len) < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path,
			       errno ? strerror(errno) : "file shrank while reading");
		close(fd);
		free(buf);
		return -1;
	}
	close(fd);
	rc = mlde_st_parse(buf, len, path, f, err);
	free(buf);
	return rc;
}

const mlde_st_tensor *mlde_st_find(const mlde_st_file *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->t[i].name, name) == 0)
			return &f->t[i];
	return NULL;
}

const char *mlde_st_meta(const mlde_st_file *f, const char *key)
{
	jv v;
	const char *s;

	if (jv_get_kind(f->meta) != JV_KIND_OBJECT)
		return NULL;
	v = jv_object_get(jv_copy(f->meta), jv_string(key));
	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return NULL;
	}
	/* f->meta still holds a reference, so the bytes stay put */
	s = jv_string_value(v);
	jv_free(v);
	return s;
}

void mlde_st_free(mlde_st_file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->t[i].name);
		free(f->t[i].data);
	}
	free(f->t);
	jv_free(f->meta);
	*f = (mlde_st_file){ 0, NULL, jv_null() };
}
