/* mlde-gen - targeted data generation: render each plan record's prompt
 * from a {{ jq }} template, get a reply (an OpenAI-compatible server, or
 * the offline world generator) through the request window, which stores it
 * in a content-addressed cache before anything else, and parse and validate
 * it into an item or a rejection, in plan order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "cli/batchopt.h"
#include "cli/cli.h"
#include "cli/cost.h"
#include "cli/endpoint.h"
#include "cli/pacing.h"
#include "cli/progress.h"
#include "cli/remote.h"
#include "cli/sink.h"
#include "gen/batch.h"
#include "gen/cache.h"
#include "gen/prompt.h"
#include "gen/reply.h"
#include "gen/request.h"
#include "gen/window.h"
#include "io/jsonl.h"
#include "record/record.h"
#include "world/worldgen.h"

#define SYNOPSIS "mlde-gen [-qvZ] [-o FILE] [-LEVEL] [--backend http|world] " \
	"[--emit prompt|raw|item] [--prompt FILE] [--types FILE] [--rejects FILE] " \
	"[--cache DIR] [--offline] [--base-url URL] [--model NAME] [--temperature T] " \
	"[--max-tokens N] [--api-key-file FILE] [-j N] [--rpm N] [--tpm N] [--retries N] " \
	"[--timeout S] [--backoff S] [--batch-api] [--batch-retry batch|live|none] [--batch-write FILE] " \
	"[--batch-read FILE] [--dry-run] [--prices FILE] [--seed S] [--world-faults SPEC] [--progress] [FILE...]"

static const char help[] =
	"Read plan records (mlde-sample; FILE, or stdin) and write one generated\n"
	"item per accepted reply, in plan order.  Replies that do not parse or\n"
	"validate, and requests that fail for good, go to --rejects with a reason:\n"
	"items + rejects + failures = plan records.\n"
	"\n"
	"  --backend B       http: an OpenAI-compatible chat completions server\n"
	"                    (default); world: the offline generator of the embedded\n"
	"                    world, from the query's annotations\n"
	"  --emit E          item (default), raw (the reply text) or prompt (stop\n"
	"                    after rendering; nothing is sent)\n"
	"  --prompt FILE     the template (default: prompts/default.txt of the mlde\n"
	"                    tree, or $MLDE_PROMPTS/default.txt)\n"
	"  --types FILE      question-type explanations, $types in the template\n"
	"                    (default: types.json beside the template)\n"
	"  --rejects FILE    write reject records {plan, reason, detail, raw} to FILE\n"
	"  --cache DIR       reply cache (http default: $XDG_CACHE_HOME/mlde/replies;\n"
	"                    world: none unless given)\n"
	"  --offline         send nothing: a reply missing from the cache is a failure\n"
	MLDE_ENDPOINT_HELP("gpt-4o", "0.7", "512")
	MLDE_BATCH_HELP("the requests", "")
	MLDE_COST_HELP
	"  --seed S          seed of the requests and the world generator (default 1)\n"
	"  --world-faults SPEC  world backend: make LLM mistakes at these rates,\n"
	"                    KIND=RATE,... (all, wrong-answer, absent-object,\n"
	"                    other-type, coordinates, duplicate-options); each\n"
	"                    faulty item's provenance names its fault (default: none)\n"
	"  --progress        progress on stderr even when it is not a terminal\n"
	MLDE_HELP_OUTPUT
	"  -q, --quiet       errors only\n"
	MLDE_HELP_VERBOSE
	"\n"
	"Exit status: 0 success, 1 bad input or template, 2 usage, 3 I/O error,\n"
	"4 requests failed for good (see mlde(7)).\n";

enum { OPT_BACKEND = MLDE_OPT_FIRST_PRIVATE, OPT_EMIT, OPT_PROMPT, OPT_TYPES, OPT_REJECTS,
       OPT_SEED, OPT_PROGRESS, OPT_WORLD_FAULTS };

static const struct option longopts[] = {
	MLDE_COMMON_LONGOPTS,
	{ "backend", required_argument, 0, OPT_BACKEND },
	{ "emit", required_argument, 0, OPT_EMIT },
	{ "prompt", required_argument, 0, OPT_PROMPT },
	{ "types", required_argument, 0, OPT_TYPES },
	{ "rejects", required_argument, 0, OPT_REJECTS },
	MLDE_ENDPOINT_LONGOPTS,
	MLDE_BATCH_LONGOPTS,
	MLDE_COST_LONGOPTS,
	{ "seed", required_argument, 0, OPT_SEED },
	{ "progress", no_argument, 0, OPT_PROGRESS },
	{ "world-faults", required_argument, 0, OPT_WORLD_FAULTS },
	{ 0, 0, 0, 0 },
};

enum backend { BACKEND_HTTP, BACKEND_WORLD };
enum emit { EMIT_ITEM, EMIT_RAW, EMIT_PROMPT };

typedef struct options {
	enum backend backend;
	enum emit emit;
	const char *prompt, *types, *rejects;
	mlde_endpoint_opts http;  /* the server, the client and the cache */
	mlde_batch_cli batch;     /* --batch-*: the Batch API first */
	mlde_cost_opts cost;      /* --dry-run, --prices */
	bool progress;
	unsigned long long seed;
	mlde_world_faults faults;  /* all 0: off */
} options;

