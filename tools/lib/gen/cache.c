/* cache.c - the reply store.  No index and no lock: the file system is the
 * index, and rename(2) within one directory is the atomic commit, so
 * several runs may share a cache. */
#include "gen/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(path, 0777) < 0 && errno != EEXIST ? -1 : 0;
}

int mlde_cache_open(mlde_cache *c, const char *dir, mlde_error *err)
{
	struct stat st;

	c->dir = mlde_xstrdup(dir);
	errno = 0;
	if (mkdirs(c->dir) < 0 || stat(c->dir, &st) < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", dir, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		/* mkdir's EEXIST would say "File exists", which does not say what is wrong */
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s (a reply cache is a directory)", dir,
			       S_ISREG(st.st_mode) ? "a regular file, not a directory"
			       : "not a directory");
	} else {
		return 0;
	}
	free(c->dir);
	c->dir = NULL;
	return -1;
}

void mlde_cache_close(mlde_cache *c)
{
	free(c->dir);
	c->dir = NULL;
}

char *mlde_cache_default_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	mlde_buf b = { 0 };

	if (xdg && *xdg)
		mlde_buf_printf(&b, "%s/mlde/replies", xdg);
	else if (home && *home)
		mlde_buf_printf(&b, "%s/.cache/mlde/replies", home);
	else
		mlde_buf_adds(&b, ".mlde-cache");
	return mlde_buf_take(&b, NULL);
}

char *mlde_cache_path(const mlde_cache *c, const char *key)
{
	mlde_buf b = { 0 };

	mlde_buf_printf(&b, "%s/%.2s/%s", c->dir, key, key);
	return mlde_buf_take(&b, NULL);
}

int mlde_cache_get(const mlde_cache *c, const char *key, char **data, size_t *len,
		   mlde_error *err)
{
	char *path = mlde_cache_path(c, key), chunk[65536];
	mlde_buf b = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		int e = errno;
		if (e == ENOENT) {
			free(path);
			return 0;
		}
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(e));
		free(path);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			mlde_error_set(err, MLDE_EXIT_IO, "%s: read error: %s", path, strerror(errno));
			close(fd);
			free(path);
			mlde_buf_free(&b);
			return -1;
		}
		mlde_buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	free(path);
	*data = mlde_buf_take(&b, len);
	return 1;
}

int mlde_cache_put(const mlde_cache *c, const char *key, const void *data, size_t len,
		   mlde_error *err)
{
	char *path = mlde_cache_path(c, key);
	mlde_buf tmp = { 0 };
	const char *p = data;
	int fd, rc = -1;

	/* DIR/ab: made on the first entry that needs it */
	path[strlen(c->dir) + 3] = '\0';
	if (mkdir(path, 0777) < 0 && errno != EEXIST) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	path[strlen(c->dir) + 3] = '/';
	mlde_buf_printf(&tmp, "%s/%.2s/.%s.%ld.tmp", c->dir, key, key, (long)getpid());
	fd = open(tmp.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", tmp.p, strerror(errno));
		goto out;
	}
	while (len > 0) {
		ssize_t k = write(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			mlde_error_set(err, MLDE_EXIT_IO, "%s: write error: %s", tmp.p, strerror(errno));
			close(fd);
			unlink(tmp.p);
			goto out;
		}
		p += k;
		len -= (size_t)k;
	}
	if (close(fd) < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", tmp.p, strerror(errno));
		unlink(tmp.p);
		goto out;
	}
	if (rename(tmp.p, path) < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		unlink(tmp.p);
		goto out;
	}
	rc = 0;
out:
	mlde_buf_free(&tmp);
	free(path);
	return rc;
}
