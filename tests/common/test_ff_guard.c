/* Tests of ff_guard: each guardrail, their order, store-local time, offer codes, settings. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ff_config.h"
#include "ff_customer.h"
#include "ff_guard.h"
#include "ff_records.h"
#include "ff_util.h"

#define MINUTE_MS 60000LL
#define HOUR_MS (60 * MINUTE_MS)
#define MAX_AGE_MS (10 * MINUTE_MS)
#define STORE_INTERVAL_MS (7 * FF_DAY_MS)
#define EST (-5 * 60)       /* -05:00 */
#define IST (5 * 60 + 30)   /* +05:30 */
#define QUIET_START (21 * 60)
#define QUIET_END (8 * 60)
#define NIDS 10000

/* S1, S2 and S4 at -05:00, S3 at +05:30; every other store at UTC. */
static ff_store_tz_t zones[] = {
    {(char *)"S1", EST},
    {(char *)"S2", EST},
    {(char *)"S3", IST},
    {(char *)"S4", EST},
};

static ff_arena_t arena;
static ff_customer_t cust;
static ff_guard_conf_t g;
static char detail[256];

static void setup(void)
{
    ff_arena_init(&arena, 4096);
    ff_customer_init(&cust, "C1", &arena);
    g = (ff_guard_conf_t){
        .max_age_ms = MAX_AGE_MS,
        .daily_cap = 1,
        .store_interval_ms = STORE_INTERVAL_MS,
        .quiet_start = QUIET_START,
        .quiet_end = QUIET_END,
        .holdout_percent = 0,
        .holdout_salt = "footfall",
        .tz = zones,
        .ntz = FF_ARRAY_LEN(zones),
        .tz_default = 0,
    };
    memset(detail, 'x', sizeof detail - 1);
    detail[sizeof detail - 1] = '\0';
}

static void teardown(void)
{
    ff_arena_term(&arena);
}

TestSuite(ff_guard_fresh, .init = setup, .fini = teardown);
TestSuite(ff_guard_consent, .init = setup, .fini = teardown);
TestSuite(ff_guard_quiet, .init = setup, .fini = teardown);
TestSuite(ff_guard_cap, .init = setup, .fini = teardown);
TestSuite(ff_guard_holdout, .init = setup, .fini = teardown);
TestSuite(ff_guard_order, .init = setup, .fini = teardown);
TestSuite(ff_guard_time, .init = setup, .fini = teardown);
TestSuite(ff_offer_code, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------------ */

static int64_t at(const char *rfc3339)
{
    int64_t ms = 0;
    cr_assert_eq(ff_parse_time_ms(rfc3339, &ms), 0, "test time '%s' should parse", rfc3339);
    return ms;
}

/* The instant of hh:mm store-local time on the local date `day` ("2026-11-23") at tz. */
static int64_t local(const char *day, int hh, int mm, int tz)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%sT00:00:00Z", day);
    return at(buf) + ((int64_t)(hh * 60 + mm) - tz) * MINUTE_MS;
}

static const char *reason_name(int reason)
{
    switch (reason) {
    case FF_REASON_ELIGIBLE: return "ELIGIBLE";
    case FF_REASON_FREQUENCY_CAP: return "FREQUENCY_CAP";
    case FF_REASON_QUIET_HOURS: return "QUIET_HOURS";
    case FF_REASON_NO_CONSENT: return "NO_CONSENT";
    case FF_REASON_HOLDOUT: return "HOLDOUT";
    case FF_REASON_STALE_EVENT: return "STALE_EVENT";
    default: return "another reason";
    }
}

/* Checks an offer at store for an event at ts seen at now, and asserts the reason. */
#define assert_reason(store, ts, now, expected)                                                  \
    do {                                                                                         \
        int got_ = ff_guard_check(&g, &cust, (store), (ts), (now), detail, sizeof detail);       \
        cr_assert_eq(got_, (expected), "expected %s, got %s (%s)", reason_name(expected),        \
                     reason_name(got_), detail);                                                 \
        if ((expected) == FF_REASON_ELIGIBLE)                                                    \
            cr_assert_str_empty(detail, "no detail when eligible");                              \
        else                                                                                     \
            cr_assert_str_not_empty(detail, "a suppression says why");                           \
    } while (0)

