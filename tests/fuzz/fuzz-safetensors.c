/* fuzz-safetensors.c - libFuzzer target: the safetensors loader
 * (model/safetensors.c) on bytes in memory, then the model loader
 * (model/model.c, which checks metadata, shapes and values) on the same
 * bytes as a file. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model/model.h"
#include "model/safetensors.h"

static int st_fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mlde_st_file f;
	mlde_error err;
	mlde_model *m;
	char path[64];

	mlde_error_clear(&err);
	if (mlde_st_parse(data, size, "fuzz.safetensors", &f, &err) == 0) {
		for (size_t i = 0; i < f.n; i++)
			if (f.t[i].count && !f.t[i].data)
				abort();
		mlde_st_meta(&f, "format");
		mlde_st_free(&f);
	} else if (!err.msg[0]) {
		abort();
	}
	if (st_fd < 0 && (st_fd = memfd_create("fuzz-st", 0)) < 0)
		abort();
	if (ftruncate(st_fd, 0) < 0 || pwrite(st_fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", st_fd);
	if (mlde_model_load(path, &m, &err) == 0)
		mlde_model_free(m);
	return 0;
}
