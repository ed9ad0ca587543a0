/* footfall bench: each processor against a do-nothing consumer, with its Redis round trips, CPU, latency and memory.
 *
 * For each processor, on a fresh embedded broker and the one redis-server of
 * the run: preload its input topics, read them with a consumer that does
 * nothing (the ceiling), then run the processor from an empty group until it
 * has caught up, sampling its /metrics, /proc and Redis INFO as it goes.
 * Then, on one more fresh broker with all the state built, each processor
 * again at half its measured rate, with a downstream consumer timing its
 * outputs. One table on stdout, the same as JSON in the results directory. */
#define _GNU_SOURCE /* sched_setaffinity */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ff_clock.h"
#include "ff_codec.h"
#include "ff_kafka.h"
#include "ff_log.h"
#include "ff_redis.h"
#include "gen.h"
#include "scenario.h"
#include "stack.h"

#define MILLION 1000000.0

/* What the issue asks of every processor. */
#define TARGET_CEILING_SHARE 0.70
#define TARGET_ROUNDTRIPS 0.01
#define TARGET_CPU_S 3.0
#define TARGET_P99_MS 50.0
#define TARGET_RSS_GROWTH 0.10

/* fetch.wait.max.ms of the processors and of the downstream reader in the
 * latency run: see start_proc. */
#define BENCH_FETCH_WAIT_MS "2"

/* The ceiling is the best of this many reads of the do-nothing consumer.
 * Reads still differ: about 2.5 or about 1.2 million records/s, the slow
 * ones, by perf, when the reading thread, freeing each message, and
 * librdkafka's fetch thread, allocating them, contend for glibc's arena
 * lock (bench/README.md: likely, not established). Until its prefetch
 * limit was lifted (see ceiling()) some gave 0.3 million. */
#define CEILING_READS 3

typedef struct bproc_s {
    const char *name;
    const char *inputs[3];  /* topic settings, NULL-terminated */
    const char *outputs[5]; /* the topics it writes, for the latency consumer */
} bproc_t;

/* In the order they run. The web processor writes the intent that the
 * geofence processor reads whole for every visit that can earn an offer,
 * the most a processor reads: geofence is measured after web, so that its
 * rate (and the half of it its latency run is fed at) is the rate over that
 * intent, not over the warm-up's. Web's INVITE needs the visits (preferred
 * stores) geofence makes: it has the warm-up's. Both make the offers the
 * POS processor converts. */
static const bproc_t bprocs[] = {
    {"shelf", {"topic.shelf"}, {"topic.stock_alert"}},
    {"web", {"topic.web"}, {"topic.drive_to_store", "topic.holdout", "topic.decisions"}},
    {"geofence",
     {"topic.geofence", "topic.consent"},
     {"topic.drive_to_store", "topic.store_assist", "topic.holdout", "topic.decisions"}},
    {"pos", {"topic.pos"}, {"topic.conversion", "topic.decisions"}},
};
#define NPROCS ((int)(sizeof bprocs / sizeof bprocs[0]))

typedef struct opts_s {
    int64_t records;   /* measured: ceiling, throughput, CPU, round trips */
    int64_t rss_at;    /* first RSS reading; the second at 10 times that */
    bool memory;       /* run on to 10 * rss_at records */
    int partitions;
    double latency_s;
    bool pin;
    bool keep; /* leave the stack's directory */
    int64_t warmup; /* records per processor that build state before measuring */
    const char *out_dir;
    uint64_t seed;
    bool selected[NPROCS];
} opts_t;

/* The processor's footfall_batch_phase_seconds, in its order. */
static const char *const phases[] = {"fill", "state", "produce", "send_offsets", "commit",
                                     "group_commit"};
#define NPHASES 6

/* Who kept how many CPUs busy while a processor caught up. */
enum { BUSY_PROC, BUSY_MAIN, BUSY_REDIS, BUSY_BROKER, NBUSY };
static const char *const busy_keys[NBUSY] = {"processor", "processor_main_thread", "redis",
                                             "broker"};
static const char *const busy_names[NBUSY] = {"the processor", "the processor's main thread",
                                              "redis-server", "the broker"};

/* One command's line of Redis INFO commandstats. */
#define MAX_CMDSTATS 32
typedef struct cmdstat_s {
    char name[32];
    double calls, usec;
} cmdstat_t;

#define MAX_LATWIN 20

typedef struct result_s {
    bool ran, latency_ran;
    int64_t records;       /* in the measured window */
    double ceiling_rps;
    double ceiling_reads[CEILING_READS]; /* each read's; ceiling_rps is the best */
    double rps;            /* sustained, from the first batch to caught up */
    double startup_s;      /* from start to its first batch (group join) */
    double roundtrips_per_record;
    double server_reads_per_record, server_commands_per_record;
    double cpu_s_per_million, redis_cpu_s_per_million, broker_cpu_s_per_million;
    /* CPUs each kept busy over the window (CPU seconds a second): the one
     * near 1.0 of a single thread is what bounds the rate. */
    double busy[NBUSY];
    double p50_ms, p99_ms, max_ms;
    int64_t latency_samples;
    double latency_rate;
    double commit_p50_ms_le, commit_p99_ms_le; /* the processor's own histogram */
    /* The latency run, to tell a queue from a tail: how busy each process
     * was, the processor's batches, and p50/p99 by window of event time. */
    double lat_busy[NBUSY], lat_harness_busy;
    double lat_batch_records, lat_phase_ms[NPHASES];
    double lat_window_s;
    int nlatwin;
    double lat_p50w[MAX_LATWIN], lat_p99w[MAX_LATWIN];
    double rss_mb_1m, rss_mb_10m, peak_rss_mb;
    int64_t memory_records;
    double batch_records, phase_ms[NPHASES]; /* per batch, on average */
    cmdstat_t cmds[MAX_CMDSTATS];            /* per record: calls, server microseconds */
    int ncmds;
} result_t;

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* ---- workload -------------------------------------------------------------------- */

static const char *const categories[] = {"shoes", "jackets", "toys",    "games",
                                          "kitchen", "garden", "beauty", "books"};

/* Ranks drawn with P(k) proportional to 1/(k+1)^s: a few hot keys, a long tail. */
typedef struct zipf_s {
    int n;
    double s, a;
} zipf_t;

static void zipf_init(zipf_t *z, int n, double s)
{
    z->n = n;
    z->s = s;
    z->a = pow((double)n + 1.0, 1.0 - s) - 1.0;
}

static double unit(ff_rng_t *r)
{
    return (double)(ff_rng_next(r) >> 11) / 9007199254740992.0;
}

static int zipf_draw(const zipf_t *z, ff_rng_t *r)
{
    int k = (int)pow(1.0 + unit(r) * z->a, 1.0 / (1.0 - z->s)) - 1;
    return k < 0 ? 0 : k >= z->n ? z->n - 1 : k;
}

#define WL_CUSTOMERS 200000
#define WL_STORES 200
#define WL_SHELVES 64 /* one planogram: shelf i holds SKU i in every store */
#define WL_SKUS 10000

typedef struct wl_s {
    ff_rng_t rng;
    zipf_t customers, stores, skus;
    int16_t qty[WL_STORES * WL_SHELVES], cap[WL_STORES * WL_SHELVES];
    int64_t seq;
    char event_id[32], cust[16], store[8], sku[16], shelf[8], session[32], query[32];
    ff_pos_line_t lines[4];
    char line_skus[4][16];
    ff_input_rec_t u;
} wl_t;

static void wl_init(wl_t *w, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    ff_rng_seed(&w->rng, seed);
    zipf_init(&w->customers, WL_CUSTOMERS, 0.7);
    zipf_init(&w->stores, WL_STORES, 0.8);
    zipf_init(&w->skus, WL_SKUS, 0.9);
    for (int i = 0; i < WL_STORES * WL_SHELVES; i++) {
        w->cap[i] = (int16_t)(20 + ff_rng_below(&w->rng, 41));
        /* Mid-day: shelves anywhere between empty and full. */
        w->qty[i] = (int16_t)ff_rng_below(&w->rng, (uint64_t)w->cap[i] + 1);
    }
}

static const char *wl_customer(wl_t *w)
{
    snprintf(w->cust, sizeof w->cust, "C%06d", zipf_draw(&w->customers, &w->rng) + 1);
    return w->cust;
}

static int wl_store(wl_t *w)
{
    int s = zipf_draw(&w->stores, &w->rng);
    snprintf(w->store, sizeof w->store, "S%03d", s + 1);
    return s;
}

static int wl_sku(wl_t *w, char *buf, size_t size)
{
    int k = zipf_draw(&w->skus, &w->rng);
    snprintf(buf, size, "SKU-%04d", k + 1);
    return k;
}

