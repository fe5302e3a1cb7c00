/* request.h - the request bodies of mlde-gen, and so the keys of the reply
 * cache: a chat completion for an OpenAI-compatible server, or the world
 * backend's request, each as JSON with sorted keys; and the completion body
 * the world backend answers with.  Nothing here prints. */
#ifndef MLDE_REQUEST_H
#define MLDE_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <jv.h>

#include "world/worldgen.h"

/* The seed of one record's request, from its id and the run's seed. */
uint64_t mlde_request_seed(const char *id, uint64_t seed);
/* A chat completion: one user message holding prompt.  Malloc'd, *len set. */
char *mlde_request_chat(const char *model, const char *prompt, double temperature,
			long max_tokens, uint64_t seed, size_t *len);
/* The world backend's request for plan (borrowed): its id, type and query,
 * and the fault rates when faults is on (NULL: off, the body as before). */
char *mlde_request_world(jv plan, uint64_t seed, const mlde_world_faults *faults, size_t *len);
/* The world backend's answer to it, in the shape of an OpenAI completion
 * body, so the cache and the parser see one format; with faults on, a
 * faulty reply's body names its kind in "fault" (worldgen.h). */
char *mlde_request_world_reply(jv plan, uint64_t seed, const mlde_world_faults *faults,
			       size_t *len);

#endif
