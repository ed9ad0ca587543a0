/* ff_log: one JSON object per line on stderr, for footfall and for librdkafka. */
#include "ff_log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static const char *log_name = "footfall";
static ff_log_level_t log_level = FF_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void ff_log_set_name(const char *name)
{
    log_name = name;
}

void ff_log_set_level(ff_log_level_t level)
{
    log_level = level;
}

ff_log_level_t ff_log_get_level(void)
{
    return log_level;
}

int ff_log_level_parse(const char *s)
{
    for (size_t i = 0; i < FF_ARRAY_LEN(level_names); i++)
        if (!strcmp(s, level_names[i]))
            return (int)i;
    return -1;
}

static void log_line(ff_log_level_t level, const char *event, const char *msg, size_t msglen)
{
    struct timeval tv;
    char ts[32];
    ff_buf_t b;

    gettimeofday(&tv, NULL);
    ff_format_rfc3339((int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, ts, sizeof ts);
    ff_buf_init(&b);
    ff_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"proc\":", ts, level_names[level]);
    ff_buf_json_str(&b, log_name, strlen(log_name));
    ff_buf_puts(&b, ",\"event\":");
    ff_buf_json_str(&b, event, strlen(event));
    ff_buf_puts(&b, ",\"msg\":");
    ff_buf_json_str(&b, msg, msglen);
    ff_buf_puts(&b, "}\n");
    /* One write per line so that lines from librdkafka's threads never interleave. */
    ssize_t off = 0;
    while ((size_t)off < b.len) {
        ssize_t n = write(STDERR_FILENO, b.data + off, b.len - (size_t)off);
        if (n <= 0)
            break;
        off += n;
    }
    ff_buf_term(&b);
}

void ff_log(ff_log_level_t level, const char *event, const char *fmt, ...)
{
    ff_buf_t msg;
    va_list ap;
    if (level < log_level || level >= FF_LOG_OFF)
        return;
    ff_buf_init(&msg);
    va_start(ap, fmt);
    ff_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    log_line(level, event, msg.data ? msg.data : "", msg.len);
    ff_buf_term(&msg);
}

void ff_log_rdkafka(const struct rd_kafka_s *rk, int level, const char *fac, const char *buf)
{
    ff_log_level_t l;
    char event[64];
    (void)rk;
    /* syslog: 0-3 error, 4 warning, 5-6 notice/info, 7 debug */
    if (level <= 3)
        l = FF_LOG_ERROR;
    else if (level == 4)
        l = FF_LOG_WARN;
    else if (level <= 6)
        l = FF_LOG_INFO;
    else
        l = FF_LOG_DEBUG;
    if (l < log_level)
        return;
    snprintf(event, sizeof event, "kafka.%s", fac);
    log_line(l, event, buf, strlen(buf));
}
