/* test-answer.c - unit tests of tools/lib/eval/answer.c: every rule and
 * form of answer extraction, the false positives it must not fall for,
 * ambiguity, the bound on letters, hostile bytes; and the option letters'
 * scores from chat completion log-probabilities. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "eval/answer.h"
#include "tap.h"

static const char *const shapes[] = { "a circle", "a square", "a triangle", "a star" };

/* One reply against the four shapes: the option and the rule wanted. */
struct extraction {
	const char *reply;
	int want;
	mlde_answer_rule rule;
};

static const struct extraction cases[] = {
	/* LETTER: the whole reply is one letter */
	{ "B", 1, MLDE_ANSWER_LETTER },
	{ "B.", 1, MLDE_ANSWER_LETTER },
	{ " b ", 1, MLDE_ANSWER_LETTER },
	{ "\n\tD\n", 3, MLDE_ANSWER_LETTER },
	{ "a", 0, MLDE_ANSWER_LETTER },
	{ "c.", 2, MLDE_ANSWER_LETTER },
	/* FORM, stated */
	{ "Answer: B", 1, MLDE_ANSWER_FORM },
	{ "answer:C", 2, MLDE_ANSWER_FORM },
	{ "The answer is B", 1, MLDE_ANSWER_FORM },
	{ "The answer is B.", 1, MLDE_ANSWER_FORM },
	{ "The correct answer is (C).", 2, MLDE_ANSWER_FORM },
	{ "answer is (B)", 1, MLDE_ANSWER_FORM },
	{ "The answer is: D", 3, MLDE_ANSWER_FORM },
	{ "**Answer:** B", 1, MLDE_ANSWER_FORM },
	{ "**Answer: C**", 2, MLDE_ANSWER_FORM },
	{ "The answer is **B**.", 1, MLDE_ANSWER_FORM },
	{ "The correct option is D", 3, MLDE_ANSWER_FORM },
	{ "The best choice is A, since the shape is round.", 0, MLDE_ANSWER_FORM },
	{ "The answer is option C", 2, MLDE_ANSWER_FORM },
	{ "Answer: A because it is round", 0, MLDE_ANSWER_FORM },
	{ "The answer is not A; it is (B).", 1, MLDE_ANSWER_FORM },
	{ "The answer would be C.", 2, MLDE_ANSWER_FORM },
	{ "So the correct answer should be (D)", 3, MLDE_ANSWER_FORM },
	{ "Therefore the final answer is $\\boxed{B}$.", 1, MLDE_ANSWER_FORM },
	{ "$\\boxed{\\text{C}}$", 2, MLDE_ANSWER_FORM },
	{ "<think>A circle has no corners.</think><answer>B</answer>", 1, MLDE_ANSWER_FORM },
	{ "(B) is the correct answer.", 1, MLDE_ANSWER_FORM },
	{ "Looking at it again, C is correct", 2, MLDE_ANSWER_FORM },
	{ "Option D is the best choice here", 3, MLDE_ANSWER_FORM },
	{ "Option A is not right, C is right", 2, MLDE_ANSWER_FORM },
	/* restating the options before the answer: the stated one decides */
	{ "A. a circle\nB. a square\nC. a triangle\nD. a star\nAnswer: B", 1, MLDE_ANSWER_FORM },
	/* FORM, bold */
	{ "**B**", 1, MLDE_ANSWER_FORM },
	{ "I pick **C. a triangle** here", 2, MLDE_ANSWER_FORM },
	{ "**(D)**", 3, MLDE_ANSWER_FORM },
	{ "**B)** is my pick", 1, MLDE_ANSWER_FORM },
	{ "I choose B.", 1, MLDE_ANSWER_FORM },
	{ "I'd go with option (C) here", 2, MLDE_ANSWER_FORM },
	{ "I would pick D because it has points", 3, MLDE_ANSWER_FORM },
	/* FORM, marked */
	{ "\"B\"", 1, MLDE_ANSWER_FORM },
	{ "It is 'C'", 2, MLDE_ANSWER_FORM },
	{ "`D`", 3, MLDE_ANSWER_FORM },
	{ "B\nThe shape has four equal sides.", 1, MLDE_ANSWER_FORM },
	{ "Looking closely:\n  C\n", 2, MLDE_ANSWER_FORM },
	{ "B a square", 1, MLDE_ANSWER_FORM },
	{ "D - a star", 3, MLDE_ANSWER_FORM },
	{ "Option B", 1, MLDE_ANSWER_FORM },
	{ "It must be choice C, as it has three sides", 2, MLDE_ANSWER_FORM },
	{ "(B)", 1, MLDE_ANSWER_FORM },
	{ "[C]", 2, MLDE_ANSWER_FORM },
	{ "B)", 1, MLDE_ANSWER_FORM },
	{ "B:", 1, MLDE_ANSWER_FORM },
	{ "(C) a triangle", 2, MLDE_ANSWER_FORM },
	{ "B. a square", 1, MLDE_ANSWER_FORM },
	{ "B: a square", 1, MLDE_ANSWER_FORM },
	{ "I think it is B.", 1, MLDE_ANSWER_FORM },
	{ "It looks like a star, so D.", 3, MLDE_ANSWER_FORM },
	{ "The image shows (A)", 0, MLDE_ANSWER_FORM },
	/* TEXT: the whole reply is one option's text */
	{ "a triangle", 2, MLDE_ANSWER_TEXT },
	{ "  a triangle.  ", 2, MLDE_ANSWER_TEXT },
	{ "A Triangle", 2, MLDE_ANSWER_TEXT },
	{ "A STAR.", 3, MLDE_ANSWER_TEXT },
	{ "**a square**", 1, MLDE_ANSWER_TEXT },
	{ "\"A circle.\"", 0, MLDE_ANSWER_TEXT },
	{ "`a star`\n", 3, MLDE_ANSWER_TEXT },
	/* false positives: nothing claimed */
	{ "A square is shown.", -1, MLDE_ANSWER_NONE },
	{ "A large red shape in the middle", -1, MLDE_ANSWER_NONE },
	{ "I think so", -1, MLDE_ANSWER_NONE },
	{ "I don't know", -1, MLDE_ANSWER_NONE },
	{ "triangle", -1, MLDE_ANSWER_NONE },
	{ "It was taken at 9 A.M. in the U.S.A.", -1, MLDE_ANSWER_NONE },
	{ "The answer is not clear.", -1, MLDE_ANSWER_NONE },
	{ "Answer: A square", -1, MLDE_ANSWER_NONE },
	{ "The answer is A star.", -1, MLDE_ANSWER_NONE },
	{ "A is not correct", -1, MLDE_ANSWER_NONE },
	{ "The shape B is correctly drawn", -1, MLDE_ANSWER_NONE },
	{ "The answers are shown", -1, MLDE_ANSWER_NONE },
	{ "A circle is the answer", -1, MLDE_ANSWER_NONE },
	{ "Option A looks round", -1, MLDE_ANSWER_NONE },
	{ "A star is shown", -1, MLDE_ANSWER_NONE },
	{ "B cells are shown", -1, MLDE_ANSWER_NONE },
	{ "I cannot choose between them", -1, MLDE_ANSWER_NONE },
	{ "Plan B", -1, MLDE_ANSWER_NONE },
	{ "The answer is b", -1, MLDE_ANSWER_NONE },
	{ "(b)", -1, MLDE_ANSWER_NONE },
	{ "answer: Bob", -1, MLDE_ANSWER_NONE },
	{ "vitamin-A. is not here", -1, MLDE_ANSWER_NONE },
	{ "", -1, MLDE_ANSWER_NONE },
	{ "   \n ", -1, MLDE_ANSWER_NONE },
	{ ".", -1, MLDE_ANSWER_NONE },
	/* letters beyond the 4th are not answers */
	{ "E", -1, MLDE_ANSWER_NONE },
	{ "e", -1, MLDE_ANSWER_NONE },
	{ "The answer is E", -1, MLDE_ANSWER_NONE },
	{ "(F)", -1, MLDE_ANSWER_NONE },
	{ "**Z**", -1, MLDE_ANSWER_NONE },
	{ "The answer is E, not (B)", 1, MLDE_ANSWER_FORM },
	/* ambiguity: never a guess */
	{ "The answer is B or C", -1, MLDE_ANSWER_AMBIGUOUS },
	{ "The answer is (A), (C) or D.", -1, MLDE_ANSWER_AMBIGUOUS },
	{ "The answer is **A** and **B**", -1, MLDE_ANSWER_AMBIGUOUS },
	{ "The answer is B, because (A) is round", 1, MLDE_ANSWER_FORM },
	{ "Answer: A. Answer: C.", -1, MLDE_ANSWER_AMBIGUOUS },
	{ "(A) or (B)", -1, MLDE_ANSWER_AMBIGUOUS },
	{ "A. a circle\nB. a square", -1, MLDE_ANSWER_AMBIGUOUS },
	{ "A\nB\nC", -1, MLDE_ANSWER_AMBIGUOUS },
	{ "I choose A or D", -1, MLDE_ANSWER_AMBIGUOUS },
	{ "**A** or **B**", -1, MLDE_ANSWER_AMBIGUOUS },
	{ "The answer is A... no wait, the answer is D", -1, MLDE_ANSWER_AMBIGUOUS },
};

