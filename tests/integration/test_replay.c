/* footfall replay and footfall state against the embedded stack: backfills without side effects. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_testenv.h"
#include "scenario.h"

#define CLI FF_BIN_DIR "/footfall"
#define NOW 1795435200000LL
#define NOW_ENV "FOOTFALL_NOW=2026-11-23T12:00:00Z"

static ff_env_t env;

static void teardown(void)
{
    ff_env_stop(&env);
}

TestSuite(replay, .fini = teardown, .timeout = 240);

static int shelf_emit(void *opaque, ff_rec_t type, const char *key, const void *rec, int64_t at)
{
    (void)opaque;
    (void)at;
    ff_env_produce(&env, "shelf.events", -1, key, type, rec);
    return 0;
}

/* A store day of shelf readings (about 1700 records, 2 stores). */
static void store_day(void)
{
    ff_scenario_opts_t o;
    ff_scenario_defaults("shelf-day", &o, NOW);
    o.seed = 3;
    o.stores = 2;
    o.shelves = 6;
    ff_scenario_run("shelf-day", &o, shelf_emit, NULL);
    ff_env_flush(&env);
}

static int64_t count(const char *topic)
{
    ff_msg_t *msgs;
    size_t n = ff_env_read_all(&env, topic, &msgs);
    ff_env_msgs_free(msgs, n);
    return (int64_t)n;
}

/* Runs footfall with args, env NOW and the stack's addresses. */
static int cli(const char *const *args, char **out, char **err)
{
    const char *argv[32] = {CLI};
    int n = 1;
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    const char *envp[] = {NOW_ENV, ff_env_kafka(&env), ff_env_redis_url(&env), NULL};
    return ff_run(argv, envp, out, err);
}

static void live_shelf(void)
{
    const char *const envp[] = {NOW_ENV, NULL};
    const char *const topics[] = {"shelf.events", NULL};
    int p = ff_env_proc(&env, "shelf", envp);
    ff_env_wait_caught_up(&env, "footfall-shelf", topics, 90000);
    cr_assert_eq(ff_env_proc_stop(&env, p, 15), 0);
}

static void expect_identical(const char *a, const char *b)
{
    char *out, *err;
    const char *args[] = {"state", "diff", "--prefix", a, "--prefix", b, NULL};
    int rc = cli(args, &out, &err);
    cr_assert_eq(rc, 0, "prefixes %s and %s are identical: %s%s", a, b, out, err);
    cr_assert(strstr(out, "IDENTICAL"), "%s", out);
    free(out);
    free(err);
}

Test(replay, triggers_off_rebuilds_identical_state_and_sends_nothing)
{
    char *out, *err;
    ff_env_start(&env, 2, NULL);
    store_day();
    live_shelf();
    int64_t alerts = count("triggers.stock-alert"), decisions = count("footfall.decisions");
    cr_assert_gt(alerts, 10, "the live run raised alerts (%lld)", (long long)alerts);

    const char *dry[] = {"replay", "shelf", "--state-prefix", "ff2", "--dry-run", NULL};
    cr_assert_eq(cli(dry, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "replay plan for footfall-shelf (group footfall-replay-shelf-ff2)"),
              "%s", out);
    cr_assert(strstr(out, "shelf.events"), "the plan lists the partitions: %s", out);
    free(out);
    free(err);

    const char *args[] = {"replay", "shelf", "--state-prefix", "ff2", "--triggers", "off", NULL};
    cr_assert_eq(cli(args, &out, &err), 0, "replay: %s", err);
    cr_assert(strstr(out, "replay done"), "%s", out);
    cr_assert(strstr(out, "REPLAY"), "a REPLAY decision stands for each trigger: %s", out);
    free(out);
    free(err);

    expect_identical("ff", "ff2");
    cr_assert_eq(count("triggers.stock-alert"), alerts, "no alert was sent again");
    cr_assert_eq(count("footfall.decisions"), decisions + alerts,
                 "one REPLAY decision per alert that would have been sent");

    /* The live group's offsets did not move. */
    const char *const topics[] = {"shelf.events", NULL};
    cr_assert_eq(ff_env_lag(&env, "footfall-shelf", topics), 0);

    /* The state CLI reads both namespaces. */
    const char *store[] = {"state", "store", "S001", "--prefix", "ff2", "--json", NULL};
    cr_assert_eq(cli(store, &out, &err), 0, "%s", err);
    cr_assert(!strncmp(out, "{\"store_id\":\"S001\",\"prefix\":\"ff2\",\"shelves\":[{", 44),
              "%s", out);
    free(out);
    free(err);
}

