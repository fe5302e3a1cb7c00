/* mlde-prompt - Interactive Prompt Optimization: review generated items (a
 * person on a served page or the terminal, or a second model as judge),
 * each verdict appended at once to a review log; refine a prompt from the
 * reviewed failures through an LLM into its next version, with a
 * changelog and a diff the person accepts; score each version's
 * correctness with intervals, and show the lineage. */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/sha256.h"
#include "cli/cli.h"
#include "cli/cost.h"
#include "cli/endpoint.h"
#include "cli/pacing.h"
#include "cli/remote.h"
#include "eval/chat.h"
#include "gen/cache.h"
#include "gen/prompt.h"
#include "gen/reply.h"
#include "gen/request.h"
#include "gen/template.h"
#include "gen/window.h"
#include "io/image.h"
#include "io/jsonl.h"
#include "ipo/httpd.h"
#include "ipo/judge.h"
#include "ipo/page.h"
#include "ipo/review.h"
#include "ipo/score.h"
#include "ipo/version.h"
#include "record/record.h"
#include "world/worldreview.h"

#define SYNOPSIS "mlde-prompt review|judge|refine|score|log [OPTION]... [FILE]..."

static const char help[] =
	"Interactive Prompt Optimization of generation prompts.\n"
	"\n"
	"  mlde-prompt review [--serve [--port N] | --tty] [--images DIR]\n"
	"                     [--reviewer NAME] -o LOG ITEMS...\n"
	"      a person judges the items one at a time, on a page served on\n"
	"      127.0.0.1 (default) or in the terminal; each verdict is appended to\n"
	"      LOG at once, and a rerun resumes at the first unreviewed item\n"
	"  mlde-prompt judge [--images DIR] [--judge-prompt FILE] [ENDPOINT] -o LOG ITEMS...\n"
	"      a second model judges each item not yet judged in LOG\n"
	"  mlde-prompt judge --world PLANS -o LOG ITEMS...\n"
	"      the embedded world judges each item from its image's annotations\n"
	"  mlde-prompt refine --prompt FILE [--meta FILE] [--items FILE] [--yes]\n"
	"                     [--reply-file FILE | ENDPOINT] REVIEWS...\n"
	"      an LLM rewrites the prompt from its reviewed failures into the\n"
	"      next version beside it (NAME.vN.txt), after the person accepts\n"
	"  mlde-prompt score [--tsv] [--reviewer NAME] [--prompt-version V] REVIEWS...\n"
	"      correctness per prompt version and type, 95% Wilson intervals,\n"
	"      and each version against the one before it\n"
	"  mlde-prompt log --prompt FILE [REVIEWS...]\n"
	"      the lineage of the prompt's family, with correctness\n"
	"\n"
	"  --serve           review on a page served on 127.0.0.1 (default)\n"
	"  --port N          its port (default: any free one; the URL is told)\n"
	"  --tty             review in the terminal: text only\n"
	"  --images DIR      root of the items' image paths (default .)\n"
	"  --reviewer NAME   the reviewer's name (default $USER); score: only theirs\n"
	"  --judge-prompt FILE\n"
	"                    the judge's template (default: judge.txt of the prompts)\n"
	"  --world PLANS     judge: the world reviewer, from the plan records the items\n"
	"                    were made for (their query's annotations); nothing is sent\n"
	"  --types FILE      question-type explanations, $types in the templates\n"
	"                    (default: types.json beside the template)\n"
	"  --prompt FILE     the prompt version to refine, or one of its family (log)\n"
	"  --meta FILE       the refining template (default: refine.txt of the prompts)\n"
	"  --items FILE      the reviewed items, whose text goes with each failure\n"
	"  --yes             accept the new version without asking\n"
	"  --reply-file FILE refine: take the reply from FILE (one got from a chat\n"
	"                    window, or written by hand) rather than ask; nothing sent\n"
	"  --prompt-version V\n"
	"                    score: only prompt version V\n"
	"  --tsv             score: a table for people rather than JSON Lines\n"
	"  --cache DIR       reply cache (default $XDG_CACHE_HOME/mlde/replies)\n"
	"  --offline         send nothing: a reply missing from the cache is a failure\n"
	MLDE_ENDPOINT_HELP("gpt-4o", "0 (judge), 0.7 (refine)", "300 (judge), 4096 (refine)")
	"  --dry-run         judge, refine: render every request and send none: print\n"
	"                    their count, how many the reply cache holds, the estimated\n"
	"                    tokens and cost; refine writes no version\n"
	"  --prices FILE     the price table (default: prompts/prices.tsv)\n"
	"  --seed S          seed of the requests (default 1)\n"
	"  -o, --output FILE review, judge: the review log, appended to;\n"
	"                    score: write FILE (via FILE.tmp, renamed on success)\n"
	"  -Z, --plain       plain JSON Lines, not zstd (the default on a terminal)\n"
	"  -0 .. -19, --level N\n"
	"                    zstd level (default 3)\n"
	"  -q, --quiet       errors only\n"
	MLDE_HELP_VERBOSE
	"\n"
	"Exit status: 0 success, 1 bad input, 2 usage, 3 I/O error, 4 requests\n"
	"failed for good (see mlde(7)).\n";

enum { OPT_SERVE = MLDE_OPT_FIRST_PRIVATE, OPT_PORT, OPT_TTY, OPT_IMAGES, OPT_REVIEWER,
       OPT_JUDGE_PROMPT, OPT_TYPES, OPT_PROMPT, OPT_META, OPT_ITEMS, OPT_YES, OPT_VERSION_OF,
       OPT_TSV, OPT_SEED, OPT_WORLD, OPT_REPLY_FILE };

static const struct option longopts[] = {
	MLDE_COMMON_LONGOPTS,
	{ "serve", no_argument, 0, OPT_SERVE },
	{ "port", required_argument, 0, OPT_PORT },
	{ "tty", no_argument, 0, OPT_TTY },
	{ "images", required_argument, 0, OPT_IMAGES },
	{ "reviewer", required_argument, 0, OPT_REVIEWER },
	{ "judge-prompt", required_argument, 0, OPT_JUDGE_PROMPT },
	{ "types", required_argument, 0, OPT_TYPES },
	{ "prompt", required_argument, 0, OPT_PROMPT },
	{ "meta", required_argument, 0, OPT_META },
	{ "items", required_argument, 0, OPT_ITEMS },
	{ "yes", no_argument, 0, OPT_YES },
	{ "prompt-version", required_argument, 0, OPT_VERSION_OF },
	{ "tsv", no_argument, 0, OPT_TSV },
	{ "world", required_argument, 0, OPT_WORLD },
	{ "reply-file", required_argument, 0, OPT_REPLY_FILE },
	MLDE_ENDPOINT_LONGOPTS,
	MLDE_COST_LONGOPTS,
	{ "seed", required_argument, 0, OPT_SEED },
	{ 0, 0, 0, 0 },
};

enum command { CMD_REVIEW, CMD_JUDGE, CMD_REFINE, CMD_SCORE, CMD_LOG };

typedef struct options {
	enum command cmd;
	bool serve, tty, yes, tsv, temperature_set, max_tokens_set;
	long port;
	const char *images, *reviewer, *judge_prompt, *types, *prompt, *meta, *items, *version;
	const char *world;  /* judge: the plan records, for the world reviewer */
	const char *reply_file;  /* refine: the reply, got elsewhere; nothing sent */
	mlde_endpoint_opts http;
	mlde_cost_opts cost;  /* judge, refine: --dry-run, --prices */
	unsigned long long seed;
} options;

/* The items under review, in their order. */
typedef struct items {
	jv *rec;             /* each item record, owning what it[] points into */
	mlde_item *it;
	size_t n;
} items;

/* ---- items ---- */

static int find_item(const items *I, const char *id)
{
	for (size_t i = 0; i < I->n; i++)
		if (strcmp(I->it[i].id, id) == 0)
			return (int)i;
	return -1;
}

static int add_item(items *I, jv rec, const char *where, mlde_error *err)
{
	mlde_item it;

	if (mlde_item_check(rec, MLDE_ITEM_NEED_ANSWER, where, &it, err) < 0) {
		jv_free(rec);
		return -1;
	}
	if (!it.id || !*it.id) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'id': missing (a review names its item)",
			       where);
		jv_free(rec);
		return -1;
	}
	if (find_item(I, it.id) >= 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: item '%.200s' twice", where, it.id);
		jv_free(rec);
		return -1;
	}
	I->rec = mlde_xrealloc(I->rec, (I->n + 1) * sizeof *I->rec);
	I->it = mlde_xrealloc(I->it, (I->n + 1) * sizeof *I->it);
	I->rec[I->n] = rec;
	I->it[I->n++] = it;
	return 0;
}

