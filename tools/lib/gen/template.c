/* template.c - {{ jq }} templates.  The text is split into literal pieces
 * and holes; the holes become one jq program,
 *
 *     HELPERS [ (try [HOLE1
 *     ] catch {"mlde_error": .}), (try [HOLE2
 *     ] catch ...), ... ]
 *
 * so a record costs one jq_start, and a hole that fails on a record is told
 * apart from the others.  (The newline before each ']' ends a '#' comment a
 * hole may hold.)  A program that does not compile is compiled again hole by
 * hole, to name the line of the bad one. */
#include "gen/template.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jq.h>

#include "base/buf.h"

/* Helpers every hole may call; documented in mlde-gen(1). */
static const char helpers[] =
	"def letter: [65 + .] | implode;\n"
	"def choices: to_entries | map(\"(\\(.key | letter)) \\(.value)\") | join(\" \");\n"
	"def box: \"[\" + (map((. * 1000 | round) / 1000 | tostring) | join(\", \")) + \"]\";\n"
	"def answer_text: \"The answer is (\\(.answer | letter)): \\(.options[.answer]).\";\n";

typedef struct hole {
	size_t lit_start, lit_len;  /* the literal text before the hole */
	char *expr;
	unsigned long line;
} hole;

struct mlde_template {
	char *name, *text;
	size_t len;
	hole *holes;
	size_t nholes;
	size_t tail_start;          /* the literal text after the last hole */
	jq_state *jq;
	jv vars;
};

/* jq reports compile errors through a callback; keep the first. */
typedef struct jq_messages {
	char first[512];
	int n;
} jq_messages;

static void on_jq_error(void *data, jv msg)
{
	jq_messages *m = data;

	if (m->n++ == 0) {
		if (jv_get_kind(msg) == JV_KIND_STRING) {
			snprintf(m->first, sizeof m->first, "%s", jv_string_value(msg));
		} else {
			jv s = jv_dump_string(jv_copy(msg), 0);
			snprintf(m->first, sizeof m->first, "%s", jv_string_value(s));
			jv_free(s);
		}
	}
	jv_free(msg);
}

/* jq's compile message without its prefix, the position in the generated
 * program (meaningless to the user) and the quoted source. */
static void tidy_message(char *msg)
{
	char *p;

	if (strncmp(msg, "jq: error: ", 11) == 0)
		memmove(msg, msg + 11, strlen(msg + 11) + 1);
	if ((p = strstr(msg, " at <top-level>")))
		*p = '\0';
	msg[strcspn(msg, "\n")] = '\0';
}

/* Where the hole that starts at text[i] (just after "{{") ends: the index
 * of its closing "}}", or -1.  jq strings (with \( ) interpolations nested
 * in them) and braces are skipped, so "}}" inside either does not close it. */
static long hole_end(const char *text, size_t len, size_t i)
{
	/* stack of contexts: 0 code, 1 string; parens counts an interpolation's depth */
	int stack[64], parens[64], top = 0, braces = 0;

	stack[0] = 0;
	parens[0] = 0;
	for (; i < len; i++) {
		char c = text[i];

		if (stack[top] == 1) {
			if (c == '\\' && i + 1 < len && text[i + 1] == '(') {
				if (top + 1 >= 64)
					return -1;
				stack[++top] = 0;
				parens[top] = 1;
				i++;
			} else if (c == '\\') {
				i++;
			} else if (c == '"') {
				top--;
			}
			continue;
		}
		if (c == '"') {
			if (top + 1 >= 64)
				return -1;
			stack[++top] = 1;
		} else if (c == '(' && top > 0) {
			parens[top]++;
		} else if (c == ')' && top > 0 && --parens[top] == 0) {
			top--;  /* back in the string the interpolation is part of */
		} else if (c == '{') {
			braces++;
		} else if (c == '}') {
			if (braces > 0)
				braces--;
			else if (top == 0 && i + 1 < len && text[i + 1] == '}')
				return (long)i;
		}
	}
	return -1;
}

static unsigned long line_at(const char *text, size_t upto)
{
	unsigned long line = 1;

	for (size_t i = 0; i < upto; i++)
		line += text[i] == '\n';
	return line;
}

