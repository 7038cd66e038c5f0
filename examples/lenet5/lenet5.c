/*
 * LeNet-5 inference in plain C99 from numpy pickles, through mpickle.
 *
 *   lenet5 WEIGHTS.pkl INPUTS.pkl [REFERENCE.pkl] [--out LOGITS.pkl] [--protocol N]
 *          [--repeat N] [--tol X] [--pool BYTES]
 *
 * WEIGHTS.pkl: the dict train.py writes ({layer name: float32 array}; layout in
 * train.py's docstring: channels-last, kernels HWIO flattened to 2-d).
 * INPUTS.pkl: float32 (N, 784) or (N, 28, 28) images. REFERENCE.pkl: a dict whose
 * 'logits' (N, 10) the C logits are compared with. --out writes the logits as a
 * numpy float32 array pickle (numpy loads it; the bytes are numpy's own).
 *
 * Every pickle is decoded by mpk_loads into an arena that lives in one fixed pool
 * (no malloc): the weights are copied out of the graph, then the pool is reused
 * for the next file. Exit status: 0 ok, 1 disagreement with the reference,
 * 2 a file or format error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpickle.h"
#include "mpickle_ndarray.h"

/* Memory: the file being decoded, and the pool the decoder and arena take from.
 * With protocols 3 and 4 the pool holds only the value graph (bytes payloads are
 * referenced in the file buffer): about 14 KB for these weights (--pool 16384
 * is enough). Protocol 5 bytearrays and protocol 0-2 latin-1 text are copied
 * into the arena, so those take 2.5 to 7 times the data (README.md): the default
 * pool fits them all. --pool N uses only the first N bytes. */
#define FILE_CAP (512u * 1024u)
#ifndef POOL_MAX
#define POOL_MAX (1280u * 1024u)
#endif
#define MAX_IMAGES 64
#define SIDE 28
#define NCLASS 10

static uint8_t file_buf[FILE_CAP];
static uint8_t pool_mem[POOL_MAX];
static size_t pool_size = POOL_MAX;   /* bytes of pool_mem in use (--pool) */

/* ------------------------------------------------------------------ model */

static float conv1_w[25 * 6], conv1_b[6];
static float conv2_w[150 * 16], conv2_b[16];
static float fc1_w[256 * 120], fc1_b[120];
static float fc2_w[120 * 84], fc2_b[84];
static float fc3_w[84 * NCLASS], fc3_b[NCLASS];

/* One parameter: its 2-d (rows, cols) or 1-d (rows, cols 0) shape, and for a
 * conv kernel the equivalent 4-d HWIO shape (K, K, c_in, c_out), also accepted. */
typedef struct param {
    const char *name;
    size_t rows, cols;
    size_t cin;         /* conv kernels: input channels; 0 for others */
    float *dst;
} param_t;

static const param_t PARAMS[] = {
    {"conv1.w", 25, 6, 1, conv1_w},    {"conv1.b", 6, 0, 0, conv1_b},
    {"conv2.w", 150, 16, 6, conv2_w},  {"conv2.b", 16, 0, 0, conv2_b},
    {"fc1.w", 256, 120, 0, fc1_w},     {"fc1.b", 120, 0, 0, fc1_b},
    {"fc2.w", 120, 84, 0, fc2_w},      {"fc2.b", 84, 0, 0, fc2_b},
    {"fc3.w", 84, NCLASS, 0, fc3_w},   {"fc3.b", NCLASS, 0, 0, fc3_b},
};
#define NPARAMS (sizeof PARAMS / sizeof PARAMS[0])

/* ------------------------------------------------------------------ memory */

/* The pool, wrapped to record its high-water mark (the pool itself may shrink
 * its last block, so its `used` after a load can be below the peak). */
typedef struct pool_meter {
    mpk_pool_t pool;
    mpk_alloc_t inner;
    size_t peak;
} pool_meter_t;

static void *meter_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    pool_meter_t *m = (pool_meter_t *)ctx;
    void *p = m->inner.realloc(m->inner.ctx, ptr, old_size, new_size);
    if (m->pool.used > m->peak) m->peak = m->pool.used;
    return p;
}

