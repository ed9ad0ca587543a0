/* Tests of ff_customer's pure questions: intent window, thresholds, candidates, stores, cart. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ff_customer.h"
#include "ff_util.h"

/* The decision every test asks about, and the settings' defaults (DESIGN 4). */
#define DECISION "2026-11-23T12:00:00Z"
#define WINDOW_MS (7 * FF_DAY_MS)
#define PURCHASE_WINDOW_MS (30 * FF_DAY_MS)
#define VISIT_WINDOW_MS (90 * FF_DAY_MS)
#define MAX_OUT 16

static ff_arena_t arena;
static ff_customer_t cust;
static ff_intent_conf_t iconf;
static ff_candidate_t out[MAX_OUT];
static size_t nskus;

static void setup(void)
{
    ff_arena_init(&arena, 4096);
    ff_customer_init(&cust, "C1", &arena);
    iconf = (ff_intent_conf_t){
        .window_ms = WINDOW_MS,
        .sku_views = 2,
        .cart_adds = 1,
        .category_views = 3,
        .cart_weight = 3,
        .purchase_window_ms = PURCHASE_WINDOW_MS,
    };
    memset(out, 0, sizeof out);
    nskus = (size_t)-1;
}

static void teardown(void)
{
    ff_arena_term(&arena);
}