/* One plan record on its way through the window: the user pointer of its
 * request, from admit() until its reply (or failure) is written. */
typedef struct slot {
	jv plan;
	char *id;
	uint64_t seed;
	char sha[MLDE_SHA256_HEX];  /* of the request body: its cache key */
} slot;

typedef struct tally {
	char *reason;
	unsigned long n;
} tally;

typedef struct run {
	options *opt;
	mlde_prompt prompt;
	const char *prompt_name, *prompt_sha;  /* of prompt */
	mlde_cache cache;        /* dir NULL: none */
	mlde_window *win;        /* NULL for --emit prompt: nothing is asked */
	mlde_batch *batch;       /* the pass that collects the requests for it */
	unsigned long read, written;
	bool eof;
	/* tallies for the summary */
	unsigned long items, rejected, failed, raws, prompts;
	mlde_usage_sum usage;    /* of the replies, as the server counted them */
	mlde_dry dry;            /* --dry-run: what would be sent */
	char *server;            /* --dry-run: the cache key's server */
	tally *reasons;
	size_t nreasons;
	mlde_remote_causes causes;  /* of the requests that failed for good */
	double t0;
	mlde_progress bar;
	mlde_sink *out, *rej;    /* rej: NULL without --rejects */
} run;

/* ---- reading plan records ---- */

static char *string_field(jv obj, const char *key)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	char *s = mlde_xstrdup(jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "");

	jv_free(v);
	return s;
}

static void release(void *user)
{
	slot *s = user;

	jv_free(s->plan);
	free(s->id);
	free(s);
}

/* An error writing stays in the sink; the loop returns it (output_error). */
static void put(mlde_sink *out, jv rec)
{
	mlde_sink_put(out, rec);
}

static int output_error(const run *R, mlde_error *err)
{
	return mlde_sink_error(R->out, err) < 0 || mlde_sink_error(R->rej, err) < 0 ? -1 : 0;
}

static void put_prompt(run *R, const slot *s, const char *prompt)
{
	jv rec = jv_object_set(jv_object(), jv_string("plan"), jv_string(s->id));

	rec = jv_object_set(rec, jv_string("prompt"), jv_string(prompt));
	rec = jv_object_set(rec, jv_string("prompt_sha256"), jv_string(R->prompt_sha));
	rec = jv_object_set(rec, jv_string("request_sha256"), jv_string(s->sha));
	put(R->out, rec);
	R->prompts++;
	R->written++;
}

/* Take in one plan record (consumed) at FILE:LINE at, with its prompt as
 * rendered (consumed; NULL: terr says why): check it, build its request,
 * and write the prompt (--emit prompt) or submit it. */
static int admit_rendered(run *R, const char *at, jv plan, char *prompt, size_t plen,
			  const mlde_error *terr, mlde_error *err)
{
	const options *o = R->opt;
	mlde_plan p;
	slot *s;
	char *body;
	size_t len;
	int rc = 0;

	(void)plen;
	if (mlde_plan_check(plan, at, &p, err) < 0) {
		jv_free(plan);
		free(prompt);
		return -1;
	}
	/* an empty explanation line would go unseen in the prompt */
	if (mlde_prompt_unexplained(&R->prompt, p.type))
		mlde_warn("type '%s' has no explanation in %s: its prompt says nothing of it",
			  p.type, R->prompt.types_path);
	s = mlde_xmalloc(sizeof *s);
	memset(s, 0, sizeof *s);
	s->plan = plan;
	s->id = string_field(plan, "id");
	if (!prompt) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: plan %s: %.700s", at, s->id, terr->msg);
		release(s);
		return -1;
	}
	s->seed = mlde_request_seed(s->id, o->seed);
	body = o->backend == BACKEND_WORLD
		? mlde_request_world(plan, s->seed, &o->faults, &len)
		: mlde_request_chat(o->http.model, prompt, o->http.temperature, o->http.max_tokens,
				    s->seed, &len);
	if (o->cost.dry_run) {
		rc = mlde_dry_add(&R->dry, R->server, body, len, err);
		release(s);
	} else if (o->emit == EMIT_PROMPT) {
		mlde_sha256_hex(body, len, s->sha);
		put_prompt(R, s, prompt);
		release(s);
		rc = output_error(R, err);
	} else if (R->batch) {
		/* the first pass of --batch-api or --batch-write: collected, not sent */
		rc = mlde_batch_add(R->batch, body, len, err);
		release(s);
	/* estimated cost for --tpm: about 4 bytes a token, plus the reply */
	} else if (mlde_window_submit(R->win, body, len,
				      (double)len / 4.0 + (double)o->http.max_tokens,
				      NULL, s, err) < 0) {
		release(s);
		rc = -1;
	}
	free(prompt);
	free(body);
	return rc;
}

