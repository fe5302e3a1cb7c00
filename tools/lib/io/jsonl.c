/* jsonl.c - the JSON Lines reader and writer over plain text or zstd.
 * Every program's records pass through here, so the fast path (a whole line
 * inside the decompressed buffer) parses in place without a copy. */
#include "io/jsonl.h"
#include "io/atomic.h"
#include "io/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define READ_CHUNK ((size_t)1 << 20)
#define WRITE_CHUNK ((size_t)1 << 17)

struct mlde_reader {
	int fd;
	char *name;
	bool zstd;
	ZSTD_DCtx *dctx;
	ZSTD_inBuffer in;      /* compressed bytes not yet decoded */
	char *inbuf;
	bool in_eof;           /* read() has returned 0 */
	bool frame_open;       /* a zstd frame is started but not finished */
	char *buf;             /* decoded text; [pos, end) not yet split */
	size_t pos, end;
	char *line;            /* a line that crossed a buffer boundary */
	size_t line_len, line_cap;
	size_t line_max;
	unsigned long lineno;
	unsigned long long bytes;
	bool failed;           /* after an error the stream is not resumable */
};

static char *path_name(const char *path)
{
	return mlde_xstrdup(!path || strcmp(path, "-") == 0 ? "<stdin>" : path);
}

static ssize_t read_retry(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Read until buf holds len bytes or the input ends. */
static ssize_t read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read_retry(fd, buf + got, len - got);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* A zstd frame, or a skippable frame (0x184D2A50..5F), little-endian. */
static bool has_zstd_magic(const unsigned char *p, size_t n)
{
	if (n < 4)
		return false;
	if (p[0] == 0x28 && p[1] == 0xB5 && p[2] == 0x2F && p[3] == 0xFD)
		return true;
	return (p[0] & 0xF0) == 0x50 && p[1] == 0x2A && p[2] == 0x4D && p[3] == 0x18;
}

mlde_reader *mlde_reader_open(const char *path, mlde_error *err)
{
	mlde_reader *r = calloc(1, sizeof *r);
	ssize_t n;

	if (!r) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	r->name = path_name(path);
	r->line_max = MLDE_LINE_MAX_DEFAULT;
	if (!path || strcmp(path, "-") == 0) {
		r->fd = STDIN_FILENO;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
			goto fail;
		}
	}
	r->buf = mlde_xmalloc(READ_CHUNK + 1);
	n = read_full(r->fd, r->buf, 4);
	if (n < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: read error: %s", r->name, strerror(errno));
		goto fail;
	}
	if (has_zstd_magic((unsigned char *)r->buf, (size_t)n)) {
		r->zstd = true;
		r->dctx = ZSTD_createDCtx();
		r->inbuf = mlde_xmalloc(READ_CHUNK);
		memcpy(r->inbuf, r->buf, (size_t)n);
		r->in = (ZSTD_inBuffer){ r->inbuf, (size_t)n, 0 };
	} else {
		r->end = (size_t)n;
		r->in_eof = n < 4;
	}
	return r;
fail:
	mlde_reader_close(r);
	return NULL;
}

void mlde_reader_set_line_max(mlde_reader *r, size_t max)
{
	r->line_max = max;
}

const char *mlde_reader_name(const mlde_reader *r) { return r->name; }
unsigned long mlde_reader_lineno(const mlde_reader *r) { return r->lineno; }
bool mlde_reader_is_zstd(const mlde_reader *r) { return r->zstd; }
unsigned long long mlde_reader_bytes(const mlde_reader *r) { return r->bytes; }

void mlde_reader_close(mlde_reader *r)
{
	if (!r)
		return;
	if (r->fd > STDIN_FILENO)
		close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	free(r->inbuf);
	free(r->buf);
	free(r->line);
	free(r->name);
	free(r);
}

/* Record an error "FILE: what", or "FILE:LINE: what" when line > 0; the
 * reader is not usable afterwards. */
static int vfail(mlde_reader *r, mlde_error *err, int status, unsigned long line,
		 const char *fmt, va_list ap)
{
	char what[768];

	vsnprintf(what, sizeof what, fmt, ap);
	if (line)
		mlde_error_set(err, status, "%s:%lu: %s", r->name, line, what);
	else
		mlde_error_set(err, status, "%s: %s", r->name, what);
	r->failed = true;
	return -1;
}

