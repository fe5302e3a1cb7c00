/* safetensors.h - model files in the safetensors format: an 8-byte
 * little-endian header length, a JSON header naming every tensor (dtype,
 * shape, data_offsets) plus "__metadata__" (string values only), then the raw
 * little-endian tensor bytes.  Only F32 tensors are written and read.
 * Loading trusts nothing in the header: lengths, offsets and shapes are
 * checked against each other and against the file size. */
#ifndef MLDE_SAFETENSORS_H
#define MLDE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include <jv.h>

#include "base/err.h"

#define MLDE_ST_DIM_MAX 8
/* The largest header accepted (the format's own reference reader uses the
 * same 100 MB limit). */
#define MLDE_ST_HEADER_MAX ((uint64_t)100 << 20)

typedef struct mlde_st_tensor {
	char *name;
	int ndim;
	int64_t shape[MLDE_ST_DIM_MAX];
	size_t count;  /* product of shape; 1 for a scalar */
	float *data;   /* count floats */
} mlde_st_tensor;

typedef struct mlde_st_file {
	size_t n;
	mlde_st_tensor *t;  /* in the order of their data in the file */
	jv meta;            /* object of string values; an empty object if none */
} mlde_st_file;

/* Write n tensors (in that order) and meta (an object of string values;
 * consumed) to path, through io/atomic.h: PATH.tmp renamed on success, so
 * nothing is left behind on failure or a signal (a path that is not a
 * regular file is written through).  The header's keys are sorted, so the same tensors
 * always give the same bytes.  0 ok, -1 with err set. */
int mlde_st_save(const char *path, const mlde_st_tensor *t, size_t n, jv meta,
		 mlde_error *err);

/* Read and check a whole file.  0 ok (free with mlde_st_free); -1 with err
 * set ("PATH: what") and f zeroed: MLDE_EXIT_IO when it cannot be read or
 * is not a regular file (a FIFO is refused at once, never waited on),
 * MLDE_EXIT_DATA when it is not a valid F32 safetensors file. */
int mlde_st_load(const char *path, mlde_st_file *f, mlde_error *err);
/* The same from bytes in memory; name is used in messages. */
int mlde_st_parse(const unsigned char *buf, size_t len, const char *name,
		  mlde_st_file *f, mlde_error *err);
/* The tensor called name, or NULL. */
const mlde_st_tensor *mlde_st_find(const mlde_st_file *f, const char *name);
/* A metadata value, or NULL; the pointer lives as long as f. */
const char *mlde_st_meta(const mlde_st_file *f, const char *key);
void mlde_st_free(mlde_st_file *f);

#endif
