/* dry.h - the dry run of a program that sends requests: every request it
 * would send, counted per model without sending it: how many the reply
 * cache already holds (they cost nothing), the input tokens of the others
 * (estimate.h), their output tokens at most (max_tokens) and as the
 * cache's history says (the mean completion tokens of cached replies of the
 * same model), and what that costs at a price table.  Nothing here prints
 * or connects. */
#ifndef MLDE_DRY_H
#define MLDE_DRY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "cost/price.h"
#include "gen/cache.h"

typedef struct mlde_dry_model {
	char *model;
	unsigned long requests, in_cache;
	double input;              /* estimated input tokens of those not in the cache */
	double output_max;         /* their max_tokens summed: the ceiling */
	unsigned long history;     /* cached replies of this model that tell their usage */
	double history_completion; /* ... their completion tokens, summed */
} mlde_dry_model;

typedef struct mlde_dry {
	const mlde_cache *cache;   /* borrowed; NULL or dir NULL: none */
	mlde_dry_model *m;
	size_t n;
} mlde_dry;

void mlde_dry_init(mlde_dry *d, const mlde_cache *cache);
/* Count one request body, whose cache key takes server as the window's
 * does (gen/window.h; NULL: the body alone).  A request without
 * max_tokens counts 0 output tokens at most (an embedding).  0, or -1
 * with err when the cache cannot be read. */
int mlde_dry_add(mlde_dry *d, const char *server, const char *body, size_t len,
		 mlde_error *err);
/* For each model whose requests met no cached reply, look for its history
 * in the whole cache, max_entries entries at most. */
void mlde_dry_scan_history(mlde_dry *d, size_t max_entries);
void mlde_dry_free(mlde_dry *d);

/* The tab-separated header and the rows of the dry run, one per model:
 * program, model, requests, in_cache, to_send, input_tokens,
 * output_tokens_max, output_tokens (the history's mean times to_send, or
 * the ceiling without history), history (replies it is the mean of),
 * usd_max, usd, usd_batch (prices: NULL, or no row: 0), price (the row's
 * model and date, or "none"). */
#define MLDE_DRY_HEADER "program\tmodel\trequests\tin_cache\tto_send\tinput_tokens\t" \
	"output_tokens_max\toutput_tokens\thistory\tusd_max\tusd\tusd_batch\tprice\n"
void mlde_dry_rows(const mlde_dry *d, const char *program, const mlde_prices *prices,
		   mlde_buf *b);
/* The estimated output tokens of m: its history's mean per request, or
 * the ceiling. */
double mlde_dry_output(const mlde_dry_model *m);

#endif
