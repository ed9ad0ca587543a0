/* shelf_rules: stock alert rules as pure functions: debouncing, the level state machine, priority. */
#include "shelf_rules.h"

#include <stdio.h>
#include <string.h>

#include "ff_validate.h"

bool shelf_window_add(shelf_window_t *w, int window, int64_t ts, int64_t qty)
{
    if (window > SHELF_MAX_WINDOW)
        window = SHELF_MAX_WINDOW;
    if (w->n > 0 && ts < w->ts[w->n - 1])
        return false;
    if (w->n >= window) {
        int drop = w->n - window + 1;
        memmove(w->ts, w->ts + drop, (size_t)(w->n - drop) * sizeof(int64_t));
        memmove(w->qty, w->qty + drop, (size_t)(w->n - drop) * sizeof(int64_t));
        w->n -= drop;
    }
    w->ts[w->n] = ts;
    w->qty[w->n] = qty;
    w->n++;
    return true;
}

int64_t shelf_median(const shelf_window_t *w, int window)
{
    int64_t sorted[SHELF_MAX_WINDOW];
    if (window > SHELF_MAX_WINDOW)
        window = SHELF_MAX_WINDOW;
    if (w->n < window || w->n == 0)
        return -1;
    memcpy(sorted, w->qty, (size_t)w->n * sizeof(int64_t));
    for (int i = 1; i < w->n; i++) {
        int64_t v = sorted[i];
        int k = i;
        while (k > 0 && sorted[k - 1] > v) {
            sorted[k] = sorted[k - 1];
            k--;
        }
        sorted[k] = v;
    }
    return sorted[(w->n - 1) / 2];
}

shelf_step_t shelf_next_level(shelf_level_t level, int64_t median, int64_t capacity,
                              const shelf_rules_conf_t *conf)
{
    shelf_step_t step = {level, false, 0};
    bool low, restocked;
    if (median < 0 || capacity <= 0)
        return step;
    low = median * 100 <= (int64_t)conf->low_percent * capacity;
    restocked = median * 100 >= (int64_t)conf->restock_percent * capacity;

    switch (level) {
    case SHELF_OK:
        if (median == 0) {
            step.level = SHELF_OUT;
            step.alert_level = FF_LEVEL_OUT;
            step.alert = true;
        } else if (low) {
            step.level = SHELF_LOW;
            step.alert_level = FF_LEVEL_LOW;
            step.alert = true;
        }
        break;
    case SHELF_LOW:
        if (median == 0) {
            step.level = SHELF_OUT;
            step.alert_level = FF_LEVEL_OUT;
            step.alert = true;
        } else if (restocked) {
            step.level = SHELF_OK;
            step.alert_level = FF_LEVEL_RESTOCKED;
            step.alert = true;
        }
        break;
    case SHELF_OUT:
        /* A few items back on an empty shelf is not a new LOW alert: it stays
         * OUT until it is properly restocked, so 0/1/0/1 does not flap. */
        if (restocked) {
            step.level = SHELF_OK;
            step.alert_level = FF_LEVEL_RESTOCKED;
            step.alert = true;
        }
        break;
    }
    return step;
}

int shelf_priority(int alert_level, int64_t online_demand, const shelf_rules_conf_t *conf)
{
    if (alert_level == FF_LEVEL_OUT)
        return FF_PRIORITY_HIGH;
    if (alert_level == FF_LEVEL_LOW && online_demand >= conf->demand_high)
        return FF_PRIORITY_HIGH;
    return FF_PRIORITY_NORMAL;
}

const char *shelf_validate(const ff_shelf_reading_t *r, int64_t now, int64_t max_future,
                           char *buf, size_t size)
{
    const char *why;
    if ((why = ff_validate_id("event_id", r->event_id, buf, size)) ||
        (why = ff_validate_id("store_id", r->store_id, buf, size)) ||
        (why = ff_validate_id("shelf_id", r->shelf_id, buf, size)) ||
        (why = ff_validate_id("sku", r->sku, buf, size)) ||
        (why = ff_validate_id("category", r->category, buf, size)) ||
        (why = ff_validate_ts(r->ts, now, max_future, buf, size)))
        return why;
    if (r->capacity <= 0) {
        snprintf(buf, size, "capacity %lld is not positive", (long long)r->capacity);
        return buf;
    }
    if (r->quantity < 0) {
        snprintf(buf, size, "quantity %lld is negative", (long long)r->quantity);
        return buf;
    }
    if (r->quantity > r->capacity) {
        snprintf(buf, size, "quantity %lld is above capacity %lld", (long long)r->quantity,
                 (long long)r->capacity);
        return buf;
    }
    return NULL;
}
