/* buf.c - the growable byte buffer; allocation failure exits through
 * mlde_xrealloc, as everywhere in mlde. */
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static void reserve(mlde_buf *b, size_t more)
{
	size_t need = b->len + more + 1;

	if (need <= b->cap)
		return;
	b->cap = b->cap ? b->cap : 64;
	while (b->cap < need)
		b->cap *= 2;
	b->p = mlde_xrealloc(b->p, b->cap);
}

void mlde_buf_add(mlde_buf *b, const void *data, size_t len)
{
	reserve(b, len);
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void mlde_buf_adds(mlde_buf *b, const char *s)
{
	mlde_buf_add(b, s, strlen(s));
}

void mlde_buf_addc(mlde_buf *b, char c)
{
	mlde_buf_add(b, &c, 1);
}

void mlde_buf_printf(mlde_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void mlde_buf_reset(mlde_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

char *mlde_buf_take(mlde_buf *b, size_t *len)
{
	char *s = b->p ? b->p : mlde_xstrdup("");

	if (len)
		*len = b->len;
	*b = (mlde_buf){ 0 };
	return s;
}

void mlde_buf_free(mlde_buf *b)
{
	free(b->p);
	*b = (mlde_buf){ 0 };
}
