/* test-window.c - the request window without a server: offline over a
 * prepared cache (submission order, not-cached failures, a damaged entry,
 * a request's own reply check), a local maker whose replies are stored
 * before they are handed back, requests that fail on a closed port kept in
 * order among cached ones, a fatal endpoint error returned (and kept), a
 * full window, the users of requests never taken, and a cache key that
 * covers the server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/cache.h"
#include "gen/reply.h"
#include "gen/window.h"
#include "tap.h"

static const char *good =
	"{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"}}]}";

static void put_entry(mlde_cache *c, const char *body, const char *reply)
{
	char key[MLDE_SHA256_HEX];
	mlde_error err;

	mlde_sha256_hex(body, strlen(body), key);
	mlde_error_clear(&err);
	if (mlde_cache_put(c, key, reply, strlen(reply), &err) < 0)
		printf("# %s\n", err.msg);
}

static int refuse(const char *body, size_t len, char *why, size_t whylen)
{
	(void)body, (void)len;
	snprintf(why, whylen, "refused by the request's check");
	return -1;
}

static int dropped;
static void drop(void *user)
{
	(void)user;
	dropped++;
}

/* Take everything held, in order: the users as a string, "id:ok/fail". */
static int drain(mlde_window *w, char *out, size_t len, mlde_error *err)
{
	mlde_window_done d;
	int got;

	out[0] = '\0';
	while ((got = mlde_window_next(w, 5000, &d, err)) > 0) {
		size_t n = strlen(out);

		snprintf(out + n, len - n, "%s%s:%s%s%s", n ? " " : "", (const char *)d.user,
			 d.ok ? (d.cached ? "cached" : "made") : d.reason,
			 d.cache_unusable ? "+unusable" : "", "");
		free(d.reply);
	}
	return got;
}

static void offline(mlde_cache *c)
{
	mlde_window_opts o = { .cap = 8, .cache = c, .check = mlde_reply_check_completion };
	mlde_window *w;
	mlde_window_stats st;
	mlde_window_done d;
	mlde_error err;
	char got[512];

	put_entry(c, "b1", good);
	put_entry(c, "b3", good);
	put_entry(c, "b4", good);
	put_entry(c, "b5", "{\"trunc");
	mlde_error_clear(&err);
	w = mlde_window_new(&o, &err);
	TAP_OK(w != NULL, "offline: a window over a cache");
	mlde_window_submit(w, "b1", 2, 0, NULL, "1", &err);
	mlde_window_submit(w, "b2", 2, 0, NULL, "2", &err);
	mlde_window_submit(w, "b3", 2, 0, NULL, "3", &err);
	mlde_window_submit(w, "b4", 2, 0, refuse, "4", &err);
	mlde_window_submit(w, "b5", 2, 0, NULL, "5", &err);
	TAP_IS_INT(mlde_window_held(w), 5, "five held");
	TAP_IS_INT(mlde_window_room(w), 3, "room for three more");
	TAP_OK(mlde_window_next(w, 0, &d, &err) == 1 && d.ok && d.cached &&
	       strcmp(d.user, "1") == 0 && d.reply_len == strlen(good) &&
	       memcmp(d.reply, good, d.reply_len) == 0, "the first: its cached reply, byte for byte");
	TAP_OK(d.reply[d.reply_len] == '\0', "... NUL-terminated");
	mlde_sha256_hex("b1", 2, got);
	TAP_IS_STR(d.key, got, "... its key is the sha256 of the body");
	free(d.reply);
	TAP_IS_INT(drain(w, got, sizeof got, &err), 0, "then the rest, no error");
	TAP_IS_STR(got, "2:not-cached 3:cached 4:not-cached+unusable 5:not-cached+unusable",
		   "in submission order: a miss fails (not-cached), a request's own check and the "
		   "window's refuse entries");
	mlde_window_stats_get(w, &st);
	TAP_OK(st.submitted == 5 && st.taken == 5 && st.from_cache == 2 && st.not_cached == 3 &&
	       st.cache_unusable == 2 && st.http.attempts == 0, "the stats count it all, nothing sent");
	TAP_IS_INT(mlde_window_next(w, 0, &d, &err), 0, "an empty window: 0");
	mlde_window_free(w);
}

