/* cli.c - program-layer helpers: the shared options, strict numbers, and
 * the usage and version texts.  These print and exit; the library does not. */
#include "cli/cli.h"
#include "io/atomic.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Does option letter c of shortopts take an argument? */
static bool short_takes_arg(const char *shortopts, char c)
{
	const char *p = strchr(shortopts, c);

	return p && c != ':' && p[1] == ':';
}

static bool long_takes_arg(const struct option *longopts, const char *arg)
{
	size_t n = strcspn(arg, "=");

	if (arg[n] == '=')
		return false;
	for (const struct option *o = longopts; o->name; o++)
		if (strlen(o->name) == n && strncmp(o->name, arg, n) == 0)
			return o->has_arg == required_argument;
	return false;
}

static bool is_level_arg(const char *a)
{
	if (a[0] != '-' || a[1] < '0' || a[1] > '9')
		return false;
	for (a++; *a; a++)
		if (*a < '0' || *a > '9')
			return false;
	return true;
}

/* getopt reads "-19" as the options 1 and 9; take such words out first,
 * skipping the values of options that take one ("--min-n -5"). */
static void take_levels(mlde_cli *cli, int *argc, char **argv, const char *shortopts,
			const struct option *longopts)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (is_level_arg(a)) {
			long level = strtol(a + 1, NULL, 10);
			if (level > MLDE_LEVEL_MAX || strlen(a) > 3)
				mlde_cli_usage_error(cli, "bad compression level '%s' (0 to %d)",
						     a, MLDE_LEVEL_MAX);
			cli->out.level = (int)level;
			continue;
		}
		argv[out++] = a;
		if (a[0] == '-' && a[1] == '-' && a[2] && long_takes_arg(longopts, a + 2)) {
			if (i + 1 < *argc)
				argv[out++] = argv[++i];
		} else if (a[0] == '-' && a[1] && a[1] != '-') {
			/* a cluster: the first letter that takes a value ends it */
			for (const char *c = a + 1; *c; c++) {
				if (short_takes_arg(shortopts, *c)) {
					if (!c[1] && i + 1 < *argc)
						argv[out++] = argv[++i];
					break;
				}
			}
		}
	}
	argv[out] = NULL;
	*argc = out;
}

/* SIGINT, SIGTERM, SIGHUP: remove the .tmp files being written (io/atomic.h),
 * then die of the same signal, so the caller sees how we ended. */
static void on_fatal_signal(int sig)
{
	mlde_atomic_unlink_live();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_fatal_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		struct sigaction sa, old;

		/* a signal ignored when we started (nohup, a background job's
		 * SIGINT) stays ignored */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_fatal_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

void mlde_cli_init(mlde_cli *cli, const char *prog, int *argc, char **argv,
		   const char *shortopts, const struct option *longopts)
{
	mlde_prog = prog;
	cli->out = (mlde_output){ NULL, MLDE_LEVEL_DEFAULT, -1 };
	cli->argv = argv;
	opterr = 0;  /* we name the bad option ourselves */
	signal(SIGPIPE, SIG_IGN);
	catch_fatal_signals();
	take_levels(cli, argc, argv, shortopts, longopts);
}

void mlde_cli_usage_error(const mlde_cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", mlde_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\nTry '%s --help' for more information.\n",
		cli->synopsis, mlde_prog);
	exit(MLDE_EXIT_USAGE);
}

static _Noreturn void print_and_exit(const char *text)
{
	/* a failed write of --help (say to /dev/full) is still a failure */
	if (fputs(text, stdout) == EOF || fflush(stdout) == EOF || ferror(stdout))
		mlde_die(MLDE_EXIT_IO, "write error: %s", strerror(errno));
	exit(MLDE_EXIT_OK);
}

bool mlde_cli_common(mlde_cli *cli, int opt, const char *arg)
{
	char text[256];

	switch (opt) {
	case MLDE_OPT_HELP:
	case 'h':
		printf("usage: %s\n", cli->synopsis);
		print_and_exit(cli->help);
	case MLDE_OPT_VERSION:
		snprintf(text, sizeof text, "%s (mlde) %s\n", mlde_prog, MLDE_VERSION);
		print_and_exit(text);
	case 'o':
		cli->out.path = arg;
		return true;
	case 'Z':
		cli->out.plain = 1;
		return true;
	case MLDE_OPT_LEVEL:
		cli->out.level = (int)mlde_cli_long(cli, "--level", arg, 0, MLDE_LEVEL_MAX);
		return true;
	case 'q':
		mlde_verbosity = -1;
		return true;
	case 'v':
		if (mlde_verbosity < 0)
			mlde_verbosity = 0;
		mlde_verbosity++;
		return true;
	case '?':
		if (optopt)
			mlde_cli_usage_error(cli, "unknown option '-%c'", optopt);
		snprintf(text, sizeof text, "%s", cli->argv[optind - 1]);
		text[strcspn(text, "=")] = '\0';
		mlde_cli_usage_error(cli, "unknown option '%s'", text);
	case ':':
		if (strncmp(cli->argv[optind - 1], "--", 2) == 0)
			mlde_cli_usage_error(cli, "option '%s' needs a value",
					     cli->argv[optind - 1]);
		mlde_cli_usage_error(cli, "option '-%c' needs a value", optopt);
	default:
		return false;
	}
}

long mlde_cli_long(const mlde_cli *cli, const char *opt, const char *arg, long min,
		   long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (end == arg || *end || errno == ERANGE)
		mlde_cli_usage_error(cli, "%s: '%s' is not an integer", opt, arg);
	if (v < min || v > max)
		mlde_cli_usage_error(cli, "%s: %s is out of range (%ld to %ld)", opt, arg,
				     min, max);
	return v;
}

double mlde_cli_double(const mlde_cli *cli, const char *opt, const char *arg, double min,
		       double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end || errno == ERANGE || !isfinite(v))
		mlde_cli_usage_error(cli, "%s: '%s' is not a number", opt, arg);
	if (v < min || v > max)
		mlde_cli_usage_error(cli, "%s: %s is out of range (%g to %g)", opt, arg,
				     min, max);
	return v;
}

mlde_output mlde_cli_output(const mlde_cli *cli)
{
	const char *env = getenv("MLDE_PLAIN");
	mlde_output out = cli->out;

	/* MLDE_PLAIN=1 makes plain text the default on standard output (for an
	 * interactive session and jq); -o files stay zstd, so the loop's files
	 * do not change with the user's environment */
	if (out.plain < 0 && (!out.path || strcmp(out.path, "-") == 0) && env &&
	    strcmp(env, "1") == 0)
		out.plain = 1;
	return out;
}
