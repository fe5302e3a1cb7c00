/* diag.c - diagnostics and the exit path of the program layer: every
 * "PROG: message" line of a program goes through vmessage. */
#include "cli/diag.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli/progress.h"

int mlde_verbosity = 0;

static void vmessage(const char *fmt, va_list ap)
{
	mlde_progress_wipe();  /* a drawn progress line never runs into a message */
	fprintf(stderr, "%s: ", mlde_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void mlde_warn(const char *fmt, ...)
{
	va_list ap;

	if (mlde_verbosity < 0)
		return;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

void mlde_note(int level, const char *fmt, ...)
{
	va_list ap;

	if (mlde_verbosity < level)
		return;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

void mlde_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	exit(status);
}

void mlde_die_error(const mlde_error *err)
{
	if (err->pipe_closed)
		exit(MLDE_EXIT_OK);
	mlde_die(err->status ? err->status : MLDE_EXIT_INTERNAL, "%s", err->msg);
}
