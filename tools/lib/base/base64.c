/* base64.c - RFC 4648 base64, both ways. */
#include "base/base64.h"

#include <stdlib.h>

#include "base/err.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t mlde_base64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t mlde_base64_encode(const void *p, size_t n, char *out)
{
	const unsigned char *in = p;
	size_t i, k = 0;

	for (i = 0; i + 3 <= n; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[k++] = alphabet[v >> 18 & 63];
		out[k++] = alphabet[v >> 12 & 63];
		out[k++] = alphabet[v >> 6 & 63];
		out[k++] = alphabet[v & 63];
	}
	if (i < n) {
		unsigned long v = (unsigned long)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);

		out[k++] = alphabet[v >> 18 & 63];
		out[k++] = alphabet[v >> 12 & 63];
		out[k++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
		out[k++] = '=';
	}
	out[k] = '\0';
	return k;
}

/* The value of one character of either alphabet, -1 for any other. */
static int sextet(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int blank(int c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

unsigned char *mlde_base64_decode(const char *s, size_t n, size_t *len)
{
	unsigned char *out = mlde_xmalloc(n / 4 * 3 + 4);
	unsigned long acc = 0;
	size_t i = 0, k = 0, sextets = 0;
	int bits = 0;

	for (; i < n && s[i] != '='; i++) {
		int v = sextet((unsigned char)s[i]);

		if (blank((unsigned char)s[i]))
			continue;
		if (v < 0)
			goto bad;
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		sextets++;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (unsigned char)(acc >> bits);
		}
	}
	/* Only padding and blanks may follow the data. */
	for (; i < n; i++)
		if (s[i] != '=' && !blank((unsigned char)s[i]))
			goto bad;
	if (sextets % 4 == 1)
		goto bad;
	out[k] = '\0';
	*len = k;
	return out;
bad:
	free(out);
	return NULL;
}