static void reader_at(const mlde_reader *r, char *at, size_t size)
{
	snprintf(at, size, "%s:%lu", mlde_reader_name(r), mlde_reader_lineno(r));
}

/* admit_rendered, the prompt rendered here */
static int admit(run *R, const mlde_reader *r, jv plan, mlde_error *err)
{
	mlde_error terr;
	char at[600], *prompt;
	size_t plen;

	reader_at(r, at, sizeof at);
	mlde_error_clear(&terr);
	prompt = mlde_template_render(R->prompt.tpl, plan, &plen, &terr);
	return admit_rendered(R, at, plan, prompt, plen, &terr, err);
}

/* The world backend's reply to a request, made here (window.h). */
static char *world_reply(void *ctx, void *user, const char *body, size_t len, size_t *reply_len,
			 mlde_error *err)
{
	const slot *s = user;

	(void)body, (void)len, (void)err;
	return mlde_request_world_reply(s->plan, s->seed, ctx, reply_len);
}

/* ---- results ---- */

static void count_reason(run *R, const char *reason)
{
	size_t i;

	for (i = 0; i < R->nreasons; i++)
		if (strcmp(R->reasons[i].reason, reason) == 0)
			break;
	if (i == R->nreasons) {
		R->reasons = mlde_xrealloc(R->reasons, (i + 1) * sizeof *R->reasons);
		R->reasons[i].reason = mlde_xstrdup(reason);
		R->reasons[i].n = 0;
		R->nreasons++;
	}
	R->reasons[i].n++;
}

static void put_reject(run *R, const slot *s, const char *reason, const char *detail, jv raw,
		       const mlde_usage *u)
{
	static const mlde_usage none;

	count_reason(R, reason);
	if (!R->rej) {
		jv_free(raw);
		return;
	}
	put(R->rej, mlde_usage_set(mlde_reject_record(s->id, reason, detail, raw, s->sha),
				   u ? u : &none));
}

/* The generated item of a parsed reply (model: consumed, a string; fault:
 * the world backend's fault, or NULL). */
static jv item_record(const run *R, const slot *s, const mlde_reply *rep, jv model,
		      const char *fault, const mlde_usage *u)
{
	mlde_plan p;
	mlde_error err;
	char id[600];
	jv o;

	/* admit() checked the plan: this only finds its fields again */
	mlde_plan_check(s->plan, s->id, &p, &err);
	snprintf(id, sizeof id, "%s-%.8s", s->id, s->sha);
	{
		mlde_item it = {
			.id = id, .image = p.image, .question = rep->question,
			.nopt = rep->noptions, .answer = rep->answer, .type = p.type,
			.rationale = rep->rationale, .source = "mlde-gen",
		};
		mlde_provenance prov = {
			.backend = R->opt->backend == BACKEND_WORLD ? "world" : "http",
			.model = jv_string_value(model), .prompt = R->prompt_name,
			.prompt_sha256 = R->prompt_sha, .request_sha256 = s->sha, .plan = s->id,
		};

		for (int i = 0; i < rep->noptions && i < MLDE_OPTIONS_MAX; i++)
			it.options[i] = rep->options[i];
		o = mlde_item_set_provenance(mlde_item_record(&it), &prov);
	}
	/* what the reply took (the world backend's: nothing, no field) */
	if (u->known) {
		jv pv = jv_object_get(jv_copy(o), jv_string(MLDE_F_PROVENANCE));

		o = jv_object_set(o, jv_string(MLDE_F_PROVENANCE), mlde_usage_set(pv, u));
	}
	/* the truth of a --world-faults run, for measuring reviewers */
	if (mlde_world_faults_on(&R->opt->faults)) {
		jv pv = jv_object_get(jv_copy(o), jv_string(MLDE_F_PROVENANCE));

		pv = jv_object_set(pv, jv_string("fault"), fault ? jv_string(fault) : jv_null());
		o = jv_object_set(o, jv_string(MLDE_F_PROVENANCE), pv);
	}
	jv_free(model);
	return o;
}

