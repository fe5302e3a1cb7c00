/* test-cost.c - the cost library: the token estimator's rule (text, the
 * image tile rule, a request), reading usage from replies and records,
 * the sums, the price table (rows, dated names, the cost, bad lines) and
 * the dry run's counts without a cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cost/dry.h"
#include "cost/estimate.h"
#include "cost/price.h"
#include "cost/usage.h"
#include "tap.h"

static double text(const char *s)
{
	return mlde_estimate_text(s, strlen(s));
}

static void test_estimate(void)
{
	static const unsigned char png[24] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
					       0, 0, 0, 13, 'I', 'H', 'D', 'R',
					       0, 0, 2, 0, 0, 0, 1, 0x2c };  /* 512 x 300 */
	static const unsigned char jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0,
					      0xff, 0xc0, 0, 11, 8, 0, 100, 1, 44, 3, 0, 0 };
	int w = 0, h = 0;
	jv req;

	TAP_IS_INT((int)text("plan p1"), 3, "text: a word, a letter, a digit");
	TAP_IS_INT((int)text("Hello, world!\n"), 5, "text: punctuation and a line break are tokens");
	TAP_IS_INT((int)text("1234567"), 3, "text: three digits a token");
	TAP_IS_INT((int)text("internationalization"), 2, "text: a long word is two");
	TAP_IS_INT((int)text("a  b"), 3, "text: a run of blanks is one, a lone blank none");
	TAP_IS_INT((int)text("caf\xc3\xa9!"), 3, "text: a UTF-8 character is one");
	TAP_IS_INT((int)text(""), 0, "text: nothing");
	TAP_IS_INT((int)mlde_estimate_image(4, 4, NULL), 255, "image: one tile at high");
	TAP_IS_INT((int)mlde_estimate_image(1024, 1024, "auto"), 765, "image: 1024x1024 -> 768: 4 tiles");
	TAP_IS_INT((int)mlde_estimate_image(2048, 4096, "high"), 1105,
		   "image: 2048x4096 -> 768x1536: 6 tiles (OpenAI's example)");
	TAP_IS_INT((int)mlde_estimate_image(4000, 3000, "low"), 85, "image: detail low is 85");
	TAP_IS_INT((int)mlde_estimate_image(0, 0, NULL), 765, "image: unread, as a 2048 square");
	TAP_OK(mlde_image_size(png, sizeof png, &w, &h) == 0 && w == 512 && h == 300,
	       "the size of a PNG from its header");
	TAP_OK(mlde_image_size(jpeg, sizeof jpeg, &w, &h) == 0 && w == 300 && h == 100,
	       "the size of a JPEG from its frame");
	TAP_OK(mlde_image_size((const unsigned char *)"GIF89a", 6, &w, &h) < 0, "not an image: -1");
	req = jv_parse("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"plan p1\"}]}");
	TAP_IS_INT((int)mlde_estimate_request(req), 10, "a request: 3 + 4 a message + 3 the reply");
	jv_free(req);
	req = jv_parse("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"},"
		       "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.png\",\"detail\":\"low\"}}]}]}");
	TAP_IS_INT((int)mlde_estimate_request(req), 93, "parts: text and a low-detail image");
	jv_free(req);
	req = jv_parse("{\"model\":\"e\",\"input\":[\"a b\",\"c\"]}");
	TAP_IS_INT((int)mlde_estimate_request(req), 3, "an embeddings request: its inputs");
	jv_free(req);
}

static void test_usage(void)
{
	jv body = jv_parse("{\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20,"
			   "\"prompt_tokens_details\":{\"cached_tokens\":64}}}");
	mlde_usage u = mlde_usage_of_reply(body), none = { 0 };
	mlde_usage_sum s = { 0 };
	mlde_buf b = { 0 };
	char *dump;
	jv rec, d;

	TAP_OK(u.known && u.cached_known && u.prompt == 100 && u.completion == 20 && u.cached == 64,
	       "usage of a reply, cached tokens from prompt_tokens_details");
	jv_free(body);
	body = jv_parse("{\"choices\":[]}");
	TAP_OK(!mlde_usage_of_reply(body).known, "a reply without usage: not known");
	jv_free(body);
	rec = mlde_usage_set(jv_object(), &u);
	d = jv_dump_string(jv_copy(rec), 0);
	dump = strdup(jv_string_value(d));
	jv_free(d);
	TAP_IS_STR(dump, "{\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20,\"cached_tokens\":64}}",
		   "the record's form");
	free(dump);
	TAP_OK(mlde_usage_of_record(rec).cached == 64, "read back from the record");
	jv_free(rec);
	rec = mlde_usage_set(jv_object(), &none);
	TAP_IS_INT(jv_object_length(rec), 0, "unknown usage: no field at all");
	mlde_usage_add(&s, &u, false);
	mlde_usage_add(&s, &u, true);
	mlde_usage_add(&s, &none, false);
	mlde_usage_format(&s, &b);
	TAP_IS_STR(b.p, "tokens 120 (100 prompt, 20 completion, 64 cached prompt); the reply cache "
		   "saved 100 prompt, 20 completion", "the summary's words: the cache's apart");
	mlde_buf_free(&b);
}

