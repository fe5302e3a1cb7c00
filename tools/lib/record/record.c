/* record.c - building and checking the records of DESIGN.md: the one place
 * that names their fields (through the MLDE_F_* macros of record.h). */
#include "record/record.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/jsonl.h"

/* "WHERE: field 'x': missing", or "...: expected string, got number"; the
 * fault says which, for callers that act on it. */
static int field_error(mlde_error *err, mlde_record_fault *f, const char *where,
		       const char *field, jv_kind got, const char *want)
{
	if (got == JV_KIND_INVALID)
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '%s': missing", where, field);
	else
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '%s': expected %s, got %s", where,
			       field, want, mlde_kind_name(got));
	if (f) {
		f->what = got == JV_KIND_INVALID ? MLDE_FAULT_MISSING : MLDE_FAULT_KIND;
		f->field = field;
	}
	return -1;
}

static int value_fault(mlde_record_fault *f, const char *field)
{
	if (f) {
		f->what = MLDE_FAULT_VALUE;
		f->field = field;
	}
	return -1;
}

/* A string field string_of refused: "WHERE: field 'x': NUL (\u0000) in a
 * string"; otherwise as field_error. */
static int string_error(mlde_error *err, mlde_record_fault *f, const char *where,
			const char *field, jv_kind got)
{
	if (got != JV_KIND_STRING)
		return field_error(err, f, where, field, got, "string");
	mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '%s': NUL (\\u0000) in a string", where,
		       field);
	return value_fault(f, field);
}

static jv_kind kind_of(jv rec, const char *f)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(f));
	jv_kind k = jv_get_kind(v);

	jv_free(v);
	return k;
}

/* A string's bytes as a C string, or NULL when it holds a NUL, which the
 * C string would cut ("a\u0000b" would read as "a").  The JSONL reader
 * refuses such lines already; this catches records made in memory (an
 * LLM's reply). */
static const char *c_string(jv s)
{
	const char *p = jv_string_value(s);

	return strlen(p) == (size_t)jv_string_length_bytes(jv_copy(s)) ? p : NULL;
}

/* The string field f of rec, or NULL with *kind saying what is there
 * (JV_KIND_STRING: a string holding a NUL).  The pointer lives as long as
 * rec does: rec still holds the string. */
static const char *string_of(jv rec, const char *f, jv_kind *kind)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(f));
	const char *s = NULL;

	*kind = jv_get_kind(v);
	if (*kind == JV_KIND_STRING)
		s = c_string(v);
	jv_free(v);
	return s;
}

/* An optional string field: *out (NULL when absent or not a string, as
 * before), or -1 when it is a string holding a NUL. */
static int may_string(jv rec, const char *f, const char *where, const char **out,
		      mlde_record_fault *fault, mlde_error *err)
{
	jv_kind k;

	*out = string_of(rec, f, &k);
	if (!*out && k == JV_KIND_STRING)
		return string_error(err, fault, where, f, k);
	return 0;
}

/* A string field that must be there: *out, or -1 with err set. */
static int need_string(jv rec, const char *f, const char *shown, const char *where,
		       const char **out, mlde_record_fault *fault, mlde_error *err)
{
	jv_kind k;

	*out = string_of(rec, f, &k);
	if (!*out)
		return string_error(err, fault, where, shown, k);
	return 0;
}

/* ---- item ---- */

