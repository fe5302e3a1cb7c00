/* progress.c - the one progress line of the program layer.  Whether a line
 * is drawn is a fact about stderr, so it is one flag for the whole program;
 * diag.c calls mlde_progress_wipe before each message. */
#include "cli/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "cli/diag.h"

#define INTERVAL (1.0 / 6.0)  /* seconds between redraws, at least */

static bool drawn;

void mlde_progress_wipe(void)
{
	if (!drawn)
		return;
	fputs("\r\033[K", stderr);
	drawn = false;
}

void mlde_progress_init(mlde_progress *p, bool force)
{
	p->on = (force || isatty(STDERR_FILENO)) && mlde_verbosity >= 0;
	p->last = 0.0;
}

bool mlde_progress_due(const mlde_progress *p)
{
	return p->on && (p->last == 0.0 || mlde_now() - p->last >= INTERVAL);
}

void mlde_progress_draw(mlde_progress *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->on)
		return;
	p->last = mlde_now();
	fprintf(stderr, "\r\033[K%s: ", mlde_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	drawn = true;
}
