/* response.c - an HTTP response as bytes: the header lines and body chunks
 * libcurl hands over, gathered into an mlde_response, and the outcome of
 * the attempt read from it, with the server's message and the key kept out
 * of it. */
#define _GNU_SOURCE  /* memmem, strncasecmp */
#include "gen/response.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>  /* curl_getdate: no transfer, only its date reader */
#include <jv.h>

#define HEADER_READ_MAX 256   /* a longer header line is not read (none we read is) */
#define WHY_MAX 200           /* the server's message, cut to this */
#define RAW_MAX 120           /* ... or the first bytes of a body that is not JSON */
#define ERROR_PARSE_MAX 65536 /* the first bytes of an error body parsed for its message */

void mlde_response_start(mlde_response *r)
{
	mlde_buf body = r->body;

	memset(r, 0, sizeof *r);
	r->body = body;
	mlde_buf_reset(&r->body);
	r->body_max = MLDE_RESPONSE_BODY_MAX;
	r->line_max = MLDE_RESPONSE_LINE_MAX;
	r->retry_after = -1.0;
	r->want_status = true;
}

void mlde_response_free(mlde_response *r)
{
	mlde_buf_free(&r->body);
}

/* "HTTP/1.1 200 OK", "HTTP/2 429": the status, or 0 when line is no
 * status line. */
static long status_of(const char *line, size_t len)
{
	size_t i = 5;
	long status = 0;

	if (len < 5 || memcmp(line, "HTTP/", 5) != 0)
		return 0;
	while (i < len && (isdigit((unsigned char)line[i]) || line[i] == '.'))
		i++;
	if (i == 5 || i >= len || line[i] != ' ')
		return 0;
	while (i < len && line[i] == ' ')
		i++;
	for (int d = 0; d < 3; d++, i++) {
		if (i >= len || !isdigit((unsigned char)line[i]))
			return 0;
		status = status * 10 + (line[i] - '0');
	}
	if (i < len && !isspace((unsigned char)line[i]))
		return 0;
	return status >= 100 ? status : 0;
}

/* Retry-After: seconds or an HTTP date; OpenAI's retry-after-ms wins. */
static void read_retry_after(mlde_response *r, const char *data, size_t len, time_t now)
{
	char line[HEADER_READ_MAX];
	double v;

	if (len >= sizeof line)
		return;
	memcpy(line, data, len);
	line[len] = '\0';
	if (strncasecmp(line, "retry-after-ms:", 15) == 0) {
		v = strtod(line + 15, NULL) / 1000.0;
		if (v >= 0.0)
			r->retry_after = v;
	} else if (strncasecmp(line, "retry-after:", 12) == 0 && r->retry_after < 0.0) {
		char *s = line + 12, *end;

		while (*s == ' ' || *s == '\t')
			s++;
		s[strcspn(s, "\r\n")] = '\0';
		v = strtod(s, &end);
		if (end == s) {
			time_t t = curl_getdate(s, NULL);

			v = t > 0 ? difftime(t, now) : -1.0;
			if (t > 0 && v < 0.0)
				v = 0.0;
		}
		if (v >= 0.0)
			r->retry_after = v;
	}
}

void mlde_response_header(mlde_response *r, const char *line, size_t len, time_t now)
{
	bool first = r->status == 0 && r->want_status;
	long status;

	if (r->no_status)
		return;  /* HTTP/0.9: no head, all of it is body */
	if (len > r->line_max) {
		r->line_too_big = true;
		return;
	}
	/* "\r\n" or "\n" (as libcurl: a line that starts with either) */
	if (len == 0 || (len <= 2 && (line[0] == '\r' || line[0] == '\n'))) {
		r->want_status = true;  /* the end of a head: a status line may follow */
		return;
	}
	status = r->want_status ? status_of(line, len) : 0;
	r->want_status = false;
	if (status) {
		r->status = status;
		return;
	}
	if (first)
		r->no_status = true;
	read_retry_after(r, line, len, now);
}

int mlde_response_body(mlde_response *r, const char *data, size_t len)
{
	if (r->too_big || r->body.len + len > r->body_max || r->body.len + len < len) {
		r->too_big = true;
		return -1;
	}
	mlde_buf_add(&r->body, data, len);
	return 0;
}

/* ---- the key ---- */