static int check_options(jv rec, const char *where, mlde_item *it, mlde_error *err)
{
	jv opts = jv_object_get(jv_copy(rec), jv_string(MLDE_F_OPTIONS));
	int n, rc = -1;

	if (jv_get_kind(opts) != JV_KIND_ARRAY) {
		field_error(err, &it->fault, where, MLDE_F_OPTIONS, jv_get_kind(opts), "array");
		goto out;
	}
	n = jv_array_length(jv_copy(opts));
	if (n < MLDE_OPTIONS_MIN || n > MLDE_OPTIONS_MAX) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '" MLDE_F_OPTIONS "': %d option%s "
			       "(%d to %d needed)", where, n, n == 1 ? "" : "s", MLDE_OPTIONS_MIN,
			       MLDE_OPTIONS_MAX);
		value_fault(&it->fault, MLDE_F_OPTIONS);
		goto out;
	}
	for (int j = 0; j < n; j++) {
		jv o = jv_array_get(jv_copy(opts), j);

		if (jv_get_kind(o) != JV_KIND_STRING) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '" MLDE_F_OPTIONS "': option "
				       "%d is %s, not a string", where, j,
				       mlde_kind_name(jv_get_kind(o)));
			it->fault = (mlde_record_fault){ MLDE_FAULT_KIND, MLDE_F_OPTIONS };
			jv_free(o);
			goto out;
		}
		it->options[j] = c_string(o);  /* rec holds it */
		jv_free(o);
		if (!it->options[j]) {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '" MLDE_F_OPTIONS "': option "
				       "%d: NUL (\\u0000) in a string", where, j);
			value_fault(&it->fault, MLDE_F_OPTIONS);
			goto out;
		}
	}
	it->nopt = n;
	rc = 0;
out:
	jv_free(opts);
	return rc;
}

static int check_answer(jv rec, int flags, const char *where, mlde_item *it, mlde_error *err)
{
	jv ans = jv_object_get(jv_copy(rec), jv_string(MLDE_F_ANSWER));
	jv_kind k = jv_get_kind(ans);
	int rc = -1;

	if (k == JV_KIND_INVALID || k == JV_KIND_NULL) {
		if (!(flags & MLDE_ITEM_NEED_ANSWER))
			rc = 0;
		else
			field_error(err, &it->fault, where, MLDE_F_ANSWER, k, "integer");
	} else if (k != JV_KIND_NUMBER) {
		field_error(err, &it->fault, where, MLDE_F_ANSWER, k, "integer");
	} else if (!jv_is_integer(ans)) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '" MLDE_F_ANSWER "': %g is not an "
			       "integer", where, jv_number_value(ans));
		value_fault(&it->fault, MLDE_F_ANSWER);
	} else if (jv_number_value(ans) < 0 || jv_number_value(ans) >= it->nopt) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '" MLDE_F_ANSWER "': %g is out of "
			       "range (0 to %d for %d options)", where, jv_number_value(ans),
			       it->nopt - 1, it->nopt);
		value_fault(&it->fault, MLDE_F_ANSWER);
	} else {
		it->answer = (int)jv_number_value(ans);
		rc = 0;
	}
	jv_free(ans);
	return rc;
}

int mlde_item_check(jv rec, int flags, const char *where, mlde_item *it, mlde_error *err)
{
	jv_kind k;

	memset(it, 0, sizeof *it);
	it->answer = -1;
	if (need_string(rec, MLDE_F_IMAGE, MLDE_F_IMAGE, where, &it->image, &it->fault, err) < 0)
		return -1;
	it->type = string_of(rec, MLDE_F_TYPE, &k);
	if (!it->type && k != JV_KIND_INVALID && k != JV_KIND_NULL)
		return string_error(err, &it->fault, where, MLDE_F_TYPE, k);
	if (may_string(rec, MLDE_F_ID, where, &it->id, &it->fault, err) < 0 ||
	    may_string(rec, MLDE_F_RATIONALE, where, &it->rationale, &it->fault, err) < 0 ||
	    may_string(rec, MLDE_F_SOURCE, where, &it->source, &it->fault, err) < 0)
		return -1;
	it->question = string_of(rec, MLDE_F_QUESTION, &k);
	if (!it->question) {
		if ((flags & MLDE_ITEM_IMAGE_ONLY) && k == JV_KIND_INVALID)
			return 0;
		return string_error(err, &it->fault, where, MLDE_F_QUESTION, k);
	}
	if (check_options(rec, where, it, err) < 0)
		return -1;
	return check_answer(rec, flags, where, it, err);
}

