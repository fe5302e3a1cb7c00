/* test-par.c - the parallel loop: every index run exactly once, by a tid
 * in range, on one thread or many, for n of 0, 1, fewer than the threads
 * and many more; and the same results whatever the thread count. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/par.h"
#include "tap.h"

#define N_MAX 10000

typedef struct seen {
	atomic_int runs[N_MAX];
	int nthreads;
	atomic_int bad_tid;
	unsigned long square[N_MAX];
} seen;

static void visit(void *ctx, size_t i, int tid)
{
	seen *s = ctx;

	atomic_fetch_add(&s->runs[i], 1);
	if (tid < 0 || tid >= s->nthreads)
		atomic_fetch_add(&s->bad_tid, 1);
	s->square[i] = (unsigned long)i * i;
}

int main(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 7, 1000, N_MAX };
	static const int threads[] = { 1, 2, 3, 8 };
	seen *s = calloc(1, sizeof *s);

	for (size_t a = 0; a < sizeof sizes / sizeof sizes[0]; a++)
		for (size_t b = 0; b < sizeof threads / sizeof threads[0]; b++) {
			size_t n = sizes[a], once = 0, right = 0;

			memset(s, 0, sizeof *s);
			s->nthreads = threads[b];
			mlde_par_for(threads[b], n, visit, s);
			for (size_t i = 0; i < N_MAX; i++) {
				once += atomic_load(&s->runs[i]) == (i < n ? 1 : 0);
				right += s->square[i] == (i < n ? (unsigned long)i * i : 0);
			}
			TAP_IS_INT((long)once, (long)N_MAX, "n %zu, %d threads: every index once, no other",
				   n, threads[b]);
			TAP_IS_INT((long)right, (long)N_MAX, "  each index's own result");
			TAP_IS_INT(atomic_load(&s->bad_tid), 0, "  tids within [0, %d)", threads[b]);
		}
	free(s);
	return TAP_DONE();
}
