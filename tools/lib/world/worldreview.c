/* worldreview.c - judging an item by the world's annotations.  The question is
 * read back against the world's templates (its own type first), the object
 * phrases in it are resolved against the scene rebuilt from the pool record,
 * the true answer comes from the world's geometry, and each option is read
 * as a value of the answer's domain, leniently (the ways an LLM words "2",
 * "red" or "top left").  What matches no template is not judged. */
#include "world/worldreview.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "record/record.h"
#include "world/world.h"

#define SLOT 64
#define MAXOPT MLDE_OPTIONS_MAX
/* an option the world cannot read; counting's "0" is -1 */
#define NO_VALUE (-1000)

/* What a question was read as. */
typedef struct reading {
	int type, form;
	char a[SLOT], b[SLOT], c[SLOT];  /* the text in the holes, "" if none */
} reading;

/* A phrase "the [size] [color] shape-name|object|shape". */
typedef struct phrase {
	int size, color, shape;  /* -1: not said */
} phrase;

static int give(mlde_world_verdict *rv, const char *v, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int give(mlde_world_verdict *rv, const char *v, const char *reason, const char *fmt, ...)
{
	va_list ap;

	rv->verdict = v;
	rv->reason = reason;
	va_start(ap, fmt);
	vsnprintf(rv->detail, sizeof rv->detail, fmt, ap);
	va_end(ap);
	return strcmp(v, MLDE_WORLD_CORRECT) == 0 ? 0 : strcmp(v, MLDE_WORLD_WRONG) == 0 ? 1 : 2;
}

/* ---- coordinates ---- */

/* A decimal fraction (0.25, .5), "x=" / "y=", or a pair of integers in
 * brackets "(12, 30)": the world's own text has none of them. */
static const char *coordinates_in(const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '.' && isdigit((unsigned char)p[1]) &&
		    (p == s || isdigit((unsigned char)p[-1]) || p[-1] == ' ' || p[-1] == '('))
			return p;
		if ((*p == 'x' || *p == 'y') && (p == s || !isalpha((unsigned char)p[-1]))) {
			const char *q = p + 1;

			while (*q == ' ')
				q++;
			if (*q == '=' || (*q == ':' && isdigit((unsigned char)q[1 + (q[1] == ' ')])))
				return p;
		}
		if (*p == '(' || *p == '[') {
			const char *q = p + 1;
			int nums = 0;

			for (;;) {
				while (*q == ' ')
					q++;
				if (!isdigit((unsigned char)*q))
					break;
				while (isdigit((unsigned char)*q))
					q++;
				nums++;
				while (*q == ' ')
					q++;
				if (*q != ',')
					break;
				q++;
			}
			if (nums >= 2 && (*q == ')' || *q == ']'))
				return p;
		}
	}
	return NULL;
}

/* ---- reading the question ---- */

/* Does question q (from its start) fit template t, holes filled?  Literal
 * text compares without case; a hole takes one or more characters. */
static bool fits(const char *t, const char *q, reading *r)
{
	if (!*t)
		return !*q;
	if (t[0] == '{' && t[1] && t[2] == '}') {
		char *slot = t[1] == 'b' ? r->b : t[1] == 'c' ? r->c : r->a;
		size_t n = strlen(q);

		for (size_t k = 1; k <= n && k < SLOT; k++) {
			memcpy(slot, q, k);
			slot[k] = '\0';
			if (fits(t + 3, q + k, r))
				return true;
		}
		slot[0] = '\0';
		return false;
	}
	if (tolower((unsigned char)*t) != tolower((unsigned char)*q))
		return false;
	return fits(t + 1, q + 1, r);
}

static int word_at(const char *p, const char *const *words, int n, size_t *len)
{
	for (int i = 0; i < n; i++) {
		size_t k = strlen(words[i]);

		if (strncasecmp(p, words[i], k) == 0 && !isalpha((unsigned char)p[k])) {
			*len = k;
			return i;
		}
	}
	return -1;
}