static int fail(mlde_reader *r, mlde_error *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_at(mlde_reader *r, mlde_error *err, int status, unsigned long line,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(mlde_reader *r, mlde_error *err, int status, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(r, err, status, 0, fmt, ap);
	va_end(ap);
	return rc;
}

static int fail_at(mlde_reader *r, mlde_error *err, int status, unsigned long line,
		   const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(r, err, status, line, fmt, ap);
	va_end(ap);
	return rc;
}

static int fill_plain(mlde_reader *r, mlde_error *err)
{
	ssize_t n;

	if (r->in_eof)
		return 0;
	n = read_retry(r->fd, r->buf, READ_CHUNK);
	if (n < 0)
		return fail(r, err, MLDE_EXIT_IO, "read error: %s", strerror(errno));
	if (n == 0)
		r->in_eof = true;
	r->pos = 0;
	r->end = (size_t)n;
	return n > 0;
}

/* Decode until at least one byte of text is ready or the input ends. */
static int fill_zstd(mlde_reader *r, mlde_error *err)
{
	ZSTD_outBuffer out = { r->buf, READ_CHUNK, 0 };

	while (out.pos == 0) {
		size_t ret;

		if (r->in.pos == r->in.size) {
			ssize_t n;

			if (r->in_eof) {
				if (r->frame_open)
					return fail(r, err, MLDE_EXIT_DATA,
						    "truncated zstd stream (premature end)");
				break;
			}
			n = read_retry(r->fd, r->inbuf, READ_CHUNK);
			if (n < 0)
				return fail(r, err, MLDE_EXIT_IO, "read error: %s",
					    strerror(errno));
			if (n == 0) {
				r->in_eof = true;
				continue;
			}
			r->in = (ZSTD_inBuffer){ r->inbuf, (size_t)n, 0 };
		}
		ret = ZSTD_decompressStream(r->dctx, &out, &r->in);
		if (ZSTD_isError(ret))
			return fail(r, err, MLDE_EXIT_DATA, "zstd: %s",
				    ZSTD_getErrorName(ret));
		r->frame_open = ret != 0;
	}
	r->pos = 0;
	r->end = out.pos;
	return out.pos > 0;
}

static int fill(mlde_reader *r, mlde_error *err)
{
	return r->zstd ? fill_zstd(r, err) : fill_plain(r, err);
}

static int too_long(mlde_reader *r, mlde_error *err)
{
	/* the line being assembled is not counted yet */
	return fail_at(r, err, MLDE_EXIT_DATA, r->lineno + 1, "line longer than %zu bytes",
			 r->line_max);
}

static int append_partial(mlde_reader *r, const char *p, size_t n, mlde_error *err)
{
	if (r->line_len + n > r->line_max)
		return too_long(r, err);
	if (r->line_len + n + 1 > r->line_cap) {
		size_t cap = r->line_cap ? r->line_cap : 4096;
		while (cap < r->line_len + n + 1)
			cap *= 2;
		r->line = mlde_xrealloc(r->line, cap);
		r->line_cap = cap;
	}
	memcpy(r->line + r->line_len, p, n);
	r->line_len += n;
	return 0;
}

static bool is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

/* One raw line, blank or not; 1, 0 at the end, -1 on error. */
static int next_raw_line(mlde_reader *r, char **line, size_t *len, mlde_error *err)
{
	for (;;) {
		if (r->pos < r->end) {
			char *start = r->buf + r->pos;
			size_t avail = r->end - r->pos;
			char *nl = memchr(start, '\n', avail);
			size_t n;

			if (!nl) {
				if (append_partial(r, start, avail, err) < 0)
					return -1;
				r->pos = r->end;
				continue;
			}
			n = (size_t)(nl - start);
			if (r->line_len == 0 && n > r->line_max)
				return too_long(r, err);
			if (r->line_len > 0 && append_partial(r, start, n, err) < 0)
				return -1;
			r->pos += n + 1;
			r->bytes += n + 1;
			r->lineno++;
			if (r->line_len == 0) {
				*nl = '\0';
				*line = start;
				*len = n;
				return 1;
			}
		} else {
			int got = fill(r, err);
			if (got < 0)
				return -1;
			if (got > 0)
				continue;
			if (r->line_len == 0)
				return 0;
			/* the last line has no newline */
			r->bytes += r->line_len;
			r->lineno++;
		}
		r->line[r->line_len] = '\0';
		*line = r->line;
		*len = r->line_len;
		r->line_len = 0;
		return 1;
	}
}

int mlde_reader_line(mlde_reader *r, char **line, size_t *len, mlde_error *err)
{
	if (r->failed) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "%s: read after an error", r->name);
		return -1;
	}
	for (;;) {
		int got = next_raw_line(r, line, len, err);
		if (got <= 0)
			return got;
		if (*len > 0 && (*line)[*len - 1] == '\r')
			(*line)[--*len] = '\0';
		if (!is_blank(*line, *len))
			return 1;
	}
}