/* An event checked as soon as it happens. */
#define assert_reason_now(store, ts, expected) assert_reason(store, ts, ts, expected)

static ff_offer_state_t *offered(const char *trigger_id, const char *store_id, int64_t ts,
                                 bool control)
{
    ff_offer_state_t *o = ff_customer_add_offer(&cust);
    o->trigger_id = trigger_id;
    o->kind = FF_OFFER_NEARBY;
    o->store_id = store_id;
    o->sku = "K1";
    o->category = "shoes";
    o->code = "FF-00000000";
    o->ts = ts;
    o->expires_at = ts + 2 * HOUR_MS;
    o->local_day = ff_local_day(ts, ff_guard_store_tz(&g, store_id));
    o->control = control;
    return o;
}

static void consent(ff_consent_channel_t ch, ff_consent_status_t status, int64_t ts)
{
    cust.consent[ch] = (ff_consent_state_t){.set = true, .status = status, .ts = ts};
}

/* ---- freshness ---------------------------------------------------------------- */

Test(ff_guard_fresh, an_event_exactly_max_age_old_is_fresh)
{
    int64_t ts = at("2026-11-23T12:00:00Z");
    cr_assert(ff_guard_fresh(&g, ts, ts + MAX_AGE_MS));
    assert_reason("S9", ts, ts + MAX_AGE_MS, FF_REASON_ELIGIBLE);
}

Test(ff_guard_fresh, an_event_one_millisecond_older_than_max_age_is_stale)
{
    int64_t ts = at("2026-11-23T12:00:00Z");
    cr_assert_not(ff_guard_fresh(&g, ts, ts + MAX_AGE_MS + 1));
    assert_reason("S9", ts, ts + MAX_AGE_MS + 1, FF_REASON_STALE_EVENT);
}

Test(ff_guard_fresh, an_event_seen_as_it_happens_is_fresh)
{
    int64_t ts = at("2026-11-23T12:00:00Z");
    cr_assert(ff_guard_fresh(&g, ts, ts));
}

/* ---- consent ------------------------------------------------------------------ */

Test(ff_guard_consent, no_record_allows)
{
    cr_assert(ff_guard_consent_ok(&cust));
}

Test(ff_guard_consent, push_granted_allows)
{
    consent(FF_CH_PUSH, FF_CONSENT_GRANTED, 5);
    cr_assert(ff_guard_consent_ok(&cust));
}

Test(ff_guard_consent, push_denied_blocks)
{
    consent(FF_CH_PUSH, FF_CONSENT_DENIED, 5);
    cr_assert_not(ff_guard_consent_ok(&cust));
}

Test(ff_guard_consent, push_revoked_blocks)
{
    consent(FF_CH_PUSH, FF_CONSENT_REVOKED, 5);
    cr_assert_not(ff_guard_consent_ok(&cust));
}

Test(ff_guard_consent, all_revoked_alone_blocks)
{
    consent(FF_CH_ALL, FF_CONSENT_REVOKED, 5);
    cr_assert_not(ff_guard_consent_ok(&cust));
}

Test(ff_guard_consent, all_revoked_then_push_granted_later_allows)
{
    consent(FF_CH_ALL, FF_CONSENT_REVOKED, 5);
    consent(FF_CH_PUSH, FF_CONSENT_GRANTED, 10);
    cr_assert(ff_guard_consent_ok(&cust), "the latest of PUSH (t10) and ALL (t5) wins");
}

Test(ff_guard_consent, push_granted_then_all_revoked_later_blocks)
{
    consent(FF_CH_PUSH, FF_CONSENT_GRANTED, 5);
    consent(FF_CH_ALL, FF_CONSENT_REVOKED, 10);
    cr_assert_not(ff_guard_consent_ok(&cust), "the latest of PUSH (t5) and ALL (t10) wins");
}