/* Read a hole's text as an object phrase: 0, or -1 when it is none. */
static int read_phrase(const char *s, phrase *ph)
{
	static const char *const nouns[] = { "object", "shape" };
	size_t len;

	*ph = (phrase){ -1, -1, -1 };
	if (strncasecmp(s, "the ", 4) != 0)
		return -1;
	s += 4;
	if ((ph->size = word_at(s, mlde_world_size_names, MLDE_WORLD_NSIZES, &len)) >= 0)
		s += len + (s[len] == ' ');
	if ((ph->color = word_at(s, mlde_world_color_names, MLDE_WORLD_NCOLORS, &len)) >= 0)
		s += len + (s[len] == ' ');
	if ((ph->shape = word_at(s, mlde_world_shape_names, MLDE_WORLD_NSHAPES, &len)) < 0 &&
	    word_at(s, nouns, 2, &len) < 0)
		return -1;
	return s[len] ? -1 : 0;
}

/* The counted class of a hole: a plural shape (form 0) or a colour. */
static int read_class(const char *s, int form)
{
	if (form)
		return mlde_world_lookup(mlde_world_color_names, MLDE_WORLD_NCOLORS, s);
	return mlde_world_lookup(mlde_world_shape_plurals, MLDE_WORLD_NSHAPES, s);
}

/* Are the holes of a fitting template what the world writes in them? */
static bool holes_read(const reading *r, const char *tpl)
{
	phrase ph;

	if ((strstr(tpl, "{a}") || strstr(tpl, "{A}")) && read_phrase(r->a, &ph) < 0)
		return false;
	if (strstr(tpl, "{b}") && read_phrase(r->b, &ph) < 0)
		return false;
	if (strstr(tpl, "{c}") && read_class(r->c, r->form) < 0)
		return false;
	return true;
}

/* Read q as a world question, trying type first.  0, or -1 when it fits no
 * template; *near says whether some template fitted with holes unread. */
static int read_question(const char *q, int first, reading *r, bool *near)
{
	*near = false;
	for (int i = -1; i < MLDE_WORLD_NTYPES; i++) {
		int t = i < 0 ? first : i;

		if (t < 0 || (i >= 0 && t == first))
			continue;
		for (int f = 0; f < mlde_world_nforms(t); f++)
			for (int k = 0; k < MLDE_WORLD_TEMPLATES; k++) {
				const char *tpl = mlde_world_template(t, f, k);

				*r = (reading){ .type = t, .form = f };
				if (!fits(tpl, q, r))
					continue;
				if (holes_read(r, tpl))
					return 0;
				*near = true;
			}
	}
	return -1;
}

/* The one object a phrase names: its index; -1 none, -2 several. */
static int resolve(const mlde_world_scene *s, const phrase *ph)
{
	int found = -1;

	for (int i = 0; i < s->nobj; i++) {
		const mlde_world_object *o = &s->obj[i];

		if ((ph->size >= 0 && o->size != ph->size) ||
		    (ph->color >= 0 && o->color != ph->color) ||
		    (ph->shape >= 0 && o->shape != ph->shape))
			continue;
		if (found >= 0)
			return -2;
		found = i;
	}
	return found;
}

/* ---- reading the options ---- */

static void strip_prefix(char *s, const char *pre)
{
	size_t n = strlen(pre);

	if (strncmp(s, pre, n) == 0)
		memmove(s, s + n, strlen(s + n) + 1);
}

static void strip_suffix(char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	if (n > k && strcmp(s + n - k, suf) == 0)
		s[n - k] = '\0';
}

/* Replace every whole word from by to (to no longer than from). */
static void replace_word(char *s, const char *from, const char *to)
{
	size_t n = strlen(from), m = strlen(to);

	for (char *p = s; (p = strstr(p, from)) != NULL;) {
		if ((p > s && isalpha((unsigned char)p[-1])) || isalpha((unsigned char)p[n])) {
			p++;
			continue;
		}
		memcpy(p, to, m);
		memmove(p + m, p + n, strlen(p + n) + 1);
		p += m;
	}
}

/* An option in a canonical form: lower case, one blank between words, the
 * words an LLM puts around a value gone ("the color red", "a circle",
 * "large and red", "the top-left corner", "left of it"). */
