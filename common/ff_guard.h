/* ff_guard: the guardrails every customer-facing trigger passes: freshness, consent, quiet hours, caps, holdout. */
#ifndef FF_GUARD_H
#define FF_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ff_config.h"
#include "ff_customer.h"
#include "ff_records.h"

typedef struct ff_store_tz_s {
    char *store_id;
    int minutes; /* east of UTC */
} ff_store_tz_t;

typedef struct ff_guard_conf_s {
    int64_t max_age_ms;        /* trigger.max_age */
    int64_t daily_cap;         /* cap.daily */
    int64_t store_interval_ms; /* cap.store.interval */
    int quiet_start;           /* minutes after local midnight */
    int quiet_end;
    int holdout_percent;
    const char *holdout_salt;
    ff_store_tz_t *tz;
    size_t ntz;
    int tz_default;
} ff_guard_conf_t;

/* Reads the guardrail settings; 0, or -1 with errstr. Free with ff_guard_conf_term. */
int ff_guard_conf_init(ff_guard_conf_t *g, const ff_conf_t *conf, char *errstr,
                       size_t errstr_size);
void ff_guard_conf_term(ff_guard_conf_t *g);

/* The UTC offset of a store, in minutes. */
int ff_guard_store_tz(const ff_guard_conf_t *g, const char *store_id);
/* The store-local calendar day and minute of the day of ts. */
int64_t ff_local_day(int64_t ts, int tz_minutes);
int ff_local_minute(int64_t ts, int tz_minutes);

/* Whether a customer is in the control group: a salted hash of the id, so
 * the same customer always lands on the same side. */
bool ff_guard_in_holdout(const ff_guard_conf_t *g, const char *customer_id);

/* Whether the customer's consent allows a push offer: the most recent
 * record among PUSH and ALL, by event time, must not be DENIED or REVOKED
 * (no record at all allows). */
bool ff_guard_consent_ok(const ff_customer_t *c);

/* Checks an offer to the customer at store_id for an event at ts, `now`
 * being the clock. Returns FF_REASON_ELIGIBLE, or the first guardrail that
 * stops it, in this order: STALE_EVENT, NO_CONSENT, QUIET_HOURS,
 * FREQUENCY_CAP, HOLDOUT. detail gets the reason in words. The offers the
 * customer already received are in c->offers (control ones included: a
 * control customer is capped like any other, or lift would be skewed). */
int ff_guard_check(const ff_guard_conf_t *g, const ff_customer_t *c, const char *store_id,
                   int64_t ts, int64_t now, char *detail, size_t detail_size);

/* Just the freshness guard (also for staff heads-ups). */
bool ff_guard_fresh(const ff_guard_conf_t *g, int64_t ts, int64_t now);

/* A deterministic offer code for a trigger: "FF-" and 8 characters of
 * Crockford base32 from a salted hash of the trigger id. buf >= 12. */
void ff_offer_code(const char *trigger_id, const char *salt, char *buf, size_t size);

#endif
