/* Tests of ff_intent_cache: what a hit gives, what misses, and the memory bound. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ff_customer.h"
#include "ff_intent_cache.h"
#include "ff_util.h"

#define DAY0 20000 /* a UTC day number */
#define NOW ((DAY0 + 1) * FF_DAY_MS - 3600000)
#define TOKEN "web.events:3=41\n"

static ff_arena_t arena;

static void setup(void)
{
    ff_arena_init(&arena, 4096);
}

static void teardown(void)
{
    ff_arena_term(&arena);
}

TestSuite(ff_intent_cache, .init = setup, .fini = teardown);

/* A customer's intent as a read leaves it: counters naming categories over
 * two days, a category counter, an old-style k: category; settled. The
 * strings are the arena's, as a reply's would be. */
static void read_customer(ff_customer_t *c, const char *id, int nskus)
{
    char key[64];
    ff_customer_init(c, ff_arena_strdup(&arena, id), &arena);
    for (int i = 0; i < nskus; i++) {
        snprintf(key, sizeof key, "K%d\x1f%s", i, i % 2 ? "shoes" : "bags");
        ff_customer_count_append(c, DAY0 - 1, 'v', ff_arena_strdup(&arena, key), 2 + i);
        ff_customer_count_append(c, DAY0, 'v', ff_arena_strdup(&arena, key), 1);
        if (i == 0)
            ff_customer_count_append(c, DAY0, 'a', ff_arena_strdup(&arena, key), 1);
    }
    ff_customer_count_append(c, DAY0, 'c', ff_arena_strdup(&arena, "shoes"), 4);
    ff_customer_category_append(c, ff_arena_strdup(&arena, "OLD"), ff_arena_strdup(&arena, "hats"),
                                DAY0 - 1);
    ff_customer_categories_settle(c);
    ff_customer_counts_settle(c);
}

/* A week read twice: kept the second time. */
static void put_read_twice(ff_intent_cache_t *ic, const ff_customer_t *c, const char *token)
{
    ff_intent_cache_put(ic, c, token, DAY0 - 6, DAY0, NOW);
    ff_intent_cache_put(ic, c, token, DAY0 - 6, DAY0, NOW);
}

static void assert_same_intent(const ff_customer_t *got, const ff_customer_t *want)
{
    cr_assert_eq(got->ncounts, want->ncounts);
    cr_assert(got->counts_sorted, "counters come sorted, as settled");
    for (size_t i = 0; i < want->ncounts; i++) {
        const ff_count_t *g = &got->counts[i], *w = &want->counts[i];
        cr_assert_eq(g->day, w->day, "counter %zu", i);
        cr_assert_eq(g->kind, w->kind, "counter %zu", i);
        cr_assert_str_eq(g->key, w->key, "counter %zu", i);
        cr_assert_eq(g->key8, w->key8, "counter %zu", i);
        cr_assert_eq(g->n, w->n, "counter %zu", i);
        if (w->category)
            cr_assert_str_eq(g->category, w->category, "counter %zu", i);
        else
            cr_assert_null(g->category, "counter %zu", i);
    }
    cr_assert_eq(got->nskucats, want->nskucats);
    for (size_t i = 0; i < want->nskucats; i++) {
        cr_assert_str_eq(got->skucats[i].sku, want->skucats[i].sku);
        cr_assert_str_eq(got->skucats[i].category, want->skucats[i].category);
        cr_assert_eq(got->skucats[i].day, want->skucats[i].day);
    }
}

Test(ff_intent_cache, a_hit_gives_the_counters_and_categories_as_read_and_the_same_candidates)
{
    ff_intent_cache_t *ic = ff_intent_cache_new(1 << 20);
    ff_customer_t read, got;
    ff_intent_conf_t conf = {.window_ms = 7 * FF_DAY_MS, .sku_views = 2, .cart_adds = 1,
                             .category_views = 3, .cart_weight = 3};
    ff_candidate_t want_c[8], got_c[8];
    size_t want_skus, got_skus, nwant, ngot;

    read_customer(&read, "C1", 5);
    ff_intent_cache_put(ic, &read, TOKEN, DAY0 - 6, DAY0, NOW);
    ff_customer_init(&got, "C1", &arena);
    cr_assert_not(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 6, DAY0, NOW),
                  "a week read once is not kept");
    cr_assert_eq(ff_intent_cache_stats(ic).entries, 0);
    ff_intent_cache_put(ic, &read, TOKEN, DAY0 - 6, DAY0, NOW);
    cr_assert_eq(ff_intent_cache_stats(ic).entries, 1, "read again: kept");
    cr_assert(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 6, DAY0, NOW + 1000));
    /* The copy is the customer's: it outlives the cache. */
    ff_intent_cache_free(ic);
    assert_same_intent(&got, &read);
    cr_assert_str_eq(ff_customer_category_of(&got, "OLD"), "hats");
    nwant = ff_intent_candidates(&read, &conf, NOW, want_c, 8, &want_skus);
    ngot = ff_intent_candidates(&got, &conf, NOW, got_c, 8, &got_skus);
    cr_assert_eq(nwant, 6, "five SKUs and the category");
    cr_assert_eq(ngot, nwant);
    cr_assert_eq(got_skus, want_skus);
    for (size_t i = 0; i < ngot; i++) {
        cr_assert_eq(got_c[i].sku == NULL, want_c[i].sku == NULL, "candidate %zu", i);
        if (want_c[i].sku)
            cr_assert_str_eq(got_c[i].sku, want_c[i].sku, "candidate %zu", i);
        cr_assert_str_eq(got_c[i].category, want_c[i].category, "candidate %zu", i);
        cr_assert_eq(got_c[i].views, want_c[i].views, "candidate %zu", i);
        cr_assert_eq(got_c[i].adds, want_c[i].adds, "candidate %zu", i);
    }
}

