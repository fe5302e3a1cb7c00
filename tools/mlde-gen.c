/* mlde-gen - targeted data generation: render each plan record's prompt
 * from a {{ jq }} template, get a reply (an OpenAI-compatible server, or
 * the offline world generator), store it in a content-addressed cache
 * before anything else, and parse and validate it into an item or a
 * rejection.  Output follows plan order, whatever order replies arrive in. */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "gen/cache.h"
#include "cli/cli.h"
#include "gen/http.h"
#include "io/jsonl.h"
#include "gen/reply.h"
#include "base/sha256.h"
#include "gen/template.h"
#include "world/worldgen.h"

#define SYNOPSIS "mlde-gen [-qvZ] [-o FILE] [-LEVEL] [--backend http|world] " \
	"[--emit prompt|raw|item] [--prompt FILE] [--types FILE] [--rejects FILE] " \
	"[--cache DIR] [--offline] [--base-url URL] [--model NAME] [--temperature T] " \
	"[--max-tokens N] [--api-key-file FILE] [-j N] [--rpm N] [--tpm N] [--retries N] " \
	"[--timeout S] [--backoff S] [--seed S] [--progress] [FILE...]"

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
	"  --base-url URL    default $OPENAI_BASE_URL, else https://api.openai.com/v1\n"
	"  --model NAME      default gpt-4o\n"
	"  --temperature T   default 0.7\n"
	"  --max-tokens N    default 512\n"
	"  --api-key-file FILE\n"
	"                    read the key from FILE rather than $OPENAI_API_KEY\n"
	"  -j, --jobs N      requests in flight (default 8)\n"
	"  --rpm N, --tpm N  requests and tokens per minute at most (default: no limit)\n"
	"  --retries N       retries of a request after 429, 5xx, a timeout or a\n"
	"                    connection error (default 5)\n"
	"  --timeout S       seconds per attempt (default 120)\n"
	"  --backoff S       the first retry waits about S seconds, doubling (default 1)\n"
	"  --seed S          seed of the requests and the world generator (default 1)\n"
	"  --progress        progress on stderr even when it is not a terminal\n"
	"  -o, --output FILE write FILE (via FILE.tmp, renamed on success)\n"
	"  -Z, --plain       plain JSON Lines, not zstd (the default on a terminal)\n"
	"  -0 .. -19, --level N\n"
	"                    zstd level (default 3)\n"
	"  -q, --quiet       errors only\n"
	"  -v, --verbose     more notes on stderr\n"
	"  -h, --help, --version\n"
	"\n"
	"Exit status: 0 success, 1 bad input or template, 2 usage, 3 I/O error,\n"
	"4 requests failed for good (see mlde(7)).\n";

enum { OPT_BACKEND = MLDE_OPT_FIRST_PRIVATE, OPT_EMIT, OPT_PROMPT, OPT_TYPES, OPT_REJECTS,
       OPT_CACHE, OPT_OFFLINE, OPT_BASE_URL, OPT_MODEL, OPT_TEMPERATURE, OPT_MAX_TOKENS,
       OPT_KEY_FILE, OPT_RPM, OPT_TPM, OPT_RETRIES, OPT_TIMEOUT, OPT_BACKOFF, OPT_SEED,
       OPT_PROGRESS };

static const struct option longopts[] = {
	MLDE_COMMON_LONGOPTS,
	{ "backend", required_argument, 0, OPT_BACKEND },
	{ "emit", required_argument, 0, OPT_EMIT },
	{ "prompt", required_argument, 0, OPT_PROMPT },
	{ "types", required_argument, 0, OPT_TYPES },
	{ "rejects", required_argument, 0, OPT_REJECTS },
	{ "cache", required_argument, 0, OPT_CACHE },
	{ "offline", no_argument, 0, OPT_OFFLINE },
	{ "base-url", required_argument, 0, OPT_BASE_URL },
	{ "model", required_argument, 0, OPT_MODEL },
	{ "temperature", required_argument, 0, OPT_TEMPERATURE },
	{ "max-tokens", required_argument, 0, OPT_MAX_TOKENS },
	{ "api-key-file", required_argument, 0, OPT_KEY_FILE },
	{ "jobs", required_argument, 0, 'j' },
	{ "rpm", required_argument, 0, OPT_RPM },
	{ "tpm", required_argument, 0, OPT_TPM },
	{ "retries", required_argument, 0, OPT_RETRIES },
	{ "timeout", required_argument, 0, OPT_TIMEOUT },
	{ "backoff", required_argument, 0, OPT_BACKOFF },
	{ "seed", required_argument, 0, OPT_SEED },
	{ "progress", no_argument, 0, OPT_PROGRESS },
	{ 0, 0, 0, 0 },
};

enum backend { BACKEND_HTTP, BACKEND_WORLD };
enum emit { EMIT_ITEM, EMIT_RAW, EMIT_PROMPT };