TestSuite(ff_intent, .init = setup, .fini = teardown);
TestSuite(ff_candidates, .init = setup, .fini = teardown);
TestSuite(ff_purchase_window, .init = setup, .fini = teardown);
TestSuite(ff_preferred_store, .init = setup, .fini = teardown);
TestSuite(ff_cart, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------------ */

static int64_t at(const char *rfc3339)
{
    int64_t ms = 0;
    cr_assert_eq(ff_parse_time_ms(rfc3339, &ms), 0, "test time '%s' should parse", rfc3339);
    return ms;
}

/* n events of `kind` for key at time t, in the day bucket of t (as the state is kept). */
static void count_at(char kind, const char *key, const char *t, int64_t n)
{
    ff_customer_count(&cust, ff_day_of_ms(at(t)), kind, key, NULL, n);
}

static void views(const char *sku, const char *t, int64_t n)
{
    count_at('v', sku, t, n);
}

static void adds(const char *sku, const char *t, int64_t n)
{
    count_at('a', sku, t, n);
}

static void category_views(const char *category, const char *t, int64_t n)
{
    count_at('c', category, t, n);
}

static void bought_at(const char *sku, int64_t ts)
{
    ff_tsval_t *b =
        ff_customer_tsval(&cust, &cust.bought, &cust.nbought, &cust.capbought, sku, true);
    b->ts = ts;
}

static void visited(const char *store_id, int64_t count, int64_t last_ts)
{
    ff_visit_t *v = ff_customer_visit(&cust, store_id, true);
    v->count = count;
    v->last_ts = last_ts;
}

static size_t candidates(void)
{
    return ff_intent_candidates(&cust, &iconf, at(DECISION), out, MAX_OUT, &nskus);
}

/* ---- the intent window -------------------------------------------------------- */

Test(ff_intent, a_7d_window_is_the_decision_day_and_the_six_days_before)
{
    int64_t first = 0, last = 0;
    ff_intent_days(&iconf, at(DECISION), &first, &last);
    cr_assert_eq(last, ff_day_of_ms(at("2026-11-23T00:00:00Z")),
                 "last day: the decision's UTC day");
    cr_assert_eq(first, ff_day_of_ms(at("2026-11-17T00:00:00Z")), "first day: 2026-11-17");
}

Test(ff_intent, a_window_of_part_of_a_day_rounds_up_to_whole_days)
{
    int64_t first = 0, last = 0;
    iconf.window_ms = 36 * 3600000LL;
    ff_intent_days(&iconf, at(DECISION), &first, &last);
    cr_assert_eq(last - first, 1, "36 h covers 2 whole days, got %lld",
                 (long long)(last - first + 1));
    iconf.window_ms = 3600000LL;
    ff_intent_days(&iconf, at(DECISION), &first, &last);
    cr_assert_eq(first, last, "1 h covers the decision's day only");
}

Test(ff_intent, a_view_at_the_first_millisecond_of_the_window_counts)
{
    views("K1", "2026-11-17T00:00:00.000Z", 1);
    cr_assert_eq(ff_intent_count(&cust, &iconf, 'v', "K1", at(DECISION)), 1,
                 "a view at 2026-11-17T00:00:00.000Z is inside a 7d window decided on 2026-11-23");
}

Test(ff_intent, a_view_one_millisecond_before_the_window_does_not_count)
{
    views("K1", "2026-11-16T23:59:59.999Z", 1);
    cr_assert_eq(ff_intent_count(&cust, &iconf, 'v', "K1", at(DECISION)), 0,
                 "a view at 2026-11-16T23:59:59.999Z is outside a 7d window decided on 2026-11-23");
}

Test(ff_intent, counts_add_up_over_the_days_of_the_window_by_kind_and_key)
{
    views("K1", "2026-11-18T10:00:00Z", 2);
    views("K1", "2026-11-18T11:00:00Z", 1); /* same bucket */
    views("K1", "2026-11-23T09:00:00Z", 4);
    views("K2", "2026-11-23T09:00:00Z", 5);
    adds("K1", "2026-11-23T09:00:00Z", 7);
    views("K1", "2026-11-10T09:00:00Z", 100); /* outside */
    cr_assert_eq(ff_intent_count(&cust, &iconf, 'v', "K1", at(DECISION)), 7,
                 "2 + 1 + 4 views of K1");
    cr_assert_eq(ff_intent_count(&cust, &iconf, 'a', "K1", at(DECISION)), 7, "7 cart adds of K1");
    cr_assert_eq(ff_intent_count(&cust, &iconf, 'v', "K3", at(DECISION)), 0, "nothing for K3");
}

Test(ff_intent, counting_the_same_bucket_twice_adds_to_one_counter)
{
    views("K1", "2026-11-20T10:00:00Z", 1);
    views("K1", "2026-11-20T20:00:00Z", 2);
    cr_assert_eq(cust.ncounts, 1, "one counter per (day, kind, key), got %zu", cust.ncounts);
    cr_assert_eq(cust.counts[0].n, 3, "the counter holds 1 + 2");
}

Test(ff_intent, the_category_of_a_sku_is_the_one_of_its_latest_day)
{
    cr_assert_null(ff_customer_category_of(&cust, "K1"), "no category before one is set");
    ff_customer_set_category(&cust, "K1", "shoes", 20414);
    ff_customer_set_category(&cust, "K1", "boots", 20415);
    cr_assert_str_eq(ff_customer_category_of(&cust, "K1"), "boots");
    ff_customer_set_category(&cust, "K1", "sandals", 20413);
    cr_assert_str_eq(ff_customer_category_of(&cust, "K1"), "boots", "an older day does not win");
    cr_assert_eq(ff_customer_skucat(&cust, "K1")->day, 20415);
    ff_customer_set_category(&cust, "K1", "clogs", 20415);
    cr_assert_str_eq(ff_customer_category_of(&cust, "K1"), "clogs", "the same day: the last set");
    cr_assert_eq(cust.nskucats, 1, "one entry per SKU");
}

Test(ff_intent, settling_a_customer_with_nothing_read_leaves_it_empty)
{
    /* A customer with no intent at all: nothing to sort (and, under UBSan,
     * no NULL array handed to qsort). */
    ff_customer_categories_settle(&cust);
    ff_customer_counts_settle(&cust);
    cr_assert_eq(cust.nskucats, 0);
    cr_assert_eq(cust.ncounts, 0);
    cr_assert(cust.counts_sorted);
    cr_assert_eq(candidates(), 0);
}

Test(ff_intent, categories_read_in_bulk_keep_each_skus_latest_day)
{
    /* As a read of three buckets, newest first, in no SKU order. */
    ff_customer_category_append(&cust, "K9", "hats", 20415);
    ff_customer_category_append(&cust, "K1", "boots", 20415);
    ff_customer_category_append(&cust, "K5", "socks", 20413);
    ff_customer_category_append(&cust, "K1", "shoes", 20414);
    ff_customer_category_append(&cust, "K9", "caps", 20413);
    ff_customer_category_append(&cust, "K1", "sandals", 20413);
    ff_customer_categories_settle(&cust);
    cr_assert_eq(cust.nskucats, 3, "one entry per SKU, got %zu", cust.nskucats);
    cr_assert_str_eq(ff_customer_category_of(&cust, "K1"), "boots");
    cr_assert_eq(ff_customer_skucat(&cust, "K1")->day, 20415);
    cr_assert_str_eq(ff_customer_category_of(&cust, "K5"), "socks");
    cr_assert_str_eq(ff_customer_category_of(&cust, "K9"), "hats");
    /* Set after the read, in between and at both ends: all still found. */
    ff_customer_set_category(&cust, "K3", "belts", 20416);
    ff_customer_set_category(&cust, "K0", "bags", 20416);
    ff_customer_set_category(&cust, "K99", "ties", 20416);
    ff_customer_set_category(&cust, "K5", "tights", 20416);
    cr_assert_eq(cust.nskucats, 6);
    const char *want[][2] = {{"K0", "bags"},  {"K1", "boots"}, {"K3", "belts"},
                             {"K5", "tights"}, {"K9", "hats"},  {"K99", "ties"}};
    for (size_t i = 0; i < 6; i++) {
        cr_assert_str_eq(cust.skucats[i].sku, want[i][0], "entry %zu is out of order", i);
        cr_assert_str_eq(ff_customer_category_of(&cust, want[i][0]), want[i][1]);
    }
    cr_assert_null(ff_customer_category_of(&cust, "K2"));
}

/* A SKU's counter as stored names its category after FF_SKU_CATEGORY_SEP:
 * read, it counts for the SKU, and a candidate takes the category of the
 * latest day that names one, from a counter or from a category filed apart
 * (a "k:SKU" field written before counters named it, or one set since). */
Test(ff_candidates, a_candidate_takes_the_category_its_latest_counter_names)
{
    int64_t d = ff_day_of_ms(at(DECISION));
    ff_customer_count_append(&cust, d - 2, 'v', "K1\x1fshoes", 1);
    ff_customer_count_append(&cust, d - 1, 'v', "K1\x1f" "boots", 1);
    ff_customer_count_append(&cust, d - 3, 'a', "K1\x1fsandals", 1);
    ff_customer_count_append(&cust, d, 'v', "K2", 2);           /* written before: no category */
    ff_customer_category_append(&cust, "K2", "hats", d - 1);     /* ... but filed apart */
    ff_customer_count_append(&cust, d - 1, 'v', "K3\x1f" "belts", 2);
    ff_customer_category_append(&cust, "K3", "ties", d - 2);     /* older than the counter */
    ff_customer_count_append(&cust, d - 1, 'v', "K4\x1fsocks", 2);
    ff_customer_category_append(&cust, "K4", "tights", d);       /* newer than the counter */
    ff_customer_count_append(&cust, d, 'c', "a\x1f" "b", 3);        /* a category is never split */
    ff_customer_categories_settle(&cust);
    ff_customer_counts_settle(&cust);
    /* Counted after the read (as footfall-web writes): the latest names win. */
    ff_customer_count(&cust, d - 1, 'v', "K4", "socks", 1);
    ff_customer_count(&cust, d - 1, 'v', "K5", "mitts", 1);
    ff_customer_count(&cust, d - 1, 'v', "K5", "gloves", 1);

    cr_assert_eq(ff_intent_count(&cust, &iconf, 'v', "K1", at(DECISION)), 2,
                 "both days' views count for K1");
    cr_assert_eq(ff_intent_count(&cust, &iconf, 'c', "a\x1f" "b", at(DECISION)), 3);
    cr_assert_eq(candidates(), 6, "K1 (score 5), K4 (3), K2, K3, K5 and the category, got %zu",
                 candidates());
    const char *want[][2] = {{"K1", "boots"}, {"K4", "tights"}, {"K2", "hats"},
                             {"K3", "belts"}, {"K5", "gloves"}};
    for (size_t i = 0; i < 5; i++) {
        cr_assert_str_eq(out[i].sku, want[i][0], "candidate %zu", i);
        cr_assert_str_eq(out[i].category, want[i][1], "the category of %s", want[i][0]);
    }
    cr_assert_eq(out[0].views, 2);
    cr_assert_eq(out[0].adds, 1);
    cr_assert_str_eq(out[5].category, "a\x1f" "b");
    cr_assert_eq(cust.ncounts, 8, "K4's counter added to, K5's added once");
}

Test(ff_candidates, counters_settled_after_a_read_score_as_before_and_after_a_new_count)
{
    /* Spread over days and kinds, keys in no order: as a read leaves them. */
    views("K7", "2026-11-20T10:00:00Z", 1);
    views("K2", "2026-11-21T10:00:00Z", 4);
    adds("K7", "2026-11-22T10:00:00Z", 1);
    category_views("shoes", "2026-11-21T10:00:00Z", 2);
    views("K7", "2026-11-22T10:00:00Z", 2);
    category_views("shoes", "2026-11-22T10:00:00Z", 2);
    views("K2", "2026-11-22T10:00:00Z", 1);
    ff_candidate_t before[MAX_OUT];
    size_t n = candidates();
    memcpy(before, out, sizeof before);
    ff_customer_counts_settle(&cust);
    cr_assert(cust.counts_sorted);
    cr_assert_eq(candidates(), n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(out[i].sku ? out[i].sku : out[i].category,
                         before[i].sku ? before[i].sku : before[i].category);
        cr_assert_eq(out[i].views, before[i].views);
        cr_assert_eq(out[i].adds, before[i].adds);
    }
    cr_assert_eq(n, 3, "K7 (3 views, 1 add), K2 (5 views), shoes (4)");
    /* A new key after the settle: sorted no longer, and counted. */
    views("K0", "2026-11-22T10:00:00Z", 9);
    cr_assert_not(cust.counts_sorted);
    cr_assert_eq(candidates(), 4);
    cr_assert_str_eq(out[0].sku, "K0");
    cr_assert_eq(out[0].views, 9);
}

Test(ff_candidates, a_decision_after_a_count_sees_it_and_one_before_sees_the_same_as_before)
{
    /* A count made between two decisions shows in the second. */
    views("K1", "2026-11-22T10:00:00Z", 3);
    views("K2", "2026-11-21T10:00:00Z", 2);
    category_views("shoes", "2026-11-22T10:00:00Z", 3);
    cr_assert_eq(candidates(), 3);
    cr_assert_str_eq(out[0].sku, "K1");
    cr_assert_eq(out[0].views, 3);
    cr_assert_eq(ff_intent_interests(&cust, &iconf, at(DECISION), out, MAX_OUT), 3);
    cr_assert_str_eq(out[0].sku, "K1", "interests use the same sums");
    /* More on an existing counter: K2's 2 views become 6. */
    views("K2", "2026-11-21T10:00:00Z", 4);
    cr_assert_eq(candidates(), 3);
    cr_assert_str_eq(out[0].sku, "K2");
    cr_assert_eq(out[0].views, 6);
    cr_assert_eq(out[2].views, 3, "shoes");
    /* An existing category counter, and a decision on another day (its own window). */
    category_views("shoes", "2026-11-22T10:00:00Z", 2);
    cr_assert_eq(candidates(), 3);
    cr_assert_str_eq(out[2].category, "shoes");
    cr_assert_eq(out[2].views, 5);
    cr_assert_eq(ff_intent_candidates(&cust, &iconf, at("2026-11-28T12:00:00Z"), out, MAX_OUT,
                                      &nskus),
                 2, "on the 28th the 21st has left the window: K1 and shoes, not K2");
    cr_assert_str_eq(out[0].sku, "K1");
    cr_assert_str_eq(out[1].category, "shoes");
    cr_assert_eq(candidates(), 3, "the 23rd's window as before");
    cr_assert_str_eq(out[0].sku, "K2");
}

/* ---- thresholds --------------------------------------------------------------- */

Test(ff_candidates, two_views_of_a_sku_is_intent)
{
    views("K1", "2026-11-22T10:00:00Z", 2);
    cr_assert_eq(candidates(), 1, "2 views reach intent.sku.views = 2");
    cr_assert_str_eq(out[0].sku, "K1");
    cr_assert_eq(nskus, 1);
}

Test(ff_candidates, one_view_of_a_sku_is_not_intent)
{
    views("K1", "2026-11-22T10:00:00Z", 1);
    cr_assert_eq(candidates(), 0, "1 view is below intent.sku.views = 2");
    cr_assert_eq(nskus, 0);
}

Test(ff_candidates, one_cart_add_is_intent)
{
    adds("K1", "2026-11-22T10:00:00Z", 1);
    cr_assert_eq(candidates(), 1, "1 cart add reaches intent.cart.adds = 1, with no view");
    cr_assert_str_eq(out[0].sku, "K1");
    cr_assert_eq(out[0].views, 0);
    cr_assert_eq(out[0].adds, 1);
}

Test(ff_candidates, three_category_views_is_category_intent)
{
    category_views("shoes", "2026-11-22T10:00:00Z", 3);
    cr_assert_eq(candidates(), 1, "3 views reach intent.category.views = 3");
    cr_assert_null(out[0].sku, "a category candidate has no SKU");
    cr_assert_str_eq(out[0].category, "shoes");
    cr_assert_eq(out[0].views, 3);
    cr_assert_eq(nskus, 0);
}

Test(ff_candidates, two_category_views_is_not_category_intent)
{
    category_views("shoes", "2026-11-22T10:00:00Z", 2);
    cr_assert_eq(candidates(), 0, "2 views are below intent.category.views = 3");
}

Test(ff_candidates, views_on_different_days_of_the_window_add_up_to_intent)
{
    views("K1", "2026-11-17T00:00:00.000Z", 1);
    views("K1", "2026-11-23T11:59:59.999Z", 1);
    cr_assert_eq(candidates(), 1, "one view on the first and one on the last day make 2");
}

Test(ff_candidates, a_view_one_millisecond_outside_the_window_does_not_make_intent)
{
    views("K1", "2026-11-16T23:59:59.999Z", 1);
    views("K1", "2026-11-23T11:00:00Z", 1);
    cr_assert_eq(candidates(), 0, "only 1 of the 2 views is within the window");
}

/* ---- ranking ------------------------------------------------------------------ */

Test(ff_candidates, one_cart_add_outranks_two_views_with_cart_weight_3)
{
    views("K-A", "2026-11-22T10:00:00Z", 2);
    adds("K-B", "2026-11-22T10:00:00Z", 1);
    cr_assert_eq(candidates(), 2);
    cr_assert_str_eq(out[0].sku, "K-B",
                     "1 add x 3 = 3 beats 2 views (and K-B sorts after K-A by name)");
    cr_assert_float_eq(out[0].score, 3.0, 1e-9);
    cr_assert_str_eq(out[1].sku, "K-A");
    cr_assert_float_eq(out[1].score, 2.0, 1e-9);
}

Test(ff_candidates, the_score_is_views_plus_cart_weight_times_adds)
{
    views("K1", "2026-11-22T10:00:00Z", 4);
    adds("K1", "2026-11-21T10:00:00Z", 2);
    ff_customer_set_category(&cust, "K1", "shoes", 20414);
    cr_assert_eq(candidates(), 1);
    cr_assert_eq(out[0].views, 4);
    cr_assert_eq(out[0].adds, 2);
    cr_assert_float_eq(out[0].score, 4.0 + 3.0 * 2.0, 1e-9);
    cr_assert_str_eq(out[0].category, "shoes", "a SKU candidate carries its category");
}

Test(ff_candidates, equal_scores_are_ordered_by_sku_name)
{
    views("K-C", "2026-11-22T10:00:00Z", 2);
    views("K-A", "2026-11-22T10:00:00Z", 2);
    views("K-B", "2026-11-22T10:00:00Z", 2);
    cr_assert_eq(candidates(), 3);
    cr_assert_str_eq(out[0].sku, "K-A");
    cr_assert_str_eq(out[1].sku, "K-B");
    cr_assert_str_eq(out[2].sku, "K-C");
}

Test(ff_candidates, categories_come_after_skus_even_with_a_higher_score)
{
    category_views("shoes", "2026-11-22T10:00:00Z", 10);
    views("K1", "2026-11-22T10:00:00Z", 2);
    cr_assert_eq(candidates(), 2);
    cr_assert_eq(nskus, 1, "one SKU, then the category");
    cr_assert_str_eq(out[0].sku, "K1");
    cr_assert_null(out[1].sku);
    cr_assert_str_eq(out[1].category, "shoes");
}

Test(ff_candidates, categories_are_ranked_by_views_then_name)
{
    category_views("socks", "2026-11-22T10:00:00Z", 3);
    category_views("boots", "2026-11-22T10:00:00Z", 3);
    category_views("hats", "2026-11-22T10:00:00Z", 5);
    cr_assert_eq(candidates(), 3);
    cr_assert_str_eq(out[0].category, "hats", "5 views first");
    cr_assert_str_eq(out[1].category, "boots", "then the tie by name");
    cr_assert_str_eq(out[2].category, "socks");
}

Test(ff_candidates, nskus_counts_only_the_skus_that_reach_intent)
{
    views("K1", "2026-11-22T10:00:00Z", 2);
    adds("K2", "2026-11-22T10:00:00Z", 1);
    views("K3", "2026-11-22T10:00:00Z", 1); /* below */
    category_views("shoes", "2026-11-22T10:00:00Z", 3);
    category_views("hats", "2026-11-22T10:00:00Z", 2); /* below */
    cr_assert_eq(candidates(), 3, "K2, K1 and shoes");
    cr_assert_eq(nskus, 2, "K2 and K1 are SKUs");
    cr_assert_str_eq(out[0].sku, "K2");
    cr_assert_str_eq(out[1].sku, "K1");
    cr_assert_str_eq(out[2].category, "shoes");
}

Test(ff_candidates, no_state_means_no_candidates)
{
    cr_assert_eq(candidates(), 0);
    cr_assert_eq(nskus, 0);
}

Test(ff_candidates, a_max_smaller_than_the_skus_keeps_the_best_ones)
{
    /* K-A is counted first but scores lower: the one slot must go to K-B. */
    views("K-A", "2026-11-22T10:00:00Z", 2);
    views("K-B", "2026-11-22T10:00:00Z", 5);
    size_t n = ff_intent_candidates(&cust, &iconf, at(DECISION), out, 1, &nskus);
    cr_assert_eq(n, 1);
    cr_assert_eq(nskus, 1);
    cr_assert_str_eq(out[0].sku, "K-B", "the best candidate (5 views) in the only slot, got %s",
                     out[0].sku);
}

Test(ff_candidates, the_best_sku_wins_however_many_the_customer_has_seen)
{
    /* 400 SKUs seen once on two days each, the best one counted last. */
    char sku[16];
    for (int i = 0; i < 400; i++) {
        snprintf(sku, sizeof sku, "K%03d", i);
        views(sku, "2026-11-21T10:00:00Z", 1);
        views(sku, "2026-11-22T10:00:00Z", 1);
    }
    views("K399", "2026-11-22T11:00:00Z", 7); /* the same day's counter: 8 that day */
    adds("K398", "2026-11-22T11:00:00Z", 1);
    ff_customer_set_category(&cust, "K399", "shoes", ff_day_of_ms(at("2026-11-22T10:00:00Z")));
    size_t n = ff_intent_candidates(&cust, &iconf, at(DECISION), out, 2, &nskus);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(out[0].sku, "K399");
    cr_assert_eq(out[0].views, 9, "both days summed");
    cr_assert_str_eq(out[0].category, "shoes");
    cr_assert_str_eq(out[1].sku, "K398", "a cart add outweighs two views");
    cr_assert_eq(out[1].adds, 1);
    cr_assert_str_eq(out[1].category, "", "no category known");
}

Test(ff_candidates, a_max_filled_by_skus_leaves_no_room_for_categories)
{
    views("K1", "2026-11-22T10:00:00Z", 2);
    views("K2", "2026-11-22T10:00:00Z", 2);
    category_views("shoes", "2026-11-22T10:00:00Z", 3);
    size_t n = ff_intent_candidates(&cust, &iconf, at(DECISION), out, 2, &nskus);
    cr_assert_eq(n, 2, "at most max written");
    cr_assert_eq(nskus, 2);
}

Test(ff_candidates, interests_include_what_is_below_the_thresholds)
{
    views("K1", "2026-11-22T10:00:00Z", 1);
    category_views("shoes", "2026-11-22T10:00:00Z", 1);
    cr_assert_eq(candidates(), 0, "nothing reaches a threshold");
    size_t n = ff_intent_interests(&cust, &iconf, at(DECISION), out, MAX_OUT);
    cr_assert_eq(n, 2, "but both are interests");
    cr_assert_str_eq(out[0].sku, "K1", "tie at 1: K1 sorts before shoes");
    cr_assert_str_eq(out[1].category, "shoes");
}

Test(ff_candidates, interests_are_ranked_best_first_across_skus_and_categories)
{
    views("K1", "2026-11-22T10:00:00Z", 1);
    category_views("shoes", "2026-11-22T10:00:00Z", 5);
    adds("K2", "2026-11-22T10:00:00Z", 1);
    size_t n = ff_intent_interests(&cust, &iconf, at(DECISION), out, MAX_OUT);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(out[0].category, "shoes", "5 views first");
    cr_assert_str_eq(out[1].sku, "K2", "then 1 add x 3");
    cr_assert_str_eq(out[2].sku, "K1");
}

Test(ff_candidates, interests_with_a_small_max_keep_the_best_ones)
{
    /* A staff heads-up asks for the top few: the top one here is the category. */
    views("K1", "2026-11-22T10:00:00Z", 1);
    category_views("shoes", "2026-11-22T10:00:00Z", 5);
    size_t n = ff_intent_interests(&cust, &iconf, at(DECISION), out, 1);
    cr_assert_eq(n, 1);
    cr_assert_null(out[0].sku, "the best interest is category shoes (5 views), got SKU %s",
                   out[0].sku ? out[0].sku : "(none)");
    cr_assert_str_eq(out[0].category, "shoes");
}

/* The ranking a decision must see, computed the slow and obvious way: every
 * SKU's sums by ff_intent_count, its purchase by ff_customer_bought_recently,
 * all sorted by score then name. */
static int cmp_reference(const void *a, const void *b)
{
    const ff_candidate_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->sku, y->sku);
}

