/* footfall tail: decodes any footfall topic and prints one JSON object per record. */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ff_codec.h"
#include "ff_kafka.h"
#include "ff_log.h"
#include "ff_registry.h"
#include "ff_util.h"

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static void help(void)
{
    printf("usage: footfall tail TOPIC [--from-beginning] [--count N] [--exit-at-end]\n"
           "                      [--idle MS] [--value-only]\n\n"
           "Prints each record of TOPIC as one JSON line: {\"topic\",\"partition\",\"offset\",\n"
           "\"key\",\"headers\",\"value\"}, value decoded with its schema (by the id in its\n"
           "header). A value that does not decode (a DLQ record) is printed as \"raw\" with\n"
           "the decoding error. Reads from the end unless --from-beginning; --exit-at-end\n"
           "stops at the end offsets seen at start, --idle after MS without a record.\n"
           "Reads read_committed; it joins no consumer group and commits nothing.\n");
}

static int own_flag(const char *flag)
{
    if (!strcmp(flag, "--count") || !strcmp(flag, "--idle"))
        return 2;
    if (!strcmp(flag, "--from-beginning") || !strcmp(flag, "--exit-at-end") ||
        !strcmp(flag, "--value-only"))
        return 1;
    return 0;
}

static void print_record(ff_codec_t *codec, const rd_kafka_message_t *rkm, int value_only,
                         ff_buf_t *out)
{
    ff_dec_err_t err;
    ff_buf_t value;
    rd_kafka_headers_t *hdrs = NULL;
    int ok;

    ff_buf_init(&value);
    ok = ff_codec_to_json(codec, rkm->payload, rkm->len, &value, &err) == 0;
    ff_buf_reset(out);
    if (value_only && ok) {
        ff_buf_append(out, value.data, value.len);
    } else {
        ff_buf_puts(out, "{\"topic\":");
        ff_buf_json_str(out, rd_kafka_topic_name(rkm->rkt), strlen(rd_kafka_topic_name(rkm->rkt)));
        ff_buf_printf(out, ",\"partition\":%d,\"offset\":%lld,\"key\":", (int)rkm->partition,
                      (long long)rkm->offset);
        if (rkm->key)
            ff_buf_json_str(out, rkm->key, rkm->key_len);
        else
            ff_buf_puts(out, "null");
        if (rd_kafka_message_headers(rkm, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char *name;
            const void *v;
            size_t n;
            ff_buf_puts(out, ",\"headers\":{");
            for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &v, &n); i++) {
                if (i)
                    ff_buf_putc(out, ',');
                ff_buf_json_str(out, name, strlen(name));
                ff_buf_putc(out, ':');
                ff_buf_json_str(out, v ? v : "", v ? n : 0);
            }
            ff_buf_putc(out, '}');
        }
        if (ok) {
            ff_buf_puts(out, ",\"value\":");
            ff_buf_append(out, value.data, value.len);
        } else {
            ff_buf_puts(out, ",\"value\":null,\"raw\":");
            ff_buf_json_str(out, rkm->payload ? rkm->payload : "", rkm->payload ? rkm->len : 0);
            ff_buf_puts(out, ",\"error\":");
            char msg[320];
            snprintf(msg, sizeof msg, "%s: %s", ff_dec_status_name(err.status), err.msg);
            ff_buf_json_str(out, msg, strlen(msg));
        }
        ff_buf_putc(out, '}');
    }
    ff_buf_putc(out, '\n');
    fwrite(out->data, 1, out->len, stdout);
    ff_buf_term(&value);
}

