/* Schema Registry: the client, the codec's lookups and footfall-shelf against a mock registry. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_config.h"
#include "ff_mock_registry.h"
#include "ff_registry.h"
#include "ff_testenv.h"
#include "ff_util.h"

#define TIMEOUT_MS 5000
#define SHELF_SUBJECT "shelf.events-value"
#define ALERT_SUBJECT "triggers.stock-alert-value"
#define AUTH_KEY "schema.registry.basic.auth.user.info"
#define UNKNOWN_ID 999
#define T0 (FF_TEST_NOW - 3600000LL) /* readings start an hour before "now" */

static ff_mock_registry_t *mock;
static ff_registry_t *client; /* one made by the test, or by ff_codec_use_registry */
static ff_codec_t *codec;
static ff_conf_t *conf;
static ff_arena_t arena;
static ff_buf_t frame;
static ff_env_t env;
static bool env_started;
static char errstr[512];
static char *log_text; /* the last processor log read; teardown frees it */

static const char *const no_writes[] = {NULL};
static const char *const shelf_topics[] = {"shelf.events", NULL};

static void setup(void)
{
    ff_arena_init(&arena, 4096);
    ff_buf_init(&frame);
    codec = ff_codec_new(errstr, sizeof errstr);
    cr_assert_not_null(codec, "%s", errstr);
}

static void teardown(void)
{
    if (env_started)
        ff_env_stop(&env);
    env_started = false;
    ff_registry_destroy(client);
    ff_codec_destroy(codec);
    ff_conf_destroy(conf);
    ff_mock_registry_destroy(mock);
    ff_buf_term(&frame);
    ff_arena_term(&arena);
    free(log_text);
}

TestSuite(registry, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers --------------------------------------------------------------- */

static void start_mock(const char *userinfo)
{
    mock = ff_mock_registry_start(userinfo);
    cr_assert_not_null(mock, "the mock registry listens on a free port");
}

static void new_client(const char *userinfo)
{
    client = ff_registry_new(ff_mock_registry_url(mock), userinfo, TIMEOUT_MS, errstr,
                             sizeof errstr);
    cr_assert_not_null(client, "%s", errstr);
}

/* The schema text footfall reads rec with (schemas/<rec>.avsc). */
static const char *schema_text(ff_rec_t rec)
{
    return ff_av_schema_json(ff_codec_reader_schema(codec, rec));
}

/* Makes `codec` use the mock through a configuration, as a processor does;
 * the client it makes lands in `client`. */
static int use_mock(const char *userinfo, const char *const *writes, int *config_error)
{
    conf = ff_conf_new("shelf");
    cr_assert_eq(ff_conf_set(conf, "schema.registry.url", ff_mock_registry_url(mock), "test",
                             errstr, sizeof errstr),
                 0, "%s", errstr);
    if (userinfo)
        cr_assert_eq(ff_conf_set(conf, AUTH_KEY, userinfo, "test", errstr, sizeof errstr), 0,
                     "%s", errstr);
    errstr[0] = '\0';
    return ff_codec_use_registry(codec, conf, writes, &client, config_error, errstr,
                                 sizeof errstr);
}

static void put_be32(char *p, int32_t id)
{
    uint32_t v = (uint32_t)id;
    p[0] = (char)(v >> 24);
    p[1] = (char)(v >> 16);
    p[2] = (char)(v >> 8);
    p[3] = (char)v;
}

static int32_t get_be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (int32_t)((uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3]);
}

/* A shelf reading framed with schema id `id`, whatever the codec's own. */
static void frame_reading(int32_t id, const char *event_id, int64_t ts, int64_t qty)
{
    ff_shelf_reading_t r = {
        .event_id = event_id, .store_id = "S1", .shelf_id = "A1", .sku = "K1",
        .category = "shoes", .ts = ts, .quantity = qty, .capacity = 40,
        .sensor = FF_SENSOR_WEIGHT,
    };
    ff_buf_reset(&frame);
    ff_codec_encode(codec, FF_REC_SHELF_READING, &r, &frame);
    cr_assert_gt(frame.len, 5);
    put_be32(frame.data + 1, id);
}

