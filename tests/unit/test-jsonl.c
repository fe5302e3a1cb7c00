/* test-jsonl.c - the JSON Lines reader and writer: plain, zstd, frames,
 * line endings, limits, truncation, bad JSON and every write failure. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "io/jsonl.h"
#include "tap.h"

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(99);
	}
}

static void write_str(const char *path, const char *text)
{
	write_file(path, text, strlen(text));
}

/* Compress text as one zstd frame and append it to path. */
static void append_zstd(const char *path, const char *text, size_t len)
{
	size_t cap = ZSTD_compressBound(len);
	char *z = malloc(cap);
	size_t n = ZSTD_compress(z, cap, text, len, 3);
	FILE *f = fopen(path, "ab");

	if (ZSTD_isError(n) || !f || fwrite(z, 1, n, f) != n || fclose(f) != 0)
		exit(99);
	free(z);
}

typedef struct result {
	int records;
	int status;            /* -1 error, 0 clean end */
	unsigned long lineno;  /* at the end or at the error */
	mlde_error err;
	char first[256];       /* the first record, dumped */
	char last[256];
} result;

static result read_all(const char *path, size_t line_max)
{
	result res = { 0 };
	mlde_reader *r;
	jv rec;
	int got;

	mlde_error_clear(&res.err);
	r = mlde_reader_open(path, &res.err);
	if (!r) {
		res.status = -2;
		return res;
	}
	if (line_max)
		mlde_reader_set_line_max(r, line_max);
	while ((got = mlde_reader_next(r, &rec, &res.err)) > 0) {
		jv s = jv_dump_string(rec, 0);
		snprintf(res.records ? res.last : res.first, sizeof res.first, "%s",
			 jv_string_value(s));
		if (!res.records)
			snprintf(res.last, sizeof res.last, "%s", jv_string_value(s));
		jv_free(s);
		res.records++;
	}
	res.status = got;
	res.lineno = mlde_reader_lineno(r);
	mlde_reader_close(r);
	return res;
}

static const char three[] = "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";

static void test_plain_and_zstd(void)
{
	result res;

	write_str("plain.jsonl", three);
	res = read_all("plain.jsonl", 0);
	TAP_IS_INT(res.records, 3, "plain: three records");
	TAP_IS_INT(res.status, 0, "plain: clean end");
	TAP_IS_STR(res.last, "{\"a\":3}", "plain: last record intact");

	unlink("one.zst");
	append_zstd("one.zst", three, strlen(three));
	res = read_all("one.zst", 0);
	TAP_IS_INT(res.records, 3, "zstd: three records");
	TAP_IS_INT(res.status, 0, "zstd: clean end");

	unlink("multi.zst");
	append_zstd("multi.zst", "{\"a\":1}\n{\"a\"", 12);
	append_zstd("multi.zst", ":2}\n", 4);
	append_zstd("multi.zst", "", 0);
	append_zstd("multi.zst", "{\"a\":3}", 7);
	res = read_all("multi.zst", 0);
	TAP_IS_INT(res.records, 3, "zstd: frames are one stream, even mid-line");
	TAP_IS_STR(res.last, "{\"a\":3}", "zstd: last frame without a final newline");
}

static void test_line_endings(void)
{
	result res;

	write_str("crlf.jsonl", "{\"a\":1}\r\n\r\n   \n\t\n{\"a\":\"x\"}\r\n");
	res = read_all("crlf.jsonl", 0);
	TAP_IS_INT(res.records, 2, "CRLF and blank lines: two records");
	TAP_IS_STR(res.last, "{\"a\":\"x\"}", "CRLF: the CR is not part of the record");
	TAP_IS_INT(res.lineno, 5, "blank lines still count as lines");

	write_str("nofinal.jsonl", "{\"a\":1}\n{\"a\":2}");
	res = read_all("nofinal.jsonl", 0);
	TAP_IS_INT(res.records, 2, "no final newline: the last line is read");

	write_str("empty.jsonl", "");
	res = read_all("empty.jsonl", 0);
	TAP_OK(res.records == 0 && res.status == 0, "empty file: no records, no error");

	unlink("empty.zst");
	append_zstd("empty.zst", "", 0);
	res = read_all("empty.zst", 0);
	TAP_OK(res.records == 0 && res.status == 0, "empty zstd frame: no records, no error");

	write_str("short.jsonl", "{}");
	res = read_all("short.jsonl", 0);
	TAP_OK(res.records == 1 && res.status == 0, "a file shorter than the zstd magic");
}

