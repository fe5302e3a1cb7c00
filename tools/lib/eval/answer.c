/* answer.c - the option a served model's reply names, by the rules of
 * answer.h in their documented order, and the option letters'
 * probabilities from a choice's log-probabilities.  Replies are bytes: a
 * NUL or invalid UTF-8 is just a byte that is neither a letter nor a blank,
 * and only ASCII is ever compared. */
#include "eval/answer.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* The letters A.. of at most this many options are answers. */
#define LETTERS 26

/* ASCII classes of our own: <ctype.h> depends on the locale and is
 * undefined for the negative chars of UTF-8 bytes. */
static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alnum(unsigned char c)
{
	return is_upper(c) || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static unsigned char to_lower(unsigned char c)
{
	return is_upper(c) ? (unsigned char)(c - 'A' + 'a') : c;
}

/* A byte range: the reply, or the part of it a rule looks at. */
typedef struct span {
	const unsigned char *p;
	size_t n;
} span;

/* s without blanks at either end and without one final period: the form
 * the whole-reply rules compare. */
static span trim(span s)
{
	while (s.n && is_blank(s.p[0]))
		s.p++, s.n--;
	while (s.n && is_blank(s.p[s.n - 1]))
		s.n--;
	if (s.n && s.p[s.n - 1] == '.')
		s.n--;
	while (s.n && is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* The option index of the uppercase letter c among n options, or -1. */
static int option_of(unsigned char c, size_t n)
{
	return is_upper(c) && (size_t)(c - 'A') < n ? c - 'A' : -1;
}

/* Claims a rule has read: a bit per option letter. */
typedef unsigned long claims;

/* The one option claimed, -1 for none, -2 for two or more. */
static int claimed(claims c)
{
	int found = -1;

	for (int i = 0; i < LETTERS; i++)
		if (c & 1UL << i) {
			if (found >= 0)
				return -2;
			found = i;
		}
	return found;
}

/* Rule LETTER: the whole reply is one letter, either case, perhaps with a
 * final period ("B", "b.", " B ").  Only here is a lowercase letter read:
 * inside a sentence "a" is the article. */
static int bare_letter(span s, size_t n)
{
	unsigned char c;

	s = trim(s);
	if (s.n != 1)
		return -1;
	c = s.p[0];
	return option_of(c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c, n);
}

/* Whether a and b (b of len bytes, NUL-free) are equal, ASCII case ignored
 * when fold. */
static bool same_text(span a, const unsigned char *b, size_t len, bool fold)
{
	if (a.n != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (fold ? to_lower(a.p[i]) != to_lower(b[i]) : a.p[i] != b[i])
			return false;
	return true;
}

static bool is_wrapper(unsigned char c)
{
	return c == '*' || c == '"' || c == '`';
}

/* s trimmed, and out of the markup a reply in words may wear: bold,
 * quotes, code ("**a square**", "\"a square.\""). */
static span unwrap(span s)
{
	size_t was;

	do {
		was = s.n;
		s = trim(s);
		while (s.n && is_wrapper(s.p[0]))
			s.p++, s.n--;
		while (s.n && is_wrapper(s.p[s.n - 1]))
			s.n--;
	} while (s.n != was);
	return s;
}

/* Rule TEXT: the options whose text is the whole reply, both trimmed and
 * unwrapped, exactly when !fold, else ignoring ASCII case.  An empty
 * option matches nothing. */
static claims text_matches(span s, const char *const *options, size_t n, bool fold)
{
	claims c = 0;

	s = unwrap(s);
	if (!options || !s.n)
		return 0;
	for (size_t i = 0; i < n && i < LETTERS; i++) {
		span o;

		if (!options[i])
			continue;
		o = unwrap((span){ (const unsigned char *)options[i], strlen(options[i]) });
		if (o.n && same_text(s, o.p, o.n, fold))
			c |= 1UL << i;
	}
	return c;
}

/* Whether position i of s starts a word: the reply's start, or after a
 * blank or an opening mark.  "U.S.A." and "vitamin-A" hold no claim. */
static bool word_start(span s, size_t i)
{
	unsigned char prev;

	if (i == 0)
		return true;
	prev = s.p[i - 1];
	return is_blank(prev) || prev == '(' || prev == '[' || prev == '*' || prev == '"' ||
	       prev == '\'' || prev == '`';
}

/* Whether position i of s ends a word: the end, or not a letter or digit. */
static bool word_end(span s, size_t i)
{
	return i >= s.n || !is_alnum(s.p[i]);
}

/* Whether s holds w at i, ASCII case ignored (w in lowercase), and a word
 * ends there when w ends in a letter. */
static bool word_at(span s, size_t i, const char *w)
{
	size_t len = strlen(w);

	if (i + len > s.n || (i > 0 && is_alnum(s.p[i - 1]) && is_alnum((unsigned char)w[0])))
		return false;
	for (size_t k = 0; k < len; k++)
		if (to_lower(s.p[i + k]) != (unsigned char)w[k])
			return false;
	return !is_alnum((unsigned char)w[len - 1]) || word_end(s, i + len);
}

/* Past blanks and markdown emphasis. */
static size_t skip_marks(span s, size_t i)
{
	while (i < s.n && (is_blank(s.p[i]) || s.p[i] == '*' || s.p[i] == '_'))
		i++;
	return i;
}

/* Past the words of phrase (blank-separated, lowercase) at *i, and the
 * marks after it: true when they are all there. */
static bool skip_phrase(span s, size_t *i, const char *phrase)
{
	size_t j = *i;

	while (*phrase) {
		char w[16];
		size_t len = strcspn(phrase, " ");

		if (len >= sizeof w)
			return false;
		memcpy(w, phrase, len);
		w[len] = '\0';
		if (!word_at(s, j, w))
			return false;
		j = skip_marks(s, j + len);
		phrase += len;
		phrase += *phrase == ' ';
	}
	*i = j;
	return true;
}

/* Past the first of phrases that is at *i. */
static bool skip_any(span s, size_t *i, const char *const *phrases)
{
	for (; *phrases; phrases++)
		if (skip_phrase(s, i, *phrases))
			return true;
	return false;
}

/* The options a reply is read against: their texts (NULL: none) and
 * their count, at most LETTERS. */
typedef struct choice_set {
	const char *const *texts;
	size_t n;
} choice_set;

/* Whether option o's text (blanks trimmed) begins s at i, any case, and
 * a word ends after it. */
static bool text_begins(span s, size_t i, const choice_set *cs, size_t o)
{
	span t;

	if (!cs->texts || !cs->texts[o])
		return false;
	t = trim((span){ (const unsigned char *)cs->texts[o], strlen(cs->texts[o]) });
	if (!t.n || i + t.n > s.n || !word_end(s, i + t.n))
		return false;
	for (size_t k = 0; k < t.n; k++)
		if (to_lower(s.p[i + k]) != to_lower(t.p[k]))
			return false;
	return true;
}

/* Whether the capital at i is a word rather than a letter: the "I" of
 * "I'm" or "I think", or the start of another option's text ("Answer: A
 * square" when B is "a square"). */
static bool is_word(span s, size_t i, const choice_set *cs)
{
	int own = option_of(s.p[i], cs->n);

	if (s.p[i] == 'I' && i + 1 < s.n &&
	    (s.p[i + 1] == '\'' ||
	     (i + 2 < s.n && is_blank(s.p[i + 1]) && s.p[i + 2] >= 'a' && s.p[i + 2] <= 'z')))
		return true;
	if (own >= 0 && text_begins(s, i, cs, (size_t)own))
		return false;
	for (size_t o = 0; o < cs->n; o++)
		if (text_begins(s, i, cs, o))
			return true;
	return false;
}

/* The letter stated at *i, perhaps bracketed or quoted ("B", "(B)",
 * "'B'"), *i moved past it; or -1. */
static int stated_letter(span s, size_t *i, const choice_set *cs)
{
	size_t j = *i;
	int opt;

	if (j < s.n && (s.p[j] == '(' || s.p[j] == '[' || s.p[j] == '"' || s.p[j] == '\''))
		j++;
	if (j >= s.n || (opt = option_of(s.p[j], cs->n)) < 0 || !word_end(s, j + 1) ||
	    is_word(s, j, cs))
		return -1;
	j++;
	if (j < s.n && (s.p[j] == ')' || s.p[j] == ']' || s.p[j] == '"' || s.p[j] == '\''))
		j++;
	*i = j;
	return opt;
}

/* The letters stated from i on: one, or a list ("B or C", "A, B and D"),
 * which states each of them: a hedge, not an answer. */
static claims stated_list(span s, size_t i, const choice_set *cs)
{
	static const char *const joins[] = { ",", "/", "or", "and", NULL };
	claims c = 0;
	int opt;

	while ((opt = stated_letter(s, &i, cs)) >= 0) {
		c |= 1UL << opt;
		i = skip_marks(s, i);
		if (!skip_any(s, &i, joins))
			break;
	}
	return c;
}

/* Form tier 1, a stated answer:
 * - "answer", "option" or "choice", then ":", "is", "would be", "should
 *   be" or "must be", then the letter, perhaps bold, quoted or bracketed,
 *   perhaps after "option", "choice" or "letter": "Answer: B", "The
 *   answer is (B)", "**Answer:** B", "The correct option is D";
 * - "\boxed{B}" (LaTeX, reasoning models) and "<answer>B</answer>";
 * - "I choose B", "I'd go with option C" and the like;
 * - the letter, then "is correct", "is the answer", "is the correct
 *   answer" and the like: "(B) is the correct answer".
 * "The answer is not A" states nothing. */
static claims stated(span s, const choice_set *cs)
{
	static const char *const keys[] = { "answer", "option", "choice", NULL };
	static const char *const links[] = { ":", "is :", "is", "would be", "should be",
					     "must be", "=", NULL };
	static const char *const nouns[] = { "option", "choice", "letter", NULL };
	static const char *const tags[] = { "\\boxed{\\text{", "\\boxed{\\mathrm{", "\\boxed{",
					    "<answer>", NULL };
	static const char *const verbs[] = { "i choose", "i chose", "i pick", "i select",
					     "i would choose", "i would pick", "i would go with",
					     "i'd choose", "i'd pick", "i'd go with", "i'll go with",
					     "i will go with", "i go with", NULL };
	static const char *const verdicts[] = {
		"is correct", "is the correct", "is right", "is the right", "is the best",
		"is the answer", NULL,
	};
	claims c = 0;

	for (size_t i = 0; i < s.n; i++) {
		size_t j = i;

		if (skip_any(s, &j, keys)) {
			if (skip_any(s, &j, links)) {
				skip_any(s, &j, nouns);
				c |= stated_list(s, j, cs);
			}
		} else if (skip_any(s, &j, tags)) {
			c |= stated_list(s, j, cs);
		} else if (skip_any(s, &j, verbs)) {
			skip_any(s, &j, nouns);
			c |= stated_list(s, j, cs);
		} else if (word_start(s, i) && option_of(s.p[i], cs->n) >= 0) {
			int opt = stated_letter(s, &j, cs);

			j = skip_marks(s, j);
			if (opt >= 0 && skip_any(s, &j, verdicts))
				c |= 1UL << opt;
		}
	}
	return c;
}

/* Form tier 2, a bold letter: "**B**", "**B.", "**B)", "**B:", "**(B)**"
 * (so "**B. a square**" too). */
static claims bold(span s, const choice_set *cs)
{
	claims c = 0;

	for (size_t i = 0; i + 2 < s.n; i++) {
		size_t j = i + 2;
		int opt;

		if (s.p[i] != '*' || s.p[i + 1] != '*' || (i > 0 && s.p[i - 1] == '*'))
			continue;
		if (s.p[j] == '(')
			j++;
		if (j + 1 >= s.n || (opt = option_of(s.p[j], cs->n)) < 0)
			continue;
		if (s.p[j + 1] == '*' || s.p[j + 1] == '.' || s.p[j + 1] == ')' || s.p[j + 1] == ':')
			c |= 1UL << opt;
	}
	return c;
}

/* Whether the letter at i is alone on its line: only blanks before it
 * on the line, and after it at most a period or a bracket, then blanks to
 * the line's end ("B\nThe shape has four sides").  A list of letters one
 * a line claims them all. */
static bool alone_on_line(span s, size_t i)
{
	size_t j;

	for (j = i; j > 0 && s.p[j - 1] != '\n'; j--)
		if (!is_blank(s.p[j - 1]))
			return false;
	j = i + 1;
	if (j < s.n && (s.p[j] == '.' || s.p[j] == ')'))
		j++;
	for (; j < s.n && s.p[j] != '\n'; j++)
		if (!is_blank(s.p[j]))
			return false;
	return true;
}

/* Whether the letter at i is followed by blanks or a dash, then its own
 * option's text: "B a square", "B - a square". */
static bool before_own_text(span s, size_t i, const choice_set *cs)
{
	size_t j = i + 1;

	if (j >= s.n || !(is_blank(s.p[j]) || s.p[j] == '-'))
		return false;
	while (j < s.n && (is_blank(s.p[j]) || s.p[j] == '-'))
		j++;
	return text_begins(s, j, cs, (size_t)option_of(s.p[i], cs->n));
}

/* Whether the letter at i follows "option", "choice" or "letter" and ends
 * a sentence, a clause or the reply: "Option B", "I go for choice C,". */
static bool named_at_end(span s, size_t i)
{
	static const char *const nouns[] = { "option ", "choice ", "letter " };

	if (i + 1 < s.n && (!s.p[i + 1] || !strchr(".,;!)\n\r", s.p[i + 1])))
		return false;
	for (size_t k = 0; k < 3; k++) {
		size_t len = strlen(nouns[k]);

		if (i >= len && word_at(s, i - len, nouns[k]))
			return true;
	}
	return false;
}

/* Form tier 3, a marked letter at a word's start: "(B)", "[B]", "\"B\"",
 * "'B'", or "B)", "B.", "B:" followed by a blank or the end ("B. a
 * square", "B: a square"); a letter alone on its line; a letter before its
 * own option's text ("B - a square"); "Option B" ending a sentence.  A
 * letter followed by a blank and anything else is a word, not a claim:
 * the article in "A square is shown", the "I" of "I think".  "A.M." holds
 * no claim. */
static claims marked(span s, const choice_set *cs)
{
	static const char pairs[][2] = { { '(', ')' }, { '[', ']' }, { '"', '"' }, { '\'', '\'' },
					 { '`', '`' } };
	claims c = 0;

	for (size_t i = 0; i < s.n; i++) {
		int opt = option_of(s.p[i], cs->n);
		unsigned char prev = i > 0 ? s.p[i - 1] : 0, next = i + 1 < s.n ? s.p[i + 1] : 0;
		bool claim = false;

		if (opt < 0 || !word_start(s, i))
			continue;
		for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++)
			if (prev == (unsigned char)pairs[k][0] && next == (unsigned char)pairs[k][1])
				claim = true;
		if (next == ')' && word_end(s, i + 2))
			claim = true;
		else if ((next == '.' || next == ':') && (i + 2 >= s.n || is_blank(s.p[i + 2])))
			claim = true;
		if (claim || alone_on_line(s, i) || before_own_text(s, i, cs) || named_at_end(s, i))
			c |= 1UL << opt;
	}
	return c;
}

/* Settle one rule's claims: 1 and *answer set when it decided (one option,
 * or AMBIGUOUS with *answer -1), 0 when it claimed nothing. */
static int settle(claims c, mlde_answer_rule found, int *answer, mlde_answer_rule *rule)
{
	int opt = claimed(c);

	if (opt == -1)
		return 0;
	*answer = opt >= 0 ? opt : -1;
	*rule = opt >= 0 ? found : MLDE_ANSWER_AMBIGUOUS;
	return 1;
}

int mlde_answer_extract(const char *reply, size_t len, const char *const *options, size_t n,
			mlde_answer_rule *rule)
{
	span s = { (const unsigned char *)reply, reply ? len : 0 };
	claims (*const forms[])(span, const choice_set *) = { stated, bold, marked };
	choice_set cs;
	mlde_answer_rule ignored;
	int answer = -1;

	if (!rule)
		rule = &ignored;
	*rule = MLDE_ANSWER_NONE;
	if (n > LETTERS)
		n = LETTERS;
	cs = (choice_set){ options, n };
	if ((answer = bare_letter(s, n)) >= 0) {
		*rule = MLDE_ANSWER_LETTER;
		return answer;
	}
	/* The whole reply being one option's text outranks any letter inside
	 * it: "Vitamin A." is option C's text, not a claim of A. */
	if (settle(text_matches(s, options, n, false), MLDE_ANSWER_TEXT, &answer, rule) ||
	    settle(text_matches(s, options, n, true), MLDE_ANSWER_TEXT, &answer, rule))
		return answer;
	/* A stronger tier decides alone: an options list restated before
	 * "Answer: B" claims every letter in tier 3 but only B in tier 1. */
	for (size_t t = 0; t < sizeof forms / sizeof forms[0]; t++)
		if (settle(forms[t](s, &cs), MLDE_ANSWER_FORM, &answer, rule))
			return answer;
	return -1;
}

const char *mlde_answer_rule_name(mlde_answer_rule rule)
{
	switch (rule) {
	case MLDE_ANSWER_NONE:
		return "none";
	case MLDE_ANSWER_AMBIGUOUS:
		return "ambiguous";
	case MLDE_ANSWER_LETTER:
		return "letter";
	case MLDE_ANSWER_FORM:
		return "form";
	case MLDE_ANSWER_TEXT:
		return "text";
	}
	return "none";
}

/* The option whose letter a token is, alone or with blanks and
 * punctuation around it (" B", "B.", "(B", "**B"), or -1.  Only uppercase
 * letters: a lowercase "a" at the answer's position is the article of a
 * reply in words. */
static int token_option(jv token, size_t n)
{
	const unsigned char *p;
	int len, i, j;

	if (jv_get_kind(token) != JV_KIND_STRING)
		return -1;
	p = (const unsigned char *)jv_string_value(token);
	len = jv_string_length_bytes(jv_copy(token));
	for (i = 0; i < len && !is_alnum(p[i]) && p[i] < 0x80; i++)
		;
	for (j = len; j > i && !is_alnum(p[j - 1]) && p[j - 1] < 0x80; j--)
		;
	return j - i == 1 ? option_of(p[i], n) : -1;
}

/* Add one alternative's probability (relative to exp(top)) to scores;
 * -1 when it is not a letter or has no numeric logprob. */
static int add_alternative(jv alt, size_t n, double top, double *scores)
{
	jv token, logprob;
	int opt = -1;

	if (jv_get_kind(alt) != JV_KIND_OBJECT)
		return -1;
	token = jv_object_get(jv_copy(alt), jv_string("token"));
	logprob = jv_object_get(jv_copy(alt), jv_string("logprob"));
	if (jv_get_kind(logprob) == JV_KIND_NUMBER && (opt = token_option(token, n)) >= 0)
		scores[opt] += exp(jv_number_value(logprob) - top);
	else
		opt = -1;
	jv_free(token);
	jv_free(logprob);
	return opt;
}

/* The largest logprob among the letters of alts (borrowed), for a
 * stable exp. */
static double top_logprob(jv alts, size_t n)
{
	double top = -INFINITY;

	jv_array_foreach(alts, i, alt) {
		if (jv_get_kind(alt) == JV_KIND_OBJECT) {
			jv token = jv_object_get(jv_copy(alt), jv_string("token"));
			jv logprob = jv_object_get(jv_copy(alt), jv_string("logprob"));

			if (jv_get_kind(logprob) == JV_KIND_NUMBER && token_option(token, n) >= 0 &&
			    jv_number_value(logprob) > top)
				top = jv_number_value(logprob);
			jv_free(token);
			jv_free(logprob);
		}
		jv_free(alt);
	}
	return top;
}

/* Scores from one content entry (its token a letter): its top_logprobs,
 * and the token itself when the server left it out of them.  0, or -1
 * when no top_logprobs name a letter. */
static int entry_scores(jv entry, size_t n, double *scores)
{
	jv alts = jv_object_get(jv_copy(entry), jv_string("top_logprobs"));
	jv token = jv_object_get(jv_copy(entry), jv_string("token"));
	bool token_seen = false;
	double top, sum = 0;
	int letters = 0;

	if (jv_get_kind(alts) != JV_KIND_ARRAY) {
		jv_free(alts);
		jv_free(token);
		return -1;
	}
	jv_array_foreach(alts, i, alt) {
		jv alt_token = jv_get_kind(alt) == JV_KIND_OBJECT
				       ? jv_object_get(jv_copy(alt), jv_string("token"))
				       : jv_null();

		if (jv_equal(jv_copy(alt_token), jv_copy(token)))
			token_seen = true;
		jv_free(alt_token);
		jv_free(alt);
	}
	if (!token_seen)
		alts = jv_array_append(alts, jv_copy(entry));
	jv_free(token);
	top = top_logprob(alts, n);
	if (isfinite(top)) {
		jv_array_foreach(alts, i, alt) {
			if (add_alternative(alt, n, top, scores) >= 0)
				letters++;
			jv_free(alt);
		}
	}
	jv_free(alts);
	for (size_t i = 0; i < n; i++)
		sum += scores[i];
	if (!letters || !(sum > 0))
		return -1;
	for (size_t i = 0; i < n; i++)
		scores[i] /= sum;
	return 0;
}

/* The token of content entry e (consumed), or null. */
static jv entry_token(jv e)
{
	if (jv_get_kind(e) == JV_KIND_OBJECT)
		return jv_object_get(e, jv_string("token"));
	jv_free(e);
	return jv_null();
}

/* Whether a token "A" or "I" is the article or the pronoun, judged by the
 * token after it (borrowed): " square", " think", "'m". */
static bool token_is_word(jv token, jv next)
{
	const char *t = jv_string_value(token), *u;

	while (*t == ' ')
		t++;
	if ((t[0] != 'A' && t[0] != 'I') || jv_get_kind(next) != JV_KIND_STRING)
		return false;
	u = jv_string_value(next);
	return (u[0] == ' ' && u[1] >= 'a' && u[1] <= 'z') || (t[0] == 'I' && u[0] == '\'');
}

/* The index of the first entry of content (borrowed) whose token is a
 * letter of the options and not a word, or -1. */
static int letter_entry(jv content, size_t letters)
{
	int len = jv_array_length(jv_copy(content)), found = -1;

	for (int i = 0; i < len && found < 0; i++) {
		jv token = entry_token(jv_array_get(jv_copy(content), i));
		jv next = i + 1 < len ? entry_token(jv_array_get(jv_copy(content), i + 1)) : jv_null();

		if (token_option(token, letters) >= 0 && !token_is_word(token, next))
			found = i;
		jv_free(token);
		jv_free(next);
	}
	return found;
}

int mlde_answer_scores(jv choice, size_t n, double *scores)
{
	size_t letters = n < LETTERS ? n : LETTERS;
	jv logprobs, content;
	int rc = -1, at;

	for (size_t i = 0; i < n; i++)
		scores[i] = 0;
	if (!letters || jv_get_kind(choice) != JV_KIND_OBJECT)
		return -1;
	logprobs = jv_object_get(jv_copy(choice), jv_string("logprobs"));
	content = jv_get_kind(logprobs) == JV_KIND_OBJECT
			  ? jv_object_get(jv_copy(logprobs), jv_string("content"))
			  : jv_null();
	if (jv_get_kind(content) == JV_KIND_ARRAY && (at = letter_entry(content, letters)) >= 0) {
		jv entry = jv_array_get(jv_copy(content), at);

		rc = entry_scores(entry, letters, scores);
		jv_free(entry);
	}
	jv_free(content);
	jv_free(logprobs);
	if (rc < 0)
		for (size_t i = 0; i < n; i++)
			scores[i] = 0;
	return rc;
}