/* Decodes `frame` as a shelf reading; returns ff_codec_decode's answer. */
static int decode_frame(ff_shelf_reading_t *out, ff_dec_err_t *err, int *retry)
{
    memset(out, 0, sizeof(*out));
    *retry = -1; /* the decoder must say, whatever happens */
    return ff_codec_decode(codec, FF_REC_SHELF_READING, frame.data, frame.len, &arena, out, err,
                           retry);
}

/* ---- register -------------------------------------------------------------- */

Test(registry, one_text_has_one_id_under_every_subject_and_a_new_text_gets_a_new_id)
{
    const char *shelf = schema_text(FF_REC_SHELF_READING);
    const char *alert = schema_text(FF_REC_STOCK_ALERT);
    int retry = -1;
    int32_t first, again, other, changed;

    start_mock(NULL);
    new_client(NULL);
    first = ff_registry_register(client, SHELF_SUBJECT, shelf, &retry, errstr, sizeof errstr);
    cr_assert_eq(first, 100, "the first id the registry hands out (%s)", errstr);
    cr_assert_eq(retry, 0);
    cr_assert_eq(ff_mock_registry_subject_id(mock, SHELF_SUBJECT), first,
                 "the registry holds it under the subject the client named");

    retry = -1;
    again = ff_registry_register(client, SHELF_SUBJECT, shelf, &retry, errstr, sizeof errstr);
    cr_assert_eq(again, first, "the same schema again: the id it already has (%s)", errstr);
    cr_assert_eq(retry, 0);
    cr_assert_eq(ff_mock_registry_versions(mock, SHELF_SUBJECT), 1, "and no new version");

    other = ff_registry_register(client, "elsewhere-value", shelf, &retry, errstr, sizeof errstr);
    cr_assert_eq(other, first, "the same text under another subject: the same id (%s)", errstr);
    cr_assert_eq(ff_mock_registry_subject_id(mock, "elsewhere-value"), first);

    changed = ff_registry_register(client, SHELF_SUBJECT, alert, &retry, errstr, sizeof errstr);
    cr_assert_eq(changed, 101, "another text: a new id (%s)", errstr);
    cr_assert_eq(ff_mock_registry_versions(mock, SHELF_SUBJECT), 2);
    cr_assert_eq(ff_mock_registry_subject_id(mock, SHELF_SUBJECT), changed, "now the latest");
    cr_assert_eq(ff_mock_registry_requests(mock), 4, "one request per call");
}

Test(registry, use_registry_registers_each_written_record_under_topic_value_and_writes_its_id)
{
    static const char *const writes[] = {"topic.stock_alert", "topic.decisions", NULL};
    ff_stock_alert_t alert = {"t1", "S1", "A1", "K1", "shoes", T0, FF_LEVEL_LOW, 8, 40,
                              FF_PRIORITY_NORMAL, 0, "r4", false};
    int config_error = -1;
    int32_t alert_id, decision_id;

    start_mock(NULL);
    cr_assert_eq(use_mock(NULL, writes, &config_error), 0, "%s", errstr);
    cr_assert_not_null(client, "a client for the codec's lookups");
    alert_id = ff_mock_registry_subject_id(mock, ALERT_SUBJECT);
    decision_id = ff_mock_registry_subject_id(mock, "footfall.decisions-value");
    cr_assert_geq(alert_id, 100, "the stock alert schema is registered under " ALERT_SUBJECT);
    cr_assert_geq(decision_id, 100, "and the decision schema under footfall.decisions-value");
    cr_assert_neq(alert_id, decision_id);
    cr_assert_eq(ff_codec_writer_id(codec, FF_REC_STOCK_ALERT), alert_id);
    cr_assert_eq(ff_codec_writer_id(codec, FF_REC_DECISION), decision_id);
    cr_assert_eq(ff_codec_writer_id(codec, FF_REC_SHELF_READING), 4,
                 "a record it does not write keeps its pinned id");

    ff_codec_encode(codec, FF_REC_STOCK_ALERT, &alert, &frame);
    cr_assert_eq(frame.data[0], 0, "magic byte");
    cr_assert_eq(get_be32(frame.data + 1), alert_id, "alerts are framed with the registry's id");
}

