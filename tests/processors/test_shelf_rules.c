/* Tests of the stock alert rules: debounce window, median, level state machine, priority, validation. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "ff_validate.h"
#include "shelf/shelf_rules.h"

/* The defaults of DESIGN.md section 4 (stock.debounce.readings 3,
 * stock.low.percent 20, stock.restock.percent 50, stock.demand.high 25). */
static const shelf_rules_conf_t conf = {
    .window = 3, .low_percent = 20, .restock_percent = 50, .demand_high = 25,
};

/* 20 % of it is 8 and 50 % is 20: both whole, so the edges are exact. */
#define CAPACITY 40

#define NOW 1795430400123LL
#define MAX_FUTURE 86400000LL /* input.max_future: 1 d */

static const char *level_name(shelf_level_t level)
{
    switch (level) {
    case SHELF_OK: return "OK";
    case SHELF_LOW: return "LOW";
    case SHELF_OUT: return "OUT";
    }
    return "?";
}

/* Asserts one step of the state machine, naming the input in the message. */
static void expect_step(shelf_level_t from, int64_t median, int64_t capacity, shelf_level_t to,
                        bool alert, int alert_level)
{
    shelf_step_t step = shelf_next_level(from, median, capacity, &conf);
    cr_assert_eq(step.level, to, "%s at median %lld of %lld: expected %s, got %s",
                 level_name(from), (long long)median, (long long)capacity, level_name(to),
                 level_name(step.level));
    cr_assert_eq(step.alert, alert, "%s at median %lld of %lld: expected %s", level_name(from),
                 (long long)median, (long long)capacity, alert ? "an alert" : "no alert");
    if (alert)
        cr_assert_eq(step.alert_level, alert_level,
                     "%s at median %lld of %lld: expected alert level %d, got %d",
                     level_name(from), (long long)median, (long long)capacity, alert_level,
                     step.alert_level);
}

/* ---- window -------------------------------------------------------------- */

Test(shelf_window, keeps_readings_oldest_first)
{
    shelf_window_t w = {0};
    cr_assert(shelf_window_add(&w, 5, 100, 7));
    cr_assert(shelf_window_add(&w, 5, 200, 6));
    cr_assert(shelf_window_add(&w, 5, 300, 5));
    cr_assert_eq(w.n, 3, "three readings in a window of five, got %d", w.n);
    cr_assert_eq(w.ts[0], 100);
    cr_assert_eq(w.qty[0], 7);
    cr_assert_eq(w.ts[1], 200);
    cr_assert_eq(w.qty[1], 6);
    cr_assert_eq(w.ts[2], 300);
    cr_assert_eq(w.qty[2], 5);
}

Test(shelf_window, drops_the_oldest_beyond_a_window_of_five)
{
    shelf_window_t w = {0};
    for (int i = 1; i <= 7; i++)
        cr_assert(shelf_window_add(&w, 5, i * 1000, i * 10), "reading %d accepted", i);
    cr_assert_eq(w.n, 5, "a window of five holds five readings, got %d", w.n);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(w.ts[i], (i + 3) * 1000, "slot %d: expected reading %d", i, i + 3);
        cr_assert_eq(w.qty[i], (i + 3) * 10, "slot %d: expected quantity %d", i, (i + 3) * 10);
    }
}

Test(shelf_window, shrinks_a_window_kept_under_a_larger_size)
{
    /* State saved with stock.debounce.readings 5, read back after it was
     * lowered to 3: the next reading leaves only the newest three. */
    shelf_window_t w = {0};
    for (int i = 1; i <= 5; i++)
        shelf_window_add(&w, 5, i * 1000, i * 10);
    cr_assert(shelf_window_add(&w, 3, 6000, 60));
    cr_assert_eq(w.n, 3, "expected the window cut to 3 readings, got %d", w.n);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(w.ts[i], (i + 4) * 1000, "slot %d: expected reading %d", i, i + 4);
    cr_assert_eq(shelf_median(&w, 3), 50, "median of 40, 50, 60");
}

