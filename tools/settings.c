/* footfall settings and footfall check: every setting with its env name; an HTTP probe for HEALTHCHECK. */
#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ff_config.h"

/* Whether FOOTFALL_<X> names a setting, a librdkafka property (as kafka.*)
 * or the test clock. */
static int env_known(const char *name)
{
    char env[256];
    if (!strcmp(name, "FOOTFALL_NOW"))
        return 1;
    for (size_t i = 0; i < ff_settings_count; i++) {
        ff_conf_env_name(ff_settings[i].key, env, sizeof env);
        if (!strcmp(env, name))
            return 1;
    }
    if (!strncmp(name, "FOOTFALL_KAFKA_", 15)) {
        char prop[256], err[256];
        size_t n = 0;
        rd_kafka_conf_t *kconf = rd_kafka_conf_new();
        for (const char *p = name + 15; *p && n + 1 < sizeof prop; p++)
            prop[n++] = *p == '_' ? '.' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        prop[n] = '\0';
        /* A known property may reject the probe value; only "unknown" counts. */
        int known = rd_kafka_conf_set(kconf, prop, "1", err, sizeof err) != RD_KAFKA_CONF_UNKNOWN;
        rd_kafka_conf_destroy(kconf);
        return known;
    }
    return 0;
}

int cmd_settings(int argc, char **argv)
{
    char env[256];
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: footfall settings [--env | --check FOOTFALL_NAME…]\n\n"
               "Lists every setting of every binary (key, environment name, default, help);\n"
               "--env lists only the environment names; --check says whether each name is a\n"
               "setting or a librdkafka property (FOOTFALL_KAFKA_*) and exits 1 if one is not.\n");
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--env")) {
        for (size_t i = 0; i < ff_settings_count; i++) {
            ff_conf_env_name(ff_settings[i].key, env, sizeof env);
            printf("%s\n", env);
        }
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--check")) {
        int bad = 0;
        for (int i = 2; i < argc; i++) {
            if (!env_known(argv[i])) {
                printf("%s: not a footfall setting nor a librdkafka property\n", argv[i]);
                bad = 1;
            }
        }
        return bad;
    }
    if (argc > 1) {
        fprintf(stderr, "footfall settings: unknown option '%s'\n", argv[1]);
        return 2;
    }
    ff_conf_print_help(stdout, FF_P_ALL, "<processor>");
    return 0;
}

static size_t discard(char *data, size_t size, size_t n, void *opaque)
{
    (void)data;
    (void)opaque;
    return size * n;
}

int cmd_check(int argc, char **argv)
{
    CURL *curl;
    long code = 0;
    CURLcode rc;
    if (argc != 2 || argv[1][0] == '-') {
        printf("usage: footfall check URL\n\nGETs URL and exits 0 on a 2xx answer, 1 otherwise: "
               "a container HEALTHCHECK\n(footfall check http://localhost:9100/healthz) without "
               "curl in the image.\n");
        return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "footfall check: %s: %s\n", argv[1], curl_easy_strerror(rc));
        return 1;
    }
    if (code < 200 || code >= 300) {
        fprintf(stderr, "footfall check: %s: HTTP %ld\n", argv[1], code);
        return 1;
    }
    return 0;
}
