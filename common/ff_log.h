/* ff_log: one JSON object per line on stderr, for footfall and for librdkafka. */
#ifndef FF_LOG_H
#define FF_LOG_H

#include "ff_util.h"

typedef enum {
    FF_LOG_DEBUG = 0,
    FF_LOG_INFO,
    FF_LOG_WARN,
    FF_LOG_ERROR,
    FF_LOG_OFF,
} ff_log_level_t;

/* Sets the process name written in every line ("footfall-shelf"); the
 * string must outlive the logger. */
void ff_log_set_name(const char *name);
void ff_log_set_level(ff_log_level_t level);
ff_log_level_t ff_log_get_level(void);
/* "debug", "info", "warn", "error", "off" -> level; -1 if unknown. */
int ff_log_level_parse(const char *s);

/* Writes {"ts":…,"level":…,"proc":…,"event":event,"msg":…}. `event` is a
 * short stable tag that a log pipeline can filter on ("redis.reconnect"). */
void ff_log(ff_log_level_t level, const char *event, const char *fmt, ...) FF_PRINTF(3, 4);

#define ff_debug(event, ...) \
    do { if (ff_log_get_level() <= FF_LOG_DEBUG) ff_log(FF_LOG_DEBUG, event, __VA_ARGS__); } while (0)
#define ff_info(event, ...) ff_log(FF_LOG_INFO, event, __VA_ARGS__)
#define ff_warn(event, ...) ff_log(FF_LOG_WARN, event, __VA_ARGS__)
#define ff_error(event, ...) ff_log(FF_LOG_ERROR, event, __VA_ARGS__)

/* librdkafka's log callback (rd_kafka_conf_set_log_cb), routing its lines
 * through ff_log with event "kafka.<fac>". Syslog levels map onto ours. */
struct rd_kafka_s;
void ff_log_rdkafka(const struct rd_kafka_s *rk, int level, const char *fac, const char *buf);

#endif
