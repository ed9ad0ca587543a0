/* ff_metrics: counters, gauges and histograms in the Prometheus text format, shared with the HTTP thread. */
#ifndef FF_METRICS_H
#define FF_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ff_util.h"

typedef struct ff_metrics_s ff_metrics_t;
typedef struct ff_series_s ff_series_t;

/* A registry. Every call below may be made from any thread: a mutex guards
 * the registry, and the loop updates it once per batch, not per record. */
ff_metrics_t *ff_metrics_new(void);
void ff_metrics_destroy(ff_metrics_t *m);

/* A counter or gauge series, made on first use: name, help (the same for
 * every series of a name) and labels as Prometheus writes them
 * (`topic="web.events",partition="0"`, or "" for none). The returned
 * handle lives as long as the registry. m may be NULL: then NULL is
 * returned and every update of a NULL series is a no-op. */
ff_series_t *ff_metrics_counter(ff_metrics_t *m, const char *name, const char *help,
                                const char *labels);
ff_series_t *ff_metrics_gauge(ff_metrics_t *m, const char *name, const char *help,
                              const char *labels);
/* A histogram with upper bounds (ascending; +Inf is added). */
ff_series_t *ff_metrics_histogram(ff_metrics_t *m, const char *name, const char *help,
                                  const char *labels, const double *bounds, size_t nbounds);

void ff_series_add(ff_series_t *s, double v);
void ff_series_set(ff_series_t *s, double v);
void ff_series_observe(ff_series_t *s, double v);
double ff_series_value(ff_series_t *s);

/* Appends every series in the text exposition format (version 0.0.4). */
void ff_metrics_render(ff_metrics_t *m, ff_buf_t *out);

/* Standard buckets: seconds for latencies, counts for batch sizes. */
extern const double ff_buckets_seconds[];
extern const size_t ff_buckets_seconds_n;
extern const double ff_buckets_records[];
extern const size_t ff_buckets_records_n;

#endif
