/* test-remote.c - failures counted by cause: the HTTP layer's tails
 * (" (N attempts)", " (not sent)") cut off, other parentheses kept; the
 * report on stderr; and the hints of a fatal error (401, 404 without /v1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/remote.h"
#include "tap.h"

static void causes(void)
{
	mlde_remote_causes c = { 0 };

	mlde_remote_count(&c, "connection refused to 127.0.0.1:1 (6 attempts)");
	mlde_remote_count(&c, "connection refused to 127.0.0.1:1 (not sent)");
	mlde_remote_count(&c, "connection refused to 127.0.0.1:1 (1 attempt)");
	mlde_remote_count(&c, "HTTP 400: 'n' must be at most 8 (got 9)");
	mlde_remote_count(&c, "HTTP 400: 'n' must be at most 8 (got 9)");
	mlde_remote_count(&c, "");
	TAP_IS_INT((int)c.total, 6, "six failures counted");
	TAP_IS_INT((int)c.n, 3, "three causes");
	TAP_IS_STR(c.v[0].what, "connection refused to 127.0.0.1:1", "the attempts tail is cut off");
	TAP_IS_INT((int)c.v[0].n, 3, "... sent or not, one cause (3 requests)");
	TAP_IS_STR(c.v[1].what, "HTTP 400: 'n' must be at most 8 (got 9)",
		   "a server's own parentheses stay");
	TAP_IS_STR(c.v[2].what, "failed (no reason given)", "an empty error still counts");
	mlde_remote_causes_free(&c);
	TAP_OK(c.v == NULL && c.n == 0 && c.total == 0, "freed and emptied");
}

static void report(void)
{
	mlde_remote_causes c = { 0 };
	char line[256], all[2048] = "";
	FILE *f;

	for (int i = 0; i < 8; i++) {
		char e[64];

		snprintf(e, sizeof e, "HTTP 50%d: busy (2 attempts)", i);
		for (int k = 0; k <= i; k++)
			mlde_remote_count(&c, e);
	}
	fflush(stderr);
	if (!freopen("report.txt", "w", stderr))
		return;
	mlde_remote_report(&c);
	fclose(stderr);
	f = fopen("report.txt", "r");
	while (f && fgets(line, sizeof line, f))
		strncat(all, line, sizeof all - strlen(all) - 1);
	if (f)
		fclose(f);
	TAP_IS_STR(all, "test-remote: why: HTTP 500: busy (1 request)\n"
		   "test-remote: why: HTTP 501: busy (2 requests)\n"
		   "test-remote: why: HTTP 502: busy (3 requests)\n"
		   "test-remote: why: HTTP 503: busy (4 requests)\n"
		   "test-remote: why: HTTP 504: busy (5 requests)\n"
		   "test-remote: why: 3 other causes (21 requests)\n",
		   "the report: the first five causes, then the others together");
	mlde_remote_causes_free(&c);
}

static void fatal(void)
{
	mlde_error err;

	mlde_error_set(&err, MLDE_EXIT_REMOTE, "HTTP 401: bad key");
	mlde_remote_fatal(&err, "http://h:1/v1", 401);
	TAP_IS_STR(err.msg, "http://h:1/v1: HTTP 401: bad key (check OPENAI_API_KEY or --api-key-file)",
		   "401: the base URL, then where the key comes from");
	mlde_error_set(&err, MLDE_EXIT_REMOTE, "HTTP 404: not found");
	mlde_remote_fatal(&err, "http://h:1/", 404);
	TAP_IS_STR(err.msg, "http://h:1/: HTTP 404: not found (did you mean --base-url http://h:1/v1?)",
		   "404 from a base URL without /v1: a hint");
	mlde_error_set(&err, MLDE_EXIT_REMOTE, "HTTP 404: no model");
	mlde_remote_fatal(&err, "https://api.example/v1", 404);
	TAP_IS_STR(err.msg, "https://api.example/v1: HTTP 404: no model", "404 with /v1: no hint");
	TAP_IS_INT(err.status, MLDE_EXIT_REMOTE, "the status stays");
}

int main(void)
{
	mlde_prog = "test-remote";
	causes();
	fatal();
	report();  /* last: it closes stderr */
	return TAP_DONE();
}
