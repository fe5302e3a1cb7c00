/* err.c - error values, and the x-alloc helpers: the only code in tools/lib
 * that prints or exits, and only when memory runs out (see err.h). */
#include "base/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mlde_prog = "mlde";

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

static _Noreturn void out_of_memory(size_t n)
{
	fprintf(stderr, "%s: out of memory (%zu bytes)\n", mlde_prog, n);
	exit(MLDE_EXIT_INTERNAL);
}

void *mlde_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		out_of_memory(n);
	return p;
}

void *mlde_xcalloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		out_of_memory(SIZE_MAX);
	p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *mlde_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

char *mlde_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(mlde_xmalloc(n), s, n);
}
