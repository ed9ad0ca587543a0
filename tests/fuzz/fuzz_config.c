/* libFuzzer target: any bytes as a config file, and as the values settings and URLs are parsed from. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ff_config.h"
#include "ff_redis.h"
#include "ff_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore(void *opaque, const char *store, int minutes)
{
    (void)opaque;
    (void)store;
    (void)minutes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512], *text = malloc(size + 1);
    ff_conf_t *conf = ff_conf_new("geofence");
    ff_redis_url_t url;
    int64_t v;
    int m;

    memcpy(text, data, size);
    text[size] = '\0';
    if (ff_conf_load_text(conf, (const char *)data, size, "fuzz.conf", err, sizeof err) == -1 &&
        !err[0])
        abort(); /* an error must say why */
    /* Each value parser on the whole input. */
    ff_parse_i64(text, &v);
    ff_parse_duration_ms(text, &v);
    ff_parse_time_ms(text, &v);
    ff_tz_parse(text, &m);
    ff_tz_map_each(text, ignore, NULL, err, sizeof err);
    ff_redis_url_parse(text, &url, err, sizeof err);
    for (size_t i = 0; i < ff_settings_count; i++)
        ff_conf_set(conf, ff_settings[i].key, text, "fuzz", err, sizeof err);
    ff_conf_destroy(conf);
    free(text);
    return 0;
}