static int split(mlde_template *t, mlde_error *err)
{
	size_t at = 0;
	const char *text = t->text;

	for (;;) {
		const char *open = NULL;
		size_t start, end;
		long close;

		for (size_t i = at; i + 1 < t->len; i++)
			if (text[i] == '{' && text[i + 1] == '{') {
				open = text + i;
				break;
			}
		if (!open)
			break;
		start = (size_t)(open - text) + 2;
		close = hole_end(text, t->len, start);
		if (close < 0) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s:%lu: '{{' without its '}}'", t->name,
				       line_at(text, start));
			return -1;
		}
		end = (size_t)close;
		while (start < end && strchr(" \t\r\n", text[start]))
			start++;
		while (end > start && strchr(" \t\r\n", text[end - 1]))
			end--;
		if (start == end) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s:%lu: empty '{{ }}'", t->name,
				       line_at(text, (size_t)(open - text)));
			return -1;
		}
		t->holes = mlde_xrealloc(t->holes, (t->nholes + 1) * sizeof *t->holes);
		t->holes[t->nholes++] = (hole){
			.lit_start = at, .lit_len = (size_t)(open - text) - at,
			.expr = memcpy(mlde_xmalloc(end - start + 1), text + start, end - start),
			.line = line_at(text, (size_t)(open - text)),
		};
		t->holes[t->nholes - 1].expr[end - start] = '\0';
		at = (size_t)close + 2;
	}
	t->tail_start = at;
	return 0;
}

static int compile(jq_state *jq, const char *program, jv vars, jq_messages *msgs)
{
	msgs->n = 0;
	msgs->first[0] = '\0';
	jq_set_error_cb(jq, on_jq_error, msgs);
	return jq_compile_args(jq, program, vars);
}

/* The combined program failed: find the first hole that fails alone. */
static void blame(mlde_template *t, const char *whole_msg, mlde_error *err)
{
	for (size_t i = 0; i < t->nholes; i++) {
		jq_state *jq = jq_init();
		jq_messages m;
		mlde_buf p = { 0 };
		int ok;

		if (!jq)
			break;
		mlde_buf_adds(&p, helpers);
		mlde_buf_printf(&p, "[%s\n]", t->holes[i].expr);
		ok = compile(jq, p.p, jv_copy(t->vars), &m);
		jq_teardown(&jq);
		mlde_buf_free(&p);
		if (!ok) {
			tidy_message(m.first);
			mlde_error_set(err, MLDE_EXIT_DATA, "%s:%lu: jq: %s", t->name,
				       t->holes[i].line, m.first);
			return;
		}
	}
	mlde_error_set(err, MLDE_EXIT_DATA, "%s: jq: %s", t->name, whole_msg);
}

mlde_template *mlde_template_new(const char *name, const char *text, size_t len, jv vars,
				 mlde_error *err)
{
	mlde_template *t = mlde_xmalloc(sizeof *t);
	mlde_buf prog = { 0 };
	jq_messages m;

	memset(t, 0, sizeof *t);
	t->name = mlde_xstrdup(name);
	t->text = memcpy(mlde_xmalloc(len + 1), text, len);
	t->text[len] = '\0';
	t->len = len;
	t->vars = vars;
	if (memchr(text, '\0', len)) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: a NUL byte in the template", name);
		goto fail;
	}
	if (split(t, err) < 0)
		goto fail;
	if (t->nholes == 0)
		return t;
	t->jq = jq_init();
	if (!t->jq) {
		mlde_error_set(err, MLDE_EXIT_INTERNAL, "out of memory (jq_init)");
		goto fail;
	}
	mlde_buf_adds(&prog, helpers);
	mlde_buf_adds(&prog, "[");
	for (size_t i = 0; i < t->nholes; i++)
		mlde_buf_printf(&prog, "%s(try [%s\n] catch {\"mlde_error\": .})", i ? ", " : "",
				t->holes[i].expr);
	mlde_buf_adds(&prog, "]");
	if (!compile(t->jq, prog.p, jv_copy(t->vars), &m)) {
		tidy_message(m.first);
		blame(t, m.first, err);
		goto fail;
	}
	mlde_buf_free(&prog);
	return t;
fail:
	mlde_buf_free(&prog);
	mlde_template_free(t);
	return NULL;
}

mlde_template *mlde_template_load(const char *path, jv vars, mlde_error *err)
{
	FILE *f = fopen(path, "rb");
	mlde_buf b = { 0 };
	char chunk[8192];
	size_t n;
	mlde_template *t;

	if (!f) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		jv_free(vars);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		mlde_buf_add(&b, chunk, n);
	if (ferror(f)) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: read error: %s", path, strerror(errno));
		fclose(f);
		mlde_buf_free(&b);
		jv_free(vars);
		return NULL;
	}
	fclose(f);
	t = mlde_template_new(path, b.p ? b.p : "", b.len, vars, err);
	mlde_buf_free(&b);
	return t;
}

