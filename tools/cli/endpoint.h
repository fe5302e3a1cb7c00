/* endpoint.h - the OpenAI-compatible endpoint of a program that sends
 * requests (mlde-gen; mlde-eval's HTTP backend next): the URL from a base
 * URL, and the key from a file or OPENAI_API_KEY, which is then removed
 * from the environment so no template can read it. */
#ifndef MLDE_ENDPOINT_H
#define MLDE_ENDPOINT_H

#include <stdbool.h>

#include "cli/cli.h"

/* The options of every program that sends requests to an OpenAI-compatible
 * server, parsed in one place so that each means the same everywhere.  The
 * program sets the defaults (a generator and a judge want other
 * temperatures) and writes their help lines, which name those defaults. */
enum {
	MLDE_OPT_BASE_URL = 0x180,  /* between the shared options and a program's own */
	MLDE_OPT_MODEL, MLDE_OPT_TEMPERATURE, MLDE_OPT_MAX_TOKENS, MLDE_OPT_KEY_FILE,
	MLDE_OPT_RPM, MLDE_OPT_TPM, MLDE_OPT_RETRIES, MLDE_OPT_TIMEOUT, MLDE_OPT_BACKOFF,
	MLDE_OPT_CACHE, MLDE_OPT_OFFLINE,
};

#define MLDE_ENDPOINT_SHORTOPTS "j:"
#define MLDE_ENDPOINT_LONGOPTS                                             \
	{ "base-url", required_argument, 0, MLDE_OPT_BASE_URL },           \
	{ "model", required_argument, 0, MLDE_OPT_MODEL },                 \
	{ "temperature", required_argument, 0, MLDE_OPT_TEMPERATURE },     \
	{ "max-tokens", required_argument, 0, MLDE_OPT_MAX_TOKENS },       \
	{ "api-key-file", required_argument, 0, MLDE_OPT_KEY_FILE },       \
	{ "jobs", required_argument, 0, 'j' },                             \
	{ "rpm", required_argument, 0, MLDE_OPT_RPM },                     \
	{ "tpm", required_argument, 0, MLDE_OPT_TPM },                     \
	{ "retries", required_argument, 0, MLDE_OPT_RETRIES },             \
	{ "timeout", required_argument, 0, MLDE_OPT_TIMEOUT },             \
	{ "backoff", required_argument, 0, MLDE_OPT_BACKOFF },             \
	{ "cache", required_argument, 0, MLDE_OPT_CACHE },                 \
	{ "offline", no_argument, 0, MLDE_OPT_OFFLINE }

/* The client's defaults, shared by the initialiser and the help lines. */
#define MLDE_ENDPOINT_JOBS 8
#define MLDE_ENDPOINT_RETRIES 5
#define MLDE_ENDPOINT_TIMEOUT 120
#define MLDE_ENDPOINT_BACKOFF 1
#define MLDE_STR_(x) #x
#define MLDE_STR(x) MLDE_STR_(x)

/* Their help lines, with the program's own model, temperature and reply
 * length (string literals). */
#define MLDE_ENDPOINT_HELP(MODEL, TEMPERATURE, MAX_TOKENS)                          \
	"  --base-url URL    default $OPENAI_BASE_URL, else https://api.openai.com/v1\n" \
	"  --model NAME      default " MODEL "\n"                                      \
	"  --temperature T   default " TEMPERATURE "\n"                                \
	"  --max-tokens N    default " MAX_TOKENS "\n"                                 \
	"  --api-key-file FILE\n"                                                     \
	"                    read the key from FILE rather than $OPENAI_API_KEY\n"    \
	"  -j, --jobs N      requests in flight at most (default " MLDE_STR(MLDE_ENDPOINT_JOBS) "); fewer\n" \
	"                    while the server throttles (mlde(7), PACING)\n" \
	"  --rpm N, --tpm N  requests and tokens per minute at most (default: no limit)\n" \
	"  --retries N       retries of a request after 429, 5xx, a timeout or a\n"   \
	"                    connection error (default " MLDE_STR(MLDE_ENDPOINT_RETRIES) ")\n" \
	"  --timeout S       seconds per attempt (default " MLDE_STR(MLDE_ENDPOINT_TIMEOUT) ")\n" \
	"  --backoff S       the first retry waits about S seconds, doubling (default " \
		MLDE_STR(MLDE_ENDPOINT_BACKOFF) ")\n"