jv mlde_item_record(const mlde_item *it)
{
	jv o = jv_object(), opts = jv_array();

	for (int i = 0; i < it->nopt; i++)
		opts = jv_array_append(opts, jv_string(it->options[i]));
	o = jv_object_set(o, jv_string(MLDE_F_ID), jv_string(it->id));
	o = jv_object_set(o, jv_string(MLDE_F_IMAGE), jv_string(it->image));
	o = jv_object_set(o, jv_string(MLDE_F_QUESTION), jv_string(it->question));
	o = jv_object_set(o, jv_string(MLDE_F_OPTIONS), opts);
	o = jv_object_set(o, jv_string(MLDE_F_ANSWER), jv_number(it->answer));
	o = jv_object_set(o, jv_string(MLDE_F_TYPE), jv_string(it->type));
	if (it->rationale)
		o = jv_object_set(o, jv_string(MLDE_F_RATIONALE), jv_string(it->rationale));
	if (it->source)
		o = jv_object_set(o, jv_string(MLDE_F_SOURCE), jv_string(it->source));
	return o;
}

/* ---- generated item ---- */

jv mlde_item_set_provenance(jv item, const mlde_provenance *p)
{
	jv prov = jv_object();

	prov = jv_object_set(prov, jv_string(MLDE_F_BACKEND), jv_string(p->backend));
	prov = jv_object_set(prov, jv_string(MLDE_F_MODEL), jv_string(p->model));
	prov = jv_object_set(prov, jv_string(MLDE_F_PROMPT), jv_string(p->prompt));
	prov = jv_object_set(prov, jv_string(MLDE_F_PROMPT_SHA256), jv_string(p->prompt_sha256));
	prov = jv_object_set(prov, jv_string(MLDE_F_REQUEST_SHA256),
			     jv_string(p->request_sha256));
	prov = jv_object_set(prov, jv_string(MLDE_F_PLAN), jv_string(p->plan));
	return jv_object_set(item, jv_string(MLDE_F_PROVENANCE), prov);
}

int mlde_generated_check(jv rec, const char *where, mlde_item *it, mlde_error *err)
{
	static const char *const fields[] = {
		MLDE_F_BACKEND, MLDE_F_MODEL, MLDE_F_PROMPT, MLDE_F_PROMPT_SHA256,
		MLDE_F_REQUEST_SHA256, MLDE_F_PLAN,
	};
	jv prov;
	int rc = 0;

	if (mlde_item_check(rec, MLDE_ITEM_NEED_ANSWER, where, it, err) < 0)
		return -1;
	prov = jv_object_get(jv_copy(rec), jv_string(MLDE_F_PROVENANCE));
	if (jv_get_kind(prov) != JV_KIND_OBJECT) {
		rc = field_error(err, &it->fault, where, MLDE_F_PROVENANCE, jv_get_kind(prov),
				 "object");
	} else {
		for (size_t i = 0; i < sizeof fields / sizeof *fields && rc == 0; i++) {
			jv_kind k = kind_of(prov, fields[i]);
			char shown[64];

			snprintf(shown, sizeof shown, MLDE_F_PROVENANCE ".%s", fields[i]);
			if (k != JV_KIND_STRING) {
				rc = field_error(err, NULL, where, shown, k, "string");
				it->fault = (mlde_record_fault){
					k == JV_KIND_INVALID ? MLDE_FAULT_MISSING : MLDE_FAULT_KIND,
					fields[i] };
			}
		}
	}
	jv_free(prov);
	return rc;
}

/* ---- pool record ---- */

jv mlde_pool_record(const char *image, jv captions, jv objects)
{
	jv rec = jv_object();

	rec = jv_object_set(rec, jv_string(MLDE_F_IMAGE), jv_string(image));
	rec = jv_object_set(rec, jv_string(MLDE_F_CAPTIONS), captions);
	rec = jv_object_set(rec, jv_string(MLDE_F_OBJECTS), objects);
	return rec;
}

jv mlde_bbox_record(const double bbox[4])
{
	jv b = jv_array();

	for (int i = 0; i < 4; i++)
		b = jv_array_append(b, jv_number(bbox[i]));
	return b;
}

