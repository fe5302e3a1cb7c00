/* json.c - JSON text to and from jv, as libjq 1.6 does it, faster (see
 * json.h).  Both halves build or walk the value through jv's own API in the
 * order libjq does (an object's keys set one by one as they come, so in
 * the order jv_dump prints them back; a repeated key replaced in place),
 * and whatever they are not sure to treat as libjq does goes to libjq. */
#include "io/json.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/* libjq 1.6 prints "<skipped: too deep>" below 256 levels (MAX_PRINT_DEPTH)
 * and refuses to parse 256 (MAX_PARSING_DEPTH): both left to it, with room. */
#define DUMP_DEPTH_MAX 200
#define PARSE_DEPTH_MAX 200
/* the longest number this parser reads: no exponent, so at most this many
 * characters of digits, sign and point */
#define NUMBER_LEN_MAX 40

/* ==== parsing ==== */

typedef struct parser {
	const char *p, *end;
	int depth;
	mlde_buf scratch;  /* a string with escapes, decoded */
} parser;

static bool parse_value(parser *P, jv *out);

static void skip_space(parser *P)
{
	while (P->p < P->end && (*P->p == ' ' || *P->p == '\t' || *P->p == '\n' || *P->p == '\r'))
		P->p++;
}

/* What may follow a literal or a number: libjq reads a token up to the
 * next space, structure character or quote. */
static bool at_delimiter(const parser *P)
{
	return P->p == P->end || strchr(" \t\n\r,]}:[{\"", *P->p) != NULL;
}

/* The simple escapes; \u (surrogates, U+0000, the replacement of what is
 * not a character) and bad ones are libjq's. */
static int unescape(char c)
{
	switch (c) {
	case '"': case '\\': case '/': return c;
	case 'b': return '\b';
	case 'f': return '\f';
	case 't': return '\t';
	case 'n': return '\n';
	case 'r': return '\r';
	default: return -1;
	}
}

/* A string of printable ASCII (0x20..0x7e) and simple escapes; P->p is at
 * its opening quote. */
static bool parse_string(parser *P, jv *out)
{
	const char *start = ++P->p, *q = start;

	while (q < P->end && *q >= 0x20 && *q <= 0x7e && *q != '"' && *q != '\\')
		q++;
	if (q < P->end && *q == '"') {
		*out = jv_string_sized(start, (int)(q - start));
		P->p = q + 1;
		return true;
	}
	mlde_buf_reset(&P->scratch);
	mlde_buf_add(&P->scratch, start, (size_t)(q - start));
	while (q < P->end && *q != '"') {
		int c = (unsigned char)*q;

		if (c == '\\') {
			if (q + 1 >= P->end || (c = unescape(q[1])) < 0)
				return false;
			q += 2;
		} else if (c >= 0x20 && c <= 0x7e) {
			q++;
		} else {
			return false;
		}
		mlde_buf_addc(&P->scratch, (char)c);
	}
	if (q >= P->end)
		return false;
	*out = jv_string_sized(P->scratch.p ? P->scratch.p : "", (int)P->scratch.len);
	P->p = q + 1;
	return true;
}

static bool is_digit(const parser *P, const char *q)
{
	return q < P->end && *q >= '0' && *q <= '9';
}

/* The digits of s..end (a number as parse_number reads it) as k / 10^f
 * for an integer k below 2^53 and f <= 22, both exact in a double: then
 * one IEEE division rounds the exact quotient to the nearest double, ties
 * to even, which is strtod's answer (Clinger's fast path), without
 * strtod's copy and big-number arithmetic: a tenth of mlde-sample's time
 * went there, reading embeddings.  false where that does not hold. */
