/* http.c - the request engine behind mlde_http: a FIFO of ready requests, a
 * list of requests backing off, the rate limits (ratelimit.c), and at
 * most `parallel` easy handles on one curl multi handle.  Each poll: move
 * due retries to the front of the queue, start what the limits allow, let
 * curl work, and sort each finished transfer into success, retry or
 * failure. */
#include "gen/http.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "base/buf.h"
#include "base/rng.h"
#include "gen/ratelimit.h"
#include "gen/response.h"

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
	const mlde_http_call *call;  /* a call's own URL, method and form; NULL: none */
	mlde_http_call call_copy;
	struct req *next;       /* in the ready queue */
} req;

typedef struct xfer {
	CURL *easy;
	req *r;                 /* NULL: the handle is free */
	mlde_response resp;     /* the status, Retry-After and body of this attempt */
	curl_mime *mime;        /* a call's form, freed when the attempt ends */
	int sends;              /* requests this attempt put on the wire (prereq) */
	mlde_ratelimit_mark mark;  /* for the pacing: when it went, what its reply stated */
	char errbuf[CURL_ERROR_SIZE];
} xfer;

struct mlde_http {
	mlde_http_opts o;
	char *url, *key;        /* key: the secret in o.auth, to keep out of messages */
	char *host, *hostport;  /* of url, for messages: "host", "host:port" */
	bool bad_url;           /* url is no http(s) URL: every request fails, fatally */
	bool reached;           /* some attempt got a connection to the server */
	char *unreachable;      /* nothing could connect: why; no request is sent any more */
	CURLM *multi;
	struct curl_slist *headers;
	struct curl_slist *form_headers;  /* the same without the JSON Content-Type */
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

	if (mlde_response_body(&x->resp, data, size * n) < 0)
		return 0;  /* ends the transfer with CURLE_WRITE_ERROR */
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *p)
{
	xfer *x = p;

	if (mlde_ratelimit_header(&x->mark, data, size * n))  /* the server's x-ratelimit-* */
		return size * n;
	mlde_response_header(&x->resp, data, size * n, time(NULL));
	return size * n;
}

/* Called each time the transfer is about to send its request on a
 * connection.  libcurl sends a request again by itself, unseen, when a
 * reused connection closes before any reply: the server may have taken
 * the first one, and the second is outside --retries and the rate limits.
 * A second send is refused here; the attempt fails, and the retry is the
 * client's own, counted and limited like any other. */
