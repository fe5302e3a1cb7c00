/* window.c - a ring of cap entries, one per request from submission until
 * the caller takes it.  An entry is finished at submission (from the cache,
 * made locally, or not cached) or later, when the HTTP client hands its
 * result to on_result; the caller takes entries from the head only. */
#include "gen/window.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
	char *body;             /* a copy: the HTTP client reads it until the result */
	size_t len;
	mlde_http_check *check;
	void *user;
	char key[MLDE_SHA256_HEX];   /* of the body */
	char ckey[MLDE_SHA256_HEX];  /* in the cache */
	bool done, ok, cached, unusable;
	char *reply;
	size_t reply_len;
	const char *reason;
	long status;
	char error[1024], why[200];  /* error: as long as an mlde_error's */
} entry;

struct mlde_window {
	mlde_window_opts o;
	mlde_http *http;
	char *server;           /* a copy of o.server */
	entry *ring;
	size_t head, count;     /* count entries from head, in submission order */
	mlde_error err;         /* the error that ended the run, once there is one */
	long err_status;
	mlde_window_stats st;
};

void mlde_window_cache_key(const char *server, const char *body, size_t len,
			   char out[MLDE_SHA256_HEX])
{
	unsigned char digest[MLDE_SHA256_LEN];
	mlde_sha256 c;

	if (!server) {
		mlde_sha256_hex(body, len, out);
		return;
	}
	mlde_sha256_init(&c);
	mlde_sha256_update(&c, server, strlen(server));
	mlde_sha256_update(&c, "\n", 1);
	mlde_sha256_update(&c, body, len);
	mlde_sha256_final(&c, digest);
	mlde_sha256_to_hex(digest, out);
}

mlde_window *mlde_window_new(const mlde_window_opts *o, mlde_error *err)
{
	mlde_window *w = mlde_xmalloc(sizeof *w);

	memset(w, 0, sizeof *w);
	w->o = *o;
	if (w->o.cap < 1)
		w->o.cap = 1;
	w->o.http = NULL;  /* the caller's; the client copies what it needs */
	w->server = o->server ? mlde_xstrdup(o->server) : NULL;
	w->o.server = w->server;
	if (o->http) {
		w->http = mlde_http_new(o->http, err);
		if (!w->http) {
			free(w->server);
			free(w);
			return NULL;
		}
	}
	w->ring = mlde_xmalloc(w->o.cap * sizeof *w->ring);
	memset(w->ring, 0, w->o.cap * sizeof *w->ring);
	mlde_error_clear(&w->err);
	return w;
}

size_t mlde_window_room(const mlde_window *w)
{
	return w->o.cap - w->count;
}

size_t mlde_window_held(const mlde_window *w)
{
	return w->count;
}

static void finish_ok(entry *e, char *reply, size_t len)
{
	e->done = e->ok = true;
	e->reply = reply;
	e->reply_len = len;
}

static void finish_failed(entry *e, const char *reason, const char *error)
{
	e->done = true;
	e->reason = reason;
	snprintf(e->error, sizeof e->error, "%s", error);
}

/* A usable reply in the cache: 1, and e is finished with it; 0 none; -1 err. */
static int from_cache(mlde_window *w, entry *e, mlde_error *err)
{
	char *data;
	size_t len;
	int got;

	if (!w->o.cache)
		return 0;
	got = mlde_cache_get(w->o.cache, e->ckey, &data, &len, err);
	if (got <= 0)
		return got;
	if (e->check && e->check(data, len, e->why, sizeof e->why) < 0) {
		/* a damaged entry: as if missing; the new reply replaces it */
		e->unusable = true;
		w->st.cache_unusable++;
		free(data);
		return 0;
	}
	e->cached = true;
	w->st.from_cache++;
	finish_ok(e, data, len);
	return 1;
}

static int store(mlde_window *w, const entry *e, const char *reply, size_t len, mlde_error *err)
{
	return w->o.cache ? mlde_cache_put(w->o.cache, e->ckey, reply, len, err) : 0;
}

/* The first error that ends the run is the one every later call reports. */
static void keep_error(mlde_window *w, const mlde_error *err, long status)
{
	if (w->err.status)
		return;
	w->err = *err;
	w->err_status = status;
}

