/* sink.c - a writer with a memory for its first error. */
#include "cli/sink.h"

#include <stdlib.h>

int mlde_sink_open(mlde_sink **s, const mlde_output *out, mlde_error *err)
{
	mlde_writer *w = mlde_writer_open(out, err);

	*s = NULL;
	if (!w)
		return -1;
	*s = mlde_xmalloc(sizeof **s);
	(*s)->w = w;
	mlde_error_clear(&(*s)->err);
	return 0;
}

void mlde_sink_put(mlde_sink *s, jv rec)
{
	if (s->err.status)
		jv_free(rec);
	else
		mlde_writer_put(s->w, rec, &s->err);
}

int mlde_sink_error(const mlde_sink *s, mlde_error *err)
{
	if (!s || !s->err.status)
		return 0;
	*err = s->err;
	return -1;
}

int mlde_sink_close(mlde_sink **s, mlde_error *err)
{
	int rc = 0;

	if (!*s)
		return 0;
	if (mlde_sink_error(*s, err) < 0) {
		mlde_writer_abort((*s)->w);
		rc = -1;
	} else {
		rc = mlde_writer_close((*s)->w, err);
	}
	free(*s);
	*s = NULL;
	return rc;
}

void mlde_sink_abort(mlde_sink **s)
{
	if (!*s)
		return;
	mlde_writer_abort((*s)->w);
	free(*s);
	*s = NULL;
}

int mlde_sink_close_all(mlde_sink **s[], size_t n, mlde_error *err)
{
	mlde_writer **w = mlde_xcalloc(n, sizeof *w);
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (!*s[i])
			continue;
		if (rc == 0 && mlde_sink_error(*s[i], err) < 0)
			rc = -1;
		w[i] = (*s[i])->w;
		free(*s[i]);
		*s[i] = NULL;
	}
	if (rc == 0)
		rc = mlde_writer_commit_all(w, n, err);
	for (size_t i = 0; rc < 0 && i < n; i++)
		mlde_writer_abort(w[i]);  /* NULL after commit_all: a no-op */
	free(w);
	return rc;
}