void mlde_jv_parse_message(jv invalid, char *buf, size_t len)
{
	jv msg = jv_invalid_get_msg(invalid);
	const char *text = "invalid JSON";
	const char *cut;
	size_t n;

	if (jv_get_kind(msg) == JV_KIND_STRING)
		text = jv_string_value(msg);
	/* jq 1.6 ends with " (while parsing '<the whole line>')": drop it, and
	 * its "at line 1, column N" is always line 1 of our one-line buffer. */
	cut = strstr(text, " (while parsing");
	n = cut ? (size_t)(cut - text) : strlen(text);
	if (n >= len)
		n = len - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	{
		char *at = strstr(buf, "at line 1, column");
		if (at)
			memmove(at + 3, at + 11, strlen(at + 11) + 1);
	}
	jv_free(msg);
}

const char *mlde_kind_name(jv_kind kind)
{
	switch (kind) {
	case JV_KIND_INVALID: return "nothing";
	case JV_KIND_NULL: return "null";
	case JV_KIND_FALSE: case JV_KIND_TRUE: return "boolean";
	case JV_KIND_NUMBER: return "number";
	case JV_KIND_STRING: return "string";
	case JV_KIND_ARRAY: return "array";
	case JV_KIND_OBJECT: return "object";
	}
	return "unknown";
}

/* ---- what jq 1.6 would change without a word ----
 * libjq rewrites invalid UTF-8 and lone surrogate escapes to U+FFFD while
 * parsing, and keeps a NUL (\u0000, or a raw NUL byte) inside a string,
 * which every C string taken from it then cuts short: "a\u0000b" and
 * "a\u0000c" would be the same id.  Records pass through untouched or not
 * at all, so such a line is refused, with where in it. */

/* The length of the UTF-8 sequence at p (n bytes left), or 0 when it is
 * not valid: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c < 0xC2)
		return 0;  /* a continuation byte, or an overlong 2-byte lead */
	if (c < 0xE0) {
		len = 2;
	} else if (c < 0xF0) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;  /* overlong */
		else if (c == 0xED)
			hi = 0x9F;  /* U+D800..DFFF */
	} else if (c < 0xF5) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;  /* overlong */
		else if (c == 0xF4)
			hi = 0x8F;  /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