/* reply with its control bytes escaped, for a one-line TAP description */
static const char *shown(const char *reply)
{
	static char out[256];
	size_t k = 0;

	for (; *reply && k + 5 < sizeof out; reply++) {
		unsigned char c = (unsigned char)*reply;

		if (c == '\n')
			k += (size_t)snprintf(out + k, sizeof out - k, "\\n");
		else if (c < 0x20 || c == 0x7f)
			k += (size_t)snprintf(out + k, sizeof out - k, "\\x%02x", c);
		else
			out[k++] = (char)c;
	}
	out[k] = '\0';
	return out;
}

static void extraction_cases(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct extraction *c = &cases[i];
		mlde_answer_rule rule = (mlde_answer_rule)99;
		int got = mlde_answer_extract(c->reply, strlen(c->reply), shapes, 4, &rule);

		TAP_OK(got == c->want && rule == c->rule, "\"%s\": %d by %s", shown(c->reply), c->want,
		       mlde_answer_rule_name(c->rule));
		if (got != c->want || rule != c->rule)
			printf("#   got %d by %s\n", got, mlde_answer_rule_name(rule));
	}
}

static int extract(const char *reply, const char *const *options, size_t n, mlde_answer_rule *rule)
{
	return mlde_answer_extract(reply, strlen(reply), options, n, rule);
}

