/* test-ratelimit-headers.c - the x-ratelimit-* header values: every form
 * of reset OpenAI writes (Go durations), bare seconds, counts, and garbage
 * refused; the header lines read into a mark, others left alone; and the
 * summary's words for what held requests back. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gen/ratelimit.h"
#include "tap.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static void reset_is(const char *s, double want)
{
	double v = -1.0;
	int rc = mlde_ratelimit_parse_reset(s, &v);

	TAP_OK(rc == 0 && NEAR(v, want), "reset '%s' = %g s", s, want);
	if (rc != 0 || !NEAR(v, want))
		printf("#   got rc %d, %.12g\n", rc, v);
}

static void reset_refused(const char *s)
{
	double v = 42.0;

	TAP_OK(mlde_ratelimit_parse_reset(s, &v) < 0 && v == 42.0, "reset '%s' refused", s);
}

static void count_is(const char *s, double want)
{
	double v = -1.0;

	TAP_OK(mlde_ratelimit_parse_count(s, &v) == 0 && v == want, "count '%s' = %g", s, want);
}

static void count_refused(const char *s)
{
	double v = 42.0;

	TAP_OK(mlde_ratelimit_parse_count(s, &v) < 0 && v == 42.0, "count '%s' refused", s);
}

static void clear(mlde_ratelimit_mark *m)
{
	memset(m, 0, sizeof *m);
	for (int k = 0; k < MLDE_SERVER_KINDS; k++)
		m->limit[k] = m->remaining[k] = m->reset[k] = -1.0;
}

/* A header line as libcurl hands it over: not NUL-terminated. */
static bool header(mlde_ratelimit_mark *m, const char *line)
{
	char copy[300];
	size_t len = strlen(line);

	memcpy(copy, line, len);
	memset(copy + len, 'Z', sizeof copy - len);
	return mlde_ratelimit_header(m, copy, len);
}

static void headers(void)
{
	mlde_ratelimit_mark m;

	clear(&m);
	TAP_OK(header(&m, "x-ratelimit-limit-requests: 60\r\n") &&
	       m.limit[MLDE_SERVER_REQUESTS] == 60.0, "x-ratelimit-limit-requests: 60");
	TAP_OK(header(&m, "X-RateLimit-Remaining-Requests: 59\r\n") &&
	       m.remaining[MLDE_SERVER_REQUESTS] == 59.0, "the name in any case");
	TAP_OK(header(&m, "x-ratelimit-reset-requests: 1s\r\n") &&
	       m.reset[MLDE_SERVER_REQUESTS] == 1.0, "x-ratelimit-reset-requests: 1s");
	TAP_OK(header(&m, "x-ratelimit-limit-tokens:150000") &&
	       m.limit[MLDE_SERVER_TOKENS] == 150000.0, "-tokens, no blank, no CR LF");
	TAP_OK(header(&m, "x-ratelimit-remaining-tokens: 149984\r\n") &&
	       m.remaining[MLDE_SERVER_TOKENS] == 149984.0, "x-ratelimit-remaining-tokens");
	TAP_OK(header(&m, "x-ratelimit-reset-tokens: 6m0s\r\n") &&
	       m.reset[MLDE_SERVER_TOKENS] == 360.0, "x-ratelimit-reset-tokens: 6m0s");
	TAP_OK(!header(&m, "x-ratelimit-reset-requests: soon\r\n") &&
	       m.reset[MLDE_SERVER_REQUESTS] == 1.0, "a bad value: refused, the mark as it was");
	TAP_OK(!header(&m, "x-ratelimit-remaining-requests: -3\r\n") &&
	       m.remaining[MLDE_SERVER_REQUESTS] == 59.0, "a negative count: refused");
	TAP_OK(!header(&m, "x-ratelimit-limit-tokens_usage_based: 9\r\n") &&
	       m.limit[MLDE_SERVER_TOKENS] == 150000.0, "x-ratelimit-limit-tokens_usage_based: not one of the six");
	TAP_OK(!header(&m, "x-ratelimit-limit-requests-day: 5\r\n") &&
	       m.limit[MLDE_SERVER_REQUESTS] == 60.0, "x-ratelimit-limit-requests-day: not one of the six");
	TAP_OK(!header(&m, "x-ratelimit-limit: 5\r\n"), "x-ratelimit-limit (no kind): not one");
	TAP_OK(!header(&m, "retry-after: 1\r\n"), "retry-after: not one");
	TAP_OK(!header(&m, "x-ratelimit-limit-requests 60\r\n"), "no colon: not one");
	TAP_OK(!header(&m, "HTTP/1.1 200 OK\r\n"), "the status line: not one");
	TAP_OK(!header(&m, "x-ratelimit"), "a line shorter than the prefix: not one");
}