/* A fixed pseudo-random sequence (xorshift64): below(n) in [0, n). */
static uint64_t rng_state = 88172645463325252ULL;

static int64_t below(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (int64_t)(rng_state % n);
}

static size_t reference_candidates(char skus[][16], size_t nskus_all, ff_candidate_t *ref)
{
    int64_t ts = at(DECISION);
    size_t n = 0;
    for (size_t i = 0; i < nskus_all; i++) {
        int64_t v = ff_intent_count(&cust, &iconf, 'v', skus[i], ts);
        int64_t a = ff_intent_count(&cust, &iconf, 'a', skus[i], ts);
        if (v < iconf.sku_views && a < iconf.cart_adds)
            continue;
        if (ff_customer_bought_recently(&cust, &iconf, skus[i], ts))
            continue;
        const char *cat = ff_customer_category_of(&cust, skus[i]);
        ref[n++] = (ff_candidate_t){skus[i], cat ? cat : "", v, a,
                                    (double)(v + iconf.cart_weight * a)};
    }
    qsort(ref, n, sizeof(*ref), cmp_reference);
    return n;
}

Test(ff_candidates, the_best_few_of_a_hot_customer_match_a_full_sort_whatever_the_order_read)
{
    /* 3000 SKUs over the window's days with tied scores, categories for
     * some, purchases in and out of the purchase window, read in an order
     * that is not sorted; then the same purchases settled. */
    static char skus[3000][16];
    static ff_candidate_t ref[3000];
    for (int i = 0; i < 3000; i++) {
        int k = (i * 7919) % 3000; /* a scrambled order */
        snprintf(skus[i], sizeof skus[i], "K%04d", k);
        int64_t day = ff_day_of_ms(at(DECISION)) - below(9);
        ff_customer_count_append(&cust, day, 'v', skus[i], below(6));
        if (below(5) == 0)
            ff_customer_count_append(&cust, day, 'a', skus[i], 1);
        if (below(3) == 0)
            ff_customer_category_append(&cust, skus[i], k % 2 ? "shoes" : "toys", day);
        if (below(4) == 0)
            bought_at(skus[i], at(DECISION) - below(60) * FF_DAY_MS);
    }
    ff_customer_categories_settle(&cust);
    ff_customer_counts_settle(&cust);
    size_t nref = reference_candidates(skus, 3000, ref);
    cr_assert_gt(nref, 40, "the workload should leave many candidates, got %zu", nref);
    for (int settled = 0; settled < 2; settled++) {
        if (settled)
            ff_customer_bought_settle(&cust);
        for (size_t max = 1; max <= MAX_OUT; max += 5) {
            size_t n = ff_intent_candidates(&cust, &iconf, at(DECISION), out, max, &nskus);
            cr_assert_eq(n, max, "max %zu: %zu written", max, n);
            cr_assert_eq(nskus, max);
            for (size_t i = 0; i < n; i++) {
                cr_assert_str_eq(out[i].sku, ref[i].sku, "max %zu, rank %zu (settled %d)", max,
                                 i, settled);
                cr_assert_eq(out[i].views, ref[i].views);
                cr_assert_eq(out[i].adds, ref[i].adds);
                cr_assert_str_eq(out[i].category, ref[i].category, "rank %zu", i);
            }
        }
    }
}

