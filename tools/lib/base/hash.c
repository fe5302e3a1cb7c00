/* hash.c - 64-bit FNV-1a and the open-addressing tables of hash.h: linear
 * probing in a power-of-two array kept at most half full, so a probe ends
 * soon and growing is a plain re-insert. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hash.h"

uint64_t mlde_fnv1a_more(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * MLDE_FNV_PRIME;
	return h;
}

uint64_t mlde_fnv1a(const void *p, size_t n)
{
	return mlde_fnv1a_more(MLDE_FNV_OFFSET, p, n);
}

uint64_t mlde_fnv1a_str(const char *s)
{
	return mlde_fnv1a(s, strlen(s));
}

static size_t *zeroed_slots(size_t n)
{
	size_t *s = mlde_xmalloc(n * sizeof *s);

	memset(s, 0, n * sizeof *s);
	return s;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t strset_probe(const mlde_strset *s, const char *key, size_t len)
{
	size_t mask = s->nslots - 1, i = (size_t)mlde_fnv1a(key, len) & mask;

	for (; s->slots[i]; i = (i + 1) & mask) {
		size_t k = s->slots[i] - 1;

		if (s->lens[k] == len && memcmp(s->keys[k], key, len) == 0)
			break;
	}
	return i;
}

static void strset_grow(mlde_strset *s)
{
	size_t nslots = s->nslots ? s->nslots * 2 : 16;

	free(s->slots);
	s->slots = zeroed_slots(nslots);
	s->nslots = nslots;
	/* the keys are distinct: each goes to the first empty slot of its run */
	for (size_t k = 0; k < s->n; k++)
		s->slots[strset_probe(s, s->keys[k], s->lens[k])] = k + 1;
}

ptrdiff_t mlde_strset_find(const mlde_strset *s, const char *key, size_t len)
{
	size_t i;

	if (!s->nslots)
		return -1;
	i = strset_probe(s, key, len);
	return s->slots[i] ? (ptrdiff_t)(s->slots[i] - 1) : -1;
}

size_t mlde_strset_add(mlde_strset *s, const char *key, size_t len, bool *added)
{
	size_t i;
	char *copy;

	if ((s->n + 1) * 2 > s->nslots)
		strset_grow(s);
	i = strset_probe(s, key, len);
	if (added)
		*added = !s->slots[i];
	if (s->slots[i])
		return s->slots[i] - 1;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->keys = mlde_xrealloc(s->keys, s->cap * sizeof *s->keys);
		s->lens = mlde_xrealloc(s->lens, s->cap * sizeof *s->lens);
	}
	copy = mlde_xmalloc(len + 1);
	memcpy(copy, key, len);
	copy[len] = '\0';
	s->keys[s->n] = copy;
	s->lens[s->n] = len;
	s->slots[i] = ++s->n;
	return s->n - 1;
}

void mlde_strset_free(mlde_strset *s)
{
	for (size_t k = 0; k < s->n; k++)
		free(s->keys[k]);
	free(s->keys);
	free(s->lens);
	free(s->slots);
	memset(s, 0, sizeof *s);
}

/* The slot holding v (nonzero), or the empty slot where it would go. */
static size_t u64set_probe(const mlde_u64set *s, uint64_t v)
{
	size_t mask = s->cap - 1, i = (size_t)mlde_fnv1a(&v, sizeof v) & mask;

	while (s->slots[i] && s->slots[i] != v)
		i = (i + 1) & mask;
	return i;
}

bool mlde_u64set_has(const mlde_u64set *s, uint64_t v)
{
	if (v == 0)
		return s->has_zero;
	return s->cap && s->slots[u64set_probe(s, v)] == v;
}

bool mlde_u64set_add(mlde_u64set *s, uint64_t v)
{
	size_t i;

	if (v == 0) {
		bool was = s->has_zero;

		s->has_zero = true;
		return !was;
	}
	if ((s->n + 1) * 2 > s->cap) {
		mlde_u64set g = { NULL, 0, s->cap ? s->cap * 2 : 16, s->has_zero };

		g.slots = mlde_xmalloc(g.cap * sizeof *g.slots);
		memset(g.slots, 0, g.cap * sizeof *g.slots);
		for (size_t j = 0; j < s->cap; j++)
			if (s->slots[j])
				g.slots[u64set_probe(&g, s->slots[j])] = s->slots[j];
		g.n = s->n;
		free(s->slots);
		*s = g;
	}
	i = u64set_probe(s, v);
	if (s->slots[i] == v)
		return false;
	s->slots[i] = v;
	s->n++;
	return true;
}

void mlde_u64set_free(mlde_u64set *s)
{
	free(s->slots);
	memset(s, 0, sizeof *s);
}
