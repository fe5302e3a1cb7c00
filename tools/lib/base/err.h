/* err.h - exit statuses, error values and diagnostics shared by every mlde
 * program.  Library code fills an mlde_error and returns; only the program
 * layer (main and the cli.c helpers) prints and exits. */
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

/* Verbosity, moved by -q and -v:
 *   -1  errors only (-q)
 *    0  errors, warnings and one summary line per program (default)
 *    1  also per-step notes (-v)
 *    2  also debugging detail (-vv) */
extern int mlde_verbosity;
extern const char *mlde_prog;  /* prefix of every message: the program name */
/* Called before each message is written, when set: the progress line
 * (cli/progress.c) wipes itself there. */
extern void (*mlde_before_message)(void);

void mlde_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mlde_note(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void mlde_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print err and exit with its status; a closed pipe exits 0 quietly. */
_Noreturn void mlde_die_error(const mlde_error *err);

void *mlde_xmalloc(size_t n);
void *mlde_xrealloc(void *p, size_t n);
char *mlde_xstrdup(const char *s);

#endif