typedef struct options {
	enum backend backend;
	enum emit emit;
	const char *prompt, *types, *rejects, *cache, *base_url, *model, *key_file;
	bool offline, progress;
	double temperature, rpm, tpm, timeout, backoff;
	long max_tokens, jobs, retries;
	unsigned long long seed;
} options;

/* One plan record on its way through: read, rendered, sent or found,
 * finished (reply or failure), written. */
typedef struct slot {
	jv plan;
	char *id;
	char *body;              /* the request body; NULL once finished */
	size_t len;
	char sha[MLDE_SHA256_HEX];
	char *prompt;            /* --emit prompt */
	bool done, failed, cached;
	char *reply;             /* the completion body, when done and not failed */
	size_t reply_len;
	const char *fail_reason; /* "request-failed", "not-cached" */
	char error[300];
} slot;

typedef struct run {
	options *opt;
	mlde_template *tpl;
	char prompt_name[256], prompt_sha[MLDE_SHA256_HEX];
	mlde_cache cache;
	bool use_cache;
	mlde_http *http;
	slot *ring;
	size_t cap, head, count;  /* ring of the window: count slots from head */
	unsigned long read, written;
	bool eof;
	/* tallies for the summary */
	unsigned long items, rejected, failed, from_cache, not_cached, cache_bad, raws, prompts;
	double prompt_tokens, completion_tokens;
	char reasons[16][32];
	unsigned long reason_n[16];
	double t0, last_progress;
	bool show_progress, progress_drawn;
	mlde_writer *out, *rej;
} run;

/* ---- setup ---- */

/* What an exit in the middle of a run must undo: outputs still open are
 * aborted (their FILE.tmp removed, a zstd stream left visibly unfinished),
 * and the template is torn down (jq keeps its stack by its end pointer,
 * which leak checkers do not follow).  Every exit runs this, mlde_die's
 * included; a normal end has cleared it all first. */
static struct {
	mlde_template *tpl;
	mlde_writer *out, *rej;
} live;

static void cleanup_at_exit(void)
{
	if (live.out)
		mlde_writer_abort(live.out);
	if (live.rej)
		mlde_writer_abort(live.rej);
	mlde_template_free(live.tpl);
	memset(&live, 0, sizeof live);
}

static char *read_small_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	mlde_buf b = { 0 };
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		mlde_buf_add(&b, chunk, n);
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		mlde_buf_free(&b);
		errno = e;
		return NULL;
	}
	fclose(f);
	return mlde_buf_take(&b, len);
}

/* The default template: $MLDE_PROMPTS/default.txt, else prompts/default.txt
 * (or share/mlde/prompts/default.txt) in a directory above the program. */
static char *default_prompt(void)
{
	const char *env = getenv("MLDE_PROMPTS");
	char exe[4096], try[4200];
	ssize_t n;

	if (env && *env) {
		snprintf(try, sizeof try, "%s/default.txt", env);
		return mlde_xstrdup(try);
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 4; up++) {
			char *slash = strrchr(exe, '/');

			if (!slash)
				break;
			*slash = '\0';
			snprintf(try, sizeof try, "%s/prompts/default.txt", exe);
			if (access(try, R_OK) == 0)
				return mlde_xstrdup(try);
			snprintf(try, sizeof try, "%s/share/mlde/prompts/default.txt", exe);
			if (access(try, R_OK) == 0)
				return mlde_xstrdup(try);
		}
	}
	return mlde_xstrdup("prompts/default.txt");
}

