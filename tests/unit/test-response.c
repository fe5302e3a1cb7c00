/* test-response.c - an HTTP response read without a socket (gen/response.c):
 * the outcome of each status class and its cause, the server's message
 * with the key scrubbed from it, the forms of Retry-After, a body over
 * its limit, a header line over libcurl's, an HTTP/0.9 answer, and the
 * same outcome however the body is cut into pieces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/chat.h"
#include "gen/reply.h"
#include "gen/response.h"
#include "tap.h"

#define KEY "sk-test-FAKE0123456789abcdefXYZ"
#define NOW ((time_t)1445412480)  /* Wed, 21 Oct 2015 07:28:00 GMT */
#define COMPLETION "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"Question: Q?\"}}]}"

/* Feed text (a whole response) to r as libcurl would: the head a line at
 * a time (a 1xx's head, then the next), the body in pieces of chunk bytes. */
static void feed(mlde_response *r, const char *text, size_t chunk)
{
	const char *p = text, *end = text + strlen(text);
	bool head = true;

	while (head && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		mlde_response_header(r, p, n, NOW);
		p += n;
		if ((n == 2 && p[-2] == '\r') || n == 1)
			head = r->status >= 100 && r->status < 200;
	}
	while (p < end) {
		size_t n = (size_t)(end - p) < chunk ? (size_t)(end - p) : chunk;

		if (mlde_response_body(r, p, n) < 0)
			break;
		p += n;
	}
}

/* The outcome of text, checked with check; its cause in cause. */
static mlde_response_outcome outcome(const char *text, mlde_response_check *check, char *cause,
				     size_t len)
{
	mlde_response r = { 0 };
	mlde_response_outcome o;

	mlde_response_start(&r);
	feed(&r, text, 7);
	o = mlde_response_classify(&r, KEY, check, cause, len);
	mlde_response_free(&r);
	return o;
}

/* Retry-After as read from one header line after a 429. */
static double retry_after(const char *header1, const char *header2)
{
	mlde_response r = { 0 };
	double v;

	mlde_response_start(&r);
	mlde_response_header(&r, "HTTP/1.1 429 Too Many Requests\r\n", 32, NOW);
	mlde_response_header(&r, header1, strlen(header1), NOW);
	if (header2)
		mlde_response_header(&r, header2, strlen(header2), NOW);
	v = r.retry_after;
	mlde_response_free(&r);
	return v;
}

static void test_status_classes(void)
{
	static const struct {
		const char *status;
		mlde_response_outcome want;
	} classes[] = {
		{ "408 Request Timeout", MLDE_RESPONSE_RETRY }, { "409 Conflict", MLDE_RESPONSE_RETRY },
		{ "429 Too Many Requests", MLDE_RESPONSE_RETRY }, { "500 Internal", MLDE_RESPONSE_RETRY },
		{ "502 Bad Gateway", MLDE_RESPONSE_RETRY }, { "503 Unavailable", MLDE_RESPONSE_RETRY },
		{ "401 Unauthorized", MLDE_RESPONSE_FATAL }, { "403 Forbidden", MLDE_RESPONSE_FATAL },
		{ "404 Not Found", MLDE_RESPONSE_FATAL }, { "400 Bad Request", MLDE_RESPONSE_FAIL },
		{ "413 Too Large", MLDE_RESPONSE_FAIL }, { "422 Unprocessable", MLDE_RESPONSE_FAIL },
		{ "301 Moved", MLDE_RESPONSE_FAIL }, { "304 Not Modified", MLDE_RESPONSE_FAIL },
	};
	char text[300], cause[300], want[300];

	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
		snprintf(text, sizeof text, "HTTP/1.1 %s\r\nContent-Type: application/json\r\n\r\n"
			 "{\"error\":{\"message\":\"stub says no\",\"type\":\"x\"}}", classes[i].status);
		TAP_IS_INT(outcome(text, mlde_reply_check_completion, cause, sizeof cause),
			   classes[i].want, "HTTP %.3s: outcome %d", classes[i].status, classes[i].want);
		snprintf(want, sizeof want, "HTTP %.3s: stub says no", classes[i].status);
		TAP_IS_STR(cause, want, "HTTP %.3s: the cause is the status and the server's message",
			   classes[i].status);
	}
}

