/* geofence_rules: when a store visit earns a NEARBY offer or a staff heads-up, and which product. */
#ifndef GEOFENCE_RULES_H
#define GEOFENCE_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "ff_customer.h"
#include "ff_records.h"

typedef struct geo_rules_conf_s {
    ff_intent_conf_t intent;
    int64_t dwell_min_ms;       /* nearby.dwell.min */
    int64_t stock_min;          /* offer.stock.min */
    int64_t assist_spend_min;   /* assist.spend.min (cents) */
    int assist_top_n;           /* assist.top.n */
    int64_t assist_interval_ms; /* assist.interval */
} geo_rules_conf_t;

/* ENTER, or a DWELL of at least nearby.dwell.min. */
bool geo_nearby_applies(const ff_geofence_event_t *ev, const geo_rules_conf_t *conf);

/* The offer to make among n candidates ranked best first (SKUs first,
 * nskus of them, then categories), given the store's stock of each: the
 * best SKU with at least stock_min items, else the best category with at
 * least stock_min. Returns its index, or -1 when nothing is in stock. */
int geo_pick_offer(size_t n, size_t nskus, const int64_t *stock, int64_t stock_min);

/* Whether an ENTER earns the store's staff a heads-up: lifetime spend of at
 * least assist.spend.min or a non-empty cart, and no heads-up for this
 * customer at this store within assist.interval. */
bool geo_assist_due(const ff_customer_t *c, const ff_geofence_event_t *ev,
                    const geo_rules_conf_t *conf);

const char *geo_validate(const ff_geofence_event_t *ev, int64_t now, int64_t max_future,
                         char *buf, size_t size);
const char *consent_validate(const ff_consent_event_t *ev, int64_t now, int64_t max_future,
                             char *buf, size_t size);

#endif
