/* /metrics, /healthz and /readyz of a real processor, during a run and through a Redis outage. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_testenv.h"

static ff_env_t env;

static void teardown(void)
{
    ff_env_stop(&env);
}

TestSuite(metrics, .fini = teardown, .timeout = 180);

#define T0 (FF_TEST_NOW - 3600000LL)

static void store_reading(int32_t partition, const char *store, const char *id, int64_t ts,
                          int64_t qty)
{
    ff_shelf_reading_t r = {id, store, "A1", "K1", "shoes", ts, qty, 40, FF_SENSOR_WEIGHT, {0, 0}};
    ff_env_produce(&env, "shelf.events", partition, store, FF_REC_SHELF_READING, &r);
}

static void reading(const char *id, int64_t ts, int64_t qty)
{
    store_reading(0, "S1", id, ts, qty);
}

static char *scrape(const char *base)
{
    char url[128], *body;
    snprintf(url, sizeof url, "%s/metrics", base);
    cr_assert_eq(ff_http_get(url, &body), 200, "GET /metrics");
    return body;
}

static long probe(const char *base, const char *path, char **body)
{
    char url[128];
    snprintf(url, sizeof url, "%s%s", base, path);
    return ff_http_get(url, body);
}

Test(metrics, counters_match_the_records_sent_and_readyz_follows_a_redis_outage)
{
    static const char *const aof[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};
    char port_env[64], base[64], *m, *body;
    const char *const topics[] = {"shelf.events", NULL};
    int port = ff_free_port();

    snprintf(port_env, sizeof port_env, "FOOTFALL_HTTP_PORT=%d", port);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    const char *const envp[] = {FF_TEST_NOW_ENV, port_env, "FOOTFALL_BATCH_TIMEOUT=50ms",
                                "FOOTFALL_BACKOFF_MAX=500ms", NULL};
    ff_env_start(&env, 2, aof);
    /* 10 readings (one LOW alert), 2 bad records; 3 readings of another
     * store on the other partition, before and after them, so a batch holds
     * runs of both partitions. */
    store_reading(1, "S2", "s0", T0, 40);
    static const int64_t q[] = {40, 40, 40, 6, 6, 6, 6, 6, 6, 6};
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        reading(id, T0 + i * 60000, q[i]);
    }
    ff_env_produce_raw(&env, "shelf.events", 0, "S1", "junk", 4);
    ff_env_produce_raw(&env, "shelf.events", 0, "S1", "", 0);
    store_reading(1, "S2", "s1", T0 + 60000, 40);
    store_reading(1, "S2", "s2", T0 + 120000, 40);
    ff_env_flush(&env);
    int p = ff_env_proc(&env, "shelf", envp);
    ff_env_wait_caught_up(&env, "footfall-shelf", topics, 60000);

    cr_assert_eq(probe(base, "/healthz", &body), 200, "%s", body);
    free(body);
    cr_assert_eq(probe(base, "/readyz", &body), 200, "%s", body);
    cr_assert_str_eq(body, "ready\n");
    free(body);
    cr_assert_eq(probe(base, "/nope", NULL), 404);

    m = scrape(base);
    cr_assert_eq(ff_metric(m, "footfall_records_consumed_total{topic=\"shelf.events\",partition=\"0\"}"),
                 12, "all 12 records counted:\n%s", m);
    cr_assert_eq(ff_metric(m, "footfall_records_consumed_total{topic=\"shelf.events\",partition=\"1\"}"),
                 3, "and the other partition's 3:\n%s", m);
    cr_assert_eq(ff_metric(m, "footfall_dlq_total{topic=\"shelf.events\",class=\"BAD_MAGIC\"}"), 1);
    cr_assert_eq(ff_metric(m, "footfall_dlq_total{topic=\"shelf.events\",class=\"EMPTY\"}"), 1);
    cr_assert_eq(ff_metric(m, "footfall_triggers_total{kind=\"stock_low\"}"), 1);
    cr_assert_geq(ff_metric(m, "footfall_transactions_total{result=\"committed\"}"), 1);
    cr_assert_eq(ff_metric(m, "footfall_transactions_total{result=\"aborted\"}"), 0);
    cr_assert_eq(ff_metric(m, "footfall_batch_records_sum"), 15, "batch sizes add up to 15");
    cr_assert_eq(ff_metric(m, "footfall_batch_records_count"),
                 ff_metric(m, "footfall_transactions_total{result=\"committed\"}"),
                 "one batch per committed transaction");
    cr_assert_gt(ff_metric(m, "footfall_redis_roundtrip_seconds_count"), 0);
    cr_assert_eq(ff_metric(m, "footfall_event_to_trigger_seconds_count"), 1, "one trigger");
    cr_assert(strstr(m, "# TYPE footfall_redis_roundtrip_seconds histogram\n"), "%s", m);
    cr_assert(strstr(m, "footfall_redis_roundtrip_seconds_bucket{le=\"+Inf\"}"));
    cr_assert_eq(ff_metric(m, "footfall_info{processor=\"shelf\",version=\"0.1.0\"}"), 1);
    free(m);

    /* Consumer lag comes from librdkafka's statistics, every 5 s. */
    double lag = -1;
    for (int i = 0; i < 100 && lag < 0; i++) {
        m = scrape(base);
        lag = ff_metric(m, "footfall_consumer_lag{topic=\"shelf.events\",partition=\"0\"}");
        free(m);
        if (lag < 0)
            ff_sleep_ms(100);
    }
    cr_assert_eq(lag, 0, "caught up: no lag");

    /* Redis goes away: the next batch fails and /readyz says why. */
    cr_assert_eq(ff_reap(env.stack.redis_pid, SIGKILL, 5000), 128 + SIGKILL);
    reading("r10", T0 + 10 * 60000, 6);
    ff_env_flush(&env);
    long code = 0;
    for (int i = 0; i < 200 && code != 503; i++) {
        code = probe(base, "/readyz", &body);
        if (code != 503)
            free(body);
        if (code != 503)
            ff_sleep_ms(50);
    }
    cr_assert_eq(code, 503, "not ready while Redis is down");
    cr_assert(strstr(body, "Redis"), "and says why: %s", body);
    free(body);
    cr_assert_eq(probe(base, "/healthz", NULL), 200, "still alive: it is waiting, not hung");
    /* Records of both partitions wait meanwhile: the batch after the
     * outage's holds runs of both, each counted to its own partition. */
    store_reading(1, "S2", "s3", T0 + 180000, 40);
    reading("r11", T0 + 11 * 60000, 6);
    store_reading(1, "S2", "s4", T0 + 240000, 40);
    ff_env_flush(&env);

    cr_assert_eq(ff_stack_restart_redis(&env.stack), 0);
    ff_env_wait_caught_up(&env, "footfall-shelf", topics, 60000);
    /* Caught up means committed; /readyz follows the loop a moment later. */
    for (int i = 0; i < 100; i++) {
        code = probe(base, "/readyz", &body);
        if (code == 200)
            break;
        free(body);
        ff_sleep_ms(50);
    }
    cr_assert_eq(code, 200, "ready again once the batch went through");
    free(body);
    m = scrape(base);
    cr_assert_eq(ff_metric(m, "footfall_outage_pauses_total{dependency=\"redis\"}"), 1);
    cr_assert_eq(ff_metric(m, "footfall_records_consumed_total{topic=\"shelf.events\",partition=\"0\"}"),
                 14, "%s", m);
    cr_assert_eq(ff_metric(m, "footfall_records_consumed_total{topic=\"shelf.events\",partition=\"1\"}"),
                 5, "%s", m);
    free(m);
    cr_assert_eq(ff_env_proc_stop(&env, p, SIGTERM), 0);
}

