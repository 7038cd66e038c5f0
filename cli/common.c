/* Helpers shared by the subcommands: input, errors, limit options. */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include "cli.h"

int cli_read_file(const char *path, uint8_t **data, size_t *n)
{
    FILE *f = (!path || !strcmp(path, "-")) ? stdin : fopen(path, "rb");
    size_t cap = 65536, len = 0;
    uint8_t *buf;
    if (!f) { fprintf(stderr, "mpickle: %s: %s\n", path, strerror(errno)); return 1; }
    buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap) break;
        cap *= 2;
        uint8_t *nb = realloc(buf, cap);
        if (!nb) { free(buf); buf = NULL; }
        else buf = nb;
    }
    if (!buf || ferror(f)) {
        fprintf(stderr, "mpickle: %s: %s\n", path ? path : "stdin", buf ? "read error" : "out of memory");
        free(buf);
        if (f != stdin) fclose(f);
        return 1;
    }
    if (f != stdin) fclose(f);
    *data = buf;
    *n = len;
    return 0;
}

void cli_print_error(const char *what, const mpk_error_t *err)
{
    char msg[256];
    mpk_error_format(err, msg, sizeof msg);
    fprintf(stderr, "mpickle: %s: %s\n", what, msg);
}

void cli_default_limits(mpk_limits_t *limits)
{
    limits->max_depth = 10000;
    limits->max_stack = 1u << 24;
    limits->max_memo = 1u << 24;
    limits->max_str = (uint64_t)1 << 32;
    limits->max_alloc = (uint64_t)4 << 30;
    limits->max_input = 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if (!s || !*s || *s == '-') return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

int cli_limit_option(int argc, char **argv, int *i, mpk_limits_t *limits)
{
    static const char *names[] = {"--max-depth", "--max-stack", "--max-memo", "--max-str", "--max-alloc"};
    const char *opt = argv[*i];
    uint64_t v;
    size_t k;
    for (k = 0; k < sizeof names / sizeof names[0]; k++)
        if (!strcmp(opt, names[k])) break;
    if (k == sizeof names / sizeof names[0]) return 0;
    if (*i + 1 >= argc || parse_u64(argv[*i + 1], &v) || v == 0) {
        fprintf(stderr, "mpickle: %s needs a positive number\n", opt);
        return -1;
    }
    switch (k) {
    case 0: limits->max_depth = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; break;
    case 1: limits->max_stack = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; break;
    case 2: limits->max_memo = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; break;
    case 3: limits->max_str = v; break;
    default: limits->max_alloc = v; break;
    }
    *i += 1;
    return 1;
}
