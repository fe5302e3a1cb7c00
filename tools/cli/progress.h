/* progress.h - the one progress line of the program layer: on stderr, only
 * when it is a terminal (or the program's --progress asks) and not under -q,
 * redrawn at most about 6 times a second with \r and ESC[K, and wiped before
 * any diagnostic is written and at the end. */
#ifndef MLDE_PROGRESS_H
#define MLDE_PROGRESS_H

#include <stdbool.h>

typedef struct mlde_progress {
	bool on;
	double last;  /* when it was last drawn; 0: never */
} mlde_progress;

/* Decide whether to draw: force (--progress) or stderr a terminal, and
 * mlde_verbosity >= 0.  From here on every mlde_warn, mlde_note and
 * mlde_die wipes a drawn line first. */
void mlde_progress_init(mlde_progress *p, bool force);
/* Is it time to redraw?  Never when off; the first time, always. */
bool mlde_progress_due(const mlde_progress *p);
/* Draw "PROG: " and the text in place of the line drawn before. */
void mlde_progress_draw(mlde_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Wipe the line, if one is drawn. */
void mlde_progress_wipe(void);

#endif