Test(ff_guard_consent, email_denied_alone_does_not_block_push)
{
    consent(FF_CH_EMAIL, FF_CONSENT_DENIED, 5);
    consent(FF_CH_SMS, FF_CONSENT_REVOKED, 6);
    cr_assert(ff_guard_consent_ok(&cust), "EMAIL and SMS say nothing about PUSH");
}

Test(ff_guard_consent, an_opted_out_customer_is_suppressed_with_no_consent)
{
    int64_t ts = at("2026-11-23T12:00:00Z");
    consent(FF_CH_PUSH, FF_CONSENT_DENIED, ts - FF_DAY_MS);
    assert_reason_now("S9", ts, FF_REASON_NO_CONSENT);
}

/* ---- quiet hours (store-local: S1 is at -05:00) --------------------------------- */

Test(ff_guard_quiet, at_21_00_local_is_quiet)
{
    assert_reason_now("S1", local("2026-11-23", 21, 0, EST), FF_REASON_QUIET_HOURS);
}

Test(ff_guard_quiet, at_20_59_local_is_not_quiet)
{
    assert_reason_now("S1", local("2026-11-23", 20, 59, EST), FF_REASON_ELIGIBLE);
}

Test(ff_guard_quiet, at_07_59_local_is_quiet)
{
    assert_reason_now("S1", local("2026-11-23", 7, 59, EST), FF_REASON_QUIET_HOURS);
}

Test(ff_guard_quiet, at_08_00_local_is_not_quiet)
{
    assert_reason_now("S1", local("2026-11-23", 8, 0, EST), FF_REASON_ELIGIBLE);
}

Test(ff_guard_quiet, midnight_local_is_quiet)
{
    assert_reason_now("S1", local("2026-11-23", 0, 0, EST), FF_REASON_QUIET_HOURS);
}

Test(ff_guard_quiet, quiet_hours_follow_the_store_local_time_not_utc)
{
    /* 22:00Z is quiet in a UTC store, 17:00 at S1 and 03:30 at S3. */
    int64_t ts = at("2026-11-23T22:00:00Z");
    assert_reason_now("S9", ts, FF_REASON_QUIET_HOURS);
    assert_reason_now("S1", ts, FF_REASON_ELIGIBLE);
    assert_reason_now("S3", ts, FF_REASON_QUIET_HOURS);
    /* 14:00Z: 19:30 at S3, not quiet. */
    assert_reason_now("S3", at("2026-11-23T14:00:00Z"), FF_REASON_ELIGIBLE);
}

Test(ff_guard_quiet, equal_start_and_end_means_no_quiet_hours)
{
    g.quiet_start = g.quiet_end = QUIET_START;
    assert_reason_now("S9", at("2026-11-23T21:00:00Z"), FF_REASON_ELIGIBLE);
    assert_reason_now("S9", at("2026-11-24T03:00:00Z"), FF_REASON_ELIGIBLE);
    g.quiet_start = g.quiet_end = 0;
    assert_reason_now("S9", at("2026-11-25T00:00:00Z"), FF_REASON_ELIGIBLE);
}

Test(ff_guard_quiet, a_window_that_does_not_wrap_midnight)
{
    g.quiet_start = 13 * 60;
    g.quiet_end = 14 * 60;
    assert_reason_now("S9", at("2026-11-23T12:59:00Z"), FF_REASON_ELIGIBLE);
    assert_reason_now("S9", at("2026-11-23T13:00:00Z"), FF_REASON_QUIET_HOURS);
    assert_reason_now("S9", at("2026-11-23T13:59:00Z"), FF_REASON_QUIET_HOURS);
    assert_reason_now("S9", at("2026-11-23T14:00:00Z"), FF_REASON_ELIGIBLE);
    assert_reason_now("S9", at("2026-11-23T22:00:00Z"), FF_REASON_ELIGIBLE);
    assert_reason_now("S9", at("2026-11-24T03:00:00Z"), FF_REASON_ELIGIBLE);
}

/* ---- caps --------------------------------------------------------------------- */

Test(ff_guard_cap, no_earlier_offer_means_no_cap)
{
    assert_reason_now("S1", local("2026-11-23", 12, 0, EST), FF_REASON_ELIGIBLE);
}