static void test_truncated_zstd(void)
{
	char text[4096];
	size_t len = 0;
	struct stat st;
	char *buf;
	FILE *f;
	result res;

	while (len + 20 < sizeof text)
		len += (size_t)sprintf(text + len, "{\"n\":%zu}\n", len);
	unlink("full.zst");
	append_zstd("full.zst", text, len);
	stat("full.zst", &st);
	buf = malloc((size_t)st.st_size);
	f = fopen("full.zst", "rb");
	if (!f || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		exit(99);
	fclose(f);
	write_file("cut.zst", buf, (size_t)st.st_size - 5);
	free(buf);
	res = read_all("cut.zst", 0);
	TAP_IS_INT(res.status, -1, "truncated zstd: an error, not a short input");
	TAP_IS_INT(res.err.status, MLDE_EXIT_DATA, "truncated zstd: bad-input status");
	TAP_OK(strstr(res.err.msg, "cut.zst: truncated zstd stream") != NULL,
	       "truncated zstd: message names the file (%s)", res.err.msg);

	write_file("garbage.zst", "\x28\xb5\x2f\xfd" "not a frame at all", 22);
	res = read_all("garbage.zst", 0);
	TAP_OK(res.status == -1 && strstr(res.err.msg, "garbage.zst: zstd:"),
	       "corrupt zstd: an error naming the file (%s)", res.err.msg);

	unlink("trailing.zst");
	append_zstd("trailing.zst", three, strlen(three));
	f = fopen("trailing.zst", "ab");
	fputs("{\"a\":4}\n", f);
	fclose(f);
	res = read_all("trailing.zst", 0);
	TAP_IS_INT(res.status, -1, "plain text after a zstd frame is an error");
}

static void test_bad_json(void)
{
	result res;

	write_str("bad.jsonl", "{\"a\":1}\n\n{\"a\":2}\n{\"a\": nope}\n{\"a\":4}\n");
	res = read_all("bad.jsonl", 0);
	TAP_IS_INT(res.records, 2, "bad JSON: the records before it were read");
	TAP_IS_INT(res.status, -1, "bad JSON: an error");
	TAP_IS_INT(res.err.status, MLDE_EXIT_DATA, "bad JSON: bad-input status");
	TAP_OK(strncmp(res.err.msg, "bad.jsonl:4: invalid JSON: ", 27) == 0,
	       "bad JSON: FILE:LINE: prefix (%s)", res.err.msg);
	TAP_OK(strstr(res.err.msg, "while parsing") == NULL,
	       "bad JSON: jq's copy of the line is cut");

	write_str("array.jsonl", "[1,2]\n");
	res = read_all("array.jsonl", 0);
	TAP_OK(res.status == -1 && strstr(res.err.msg, "array.jsonl:1: expected a JSON object, got array"),
	       "a non-object record is an error (%s)", res.err.msg);

	write_str("two.jsonl", "{\"a\":1} {\"a\":2}\n");
	res = read_all("two.jsonl", 0);
	TAP_OK(res.status == -1 && strstr(res.err.msg, "two.jsonl:1:"),
	       "two values on one line is an error (%s)", res.err.msg);

	res = read_all("no-such-file.jsonl", 0);
	TAP_OK(res.status == -2 && res.err.status == MLDE_EXIT_IO &&
	       strstr(res.err.msg, "no-such-file.jsonl: No such file"),
	       "a missing file: I/O status and strerror (%s)", res.err.msg);
}

/* A line of exactly `len` bytes: {"s":"xxx..."} */
static char *long_line(size_t len)
{
	char *p = malloc(len + 2);

	memcpy(p, "{\"s\":\"", 6);
	memset(p + 6, 'x', len - 8);
	memcpy(p + len - 2, "\"}", 2);
	p[len] = '\n';
	p[len + 1] = '\0';
	return p;
}

static void test_long_lines(void)
{
	size_t big = (size_t)3 << 20;  /* crosses the 1 MiB read buffer */
	char *line = long_line(big);
	result res;

	write_file("big.jsonl", line, big + 1);
	res = read_all("big.jsonl", 0);
	TAP_OK(res.records == 1 && res.status == 0, "a 3 MiB line across read buffers");
	free(line);

	line = long_line(100);
	write_file("limit.jsonl", line, 101);
	res = read_all("limit.jsonl", 100);
	TAP_OK(res.records == 1 && res.status == 0, "a line of exactly the limit is read");
	res = read_all("limit.jsonl", 99);
	TAP_OK(res.status == -1 && strstr(res.err.msg, "limit.jsonl:1: line longer than 99 bytes"),
	       "one byte over the limit is an error (%s)", res.err.msg);
	free(line);

	line = long_line(MLDE_LINE_MAX_DEFAULT + 1);
	write_file("huge.jsonl", line, MLDE_LINE_MAX_DEFAULT + 2);
	res = read_all("huge.jsonl", 0);
	TAP_OK(res.status == -1 && strstr(res.err.msg, "line longer than 67108864 bytes"),
	       "64 MiB + 1 byte: a clear error, not a crash (%s)", res.err.msg);
	free(line);
	unlink("huge.jsonl");
}

static void test_many_records(void)
{
	size_t n = 200000, len = 0;
	char *text = malloc(n * 32);
	result res;

	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "{\"i\":%zu}\n", i);
	unlink("many.zst");
	append_zstd("many.zst", text, len);
	res = read_all("many.zst", 0);
	TAP_IS_INT(res.records, (long long)n, "200,000 records across many buffers");
	TAP_IS_STR(res.last, "{\"i\":199999}", "the last of them intact");
	free(text);
}

