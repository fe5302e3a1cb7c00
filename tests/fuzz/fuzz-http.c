/* fuzz-http.c - libFuzzer target: the HTTP response handling of mlde_http
 * without a socket (gen/response.c), then the parse of what it accepts
 * (gen/reply.c, eval/chat.c).  The input is a whole response - status
 * line, headers, body - after five bytes that steer the run: byte 0 picks
 * the check of a 2xx body (none, chat completion, embedding) and may
 * lower the body and header-line limits so they are reached; bytes 1-4
 * are the lengths of the body's pieces, in turn.  The head goes in a line
 * at a time, as libcurl hands it over (a 1xx's head, then the next).
 * Asserted: an outcome that agrees with the status, a cause for every
 * failure, no piece of the key in any cause, no accepted body that holds
 * the key, a body within its limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "eval/chat.h"
#include "gen/reply.h"
#include "gen/response.h"

#define FUZZ_HTTP_KEY "sk-fuzz-0123456789abcdefghij"
#define FUZZ_HTTP_NOW ((time_t)1700000000)
#define FUZZ_HTTP_STEER 5

/* The head, a line at a time; the bytes used. */
static size_t http_feed_head(mlde_response *r, const char *p, size_t size)
{
	size_t at = 0;

	while (at < size) {
		const char *nl = memchr(p + at, '\n', size - at);
		size_t n = nl ? (size_t)(nl - (p + at)) + 1 : size - at;
		int blank = n == 1 || (n == 2 && p[at] == '\r');

		mlde_response_header(r, p + at, n, FUZZ_HTTP_NOW);
		at += n;
		if (blank && !(r->status >= 100 && r->status < 200))
			break;
	}
	return at;
}

/* Does s hold a piece of the key long enough to be scrubbed? */
static int http_leaks_key(const char *s)
{
	const char *key = FUZZ_HTTP_KEY;
	size_t k = strlen(key);

	for (size_t j = 0; j + MLDE_RESPONSE_KEY_PIECE <= k; j++) {
		char piece[MLDE_RESPONSE_KEY_PIECE + 1];

		memcpy(piece, key + j, MLDE_RESPONSE_KEY_PIECE);
		piece[MLDE_RESPONSE_KEY_PIECE] = '\0';
		if (strstr(s, piece))
			return 1;
	}
	return 0;
}

/* What the programs do with a body mlde_http hands them. */
static void http_parse_accepted(const mlde_response *r, int which)
{
	double prompt = 0.0, completion = 0.0;
	char why[200];
	jv v, out;

	if (which == 0 || r->body.len > 0x7fffffff)
		return;
	v = jv_parse_sized(r->body.p ? r->body.p : "", (int)r->body.len);
	if (!jv_is_valid(v))
		abort();  /* the check passed it */
	if (which == 2) {
		if (mlde_chat_embedding(v, &out, why, sizeof why) < 0)
			abort();
		jv_free(out);
		jv_free(v);
		return;
	}
	if (mlde_reply_completion_text(v, &out, &prompt, &completion, why, sizeof why) < 0)
		abort();
	{
		mlde_reply item;

		mlde_reply_parse(jv_string_value(out), (size_t)jv_string_length_bytes(jv_copy(out)),
				 &item);
		mlde_reply_free(&item);
	}
	jv_free(out);
	jv_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mlde_response_check *const checks[] = { NULL, mlde_reply_check_completion,
						       mlde_chat_check_embedding,
						       mlde_reply_check_completion };
	const char *p = (const char *)data + FUZZ_HTTP_STEER;
	mlde_response r = { 0 };
	mlde_response_outcome o;
	char cause[300];
	size_t at, n, piece = 0;
	int which;
	long s;

	if (size < FUZZ_HTTP_STEER)
		return 0;
	which = data[0] & 3;
	size -= FUZZ_HTTP_STEER;
	mlde_response_start(&r);
	if (data[0] & 4)
		r.body_max = 512;
	if (data[0] & 8)
		r.line_max = 64;
	at = http_feed_head(&r, p, size);
	while (at < size) {
		n = (size_t)data[1 + piece++ % 4] + 1;
		if (n > size - at)
			n = size - at;
		if (mlde_response_body(&r, p + at, n) < 0)
			break;  /* the transfer ends here */
		at += n;
	}
	if (r.body.len > r.body_max)
		abort();
	o = mlde_response_classify(&r, FUZZ_HTTP_KEY, checks[which], cause, sizeof cause);
	s = r.status;
	if (o == MLDE_RESPONSE_OK && (s < 200 || s > 299 || cause[0] ||
				      mlde_response_holds_key(FUZZ_HTTP_KEY, r.body.p, r.body.len)))
		abort();
	if (o == MLDE_RESPONSE_FATAL && s != 401 && s != 403 && s != 404)
		abort();
	if (o != MLDE_RESPONSE_OK && !cause[0])
		abort();
	if (http_leaks_key(cause))
		abort();
	if (o == MLDE_RESPONSE_OK)
		http_parse_accepted(&r, which);
	mlde_response_free(&r);
	return 0;
}
