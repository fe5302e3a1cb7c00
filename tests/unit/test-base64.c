/* test-base64.c - base64 against the test vectors of RFC 4648 section 10,
 * both ways; the URL-safe alphabet, blanks and missing padding on decoding;
 * and the inputs a decoder must refuse. */
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "tap.h"

int main(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					     "Zm9vYmFy" };
	static const char *const refused[] = { "Zm9v!", "Zg==Zg", "Z", "Zm9vY", "Zm 9v\x01" };
	unsigned char all[256], *back;
	char out[400];
	size_t len;

	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		size_t n = mlde_base64_encode(plain[i], strlen(plain[i]), out);

		TAP_IS_STR(out, coded[i], "encode \"%s\" (RFC 4648)", plain[i]);
		TAP_IS_INT(n, mlde_base64_len(strlen(plain[i])), "its length is mlde_base64_len");
		back = mlde_base64_decode(coded[i], strlen(coded[i]), &len);
		TAP_OK(back && len == strlen(plain[i]) && memcmp(back, plain[i], len) == 0,
		       "decode \"%s\"", coded[i]);
		free(back);
	}
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	mlde_base64_encode(all, sizeof all, out);
	back = mlde_base64_decode(out, strlen(out), &len);
	TAP_OK(back && len == sizeof all && memcmp(back, all, len) == 0,
	       "every byte value comes back");
	free(back);

	back = mlde_base64_decode("Zm9vYmE", 7, &len);
	TAP_OK(back && len == 5 && memcmp(back, "fooba", 5) == 0, "padding is optional");
	free(back);
	back = mlde_base64_decode("Zm9v\r\nYm Fy\n", 12, &len);
	TAP_OK(back && len == 6 && memcmp(back, "foobar", 6) == 0, "blanks and line breaks are skipped");
	free(back);
	back = mlde_base64_decode("-_8=", 4, &len);
	TAP_OK(back && len == 2 && back[0] == 0xfb && back[1] == 0xff, "the URL-safe alphabet");
	free(back);
	back = mlde_base64_decode("Zm9vYmFy", 4, &len);
	TAP_OK(back && len == 3 && memcmp(back, "foo", 3) == 0, "only n characters are read");
	free(back);
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		TAP_OK(!mlde_base64_decode(refused[i], strlen(refused[i]), &len),
		       "refused: \"%s\"", refused[i]);

	printf("1..%d\n", tap_count);
	return tap_failures != 0;
}
