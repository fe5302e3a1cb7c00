/* base64.h - base64 (RFC 4648): encoding the image bytes of a data: URI
 * for a vision request, decoding the data: URIs and the base64 images of
 * benchmark files (MMBench's TSV carries every image so). */
#ifndef MLDE_BASE64_H
#define MLDE_BASE64_H

#include <stddef.h>

/* The encoded length of n bytes, padding included, without the NUL. */
size_t mlde_base64_len(size_t n);
/* Encode n bytes of p into out, which holds mlde_base64_len(n) + 1 bytes:
 * the standard alphabet, '=' padded, NUL-terminated.  Returns the length. */
size_t mlde_base64_encode(const void *p, size_t n, char *out);
/* Decode the n characters of s: the standard or the URL-safe alphabet,
 * padding optional, ASCII blanks and line breaks skipped (MIME wraps its
 * lines).  A malloc'd buffer (NUL-terminated for convenience) and its
 * length in *len, or NULL when s holds any other character, data after
 * the padding, or a length no encoder writes (one character left over). */
unsigned char *mlde_base64_decode(const char *s, size_t n, size_t *len);

#endif
