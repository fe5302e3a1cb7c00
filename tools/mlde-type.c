/* mlde-type - the typing pre-step for questions without a type (A-OKVQA, a
 * user's own set), as the original pipeline did with GPT-4: items in, the
 * same items out with "type" set from the types file's names (and
 * "type_source": "llm").  Questions are sent in batches, one prompt (a
 * {{ jq }} template) per batch, through the request window (cache, resume,
 * retries, rate limits); each reply is parsed strictly, and a question it
 * does not type exactly once with a listed type becomes a reject record.
 * Items that have a type pass through untouched, in input order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "cli/cost.h"
#include "cli/endpoint.h"
#include "cli/pacing.h"
#include "cli/progress.h"
#include "cli/remote.h"
#include "cli/sink.h"
#include "gen/cache.h"
#include "gen/prompt.h"
#include "gen/reply.h"
#include "gen/request.h"
#include "gen/window.h"
#include "io/jsonl.h"
#include "record/record.h"

#define SYNOPSIS "mlde-type [-qvZ] [-o FILE] [-LEVEL] [--batch N] [--retype] " \
	"[--emit prompt|item] [--prompt FILE] [--types FILE] [--rejects FILE] " \
	"[--cache DIR] [--offline] [--base-url URL] [--model NAME] [--temperature T] " \
	"[--max-tokens N] [--api-key-file FILE] [-j N] [--rpm N] [--tpm N] [--retries N] " \
	"[--timeout S] [--backoff S] [--dry-run] [--prices FILE] [--seed S] [--progress] [FILE...]"

#define DEFAULT_BATCH 20
#define BATCH_MAX 200

static const char help[] =
	"Read items (FILE, or stdin) and write them in the same order, each item\n"
	"without a type given one by an LLM (\"type\" one of the types file's names,\n"
	"\"type_source\": \"llm\").  Questions are asked --batch at a time; the reply\n"
	"must be one line \"N<TAB>TYPE\" per question of the batch.  A question it\n"
	"does not type exactly once with a listed type, and the questions of a\n"
	"request that failed for good, go to --rejects instead:\n"
	"items read = items written + rejected + failed.\n"
	"\n"
	"  --batch N         questions per request (default " MLDE_STR(DEFAULT_BATCH) ", at most "
		MLDE_STR(BATCH_MAX) ")\n"
	"  --retype          ask for items that have a type too (else they pass\n"
	"                    through untouched, nothing asked)\n"
	"  --emit E          item (default) or prompt (each batch's prompt; nothing\n"
	"                    is sent)\n"
	"  --prompt FILE     the template (default: prompts/typing.txt beside the\n"
	"                    default prompt of mlde-gen, or $MLDE_PROMPTS/typing.txt)\n"
	"  --types FILE      the types, $types in the template and the names a reply\n"
	"                    may give (default: types.json beside the template)\n"
	"  --rejects FILE    write reject records {plan: ITEM ID, reason, detail, raw,\n"
	"                    request_sha256} to FILE\n"
	"  --cache DIR       reply cache (default $XDG_CACHE_HOME/mlde/replies)\n"
	"  --offline         send nothing: a reply missing from the cache is a failure\n"
	MLDE_ENDPOINT_HELP("gpt-4o", "0", "1024")
	MLDE_COST_HELP
	"  --seed S          seed of the requests (default 1)\n"
	"  --progress        progress on stderr even when it is not a terminal\n"
	MLDE_HELP_OUTPUT
	"  -q, --quiet       errors only\n"
	MLDE_HELP_VERBOSE
	"\n"
	"Exit status: 0 success, 1 bad input or template, 2 usage, 3 I/O error,\n"
	"4 requests failed for good (see mlde(7)).\n";

/* Why a question was not typed (the reject records' "reason"). */
#define REJECT_NOT_TYPED "not-typed"        /* no line of the reply for it */
#define REJECT_UNKNOWN_TYPE "unknown-type"  /* its line names a type not listed */
#define REJECT_TYPED_TWICE "typed-twice"    /* more than one line for it */

