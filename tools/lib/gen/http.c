/* http.c - the request engine behind mlde_http: a FIFO of ready requests, a
 * list of requests backing off, the rate limits (ratelimit.c), and at
 * most `parallel` easy handles on one curl multi handle.  Each poll: move
 * due retries to the front of the queue, start what the limits allow, let
 * curl work, and sort each finished transfer into success, retry or
 * failure. */
#define _GNU_SOURCE  /* memmem */
#include "gen/http.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <jv.h>

#include "base/buf.h"
#include "base/rng.h"
#include "gen/ratelimit.h"

#define BODY_MAX ((size_t)64 << 20)   /* a reply larger than this is refused */
#define RETRY_AFTER_MAX 600.0          /* seconds; a longer Retry-After is cut to this */

typedef struct req {
	const char *body;
	size_t len;
	double tokens;
	mlde_http_check *check;
	void *user;
	int attempts;
	bool limited;           /* once held back by the rate limits */
	double due;             /* backing off: when it may go again */
	long status;
	char error[300];
	struct req *next;       /* in the ready queue */
} req;

typedef struct xfer {
	CURL *easy;
	req *r;                 /* NULL: the handle is free */
	mlde_buf resp;
	double retry_after;     /* seconds the server asked for; < 0 none */
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
} xfer;

struct mlde_http {
	mlde_http_opts o;
	char *url, *key;        /* key: the secret in o.auth, to keep out of messages */
	CURLM *multi;
	struct curl_slist *headers;
	xfer *x;
	req *ready, *ready_tail;
	req **waiting;
	size_t nwait, capwait, pending;
	double pause_until;     /* a 429 with Retry-After holds every new request */
	mlde_ratelimit limit;
	mlde_rng rng;
	mlde_http_stats st;
};

/* ---- curl callbacks ---- */

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	xfer *x = p;

	if (x->resp.len + size * n > BODY_MAX) {
		x->too_big = true;
		return 0;  /* ends the transfer with CURLE_WRITE_ERROR */
	}
	mlde_buf_add(&x->resp, data, size * n);
	return size * n;
}

/* Retry-After: seconds or an HTTP date; OpenAI's retry-after-ms wins. */
static size_t on_header(char *data, size_t size, size_t n, void *p)
{
	xfer *x = p;
	size_t len = size * n;
	char line[256];
	double v = -1.0;

	if (len >= sizeof line)
		return len;
	memcpy(line, data, len);
	line[len] = '\0';
	if (strncasecmp(line, "retry-after-ms:", 15) == 0) {
		v = strtod(line + 15, NULL) / 1000.0;
		if (v >= 0.0)
			x->retry_after = v;
	} else if (strncasecmp(line, "retry-after:", 12) == 0 && x->retry_after < 0.0) {
		char *s = line + 12, *end;

		while (*s == ' ' || *s == '\t')
			s++;
		s[strcspn(s, "\r\n")] = '\0';
		v = strtod(s, &end);
		if (end == s) {
			time_t t = curl_getdate(s, NULL);
			v = t > 0 ? difftime(t, time(NULL)) : -1.0;
			if (t > 0 && v < 0.0)
				v = 0.0;
		}
		if (v >= 0.0)
			x->retry_after = v;
	}
	return len;
}

/* ---- messages ---- */

/* Replace every copy of the key in s with "***". */
static void scrub(const mlde_http *h, char *s)
{
	size_t k = h->key ? strlen(h->key) : 0;
	char *p;

	if (k < 4)
		return;
	while ((p = strstr(s, h->key))) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + k, strlen(p + k) + 1);
	}
}

