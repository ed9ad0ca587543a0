/* web_rules: what a clickstream event does to intent, and when category intent earns an INVITE. */
#ifndef WEB_RULES_H
#define WEB_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "ff_customer.h"
#include "ff_records.h"

typedef struct web_rules_conf_s {
    ff_intent_conf_t intent;
    int64_t invite_interval_ms; /* invite.interval */
    int64_t visit_window_ms;    /* visit.window */
    int64_t stock_min;          /* offer.stock.min */
} web_rules_conf_t;

/* What an event counts. */
typedef struct web_effect_s {
    bool sku_view;      /* a view of ev->sku ('v') */
    bool sku_add;       /* a cart add of ev->sku ('a') */
    bool category_view; /* a view in ev->category ('c') */
    int cart_delta;     /* +1 add, -1 remove, 0 none */
    bool demand;        /* counts the customer in the SKU's online demand */
} web_effect_t;

/* PRODUCT_VIEW and WISHLIST count a view of the SKU (and of its category),
 * ADD_TO_CART a cart add, PAGE_VIEW with a category a category view,
 * REMOVE_FROM_CART only changes the cart; SEARCH counts nothing. */
web_effect_t web_effect(const ff_web_event_t *ev);

/* Whether views of a category going from `before` to `after` cross the
 * intent threshold (before < threshold <= after). */
bool web_category_crossed(int64_t before, int64_t after, const web_rules_conf_t *conf);

typedef enum {
    WEB_INVITE_OK = 0,
    WEB_INVITE_NO_STORE,  /* no store visited within visit.window: nothing to invite to */
    WEB_INVITE_TOO_SOON,  /* an INVITE within invite.interval */
    WEB_INVITE_NO_STOCK,  /* the preferred store lacks the category */
} web_invite_t;

/* Whether the customer may be invited for `category` at ts before any
 * guardrail: a preferred store (written to *store), no INVITE within
 * invite.interval, and `stock` (the store's stock of the category) at
 * least stock_min. */
web_invite_t web_invite_check(const ff_customer_t *c, int64_t ts, int64_t stock,
                              const web_rules_conf_t *conf, const char **store);

/* Why an event cannot be used, or NULL. */
const char *web_validate(const ff_web_event_t *ev, int64_t now, int64_t max_future, char *buf,
                         size_t size);

#endif
