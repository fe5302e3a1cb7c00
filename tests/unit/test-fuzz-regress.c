/* test-fuzz-regress.c - make check replays what the fuzz targets
 * (tests/fuzz/fuzz-*.c) found: every input kept under
 * tests/fuzz/regress/NAME/ goes through target NAME again, built here with
 * the ordinary compiler (and under ASan and UBSan by make SANITIZE=1
 * check), plus a few inputs of each target's own so none goes untried.
 * A crash ends the run short of its plan, which prove reports. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LLVMFuzzerTestOneInput fuzz_jsonl
#include "../fuzz/fuzz-jsonl.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_reply
#include "../fuzz/fuzz-reply.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_template
#include "../fuzz/fuzz-template.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_png
#include "../fuzz/fuzz-png.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_safetensors
#include "../fuzz/fuzz-safetensors.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_answer
#include "../fuzz/fuzz-answer.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_import
#include "../fuzz/fuzz-import.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_http
#include "../fuzz/fuzz-http.c"
#undef LLVMFuzzerTestOneInput

#include "tap.h"

typedef int target(const uint8_t *data, size_t size);

static const struct {
	const char *name;
	target *run;
	const char *own[4];  /* inputs of its own, NUL-free text */
} targets[] = {
	{ "jsonl", fuzz_jsonl, { "\0\0{\"a\":1}\n", "\1\0{\"a\":\"\\u0000\"}\n{\"b\":2}",
				 "\2\5{\"a\":1}\n{\"a\":2}\n", "\3\7{\"a\":[1,2,3]}\n" } },
	{ "reply", fuzz_reply, { "Question: Q?\nChoices: (A) a (B) b\nAnswer: (B) b\n",
				 "{\"choices\":[{\"message\":{\"content\":\"x\"}}]}", "", "(A" } },
	{ "template", fuzz_template, { "{{ .id }} and {{ .query.objects | map(.bbox | box) }}",
				       "{{ .", "}} {{ {{ }}", "{{ error(\"x\") }}" } },
	{ "png", fuzz_png, { "\x89PNG\r\n\x1a\n", "", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", NULL } },
	{ "safetensors", fuzz_safetensors, { "\x08\0\0\0\0\0\0\0{}      ",
					     "\x02\0\0\0\0\0\0\0{}", "", NULL } },
	{ "answer", fuzz_answer, { "\x02a circle\na square\nThe answer is (B).", "\x01x\ny\n**B**",
				   "{\"logprobs\":{\"content\":[{\"token\":\"A\",\"logprob\":0}]}}", "" } },
	{ "import", fuzz_import, { "\x04index\tquestion\tA\tB\tanswer\timage\tcategory\n1\tq\ta\tb\tA\tx\tc\n",
				   "\x01[{\"question_type_id\":1}]", "\x02[{\"choices\":[\"a\"]}]",
				   "\x03[{},{}]" } },
	{ "http", fuzz_http, { "\x01\x03\x01\x07\x02HTTP/1.1 200 OK\r\n\r\n"
			       "{\"choices\":[{\"message\":{\"content\":\"Question: Q?\"}}]}",
			       "\x02\x01\x01\x01\x01HTTP/2 200 \r\n\r\n{\"data\":[{\"embedding\":[1]}]}",
			       "\x05\x10\x10\x10\x10HTTP/1.1 429 Slow\r\nRetry-After: 2\r\n\r\n{\"error\":\"sk-fuzz-0123\"}",
			       "\x09\x01\x01\x01\x01no status line\r\n\r\n" } },
};

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (!f)
		return NULL;
	do {
		if (*len + 65536 > cap)
			buf = mlde_xrealloc(buf, cap = cap * 2 + 65536);
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	return buf;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every file of DIR/regress/name through run. */
static void replay(const char *top, const char *name, target *run)
{
	char dir[4096];
	char *files[1024];
	size_t nfiles = 0;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/regress/%s", top, name);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d)) && nfiles < sizeof files / sizeof *files)
		if (e->d_name[0] != '.')
			files[nfiles++] = mlde_xstrdup(e->d_name);
	closedir(d);
	qsort(files, nfiles, sizeof *files, by_name);
	for (size_t i = 0; i < nfiles; i++) {
		char path[8192];
		size_t len;
		unsigned char *data;

		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		data = slurp(path, &len);
		TAP_OK(data != NULL, "%s: regress/%s/%s read", name, name, files[i]);
		if (data) {
			run(data, len);
			TAP_OK(1, "%s: regress/%s/%s replays without a crash", name, name, files[i]);
		}
		free(data);
		free(files[i]);
	}
}

int main(void)
{
	const char *top = getenv("MLDE_FUZZ_DIR");

	if (!top) {
		printf("Bail out! set MLDE_FUZZ_DIR to tests/fuzz\n");
		return 1;
	}
	for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
		for (int i = 0; i < 4 && targets[t].own[i]; i++) {
			/* the first two bytes of a jsonl input (its framing)
			 * may be NUL: its length is that of the text after them */
			const char *s = targets[t].own[i];
			size_t len = t == 0 ? 2 + strlen(s + 2) : strlen(s);
			targets[t].run((const uint8_t *)s, len);
			TAP_OK(1, "%s: input %d of its own runs", targets[t].name, i + 1);
		}
		replay(top, targets[t].name, targets[t].run);
	}
	return TAP_DONE();
}
