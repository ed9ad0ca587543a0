/* footfall gen: synthetic events for every input topic, encoded with the schemas, at a rate. */
#include "gen.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ff_clock.h"
#include "ff_kafka.h"
#include "ff_log.h"
#include "ff_registry.h"
#include "scenario.h"

static volatile sig_atomic_t stop;
static int64_t failed_deliveries;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (rkm->err) {
        failed_deliveries++;
        ff_warn("gen.delivery", "%s", rd_kafka_err2str(rkm->err));
    }
}

const char *ff_gen_topic_setting(ff_rec_t type)
{
    switch (type) {
    case FF_REC_WEB_EVENT: return "topic.web";
    case FF_REC_GEOFENCE_EVENT: return "topic.geofence";
    case FF_REC_CONSENT_EVENT: return "topic.consent";
    case FF_REC_SHELF_READING: return "topic.shelf";
    case FF_REC_POS_TRANSACTION: return "topic.pos";
    default: return NULL;
    }
}

int ff_gen_sink_init(ff_gen_sink_t *sink, const ff_conf_t *conf, ff_codec_t *codec, double rate,
                     int print, volatile sig_atomic_t *stop_flag, char *errstr, size_t errstr_size)
{
    memset(sink, 0, sizeof(*sink));
    sink->codec = codec;
    sink->conf = conf;
    sink->rate = rate;
    sink->stop = stop_flag;
    ff_buf_init(&sink->buf);
    if (!print) {
        const char *extra[] = {"enable.idempotence", "true", "linger.ms", "5",
                               "partitioner", "murmur2_random", NULL};
        rd_kafka_conf_t *kconf = ff_kafka_conf(conf, extra, NULL, errstr, errstr_size);
        if (!kconf)
            return -1;
        rd_kafka_conf_set_dr_msg_cb(kconf, dr_cb);
        sink->rk = ff_kafka_new(RD_KAFKA_PRODUCER, kconf, errstr, errstr_size);
        if (!sink->rk)
            return -1;
    }
    sink->t0 = ff_mono_ms();
    return 0;
}

int64_t ff_gen_sink_term(ff_gen_sink_t *sink)
{
    if (sink->rk) {
        while (rd_kafka_outq_len(sink->rk) > 0 && !(sink->stop && *sink->stop))
            rd_kafka_flush(sink->rk, 100);
        rd_kafka_flush(sink->rk, 5000);
        rd_kafka_destroy(sink->rk);
        sink->rk = NULL;
    }
    ff_buf_term(&sink->buf);
    return failed_deliveries;
}

int ff_gen_emit(void *opaque, ff_rec_t type, const char *key, const void *rec, int64_t at)
{
    ff_gen_sink_t *sink = opaque;
    const char *topic = ff_conf_str(sink->conf, ff_gen_topic_setting(type));

    if (sink->stop && *sink->stop)
        return 1;
    if (sink->realtime) {
        while (ff_mono_ms() < sink->t0 + at) {
            if (sink->stop && *sink->stop)
                return 1;
            if (sink->rk)
                rd_kafka_poll(sink->rk, 0);
            ff_sleep_ms(FF_MIN(50, sink->t0 + at - ff_mono_ms()));
        }
    } else if (sink->rate > 0) {
        int64_t due = sink->t0 + (int64_t)((double)sink->sent * 1000.0 / sink->rate);
        int64_t now = ff_mono_ms();
        if (due > now + 1)
            ff_sleep_ms(due - now);
    }
    ff_buf_reset(&sink->buf);
    ff_codec_encode(sink->codec, type, rec, &sink->buf);
    if (!sink->rk) {
        ff_buf_t line;
        ff_dec_err_t err;
        ff_buf_init(&line);
        ff_buf_puts(&line, "{\"topic\":");
        ff_buf_json_str(&line, topic, strlen(topic));
        ff_buf_puts(&line, ",\"key\":");
        ff_buf_json_str(&line, key, strlen(key));
        ff_buf_puts(&line, ",\"value\":");
        ff_codec_to_json(sink->codec, sink->buf.data, sink->buf.len, &line, &err);
        ff_buf_puts(&line, "}\n");
        fwrite(line.data, 1, line.len, stdout);
        ff_buf_term(&line);
    } else {
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                sink->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(sink->buf.data, sink->buf.len),
                RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(sink->rk, 50);
                continue;
            }
            if (err) {
                ff_error("gen.produce", "%s: %s", topic, rd_kafka_err2str(err));
                return 1;
            }
            break;
        }
        rd_kafka_poll(sink->rk, 0);
    }
    sink->sent++;
    sink->by_type[type]++;
    return 0;
}

static void help(void)
{
    printf("usage: footfall gen [--scenario NAME] [--count N] [--rate N] [--seed N]\n"
           "                    [--stores N] [--shelves N] [--customers N] [--start TIME]\n"
           "                    [--print] [--realtime]\n\n"
           "Produces synthetic events, encoded with footfall's schemas and keyed as the\n"
           "topics expect, to the brokers of kafka.bootstrap.servers. The same seed gives\n"
           "the same events. --rate is records per second (default: as fast as possible),\n"
           "--start the event time of the first event (default: so the scenario ends now),\n"
           "--print writes JSON lines to stdout instead of producing, --realtime sends each\n"
           "record when its scenario time comes (event times then track the clock).\n\n"
           "Scenarios:\n");
    for (int i = 0; ff_scenario_names[i]; i++)
        printf("  %-12s %s\n", ff_scenario_names[i], ff_scenario_describe(ff_scenario_names[i]));
}

