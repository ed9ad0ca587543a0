/* Tests of the clickstream rules: what each event counts, the category intent threshold, INVITE eligibility, validation. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "ff_customer.h"
#include "ff_util.h"
#include "web/web_rules.h"

#define DAY FF_DAY_MS

/* The defaults of DESIGN.md section 4 and the settings table: category
 * intent at 3 views, visit.window 90 d, invite.interval 14 d,
 * offer.stock.min 2. */
static const web_rules_conf_t conf = {
    .intent = {.window_ms = 7 * DAY, .sku_views = 2, .cart_adds = 1, .category_views = 3,
               .cart_weight = 3, .purchase_window_ms = 30 * DAY},
    .invite_interval_ms = 14 * DAY,
    .visit_window_ms = 90 * DAY,
    .stock_min = 2,
};

#define NOW 1795430400123LL
#define MAX_FUTURE DAY /* input.max_future: 1 d */

static ff_web_event_t event(int type, const char *sku, const char *category)
{
    ff_web_event_t ev = {
        .event_id = "evt-1",
        .customer_id = "cust-1",
        .session_id = "sess-1",
        .ts = NOW - 1000,
        .type = type,
        .sku = sku,
        .category = category,
    };
    return ev;
}

/* Asserts every field of an effect, naming the event type in the message. */
static void expect_effect(const ff_web_event_t *ev, bool sku_view, bool sku_add,
                          bool category_view, int cart_delta, bool demand)
{
    web_effect_t fx = web_effect(ev);
    const char *t = ff_web_type_name(ev->type);
    cr_assert_eq(fx.sku_view, sku_view, "%s: expected %s", t,
                 sku_view ? "a SKU view" : "no SKU view");
    cr_assert_eq(fx.sku_add, sku_add, "%s: expected %s", t,
                 sku_add ? "a cart add" : "no cart add");
    cr_assert_eq(fx.category_view, category_view, "%s: expected %s", t,
                 category_view ? "a category view" : "no category view");
    cr_assert_eq(fx.cart_delta, cart_delta, "%s: expected cart delta %d, got %d", t, cart_delta,
                 fx.cart_delta);
    cr_assert_eq(fx.demand, demand, "%s: expected %s", t,
                 demand ? "to count in online demand" : "not to count in online demand");
}

/* ---- web_effect -------------------------------------------------------- */

Test(web_effect, product_view_counts_the_sku_its_category_and_demand)
{
    ff_web_event_t ev = event(FF_WEB_PRODUCT_VIEW, "sku-1", "shoes");
    expect_effect(&ev, true, false, true, 0, true);
}

Test(web_effect, product_view_without_a_category_counts_only_the_sku)
{
    ff_web_event_t ev = event(FF_WEB_PRODUCT_VIEW, "sku-1", NULL);
    expect_effect(&ev, true, false, false, 0, true);
}

Test(web_effect, wishlist_counts_like_a_product_view)
{
    ff_web_event_t ev = event(FF_WEB_WISHLIST, "sku-1", "shoes");
    expect_effect(&ev, true, false, true, 0, true);
}

Test(web_effect, add_to_cart_counts_a_cart_add_and_grows_the_cart)
{
    ff_web_event_t ev = event(FF_WEB_ADD_TO_CART, "sku-1", "shoes");
    expect_effect(&ev, false, true, false, 1, true);
}

Test(web_effect, remove_from_cart_only_shrinks_the_cart)
{
    ff_web_event_t ev = event(FF_WEB_REMOVE_FROM_CART, "sku-1", "shoes");
    expect_effect(&ev, false, false, false, -1, false);
}

Test(web_effect, page_view_with_a_category_counts_a_category_view)
{
    ff_web_event_t ev = event(FF_WEB_PAGE_VIEW, NULL, "shoes");
    expect_effect(&ev, false, false, true, 0, false);
}