static int hex4(const char *p, size_t n, unsigned *out)
{
	unsigned v = 0;

	if (n < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* A backslash escape at p (n bytes left, p[0] == '\\'): the bytes it
 * takes, or 0 for a lone surrogate; *nul set when it is \u0000.  A bad
 * escape is left to the parser to refuse (its length: 2). */
static size_t escape_len(const char *p, size_t n, bool *nul)
{
	unsigned u, low;

	if (n < 2 || p[1] != 'u' || hex4(p + 2, n - 2, &u) < 0)
		return n < 2 ? 1 : 2;
	if (u == 0)
		*nul = true;
	if (u >= 0xDC00 && u <= 0xDFFF)
		return 0;
	if (u >= 0xD800 && u <= 0xDBFF) {
		if (n < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, n - 8, &low) < 0 ||
		    low < 0xDC00 || low > 0xDFFF)
			return 0;
		return 12;
	}
	return 6;
}

/* Are the 8 bytes at p all in 0x20..0x7F and none a backslash?  (The
 * classic bit tricks: a byte's top bit set after subtracting 0x20 from it,
 * or after xor with '\\' and subtracting 1, finds a small or equal byte.) */
static bool plain_word(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t v, bs;

	memcpy(&v, p, 8);
	bs = v ^ (ones * '\\');
	return ((v | (v - ones * 0x20) | ((bs - ones) & ~bs)) & highs) == 0;
}

/* Scan line for what jq would rewrite: 0, or -1 with the error set; *nul
 * says a \u0000 escape was seen (where it landed is found after parsing). */
static int check_bytes(mlde_reader *r, const char *line, size_t len, bool *nul,
		       mlde_error *err)
{
	const unsigned char *p = (const unsigned char *)line;
	size_t i = 0;

	*nul = false;
	while (i < len) {
		size_t k;

		/* eight bytes at a time while they are printable ASCII without a
		 * backslash, as nearly every byte of a record is */
		while (len - i >= 8 && plain_word(p + i))
			i += 8;
		if (i == len)
			break;
		if (p[i] >= 0x20 && p[i] < 0x80 && p[i] != '\\') {
			i++;
			continue;
		}
		if (p[i] == '\\') {
			k = escape_len(line + i, len - i, nul);
			if (k == 0)
				return fail_at(r, err, MLDE_EXIT_DATA, r->lineno,
					       "lone UTF-16 surrogate escape at byte %zu", i + 1);
		} else if (p[i] == 0) {
			return fail_at(r, err, MLDE_EXIT_DATA, r->lineno, "NUL byte at byte %zu",
				       i + 1);
		} else if (p[i] < 0x80) {
			k = 1;  /* other control bytes: the parser decides */
		} else {
			k = utf8_seq(p + i, len - i);
			if (k == 0)
				return fail_at(r, err, MLDE_EXIT_DATA, r->lineno,
					       "invalid UTF-8 at byte %zu", i + 1);
		}
		i += k;
	}
	return 0;
}

/* Append s (n bytes) to the path buf, a NUL shown as \u0000. */
static void path_add(char *buf, size_t cap, const char *s, size_t n)
{
	size_t at = strlen(buf);

	for (size_t i = 0; i < n && at + 7 < cap; i++) {
		if (s[i] == '\0') {
			memcpy(buf + at, "\\u0000", 6);
			at += 6;
		} else {
			buf[at++] = s[i];
		}
	}
	buf[at] = '\0';
}

static bool has_nul(jv s)
{
	return memchr(jv_string_value(s), '\0', (size_t)jv_string_length_bytes(jv_copy(s))) != NULL;
}

/* Find the first string in v (borrowed) holding a NUL, key or value; its
 * path ("query.image", "options[1]") in path.  true when found. */
static bool find_nul(jv v, char *path, size_t cap)
{
	size_t mark = strlen(path);

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		return has_nul(v);
	case JV_KIND_ARRAY: {
		int n = jv_array_length(jv_copy(v));

		for (int i = 0; i < n; i++) {
			jv e = jv_array_get(jv_copy(v), i);
			bool found;

			snprintf(path + mark, cap - mark, "[%d]", i);
			found = find_nul(e, path, cap);
			jv_free(e);
			if (found)
				return true;
			path[mark] = '\0';
		}
		return false;
	}
	case JV_KIND_OBJECT: {
		bool found = false;

		jv_object_foreach(v, key, val) {
			if (!found) {
				if (mark > 0)
					path_add(path, cap, ".", 1);
				path_add(path, cap, jv_string_value(key),
					 (size_t)jv_string_length_bytes(jv_copy(key)));
				found = has_nul(key) || find_nul(val, path, cap);
				if (!found)
					path[mark] = '\0';
			}
			jv_free(key);
			jv_free(val);
		}
		return found;
	}
	default:
		return false;
	}
}

