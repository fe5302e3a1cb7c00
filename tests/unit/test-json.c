/* test-json.c - io/json.h against libjq itself: mlde_json_dump must write
 * jv_dump_string(x, 0)'s bytes for any value, and mlde_json_parse, where it
 * reads a text at all, must give what jv_parse_sized gives (the same value,
 * keys in the same order, the same bits of every number), and decline every
 * text libjq refuses.  Values and texts are drawn from a fixed seed: random
 * trees of every kind, strings of every byte and escape, numbers of every
 * shape (a few decimals, any bits, integers, -0, NaN, infinities, the
 * edges of the fast paths), and texts cut, spaced and mutated. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/rng.h"
#include "io/json.h"
#include "tap.h"

static mlde_rng rng;

static uint64_t below(uint64_t n)
{
	return mlde_rng_next(&rng) % n;
}

static double random_number(void)
{
	static const double edges[] = {
		0.0, 1.0, -1.0, 0.5, 0.1, 0.0001, -0.0001, 0.00005, 0.00015, 99999999999.9999,
		1e11, -1e11, 1e15, 1e16, 1e17, 1e-5, 1e-7, 123456789012.5, 0.30000000000000004,
		DBL_MAX, -DBL_MAX, DBL_MIN, 5e-324, 1e300, 1e-300, 4503599627370496.0,
		9007199254740993.0, 0.1234, -0.9999, 12345.6789, 1e10 + 0.5,
	};
	uint64_t bits;
	double d;

	switch (below(9)) {
	case 0:
		return edges[below(sizeof edges / sizeof edges[0])];
	case 1:  /* four places, as the scores and embeddings */
		return round((mlde_rng_double(&rng) * 2 - 1) * pow(10, (double)below(12)) * 1e4) / 1e4;
	case 2:  /* any bits (NaN and the infinities among them) */
		bits = mlde_rng_next(&rng);
		memcpy(&d, &bits, sizeof d);
		return d;
	case 3:
		return (double)(int64_t)(mlde_rng_next(&rng) >> below(64));
	case 4:
		return -0.0;
	case 5:
		return below(2) ? INFINITY : -INFINITY;
	case 6:
		return NAN;
	case 7:  /* a few places, not always four */
		return round(mlde_rng_double(&rng) * 1e6) / pow(10, (double)below(8));
	default:
		return (mlde_rng_double(&rng) - 0.5) * pow(10, (double)below(40) - 20);
	}
}

/* A string of random bytes of a few kinds: printable, escapes, controls,
 * DEL, UTF-8 and bytes that are not (jv replaces them). */
static jv random_string(void)
{
	static const char *const pieces[] = {
		"a", "Z", " ", "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x01", "\x1f", "\x7f",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xc3", "\xed\xa0\x80",
		"\0", "{", "}", "[", "]", ":", ",", "0", "9", "-", ".", "e", "u", "\\u0041",
	};
	char buf[64];
	size_t n = 0, k = below(12);

	for (size_t i = 0; i < k; i++) {
		const char *p = pieces[below(sizeof pieces / sizeof pieces[0])];
		size_t len = *p ? strlen(p) : 1;

		if (n + len < sizeof buf) {
			memcpy(buf + n, p, len);
			n += len;
		}
	}
	return jv_string_sized(buf, (int)n);
}

static jv random_value(int depth)
{
	int kind = (int)below(depth > 4 ? 5 : 8);
	jv v;

	switch (kind) {
	case 0: return jv_null();
	case 1: return below(2) ? jv_true() : jv_false();
	case 2: case 3: return jv_number(random_number());
	case 4: return random_string();
	case 5: case 6:
		v = jv_array();
		for (uint64_t i = 0, n = below(6); i < n; i++)
			v = jv_array_append(v, random_value(depth + 1));
		return v;
	default:
		v = jv_object();
		for (uint64_t i = 0, n = below(6); i < n; i++) {
			jv key = below(4) ? random_string() : jv_string("k");  /* repeats */

			v = jv_object_set(v, key, random_value(depth + 1));
		}
		return v;
	}
}

/* Does mlde_json_dump (sorted: mlde_json_dump_sorted) write x as libjq
 * does? (x consumed) */
static bool dumps_alike_as(jv x, bool sorted, char *why, size_t len)
{
	jv want = jv_dump_string(jv_copy(x), sorted ? JV_PRINT_SORTED : 0);
	mlde_buf got = { 0 };
	bool same;

	mlde_buf_adds(&got, "prefix:");  /* appended, not overwritten */
	if (sorted)
		mlde_json_dump_sorted(x, &got);
	else
		mlde_json_dump(x, &got);
	same = strncmp(got.p, "prefix:", 7) == 0 && got.len - 7 ==
		(size_t)jv_string_length_bytes(jv_copy(want)) &&
		memcmp(got.p + 7, jv_string_value(want), got.len - 7) == 0;
	if (!same)
		snprintf(why, len, "want %.200s got %.200s", jv_string_value(want), got.p + 7);
	jv_free(want);
	jv_free(x);
	mlde_buf_free(&got);
	return same;
}