static int on_prereq(void *p, char *ip, char *local_ip, int port, int local_port)
{
	xfer *x = p;

	(void)ip, (void)local_ip, (void)port, (void)local_port;
	return x->sends++ == 0 ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

/* ---- messages ---- */

/* What a failed transfer says, in words that stay the same from one
 * attempt to the next (curl's own text holds times), so that a report can
 * count requests by cause. */
static void curl_error_text(const mlde_http *h, const xfer *x, CURLcode code, char *out,
			    size_t len)
{
	long oserr = 0;

	curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr);
	if (code == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED)
		snprintf(out, len, "connection refused to %s", h->hostport);
	else if (code == CURLE_COULDNT_CONNECT)
		snprintf(out, len, "cannot connect to %s%s%s", h->hostport, oserr ? ": " : "",
			 oserr ? strerror((int)oserr) : "");
	else if (code == CURLE_COULDNT_RESOLVE_HOST)
		snprintf(out, len, "cannot resolve host %s", h->host);
	else if (code == CURLE_OPERATION_TIMEDOUT && x->sends)
		snprintf(out, len, "no reply within %g s", h->o.timeout);
	else if (code == CURLE_OPERATION_TIMEDOUT)
		snprintf(out, len, "no connection to %s within %g s", h->hostport, h->o.timeout);
	else if (code == CURLE_ABORTED_BY_CALLBACK && x->sends > 1)
		snprintf(out, len, "the connection closed before a reply");
	else
		snprintf(out, len, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
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

/* The host and port of the URL, for messages; a URL that is not http(s)
 * with a host is marked bad: each request fails on it, fatally. */
static void parse_url(mlde_http *h)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	mlde_buf b = { 0 };

	h->bad_url = !u || curl_url_set(u, CURLUPART_URL, h->url, 0) != CURLUE_OK ||
		     curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		     (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
		     curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
		     curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK;
	h->host = mlde_xstrdup(h->bad_url ? h->url : host);
	if (h->bad_url)
		mlde_buf_adds(&b, h->url);
	else
		mlde_buf_printf(&b, "%s:%s", host, port);
	h->hostport = mlde_buf_take(&b, NULL);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
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
	parse_url(h);
	h->multi = curl_multi_init();
	/* idle connections kept for reuse: no more than can be in flight, so
	 * -j bounds the sockets open (see mlde_cli_jobs_fit) */
	if (h->multi)
		curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->o.parallel);
	h->headers = curl_slist_append(NULL, "Content-Type: application/json");
	h->headers = curl_slist_append(h->headers, "Accept: application/json");
	h->headers = curl_slist_append(h->headers, "Expect:");  /* no 100-continue round trip */
	h->form_headers = curl_slist_append(NULL, "Accept: application/json");
	h->form_headers = curl_slist_append(h->form_headers, "Expect:");
	if (opts->auth) {
		h->headers = curl_slist_append(h->headers, opts->auth);
		h->form_headers = curl_slist_append(h->form_headers, opts->auth);
		bearer = strstr(opts->auth, "Bearer ");
		h->key = mlde_xstrdup(bearer ? bearer + 7 : opts->auth);
	}
	h->o.auth = NULL;  /* the slist holds it now; keep no other pointer */
	if (!h->multi || !h->headers || !h->form_headers) {
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
	mlde_ratelimit_jobs(&h->limit, h->o.parallel);
	mlde_rng_seed2(&h->rng, opts->seed, 0x6a6974746572ULL);
	return h;
}

void mlde_http_submit(mlde_http *h, const char *body, size_t len, double tokens, void *user)
{
	mlde_http_submit_checked(h, body, len, tokens, h->o.check, user);
}

void mlde_http_submit_call(mlde_http *h, const mlde_http_call *c, const char *body, size_t len,
			   mlde_http_check *check, void *user)
{
	mlde_http_submit_checked(h, body, len, 0.0, check, user);
	h->ready_tail->call_copy = *c;
	h->ready_tail->call = &h->ready_tail->call_copy;
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

/* A call's URL, method and form on e (the JSON POST's set already). */
static int set_call(mlde_http *h, xfer *x, const mlde_http_call *c, mlde_error *err)
{
	CURL *e = x->easy;
	curl_mimepart *part;

	if (c->url)
		curl_easy_setopt(e, CURLOPT_URL, c->url);
	if (c->body_max)
		x->resp.body_max = c->body_max;
	if (c->get) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (c->form_data) {
		x->mime = curl_mime_init(e);
		if (!x->mime || !(part = curl_mime_addpart(x->mime)) ||
		    curl_mime_name(part, "purpose") != CURLE_OK ||
		    curl_mime_data(part, c->purpose, CURL_ZERO_TERMINATED) != CURLE_OK ||
		    !(part = curl_mime_addpart(x->mime)) || curl_mime_name(part, "file") != CURLE_OK ||
		    curl_mime_data(part, c->form_data, c->form_len) != CURLE_OK ||
		    curl_mime_filename(part, c->form_name) != CURLE_OK ||
		    curl_mime_type(part, "application/jsonl") != CURLE_OK) {
			mlde_error_set(err, MLDE_EXIT_INTERNAL, "out of memory (curl_mime)");
			curl_mime_free(x->mime);
			x->mime = NULL;
			return -1;
		}
		curl_easy_setopt(e, CURLOPT_MIMEPOST, x->mime);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->form_headers);
	}
	return 0;
}

static int start(mlde_http *h, xfer *x, req *r, mlde_error *err)
{
	CURL *e = x->easy;
	CURLMcode mc;

	curl_easy_reset(e);
	mlde_response_start(&x->resp);
	x->r = r;
	x->sends = 0;
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
	curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(h->o.timeout * 1000.0 + 0.5));
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "mlde/0.1.0");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (r->call && set_call(h, x, r->call, err) < 0) {
		x->r = NULL;
		return -1;
	}
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
	while (h->ready) {
		req *r = h->ready;
		int cause;
		bool rate_limited;
		/* every limit: --rpm, --tpm, the server's, Retry-After, the concurrency */
		double w = mlde_ratelimit_next(&h->limit, r->tokens, (int)h->st.in_flight,
					       h->pause_until, now, &cause, &rate_limited);
		xfer *x = NULL;

		if (rate_limited && !r->limited) {
			r->limited = true;
			h->st.limited++;
		}
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
		mlde_ratelimit_sent(&h->limit, &x->mark, r->tokens, now);
		pop_front(h);
		if (start(h, x, r, err) < 0)
			return -1;
	}
	return 0;
}

/* Could the attempt not reach the server at all? */
static bool connect_failure(CURLcode c)
{
	return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST ||
	       c == CURLE_COULDNT_RESOLVE_PROXY;
}