Test(replay, an_interrupted_replay_run_again_ends_like_an_uninterrupted_one)
{
    char *out, *err;
    ff_env_start(&env, 2, NULL);
    store_day();
    live_shelf();

    /* Slow batches so that the interruption lands mid-way. */
    char dir[] = "/tmp/footfall-run-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char log[128];
    snprintf(log, sizeof log, "%s/replay.log", dir);
    const char *argv[] = {CLI,          "replay",     "shelf",           "--state-prefix",
                          "ff3",        "--triggers", "off",             "--batch.size",
                          "5",          NULL};
    const char *envp[] = {NOW_ENV, ff_env_kafka(&env), ff_env_redis_url(&env), NULL};
    pid_t pid = ff_spawn(argv, envp, log);
    /* Wait until it has done some work, then Ctrl-C. */
    for (int i = 0; i < 300; i++) {
        redisReply *r = ff_env_redis(&env, "EXISTS ff3:{s:S001}:applied ff3:{s:S002}:applied");
        long long n = r->integer;
        freeReplyObject(r);
        if (n > 0)
            break;
        ff_sleep_ms(20);
    }
    int rc = ff_reap(pid, SIGINT, 30000);
    cr_assert_eq(rc, 130, "an interrupted replay says so with status 130 (got %d)", rc);
    const char *d[] = {"state", "diff", "--prefix", "ff", "--prefix", "ff3", NULL};
    cr_assert_eq(cli(d, &out, &err), 1, "half a replay is not the whole state: %s", out);
    free(out);
    free(err);

    const char *again[] = {"replay", "shelf", "--state-prefix", "ff3", NULL};
    cr_assert_eq(cli(again, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "replay done"), "%s", out);
    free(out);
    free(err);
    expect_identical("ff", "ff3");
    unlink(log);
    rmdir(dir);
}

Test(replay, triggers_replayed_never_sends_last_weeks_offers)
{
    char *out, *err;
    ff_env_start(&env, 1, NULL);
    /* A week ago: a customer browsed, a shelf had stock, the customer walked in. */
    int64_t then = NOW - 7 * 86400000LL;
    ff_shelf_reading_t r = {"s1", "S1", "A1", "K1", "shoes", then - 3600000, 10, 20, 0, {0, 0}};
    ff_web_event_t w1 = {"w1", "C1", "s", then - 86400000, FF_WEB_PRODUCT_VIEW, "K1", "shoes",
                         {0, 0}, NULL};
    ff_web_event_t w2 = w1;
    w2.event_id = "w2";
    ff_geofence_event_t g = {"g1", "C1", "d", then, "S1", FF_GEO_ENTER, {0, 0}, {0, 0}};
    ff_env_produce(&env, "shelf.events", 0, "S1", FF_REC_SHELF_READING, &r);
    ff_env_produce(&env, "web.events", 0, "C1", FF_REC_WEB_EVENT, &w1);
    ff_env_produce(&env, "web.events", 0, "C1", FF_REC_WEB_EVENT, &w2);
    ff_env_flush(&env);
    const char *order[][8] = {{"replay", "shelf", "--state-prefix", "bk", "--triggers",
                               "replayed", "--clock", "event"},
                              {"replay", "web", "--state-prefix", "bk", "--triggers", "replayed",
                               "--clock", "event"}};
    for (int i = 0; i < 2; i++) {
        const char *args[9];
        memcpy(args, order[i], sizeof order[i]);
        args[8] = NULL;
        cr_assert_eq(cli(args, &out, &err), 0, "%s", err);
        free(out);
        free(err);
    }
    ff_env_produce(&env, "geofence.events", 0, "C1", FF_REC_GEOFENCE_EVENT, &g);
    ff_env_flush(&env);
    const char *args[] = {"replay",   "geofence", "--state-prefix", "bk", "--triggers",
                          "replayed", "--clock",  "event",          NULL};
    cr_assert_eq(cli(args, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "STALE_EVENT 1"), "the visit was decided, and stale: %s", out);
    free(out);
    free(err);
    cr_assert_eq(count("triggers.drive-to-store"), 0, "no offer for last week's visit");
    cr_assert_eq(count("triggers.holdout"), 0);
    cr_assert_eq(count("triggers.store-assist"), 0);
    ff_msg_t *msgs;
    size_t n = ff_env_read_all(&env, "footfall.decisions", &msgs);
    cr_assert_eq(n, 1);
    cr_assert(strstr(msgs[0].json, "\"reason\":\"STALE_EVENT\""), "%s", msgs[0].json);
    cr_assert(strstr(msgs[0].json, "\"replayed\":true"), "%s", msgs[0].json);
    ff_env_msgs_free(msgs, n);
    /* With the event clock, the week-old intent still counted. */
    cr_assert_str_eq(ff_env_hget(&env, "bk:{c:C1}:offers", "ver"), "",
                     "nothing was offered, not even withheld");
}

