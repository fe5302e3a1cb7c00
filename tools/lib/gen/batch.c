/* batch.c - the Batch API client behind mlde_batch: the requests added, in
 * the order of their cache keys (so a set of requests makes the same input
 * files whatever order it came in), cut into batches, each one driven
 * through upload, create, poll and download by one HTTP client (http.c)
 * that answers one request at a time, and its replies stored in the cache.
 * A batch's state file, DIR/batches/SHA.json, holds the ids of its
 * uploaded file and of the batch: written before and after each step, and
 * removed once its replies are in the cache. */
#define _GNU_SOURCE  /* explicit_bzero */
#include "gen/batch.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <jv.h>

#include "base/buf.h"
#include "base/sha256.h"
#include "gen/window.h"
#include "io/atomic.h"
#include "io/jsonl.h"

#define DOWNLOAD_MAX ((size_t)1 << 30)  /* an output file larger than this is refused */
#define FIRST_POLL 0.1                  /* seconds before the second look; then doubling */

typedef struct entry {
	char key[MLDE_SHA256_HEX];  /* the cache key: the line's custom_id */
	char *line;                 /* the input line, without its newline */
	size_t len;
	bool done;                  /* its reply is in the cache */
} entry;

/* One batch of a round: some of the entries not done, within the limits. */
typedef struct chunk {
	size_t *idx, n;             /* indices into entries */
	size_t bytes;
	char sha[MLDE_SHA256_HEX];  /* of its input file */
	char *state;                /* its state file */
	char *file_id, *batch_id;
	char *status, *output_id, *error_id;
	unsigned long total, completed, failed;
	bool over;                  /* completed, failed, expired or cancelled */
} chunk;

struct mlde_batch {
	mlde_batch_opts o;
	char *base_url, *auth, *endpoint, *server;  /* copies of o's */
	entry *e;
	size_t n, cap;
	bool sorted;
	mlde_http *http;
	double tokens[2];           /* the usage of the replies stored: prompt, completion */
	mlde_batch_stats st;
};

/* ---- news ---- */

static void note(const mlde_batch *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const mlde_batch *b, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	if (!b->o.note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	b->o.note(b->o.note_ctx, msg);
}

/* ---- the requests ---- */

mlde_batch *mlde_batch_new(const mlde_batch_opts *o)
{
	mlde_batch *b = mlde_xcalloc(1, sizeof *b);

	b->o = *o;
	b->base_url = mlde_xstrdup(o->base_url ? o->base_url : "");
	b->auth = o->auth ? mlde_xstrdup(o->auth) : NULL;
	b->endpoint = mlde_xstrdup(o->endpoint ? o->endpoint : "/v1/chat/completions");
	b->server = o->server ? mlde_xstrdup(o->server) : NULL;
	b->o.base_url = b->base_url;
	b->o.auth = b->auth;
	b->o.endpoint = b->endpoint;
	b->o.server = b->server;
	if (!b->o.max_requests)
		b->o.max_requests = MLDE_BATCH_MAX_REQUESTS;
	if (!b->o.max_bytes)
		b->o.max_bytes = MLDE_BATCH_MAX_BYTES;
	return b;
}

/* Is the cache's entry of key there and usable?  1 yes, 0 no, -1 err. */
static int in_cache(const mlde_batch *b, const char *key, mlde_error *err)
{
	char *data, why[200];
	size_t len;
	int got;

	if (!b->o.cache)
		return 0;
	got = mlde_cache_get(b->o.cache, key, &data, &len, err);
	if (got > 0 && b->o.check && b->o.check(data, len, why, sizeof why) < 0)
		got = 0;  /* a damaged entry is asked again, as the window does */
	if (got > 0)
		free(data);
	return got;
}

int mlde_batch_add(mlde_batch *b, const char *body, size_t len, mlde_error *err)
{
	char key[MLDE_SHA256_HEX];
	mlde_buf line = { 0 };
	entry *e;
	int got;

	mlde_window_cache_key(b->server, body, len, key);
	b->st.added++;
	if ((got = in_cache(b, key, err)) < 0)
		return -1;
	if (got) {
		b->st.cached++;
		return 0;
	}
	/* the body as it is, byte for byte: the one the live path sends */
	if (memchr(body, '\n', len)) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "a request body holds a newline (a bug)");
		return -1;
	}
	mlde_buf_printf(&line, "{\"custom_id\":\"%s\",\"method\":\"POST\",\"url\":", key);
	{
		jv url = jv_dump_string(jv_string(b->endpoint), 0);
		mlde_buf_adds(&line, jv_string_value(url));
		jv_free(url);
	}
	mlde_buf_adds(&line, ",\"body\":");
	mlde_buf_add(&line, body, len);
	mlde_buf_addc(&line, '}');
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->e = mlde_xrealloc(b->e, b->cap * sizeof *b->e);
	}
	e = &b->e[b->n++];
	memcpy(e->key, key, sizeof e->key);
	e->line = mlde_buf_take(&line, &e->len);
	e->done = false;
	b->sorted = false;
	return 0;
}

