/* response.h - one HTTP response, read without a socket: an accumulator
 * fed the header lines and body chunks as libcurl hands them over (the
 * status, Retry-After, the body within its limit), and the classification
 * of the finished response into the outcome of the attempt and its cause,
 * in the words mlde_http reports (the API key scrubbed from them).
 * mlde_http's curl callbacks feed it; tests/fuzz/fuzz-http.c drives it
 * with whole responses cut at chosen points.  Nothing here prints. */
#ifndef MLDE_RESPONSE_H
#define MLDE_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/buf.h"

#define MLDE_RESPONSE_BODY_MAX ((size_t)64 << 20)   /* a larger body is refused */
/* a header line longer is refused: libcurl's own limit
 * (CURL_MAX_HTTP_HEADER), which fails the transfer before such a line
 * reaches its callback; here for a response read without libcurl */
#define MLDE_RESPONSE_LINE_MAX ((size_t)100 << 10)
#define MLDE_RESPONSE_RETRY_AFTER_MAX 600.0         /* seconds; a longer wait is cut to this */
#define MLDE_RESPONSE_KEY_PIECE 6                   /* a piece of the key this long is scrubbed too */

typedef struct mlde_response {
	size_t body_max, line_max;  /* the limits: MLDE_RESPONSE_*_MAX unless lowered */
	long status;          /* of the last status line; 0 before one */
	double retry_after;   /* seconds the server asked for; < 0 none */
	bool too_big;         /* the body passed body_max: the rest was refused */
	bool no_status;       /* the first line is no status line (HTTP/0.9):
			       * no more lines are read, status stays 0 */
	bool want_status;     /* the next line may be a status line */
	bool line_too_big;    /* a header line passed line_max */
	mlde_buf body;        /* what was kept of the body */
} mlde_response;

/* Is a 2xx body usable?  0 yes; -1 no, why set.  (mlde_http_check.) */
typedef int mlde_response_check(const char *body, size_t len, char *why, size_t whylen);

typedef enum mlde_response_outcome {
	MLDE_RESPONSE_OK,     /* a 2xx body the check accepted */
	MLDE_RESPONSE_RETRY,  /* this attempt failed; another may not (429, 408,
			       * 409, 5xx, an unusable 2xx body, a head no
			       * client may read) */
	MLDE_RESPONSE_FAIL,   /* failed, and the same request would fail again
			       * (other 4xx, a body over the limit, one that
			       * holds the key) */
	MLDE_RESPONSE_FATAL,  /* refused for everyone: 401, 403, 404 */
} mlde_response_outcome;

/* Ready r for a new response (its memory kept; zeroed r is fine), with the
 * default limits. */
void mlde_response_start(mlde_response *r);
void mlde_response_free(mlde_response *r);
/* One header line as libcurl gives it: the status line or a header, its
 * CR LF included (or not), the blank line that ends the head too, and
 * the trailers after the body.  now is the clock an HTTP-date Retry-After
 * is read against.  The status line after a head (of a 1xx) sets the
 * status again; headers already read stay. */
void mlde_response_header(mlde_response *r, const char *line, size_t len, time_t now);
/* A piece of the body.  0, or -1 when it would pass body_max: too_big is
 * set, nothing of it kept, and the transfer should end. */
int mlde_response_body(mlde_response *r, const char *data, size_t len);

/* The outcome of the finished response r, and in cause (len bytes) why it
 * failed ("HTTP 429: the server's message", "HTTP 200 but an unusable
 * reply: ...", ...), the same words for the same cause, key (NULL: none)
 * scrubbed; "" when it did not.  check (NULL: none) is asked about a 2xx
 * body that holds no key. */
mlde_response_outcome mlde_response_classify(const mlde_response *r, const char *key,
					     mlde_response_check *check, char *cause, size_t len);

/* Put "***" in s, in place, for every copy of key and every piece of it
 * MLDE_RESPONSE_KEY_PIECE bytes long or longer (a message cut short may
 * end in the key's first bytes; a server may echo part of it).  A key
 * shorter than 4 bytes is left alone. */
void mlde_response_scrub(const char *key, char *s);
/* Does body (len bytes) hold key, as bytes or in a JSON string once its
 * escapes are decoded ("\u0073k-...")? */
bool mlde_response_holds_key(const char *key, const char *body, size_t len);

#endif