Test(ff_guard_cap, an_offer_at_the_same_store_exactly_the_interval_earlier_no_longer_caps)
{
    int64_t ts = local("2026-11-23", 12, 0, EST);
    offered("T1", "S1", ts - STORE_INTERVAL_MS, false);
    assert_reason_now("S1", ts, FF_REASON_ELIGIBLE);
}

Test(ff_guard_cap, an_offer_at_the_same_store_one_millisecond_inside_the_interval_caps)
{
    int64_t ts = local("2026-11-23", 12, 0, EST);
    offered("T1", "S1", ts - STORE_INTERVAL_MS + 1, false);
    assert_reason_now("S1", ts, FF_REASON_FREQUENCY_CAP);
}

Test(ff_guard_cap, an_offer_at_another_store_days_ago_does_not_cap)
{
    int64_t ts = local("2026-11-23", 12, 0, EST);
    offered("T1", "S2", ts - 2 * FF_DAY_MS, false);
    assert_reason_now("S1", ts, FF_REASON_ELIGIBLE);
}

Test(ff_guard_cap, a_second_offer_the_same_local_day_is_capped_by_the_daily_cap)
{
    offered("T1", "S1", local("2026-11-23", 10, 0, EST), false);
    assert_reason_now("S2", local("2026-11-23", 15, 0, EST), FF_REASON_FREQUENCY_CAP);
}

Test(ff_guard_cap, a_daily_cap_of_two_allows_a_second_offer_but_not_a_third)
{
    g.daily_cap = 2;
    offered("T1", "S1", local("2026-11-23", 10, 0, EST), false);
    assert_reason_now("S2", local("2026-11-23", 15, 0, EST), FF_REASON_ELIGIBLE);
    offered("T2", "S2", local("2026-11-23", 15, 0, EST), false);
    assert_reason_now("S4", local("2026-11-23", 17, 0, EST), FF_REASON_FREQUENCY_CAP);
}

Test(ff_guard_cap, the_daily_cap_resets_on_the_next_local_day_across_utc_midnight_unchanged)
{
    /* 23:30 local at -05:00 is 04:30Z the next UTC day; 00:30 local the day
     * after is 05:30Z, the same UTC day but another local day. */
    g.quiet_start = g.quiet_end = 0;
    int64_t first = local("2026-11-22", 23, 30, EST);
    int64_t next = local("2026-11-23", 0, 30, EST);
    cr_assert_eq(first, at("2026-11-23T04:30:00Z"));
    cr_assert_eq(ff_day_of_ms(first), ff_day_of_ms(next), "same UTC day");
    offered("T1", "S1", first, false);
    assert_reason_now("S2", next, FF_REASON_ELIGIBLE);
}

Test(ff_guard_cap, the_daily_cap_holds_the_same_local_day_after_utc_midnight)
{
    /* The offer at 23:30 local, a candidate at 22:00 local the same local day
     * (03:00Z, also after the UTC midnight). */
    g.quiet_start = g.quiet_end = 0;
    offered("T1", "S1", local("2026-11-22", 23, 30, EST), false);
    int64_t ts = local("2026-11-22", 22, 0, EST);
    cr_assert_eq(ts, at("2026-11-23T03:00:00Z"));
    assert_reason_now("S2", ts, FF_REASON_FREQUENCY_CAP);
}

Test(ff_guard_cap, the_daily_cap_holds_the_same_local_day_on_another_utc_day)
{
    /* 18:00 local is 23:00Z on the 22nd; 22:00 local is 03:00Z on the 23rd:
     * two UTC days, one local day. */
    g.quiet_start = g.quiet_end = 0;
    int64_t first = local("2026-11-22", 18, 0, EST);
    int64_t later = local("2026-11-22", 22, 0, EST);
    cr_assert_neq(ff_day_of_ms(first), ff_day_of_ms(later), "different UTC days");
    offered("T1", "S1", first, false);
    assert_reason_now("S2", later, FF_REASON_FREQUENCY_CAP);
}