Test(shelf_window, window_of_one_keeps_only_the_newest)
{
    shelf_window_t w = {0};
    cr_assert(shelf_window_add(&w, 1, 100, 7));
    cr_assert_eq(w.n, 1);
    cr_assert(shelf_window_add(&w, 1, 200, 3));
    cr_assert_eq(w.n, 1, "a window of one never holds more, got %d", w.n);
    cr_assert_eq(w.ts[0], 200);
    cr_assert_eq(w.qty[0], 3);
}

Test(shelf_window, rejects_a_reading_older_than_the_newest)
{
    shelf_window_t w = {0}, before;
    cr_assert(shelf_window_add(&w, 3, 100, 7));
    cr_assert(shelf_window_add(&w, 3, 200, 6));
    before = w;
    cr_assert_not(shelf_window_add(&w, 3, 199, 0), "a reading 1 ms older than the newest is late");
    cr_assert_eq(memcmp(&w, &before, sizeof w), 0, "a late reading leaves the window unchanged");
}

Test(shelf_window, rejects_a_late_reading_when_full_without_dropping_anything)
{
    shelf_window_t w = {0}, before;
    cr_assert(shelf_window_add(&w, 3, 100, 7));
    cr_assert(shelf_window_add(&w, 3, 200, 6));
    cr_assert(shelf_window_add(&w, 3, 300, 5));
    before = w;
    /* Newer than the oldest but older than the newest: still late. */
    cr_assert_not(shelf_window_add(&w, 3, 150, 0));
    cr_assert_eq(memcmp(&w, &before, sizeof w), 0, "a full window is unchanged by a late reading");
    cr_assert_eq(shelf_median(&w, 3), 6, "median still that of 7, 6, 5");
}

Test(shelf_window, rejects_a_late_reading_in_a_window_of_one)
{
    shelf_window_t w = {0};
    cr_assert(shelf_window_add(&w, 1, 200, 3));
    cr_assert_not(shelf_window_add(&w, 1, 100, 9));
    cr_assert_eq(w.n, 1);
    cr_assert_eq(w.ts[0], 200, "the newer reading stays");
    cr_assert_eq(w.qty[0], 3);
}

Test(shelf_window, accepts_an_equal_timestamp)
{
    shelf_window_t w = {0};
    cr_assert(shelf_window_add(&w, 3, 100, 7));
    cr_assert(shelf_window_add(&w, 3, 100, 6), "a reading at the same ms is not late");
    cr_assert_eq(w.n, 2);
    cr_assert_eq(w.qty[0], 7);
    cr_assert_eq(w.qty[1], 6, "the equal-time reading is the newest");
}

/* ---- median -------------------------------------------------------------- */

Test(shelf_median, is_minus_one_until_the_window_is_full)
{
    shelf_window_t w = {0};
    cr_assert_eq(shelf_median(&w, 3), -1, "empty window");
    shelf_window_add(&w, 3, 100, 10);
    cr_assert_eq(shelf_median(&w, 3), -1, "one reading of three");
    shelf_window_add(&w, 3, 200, 10);
    cr_assert_eq(shelf_median(&w, 3), -1, "two readings of three");
    shelf_window_add(&w, 3, 300, 10);
    cr_assert_eq(shelf_median(&w, 3), 10, "full window of 10s");
}

Test(shelf_median, is_minus_one_until_a_window_of_five_is_full)
{
    shelf_window_t w = {0};
    for (int i = 1; i <= 4; i++) {
        shelf_window_add(&w, 5, i, 4);
        cr_assert_eq(shelf_median(&w, 5), -1, "%d readings of five", i);
    }
    shelf_window_add(&w, 5, 5, 4);
    cr_assert_eq(shelf_median(&w, 5), 4);
}

Test(shelf_median, of_a_window_of_one_is_the_reading)
{
    shelf_window_t w = {0};
    cr_assert_eq(shelf_median(&w, 1), -1, "empty window of one");
    shelf_window_add(&w, 1, 100, 0);
    cr_assert_eq(shelf_median(&w, 1), 0, "a single 0 is the median of a window of one");
    shelf_window_add(&w, 1, 200, 17);
    cr_assert_eq(shelf_median(&w, 1), 17);
}

Test(shelf_median, of_three_ignores_a_low_outlier)
{
    shelf_window_t w = {0};
    shelf_window_add(&w, 3, 100, 30);
    shelf_window_add(&w, 3, 200, 0);
    shelf_window_add(&w, 3, 300, 29);
    cr_assert_eq(shelf_median(&w, 3), 29, "30, 0, 29: expected 29, got %lld",
                 (long long)shelf_median(&w, 3));
}

