/* remote.h - why requests to a server failed, told on standard error: the
 * first few distinct causes, each with the number of requests it failed
 * ("connection refused to 127.0.0.1:6557 (200 requests)", a 400's
 * message), printed whatever the verbosity, and the hints of the fatal
 * statuses (401: where the key comes from; 404 from a base URL without
 * /v1).  For every program that sends requests through the window. */
#ifndef MLDE_REMOTE_H
#define MLDE_REMOTE_H

#include <stddef.h>

#include "base/err.h"

/* Causes shown at most; the others are counted together. */
#define MLDE_REMOTE_SHOWN 5

typedef struct mlde_remote_cause {
	char *what;             /* the error, without its " (N attempts)" or
				 * " (not sent)" tail (see mlde_http_result) */
	unsigned long n;        /* requests it failed */
} mlde_remote_cause;

typedef struct mlde_remote_causes {
	mlde_remote_cause *v;   /* in the order first seen */
	size_t n;
	unsigned long total;    /* failed requests counted */
} mlde_remote_causes;

/* Count one failed request by its error (mlde_window_done.error). */
void mlde_remote_count(mlde_remote_causes *c, const char *error);
/* "PROG: why: CAUSE (N requests)" on stderr for the first
 * MLDE_REMOTE_SHOWN causes, then how many requests failed otherwise;
 * even with -q.  Nothing when nothing was counted. */
void mlde_remote_report(const mlde_remote_causes *c);
void mlde_remote_causes_free(mlde_remote_causes *c);
/* Rewrite err, the fatal error of a window (MLDE_EXIT_REMOTE from
 * mlde_window_next or submit; status: mlde_window_done.status), as
 * "BASE_URL: what" and a hint: a 401 names where the key comes from, a 404
 * from a base URL with no /v1 in it asks whether BASE_URL/v1 was meant. */
void mlde_remote_fatal(mlde_error *err, const char *base_url, long status);

#endif