/* Write the item of a parsed reply, if it passes the check mlde-train and
 * mlde-eval apply when reading items; if not (a bug), it goes to the
 * rejects as MLDE_REJECT_INVALID_ITEM with the reply text (raw, consumed). */
static void put_item(run *R, const slot *s, const mlde_reply *rep, jv model, jv raw,
		     const char *fault, const mlde_usage *u)
{
	jv item = item_record(R, s, rep, model, fault, u);
	mlde_error err;
	mlde_item it;

	mlde_error_clear(&err);
	if (mlde_generated_check(item, s->id, &it, &err) < 0) {
		jv_free(item);
		R->rejected++;
		put_reject(R, s, MLDE_REJECT_INVALID_ITEM, err.msg, raw, u);
		return;
	}
	jv_free(raw);
	R->items++;
	put(R->out, item);
}

/* Write out one finished request's record, in plan order. */
static void emit_reply(run *R, const slot *s, const mlde_window_done *d)
{
	const options *o = R->opt;
	jv body, text, model, fault;
	mlde_reply rep;
	mlde_usage u;
	char why[200];

	body = jv_parse_sized(d->reply, (int)d->reply_len);
	if (mlde_reply_completion_text(body, &text, NULL, NULL, why, sizeof why) < 0) {
		/* not reached: replies are checked before they are stored or used */
		jv_free(body);
		R->failed++;
		put_reject(R, s, MLDE_WINDOW_FAILED, why, jv_null(), NULL);
		return;
	}
	/* the sums count what this run paid for apart from what the cache saved */
	u = mlde_usage_of_reply(body);
	mlde_usage_add(&R->usage, &u, d->cached);
	model = jv_object_get(jv_copy(body), jv_string("model"));
	if (jv_get_kind(model) != JV_KIND_STRING) {
		jv_free(model);
		model = jv_string(o->backend == BACKEND_WORLD ? "world" : o->http.model);
	}
	fault = jv_object_get(jv_copy(body), jv_string("fault"));
	jv_free(body);
	if (o->emit == EMIT_RAW) {
		jv rec = jv_object_set(jv_object(), jv_string("plan"), jv_string(s->id));
		rec = jv_object_set(rec, jv_string("raw"), text);
		rec = jv_object_set(rec, jv_string("model"), model);
		rec = jv_object_set(rec, jv_string("request_sha256"), jv_string(s->sha));
		put(R->out, mlde_usage_set(rec, &u));
		R->raws++;
		jv_free(fault);
		return;
	}
	if (mlde_reply_parse(jv_string_value(text), (size_t)jv_string_length_bytes(jv_copy(text)),
			     &rep) < 0) {
		R->rejected++;
		put_reject(R, s, rep.reason, rep.detail, text, &u);
		jv_free(model);
	} else {
		put_item(R, s, &rep, model, text,
			 jv_get_kind(fault) == JV_KIND_STRING ? jv_string_value(fault) : NULL, &u);
	}
	jv_free(fault);
	mlde_reply_free(&rep);
}

static int emit(run *R, mlde_window_done *d, mlde_error *err)
{
	slot *s = d->user;

	memcpy(s->sha, d->key, sizeof s->sha);
	if (d->cache_unusable)
		mlde_warn("%s: cache entry %s unusable (%s): asking again", s->id, d->cache_key,
			  d->cache_why);
	if (!d->ok) {
		const char *why = strcmp(d->reason, MLDE_WINDOW_NOT_CACHED) == 0
			? "no reply in the cache, and --offline sends nothing" : d->error;

		R->failed++;
		mlde_remote_count(&R->causes, why);
		put_reject(R, s, d->reason, why, jv_null(), NULL);
	} else {
		emit_reply(R, s, d);
	}
	R->written++;
	free(d->reply);
	release(s);
	return output_error(R, err);
}

/* ---- progress ---- */