/* The value of "type_source" on the items typed here. */
#define TYPE_SOURCE "llm"

enum { OPT_BATCH = MLDE_OPT_FIRST_PRIVATE, OPT_RETYPE, OPT_EMIT, OPT_PROMPT, OPT_TYPES,
       OPT_REJECTS, OPT_SEED, OPT_PROGRESS };

static const struct option longopts[] = {
	MLDE_COMMON_LONGOPTS,
	{ "batch", required_argument, 0, OPT_BATCH },
	{ "retype", no_argument, 0, OPT_RETYPE },
	{ "emit", required_argument, 0, OPT_EMIT },
	{ "prompt", required_argument, 0, OPT_PROMPT },
	{ "types", required_argument, 0, OPT_TYPES },
	{ "rejects", required_argument, 0, OPT_REJECTS },
	MLDE_ENDPOINT_LONGOPTS,
	MLDE_COST_LONGOPTS,
	{ "seed", required_argument, 0, OPT_SEED },
	{ "progress", no_argument, 0, OPT_PROGRESS },
	{ 0, 0, 0, 0 },
};

typedef struct options {
	long batch;
	bool retype, emit_prompt, progress;
	const char *prompt, *types, *rejects;
	mlde_endpoint_opts http;
	mlde_cost_opts cost;      /* --dry-run, --prices */
	unsigned long long seed;
} options;

/* A run of items in input order, ending with the last question of one
 * request (or, at the end, with items that need none): the user pointer of
 * its request, from submission until its items are written. */
typedef struct group {
	jv items;            /* array, every item of the run */
	int *asked;          /* indexes into items of the questions asked, in */
	int nasked;          /* prompt order: question N is asked[N - 1] */
	char sha[MLDE_SHA256_HEX];  /* of the request body */
} group;

typedef struct run {
	options *opt;
	mlde_prompt prompt;
	mlde_cache cache;
	mlde_window *win;     /* NULL for --emit prompt */
	group *cur;           /* the run being filled */
	unsigned long read, typed, passed, rejected, failed, requests, prompts;
	unsigned long stray;  /* reply lines that are no "N<TAB>TYPE" */
	mlde_usage_sum usage;     /* of the replies, the reply cache's apart */
	/* the usage of the request whose items are being written: on the
	 * first record of them only (type_usage), so a sum counts it once */
	mlde_usage batch_usage;
	mlde_dry dry;             /* --dry-run: what would be sent */
	char *server;             /* --dry-run: the cache key's server */
	mlde_remote_causes causes;
	bool eof;
	double t0;
	mlde_progress bar;
	mlde_sink *out, *rej;
} run;

/* ---- groups ---- */

static group *group_new(void)
{
	group *g = mlde_xmalloc(sizeof *g);

	memset(g, 0, sizeof *g);
	g->items = jv_array();
	return g;
}

static void release(void *user)
{
	group *g = user;

	if (!g)
		return;
	jv_free(g->items);
	free(g->asked);
	free(g);
}

static bool has_type(jv item)
{
	jv t = jv_object_get(jv_copy(item), jv_string(MLDE_F_TYPE));
	bool has = jv_get_kind(t) == JV_KIND_STRING && jv_string_value(t)[0];

	jv_free(t);
	return has;
}

/* The id of item (borrowed), malloc'd; "" when it has none. */
static char *item_id(jv item)
{
	jv v = jv_object_get(jv_copy(item), jv_string(MLDE_F_ID));
	char *s = mlde_xstrdup(jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "");

	jv_free(v);
	return s;
}

static int output_error(const run *R, mlde_error *err)
{
	return mlde_sink_error(R->out, err) < 0 || mlde_sink_error(R->rej, err) < 0 ? -1 : 0;
}

