/*
 * Test driver for the numpy helper (driven by tests/interop/test_numpy.py).
 *
 *   ndarray_driver read PICKLE [BUFFER...]
 *       decodes PICKLE (BUFFERs: out-of-band buffers, in order) and describes the
 *       array at the root, or each array in a root list/tuple/dict:
 *         array | dtype <f4 | shape 2 3 | order C | readonly 0 | oob 0
 *         data HEX (as stored) | native HEX (mpk_ndarray_copy_c) | f64 v,... | end
 *       or "error N text" for an item that is not a readable array.
 *   ndarray_driver write SPEC OUT
 *       writes a pickle from SPEC lines:
 *         proto N | flags N | container none|list|dict
 *         array TYPESTR ORDER SHAPE RAWFILE READONLY [KEY]   (SHAPE: 2,3 or - for 0-d)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpickle.h"
#include "mpickle_ndarray.h"

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0, got;
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = (unsigned char *)realloc(buf, cap);
            if (!buf) exit(3);
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got);
    fclose(f);
    *n = len;
    return buf;
}

static void put_hex(const char *label, const unsigned char *p, size_t n)
{
    size_t i;
    printf("%s ", label);
    for (i = 0; i < n; i++) printf("%02x", p[i]);
    putchar('\n');
}

static void describe(const mpk_value_t *v, const mpk_ndbuf_t *bufs, size_t nbufs)
{
    mpk_ndarray_t a;
    mpk_nd_err_t e = mpk_ndarray_view(v, bufs, nbufs, &a);
    char ts[8];
    size_t i;
    unsigned char *native;
    if (e != MPK_ND_OK) { printf("error %d %s\n", (int)e, mpk_nd_err_str(e)); return; }
    mpk_ndarray_typestr(&a, ts);
    printf("array\ndtype %s\nshape", ts);
    for (i = 0; i < a.ndim; i++) printf(" %zu", a.shape[i]);
    printf("\norder %c\nreadonly %d\noob %d\n", a.order, a.readonly, a.out_of_band);
    put_hex("data", a.data, a.nbytes);
    native = (unsigned char *)malloc(a.nbytes + 1);
    if (!native || mpk_ndarray_copy_c(&a, native, a.nbytes) != a.nbytes) { printf("native-failed\n"); free(native); return; }
    put_hex("native", native, a.nbytes);
    free(native);
    printf("f64");
    for (i = 0; i < a.size; i++) {
        double re, im;
        if (!mpk_ndarray_get_f64(&a, i, &re, &im)) { printf(" FAIL"); break; }
        if (a.kind == 'c') printf(" %.17g,%.17g", re, im);
        else printf(" %.17g", re);
    }
    printf("\nend\n");
}

static int cmd_read(int argc, char **argv)
{
    size_t n, used, i, nbufs = (size_t)(argc - 3);
    unsigned char *data = slurp(argv[2], &n);
    mpk_ndbuf_t *bufs = (mpk_ndbuf_t *)calloc(nbufs + 1, sizeof *bufs);
    mpk_alloc_t alloc;
    mpk_arena_t arena;
    mpk_load_opts_t opts;
    mpk_error_t err;
    mpk_value_t *root;
    for (i = 0; i < nbufs; i++) bufs[i].data = slurp(argv[3 + i], &bufs[i].len);
    mpk_alloc_libc(&alloc);
    mpk_arena_init(&arena, &alloc, 0);
    mpk_load_opts_default(&opts);
    opts.dec.limits.max_str = (uint64_t)1 << 40;
    opts.dec.limits.max_alloc = (uint64_t)1 << 40;
    opts.dec.limits.max_memo = 1u << 24;
    opts.nbuffers = nbufs;
    root = mpk_loads(&arena, data, n, &opts, &used, &err);
    if (!root) {
        char msg[256];
        mpk_error_format(&err, msg, sizeof msg);
        printf("loaderror %s\n", msg);
    } else if (mpk_ndarray_is_array(root) || (root->type != MPK_LIST && root->type != MPK_TUPLE && root->type != MPK_DICT)) {
        describe(root, bufs, nbufs);
    } else if (root->type == MPK_DICT) {
        for (i = 0; i < mpk_len(root); i++) describe(mpk_dict_value(root, i), bufs, nbufs);
    } else {
        for (i = 0; i < mpk_len(root); i++) describe(mpk_item(root, i), bufs, nbufs);
    }
    mpk_arena_free(&arena);
    for (i = 0; i < nbufs; i++) free((void *)bufs[i].data);
    free(bufs);
    free(data);
    return root ? 0 : 1;
}

static int file_sink(void *ctx, const uint8_t *p, size_t n)
{
    return fwrite(p, 1, n, (FILE *)ctx) == n ? 0 : -1;
}

#define MAX_ARRAYS 64

struct spec_array { char typestr[8], order, key[64]; size_t shape[MPK_ND_MAXDIM], ndim; char raw[1024]; int readonly; };

static size_t parse_shape(const char *s, size_t *shape)
{
    size_t nd = 0;
    if (!strcmp(s, "-")) return 0;
    while (*s && nd < MPK_ND_MAXDIM) {
        char *end;
        shape[nd++] = (size_t)strtoull(s, &end, 10);
        s = *end == ',' ? end + 1 : end;
    }
    return nd;
}

static int cmd_write(int argc, char **argv)
{
    FILE *spec = fopen(argv[2], "r"), *out;
    static struct spec_array arr[MAX_ARRAYS];
    static uint8_t wbuf[MPK_FRAME_BUFFER];
    struct mpk_wframe frames[64];
    char line[2048], container[16] = "none";
    int proto = 5, flags = 0;
    size_t narr = 0, i;
    mpk_writer_t w;
    mpk_ndarray_wctx_t ctx;
    mpk_err_t e;
    (void)argc;
    if (!spec) { fprintf(stderr, "cannot open spec\n"); return 2; }
    while (fgets(line, sizeof line, spec)) {
        char shape[512];
        struct spec_array *s = &arr[narr];
        if (sscanf(line, "proto %d", &proto) == 1 || sscanf(line, "flags %d", &flags) == 1 ||
            sscanf(line, "container %15s", container) == 1) continue;
        s->key[0] = 0;
        if (narr < MAX_ARRAYS && sscanf(line, "array %7s %c %511s %1023s %d %63s", s->typestr, &s->order, shape,
                                        s->raw, &s->readonly, s->key) >= 5) {
            s->ndim = parse_shape(shape, s->shape);
            narr++;
        }
    }
    fclose(spec);
    out = fopen(argv[3], "wb");
    if (!out) return 2;
    mpk_writer_init(&w, proto, 0, wbuf, sizeof wbuf, file_sink, out, frames, 64);
    mpk_ndarray_wctx_init(&ctx);
    if (!strcmp(container, "list")) mpk_write_list_begin(&w, narr);
    else if (!strcmp(container, "dict")) mpk_write_dict_begin(&w, narr);
    for (i = 0; i < narr; i++) {
        size_t n;
        unsigned char *raw = slurp(arr[i].raw, &n);
        mpk_ndarray_t a;
        mpk_nd_err_t ne = mpk_ndarray_init(&a, arr[i].typestr, arr[i].shape, arr[i].ndim, arr[i].order, raw, n);
        if (ne != MPK_ND_OK) { fprintf(stderr, "array %zu: %s\n", i, mpk_nd_err_str(ne)); return 1; }
        a.readonly = (uint8_t)arr[i].readonly;
        if (!strcmp(container, "dict")) mpk_write_str(&w, arr[i].key, strlen(arr[i].key));
        e = mpk_write_ndarray(&w, &a, flags, &ctx);
        free(raw);
        if (e != MPK_OK) { fprintf(stderr, "write: %s\n", mpk_err_str(e)); return 1; }
    }
    if (!strcmp(container, "list")) mpk_write_list_end(&w);
    else if (!strcmp(container, "dict")) mpk_write_dict_end(&w);
    e = mpk_writer_finish(&w);
    fclose(out);
    if (e != MPK_OK) { fprintf(stderr, "finish: %s\n", mpk_err_str(e)); return 1; }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "read")) return cmd_read(argc, argv);
    if (argc == 4 && !strcmp(argv[1], "write")) return cmd_write(argc, argv);
    fprintf(stderr, "usage: ndarray_driver read PICKLE [BUFFER...] | write SPEC OUT\n");
    return 2;
}
