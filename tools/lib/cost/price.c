/* price.c - the price table and what tokens cost (price.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cost/price.h"

char *mlde_prices_default_path(void)
{
	const char *env = getenv("MLDE_PROMPTS");
	char exe[4096], try[4200];
	ssize_t n;

	if (env && *env) {
		snprintf(try, sizeof try, "%s/prices.tsv", env);
		return access(try, R_OK) == 0 ? mlde_xstrdup(try) : NULL;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	/* bin/mlde-x in the tree, or PREFIX/bin/mlde-x installed */
	for (int up = 0; up < 4; up++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			break;
		*slash = '\0';
		snprintf(try, sizeof try, "%s/prompts/prices.tsv", exe);
		if (access(try, R_OK) == 0)
			return mlde_xstrdup(try);
		snprintf(try, sizeof try, "%s/share/mlde/prompts/prices.tsv", exe);
		if (access(try, R_OK) == 0)
			return mlde_xstrdup(try);
	}
	return NULL;
}

/* A price field: a number >= 0, or "-" (-1) where dash_ok. */
static int price_field(const char *s, bool dash_ok, double *out)
{
	char *end;

	if (dash_ok && strcmp(s, "-") == 0) {
		*out = -1.0;
		return 0;
	}
	errno = 0;
	*out = strtod(s, &end);
	return *s && !*end && errno == 0 && *out >= 0.0 && *out < 1e9 ? 0 : -1;
}

/* Split line (modified) at tabs into at most max fields; their count. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;

	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return line ? max + 1 : n;
}

static int parse_row(char *line, mlde_price *row, const char *at, mlde_error *err)
{
	static const char *const names[] = { "input", "cached", "output", "batch" };
	double *vals[] = { &row->input, &row->cached, &row->output, &row->batch };
	char *f[6];

	if (split_tabs(line, f, 6) != 6 || !*f[0]) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: want 6 tab-separated fields: model, "
			       "input, cached, output, batch, date", at);
		return -1;
	}
	for (int i = 0; i < 4; i++)
		if (price_field(f[i + 1], i == 1, vals[i]) < 0 || (i == 3 && row->batch > 1.0)) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: %s: '%.40s' is not a price%s", at,
				       names[i], f[i + 1], i == 3 ? " factor from 0 to 1" : "");
			return -1;
		}
	row->model = mlde_xstrdup(f[0]);
	row->date = mlde_xstrdup(f[5]);
	return 0;
}

int mlde_prices_load(mlde_prices *p, const char *path, mlde_error *err)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, at[4200];
	size_t cap = 0;
	unsigned long lineno = 0;
	ssize_t got;
	int rc = 0;

	memset(p, 0, sizeof *p);
	if (!fp) {
		int e = errno;

		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(e));
		return -1;
	}
	while (rc == 0 && (got = getline(&line, &cap, fp)) >= 0) {
		mlde_price row = { 0 };

		lineno++;
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = '\0';
		if (got == 0 || line[0] == '#')
			continue;
		snprintf(at, sizeof at, "%s:%lu", path, lineno);
		rc = parse_row(line, &row, at, err);
		if (rc == 0) {
			p->rows = mlde_xrealloc(p->rows, (p->n + 1) * sizeof *p->rows);
			p->rows[p->n++] = row;
		}
	}
	if (rc == 0 && ferror(fp)) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: read error", path);
		rc = -1;
	}
	free(line);
	fclose(fp);
	if (rc < 0)
		mlde_prices_free(p);
	return rc;
}

void mlde_prices_free(mlde_prices *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->rows[i].model);
		free(p->rows[i].date);
	}
	free(p->rows);
	memset(p, 0, sizeof *p);
}

const mlde_price *mlde_prices_find(const mlde_prices *p, const char *model)
{
	const mlde_price *best = NULL;
	size_t best_len = 0;

	if (!model)
		return NULL;
	for (size_t i = 0; i < p->n; i++) {
		const char *name = p->rows[i].model;
		size_t len = strlen(name);

		if (strcmp(name, model) == 0)
			return &p->rows[i];
		if (len > best_len && strncmp(name, model, len) == 0 && model[len] == '-') {
			best = &p->rows[i];
			best_len = len;
		}
	}
	return best;
}

double mlde_price_cost(const mlde_price *pr, double prompt, double cached, double completion,
		       bool batch)
{
	double cached_price, usd;

	if (!pr)
		return 0.0;
	if (cached > prompt)
		cached = prompt;
	cached_price = pr->cached >= 0.0 ? pr->cached : pr->input;
	usd = ((prompt - cached) * pr->input + cached * cached_price + completion * pr->output) / 1e6;
	return batch ? usd * pr->batch : usd;
}