static void progress(run *R)
{
	mlde_window_stats st = { 0 };
	double el = mlde_now() - R->t0, rate = el > 0.0 ? R->written / el : 0.0;
	char eta[32] = "";

	if (!mlde_progress_due(&R->bar))
		return;
	if (R->win)
		mlde_window_stats_get(R->win, &st);
	if (R->eof && rate > 0.0) {
		long left = (long)((R->read - R->written) / rate + 0.5);
		snprintf(eta, sizeof eta, ", ETA %ld:%02ld", left / 60, left % 60);
	}
	mlde_progress_draw(&R->bar, "%lu/%s%lu done, %.1f/s, %lu in flight, %lu retries, %lu failed%s",
			   R->written, R->eof ? "" : ">=", R->read, rate, st.http.in_flight,
			   st.http.retries, R->failed, eta);
}

static void summary(const run *R)
{
	mlde_window_stats st = { 0 };
	mlde_buf b = { 0 };

	if (mlde_verbosity < 0)
		return;
	if (R->win)
		mlde_window_stats_get(R->win, &st);
	if (R->opt->emit == EMIT_PROMPT) {
		mlde_note(0, "%lu plan records = %lu prompts", R->written, R->prompts);
		return;
	}
	mlde_buf_printf(&b, "%lu plan records = %lu %s + %lu rejected + %lu failed", R->written,
			R->opt->emit == EMIT_RAW ? R->raws : R->items,
			R->opt->emit == EMIT_RAW ? "replies" : "items", R->rejected, R->failed);
	for (size_t i = 0; i < R->nreasons; i++)
		mlde_buf_printf(&b, "%s%s %lu", i ? ", " : " (", R->reasons[i].reason, R->reasons[i].n);
	if (R->nreasons)
		mlde_buf_adds(&b, ")");
	if (R->opt->backend == BACKEND_HTTP)
	{
		mlde_buf_printf(&b, "; sent %lu (%lu retries, %lu throttled), from cache %lu; ",
				st.http.attempts, st.http.retries, st.http.throttled, st.from_cache);
		mlde_usage_format(&R->usage, &b);
	} else
		mlde_buf_printf(&b, "; from cache %lu", st.from_cache);
	mlde_note(0, "%s", b.p);
	mlde_cli_note_pacing(NULL, R->win);
	if (R->opt->http.rpm > 0.0 || R->opt->http.tpm > 0.0)
		mlde_note(1, "--rpm/--tpm held back %lu of %lu requests", st.http.limited,
			  st.http.ok + st.http.failed);
	/* the sinks are closed (NULL) by now: ask the option */
	if (R->rejected + R->failed > 0 && !R->opt->rejects)
		mlde_warn("%lu rejects not kept: --rejects FILE keeps them", R->rejected + R->failed);
	mlde_buf_free(&b);
}

/* ---- the main loop ---- */

/* Plans read ahead of the window, as many as PLANS_AHEAD, their prompts
 * rendered on a second thread meanwhile (mlde_render_ahead). */
#define PLANS_AHEAD 64

/* Read plans until the queue is full or the input ends (R->eof) or fails
 * (-1 with rerr set: told once the plans read before are taken in). */
static int read_ahead(run *R, mlde_render_ahead *q, mlde_reader **readers, int nreaders,
		      int *cur, mlde_error *rerr)
{
	while (!R->eof && !mlde_render_ahead_full(q)) {
		char at[600];
		jv plan;
		int got = mlde_reader_next(readers[*cur], &plan, rerr);

		if (got < 0)
			return -1;
		if (got == 0) {
			if (++*cur == nreaders)
				R->eof = true;
			continue;
		}
		R->read++;
		reader_at(readers[*cur], at, sizeof at);
		mlde_render_ahead_push(q, plan, at);
	}
	return 0;
}

/* The oldest plan read, taken in. */
static int admit_next(run *R, mlde_render_ahead *q, mlde_error *err)
{
	mlde_error terr;
	char *at, *prompt;
	size_t plen;
	jv plan;
	int rc;

	mlde_error_clear(&terr);
	prompt = mlde_render_ahead_pop(q, &plan, &at, &plen, &terr);
	rc = admit_rendered(R, at, plan, prompt, plen, &terr, err);
	free(at);
	return rc;
}

