/* judge.c - the judging model's reply as a verdict (judge.h). */
#include "ipo/judge.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The value after "label:" on a line of text (markdown marks forgiven),
 * copied into out; false when no line has it. */
static bool line_value(const char *text, const char *label, char *out, size_t outlen)
{
	size_t n = strlen(label);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *v = l, *end;

		while (*v == ' ' || *v == '\t' || *v == '*' || *v == '-' || *v == '#')
			v++;
		if (strncasecmp(v, label, n) != 0)
			continue;
		v += n;
		while (*v == '*')
			v++;
		if (*v != ':')
			continue;
		v++;
		while (*v == ' ' || *v == '\t' || *v == '*')
			v++;
		end = strchr(v, '\n');
		if (!end)
			end = v + strlen(v);
		while (end > v && isspace((unsigned char)end[-1]))
			end--;
		snprintf(out, outlen, "%.*s", (int)(end - v), v);
		return true;
	}
	return false;
}

/* 1 yes, 0 no, -1 neither (a trailing period or explanation allowed). */
static int yes_no(const char *v)
{
	if (strncasecmp(v, "yes", 3) == 0 && !isalpha((unsigned char)v[3]))
		return 1;
	if (strncasecmp(v, "no", 2) == 0 && !isalpha((unsigned char)v[2]))
		return 0;
	return -1;
}

int mlde_judge_reply(const char *text, mlde_verdict *verdict, char *reason, size_t reasonlen,
		     char *why, size_t whylen)
{
	static const char *const labels[3] = { "Answerable", "Answer correct", "Fits type" };
	static const char *const failed[3] = { "not answerable from the image", "wrong answer",
					       "does not fit the type" };
	char v[512], given[400], what[200] = "";
	int yn[3];

	for (int i = 0; i < 3; i++) {
		if (!line_value(text, labels[i], v, sizeof v)) {
			snprintf(why, whylen, "the judge's reply has no '%s:' line", labels[i]);
			return -1;
		}
		if ((yn[i] = yes_no(v)) < 0) {
			snprintf(why, whylen, "the judge's '%s:' is '%.60s', not yes or no", labels[i], v);
			return -1;
		}
		if (!yn[i])
			snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s",
				 *what ? ", " : "", failed[i]);
	}
	*verdict = *what ? MLDE_IPO_WRONG : MLDE_IPO_CORRECT;
	if (!line_value(text, "Reason", given, sizeof given))
		given[0] = '\0';
	if (*what)
		snprintf(reason, reasonlen, "%s%s%s", what, *given ? ": " : "", given);
	else
		snprintf(reason, reasonlen, "%s", given);
	return 0;
}
