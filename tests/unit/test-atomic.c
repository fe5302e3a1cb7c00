/* test-atomic.c - io/atomic.h: a target appears whole on commit and not at
 * all on abort or a signal; a target that is not a regular file (a FIFO, a
 * symlink, /dev/stdout) is written through, never replaced. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "io/atomic.h"
#include "tap.h"

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The whole file as a string (static buffer), or "(none)". */
static const char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return "(none)";
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	fputs(text, f);
	fclose(f);
}

static int put(mlde_atomic *a, const char *text)
{
	size_t n = strlen(text);

	return write(mlde_atomic_fd(a), text, n) == (ssize_t)n ? 0 : -1;
}

static void test_commit(void)
{
	mlde_error err;
	mlde_atomic *a;
	FILE *fp;

	mlde_error_clear(&err);
	a = mlde_atomic_open("c.out", &err);
	TAP_OK(a && !mlde_atomic_is_through(a), "open a new regular target (%s)", err.msg);
	if (!a)
		return;
	TAP_IS_STR(mlde_atomic_name(a), "c.out.tmp", "  it is written as TARGET.tmp");
	put(a, "hello\n");
	TAP_OK(exists("c.out.tmp") && !exists("c.out"), "  while open, only the .tmp exists");
	TAP_IS_INT(mlde_atomic_commit(a, &err), 0, "commit (%s)", err.msg);
	TAP_IS_STR(slurp("c.out"), "hello\n", "  the target holds what was written");
	TAP_OK(!exists("c.out.tmp"), "  and the .tmp is gone");

	/* over an existing file, through a stdio stream */
	a = mlde_atomic_open("c.out", &err);
	fp = a ? mlde_atomic_stream(a, &err) : NULL;
	TAP_OK(fp != NULL, "a stream over the .tmp (%s)", err.msg);
	if (!fp)
		return;
	fputs("second", fp);
	TAP_IS_STR(slurp("c.out"), "hello\n", "  the old target stays until commit");
	TAP_IS_INT(mlde_atomic_commit(a, &err), 0, "commit a stream");
	TAP_IS_STR(slurp("c.out"), "second", "  replaces the target whole");
}

/* in place: the target itself is written (no .tmp), committed as it is,
 * and removed by an abort; sync_fs syncs the file system of a path, and
 * names a path that is not there */
static void test_in_place(void)
{
	mlde_error err;
	mlde_atomic *a;

	mlde_error_clear(&err);
	a = mlde_atomic_open_in_place("ip.out", &err);
	TAP_OK(a != NULL, "open a target in place (%s)", err.msg);
	if (!a)
		return;
	TAP_OK(exists("ip.out") && !exists("ip.out.tmp"), "  while open, the target itself, no .tmp");
	TAP_IS_STR(mlde_atomic_name(a), "ip.out", "  named as the target");
	TAP_OK(!mlde_atomic_is_through(a), "  not a write-through");
	put(a, "in place\n");
	TAP_IS_INT(mlde_atomic_commit(a, &err), 0, "  commit (%s)", err.msg);
	TAP_IS_STR(slurp("ip.out"), "in place\n", "  the target holds what was written");
	a = mlde_atomic_open_in_place("ip2.out", &err);
	put(a, "half");
	mlde_atomic_abort(a);
	TAP_OK(!exists("ip2.out"), "an abort removes a target written in place");
	TAP_IS_INT(mlde_atomic_open_in_place("no/such/dir/x", &err) == NULL, 1,
		   "in place in a missing directory: NULL");
	TAP_IS_STR(err.msg, "no/such/dir/x: No such file or directory", "  naming the path");
	TAP_IS_INT(mlde_atomic_sync_fs(".", &err), 0, "sync the file system of . (%s)", err.msg);
	TAP_IS_INT(mlde_atomic_sync_fs("no/such/dir", &err), -1, "sync a path that is not there: -1");
	TAP_IS_INT(err.status, MLDE_EXIT_IO, "  an I/O error");
	TAP_IS_STR(err.msg, "no/such/dir: No such file or directory", "  naming the path");
}

static void test_abort(void)
{
	mlde_error err;
	mlde_atomic *a;

	mlde_error_clear(&err);
	a = mlde_atomic_open("a.out", &err);
	if (a)
		put(a, "half");
	mlde_atomic_abort(a);
	TAP_OK(a && !exists("a.out") && !exists("a.out.tmp"),
	       "abort leaves neither the target nor the .tmp");
	spit("keep.out", "old");
	a = mlde_atomic_open("keep.out", &err);
	if (a)
		put(a, "new");
	mlde_atomic_abort(a);
	TAP_OK(a && !exists("keep.out.tmp"), "abort over an existing target removes the .tmp");
	TAP_IS_STR(slurp("keep.out"), "old", "  and leaves the target as it was");
	mlde_atomic_abort(NULL);
	TAP_OK(1, "abort(NULL) is a no-op");
}

