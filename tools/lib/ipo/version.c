/* version.c - prompt version names and files, the lineage log, a line
 * diff, and the refining LLM's reply (version.h). */
#include "ipo/version.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "io/jsonl.h"

void mlde_version_split(const char *version, char *family, size_t famlen, long *num)
{
	const char *dot = strrchr(version, '.');
	char *end;
	long n;

	*num = 0;
	snprintf(family, famlen, "%s", version);
	if (!dot || dot == version || dot[1] != 'v' || dot[2] < '1' || dot[2] > '9')
		return;
	errno = 0;
	n = strtol(dot + 2, &end, 10);
	if (*end || errno)
		return;
	*num = n;
	if ((size_t)(dot - version) < famlen)
		family[dot - version] = '\0';
}

int mlde_version_cmp(const char *a, const char *b)
{
	char fa[256], fb[256];
	long na, nb;
	int c;

	mlde_version_split(a, fa, sizeof fa, &na);
	mlde_version_split(b, fb, sizeof fb, &nb);
	if ((c = strcmp(fa, fb)) != 0)
		return c;
	return na < nb ? -1 : na > nb;
}

char *mlde_version_name(const char *family, long num)
{
	mlde_buf b = { 0 };

	if (num > 0)
		mlde_buf_printf(&b, "%s.v%ld", family, num);
	else
		mlde_buf_adds(&b, family);
	return mlde_buf_take(&b, NULL);
}

char *mlde_version_path(const char *dir, const char *version)
{
	mlde_buf b = { 0 };

	mlde_buf_printf(&b, "%s/%s.txt", dir && *dir ? dir : ".", version);
	return mlde_buf_take(&b, NULL);
}

int mlde_version_highest(const char *dir, const char *family, long *num, mlde_error *err)
{
	DIR *d = opendir(dir && *dir ? dir : ".");
	size_t flen = strlen(family);
	struct dirent *e;

	*num = 0;
	if (!d) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		const char *s = e->d_name;
		char *end;
		long n;

		if (strncmp(s, family, flen) != 0 || strncmp(s + flen, ".v", 2) != 0 ||
		    s[flen + 2] < '1' || s[flen + 2] > '9')
			continue;
		n = strtol(s + flen + 2, &end, 10);
		if (strcmp(end, ".txt") == 0 && n > *num)
			*num = n;
	}
	closedir(d);
	return 0;
}

static int write_fd(int fd, const char *path, const char *p, size_t n, mlde_error *err)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			mlde_error_set(err, MLDE_EXIT_IO, "%s: write error: %s", path, strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	if (fsync(fd) < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: fsync: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int mlde_version_create(const char *path, const char *text, size_t len, mlde_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	int rc;

	if (fd < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s%s", path, strerror(errno),
			       errno == EEXIST ? " (a version is never overwritten)" : "");
		return -1;
	}
	rc = write_fd(fd, path, text, len, err);
	if (close(fd) < 0 && rc == 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: close: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc < 0)
		unlink(path);
	return rc;
}

char *mlde_lineage_path(const char *dir, const char *family)
{
	mlde_buf b = { 0 };

	mlde_buf_printf(&b, "%s/%s.lineage.jsonl", dir && *dir ? dir : ".", family);
	return mlde_buf_take(&b, NULL);
}

int mlde_lineage_append(const char *path, jv rec, mlde_error *err)
{
	jv line = jv_dump_string(rec, 0);
	mlde_buf b = { 0 };
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666), rc;

	mlde_buf_adds(&b, jv_string_value(line));
	mlde_buf_addc(&b, '\n');
	jv_free(line);
	if (fd < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		mlde_buf_free(&b);
		return -1;
	}
	rc = write_fd(fd, path, b.p, b.len, err);
	close(fd);
	mlde_buf_free(&b);
	return rc;
}

int mlde_lineage_read(const char *path, jv *recs, mlde_error *err)
{
	mlde_reader *r;
	jv rec;
	int got;

	*recs = jv_array();
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (!(r = mlde_reader_open(path, err)))
		return -1;
	while ((got = mlde_reader_next(r, &rec, err)) > 0)
		*recs = jv_array_append(*recs, rec);
	mlde_reader_close(r);
	return got;
}

/* ---- the diff ---- */

