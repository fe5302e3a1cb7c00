/* fuzz-png.c - libFuzzer target: the PNG loader (io/png.c) on bytes in
 * memory, sides limited as mlde-train and mlde-eval limit them. */
#include <stdint.h>
#include <stdlib.h>

#include "io/png.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mlde_image img;
	mlde_error err;

	mlde_error_clear(&err);
	if (mlde_png_read_mem(data, size, "fuzz.png", &img, 512, 512, &err) == 0) {
		volatile unsigned char last;

		if (img.width <= 0 || img.height <= 0 || img.width > 512 || img.height > 512)
			abort();
		/* every pixel is there */
		last = img.rgb[(size_t)img.width * (size_t)img.height * 3 - 1];
		(void)last;
	} else if (!err.msg[0]) {
		abort();
	}
	mlde_image_free(&img);
	return 0;
}
