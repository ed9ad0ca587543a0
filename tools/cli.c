/* cli: helpers the footfall subcommands share: argument parsing and topic lookup. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_clock.h"
#include "ff_log.h"
#include "ff_records.h"

int cli_parse(const char *cmd, ff_conf_t *conf, int argc, char **argv,
              ff_conf_own_flag_fn is_own, void (*help)(void), char **rest, int *nrest)
{
    char errstr[1024];
    int rc = ff_conf_from_args(conf, argc, argv, is_own, rest, nrest, errstr, sizeof errstr);
    if (rc == 1) {
        help();
        return 1;
    }
    if (rc == -1) {
        fprintf(stderr, "footfall %s: %s\n", cmd, errstr);
        return 2;
    }
    ff_log_set_level(ff_log_level_parse(ff_conf_str(conf, "log.level")));
    if (ff_clock_init_from_env(errstr, sizeof errstr) == -1) {
        fprintf(stderr, "footfall %s: %s\n", cmd, errstr);
        return 2;
    }
    return 0;
}

const char *cli_opt(char **rest, int nrest, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < nrest; i++) {
        if (!strncmp(rest[i], name, n) && rest[i][n] == '=')
            return rest[i] + n + 1;
        if (!strcmp(rest[i], name) && i + 1 < nrest)
            return rest[i + 1];
    }
    return NULL;
}

int cli_flag(char **rest, int nrest, const char *name)
{
    for (int i = 0; i < nrest; i++)
        if (!strcmp(rest[i], name))
            return 1;
    return 0;
}
