/* fields.h - the importers' own helpers (not for programs): reading the
 * fields of a source record held as jv, with messages that name the place
 * and the field. */
#ifndef MLDE_IMPORT_FIELDS_H
#define MLDE_IMPORT_FIELDS_H

#include <stdbool.h>
#include <jv.h>

#include "base/err.h"
#include "io/jsonl.h"

/* 0 and *s (pointing into rec, borrowed) when rec's key is a non-empty
 * string, -1 with err ("WHERE: field 'KEY': ...") when absent or not. */
int mlde_import_string(jv rec, const char *key, const char *where, const char **s,
		       mlde_error *err);
/* The same for a number (an integer when integer is true). */
int mlde_import_number(jv rec, const char *key, bool integer, const char *where, double *v,
		       mlde_error *err);
/* dir/name (malloc'd), or a copy of name when dir is NULL or empty. */
char *mlde_import_join(const char *dir, const char *name);
/* rec (consumed) with key set to rec2's key when rec2 has it (borrowed). */
jv mlde_import_keep(jv rec, jv from, const char *key, const char *as);

#endif
