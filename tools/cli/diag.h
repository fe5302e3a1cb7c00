/* diag.h - the program layer's messages and exit path: warnings, notes by
 * verbosity, and dying with a status.  Only programs (tools/mlde-*.c and
 * tools/cli) use these; the library returns an mlde_error instead. */
#ifndef MLDE_DIAG_H
#define MLDE_DIAG_H

#include "base/err.h"

/* Verbosity, moved by -q and -v:
 *   -1  errors only (-q)
 *    0  errors, warnings and one summary line per program (default)
 *    1  also per-step notes (-v)
 *    2  also debugging detail (-vv) */
extern int mlde_verbosity;

void mlde_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mlde_note(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void mlde_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print err and exit with its status; a closed pipe exits 0 quietly. */
_Noreturn void mlde_die_error(const mlde_error *err);

#endif