static void text_rules(void)
{
	static const char *const twins[] = { "red", "blue", "red" };
	static const char *const cased[] = { "Red", "RED", "blue" };
	static const char *const lettered[] = { "vitamin C", "vitamin A.", "iron" };
	static const char *const blank[] = { "", NULL, " . ", "green" };
	mlde_answer_rule rule;

	TAP_IS_INT(extract("red", twins, 3, &rule), -1, "two options with the reply's text");
	TAP_IS_INT(rule, MLDE_ANSWER_AMBIGUOUS, "... are ambiguous");
	TAP_IS_INT(extract("Red", cased, 3, &rule), 0, "an exact match beats a caseless one");
	TAP_IS_INT(rule, MLDE_ANSWER_TEXT, "... by the text rule");
	TAP_IS_INT(extract("red", cased, 3, &rule), -1, "two caseless matches");
	TAP_IS_INT(rule, MLDE_ANSWER_AMBIGUOUS, "... are ambiguous");
	TAP_IS_INT(extract("Vitamin A.", lettered, 3, &rule), 1,
		   "a reply that is one option's text is that option, not the letter in it");
	TAP_IS_INT(rule, MLDE_ANSWER_TEXT, "... by the text rule");
	TAP_IS_INT(extract("green", blank, 4, &rule), 3, "empty and NULL options are skipped");
	TAP_IS_INT(extract(".", blank, 4, &rule), -1, "an empty option matches no empty reply");
	TAP_IS_INT(extract("a circle", NULL, 4, &rule), -1, "no option texts: no text rule");
	TAP_IS_INT(extract("(B)", NULL, 4, &rule), 1, "... and the letters still work");
	TAP_IS_INT(extract("B", shapes, 0, &rule), -1, "no options: nothing is an answer");
	TAP_IS_INT(rule, MLDE_ANSWER_NONE, "... rule none");
	TAP_IS_INT(extract("B", shapes, 1, &rule), -1, "B is beyond one option");
	TAP_IS_INT(extract("A square is shown.", NULL, 26, &rule), -1,
		   "the article A is no claim even with 26 options");
	TAP_IS_INT(extract("I think so.", NULL, 26, &rule), -1,
		   "nor the I of \"I think\" with 26 options");
	TAP_IS_INT(extract("I.", NULL, 26, &rule), 8, "but a bare I is the 9th of 26");
	TAP_IS_INT(extract("Answer: I'm not sure.", NULL, 26, &rule), -1,
		   "the I of \"Answer: I'm\" is no claim");
	TAP_IS_INT(extract("My answer: I think so", NULL, 26, &rule), -1,
		   "nor that of \"answer: I think\"");
	TAP_IS_INT(extract("The answer is I.", NULL, 26, &rule), 8, "\"The answer is I.\" is");
	TAP_IS_INT(extract("Answer: A square", shapes, 4, &rule), -1,
		   "\"Answer: A square\" is option B's text, not a claim of A");
	{
		static const char *const own[] = { "a square", "a circle" };

		TAP_IS_INT(extract("Answer: A square", own, 2, &rule), 0,
			   "... unless A's own text is \"a square\"");
	}
	TAP_IS_INT(extract("Z", NULL, 100, &rule), 25, "more than 26 options: Z is the last letter");
	TAP_IS_INT(mlde_answer_extract("C", 1, shapes, 4, NULL), 2, "rule may be NULL");
	TAP_IS_INT(mlde_answer_extract(NULL, 0, shapes, 4, &rule), -1, "a NULL reply is none");
}

