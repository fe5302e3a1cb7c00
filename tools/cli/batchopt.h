/* batchopt.h - the Batch API options of the programs that send requests
 * (mlde-gen; mlde-eval's http backend): --batch-api, --batch-retry,
 * --batch-write and --batch-read, the MLDE_BATCH_* environment, and the
 * notes of a batch on stderr.  The pass that fills the reply cache runs
 * before the program's own, which then finds every reply there
 * (gen/batch.h). */
#ifndef MLDE_BATCHOPT_H
#define MLDE_BATCHOPT_H

#include <stdbool.h>

#include "cli/cli.h"
#include "cli/endpoint.h"
#include "gen/batch.h"

enum {
	MLDE_OPT_BATCH_API = 0x1c0,  /* after the endpoint options, before a program's own */
	MLDE_OPT_BATCH_RETRY, MLDE_OPT_BATCH_WRITE, MLDE_OPT_BATCH_READ,
};

#define MLDE_BATCH_LONGOPTS                                                \
	{ "batch-api", no_argument, 0, MLDE_OPT_BATCH_API },               \
	{ "batch-retry", required_argument, 0, MLDE_OPT_BATCH_RETRY },     \
	{ "batch-write", required_argument, 0, MLDE_OPT_BATCH_WRITE },     \
	{ "batch-read", required_argument, 0, MLDE_OPT_BATCH_READ }

/* Batches of what failed, after the first, with --batch-retry batch. */
#define MLDE_BATCH_ROUNDS 2

/* The options' help, WHAT sent; PAD ("" or spaces) moves the text to the
 * column of the program's other options (mlde-gen's 20, mlde-eval's 22). */
#define MLDE_BATCH_HELP(WHAT, PAD)                                                 \
	"  --batch-api       " PAD "send " WHAT " through the Batch API (half the\n" \
	"                    " PAD "price, done within 24 h) into the cache first, then\n" \
	"                    " PAD "run; reads FILE twice (not stdin); a rerun finds\n" \
	"                    " PAD "its batches again\n"                                \
	"  --batch-retry R   " PAD "what a batch did not answer: batch (default:\n"    \
	"                    " PAD "batched again, up to " MLDE_STR(MLDE_BATCH_ROUNDS) " times, then live), live\n" \
	"                    " PAD "(sent as usual), none (failed, as with --offline)\n" \
	"  --batch-write FILE  only write the batch input file of " WHAT "\n"        \
	"                    " PAD "the cache lacks (vLLM's run_batch reads it), and\n" \
	"                    " PAD "stop\n"                                             \
	"  --batch-read FILE   fill the cache from a batch output file first\n"

typedef struct mlde_batch_cli {
	bool api;                  /* --batch-api */
	mlde_batch_retry retry;
	const char *write, *read;  /* --batch-write, --batch-read; NULL: none */
} mlde_batch_cli;

/* Take option c into b: false when it is not one of MLDE_BATCH_LONGOPTS. */
bool mlde_batch_option(const mlde_cli *cli, mlde_batch_cli *b, int c, const char *arg);
/* Does the run begin with a pass that only collects its requests? */
bool mlde_batch_collects(const mlde_batch_cli *b);
/* Usage errors of the options together: --batch-api and --batch-write
 * need named files (the input is read twice) and each other's absence;
 * --batch-api sends, so not with --offline; none of them with --dry-run,
 * which sends nothing either way. */
void mlde_batch_check(const mlde_cli *cli, const mlde_batch_cli *b, bool named_files,
		      bool offline, bool dry_run);
/* The batch of a run that collects: to the endpoint of o (its base URL),
 * with auth, the cache key's server and the cache; its limits and poll
 * interval from MLDE_BATCH_MAX_REQUESTS, MLDE_BATCH_MAX_BYTES and
 * MLDE_BATCH_POLL (a bad value is a usage error). */
mlde_batch *mlde_batch_cli_new(const mlde_cli *cli, const mlde_batch_cli *b,
			       const mlde_endpoint_opts *o, const char *auth, const char *server,
			       mlde_cache *cache, mlde_http_check *check);
/* Once every request is added: write the input file (--batch-write) or run
 * the batches (--batch-api), with a note of what came of it. */
int mlde_batch_cli_finish(mlde_batch *bt, const mlde_batch_cli *b, mlde_error *err);
/* --batch-read: the cache filled from its file, with a note. */
int mlde_batch_cli_read(const mlde_batch_cli *b, mlde_cache *cache, mlde_http_check *check,
			mlde_error *err);

#endif