static int generate_ahead(run *R, mlde_render_ahead *q, mlde_reader **readers, int nreaders,
			  mlde_error *err)
{
	mlde_window_done d;
	mlde_error rerr;
	int cur = 0, got, read_rc = 0;

	for (;;) {
		/* fill the window */
		for (;;) {
			if (read_rc == 0)
				read_rc = read_ahead(R, q, readers, nreaders, &cur, &rerr);
			if (mlde_render_ahead_count(q) == 0 || (R->win && mlde_window_room(R->win) == 0))
				break;
			if (admit_next(R, q, err) < 0)
				return -1;
			progress(R);
		}
		if (read_rc < 0 && mlde_render_ahead_count(q) == 0) {
			*err = rerr;
			return -1;
		}
		if (!R->win || (R->eof && mlde_render_ahead_count(q) == 0 &&
				mlde_window_held(R->win) == 0))
			return 0;
		/* write what is finished, in plan order */
		got = mlde_window_next(R->win, 100, &d, err);
		if (got < 0 && err->status == MLDE_EXIT_REMOTE)
			mlde_remote_fatal(err, R->opt->http.base_url, d.status);
		if (got < 0 || (got > 0 && emit(R, &d, err) < 0))
			return -1;
		progress(R);
	}
}

static int generate(run *R, mlde_reader **readers, int nreaders, mlde_error *err)
{
	mlde_render_ahead *q = mlde_render_ahead_new(R->prompt.tpl, PLANS_AHEAD);
	int rc = generate_ahead(R, q, readers, nreaders, err);

	mlde_render_ahead_free(q);
	return rc;
}

static void parse_options(mlde_cli *cli, int *argc, char **argv, options *opt)
{
	static const char shortopts[] = MLDE_COMMON_SHORTOPTS MLDE_ENDPOINT_SHORTOPTS;
	int c;

	mlde_cli_init(cli, "mlde-gen", argc, argv, shortopts, longopts);
	while ((c = getopt_long(*argc, argv, shortopts, longopts, NULL)) != -1) {
		if (mlde_cli_common(cli, c, optarg) || mlde_endpoint_option(cli, &opt->http, c, optarg) ||
		    mlde_batch_option(cli, &opt->batch, c, optarg) || mlde_cost_option(&opt->cost, c, optarg))
			continue;
		switch (c) {
		case OPT_BACKEND:
			if (strcmp(optarg, "http") == 0)
				opt->backend = BACKEND_HTTP;
			else if (strcmp(optarg, "world") == 0)
				opt->backend = BACKEND_WORLD;
			else
				mlde_cli_usage_error(cli, "--backend: '%s' is not one of http, world",
						     optarg);
			break;
		case OPT_EMIT:
			if (strcmp(optarg, "item") == 0)
				opt->emit = EMIT_ITEM;
			else if (strcmp(optarg, "raw") == 0)
				opt->emit = EMIT_RAW;
			else if (strcmp(optarg, "prompt") == 0)
				opt->emit = EMIT_PROMPT;
			else
				mlde_cli_usage_error(cli, "--emit: '%s' is not one of prompt, raw, item",
						     optarg);
			break;
		case OPT_PROMPT: opt->prompt = optarg; break;
		case OPT_TYPES: opt->types = optarg; break;
		case OPT_REJECTS: opt->rejects = optarg; break;
		case OPT_PROGRESS: opt->progress = true; break;
		case OPT_WORLD_FAULTS: {
			mlde_error ferr;

			mlde_error_clear(&ferr);
			if (mlde_world_faults_parse(optarg, &opt->faults, &ferr) < 0)
				mlde_cli_usage_error(cli, "--world-faults: %s", ferr.msg);
			break;
		}
		case OPT_SEED:
			opt->seed = (unsigned long long)mlde_cli_long(cli, "--seed", optarg, 0,
								       2147483647L);
			break;
		default:
			mlde_cli_usage_error(cli, "unhandled option");
		}
	}
}

/* The cache, and the window: with the endpoint, the world backend, or
 * neither (--offline). */
