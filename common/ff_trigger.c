/* ff_trigger: emitting customer-facing triggers the same way everywhere: guardrails, holdout, decisions. */
#include "ff_trigger.h"

#include <stdio.h>
#include <string.h>

#include "ff_proc.h"

int ff_trigger_conf_init(ff_trigger_conf_t *t, const ff_conf_t *conf, const char *processor,
                         char *errstr, size_t errstr_size)
{
    memset(t, 0, sizeof(*t));
    if (ff_guard_conf_init(&t->guard, conf, errstr, errstr_size) == -1)
        return -1;
    t->ttl.intent_ms = ff_conf_int(conf, "intent.window");
    t->ttl.purchase_ms = ff_conf_int(conf, "purchase.window");
    t->ttl.visit_ms = ff_conf_int(conf, "visit.window");
    t->ttl.intent_bucket_max = ff_conf_int(conf, "intent.bucket.max");
    /* Offers are needed for the store cap and for conversions. */
    t->ttl.offers_ms = ff_conf_int(conf, "cap.store.interval");
    if (ff_conf_int(conf, "conversion.window") > t->ttl.offers_ms)
        t->ttl.offers_ms = ff_conf_int(conf, "conversion.window");
    if (t->ttl.offers_ms < FF_DAY_MS)
        t->ttl.offers_ms = FF_DAY_MS; /* the daily cap needs a day */
    t->processor = processor;
    t->topic_offers = ff_conf_str(conf, "topic.drive_to_store");
    t->topic_holdout = ff_conf_str(conf, "topic.holdout");
    t->topic_decisions = ff_conf_str(conf, "topic.decisions");
    t->code_salt = ff_conf_str(conf, "offer.code.salt");
    t->offer_ttl_ms = ff_conf_int(conf, "offer.ttl");
    t->replayed = !strcmp(ff_conf_str(conf, "triggers"), "replayed");
    return 0;
}

void ff_trigger_conf_term(ff_trigger_conf_t *t)
{
    ff_guard_conf_term(&t->guard);
}

void ff_emit_decision(ff_ent_t *e, ff_event_t *ev, const ff_trigger_conf_t *t, const char *rule,
                      int outcome, int reason, const char *detail, const char *customer_id,
                      const char *store_id, const char *trigger_id)
{
    ff_decision_t d = {
        .decision_id = ff_event_rule_id(e->arena, ev, rule, ":decision"),
        .processor = t->processor,
        .rule = rule,
        .outcome = outcome,
        .reason = reason,
        .detail = detail && *detail ? detail : NULL,
        .customer_id = customer_id,
        .store_id = store_id,
        .trigger_id = trigger_id,
        .source_topic = ev->topic,
        .source_partition = ev->partition,
        .source_offset = ev->offset,
        .source_event_id = ev->event_id,
        .ts = ev->ts,
        .replayed = t->replayed,
    };
    ff_ent_emit(e, ev, t->topic_decisions, customer_id ? customer_id : store_id, FF_REC_DECISION,
                &d, outcome == FF_OUTCOME_FIRED ? FF_LABEL_FIRED : FF_LABEL_SUPPRESSED + reason);
}

int ff_offer_guard(ff_ent_t *e, ff_event_t *ev, ff_customer_t *c, const ff_trigger_conf_t *t,
                   const char *rule, const char *store_id, int64_t now, char *detail,
                   size_t detail_size)
{
    int reason = ff_guard_check(&t->guard, c, store_id, ev->ts, now, detail, detail_size);
    if (reason != FF_REASON_ELIGIBLE && reason != FF_REASON_HOLDOUT)
        ff_emit_decision(e, ev, t, rule, FF_OUTCOME_SUPPRESSED, reason, detail, c->id, store_id,
                         NULL);
    return reason;
}

int ff_offer(ff_ent_t *e, ff_event_t *ev, ff_customer_t *c, const ff_trigger_conf_t *t,
             ff_offer_t *offer, int64_t now, int64_t state_now)
{
    char detail[256], code[16];
    const char *rule = ff_offer_kind_name(offer->kind);
    int reason = ff_offer_guard(e, ev, c, t, rule, offer->store_id, now, detail, sizeof detail);

    if (reason != FF_REASON_ELIGIBLE && reason != FF_REASON_HOLDOUT)
        return reason;
    ff_offer_code(offer->trigger_id, t->code_salt, code, sizeof code);
    offer->offer_code = ff_arena_strdup(e->arena, code);
    offer->ts = ev->ts;
    offer->expires_at = ev->ts + t->offer_ttl_ms;
    offer->source_event_id = ev->event_id;
    offer->replayed = t->replayed;

    ff_offer_state_t st = {
        .trigger_id = offer->trigger_id,
        .kind = offer->kind,
        .store_id = offer->store_id,
        .sku = offer->sku,
        .category = offer->category,
        .code = offer->offer_code,
        .ts = offer->ts,
        .expires_at = offer->expires_at,
        .local_day = ff_local_day(ev->ts, ff_guard_store_tz(&t->guard, offer->store_id)),
        .control = reason == FF_REASON_HOLDOUT,
    };
    ff_cust_offer(e, c, &t->ttl, &st, state_now);
    if (reason == FF_REASON_HOLDOUT) {
        ff_ent_emit(e, ev, t->topic_holdout, c->id, FF_REC_DRIVE_TO_STORE_OFFER, offer,
                    FF_LABEL_HOLDOUT);
        ff_emit_decision(e, ev, t, rule, FF_OUTCOME_SUPPRESSED, reason, detail, c->id,
                         offer->store_id, offer->trigger_id);
        return reason;
    }
    ff_ent_emit(e, ev, t->topic_offers, c->id, FF_REC_DRIVE_TO_STORE_OFFER, offer,
                offer->kind == FF_OFFER_INVITE ? FF_LABEL_INVITE : FF_LABEL_NEARBY);
    ff_emit_decision(e, ev, t, rule, FF_OUTCOME_FIRED, FF_REASON_ELIGIBLE, NULL, c->id,
                     offer->store_id, offer->trigger_id);
    return FF_REASON_ELIGIBLE;
}

void ff_offer_no_stock(ff_ent_t *e, ff_event_t *ev, const ff_trigger_conf_t *t,
                       const char *rule, const char *customer_id, const char *store_id,
                       const char *detail)
{
    ff_emit_decision(e, ev, t, rule, FF_OUTCOME_SUPPRESSED, FF_REASON_NO_STOCK, detail,
                     customer_id, store_id, NULL);
}
