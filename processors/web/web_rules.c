/* web_rules: what a clickstream event does to intent, and when category intent earns an INVITE. */
#include "web_rules.h"

#include <stdio.h>

#include "ff_validate.h"

web_effect_t web_effect(const ff_web_event_t *ev)
{
    web_effect_t fx = {false, false, false, 0, false};
    switch (ev->type) {
    case FF_WEB_PRODUCT_VIEW:
    case FF_WEB_WISHLIST:
        fx.sku_view = ev->sku != NULL;
        fx.category_view = ev->category != NULL;
        fx.demand = fx.sku_view;
        break;
    case FF_WEB_ADD_TO_CART:
        fx.sku_add = ev->sku != NULL;
        fx.cart_delta = ev->sku ? 1 : 0;
        fx.demand = fx.sku_add;
        break;
    case FF_WEB_REMOVE_FROM_CART:
        fx.cart_delta = ev->sku ? -1 : 0;
        break;
    case FF_WEB_PAGE_VIEW:
        fx.category_view = ev->category != NULL;
        break;
    default:
        break;
    }
    return fx;
}

bool web_category_crossed(int64_t before, int64_t after, const web_rules_conf_t *conf)
{
    return before < conf->intent.category_views && after >= conf->intent.category_views;
}

web_invite_t web_invite_check(const ff_customer_t *c, int64_t ts, int64_t stock,
                              const web_rules_conf_t *conf, const char **store)
{
    *store = ff_customer_preferred_store(c, ts, conf->visit_window_ms);
    if (!*store)
        return WEB_INVITE_NO_STORE;
    if (c->last_invite && c->last_invite > ts - conf->invite_interval_ms)
        return WEB_INVITE_TOO_SOON;
    if (stock < conf->stock_min)
        return WEB_INVITE_NO_STOCK;
    return WEB_INVITE_OK;
}

const char *web_validate(const ff_web_event_t *ev, int64_t now, int64_t max_future, char *buf,
                         size_t size)
{
    const char *why;
    if ((why = ff_validate_id("event_id", ev->event_id, buf, size)) ||
        (why = ff_validate_id("customer_id", ev->customer_id, buf, size)) ||
        (why = ff_validate_id("session_id", ev->session_id, buf, size)) ||
        (why = ff_validate_ts(ev->ts, now, max_future, buf, size)))
        return why;
    if (ev->sku && (why = ff_validate_id("sku", ev->sku, buf, size)))
        return why;
    if (ev->category && (why = ff_validate_id("category", ev->category, buf, size)))
        return why;
    if ((ev->type == FF_WEB_PRODUCT_VIEW || ev->type == FF_WEB_ADD_TO_CART ||
         ev->type == FF_WEB_REMOVE_FROM_CART || ev->type == FF_WEB_WISHLIST) &&
        !ev->sku) {
        snprintf(buf, size, "a %s needs a sku", ff_web_type_name(ev->type));
        return buf;
    }
    if (ev->price_cents.set && ev->price_cents.v < 0) {
        snprintf(buf, size, "price_cents %lld is negative", (long long)ev->price_cents.v);
        return buf;
    }
    return NULL;
}