/* Read a whole file into a malloc'd buffer. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void test_writer_file(void)
{
	mlde_output out = { "w.jsonl.zst", 3, 0 };
	mlde_error err;
	mlde_writer *w;
	result res;
	size_t len;
	char *buf;

	mlde_error_clear(&err);
	unlink("w.jsonl.zst");
	w = mlde_writer_open(&out, &err);
	TAP_OK(w != NULL, "writer opens -o FILE");
	for (int i = 0; i < 1000; i++)
		mlde_writer_put(w, jv_parse("{\"i\":1,\"s\":\"\\u00e9\"}"), &err);
	TAP_OK(access("w.jsonl.zst.tmp", F_OK) == 0 && access("w.jsonl.zst", F_OK) != 0,
	       "while writing, only FILE.tmp exists");
	TAP_IS_INT(mlde_writer_close(w, &err), 0, "close succeeds");
	TAP_OK(access("w.jsonl.zst", F_OK) == 0 && access("w.jsonl.zst.tmp", F_OK) != 0,
	       "after close, FILE exists and FILE.tmp is gone");
	res = read_all("w.jsonl.zst", 0);
	TAP_IS_INT(res.records, 1000, "what was written reads back");
	TAP_IS_STR(res.first, "{\"i\":1,\"s\":\"\xc3\xa9\"}", "records round-trip byte for byte");

	out.path = "aborted.jsonl";
	w = mlde_writer_open(&out, &err);
	mlde_writer_put(w, jv_parse("{\"i\":1}"), &err);
	mlde_writer_abort(w);
	TAP_OK(access("aborted.jsonl", F_OK) != 0 && access("aborted.jsonl.tmp", F_OK) != 0,
	       "abort leaves neither FILE nor FILE.tmp");

	out = (mlde_output){ "p.jsonl", 3, 1 };
	w = mlde_writer_open(&out, &err);
	mlde_writer_put(w, jv_parse("{\"b\":[1,2.5,null]}"), &err);
	mlde_writer_close(w, &err);
	buf = slurp("p.jsonl", &len);
	TAP_IS_STR(buf, "{\"b\":[1,2.5,null]}\n", "plain output is one compact line per record");
	free(buf);

	out = (mlde_output){ "no-such-dir/x.jsonl", 3, 0 };
	w = mlde_writer_open(&out, &err);
	TAP_OK(!w && err.status == MLDE_EXIT_IO && strstr(err.msg, "no-such-dir/x.jsonl.tmp"),
	       "an unwritable -o path: I/O status naming FILE.tmp (%s)", err.msg);
}

/* Point stdout at fd for the duration of a writer test. */
static int redirect_stdout(int fd)
{
	int saved;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	return saved;
}