Test(shelf_median, of_three_ignores_a_high_outlier)
{
    shelf_window_t w = {0};
    shelf_window_add(&w, 3, 100, 5);
    shelf_window_add(&w, 3, 200, 40);
    shelf_window_add(&w, 3, 300, 6);
    cr_assert_eq(shelf_median(&w, 3), 6, "5, 40, 6: expected 6, got %lld",
                 (long long)shelf_median(&w, 3));
}

Test(shelf_median, of_five_ignores_two_outliers)
{
    shelf_window_t w = {0};
    int64_t q[] = {9, 0, 0, 8, 7};
    for (int i = 0; i < 5; i++)
        shelf_window_add(&w, 5, i, q[i]);
    cr_assert_eq(shelf_median(&w, 5), 7, "9, 0, 0, 8, 7: expected 7, got %lld",
                 (long long)shelf_median(&w, 5));
}

Test(shelf_median, follows_the_window_as_it_slides)
{
    shelf_window_t w = {0};
    int64_t q[] = {30, 0, 29, 28, 27};
    for (int i = 0; i < 5; i++)
        shelf_window_add(&w, 3, i, q[i]);
    /* The window is now 29, 28, 27: the 30 and the 0 are gone. */
    cr_assert_eq(shelf_median(&w, 3), 28, "expected 28, got %lld", (long long)shelf_median(&w, 3));
}

Test(shelf_median, does_not_reorder_the_window)
{
    shelf_window_t w = {0};
    shelf_window_add(&w, 3, 100, 30);
    shelf_window_add(&w, 3, 200, 0);
    shelf_window_add(&w, 3, 300, 29);
    shelf_median(&w, 3);
    cr_assert_eq(w.qty[0], 30);
    cr_assert_eq(w.qty[1], 0);
    cr_assert_eq(w.qty[2], 29, "the window stays oldest first after a median");
}

Test(shelf_median, of_an_even_window_is_the_lower_middle)
{
    shelf_window_t w = {0};
    int64_t q[] = {4, 1, 3, 2};
    for (int i = 0; i < 4; i++)
        shelf_window_add(&w, 4, i, q[i]);
    cr_assert_eq(shelf_median(&w, 4), 2, "4, 1, 3, 2: expected the lower middle 2, got %lld",
                 (long long)shelf_median(&w, 4));
}

Test(shelf_median, of_a_window_of_two_is_the_smaller)
{
    shelf_window_t w = {0};
    shelf_window_add(&w, 2, 100, 20);
    shelf_window_add(&w, 2, 200, 10);
    cr_assert_eq(shelf_median(&w, 2), 10, "20, 10: expected 10, got %lld",
                 (long long)shelf_median(&w, 2));
}

/* ---- state machine ------------------------------------------------------- */

Test(shelf_level, ok_goes_low_at_exactly_20_percent)
{
    expect_step(SHELF_OK, 8, CAPACITY, SHELF_LOW, true, FF_LEVEL_LOW);
}

Test(shelf_level, ok_goes_low_below_20_percent)
{
    for (int64_t q = 1; q <= 8; q++)
        expect_step(SHELF_OK, q, CAPACITY, SHELF_LOW, true, FF_LEVEL_LOW);
}

Test(shelf_level, ok_stays_ok_just_above_20_percent)
{
    expect_step(SHELF_OK, 9, CAPACITY, SHELF_OK, false, 0);
}

Test(shelf_level, ok_stays_ok_without_alert_from_9_to_full)
{
    for (int64_t q = 9; q <= CAPACITY; q++)
        expect_step(SHELF_OK, q, CAPACITY, SHELF_OK, false, 0);
}

Test(shelf_level, ok_goes_straight_to_out_at_0)
{
    expect_step(SHELF_OK, 0, CAPACITY, SHELF_OUT, true, FF_LEVEL_OUT);
}

Test(shelf_level, low_goes_out_at_0)
{
    expect_step(SHELF_LOW, 0, CAPACITY, SHELF_OUT, true, FF_LEVEL_OUT);
}