static void load_template(run *R, const char *prompt_path)
{
	char *types_path = NULL, *types_text = NULL, *dir, *base;
	size_t types_len = 0, tlen;
	jv types = jv_object(), vars;
	mlde_error err;
	mlde_sha256 c;
	unsigned char d[MLDE_SHA256_LEN];
	const char *text;

	if (R->opt->types) {
		types_path = mlde_xstrdup(R->opt->types);
	} else {
		char *copy = mlde_xstrdup(prompt_path);
		mlde_buf b = { 0 };

		dir = dirname(copy);
		mlde_buf_printf(&b, "%s/types.json", dir);
		free(copy);
		types_path = mlde_buf_take(&b, NULL);
		if (access(types_path, F_OK) != 0) {
			free(types_path);
			types_path = NULL;
		}
	}
	if (types_path) {
		types_text = read_small_file(types_path, &types_len);
		if (!types_text)
			mlde_die(MLDE_EXIT_IO, "%s: %s", types_path, strerror(errno));
		jv_free(types);
		types = jv_parse_sized(types_text, (int)types_len);
		if (!jv_is_valid(types)) {
			char msg[300];
			mlde_jv_parse_message(types, msg, sizeof msg);
			mlde_die(MLDE_EXIT_DATA, "%s: invalid JSON: %s", types_path, msg);
		}
		if (jv_get_kind(types) != JV_KIND_OBJECT)
			mlde_die(MLDE_EXIT_DATA, "%s: expected a JSON object of types, got %s",
				 types_path, mlde_kind_name(jv_get_kind(types)));
	}
	vars = jv_object_set(jv_object(), jv_string("types"), types);
	mlde_error_clear(&err);
	R->tpl = mlde_template_load(prompt_path, vars, &err);
	if (!R->tpl)
		mlde_die_error(&err);
	live.tpl = R->tpl;
	atexit(cleanup_at_exit);

	/* the prompt's identity: its name, and the sha256 of template + types */
	text = mlde_template_text(R->tpl, &tlen);
	mlde_sha256_init(&c);
	mlde_sha256_update(&c, text, tlen);
	if (types_text)
		mlde_sha256_update(&c, types_text, types_len);
	mlde_sha256_final(&c, d);
	mlde_sha256_to_hex(d, R->prompt_sha);
	{
		char *copy = mlde_xstrdup(prompt_path);
		char *dot;

		base = basename(copy);
		snprintf(R->prompt_name, sizeof R->prompt_name, "%s", base);
		if ((dot = strrchr(R->prompt_name, '.')) && dot != R->prompt_name)
			*dot = '\0';
		free(copy);
	}
	mlde_note(1, "template %s (%zu holes), types %s", prompt_path,
		  mlde_template_holes(R->tpl), types_path ? types_path : "(none)");
	free(types_text);
	free(types_path);
}

/* The key, from --api-key-file or OPENAI_API_KEY; NULL when there is none.
 * The variable is removed from the environment so no template can read it. */
static char *read_key(const mlde_cli *cli, const options *opt)
{
	char *key = NULL;
	size_t n;

	if (opt->key_file) {
		key = read_small_file(opt->key_file, &n);
		if (!key)
			mlde_die(MLDE_EXIT_IO, "%s: %s", opt->key_file, strerror(errno));
		key[strcspn(key, "\r\n")] = '\0';
	} else if (getenv("OPENAI_API_KEY")) {
		key = mlde_xstrdup(getenv("OPENAI_API_KEY"));
	}
	unsetenv("OPENAI_API_KEY");
	if (key) {
		char *s = key, *e;

		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = '\0';
		memmove(key, s, strlen(s) + 1);
		for (const char *p = key; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				mlde_cli_usage_error(cli, "the API key holds a control character");
		if (!*key) {
			free(key);
			key = NULL;
		}
	}
	return key;
}

static char *default_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	mlde_buf b = { 0 };

	if (xdg && *xdg)
		mlde_buf_printf(&b, "%s/mlde/replies", xdg);
	else if (home && *home)
		mlde_buf_printf(&b, "%s/.cache/mlde/replies", home);
	else
		mlde_buf_adds(&b, ".mlde-cache");
	return mlde_buf_take(&b, NULL);
}

/* A 2xx body is usable when it is a completion with a text reply. */
static int check_completion(const char *body, size_t len, char *why, size_t whylen)
{
	jv v, text;
	int rc;

	if (len > 0x7fffffff) {
		snprintf(why, whylen, "too long");
		return -1;
	}
	v = jv_parse_sized(body, (int)len);
	if (!jv_is_valid(v)) {
		mlde_jv_parse_message(v, why, whylen);
		return -1;
	}
	rc = mlde_reply_completion_text(v, &text, NULL, NULL, why, whylen);
	if (rc == 0)
		jv_free(text);
	jv_free(v);
	return rc;
}

/* ---- reading plan records ---- */

static uint64_t hash64(const char *s, uint64_t seed)
{
	uint64_t h = 1469598103934665603ULL ^ (seed * 0x9e3779b97f4a7c15ULL);

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	h ^= h >> 29;
	return h;
}