Test(ff_intent_cache, another_token_other_days_or_an_entry_too_old_is_a_miss)
{
    ff_intent_cache_t *ic = ff_intent_cache_new(1 << 20);
    ff_customer_t read, got;
    ff_intent_cache_stats_t st;

    read_customer(&read, "C1", 3);
    put_read_twice(ic, &read, TOKEN);
    ff_customer_init(&got, "C1", &arena);
    cr_assert_not(ff_intent_cache_get(ic, &got, "web.events:3=42\n", DAY0 - 6, DAY0, NOW),
                  "footfall-web wrote since");
    cr_assert_not(ff_intent_cache_get(ic, &got, "", DAY0 - 6, DAY0, NOW), "a token of none");
    cr_assert_not(ff_intent_cache_get(ic, &got, NULL, DAY0 - 6, DAY0, NOW), "no token read");
    cr_assert_not(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 5, DAY0, NOW), "fewer days");
    cr_assert_not(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 6, DAY0 + 1, NOW), "more days");
    cr_assert_not(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 6, DAY0,
                                      NOW + FF_INTENT_CACHE_AGE_MS + 1),
                  "older than FF_INTENT_CACHE_AGE_MS");
    cr_assert_not(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 6, DAY0, NOW - 1),
                  "filled after now: a clock gone back");
    ff_customer_init(&got, "C2", &arena);
    cr_assert_not(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 6, DAY0, NOW), "another customer");
    cr_assert_eq(got.ncounts, 0, "a miss leaves the customer as it was");
    ff_customer_init(&got, "C1", &arena);
    cr_assert(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 6, DAY0, NOW + FF_INTENT_CACHE_AGE_MS));
    st = ff_intent_cache_stats(ic);
    cr_assert_eq(st.hits, 1);
    cr_assert_eq(st.misses, 8);
    cr_assert_eq(st.entries, 1);
    /* No token, nothing kept; a new read replaces the entry. */
    ff_intent_cache_put(ic, &read, NULL, DAY0 - 6, DAY0, NOW);
    cr_assert_eq(ff_intent_cache_stats(ic).entries, 1);
    ff_intent_cache_put(ic, &read, "web.events:3=42\n", DAY0 - 6, DAY0, NOW);
    cr_assert_eq(ff_intent_cache_stats(ic).entries, 1);
    cr_assert_not(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 6, DAY0, NOW));
    cr_assert(ff_intent_cache_get(ic, &got, "web.events:3=42\n", DAY0 - 6, DAY0, NOW));
    ff_intent_cache_clear(ic);
    st = ff_intent_cache_stats(ic);
    cr_assert_eq(st.entries, 0);
    cr_assert_eq(st.bytes, 0);
    ff_intent_cache_free(ic);
}

Test(ff_intent_cache, the_least_recently_used_goes_first_when_the_bytes_are_full)
{
    ff_customer_t a, b, c, got;
    size_t one;
    ff_intent_cache_t *ic = ff_intent_cache_new(1 << 20);

    read_customer(&a, "CA", 20);
    read_customer(&b, "CB", 20);
    read_customer(&c, "CC", 20);
    put_read_twice(ic, &a, TOKEN);
    one = ff_intent_cache_stats(ic).bytes;
    cr_assert_gt(one, 0);
    cr_assert_lt(one, a.ncounts * sizeof(ff_count_t) / 2,
                 "a week is kept in less than half the memory of its counters as read");
    ff_intent_cache_free(ic);

    /* Room for two of them. */
    ic = ff_intent_cache_new(2 * one + one / 2);
    put_read_twice(ic, &a, TOKEN);
    put_read_twice(ic, &b, TOKEN);
    ff_customer_init(&got, "CA", &arena);
    cr_assert(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 6, DAY0, NOW), "CA used: now the newest");
    put_read_twice(ic, &c, TOKEN);
    cr_assert_eq(ff_intent_cache_stats(ic).entries, 2);
    cr_assert_leq(ff_intent_cache_stats(ic).bytes, 2 * one + one / 2);
    ff_customer_init(&got, "CB", &arena);
    cr_assert_not(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 6, DAY0, NOW), "CB was the oldest");
    ff_customer_init(&got, "CA", &arena);
    cr_assert(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 6, DAY0, NOW));
    assert_same_intent(&got, &a);
    ff_customer_init(&got, "CC", &arena);
    cr_assert(ff_intent_cache_get(ic, &got, TOKEN, DAY0 - 6, DAY0, NOW));
    assert_same_intent(&got, &c);
    ff_intent_cache_free(ic);

    /* An entry larger than the whole cache is never kept. */
    ic = ff_intent_cache_new(one / 2);
    put_read_twice(ic, &a, TOKEN);
    cr_assert_eq(ff_intent_cache_stats(ic).entries, 0);
    cr_assert_eq(ff_intent_cache_stats(ic).bytes, 0);
    ff_intent_cache_free(ic);
}