Test(shelf_level, low_holds_without_alert_from_1_to_19)
{
    /* 9..19 is the hysteresis band; 1..8 is still LOW and must not re-alert. */
    for (int64_t q = 1; q <= 19; q++)
        expect_step(SHELF_LOW, q, CAPACITY, SHELF_LOW, false, 0);
}

Test(shelf_level, low_is_restocked_at_exactly_50_percent)
{
    expect_step(SHELF_LOW, 20, CAPACITY, SHELF_OK, true, FF_LEVEL_RESTOCKED);
}

Test(shelf_level, low_is_not_restocked_just_below_50_percent)
{
    expect_step(SHELF_LOW, 19, CAPACITY, SHELF_LOW, false, 0);
}

Test(shelf_level, low_is_restocked_when_full)
{
    expect_step(SHELF_LOW, CAPACITY, CAPACITY, SHELF_OK, true, FF_LEVEL_RESTOCKED);
}

Test(shelf_level, out_holds_without_low_alert_from_1_to_19)
{
    for (int64_t q = 0; q <= 19; q++)
        expect_step(SHELF_OUT, q, CAPACITY, SHELF_OUT, false, 0);
}

Test(shelf_level, out_is_restocked_at_exactly_50_percent)
{
    expect_step(SHELF_OUT, 20, CAPACITY, SHELF_OK, true, FF_LEVEL_RESTOCKED);
}

Test(shelf_level, out_is_restocked_when_full)
{
    expect_step(SHELF_OUT, CAPACITY, CAPACITY, SHELF_OK, true, FF_LEVEL_RESTOCKED);
}

Test(shelf_level, an_unfull_window_changes_nothing)
{
    expect_step(SHELF_OK, -1, CAPACITY, SHELF_OK, false, 0);
    expect_step(SHELF_LOW, -1, CAPACITY, SHELF_LOW, false, 0);
    expect_step(SHELF_OUT, -1, CAPACITY, SHELF_OUT, false, 0);
}

Test(shelf_level, capacity_0_changes_nothing)
{
    /* A median of 0 would otherwise take OK and LOW to OUT, and 5 would
     * restock OUT. */
    expect_step(SHELF_OK, 0, 0, SHELF_OK, false, 0);
    expect_step(SHELF_LOW, 0, 0, SHELF_LOW, false, 0);
    expect_step(SHELF_OUT, 5, 0, SHELF_OUT, false, 0);
}

Test(shelf_level, negative_capacity_changes_nothing)
{
    expect_step(SHELF_OK, 0, -40, SHELF_OK, false, 0);
    expect_step(SHELF_LOW, 0, -40, SHELF_LOW, false, 0);
    expect_step(SHELF_OUT, 5, -40, SHELF_OUT, false, 0);
}

Test(shelf_level, low_threshold_rounds_down_with_capacity_7)
{
    /* 20 % of 7 is 1.4: 1 is at or below it, 2 is above. */
    expect_step(SHELF_OK, 1, 7, SHELF_LOW, true, FF_LEVEL_LOW);
    expect_step(SHELF_OK, 2, 7, SHELF_OK, false, 0);
}

Test(shelf_level, restock_threshold_rounds_up_with_capacity_7)
{
    /* 50 % of 7 is 3.5: 3 is below it, 4 is at or above. */
    expect_step(SHELF_LOW, 3, 7, SHELF_LOW, false, 0);
    expect_step(SHELF_LOW, 4, 7, SHELF_OK, true, FF_LEVEL_RESTOCKED);
    expect_step(SHELF_OUT, 3, 7, SHELF_OUT, false, 0);
    expect_step(SHELF_OUT, 4, 7, SHELF_OK, true, FF_LEVEL_RESTOCKED);
}

Test(shelf_level, low_threshold_with_capacity_4_is_never_whole)
{
    /* 20 % of 4 is 0.8: no positive quantity is LOW, only 0 (OUT). */
    expect_step(SHELF_OK, 1, 4, SHELF_OK, false, 0);
    expect_step(SHELF_OK, 0, 4, SHELF_OUT, true, FF_LEVEL_OUT);
}

/* ---- a realistic sequence ------------------------------------------------ */

typedef struct {
    int reading; /* index in the sequence */
    int level;   /* ff_stock_level_t */
    int64_t quantity;
} seen_alert_t;