/* Append one hole's values (the array v, borrowed). */
static void put_values(mlde_buf *out, jv v)
{
	int n = jv_array_length(jv_copy(v)), written = 0;

	for (int i = 0; i < n; i++) {
		jv x = jv_array_get(jv_copy(v), i);
		jv_kind k = jv_get_kind(x);

		if (k == JV_KIND_NULL) {
			jv_free(x);
			continue;
		}
		if (written++)
			mlde_buf_addc(out, '\n');
		if (k == JV_KIND_STRING) {
			mlde_buf_add(out, jv_string_value(x), (size_t)jv_string_length_bytes(jv_copy(x)));
			jv_free(x);
		} else {
			jv s = jv_dump_string(x, 0);
			mlde_buf_adds(out, jv_string_value(s));
			jv_free(s);
		}
	}
}

static void message_of(jv e, char *buf, size_t len)
{
	if (jv_get_kind(e) == JV_KIND_STRING) {
		snprintf(buf, len, "%s", jv_string_value(e));
	} else {
		jv s = jv_dump_string(jv_copy(e), 0);
		snprintf(buf, len, "%s (not a string)", jv_string_value(s));
		jv_free(s);
	}
}

char *mlde_template_render(mlde_template *t, jv rec, size_t *len, mlde_error *err)
{
	mlde_buf out = { 0 };
	jv all = jv_invalid(), extra;

	if (t->nholes) {
		jq_start(t->jq, jv_copy(rec), 0);
		all = jq_next(t->jq);
		extra = jq_next(t->jq);  /* the program yields exactly one array */
		jv_free(extra);
		if (jv_get_kind(all) != JV_KIND_ARRAY) {
			char msg[512] = "no value";

			if (jv_invalid_has_msg(jv_copy(all))) {
				jv e = jv_invalid_get_msg(all);
				message_of(e, msg, sizeof msg);
				jv_free(e);
			} else {
				jv_free(all);
			}
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: jq: %s", t->name, msg);
			return NULL;
		}
	}
	for (size_t i = 0; i < t->nholes; i++) {
		jv v = jv_array_get(jv_copy(all), (int)i);

		mlde_buf_add(&out, t->text + t->holes[i].lit_start, t->holes[i].lit_len);
		if (jv_get_kind(v) == JV_KIND_OBJECT) {
			char msg[512];
			jv e = jv_object_get(v, jv_string("mlde_error"));

			message_of(e, msg, sizeof msg);
			jv_free(e);
			jv_free(all);
			mlde_buf_free(&out);
			mlde_error_set(err, MLDE_EXIT_DATA, "%s:%lu: jq: %s", t->name,
				       t->holes[i].line, msg);
			return NULL;
		}
		put_values(&out, v);
		jv_free(v);
	}
	jv_free(all);
	mlde_buf_add(&out, t->text + t->tail_start, t->len - t->tail_start);
	return mlde_buf_take(&out, len);
}

const char *mlde_template_text(const mlde_template *t, size_t *len)
{
	if (len)
		*len = t->len;
	return t->text;
}

size_t mlde_template_holes(const mlde_template *t)
{
	return t->nholes;
}

void mlde_template_free(mlde_template *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nholes; i++)
		free(t->holes[i].expr);
	free(t->holes);
	if (t->jq)
		jq_teardown(&t->jq);
	jv_free(t->vars);
	free(t->name);
	free(t->text);
	free(t);
}

/* ---- rendered ahead ---- */

enum { AHEAD_QUEUED, AHEAD_TAKEN, AHEAD_DONE };

typedef struct ahead_slot {
	jv rec;
	char *tag, *text;
	size_t len;
	mlde_error err;
	int state;
} ahead_slot;

struct mlde_render_ahead {
	mlde_template *t;       /* the caller's */
	ahead_slot *ring;
	size_t cap, head, n;    /* n slots from head, in order */
	/* the second thread: started the first time the queue is full; mu
	 * guards the ring's states, head and n once it runs */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	bool started, quit;
	jv vars;                /* its template's variables, copied deep */
};

static void render_slot(mlde_template *t, ahead_slot *s)
{
	mlde_error_clear(&s->err);
	s->text = mlde_template_render(t, s->rec, &s->len, &s->err);
}

