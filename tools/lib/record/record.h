/* record.h - the records of DESIGN.md ("Records"), the contract between the
 * programs: item, pool record, eval record, weakness record, plan record,
 * generated item (an item with provenance) and reject record.  This module
 * owns them: each kind's builder (mlde_*_record) and checker (mlde_*_check)
 * are here, and every field name is one MLDE_F_* macro below, so
 * `grep -rn MLDE_F_ANSWER tools` finds the producers and every consumer of
 * "answer".  It sits below the model, the world and generation (it includes
 * none of their headers), and nothing here prints.
 *
 * Builders insert fields in a fixed order (jq 1.6 prints an object's keys in
 * insertion order, so that order is part of the output bytes).  Checkers
 * borrow the record, leave it as it is (unknown fields pass through), and on
 * failure set err to "WHERE: field 'NAME': what" with MLDE_EXIT_DATA. */
#ifndef MLDE_RECORD_H
#define MLDE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <jv.h>

#include "base/err.h"

/* The one limit on options, for items, replies and the model. */
#define MLDE_OPTIONS_MIN 2
#define MLDE_OPTIONS_MAX 8

/* item (and the item part of eval records and generated items) */
#define MLDE_F_ID "id"
#define MLDE_F_IMAGE "image"
#define MLDE_F_QUESTION "question"
#define MLDE_F_OPTIONS "options"
#define MLDE_F_ANSWER "answer"
#define MLDE_F_TYPE "type"
#define MLDE_F_RATIONALE "rationale"
#define MLDE_F_SOURCE "source"
#define MLDE_F_PROVENANCE "provenance"
/* pool record; its objects; and the embedded world's own annotations */
#define MLDE_F_CAPTIONS "captions"
#define MLDE_F_OBJECTS "objects"
#define MLDE_F_EMBEDDING "embedding"
#define MLDE_F_NAME "name"
#define MLDE_F_BBOX "bbox"
#define MLDE_F_COLOR "color"
#define MLDE_F_SIZE "size"
#define MLDE_F_TOUCHING "touching"
#define MLDE_F_BACKGROUND "background"
#define MLDE_F_TEXT "text"
#define MLDE_F_TEXT_BBOX "text_bbox"
/* eval record: the item plus these */
#define MLDE_F_PRED "pred"
#define MLDE_F_CORRECT "correct"
#define MLDE_F_SCORES "scores"
#define MLDE_F_RAW "raw"
#define MLDE_F_MODEL "model"
/* weakness record: the grouping field (MLDE_F_TYPE by default) plus these;
 * "correct" is MLDE_F_CORRECT */
#define MLDE_F_N "n"
#define MLDE_F_ACC "acc"
#define MLDE_F_LO "lo"
#define MLDE_F_HI "hi"
#define MLDE_F_WEIGHT "weight"
#define MLDE_F_UNANSWERED "unanswered"
#define MLDE_F_SPARSE "sparse"
/* plan record: "id", "type", then these */
#define MLDE_F_QUERY "query"
#define MLDE_F_EXAMPLES "examples"
#define MLDE_F_SIMILARITY "similarity"
/* provenance of a generated item ("model" is MLDE_F_MODEL) */
#define MLDE_F_BACKEND "backend"
#define MLDE_F_PROMPT "prompt"
#define MLDE_F_PROMPT_SHA256 "prompt_sha256"
#define MLDE_F_REQUEST_SHA256 "request_sha256"
#define MLDE_F_PLAN "plan"
/* reject record: "plan", "reason", "detail", "raw", "request_sha256" */
#define MLDE_F_REASON "reason"
#define MLDE_F_DETAIL "detail"

/* What a checker found wrong, for callers that act on it (a hint, a
 * fallback) rather than on the message text. */
typedef enum mlde_fault {
	MLDE_FAULT_NONE = 0,
	MLDE_FAULT_MISSING,   /* the field is absent */
	MLDE_FAULT_KIND,      /* present with the wrong JSON kind */
	MLDE_FAULT_VALUE,     /* right kind, bad value (count, range) */
} mlde_fault;

typedef struct mlde_record_fault {
	mlde_fault what;
	const char *field;    /* an MLDE_F_* name; NULL when what is NONE */
} mlde_record_fault;

/* ---- item ---- */

/* An item's texts.  Filled by mlde_item_check, the pointers point into the
 * record checked (valid while it lives); given to mlde_item_record, they are
 * copied.  NULL: absent. */
typedef struct mlde_item {
	const char *id;
	const char *image;
	const char *question;   /* NULL: an image-only record (pool record) */
	const char *options[MLDE_OPTIONS_MAX];
	int nopt;               /* 0 for an image-only record */
	int answer;             /* -1: none */
	const char *type;
	const char *rationale;
	const char *source;
	mlde_record_fault fault;  /* set by a failed check */
} mlde_item;