Test(ff_guard_cap, a_control_offer_counts_toward_the_daily_cap)
{
    offered("T1", "S1", local("2026-11-23", 10, 0, EST), true);
    assert_reason_now("S2", local("2026-11-23", 15, 0, EST), FF_REASON_FREQUENCY_CAP);
}

Test(ff_guard_cap, a_control_offer_counts_toward_the_store_cap)
{
    offered("T1", "S1", local("2026-11-20", 10, 0, EST), true);
    assert_reason_now("S1", local("2026-11-23", 15, 0, EST), FF_REASON_FREQUENCY_CAP);
}

/* ---- holdout ------------------------------------------------------------------ */

static const char *customer_id(int i, char *buf, size_t size)
{
    snprintf(buf, size, "customer-%d", i);
    return buf;
}

static int holdout_count(void)
{
    char id[32];
    int n = 0;
    for (int i = 0; i < NIDS; i++)
        n += ff_guard_in_holdout(&g, customer_id(i, id, sizeof id));
    return n;
}

Test(ff_guard_holdout, the_same_id_always_gets_the_same_answer)
{
    char id[32];
    ff_guard_conf_t other = g;
    char salt[] = "footfall"; /* an equal salt at another address */
    g.holdout_percent = other.holdout_percent = 50;
    other.holdout_salt = salt;
    for (int i = 0; i < 1000; i++) {
        bool first = ff_guard_in_holdout(&g, customer_id(i, id, sizeof id));
        cr_assert_eq(ff_guard_in_holdout(&g, id), first, "%s changed sides", id);
        cr_assert_eq(ff_guard_in_holdout(&other, id), first,
                     "%s changed sides with an equal salt", id);
    }
}

Test(ff_guard_holdout, about_10_percent_of_10000_ids_are_held_out)
{
    g.holdout_percent = 10;
    int n = holdout_count();
    cr_assert(n >= NIDS * 8 / 100 && n <= NIDS * 12 / 100,
              "expected 8-12 %% of %d ids in the holdout, got %d", NIDS, n);
}

Test(ff_guard_holdout, zero_percent_holds_out_nobody)
{
    g.holdout_percent = 0;
    cr_assert_eq(holdout_count(), 0);
}

Test(ff_guard_holdout, a_hundred_percent_holds_out_everybody)
{
    g.holdout_percent = 100;
    cr_assert_eq(holdout_count(), NIDS);
}

Test(ff_guard_holdout, another_salt_moves_some_ids)
{
    char id[32];
    ff_guard_conf_t other = g;
    int moved = 0, held = 0;
    g.holdout_percent = other.holdout_percent = 10;
    other.holdout_salt = "another-salt";
    for (int i = 0; i < 1000; i++) {
        bool a = ff_guard_in_holdout(&g, customer_id(i, id, sizeof id));
        bool b = ff_guard_in_holdout(&other, id);
        moved += a != b;
        held += b;
    }
    cr_assert_gt(moved, 0, "a new salt should change the group of some customers");
    cr_assert(held >= 50 && held <= 150, "still about 10 %% with the new salt, got %d / 1000",
              held);
}

Test(ff_guard_holdout, a_held_out_customer_is_suppressed_with_holdout)
{
    g.holdout_percent = 100;
    assert_reason_now("S1", local("2026-11-23", 12, 0, EST), FF_REASON_HOLDOUT);
}

/* ---- the order of the guardrails ---------------------------------------------- */

/* Every guardrail at once: opted out, 22:00 local, an offer at the same
 * store earlier that day, everybody held out. */
static int64_t everything_in_the_way(void)
{
    int64_t ts = local("2026-11-23", 22, 0, EST);
    consent(FF_CH_PUSH, FF_CONSENT_DENIED, ts - FF_DAY_MS);
    offered("T1", "S1", local("2026-11-23", 10, 0, EST), false);
    g.holdout_percent = 100;
    return ts;
}

Test(ff_guard_order, a_stale_event_in_quiet_hours_for_an_opted_out_customer_is_stale_event)
{
    int64_t ts = everything_in_the_way();
    assert_reason("S1", ts, ts + MAX_AGE_MS + 1, FF_REASON_STALE_EVENT);
}

