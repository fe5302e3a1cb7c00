/* usage.h - the token usage an OpenAI-compatible server reports in a reply
 * ("usage": prompt_tokens, completion_tokens, and prompt_tokens_details.
 * cached_tokens when it reports them): read from a reply, kept in records
 * as "usage", and summed for a program's summary.  A reply served from the
 * reply cache keeps its usage but is summed apart: it cost nothing now.
 * Nothing here prints. */
#ifndef MLDE_USAGE_H
#define MLDE_USAGE_H

#include <stdbool.h>
#include <jv.h>

#include "base/buf.h"

#define MLDE_F_USAGE "usage"

typedef struct mlde_usage {
	bool known;           /* the reply reported its usage */
	bool cached_known;    /* ... and the cached part of its prompt */
	double prompt, completion;
	double cached;        /* of prompt: tokens the server's prompt cache served */
} mlde_usage;

/* The usage of a reply body (borrowed); known is false when it has none
 * (the world backend's replies, a server that does not count). */
mlde_usage mlde_usage_of_reply(jv body);
/* The usage of a record's "usage" object (borrowed), as mlde_usage_json
 * writes it; known is false when rec has none. */
mlde_usage mlde_usage_of_record(jv rec);
/* {prompt_tokens, completion_tokens[, cached_tokens]}: the record's form. */
jv mlde_usage_json(const mlde_usage *u);
/* obj (an object, consumed) with "usage" set when u is known, else as it
 * was: records of a backend without usage stay byte for byte as before. */
jv mlde_usage_set(jv obj, const mlde_usage *u);

typedef struct mlde_usage_sum {
	unsigned long replies;      /* paid for by this run, with usage */
	double prompt, completion, cached;
	unsigned long from_cache;   /* served from the reply cache, with usage */
	double cache_prompt, cache_completion;
} mlde_usage_sum;

/* Add one reply's usage (nothing when it is not known). */
void mlde_usage_add(mlde_usage_sum *s, const mlde_usage *u, bool from_reply_cache);
void mlde_usage_merge(mlde_usage_sum *into, const mlde_usage_sum *s);
/* "tokens T (P prompt, C completion, K cached prompt)", then, when the
 * reply cache served replies with usage, "; the reply cache saved P
 * prompt, C completion" - the words of every program's summary. */
void mlde_usage_format(const mlde_usage_sum *s, mlde_buf *b);

#endif
