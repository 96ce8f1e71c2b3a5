/* cli.h - the subcommands other than serve. Each returns the process exit code. */
#ifndef SCRM_CLI_H
#define SCRM_CLI_H

#include <stdbool.h>

struct scrm_config;

int cli_migrate(const struct scrm_config *cfg);
int cli_user(const struct scrm_config *cfg, int argc, char **argv);
int cli_token(const struct scrm_config *cfg, int argc, char **argv);
int cli_backup(const struct scrm_config *cfg, const char *outfile);
/* Create the first admin when there are no users (serve, at start). 0 or -1. */
int cli_first_admin(const struct scrm_config *cfg);
/* Open the store with cfg's settings; 0 or -1 (logged). */
int cli_open_store(const struct scrm_config *cfg, bool migrate);

#endif