/* The record the template sees: {"questions": [{n, id, question, options}]}. */
static jv prompt_record(const group *g)
{
	jv qs = jv_array();

	for (int i = 0; i < g->nasked; i++) {
		jv it = jv_array_get(jv_copy(g->items), g->asked[i]);
		jv q = jv_object_set(jv_object(), jv_string("n"), jv_number(i + 1));

		q = jv_object_set(q, jv_string(MLDE_F_ID),
				  jv_object_get(jv_copy(it), jv_string(MLDE_F_ID)));
		q = jv_object_set(q, jv_string(MLDE_F_QUESTION),
				  jv_object_get(jv_copy(it), jv_string(MLDE_F_QUESTION)));
		q = jv_object_set(q, jv_string(MLDE_F_OPTIONS),
				  jv_object_get(it, jv_string(MLDE_F_OPTIONS)));
		qs = jv_array_append(qs, q);
	}
	return jv_object_set(jv_object(), jv_string("questions"), qs);
}

static void put_prompt(run *R, const group *g, const char *prompt)
{
	jv ids = jv_array(), rec;

	for (int i = 0; i < g->nasked; i++) {
		jv it = jv_array_get(jv_copy(g->items), g->asked[i]);
		ids = jv_array_append(ids, jv_object_get(it, jv_string(MLDE_F_ID)));
	}
	rec = jv_object_set(jv_object(), jv_string("ids"), ids);
	rec = jv_object_set(rec, jv_string(MLDE_F_PROMPT), jv_string(prompt));
	rec = jv_object_set(rec, jv_string(MLDE_F_PROMPT_SHA256), jv_string(R->prompt.sha256));
	rec = jv_object_set(rec, jv_string(MLDE_F_REQUEST_SHA256), jv_string(g->sha));
	mlde_sink_put(R->out, rec);
	R->prompts++;
}

/* Render the prompt of R->cur and submit it (or write it, --emit prompt);
 * a new group is begun either way. */
static int submit(run *R, mlde_error *err)
{
	const options *o = R->opt;
	group *g = R->cur;
	mlde_error terr;
	jv rec = prompt_record(g);
	jv head = jv_array_get(jv_copy(g->items), g->asked[0]);
	char *prompt, *body, *first = item_id(head);
	size_t plen, len;
	int rc = 0;

	R->cur = group_new();
	mlde_error_clear(&terr);
	prompt = mlde_template_render(R->prompt.tpl, rec, &plen, &terr);
	jv_free(rec);
	jv_free(head);
	if (!prompt) {
		mlde_error_set(err, MLDE_EXIT_DATA, "batch of item %s: %.700s", first, terr.msg);
		free(first);
		release(g);
		return -1;
	}
	body = mlde_request_chat(o->http.model, prompt, o->http.temperature, o->http.max_tokens,
				 mlde_request_seed(first, o->seed), &len);
	free(first);
	R->requests++;
	if (o->cost.dry_run) {
		rc = mlde_dry_add(&R->dry, R->server, body, len, err);
		release(g);
	} else if (o->emit_prompt) {
		mlde_sha256_hex(body, len, g->sha);
		put_prompt(R, g, prompt);
		release(g);
		rc = output_error(R, err);
	} else if (mlde_window_submit(R->win, body, len,
				      (double)len / 4.0 + (double)o->http.max_tokens, NULL, g,
				      err) < 0) {
		release(g);
		rc = -1;
	}
	free(prompt);
	free(body);
	return rc;
}

/* The items of a group that were not asked about, and --emit prompt's
 * nothing: written as they came. */
static void put_passed(run *R, jv item)
{
	R->passed++;
	if (R->opt->emit_prompt || R->opt->cost.dry_run)
		jv_free(item);
	else
		mlde_sink_put(R->out, item);
}

/* Write a group that asks nothing (items that all have a type). */
static int flush_unasked(run *R, mlde_error *err)
{
	group *g = R->cur;
	int n = jv_array_length(jv_copy(g->items));

	for (int i = 0; i < n; i++)
		put_passed(R, jv_array_get(jv_copy(g->items), i));
	release(g);
	R->cur = group_new();
	return output_error(R, err);
}

