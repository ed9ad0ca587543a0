/* footfall broker: librdkafka's mock cluster as a standalone embedded Kafka, with footfall's topics. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ff_kafka.h"
#include "ff_log.h"
#include "ff_util.h"

static volatile sig_atomic_t stop, want_down, want_up, want_offset_fetch_error;

/* Kafka's API key of OffsetFetch, for the mock's error injection. */
#define API_OFFSET_FETCH 9

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static void on_usr(int sig)
{
    if (sig == SIGUSR1)
        want_down = 1;
    else if (sig == SIGUSR2)
        want_up = 1;
    else
        want_offset_fetch_error = 1;
}

static const char *const topic_settings[] = {
    "topic.web",       "topic.geofence",    "topic.consent",     "topic.shelf",
    "topic.pos",       "topic.drive_to_store", "topic.store_assist", "topic.stock_alert",
    "topic.conversion", "topic.holdout",    "topic.decisions",
};
static const char *const input_settings[] = {
    "topic.web", "topic.geofence", "topic.consent", "topic.shelf", "topic.pos",
};

static void help(void)
{
    printf("usage: footfall broker [--brokers N] [--partitions N] [--topic NAME[:PARTITIONS]]…\n"
           "                       [--bootstrap-file PATH]\n\n"
           "Runs librdkafka's mock cluster, a Kafka protocol implementation in memory, as a\n"
           "process: the embedded default of the demo and the tests. It creates footfall's\n"
           "topics (inputs, their .dlq topics, triggers, decisions), prints its bootstrap\n"
           "address and, with --bootstrap-file, writes it to a file. Stop it with SIGTERM or\n"
           "Ctrl-C. SIGUSR1 takes every broker down (connections refused), SIGUSR2 brings\n"
           "them back: an outage on demand. SIGHUP fails the next OffsetFetch request (an\n"
           "unknown broker error): librdkafka 2.0 then never fetches the partitions it\n"
           "asked about, and the processors must notice (stall.timeout).\n\n"
           "Differences from a real Kafka cluster, all inside librdkafka 2.0's mock:\n"
           "  - data lives in memory only;\n"
           "  - ListOffsets by timestamp answers -1 (footfall replay bisects instead);\n"
           "  - transactional offset commits are not stored (footfall also commits\n"
           "    offsets plainly after each transaction) and aborted records stay\n"
           "    visible to read_committed consumers (consumers deduplicate by trigger_id);\n"
           "  - a consumer group's first join takes 3 to 5 seconds.\n");
}

static int own_flag(const char *flag)
{
    if (!strcmp(flag, "--brokers") || !strcmp(flag, "--partitions") || !strcmp(flag, "--topic") ||
        !strcmp(flag, "--bootstrap-file"))
        return 2;
    return 0;
}

