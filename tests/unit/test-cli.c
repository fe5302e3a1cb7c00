/* test-cli.c - the strict number options of tools/cli/cli.c: what
 * mlde_cli_long and mlde_cli_double accept, and for everything else the
 * message naming option and value, the synopsis and exit status 2.  They
 * exit, so each case runs in a forked child whose stdout and stderr are
 * read back. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tap.h"

static mlde_cli cli = { .synopsis = "test-cli [--n N] [--x X]", .help = "" };

typedef struct outcome {
	int status;       /* exit status, or -1 when it did not exit */
	char out[256];    /* what it printed: the value it returned */
	char err[1024];
} outcome;

static void slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Run mlde_cli_long (is_long) or mlde_cli_double on arg in a child. */
static outcome run(bool is_long, const char *arg, double min, double max)
{
	FILE *out = tmpfile(), *err = tmpfile();
	outcome o = { -1, "", "" };
	pid_t pid;
	int ws;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(fileno(out), 1);
		dup2(fileno(err), 2);
		if (is_long)
			printf("%ld", mlde_cli_long(&cli, "--n", arg, (long)min, (long)max));
		else
			printf("%.17g", mlde_cli_double(&cli, "--x", arg, min, max));
		fflush(stdout);
		_exit(0);
	}
	if (pid > 0 && waitpid(pid, &ws, 0) == pid && WIFEXITED(ws))
		o.status = WEXITSTATUS(ws);
	slurp(out, o.out, sizeof o.out);
	slurp(err, o.err, sizeof o.err);
	return o;
}

static void accepts(bool is_long, const char *arg, double min, double max, const char *want)
{
	outcome o = run(is_long, arg, min, max);

	TAP_OK(o.status == 0 && strcmp(o.out, want) == 0 && !o.err[0],
	       "%s '%s' in [%g, %g]: %s", is_long ? "long" : "double", arg, min, max, want);
	if (o.status != 0 || strcmp(o.out, want) != 0)
		printf("#   status %d, out '%s', err '%s'\n", o.status, o.out, o.err);
}

/* A usage error: status 2, first line "test-cli: MSG", then the synopsis. */
static void refuses(bool is_long, const char *arg, double min, double max, const char *msg)
{
	outcome o = run(is_long, arg, min, max);
	char want[512];

	snprintf(want, sizeof want, "test-cli: %s\nusage: test-cli [--n N] [--x X]\n"
		 "Try 'test-cli --help' for more information.\n", msg);
	TAP_OK(o.status == MLDE_EXIT_USAGE && !o.out[0] && strcmp(o.err, want) == 0,
	       "%s '%s': status 2, \"%s\" and the synopsis", is_long ? "long" : "double", arg,
	       msg);
	if (o.status != MLDE_EXIT_USAGE || strcmp(o.err, want) != 0)
		printf("#   status %d, err '%s'\n", o.status, o.err);
}

static void test_long(void)
{
	accepts(true, "42", 0, 100, "42");
	accepts(true, "-5", -10, 10, "-5");
	accepts(true, "+7", 0, 10, "7");
	accepts(true, "0", 0, 100, "0");
	accepts(true, "100", 0, 100, "100");
	accepts(true, "007", 0, 100, "7");
	refuses(true, "", 0, 100, "--n: '' is not an integer");
	refuses(true, "12x", 0, 100, "--n: '12x' is not an integer");
	refuses(true, "12 ", 0, 100, "--n: '12 ' is not an integer");
	refuses(true, "abc", 0, 100, "--n: 'abc' is not an integer");
	refuses(true, "1.5", 0, 100, "--n: '1.5' is not an integer");
	refuses(true, "0x10", 0, 100, "--n: '0x10' is not an integer");
	refuses(true, "-", 0, 100, "--n: '-' is not an integer");
	refuses(true, "99999999999999999999", 0, 100,
		"--n: '99999999999999999999' is not an integer");
	refuses(true, "101", 0, 100, "--n: 101 is out of range (0 to 100)");
	refuses(true, "-1", 0, 100, "--n: -1 is out of range (0 to 100)");
}

static void test_double(void)
{
	accepts(false, "0.5", 0, 1, "0.5");
	accepts(false, "1e-3", 1e-3, 1e3, "0.001");
	accepts(false, "1000", 1e-3, 1e3, "1000");
	accepts(false, "-2.25", -10, 10, "-2.25");
	accepts(false, "3", 0, 10, "3");
	refuses(false, "", 0, 1, "--x: '' is not a number");
	refuses(false, "0.5x", 0, 1, "--x: '0.5x' is not a number");
	refuses(false, "x", 0, 1, "--x: 'x' is not a number");
	refuses(false, "nan", 0, 1, "--x: 'nan' is not a number");
	refuses(false, "inf", 0, 1, "--x: 'inf' is not a number");
	refuses(false, "-infinity", 0, 1, "--x: '-infinity' is not a number");
	refuses(false, "1e999", 0, 1, "--x: '1e999' is not a number");
	refuses(false, "2", 1e-3, 1, "--x: 2 is out of range (0.001 to 1)");
	refuses(false, "0", 1e-3, 1e3, "--x: 0 is out of range (0.001 to 1000)");
	refuses(false, "1000.5", 1e-3, 1e3, "--x: 1000.5 is out of range (0.001 to 1000)");
}

int main(void)
{
	static const struct option longopts[] = { { 0, 0, 0, 0 } };
	char *argv[] = { "test-cli", NULL };
	int argc = 1;

	mlde_cli_init(&cli, "test-cli", &argc, argv, "", longopts);
	test_long();
	test_double();
	return TAP_DONE();
}
