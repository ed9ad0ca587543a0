/* footfall: the operator CLI: demo, broker, gen, tail, replay, state, settings, bench, check. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ff_log.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"demo", cmd_demo, "run the whole pipeline on the embedded stack with a generated scenario"},
    {"broker", cmd_broker, "run the embedded Kafka broker (librdkafka's mock cluster)"},
    {"gen", cmd_gen, "produce realistic synthetic events for the input topics"},
    {"tail", cmd_tail, "decode a footfall topic and print one JSON object per record"},
    {"replay", cmd_replay, "backfill: a processor's logic over its inputs into another state prefix"},
    {"state", cmd_state, "show a customer's or a store's state; compare two prefixes"},
    {"settings", cmd_settings, "list every setting and its environment name"},
    {"bench", cmd_bench, "measure each processor: throughput, Redis round trips, CPU, latency, memory"},
    {"check", cmd_check, "GET a URL, exit 0 on 2xx (a container HEALTHCHECK)"},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: footfall COMMAND [options]   (footfall COMMAND --help for more)\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(fp, "  %-8s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    ff_log_set_name("footfall");
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "footfall: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
