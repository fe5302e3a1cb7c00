/* score.c - the count of review records per prompt version and type
 * (score.h). */
#include "ipo/score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ipo/review.h"
#include "ipo/version.h"

static mlde_score *slot(mlde_scores *s, const char *version, const char *type)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].version, version) == 0 && strcmp(s->v[i].type, type) == 0)
			return &s->v[i];
	s->v = mlde_xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	memset(&s->v[s->n], 0, sizeof s->v[s->n]);
	s->v[s->n].version = mlde_xstrdup(version);
	s->v[s->n].type = mlde_xstrdup(type);
	return &s->v[s->n++];
}

static void tally(mlde_score *sc, mlde_verdict v)
{
	if (v == MLDE_IPO_CORRECT)
		sc->correct++;
	else if (v == MLDE_IPO_WRONG)
		sc->wrong++;
	else
		sc->skipped++;
}

static int by_version_type(const void *a, const void *b)
{
	const mlde_score *x = a, *y = b;
	int c = mlde_version_cmp(x->version, y->version);

	if (c)
		return c;
	if (strcmp(x->type, "all") == 0 || strcmp(y->type, "all") == 0)
		return (strcmp(y->type, "all") == 0) - (strcmp(x->type, "all") == 0);
	return strcmp(x->type, y->type);
}

/* Is record i the last of its item and reviewer (of its item, with no
 * reviewer asked for: one verdict per item per reviewer)? */
static bool is_last(const mlde_ipo_review *r, size_t n, size_t i)
{
	for (size_t j = i + 1; j < n; j++)
		if (strcmp(r[j].item, r[i].item) == 0 && strcmp(r[j].reviewer, r[i].reviewer) == 0)
			return false;
	return true;
}

void mlde_scores_count(mlde_scores *s, jv recs, const char *reviewer)
{
	size_t n = (size_t)jv_array_length(jv_copy(recs)), k = 0;
	mlde_ipo_review *r = mlde_xcalloc(n ? n : 1, sizeof *r);
	jv *hold = mlde_xcalloc(n ? n : 1, sizeof *hold);
	mlde_error err;

	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < n; i++) {
		hold[k] = jv_array_get(jv_copy(recs), (int)i);
		mlde_review_check(hold[k], "", &r[k], &err);  /* checked when read */
		if (reviewer && strcmp(r[k].reviewer, reviewer) != 0) {
			jv_free(hold[k]);
			continue;
		}
		k++;
	}
	for (size_t i = 0; i < k; i++) {
		const char *version = r[i].prompt_version ? r[i].prompt_version : "(none)";

		if (!is_last(r, k, i))
			continue;
		tally(slot(s, version, "all"), r[i].verdict);
		tally(slot(s, version, r[i].type ? r[i].type : "(none)"), r[i].verdict);
	}
	for (size_t i = 0; i < s->n; i++) {
		mlde_score *sc = &s->v[i];

		sc->n = sc->correct + sc->wrong;
		sc->acc = sc->n ? (double)sc->correct / (double)sc->n : NAN;
		mlde_wilson(sc->correct, sc->n, &sc->lo, &sc->hi);
	}
	if (s->n > 1)  /* qsort wants a non-null array even for none */
		qsort(s->v, s->n, sizeof *s->v, by_version_type);
	for (size_t i = 0; i < k; i++)
		jv_free(hold[i]);
	free(hold);
	free(r);
}

const mlde_score *mlde_scores_find(const mlde_scores *s, const char *version, const char *type)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].version, version) == 0 && strcmp(s->v[i].type, type) == 0)
			return &s->v[i];
	return NULL;
}

void mlde_scores_free(mlde_scores *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].version);
		free(s->v[i].type);
	}
	free(s->v);
	memset(s, 0, sizeof *s);
}
