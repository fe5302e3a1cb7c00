/* atomic.c - TARGET.tmp written and renamed on commit, or written through
 * when the target is not a regular file; and the registry of live .tmp
 * paths that a signal handler may empty (see atomic.h). */
#define _GNU_SOURCE  /* syncfs */
#include "io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct mlde_atomic {
	int fd;
	FILE *fp;    /* over fd, once mlde_atomic_stream made it */
	char *path;  /* the target */
	char *tmp;   /* PATH.tmp; NULL when writing through */
	int slot;    /* our index in live[]; -1 for none */
	bool ready;  /* synced and closed: only the rename is left */
	bool in_place; /* PATH itself is written, and removed on failure */
};

/* The .tmp paths being written, for a signal handler to remove.  Slots are
 * claimed and released with lock-free atomics, so threads may open files at
 * once and a handler reads each slot whole.  A path stays allocated while
 * its slot holds it: it is released before the struct is freed. */
_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "the registry needs lock-free pointers");
static _Atomic(char *) live[MLDE_ATOMIC_LIVE_MAX];

static int live_add(char *path)
{
	for (int i = 0; i < MLDE_ATOMIC_LIVE_MAX; i++) {
		char *none = NULL;

		if (atomic_compare_exchange_strong(&live[i], &none, path))
			return i;
	}
	return -1;
}

void mlde_atomic_unlink_live(void)
{
	int saved = errno;

	for (int i = 0; i < MLDE_ATOMIC_LIVE_MAX; i++) {
		char *p = atomic_load(&live[i]);

		if (p)
			unlink(p);
	}
	errno = saved;
}

static void atomic_free(mlde_atomic *a)
{
	if (a->slot >= 0)
		atomic_store(&live[a->slot], NULL);
	free(a->path);
	free(a->tmp);
	free(a);
}

/* Close the fd or the stream over it; 0, or an errno value. */
static int close_file(mlde_atomic *a)
{
	int e = 0;

	if (a->fp) {
		errno = 0;
		if (fflush(a->fp) == EOF || ferror(a->fp))
			e = errno ? errno : EIO;
		if (fclose(a->fp) == EOF && !e)
			e = errno ? errno : EIO;
	} else if (a->fd >= 0 && close(a->fd) < 0) {
		e = errno;
	}
	a->fp = NULL;
	a->fd = -1;
	return e;
}

/* Create the file a writes (its .tmp, or its path in place), registered
 * before it exists, so that no signal finds it unlisted; a, or NULL with
 * err set and a freed. */
static mlde_atomic *open_registered(mlde_atomic *a, mlde_error *err)
{
	char *name = a->tmp ? a->tmp : a->path;  /* mlde_atomic_name's, ours */

	a->slot = live_add(name);
	if (a->slot < 0) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL,
			       "%s: more than %d files being written at once", a->path,
			       MLDE_ATOMIC_LIVE_MAX);
		atomic_free(a);
		return NULL;
	}
	a->fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (a->fd < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", name, strerror(errno));
		atomic_free(a);
		return NULL;
	}
	return a;
}

mlde_atomic *mlde_atomic_open(const char *path, mlde_error *err)
{
	mlde_atomic *a = mlde_xcalloc(1, sizeof *a);
	size_t n = strlen(path);
	struct stat st;

	a->fd = -1;
	a->slot = -1;
	a->path = mlde_xstrdup(path);
	/* lstat: a symlink is written through too, never replaced by a file;
	 * a directory fails in open with its own message */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		a->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (a->fd < 0) {
			mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
			atomic_free(a);
			return NULL;
		}
		return a;
	}
	a->tmp = mlde_xmalloc(n + 5);
	memcpy(a->tmp, path, n);
	memcpy(a->tmp + n, ".tmp", 5);
	return open_registered(a, err);
}

mlde_atomic *mlde_atomic_open_in_place(const char *path, mlde_error *err)
{
	mlde_atomic *a = mlde_xcalloc(1, sizeof *a);

	a->fd = -1;
	a->slot = -1;
	a->path = mlde_xstrdup(path);
	a->in_place = true;
	return open_registered(a, err);
}

int mlde_atomic_fd(const mlde_atomic *a)
{
	return a->fd;
}

FILE *mlde_atomic_stream(mlde_atomic *a, mlde_error *err)
{
	if (!a->fp) {
		a->fp = fdopen(a->fd, "wb");
		if (!a->fp)
			mlde_error_set(err, MLDE_EXIT_INTERNAL, "%s: %s", mlde_atomic_name(a),
				       strerror(errno));
	}
	return a->fp;
}

int mlde_atomic_write(mlde_atomic *a, const void *p, size_t n, mlde_error *err)
{
	const char *at = p;

	while (n > 0) {
		ssize_t k = write(a->fd, at, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			mlde_error_set(err, MLDE_EXIT_IO, "%s: write error: %s",
				       mlde_atomic_name(a), strerror(errno));
			return -1;
		}
		at += k;
		n -= (size_t)k;
	}
	return 0;
}

const char *mlde_atomic_name(const mlde_atomic *a)
{
	return a->tmp ? a->tmp : a->path;
}

bool mlde_atomic_is_through(const mlde_atomic *a)
{
	return !a->tmp && !a->in_place;
}

/* Flush the stream, if any, and fsync a .tmp: 0, or an errno value with
 * *what saying which failed.  A written-through target (a FIFO, a device)
 * is not synced: fsync means nothing there, and fails on some. */
static int sync_file(mlde_atomic *a, const char **what)
{
	*what = "write error";
	if (a->fp) {
		errno = 0;
		if (fflush(a->fp) == EOF || ferror(a->fp))
			return errno ? errno : EIO;
	}
	*what = "fsync";
	if (a->tmp && a->fd >= 0 && fsync(a->fd) < 0)
		return errno;
	*what = "write error";  /* close reports a write the kernel deferred */
	return 0;
}

int mlde_atomic_sync_fs(const char *path, mlde_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
#ifdef __linux__
	rc = syncfs(fd);
#else
	sync();
	rc = 0;
#endif
	if (rc < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: fsync: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);  /* read only: nothing a failed close could lose */
	return 0;
}

int mlde_atomic_ready(mlde_atomic *a, mlde_error *err)
{
	const char *what;
	int e, closed;

	if (a->ready)
		return 0;
	e = sync_file(a, &what);
	closed = close_file(a);
	if (!e)
		e = closed;
	if (e) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s: %s", mlde_atomic_name(a), what,
			       strerror(e));
		return -1;
	}
	a->ready = true;
	return 0;
}

int mlde_atomic_commit(mlde_atomic *a, mlde_error *err)
{
	int rc = mlde_atomic_ready(a, err);

	if (rc == 0 && a->tmp && rename(a->tmp, a->path) < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: cannot rename to %s: %s", a->tmp,
			       a->path, strerror(errno));
		rc = -1;
	}
	if (rc < 0 && (a->tmp || a->in_place))
		unlink(mlde_atomic_name(a));
	atomic_free(a);
	return rc;
}

void mlde_atomic_abort(mlde_atomic *a)
{
	if (!a)
		return;
	close_file(a);
	if (a->tmp || a->in_place)
		unlink(mlde_atomic_name(a));
	atomic_free(a);
}
