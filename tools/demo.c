/* footfall demo: the whole pipeline on the embedded stack with a generated scenario, narrated. */
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ff_clock.h"
#include "ff_codec.h"
#include "ff_kafka.h"
#include "ff_log.h"
#include "gen.h"
#include "scenario.h"
#include "stack.h"

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

typedef struct demo_s {
    ff_conf_t *conf;
    ff_codec_t *codec;
    ff_stack_t stack;
    ff_gen_sink_t sink;
    ff_scenario_opts_t opts;
    const char *scenario;
    volatile int gen_done;
    int64_t gen_count;
    int color;
    /* what we saw */
    int64_t alerts[3];
    int64_t alerts_high;
    ff_arena_t arena;
} demo_t;

static void help(void)
{
    printf("usage: footfall demo [--rate N] [--seed N] [--keep]\n\n"
           "Starts the embedded stack (redis-server on a free port, footfall broker, the\n"
           "processors), generates a store day of smart-shelf readings and prints the stock\n"
           "alerts as footfall-shelf raises them, then a summary. Ctrl-C stops everything\n"
           "cleanly. --rate is records per second (default 150), --keep leaves the stack's\n"
           "directory (logs) behind.\n");
}

static int own_flag(const char *flag)
{
    if (!strcmp(flag, "--rate") || !strcmp(flag, "--seed"))
        return 2;
    return !strcmp(flag, "--keep") ? 1 : 0;
}

static void *gen_thread(void *arg)
{
    demo_t *d = arg;
    d->gen_count = ff_scenario_run(d->scenario, &d->opts, ff_gen_emit, &d->sink);
    rd_kafka_flush(d->sink.rk, 10000);
    d->gen_done = 1;
    return NULL;
}

static const char *paint(const demo_t *d, const char *code)
{
    return d->color ? code : "";
}

static void show_alert(demo_t *d, const ff_stock_alert_t *a)
{
    char ts[32];
    const char *color = a->level == FF_LEVEL_OUT ? "\033[31m"
                        : a->level == FF_LEVEL_LOW ? "\033[33m"
                                                   : "\033[32m";
    ff_format_rfc3339(a->ts, ts, sizeof ts);
    printf("  %.5s  %-5s shelf %-3s %-9s %-8s  %s%-9s%s %3lld/%-3lld %s%s%s  online demand %lld\n",
           ts + 11, a->store_id, a->shelf_id, a->sku, a->category, paint(d, color),
           ff_level_name(a->level), paint(d, "\033[0m"), (long long)a->quantity,
           (long long)a->capacity, a->priority == FF_PRIORITY_HIGH ? paint(d, "\033[1m") : "",
           a->priority == FF_PRIORITY_HIGH ? "HIGH  " : "normal",
           paint(d, "\033[0m"), (long long)a->online_demand);
    fflush(stdout);
    if (a->level >= 0 && a->level < 3)
        d->alerts[a->level]++;
    if (a->priority == FF_PRIORITY_HIGH)
        d->alerts_high++;
}

static rd_kafka_t *trigger_consumer(demo_t *d, char *errstr, size_t errstr_size)
{
    const char *extra[] = {"group.id", "footfall-demo-viewer", "enable.auto.commit", "false",
                           "auto.offset.reset", "earliest", NULL};
    rd_kafka_conf_t *kconf = ff_kafka_conf(d->conf, NULL, extra, errstr, errstr_size);
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *parts;
    const rd_kafka_metadata_t *md;
    const char *topic = ff_conf_str(d->conf, "topic.stock_alert");
    if (!kconf)
        return NULL;
    rk = ff_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, errstr_size);
    if (!rk)
        return NULL;
    /* Assign every partition directly: no group join to wait for. */
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1) {
        snprintf(errstr, errstr_size, "no topic %s", topic);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return NULL;
    }
    parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(parts, topic, md->topics[0].partitions[i].id)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rk;
}