/* Take in one item (consumed). */
static int admit(run *R, const mlde_reader *r, jv item, mlde_error *err)
{
	char at[600];
	mlde_item it;
	int n;

	snprintf(at, sizeof at, "%s:%lu", mlde_reader_name(r), mlde_reader_lineno(r));
	if (mlde_item_check(item, 0, at, &it, err) < 0) {
		jv_free(item);
		return -1;
	}
	if (!it.id || !*it.id) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'id': %s", at,
			       it.id ? "empty" : "missing (a reject names its item by it)");
		jv_free(item);
		return -1;
	}
	n = jv_array_length(jv_copy(R->cur->items));
	if (R->opt->retype || !has_type(item)) {
		R->cur->asked = mlde_xrealloc(R->cur->asked,
					      (size_t)(R->cur->nasked + 1) * sizeof *R->cur->asked);
		R->cur->asked[R->cur->nasked++] = n;
	}
	R->cur->items = jv_array_append(R->cur->items, item);
	if (R->cur->nasked == R->opt->batch)
		return submit(R, err);
	/* typed items need not wait for a request when none is ahead */
	if (R->cur->nasked == 0 && (!R->win || mlde_window_held(R->win) == 0))
		return flush_unasked(R, err);
	return 0;
}

/* ---- the reply ---- */

/* What the reply said of each question of a group. */
typedef struct verdict {
	int lines;           /* lines naming it */
	const char *type;    /* the last one's type, pointing into the text */
	size_t type_len;
	bool known;          /* ... one of the types file's names */
} verdict;

static bool known_type(const run *R, const char *name, size_t len)
{
	char *s = mlde_xmalloc(len + 1);
	bool known;

	memcpy(s, name, len);
	s[len] = '\0';
	known = jv_object_has(jv_copy(R->prompt.types), jv_string(s));
	free(s);
	return known;
}

/* Parse text strictly: every line, blanks and a CR at its ends aside, is
 * N, a tab, and a type name, N from 1 to n; blank lines are skipped, any
 * other line is stray (counted, and naming no question). */
static void parse_reply(run *R, const char *text, int n, verdict *v, unsigned long *stray)
{
	const char *p = text;

	while (*p) {
		const char *end = strchr(p, '\n'), *q, *tab;
		long num = 0;

		if (!end)
			end = p + strlen(p);
		q = end;
		while (p < q && (*p == ' ' || *p == '\r'))
			p++;
		while (q > p && (q[-1] == ' ' || q[-1] == '\r'))
			q--;
		if (p < q) {
			for (tab = p; tab < q && *tab >= '0' && *tab <= '9' && num <= n; tab++)
				num = num * 10 + (*tab - '0');
			if (tab == p || *p == '0' || tab == q || *tab != '\t' || num < 1 || num > n ||
			    tab + 1 == q || memchr(tab + 1, '\t', (size_t)(q - tab - 1))) {
				(*stray)++;
			} else {
				verdict *w = &v[num - 1];

				w->lines++;
				w->type = tab + 1;
				w->type_len = (size_t)(q - tab - 1);
				w->known = known_type(R, w->type, w->type_len);
			}
		}
		p = *end ? end + 1 : end;
	}
}

/* rec (consumed) with the batch's usage, when it is the first to have it. */
static jv with_batch_usage(run *R, jv rec, const char *field)
{
	if (R->batch_usage.known)
		rec = jv_object_set(rec, jv_string(field), mlde_usage_json(&R->batch_usage));
	R->batch_usage.known = false;
	return rec;
}

static void put_reject(run *R, jv item, const group *g, const char *reason, const char *detail,
		       jv raw)
{
	char *id = item_id(item);

	jv_free(item);
	R->rejected++;
	if (R->rej)
		mlde_sink_put(R->rej, with_batch_usage(R, mlde_reject_record(id, reason, detail, raw,
									     g->sha), MLDE_F_USAGE));
	else
		jv_free(raw);
	free(id);
}

