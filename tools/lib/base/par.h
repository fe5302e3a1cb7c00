/* par.h - a loop over n independent indices on several threads, the
 * caller one of them.  Indices are handed out one at a time as threads
 * come for them, so which thread runs an index depends on timing: fn must
 * write only what belongs to its index (and scratch of its own, by tid),
 * and then the results do not. */
#ifndef MLDE_PAR_H
#define MLDE_PAR_H

#include <stddef.h>

/* fn(ctx, i, tid) for every i in [0, n), on up to nthreads threads (tid in
 * [0, nthreads); the caller is 0), returning when all are done.  A thread
 * that cannot start leaves its share to the others: this never fails. */
void mlde_par_for(int nthreads, size_t n, void (*fn)(void *ctx, size_t i, int tid), void *ctx);

#endif
