/* test-sha256.c - SHA-256 against the FIPS 180-4 examples (NIST CSRC
 * "Example Algorithms": one block, two blocks, the 896-bit message, a million
 * 'a'), the empty message, and piecewise updates across block edges. */
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "tap.h"

static void hex_of_pieces(const char *msg, size_t len, size_t piece, char out[MLDE_SHA256_HEX])
{
	unsigned char d[MLDE_SHA256_LEN];
	mlde_sha256 c;

	mlde_sha256_init(&c);
	for (size_t at = 0; at < len; at += piece)
		mlde_sha256_update(&c, msg + at, len - at < piece ? len - at : piece);
	mlde_sha256_final(&c, d);
	mlde_sha256_to_hex(d, out);
}

int main(void)
{
	static const struct { const char *msg, *want; } v[] = {
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
		  "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	char hex[MLDE_SHA256_HEX], *million;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		mlde_sha256_hex(v[i].msg, strlen(v[i].msg), hex);
		TAP_IS_STR(hex, v[i].want, "FIPS 180-4 vector %zu (%zu bytes)", i, strlen(v[i].msg));
		for (size_t piece = 1; piece <= 65; piece += 7) {
			hex_of_pieces(v[i].msg, strlen(v[i].msg), piece, hex);
			if (strcmp(hex, v[i].want) != 0)
				break;
		}
		TAP_IS_STR(hex, v[i].want, "vector %zu fed in pieces of 1..64 bytes", i);
	}
	million = malloc(1000000);
	memset(million, 'a', 1000000);
	mlde_sha256_hex(million, 1000000, hex);
	TAP_IS_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		   "a million 'a'");
	hex_of_pieces(million, 1000000, 4093, hex);
	TAP_IS_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		   "a million 'a' in pieces of 4093 bytes");
	free(million);
	/* padding edges: 55 bytes fit one block, 56 need two */
	mlde_sha256_hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 55, hex);
	TAP_IS_STR(hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
		   "55 bytes: length fits the first block");
	mlde_sha256_hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 56, hex);
	TAP_IS_STR(hex, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
		   "56 bytes: the length spills into a second block");
	return TAP_DONE();
}