static void meter_reset(pool_meter_t *m, mpk_alloc_t *out)
{
    mpk_pool_init(&m->pool, pool_mem, pool_size, &m->inner);
    out->realloc = meter_realloc;
    out->free = NULL;
    out->ctx = m;
}

static size_t read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f) {
        fprintf(stderr, "lenet5: cannot open %s\n", path);
        return 0;
    }
    n = fread(file_buf, 1, sizeof file_buf, f);
    if (n == sizeof file_buf && fgetc(f) != EOF) {
        fprintf(stderr, "lenet5: %s is larger than the %u-byte buffer\n", path, (unsigned)FILE_CAP);
        n = 0;
    }
    fclose(f);
    return n;
}

/* Reads path into file_buf and decodes it into a fresh arena in the pool. */
static mpk_value_t *load_pickle(const char *path, mpk_arena_t *arena, pool_meter_t *meter)
{
    mpk_alloc_t alloc;
    mpk_load_opts_t opts;
    mpk_error_t err;
    size_t used, n = read_file(path);
    mpk_value_t *v;
    char msg[160];
    if (!n) return NULL;
    meter_reset(meter, &alloc);
    mpk_arena_init(arena, &alloc, 0);
    mpk_load_opts_default(&opts);
    opts.dec.limits.max_str = FILE_CAP;     /* fc1.w alone is 123 KB of bytes */
    opts.dec.limits.max_alloc = pool_size;
    v = mpk_loads(arena, file_buf, n, &opts, &used, &err);
    if (!v) {
        mpk_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "lenet5: %s: %s (%s)\n", path, mpk_err_str(err.code), msg);
        if (err.code == MPK_ERR_NOMEM || err.code == MPK_ERR_LIMIT)
            fprintf(stderr, "lenet5: the pool (%zu bytes) is too small for this file: raise --pool\n", pool_size);
    }
    return v;
}

/* ------------------------------------------------------------------ arrays */