Test(web_effect, page_view_without_a_category_counts_nothing)
{
    ff_web_event_t ev = event(FF_WEB_PAGE_VIEW, NULL, NULL);
    expect_effect(&ev, false, false, false, 0, false);
}

Test(web_effect, search_counts_nothing_even_with_a_sku_and_category)
{
    ff_web_event_t ev = event(FF_WEB_SEARCH, "sku-1", "shoes");
    ev.query = "running shoes";
    expect_effect(&ev, false, false, false, 0, false);
}

Test(web_effect, sku_events_without_a_sku_count_no_sku_and_leave_the_cart_alone)
{
    /* web_validate rejects these; the effect still must not count a NULL SKU. */
    ff_web_event_t view = event(FF_WEB_PRODUCT_VIEW, NULL, "shoes");
    ff_web_event_t add = event(FF_WEB_ADD_TO_CART, NULL, "shoes");
    ff_web_event_t rm = event(FF_WEB_REMOVE_FROM_CART, NULL, "shoes");
    expect_effect(&view, false, false, true, 0, false);
    expect_effect(&add, false, false, false, 0, false);
    expect_effect(&rm, false, false, false, 0, false);
}

/* ---- web_category_crossed ------------------------------------------------ */

Test(web_category_crossed, the_view_that_reaches_the_threshold_crosses)
{
    cr_assert(web_category_crossed(2, 3, &conf), "2 -> 3 views with threshold 3 crosses");
}

Test(web_category_crossed, a_jump_over_the_threshold_crosses)
{
    cr_assert(web_category_crossed(0, 3, &conf), "0 -> 3 views with threshold 3 crosses");
    cr_assert(web_category_crossed(2, 5, &conf), "2 -> 5 views with threshold 3 crosses");
}

Test(web_category_crossed, staying_below_does_not_cross)
{
    cr_assert_not(web_category_crossed(1, 2, &conf), "1 -> 2 views stays below threshold 3");
    cr_assert_not(web_category_crossed(0, 0, &conf), "0 -> 0 views stays below threshold 3");
}

Test(web_category_crossed, already_at_or_above_does_not_cross_again)
{
    cr_assert_not(web_category_crossed(3, 4, &conf),
                  "3 -> 4 views: the threshold 3 was crossed before");
    cr_assert_not(web_category_crossed(3, 3, &conf), "3 -> 3 views: nothing changed");
    cr_assert_not(web_category_crossed(7, 9, &conf), "7 -> 9 views: long past threshold 3");
}

/* ---- web_invite_check ------------------------------------------------------- */

static ff_arena_t arena;
static ff_customer_t cust;

static void customer_setup(void)
{
    ff_arena_init(&arena, 0);
    ff_customer_init(&cust, "cust-1", &arena);
}

static void customer_teardown(void)
{
    ff_arena_term(&arena);
}

TestSuite(web_invite_check, .init = customer_setup, .fini = customer_teardown);

static void add_visits(const char *store, int64_t count, int64_t last_ts)
{
    ff_visit_t *v = ff_customer_visit(&cust, store, true);
    v->count = count;
    v->last_ts = last_ts;
}

static const char *invite_name(web_invite_t r)
{
    switch (r) {
    case WEB_INVITE_OK: return "OK";
    case WEB_INVITE_NO_STORE: return "NO_STORE";
    case WEB_INVITE_TOO_SOON: return "TOO_SOON";
    case WEB_INVITE_NO_STOCK: return "NO_STOCK";
    }
    return "?";
}

static void expect_invite(int64_t ts, int64_t stock, web_invite_t want, const char *want_store)
{
    const char *store = "untouched";
    web_invite_t got = web_invite_check(&cust, ts, stock, &conf, &store);
    cr_assert_eq(got, want, "expected %s, got %s", invite_name(want), invite_name(got));
    if (want_store)
        cr_assert_str_eq(store, want_store, "expected preferred store %s, got %s", want_store,
                         store ? store : "(null)");
    else
        cr_assert_null(store, "expected no preferred store, got %s", store);
}

