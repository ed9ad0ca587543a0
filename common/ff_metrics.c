/* ff_metrics: counters, gauges and histograms in the Prometheus text format, shared with the HTTP thread. */
#include "ff_metrics.h"

#include <math.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_map.h"

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } kind_t;

struct ff_series_s {
    ff_metrics_t *m;
    char *name;
    char *help;
    char *labels;
    kind_t kind;
    double value;     /* counter, gauge; histogram: sum */
    uint64_t count;   /* histogram */
    double *bounds;
    uint64_t *buckets; /* per bound, not cumulative; the last is +Inf */
    size_t nbounds;
};

struct ff_metrics_s {
    pthread_mutex_t lock;
    ff_map_t by_key; /* "name{labels}" -> series */
    ff_series_t **series;
    size_t n, cap;
};

const double ff_buckets_seconds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                     0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const size_t ff_buckets_seconds_n = FF_ARRAY_LEN(ff_buckets_seconds);
const double ff_buckets_records[] = {1, 5, 10, 50, 100, 500, 1000, 2000, 5000, 10000};
const size_t ff_buckets_records_n = FF_ARRAY_LEN(ff_buckets_records);

ff_metrics_t *ff_metrics_new(void)
{
    ff_metrics_t *m = ff_calloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    ff_map_init(&m->by_key);
    return m;
}

void ff_metrics_destroy(ff_metrics_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        ff_series_t *s = m->series[i];
        free(s->name);
        free(s->help);
        free(s->labels);
        free(s->bounds);
        free(s->buckets);
        free(s);
    }
    free(m->series);
    ff_map_term(&m->by_key);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static ff_series_t *get(ff_metrics_t *m, kind_t kind, const char *name, const char *help,
                        const char *labels, const double *bounds, size_t nbounds)
{
    char *key;
    ff_series_t *s;
    if (!m)
        return NULL;
    key = ff_asprintf("%s{%s}", name, labels ? labels : "");
    pthread_mutex_lock(&m->lock);
    s = ff_map_get(&m->by_key, key, strlen(key));
    if (!s) {
        s = ff_calloc(1, sizeof(*s));
        s->m = m;
        s->name = ff_strdup(name);
        s->help = ff_strdup(help);
        s->labels = ff_strdup(labels ? labels : "");
        s->kind = kind;
        if (kind == KIND_HISTOGRAM) {
            s->nbounds = nbounds;
            s->bounds = ff_calloc(nbounds + 1, sizeof(double));
            memcpy(s->bounds, bounds, nbounds * sizeof(double));
            s->buckets = ff_calloc(nbounds + 1, sizeof(uint64_t));
        }
        ff_map_put(&m->by_key, key, strlen(key), s);
        if (m->n == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 32;
            m->series = ff_realloc(m->series, m->cap * sizeof(*m->series));
        }
        m->series[m->n++] = s;
    }
    pthread_mutex_unlock(&m->lock);
    free(key);
    return s;
}

ff_series_t *ff_metrics_counter(ff_metrics_t *m, const char *name, const char *help,
                                const char *labels)
{
    return get(m, KIND_COUNTER, name, help, labels, NULL, 0);
}

ff_series_t *ff_metrics_gauge(ff_metrics_t *m, const char *name, const char *help,
                              const char *labels)
{
    return get(m, KIND_GAUGE, name, help, labels, NULL, 0);
}

ff_series_t *ff_metrics_histogram(ff_metrics_t *m, const char *name, const char *help,
                                  const char *labels, const double *bounds, size_t nbounds)
{
    return get(m, KIND_HISTOGRAM, name, help, labels, bounds, nbounds);
}

void ff_series_add(ff_series_t *s, double v)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->m->lock);
    s->value += v;
    pthread_mutex_unlock(&s->m->lock);
}

void ff_series_set(ff_series_t *s, double v)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->m->lock);
    s->value = v;
    pthread_mutex_unlock(&s->m->lock);
}

void ff_series_observe(ff_series_t *s, double v)
{
    size_t i;
    if (!s)
        return;
    pthread_mutex_lock(&s->m->lock);
    for (i = 0; i < s->nbounds && v > s->bounds[i]; i++)
        ;
    s->buckets[i]++;
    s->count++;
    s->value += v;
    pthread_mutex_unlock(&s->m->lock);
}

double ff_series_value(ff_series_t *s)
{
    double v;
    if (!s)
        return 0;
    pthread_mutex_lock(&s->m->lock);
    v = s->kind == KIND_HISTOGRAM ? (double)s->count : s->value;
    pthread_mutex_unlock(&s->m->lock);
    return v;
}

static void number(ff_buf_t *out, double v)
{
    if (isinf(v))
        ff_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == (double)(int64_t)v && fabs(v) < 1e15)
        ff_buf_printf(out, "%lld", (long long)v);
    else
        ff_buf_printf(out, "%.9g", v);
}

static void sample(ff_buf_t *out, const char *name, const char *suffix, const char *labels,
                   const char *extra, double v)
{
    ff_buf_printf(out, "%s%s", name, suffix);
    if (labels[0] || extra) {
        ff_buf_printf(out, "{%s%s%s}", labels, labels[0] && extra ? "," : "", extra ? extra : "");
    }
    ff_buf_putc(out, ' ');
    number(out, v);
    ff_buf_putc(out, '\n');
}

void ff_metrics_render(ff_metrics_t *m, ff_buf_t *out)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n; i++) {
        const ff_series_t *s = m->series[i];
        bool first = true;
        /* HELP and TYPE once per name, before its first series. */
        for (size_t k = 0; k < i && first; k++)
            first = strcmp(m->series[k]->name, s->name) != 0;
        if (first) {
            ff_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", s->name, s->help, s->name,
                          types[s->kind]);
            /* Every series of this name, together. */
            for (size_t k = i; k < m->n; k++) {
                const ff_series_t *t = m->series[k];
                uint64_t cum = 0;
                char le[64];
                if (strcmp(t->name, s->name))
                    continue;
                if (t->kind != KIND_HISTOGRAM) {
                    sample(out, t->name, "", t->labels, NULL, t->value);
                    continue;
                }
                for (size_t b = 0; b <= t->nbounds; b++) {
                    cum += t->buckets[b];
                    if (b < t->nbounds) {
                        ff_buf_t tmp;
                        ff_buf_init(&tmp);
                        number(&tmp, t->bounds[b]);
                        snprintf(le, sizeof le, "le=\"%s\"", tmp.data);
                        ff_buf_term(&tmp);
                    } else {
                        snprintf(le, sizeof le, "le=\"+Inf\"");
                    }
                    sample(out, t->name, "_bucket", t->labels, le, (double)cum);
                }
                sample(out, t->name, "_sum", t->labels, NULL, t->value);
                sample(out, t->name, "_count", t->labels, NULL, (double)t->count);
            }
        }
    }
    pthread_mutex_unlock(&m->lock);
}
