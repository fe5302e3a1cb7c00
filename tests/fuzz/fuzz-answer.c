/* fuzz-answer.c - libFuzzer target: reading a served model's answer
 * (eval/answer.c) and the other replies mlde-eval takes (eval/chat.c's
 * embeddings check).  The first byte chooses the number of options (2 to
 * 8); the options are the next lines, the rest is the reply; the whole
 * input is also tried as a chat completion choice for the scores. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "eval/answer.h"
#include "eval/chat.h"

#define MAX_OPTIONS 8

/* The options: the next n lines of p (NUL-terminated copies in buf). */
static size_t take_options(const char *p, size_t size, size_t n, char *buf,
			   const char **options, size_t *used)
{
	size_t at = 0, k = 0;

	while (k < n) {
		const char *nl = memchr(p + at, '\n', size - at);
		size_t len = nl ? (size_t)(nl - (p + at)) : size - at;

		memcpy(buf, p + at, len);
		buf[len] = '\0';
		options[k++] = buf;
		buf += len + 1;
		at += len + (nl != NULL);
		if (!nl)
			break;
	}
	while (k < n)
		options[k++] = "";
	*used = at;
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *options[MAX_OPTIONS];
	double scores[MAX_OPTIONS];
	mlde_answer_rule rule;
	char why[200], *buf;
	size_t n, used;
	int pred;
	jv v;

	if (size < 1)
		return 0;
	n = 2 + data[0] % (MAX_OPTIONS - 1);
	buf = malloc(size + MAX_OPTIONS);
	take_options((const char *)data + 1, size - 1, n, buf, options, &used);
	pred = mlde_answer_extract((const char *)data + 1 + used, size - 1 - used, options, n, &rule);
	/* an answer is one of the options, read by a rule that reads answers */
	if (pred >= (int)n || pred < -1)
		abort();
	if ((pred >= 0) != (rule == MLDE_ANSWER_LETTER || rule == MLDE_ANSWER_FORM ||
			    rule == MLDE_ANSWER_TEXT))
		abort();
	if (!mlde_answer_rule_name(rule))
		abort();
	free(buf);

	v = jv_parse_sized((const char *)data, (int)size);
	if (jv_is_valid(v) && mlde_answer_scores(v, n, scores) == 0) {
		double sum = 0;

		for (size_t i = 0; i < n; i++) {
			if (!(scores[i] >= 0 && scores[i] <= 1))
				abort();
			sum += scores[i];
		}
		if (sum < 0.999 || sum > 1.001)
			abort();
	}
	jv_free(v);
	mlde_chat_check_embedding((const char *)data, size, why, sizeof why);
	return 0;
}
