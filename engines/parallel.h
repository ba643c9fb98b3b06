#ifndef ENGINES_PARALLEL_H
#define ENGINES_PARALLEL_H

/* Runs independent grid points on threads, handed out in small runs to whichever thread is
 * free. Point k writes only its own results, so the output does not depend on the thread count
 * or the order. */

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>

typedef bool eq_stop_fn(void *arg);
/* Runs point k with this thread's scratch (scratch_bytes, never shared). */
typedef void eq_point_fn(void *ctx, size_t k, void *scratch);

/* fn(ctx, k, scratch) for every k in [0, n) on `threads` threads (1..64; one runs on the
 * caller's thread). stop (may be NULL) is polled before every point: QD_ECANCELED. QD_ENOMEM
 * when scratch cannot be had. Returns once every thread has finished. */
enum qd_code eq_parallel_for(size_t n, unsigned threads, size_t scratch_bytes, eq_point_fn *fn,
                             void *ctx, eq_stop_fn *stop, void *stop_arg, struct qd_err *err);

#endif
