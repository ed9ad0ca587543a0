/* Integration tests of footfall-shelf: real redis-server, real broker, the real binary. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_testenv.h"

static ff_env_t env;
static const char *const shelf_topics[] = {"shelf.events", NULL};
static const char *const proc_env[] = {FF_TEST_NOW_ENV, "FOOTFALL_BATCH_TIMEOUT=50ms", NULL};

static void teardown(void)
{
    ff_env_stop(&env);
}

TestSuite(shelf, .fini = teardown, .timeout = 120);

#define T0 (FF_TEST_NOW - 3600000LL) /* readings start an hour before "now" */

static void reading(int32_t partition, const char *event_id, const char *store,
                    const char *shelf, const char *sku, const char *category, int64_t ts,
                    int64_t qty, int64_t cap)
{
    ff_shelf_reading_t r = {
        .event_id = event_id, .store_id = store, .shelf_id = shelf, .sku = sku,
        .category = category, .ts = ts, .quantity = qty, .capacity = cap,
        .sensor = FF_SENSOR_WEIGHT,
    };
    ff_env_produce(&env, "shelf.events", partition, store, FF_REC_SHELF_READING, &r);
}

static void expect_alert(const ff_msg_t *m, int64_t offset, const char *event_id, int64_t ts,
                         const char *level, int64_t qty, const char *priority, int64_t demand)
{
    char want[1024];
    snprintf(want, sizeof want,
             "{\"trigger_id\":\"shelf.events:0:%lld:STOCK_ALERT\",\"store_id\":\"S1\","
             "\"shelf_id\":\"A1\",\"sku\":\"K1\",\"category\":\"shoes\",\"ts\":%lld,"
             "\"level\":\"%s\",\"quantity\":%lld,\"capacity\":40,\"priority\":\"%s\","
             "\"online_demand\":%lld,\"source_event_id\":\"%s\",\"replayed\":false}",
             (long long)offset, (long long)ts, level, (long long)qty, priority, (long long)demand,
             event_id);
    cr_assert_not_null(m->json, "alert decodes");
    cr_assert_str_eq(m->json, want);
    cr_assert_str_eq(m->key, "S1", "alerts are keyed by store");
}

Test(shelf, debounced_alerts_exact_state_and_online_demand)
{
    static const int64_t a1[] = {40, 39, 38, 8, 7, 0, 0, 40, 40};
    static const int64_t a2[] = {30, 30, 0, 30};
    char id[32], day[64];
    ff_msg_t *msgs;
    size_t n;
    redisReply *r;

    ff_env_start(&env, 1, NULL);
    /* 30 customers showed online intent for K1 today: a LOW alert is HIGH. */
    snprintf(day, sizeof day, "ff:{k:K1}:demand:%lld", (long long)ff_day_of_ms(T0));
    for (int c = 0; c < 30; c++)
        freeReplyObject(ff_env_redis(&env, "PFADD %s c%d", day, c));
    for (int i = 0; i < 9; i++) {
        snprintf(id, sizeof id, "r%d", i);
        reading(0, id, "S1", "A1", "K1", "shoes", T0 + i * 60000, a1[i], 40);
    }
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof id, "r%d", 9 + i);
        reading(0, id, "S1", "A2", "K2", "toys", T0 + i * 60000, a2[i], 30);
    }
    ff_env_flush(&env);
    int p = ff_env_proc(&env, "shelf", proc_env);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);

    n = ff_env_read_all(&env, "triggers.stock-alert", &msgs);
    cr_assert_eq(n, 3, "one alert per transition, none for the misread on A2 (got %zu)", n);
    /* median(38,8,7) = 8 <= 20% of 40 */
    expect_alert(&msgs[0], 4, "r4", T0 + 4 * 60000, "LOW", 8, "HIGH", 30);
    /* median(7,0,0) = 0 */
    expect_alert(&msgs[1], 6, "r6", T0 + 6 * 60000, "OUT", 0, "HIGH", 30);
    /* median(0,40,40) = 40 >= 50% of 40 */
    expect_alert(&msgs[2], 8, "r8", T0 + 8 * 60000, "RESTOCKED", 40, "NORMAL", 30);
    ff_env_msgs_free(msgs, n);

    n = ff_env_read_all(&env, "shelf.events.dlq", &msgs);
    cr_assert_eq(n, 0, "no record was bad");
    ff_env_msgs_free(msgs, n);

    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:shelf:A1:K1", "level"), "OK");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:shelf:A1:K1", "qty"), "40");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:shelf:A1:K1", "last"), "40");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:shelf:A1:K1", "cap"), "40");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:shelf:A1:K1", "cat"), "shoes");
    char win[128];
    snprintf(win, sizeof win, "%lld:0,%lld:40,%lld:40", (long long)(T0 + 6 * 60000),
             (long long)(T0 + 7 * 60000), (long long)(T0 + 8 * 60000));
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:shelf:A1:K1", "win"), win);
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:shelf:A2:K2", "level"), "OK");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:shelf:A2:K2", "qty"), "30");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:stock", "K1"), "40");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:stock", "K2"), "30");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:catstock", "shoes"), "40");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:catstock", "toys"), "30");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:applied", "shelf.events:0"), "12");
    r = ff_env_redis(&env, "SMEMBERS ff:{s:S1}:shelves");
    cr_assert_eq(r->elements, 2);
    freeReplyObject(r);
    r = ff_env_redis(&env, "KEYS ff:*");
    /* shelf x2, shelves, stock, catstock, applied, out (the stored outputs of
     * the last batch, kept until committed) and the demand index we made */
    cr_assert_eq(r->elements, 8, "exactly the keys of the layout (%zu)", r->elements);
    freeReplyObject(r);

    cr_assert_eq(ff_env_proc_stop(&env, p, 15), 0, "SIGTERM stops it cleanly with status 0");
    char *log = ff_env_proc_log(&env, p);
    cr_assert(strstr(log, "\"event\":\"proc.summary\""), "a summary is logged at the end");
    cr_assert(strstr(log, "consumed=13 "), "13 records consumed: %s", log);
    free(log);
}

