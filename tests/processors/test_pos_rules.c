/* Tests of the conversion rules: which outstanding offers a purchase converts, how, for how much; validation. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "ff_customer.h"
#include "ff_util.h"
#include "pos/pos_rules.h"

#define DAY FF_DAY_MS

/* conversion.window: 7 d, the default of DESIGN.md section 4. */
static const pos_rules_conf_t conf = {.conversion_window_ms = 7 * DAY};

#define NOW 1795430400123LL
#define MAX_FUTURE DAY /* input.max_future: 1 d */
#define MAX_MATCHES 8

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

TestSuite(pos_conversions, .init = customer_setup, .fini = customer_teardown);

/* An offer remembered on the customer; sku NULL makes it a category offer. */
static ff_offer_state_t *offer(const char *trigger_id, const char *sku, const char *category,
                               const char *code, int64_t ts)
{
    ff_offer_state_t *o = ff_customer_add_offer(&cust);
    o->trigger_id = trigger_id;
    o->kind = FF_OFFER_NEARBY;
    o->store_id = "store-7";
    o->sku = sku;
    o->category = category;
    o->code = code;
    o->ts = ts;
    o->expires_at = ts + 2 * 3600000LL;
    return o;
}

static ff_pos_transaction_t purchase(int64_t ts, ff_pos_line_t *lines, size_t nlines,
                                     int64_t total, const char **codes, size_t ncodes)
{
    ff_pos_transaction_t tx = {
        .event_id = "tx-1",
        .store_id = "store-7",
        .customer_id = "cust-1",
        .ts = ts,
        .lines = lines,
        .lines_cnt = nlines,
        .total_cents = total,
        .offer_codes = codes,
        .offer_codes_cnt = ncodes,
    };
    return tx;
}

static const char *match_name(int match)
{
    switch (match) {
    case FF_MATCH_OFFER_CODE: return "OFFER_CODE";
    case FF_MATCH_SKU: return "SKU";
    case FF_MATCH_CATEGORY: return "CATEGORY";
    }
    return "?";
}

static void expect_match(const pos_match_t *m, const ff_offer_state_t *o, int match,
                         int64_t revenue)
{
    cr_assert_eq(m->offer, o, "expected offer %s, got %s", o->trigger_id,
                 m->offer ? m->offer->trigger_id : "(null)");
    cr_assert_eq(m->match, match, "offer %s: expected a match by %s, got %s (%d)",
                 o->trigger_id, match_name(match), match_name(m->match), m->match);
    cr_assert_eq(m->revenue_cents, revenue, "offer %s: expected revenue %lld, got %lld",
                 o->trigger_id, (long long)revenue, (long long)m->revenue_cents);
}

static size_t convert(const ff_pos_transaction_t *tx, pos_match_t *out)
{
    return pos_conversions(&cust, tx, &conf, out, MAX_MATCHES);
}

Test(pos_conversions, by_offer_code_the_revenue_is_the_whole_basket)
{
    ff_offer_state_t *o = offer("t-1", "sku-1", "shoes", "FF-AAAA0001", NOW - DAY);
    ff_pos_line_t lines[] = {{"sku-9", "hats", 1, 2500}, {"sku-8", "socks", 2, 400}};
    const char *codes[] = {"FF-AAAA0001"};
    ff_pos_transaction_t tx = purchase(NOW, lines, 2, 3300, codes, 1);
    pos_match_t out[MAX_MATCHES];
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 1, "the code converts its offer: expected 1 conversion, got %zu", n);
    expect_match(&out[0], o, FF_MATCH_OFFER_CODE, 3300);
}

Test(pos_conversions, the_code_wins_over_the_sku)
{
    ff_offer_state_t *o = offer("t-1", "sku-1", "shoes", "FF-AAAA0001", NOW - DAY);
    ff_pos_line_t lines[] = {{"sku-1", "shoes", 1, 8000}, {"sku-8", "socks", 1, 500}};
    const char *codes[] = {"FF-OTHER001", "FF-AAAA0001"};
    ff_pos_transaction_t tx = purchase(NOW, lines, 2, 7900, codes, 2);
    pos_match_t out[MAX_MATCHES];
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 1, "expected 1 conversion, got %zu", n);
    /* The total after the code's discount, not the sum of the lines. */
    expect_match(&out[0], o, FF_MATCH_OFFER_CODE, 7900);
}

