/* tsv.c - the quoted TSV of pandas (csv.QUOTE_MINIMAL, doublequote): a
 * small state machine over getc, since a quoted field may hold newlines
 * and the line reader of io/jsonl.h splits at every one. */
#include "import/tsv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One reader per stream and no threads: stdio's lock per byte buys nothing
 * (an MMBench TSV is hundreds of MB of base64). */
#define next_byte(f) getc_unlocked(f)

struct mlde_tsv {
	FILE *f;
	char *name;
	unsigned long line;      /* the line being read (1-based) */
	unsigned long row_line;  /* the line the row last read starts on */
	char *text;              /* the row's fields, each NUL-terminated */
	size_t len, cap;
	size_t *start;           /* offset of each field in text */
	size_t nfields, fcap;
	char **names;            /* the header's, for messages; NULL: numbers */
	size_t nnames;
	char what[80];           /* "field 'NAME'" or "field N", for messages */
};

/* How messages name the field being read. */
static const char *field_name(mlde_tsv *t)
{
	size_t i = t->nfields - 1;

	if (i < t->nnames)
		snprintf(t->what, sizeof t->what, "field '%.60s'", t->names[i]);
	else
		snprintf(t->what, sizeof t->what, "field %zu", i + 1);
	return t->what;
}

void mlde_tsv_name_fields(mlde_tsv *t)
{
	for (size_t i = 0; i < t->nnames; i++)
		free(t->names[i]);
	free(t->names);
	t->nnames = t->nfields;
	t->names = mlde_xmalloc(t->nnames * sizeof *t->names);
	for (size_t i = 0; i < t->nnames; i++)
		t->names[i] = mlde_xstrdup(mlde_tsv_field(t, i, NULL));
}

mlde_tsv *mlde_tsv_open(const char *path, mlde_error *err)
{
	bool is_stdin = !path || strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	mlde_tsv *t;

	if (!f) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	t = mlde_xcalloc(1, sizeof *t);
	t->f = f;
	t->name = mlde_xstrdup(is_stdin ? "<stdin>" : path);
	t->line = 1;
	return t;
}

static void add_byte(mlde_tsv *t, char c)
{
	if (t->len + 1 >= t->cap) {
		t->cap = t->cap ? 2 * t->cap : 4096;
		t->text = mlde_xrealloc(t->text, t->cap);
	}
	t->text[t->len++] = c;
}

static void start_field(mlde_tsv *t)
{
	if (t->nfields == t->fcap) {
		t->fcap = t->fcap ? 2 * t->fcap : 32;
		t->start = mlde_xrealloc(t->start, t->fcap * sizeof *t->start);
	}
	t->start[t->nfields++] = t->len;
}

static void end_field(mlde_tsv *t)
{
	add_byte(t, '\0');
}

static int read_error(mlde_tsv *t, mlde_error *err)
{
	mlde_error_set(err, MLDE_EXIT_IO, "%s: read error: %s", t->name, strerror(errno));
	return -1;
}

/* A quoted field, its opening quote read: up to the closing quote and
 * the tab, newline or end of input after it.  *end gets that character. */
static int quoted_field(mlde_tsv *t, int *end, mlde_error *err)
{
	unsigned long opened = t->line;
	int c;

	for (;;) {
		c = next_byte(t->f);
		if (c == EOF) {
			if (ferror(t->f))
				return read_error(t, err);
			mlde_error_set(err, MLDE_EXIT_DATA, "%s:%lu: %s: unterminated quote "
				       "(the input ends on line %lu with the field still open)",
				       t->name, opened, field_name(t), t->line);
			return -1;
		}
		if (c == '\n')
			t->line++;
		if (c == '"') {
			c = next_byte(t->f);
			if (c != '"')
				break;
		}
		if (c == '\0') {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s:%lu: %s: a NUL byte", t->name,
				       t->line, field_name(t));
			return -1;
		}
		add_byte(t, (char)c);
	}
	/* after the closing quote: the end of the field, or a row's CRLF */
	if (c == '\r') {
		int next = next_byte(t->f);

		if (next == '\n')
			c = next;
		else if (next != EOF)
			ungetc(next, t->f);
	}
	if (c != '\t' && c != '\n' && c != EOF) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s:%lu: %s: text after the closing quote",
			       t->name, t->line, field_name(t));
		return -1;
	}
	if (c == EOF && ferror(t->f))
		return read_error(t, err);
	*end = c;
	return 0;
}

/* An unquoted field, its first character c already read. */
static int plain_field(mlde_tsv *t, int c, int *end, mlde_error *err)
{
	while (c != '\t' && c != '\n' && c != EOF) {
		if (c == '\0') {
			mlde_error_set(err, MLDE_EXIT_DATA, "%s:%lu: %s: a NUL byte", t->name,
				       t->line, field_name(t));
			return -1;
		}
		add_byte(t, (char)c);
		c = next_byte(t->f);
	}
	if (c == EOF && ferror(t->f))
		return read_error(t, err);
	/* a row's CRLF: the CR is not data */
	if (c != '\t' && t->len > t->start[t->nfields - 1] && t->text[t->len - 1] == '\r')
		t->len--;
	*end = c;
	return 0;
}

int mlde_tsv_next(mlde_tsv *t, mlde_error *err)
{
	int c;

	t->len = 0;
	t->nfields = 0;
	/* empty lines (and a lone CR) between rows are no rows */
	while ((c = next_byte(t->f)) == '\n' || c == '\r')
		if (c == '\n')
			t->line++;
	if (c == EOF)
		return ferror(t->f) ? read_error(t, err) : 0;
	t->row_line = t->line;
	for (;;) {
		int end;

		start_field(t);
		if (c == '"' ? quoted_field(t, &end, err) < 0 : plain_field(t, c, &end, err) < 0)
			return -1;
		end_field(t);
		if (end == '\n')
			t->line++;
		if (end != '\t')
			return 1;
		c = next_byte(t->f);
	}
}

size_t mlde_tsv_nfields(const mlde_tsv *t)
{
	return t->nfields;
}

const char *mlde_tsv_field(const mlde_tsv *t, size_t i, size_t *len)
{
	size_t end;

	if (i >= t->nfields)
		return NULL;
	end = i + 1 < t->nfields ? t->start[i + 1] - 1 : t->len - 1;
	if (len)
		*len = end - t->start[i];
	return t->text + t->start[i];
}

unsigned long mlde_tsv_lineno(const mlde_tsv *t)
{
	return t->row_line;
}

const char *mlde_tsv_name(const mlde_tsv *t)
{
	return t->name;
}

void mlde_tsv_close(mlde_tsv *t)
{
	if (!t)
		return;
	if (t->f != stdin)
		fclose(t->f);
	free(t->name);
	free(t->text);
	free(t->start);
	for (size_t i = 0; i < t->nnames; i++)
		free(t->names[i]);
	free(t->names);
	free(t);
}