static int by_key(const void *x, const void *y)
{
	return strcmp(((const entry *)x)->key, ((const entry *)y)->key);
}

/* In key order, each key once. */
static void sort_unique(mlde_batch *b)
{
	size_t out = 0;

	if (b->sorted || b->n == 0)
		return;
	qsort(b->e, b->n, sizeof *b->e, by_key);
	for (size_t i = 0; i < b->n; i++) {
		if (out > 0 && strcmp(b->e[out - 1].key, b->e[i].key) == 0) {
			free(b->e[i].line);
			continue;
		}
		b->e[out++] = b->e[i];
	}
	b->n = out;
	b->sorted = true;
}

size_t mlde_batch_count(mlde_batch *b)
{
	size_t n = 0;

	sort_unique(b);
	for (size_t i = 0; i < b->n; i++)
		n += !b->e[i].done;
	return n;
}

static entry *find(mlde_batch *b, const char *key)
{
	entry k;

	memcpy(k.key, key, sizeof k.key);
	return bsearch(&k, b->e, b->n, sizeof *b->e, by_key);
}

int mlde_batch_write(mlde_batch *b, const char *path, mlde_error *err)
{
	mlde_atomic *a = mlde_atomic_open(path, err);

	if (!a)
		return -1;
	sort_unique(b);
	for (size_t i = 0; i < b->n; i++)
		if (mlde_atomic_write(a, b->e[i].line, b->e[i].len, err) < 0 ||
		    mlde_atomic_write(a, "\n", 1, err) < 0) {
			mlde_atomic_abort(a);
			return -1;
		}
	return mlde_atomic_commit(a, err);
}

/* ---- filling the cache from an output file ---- */

static bool is_key(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == MLDE_SHA256_HEX - 1;
}

/* The usage of a completion body (borrowed) added to tokens[2]: prompt,
 * completion. */
static void add_usage(jv body, double tokens[2])
{
	static const char *const names[2] = { "prompt_tokens", "completion_tokens" };
	jv u = jv_object_get(jv_copy(body), jv_string("usage"));

	for (int i = 0; i < 2 && jv_get_kind(u) == JV_KIND_OBJECT; i++) {
		jv n = jv_object_get(jv_copy(u), jv_string(names[i]));

		if (jv_get_kind(n) == JV_KIND_NUMBER && jv_number_value(n) >= 0)
			tokens[i] += jv_number_value(n);
		jv_free(n);
	}
	jv_free(u);
}

/* One line of an output or error file (NUL-terminated): 1 and key set when
 * its reply was stored (its usage added to tokens), 0 when it holds none
 * (why says why), -1 with err. */
