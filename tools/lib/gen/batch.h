/* batch.h - requests sent through OpenAI's Batch API (half the price, an
 * answer within 24 hours) rather than one by one: the requests a run will
 * make are added first; those the reply cache lacks become the lines of a
 * batch input file ({"custom_id": the cache key, "method": "POST", "url":
 * the endpoint, "body": the very body the live path sends}), split into
 * batches within the API's limits, uploaded (POST files, purpose "batch"),
 * created (POST batches), polled (GET batches/ID) and, once done, their
 * output and error files downloaded: every reply goes into the cache under
 * its custom_id, so the run that follows finds each one there, as would a
 * later live run.  What failed or expired is batched again, or left for
 * the live path.  A small state file per batch (in the cache directory,
 * named by the sha256 of its input file, so by the set of its requests)
 * lets a run killed while waiting find its batch again instead of making a
 * second one.  The same input and output files are those of vLLM's offline
 * run_batch.  Nothing here prints: news goes to a callback. */
#ifndef MLDE_BATCH_H
#define MLDE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "gen/cache.h"
#include "gen/http.h"

/* The API's limits of one batch (its input file). */
#define MLDE_BATCH_MAX_REQUESTS 50000
#define MLDE_BATCH_MAX_BYTES ((size_t)200 << 20)

/* What becomes of the requests a batch did not answer (failed, expired,
 * cancelled): another batch of them, the live path, or nothing. */
typedef enum mlde_batch_retry {
	MLDE_BATCH_RETRY_BATCH, MLDE_BATCH_RETRY_LIVE, MLDE_BATCH_RETRY_NONE,
} mlde_batch_retry;

typedef void mlde_batch_note(void *ctx, const char *msg);

typedef struct mlde_batch_opts {
	const char *base_url;      /* ".../v1": files/ and batches/ lie under it */
	const char *auth;          /* the header line of the key, or NULL */
	const char *endpoint;      /* of each line and of the batch: "/v1/chat/completions" */
	const char *server;        /* the server part of the cache key (gen/window.h) */
	mlde_cache *cache;         /* borrowed: replies, and DIR/batches/ the state files */
	mlde_http_check *check;    /* of each reply body (NULL: any) */
	mlde_batch_retry retry;
	int rounds;                /* RETRY_BATCH: batches of what failed, at most */
	size_t max_requests;       /* per batch; 0: MLDE_BATCH_MAX_REQUESTS */
	size_t max_bytes;          /* of its input file; 0: MLDE_BATCH_MAX_BYTES */
	double poll;               /* seconds between two looks at a batch, at most: the
				    * first wait is 0.1 s, each next one twice as long */
	int retries;               /* of each HTTP request, as mlde_http_opts */
	double timeout, backoff;
	uint64_t seed;
	mlde_batch_note *note;     /* news for the user: states, ids, counts */
	void *note_ctx;
} mlde_batch_opts;

typedef struct mlde_batch_stats {
	unsigned long added;       /* requests added (distinct) */
	unsigned long cached;      /* of those, in the cache already */
	unsigned long batches;     /* batches created (or found again) */
	unsigned long resumed;     /* of those, found again from a state file */
	unsigned long answered;    /* replies put in the cache */
	unsigned long failed;      /* requests still unanswered at the end */
	double prompt_tokens, completion_tokens;  /* the usage the replies report */
} mlde_batch_stats;

typedef struct mlde_batch mlde_batch;

mlde_batch *mlde_batch_new(const mlde_batch_opts *o);
/* Add a request body (copied).  0, or -1 with err when the cache cannot be
 * read.  A body the cache answers, or added before, is counted only. */
int mlde_batch_add(mlde_batch *b, const char *body, size_t len, mlde_error *err);
/* Requests to send: added, distinct, not in the cache. */
size_t mlde_batch_count(mlde_batch *b);
/* Write them as one batch input file at path (no limits: for vLLM's
 * run_batch, or an upload by hand).  0, or -1 with err (MLDE_EXIT_IO). */
int mlde_batch_write(mlde_batch *b, const char *path, mlde_error *err);
/* Send them: upload, create, poll until every batch is done, fill the
 * cache, and batch again what failed (RETRY_BATCH, up to rounds times).
 * 0 when every batch came to an end (what is still unanswered is counted
 * in stats.failed, for the live path or none); -1 with err when the API
 * cannot be used (MLDE_EXIT_REMOTE) or the cache not written. */
int mlde_batch_run(mlde_batch *b, mlde_error *err);
void mlde_batch_stats_get(const mlde_batch *b, mlde_batch_stats *st);
void mlde_batch_free(mlde_batch *b);

/* Fill cache from a batch output (or error) file at path: each line whose
 * custom_id is a cache key and whose response has status 200 and a body
 * check accepts.  *stored and *skipped count the lines (either may be
 * NULL).  0, or -1 with err: the file cannot be read (MLDE_EXIT_IO), a
 * line is not JSON (MLDE_EXIT_DATA, "path:line: ..."). */
int mlde_batch_read(mlde_cache *cache, mlde_http_check *check, const char *path,
		    unsigned long *stored, unsigned long *skipped, mlde_error *err);

#endif
