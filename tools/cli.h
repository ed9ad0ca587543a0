/* cli: the footfall operator CLI's subcommands and the helpers they share. */
#ifndef FF_CLI_H
#define FF_CLI_H

#include "ff_config.h"

/* Each subcommand gets argv from its own name on ("broker", "--partitions", …)
 * and returns the process exit status (2 for usage errors). */
int cmd_broker(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_settings(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Parses settings and the subcommand's own flags (is_own: see
 * ff_conf_from_args). Prints help (via help()) and returns 1 for --help,
 * prints the error and returns 2 on a bad argument, else 0. rest[] receives
 * the subcommand's own arguments. */
int cli_parse(const char *cmd, ff_conf_t *conf, int argc, char **argv,
              ff_conf_own_flag_fn is_own, void (*help)(void), char **rest, int *nrest);

/* Looks for an own option in rest: "--name=value" or "--name value". */
const char *cli_opt(char **rest, int nrest, const char *name);
int cli_flag(char **rest, int nrest, const char *name);

#endif