int mlde_reader_next(mlde_reader *r, jv *out, mlde_error *err)
{
	char *line;
	size_t len;
	int got = mlde_reader_line(r, &line, &len, err);
	bool nul;
	jv v;

	if (got <= 0)
		return got;
	if (len > (size_t)0x7fffffff)  /* jv_parse_sized takes an int */
		return fail_at(r, err, MLDE_EXIT_DATA, r->lineno, "line longer than 2 GiB");
	if (check_bytes(r, line, len, &nul, err) < 0)
		return -1;
	/* libjq's own parser for what the fast one does not read (json.h) */
	if (!mlde_json_parse(line, len, &v))
		v = jv_parse_sized(line, (int)len);
	if (!jv_is_valid(v)) {
		char msg[512];

		mlde_jv_parse_message(v, msg, sizeof msg);
		return fail_at(r, err, MLDE_EXIT_DATA, r->lineno, "invalid JSON: %s", msg);
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_kind kind = jv_get_kind(v);
		jv_free(v);
		return fail_at(r, err, MLDE_EXIT_DATA, r->lineno, "expected a JSON object, got %s",
				 mlde_kind_name(kind));
	}
	if (nul) {
		char path[256] = "";

		if (find_nul(v, path, sizeof path)) {
			jv_free(v);
			return fail_at(r, err, MLDE_EXIT_DATA, r->lineno,
				       "field '%s': NUL (\\u0000) in a string", path);
		}
	}
	*out = v;
	return 1;
}

/* ---- writing ---- */

struct mlde_writer {
	int fd;
	char *name;      /* for messages: the path, or "<stdout>" */
	mlde_atomic *file;  /* -o FILE, or NULL for stdout */
	bool plain;
	ZSTD_CCtx *cctx;
	char *buf;       /* text not yet compressed or written */
	size_t len;
	char *zbuf;
	size_t zcap;
	bool failed;
	bool finished;   /* mlde_writer_finish done: only the rename is left */
	mlde_buf line;   /* mlde_writer_put's record, as text */
};

static void writer_free(mlde_writer *w)
{
	/* a file still open here was not committed: its .tmp goes */
	mlde_atomic_abort(w->file);
	ZSTD_freeCCtx(w->cctx);
	free(w->buf);
	free(w->zbuf);
	free(w->name);
	mlde_buf_free(&w->line);
	free(w);
}

mlde_writer *mlde_writer_open(const mlde_output *out, mlde_error *err)
{
	mlde_writer *w = mlde_xmalloc(sizeof *w);
	bool to_stdout = !out->path || strcmp(out->path, "-") == 0;

	memset(w, 0, sizeof *w);
	if (to_stdout) {
		w->fd = STDOUT_FILENO;
		w->name = mlde_xstrdup("<stdout>");
	} else {
		w->name = mlde_xstrdup(out->path);
		w->file = mlde_atomic_open(out->path, err);
		if (!w->file) {
			writer_free(w);
			return NULL;
		}
		w->fd = mlde_atomic_fd(w->file);
	}
	/* never zstd to a terminal, stdout or -o /dev/tty alike */
	w->plain = out->plain > 0 || (out->plain < 0 && isatty(w->fd));
	w->buf = mlde_xmalloc(WRITE_CHUNK * 2);
	if (!w->plain) {
		w->cctx = ZSTD_createCCtx();
		if (!w->cctx) {
			mlde_error_set(err, MLDE_EXIT_INTERNAL, "out of memory");
			mlde_writer_abort(w);
			return NULL;
		}
		ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, out->level);
		ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
		w->zcap = ZSTD_CStreamOutSize();
		w->zbuf = mlde_xmalloc(w->zcap);
	}
	return w;
}

bool mlde_writer_is_plain(const mlde_writer *w)
{
	return w->plain;
}