static int load_items(items *I, char **files, int nfiles, mlde_error *err)
{
	for (int f = 0; f < nfiles; f++) {
		mlde_reader *r = mlde_reader_open(files[f], err);
		jv rec;
		int got;

		if (!r)
			return -1;
		while ((got = mlde_reader_next(r, &rec, err)) > 0) {
			char where[600];

			snprintf(where, sizeof where, "%s:%lu", mlde_reader_name(r), mlde_reader_lineno(r));
			if (add_item(I, rec, where, err) < 0) {
				got = -1;
				break;
			}
		}
		mlde_reader_close(r);
		if (got < 0)
			return -1;
	}
	return 0;
}

static void free_items(items *I)
{
	for (size_t i = 0; i < I->n; i++)
		jv_free(I->rec[i]);
	free(I->rec);
	free(I->it);
}

/* The review of item i by reviewer, built from the item. */
static mlde_ipo_review review_of(const items *I, size_t i, const char *reviewer, mlde_verdict v,
			     const char *reason)
{
	mlde_ipo_review r = {
		.item = I->it[i].id, .prompt_version = mlde_item_prompt_version(I->rec[i]),
		.prompt_sha256 = mlde_item_prompt_sha256(I->rec[i]), .type = I->it[i].type,
		.verdict = v, .reason = reason, .reviewer = reviewer,
	};
	return r;
}

/* The first item from start on (wrapping) without a verdict of reviewer
 * in the log, or -1. */
static long next_unreviewed(const items *I, const mlde_review_log *log, const char *reviewer,
			    size_t start)
{
	for (size_t k = 0; k < I->n; k++) {
		size_t i = (start + k) % I->n;

		if (!mlde_review_log_find(log, I->it[i].id, reviewer))
			return (long)i;
	}
	return -1;
}

static size_t reviewed_count(const items *I, const mlde_review_log *log, const char *reviewer)
{
	size_t n = 0;

	for (size_t i = 0; i < I->n; i++)
		n += mlde_review_log_find(log, I->it[i].id, reviewer) != NULL;
	return n;
}

/* The bytes of an item's image and their type: a file under root, or a
 * data: URI.  Malloc'd, or NULL with err. */
static unsigned char *image_bytes(const char *root, const char *ref, size_t *len,
				  const char **type, mlde_error *err)
{
	char *uri = mlde_image_data_uri(root, ref, (size_t)64 << 20, err);
	const char *comma;
	unsigned char *bytes;

	if (!uri)
		return NULL;
	comma = strchr(uri, ',');
	bytes = comma ? mlde_base64_decode(comma + 1, strlen(comma + 1), len) : NULL;
	free(uri);
	if (!bytes || !(*type = mlde_image_type(bytes, *len))) {
		free(bytes);
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: not an image of a known type", ref);
		return NULL;
	}
	return bytes;
}

/* ---- review in the terminal ---- */

static void print_item(const items *I, size_t i, const mlde_review_log *log,
		       const char *reviewer, const char *root)
{
	const mlde_item *it = &I->it[i];
	const char *version = mlde_item_prompt_version(I->rec[i]);
	const mlde_ipo_review *r = mlde_review_log_find(log, it->id, reviewer);

	printf("\n== item %zu of %zu (%zu reviewed): %s\n", i + 1, I->n,
	       reviewed_count(I, log, reviewer), it->id);
	printf("image: %s%s%s\n", strncmp(it->image, "data:", 5) == 0 ? "(a data: URI)" : root,
	       strncmp(it->image, "data:", 5) == 0 || !strcmp(root, ".") ? "" : "/",
	       strncmp(it->image, "data:", 5) == 0 ? "" : it->image);
	printf("type asked for: %s   prompt: %s\n", it->type ? it->type : "(none)",
	       version ? version : "(unknown)");
	printf("Q: %s\n", it->question);
	for (int k = 0; k < it->nopt; k++)
		printf("  (%c) %s%s\n", 'A' + k, it->options[k], k == it->answer ? "   <- marked answer" : "");
	if (it->rationale)
		printf("Rationale: %s\n", it->rationale);
	if (r)
		printf("verdict so far: %s%s%s\n", mlde_verdict_name(r->verdict), r->reason ? ": " : "",
		       r->reason ? r->reason : "");
	fflush(stdout);
}

/* A line of stdin without its newline, in buf; false at the end. */
static bool read_line(char *buf, size_t len)
{
	if (!fgets(buf, (int)len, stdin))
		return false;
	buf[strcspn(buf, "\r\n")] = '\0';
	return true;
}

/* typed as the reason: a number picks reason N of those seen so far */
static void pick_reason(const mlde_review_log *log, const char *typed, char *reason, size_t len)
{
	jv seen = mlde_review_log_reasons(log);
	int n = jv_array_length(jv_copy(seen));
	char *end;
	long k = strtol(typed, &end, 10);

	snprintf(reason, len, "%s", typed);
	if (*typed && !*end && k >= 1 && k <= n) {
		jv s = jv_array_get(jv_copy(seen), (int)k - 1);

		snprintf(reason, len, "%s", jv_string_value(s));
		jv_free(s);
	}
	jv_free(seen);
}

/* The reason of a wrong verdict, asked for: typed, or a number picking one
 * seen so far.  false at the end of input. */
static bool ask_reason(const mlde_review_log *log, char *reason, size_t len)
{
	jv seen = mlde_review_log_reasons(log);
	int n = jv_array_length(jv_copy(seen));

	for (;;) {
		char typed[1024];

		printf("reason");
		for (int i = 0; i < n; i++) {
			jv s = jv_array_get(jv_copy(seen), i);

			printf("%s%d) %s", i ? "  " : " (or a number: ", i + 1, jv_string_value(s));
			jv_free(s);
		}
		printf("%s: ", n ? ")" : "");
		fflush(stdout);
		if (!read_line(reason, len)) {
			jv_free(seen);
			return false;
		}
		snprintf(typed, sizeof typed, "%s", reason);
		pick_reason(log, typed, reason, len);
		if (*reason)
			break;
		printf("a wrong verdict needs a reason\n");
	}
	jv_free(seen);
	return true;
}

static int review_tty(const items *I, mlde_review_log *log, const options *o, mlde_error *err)
{
	long at = next_unreviewed(I, log, o->reviewer, 0);
	char line[1024], reason[1024];

	if (at < 0) {
		mlde_note(0, "every one of the %zu items has a verdict of %s in %s", I->n, o->reviewer,
			  mlde_review_log_path(log));
		return 0;
	}
	for (;;) {
		mlde_ipo_review r;
		int v = -1;

		print_item(I, (size_t)at, log, o->reviewer, o->images);
		printf("[y] correct  [n] wrong  [s] skip  [p] previous  [j] next  [q] quit: ");
		fflush(stdout);
		if (!read_line(line, sizeof line) || strcmp(line, "q") == 0)
			break;
		if (strcmp(line, "y") == 0)
			v = MLDE_IPO_CORRECT;
		else if (strcmp(line, "s") == 0)
			v = MLDE_IPO_SKIP;
		else if (line[0] == 'n' && (line[1] == '\0' || line[1] == ' ')) {
			/* "n why" gives the reason at once */
			if (line[1] == ' ' && line[2])
				pick_reason(log, line + 2, reason, sizeof reason);
			else if (!ask_reason(log, reason, sizeof reason))
				break;
			v = MLDE_IPO_WRONG;
		} else if (strcmp(line, "p") == 0) {
			at = at > 0 ? at - 1 : at;
			continue;
		} else if (strcmp(line, "j") == 0) {
			at = at + 1 < (long)I->n ? at + 1 : at;
			continue;
		} else {
			printf("y, n, s, p, j or q\n");
			continue;
		}
		r = review_of(I, (size_t)at, o->reviewer, (mlde_verdict)v,
			      v == MLDE_IPO_WRONG ? reason : NULL);
		if (mlde_review_log_append(log, &r, err) < 0)
			return -1;
		at = next_unreviewed(I, log, o->reviewer, (size_t)at + 1);
		if (at < 0) {
			printf("\nevery item has a verdict\n");
			break;
		}
	}
	mlde_note(0, "%zu of %zu items reviewed by %s, in %s", reviewed_count(I, log, o->reviewer),
		  I->n, o->reviewer, mlde_review_log_path(log));
	return 0;
}

/* ---- review on the served page ---- */

typedef struct server {
	const items *I;
	mlde_review_log *log;
	const options *o;
	bool quit;
	mlde_error err;      /* a log that cannot be written ends the review */
} server;

