/* ratelimit.c - token buckets: each refills at its rate up to its capacity
 * as the clock moves; a request takes one from the request buckets and its
 * estimated tokens from the token buckets.  The server's buckets are set
 * again from each reply's headers; the concurrency is one more gate. */
#include "gen/ratelimit.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define RESET_MAX 1e7         /* seconds (about 4 months): a longer reset is garbage */
#define COUNT_MAX 1e15        /* a limit or remaining count larger than this is garbage */
#define SERVER_RECHECK 1.0    /* seconds to wait on a server bucket of unknown rate */

static void bucket_init(mlde_bucket *b, double per_minute, double now)
{
	b->rate = per_minute / 60.0;
	b->cap = b->rate > 1.0 ? b->rate : 1.0;  /* one second's worth, at least one */
	b->level = b->cap;
	b->last = now;
}

static void bucket_fill(mlde_bucket *b, double now)
{
	if (now > b->last) {
		b->level += (now - b->last) * b->rate;
		if (b->level > b->cap)
			b->level = b->cap;
	}
	b->last = now;
}

/* Seconds until n can be taken (0: now). */
static double bucket_wait(mlde_bucket *b, double n, double now)
{
	if (b->rate <= 0.0)
		return 0.0;
	bucket_fill(b, now);
	if (n > b->cap)
		n = b->cap;
	return b->level >= n ? 0.0 : (n - b->level) / b->rate;
}

static void bucket_take(mlde_bucket *b, double n, double now)
{
	if (b->rate <= 0.0)
		return;
	bucket_fill(b, now);
	b->level -= n > b->cap ? b->cap : n;
}

/* ---- the server's buckets ---- */

static void server_fill(mlde_server_bucket *s, double now)
{
	if (now > s->last && s->rate > 0.0) {
		s->level += (now - s->last) * s->rate;
		if (s->level > s->cap)
			s->level = s->cap;
	}
	if (now > s->last)
		s->last = now;
}

static double server_wait(mlde_server_bucket *s, double n, double now)
{
	if (!s->known)
		return 0.0;
	server_fill(s, now);
	if (n > s->cap)
		n = s->cap;
	if (s->level >= n - 1e-9)  /* rounding errors are no wait */
		return 0.0;
	return s->rate > 0.0 ? (n - s->level) / s->rate : SERVER_RECHECK;
}

static void server_take(mlde_server_bucket *s, double n, double now)
{
	if (!s->known)
		return;
	server_fill(s, now);
	s->level -= n > s->cap ? s->cap : n;
}

/* A reply said: limit (< 0: not given), remaining, and full again in reset
 * seconds.  The rate is what the reset says (OpenAI's buckets refill
 * evenly); measured on a bucket nearly full it is unsure (the reset is
 * rounded), and one from a bucket at least a tenth empty replaces it.
 * Without any, the limit is taken as per minute, as OpenAI's are.
 *
 * The level: the server counted the attempt when it came, and not those
 * that came later: the ones sent after it, and perhaps some sent just
 * before it in the same burst, which may reach the server in any order
 * (uncounted, both).  When it was counted is not known (a server may hold
 * a request a long while before it counts it, or after), so the refill
 * since is not counted: the level said is a low one.  One that is lower
 * than the mirror's sets it; one that is higher (the server counts fewer
 * tokens than estimated, the others' share fell) raises it only a part of
 * the way, MLDE_SERVER_RAISE, since a reply counted out of order can say
 * too much. */