Test(ff_guard_order, a_fresh_event_in_quiet_hours_for_an_opted_out_customer_is_no_consent)
{
    int64_t ts = everything_in_the_way();
    assert_reason_now("S1", ts, FF_REASON_NO_CONSENT);
}

Test(ff_guard_order, a_consenting_customer_capped_in_quiet_hours_is_quiet_hours)
{
    int64_t ts = everything_in_the_way();
    consent(FF_CH_PUSH, FF_CONSENT_GRANTED, ts - 1);
    assert_reason_now("S1", ts, FF_REASON_QUIET_HOURS);
}

Test(ff_guard_order, a_capped_customer_in_the_holdout_is_frequency_cap)
{
    everything_in_the_way();
    consent(FF_CH_PUSH, FF_CONSENT_GRANTED, 1);
    assert_reason_now("S1", local("2026-11-23", 15, 0, EST), FF_REASON_FREQUENCY_CAP);
}

Test(ff_guard_order, nothing_but_the_holdout_is_holdout)
{
    everything_in_the_way();
    consent(FF_CH_PUSH, FF_CONSENT_GRANTED, 1);
    /* Another store, the next local day, mid-afternoon. */
    assert_reason_now("S2", local("2026-11-24", 15, 0, EST), FF_REASON_HOLDOUT);
}

Test(ff_guard_order, nothing_in_the_way_is_eligible)
{
    everything_in_the_way();
    consent(FF_CH_PUSH, FF_CONSENT_GRANTED, 1);
    g.holdout_percent = 0;
    assert_reason_now("S2", local("2026-11-24", 15, 0, EST), FF_REASON_ELIGIBLE);
}

/* ---- store-local time --------------------------------------------------------- */

Test(ff_guard_time, a_listed_store_has_its_offset_and_others_the_default)
{
    g.tz_default = 60;
    cr_assert_eq(ff_guard_store_tz(&g, "S1"), EST);
    cr_assert_eq(ff_guard_store_tz(&g, "S3"), IST);
    cr_assert_eq(ff_guard_store_tz(&g, "S9"), 60, "an unlisted store gets store.tz.default");
}

Test(ff_guard_time, local_day_and_minute_west_of_utc_across_utc_midnight)
{
    int64_t ts = at("2026-11-24T04:30:00Z");
    cr_assert_eq(ff_local_day(ts, EST), ff_day_of_ms(at("2026-11-23T00:00:00Z")),
                 "04:30Z on the 24th is the 23rd at -05:00");
    cr_assert_eq(ff_local_minute(ts, EST), 23 * 60 + 30, "and 23:30 local");
}

Test(ff_guard_time, local_day_and_minute_east_of_utc_across_utc_midnight)
{
    int64_t ts = at("2026-11-23T20:00:00Z");
    cr_assert_eq(ff_local_day(ts, IST), ff_day_of_ms(at("2026-11-24T00:00:00Z")),
                 "20:00Z on the 23rd is the 24th at +05:30");
    cr_assert_eq(ff_local_minute(ts, IST), 1 * 60 + 30, "and 01:30 local");
}

Test(ff_guard_time, local_time_before_the_epoch_floors)
{
    cr_assert_eq(ff_local_day(-1, 0), -1, "1 ms before the epoch is day -1");
    cr_assert_eq(ff_local_minute(-1, 0), 23 * 60 + 59);
    cr_assert_eq(ff_local_day(0, EST), -1, "the epoch is 1969-12-31 at -05:00");
    cr_assert_eq(ff_local_minute(0, EST), 19 * 60);
}

/* ---- offer codes -------------------------------------------------------------- */

#define CROCKFORD "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

Test(ff_offer_code, is_ff_dash_and_8_crockford_base32_characters)
{
    char trigger_id[32], code[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(trigger_id, sizeof trigger_id, "trigger-%d", i);
        ff_offer_code(trigger_id, "salt", code, sizeof code);
        cr_assert_eq(strlen(code), 11, "'%s' should be FF- and 8 characters", code);
        cr_assert_eq(strncmp(code, "FF-", 3), 0, "'%s' should start with FF-", code);
        cr_assert_eq(strspn(code + 3, CROCKFORD), 8,
                     "'%s' has a character outside Crockford base32", code);
        cr_assert_eq(strpbrk(code + 3, "ILOU"), NULL, "'%s' has I, L, O or U", code);
    }
}

