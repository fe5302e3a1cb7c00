/* http.h - many JSON POST requests to one endpoint at once, through
 * libcurl's multi interface on one thread: a bounded number in flight,
 * requests-per-minute and tokens-per-minute limits, the server's own limits
 * from its x-ratelimit-* headers, a concurrency that adapts to 429s and
 * latency (gen/ratelimit.h), and retries with
 * exponential backoff and jitter that honour Retry-After, on 429, 5xx,
 * timeouts, connection errors and bodies the caller cannot use.
 *
 * The caller submits request bodies and polls; each request comes back
 * exactly once, through the done callback, as a success or a failure for
 * good.  Every request put on the wire is an attempt, under the retries and
 * the limits: libcurl's own re-send on a reused connection that closed is
 * refused, and retried here instead.  Only a bad URL and 401, 403, 404 are
 * fatal; any other failure of an attempt (a malformed reply included) is
 * retried.  The key travels only in the header line the caller gives, which is
 * wiped from memory when the client is freed.  Nothing here prints. */
#ifndef MLDE_HTTP_H
#define MLDE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"  /* mlde_now, which the limits run on */
#include "base/err.h"
#include "gen/ratelimit.h"

typedef struct mlde_http mlde_http;

/* Is a 2xx body usable?  0 yes; -1 no, why set: retried like a 5xx. */
typedef int mlde_http_check(const char *body, size_t len, char *why, size_t whylen);

typedef struct mlde_http_opts {
	const char *url;        /* the endpoint, e.g. https://api.openai.com/v1/chat/completions */
	const char *auth;       /* a header line ("Authorization: Bearer ..."), or NULL */
	int parallel;           /* requests in flight at most (>= 1) */
	double rpm, tpm;        /* requests and tokens per minute; 0: no limit */
	int retries;            /* attempts after the first, at most */
	double timeout;         /* seconds per attempt */
	double backoff;         /* the first retry waits about this long (seconds) */
	double backoff_max;     /* and no retry waits longer, Retry-After aside */
	uint64_t seed;          /* of the jitter */
	mlde_http_check *check; /* of every 2xx body, unless a request brings its own */
} mlde_http_opts;

typedef struct mlde_http_result {
	void *user;             /* as submitted */
	bool ok;                /* a 2xx body the check accepted */
	bool fatal;             /* the endpoint refuses everyone (401, 403, 404,
				 * a bad URL): no later request can succeed */
	long status;            /* HTTP status of the last attempt, 0 when none */
	int attempts;
	char *body;             /* ok: the body, malloc'd, the callee's to free */
	size_t len;
	char error[300];        /* !ok: what went wrong the last time, the key
				 * scrubbed; the same words for the same cause
				 * (a report counts by it), then " (N attempts)"
				 * when it was retried, or " (not sent)" */
} mlde_http_result;

typedef struct mlde_http_stats {
	unsigned long attempts;   /* requests put on the wire */
	unsigned long retries;    /* of those, repeats */
	unsigned long ok, failed; /* requests finished */
	unsigned long in_flight, waiting;  /* now: on the wire; queued or backing off */
	unsigned long throttled;  /* 429 answers */
	unsigned long limited;    /* requests held back by rpm or tpm at least once */
	unsigned long unsent;     /* of those failed: never sent, as nothing could
				   * connect (no attempt ever reached the server,
				   * and a first retry did not either: then every
				   * request waiting fails at once) */
	mlde_ratelimit_stats pacing;  /* what held requests back; the server's
				       * limits and the adaptive concurrency */
} mlde_http_stats;

mlde_http *mlde_http_new(const mlde_http_opts *opts, mlde_error *err);
/* Queue a request.  body stays the caller's and must live until its result
 * comes back; tokens is its estimated cost for the tpm limit. */
void mlde_http_submit(mlde_http *h, const char *body, size_t len, double tokens, void *user);
/* The same, checking its 2xx body with check (NULL: no check) rather than
 * the client's. */
void mlde_http_submit_checked(mlde_http *h, const char *body, size_t len, double tokens,
			      mlde_http_check *check, void *user);
typedef void mlde_http_done(void *ctx, mlde_http_result *r);
/* Move transfers on, waiting at most wait_ms for something to happen;
 * finished requests go to done (r and r->body are the callee's until it
 * returns, but it may keep body: set r->body to NULL).  Returns the number
 * finished, or -1 with err on a libcurl failure. */
int mlde_http_poll(mlde_http *h, int wait_ms, mlde_http_done *done, void *ctx, mlde_error *err);
/* Requests submitted and not finished. */
size_t mlde_http_pending(const mlde_http *h);
void mlde_http_stats_get(const mlde_http *h, mlde_http_stats *st);

/* A request other than a JSON POST to the client's URL, for the Batch
 * API's files and batches (gen/batch.h).  Its pointers are borrowed: they
 * must live until its result comes back. */
typedef struct mlde_http_call {
	const char *url;        /* NULL: the client's */
	bool get;               /* GET (the body is ignored), else POST */
	/* POST multipart/form-data rather than JSON: a "purpose" part and a
	 * "file" part holding form_len bytes of form_data named form_name */
	const char *purpose, *form_name, *form_data;
	size_t form_len;
	size_t body_max;        /* a reply larger is refused; 0: the default (64 MiB) */
} mlde_http_call;
/* Queue such a request; body (JSON) as for mlde_http_submit_checked. */
void mlde_http_submit_call(mlde_http *h, const mlde_http_call *c, const char *body, size_t len,
			   mlde_http_check *check, void *user);
void mlde_http_free(mlde_http *h);

#endif