static void canonical(const char *in, char *out, size_t len)
{
	static const char *const prefixes[] = {
		"a ", "an ", "the ", "color ", "colour ", "letter ", "to the ", "on the ",
		"in the ", "at the ",
	};
	static const char *const suffixes[] = {
		" color", " colour", " colored", " coloured", " background", " shape", " one",
		" corner", " of it", " it", " side", " of the image", " part", " object", " ones",
	};
	size_t n = 0;
	bool changed = true;

	for (const char *p = in; *p && n + 1 < len; p++) {
		char c = (char)tolower((unsigned char)*p);

		if (c == '-' || c == '_' || c == '\t')
			c = ' ';
		if (c == ' ' && (n == 0 || out[n - 1] == ' '))
			continue;
		out[n++] = c;
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '.' || out[n - 1] == '!'))
		n--;
	out[n] = '\0';
	replace_word(out, "and", "");
	replace_word(out, "upper", "top");
	replace_word(out, "lower", "bottom");
	replace_word(out, "middle", "center");
	replace_word(out, "centre", "center");
	replace_word(out, "big", "large");
	replace_word(out, "grey", "gray");
	/* squeeze what the replacements left */
	n = 0;
	for (char *p = out; *p; p++)
		if (!(*p == ' ' && (n == 0 || out[n - 1] == ' ')))
			out[n++] = *p;
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	while (changed) {
		char before[SLOT * 2];

		snprintf(before, sizeof before, "%s", out);
		for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
			strip_prefix(out, prefixes[i]);
		for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
			strip_suffix(out, suffixes[i]);
		changed = strcmp(before, out) != 0;
	}
}

