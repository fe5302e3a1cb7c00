/* answer.h - reading a served model's answer to a multiple-choice question:
 * the option its reply names, by documented rules and never by guessing,
 * and the option letters' probabilities when the reply carries
 * log-probabilities.  Nothing here prints. */
#ifndef MLDE_ANSWER_H
#define MLDE_ANSWER_H

#include <stddef.h>

#include <jv.h>

/* Which rule read the answer.  They are tried in this order, the first
 * that claims anything deciding: LETTER, TEXT (exactly, then ignoring
 * case), then FORM in three tiers (stated, bold, marked), a stronger tier
 * deciding alone; mlde-eval(1) documents the order.  Text comes before
 * the forms because a reply that is one option's whole text ("Vitamin
 * A.") names that option, whatever letter it holds. */
typedef enum mlde_answer_rule {
	MLDE_ANSWER_NONE = 0,   /* no rule read a letter or an option's text */
	MLDE_ANSWER_AMBIGUOUS,  /* two different letters (or options) claimed
				 * by the rule that decided: never a guess */
	MLDE_ANSWER_LETTER,     /* the reply is a bare letter ("B", "B.", " b ");
				 * the only rule that reads lowercase */
	MLDE_ANSWER_FORM,       /* a letter in a usual form, by tier:
				 * stated: "Answer: B", "The answer is (B)",
				 *   "answer would be B", "\boxed{B}",
				 *   "<answer>B</answer>", "(B) is correct";
				 * bold: "**B**", "**B. a square**";
				 * marked: "(B)", "[B]", "B)", "B.", "B:",
				 *   "B. a square" */
	MLDE_ANSWER_TEXT,       /* the text of exactly one option, exactly or
				 * ignoring case (ASCII), reply and options
				 * trimmed of blanks, a final period and the
				 * * " ` markup at their ends */
} mlde_answer_rule;

/* "none", "ambiguous", "letter", "form", "text". */
const char *mlde_answer_rule_name(mlde_answer_rule rule);

/* The option (0-based, < n) the reply of len bytes names among the n
 * option texts, or -1 (rule NONE or AMBIGUOUS); *rule says which rule
 * decided (rule may be NULL).  Letters beyond the n-th (and beyond Z) are
 * not answers.  The reply is bytes: NULs and invalid UTF-8 are read as
 * bytes that are neither letters nor blanks.  options may be NULL (no
 * text rule), and so may any of its n entries.  Words are not claims: the
 * article in "A square is shown", the "I" of "I think" or "I'm", and a
 * capital that starts another option's text ("Answer: A square" when B is
 * "a square"). */
int mlde_answer_extract(const char *reply, size_t len, const char *const *options, size_t n,
			mlde_answer_rule *rule);

/* The probabilities of the letters A.. (n of them) from a chat completion
 * choice's "logprobs" (OpenAI's and vLLM's format: content[].top_logprobs
 * of the first token that is one of the letters, alone or with blanks or
 * punctuation around it), normalised to sum to 1 over the letters
 * present; a letter not among the top ones gets 0.  Only capitals are
 * letters here ("a" is an article's token); tokens naming the same letter
 * (" B", "B") add up; the chosen token counts even when the server left
 * it out of its top list.  0 and scores[0..n-1] filled, or -1 (scores all
 * 0) when the choice carries no usable log-probabilities: no logprobs, no
 * letter token, no top_logprobs there.  A token "A" or "I" followed by a
 * lowercase word (" square", " think") or by "'m" is the article or the
 * pronoun, not a letter.  The letter token is the first one of the reply,
 * not necessarily where the rules read the answer.  choice is borrowed. */
int mlde_answer_scores(jv choice, size_t n, double *scores);

#endif
