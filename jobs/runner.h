#ifndef JOBS_RUNNER_H
#define JOBS_RUNNER_H

/*
 * Job workers: N threads, each with its own database connection, claiming jobs from the
 * durable queue (FOR UPDATE SKIP LOCKED) and running their type's run(); plus one
 * housekeeping thread (own connection) that renews this daemon's leases, picks up cancel
 * requests made through other daemons, re-queues jobs whose lease expired, and fires due
 * schedules. Nothing here runs on the loop thread; the loop only calls the functions below,
 * none of which blocks except job_runner_destroy.
 */

#include "common/err.h"

#include <stdbool.h>
#include <stdint.h>

struct job_runner;

struct job_runner_config {
    const char *conninfo;
    const char *owner;              /* lease owner id, unique per daemon process */
    unsigned    workers;            /* 0: this daemon runs no jobs (--role api) */
    unsigned    lease_seconds, heartbeat_ms, poll_ms;
    unsigned    backoff_base_ms, backoff_max_ms;
    unsigned    scheduler_ms;
    unsigned    statement_timeout_ms;
    bool        housekeeping;       /* leases, reaping and schedules */
};

struct job_runner *job_runner_start(const struct job_runner_config *cfg, struct qd_err *err);
/* A job was queued: wake an idle worker now instead of at its next poll. Any thread. */
void job_runner_wake(struct job_runner *r);
/* Sets the cancel flag of job id if it runs here (the database flag covers other daemons).
 * Any thread. */
void job_runner_cancel(struct job_runner *r, int64_t id);
/* Jobs running here now. Any thread. */
unsigned job_runner_running(struct job_runner *r);
/* Stop claiming; running jobs get until drain_ms to finish, then are told to stop and are
 * re-queued without counting the attempt. Returns at once. Any thread. */
void job_runner_shutdown(struct job_runner *r, unsigned drain_ms);
/* Joins every thread (after job_runner_shutdown) and frees. NULL is a no-op. */
void job_runner_destroy(struct job_runner *r);

/* Backoff before attempt n+1 after n failed attempts: base * 2^(n-1), capped, with up to 20%
 * jitter from seed. Exposed for tests. */
unsigned job_backoff_ms(unsigned base, unsigned max, int attempts, uint64_t seed);

#endif
