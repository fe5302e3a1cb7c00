/* test-cache.c - the reply cache: a missing entry, a stored one read back
 * byte for byte (NUL bytes included), an overwrite, no temporary file left
 * behind, parents made on open, and a directory that is a file. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/cache.h"
#include "base/sha256.h"
#include "tap.h"

/* Entries and other files under dir/ab. */
static int count_files(const char *dir, const char *sub, int *hidden)
{
	char path[512];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof path, "%s/%s", dir, sub);
	*hidden = 0;
	if (!(d = opendir(path)))
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
		else if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			(*hidden)++;
	closedir(d);
	return n;
}

int main(void)
{
	mlde_cache c;
	mlde_error err;
	char key[MLDE_SHA256_HEX], *data = NULL, *path;
	static const char body[] = "{\"choices\":[]}\0tail";
	size_t len = 0;
	int hidden;
	FILE *f;

	mlde_error_clear(&err);
	TAP_IS_INT(mlde_cache_open(&c, "a/b/cache", &err), 0, "open makes the directory and its parents");
	mlde_sha256_hex(body, sizeof body, key);
	TAP_IS_INT(mlde_cache_get(&c, key, &data, &len, &err), 0, "a missing entry: 0");
	TAP_IS_INT(mlde_cache_put(&c, key, body, sizeof body, &err), 0, "put");
	TAP_IS_INT(mlde_cache_get(&c, key, &data, &len, &err), 1, "get: found");
	TAP_OK(len == sizeof body && memcmp(data, body, len) == 0, "the bytes come back, NUL included");
	TAP_OK(data[len] == '\0', "and NUL-terminated");
	free(data);
	path = mlde_cache_path(&c, key);
	TAP_OK(strncmp(path, "a/b/cache/", 10) == 0 && strncmp(path + 10, key, 2) == 0 &&
	       strcmp(path + 13, key) == 0, "the entry is DIR/ab/<64 hex> (%s)", path);
	free(path);
	TAP_IS_INT(mlde_cache_put(&c, key, "new", 3, &err), 0, "put again: replaces");
	TAP_IS_INT(mlde_cache_get(&c, key, &data, &len, &err), 1, "get the replacement");
	TAP_OK(len == 3 && memcmp(data, "new", 3) == 0, "the new bytes");
	free(data);
	{
		char sub[3] = { key[0], key[1], '\0' };
		TAP_IS_INT(count_files("a/b/cache", sub, &hidden), 1, "one entry in its subdirectory");
		TAP_IS_INT(hidden, 0, "no temporary file left behind");
	}
	mlde_cache_close(&c);
	f = fopen("plainfile", "w");
	fclose(f);
	TAP_IS_INT(mlde_cache_open(&c, "plainfile", &err), -1, "a file is not a cache directory");
	TAP_IS_INT(err.status, MLDE_EXIT_IO, "... an I/O error: %s", err.msg);
	TAP_IS_STR(err.msg, "plainfile: a regular file, not a directory (a reply cache is a directory)",
		   "... which says so, naming it (not \"File exists\")");
	return TAP_DONE();
}