Test(pos_conversions, by_sku_the_revenue_is_the_lines_of_that_sku)
{
    ff_offer_state_t *o = offer("t-1", "sku-1", "shoes", "FF-AAAA0001", NOW - DAY);
    ff_pos_line_t lines[] = {
        {"sku-1", "shoes", 2, 500},
        {"sku-2", "shoes", 1, 300},
        {"sku-1", "shoes", 1, 450},
    };
    ff_pos_transaction_t tx = purchase(NOW, lines, 3, 1750, NULL, 0);
    pos_match_t out[MAX_MATCHES];
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 1, "expected 1 conversion, got %zu", n);
    expect_match(&out[0], o, FF_MATCH_SKU, 2 * 500 + 450);
}

Test(pos_conversions, an_unknown_code_falls_back_to_the_sku)
{
    ff_offer_state_t *o = offer("t-1", "sku-1", "shoes", "FF-AAAA0001", NOW - DAY);
    ff_pos_line_t lines[] = {{"sku-1", "shoes", 3, 1000}};
    const char *codes[] = {"FF-ZZZZ9999"};
    ff_pos_transaction_t tx = purchase(NOW, lines, 1, 3000, codes, 1);
    pos_match_t out[MAX_MATCHES];
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 1, "expected 1 conversion, got %zu", n);
    expect_match(&out[0], o, FF_MATCH_SKU, 3000);
}

Test(pos_conversions, by_category_when_the_offered_sku_is_not_bought)
{
    ff_offer_state_t *o = offer("t-1", "sku-1", "shoes", "FF-AAAA0001", NOW - DAY);
    ff_pos_line_t lines[] = {
        {"sku-2", "shoes", 1, 700},
        {"sku-8", "socks", 1, 100},
        {"sku-3", "shoes", 3, 100},
    };
    ff_pos_transaction_t tx = purchase(NOW, lines, 3, 1100, NULL, 0);
    pos_match_t out[MAX_MATCHES];
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 1, "expected 1 conversion, got %zu", n);
    expect_match(&out[0], o, FF_MATCH_CATEGORY, 700 + 3 * 100);
}

Test(pos_conversions, a_category_offer_converts_by_category)
{
    ff_offer_state_t *o = offer("t-1", NULL, "shoes", "FF-AAAA0001", NOW - DAY);
    ff_pos_line_t lines[] = {{"sku-2", "shoes", 2, 600}, {"sku-8", "socks", 1, 100}};
    ff_pos_transaction_t tx = purchase(NOW, lines, 2, 1300, NULL, 0);
    pos_match_t out[MAX_MATCHES];
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 1, "expected 1 conversion, got %zu", n);
    expect_match(&out[0], o, FF_MATCH_CATEGORY, 1200);
}

Test(pos_conversions, an_unrelated_purchase_converts_nothing)
{
    offer("t-1", "sku-1", "shoes", "FF-AAAA0001", NOW - DAY);
    ff_pos_line_t lines[] = {{"sku-8", "socks", 1, 100}};
    ff_pos_transaction_t tx = purchase(NOW, lines, 1, 100, NULL, 0);
    pos_match_t out[MAX_MATCHES];
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 0, "no code, SKU or category in common: expected 0 conversions, got %zu", n);
}

Test(pos_conversions, a_converted_offer_never_converts_again)
{
    ff_offer_state_t *o = offer("t-1", "sku-1", "shoes", "FF-AAAA0001", NOW - DAY);
    ff_pos_line_t lines[] = {{"sku-1", "shoes", 1, 8000}};
    const char *codes[] = {"FF-AAAA0001"};
    ff_pos_transaction_t tx = purchase(NOW, lines, 1, 8000, codes, 1);
    pos_match_t out[MAX_MATCHES];
    o->converted = true;
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 0, "offer already converted: expected 0 conversions, got %zu", n);
}

Test(pos_conversions, an_offer_made_after_the_purchase_never_converts)
{
    offer("t-1", "sku-1", "shoes", "FF-AAAA0001", NOW + 1);
    ff_pos_line_t lines[] = {{"sku-1", "shoes", 1, 8000}};
    const char *codes[] = {"FF-AAAA0001"};
    ff_pos_transaction_t tx = purchase(NOW, lines, 1, 8000, codes, 1);
    pos_match_t out[MAX_MATCHES];
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 0, "offer 1 ms after the purchase: expected 0 conversions, got %zu", n);
}

