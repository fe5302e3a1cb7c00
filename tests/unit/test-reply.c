/* test-reply.c - the reply parser: the format variants it must read (labels,
 * markers, layouts, boxes, periods), every rejection reason, and the text of
 * chat completion bodies.  The real GPT-4 replies of the original pipeline
 * are read end to end by tests/cli/gen.t. */
#include <stdlib.h>
#include <string.h>

#include "gen/reply.h"
#include "tap.h"

/* The parse of text as one line: "Q|opt1|opt2...|answer|rationale", or
 * "reject REASON". */
static char *summary(const char *text)
{
	static char out[4096];
	mlde_reply r;
	size_t n;

	if (mlde_reply_parse(text, strlen(text), &r) < 0) {
		snprintf(out, sizeof out, "reject %s", r.reason);
	} else {
		n = (size_t)snprintf(out, sizeof out, "%s", r.question);
		for (int i = 0; i < r.noptions; i++)
			n += (size_t)snprintf(out + n, sizeof out - n, "|%s", r.options[i]);
		snprintf(out + n, sizeof out - n, "|%d|%s", r.answer, r.rationale ? r.rationale : "-");
	}
	mlde_reply_free(&r);
	return out;
}

#define PARSES(text, want, ...) TAP_IS_STR(summary(text), want, __VA_ARGS__)

