/* ff_validate: checks every input record shares: ids present and sane, event times plausible. */
#include "ff_validate.h"

#include <stdio.h>
#include <string.h>

#include "ff_util.h"

const char *ff_validate_id(const char *name, const char *id, char *buf, size_t size)
{
    size_t n;
    if (!id || !*id) {
        snprintf(buf, size, "%s is missing", name);
        return buf;
    }
    n = strlen(id);
    if (n > FF_ID_MAX) {
        snprintf(buf, size, "%s is %zu bytes long (at most %d)", name, n, FF_ID_MAX);
        return buf;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(buf, size, "%s holds a character footfall does not allow in ids (0x%02x)",
                     name, c);
            return buf;
        }
    }
    return NULL;
}

const char *ff_validate_ts(int64_t ts, int64_t now, int64_t max_future, char *buf, size_t size)
{
    char t[32], n[32];
    if (ts < 0) {
        snprintf(buf, size, "ts %lld is before 1970", (long long)ts);
        return buf;
    }
    if (ts - now > max_future) {
        ff_format_rfc3339(ts, t, sizeof t);
        ff_format_rfc3339(now, n, sizeof n);
        snprintf(buf, size, "ts %s is in the future (now %s)", t, n);
        return buf;
    }
    return NULL;
}
