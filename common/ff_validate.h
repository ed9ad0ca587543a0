/* ff_validate: checks every input record shares: ids present and sane, event times plausible. */
#ifndef FF_VALIDATE_H
#define FF_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

/* Longest id footfall accepts; longer is a broken producer, not a customer. */
#define FF_ID_MAX 256
/* A hash field made of a short prefix and an id ("v:<sku>"). */
#define FF_ID_MAX_FIELD (FF_ID_MAX + 16)

/* NULL if id is a usable identifier (non-empty, at most FF_ID_MAX bytes, no
 * control characters); otherwise a reason written into buf. */
const char *ff_validate_id(const char *name, const char *id, char *buf, size_t size);
/* NULL if ts is not negative and at most max_future ahead of now. */
const char *ff_validate_ts(int64_t ts, int64_t now, int64_t max_future, char *buf, size_t size);

#endif
