/* footfall demo: the whole pipeline on the embedded stack with a generated scenario, narrated. */
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
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
    int64_t offers[2];       /* by ff_offer_kind_t */
    int64_t holdout;
    int64_t assists;
    int64_t conversions[2];  /* by ff_treatment_t */
    int64_t revenue[2];
    int64_t suppressed[FF_REASON__COUNT];
    int64_t alerts[3];
    int64_t alerts_high;
    ff_arena_t arena;
} demo_t;

static void help(void)
{
    printf("usage: footfall demo [--seed N] [--customers N] [--keep]\n\n"
           "Starts the embedded stack (redis-server on a free port, footfall broker and the\n"
           "four processors), then plays a retail day in fast motion (about 90 seconds):\n"
           "customers browse online, walk into stores and get drive-to-store offers, or not\n"
           "(each suppression with its reason); a control group is held out; some buy what\n"
           "they browsed and conversions are attributed; staff get heads-ups about valued\n"
           "customers; shelves empty and raise stock alerts. Everything is printed as it\n"
           "happens, with a summary and the lift at the end. Ctrl-C stops everything\n"
           "cleanly. --keep leaves the stack's directory (logs) behind.\n");
}

static int own_flag(const char *flag)
{
    if (!strcmp(flag, "--seed") || !strcmp(flag, "--customers"))
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

static void line(demo_t *d, int64_t ts, const char *color, const char *tag, const char *fmt, ...)
    FF_PRINTF(5, 6);

static void line(demo_t *d, int64_t ts, const char *color, const char *tag, const char *fmt, ...)
{
    char t[32];
    va_list ap;
    ff_format_rfc3339(ts, t, sizeof t);
    printf("  %.8s  %s%-10s%s ", t + 11, paint(d, color), tag, paint(d, "\033[0m"));
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static void money(int64_t cents, char *buf, size_t size)
{
    snprintf(buf, size, "%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
}

static void show(demo_t *d, const char *topic, const rd_kafka_message_t *rkm)
{
    const ff_conf_t *c = d->conf;
    ff_dec_err_t err;
    char m[32];
    if (!strcmp(topic, ff_conf_str(c, "topic.drive_to_store")) ||
        !strcmp(topic, ff_conf_str(c, "topic.holdout"))) {
        ff_offer_t o;
        bool held = !strcmp(topic, ff_conf_str(c, "topic.holdout"));
        if (ff_codec_decode(d->codec, FF_REC_DRIVE_TO_STORE_OFFER, rkm->payload, rkm->len,
                            &d->arena, &o, &err, NULL))
            return;
        if (held) {
            d->holdout++;
            line(d, o.ts, "\033[35m", "HOLDOUT", "%s at %s: would have been offered %s; withheld "
                 "(control group)", o.customer_id, o.store_id, o.sku ? o.sku : o.category);
            return;
        }
        d->offers[o.kind & 1]++;
        line(d, o.ts, "\033[1;32m", o.kind == FF_OFFER_INVITE ? "INVITE" : "OFFER",
             "%s %s %s: %s%s%s, code %s", o.customer_id,
             o.kind == FF_OFFER_INVITE ? "invited to" : "at", o.store_id, o.sku ? o.sku : "",
             o.sku ? " " : "", o.category, o.offer_code);
        printf("  %8s  %-10s   %s\n", "", "", o.reason);
    } else if (!strcmp(topic, ff_conf_str(c, "topic.store_assist"))) {
        ff_store_assist_t a;
        char interests[256] = "";
        if (ff_codec_decode(d->codec, FF_REC_STORE_ASSIST, rkm->payload, rkm->len, &d->arena, &a,
                            &err, NULL))
            return;
        d->assists++;
        for (size_t i = 0; i < a.top_interests_cnt; i++)
            snprintf(interests + strlen(interests), sizeof interests - strlen(interests), "%s%s",
                     i ? ", " : "", a.top_interests[i].sku ? a.top_interests[i].sku
                                                           : a.top_interests[i].category);
        money(a.lifetime_spend_cents, m, sizeof m);
        line(d, a.ts, "\033[36m", "STAFF", "%s: %s just arrived, lifetime spend %s, interested in %s",
             a.store_id, a.customer_id, m, interests[0] ? interests : "nothing yet");
    } else if (!strcmp(topic, ff_conf_str(c, "topic.conversion"))) {
        ff_conversion_t v;
        static const char *const match[] = {"offer code", "SKU", "category"};
        if (ff_codec_decode(d->codec, FF_REC_OFFER_CONVERSION, rkm->payload, rkm->len, &d->arena,
                            &v, &err, NULL))
            return;
        d->conversions[v.treatment & 1]++;
        d->revenue[v.treatment & 1] += v.revenue_cents;
        money(v.revenue_cents, m, sizeof m);
        line(d, v.ts, "\033[1;34m", "SALE", "%s bought at %s for %s, %lld s after the offer "
             "(by %s, %s)", v.customer_id, v.store_id, m, (long long)v.latency_seconds,
             match[v.match % 3], v.treatment == FF_CONTROL ? "control" : "treatment");
    } else if (!strcmp(topic, ff_conf_str(c, "topic.stock_alert"))) {
        ff_stock_alert_t a;
        if (ff_codec_decode(d->codec, FF_REC_STOCK_ALERT, rkm->payload, rkm->len, &d->arena, &a,
                            &err, NULL))
            return;
        if (a.level >= 0 && a.level < 3)
            d->alerts[a.level]++;
        if (a.priority == FF_PRIORITY_HIGH)
            d->alerts_high++;
        line(d, a.ts, a.level == FF_LEVEL_RESTOCKED ? "\033[32m" : "\033[33m", "SHELF",
             "%s shelf %s %s (%s) %s, %lld of %lld, %s priority, %lld shoppers want it online",
             a.store_id, a.shelf_id, a.sku, a.category, ff_level_name(a.level),
             (long long)a.quantity, (long long)a.capacity,
             a.priority == FF_PRIORITY_HIGH ? "HIGH" : "normal", (long long)a.online_demand);
    } else if (!strcmp(topic, ff_conf_str(c, "topic.decisions"))) {
        ff_decision_t dec;
        if (ff_codec_decode(d->codec, FF_REC_DECISION, rkm->payload, rkm->len, &d->arena, &dec,
                            &err, NULL))
            return;
        if (dec.outcome != FF_OUTCOME_SUPPRESSED || dec.reason == FF_REASON_HOLDOUT)
            return; /* shown as the offer or holdout record itself */
        d->suppressed[dec.reason % FF_REASON__COUNT]++;
        line(d, dec.ts, "\033[2m", "SUPPRESSED", "%s %s at %s: %s (%s)", dec.rule,
             dec.customer_id ? dec.customer_id : "-", dec.store_id ? dec.store_id : "-",
             ff_reason_name(dec.reason), dec.detail ? dec.detail : "");
    }
}

static rd_kafka_t *trigger_consumer(demo_t *d, char *errstr, size_t errstr_size)
{
    static const char *const settings[] = {"topic.drive_to_store", "topic.holdout",
                                           "topic.store_assist",   "topic.conversion",
                                           "topic.stock_alert",    "topic.decisions"};
    const char *extra[] = {"group.id", "footfall-demo-viewer", "enable.auto.commit", "false",
                           NULL};
    rd_kafka_conf_t *kconf = ff_kafka_conf(d->conf, NULL, extra, errstr, errstr_size);
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *parts;
    if (!kconf)
        return NULL;
    rk = ff_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, errstr_size);
    if (!rk)
        return NULL;
    /* Assign every partition directly: no group join to wait for. */
    parts = rd_kafka_topic_partition_list_new(32);
    for (size_t t = 0; t < FF_ARRAY_LEN(settings); t++) {
        const char *topic = ff_conf_str(d->conf, settings[t]);
        const rd_kafka_metadata_t *md;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == 0) {
            for (int i = 0; md->topic_cnt == 1 && i < md->topics[0].partition_cnt; i++)
                rd_kafka_topic_partition_list_add(parts, topic, md->topics[0].partitions[i].id)
                    ->offset = RD_KAFKA_OFFSET_BEGINNING;
            rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(rkt);
    }
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    return rk;
}

/* Records of group's input topic not yet committed: 0 when caught up. */
static int64_t group_lag(demo_t *d, const char *group, const char *topic)
{
    const char *extra[] = {"group.id", group, NULL};
    char errstr[256];
    rd_kafka_conf_t *kconf = ff_kafka_conf(d->conf, NULL, extra, errstr, sizeof errstr);
    rd_kafka_t *peek;
    rd_kafka_topic_partition_list_t *parts;
    int64_t lag = 0;
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

/* "+hh:mm" for the UTC offset at which it is `local_minute` now. */
static void tz_for(int64_t now, int local_minute, char *buf, size_t size)
{
    int utc = (int)((now % 86400000LL) / 60000);
    int off = local_minute - utc;
    if (off > 14 * 60)
        off -= 24 * 60;
    if (off < -12 * 60)
        off += 24 * 60;
    off = off / 15 * 15;
    snprintf(buf, size, "%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
}

static int start_stack(demo_t *d, char *errstr, size_t errstr_size)
{
    static const char *const procs[] = {"shelf", "web", "geofence", "pos"};
    static const char *const inputs[] = {"topic.shelf", "topic.web", "topic.geofence",
                                         "topic.pos"};
    char bin[512], day_tz[16], night_tz[16];
    static char tz_env[128];
    int64_t now = ff_clock_now_ms();
    const char *env[] = {"FOOTFALL_LOG_LEVEL=warn", tz_env, NULL};

    /* Two stores where it is early afternoon, one where it is night: the
     * demo shows quiet hours whatever the time it runs at. */
    tz_for(now, 13 * 60, day_tz, sizeof day_tz);
    tz_for(now, 2 * 60, night_tz, sizeof night_tz);
    snprintf(tz_env, sizeof tz_env, "FOOTFALL_STORE_TZ=S001=%s,S002=%s,S003=%s", day_tz, day_tz,
             night_tz);
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
    printf("  redis-server       %s\n", d->stack.redis_url);
    if (ff_stack_start_broker(&d->stack, 2) == -1) {
        snprintf(errstr, errstr_size, "cannot start footfall broker (see %s/broker.log)",
                 d->stack.dir);
        return -1;
    }
    printf("  footfall broker    %s\n", d->stack.bootstrap);
    for (size_t i = 0; i < FF_ARRAY_LEN(procs); i++) {
        if (ff_stack_start_proc(&d->stack, procs[i], env) == -1) {
            snprintf(errstr, errstr_size, "cannot start footfall-%s", procs[i]);
            return -1;
        }
        printf("  footfall-%-9s consuming %s\n", procs[i], ff_conf_str(d->conf, inputs[i]));
    }
    printf("  stores S001 and S002 at UTC%s (early afternoon), S003 at UTC%s (night)\n", day_tz,
           night_tz);
    /* The stack stops with the demo: its state can be read only meanwhile. */
    printf("  state, while it runs: FOOTFALL_REDIS_URL=%s %s/footfall state customer C0001\n"
           "                        (or: state store S001)\n",
           d->stack.redis_url, bin);
    ff_conf_set(d->conf, "kafka.bootstrap.servers", d->stack.bootstrap, "demo", errstr,
                errstr_size);
    ff_conf_set(d->conf, "redis.url", d->stack.redis_url, "demo", errstr, errstr_size);
    return 0;
}

static bool caught_up(demo_t *d)
{
    static const char *const groups[][3] = {
        {"footfall-shelf", "topic.shelf", NULL},
        {"footfall-web", "topic.web", NULL},
        {"footfall-geofence", "topic.geofence", "topic.consent"},
        {"footfall-pos", "topic.pos", NULL},
    };
    for (size_t g = 0; g < FF_ARRAY_LEN(groups); g++)
        for (int t = 1; t < 3 && groups[g][t]; t++)
            if (group_lag(d, groups[g][0], ff_conf_str(d->conf, groups[g][t])) != 0)
                return false;
    return true;
}

static void summary(demo_t *d, int64_t elapsed)
{
    int64_t suppressed = 0;
    double rate_t, rate_c;
    char rev[32];
    for (int r = 0; r < FF_REASON__COUNT; r++)
        suppressed += d->suppressed[r];
    printf("\nSummary (%.0f s, %lld events generated)\n", (double)elapsed / 1000.0,
           (long long)d->sink.sent);
    printf("  offers sent          %lld NEARBY, %lld INVITE\n", (long long)d->offers[0],
           (long long)d->offers[1]);
    printf("  withheld (control)   %lld\n", (long long)d->holdout);
    printf("  suppressed           %lld:", (long long)suppressed);
    for (int r = 0; r < FF_REASON__COUNT; r++)
        if (d->suppressed[r])
            printf(" %s %lld", ff_reason_name(r), (long long)d->suppressed[r]);
    printf("\n  staff heads-ups      %lld\n", (long long)d->assists);
    money(d->revenue[FF_TREATMENT] + d->revenue[FF_CONTROL], rev, sizeof rev);
    printf("  conversions          %lld treatment, %lld control (revenue %s)\n",
           (long long)d->conversions[FF_TREATMENT], (long long)d->conversions[FF_CONTROL], rev);
    rate_t = d->offers[0] + d->offers[1]
                 ? (double)d->conversions[FF_TREATMENT] / (double)(d->offers[0] + d->offers[1])
                 : 0;
    rate_c = d->holdout ? (double)d->conversions[FF_CONTROL] / (double)d->holdout : 0;
    printf("  conversion rate      treatment %.0f%%, control %.0f%%", rate_t * 100,
           rate_c * 100);
    if (rate_c > 0)
        printf(": lift %+.0f%%", (rate_t / rate_c - 1) * 100);
    printf("\n  stock alerts         %lld LOW, %lld OUT, %lld RESTOCKED (%lld high priority)\n",
           (long long)d->alerts[FF_LEVEL_LOW], (long long)d->alerts[FF_LEVEL_OUT],
           (long long)d->alerts[FF_LEVEL_RESTOCKED], (long long)d->alerts_high);
    printf("  state                keys ff:{c:<customer>}:*, ff:{s:<store>}:*; it goes with the "
           "stack\n");
    printf("\n  (purchases are simulated: the generator makes offered customers buy more often,\n"
           "   so the lift shows how footfall measures it, not what offers would earn)\n");
}

int cmd_demo(int argc, char **argv)
{
    demo_t d;
    char **rest = ff_calloc((size_t)argc + 1, sizeof(char *));
    char errstr[512];
    int nrest = 0, rc, status = 1;
    const char *v;
    pthread_t gen;
    bool gen_started = false;
    rd_kafka_t *viewer = NULL;
    int64_t t0, idle_since = -1, seed = 7, customers = 0;

    memset(&d, 0, sizeof d);
    ff_arena_init(&d.arena, 64 * 1024);
    d.conf = ff_conf_new("cli");
    d.scenario = "retail-day";
    d.color = isatty(STDOUT_FILENO);
    rc = cli_parse("demo", d.conf, argc, argv, own_flag, help, rest, &nrest);
    if (rc) {
        status = rc == 1 ? 0 : 2;
        goto out_conf;
    }
    if ((v = cli_opt(rest, nrest, "--seed")) && ff_parse_i64(v, &seed) == -1) {
        fprintf(stderr, "footfall demo: --seed wants a number, not '%s'\n", v);
        status = 2;
        goto out_conf;
    }
    if ((v = cli_opt(rest, nrest, "--customers")) &&
        (ff_parse_i64(v, &customers) == -1 || customers < 1 || customers > 100000)) {
        fprintf(stderr, "footfall demo: --customers wants 1 to 100000, not '%s'\n", v);
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

    printf("footfall demo: a retail day in fast motion\n\n");
    if (start_stack(&d, errstr, sizeof errstr) == -1) {
        fprintf(stderr, "footfall demo: %s\n", errstr);
        goto out;
    }
    d.stack.keep_dir = cli_flag(rest, nrest, "--keep");
    ff_scenario_defaults(d.scenario, &d.opts, ff_clock_now_ms());
    d.opts.seed = (uint64_t)seed;
    if (customers)
        d.opts.customers = (int)customers;
    if (ff_gen_sink_init(&d.sink, d.conf, d.codec, 0, 0, &stop, errstr, sizeof errstr) == -1) {
        fprintf(stderr, "footfall demo: %s\n", errstr);
        goto out;
    }
    d.sink.realtime = 1;
    viewer = trigger_consumer(&d, errstr, sizeof errstr);
    if (!viewer) {
        fprintf(stderr, "footfall demo: %s\n", errstr);
        goto out;
    }
    printf("\n%d customers, %d stores of %d SKUs. First their history goes in (browsing of the\n"
           "last days, consent, earlier visits and purchases); then, for %lld seconds, they walk\n"
           "into stores and buy while shelves empty. The processors need a few seconds to join\n"
           "their consumer groups. Offers are made only for what a customer wants and the store\n"
           "has; every offer passes consent, quiet hours, caps, the control group and freshness.\n\n",
           d.opts.customers, d.opts.stores, d.opts.shelves, (long long)(d.opts.span_ms / 1000));
    d.opts.start_ms = ff_clock_now_ms();
    pthread_create(&gen, NULL, gen_thread, &d);
    gen_started = true;

    t0 = ff_mono_ms();
    while (!stop) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(viewer, 200);
        if (rkm) {
            if (!rkm->err)
                show(&d, rd_kafka_topic_name(rkm->rkt), rkm);
            ff_arena_reset(&d.arena);
            idle_since = -1;
            rd_kafka_message_destroy(rkm);
            continue;
        }
        if (!d.gen_done)
            continue;
        /* The story is told: stop once every processor caught up and the
         * triggers stopped coming. */
        if (idle_since < 0)
            idle_since = ff_mono_ms();
        if (ff_mono_ms() - idle_since > 2000 && caught_up(&d))
            break;
        if (ff_mono_ms() - t0 > 600000)
            break;
    }
    if (gen_started) {
        stop = 1;
        pthread_join(gen, NULL);
    }
    summary(&d, ff_mono_ms() - t0);
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