/* Write the items of a group whose reply is text. */
static void put_typed(run *R, const group *g, const char *text, jv raw)
{
	verdict *v = mlde_xmalloc((size_t)g->nasked * sizeof *v);
	unsigned long stray = 0;
	int n = jv_array_length(jv_copy(g->items)), k = 0;
	char detail[300];

	memset(v, 0, (size_t)g->nasked * sizeof *v);
	parse_reply(R, text, g->nasked, v, &stray);
	R->stray += stray;
	for (int i = 0; i < n; i++) {
		jv item = jv_array_get(jv_copy(g->items), i);
		const verdict *w;

		if (k >= g->nasked || g->asked[k] != i) {
			put_passed(R, item);
			continue;
		}
		w = &v[k++];
		if (w->lines == 1 && w->known) {
			jv type = jv_string_sized(w->type, (int)w->type_len);

			item = jv_object_set(item, jv_string(MLDE_F_TYPE), type);
			item = jv_object_set(item, jv_string("type_source"), jv_string(TYPE_SOURCE));
			item = with_batch_usage(R, item, "type_usage");
			R->typed++;
			mlde_sink_put(R->out, item);
		} else if (w->lines > 1) {
			snprintf(detail, sizeof detail, "question %d of the batch: %d lines name it", k,
				 w->lines);
			put_reject(R, item, g, REJECT_TYPED_TWICE, detail, jv_copy(raw));
		} else if (w->lines == 1) {
			snprintf(detail, sizeof detail, "question %d of the batch: '%.*s' is not a "
				 "type of %s", k, (int)(w->type_len > 100 ? 100 : w->type_len), w->type,
				 R->prompt.types_path);
			put_reject(R, item, g, REJECT_UNKNOWN_TYPE, detail, jv_copy(raw));
		} else {
			snprintf(detail, sizeof detail, "question %d of the batch: no line \"%d<TAB>TYPE\" "
				 "in the reply (%lu other lines)", k, k, stray);
			put_reject(R, item, g, REJECT_NOT_TYPED, detail, jv_copy(raw));
		}
	}
	jv_free(raw);
	free(v);
}

static int emit(run *R, mlde_window_done *d, mlde_error *err)
{
	group *g = d->user;
	jv body, text;
	char why[200];

	memcpy(g->sha, d->key, sizeof g->sha);
	if (d->cache_unusable)
		mlde_warn("cache entry %s unusable (%s): asking again", d->cache_key, d->cache_why);
	R->batch_usage = (mlde_usage){ 0 };  /* none of an earlier request's */
	if (d->ok) {
		body = jv_parse_sized(d->reply, (int)d->reply_len);
		/* replies are checked before they are stored or used: this holds */
		R->batch_usage = mlde_usage_of_reply(body);
		mlde_usage_add(&R->usage, &R->batch_usage, d->cached);
		if (mlde_reply_completion_text(body, &text, NULL, NULL, why, sizeof why) == 0) {
			put_typed(R, g, jv_string_value(text), jv_copy(text));
			jv_free(text);
		} else {
			d->ok = false;
			d->reason = MLDE_WINDOW_FAILED;
			snprintf(d->error, sizeof d->error, "%s", why);
		}
		jv_free(body);
	}
	if (!d->ok) {
		const char *cause = strcmp(d->reason, MLDE_WINDOW_NOT_CACHED) == 0
			? "no reply in the cache, and --offline sends nothing" : d->error;
		int n = jv_array_length(jv_copy(g->items));

		mlde_remote_count(&R->causes, cause);
		for (int i = 0, k = 0; i < n; i++) {
			jv item = jv_array_get(jv_copy(g->items), i);

			if (k < g->nasked && g->asked[k] == i) {
				k++;
				put_reject(R, item, g, d->reason, cause, jv_null());
				R->rejected--;
				R->failed++;
			} else {
				put_passed(R, item);
			}
		}
	}
	free(d->reply);
	release(g);
	return output_error(R, err);
}

/* ---- progress and summary ---- */