static void reply_json(mlde_httpd_resp *resp, int status, jv v)
{
	jv s = jv_dump_string(v, 0);

	resp->status = status;
	resp->body = mlde_xstrdup(jv_string_value(s));
	resp->len = strlen(resp->body);
	jv_free(s);
}

static void reply_error(mlde_httpd_resp *resp, int status, const char *msg)
{
	reply_json(resp, status, jv_object_set(jv_object(), jv_string("error"), jv_string(msg)));
}

/* The index in path after prefix ("/item/3"), or -1. */
static long path_index(const char *path, const char *prefix, size_t n)
{
	size_t plen = strlen(prefix);
	char *end;
	long i;

	if (strncmp(path, prefix, plen) != 0 || path[plen] < '0' || path[plen] > '9')
		return -1;
	i = strtol(path + plen, &end, 10);
	return *end || i < 0 || (size_t)i >= n ? -1 : i;
}

static jv state_json(const server *S)
{
	long first = next_unreviewed(S->I, S->log, S->o->reviewer, 0);
	jv o = jv_object();

	o = jv_object_set(o, jv_string("n"), jv_number((double)S->I->n));
	o = jv_object_set(o, jv_string("reviewed"),
			  jv_number((double)reviewed_count(S->I, S->log, S->o->reviewer)));
	o = jv_object_set(o, jv_string("first_unreviewed"), first < 0 ? jv_null() : jv_number((double)first));
	o = jv_object_set(o, jv_string("reasons"), mlde_review_log_reasons(S->log));
	o = jv_object_set(o, jv_string("log"), jv_string(mlde_review_log_path(S->log)));
	o = jv_object_set(o, jv_string("reviewer"), jv_string(S->o->reviewer));
	return o;
}

static jv item_json(const server *S, size_t i)
{
	const mlde_item *it = &S->I->it[i];
	const mlde_ipo_review *r = mlde_review_log_find(S->log, it->id, S->o->reviewer);
	const char *version = mlde_item_prompt_version(S->I->rec[i]);
	jv o = jv_object(), opts = jv_array(), rev = jv_null();

	for (int k = 0; k < it->nopt; k++)
		opts = jv_array_append(opts, jv_string(it->options[k]));
	if (r) {
		rev = jv_object_set(jv_object(), jv_string(MLDE_F_VERDICT),
				    jv_string(mlde_verdict_name(r->verdict)));
		rev = jv_object_set(rev, jv_string(MLDE_F_REASON), r->reason ? jv_string(r->reason) : jv_null());
	}
	o = jv_object_set(o, jv_string("index"), jv_number((double)i));
	o = jv_object_set(o, jv_string(MLDE_F_ID), jv_string(it->id));
	o = jv_object_set(o, jv_string("image_name"),
			  jv_string(strncmp(it->image, "data:", 5) == 0 ? "(data: URI)" : it->image));
	o = jv_object_set(o, jv_string(MLDE_F_QUESTION), jv_string(it->question));
	o = jv_object_set(o, jv_string(MLDE_F_OPTIONS), opts);
	o = jv_object_set(o, jv_string(MLDE_F_ANSWER), jv_number(it->answer));
	o = jv_object_set(o, jv_string(MLDE_F_RATIONALE), it->rationale ? jv_string(it->rationale) : jv_null());
	o = jv_object_set(o, jv_string(MLDE_F_TYPE), it->type ? jv_string(it->type) : jv_null());
	o = jv_object_set(o, jv_string(MLDE_F_PROMPT_VERSION), version ? jv_string(version) : jv_null());
	o = jv_object_set(o, jv_string("review"), rev);
	return o;
}

static void serve_image(const server *S, size_t i, mlde_httpd_resp *resp)
{
	mlde_error err;
	size_t len;
	const char *type;
	unsigned char *bytes;

	mlde_error_clear(&err);
	bytes = image_bytes(S->o->images, S->I->it[i].image, &len, &type, &err);
	if (!bytes) {
		reply_error(resp, 404, err.msg);
		return;
	}
	resp->status = 200;
	resp->type = type;
	resp->body = (char *)bytes;
	resp->len = len;
}

/* POST /verdict {"item": ID, "verdict": V, "reason": R} */
static void take_verdict(server *S, const mlde_httpd_req *req, mlde_httpd_resp *resp)
{
	jv body = jv_parse_sized(req->body, (int)req->body_len), id, verdict, reason;
	const char *rs = NULL;
	char msg[400];
	int i, v;

	if (jv_get_kind(body) != JV_KIND_OBJECT) {
		jv_free(body);
		reply_error(resp, 400, "the body must be a JSON object {item, verdict, reason}");
		return;
	}
	id = jv_object_get(jv_copy(body), jv_string(MLDE_F_ITEM));
	verdict = jv_object_get(jv_copy(body), jv_string(MLDE_F_VERDICT));
	reason = jv_object_get(jv_copy(body), jv_string(MLDE_F_REASON));
	jv_free(body);
	if (jv_get_kind(reason) == JV_KIND_STRING && *jv_string_value(reason))
		rs = jv_string_value(reason);
	if (jv_get_kind(id) != JV_KIND_STRING || (i = find_item(S->I, jv_string_value(id))) < 0) {
		snprintf(msg, sizeof msg, "no item '%.200s' under review",
			 jv_get_kind(id) == JV_KIND_STRING ? jv_string_value(id) : "(not a string)");
		reply_error(resp, 400, msg);
	} else if (jv_get_kind(verdict) != JV_KIND_STRING ||
		   (v = mlde_verdict_parse(jv_string_value(verdict))) < 0 || v == MLDE_IPO_CANNOT) {
		reply_error(resp, 400, "verdict: not one of correct, wrong, skip");
	} else if (v == MLDE_IPO_WRONG && !rs) {
		reply_error(resp, 400, "a wrong verdict needs a reason");
	} else {
		mlde_ipo_review r = review_of(S->I, (size_t)i, S->o->reviewer, (mlde_verdict)v,
					  v == MLDE_IPO_WRONG ? rs : NULL);

		if (mlde_review_log_append(S->log, &r, &S->err) < 0) {
			reply_error(resp, 500, S->err.msg);
			S->quit = true;
		} else {
			long next = next_unreviewed(S->I, S->log, S->o->reviewer, (size_t)i + 1);
			jv st = state_json(S);

			mlde_note(1, "%s: %s%s%s", r.item, mlde_verdict_name(r.verdict),
				  r.reason ? ": " : "", r.reason ? r.reason : "");
			st = jv_object_set(st, jv_string("ok"), jv_true());
			st = jv_object_set(st, jv_string("next"), next < 0 ? jv_null() : jv_number((double)next));
			reply_json(resp, 200, st);
		}
	}
	jv_free(id);
	jv_free(verdict);
	jv_free(reason);
}

static void handle(void *ctx, const mlde_httpd_req *req, mlde_httpd_resp *resp)
{
	server *S = ctx;
	bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
	long i;

	if (get && strcmp(req->path, "/") == 0) {
		resp->type = "text/html; charset=utf-8";
		resp->body = mlde_xstrdup(mlde_review_page);
		resp->len = strlen(resp->body);
	} else if (get && strcmp(req->path, "/state") == 0) {
		reply_json(resp, 200, state_json(S));
	} else if (get && (i = path_index(req->path, "/item/", S->I->n)) >= 0) {
		reply_json(resp, 200, item_json(S, (size_t)i));
	} else if (get && (i = path_index(req->path, "/image/", S->I->n)) >= 0) {
		serve_image(S, (size_t)i, resp);
	} else if (post && strcmp(req->path, "/verdict") == 0) {
		take_verdict(S, req, resp);
	} else if (post && strcmp(req->path, "/quit") == 0) {
		S->quit = true;
		reply_json(resp, 200, jv_object_set(jv_object(), jv_string("ok"), jv_true()));
	} else if (!get && !post) {
		reply_error(resp, 405, "GET or POST only");
	} else {
		reply_error(resp, 404, "no such page");
	}
}

static int review_serve(const items *I, mlde_review_log *log, const options *o, mlde_error *err)
{
	server S = { .I = I, .log = log, .o = o };
	mlde_httpd *h = mlde_httpd_open((int)o->port, err);
	int rc = 0;

	if (!h)
		return -1;
	mlde_error_clear(&S.err);
	/* the one line a person (or a test) needs: where to point the browser */
	fprintf(stderr, "%s: review page at http://127.0.0.1:%d/ (%zu items, %zu reviewed); "
		"q on the page or Ctrl-C ends\n", mlde_prog, mlde_httpd_port(h), I->n,
		reviewed_count(I, log, o->reviewer));
	fflush(stderr);
	while (!S.quit && rc == 0)
		if (mlde_httpd_poll(h, 500, handle, &S, err) < 0)
			rc = -1;
	/* the answer to /quit is written before the socket closes */
	for (int k = 0; k < 4 && rc == 0; k++)
		mlde_httpd_poll(h, 20, handle, &S, err);
	mlde_httpd_free(h);
	if (rc == 0 && S.err.status) {
		*err = S.err;
		rc = -1;
	}
	if (rc == 0)
		mlde_note(0, "%zu of %zu items reviewed by %s, in %s", reviewed_count(I, log, o->reviewer),
			  I->n, o->reviewer, mlde_review_log_path(log));
	return rc;
}