static void describe(void)
{
	mlde_ratelimit_stats st = { 0 };
	char out[400], small[24];

	st.jobs = 32;
	st.concurrency = st.lowest = 32;
	mlde_ratelimit_describe(&st, out, sizeof out);
	TAP_IS_STR(out, "nothing", "no wait: nothing");
	st.waits[MLDE_LIMIT_SERVER_REQUESTS] = 4900;
	st.waited[MLDE_LIMIT_SERVER_REQUESTS] = 48.96;
	st.waits[MLDE_LIMIT_JOBS] = 3;
	st.waited[MLDE_LIMIT_JOBS] = 0.01;
	st.waits[MLDE_LIMIT_RETRY_AFTER] = 1;
	st.waited[MLDE_LIMIT_RETRY_AFTER] = 1.5;
	mlde_ratelimit_describe(&st, out, sizeof out);
	TAP_IS_STR(out, "server x-ratelimit-requests (4900 waits, 49.0 s), 429 Retry-After (1 wait, "
			"1.5 s), -j 32 (3 waits, 0.0 s)", "the causes, the longest first, -j named");
	st.cuts_429 = 2;
	st.cuts_latency = 1;
	st.lowest = 4;
	st.concurrency = 6;
	st.waits[MLDE_LIMIT_ADAPTIVE] = 10;
	st.waited[MLDE_LIMIT_ADAPTIVE] = 0.5;
	memset(st.waits, 0, sizeof st.waits[0] * MLDE_LIMIT_ADAPTIVE);
	st.waits[MLDE_LIMIT_JOBS] = 0;
	mlde_ratelimit_describe(&st, out, sizeof out);
	TAP_IS_STR(out, "adaptive concurrency (10 waits, 0.5 s); concurrency cut 3 times (2 on 429s, "
			"1 on latency), to 4 at least, 6 at the end, of -j 32", "the cuts of the concurrency");
	mlde_ratelimit_describe(&st, small, sizeof small);
	TAP_OK(strlen(small) == sizeof small - 1 && strncmp(small, "adaptive concurrency", 20) == 0,
	       "cut to fit a small buffer (%s)", small);
}

int main(void)
{
	reset_is("1s", 1.0);
	reset_is("6m0s", 360.0);
	reset_is("20ms", 0.02);
	reset_is("1h2m3.5s", 3723.5);
	reset_is("0s", 0.0);
	reset_is("12ms", 0.012);
	reset_is("1m30s", 90.0);
	reset_is("2h", 7200.0);
	reset_is("1.5s", 1.5);
	reset_is(".5s", 0.5);
	reset_is("7.66s", 7.66);
	reset_is("500us", 0.0005);
	reset_is("3\xc2\xb5s", 3e-6);
	reset_is("250ns", 2.5e-7);
	reset_is("1s500ms", 1.5);
	reset_is("1.5", 1.5);
	reset_is("12", 12.0);
	reset_is(" 1s ", 1.0);
	reset_is("1m0.5s\t", 60.5);
	reset_refused("");
	reset_refused("   ");
	reset_refused("soon");
	reset_refused("1x");
	reset_refused("-1s");
	reset_refused("+1s");
	reset_refused("1s2");
	reset_refused("s");
	reset_refused("ms");
	reset_refused("1..2s");
	reset_refused("1.2.3s");
	reset_refused("1h1h");
	reset_refused("1s1m");
	reset_refused("1ms1s");
	reset_refused("1s 2ms");
	reset_refused("1 s");
	reset_refused("inf");
	reset_refused("nan");
	reset_refused("1e3s");
	reset_refused("0x10");
	reset_refused("99999999999h");
	reset_refused("1S");
	count_is("60", 60.0);
	count_is("0", 0.0);
	count_is(" 149984 ", 149984.0);
	count_refused("");
	count_refused("-1");
	count_refused("1.5");
	count_refused("12a");
	count_refused("1e3");
	count_refused("99999999999999999999");
	headers();
	describe();
	return TAP_DONE();
}