static int fill_line(mlde_cache *cache, mlde_http_check *check, const char *line, size_t len,
		     char key[MLDE_SHA256_HEX], double tokens[2], char *why, size_t whylen,
		     mlde_error *err)
{
	jv v = jv_parse_sized(line, (int)(len < INT32_MAX ? len : INT32_MAX));
	jv id, resp, code, body, text, e;
	int rc = 0;

	snprintf(why, whylen, "no reply");
	if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		mlde_error_set(err, MLDE_EXIT_DATA, "not a JSON object");
		return -1;
	}
	id = jv_object_get(jv_copy(v), jv_string("custom_id"));
	resp = jv_object_get(jv_copy(v), jv_string("response"));
	e = jv_object_get(jv_copy(v), jv_string("error"));
	if (jv_get_kind(e) == JV_KIND_OBJECT) {
		jv m = jv_object_get(jv_copy(e), jv_string("message"));
		jv c = jv_object_get(jv_copy(e), jv_string("code"));

		snprintf(why, whylen, "%s: %.150s", jv_get_kind(c) == JV_KIND_STRING
			 ? jv_string_value(c) : "error",
			 jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "");
		jv_free(m);
		jv_free(c);
	}
	jv_free(e);
	code = jv_get_kind(resp) == JV_KIND_OBJECT
	       ? jv_object_get(jv_copy(resp), jv_string("status_code")) : jv_invalid();
	body = jv_get_kind(resp) == JV_KIND_OBJECT
	       ? jv_object_get(jv_copy(resp), jv_string("body")) : jv_invalid();
	if (jv_get_kind(id) != JV_KIND_STRING || !is_key(jv_string_value(id))) {
		snprintf(why, whylen, "custom_id is not a reply's cache key");
	} else if (jv_get_kind(code) != JV_KIND_NUMBER || jv_number_value(code) != 200 ||
		   jv_get_kind(body) != JV_KIND_OBJECT) {
		if (jv_get_kind(code) == JV_KIND_NUMBER && strncmp(why, "no reply", 8) == 0)
			snprintf(why, whylen, "HTTP %.0f", jv_number_value(code));
	} else {
		text = jv_dump_string(jv_copy(body), 0);
		len = (size_t)jv_string_length_bytes(jv_copy(text));
		if (check && check(jv_string_value(text), len, why, whylen) < 0) {
			rc = 0;
		} else if (mlde_cache_put(cache, jv_string_value(id), jv_string_value(text), len,
					  err) < 0) {
			rc = -1;
		} else {
			snprintf(key, MLDE_SHA256_HEX, "%s", jv_string_value(id));
			add_usage(body, tokens);
			rc = 1;
		}
		jv_free(text);
	}
	jv_free(id);
	jv_free(resp);
	jv_free(code);
	jv_free(body);
	jv_free(v);
	return rc;
}

int mlde_batch_read(mlde_cache *cache, mlde_http_check *check, const char *path,
		    unsigned long *stored, unsigned long *skipped, mlde_error *err)
{
	mlde_reader *r = mlde_reader_open(path, err);
	char key[MLDE_SHA256_HEX], why[200], *line;
	double tokens[2] = { 0.0, 0.0 };
	size_t len;
	int got, rc = 0;

	if (!r)
		return -1;
	while ((got = mlde_reader_line(r, &line, &len, err)) > 0) {
		mlde_error lerr;

		mlde_error_clear(&lerr);
		got = fill_line(cache, check, line, len, key, tokens, why, sizeof why, &lerr);
		if (got < 0) {
			mlde_error_set(err, lerr.status, "%s:%lu: %.900s", mlde_reader_name(r),
				       mlde_reader_lineno(r), lerr.msg);
			rc = -1;
			break;
		}
		if (got > 0 && stored)
			++*stored;
		if (got == 0 && skipped)
			++*skipped;
	}
	if (got < 0)
		rc = -1;
	mlde_reader_close(r);
	return rc;
}

