/* worldgen.h - the offline generator of mlde-gen's world backend: the reply
 * an LLM would write for a plan record, in the same Question / Choices /
 * Answer / Explanation text, written from the query's annotations by the
 * question writers of world.h.  Correct by construction, unless faults are
 * asked for: then, at given rates, it makes the mistakes LLM generators
 * make, each worded so that it passes the reply parser as an LLM's would.
 * Nothing prints. */
#ifndef MLDE_WORLDGEN_H
#define MLDE_WORLDGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jv.h>

#include "base/err.h"

/* The fault kinds; their names are the world reviewer's reasons
 * (worldreview.h).  Where a type cannot carry a kind (absent-object for
 * scene_understanding, visual_reasoning and text_understanding; other-type
 * when the image carries no other type), the item gets a wrong answer. */
enum mlde_world_fault {
	MLDE_FAULT_WRONG_ANSWER,  /* "wrong-answer": another option marked, explained as right */
	MLDE_FAULT_ABSENT,        /* "absent-object": about a shape or colour the image lacks */
	MLDE_FAULT_TYPE,          /* "other-type": a question of another type than asked */
	MLDE_FAULT_COORDS,        /* "coordinates": "the red circle at (0.28, 0.41)" */
	MLDE_FAULT_DUPLICATE,     /* "duplicate-options": "2" and "two", "red" and "the color red" */
	MLDE_FAULT_N
};
extern const char *const mlde_world_fault_names[MLDE_FAULT_N];

typedef struct mlde_world_faults {
	double rate[MLDE_FAULT_N];  /* chance of each kind per reply; sum <= 1 */
} mlde_world_faults;

/* Read "KIND=RATE,..." (KIND a fault name, '_' for '-' allowed, or "all":
 * RATE shared equally by the five kinds).  0, or -1 with err set
 * (MLDE_EXIT_USAGE) on an unknown kind, a rate outside 0..1, or rates
 * summing past 1. */
int mlde_world_faults_parse(const char *spec, mlde_world_faults *f, mlde_error *err);
bool mlde_world_faults_on(const mlde_world_faults *f);
/* The rates in one canonical form ("wrong-answer=0.04,absent-object=0.04,..."),
 * for the request body, so that a faulty reply has a cache key of its own. */
void mlde_world_faults_string(const mlde_world_faults *f, char *buf, size_t len);

/* The reply for plan (borrowed: its "type" and "query"), with questions
 * drawn by a generator seeded with seed: a malloc'd string.  Where the
 * query is no world scene, or the scene cannot carry a question of the
 * type, the reply is "Skip" and why, as the LLM is told to answer. */
char *mlde_worldgen_reply(jv plan, uint64_t seed);
/* The same with faults (NULL: none): the draw of a fault has a generator
 * of its own (from seed), so a faulty reply is the fault-free one, spoiled.
 * *fault: the kind made (a fault name), or NULL for none. */
char *mlde_worldgen_reply_faulty(jv plan, uint64_t seed, const mlde_world_faults *faults,
				 const char **fault);

#endif