/* librdkafka 2.0 never fetches a partition whose committed offset it failed
 * to look up after an assignment; it says so once and the consumer sits
 * idle. The processor notices records waiting that never arrive and
 * restarts its Kafka clients. */
Test(metrics, partitions_librdkafka_never_fetches_are_noticed_and_the_clients_restarted)
{
    const char *const topics[] = {"shelf.events", NULL};
    char port_env[64], base[64];
    int port = ff_free_port();
    snprintf(port_env, sizeof port_env, "FOOTFALL_HTTP_PORT=%d", port);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    const char *const envp[] = {FF_TEST_NOW_ENV, "FOOTFALL_BATCH_TIMEOUT=50ms",
                                "FOOTFALL_STALL_TIMEOUT=2s", port_env, NULL};
    char path[600], *text, *log;
    ff_msg_t *msgs;
    size_t n;

    ff_env_start(&env, 2, NULL);
    /* The broker fails the next OffsetFetch: the one the processor sends
     * once it is assigned its partitions (nothing else here asks). */
    kill(env.stack.broker_pid, SIGHUP);
    snprintf(path, sizeof path, "%s/broker.log", env.stack.dir);
    for (int i = 0; i < 100; i++) {
        text = ff_slurp(path);
        bool armed = strstr(text, "\"event\":\"broker.inject\"") != NULL;
        free(text);
        if (armed)
            break;
        ff_sleep_ms(50);
    }
    static const int64_t q[] = {40, 40, 40, 6, 6, 6, 6, 6, 6, 6};
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        reading(id, T0 + i * 60000, q[i]);
    }
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%d", i);
        store_reading(1, "S2", id, T0 + i * 60000, 40);
    }
    ff_env_flush(&env);
    int p = ff_env_proc(&env, "shelf", envp);
    /* Nothing else may send an OffsetFetch before the processor's: the lag
     * is read only once the failure has reached it. */
    bool failed = false;
    for (int i = 0; i < 600 && !failed; i++) {
        log = ff_env_proc_log(&env, p);
        failed = strstr(log, "Failed to fetch committed offset") != NULL;
        free(log);
        if (!failed)
            ff_sleep_ms(50);
    }
    cr_assert(failed, "the processor's OffsetFetch is the one the broker failed");
    ff_env_wait_caught_up(&env, "footfall-shelf", topics, 90000);
    /* The restart is counted under its reason, for an alert to tell apart. */
    text = scrape(base);
    cr_assert_eq(ff_metric(text, "footfall_client_restarts_total{reason=\"stall\"}"), 1, "%s",
                 text);
    cr_assert_eq(ff_metric(text, "footfall_client_restarts_total{reason=\"fatal\"}"), 0, "%s",
                 text);
    free(text);
    cr_assert_eq(ff_env_proc_stop(&env, p, SIGTERM), 0);

    log = ff_env_proc_log(&env, p);
    cr_assert(strstr(log, "\"event\":\"kafka.stalled\""), "it noticed the stall:\n%s", log);
    cr_assert(strstr(log, "\"event\":\"kafka.restart\""), "and restarted its clients:\n%s", log);
    cr_assert(strstr(log, "consumed=13 ") && strstr(log, " stalls=1 "),
              "every record once, after one stall:\n%s", log);
    free(log);
    n = ff_env_read_all(&env, "triggers.stock-alert", &msgs);
    cr_assert_eq(n, 1, "the one LOW alert, once");
    cr_assert(strstr(msgs[0].json, "\"LOW\""), "%s", msgs[0].json);
    ff_env_msgs_free(msgs, n);
}