static char *make(void *ctx, void *user, const char *body, size_t len, size_t *reply_len,
		  mlde_error *err)
{
	int *calls = ctx;
	char *r;

	(*calls)++;
	if (strcmp(user, "bad") == 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "cannot make %.*s", (int)len, body);
		return NULL;
	}
	r = malloc(len + 3);
	snprintf(r, len + 3, "[%.*s]", (int)len, body);
	*reply_len = len + 2;
	return r;
}

static void made(mlde_cache *c)
{
	int calls = 0;
	mlde_window_opts o = { .cap = 4, .cache = c, .make = make, .make_ctx = &calls,
			       .check = mlde_reply_check_completion, .drop = drop };
	mlde_window *w;
	mlde_window_done d;
	mlde_error err;
	char key[MLDE_SHA256_HEX], *data = NULL, got[256];
	size_t len = 0;

	mlde_error_clear(&err);
	w = mlde_window_new(&o, &err);
	mlde_window_submit(w, "m1", 2, 0, NULL, "1", &err);
	mlde_window_submit(w, "b1", 2, 0, NULL, "2", &err);  /* in the cache already */
	mlde_sha256_hex("m1", 2, key);
	TAP_OK(mlde_cache_get(c, key, &data, &len, &err) == 1 && len == 4 &&
	       memcmp(data, "[m1]", 4) == 0, "a made reply is in the cache before it is taken");
	free(data);
	TAP_IS_INT(drain(w, got, sizeof got, &err), 0, "made: no error");
	TAP_IS_STR(got, "1:made 2:cached", "made, then cached, in order; the cache is asked first");
	TAP_IS_INT(calls, 1, "... so make ran once");
	mlde_window_submit(w, "x", 1, 0, NULL, "a", &err);
	mlde_window_submit(w, "y", 1, 0, NULL, "b", &err);
	mlde_window_submit(w, "z", 1, 0, NULL, "c", &err);
	mlde_window_submit(w, "w", 1, 0, NULL, "d", &err);
	TAP_IS_INT(mlde_window_submit(w, "v", 1, 0, NULL, "e", &err), -1, "a full window refuses");
	TAP_IS_INT(err.status, MLDE_EXIT_INTERNAL, "... as a bug");
	TAP_IS_INT(mlde_window_next(w, 0, &d, &err), 1, "take one");
	TAP_IS_INT(mlde_window_submit(w, "u", 1, 0, NULL, "bad", &err), -1, "a failing make: -1");
	TAP_IS_STR(err.msg, "cannot make u", "... with its error");
	free(d.reply);
	mlde_error_clear(&err);
	TAP_IS_INT(mlde_window_next(w, 0, &d, &err), -1, "... and it stays: next returns it");
	TAP_IS_STR(err.msg, "cannot make u", "... the same error");
	dropped = 0;
	mlde_window_free(w);
	TAP_IS_INT(dropped, 3, "free drops the users of the three never taken (not the refused one)");
}

static void closed_port(mlde_cache *c)
{
	mlde_http_opts ho = { .url = "http://127.0.0.1:1/v1/chat/completions", .parallel = 2,
			      .retries = 0, .timeout = 5, .backoff = 0.01, .backoff_max = 0.01 };
	mlde_window_opts o = { .cap = 8, .cache = c, .http = &ho,
			       .check = mlde_reply_check_completion };
	mlde_window *w;
	mlde_window_stats st;
	mlde_error err;
	char got[512];

	mlde_error_clear(&err);
	w = mlde_window_new(&o, &err);
	mlde_window_submit(w, "p1", 2, 10, NULL, "1", &err);
	mlde_window_submit(w, "b1", 2, 10, NULL, "2", &err);
	mlde_window_submit(w, "p2", 2, 10, NULL, "3", &err);
	mlde_window_submit(w, "b3", 2, 10, NULL, "4", &err);
	TAP_IS_INT(drain(w, got, sizeof got, &err), 0, "a closed port: no error for the run");
	TAP_IS_STR(got, "1:request-failed 2:cached 3:request-failed 4:cached",
		   "failures and cached replies, in submission order");
	mlde_window_stats_get(w, &st);
	TAP_OK(st.http.attempts == 2 && st.http.failed == 2 && st.from_cache == 2,
	       "two sent, two from the cache");
	mlde_window_free(w);
}

