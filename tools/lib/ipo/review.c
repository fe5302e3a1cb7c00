/* review.c - review records and the append-only, fsync'd log of them
 * (review.h). */
#include "ipo/review.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/jsonl.h"
#include "record/record.h"

static const char *const verdict_names[] = { "correct", "wrong", "skip", "cannot-judge" };

const char *mlde_verdict_name(mlde_verdict v)
{
	return (unsigned)v < 4 ? verdict_names[v] : "?";
}

int mlde_verdict_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s && strcmp(s, verdict_names[i]) == 0)
			return i;
	return -1;
}

static jv string_or_null(const char *s)
{
	return s ? jv_string(s) : jv_null();
}

jv mlde_ipo_review_record(const mlde_ipo_review *r)
{
	char now[32];
	jv o = jv_object();

	if (!r->time)
		mlde_review_now(now);
	o = jv_object_set(o, jv_string(MLDE_F_ITEM), jv_string(r->item));
	o = jv_object_set(o, jv_string(MLDE_F_PROMPT_VERSION), string_or_null(r->prompt_version));
	o = jv_object_set(o, jv_string(MLDE_F_PROMPT_SHA256), string_or_null(r->prompt_sha256));
	o = jv_object_set(o, jv_string(MLDE_F_TYPE), string_or_null(r->type));
	o = jv_object_set(o, jv_string(MLDE_F_VERDICT), jv_string(mlde_verdict_name(r->verdict)));
	o = jv_object_set(o, jv_string(MLDE_F_REASON),
			  r->reason && *r->reason ? jv_string(r->reason) : jv_null());
	o = jv_object_set(o, jv_string(MLDE_F_REVIEWER), jv_string(r->reviewer));
	o = jv_object_set(o, jv_string(MLDE_F_TIME), jv_string(r->time ? r->time : now));
	return o;
}

/* Field key of rec as a string (borrowed from rec) into *out: 0; absent or
 * null: 0 and NULL unless required; -1 with err otherwise. */
static int text_field(jv rec, const char *key, bool required, const char *where,
		      const char **out, mlde_error *err)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(key));
	jv_kind k = jv_get_kind(v);

	*out = NULL;
	if (k == JV_KIND_STRING) {
		/* rec holds another reference: the pointer lives as long as rec */
		*out = jv_string_value(v);
		jv_free(v);
		return 0;
	}
	jv_free(v);
	if (!required && (k == JV_KIND_INVALID || k == JV_KIND_NULL))
		return 0;
	mlde_error_set(err, MLDE_EXIT_DATA, "%s: field '%s': %s", where, key,
		       k == JV_KIND_INVALID ? "missing"
		       : k == JV_KIND_NULL ? "null, not a string" : "not a string");
	return -1;
}

int mlde_review_check(jv rec, const char *where, mlde_ipo_review *r, mlde_error *err)
{
	const char *verdict;
	int v;

	memset(r, 0, sizeof *r);
	if (jv_get_kind(rec) != JV_KIND_OBJECT) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: a review record must be an object", where);
		return -1;
	}
	if (text_field(rec, MLDE_F_ITEM, true, where, &r->item, err) < 0 ||
	    text_field(rec, MLDE_F_VERDICT, true, where, &verdict, err) < 0 ||
	    text_field(rec, MLDE_F_REVIEWER, true, where, &r->reviewer, err) < 0 ||
	    text_field(rec, MLDE_F_PROMPT_VERSION, false, where, &r->prompt_version, err) < 0 ||
	    text_field(rec, MLDE_F_PROMPT_SHA256, false, where, &r->prompt_sha256, err) < 0 ||
	    text_field(rec, MLDE_F_TYPE, false, where, &r->type, err) < 0 ||
	    text_field(rec, MLDE_F_REASON, false, where, &r->reason, err) < 0 ||
	    text_field(rec, MLDE_F_TIME, false, where, &r->time, err) < 0)
		return -1;
	if ((v = mlde_verdict_parse(verdict)) < 0) {
		mlde_error_set(err, MLDE_EXIT_DATA,
			       "%s: field 'verdict': '%.100s' is not one of correct, wrong, skip, cannot-judge",
			       where, verdict);
		return -1;
	}
	r->verdict = (mlde_verdict)v;
	if (r->verdict == MLDE_IPO_WRONG && (!r->reason || !*r->reason)) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: field 'reason': a wrong verdict needs one",
			       where);
		return -1;
	}
	return 0;
}