Test(web_invite_check, invites_to_the_preferred_store_with_stock)
{
    add_visits("store-7", 3, NOW - 10 * DAY);
    expect_invite(NOW, 5, WEB_INVITE_OK, "store-7");
}

Test(web_invite_check, a_customer_who_never_visited_has_no_store)
{
    expect_invite(NOW, 5, WEB_INVITE_NO_STORE, NULL);
}

Test(web_invite_check, a_visit_older_than_visit_window_gives_no_store)
{
    add_visits("store-7", 10, NOW - 91 * DAY);
    expect_invite(NOW, 5, WEB_INVITE_NO_STORE, NULL);
}

Test(web_invite_check, a_visit_just_inside_visit_window_counts)
{
    add_visits("store-7", 1, NOW - 90 * DAY + 1);
    expect_invite(NOW, 5, WEB_INVITE_OK, "store-7");
}

Test(web_invite_check, the_store_with_most_recent_visits_is_preferred)
{
    add_visits("store-1", 2, NOW - 1 * DAY);
    add_visits("store-2", 5, NOW - 30 * DAY);
    add_visits("store-3", 9, NOW - 100 * DAY); /* most visits, but outside the window */
    expect_invite(NOW, 5, WEB_INVITE_OK, "store-2");
}

Test(web_invite_check, no_store_wins_over_no_stock)
{
    /* Without a store there is nothing whose stock could be short. */
    expect_invite(NOW, 0, WEB_INVITE_NO_STORE, NULL);
}

Test(web_invite_check, an_invite_13_days_ago_is_too_soon)
{
    add_visits("store-7", 3, NOW - 1 * DAY);
    cust.last_invite = NOW - 13 * DAY;
    expect_invite(NOW, 5, WEB_INVITE_TOO_SOON, "store-7");
}

Test(web_invite_check, an_invite_1_ms_short_of_the_interval_is_too_soon)
{
    add_visits("store-7", 3, NOW - 1 * DAY);
    cust.last_invite = NOW - 14 * DAY + 1;
    expect_invite(NOW, 5, WEB_INVITE_TOO_SOON, "store-7");
}

Test(web_invite_check, an_invite_exactly_one_interval_ago_no_longer_blocks)
{
    /* The same convention as cap.store.interval in ff_guard: "within" is
     * strictly less than the interval. */
    add_visits("store-7", 3, NOW - 1 * DAY);
    cust.last_invite = NOW - 14 * DAY;
    expect_invite(NOW, 5, WEB_INVITE_OK, "store-7");
}

Test(web_invite_check, an_invite_after_the_event_time_blocks_a_late_event)
{
    /* A late event must not earn a second INVITE next to one already sent. */
    add_visits("store-7", 3, NOW - 2 * DAY);
    cust.last_invite = NOW;
    expect_invite(NOW - 1 * DAY, 5, WEB_INVITE_TOO_SOON, "store-7");
}

Test(web_invite_check, stock_below_stock_min_is_no_stock)
{
    add_visits("store-7", 3, NOW - 1 * DAY);
    expect_invite(NOW, 1, WEB_INVITE_NO_STOCK, "store-7");
    expect_invite(NOW, 0, WEB_INVITE_NO_STOCK, "store-7");
}

Test(web_invite_check, stock_exactly_at_stock_min_is_enough)
{
    add_visits("store-7", 3, NOW - 1 * DAY);
    expect_invite(NOW, 2, WEB_INVITE_OK, "store-7");
}

/* ---- web_validate ---------------------------------------------------------- */

static const char *validate(const ff_web_event_t *ev, char *buf, size_t size)
{
    return web_validate(ev, NOW, MAX_FUTURE, buf, size);
}

static void expect_valid(const ff_web_event_t *ev)
{
    char buf[256];
    const char *why = validate(ev, buf, sizeof buf);
    cr_assert_null(why, "%s: expected valid, rejected: %s", ff_web_type_name(ev->type), why);
}

