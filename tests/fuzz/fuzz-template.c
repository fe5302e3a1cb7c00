/* fuzz-template.c - libFuzzer target: the template renderer
 * (gen/template.c): the input is a template, compiled and rendered against
 * a plan record.  What is under test is ours: splitting the text into
 * literal pieces and {{ holes }}, building the one jq program, blaming the
 * bad hole, writing the values.  jq itself would happily run forever or
 * fill memory ({{ range(1e9) }}, {{ def f: f; f }}, {{ "x" * 1e9 }},
 * {{ .[1e9] = 1 }}), which is a template's right and no bug of ours, so
 * inputs that can say such things are skipped (a word list below). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gen/template.h"

static const char plan[] =
	"{\"id\":\"p1\",\"type\":\"spatial_relation\",\"query\":{\"image\":\"q.png\","
	"\"captions\":[\"a red cube\"],\"objects\":[{\"name\":\"cube\",\"bbox\":[0.1,0.2,0.3,0.4]}]},"
	"\"examples\":[{\"id\":\"e1\",\"image\":\"e.png\",\"question\":\"Where?\",\"options\":"
	"[\"left\",\"right\"],\"answer\":1,\"type\":\"spatial_relation\"}]}";

/* jq that may not end, or may not fit in memory */
static const char *const unbounded[] = {
	"def", "range", "repeat", "while", "until", "recurse", "limit", "foreach", "reduce",
	"label", "input", "env", "ENV", "$__", "halt", "debug", "stderr", "include", "import",
	"splits", "test", "match", "capture", "scan", "sub", "gsub", "split", "ascii",
	"implode", "getpath", "setpath", "paths", "leaf_paths", "walk", "transpose",
	"combinations", "tojson", "fromjson", "pow", "exp", "log", "*", "=", "..", "[]",
};

static int bounded(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof unbounded / sizeof *unbounded; i++)
		if (memmem(data, size, unbounded[i], strlen(unbounded[i])))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static jv rec;
	static int ready;
	mlde_template *t;
	mlde_error err;
	jv vars;

	if (size > 2048 || !bounded(data, size))
		return 0;
	if (!ready) {
		rec = jv_parse(plan);
		ready = 1;
	}
	vars = jv_object_set(jv_object(), jv_string("types"),
			     jv_object_set(jv_object(), jv_string("spatial_relation"),
					   jv_string("where things are")));
	mlde_error_clear(&err);
	t = mlde_template_new("fuzz.txt", (const char *)data, size, vars, &err);
	if (!t) {
		if (!err.msg[0])
			abort();
		return 0;
	}
	{
		size_t len = 0;
		char *out = mlde_template_render(t, rec, &len, &err);

		if (out && strlen(out) > len)
			abort();
		free(out);
	}
	mlde_template_free(t);
	return 0;
}
