/* batchopt.c - the Batch API options, their environment, and the notes of
 * a batch (see batchopt.h). */
#include "cli/batchopt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/diag.h"

bool mlde_batch_option(const mlde_cli *cli, mlde_batch_cli *b, int c, const char *arg)
{
	switch (c) {
	case MLDE_OPT_BATCH_API: b->api = true; return true;
	case MLDE_OPT_BATCH_WRITE: b->write = arg; return true;
	case MLDE_OPT_BATCH_READ: b->read = arg; return true;
	case MLDE_OPT_BATCH_RETRY:
		if (strcmp(arg, "batch") == 0)
			b->retry = MLDE_BATCH_RETRY_BATCH;
		else if (strcmp(arg, "live") == 0)
			b->retry = MLDE_BATCH_RETRY_LIVE;
		else if (strcmp(arg, "none") == 0)
			b->retry = MLDE_BATCH_RETRY_NONE;
		else
			mlde_cli_usage_error(cli, "--batch-retry: '%s' is not one of batch, live, none",
					     arg);
		return true;
	default:
		return false;
	}
}

bool mlde_batch_collects(const mlde_batch_cli *b)
{
	return b->api || b->write;
}

void mlde_batch_check(const mlde_cli *cli, const mlde_batch_cli *b, bool named_files,
		      bool offline, bool dry_run)
{
	if (b->api && b->write)
		mlde_cli_usage_error(cli, "--batch-api and --batch-write: one or the other");
	if (mlde_batch_collects(b) && !named_files)
		mlde_cli_usage_error(cli, "%s reads the input twice: name FILEs, not stdin",
				     b->api ? "--batch-api" : "--batch-write");
	if (b->api && offline)
		mlde_cli_usage_error(cli, "--batch-api sends requests: not with --offline");
	if (dry_run && (mlde_batch_collects(b) || b->read))
		mlde_cli_usage_error(cli, "--dry-run: not with --batch-*");
}

/* A positive number from the environment, or def when unset. */
static double env_number(const mlde_cli *cli, const char *name, double def, double max)
{
	const char *s = getenv(name);
	char *end;
	double v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v > 0.0) || v > max)
		mlde_cli_usage_error(cli, "%s: '%s' is not a number in (0, %g]", name, s, max);
	return v;
}

static void on_note(void *ctx, const char *msg)
{
	(void)ctx;
	mlde_note(0, "%s", msg);
}

mlde_batch *mlde_batch_cli_new(const mlde_cli *cli, const mlde_batch_cli *b,
			       const mlde_endpoint_opts *o, const char *auth, const char *server,
			       mlde_cache *cache, mlde_http_check *check)
{
	mlde_batch_opts bo = {
		.base_url = o->base_url, .auth = auth, .endpoint = "/v1/chat/completions",
		.server = server, .cache = cache, .check = check, .retry = b->retry,
		.rounds = MLDE_BATCH_ROUNDS,
		.max_requests = (size_t)env_number(cli, "MLDE_BATCH_MAX_REQUESTS",
						   MLDE_BATCH_MAX_REQUESTS, MLDE_BATCH_MAX_REQUESTS),
		.max_bytes = (size_t)env_number(cli, "MLDE_BATCH_MAX_BYTES",
						(double)MLDE_BATCH_MAX_BYTES,
						(double)MLDE_BATCH_MAX_BYTES),
		.poll = env_number(cli, "MLDE_BATCH_POLL", 30.0, 3600.0),
		.retries = (int)o->retries, .timeout = o->timeout, .backoff = o->backoff,
		.seed = 1, .note = on_note,
	};

	return mlde_batch_new(&bo);
}

int mlde_batch_cli_finish(mlde_batch *bt, const mlde_batch_cli *b, mlde_error *err)
{
	mlde_batch_stats st;
	size_t n = mlde_batch_count(bt);

	mlde_batch_stats_get(bt, &st);
	if (b->write) {
		if (mlde_batch_write(bt, b->write, err) < 0)
			return -1;
		mlde_note(0, "%zu requests written to %s (%lu of %lu in the cache already)", n,
			  b->write, st.cached, st.added);
		return 0;
	}
	mlde_note(0, "batch: %zu requests to send (%lu of %lu in the cache already)", n, st.cached,
		  st.added);
	if (n == 0)
		return 0;
	if (mlde_batch_run(bt, err) < 0)
		return -1;
	mlde_batch_stats_get(bt, &st);
	mlde_note(0, "batch: %lu replies into the cache from %lu batch%s (%lu found again), "
		  "tokens %.0f (%.0f prompt, %.0f completion), %lu unanswered%s", st.answered,
		  st.batches, st.batches == 1 ? "" : "es", st.resumed,
		  st.prompt_tokens + st.completion_tokens, st.prompt_tokens,
		  st.completion_tokens, st.failed,
		  !st.failed ? "" : b->retry == MLDE_BATCH_RETRY_NONE ? ": they fail (--batch-retry none)"
		  : ": they go live");
	return 0;
}

int mlde_batch_cli_read(const mlde_batch_cli *b, mlde_cache *cache, mlde_http_check *check,
			mlde_error *err)
{
	unsigned long stored = 0, skipped = 0;

	if (!b->read)
		return 0;
	if (mlde_batch_read(cache, check, b->read, &stored, &skipped, err) < 0)
		return -1;
	mlde_note(0, "%s: %lu replies into the cache, %lu lines without one", b->read, stored,
		  skipped);
	return 0;
}