/* Keys that share their first 8 bytes, or end within them, so that the
 * settled order needs the rest of the key as well as key8. */
static void long_key(char *buf, size_t size, int64_t k)
{
    static const char *const stems[] = {"SKU-0001", "SKU-000", "SKU-00010", "ABCDEFGH"};
    snprintf(buf, size, "%s%s%lld", stems[k % 4], k % 3 ? "-" : "",
             (long long)(k / 4) % 50);
}

Test(ff_intent, settling_sorts_counters_categories_and_purchases_as_strcmp_then_kind_then_day)
{
    static const char kinds[] = {'v', 'a', 'c'};
    int64_t day0 = ff_day_of_ms(at(DECISION));
    size_t n;
    char key[32];
    for (int i = 0; i < 2000; i++) {
        long_key(key, sizeof key, below(400));
        ff_customer_count_append(&cust, day0 - below(7), kinds[below(3)], key, 1 + below(9));
        if (i < 500) {
            ff_customer_category_append(&cust, key, i % 2 ? "shoes" : "toys", day0 - below(7));
            long_key(key, sizeof key, below(400));
            ff_customer_tsval_append(&cust, &cust.bought, &cust.nbought, &cust.capbought, key)
                ->ts = i;
        }
    }
    n = cust.ncounts;
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += cust.counts[i].n * (cust.counts[i].kind + cust.counts[i].day);
    ff_customer_counts_settle(&cust);
    ff_customer_categories_settle(&cust);
    ff_customer_bought_settle(&cust);
    cr_assert_eq(cust.ncounts, n, "settling keeps every counter");
    for (size_t i = 0; i < n; i++)
        sum -= cust.counts[i].n * (cust.counts[i].kind + cust.counts[i].day);
    cr_assert_eq(sum, 0, "settling only reorders the counters");
    for (size_t i = 1; i < n; i++) {
        const ff_count_t *x = &cust.counts[i - 1], *y = &cust.counts[i];
        int r = strcmp(x->key, y->key);
        cr_assert(r < 0 || (r == 0 && (x->kind < y->kind ||
                                       (x->kind == y->kind && x->day <= y->day))),
                  "counter %zu (%s %c %lld) before %zu (%s %c %lld)", i - 1, x->key, x->kind,
                  (long long)x->day, i, y->key, y->kind, (long long)y->day);
    }
    cr_assert_gt(cust.nskucats, 100);
    for (size_t i = 1; i < cust.nskucats; i++)
        cr_assert_lt(strcmp(cust.skucats[i - 1].sku, cust.skucats[i].sku), 0,
                     "SKU %zu (%s) once, before %zu (%s)", i - 1, cust.skucats[i - 1].sku, i,
                     cust.skucats[i].sku);
    cr_assert_eq(cust.nbought, 500);
    for (size_t i = 1; i < cust.nbought; i++)
        cr_assert_leq(strcmp(cust.bought[i - 1].key, cust.bought[i].key), 0,
                      "purchase %zu (%s) before %zu (%s)", i - 1, cust.bought[i - 1].key, i,
                      cust.bought[i].key);
}