/* ---- the request window, for judge and refine ---- */

typedef struct asker {
	mlde_cache cache;
	mlde_window *win;          /* NULL in a dry run */
	mlde_remote_causes causes;
	unsigned long failed;
	mlde_usage_sum usage;      /* of the replies, the reply cache's apart */
	mlde_dry dry;              /* --dry-run: what would be sent */
	char *server;              /* --dry-run: the cache key's server */
} asker;

/* Send body, or (--dry-run) count it. */
static int ask_body(asker *A, const char *body, size_t len, double tokens, void *user,
		    mlde_error *err)
{
	if (!A->win)
		return mlde_dry_add(&A->dry, A->server, body, len, err);
	return mlde_window_submit(A->win, body, len, tokens, NULL, user, err);
}

/* The summary's words for what the requests took. */
static void note_usage(const asker *A, const char *what)
{
	mlde_buf b = { 0 };
	mlde_window_stats st = { 0 };

	mlde_window_stats_get(A->win, &st);
	mlde_buf_printf(&b, "%s sent %lu (%lu retries, %lu throttled), from cache %lu; ", what,
			st.http.attempts, st.http.retries, st.http.throttled, st.from_cache);
	mlde_usage_format(&A->usage, &b);
	mlde_note(0, "%s", b.p);
	mlde_buf_free(&b);
}

static int open_asker(asker *A, const options *o, const mlde_endpoint *ep, mlde_error *err)
{
	mlde_window_opts wo = { .cap = 256, .check = mlde_reply_check_completion };
	mlde_http_opts ho = { .url = ep->url, .auth = ep->auth, .parallel = (int)o->http.jobs,
			      .rpm = o->http.rpm, .tpm = o->http.tpm,
			      .retries = (int)o->http.retries, .timeout = o->http.timeout,
			      .backoff = o->http.backoff, .backoff_max = 60.0, .seed = o->seed };
	char *dir = o->http.cache ? mlde_xstrdup(o->http.cache) : mlde_cache_default_dir();
	char *url = mlde_endpoint_url(o->http.base_url, "/chat/completions");
	int rc = mlde_cache_open(&A->cache, dir, err);

	free(dir);
	if (rc == 0 && o->cost.dry_run) {
		mlde_dry_init(&A->dry, &A->cache);
		A->server = url;
		return 0;
	}
	if (rc == 0) {
		wo.cache = &A->cache;
		wo.server = url;
		wo.http = ep->url ? &ho : NULL;
		A->win = mlde_window_new(&wo, err);
		rc = A->win ? 0 : -1;
	}
	free(url);
	return rc;
}

static void close_asker(asker *A)
{
	mlde_window_free(A->win);
	mlde_cache_close(&A->cache);
	mlde_dry_free(&A->dry);
	free(A->server);
	mlde_remote_causes_free(&A->causes);
}

/* The reply text of a finished request, new; or invalid after a failure
 * (counted). */
static jv reply_text(asker *A, mlde_window_done *d, const char *what)
{
	jv body, text;
	char why[200];

	if (!d->ok) {
		A->failed++;
		mlde_remote_count(&A->causes, strcmp(d->reason, MLDE_WINDOW_NOT_CACHED) == 0
				  ? "no reply in the cache, and --offline sends nothing" : d->error);
		mlde_note(1, "%s: request failed: %s", what, d->error);
		return jv_invalid();
	}
	body = jv_parse_sized(d->reply, (int)d->reply_len);
	{
		mlde_usage u = mlde_usage_of_reply(body);

		mlde_usage_add(&A->usage, &u, d->cached);
	}
	if (mlde_reply_completion_text(body, &text, NULL, NULL, why, sizeof why) < 0) {
		A->failed++;
		mlde_remote_count(&A->causes, why);
		text = jv_invalid();
	}
	jv_free(body);
	return text;
}

/* The directory of the default prompts, for judge.txt and refine.txt. */
static char *default_prompt_file(const char *name)
{
	char *def = mlde_prompt_default_path(), *dir = dirname(def);
	mlde_buf b = { 0 };

	mlde_buf_printf(&b, "%s/%s", dir, name);
	free(def);
	return mlde_buf_take(&b, NULL);
}

/* ---- judge ---- */

typedef struct judging {
	const items *I;
	mlde_review_log *log;
	char reviewer[300];
	unsigned long correct, wrong, unreadable, already;
} judging;

static int judge_one(judging *J, asker *A, mlde_window_done *d, mlde_error *err)
{
	size_t i = (size_t)(uintptr_t)d->user;
	jv text = reply_text(A, d, J->I->it[i].id);
	char reason[600], why[200];
	mlde_verdict v;
	mlde_ipo_review r;

	free(d->reply);
	if (!jv_is_valid(text))
		return 0;  /* no record: a rerun asks again */
	if (mlde_judge_reply(jv_string_value(text), &v, reason, sizeof reason, why, sizeof why) < 0) {
		/* recorded as a skip, with why: the same request gets the same
		 * cached reply, so asking again would change nothing */
		v = MLDE_IPO_SKIP;
		snprintf(reason, sizeof reason, "unreadable judge reply: %s", why);
		J->unreadable++;
	} else {
		v == MLDE_IPO_CORRECT ? J->correct++ : J->wrong++;
	}
	jv_free(text);
	r = review_of(J->I, i, J->reviewer, v, reason);
	return mlde_review_log_append(J->log, &r, err);
}

static int judge(const items *I, mlde_review_log *log, const options *o, const mlde_endpoint *ep,
		 mlde_error *err)
{
	judging J = { .I = I, .log = log };
	mlde_chat_opts co = { .model = o->http.model, .temperature = o->http.temperature,
			      .max_tokens = o->http.max_tokens, .extra = jv_invalid() };
	char *path = o->judge_prompt ? mlde_xstrdup(o->judge_prompt) : default_prompt_file("judge.txt");
	mlde_prompt tpl = { 0 };
	asker A = { 0 };
	size_t next = 0;
	int rc;

	snprintf(J.reviewer, sizeof J.reviewer, "judge:%s", o->http.model);
	rc = mlde_prompt_load(&tpl, path, o->types, err);
	free(path);
	if (rc == 0)
		rc = open_asker(&A, o, ep, err);
	while (rc == 0 && (next < I->n || (A.win && mlde_window_held(A.win) > 0))) {
		mlde_window_done d;
		int got;

		while (rc == 0 && next < I->n && (!A.win || mlde_window_room(A.win) > 0)) {
			size_t i = next++, len, tlen;
			char *text, *body, *uri;

			/* a dry run with no log yet: nothing judged before */
			if (log && mlde_review_log_find(log, I->it[i].id, J.reviewer)) {
				J.already++;
				continue;
			}
			if (!(text = mlde_template_render(tpl.tpl, I->rec[i], &tlen, err)) ||
			    !(uri = mlde_image_data_uri(o->images, I->it[i].image, (size_t)64 << 20, err))) {
				free(text);
				rc = -1;
				break;
			}
			body = mlde_chat_question_body(&co, uri, text, &len);
			rc = ask_body(&A, body, len, (double)len / 4.0 + (double)co.max_tokens,
				      (void *)(uintptr_t)i, err);
			free(body);
			free(uri);
			free(text);
		}
		if (rc < 0 || !A.win)
			break;
		got = mlde_window_next(A.win, 100, &d, err);
		if (got < 0 && err->status == MLDE_EXIT_REMOTE)
			mlde_remote_fatal(err, o->http.base_url, d.status);
		if (got < 0 || (got > 0 && judge_one(&J, &A, &d, err) < 0))
			rc = -1;
	}
	if (rc == 0 && !A.win) {
		rc = mlde_cli_dry_report(&A.dry, &o->cost, err);
	} else if (rc == 0) {
		note_usage(&A, "judge:");
		mlde_note(0, "%zu items: judged %lu correct, %lu wrong, %lu unreadable (kept as skip), "
			  "%lu failed, %lu judged before, in %s", I->n, J.correct, J.wrong, J.unreadable,
			  A.failed, J.already, mlde_review_log_path(log));
		mlde_cli_note_pacing(NULL, A.win);
		if (A.failed) {
			mlde_warn("%lu request%s failed for good: a rerun asks again", A.failed,
				  A.failed == 1 ? "" : "s");
			mlde_remote_report(&A.causes);
			rc = 1;
		}
	}
	close_asker(&A);
	mlde_prompt_free(&tpl);
	return rc;
}

