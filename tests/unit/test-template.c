/* test-template.c - {{ jq }} templates: literal text, values of every kind,
 * variables and helpers, braces and strings inside holes, and errors that
 * name the file, the line and jq's message. */
#include <stdlib.h>
#include <string.h>

#include "gen/template.h"
#include "tap.h"

/* Render text against the JSON rec; the result (or "ERR: msg"), malloc'd. */
static char *render(const char *text, const char *rec_json, const char *vars_json)
{
	mlde_error err;
	mlde_template *t;
	jv rec = jv_parse(rec_json), vars = jv_parse(vars_json ? vars_json : "{}");
	char *out;
	size_t len;

	mlde_error_clear(&err);
	t = mlde_template_new("t.txt", text, strlen(text), vars, &err);
	if (!t) {
		jv_free(rec);
		out = malloc(strlen(err.msg) + 6);
		strcpy(out, "ERR: ");
		strcat(out, err.msg);
		return out;
	}
	out = mlde_template_render(t, rec, &len, &err);
	if (!out) {
		out = malloc(strlen(err.msg) + 6);
		strcpy(out, "ERR: ");
		strcat(out, err.msg);
	} else if (strlen(out) != len) {
		strcpy(out, "length mismatch");
	}
	mlde_template_free(t);
	jv_free(rec);
	return out;
}

#define CASE(text, rec, vars, want, ...)                         \
	do {                                                     \
		char *got_ = render(text, rec, vars);            \
		TAP_IS_STR(got_, want, __VA_ARGS__);             \
		free(got_);                                      \
	} while (0)

/* The queue rendered ahead (a second thread once it has been full): every
 * record popped in its order with what a plain render gives it, errors
 * included, whether the thread ran or not; what is left is freed. */
static jv record(int i)
{
	jv box = jv_array();

	box = jv_array_append(box, jv_number(i / 3.0));
	box = jv_array_append(box, jv_number(0.12345));
	return jv_object_set(jv_object_set(jv_object(), jv_string("i"), jv_number(i)),
			     jv_string("box"), box);
}

static void ahead_run(size_t cap, int n, int popped, const char *what)
{
	static const char text[] = "#{{ .i }} {{ $v.name }} {{ .box | box }}"
				   "{{ if .i % 17 == 5 then error(\"bad \\(.i)\") else empty end }}\n";
	const char *vars = "{\"v\":{\"name\":\"vee\"}}";
	mlde_error err;
	mlde_template *t = mlde_template_new("a.txt", text, strlen(text), jv_parse(vars), &err);
	mlde_template *plain = mlde_template_new("a.txt", text, strlen(text), jv_parse(vars), &err);
	mlde_render_ahead *q = mlde_render_ahead_new(t, cap);
	int pushed = 0, same = 0, tags = 0, errors = 0;

	for (int k = 0; k < popped; k++) {
		char tag[32], *got, *want, *gtag;
		mlde_error gerr, werr;
		size_t glen = 0, wlen = 0;
		jv rec;

		while (pushed < n && !mlde_render_ahead_full(q)) {
			snprintf(tag, sizeof tag, "line %d", pushed);
			mlde_render_ahead_push(q, record(pushed), tag);
			pushed++;
		}
		mlde_error_clear(&gerr);
		mlde_error_clear(&werr);
		got = mlde_render_ahead_pop(q, &rec, &gtag, &glen, &gerr);
		want = mlde_template_render(plain, rec, &wlen, &werr);
		snprintf(tag, sizeof tag, "line %d", k);
		tags += strcmp(gtag, tag) == 0;
		if (got && want)
			same += strcmp(got, want) == 0 && glen == wlen;
		else if (!got && !want)
			errors += strcmp(gerr.msg, werr.msg) == 0;
		free(got);
		free(want);
		free(gtag);
		jv_free(rec);
	}
	TAP_IS_INT(same + errors, popped, "%s: %d records as rendered alone", what, popped);
	TAP_IS_INT(tags, popped, "%s: in their order, each with its tag", what);
	TAP_OK(popped < 6 || errors == (popped + 11) / 17, "%s: the failing ones fail alike (%d)", what,
	       errors);
	mlde_render_ahead_free(q);
	mlde_template_free(plain);
	mlde_template_free(t);
}

static void ahead_cases(void)
{
	ahead_run(8, 300, 300, "a small queue, full at once");
	ahead_run(1000, 5, 5, "a queue never full (no thread)");
	ahead_run(16, 200, 40, "records left in the queue at the end");
}

