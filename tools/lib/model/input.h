/* item.h - multiple-choice items and their images as the builtin model's
 * programs (mlde-train, mlde-eval) read them: the checks an item must pass,
 * and image references (a path under an image root, or a data: URI) loaded
 * and resized for the model.  Nothing here prints. */
#ifndef MLDE_ITEM_H
#define MLDE_ITEM_H

#include <stdbool.h>
#include <jv.h>

#include "base/err.h"
#include "model/model.h"

/* The largest image side accepted (a bigger PNG is refused before it is
 * decoded: no decompression bombs). */
#define MLDE_ITEM_SIDE_MAX 4096

/* An item's texts, pointing into the record it was read from (valid while
 * the record lives). */
typedef struct mlde_item_text {
	const char *image;
	const char *question;   /* NULL: an image-only record */
	const char *options[MLDE_OPTS_MAX];
	int nopt;               /* 0 for an image-only record */
	int answer;             /* -1: none */
	const char *type;       /* NULL: none */
} mlde_item_text;

/* Check rec (borrowed) as an item: "image" a string, "question" a string,
 * "options" 2 to 8 strings, "answer" an integer index of them (required when
 * need_answer), "type" a string if present.  With allow_image_only, a record
 * with no "question" is accepted with nopt 0 (a pool record).  where names
 * the record in messages ("FILE:LINE").  0, or -1 with err set
 * (MLDE_EXIT_DATA). */
int mlde_item_read(jv rec, bool need_answer, bool allow_image_only, const char *where,
		   mlde_item_text *it, mlde_error *err);

/* Load the image ref names (relative to root unless absolute or a data:
 * URI) and resize it for m into out (size*size*3 bytes).  0, or -1 with err
 * naming the file. */
int mlde_item_image(const mlde_model *m, const char *root, const char *ref,
		    unsigned char *out, mlde_error *err);

#endif