/* The world reviewer: each item judged from the annotations of the plan
 * it was made for (its provenance.plan in PLANS); an item whose plan is
 * not there is cannot-judge (not-a-world-scene). */
static int judge_world(const items *I, mlde_review_log *log, const char *plans_path,
		       mlde_error *err)
{
	mlde_reader *r = mlde_reader_open(plans_path, err);
	jv plans = jv_object(), rec;
	unsigned long n[3] = { 0 }, already = 0;
	int got;

	if (!r)
		return -1;
	while ((got = mlde_reader_next(r, &rec, err)) > 0) {
		jv id = jv_object_get(jv_copy(rec), jv_string(MLDE_F_ID));

		if (jv_get_kind(id) == JV_KIND_STRING)
			plans = jv_object_set(plans, id, rec);
		else
			jv_free(id), jv_free(rec);
	}
	mlde_reader_close(r);
	/* its verdicts are made again in no time: one sync for them all */
	mlde_review_log_sync_at_end(log);
	for (size_t i = 0; i < I->n && got == 0; i++) {
		const char *pid = NULL;
		jv prov = jv_object_get(jv_copy(I->rec[i]), jv_string(MLDE_F_PROVENANCE)), plan;
		mlde_world_verdict rv;
		mlde_ipo_review ir;
		int v;

		if (mlde_review_log_find(log, I->it[i].id, MLDE_REVIEWER_WORLD)) {
			already++;
			jv_free(prov);
			continue;
		}
		if (jv_get_kind(prov) == JV_KIND_OBJECT) {
			jv p = jv_object_get(jv_copy(prov), jv_string(MLDE_F_PLAN));

			pid = jv_get_kind(p) == JV_KIND_STRING ? jv_string_value(p) : NULL;
			jv_free(p);  /* prov holds it */
		}
		plan = pid ? jv_object_get(jv_copy(plans), jv_string(pid)) : jv_null();
		jv_free(prov);
		if (!jv_is_valid(plan))
			plan = jv_null();
		v = mlde_world_review_plan(I->rec[i], plan, &rv);
		jv_free(plan);
		n[v]++;
		ir = review_of(I, i, MLDE_REVIEWER_WORLD,
			       v == 0 ? MLDE_IPO_CORRECT : v == 1 ? MLDE_IPO_WRONG : MLDE_IPO_CANNOT,
			       v == 0 ? NULL : rv.reason);
		if (mlde_review_log_append(log, &ir, err) < 0)
			got = -1;
	}
	jv_free(plans);
	if (got == 0 && mlde_review_log_sync(log, err) < 0)
		got = -1;
	if (got == 0)
		mlde_note(0, "%zu items: the world judged %lu correct, %lu wrong, %lu it cannot judge, "
			  "%lu judged before, in %s", I->n, n[0], n[1], n[2], already,
			  mlde_review_log_path(log));
	return got;
}

/* ---- refine ---- */

/* The review records of FILES (latest per item and reviewer), as one array. */
static int read_reviews(char **files, int nfiles, jv *recs, mlde_error *err)
{
	*recs = jv_array();
	for (int f = 0; f < nfiles; f++) {
		jv more;

		if (mlde_review_read(files[f], &more, err) < 0) {
			jv_free(*recs);
			*recs = jv_invalid();
			return -1;
		}
		jv_array_foreach(more, i, rec)
			*recs = jv_array_append(*recs, rec);
		jv_free(more);
	}
	return 0;
}

static const char *str_of(jv rec, const char *key)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(key));
	const char *s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;

	jv_free(v);  /* rec holds it */
	return s;
}

/* Is record i of recs the last one of its item and reviewer? */
static bool last_of_its_item(jv recs, int i, int n)
{
	jv a = jv_array_get(jv_copy(recs), i);
	bool last = true;

	for (int j = i + 1; j < n && last; j++) {
		jv b = jv_array_get(jv_copy(recs), j);

		last = strcmp(str_of(a, MLDE_F_ITEM), str_of(b, MLDE_F_ITEM)) != 0 ||
		       strcmp(str_of(a, MLDE_F_REVIEWER), str_of(b, MLDE_F_REVIEWER)) != 0;
		jv_free(b);
	}
	jv_free(a);
	return last;
}

/* The record the meta-prompt is rendered against: version, prompt,
 * reviewed, wrong, reasons [{reason, n}] (most frequent first), failures
 * [{id, type, reason, and the item's question, options, answer,
 * rationale when --items gave it}]. */
static int refine_input(jv recs, const char *version, const char *text, const items *I,
			jv *out, mlde_error *err)
{
	int n = jv_array_length(jv_copy(recs));
	unsigned long reviewed = 0;
	jv failures = jv_array(), counts = jv_object(), reasons = jv_array();

	for (int i = 0; i < n; i++) {
		jv r = jv_array_get(jv_copy(recs), i);
		const char *v = str_of(r, MLDE_F_PROMPT_VERSION), *verdict = str_of(r, MLDE_F_VERDICT);

		if (!v || strcmp(v, version) != 0 || strcmp(verdict, "skip") == 0 ||
		    !last_of_its_item(recs, i, n)) {
			jv_free(r);
			continue;
		}
		reviewed++;
		if (strcmp(verdict, "wrong") == 0) {
			const char *id = str_of(r, MLDE_F_ITEM), *reason = str_of(r, MLDE_F_REASON);
			jv f = jv_object_set(jv_object(), jv_string(MLDE_F_ID), jv_string(id));
			jv c = jv_object_get(jv_copy(counts), jv_string(reason));

			counts = jv_object_set(counts, jv_string(reason),
					       jv_number(jv_get_kind(c) == JV_KIND_NUMBER ? jv_number_value(c) + 1 : 1));
			jv_free(c);
			if (I->n) {
				int k = find_item(I, id);

				if (k < 0) {
					mlde_error_set(err, MLDE_EXIT_DATA,
						       "a review of unknown item '%.200s' (not in --items)", id);
					jv_free(f);
					jv_free(r);
					jv_free(failures);
					jv_free(counts);
					jv_free(reasons);
					return -1;
				}
				f = jv_object_merge(jv_copy(I->rec[k]), f);
			}
			f = jv_object_set(f, jv_string(MLDE_F_TYPE), jv_object_get(jv_copy(r), jv_string(MLDE_F_TYPE)));
			f = jv_object_set(f, jv_string(MLDE_F_REASON), jv_string(reason));
			f = jv_object_delete(f, jv_string(MLDE_F_PROVENANCE));
			failures = jv_array_append(failures, f);
		}
		jv_free(r);
	}
	{
		jv keys = jv_array();

		/* most frequent first, ties in name order: sorted by [-n, reason] */
		jv_object_foreach(counts, k, c) {
			keys = jv_array_append(keys, jv_array_append(jv_array_append(jv_array(),
					       jv_number(-jv_number_value(c))), jv_copy(k)));
			reasons = jv_array_append(reasons, jv_object_set(jv_object_set(jv_object(),
						  jv_string("reason"), k), jv_string("n"), c));
		}
		reasons = jv_sort(reasons, keys);
	}
	jv_free(counts);
	*out = jv_object();
	*out = jv_object_set(*out, jv_string("version"), jv_string(version));
	*out = jv_object_set(*out, jv_string("prompt"), jv_string(text));
	*out = jv_object_set(*out, jv_string("reviewed"), jv_number((double)reviewed));
	*out = jv_object_set(*out, jv_string("wrong"), jv_number(jv_array_length(jv_copy(failures))));
	*out = jv_object_set(*out, jv_string("reasons"), reasons);
	*out = jv_object_set(*out, jv_string("failures"), failures);
	return 0;
}

static char *read_text(const char *path, mlde_error *err)
{
	FILE *f = fopen(path, "rb");
	mlde_buf b = { 0 };
	char chunk[65536];
	size_t n;

	if (!f) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		mlde_buf_add(&b, chunk, n);
	if (ferror(f)) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: read error: %s", path, strerror(errno));
		fclose(f);
		mlde_buf_free(&b);
		return NULL;
	}
	fclose(f);
	return mlde_buf_take(&b, NULL);
}