static void server_sync(mlde_server_bucket *s, double limit, double remaining, double reset,
			double uncounted, double now)
{
	double used, level;

	s->cap = limit > 0.0 ? limit : (remaining > s->cap ? remaining : s->cap);
	if (s->cap < 1.0)
		s->cap = 1.0;
	used = s->cap - remaining;
	if (reset > 0.0 && used >= 1.0) {
		bool sure = used >= s->cap / 10.0;

		if (sure || !s->rate_sure) {
			s->rate = used / reset;
			s->rate_sure = sure;
		}
	}
	if (s->rate <= 0.0 && limit > 0.0)
		s->rate = limit / 60.0;
	level = remaining - uncounted;
	if (s->known) {
		server_fill(s, now);
		if (level > s->level)
			level = s->level + MLDE_SERVER_RAISE * (level - s->level);
	}
	s->level = level > s->cap ? s->cap : level;
	s->last = now;
	s->known = true;
}

/* ---- the gate ---- */

void mlde_ratelimit_init(mlde_ratelimit *rl, double rpm, double tpm, double now)
{
	memset(rl, 0, sizeof *rl);
	bucket_init(&rl->rpm, rpm, now);
	bucket_init(&rl->tpm, tpm, now);
	rl->held = MLDE_LIMIT_NONE;
}

void mlde_ratelimit_jobs(mlde_ratelimit *rl, int jobs)
{
	rl->jobs = jobs < 1 ? 1 : jobs;
	rl->window = rl->jobs;
	rl->st.lowest = rl->jobs;
}

int mlde_ratelimit_concurrency(const mlde_ratelimit *rl)
{
	int c;

	if (rl->jobs <= 0)
		return INT_MAX;
	c = (int)rl->window;
	return c < 1 ? 1 : c > rl->jobs ? rl->jobs : c;
}

/* The waits of each rate limit, by cause. */
static void rate_waits(mlde_ratelimit *rl, double tokens, double now, double w[])
{
	w[MLDE_LIMIT_RPM] = bucket_wait(&rl->rpm, 1.0, now);
	w[MLDE_LIMIT_TPM] = bucket_wait(&rl->tpm, tokens, now);
	w[MLDE_LIMIT_SERVER_REQUESTS] = server_wait(&rl->server[MLDE_SERVER_REQUESTS], 1.0, now);
	/* a request of no estimated cost says nothing to a token limit */
	w[MLDE_LIMIT_SERVER_TOKENS] =
		tokens > 0.0 ? server_wait(&rl->server[MLDE_SERVER_TOKENS], tokens, now) : 0.0;
}

double mlde_ratelimit_wait(mlde_ratelimit *rl, double tokens, double now)
{
	double w[MLDE_LIMIT_CAUSES] = { 0 }, most = 0.0;

	rate_waits(rl, tokens, now, w);
	for (int c = MLDE_LIMIT_RPM; c <= MLDE_LIMIT_SERVER_TOKENS; c++)
		if (w[c] > most)
			most = w[c];
	return most;
}

void mlde_ratelimit_take(mlde_ratelimit *rl, double tokens, double now)
{
	bucket_take(&rl->rpm, 1.0, now);
	bucket_take(&rl->tpm, tokens, now);
	server_take(&rl->server[MLDE_SERVER_REQUESTS], 1.0, now);
	if (tokens > 0.0)
		server_take(&rl->server[MLDE_SERVER_TOKENS], tokens, now);
}

bool mlde_ratelimit_active(const mlde_ratelimit *rl)
{
	return rl->rpm.rate > 0.0 || rl->tpm.rate > 0.0;
}

/* The next request is held by cause from now on (MLDE_LIMIT_NONE: it is
 * not): a hold by another cause ends, its time counted. */
static void hold(mlde_ratelimit *rl, int cause, double now)
{
	if (rl->held == cause)
		return;
	if (rl->held != MLDE_LIMIT_NONE && now > rl->held_since)
		rl->st.waited[rl->held] += now - rl->held_since;
	rl->held = cause;
	rl->held_since = now;
	if (cause != MLDE_LIMIT_NONE)
		rl->st.waits[cause]++;
}

