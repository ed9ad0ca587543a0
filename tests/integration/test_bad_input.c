/* Bad input never stops a processor: every malformed record in the DLQ once, with its reason; the rest applied. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_testenv.h"

static ff_env_t env;

static void teardown(void)
{
    ff_env_stop(&env);
}

TestSuite(bad_input, .fini = teardown, .timeout = 180);

#define NOW 1795435200000LL

typedef struct expect_s {
    const char *topic;
    int64_t offset;
    const char *cls;
    const char *phrase;
} expect_t;

static expect_t expects[64];
static int nexpect;
static int64_t next_offset[2]; /* geofence.events, consent.events (one partition each) */

static void bad(int t, const char *key, const void *value, size_t len, const char *cls,
                const char *phrase)
{
    const char *topic = t ? "consent.events" : "geofence.events";
    ff_env_produce_raw(&env, topic, 0, key, value, len);
    expects[nexpect++] = (expect_t){topic, next_offset[t]++, cls, phrase};
}

static void good_visit(const char *cust, int64_t ts)
{
    char id[32];
    snprintf(id, sizeof id, "g%lld", (long long)next_offset[0]);
    ff_geofence_event_t g = {id, cust, "dev", ts, "S1", FF_GEO_ENTER, {0, 0}, {0, 0}};
    ff_env_produce(&env, "geofence.events", 0, cust, FF_REC_GEOFENCE_EVENT, &g);
    next_offset[0]++;
}

static void good_consent(const char *cust, int64_t ts)
{
    char id[32];
    snprintf(id, sizeof id, "c%lld", (long long)next_offset[1]);
    ff_consent_event_t c = {id, cust, ts, FF_CH_PUSH, FF_CONSENT_GRANTED};
    ff_env_produce(&env, "consent.events", 0, cust, FF_REC_CONSENT_EVENT, &c);
    next_offset[1]++;
}

