/* price.h - the price table (prompts/prices.tsv): per model, US dollars per
 * million input tokens, cached input tokens and output tokens, and the
 * Batch API's discount; what a run's usage cost, or an estimate will.  A
 * model the table does not name costs 0 (a self-hosted server), unless the
 * user adds a row for it.  Nothing here prints. */
#ifndef MLDE_PRICE_H
#define MLDE_PRICE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "cost/usage.h"

typedef struct mlde_price {
	char *model;
	double input, cached, output;  /* USD per million tokens; cached < 0: as input */
	double batch;                  /* the Batch API's price factor (0.5: half) */
	char *date;                    /* when the row's prices were read */
} mlde_price;

typedef struct mlde_prices {
	mlde_price *rows;
	size_t n;
} mlde_prices;

/* The default table (malloc'd): $MLDE_PROMPTS/prices.tsv, else
 * prompts/prices.tsv of the mlde tree (found from the program's path, as
 * mlde_prompt_default_path does), else NULL. */
char *mlde_prices_default_path(void);
/* Read a table: lines of model, input, cached ("-": as input), output,
 * batch, date, separated by tabs; '#' comments and blank lines skipped.
 * 0, or -1 with err (MLDE_EXIT_IO: cannot read; MLDE_EXIT_DATA: a bad line,
 * named FILE:LINE). */
int mlde_prices_load(mlde_prices *p, const char *path, mlde_error *err);
void mlde_prices_free(mlde_prices *p);
/* The row of model: its own, else the longest row name that model begins
 * with followed by '-' (a server's dated name, gpt-4o-2024-08-06, finds
 * gpt-4o); NULL when none. */
const mlde_price *mlde_prices_find(const mlde_prices *p, const char *model);
/* The cost in USD of prompt tokens (cached of them from the prompt cache)
 * and completion tokens at pr (NULL: 0), through the Batch API or not. */
double mlde_price_cost(const mlde_price *pr, double prompt, double cached, double completion,
		       bool batch);

#endif