Test(registry, without_a_url_there_is_no_client_and_the_pinned_ids_stay)
{
    int config_error = -1;
    conf = ff_conf_new("shelf");
    cr_assert_eq(ff_codec_use_registry(codec, conf, shelf_topics, &client, &config_error, errstr,
                                       sizeof errstr),
                 0, "%s", errstr);
    cr_assert_null(client);
    cr_assert_eq(config_error, 0);
    cr_assert_eq(ff_codec_writer_id(codec, FF_REC_STOCK_ALERT), 8, "schemas/ids pins it to 8");
}

/* ---- lookup ---------------------------------------------------------------- */

Test(registry, fetch_returns_exactly_the_registered_text)
{
    /* Quotes, a backslash, a newline and UTF-8 survive both JSON layers. */
    static const char odd[] = "{\"type\":\"record\",\"name\":\"Odd\",\"doc\":\"a \\\"quoted\\\" "
                              "caf\xc3\xa9 \\\\ line\\nnext\",\"fields\":[]}";
    const char *shelf = schema_text(FF_REC_SHELF_READING);
    int32_t shelf_id, odd_id;
    int retry = -1;
    char *got;

    start_mock(NULL);
    new_client(NULL);
    shelf_id = ff_mock_registry_register(mock, SHELF_SUBJECT, shelf);
    odd_id = ff_mock_registry_register(mock, "odd-value", odd);
    cr_assert_neq(shelf_id, odd_id);

    got = ff_registry_fetch(client, shelf_id, &retry, errstr, sizeof errstr);
    cr_assert_not_null(got, "%s", errstr);
    cr_assert_str_eq(got, shelf);
    cr_assert_eq(retry, 0);
    free(got);

    retry = -1;
    got = ff_registry_fetch(client, odd_id, &retry, errstr, sizeof errstr);
    cr_assert_not_null(got, "%s", errstr);
    cr_assert_str_eq(got, odd, "byte for byte");
    cr_assert_eq(retry, 0);
    free(got);
    cr_assert_eq(ff_mock_registry_fetches(mock, shelf_id), 1);
    cr_assert_eq(ff_mock_registry_fetches(mock, odd_id), 1);
}

Test(registry, the_codec_fetches_an_unknown_id_decodes_with_it_and_asks_only_once)
{
    ff_shelf_reading_t out;
    ff_dec_err_t err;
    int config_error = -1, retry;
    int32_t id;
    unsigned before;

    start_mock(NULL);
    cr_assert_eq(use_mock(NULL, no_writes, &config_error), 0, "%s", errstr);
    id = ff_mock_registry_register(mock, SHELF_SUBJECT, schema_text(FF_REC_SHELF_READING));
    cr_assert_null(ff_codec_schema(codec, id), "the codec does not know id %d yet", id);
    frame_reading(id, "e1", T0, 12);
    cr_assert_eq(get_be32(frame.data + 1), id);

    before = ff_mock_registry_requests(mock);
    cr_assert_eq(decode_frame(&out, &err, &retry), 0, "%s", err.msg);
    cr_assert_eq(retry, 0);
    cr_assert_str_eq(out.event_id, "e1");
    cr_assert_str_eq(out.store_id, "S1");
    cr_assert_str_eq(out.category, "shoes");
    cr_assert_eq(out.ts, T0);
    cr_assert_eq(out.quantity, 12);
    cr_assert_eq(out.capacity, 40);
    cr_assert_eq(ff_mock_registry_requests(mock), before + 1, "one lookup");
    cr_assert_eq(ff_mock_registry_fetches(mock, id), 1);
    cr_assert_not_null(ff_codec_schema(codec, id), "the codec keeps what it fetched");

    frame_reading(id, "e2", T0 + 1, 13);
    cr_assert_eq(decode_frame(&out, &err, &retry), 0, "%s", err.msg);
    cr_assert_str_eq(out.event_id, "e2");
    cr_assert_eq(out.quantity, 13);
    cr_assert_eq(ff_mock_registry_requests(mock), before + 1, "the second decode asks nobody");
}

/* ---- unknown id ------------------------------------------------------------ */