static void test_prices(void)
{
	FILE *f = fopen("p.tsv", "w");
	mlde_prices p;
	mlde_error err;
	const mlde_price *pr;

	fputs("# comment\n\ngpt-4o\t2.50\t1.25\t10.00\t0.5\t2025-08-01\n"
	      "gpt-4o-mini\t0.15\t-\t0.60\t0.5\t2025-08-01\n", f);
	fclose(f);
	mlde_error_clear(&err);
	TAP_IS_INT(mlde_prices_load(&p, "p.tsv", &err), 0, "a price table loads");
	TAP_IS_INT((int)p.n, 2, "... two rows, comments skipped");
	pr = mlde_prices_find(&p, "gpt-4o-2024-08-06");
	TAP_IS_STR(pr ? pr->model : "", "gpt-4o", "a dated name takes its family's row");
	pr = mlde_prices_find(&p, "gpt-4o-mini-2024-07-18");
	TAP_IS_STR(pr ? pr->model : "", "gpt-4o-mini", "the longest prefix wins");
	TAP_OK(!mlde_prices_find(&p, "gpt-4omni") && !mlde_prices_find(&p, "llama"),
	       "no row: NULL (costs 0)");
	pr = mlde_prices_find(&p, "gpt-4o");
	/* 1M prompt of which 0.5M cached, 0.1M completion: 1.25 + 0.625 + 1 */
	TAP_OK(mlde_price_cost(pr, 1e6, 5e5, 1e5, false) == 2.875, "the cost: cached input at its price");
	TAP_OK(mlde_price_cost(pr, 1e6, 5e5, 1e5, true) == 1.4375, "the Batch API: half");
	pr = mlde_prices_find(&p, "gpt-4o-mini");
	TAP_OK(mlde_price_cost(pr, 1e6, 1e6, 0, false) == 0.15, "cached '-': at the input price");
	TAP_OK(mlde_price_cost(NULL, 1e6, 0, 1e6, false) == 0.0, "no price: 0");
	mlde_prices_free(&p);
	f = fopen("bad.tsv", "w");
	fputs("# x\nm\t1\t1\t1\t2\tdate\n", f);
	fclose(f);
	TAP_IS_INT(mlde_prices_load(&p, "bad.tsv", &err), -1, "a batch factor over 1: refused");
	TAP_IS_STR(err.msg, "bad.tsv:2: batch: '2' is not a price factor from 0 to 1", "... naming the line");
	f = fopen("short.tsv", "w");
	fputs("m\t1\t1\n", f);
	fclose(f);
	TAP_IS_INT(mlde_prices_load(&p, "short.tsv", &err), -1, "too few fields: refused");
	TAP_IS_INT(mlde_prices_load(&p, "nonexistent.tsv", &err), -1, "a missing table: -1");
	TAP_IS_INT(err.status, MLDE_EXIT_IO, "... an I/O error");
}

static void test_dry(void)
{
	static const char a[] = "{\"model\":\"m\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"plan p1\"}]}";
	static const char b[] = "{\"model\":\"m\",\"max_completion_tokens\":70,\"messages\":[]}";
	mlde_dry d;
	mlde_error err;
	mlde_buf out = { 0 };

	mlde_dry_init(&d, NULL);
	mlde_error_clear(&err);
	TAP_OK(mlde_dry_add(&d, "http://x", a, strlen(a), &err) == 0 &&
	       mlde_dry_add(&d, NULL, b, strlen(b), &err) == 0, "dry run: two requests counted");
	TAP_OK(d.n == 1 && d.m[0].requests == 2 && d.m[0].in_cache == 0 && d.m[0].input == 13 &&
	       d.m[0].output_max == 120, "one model: 2 requests, 10 + 3 input tokens, 50 + 70 at most");
	TAP_IS_INT(mlde_dry_add(&d, NULL, "[1]", 3, &err), -1, "a body that is no object: -1");
	mlde_dry_rows(&d, "prog", NULL, &out);
	TAP_IS_STR(out.p, "prog\tm\t2\t0\t2\t13\t120\t120\t0\t0.0000\t0.0000\t0.0000\tnone\n",
		   "its row: no prices, no history");
	mlde_buf_free(&out);
	mlde_dry_free(&d);
}

int main(void)
{
	test_estimate();
	test_usage();
	test_prices();
	test_dry();
	return TAP_DONE();
}
