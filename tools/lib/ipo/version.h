/* version.h - prompt versions and their lineage.  A prompt family NAME
 * lives in one directory (prompts/): NAME.txt is its first version, named
 * "NAME" (number 0), and each refinement writes NAME.vN.txt, version
 * "NAME.vN", N one more than the highest there, created exclusively, never
 * overwritten; mlde-gen --prompt DIR/NAME.vN.txt names it so in every
 * item's provenance.  Beside them: NAME.vN.diff, the change shown to the
 * person, and NAME.lineage.jsonl, one record appended per version:
 *   {"version", "parent", "date", "file", "sha256", "reviews", "failures",
 *    "reasons": [{"reason", "n"}], "changes"}
 * (sha256 of the file's text; reviews and failures: the review records of
 * the parent that the change was made from; changes: the LLM's changelog,
 * as accepted).  Also: the line diff of two texts, and the reply of the
 * refining LLM.  Nothing here prints. */
#ifndef MLDE_IPO_VERSION_H
#define MLDE_IPO_VERSION_H

#include <stddef.h>
#include <jv.h>

#include "base/err.h"

/* Split version "NAME.vN" into NAME (copied into family, famlen bytes) and
 * N; any other name is NAME itself, number 0. */
void mlde_version_split(const char *version, char *family, size_t famlen, long *num);
/* Order of versions: by family name, then number. */
int mlde_version_cmp(const char *a, const char *b);
/* The version name of family number num (malloc'd): NAME, or NAME.vN. */
char *mlde_version_name(const char *family, long num);
/* The file of a version in dir (malloc'd): DIR/NAME.txt or DIR/NAME.vN.txt. */
char *mlde_version_path(const char *dir, const char *version);

/* The highest N of the files DIR/FAMILY.vN.txt (0 when none).  -1 with
 * err when dir cannot be read. */
int mlde_version_highest(const char *dir, const char *family, long *num, mlde_error *err);
/* Create path exclusively with text (fsync'd): -1 with err (MLDE_EXIT_IO)
 * when it exists already or cannot be written; nothing is overwritten. */
int mlde_version_create(const char *path, const char *text, size_t len, mlde_error *err);

/* DIR/FAMILY.lineage.jsonl (malloc'd). */
char *mlde_lineage_path(const char *dir, const char *family);
/* Append rec (consumed) to the lineage file and fsync. */
int mlde_lineage_append(const char *path, jv rec, mlde_error *err);
/* The lineage records (a new array; empty when there is no file). */
int mlde_lineage_read(const char *path, jv *recs, mlde_error *err);

/* A line diff of a and b, unified style with every line as context
 * ("--- A_NAME", "+++ B_NAME", then " ", "-" or "+" and the line), or ""
 * when they are the same.  Malloc'd. */
char *mlde_text_diff(const char *a_name, const char *a, const char *b_name, const char *b);

/* The refining LLM's reply: the new prompt between <prompt> and </prompt>
 * (one leading and trailing newline dropped), and its changelog between
 * <changelog> and </changelog> (NULL when there is none), malloc'd.  0, or
 * -1 with why set: no prompt in the reply, or an empty one. */
int mlde_refine_reply(const char *text, char **prompt, char **changes, char *why,
		      size_t whylen);

#endif
