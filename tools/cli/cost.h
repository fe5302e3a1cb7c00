/* cost.h - the cost options of every program that sends requests:
 * --dry-run (count and price what would be sent, send nothing) and
 * --prices (the price table), and the dry run's report. */
#ifndef MLDE_CLI_COST_H
#define MLDE_CLI_COST_H

#include <stdbool.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cost/dry.h"
#include "cost/price.h"
#include "cost/usage.h"
#include "gen/cache.h"

enum {
	MLDE_OPT_DRY_RUN = 0x1d0,  /* past the endpoint's and the Batch API's options */
	MLDE_OPT_PRICES,
};

#define MLDE_COST_LONGOPTS                                          \
	{ "dry-run", no_argument, 0, MLDE_OPT_DRY_RUN },            \
	{ "prices", required_argument, 0, MLDE_OPT_PRICES }

#define MLDE_COST_HELP                                                                    \
	"  --dry-run         render every request and send none: print on stdout how\n"     \
	"                    many, how many the reply cache holds, the estimated tokens\n"  \
	"                    and cost, a row per model (see the man page)\n"                            \
	"  --prices FILE     the price table (default: prompts/prices.tsv of the mlde\n"    \
	"                    tree, or $MLDE_PROMPTS/prices.tsv)\n"

typedef struct mlde_cost_opts {
	bool dry_run;
	const char *prices;  /* NULL: the default table */
} mlde_cost_opts;

/* Take option c into o: false when it is not one of MLDE_COST_LONGOPTS. */
bool mlde_cost_option(mlde_cost_opts *o, int c, const char *arg);
/* The reply cache of a dry run: dir (NULL: the default one) opened for
 * reading, 0 or -1 with err. */
int mlde_cli_dry_cache(mlde_cache *c, const char *dir, mlde_error *err);
/* The dry run's table on stdout (MLDE_DRY_HEADER, a row per model) and,
 * unless -q, its gist on stderr.  0,
 * or -1 with err: the price table cannot be read, stdout cannot be
 * written. */
int mlde_cli_dry_report(mlde_dry *d, const mlde_cost_opts *o, mlde_error *err);

#endif
