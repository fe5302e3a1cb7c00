/* test-tsv.c - the quoted TSV reader of import/tsv.h on the shapes pandas
 * writes (quoted tabs, newlines and doubled quotes, empty cells, CRLF, no
 * final newline) and on what it must refuse, naming the line and field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/tsv.h"
#include "tap.h"

static void write_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "wb");

	fwrite(text, 1, n, f);
	fclose(f);
}

static mlde_tsv *open_text(const char *text)
{
	mlde_error err;

	write_file("t.tsv", text, strlen(text));
	return mlde_tsv_open("t.tsv", &err);
}

/* The row's fields joined by '|'. */
static const char *joined(const mlde_tsv *t)
{
	static char buf[1024];
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < mlde_tsv_nfields(t); i++)
		at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", i ? "|" : "",
				       mlde_tsv_field(t, i, NULL));
	return buf;
}

static void test_rows(void)
{
	mlde_tsv *t = open_text("index\tquestion\thint\n"
				"1\tplain\t\n"
				"2\t\"a\ttab, a \"\"quote\"\"\nand a newline\"\tx\n"
				"\n"
				"3\t\"\"\tlast\r\n"
				"4\t\"cr\r\ninside\"\t\"q\"\r\n"
				"5\tno newline\tend");
	mlde_error err;
	size_t len;

	TAP_IS_INT(mlde_tsv_next(t, &err), 1, "the header is a row");
	TAP_IS_STR(joined(t), "index|question|hint", "its three names");
	mlde_tsv_name_fields(t);
	TAP_IS_INT(mlde_tsv_next(t, &err), 1, "row 1");
	TAP_IS_STR(joined(t), "1|plain|", "an empty last cell is a field");
	TAP_IS_INT(mlde_tsv_nfields(t), 3, "three fields");
	TAP_IS_INT(mlde_tsv_next(t, &err), 1, "row 2");
	TAP_IS_STR(mlde_tsv_field(t, 1, &len), "a\ttab, a \"quote\"\nand a newline",
		   "a quoted field keeps its tab and newline, doubled quotes are one");
	TAP_IS_INT(len, strlen("a\ttab, a \"quote\"\nand a newline"), "and its length");
	TAP_IS_INT(mlde_tsv_lineno(t), 3, "row 2 starts on line 3");
	TAP_IS_INT(mlde_tsv_next(t, &err), 1, "row 3, the empty line skipped");
	TAP_IS_INT(mlde_tsv_lineno(t), 6, "on line 6: the quoted newline and the empty line count");
	TAP_IS_STR(joined(t), "3||last", "\"\" is an empty field, CRLF ends the row");
	TAP_IS_INT(mlde_tsv_next(t, &err), 1, "row 4");
	TAP_IS_STR(mlde_tsv_field(t, 1, NULL), "cr\r\ninside", "a quoted CRLF is data");
	TAP_IS_STR(mlde_tsv_field(t, 2, NULL), "q", "a quoted field before CRLF");
	TAP_IS_INT(mlde_tsv_next(t, &err), 1, "row 5, without a final newline");
	TAP_IS_STR(joined(t), "5|no newline|end", "all of it");
	TAP_IS_INT(mlde_tsv_lineno(t), 9, "on line 9");
	TAP_OK(mlde_tsv_field(t, 3, NULL) == NULL, "no field past the last");
	TAP_IS_INT(mlde_tsv_next(t, &err), 0, "then the end");
	TAP_IS_INT(mlde_tsv_next(t, &err), 0, "and it stays there");
	mlde_tsv_close(t);
}

/* The error of the first bad row of text (n bytes; 0: up to its NUL),
 * after the header. */
static void test_refused(const char *text, size_t n, const char *want, const char *name)
{
	mlde_error err;
	mlde_tsv *t;
	int rc;

	write_file("t.tsv", text, n ? n : strlen(text));
	t = mlde_tsv_open("t.tsv", &err);
	mlde_tsv_next(t, &err);
	mlde_tsv_name_fields(t);
	mlde_error_clear(&err);
	while ((rc = mlde_tsv_next(t, &err)) > 0)
		;
	TAP_IS_INT(rc, -1, "%s: refused", name);
	TAP_IS_INT(err.status, MLDE_EXIT_DATA, "%s: as bad data", name);
	TAP_IS_STR(err.msg, want, "%s: the message", name);
	mlde_tsv_close(t);
}

int main(void)
{
	static const char nul[] = "a\tb\n1\tx\0y\n";
	mlde_error err;

	test_rows();
	test_refused("a\tb\n1\t2\n3\t\"open\nand on\n", 0,
		     "t.tsv:3: field 'b': unterminated quote (the input ends on line 5 with "
		     "the field still open)", "an unterminated quote");
	test_refused("a\tb\tc\n1\t2\t3\t\"x\n", 0,
		     "t.tsv:2: field 4: unterminated quote (the input ends on line 3 with the "
		     "field still open)", "a field past the header is named by number");
	test_refused("a\tb\n\"x\"y\t2\n", 0, "t.tsv:2: field 'a': text after the closing quote",
		     "text after a closing quote");
	test_refused(nul, sizeof nul - 1, "t.tsv:2: field 'b': a NUL byte", "a NUL byte");
	mlde_error_clear(&err);
	TAP_OK(mlde_tsv_open("no/such.tsv", &err) == NULL && err.status == MLDE_EXIT_IO,
	       "a missing file is an I/O error");
	TAP_IS_STR(err.msg, "no/such.tsv: No such file or directory", "naming it");
	{
		mlde_tsv *t = open_text("");

		TAP_IS_INT(mlde_tsv_next(t, &err), 0, "an empty file has no rows");
		mlde_tsv_close(t);
	}
	return TAP_DONE();
}