int mlde_window_submit(mlde_window *w, const char *body, size_t len, double tokens,
		       mlde_http_check *check, void *user, mlde_error *err)
{
	entry *e;
	int got;

	if (w->err.status) {
		*err = w->err;
		return -1;
	}
	if (w->count == w->o.cap) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "the request window is full (a bug)");
		return -1;
	}
	e = &w->ring[(w->head + w->count) % w->o.cap];
	memset(e, 0, sizeof *e);
	e->body = memcpy(mlde_xmalloc(len + 1), body, len);
	e->body[len] = '\0';
	e->len = len;
	e->check = check ? check : w->o.check;
	e->user = user;
	mlde_sha256_hex(body, len, e->key);
	mlde_window_cache_key(w->o.server, body, len, e->ckey);
	if ((got = from_cache(w, e, err)) < 0) {
		free(e->body);
		return -1;
	}
	if (!got && w->o.make) {
		size_t rlen;
		char *reply = w->o.make(w->o.make_ctx, user, e->body, e->len, &rlen, err);

		if (!reply || store(w, e, reply, rlen, err) < 0) {
			/* not held: user stays the caller's */
			free(reply);
			free(e->body);
			keep_error(w, err, 0);
			return -1;
		}
		w->st.made++;
		finish_ok(e, reply, rlen);
	}
	w->count++;
	w->st.submitted++;
	if (e->done)
		return 0;
	if (w->http) {
		mlde_http_submit_checked(w->http, e->body, e->len, tokens, e->check, e);
	} else {
		w->st.not_cached++;
		finish_failed(e, MLDE_WINDOW_NOT_CACHED, "no reply in the cache, and nothing is sent");
	}
	return 0;
}

static void on_result(void *ctx, mlde_http_result *res)
{
	mlde_window *w = ctx;
	entry *e = res->user;
	mlde_error err;

	e->status = res->status;
	if (res->fatal) {
		/* no later request can succeed: the run ends here */
		mlde_error_set(&err, MLDE_EXIT_REMOTE, "%s", res->error);
		keep_error(w, &err, res->status);
		finish_failed(e, MLDE_WINDOW_FAILED, res->error);
		return;
	}
	if (!res->ok) {
		finish_failed(e, MLDE_WINDOW_FAILED, res->error);
		return;
	}
	/* stored before anyone parses it: a crash after this point loses nothing */
	mlde_error_clear(&err);
	if (store(w, e, res->body, res->len, &err) < 0) {
		keep_error(w, &err, 0);
		finish_failed(e, MLDE_WINDOW_FAILED, err.msg);
		return;
	}
	finish_ok(e, res->body, res->len);
	res->body = NULL;
}

/* Poll the client until the head is finished or wait_ms have passed. */
static int wait_head(mlde_window *w, const entry *e, int wait_ms, mlde_error *err)
{
	double deadline = mlde_now() + wait_ms / 1000.0;

	for (;;) {
		int left = (int)ceil((deadline - mlde_now()) * 1000.0);

		if (!w->http || mlde_http_pending(w->http) == 0) {
			mlde_error_set(err, MLDE_EXIT_INTERNAL, "a request waits for nothing (a bug)");
			keep_error(w, err, 0);
			return -1;
		}
		if (mlde_http_poll(w->http, left > 0 ? left : 0, on_result, w, err) < 0) {
			keep_error(w, err, 0);
			return -1;
		}
		if (w->err.status) {
			*err = w->err;
			return -1;
		}
		if (e->done)
			return 1;
		if (mlde_now() >= deadline)
			return 0;
	}
}

int mlde_window_next(mlde_window *w, int wait_ms, mlde_window_done *d, mlde_error *err)
{
	entry *e = &w->ring[w->head];
	int got;

	memset(d, 0, sizeof *d);
	if (w->err.status) {
		*err = w->err;
		d->status = w->err_status;
		return -1;
	}
	if (w->count == 0)
		return 0;
	if (!e->done && (got = wait_head(w, e, wait_ms, err)) <= 0) {
		d->status = got < 0 ? w->err_status : 0;
		return got;
	}
	d->user = e->user;
	memcpy(d->key, e->key, sizeof d->key);
	memcpy(d->cache_key, e->ckey, sizeof d->cache_key);
	d->ok = e->ok;
	d->cached = e->cached;
	d->reply = e->reply;
	d->reply_len = e->reply_len;
	d->reason = e->reason;
	snprintf(d->error, sizeof d->error, "%s", e->error);
	d->cache_unusable = e->unusable;
	snprintf(d->cache_why, sizeof d->cache_why, "%s", e->why);
	d->status = e->status;
	free(e->body);
	memset(e, 0, sizeof *e);
	w->head = (w->head + 1) % w->o.cap;
	w->count--;
	w->st.taken++;
	return 1;
}

void mlde_window_stats_get(const mlde_window *w, mlde_window_stats *st)
{
	*st = w->st;
	if (w->http)
		mlde_http_stats_get(w->http, &st->http);
}

void mlde_window_free(mlde_window *w)
{
	if (!w)
		return;
	mlde_http_free(w->http);  /* first: it reads the bodies of requests in flight */
	for (size_t i = 0; i < w->count; i++) {
		entry *e = &w->ring[(w->head + i) % w->o.cap];

		free(e->body);
		free(e->reply);
		if (w->o.drop)
			w->o.drop(e->user);
	}
	free(w->ring);
	free(w->server);
	free(w);
}
