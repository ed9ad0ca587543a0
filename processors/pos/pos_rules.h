/* pos_rules: which outstanding offers a purchase converts, and how. */
#ifndef POS_RULES_H
#define POS_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "ff_customer.h"
#include "ff_records.h"

typedef struct pos_rules_conf_s {
    int64_t conversion_window_ms; /* conversion.window */
} pos_rules_conf_t;

typedef struct pos_match_s {
    ff_offer_state_t *offer;
    int match;             /* ff_match_t */
    int64_t revenue_cents; /* the lines the offer explains, the whole basket for a code */
} pos_match_t;

/* The offers tx converts: each offer made (or withheld) within
 * conversion.window before the purchase and not converted yet, matched by
 * one of its codes in tx, else by its SKU among the lines, else by its
 * category. Returns how many, written to out (at most max). */
size_t pos_conversions(const ff_customer_t *c, const ff_pos_transaction_t *tx,
                       const pos_rules_conf_t *conf, pos_match_t *out, size_t max);

const char *pos_validate(const ff_pos_transaction_t *tx, int64_t now, int64_t max_future,
                         char *buf, size_t size);

#endif
