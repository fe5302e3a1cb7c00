/* buf.h - a growable byte buffer, always NUL-terminated, for text built
 * piece by piece (rendered prompts, HTTP bodies, reply fields). */
#ifndef MLDE_BUF_H
#define MLDE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct mlde_buf {
	char *p;      /* NULL until the first append; then NUL-terminated */
	size_t len, cap;
} mlde_buf;

void mlde_buf_add(mlde_buf *b, const void *data, size_t len);
void mlde_buf_adds(mlde_buf *b, const char *s);
void mlde_buf_addc(mlde_buf *b, char c);
void mlde_buf_printf(mlde_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empty it, keeping the memory. */
void mlde_buf_reset(mlde_buf *b);
/* Hand the string over (never NULL: "" for an empty buffer); b is empty. */
char *mlde_buf_take(mlde_buf *b, size_t *len);
void mlde_buf_free(mlde_buf *b);

#endif