/* The message of an OpenAI-style error body, or its first bytes. */
static void error_text(const xfer *x, char *out, size_t len)
{
	size_t n = x->resp.len < 65536 ? x->resp.len : 65536;
	jv body = n ? jv_parse_sized(x->resp.p, (int)n) : jv_invalid();
	jv e = jv_invalid();

	out[0] = '\0';
	if (jv_get_kind(body) == JV_KIND_OBJECT) {
		e = jv_object_get(jv_copy(body), jv_string("error"));
		if (jv_get_kind(e) == JV_KIND_OBJECT) {
			jv m = jv_object_get(e, jv_string("message"));
			e = m;
		} else if (jv_get_kind(e) != JV_KIND_STRING) {
			jv_free(e);
			e = jv_object_get(jv_copy(body), jv_string("message"));
		}
	}
	if (jv_get_kind(e) == JV_KIND_STRING)
		snprintf(out, len, "%s", jv_string_value(e));
	else if (n)
		snprintf(out, len, "%.*s", (int)(n < 120 ? n : 120), x->resp.p);
	jv_free(e);
	jv_free(body);
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

/* ---- the queue ---- */

static void push_back(mlde_http *h, req *r)
{
	r->next = NULL;
	if (h->ready_tail)
		h->ready_tail->next = r;
	else
		h->ready = r;
	h->ready_tail = r;
}

static void push_front(mlde_http *h, req *r)
{
	r->next = h->ready;
	h->ready = r;
	if (!h->ready_tail)
		h->ready_tail = r;
}

static req *pop_front(mlde_http *h)
{
	req *r = h->ready;

	h->ready = r->next;
	if (!h->ready)
		h->ready_tail = NULL;
	return r;
}

mlde_http *mlde_http_new(const mlde_http_opts *opts, mlde_error *err)
{
	mlde_http *h = mlde_xmalloc(sizeof *h);
	const char *bearer;

	memset(h, 0, sizeof *h);
	h->o = *opts;
	if (h->o.parallel < 1)
		h->o.parallel = 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "curl_global_init failed");
		free(h);
		return NULL;
	}
	h->url = mlde_xstrdup(opts->url);
	h->o.url = h->url;
	h->multi = curl_multi_init();
	h->headers = curl_slist_append(NULL, "Content-Type: application/json");
	h->headers = curl_slist_append(h->headers, "Accept: application/json");
	h->headers = curl_slist_append(h->headers, "Expect:");  /* no 100-continue round trip */
	if (opts->auth) {
		h->headers = curl_slist_append(h->headers, opts->auth);
		bearer = strstr(opts->auth, "Bearer ");
		h->key = mlde_xstrdup(bearer ? bearer + 7 : opts->auth);
	}
	h->o.auth = NULL;  /* the slist holds it now; keep no other pointer */
	if (!h->multi || !h->headers) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "out of memory (curl)");
		mlde_http_free(h);
		return NULL;
	}
	h->x = mlde_xcalloc((size_t)h->o.parallel, sizeof *h->x);
	for (int i = 0; i < h->o.parallel; i++) {
		h->x[i].easy = curl_easy_init();
		if (!h->x[i].easy) {
			mlde_error_set(err, MLDE_EXIT_INTERNAL, "out of memory (curl_easy_init)");
			mlde_http_free(h);
			return NULL;
		}
	}
	mlde_ratelimit_init(&h->limit, opts->rpm, opts->tpm, mlde_now());
	mlde_rng_seed2(&h->rng, opts->seed, 0x6a6974746572ULL);
	return h;
}

void mlde_http_submit(mlde_http *h, const char *body, size_t len, double tokens, void *user)
{
	mlde_http_submit_checked(h, body, len, tokens, h->o.check, user);
}

void mlde_http_submit_checked(mlde_http *h, const char *body, size_t len, double tokens,
			      mlde_http_check *check, void *user)
{
	req *r = mlde_xmalloc(sizeof *r);

	memset(r, 0, sizeof *r);
	r->body = body;
	r->len = len;
	r->tokens = tokens;
	r->check = check;
	r->user = user;
	push_back(h, r);
	h->pending++;
}

static int start(mlde_http *h, xfer *x, req *r, mlde_error *err)
{
	CURL *e = x->easy;
	CURLMcode mc;

	curl_easy_reset(e);
	mlde_buf_reset(&x->resp);
	x->r = r;
	x->retry_after = -1.0;
	x->too_big = false;
	x->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, h->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(h->o.timeout * 1000.0 + 0.5));
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "mlde/0.1.0");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	mc = curl_multi_add_handle(h->multi, e);
	if (mc != CURLM_OK) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "curl_multi_add_handle: %s",
			       curl_multi_strerror(mc));
		x->r = NULL;
		return -1;
	}
	if (r->attempts++ > 0)
		h->st.retries++;
	h->st.attempts++;
	h->st.in_flight++;
	return 0;
}