/* Records of group's input topic not yet committed: 0 when caught up. */
static int64_t group_lag(demo_t *d, rd_kafka_t *rk, const char *group, const char *topic)
{
    const char *extra[] = {"group.id", group, NULL};
    char errstr[256];
    rd_kafka_conf_t *kconf = ff_kafka_conf(d->conf, NULL, extra, errstr, sizeof errstr);
    rd_kafka_t *peek;
    rd_kafka_topic_partition_list_t *parts;
    int64_t lag = 0;
    (void)rk;
    if (!kconf || !(peek = ff_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof errstr)))
        return -1;
    parts = rd_kafka_topic_partition_list_new(8);
    for (int p = 0; p < 64; p++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(peek, topic, p, &lo, &hi, 2000))
            break;
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = hi;
    }
    rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(parts);
    if (rd_kafka_committed(peek, committed, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < parts->cnt; i++) {
            int64_t c = committed->elems[i].offset < 0 ? 0 : committed->elems[i].offset;
            lag += parts->elems[i].offset - c;
        }
    } else {
        lag = -1;
    }
    rd_kafka_topic_partition_list_destroy(committed);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(peek);
    return lag;
}

static int start_stack(demo_t *d, char *errstr, size_t errstr_size)
{
    char bin[512];
    const char *log_env[] = {"FOOTFALL_LOG_LEVEL=warn", NULL};
    ff_exe_dir(bin, sizeof bin);
    if (ff_stack_init(&d->stack, bin) == -1) {
        snprintf(errstr, errstr_size, "cannot make a temporary directory");
        return -1;
    }
    printf("Starting the embedded stack in %s\n", d->stack.dir);
    if (ff_stack_start_redis(&d->stack, NULL) == -1) {
        snprintf(errstr, errstr_size, "cannot start redis-server (is it installed?)");
        return -1;
    }
    printf("  redis-server     %s\n", d->stack.redis_url);
    if (ff_stack_start_broker(&d->stack, 2) == -1) {
        snprintf(errstr, errstr_size, "cannot start footfall broker (see %s/broker.log)",
                 d->stack.dir);
        return -1;
    }
    printf("  footfall broker  %s\n", d->stack.bootstrap);
    if (ff_stack_start_proc(&d->stack, "shelf", log_env) == -1) {
        snprintf(errstr, errstr_size, "cannot start footfall-shelf");
        return -1;
    }
    printf("  footfall-shelf   consuming %s (log: %s)\n", ff_conf_str(d->conf, "topic.shelf"),
           d->stack.procs[0].log);
    ff_conf_set(d->conf, "kafka.bootstrap.servers", d->stack.bootstrap, "demo", errstr,
                errstr_size);
    ff_conf_set(d->conf, "redis.url", d->stack.redis_url, "demo", errstr, errstr_size);
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    demo_t d;
    char **rest = ff_calloc((size_t)argc + 1, sizeof(char *));
    char errstr[512];
    int nrest = 0, rc, status = 1;
    const char *v;
    double rate = 150;
    pthread_t gen;
    bool gen_started = false;
    rd_kafka_t *viewer = NULL;
    int64_t t0, idle_since = -1;
    int64_t seed = 7;

    memset(&d, 0, sizeof d);
    ff_arena_init(&d.arena, 64 * 1024);
    d.conf = ff_conf_new("cli");
    d.scenario = "shelf-day";
    d.color = isatty(STDOUT_FILENO);
    rc = cli_parse("demo", d.conf, argc, argv, own_flag, help, rest, &nrest);
    if (rc) {
        status = rc == 1 ? 0 : 2;
        goto out_conf;
    }
    if ((v = cli_opt(rest, nrest, "--rate"))) {
        char *end;
        rate = strtod(v, &end);
        if (*end || rate <= 0) {
            fprintf(stderr, "footfall demo: --rate wants records per second, not '%s'\n", v);
            status = 2;
            goto out_conf;
        }
    }
    if ((v = cli_opt(rest, nrest, "--seed")) && ff_parse_i64(v, &seed) == -1) {
        fprintf(stderr, "footfall demo: --seed wants a number, not '%s'\n", v);
        status = 2;
        goto out_conf;
    }
    d.codec = ff_codec_new(errstr, sizeof errstr);
    if (!d.codec) {
        fprintf(stderr, "footfall demo: %s\n", errstr);
        goto out_conf;
    }
    signal(SIGINT, on_stop);
    signal(SIGTERM, on_stop);
    signal(SIGPIPE, SIG_IGN);

    printf("footfall demo: a store day of smart-shelf readings through footfall-shelf\n\n");
    if (start_stack(&d, errstr, sizeof errstr) == -1) {
        fprintf(stderr, "footfall demo: %s\n", errstr);
        goto out;
    }
    d.stack.keep_dir = cli_flag(rest, nrest, "--keep");
    ff_scenario_defaults(d.scenario, &d.opts, ff_clock_now_ms());
    d.opts.seed = (uint64_t)seed;
    if (ff_gen_sink_init(&d.sink, d.conf, d.codec, rate, 0, &stop, errstr, sizeof errstr) == -1) {
        fprintf(stderr, "footfall demo: %s\n", errstr);
        goto out;
    }
    viewer = trigger_consumer(&d, errstr, sizeof errstr);
    if (!viewer) {
        fprintf(stderr, "footfall demo: %s\n", errstr);
        goto out;
    }
    printf("\nGenerating %d stores x %d shelves, one reading per shelf every %lld minutes of a\n"
           "12-hour day (%.0f readings a second). Sensors misread now and then: the median of\n"
           "three readings keeps those from raising alerts. footfall-shelf needs a few seconds\n"
           "to join its consumer group.\n\n",
           d.opts.stores, d.opts.shelves, (long long)(d.opts.step_ms / 60000), rate);
    printf("  %-5s  %-5s %-9s %-9s %-8s  %-9s %-7s %-6s\n", "time", "store", "shelf", "sku",
           "category", "level", "qty/cap", "priority");
    pthread_create(&gen, NULL, gen_thread, &d);
    gen_started = true;

    t0 = ff_mono_ms();
    while (!stop) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(viewer, 200);
        if (rkm) {
            if (!rkm->err) {
                ff_stock_alert_t a;
                ff_dec_err_t err;
                if (ff_codec_decode(d.codec, FF_REC_STOCK_ALERT, rkm->payload, rkm->len, &d.arena,
                                    &a, &err, NULL) == 0)
                    show_alert(&d, &a);
                ff_arena_reset(&d.arena);
                idle_since = -1;
            }
            rd_kafka_message_destroy(rkm);
            continue;
        }
        if (!d.gen_done)
            continue;
        /* Generation is over: stop once the processor caught up and the
         * alerts stopped coming. */
        if (idle_since < 0)
            idle_since = ff_mono_ms();
        if (ff_mono_ms() - idle_since > 2000 &&
            group_lag(&d, viewer, "footfall-shelf", ff_conf_str(d.conf, "topic.shelf")) == 0)
            break;
        if (ff_mono_ms() - t0 > 600000)
            break;
    }
    if (gen_started) {
        stop = 1;
        pthread_join(gen, NULL);
    }
    printf("\nSummary (%.1f s)\n", (double)(ff_mono_ms() - t0) / 1000.0);
    printf("  readings generated    %lld\n", (long long)d.sink.sent);
    printf("  stock alerts          %lld LOW, %lld OUT, %lld RESTOCKED (%lld high priority)\n",
           (long long)d.alerts[FF_LEVEL_LOW], (long long)d.alerts[FF_LEVEL_OUT],
           (long long)d.alerts[FF_LEVEL_RESTOCKED], (long long)d.alerts_high);
    printf("  state                 %s, keys ff:{s:<store>}:*\n", d.stack.redis_url);
    status = 0;
out:
    if (viewer) {
        rd_kafka_consumer_close(viewer);
        rd_kafka_destroy(viewer);
    }
    if (d.sink.codec)
        ff_gen_sink_term(&d.sink);
    printf("\nStopping the stack…\n");
    fflush(stdout);
    ff_stack_stop(&d.stack);
    if (d.stack.keep_dir)
        printf("Logs kept in %s\n", d.stack.dir);
    ff_codec_destroy(d.codec);
out_conf:
    ff_arena_term(&d.arena);
    free(rest);
    ff_conf_destroy(d.conf);
    return status;
}