static void expect_dlq(const ff_msg_t *m, int64_t offset, const char *cls, const char *phrase,
                       const void *value, size_t len, const char *key)
{
    char off[24];
    snprintf(off, sizeof off, "%lld", (long long)offset);
    cr_assert_str_eq(ff_msg_header(m, "ff.source.topic"), "shelf.events");
    cr_assert_str_eq(ff_msg_header(m, "ff.source.partition"), "0");
    cr_assert_str_eq(ff_msg_header(m, "ff.source.offset"), off);
    cr_assert_str_eq(ff_msg_header(m, "ff.processor"), "footfall-shelf");
    cr_assert_str_eq(ff_msg_header(m, "ff.error.class"), cls, "offset %s", off);
    cr_assert(strstr(ff_msg_header(m, "ff.error.message"), phrase),
              "offset %s: message '%s' mentions '%s'", off, ff_msg_header(m, "ff.error.message"),
              phrase);
    cr_assert_eq(m->value_len, len, "the original value, untouched (offset %s)", off);
    cr_assert(!value || len == 0 || !memcmp(m->value, value, len));
    if (key)
        cr_assert_str_eq(m->key, key);
    else
        cr_assert_null(m->key);
}

Test(shelf, bad_records_go_to_the_dlq_with_their_reason_and_processing_goes_on)
{
    ff_buf_t good, trunc;
    ff_msg_t *msgs;
    size_t n;
    const char garbage[] = "not avro at all";
    const char wrong_magic[] = {1, 0, 0, 0, 4, 2, 'x'};
    const char unknown_id[] = {0, 0, 0, 0x03, (char)0xe7, 2, 'x'};
    ff_shelf_reading_t r = {"e", "S1", "A1", "K1", "shoes", T0, 10, 40, FF_SENSOR_RFID, {0, 0}};
    ff_web_event_t web = {"w1", "C1", "sess", T0, FF_WEB_PAGE_VIEW, NULL, NULL, {0, 0}, NULL};

    ff_env_start(&env, 1, NULL);
    ff_buf_init(&good);
    ff_buf_init(&trunc);
    ff_codec_encode(env.codec, FF_REC_SHELF_READING, &r, &good);
    ff_buf_append(&trunc, good.data, 12);

    reading(0, "g0", "S1", "A1", "K1", "shoes", T0, 40, 40);                     /* 0 */
    ff_env_produce_raw(&env, "shelf.events", 0, "S1", garbage, strlen(garbage)); /* 1 */
    ff_env_produce_raw(&env, "shelf.events", 0, "S1", NULL, 0);                  /* 2 */
    ff_env_produce_raw(&env, "shelf.events", 0, "S1", wrong_magic, sizeof wrong_magic); /* 3 */
    ff_env_produce_raw(&env, "shelf.events", 0, "S1", unknown_id, sizeof unknown_id);   /* 4 */
    ff_env_produce_raw(&env, "shelf.events", 0, "S1", trunc.data, trunc.len);           /* 5 */
    ff_env_produce(&env, "shelf.events", 0, "S1", FF_REC_WEB_EVENT, &web);              /* 6 */
    reading(0, "b7", "S1", "A1", "K1", "shoes", T0 + 1, -3, 40);                 /* 7 */
    reading(0, "b8", "S1", "A1", "K1", "shoes", T0 + 2, 3, 0);                   /* 8 */
    reading(0, "b9", "S1", "A1", "K1", "shoes", T0 + 3, 41, 40);                 /* 9 */
    reading(0, "", "S1", "A1", "K1", "shoes", T0 + 4, 3, 40);                    /* 10 */
    reading(0, "b11", "S1", "A1", "K1", "shoes", FF_TEST_NOW + 2 * 86400000LL, 3, 40); /* 11 */
    ff_env_produce_raw(&env, "shelf.events", 0, NULL, good.data, good.len);      /* 12 */
    reading(0, "g13", "S1", "A1", "K1", "shoes", T0 + 60000, 39, 40);            /* 13 */
    ff_env_flush(&env);

    int p = ff_env_proc(&env, "shelf", proc_env);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);

    n = ff_env_read_all(&env, "shelf.events.dlq", &msgs);
    cr_assert_eq(n, 12, "every bad record exactly once (got %zu)", n);
    expect_dlq(&msgs[0], 1, "BAD_MAGIC", "magic", garbage, strlen(garbage), "S1");
    expect_dlq(&msgs[1], 2, "EMPTY", "no value", NULL, 0, "S1");
    expect_dlq(&msgs[2], 3, "BAD_MAGIC", "0x01", wrong_magic, sizeof wrong_magic, "S1");
    expect_dlq(&msgs[3], 4, "UNKNOWN_SCHEMA", "999", unknown_id, sizeof unknown_id, "S1");
    expect_dlq(&msgs[4], 5, "TRUNCATED", "end", trunc.data, trunc.len, "S1");
    cr_assert_str_eq(ff_msg_header(&msgs[5], "ff.error.class"), "SCHEMA_MISMATCH");
    cr_assert(strstr(ff_msg_header(&msgs[5], "ff.error.message"), "WebEvent"));
    expect_dlq(&msgs[6], 7, "VALIDATION", "quantity -3 is negative", NULL, msgs[6].value_len,
               "S1");
    expect_dlq(&msgs[7], 8, "VALIDATION", "capacity 0", NULL, msgs[7].value_len, "S1");
    expect_dlq(&msgs[8], 9, "VALIDATION", "above capacity", NULL, msgs[8].value_len, "S1");
    expect_dlq(&msgs[9], 10, "VALIDATION", "event_id is missing", NULL, msgs[9].value_len, "S1");
    expect_dlq(&msgs[10], 11, "VALIDATION", "in the future", NULL, msgs[10].value_len, "S1");
    expect_dlq(&msgs[11], 12, "MISSING_KEY", "no key", good.data, good.len, NULL);
    ff_env_msgs_free(msgs, n);

    /* The good records around them were applied. */
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:applied", "shelf.events:0"), "13");
    char win[64];
    snprintf(win, sizeof win, "%lld:40,%lld:39", (long long)T0, (long long)(T0 + 60000));
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:shelf:A1:K1", "win"), win);
    cr_assert_eq(ff_env_proc_stop(&env, p, 15), 0);
    ff_buf_term(&good);
    ff_buf_term(&trunc);
}