Test(ff_intent, keys_compare_by_their_first_8_bytes_as_strcmp_does)
{
    static const char *const keys[] = {
        "",         "A",        "SKU-1",    "SKU-0001", "SKU-0001a", "SKU-0001b", "SKU-00010",
        "SKU-0002", "SKU-000",  "sku-0001", "\xc3\xa9t\xc3\xa9", "\xc3\xa9",  "ABCDEFG",
        "ABCDEFGH", "ABCDEFGHI", "ABCDEFGH\xff", "ABCDEFG\x01",
    };
    for (size_t i = 0; i < FF_ARRAY_LEN(keys); i++) {
        for (size_t j = 0; j < FF_ARRAY_LEN(keys); j++) {
            int want = strcmp(keys[i], keys[j]);
            int got = ff_key_cmp(ff_key8(keys[i]), keys[i], ff_key8(keys[j]), keys[j]);
            want = (want > 0) - (want < 0);
            got = (got > 0) - (got < 0);
            cr_assert_eq(got, want, "'%s' vs '%s': %d, strcmp says %d", keys[i], keys[j], got,
                         want);
        }
    }
}

/* ---- purchases ---------------------------------------------------------------- */

Test(ff_purchase_window, a_purchase_exactly_purchase_window_before_no_longer_excludes)
{
    int64_t decision = at(DECISION);
    views("K1", "2026-11-22T10:00:00Z", 2);
    bought_at("K1", decision - PURCHASE_WINDOW_MS);
    cr_assert_not(ff_customer_bought_recently(&cust, &iconf, "K1", decision),
                  "a purchase exactly 30d before is out of the window");
    cr_assert_eq(candidates(), 1, "so K1 is a candidate again");
    cr_assert_str_eq(out[0].sku, "K1");
}

