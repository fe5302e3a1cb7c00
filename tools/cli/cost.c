/* cost.c - the cost options and the dry run's report (cost.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli/cost.h"
#include "cli/diag.h"

/* Entries of the whole cache read at most for a model's history: enough
 * for a mean, and a dry run stays quick on a cache of millions. */
#define HISTORY_SCAN_MAX 5000

bool mlde_cost_option(mlde_cost_opts *o, int c, const char *arg)
{
	switch (c) {
	case MLDE_OPT_DRY_RUN: o->dry_run = true; return true;
	case MLDE_OPT_PRICES: o->prices = arg; return true;
	default: return false;
	}
}

int mlde_cli_dry_cache(mlde_cache *c, const char *dir, mlde_error *err)
{
	char *d = dir ? mlde_xstrdup(dir) : mlde_cache_default_dir();
	int rc = mlde_cache_open(c, d, err);

	free(d);
	return rc;
}

static int load_prices(mlde_prices *p, const mlde_cost_opts *o, mlde_error *err)
{
	char *path = o->prices ? mlde_xstrdup(o->prices) : mlde_prices_default_path();
	int rc = 0;

	memset(p, 0, sizeof *p);
	if (path)
		rc = mlde_prices_load(p, path, err);
	else
		mlde_note(1, "no price table (prompts/prices.tsv): every model costs 0");
	free(path);
	return rc;
}

static void say_gist(const mlde_dry *d, const mlde_prices *p)
{
	for (size_t i = 0; i < d->n; i++) {
		const mlde_dry_model *m = &d->m[i];
		const mlde_price *pr = mlde_prices_find(p, m->model);
		double out = mlde_dry_output(m);

		mlde_note(0, "dry run: %s: %lu requests, %lu in the reply cache (cost nothing), "
			  "%lu to send: about %.0f input tokens, %.0f output tokens (%s), $%.2f%s",
			  m->model, m->requests, m->in_cache, m->requests - m->in_cache, m->input,
			  out, m->history ? "the mean of cached replies" : "--max-tokens, at most",
			  mlde_price_cost(pr, m->input, 0.0, out, false),
			  pr ? "" : " (no price for it: counted as 0)");
	}
}

int mlde_cli_dry_report(mlde_dry *d, const mlde_cost_opts *o, mlde_error *err)
{
	mlde_prices p;
	mlde_buf b = { 0 };
	int rc;

	if (load_prices(&p, o, err) < 0)
		return -1;
	mlde_dry_scan_history(d, HISTORY_SCAN_MAX);
	mlde_buf_adds(&b, MLDE_DRY_HEADER);
	mlde_dry_rows(d, mlde_prog, &p, &b);
	if (b.len)
		fwrite(b.p, 1, b.len, stdout);
	rc = fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
	if (rc < 0)
		mlde_error_set(err, MLDE_EXIT_IO, "<stdout>: write error");
	else
		say_gist(d, &p);
	mlde_buf_free(&b);
	mlde_prices_free(&p);
	return rc;
}