int main(void)
{
	CASE("no holes at all\n", "{}", NULL, "no holes at all\n", "literal text passes through");
	CASE("", "{}", NULL, "", "an empty template");
	CASE("Type: {{ .type }}.", "{\"type\":\"x\"}", NULL, "Type: x.", "a string hole");
	CASE("{{.n}} {{.b}} {{.a}} {{.o}}", "{\"n\":1.5,\"b\":true,\"a\":[1,2],\"o\":{\"k\":1}}",
	     NULL, "1.5 true [1,2] {\"k\":1}", "numbers, booleans, arrays, objects as JSON");
	CASE("[{{ .missing }}]", "{}", NULL, "[]", "null writes nothing");
	CASE("[{{ empty }}]", "{}", NULL, "[]", "no value writes nothing");
	CASE("{{ .c[] }}", "{\"c\":[\"a\",\"b\",\"c\"]}", NULL, "a\nb\nc", "several values, one a line");
	CASE("{{ $types[.type].title }}", "{\"type\":\"t\"}", "{\"types\":{\"t\":{\"title\":\"T!\"}}}",
	     "T!", "variables given to the template ($types)");
	CASE("{{ .o | choices }} / {{ 2 | letter }} / {{ .b | box }}",
	     "{\"o\":[\"x\",\"y\"],\"b\":[0.12345,0,1,0.5]}", NULL,
	     "(A) x (B) y / C / [0.123, 0, 1, 0.5]", "helpers: choices, letter, box");
	CASE("{{ answer_text }}", "{\"options\":[\"x\",\"y\"],\"answer\":1}", NULL,
	     "The answer is (B): y.", "helper: answer_text");
	CASE("{{ {a: {b: \"}}\"}} | .a.b }}", "{}", NULL, "}}", "braces and '}}' in strings stay in the hole");
	CASE("{{ \"x\\(\"}}\" + \"y\")z\" }}", "{}", NULL, "x}}yz", "an interpolation holding a string");
	CASE("{{ .a # a comment }}\n}}", "{\"a\":\"v\"}", NULL, "v\n}}",
	     "'}}' ends a hole even after a '#' comment in it");
	CASE("{{ .a # a comment\n}}!", "{\"a\":\"v\"}", NULL, "v!", "a comment ends at the newline");
	CASE("line 1\nline 2 {{ .a", "{}", NULL, "ERR: t.txt:2: '{{' without its '}}'", "unclosed hole: its line");
	CASE("x\n\n{{ }}", "{}", NULL, "ERR: t.txt:3: empty '{{ }}'", "an empty hole");
	CASE("ok {{ .a }}\nbad {{ .a | ] }}", "{}", NULL,
	     "ERR: t.txt:2: jq: syntax error, unexpected ']' (Unix shell quoting issues?)",
	     "a compile error: FILE:LINE of the hole and jq's message");
	CASE("ok {{ .a }}\n\n{{ nosuchfn }}", "{}", NULL,
	     "ERR: t.txt:3: jq: nosuchfn/0 is not defined", "an undefined function: its line");
	CASE("{{ .a }}\n{{ .a | join(\",\") }}", "{\"a\":5}", NULL,
	     "ERR: t.txt:2: jq: Cannot iterate over number (5)", "a runtime error: the hole's line");
	CASE("{{ error({x:1}) }}", "{}", NULL, "ERR: t.txt:1: jq: {\"x\":1} (not a string)",
	     "an error value that is not a string");
	{
		mlde_error err;
		mlde_template *t;
		char *a, *b;
		jv r1 = jv_parse("{\"v\":\"one\"}"), r2 = jv_parse("{\"v\":\"two\"}");

		mlde_error_clear(&err);
		t = mlde_template_new("t", "<{{.v}}>", 8, jv_object(), &err);
		a = mlde_template_render(t, r1, NULL, &err);
		b = mlde_template_render(t, r2, NULL, &err);
		TAP_IS_STR(a, "<one>", "one template, many records: first");
		TAP_IS_STR(b, "<two>", "one template, many records: second");
		TAP_IS_INT(mlde_template_holes(t), 1, "one hole counted");
		free(a);
		free(b);
		jv_free(r1);
		jv_free(r2);
		mlde_template_free(t);
		t = mlde_template_load("/nonexistent/x.txt", jv_object(), &err);
		TAP_OK(!t && err.status == MLDE_EXIT_IO, "a missing file: an I/O error (%s)", err.msg);
	}
	ahead_cases();
	return TAP_DONE();
}