static int open_window(run *R, const mlde_endpoint *ep, mlde_error *err)
{
	const options *o = R->opt;
	/* far more than in flight, so a slow head rarely stalls the window */
	size_t cap = (size_t)(o->http.jobs * 16 > 256 ? o->http.jobs * 16 : 256);
	mlde_window_opts wo = { .cap = cap,
				.check = mlde_reply_check_completion, .drop = release };
	mlde_http_opts ho = { .url = ep->url, .auth = ep->auth, .parallel = (int)o->http.jobs,
			      .rpm = o->http.rpm, .tpm = o->http.tpm,
			      .retries = (int)o->http.retries, .timeout = o->http.timeout,
			      .backoff = o->http.backoff, .backoff_max = 60.0,
			      .seed = o->seed };
	char *dir = o->http.cache ? mlde_xstrdup(o->http.cache)
		    : o->backend == BACKEND_HTTP ? mlde_cache_default_dir() : NULL;
	/* the server in the cache key, sending or not (--offline): a reply is
	 * found again only for the URL that gave it */
	char *server = o->backend == BACKEND_HTTP
		       ? mlde_endpoint_url(o->http.base_url, "/chat/completions") : NULL;
	int rc = dir ? mlde_cache_open(&R->cache, dir, err) : 0;

	if (dir && rc == 0)
		mlde_note(1, "reply cache %s", dir);
	free(dir);
	if (rc < 0) {
		free(server);
		return -1;
	}
	wo.cache = R->cache.dir ? &R->cache : NULL;
	wo.server = server;
	if (o->backend == BACKEND_WORLD) {
		wo.make = world_reply;
		wo.make_ctx = (void *)&o->faults;
	}
	else if (ep->url)
		wo.http = &ho;
	if (wo.http && !ep->auth)
		mlde_note(1, "no API key (OPENAI_API_KEY or --api-key-file): none sent");
	R->win = mlde_window_new(&wo, err);
	free(server);  /* the window keeps a copy */
	if (!R->win)
		return -1;
	if (wo.http)
		mlde_note(1, "sending to %s, %ld in flight", ep->url, o->http.jobs);
	return 0;
}

/* ---- the Batch API ---- */

/* The first pass: every plan record's request added to the batch. */
static int collect(run *R, mlde_reader **readers, int nreaders, mlde_error *err)
{
	for (int cur = 0; cur < nreaders; cur++) {
		jv plan;
		int got;

		while ((got = mlde_reader_next(readers[cur], &plan, err)) > 0)
			if (admit(R, readers[cur], plan, err) < 0)
				return -1;
		if (got < 0)
			return -1;
	}
	return 0;
}

/* --batch-read, --batch-api, --batch-write: the cache filled (or the input
 * file written) before the run, whose inputs are then opened again, and
 * whose window sends nothing with --batch-retry none. */
static int batch_pass(run *R, const mlde_cli *cli, const mlde_endpoint *ep, mlde_reader **readers,
		      int nreaders, char **files, mlde_error *err)
{
	const options *o = R->opt;
	char *server;
	int rc;

	if (!R->win || mlde_batch_cli_read(&o->batch, &R->cache, mlde_reply_check_completion,
					   err) < 0)
		return R->win ? -1 : 0;
	if (!mlde_batch_collects(&o->batch))
		return 0;
	server = mlde_endpoint_url(o->http.base_url, "/chat/completions");
	R->batch = mlde_batch_cli_new(cli, &o->batch, &o->http, ep->auth, server, &R->cache,
				      mlde_reply_check_completion);
	free(server);
	rc = collect(R, readers, nreaders, err);
	if (rc == 0)
		rc = mlde_batch_cli_finish(R->batch, &o->batch, err);
	mlde_batch_free(R->batch);
	R->batch = NULL;
	for (int i = 0; i < nreaders; i++) {
		mlde_reader_close(readers[i]);
		readers[i] = NULL;
	}
	for (int i = 0; i < nreaders && rc == 0 && !o->batch.write; i++)
		if (!(readers[i] = mlde_reader_open(files[i], err)))
			rc = -1;
	if (rc == 0 && o->batch.api && o->batch.retry == MLDE_BATCH_RETRY_NONE) {
		mlde_endpoint none = { 0 };

		mlde_window_free(R->win);
		mlde_cache_close(&R->cache);
		rc = open_window(R, &none, err);
	}
	return rc;
}

/* --dry-run: the reply cache to look in, and the key's server, as
 * open_window has them; no window, no client. */
static int open_dry(run *R, mlde_error *err)
{
	const options *o = R->opt;

	if (o->backend == BACKEND_HTTP) {
		if (mlde_cli_dry_cache(&R->cache, o->http.cache, err) < 0)
			return -1;
		R->server = mlde_endpoint_url(o->http.base_url, "/chat/completions");
	} else if (o->http.cache && mlde_cache_open(&R->cache, o->http.cache, err) < 0) {
		return -1;
	}
	mlde_dry_init(&R->dry, &R->cache);
	return 0;
}

/* Everything before the first record, in the order its errors are told:
 * the prompt, the cache and the window, the inputs, the outputs. */