Test(ff_purchase_window, a_purchase_one_millisecond_inside_purchase_window_excludes)
{
    int64_t decision = at(DECISION);
    views("K1", "2026-11-22T10:00:00Z", 2);
    bought_at("K1", decision - PURCHASE_WINDOW_MS + 1);
    cr_assert(ff_customer_bought_recently(&cust, &iconf, "K1", decision),
              "a purchase 30d - 1 ms before is within the window");
    cr_assert_eq(candidates(), 0, "so K1 is not a candidate");
}

Test(ff_purchase_window, a_purchase_after_the_decision_excludes)
{
    int64_t decision = at(DECISION);
    bought_at("K1", decision + 1000);
    cr_assert(ff_customer_bought_recently(&cust, &iconf, "K1", decision),
              "a purchase later in event time counts as recent");
}

Test(ff_purchase_window, a_purchase_of_another_sku_does_not_exclude)
{
    int64_t decision = at(DECISION);
    bought_at("K2", decision - 1000);
    cr_assert_not(ff_customer_bought_recently(&cust, &iconf, "K1", decision));
    cr_assert_not(ff_customer_bought_recently(&cust, &iconf, "K9", decision),
                  "never bought: not recent");
}

Test(ff_purchase_window, a_bought_sku_is_excluded_even_with_cart_adds)
{
    int64_t decision = at(DECISION);
    adds("K1", "2026-11-22T10:00:00Z", 3);
    bought_at("K1", decision - FF_DAY_MS);
    cr_assert_eq(candidates(), 0, "bought yesterday: no intent whatever the score");
}