static bool exact_number(const char *s, const char *end, double *d)
{
	static const double tens[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	bool neg = *s == '-';
	uint64_t k = 0;
	int f = -1;  /* digits after the point; -1 before it */

	for (const char *q = s + neg; q < end; q++) {
		if (*q == '.') {
			f = 0;
			continue;
		}
		if (k > (UINT64_C(1) << 53) / 10)
			return false;
		k = k * 10 + (uint64_t)(*q - '0');
		if (f >= 0 && ++f > 22)
			return false;
	}
	if (k > UINT64_C(1) << 53)
		return false;
	*d = (double)k / tens[f < 0 ? 0 : f];
	if (neg)
		*d = -*d;
	return true;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?, read by strtod: for these, as for libjq's
 * strtod (David Gay's), the nearest double.  An exponent or a leading
 * zero is left to libjq (and so is everything in a locale whose decimal
 * point is not '.': mlde_json_parse). */
static bool parse_number(parser *P, jv *out)
{
	const char *s = P->p, *q = s;
	char buf[NUMBER_LEN_MAX + 1], *end;
	size_t len;
	double d;

	if (*q == '-')
		q++;
	if (!is_digit(P, q))
		return false;
	if (*q++ != '0')
		while (is_digit(P, q))
			q++;
	if (q < P->end && *q == '.') {
		if (!is_digit(P, ++q))
			return false;
		while (is_digit(P, q))
			q++;
	}
	P->p = q;
	len = (size_t)(q - s);
	if (!at_delimiter(P) || len > NUMBER_LEN_MAX)
		return false;
	if (exact_number(s, q, &d)) {
		*out = jv_number(d);
		return true;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	d = strtod(buf, &end);
	if (end != buf + len)
		return false;
	*out = jv_number(d);
	return true;
}

static bool parse_literal(parser *P, const char *word, jv value, jv *out)
{
	size_t n = strlen(word);

	if ((size_t)(P->end - P->p) < n || memcmp(P->p, word, n) != 0)
		return false;
	P->p += n;
	if (!at_delimiter(P))
		return false;
	*out = value;
	return true;
}

enum { MEMBER_BAD, MEMBER_NEXT, MEMBER_CLOSE };

/* After a member of an array or object: a ',' (then the next member, space
 * skipped), the container's close, or anything else, which is an error;
 * the ',' or close is consumed. */
static int after_member(parser *P, char close)
{
	skip_space(P);
	if (P->p < P->end && *P->p == ',') {
		P->p++;
		skip_space(P);
		return MEMBER_NEXT;
	}
	if (P->p < P->end && *P->p == close) {
		P->p++;
		return MEMBER_CLOSE;
	}
	return MEMBER_BAD;
}

/* [ value, ... ]: P->p is at the '['. */
static bool parse_array(parser *P, jv *out)
{
	jv a = jv_array();

	P->p++;
	skip_space(P);
	if (P->p < P->end && *P->p == ']') {
		P->p++;
		*out = a;
		return true;
	}
	for (;;) {
		jv v;

		if (!parse_value(P, &v)) {
			jv_free(a);
			return false;
		}
		a = jv_array_append(a, v);
		switch (after_member(P, ']')) {
		case MEMBER_NEXT: continue;
		case MEMBER_CLOSE: *out = a; return true;
		default: jv_free(a); return false;
		}
	}
}

/* { "key": value, ... }: P->p is at the '{'. */
static bool parse_object(parser *P, jv *out)
{
	jv o = jv_object();

	P->p++;
	skip_space(P);
	if (P->p < P->end && *P->p == '}') {
		P->p++;
		*out = o;
		return true;
	}
	for (;;) {
		jv key, v;

		if (P->p >= P->end || *P->p != '"' || !parse_string(P, &key)) {
			jv_free(o);
			return false;
		}
		skip_space(P);
		if (P->p >= P->end || *P->p != ':') {
			jv_free(key);
			jv_free(o);
			return false;
		}
		P->p++;
		skip_space(P);
		if (!parse_value(P, &v)) {
			jv_free(key);
			jv_free(o);
			return false;
		}
		o = jv_object_set(o, key, v);
		switch (after_member(P, '}')) {
		case MEMBER_NEXT: continue;
		case MEMBER_CLOSE: *out = o; return true;
		default: jv_free(o); return false;
		}
	}
}

/* One value at P->p (no space before it). */
static bool parse_value(parser *P, jv *out)
{
	bool ok;

	if (P->p >= P->end)
		return false;
	switch (*P->p) {
	case '"':
		return parse_string(P, out);
	case '[':
	case '{':
		if (P->depth >= PARSE_DEPTH_MAX)
			return false;
		P->depth++;
		ok = *P->p == '[' ? parse_array(P, out) : parse_object(P, out);
		P->depth--;
		return ok;
	case 't':
		return parse_literal(P, "true", jv_true(), out);
	case 'f':
		return parse_literal(P, "false", jv_false(), out);
	case 'n':
		return parse_literal(P, "null", jv_null(), out);
	default:
		return parse_number(P, out);
	}
}

bool mlde_json_parse(const char *s, size_t len, jv *out)
{
	parser P = { .p = s, .end = s + len };
	const char *point = localeconv()->decimal_point;
	jv v;
	bool ok;

	/* jv takes an int length; strtod reads the locale's decimal point */
	if (len > 0x7fffffff || strcmp(point, ".") != 0)
		return false;
	skip_space(&P);
	ok = parse_value(&P, &v);
	if (ok) {
		skip_space(&P);
		if (P.p != P.end) {
			jv_free(v);
			ok = false;
		}
	}
	mlde_buf_free(&P.scratch);
	if (ok)
		*out = v;
	return ok;
}

/* ==== dumping ==== */

/* jvp_dump_string without JV_PRINT_ASCII: printable ASCII as it is (a quote
 * and a backslash escaped), the C escapes of \b \t \r \n \f, \u00XX for the
 * other controls and DEL, and UTF-8 as it is (a jv string is valid UTF-8,
 * so its bytes are its characters' bytes). */
static void dump_string(const char *s, size_t n, mlde_buf *b)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	mlde_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t k = 2;

		if ((c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)) {
			run++;
			continue;
		}
		mlde_buf_add(b, s + i - run, run);
		run = 0;
		esc[0] = '\\';
		switch (c) {
		case '"': case '\\': esc[1] = (char)c; break;
		case '\b': esc[1] = 'b'; break;
		case '\t': esc[1] = 't'; break;
		case '\r': esc[1] = 'r'; break;
		case '\n': esc[1] = 'n'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			k = 6;
		}
		mlde_buf_add(b, esc, k);
	}
	mlde_buf_add(b, s + n - run, run);
	mlde_buf_addc(b, '"');
}

/* d as jvp_dtoa_fmt prints it (the shortest digits that read back as d,
 * point or exponent placed by g_fmt's rule), when d is a decimal of at
 * most four places under 1e11, as scores, embeddings and counts are: then
 * it is the double nearest k / 10^4 for an integer k of at most 15 digits,
 * and those digits, trailing zeros dropped, are its shortest (two decimals
 * of at most 15 digits never share a double), printed without an exponent
 * (g_fmt uses one only below 1e-4 or past 15 digits more).  false for
 * any other d. */
static bool fast_number(double d, mlde_buf *b)
{
	char buf[32], *p = buf + sizeof buf;
	unsigned long long k, ip, fp;
	double scaled;
	int places = 4;

	if (!(fabs(d) < 1e11))
		return false;
	scaled = d * 10000.0;
	k = (unsigned long long)fabs(nearbyint(scaled));
	if ((signbit(d) ? -(double)k : (double)k) / 10000.0 != d)
		return false;
	ip = k / 10000;
	fp = k % 10000;
	while (fp && fp % 10 == 0) {
		fp /= 10;
		places--;
	}
	if (fp) {
		for (int i = 0; i < places; i++, fp /= 10)
			*--p = (char)('0' + fp % 10);
		*--p = '.';
	}
	do
		*--p = (char)('0' + ip % 10);
	while ((ip /= 10) > 0);
	if (signbit(d))
		*--p = '-';
	mlde_buf_add(b, p, (size_t)(buf + sizeof buf - p));
	return true;
}

static void dump_number(double d, mlde_buf *b)
{
	jv s;

	if (d != d) {  /* NaN: JSON has none, libjq prints null */
		mlde_buf_adds(b, "null");
		return;
	}
	if (fast_number(d, b))
		return;
	s = jv_dump_string(jv_number(d), 0);
	mlde_buf_add(b, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
}

/* libjq's order of an object's keys in JV_PRINT_SORTED (jv_keys: bytes
 * compared, then lengths) */
static int key_order(const void *pa, const void *pb)
{
	const jv *a = pa, *b = pb;
	int la = jv_string_length_bytes(jv_copy(*a)), lb = jv_string_length_bytes(jv_copy(*b));
	int r = memcmp(jv_string_value(*a), jv_string_value(*b), (size_t)(la < lb ? la : lb));

	return r ? r : la - lb;
}

static bool dump_value(jv x, mlde_buf *b, int depth, bool sorted);

/* An object's members in key order; false when too deep. */
static bool dump_sorted_object(jv x, mlde_buf *b, int depth)
{
	int n = jv_object_length(jv_copy(x)), k = 0;
	jv *keys = mlde_xmalloc((size_t)(n ? n : 1) * sizeof *keys);
	bool ok = true;

	for (int i = jv_object_iter(x); jv_object_iter_valid(x, i); i = jv_object_iter_next(x, i))
		keys[k++] = jv_object_iter_key(x, i);
	qsort(keys, (size_t)k, sizeof *keys, key_order);
	mlde_buf_addc(b, '{');
	for (int i = 0; i < k; i++) {
		jv v = jv_object_get(jv_copy(x), jv_copy(keys[i]));

		if (i)
			mlde_buf_addc(b, ',');
		dump_string(jv_string_value(keys[i]), (size_t)jv_string_length_bytes(jv_copy(keys[i])), b);
		mlde_buf_addc(b, ':');
		if (ok)
			ok = dump_value(v, b, depth + 1, true);
		jv_free(v);
	}
	for (int i = 0; i < k; i++)
		jv_free(keys[i]);
	free(keys);
	if (ok)
		mlde_buf_addc(b, '}');
	return ok;
}

/* x (borrowed) at depth, objects in key order when sorted; false when it
 * goes deeper than DUMP_DEPTH_MAX (what is appended then is left for the
 * caller to drop). */
static bool dump_value(jv x, mlde_buf *b, int depth, bool sorted)
{
	bool first = true;

	if (depth > DUMP_DEPTH_MAX)
		return false;
	switch (jv_get_kind(x)) {
	case JV_KIND_NULL:
		mlde_buf_adds(b, "null");
		return true;
	case JV_KIND_FALSE:
		mlde_buf_adds(b, "false");
		return true;
	case JV_KIND_TRUE:
		mlde_buf_adds(b, "true");
		return true;
	case JV_KIND_NUMBER:
		dump_number(jv_number_value(x), b);
		return true;
	case JV_KIND_STRING:
		dump_string(jv_string_value(x), (size_t)jv_string_length_bytes(jv_copy(x)), b);
		return true;
	case JV_KIND_ARRAY: {
		int n = jv_array_length(jv_copy(x));

		mlde_buf_addc(b, '[');
		for (int i = 0; i < n; i++) {
			jv v = jv_array_get(jv_copy(x), i);
			bool ok;

			if (i)
				mlde_buf_addc(b, ',');
			ok = dump_value(v, b, depth + 1, sorted);
			jv_free(v);
			if (!ok)
				return false;
		}
		mlde_buf_addc(b, ']');
		return true;
	}
	case JV_KIND_OBJECT:
		if (sorted)
			return dump_sorted_object(x, b, depth);
		mlde_buf_addc(b, '{');
		for (int i = jv_object_iter(x); jv_object_iter_valid(x, i);
		     i = jv_object_iter_next(x, i)) {
			jv key = jv_object_iter_key(x, i), v = jv_object_iter_value(x, i);
			bool ok;

			if (!first)
				mlde_buf_addc(b, ',');
			first = false;
			dump_string(jv_string_value(key), (size_t)jv_string_length_bytes(jv_copy(key)), b);
			mlde_buf_addc(b, ':');
			ok = dump_value(v, b, depth + 1, false);
			jv_free(key);
			jv_free(v);
			if (!ok)
				return false;
		}
		mlde_buf_addc(b, '}');
		return true;
	default:
		return false;  /* invalid: libjq's to refuse */
	}
}

static void dump(jv x, mlde_buf *out, bool sorted)
{
	size_t at = out->len;
	jv s;

	if (dump_value(x, out, 0, sorted))
		return;
	/* too deep (or invalid): libjq's bytes, in place of ours */
	out->len = at;
	if (out->p)
		out->p[at] = '\0';
	s = jv_dump_string(jv_copy(x), sorted ? JV_PRINT_SORTED : 0);
	mlde_buf_add(out, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
}

void mlde_json_dump(jv x, mlde_buf *out)
{
	dump(x, out, false);
}

void mlde_json_dump_sorted(jv x, mlde_buf *out)
{
	dump(x, out, true);
}
