/* ff_kafka: librdkafka clients configured from footfall settings, with logs routed to ff_log. */
#ifndef FF_KAFKA_H
#define FF_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "ff_config.h"

/* A librdkafka conf with footfall's logger and, in this order: `defaults`
 * (NULL-terminated key, value pairs, may be NULL), kafka.bootstrap.servers and
 * every kafka.* pass-through setting, then `forced` (pairs the design depends
 * on, which the operator cannot override). NULL with errstr naming the key
 * on a bad property. */
rd_kafka_conf_t *ff_kafka_conf(const ff_conf_t *conf, const char *const *defaults,
                               const char *const *forced, char *errstr, size_t errstr_size);

/* A client of `type` from such a conf (takes ownership of kconf in all cases). */
rd_kafka_t *ff_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *kconf, char *errstr,
                         size_t errstr_size);

/* A header value as a NUL-terminated string in buf, or NULL if absent. */
const char *ff_kafka_header(const rd_kafka_message_t *rkm, const char *name, char *buf,
                            size_t size);

#endif