static int setup(run *R, const mlde_cli *cli, const mlde_endpoint *ep, mlde_reader **readers,
		 int nreaders, char **files, mlde_error *err)
{
	const options *o = R->opt;
	char *path = o->prompt ? mlde_xstrdup(o->prompt) : mlde_prompt_default_path();
	mlde_output ro = cli->out, out;
	int rc = mlde_prompt_load(&R->prompt, path, o->types, err);

	if (rc == 0)
		mlde_note(1, "template %s (%zu holes), types %s", path,
			  mlde_template_holes(R->prompt.tpl),
			  R->prompt.types_path ? R->prompt.types_path : "(none)");
	free(path);
	R->prompt_name = R->prompt.name;
	R->prompt_sha = R->prompt.sha256;
	if (rc == 0 && o->cost.dry_run)
		rc = open_dry(R, err);
	else if (rc == 0 && o->emit != EMIT_PROMPT)
		rc = open_window(R, ep, err);
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
	options opt = { .backend = BACKEND_HTTP, .emit = EMIT_ITEM, .seed = 1,
			.http = MLDE_ENDPOINT_DEFAULTS("gpt-4o", 0.7, 512) };
	run R = { .opt = &opt };
	mlde_endpoint ep = { 0 };
	char *stdin_only[] = { "-", NULL }, **files;
	mlde_reader **readers;
	int nreaders, rc;
	mlde_window_stats st = { 0 };
	mlde_error err;

	parse_options(&cli, &argc, argv, &opt);
	if (mlde_world_faults_on(&opt.faults) && opt.backend != BACKEND_WORLD)
		mlde_cli_usage_error(&cli, "--world-faults: only with --backend world");
	if ((mlde_batch_collects(&opt.batch) || opt.batch.read) &&
	    (opt.backend != BACKEND_HTTP || opt.emit == EMIT_PROMPT))
		mlde_cli_usage_error(&cli, "--batch-*: only with --backend http, and not with --emit prompt");
	mlde_batch_check(&cli, &opt.batch, optind < argc, opt.http.offline, opt.cost.dry_run);
	mlde_endpoint_default_url(&opt.http);
	opt.http.jobs = mlde_cli_endpoint_open(&ep, &cli, &opt.http, opt.backend == BACKEND_HTTP &&
					       opt.emit != EMIT_PROMPT && !opt.http.offline &&
					       !opt.cost.dry_run, 1);
	files = optind < argc ? argv + optind : stdin_only;
	nreaders = optind < argc ? argc - optind : 1;
	readers = mlde_xmalloc((size_t)nreaders * sizeof *readers);
	memset(readers, 0, (size_t)nreaders * sizeof *readers);
	mlde_progress_init(&R.bar, opt.progress);
	R.t0 = mlde_now();

	mlde_error_clear(&err);
	rc = setup(&R, &cli, &ep, readers, nreaders, files, &err);
	if (rc == 0)
		rc = batch_pass(&R, &cli, &ep, readers, nreaders, files, &err);
	mlde_endpoint_free(&ep);  /* the client keeps its own copy of the key */
	if (rc == 0 && !opt.batch.write)
		rc = generate(&R, readers, nreaders, &err);
	/* items and rejects appear together or not at all (--batch-write: neither) */
	if (rc == 0 && !opt.batch.write) {
		mlde_sink **both[] = { &R.out, &R.rej };

		rc = mlde_sink_close_all(both, 2, &err);
	}
	mlde_progress_wipe();
	if (rc == 0 && opt.cost.dry_run)
		rc = mlde_cli_dry_report(&R.dry, &opt.cost, &err);
	else if (rc == 0 && !opt.batch.write)
		summary(&R);
	if (R.win)
		mlde_window_stats_get(R.win, &st);

	/* the one way out: what is still open is given up, everything freed */
	mlde_sink_abort(&R.rej);
	mlde_sink_abort(&R.out);
	for (int i = 0; i < nreaders; i++)
		if (readers[i])
			mlde_reader_close(readers[i]);
	free(readers);
	mlde_window_free(R.win);
	mlde_prompt_free(&R.prompt);
	mlde_cache_close(&R.cache);
	mlde_dry_free(&R.dry);
	free(R.server);
	for (size_t i = 0; i < R.nreasons; i++)
		free(R.reasons[i].reason);
	free(R.reasons);
	if (rc == 0 && R.failed) {
		mlde_warn("%lu request%s failed for good%s", R.failed, R.failed == 1 ? "" : "s",
			  st.not_cached ? " (not in the cache, --offline)" : "");
		mlde_remote_report(&R.causes);  /* even with -q */
	}
	mlde_remote_causes_free(&R.causes);
	if (rc < 0)
		mlde_die_error(&err);  /* quietly 0 when the reader of stdout went away */
	return R.failed ? MLDE_EXIT_REMOTE : MLDE_EXIT_OK;
}