static int write_file(const char *path, const char *text)
{
    char *tmp = ff_asprintf("%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    int rc = -1;
    if (fp) {
        fprintf(fp, "%s\n", text);
        if (fclose(fp) == 0 && rename(tmp, path) == 0)
            rc = 0;
    }
    free(tmp);
    return rc;
}

int cmd_broker(int argc, char **argv)
{
    ff_conf_t *conf = ff_conf_new("broker");
    char **rest = ff_calloc((size_t)argc + 1, sizeof(char *));
    char errstr[512];
    int nrest = 0, rc, brokers = 1, partitions = 4, status = 1;
    const char *v, *file;
    rd_kafka_conf_t *kconf;
    rd_kafka_t *rk = NULL;
    rd_kafka_mock_cluster_t *mc = NULL;
    int64_t n;

    rc = cli_parse("broker", conf, argc, argv, own_flag, help, rest, &nrest);
    if (rc) {
        status = rc == 1 ? 0 : 2;
        goto out;
    }
    if ((v = cli_opt(rest, nrest, "--brokers"))) {
        if (ff_parse_i64(v, &n) == -1 || n < 1 || n > 16) {
            fprintf(stderr, "footfall broker: --brokers wants 1 to 16, not '%s'\n", v);
            status = 2;
            goto out;
        }
        brokers = (int)n;
    }
    if ((v = cli_opt(rest, nrest, "--partitions"))) {
        if (ff_parse_i64(v, &n) == -1 || n < 1 || n > 1000) {
            fprintf(stderr, "footfall broker: --partitions wants 1 to 1000, not '%s'\n", v);
            status = 2;
            goto out;
        }
        partitions = (int)n;
    }
    file = cli_opt(rest, nrest, "--bootstrap-file");

    kconf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(kconf, ff_log_rdkafka);
    /* The mock's sockets take their options from this client: without
     * TCP_NODELAY, back-to-back responses (a transaction's many produce
     * requests) wait for the client's delayed ACK, up to 40 ms each time.
     * A Kafka broker sets TCP_NODELAY on every connection. */
    if (rd_kafka_conf_set(kconf, "socket.nagle.disable", "true", errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "footfall broker: %s\n", errstr);
        rd_kafka_conf_destroy(kconf);
        goto out;
    }
    rk = ff_kafka_new(RD_KAFKA_PRODUCER, kconf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "footfall broker: %s\n", errstr);
        goto out;
    }
    mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "footfall broker: cannot start the mock cluster\n");
        goto out;
    }
    for (size_t i = 0; i < sizeof topic_settings / sizeof *topic_settings; i++)
        rd_kafka_mock_topic_create(mc, ff_conf_str(conf, topic_settings[i]), partitions,
                                   brokers < 3 ? brokers : 3);
    for (size_t i = 0; i < sizeof input_settings / sizeof *input_settings; i++) {
        char *dlq = ff_asprintf("%s%s", ff_conf_str(conf, input_settings[i]),
                                ff_conf_str(conf, "dlq.suffix"));
        rd_kafka_mock_topic_create(mc, dlq, partitions, brokers < 3 ? brokers : 3);
        free(dlq);
    }
    for (int i = 0; i < nrest; i++) {
        const char *t = NULL;
        if (!strcmp(rest[i], "--topic") && i + 1 < nrest)
            t = rest[++i];
        else if (!strncmp(rest[i], "--topic=", 8))
            t = rest[i] + 8;
        if (t) {
            char name[256];
            int p = partitions;
            const char *colon = strrchr(t, ':');
            snprintf(name, sizeof name, "%.*s", (int)(colon ? colon - t : (long)strlen(t)), t);
            if (colon)
                p = atoi(colon + 1) > 0 ? atoi(colon + 1) : partitions;
            rd_kafka_mock_topic_create(mc, name, p, brokers < 3 ? brokers : 3);
        }
    }

    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    signal(SIGUSR1, on_usr);
    signal(SIGUSR2, on_usr);
    signal(SIGHUP, on_usr);
    printf("footfall broker: %s (%d broker%s, %d partitions per topic)\n", bootstrap, brokers,
           brokers > 1 ? "s" : "", partitions);
    fflush(stdout);
    if (file && write_file(file, bootstrap) == -1) {
        fprintf(stderr, "footfall broker: cannot write %s\n", file);
        goto out;
    }
    while (!stop) {
        if (want_down) {
            want_down = 0;
            rd_kafka_mock_broker_set_down(mc, -1);
            ff_info("broker.down", "all brokers down");
        }
        if (want_offset_fetch_error) {
            want_offset_fetch_error = 0;
            rd_kafka_mock_push_request_errors(mc, API_OFFSET_FETCH, 1, RD_KAFKA_RESP_ERR_UNKNOWN);
            ff_info("broker.inject", "the next OffsetFetch request fails");
        }
        if (want_up) {
            want_up = 0;
            rd_kafka_mock_broker_set_up(mc, -1);
            ff_info("broker.up", "all brokers up");
        }
        usleep(50 * 1000);
    }
    status = 0;
out:
    if (mc)
        rd_kafka_mock_cluster_destroy(mc);
    if (rk)
        rd_kafka_destroy(rk);
    free(rest);
    ff_conf_destroy(conf);
    return status;
}