Test(registry, an_unknown_id_is_a_404_that_no_retry_will_fix)
{
    ff_shelf_reading_t out;
    ff_dec_err_t err;
    int config_error = -1, retry = -1;
    char *got;

    start_mock(NULL);
    new_client(NULL);
    got = ff_registry_fetch(client, UNKNOWN_ID, &retry, errstr, sizeof errstr);
    cr_assert_null(got);
    cr_assert_eq(retry, 0, "the registry answered: asking again will not help");
    cr_assert(strstr(errstr, "404"), "the message says what the registry answered: %s", errstr);
    cr_assert_eq(ff_mock_registry_fetches(mock, UNKNOWN_ID), 1);
    ff_registry_destroy(client);
    client = NULL;

    cr_assert_eq(use_mock(NULL, no_writes, &config_error), 0, "%s", errstr);
    frame_reading(UNKNOWN_ID, "e1", T0, 12);
    cr_assert_eq(decode_frame(&out, &err, &retry), -1);
    cr_assert_eq(err.status, FF_DEC_UNKNOWN_SCHEMA, "status %d: %s", err.status, err.msg);
    cr_assert_eq(retry, 0, "a record nobody can read goes to the DLQ, it does not stall");
    cr_assert(strstr(err.msg, "999"), "%s", err.msg);
    cr_assert_eq(ff_mock_registry_fetches(mock, UNKNOWN_ID), 2, "the codec did ask");
}

/* ---- authentication -------------------------------------------------------- */

Test(registry, wrong_or_missing_credentials_name_the_setting_and_are_not_retried)
{
    static const char *const wrong[] = {"footfall:wrong", "someone:s3cret", NULL};
    const char *shelf = schema_text(FF_REC_SHELF_READING);
    int32_t id;
    int retry;
    char *got;

    start_mock("footfall:s3cret");
    id = ff_mock_registry_register(mock, SHELF_SUBJECT, shelf);
    for (int i = 0; i < 3; i++) {
        new_client(wrong[i]);
        retry = -1;
        cr_assert_eq(ff_registry_register(client, SHELF_SUBJECT, shelf, &retry, errstr,
                                          sizeof errstr),
                     -1, "refused with %s", wrong[i] ? wrong[i] : "no credentials");
        cr_assert_eq(retry, 0);
        cr_assert(strstr(errstr, AUTH_KEY), "names the setting: %s", errstr);
        retry = -1;
        got = ff_registry_fetch(client, id, &retry, errstr, sizeof errstr);
        cr_assert_null(got);
        cr_assert_eq(retry, 0);
        cr_assert(strstr(errstr, AUTH_KEY), "names the setting: %s", errstr);
        ff_registry_destroy(client);
        client = NULL;
    }
    cr_assert_eq(ff_mock_registry_requests(mock), 6, "each was refused by the registry");

    new_client("footfall:s3cret");
    retry = -1;
    cr_assert_eq(ff_registry_register(client, SHELF_SUBJECT, shelf, &retry, errstr,
                                      sizeof errstr),
                 id, "%s", errstr);
    cr_assert_eq(retry, 0);
    got = ff_registry_fetch(client, id, &retry, errstr, sizeof errstr);
    cr_assert_not_null(got, "%s", errstr);
    cr_assert_str_eq(got, shelf);
    free(got);
}

Test(registry, use_registry_with_wrong_credentials_is_a_configuration_error)
{
    static const char *const writes[] = {"topic.stock_alert", NULL};
    int config_error = -1;

    start_mock("footfall:s3cret");
    cr_assert_eq(use_mock("footfall:wrong", writes, &config_error), -1);
    cr_assert_eq(config_error, 1, "a setting is wrong: %s", errstr);
    cr_assert(strstr(errstr, AUTH_KEY), "%s", errstr);
    cr_assert_null(client);
    cr_assert_eq(ff_mock_registry_versions(mock, ALERT_SUBJECT), 0);
    cr_assert_eq(ff_codec_writer_id(codec, FF_REC_STOCK_ALERT), 8, "still the pinned id");

    /* The right credentials register the schema. */
    ff_conf_destroy(conf);
    conf = NULL;
    cr_assert_eq(use_mock("footfall:s3cret", writes, &config_error), 0, "%s", errstr);
    cr_assert_eq(ff_codec_writer_id(codec, FF_REC_STOCK_ALERT),
                 ff_mock_registry_subject_id(mock, ALERT_SUBJECT));
}

/* ---- registry down ---------------------------------------------------------- */

