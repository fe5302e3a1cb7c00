/* endpoint.c - the key never reaches a message: the errors here name the
 * file, never what it holds, and every copy is wiped when freed. */
#include "cli/endpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/err.h"

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
	if (!*key) {
		free(key);
		key = NULL;
	}
	return key;
}

void mlde_cli_endpoint(mlde_endpoint *ep, const mlde_cli *cli, const char *base_url,
		       const char *path, const char *key_file)
{
	char *key = mlde_cli_api_key(cli, key_file);
	size_t n = strlen(base_url);
	mlde_buf b = { 0 };

	while (n > 0 && base_url[n - 1] == '/')
		n--;
	mlde_buf_printf(&b, "%.*s%s", (int)n, base_url, path);
	ep->url = mlde_buf_take(&b, NULL);
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
