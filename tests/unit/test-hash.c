/* test-hash.c - FNV-1a 64 against the published vectors, and the string
 * set and 64-bit set of base/hash.h: indices in order of insertion,
 * duplicates, growth, keys with NUL bytes, and the value 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "tap.h"

static void test_fnv(void)
{
	TAP_OK(MLDE_FNV_OFFSET == 0xcbf29ce484222325ULL, "offset basis is 14695981039346656037");
	TAP_OK(mlde_fnv1a("", 0) == 0xcbf29ce484222325ULL, "fnv1a64(\"\") is the basis");
	TAP_OK(mlde_fnv1a_str("a") == 0xaf63dc4c8601ec8cULL, "fnv1a64(\"a\")");
	TAP_OK(mlde_fnv1a_str("foobar") == 0x85944171f73967e8ULL, "fnv1a64(\"foobar\")");
	TAP_OK(mlde_fnv1a_more(mlde_fnv1a("foo", 3), "bar", 3) == mlde_fnv1a_str("foobar"),
	       "a hash continued piecewise is the hash of the whole");
}

static void test_strset(void)
{
	mlde_strset s = { 0 };
	char key[32];
	bool added, all = true;
	size_t i;

	TAP_IS_INT(mlde_strset_find(&s, "x", 1), -1, "find in an empty set: -1");
	TAP_IS_INT(mlde_strset_add(&s, "b", 1, &added), 0, "first key: index 0");
	TAP_OK(added, "first key: added");
	TAP_IS_INT(mlde_strset_add(&s, "a", 1, &added), 1, "second key: index 1");
	TAP_IS_INT(mlde_strset_add(&s, "b", 1, &added), 0, "a key again: its index");
	TAP_OK(!added, "a key again: not added");
	TAP_IS_INT(s.n, 2, "two keys");
	TAP_IS_INT(mlde_strset_find(&s, "a", 1), 1, "find a key");
	TAP_IS_INT(mlde_strset_find(&s, "ab", 1), 1, "find takes the length given");
	TAP_IS_INT(mlde_strset_find(&s, "ab", 2), -1, "a longer key is another key");
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "image-%zu.png", i);
		if (mlde_strset_add(&s, key, strlen(key), NULL) != i + 2)
			all = false;
	}
	TAP_OK(all, "5000 more keys numbered in order through growth");
	for (i = 0; i < 5000 && all; i++) {
		snprintf(key, sizeof key, "image-%zu.png", i);
		all = mlde_strset_find(&s, key, strlen(key)) == (ptrdiff_t)(i + 2) &&
		      strcmp(s.keys[i + 2], key) == 0 && s.lens[i + 2] == strlen(key);
	}
	TAP_OK(all, "every key found after growth, stored as given");
	TAP_OK(s.nslots >= 2 * s.n, "the table stays at most half full");
	TAP_IS_INT(mlde_strset_add(&s, "x\0y", 3, NULL), 5002, "a key with a NUL byte");
	TAP_IS_INT(mlde_strset_add(&s, "x\0z", 3, NULL), 5003, "differs after the NUL");
	TAP_IS_INT(mlde_strset_find(&s, "x", 1), -1, "nor is its prefix the same key");
	TAP_IS_INT(mlde_strset_find(&s, "x\0y", 3), 5002, "found by all its bytes");
	mlde_strset_free(&s);
	TAP_OK(s.n == 0 && !s.keys && !s.slots, "free leaves an empty set");
	TAP_IS_INT(mlde_strset_add(&s, "again", 5, NULL), 0, "a freed set can be used again");
	mlde_strset_free(&s);
}

static void test_u64set(void)
{
	mlde_u64set s = { 0 };
	bool all = true;

	TAP_OK(!mlde_u64set_has(&s, 0) && !mlde_u64set_has(&s, 7), "empty set has nothing");
	TAP_OK(mlde_u64set_add(&s, 7), "add 7: new");
	TAP_OK(!mlde_u64set_add(&s, 7), "add 7 again: not new");
	TAP_OK(!mlde_u64set_has(&s, 0), "0 is not in it");
	TAP_OK(mlde_u64set_add(&s, 0) && mlde_u64set_has(&s, 0), "0 is a value like any other");
	for (uint64_t v = 1; v <= 3000; v++)
		mlde_u64set_add(&s, v * 0x9e3779b97f4a7c15ULL);
	for (uint64_t v = 1; v <= 3000; v++)
		all = all && mlde_u64set_has(&s, v * 0x9e3779b97f4a7c15ULL);
	TAP_OK(all, "3000 values found after growth");
	TAP_OK(!mlde_u64set_has(&s, 3001 * 0x9e3779b97f4a7c15ULL), "nor one never added");
	TAP_OK(mlde_u64set_has(&s, 7) && mlde_u64set_has(&s, 0), "7 and 0 survive growth");
	mlde_u64set_free(&s);
}

int main(void)
{
	test_fnv();
	test_strset();
	test_u64set();
	return TAP_DONE();
}
