/* gen: turns scenario records into Kafka records (or JSON lines), paced at a rate. */
#ifndef FF_GEN_H
#define FF_GEN_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdint.h>

#include "ff_codec.h"
#include "ff_config.h"

typedef struct ff_gen_sink_s {
    rd_kafka_t *rk;        /* NULL: print JSON lines instead */
    ff_codec_t *codec;
    const ff_conf_t *conf;
    double rate;           /* records per second, 0: as fast as possible */
    int realtime;          /* send each record at its scenario time instead */
    int64_t sent;
    int64_t t0;
    int64_t by_type[FF_REC__COUNT];
    volatile sig_atomic_t *stop;
    ff_buf_t buf;
} ff_gen_sink_t;

/* A sink producing to the brokers of conf (idempotent producer). 0, or -1
 * with errstr. */
int ff_gen_sink_init(ff_gen_sink_t *sink, const ff_conf_t *conf, ff_codec_t *codec, double rate,
                     int print, volatile sig_atomic_t *stop, char *errstr, size_t errstr_size);
/* Flushes and frees. Returns the number of records that failed delivery. */
int64_t ff_gen_sink_term(ff_gen_sink_t *sink);
/* An ff_emit_fn: encodes and produces (or prints) one record. */
int ff_gen_emit(void *opaque, ff_rec_t type, const char *key, const void *rec, int64_t at);
/* The topic setting a record type is produced to. */
const char *ff_gen_topic_setting(ff_rec_t type);

#endif
