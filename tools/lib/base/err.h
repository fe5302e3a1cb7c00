/* err.h - exit statuses, error values and the x-alloc helpers of mlde.
 * Library code (tools/lib) fills an mlde_error and returns: it never prints
 * and never exits.  The one sanctioned exception is allocation failure
 * through the x-alloc helpers below, which print "PROG: out of memory (N
 * bytes)" and exit MLDE_EXIT_INTERNAL (5): no caller could do better.
 * Messages and the exit path of programs live in tools/cli/diag.h. */
#ifndef MLDE_ERR_H
#define MLDE_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* The one table of exit statuses; man/mlde.7 documents it and the tests
 * assert it.  Keep all three in step. */
enum mlde_exit {
	MLDE_EXIT_OK = 0,
	MLDE_EXIT_DATA = 1,     /* bad input: a record, a field, a truncated stream */
	MLDE_EXIT_USAGE = 2,    /* bad command line */
	MLDE_EXIT_IO = 3,       /* a file could not be opened, read or written */
	MLDE_EXIT_REMOTE = 4,   /* a remote service failed for good */
	MLDE_EXIT_INTERNAL = 5, /* out of memory, or a bug */
};

typedef struct mlde_error {
	int status;        /* an mlde_exit value; 0 when no error */
	bool pipe_closed;  /* the reader of our stdout went away (EPIPE) */
	char msg[1024];    /* "where: what", without the program name */
} mlde_error;

void mlde_error_set(mlde_error *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mlde_error_clear(mlde_error *err);

/* Prefix of every message, the out-of-memory one included: the program
 * name (mlde_cli_init sets it). */
extern const char *mlde_prog;

/* Allocate or exit 5 (see above).  A count or size of 0 is allocated as 1,
 * so the result is never NULL; mlde_xcalloc also fails on n * size
 * overflowing. */
void *mlde_xmalloc(size_t n);
void *mlde_xcalloc(size_t n, size_t size);
void *mlde_xrealloc(void *p, size_t n);
char *mlde_xstrdup(const char *s);

#endif
