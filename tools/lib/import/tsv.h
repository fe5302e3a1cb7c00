/* tsv.h - tab-separated tables as pandas and Python's csv module write
 * them (MMBench's TSV files): one header row, then one record a row; a
 * field that holds a tab, a newline or a quote is quoted with '"', and a
 * quote inside it doubled.  So a row may span lines; messages name the
 * line a row starts on.  Nothing here prints. */
#ifndef MLDE_TSV_H
#define MLDE_TSV_H

#include <stddef.h>

#include "base/err.h"

typedef struct mlde_tsv mlde_tsv;

/* path "-" (or NULL) is stdin, named "<stdin>".  NULL with err
 * (MLDE_EXIT_IO) when it cannot be opened. */
mlde_tsv *mlde_tsv_open(const char *path, mlde_error *err);
/* Read the next row: 1, 0 at the end of input, -1 with err (MLDE_EXIT_DATA
 * "FILE:LINE: ..." for an unterminated quote, text after a closing quote
 * or a NUL byte; MLDE_EXIT_IO for a read error).  Empty lines are skipped.
 * A quoted field's CR and LF are kept; a row's own CRLF ending is not. */
int mlde_tsv_next(mlde_tsv *t, mlde_error *err);
/* The fields of the row last read; NUL-terminated, valid until the next
 * call.  mlde_tsv_field gives NULL for i >= nfields. */
size_t mlde_tsv_nfields(const mlde_tsv *t);
const char *mlde_tsv_field(const mlde_tsv *t, size_t i, size_t *len);
/* Take the row last read as the header: later messages name a field by
 * its column's name rather than its number. */
void mlde_tsv_name_fields(mlde_tsv *t);
/* The line the row last read starts on (1-based). */
unsigned long mlde_tsv_lineno(const mlde_tsv *t);
const char *mlde_tsv_name(const mlde_tsv *t);
void mlde_tsv_close(mlde_tsv *t);

#endif