static void test_failures(void)
{
	mlde_error err;
	mlde_atomic *a;

	mlde_error_clear(&err);
	a = mlde_atomic_open("no/such/dir/x", &err);
	TAP_OK(!a && err.status == MLDE_EXIT_IO && strstr(err.msg, "no/such/dir/x.tmp"),
	       "a .tmp that cannot be made: an I/O error naming it (%s)", err.msg);
	mkdir("adir", 0700);
	mlde_error_clear(&err);
	a = mlde_atomic_open("adir", &err);
	TAP_OK(!a && err.status == MLDE_EXIT_IO && strstr(err.msg, "adir") &&
	       !exists("adir.tmp"), "a directory target: an I/O error, no .tmp (%s)", err.msg);
	/* the target turns into a directory before commit: rename fails */
	mlde_error_clear(&err);
	a = mlde_atomic_open("r.out", &err);
	mkdir("r.out", 0700);
	spit("r.out/inside", "x");
	TAP_OK(a && mlde_atomic_commit(a, &err) == -1 && err.status == MLDE_EXIT_IO &&
	       strstr(err.msg, "r.out.tmp") && !exists("r.out.tmp"),
	       "a failed rename: an I/O error, the .tmp removed (%s)", err.msg);
}

/* The registry: every live .tmp is removed by the signal-safe call, a
 * committed or aborted one is no longer listed, and it is bounded. */
static void test_registry(void)
{
	mlde_error err;
	mlde_atomic *a, *b, *c, *all[MLDE_ATOMIC_LIVE_MAX + 1];
	int opened = 0;

	mlde_error_clear(&err);
	a = mlde_atomic_open("l1.out", &err);
	b = mlde_atomic_open("l2.out", &err);
	c = mlde_atomic_open("l3.out", &err);
	if (!a || !b || !c) {
		TAP_OK(0, "three files open (%s)", err.msg);
		return;
	}
	put(c, "done");
	mlde_atomic_commit(c, &err);
	TAP_OK(exists("l1.out.tmp") && exists("l2.out.tmp"), "two .tmp files live");
	mlde_atomic_unlink_live();
	TAP_OK(!exists("l1.out.tmp") && !exists("l2.out.tmp"),
	       "mlde_atomic_unlink_live removes every live .tmp");
	TAP_IS_STR(slurp("l3.out"), "done", "  and leaves a committed target alone");
	mlde_atomic_abort(a);
	mlde_atomic_abort(b);
	spit("l1.out.tmp", "someone else's");
	mlde_atomic_unlink_live();
	TAP_OK(exists("l1.out.tmp"), "an aborted file is no longer listed");

	for (int i = 0; i <= MLDE_ATOMIC_LIVE_MAX; i++) {
		char name[32];

		snprintf(name, sizeof name, "many%d", i);
		mlde_error_clear(&err);
		all[i] = mlde_atomic_open(name, &err);
		opened += all[i] != NULL;
	}
	TAP_IS_INT(opened, MLDE_ATOMIC_LIVE_MAX, "at most %d files at once",
		   MLDE_ATOMIC_LIVE_MAX);
	TAP_OK(!all[MLDE_ATOMIC_LIVE_MAX] && err.status == MLDE_EXIT_INTERNAL &&
	       strstr(err.msg, "many64"), "  one more is refused, naming it (%s)", err.msg);
	for (int i = 0; i <= MLDE_ATOMIC_LIVE_MAX; i++)
		mlde_atomic_abort(all[i]);
}

/* The program layer's handler (mlde_cli_init): SIGTERM with a .tmp live
 * removes it and the process still dies of SIGTERM. */
static void test_signal(void)
{
	pid_t pid;
	int st = 0;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		static char *argv[] = { "test-atomic", NULL };
		static const struct option longopts[] = { MLDE_COMMON_LONGOPTS, { 0, 0, 0, 0 } };
		mlde_cli cli = { 0 };
		int argc = 1;
		mlde_error err;
		mlde_atomic *a;

		mlde_cli_init(&cli, "test-atomic", &argc, argv, MLDE_COMMON_SHORTOPTS, longopts);
		mlde_error_clear(&err);
		a = mlde_atomic_open("sig.out", &err);
		if (!a || put(a, "partial") < 0)
			_exit(2);
		raise(SIGTERM);
		_exit(3);  /* not reached: the handler re-raises with the default */
	}
	waitpid(pid, &st, 0);
	TAP_OK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	       "SIGTERM with a live .tmp: the process dies of SIGTERM (status %d)", st);
	TAP_OK(!exists("sig.out.tmp") && !exists("sig.out"),
	       "  and leaves neither the .tmp nor the target");
}