Test(registry, a_server_error_is_worth_retrying)
{
    const char *shelf = schema_text(FF_REC_SHELF_READING);
    int32_t id;
    int retry = -1;
    char *got;

    start_mock(NULL);
    new_client(NULL);
    id = ff_mock_registry_register(mock, SHELF_SUBJECT, shelf);
    ff_mock_registry_fail(mock, 503);
    cr_assert_eq(ff_registry_register(client, SHELF_SUBJECT, shelf, &retry, errstr,
                                      sizeof errstr),
                 -1);
    cr_assert_eq(retry, 1, "%s", errstr);
    cr_assert(strstr(errstr, "503"), "%s", errstr);
    retry = -1;
    cr_assert_null(ff_registry_fetch(client, id, &retry, errstr, sizeof errstr));
    cr_assert_eq(retry, 1, "%s", errstr);

    ff_mock_registry_fail(mock, 0);
    got = ff_registry_fetch(client, id, &retry, errstr, sizeof errstr);
    cr_assert_not_null(got, "%s", errstr);
    cr_assert_str_eq(got, shelf);
    free(got);
}

Test(registry, a_stopped_registry_is_worth_retrying_and_the_codec_pauses_rather_than_rejects)
{
    const char *shelf = schema_text(FF_REC_SHELF_READING);
    ff_shelf_reading_t out;
    ff_dec_err_t err;
    int config_error = -1, retry = -1;
    int32_t id;

    start_mock(NULL);
    cr_assert_eq(use_mock(NULL, no_writes, &config_error), 0, "%s", errstr);
    id = ff_mock_registry_register(mock, SHELF_SUBJECT, shelf);
    ff_mock_registry_stop(mock);

    cr_assert_null(ff_registry_fetch(client, id, &retry, errstr, sizeof errstr));
    cr_assert_eq(retry, 1, "nobody answered: try again later (%s)", errstr);
    retry = -1;
    cr_assert_eq(ff_registry_register(client, SHELF_SUBJECT, shelf, &retry, errstr,
                                      sizeof errstr),
                 -1);
    cr_assert_eq(retry, 1, "%s", errstr);

    frame_reading(id, "e1", T0, 12);
    cr_assert_eq(decode_frame(&out, &err, &retry), -1);
    cr_assert_eq(err.status, FF_DEC_UNKNOWN_SCHEMA, "status %d: %s", err.status, err.msg);
    cr_assert_eq(retry, 1, "the processor must pause, not dead-letter the record");

    /* Back again: the failure was not remembered as "no such id". */
    cr_assert_eq(ff_mock_registry_restart(mock), 0, "the mock listens on its port again");
    cr_assert_eq(decode_frame(&out, &err, &retry), 0, "%s", err.msg);
    cr_assert_eq(retry, 0);
    cr_assert_str_eq(out.event_id, "e1");
    cr_assert_eq(ff_mock_registry_fetches(mock, id), 1, "asked once it was back");
}

Test(registry, use_registry_with_the_registry_down_is_not_a_configuration_error)
{
    static const char *const writes[] = {"topic.stock_alert", NULL};
    int config_error = -1;

    start_mock(NULL);
    ff_mock_registry_stop(mock);
    cr_assert_eq(use_mock(NULL, writes, &config_error), -1);
    cr_assert_eq(config_error, 0, "the registry could not be reached: %s", errstr);
    cr_assert(strstr(errstr, "schema registry"), "%s", errstr);
    cr_assert_null(client);
}

/* ---- footfall-shelf end to end ----------------------------------------------- */

/* footfall-shelf with the mock's URL and extra (may be NULL) as environment. */
static int start_shelf(const char *extra)
{
    char url_env[160];
    snprintf(url_env, sizeof url_env, "FOOTFALL_SCHEMA_REGISTRY_URL=%s",
             ff_mock_registry_url(mock));
    const char *const proc_env[] = {FF_TEST_NOW_ENV, "FOOTFALL_BATCH_TIMEOUT=50ms", url_env,
                                    extra, NULL};
    return ff_env_proc(&env, "shelf", proc_env);
}

/* The exit status of a processor that is expected to stop by itself. */
static int wait_exit(int p)
{
    int status = ff_reap(env.stack.procs[p].pid, 0, 30000);
    env.stack.procs[p].pid = 0;
    return status;
}