/* The lines of a downloaded file into the cache, marking what came. */
static int fill_buffer(mlde_batch *b, char *data, size_t len, const char *what,
		       unsigned long *failed, char *first, size_t firstlen, mlde_error *err)
{
	char key[MLDE_SHA256_HEX], why[200];
	size_t lineno = 0;

	for (char *p = data, *end = data + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		mlde_error lerr;
		int got;

		lineno++;
		if (n && p[n - 1] == '\r')
			p[n - 1] = '\0';
		p[n] = '\0';  /* the newline, or the buffer's own NUL */
		if (strspn(p, " \t\r") == strlen(p)) {
			p += n + 1;
			continue;
		}
		mlde_error_clear(&lerr);
		got = fill_line(b->o.cache, b->o.check, p, strlen(p), key, b->tokens, why, sizeof why,
				&lerr);
		if (got < 0) {
			mlde_error_set(err, lerr.status == MLDE_EXIT_DATA ? MLDE_EXIT_REMOTE : lerr.status,
				       "%s, line %zu: %.800s", what, lineno, lerr.msg);
			return -1;
		}
		if (got > 0) {
			entry *e = find(b, key);

			if (e && !e->done) {
				e->done = true;
				b->st.answered++;
			}
		} else {
			++*failed;
			if (!*first)
				snprintf(first, firstlen, "%s", why);
		}
		p += n + 1;
	}
	return 0;
}

/* ---- HTTP, one request at a time ---- */

typedef struct answer {
	bool done, ok, fatal;
	long status;
	char *body;
	size_t len;
	char error[300];
} answer;

static void on_done(void *ctx, mlde_http_result *r)
{
	answer *a = ctx;

	a->done = true;
	a->ok = r->ok;
	a->fatal = r->fatal;
	a->status = r->status;
	a->body = r->body;
	a->len = r->len;
	r->body = NULL;
	snprintf(a->error, sizeof a->error, "%s", r->error);
}

/* Is a 2xx body a JSON object, as every answer of the API but a file's
 * content is? */
static int json_object_check(const char *body, size_t len, char *why, size_t whylen)
{
	jv v = jv_parse_sized(body, (int)(len < INT32_MAX ? len : INT32_MAX));
	int ok = jv_get_kind(v) == JV_KIND_OBJECT;

	jv_free(v);
	if (!ok)
		snprintf(why, whylen, "not a JSON object");
	return ok ? 0 : -1;
}

static char *url_of(const mlde_batch *b, const char *path, const char *id, const char *tail)
{
	mlde_buf u = { 0 };

	mlde_buf_printf(&u, "%s%s%s%s", b->base_url, path, id ? id : "", tail ? tail : "");
	return mlde_buf_take(&u, NULL);
}

/* Send one request and wait for it: the 2xx body in *out (malloc'd, NUL-
 * terminated), or -1 with err (MLDE_EXIT_REMOTE) naming what was asked. */
static int call(mlde_batch *b, const mlde_http_call *c, const char *what, const char *body,
		char **out, size_t *outlen, mlde_error *err)
{
	answer a = { 0 };

	if (!b->http) {
		mlde_http_opts ho = { .url = c->url, .auth = b->auth, .parallel = 1,
				      .retries = b->o.retries, .timeout = b->o.timeout,
				      .backoff = b->o.backoff, .backoff_max = 60.0,
				      .seed = b->o.seed };

		if (!(b->http = mlde_http_new(&ho, err)))
			return -1;
	}
	mlde_http_submit_call(b->http, c, body ? body : "", body ? strlen(body) : 0,
			      c->body_max ? NULL : json_object_check, &a);
	while (!a.done)
		if (mlde_http_poll(b->http, 1000, on_done, &a, err) < 0)
			return -1;
	if (!a.ok) {
		free(a.body);
		mlde_error_set(err, MLDE_EXIT_REMOTE, "%s: %s", what, a.error);
		return -1;
	}
	*out = a.body;
	if (outlen)
		*outlen = a.len;
	return 0;
}

/* The string field of a JSON answer, malloc'd, or NULL. */
static char *field(jv obj, const char *name)
{
	jv v = jv_get_kind(obj) == JV_KIND_OBJECT ? jv_object_get(jv_copy(obj), jv_string(name))
						  : jv_invalid();
	char *s = jv_get_kind(v) == JV_KIND_STRING ? mlde_xstrdup(jv_string_value(v)) : NULL;

	jv_free(v);
	return s;
}