Test(shelf_sequence, raises_one_alert_per_transition)
{
    /* A 40-slot shelf emptied by shoppers with one misread 0 while full,
     * run out, restocked a few items at a time with a late reading in
     * between, then hovering around both thresholds. The comment is the
     * window and its median after each reading. */
    static const struct {
        int64_t ts;
        int64_t qty;
    } in[] = {
        {1000, 40},  /*  0: 40          -1 */
        {2000, 38},  /*  1: 40 38       -1 */
        {3000, 37},  /*  2: 40 38 37    38 */
        {4000, 0},   /*  3: 38 37 0     37  misread: nothing */
        {5000, 36},  /*  4: 37 0 36     36 */
        {6000, 30},  /*  5: 0 36 30     30 */
        {7000, 20},  /*  6: 36 30 20    30 */
        {8000, 12},  /*  7: 30 20 12    20 */
        {9000, 8},   /*  8: 20 12 8     12 */
        {10000, 7},  /*  9: 12 8 7       8  LOW */
        {11000, 9},  /* 10: 8 7 9        8 */
        {12000, 10}, /* 11: 7 9 10       9 */
        {13000, 0},  /* 12: 9 10 0       9 */
        {14000, 0},  /* 13: 10 0 0       0  OUT */
        {15000, 1},  /* 14: 0 0 1        0 */
        {16000, 0},  /* 15: 0 1 0        0 */
        {17000, 5},  /* 16: 1 0 5        1  still OUT, no LOW */
        {9000, 40},  /* 17: late: rejected, or 18 would restock */
        {18000, 25}, /* 18: 0 5 25       5 */
        {19000, 40}, /* 19: 5 25 40     25  RESTOCKED */
        {20000, 40}, /* 20: 25 40 40    40 */
        {21000, 8},  /* 21: 40 40 8     40 */
        {22000, 8},  /* 22: 40 8 8       8  LOW */
        {23000, 9},  /* 23: 8 8 9        8 */
        {24000, 8},  /* 24: 8 9 8        8 */
        {25000, 9},  /* 25: 9 8 9        9 */
        {26000, 19}, /* 26: 8 9 19       9 */
        {27000, 22}, /* 27: 9 19 22     19 */
        {27000, 22}, /* 28: 19 22 22    22  RESTOCKED (same ms: accepted) */
        {28000, 0},  /* 29: 22 22 0     22  misread: nothing */
    };
    static const seen_alert_t expected[] = {
        {9, FF_LEVEL_LOW, 8},        {13, FF_LEVEL_OUT, 0}, {19, FF_LEVEL_RESTOCKED, 25},
        {22, FF_LEVEL_LOW, 8},       {28, FF_LEVEL_RESTOCKED, 22},
    };
    const int n_in = (int)(sizeof in / sizeof in[0]);
    const int n_expected = (int)(sizeof expected / sizeof expected[0]);
    seen_alert_t seen[sizeof in / sizeof in[0]];
    int n_seen = 0;
    shelf_window_t w = {0};
    shelf_level_t level = SHELF_OK;

    for (int i = 0; i < n_in; i++) {
        shelf_step_t step;
        int64_t median;
        bool added = shelf_window_add(&w, conf.window, in[i].ts, in[i].qty);
        cr_assert_eq(added, i != 17, "reading %d: expected %s", i,
                     i != 17 ? "accepted" : "rejected as late");
        if (!added)
            continue;
        median = shelf_median(&w, conf.window);
        step = shelf_next_level(level, median, CAPACITY, &conf);
        level = step.level;
        if (step.alert)
            seen[n_seen++] = (seen_alert_t){i, step.alert_level, median};
    }

    cr_assert_eq(n_seen, n_expected, "expected %d alerts, got %d", n_expected, n_seen);
    for (int k = 0; k < n_expected; k++) {
        cr_assert_eq(seen[k].reading, expected[k].reading, "alert %d: expected at reading %d, got %d",
                     k, expected[k].reading, seen[k].reading);
        cr_assert_eq(seen[k].level, expected[k].level, "alert %d: expected level %d, got %d", k,
                     expected[k].level, seen[k].level);
        cr_assert_eq(seen[k].quantity, expected[k].quantity,
                     "alert %d: expected quantity %lld, got %lld", k,
                     (long long)expected[k].quantity, (long long)seen[k].quantity);
    }
    cr_assert_eq(level, SHELF_OK, "the shelf ends restocked");
}

