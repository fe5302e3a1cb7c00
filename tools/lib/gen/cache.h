/* cache.h - a content-addressed store of replies on disk: DIR/ab/abcd...
 * (the 64 hex digits of a sha256, the first two as a subdirectory).  Each
 * entry is written to a temporary file and renamed, so a reader (or a run
 * after kill -9) sees a whole entry or none.  Nothing here prints. */
#ifndef MLDE_CACHE_H
#define MLDE_CACHE_H

#include <stddef.h>

#include "base/err.h"

typedef struct mlde_cache {
	char *dir;
} mlde_cache;

/* Make DIR (and its parents) when missing.  -1 with err (MLDE_EXIT_IO). */
int mlde_cache_open(mlde_cache *c, const char *dir, mlde_error *err);
void mlde_cache_close(mlde_cache *c);
/* The entry of key (64 hex digits): 1 and a malloc'd copy (NUL-terminated)
 * in *data, 0 when there is none, -1 with err when it cannot be read. */
int mlde_cache_get(const mlde_cache *c, const char *key, char **data, size_t *len,
		   mlde_error *err);
/* Store data under key, atomically.  0, or -1 with err. */
int mlde_cache_put(const mlde_cache *c, const char *key, const void *data, size_t len,
		   mlde_error *err);
/* The default directory (malloc'd): $XDG_CACHE_HOME/mlde/replies, else
 * $HOME/.cache/mlde/replies, else .mlde-cache. */
char *mlde_cache_default_dir(void);
/* The path of key's entry (malloc'd), for messages and tests. */
char *mlde_cache_path(const mlde_cache *c, const char *key);

#endif
