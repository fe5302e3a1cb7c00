/* par.c - the parallel loop of par.h over POSIX threads. */
#include "base/par.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/err.h"

typedef struct loop {
	atomic_size_t next;  /* the next index to hand out */
	size_t n;
	void (*fn)(void *ctx, size_t i, int tid);
	void *ctx;
} loop;

typedef struct worker {
	loop *l;
	int tid;
} worker;

static void run_share(loop *l, int tid)
{
	size_t i;

	while ((i = atomic_fetch_add(&l->next, 1)) < l->n)
		l->fn(l->ctx, i, tid);
}

static void *worker_main(void *arg)
{
	worker *w = arg;

	run_share(w->l, w->tid);
	return NULL;
}

void mlde_par_for(int nthreads, size_t n, void (*fn)(void *ctx, size_t i, int tid), void *ctx)
{
	loop l = { .n = n, .fn = fn, .ctx = ctx };
	int extra = nthreads > 1 && n > 1 ? (size_t)nthreads < n ? nthreads - 1 : (int)n - 1 : 0;
	pthread_t *th = extra ? mlde_xmalloc((size_t)extra * sizeof *th) : NULL;
	worker *w = extra ? mlde_xmalloc((size_t)extra * sizeof *w) : NULL;
	int started = 0;

	atomic_init(&l.next, 0);
	for (int t = 0; t < extra; t++) {
		w[started] = (worker){ &l, started + 1 };
		if (pthread_create(&th[started], NULL, worker_main, &w[started]) == 0)
			started++;
	}
	run_share(&l, 0);
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	free(th);
	free(w);
}