/* The second thread's template is compiled here, on that thread, from
 * the caller's text and a deep copy of its variables made before. */
static void *ahead_main(void *arg)
{
	mlde_render_ahead *q = arg;
	mlde_error err;
	mlde_template *t = mlde_template_new(q->t->name, q->t->text, q->t->len, q->vars, &err);

	q->vars = jv_invalid();
	pthread_mutex_lock(&q->mu);
	while (t) {
		ahead_slot *s = NULL;

		/* the newest record nobody has taken: the caller takes the oldest,
		 * so the two rarely meet (and one never waits for the other) */
		for (size_t k = q->n; k-- > 0 && !s;)
			if (q->ring[(q->head + k) % q->cap].state == AHEAD_QUEUED)
				s = &q->ring[(q->head + k) % q->cap];
		if (q->quit)
			break;
		if (!s) {
			pthread_cond_wait(&q->cv, &q->mu);
			continue;
		}
		s->state = AHEAD_TAKEN;
		pthread_mutex_unlock(&q->mu);
		render_slot(t, s);
		pthread_mutex_lock(&q->mu);
		s->state = AHEAD_DONE;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	mlde_template_free(t);
	return NULL;
}

/* Deep: the copy shares no reference count with the caller's values. */
static jv deep_copy(jv v)
{
	jv s = jv_dump_string(jv_copy(v), 0), c = jv_parse(jv_string_value(s));

	jv_free(s);
	return c;
}

static void ahead_start(mlde_render_ahead *q)
{
	q->started = true;
	if (q->t->nholes == 0 || q->cap < 2)
		return;  /* nothing to render, or nothing ahead */
	q->vars = deep_copy(q->t->vars);
	q->quit = false;
	if (pthread_create(&q->th, NULL, ahead_main, q) != 0) {
		jv_free(q->vars);
		q->vars = jv_invalid();
		q->quit = true;  /* the caller renders them all */
	}
}

mlde_render_ahead *mlde_render_ahead_new(mlde_template *t, size_t cap)
{
	mlde_render_ahead *q = mlde_xcalloc(1, sizeof *q);

	q->t = t;
	q->cap = cap ? cap : 1;
	q->ring = mlde_xcalloc(q->cap, sizeof *q->ring);
	q->vars = jv_invalid();
	q->quit = true;  /* until the thread runs: nothing to stop */
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	return q;
}

size_t mlde_render_ahead_count(const mlde_render_ahead *q)
{
	return q->n;
}

bool mlde_render_ahead_full(const mlde_render_ahead *q)
{
	return q->n == q->cap;
}

void mlde_render_ahead_push(mlde_render_ahead *q, jv rec, const char *tag)
{
	ahead_slot *s = &q->ring[(q->head + q->n) % q->cap];

	pthread_mutex_lock(&q->mu);
	*s = (ahead_slot){ .rec = rec, .tag = mlde_xstrdup(tag), .state = AHEAD_QUEUED };
	q->n++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	if (q->n == q->cap && !q->started)
		ahead_start(q);
}

char *mlde_render_ahead_pop(mlde_render_ahead *q, jv *rec, char **tag, size_t *len,
			    mlde_error *err)
{
	ahead_slot *s = &q->ring[q->head];
	char *text;

	pthread_mutex_lock(&q->mu);
	if (s->state == AHEAD_QUEUED) {
		s->state = AHEAD_TAKEN;
		pthread_mutex_unlock(&q->mu);
		render_slot(q->t, s);
		pthread_mutex_lock(&q->mu);
		s->state = AHEAD_DONE;
	}
	while (s->state != AHEAD_DONE)
		pthread_cond_wait(&q->cv, &q->mu);
	q->head = (q->head + 1) % q->cap;
	q->n--;
	pthread_mutex_unlock(&q->mu);
	*rec = s->rec;
	*tag = s->tag;
	text = s->text;
	if (len)
		*len = s->len;
	if (!text)
		*err = s->err;
	return text;
}

void mlde_render_ahead_free(mlde_render_ahead *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	if (!q->quit) {
		q->quit = true;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
		pthread_join(q->th, NULL);
	} else {
		pthread_mutex_unlock(&q->mu);
	}
	for (size_t k = 0; k < q->n; k++) {
		ahead_slot *s = &q->ring[(q->head + k) % q->cap];

		jv_free(s->rec);
		free(s->tag);
		free(s->text);
	}
	jv_free(q->vars);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q->ring);
	free(q);
}