static int number_word(const char *s)
{
	static const char *const words[] = {
		"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
	};
	char *end;
	long v;

	for (int i = 0; i < 11; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	v = strtol(s, &end, 10);
	return end != s && !*end && v >= 0 && v <= 99 ? (int)v : -1;
}

/* The domain value an option names, or NO_VALUE.  Counting reads any count
 * (value count - 1, so 0 is -1); a letter outside the world's is kept
 * apart from them (100 + the letter). */
static int option_value(int type, int form, const char *text)
{
	char want[SLOT * 2], name[SLOT];

	canonical(text, want, sizeof want);
	if (type == MLDE_WT_COUNTING) {
		int n = number_word(want);

		return n < 0 ? NO_VALUE : n - 1;
	}
	if (type == MLDE_WT_TEXT) {
		const char *at;

		if (!want[0] || want[1] || !isalpha((unsigned char)want[0]))
			return NO_VALUE;
		at = strchr(mlde_world_letters, toupper((unsigned char)want[0]));
		return at ? (int)(at - mlde_world_letters) : 100 + toupper((unsigned char)want[0]);
	}
	for (int v = 0; v < mlde_world_domain(type, form); v++) {
		char canon[SLOT];

		mlde_world_value_name(type, form, v, name, sizeof name);
		canonical(name, canon, sizeof canon);
		if (strcmp(canon, want) == 0)
			return v;
	}
	/* a plural shape reads as the shape */
	if (type == MLDE_WT_IDENTITY ||
	    ((type == MLDE_WT_INTERACTION || type == MLDE_WT_REASONING) && form == 0)) {
		int v = mlde_world_lookup(mlde_world_shape_plurals, MLDE_WORLD_NSHAPES, want);

		if (v >= 0)
			return v;
	}
	return NO_VALUE;
}

/* ---- the item ---- */

typedef struct item_text {
	const char *question, *rationale, *type;
	const char *options[MAXOPT];
	int nopt, answer;
} item_text;

static const char *string_of(jv v)
{
	return jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;
}

/* The item's fields, borrowed from keep (which holds the jv values). */
static int read_item(jv item, jv keep[4 + MAXOPT], item_text *it)
{
	jv opts;

	memset(it, 0, sizeof *it);
	it->answer = -1;
	if (jv_get_kind(item) != JV_KIND_OBJECT)
		return -1;
	keep[0] = jv_object_get(jv_copy(item), jv_string(MLDE_F_QUESTION));
	keep[1] = jv_object_get(jv_copy(item), jv_string(MLDE_F_RATIONALE));
	keep[2] = jv_object_get(jv_copy(item), jv_string(MLDE_F_TYPE));
	keep[3] = jv_object_get(jv_copy(item), jv_string(MLDE_F_ANSWER));
	it->question = string_of(keep[0]);
	it->rationale = string_of(keep[1]);
	it->type = string_of(keep[2]);
	if (jv_get_kind(keep[3]) == JV_KIND_NUMBER && jv_is_integer(keep[3]))
		it->answer = (int)jv_number_value(keep[3]);
	opts = jv_object_get(jv_copy(item), jv_string(MLDE_F_OPTIONS));
	if (jv_get_kind(opts) == JV_KIND_ARRAY) {
		int n = jv_array_length(jv_copy(opts));

		for (int i = 0; i < n && i < MAXOPT; i++) {
			keep[4 + i] = jv_array_get(jv_copy(opts), i);
			it->options[i] = string_of(keep[4 + i]);
			if (!it->options[i])
				break;
			it->nopt = i + 1;
		}
		if (n > MAXOPT)
			it->nopt = 0;
	}
	jv_free(opts);
	if (!it->question || it->nopt < 2 || it->answer < 0 || it->answer >= it->nopt)
		return -1;
	return 0;
}

static int judge_text(const item_text *it, mlde_world_verdict *rv)
{
	const char *p;

	if ((p = coordinates_in(it->question)) != NULL)
		return give(rv, MLDE_WORLD_WRONG, MLDE_WRONG_COORDS,
			    "the question gives positions: '%.40s'", p);
	for (int i = 0; i < it->nopt; i++)
		if ((p = coordinates_in(it->options[i])) != NULL)
			return give(rv, MLDE_WORLD_WRONG, MLDE_WRONG_COORDS,
				    "option (%c) gives positions: '%.40s'", 'A' + i, p);
	if (it->rationale && (p = coordinates_in(it->rationale)) != NULL)
		return give(rv, MLDE_WORLD_WRONG, MLDE_WRONG_COORDS,
			    "the explanation gives positions: '%.40s'", p);
	return -1;
}

/* Resolve the objects and class the question is about: 0, or the verdict
 * (absent or ambiguous). */
static int find_subjects(const mlde_world_scene *s, const reading *r, int *a, int *b, int *cls,
			 mlde_world_verdict *rv)
{
	const char *holes[2] = { r->a, r->b };
	int *idx[2] = { a, b };

	*a = *b = *cls = -1;
	for (int h = 0; h < 2; h++) {
		phrase ph;

		if (!holes[h][0])
			continue;
		read_phrase(holes[h], &ph);
		*idx[h] = resolve(s, &ph);
		if (*idx[h] == -1)
			return give(rv, MLDE_WORLD_WRONG, MLDE_WRONG_ABSENT,
				    "the image has no %s", holes[h] + 4);
		if (*idx[h] == -2)
			return give(rv, MLDE_WORLD_WRONG, MLDE_WRONG_AMBIGUOUS,
				    "'%s' fits several objects", holes[h]);
	}
	if (r->c[0]) {
		*cls = read_class(r->c, r->form);
		if (mlde_world_true_value(s, r->type, r->form, -1, -1, *cls) < 0)
			return give(rv, MLDE_WORLD_WRONG, MLDE_WRONG_ABSENT,
				    "the image has no %s%s", r->c, r->form ? " shapes" : "");
	}
	return 0;
}

/* Read every option; the verdict when one is unread or two say the same. */
static int read_options(const item_text *it, const reading *r, int values[MAXOPT],
			mlde_world_verdict *rv)
{
	for (int i = 0; i < it->nopt; i++) {
		values[i] = option_value(r->type, r->form, it->options[i]);
		if (values[i] == NO_VALUE)
			return give(rv, MLDE_WORLD_CANNOT_JUDGE, MLDE_CANNOT_OPTION,
				    "option (%c) '%.60s' is no %s answer", 'A' + i,
				    it->options[i], mlde_world_type_names[r->type]);
		for (int j = 0; j < i; j++)
			if (values[j] == values[i])
				return give(rv, MLDE_WORLD_WRONG, MLDE_WRONG_DUPLICATE,
					    "(%c) '%.40s' and (%c) '%.40s' say the same", 'A' + j,
					    it->options[j], 'A' + i, it->options[i]);
	}
	return -1;
}

static int judge(const item_text *it, const mlde_world_scene *s, mlde_world_verdict *rv)
{
	int asked = it->type ? mlde_world_type_from_name(it->type) : -1;
	int a, b, cls, truth, values[MAXOPT], rc;
	char name[SLOT];
	reading r;
	bool near;

	if ((rc = judge_text(it, rv)) >= 0)
		return rc;
	if (read_question(it->question, asked, &r, &near) < 0)
		return give(rv, MLDE_WORLD_CANNOT_JUDGE, MLDE_CANNOT_QUESTION, near
			    ? "the question has the shape of a world question, but names "
				 "nothing the world has a word for"
			    : "the question has none of the world's shapes");
	rv->type = r.type;
	if (r.type != asked)
		return give(rv, MLDE_WORLD_WRONG, MLDE_WRONG_TYPE, "a %s question, not %s",
			    mlde_world_type_names[r.type], it->type ? it->type : "(no type)");
	if ((rc = find_subjects(s, &r, &a, &b, &cls, rv)) > 0)
		return rc;
	truth = mlde_world_true_value(s, r.type, r.form, a, b, cls);
	if (truth < 0)
		return give(rv, MLDE_WORLD_WRONG, MLDE_WRONG_UNANSWERABLE,
			    "the image does not decide it (%s)",
			    r.type == MLDE_WT_LOCATION ? "the object is between parts"
			    : r.type == MLDE_WT_SPATIAL ? "neither axis clearly separates them"
			    : r.type == MLDE_WT_INTERACTION ? "nothing touches it"
			    : r.type == MLDE_WT_REASONING ? "no class is the most common"
			    : "no letter");
	if ((rc = read_options(it, &r, values, rv)) >= 0)
		return rc;
	for (int i = 0; i < it->nopt; i++)
		if (values[i] == truth)
			rv->truth = i;
	mlde_world_value_name(r.type, r.form, truth, name, sizeof name);
	if (rv->truth < 0)
		return give(rv, MLDE_WORLD_WRONG, MLDE_WRONG_NO_TRUTH,
			    "the answer is %s, which no option says", name);
	if (rv->truth != it->answer)
		return give(rv, MLDE_WORLD_WRONG, MLDE_WRONG_ANSWER,
			    "(%c) is marked, but the answer is (%c) %s", 'A' + it->answer,
			    'A' + rv->truth, name);
	return give(rv, MLDE_WORLD_CORRECT, NULL, "%s", "");
}

int mlde_world_review(jv item, jv query, mlde_world_verdict *rv)
{
	jv keep[4 + MAXOPT];
	mlde_world_scene scene;
	mlde_error err;
	item_text it;
	int rc;

	memset(rv, 0, sizeof *rv);
	rv->type = rv->truth = -1;
	for (int i = 0; i < 4 + MAXOPT; i++)
		keep[i] = jv_invalid();
	mlde_error_clear(&err);
	if (read_item(item, keep, &it) < 0)
		rc = give(rv, MLDE_WORLD_CANNOT_JUDGE, MLDE_CANNOT_ITEM,
			  "no question, 2 to %d options and an answer among them", MAXOPT);
	else if (mlde_world_scene_from_record(query, &scene, &err) < 0)
		rc = give(rv, MLDE_WORLD_CANNOT_JUDGE, MLDE_CANNOT_SCENE, "%s", err.msg);
	else
		rc = judge(&it, &scene, rv);
	for (int i = 0; i < 4 + MAXOPT; i++)
		jv_free(keep[i]);
	return rc;
}

int mlde_world_review_plan(jv item, jv plan, mlde_world_verdict *rv)
{
	jv query = jv_get_kind(plan) == JV_KIND_OBJECT
		   ? jv_object_get(jv_copy(plan), jv_string(MLDE_F_QUERY)) : jv_invalid();
	int rc = mlde_world_review(item, query, rv);

	jv_free(query);
	return rc;
}