/* The "loop.batch" debug lines of a log from byte `from` on: counts batches
 * and those that took exactly `rounds` Redis round trips. */
static void count_batches(const char *log, size_t from, int rounds, int *batches, int *matching)
{
    const char *p = log + from;
    char want[32];
    snprintf(want, sizeof want, " rounds=%d ", rounds);
    *batches = *matching = 0;
    while ((p = strstr(p, "\"event\":\"loop.batch\""))) {
        const char *end = strchr(p, '\n');
        char line[512];
        size_t len = end ? (size_t)(end - p) : strlen(p);
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        (*batches)++;
        if (strstr(line, want))
            (*matching)++;
        p += len;
    }
}

Test(shelf, one_redis_round_trip_per_batch_once_state_is_known)
{
    const char *const debug_env[] = {FF_TEST_NOW_ENV, "FOOTFALL_LOG_LEVEL=debug",
                                     "FOOTFALL_BATCH_SIZE=50", NULL};
    char id[32], shelf[16];
    int batches, matching;
    size_t mark;
    char *log;

    ff_env_start(&env, 1, NULL);
    int p = ff_env_proc(&env, "shelf", debug_env);
    /* Phase 1: 20 shelves seen for the first time: read, then write. */
    for (int s = 0; s < 20; s++) {
        snprintf(id, sizeof id, "a%d", s);
        snprintf(shelf, sizeof shelf, "B%d", s);
        reading(0, id, "S7", shelf, "K9", "books", T0, 30, 40);
    }
    ff_env_flush(&env);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);
    log = ff_env_proc_log(&env, p);
    mark = strlen(log);
    count_batches(log, 0, 2, &batches, &matching);
    cr_assert_gt(batches, 0);
    cr_assert_eq(matching, batches, "a batch of unknown shelves takes 2 round trips");
    free(log);

    /* Phase 2: 400 more readings of the same shelves, no transition. */
    for (int i = 1; i <= 20; i++) {
        for (int s = 0; s < 20; s++) {
            snprintf(id, sizeof id, "b%d-%d", i, s);
            snprintf(shelf, sizeof shelf, "B%d", s);
            reading(0, id, "S7", shelf, "K9", "books", T0 + i * 1000, 30 - (i % 2), 40);
        }
    }
    ff_env_flush(&env);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);
    log = ff_env_proc_log(&env, p);
    count_batches(log, mark, 1, &batches, &matching);
    cr_assert_geq(batches, 8, "400 records in batches of at most 50 (%d batches)", batches);
    cr_assert_eq(matching, batches, "each batch of known shelves takes exactly 1 round trip");
    free(log);
    cr_assert_eq(ff_env_proc_stop(&env, p, 15), 0);
}

