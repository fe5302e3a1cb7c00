/* jsonl.h - JSON Lines in and out, plain or zstd-compressed.
 *
 * Reading: a named file or stdin ("-"); zstd is recognised by its magic
 * number, anything else is read as plain text.  Concatenated zstd frames are
 * one stream, as `zstd -dc` reads them.  One JSON value a line; CRLF and a
 * last line without a newline are accepted; blank lines are skipped.  A
 * line libjq would change without a word is refused: bytes that are not
 * UTF-8, a lone surrogate escape, a NUL in a string (mlde(7), INPUT).
 *
 * Writing: zstd to stdout (or -o FILE, through io/atomic.h: written as
 * FILE.tmp and renamed only when closed without error, or written through
 * when FILE is not a regular file), plain text on request or when stdout is
 * a terminal.  Nothing here prints: errors come back in an mlde_error. */
#ifndef MLDE_JSONL_H
#define MLDE_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <jv.h>

#include "base/err.h"

/* The longest line the reader accepts, in bytes (without its newline). */
#define MLDE_LINE_MAX_DEFAULT ((size_t)64 << 20)

typedef struct mlde_reader mlde_reader;

/* path "-" (or NULL) is stdin, named "<stdin>" in messages.  Returns NULL
 * and fills err when the file cannot be opened. */
mlde_reader *mlde_reader_open(const char *path, mlde_error *err);
/* Lower the line limit (tests use this to exercise the over-long path). */
void mlde_reader_set_line_max(mlde_reader *r, size_t max);
/* The next non-blank line, NUL-terminated, without its newline or CR.
 * Returns 1 and sets *line and *len, 0 at the end of input, -1 on error.  The
 * line stays valid until the next call. */
int mlde_reader_line(mlde_reader *r, char **line, size_t *len, mlde_error *err);
/* The next record, which must be a JSON object: 1 (and *out owned by the
 * caller), 0 at the end, -1 on error ("FILE:LINE: ..."). */
int mlde_reader_next(mlde_reader *r, jv *out, mlde_error *err);
const char *mlde_reader_name(const mlde_reader *r);
/* Line number of the line last returned (1-based). */
unsigned long mlde_reader_lineno(const mlde_reader *r);
bool mlde_reader_is_zstd(const mlde_reader *r);
/* Uncompressed bytes read so far, newlines included. */
unsigned long long mlde_reader_bytes(const mlde_reader *r);
void mlde_reader_close(mlde_reader *r);

#define MLDE_LEVEL_DEFAULT 3
#define MLDE_LEVEL_MAX 19

typedef struct mlde_output {
	const char *path;  /* NULL or "-": stdout */
	int level;         /* zstd level 0..19; 0 is libzstd's default (3) */
	int plain;         /* 1: plain text; 0: zstd; -1: zstd unless a terminal */
} mlde_output;

typedef struct mlde_writer mlde_writer;

mlde_writer *mlde_writer_open(const mlde_output *out, mlde_error *err);
/* Write one record as one line.  Consumes rec. */
int mlde_writer_put(mlde_writer *w, jv rec, mlde_error *err);
/* Write raw bytes (for text output such as TSV). */
int mlde_writer_write(mlde_writer *w, const void *buf, size_t len, mlde_error *err);
int mlde_writer_printf(mlde_writer *w, mlde_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool mlde_writer_is_plain(const mlde_writer *w);
/* Finish the stream, flush, and for -o commit FILE (rename FILE.tmp onto
 * it).  The writer is freed whatever the result. */
int mlde_writer_close(mlde_writer *w, mlde_error *err);
/* The first half of close: end the stream, flush and (for -o) fsync and
 * close FILE.tmp, leaving only the rename.  0, or -1 with err set; either
 * way close or abort follows. */
int mlde_writer_finish(mlde_writer *w, mlde_error *err);
/* Close n writers (NULL entries skipped) as one: every one finished first,
 * then every FILE.tmp renamed; when one fails, the others are given up and
 * the FILEs already renamed by this call are removed, so outputs made
 * together (mlde-world's sets, mlde-gen's items and rejects) appear all or
 * none.  Every w[i] is freed and set to NULL. */
int mlde_writer_commit_all(mlde_writer **w, size_t n, mlde_error *err);
/* Give up: leave the zstd frame unfinished (so a reader sees a truncated
 * stream, never a complete-looking one) and remove FILE.tmp. */
void mlde_writer_abort(mlde_writer *w);

/* Shorten jq's parse message, which quotes the whole line. */
void mlde_jv_parse_message(jv invalid, char *buf, size_t len);
/* A short name for a jv kind, for "field x: expected string, got number". */
const char *mlde_kind_name(jv_kind kind);

#endif