static void hostile_bytes(void)
{
	static const char nul_letter[] = "B\0C";
	static const char nul_form[] = "xx\0The answer is C";
	static const char utf8[] = "\xff\xfe(B)\xc3\x28 \xe2\x82";
	static const char bad_text[] = "a squ\xc3re";
	static const char nul_after[] = "Option B\0 is not it";
	mlde_answer_rule rule;
	size_t big = 1 << 20;
	char *longer = malloc(big + 64);

	TAP_IS_INT(mlde_answer_extract(nul_letter, 3, shapes, 4, &rule), -1,
		   "\"B\\0C\" is not a bare letter");
	TAP_IS_INT(mlde_answer_extract(nul_letter, 1, shapes, 4, &rule), 1,
		   "len bounds the reply: \"B\" of \"B\\0C\"");
	TAP_IS_INT(mlde_answer_extract(nul_form, sizeof nul_form - 1, shapes, 4, &rule), 2,
		   "a NUL byte does not end the reply");
	TAP_IS_INT(mlde_answer_extract(utf8, sizeof utf8 - 1, shapes, 4, &rule), 1,
		   "invalid UTF-8 around (B)");
	TAP_IS_INT(mlde_answer_extract(bad_text, sizeof bad_text - 1, shapes, 4, &rule), -1,
		   "invalid UTF-8 in a text: no match, no crash");
	TAP_IS_INT(mlde_answer_extract("\x80", 1, shapes, 4, &rule), -1, "a lone high byte");
	TAP_IS_INT(mlde_answer_extract(nul_after, sizeof nul_after - 1, shapes, 4, &rule), -1,
		   "a NUL byte does not end a sentence (\"Option B\\0 is\")");

	/* a megabyte of prose with one stated answer at its end */
	for (size_t i = 0; i < big; i++)
		longer[i] = "lorem ipsum a b c d "[i % 20];
	strcpy(longer + big, " So the answer is C.");
	TAP_IS_INT(extract(longer, shapes, 4, &rule), 2, "a 1 MiB reply with the answer at its end");
	TAP_IS_INT(rule, MLDE_ANSWER_FORM, "... by form");
	memset(longer, 'A', big);
	longer[big] = '\0';
	TAP_IS_INT(extract(longer, shapes, 4, &rule), -1, "a 1 MiB run of A claims nothing");
	memset(longer, '*', big);
	TAP_IS_INT(extract(longer, shapes, 4, &rule), -1, "a 1 MiB run of * claims nothing");
	free(longer);
}