Test(pos_conversions, exactly_one_window_after_the_offer_converts)
{
    ff_offer_state_t *o = offer("t-1", "sku-1", "shoes", "FF-AAAA0001", NOW - 7 * DAY);
    ff_pos_line_t lines[] = {{"sku-1", "shoes", 1, 8000}};
    ff_pos_transaction_t tx = purchase(NOW, lines, 1, 8000, NULL, 0);
    pos_match_t out[MAX_MATCHES];
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 1, "purchase exactly 7 d after the offer: expected 1 conversion, got %zu", n);
    expect_match(&out[0], o, FF_MATCH_SKU, 8000);
}

Test(pos_conversions, one_ms_past_the_window_does_not_convert)
{
    offer("t-1", "sku-1", "shoes", "FF-AAAA0001", NOW - 7 * DAY - 1);
    ff_pos_line_t lines[] = {{"sku-1", "shoes", 1, 8000}};
    const char *codes[] = {"FF-AAAA0001"};
    ff_pos_transaction_t tx = purchase(NOW, lines, 1, 8000, codes, 1);
    pos_match_t out[MAX_MATCHES];
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 0, "purchase 7 d + 1 ms after the offer: expected 0 conversions, got %zu",
                 n);
}

Test(pos_conversions, a_control_offer_converts_like_any_other)
{
    ff_offer_state_t *o = offer("t-1", "sku-1", "shoes", "FF-AAAA0001", NOW - DAY);
    ff_pos_line_t lines[] = {{"sku-1", "shoes", 1, 8000}};
    ff_pos_transaction_t tx = purchase(NOW, lines, 1, 8000, NULL, 0);
    pos_match_t out[MAX_MATCHES];
    o->control = true;
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 1, "a withheld (control) offer converts: expected 1, got %zu", n);
    expect_match(&out[0], o, FF_MATCH_SKU, 8000);
    cr_assert(out[0].offer->control, "the caller reads treatment CONTROL from offer->control");
}

Test(pos_conversions, a_purchase_matching_two_offers_converts_both)
{
    ff_offer_state_t *a = offer("t-a", "sku-1", "shoes", "FF-AAAA0001", NOW - 2 * DAY);
    ff_offer_state_t *b = offer("t-b", "sku-5", "hats", "FF-BBBB0002", NOW - DAY);
    ff_pos_line_t lines[] = {{"sku-1", "shoes", 1, 8000}, {"sku-5", "hats", 2, 1500}};
    const char *codes[] = {"FF-AAAA0001"};
    ff_pos_transaction_t tx = purchase(NOW, lines, 2, 10500, codes, 1);
    pos_match_t out[MAX_MATCHES];
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 2, "both offers are explained by the basket: expected 2, got %zu", n);
    /* Offer a's code is in the basket; offer b's is not, so b matches by its SKU. */
    expect_match(&out[0], a, FF_MATCH_OFFER_CODE, 10500);
    expect_match(&out[1], b, FF_MATCH_SKU, 3000);
}

Test(pos_conversions, converts_only_the_outstanding_offers_among_several)
{
    ff_offer_state_t *old = offer("t-old", "sku-1", "shoes", "FF-OLD00001", NOW - 8 * DAY);
    ff_offer_state_t *done = offer("t-done", "sku-1", "shoes", "FF-DONE0001", NOW - 3 * DAY);
    ff_offer_state_t *live = offer("t-live", "sku-1", "shoes", "FF-LIVE0001", NOW - DAY);
    ff_pos_line_t lines[] = {{"sku-1", "shoes", 1, 8000}};
    ff_pos_transaction_t tx = purchase(NOW, lines, 1, 8000, NULL, 0);
    pos_match_t out[MAX_MATCHES];
    (void)old;
    done->converted = true;
    size_t n = convert(&tx, out);
    cr_assert_eq(n, 1, "only t-live is outstanding: expected 1 conversion, got %zu", n);
    expect_match(&out[0], live, FF_MATCH_SKU, 8000);
}