static void progress(run *R)
{
	mlde_window_stats st = { 0 };

	if (!mlde_progress_due(&R->bar))
		return;
	if (R->win)
		mlde_window_stats_get(R->win, &st);
	mlde_progress_draw(&R->bar, "%lu items read, %lu typed, %lu in flight, %lu retries, "
			   "%lu failed", R->read, R->typed, st.http.in_flight, st.http.retries,
			   R->failed);
}

static void summary(const run *R)
{
	mlde_window_stats st = { 0 };
	mlde_buf b = { 0 };

	if (mlde_verbosity < 0)
		return;
	if (R->opt->emit_prompt) {
		mlde_note(0, "%lu items read: %lu batch prompts", R->read, R->prompts);
		return;
	}
	mlde_window_stats_get(R->win, &st);
	mlde_buf_printf(&b, "%lu items = %lu typed + %lu passed through + %lu rejected + %lu failed; "
			"%lu requests: sent %lu (%lu retries, %lu throttled), from cache %lu; ",
			R->read, R->typed, R->passed, R->rejected, R->failed, R->requests,
			st.http.attempts, st.http.retries, st.http.throttled, st.from_cache);
	mlde_usage_format(&R->usage, &b);
	mlde_note(0, "%s", b.p);
	mlde_buf_free(&b);
	mlde_cli_note_pacing(NULL, R->win);
	if (R->stray)
		mlde_note(1, "%lu reply lines were no \"N<TAB>TYPE\" of the batch", R->stray);
	/* (the sinks are closed by now: ask the option) */
	if (R->rejected + R->failed > 0 && !R->opt->rejects)
		mlde_warn("%lu rejects not kept: --rejects FILE keeps them", R->rejected + R->failed);
}

/* ---- the main loop ---- */

static int type_items(run *R, mlde_reader **readers, int nreaders, mlde_error *err)
{
	mlde_window_done d;
	int cur = 0, got;

	for (;;) {
		while (!R->eof && (!R->win || mlde_window_room(R->win) > 0)) {
			jv item;

			got = mlde_reader_next(readers[cur], &item, err);
			if (got < 0)
				return -1;
			if (got == 0) {
				if (++cur == nreaders) {
					R->eof = true;
					/* the last batch may be short */
					if (R->cur->nasked > 0 && submit(R, err) < 0)
						return -1;
				}
				continue;
			}
			R->read++;
			if (admit(R, readers[cur], item, err) < 0)
				return -1;
			progress(R);
		}
		if (!R->win || (R->eof && mlde_window_held(R->win) == 0))
			return flush_unasked(R, err);  /* the typed items at the end */
		got = mlde_window_next(R->win, 100, &d, err);
		if (got < 0 && err->status == MLDE_EXIT_REMOTE)
			mlde_remote_fatal(err, R->opt->http.base_url, d.status);
		if (got < 0 || (got > 0 && emit(R, &d, err) < 0))
			return -1;
		/* items with a type that waited behind this request */
		if (got > 0 && R->cur->nasked == 0 && mlde_window_held(R->win) == 0 &&
		    flush_unasked(R, err) < 0)
			return -1;
		progress(R);
	}
}

static void parse_options(mlde_cli *cli, int *argc, char **argv, options *opt)
{
	static const char shortopts[] = MLDE_COMMON_SHORTOPTS MLDE_ENDPOINT_SHORTOPTS;
	int c;

	mlde_cli_init(cli, "mlde-type", argc, argv, shortopts, longopts);
	while ((c = getopt_long(*argc, argv, shortopts, longopts, NULL)) != -1) {
		if (mlde_cli_common(cli, c, optarg) || mlde_endpoint_option(cli, &opt->http, c, optarg) ||
		    mlde_cost_option(&opt->cost, c, optarg))
			continue;
		switch (c) {
		case OPT_BATCH:
			opt->batch = mlde_cli_long(cli, "--batch", optarg, 1, BATCH_MAX);
			break;
		case OPT_RETYPE: opt->retype = true; break;
		case OPT_EMIT:
			if (strcmp(optarg, "item") == 0)
				opt->emit_prompt = false;
			else if (strcmp(optarg, "prompt") == 0)
				opt->emit_prompt = true;
			else
				mlde_cli_usage_error(cli, "--emit: '%s' is not one of prompt, item",
						     optarg);
			break;
		case OPT_PROMPT: opt->prompt = optarg; break;
		case OPT_TYPES: opt->types = optarg; break;
		case OPT_REJECTS: opt->rejects = optarg; break;
		case OPT_PROGRESS: opt->progress = true; break;
		case OPT_SEED:
			opt->seed = (unsigned long long)mlde_cli_long(cli, "--seed", optarg, 0,
								       2147483647L);
			break;
		default:
			mlde_cli_usage_error(cli, "unhandled option");
		}
	}
}