/* The next record for processor p at event time ts: its type and key. */
static ff_rec_t wl_next(wl_t *w, int p, int64_t ts, const char **key)
{
    ff_rng_t *r = &w->rng;
    snprintf(w->event_id, sizeof w->event_id, "b%c-%lld", bprocs[p].name[0], (long long)w->seq++);
    if (!strcmp(bprocs[p].name, "shelf")) {
        /* Sensors report every shelf at the same pace; shoppers pick more in
         * the busy stores, and staff restock an empty or low shelf. */
        int i = (int)ff_rng_below(r, WL_STORES * WL_SHELVES), store = i / WL_SHELVES;
        int shelf = i % WL_SHELVES;
        ff_shelf_reading_t *s = &w->u.shelf;
        double busy = 0.05 + 0.5 / (1.0 + store / 10.0);
        if (w->qty[i] > 0 && unit(r) < busy)
            w->qty[i]--;
        else if (w->qty[i] * 5 <= w->cap[i] && unit(r) < (w->qty[i] ? 0.03 : 0.1))
            w->qty[i] = w->cap[i];
        snprintf(w->store, sizeof w->store, "S%03d", store + 1);
        snprintf(w->shelf, sizeof w->shelf, "%c%d", 'A' + shelf / 8, shelf % 8 + 1);
        snprintf(w->sku, sizeof w->sku, "SKU-%04d", shelf + 1);
        memset(s, 0, sizeof *s);
        s->event_id = w->event_id;
        s->store_id = w->store;
        s->shelf_id = w->shelf;
        s->sku = w->sku;
        s->category = categories[shelf % 8];
        s->ts = ts;
        s->quantity = w->qty[i];
        s->capacity = w->cap[i];
        s->sensor = FF_SENSOR_WEIGHT;
        s->confidence.set = true;
        s->confidence.v = 0.95;
        *key = w->store;
        return FF_REC_SHELF_READING;
    }
    if (!strcmp(bprocs[p].name, "geofence")) {
        *key = wl_customer(w);
        if (ff_rng_below(r, 100) < 3) {
            ff_consent_event_t *c = &w->u.consent;
            uint64_t roll = ff_rng_below(r, 100);
            memset(c, 0, sizeof *c);
            c->event_id = w->event_id;
            c->customer_id = w->cust;
            c->ts = ts;
            c->channel = ff_rng_chance(r, 0.7) ? FF_CH_PUSH : FF_CH_ALL;
            c->status = roll < 90 ? FF_CONSENT_GRANTED : roll < 95 ? FF_CONSENT_DENIED
                                                                    : FF_CONSENT_REVOKED;
            return FF_REC_CONSENT_EVENT;
        }
        ff_geofence_event_t *g = &w->u.geo;
        uint64_t roll = ff_rng_below(r, 100);
        memset(g, 0, sizeof *g);
        wl_store(w);
        snprintf(w->session, sizeof w->session, "D-%s", w->cust);
        g->event_id = w->event_id;
        g->customer_id = w->cust;
        g->device_id = w->session;
        g->ts = ts;
        g->store_id = w->store;
        g->transition = roll < 45 ? FF_GEO_ENTER : roll < 70 ? FF_GEO_DWELL : FF_GEO_EXIT;
        if (g->transition == FF_GEO_DWELL) {
            g->dwell_seconds.set = true;
            g->dwell_seconds.v = 30 + (int64_t)ff_rng_below(r, 600);
        }
        g->accuracy_m.set = true;
        g->accuracy_m.v = 5.0 + (double)ff_rng_below(r, 45);
        return FF_REC_GEOFENCE_EVENT;
    }
    if (!strcmp(bprocs[p].name, "web")) {
        ff_web_event_t *e = &w->u.web;
        uint64_t roll = ff_rng_below(r, 100);
        int k;
        memset(e, 0, sizeof *e);
        *key = wl_customer(w);
        k = wl_sku(w, w->sku, sizeof w->sku);
        snprintf(w->session, sizeof w->session, "W-%s-%lld", w->cust, (long long)(ts / 1800000));
        e->event_id = w->event_id;
        e->customer_id = w->cust;
        e->session_id = w->session;
        e->ts = ts;
        e->type = roll < 55   ? FF_WEB_PRODUCT_VIEW
                  : roll < 70 ? FF_WEB_PAGE_VIEW
                  : roll < 80 ? FF_WEB_SEARCH
                  : roll < 92 ? FF_WEB_ADD_TO_CART
                  : roll < 96 ? FF_WEB_REMOVE_FROM_CART
                              : FF_WEB_WISHLIST;
        if (e->type == FF_WEB_SEARCH) {
            snprintf(w->query, sizeof w->query, "%s %d", categories[k % 8], k % 100);
            e->query = w->query;
            e->category = categories[k % 8];
        } else if (e->type != FF_WEB_PAGE_VIEW) {
            e->sku = w->sku;
            e->category = categories[k % 8];
            e->price_cents.set = true;
            e->price_cents.v = 199 + (k * 7919) % 20000;
        }
        return FF_REC_WEB_EVENT;
    }
    /* pos: most buyers are known customers; a basket of one to four. */
    ff_pos_transaction_t *t = &w->u.pos;
    int nlines = 1 + (int)ff_rng_below(r, 4);
    memset(t, 0, sizeof *t);
    wl_store(w);
    t->event_id = w->event_id;
    t->store_id = w->store;
    t->ts = ts;
    if (ff_rng_chance(r, 0.75)) {
        t->customer_id = wl_customer(w);
        *key = w->cust;
    } else {
        *key = w->store;
    }
    for (int i = 0; i < nlines; i++) {
        int k = wl_sku(w, w->line_skus[i], sizeof w->line_skus[i]);
        w->lines[i].sku = w->line_skus[i];
        w->lines[i].category = categories[k % 8];
        w->lines[i].quantity = 1 + (int64_t)ff_rng_below(r, 3);
        w->lines[i].unit_price_cents = 199 + (k * 7919) % 20000;
        t->total_cents += w->lines[i].quantity * w->lines[i].unit_price_cents;
    }
    t->lines = w->lines;
    t->lines_cnt = (size_t)nlines;
    return FF_REC_POS_TRANSACTION;
}

/* Produces n records of processor p (rate 0: as fast as the broker takes
 * them), each stamped with the wall clock when it is made. */
static int produce(const ff_conf_t *conf, ff_codec_t *codec, wl_t *w, int p, int64_t n, double rate,
                   bool verbose)
{
    ff_gen_sink_t sink;
    char errstr[512];
    int64_t t0 = ff_mono_ms(), next_report = t0 + 5000;
    if (ff_gen_sink_init(&sink, conf, codec, rate, 0, &stop_flag, errstr, sizeof errstr) == -1) {
        fprintf(stderr, "footfall bench: producer: %s\n", errstr);
        return -1;
    }
    for (int64_t i = 0; i < n && !stop_flag; i++) {
        const char *key;
        ff_rec_t type = wl_next(w, p, ff_wall_ms(), &key);
        if (ff_gen_emit(&sink, type, key, &w->u, 0))
            break;
        if (verbose && (i & 0xffff) == 0 && ff_mono_ms() >= next_report) {
            printf("    preloading: %lld of %lld\n", (long long)i, (long long)n);
            fflush(stdout);
            next_report += 5000;
        }
    }
    if (ff_gen_sink_term(&sink) != 0 || stop_flag) {
        fprintf(stderr, "footfall bench: records were not delivered\n");
        return -1;
    }
    if (verbose)
        printf("    preloaded %lld records in %.1f s\n", (long long)n,
               (double)(ff_mono_ms() - t0) / 1000.0);
    return 0;
}

/* ---- the ceiling: a consumer that does nothing ------------------------------------ */

/* Checks that the broker holds all `preloaded` records of p's input topics,
 * then reads n of them from the beginning, as the processor would (same
 * client settings, read_committed), and does nothing with them. Records per
 * second from the first record to the n-th, or -1. */
static double ceiling(const ff_conf_t *conf, int p, int partitions, int64_t preloaded, int64_t n)
{
    char errstr[512], group[64];
    snprintf(group, sizeof group, "footfall-bench-ceiling-%s", bprocs[p].name);
    const char *forced[] = {"group.id", group, "enable.auto.commit", "false",
                            "isolation.level", "read_committed", NULL};
    /* The processors' settings on the embedded stack (tools/stack.c): with
     * the default 500 ms a fetch of partitions read to the end stalls on
     * the mock, in a read that takes a fraction of a second. No prefetch
     * limit either: once the consumer's queue holds queued.min.messages
     * (100000), librdkafka stops fetching, and checks again only when its
     * broker thread next wakes up. A reader that drains 100000 records in
     * 40 ms waited up to a second there, with every other partition read
     * to its end: the "0.3 or 2 million records/s" reads (a stall of 0.84
     * to 0.92 s on one partition in librdkafka's fetch debug log, on every
     * slow read). The queue holds at most the records read (--records). */
    const char *defaults[] = {"fetch.wait.max.ms", "10", "queued.min.messages", "10000000",
                              "queued.max.messages.kbytes", "2097151", NULL};
    rd_kafka_conf_t *kconf = ff_kafka_conf(conf, defaults, forced, errstr, sizeof errstr);
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *parts;
    int64_t got = 0, t0 = 0, t1 = 0, deadline, have = 0;
    if (!kconf || !(rk = ff_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof errstr))) {
        fprintf(stderr, "footfall bench: ceiling consumer: %s\n", errstr);
        return -1;
    }
    rd_kafka_poll_set_consumer(rk);
    parts = rd_kafka_topic_partition_list_new(8);
    for (int i = 0; bprocs[p].inputs[i]; i++)
        for (int32_t q = 0; q < partitions; q++) {
            const char *topic = ff_conf_str(conf, bprocs[p].inputs[i]);
            int64_t lo = -1, hi = -1;
            /* Offset 0, not BEGINNING: the preload starts there (checked
             * below), so no offset lookup per partition. */
            rd_kafka_topic_partition_list_add(parts, topic, q)->offset = 0;
            rd_kafka_query_watermark_offsets(rk, topic, q, &lo, &hi, 10000);
            if (lo != 0) {
                /* librdkafka's mock cluster keeps the last 5 MB of each
                 * partition and drops older batches. */
                fprintf(stderr,
                        "footfall bench: %s [%d] starts at offset %lld, not 0: the embedded "
                        "broker keeps 5 MB per partition; use more --partitions or fewer "
                        "--records\n",
                        topic, (int)q, (long long)lo);
                got = -1;
            }
            have += hi;
        }
    if (got == 0 && have != preloaded) {
        fprintf(stderr, "footfall bench: the broker holds %lld of the %lld records produced\n",
                (long long)have, (long long)preloaded);
        got = -1;
    }
    if (got == -1) {
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_destroy(rk);
        return -1;
    }
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    deadline = ff_mono_ms() + 600000;
    while (got < n && !stop_flag && ff_mono_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err) {
            if (got++ == 0)
                t0 = ff_mono_us();
            t1 = ff_mono_us();
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (got < n || t1 <= t0)
        return -1;
    return (double)(got - 1) / ((double)(t1 - t0) / MILLION);
}

/* ---- samples: /metrics, /proc, INFO ------------------------------------------------ */

typedef struct sample_s {
    int64_t at_us;
    cmdstat_t cmds[MAX_CMDSTATS];
    int ncmds;
    double consumed, roundtrips;
    double cpu_proc, cpu_main, cpu_redis, cpu_broker; /* seconds (cpu_main: its main thread) */
    double rss_mb, hwm_mb;
    double redis_reads, redis_commands;
    double batches, phase_s[NPHASES];
    bool ok;
} sample_t;

static size_t to_buf(char *p, size_t size, size_t n, void *opaque)
{
    ff_buf_append(opaque, p, size * n);
    return size * n;
}

/* GET url into body; the HTTP status, or -1. */
static long http_get(CURL *curl, const char *url, ff_buf_t *body)
{
    long code = -1;
    ff_buf_reset(body);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, to_buf);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
    if (curl_easy_perform(curl) != CURLE_OK)
        return -1;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    ff_buf_putc(body, '\0');
    return code;
}