int main(void)
{
	/* the original layout */
	PARSES("Question: What color is the ball?\nChoices: (A) red (B) blue (C) green (D) white\n"
	       "Answer: The answer is (B): blue.\nExplanation: The ball is blue.",
	       "What color is the ball?|red|blue|green|white|1|The ball is blue.", "the original layout");
	PARSES("Question: Q?\nChoices: (A) x (B) y\nAnswer: The answer is (A): x.\nExplanations: E.",
	       "Q?|x|y|0|E.", "Explanations:");
	PARSES("Question: Q?\nChoices: (A) x (B) y\nAnswer: (A)\nReason: because.",
	       "Q?|x|y|0|because.", "Reason:");
	PARSES("Question: Q?\nChoices: (A) x (B) y\nAnswer: (B)\nRationale: since.",
	       "Q?|x|y|1|since.", "Rationale:");
	PARSES("Question: Q?\nChoices: (A) x (B) y\nAnswer: (B)", "Q?|x|y|1|-", "no explanation: no rationale");
	/* choices one a line, and the other markers */
	PARSES("Question: Q?\nChoices:\n(A) one\n(B) two\n(C) three\nAnswer: (C)\nExplanation: e",
	       "Q?|one|two|three|2|e", "choices one a line");
	PARSES("Question: Q?\nChoices:\nA. one.\nB. two.\nC. three.\nAnswer: C\nExplanation: e",
	       "Q?|one|two|three|2|e", "A. markers, trailing periods dropped, a bare letter answer");
	PARSES("Question: Q?\nChoices: A) one B) two C) three\nAnswer: B)\nExplanation: e",
	       "Q?|one|two|three|1|e", "A) markers on one line");
	PARSES("Question: Q?\nOptions:\nA: Mr. A. Smith\nB: Dr. B. Jones\nAnswer: The answer is B.",
	       "Q?|Mr. A. Smith|Dr. B. Jones|1|-", "A: markers; letters with periods inside choices stay");
	PARSES("Question: Which is it?\n(A) cat\n(B) dog\nAnswer: (A)\nExplanation: e",
	       "Which is it?|cat|dog|0|e", "no Choices: label: choices under the question");
	PARSES("**Question:** Q?\n**Choices:** (A) x (B) y\n**Answer:** (B) y\n**Explanation:** e",
	       "Q?|x|y|1|e", "markdown bold labels");
	PARSES("question: Q?\nCHOICES: (a) x (b) y\nanswer: b\nexplanation: e", "Q?|x|y|1|e",
	       "labels in any case, lower-case markers");
	PARSES("Question: Q?\nChoices: (A) x (B) y\nAnswer: y\nExplanation: e", "Q?|x|y|1|e",
	       "an answer given as the text of a choice");
	PARSES("Sure! Here is one.\n\nQuestion: Q?\nChoices: (A) x (B) y\nAnswer: (A)\n\nQuestion: Q2?\n"
	       "Choices: (A) z (B) w\nAnswer: (B)", "Q?|x|y|0|-", "text before, and a second question, ignored");
	/* boxes */
	PARSES("Question: Where is the cup [0.1, 0.2, 0.3, 0.4]?\nChoices: (A) on the table [0.5,0.5,0.9,0.9]. "
	       "(B) the cup [1, 0, 0.25, .5] is on the floor\nAnswer: (A)\nExplanation: The cup [0.1, 0.2, 0.3, 0.4] rests.",
	       "Where is the cup?|on the table|the cup is on the floor|0|The cup rests.",
	       "boxes removed from question, choices and explanation");
	PARSES("Question: Is [1, 2] a box?\nChoices: (A) yes (B) no\nAnswer: (B)", "Is [1, 2] a box?|yes|no|1|-",
	       "two numbers in brackets are not a box");

	/* every rejection reason */
	PARSES("Skip. The image shows no text.", "reject skip", "Skip at the start");
	PARSES("**Skip**: no people in the image", "reject skip", "Skip in markdown");
	PARSES("I cannot write this type of question, so: Skip", "reject skip", "Skip with no question");
	PARSES("Question: Skip\nExplanation: nothing to count.", "reject skip", "Skip as the question");
	PARSES("Question: Is the child skipping?\nChoices: (A) yes (B) no\nAnswer: (A)",
	       "Is the child skipping?|yes|no|0|-", "'skipping' is not Skip");
	PARSES("Here is a nice question about the image.", "reject no-question", "no question");
	PARSES("Question:   \nChoices: (A) x (B) y\nAnswer: (A)", "reject no-question", "an empty question");
	PARSES("Question: Q?\nChoices: (A) only one\nAnswer: (A)", "reject too-few-choices", "one choice");
	PARSES("Question: Q?\nAnswer: (A)", "reject too-few-choices", "no choices");
	PARSES("Question: Q?\nChoices: (A) a (B) b (C) c (D) d (E) e (F) f (G) g (H) h (I) i\nAnswer: (A)",
	       "reject too-many-choices", "nine choices");
	PARSES("Question: Q?\nChoices: (A) a (B) b (C) c (D) d (E) e (F) f (G) g (H) h\nAnswer: (H)",
	       "Q?|a|b|c|d|e|f|g|h|7|-", "eight choices are fine");
	PARSES("Question: Q?\nChoices: (A) red (B) Red. (C) blue\nAnswer: (C)", "reject duplicate-choices",
	       "duplicate choices (case and period aside)");
	PARSES("Question: Q?\nChoices: (A) [0.1, 0.2, 0.3, 0.4] (B) b\nAnswer: (B)", "reject empty-choice",
	       "a choice that was only a box");
	PARSES("Question: Q?\nChoices: (A) x (B) y\nExplanation: e", "reject no-answer", "no answer line");
	PARSES("Question: Q?\nChoices: (A) x (B) y\nAnswer: I am not sure.", "reject no-answer", "no answer letter");
	PARSES("Question: Q?\nChoices: (A) x (B) y\nAnswer: The answer is (D): z.", "reject answer-not-a-choice",
	       "a letter past the choices");
	PARSES("Question: Q?\nChoices: (A) cat (B) dog (C) cow\nAnswer: The answer is (B): cow.",
	       "reject answer-mismatch", "the letter of one choice with the text of another");
	PARSES("Question: What is in the bounding box?\nChoices: (A) x (B) y\nAnswer: (A)",
	       "reject mentions-bounding-box", "a question about the bounding box");
	PARSES("Question: Q?\nChoices: (A) x (B) y\nAnswer: (A)\nExplanation: The coordinates show it.",
	       "reject mentions-coordinates", "an explanation citing coordinates");
	PARSES("Question: Q?\nChoices: (A) x (B) y\nAnswer: (A)\nExplanation: As the description says, x.",
	       "reject mentions-description", "an explanation citing the description");

	{
		char s[] = "  a  [0.1, 0.2, 0.3, 0.4] b \t c\n\n d [1,1,1,1]. ";
		TAP_IS_STR(mlde_reply_strip_boxes(s), "a b c\n\nd.", "strip_boxes: boxes and blanks");
	}
	{
		jv body = jv_parse("{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
				   "\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}");
		jv text = jv_invalid();
		double p = 0, c = 0;
		char why[100] = "";

		TAP_IS_INT(mlde_reply_completion_text(body, &text, &p, &c, why, sizeof why), 0,
			   "completion body: accepted");
		TAP_IS_STR(jv_string_value(text), "hi", "completion body: the content");
		TAP_OK(p == 7 && c == 3, "completion body: usage counted");
		jv_free(text);
		jv_free(body);
		body = jv_parse("{\"error\":{\"message\":\"Rate limit\",\"type\":\"tokens\"}}");
		TAP_IS_INT(mlde_reply_completion_text(body, &text, &p, &c, why, sizeof why), -1,
			   "an error body is not a completion (%s)", why);
		jv_free(body);
		body = jv_parse("{\"choices\":[{\"message\":{\"content\":null,\"refusal\":\"no\"}}]}");
		TAP_IS_INT(mlde_reply_completion_text(body, &text, &p, &c, why, sizeof why), -1,
			   "null content is not a reply (%s)", why);
		jv_free(body);
		body = jv_parse("[1]");
		TAP_IS_INT(mlde_reply_completion_text(body, &text, &p, &c, why, sizeof why), -1,
			   "an array is not a completion");
		jv_free(body);
	}
	return TAP_DONE();
}
