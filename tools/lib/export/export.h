/* export.h - mlde items as the training files of external trainers:
 * LLaVA's conversation JSON (the records of LLaVA-1.5's llava_v1_5_mix665k,
 * with the MMBench-style multiple-choice prompt of LLaVA's
 * model_vqa_mmbench.py) and LLaMA-Factory's ShareGPT-style multimodal
 * records (its mllm_demo.json, "formatting": "sharegpt" with an "images"
 * column).  One item in, one record out; the program writes the array.
 * Images given as data: URIs are written once as files named by their
 * content (the image store of import.h), since trainers take paths.
 * Nothing here prints. */
#ifndef MLDE_EXPORT_H
#define MLDE_EXPORT_H

#include <stdbool.h>
#include <jv.h>

#include "base/err.h"
#include "import/import.h"

enum mlde_export_format { MLDE_EXPORT_LLAVA, MLDE_EXPORT_SHAREGPT };

/* The last line of the human turn (LLaVA's --single-pred-prompt). */
#define MLDE_EXPORT_INSTRUCTION "Answer with the option's letter from the given choices directly."

typedef struct mlde_export_opts {
	enum mlde_export_format format;
	bool rationale;               /* the gpt turn: "LETTER\nRATIONALE" when there is one */
	const char *image_root;       /* NULL, or put before relative item image paths */
	mlde_image_store *images;     /* NULL: a data: URI image is an error */
	const char *images_out;       /* images->dir as the user gave it, for the paths */
} mlde_export_opts;

/* The record of one item (borrowed; checked as an item with an answer,
 * and for LLaVA an "id"); where names it ("FILE:LINE").  0 and *out, or
 * -1 with err: MLDE_EXIT_DATA "WHERE: field 'NAME': what", MLDE_EXIT_IO
 * for an image file that cannot be written. */
int mlde_export_record(const mlde_export_opts *o, jv item, const char *where, jv *out,
		       mlde_error *err);
/* The question turn of an item's text fields: "QUESTION\nA. opt\nB. opt
 * ...\n" MLDE_EXPORT_INSTRUCTION, without the "<image>" line.  Malloc'd. */
char *mlde_export_question_text(const char *question, const char *const *options, int nopt);
/* The path an item's image has in the export (malloc'd), a data: URI
 * stored first.  0, or -1 with err. */
int mlde_export_image_path(const mlde_export_opts *o, const char *image, const char *where,
			   char **path, mlde_error *err);

#endif