static void restore_stdout(int saved)
{
	dup2(saved, STDOUT_FILENO);
	close(saved);
}

/* Write n records to stdout; return the close result and the error. */
static int write_stdout(int plain, int n, mlde_error *err)
{
	mlde_output out = { NULL, 3, plain };
	mlde_writer *w = mlde_writer_open(&out, err);
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++)
		rc = mlde_writer_put(w, jv_parse("{\"padding\":\"0123456789abcdef0123456789abcdef\"}"), err);
	if (rc < 0) {
		mlde_writer_abort(w);
		return rc;
	}
	return mlde_writer_close(w, err);
}

static void test_writer_failures(void)
{
	int fds[2], saved, full, rc;
	mlde_error err;

	signal(SIGPIPE, SIG_IGN);
	mlde_error_clear(&err);
	if (pipe(fds) < 0)
		exit(99);
	close(fds[0]);
	saved = redirect_stdout(fds[1]);
	rc = write_stdout(1, 100000, &err);
	restore_stdout(saved);
	close(fds[1]);
	TAP_OK(rc == -1 && err.pipe_closed, "EPIPE: reported as a closed pipe (%s)", err.msg);

	mlde_error_clear(&err);
	full = open("/dev/full", O_WRONLY);
	if (full < 0) {
		/* both checks below, reported as skipped rather than vanishing */
		TAP_OK(1, "disk full: a loud I/O error # SKIP no /dev/full");
		TAP_OK(1, "disk full on the final flush is still an error # SKIP no /dev/full");
		return;
	}
	saved = redirect_stdout(full);
	rc = write_stdout(0, 100000, &err);
	restore_stdout(saved);
	close(full);
	TAP_OK(rc == -1 && !err.pipe_closed && err.status == MLDE_EXIT_IO &&
	       strstr(err.msg, "No space left"),
	       "disk full: a loud I/O error (%s)", err.msg);

	mlde_error_clear(&err);
	full = open("/dev/full", O_WRONLY);
	saved = redirect_stdout(full);
	rc = write_stdout(0, 1, &err);
	restore_stdout(saved);
	close(full);
	TAP_OK(rc == -1 && err.status == MLDE_EXIT_IO,
	       "disk full on the final flush is still an error (%s)", err.msg);
}

static void test_parse_message(void)
{
	char msg[256];
	jv bad = jv_parse_sized("{\"a\":tru}", 9);

	mlde_jv_parse_message(bad, msg, sizeof msg);
	TAP_OK(strstr(msg, "while parsing") == NULL && strstr(msg, "line 1") == NULL && *msg,
	       "parse message is short and has no 'line 1' (%s)", msg);
}

static void test_error_set(void)
{
	mlde_error err;

	/* a caller that never cleared its struct: whatever was on the stack */
	memset(&err, 0xff, sizeof err);
	mlde_error_set(&err, MLDE_EXIT_DATA, "x.jsonl:1: bad");
	TAP_OK(!err.pipe_closed && err.status == MLDE_EXIT_DATA,
	       "an error set on an uncleared struct is never taken for a closed pipe");
}

/* One line through the reader: its error message, or "ok" and the record
 * dumped. */
static const char *one_line(const void *bytes, size_t len)
{
	static char out[1100];
	result res;

	write_file("one.jsonl", bytes, len);
	res = read_all("one.jsonl", 0);
	if (res.status == 0)
		snprintf(out, sizeof out, "ok %s", res.first);
	else
		snprintf(out, sizeof out, "%d %s", res.err.status, res.err.msg);
	return out;
}

#define LINE(s) one_line(s, sizeof s - 1)

/* The scan takes eight bytes at a time: a bad byte, an escape or a control
 * byte is found wherever it falls in a word, and the offset is right. */
