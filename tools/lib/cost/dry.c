/* dry.c - the dry run's count of the requests a program would send (dry.h). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "cost/dry.h"
#include "cost/estimate.h"
#include "cost/usage.h"
#include "gen/window.h"

void mlde_dry_init(mlde_dry *d, const mlde_cache *cache)
{
	memset(d, 0, sizeof *d);
	d->cache = cache && cache->dir ? cache : NULL;
}

static mlde_dry_model *model_of(mlde_dry *d, const char *model)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->m[i].model, model) == 0)
			return &d->m[i];
	d->m = mlde_xrealloc(d->m, (d->n + 1) * sizeof *d->m);
	memset(&d->m[d->n], 0, sizeof *d->m);
	d->m[d->n].model = mlde_xstrdup(model);
	return &d->m[d->n++];
}

/* Does a reply's model (a server may date it: gpt-4o-2024-08-06) belong to
 * the model a request asked for? */
static bool same_model(const char *asked, const char *replied)
{
	size_t n = strlen(asked);

	return strncmp(asked, replied, n) == 0 && (replied[n] == '\0' || replied[n] == '-');
}

/* A cached reply's completion tokens into m's history, when it tells them. */
static void add_history(mlde_dry_model *m, const char *reply, size_t len, bool check_model)
{
	jv body = jv_parse_sized(reply, (int)len), model;
	mlde_usage u = mlde_usage_of_reply(body);

	if (u.known && check_model) {
		model = jv_get_kind(body) == JV_KIND_OBJECT
			? jv_object_get(jv_copy(body), jv_string("model")) : jv_invalid();
		u.known = jv_get_kind(model) == JV_KIND_STRING &&
			  same_model(m->model, jv_string_value(model));
		jv_free(model);
	}
	if (u.known) {
		m->history++;
		m->history_completion += u.completion;
	}
	jv_free(body);
}

static double number_at(jv obj, const char *key)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : 0.0;

	jv_free(v);
	return d;
}

int mlde_dry_add(mlde_dry *d, const char *server, const char *body, size_t len,
		 mlde_error *err)
{
	jv req = jv_parse_sized(body, (int)len), model;
	char key[MLDE_SHA256_HEX], *reply = NULL;
	size_t rlen = 0;
	mlde_dry_model *m;
	int got = 0;

	if (jv_get_kind(req) != JV_KIND_OBJECT) {
		jv_free(req);
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "dry run: a request body is not a JSON object");
		return -1;
	}
	model = jv_object_get(jv_copy(req), jv_string("model"));
	m = model_of(d, jv_get_kind(model) == JV_KIND_STRING ? jv_string_value(model) : "?");
	jv_free(model);
	m->requests++;
	if (d->cache) {
		mlde_window_cache_key(server, body, len, key);
		got = mlde_cache_get(d->cache, key, &reply, &rlen, err);
	}
	if (got < 0) {
		jv_free(req);
		return -1;
	}
	if (got > 0) {
		m->in_cache++;
		add_history(m, reply, rlen, false);
		free(reply);
	} else {
		double max = number_at(req, "max_completion_tokens");

		m->input += mlde_estimate_request(req);
		m->output_max += max > 0.0 ? max : number_at(req, "max_tokens");
	}
	jv_free(req);
	return 0;
}

/* One cache subdirectory's entries into the history of models without
 * any; false once max entries are read. */
static bool scan_dir(mlde_dry *d, const char *sub, size_t *left)
{
	DIR *dir = opendir(sub);
	struct dirent *e;

	if (!dir)
		return true;
	while (*left > 0 && (e = readdir(dir))) {
		mlde_error err;
		char *data = NULL;
		size_t len;

		/* entries are named by 64 hex digits; skip temporaries and dots */
		if (strlen(e->d_name) != 64)
			continue;
		(*left)--;
		mlde_error_clear(&err);
		if (mlde_cache_get(d->cache, e->d_name, &data, &len, &err) <= 0)
			continue;
		for (size_t i = 0; i < d->n; i++)
			if (d->m[i].in_cache == 0)
				add_history(&d->m[i], data, len, true);
		free(data);
	}
	closedir(dir);
	return *left > 0;
}

void mlde_dry_scan_history(mlde_dry *d, size_t max_entries)
{
	bool want = false;
	DIR *top;
	struct dirent *e;

	for (size_t i = 0; i < d->n; i++)
		want |= d->m[i].in_cache == 0;
	if (!want || !d->cache || !(top = opendir(d->cache->dir)))
		return;
	while ((e = readdir(top))) {
		mlde_buf sub = { 0 };
		bool more;

		if (strlen(e->d_name) != 2 || e->d_name[0] == '.')
			continue;
		mlde_buf_printf(&sub, "%s/%s", d->cache->dir, e->d_name);
		more = scan_dir(d, sub.p, &max_entries);
		mlde_buf_free(&sub);
		if (!more)
			break;
	}
	closedir(top);
}

void mlde_dry_free(mlde_dry *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->m[i].model);
	free(d->m);
	memset(d, 0, sizeof *d);
}

double mlde_dry_output(const mlde_dry_model *m)
{
	unsigned long to_send = m->requests - m->in_cache;

	if (m->history == 0)
		return m->output_max;
	return (double)to_send * (m->history_completion / (double)m->history);
}

void mlde_dry_rows(const mlde_dry *d, const char *program, const mlde_prices *prices,
		   mlde_buf *b)
{
	for (size_t i = 0; i < d->n; i++) {
		const mlde_dry_model *m = &d->m[i];
		const mlde_price *pr = prices ? mlde_prices_find(prices, m->model) : NULL;
		double out = mlde_dry_output(m);

		mlde_buf_printf(b, "%s\t%s\t%lu\t%lu\t%lu\t%.0f\t%.0f\t%.0f\t%lu\t%.4f\t%.4f\t%.4f\t",
				program, m->model, m->requests, m->in_cache,
				m->requests - m->in_cache, m->input, m->output_max, out, m->history,
				mlde_price_cost(pr, m->input, 0.0, m->output_max, false),
				mlde_price_cost(pr, m->input, 0.0, out, false),
				mlde_price_cost(pr, m->input, 0.0, out, true));
		if (pr)
			mlde_buf_printf(b, "%s %s\n", pr->model, pr->date);
		else
			mlde_buf_adds(b, "none\n");
	}
}
