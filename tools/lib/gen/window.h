/* window.h - the request window: requests submitted in order, answered from
 * the reply cache, made locally or sent through the HTTP client with up to
 * N in flight, and handed back strictly in submission order, whatever order
 * replies arrive in.  Every reply is stored in the cache before it is handed
 * back, so a run cut short loses nothing it paid for.  Errors come back in
 * an mlde_error; nothing here prints or exits. */
#ifndef MLDE_WINDOW_H
#define MLDE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/sha256.h"
#include "gen/cache.h"
#include "gen/http.h"

typedef struct mlde_window mlde_window;

/* Why a request failed for good (mlde_window_done.reason). */
#define MLDE_WINDOW_FAILED "request-failed"   /* the endpoint did not give a usable reply */
#define MLDE_WINDOW_NOT_CACHED "not-cached"   /* no reply in the cache, and nothing sends */

/* Make the reply of a request here rather than send it (a local backend):
 * a malloc'd body and its length, or NULL with err set, which ends the run.
 * user is the request's, as submitted. */
typedef char *mlde_window_make(void *ctx, void *user, const char *body, size_t len,
			       size_t *reply_len, mlde_error *err);

typedef struct mlde_window_opts {
	size_t cap;                 /* requests held at most: submitted, not yet taken */
	mlde_cache *cache;          /* borrowed; NULL: no cache */
	const mlde_http_opts *http; /* send what the cache lacks to this endpoint, or */
	mlde_window_make *make;     /* make it here (http NULL); neither: offline, a */
	void *make_ctx;             /* miss is a failure, MLDE_WINDOW_NOT_CACHED */
	/* The default check of a reply, from the cache or a 2xx body (NULL: any
	 * reply will do); an unusable cache entry is asked again, an unusable
	 * 2xx body retried.  Replies of make are trusted. */
	mlde_http_check *check;
	void (*drop)(void *user);   /* frees the user of a request never taken (NULL: none) */
	/* Where the replies come from, for the cache key (mlde_window_cache_key):
	 * the endpoint URL, the same when sending and when --offline, so a
	 * reply from one server is never served for another.  NULL: the key is
	 * the body's sha256 alone (a local backend, whose body says it all). */
	const char *server;
} mlde_window_opts;

/* A finished request, in submission order. */
typedef struct mlde_window_done {
	void *user;                 /* as submitted */
	char key[MLDE_SHA256_HEX];  /* sha256 of the request body (provenance); the
				     * cache key too when the window has no server */
	bool ok;                    /* a reply came */
	bool cached;                /* ... from the cache */
	char *reply;                /* ok: the reply body, NUL-terminated, yours to free */
	size_t reply_len;
	const char *reason;         /* !ok: MLDE_WINDOW_FAILED or MLDE_WINDOW_NOT_CACHED */
	char error[1024];           /* !ok: what went wrong */
	/* The cache held an entry the check refused (why says why): it was
	 * treated as missing and is replaced by the new reply. */
	bool cache_unusable;
	char cache_why[200];
	long status;                /* the HTTP status of the last attempt; 0: none */
	char cache_key[MLDE_SHA256_HEX];  /* the reply's name in the cache */
} mlde_window_done;

typedef struct mlde_window_stats {
	unsigned long submitted, taken;
	unsigned long from_cache, made, not_cached, cache_unusable;
	mlde_http_stats http;       /* all zero without an endpoint */
} mlde_window_stats;

/* The cache key of a request: sha256 of the server (the endpoint URL), a
 * newline and the body; without a server (NULL), sha256 of the body. */
void mlde_window_cache_key(const char *server, const char *body, size_t len,
			   char out[MLDE_SHA256_HEX]);
/* NULL with err when the HTTP client cannot be made. */
mlde_window *mlde_window_new(const mlde_window_opts *o, mlde_error *err);
/* Room for this many more submissions. */
size_t mlde_window_room(const mlde_window *w);
/* Requests submitted and not yet taken. */
size_t mlde_window_held(const mlde_window *w);
/* Submit a request (body is copied): looked up in the cache now, then made
 * or queued for sending.  tokens: its estimated cost for a tpm limit;
 * check: its own reply check (NULL: the window's).  0, or -1 with err (a
 * cache that cannot be read or written, a failure of make, no room): the
 * request is not held then, and user stays the caller's. */
int mlde_window_submit(mlde_window *w, const char *body, size_t len, double tokens,
		       mlde_http_check *check, void *user, mlde_error *err);
/* Take the oldest request once it is finished, waiting at most wait_ms for
 * it: 1 and *d filled; 0 when it is not finished yet, or nothing is held;
 * -1 with err when the run cannot go on: the endpoint refuses everyone
 * (401, 403, 404, a bad URL: MLDE_EXIT_REMOTE, d->status set to the HTTP
 * status), a reply cannot be stored, libcurl fails.  The error stays: every
 * later call returns it again. */
int mlde_window_next(mlde_window *w, int wait_ms, mlde_window_done *d, mlde_error *err);
void mlde_window_stats_get(const mlde_window *w, mlde_window_stats *st);
/* Requests not taken are dropped, their users passed to drop. */
void mlde_window_free(mlde_window *w);

#endif
