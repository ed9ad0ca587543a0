/* ff_trigger: emitting customer-facing triggers the same way everywhere: guardrails, holdout, decisions. */
#ifndef FF_TRIGGER_H
#define FF_TRIGGER_H

#include <stdbool.h>
#include <stdint.h>

#include "ff_config.h"
#include "ff_customer_io.h"
#include "ff_engine.h"
#include "ff_guard.h"

/* How a processor's triggers leave it (from the settings). */
typedef struct ff_trigger_conf_s {
    ff_guard_conf_t guard;
    ff_customer_ttl_t ttl;
    const char *processor;       /* "footfall-geofence" */
    const char *topic_offers;    /* topic.drive_to_store */
    const char *topic_holdout;   /* topic.holdout */
    const char *topic_decisions; /* topic.decisions */
    const char *code_salt;       /* offer.code.salt */
    int64_t offer_ttl_ms;        /* offer.ttl */
    bool replayed;               /* triggers=replayed */
} ff_trigger_conf_t;

/* Reads the settings every customer processor shares; 0, or -1 with errstr. */
int ff_trigger_conf_init(ff_trigger_conf_t *t, const ff_conf_t *conf, const char *processor,
                         char *errstr, size_t errstr_size);
void ff_trigger_conf_term(ff_trigger_conf_t *t);

/* Writes the decision about rule for ev to topic.decisions. */
void ff_emit_decision(ff_ent_t *e, ff_event_t *ev, const ff_trigger_conf_t *t, const char *rule,
                      int outcome, int reason, const char *detail, const char *customer_id,
                      const char *store_id, const char *trigger_id);

/* Offers `offer` (trigger_id, kind, customer, store, sku, category, reason
 * and stock filled in; code, expiry and ts are set here) if the guardrails
 * allow: to topic.drive_to_store, or to topic.holdout for a control
 * customer. Either way the decision is written and, if the offer was sent
 * or withheld, remembered for caps and conversions. A suppressed offer is
 * only a decision. Returns the reason (FF_REASON_ELIGIBLE: sent). */
int ff_offer(ff_ent_t *e, ff_event_t *ev, ff_customer_t *c, const ff_trigger_conf_t *t,
             ff_offer_t *offer, int64_t now, int64_t state_now);

/* The guardrails' verdict on an offer of `rule` to c at store_id for ev,
 * whatever the offer: FF_REASON_ELIGIBLE or FF_REASON_HOLDOUT (detail
 * says why for a holdout), or a suppression, then also written to
 * topic.decisions. */
int ff_offer_guard(ff_ent_t *e, ff_event_t *ev, ff_customer_t *c, const ff_trigger_conf_t *t,
                   const char *rule, const char *store_id, int64_t now, char *detail,
                   size_t detail_size);

/* A decision that an offer could not be made for lack of stock. */
void ff_offer_no_stock(ff_ent_t *e, ff_event_t *ev, const ff_trigger_conf_t *t,
                       const char *rule, const char *customer_id, const char *store_id,
                       const char *detail);

#endif