double mlde_ratelimit_next(mlde_ratelimit *rl, double tokens, int in_flight, double pause_until,
			   double now, int *cause, bool *rate_limited)
{
	double w[MLDE_LIMIT_CAUSES] = { 0 }, most = 0.0;
	int why = MLDE_LIMIT_NONE, conc = mlde_ratelimit_concurrency(rl);

	rate_waits(rl, tokens, now, w);
	w[MLDE_LIMIT_RETRY_AFTER] = pause_until > now ? pause_until - now : 0.0;
	if (in_flight >= conc)
		w[conc < rl->jobs ? MLDE_LIMIT_ADAPTIVE : MLDE_LIMIT_JOBS] = HUGE_VAL;
	for (int c = 0; c < MLDE_LIMIT_CAUSES; c++)
		if (w[c] > most) {
			most = w[c];
			why = c;
		}
	*cause = why;
	*rate_limited = w[MLDE_LIMIT_RPM] > 0.0 || w[MLDE_LIMIT_TPM] > 0.0;
	hold(rl, why, now);
	return most;
}

void mlde_ratelimit_sent(mlde_ratelimit *rl, mlde_ratelimit_mark *m, double tokens, double now)
{
	hold(rl, MLDE_LIMIT_NONE, now);
	mlde_ratelimit_take(rl, tokens, now);
	if (tokens < 0.0)
		tokens = 0.0;
	if (!(now - rl->burst_at <= MLDE_BURST)) {  /* a new burst */
		rl->burst_at = now;
		rl->burst_n = 0;
		rl->burst_tokens = 0.0;
	}
	m->burst_n = rl->burst_n++;
	m->burst_tokens = rl->burst_tokens;
	rl->burst_tokens += tokens;
	rl->sent++;
	rl->tokens_sent += tokens;
	m->seq = rl->sent;
	m->tokens_sent = rl->tokens_sent;
	m->sent_at = now;
	for (int k = 0; k < MLDE_SERVER_KINDS; k++)
		m->limit[k] = m->remaining[k] = m->reset[k] = -1.0;
}

static void cut(mlde_ratelimit *rl, double by, unsigned long *count)
{
	int c;

	if (rl->window <= 1.0)
		return;  /* nothing left to cut */
	rl->window *= by;
	if (rl->window < 1.0)
		rl->window = 1.0;
	rl->cut_at = rl->sent;
	(*count)++;
	c = mlde_ratelimit_concurrency(rl);
	if (c < rl->st.lowest)
		rl->st.lowest = c;
}

/* AIMD on a reply: see MLDE_ADAPT_* in the header. */
static void adapt(mlde_ratelimit *rl, const mlde_ratelimit_mark *m, long status, double now)
{
	bool fresh = m->seq > rl->cut_at;  /* sent after the last cut */
	double lat = now - m->sent_at;

	if (rl->jobs <= 0)
		return;
	if (status == 429) {
		if (fresh) {
			rl->ceiling = mlde_ratelimit_concurrency(rl);
			cut(rl, 0.5, &rl->st.cuts_429);
		}
		return;
	}
	if (status < 200 || status >= 300)
		return;
	if (lat < 0.0)
		lat = 0.0;
	rl->latency = rl->latency > 0.0 ? rl->latency + MLDE_ADAPT_SMOOTH * (lat - rl->latency) : lat;
	rl->base = rl->base > 0.0 ? rl->base * (1.0 + MLDE_ADAPT_DRIFT) : rl->latency;
	if (rl->latency < rl->base)
		rl->base = rl->latency;
	if (!fresh)
		return;
	if (rl->latency > MLDE_ADAPT_LATENCY * rl->base &&
	    rl->latency - rl->base > MLDE_ADAPT_LATENCY_MIN && rl->window > 1.0) {
		cut(rl, 0.75, &rl->st.cuts_latency);
		/* the next cut needs the latency to rise a half again */
		rl->base = rl->latency * 1.5 / MLDE_ADAPT_LATENCY;
		return;
	}
	if (rl->window < rl->jobs) {
		/* back quickly to below where the last 429 came, then slowly on */
		bool below = !rl->ceiling || rl->window + 1.0 < rl->ceiling;

		rl->window += (below ? 1.0 : 1.0 / MLDE_ADAPT_PROBE) / rl->window;
		if (rl->window > rl->jobs)
			rl->window = rl->jobs;
	}
}