static void expect_invalid(const ff_web_event_t *ev, const char *mention)
{
    char buf[256];
    const char *why = validate(ev, buf, sizeof buf);
    cr_assert_not_null(why, "%s: expected rejection mentioning \"%s\", was accepted",
                       ff_web_type_name(ev->type), mention);
    cr_assert(strstr(why, mention), "expected the reason to mention \"%s\", got: %s", mention,
              why);
}

Test(web_validate, accepts_every_type_in_its_usual_form)
{
    ff_web_event_t page = event(FF_WEB_PAGE_VIEW, NULL, "shoes");
    ff_web_event_t bare_page = event(FF_WEB_PAGE_VIEW, NULL, NULL);
    ff_web_event_t view = event(FF_WEB_PRODUCT_VIEW, "sku-1", "shoes");
    ff_web_event_t search = event(FF_WEB_SEARCH, NULL, NULL);
    ff_web_event_t add = event(FF_WEB_ADD_TO_CART, "sku-1", "shoes");
    ff_web_event_t rm = event(FF_WEB_REMOVE_FROM_CART, "sku-1", NULL);
    ff_web_event_t wish = event(FF_WEB_WISHLIST, "sku-1", "shoes");
    search.query = "boots";
    view.price_cents = (ff_opt_i64_t){true, 0};
    expect_valid(&page);
    expect_valid(&bare_page);
    expect_valid(&view);
    expect_valid(&search);
    expect_valid(&add);
    expect_valid(&rm);
    expect_valid(&wish);
}

Test(web_validate, rejects_missing_ids)
{
    ff_web_event_t ev = event(FF_WEB_PRODUCT_VIEW, "sku-1", "shoes");
    ev.event_id = NULL;
    expect_invalid(&ev, "event_id");
    ev = event(FF_WEB_PRODUCT_VIEW, "sku-1", "shoes");
    ev.customer_id = "";
    expect_invalid(&ev, "customer_id");
    ev = event(FF_WEB_PRODUCT_VIEW, "sku-1", "shoes");
    ev.session_id = NULL;
    expect_invalid(&ev, "session_id");
}

Test(web_validate, rejects_an_id_with_a_control_character)
{
    ff_web_event_t ev = event(FF_WEB_PRODUCT_VIEW, "sku\n1", "shoes");
    expect_invalid(&ev, "sku");
}

Test(web_validate, rejects_an_empty_category)
{
    ff_web_event_t ev = event(FF_WEB_PAGE_VIEW, NULL, "");
    expect_invalid(&ev, "category");
}

Test(web_validate, rejects_sku_events_without_a_sku)
{
    static const int types[] = {FF_WEB_PRODUCT_VIEW, FF_WEB_ADD_TO_CART,
                                FF_WEB_REMOVE_FROM_CART, FF_WEB_WISHLIST};
    for (size_t i = 0; i < FF_ARRAY_LEN(types); i++) {
        ff_web_event_t ev = event(types[i], NULL, "shoes");
        expect_invalid(&ev, "needs a sku");
    }
}

Test(web_validate, rejects_a_negative_price)
{
    ff_web_event_t ev = event(FF_WEB_PRODUCT_VIEW, "sku-1", "shoes");
    ev.price_cents = (ff_opt_i64_t){true, -1};
    expect_invalid(&ev, "price_cents");
}

Test(web_validate, rejects_a_time_beyond_max_future_and_before_1970)
{
    ff_web_event_t ev = event(FF_WEB_PRODUCT_VIEW, "sku-1", "shoes");
    ev.ts = NOW + MAX_FUTURE + 1;
    expect_invalid(&ev, "future");
    ev.ts = -1;
    expect_invalid(&ev, "1970");
}

Test(web_validate, accepts_a_time_exactly_max_future_ahead)
{
    ff_web_event_t ev = event(FF_WEB_PRODUCT_VIEW, "sku-1", "shoes");
    ev.ts = NOW + MAX_FUTURE;
    expect_valid(&ev);
}
