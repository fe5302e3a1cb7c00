/* reply.c - reading generator replies.  The format is the original
 * pipeline's,
 *
 *     Question: ...
 *     Choices: (A) ... (B) ... (C) ... (D) ...
 *     Answer: The answer is (B): ....
 *     Explanation: ...
 *
 * read leniently (labels in any case, with markdown around them,
 * Explanation(s) / Reason / Rationale, choices on one line or one a line,
 * marked (A), A. or A)), then checked strictly: every way a reply can be
 * unusable has its own reason. */
#include "gen/reply.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "io/jsonl.h"

enum field { F_QUESTION, F_CHOICES, F_ANSWER, F_EXPLANATION, F_N };

static const struct { const char *word; enum field f; } labels[] = {
	{ "question", F_QUESTION },       { "choices", F_CHOICES },
	{ "choice", F_CHOICES },          { "options", F_CHOICES },
	{ "answer", F_ANSWER },           { "correct answer", F_ANSWER },
	{ "explanations", F_EXPLANATION }, { "explanation", F_EXPLANATION },
	{ "reasons", F_EXPLANATION },     { "reasoning", F_EXPLANATION },
	{ "reason", F_EXPLANATION },      { "rationales", F_EXPLANATION },
	{ "rationale", F_EXPLANATION },
};

/* A field's text: [start, end) of the reply. */
typedef struct span {
	const char *start, *end;
} span;

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Skip markdown decoration at the start of a line: blanks, '*', '#', '>', '_'. */
static const char *skip_decoration(const char *p, const char *end)
{
	while (p < end && (blank(*p) || *p == '*' || *p == '#' || *p == '>' || *p == '_'))
		p++;
	return p;
}

/* Does the line at p start with a label?  Returns the field (and where its
 * text begins, after the colon and any decoration) or -1. */
static int label_at(const char *p, const char *eol, const char **text)
{
	p = skip_decoration(p, eol);
	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
		size_t n = strlen(labels[i].word);
		const char *q = p + n;

		if ((size_t)(eol - p) < n || strncasecmp(p, labels[i].word, n) != 0)
			continue;
		while (q < eol && (*q == ' ' || *q == '*' || *q == '_'))
			q++;
		if (q >= eol || *q != ':')
			continue;
		q++;
		while (q < eol && (*q == ' ' || *q == '\t' || *q == '*' || *q == '_'))
			q++;
		*text = q;
		return (int)labels[i].f;
	}
	return -1;
}

/* Split the reply into fields.  The first question's fields only: a second
 * "Question:" ends the reply. */
static void find_fields(const char *s, const char *end, span f[F_N])
{
	int current = -1;

	/* state: f[current] runs from its label to the end until the next label */
	for (const char *line = s; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line)), *text;
		int lab;

		if (!eol)
			eol = end;
		lab = label_at(line, eol, &text);
		if (lab >= 0 && f[lab].start) {
			if (lab == F_QUESTION)
				break;
			lab = -1;  /* a repeated label is text of the current field */
		}
		if (lab >= 0) {
			if (current >= 0)
				f[current].end = line;
			current = lab;
			f[lab].start = text;
			f[lab].end = end;
		}
		line = eol < end ? eol + 1 : end;
	}
}

static char *span_dup(const char *start, const char *end)
{
	size_t n = (size_t)(end - start);
	char *s = memcpy(mlde_xmalloc(n + 1), start, n);

	s[n] = '\0';
	return s;
}

/* A number as boxes write them: optional sign, digits, optional fraction. */
static const char *number_end(const char *p)
{
	const char *q;

	if (*p == '-' || *p == '+')
		p++;
	q = p;
	while (isdigit((unsigned char)*q))
		q++;
	if (*q == '.') {
		q++;
		while (isdigit((unsigned char)*q))
			q++;
	}
	return q > p && !(q == p + 1 && *p == '.') ? q : NULL;
}

/* The end of a [n, n, n, n] box starting at p, or NULL. */
static const char *box_end(const char *p)
{
	if (*p++ != '[')
		return NULL;
	for (int i = 0; i < 4; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!(p = number_end(p)))
			return NULL;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != (i < 3 ? ',' : ']'))
			return NULL;
		p++;
	}
	return p;
}

