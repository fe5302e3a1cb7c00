/* sink.h - an output (io/jsonl.h's writer) that keeps its first error, so a
 * program can write records from deep in its loop without checking each
 * put, and hand the error up to the one cleanup path at the end of main. */
#ifndef MLDE_SINK_H
#define MLDE_SINK_H

#include <jv.h>

#include "base/err.h"
#include "io/jsonl.h"

typedef struct mlde_sink {
	mlde_writer *w;
	mlde_error err;  /* the first error writing, once there is one */
} mlde_sink;

/* Open *s (malloc'd) on out: 0, or -1 with err and *s NULL. */
int mlde_sink_open(mlde_sink **s, const mlde_output *out, mlde_error *err);
/* Write rec (consumed); after an error, rec is dropped. */
void mlde_sink_put(mlde_sink *s, jv rec);
/* -1 with the sink's error in err, 0 when there is none (or s is NULL). */
int mlde_sink_error(const mlde_sink *s, mlde_error *err);
/* Commit (FILE.tmp renamed onto FILE) or, after an error, give up; *s is
 * freed and NULL either way.  NULL *s: nothing to do. */
int mlde_sink_close(mlde_sink **s, mlde_error *err);
/* Give up: FILE.tmp removed, a zstd stream left unfinished. */
void mlde_sink_abort(mlde_sink **s);
/* Close the n sinks *s[i] as one (mlde_writer_commit_all): every FILE
 * appears, or none; a sink's own error gives them all up.  Each *s[i] is
 * freed and set to NULL. */
int mlde_sink_close_all(mlde_sink **s[], size_t n, mlde_error *err);

#endif