Test(ff_offer_code, uses_every_character_of_the_alphabet)
{
    char trigger_id[32], code[32];
    bool seen[sizeof CROCKFORD - 1] = {false};
    size_t nseen = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(trigger_id, sizeof trigger_id, "trigger-%d", i);
        ff_offer_code(trigger_id, "salt", code, sizeof code);
        for (const char *p = code + 3; *p; p++) {
            const char *at_ = strchr(CROCKFORD, *p);
            cr_assert_not_null(at_, "'%c' in '%s' is not Crockford base32", *p, code);
            seen[at_ - CROCKFORD] = true;
        }
    }
    for (size_t i = 0; i < FF_ARRAY_LEN(seen); i++)
        nseen += seen[i];
    cr_assert_eq(nseen, 32, "8000 characters should use all 32 symbols, used %zu", nseen);
}

Test(ff_offer_code, fits_a_buffer_of_12)
{
    char code[12];
    ff_offer_code("T1", "salt", code, sizeof code);
    cr_assert_eq(strlen(code), 11, "'%s' fills the buffer", code);
}

Test(ff_offer_code, is_deterministic)
{
    char a[16], b[16];
    ff_offer_code("T1", "salt", a, sizeof a);
    ff_offer_code("T1", "salt", b, sizeof b);
    cr_assert_str_eq(a, b);
}

Test(ff_offer_code, differs_for_different_trigger_ids)
{
    char a[16], b[16];
    ff_offer_code("T1", "salt", a, sizeof a);
    ff_offer_code("T2", "salt", b, sizeof b);
    cr_assert_str_neq(a, b);
}

Test(ff_offer_code, differs_for_different_salts)
{
    char a[16], b[16];
    ff_offer_code("T1", "salt", a, sizeof a);
    ff_offer_code("T1", "pepper", b, sizeof b);
    cr_assert_str_neq(a, b);
}

/* ---- settings ----------------------------------------------------------------- */

static ff_conf_t *conf;
static ff_guard_conf_t gc;
static char errstr[512];

static void conf_setup(void)
{
    conf = ff_conf_new("geofence");
    memset(&gc, 0, sizeof gc);
    errstr[0] = '\0';
}

static void conf_teardown(void)
{
    ff_guard_conf_term(&gc);
    ff_conf_destroy(conf);
}

TestSuite(ff_guard_conf, .init = conf_setup, .fini = conf_teardown);

static void set(const char *key, const char *value)
{
    cr_assert_eq(ff_conf_set(conf, key, value, "test", errstr, sizeof errstr), 0,
                 "%s=%s should be accepted: %s", key, value, errstr);
}