/* The initialiser of mlde_endpoint_opts with those defaults. */
#define MLDE_ENDPOINT_DEFAULTS(MODEL, TEMPERATURE, MAX_TOKENS)                       \
	{ .model = MODEL, .temperature = TEMPERATURE, .max_tokens = MAX_TOKENS,        \
	  .jobs = MLDE_ENDPOINT_JOBS, .retries = MLDE_ENDPOINT_RETRIES,                \
	  .timeout = MLDE_ENDPOINT_TIMEOUT, .backoff = MLDE_ENDPOINT_BACKOFF }

typedef struct mlde_endpoint_opts {
	const char *base_url;   /* NULL: $OPENAI_BASE_URL, else OpenAI's */
	const char *model, *key_file, *cache;
	bool offline;
	double temperature, rpm, tpm, timeout, backoff;
	long max_tokens, jobs, retries;
} mlde_endpoint_opts;

/* Take option c (with its argument) into o: false when c is not one of
 * MLDE_ENDPOINT_LONGOPTS.  A bad value is a usage error, naming it. */
bool mlde_endpoint_option(const mlde_cli *cli, mlde_endpoint_opts *o, int c, const char *arg);
/* The base URL when none was given: $OPENAI_BASE_URL, else
 * https://api.openai.com/v1. */
void mlde_endpoint_default_url(mlde_endpoint_opts *o);

typedef struct mlde_endpoint {
	char *url;   /* base URL (trailing slashes dropped) + path */
	char *auth;  /* "Authorization: Bearer KEY", or NULL without a key */
} mlde_endpoint;

/* The key from the first line of key_file (when not NULL) or from
 * OPENAI_API_KEY, trimmed of blanks; NULL when there is none.  The
 * variable is removed from the environment either way.  Exits on a file
 * that cannot be read (MLDE_EXIT_IO), and with a usage error on a key file
 * whose first line holds no key and on a key holding a control character.
 * Malloc'd: wipe it before freeing. */
char *mlde_cli_api_key(const mlde_cli *cli, const char *key_file);
/* base_url (trailing slashes dropped) + path, malloc'd: the URL requests
 * go to, and the server part of the cache key (with --offline too). */
char *mlde_endpoint_url(const char *base_url, const char *path);
/* Fill ep for base_url + path and the key (see mlde_cli_api_key). */
void mlde_cli_endpoint(mlde_endpoint *ep, const mlde_cli *cli, const char *base_url,
		       const char *path, const char *key_file);
/* Free ep, wiping the key from memory. */
void mlde_endpoint_free(mlde_endpoint *ep);

/* Files a request in flight may hold open (its socket, and a resolver's
 * socket pair while a host name is looked up), and those kept besides
 * (the standard streams, inputs, outputs, a cache entry, curl's own). */
#define MLDE_ENDPOINT_FILES_PER_JOB 2
#define MLDE_ENDPOINT_FILES_SPARE 32
/* The -j that the open-file limit allows, called before anything is sent:
 * the soft limit is raised as far as the hard one when -j needs it (a note
 * at -v); when even that is too few, -j is cut to fit, with a warning. */
long mlde_cli_jobs_fit(long jobs);
/* The start of every program that may send: when sends, ep filled as
 * mlde_cli_endpoint does for o (its base URL, /chat/completions, its key
 * file) and the -j of each of its windows clients returned, fitted to the
 * open-file limit for all of them (at least 1); when not, the key dropped
 * from the environment (no template can read it) and o->jobs returned. */
long mlde_cli_endpoint_open(mlde_endpoint *ep, const mlde_cli *cli, const mlde_endpoint_opts *o,
			    bool sends, long windows);

#endif