/* Start what the limits allow; *wake: seconds until something may start. */
static int start_ready(mlde_http *h, double now, double *wake, mlde_error *err)
{
	/* due retries first: they are the oldest requests */
	for (size_t i = 0; i < h->nwait;) {
		if (h->waiting[i]->due <= now) {
			push_front(h, h->waiting[i]);
			h->waiting[i] = h->waiting[--h->nwait];
		} else {
			if (h->waiting[i]->due - now < *wake)
				*wake = h->waiting[i]->due - now;
			i++;
		}
	}
	while (h->ready && (int)h->st.in_flight < h->o.parallel) {
		req *r = h->ready;
		double w = h->pause_until > now ? h->pause_until - now : 0.0, t;
		xfer *x = NULL;

		if ((t = mlde_ratelimit_wait(&h->limit, r->tokens, now)) > 0.0 && !r->limited) {
			r->limited = true;
			h->st.limited++;
		}
		if (t > w)
			w = t;
		if (w > 0.0) {
			if (w < *wake)
				*wake = w;
			break;
		}
		for (int i = 0; i < h->o.parallel && !x; i++)
			if (!h->x[i].r)
				x = &h->x[i];
		if (!x)
			break;
		mlde_ratelimit_take(&h->limit, r->tokens, now);
		pop_front(h);
		if (start(h, x, r, err) < 0)
			return -1;
	}
	return 0;
}

static bool retryable_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_HTTP2:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		return true;
	default:
		return false;
	}
}

static void deliver(mlde_http *h, req *r, xfer *x, bool ok, bool fatal, mlde_http_done *done,
		    void *ctx)
{
	mlde_http_result res = { .user = r->user, .ok = ok, .fatal = fatal, .status = r->status,
				 .attempts = r->attempts };

	if (ok) {
		res.body = mlde_buf_take(&x->resp, &res.len);
		h->st.ok++;
	} else {
		snprintf(res.error, sizeof res.error, "%s", r->error);
		h->st.failed++;
	}
	h->pending--;
	free(r);
	done(ctx, &res);
	free(res.body);
}