/* ---- priority ------------------------------------------------------------ */

Test(shelf_priority, out_is_high_whatever_the_demand)
{
    int64_t demand[] = {0, 1, 24, 25, 1000000, INT64_MAX};
    for (size_t i = 0; i < sizeof demand / sizeof demand[0]; i++)
        cr_assert_eq(shelf_priority(FF_LEVEL_OUT, demand[i], &conf), FF_PRIORITY_HIGH,
                     "OUT at demand %lld: expected HIGH", (long long)demand[i]);
}

Test(shelf_priority, low_is_high_at_exactly_demand_high)
{
    cr_assert_eq(shelf_priority(FF_LEVEL_LOW, 25, &conf), FF_PRIORITY_HIGH,
                 "LOW at demand 25: expected HIGH");
    cr_assert_eq(shelf_priority(FF_LEVEL_LOW, 26, &conf), FF_PRIORITY_HIGH,
                 "LOW at demand 26: expected HIGH");
}

Test(shelf_priority, low_is_normal_just_below_demand_high)
{
    cr_assert_eq(shelf_priority(FF_LEVEL_LOW, 24, &conf), FF_PRIORITY_NORMAL,
                 "LOW at demand 24: expected NORMAL");
    cr_assert_eq(shelf_priority(FF_LEVEL_LOW, 0, &conf), FF_PRIORITY_NORMAL,
                 "LOW at demand 0: expected NORMAL");
}

Test(shelf_priority, low_follows_the_configured_demand_high)
{
    shelf_rules_conf_t c = conf;
    c.demand_high = 100;
    cr_assert_eq(shelf_priority(FF_LEVEL_LOW, 99, &c), FF_PRIORITY_NORMAL);
    cr_assert_eq(shelf_priority(FF_LEVEL_LOW, 100, &c), FF_PRIORITY_HIGH);
}

Test(shelf_priority, restocked_is_normal_whatever_the_demand)
{
    int64_t demand[] = {0, 24, 25, 1000000};
    for (size_t i = 0; i < sizeof demand / sizeof demand[0]; i++)
        cr_assert_eq(shelf_priority(FF_LEVEL_RESTOCKED, demand[i], &conf), FF_PRIORITY_NORMAL,
                     "RESTOCKED at demand %lld: expected NORMAL", (long long)demand[i]);
}

/* ---- validation ---------------------------------------------------------- */

static ff_shelf_reading_t good_reading(void)
{
    ff_shelf_reading_t r = {
        .event_id = "e-1", .store_id = "S001", .shelf_id = "A3", .sku = "SKU-42",
        .category = "shoes", .ts = NOW - 5000, .quantity = 7, .capacity = 40,
        .sensor = FF_SENSOR_WEIGHT,
    };
    return r;
}

/* Asserts r is rejected with a reason that names field. */
static void expect_rejected(const ff_shelf_reading_t *r, const char *field, const char *what)
{
    char buf[512];
    const char *why = shelf_validate(r, NOW, MAX_FUTURE, buf, sizeof buf);
    cr_assert_not_null(why, "%s: expected a rejection naming %s", what, field);
    cr_assert_not_null(strstr(why, field), "%s: expected the reason to name %s, got \"%s\"", what,
                       field, why);
}

static void expect_accepted(const ff_shelf_reading_t *r, const char *what)
{
    char buf[512];
    const char *why = shelf_validate(r, NOW, MAX_FUTURE, buf, sizeof buf);
    cr_assert_null(why, "%s: expected no reason, got \"%s\"", what, why ? why : "");
}

/* The reading with one id field replaced. */
static ff_shelf_reading_t with_id(const char *field, const char *id)
{
    ff_shelf_reading_t r = good_reading();
    if (strcmp(field, "event_id") == 0)
        r.event_id = id;
    else if (strcmp(field, "store_id") == 0)
        r.store_id = id;
    else if (strcmp(field, "shelf_id") == 0)
        r.shelf_id = id;
    else if (strcmp(field, "sku") == 0)
        r.sku = id;
    else if (strcmp(field, "category") == 0)
        r.category = id;
    else
        cr_assert_fail("no id field %s", field);
    return r;
}