static void test_2xx(void)
{
	char cause[300];

	TAP_IS_INT(outcome("HTTP/1.1 200 OK\r\n\r\n" COMPLETION, mlde_reply_check_completion, cause,
			   sizeof cause), MLDE_RESPONSE_OK, "200 with a completion: ok");
	TAP_IS_STR(cause, "", "ok: no cause");
	TAP_IS_INT(outcome("HTTP/2 201 \r\n\r\n" COMPLETION, mlde_reply_check_completion, cause,
			   sizeof cause), MLDE_RESPONSE_OK, "HTTP/2 201: ok");
	TAP_IS_INT(outcome("HTTP/1.1 200 OK\r\n\r\n{\"object\":\"list\"}", mlde_reply_check_completion,
			   cause, sizeof cause), MLDE_RESPONSE_RETRY, "200 that is no completion: retried");
	TAP_IS_STR(cause, "HTTP 200 but an unusable reply: no 'choices' in the body",
		   "... with the check's reason");
	TAP_IS_INT(outcome("HTTP/1.1 200 OK\r\n\r\n{\"object\":\"list\"}", NULL, cause, sizeof cause),
		   MLDE_RESPONSE_OK, "no check: any 2xx body is ok");
	TAP_IS_INT(outcome("HTTP/1.1 200 OK\r\n\r\n{\"data\":[{\"embedding\":[0.5,-1]}]}",
			   mlde_chat_check_embedding, cause, sizeof cause), MLDE_RESPONSE_OK,
		   "200 with an embedding, the embedding check: ok");
	TAP_IS_INT(outcome("HTTP/1.1 200 OK\r\n\r\n" COMPLETION, mlde_chat_check_embedding, cause,
			   sizeof cause), MLDE_RESPONSE_RETRY, "a completion where an embedding is due: retried");
	TAP_IS_INT(outcome("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n" COMPLETION,
			   mlde_reply_check_completion, cause, sizeof cause), MLDE_RESPONSE_OK,
		   "a 100 before the 200: the 200 counts");
	TAP_IS_INT(outcome("HTTP/1.1 200 OK\r\n\r\n{\"choices\":[{\"message\":{\"content\":\"" KEY "\"}}]}",
			   mlde_reply_check_completion, cause, sizeof cause), MLDE_RESPONSE_FAIL,
		   "a 200 whose reply holds the key: failed, not retried");
	TAP_IS_STR(cause, "the reply holds the API key: not kept", "... and said so, without the key");
	TAP_IS_INT(outcome("HTTP/1.1 200 OK\r\n\r\n{\"choices\":[{\"message\":{\"content\":\"\\u0073k-test-FAKE0123456789abcdefXYZ\"}}]}",
			   mlde_reply_check_completion, cause, sizeof cause), MLDE_RESPONSE_FAIL,
		   "the key behind a JSON escape: found all the same");
}

static void test_messages(void)
{
	char cause[300], text[600];

	outcome("HTTP/1.1 401 Unauthorized\r\n\r\n{\"error\":{\"message\":\"Incorrect API key provided: "
		KEY ". You can find your API key at ...\"}}", NULL, cause, sizeof cause);
	TAP_IS_STR(cause, "HTTP 401: Incorrect API key provided: ***. You can find your API key at ...",
		   "an echoed key is scrubbed from the server's message");
	outcome("HTTP/1.1 401 Unauthorized\r\n\r\n{\"error\":{\"message\":\"Incorrect API key provided: "
		"sk-tes*****************XYZ\"}}", NULL, cause, sizeof cause);
	TAP_IS_STR(cause, "HTTP 401: Incorrect API key provided: ***" "*****************XYZ",
		   "and a piece of it 6 bytes long");
	TAP_OK(!strstr(cause, "sk-tes"), "no piece of the key is left");
	outcome("HTTP/1.1 429 Too Many Requests\r\n\r\n{\"error\":\"slow down\"}", NULL, cause, sizeof cause);
	TAP_IS_STR(cause, "HTTP 429: slow down", "\"error\" as a string");
	outcome("HTTP/1.1 404 Not Found\r\n\r\n{\"detail\":\"Not Found\"}", NULL, cause, sizeof cause);
	TAP_IS_STR(cause, "HTTP 404: {\"detail\":\"Not Found\"}", "no message: the body's first bytes");
	outcome("HTTP/1.1 500 Oops\r\n\r\n", NULL, cause, sizeof cause);
	TAP_IS_STR(cause, "HTTP 500", "no body: the status alone");
	snprintf(text, sizeof text, "HTTP/1.1 502 Bad Gateway\r\n\r\n<html>\n%0200d</html>", 7);
	outcome(text, NULL, cause, sizeof cause);
	TAP_IS_INT(strlen(cause), strlen("HTTP 502: ") + 120, "a body that is not JSON: its first 120 bytes");
	TAP_OK(strncmp(cause, "HTTP 502: <html> 000", 20) == 0, "... its newlines made blanks");
	snprintf(text, sizeof text, "HTTP/1.1 400 Bad Request\r\n\r\n{\"error\":{\"message\":\"%0196d " KEY
		 " and more\"}}", 1);
	outcome(text, NULL, cause, sizeof cause);
	/* cut first, "sk-" would be left: too short a piece to scrub */
	TAP_OK(strlen(cause) == strlen("HTTP 400: ") + 200 && !strstr(cause, "sk-") &&
	       strcmp(cause + strlen(cause) - 4, " ***") == 0,
	       "a key across the cut at 200 bytes: scrubbed before the cut");
}

