/* test-batch.c - the Batch API's files, without a server: the input file
 * (one line per request the cache lacks, in key order, each key once, the
 * body byte for byte), and an output file read into the cache (a reply
 * stored under its custom_id, a failed line, a custom_id that is no cache
 * key, a body the check refuses, a line that is not JSON, no file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/batch.h"
#include "gen/reply.h"
#include "gen/window.h"
#include "tap.h"

#define SERVER "http://127.0.0.1:9/v1/chat/completions"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	static char buf[8192];
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	fputs(text, f);
	fclose(f);
}

static const char reply[] = "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
			    "\"content\":\"Question: q?\"}}],\"usage\":{\"prompt_tokens\":7,"
			    "\"completion_tokens\":3}}";

int main(void)
{
	static const char a[] = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],\"temperature\":0.7}";
	static const char b[] = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"b\"}]}";
	static const char c[] = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"c\"}]}";
	char ka[MLDE_SHA256_HEX], kb[MLDE_SHA256_HEX], kc[MLDE_SHA256_HEX], line[1024], out[4096];
	char *data, *text, *first, *second;
	unsigned long stored = 0, skipped = 0;
	mlde_cache cache;
	mlde_batch_stats st;
	mlde_batch *bt;
	mlde_error err;
	size_t len;

	mlde_error_clear(&err);
	mlde_cache_open(&cache, "cache", &err);
	mlde_window_cache_key(SERVER, a, strlen(a), ka);
	mlde_window_cache_key(SERVER, b, strlen(b), kb);
	mlde_window_cache_key(SERVER, c, strlen(c), kc);
	mlde_cache_put(&cache, kc, reply, strlen(reply), &err);

	bt = mlde_batch_new(&(mlde_batch_opts){ .server = SERVER, .cache = &cache,
						.check = mlde_reply_check_completion });
	TAP_IS_INT(mlde_batch_add(bt, a, strlen(a), &err), 0, "add a");
	TAP_IS_INT(mlde_batch_add(bt, b, strlen(b), &err), 0, "add b");
	TAP_IS_INT(mlde_batch_add(bt, a, strlen(a), &err), 0, "add a again");
	TAP_IS_INT(mlde_batch_add(bt, c, strlen(c), &err), 0, "add c, which the cache answers");
	TAP_IS_INT(mlde_batch_add(bt, "{\"x\":\n1}", 8, &err), -1, "a body with a newline: refused");
	TAP_IS_INT(mlde_batch_count(bt), 2, "two requests to send: a and b, once each");
	mlde_batch_stats_get(bt, &st);
	TAP_IS_INT(st.cached, 1, "one in the cache already");
	TAP_IS_INT(mlde_batch_write(bt, "in.jsonl", &err), 0, "write the input file");
	text = slurp("in.jsonl");
	first = strcmp(ka, kb) < 0 ? ka : kb;
	second = first == ka ? kb : ka;
	snprintf(out, sizeof out,
		 "{\"custom_id\":\"%s\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":%s}\n"
		 "{\"custom_id\":\"%s\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":%s}\n",
		 first, first == ka ? a : b, second, second == ka ? a : b);
	TAP_IS_STR(text, out, "two lines in key order, each body byte for byte");
	TAP_IS_INT(mlde_batch_write(bt, "no/such/dir/in.jsonl", &err), -1, "a file that cannot be made");
	TAP_IS_INT(err.status, MLDE_EXIT_IO, "... an I/O error: %s", err.msg);
	mlde_batch_free(bt);

	/* an output file: a reply, a failure, a stranger's id, a body refused */
	snprintf(out, sizeof out,
		 "{\"id\":\"r1\",\"custom_id\":\"%s\",\"response\":{\"status_code\":200,\"body\":%s},\"error\":null}\n"
		 "{\"id\":\"r2\",\"custom_id\":\"%s\",\"response\":{\"status_code\":500,\"body\":{}},\"error\":null}\n"
		 "\n"
		 "{\"id\":\"r3\",\"custom_id\":\"../../x\",\"response\":{\"status_code\":200,\"body\":%s}}\n"
		 "{\"id\":\"r4\",\"custom_id\":\"%s\",\"response\":{\"status_code\":200,\"body\":{\"choices\":[]}}}\n",
		 ka, reply, kb, reply, kb);
	spit("out.jsonl", out);
	TAP_IS_INT(mlde_batch_read(&cache, mlde_reply_check_completion, "out.jsonl", &stored,
				   &skipped, &err), 0, "read an output file");
	TAP_IS_INT(stored, 1, "one reply stored");
	TAP_IS_INT(skipped, 3, "three lines without one (a 500, no cache key, no completion)");
	TAP_IS_INT(mlde_cache_get(&cache, ka, &data, &len, &err), 1, "a's reply is in the cache");
	TAP_OK(data && mlde_reply_check_completion(data, len, line, sizeof line) == 0,
	       "... a completion");
	free(data);
	TAP_IS_INT(mlde_cache_get(&cache, kb, &data, &len, &err), 0, "b's is not");
	snprintf(out, sizeof out, "{\"custom_id\":\"%s\"}\nnot json\n", ka);
	spit("bad.jsonl", out);
	TAP_IS_INT(mlde_batch_read(&cache, NULL, "bad.jsonl", NULL, NULL, &err), -1,
		   "a line that is not JSON");
	TAP_IS_INT(err.status, MLDE_EXIT_DATA, "... bad input");
	TAP_IS_STR(err.msg, "bad.jsonl:2: not a JSON object", "... naming file and line");
	TAP_IS_INT(mlde_batch_read(&cache, NULL, "missing.jsonl", NULL, NULL, &err), -1,
		   "a missing file");
	TAP_IS_INT(err.status, MLDE_EXIT_IO, "... an I/O error");
	mlde_cache_close(&cache);
	return TAP_DONE();
}