Test(pos_conversions, writes_at_most_max_matches)
{
    ff_offer_state_t *a = offer("t-a", "sku-1", "shoes", "FF-AAAA0001", NOW - 2 * DAY);
    offer("t-b", "sku-1", "shoes", "FF-BBBB0002", NOW - DAY);
    ff_pos_line_t lines[] = {{"sku-1", "shoes", 1, 8000}};
    ff_pos_transaction_t tx = purchase(NOW, lines, 1, 8000, NULL, 0);
    pos_match_t out[1];
    size_t n = pos_conversions(&cust, &tx, &conf, out, 1);
    cr_assert_eq(n, 1, "room for one match: expected 1, got %zu", n);
    expect_match(&out[0], a, FF_MATCH_SKU, 8000);
}

/* ---- pos_validate ---------------------------------------------------------- */

static ff_pos_line_t valid_lines[2];

static ff_pos_transaction_t valid_purchase(void)
{
    valid_lines[0] = (ff_pos_line_t){"sku-1", "shoes", 1, 8000};
    valid_lines[1] = (ff_pos_line_t){"sku-8", "socks", 2, 500};
    return purchase(NOW - 1000, valid_lines, 2, 9000, NULL, 0);
}

static void expect_pos(const ff_pos_transaction_t *tx, const char *mention)
{
    char buf[256];
    const char *why = pos_validate(tx, NOW, MAX_FUTURE, buf, sizeof buf);
    if (!mention) {
        cr_assert_null(why, "expected a valid transaction, rejected: %s", why);
        return;
    }
    cr_assert_not_null(why, "expected rejection mentioning \"%s\", was accepted", mention);
    cr_assert(strstr(why, mention), "expected the reason to mention \"%s\", got: %s", mention,
              why);
}

Test(pos_validate, accepts_an_ordinary_purchase)
{
    ff_pos_transaction_t tx = valid_purchase();
    const char *codes[] = {"FF-AAAA0001"};
    expect_pos(&tx, NULL);
    tx.offer_codes = codes;
    tx.offer_codes_cnt = 1;
    expect_pos(&tx, NULL);
}

Test(pos_validate, rejects_a_negative_quantity)
{
    ff_pos_transaction_t tx = valid_purchase();
    valid_lines[1].quantity = -1;
    expect_pos(&tx, "quantity");
}

Test(pos_validate, rejects_a_zero_quantity)
{
    ff_pos_transaction_t tx = valid_purchase();
    valid_lines[0].quantity = 0;
    expect_pos(&tx, "quantity");
}

Test(pos_validate, rejects_a_negative_unit_price)
{
    ff_pos_transaction_t tx = valid_purchase();
    valid_lines[1].unit_price_cents = -1;
    expect_pos(&tx, "unit_price_cents");
}

Test(pos_validate, accepts_a_free_item)
{
    ff_pos_transaction_t tx = valid_purchase();
    valid_lines[1].unit_price_cents = 0;
    expect_pos(&tx, NULL);
}

Test(pos_validate, rejects_a_negative_total)
{
    ff_pos_transaction_t tx = valid_purchase();
    tx.total_cents = -1;
    expect_pos(&tx, "total_cents");
}

Test(pos_validate, rejects_missing_ids)
{
    ff_pos_transaction_t tx = valid_purchase();
    tx.event_id = NULL;
    expect_pos(&tx, "event_id");
    tx = valid_purchase();
    tx.store_id = "";
    expect_pos(&tx, "store_id");
    tx = valid_purchase();
    valid_lines[0].sku = NULL;
    expect_pos(&tx, "lines.sku");
    tx = valid_purchase();
    valid_lines[1].category = "";
    expect_pos(&tx, "lines.category");
}

Test(pos_validate, rejects_an_empty_offer_code)
{
    ff_pos_transaction_t tx = valid_purchase();
    const char *codes[] = {"FF-AAAA0001", ""};
    tx.offer_codes = codes;
    tx.offer_codes_cnt = 2;
    expect_pos(&tx, "offer_codes");
}

Test(pos_validate, accepts_a_transaction_without_lines)
{
    ff_pos_transaction_t tx = purchase(NOW - 1000, NULL, 0, 0, NULL, 0);
    expect_pos(&tx, NULL);
}

Test(pos_validate, accepts_an_anonymous_customer)
{
    ff_pos_transaction_t tx = valid_purchase();
    tx.customer_id = NULL;
    expect_pos(&tx, NULL);
}

Test(pos_validate, rejects_a_time_beyond_max_future)
{
    ff_pos_transaction_t tx = valid_purchase();
    tx.ts = NOW + MAX_FUTURE + 1;
    expect_pos(&tx, "future");
}
