/* ff_guard: the guardrails every customer-facing trigger passes: freshness, consent, quiet hours, caps, holdout. */
#include "ff_guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_tz(void *opaque, const char *store, int minutes)
{
    ff_guard_conf_t *g = opaque;
    g->tz = ff_realloc(g->tz, (g->ntz + 1) * sizeof(*g->tz));
    g->tz[g->ntz].store_id = ff_strdup(store);
    g->tz[g->ntz].minutes = minutes;
    g->ntz++;
}

int ff_guard_conf_init(ff_guard_conf_t *g, const ff_conf_t *conf, char *errstr,
                       size_t errstr_size)
{
    char why[256];
    memset(g, 0, sizeof(*g));
    g->max_age_ms = ff_conf_int(conf, "trigger.max_age");
    g->daily_cap = ff_conf_int(conf, "cap.daily");
    g->store_interval_ms = ff_conf_int(conf, "cap.store.interval");
    g->quiet_start = (int)ff_conf_int(conf, "quiet.start");
    g->quiet_end = (int)ff_conf_int(conf, "quiet.end");
    g->holdout_percent = (int)ff_conf_int(conf, "holdout.percent");
    g->holdout_salt = ff_conf_str(conf, "holdout.salt");
    if (ff_tz_parse(ff_conf_str(conf, "store.tz.default"), &g->tz_default) == -1) {
        snprintf(errstr, errstr_size, "invalid value for store.tz.default");
        return -1;
    }
    /* The same parser that validated the setting. */
    if (ff_tz_map_each(ff_conf_str(conf, "store.tz"), add_tz, g, why, sizeof why) == -1) {
        snprintf(errstr, errstr_size, "invalid value for store.tz: %s", why);
        ff_guard_conf_term(g);
        return -1;
    }
    return 0;
}

void ff_guard_conf_term(ff_guard_conf_t *g)
{
    for (size_t i = 0; i < g->ntz; i++)
        free(g->tz[i].store_id);
    free(g->tz);
    g->tz = NULL;
    g->ntz = 0;
}

int ff_guard_store_tz(const ff_guard_conf_t *g, const char *store_id)
{
    for (size_t i = 0; i < g->ntz; i++)
        if (!strcmp(g->tz[i].store_id, store_id))
            return g->tz[i].minutes;
    return g->tz_default;
}

int64_t ff_local_day(int64_t ts, int tz_minutes)
{
    return ff_day_of_ms(ts + (int64_t)tz_minutes * 60000);
}

int ff_local_minute(int64_t ts, int tz_minutes)
{
    int64_t local = ts + (int64_t)tz_minutes * 60000;
    return (int)((local - ff_day_of_ms(local) * FF_DAY_MS) / 60000);
}

bool ff_guard_in_holdout(const ff_guard_conf_t *g, const char *customer_id)
{
    uint64_t seed = ff_hash64_str(g->holdout_salt, 0);
    return (int)(ff_hash64_str(customer_id, seed) % 100) < g->holdout_percent;
}

bool ff_guard_consent_ok(const ff_customer_t *c)
{
    const ff_consent_state_t *push = &c->consent[FF_CH_PUSH], *all = &c->consent[FF_CH_ALL];
    const ff_consent_state_t *latest = push;
    if (!push->set || (all->set && all->ts > push->ts))
        latest = all;
    if (!latest->set)
        return true;
    return latest->status == FF_CONSENT_GRANTED;
}

bool ff_guard_fresh(const ff_guard_conf_t *g, int64_t ts, int64_t now)
{
    return now - ts <= g->max_age_ms;
}

static bool quiet(const ff_guard_conf_t *g, int minute)
{
    if (g->quiet_start == g->quiet_end)
        return false;
    if (g->quiet_start < g->quiet_end)
        return minute >= g->quiet_start && minute < g->quiet_end;
    return minute >= g->quiet_start || minute < g->quiet_end;
}

int ff_guard_check(const ff_guard_conf_t *g, const ff_customer_t *c, const char *store_id,
                   int64_t ts, int64_t now, char *detail, size_t detail_size)
{
    int tz = ff_guard_store_tz(g, store_id);
    int64_t day = ff_local_day(ts, tz);
    int minute = ff_local_minute(ts, tz), today = 0;

    if (!ff_guard_fresh(g, ts, now)) {
        snprintf(detail, detail_size, "event is %lld s old; triggers stop at %lld s",
                 (long long)((now - ts) / 1000), (long long)(g->max_age_ms / 1000));
        return FF_REASON_STALE_EVENT;
    }
    if (!ff_guard_consent_ok(c)) {
        snprintf(detail, detail_size, "the customer's latest push consent is not granted");
        return FF_REASON_NO_CONSENT;
    }
    if (quiet(g, minute)) {
        snprintf(detail, detail_size, "%02d:%02d store-local is within quiet hours %02d:%02d-%02d:%02d",
                 minute / 60, minute % 60, g->quiet_start / 60, g->quiet_start % 60,
                 g->quiet_end / 60, g->quiet_end % 60);
        return FF_REASON_QUIET_HOURS;
    }
    for (size_t i = 0; i < c->noffers; i++) {
        const ff_offer_state_t *o = &c->offers[i];
        if (o->local_day == day)
            today++;
        if (!strcmp(o->store_id, store_id) && o->ts > ts - g->store_interval_ms &&
            o->ts <= ts + g->store_interval_ms) {
            snprintf(detail, detail_size, "store %s already offered on %s (within %lld days)",
                     store_id, o->trigger_id, (long long)(g->store_interval_ms / FF_DAY_MS));
            return FF_REASON_FREQUENCY_CAP;
        }
    }
    if (today >= g->daily_cap) {
        snprintf(detail, detail_size, "%d offer%s already on this store-local day (cap %lld)",
                 today, today == 1 ? "" : "s", (long long)g->daily_cap);
        return FF_REASON_FREQUENCY_CAP;
    }
    if (ff_guard_in_holdout(g, c->id)) {
        snprintf(detail, detail_size, "customer is in the %d%% control group",
                 g->holdout_percent);
        return FF_REASON_HOLDOUT;
    }
    detail[0] = '\0';
    return FF_REASON_ELIGIBLE;
}

void ff_offer_code(const char *trigger_id, const char *salt, char *buf, size_t size)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford */
    uint64_t h = ff_hash64_str(trigger_id, ff_hash64_str(salt, 0x0ffe));
    char code[12] = "FF-";
    for (int i = 0; i < 8; i++) {
        code[3 + i] = alphabet[h & 31];
        h >>= 5;
    }
    code[11] = '\0';
    snprintf(buf, size, "%s", code);
}