static const char *const id_fields[] = {"event_id", "store_id", "shelf_id", "sku", "category"};
#define N_ID_FIELDS (sizeof id_fields / sizeof id_fields[0])

Test(shelf_validate, accepts_a_good_reading)
{
    ff_shelf_reading_t r = good_reading();
    expect_accepted(&r, "good reading");
}

Test(shelf_validate, accepts_an_empty_and_a_full_shelf)
{
    ff_shelf_reading_t r = good_reading();
    r.quantity = 0;
    expect_accepted(&r, "quantity 0");
    r.quantity = r.capacity;
    expect_accepted(&r, "quantity equal to capacity");
}

Test(shelf_validate, rejects_a_negative_quantity)
{
    ff_shelf_reading_t r = good_reading();
    r.quantity = -1;
    expect_rejected(&r, "quantity", "quantity -1");
}

Test(shelf_validate, rejects_capacity_0)
{
    ff_shelf_reading_t r = good_reading();
    r.capacity = 0;
    r.quantity = 0;
    expect_rejected(&r, "capacity", "capacity 0");
}

Test(shelf_validate, rejects_a_negative_capacity)
{
    ff_shelf_reading_t r = good_reading();
    r.capacity = -40;
    r.quantity = 0;
    expect_rejected(&r, "capacity", "capacity -40");
}

Test(shelf_validate, rejects_a_quantity_above_capacity)
{
    ff_shelf_reading_t r = good_reading();
    r.quantity = 41;
    expect_rejected(&r, "quantity", "quantity 41 of 40");
    expect_rejected(&r, "capacity", "quantity 41 of 40");
}

Test(shelf_validate, rejects_each_missing_id)
{
    for (size_t i = 0; i < N_ID_FIELDS; i++) {
        ff_shelf_reading_t r = with_id(id_fields[i], NULL);
        expect_rejected(&r, id_fields[i], "NULL id");
    }
}

Test(shelf_validate, rejects_each_empty_id)
{
    for (size_t i = 0; i < N_ID_FIELDS; i++) {
        ff_shelf_reading_t r = with_id(id_fields[i], "");
        expect_rejected(&r, id_fields[i], "empty id");
    }
}

Test(shelf_validate, rejects_each_id_of_257_bytes)
{
    char id[FF_ID_MAX + 2];
    memset(id, 'x', FF_ID_MAX + 1);
    id[FF_ID_MAX + 1] = '\0';
    for (size_t i = 0; i < N_ID_FIELDS; i++) {
        ff_shelf_reading_t r = with_id(id_fields[i], id);
        expect_rejected(&r, id_fields[i], "257-byte id");
    }
}

Test(shelf_validate, accepts_each_id_of_256_bytes)
{
    char id[FF_ID_MAX + 1];
    memset(id, 'x', FF_ID_MAX);
    id[FF_ID_MAX] = '\0';
    for (size_t i = 0; i < N_ID_FIELDS; i++) {
        ff_shelf_reading_t r = with_id(id_fields[i], id);
        expect_accepted(&r, id_fields[i]);
    }
}

Test(shelf_validate, accepts_a_timestamp_exactly_max_future_ahead)
{
    ff_shelf_reading_t r = good_reading();
    r.ts = NOW + MAX_FUTURE;
    expect_accepted(&r, "ts now + max_future");
}

Test(shelf_validate, rejects_a_timestamp_1_ms_beyond_max_future)
{
    ff_shelf_reading_t r = good_reading();
    r.ts = NOW + MAX_FUTURE + 1;
    expect_rejected(&r, "ts", "ts now + max_future + 1 ms");
}

Test(shelf_validate, rejects_a_negative_timestamp)
{
    ff_shelf_reading_t r = good_reading();
    r.ts = -1;
    expect_rejected(&r, "ts", "ts -1");
}

Test(shelf_validate, accepts_an_old_timestamp)
{
    /* Staleness is the freshness guard's business, not validation's. */
    ff_shelf_reading_t r = good_reading();
    r.ts = 0;
    expect_accepted(&r, "ts 0");
}