static _Noreturn void die_at(const mlde_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void die_at(const mlde_reader *r, const char *fmt, ...)
{
	char what[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	mlde_die(MLDE_EXIT_DATA, "%s:%lu: %s", mlde_reader_name(r), mlde_reader_lineno(r), what);
}

static void need(const mlde_reader *r, jv plan, const char *key, jv_kind kind, const char *within)
{
	jv v = jv_object_get(jv_copy(plan), jv_string(key));
	jv_kind k = jv_get_kind(v);

	jv_free(v);
	if (k == JV_KIND_INVALID)
		die_at(r, "field '%s%s': missing", within, key);
	if (k != kind)
		die_at(r, "field '%s%s': expected %s, got %s", within, key, mlde_kind_name(kind),
		       mlde_kind_name(k));
}

static char *string_field(jv obj, const char *key)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	char *s = mlde_xstrdup(jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "");

	jv_free(v);
	return s;
}

static char *dump_sorted(jv v, size_t *len)
{
	jv s = jv_dump_string(v, JV_PRINT_SORTED);
	char *out;

	*len = (size_t)jv_string_length_bytes(jv_copy(s));
	out = memcpy(mlde_xmalloc(*len + 1), jv_string_value(s), *len + 1);
	jv_free(s);
	return out;
}

/* The request body: what is sent, and what the cache is keyed by. */
static char *request_body(const run *R, jv plan, const char *prompt, uint64_t seed, size_t *len)
{
	const options *o = R->opt;
	jv b = jv_object();

	if (o->backend == BACKEND_WORLD) {
		b = jv_object_set(b, jv_string("backend"), jv_string("world"));
		b = jv_object_set(b, jv_string("plan"), jv_object_get(jv_copy(plan), jv_string("id")));
		b = jv_object_set(b, jv_string("type"), jv_object_get(jv_copy(plan), jv_string("type")));
		b = jv_object_set(b, jv_string("query"), jv_object_get(jv_copy(plan), jv_string("query")));
	} else {
		jv msg = jv_object_set(jv_object(), jv_string("role"), jv_string("user"));

		msg = jv_object_set(msg, jv_string("content"), jv_string(prompt));
		b = jv_object_set(b, jv_string("model"), jv_string(o->model));
		b = jv_object_set(b, jv_string("messages"), jv_array_append(jv_array(), msg));
		b = jv_object_set(b, jv_string("temperature"), jv_number(o->temperature));
		b = jv_object_set(b, jv_string("max_tokens"), jv_number((double)o->max_tokens));
	}
	b = jv_object_set(b, jv_string("seed"), jv_number((double)(seed & 0x7fffffff)));
	return dump_sorted(b, len);
}

/* The completion body the world backend "receives": the shape an OpenAI
 * server sends, so the cache and the parser see one format. */
static char *world_completion(jv plan, uint64_t seed, size_t *len)
{
	char *text = mlde_worldgen_reply(plan, seed);
	jv msg = jv_object_set(jv_object(), jv_string("role"), jv_string("assistant"));
	jv choice = jv_object(), body = jv_object();

	msg = jv_object_set(msg, jv_string("content"), jv_string(text));
	free(text);
	choice = jv_object_set(choice, jv_string("index"), jv_number(0));
	choice = jv_object_set(choice, jv_string("message"), msg);
	choice = jv_object_set(choice, jv_string("finish_reason"), jv_string("stop"));
	body = jv_object_set(body, jv_string("object"), jv_string("chat.completion"));
	body = jv_object_set(body, jv_string("model"), jv_string("world"));
	body = jv_object_set(body, jv_string("choices"), jv_array_append(jv_array(), choice));
	return dump_sorted(body, len);
}

static void finish_ok(slot *s, char *reply, size_t len)
{
	s->done = true;
	s->reply = reply;
	s->reply_len = len;
	free(s->body);
	s->body = NULL;
}

static void finish_failed(slot *s, const char *reason, const char *error)
{
	s->done = true;
	s->failed = true;
	s->fail_reason = reason;
	snprintf(s->error, sizeof s->error, "%s", error);
	free(s->body);
	s->body = NULL;
}

/* Look the request up in the cache: true when a usable reply is there. */
static bool from_cache(run *R, slot *s)
{
	mlde_error err;
	char *data, why[200];
	size_t len;
	int got;

	if (!R->use_cache)
		return false;
	mlde_error_clear(&err);
	got = mlde_cache_get(&R->cache, s->sha, &data, &len, &err);
	if (got < 0)
		mlde_die_error(&err);
	if (got == 0)
		return false;
	if (check_completion(data, len, why, sizeof why) < 0) {
		/* a damaged entry: as if missing; a new reply replaces it */
		mlde_warn("%s: cache entry %s unusable (%s): asking again", s->id, s->sha, why);
		R->cache_bad++;
		free(data);
		return false;
	}
	R->from_cache++;
	s->cached = true;
	finish_ok(s, data, len);
	return true;
}

static void store(run *R, const slot *s, const char *body, size_t len)
{
	mlde_error err;

	if (!R->use_cache)
		return;
	mlde_error_clear(&err);
	if (mlde_cache_put(&R->cache, s->sha, body, len, &err) < 0)
		mlde_die_error(&err);
}

/* Take in one plan record: check it, render its prompt, and find or
 * request its reply. */
static void admit(run *R, const mlde_reader *r, jv plan, slot *s)
{
	const options *o = R->opt;
	mlde_error err;
	uint64_t seed;
	char *prompt;
	size_t plen;

	need(r, plan, "id", JV_KIND_STRING, "");
	need(r, plan, "type", JV_KIND_STRING, "");
	need(r, plan, "query", JV_KIND_OBJECT, "");
	{
		jv q = jv_object_get(jv_copy(plan), jv_string("query"));
		need(r, q, "image", JV_KIND_STRING, "query.");
		jv_free(q);
	}
	memset(s, 0, sizeof *s);
	s->plan = plan;
	s->id = string_field(plan, "id");
	mlde_error_clear(&err);
	prompt = mlde_template_render(R->tpl, plan, &plen, &err);
	if (!prompt)
		die_at(r, "plan %s: %s", s->id, err.msg);
	seed = hash64(s->id, o->seed);
	s->body = request_body(R, plan, prompt, seed, &s->len);
	mlde_sha256_hex(s->body, s->len, s->sha);
	if (o->emit == EMIT_PROMPT) {
		s->prompt = prompt;
		s->done = true;
		return;
	}
	free(prompt);
	if (from_cache(R, s))
		return;
	if (o->backend == BACKEND_WORLD) {
		size_t len;
		char *reply = world_completion(plan, seed, &len);

		store(R, s, reply, len);
		finish_ok(s, reply, len);
	} else if (o->offline) {
		R->not_cached++;
		finish_failed(s, "not-cached", "no reply in the cache, and --offline sends nothing");
	} else {
		/* estimated cost for --tpm: about 4 bytes a token, plus the reply */
		mlde_http_submit(R->http, s->body, s->len, (double)s->len / 4.0 + (double)o->max_tokens, s);
	}
}

/* ---- results ---- */

static void on_result(void *ctx, mlde_http_result *res)
{
	run *R = ctx;
	slot *s = res->user;

	if (res->fatal) {
		if (R->show_progress && R->progress_drawn)
			fputs("\r\033[K", stderr);
		mlde_die(MLDE_EXIT_REMOTE, "%s: %s%s", R->opt->base_url, res->error,
			 res->status == 401 ? " (check OPENAI_API_KEY or --api-key-file)" : "");
	}
	if (!res->ok) {
		finish_failed(s, "request-failed", res->error);
		return;
	}
	/* stored before it is parsed: a crash after this point loses nothing */
	store(R, s, res->body, res->len);
	finish_ok(s, res->body, res->len);
	res->body = NULL;
}

static void count_reason(run *R, const char *reason)
{
	int i;

	for (i = 0; i < 16 && R->reasons[i][0]; i++)
		if (strcmp(R->reasons[i], reason) == 0)
			break;
	if (i == 16)
		return;
	if (!R->reasons[i][0])
		snprintf(R->reasons[i], sizeof R->reasons[i], "%s", reason);
	R->reason_n[i]++;
}

static void put(mlde_writer *w, jv rec)
{
	mlde_error err;

	mlde_error_clear(&err);
	if (mlde_writer_put(w, rec, &err) < 0)
		mlde_die_error(&err);  /* the outputs are aborted on the way out */
}

static void put_reject(run *R, const slot *s, const char *reason, const char *detail, jv raw)
{
	jv o = jv_object();

	count_reason(R, reason);
	if (!R->rej) {
		jv_free(raw);
		return;
	}
	o = jv_object_set(o, jv_string("plan"), jv_string(s->id));
	o = jv_object_set(o, jv_string("reason"), jv_string(reason));
	o = jv_object_set(o, jv_string("detail"), jv_string(detail));
	o = jv_object_set(o, jv_string("raw"), raw);
	o = jv_object_set(o, jv_string("request_sha256"), jv_string(s->sha));
	put(R->rej, o);
}

static jv item_record(const run *R, const slot *s, const mlde_reply *rep, jv model)
{
	jv o = jv_object(), opts = jv_array(), prov = jv_object();
	jv query = jv_object_get(jv_copy(s->plan), jv_string("query"));
	char id[600];

	snprintf(id, sizeof id, "%s-%.8s", s->id, s->sha);
	for (int i = 0; i < rep->noptions; i++)
		opts = jv_array_append(opts, jv_string(rep->options[i]));
	prov = jv_object_set(prov, jv_string("backend"),
			     jv_string(R->opt->backend == BACKEND_WORLD ? "world" : "http"));
	prov = jv_object_set(prov, jv_string("model"), model);
	prov = jv_object_set(prov, jv_string("prompt"), jv_string(R->prompt_name));
	prov = jv_object_set(prov, jv_string("prompt_sha256"), jv_string(R->prompt_sha));
	prov = jv_object_set(prov, jv_string("request_sha256"), jv_string(s->sha));
	prov = jv_object_set(prov, jv_string("plan"), jv_string(s->id));
	o = jv_object_set(o, jv_string("id"), jv_string(id));
	o = jv_object_set(o, jv_string("image"), jv_object_get(query, jv_string("image")));
	o = jv_object_set(o, jv_string("question"), jv_string(rep->question));
	o = jv_object_set(o, jv_string("options"), opts);
	o = jv_object_set(o, jv_string("answer"), jv_number(rep->answer));
	o = jv_object_set(o, jv_string("type"), jv_object_get(jv_copy(s->plan), jv_string("type")));
	if (rep->rationale)
		o = jv_object_set(o, jv_string("rationale"), jv_string(rep->rationale));
	o = jv_object_set(o, jv_string("source"), jv_string("mlde-gen"));
	o = jv_object_set(o, jv_string("provenance"), prov);
	return o;
}

/* Write out one finished slot, in plan order. */
static void emit(run *R, slot *s)
{
	const options *o = R->opt;
	jv body, text, model;
	char why[200];

	if (o->emit == EMIT_PROMPT) {
		jv rec = jv_object_set(jv_object(), jv_string("plan"), jv_string(s->id));
		rec = jv_object_set(rec, jv_string("prompt"), jv_string(s->prompt));
		rec = jv_object_set(rec, jv_string("prompt_sha256"), jv_string(R->prompt_sha));
		rec = jv_object_set(rec, jv_string("request_sha256"), jv_string(s->sha));
		put(R->out, rec);
		R->prompts++;
		return;
	}
	if (s->failed) {
		R->failed++;
		put_reject(R, s, s->fail_reason, s->error, jv_null());
		return;
	}
	body = jv_parse_sized(s->reply, (int)s->reply_len);
	/* tokens count what this run paid for, not what the cache saved */
	if (mlde_reply_completion_text(body, &text, s->cached ? NULL : &R->prompt_tokens,
				       s->cached ? NULL : &R->completion_tokens, why, sizeof why) < 0) {
		/* not reached: replies are checked before they are stored or used */
		jv_free(body);
		R->failed++;
		put_reject(R, s, "request-failed", why, jv_null());
		return;
	}
	model = jv_object_get(jv_copy(body), jv_string("model"));
	if (jv_get_kind(model) != JV_KIND_STRING) {
		jv_free(model);
		model = jv_string(o->backend == BACKEND_WORLD ? "world" : o->model);
	}
	jv_free(body);
	if (o->emit == EMIT_RAW) {
		jv rec = jv_object_set(jv_object(), jv_string("plan"), jv_string(s->id));
		rec = jv_object_set(rec, jv_string("raw"), text);
		rec = jv_object_set(rec, jv_string("model"), model);
		rec = jv_object_set(rec, jv_string("request_sha256"), jv_string(s->sha));
		put(R->out, rec);
		R->raws++;
		return;
	}
	{
		mlde_reply rep;

		if (mlde_reply_parse(jv_string_value(text),
				     (size_t)jv_string_length_bytes(jv_copy(text)), &rep) < 0) {
			R->rejected++;
			put_reject(R, s, rep.reason, rep.detail, text);
			jv_free(model);
		} else {
			R->items++;
			put(R->out, item_record(R, s, &rep, model));
			jv_free(text);
		}
		mlde_reply_free(&rep);
	}
}

static void release(slot *s)
{
	jv_free(s->plan);
	free(s->id);
	free(s->body);
	free(s->prompt);
	free(s->reply);
	memset(s, 0, sizeof *s);
}

/* ---- progress ---- */

static void progress(run *R, bool force)
{
	double now = mlde_now(), el = now - R->t0, rate;
	unsigned long done = R->written;
	mlde_http_stats st = { 0 };
	char eta[32] = "";

	if (!R->show_progress || mlde_verbosity < 0 || (!force && now - R->last_progress < 0.17))
		return;
	R->last_progress = now;
	if (R->http)
		mlde_http_stats_get(R->http, &st);
	rate = el > 0.0 ? done / el : 0.0;
	if (R->eof && rate > 0.0) {
		long left = (long)((R->read - done) / rate + 0.5);
		snprintf(eta, sizeof eta, ", ETA %ld:%02ld", left / 60, left % 60);
	}
	fprintf(stderr, "\r\033[K%s: %lu/%s%lu done, %.1f/s, %lu in flight, %lu retries, %lu failed%s",
		mlde_prog, done, R->eof ? "" : ">=", R->read, rate, st.in_flight, st.retries,
		R->failed, eta);
	R->progress_drawn = true;
}

static void summary(run *R)
{
	mlde_http_stats st = { 0 };
	mlde_buf b = { 0 };
	unsigned long total = R->written;

	if (R->show_progress && R->progress_drawn)
		fputs("\r\033[K", stderr);
	if (mlde_verbosity < 0)
		return;
	if (R->http)
		mlde_http_stats_get(R->http, &st);
	if (R->opt->emit == EMIT_PROMPT) {
		mlde_note(0, "%lu plan records = %lu prompts", total, R->prompts);
		return;
	}
	mlde_buf_printf(&b, "%lu plan records = %lu %s + %lu rejected + %lu failed", total,
			R->opt->emit == EMIT_RAW ? R->raws : R->items,
			R->opt->emit == EMIT_RAW ? "replies" : "items", R->rejected, R->failed);
	if (R->reasons[0][0]) {
		mlde_buf_adds(&b, " (");
		for (int i = 0; i < 16 && R->reasons[i][0]; i++)
			mlde_buf_printf(&b, "%s%s %lu", i ? ", " : "", R->reasons[i], R->reason_n[i]);
		mlde_buf_adds(&b, ")");
	}
	if (R->opt->backend == BACKEND_HTTP)
		mlde_buf_printf(&b, "; sent %lu (%lu retries, %lu throttled), from cache %lu; "
				"tokens %.0f (%.0f prompt, %.0f completion)",
				st.attempts, st.retries, st.throttled, R->from_cache,
				R->prompt_tokens + R->completion_tokens, R->prompt_tokens,
				R->completion_tokens);
	else
		mlde_buf_printf(&b, "; from cache %lu", R->from_cache);
	mlde_note(0, "%s", b.p);
	if (R->rejected + R->failed > 0 && !R->rej)
		mlde_warn("%lu rejects not kept: --rejects FILE keeps them", R->rejected + R->failed);
	mlde_buf_free(&b);
}

/* ---- the main loop ---- */

static void generate(run *R, mlde_reader **readers, int nreaders)
{
	int cur = 0;
	mlde_error err;

	mlde_error_clear(&err);
	while (!R->eof || R->count > 0) {
		/* fill the window */
		while (!R->eof && R->count < R->cap) {
			jv plan;
			int got;

			got = mlde_reader_next(readers[cur], &plan, &err);
			if (got < 0)
				mlde_die_error(&err);
			if (got == 0) {
				if (++cur == nreaders)
					R->eof = true;
				continue;
			}
			admit(R, readers[cur], plan, &R->ring[(R->head + R->count) % R->cap]);
			R->count++;
			R->read++;
		}
		/* write what is finished at the head */
		while (R->count > 0 && R->ring[R->head].done) {
			emit(R, &R->ring[R->head]);
			release(&R->ring[R->head]);
			R->head = (R->head + 1) % R->cap;
			R->count--;
			R->written++;
		}
		progress(R, false);
		if (R->count == 0)
			continue;
		if (!R->http || mlde_http_pending(R->http) == 0)
			mlde_die(MLDE_EXIT_INTERNAL, "a plan record waits for nothing (a bug)");
		if (mlde_http_poll(R->http, 100, on_result, R, &err) < 0)
			mlde_die_error(&err);
	}
}

static void parse_options(mlde_cli *cli, int *argc, char **argv, options *opt)
{
	static const char shortopts[] = MLDE_COMMON_SHORTOPTS "j:";
	int c;

	mlde_cli_init(cli, "mlde-gen", argc, argv, shortopts, longopts);
	while ((c = getopt_long(*argc, argv, shortopts, longopts, NULL)) != -1) {
		if (mlde_cli_common(cli, c, optarg))
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
		case OPT_CACHE: opt->cache = optarg; break;
		case OPT_OFFLINE: opt->offline = true; break;
		case OPT_BASE_URL: opt->base_url = optarg; break;
		case OPT_MODEL: opt->model = optarg; break;
		case OPT_KEY_FILE: opt->key_file = optarg; break;
		case OPT_PROGRESS: opt->progress = true; break;
		case OPT_TEMPERATURE:
			opt->temperature = mlde_cli_double(cli, "--temperature", optarg, 0.0, 2.0);
			break;
		case OPT_MAX_TOKENS:
			opt->max_tokens = mlde_cli_long(cli, "--max-tokens", optarg, 1, 1000000L);
			break;
		case 'j':
			opt->jobs = mlde_cli_long(cli, "-j", optarg, 1, 4096);
			break;
		case OPT_RPM:
			opt->rpm = mlde_cli_double(cli, "--rpm", optarg, 0.0, 1e9);
			break;
		case OPT_TPM:
			opt->tpm = mlde_cli_double(cli, "--tpm", optarg, 0.0, 1e12);
			break;
		case OPT_RETRIES:
			opt->retries = mlde_cli_long(cli, "--retries", optarg, 0, 100);
			break;
		case OPT_TIMEOUT:
			opt->timeout = mlde_cli_double(cli, "--timeout", optarg, 0.001, 86400.0);
			break;
		case OPT_BACKOFF:
			opt->backoff = mlde_cli_double(cli, "--backoff", optarg, 0.0, 3600.0);
			break;
		case OPT_SEED:
			opt->seed = (unsigned long long)mlde_cli_long(cli, "--seed", optarg, 0,
								       2147483647L);
			break;
		default:
			mlde_cli_usage_error(cli, "unhandled option");
		}
	}
}

