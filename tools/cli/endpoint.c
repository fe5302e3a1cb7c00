/* endpoint.c - the key never reaches a message: the errors here name the
 * file, never what it holds, and every copy is wiped when freed. */
#include "cli/endpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/err.h"
#include "cli/diag.h"

static char *first_line(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int e;

	if (!f)
		mlde_die(MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
	n = getline(&line, &cap, f);
	e = errno;
	if (n < 0 && ferror(f)) {
		free(line);
		fclose(f);
		mlde_die(MLDE_EXIT_IO, "%s: %s", path, strerror(e));
	}
	fclose(f);
	if (n < 0) {
		free(line);
		return mlde_xstrdup("");
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

char *mlde_cli_api_key(const mlde_cli *cli, const char *key_file)
{
	char *key = NULL, *s, *e;

	if (key_file)
		key = first_line(key_file);
	else if (getenv("OPENAI_API_KEY"))
		key = mlde_xstrdup(getenv("OPENAI_API_KEY"));
	unsetenv("OPENAI_API_KEY");
	if (!key)
		return NULL;
	s = key;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	memmove(key, s, strlen(s) + 1);
	for (const char *p = key; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			mlde_cli_usage_error(cli, "the API key holds a control character");
	if (!*key && key_file) {
		/* a file given for the key and holding none is a mistake, never a
		 * run that sends no key */
		free(key);
		mlde_cli_usage_error(cli, "--api-key-file %s: no key on its first line", key_file);
	}
	if (!*key) {
		free(key);
		key = NULL;
	}
	return key;
}

char *mlde_endpoint_url(const char *base_url, const char *path)
{
	size_t n = strlen(base_url);
	mlde_buf b = { 0 };

	while (n > 0 && base_url[n - 1] == '/')
		n--;
	mlde_buf_printf(&b, "%.*s%s", (int)n, base_url, path);
	return mlde_buf_take(&b, NULL);
}

void mlde_cli_endpoint(mlde_endpoint *ep, const mlde_cli *cli, const char *base_url,
		       const char *path, const char *key_file)
{
	char *key = mlde_cli_api_key(cli, key_file);
	mlde_buf b = { 0 };

	ep->url = mlde_endpoint_url(base_url, path);
	ep->auth = NULL;
	if (key) {
		mlde_buf_printf(&b, "Authorization: Bearer %s", key);
		explicit_bzero(key, strlen(key));
		free(key);
		ep->auth = mlde_buf_take(&b, NULL);
	}
}

void mlde_endpoint_free(mlde_endpoint *ep)
{
	if (ep->auth)
		explicit_bzero(ep->auth, strlen(ep->auth));
	free(ep->auth);
	free(ep->url);
	ep->auth = ep->url = NULL;
}

bool mlde_endpoint_option(const mlde_cli *cli, mlde_endpoint_opts *o, int c, const char *arg)
{
	switch (c) {
	case MLDE_OPT_BASE_URL: o->base_url = arg; break;
	case MLDE_OPT_MODEL: o->model = arg; break;
	case MLDE_OPT_KEY_FILE: o->key_file = arg; break;
	case MLDE_OPT_CACHE: o->cache = arg; break;
	case MLDE_OPT_OFFLINE: o->offline = true; break;
	case MLDE_OPT_TEMPERATURE:
		o->temperature = mlde_cli_double(cli, "--temperature", arg, 0.0, 2.0);
		break;
	case MLDE_OPT_MAX_TOKENS:
		o->max_tokens = mlde_cli_long(cli, "--max-tokens", arg, 1, 1000000L);
		break;
	case 'j': o->jobs = mlde_cli_long(cli, "-j", arg, 1, 4096); break;
	case MLDE_OPT_RPM: o->rpm = mlde_cli_double(cli, "--rpm", arg, 0.0, 1e9); break;
	case MLDE_OPT_TPM: o->tpm = mlde_cli_double(cli, "--tpm", arg, 0.0, 1e12); break;
	case MLDE_OPT_RETRIES: o->retries = mlde_cli_long(cli, "--retries", arg, 0, 100); break;
	case MLDE_OPT_TIMEOUT:
		o->timeout = mlde_cli_double(cli, "--timeout", arg, 0.001, 86400.0);
		break;
	case MLDE_OPT_BACKOFF:
		o->backoff = mlde_cli_double(cli, "--backoff", arg, 0.0, 3600.0);
		break;
	default:
		return false;
	}
	return true;
}

void mlde_endpoint_default_url(mlde_endpoint_opts *o)
{
	const char *env = getenv("OPENAI_BASE_URL");

	if (!o->base_url)
		o->base_url = env && *env ? env : "https://api.openai.com/v1";
}

long mlde_cli_jobs_fit(long jobs)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)jobs * MLDE_ENDPOINT_FILES_PER_JOB + MLDE_ENDPOINT_FILES_SPARE, fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return jobs;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > rl.rlim_cur) {
		struct rlimit raised = rl;

		raised.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl.rlim_cur = raised.rlim_cur;
	}
	if (rl.rlim_cur >= need) {
		mlde_note(1, "-j %ld: the open-file limit raised to %lu", jobs,
			  (unsigned long)rl.rlim_cur);
		return jobs;
	}
	fit = rl.rlim_cur > MLDE_ENDPOINT_FILES_SPARE + MLDE_ENDPOINT_FILES_PER_JOB
	      ? (rl.rlim_cur - MLDE_ENDPOINT_FILES_SPARE) / MLDE_ENDPOINT_FILES_PER_JOB : 1;
	mlde_warn("-j %ld: only %lu files may be open (ulimit -n), %lu needed: %lu in flight",
		  jobs, (unsigned long)rl.rlim_cur, (unsigned long)need, (unsigned long)fit);
	return (long)fit;
}

long mlde_cli_endpoint_open(mlde_endpoint *ep, const mlde_cli *cli, const mlde_endpoint_opts *o,
			    bool sends, long windows)
{
	long jobs;

	if (!sends) {
		unsetenv("OPENAI_API_KEY");
		return o->jobs;
	}
	mlde_cli_endpoint(ep, cli, o->base_url, "/chat/completions", o->key_file);
	jobs = mlde_cli_jobs_fit(o->jobs * windows) / windows;
	return jobs < 1 ? 1 : jobs;
}