/* The whole log of processor p so far (valid until the next call). */
static const char *proc_log(int p)
{
    free(log_text);
    log_text = ff_env_proc_log(&env, p);
    return log_text;
}

static bool log_has(int p, const char *what)
{
    return strstr(proc_log(p), what) != NULL;
}

Test(registry, shelf_reads_registry_ids_and_frames_its_alerts_with_the_id_it_registered)
{
    static const int64_t qty[] = {40, 39, 38, 8, 7};
    const char *shelf = schema_text(FF_REC_SHELF_READING);
    char event_id[16];
    ff_msg_t *msgs;
    size_t n;
    int32_t shelf_id, alert_id;

    start_mock(NULL);
    ff_env_start(&env, 1, NULL);
    env_started = true;
    shelf_id = ff_mock_registry_register(mock, SHELF_SUBJECT, shelf);
    for (int i = 0; i < 5; i++) {
        snprintf(event_id, sizeof event_id, "r%d", i);
        frame_reading(shelf_id, event_id, T0 + i * 60000, qty[i]);
        ff_env_produce_raw(&env, "shelf.events", 0, "S1", frame.data, frame.len);
    }
    ff_env_flush(&env);

    int p = start_shelf(NULL);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);

    alert_id = ff_mock_registry_subject_id(mock, ALERT_SUBJECT);
    cr_assert_geq(alert_id, 100, "footfall-shelf registered " ALERT_SUBJECT);
    cr_assert_neq(alert_id, shelf_id);
    cr_assert_eq(ff_mock_registry_versions(mock, ALERT_SUBJECT), 1);
    cr_assert_eq(ff_mock_registry_fetches(mock, shelf_id), 1,
                 "it looked the readings' id up once and kept it");

    n = ff_env_read_all(&env, "shelf.events.dlq", &msgs);
    cr_assert_eq(n, 0, "every reading decoded (%zu in the DLQ: %s)", n,
                 n ? ff_msg_header(&msgs[0], "ff.error.message") : "");
    ff_env_msgs_free(msgs, n);
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:applied", "shelf.events:0"), "4",
                     "all five readings applied");

    /* Our reader learns the alert's schema from the registry too. */
    new_client(NULL);
    ff_codec_set_fetcher(env.codec, ff_registry_fetch, client);
    n = ff_env_read_all(&env, "triggers.stock-alert", &msgs);
    cr_assert_eq(n, 1, "median(38,8,7) = 8 is LOW: one alert (got %zu)", n);
    cr_assert_geq(msgs[0].value_len, 5);
    cr_assert_eq(msgs[0].value[0], 0, "magic byte");
    cr_assert_eq(get_be32(msgs[0].value + 1), alert_id,
                 "framed with the id of " ALERT_SUBJECT " (%d), not the pinned 8",
                 get_be32(msgs[0].value + 1));
    cr_assert_not_null(msgs[0].json, "the alert decodes with the registry's schema");
    cr_assert(strstr(msgs[0].json, "\"trigger_id\":\"shelf.events:0:4:STOCK_ALERT\""), "%s",
              msgs[0].json);
    cr_assert(strstr(msgs[0].json, "\"level\":\"LOW\",\"quantity\":8"), "%s", msgs[0].json);
    cr_assert(strstr(msgs[0].json, "\"source_event_id\":\"r4\""), "%s", msgs[0].json);
    ff_env_msgs_free(msgs, n);

    cr_assert_eq(ff_env_proc_stop(&env, p, 15), 0);
}

Test(registry, shelf_exits_1_when_the_registry_cannot_be_reached_at_start)
{
    const char *log;
    start_mock(NULL);
    ff_mock_registry_stop(mock);
    ff_env_start(&env, 1, NULL);
    env_started = true;

    int p = start_shelf(NULL);
    cr_assert_eq(wait_exit(p), 1, "not a configuration error: the registry is down");
    log = proc_log(p);
    cr_assert(strstr(log, "schema registry"), "the log names the registry: %s", log);
    cr_assert(strstr(log, ff_mock_registry_url(mock)), "and its URL: %s", log);
    cr_assert(strstr(log, "onnect"), "and says it could not connect: %s", log);
}

