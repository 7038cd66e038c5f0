/* mpickle: inspect, convert and re-encode pickles. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static void usage(FILE *f)
{
    fputs("usage: mpickle COMMAND [OPTIONS] [FILE]\n"
          "commands:\n"
          "  dis [FILE]                          disassemble, like pickletools.dis\n"
          "  json [FILE]                         the data as JSON (see docs/json.md)\n"
          "  recode [-p N] [--compact] [IN [OUT]] decode and encode again\n"
          "  scan [--json] [FILE]                globals and calls it would make; a verdict\n"
          "  --version                           print the version\n"
          "FILE, IN and OUT default to standard input and output.\n"
          "Exit status: 0 success, 1 malformed input or a limit, 2 usage error.\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) { usage(stdout); return 0; }
    if (!strcmp(argv[1], "--version")) { printf("mpickle %s\n", MPK_VERSION); return 0; }
    if (!strcmp(argv[1], "dis")) return cli_dis(argc - 2, argv + 2);
    if (!strcmp(argv[1], "json")) return cli_json(argc - 2, argv + 2);
    if (!strcmp(argv[1], "recode")) return cli_recode(argc - 2, argv + 2);
    if (!strcmp(argv[1], "scan")) return cli_scan(argc - 2, argv + 2);
    fprintf(stderr, "mpickle: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