static const char *provenance_field(jv item, const char *key)
{
	jv prov = jv_object_get(jv_copy(item), jv_string(MLDE_F_PROVENANCE));
	const char *s = NULL;

	if (jv_get_kind(prov) == JV_KIND_OBJECT) {
		jv v = jv_object_get(jv_copy(prov), jv_string(key));

		/* item holds prov, which holds v: the pointer outlives these */
		if (jv_get_kind(v) == JV_KIND_STRING)
			s = jv_string_value(v);
		jv_free(v);
	}
	jv_free(prov);
	return s;
}

const char *mlde_item_prompt_version(jv item)
{
	return provenance_field(item, MLDE_F_PROMPT);
}

const char *mlde_item_prompt_sha256(jv item)
{
	return provenance_field(item, MLDE_F_PROMPT_SHA256);
}

void mlde_review_now(char out[32])
{
	const char *pinned = getenv("MLDE_TIME");
	time_t t = time(NULL);
	struct tm tm;

	if (pinned && *pinned) {
		snprintf(out, 32, "%.31s", pinned);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the log ---- */

struct mlde_review_log {
	char *path;
	int fd;
	jv *recs;             /* each record, owning the strings revs point into */
	mlde_ipo_review *revs;
	size_t n, cap;
	bool sync_at_end;     /* appends not synced each: mlde_review_log_sync */
};

static void log_push(mlde_review_log *l, jv rec, const mlde_ipo_review *r)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->recs = mlde_xrealloc(l->recs, l->cap * sizeof *l->recs);
		l->revs = mlde_xrealloc(l->revs, l->cap * sizeof *l->revs);
	}
	l->recs[l->n] = rec;
	l->revs[l->n] = *r;
	l->n++;
}

/* Parse and check one line (NUL-terminated) of the log: 0 and the record
 * kept, or -1 with err. */
static int take_line(mlde_review_log *l, char *line, size_t len, unsigned long lineno,
		     mlde_error *err)
{
	char where[600], msg[300];
	mlde_ipo_review r;
	jv rec;

	snprintf(where, sizeof where, "%s:%lu", l->path, lineno);
	rec = jv_parse_sized(line, (int)len);
	if (!jv_is_valid(rec)) {
		mlde_jv_parse_message(rec, msg, sizeof msg);
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: %s", where, msg);
		return -1;
	}
	if (mlde_review_check(rec, where, &r, err) < 0) {
		jv_free(rec);
		return -1;
	}
	log_push(l, rec, &r);
	return 0;
}