Test(registry, shelf_exits_2_with_wrong_registry_credentials)
{
    const char *log;
    start_mock("footfall:s3cret");
    ff_env_start(&env, 1, NULL);
    env_started = true;

    int p = start_shelf("FOOTFALL_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO=footfall:wrong");
    cr_assert_eq(wait_exit(p), 2, "wrong credentials are a configuration error");
    cr_assert_geq(ff_mock_registry_requests(mock), 1, "it did ask the registry");
    cr_assert_eq(ff_mock_registry_versions(mock, ALERT_SUBJECT), 0);
    log = proc_log(p);
    cr_assert(strstr(log, AUTH_KEY), "the log names the setting to fix: %s", log);
}

Test(registry, shelf_pauses_while_the_registry_is_down_and_resumes_without_dead_letters)
{
    static const int64_t qty[] = {40, 39, 38, 8, 7};
    const char *shelf = schema_text(FF_REC_SHELF_READING);
    char event_id[16];
    ff_msg_t *msgs;
    size_t n;
    int32_t shelf_id;
    int64_t deadline;
    const char *log;

    start_mock(NULL);
    ff_env_start(&env, 1, NULL);
    env_started = true;
    int p = start_shelf("FOOTFALL_BACKOFF_MAX=200ms");
    frame_reading(ff_codec_writer_id(codec, FF_REC_SHELF_READING), "r0", T0, qty[0]);
    ff_env_produce_raw(&env, "shelf.events", 0, "S1", frame.data, frame.len);
    ff_env_flush(&env);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);

    /* A schema the processor has not seen, while the registry is away. */
    ff_mock_registry_stop(mock);
    shelf_id = ff_mock_registry_register(mock, SHELF_SUBJECT, shelf);
    for (int i = 1; i < 5; i++) {
        snprintf(event_id, sizeof event_id, "r%d", i);
        frame_reading(shelf_id, event_id, T0 + i * 60000, qty[i]);
        ff_env_produce_raw(&env, "shelf.events", 0, "S1", frame.data, frame.len);
    }
    ff_env_flush(&env);
    deadline = ff_mono_ms() + 30000;
    while (!log_has(p, "\"event\":\"outage.pause\"") && ff_mono_ms() < deadline)
        ff_sleep_ms(100);
    cr_assert(log_has(p, "schema registry unavailable"), "it pauses on the registry");
    ff_sleep_ms(1000); /* a few retries */
    cr_assert_eq(ff_env_lag(&env, "footfall-shelf", shelf_topics), 4,
                 "nothing is committed while the registry is down");
    n = ff_env_read_all(&env, "shelf.events.dlq", &msgs);
    cr_assert_eq(n, 0, "nothing is dead-lettered for an outage");
    ff_env_msgs_free(msgs, n);

    cr_assert_eq(ff_mock_registry_restart(mock), 0);
    ff_env_wait_caught_up(&env, "footfall-shelf", shelf_topics, 60000);
    n = ff_env_read_all(&env, "shelf.events.dlq", &msgs);
    cr_assert_eq(n, 0, "every held reading decoded once the registry was back (%zu: %s)", n,
                 n ? ff_msg_header(&msgs[0], "ff.error.message") : "");
    ff_env_msgs_free(msgs, n);
    cr_assert_str_eq(ff_env_hget(&env, "ff:{s:S1}:applied", "shelf.events:0"), "4");
    cr_assert_eq(ff_mock_registry_fetches(mock, shelf_id), 1);
    new_client(NULL);
    ff_codec_set_fetcher(env.codec, ff_registry_fetch, client);
    n = ff_env_read_all(&env, "triggers.stock-alert", &msgs);
    cr_assert_eq(n, 1, "the LOW alert, once (got %zu)", n);
    cr_assert(msgs[0].json && strstr(msgs[0].json, "\"source_event_id\":\"r4\""), "%s",
              msgs[0].json ? msgs[0].json : "(does not decode)");
    ff_env_msgs_free(msgs, n);

    cr_assert_eq(ff_env_proc_stop(&env, p, 15), 0);
    log = proc_log(p);
    cr_assert(strstr(log, "outage_pauses=1 "), "one pause: %s", log);
    /* Last: the summary's count of records read, which the shelf tests rely on. */
    cr_assert(strstr(log, "consumed=5 "), "5 records were read, however often they were "
                                          "decoded again during the outage: %s",
              strstr(log, "proc.summary") ? strstr(log, "proc.summary") : log);
}
