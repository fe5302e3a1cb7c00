/* shim.c - I/O fault injection for the tests, loaded with LD_PRELOAD (as
 * jq's tests do with src/inject_errors.c): the Nth call of one kind fails
 * with a chosen errno, so every error path of the programs can be reached
 * from tests/cli/faults.t without a full disk or a broken one.
 *
 *   MLDE_FAULT=KIND:N:ERRNO[,KIND:N:ERRNO...]
 *       KIND is write, read, fsync (fdatasync and syncfs count as one),
 *       rename or close; N counts the calls of that kind from 1; ERRNO is
 *       a name (ENOSPC, EIO, EINTR, ...) or a number.  The call fails
 *       without doing anything, except close, which closes the fd (as
 *       Linux does whatever close returns) and then fails.
 *   MLDE_FAULT_PATH=SUFFIX
 *       count only calls on files whose path ends with SUFFIX (rename: its
 *       source); otherwise every call counts, except on fds 0 to 2: a write
 *       to stderr is how the program tells what went wrong.
 *   MLDE_FAULT_LOG=FILE
 *       append "KIND N ERRNO" to FILE for each fault injected, and at exit
 *       "calls KIND COUNT" for each kind: how far N can go.
 *
 * Only the libc entry points are replaced: stdio calls write and read
 * inside libc, where no preload reaches, so a library writer that used
 * stdio would escape it (the library writes with write(2): io/atomic.h). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kind { K_WRITE, K_READ, K_FSYNC, K_RENAME, K_CLOSE, NKIND };
static const char *const kind_names[NKIND] = { "write", "read", "fsync", "rename", "close" };

#define RULES_MAX 8
static struct rule {
	enum kind kind;
	unsigned long n;
	int err;
} rules[RULES_MAX];
static int nrules;
static const char *path_suffix;
static const char *log_path;
static atomic_ulong calls[NKIND];
static atomic_int ready;  /* 0: not read yet; 1: reading; 2: read */

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_read)(int, void *, size_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_syncfs)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_close)(int);

static const struct { const char *name; int value; } errnos[] = {
	{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "EDQUOT", EDQUOT }, { "EINTR", EINTR },
	{ "EAGAIN", EAGAIN }, { "EROFS", EROFS }, { "EACCES", EACCES }, { "EPERM", EPERM },
	{ "EXDEV", EXDEV }, { "EFBIG", EFBIG }, { "EBADF", EBADF }, { "EPIPE", EPIPE },
};

static int parse_errno(const char *s)
{
	for (size_t i = 0; i < sizeof errnos / sizeof *errnos; i++)
		if (strcmp(s, errnos[i].name) == 0)
			return errnos[i].value;
	return atoi(s) > 0 ? atoi(s) : EIO;
}

static void parse_rules(const char *spec)
{
	char buf[512];
	char *save = NULL;

	snprintf(buf, sizeof buf, "%s", spec);
	for (char *r = strtok_r(buf, ",", &save); r && nrules < RULES_MAX;
	     r = strtok_r(NULL, ",", &save)) {
		char *n = strchr(r, ':'), *e;

		if (!n)
			continue;
		*n++ = '\0';
		e = strchr(n, ':');
		if (e)
			*e++ = '\0';
		for (int k = 0; k < NKIND; k++)
			if (strcmp(r, kind_names[k]) == 0) {
				rules[nrules].kind = (enum kind)k;
				rules[nrules].n = strtoul(n, NULL, 10);
				rules[nrules].err = e ? parse_errno(e) : EIO;
				nrules++;
			}
	}
}

static void log_line(const char *text)
{
	int fd;

	if (!log_path)
		return;
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	real_write(fd, text, strlen(text));
	real_close(fd);
}

static void report_calls(void)
{
	char line[64];

	for (int k = 0; k < NKIND; k++) {
		snprintf(line, sizeof line, "calls %s %lu\n", kind_names[k],
			 (unsigned long)atomic_load(&calls[k]));
		log_line(line);
	}
}

static void setup(void)
{
	int expect = 0;
	const char *spec;

	if (atomic_load(&ready) == 2)
		return;
	if (!atomic_compare_exchange_strong(&ready, &expect, 1)) {
		while (atomic_load(&ready) != 2)
			;
		return;
	}
	real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	real_syncfs = (int (*)(int))dlsym(RTLD_NEXT, "syncfs");
	real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	spec = getenv("MLDE_FAULT");
	if (spec)
		parse_rules(spec);
	path_suffix = getenv("MLDE_FAULT_PATH");
	log_path = getenv("MLDE_FAULT_LOG");
	if (log_path)
		atexit(report_calls);
	atomic_store(&ready, 2);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Does a call on fd (or on path, when fd < 0) count? */
static bool counts(int fd, const char *path)
{
	char link[64], target[4096];
	ssize_t n;

	if (!path_suffix)
		return fd < 0 || fd > 2;
	if (fd < 0)
		return ends_with(path, path_suffix);
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof target - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return ends_with(target, path_suffix);
}

/* 0, or the errno this call must fail with. */
static int fault(enum kind k, int fd, const char *path)
{
	unsigned long n;
	char line[96];

	setup();
	if (nrules == 0 && !log_path)
		return 0;
	if (!counts(fd, path))
		return 0;
	n = atomic_fetch_add(&calls[k], 1) + 1;
	for (int i = 0; i < nrules; i++)
		if (rules[i].kind == k && rules[i].n == n) {
			snprintf(line, sizeof line, "%s %lu %d\n", kind_names[k], n, rules[i].err);
			log_line(line);
			return rules[i].err;
		}
	return 0;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	int e = fault(K_WRITE, fd, NULL);

	if (e) {
		errno = e;
		return -1;
	}
	return real_write(fd, buf, len);
}

ssize_t read(int fd, void *buf, size_t len)
{
	int e = fault(K_READ, fd, NULL);

	if (e) {
		errno = e;
		return -1;
	}
	return real_read(fd, buf, len);
}

int fsync(int fd)
{
	int e = fault(K_FSYNC, fd, NULL);

	if (e) {
		errno = e;
		return -1;
	}
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	int e = fault(K_FSYNC, fd, NULL);

	if (e) {
		errno = e;
		return -1;
	}
	return real_fdatasync(fd);
}

/* the sync of a whole file system counts as an fsync */
int syncfs(int fd)
{
	int e = fault(K_FSYNC, fd, NULL);

	if (e) {
		errno = e;
		return -1;
	}
	return real_syncfs(fd);
}

int rename(const char *from, const char *to)
{
	int e = fault(K_RENAME, -1, from);

	if (e) {
		errno = e;
		return -1;
	}
	return real_rename(from, to);
}

int close(int fd)
{
	int e = fault(K_CLOSE, fd, NULL);
	int rc;

	rc = real_close(fd);
	if (e) {
		errno = e;
		return -1;
	}
	return rc;
}
