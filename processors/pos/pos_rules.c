/* pos_rules: which outstanding offers a purchase converts, and how. */
#include "pos_rules.h"

#include <stdio.h>
#include <string.h>

#include "ff_validate.h"

static int64_t line_total(const ff_pos_line_t *l)
{
    return l->quantity * l->unit_price_cents;
}

size_t pos_conversions(const ff_customer_t *c, const ff_pos_transaction_t *tx,
                       const pos_rules_conf_t *conf, pos_match_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < c->noffers && n < max; i++) {
        ff_offer_state_t *o = &c->offers[i];
        pos_match_t m = {o, -1, 0};
        if (o->converted || tx->ts < o->ts || tx->ts - o->ts > conf->conversion_window_ms)
            continue;
        for (size_t k = 0; k < tx->offer_codes_cnt; k++) {
            if (!strcmp(tx->offer_codes[k], o->code)) {
                m.match = FF_MATCH_OFFER_CODE;
                m.revenue_cents = tx->total_cents;
            }
        }
        if (m.match < 0 && o->sku) {
            for (size_t k = 0; k < tx->lines_cnt; k++) {
                if (!strcmp(tx->lines[k].sku, o->sku)) {
                    m.match = FF_MATCH_SKU;
                    m.revenue_cents += line_total(&tx->lines[k]);
                }
            }
        }
        if (m.match < 0) {
            for (size_t k = 0; k < tx->lines_cnt; k++) {
                if (!strcmp(tx->lines[k].category, o->category)) {
                    m.match = FF_MATCH_CATEGORY;
                    m.revenue_cents += line_total(&tx->lines[k]);
                }
            }
        }
        if (m.match >= 0)
            out[n++] = m;
    }
    return n;
}

const char *pos_validate(const ff_pos_transaction_t *tx, int64_t now, int64_t max_future,
                         char *buf, size_t size)
{
    const char *why;
    if ((why = ff_validate_id("event_id", tx->event_id, buf, size)) ||
        (why = ff_validate_id("store_id", tx->store_id, buf, size)) ||
        (why = ff_validate_ts(tx->ts, now, max_future, buf, size)))
        return why;
    if (tx->customer_id && (why = ff_validate_id("customer_id", tx->customer_id, buf, size)))
        return why;
    if (tx->total_cents < 0) {
        snprintf(buf, size, "total_cents %lld is negative", (long long)tx->total_cents);
        return buf;
    }
    for (size_t i = 0; i < tx->lines_cnt; i++) {
        const ff_pos_line_t *l = &tx->lines[i];
        if ((why = ff_validate_id("lines.sku", l->sku, buf, size)) ||
            (why = ff_validate_id("lines.category", l->category, buf, size)))
            return why;
        if (l->quantity <= 0) {
            snprintf(buf, size, "line %zu: quantity %lld is not positive", i,
                     (long long)l->quantity);
            return buf;
        }
        if (l->unit_price_cents < 0) {
            snprintf(buf, size, "line %zu: unit_price_cents %lld is negative", i,
                     (long long)l->unit_price_cents);
            return buf;
        }
    }
    for (size_t i = 0; i < tx->offer_codes_cnt; i++)
        if ((why = ff_validate_id("offer_codes", tx->offer_codes[i], buf, size)))
            return why;
    return NULL;
}
