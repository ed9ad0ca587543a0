/* shelf_rules: stock alert rules as pure functions: debouncing, the level state machine, priority. */
#ifndef SHELF_RULES_H
#define SHELF_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "ff_records.h"

#define SHELF_MAX_WINDOW 15

/* The alert state of one (store, shelf, sku). */
typedef enum { SHELF_OK = 0, SHELF_LOW = 1, SHELF_OUT = 2 } shelf_level_t;

typedef struct shelf_rules_conf_s {
    int window;          /* readings in the debounce window (stock.debounce.readings) */
    int low_percent;     /* LOW at or below this share of capacity */
    int restock_percent; /* back to OK at or above this share */
    int64_t demand_high; /* LOW is HIGH priority from this many interested customers */
} shelf_rules_conf_t;

/* The recent readings of one shelf position, oldest first. */
typedef struct shelf_window_s {
    int n;
    int64_t ts[SHELF_MAX_WINDOW];
    int64_t qty[SHELF_MAX_WINDOW];
} shelf_window_t;

/* Adds a reading, dropping the oldest beyond `window`. A reading older than
 * the newest one already in the window is not added (returns false): late
 * data never moves the state backwards. */
bool shelf_window_add(shelf_window_t *w, int window, int64_t ts, int64_t qty);

/* The debounced quantity: the median of the window (the lower middle for
 * an even count), or -1 until the window is full. */
int64_t shelf_median(const shelf_window_t *w, int window);

/* What a debounced quantity does to a level. */
typedef struct shelf_step_s {
    shelf_level_t level; /* the new level */
    bool alert;          /* a transition to report */
    int alert_level;     /* ff_stock_level_t: LOW, OUT or RESTOCKED */
} shelf_step_t;

/* OK -> LOW at or below low_percent of capacity, -> OUT at 0; LOW -> OUT at
 * 0; LOW or OUT -> OK (RESTOCKED) only at or above restock_percent. Between
 * the thresholds the level holds, so a shelf hovering around one of them
 * reports once, not at every reading. A median of -1 changes nothing. */
shelf_step_t shelf_next_level(shelf_level_t level, int64_t median, int64_t capacity,
                              const shelf_rules_conf_t *conf);

/* HIGH when OUT, or LOW with online demand at or above demand_high. */
int shelf_priority(int alert_level, int64_t online_demand, const shelf_rules_conf_t *conf);

/* Why a reading cannot be used, or NULL if it is fine. `now` is the clock,
 * max_future how far ahead of it an event time may be. */
const char *shelf_validate(const ff_shelf_reading_t *r, int64_t now, int64_t max_future,
                           char *buf, size_t size);

#endif