Test(ff_purchase_window, a_purchase_between_browse_and_visit_excludes_only_the_bought_sku)
{
    /* Day 1: browse K1 and K2. Day 2: buy K1. Day 3: the decision. */
    views("K1", "2026-11-21T10:00:00Z", 3);
    views("K2", "2026-11-21T10:05:00Z", 2);
    bought_at("K1", at("2026-11-22T15:00:00Z"));
    cr_assert_eq(candidates(), 1, "only K2 is left");
    cr_assert_eq(nskus, 1);
    cr_assert_str_eq(out[0].sku, "K2", "K1 was bought on day 2");
}

/* ---- preferred store ---------------------------------------------------------- */

Test(ff_preferred_store, no_visits_means_no_preferred_store)
{
    cr_assert_null(ff_customer_preferred_store(&cust, at(DECISION), VISIT_WINDOW_MS));
}

Test(ff_preferred_store, the_most_visited_store_wins)
{
    visited("S1", 3, at("2026-11-01T10:00:00Z"));
    visited("S2", 2, at("2026-11-20T10:00:00Z"));
    visited("S3", 1, at("2026-11-22T10:00:00Z"));
    const char *s = ff_customer_preferred_store(&cust, at(DECISION), VISIT_WINDOW_MS);
    cr_assert_not_null(s);
    cr_assert_str_eq(s, "S1", "3 visits beat 2 and 1, however recent");
}

