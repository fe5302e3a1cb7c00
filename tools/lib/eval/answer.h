/* answer.h - reading a served model's answer to a multiple-choice question:
 * the option its reply names, by documented rules and never by guessing,
 * and the option letters' probabilities when the reply carries
 * log-probabilities.  Nothing here prints. */
#ifndef MLDE_ANSWER_H
#define MLDE_ANSWER_H

#include <stddef.h>

#include <jv.h>

/* Which rule read the answer (mlde-eval(1) lists them in this order). */
typedef enum mlde_answer_rule {
	MLDE_ANSWER_NONE = 0,   /* no rule read a letter or an option's text */
	MLDE_ANSWER_AMBIGUOUS,  /* two different letters (or options) claimed */
	MLDE_ANSWER_LETTER,     /* the reply is a bare letter ("B", "B.", " b ") */
	MLDE_ANSWER_FORM,       /* a letter in a usual form: "(B)", "B)", "B.",
				 * "Answer: B", "The answer is B", "**B**" */
	MLDE_ANSWER_TEXT,       /* the text of exactly one option, exactly or
				 * ignoring case */
} mlde_answer_rule;

/* "none", "ambiguous", "letter", "form", "text". */
const char *mlde_answer_rule_name(mlde_answer_rule rule);

/* The option (0-based, < n) the reply of len bytes names among the n
 * option texts, or -1 (rule NONE or AMBIGUOUS); *rule says which rule
 * decided.  Letters beyond the n-th are not answers. */
int mlde_answer_extract(const char *reply, size_t len, const char *const *options, size_t n,
			mlde_answer_rule *rule);

/* The probabilities of the letters A.. (n of them) from a chat completion
 * choice's "logprobs" (OpenAI's and vLLM's format: content[].top_logprobs
 * of the first token that is one of the letters, alone or with blanks or
 * punctuation around it), normalised to sum to 1 over the letters
 * present; a letter not among the top ones gets 0.  0 and scores[0..n-1]
 * filled, or -1 when the choice carries no usable log-probabilities.
 * choice is borrowed. */
int mlde_answer_scores(jv choice, size_t n, double *scores);

#endif