void mlde_ratelimit_reply(mlde_ratelimit *rl, const mlde_ratelimit_mark *m, long status,
			  double now)
{
	bool stated = false;

	if (status == 429)
		rl->st.replies_429++;
	for (int k = 0; k < MLDE_SERVER_KINDS; k++) {
		/* sent after it, and before it in its burst */
		double uncounted = k == MLDE_SERVER_REQUESTS
					   ? (double)(rl->sent - m->seq) + m->burst_n
					   : rl->tokens_sent - m->tokens_sent + m->burst_tokens;

		if (m->remaining[k] < 0.0 || m->reset[k] < 0.0)
			continue;
		server_sync(&rl->server[k], m->limit[k], m->remaining[k], m->reset[k], uncounted, now);
		stated = true;
	}
	if (stated)
		rl->st.header_replies++;
	adapt(rl, m, status, now);
}

void mlde_ratelimit_stats_get(const mlde_ratelimit *rl, mlde_ratelimit_stats *st)
{
	*st = rl->st;
	st->jobs = rl->jobs;
	st->concurrency = rl->jobs > 0 ? mlde_ratelimit_concurrency(rl) : 0;
	if (rl->jobs <= 0)
		st->lowest = 0;
}

/* ---- the headers ---- */

/* One number: digits, a point and digits, at least one digit.  The end,
 * or NULL. */
static const char *number(const char *s, double *v)
{
	const char *p = s;
	double x = 0.0, scale = 0.1;
	int digits = 0;

	for (; isdigit((unsigned char)*p); p++, digits++)
		x = x * 10.0 + (*p - '0');
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++, digits++, scale /= 10.0)
			x += (*p - '0') * scale;
	if (!digits || digits > 30)
		return NULL;
	*v = x;
	return p;
}

int mlde_ratelimit_parse_reset(const char *s, double *seconds)
{
	/* larger units first: "ms" before "m", which it starts with */
	static const struct { const char *name; int rank; double secs; } units[] = {
		{ "h", 0, 3600.0 }, { "ms", 3, 1e-3 }, { "m", 1, 60.0 }, { "s", 2, 1.0 },
		{ "us", 4, 1e-6 }, { "\xc2\xb5s", 4, 1e-6 }, { "ns", 5, 1e-9 },
	};
	double total = 0.0, v;
	int last = -1;
	const char *p;

	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	p = number(s, &v);
	if (!p)
		return -1;
	if (*p == '\0' || *p == ' ' || *p == '\t') {  /* a bare number: seconds */
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p || v > RESET_MAX)
			return -1;
		*seconds = v;
		return 0;
	}
	for (;;) {
		size_t i, n = sizeof units / sizeof *units;

		for (i = 0; i < n; i++)
			if (strncmp(p, units[i].name, strlen(units[i].name)) == 0)
				break;
		if (i == n || units[i].rank <= last)
			return -1;  /* no unit, or one out of order or twice */
		last = units[i].rank;
		total += v * units[i].secs;
		p += strlen(units[i].name);
		if (*p == ' ' || *p == '\t') {  /* blanks end the value */
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p)
				return -1;
		}
		if (!*p)
			break;
		if (!(p = number(p, &v)))
			return -1;
	}
	if (total > RESET_MAX)
		return -1;
	*seconds = total;
	return 0;
}

int mlde_ratelimit_parse_count(const char *s, double *n)
{
	double v = 0.0;
	int digits = 0;

	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	for (; isdigit((unsigned char)*s); s++, digits++)
		v = v * 10.0 + (*s - '0');
	while (*s == ' ' || *s == '\t')
		s++;
	if (!digits || *s || v > COUNT_MAX)
		return -1;
	*n = v;
	return 0;
}

