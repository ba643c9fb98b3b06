/* Parallel loop over grid points (see parallel.h). */
#include "engines/parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Points are handed out in runs of consecutive indices to whichever thread is free: a run is
 * an even share of what is left (but at least PAR_MIN_RUN), so the runs are long at first and
 * short at the end, and the threads finish together. Long runs matter: measured on the SMA
 * grid, two threads working on neighbouring points (runs of 8) were 13 % slower than on points
 * far apart. */
#define PAR_MIN_RUN 4

struct par {
    size_t       n, scratch_bytes;   /* scratch_bytes: rounded up to whole cache lines */
    char        *scratch;           /* one slice per thread, allocated by the caller */
    unsigned     nthreads;
    eq_point_fn *fn;
    void        *ctx;
    eq_stop_fn  *stop;
    void        *stop_arg;
    atomic_size_t next;         /* first index not yet handed out */
};

struct par_worker {
    struct par *par;
    unsigned    index;
    pthread_t   thread;
    bool        started;
    int         rc;
};

static void *
par_main(void *arg)
{
    struct par_worker *w = arg;
    struct par *p = w->par;
    void *scratch = p->scratch + (size_t)w->index * p->scratch_bytes;

    w->rc = QD_OK;
    while (w->rc == QD_OK) {
        size_t k = atomic_load_explicit(&p->next, memory_order_relaxed), run = 0, end;
        do {
            if (k >= p->n)
                break;
            run = (p->n - k) / (2 * p->nthreads);
            run = run < PAR_MIN_RUN ? PAR_MIN_RUN : run;
        } while (!atomic_compare_exchange_weak_explicit(&p->next, &k, k + run,
                                                        memory_order_relaxed,
                                                        memory_order_relaxed));
        if (k >= p->n)
            break;
        end = k + run < p->n ? k + run : p->n;
        for (; k < end; k++) {
            if (p->stop && p->stop(p->stop_arg)) {
                w->rc = QD_ECANCELED;
                break;
            }
            p->fn(p->ctx, k, scratch);
        }
    }
    return NULL;
}

enum qd_code
eq_parallel_for(size_t n, unsigned threads, size_t scratch_bytes, eq_point_fn *fn, void *ctx,
                eq_stop_fn *stop, void *stop_arg, struct qd_err *err)
{
    struct par p = {.n = n, .scratch_bytes = scratch_bytes, .fn = fn, .ctx = ctx, .stop = stop,
                    .stop_arg = stop_arg};

    atomic_init(&p.next, 0);
    struct par_worker ws[64];
    enum qd_code rc = QD_OK;

    p.nthreads = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    /* the threads' scratch in one block from the caller's heap: a new thread's first malloc
     * would set up an arena for it (a 64 MiB mapping, page faults): measured, that made the
     * first sweep on fresh threads 30 % slower than the next */
    p.scratch_bytes = (scratch_bytes + 63) & ~(size_t)63;
    p.scratch = aligned_alloc(64, p.scratch_bytes * p.nthreads + 64);
    if (p.scratch == NULL)
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    /* Worker 0 is the calling thread, which is running already: with every worker on a new
     * thread and the caller asleep in join, the first sweeps of a process often ran both
     * workers on one CPU until the scheduler spread them (measured: 19-24 ms, then 12 ms). */
    for (unsigned i = 1; i < p.nthreads; i++) {
        ws[i] = (struct par_worker){.par = &p, .index = i};
        ws[i].started = pthread_create(&ws[i].thread, NULL, par_main, &ws[i]) == 0;
        /* a thread that could not start has nothing to do: the others take its points */
    }
    ws[0] = (struct par_worker){.par = &p, .index = 0};
    par_main(&ws[0]);
    for (unsigned i = 0; i < p.nthreads; i++) {
        if (ws[i].started)
            pthread_join(ws[i].thread, NULL);
        if (ws[i].rc != QD_OK && rc == QD_OK)
            rc = (enum qd_code)ws[i].rc;
    }
    free(p.scratch);
    if (rc != QD_OK)
        return qd_err_set(err, rc, rc == QD_ECANCELED ? "cancelled" : "out of memory");
    return QD_OK;
}
