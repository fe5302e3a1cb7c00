/* prompt.h - mlde-gen's prompt: a template (template.h) with the question
 * types as $types, read from a types file, and the prompt's identity for
 * provenance: its name and the sha256 of template and types together.
 * Nothing here prints. */
#ifndef MLDE_PROMPT_H
#define MLDE_PROMPT_H

#include <jv.h>

#include "base/err.h"
#include "base/sha256.h"
#include "gen/template.h"

typedef struct mlde_prompt {
	mlde_template *tpl;
	char name[256];              /* the template's file name without its extension */
	char sha256[MLDE_SHA256_HEX];  /* of the template's text, then the types file's */
	char *types_path;            /* the types file read, or NULL when none */
	jv types;                    /* its object (an empty one without a file) */
	jv unexplained;              /* the types told by mlde_prompt_unexplained, as keys */
} mlde_prompt;

/* Load the template at path with the types of types_path (NULL: types.json
 * beside the template, when there is one).  0, or -1 with err (MLDE_EXIT_IO:
 * a file cannot be read; MLDE_EXIT_DATA: bad types or a bad template);
 * either way mlde_prompt_free frees it. */
int mlde_prompt_load(mlde_prompt *p, const char *path, const char *types_path, mlde_error *err);
void mlde_prompt_free(mlde_prompt *p);
/* type, the first time it is asked about, when the types file gives it no
 * explanation (no object under its name, or no non-empty "explain"
 * string in it): the template's explanation line would be empty.  NULL
 * when it is explained, or was returned before, or there is no types file
 * (a template that takes none).  For the program to warn once per type. */
const char *mlde_prompt_unexplained(mlde_prompt *p, const char *type);
/* The default template (malloc'd): $MLDE_PROMPTS/default.txt, else
 * prompts/default.txt (or share/mlde/prompts/default.txt) in a directory
 * above the running program, else prompts/default.txt. */
char *mlde_prompt_default_path(void);

#endif