/* The sum of every series of a metric in a Prometheus text page. */
static double metric_sum(const char *page, const char *name)
{
    size_t len = strlen(name);
    double sum = 0;
    for (const char *l = page; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, name, len) || (l[len] != ' ' && l[len] != '{'))
            continue;
        const char *v = l[len] == '{' ? strchr(l, '}') : l + len;
        if (v)
            sum += strtod(v + 1, NULL);
    }
    return sum;
}

/* A histogram's cumulative buckets: le bounds and counts, up to max. */
static int metric_buckets(const char *page, const char *name, double *le, double *count, int max)
{
    char prefix[128];
    int n = 0;
    snprintf(prefix, sizeof prefix, "%s_bucket{", name);
    for (const char *l = page; l && *l && n < max;
         l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *q, *e;
        if (strncmp(l, prefix, strlen(prefix)) || !(q = strstr(l, "le=\"")) ||
            !(e = strchr(l, '}')))
            continue;
        le[n] = !strncmp(q + 4, "+Inf", 4) ? INFINITY : strtod(q + 4, NULL);
        count[n++] = strtod(e + 1, NULL);
    }
    return n;
}

/* utime + stime of pid, or of its main thread (main_thread), in seconds. */
static double proc_cpu_s(pid_t pid, bool main_thread)
{
    char buf[1024];
    const char *p =
        main_thread ? ff_task_stat(pid, pid, buf, sizeof buf) : ff_proc_stat(pid, buf, sizeof buf);
    unsigned long ut = 0, st = 0;
    /* From the state (field 3) on: utime is field 14. */
    if (!p || sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void proc_rss_mb(pid_t pid, double *rss, double *hwm)
{
    char path[64], line[256];
    FILE *fp;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    *rss = *hwm = 0;
    if (!(fp = fopen(path, "r")))
        return;
    while (fgets(line, sizeof line, fp)) {
        if (!strncmp(line, "VmRSS:", 6))
            *rss = strtod(line + 6, NULL) / 1024.0;
        else if (!strncmp(line, "VmHWM:", 6))
            *hwm = strtod(line + 6, NULL) / 1024.0;
    }
    fclose(fp);
}

static double info_field(const char *info, const char *name)
{
    const char *p = strstr(info, name);
    return p ? strtod(p + strlen(name), NULL) : 0;
}

/* Reads "cmdstat_<name>:calls=N,usec=N,..." lines, leaving out our own INFO. */
static int parse_cmdstats(const char *info, cmdstat_t *out, int max)
{
    int n = 0;
    for (const char *p = strstr(info, "cmdstat_"); p && n < max; p = strstr(p + 1, "cmdstat_")) {
        cmdstat_t c;
        if (sscanf(p, "cmdstat_%31[^:]:calls=%lf,usec=%lf", c.name, &c.calls, &c.usec) != 3 ||
            !strcmp(c.name, "info"))
            continue;
        out[n++] = c;
    }
    return n;
}

static const cmdstat_t *find_cmdstat(const cmdstat_t *cmds, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(cmds[i].name, name))
            return &cmds[i];
    return NULL;
}

/* Per record between two samples, busiest first. */
static int cmdstats_between(const sample_t *a, const sample_t *b, double records, cmdstat_t *out)
{
    int n = 0;
    for (int i = 0; i < b->ncmds; i++) {
        const cmdstat_t *before = find_cmdstat(a->cmds, a->ncmds, b->cmds[i].name);
        cmdstat_t d = b->cmds[i];
        d.calls = (d.calls - (before ? before->calls : 0)) / records;
        d.usec = (d.usec - (before ? before->usec : 0)) / records;
        if (d.calls > 0)
            out[n++] = d;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && out[j].usec > out[j - 1].usec; j--) {
            cmdstat_t t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

typedef struct probe_s {
    CURL *curl;
    ff_buf_t body;
    char metrics_url[64];
    redisContext *redis;
    pid_t proc_pid, redis_pid, broker_pid;
    int64_t infos; /* our own INFO calls, taken off the server's counts */
} probe_t;

static void sample(probe_t *pr, sample_t *s)
{
    memset(s, 0, sizeof *s);
    s->at_us = ff_mono_us();
    s->cpu_proc = proc_cpu_s(pr->proc_pid, false);
    s->cpu_main = proc_cpu_s(pr->proc_pid, true);
    s->cpu_redis = proc_cpu_s(pr->redis_pid, false);
    s->cpu_broker = proc_cpu_s(pr->broker_pid, false);
    proc_rss_mb(pr->proc_pid, &s->rss_mb, &s->hwm_mb);
    if (http_get(pr->curl, pr->metrics_url, &pr->body) == 200) {
        s->consumed = metric_sum(pr->body.data, "footfall_records_consumed_total");
        s->roundtrips = metric_sum(pr->body.data, "footfall_state_roundtrips_total");
        s->batches = metric_sum(pr->body.data, "footfall_transactions_total{result=\"committed\"}");
        for (int i = 0; i < NPHASES; i++) {
            char name[96];
            snprintf(name, sizeof name, "footfall_batch_phase_seconds_sum{phase=\"%s\"}",
                     phases[i]);
            s->phase_s[i] = metric_sum(pr->body.data, name);
        }
        s->ok = true;
    }
    redisReply *r = pr->redis ? redisCommand(pr->redis, "INFO stats") : NULL;
    if (r && r->type == REDIS_REPLY_STRING) {
        pr->infos++;
        s->redis_reads = info_field(r->str, "total_reads_processed:") - (double)pr->infos;
        s->redis_commands = info_field(r->str, "total_commands_processed:") - (double)pr->infos;
    }
    if (r)
        freeReplyObject(r);
    r = pr->redis ? redisCommand(pr->redis, "INFO commandstats") : NULL;
    if (r && r->type == REDIS_REPLY_STRING) {
        pr->infos++;
        s->ncmds = parse_cmdstats(r->str, s->cmds, MAX_CMDSTATS);
    }
    if (r)
        freeReplyObject(r);
}

/* CPUs each kept busy between two samples (CPU seconds a second). */
static void busy_between(const sample_t *a, const sample_t *b, double busy[NBUSY])
{
    double secs = (double)(b->at_us - a->at_us) / MILLION;
    busy[BUSY_PROC] = (b->cpu_proc - a->cpu_proc) / secs;
    busy[BUSY_MAIN] = (b->cpu_main - a->cpu_main) / secs;
    busy[BUSY_REDIS] = (b->cpu_redis - a->cpu_redis) / secs;
    busy[BUSY_BROKER] = (b->cpu_broker - a->cpu_broker) / secs;
}

/* Records per batch, and ms per batch in each step, between two samples
 * (left alone when no batch was committed between them). */
static void batches_between(const sample_t *a, const sample_t *b, double *records,
                            double phase_ms[NPHASES])
{
    double n = b->batches - a->batches;
    if (!(n > 0))
        return;
    *records = (b->consumed - a->consumed) / n;
    for (int i = 0; i < NPHASES; i++)
        phase_ms[i] = (b->phase_s[i] - a->phase_s[i]) / n * 1000.0;
}

/* ---- one processor from an empty group to caught up --------------------------------- */

static int start_proc(ff_stack_t *st, int p, int http_port)
{
    char http[48];
    const char *env[6];
    int n = 0;
    snprintf(http, sizeof http, "FOOTFALL_HTTP_PORT=%d", http_port);
    env[n++] = http;
    /* Quiet unless the caller asked for a log level (with --keep, say). */
    if (!getenv("FOOTFALL_LOG_LEVEL"))
        env[n++] = "FOOTFALL_LOG_LEVEL=warn";
    /* Kafka answers a fetch as soon as a record is there; the mock holds
     * one that found none for the whole wait (10 ms on the embedded stack),
     * which would be most of a trickle's latency. */
    if (!getenv("FOOTFALL_KAFKA_FETCH_WAIT_MAX_MS"))
        env[n++] = "FOOTFALL_KAFKA_FETCH_WAIT_MAX_MS=" BENCH_FETCH_WAIT_MS;
    /* No quiet hours (21:00 to 08:00 by default): offers, and footfall-pos's
     * conversions of them, must not depend on the time of day the bench
     * runs at. Until 2026-12-01 a run before 08:00 UTC made no offer, pos
     * converted nothing, and both measured processors deciding less. */
    if (!getenv("FOOTFALL_QUIET_START") && !getenv("FOOTFALL_QUIET_END")) {
        env[n++] = "FOOTFALL_QUIET_START=00:00";
        env[n++] = "FOOTFALL_QUIET_END=00:00";
    }
    env[n] = NULL;
    return ff_stack_start_proc(st, bprocs[p].name, env);
}

/* Runs p from an empty group over the `preloaded` records, measuring the
 * first o->records of them, then (for the memory reading) feeds it more in
 * chunks the broker can hold until it has consumed `total`. */
static int throughput(ff_stack_t *st, const ff_conf_t *pconf, ff_codec_t *codec, wl_t *w,
                      const opts_t *o, int p, int64_t preloaded, int64_t total, result_t *res)
{
    probe_t pr;
    sample_t s, first = {0}, last = {0}, before = {0}, prev = {0};
    int port = ff_free_port(), idx, rc = -1;
    int64_t started = ff_mono_us(), produced = preloaded, progress_at = ff_mono_ms();
    double progress = 0;
    bool have_first = false, have_last = false, have_1m = false;
    memset(&pr, 0, sizeof pr);
    idx = start_proc(st, p, port);
    if (idx < 0)
        return -1;
    pr.curl = curl_easy_init();
    ff_buf_init(&pr.body);
    snprintf(pr.metrics_url, sizeof pr.metrics_url, "http://127.0.0.1:%d/metrics", port);
    pr.redis = redisConnect("127.0.0.1", st->redis_port);
    pr.proc_pid = st->procs[idx].pid;
    pr.redis_pid = st->redis_pid;
    pr.broker_pid = st->broker_pid;
    /* No progress for a minute (past the group join) is a failure, however
     * slow the machine. */
    while (!stop_flag && ff_mono_ms() - progress_at < 60000) {
        ff_sleep_ms(100);
        sample(&pr, &s);
        if (!s.ok)
            continue;
        if (s.consumed > progress) {
            progress = s.consumed;
            progress_at = ff_mono_ms();
        }
        if (!have_first && s.batches > 0) {
            /* The window opens once the first batch is committed: that batch
             * also pays for setting up the producer's transactions, which is
             * startup, not throughput. */
            first = s;
            /* A load that fits in a batch or two has no window after the
             * first commit: then it opens at the sample before it. */
            before = prev.ok ? prev : s;
            if (!prev.ok)
                before.consumed = 0;
            have_first = true;
            res->startup_s = (double)(first.at_us - started) / MILLION;
        }
        if (have_first && !have_last && s.consumed >= (double)o->records) {
            last = s;
            have_last = true;
        }
        if (!have_1m && s.consumed >= (double)o->rss_at) {
            res->rss_mb_1m = s.rss_mb;
            have_1m = true;
        }
        if (s.consumed >= (double)total) {
            res->rss_mb_10m = s.rss_mb;
            res->peak_rss_mb = s.hwm_mb;
            res->memory_records = (int64_t)s.consumed;
            rc = 0;
            break;
        }
        if (have_last && s.consumed >= (double)produced) {
            int64_t chunk = FF_MIN(o->records, total - produced);
            printf("    memory: %lld records consumed, %.1f MB; %lld more\n",
                   (long long)s.consumed, s.rss_mb, (long long)chunk);
            fflush(stdout);
            if (produce(pconf, codec, w, p, chunk, 0, false) == -1)
                break;
            produced += chunk;
            progress_at = ff_mono_ms();
        }
        prev = s;
    }
    if (have_first && have_last && last.consumed - first.consumed < (double)o->records / 2)
        first = before;
    if (rc == 0 && have_first && have_last && last.at_us > first.at_us) {
        double n = last.consumed - first.consumed, secs = (double)(last.at_us - first.at_us) / MILLION;
        res->records = (int64_t)n;
        res->rps = n / secs;
        res->roundtrips_per_record = (last.roundtrips - first.roundtrips) / n;
        res->server_reads_per_record = (last.redis_reads - first.redis_reads) / n;
        res->server_commands_per_record = (last.redis_commands - first.redis_commands) / n;
        res->cpu_s_per_million = (last.cpu_proc - first.cpu_proc) / n * MILLION;
        res->redis_cpu_s_per_million = (last.cpu_redis - first.cpu_redis) / n * MILLION;
        res->broker_cpu_s_per_million = (last.cpu_broker - first.cpu_broker) / n * MILLION;
        busy_between(&first, &last, res->busy);
        res->ncmds = cmdstats_between(&first, &last, n, res->cmds);
        batches_between(&first, &last, &res->batch_records, res->phase_ms);
    } else {
        rc = -1;
        fprintf(stderr, "footfall bench: %s stopped making progress at %.0f records (log: %s)\n",
                bprocs[p].name, progress, st->procs[idx].log);
        st->keep_dir = true;
    }
    if (ff_stack_stop_proc(st, idx, SIGTERM) != 0 && rc == 0) {
        fprintf(stderr, "footfall bench: %s did not stop cleanly (log: %s)\n", bprocs[p].name,
                st->procs[idx].log);
        st->keep_dir = true;
        rc = -1;
    }
    if (pr.redis)
        redisFree(pr.redis);
    curl_easy_cleanup(pr.curl);
    ff_buf_term(&pr.body);
    return rc;
}

/* Every processor (measured or not: each builds state the others read)
 * consumes o->warmup records, so that the measured runs produce the offers,
 * decisions and alerts a warm day would, not the few an empty Redis allows. */
static int new_broker(ff_stack_t *st, ff_conf_t *conf, ff_conf_t *pconf, int partitions);

static int warm_up(ff_stack_t *st, ff_conf_t *conf, ff_conf_t *pconf, ff_codec_t *codec,
                   wl_t *w, const opts_t *o)
{
    opts_t wo = *o;
    int64_t t0 = ff_mono_ms();
    if (o->warmup <= 0)
        return 0;
    wo.records = o->warmup;
    wo.rss_at = o->warmup;
    for (int p = 0; p < NPROCS && !stop_flag; p++) {
        result_t scratch;
        memset(&scratch, 0, sizeof scratch);
        if (new_broker(st, conf, pconf, o->partitions) == -1 ||
            produce(pconf, codec, w, p, o->warmup, 0, false) == -1 ||
            throughput(st, pconf, codec, w, &wo, p, o->warmup, o->warmup, &scratch) == -1) {
            fprintf(stderr, "footfall bench: warming up %s failed\n", bprocs[p].name);
            return -1;
        }
    }
    printf("warm-up: %lld records per processor in %.1f s\n", (long long)o->warmup,
           (double)(ff_mono_ms() - t0) / 1000.0);
    fflush(stdout);
    return stop_flag ? -1 : 0;
}

/* The memory reading: p from an empty group again, on a new broker, over
 * `total` records fed in chunks; RSS at o->rss_at records and at the end. */
static int memory(ff_stack_t *st, ff_conf_t *conf, ff_conf_t *pconf, ff_codec_t *codec, wl_t *w,
                  const opts_t *o, int p, int64_t total, result_t *res)
{
    result_t scratch;
    memset(&scratch, 0, sizeof scratch);
    printf("    memory: %lld records\n", (long long)total);
    fflush(stdout);
    if (new_broker(st, conf, pconf, o->partitions) == -1 ||
        produce(pconf, codec, w, p, o->records, 0, false) == -1 ||
        throughput(st, pconf, codec, w, o, p, o->records, total, &scratch) == -1) {
        fprintf(stderr, "footfall bench: the memory run of %s failed\n", bprocs[p].name);
        return -1;
    }
    res->rss_mb_1m = scratch.rss_mb_1m;
    res->rss_mb_10m = scratch.rss_mb_10m;
    res->peak_rss_mb = scratch.peak_rss_mb;
    res->memory_records = scratch.memory_records;
    return 0;
}

/* ---- latency at half rate ------------------------------------------------------------ */

typedef struct lat_s {
    const ff_conf_t *conf;
    int p, partitions;
    _Atomic int64_t from_ms, to_ms; /* event times that count */
    atomic_int stop, ready;
    double *ms;
    int64_t *ts; /* each sample's event time */
    size_t n, cap;
    int64_t outputs;
} lat_t;

static int64_t output_ts(ff_rec_t type, const void *rec)
{
    switch (type) {
    case FF_REC_DRIVE_TO_STORE_OFFER: return ((const ff_offer_t *)rec)->ts;
    case FF_REC_STORE_ASSIST: return ((const ff_store_assist_t *)rec)->ts;
    case FF_REC_STOCK_ALERT: return ((const ff_stock_alert_t *)rec)->ts;
    case FF_REC_OFFER_CONVERSION: return ((const ff_conversion_t *)rec)->ts;
    case FF_REC_DECISION: return ((const ff_decision_t *)rec)->ts;
    default: return -1;
    }
}

/* A downstream consumer of p's outputs, as a delivery service would run
 * one: read_committed, fetching as soon as a record is there. */
static void *latency_consumer(void *opaque)
{
    lat_t *l = opaque;
    char errstr[512];
    const char *defaults[] = {"fetch.wait.max.ms", BENCH_FETCH_WAIT_MS, "fetch.min.bytes", "1",
                              NULL};
    const char *forced[] = {"group.id", "footfall-bench-latency", "enable.auto.commit", "false",
                            "isolation.level", "read_committed", NULL};
    rd_kafka_conf_t *kconf = ff_kafka_conf(l->conf, defaults, forced, errstr, sizeof errstr);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
    ff_codec_t *codec = ff_codec_new(errstr, sizeof errstr);
    ff_arena_t arena;
    rd_kafka_t *rk;
    ff_any_rec_t out;
    ff_arena_init(&arena, 4096);
    if (!kconf || !codec || !(rk = ff_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof errstr))) {
        fprintf(stderr, "footfall bench: latency consumer: %s\n", errstr);
        atomic_store(&l->ready, -1);
        rd_kafka_topic_partition_list_destroy(parts);
        ff_codec_destroy(codec);
        ff_arena_term(&arena);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    for (int i = 0; bprocs[l->p].outputs[i]; i++)
        for (int32_t q = 0; q < l->partitions; q++)
            rd_kafka_topic_partition_list_add(parts, ff_conf_str(l->conf, bprocs[l->p].outputs[i]),
                                              q)
                ->offset = RD_KAFKA_OFFSET_END;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    atomic_store(&l->ready, 1);
    while (!atomic_load(&l->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
        int64_t now = ff_wall_ms();
        if (!m)
            continue;
        if (!m->err && m->rkt) {
            ff_rec_t type = ff_codec_rec_of_topic(l->conf, rd_kafka_topic_name(m->rkt));
            ff_dec_err_t err;
            ff_arena_reset(&arena);
            if (type < FF_REC__COUNT &&
                ff_codec_decode(codec, type, m->payload, m->len, &arena, &out, &err, NULL) == 0) {
                int64_t ts = output_ts(type, &out);
                l->outputs++;
                if (ts >= atomic_load(&l->from_ms) && ts < atomic_load(&l->to_ms)) {
                    if (l->n == l->cap) {
                        l->cap = l->cap ? l->cap * 2 : 4096;
                        l->ms = ff_realloc(l->ms, l->cap * sizeof(double));
                        l->ts = ff_realloc(l->ts, l->cap * sizeof(int64_t));
                    }
                    l->ts[l->n] = ts;
                    l->ms[l->n++] = (double)(now - ts);
                }
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    ff_codec_destroy(codec);
    ff_arena_term(&arena);
    return NULL;
}

static double percentile(const double *sorted, size_t n, double q)
{
    size_t i = (size_t)ceil(q * (double)n);
    return n ? sorted[i ? i - 1 : 0] : NAN;
}

/* The upper bound (ms) of the bucket in which quantile q of the counts
 * between two scrapes of a histogram falls. */
static double bucket_quantile(const double *le, const double *c0, const double *c1, int n, double q)
{
    double total = n ? c1[n - 1] - c0[n - 1] : 0;
    for (int i = 0; i < n && total > 0; i++)
        if (c1[i] - c0[i] >= q * total)
            return le[i] * 1000.0;
    return NAN;
}

/* Waits until the processor says it is ready (partitions assigned). */
static int wait_ready(CURL *curl, int port, ff_buf_t *body, int timeout_ms)
{
    char url[64];
    int64_t deadline = ff_mono_ms() + timeout_ms;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/readyz", port);
    while (!stop_flag && ff_mono_ms() < deadline) {
        if (http_get(curl, url, body) == 200)
            return 0;
        ff_sleep_ms(100);
    }
    return -1;
}

/* What the latency run was made of: a processor whose batches never wait
 * for records (filling takes nothing) is at its capacity, and a p99 that
 * rises window by window measures a queue, not a batch. */
static void print_latency_run(const result_t *r)
{
    double cycle = 0;
    for (int i = 0; i < NPHASES; i++)
        cycle += r->lat_phase_ms[i];
    if (cycle > 0)
        printf("    latency run: batches of %.0f records, each %.1f ms (%.1f of them filling); "
               "CPUs busy: processor %.2f, redis-server %.2f, broker %.2f, this harness %.2f\n",
               r->lat_batch_records, cycle, r->lat_phase_ms[0], r->lat_busy[BUSY_PROC],
               r->lat_busy[BUSY_REDIS], r->lat_busy[BUSY_BROKER], r->lat_harness_busy);
    printf("    p50 / p99 ms by %.0f s of event time:", r->lat_window_s);
    for (int w = 0; w < r->nlatwin; w++)
        printf(" %.0f/%.0f", r->lat_p50w[w], r->lat_p99w[w]);
    printf("\n");
    fflush(stdout);
}

static int latency(ff_stack_t *st, const ff_conf_t *conf, const ff_conf_t *pconf, ff_codec_t *codec,
                   wl_t *w, const opts_t *o, int p, result_t *res)
{
    int port = ff_free_port(), idx, rc = -1;
    lat_t l;
    pthread_t thread;
    CURL *curl = curl_easy_init();
    ff_buf_t body;
    char url[64];
    double le[32], c0[32], c1[32];
    int nb0 = 0, nb1 = 0;
    probe_t pr;
    sample_t s0, s1;
    double harness0 = 0;
    memset(&l, 0, sizeof l);
    memset(&pr, 0, sizeof pr);
    ff_buf_init(&body);
    ff_buf_init(&pr.body);
    idx = start_proc(st, p, port);
    if (idx < 0 || wait_ready(curl, port, &body, 60000) == -1) {
        fprintf(stderr, "footfall bench: %s did not become ready\n", bprocs[p].name);
        st->keep_dir = true;
        goto out;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    if (http_get(curl, url, &body) == 200)
        nb0 = metric_buckets(body.data, "footfall_event_to_trigger_seconds", le, c0, 32);
    pr.curl = curl;
    snprintf(pr.metrics_url, sizeof pr.metrics_url, "%s", url);
    pr.proc_pid = st->procs[idx].pid;
    pr.redis_pid = st->redis_pid;
    pr.broker_pid = st->broker_pid;
    l.conf = conf;
    l.p = p;
    l.partitions = o->partitions;
    res->latency_rate = res->rps / 2.0;
    atomic_store(&l.from_ms, INT64_MAX);
    if (pthread_create(&thread, NULL, latency_consumer, &l) != 0)
        goto out;
    while (atomic_load(&l.ready) == 0)
        ff_sleep_ms(10);
    ff_sleep_ms(1000); /* the consumer's assignment takes effect */
    /* Events of the first second (warming up) do not count. */
    atomic_store(&l.to_ms, ff_wall_ms() + (int64_t)(o->latency_s * 1000.0));
    atomic_store(&l.from_ms, ff_wall_ms() + 1000);
    /* Who was busy while it was fed (the harness feeds and reads it). */
    sample(&pr, &s0);
    harness0 = proc_cpu_s(getpid(), false);
    if (atomic_load(&l.ready) == 1)
        rc = produce(pconf, codec, w, p, (int64_t)(res->latency_rate * o->latency_s),
                     res->latency_rate, false);
    sample(&pr, &s1);
    if (s0.ok && s1.ok && s1.at_us > s0.at_us) {
        busy_between(&s0, &s1, res->lat_busy);
        res->lat_harness_busy =
            (proc_cpu_s(getpid(), false) - harness0) / ((double)(s1.at_us - s0.at_us) / MILLION);
        batches_between(&s0, &s1, &res->lat_batch_records, res->lat_phase_ms);
    }
    ff_sleep_ms(2000); /* the last outputs arrive */
    atomic_store(&l.stop, 1);
    pthread_join(thread, NULL);
    if (http_get(curl, url, &body) == 200)
        nb1 = metric_buckets(body.data, "footfall_event_to_trigger_seconds", le, c1, 32);
    if (rc == 0 && l.n > 0) {
        /* By window of event time, before the sort: whether later records
         * waited longer (a queue building) or the tail is spread out. */
        int64_t from = atomic_load(&l.from_ms), to = atomic_load(&l.to_ms);
        int64_t width = FF_MAX((int64_t)1000, (to - from + MAX_LATWIN - 1) / MAX_LATWIN);
        res->nlatwin = (int)FF_MIN((to - from + width - 1) / width, (int64_t)MAX_LATWIN);
        res->lat_window_s = (double)width / 1000.0;
        ff_window_quantiles(l.ts, l.ms, l.n, from, width, (size_t)res->nlatwin, 0.50,
                            res->lat_p50w);
        ff_window_quantiles(l.ts, l.ms, l.n, from, width, (size_t)res->nlatwin, 0.99,
                            res->lat_p99w);
        qsort(l.ms, l.n, sizeof(double), ff_cmp_double);
        res->p50_ms = percentile(l.ms, l.n, 0.50);
        res->p99_ms = percentile(l.ms, l.n, 0.99);
        res->max_ms = l.ms[l.n - 1];
        res->latency_samples = (int64_t)l.n;
        if (nb0 == nb1 && nb1 > 0) {
            res->commit_p50_ms_le = bucket_quantile(le, c0, c1, nb1, 0.50);
            res->commit_p99_ms_le = bucket_quantile(le, c0, c1, nb1, 0.99);
        }
        res->latency_ran = true;
        print_latency_run(res);
    } else if (rc == 0) {
        fprintf(stderr,
                "footfall bench: %s wrote no output with an event time in the latency run (%lld "
                "outputs read)\n",
                bprocs[p].name, (long long)l.outputs);
        rc = -1;
    }
out:
    if (idx >= 0 && ff_stack_stop_proc(st, idx, SIGTERM) != 0)
        rc = -1;
    free(l.ms);
    free(l.ts);
    ff_buf_term(&body);
    ff_buf_term(&pr.body);
    curl_easy_cleanup(curl);
    return rc;
}

/* ---- the report ------------------------------------------------------------------------- */

static void machine(char *buf, size_t size)
{
    char line[256], model[128] = "unknown CPU";
    double mem_gib = 0;
    FILE *fp = fopen("/proc/cpuinfo", "r");
    while (fp && fgets(line, sizeof line, fp))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (fp)
        fclose(fp);
    if ((fp = fopen("/proc/meminfo", "r"))) {
        if (fgets(line, sizeof line, fp) && !strncmp(line, "MemTotal:", 9))
            mem_gib = strtod(line + 9, NULL) / 1048576.0;
        fclose(fp);
    }
    snprintf(buf, size, "%s, %ld CPUs, %.0f GiB", model, sysconf(_SC_NPROCESSORS_ONLN), mem_gib);
}

/* ---- how fast this machine is ------------------------------------------------ */

/* Two readings of the machine itself, taken before the run, so that runs on
 * different days can be compared: the same build on 2026-12-02 read 0.7 to
 * 1.0 million records/s at the ceiling and took 7 to 8 CPU s per million for
 * footfall-web, against 2.5 million and 2.6 on 2026-12-01, on a VM with the
 * same CPU model line. `codec_ns`: one geofence event encoded and decoded
 * (the processors' own codec, one thread: what user-space work costs);
 * `loopback_rtt_us`: one byte there and back between two threads over
 * loopback TCP (what a system call, a wake-up and the network stack cost,
 * which every Redis and Kafka exchange pays). Each is the best of three
 * readings. Over the run, the share of CPU time the hypervisor took
 * (`steal`, from /proc/stat) is kept too. */
typedef struct speed_s {
    double codec_ns, rtt_us;
} speed_t;

static speed_t speed = {NAN, NAN};
static unsigned long long run_steal0, run_total0; /* /proc/stat when the run started */

static double codec_reading(ff_codec_t *codec)
{
    enum { ROUNDS = 20000 };
    ff_geofence_event_t in = {
        .event_id = "bg-123456",
        .customer_id = "C000123",
        .device_id = "D000123",
        .ts = 1764633600000,
        .store_id = "S017",
        .transition = FF_GEO_DWELL,
        .dwell_seconds = {true, 240},
        .accuracy_m = {true, 12.5},
    };
    ff_geofence_event_t out;
    ff_dec_err_t err;
    ff_arena_t arena;
    ff_buf_t buf;
    int64_t t0;
    int done = 0;
    ff_arena_init(&arena, 0);
    ff_buf_init(&buf);
    t0 = ff_mono_us();
    for (; done < ROUNDS; done++) {
        ff_buf_reset(&buf);
        ff_codec_encode(codec, FF_REC_GEOFENCE_EVENT, &in, &buf);
        if (ff_codec_decode(codec, FF_REC_GEOFENCE_EVENT, buf.data, buf.len, &arena, &out, &err,
                            NULL) == -1)
            break;
        ff_arena_reset(&arena);
    }
    t0 = ff_mono_us() - t0;
    ff_buf_term(&buf);
    ff_arena_term(&arena);
    return done == ROUNDS ? (double)t0 * 1000.0 / ROUNDS : NAN;
}

enum { PING_ROUNDS = 5000 };

static void *pong(void *opaque)
{
    int fd = *(int *)opaque;
    char c;
    for (int i = 0; i < PING_ROUNDS; i++)
        if (read(fd, &c, 1) != 1 || write(fd, &c, 1) != 1)
            break;
    return NULL;
}

/* Mean microseconds of a one-byte round trip over loopback TCP, or NAN. */
static double rtt_reading(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0), cfd = -1, sfd = -1, done = 0;
    pthread_t th;
    int64_t t0 = 0, t1 = 0;
    char c = 'x';
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&a, sizeof a) == -1 || listen(lfd, 1) == -1 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) == -1 ||
        (cfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
        connect(cfd, (struct sockaddr *)&a, sizeof a) == -1 ||
        (sfd = accept(lfd, NULL, NULL)) == -1)
        goto out;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (pthread_create(&th, NULL, pong, &sfd) != 0)
        goto out;
    t0 = ff_mono_us();
    for (; done < PING_ROUNDS; done++)
        if (write(cfd, &c, 1) != 1 || read(cfd, &c, 1) != 1)
            break;
    t1 = ff_mono_us();
    shutdown(cfd, SHUT_RDWR);
    pthread_join(th, NULL);
out:
    if (cfd != -1)
        close(cfd);
    if (sfd != -1)
        close(sfd);
    if (lfd != -1)
        close(lfd);
    return done == PING_ROUNDS ? (double)(t1 - t0) / PING_ROUNDS : NAN;
}

/* The best of three of each reading (fmin skips a NAN), or NAN. */
static speed_t speed_readings(ff_codec_t *codec)
{
    speed_t s = {NAN, NAN};
    for (int i = 0; i < 3; i++) {
        s.codec_ns = fmin(s.codec_ns, codec_reading(codec));
        s.rtt_us = fmin(s.rtt_us, rtt_reading());
    }
    return s;
}

/* ---- foreign load ---------------------------------------------------------- */

/* What else uses the machine when the run starts: the CPUs busy over one
 * second (of all of them, in CPUs), and any redis-server or footfall
 * process but this one (a stack left by an earlier run or a test). Every
 * figure here is a share of the machine, so a busy one lowers them all;
 * the run goes on, and says so. */
static double foreign_busy;
static char foreign_procs[1024];

/* All CPUs' ticks from /proc/stat: busy (all but idle and iowait), in all,
 * and stolen by the hypervisor. */
static int cpu_ticks(unsigned long long *busy, unsigned long long *total, unsigned long long *steal)
{
    unsigned long long v[8] = {0};
    FILE *fp = fopen("/proc/stat", "r");
    int n = fp ? fscanf(fp, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                        &v[3], &v[4], &v[5], &v[6], &v[7])
               : 0;
    if (fp)
        fclose(fp);
    if (n < 5)
        return -1;
    *total = 0;
    for (int i = 0; i < 8; i++)
        *total += v[i];
    *busy = *total - v[3] - v[4];
    *steal = v[7];
    return 0;
}

/* Marks the start of the run for steal_share. */
static void steal_start(void)
{
    unsigned long long busy;
    if (cpu_ticks(&busy, &run_total0, &run_steal0) == -1)
        run_total0 = 0;
}

/* The share of all CPU time since steal_start that the hypervisor took,
 * or NAN. */
static double steal_share(void)
{
    unsigned long long busy, total, steal;
    if (!run_total0 || cpu_ticks(&busy, &total, &steal) == -1 || total <= run_total0)
        return NAN;
    return (double)(steal - run_steal0) / (double)(total - run_total0);
}

static void foreign_load(void)
{
    unsigned long long b0, t0, s0, b1, t1, s1;
    size_t used = 0;
    DIR *d;
    struct dirent *e;
    foreign_busy = NAN;
    if (cpu_ticks(&b0, &t0, &s0) == 0) {
        ff_sleep_ms(1000);
        if (cpu_ticks(&b1, &t1, &s1) == 0 && t1 > t0)
            foreign_busy = (double)(b1 - b0) / (double)(t1 - t0) *
                           (double)sysconf(_SC_NPROCESSORS_ONLN);
    }
    foreign_procs[0] = '\0';
    if (!(d = opendir("/proc")))
        return;
    while ((e = readdir(d)) && used < sizeof foreign_procs) {
        char path[300], comm[64] = "";
        long pid = strtol(e->d_name, NULL, 10);
        FILE *fp;
        if (pid <= 0 || pid == (long)getpid())
            continue;
        snprintf(path, sizeof path, "/proc/%ld/comm", pid);
        if (!(fp = fopen(path, "r")))
            continue;
        if (!fgets(comm, sizeof comm, fp))
            comm[0] = '\0';
        fclose(fp);
        comm[strcspn(comm, "\n")] = '\0';
        if (strcmp(comm, "redis-server") && strncmp(comm, "footfall", 8))
            continue;
        used += (size_t)snprintf(foreign_procs + used, sizeof foreign_procs - used, "%s%s (pid %ld)",
                                 used ? ", " : "", comm, pid);
    }
    closedir(d);
    if (used >= sizeof foreign_procs) /* cut short: say so */
        memcpy(foreign_procs + sizeof foreign_procs - 4, "...", 4);
}

static bool met_ceiling(const result_t *r)
{
    return r->ceiling_rps > 0 && r->rps >= TARGET_CEILING_SHARE * r->ceiling_rps;
}

static bool met_rss(const result_t *r)
{
    return r->rss_mb_1m > 0 && r->rss_mb_10m <= r->rss_mb_1m * (1.0 + TARGET_RSS_GROWTH);
}

static void print_table(const opts_t *o, const result_t *res)
{
    printf("\n%-9s %11s %10s %6s %8s %8s %9s %7s %7s %8s %8s\n", "processor", "ceiling/s",
           "records/s", "ceil%", "RT/rec", "cpu s/M", "redis s/M", "p50 ms", "p99 ms", "RSS MB",
           "RSS MB");
    printf("%-9s %11s %10s %6s %8s %8s %9s %7s %7s %8s %8s\n", "", "", "", "", "", "", "", "", "",
           "@rss-at", "@10x");
    for (int p = 0; p < NPROCS; p++) {
        const result_t *r = &res[p];
        if (!r->ran)
            continue;
        printf("%-9s %11.0f %10.0f %5.0f%% %8.4f %8.2f %9.2f %7.1f %7.1f %8.1f %8.1f\n",
               bprocs[p].name, r->ceiling_rps, r->rps,
               r->ceiling_rps > 0 ? 100.0 * r->rps / r->ceiling_rps : 0.0,
               r->roundtrips_per_record, r->cpu_s_per_million, r->redis_cpu_s_per_million,
               r->latency_ran ? r->p50_ms : NAN, r->latency_ran ? r->p99_ms : NAN,
               o->memory ? r->rss_mb_1m : NAN, o->memory ? r->rss_mb_10m : NAN);
    }
    double steal = steal_share();
    char stolen[96] = "";
    if (isfinite(steal))
        snprintf(stolen, sizeof stolen, "; the hypervisor took %.1f%% of the CPU time",
                 100.0 * steal);
    printf("\n(%lld records measured per processor; RSS at %lld and %lld records; latency at half "
           "the measured rate for %.0f s%s%s)\n",
           (long long)o->records, (long long)o->rss_at, (long long)(o->rss_at * 10), o->latency_s,
           o->pin ? "; pinned" : "", stolen);
}

/* Which single-threaded worker was the busiest while the processor caught
 * up, with its share of a CPU: redis-server runs every command on one
 * thread, and the processor decides on its main thread. (The processor's
 * other threads, and the broker's, spread over the CPUs.) */
static void busiest_thread(const result_t *r, char *out, size_t size)
{
    int b = r->busy[BUSY_REDIS] >= r->busy[BUSY_MAIN] ? BUSY_REDIS : BUSY_MAIN;
    if (!(r->busy[b] > 0)) {
        snprintf(out, size, "not measured");
        return;
    }
    snprintf(out, size, "%s at %.2f CPU", busy_names[b], r->busy[b]);
}

/* One line per target: each processor's figure and whether it is met. */
static int print_targets(const opts_t *o, const result_t *res)
{
    int missed = 0;
    printf("\ntargets:\n");
    for (int p = 0; p < NPROCS; p++) {
        const result_t *r = &res[p];
        if (!r->ran)
            continue;
        struct {
            bool ok;
            char text[160];
        } t[5];
        int n = 0;
        char busiest[64];
        busiest_thread(r, busiest, sizeof busiest);
        t[n].ok = met_ceiling(r);
        snprintf(t[n++].text, sizeof t[0].text,
                 "throughput %.0f%% of the ceiling (>= %.0f%%; the busiest: %s)",
                 r->ceiling_rps > 0 ? 100.0 * r->rps / r->ceiling_rps : 0.0,
                 100.0 * TARGET_CEILING_SHARE, busiest);
        t[n].ok = r->roundtrips_per_record <= TARGET_ROUNDTRIPS;
        snprintf(t[n++].text, sizeof t[0].text,
                 "%.4f Redis round trips per record (<= %.2f; the server saw %.4f reads)",
                 r->roundtrips_per_record, TARGET_ROUNDTRIPS, r->server_reads_per_record);
        t[n].ok = r->cpu_s_per_million <= TARGET_CPU_S;
        snprintf(t[n++].text, sizeof t[0].text, "%.2f CPU s per million records (<= %.0f)",
                 r->cpu_s_per_million, TARGET_CPU_S);
        if (o->latency_s > 0) {
            t[n].ok = r->latency_ran && r->p99_ms <= TARGET_P99_MS;
            snprintf(t[n++].text, sizeof t[0].text,
                     "p99 event-to-trigger %.1f ms at %.0f records/s (<= %.0f ms; %lld outputs)",
                     r->p99_ms, r->latency_rate, TARGET_P99_MS, (long long)r->latency_samples);
        }
        if (o->memory) {
            t[n].ok = met_rss(r);
            snprintf(t[n++].text, sizeof t[0].text,
                     "RSS %.1f MB after %lld records, %.1f MB after %lld (<= +%.0f%%)",
                     r->rss_mb_1m, (long long)o->rss_at, r->rss_mb_10m,
                     (long long)r->memory_records, 100.0 * TARGET_RSS_GROWTH);
        }
        for (int i = 0; i < n; i++) {
            printf("  %-9s %-4s %s\n", i ? "" : bprocs[p].name, t[i].ok ? "ok" : "MISS",
                   t[i].text);
            missed += !t[i].ok;
        }
    }
    return missed;
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(round(v * 10000.0) / 10000.0) : json_null();
}

/* {"processor": …, "processor_main_thread": …, "redis": …, "broker": …} */
static json_t *busy_json(const double busy[NBUSY])
{
    json_t *j = json_object();
    for (int i = 0; i < NBUSY; i++)
        json_object_set_new(j, busy_keys[i], num(busy[i]));
    return j;
}

/* {"fill": …, "state": …, …}: ms per batch in each step. */
static json_t *phases_json(const double ms[NPHASES])
{
    json_t *j = json_object();
    for (int i = 0; i < NPHASES; i++)
        json_object_set_new(j, phases[i], num(ms[i]));
    return j;
}

static int write_json(const opts_t *o, const result_t *res, char *path, size_t size)
{
    char host[64] = "host", date[16], desc[256];
    time_t now = time(NULL);
    struct tm tm;
    json_t *root = json_object(), *procs = json_object(), *targets = json_object();
    int rc;
    gethostname(host, sizeof host - 1);
    host[strcspn(host, "./")] = '\0';
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    machine(desc, sizeof desc);
    /* A second run on the same day and host does not replace the first:
     * <date>-<host>-2.json, -3, … so runs stay comparable. */
    snprintf(path, size, "%s/%s-%s%s.json", o->out_dir, date, host, o->pin ? "-pinned" : "");
    for (int n = 2; access(path, F_OK) == 0 && n < 1000; n++)
        snprintf(path, size, "%s/%s-%s%s-%d.json", o->out_dir, date, host,
                 o->pin ? "-pinned" : "", n);
    json_object_set_new(root, "machine", json_string(desc));
    json_object_set_new(root, "host", json_string(host));
    json_object_set_new(root, "date", json_string(date));
    json_object_set_new(root, "records", json_integer(o->records));
    json_object_set_new(root, "rss_records", json_pack("[I,I]", (json_int_t)o->rss_at,
                                                       (json_int_t)(o->memory ? o->rss_at * 10 : 0)));
    json_object_set_new(root, "partitions", json_integer(o->partitions));
    json_object_set_new(root, "pinned", json_boolean(o->pin));
    json_object_set_new(root, "latency_seconds", num(o->latency_s));
    json_object_set_new(root, "warmup_records", json_integer(o->warmup));
    json_object_set_new(root, "foreign",
                        json_pack("{s:o,s:s}", "cpus_busy", num(foreign_busy), "processes",
                                  foreign_procs));
    json_object_set_new(root, "speed",
                        json_pack("{s:o,s:o,s:o}", "codec_ns", num(speed.codec_ns),
                                  "loopback_rtt_us", num(speed.rtt_us), "steal_share",
                                  num(steal_share())));
    json_object_set_new(targets, "ceiling_share", num(TARGET_CEILING_SHARE));
    json_object_set_new(targets, "redis_roundtrips_per_record", num(TARGET_ROUNDTRIPS));
    json_object_set_new(targets, "cpu_s_per_million", num(TARGET_CPU_S));
    json_object_set_new(targets, "p99_ms", num(TARGET_P99_MS));
    json_object_set_new(targets, "rss_growth", num(TARGET_RSS_GROWTH));
    json_object_set_new(root, "targets", targets);
    for (int p = 0; p < NPROCS; p++) {
        const result_t *r = &res[p];
        json_t *j;
        if (!r->ran)
            continue;
        j = json_object();
        json_object_set_new(j, "ceiling_rps", num(r->ceiling_rps));
        json_t *reads = json_array();
        for (int i = 0; i < CEILING_READS; i++)
            json_array_append_new(reads, num(r->ceiling_reads[i]));
        json_object_set_new(j, "ceiling_reads_rps", reads);
        json_object_set_new(j, "rps", num(r->rps));
        json_object_set_new(j, "redis_roundtrips_per_record", num(r->roundtrips_per_record));
        json_object_set_new(j, "redis_server_reads_per_record", num(r->server_reads_per_record));
        json_object_set_new(j, "redis_commands_per_record", num(r->server_commands_per_record));
        json_object_set_new(j, "cpu_s_per_million", num(r->cpu_s_per_million));
        json_object_set_new(j, "redis_cpu_s_per_million", num(r->redis_cpu_s_per_million));
        json_object_set_new(j, "broker_cpu_s_per_million", num(r->broker_cpu_s_per_million));
        json_object_set_new(j, "cpus_busy", busy_json(r->busy));
        json_object_set_new(j, "startup_s", num(r->startup_s));
        json_object_set_new(j, "measured_records", json_integer(r->records));
        json_object_set_new(j, "batch_records", num(r->batch_records));
        json_object_set_new(j, "batch_phase_ms", phases_json(r->phase_ms));
        json_t *cmds = json_object();
        for (int i = 0; i < r->ncmds; i++) {
            json_t *c = json_object();
            json_object_set_new(c, "calls_per_record", num(r->cmds[i].calls));
            json_object_set_new(c, "server_us_per_record", num(r->cmds[i].usec));
            json_object_set_new(cmds, r->cmds[i].name, c);
        }
        json_object_set_new(j, "redis_commands", cmds);
        if (r->latency_ran) {
            json_object_set_new(j, "p50_ms", num(r->p50_ms));
            json_object_set_new(j, "p99_ms", num(r->p99_ms));
            json_object_set_new(j, "max_ms", num(r->max_ms));
            json_object_set_new(j, "latency_rps", num(r->latency_rate));
            json_object_set_new(j, "latency_samples", json_integer(r->latency_samples));
            json_object_set_new(j, "commit_p50_ms_le", num(r->commit_p50_ms_le));
            json_object_set_new(j, "commit_p99_ms_le", num(r->commit_p99_ms_le));
            json_t *run = json_object(), *busy = busy_json(r->lat_busy);
            json_t *p50 = json_array(), *p99 = json_array();
            json_object_set_new(busy, "harness", num(r->lat_harness_busy));
            json_object_set_new(run, "cpus_busy", busy);
            json_object_set_new(run, "batch_records", num(r->lat_batch_records));
            json_object_set_new(run, "batch_phase_ms", phases_json(r->lat_phase_ms));
            json_object_set_new(run, "window_s", num(r->lat_window_s));
            for (int w = 0; w < r->nlatwin; w++) {
                json_array_append_new(p50, num(r->lat_p50w[w]));
                json_array_append_new(p99, num(r->lat_p99w[w]));
            }
            json_object_set_new(run, "p50_ms_by_window", p50);
            json_object_set_new(run, "p99_ms_by_window", p99);
            json_object_set_new(j, "latency_run", run);
        }
        if (o->memory) {
            json_object_set_new(j, "rss_mb_1m", num(r->rss_mb_1m));
            json_object_set_new(j, "rss_mb_10m", num(r->rss_mb_10m));
            json_object_set_new(j, "peak_rss_mb", num(r->peak_rss_mb));
        }
        json_object_set_new(procs, bprocs[p].name, j);
    }
    json_object_set_new(root, "processors", procs);
    rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return rc;
}

/* ---- the command ------------------------------------------------------------------------ */

static void help(void)
{
    printf("usage: footfall bench [--records N] [--rss-at N] [--no-memory] [--partitions N]\n"
           "                      [--latency-seconds S] [--processors LIST] [--pin]\n"
           "                      [--out DIR] [--seed N] [--warmup N] [--keep]\n\n"
           "First every processor consumes --warmup records (default a tenth of --records,\n"
           "at most 100000; 0 skips it), so that measured runs find the state a day of\n"
           "traffic leaves: intent, visits, offers, stock. Then it measures each processor\n"
           "on the embedded stack (footfall broker, redis-server):\n"
           "  - the ceiling: a consumer that does nothing, over the same records;\n"
           "  - sustained throughput from an empty group to caught up, over --records\n"
           "    (default 2000000) preloaded records with hot customers and stores;\n"
           "  - Redis round trips per record (the client's count and the server's);\n"
           "  - CPU seconds per million records, of the processor and of redis-server;\n"
           "  - event-to-trigger latency p50/p99 at half the measured rate\n"
           "    (--latency-seconds, default 10; 0 skips it);\n"
           "  - RSS after --rss-at records (default 1000000) and after ten times as many\n"
           "    (--no-memory skips it).\n"
           "--processors picks some of shelf,web,geofence,pos (default all, in that order).\n"
           "--pin runs the processor on the last CPU and the rest on the others.\n"
           "--keep leaves the stack's directory (processor, broker and Redis logs) in place.\n"
           "Prints a table and writes it as JSON to --out (default bench/results) as\n"
           "<date>-<host>.json (-pinned.json with --pin; -2, -3... for later runs that\n"
           "day); --out is made if missing, and checked before anything runs. Exit\n"
           "status 1 when a target is missed or a run fails, 2 on a bad argument.\n");
}

static int own_flag(const char *flag)
{
    static const char *const with_value[] = {"--records",    "--rss-at", "--partitions",
                                             "--latency-seconds", "--processors", "--out",
                                             "--seed", "--warmup"};
    for (size_t i = 0; i < sizeof with_value / sizeof *with_value; i++)
        if (!strcmp(flag, with_value[i]))
            return 2;
    return !strcmp(flag, "--pin") || !strcmp(flag, "--no-memory") || !strcmp(flag, "--keep") ? 1
                                                                                         : 0;
}

static int int_opt(char **rest, int nrest, const char *name, int64_t min, int64_t max,
                   int64_t *out)
{
    const char *v = cli_opt(rest, nrest, name);
    if (!v)
        return 0;
    if (ff_parse_i64(v, out) == -1 || *out < min || *out > max) {
        fprintf(stderr, "footfall bench: %s wants a whole number from %lld to %lld, not '%s'\n",
                name, (long long)min, (long long)max, v);
        return -1;
    }
    return 0;
}

/* mkdir -p: 0, or -1 with errno. */
static int make_dirs(const char *path)
{
    char buf[1024];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) == -1 && errno != EEXIST)
            return -1;
        *p = c;
        if (!c)
            return 0;
    }
}

static int parse_opts(char **rest, int nrest, opts_t *o)
{
    int64_t v;
    const char *s;
    memset(o, 0, sizeof *o);
    o->records = 2000000;
    o->rss_at = 1000000;
    o->memory = !cli_flag(rest, nrest, "--no-memory");
    o->partitions = 24;
    o->latency_s = 10;
    o->pin = cli_flag(rest, nrest, "--pin");
    o->keep = cli_flag(rest, nrest, "--keep");
    o->out_dir = cli_opt(rest, nrest, "--out") ? cli_opt(rest, nrest, "--out") : "bench/results";
    o->seed = 1;
    o->warmup = -1;
    if (int_opt(rest, nrest, "--warmup", 0, 100000000, &o->warmup) == -1 ||
        int_opt(rest, nrest, "--records", 1000, 1000000000, &o->records) == -1 ||
        int_opt(rest, nrest, "--rss-at", 1000, 100000000, &o->rss_at) == -1)
        return -1;
    v = o->partitions;
    if (int_opt(rest, nrest, "--partitions", 1, 64, &v) == -1)
        return -1;
    o->partitions = (int)v;
    v = (int64_t)o->latency_s;
    if (int_opt(rest, nrest, "--latency-seconds", 0, 3600, &v) == -1)
        return -1;
    o->latency_s = (double)v;
    v = 1;
    if (int_opt(rest, nrest, "--seed", 0, INT64_MAX, &v) == -1)
        return -1;
    o->seed = (uint64_t)v;
    if (o->warmup < 0)
        o->warmup = FF_MIN(100000, o->records / 10);
    if ((s = cli_opt(rest, nrest, "--processors"))) {
        char *list = ff_strdup(s), *save = NULL;
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int p = 0;
            while (p < NPROCS && strcmp(bprocs[p].name, t))
                p++;
            if (p == NPROCS) {
                fprintf(stderr,
                        "footfall bench: --processors: no processor '%s' (shelf, web, geofence, "
                        "pos)\n",
                        t);
                free(list);
                return -1;
            }
            o->selected[p] = true;
        }
        free(list);
    } else {
        for (int p = 0; p < NPROCS; p++)
            o->selected[p] = true;
    }
    /* Where the results go is checked now, not after a run of an hour. */
    if (make_dirs(o->out_dir) == -1 || access(o->out_dir, W_OK) == -1) {
        fprintf(stderr, "footfall bench: --out %s: %s\n", o->out_dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* --pin: the processor (and the ceiling consumer) alone on the last CPU,
 * redis-server, the broker and this program on the others. */
static unsigned long proc_cpus, other_cpus;

static void pin_self(unsigned long cpus)
{
    cpu_set_t set;
    if (!cpus)
        return;
    CPU_ZERO(&set);
    for (int c = 0; c < (int)(8 * sizeof cpus); c++)
        if (cpus & (1UL << c))
            CPU_SET(c, &set);
    sched_setaffinity(0, sizeof set, &set);
}

/* The exactly-once bookkeeping in Redis (per entity, the last offset
 * applied from each partition, and the stored outputs of offsets not yet
 * committed) belongs to topics a fresh broker no longer has: its offsets
 * start at 0 again, and a record at or below an entity's applied offset
 * would be taken for a re-delivery and produce nothing new. It goes with
 * each broker; the state itself (intent, visits, stock) stays. Without
 * this the latency run after a 10M-record memory run read no output at
 * all, and part of every measured run was replays of the warm-up's
 * offsets. */
static void queue_unlink(void *pipe, const char *key)
{
    ff_rpipe_cmd(pipe, "UNLINK", key, NULL);
}

static int forget_offsets(const ff_stack_t *st, const char *prefix)
{
    static const char *const suffixes[] = {"applied", "out"};
    char url[64], errstr[256];
    ff_redis_t *r;
    ff_rpipe_t p;
    int rc = 0;
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", st->redis_port);
    if (!(r = ff_redis_new(url, 0, 30000, errstr, sizeof errstr))) {
        fprintf(stderr, "footfall bench: redis: %s\n", errstr);
        return -1;
    }
    ff_rpipe_init(&p);
    for (size_t i = 0; i < FF_ARRAY_LEN(suffixes) && rc == 0; i++) {
        char pattern[200];
        snprintf(pattern, sizeof pattern, "%s:*:%s", prefix, suffixes[i]);
        ff_rpipe_reset(&p);
        rc = ff_redis_scan(r, pattern, queue_unlink, &p, errstr, sizeof errstr);
        if (rc == 0 && ff_rpipe_count(&p) > 0)
            rc = ff_redis_exec(r, &p, errstr, sizeof errstr);
    }
    if (rc == -1)
        fprintf(stderr, "footfall bench: could not clear the offsets of the last broker in redis: "
                        "%s\n", errstr);
    ff_rpipe_term(&p);
    ff_redis_destroy(r);
    return rc;
}

static int new_broker(ff_stack_t *st, ff_conf_t *conf, ff_conf_t *pconf, int partitions)
{
    char errstr[512];
    if (forget_offsets(st, ff_conf_str(conf, "state.prefix")) == -1)
        return -1;
    if (st->broker_pid > 0)
        ff_reap(st->broker_pid, SIGTERM, 10000);
    st->broker_pid = 0;
    if (ff_stack_start_broker(st, partitions) == -1) {
        fprintf(stderr, "footfall bench: the broker did not start\n");
        return -1;
    }
    return ff_conf_set(conf, "kafka.bootstrap.servers", st->bootstrap, "bench", errstr,
                       sizeof errstr) |
           ff_conf_set(pconf, "kafka.bootstrap.servers", st->bootstrap, "bench", errstr,
                       sizeof errstr);
}

int cmd_bench(int argc, char **argv)
{
    ff_conf_t *conf = ff_conf_new("cli"), *pconf = ff_conf_new("cli");
    char **rest = ff_calloc((size_t)argc + 1, sizeof(char *));
    char errstr[512], bin[512], path[600];
    int nrest = 0, rc, status = 2, failed = 0;
    opts_t o;
    ff_stack_t st;
    bool stack_up = false;
    ff_codec_t *codec = NULL;
    result_t res[NPROCS];
    wl_t *w = ff_malloc(sizeof *w);
    memset(res, 0, sizeof res);

    rc = cli_parse("bench", conf, argc, argv, own_flag, help, rest, &nrest);
    if (rc) {
        status = rc == 1 ? 0 : 2;
        goto out;
    }
    if (parse_opts(rest, nrest, &o) == -1)
        goto out;
    /* Producers compress, as they would in production; it also lets the
     * embedded broker, which keeps 5 MB per partition, hold more. */
    if (ff_conf_set(pconf, "kafka.compression.type", "lz4", "bench", errstr, sizeof errstr) ==
        -1) {
        fprintf(stderr, "footfall bench: %s\n", errstr);
        goto out;
    }
    status = 1;
    if (!(codec = ff_codec_new(errstr, sizeof errstr))) {
        fprintf(stderr, "footfall bench: %s\n", errstr);
        goto out;
    }
    signal(SIGINT, on_stop);
    signal(SIGTERM, on_stop);
    foreign_load();
    if (foreign_busy >= 0.2 || foreign_procs[0])
        printf("the machine is not idle: %.2f of %ld CPUs busy over the last second%s%s; every "
               "figure below is lower for it\n",
               foreign_busy, sysconf(_SC_NPROCESSORS_ONLN),
               foreign_procs[0] ? "; running: " : "", foreign_procs);
    speed = speed_readings(codec);
    printf("this machine: a geofence event encoded and decoded in %.0f ns, a loopback round "
           "trip in %.1f us (compare runs by these first)\n",
           speed.codec_ns, speed.rtt_us);
    steal_start();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ff_exe_dir(bin, sizeof bin);
    if (ff_stack_init(&st, bin) == -1) {
        fprintf(stderr, "footfall bench: cannot make a directory for the stack\n");
        goto out;
    }
    stack_up = true;
    st.keep_dir = o.keep;
    if (o.pin) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        if (n < 2 || n > 64) {
            fprintf(stderr, "footfall bench: --pin needs 2 to 64 CPUs, this machine has %ld\n",
                    n);
            goto out;
        }
        proc_cpus = 1UL << (n - 1);
        other_cpus = proc_cpus - 1;
        st.cpus_procs = proc_cpus;
        st.cpus_redis = st.cpus_broker = other_cpus;
        pin_self(other_cpus);
    }
    if (ff_stack_start_redis(&st, NULL) == -1) {
        fprintf(stderr, "footfall bench: redis-server did not start\n");
        goto out;
    }
    wl_init(w, o.seed);
    if (warm_up(&st, conf, pconf, codec, w, &o) == -1) {
        failed++;
        goto out;
    }
    int64_t total = o.memory && o.rss_at * 10 > o.records ? o.rss_at * 10 : o.records;
    for (int p = 0; p < NPROCS && !stop_flag; p++) {
        if (!o.selected[p])
            continue;
        printf("%s: %lld records into %d partitions\n", bprocs[p].name, (long long)o.records,
               o.partitions);
        fflush(stdout);
        if (new_broker(&st, conf, pconf, o.partitions) == -1 ||
            produce(pconf, codec, w, p, o.records, 0, true) == -1)
            goto out;
        pin_self(proc_cpus);
        res[p].ceiling_rps = 0;
        for (int i = 0; i < CEILING_READS && res[p].ceiling_rps >= 0; i++) {
            double c = ceiling(conf, p, o.partitions, o.records, o.records);
            res[p].ceiling_reads[i] = c;
            res[p].ceiling_rps = c < 0 ? -1 : FF_MAX(res[p].ceiling_rps, c);
        }
        pin_self(other_cpus);
        if (res[p].ceiling_rps < 0) {
            failed++;
            continue;
        }
        printf("    ceiling: %.0f records/s (best of", res[p].ceiling_rps);
        for (int i = 0; i < CEILING_READS; i++)
            printf(" %.0f", res[p].ceiling_reads[i]);
        printf(")\n");
        fflush(stdout);
        if (throughput(&st, pconf, codec, w, &o, p, o.records, o.records, &res[p]) == -1) {
            failed++;
            continue;
        }
        res[p].ran = true;
        /* Memory figures come from the memory run alone, if it succeeds. */
        res[p].rss_mb_1m = res[p].rss_mb_10m = res[p].peak_rss_mb = 0;
        res[p].memory_records = 0;
        printf("    footfall-%s: %.0f records/s, %.4f round trips and %.2f CPU s per million "
               "records\n    per batch of %.0f records (ms):",
               bprocs[p].name, res[p].rps, res[p].roundtrips_per_record,
               res[p].cpu_s_per_million, res[p].batch_records);
        for (int i = 0; i < NPHASES; i++)
            printf(" %s %.1f", phases[i], res[p].phase_ms[i]);
        printf("\n    Redis commands per record (server microseconds):");
        for (int i = 0; i < res[p].ncmds && i < 6; i++)
            printf(" %s %.2f (%.1f)", res[p].cmds[i].name, res[p].cmds[i].calls,
                   res[p].cmds[i].usec);
        printf("\n");
        fflush(stdout);
        /* Latency at half the rate just measured, over the same state: before
         * the memory phase grows it tenfold (at a rate measured before, a
         * processor slowed by ten times the state would measure queueing). */
        if (o.latency_s > 0 && !stop_flag) {
            printf("    latency at %.0f records/s for %.0f s\n", res[p].rps / 2, o.latency_s);
            fflush(stdout);
            if (new_broker(&st, conf, pconf, o.partitions) == -1)
                goto out;
            if (latency(&st, conf, pconf, codec, w, &o, p, &res[p]) == -1)
                failed++;
        }
        if (o.memory && !stop_flag && memory(&st, conf, pconf, codec, w, &o, p, total, &res[p]) == -1)
            failed++;
    }
    if (stop_flag)
        goto out;
    print_table(&o, res);
    failed += print_targets(&o, res);
    if (write_json(&o, res, path, sizeof path) == 0)
        printf("\nwritten to %s\n", path);
    else
        fprintf(stderr, "footfall bench: cannot write %s: %s\n", path, strerror(errno)), failed++;
    status = failed ? 1 : 0;
out:
    if (stack_up) {
        if (st.keep_dir)
            fprintf(stderr, "footfall bench: logs kept in %s\n", st.dir);
        ff_stack_stop(&st);
    }
    ff_codec_destroy(codec);
    free(w);
    free(rest);
    ff_conf_destroy(conf);
    ff_conf_destroy(pconf);
    return status;
}
