/* input.h - images as the builtin model's programs (mlde-train, mlde-eval)
 * read them: an image reference (a path under an image root, or a data:
 * URI) loaded and resized for the model.  Items themselves are checked by
 * record/record.h.  Nothing here prints. */
#ifndef MLDE_INPUT_H
#define MLDE_INPUT_H

#include "base/err.h"
#include "model/model.h"

/* The largest image side accepted (a bigger PNG is refused before it is
 * decoded: no decompression bombs). */
#define MLDE_ITEM_SIDE_MAX 4096

/* Load the image ref names (relative to root unless absolute or a data:
 * URI) and resize it for m into out (size*size*3 bytes).  0, or -1 with err
 * naming the file. */
int mlde_item_image(const mlde_model *m, const char *root, const char *ref,
		    unsigned char *out, mlde_error *err);

#endif