void mlde_response_scrub(const char *key, char *s)
{
	size_t k = key ? strlen(key) : 0;
	size_t piece = k < MLDE_RESPONSE_KEY_PIECE ? k : MLDE_RESPONSE_KEY_PIECE;
	char *out = s;
	const char *p = s;

	if (k < 4)
		return;
	while (*p) {
		size_t best = 0;

		for (size_t j = 0; j + piece <= k; j++) {
			size_t m = 0;

			while (p[m] && j + m < k && p[m] == key[j + m])
				m++;
			if (m > best)
				best = m;
		}
		if (best >= piece) {
			memcpy(out, "***", 3);  /* never longer than what it replaces */
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

/* Only escapes can hide the key, so a body without them is not parsed. */
bool mlde_response_holds_key(const char *key, const char *body, size_t len)
{
	size_t k = key ? strlen(key) : 0;
	bool found;
	jv v;

	if (k < 4 || len == 0)
		return false;
	if (memmem(body, len, key, k))
		return true;
	if (!memmem(body, len, "\\u", 2) && !memmem(body, len, "\\/", 2))
		return false;
	v = jv_parse_sized(body, (int)(len < INT32_MAX ? len : INT32_MAX));
	found = jv_holds(v, key, k);
	jv_free(v);
	return found;
}

/* ---- the outcome ---- */

/* The message of an OpenAI-style error body, or its first bytes; the key
 * is scrubbed from the whole text before it is cut to len (a key lying
 * across the cut would leave its first bytes). */
static void error_text(const mlde_response *r, const char *key, char *out, size_t len)
{
	size_t n = r->body.len < ERROR_PARSE_MAX ? r->body.len : ERROR_PARSE_MAX;
	size_t limit = len - 1;
	jv body = n ? jv_parse_sized(r->body.p, (int)n) : jv_invalid();
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
		mlde_buf_add(&text, r->body.p, strnlen(r->body.p, n));
		if (limit > RAW_MAX)
			limit = RAW_MAX;
	}
	jv_free(e);
	jv_free(body);
	mlde_buf_addc(&text, '\0');
	mlde_response_scrub(key, text.p);
	snprintf(out, len, "%.*s", (int)limit, text.p);
	mlde_buf_free(&text);
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

/* A 2xx: usable, or why not. */
static mlde_response_outcome classify_2xx(const mlde_response *r, const char *key,
					  mlde_response_check *check, char *cause, size_t len)
{
	char why[WHY_MAX + 1] = "";

	/* before the check: its reason may quote the body */
	if (mlde_response_holds_key(key, r->body.p, r->body.len)) {
		snprintf(cause, len, "the reply holds the API key: not kept");
		return MLDE_RESPONSE_FAIL;
	}
	if (check && check(r->body.p ? r->body.p : "", r->body.len, why, sizeof why) < 0) {
		snprintf(cause, len, "HTTP %ld but an unusable reply: %s", r->status, why);
		return MLDE_RESPONSE_RETRY;
	}
	return MLDE_RESPONSE_OK;
}

mlde_response_outcome mlde_response_classify(const mlde_response *r, const char *key,
					     mlde_response_check *check, char *cause, size_t len)
{
	mlde_response_outcome o;
	char why[WHY_MAX + 1] = "";
	long s = r->status;

	cause[0] = '\0';
	if (r->too_big) {
		if (r->body_max >= (size_t)1 << 20)
			snprintf(cause, len, "the reply is larger than %zu MiB", r->body_max >> 20);
		else
			snprintf(cause, len, "the reply is larger than %zu bytes", r->body_max);
		return MLDE_RESPONSE_FAIL;
	}
	/* what libcurl refuses before a callback sees it, read without libcurl */
	if (r->line_too_big) {
		snprintf(cause, len, "a header line of the reply is longer than %zu bytes",
			 r->line_max);
		return MLDE_RESPONSE_RETRY;
	}
	if (s == 0) {
		snprintf(cause, len, "no HTTP status line in the reply (HTTP/0.9)");
		return MLDE_RESPONSE_RETRY;
	}
	if (s >= 200 && s < 300) {
		o = classify_2xx(r, key, check, cause, len);
	} else {
		error_text(r, key, why, sizeof why);
		snprintf(cause, len, "HTTP %ld%s%s", s, why[0] ? ": " : "", why);
		if (s == 401 || s == 403 || s == 404)
			o = MLDE_RESPONSE_FATAL;
		else if (s == 429 || s == 408 || s == 409 || s >= 500)
			o = MLDE_RESPONSE_RETRY;
		else
			o = MLDE_RESPONSE_FAIL;
	}
	mlde_response_scrub(key, cause);
	return o;
}
