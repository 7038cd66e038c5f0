/* mpickle recode: decode into the value model, encode again. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* Deepest graph recode encodes (see the comment where it is used). */
#define RECODE_MAX_DEPTH 20000u

static int file_sink(void *ctx, const uint8_t *data, size_t n)
{
    return fwrite(data, 1, n, (FILE *)ctx) == n ? 0 : -1;
}

static void recode_usage(FILE *f)
{
    fputs("usage: mpickle recode [-p N] [--compact] [--no-fix-imports] [--encoding ascii|latin1|bytes]\n"
          "                      [--max-depth N] [--max-stack N] [--max-memo N] [--max-str N] [--max-alloc N]\n"
          "                      [IN [OUT]]\n"
          "Decodes a pickle into mpickle's value model (nothing is imported or called) and\n"
          "encodes it again: with the input's protocol by default, -p N for another.\n"
          "--compact memoizes only shared objects and writes no frames.\n", f);
}

/* Options shared by the commands that decode: limits, fix_imports, encoding. */
int cli_decode_option(int argc, char **argv, int *i, mpk_load_opts_t *lo)
{
    int r = cli_limit_option(argc, argv, i, &lo->dec.limits);
    if (r) return r;
    if (!strcmp(argv[*i], "--no-fix-imports")) { lo->dec.fix_imports = 0; return 1; }
    if (!strcmp(argv[*i], "--encoding")) {
        const char *e = *i + 1 < argc ? argv[*i + 1] : "";
        if (!strcmp(e, "ascii") || !strcmp(e, "ASCII")) lo->dec.py2str = MPK_PY2STR_ASCII;
        else if (!strcmp(e, "latin1") || !strcmp(e, "latin-1")) lo->dec.py2str = MPK_PY2STR_LATIN1;
        else if (!strcmp(e, "bytes")) lo->dec.py2str = MPK_PY2STR_BYTES;
        else { fprintf(stderr, "mpickle: --encoding takes ascii, latin1 or bytes\n"); return -1; }
        *i += 1;
        return 1;
    }
    return 0;
}

void cli_load_opts(mpk_load_opts_t *lo)
{
    mpk_load_opts_default(lo);
    cli_default_limits(&lo->dec.limits);
    lo->nbuffers = (size_t)-1;  /* out-of-band buffers stay placeholders */
}

int cli_decode(const uint8_t *data, size_t n, const mpk_load_opts_t *lo, mpk_arena_t *arena,
               mpk_value_t **out, int *proto)
{
    mpk_decoder_t d;
    mpk_value_ctx_t vc;
    mpk_status_t st;
    size_t used = 0;
    mpk_value_ctx_init(&vc, arena, &d, lo->nbuffers);
    mpk_decoder_init(&d, &mpk_value_host, &vc, &arena->alloc, &lo->dec);
    st = mpk_decoder_feed(&d, data, n, 1, &used);
    if (st == MPK_NEED_MORE) st = mpk_decoder_finish(&d);
    if (st != MPK_DONE) {
        cli_print_error("decode", &d.err);
        mpk_decoder_destroy(&d);
        return 1;
    }
    *out = (mpk_value_t *)mpk_decoder_result(&d);
    if (proto) *proto = mpk_decoder_protocol(&d);
    mpk_decoder_destroy(&d);
    return 0;
}

int cli_recode(int argc, char **argv)
{
    mpk_load_opts_t lo;
    mpk_dump_opts_t dopts = {-1, 0, 0};
    const char *in = NULL, *outp = NULL;
    int i, rc = 1, proto = 0;
    uint8_t *data = NULL, *buf = NULL;
    size_t n;
    mpk_alloc_t alloc;
    mpk_arena_t arena;
    mpk_value_t *v;
    mpk_error_t err;
    FILE *out = stdout;

    cli_load_opts(&lo);
    for (i = 0; i < argc; i++) {
        int r = cli_decode_option(argc, argv, &i, &lo);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { recode_usage(stdout); return 0; }
        if (!strcmp(argv[i], "-p") && i + 1 < argc) {
            char *end;
            long p = strtol(argv[++i], &end, 10);
            if (*end || p < 0 || p > MPK_HIGHEST_PROTOCOL) { fprintf(stderr, "mpickle: -p takes 0..5\n"); return 2; }
            dopts.protocol = (int)p;
        } else if (!strcmp(argv[i], "--compact")) {
            dopts.flags |= MPK_WRITE_COMPACT;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "mpickle: recode: unknown option '%s'\n", argv[i]);
            recode_usage(stderr);
            return 2;
        } else if (!in) in = argv[i];
        else if (!outp) outp = argv[i];
        else { recode_usage(stderr); return 2; }
    }
    if (cli_read_file(in, &data, &n)) return 1;
    mpk_alloc_libc(&alloc);
    mpk_arena_init(&arena, &alloc, lo.dec.limits.max_alloc);
    if (cli_decode(data, n, &lo, &arena, &v, &proto)) goto done;
    if (dopts.protocol < 0) dopts.protocol = proto;
    if (!(dopts.flags & MPK_WRITE_NO_FIX_IMPORTS) && !lo.dec.fix_imports) dopts.flags |= MPK_WRITE_NO_FIX_IMPORTS;
    /* mpk_dump recurses once per level (about 150 bytes of C stack, more under
     * sanitizers): however high --max-depth goes, stay well inside an 8 MiB stack */
    dopts.max_depth = lo.dec.limits.max_depth < RECODE_MAX_DEPTH ? lo.dec.limits.max_depth : RECODE_MAX_DEPTH;
    if (outp && strcmp(outp, "-") && !(out = fopen(outp, "wb"))) {
        fprintf(stderr, "mpickle: %s: cannot open for writing\n", outp);
        goto done;
    }
    buf = malloc(MPK_FRAME_BUFFER);
    if (!buf) { fprintf(stderr, "mpickle: out of memory\n"); goto done; }
    if (mpk_dump(v, &dopts, &alloc, buf, MPK_FRAME_BUFFER, file_sink, out, &err) != MPK_OK) {
        cli_print_error("encode", &err);
        goto done;
    }
    if (fflush(out) != 0) { fprintf(stderr, "mpickle: write error\n"); goto done; }
    rc = 0;
done:
    if (out != stdout) fclose(out);
    free(buf);
    free(data);
    mpk_arena_free(&arena);
    return rc;
}