Test(ff_preferred_store, a_tie_goes_to_the_most_recent_visit)
{
    visited("S1", 2, at("2026-11-01T10:00:00Z"));
    visited("S2", 2, at("2026-11-20T10:00:00Z"));
    visited("S3", 2, at("2026-11-10T10:00:00Z"));
    const char *s = ff_customer_preferred_store(&cust, at(DECISION), VISIT_WINDOW_MS);
    cr_assert_not_null(s);
    cr_assert_str_eq(s, "S2", "2 visits each: S2 was visited last");
}

Test(ff_preferred_store, a_store_not_visited_within_the_window_is_ignored)
{
    visited("S1", 10, at("2026-08-01T10:00:00Z")); /* more than 90 d ago */
    visited("S2", 1, at("2026-11-20T10:00:00Z"));
    const char *s = ff_customer_preferred_store(&cust, at(DECISION), VISIT_WINDOW_MS);
    cr_assert_not_null(s);
    cr_assert_str_eq(s, "S2", "S1's 10 visits are too old to count");
}

Test(ff_preferred_store, a_visit_exactly_visit_window_before_no_longer_makes_a_preferred_store)
{
    int64_t decision = at(DECISION);
    visited("S1", 5, decision - VISIT_WINDOW_MS);
    cr_assert_null(ff_customer_preferred_store(&cust, decision, VISIT_WINDOW_MS),
                   "a last visit exactly 90d before is out of the window");
}

Test(ff_preferred_store, a_visit_one_millisecond_inside_visit_window_makes_a_preferred_store)
{
    int64_t decision = at(DECISION);
    visited("S1", 5, decision - VISIT_WINDOW_MS + 1);
    const char *s = ff_customer_preferred_store(&cust, decision, VISIT_WINDOW_MS);
    cr_assert_not_null(s, "a last visit 90d - 1 ms before is within the window");
    cr_assert_str_eq(s, "S1");
}

Test(ff_preferred_store, a_store_with_no_visits_counted_is_ignored)
{
    visited("S1", 0, at("2026-11-22T10:00:00Z"));
    cr_assert_null(ff_customer_preferred_store(&cust, at(DECISION), VISIT_WINDOW_MS));
}

/* ---- cart --------------------------------------------------------------------- */

static void in_cart(const char *sku, int64_t qty)
{
    ff_tsval_t *v = ff_customer_tsval(&cust, &cust.cart, &cust.ncart, &cust.capcart, sku, true);
    v->n = qty;
}

Test(ff_cart, an_empty_cart_is_empty)
{
    cr_assert_not(ff_customer_cart_nonempty(&cust));
}

Test(ff_cart, a_cart_of_zero_quantities_is_empty)
{
    in_cart("K1", 0);
    in_cart("K2", 0);
    cr_assert_not(ff_customer_cart_nonempty(&cust), "entries with quantity 0 hold nothing");
}

Test(ff_cart, one_item_makes_the_cart_nonempty)
{
    in_cart("K1", 0);
    in_cart("K2", 1);
    cr_assert(ff_customer_cart_nonempty(&cust));
}