static void test_retry_after(void)
{
	char line[400];

	TAP_OK(retry_after("Content-Type: text/plain\r\n", NULL) < 0, "no Retry-After: none");
	TAP_OK(retry_after("Retry-After: 7\r\n", NULL) == 7.0, "Retry-After: 7 seconds");
	TAP_OK(retry_after("retry-after:\t1.5\r\n", NULL) == 1.5, "lower case, a tab, a fraction");
	TAP_OK(retry_after("Retry-After: Wed, 21 Oct 2015 07:28:30 GMT\r\n", NULL) == 30.0,
	       "an HTTP date 30 s ahead: 30 s");
	TAP_OK(retry_after("Retry-After: Wed, 21 Oct 2015 07:00:00 GMT\r\n", NULL) == 0.0,
	       "an HTTP date gone by: no wait");
	TAP_OK(retry_after("Retry-After: soon\r\n", NULL) < 0, "neither seconds nor a date: none");
	TAP_OK(retry_after("Retry-After: -5\r\n", NULL) < 0, "negative: none");
	TAP_OK(retry_after("retry-after-ms: 250\r\n", NULL) == 0.25, "retry-after-ms: 250 ms");
	TAP_OK(retry_after("Retry-After: 9\r\n", "retry-after-ms: 250\r\n") == 0.25,
	       "retry-after-ms wins over an earlier Retry-After");
	TAP_OK(retry_after("retry-after-ms: 250\r\n", "Retry-After: 9\r\n") == 0.25,
	       "... and over a later one");
	snprintf(line, sizeof line, "Retry-After: 3%0280d\r\n", 0);
	TAP_OK(retry_after(line, NULL) < 0, "a header line of 256 bytes or more is not read");
}

static void test_limits(void)
{
	mlde_response r = { 0 };
	char cause[300], *big;
	size_t n = MLDE_RESPONSE_LINE_MAX + 1;

	mlde_response_start(&r);
	TAP_IS_INT(r.body_max, (size_t)64 << 20, "the body's limit: 64 MiB");
	TAP_IS_INT(r.line_max, (size_t)100 << 10, "a header line's: 100 KiB, libcurl's");
	mlde_response_header(&r, "HTTP/1.1 200 OK\r\n", 17, NOW);
	TAP_IS_INT(mlde_response_body(&r, "{}", 2), 0, "a body within the limit: kept");
	/* never read: the length alone passes the limit */
	TAP_IS_INT(mlde_response_body(&r, "x", (size_t)64 << 20), -1, "one that passes 64 MiB: refused");
	TAP_IS_INT(r.body.len, 2, "... nothing of it kept");
	TAP_IS_INT(mlde_response_classify(&r, KEY, NULL, cause, sizeof cause), MLDE_RESPONSE_FAIL,
		   "a body over the limit: failed, not retried");
	TAP_IS_STR(cause, "the reply is larger than 64 MiB", "... in mlde_http's words");
	TAP_IS_INT(mlde_response_body(&r, "x", 1), -1, "once over, every later piece is refused");

	mlde_response_start(&r);
	TAP_IS_INT(r.body.len, 0, "start: the body is empty again");
	r.body_max = 10;
	feed(&r, "HTTP/1.1 200 OK\r\n\r\n0123456789A", 4);
	mlde_response_classify(&r, KEY, NULL, cause, sizeof cause);
	TAP_IS_STR(cause, "the reply is larger than 10 bytes", "a limit under 1 MiB is said in bytes");

	big = malloc(n + 1);
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'z', n - 9);
	memcpy(big + n - 2, "\r\n", 3);
	mlde_response_start(&r);
	mlde_response_header(&r, "HTTP/1.1 200 OK\r\n", 17, NOW);
	mlde_response_header(&r, big, n, NOW);
	mlde_response_body(&r, COMPLETION, strlen(COMPLETION));
	TAP_OK(r.line_too_big, "a header line of 100 KiB + 1: too big");
	TAP_IS_INT(mlde_response_classify(&r, KEY, mlde_reply_check_completion, cause, sizeof cause),
		   MLDE_RESPONSE_RETRY, "... the attempt retried, as when libcurl refuses it");
	TAP_IS_STR(cause, "a header line of the reply is longer than 102400 bytes", "... and why");
	mlde_response_start(&r);
	mlde_response_header(&r, "HTTP/1.1 200 OK\r\n", 17, NOW);
	mlde_response_header(&r, big, n - 1, NOW);
	TAP_OK(!r.line_too_big, "one of 100 KiB: read");
	/* libcurl's lines are not NUL-terminated: the blank one read in its
	 * two bytes (fuzz-http found it read past them; ASan sees it) */
	memcpy(big, "\r\n", 2);
	big = realloc(big, 2);
	mlde_response_header(&r, big, 2, NOW);
	TAP_OK(r.want_status, "a blank line of exactly two bytes ends the head");
	free(big);
	mlde_response_free(&r);
}

