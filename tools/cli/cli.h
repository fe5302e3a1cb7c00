/* cli.h - the command-line manners every mlde program shares: getopt_long
 * with the common options, strict number parsing, usage and version. */
#ifndef MLDE_CLI_H
#define MLDE_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "cli/diag.h"
#include "io/jsonl.h"

#define MLDE_VERSION "0.1.0"

/* Long-option values of the shared options, above any char. */
enum {
	MLDE_OPT_HELP = 0x100,
	MLDE_OPT_VERSION,
	MLDE_OPT_LEVEL,
	MLDE_OPT_FIRST_PRIVATE = 0x200  /* programs number their own from here */
};

/* The shared short options; a program appends its own.  The leading ':'
 * lets us tell a missing value from an unknown option. */
#define MLDE_COMMON_SHORTOPTS ":o:Zqvh"
#define MLDE_COMMON_LONGOPTS                                      \
	{ "help", no_argument, 0, MLDE_OPT_HELP },                \
	{ "version", no_argument, 0, MLDE_OPT_VERSION },          \
	{ "output", required_argument, 0, 'o' },                  \
	{ "plain", no_argument, 0, 'Z' },                         \
	{ "level", required_argument, 0, MLDE_OPT_LEVEL },        \
	{ "quiet", no_argument, 0, 'q' },                         \
	{ "verbose", no_argument, 0, 'v' }

/* The help lines of the shared options, for the programs whose help text
 * is laid out in the usual 20 columns (one wording, so they cannot drift). */
#define MLDE_HELP_OUTPUT                                                           \
	"  -o, --output FILE write FILE (via FILE.tmp, renamed on success)\n"      \
	"  -Z, --plain       plain JSON Lines, not zstd (the default on a terminal)\n" \
	"  -0 .. -19, --level N\n"                                                 \
	"                    zstd level (default 3)\n"
#define MLDE_HELP_VERBOSE                                                          \
	"  -v, --verbose     more notes on stderr\n"                               \
	"  -h, --help, --version\n"

typedef struct mlde_cli {
	const char *synopsis;  /* one line, as in the man page's SYNOPSIS */
	const char *help;      /* the full --help text after the synopsis */
	mlde_output out;
	char **argv;           /* for naming an unknown option */
} mlde_cli;

/* Set the program name, ignore SIGPIPE (a closed pipe comes back as EPIPE
 * and ends the program quietly), catch SIGINT, SIGTERM and SIGHUP to remove
 * every output .tmp being written (then die of the signal), and take the
 * -N zstd levels out of argv so getopt never sees them. */
void mlde_cli_init(mlde_cli *cli, const char *prog, int *argc, char **argv,
		   const char *shortopts, const struct option *longopts);
/* Handle a shared option; false when opt is not one of them.  Exits for
 * --help, --version and an unknown option. */
bool mlde_cli_common(mlde_cli *cli, int opt, const char *arg);
_Noreturn void mlde_cli_usage_error(const mlde_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Strict numbers: the whole string, in range, or a usage error naming
 * the option and the value. */
long mlde_cli_long(const mlde_cli *cli, const char *opt, const char *arg,
		   long min, long max);
double mlde_cli_double(const mlde_cli *cli, const char *opt, const char *arg,
		       double min, double max);

/* The output the shared options describe, with the environment's say:
 * MLDE_PLAIN=1 makes plain text the default on standard output. */
mlde_output mlde_cli_output(const mlde_cli *cli);

#endif
