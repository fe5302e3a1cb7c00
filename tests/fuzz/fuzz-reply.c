/* fuzz-reply.c - libFuzzer target: the reply parser (gen/reply.c): the
 * Question / Choices / Answer text of a generator, and the chat
 * completion body it comes in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gen/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mlde_reply r;
	char why[200];
	int rc = mlde_reply_parse((const char *)data, size, &r);

	/* accepted: a whole item; rejected: a reason */
	if (rc == 0 && (!r.question || r.noptions < MLDE_OPTIONS_MIN ||
			r.noptions > MLDE_OPTIONS_MAX || r.answer < 0 || r.answer >= r.noptions))
		abort();
	if (rc < 0 && !r.reason)
		abort();
	mlde_reply_free(&r);
	mlde_reply_check_completion((const char *)data, size, why, sizeof why);
	{
		char *s = malloc(size + 1);

		memcpy(s, data, size);
		s[size] = '\0';
		mlde_reply_strip_boxes(s);
		free(s);
	}
	return 0;
}