static int write_all(mlde_writer *w, const char *p, size_t n, mlde_error *err)
{
	while (n > 0) {
		ssize_t k = write(w->fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			w->failed = true;
			/* a pipe's reader went away: stdout, or -o naming a FIFO */
			if (errno == EPIPE && (!w->file || mlde_atomic_is_through(w->file))) {
				mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", w->name, strerror(errno));
				if (err)
					err->pipe_closed = true;
				return -1;
			}
			mlde_error_set(err, MLDE_EXIT_IO, "%s: write error: %s",
				       w->file ? mlde_atomic_name(w->file) : w->name,
				       strerror(errno));
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Push buf through the compressor (or straight out); end finishes the frame. */
static int drain(mlde_writer *w, bool end, mlde_error *err)
{
	ZSTD_inBuffer in = { w->buf, w->len, 0 };

	if (w->failed || w->finished) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: write after %s", w->name,
			       w->failed ? "an error" : "the end");
		return -1;
	}
	if (w->plain) {
		int rc = write_all(w, w->buf, w->len, err);
		w->len = 0;
		return rc;
	}
	for (;;) {
		ZSTD_outBuffer out = { w->zbuf, w->zcap, 0 };
		size_t left = ZSTD_compressStream2(w->cctx, &out, &in,
						   end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left)) {
			w->failed = true;
			mlde_error_set(err, MLDE_EXIT_INTERNAL, "%s: zstd: %s", w->name,
				       ZSTD_getErrorName(left));
			return -1;
		}
		if (out.pos && write_all(w, w->zbuf, out.pos, err) < 0)
			return -1;
		if (end ? left == 0 : in.pos == in.size)
			break;
	}
	w->len = 0;
	return 0;
}

int mlde_writer_write(mlde_writer *w, const void *buf, size_t len, mlde_error *err)
{
	const char *p = buf;

	while (len > 0) {
		size_t room = WRITE_CHUNK * 2 - w->len;
		size_t n = len < room ? len : room;

		memcpy(w->buf + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
		if (w->len >= WRITE_CHUNK && drain(w, false, err) < 0)
			return -1;
	}
	return 0;
}

int mlde_writer_printf(mlde_writer *w, mlde_error *err, const char *fmt, ...)
{
	char small[1024];
	char *text = small;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "bad format");
		return -1;
	}
	if ((size_t)n >= sizeof small) {
		text = mlde_xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(text, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	rc = mlde_writer_write(w, text, (size_t)n, err);
	if (text != small)
		free(text);
	return rc;
}

int mlde_writer_put(mlde_writer *w, jv rec, mlde_error *err)
{
	mlde_buf_reset(&w->line);
	mlde_json_dump(rec, &w->line);  /* jv_dump_string's bytes, faster */
	jv_free(rec);
	mlde_buf_addc(&w->line, '\n');
	return mlde_writer_write(w, w->line.p, w->line.len, err);
}

int mlde_writer_finish(mlde_writer *w, mlde_error *err)
{
	if (w->finished)
		return 0;
	if (drain(w, true, err) < 0)
		return -1;
	if (w->file && mlde_atomic_ready(w->file, err) < 0) {
		w->failed = true;
		return -1;
	}
	w->finished = true;
	return 0;
}

int mlde_writer_commit_all(mlde_writer **w, size_t n, mlde_error *err)
{
	char **renamed = mlde_xcalloc(n, sizeof *renamed);  /* FILEs this call made */
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		if (w[i])
			rc = mlde_writer_finish(w[i], err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		mlde_writer *one = w[i];

		if (!one)
			continue;
		/* a written-through target (a FIFO) is never removed */
		if (one->file && !mlde_atomic_is_through(one->file))
			renamed[i] = mlde_xstrdup(one->name);
		w[i] = NULL;
		rc = mlde_writer_close(one, err);
		if (rc < 0) {
			free(renamed[i]);
			renamed[i] = NULL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (rc < 0 && renamed[i])
			unlink(renamed[i]);
		free(renamed[i]);
		mlde_writer_abort(w[i]);
		w[i] = NULL;
	}
	free(renamed);
	return rc;
}

int mlde_writer_close(mlde_writer *w, mlde_error *err)
{
	int rc = mlde_writer_finish(w, err);

	if (rc == 0 && w->file) {
		mlde_atomic *file = w->file;

		w->file = NULL;
		rc = mlde_atomic_commit(file, err);
	}
	if (rc < 0) {
		mlde_writer_abort(w);
		return -1;
	}
	writer_free(w);
	return 0;
}

void mlde_writer_abort(mlde_writer *w)
{
	if (!w)
		return;
	/* The frame is left unfinished on purpose: a reader of a half-written
	 * stream must see a truncated stream, not a short finished one. */
	if (w->plain && !w->failed && !w->file && w->len)
		write_all(w, w->buf, w->len, NULL);
	writer_free(w);
}
