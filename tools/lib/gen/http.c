/* http.c - the request engine behind mlde_http: a FIFO of ready requests, a
 * list of requests backing off, the rate limits (ratelimit.c), and at
 * most `parallel` easy handles on one curl multi handle.  Each poll: move
 * due retries to the front of the queue, start what the limits allow, let
 * curl work, and sort each finished transfer into success, retry or
 * failure. */
#define _GNU_SOURCE  /* memmem */
#include "gen/http.h"

#include <ctype.h>
#include <errno.h>
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
#define KEY_PIECE 6                    /* a piece of the key this long is scrubbed too */
#define WHY_MAX 200                    /* the server's message, cut to this */
#define RAW_MAX 120                    /* ... or the first bytes of a body that is not JSON */

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

	if (mlde_ratelimit_header(&x->mark, data, len))  /* the server's x-ratelimit-* */
		return len;
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

/* Put "***" in place of every copy of the key in s, and of every piece of
 * it KEY_PIECE bytes long or longer: a message cut short may end in the
 * key's first bytes, a server may echo part of it.  In place: "***" is
 * never longer than what it replaces. */
static void scrub(const mlde_http *h, char *s)
{
	size_t k = h->key ? strlen(h->key) : 0, piece = k < KEY_PIECE ? k : KEY_PIECE;
	char *out = s;
	const char *p = s;

	if (k < 4)
		return;
	while (*p) {
		size_t best = 0;

		for (size_t j = 0; j + piece <= k; j++) {
			size_t m = 0;

			while (p[m] && j + m < k && p[m] == h->key[j + m])
				m++;
			if (m > best)
				best = m;
		}
		if (best >= piece) {
			memcpy(out, "***", 3);
			out += 3;
			p += best;
		} else {
			*out++ = *p++;
		}
	}
	*out = '\0';
}

/* Does a decoded string of v (keys included) hold the key? */
static bool jv_holds(jv v, const char *key, size_t k)
{
	bool found = false;

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		found = memmem(jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)),
			       key, k) != NULL;
		break;
	case JV_KIND_ARRAY:
		jv_array_foreach(v, i, e) {
			found = found || jv_holds(e, key, k);
			jv_free(e);
		}
		break;
	case JV_KIND_OBJECT:
		jv_object_foreach(v, name, e) {
			found = found || jv_holds(name, key, k) || jv_holds(e, key, k);
			jv_free(name);
			jv_free(e);
		}
		break;
	default:
		break;
	}
	return found;
}

/* Does the body hold the key, as bytes or in a JSON string once its
 * escapes are decoded ("\u0073k-...")?  Only escapes can hide it, so a body
 * without them is not parsed. */
static bool holds_key(const mlde_http *h, const char *body, size_t len)
{
	size_t k = h->key ? strlen(h->key) : 0;
	bool found;
	jv v;

	if (k < 4 || len == 0)
		return false;
	if (memmem(body, len, h->key, k))
		return true;
	if (!memmem(body, len, "\\u", 2) && !memmem(body, len, "\\/", 2))
		return false;
	v = jv_parse_sized(body, (int)(len < INT32_MAX ? len : INT32_MAX));
	found = jv_holds(v, h->key, k);
	jv_free(v);
	return found;
}

/* The message of an OpenAI-style error body, or its first bytes; the key
 * is scrubbed from the whole text before it is cut to len (a key lying
 * across the cut would leave its first bytes). */
static void error_text(const mlde_http *h, const xfer *x, char *out, size_t len)
{
	size_t n = x->resp.len < 65536 ? x->resp.len : 65536, limit = len - 1;
	jv body = n ? jv_parse_sized(x->resp.p, (int)n) : jv_invalid();
	jv e = jv_invalid();
	mlde_buf text = { 0 };

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
	if (jv_get_kind(e) == JV_KIND_STRING) {
		mlde_buf_adds(&text, jv_string_value(e));
	} else if (n) {
		mlde_buf_add(&text, x->resp.p, strnlen(x->resp.p, n));
		if (limit > RAW_MAX)
			limit = RAW_MAX;
	}
	jv_free(e);
	jv_free(body);
	mlde_buf_addc(&text, '\0');
	scrub(h, text.p);
	snprintf(out, len, "%.*s", (int)limit, text.p);
	mlde_buf_free(&text);
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

/* What a failed transfer says, in words that stay the same from one
 * attempt to the next (curl's own text holds times), so that a report can
 * count requests by cause. */
static void curl_error_text(const mlde_http *h, const xfer *x, CURLcode code, char *out,
			    size_t len)
{
	long oserr = 0;

	curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr);
	if (x->too_big)
		snprintf(out, len, "the reply is larger than %zu MiB", BODY_MAX >> 20);
	else if (code == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED)
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
	mlde_ratelimit_jobs(&h->limit, h->o.parallel);
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

/* Sort out one finished transfer.  Only a bad URL and the statuses that
 * refuse everyone (401, 403, 404) are fatal; whatever else goes wrong on
 * the way (no connection, a reset, a status line curl cannot read, a
 * header too large for it) is the failure of this attempt, retried. */
static void finish(mlde_http *h, xfer *x, CURLcode code, double now, mlde_http_done *done,
		   void *ctx)
{
	req *r = x->r;
	bool retry = false, fatal = false;
	char why[WHY_MAX + 1] = "";
	long status = 0;
	double delay, d;

	curl_multi_remove_handle(h->multi, x->easy);
	x->r = NULL;
	h->st.in_flight--;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	r->status = status;
	mlde_ratelimit_reply(&h->limit, &x->mark, code == CURLE_OK ? status : 0, now);
	if (x->sends > 0 || code == CURLE_OK)
		h->reached = true;
	if (code != CURLE_OK) {
		curl_error_text(h, x, code, r->error, sizeof r->error);
		fatal = h->bad_url || code == CURLE_URL_MALFORMAT;
		retry = !fatal && !x->too_big;
	} else if (status >= 200 && status < 300) {
		/* before the check: its reason may quote the body */
		if (holds_key(h, x->resp.p, x->resp.len)) {
			snprintf(r->error, sizeof r->error, "the reply holds the API key: not kept");
		} else if (r->check && r->check(x->resp.p ? x->resp.p : "", x->resp.len, why,
						sizeof why) < 0) {
			snprintf(r->error, sizeof r->error, "HTTP %ld but an unusable reply: %s",
				 status, why);
			retry = true;
		} else {
			deliver(h, r, x, true, false, done, ctx);
			return;
		}
	} else {
		error_text(h, x, why, sizeof why);
		snprintf(r->error, sizeof r->error, "HTTP %ld%s%s", status, why[0] ? ": " : "", why);
		if (status == 429)
			h->st.throttled++;
		retry = status == 429 || status == 408 || status == 409 || status >= 500;
		fatal = status == 401 || status == 403 || status == 404;
	}
	scrub(h, r->error);
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
	free(h->host);
	free(h->hostport);
	free(h->unreachable);
	free(h);
	curl_global_cleanup();
}