int cmd_tail(int argc, char **argv)
{
    ff_conf_t *conf = ff_conf_new("cli");
    char **rest = ff_calloc((size_t)argc + 1, sizeof(char *));
    char errstr[512];
    int nrest = 0, rc, status = 1, from_beginning, exit_at_end, value_only;
    const char *topic = NULL, *v;
    int64_t count = -1, idle = -1, seen = 0, last_msg;
    rd_kafka_t *rk = NULL;
    rd_kafka_conf_t *kconf;
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    int64_t *high = NULL;
    ff_codec_t *codec = NULL;
    ff_registry_t *registry = NULL;
    ff_buf_t out;
    char group[64];

    ff_buf_init(&out);
    rc = cli_parse("tail", conf, argc, argv, own_flag, help, rest, &nrest);
    if (rc) {
        status = rc == 1 ? 0 : 2;
        goto out;
    }
    for (int i = 0; i < nrest; i++) {
        if (rest[i][0] != '-') {
            if ((i > 0 && (!strcmp(rest[i - 1], "--count") || !strcmp(rest[i - 1], "--idle"))))
                continue;
            topic = rest[i];
        }
    }
    if (!topic) {
        fprintf(stderr, "footfall tail: which topic? see --help\n");
        status = 2;
        goto out;
    }
    from_beginning = cli_flag(rest, nrest, "--from-beginning");
    exit_at_end = cli_flag(rest, nrest, "--exit-at-end");
    value_only = cli_flag(rest, nrest, "--value-only");
    if ((v = cli_opt(rest, nrest, "--count")) && (ff_parse_i64(v, &count) == -1 || count < 0)) {
        fprintf(stderr, "footfall tail: --count wants a number, not '%s'\n", v);
        status = 2;
        goto out;
    }
    if ((v = cli_opt(rest, nrest, "--idle")) && ff_parse_duration_ms(v, &idle) == -1) {
        fprintf(stderr, "footfall tail: --idle wants a duration, not '%s'\n", v);
        status = 2;
        goto out;
    }
    codec = ff_codec_new(errstr, sizeof errstr);
    if (!codec) {
        fprintf(stderr, "footfall tail: %s\n", errstr);
        goto out;
    }
    int config_error;
    if (ff_codec_use_registry(codec, conf, NULL, &registry, &config_error, errstr,
                              sizeof errstr) == -1) {
        fprintf(stderr, "footfall tail: %s\n", errstr);
        status = config_error ? 2 : 1;
        goto out;
    }
    snprintf(group, sizeof group, "footfall-tail-%d", (int)getpid());
    const char *extra[] = {"group.id", group, "enable.auto.commit", "false",
                           "isolation.level", "read_committed", NULL};
    kconf = ff_kafka_conf(conf, NULL, extra, errstr, sizeof errstr);
    if (!kconf) {
        fprintf(stderr, "footfall tail: %s\n", errstr);
        status = 2;
        goto out;
    }
    rk = ff_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "footfall tail: %s\n", errstr);
        goto out;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (err || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "footfall tail: cannot find topic %s: %s\n", topic,
                rd_kafka_err2str(err ? err : md->topic_cnt ? md->topics[0].err : err));
        goto out;
    }
    parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    high = ff_calloc((size_t)md->topics[0].partition_cnt + 1, sizeof(int64_t));
    for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        int64_t lo = 0, hi = 0;
        int32_t p = md->topics[0].partitions[i].id;
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
            from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
        rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        high[i] = from_beginning ? hi - lo > 0 ? hi : 0 : 0;
        if (!from_beginning)
            high[i] = -1; /* nothing to wait for */
    }
    rd_kafka_assign(rk, parts);
    signal(SIGINT, on_stop);
    signal(SIGTERM, on_stop);
    signal(SIGPIPE, SIG_DFL);
    last_msg = ff_mono_ms();
    for (;;) {
        rd_kafka_message_t *rkm;
        if (stop || (count >= 0 && seen >= count))
            break;
        if (exit_at_end) {
            int done = 1;
            for (int i = 0; i < parts->cnt && done; i++) {
                rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(1);
                rd_kafka_topic_partition_list_add(pos, topic, parts->elems[i].partition);
                rd_kafka_position(rk, pos);
                if (high[i] > 0 && pos->elems[0].offset < high[i])
                    done = 0;
                rd_kafka_topic_partition_list_destroy(pos);
            }
            if (done)
                break;
        }
        if (idle >= 0 && ff_mono_ms() - last_msg > idle)
            break;
        rkm = rd_kafka_consumer_poll(rk, 100);
        if (!rkm)
            continue;
        if (rkm->err) {
            if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                ff_warn("tail.consume", "%s", rd_kafka_message_errstr(rkm));
            rd_kafka_message_destroy(rkm);
            continue;
        }
        print_record(codec, rkm, value_only, &out);
        seen++;
        last_msg = ff_mono_ms();
        rd_kafka_message_destroy(rkm);
    }
    fflush(stdout);
    status = 0;
out:
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    free(high);
    ff_codec_destroy(codec);
    ff_registry_destroy(registry);
    ff_buf_term(&out);
    free(rest);
    ff_conf_destroy(conf);
    return status;
}