/* Sort out one finished transfer. */
static void finish(mlde_http *h, xfer *x, CURLcode code, double now, mlde_http_done *done,
		   void *ctx)
{
	req *r = x->r;
	bool retry = false, fatal = false;
	char why[200] = "";
	long status = 0;
	double delay, d;

	curl_multi_remove_handle(h->multi, x->easy);
	x->r = NULL;
	h->st.in_flight--;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	r->status = status;
	if (code != CURLE_OK) {
		if (x->too_big)
			snprintf(r->error, sizeof r->error, "the reply is larger than %zu MiB",
				 BODY_MAX >> 20);
		else
			snprintf(r->error, sizeof r->error, "%s",
				 x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
		retry = retryable_curl(code);
		fatal = !retry && !x->too_big;
	} else if (status >= 200 && status < 300) {
		if (r->check && r->check(x->resp.p ? x->resp.p : "", x->resp.len, why,
					 sizeof why) < 0) {
			snprintf(r->error, sizeof r->error, "HTTP %ld but an unusable reply: %s",
				 status, why);
			retry = true;
		} else if (h->key && strlen(h->key) >= 4 && x->resp.len &&
			   memmem(x->resp.p, x->resp.len, h->key, strlen(h->key))) {
			snprintf(r->error, sizeof r->error, "the reply holds the API key: not kept");
		} else {
			deliver(h, r, x, true, false, done, ctx);
			return;
		}
	} else {
		error_text(x, why, sizeof why);
		snprintf(r->error, sizeof r->error, "HTTP %ld%s%s", status, why[0] ? ": " : "", why);
		if (status == 429)
			h->st.throttled++;
		retry = status == 429 || status == 408 || status == 409 || status >= 500;
		fatal = status == 401 || status == 403 || status == 404;
	}
	scrub(h, r->error);
	if (!retry || r->attempts > h->o.retries) {
		if (retry) {
			size_t n = strlen(r->error);
			snprintf(r->error + n, sizeof r->error - n, " (%d attempts)", r->attempts);
		}
		deliver(h, r, x, false, fatal, done, ctx);
		return;
	}
	/* exponential backoff with equal jitter: half fixed, half random */
	d = h->o.backoff * pow(2.0, r->attempts - 1);
	if (d > h->o.backoff_max)
		d = h->o.backoff_max;
	delay = d / 2.0 + mlde_rng_double(&h->rng) * d / 2.0;
	if (x->retry_after >= 0.0) {
		double ra = x->retry_after < RETRY_AFTER_MAX ? x->retry_after : RETRY_AFTER_MAX;

		/* as asked, plus a little jitter so the retries do not all land at once */
		delay = ra + mlde_rng_double(&h->rng) * (ra < 1.0 ? ra : 1.0) * 0.1;
		if (status == 429 && now + ra > h->pause_until)
			h->pause_until = now + ra;
	}
	r->due = now + delay;
	if (h->nwait == h->capwait) {
		h->capwait = h->capwait ? h->capwait * 2 : 16;
		h->waiting = mlde_xrealloc(h->waiting, h->capwait * sizeof *h->waiting);
	}
	h->waiting[h->nwait++] = r;
}

int mlde_http_poll(mlde_http *h, int wait_ms, mlde_http_done *done, void *ctx, mlde_error *err)
{
	double now = mlde_now(), wake = wait_ms / 1000.0;
	int running, left, finished = 0, timeout;
	CURLMcode mc;
	CURLMsg *m;

	if (start_ready(h, now, &wake, err) < 0)
		return -1;
	timeout = (int)ceil(wake * 1000.0);
	if (timeout > wait_ms)
		timeout = wait_ms;
	if (h->st.in_flight > 0 || timeout > 0) {
		mc = curl_multi_poll(h->multi, NULL, 0, timeout < 0 ? 0 : timeout, NULL);
		if (mc != CURLM_OK) {
			mlde_error_set(err, MLDE_EXIT_INTERNAL, "curl_multi_poll: %s",
				       curl_multi_strerror(mc));
			return -1;
		}
	}
	mc = curl_multi_perform(h->multi, &running);
	if (mc != CURLM_OK) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "curl_multi_perform: %s",
			       curl_multi_strerror(mc));
		return -1;
	}
	now = mlde_now();
	while ((m = curl_multi_info_read(h->multi, &left))) {
		xfer *x;
		unsigned long before = h->st.ok + h->st.failed;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		finish(h, x, m->data.result, now, done, ctx);
		finished += (int)(h->st.ok + h->st.failed - before);
	}
	/* start the next ones now rather than a poll later */
	wake = 0.0;
	if (start_ready(h, now, &wake, err) < 0)
		return -1;
	return finished;
}

size_t mlde_http_pending(const mlde_http *h)
{
	return h->pending;
}

void mlde_http_stats_get(const mlde_http *h, mlde_http_stats *st)
{
	*st = h->st;
	st->waiting = (unsigned long)(h->pending - h->st.in_flight);
}

void mlde_http_free(mlde_http *h)
{
	if (!h)
		return;
	for (int i = 0; h->x && i < h->o.parallel; i++) {
		if (h->x[i].r) {
			curl_multi_remove_handle(h->multi, h->x[i].easy);
			free(h->x[i].r);
		}
		if (h->x[i].easy)
			curl_easy_cleanup(h->x[i].easy);
		mlde_buf_free(&h->x[i].resp);
	}
	free(h->x);
	while (h->ready)
		free(pop_front(h));
	for (size_t i = 0; i < h->nwait; i++)
		free(h->waiting[i]);
	free(h->waiting);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	/* the key leaves memory with the client */
	for (struct curl_slist *s = h->headers; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(h->headers);
	if (h->key)
		explicit_bzero(h->key, strlen(h->key));
	free(h->key);
	free(h->url);
	free(h);
	curl_global_cleanup();
}