typedef struct lines {
	const char **p;
	size_t *len;
	size_t n;
} lines;

static void split_lines(const char *s, lines *l)
{
	memset(l, 0, sizeof *l);
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		l->p = mlde_xrealloc(l->p, (l->n + 1) * sizeof *l->p);
		l->len = mlde_xrealloc(l->len, (l->n + 1) * sizeof *l->len);
		l->p[l->n] = s;
		l->len[l->n++] = n;
		s += n + (nl ? 1 : 0);
	}
}

static bool line_eq(const lines *a, size_t i, const lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

char *mlde_text_diff(const char *a_name, const char *a, const char *b_name, const char *b)
{
	lines la, lb;
	mlde_buf out = { 0 };
	size_t n, m, i = 0, j = 0, *lcs;

	if (strcmp(a, b) == 0)
		return mlde_xstrdup("");
	split_lines(a, &la);
	split_lines(b, &lb);
	n = la.n;
	m = lb.n;
	/* lcs[i * (m + 1) + j]: the longest common subsequence of a[i..], b[j..];
	 * prompts are tens of lines, so the table is small */
	lcs = mlde_xcalloc((n + 1) * (m + 1), sizeof *lcs);
	for (size_t x = n; x-- > 0;)
		for (size_t y = m; y-- > 0;)
			lcs[x * (m + 1) + y] = line_eq(&la, x, &lb, y)
				? lcs[(x + 1) * (m + 1) + y + 1] + 1
				: lcs[(x + 1) * (m + 1) + y] > lcs[x * (m + 1) + y + 1]
				? lcs[(x + 1) * (m + 1) + y] : lcs[x * (m + 1) + y + 1];
	mlde_buf_printf(&out, "--- %s\n+++ %s\n", a_name, b_name);
	while (i < n || j < m) {
		if (i < n && j < m && line_eq(&la, i, &lb, j)) {
			mlde_buf_printf(&out, " %.*s\n", (int)la.len[i], la.p[i]);
			i++, j++;
		} else if (j < m && (i == n || lcs[i * (m + 1) + j + 1] >= lcs[(i + 1) * (m + 1) + j])) {
			mlde_buf_printf(&out, "+%.*s\n", (int)lb.len[j], lb.p[j]);
			j++;
		} else {
			mlde_buf_printf(&out, "-%.*s\n", (int)la.len[i], la.p[i]);
			i++;
		}
	}
	free(lcs);
	free(la.p);
	free(la.len);
	free(lb.p);
	free(lb.len);
	return mlde_buf_take(&out, NULL);
}

/* ---- the refining LLM's reply ---- */

/* The text between <tag> and </tag> in s, one newline trimmed at each
 * end (malloc'd), or NULL when the tags are not there. */
static char *between(const char *s, const char *open_tag, const char *close_tag)
{
	const char *a = strstr(s, open_tag), *z;
	mlde_buf b = { 0 };

	if (!a)
		return NULL;
	a += strlen(open_tag);
	if (!(z = strstr(a, close_tag)))
		return NULL;
	if (*a == '\r')
		a++;
	if (*a == '\n')
		a++;
	if (z > a && z[-1] == '\n')
		z--;
	if (z > a && z[-1] == '\r')
		z--;
	mlde_buf_add(&b, a, z > a ? (size_t)(z - a) : 0);
	return mlde_buf_take(&b, NULL);
}

int mlde_refine_reply(const char *text, char **prompt, char **changes, char *why,
		      size_t whylen)
{
	char *p = between(text, "<prompt>", "</prompt>");

	*prompt = *changes = NULL;
	if (!p) {
		snprintf(why, whylen, "the reply holds no prompt (no <prompt> ... </prompt>)");
		return -1;
	}
	if (strspn(p, " \t\r\n") == strlen(p)) {
		free(p);
		snprintf(why, whylen, "the reply's prompt is empty");
		return -1;
	}
	/* a prompt ends with a newline, as the files under prompts/ do */
	if (p[strlen(p) - 1] != '\n') {
		size_t n = strlen(p);

		p = mlde_xrealloc(p, n + 2);
		p[n] = '\n';
		p[n + 1] = '\0';
	}
	*prompt = p;
	*changes = between(text, "<changelog>", "</changelog>");
	return 0;
}
