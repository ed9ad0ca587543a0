/* ff_kafka: librdkafka clients configured from footfall settings, with logs routed to ff_log. */
#include "ff_kafka.h"

#include <stdio.h>
#include <string.h>

#include "ff_log.h"

static int set(rd_kafka_conf_t *kconf, const char *key, const char *value, char *errstr,
               size_t errstr_size)
{
    char why[512];
    if (rd_kafka_conf_set(kconf, key, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "invalid value for kafka.%s: %s", key, why);
        return -1;
    }
    return 0;
}

rd_kafka_conf_t *ff_kafka_conf(const ff_conf_t *conf, const char *const *defaults,
                               const char *const *forced, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *kconf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(kconf, ff_log_rdkafka);
    /* TCP_NODELAY, as Java clients do: with Nagle on, a batch's pipelined
     * requests wait on delayed ACKs (40 ms on Linux) at every commit. */
    if (set(kconf, "socket.nagle.disable", "true", errstr, errstr_size) == -1)
        goto err;
    for (size_t i = 0; defaults && defaults[i]; i += 2)
        if (set(kconf, defaults[i], defaults[i + 1], errstr, errstr_size) == -1)
            goto err;
    if (set(kconf, "bootstrap.servers", ff_conf_str(conf, "kafka.bootstrap.servers"), errstr,
            errstr_size) == -1)
        goto err;
    for (size_t i = 0; i < ff_conf_kafka_count(conf); i++) {
        const char *k, *v;
        ff_conf_kafka_get(conf, i, &k, &v);
        if (set(kconf, k, v, errstr, errstr_size) == -1)
            goto err;
    }
    for (size_t i = 0; forced && forced[i]; i += 2)
        if (set(kconf, forced[i], forced[i + 1], errstr, errstr_size) == -1)
            goto err;
    return kconf;
err:
    rd_kafka_conf_destroy(kconf);
    return NULL;
}

rd_kafka_t *ff_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *kconf, char *errstr,
                         size_t errstr_size)
{
    /* rd_kafka_new() takes ownership of kconf only when it succeeds. */
    rd_kafka_t *rk = rd_kafka_new(type, kconf, errstr, errstr_size);
    if (!rk)
        rd_kafka_conf_destroy(kconf);
    return rk;
}

const char *ff_kafka_header(const rd_kafka_message_t *rkm, const char *name, char *buf,
                            size_t size)
{
    rd_kafka_headers_t *hdrs;
    const void *v;
    size_t n;
    if (rd_kafka_message_headers(rkm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return NULL;
    if (rd_kafka_header_get_last(hdrs, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return NULL;
    if (n >= size)
        n = size - 1;
    memcpy(buf, v ? v : "", n);
    buf[n] = '\0';
    return buf;
}
