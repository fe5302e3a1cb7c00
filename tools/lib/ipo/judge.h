/* judge.h - a second model as reviewer: its reply to the judging prompt
 * (prompts/judge.txt) read into a verdict.  The reply has three yes/no
 * lines and a reason:
 *   Answerable: yes|no       (from the image alone)
 *   Answer correct: yes|no   (the marked answer is the right one)
 *   Fits type: yes|no        (the question is of the type asked for)
 *   Reason: <a short sentence>
 * The verdict is correct when all three say yes; else wrong, with the
 * reason (or, when the judge gave none, the checks that failed), prefixed
 * by what failed ("wrong answer: ..."), so reasons group by cause.  Case
 * and leading markdown (**, -) are forgiven.  Nothing here prints. */
#ifndef MLDE_IPO_JUDGE_H
#define MLDE_IPO_JUDGE_H

#include <stddef.h>

#include "ipo/review.h"

/* 0 with *verdict and reason (a NUL-terminated string of reasonlen bytes)
 * set, or -1 with why: a yes/no line missing or neither yes nor no. */
int mlde_judge_reply(const char *text, mlde_verdict *verdict, char *reason, size_t reasonlen,
		     char *why, size_t whylen);

#endif
