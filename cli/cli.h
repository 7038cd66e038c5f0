/* The `mpickle` command: one function per subcommand. Each takes the arguments
 * after the subcommand name and returns the exit status: 0 success, 1 malformed
 * input or a limit (one line on stderr), 2 usage error. */
#ifndef MPK_CLI_H
#define MPK_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "mpickle.h"

int cli_dis(int argc, char **argv);
int cli_json(int argc, char **argv);
int cli_recode(int argc, char **argv);
int cli_scan(int argc, char **argv);

/* Reads a whole file ("-" or NULL: standard input) into a malloc'd buffer.
 * Returns 0, or prints "mpickle: <path>: <reason>" and returns 1. */
int cli_read_file(const char *path, uint8_t **data, size_t *n);

/* Prints "mpickle: <what>: <formatted error>" on stderr. */
void cli_print_error(const char *what, const mpk_error_t *err);

/* Parses a --max-* limit option at argv[*i] (with its value in argv[*i+1]) into
 * limits. Returns 1 if it was one (and advances *i), 0 if not, -1 on a bad value. */
int cli_limit_option(int argc, char **argv, int *i, mpk_limits_t *limits);

/* The CLI's limits: far above the microcontroller defaults. */
void cli_default_limits(mpk_limits_t *limits);

/* Load options with the CLI's limits; out-of-band buffers kept as placeholders. */
void cli_load_opts(mpk_load_opts_t *lo);

/* Parses --max-*, --no-fix-imports and --encoding at argv[*i]: 1 taken, 0 not
 * one of them, -1 bad value (message printed). */
int cli_decode_option(int argc, char **argv, int *i, mpk_load_opts_t *lo);

/* Decodes a whole pickle into arena; prints the error and returns 1 on failure.
 * *proto (may be NULL) receives the pickle's protocol. */
int cli_decode(const uint8_t *data, size_t n, const mpk_load_opts_t *lo, mpk_arena_t *arena,
               mpk_value_t **out, int *proto);

#endif
