/* err.c - diagnostics and the exit path of the program layer. */
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mlde_verbosity = 0;
const char *mlde_prog = "mlde";
void (*mlde_before_message)(void);

void mlde_error_set(mlde_error *err, int status, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->status = status;
	/* an error set here is never a closed pipe (write_all marks that after);
	 * a caller's uncleared struct must not turn an error into a quiet exit */
	err->pipe_closed = false;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
}

void mlde_error_clear(mlde_error *err)
{
	err->status = 0;
	err->pipe_closed = false;
	err->msg[0] = '\0';
}

static void vmessage(const char *fmt, va_list ap)
{
	if (mlde_before_message)
		mlde_before_message();
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

void *mlde_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		mlde_die(MLDE_EXIT_INTERNAL, "out of memory (%zu bytes)", n);
	return p;
}

void *mlde_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		mlde_die(MLDE_EXIT_INTERNAL, "out of memory (%zu bytes)", n);
	return p;
}

char *mlde_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(mlde_xmalloc(n), s, n);
}