static int read_all(int fd, const char *path, char **data, size_t *len, mlde_error *err)
{
	size_t cap = 65536, n = 0;
	char *p = mlde_xmalloc(cap);

	for (;;) {
		ssize_t got;

		if (n + 1 >= cap)
			p = mlde_xrealloc(p, cap *= 2);
		got = read(fd, p + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;

			free(p);
			mlde_error_set(err, MLDE_EXIT_IO, "%s: read error: %s", path, strerror(e));
			return -1;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	p[n] = '\0';
	*data = p;
	*len = n;
	return 0;
}

static int write_all(int fd, const char *path, const char *p, size_t n, mlde_error *err)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			mlde_error_set(err, MLDE_EXIT_IO, "%s: write error: %s", path, strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Take every line of data; a last line without its newline is kept when
 * it is a whole record (a newline is added), else cut off the file. */
static int load(mlde_review_log *l, char *data, size_t len, mlde_error *err)
{
	unsigned long lineno = 0;
	size_t at = 0;

	while (at < len) {
		char *nl = memchr(data + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - data) : len, n = end - at;
		mlde_error lerr;

		lineno++;
		data[end] = '\0';
		if (n > 0 && data[end - 1] == '\r')
			data[--end] = '\0', n--;
		if (n == 0 || strspn(data + at, " \t") == n) {
			at = end + 1;
			continue;
		}
		mlde_error_clear(&lerr);
		if (take_line(l, data + at, n, lineno, nl ? err : &lerr) < 0) {
			if (nl)
				return -1;
			/* a record cut short by a kill: drop it */
			if (ftruncate(l->fd, (off_t)at) < 0) {
				mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", l->path, strerror(errno));
				return -1;
			}
			return 0;
		}
		if (!nl)
			return write_all(l->fd, l->path, "\n", 1, err);
		at = end + 1;
	}
	return 0;
}

mlde_review_log *mlde_review_log_open(const char *path, mlde_error *err)
{
	mlde_review_log *l = mlde_xcalloc(1, sizeof *l);
	char *data = NULL;
	size_t len = 0;

	l->path = mlde_xstrdup(path);
	l->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (l->fd < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		mlde_review_log_close(l);
		return NULL;
	}
	if (read_all(l->fd, path, &data, &len, err) < 0 || load(l, data, len, err) < 0) {
		free(data);
		mlde_review_log_close(l);
		return NULL;
	}
	free(data);
	return l;
}

int mlde_review_log_append(mlde_review_log *l, const mlde_ipo_review *r, mlde_error *err)
{
	jv rec = mlde_ipo_review_record(r);
	jv line = jv_dump_string(jv_copy(rec), 0);
	size_t n = (size_t)jv_string_length_bytes(jv_copy(line));
	char *buf = mlde_xmalloc(n + 1);
	mlde_ipo_review back;
	int rc;

	memcpy(buf, jv_string_value(line), n);
	buf[n] = '\n';
	jv_free(line);
	/* one write for the whole line: a kill leaves it whole or cut, never
	 * mixed with the next */
	rc = write_all(l->fd, l->path, buf, n + 1, err);
	free(buf);
	if (rc == 0 && !l->sync_at_end && fsync(l->fd) < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: fsync: %s", l->path, strerror(errno));
		rc = -1;
	}
	if (rc < 0) {
		jv_free(rec);
		return -1;
	}
	mlde_review_check(rec, l->path, &back, err);  /* built right: cannot fail */
	log_push(l, rec, &back);
	return 0;
}

void mlde_review_log_sync_at_end(mlde_review_log *l)
{
	l->sync_at_end = true;
}

int mlde_review_log_sync(mlde_review_log *l, mlde_error *err)
{
	if (fsync(l->fd) < 0) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: fsync: %s", l->path, strerror(errno));
		return -1;
	}
	return 0;
}

const mlde_ipo_review *mlde_review_log_find(const mlde_review_log *l, const char *item,
					const char *reviewer)
{
	for (size_t i = l->n; i-- > 0;)
		if (strcmp(l->revs[i].item, item) == 0 &&
		    (!reviewer || strcmp(l->revs[i].reviewer, reviewer) == 0))
			return &l->revs[i];
	return NULL;
}

size_t mlde_review_log_count(const mlde_review_log *l)
{
	return l->n;
}

const mlde_ipo_review *mlde_review_log_get(const mlde_review_log *l, size_t i)
{
	return i < l->n ? &l->revs[i] : NULL;
}

jv mlde_review_log_reasons(const mlde_review_log *l)
{
	jv out = jv_array();

	for (size_t i = 0; i < l->n; i++) {
		const mlde_ipo_review *r = &l->revs[i];
		bool seen = false;

		if (r->verdict != MLDE_IPO_WRONG || !r->reason || !*r->reason)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = l->revs[j].verdict == MLDE_IPO_WRONG && l->revs[j].reason &&
			       strcmp(l->revs[j].reason, r->reason) == 0;
		if (!seen)
			out = jv_array_append(out, jv_string(r->reason));
	}
	return out;
}

const char *mlde_review_log_path(const mlde_review_log *l)
{
	return l->path;
}

void mlde_review_log_close(mlde_review_log *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	for (size_t i = 0; i < l->n; i++)
		jv_free(l->recs[i]);
	free(l->recs);
	free(l->revs);
	free(l->path);
	free(l);
}

int mlde_review_read(const char *path, jv *recs, mlde_error *err)
{
	mlde_reader *r = mlde_reader_open(path, err);
	jv out, rec;
	int got;

	if (!r)
		return -1;
	out = jv_array();
	while ((got = mlde_reader_next(r, &rec, err)) > 0) {
		char where[600];
		mlde_ipo_review rv;

		snprintf(where, sizeof where, "%s:%lu", mlde_reader_name(r), mlde_reader_lineno(r));
		if (mlde_review_check(rec, where, &rv, err) < 0) {
			jv_free(rec);
			got = -1;
			break;
		}
		out = jv_array_append(out, rec);
	}
	mlde_reader_close(r);
	if (got < 0) {
		jv_free(out);
		return -1;
	}
	*recs = out;
	return 0;
}