static unsigned long count_of(jv obj, const char *name)
{
	jv c = jv_object_get(jv_copy(obj), jv_string("request_counts")), v;
	unsigned long n = 0;

	if (jv_get_kind(c) != JV_KIND_OBJECT) {
		jv_free(c);
		return 0;
	}
	v = jv_object_get(c, jv_string(name));
	if (jv_get_kind(v) == JV_KIND_NUMBER && jv_number_value(v) >= 0)
		n = (unsigned long)jv_number_value(v);
	jv_free(v);
	return n;
}

/* ---- state files ---- */

static char *state_dir(const mlde_batch *b)
{
	mlde_buf d = { 0 };

	mlde_buf_printf(&d, "%s/batches", b->o.cache->dir);
	return mlde_buf_take(&d, NULL);
}

/* The ids a state file holds (as far as it got). */
static void load_state(chunk *c)
{
	FILE *f = fopen(c->state, "r");
	char buf[2048];
	size_t n;
	jv v;

	if (!f)
		return;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	v = jv_parse_sized(buf, (int)n);
	c->file_id = field(v, "input_file_id");
	c->batch_id = field(v, "batch_id");
	jv_free(v);
}

/* Written whole and renamed: a run killed at any point leaves the state
 * before or after, never half of it. */
static int save_state(const chunk *c, mlde_error *err)
{
	jv v = jv_object_set(jv_object(), jv_string("input_sha256"), jv_string(c->sha));
	mlde_atomic *a;
	jv s;
	int rc;

	v = jv_object_set(v, jv_string("requests"), jv_number((double)c->n));
	if (c->file_id)
		v = jv_object_set(v, jv_string("input_file_id"), jv_string(c->file_id));
	if (c->batch_id)
		v = jv_object_set(v, jv_string("batch_id"), jv_string(c->batch_id));
	s = jv_dump_string(v, 0);
	if (!(a = mlde_atomic_open(c->state, err))) {
		jv_free(s);
		return -1;
	}
	rc = mlde_atomic_write(a, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)), err);
	jv_free(s);
	if (rc == 0 && mlde_atomic_write(a, "\n", 1, err) < 0)
		rc = -1;
	if (rc < 0) {
		mlde_atomic_abort(a);
		return -1;
	}
	return mlde_atomic_commit(a, err);
}

/* ---- one batch ---- */

static void chunk_free(chunk *c)
{
	free(c->idx);
	free(c->state);
	free(c->file_id);
	free(c->batch_id);
	free(c->status);
	free(c->output_id);
	free(c->error_id);
}

static char *input_file(const mlde_batch *b, const chunk *c, size_t *len)
{
	mlde_buf in = { 0 };

	for (size_t i = 0; i < c->n; i++) {
		mlde_buf_add(&in, b->e[c->idx[i]].line, b->e[c->idx[i]].len);
		mlde_buf_addc(&in, '\n');
	}
	return mlde_buf_take(&in, len);
}

static int upload(mlde_batch *b, chunk *c, mlde_error *err)
{
	size_t len;
	char *data = input_file(b, c, &len), *url = url_of(b, "/files", NULL, NULL), *resp = NULL;
	char name[64];
	mlde_http_call hc = { .url = url, .purpose = "batch", .form_name = name,
			      .form_data = data, .form_len = len };
	int rc;
	jv v;

	snprintf(name, sizeof name, "mlde-%.16s.jsonl", c->sha);
	rc = call(b, &hc, "uploading the batch input file", NULL, &resp, NULL, err);
	if (rc == 0) {
		v = jv_parse(resp);
		c->file_id = field(v, "id");
		jv_free(v);
		if (!c->file_id) {
			mlde_error_set(err, MLDE_EXIT_REMOTE, "POST %s: no file id in the answer", url);
			rc = -1;
		}
	}
	if (rc == 0)
		note(b, "uploaded %s: %zu requests, %zu bytes", c->file_id, c->n, len);
	free(resp);
	free(data);
	free(url);
	return rc;
}

