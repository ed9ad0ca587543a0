/* ff_loop: the consume loop every processor runs: batch, decode, DLQ, engine, transaction, commit. */
#ifndef FF_LOOP_H
#define FF_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "ff_codec.h"
#include "ff_config.h"
#include "ff_engine.h"
#include "ff_proc.h"

#define FF_LOOP_MAX_LABELS FF_LABEL__COUNT

typedef struct ff_loop_stats_s {
    uint64_t consumed;      /* records in committed batches (DLQ included) */
    uint64_t dlq;           /* records sent to a DLQ */
    uint64_t batches;       /* batches committed */
    uint64_t outputs;       /* records produced (DLQ included) */
    uint64_t txn_commits;
    uint64_t txn_aborts;
    uint64_t outage_pauses; /* times consumption was paused for an outage */
    uint64_t restarts;      /* client restarts after fatal producer errors or stalls */
    uint64_t stalls;        /* partitions found holding records that never arrived */
    uint64_t labels[FF_LOOP_MAX_LABELS]; /* outputs by label */
} ff_loop_stats_t;

typedef struct ff_loop_s ff_loop_t;

/* A partition read from start to end (exclusive) by a bounded loop. */
typedef struct ff_bound_s {
    const char *topic;
    int32_t partition;
    int64_t start;
    int64_t end;
    int64_t position; /* next offset to process; kept up to date by the loop */
} ff_bound_t;

/* Called after each committed batch (and about once a second when idle). */
typedef void (*ff_loop_progress_fn)(void *opaque, const ff_loop_t *loop);

/* A loop for processor def (with context proc) reading its inputs. Clients
 * are made here; nothing connects yet. NULL with errstr (a bad kafka.*
 * setting names its key). codec and engine are not owned. */
ff_loop_t *ff_loop_new(const ff_processor_t *def, void *proc, const ff_conf_t *conf,
                       ff_codec_t *codec, ff_engine_t *engine, char *errstr, size_t errstr_size);
void ff_loop_destroy(ff_loop_t *loop);

/* Makes the loop bounded: instead of joining its group's subscription it
 * reads exactly these partitions (assigned, not subscribed; offsets are
 * still committed to its group.id) from position to end, then stops.
 * The array must outlive the loop; positions are updated as batches commit. */
void ff_loop_set_bounds(ff_loop_t *loop, ff_bound_t *bounds, size_t n);
void ff_loop_set_progress(ff_loop_t *loop, ff_loop_progress_fn fn, void *opaque);

struct ff_metrics_s;
struct ff_status_s;
/* Where the loop reports: metrics (may be NULL) and the probes' status
 * (may be NULL). Neither is owned. */
void ff_loop_set_observability(ff_loop_t *loop, struct ff_metrics_s *metrics,
                               struct ff_status_s *status);

/* Runs until ff_stop_requested (or, bounded, until every partition reached
 * its end): finishes the batch in hand, commits it, leaves the group.
 * Returns 0 after a graceful stop, -1 on a fatal error. */
int ff_loop_run(ff_loop_t *loop);

const ff_loop_stats_t *ff_loop_stats(const ff_loop_t *loop);
/* Partitions assigned, dependencies reachable, not paused by an outage. */
bool ff_loop_ready(const ff_loop_t *loop);

#endif