int main(int argc, char **argv)
{
	mlde_cli cli = { .synopsis = SYNOPSIS, .help = help };
	options opt = { .backend = BACKEND_HTTP, .emit = EMIT_ITEM, .model = "gpt-4o",
			.temperature = 0.7, .max_tokens = 512, .jobs = 8, .retries = 5,
			.timeout = 120.0, .backoff = 1.0, .seed = 1 };
	run R = { .opt = &opt };
	mlde_reader **readers;
	int nreaders;
	char *prompt_path, *cache_dir = NULL, *key = NULL;
	mlde_error err;

	parse_options(&cli, &argc, argv, &opt);
	if (!opt.base_url)
		opt.base_url = getenv("OPENAI_BASE_URL") && *getenv("OPENAI_BASE_URL")
			? getenv("OPENAI_BASE_URL") : "https://api.openai.com/v1";
	if (opt.backend == BACKEND_HTTP && opt.emit != EMIT_PROMPT && !opt.offline)
		key = read_key(&cli, &opt);
	else
		unsetenv("OPENAI_API_KEY");
	prompt_path = opt.prompt ? mlde_xstrdup(opt.prompt) : default_prompt();
	load_template(&R, prompt_path);

	mlde_error_clear(&err);
	if (opt.emit != EMIT_PROMPT) {
		if (opt.cache)
			cache_dir = mlde_xstrdup(opt.cache);
		else if (opt.backend == BACKEND_HTTP)
			cache_dir = default_cache_dir();
		if (cache_dir) {
			if (mlde_cache_open(&R.cache, cache_dir, &err) < 0)
				mlde_die_error(&err);
			R.use_cache = true;
			mlde_note(1, "reply cache %s", cache_dir);
		}
	}
	if (opt.backend == BACKEND_HTTP && opt.emit != EMIT_PROMPT && !opt.offline) {
		mlde_buf url = { 0 }, auth = { 0 };
		size_t n = strlen(opt.base_url);
		mlde_http_opts ho = { .parallel = (int)opt.jobs, .rpm = opt.rpm, .tpm = opt.tpm,
				      .retries = (int)opt.retries, .timeout = opt.timeout,
				      .backoff = opt.backoff, .backoff_max = 60.0, .seed = opt.seed,
				      .check = check_completion };

		while (n > 0 && opt.base_url[n - 1] == '/')
			n--;
		mlde_buf_printf(&url, "%.*s/chat/completions", (int)n, opt.base_url);
		ho.url = url.p;
		if (key) {
			mlde_buf_printf(&auth, "Authorization: Bearer %s", key);
			ho.auth = auth.p;
		} else {
			mlde_note(1, "no API key (OPENAI_API_KEY or --api-key-file): none sent");
		}
		R.http = mlde_http_new(&ho, &err);
		if (auth.p)
			explicit_bzero(auth.p, auth.len);
		mlde_buf_free(&auth);
		if (key)
			explicit_bzero(key, strlen(key));
		free(key);
		if (!R.http)
			mlde_die_error(&err);
		mlde_note(1, "sending to %s, %ld in flight", url.p, opt.jobs);
		mlde_buf_free(&url);
	}

	nreaders = optind < argc ? argc - optind : 1;
	readers = mlde_xmalloc((size_t)nreaders * sizeof *readers);
	for (int i = 0; i < nreaders; i++) {
		readers[i] = mlde_reader_open(optind < argc ? argv[optind + i] : "-", &err);
		if (!readers[i])
			mlde_die_error(&err);
	}
	/* the window: far more than in flight, so a slow head rarely stalls it */
	R.cap = (size_t)(opt.jobs * 16 > 256 ? opt.jobs * 16 : 256);
	R.ring = calloc(R.cap, sizeof *R.ring);
	if (!R.ring)
		mlde_die(MLDE_EXIT_INTERNAL, "out of memory");
	R.show_progress = opt.progress || isatty(STDERR_FILENO);
	R.t0 = mlde_now();
	R.out = live.out = mlde_cli_open_output(&cli);
	if (opt.rejects) {
		mlde_output ro = cli.out;

		ro.path = opt.rejects;
		R.rej = live.rej = mlde_writer_open(&ro, &err);
		if (!R.rej)
			mlde_die_error(&err);
	}

	generate(&R, readers, nreaders);

	/* closing takes care of its own FILE.tmp; the other is still aborted */
	live.rej = NULL;
	if (R.rej)
		mlde_cli_close_output(R.rej);
	live.out = NULL;
	mlde_cli_close_output(R.out);
	summary(&R);
	for (int i = 0; i < nreaders; i++)
		mlde_reader_close(readers[i]);
	free(readers);
	free(R.ring);
	mlde_http_free(R.http);
	cleanup_at_exit();
	mlde_cache_close(&R.cache);
	free(cache_dir);
	free(prompt_path);
	if (R.failed) {
		mlde_warn("%lu request%s failed for good%s", R.failed, R.failed == 1 ? "" : "s",
			  R.not_cached ? " (not in the cache, --offline)" : "");
		return MLDE_EXIT_REMOTE;
	}
	return MLDE_EXIT_OK;
}