static void deliver(mlde_http *h, req *r, xfer *x, bool ok, bool fatal, mlde_http_done *done,
		    void *ctx)
{
	mlde_http_result res = { .user = r->user, .ok = ok, .fatal = fatal, .status = r->status,
				 .attempts = r->attempts };

	if (ok) {
		res.body = mlde_buf_take(&x->resp.body, &res.len);
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

/* Sort out one finished transfer.  Only a bad URL and the statuses that
 * refuse everyone (401, 403, 404) are fatal; whatever else goes wrong on
 * the way (no connection, a reset, a status line curl cannot read, a
 * header too large for it) is the failure of this attempt, retried. */
static void finish(mlde_http *h, xfer *x, CURLcode code, double now, mlde_http_done *done,
		   void *ctx)
{
	req *r = x->r;
	bool retry = false, fatal = false;
	long status = 0;
	double delay, d;

	curl_multi_remove_handle(h->multi, x->easy);
	curl_mime_free(x->mime);
	x->mime = NULL;
	x->r = NULL;
	h->st.in_flight--;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	r->status = status;
	mlde_ratelimit_reply(&h->limit, &x->mark, code == CURLE_OK ? status : 0, now);
	if (x->sends > 0 || code == CURLE_OK)
		h->reached = true;
	if (code != CURLE_OK && !x->resp.too_big) {
		curl_error_text(h, x, code, r->error, sizeof r->error);
		mlde_response_scrub(h->key, r->error);
		fatal = h->bad_url || code == CURLE_URL_MALFORMAT;
		retry = !fatal;
	} else {
		mlde_response_outcome o;

		/* libcurl read the status line, and refused any it could not */
		x->resp.status = status;
		o = mlde_response_classify(&x->resp, h->key, r->check, r->error, sizeof r->error);
		if (o == MLDE_RESPONSE_OK) {
			deliver(h, r, x, true, false, done, ctx);
			return;
		}
		if (code == CURLE_OK && status == 429)
			h->st.throttled++;
		retry = o == MLDE_RESPONSE_RETRY;
		fatal = o == MLDE_RESPONSE_FATAL;
	}
	/* nothing has ever connected, and the first retry could not either: the
	 * server is not there, and the rest would only wait out their backoff */
	if (code != CURLE_OK && !x->sends && !h->reached && !h->unreachable &&
	    (connect_failure(code) || code == CURLE_OPERATION_TIMEDOUT) &&
	    r->attempts > (h->o.retries < 1 ? h->o.retries : 1))
		h->unreachable = mlde_xstrdup(r->error);
	if (!retry || r->attempts > h->o.retries || h->unreachable) {
		if (retry) {
			size_t n = strlen(r->error);
			snprintf(r->error + n, sizeof r->error - n, " (%d attempt%s)", r->attempts,
				 r->attempts == 1 ? "" : "s");
		}
		deliver(h, r, x, false, fatal, done, ctx);
		return;
	}
	/* exponential backoff with equal jitter: half fixed, half random */
	d = h->o.backoff * pow(2.0, r->attempts - 1);
	if (d > h->o.backoff_max)
		d = h->o.backoff_max;
	delay = d / 2.0 + mlde_rng_double(&h->rng) * d / 2.0;
	if (x->resp.retry_after >= 0.0) {
		double ra = x->resp.retry_after < MLDE_RESPONSE_RETRY_AFTER_MAX
				    ? x->resp.retry_after : MLDE_RESPONSE_RETRY_AFTER_MAX;

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

/* Once nothing can connect, every request not on the wire fails at once,
 * with the reason the others failed: those waiting to be retried, and
 * those never sent.  Returns how many. */
static int give_up_unsent(mlde_http *h, mlde_http_done *done, void *ctx)
{
	int n = 0;

	if (!h->unreachable)
		return 0;
	while (h->ready || h->nwait) {
		req *r = h->ready ? pop_front(h) : h->waiting[--h->nwait];

		if (r->attempts > 0) {
			snprintf(r->error, sizeof r->error, "%s (%d attempt%s)", h->unreachable,
				 r->attempts, r->attempts == 1 ? "" : "s");
		} else {
			snprintf(r->error, sizeof r->error, "%s (not sent)", h->unreachable);
			h->st.unsent++;
		}
		deliver(h, r, NULL, false, false, done, ctx);
		n++;
	}
	return n;
}

int mlde_http_poll(mlde_http *h, int wait_ms, mlde_http_done *done, void *ctx, mlde_error *err)
{
	double now = mlde_now(), wake = wait_ms / 1000.0;
	int running, left, finished = give_up_unsent(h, done, ctx), timeout;
	CURLMcode mc;
	CURLMsg *m;

	if (finished > 0)
		return finished;
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
	finished += give_up_unsent(h, done, ctx);
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
	mlde_ratelimit_stats_get(&h->limit, &st->pacing);
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
		curl_mime_free(h->x[i].mime);
		mlde_response_free(&h->x[i].resp);
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
	for (struct curl_slist *s = h->form_headers; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(h->form_headers);
	if (h->key)
		explicit_bzero(h->key, strlen(h->key));
	free(h->key);
	free(h->url);
	free(h->host);
	free(h->hostport);
	free(h->unreachable);
	free(h);
	curl_global_cleanup();
}
