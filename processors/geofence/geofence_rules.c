/* geofence_rules: when a store visit earns a NEARBY offer or a staff heads-up, and which product. */
#include "geofence_rules.h"

#include <stdio.h>
#include <string.h>

#include "ff_validate.h"

bool geo_nearby_applies(const ff_geofence_event_t *ev, const geo_rules_conf_t *conf)
{
    if (ev->transition == FF_GEO_ENTER)
        return true;
    return ev->transition == FF_GEO_DWELL && ev->dwell_seconds.set &&
           ev->dwell_seconds.v * 1000 >= conf->dwell_min_ms;
}

int geo_pick_offer(size_t n, size_t nskus, const int64_t *stock, int64_t stock_min)
{
    for (size_t i = 0; i < nskus && i < n; i++)
        if (stock[i] >= stock_min)
            return (int)i;
    for (size_t i = nskus; i < n; i++)
        if (stock[i] >= stock_min)
            return (int)i;
    return -1;
}

bool geo_assist_due(const ff_customer_t *c, const ff_geofence_event_t *ev,
                    const geo_rules_conf_t *conf)
{
    const ff_visit_t *v;
    if (ev->transition != FF_GEO_ENTER)
        return false;
    if (c->spend < conf->assist_spend_min && !ff_customer_cart_nonempty(c))
        return false;
    for (size_t i = 0; i < c->nvisits; i++) {
        v = &c->visits[i];
        if (v->last_assist && !strcmp(v->store_id, ev->store_id) &&
            v->last_assist > ev->ts - conf->assist_interval_ms &&
            v->last_assist <= ev->ts + conf->assist_interval_ms)
            return false;
    }
    return true;
}

const char *geo_validate(const ff_geofence_event_t *ev, int64_t now, int64_t max_future,
                         char *buf, size_t size)
{
    const char *why;
    if ((why = ff_validate_id("event_id", ev->event_id, buf, size)) ||
        (why = ff_validate_id("customer_id", ev->customer_id, buf, size)) ||
        (why = ff_validate_id("device_id", ev->device_id, buf, size)) ||
        (why = ff_validate_id("store_id", ev->store_id, buf, size)) ||
        (why = ff_validate_ts(ev->ts, now, max_future, buf, size)))
        return why;
    if (ev->dwell_seconds.set && ev->dwell_seconds.v < 0) {
        snprintf(buf, size, "dwell_seconds %lld is negative", (long long)ev->dwell_seconds.v);
        return buf;
    }
    if (ev->accuracy_m.set && !(ev->accuracy_m.v >= 0)) {
        snprintf(buf, size, "accuracy_m %g is not a distance", ev->accuracy_m.v);
        return buf;
    }
    return NULL;
}

const char *consent_validate(const ff_consent_event_t *ev, int64_t now, int64_t max_future,
                             char *buf, size_t size)
{
    const char *why;
    if ((why = ff_validate_id("event_id", ev->event_id, buf, size)) ||
        (why = ff_validate_id("customer_id", ev->customer_id, buf, size)) ||
        (why = ff_validate_ts(ev->ts, now, max_future, buf, size)))
        return why;
    return NULL;
}