static int own_flag(const char *flag)
{
    static const char *const with_value[] = {"--scenario", "--count", "--rate", "--seed",
                                             "--stores",   "--shelves", "--customers", "--start"};
    for (size_t i = 0; i < sizeof with_value / sizeof *with_value; i++)
        if (!strcmp(flag, with_value[i]))
            return 2;
    return !strcmp(flag, "--print") || !strcmp(flag, "--realtime") ? 1 : 0;
}

static int int_opt(char **rest, int nrest, const char *name, int64_t min, int64_t *out)
{
    const char *v = cli_opt(rest, nrest, name);
    if (!v)
        return 0;
    if (ff_parse_i64(v, out) == -1 || *out < min) {
        fprintf(stderr, "footfall gen: %s wants a whole number of at least %lld, not '%s'\n", name,
                (long long)min, v);
        return -1;
    }
    return 0;
}

int cmd_gen(int argc, char **argv)
{
    ff_conf_t *conf = ff_conf_new("cli");
    char **rest = ff_calloc((size_t)argc + 1, sizeof(char *));
    char errstr[512];
    int nrest = 0, rc, status = 2;
    const char *scenario = "shelf-day", *v;
    ff_scenario_opts_t opts;
    ff_gen_sink_t sink;
    ff_codec_t *codec = NULL;
    ff_registry_t *registry = NULL;
    int64_t n, emitted;
    double rate = 0;
    bool sink_ready = false;

    rc = cli_parse("gen", conf, argc, argv, own_flag, help, rest, &nrest);
    if (rc) {
        status = rc == 1 ? 0 : 2;
        goto out;
    }
    if ((v = cli_opt(rest, nrest, "--scenario")))
        scenario = v;
    if (!ff_scenario_describe(scenario)) {
        fprintf(stderr, "footfall gen: no scenario '%s'; see --help\n", scenario);
        goto out;
    }
    ff_scenario_defaults(scenario, &opts, ff_clock_now_ms());
    n = (int64_t)opts.seed;
    if (int_opt(rest, nrest, "--seed", 0, &n) == -1)
        goto out;
    opts.seed = (uint64_t)n;
    n = opts.count;
    if (int_opt(rest, nrest, "--count", 0, &n) == -1)
        goto out;
    opts.count = n;
    n = opts.stores;
    if (int_opt(rest, nrest, "--stores", 1, &n) == -1)
        goto out;
    opts.stores = (int)n;
    n = opts.shelves;
    if (int_opt(rest, nrest, "--shelves", 1, &n) == -1)
        goto out;
    opts.shelves = (int)n;
    n = opts.customers;
    if (int_opt(rest, nrest, "--customers", 1, &n) == -1)
        goto out;
    opts.customers = (int)n;
    if ((v = cli_opt(rest, nrest, "--rate"))) {
        char *end;
        rate = strtod(v, &end);
        if (*end || rate < 0) {
            fprintf(stderr, "footfall gen: --rate wants records per second, not '%s'\n", v);
            goto out;
        }
    }
    if ((v = cli_opt(rest, nrest, "--start")) && ff_parse_time_ms(v, &opts.start_ms) == -1) {
        fprintf(stderr, "footfall gen: --start wants epoch ms or an RFC 3339 time, not '%s'\n", v);
        goto out;
    }
    status = 1;
    codec = ff_codec_new(errstr, sizeof errstr);
    if (!codec) {
        fprintf(stderr, "footfall gen: %s\n", errstr);
        goto out;
    }
    static const char *const inputs[] = {"topic.web", "topic.geofence", "topic.consent",
                                         "topic.shelf", "topic.pos", NULL};
    int config_error;
    if (ff_codec_use_registry(codec, conf, inputs, &registry, &config_error, errstr,
                              sizeof errstr) == -1) {
        fprintf(stderr, "footfall gen: %s\n", errstr);
        status = config_error ? 2 : 1;
        goto out;
    }
    if (ff_gen_sink_init(&sink, conf, codec, rate, cli_flag(rest, nrest, "--print"), &stop,
                         errstr, sizeof errstr) == -1) {
        fprintf(stderr, "footfall gen: %s\n", errstr);
        status = 2;
        goto out;
    }
    sink_ready = true;
    sink.realtime = cli_flag(rest, nrest, "--realtime");
    signal(SIGINT, on_stop);
    signal(SIGTERM, on_stop);
    emitted = ff_scenario_run(scenario, &opts, ff_gen_emit, &sink);
    if (ff_gen_sink_term(&sink) == 0) {
        status = 0;
        ff_info("gen.done", "%lld records from scenario %s (seed %llu)", (long long)emitted,
                scenario, (unsigned long long)opts.seed);
    }
    sink_ready = false;
out:
    if (sink_ready)
        ff_gen_sink_term(&sink);
    ff_codec_destroy(codec);
    ff_registry_destroy(registry);
    free(rest);
    ff_conf_destroy(conf);
    return status;
}