static int create(mlde_batch *b, chunk *c, mlde_error *err)
{
	char *url = url_of(b, "/batches", NULL, NULL), *resp = NULL;
	mlde_http_call hc = { .url = url };
	jv req = jv_object(), meta = jv_object(), s, v;
	int rc;

	req = jv_object_set(req, jv_string("input_file_id"), jv_string(c->file_id));
	req = jv_object_set(req, jv_string("endpoint"), jv_string(b->endpoint));
	req = jv_object_set(req, jv_string("completion_window"), jv_string("24h"));
	meta = jv_object_set(meta, jv_string("mlde_input_sha256"), jv_string(c->sha));
	req = jv_object_set(req, jv_string("metadata"), meta);
	s = jv_dump_string(req, 0);
	rc = call(b, &hc, "creating the batch", jv_string_value(s), &resp, NULL, err);
	jv_free(s);
	if (rc == 0) {
		v = jv_parse(resp);
		c->batch_id = field(v, "id");
		jv_free(v);
		if (!c->batch_id) {
			mlde_error_set(err, MLDE_EXIT_REMOTE, "POST %s: no batch id in the answer", url);
			rc = -1;
		}
	}
	free(resp);
	free(url);
	return rc;
}

/* A run killed after the upload may have been killed after the creation
 * too, before its state file named the batch: the batch is looked for
 * among the latest 100, by the input's sha256 in its metadata. */
static int find_created(mlde_batch *b, chunk *c, mlde_error *err)
{
	char *url = url_of(b, "/batches?limit=100", NULL, NULL), *resp = NULL;
	mlde_http_call hc = { .url = url, .get = true };
	jv v, data;
	int rc = call(b, &hc, "listing the batches", NULL, &resp, NULL, err);

	free(url);
	if (rc < 0)
		return -1;
	v = jv_parse(resp);
	free(resp);
	data = jv_get_kind(v) == JV_KIND_OBJECT ? jv_object_get(jv_copy(v), jv_string("data"))
						: jv_invalid();
	if (jv_get_kind(data) == JV_KIND_ARRAY) {
		jv_array_foreach(data, i, one) {
			jv meta = jv_get_kind(one) == JV_KIND_OBJECT
				  ? jv_object_get(jv_copy(one), jv_string("metadata")) : jv_invalid();
			char *sha = field(meta, "mlde_input_sha256");

			if (!c->batch_id && sha && strcmp(sha, c->sha) == 0)
				c->batch_id = field(one, "id");
			free(sha);
			jv_free(meta);
			jv_free(one);
			(void)i;
		}
	}
	jv_free(data);
	jv_free(v);
	return 0;
}

/* Upload and create, as far as the state file does not say it was done. */
static int start_chunk(mlde_batch *b, chunk *c, size_t k, size_t of, mlde_error *err)
{
	load_state(c);
	if (c->batch_id) {
		b->st.resumed++;
		b->st.batches++;
		note(b, "batch %zu/%zu %s: created by an earlier run, waiting for it again", k + 1,
		     of, c->batch_id);
		return 0;
	}
	if (c->file_id && find_created(b, c, err) < 0)
		return -1;
	if (c->batch_id) {
		b->st.resumed++;
		b->st.batches++;
		note(b, "batch %zu/%zu %s: created by an earlier run (found by its metadata), "
		     "waiting for it again", k + 1, of, c->batch_id);
		return save_state(c, err);
	}
	if (!c->file_id && (upload(b, c, err) < 0 || save_state(c, err) < 0))
		return -1;
	if (create(b, c, err) < 0 || save_state(c, err) < 0)
		return -1;
	b->st.batches++;
	note(b, "batch %zu/%zu %s: created, %zu requests", k + 1, of, c->batch_id, c->n);
	return 0;
}

static bool is_over(const char *status)
{
	return strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0 ||
	       strcmp(status, "expired") == 0 || strcmp(status, "cancelled") == 0;
}