static void test_bytes_at_every_offset(void)
{
	int wrong_utf8 = 0, wrong_nul = 0, wrong_ok = 0, wrong_ctrl = 0;

	for (int at = 0; at < 40; at++) {
		char line[128], want[128];
		const char *got;
		int n;

		/* {"s":"xxx...<bad>xxx"}: the bad byte at 1-based byte 7 + at */
		n = snprintf(line, sizeof line, "{\"s\":\"%.*s\xff%.*s\"}\n", at,
			     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 40 - at,
			     "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
		got = one_line(line, (size_t)n);
		snprintf(want, sizeof want, "1 one.jsonl:1: invalid UTF-8 at byte %d", 7 + at);
		wrong_utf8 += strcmp(got, want) != 0;
		n = snprintf(line, sizeof line, "{\"s\":\"%.*s\\u0000%.*s\"}\n", at,
			     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 40 - at,
			     "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
		got = one_line(line, (size_t)n);
		wrong_nul += strstr(got, "field 's': NUL") == NULL;
		n = snprintf(line, sizeof line, "{\"s\":\"%.*s\\\\u0000\\\"%.*s\"}\n", at,
			     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 40 - at,
			     "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
		got = one_line(line, (size_t)n);
		wrong_ok += strncmp(got, "ok ", 3) != 0;
		n = snprintf(line, sizeof line, "{\"s\":\"%.*s\x01%.*s\"}\n", at,
			     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 40 - at,
			     "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
		line[6 + at] = '\0';  /* a raw NUL where the 0x01 was */
		got = one_line(line, (size_t)n);
		snprintf(want, sizeof want, "1 one.jsonl:1: NUL byte at byte %d", 7 + at);
		wrong_ctrl += strcmp(got, want) != 0;
	}
	TAP_IS_INT(wrong_utf8, 0, "offsets: invalid UTF-8 found at each of 40 offsets");
	TAP_IS_INT(wrong_nul, 0, "offsets: a \\u0000 escape found at each of 40 offsets");
	TAP_IS_INT(wrong_ok, 0, "offsets: an escaped backslash before u0000 passes at each");
	TAP_IS_INT(wrong_ctrl, 0, "offsets: a raw NUL byte found at each of 40 offsets");
}

/* What libjq would rewrite or cut without a word is refused, with where. */
static void test_bytes_kept_or_refused(void)
{
	TAP_IS_STR(LINE("{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}\n"),
		   "ok {\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
		   "utf-8: 2, 3 and 4-byte sequences pass untouched");
	TAP_IS_STR(LINE("{\"a\":\"x\xffy\"}\n"), "1 one.jsonl:1: invalid UTF-8 at byte 8",
		   "utf-8: a byte 0xFF is refused with its offset");
	TAP_IS_STR(LINE("{\"a\":\"\xc3\"}\n"), "1 one.jsonl:1: invalid UTF-8 at byte 7",
		   "utf-8: a cut sequence is refused");
	TAP_IS_STR(LINE("{\"a\":\"\xc0\xaf\"}\n"), "1 one.jsonl:1: invalid UTF-8 at byte 7",
		   "utf-8: an overlong form is refused");
	TAP_IS_STR(LINE("{\"a\":\"\xed\xa0\x80\"}\n"), "1 one.jsonl:1: invalid UTF-8 at byte 7",
		   "utf-8: an encoded surrogate is refused");
	TAP_IS_STR(LINE("{\"a\":\"\xf4\x90\x80\x80\"}\n"), "1 one.jsonl:1: invalid UTF-8 at byte 7",
		   "utf-8: above U+10FFFF is refused");
	TAP_IS_STR(LINE("{\"x\xff\":1}\n"), "1 one.jsonl:1: invalid UTF-8 at byte 4",
		   "utf-8: in a key too");
	TAP_IS_STR(LINE("{\"a\":\"\\ud83d\\ude00\"}\n"), "ok {\"a\":\"\xf0\x9f\x98\x80\"}",
		   "escapes: a surrogate pair is one character");
	TAP_IS_STR(LINE("{\"a\":\"\\ud83d\"}\n"),
		   "1 one.jsonl:1: lone UTF-16 surrogate escape at byte 7",
		   "escapes: a lone high surrogate is refused");
	TAP_IS_STR(LINE("{\"a\":\"\\uDE00x\"}\n"),
		   "1 one.jsonl:1: lone UTF-16 surrogate escape at byte 7",
		   "escapes: a lone low surrogate is refused");
	TAP_IS_STR(LINE("{\"a\":\"x\\u0000y\"}\n"),
		   "1 one.jsonl:1: field 'a': NUL (\\u0000) in a string",
		   "nul: an escaped NUL is refused naming the field");
	TAP_IS_STR(LINE("{\"q\":{\"o\":[\"a\",\"b\\u0000\"]}}\n"),
		   "1 one.jsonl:1: field 'q.o[1]': NUL (\\u0000) in a string",
		   "nul: the field's path through objects and arrays");
	TAP_IS_STR(LINE("{\"k\\u0000\":1}\n"),
		   "1 one.jsonl:1: field 'k\\u0000': NUL (\\u0000) in a string",
		   "nul: in a key");
	TAP_IS_STR(LINE("{\"a\":\"x\\\\u0000y\"}\n"), "ok {\"a\":\"x\\\\u0000y\"}",
		   "nul: an escaped backslash before u0000 is no NUL");
	TAP_IS_STR(LINE("{\"a\":\"x\0y\"}\n"), "1 one.jsonl:1: NUL byte at byte 8",
		   "nul: a raw NUL byte is refused");
	TAP_IS_STR(LINE("{\"a\":1}\n{\"a\":\"\xfe\"}\n"), "1 one.jsonl:2: invalid UTF-8 at byte 7",
		   "the line number is the bad line's");
	test_bytes_at_every_offset();
}

static mlde_writer *open_plain(const char *path)
{
	mlde_output out = { .path = path, .plain = 1 };
	mlde_error err;
	mlde_writer *w = mlde_writer_open(&out, &err);

	if (!w) {
		printf("Bail out! %s\n", err.msg);
		exit(1);
	}
	mlde_writer_printf(w, &err, "{\"f\":\"%s\"}\n", path);
	return w;
}

/* Outputs made together appear all or none. */
static void test_commit_all(void)
{
	mlde_writer *w[3];
	mlde_error err;
	struct stat st;

	w[0] = open_plain("set-a.jsonl");
	w[1] = NULL;
	w[2] = open_plain("set-b.jsonl");
	TAP_IS_INT(mlde_writer_commit_all(w, 3, &err), 0, "commit all: both renamed");
	TAP_OK(stat("set-a.jsonl", &st) == 0 && stat("set-b.jsonl", &st) == 0 &&
	       stat("set-a.jsonl.tmp", &st) < 0, "commit all: both there, no .tmp");
	TAP_OK(w[0] == NULL && w[2] == NULL, "commit all: the writers are gone");

	w[0] = open_plain("one-a.jsonl");
	w[1] = open_plain("/dev/full");
	TAP_IS_INT(mlde_writer_commit_all(w, 2, &err), -1, "commit all: a finish fails");
	TAP_OK(strstr(err.msg, "/dev/full: write error: No space left") != NULL,
	       "commit all: the failing file named (%s)", err.msg);
	TAP_OK(stat("one-a.jsonl", &st) < 0 && stat("one-a.jsonl.tmp", &st) < 0,
	       "commit all: the other one is not renamed, its .tmp is gone");

	w[0] = open_plain("two-a.jsonl");
	w[1] = open_plain("two-b.jsonl");
	/* a directory in b's place: its rename fails after a's has been done */
	if (mkdir("two-b.jsonl", 0777) < 0 || (write_str("two-b.jsonl/x", "x"), 0))
		exit(99);
	TAP_IS_INT(mlde_writer_commit_all(w, 2, &err), -1, "commit all: a rename fails");
	TAP_OK(strstr(err.msg, "two-b.jsonl.tmp: cannot rename to two-b.jsonl") != NULL,
	       "commit all: the rename named (%s)", err.msg);
	TAP_OK(stat("two-a.jsonl", &st) < 0 && stat("two-a.jsonl.tmp", &st) < 0 &&
	       stat("two-b.jsonl.tmp", &st) < 0,
	       "commit all: the one renamed before is removed: none of the set is left");
}

int main(void)
{
	test_error_set();
	test_plain_and_zstd();
	test_line_endings();
	test_truncated_zstd();
	test_bad_json();
	test_bytes_kept_or_refused();
	test_long_lines();
	test_many_records();
	test_writer_file();
	test_writer_failures();
	test_commit_all();
	test_parse_message();
	return TAP_DONE();
}