static void fatal(void)
{
	mlde_http_opts ho = { .url = "nosuch://example/v1", .parallel = 1, .retries = 3,
			      .timeout = 5, .backoff = 0.01, .backoff_max = 0.01 };
	mlde_window_opts o = { .cap = 4, .http = &ho, .drop = drop };
	mlde_window *w;
	mlde_window_done d;
	mlde_error err;

	mlde_error_clear(&err);
	w = mlde_window_new(&o, &err);
	mlde_window_submit(w, "f1", 2, 0, NULL, "1", &err);
	mlde_window_submit(w, "f2", 2, 0, NULL, "2", &err);
	TAP_IS_INT(mlde_window_next(w, 5000, &d, &err), -1, "a bad URL: next returns -1");
	TAP_IS_INT(err.status, MLDE_EXIT_REMOTE, "... a remote failure");
	TAP_OK(err.msg[0] != '\0', "... saying what (%s)", err.msg);
	mlde_error_clear(&err);
	TAP_IS_INT(mlde_window_next(w, 0, &d, &err), -1, "the error stays for next");
	TAP_IS_INT(mlde_window_submit(w, "f3", 2, 0, NULL, "3", &err), -1, "... and for submit");
	TAP_IS_INT(err.status, MLDE_EXIT_REMOTE, "... the same error");
	dropped = 0;
	mlde_window_free(w);
	TAP_IS_INT(dropped, 2, "free drops the two never taken");
}

/* With a server, the key is sha256("SERVER\nBODY"): a reply stored for one
 * server is not found for another, nor for none; d.key stays the body's. */
static void server_key(mlde_cache *c)
{
	const char *url = "http://127.0.0.1:1/v1/chat/completions";
	mlde_window_opts o = { .cap = 4, .cache = c, .server = url };
	char want[MLDE_SHA256_HEX], body_key[MLDE_SHA256_HEX], other[MLDE_SHA256_HEX];
	mlde_window_done d;
	mlde_window *w;
	mlde_error err;

	mlde_window_cache_key(NULL, "s1", 2, body_key);
	mlde_sha256_hex("s1", 2, want);
	TAP_IS_STR(body_key, want, "no server: the cache key is the body's sha256");
	mlde_window_cache_key(url, "s1", 2, other);
	mlde_sha256_hex("http://127.0.0.1:1/v1/chat/completions\ns1", 41, want);
	TAP_IS_STR(other, want, "a server: sha256 of the URL, a newline and the body");
	mlde_error_clear(&err);
	mlde_cache_put(c, other, good, strlen(good), &err);
	put_entry(c, "s2", good);  /* stored under the body's key: no server's */
	w = mlde_window_new(&o, &err);
	mlde_window_submit(w, "s1", 2, 0, NULL, "1", &err);
	mlde_window_submit(w, "s2", 2, 0, NULL, "2", &err);
	TAP_OK(mlde_window_next(w, 0, &d, &err) == 1 && d.ok && d.cached,
	       "the entry of the window's server is found");
	mlde_sha256_hex("s1", 2, want);
	TAP_IS_STR(d.key, want, "... d.key is the body's sha256 (provenance)");
	TAP_IS_STR(d.cache_key, other, "... d.cache_key the entry's name");
	free(d.reply);
	TAP_OK(mlde_window_next(w, 0, &d, &err) == 1 && !d.ok &&
	       strcmp(d.reason, MLDE_WINDOW_NOT_CACHED) == 0,
	       "an entry stored without the server is not found for it");
	mlde_window_free(w);
	o.server = "http://elsewhere/v1/chat/completions";
	w = mlde_window_new(&o, &err);
	mlde_window_submit(w, "s1", 2, 0, NULL, "1", &err);
	TAP_OK(mlde_window_next(w, 0, &d, &err) == 1 && !d.ok, "nor one stored for another server");
	mlde_window_free(w);
}

int main(void)
{
	mlde_cache c;
	mlde_error err;

	mlde_error_clear(&err);
	if (mlde_cache_open(&c, "cache", &err) < 0) {
		printf("Bail out! %s\n", err.msg);
		return 1;
	}
	offline(&c);
	made(&c);
	closed_port(&c);
	fatal();
	server_key(&c);
	mlde_cache_close(&c);
	return TAP_DONE();
}