static void rule_names(void)
{
	TAP_IS_STR(mlde_answer_rule_name(MLDE_ANSWER_NONE), "none", "rule name none");
	TAP_IS_STR(mlde_answer_rule_name(MLDE_ANSWER_AMBIGUOUS), "ambiguous", "rule name ambiguous");
	TAP_IS_STR(mlde_answer_rule_name(MLDE_ANSWER_LETTER), "letter", "rule name letter");
	TAP_IS_STR(mlde_answer_rule_name(MLDE_ANSWER_FORM), "form", "rule name form");
	TAP_IS_STR(mlde_answer_rule_name(MLDE_ANSWER_TEXT), "text", "rule name text");
}

/* A choice parsed from JSON text; aborts the test on bad JSON. */
static jv choice_of(const char *json)
{
	jv v = jv_parse(json);

	if (!jv_is_valid(v)) {
		printf("Bail out! bad test JSON: %s\n", json);
		exit(1);
	}
	return v;
}

static int near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

/* A choice in OpenAI's documented logprobs format (written by hand after
 * the chat completion object of the API reference: content[] of {token,
 * logprob, bytes, top_logprobs[{token, logprob, bytes}]}), answering
 * "The answer is B" with B at the fourth token. */
static const char answer_b[] =
	"{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"The answer is B\"},"
	"\"logprobs\":{\"content\":["
	"{\"token\":\"The\",\"logprob\":-0.01,\"bytes\":[84,104,101],\"top_logprobs\":"
	"[{\"token\":\"The\",\"logprob\":-0.01,\"bytes\":[84,104,101]},"
	"{\"token\":\"A\",\"logprob\":-5,\"bytes\":[65]}]},"
	"{\"token\":\" answer\",\"logprob\":-0.02,\"bytes\":null,\"top_logprobs\":[]},"
	"{\"token\":\" is\",\"logprob\":-0.01,\"bytes\":null,\"top_logprobs\":[]},"
	"{\"token\":\" B\",\"logprob\":-0.5,\"bytes\":[32,66],\"top_logprobs\":["
	"{\"token\":\" B\",\"logprob\":-0.5,\"bytes\":[32,66]},"
	"{\"token\":\" C\",\"logprob\":-1.5,\"bytes\":[32,67]},"
	"{\"token\":\"B\",\"logprob\":-2.5,\"bytes\":[66]},"
	"{\"token\":\" the\",\"logprob\":-3,\"bytes\":[32,116,104,101]},"
	"{\"token\":\" E\",\"logprob\":-3.5,\"bytes\":[32,69]}]}"
	"],\"refusal\":null},\"finish_reason\":\"stop\"}";