Test(bad_input, every_kind_of_bad_record_goes_to_the_dlq_once_and_the_rest_is_applied)
{
    const char *const envp[] = {"FOOTFALL_NOW=2026-11-23T12:00:00Z", "FOOTFALL_BATCH_SIZE=7",
                                NULL};
    static char huge[1 << 20];
    ff_buf_t b, trunc, big;
    ff_msg_t *msgs;
    size_t n;
    int visits = 0, consents = 0;

    ff_env_start(&env, 1, NULL);
    ff_buf_init(&b);
    ff_buf_init(&trunc);
    ff_buf_init(&big);
    memset(huge, 'x', sizeof huge);
    huge[sizeof huge - 1] = '\0';

    /* A valid record of the right type, its truncation, a record of the
     * wrong type, and a valid frame carrying a 1 MiB string. */
    ff_geofence_event_t ok = {"v", "C1", "dev", NOW - 60000, "S1", FF_GEO_ENTER, {0, 0}, {0, 0}};
    ff_codec_encode(env.codec, FF_REC_GEOFENCE_EVENT, &ok, &b);
    ff_buf_append(&trunc, b.data, b.len - 3);
    ff_shelf_reading_t wrong = {"w", "S1", "A1", "K1", "shoes", NOW, 1, 2, 0, {0, 0}};
    ff_buf_t wrongb;
    ff_buf_init(&wrongb);
    ff_codec_encode(env.codec, FF_REC_SHELF_READING, &wrong, &wrongb);
    ff_geofence_event_t bigrec = ok;
    bigrec.device_id = huge;
    ff_codec_encode(env.codec, FF_REC_GEOFENCE_EVENT, &bigrec, &big);
    const char garbage[] = "\xde\xad\xbe\xef garbage";
    const char magic[] = {2, 0, 0, 0, 2, 0};
    const char unknown[] = {0, 0x7f, 0, 0, 1, 0};

    for (int round = 0; round < 3; round++) {
        char cust[16];
        snprintf(cust, sizeof cust, "C%d", round);
        good_visit(cust, NOW - 120000 + round);
        good_consent(cust, NOW - 120000 + round);
        bad(0, cust, garbage, sizeof garbage - 1, "BAD_MAGIC", "0xde");
        bad(1, cust, "", 0, "EMPTY", "no value");
        good_visit(cust, NOW - 110000 + round);
        bad(0, cust, magic, sizeof magic, "BAD_MAGIC", "0x02");
        bad(1, cust, unknown, sizeof unknown, "UNKNOWN_SCHEMA", "unknown schema id");
        bad(0, cust, trunc.data, trunc.len, "TRUNCATED", "end");
        bad(1, cust, b.data, b.len, "SCHEMA_MISMATCH", "GeofenceEvent");
        bad(0, cust, wrongb.data, wrongb.len, "SCHEMA_MISMATCH", "ShelfReading");
        good_consent(cust, NOW - 100000 + round);
        /* Out of range values in a valid record. */
        ff_geofence_event_t neg = ok;
        neg.dwell_seconds.set = true;
        neg.dwell_seconds.v = -5;
        ff_buf_t negb;
        ff_buf_init(&negb);
        ff_codec_encode(env.codec, FF_REC_GEOFENCE_EVENT, &neg, &negb);
        bad(0, cust, negb.data, negb.len, "VALIDATION", "dwell_seconds -5 is negative");
        ff_buf_term(&negb);
        ff_geofence_event_t future = ok;
        future.ts = NOW + 3 * 86400000LL;
        ff_buf_t futb;
        ff_buf_init(&futb);
        ff_codec_encode(env.codec, FF_REC_GEOFENCE_EVENT, &future, &futb);
        bad(0, cust, futb.data, futb.len, "VALIDATION", "in the future");
        ff_buf_term(&futb);
        ff_geofence_event_t noid = ok;
        noid.customer_id = "";
        ff_buf_t noidb;
        ff_buf_init(&noidb);
        ff_codec_encode(env.codec, FF_REC_GEOFENCE_EVENT, &noid, &noidb);
        bad(0, cust, noidb.data, noidb.len, "VALIDATION", "customer_id is missing");
        ff_buf_term(&noidb);
        bad(0, NULL, b.data, b.len, "MISSING_KEY", "no key");
        if (round == 1) {
            bad(0, cust, huge, sizeof huge, "BAD_MAGIC", "0x78");
            bad(0, cust, big.data, big.len, "VALIDATION", "device_id is");
        }
        good_visit(cust, NOW - 90000 + round);
        visits += 3;
        consents += 2;
    }
    ff_env_flush(&env);
    int p = ff_env_proc(&env, "geofence", envp);
    const char *const topics[] = {"geofence.events", "consent.events", NULL};
    ff_env_wait_caught_up(&env, "footfall-geofence", topics, 90000);

    /* Every bad record exactly once, in order, with its reason. */
    int found = 0;
    const char *const dlqs[] = {"geofence.events.dlq", "consent.events.dlq"};
    for (int t = 0; t < 2; t++) {
        n = ff_env_read_all(&env, dlqs[t], &msgs);
        for (size_t i = 0; i < n; i++) {
            char off[24];
            const expect_t *x = NULL;
            int64_t o = atoll(ff_msg_header(&msgs[i], "ff.source.offset"));
            for (int k = 0; k < nexpect; k++)
                if (!strcmp(expects[k].topic, ff_msg_header(&msgs[i], "ff.source.topic")) &&
                    expects[k].offset == o)
                    x = &expects[k];
            cr_assert_not_null(x, "%s: a record that was expected to be bad (offset %lld)",
                               dlqs[t], (long long)o);
            snprintf(off, sizeof off, "%lld", (long long)o);
            cr_assert_str_eq(ff_msg_header(&msgs[i], "ff.error.class"), x->cls, "%s offset %s",
                             x->topic, off);
            cr_assert(strstr(ff_msg_header(&msgs[i], "ff.error.message"), x->phrase),
                      "%s offset %s: '%s' mentions '%s'", x->topic, off,
                      ff_msg_header(&msgs[i], "ff.error.message"), x->phrase);
            cr_assert_str_eq(ff_msg_header(&msgs[i], "ff.processor"), "footfall-geofence");
            cr_assert_str_eq(ff_msg_header(&msgs[i], "ff.source.partition"), "0");
            found++;
        }
        ff_env_msgs_free(msgs, n);
    }
    cr_assert_eq(found, nexpect, "every bad record once: %d in the DLQs, %d expected", found,
                 nexpect);

    /* Every good record applied. */
    int seen_visits = 0, seen_consents = 0;
    for (int round = 0; round < 3; round++) {
        char key[64];
        snprintf(key, sizeof key, "ff:{c:C%d}:visits", round);
        seen_visits += atoi(ff_env_hget(&env, key, "n:S1"));
        snprintf(key, sizeof key, "ff:{c:C%d}:consent", round);
        if (strncmp(ff_env_hget(&env, key, "PUSH"), "GRANTED ", 8) == 0)
            seen_consents += 2;
    }
    cr_assert_eq(seen_visits, visits, "all %d good visits applied (%d)", visits, seen_visits);
    cr_assert_eq(seen_consents, consents);
    cr_assert_eq(ff_env_proc_stop(&env, p, 15), 0, "it never stopped, and stops cleanly");
    char *log = ff_env_proc_log(&env, p);
    char want[64];
    snprintf(want, sizeof want, "dlq=%d ", nexpect);
    cr_assert(strstr(log, want), "the summary counts %d DLQ records", nexpect);
    free(log);
    ff_buf_term(&b);
    ff_buf_term(&trunc);
    ff_buf_term(&big);
    ff_buf_term(&wrongb);
}