char *mlde_reply_strip_boxes(char *s)
{
	char *w = s;

	for (const char *r = s; *r;) {
		const char *e = *r == '[' ? box_end(r) : NULL;

		if (e) {
			while (w > s && (w[-1] == ' ' || w[-1] == '\t'))
				w--;  /* the blank before the box goes with it */
			r = e;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	/* squeeze blanks; keep newlines, but not blanks around them */
	w = s;
	for (const char *r = s; *r; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\r') {
			if (w > s && w[-1] != ' ' && w[-1] != '\n')
				*w++ = ' ';
			continue;
		}
		if (*r == '\n' && w > s && w[-1] == ' ')
			w--;
		if (*r == '\n' && w == s)
			continue;
		*w++ = *r;
	}
	while (w > s && blank(w[-1]))
		w--;
	*w = '\0';
	return s;
}

/* One line: newlines become blanks too. */
static char *one_line(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return mlde_reply_strip_boxes(s);
}

/* ---- choices ---- */

enum style { S_PAREN, S_DOT, S_RPAREN, S_COLON, S_N };

/* Is there a marker of letter c in style st at p (within [s, end))?  It
 * must follow a blank or the start; A. A) A: must be followed by a blank.
 * Returns the end of the marker or NULL. */
static const char *marker_at(const char *s, const char *p, const char *end, char c, int st)
{
	if (p > s && !blank(p[-1]))
		return NULL;
	if (st == S_PAREN)
		return end - p >= 3 && p[0] == '(' && p[1] == c && p[2] == ')' ? p + 3 : NULL;
	if (end - p < 2 || p[0] != c || p[1] != ".):"[st - 1])
		return NULL;
	return p + 2 == end || blank(p[2]) ? p + 2 : NULL;
}

/* Split [s, end) at markers A, B, C ... of one style (the style of the first
 * A found).  Returns how many; *first is where marker A starts (or end). */
static int split_choices(const char *s, const char *end, span out[27], const char **first)
{
	const char *at = NULL, *mend = NULL;
	char base = 'A';
	int st = -1, n = 0;

	for (int pass = 0; pass < 2 && !at; pass++)
		for (const char *p = s; p < end && !at; p++)
			for (int k = 0; k < S_N; k++)
				if ((mend = marker_at(s, p, end, pass ? 'a' : 'A', k))) {
					base = pass ? 'a' : 'A';
					at = p;
					st = k;
					break;
				}
	*first = at ? at : end;
	if (!at)
		return 0;
	for (char c = base; mend && n < 26; c++) {
		const char *next = NULL, *nend = NULL;

		for (const char *p = mend; p < end && !next; p++)
			if ((nend = marker_at(s, p, end, (char)(c + 1), st)))
				next = p;
		out[n].start = mend;
		out[n].end = next ? next : end;
		n++;
		mend = next ? nend : NULL;
	}
	return n;
}

static void clean_choice(char *c)
{
	size_t n;

	one_line(c);
	n = strlen(c);
	/* a trailing period goes, as in the original; so do list punctuation */
	while (n > 0 && (c[n - 1] == ',' || c[n - 1] == ';'))
		c[--n] = '\0';
	if (n > 0 && c[n - 1] == '.' && !(n > 1 && c[n - 2] == '.'))
		c[--n] = '\0';
	while (n > 0 && blank(c[n - 1]))
		c[--n] = '\0';
}

/* ---- the answer ---- */

static bool equal_text(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* The answer's letter as an index (may be past the choices), or -1;
 * *tail: the text after a "(B):" marker, for the mismatch check. */
static int answer_index(char *a, char **options, int n, const char **tail)
{
	const char *p;

	*tail = NULL;
	/* "(B)" anywhere: the original's "The answer is (B): ..." */
	for (p = a; *p; p++)
		if (p[0] == '(' && p[1] && p[2] == ')' && (p[1] >= 'A' && p[1] <= 'Z')) {
			*tail = p + 3;
			return p[1] - 'A';
		}
	/* "answer is B" / "answer: B" */
	for (p = a; *p; p++) {
		if (strncasecmp(p, "answer is ", 10) == 0 || strncasecmp(p, "answer: ", 8) == 0) {
			const char *q = p + (p[6] == ':' ? 8 : 10);
			if (*q >= 'A' && *q <= 'Z' && !isalnum((unsigned char)q[1]))
				return *q - 'A';
		}
	}
	/* "B", "B.", "B)", "B:" at the start, alone or before text */
	p = a;
	if (*p >= 'A' && *p <= 'Z' &&
	    (!p[1] || ((p[1] == '.' || p[1] == ')' || p[1] == ':') && (!p[2] || blank(p[2]))))) {
		*tail = p[1] ? p + 2 : NULL;
		return *p - 'A';
	}
	/* the text of one choice */
	{
		char *t = mlde_xstrdup(a);
		int found = -1;

		clean_choice(t);
		for (int i = 0; i < n; i++)
			if (equal_text(t, options[i]))
				found = i;
		free(t);
		if (found >= 0)
			return found;
	}
	/* a lower-case letter only when it is all there is: "b", "(b)", "b." */
	if (*p == '(' && p[1] >= 'a' && p[1] <= 'z' && p[2] == ')' && !p[3])
		return p[1] - 'a';
	if (*p >= 'a' && *p <= 'z' && (!p[1] || (strchr(".):", p[1]) && !p[2])))
		return *p - 'a';
	return -1;
}

/* ---- validation ---- */

static int reject(mlde_reply *r, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int reject(mlde_reply *r, const char *reason, const char *fmt, ...)
{
	va_list ap;

	r->reason = reason;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof r->detail, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

/* Does the word "skip" (not "skipping") start at p? */
static bool skip_word(const char *p, const char *end)
{
	return end - p >= 4 && strncasecmp(p, "skip", 4) == 0 &&
	       (end - p == 4 || !isalpha((unsigned char)p[4]));
}

static bool has_skip_word(const char *s, const char *end)
{
	for (const char *p = s; p + 4 <= end; p++)
		if (strncmp(p, "Skip", 4) == 0 && (p == s || !isalpha((unsigned char)p[-1])) &&
		    skip_word(p, end))
			return true;
	return false;
}

/* Text the prompt forbids: box talk, coordinates, the image description. */
static int check_mentions(mlde_reply *r, const char *what, const char *s)
{
	static const struct { const char *word, *reason; } banned[] = {
		{ "bounding box", MLDE_REJECT_BBOX }, { "bounding-box", MLDE_REJECT_BBOX },
		{ "bbox", MLDE_REJECT_BBOX },         { "coordinate", MLDE_REJECT_COORDS },
		{ "description", MLDE_REJECT_DESCRIPTION },
	};

	for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
		if (s && find_ci(s, banned[i].word))
			return reject(r, banned[i].reason, "the %s mentions '%s'", what,
				      banned[i].word);
	return 0;
}

int mlde_reply_parse(const char *text, size_t len, mlde_reply *r)
{
	const char *end = text + len, *first_choice, *start, *tail;
	span f[F_N] = { { 0 } }, ch[27];
	int n;

	memset(r, 0, sizeof *r);
	r->answer = -1;
	start = skip_decoration(text, end);
	while (start < end && (*start == '"' || *start == '\''))
		start++;
	if (skip_word(start, end))
		return reject(r, MLDE_REJECT_SKIP, "the reply begins with Skip");
	find_fields(text, end, f);
	if (!f[F_QUESTION].start) {
		if (has_skip_word(text, end))
			return reject(r, MLDE_REJECT_SKIP, "no question, and the reply says Skip");
		return reject(r, MLDE_REJECT_NO_QUESTION, "no 'Question:' line");
	}
	if (skip_word(f[F_QUESTION].start, f[F_QUESTION].end))
		return reject(r, MLDE_REJECT_SKIP, "the question is Skip");

	/* choices: their own field, or lines of the question's */
	if (f[F_CHOICES].start) {
		n = split_choices(f[F_CHOICES].start, f[F_CHOICES].end, ch, &first_choice);
		r->question = span_dup(f[F_QUESTION].start, f[F_QUESTION].end);
	} else {
		n = split_choices(f[F_QUESTION].start, f[F_QUESTION].end, ch, &first_choice);
		r->question = span_dup(f[F_QUESTION].start, first_choice);
	}
	one_line(r->question);
	if (!*r->question)
		return reject(r, MLDE_REJECT_NO_QUESTION, "the question is empty");
	if (skip_word(r->question, r->question + strlen(r->question)))
		return reject(r, MLDE_REJECT_SKIP, "the question is Skip");
	if (n < MLDE_OPTIONS_MIN)
		return reject(r, MLDE_REJECT_FEW_CHOICES, "%d choice%s", n, n == 1 ? "" : "s");
	if (n > MLDE_OPTIONS_MAX)
		return reject(r, MLDE_REJECT_MANY_CHOICES, "%d choices (at most %d)", n,
			      MLDE_OPTIONS_MAX);
	for (int i = 0; i < n; i++) {
		r->options[i] = span_dup(ch[i].start, ch[i].end);
		r->noptions++;
		clean_choice(r->options[i]);
		if (!*r->options[i])
			return reject(r, MLDE_REJECT_EMPTY_CHOICE, "choice (%c) is empty", 'A' + i);
	}
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (equal_text(r->options[i], r->options[j]))
				return reject(r, MLDE_REJECT_DUPLICATE, "(%c) and (%c) are both '%.80s'",
					      'A' + i, 'A' + j, r->options[i]);

	if (!f[F_ANSWER].start)
		return reject(r, MLDE_REJECT_NO_ANSWER, "no 'Answer:' line");
	{
		char *a = one_line(span_dup(f[F_ANSWER].start, f[F_ANSWER].end));

		r->answer = answer_index(a, r->options, n, &tail);
		if (r->answer < 0) {
			free(a);
			return reject(r, MLDE_REJECT_NO_ANSWER, "no answer letter");
		}
		if (r->answer >= n) {
			int k = r->answer;
			free(a);
			r->answer = -1;
			return reject(r, MLDE_REJECT_BAD_ANSWER, "(%c) names no choice (%d choices)",
				      'A' + k, n);
		}
		if (tail) {
			char *t = mlde_xstrdup(tail + strspn(tail, ": "));

			clean_choice(t);
			for (int i = 0; i < n; i++)
				if (i != r->answer && equal_text(t, r->options[i]) &&
				    !equal_text(t, r->options[r->answer])) {
					int k = r->answer;
					free(t);
					free(a);
					r->answer = -1;
					return reject(r, MLDE_REJECT_MISMATCH,
						      "(%c) is given with the text of (%c)", 'A' + k,
						      'A' + i);
				}
			free(t);
		}
		free(a);
	}
	if (f[F_EXPLANATION].start) {
		r->rationale = mlde_reply_strip_boxes(span_dup(f[F_EXPLANATION].start,
							       f[F_EXPLANATION].end));
		if (!*r->rationale) {
			free(r->rationale);
			r->rationale = NULL;
		}
	}
	if (check_mentions(r, "question", r->question) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (check_mentions(r, "choices", r->options[i]) < 0)
			return -1;
	if (check_mentions(r, "explanation", r->rationale) < 0)
		return -1;
	return 0;
}

void mlde_reply_free(mlde_reply *r)
{
	free(r->question);
	for (int i = 0; i < r->noptions; i++)
		free(r->options[i]);
	free(r->rationale);
	memset(r, 0, sizeof *r);
}

/* ---- chat completion bodies ---- */

static double number_at(jv obj, const char *key, double dflt)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : dflt;

	jv_free(v);
	return d;
}

int mlde_reply_completion_text(jv body, jv *text, double *prompt_tokens,
			       double *completion_tokens, char *why, size_t whylen)
{
	jv choices, first, msg, content, usage;

	if (jv_get_kind(body) != JV_KIND_OBJECT) {
		snprintf(why, whylen, "the body is not a JSON object");
		return -1;
	}
	choices = jv_object_get(jv_copy(body), jv_string("choices"));
	if (jv_get_kind(choices) != JV_KIND_ARRAY || jv_array_length(jv_copy(choices)) < 1) {
		jv_free(choices);
		snprintf(why, whylen, "no 'choices' in the body");
		return -1;
	}
	first = jv_array_get(choices, 0);
	msg = jv_get_kind(first) == JV_KIND_OBJECT
		      ? jv_object_get(jv_copy(first), jv_string("message")) : jv_invalid();
	jv_free(first);
	content = jv_get_kind(msg) == JV_KIND_OBJECT
			  ? jv_object_get(jv_copy(msg), jv_string("content")) : jv_invalid();
	jv_free(msg);
	if (jv_get_kind(content) != JV_KIND_STRING) {
		jv_free(content);
		snprintf(why, whylen, "choices[0].message.content is not a string");
		return -1;
	}
	usage = jv_object_get(jv_copy(body), jv_string("usage"));
	if (jv_get_kind(usage) == JV_KIND_OBJECT) {
		if (prompt_tokens)
			*prompt_tokens += number_at(usage, "prompt_tokens", 0.0);
		if (completion_tokens)
			*completion_tokens += number_at(usage, "completion_tokens", 0.0);
	}
	jv_free(usage);
	*text = content;
	return 0;
}

int mlde_reply_check_completion(const char *body, size_t len, char *why, size_t whylen)
{
	jv v, text;
	int rc;

	if (len > 0x7fffffff) {
		snprintf(why, whylen, "too long");
		return -1;
	}
	v = jv_parse_sized(body, (int)len);
	if (!jv_is_valid(v)) {
		mlde_jv_parse_message(v, why, whylen);
		return -1;
	}
	rc = mlde_reply_completion_text(v, &text, NULL, NULL, why, whylen);
	if (rc == 0)
		jv_free(text);
	jv_free(v);
	return rc;
}