Test(ff_guard_conf, init_reads_the_defaults)
{
    cr_assert_eq(ff_guard_conf_init(&gc, conf, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(gc.max_age_ms, MAX_AGE_MS, "trigger.max_age 10m");
    cr_assert_eq(gc.daily_cap, 1, "cap.daily 1");
    cr_assert_eq(gc.store_interval_ms, STORE_INTERVAL_MS, "cap.store.interval 7d");
    cr_assert_eq(gc.quiet_start, QUIET_START, "quiet.start 21:00");
    cr_assert_eq(gc.quiet_end, QUIET_END, "quiet.end 08:00");
    cr_assert_eq(gc.holdout_percent, 10, "holdout.percent 10");
    cr_assert_str_eq(gc.holdout_salt, "footfall");
    cr_assert_eq(gc.ntz, 0, "no store.tz");
    cr_assert_eq(gc.tz_default, 0, "UTC by default");
}

Test(ff_guard_conf, init_reads_the_store_tz_map)
{
    set("store.tz", "S1=-05:00,S2=+05:30");
    cr_assert_eq(ff_guard_conf_init(&gc, conf, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(gc.ntz, 2);
    cr_assert_eq(ff_guard_store_tz(&gc, "S1"), EST);
    cr_assert_eq(ff_guard_store_tz(&gc, "S2"), IST);
    cr_assert_eq(ff_guard_store_tz(&gc, "S3"), 0, "an unlisted store is at the default");
}

Test(ff_guard_conf, init_reads_the_default_offset_and_other_settings)
{
    set("store.tz", "S1=-05:00");
    set("store.tz.default", "+01:00");
    set("quiet.start", "22:30");
    set("quiet.end", "06:15");
    set("holdout.percent", "25");
    set("holdout.salt", "pepper");
    set("cap.daily", "3");
    cr_assert_eq(ff_guard_conf_init(&gc, conf, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(ff_guard_store_tz(&gc, "S1"), EST);
    cr_assert_eq(ff_guard_store_tz(&gc, "S9"), 60, "store.tz.default +01:00");
    cr_assert_eq(gc.quiet_start, 22 * 60 + 30);
    cr_assert_eq(gc.quiet_end, 6 * 60 + 15);
    cr_assert_eq(gc.holdout_percent, 25);
    cr_assert_str_eq(gc.holdout_salt, "pepper");
    cr_assert_eq(gc.daily_cap, 3);
}

Test(ff_guard_conf, a_space_after_a_comma_in_store_tz_is_allowed)
{
    set("store.tz", "S1=-05:00, S2=+05:30");
    cr_assert_eq(ff_guard_conf_init(&gc, conf, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(ff_guard_store_tz(&gc, "S2"), IST);
}

Test(ff_guard_conf, a_bad_store_tz_is_rejected_and_the_previous_map_kept)
{
    static const char *bad[] = {"S1=-25:00", "S1", "S1=EST", "=-05:00", "S1=-05:00,S2=+5"};
    set("store.tz", "S1=-05:00,S2=+05:30");
    for (size_t i = 0; i < FF_ARRAY_LEN(bad); i++) {
        errstr[0] = '\0';
        cr_assert_eq(ff_conf_set(conf, "store.tz", bad[i], "test", errstr, sizeof errstr), -1,
                     "store.tz=%s should be rejected", bad[i]);
        cr_assert(strstr(errstr, "store.tz") != NULL, "the error names the key: %s", errstr);
    }
    cr_assert_eq(ff_guard_conf_init(&gc, conf, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(ff_guard_store_tz(&gc, "S1"), EST, "the last good map is still in force");
    cr_assert_eq(ff_guard_store_tz(&gc, "S2"), IST);
}

Test(ff_guard_conf, a_bad_store_tz_default_is_rejected)
{
    errstr[0] = '\0';
    cr_assert_eq(
        ff_conf_set(conf, "store.tz.default", "+25:00", "test", errstr, sizeof errstr), -1);
    cr_assert(strstr(errstr, "store.tz.default") != NULL, "the error names the key: %s", errstr);
}

/* The validator of store.tz trims spaces around the offset; whatever it
 * accepts, ff_guard_conf_init must read the same way. */
Test(ff_guard_conf, spaces_around_the_equals_sign_the_validator_accepts_are_read)
{
    set("store.tz", "S1 = -05:00,S2 = +05:30");
    cr_assert_eq(ff_guard_conf_init(&gc, conf, errstr, sizeof errstr), 0,
                 "a store.tz that ff_conf_set accepted failed in ff_guard_conf_init: %s", errstr);
    cr_assert_eq(ff_guard_store_tz(&gc, "S1"), EST);
    cr_assert_eq(ff_guard_store_tz(&gc, "S2"), IST);
}

Test(ff_guard_conf, a_space_before_the_equals_sign_is_not_part_of_the_store_id)
{
    set("store.tz", "S1 =-05:00");
    cr_assert_eq(ff_guard_conf_init(&gc, conf, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(ff_guard_store_tz(&gc, "S1"), EST,
                 "store S1 should be at -05:00, got %d minutes (the default)",
                 ff_guard_store_tz(&gc, "S1"));
}