/* The default template: typing.txt where mlde-gen finds default.txt. */
static char *default_prompt_path(void)
{
	char *path = mlde_prompt_default_path(), *slash = strrchr(path, '/');
	mlde_buf b = { 0 };

	if (slash)
		mlde_buf_add(&b, path, (size_t)(slash - path + 1));
	mlde_buf_adds(&b, "typing.txt");
	free(path);
	return mlde_buf_take(&b, NULL);
}

/* The types a reply may name: the types file's keys, each explained (a
 * warning for one that is not, as mlde-gen gives). */
static int check_types(run *R, mlde_error *err)
{
	mlde_prompt *p = &R->prompt;

	if (!p->types_path || jv_object_length(jv_copy(p->types)) == 0) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: no types to choose from",
			       p->types_path ? p->types_path : "(no types file beside the template)");
		return -1;
	}
	jv_object_foreach(p->types, name, value) {
		if (mlde_prompt_unexplained(p, jv_string_value(name)))
			mlde_warn("type '%s' has no explanation in %s: the prompt lists it bare",
				  jv_string_value(name), p->types_path);
		jv_free(name);
		jv_free(value);
	}
	return 0;
}

static int open_window(run *R, const mlde_endpoint *ep, mlde_error *err)
{
	const options *o = R->opt;
	size_t cap = (size_t)(o->http.jobs * 4 > 64 ? o->http.jobs * 4 : 64);
	mlde_window_opts wo = { .cap = cap, .check = mlde_reply_check_completion,
				.drop = release };
	mlde_http_opts ho = { .url = ep->url, .auth = ep->auth, .parallel = (int)o->http.jobs,
			      .rpm = o->http.rpm, .tpm = o->http.tpm,
			      .retries = (int)o->http.retries, .timeout = o->http.timeout,
			      .backoff = o->http.backoff, .backoff_max = 60.0, .seed = o->seed };
	char *dir = o->http.cache ? mlde_xstrdup(o->http.cache) : mlde_cache_default_dir();
	/* the server in the cache key, sending or not (--offline) */
	char *server = mlde_endpoint_url(o->http.base_url, "/chat/completions");
	int rc = mlde_cache_open(&R->cache, dir, err);

	if (rc == 0)
		mlde_note(1, "reply cache %s", dir);
	free(dir);
	if (rc < 0) {
		free(server);
		return -1;
	}
	wo.cache = &R->cache;
	wo.server = server;
	if (ep->url)
		wo.http = &ho;
	if (wo.http && !ep->auth)
		mlde_note(1, "no API key (OPENAI_API_KEY or --api-key-file): none sent");
	R->win = mlde_window_new(&wo, err);
	free(server);
	if (!R->win)
		return -1;
	if (wo.http)
		mlde_note(1, "sending to %s, %ld in flight", ep->url, o->http.jobs);
	return 0;
}

