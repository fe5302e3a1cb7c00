/* reply.h - the generator's reply: read the Question / Choices / Answer /
 * Explanation text an LLM (or the world backend) writes, as the original
 * MLLM-DataEngine pipeline read it, and validate it into a multiple-choice
 * item, or reject it with a reason.  Also: the reply text of an
 * OpenAI-compatible chat completion body.  Nothing here prints. */
#ifndef MLDE_REPLY_H
#define MLDE_REPLY_H

#include <stddef.h>
#include <jv.h>

#include "record/record.h"  /* MLDE_OPTIONS_MIN, MLDE_OPTIONS_MAX */

/* Why a reply was rejected: stable names, for counting and for grep. */
#define MLDE_REJECT_SKIP "skip"                        /* the generator declined */
#define MLDE_REJECT_NO_QUESTION "no-question"
#define MLDE_REJECT_FEW_CHOICES "too-few-choices"      /* fewer than 2 */
#define MLDE_REJECT_MANY_CHOICES "too-many-choices"    /* more than 8 */
#define MLDE_REJECT_EMPTY_CHOICE "empty-choice"
#define MLDE_REJECT_DUPLICATE "duplicate-choices"
#define MLDE_REJECT_NO_ANSWER "no-answer"              /* no answer letter found */
#define MLDE_REJECT_BAD_ANSWER "answer-not-a-choice"   /* a letter past the choices */
#define MLDE_REJECT_MISMATCH "answer-mismatch"         /* (B) with the text of (C) */
#define MLDE_REJECT_BBOX "mentions-bounding-box"
#define MLDE_REJECT_COORDS "mentions-coordinates"
#define MLDE_REJECT_DESCRIPTION "mentions-description"

typedef struct mlde_reply {
	char *question;
	char *options[MLDE_OPTIONS_MAX];
	int noptions;
	int answer;          /* index into options */
	char *rationale;     /* the explanation, or NULL when there is none */
	const char *reason;  /* NULL when accepted, else an MLDE_REJECT_* name */
	char detail[200];    /* what exactly, for a rejection */
} mlde_reply;

/* Parse and validate text (len bytes, need not be NUL-terminated).
 * 0: accepted, the fields are set; -1: rejected, reason and detail are set.
 * Either way free with mlde_reply_free. */
int mlde_reply_parse(const char *text, size_t len, mlde_reply *r);
void mlde_reply_free(mlde_reply *r);

/* Remove [x1, y1, x2, y2] boxes (and the blank before each) from s in
 * place, squeeze runs of blanks into one and trim; returns s. */
char *mlde_reply_strip_boxes(char *s);

/* The assistant text of a chat completion body (borrowed): a new string
 * in *text.  0, or -1
 * with why set when the body is not a completion with a text reply.  The
 * usage counts are added to *prompt_tokens and *completion_tokens (either
 * may be NULL). */
int mlde_reply_completion_text(jv body, jv *text, double *prompt_tokens,
			       double *completion_tokens, char *why, size_t whylen);
/* Is body (len bytes) a chat completion with a text reply?  0 yes; -1 no,
 * why set.  The reply check of mlde_http and mlde_window. */
int mlde_reply_check_completion(const char *body, size_t len, char *why, size_t whylen);

#endif