bool mlde_ratelimit_header(mlde_ratelimit_mark *m, const char *data, size_t len)
{
	static const char prefix[] = "x-ratelimit-";
	static const char *const fields[] = { "limit-", "remaining-", "reset-" };
	static const char *const kinds[] = { "requests", "tokens" };
	char line[256], value[128];
	const char *p = line, *colon;
	size_t vlen;
	double v;

	if (len < sizeof prefix - 1 || len >= sizeof line ||
	    strncasecmp(data, prefix, sizeof prefix - 1) != 0)
		return false;  /* not one (a value this long is no count or reset) */
	memcpy(line, data, len);
	line[len] = '\0';
	if (!(colon = strchr(line, ':')))
		return false;
	p += sizeof prefix - 1;
	for (int f = 0; f < 3; f++) {
		size_t fl = strlen(fields[f]);

		if (strncasecmp(p, fields[f], fl) != 0)
			continue;
		for (int k = 0; k < MLDE_SERVER_KINDS; k++) {
			size_t kl = strlen(kinds[k]);

			if (p + fl + kl != colon || strncasecmp(p + fl, kinds[k], kl) != 0)
				continue;
			vlen = strcspn(colon + 1, "\r\n");
			if (vlen >= sizeof value)
				return false;
			memcpy(value, colon + 1, vlen);
			value[vlen] = '\0';
			if ((f == 2 ? mlde_ratelimit_parse_reset(value, &v)
				    : mlde_ratelimit_parse_count(value, &v)) < 0)
				return false;
			(f == 0 ? m->limit : f == 1 ? m->remaining : m->reset)[k] = v;
			return true;
		}
	}
	return false;
}

/* ---- the summary ---- */

static void cause_name(const mlde_ratelimit_stats *st, int c, char *out, size_t len)
{
	static const char *const names[] = {
		[MLDE_LIMIT_RPM] = "--rpm",
		[MLDE_LIMIT_TPM] = "--tpm",
		[MLDE_LIMIT_SERVER_REQUESTS] = "server x-ratelimit-requests",
		[MLDE_LIMIT_SERVER_TOKENS] = "server x-ratelimit-tokens",
		[MLDE_LIMIT_RETRY_AFTER] = "429 Retry-After",
		[MLDE_LIMIT_ADAPTIVE] = "adaptive concurrency",
	};

	if (c == MLDE_LIMIT_JOBS)
		snprintf(out, len, "-j %d", st->jobs);
	else
		snprintf(out, len, "%s", names[c]);
}

void mlde_ratelimit_describe(const mlde_ratelimit_stats *st, char *out, size_t len)
{
	bool done[MLDE_LIMIT_CAUSES] = { false };
	size_t n = 0;
	int items = 0;

	if (len == 0)
		return;
	out[0] = '\0';
	for (;;) {
		int best = -1;
		char name[64];

		for (int c = 0; c < MLDE_LIMIT_CAUSES; c++)
			if (!done[c] && st->waits[c] &&
			    (best < 0 || st->waited[c] > st->waited[best]))
				best = c;
		if (best < 0)
			break;
		done[best] = true;
		cause_name(st, best, name, sizeof name);
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s (%lu wait%s, %.1f s)",
				      items++ ? ", " : "", name, st->waits[best],
				      st->waits[best] == 1 ? "" : "s", st->waited[best]);
		if (n >= len)
			return;
	}
	if (!items)
		n += (size_t)snprintf(out, len, "nothing");
	if (n < len && st->cuts_429 + st->cuts_latency)
		snprintf(out + n, len - n, "; concurrency cut %lu time%s (%lu on 429s, %lu on "
			 "latency), to %d at least, %d at the end, of -j %d",
			 st->cuts_429 + st->cuts_latency, st->cuts_429 + st->cuts_latency == 1 ? "" : "s",
			 st->cuts_429, st->cuts_latency, st->lowest, st->concurrency, st->jobs);
}
