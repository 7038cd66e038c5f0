/* Fuzz target: the `mpickle dis`, `json`, `scan` and `recode` subcommands on any
 * input, through their real entry points (the cli sources compiled in, all but main.c).
 * The input goes to a temporary file named on the command line; standard output
 * goes to /dev/null. The CLI's own limits apply, except a smaller --max-alloc so
 * that one input cannot take gigabytes. Checks: no crash or sanitizer report,
 * and each exit status is one the command documents. */
#include <fcntl.h>
#include <unistd.h>
#include "fuzz_common.h"
#include "cli.h"

static char path[64];

static void remove_input(void) { remove(path); }

static void setup(void)
{
    if (path[0]) return;
    snprintf(path, sizeof path, "/tmp/mpk-fuzz-cli-%ld.pkl", (long)getpid());
    if (!freopen("/dev/null", "w", stdout)) abort();
    atexit(remove_input);
}

static int write_input(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    if (size && fwrite(data, 1, size, f) != size) { fclose(f); return -1; }
    return fclose(f);
}

static int run(int (*cmd)(int, char **), const char *const *args, int nargs)
{
    char *argv[12];
    int i, rc;
    for (i = 0; i < nargs; i++) argv[i] = (char *)args[i];
    argv[nargs] = path;
    argv[nargs + 1] = NULL;
    rc = cmd(nargs + 1, argv);
    fflush(stdout);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const none[] = {NULL};
    static const char *const small[] = {"--max-alloc", "67108864", "--max-depth", "200"};
    static const char *const json_c[] = {"--max-alloc", "67108864", "--max-depth", "200", "--max-output", "4000000"};
    static const char *const json_ind[] = {"--max-alloc", "67108864", "--max-depth", "200", "--indent", "1",
                                           "--max-output", "1000000"};
    static const char *const scan_json[] = {"--json"};
    static const char *const recode_c[] = {"--max-alloc", "67108864", "--max-depth", "200", "--compact"};
    uint64_t seed = fuzz_seed(data, size);
    int rc;

    setup();
    if (write_input(data, size) != 0) return 0;
    rc = run(cli_dis, none, 0);
    FUZZ_ASSERT(rc == 0 || rc == 1, "dis exit %d", rc);
    rc = (seed & 1) ? run(cli_json, json_ind, 8) : run(cli_json, json_c, 6);
    FUZZ_ASSERT(rc == 0 || rc == 1, "json exit %d", rc);
    rc = (seed & 2) ? run(cli_scan, scan_json, 1) : run(cli_scan, none, 0);
    FUZZ_ASSERT(rc == 0 || rc == 1 || (rc >= 3 && rc <= 5), "scan exit %d", rc);
    rc = (seed & 4) ? run(cli_recode, recode_c, 5) : run(cli_recode, small, 4);
    FUZZ_ASSERT(rc == 0 || rc == 1, "recode exit %d", rc);
    return 0;
}