Test(replay, from_a_time_starts_at_the_right_offset_on_the_embedded_broker)
{
    char *out, *err;
    ff_shelf_reading_t r = {"s", "S1", "A1", "K1", "shoes", NOW - 3600000, 10, 20, 0, {0, 0}};
    ff_buf_t b;
    ff_env_start(&env, 1, NULL);
    ff_buf_init(&b);
    ff_codec_encode(env.codec, FF_REC_SHELF_READING, &r, &b);
    /* 100 records a minute apart (record timestamps). */
    for (int i = 0; i < 100; i++)
        ff_env_produce_ts(&env, "shelf.events", 0, "S1", b.data, b.len, NOW - (100 - i) * 60000LL);
    ff_env_flush(&env);
    char from[64];
    ff_format_rfc3339(NOW - (100 - 37) * 60000LL, from, sizeof from); /* offset 37's time */
    const char *args[] = {"replay", "shelf", "--state-prefix", "t", "--from", from, "--dry-run",
                          NULL};
    cr_assert_eq(cli(args, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "shelf.events                     0           37          100           63"),
              "starts at offset 37, the first record at or after %s:\n%s", from, out);
    free(out);
    free(err);
    /* A moment after offset 37's time: 38. Before everything: 0. After: 100. */
    ff_format_rfc3339(NOW - (100 - 37) * 60000LL + 1, from, sizeof from);
    cr_assert_eq(cli(args, &out, &err), 0);
    cr_assert(strstr(out, "0           38          100"), "%s", out);
    free(out);
    free(err);
    const char *early[] = {"replay", "shelf", "--state-prefix", "t", "--from",
                           "2020-01-01T00:00:00Z", "--dry-run", NULL};
    cr_assert_eq(cli(early, &out, &err), 0);
    cr_assert(strstr(out, "0            0          100"), "%s", out);
    free(out);
    free(err);
    /* 30 s ago: after the last record (stamped a minute ago). */
    const char *late[] = {"replay", "shelf", "--state-prefix", "t", "--from", "30s", "--dry-run",
                          NULL};
    cr_assert_eq(cli(late, &out, &err), 0);
    cr_assert(strstr(out, "0          100          100            0"), "%s", out);
    free(out);
    free(err);
    ff_buf_term(&b);
}

static volatile int producing;

static void *keep_producing(void *arg)
{
    ff_shelf_reading_t r = {"more", "S9", "A1", "K1", "shoes", NOW - 60000, 10, 20, 0, {0, 0}};
    (void)arg;
    while (producing) {
        ff_env_produce(&env, "shelf.events", -1, "S9", FF_REC_SHELF_READING, &r);
        ff_sleep_ms(2);
    }
    return NULL;
}

Test(replay, producers_writing_during_a_replay_do_not_keep_it_from_finishing)
{
    char *out, *err;
    pthread_t t;
    ff_env_start(&env, 2, NULL);
    store_day();
    int64_t before = count("shelf.events");
    producing = 1;
    pthread_create(&t, NULL, keep_producing, NULL);
    const char *args[] = {"replay", "shelf", "--state-prefix", "ff5", "--batch.size", "20", NULL};
    int rc = cli(args, &out, &err);
    producing = 0;
    pthread_join(t, NULL);
    ff_env_flush(&env);
    cr_assert_eq(rc, 0, "%s", err);
    long long done = 0, total = 0;
    const char *line = strstr(out, "replay done: ");
    cr_assert(line && sscanf(line, "replay done: %lld of %lld", &done, &total) == 2, "%s", out);
    cr_assert_eq(done, total, "it read all it planned: %s", out);
    cr_assert_geq(total, before, "what was there when it started");
    cr_assert_gt(count("shelf.events"), total, "while more was written meanwhile");
    free(out);
    free(err);
}

/* footfall state diff shows the fields that differ in a form a terminal
 * shows: a SKU's intent counter names its category after 0x1f, printed as
 * \x1f, and a backslash is doubled so that no two contents read alike. */
Test(replay, state_diff_prints_control_characters_escaped)
{
    char *out, *err;
    ff_env_start(&env, 1, NULL);
    redisReply *r = ff_env_redis(&env, "HSET ff:{c:C1}:intent:20415 v:K1\x1fshoes 2 c:a\\b 1");
    freeReplyObject(r);
    r = ff_env_redis(&env, "HSET bk:{c:C1}:intent:20415 v:K1\x1fshoes 3 c:a\\b 1");
    freeReplyObject(r);
    const char *d[] = {"state", "diff", "--prefix", "ff", "--prefix", "bk", NULL};
    cr_assert_eq(cli(d, &out, &err), 1, "%s%s", out, err);
    cr_assert(strstr(out, "differs: {c:C1}:intent:20415"), "%s", out);
    cr_assert(strstr(out, "ff: [hash] c:a\\\\b=1 v:K1\\x1fshoes=2"), "%s", out);
    cr_assert(strstr(out, "bk: [hash] c:a\\\\b=1 v:K1\\x1fshoes=3"), "%s", out);
    free(out);
    free(err);
}