jv mlde_pool_object(const char *name, const double bbox[4])
{
	jv obj = jv_object();

	obj = jv_object_set(obj, jv_string(MLDE_F_NAME), jv_string(name));
	obj = jv_object_set(obj, jv_string(MLDE_F_BBOX), mlde_bbox_record(bbox));
	return obj;
}

int mlde_pool_check(jv rec, const char *where, mlde_pool *p, mlde_error *err)
{
	static const char *const lists[] = { MLDE_F_CAPTIONS, MLDE_F_OBJECTS };

	memset(p, 0, sizeof *p);
	if (need_string(rec, MLDE_F_IMAGE, MLDE_F_IMAGE, where, &p->image, NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
		jv_kind k = kind_of(rec, lists[i]);

		if (k != JV_KIND_INVALID && k != JV_KIND_ARRAY)
			return field_error(err, NULL, where, lists[i], k, "array");
	}
	return 0;
}

/* ---- eval record ---- */

jv mlde_eval_record(jv item, int pred, bool correct, jv scores, const char *model)
{
	item = jv_object_set(item, jv_string(MLDE_F_PRED), pred < 0 ? jv_null() : jv_number(pred));
	item = jv_object_set(item, jv_string(MLDE_F_CORRECT), correct ? jv_true() : jv_false());
	if (jv_is_valid(scores))
		item = jv_object_set(item, jv_string(MLDE_F_SCORES), scores);
	else
		jv_free(scores);
	return jv_object_set(item, jv_string(MLDE_F_MODEL), jv_string(model));
}

int mlde_eval_check(jv rec, const char *by, int flags, const char *where, mlde_eval *e,
		    mlde_error *err)
{
	jv key;
	jv_kind k;

	memset(e, 0, sizeof *e);
	by = by ? by : MLDE_F_TYPE;
	key = jv_object_get(jv_copy(rec), jv_string(by));
	k = jv_get_kind(key);
	if (k == JV_KIND_STRING) {
		e->key = c_string(key);  /* rec still holds it */
		e->key_len = (size_t)jv_string_length_bytes(jv_copy(key));
	}
	jv_free(key);
	if (!e->key)
		return string_error(err, NULL, where, by, k);
	if ((flags & MLDE_EVAL_NEED_IMAGE) &&
	    need_string(rec, MLDE_F_IMAGE, MLDE_F_IMAGE, where, &e->image, NULL, err) < 0)
		return -1;
	k = kind_of(rec, MLDE_F_CORRECT);
	if (k != JV_KIND_TRUE && k != JV_KIND_FALSE)
		return field_error(err, NULL, where, MLDE_F_CORRECT, k, "boolean");
	e->correct = k == JV_KIND_TRUE;
	e->answered = kind_of(rec, MLDE_F_PRED) != JV_KIND_NULL;
	return 0;
}

/* ---- weakness record ---- */

jv mlde_weakness_record(const mlde_weakness *w)
{
	jv o = jv_object();

	o = jv_object_set(o, jv_string(w->by ? w->by : MLDE_F_TYPE), jv_string(w->key));
	o = jv_object_set(o, jv_string(MLDE_F_N), jv_number((double)w->n));
	o = jv_object_set(o, jv_string(MLDE_F_CORRECT), jv_number((double)w->correct));
	o = jv_object_set(o, jv_string(MLDE_F_ACC), w->n ? jv_number(w->acc) : jv_null());
	o = jv_object_set(o, jv_string(MLDE_F_LO), jv_number(w->lo));
	o = jv_object_set(o, jv_string(MLDE_F_HI), jv_number(w->hi));
	o = jv_object_set(o, jv_string(MLDE_F_WEIGHT), jv_number(w->weight));
	o = jv_object_set(o, jv_string(MLDE_F_UNANSWERED), jv_number((double)w->unanswered));
	if (w->sparse)
		o = jv_object_set(o, jv_string(MLDE_F_SPARSE), jv_true());
	return o;
}

int mlde_weakness_check(jv rec, const char *where, mlde_weakness *w, mlde_error *err)
{
	jv v;
	jv_kind k;

	memset(w, 0, sizeof *w);
	w->by = MLDE_F_TYPE;
	if (need_string(rec, MLDE_F_TYPE, MLDE_F_TYPE, where, &w->key, NULL, err) < 0)
		return -1;
	v = jv_object_get(jv_copy(rec), jv_string(MLDE_F_WEIGHT));
	k = jv_get_kind(v);
	if (k == JV_KIND_NUMBER)
		w->weight = jv_number_value(v);
	jv_free(v);
	if (k != JV_KIND_NUMBER)
		return field_error(err, NULL, where, MLDE_F_WEIGHT, k, "number");
	if (!(w->weight >= 0.0) || !isfinite(w->weight)) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '" MLDE_F_WEIGHT "': %g is not a "
			       "finite number >= 0", where, w->weight);
		return -1;
	}
	return 0;
}

