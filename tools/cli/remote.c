/* remote.c - counting failures by cause, and saying so.  The HTTP layer
 * words each cause the same way every time and adds the attempts after
 * it, so cutting that tail off is all the grouping there is. */
#include "cli/remote.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/progress.h"

/* Is p (at a '(') the tail the HTTP layer adds: "(N attempts)", "(not sent)"? */
static bool is_tail(const char *p)
{
	if (strcmp(p, "(not sent)") == 0)
		return true;
	if (!isdigit((unsigned char)*++p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return strcmp(p, " attempt)") == 0 || strcmp(p, " attempts)") == 0;
}

/* error without that tail (malloc'd) */
static char *cause_of(const char *error)
{
	const char *open = strrchr(error, '(');
	size_t n = open && open > error && open[-1] == ' ' && is_tail(open)
		   ? (size_t)(open - 1 - error) : strlen(error);
	char *s = mlde_xmalloc(n + 1);

	memcpy(s, error, n);
	s[n] = '\0';
	return s;
}

void mlde_remote_count(mlde_remote_causes *c, const char *error)
{
	char *what = cause_of(error && *error ? error : "failed (no reason given)");
	size_t i;

	c->total++;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].what, what) == 0)
			break;
	if (i < c->n) {
		c->v[i].n++;
		free(what);
		return;
	}
	c->v = mlde_xrealloc(c->v, (c->n + 1) * sizeof *c->v);
	c->v[c->n].what = what;
	c->v[c->n].n = 1;
	c->n++;
}

void mlde_remote_report(const mlde_remote_causes *c)
{
	unsigned long shown = 0;

	if (c->total == 0)
		return;
	mlde_progress_wipe();
	for (size_t i = 0; i < c->n && i < MLDE_REMOTE_SHOWN; i++) {
		fprintf(stderr, "%s: why: %s (%lu request%s)\n", mlde_prog, c->v[i].what,
			c->v[i].n, c->v[i].n == 1 ? "" : "s");
		shown += c->v[i].n;
	}
	if (shown < c->total)
		fprintf(stderr, "%s: why: %zu other causes (%lu requests)\n", mlde_prog,
			c->n - MLDE_REMOTE_SHOWN, c->total - shown);
}

void mlde_remote_causes_free(mlde_remote_causes *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].what);
	free(c->v);
	memset(c, 0, sizeof *c);
}

void mlde_remote_fatal(mlde_error *err, const char *base_url, long status)
{
	char what[sizeof err->msg], hint[600] = "";
	const char *host = strstr(base_url, "://");
	size_t n = strlen(base_url);

	while (n > 0 && base_url[n - 1] == '/')
		n--;
	if (status == 401)
		snprintf(hint, sizeof hint, " (check OPENAI_API_KEY or --api-key-file)");
	else if (status == 404 && !strstr(host ? host + 3 : base_url, "/v1"))
		snprintf(hint, sizeof hint, " (did you mean --base-url %.*s/v1?)", (int)(n < 500 ? n : 500),
			 base_url);
	memcpy(what, err->msg, sizeof what);
	mlde_error_set(err, MLDE_EXIT_REMOTE, "%s: %.900s%s", base_url, what, hint);
}
