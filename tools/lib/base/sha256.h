/* sha256.h - SHA-256 (FIPS 180-4), for content addresses: the reply cache
 * of mlde-gen is keyed by the sha256 of each request body, and provenance
 * names prompts and requests by theirs. */
#ifndef MLDE_SHA256_H
#define MLDE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define MLDE_SHA256_LEN 32
#define MLDE_SHA256_HEX (2 * MLDE_SHA256_LEN + 1)  /* with the NUL */

typedef struct mlde_sha256 {
	uint32_t h[8];
	uint64_t bytes;          /* message length so far */
	unsigned char block[64];
	size_t fill;             /* bytes waiting in block */
} mlde_sha256;

void mlde_sha256_init(mlde_sha256 *c);
void mlde_sha256_update(mlde_sha256 *c, const void *data, size_t len);
void mlde_sha256_final(mlde_sha256 *c, unsigned char out[MLDE_SHA256_LEN]);
/* One call: the digest of data as 64 lowercase hex digits and a NUL. */
void mlde_sha256_hex(const void *data, size_t len, char out[MLDE_SHA256_HEX]);
void mlde_sha256_to_hex(const unsigned char digest[MLDE_SHA256_LEN],
			char out[MLDE_SHA256_HEX]);

#endif