static void test_http09(void)
{
	mlde_response r = { 0 };
	char cause[300];

	mlde_response_start(&r);
	feed(&r, "HELLO, this is no HTTP status line\r\n\r\nHTTP/1.1 200 OK\r\n\r\n" COMPLETION, 5);
	TAP_OK(r.no_status, "HTTP/0.9 (no status line): marked");
	TAP_IS_INT(r.status, 0, "... a status line later in it is not read");
	TAP_IS_INT(mlde_response_classify(&r, KEY, mlde_reply_check_completion, cause, sizeof cause),
		   MLDE_RESPONSE_RETRY, "... retried");
	TAP_IS_STR(cause, "no HTTP status line in the reply (HTTP/0.9)", "... and why");
	mlde_response_start(&r);
	TAP_IS_INT(mlde_response_classify(&r, KEY, NULL, cause, sizeof cause), MLDE_RESPONSE_RETRY,
		   "nothing at all: retried");
	mlde_response_start(&r);
	feed(&r, "HTTP/1.1 2000 OK\r\n\r\n{}", 5);
	TAP_OK(r.no_status && r.status == 0, "a status of four digits is no status line");
	mlde_response_start(&r);
	feed(&r, "HTTP/1.1 099 Low\r\n\r\n{}", 5);
	TAP_OK(r.no_status, "nor one under 100");
	mlde_response_free(&r);
}

/* However the body is cut, the same outcome and the same words. */
static void test_pieces(void)
{
	const char *text = "HTTP/1.1 503 Slow Down\r\nRetry-After: 2\r\n\r\n"
			   "{\"error\":{\"message\":\"busy " KEY "\"}}";
	char first[300], cause[300];
	bool same = true;

	for (size_t chunk = 1; chunk < 80; chunk++) {
		mlde_response r = { 0 };

		mlde_response_start(&r);
		feed(&r, text, chunk);
		mlde_response_classify(&r, KEY, NULL, cause, sizeof cause);
		if (chunk == 1)
			snprintf(first, sizeof first, "%s", cause);
		same = same && strcmp(first, cause) == 0 && r.retry_after == 2.0;
		mlde_response_free(&r);
	}
	TAP_OK(same, "the body in pieces of 1 to 79 bytes: the same outcome");
	TAP_IS_STR(first, "HTTP 503: busy ***", "... and cause");
}

static void test_scrub(void)
{
	char s[200];

	snprintf(s, sizeof s, "a %s b %.10s c", KEY, KEY + 5);
	mlde_response_scrub(KEY, s);
	TAP_IS_STR(s, "a *** b *** c", "scrub: the key and a piece of it");
	snprintf(s, sizeof s, "sk-te and sk-t");
	mlde_response_scrub(KEY, s);
	TAP_IS_STR(s, "sk-te and sk-t", "pieces under 6 bytes stay");
	snprintf(s, sizeof s, "abc");
	mlde_response_scrub("abc", s);
	TAP_IS_STR(s, "abc", "a key under 4 bytes is left alone");
	mlde_response_scrub(NULL, s);
	TAP_IS_STR(s, "abc", "no key: nothing to do");
	TAP_OK(!mlde_response_holds_key(KEY, "{\"a\":\"\\u0041\"}", 14), "holds_key: escapes, no key");
	TAP_OK(mlde_response_holds_key(KEY, "{\"a\":\"sk-test-FAKE0123456789abcdef\\/XYZ\"}", 40) == false,
	       "\\/ inside: not the key");
	TAP_OK(mlde_response_holds_key(KEY, "{\"a\":\"sk\\u002dtest-FAKE0123456789abcdefXYZ\"}", 44),
	       "the key with one escaped byte: held");
}

int main(void)
{
	test_status_classes();
	test_2xx();
	test_messages();
	test_retry_after();
	test_limits();
	test_http09();
	test_pieces();
	test_scrub();
	return TAP_DONE();
}
