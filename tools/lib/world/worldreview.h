/* worldreview.h - the world's automatic reviewer: judges a generated item
 * against the annotations of its image (the pool record its plan carried),
 * as a person would in mlde-prompt's review.  The world knows the true
 * answer of every question it can parse; what it cannot parse it does not
 * guess at.  Nothing here prints.
 *
 * Its verdicts go into the review records of tools/lib/ipo/review.h
 * (mlde-prompt): {"item", "prompt_version", "prompt_sha256", "type",
 * "verdict", "reason", "reviewer", "time"}, with "reviewer": "world",
 * "verdict" "correct" or "wrong" (reason: one of the names below), or
 * "cannot-judge" (reason: why), which counts neither way. */
#ifndef MLDE_WORLDREVIEW_H
#define MLDE_WORLDREVIEW_H

#include <jv.h>

#define MLDE_WORLD_CORRECT "correct"
#define MLDE_WORLD_WRONG "wrong"
#define MLDE_WORLD_CANNOT_JUDGE "cannot-judge"

#define MLDE_REVIEWER_WORLD "world"

/* Why an item is wrong.  The first five are also the fault kinds of the
 * world backend (worldgen.h), one for one. */
#define MLDE_WRONG_ANSWER "wrong-answer"            /* the marked option is not the truth */
#define MLDE_WRONG_ABSENT "absent-object"           /* it asks about what the image lacks */
#define MLDE_WRONG_TYPE "other-type"                /* a question of another type */
#define MLDE_WRONG_COORDS "coordinates"             /* numbers of positions in the text */
#define MLDE_WRONG_DUPLICATE "duplicate-options"    /* two options say the same */
#define MLDE_WRONG_NO_TRUTH "no-correct-option"     /* no option is the truth */
#define MLDE_WRONG_AMBIGUOUS "ambiguous-object"     /* a phrase fits several objects */
#define MLDE_WRONG_UNANSWERABLE "unanswerable"      /* the image cannot decide it */
/* Why the world cannot judge: its own verdict, never a guess. */
#define MLDE_CANNOT_SCENE "not-a-world-scene"       /* no annotations the world reads */
#define MLDE_CANNOT_ITEM "not-an-item"              /* no question, options or answer */
#define MLDE_CANNOT_QUESTION "unparsed-question"    /* none of the world's question shapes */
#define MLDE_CANNOT_OPTION "unparsed-option"        /* an option names no answer the world knows */

typedef struct mlde_world_verdict {
	const char *verdict;  /* MLDE_WORLD_CORRECT, _WRONG or _CANNOT_JUDGE */
	const char *reason;   /* NULL for correct, else an MLDE_WRONG_* or MLDE_CANNOT_* */
	char detail[200];     /* what exactly, in words */
	int type;             /* the type the question was read as, or -1 */
	int truth;            /* the option that is the true answer, or -1 */
} mlde_world_verdict;

/* Judge item (borrowed: question, options, answer, type; its provenance is
 * not read) against query (borrowed: the pool record of its image).
 * Always gives a verdict; returns 0 for correct, 1 for wrong, 2 for
 * cannot-judge. */
int mlde_world_review(jv item, jv query, mlde_world_verdict *rv);

/* The same, from the plan record the item was made for (borrowed): its
 * "query".  cannot-judge (not-a-world-scene) when the plan has none. */
int mlde_world_review_plan(jv item, jv plan, mlde_world_verdict *rv);

#endif