Test(shelf, a_restart_resumes_from_the_committed_offsets_without_duplicates)
{
    static const int64_t q[] = {40, 40, 40, 5, 5, 5, 40, 40};
    char id[32];
    ff_msg_t *msgs;
    size_t n;

    ff_env_start(&env, 1, NULL);
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "r%d", i);
        reading(0, id, "S1", "A1", "K1", "shoes", T0 + i * 60000, q[i], 40);
    }
    ff_env_flush(&env);
    int p = ff_env_proc(&env, "shelf", proc_env);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);
    cr_assert_eq(ff_env_proc_stop(&env, p, 15), 0);

    for (int i = 5; i < 8; i++) {
        snprintf(id, sizeof id, "r%d", i);
        reading(0, id, "S1", "A1", "K1", "shoes", T0 + i * 60000, q[i], 40);
    }
    ff_env_flush(&env);
    p = ff_env_proc(&env, "shelf", proc_env);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);
    n = ff_env_read_all(&env, "triggers.stock-alert", &msgs);
    cr_assert_eq(n, 2, "LOW then RESTOCKED, each once (got %zu)", n);
    cr_assert(strstr(msgs[0].json, "\"trigger_id\":\"shelf.events:0:4:STOCK_ALERT\""), "%s",
              msgs[0].json);
    cr_assert(strstr(msgs[1].json, "\"trigger_id\":\"shelf.events:0:7:STOCK_ALERT\""), "%s",
              msgs[1].json);
    ff_env_msgs_free(msgs, n);
    cr_assert_eq(ff_env_proc_stop(&env, p, 15), 0);
    char *log = ff_env_proc_log(&env, p);
    cr_assert(strstr(log, "consumed=3 "), "the second run read only the 3 new records");
    free(log);
}

/* 8 shelves of one store read 9 times, a round a batch (batches of 8):
 * 40, 40, 40, 5, 5, 5, 40, 40, 40. Every shelf goes LOW at its 5th reading
 * (median of 40, 5, 5) and RESTOCKED at its 8th, once each, whatever the
 * processor kept in its state cache between batches. */