static void scores(void)
{
	double s[10];
	jv c;

	c = choice_of(answer_b);
	TAP_IS_INT(mlde_answer_scores(c, 4, s), 0, "scores from OpenAI-format logprobs");
	{
		double b = exp(-0.5) + exp(-2.5), cc = exp(-1.5), sum = b + cc;

		TAP_OK(near(s[1], b / sum) && near(s[2], cc / sum),
		       "B and \" B\" add up; normalised over the letters (B %.6f C %.6f)", s[1],
		       s[2]);
	}
	TAP_OK(s[0] == 0 && s[3] == 0, "letters not in top_logprobs get 0");
	TAP_OK(near(s[0] + s[1] + s[2] + s[3], 1), "the scores sum to 1");
	TAP_IS_INT(mlde_answer_scores(c, 2, s), 0, "n = 2: C is not a letter any more");
	TAP_OK(near(s[1], 1) && s[0] == 0, "... so B takes it all");
	TAP_IS_INT(mlde_answer_scores(c, 6, s), 0, "n = 6: E counts");
	TAP_OK(s[4] > 0 && s[5] == 0 && near(s[0] + s[1] + s[2] + s[3] + s[4] + s[5], 1),
	       "... E gets its share, F 0");
	TAP_OK(jv_get_kind(c) == JV_KIND_OBJECT, "the choice is borrowed");
	jv_free(c);

	/* vLLM with logprobs=true, top_logprobs=3, its answer a bare letter
	 * left out of its own top list (a server may do so) */
	c = choice_of("{\"logprobs\":{\"content\":[{\"token\":\"(\",\"logprob\":0,"
		      "\"top_logprobs\":[{\"token\":\"(\",\"logprob\":0}]},"
		      "{\"token\":\"C\",\"logprob\":-0.2231435513,\"top_logprobs\":["
		      "{\"token\":\"A\",\"logprob\":-2.302585093},"
		      "{\"token\":\"D\",\"logprob\":-9999.0}]}]}}");
	TAP_IS_INT(mlde_answer_scores(c, 4, s), 0, "the letter after \"(\"; its own token counted");
	TAP_OK(near(s[2], 0.8 / 0.9) && near(s[0], 0.1 / 0.9) && s[1] == 0 && s[3] < 1e-300,
	       "C 0.8 and A 0.1 normalised; vLLM's -9999 is 0 (%.6f %.6f)", s[2], s[0]);
	jv_free(c);

	c = choice_of("{\"logprobs\":{\"content\":[{\"token\":\"**\",\"logprob\":0,\"top_logprobs\":[]},"
		      "{\"token\":\"B.\",\"logprob\":-0.1,\"top_logprobs\":["
		      "{\"token\":\"B.\",\"logprob\":-0.1},{\"token\":\"b\",\"logprob\":-1}]}]}}");
	TAP_IS_INT(mlde_answer_scores(c, 4, s), 0, "\"B.\" after \"**\"");
	TAP_OK(near(s[1], 1), "lowercase b is not a letter token");
	jv_free(c);

	c = choice_of("{\"logprobs\":{\"content\":[{\"token\":\"B\",\"logprob\":-0.1}]}}");
	TAP_IS_INT(mlde_answer_scores(c, 4, s), -1, "no top_logprobs: -1");
	TAP_OK(s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0, "... and the scores are 0");
	jv_free(c);

	c = choice_of("{\"logprobs\":{\"content\":[{\"token\":\"The\",\"logprob\":-0.1,"
		      "\"top_logprobs\":[{\"token\":\"A\",\"logprob\":-2}]},"
		      "{\"token\":\" square\",\"logprob\":-0.1,\"top_logprobs\":[]}]}}");
	TAP_IS_INT(mlde_answer_scores(c, 4, s), -1, "no token of the reply is a letter: -1");
	jv_free(c);

	/* "A square, so B": the article's token is no answer */
	c = choice_of("{\"logprobs\":{\"content\":[{\"token\":\"A\",\"logprob\":-0.1,"
		      "\"top_logprobs\":[{\"token\":\"A\",\"logprob\":-0.1}]},"
		      "{\"token\":\" square\",\"logprob\":-0.1,\"top_logprobs\":[]},"
		      "{\"token\":\",\",\"logprob\":-0.1,\"top_logprobs\":[]},"
		      "{\"token\":\" B\",\"logprob\":-0.1,\"top_logprobs\":["
		      "{\"token\":\" B\",\"logprob\":-0.1},{\"token\":\" A\",\"logprob\":-2.4}]}]}}");
	TAP_IS_INT(mlde_answer_scores(c, 4, s), 0, "\"A square, B\": scores at B");
	TAP_OK(s[1] > 0.9 && s[0] > 0.05, "... not at the article (A %.4f B %.4f)", s[0], s[1]);
	jv_free(c);
	c = choice_of("{\"logprobs\":{\"content\":[{\"token\":\"I\",\"logprob\":-0.1,"
		      "\"top_logprobs\":[{\"token\":\"I\",\"logprob\":-0.1}]},"
		      "{\"token\":\"'m\",\"logprob\":-0.1,\"top_logprobs\":[]}]}}");
	TAP_IS_INT(mlde_answer_scores(c, 10, s), -1, "\"I'm\": the pronoun is no letter of 10");
	jv_free(c);

	c = choice_of("{\"logprobs\":{\"content\":[{\"token\":\"A\",\"logprob\":\"x\","
		      "\"top_logprobs\":[{\"token\":\"A\",\"logprob\":\"x\"},7,null]}]}}");
	TAP_IS_INT(mlde_answer_scores(c, 4, s), -1, "logprobs that are not numbers: -1");
	jv_free(c);

	{
		static const char *const unusable[] = {
			"{\"logprobs\":null}", "{}", "{\"logprobs\":{\"content\":null}}",
			"{\"logprobs\":{\"content\":[]}}", "{\"logprobs\":{\"content\":[1,\"B\",[]]}}",
			"{\"logprobs\":[1]}", "[]", "\"B\"",
		};

		for (size_t i = 0; i < sizeof unusable / sizeof unusable[0]; i++) {
			c = choice_of(unusable[i]);
			TAP_IS_INT(mlde_answer_scores(c, 4, s), -1, "unusable: %s", unusable[i]);
			jv_free(c);
		}
	}
	c = choice_of(answer_b);
	TAP_IS_INT(mlde_answer_scores(c, 0, s), -1, "n = 0: -1");
	jv_free(c);
}