/* Look at a batch once; a note when its state or counts moved. */
static int look(mlde_batch *b, chunk *c, size_t k, size_t of, mlde_error *err)
{
	char *url = url_of(b, "/batches/", c->batch_id, NULL), *resp = NULL, *status;
	mlde_http_call hc = { .url = url, .get = true };
	unsigned long total, completed, failed;
	jv v;

	if (call(b, &hc, "looking at the batch", NULL, &resp, NULL, err) < 0) {
		free(url);
		return -1;
	}
	free(url);
	v = jv_parse(resp);
	free(resp);
	status = field(v, "status");
	if (!status) {
		jv_free(v);
		mlde_error_set(err, MLDE_EXIT_REMOTE, "batch %s: no status in the answer", c->batch_id);
		return -1;
	}
	total = count_of(v, "total");
	completed = count_of(v, "completed");
	failed = count_of(v, "failed");
	if (!c->status || strcmp(c->status, status) || total != c->total ||
	    completed != c->completed || failed != c->failed) {
		char *errs = NULL;
		jv e = jv_object_get(jv_copy(v), jv_string("errors")), d, first;

		if (jv_get_kind(e) == JV_KIND_OBJECT) {
			d = jv_object_get(jv_copy(e), jv_string("data"));
			first = jv_get_kind(d) == JV_KIND_ARRAY ? jv_array_get(d, 0) : (jv_free(d), jv_invalid());
			errs = field(first, "message");
			jv_free(first);
		}
		jv_free(e);
		note(b, "batch %zu/%zu %s: %s, %lu/%lu done, %lu failed%s%.200s", k + 1, of,
		     c->batch_id, status, completed, total, failed, errs ? ": " : "",
		     errs ? errs : "");
		free(errs);
	}
	free(c->status);
	c->status = status;
	c->total = total;
	c->completed = completed;
	c->failed = failed;
	c->over = is_over(status);
	if (c->over) {
		free(c->output_id);
		free(c->error_id);
		c->output_id = field(v, "output_file_id");
		c->error_id = field(v, "error_file_id");
	}
	jv_free(v);
	return 0;
}

static int download(mlde_batch *b, const char *id, const char *what, unsigned long *failed,
		    char *first, size_t firstlen, mlde_error *err)
{
	char *url = url_of(b, "/files/", id, "/content"), *data = NULL, label[200];
	mlde_http_call hc = { .url = url, .get = true, .body_max = DOWNLOAD_MAX };
	size_t len;
	int rc;

	snprintf(label, sizeof label, "downloading the %s file %.100s", what, id);
	rc = call(b, &hc, label, NULL, &data, &len, err);
	free(url);
	if (rc == 0)
		rc = fill_buffer(b, data, len, label + 12, failed, first, firstlen, err);
	free(data);
	return rc;
}

/* The replies of a batch that is over into the cache; then its state file
 * goes. */