/* The shape as numpy prints it: "(84, 120)", "(6,)", "()". */
static void shape_text(const mpk_ndarray_t *a, char *buf, size_t cap)
{
    size_t i, len = (size_t)snprintf(buf, cap, "(");
    for (i = 0; i < a->ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%zu", i ? ", " : "", a->shape[i]);
    if (len < cap) snprintf(buf + len, cap - len, a->ndim == 1 ? ",)" : ")");
}

/* A float32 array of v, or an error message naming what. */
static int view_f32(const mpk_value_t *v, const char *file, const char *what, mpk_ndarray_t *a)
{
    char ts[8];
    mpk_nd_err_t e;
    if (!v) {
        fprintf(stderr, "lenet5: %s: no '%s'\n", file, what);
        return 0;
    }
    e = mpk_ndarray_view(v, NULL, 0, a);
    if (e != MPK_ND_OK) {
        fprintf(stderr, "lenet5: %s: '%s' is not a usable numpy array: %s\n", file, what, mpk_nd_err_str(e));
        return 0;
    }
    if (a->kind != 'f' || a->itemsize != 4) {
        mpk_ndarray_typestr(a, ts);
        fprintf(stderr, "lenet5: %s: '%s' has dtype %s, float32 expected\n", file, what, ts);
        return 0;
    }
    return 1;
}

static int param_shape_ok(const param_t *p, const mpk_ndarray_t *a)
{
    if (p->cols == 0) return a->ndim == 1 && a->shape[0] == p->rows;
    if (a->ndim == 2) return a->shape[0] == p->rows && a->shape[1] == p->cols;
    return p->cin && a->ndim == 4 && a->shape[0] == 5 && a->shape[1] == 5 && a->shape[2] == p->cin &&
           a->shape[3] == p->cols;
}

static int load_weights(const char *path, pool_meter_t *meter)
{
    mpk_arena_t arena;
    mpk_ndarray_t a;
    char sh[64];
    size_t i, known = 0;
    int ok = 1;
    mpk_value_t *d = load_pickle(path, &arena, meter);
    if (!d) return 0;
    if (mpk_type(d) != MPK_DICT) {
        fprintf(stderr, "lenet5: %s: a dict expected, found %s\n", path, mpk_type_name(mpk_type(d)));
        ok = 0;
    }
    for (i = 0; ok && i < NPARAMS; i++) {
        const param_t *p = &PARAMS[i];
        ok = view_f32(mpk_dict_get(d, p->name), path, p->name, &a);
        if (ok && !param_shape_ok(p, &a)) {
            shape_text(&a, sh, sizeof sh);
            if (p->cols)
                fprintf(stderr, "lenet5: %s: '%s' has shape %s, (%zu, %zu) expected\n", path, p->name, sh,
                        p->rows, p->cols);
            else
                fprintf(stderr, "lenet5: %s: '%s' has shape %s, (%zu,) expected\n", path, p->name, sh, p->rows);
            ok = 0;
        }
        if (ok) ok = mpk_ndarray_copy_c(&a, p->dst, a.size * sizeof(float)) == a.size * sizeof(float);
        known++;
    }
    if (ok && mpk_len(d) != known)
        printf("note: %s has %zu entries, %zu of them used\n", path, mpk_len(d), known);
    mpk_arena_free(&arena);
    return ok;
}

/* Images: float32 (N, 784) or (N, 28, 28) into dst; returns N (0 on error). */
static size_t load_inputs(const char *path, float *dst, pool_meter_t *meter)
{
    mpk_arena_t arena;
    mpk_ndarray_t a;
    char sh[64];
    size_t n = 0;
    mpk_value_t *v = load_pickle(path, &arena, meter);
    if (!v) return 0;
    if (view_f32(v, path, "the images", &a)) {
        int ok2 = a.ndim == 2 && a.shape[1] == SIDE * SIDE;
        int ok3 = a.ndim == 3 && a.shape[1] == SIDE && a.shape[2] == SIDE;
        shape_text(&a, sh, sizeof sh);
        if (!ok2 && !ok3)
            fprintf(stderr, "lenet5: %s: images of shape %s, (N, 784) or (N, 28, 28) expected\n", path, sh);
        else if (a.shape[0] == 0 || a.shape[0] > MAX_IMAGES)
            fprintf(stderr, "lenet5: %s: %zu images, 1 to %d supported\n", path, a.shape[0], MAX_IMAGES);
        else if (mpk_ndarray_copy_c(&a, dst, a.size * sizeof(float)))
            n = a.shape[0];
    }
    mpk_arena_free(&arena);
    return n;
}

/* The reference logits (float32 or float64 (n, 10)) as doubles. */
static int load_reference(const char *path, size_t n, double *dst, pool_meter_t *meter)
{
    mpk_arena_t arena;
    mpk_ndarray_t a;
    size_t i;
    int ok = 0;
    mpk_value_t *d = load_pickle(path, &arena, meter);
    mpk_value_t *v = d ? mpk_dict_get(d, "logits") : NULL;
    if (d && !v) fprintf(stderr, "lenet5: %s: a dict with 'logits' expected\n", path);
    if (v && mpk_ndarray_view(v, NULL, 0, &a) == MPK_ND_OK && a.kind == 'f' && a.ndim == 2 &&
        a.shape[0] == n && a.shape[1] == NCLASS) {
        for (i = 0; i < a.size; i++) mpk_ndarray_get_f64(&a, i, &dst[i], NULL);
        ok = 1;
    } else if (v) {
        fprintf(stderr, "lenet5: %s: 'logits' is not a float (%zu, %d) array\n", path, n, NCLASS);
    }
    if (d) mpk_arena_free(&arena);
    return ok;
}

/* ------------------------------------------------------------------ inference */

/* Valid 5x5 convolution, channels-last: in (h, w, cin) -> out (h-4, w-4, cout),
 * kernel rows ordered (ky, kx, ci), then ReLU. */
static void conv5_relu(const float *in, size_t h, size_t w, size_t cin, const float *k, const float *b,
                       size_t cout, float *out)
{
    size_t oy, ox, ky, kx, ci, co, ho = h - 4, wo = w - 4;
    for (oy = 0; oy < ho; oy++)
        for (ox = 0; ox < wo; ox++) {
            float *o = out + (oy * wo + ox) * cout;
            for (co = 0; co < cout; co++) o[co] = b[co];
            for (ky = 0; ky < 5; ky++)
                for (kx = 0; kx < 5; kx++)
                    for (ci = 0; ci < cin; ci++) {
                        float x = in[((oy + ky) * w + ox + kx) * cin + ci];
                        const float *kr = k + ((ky * 5 + kx) * cin + ci) * cout;
                        for (co = 0; co < cout; co++) o[co] += x * kr[co];
                    }
            for (co = 0; co < cout; co++)
                if (o[co] < 0.0f) o[co] = 0.0f;
        }
}

/* 2x2 max pooling, stride 2, channels-last. */
static void maxpool2(const float *in, size_t h, size_t w, size_t c, float *out)
{
    size_t y, x, ch;
    for (y = 0; y < h / 2; y++)
        for (x = 0; x < w / 2; x++)
            for (ch = 0; ch < c; ch++) {
                const float *p = in + ((2 * y) * w + 2 * x) * c + ch;
                float m = p[0];
                if (p[c] > m) m = p[c];
                if (p[w * c] > m) m = p[w * c];
                if (p[w * c + c] > m) m = p[w * c + c];
                out[(y * (w / 2) + x) * c + ch] = m;
            }
}

/* out = in . wt + b, wt (nin, nout) row-major; ReLU unless last. */
static void dense(const float *in, size_t nin, const float *wt, const float *b, size_t nout, int relu,
                  float *out)
{
    size_t i, j;
    for (j = 0; j < nout; j++) out[j] = b[j];
    for (i = 0; i < nin; i++)
        for (j = 0; j < nout; j++) out[j] += in[i] * wt[i * nout + j];
    if (relu)
        for (j = 0; j < nout; j++)
            if (out[j] < 0.0f) out[j] = 0.0f;
}

static void lenet5(const float *img, float *logits)
{
    static float c1[24 * 24 * 6], p1[12 * 12 * 6], c2[8 * 8 * 16], p2[4 * 4 * 16], h1[120], h2[84];
    conv5_relu(img, SIDE, SIDE, 1, conv1_w, conv1_b, 6, c1);
    maxpool2(c1, 24, 24, 6, p1);
    conv5_relu(p1, 12, 12, 6, conv2_w, conv2_b, 16, c2);
    maxpool2(c2, 8, 8, 16, p2);
    dense(p2, 256, fc1_w, fc1_b, 120, 1, h1);
    dense(h1, 120, fc2_w, fc2_b, 84, 1, h2);
    dense(h2, 84, fc3_w, fc3_b, NCLASS, 0, logits);
}

static size_t argmax(const float *v, size_t n)
{
    size_t i, best = 0;
    for (i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

static size_t argmax_d(const double *v, size_t n)
{
    size_t i, best = 0;
    for (i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* ------------------------------------------------------------------ output */

/* The logits as a numpy float32 (n, 10) array pickle, as numpy writes it. */
static int write_logits(const char *path, const float *logits, size_t n, int protocol)
{
    static uint8_t wbuf[MAX_IMAGES * NCLASS * 4 + 1024];
    struct mpk_wframe frames[4];
    mpk_writer_t w;
    mpk_ndarray_t a;
    size_t shape[2], len, cap;
    uint8_t *out;
    FILE *f;
    shape[0] = n;
    shape[1] = NCLASS;
    if (mpk_ndarray_init(&a, "<f4", shape, 2, 'C', logits, n * NCLASS * sizeof(float)) != MPK_ND_OK) return 0;
    mpk_writer_init(&w, protocol, 0, wbuf, sizeof wbuf, NULL, NULL, frames, 4);
    mpk_write_ndarray(&w, &a, 0, NULL);
    if (mpk_writer_finish(&w) != MPK_OK) {
        fprintf(stderr, "lenet5: writing %s: %s\n", path, mpk_err_str(w.err.code));
        return 0;
    }
    out = mpk_writer_buffer(&w, &len, &cap);
    f = fopen(path, "wb");
    if (!f || fwrite(out, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "lenet5: cannot write %s\n", path);
        return 0;
    }
    printf("wrote %s: float32 (%zu, %d) array pickle, protocol %d, %zu bytes\n", path, n, NCLASS, protocol, len);
    return 1;
}

/* ------------------------------------------------------------------ main */

typedef struct args {
    const char *weights, *inputs, *reference, *out;
    int protocol, repeat;
    double tol;
    size_t pool;
} args_t;

static int parse_args(int argc, char **argv, args_t *a)
{
    int i, pos = 0;
    memset(a, 0, sizeof *a);
    a->protocol = 4;
    a->repeat = 20;
    a->tol = 1e-4;
    a->pool = POOL_MAX;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc) a->out = argv[++i];
        else if (!strcmp(argv[i], "--protocol") && i + 1 < argc) a->protocol = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) a->repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tol") && i + 1 < argc) a->tol = atof(argv[++i]);
        else if (!strcmp(argv[i], "--pool") && i + 1 < argc) a->pool = (size_t)atol(argv[++i]);
        else if (argv[i][0] == '-') return 0;
        else if (pos == 0) a->weights = argv[i], pos++;
        else if (pos == 1) a->inputs = argv[i], pos++;
        else if (pos == 2) a->reference = argv[i], pos++;
        else return 0;
    }
    return pos >= 2 && a->protocol >= 0 && a->protocol <= 5 && a->repeat >= 1 && a->pool >= 64 &&
           a->pool <= POOL_MAX;
}

/* Prints predictions and logits; with a reference, compares: returns 1 if they agree. */
static int report(const float *logits, size_t n, const double *ref, double tol)
{
    size_t i, j, same = 0;
    double maxdiff = 0.0;
    for (i = 0; i < n; i++) {
        const float *l = logits + i * NCLASS;
        printf("image %2zu: predicted %zu  logits", i, argmax(l, NCLASS));
        for (j = 0; j < NCLASS; j++) printf(" %8.4f", (double)l[j]);
        if (ref) {
            size_t r = argmax_d(ref + i * NCLASS, NCLASS);
            same += r == argmax(l, NCLASS);
            printf("  (numpy: %zu)", r);
            for (j = 0; j < NCLASS; j++) {
                double d = fabs((double)l[j] - ref[i * NCLASS + j]);
                if (d > maxdiff || d != d) maxdiff = d;
            }
        }
        printf("\n");
    }
    if (!ref) return 1;
    printf("max abs difference of logits, C vs numpy: %.3g (tolerance %.0e)\n", maxdiff, tol);
    printf("predictions: %zu of %zu match numpy\n", same, n);
    return same == n && maxdiff <= tol;
}

int main(int argc, char **argv)
{
    static float images[MAX_IMAGES * SIDE * SIDE], logits[MAX_IMAGES * NCLASS];
    static double ref[MAX_IMAGES * NCLASS];
    pool_meter_t meter;
    args_t a;
    size_t n, i, peak_w, peak_i, peak_r = 0;
    clock_t t0;
    double secs;
    int r, agree;

    if (!parse_args(argc, argv, &a)) {
        fprintf(stderr, "usage: lenet5 WEIGHTS.pkl INPUTS.pkl [REFERENCE.pkl] [--out LOGITS.pkl]"
                        " [--protocol N] [--repeat N] [--tol X] [--pool BYTES]\n");
        return 2;
    }
    pool_size = a.pool;
    memset(&meter, 0, sizeof meter);
    if (!load_weights(a.weights, &meter)) return 2;
    peak_w = meter.peak;
    meter.peak = 0;
    n = load_inputs(a.inputs, images, &meter);
    if (!n) return 2;
    peak_i = meter.peak;
    meter.peak = 0;
    if (a.reference && !load_reference(a.reference, n, ref, &meter)) return 2;
    peak_r = meter.peak;
    printf("pool: %zu bytes; peak use %zu (weights), %zu (inputs), %zu (reference)\n", pool_size,
           peak_w, peak_i, peak_r);

    t0 = clock();
    for (r = 0; r < a.repeat; r++)
        for (i = 0; i < n; i++) lenet5(images + i * SIDE * SIDE, logits + i * NCLASS);
    secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("inference: %zu images x %d runs, %.3f ms per image\n", n, a.repeat, 1e3 * secs / (double)n / a.repeat);

    agree = report(logits, n, a.reference ? ref : NULL, a.tol);
    if (a.out && !write_logits(a.out, logits, n, a.protocol)) return 2;
    return agree ? 0 : 1;
}