/* The reply of the one refining request: its text, new, or -1 with err. */
static int ask_once(const options *o, const mlde_endpoint *ep, const char *text, jv *reply,
		    mlde_error *err)
{
	size_t len;
	char *body = mlde_request_chat(o->http.model, text, o->http.temperature, o->http.max_tokens,
				       mlde_request_seed("refine", o->seed), &len);
	asker A = { 0 };
	int rc = open_asker(&A, o, ep, err), got = 0;
	mlde_window_done d;

	if (rc == 0)
		rc = ask_body(&A, body, len, (double)len / 4.0 + (double)o->http.max_tokens, NULL, err);
	free(body);
	if (rc == 0 && !A.win) {
		/* --dry-run: counted; 1 says there is no reply to go on with */
		rc = mlde_cli_dry_report(&A.dry, &o->cost, err) < 0 ? -1 : 1;
		close_asker(&A);
		return rc;
	}
	while (rc == 0 && (got = mlde_window_next(A.win, 200, &d, err)) == 0)
		;
	if (got < 0) {
		if (err->status == MLDE_EXIT_REMOTE)
			mlde_remote_fatal(err, o->http.base_url, d.status);
		rc = -1;
	}
	if (rc == 0) {
		*reply = reply_text(&A, &d, "refine");
		free(d.reply);
		note_usage(&A, "refine:");
		if (!jv_is_valid(*reply)) {
			mlde_error_set(err, MLDE_EXIT_REMOTE, "the refining request failed: %s",
				       A.causes.n ? A.causes.v[0].what : "no usable reply");
			rc = -1;
		}
	}
	close_asker(&A);
	return rc;
}

/* Ask the person whether to use the new version: 1 accept, 0 no; edits
 * happen in place on *text (through $VISUAL or $EDITOR on a copy).  -1 with
 * err at the end of input. */
static int accept_or_edit(const char *dir, const char *version, const char *old_path,
			  const char *old, char **text, mlde_error *err)
{
	char line[64], edit[4200];

	snprintf(edit, sizeof edit, "%s/.%s.edit.txt", dir, version);
	for (;;) {
		fprintf(stderr, "%s: use %s? [y]es, [e]dit, [n]o: ", mlde_prog, version);
		fflush(stderr);
		if (!read_line(line, sizeof line)) {
			mlde_error_set(err, MLDE_EXIT_DATA, "no answer, so %s is not written "
				       "(--yes accepts without asking)", version);
			return -1;
		}
		if (strcmp(line, "y") == 0 || strcmp(line, "yes") == 0)
			return 1;
		if (strcmp(line, "n") == 0 || strcmp(line, "no") == 0)
			return 0;
		if (strcmp(line, "e") == 0) {
			const char *ed = getenv("VISUAL") && *getenv("VISUAL") ? getenv("VISUAL")
				: getenv("EDITOR") && *getenv("EDITOR") ? getenv("EDITOR") : "vi";
			mlde_buf cmd = { 0 };
			FILE *f = fopen(edit, "w");
			char *diff, *back;
			int st;

			if (!f || fputs(*text, f) == EOF || fclose(f) == EOF) {
				mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", edit, strerror(errno));
				return -1;
			}
			mlde_buf_printf(&cmd, "%s '%s'", ed, edit);
			st = system(cmd.p);
			mlde_buf_free(&cmd);
			back = read_text(edit, err);
			unlink(edit);
			if (!back)
				return -1;
			if (st != 0)
				mlde_warn("the editor exited with status %d; its text is shown", st);
			free(*text);
			*text = back;
			diff = mlde_text_diff(old_path, old, version, *text);
			fputs(diff, stdout);
			fflush(stdout);
			free(diff);
		}
	}
}

/* "reason (n), reason (n), ..." of the first few reasons (borrowed). */
static char *reason_summary(jv reasons)
{
	mlde_buf b = { 0 };

	jv_array_foreach(reasons, i, r) {
		jv reason = jv_object_get(jv_copy(r), jv_string("reason"));
		jv n = jv_object_get(r, jv_string("n"));

		if (i < 3)
			mlde_buf_printf(&b, "%s%s (%.0f)", i ? ", " : "", jv_string_value(reason),
					jv_number_value(n));
		else if (i == 3)
			mlde_buf_adds(&b, ", ...");
		jv_free(reason);
		jv_free(n);
	}
	return mlde_buf_take(&b, NULL);
}

/* Write the accepted version, its diff and its lineage record. */
static int write_version(const char *dir, const char *family, const char *version,
			 const char *parent, const char *text, const char *diff, jv input,
			 const char *changes, mlde_error *err)
{
	char *path = mlde_version_path(dir, version), *lineage = mlde_lineage_path(dir, family);
	char sha[MLDE_SHA256_HEX], now[32], *base;
	mlde_buf dpath = { 0 };
	jv rec;
	int rc;

	mlde_buf_printf(&dpath, "%s/%s.diff", dir, version);
	mlde_sha256_hex(text, strlen(text), sha);
	mlde_review_now(now);
	rc = mlde_version_create(path, text, strlen(text), err);
	if (rc == 0)
		rc = mlde_version_create(dpath.p, diff, strlen(diff), err);
	if (rc == 0) {
		base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		rec = jv_object_set(jv_object(), jv_string("version"), jv_string(version));
		rec = jv_object_set(rec, jv_string("parent"), jv_string(parent));
		rec = jv_object_set(rec, jv_string("date"), jv_string(now));
		rec = jv_object_set(rec, jv_string("file"), jv_string(base));
		rec = jv_object_set(rec, jv_string("sha256"), jv_string(sha));
		rec = jv_object_set(rec, jv_string("reviews"), jv_object_get(jv_copy(input), jv_string("reviewed")));
		rec = jv_object_set(rec, jv_string("failures"), jv_object_get(jv_copy(input), jv_string("wrong")));
		rec = jv_object_set(rec, jv_string("reasons"), jv_object_get(jv_copy(input), jv_string("reasons")));
		rec = jv_object_set(rec, jv_string("changes"), changes ? jv_string(changes) : jv_null());
		rc = mlde_lineage_append(lineage, rec, err);
	}
	if (rc == 0)
		mlde_note(0, "wrote %s (version %s, from %s), %s.diff, and its entry in %s; "
			  "use it with mlde-gen --prompt %s", path, version, parent, version, lineage, path);
	free(path);
	free(lineage);
	mlde_buf_free(&dpath);
	return rc;
}

static int refine(const options *o, const mlde_endpoint *ep, char **files, int nfiles,
		  mlde_error *err)
{
	char *old = NULL, *meta_path = NULL, *text = NULL, *prompt = NULL, *changes = NULL;
	char *copy = mlde_xstrdup(o->prompt), *base = basename(copy), *dir, *diff = NULL;
	char *version = mlde_xstrdup(base), family[256], why[200], *next = NULL;
	mlde_prompt meta = { 0 };
	items I = { 0 };
	jv recs = jv_invalid(), input = jv_invalid(), reply = jv_invalid();
	char *items_file[1] = { (char *)o->items };
	long num, highest;
	size_t len;
	int rc = 0;

	if (strlen(version) > 4 && strcmp(version + strlen(version) - 4, ".txt") == 0)
		version[strlen(version) - 4] = '\0';
	free(copy);
	copy = mlde_xstrdup(o->prompt);
	dir = dirname(copy);
	mlde_version_split(version, family, sizeof family, &num);
	if (!(old = read_text(o->prompt, err)))
		rc = -1;
	if (rc == 0 && o->items)
		rc = load_items(&I, items_file, 1, err);
	if (rc == 0)
		rc = read_reviews(files, nfiles, &recs, err);
	if (rc == 0)
		rc = refine_input(recs, version, old, &I, &input, err);
	if (rc == 0) {
		jv w = jv_object_get(jv_copy(input), jv_string("wrong"));
		jv n = jv_object_get(jv_copy(input), jv_string("reviewed"));

		if (jv_number_value(n) == 0) {
			mlde_error_set(err, MLDE_EXIT_DATA, "no review of version '%s' in the review records",
				       version);
			rc = -1;
		} else if (jv_number_value(w) == 0) {
			mlde_error_set(err, MLDE_EXIT_DATA, "version '%s': %.0f reviewed, none wrong: "
				       "nothing to refine from", version, jv_number_value(n));
			rc = -1;
		}
		jv_free(w);
		jv_free(n);
	}
	meta_path = o->meta ? mlde_xstrdup(o->meta) : default_prompt_file("refine.txt");
	if (rc == 0)
		rc = mlde_prompt_load(&meta, meta_path, o->types, err);
	if (rc == 0 && !(text = mlde_template_render(meta.tpl, input, &len, err)))
		rc = -1;
	if (rc == 0 && o->reply_file) {
		char *got = read_text(o->reply_file, err);

		rc = got ? 0 : -1;
		if (got)
			reply = jv_string(got);
		free(got);
	} else if (rc == 0) {
		/* 1 after --dry-run: the steps below, all under rc == 0, are skipped */
		rc = ask_once(o, ep, text, &reply, err);
	}
	if (rc == 0 && mlde_refine_reply(jv_string_value(reply), &prompt, &changes, why, sizeof why) < 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "the refining reply: %s; it begins: %.120s", why,
			       jv_string_value(reply));
		rc = -1;
	}
	if (rc == 0) {
		/* the new version must still be a template mlde-gen can use */
		mlde_template *t = mlde_template_new("the new prompt", prompt, strlen(prompt),
						     jv_object_set(jv_object(), jv_string("types"),
								   jv_object()), err);

		rc = t ? 0 : -1;
		mlde_template_free(t);
	}
	if (rc == 0)
		rc = mlde_version_highest(dir, family, &highest, err);
	if (rc == 0) {
		next = mlde_version_name(family, highest + 1);
		if (changes)
			printf("Changelog of %s (from %s):\n%s\n\n", next, version, changes);
		diff = mlde_text_diff(o->prompt, old, next, prompt);
		fputs(*diff ? diff : "(the reply is the same prompt)\n", stdout);
		fflush(stdout);
		int yes = o->yes ? 1 : accept_or_edit(dir, next, o->prompt, old, &prompt, err);

		if (yes < 0)
			rc = -1;
		else if (yes == 0)
			mlde_note(0, "%s not accepted: nothing written", next);
		else {
			free(diff);
			diff = mlde_text_diff(o->prompt, old, next, prompt);
			rc = write_version(dir, family, next, version, prompt, diff, input, changes, err);
		}
	}
	free(next);
	free(diff);
	free(prompt);
	free(changes);
	free(text);
	free(meta_path);
	mlde_prompt_free(&meta);
	free(old);
	free(copy);
	free(version);
	free_items(&I);
	jv_free(recs);
	jv_free(input);
	jv_free(reply);
	return rc > 0 ? 0 : rc;  /* 1: a dry run, done */
}