/* ---- plan record ---- */

jv mlde_plan_record(const char *id, const char *type, jv query, jv examples,
		    bool has_similarity, double similarity)
{
	jv o = jv_object();

	o = jv_object_set(o, jv_string(MLDE_F_ID), jv_string(id));
	o = jv_object_set(o, jv_string(MLDE_F_TYPE), jv_string(type));
	o = jv_object_set(o, jv_string(MLDE_F_QUERY), query);
	o = jv_object_set(o, jv_string(MLDE_F_EXAMPLES), examples);
	if (has_similarity)
		o = jv_object_set(o, jv_string(MLDE_F_SIMILARITY), jv_number(similarity));
	return o;
}

int mlde_plan_check(jv rec, const char *where, mlde_plan *p, mlde_error *err)
{
	jv q;
	int rc;

	memset(p, 0, sizeof *p);
	if (need_string(rec, MLDE_F_ID, MLDE_F_ID, where, &p->id, NULL, err) < 0 ||
	    need_string(rec, MLDE_F_TYPE, MLDE_F_TYPE, where, &p->type, NULL, err) < 0)
		return -1;
	q = jv_object_get(jv_copy(rec), jv_string(MLDE_F_QUERY));
	if (jv_get_kind(q) != JV_KIND_OBJECT)
		rc = field_error(err, NULL, where, MLDE_F_QUERY, jv_get_kind(q), "object");
	else
		rc = need_string(q, MLDE_F_IMAGE, MLDE_F_QUERY "." MLDE_F_IMAGE, where, &p->image,
				 NULL, err);
	jv_free(q);  /* rec still holds the query and its image */
	return rc;
}

/* ---- reject record ---- */

jv mlde_reject_record(const char *plan, const char *reason, const char *detail, jv raw,
		      const char *request_sha256)
{
	jv o = jv_object();

	o = jv_object_set(o, jv_string(MLDE_F_PLAN), jv_string(plan));
	o = jv_object_set(o, jv_string(MLDE_F_REASON), jv_string(reason));
	o = jv_object_set(o, jv_string(MLDE_F_DETAIL), jv_string(detail));
	o = jv_object_set(o, jv_string(MLDE_F_RAW), raw);
	o = jv_object_set(o, jv_string(MLDE_F_REQUEST_SHA256), jv_string(request_sha256));
	return o;
}

int mlde_reject_check(jv rec, const char *where, mlde_error *err)
{
	const char *s;
	jv_kind k;

	if (need_string(rec, MLDE_F_PLAN, MLDE_F_PLAN, where, &s, NULL, err) < 0 ||
	    need_string(rec, MLDE_F_REASON, MLDE_F_REASON, where, &s, NULL, err) < 0)
		return -1;
	k = kind_of(rec, MLDE_F_RAW);
	if (k != JV_KIND_STRING && k != JV_KIND_NULL)
		return field_error(err, NULL, where, MLDE_F_RAW, k, "string or null");
	return 0;
}
