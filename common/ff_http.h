/* ff_http: the per-process HTTP listener (/metrics, /healthz, /readyz) and the stall watchdog. */
#ifndef FF_HTTP_H
#define FF_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ff_metrics.h"

/* Why a process is not ready. */
typedef enum {
    FF_READY = 0,
    FF_NOT_READY_STARTING,      /* no partitions assigned yet */
    FF_NOT_READY_REDIS,         /* Redis unreachable: consumption paused */
    FF_NOT_READY_KAFKA,         /* Kafka unreachable: consumption paused */
    FF_NOT_READY_REGISTRY,      /* the Schema Registry unreachable: paused */
    FF_NOT_READY_STOPPING,
} ff_readiness_t;

/* What the loop tells the probes; written by the loop, read by the HTTP
 * and watchdog threads. */
typedef struct ff_status_s {
    _Atomic int64_t heartbeat_ms; /* monotonic time of the loop's last turn */
    _Atomic int readiness;        /* ff_readiness_t */
    _Atomic(const char *) step;   /* what the loop is doing (a string literal) */
} ff_status_t;

/* How long the loop may go without a turn before /healthz fails and the
 * watchdog says so: it turns at least every few seconds, even in an outage,
 * so a minute without a turn is a hung process. */
#define FF_STALL_MS 60000

const char *ff_readiness_name(ff_readiness_t r);

typedef struct ff_http_s ff_http_t;

/* Listens on port (all interfaces) in its own thread. /healthz is 200 while
 * the loop turned within the last `stale_ms`; /readyz is 200 when status
 * says ready; both say why in the body otherwise (503). NULL with errstr. */
ff_http_t *ff_http_start(int port, ff_metrics_t *metrics, ff_status_t *status, int64_t stale_ms,
                         char *errstr, size_t errstr_size);
void ff_http_stop(ff_http_t *http);

/* A thread that logs a warning (loop.stalled, with the loop's step) when
 * the loop has not turned for stale_ms, and every stale_ms while it stays
 * so: a hung process says where it hangs, with or without an HTTP port. */
typedef struct ff_watchdog_s ff_watchdog_t;
ff_watchdog_t *ff_watchdog_start(ff_status_t *status, int64_t stale_ms);
void ff_watchdog_stop(ff_watchdog_t *w);

#endif