/* A FIFO target is written through: a reader gets the bytes, the FIFO
 * stays a FIFO and no .tmp appears. */
static void test_fifo(void)
{
	mlde_error err;
	mlde_atomic *a;
	struct stat st;
	pid_t pid;
	int ws = 0;

	if (mkfifo("f.out", 0600) < 0) {
		TAP_OK(0, "mkfifo: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char buf[64];
		int fd = open("f.out", O_RDONLY), out = open("f.got", O_WRONLY | O_CREAT, 0600);
		ssize_t n;

		alarm(10);
		while ((n = read(fd, buf, sizeof buf)) > 0)
			if (write(out, buf, (size_t)n) != n)
				_exit(1);
		_exit(n < 0);
	}
	alarm(10);  /* a reader that never came would hang the open */
	mlde_error_clear(&err);
	a = mlde_atomic_open("f.out", &err);
	TAP_OK(a && mlde_atomic_is_through(a), "a FIFO target is written through (%s)",
	       err.msg);
	if (a) {
		TAP_IS_STR(mlde_atomic_name(a), "f.out", "  under its own name");
		put(a, "through the fifo\n");
		TAP_IS_INT(mlde_atomic_commit(a, &err), 0, "  commit (%s)", err.msg);
	}
	waitpid(pid, &ws, 0);
	alarm(0);
	TAP_IS_STR(slurp("f.got"), "through the fifo\n", "  the reader got the bytes");
	TAP_OK(lstat("f.out", &st) == 0 && S_ISFIFO(st.st_mode) && !exists("f.out.tmp"),
	       "  the FIFO is still a FIFO, no .tmp");
}

/* A symlink target is written through to the file it names (truncated, as
 * the shell's > would), and stays a symlink. */
static void test_symlink(void)
{
	mlde_error err;
	mlde_atomic *a;
	struct stat st;

	spit("real.out", "a longer old content");
	if (symlink("real.out", "link.out") < 0) {
		TAP_OK(0, "symlink: %s", strerror(errno));
		return;
	}
	mlde_error_clear(&err);
	a = mlde_atomic_open("link.out", &err);
	TAP_OK(a && mlde_atomic_is_through(a), "a symlink target is written through (%s)",
	       err.msg);
	if (a) {
		put(a, "new");
		mlde_atomic_commit(a, &err);
	}
	TAP_OK(lstat("link.out", &st) == 0 && S_ISLNK(st.st_mode) && !exists("link.out.tmp"),
	       "  the symlink is still a symlink, no .tmp");
	TAP_IS_STR(slurp("real.out"), "new", "  the file it names holds the new bytes only");
	mlde_error_clear(&err);
	a = mlde_atomic_open("link.out", &err);
	if (a)
		put(a, "x");
	mlde_atomic_abort(a);
	TAP_OK(exists("link.out") && exists("real.out"),
	       "abort of a written-through target removes nothing");
}

/* /dev/stdout (the only device node this test touches: it runs as root) is
 * written through: in a child whose stdout is a file, the bytes land there
 * and /dev/stdout is not replaced. */
static void test_dev_stdout(void)
{
	struct stat before, after;
	pid_t pid;
	int st = 0;

	if (lstat("/dev/stdout", &before) < 0) {
		printf("ok %d # SKIP no /dev/stdout\n", ++tap_count);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int fd = open("so.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		mlde_error err;
		mlde_atomic *a;

		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
			_exit(2);
		mlde_error_clear(&err);
		a = mlde_atomic_open("/dev/stdout", &err);
		if (!a || !mlde_atomic_is_through(a) || put(a, "to stdout\n") < 0)
			_exit(3);
		_exit(mlde_atomic_commit(a, &err) == 0 ? 0 : 4);
	}
	waitpid(pid, &st, 0);
	TAP_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "/dev/stdout is written through (child status %d)", st);
	TAP_IS_STR(slurp("so.txt"), "to stdout\n", "  the bytes reach the process's stdout");
	TAP_OK(lstat("/dev/stdout", &after) == 0 && after.st_mode == before.st_mode &&
	       after.st_ino == before.st_ino && !exists("/dev/stdout.tmp"),
	       "  /dev/stdout is not replaced, no /dev/stdout.tmp");
}

int main(void)
{
	test_commit();
	test_in_place();
	test_abort();
	test_failures();
	test_registry();
	test_signal();
	test_fifo();
	test_symlink();
	test_dev_stdout();
	return TAP_DONE();
}