static void cache_rounds(const char *cache_size_env)
{
    const char *const cache_env[] = {FF_TEST_NOW_ENV, cache_size_env, "FOOTFALL_BATCH_SIZE=8",
                                     NULL};
    static const int64_t q[] = {40, 40, 40, 5, 5, 5, 40, 40, 40};
    char id[32], shelf[16], sku[16], key[64], want[64];
    ff_msg_t *msgs;
    size_t n;

    ff_env_start(&env, 1, NULL);
    for (int r = 0; r < 9; r++) {
        for (int s = 0; s < 8; s++) {
            snprintf(id, sizeof id, "c%d-%d", r, s);
            snprintf(shelf, sizeof shelf, "A%d", s);
            snprintf(sku, sizeof sku, "K%d", s);
            reading(0, id, "S1", shelf, sku, "shoes", T0 + r * 60000, q[r], 40);
        }
    }
    ff_env_flush(&env);
    int p = ff_env_proc(&env, "shelf", cache_env);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);
    n = ff_env_read_all(&env, "triggers.stock-alert", &msgs);
    cr_assert_eq(n, 16, "every shelf goes LOW then RESTOCKED, once each (got %zu)", n);
    for (size_t i = 0; i < n; i++) {
        int low = i < 8, s = (int)(i % 8);
        snprintf(want, sizeof want, "\"trigger_id\":\"shelf.events:0:%d:STOCK_ALERT\"",
                 (low ? 4 : 7) * 8 + s);
        cr_assert(strstr(msgs[i].json, want), "alert %zu: want %s in %s", i, want, msgs[i].json);
        cr_assert(strstr(msgs[i].json, low ? "\"level\":\"LOW\"" : "\"level\":\"RESTOCKED\""),
                  "%s", msgs[i].json);
    }
    ff_env_msgs_free(msgs, n);
    for (int s = 0; s < 8; s++) {
        snprintf(key, sizeof key, "ff:{s:S1}:shelf:A%d:K%d", s, s);
        cr_assert_str_eq(ff_env_hget(&env, key, "qty"), "40", "%s", key);
        cr_assert_str_eq(ff_env_hget(&env, key, "level"), "OK", "%s", key);
    }
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:catstock", "shoes"), "320",
                     "8 shelves of 40 on the category's count");
    cr_assert_eq(ff_env_proc_stop(&env, p, 15), 0);
}

Test(shelf, shelves_kept_in_the_state_cache_across_batches_stay_exact)
{
    cache_rounds("FOOTFALL_STATE_CACHE_SIZE=100"); /* every shelf stays cached */
}

Test(shelf, a_state_cache_smaller_than_a_batch_keeps_every_shelf_exact)
{
    /* Applying a batch clears the cache of 3 part way: shelves read from
     * it must not be updated there afterwards. */
    cache_rounds("FOOTFALL_STATE_CACHE_SIZE=3");
}

Test(shelf, late_readings_do_not_move_the_state_backwards)
{
    ff_msg_t *msgs;
    size_t n;
    ff_env_start(&env, 1, NULL);
    reading(0, "r0", "S1", "A1", "K1", "shoes", T0 + 5 * 60000, 10, 40);
    reading(0, "r1", "S1", "A1", "K1", "shoes", T0 + 6 * 60000, 10, 40);
    reading(0, "r2", "S1", "A1", "K1", "shoes", T0 + 7 * 60000, 10, 40);
    /* Two readings from earlier, delivered late: empty shelf back then. */
    reading(0, "r3", "S1", "A1", "K1", "shoes", T0 + 1 * 60000, 0, 40);
    reading(0, "r4", "S1", "A1", "K1", "shoes", T0 + 2 * 60000, 0, 40);
    ff_env_flush(&env);
    int p = ff_env_proc(&env, "shelf", proc_env);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);
    n = ff_env_read_all(&env, "triggers.stock-alert", &msgs);
    cr_assert_eq(n, 0, "late zeros raise no OUT alert");
    ff_env_msgs_free(msgs, n);
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:shelf:A1:K1", "qty"), "10");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:shelf:A1:K1", "level"), "OK");
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:applied", "shelf.events:0"), "4",
                     "late records still count as applied");
    cr_assert_eq(ff_env_proc_stop(&env, p, 15), 0);
}

Test(shelf, scripts_forgotten_by_redis_are_loaded_again)
{
    ff_msg_t *msgs;
    size_t n;
    ff_env_start(&env, 1, NULL);
    int p = ff_env_proc(&env, "shelf", proc_env);
    reading(0, "r0", "S1", "A1", "K1", "shoes", T0, 40, 40);
    ff_env_flush(&env);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);
    /* As after a Redis restart or failover: the script cache is empty. */
    freeReplyObject(ff_env_redis(&env, "SCRIPT FLUSH"));
    reading(0, "r1", "S1", "A1", "K1", "shoes", T0 + 60000, 2, 40);
    reading(0, "r2", "S1", "A1", "K1", "shoes", T0 + 120000, 2, 40);
    ff_env_flush(&env);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:applied", "shelf.events:0"), "2");
    n = ff_env_read_all(&env, "triggers.stock-alert", &msgs);
    cr_assert_eq(n, 1, "the LOW alert after the flush");
    ff_env_msgs_free(msgs, n);
    cr_assert_eq(ff_env_proc_stop(&env, p, 15), 0);
    char *log = ff_env_proc_log(&env, p);
    cr_assert(strstr(log, "\"event\":\"redis.noscript\""), "the reload is logged");
    free(log);
}
