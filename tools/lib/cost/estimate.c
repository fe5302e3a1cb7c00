/* estimate.c - input tokens of a request, estimated (estimate.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "cost/estimate.h"

#define TOKENS_PER_MESSAGE 4.0
#define TOKENS_REPLY_START 3.0
#define IMAGE_UNREAD 2048   /* the side of an image whose size cannot be read */

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

double mlde_estimate_text(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	double n = 0.0;

	while (p < end) {
		const unsigned char *q = p;

		if (is_alpha(*p)) {
			while (q < end && is_alpha(*q))
				q++;
			n += q - p > 8 ? 2.0 : 1.0;
		} else if (is_digit(*p)) {
			while (q < end && is_digit(*q))
				q++;
			n += (double)((q - p + 2) / 3);
		} else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			size_t lines = 0;

			while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
				lines += *q++ == '\n';
			/* a lone blank joins the next word; a run of them is a token */
			if (lines)
				n += (double)lines;
			else if (q - p > 1)
				n += 1.0;
		} else {
			/* punctuation, or one UTF-8 character (its continuation bytes) */
			q++;
			if (*p >= 0xc0)
				while (q < end && (*q & 0xc0) == 0x80)
					q++;
			n += 1.0;
		}
		p = q;
	}
	return n;
}

double mlde_estimate_image(int w, int h, const char *detail)
{
	double fw = w, fh = h, scale;

	if (detail && strcmp(detail, "low") == 0)
		return 85.0;
	if (w <= 0 || h <= 0)
		fw = fh = IMAGE_UNREAD;
	if (fw > 2048.0 || fh > 2048.0) {
		scale = 2048.0 / (fw > fh ? fw : fh);
		fw *= scale;
		fh *= scale;
	}
	if ((fw < fh ? fw : fh) > 768.0) {
		scale = 768.0 / (fw < fh ? fw : fh);
		fw *= scale;
		fh *= scale;
	}
	/* a tile is 512 px: ceil of each side */
	return 85.0 + 170.0 * (double)(((long)fw + 511) / 512) * (double)(((long)fh + 511) / 512);
}

static unsigned be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned long be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

/* A JPEG's size from its first start-of-frame marker. */
static int jpeg_size(const unsigned char *p, size_t n, int *w, int *h)
{
	size_t i = 2;

	while (i + 9 < n) {
		unsigned m;

		if (p[i] != 0xff)
			return -1;
		m = p[i + 1];
		if (m == 0xff) {  /* fill byte */
			i++;
			continue;
		}
		/* SOF0..SOF15 but DHT (c4), JPG (c8), DAC (cc) */
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
			*h = (int)be16(p + i + 5);
			*w = (int)be16(p + i + 7);
			return 0;
		}
		i += 2 + be16(p + i + 2);
	}
	return -1;
}

int mlde_image_size(const unsigned char *p, size_t n, int *w, int *h)
{
	static const unsigned char png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	if (n >= 24 && memcmp(p, png, 8) == 0 && memcmp(p + 12, "IHDR", 4) == 0) {
		unsigned long pw = be32(p + 16), ph = be32(p + 20);

		if (pw == 0 || ph == 0 || pw > 1000000 || ph > 1000000)
			return -1;
		*w = (int)pw;
		*h = (int)ph;
		return 0;
	}
	if (n >= 4 && p[0] == 0xff && p[1] == 0xd8)
		return jpeg_size(p, n, w, h);
	return -1;
}

static const char *string_at(jv obj, const char *key, jv *keep)
{
	*keep = jv_get_kind(obj) == JV_KIND_OBJECT ? jv_object_get(jv_copy(obj), jv_string(key))
						     : jv_invalid();
	return jv_get_kind(*keep) == JV_KIND_STRING ? jv_string_value(*keep) : NULL;
}

/* An image_url part's tokens: its data: URI decoded for the size. */
static double image_part(jv part)
{
	jv iu = jv_object_get(jv_copy(part), jv_string("image_url")), url, det;
	const char *u = string_at(iu, "url", &url), *detail = string_at(iu, "detail", &det);
	const char *comma = u && strncmp(u, "data:", 5) == 0 ? strchr(u, ',') : NULL;
	int w = 0, h = 0;
	double t;

	if (comma) {
		size_t n;
		unsigned char *bytes = mlde_base64_decode(comma + 1, strlen(comma + 1), &n);

		if (!bytes || mlde_image_size(bytes, n, &w, &h) < 0)
			w = h = 0;
		free(bytes);
	}
	t = mlde_estimate_image(w, h, detail);
	jv_free(url);
	jv_free(det);
	jv_free(iu);
	return t;
}

static double text_of(jv v)
{
	return jv_get_kind(v) == JV_KIND_STRING
		? mlde_estimate_text(jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)))
		: 0.0;
}

static double content_tokens(jv content)
{
	double t = 0.0;

	if (jv_get_kind(content) == JV_KIND_STRING)
		return text_of(content);
	if (jv_get_kind(content) != JV_KIND_ARRAY)
		return 0.0;
	jv_array_foreach(content, i, part) {
		jv type, text;
		const char *ty = string_at(part, "type", &type);

		if (ty && strcmp(ty, "image_url") == 0) {
			t += image_part(part);
		} else if (jv_get_kind(part) == JV_KIND_OBJECT) {
			text = jv_object_get(jv_copy(part), jv_string("text"));
			t += text_of(text);
			jv_free(text);
		}
		jv_free(type);
		jv_free(part);
	}
	return t;
}

double mlde_estimate_request(jv body)
{
	jv msgs, input;
	double t = 0.0;

	if (jv_get_kind(body) != JV_KIND_OBJECT)
		return 0.0;
	input = jv_object_get(jv_copy(body), jv_string("input"));
	if (jv_get_kind(input) == JV_KIND_ARRAY) {
		jv_array_foreach(input, i, s) {
			t += text_of(s);
			jv_free(s);
		}
	} else {
		t += text_of(input);
	}
	jv_free(input);
	msgs = jv_object_get(jv_copy(body), jv_string("messages"));
	if (jv_get_kind(msgs) == JV_KIND_ARRAY) {
		jv_array_foreach(msgs, i, m) {
			jv content = jv_get_kind(m) == JV_KIND_OBJECT
				? jv_object_get(jv_copy(m), jv_string("content")) : jv_invalid();

			t += TOKENS_PER_MESSAGE + content_tokens(content);
			jv_free(content);
			jv_free(m);
		}
		t += TOKENS_REPLY_START;
	}
	jv_free(msgs);
	return t;
}
