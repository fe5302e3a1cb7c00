/* hash.h - the one string hash of mlde (64-bit FNV-1a) and the hash tables
 * built on it: a set of strings that numbers them in order of insertion
 * (a string-to-index map), and a set of 64-bit values. */
#ifndef MLDE_HASH_H
#define MLDE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FNV-1a 64 as published: offset basis and prime. */
#define MLDE_FNV_OFFSET 14695981039346656037ULL
#define MLDE_FNV_PRIME 1099511628211ULL

/* Continue a hash h over n more bytes (start from MLDE_FNV_OFFSET). */
uint64_t mlde_fnv1a_more(uint64_t h, const void *p, size_t n);
uint64_t mlde_fnv1a(const void *p, size_t n);
uint64_t mlde_fnv1a_str(const char *s);

/* Strings, each stored once as a NUL-terminated copy and numbered 0, 1, ...
 * in the order they were first added.  Zero-initialise it; lookups stay
 * O(1) however many strings it holds.  Keys are byte strings of a given
 * length (they may hold NUL bytes). */
typedef struct mlde_strset {
	char **keys;      /* keys[i]: the i-th string added, owned */
	size_t *lens;     /* its length in bytes */
	size_t n, cap;
	size_t *slots;    /* open addressing: index + 1, 0 empty */
	size_t nslots;    /* a power of two, at least twice n */
} mlde_strset;

/* The index of the len bytes at key, or -1 when they are not in s. */
ptrdiff_t mlde_strset_find(const mlde_strset *s, const char *key, size_t len);
/* The index of key, copied in first when new; *added (may be NULL) says
 * which. */
size_t mlde_strset_add(mlde_strset *s, const char *key, size_t len, bool *added);
void mlde_strset_free(mlde_strset *s);

/* A set of 64-bit values (any value, 0 included).  Zero-initialise it. */
typedef struct mlde_u64set {
	uint64_t *slots;  /* 0 is an empty slot; the value 0 is has_zero */
	size_t n, cap;    /* n counts the nonzero values */
	bool has_zero;
} mlde_u64set;

bool mlde_u64set_has(const mlde_u64set *s, uint64_t v);
/* Add v; false when it was there already. */
bool mlde_u64set_add(mlde_u64set *s, uint64_t v);
void mlde_u64set_free(mlde_u64set *s);

#endif