/* ---- score and log ---- */

/* The score of the version before s's (same family, number - 1), same type. */
static const mlde_score *before(const mlde_scores *S, const mlde_score *s, char **name)
{
	char family[256];
	long num;

	mlde_version_split(s->version, family, sizeof family, &num);
	*name = NULL;
	if (num == 0)
		return NULL;
	*name = mlde_version_name(family, num - 1);
	return mlde_scores_find(S, *name, s->type);
}

static jv score_record(const mlde_scores *S, const mlde_score *s)
{
	jv o = jv_object();
	const mlde_score *p;
	char *pname;

	o = jv_object_set(o, jv_string(MLDE_F_PROMPT_VERSION), jv_string(s->version));
	o = jv_object_set(o, jv_string(MLDE_F_TYPE), jv_string(s->type));
	o = jv_object_set(o, jv_string(MLDE_F_N), jv_number((double)s->n));
	o = jv_object_set(o, jv_string(MLDE_F_CORRECT), jv_number((double)s->correct));
	o = jv_object_set(o, jv_string("wrong"), jv_number((double)s->wrong));
	o = jv_object_set(o, jv_string("skipped"), jv_number((double)s->skipped));
	o = jv_object_set(o, jv_string(MLDE_F_ACC), s->n ? jv_number(s->acc) : jv_null());
	o = jv_object_set(o, jv_string(MLDE_F_LO), jv_number(s->lo));
	o = jv_object_set(o, jv_string(MLDE_F_HI), jv_number(s->hi));
	p = before(S, s, &pname);
	if (p && p->n && s->n) {
		double lo, hi;

		mlde_newcombe(s->correct, s->n, p->correct, p->n, &lo, &hi);
		o = jv_object_set(o, jv_string("vs"), jv_string(pname));
		o = jv_object_set(o, jv_string("diff"), jv_number(s->acc - p->acc));
		o = jv_object_set(o, jv_string("diff_lo"), jv_number(lo));
		o = jv_object_set(o, jv_string("diff_hi"), jv_number(hi));
		o = jv_object_set(o, jv_string("better"), jv_bool(lo > 0.0));
		o = jv_object_set(o, jv_string("worse"), jv_bool(hi < 0.0));
	}
	free(pname);
	return o;
}

static int score_tsv_row(mlde_writer *w, const mlde_scores *S, const mlde_score *s, mlde_error *err)
{
	const mlde_score *p;
	char *pname, acc[16] = "NA";
	int rc;

	if (s->n)
		snprintf(acc, sizeof acc, "%.4f", s->acc);
	rc = mlde_writer_printf(w, err, "%s\t%s\t%lu\t%lu\t%lu\t%s\t%.4f\t%.4f", s->version, s->type,
				s->n, s->correct, s->skipped, acc, s->lo, s->hi);
	p = before(S, s, &pname);
	if (rc == 0 && p && p->n && s->n) {
		double lo, hi;

		mlde_newcombe(s->correct, s->n, p->correct, p->n, &lo, &hi);
		rc = mlde_writer_printf(w, err, "\t%s\t%+.4f\t%+.4f\t%+.4f\t%s\n", pname, s->acc - p->acc,
					lo, hi, lo > 0 ? "better" : hi < 0 ? "worse" : "within noise");
	} else if (rc == 0) {
		rc = mlde_writer_printf(w, err, "\t-\tNA\tNA\tNA\t-\n");
	}
	free(pname);
	return rc;
}

static int score(const options *o, const mlde_cli *cli, char **files, int nfiles, mlde_error *err)
{
	mlde_scores S = { 0 };
	mlde_output out = mlde_cli_output(cli);
	mlde_writer *w = NULL;
	jv recs;
	int rc = read_reviews(files, nfiles, &recs, err);

	if (rc < 0)
		return -1;
	mlde_scores_count(&S, recs, o->reviewer);
	jv_free(recs);
	if (o->version && !mlde_scores_find(&S, o->version, "all")) {
		mlde_error_set(err, MLDE_EXIT_DATA, "no review of prompt version '%s'%s%s", o->version,
			       o->reviewer ? " by " : "", o->reviewer ? o->reviewer : "");
		mlde_scores_free(&S);
		return -1;
	}
	if (o->tsv)
		out.plain = 1;
	if (!(w = mlde_writer_open(&out, err)))
		rc = -1;
	if (rc == 0 && o->tsv)
		rc = mlde_writer_printf(w, err, "version\ttype\tn\tcorrect\tskipped\tacc\tlo\thi\t"
					"vs\tdiff\tdiff_lo\tdiff_hi\tchange\n");
	for (size_t i = 0; i < S.n && rc == 0; i++) {
		const mlde_score *s = &S.v[i];

		if (o->version && strcmp(s->version, o->version) != 0)
			continue;
		rc = o->tsv ? score_tsv_row(w, &S, s, err) : mlde_writer_put(w, score_record(&S, s), err);
	}
	if (rc == 0) {
		rc = mlde_writer_close(w, err);
		w = NULL;
	}
	if (w)
		mlde_writer_abort(w);
	if (rc == 0)
		for (size_t i = 0; i < S.n; i++)
			if (strcmp(S.v[i].type, "all") == 0)
				mlde_note(0, "%s: %lu of %lu correct (%.1f%%, 95%% [%.1f, %.1f])", S.v[i].version,
					  S.v[i].correct, S.v[i].n, 100.0 * (S.v[i].n ? S.v[i].acc : 0.0),
					  100.0 * S.v[i].lo, 100.0 * S.v[i].hi);
	mlde_scores_free(&S);
	return rc;
}

static void log_row(const mlde_scores *S, const char *version, const char *parent,
		    const char *date, const char *reasons)
{
	const mlde_score *s = mlde_scores_find(S, version, "all");

	printf("%s\t%s\t%s\t%s\t", version, parent, date, reasons && *reasons ? reasons : "-");
	if (s && s->n)
		printf("%.4f [%.4f, %.4f] of %lu\n", s->acc, s->lo, s->hi, s->n);
	else
		printf("-\n");
}

