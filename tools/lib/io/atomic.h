/* atomic.h - output files that appear whole or not at all.  A target is
 * written as TARGET.tmp beside it and renamed onto it on commit; abort, or a
 * signal through mlde_atomic_unlink_live, removes the .tmp.  A target that
 * exists and is not a regular file (a FIFO, a device such as /dev/stdout,
 * a symlink) is written through directly instead, as the shell's > would. */
#ifndef MLDE_ATOMIC_H
#define MLDE_ATOMIC_H

#include <stdbool.h>
#include <stdio.h>

#include "base/err.h"

/* The most files being written at once in one process (the registry of
 * live .tmp paths a signal handler walks is a fixed array). */
#define MLDE_ATOMIC_LIVE_MAX 64

typedef struct mlde_atomic mlde_atomic;

/* Open path for writing.  NULL with err set (MLDE_EXIT_IO naming the file
 * that could not be created: PATH.tmp, or PATH when writing through). */
mlde_atomic *mlde_atomic_open(const char *path, mlde_error *err);
/* Open path itself for writing, with no .tmp, no rename and no fsync:
 * for many small files that nothing names until a later commit (the
 * world's images, named by its sets, which are committed once
 * mlde_atomic_sync_fs has synced them all).  Abort, a failed commit or a
 * signal through mlde_atomic_unlink_live removes PATH.  A rename and a
 * stat a file cost a third of the world's time in the kernel.  NULL with
 * err set. */
mlde_atomic *mlde_atomic_open_in_place(const char *path, mlde_error *err);
/* The file descriptor to write to; owned by a, closed by commit or abort. */
int mlde_atomic_fd(const mlde_atomic *a);
/* A stdio stream over the same file, made on first call; NULL with err set
 * when out of memory.  Use the fd or the stream, not both. */
FILE *mlde_atomic_stream(mlde_atomic *a, mlde_error *err);
/* Write n bytes to the file with write(2), retried on EINTR and short
 * writes: 0, or -1 with err set ("NAME: write error: ...", MLDE_EXIT_IO).
 * Every writer of the library writes this way (or through the fd), never
 * through stdio, so a failed write is seen where it happens, with its
 * errno, and tests/faults/shim.c can make any one of them fail. */
int mlde_atomic_write(mlde_atomic *a, const void *p, size_t n, mlde_error *err);
/* The name of the file being written, for messages: PATH.tmp, or PATH when
 * writing through. */
const char *mlde_atomic_name(const mlde_atomic *a);
/* True when writing through to a target that is not a regular file. */
bool mlde_atomic_is_through(const mlde_atomic *a);
/* The first half of a commit: flush, fsync and close, leaving only the
 * rename, which rarely fails; so several files can be made ready and then
 * renamed together (mlde_writer_commit_all).  0, or -1 with err set; the
 * .tmp stays until commit or abort. */
int mlde_atomic_ready(mlde_atomic *a, mlde_error *err);
/* Flush, fsync (a regular file: so a crash after the rename cannot leave
 * an empty or partial PATH), close, and rename PATH.tmp onto PATH.  On
 * failure err is set (MLDE_EXIT_IO) and the .tmp is removed.  a is freed
 * either way. */
int mlde_atomic_commit(mlde_atomic *a, mlde_error *err);
/* Sync the file system that holds path (a file or directory) to disk:
 * every file written there in place (mlde_atomic_open_in_place), which
 * has no fsync of its own: one for thousands of images, where a fsync a
 * file would cost a journal commit each.  0, or -1 with err set
 * ("PATH: fsync: ...", MLDE_EXIT_IO). */
int mlde_atomic_sync_fs(const char *path, mlde_error *err);
/* Close and remove PATH.tmp (a written-through target is only closed).
 * a is freed; NULL is a no-op. */
void mlde_atomic_abort(mlde_atomic *a);

/* Remove every .tmp still being written.  Async-signal-safe (only atomic
 * loads and unlink), for the program layer's SIGINT/SIGTERM/SIGHUP
 * handler; the library itself installs no handlers. */
void mlde_atomic_unlink_live(void);

#endif
