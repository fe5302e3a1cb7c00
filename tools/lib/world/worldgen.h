/* worldgen.h - the offline generator of mlde-gen's world backend: the reply
 * an LLM would write for a plan record, in the same Question / Choices /
 * Answer / Explanation text, written from the query's annotations by the
 * question writers of world.h.  Correct by construction.  Nothing prints. */
#ifndef MLDE_WORLDGEN_H
#define MLDE_WORLDGEN_H

#include <stdint.h>
#include <jv.h>

/* The reply for plan (borrowed: its "type" and "query"), with questions
 * drawn by a generator seeded with seed: a malloc'd string.  Where the
 * query is no world scene, or the scene cannot carry a question of the
 * type, the reply is "Skip" and why, as the LLM is told to answer. */
char *mlde_worldgen_reply(jv plan, uint64_t seed);

#endif