/* Flags of mlde_item_check. */
#define MLDE_ITEM_NEED_ANSWER 1   /* "answer" required (else optional) */
#define MLDE_ITEM_IMAGE_ONLY 2    /* no "question": an image-only record, nopt 0 */

/* Check rec as an item: "image" a string, "question" a string, "options" 2
 * to 8 strings, "answer" an integer index of them, "type" a string or null
 * if present; "id", "rationale" and "source" are taken when strings.  where
 * names the record ("FILE:LINE").  0, or -1 with err and it->fault set. */
int mlde_item_check(jv rec, int flags, const char *where, mlde_item *it, mlde_error *err);

/* A new item record: id, image, question, options, answer, type, then
 * rationale and source when not NULL. */
jv mlde_item_record(const mlde_item *it);

/* ---- generated item ---- */

typedef struct mlde_provenance {
	const char *backend, *model, *prompt, *prompt_sha256, *request_sha256, *plan;
} mlde_provenance;

/* item (consumed) with "provenance" set last. */
jv mlde_item_set_provenance(jv item, const mlde_provenance *p);

/* An item (as mlde_item_check with MLDE_ITEM_NEED_ANSWER) whose
 * "provenance" is an object of the six strings. */
int mlde_generated_check(jv rec, const char *where, mlde_item *it, mlde_error *err);

/* ---- pool record ---- */

typedef struct mlde_pool {
	const char *image;
} mlde_pool;

/* A new pool record: image, captions, objects (both consumed, arrays). */
jv mlde_pool_record(const char *image, jv captions, jv objects);
/* A bounding box [x1, y1, x2, y2] (fractions of the image size) as JSON. */
jv mlde_bbox_record(const double bbox[4]);
/* One entry of "objects": name and bbox ([x1, y1, x2, y2], fractions). */
jv mlde_pool_object(const char *name, const double bbox[4]);

/* "image" a string; "captions" and "objects" arrays if present. */
int mlde_pool_check(jv rec, const char *where, mlde_pool *p, mlde_error *err);

/* ---- eval record ---- */

typedef struct mlde_eval {
	const char *key;        /* the grouping field's string (by default "type") */
	size_t key_len;
	const char *image;      /* with MLDE_EVAL_NEED_IMAGE */
	bool correct;
	bool answered;          /* "pred" is not null */
} mlde_eval;

#define MLDE_EVAL_NEED_IMAGE 1

/* item (consumed) plus pred (< 0: null), correct, scores (consumed; an
 * array, or invalid for none) and model, in that order. */
jv mlde_eval_record(jv item, int pred, bool correct, jv scores, const char *model);

/* The field by (NULL: "type") a string, "image" a string with
 * MLDE_EVAL_NEED_IMAGE, "correct" a boolean, in that order. */
int mlde_eval_check(jv rec, const char *by, int flags, const char *where, mlde_eval *e,
		    mlde_error *err);

/* ---- weakness record ---- */

typedef struct mlde_weakness {
	const char *by;         /* the grouping field's name (NULL: "type") */
	const char *key;        /* its value */
	unsigned long n, correct, unanswered;
	double acc, lo, hi, weight;  /* acc is written null when n is 0 */
	bool sparse;            /* written only when true */
} mlde_weakness;

jv mlde_weakness_record(const mlde_weakness *w);

/* "type" a string, "weight" a finite number >= 0 (w->type, w->weight). */
int mlde_weakness_check(jv rec, const char *where, mlde_weakness *w, mlde_error *err);

/* ---- plan record ---- */

typedef struct mlde_plan {
	const char *id, *type, *image;  /* image: the query's */
} mlde_plan;

/* id, type, query (consumed, a pool record), examples (consumed, items),
 * then similarity when has_similarity. */
jv mlde_plan_record(const char *id, const char *type, jv query, jv examples,
		    bool has_similarity, double similarity);

/* "id" and "type" strings, "query" an object whose "image" is a string. */
int mlde_plan_check(jv rec, const char *where, mlde_plan *p, mlde_error *err);

/* ---- reject record ---- */

/* The reason of a reject record whose item failed mlde_generated_check
 * (the other reasons are the reply parser's, gen/reply.h). */
#define MLDE_REJECT_INVALID_ITEM "invalid-item"

/* plan, reason, detail, raw (consumed: a string, or null), request_sha256. */
jv mlde_reject_record(const char *plan, const char *reason, const char *detail, jv raw,
		      const char *request_sha256);

/* "plan" and "reason" strings, "raw" a string or null. */
int mlde_reject_check(jv rec, const char *where, mlde_error *err);

#endif