/* The real response of OpenAI's API reference (logprobs null): the choice
 * carries no scores.  MLDE_FIXTURES points at tests/fixtures. */
static void real_response(void)
{
	const char *dir = getenv("MLDE_FIXTURES");
	char path[4096];
	jv file, choice;
	double s[4];

	if (!dir) {
		printf("ok %d - # SKIP MLDE_FIXTURES not set\n", ++tap_count);
		return;
	}
	snprintf(path, sizeof path, "%s/formats/openai_chat_completion_response.json", dir);
	file = jv_load_file(path, 0);
	if (!jv_is_valid(file)) {
		TAP_OK(0, "read %s", path);
		jv_free(file);
		return;
	}
	choice = jv_array_get(jv_object_get(jv_array_get(file, 0), jv_string("choices")), 0);
	TAP_IS_INT(mlde_answer_scores(choice, 4, s), -1,
		   "OpenAI's reference response (logprobs null): no scores");
	{
		jv msg = jv_object_get(jv_object_get(jv_copy(choice), jv_string("message")),
				       jv_string("content"));
		const char *text = jv_string_value(msg);
		mlde_answer_rule rule;

		TAP_IS_INT(mlde_answer_extract(text, strlen(text), shapes, 4, &rule), -1,
			   "its prose reply (\"The image shows a wooden boardwalk...\") names no option");
		TAP_IS_INT(rule, MLDE_ANSWER_NONE, "... rule none");
		jv_free(msg);
	}
	jv_free(choice);
}

int main(void)
{
	extraction_cases();
	text_rules();
	hostile_bytes();
	rule_names();
	scores();
	real_response();
	return TAP_DONE();
}