static bool dumps_alike(jv x, char *why, size_t len)
{
	return dumps_alike_as(x, false, why, len);
}

/* Identical values: the same dump, and every number with the same bits
 * (the dump alone would not tell two doubles of one shortest form apart,
 * nor is there any: this is a second look). */
static bool same_bits(jv a, jv b)
{
	jv_kind k = jv_get_kind(a);
	bool same = k == jv_get_kind(b);

	if (same && k == JV_KIND_NUMBER) {
		double x = jv_number_value(a), y = jv_number_value(b);

		same = memcmp(&x, &y, sizeof x) == 0;
	} else if (same && k == JV_KIND_ARRAY) {
		int n = jv_array_length(jv_copy(a));

		same = n == jv_array_length(jv_copy(b));
		for (int i = 0; same && i < n; i++)
			same = same_bits(jv_array_get(jv_copy(a), i), jv_array_get(jv_copy(b), i));
	} else if (same && k == JV_KIND_OBJECT) {
		jv_object_foreach(a, key, v) {
			if (same)
				same = same_bits(v, jv_object_get(jv_copy(b), key));
			else
				jv_free(key), jv_free(v);
		}
	} else if (same) {
		same = jv_equal(jv_copy(a), jv_copy(b));
	}
	jv_free(a);
	jv_free(b);
	return same;
}

/* Parse text both ways: 0 alike (or declined where libjq reads it), 1 a
 * difference (why says what). */
static int parse_differs(const char *text, size_t len, bool *read, char *why, size_t wlen)
{
	jv want = jv_parse_sized(text, (int)len), got;
	int rc = 0;

	*read = mlde_json_parse(text, len, &got);
	if (*read && !jv_is_valid(want)) {
		snprintf(why, wlen, "read what libjq refuses: %.200s", text);
		jv_free(got);
		rc = 1;
	} else if (*read) {
		jv a = jv_dump_string(jv_copy(want), 0), b = jv_dump_string(jv_copy(got), 0);

		if (strcmp(jv_string_value(a), jv_string_value(b)) != 0 ||
		    !same_bits(jv_copy(want), jv_copy(got))) {
			snprintf(why, wlen, "%.100s: libjq %.100s, fast %.100s", text,
				 jv_string_value(a), jv_string_value(b));
			rc = 1;
		}
		jv_free(a);
		jv_free(b);
		jv_free(got);
	}
	jv_free(want);
	return rc;
}

/* A decimal of d integer digits (d >= 1; no leading zero unless d is 1)
 * and f places (0: no point), maybe negative, in buf. */
static void random_decimal(char *buf, int d, int f)
{
	char *p = buf;

	if (below(2))
		*p++ = '-';
	for (int i = 0; i < d; i++)
		*p++ = (char)('0' + (i == 0 && d > 1 ? 1 + below(9) : below(10)));
	if (f > 0) {
		*p++ = '.';
		for (int i = 0; i < f; i++)
			*p++ = (char)('0' + below(10));
	}
	*p = '\0';
}

/* The text of v, spaced and mutated at random. */
static char *variant(jv v, size_t *len)
{
	jv s = jv_dump_string(v, 0);
	const char *t = jv_string_value(s);
	mlde_buf b = { 0 };
	uint64_t how = below(4);

	for (const char *p = t; *p; p++) {
		if (how == 1 && below(8) == 0)
			mlde_buf_adds(&b, below(2) ? " " : "\t\r\n");
		if (how == 2 && below(40) == 0)
			mlde_buf_addc(&b, " ,:[]{}\"\\0e.-x"[below(15)]);
		else if (how == 3 && below(60) == 0)
			continue;
		mlde_buf_addc(&b, *p);
	}
	jv_free(s);
	if (below(10) == 0 && b.len)
		b.len = below(b.len);  /* cut */
	return mlde_buf_take(&b, len);
}