static int collect(mlde_batch *b, chunk *c, mlde_error *err)
{
	unsigned long failed = 0, before = b->st.answered;
	char first[200] = "";

	if (c->output_id && download(b, c->output_id, "output", &failed, first, sizeof first,
				     err) < 0)
		return -1;
	if (c->error_id && download(b, c->error_id, "error", &failed, first, sizeof first,
				    err) < 0)
		return -1;
	note(b, "batch %s: %lu replies into the cache, %lu unanswered%s%s%s", c->batch_id,
	     b->st.answered - before, c->n - (b->st.answered - before),
	     first[0] ? " (first: " : "", first, first[0] ? ")" : "");
	if (remove(c->state) < 0 && errno != ENOENT) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", c->state, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- rounds ---- */

/* The entries not done, cut into batches within the limits. */
static chunk *cut(mlde_batch *b, const char *dir, size_t *nchunks, mlde_error *err)
{
	chunk *cs = NULL;
	size_t nc = 0;

	for (size_t i = 0; i < b->n; i++) {
		chunk *c = nc ? &cs[nc - 1] : NULL;
		size_t bytes = b->e[i].len + 1;

		if (b->e[i].done)
			continue;
		if (bytes > b->o.max_bytes) {
			mlde_error_set(err, MLDE_EXIT_DATA, "a request of %zu bytes is over the "
				       "batch input file's limit of %zu", bytes, b->o.max_bytes);
			for (size_t j = 0; j < nc; j++)
				chunk_free(&cs[j]);
			free(cs);
			return NULL;
		}
		if (!c || c->n == b->o.max_requests || c->bytes + bytes > b->o.max_bytes) {
			cs = mlde_xrealloc(cs, (nc + 1) * sizeof *cs);
			c = &cs[nc++];
			memset(c, 0, sizeof *c);
		}
		c->idx = mlde_xrealloc(c->idx, (c->n + 1) * sizeof *c->idx);
		c->idx[c->n++] = i;
		c->bytes += bytes;
	}
	for (size_t k = 0; k < nc; k++) {
		mlde_sha256 h;
		unsigned char d[MLDE_SHA256_LEN];
		mlde_buf p = { 0 };

		mlde_sha256_init(&h);
		for (size_t i = 0; i < cs[k].n; i++) {
			mlde_sha256_update(&h, b->e[cs[k].idx[i]].line, b->e[cs[k].idx[i]].len);
			mlde_sha256_update(&h, "\n", 1);
		}
		mlde_sha256_final(&h, d);
		mlde_sha256_to_hex(d, cs[k].sha);
		mlde_buf_printf(&p, "%s/%s.json", dir, cs[k].sha);
		cs[k].state = mlde_buf_take(&p, NULL);
	}
	*nchunks = nc;
	return cs;
}

static void sleep_for(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One round: every request not done, in as many batches as it takes. */
static int round_of(mlde_batch *b, mlde_error *err)
{
	char *dir = state_dir(b);
	/* a short batch is seen done soon, a long one not asked about too often */
	double wait = b->o.poll < FIRST_POLL ? b->o.poll : FIRST_POLL;
	size_t nc = 0, left;
	chunk *cs;
	int rc = 0;

	if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	cs = cut(b, dir, &nc, err);
	free(dir);
	if (!cs)
		return -1;
	for (size_t k = 0; k < nc && rc == 0; k++)
		rc = start_chunk(b, &cs[k], k, nc, err);
	for (left = nc; rc == 0 && left > 0;) {
		for (size_t k = 0; k < nc && rc == 0; k++)
			if (!cs[k].over && (rc = look(b, &cs[k], k, nc, err)) == 0 && cs[k].over) {
				left--;
				rc = collect(b, &cs[k], err);
			}
		if (rc == 0 && left > 0) {
			sleep_for(wait);
			wait = wait * 2 < b->o.poll ? wait * 2 : b->o.poll;
		}
	}
	for (size_t k = 0; k < nc; k++)
		chunk_free(&cs[k]);
	free(cs);
	return rc;
}

int mlde_batch_run(mlde_batch *b, mlde_error *err)
{
	size_t left;

	if (!b->o.cache) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "a batch needs the reply cache (a bug)");
		return -1;
	}
	sort_unique(b);
	for (int round = 0;; round++) {
		left = 0;
		for (size_t i = 0; i < b->n; i++)
			left += !b->e[i].done;
		if (left == 0)
			break;
		if (round > 0 && (b->o.retry != MLDE_BATCH_RETRY_BATCH || round > b->o.rounds))
			break;
		if (round > 0)
			note(b, "%zu requests unanswered: batching them again (round %d)", left,
			     round + 1);
		if (round_of(b, err) < 0)
			return -1;
	}
	b->st.failed = (unsigned long)left;
	return 0;
}

void mlde_batch_stats_get(const mlde_batch *b, mlde_batch_stats *st)
{
	*st = b->st;
	st->prompt_tokens = b->tokens[0];
	st->completion_tokens = b->tokens[1];
}

void mlde_batch_free(mlde_batch *b)
{
	if (!b)
		return;
	mlde_http_free(b->http);
	for (size_t i = 0; i < b->n; i++)
		free(b->e[i].line);
	free(b->e);
	free(b->base_url);
	if (b->auth)
		explicit_bzero(b->auth, strlen(b->auth));
	free(b->auth);
	free(b->endpoint);
	free(b->server);
	free(b);
}