static int show_log(const options *o, char **files, int nfiles, mlde_error *err)
{
	char *copy = mlde_xstrdup(o->prompt), *base = mlde_xstrdup(basename(copy)), *dir;
	char family[256], *lineage, *root;
	mlde_scores S = { 0 };
	jv recs = jv_invalid(), lin;
	long num;
	int rc = 0;

	if (strlen(base) > 4 && strcmp(base + strlen(base) - 4, ".txt") == 0)
		base[strlen(base) - 4] = '\0';
	free(copy);
	copy = mlde_xstrdup(o->prompt);
	dir = dirname(copy);
	mlde_version_split(base, family, sizeof family, &num);
	lineage = mlde_lineage_path(dir, family);
	root = mlde_version_path(dir, family);
	if (access(o->prompt, F_OK) < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s (no such prompt version)", o->prompt,
			       strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		rc = read_reviews(files, nfiles, &recs, err);
	if (rc == 0)
		rc = mlde_lineage_read(lineage, &lin, err);
	if (rc == 0) {
		mlde_scores_count(&S, recs, o->reviewer);
		printf("version\tparent\tdate\tfrom the reasons\tcorrect\n");
		if (access(root, F_OK) == 0)
			log_row(&S, family, "-", "-", NULL);
		jv_array_foreach(lin, i, rec) {
			jv reasons = jv_object_get(jv_copy(rec), jv_string("reasons"));
			char *sum = jv_get_kind(reasons) == JV_KIND_ARRAY ? reason_summary(reasons)
				    : mlde_xstrdup("");
			const char *v = str_of(rec, "version"), *p = str_of(rec, "parent"),
				   *d = str_of(rec, "date");

			log_row(&S, v ? v : "?", p ? p : "?", d ? d : "?", sum);
			free(sum);
			jv_free(reasons);
			jv_free(rec);
		}
		jv_free(lin);
		if (fflush(stdout) == EOF || ferror(stdout)) {
			mlde_error_set(err, MLDE_EXIT_IO, "write error: %s", strerror(errno));
			err->pipe_closed = errno == EPIPE;
			rc = -1;
		}
	}
	mlde_scores_free(&S);
	jv_free(recs);
	free(lineage);
	free(root);
	free(copy);
	free(base);
	return rc;
}

/* ---- main ---- */

static void parse_options(mlde_cli *cli, int *argc, char **argv, options *opt)
{
	static const char shortopts[] = MLDE_COMMON_SHORTOPTS MLDE_ENDPOINT_SHORTOPTS;
	int c;

	mlde_cli_init(cli, "mlde-prompt", argc, argv, shortopts, longopts);
	while ((c = getopt_long(*argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == MLDE_OPT_TEMPERATURE)
			opt->temperature_set = true;
		if (c == MLDE_OPT_MAX_TOKENS)
			opt->max_tokens_set = true;
		if (mlde_cli_common(cli, c, optarg) || mlde_endpoint_option(cli, &opt->http, c, optarg) ||
		    mlde_cost_option(&opt->cost, c, optarg))
			continue;
		switch (c) {
		case OPT_SERVE: opt->serve = true; break;
		case OPT_PORT: opt->port = mlde_cli_long(cli, "--port", optarg, 0, 65535); break;
		case OPT_TTY: opt->tty = true; break;
		case OPT_IMAGES: opt->images = optarg; break;
		case OPT_REVIEWER: opt->reviewer = optarg; break;
		case OPT_JUDGE_PROMPT: opt->judge_prompt = optarg; break;
		case OPT_TYPES: opt->types = optarg; break;
		case OPT_PROMPT: opt->prompt = optarg; break;
		case OPT_META: opt->meta = optarg; break;
		case OPT_ITEMS: opt->items = optarg; break;
		case OPT_YES: opt->yes = true; break;
		case OPT_VERSION_OF: opt->version = optarg; break;
		case OPT_TSV: opt->tsv = true; break;
		case OPT_WORLD: opt->world = optarg; break;
		case OPT_REPLY_FILE: opt->reply_file = optarg; break;
		case OPT_SEED:
			opt->seed = (unsigned long long)mlde_cli_long(cli, "--seed", optarg, 0, 2147483647L);
			break;
		default:
			mlde_cli_usage_error(cli, "unhandled option");
		}
	}
}

/* The command word, and what it needs of the command line. */
static void check_command(const mlde_cli *cli, options *o, int nfiles, const char *word)
{
	static const char *const names[] = { "review", "judge", "refine", "score", "log" };
	int k;

	if (!word)
		mlde_cli_usage_error(cli, "a command is needed: review, judge, refine, score or log");
	for (k = 0; k < 5 && strcmp(word, names[k]) != 0; k++)
		;
	if (k == 5)
		mlde_cli_usage_error(cli, "'%s' is not one of review, judge, refine, score, log", word);
	o->cmd = (enum command)k;
	if (o->serve && o->tty)
		mlde_cli_usage_error(cli, "--serve and --tty: one or the other");
	if (o->reply_file && o->cmd != CMD_REFINE)
		mlde_cli_usage_error(cli, "--reply-file is an option of refine");
	if (o->world && o->cmd != CMD_JUDGE)
		mlde_cli_usage_error(cli, "--world is an option of judge");
	if (o->cost.dry_run && ((o->cmd != CMD_JUDGE && o->cmd != CMD_REFINE) || o->world ||
				o->reply_file))
		mlde_cli_usage_error(cli, "--dry-run is an option of judge and refine that send");
	if ((o->serve || o->tty || o->port) && o->cmd != CMD_REVIEW)
		mlde_cli_usage_error(cli, "--serve, --tty and --port are options of review");
	if ((o->cmd == CMD_REVIEW || o->cmd == CMD_JUDGE) && (!cli->out.path || !strcmp(cli->out.path, "-")))
		mlde_cli_usage_error(cli, "%s needs -o LOG, the review log to append to", word);
	if ((o->cmd == CMD_REFINE || o->cmd == CMD_LOG) && !o->prompt)
		mlde_cli_usage_error(cli, "%s needs --prompt FILE", word);
	if (o->cmd != CMD_LOG && nfiles == 0)
		mlde_cli_usage_error(cli, "%s needs %s files", word,
				     o->cmd == CMD_REVIEW || o->cmd == CMD_JUDGE ? "item" : "review");
	if (o->cmd == CMD_REVIEW && !o->tty)
		o->serve = true;
	if (!o->temperature_set)
		o->http.temperature = o->cmd == CMD_REFINE ? 0.7 : 0.0;
	if (!o->max_tokens_set)
		o->http.max_tokens = o->cmd == CMD_REFINE ? 4096 : 300;
}

int main(int argc, char **argv)
{
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	options opt = { .seed = 1, .images = ".", .http = MLDE_ENDPOINT_DEFAULTS("gpt-4o", 0.0, 300) };
	mlde_endpoint ep = { 0 };
	mlde_review_log *log = NULL;
	items I = { 0 };
	char **files;
	int nfiles, rc = 0;
	mlde_error err;

	parse_options(&cli, &argc, argv, &opt);
	files = argv + optind + 1;
	nfiles = optind < argc ? argc - optind - 1 : 0;
	check_command(&cli, &opt, nfiles, optind < argc ? argv[optind] : NULL);
	if (opt.cmd == CMD_REVIEW && !opt.reviewer)
		opt.reviewer = getenv("USER") && *getenv("USER") ? getenv("USER") : "anonymous";
	mlde_endpoint_default_url(&opt.http);
	opt.http.jobs = mlde_cli_endpoint_open(&ep, &cli, &opt.http,
					       (opt.cmd == CMD_JUDGE || opt.cmd == CMD_REFINE) &&
					       !opt.http.offline && !opt.world && !opt.reply_file &&
					       !opt.cost.dry_run, 1);

	mlde_error_clear(&err);
	switch (opt.cmd) {
	case CMD_REVIEW:
	case CMD_JUDGE:
		rc = load_items(&I, files, nfiles, &err);
		/* a dry run makes no log: it reads one that is there */
		if (rc == 0 && (!opt.cost.dry_run || access(cli.out.path, F_OK) == 0) &&
		    !(log = mlde_review_log_open(cli.out.path, &err)))
			rc = -1;
		if (rc == 0)
			rc = opt.cmd == CMD_JUDGE && opt.world ? judge_world(&I, log, opt.world, &err)
			     : opt.cmd == CMD_JUDGE ? judge(&I, log, &opt, &ep, &err)
			     : opt.tty ? review_tty(&I, log, &opt, &err) : review_serve(&I, log, &opt, &err);
		break;
	case CMD_REFINE:
		rc = refine(&opt, &ep, files, nfiles, &err);
		break;
	case CMD_SCORE:
		rc = score(&opt, &cli, files, nfiles, &err);
		break;
	case CMD_LOG:
		rc = show_log(&opt, files, nfiles, &err);
		break;
	}
	mlde_endpoint_free(&ep);
	mlde_review_log_close(log);
	free_items(&I);
	if (rc == 0 && (fflush(stdout) == EOF || ferror(stdout))) {
		mlde_error_set(&err, MLDE_EXIT_IO, "write error: %s", strerror(errno));
		err.pipe_closed = errno == EPIPE;
		rc = -1;
	}
	if (rc < 0)
		mlde_die_error(&err);  /* quietly 0 when the reader of stdout went away */
	return rc > 0 ? MLDE_EXIT_REMOTE : MLDE_EXIT_OK;
}