int main(void)
{
	static const char *const texts[] = {
		"{}", "[]", " {\"a\":1} ", "{\"a\":1,\"a\":2}", "{\"b\":1,\"a\":2,\"b\":3}", "[1,2,]",
		"[1 2]", "{\"a\" 1}", "{\"a\":}", "{1:2}", "\"x\"", "1", "-0", "0", "01", "1.", ".5",
		"-", "+1", "1e5", "1E+2", "1.5e-3", "0.0001", "-0.0", "123456789012345678901234567890",
		"0.1234567890123456789012345678901234567890123", "true", "false", "null", "nan",
		"truex", "nul", "[true,false,null]", "{\"a\":[1,{\"b\":\"c\"}]}", "[1][2]", "{}x",
		"\"a\\nb\"", "\"a\\/b\"", "\"\\u0041\"", "\"\\ud83d\\ude00\"", "\"\\x\"", "\"a\tb\"",
		"\"\x7f\"", "\"caf\xc3\xa9\"", "", " ", "[", "{\"a\":1", "\"abc", "[1,[2,[3]]]",
		"{\"a\":1}{\"b\":2}", "1 2", "[-0.5,0.25,-12.3400]", "{\"x\":0.0000}", "[1e400]",
		"\xef\xbb\xbf{}",
	};
	char why[512];
	size_t bad_dump = 0, bad_parse = 0, read = 0, tried = 0;
	jv deep;

	mlde_rng_seed(&rng, 7);
	for (int i = 0; i < 5000; i++)
		if (!dumps_alike(random_value(0), why, sizeof why) && bad_dump++ == 0)
			fprintf(stderr, "# dump: %s\n", why);
	TAP_IS_INT((long)bad_dump, 0L, "5000 random values: jv_dump_string's bytes");
	bad_dump = 0;
	for (int i = 0; i < 5000; i++)
		if (!dumps_alike_as(random_value(0), true, why, sizeof why) && bad_dump++ == 0)
			fprintf(stderr, "# dump sorted: %s\n", why);
	TAP_IS_INT((long)bad_dump, 0L, "5000 random values, keys sorted: jv_dump_string(JV_PRINT_SORTED)'s bytes");
	bad_dump = 0;
	for (int i = 0; i < 100000; i++)
		if (!dumps_alike(jv_number(random_number()), why, sizeof why) && bad_dump++ == 0)
			fprintf(stderr, "# dump: %s\n", why);
	TAP_IS_INT((long)bad_dump, 0L, "100000 random numbers: jv_dump_string's bytes");

	/* deeper than libjq prints: its "<skipped: too deep>", whole */
	bad_dump = 0;
	for (int depth = 195; depth <= 300; depth += 5) {
		deep = jv_number(1);
		for (int i = 0; i < depth; i++)
			deep = i % 2 ? jv_array_append(jv_array(), deep)
				     : jv_object_set(jv_object(), jv_string("k"), deep);
		if (!dumps_alike_as(jv_copy(deep), true, why, sizeof why) && bad_dump++ == 0)
			fprintf(stderr, "# dump sorted, depth %d: %s\n", depth, why);
		if (!dumps_alike(deep, why, sizeof why) && bad_dump++ == 0)
			fprintf(stderr, "# dump, depth %d: %s\n", depth, why);
	}
	TAP_IS_INT((long)bad_dump, 0L, "values 195 to 300 deep: the same bytes");

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		bool r;

		if (parse_differs(texts[i], strlen(texts[i]), &r, why, sizeof why) && bad_parse++ == 0)
			fprintf(stderr, "# parse: %s\n", why);
		read += r;
	}
	TAP_IS_INT((long)bad_parse, 0L, "%zu texts written by hand: as libjq reads them",
		   sizeof texts / sizeof texts[0]);
	TAP_OK(read >= 20, "  %zu of them read by the fast parser", read);

	/* decimals across the fast path's edges (k below 2^53, at most 22
	 * places) and past them: strtod's bits, as libjq's */
	read = 0;
	bad_parse = 0;
	tried = 0;
	for (int d = 1; d <= 20; d++)
		for (int f = 0; f <= 24; f++)
			for (int i = 0; i < 40; i++) {
				char num[64];
				bool r;

				random_decimal(num, d, f);
				if (parse_differs(num, strlen(num), &r, why, sizeof why) &&
				    bad_parse++ == 0)
					fprintf(stderr, "# parse: %s\n", why);
				/* longer ones are libjq's (NUMBER_LEN_MAX) */
				read += r || strlen(num) > 40;
				tried++;
			}
	TAP_IS_INT((long)bad_parse, 0L, "%zu decimals of 1-20 digits and 0-24 places: libjq's bits",
		   tried);
	TAP_IS_INT((long)read, (long)tried, "  every one of up to 40 characters read by the fast parser");

	read = 0;
	bad_parse = 0;
	tried = 0;
	for (int i = 0; i < 10000; i++) {
		size_t len;
		char *t = variant(random_value(0), &len);
		bool r;

		if (parse_differs(t, len, &r, why, sizeof why) && bad_parse++ == 0)
			fprintf(stderr, "# parse: %s\n", why);
		read += r;
		tried++;
		free(t);
	}
	TAP_IS_INT((long)bad_parse, 0L, "%zu random texts, spaced, cut and mutated: as libjq reads them",
		   tried);
	TAP_OK(read > tried / 10, "  %zu of them read by the fast parser", read);

	/* decimals of every length the parser reads: the bits of libjq's strtod */
	read = 0;
	bad_parse = 0;
	for (int i = 0; i < 30000; i++) {
		char t[64];
		int n = 0, digits = 1 + (int)below(38);
		bool r;

		if (below(2))
			t[n++] = '-';
		t[n++] = (char)('0' + below(10));
		if (t[n - 1] != '0')
			for (int k = 1; k < digits / 2; k++)
				t[n++] = (char)('0' + below(10));
		if (below(4)) {
			t[n++] = '.';
			for (int k = 0; k < digits - digits / 2; k++)
				t[n++] = (char)('0' + below(10));
		}
		if (parse_differs(t, (size_t)n, &r, why, sizeof why) && bad_parse++ == 0)
			fprintf(stderr, "# parse: %s\n", why);
		read += r;
	}
	TAP_IS_INT((long)bad_parse, 0L, "30000 random decimals: the bits libjq reads");
	TAP_OK(read > 27000, "  %zu of them read by the fast parser", read);
	return TAP_DONE();
}