static int setup(run *R, const mlde_cli *cli, const mlde_endpoint *ep, mlde_reader **readers,
		 int nreaders, char **files, mlde_error *err)
{
	const options *o = R->opt;
	char *path = o->prompt ? mlde_xstrdup(o->prompt) : default_prompt_path();
	mlde_output ro = cli->out, out;
	int rc = mlde_prompt_load(&R->prompt, path, o->types, err);

	if (rc == 0)
		mlde_note(1, "template %s, types %s", path,
			  R->prompt.types_path ? R->prompt.types_path : "(none)");
	free(path);
	if (rc == 0)
		rc = check_types(R, err);
	if (rc == 0 && o->cost.dry_run) {
		rc = mlde_cli_dry_cache(&R->cache, o->http.cache, err);
		R->server = mlde_endpoint_url(o->http.base_url, "/chat/completions");
		mlde_dry_init(&R->dry, &R->cache);
	} else if (rc == 0 && !o->emit_prompt) {
		rc = open_window(R, ep, err);
	}
	for (int i = 0; i < nreaders && rc == 0; i++)
		if (!(readers[i] = mlde_reader_open(files[i], err)))
			rc = -1;
	if (o->cost.dry_run)
		return rc;  /* it writes no records: nothing to pass for a run */
	out = mlde_cli_output(cli);
	if (rc == 0)
		rc = mlde_sink_open(&R->out, &out, err);
	ro.path = o->rejects;
	if (rc == 0 && o->rejects)
		rc = mlde_sink_open(&R->rej, &ro, err);
	return rc;
}

int main(int argc, char **argv)
{
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	options opt = { .batch = DEFAULT_BATCH, .seed = 1,
			.http = MLDE_ENDPOINT_DEFAULTS("gpt-4o", 0.0, 1024) };
	run R = { .opt = &opt };
	mlde_endpoint ep = { 0 };
	char *stdin_only[] = { "-", NULL }, **files;
	mlde_reader **readers;
	int nreaders, rc;
	mlde_window_stats st = { 0 };
	mlde_error err;

	parse_options(&cli, &argc, argv, &opt);
	mlde_endpoint_default_url(&opt.http);
	opt.http.jobs = mlde_cli_endpoint_open(&ep, &cli, &opt.http,
					       !opt.emit_prompt && !opt.http.offline && !opt.cost.dry_run,
					       1);
	files = optind < argc ? argv + optind : stdin_only;
	nreaders = optind < argc ? argc - optind : 1;
	readers = mlde_xmalloc((size_t)nreaders * sizeof *readers);
	memset(readers, 0, (size_t)nreaders * sizeof *readers);
	mlde_progress_init(&R.bar, opt.progress);
	R.t0 = mlde_now();
	R.cur = group_new();

	mlde_error_clear(&err);
	rc = setup(&R, &cli, &ep, readers, nreaders, files, &err);
	mlde_endpoint_free(&ep);  /* the client keeps its own copy of the key */
	if (rc == 0)
		rc = type_items(&R, readers, nreaders, &err);
	/* items and rejects appear together or not at all */
	if (rc == 0) {
		mlde_sink **both[] = { &R.out, &R.rej };

		rc = mlde_sink_close_all(both, 2, &err);
	}
	mlde_progress_wipe();
	if (rc == 0 && opt.cost.dry_run)
		rc = mlde_cli_dry_report(&R.dry, &opt.cost, &err);
	else if (rc == 0)
		summary(&R);
	if (R.win)
		mlde_window_stats_get(R.win, &st);

	/* the one way out */
	mlde_sink_abort(&R.rej);
	mlde_sink_abort(&R.out);
	for (int i = 0; i < nreaders; i++)
		if (readers[i])
			mlde_reader_close(readers[i]);
	free(readers);
	release(R.cur);
	mlde_window_free(R.win);
	mlde_prompt_free(&R.prompt);
	mlde_cache_close(&R.cache);
	mlde_dry_free(&R.dry);
	free(R.server);
	if (rc == 0 && R.failed) {
		mlde_warn("%lu question%s not typed: their requests failed for good%s", R.failed,
			  R.failed == 1 ? "" : "s", st.not_cached ? " (not in the cache, --offline)" : "");
		mlde_remote_report(&R.causes);  /* even with -q */
	}
	mlde_remote_causes_free(&R.causes);
	if (rc < 0)
		mlde_die_error(&err);
	return R.failed ? MLDE_EXIT_REMOTE : MLDE_EXIT_OK;
}
